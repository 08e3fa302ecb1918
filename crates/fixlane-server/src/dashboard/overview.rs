//! The overview: every active emergency with its clocks, the approvals it still lacks and who
//! could give them, its bypasses, its fix's gates, its canary, and its follow-ups; every open
//! follow-up, overdue first; the chart of emergency frequency; and each webhook's deliveries,
//! failures included.
//!
//! Everything is read per request through the application layer and the store's own reads —
//! the same `list` and `due` the CLI's `--json` and the API return — and formatted here in the
//! configured time zone; the templates only lay it out (and escape it).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use fixlane_app::views::Listed;
use fixlane_core::canary::{CanaryEvent, CheckOutcome};
use fixlane_core::emergency::{Emergency, EmergencyState, policy};
use fixlane_core::followup::FollowUp;
use fixlane_store::{CanaryRecord, RunRecord, Store};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::chart::{self, Chart};
use super::{Viewer, failure, html, to_login, unauthorized, viewer};
use crate::context::Context;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/", get(page))
        .route("/dashboard/overview", get(fragment))
}

/// `12m05s`, `3h07m`, `2d04h`: how long, at a glance.
pub(crate) fn clock(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    if days > 0 {
        format!("{sign}{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{sign}{hours}h{minutes:02}m")
    } else {
        format!("{sign}{minutes}m{:02}s", seconds % 60)
    }
}

