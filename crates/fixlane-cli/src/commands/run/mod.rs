//! `fixlane run`: choose the lane and the policy, plan it, run the gates, show and record every
//! event, exit with the verdict's code.

mod emergency;
mod facts;

use std::path::PathBuf;

use anyhow::Context as _;
use fixlane_core::emergency::Emergency;
use fixlane_core::{Rev, RunEvent, Verdict};
use fixlane_runner::git::Repository;
use fixlane_runner::liveness::RunnerIdentity;
use fixlane_runner::run::RunSettings;
use fixlane_store::NewRun;
use tokio::sync::{mpsc, watch};

use self::facts::Resolved;

use crate::cli::RunArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::report::{self, junit::JunitCollector, markdown::MarkdownSummary};
use crate::settings::{self, Context};
use crate::{record, records};

/// A run's id: its start to the millisecond and the process, unique on one machine.
pub fn run_id() -> String {
    let now = jiff::Timestamp::now();
    format!(
        "{}-{:05}",
        now.strftime("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id() % 100_000
    )
}

fn gate_environment(
    resolved: &Resolved,
    run_id: &str,
    log_dir: &std::path::Path,
) -> Result<Vec<(String, String)>, Failure> {
    let mut env = vec![
        ("FIXLANE_LANE".to_owned(), resolved.plan.lane.to_string()),
        ("FIXLANE_REV".to_owned(), resolved.rev.clone()),
        ("FIXLANE_RUN_ID".to_owned(), run_id.to_owned()),
        (
            "FIXLANE_BRANCH".to_owned(),
            resolved.branch.clone().unwrap_or_default(),
        ),
        (
            "FIXLANE_CHANGED_PACKAGES".to_owned(),
            resolved.changed_packages.join(" "),
        ),
    ];
    if let Some(incident) = &resolved.incident {
        env.push(("FIXLANE_INCIDENT".to_owned(), incident.to_string()));
    }
    if let Some(base) = &resolved.base {
        env.push(("FIXLANE_BASE".to_owned(), base.clone()));
    }
    std::fs::create_dir_all(log_dir)
        .with_context(|| format!("could not create the log directory {}", log_dir.display()))?;
    let list = log_dir.join("changed-files.txt");
    let mut text = String::new();
    for file in resolved.changed_files.iter().flatten() {
        text.push_str(file);
        text.push('\n');
    }
    std::fs::write(&list, text).with_context(|| format!("could not write {}", list.display()))?;
    env.push((
        "FIXLANE_CHANGED_FILES".to_owned(),
        list.to_string_lossy().into_owned(),
    ));
    Ok(env)
}

pub fn run(context: &Context, arguments: &RunArgs) -> CommandResult {
    // The config is parsed while git answers and the actor is looked up: all three stand
    // between the command and its first gate.
    let (loaded, facts, actor) = std::thread::scope(|scope| {
        let facts = scope.spawn(|| facts::git_facts(context, arguments));
        let actor = scope.spawn(|| context.actor().to_owned());
        let loaded = context.load_config_and_hash();
        (loaded, facts.join(), actor.join())
    });
    let (head_config, config_hash) = loaded?;
    let facts = facts.map_err(|_| anyhow::anyhow!("asking git about the commit failed"))??;
    let actor = actor.map_err(|_| anyhow::anyhow!("looking up the acting person failed"))?;
    let mut resolved = facts::resolve(context, (head_config, &config_hash), facts, arguments)?;
    // A known person is logged by their name, as their approvals are; anyone else may still run
    // gates and is logged as git knows them.
    let actor = fixlane_core::emergency::policy::identify(&resolved.config, &actor)
        .map_or(actor, |person| person.to_string());
    for line in &resolved.weakening_lines {
        eprintln!("{line}");
    }
    for refusal in &resolved.plan.refusals {
        eprintln!("refused: {refusal}");
    }
    let at = records::moment(arguments.at.as_deref())?;
    let runtime = settings::runtime()?;
    let run_id = run_id();
    let log_dir: PathBuf = context.repo.fixlane_dir().join("logs").join(&run_id);
    // An emergency lane or a deploy needs the store before the first gate. Any other run opens
    // it beside the gates, off the path to the first one.
    let (store, record) = if resolved.plan.emergency || resolved.plan.runs_deploys() {
        runtime.block_on(async {
            let store = context.open_store().await?;
            let record = emergency::prepare(&store, context, &actor, &mut resolved, at).await?;
            Ok::<_, Failure>((Some(store), record))
        })?
    } else {
        (None, None)
    };
    let new_run = NewRun {
        run_id: run_id.clone(),
        rev: Rev::parse(&resolved.rev)?,
        branch: resolved.branch.clone(),
        lane: resolved.plan.lane.to_string(),
        emergency: resolved.plan.emergency,
        incident: resolved.incident.clone(),
        started_at: jiff::Timestamp::now(),
        plan: serde_json::json!({
            "plan": &resolved.plan,
            "lane_why": &resolved.lane_why,
            "base": &resolved.base,
            "changed_packages": &resolved.changed_packages,
            "log_dir": log_dir.to_string_lossy(),
        }),
        runner: serde_json::to_value(RunnerIdentity::current()).ok(),
    };
    let config_seen = (context.config_display(), config_hash);
    // Those runs' start is durably audited before any gate starts: no audit, no action.
    if let Some(store) = &store {
        runtime
            .block_on(record::start(
                store,
                &actor,
                &config_seen,
                &new_run,
                &resolved.weakenings,
            ))
            .map_err(|error| Failure {
                code: ExitCode::for_error(&error),
                error: anyhow::anyhow!(
                    "{error:#}\nthe run's start could not be recorded in the audit log, so no \
                     gate was started"
                ),
            })?;
    }
    let env = gate_environment(&resolved, &run_id, &log_dir)?;
    let jobs = arguments
        .jobs
        .filter(|jobs| *jobs > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let settings = RunSettings {
        run_id: run_id.clone(),
        jobs,
        workdir: context.root().to_path_buf(),
        log_dir: log_dir.clone(),
        env,
        kill_grace: std::time::Duration::from_secs(5),
        tail_lines: 20,
        rev: resolved.rev.clone(),
        branch: resolved.branch.clone(),
        incident: resolved.incident.clone(),
    };
    let standing = record.as_ref().map(Emergency::standing);
    let start = record::Start {
        store: store.clone(),
        db: context.store_location()?,
        actor: actor.clone(),
        config_seen,
        already_started: store.is_some(),
        run: new_run,
        weakenings: resolved.weakenings.clone(),
    };

    let mut reporter = report::choose(arguments.json);
    let mut junit = arguments.junit.as_ref().map(|_| JunitCollector::default());
    let mut summary = arguments
        .summary
        .as_ref()
        .map(|_| MarkdownSummary::default());
    runtime.block_on(async {
        let (cancel_sender, cancel) = watch::channel(false);
        let interrupted = crate::interrupt::on_ctrl_c(cancel_sender.clone());

        // The run is recorded beside the gates: time to the first gate matters in an incident.
        // A store failure cancels the run, and no passing verdict is shown before the run's
        // start is recorded.
        let (record_sender, record_receiver) = mpsc::unbounded_channel();
        let (started_sender, mut started_receiver) = watch::channel(None);
        let recorder = tokio::spawn(record::record(
            start,
            record_receiver,
            cancel_sender,
            started_sender,
        ));

        let (event_sender, mut events) = mpsc::unbounded_channel();
        let plan = resolved.plan.clone();
        let runner = tokio::spawn(async move {
            fixlane_runner::run::run(&plan, settings, standing, event_sender, cancel).await
        });

        let mut final_verdict = None;
        let mut finished = None;
        let mut ready_at = None;
        let mut unrecorded = false;
        while let Some(event) = events.recv().await {
            let passing = matches!(
                &event,
                RunEvent::VerdictChanged {
                    verdict: Verdict::Ready | Verdict::Green,
                    ..
                }
            );
            if passing && !unrecorded {
                // Normally long since true; waits only when the store is slow to answer.
                let start_recorded = started_receiver
                    .wait_for(Option::is_some)
                    .await
                    .is_ok_and(|state| *state == Some(true));
                unrecorded = !start_recorded;
            }
            match &event {
                RunEvent::RunFinished { verdict, .. } => final_verdict = Some(*verdict),
                RunEvent::VerdictChanged {
                    verdict: Verdict::Ready | Verdict::Green,
                    at,
                    ..
                } if ready_at.is_none() => ready_at = Some(*at),
                _ => {}
            }
            let show = !(unrecorded && passing);
            if matches!(event, RunEvent::RunFinished { .. }) {
                // The end is shown once it is recorded: a verdict that could not be written is
                // not a verdict.
                finished = Some(event.clone());
            } else if show {
                show_event(&event, &mut *reporter, junit.as_mut(), summary.as_mut());
            }
            // The recorder only stops early when the store failed; the run is cancelled then.
            let _ = record_sender.send(event);
        }
        drop(record_sender);
        let runner_result = runner.await.context("the runner stopped unexpectedly")?;
        let store_result = recorder
            .await
            .context("the recorder stopped unexpectedly")?;
        if let (Ok(_), Some(event)) = (&store_result, &finished) {
            show_event(event, &mut *reporter, junit.as_mut(), summary.as_mut());
        }
        reporter.finish();
        runner_result.map_err(Failure::error)?;
        if let (Some(path), Some(junit)) = (&arguments.junit, junit.take()) {
            junit.write(path)?;
        }
        if let (Some(path), Some(summary)) = (&arguments.summary, summary.take()) {
            summary.append(path)?;
        }
        let notes = store_result.map_err(|error| Failure {
            code: ExitCode::for_error(&error),
            error: anyhow::anyhow!(
                "{error:#}\nthe run's results could not be recorded, so it has no verdict, in \
                 the store or here"
            ),
        })?;
        for note in notes {
            eprintln!("note: {note}");
        }
        for line in &resolved.weakening_lines {
            eprintln!("{line}");
        }
        let final_verdict = final_verdict.unwrap_or(Verdict::Blocked);
        if let (Some(store), Some(record), Some(ready_at), Verdict::Ready | Verdict::Green) =
            (&store, &record, ready_at, final_verdict)
        {
            records::record_fix_ready(
                store,
                &actor,
                &record.id,
                &resolved.plan,
                &resolved.rev,
                &run_id,
                ready_at,
            )
            .await?;
        }
        if interrupted.is_finished() {
            eprintln!(
                "interrupted: every running gate was stopped and the run is recorded as cancelled"
            );
            return Ok(ExitCode::Interrupted);
        }
        interrupted.abort();
        Ok(ExitCode::for_verdict(final_verdict))
    })
}

fn show_event(
    event: &RunEvent,
    reporter: &mut dyn report::Reporter,
    junit: Option<&mut JunitCollector>,
    summary: Option<&mut MarkdownSummary>,
) {
    reporter.event(event);
    if let Some(junit) = junit {
        junit.event(event);
    }
    if let Some(summary) = summary {
        summary.event(event);
    }
}
