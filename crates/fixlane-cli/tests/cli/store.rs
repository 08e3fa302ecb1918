//! Where the store is, as the commands show it: no password from a URL is ever printed, an
//! unreachable database is named at once, and the reading commands work on a store that cannot
//! be written (a read-only file, a `PostgreSQL` role granted only `SELECT`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{IN_WINDOW, PostgresDatabase, Run, Sandbox};

const ID: &str = "INC-2026-05-20-001";
const SECRET: &str = "hunter2";

fn declare_arguments(id: &str) -> Vec<&str> {
    vec![
        "declare",
        "--any-date",
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
    run.expect_code(6);
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
    missing.expect_code(6);
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
    stranger.expect_code(6);
    assert!(
        stranger
            .stderr()
            .contains("the server refused to log in user `no_such_user`"),
        "{}",
        stranger.stderr()
    );
}

/// `file` alone in its directory, both read-only for this process (chattr +i as well when the
/// modes do not bind it, as for root); undone on drop.
struct ReadOnly(PathBuf, bool);

impl ReadOnly {
    fn make(file: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = file.parent().unwrap();
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let privileged = std::fs::OpenOptions::new().append(true).open(file).is_ok();
        let guard = Self(file.to_owned(), privileged);
        if privileged {
            let status = Command::new("chattr")
                .arg("+i")
                .arg(file)
                .arg(dir)
                .status()
                .expect("chattr, to make a file read-only for root");
            assert!(status.success(), "chattr +i failed");
        }
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = self.0.parent().unwrap();
        if self.1 {
            let _ = Command::new("chattr")
                .arg("-i")
                .arg(&self.0)
                .arg(dir)
                .status();
        }
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    }
}

/// The example with a declared emergency and a green run recorded.
fn recorded_sandbox() -> Sandbox {
    let sandbox = Sandbox::example();
    sandbox.fixlane(&declare_arguments(ID)).expect_code(0);
    sandbox.fixlane(&["run"]).expect_code(0);
    sandbox
}

/// The reading commands and the exit code each must give on the sandbox above.
fn reading_commands(draft: &Path) -> Vec<(Vec<String>, i32)> {
    let draft = draft.display().to_string();
    [
        (vec!["audit", "verify"], 0),
        (vec!["audit", "export"], 0),
        (vec!["audit", "log"], 0),
        (vec!["list"], 0),
        (vec!["list", "--json"], 0),
        (vec!["show", ID], 0),
        (vec!["show", ID, "--json"], 0),
        (vec!["verdict"], 0),
        (vec!["verdict", "--json"], 0),
        (vec!["postmortem", ID, "-o", draft.as_str(), "--force"], 0),
    ]
    .into_iter()
    .map(|(arguments, code)| (arguments.into_iter().map(str::to_owned).collect(), code))
    .collect()
}

#[test]
fn the_reading_commands_work_on_a_read_only_copy_of_the_store() {
    let sandbox = recorded_sandbox();
    let copies = tempfile::tempdir().unwrap();
    let copy = copies.path().join("audit/fixlane.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    // Folds the write-ahead log into the file, so the file alone is the whole store.
    let status = Command::new("sqlite3")
        .arg(sandbox.db())
        .arg("PRAGMA wal_checkpoint(TRUNCATE);")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("the sqlite3 CLI (apt-get install sqlite3)");
    assert!(status.success());
    std::fs::copy(sandbox.db(), &copy).unwrap();
    let _read_only = ReadOnly::make(&copy);
    let copy_text = copy.display().to_string();
    let draft = copies.path().join("draft.md");
    for (arguments, code) in reading_commands(&draft) {
        let mut with_flag = vec!["--db".to_owned(), copy_text.clone()];
        with_flag.extend(arguments.iter().cloned());
        let with_flag: Vec<&str> = with_flag.iter().map(String::as_str).collect();
        let run = sandbox.fixlane(&with_flag);
        assert_eq!(
            run.code(),
            code,
            "{}:\n{}{}",
            arguments.join(" "),
            run.stdout(),
            run.stderr()
        );
        assert!(
            !run.stderr().contains("readonly"),
            "{}: {}",
            arguments.join(" "),
            run.stderr()
        );
    }
    let verified = sandbox.fixlane(&["--db", &copy_text, "audit", "verify"]);
    assert!(
        verified.stdout().contains("audit log intact"),
        "{}",
        verified.stdout()
    );
    assert!(
        sandbox
            .fixlane(&["--db", &copy_text, "list"])
            .stdout()
            .contains(ID)
    );
    // Recording needs write access, and says so.
    let run = sandbox.fixlane(&["--db", &copy_text, "run"]);
    run.expect_code(6);
    assert!(run.stderr().contains(&copy_text), "{}", run.stderr());
    assert_eq!(
        std::fs::read_dir(copy.parent().unwrap()).unwrap().count(),
        1,
        "files appeared beside the read-only store"
    );
}

#[test]
fn reading_commands_create_no_store() {
    let sandbox = Sandbox::example();
    for arguments in [
        vec!["audit", "verify"],
        vec!["audit", "log"],
        vec!["list"],
        vec!["show", ID],
        vec!["verdict"],
    ] {
        let run = sandbox.fixlane(&arguments);
        run.expect_code(6);
        assert!(
            run.stderr().contains(&format!(
                "there is no store at {} yet; nothing has been recorded",
                sandbox.db().display()
            )),
            "{}: {}",
            arguments.join(" "),
            run.stderr()
        );
        assert!(
            !sandbox.db().exists(),
            "{} created the store",
            arguments.join(" ")
        );
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .expect("psql (the PostgreSQL client)");
    assert!(status.success(), "psql {sql}");
}

/// Drops the role when the test ends, pass or fail: first what it was granted in the database
/// (a role with grants cannot be dropped), then the role. Declared after the database, so it
/// goes first.
struct Role {
    admin: String,
    database: String,
    name: String,
}

impl Drop for Role {
    fn drop(&mut self) {
        for (url, sql) in [
            (&self.database, format!("DROP OWNED BY {}", self.name)),
            (&self.admin, format!("DROP ROLE IF EXISTS {}", self.name)),
        ] {
            let _ = Command::new("psql")
                .args([url.as_str(), "-q", "-c", &sql])
                .status();
        }
    }
}

#[test]
fn a_role_granted_only_select_reads_the_postgresql_store() {
    let Some(database) = PostgresDatabase::create("a_role_granted_only_select") else {
        return;
    };
    let mut sandbox = Sandbox::example();
    sandbox.db = Some(database.url.clone());
    sandbox.fixlane(&declare_arguments(ID)).expect_code(0);
    sandbox.fixlane(&["run"]).expect_code(0);

    let (_, name) = database.url.rsplit_once('/').unwrap();
    let role = Role {
        admin: std::env::var("FIXLANE_TEST_POSTGRES_URL").unwrap(),
        database: database.url.clone(),
        name: format!("{name}_reader"),
    };
    psql(
        &database.url,
        &format!(
            "CREATE ROLE {0} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {0};",
            role.name
        ),
    );
    let reader = database
        .url
        .replacen("://postgres@", &format!("://{}@", role.name), 1);
    // Recording as the reader is refused by the database: it may only read.
    let refused = sandbox.fixlane(&["--db", &reader, "run"]);
    refused.expect_code(6);

    let draft = sandbox.path().join("draft.md");
    for (arguments, code) in reading_commands(&draft) {
        let mut with_flag = vec!["--db", reader.as_str()];
        with_flag.extend(arguments.iter().map(String::as_str));
        let run = sandbox.fixlane(&with_flag);
        assert_eq!(
            run.code(),
            code,
            "{}:\n{}{}",
            arguments.join(" "),
            run.stdout(),
            run.stderr()
        );
    }
    let export = sandbox.fixlane(&["--db", &reader, "audit", "export"]);
    assert!(export.stdout().lines().count() >= 4, "{}", export.stdout());
}
