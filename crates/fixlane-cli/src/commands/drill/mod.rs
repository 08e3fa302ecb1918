//! `fixlane drill`: a game day. The whole emergency lifecycle — declare, approvals, the bypass
//! scope, the hotfix lane, the compressed canary (with `--regression`, an error-rate rise at
//! the second step and the automatic rollback), verification, the follow-ups, the backfill, the
//! closes and the postmortem draft — run in a scratch sandbox with its own git repository,
//! store and a simulated service, each step printed as a person would read it and checked
//! against what the lifecycle promises.
//!
//! Everything the sandbox's store holds is a drill (the store is marked as a drill's sandbox
//! before anything else is written, and drills never count toward rate limits). The result is
//! recorded in the repository's own store, when there is one, so `fixlane stats` knows when the
//! emergency lane was last exercised.

mod sandbox;
mod service;

use fixlane_core::emergency::EmergencyState;
use fixlane_core::{IncidentId, PersonName};
use fixlane_store::{DrillRecord, StoreLocation};
use jiff::Timestamp;

use crate::cli::{DrillArgs, GlobalArgs};
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::{self, Context};
use sandbox::Sandbox;

/// One step as it went.
#[derive(Debug, serde::Serialize)]
struct StepResult {
    says: String,
    as_promised: bool,
}

/// The script's progress: steps so far, and the first one that broke a promise.
#[derive(Debug, Default)]
struct Script {
    steps: Vec<StepResult>,
    broken: Option<String>,
}

impl Script {
    fn step(&mut self, says: &str) {
        println!("\n{}. {says}", self.steps.len() + 1);
        self.steps.push(StepResult {
            says: says.to_owned(),
            as_promised: true,
        });
    }

    /// Runs `fixlane ARGUMENTS` and checks its exit code is `expect`; `promise` says what the
    /// lifecycle promised, for when it is not. Returns whether the drill may go on.
    fn fixlane(
        &mut self,
        sandbox: &Sandbox,
        arguments: &[&str],
        expect: i32,
        promise: &str,
    ) -> Result<bool, Failure> {
        let owned: Vec<String> = arguments.iter().map(|&a| a.to_owned()).collect();
        let code = sandbox.fixlane(&owned).map_err(Failure::error)?;
        Ok(self.check(
            code == expect,
            &format!("{promise} (expected exit {expect}, got {code})"),
        ))
    }

    /// Records whether a promise held; returns whether the drill may go on.
    fn check(&mut self, held: bool, promise: &str) -> bool {
        if held {
            return true;
        }
        println!("   NOT AS PROMISED: {promise}");
        if let Some(step) = self.steps.last_mut() {
            step.as_promised = false;
        }
        self.broken
            .get_or_insert_with(|| format!("step {}: {promise}", self.steps.len()));
        false
    }
}

pub fn drill(global: &GlobalArgs, arguments: &DrillArgs) -> CommandResult {
    let started = Timestamp::now();
    let dir = tempfile::Builder::new()
        .prefix("fixlane-drill-")
        .tempdir()
        .map_err(|error| anyhow::anyhow!("could not create the drill's sandbox: {error}"))?;
    let repo = dir.path().join("checkout");
    let service = service::start(repo.join(sandbox::DEPLOY_STATE), arguments.regression)
        .map_err(|error| anyhow::anyhow!("could not start the simulated service: {error}"))?;
    let sandbox = Sandbox::create(dir.path(), &service.url).map_err(Failure::error)?;
    let id = format!("INC-{}-001", started.strftime("%Y-%m-%d"));
    let incident = IncidentId::parse(&id).map_err(|error| anyhow::anyhow!("{error}"))?;
    mark_sandbox(&sandbox)?;

    println!(
        "fixlane drill{}: a game day in a scratch sandbox with its own git repository, store and a \
         simulated checkout service ({}). Nothing in it touches this repository; everything it \
         records is marked as a drill and counts toward no rate limit.",
        if arguments.regression {
            " --regression"
        } else {
            ""
        },
        service.url
    );
    let mut script = Script::default();
    let outcome = rehearse(&mut script, &sandbox, &id, arguments.regression);
    let finished = Timestamp::now();
    // A step that could not even start (git missing, the binary gone) is the drill failing too.
    if let Err(failure) = &outcome {
        script
            .broken
            .get_or_insert_with(|| failure.error.to_string());
    }
    if script.broken.is_none() {
        final_state(&mut script, &sandbox, &incident, arguments.regression)?;
    }

    let passed = script.broken.is_none();
    println!();
    match &script.broken {
        None if arguments.regression => println!(
            "The drill went as scripted in {}: the canary caught the regression and rolled it \
             back on its own, and the emergency stays open for a new fix.",
            seconds(started, finished)
        ),
        None => println!(
            "The drill went as scripted in {}: from declaration to a closed emergency, every \
             skipped gate paid back.",
            seconds(started, finished)
        ),
        Some(broken) => println!("The drill did not go as scripted: {broken}."),
    }
    record(global, arguments, &script, started, finished, passed);
    if arguments.keep {
        let kept = dir.keep();
        println!(
            "The sandbox is kept at {}.",
            kept.join("checkout").display()
        );
    }
    Ok(if passed {
        ExitCode::Success
    } else {
        ExitCode::Failed
    })
}

