//! The figures behind "make the normal pipeline faster instead": how often the emergency lane is
//! used (per week, per author, against the rate limits), whether its debt is paid on time, how
//! long recovery takes, and how its deploys fare — with the DORA-comparable figures a team reports
//! and their four-keys buckets. Pure: callers hand in the records, this hands back the numbers.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::model::{Config, RateLimit};
use crate::critical_path::{CriticalPath, TimedGate, critical_path, with_jobs};
use crate::duration::Duration;
use crate::emergency::{Emergency, EmergencyState};
use crate::followup::{FollowUp, FollowUpKind};
use crate::names::{IncidentId, PersonName};

/// After this long without a drill or a real emergency, the lane is called stale.
pub const STALE_AFTER_DAYS: i64 = 90;

/// An emergency as the figures need it: who declared it when, whether it was a drill, and when
/// (if ever) it was verified. It reads from the stored record itself (unknown fields are
/// skipped), so `stats` on thousands of records parses only this much of each.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatsEmergency {
    pub id: IncidentId,
    pub author: PersonName,
    pub drill: bool,
    pub declared_at: Timestamp,
    #[serde(default)]
    pub timeline: Vec<StatsTransition>,
}

/// One step of an emergency's timeline, as the figures need it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatsTransition {
    pub state: EmergencyState,
    pub at: Timestamp,
}

impl From<&Emergency> for StatsEmergency {
    fn from(emergency: &Emergency) -> Self {
        Self {
            id: emergency.id.clone(),
            author: emergency.author.clone(),
            drill: emergency.drill,
            declared_at: emergency.declared_at,
            timeline: emergency
                .timeline
                .iter()
                .map(|step| StatsTransition {
                    state: step.state,
                    at: step.at,
                })
                .collect(),
        }
    }
}

/// A follow-up as the figures need it: its emergency, kind and clock.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpClock {
    pub incident: IncidentId,
    pub kind: FollowUpKind,
    pub due_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

impl FollowUpClock {
    /// The clock of `followup`, of emergency `incident`.
    pub fn of(incident: &IncidentId, followup: &FollowUp) -> Self {
        Self {
            incident: incident.clone(),
            kind: followup.kind,
            due_at: followup.due_at,
            closed_at: followup.closed_at,
        }
    }

    /// Not closed yet (as [`FollowUp::is_open`]).
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Open and past its deadline at `now` (as [`FollowUp::is_overdue`]).
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.is_open() && now > self.due_at
    }
}

/// A canary (or verification) as the figures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct CanaryRun {
    pub incident: Option<IncidentId>,
    pub profile: String,
    pub outcome: Option<String>,
    pub started_at: Timestamp,
}

/// A lane's latest finished run: its wall time and its gates as they ran.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneRun {
    pub lane: String,
    pub wall_ms: u64,
    pub gates: Vec<TimedGate>,
}

/// A lane's latest run against its critical path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaneFigures {
    pub lane: String,
    pub wall_ms: u64,
    pub critical_path: CriticalPath,
    /// What the lane's gates would take with one job slot per core.
    pub with_cores_ms: u64,
    pub cores: usize,
}

/// What the figures are computed from.
#[derive(Debug, Clone, Copy)]
pub struct StatsInput<'a> {
    pub config: &'a Config,
    /// Every emergency (the window is applied here).
    pub emergencies: &'a [StatsEmergency],
    /// The follow-ups of those emergencies.
    pub followups: &'a [FollowUpClock],
    /// Canaries and verifications started since `since`.
    pub canaries: &'a [CanaryRun],
    /// Each lane's latest finished run.
    pub lanes: &'a [LaneRun],
    /// The drill recorded last in this repository's store.
    pub last_drill: Option<LastDrill>,
    /// The machine's cores, for what a lane would take with `--jobs` = cores.
    pub cores: usize,
    pub since: Timestamp,
    pub now: Timestamp,
}

/// A game day's result, as `fixlane drill` recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LastDrill {
    pub at: Timestamp,
    /// Whether every step behaved as the lifecycle promises.
    pub passed: bool,
    /// Whether it rehearsed a regression that the canary rolled back.
    pub regression: bool,
}

/// How many of a limit's declarations are used now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitUse {
    pub used: usize,
    pub max: u32,
    pub within: Duration,
}

/// One follow-up kind's record over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpFigures {
    pub kind: FollowUpKind,
    pub closed: usize,
    pub closed_on_time: usize,
    pub open: usize,
    pub overdue: usize,
}

/// Time from declaration to the symptom verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    pub count: usize,
    pub p50_seconds: i64,
    pub p90_seconds: i64,
    /// The four-keys "time to restore" bucket of the median.
    #[serde(deserialize_with = "restore_bucket_named")]
    pub bucket: Bucket,
}

