//! `emergency.id_pattern` is parsed when the config is read: a pattern whose ids could never
//! be incident ids is a config error at its line, not a refusal of every declaration.

use super::*;

fn config(pattern: &str) -> String {
    format!("[project]\nname = \"svc\"\n\n[emergency]\nid_pattern = {pattern}\n")
}

#[test]
fn a_good_pattern_is_parsed_once_into_the_config() {
    let config = parse(&config("\"OPS-YY-NNNN\""), "fixlane.toml").unwrap();
    let pattern = &config.emergency.id_pattern;
    assert_eq!(*pattern, "OPS-YY-NNNN");
    assert!(pattern.matches("OPS-26-0042"));
    assert!(!pattern.matches("OPS-26-42"));
    assert_eq!(
        config.emergency.lines.id_pattern.map(|line| line.line),
        Some(5)
    );
}

#[test]
fn a_pattern_whose_ids_could_not_be_names_is_an_error_at_its_line() {
    let errors = parse(&config("\"INC $(NNN)\""), "fixlane.toml").unwrap_err();
    assert_eq!(errors.errors.len(), 1, "{}", errors.render_plain());
    let error = &errors.errors[0];
    assert_eq!(
        (error.file.as_str(), error.line, error.column),
        ("fixlane.toml", 5, 14)
    );
    assert_eq!(
        error.expected,
        "an incident id pattern for `emergency.id_pattern` of letters, digits, `-`, `_` and `.`"
    );
    assert_eq!(
        error.found,
        "`INC $(NNN)`, whose ids would have the character ' '"
    );
    assert!(
        error
            .help
            .as_deref()
            .is_some_and(|help| help.contains("INC-YYYY-MM-DD-NNN"))
    );

    let long = format!("\"{}\"", "N".repeat(70));
    let errors = parse(&config(&long), "fixlane.toml").unwrap_err();
    assert_eq!(
        errors.errors[0].found,
        format!(
            "`{}`, whose ids would be 70 characters long (at most 64)",
            "N".repeat(70)
        )
    );
}

#[test]
fn an_empty_pattern_is_the_empty_string_error_as_before() {
    let errors = parse(&config("\"  \""), "fixlane.toml").unwrap_err();
    assert_eq!(errors.errors.len(), 1);
    assert_eq!(errors.errors[0].found, "an empty string");
}
