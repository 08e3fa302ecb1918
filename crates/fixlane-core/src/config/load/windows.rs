//! `[windows]`: when normal changes may deploy (`"Mon-Thu 09:00-17:00"`) and when nothing may
//! (freezes). The time zone stays text: resolving it needs the tz database, which is I/O.

use jiff::civil::{Date, Time};

use super::reader::{Reader, Value};
use crate::config::model::{ChangeWindow, Freeze, Windows};

const KEYS: [&str; 3] = ["timezone", "change", "freezes"];
const FREEZE_KEYS: [&str; 3] = ["from", "to", "reason"];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub(super) fn read_windows(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Windows> {
    let fields = reader.table(value, "windows", &KEYS)?;
    let timezone = fields
        .require(
            reader,
            "timezone",
            "an IANA time zone like \"Europe/Berlin\"",
        )
        .and_then(|value| reader.text(value, "windows.timezone"));
    let change = match fields.get("change") {
        Some(value) => read_change(reader, value),
        None => Some(Vec::new()),
    };
    let freezes = match fields.get("freezes") {
        Some(value) => read_freezes(reader, value),
        None => Some(Vec::new()),
    };
    Some(Windows {
        timezone: timezone?,
        change: change?,
        freezes: freezes?,
    })
}

fn read_change(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Vec<ChangeWindow>> {
    let texts = reader.strings(value, "windows.change")?;
    let mut windows = Vec::with_capacity(texts.len());
    let mut complete = true;
    for text in texts {
        match parse_change_window(text.get_ref()) {
            Ok((days, start, end)) => windows.push(ChangeWindow {
                text: text.get_ref().clone(),
                days,
                start,
                end,
                source: reader.position(text.span().start),
            }),
            Err(why) => {
                complete = false;
                reader.error(
                    text.span(),
                    "a change window like \"Mon-Thu 09:00-17:00\" in `windows.change`",
                    format!("`{}` ({why})", text.get_ref()),
                    Some(
                        "write days (`Mon-Thu`, `Sat,Sun` or `Fri`), a space, then `HH:MM-HH:MM` in local time"
                            .to_owned(),
                    ),
                );
            }
        }
    }
    complete.then_some(windows)
}

fn day_index(text: &str) -> Result<u8, String> {
    let lower = text.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|day| *day == lower)
        .or_else(|| FULL_DAYS.iter().position(|day| *day == lower))
        .and_then(|index| u8::try_from(index).ok())
        .ok_or_else(|| {
            format!(
                "`{}` is not a day; use Mon, Tue, Wed, Thu, Fri, Sat or Sun",
                text.trim()
            )
        })
}

fn parse_time(text: &str) -> Result<Time, String> {
    let bad = || format!("`{text}` is not a time; use 24-hour `HH:MM`");
    let (hour, minute) = text.split_once(':').ok_or_else(bad)?;
    if hour.is_empty() || hour.len() > 2 || minute.len() != 2 {
        return Err(bad());
    }
    let hour: i8 = hour.parse().map_err(|_| bad())?;
    let minute: i8 = minute.parse().map_err(|_| bad())?;
    if hour == 24 && minute == 0 {
        // "until midnight": the last instant of the day.
        return Ok(Time::MAX);
    }
    Time::new(hour, minute, 0, 0).map_err(|_| bad())
}

/// `"Mon-Thu 09:00-17:00"` → days (Monday = 0), start, end.
pub(super) fn parse_change_window(text: &str) -> Result<(Vec<u8>, Time, Time), String> {
    let mut parts = text.split_whitespace();
    let (Some(days_text), Some(times_text), None) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("expected days and a time range separated by one space".to_owned());
    };
    let mut days = Vec::new();
    for item in days_text.split(',') {
        if let Some((first, last)) = item.split_once('-') {
            let first = day_index(first)?;
            let last = day_index(last)?;
            // A range may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon.
            let mut day = first;
            loop {
                days.push(day);
                if day == last {
                    break;
                }
                day = (day + 1) % 7;
            }
        } else {
            days.push(day_index(item)?);
        }
    }
    days.sort_unstable();
    days.dedup();
    let (start, end) = times_text
        .split_once('-')
        .ok_or_else(|| format!("`{times_text}` is not a time range; use `HH:MM-HH:MM`"))?;
    let start = parse_time(start)?;
    let end = parse_time(end)?;
    if start >= end {
        return Err(
            "the window ends before it starts; split an overnight window into two entries"
                .to_owned(),
        );
    }
    Ok((days, start, end))
}

fn read_freezes(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Vec<Freeze>> {
    let items = reader.array(value, "windows.freezes")?;
    let mut freezes = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items {
        let Some(fields) = reader.table(item, "windows.freezes", &FREEZE_KEYS) else {
            complete = false;
            continue;
        };
        let from = fields
            .require(reader, "from", "the first frozen day, like \"2026-12-20\"")
            .and_then(|value| read_date(reader, value, "windows.freezes.from"));
        let to = fields
            .require(reader, "to", "the last frozen day, like \"2027-01-03\"")
            .and_then(|value| read_date(reader, value, "windows.freezes.to"));
        let reason = fields
            .require(reader, "reason", "why nothing may deploy")
            .and_then(|value| reader.text(value, "windows.freezes.reason"));
        if let (Some(from), Some(to), Some(value)) = (from, to, fields.get("to"))
            && to < from
        {
            complete = false;
            reader.error(
                value.span(),
                format!("a `to` on or after `from` ({from})"),
                format!("{to}"),
                Some("`to` is the last frozen day, inclusive".to_owned()),
            );
            continue;
        }
        match (from, to, reason) {
            (Some(from), Some(to), Some(reason)) => freezes.push(Freeze {
                from,
                to,
                reason,
                source: reader.position(item.span().start),
            }),
            _ => complete = false,
        }
    }
    complete.then_some(freezes)
}

/// A calendar date, written as a TOML date (`2026-12-20`) or a string (`"2026-12-20"`).
fn read_date(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<Date> {
    let parsed = match value.get_ref() {
        toml::de::DeValue::Datetime(datetime) => match (datetime.date, datetime.time) {
            (Some(date), None) => Date::new(
                i16::try_from(date.year).unwrap_or(i16::MAX),
                i8::try_from(date.month).unwrap_or(i8::MAX),
                i8::try_from(date.day).unwrap_or(i8::MAX),
            )
            .ok(),
            _ => None,
        },
        toml::de::DeValue::String(text) => parse_date(text),
        _ => None,
    };
    if parsed.is_none() {
        let found = reader.describe(value);
        reader.error(
            value.span(),
            format!("a date like `2026-12-20` for `{path}`"),
            found,
            None,
        );
    }
    parsed
}

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()
}
