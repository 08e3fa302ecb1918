//! Who a name or an email stands for in `[people]`, and the refusals that name an unknown
//! person: every emergency step is taken by someone the config knows.

use crate::config::model::Config;
use crate::emergency::instead::Instead;
use crate::emergency::naming::slugify;
use crate::emergency::refusal::Refusal;
use crate::names::PersonName;
use crate::suggest::closest;

/// The person `who` names: a key of `[people]`, or a person's email (case-insensitive).
pub fn identify(config: &Config, who: &str) -> Option<PersonName> {
    identify_among(&config.people, who)
}

/// [`identify`] among `people` (a config's `[people]`), for a caller that keeps only them.
pub fn identify_among(
    people: &indexmap::IndexMap<PersonName, crate::config::model::Person>,
    who: &str,
) -> Option<PersonName> {
    let who = who.trim();
    if who.is_empty() {
        return None;
    }
    if let Some(name) = people.keys().find(|name| name.as_str() == who) {
        return Some(name.clone());
    }
    people
        .iter()
        .find(|(_, person)| {
            person
                .email
                .as_deref()
                .is_some_and(|email| email.trim().eq_ignore_ascii_case(who))
        })
        .map(|(name, _)| name.clone())
}

/// The people holding any of `roles`, in the config's order.
pub(super) fn holder_names(config: &Config, roles: &[String]) -> Vec<PersonName> {
    config
        .people
        .iter()
        .filter(|(_, person)| person.roles.iter().any(|role| roles.contains(role)))
        .map(|(name, _)| name.clone())
        .collect()
}

fn known_people(config: &Config) -> String {
    let names: Vec<&str> = config.people.keys().map(PersonName::as_str).collect();
    if names.is_empty() {
        "[people] is empty".to_owned()
    } else {
        format!("known people: {}", names.join(", "))
    }
}

pub(crate) fn unknown_person(
    config: &Config,
    rule: &'static str,
    refused: impl Into<String>,
    who: &str,
    what: &str,
) -> Refusal {
    // A person is named by key or by email, so a typo of either finds them.
    let candidates = config
        .people
        .iter()
        .flat_map(|(name, person)| std::iter::once(name.as_str()).chain(person.email.as_deref()));
    let did_you_mean = closest(who.trim(), candidates).map(str::to_owned);
    Refusal::new(
        rule,
        refused,
        format!(
            "{what} `{who}` is not a person in [people] (by name or email); {}",
            known_people(config)
        ),
        Instead::NamePerson {
            did_you_mean,
            key: suggested_key(who),
        },
    )
}

pub(super) fn suggested_key(who: &str) -> String {
    let local = who.split('@').next().unwrap_or(who);
    let key = slugify(local);
    if key.is_empty() {
        "name".to_owned()
    } else {
        key
    }
}
