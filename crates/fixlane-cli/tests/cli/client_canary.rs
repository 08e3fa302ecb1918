//! `canary`, `verify` and `stats` in client mode: the deploy scripts and the metric command run
//! here, the record is a real `fixlane serve` process's — on a `SQLite` file outside the
//! checkout, and on `PostgreSQL` when `FIXLANE_TEST_POSTGRES_URL` is set. Each scenario checks
//! the record through `fixlane show` in client mode and the server's audit log (its chain
//! intact, each entry naming the token's owner), and that no local store was used.

use serde_json::Value;

use crate::canary::{deploy_log, fast_example};
use crate::client::{Tokens, client, command, declaration};
use crate::server::Replica;
use crate::support::{PostgresDatabase, Run, Sandbox};

const ID: &str = "INC-2026-05-20-001";

/// The team's store: a `SQLite` file outside the checkout, or a `PostgreSQL` database.
struct TeamStore {
    url: String,
    _dir: Option<tempfile::TempDir>,
    _database: Option<PostgresDatabase>,
}

/// The stores each scenario runs on: `SQLite` always, `PostgreSQL` when configured.
fn team_stores(test: &str) -> Vec<TeamStore> {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![TeamStore {
        url: dir.path().join("team.db").display().to_string(),
        _dir: Some(dir),
        _database: None,
    }];
    if let Some(database) = PostgresDatabase::create(test) {
        stores.push(TeamStore {
            url: database.url.clone(),
            _dir: None,
            _database: Some(database),
        });
    }
    stores
}

/// The fast example, its tokens and a replica serving `store` with its config.
struct Team {
    sandbox: Sandbox,
    tokens: Tokens,
    replica: Replica,
}

impl Team {
    fn start(store: &TeamStore) -> Self {
        let sandbox = fast_example();
        let tokens = Tokens::issue(&sandbox, &store.url);
        let replica = Replica::start(&sandbox, &store.url, false);
        Self {
            sandbox,
            tokens,
            replica,
        }
    }

    fn as_person(&self, token: &str, arguments: &[&str]) -> Run {
        client(&self.sandbox, &self.replica.base, token, arguments)
    }

    fn bob(&self, arguments: &[&str]) -> Run {
        self.as_person(&self.tokens.bob, arguments)
    }

    /// Declared by bob; approved by carol and dave when `approve`.
    fn declared(&self, approve: bool) {
        self.bob(&declaration(ID)).expect_code(0);
        if approve {
            for token in [&self.tokens.carol, &self.tokens.dave] {
                self.as_person(token, &["approve", ID]).expect_code(0);
            }
        }
    }

    /// The record as `fixlane show --json` prints it in client mode.
    fn record(&self) -> Value {
        let shown = self.bob(&["show", ID, "--json"]);
        shown.expect_code(0);
        serde_json::from_str(&shown.stdout()).unwrap()
    }