fn seconds(from: Timestamp, to: Timestamp) -> String {
    format!("{:.1} s", to.duration_since(from).as_secs_f64())
}

/// The sandbox's store, marked as a drill's before anything else is written.
fn mark_sandbox(sandbox: &Sandbox) -> Result<(), Failure> {
    let location = StoreLocation::sqlite(sandbox.repo.join(".git/fixlane/fixlane.db"));
    settings::runtime()?.block_on(async {
        let store = fixlane_store::open(&location)
            .await
            .map_err(|error| anyhow::anyhow!("could not create the sandbox's store: {error}"))?;
        let person = PersonName::parse("bob").map_err(|error| anyhow::anyhow!("{error}"))?;
        fixlane_app::drills::mark_sandbox(&store, &person)
            .await
            .map_err(|error| anyhow::anyhow!("could not mark the sandbox's store: {error}"))?;
        store.close().await;
        Ok::<_, Failure>(())
    })
}

/// The script. Stops at the first step that did not behave as promised, since each builds on
/// the one before.
fn rehearse(
    script: &mut Script,
    sandbox: &Sandbox,
    id: &str,
    regression: bool,
) -> Result<(), Failure> {
    let branch = format!("hotfix/{id}-raise-gateway-timeout");
    script.step(&format!(
        "The incident: checkout fails {:.0}% of its payments since the gateway slowed down. \
         Bob is on call and knows the fix, a longer gateway timeout, which he commits on {branch}.",
        service::OLD_ERROR_RATE * 100.0
    ));
    sandbox
        .commit_fix(
            &branch,
            &format!(
                "hotfix(checkout): raise the gateway timeout to 10 s\n\n{id}\napprover: @alice"
            ),
        )
        .map_err(Failure::error)?;

    script.step("The hotfix lane will not ship a fix that nobody approved.");
    if !script.fixlane(
        sandbox,
        &["run", "--as", "bob"],
        1,
        "the hotfix lane is blocked without an approved emergency change",
    )? {
        return Ok(());
    }

    script.step(
        "Bob declares the emergency and answers the pre-flight questions: why neither a flag nor a rollback mitigates it.",
    );
    let declare = [
        "declare",
        id,
        "--severity",
        "P0",
        "--category",
        "incident",
        "--title",
        "raise gateway timeout",
        "--cleanup-owner",
        "bob",
        "--flag-flip",
        "no flag covers the payment path",
        "--rollback",
        "the previous release has the same timeout",
        "--as",
        "bob",
    ];
    if !script.fixlane(sandbox, &declare, 0, "the declaration is recorded")? {
        return Ok(());
    }

    script.step("Bob may not approve his own change.");
    if !script.fixlane(
        sandbox,
        &["approve", id, "--as", "bob"],
        1,
        "a self-approval is refused",
    )? {
        return Ok(());
    }

    script.step("Alice, the SRE lead, and Carol, the platform lead, approve it.");
    if !script.fixlane(
        sandbox,
        &["approve", id, "--as", "alice"],
        0,
        "the first approval is recorded",
    )? || !script.fixlane(
        sandbox,
        &["approve", id, "--as", "carol"],
        0,
        "the second approval approves the change",
    )? {
        return Ok(());
    }

    script.step(
        "Bob records the one discipline element the fix bypasses, the slow evaluation gates, with a reason and a compensation.",
    );
    let bypass = [
        "bypass",
        id,
        "eval",
        "--as",
        "bob",
        "--reason",
        "integration takes 30 minutes and checkout is failing now",
        "--compensation",
        "backfill every skipped gate on the merged commit within 24h",
    ];
    if !script.fixlane(sandbox, &bypass, 0, "the bypass is recorded")? {
        return Ok(());
    }

    script.step("The commit names the incident and its approver, and changes little.");
    if !script.fixlane(
        sandbox,
        &["check-commit"],
        0,
        "the commit passes its checks",
    )? {
        return Ok(());
    }

    script.step(
        "The hotfix lane runs what matters: ready, never green, with every gate it skipped owed (the shortened unit tests run in full in the backfill).",
    );
    if !script.fixlane(
        sandbox,
        &["run", "--as", "bob"],
        0,
        "the hotfix lane is ready",
    )? {
        return Ok(());
    }

    if regression {
        script.step(
            "The compressed canary checks the rollback path first, then sends the fix 10%, 50% and 100% of the traffic. \
             At 50% the fix fails 8% of its requests: the canary must roll back on its own.",
        );
        script.fixlane(
            sandbox,
            &["canary", id, "--as", "bob"],
            4,
            "the canary rolls back on the error-rate rise",
        )?;
        script.step(
            "The emergency stays open and rolled back. The practice: treat the regression as a new incident, never chain another hotfix onto this one.",
        );
        script.fixlane(sandbox, &["show", id], 0, "the record shows the rollback")?;
        return Ok(());
    }

    script.step(
        "The compressed canary checks the rollback path first, then sends the fix 10%, 50% and 100% of the traffic, each step baked under the error-rate check.",
    );
    if !script.fixlane(
        sandbox,
        &["canary", id, "--as", "bob"],
        0,
        "the canary promotes the fix",
    )? {
        return Ok(());
    }

    script.step(
        "Bob verifies that the symptom is gone: the error rate holds under 1% for 2 seconds.",
    );
    let verify = [
        "verify",
        id,
        "--check",
        "error-rate",
        "--for",
        "2s",
        "--timeout",
        "30s",
        "--as",
        "bob",
    ];
    if !script.fixlane(sandbox, &verify, 0, "the recovery is verified")? {
        return Ok(());
    }

    script.step(
        "The fix left the emergency lane, so what it owes is now open, each with an owner and a deadline. The fix is merged into main.",
    );
    sandbox
        .merge(&branch, &format!("Merge the hotfix for {id}"))
        .map_err(Failure::error)?;
    if !script.fixlane(sandbox, &["due"], 0, "nothing is overdue yet")? {
        return Ok(());
    }

    script.step("The backfill pays the debt: every gate the hotfix lane skipped or shortened runs in full on the merged commit.");
    if !script.fixlane(
        sandbox,
        &["backfill", id, "--as", "bob"],
        0,
        "every owed gate passes and the backfill closes",
    )? {
        return Ok(());
    }

    script.step("The postmortem draft, written from the record.");
    if !script.fixlane(
        sandbox,
        &["postmortem", id, "-o", "postmortem.md"],
        0,
        "the draft is written",
    )? {
        return Ok(());
    }
    if let Ok(draft) = std::fs::read_to_string(sandbox.repo.join("postmortem.md")) {
        for line in draft.lines() {
            println!("     | {line}");
        }
    }

    script.step("Bob closes the cleanup and the postmortem, each with its link.");
    let postmortem_link = format!("https://wiki.example.com/postmortems/{id}");
    if !script.fixlane(
        sandbox,
        &[
            "close",
            id,
            "cleanup",
            "--link",
            "https://git.example.com/checkout/pull/42",
            "--as",
            "bob",
        ],
        0,
        "the cleanup closes",
    )? || !script.fixlane(
        sandbox,
        &[
            "close",
            id,
            "postmortem",
            "--link",
            &postmortem_link,
            "--as",
            "bob",
        ],
        0,
        "the postmortem closes",
    )? {
        return Ok(());
    }

    script.step(
        "Separation of duties: Alice approved the change, so she may not be its audit reviewer.",
    );
    let by_alice = [
        "close",
        id,
        "audit-review",
        "--notes",
        "looks fine",
        "--as",
        "alice",
    ];
    if !script.fixlane(
        sandbox,
        &by_alice,
        1,
        "an approver is refused as the audit reviewer",
    )? {
        return Ok(());
    }

    script.step(
        "Dave, who neither wrote nor approved it, reviews it; with that, the emergency is closed.",
    );
    let by_dave = [
        "close",
        id,
        "audit-review",
        "--as",
        "dave",
        "--notes",
        "bypass justified and compensated; the backfill passed on the merged commit",
    ];
    if !script.fixlane(
        sandbox,
        &by_dave,
        0,
        "the audit review closes the emergency",
    )? || !script.fixlane(sandbox, &["show", id], 0, "the record reads")?
    {
        return Ok(());
    }

    script.step("The audit log holds every step, hash-chained.");
    script.fixlane(sandbox, &["audit", "verify"], 0, "the audit chain verifies")?;
    Ok(())
}