/// Deploys through the canary, and how they ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deploys {
    /// Canaries (verifications excluded).
    pub total: usize,
    pub promoted: usize,
    pub rolled_back: usize,
    /// Canaries of an emergency.
    pub emergency: usize,
    /// Emergency deploys among all: the rework rate.
    pub rework_rate: Option<f64>,
    /// Rolled back among those that finished: the change failure rate.
    pub change_failure_rate: Option<f64>,
    /// Its four-keys bucket.
    #[serde(deserialize_with = "failure_bucket_named")]
    pub change_failure_bucket: Option<Bucket>,
}

/// Everything `fixlane stats` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub since: Timestamp,
    pub now: Timestamp,
    pub emergencies: usize,
    pub drills: usize,
    /// `(Monday of the week, UTC date, declarations)`, oldest first, weeks without any left out.
    pub per_week: Vec<(String, usize)>,
    /// `(author, declarations)`, most first.
    pub per_author: Vec<(String, usize)>,
    pub rate_limit: Option<LimitUse>,
    /// The author limit's use by its busiest author.
    pub author_limit: Option<(String, LimitUse)>,
    pub followups: Vec<FollowUpFigures>,
    pub recovery: Option<Recovery>,
    pub deploys: Deploys,
    /// The newest declaration or game day: when the lane was last exercised.
    pub last_exercised: Option<Timestamp>,
    /// The newest game day, with its result.
    pub last_drill: Option<LastDrill>,
    /// Whether that was more than [`STALE_AFTER_DAYS`] ago (or never).
    pub stale: bool,
    pub lanes: Vec<LaneFigures>,
}

/// The four-keys "time to restore service" bucket.
pub fn restore_bucket(seconds: i64) -> &'static str {
    match seconds {
        ..3_600 => RESTORE_BUCKETS[0],
        3_600..86_400 => RESTORE_BUCKETS[1],
        86_400..604_800 => RESTORE_BUCKETS[2],
        604_800..2_592_000 => RESTORE_BUCKETS[3],
        _ => RESTORE_BUCKETS[4],
    }
}

/// The four-keys change failure rate bucket.
pub fn failure_bucket(rate: f64) -> &'static str {
    if rate <= 0.15 {
        FAILURE_BUCKETS[0]
    } else if rate <= 0.30 {
        FAILURE_BUCKETS[1]
    } else if rate <= 0.45 {
        FAILURE_BUCKETS[2]
    } else {
        FAILURE_BUCKETS[3]
    }
}

/// A four-keys bucket's name. (Spelled through this alias, the figures read back from JSON
/// without borrowing from it: the name is matched to its constant.)
pub type Bucket = &'static str;

/// The "time to restore" buckets, as [`restore_bucket`] names them.
const RESTORE_BUCKETS: [Bucket; 5] = [
    "less than one hour",
    "less than one day",
    "less than one week",
    "less than one month",
    "more than one month",
];

/// The change failure rate buckets, as [`failure_bucket`] names them.
const FAILURE_BUCKETS: [Bucket; 4] = ["0-15%", "16-30%", "31-45%", "46-100%"];

/// One of `known`, read back from its name (figures sent by the team server).
fn bucket_named<'de, D: Deserializer<'de>>(
    deserializer: D,
    known: &[Bucket],
) -> Result<Bucket, D::Error> {
    let name = String::deserialize(deserializer)?;
    known
        .iter()
        .find(|bucket| **bucket == name)
        .copied()
        .ok_or_else(|| {
            serde::de::Error::custom(format!("`{name}` is not a four-keys bucket: {known:?}"))
        })
}

fn restore_bucket_named<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bucket, D::Error> {
    bucket_named(deserializer, &RESTORE_BUCKETS)
}

