//! Errors in dotted keys point where the key is written, however deep the key: in the body of
//! a table, in a header, in an inline table, and past the TOML parser's nesting limit.

use super::*;

const HEAD: &str = "[project]\nname = \"x\"\n\n[lanes.hotfix]\nemergency = true\n\n";

fn errors_of(source: &str) -> Vec<ConfigError> {
    match parse(source, "fixlane.toml") {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors,
    }
}

/// `parts` dotted parts, `k0.k1.…`.
fn deep(parts: usize) -> String {
    (0..parts)
        .map(|index| format!("k{index}"))
        .collect::<Vec<_>>()
        .join(".")
}

#[track_caller]
fn at(error: &ConfigError, line: usize, column: usize) {
    assert_eq!(
        (error.line, error.column),
        (line, column),
        "{error}\n(span {:?})",
        error.span
    );
}

#[test]
fn an_error_in_a_dotted_key_points_at_the_key_or_its_value() {
    // Top-level dotted keys come before any header, so the file starts with them.
    let source = format!(
        "gates.build.run = \"make\"\ngates.build.tier = \"required\"\ngates.build.lanes.hotfix.scope = \"bogus\"\ngates.build.lanes.hotfix.bogus = 1\n{HEAD}[gates.unit]\nrun = \"x\"\ntier = \"required\"\nlanes.hotfix.scope.deeper = 1\n"
    );
    let found = errors_of(&source);
    assert_eq!(found.len(), 3, "{found:?}");
    at(&found[0], 3, 34);
    at(&found[1], 4, 26);
    assert_eq!(found[1].found, "unknown key `bogus`");
    at(&found[2], 14, 14);
    assert_eq!(found[2].found, "a table");
}

#[test]
fn a_key_too_deep_for_toml_is_located_where_it_is_written() {
    let source = format!("{HEAD}{} = 1\n", deep(100));
    let found = errors_of(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    at(&found[0], 7, 1);
    assert_eq!(found[0].found, "a key of 100 dotted parts");
    assert_eq!(found[0].span.len(), deep(100).len());
}

#[test]
fn a_key_too_deep_is_located_in_a_header_an_inline_table_and_an_indented_line() {
    let source = format!(
        "{HEAD}[gates.{}]\nrun = \"x\"\n\n[gates.unit]\nlanes = {{ hotfix = \"skip\", {} = 1 }}\n  {} = 2\n",
        deep(90),
        deep(85),
        deep(120)
    );
    let found = errors_of(&source);
    let places: Vec<(usize, usize)> = found
        .iter()
        .filter(|error| error.found.contains("dotted parts"))
        .map(|error| (error.line, error.column))
        .collect();
    assert_eq!(places, vec![(7, 2), (11, 28), (12, 3)], "{found:#?}");
}

#[test]
fn dots_inside_strings_and_numbers_are_not_key_parts() {
    let dotted_text = deep(100);
    // A deep-looking "key" inside a multi-line string, and quoted keys full of dots, are not
    // deep keys; the real one is on the last line.
    let source = format!(
        "{HEAD}[gates.a]\nrun = \"\"\"\n{dotted_text} = 1\n\"\"\"\ntier = \"required\"\n\"{dotted_text}\".'{dotted_text}' = 1.5 # {dotted_text}\n{} = 1\n",
        deep(81)
    );
    let found = errors_of(&source);
    let deep_errors: Vec<&ConfigError> = found
        .iter()
        .filter(|error| error.found.contains("dotted parts"))
        .collect();
    assert_eq!(deep_errors.len(), 1, "{found:#?}");
    at(deep_errors[0], 13, 1);
}

#[test]
fn the_deepest_key_toml_accepts_is_read_and_one_more_part_is_located() {
    // 80 parts parse (and are an unknown key of `lanes.hotfix`); 81 are refused by the parser.
    let found = errors_of(&format!("{HEAD}{} = 1\n", deep(80)));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].found, "unknown key `k0`");
    at(&found[0], 7, 1);
    let found = errors_of(&format!("{HEAD}{} = 1\n", deep(81)));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].found, "a key of 81 dotted parts");
    at(&found[0], 7, 1);
}

#[test]
fn an_unknown_top_level_key_lists_the_top_level_keys() {
    let found = errors_of(&format!("zzz = 1\n{HEAD}"));
    assert_eq!(found.len(), 1, "{found:?}");
    let help = found[0].help.clone().unwrap_or_default();
    assert!(
        help.starts_with("remove it; the top-level keys are `project`"),
        "{help}"
    );
}
