//! The figures on plain data: weeks and authors, limits, follow-ups on time, recovery
//! percentiles and buckets, rework and change failure rates, and a stale lane.

use super::*;
use crate::critical_path::TimedGate;
use crate::emergency::Transition;
use crate::emergency::test_support::{at, config, person, sample};
use crate::followup::Evidence;

fn emergency(
    id: &str,
    author: &str,
    declared: &str,
    verified: Option<&str>,
    drill: bool,
) -> StatsEmergency {
    let mut emergency = sample();
    emergency.id = IncidentId::parse(id).unwrap();
    emergency.author = person(author);
    emergency.declared_at = at(declared);
    emergency.drill = drill;
    if let Some(verified) = verified {
        emergency.state = EmergencyState::Verified;
        emergency.timeline.push(Transition {
            state: EmergencyState::Verified,
            at: at(verified),
            by: author.to_owned(),
            note: None,
        });
    }
    // What `stats` reads is the stored record: the narrow view parses from it as it converts.
    let narrow = StatsEmergency::from(&emergency);
    let stored = serde_json::to_string(&emergency).unwrap();
    assert_eq!(
        serde_json::from_str::<StatsEmergency>(&stored).unwrap(),
        narrow
    );
    narrow
}

fn followup(kind: FollowUpKind, due: &str, closed: Option<&str>) -> FollowUp {
    FollowUp {
        kind,
        owner: person("bob"),
        opened_at: at("2026-11-01T00:00:00Z"),
        due_at: at(due),
        closed_at: closed.map(at),
        closed_by: closed.map(|_| person("bob")),
        evidence: Evidence::default(),
    }
}

fn canary(incident: Option<&str>, outcome: &str) -> CanaryRun {
    CanaryRun {
        incident: incident.map(|id| IncidentId::parse(id).unwrap()),
        profile: "compressed".into(),
        outcome: Some(outcome.into()),
        started_at: at("2026-11-20T00:00:00Z"),
    }
}

fn figures() -> Stats {
    let config = config();
    let emergencies = vec![
        // Monday 2026-11-16 and Wednesday 2026-11-18: one week; 2026-11-24: the next.
        emergency(
            "INC-1",
            "bob",
            "2026-11-16T10:00:00Z",
            Some("2026-11-16T10:30:00Z"),
            false,
        ),
        emergency(
            "INC-2",
            "bob",
            "2026-11-18T10:00:00Z",
            Some("2026-11-18T14:00:00Z"),
            false,
        ),
        emergency("INC-3", "alice", "2026-11-24T10:00:00Z", None, false),
        emergency("INC-4", "alice", "2026-11-25T10:00:00Z", None, true),
        // Before the window.
        emergency("INC-0", "carol", "2026-06-01T10:00:00Z", None, false),
    ];
    let id = |text: &str| IncidentId::parse(text).unwrap();
    let followups = [
        (
            id("INC-1"),
            followup(
                FollowUpKind::Cleanup,
                "2026-11-17T10:00:00Z",
                Some("2026-11-17T09:00:00Z"),
            ),
        ),
        (
            id("INC-2"),
            followup(
                FollowUpKind::Cleanup,
                "2026-11-19T10:00:00Z",
                Some("2026-11-20T09:00:00Z"),
            ),
        ),
        (
            id("INC-3"),
            followup(FollowUpKind::Postmortem, "2026-11-26T10:00:00Z", None),
        ),
        (
            id("INC-0"),
            followup(FollowUpKind::Postmortem, "2026-06-03T10:00:00Z", None),
        ),
    ];
    let canaries = vec![
        canary(Some("INC-1"), "promoted"),
        canary(Some("INC-2"), "rolled back"),
        canary(None, "promoted"),
        canary(None, "promoted"),
        CanaryRun {
            profile: "verify error-rate".into(),
            ..canary(Some("INC-1"), "recovered")
        },
    ];
    let followups: Vec<FollowUpClock> = followups
        .iter()
        .map(|(id, followup)| FollowUpClock::of(id, followup))
        .collect();
    compute(StatsInput {
        config: &config,
        emergencies: &emergencies,
        followups: &followups,
        canaries: &canaries,
        lanes: &[],
        last_drill: None,
        cores: 2,
        since: at("2026-09-01T00:00:00Z"),
        now: at("2026-11-30T12:00:00Z"),
    })
}

#[test]
fn declarations_per_week_and_author_leave_drills_and_older_ones_out() {
    let stats = figures();
    assert_eq!(stats.emergencies, 3);
    assert_eq!(stats.drills, 1);
    assert_eq!(
        stats.per_week,
        vec![("2026-11-16".to_owned(), 2), ("2026-11-23".to_owned(), 1)]
    );
    assert_eq!(
        stats.per_author,
        vec![("bob".to_owned(), 2), ("alice".to_owned(), 1)]
    );
    // The config allows 3 in 7d and 4 in 90d: INC-3 alone is within 7 days of now.
    let rate = stats.rate_limit.unwrap();
    assert_eq!((rate.used, rate.max), (1, 3));
    let (author, limit) = stats.author_limit.unwrap();
    assert_eq!((author.as_str(), limit.used, limit.max), ("bob", 2, 4));
}

#[test]
fn follow_ups_count_closed_on_time_open_and_overdue_in_the_window() {
    let stats = figures();
    let cleanup = stats
        .followups
        .iter()
        .find(|f| f.kind == FollowUpKind::Cleanup)
        .unwrap();
    assert_eq!(
        (cleanup.closed, cleanup.closed_on_time, cleanup.open),
        (2, 1, 0)
    );
    let postmortem = stats
        .followups
        .iter()
        .find(|f| f.kind == FollowUpKind::Postmortem)
        .unwrap();
    // INC-0's is outside the window.
    assert_eq!((postmortem.open, postmortem.overdue), (1, 1));
}

