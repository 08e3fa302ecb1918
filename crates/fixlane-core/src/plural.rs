//! Counted nouns in messages: `1 line`, `2 lines`, so no message reads "1 lines" (pure, shared
//! by the core's refusals and the CLI's output).

/// `count` and the noun in the form that count takes.
pub fn count<N>(count: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8> + Copy,
{
    if count == N::from(1) {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_takes_the_singular_and_every_other_count_the_plural() {
        assert_eq!(super::count(1, "line", "lines"), "1 line");
        assert_eq!(super::count(0, "line", "lines"), "0 lines");
        assert_eq!(super::count(2_usize, "entry", "entries"), "2 entries");
        assert_eq!(super::count(1_u64, "job", "jobs"), "1 job");
    }
}