/// A moment in the configured zone, as the CLI prints it.
fn when(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `in 3h07m` or `overdue by 12m05s`.
fn left(due: Timestamp, now: Timestamp) -> String {
    let seconds = due.as_second() - now.as_second();
    if seconds >= 0 {
        format!("in {}", clock(seconds))
    } else {
        format!("overdue by {}", clock(-seconds))
    }
}

/// One approval given.
pub(crate) struct ApprovalRow {
    pub person: String,
    pub role: String,
    pub at: String,
}

/// One approver group still unsatisfied.
pub(crate) struct MissingRow {
    /// `security-lead or sre-lead`.
    pub roles: String,
    /// `carol, erin`, or a sentence saying nobody can.
    pub eligible: String,
    /// The viewer could fill it.
    pub viewer_may: bool,
}

pub(crate) struct BypassRow {
    pub element: &'static str,
    pub by: String,
    pub reason: String,
    pub compensation: String,
    pub at: String,
}

pub(crate) struct GateRow {
    pub name: String,
    pub tier: &'static str,
    pub state: &'static str,
    /// The CSS class of its state: `good`, `bad`, `skip`.
    pub class: &'static str,
    pub duration: String,
}

/// The latest run of the fix's branch.
pub(crate) struct RunView {
    pub run_id: String,
    pub lane: String,
    pub rev: String,
    pub started: String,
    pub verdict: String,
    pub class: &'static str,
    pub gates: Vec<GateRow>,
}

pub(crate) struct CheckRow {
    pub check: String,
    pub value: String,
    pub bound: String,
    pub outcome: &'static str,
    pub class: &'static str,
}

/// The newest canary (or verification) of the emergency.
pub(crate) struct CanaryView {
    pub id: String,
    pub profile: String,
    /// `step 2 of 4`, `promoted`, …
    pub status: String,
    /// The weight set now, when a step has started and the canary is still going.
    pub weight: Option<u8>,
    /// Each step's weight, and whether it has been reached.
    pub steps: Vec<(u8, bool)>,
    pub checks: Vec<CheckRow>,
}

pub(crate) struct FollowUpRow {
    pub id: String,
    pub kind: &'static str,
    pub owner: String,
    pub due: String,
    pub left: String,
    pub overdue: bool,
}

pub(crate) struct EmergencyView {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub category: String,
    pub state: &'static str,
    pub drill: bool,
    pub author: String,
    pub cleanup_owner: String,
    pub declared: String,
    pub since: String,
    pub eta: Option<String>,
    pub branch: String,
    pub flag_flip: String,
    pub rollback: String,
    pub approvals: Vec<ApprovalRow>,
    pub missing: Vec<MissingRow>,
    pub bypasses: Vec<BypassRow>,
    pub run: Option<RunView>,
    pub canary: Option<CanaryView>,
    pub followups: Vec<FollowUpRow>,
}

impl EmergencyView {
    /// The viewer could give one of the missing approvals now.
    pub fn viewer_may_approve(&self) -> bool {
        self.missing.iter().any(|missing| missing.viewer_may)
    }
}

/// The whole overview as the fragment template lays it out.
#[derive(askama::Template)]
#[template(path = "dashboard/overview.html")]
pub(crate) struct Overview {
    pub person: String,
    pub csrf: String,
    pub now: String,
    pub emergencies: Vec<EmergencyView>,
    pub due: Vec<FollowUpRow>,
    pub overdue: usize,
    pub chart: Chart,
    /// Each webhook's deliveries, named by its key (never its URL, which can be a secret).
    pub hooks: Vec<fixlane_store::HookStatus>,
    /// A refusal or a confirmation to show above everything, after an approval from the page.
    pub notice: Option<Notice>,
}

/// What happened to the viewer's last action on the page.
pub(crate) struct Notice {
    pub refused: bool,
    pub text: String,
}

/// The page around the overview: its style, its script, and the overview inside.
#[derive(askama::Template)]
#[template(path = "dashboard/page.html")]
struct Page {
    project: String,
    /// The overview as its own template rendered (and escaped) it: the text the fragment
    /// route serves, so the page and its live updates never differ.
    overview: String,
}

fn approvals(emergency: &Emergency, zone: &TimeZone) -> Vec<ApprovalRow> {
    emergency
        .approvals
        .iter()
        .map(|approval| ApprovalRow {
            person: approval.person.to_string(),
            role: approval.role.clone(),
            at: when(approval.at, zone),
        })
        .collect()
}

fn missing(context: &Context, emergency: &Emergency, viewer: &Viewer) -> Vec<MissingRow> {
    let config = context.config();
    let roles_of_viewer = config
        .people
        .get(&viewer.authenticated.person)
        .map(|person| person.roles.clone())
        .unwrap_or_default();
    policy::missing_with_eligible(config, emergency)
        .into_iter()
        .map(|group| MissingRow {
            roles: group.roles.join(" or "),
            eligible: if group.eligible.is_empty() {
                "nobody under [people] can give it".to_owned()
            } else {
                group
                    .eligible
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            viewer_may: group.eligible.contains(&viewer.authenticated.person)
                && group
                    .roles
                    .iter()
                    .any(|role| roles_of_viewer.contains(role)),
        })
        .collect()
}

fn bypasses(emergency: &Emergency, zone: &TimeZone) -> Vec<BypassRow> {
    emergency
        .bypasses
        .iter()
        .map(|bypass| BypassRow {
            element: bypass.element.as_str(),
            by: bypass.by.to_string(),
            reason: bypass.reason.clone(),
            compensation: bypass.compensation.clone(),
            at: when(bypass.at, zone),
        })
        .collect()
}

fn run_view(run: RunRecord, zone: &TimeZone) -> RunView {
    use fixlane_core::Verdict;
    use fixlane_store::StoredGateState;
    let (verdict, class) = match run.verdict {
        Some(verdict @ (Verdict::Green | Verdict::Ready)) => (verdict.as_str().to_owned(), "good"),
        Some(verdict @ Verdict::Blocked) => (verdict.as_str().to_owned(), "bad"),
        Some(verdict @ Verdict::Waiting) => (verdict.as_str().to_owned(), "wait"),
        None if run.abandoned_at.is_some() => ("abandoned".to_owned(), "bad"),
        None => ("running".to_owned(), "wait"),
    };
    let gates = run
        .gates
        .iter()
        .map(|gate| GateRow {
            name: gate.gate.to_string(),
            tier: gate.tier.as_str(),
            state: gate.state.as_str(),
            class: match gate.state {
                StoredGateState::Passed => "good",
                StoredGateState::Skipped | StoredGateState::NotRun => "skip",
                _ => "bad",
            },
            duration: gate
                .duration_ms
                .map(|ms| format!("{}.{}s", ms / 1000, ms % 1000 / 100))
                .unwrap_or_default(),
        })
        .collect();
    RunView {
        rev: fixlane_core::rev::short(run.rev.as_str()).to_owned(),
        run_id: run.run_id,
        lane: run.lane,
        started: when(run.started_at, zone),
        verdict,
        class,
        gates,
    }
}

fn bound(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{min} … {max}"),
        (Some(min), None) => format!("≥ {min}"),
        (None, Some(max)) => format!("≤ {max}"),
        (None, None) => "no bound".to_owned(),
    }
}

fn outcome_class(outcome: CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Ok => "good",
        CheckOutcome::OutOfBounds | CheckOutcome::Error => "bad",
        CheckOutcome::NoData => "wait",
    }
}