/// The sandbox's record, read back: a drill, in the state the lifecycle promises.
fn final_state(
    script: &mut Script,
    sandbox: &Sandbox,
    id: &IncidentId,
    regression: bool,
) -> Result<(), Failure> {
    let location = StoreLocation::sqlite(sandbox.repo.join(".git/fixlane/fixlane.db"));
    let emergency = settings::runtime()?.block_on(async {
        let store = fixlane_store::open_read_only(&location)
            .await
            .map_err(|error| anyhow::anyhow!("could not read the sandbox's store: {error}"))?;
        let emergency = fixlane_app::records::find(&store, id)
            .await
            .map_err(|error| anyhow::anyhow!("could not read {id} in the sandbox: {error}"))?
            .ok_or_else(|| anyhow::anyhow!("the sandbox's store has no {id}"))?;
        store.close().await;
        Ok::<_, Failure>(emergency)
    })?;
    let expected = if regression {
        EmergencyState::RolledBack
    } else {
        EmergencyState::Closed
    };
    script.check(
        emergency.drill,
        "the sandbox's emergency is recorded as a drill",
    );
    script.check(
        emergency.state == expected,
        &format!(
            "the emergency ends {} (it is {})",
            expected.as_str(),
            emergency.state.as_str()
        ),
    );
    Ok(())
}

