//! Typed text shown to people: a title, reason or name with line breaks, escape sequences or
//! bidi overrides is shown escaped by `show`, `list`, `audit log`, refusals and the postmortem,
//! and kept exactly as typed in `--json` and `audit export`.

use crate::support::{Sandbox, redactions};

/// A new line that forges the `state:` line under it, an OSC that sets the terminal's title,
/// a colour, and a right-to-left override that would make `closed` read backwards.
const TITLE: &str = "checkout down\nstate:          closed\n\u{1b}]0;pwned\u{7}\u{1b}[31mred\u{1b}[0m \u{202e}desolc\u{202c}";
/// C1 controls (CSI, NEL) and isolates, which JSON does not escape.
const FLAG_FLIP: &str = "no flag\u{9b}2J covers it\u{85}\u{2066}x\u{2069}";
const REASON: &str = "slow\n| canary | mallory | none | none | yes |\n## Approvals";
const COMPENSATION: &str = "backfill `within` 24h <b>\u{200f}</b> &#8238;";

/// Whether `character` would act on a terminal or reorder text, rather than be read.
fn hazard(character: char) -> bool {
    (character.is_control() && character != '\n')
        || matches!(
            character,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    let found: Vec<char> = text
        .chars()
        .filter(|&character| hazard(character))
        .collect();
    assert!(found.is_empty(), "{what} holds {found:?}:\n{text}");
}

/// Today's incident id, so no rule about how old an incident's date may be gets in the way.
fn incident_id() -> String {
    format!("INC-{}-001", jiff::Timestamp::now().strftime("%Y-%m-%d"))
}

fn declared(sandbox: &Sandbox, id: &str) {
    sandbox
        .fixlane(&[
            "declare",
            id,
            "--severity",
            "P0",
            "--category",
            "security",
            "--title",
            TITLE,
            "--cleanup-owner",
            "bob",
            "--flag-flip",
            FLAG_FLIP,
            "--rollback",
            "the bug is in a brand-new feature",
            "--as",
            "bob",
        ])
        .expect_code(0);
    sandbox
        .fixlane(&["approve", id, "--as", "carol"])
        .expect_code(0);
    sandbox
        .fixlane(&["approve", id, "--as", "dave"])
        .expect_code(0);
    sandbox
        .fixlane(&[
            "bypass",
            id,
            "eval",
            "--reason",
            REASON,
            "--compensation",
            COMPENSATION,
            "--as",
            "bob",
        ])
        .expect_code(0);
}

#[test]
fn show_list_audit_log_and_refusals_escape_typed_text() {
    let sandbox = Sandbox::example();
    let id = incident_id();
    declared(&sandbox, &id);

    let show = sandbox.fixlane(&["show", &id]);
    show.expect_code(0);
    let text = show.stdout();
    assert_clean("show", &text);
    let state_lines: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("state:"))
        .collect();
    assert_eq!(state_lines, ["state:          approved"], "{text}");
    assert!(
        text.contains("checkout down\\nstate:          closed\\n\\x1b]0;pwned\\x07"),
        "{text}"
    );
    assert!(text.contains("\\u{202e}desolc\\u{202c}"), "{text}");
    assert!(text.contains("no flag\\u{9b}2J covers it\\u{85}"), "{text}");
    assert!(text.contains("slow\\n| canary | mallory"), "{text}");
    let mut settings = redactions(&sandbox);
    settings.add_filter(&regex_escape_id(&id), "[INCIDENT]");
    settings.add_filter(r"\(\d+[dhm]\d+[hms] ago\)", "([AGO] ago)");
    settings.bind(|| insta::assert_snapshot!("show_escapes_typed_text", text));

    let list = sandbox.fixlane(&["list"]);
    list.expect_code(0);
    assert_clean("list", &list.stdout());
    // A header and one line for the one emergency.
    assert_eq!(list.stdout().lines().count(), 2, "{}", list.stdout());

    let log = sandbox.fixlane(&["audit", "log"]);
    log.expect_code(0);
    assert_clean("audit log", &log.stdout());
    assert!(
        log.stdout().lines().all(|line| line.starts_with('#')),
        "{}",
        log.stdout()
    );

    // A refusal quoting a name given with --as.
    let refused = sandbox.fixlane(&["approve", &id, "--as", "eve\n\u{1b}]0;pwned\u{7}"]);
    refused.expect_code(1);
    assert_clean("a refusal", &refused.stderr());
    assert!(
        refused.stderr().contains("`eve\\n\\x1b]0;pwned\\x07`"),
        "{}",
        refused.stderr()
    );
}

