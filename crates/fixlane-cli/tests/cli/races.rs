//! Several people declaring at once on one `SQLite` file, as separate `fixlane` processes: the
//! rate limit admits exactly its `max`, and after a team review exactly `max` again.

use std::process::{Child, Stdio};

use crate::support::Sandbox;

/// Six at once, twice the example's `rate_limit = { max = 3, within = "7d" }`.
const DECLARERS: usize = 6;
const MAX: usize = 3;
/// Rounds, each after a team review but the first.
const ROUNDS: usize = 4;

/// Today's date in UTC as `YYYY-MM-DD`, from `date`, so the ids are never far from today.
fn today() -> String {
    let output = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn start_declare(sandbox: &Sandbox, id: &str) -> Child {
    sandbox
        .command(&[
            "declare",
            id,
            "--severity",
            "P0",
            "--category",
            "security",
            "--title",
            &format!("race {id}"),
            "--cleanup-owner",
            "bob",
            "--flag-flip",
            "x",
            "--rollback",
            "y",
            "--as",
            "bob",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn six_parallel_declares_admit_exactly_the_rate_limit() {
    let sandbox = Sandbox::example();
    // The store exists before the race, as it does after any first command.
    sandbox.fixlane(&["run", "--lane", "normal"]).expect_code(0);
    let today = today();
    let mut admitted = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        if round > 0 {
            sandbox
                .fixlane(&[
                    "review-rate",
                    "--notes",
                    "reviewed the rate",
                    "--as",
                    "dave",
                ])
                .expect_code(0);
        }
        let children: Vec<Child> = (1..=DECLARERS)
            .map(|declarer| {
                let id = format!("INC-{today}-{:03}", round * DECLARERS + declarer);
                start_declare(&sandbox, &id)
            })
            .collect();
        let mut count = 0;
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            match output.status.code() {
                Some(0) => count += 1,
                Some(1) => assert!(stderr.contains("emergency.rate_limit"), "{stderr}"),
                other => panic!("declare exited {other:?}: {stderr}"),
            }
        }
        admitted.push(count);
    }
    assert_eq!(admitted, [MAX; ROUNDS], "admitted per round");
    let verified = sandbox.fixlane(&["audit", "verify"]);
    verified.expect_code(0);
}