#[test]
fn recovery_percentiles_and_the_deploy_rates_with_their_buckets() {
    let stats = figures();
    let recovery = stats.recovery.unwrap();
    assert_eq!(recovery.count, 2);
    assert_eq!(recovery.p50_seconds, 1_800);
    assert_eq!(recovery.p90_seconds, 14_400);
    assert_eq!(recovery.bucket, "less than one hour");
    let deploys = &stats.deploys;
    assert_eq!(
        (
            deploys.total,
            deploys.promoted,
            deploys.rolled_back,
            deploys.emergency
        ),
        (4, 3, 1, 2)
    );
    assert_eq!(deploys.rework_rate, Some(0.5));
    assert_eq!(deploys.change_failure_rate, Some(0.25));
    assert_eq!(deploys.change_failure_bucket, Some("16-30%"));
    assert!(!stats.stale);
}

#[test]
fn a_lane_unexercised_for_ninety_days_is_stale() {
    let config = config();
    let old = [emergency(
        "INC-1",
        "bob",
        "2026-06-01T10:00:00Z",
        None,
        true,
    )];
    let stats = compute(StatsInput {
        config: &config,
        emergencies: &old,
        followups: &[],
        canaries: &[],
        lanes: &[],
        last_drill: None,
        cores: 2,
        since: at("2026-09-01T00:00:00Z"),
        now: at("2026-11-30T12:00:00Z"),
    });
    assert!(stats.stale);
    assert_eq!(stats.last_exercised, Some(at("2026-06-01T10:00:00Z")));
    let never = compute(StatsInput {
        emergencies: &[],
        ..StatsInput {
            config: &config,
            emergencies: &old,
            followups: &[],
            canaries: &[],
            lanes: &[],
            last_drill: None,
            cores: 2,
            since: at("2026-09-01T00:00:00Z"),
            now: at("2026-11-30T12:00:00Z"),
        }
    });
    assert!(never.stale && never.last_exercised.is_none());
    assert_eq!(never.deploys.rework_rate, None);
    assert_eq!(never.recovery, None);
}

#[test]
fn buckets_follow_the_four_keys_bounds() {
    assert_eq!(restore_bucket(59 * 60), "less than one hour");
    assert_eq!(restore_bucket(3_600), "less than one day");
    assert_eq!(restore_bucket(86_400 * 8), "less than one month");
    assert_eq!(restore_bucket(86_400 * 40), "more than one month");
    assert_eq!(failure_bucket(0.15), "0-15%");
    assert_eq!(failure_bucket(0.5), "46-100%");
}

#[test]
fn a_lane_is_shown_against_its_critical_path_and_its_cores() {
    let config = config();
    let gate = |name: &str, needs: &[&str], duration_ms| TimedGate {
        name: crate::GateName::parse(name).unwrap(),
        needs: needs
            .iter()
            .map(|need| crate::GateName::parse(need).unwrap())
            .collect(),
        duration_ms,
    };
    let lanes = [LaneRun {
        lane: "normal".into(),
        wall_ms: 100_000,
        gates: vec![
            gate("build", &[], 20_000),
            gate("docs", &[], 50_000),
            gate("unit", &["build"], 40_000),
        ],
    }];
    let stats = compute(StatsInput {
        config: &config,
        emergencies: &[],
        followups: &[],
        canaries: &[],
        lanes: &lanes,
        last_drill: None,
        cores: 2,
        since: at("2026-09-01T00:00:00Z"),
        now: at("2026-11-30T12:00:00Z"),
    });
    let lane = &stats.lanes[0];
    assert_eq!(lane.critical_path.total_ms, 60_000);
    assert_eq!(lane.with_cores_ms, 60_000);
    assert_eq!(lane.wall_ms, 100_000);
}

#[test]
fn a_recent_drill_keeps_the_lane_exercised() {
    let config = config();
    let old = [emergency(
        "INC-1",
        "bob",
        "2026-06-01T10:00:00Z",
        None,
        false,
    )];
    let drill = LastDrill {
        at: at("2026-11-20T09:00:00Z"),
        passed: true,
        regression: false,
    };
    let stats = compute(StatsInput {
        config: &config,
        emergencies: &old,
        followups: &[],
        canaries: &[],
        lanes: &[],
        last_drill: Some(drill),
        cores: 2,
        since: at("2026-09-01T00:00:00Z"),
        now: at("2026-11-30T12:00:00Z"),
    });
    assert!(!stats.stale);
    assert_eq!(stats.last_exercised, Some(drill.at));
    assert_eq!(stats.last_drill, Some(drill));
    // A drill counts toward nothing else: no emergencies in the window.
    assert_eq!(stats.emergencies, 0);
}

#[test]
fn the_figures_read_back_from_their_json_as_the_team_server_sends_them() {
    let stats = figures();
    let text = serde_json::to_string_pretty(&stats).unwrap();
    let read: Stats = serde_json::from_str(&text).unwrap();
    assert_eq!(read, stats);
    assert_eq!(serde_json::to_string_pretty(&read).unwrap(), text);
    // A bucket no version of fixlane names is not read as one.
    let altered = text.replace("16-30%", "16-31%");
    let error = serde_json::from_str::<Stats>(&altered).unwrap_err();
    assert!(
        error.to_string().contains("not a four-keys bucket"),
        "{error}"
    );
}
