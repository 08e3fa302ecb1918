//! Change windows and freezes: whether a deploy at a given instant is inside a window of the
//! configured time zone, inside a freeze, and which bypasses an emergency must use to go ahead.
//!
//! Everything is computed in the configured zone's civil time, so a `09:00-17:00` window means
//! 09:00 on the wall clock on both sides of a daylight-saving change.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::config::model::{BypassElement, ChangeWindow, Freeze, Windows};
use crate::emergency::instead::Instead;
use crate::emergency::refusal::Refusal;

/// How far ahead the next opening of a change window is looked for.
const LOOKAHEAD_DAYS: i32 = 400;

/// Where an instant falls among the configured windows and freezes.
#[derive(Debug, Clone)]
pub struct WindowStanding {
    /// The instant on the configured zone's wall clock.
    pub local: DateTime,
    pub zone: String,
    /// The change window containing the instant, if any.
    pub change_window: Option<ChangeWindow>,
    /// The freeze containing the local date, if any.
    pub freeze: Option<Freeze>,
}

/// A deploy that may go ahead, with the bypasses it relied on (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployPermission {
    /// The bypasses the deploy relied on; empty when it is inside a window and outside freezes.
    pub bypassed: Vec<BypassElement>,
    /// What the bypasses allowed, in a sentence or two; empty when nothing was bypassed.
    pub note: String,
}

impl DeployPermission {
    fn record(&mut self, element: BypassElement, sentence: &str) {
        self.bypassed.push(element);
        if !self.note.is_empty() {
            self.note.push_str("; ");
        }
        self.note.push_str(sentence);
    }
}

/// The configured zone, from the time-zone database bundled into the binary, so the answer does
/// not depend on the host's files.
pub fn zone(windows: &Windows) -> Result<TimeZone, Refusal> {
    let name = windows.timezone.trim();
    jiff::tz::TimeZoneDatabase::bundled()
        .get(name)
        .or_else(|_| jiff::tz::db().get(name))
        .map_err(|error| {
            Refusal::new(
                "windows.timezone",
                "checking change windows and freezes",
                format!("windows.timezone `{name}` is not a known time zone: {error}"),
                Instead::advice(
                    "set windows.timezone to an IANA zone name such as `Asia/Kolkata`, \
                     `Europe/Berlin` or `UTC`",
                ),
            )
        })
}

/// Where `at` falls: local time, the change window containing it and the freeze containing its
/// local date.
pub fn standing(windows: &Windows, at: Timestamp) -> Result<WindowStanding, Refusal> {
    let zone = zone(windows)?;
    let local = zone.to_datetime(at);
    Ok(WindowStanding {
        local,
        zone: windows.timezone.trim().to_owned(),
        change_window: windows
            .change
            .iter()
            .find(|window| contains(window, local))
            .cloned(),
        freeze: freeze_on(windows, local.date()).cloned(),
    })
}

fn weekday_index(date: Date) -> u8 {
    u8::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(u8::MAX)
}

/// Whether a window contains the wall-clock time `local`. A window whose end is not after its
/// start runs overnight into the next day (`Fri 22:00-02:00` includes Saturday 01:00).
fn contains(window: &ChangeWindow, local: DateTime) -> bool {
    let time = local.time();
    let today = weekday_index(local.date());
    if window.start < window.end {
        return window.days.contains(&today) && window.start <= time && time < window.end;
    }
    let yesterday = (today + 6) % 7;
    (window.days.contains(&today) && time >= window.start)
        || (window.days.contains(&yesterday) && time < window.end)
}

fn freeze_on(windows: &Windows, date: Date) -> Option<&Freeze> {
    windows
        .freezes
        .iter()
        .find(|freeze| freeze.from <= date && date <= freeze.to)
}

