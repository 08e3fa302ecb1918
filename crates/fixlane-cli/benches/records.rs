//! `fixlane due`, `fixlane stats` and `fixlane list` on a store with 10 000 emergencies (40 000 follow-ups) and
//! 100 000 gate results, against a baseline in the same run: the `sqlite3` shell answering the
//! one query `due` needs, which is the least any tool pays to start and read that store.
//!
//! The store is filled by cloning one real declaration (made by `fixlane declare`, opened by
//! `fixlane merged`) in SQL, so every row is what fixlane writes. Run with
//! `cargo bench -p fixlane-cli --bench records`; medians over several trials.

#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up its sandbox has nothing to measure: it fails loudly"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FIXLANE: &str = env!("CARGO_BIN_EXE_fixlane");
const TRIALS: usize = 7;
const EMERGENCIES: u32 = 10_000;
const GATES_PER_RUN: u32 = 10;

const CONFIG: &str = r#"[project]
name = "bench"

[people.alice]
roles = ["sre-lead"]
[people.bob]
roles = ["engineer"]

[gates.build]
run = "true"
tier = "critical"

[emergency]
severities = ["P0"]
id_pattern = "INC-YYYY-MM-DD-NNNNN"

[emergency.categories.incident]
approvers = [["sre-lead"]]
may_bypass = ["canary"]
"#;

fn run(dir: &Path, program: &str, arguments: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(arguments)
        .current_dir(dir)
        .env_remove("FIXLANE_DB")
        .stdin(Stdio::null())
        .output()
        .expect("spawn")
}

fn must(dir: &Path, program: &str, arguments: &[&str]) {
    let output = run(dir, program, arguments);
    assert!(
        output.status.success(),
        "{program} {arguments:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(dir: &Path, program: &str, arguments: &[&str]) -> Duration {
    median(
        (0..TRIALS)
            .map(|_| {
                let started = Instant::now();
                let output = run(dir, program, arguments);
                let took = started.elapsed();
                // `due` exits 1 when something is overdue: that is its answer, not a failure.
                assert!(
                    output.status.code().is_some_and(|code| code <= 1),
                    "{program} {arguments:?}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                took
            })
            .collect(),
    )
}

/// The SQL that clones the template declaration `INC-2026-01-01-00001` into `EMERGENCIES`
/// emergencies spread over the year, each with its four follow-ups and a run of
/// `GATES_PER_RUN` gate results.
fn fill_sql() -> String {
    format!(
        "PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM c WHERE i < {EMERGENCIES})
INSERT INTO n SELECT i FROM c;
CREATE TEMP TABLE t AS SELECT * FROM emergencies WHERE id = 'INC-2026-01-01-00001';
INSERT INTO emergencies (id, declared_at, author, drill, state, updated_at, document)
SELECT printf('INC-2026-01-01-%05d', i),
       strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || (i * 47) || ' minutes') || '.000000000Z',
       author, drill, state, updated_at,
       replace(replace(document, 'INC-2026-01-01-00001', printf('INC-2026-01-01-%05d', i)),
               '2026-01-01T00:00:00Z',
               strftime('%Y-%m-%dT%H:%M:%SZ', '2026-01-01', '+' || (i * 47) || ' minutes'))
FROM t, n;
INSERT INTO followups (incident, seq, kind, owner, opened_at, due_at, closed_at, closed_by, evidence)
SELECT printf('INC-2026-01-01-%05d', n.i), f.seq, f.kind, f.owner, f.opened_at,
       strftime('%Y-%m-%dT%H:%M:%S', '2026-01-02', '+' || (n.i * 47) || ' minutes') || '.000000000Z',
       CASE WHEN n.i % 3 = 0 THEN f.opened_at END, CASE WHEN n.i % 3 = 0 THEN 'bob' END, f.evidence
FROM followups f, n WHERE f.incident = 'INC-2026-01-01-00001';
INSERT INTO runs (run_id, rev, branch, lane, emergency, incident, started_at, finished_at, verdict, reasons, plan)
SELECT printf('run-%05d', i), '0123456789abcdef0123456789abcdef01234567', 'main', 'normal', 0, NULL,
       '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:01:00.000000000Z', 'green', '[]', '{{}}'
FROM n;
INSERT INTO gate_results (run_id, gate, tier, state, detail, exit_code, duration_ms, log_path, tail, finished_at)
SELECT printf('run-%05d', n.i), printf('gate-%02d', g.i), 'required', 'passed', NULL, 0, 1000 + g.i, NULL, '[]',
       '2026-01-01T00:01:00.000000000Z'
FROM n, (SELECT i FROM n WHERE i <= {gates}) g;
COMMIT;
",
        gates = GATES_PER_RUN + 1
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("fixlane.toml"), CONFIG).expect("config");
    for arguments in [
        &["init", "--quiet", "--initial-branch=main"][..],
        &["-c", "user.email=b@e", "-c", "user.name=b", "add", "--all"],
        &[
            "-c",
            "user.email=b@e",
            "-c",
            "user.name=b",
            "commit",
            "--quiet",
            "-m",
            "bench",
        ],
    ] {
        must(root, "git", arguments);
    }
    must(
        root,
        FIXLANE,
        &[
            "declare",
            "--any-date",
            "INC-2026-01-01-00001",
            "--severity",
            "P0",
            "--category",
            "incident",
            "--title",
            "bench",
            "--cleanup-owner",
            "bob",
            "--flag-flip",
            "no flag covers it",
            "--rollback",
            "a rollback does not fix it",
            "--at",
            "2026-01-01T00:00:00Z",
            "--as",
            "bob",
        ],
    );
    must(
        root,
        FIXLANE,
        &[
            "merged",
            "INC-2026-01-01-00001",
            "--at",
            "2026-01-01T01:00:00Z",
            "--as",
            "bob",
        ],
    );
    let db = root.join(".git/fixlane/fixlane.db");
    let db_text = db.to_string_lossy().into_owned();
    let fill = Instant::now();
    must(root, "sqlite3", &[&db_text, &fill_sql()]);
    eprintln!("filled the store in {:.1} s", fill.elapsed().as_secs_f64());

    let at = "2026-12-01T00:00:00Z";
    let baseline = time(
        root,
        "sqlite3",
        &[
            &db_text,
            "SELECT incident, kind, owner, due_at FROM followups WHERE closed_at IS NULL ORDER BY due_at",
        ],
    );
    let due = time(root, FIXLANE, &["due", "--at", at]);
    let list = time(root, FIXLANE, &["list"]);
    let stats = time(root, FIXLANE, &["stats", "--since", "365d", "--at", at]);
    let ms = |duration: Duration| duration.as_secs_f64() * 1_000.0;
    println!(
        "fixlane records benchmark: medians of {TRIALS} trials, SQLite, {EMERGENCIES} emergencies, {} follow-ups, {} gate results",
        EMERGENCIES * 4,
        EMERGENCIES * GATES_PER_RUN
    );
    println!(
        "baseline (sqlite3, the open follow-ups): {:7.1} ms",
        ms(baseline)
    );
    println!(
        "fixlane due:                             {:7.1} ms, ratio {:.2}x",
        ms(due),
        ms(due) / ms(baseline)
    );
    println!(
        "fixlane stats --since 365d:              {:7.1} ms, ratio {:.2}x",
        ms(stats),
        ms(stats) / ms(baseline)
    );
    println!(
        "fixlane list:                            {:7.1} ms, ratio {:.2}x",
        ms(list),
        ms(list) / ms(baseline)
    );
}
