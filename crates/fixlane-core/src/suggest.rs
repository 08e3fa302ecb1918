//! "Did you mean": the closest known name to a mistyped one. Shared by `config check` and the
//! emergency refusals, so both suggest the same way.

/// The closest known name to `name`, when one is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        if candidate.is_empty() || candidate == name {
            continue;
        }
        let similarity = strsim::jaro_winkler(name, candidate);
        let close = similarity >= 0.8 || strsim::levenshtein(name, candidate) <= 2;
        if close && best.is_none_or(|(_, score)| similarity > score) {
            best = Some((candidate, similarity));
        }
    }
    best.map(|(candidate, _)| candidate)
}

/// "did you mean `x`?" or nothing.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_its_name_and_a_stranger_finds_none() {
        let known = ["security", "incident"];
        assert_eq!(closest("sec", known), Some("security"));
        assert_eq!(closest("incidnet", known), Some("incident"));
        assert_eq!(closest("vibes", known), None);
        assert_eq!(closest("security", known), None);
        assert_eq!(
            did_you_mean("bobby", ["alice", "bob", "carol"]).as_deref(),
            Some("did you mean `bob`?")
        );
    }
}
