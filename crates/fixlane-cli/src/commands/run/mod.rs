//! `fixlane run`: choose the lane and the policy, plan it, run the gates, show and record every
//! event, exit with the verdict's code.

mod actor;
mod early;
mod emergency;
mod facts;
mod relay;
pub mod settings;

pub use actor::ActorLookup;
pub use early::EarlySnapshot;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use fixlane_core::Rev;
use fixlane_core::Verdict;
use fixlane_core::emergency::Emergency;
use fixlane_core::event::Selection;
use fixlane_core::plan::Plan;
use fixlane_runner::Runner;
use fixlane_runner::git::Repository;
use fixlane_runner::liveness::RunnerIdentity;
use fixlane_runner::run::RunSettings;
use fixlane_store::NewRun;
use tokio::sync::{mpsc, watch};

use self::facts::Resolved;
use self::relay::WhenRecorded;
use self::settings::RunPlanSettings;

use crate::cli::RunArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::record::Target;
use crate::report::{self, Reporter as _, recorder::RecorderFeed};
use crate::settings::Context;
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
            resolved.selection.packages.all().join(" "),
        ),
        (
            "FIXLANE_DIRECTLY_CHANGED_PACKAGES".to_owned(),
            resolved.selection.packages.direct.join(" "),
        ),
    ];
    if let Some(incident) = &resolved.incident {
        env.push(("FIXLANE_INCIDENT".to_owned(), incident.to_string()));
    }
    if let Some(base) = &resolved.base {
        env.push(("FIXLANE_BASE".to_owned(), base.clone()));
    }
    env.push((
        "FIXLANE_CHANGED_FILES".to_owned(),
        changed_files_list(
            resolved.changed_files.as_deref().unwrap_or_default(),
            log_dir,
        )?,
    ));
    Ok(env)
}

/// The file `FIXLANE_CHANGED_FILES` names: the changed paths, one per line, in the run's log
/// directory. An empty list is `/dev/null`, which reads as empty: no file is created on the way
/// to the first gate for nothing.
fn changed_files_list(files: &[String], log_dir: &std::path::Path) -> Result<String, Failure> {
    if files.is_empty() {
        return Ok("/dev/null".to_owned());
    }
    std::fs::create_dir_all(log_dir)
        .with_context(|| format!("could not create the log directory {}", log_dir.display()))?;
    let list = log_dir.join("changed-files.txt");
    let mut text = String::new();
    for file in files {
        text.push_str(file);
        text.push('\n');
    }
    std::fs::write(&list, text).with_context(|| format!("could not write {}", list.display()))?;
    Ok(list.to_string_lossy().into_owned())
}

/// The run's plan as the store keeps it, with what chose it.
fn plan_record(
    plan: &Plan,
    lane_why: &str,
    base: Option<&String>,
    selection: &Selection,
    log_dir: &std::path::Path,
) -> serde_json::Value {
    serde_json::json!({
        "plan": plan,
        "lane_why": lane_why,
        "base": base,
        "changed_packages": selection.packages.all(),
        "selection": selection,
        "log_dir": log_dir.to_string_lossy(),
    })
}

/// What the plan's record is made of, owned, for the thread that makes it.
struct PlanPieces {
    plan: Arc<Plan>,
    lane_why: String,
    base: Option<String>,
    selection: Selection,
    log_dir: PathBuf,
}

impl PlanPieces {
    fn record(&self) -> serde_json::Value {
        plan_record(
            &self.plan,
            &self.lane_why,
            self.base.as_ref(),
            &self.selection,
            &self.log_dir,
        )
    }
}

pub fn run(context: &Context, arguments: &RunArgs) -> CommandResult {
    execute(context, &RunPlanSettings::parse(arguments)?)
}

