//! The chart of emergency frequency: declarations per week over the last [`WEEKS`] weeks, as
//! bars of a server-rendered SVG. Weeks start on Monday in the configured time zone, so a
//! declaration late on a Sunday evening counts where the team would count it. Drills are not
//! emergencies and are not counted.
//!
//! This module only measures; the template draws (`templates/dashboard/chart.svg.html`), so every
//! label goes through the same escaping as the rest of the page.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

/// How many weeks the chart covers, the current one last.
pub const WEEKS: usize = 12;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 200;
const LEFT: u32 = 36;
const RIGHT: u32 = 8;
const TOP: u32 = 16;
const BOTTOM: u32 = 36;
const GAP: u32 = 8;

/// One week's count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    pub monday: Date,
    pub count: usize,
}

/// The Monday of the week `at` falls in, in `zone`.
fn monday_of(at: Timestamp, zone: &TimeZone) -> Date {
    let date = at.to_zoned_datetime(zone.clone()).date();
    let back = i64::from(date.weekday().since(Weekday::Monday));
    date.checked_sub(jiff::Span::new().days(back))
        .unwrap_or(date)
}

/// Declarations per week, the `weeks` weeks up to the one holding `now`, oldest first.
pub fn weekly(declared: &[Timestamp], zone: &TimeZone, now: Timestamp, weeks: usize) -> Vec<Week> {
    let this_week = monday_of(now, zone);
    let mut out: Vec<Week> = (0..weeks)
        .rev()
        .filter_map(|back| {
            let days = i64::try_from(back * 7).ok()?;
            this_week
                .checked_sub(jiff::Span::new().days(days))
                .ok()
                .map(|monday| Week { monday, count: 0 })
        })
        .collect();
    for at in declared {
        let monday = monday_of(*at, zone);
        if let Some(week) = out.iter_mut().find(|week| week.monday == monday) {
            week.count += 1;
        }
    }
    out
}

/// One bar, in SVG user units.
#[derive(Debug, Clone)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// The label under the bar (`May 18`).
    pub label: String,
    pub count: usize,
    /// The bar's tooltip, a whole sentence.
    pub title: String,
    /// The label's x (the bar's middle).
    pub middle: u32,
}

/// The chart as the template draws it.
#[derive(Debug, Clone)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    /// The y of the baseline and of the top of the scale.
    pub baseline: u32,
    pub top: u32,
    pub left: u32,
    pub right_edge: u32,
    /// The count the top of the scale stands for.
    pub max: usize,
    pub total: usize,
    /// What the chart says, for a reader that cannot see it.
    pub summary: String,
}

impl Chart {
    pub fn of(weeks: &[Week]) -> Self {
        let max = weeks
            .iter()
            .map(|week| week.count)
            .max()
            .unwrap_or(0)
            .max(1);
        let total = weeks.iter().map(|week| week.count).sum();
        let plot_width = WIDTH - LEFT - RIGHT;
        let plot_height = HEIGHT - TOP - BOTTOM;
        let slots = u32::try_from(weeks.len().max(1)).unwrap_or(1);
        let slot = plot_width / slots;
        let baseline = HEIGHT - BOTTOM;
        let bars = weeks
            .iter()
            .zip(0_u32..)
            .map(|(week, index)| {
                let count = u32::try_from(week.count).unwrap_or(u32::MAX);
                let max = u32::try_from(max).unwrap_or(u32::MAX);
                let height = plot_height.saturating_mul(count) / max;
                let x = LEFT + index * slot + GAP / 2;
                let noun = if week.count == 1 {
                    "emergency"
                } else {
                    "emergencies"
                };
                Bar {
                    x,
                    y: baseline - height,
                    width: slot - GAP,
                    height,
                    label: week.monday.strftime("%b %-d").to_string(),
                    count: week.count,
                    title: format!(
                        "Week of {}: {} {noun} declared.",
                        week.monday.strftime("%Y-%m-%d"),
                        week.count
                    ),
                    middle: x + (slot - GAP) / 2,
                }
            })
            .collect();
        let summary = format!(
            "{total} {} declared in the last {} weeks, at most {max} in one week.",
            if total == 1 {
                "emergency"
            } else {
                "emergencies"
            },
            weeks.len(),
        );
        Self {
            width: WIDTH,
            height: HEIGHT,
            bars,
            baseline,
            top: TOP,
            left: LEFT,
            right_edge: WIDTH - RIGHT,
            max,
            total,
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn declarations_count_in_their_week_in_the_configured_zone() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // Wednesday 2026-05-20; the week began Monday 2026-05-18.
        let now = at("2026-05-20T10:00:00Z");
        let declared = [
            at("2026-05-18T08:00:00Z"),
            at("2026-05-19T08:00:00Z"),
            // Sunday 23:30 in Berlin is still the week before; in UTC it is too.
            at("2026-05-17T21:30:00Z"),
            // Monday 00:30 in Berlin, Sunday 22:30 UTC: the week of May 11 in Berlin, the
            // week before in UTC.
            at("2026-05-10T22:30:00Z"),
            // Older than twelve weeks: not on the chart.
            at("2026-01-01T00:00:00Z"),
        ];
        let weeks = weekly(&declared, &berlin, now, WEEKS);
        assert_eq!(weeks.len(), WEEKS);
        assert_eq!(weeks[11].monday, jiff::civil::date(2026, 5, 18));
        assert_eq!(weeks[0].monday, jiff::civil::date(2026, 3, 2));
        let counts: Vec<usize> = weeks.iter().map(|week| week.count).collect();
        assert_eq!(counts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2]);

        let utc = weekly(&declared, &TimeZone::UTC, now, WEEKS);
        let counts: Vec<usize> = utc.iter().map(|week| week.count).collect();
        assert_eq!(counts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    }

    #[test]
    fn bars_scale_to_the_busiest_week() {
        let monday = jiff::civil::date(2026, 5, 18);
        let weeks = [
            Week {
                monday: jiff::civil::date(2026, 5, 11),
                count: 1,
            },
            Week { monday, count: 4 },
        ];
        let chart = Chart::of(&weeks);
        assert_eq!(chart.max, 4);
        assert_eq!(chart.total, 5);
        assert_eq!(chart.bars[1].y, chart.top);
        assert_eq!(chart.bars[1].height, chart.baseline - chart.top);
        assert_eq!(chart.bars[0].height * 4, chart.bars[1].height);
        assert_eq!(chart.bars[1].label, "May 18");
        assert_eq!(
            chart.bars[1].title,
            "Week of 2026-05-18: 4 emergencies declared."
        );
        let empty = Chart::of(&[Week { monday, count: 0 }]);
        assert_eq!(empty.bars[0].height, 0);
        assert_eq!(empty.max, 1);
    }
}
