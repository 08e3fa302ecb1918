//! `--help` output, so a changed flag or wording is a reviewed change.

use crate::support::Sandbox;

#[test]
fn top_level_help() {
    let sandbox = Sandbox::empty();
    let run = sandbox.fixlane(&["--help"]);
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout());
}

#[test]
fn run_help() {
    let sandbox = Sandbox::empty();
    let run = sandbox.fixlane(&["run", "--help"]);
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout());
}