/// A canary's progress from its events: the steps reached, the weight now, and each check's
/// latest value against its bound.
pub(crate) fn canary_view(record: &CanaryRecord) -> CanaryView {
    let events: Vec<CanaryEvent> = record
        .events
        .iter()
        .filter_map(|(_, event)| serde_json::from_value(event.data.clone()).ok())
        .collect();
    let mut steps: Vec<(u8, bool)> = Vec::new();
    let mut current: Option<(usize, u8)> = None;
    let mut rolling_back = false;
    // Ordered by name, so the rows keep their places as samples arrive.
    let mut checks: BTreeMap<String, CheckRow> = BTreeMap::new();
    for event in &events {
        match event {
            CanaryEvent::CanaryStarted { steps: plan, .. } => {
                steps = plan.iter().map(|step| (step.weight, false)).collect();
            }
            CanaryEvent::StepStarted { step, weight, .. } => {
                current = Some((*step, *weight));
                if let Some(reached) = steps.get_mut(step.saturating_sub(1)) {
                    reached.1 = true;
                }
            }
            CanaryEvent::RollbackStarted { .. } => rolling_back = true,
            CanaryEvent::CheckEvaluated {
                check,
                value,
                min,
                max,
                outcome,
                ..
            } => {
                checks.insert(
                    check.clone(),
                    CheckRow {
                        check: check.clone(),
                        value: value.map_or_else(|| "—".to_owned(), |value| format!("{value:.4}")),
                        bound: bound(*min, *max),
                        outcome: outcome.as_str(),
                        class: outcome_class(*outcome),
                    },
                );
            }
            CanaryEvent::VerifySample {
                check,
                value,
                outcome,
                ..
            } => {
                checks.insert(
                    check.clone(),
                    CheckRow {
                        check: check.clone(),
                        value: value.map_or_else(|| "—".to_owned(), |value| format!("{value:.4}")),
                        bound: "its check's bounds".to_owned(),
                        outcome: outcome.as_str(),
                        class: outcome_class(*outcome),
                    },
                );
            }
            _ => {}
        }
    }
    let finished = record
        .outcome
        .as_deref()
        .map(|outcome| outcome.replace('_', " "));
    let status = match (&finished, current, rolling_back) {
        (Some(outcome), _, _) => outcome.clone(),
        (None, _, true) => "rolling back".to_owned(),
        (None, Some((step, weight)), false) => {
            format!("step {step} of {} at {weight}%", steps.len().max(step))
        }
        (None, None, false) => "starting".to_owned(),
    };
    CanaryView {
        id: record.id.clone(),
        profile: record.profile.clone(),
        status,
        weight: current
            .filter(|_| finished.is_none() && !rolling_back)
            .map(|(_, weight)| weight),
        steps,
        checks: checks.into_values().collect(),
    }
}