/// Runs what `fixlane run` or `fixlane ci` was asked to.
pub fn execute(context: &Context, settings: &RunPlanSettings) -> CommandResult {
    // The config is parsed while git answers: both stand between the command and its first
    // gate. The runtimes and the gates' thread are made meanwhile, off that path.
    let (runner, loaded, facts) = std::thread::scope(|scope| {
        let facts = scope.spawn(|| facts::git_facts(context, settings));
        let runner = Runner::new();
        let loaded = context.load_config_and_hash();
        (runner, loaded, facts.join())
    });
    let (head_config, config_hash) = loaded?;
    let facts = facts.map_err(|_| anyhow::anyhow!("asking git about the commit failed"))??;
    let mut resolved = facts::resolve(context, (head_config, &config_hash), facts, settings)?;
    for line in &resolved.weakening_lines {
        eprintln!("{line}");
    }
    for refusal in &resolved.plan.refusals {
        eprintln!("refused: {refusal}");
    }
    let at = settings.at.unwrap_or_else(jiff::Timestamp::now);
    // In client mode the record is the team server's: the gates run here, the run is recorded
    // there, and no local store is opened.
    let server = Client::from_env(context)?;
    // The one runtime of the run: the gates' and, lent by the runner, the store's.
    let runner = runner.map_err(Failure::error)?;
    let run_id = run_id();
    let log_dir: PathBuf = context.repo.fixlane_dir().join("logs").join(&run_id);
    // An emergency lane or a deploy needs the store before the first gate. Any other run opens
    // it beside the gates, off the path to the first one.
    let before_first_gate = resolved.plan.emergency || resolved.plan.runs_deploys();
    // Who acts (git's `user.email`, one more process) is looked up once git and the config
    // have answered, so it does not compete with them: beside the store's opening when the
    // run needs both before its first gate, else beside the first gates.
    let (store, record, actor) = if before_first_gate {
        let actor_lookup = actor::ActorLookup::start(context);
        runner.block_on(async {
            let people = &resolved.config.people;
            if let Some(client) = &server {
                let actor = actor_lookup.resolve(people).await;
                let target = Target::Server(client);
                let record = emergency::prepare(target, context, &actor, &mut resolved, at).await?;
                return Ok::<_, Failure>((None, record, Some(actor)));
            }
            let store = context.open_store().await?;
            let actor = actor_lookup.resolve(people).await;
            let target = Target::Store(&store);
            let record = emergency::prepare(target, context, &actor, &mut resolved, at).await?;
            Ok::<_, Failure>((Some(store), record, Some(actor)))
        })?
    } else {
        (None, None, None)
    };
    // The recorder records the run as the same person.
    let actor_lookup = match &actor {
        Some(actor) => actor::ActorLookup::Known(actor.clone()),
        None => actor::ActorLookup::later(context),
    };
    // The run's record before its first gate only when its start is recorded before it (an
    // emergency, a deploy, the team server); otherwise the plan's record — a thousand gates'
    // worth of JSON — is built on a thread of its own beside the first gates.
    let recorded_first = server.is_some() || store.is_some();
    // The runner, the record and the end of the run share the plan; from here on only `plan`
    // has its gates.
    let gates = std::mem::take(&mut resolved.plan.gates);
    let plan = Arc::new(fixlane_core::plan::Plan {
        gates,
        ..resolved.plan.clone()
    });
    let (plan_json, pending_plan) = if recorded_first {
        (
            plan_record(
                &plan,
                &resolved.lane_why,
                resolved.base.as_ref(),
                &resolved.selection,
                &log_dir,
            ),
            None,
        )
    } else {
        let pieces = PlanPieces {
            plan: Arc::clone(&plan),
            lane_why: resolved.lane_why.clone(),
            base: resolved.base.clone(),
            selection: resolved.selection.clone(),
            log_dir: log_dir.clone(),
        };
        let pending: record::PlanRecord = Box::new(move || pieces.record());
        (serde_json::Value::Null, Some(pending))
    };
    let new_run = NewRun {
        run_id: run_id.clone(),
        rev: Rev::parse(&resolved.rev)?,
        branch: resolved.branch.clone(),
        lane: plan.lane.to_string(),
        emergency: plan.emergency,
        incident: resolved.incident.clone(),
        started_at: jiff::Timestamp::now(),
        plan: plan_json,
        runner: serde_json::to_value(RunnerIdentity::current()).ok(),
    };
    let config_seen = (context.config_display(), config_hash);
    // Those runs' start is durably audited before any gate starts: no audit, no action. On the
    // team server every run's is (one request).
    let not_started = |failure: Failure| Failure {
        code: failure.code,
        error: anyhow::anyhow!(
            "{:#}\nthe run's start could not be recorded in the audit log, so no gate was \
             started",
            failure.error
        ),
    };
    if let Some(client) = &server {
        let policy = fixlane_core::config::policy_sha256(&resolved.config);
        runner
            .block_on(record::start_on_server(
                client,
                &config_seen,
                &policy,
                &new_run,
                &resolved.weakenings,
            ))
            .map_err(not_started)?;
    } else if let (Some(store), Some(actor)) = (&store, &actor) {
        runner
            .block_on(record::start(
                store,
                actor,
                &config_seen,
                &new_run,
                &resolved.weakenings,
            ))
            .map_err(|error| not_started(Failure::error(error)))?;
    }
    let env = gate_environment(&resolved, &run_id, &log_dir)?;
    let run_settings = RunSettings {
        run_id: run_id.clone(),
        jobs: settings.jobs.get(),
        workdir: context.root().to_path_buf(),
        log_dir: log_dir.clone(),
        env,
        kill_grace: std::time::Duration::from_secs(5),
        tail_lines: 20,
        rev: resolved.rev.clone(),
        branch: resolved.branch.clone(),
        incident: resolved.incident.clone(),
        selection: resolved.selection.clone(),
    };
    let standing = record.as_ref().map(Emergency::standing);
    let start = record::Start {
        store: store.clone(),
        db: context.store_location()?,
        actor: actor_lookup,
        people: resolved.config.people.clone(),
        config_seen,
        already_started: store.is_some() || server.is_some(),
        run: new_run,
        pending_plan,
        weakenings: resolved.weakenings.clone(),
        server: server.clone(),
    };
    let views = report::for_run(
        settings.view,
        settings.explain,
        settings.junit.as_deref(),
        settings.summary.as_deref(),
    );

    runner.block_on(async {
        let (cancel_sender, cancel) = watch::channel(false);
        let interrupted = crate::interrupt::on_ctrl_c(cancel_sender.clone());

        // The run is recorded beside the gates: time to the first gate matters in an incident.
        // A store failure cancels the run, and no passing verdict is shown before the run's
        // start is recorded.
        let (record_sender, record_receiver) = mpsc::unbounded_channel();
        let (started_sender, started) = watch::channel(None);
        // The recorder begins (opens the store, builds the plan's record) once the run's first
        // event is heard, which the runner sends only after the first gates have started.
        let (heard_sender, heard) = tokio::sync::oneshot::channel();
        let recorder = tokio::spawn(record::record(
            start,
            (record_receiver, heard),
            cancel_sender,
            started_sender,
        ));
        let mut run = runner.start(Arc::clone(&plan), run_settings, standing, cancel);
        let mut views = WhenRecorded::new(views, started);
        let relayed =
            relay::relay(
            &mut run,
            &mut RecorderFeed::new(record_sender).telling_first_event(heard_sender),
            &mut views,
        )
        .await?;
        let runner_result = run.finish().await;
        let store_result = recorder
            .await
            .context("the recorder stopped unexpectedly")?;
        if store_result.is_ok() {
            // The end is shown once it is recorded: a verdict that could not be written is
            // not a verdict.
            views.recorded();
        }
        runner_result.map_err(Failure::error)?;
        views.finish()?;
        let outcome = store_result.map_err(|failure| Failure {
            code: failure.code,
            error: anyhow::anyhow!(
                "{:#}\nthe run's results could not be recorded, so it has no verdict, in \
                 the store or here",
                failure.error
            ),
        })?;
        for note in &outcome.notes {
            eprintln!("note: {note}");
        }
        // Who acted, as the run's record has it.
        let actor = outcome.actor.clone();
        for line in &resolved.weakening_lines {
            eprintln!("{line}");
        }
        let final_verdict = relayed.verdict.unwrap_or(Verdict::Blocked);
        if let (Some(client), Some(_), Some(ready_at), Verdict::Ready | Verdict::Green) =
            (&server, &record, relayed.ready_at, final_verdict)
        {
            client.fix_ready(&run_id, ready_at).await?;
        } else if let (Some(store), Some(record), Some(ready_at), Verdict::Ready | Verdict::Green) =
            (&store, &record, relayed.ready_at, final_verdict)
        {
            fixlane_app::runs::mark_fix_ready(
                store,
                &actor,
                &record.id,
                &plan,
                &resolved.rev,
                &run_id,
                ready_at,
            )
            .await
            .map_err(|error| records::app_failure(error, context))?;
        }
        let merged_check =
            resolved.on_default_branch && !plan.emergency && !interrupted.is_finished();
        if let (true, Some(client)) = (merged_check, &server) {
            // The server decides which of them shipped and has no follow-ups yet.
            let repo = &context.repo;
            let mentioned: Vec<_> = client
                .active_emergencies()
                .await?
                .into_iter()
                .filter(|id| {
                    repo.history_mentions(&resolved.rev, id.as_str())
                        .unwrap_or(false)
                })
                .collect();
            for id in client.open_merged(&run_id, &mentioned).await? {
                eprintln!(
                    "note: {id} is merged into the default branch: its follow-ups are open (fixlane due)"
                );
            }
        } else if merged_check {
            // A fix found in the default branch's history has left the emergency lane, merged
            // or squashed by hand (its commit message carries the incident id).
            let opened_store = match (&store, outcome.store) {
                (Some(store), _) => store.clone(),
                (None, Some(store)) => store,
                (None, None) => context.open_store().await?,
            };
            let repo = &context.repo;
            let merged = fixlane_app::App::new(&opened_store, &resolved.config)
                .open_merged(
                    &actor,
                    |id| repo.history_mentions(&resolved.rev, id.as_str()).unwrap_or(false),
                    jiff::Timestamp::now(),
                )
                .await
                .map_err(|error| records::app_failure(error, context))?;
            for id in merged {
                eprintln!(
                    "note: {id} is merged into the default branch: its follow-ups are open (fixlane due)"
                );
            }
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