fn failure_bucket_named<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Bucket>, D::Error> {
    #[derive(Deserialize)]
    struct Named(#[serde(deserialize_with = "known_failure")] Bucket);
    fn known_failure<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bucket, D::Error> {
        bucket_named(deserializer, &FAILURE_BUCKETS)
    }
    Ok(Option::<Named>::deserialize(deserializer)?.map(|named| named.0))
}

/// The `p`th percentile (0–100) of sorted values, nearest rank.
fn percentile(sorted: &[i64], p: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The Monday that starts the (UTC) week of `at`, as a date.
fn week_of(at: Timestamp) -> String {
    // 1970-01-05 was a Monday: day 4 of the epoch.
    let day = at.as_second().div_euclid(86_400);
    let monday = (day - 4).div_euclid(7) * 7 + 4;
    Timestamp::from_second(monday * 86_400)
        .map(|start| start.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[expect(
    clippy::cast_precision_loss,
    reason = "counts of deploys, far below 2^52"
)]
fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn limit_use(
    limit: RateLimit,
    declared: impl Iterator<Item = Timestamp>,
    now: Timestamp,
) -> LimitUse {
    let window = i64::try_from(limit.within.as_seconds()).unwrap_or(i64::MAX);
    let used = declared
        .filter(|at| now.as_second().saturating_sub(at.as_second()) <= window)
        .count();
    LimitUse {
        used,
        max: limit.max,
        within: limit.within,
    }
}

/// Computes the figures.
pub fn compute(input: StatsInput<'_>) -> Stats {
    let StatsInput {
        config,
        emergencies,
        followups,
        canaries,
        lanes,
        cores,
        last_drill,
        since,
        now,
    } = input;
    let in_window: Vec<&StatsEmergency> = emergencies
        .iter()
        .filter(|emergency| emergency.declared_at >= since && emergency.declared_at <= now)
        .collect();
    let real: Vec<&StatsEmergency> = in_window.iter().copied().filter(|e| !e.drill).collect();

    let mut per_week: Vec<(String, usize)> = Vec::new();
    let mut weeks: Vec<String> = real.iter().map(|e| week_of(e.declared_at)).collect();
    weeks.sort();
    for week in weeks {
        match per_week.last_mut() {
            Some((last, count)) if *last == week => *count += 1,
            _ => per_week.push((week, 1)),
        }
    }
    let mut per_author: Vec<(String, usize)> = Vec::new();
    for emergency in &real {
        let author = emergency.author.to_string();
        match per_author.iter_mut().find(|(name, _)| *name == author) {
            Some((_, count)) => *count += 1,
            None => per_author.push((author, 1)),
        }
    }
    per_author.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));

    let all_real = || emergencies.iter().filter(|e| !e.drill);
    let rate_limit = config
        .emergency
        .rate_limit
        .map(|limit| limit_use(limit, all_real().map(|e| e.declared_at), now));
    let author_limit = config.emergency.author_limit.and_then(|limit| {
        per_author.first().map(|(author, _)| {
            let by = all_real()
                .filter(|e| e.author.as_str() == author)
                .map(|e| e.declared_at);
            (author.clone(), limit_use(limit, by, now))
        })
    });

    let window_ids: std::collections::HashSet<&IncidentId> =
        in_window.iter().map(|emergency| &emergency.id).collect();
    let counted: Vec<&FollowUpClock> = followups
        .iter()
        .filter(|followup| window_ids.contains(&followup.incident))
        .collect();
    let followup_figures = FollowUpKind::ALL
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<&&FollowUpClock> = counted.iter().filter(|f| f.kind == kind).collect();
            FollowUpFigures {
                kind,
                closed: of_kind.iter().filter(|f| !f.is_open()).count(),
                closed_on_time: of_kind
                    .iter()
                    .filter(|f| f.closed_at.is_some_and(|at| at <= f.due_at))
                    .count(),
                open: of_kind.iter().filter(|f| f.is_open()).count(),
                overdue: of_kind.iter().filter(|f| f.is_overdue(now)).count(),
            }
        })
        .filter(|figures| figures.closed + figures.open > 0)
        .collect();

    let mut recoveries: Vec<i64> = real
        .iter()
        .filter_map(|emergency| {
            let verified = emergency
                .timeline
                .iter()
                .find(|step| step.state == EmergencyState::Verified)?;
            Some(verified.at.as_second() - emergency.declared_at.as_second())
        })
        .collect();
    recoveries.sort_unstable();
    let recovery = (!recoveries.is_empty()).then(|| {
        let p50 = percentile(&recoveries, 50);
        Recovery {
            count: recoveries.len(),
            p50_seconds: p50,
            p90_seconds: percentile(&recoveries, 90),
            bucket: restore_bucket(p50),
        }
    });

    let deploys_only: Vec<&CanaryRun> = canaries
        .iter()
        .filter(|canary| !canary.profile.starts_with("verify "))
        .collect();
    let promoted = deploys_only
        .iter()
        .filter(|c| c.outcome.as_deref() == Some("promoted"))
        .count();
    let rolled_back = deploys_only
        .iter()
        .filter(|c| c.outcome.as_deref() == Some("rolled back"))
        .count();
    let emergency_deploys = deploys_only.iter().filter(|c| c.incident.is_some()).count();
    let change_failure_rate = ratio(rolled_back, promoted + rolled_back);
    let deploys = Deploys {
        total: deploys_only.len(),
        promoted,
        rolled_back,
        emergency: emergency_deploys,
        rework_rate: ratio(emergency_deploys, deploys_only.len()),
        change_failure_rate,
        change_failure_bucket: change_failure_rate.map(failure_bucket),
    };

    let last_exercised = emergencies
        .iter()
        .map(|e| e.declared_at)
        .chain(last_drill.map(|drill| drill.at))
        .max();
    let stale = last_exercised.is_none_or(|at| {
        now.as_second().saturating_sub(at.as_second()) > STALE_AFTER_DAYS * 86_400
    });
    Stats {
        since,
        now,
        emergencies: real.len(),
        drills: in_window.len() - real.len(),
        per_week,
        per_author,
        rate_limit,
        author_limit,
        followups: followup_figures,
        recovery,
        deploys,
        last_exercised,
        last_drill,
        stale,
        lanes: lanes
            .iter()
            .map(|run| LaneFigures {
                lane: run.lane.clone(),
                wall_ms: run.wall_ms,
                critical_path: critical_path(&run.gates),
                with_cores_ms: with_jobs(&run.gates, cores),
                cores,
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
