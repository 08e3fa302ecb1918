//! Where the store is, as the commands show it: no password from a URL is ever printed, and an
//! unreachable database is named at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{IN_WINDOW, PostgresDatabase, Run, Sandbox};

const ID: &str = "INC-2026-05-20-001";
const SECRET: &str = "hunter2";

fn declare_arguments(id: &str) -> Vec<&str> {
    vec![
        "declare",
        id,
        "--severity",
        "P0",
        "--category",
        "security",
        "--title",
        "payment timeout",
        "--cleanup-owner",
        "bob",
        "--flag-flip",
        "no flag covers the payment path",
        "--rollback",
        "the bug is in a brand-new feature",
        "--as",
        "bob",
    ]
}

/// Every command that opens the store, reading and recording.
fn store_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["audit", "verify"],
        vec!["audit", "export"],
        vec!["audit", "log"],
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", ID],
        vec!["show", ID, "--json"],
        vec!["verdict"],
        vec!["verdict", "--json"],
        vec!["run"],
        vec!["run", "--json"],
        declare_arguments(ID),
        vec!["approve", ID, "--as", "carol"],
        vec!["review-rate", "--notes", "fine", "--as", "bob"],
        vec!["postmortem", ID],
    ]
}

#[track_caller]
fn assert_no_secret(run: &Run, what: &str) {
    for (stream, text) in [("stdout", run.stdout()), ("stderr", run.stderr())] {
        assert!(
            !text.contains(SECRET) && !text.contains("ter2"),
            "{what} printed the password on {stream}:\n{text}"
        );
    }
}

#[test]
fn no_password_in_a_store_url_is_ever_printed() {
    let sandbox = Sandbox::example();
    let urls = [
        // A server that answers (when one runs here), with no such database.
        format!("postgres://postgres:{SECRET}@127.0.0.1:5432/no_such_db"),
        format!("postgres://postgres@127.0.0.1:5432/no_such_db?sslmode=disable&password={SECRET}"),
        // Nothing listening.
        format!("postgres://u:{SECRET}@127.0.0.1:1/x"),
        // Not a URL the driver can read.
        format!("postgres://u:{SECRET}@127.0.0.1:notaport/x"),
        "postgres://u:hun/ter2@127.0.0.1/x".to_owned(),
        format!("mysql://u:{SECRET}@127.0.0.1/x"),
    ];
    for url in &urls {
        for arguments in store_commands() {
            let what = format!("fixlane --db {url} {}", arguments.join(" "));
            let mut with_flag = vec!["--db", url.as_str()];
            with_flag.extend(&arguments);
            let run = sandbox.fixlane(&with_flag);
            assert_no_secret(&run, &what);
            assert_ne!(run.code(), 0, "{what} did not fail:\n{}", run.stderr());

            let mut command = sandbox.command(&arguments);
            command.env("FIXLANE_DB", url);
            let run = Run::of(&mut command);
            assert_no_secret(&run, &format!("FIXLANE_DB={url} {}", arguments.join(" ")));
        }
    }
    // The location is still shown, with the password hidden.
    let run = sandbox.fixlane(&["--db", &urls[2], "audit", "verify"]);
    assert!(
        run.stderr().contains("postgres://u:***@127.0.0.1:1/x"),
        "{}",
        run.stderr()
    );
    let mut help = sandbox.command(&["--help"]);
    help.env("FIXLANE_DB", &urls[0]);
    let help = Run::of(&mut help);
    help.expect_code(0);
    assert_no_secret(&help, "--help");
}

/// A file path of the sandbox with no password in it: everything fixlane wrote, but git's own.
fn files_with_secret(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with(".git/objects") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(SECRET.len())
                .any(|window| window == SECRET.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_url_with_a_password_that_connects_prints_it_nowhere() {
    let Some(database) = PostgresDatabase::create("a_url_with_a_password_that_connects") else {
        return;
    };
    // The test server trusts local logins, so the password is accepted and ignored.
    let url = database
        .url
        .replacen("://postgres@", &format!("://postgres:{SECRET}@"), 1);
    assert!(url.contains(SECRET), "{url}");
    let sandbox = Sandbox::example();
    let mut runs = Vec::new();
    for arguments in [
        vec!["run", "--at", IN_WINDOW],
        vec!["run", "--json", "--at", IN_WINDOW],
        vec!["verdict"],
        vec!["verdict", "--json"],
        declare_arguments(ID),
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", ID],
        vec!["show", ID, "--json"],
        vec!["postmortem", ID],
        vec!["audit", "verify"],
        vec!["audit", "log"],
        vec!["audit", "export"],
    ] {
        let mut with_flag = vec!["--db", url.as_str()];
        with_flag.extend(&arguments);
        let run = sandbox.fixlane(&with_flag);
        assert_no_secret(&run, &arguments.join(" "));
        runs.push((arguments, run));
    }
    for (arguments, run) in &runs {
        if arguments[0] != "run" && arguments[0] != "verdict" {
            run.expect_code(0);
        }
    }
    assert!(
        !sandbox.db().exists(),
        "the SQLite default was used instead of PostgreSQL"
    );
    assert_eq!(files_with_secret(sandbox.path()), Vec::<PathBuf>::new());
}

#[test]
fn a_refused_connection_is_named_at_once() {
    let sandbox = Sandbox::empty();
    let started = Instant::now();
    let run = sandbox.fixlane(&["--db", "postgres://127.0.0.1:1/x", "audit", "verify"]);
    let took = started.elapsed();
    run.expect_code(2);
    assert!(
        run.stderr().contains("connection refused at 127.0.0.1:1"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("timed out"), "{}", run.stderr());
    // A bound, not a sleep: the pool used to retry for 10 s before saying it timed out.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_missing_database_and_an_unknown_user_are_named() {
    let Some(database) = PostgresDatabase::create("a_missing_database_and_an_unknown_user") else {
        return;
    };
    let sandbox = Sandbox::empty();
    let (prefix, _) = database.url.rsplit_once('/').unwrap();
    let missing = sandbox.fixlane(&["--db", &format!("{prefix}/no_such_db"), "audit", "verify"]);
    missing.expect_code(2);
    assert!(
        missing
            .stderr()
            .contains("has no database `no_such_db`; create it"),
        "{}",
        missing.stderr()
    );
    let stranger = sandbox.fixlane(&[
        "--db",
        &database.url.replacen("://postgres@", "://no_such_user@", 1),
        "audit",
        "log",
    ]);
    stranger.expect_code(2);
    assert!(
        stranger
            .stderr()
            .contains("the server refused to log in user `no_such_user`"),
        "{}",
        stranger.stderr()
    );
}