#[test]
fn json_and_the_audit_export_keep_typed_text_exactly() {
    let sandbox = Sandbox::example();
    let id = incident_id();
    declared(&sandbox, &id);

    let show = sandbox.fixlane(&["show", &id, "--json"]);
    show.expect_code(0);
    let record: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
    assert_eq!(record["title"], TITLE);
    assert_eq!(record["flag_flip"], FLAG_FLIP);
    assert_eq!(record["bypasses"][0]["reason"], REASON);
    assert_eq!(record["bypasses"][0]["compensation"], COMPENSATION);

    let list = sandbox.fixlane(&["list", "--json"]);
    list.expect_code(0);
    let listed: serde_json::Value = serde_json::from_str(&list.stdout()).unwrap();
    assert_eq!(listed[0]["title"], TITLE);

    let export = sandbox.fixlane(&["audit", "export"]);
    export.expect_code(0);
    let entries: Vec<serde_json::Value> = export
        .stdout()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let declaration = entries
        .iter()
        .find(|entry| entry["action"] == "declare")
        .unwrap();
    assert_eq!(declaration["details"]["title"], TITLE);
    assert_eq!(declaration["details"]["flag_flip"], FLAG_FLIP);
    let bypass = entries
        .iter()
        .find(|entry| entry["action"] == "bypass")
        .unwrap();
    assert_eq!(bypass["details"]["reason"], REASON);
    sandbox.fixlane(&["audit", "verify"]).expect_code(0);
}

#[test]
fn the_postmortem_draft_keeps_typed_text_inside_its_line_and_cell() {
    let sandbox = Sandbox::example();
    let id = incident_id();
    declared(&sandbox, &id);
    let output = sandbox.path().join("postmortem.md");
    sandbox
        .fixlane(&["postmortem", &id, "-o", output.to_str().unwrap()])
        .expect_code(0);
    let draft = std::fs::read_to_string(&output).unwrap();
    assert_clean("the postmortem", &draft);
    let headings: Vec<&str> = draft
        .lines()
        .filter(|line| line.starts_with("## Approvals"))
        .collect();
    assert_eq!(headings, ["## Approvals"], "{draft}");
    assert!(
        !draft.lines().any(|line| line.starts_with("state:")),
        "{draft}"
    );
    let bypass_rows: Vec<&str> = draft
        .lines()
        .skip_while(|line| !line.starts_with("| element |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert_eq!(bypass_rows.len(), 1, "{draft}");
    // Five cells: six pipes that are not escaped.
    let row = bypass_rows[0];
    let unescaped = row
        .char_indices()
        .filter(|&(index, character)| {
            character == '|'
                && row[..index]
                    .bytes()
                    .rev()
                    .take_while(|byte| *byte == b'\\')
                    .count()
                    % 2
                    == 0
        })
        .count();
    assert_eq!(unescaped, 6, "{row}");
    assert!(row.contains("\\`within\\`"), "{row}");
    assert!(row.contains("\\<b\\>"), "{row}");
}

fn regex_escape_id(id: &str) -> String {
    id.replace('-', "\\-")
}

#[test]
fn a_failing_gates_output_is_shown_without_its_escape_sequences() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "noisy.sh",
        "printf 'first\\n\\033]0;pwned\\007\\033[1;31mred\\033[0m\\tand\\rback \\342\\200\\256desrever\\n'\nexit 1\n",
    );
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n\n[gates.noisy]\nrun = \"sh noisy.sh\"\ntier = \"required\"\n",
    );
    sandbox.commit("config");
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert_clean("a run's report", &stderr.replace('\t', " "));
    assert!(stderr.contains("    │ first\n"), "{stderr}");
    assert!(
        stderr.contains("    │ \\x1b]0;pwned\\x07red\tand\\rback \\u{202e}desrever\n"),
        "{stderr}"
    );
}

#[test]
fn a_config_error_quoting_an_escape_sequence_shows_it_escaped() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        // TOML refuses raw control characters but writes them as escapes; a bidi override
        // may stand as it is, and miette would draw it.
        "[project]\nname = \"x\"\n\n[gates.a]\nrun = \"true\"\ntier = \"\\u001b]0;pwned\\u0007\u{202e}\"\n",
    );
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(5);
    let stderr = run.stderr();
    assert_clean("a config error", &stderr);
    assert!(
        stderr.contains("fixlane.toml:6:8: expected `critical`, `required` or `optional` for `gates.a.tier`, found `\\x1b]0;pwned\\x07\\u{202e}`"),
        "{stderr}"
    );
}