fn followup_row(id: &str, followup: &FollowUp, now: Timestamp, zone: &TimeZone) -> FollowUpRow {
    FollowUpRow {
        id: id.to_owned(),
        kind: followup.kind.as_str(),
        owner: followup.owner.to_string(),
        due: when(followup.due_at, zone),
        left: left(followup.due_at, now),
        overdue: followup.is_overdue(now),
    }
}

async fn emergency_view(
    context: &Context,
    listed: &Listed,
    viewer: &Viewer,
    now: Timestamp,
    zone: &TimeZone,
) -> Result<EmergencyView, fixlane_app::AppError> {
    let store = context.store();
    let emergency = &listed.emergency;
    let summary = listed.summary(context.config(), now);
    let followups = store.followups(&emergency.id).await?;
    let run = store.latest_run_on_branch(&emergency.branch).await?;
    let canary = match store.canaries_of(&emergency.id).await?.first() {
        Some(newest) => store.canary(&newest.id).await?,
        None => None,
    };
    Ok(EmergencyView {
        id: emergency.id.to_string(),
        title: emergency.title.clone(),
        severity: emergency.severity.clone(),
        category: emergency.category.clone(),
        state: summary.state,
        drill: emergency.drill,
        author: emergency.author.to_string(),
        cleanup_owner: emergency.cleanup_owner.to_string(),
        declared: when(emergency.declared_at, zone),
        since: clock(summary.seconds_since_declared),
        eta: emergency.eta.clone(),
        branch: emergency.branch.clone(),
        flag_flip: emergency.flag_flip.clone(),
        rollback: emergency.rollback.clone(),
        approvals: approvals(emergency, zone),
        missing: missing(context, emergency, viewer),
        bypasses: bypasses(emergency, zone),
        run: run.map(|run| run_view(run, zone)),
        canary: canary.as_ref().map(canary_view),
        followups: followups
            .iter()
            .filter(|followup| followup.is_open())
            .map(|followup| followup_row(emergency.id.as_str(), followup, now, zone))
            .collect(),
    })
}

/// Reads the overview as `viewer` sees it now.
pub(crate) async fn overview(
    context: &Context,
    viewer: &Viewer,
    notice: Option<Notice>,
) -> Result<Overview, fixlane_app::AppError> {
    let now = Timestamp::now();
    let zone = fixlane_app::followups::zone(context.config());
    let app = context.app();
    let every = app.list(now, true).await?;
    let mut emergencies = Vec::new();
    for listed in every
        .iter()
        .filter(|listed| listed.emergency.state != EmergencyState::Closed)
    {
        emergencies.push(emergency_view(context, listed, viewer, now, &zone).await?);
    }
    let due: Vec<FollowUpRow> = app
        .due(now, None)
        .await?
        .iter()
        .map(|due| followup_row(due.id.as_str(), &due.followup, now, &zone))
        .collect();
    let declared: Vec<Timestamp> = every
        .iter()
        .filter(|listed| !listed.emergency.drill)
        .map(|listed| listed.emergency.declared_at)
        .collect();
    let weeks = chart::weekly(&declared, &zone, now, chart::WEEKS);
    let hooks = context.store().delivery_status().await?;
    Ok(Overview {
        person: viewer.authenticated.person.to_string(),
        csrf: viewer.secret.csrf(),
        now: when(now, &zone),
        overdue: due.iter().filter(|due| due.overdue).count(),
        emergencies,
        due,
        chart: Chart::of(&weeks),
        hooks,
        notice,
    })
}

/// The whole page, with `notice` above the overview.
pub(crate) async fn page_for(
    context: &Context,
    viewer: &Viewer,
    notice: Option<Notice>,
) -> Response {
    let overview = match overview(context, viewer, notice).await {
        Ok(overview) => overview,
        Err(error) => return failure(context, error),
    };
    match askama::Template::render(&overview) {
        Ok(overview) => html(&Page {
            project: context.config().project.name.clone(),
            overview,
        }),
        Err(error) => {
            tracing::error!(%error, "the dashboard's overview did not render");
            super::page_failure(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not render this page; its log says why.",
            )
        }
    }
}