/// Whether a deploy at `at` may go ahead given the bypasses recorded on its emergency (none for
/// a normal-lane deploy). No `[windows]` section means no restriction.
pub fn deploy_allowed(
    windows: Option<&Windows>,
    at: Timestamp,
    bypassed: &[BypassElement],
) -> Result<DeployPermission, Refusal> {
    let Some(windows) = windows else {
        return Ok(DeployPermission::default());
    };
    let zone = zone(windows)?;
    let now = standing(windows, at)?;
    let when = format!(
        "{} {} ({})",
        now.local.strftime("%Y-%m-%d %H:%M"),
        now.zone,
        now.local.strftime("%A")
    );
    let refused = format!("deploying at {when}");
    let mut permission = DeployPermission::default();

    if let Some(freeze) = &now.freeze {
        let described = format!(
            "the freeze `{}` from {} to {} (inclusive, {})",
            freeze.reason, freeze.from, freeze.to, now.zone
        );
        if !bypassed.contains(&BypassElement::Freeze) {
            // The freeze ends as the day after its last one begins.
            let until = freeze
                .to
                .tomorrow()
                .ok()
                .map(|date| date.to_datetime(jiff::civil::Time::midnight()));
            return Err(Refusal::new(
                "windows.freeze",
                refused,
                format!("{when} is inside {described}"),
                Instead::WaitForFreeze {
                    until,
                    zone: now.zone.clone(),
                },
            )
            .at(freeze.source));
        }
        permission.record(
            BypassElement::Freeze,
            &format!("deployed inside {described} under the `freeze` bypass"),
        );
    }

    if !windows.change.is_empty() && now.change_window.is_none() {
        let texts: Vec<String> = windows
            .change
            .iter()
            .map(|window| format!("`{}`", window.text))
            .collect();
        let texts = texts.join(", ");
        if !bypassed.contains(&BypassElement::Window) {
            let mut refusal = Refusal::new(
                "windows.change",
                refused,
                format!("{when} is outside every change window ({texts})"),
                Instead::DeployInWindow {
                    next: next_opening(windows, &zone, at),
                    zone: now.zone.clone(),
                },
            );
            if let Some(first) = windows.change.first() {
                refusal = refusal.at(first.source);
            }
            return Err(refusal);
        }
        permission.record(
            BypassElement::Window,
            &format!(
                "deployed at {when}, outside every change window ({texts}), under the `window` \
                 bypass"
            ),
        );
    }
    Ok(permission)
}

