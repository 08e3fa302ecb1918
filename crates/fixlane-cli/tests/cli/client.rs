//! The CLI as a client of the team server (`FIXLANE_SERVER`, `FIXLANE_TOKEN`): the whole
//! emergency lifecycle through two real `fixlane serve` replicas on one `PostgreSQL` database,
//! with the hotfix lane run here and recorded there; the same words and exit codes as local
//! mode; `--as` refused; a server that cannot be reached named, never replaced by a local
//! store; a run whose policy is not the server's flagged. (Races and a killed replica are in
//! `client_races`.)

use std::process::Command;

use serde_json::Value;

use crate::server::{Replica, issue};
use crate::support::{IN_WINDOW, PostgresDatabase, Run, Sandbox};

const ID: &str = "INC-2026-05-20-001";

/// `fixlane ARGUMENTS` in client mode: against `server`, with `token`.
pub(crate) fn command(sandbox: &Sandbox, server: &str, token: &str, arguments: &[&str]) -> Command {
    let mut command = sandbox.command(arguments);
    command
        .env("FIXLANE_SERVER", server)
        .env("FIXLANE_TOKEN", token);
    command
}

pub(crate) fn client(sandbox: &Sandbox, server: &str, token: &str, arguments: &[&str]) -> Run {
    Run::of(&mut command(sandbox, server, token, arguments))
}

/// The declaration the lifecycle starts from (no `--as`: the token's owner declares).
pub(crate) fn declaration(id: &str) -> Vec<&str> {
    vec![
        "declare",
        "--any-date",
        id,
        "--severity",
        "P0",
        "--category",
        "security",
        "--title",
        "payments time out",
        "--cleanup-owner",
        "bob",
        "--eta",
        "23:30",
        "--flag-flip",
        "no flag covers the payment path",
        "--rollback",
        "the bug is in a brand-new feature",
    ]
}

/// Tokens for the example's four people, issued with direct database access.
pub(crate) struct Tokens {
    pub(crate) alice: String,
    pub(crate) bob: String,
    pub(crate) carol: String,
    pub(crate) dave: String,
}

impl Tokens {
    pub(crate) fn issue(sandbox: &Sandbox, db: &str) -> Self {
        Self {
            alice: issue(sandbox, db, "alice").0,
            bob: issue(sandbox, db, "bob").0,
            carol: issue(sandbox, db, "carol").0,
            dave: issue(sandbox, db, "dave").0,
        }
    }
}

