//! Recording a bypass: only an element the category may bypass, once, with a specific reason
//! and a compensation in place.

use jiff::Timestamp;

use crate::config::model::{BypassElement, Config};
use crate::emergency::identity::unknown_person;
use crate::emergency::instead::Instead;
use crate::emergency::model::{Bypass, Emergency};
use crate::emergency::policy::find_category;
use crate::emergency::refusal::Refusal;
use crate::names::PersonName;

/// Texts that say nothing: seed 000 wants a specific reason and a compensation in place.
fn is_placeholder(text: &str) -> bool {
    let text = text.trim().to_ascii_lowercase();
    text.chars().all(|character| !character.is_alphanumeric())
        || matches!(
            text.as_str(),
            "n/a" | "na" | "none" | "tbd" | "todo" | "x" | "xxx" | "asap" | "urgent" | "emergency"
        )
}

/// Whether `by` may record a bypass of `element` on `emergency`.
pub fn bypass(
    config: &Config,
    emergency: &Emergency,
    element: BypassElement,
    reason: &str,
    compensation: &str,
    by: &PersonName,
    now: Timestamp,
) -> Result<Bypass, Refusal> {
    let refused = format!(
        "bypass of `{}` for {} by {by}",
        element.as_str(),
        emergency.id
    );
    let category = find_category(config, &emergency.category, &refused)?;
    if !config.people.contains_key(by) {
        return Err(unknown_person(
            config,
            "emergency.identity",
            refused,
            by.as_str(),
            "the person recording the bypass",
        ));
    }
    if !category.may_bypass.contains(&element) {
        let allowed: Vec<&str> = category
            .may_bypass
            .iter()
            .map(|allowed| allowed.as_str())
            .collect();
        let allowed = if allowed.is_empty() {
            "nothing".to_owned()
        } else {
            allowed.join(", ")
        };
        return Err(Refusal::new(
            "emergency.bypass.scope",
            refused,
            format!("category `{}` may bypass only: {allowed}", category.name),
            Instead::advice(format!(
                "keep the `{}` discipline for this change; if the incident really belongs to a \
                 category whose may_bypass includes it, that is a different declaration",
                element.as_str()
            )),
        )
        .at(category.source));
    }
    let blank: Vec<&str> = [("--reason", reason), ("--compensation", compensation)]
        .into_iter()
        .filter(|(_, text)| is_placeholder(text))
        .map(|(flag, _)| flag)
        .collect();
    if !blank.is_empty() {
        return Err(Refusal::new(
            "emergency.bypass.justification",
            refused,
            format!(
                "{} missing or says nothing: each bypass is documented, the reason is specific \
                 and the compensation is in place",
                blank.join(" and ")
            ),
            Instead::JustifyBypass {
                id: emergency.id.clone(),
                element,
            },
        ));
    }
    if let Some(earlier) = emergency
        .bypasses
        .iter()
        .find(|earlier| earlier.element == element)
    {
        return Err(Refusal::new(
            "emergency.bypass.once",
            refused,
            format!(
                "`{}` was already bypassed by {} at {} (reason: {})",
                element.as_str(),
                earlier.by,
                earlier.at.strftime("%Y-%m-%d %H:%M UTC"),
                earlier.reason
            ),
            Instead::nothing("the existing bypass stands, with its reason and compensation"),
        ));
    }
    Ok(Bypass {
        element,
        // Verbatim: it is evidence, and it reaches commands only through the environment.
        reason: reason.to_owned(),
        compensation: compensation.to_owned(),
        by: by.clone(),
        at: now,
    })
}

/// Records `bypass` (as returned by [`bypass`] on this record). Refuses a second bypass of the
/// same element, so a stale request checked before another person's write never counts twice.
pub fn apply_bypass(emergency: &mut Emergency, bypass: Bypass) -> Result<(), Refusal> {
    if let Some(earlier) = emergency
        .bypasses
        .iter()
        .find(|earlier| earlier.element == bypass.element)
    {
        return Err(Refusal::new(
            "emergency.bypass.once",
            format!(
                "bypass of `{}` for {} by {}",
                bypass.element.as_str(),
                emergency.id,
                bypass.by
            ),
            format!(
                "`{}` was already bypassed by {} at {}",
                bypass.element.as_str(),
                earlier.by,
                earlier.at.strftime("%Y-%m-%d %H:%M UTC"),
            ),
            Instead::nothing("the existing bypass stands, with its reason and compensation"),
        ));
    }
    emergency.bypasses.push(bypass);
    Ok(())
}

#[cfg(test)]
mod apply_tests {
    use super::*;
    use crate::emergency::test_support::sample;

    #[test]
    fn a_bypass_is_added_once() {
        let mut emergency = sample();
        emergency.bypasses.clear();
        let by = PersonName::parse("carol").unwrap();
        let bypass = Bypass {
            element: BypassElement::Eval,
            reason: "the eval suite takes 40 minutes".into(),
            compensation: "full suite on the cleanup change".into(),
            by: by.clone(),
            at: Timestamp::UNIX_EPOCH,
        };
        apply_bypass(&mut emergency, bypass.clone()).unwrap();
        assert_eq!(emergency.bypasses, vec![bypass.clone()]);
        let refusal = apply_bypass(&mut emergency, bypass).unwrap_err();
        assert_eq!(refusal.rule, "emergency.bypass.once");
        assert_eq!(emergency.bypasses.len(), 1);
    }
}