async fn page(State(context): State<Context>, headers: HeaderMap) -> Response {
    match viewer(&context, &headers).await {
        Ok(Some(viewer)) => page_for(&context, &viewer, None).await,
        Ok(None) => to_login(),
        Err(response) => response,
    }
}

async fn fragment(State(context): State<Context>, headers: HeaderMap) -> Response {
    let viewer = match viewer(&context, &headers).await {
        Ok(Some(viewer)) => viewer,
        Ok(None) => return unauthorized(),
        Err(response) => return response,
    };
    match overview(&context, &viewer, None).await {
        Ok(overview) => html(&overview),
        Err(error) => failure(&context, error),
    }
}

#[cfg(test)]
mod tests {
    use fixlane_store::CanaryEventRecord;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn clocks_read_at_a_glance() {
        assert_eq!(clock(65), "1m05s");
        assert_eq!(clock(3 * 3600 + 7 * 60), "3h07m");
        assert_eq!(clock(2 * 86_400 + 4 * 3600), "2d04h");
        assert_eq!(
            left(at("2026-05-20T11:00:00Z"), at("2026-05-20T10:00:00Z")),
            "in 1h00m"
        );
        assert_eq!(
            left(at("2026-05-20T10:00:00Z"), at("2026-05-20T10:12:05Z")),
            "overdue by 12m05s"
        );
    }

    fn event(event: &CanaryEvent) -> (i64, CanaryEventRecord) {
        (
            1,
            CanaryEventRecord {
                kind: "x".to_owned(),
                at: event.at(),
                data: serde_json::to_value(event).unwrap(),
                audited: false,
            },
        )
    }

    #[test]
    fn a_canary_shows_its_step_weight_and_each_checks_latest_value() {
        let t = at("2026-05-20T10:00:00Z");
        let steps = vec![
            fixlane_core::canary::StepPlan {
                weight: 5,
                bake_seconds: 60,
            },
            fixlane_core::canary::StepPlan {
                weight: 50,
                bake_seconds: 60,
            },
        ];
        let check = |value: f64, outcome| CanaryEvent::CheckEvaluated {
            at: t,
            step: 2,
            check: "error-rate".to_owned(),
            value: Some(value),
            min: None,
            max: Some(0.02),
            outcome,
            detail: None,
        };
        let mut record = CanaryRecord {
            id: "c-1".to_owned(),
            incident: None,
            rev: "abc".to_owned(),
            profile: "standard".to_owned(),
            started_at: t,
            finished_at: None,
            outcome: None,
            plan: serde_json::json!({}),
            events: vec![
                event(&CanaryEvent::CanaryStarted {
                    at: t,
                    profile: "standard".to_owned(),
                    steps,
                }),
                event(&CanaryEvent::StepStarted {
                    at: t,
                    step: 1,
                    weight: 5,
                    bake_seconds: 60,
                }),
                event(&CanaryEvent::StepStarted {
                    at: t,
                    step: 2,
                    weight: 50,
                    bake_seconds: 60,
                }),
                event(&check(0.01, CheckOutcome::Ok)),
                event(&check(0.015, CheckOutcome::Ok)),
            ],
        };
        let view = canary_view(&record);
        assert_eq!(view.status, "step 2 of 2 at 50%");
        assert_eq!(view.weight, Some(50));
        assert_eq!(view.steps, [(5, true), (50, true)]);
        assert_eq!(view.checks.len(), 1);
        assert_eq!(view.checks[0].value, "0.0150");
        assert_eq!(view.checks[0].bound, "≤ 0.02");

        record.outcome = Some("rolled_back".to_owned());
        let view = canary_view(&record);
        assert_eq!(view.status, "rolled back");
        assert_eq!(view.weight, None);
    }
}
