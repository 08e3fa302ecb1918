//! `fixlane run`: choose the lane, plan it, run the gates, show and record every event, exit
//! with the verdict's code.

use std::path::PathBuf;

use anyhow::Context as _;
use fixlane_core::emergency::{Emergency, windows};
use fixlane_core::lane::{self, LaneInputs};
use fixlane_core::plan::{self, Plan};
use fixlane_core::{Config, IncidentId, LaneName, RunEvent, Verdict};
use fixlane_runner::git::Repository;
use fixlane_runner::run::RunSettings;
use fixlane_store::{AnyStore, NewRun, Store};
use tokio::sync::{mpsc, watch};

use crate::cli::RunArgs;
use crate::exit::{self, CommandResult, Failure};
use crate::report::{self, junit::JunitCollector, markdown::MarkdownSummary};
use crate::settings::{self, Context};
use crate::{record, records};

/// What git says about the commit: gathered beside the config's parsing, since both are on the
/// way to the first gate and neither needs the other.
struct GitFacts {
    rev: String,
    branch: Option<String>,
    base: Option<String>,
    changed_files: Option<Vec<String>>,
    changed_packages: Vec<String>,
}

fn git_facts(context: &Context, arguments: &RunArgs) -> Result<GitFacts, Failure> {
    let repo = &context.repo;
    let rev_spec = arguments.rev.as_deref().unwrap_or("HEAD");
    // Three questions to git at once: the commit, the branch, and what it is compared with.
    let (rev, branch, base) = std::thread::scope(|scope| {
        let branch = scope.spawn(|| match &arguments.branch {
            Some(branch) => Ok(Some(branch.clone())),
            None => repo.current_branch(),
        });
        let base = scope.spawn(|| match &arguments.base {
            Some(base) => repo.resolve(base).map(Some),
            None => repo.default_base(rev_spec),
        });
        let rev = repo.resolve(rev_spec);
        (rev, branch.join(), base.join())
    });
    let rev = rev?;
    let branch = branch.map_err(|_| anyhow::anyhow!("reading the current branch failed"))??;
    let base = base.map_err(|_| anyhow::anyhow!("finding the base commit failed"))??;
    let changed_files = match &base {
        Some(base) => Some(repo.changed_files(base, &rev)?),
        None => None,
    };
    let changed_packages = match &changed_files {
        Some(files) => fixlane_runner::packages::changed_packages(context.root(), files),
        None => Vec::new(),
    };
    Ok(GitFacts {
        rev,
        branch,
        base,
        changed_files,
        changed_packages,
    })
}

/// What `fixlane run` resolved from its arguments before anything starts.
struct Resolved {
    plan: Plan,
    lane_why: String,
    rev: String,
    branch: Option<String>,
    incident: Option<IncidentId>,
    changed_files: Option<Vec<String>>,
    changed_packages: Vec<String>,
    base: Option<String>,
}

fn resolve(config: &Config, facts: GitFacts, arguments: &RunArgs) -> Result<Resolved, Failure> {
    let explicit = arguments
        .lane
        .as_deref()
        .map(LaneName::parse)
        .transpose()
        .context("--lane")?;
    let choice = lane::choose(
        config,
        &LaneInputs {
            explicit: explicit.as_ref(),
            labels: &arguments.labels,
            branch: facts.branch.as_deref(),
        },
    )?;
    let plan = plan::plan(config, &choice.lane, facts.changed_files.as_deref())?;
    // A branch names its incident only through the store (see `prepare`): `hotfix/INC-1-fix`
    // could be INC-1 or INC-1-fix, and only the record knows.
    let incident = arguments
        .incident
        .as_deref()
        .map(IncidentId::parse)
        .transpose()
        .context("--incident")?;
    Ok(Resolved {
        plan,
        lane_why: choice.why,
        rev: facts.rev,
        branch: facts.branch,
        incident,
        changed_files: facts.changed_files,
        changed_packages: facts.changed_packages,
        base: facts.base,
    })
}