#[test]
fn the_whole_lifecycle_goes_through_two_replicas_and_the_hotfix_lane_finds_it_approved() {
    let Some(database) = PostgresDatabase::create("client_lifecycle") else {
        return;
    };
    let sandbox = Sandbox::example();
    let db = database.url.clone();
    let tokens = Tokens::issue(&sandbox, &db);
    let first = Replica::start(&sandbox, &db, false);
    let second = Replica::start(&sandbox, &db, false);
    let (a, b) = (first.base.as_str(), second.base.as_str());

    // Declared on the first replica, by the token's owner; the branch is made here.
    let mut arguments = declaration(ID);
    arguments.push("--branch");
    let declared = client(&sandbox, a, &tokens.bob, &arguments);
    declared.expect_code(0);
    assert!(
        declared
            .stdout()
            .contains(&format!("declared {ID} (P0 security) by bob")),
        "{}",
        declared.stdout()
    );
    assert!(
        declared
            .stdout()
            .contains("needs approval from: security-lead, and platform-lead"),
        "{}",
        declared.stdout()
    );
    assert!(
        sandbox
            .git(&["branch", "--show-current"])
            .starts_with(&format!("hotfix/{ID}")),
    );
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!(
        "hotfix(payments): raise the timeout\n\n{ID}\napprover: @carol"
    ));

    // Not approved yet: the hotfix lane, run here, finds the record there and blocks.
    let early = client(&sandbox, b, &tokens.bob, &["run"]);
    early.expect_code(1);
    assert!(
        early.stderr().contains("is not approved yet"),
        "{}",
        early.stderr()
    );

    // A refusal reads exactly as local mode's, with the same exit code.
    let refused = client(&sandbox, b, &tokens.bob, &["approve", ID]);
    refused.expect_code(1);
    let local = sandbox.fixlane(&["approve", ID, "--as", "bob", "--db", &db]);
    local.expect_code(1);
    assert!(
        refused.stderr().starts_with("error: refused: approval of"),
        "{}",
        refused.stderr()
    );
    assert_eq!(refused.stderr(), local.stderr());

    // Approved on the other replica, one approver each.
    let carol = client(&sandbox, b, &tokens.carol, &["approve", ID]);
    carol.expect_code(0);
    assert_eq!(
        carol.stdout(),
        format!("{ID} approved by carol; still needs: platform-lead\n")
    );
    let dave = client(&sandbox, a, &tokens.dave, &["approve", ID]);
    dave.expect_code(0);
    assert!(
        dave.stdout()
            .starts_with(&format!("{ID} approved by dave: every approver group")),
        "{}",
        dave.stdout()
    );
    client(
        &sandbox,
        b,
        &tokens.bob,
        &[
            "bypass",
            ID,
            "eval",
            "--reason",
            "the integration suite takes 30 minutes; customers are failing now",
            "--compensation",
            "backfill the skipped gates within 24h",
        ],
    )
    .expect_code(0);

    // The hotfix lane in client mode: ready, from the emergency approved on the server.
    let ready = client(&sandbox, b, &tokens.bob, &["run"]);
    ready.expect_code(0);
    assert!(
        ready
            .stderr()
            .contains(&format!("lane hotfix (emergency) for {ID}")),
        "{}",
        ready.stderr()
    );
    assert!(
        !ready.stderr().contains("warning: the people"),
        "the same policy is not flagged: {}",
        ready.stderr()
    );
    let shown = client(&sandbox, a, &tokens.alice, &["show", ID, "--json"]);
    shown.expect_code(0);
    let record: Value = serde_json::from_str(&shown.stdout()).unwrap();
    assert_eq!(record["state"], "fix_ready");
    let owed: Vec<&str> = record["owed_gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|gate| gate["gate"].as_str().unwrap())
        .collect();
    assert_eq!(
        owed,
        ["lint", "integration", "scan-high", "perf", "staging-deploy"]
    );
    // The same JSON as local mode prints from the same database, byte for byte.
    let local_show = sandbox.fixlane(&["show", ID, "--json", "--db", &db]);
    assert_eq!(shown.stdout(), local_show.stdout());

    // Merged, backfilled (the normal lane in full, run here) and closed, follow-up by follow-up.
    let branch = sandbox.git(&["branch", "--show-current"]);
    sandbox.git(&["switch", "--quiet", "main"]);
    sandbox.git(&[
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        "merge the hotfix",
        &branch,
    ]);
    let merged = client(&sandbox, a, &tokens.bob, &["merged", ID]);
    merged.expect_code(0);
    for kind in ["backfill", "cleanup", "postmortem", "audit-review"] {
        assert!(merged.stdout().contains(kind), "{}", merged.stdout());
    }
    let due = client(&sandbox, b, &tokens.carol, &["due", "--json"]);
    due.expect_code(0);
    let items: Vec<Value> = serde_json::from_str(&due.stdout()).unwrap();
    assert_eq!(items.len(), 4, "{}", due.stdout());
    let backfill = client(
        &sandbox,
        b,
        &tokens.bob,
        &["backfill", ID, "--at", IN_WINDOW],
    );
    backfill.expect_code(0);
    assert!(
        backfill.stderr().contains("the backfill is closed"),
        "{}",
        backfill.stderr()
    );
    client(
        &sandbox,
        a,
        &tokens.bob,
        &[
            "close",
            ID,
            "cleanup",
            "--link",
            "https://git.example.com/pr/7",
        ],
    )
    .expect_code(0);
    client(
        &sandbox,
        b,
        &tokens.bob,
        &[
            "close",
            ID,
            "postmortem",
            "--link",
            "https://wiki.example.com/pm/7",
        ],
    )
    .expect_code(0);
    // Separation of duties, judged by the server: the author may not review the audit trail.
    let conflicted = client(
        &sandbox,
        a,
        &tokens.bob,
        &["close", ID, "audit-review", "--notes", "looks fine"],
    );
    conflicted.expect_code(1);
    assert!(
        conflicted.stderr().contains("followups.audit_review"),
        "{}",
        conflicted.stderr()
    );
    let last = client(
        &sandbox,
        a,
        &tokens.alice,
        &[
            "close",
            ID,
            "audit-review",
            "--notes",
            "the bypass was justified and compensated; the backfill passed",
        ],
    );
    last.expect_code(0);
    assert!(
        last.stdout()
            .starts_with(&format!("{ID}: audit-review closed by alice\n")),
        "{}",
        last.stdout()
    );
    assert!(last.stdout().contains(&format!("{ID} is closed")));
    let nothing_due = client(&sandbox, b, &tokens.dave, &["due"]);
    nothing_due.expect_code(0);
    assert_eq!(nothing_due.stdout(), "no open follow-ups\n");
    let listed = client(&sandbox, a, &tokens.dave, &["list"]);
    assert_eq!(listed.stdout(), "no active emergencies\n");

    // One audit chain, each write by its token's owner and naming the token; nothing local.
    let verified = client(&sandbox, b, &tokens.dave, &["audit", "verify"]);
    verified.expect_code(0);
    assert!(verified.stdout().starts_with("audit log intact: "));
    let exported = client(&sandbox, a, &tokens.dave, &["audit", "export"]);
    exported.expect_code(0);
    assert_eq!(
        exported.stdout(),
        sandbox.fixlane(&["audit", "export", "--db", &db]).stdout()
    );
    let entries = exported.events();
    let actions: Vec<&str> = entries
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    for action in [
        "declare",
        "approve",
        "bypass",
        "run-started",
        "gates-recorded",
        "run-verdict",
        "fix-ready",
        "followup-opened",
        "followup-closed",
        "closed",
    ] {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
    let people = ["alice", "bob", "carol", "dave"];
    for entry in &entries {
        if people.contains(&entry["actor"].as_str().unwrap()) {
            assert!(
                entry["details"]["token"].is_string(),
                "a write without its token: {entry}"
            );
        }
    }
    let run_started = entries
        .iter()
        .find(|entry| entry["action"] == "run-started" && entry["details"]["lane"] == "hotfix")
        .unwrap();
    assert_eq!(run_started["actor"], "bob");
    assert!(
        !sandbox.db().exists(),
        "client mode opened the local store at {}",
        sandbox.db().display()
    );
}

#[test]
fn as_is_refused_and_a_server_that_cannot_be_reached_is_named() {
    let sandbox = Sandbox::example();
    // A port nobody listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");

    let named = client(
        &sandbox,
        &url,
        "fixlane_tok_x",
        &["approve", ID, "--as", "carol"],
    );
    named.expect_code(2);
    assert!(
        named
            .stderr()
            .contains("--as carol names who acts, but with FIXLANE_SERVER set"),
        "{}",
        named.stderr()
    );
    let from_env = Run::of(
        command(&sandbox, &url, "fixlane_tok_x", &["approve", ID]).env("FIXLANE_USER", "carol"),
    );
    from_env.expect_code(2);
    assert!(
        from_env
            .stderr()
            .contains("FIXLANE_USER=carol names who acts"),
        "{}",
        from_env.stderr()
    );

    let no_token = Run::of(
        sandbox
            .command(&["list"])
            .env("FIXLANE_SERVER", &url)
            .env("FIXLANE_TOKEN", ""),
    );
    no_token.expect_code(2);
    assert!(
        no_token.stderr().contains("FIXLANE_TOKEN is not"),
        "{}",
        no_token.stderr()
    );

    // Unreachable: named, the store's exit code, and no local store instead.
    for arguments in [
        vec!["list"],
        vec!["approve", ID],
        vec!["audit", "verify"],
        vec!["stats"],
        vec!["canary", ID],
        vec!["verify", ID, "--check", "error-rate", "--for", "2s"],
        declaration(ID),
    ] {
        let unreachable = client(&sandbox, &url, "fixlane_tok_x", &arguments);
        unreachable.expect_code(6);
        assert!(
            unreachable
                .stderr()
                .contains(&format!("could not reach the fixlane server at {url}")),
            "{arguments:?}: {}",
            unreachable.stderr()
        );
    }
    // A run records its start there before any gate: none starts.
    let run = client(
        &sandbox,
        &url,
        "fixlane_tok_x",
        &["run", "--lane", "normal"],
    );
    run.expect_code(6);
    assert!(
        run.stderr().contains("so no gate was started"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("passed"), "{}", run.stderr());

    // A canary asks the server before its first deploy command: nothing was deployed.
    assert!(!sandbox.path().join("deploy.log").exists());

    // A command with no route on the server does not quietly read a local store.
    let postmortem = client(&sandbox, &url, "fixlane_tok_x", &["postmortem", ID]);
    postmortem.expect_code(2);
    assert!(
        postmortem.stderr().contains("works on a local store only"),
        "{}",
        postmortem.stderr()
    );
    assert!(!sandbox.db().exists());

    // An empty FIXLANE_SERVER (a CI variable left undefined) is local mode: the local store,
    // which nothing has created yet.
    let local = Run::of(
        sandbox
            .command(&["list"])
            .env("FIXLANE_SERVER", "")
            .env("FIXLANE_TOKEN", ""),
    );
    local.expect_code(6);
    assert!(
        local.stderr().contains("there is no store at"),
        "{}",
        local.stderr()
    );
}

#[test]
fn a_run_whose_policy_is_not_the_servers_is_flagged_on_the_run_and_in_the_log() {
    let sandbox = Sandbox::example();
    // The server's store and config live outside the checkout, as on a server host. It
    // enforces the config as committed; the checkout then gains an approver.
    let host = tempfile::tempdir().unwrap();
    let store = host.path().join("server.db").display().to_string();
    let policy = host.path().join("fixlane.toml");
    std::fs::copy(sandbox.path().join("fixlane.toml"), &policy).unwrap();
    let (token, token_id) = issue(&sandbox, &store, "bob");
    let server = Replica::start_with(&sandbox, &store, &policy.display().to_string(), false);

    let same = client(
        &sandbox,
        &server.base,
        &token,
        &["run", "--lane", "normal", "--json"],
    );
    assert!(matches!(same.code(), 0 | 1), "{}", same.stderr());
    assert!(
        !same.stderr().contains("warning: the people"),
        "{}",
        same.stderr()
    );

    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &config.replace(
            "[people.dave]\nroles = [\"platform-lead\"]",
            "[people.dave]\nroles = [\"platform-lead\", \"security-lead\"]",
        ),
    );
    sandbox.commit("dave approves security too");
    let other = client(
        &sandbox,
        &server.base,
        &token,
        &["run", "--lane", "normal", "--json"],
    );
    assert!(matches!(other.code(), 0 | 1), "{}", other.stderr());
    assert!(
        other.stderr().contains(
            "warning: the people, roles, categories and emergency settings in fixlane.toml are \
             not the ones the server at"
        ),
        "{}",
        other.stderr()
    );

    // In the log: one mismatch, for the second run, naming both policies and the token.
    let exported = client(&sandbox, &server.base, &token, &["audit", "export"]);
    let mismatches: Vec<Value> = exported
        .events()
        .into_iter()
        .filter(|entry| entry["action"] == "policy-mismatch")
        .collect();
    assert_eq!(mismatches.len(), 1, "{}", exported.stdout());
    let mismatch = &mismatches[0]["details"];
    assert_ne!(mismatch["run_sha256"], mismatch["server_sha256"]);
    assert_eq!(mismatch["token"], token_id.as_str());
    assert_eq!(mismatches[0]["actor"], "bob");
    // On the run: its plan keeps both hashes; the first run's has none.
    let plans = Command::new("sqlite3")
        .args([
            store.as_str(),
            "SELECT run_id || ' ' || (plan LIKE '%policy_mismatch%') FROM runs ORDER BY started_at",
        ])
        .output()
        .unwrap();
    let plans = String::from_utf8_lossy(&plans.stdout).into_owned();
    let flags: Vec<&str> = plans
        .lines()
        .map(|line| line.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(flags, ["0", "1"], "{plans}");
    assert!(plans.contains(mismatch["run_id"].as_str().unwrap()));
}