/// The first wall-clock start of a change window after `at` that is not inside a freeze.
fn next_opening(windows: &Windows, zone: &TimeZone, at: Timestamp) -> Option<DateTime> {
    let today = zone.to_datetime(at).date();
    (0..LOOKAHEAD_DAYS)
        .filter_map(|offset| today.checked_add(jiff::Span::new().days(offset)).ok())
        .filter(|date| freeze_on(windows, *date).is_none())
        .find_map(|date| {
            windows
                .change
                .iter()
                .filter(|window| window.days.contains(&weekday_index(date)))
                .map(|window| date.to_datetime(window.start))
                .filter(|start| zone.to_timestamp(*start).is_ok_and(|instant| instant > at))
                .min()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::SourceLine;
    use crate::emergency::test_support::at;
    use jiff::civil::{date, time};

    fn window(text: &str, days: &[u8], start: (i8, i8), end: (i8, i8)) -> ChangeWindow {
        ChangeWindow {
            text: text.to_owned(),
            days: days.to_vec(),
            start: time(start.0, start.1, 0, 0),
            end: time(end.0, end.1, 0, 0),
            source: SourceLine {
                line: 42,
                column: 10,
            },
        }
    }

    fn kolkata() -> Windows {
        Windows {
            timezone: "Asia/Kolkata".to_owned(),
            change: vec![window(
                "Mon-Thu 09:00-17:00",
                &[0, 1, 2, 3],
                (9, 0),
                (17, 0),
            )],
            freezes: vec![Freeze {
                from: date(2026, 12, 20),
                to: date(2027, 1, 3),
                reason: "holiday freeze".to_owned(),
                source: SourceLine {
                    line: 43,
                    column: 11,
                },
            }],
        }
    }

    fn new_york() -> Windows {
        Windows {
            timezone: "America/New_York".to_owned(),
            change: vec![window(
                "Mon-Fri 09:00-17:00",
                &[0, 1, 2, 3, 4],
                (9, 0),
                (17, 0),
            )],
            freezes: vec![],
        }
    }

    #[test]
    fn inside_a_kolkata_window_is_allowed() {
        // Wednesday 2026-05-20 10:00 IST is 04:30 UTC.
        let now = standing(&kolkata(), at("2026-05-20T04:30:00Z")).unwrap();
        assert_eq!(now.local, date(2026, 5, 20).at(10, 0, 0, 0));
        assert_eq!(
            now.change_window.map(|window| window.text),
            Some("Mon-Thu 09:00-17:00".to_owned())
        );
        assert!(now.freeze.is_none());
        let permission = deploy_allowed(Some(&kolkata()), at("2026-05-20T04:30:00Z"), &[]).unwrap();
        assert!(permission.bypassed.is_empty());
    }

    #[test]
    fn the_window_is_judged_on_the_zone_clock_not_utc() {
        // 03:00 UTC on Wednesday is 08:30 in Kolkata: before the window, although 03:00 UTC is
        // nowhere near any edge in UTC terms.
        let refusal =
            deploy_allowed(Some(&kolkata()), at("2026-05-20T03:00:00Z"), &[]).unwrap_err();
        assert_eq!(refusal.rule, "windows.change");
        // The end is exclusive: 17:00 IST (11:30 UTC) is outside.
        assert!(deploy_allowed(Some(&kolkata()), at("2026-05-20T11:30:00Z"), &[]).is_err());
        assert!(deploy_allowed(Some(&kolkata()), at("2026-05-20T11:29:00Z"), &[]).is_ok());
    }

    #[test]
    fn outside_a_window_is_refused_unless_the_window_is_bypassed() {
        // Saturday 2026-05-23 10:00 IST.
        let saturday = at("2026-05-23T04:30:00Z");
        let refusal = deploy_allowed(Some(&kolkata()), saturday, &[]).unwrap_err();
        assert_eq!(refusal.rule, "windows.change");
        assert!(refusal.why.contains("Mon-Thu 09:00-17:00"));
        assert_eq!(refusal.config_line.map(|line| line.line), Some(42));
        assert_eq!(
            *refusal.instead,
            Instead::DeployInWindow {
                next: Some(date(2026, 5, 25).at(9, 0, 0, 0)),
                zone: "Asia/Kolkata".to_owned()
            }
        );
        insta::assert_snapshot!(refusal.to_string());

        let permission =
            deploy_allowed(Some(&kolkata()), saturday, &[BypassElement::Window]).unwrap();
        assert_eq!(permission.bypassed, [BypassElement::Window]);
        // Another element does not stand in for the window.
        assert!(deploy_allowed(Some(&kolkata()), saturday, &[BypassElement::Freeze]).is_err());
    }

    #[test]
    fn a_freeze_spanning_new_year_is_refused_unless_bypassed() {
        // Monday 2026-12-28 10:00 IST: inside the window, inside the freeze.
        let inside = at("2026-12-28T04:30:00Z");
        let refusal = deploy_allowed(Some(&kolkata()), inside, &[]).unwrap_err();
        assert_eq!(refusal.rule, "windows.freeze");
        assert!(refusal.why.contains("holiday freeze"));
        assert_eq!(refusal.config_line.map(|line| line.line), Some(43));
        assert_eq!(
            *refusal.instead,
            Instead::WaitForFreeze {
                until: Some(date(2027, 1, 4).at(0, 0, 0, 0)),
                zone: "Asia/Kolkata".to_owned()
            }
        );
        insta::assert_snapshot!(refusal.to_string());
        let permission =
            deploy_allowed(Some(&kolkata()), inside, &[BypassElement::Freeze]).unwrap();
        assert_eq!(permission.bypassed, [BypassElement::Freeze]);

        // New Year's Day and the last day are frozen; the day after is not.
        let day = |text: &str| standing(&kolkata(), at(text)).unwrap().freeze.is_some();
        assert!(day("2027-01-01T04:30:00Z"));
        assert!(day("2027-01-03T18:00:00Z")); // 23:30 IST on the 3rd
        assert!(!day("2027-01-03T18:30:00Z")); // 00:00 IST on the 4th
        // 18:40 UTC on the 19th is already 00:10 on the 20th in Kolkata.
        assert!(!day("2026-12-19T18:00:00Z"));
        assert!(day("2026-12-19T18:40:00Z"));
    }

    #[test]
    fn a_frozen_weekend_needs_both_bypasses() {
        // Saturday 2027-01-02: outside the window and inside the freeze.
        let saturday = at("2027-01-02T04:30:00Z");
        let refusal =
            deploy_allowed(Some(&kolkata()), saturday, &[BypassElement::Freeze]).unwrap_err();
        assert_eq!(refusal.rule, "windows.change");
        let refusal =
            deploy_allowed(Some(&kolkata()), saturday, &[BypassElement::Window]).unwrap_err();
        assert_eq!(refusal.rule, "windows.freeze");
        let permission = deploy_allowed(
            Some(&kolkata()),
            saturday,
            &[BypassElement::Window, BypassElement::Freeze],
        )
        .unwrap();
        assert_eq!(
            permission.bypassed,
            [BypassElement::Freeze, BypassElement::Window]
        );
        assert!(permission.note.contains("holiday freeze"));
        assert!(permission.note.contains("`window` bypass"));
        // The next opening skips the rest of the freeze: Monday 2027-01-04.
        let refusal =
            deploy_allowed(Some(&kolkata()), saturday, &[BypassElement::Freeze]).unwrap_err();
        assert!(
            refusal.instead.to_string().contains("2027-01-04 09:00"),
            "{refusal}"
        );
    }

    #[test]
    fn windows_follow_the_wall_clock_across_daylight_saving() {
        // New York springs forward on Sunday 2026-03-08. On Monday 2026-03-09, 09:30 EDT is
        // 13:30 UTC: inside the window.
        let after = at("2026-03-09T13:30:00Z");
        let now = standing(&new_york(), after).unwrap();
        assert_eq!(now.local, date(2026, 3, 9).at(9, 30, 0, 0));
        assert!(now.change_window.is_some());
        assert!(deploy_allowed(Some(&new_york()), after, &[]).is_ok());
        // A week earlier the same UTC time, 13:30, is 08:30 EST: before the window.
        let before = at("2026-03-02T13:30:00Z");
        let now = standing(&new_york(), before).unwrap();
        assert_eq!(now.local, date(2026, 3, 2).at(8, 30, 0, 0));
        assert!(now.change_window.is_none());
        assert!(deploy_allowed(Some(&new_york()), before, &[]).is_err());
        // And 09:30 EST that Monday is 14:30 UTC.
        assert!(deploy_allowed(Some(&new_york()), at("2026-03-02T14:30:00Z"), &[]).is_ok());
    }

    #[test]
    fn an_overnight_window_runs_into_the_next_day() {
        let windows = Windows {
            timezone: "UTC".to_owned(),
            change: vec![window("Fri 22:00-02:00", &[4], (22, 0), (2, 0))],
            freezes: vec![],
        };
        // Friday 2026-05-22 23:00 and Saturday 01:00 are inside; Saturday 22:30 is not.
        assert!(deploy_allowed(Some(&windows), at("2026-05-22T23:00:00Z"), &[]).is_ok());
        assert!(deploy_allowed(Some(&windows), at("2026-05-23T01:00:00Z"), &[]).is_ok());
        assert!(deploy_allowed(Some(&windows), at("2026-05-23T22:30:00Z"), &[]).is_err());
    }

    #[test]
    fn no_windows_section_allows_everything() {
        let permission = deploy_allowed(None, at("2026-12-25T03:00:00Z"), &[]).unwrap();
        assert_eq!(permission, DeployPermission::default());
    }

    #[test]
    fn freezes_alone_do_not_restrict_the_time_of_day() {
        let mut windows = kolkata();
        windows.change.clear();
        assert!(deploy_allowed(Some(&windows), at("2026-05-23T20:00:00Z"), &[]).is_ok());
        assert!(deploy_allowed(Some(&windows), at("2026-12-25T20:00:00Z"), &[]).is_err());
    }

    #[test]
    fn an_unknown_zone_is_a_refusal_not_a_panic() {
        let mut windows = kolkata();
        windows.timezone = "Mars/Olympus_Mons".to_owned();
        let refusal = standing(&windows, at("2026-05-20T04:30:00Z")).unwrap_err();
        assert_eq!(refusal.rule, "windows.timezone");
        assert!(refusal.why.contains("Mars/Olympus_Mons"));
        assert!(deploy_allowed(Some(&windows), at("2026-05-20T04:30:00Z"), &[]).is_err());
    }
}