/// Before the first gate, what only the store knows: the emergency record an emergency-lane run
/// belongs to, and whether its deploy gates may run now (change windows and freezes, with the
/// record's bypasses). Refused deploy gates stay in the plan as refused.
async fn prepare(
    store: &AnyStore,
    context: &Context,
    config: &Config,
    resolved: &mut Resolved,
    at: jiff::Timestamp,
) -> Result<Option<Emergency>, Failure> {
    let record = if resolved.plan.emergency {
        records::for_run(
            store,
            resolved.incident.as_ref(),
            resolved.branch.as_deref(),
        )
        .await?
    } else {
        None
    };
    if let Some(record) = &record {
        resolved.incident = Some(record.id.clone());
    }
    if resolved.plan.runs_deploys() {
        let bypassed = record
            .as_ref()
            .map(Emergency::bypassed_elements)
            .unwrap_or_default();
        match windows::deploy_allowed(config.windows.as_ref(), at, &bypassed) {
            Ok(permission) => {
                if !permission.bypassed.is_empty() {
                    let used: Vec<&str> = permission
                        .bypassed
                        .iter()
                        .map(|element| element.as_str())
                        .collect();
                    store
                        .append_audit(
                            context.actor(),
                            "deploy-window-bypassed",
                            serde_json::json!({
                                "incident": resolved.incident,
                                "rev": resolved.rev,
                                "lane": resolved.plan.lane,
                                "at": at,
                                "bypassed": used,
                                "why": permission.note,
                            }),
                        )
                        .await?;
                    eprintln!(
                        "note: deploy gates run outside the normal windows under the recorded {} bypass of {} — logged",
                        used.join(" and "),
                        resolved
                            .incident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    );
                }
            }
            Err(refusal) => {
                let file = context.config_display();
                let why = match refusal.config_line {
                    Some(line) => format!("{} ({file}:{})", refusal.why, line.line),
                    None => refusal.why.clone(),
                };
                resolved.plan.refuse_deploys(&why);
                eprintln!("{}", refusal.render_with_file(&file));
            }
        }
    }
    Ok(record)
}

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
        let facts = scope.spawn(|| git_facts(context, arguments));
        let actor = scope.spawn(|| context.actor().to_owned());
        let loaded = context.load_config_and_hash();
        (loaded, facts.join(), actor.join())
    });
    let (config, config_hash) = loaded?;
    let facts = facts.map_err(|_| anyhow::anyhow!("asking git about the commit failed"))??;
    let actor = actor.map_err(|_| anyhow::anyhow!("looking up the acting person failed"))?;
    // A known person is logged by their name, as their approvals are; anyone else may still run
    // gates and is logged as git knows them.
    let actor = fixlane_core::emergency::policy::identify(&config, &actor)
        .map_or(actor, |person| person.to_string());
    let mut resolved = resolve(&config, facts, arguments)?;
    let at = records::moment(arguments.at.as_deref())?;
    let runtime = settings::runtime()?;
    // Only an emergency lane or a deploy needs the store before the first gate; otherwise it
    // opens beside the gates, off the path to the first one.
    let (store, record) = if resolved.plan.emergency || resolved.plan.runs_deploys() {
        runtime.block_on(async {
            let store = context.open_store().await?;
            let record = prepare(&store, context, &config, &mut resolved, at).await?;
            Ok::<_, Failure>((Some(store), record))
        })?
    } else {
        (None, None)
    };
    let run_id = run_id();
    let log_dir: PathBuf = context.repo.fixlane_dir().join("logs").join(&run_id);
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
    let new_run = NewRun {
        run_id: run_id.clone(),
        rev: resolved.rev.clone(),
        branch: resolved.branch.clone(),
        lane: resolved.plan.lane.to_string(),
        emergency: resolved.plan.emergency,
        incident: resolved.incident.as_ref().map(ToString::to_string),
        started_at: jiff::Timestamp::now(),
        plan: serde_json::json!({
            "plan": &resolved.plan,
            "lane_why": &resolved.lane_why,
            "base": &resolved.base,
            "changed_packages": &resolved.changed_packages,
            "log_dir": log_dir.to_string_lossy(),
        }),
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

        // The store is opened and the run recorded beside the gates starting, not before them:
        // time to the first gate matters in an incident. A store failure cancels the run.
        let (record_sender, record_receiver) = mpsc::unbounded_channel();
        let recorder = tokio::spawn(record::record(
            store.clone(),
            context.store_location()?,
            actor.clone(),
            (context.config_display(), config_hash),
            new_run,
            record_receiver,
            cancel_sender,
        ));

        let (event_sender, mut events) = mpsc::unbounded_channel();
        let plan = resolved.plan.clone();
        let runner = tokio::spawn(async move {
            fixlane_runner::run::run(&plan, settings, standing, event_sender, cancel).await
        });

        let mut final_verdict = None;
        let mut ready_at = None;
        while let Some(event) = events.recv().await {
            reporter.event(&event);
            if let Some(junit) = junit.as_mut() {
                junit.event(&event);
            }
            if let Some(summary) = summary.as_mut() {
                summary.event(&event);
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
            // The recorder only stops early when the store failed; the run is cancelled then.
            let _ = record_sender.send(event);
        }
        drop(record_sender);
        reporter.finish();
        runner
            .await
            .context("the runner stopped unexpectedly")?
            .map_err(Failure::error)?;
        let store_result = recorder.await.context("the recorder stopped unexpectedly")?;
        if let (Some(path), Some(junit)) = (&arguments.junit, junit.take()) {
            junit.write(path)?;
        }
        if let (Some(path), Some(summary)) = (&arguments.summary, summary.take()) {
            summary.append(path)?;
        }
        if let Err(error) = store_result {
            return Err(Failure::error(anyhow::anyhow!(
                "{error:#}\nthe run's results could not be recorded, so it has no verdict in the store"
            )));
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
            eprintln!("interrupted: every running gate was stopped and the run is recorded as cancelled");
            return Ok(exit::INTERRUPTED);
        }
        interrupted.abort();
        Ok(final_verdict.exit_code())
    })
}