/// Keeps the result in the repository's own store, when fixlane runs in one; says so either way.
fn record(
    global: &GlobalArgs,
    arguments: &DrillArgs,
    script: &Script,
    started: Timestamp,
    finished: Timestamp,
    passed: bool,
) {
    let Ok(context) = Context::discover(global) else {
        println!("Not inside a git repository, so the drill was recorded nowhere.");
        return;
    };
    let drill = DrillRecord {
        id: format!("drill-{}", crate::commands::run::run_id()),
        started_at: started,
        finished_at: finished,
        actor: context.actor().to_owned(),
        regression: arguments.regression,
        passed,
        summary: serde_json::json!({ "steps": script.steps }),
    };
    let recorded = settings::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let store = context.open_store().await?;
            let entry = fixlane_app::drills::record(
                &store,
                &drill,
                script.broken.as_deref(),
                script.steps.len(),
            )
            .await
            .map_err(|error| crate::records::app_failure(error, &context))?;
            store.close().await;
            Ok::<_, Failure>(entry)
        })
    });
    match recorded {
        Ok(entry) => println!(
            "Recorded in this repository's store as audit entry #{}, so `fixlane stats` knows the emergency lane was exercised.",
            entry.seq
        ),
        Err(failure) => println!(
            "The drill could not be recorded in this repository's store: {}",
            fixlane_core::text::for_terminal(&failure.error.to_string())
        ),
    }
}