    fn states(&self) -> Vec<String> {
        self.record()["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|step| step["state"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The server's audit log, read in client mode, after checking its chain is intact.
    fn audit(&self) -> Vec<Value> {
        let verified = self.bob(&["audit", "verify"]);
        verified.expect_code(0);
        assert!(
            verified.stdout().contains("intact"),
            "{}",
            verified.stdout()
        );
        let exported = self.bob(&["audit", "export"]);
        exported.expect_code(0);
        exported.events()
    }

    /// Nothing was recorded on a local store: the checkout has none.
    fn no_local_store(&self) {
        assert!(
            !self.sandbox.db().exists(),
            "client mode created a local store at {}",
            self.sandbox.db().display()
        );
    }
}

fn actions(audit: &[Value]) -> Vec<&str> {
    audit
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect()
}

#[test]
fn a_canary_in_client_mode_promotes_on_the_servers_record_and_verifies_there() {
    for store in team_stores("client_canary_promotes") {
        let team = Team::start(&store);
        team.declared(true);
        let canary = team.bob(&["canary", ID, "--json"]);
        canary.expect_code(0);
        // The deploy scripts ran here, step by step, as in local mode.
        assert_eq!(
            deploy_log(&team.sandbox),
            [
                "rollback-check weight=0 step=0",
                "set-weight weight=1 step=1",
                "set-weight weight=10 step=2",
                "set-weight weight=50 step=3",
                "set-weight weight=100 step=4",
                "promote weight=100 step=4",
            ]
        );
        assert_eq!(canary.events().last().unwrap()["outcome"], "promoted");
        assert_eq!(team.record()["state"], "promoted");
        // Promoted: its follow-ups opened on the server, as the local path opens them.
        let due = team.bob(&["due", "--json"]);
        let open: Vec<Value> = serde_json::from_str(&due.stdout()).unwrap();
        let kinds: Vec<&str> = open
            .iter()
            .map(|item| item["kind"].as_str().unwrap())
            .collect();
        for kind in ["cleanup", "postmortem", "audit-review"] {
            assert!(kinds.contains(&kind), "{kind} not open: {kinds:?}");
        }

        let verified = team.bob(&[
            "verify",
            ID,
            "--check",
            "error-rate",
            "--for",
            "2s",
            "--timeout",
            "30s",
        ]);
        verified.expect_code(0);
        assert!(
            verified.stdout().starts_with(&format!(
                "{ID} verified: error-rate held within bounds for 2s"
            )),
            "{}",
            verified.stdout()
        );
        assert_eq!(
            team.states(),
            ["declared", "approved", "deploying", "promoted", "verified"]
        );
        let audit = team.audit();
        let logged = actions(&audit);
        for action in [
            "canary-started",
            "canary-step-started",
            "canary-promoted",
            "canary-finished",
            "verified",
        ] {
            assert!(
                logged.iter().any(|logged| logged.contains(action)),
                "{action} missing from the server's audit log: {logged:?}"
            );
        }
        assert!(
            !logged.contains(&"canary-check-evaluated"),
            "samples are kept, not audited"
        );
        // Every canary entry is bob's, the token's owner, and names his token.
        let canary_entries: Vec<&Value> = audit
            .iter()
            .filter(|entry| entry["action"].as_str().unwrap().starts_with("canary-"))
            .collect();
        assert!(canary_entries.len() >= 6, "{canary_entries:?}");
        for entry in canary_entries {
            assert_eq!(entry["actor"], "bob", "{entry}");
            assert!(
                entry["details"]["token"].is_string(),
                "the entry names no token: {entry}"
            );
        }
        team.no_local_store();
    }
}

#[test]
fn a_canary_in_client_mode_rolls_back_on_a_bad_signal_and_the_server_records_it() {
    for store in team_stores("client_canary_rolls_back") {
        let team = Team::start(&store);
        team.declared(true);
        let mut canary = command(
            &team.sandbox,
            &team.replica.base,
            &team.tokens.bob,
            &["canary", ID],
        );
        canary.env("EXAMPLE_ERROR_RATE", "0.25");
        let canary = Run::of(&mut canary);
        canary.expect_code(4);
        assert!(canary.stderr().contains("ROLLBACK"), "{}", canary.stderr());
        assert_eq!(
            deploy_log(&team.sandbox),
            [
                "rollback-check weight=0 step=0",
                "set-weight weight=1 step=1",
                "rollback weight=1 step=1"
            ]
        );
        assert_eq!(team.record()["state"], "rolled_back");

        // The symptom persists: verification fails (exit 1) and the record stays rolled back.
        let mut verify = command(
            &team.sandbox,
            &team.replica.base,
            &team.tokens.bob,
            &[
                "verify",
                ID,
                "--check",
                "error-rate",
                "--for",
                "2s",
                "--timeout",
                "4s",
            ],
        );
        verify.env("EXAMPLE_ERROR_RATE", "0.25");
        let verify = Run::of(&mut verify);
        verify.expect_code(1);
        assert!(
            verify.stderr().contains("did not resolve the symptom"),
            "{}",
            verify.stderr()
        );
        assert_eq!(team.record()["state"], "rolled_back");
        assert_eq!(
            team.states(),
            ["declared", "approved", "deploying", "rolled_back"]
        );
        let audit = team.audit();
        let logged = actions(&audit);
        assert!(logged.contains(&"canary-rolled-back"), "{logged:?}");
        assert!(!logged.contains(&"canary-promoted"), "{logged:?}");
        // Two runs started and finished on the server: the canary and the verification.
        let finished: Vec<&str> = audit
            .iter()
            .filter(|entry| entry["action"] == "canary-finished")
            .map(|entry| entry["details"]["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(finished, ["rolled back", "not recovered"], "{audit:?}");
        team.no_local_store();
    }
}

#[test]
fn refusals_of_canary_and_verify_in_client_mode_read_as_local_ones() {
    for store in team_stores("client_canary_refused") {
        let team = Team::start(&store);
        team.declared(false);
        let local = |arguments: &[&str]| {
            let mut arguments = arguments.to_vec();
            arguments.extend(["--db", store.url.as_str(), "--as", "bob"]);
            team.sandbox.fixlane(&arguments)
        };

        // Not approved: no canary, with the same words and exit code as locally.
        let refused = team.bob(&["canary", ID]);
        refused.expect_code(1);
        assert!(
            refused
                .stderr()
                .starts_with(&format!("error: refused: a canary of {ID}")),
            "{}",
            refused.stderr()
        );
        let locally = local(&["canary", ID]);
        locally.expect_code(1);
        assert_eq!(refused.stderr(), locally.stderr());
        assert!(deploy_log(&team.sandbox).is_empty(), "nothing was deployed");

        // Nothing shipped: nothing to verify.
        let verify = ["verify", ID, "--check", "error-rate", "--for", "2s"];
        let refused = team.bob(&verify);
        refused.expect_code(1);
        let locally = local(&verify);
        locally.expect_code(1);
        assert!(
            refused.stderr().starts_with("error: refused:"),
            "{}",
            refused.stderr()
        );
        assert_eq!(refused.stderr(), locally.stderr());

        // A profile the emergency rules refuse, approved or not.
        for token in [&team.tokens.carol, &team.tokens.dave] {
            team.as_person(token, &["approve", ID]).expect_code(0);
        }
        let faster = ["canary", ID, "--profile", "immediate"];
        let refused = team.bob(&faster);
        refused.expect_code(1);
        let locally = local(&faster);
        locally.expect_code(1);
        assert!(
            refused.stderr().contains("canary profile `immediate`"),
            "{}",
            refused.stderr()
        );
        assert_eq!(refused.stderr(), locally.stderr());

        // An emergency the server does not have: the local words too.
        let other = "INC-2026-05-20-009";
        let unknown = team.bob(&["canary", other]);
        let locally = local(&["canary", other]);
        assert_eq!(unknown.code(), locally.code());
        assert_eq!(unknown.stderr(), locally.stderr());

        // `--as` stays refused in client mode, before anything runs.
        let named = team.bob(&["canary", ID, "--as", "carol"]);
        named.expect_code(2);
        assert!(
            named.stderr().contains("--as carol names who acts"),
            "{}",
            named.stderr()
        );
        assert!(deploy_log(&team.sandbox).is_empty(), "nothing was deployed");
        let audit = team.audit();
        assert!(
            !actions(&audit).contains(&"canary-started"),
            "a refused canary started: {:?}",
            actions(&audit)
        );
        team.no_local_store();
    }
}

#[test]
fn stats_in_client_mode_are_the_local_stats_of_the_same_store() {
    for store in team_stores("client_stats") {
        let team = Team::start(&store);
        team.declared(true);
        team.bob(&["canary", ID]).expect_code(0);
        // One moment for the client and the local command, an hour after the canary.
        let at = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + 3_600)
            .unwrap()
            .to_string();
        for json in [true, false] {
            let mut arguments = vec!["stats", "--since", "30d", "--at", at.as_str()];
            if json {
                arguments.push("--json");
            }
            let remote = team.bob(&arguments);
            remote.expect_code(0);
            arguments.extend(["--db", store.url.as_str()]);
            let local = team.sandbox.fixlane(&arguments);
            local.expect_code(0);
            assert_eq!(remote.stdout(), local.stdout());
            if json {
                let figures: Value = serde_json::from_str(&remote.stdout()).unwrap();
                assert_eq!(figures["emergencies"], 1, "{figures}");
                assert_eq!(figures["deploys"]["promoted"], 1, "{figures}");
                assert_eq!(figures["now"], at.as_str(), "{figures}");
            } else {
                assert!(
                    remote.stdout().contains("1 through the canary, 1 promoted"),
                    "{}",
                    remote.stdout()
                );
            }
        }
        team.no_local_store();
    }
}
