//! The working-day calendar for England and Wales.
//!
//! A working day is a Monday to Friday that is not a bank holiday in England
//! and Wales. The bank holidays are data, not code: the crate ships
//! `data/bank-holidays-england-and-wales.json`, the list published by the UK
//! government for 2018 to 2027, with 2028 projected from the usual rules
//! *(check: 2028 had not been published when the list was written; one-off
//! holidays such as a jubilee or a state funeral are announced at short
//! notice)*. **Refresh the file every year** when the next year's dates are
//! published, and re-run this crate's tests, which cross-check every date
//! against the rules that produce them.
//!
//! Administrators can add holidays without a new release:
//! [`WorkingCalendar::with_extra_holidays`] adds single days (a local
//! closure, a newly announced one-off bank holiday), and
//! [`WorkingCalendar::from_json`] loads a whole replacement list, either in
//! this crate's format or the GOV.UK `bank-holidays.json` file itself (its
//! `england-and-wales` entry is used).
//!
//! The file format is
//!
//! ```json
//! {"division": "england-and-wales", "source": "where the list came from",
//!  "events": [{"title": "Good Friday", "date": "2025-04-18"}]}
//! ```
//!
//! with an optional `"notes"` on each event. The list is taken to be complete
//! for every year from its first event's year to its last: [`known_from`]
//! and [`known_until`] say so, and every year in between must have at least
//! one event. Dates outside that range are computed from weekends alone, and
//! deadlines that reach them say so (`calendar_incomplete`).
//!
//! [`known_from`]: WorkingCalendar::known_from
//! [`known_until`]: WorkingCalendar::known_until

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

/// The shipped list of England and Wales bank holidays: published dates for
/// 2018 to 2027, and 2028 projected from the usual rules *(check)*.
pub const ENGLAND_AND_WALES_JSON: &str =
    include_str!("../data/bank-holidays-england-and-wales.json");

/// Calendar files larger than this are refused before parsing. The GOV.UK
/// file for all three UK divisions is about 20 KB.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// A calendar may list at most this many holidays.
pub const MAX_EVENTS: usize = 10_000;

/// The years a calendar file may contain. Anything else is a typing mistake.
pub const YEARS_ACCEPTED: std::ops::RangeInclusive<i32> = 1900..=2199;

/// One bank holiday (or other day that is not a working day).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Holiday {
    /// The day off, as a date in England and Wales.
    pub date: NaiveDate,
    /// Its name, e.g. "Boxing Day (substitute day)".
    pub title: String,
    /// Anything else the list says about it, e.g. "(check) projected".
    pub notes: Option<String>,
}

impl Holiday {
    /// A holiday with a title and no notes.
    pub fn new(date: NaiveDate, title: impl Into<String>) -> Self {
        Holiday {
            date,
            title: title.into(),
            notes: None,
        }
    }
}

/// Why a calendar list could not be loaded. Each message is one sentence an
/// administrator can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The input was empty or only white space.
    #[error(
        "the bank holiday list is empty: expected a JSON object with \"division\" and \"events\""
    )]
    Empty,
    /// The input is larger than [`MAX_JSON_BYTES`].
    #[error("the bank holiday list is {size} bytes, more than the {max} bytes allowed")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not JSON, or not JSON of the expected shape.
    #[error("the bank holiday list could not be read: {0}")]
    Json(String),
    /// The GOV.UK-style file has no `england-and-wales` entry.
    #[error("the bank holiday list has neither \"events\" nor an \"england-and-wales\" entry")]
    NoDivision,
    /// The list has no events at all.
    #[error("the bank holiday list has no events")]
    NoEvents,
    /// The list has more than [`MAX_EVENTS`] events.
    #[error("the bank holiday list has {count} events, more than the {max} allowed")]
    TooManyEvents {
        /// Number of events in the input.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An event's title is empty.
    #[error("event {index} (dated {date:?}) has an empty title")]
    EmptyTitle {
        /// Position in the list, counting from 1.
        index: usize,
        /// The date as written.
        date: String,
    },
    /// An event's date is not a real date in the form YYYY-MM-DD.
    #[error("event {index} ({title:?}): {date:?} is not a real date in the form YYYY-MM-DD")]
    BadDate {
        /// Position in the list, counting from 1.
        index: usize,
        /// The event's title.
        title: String,
        /// The date as written.
        date: String,
    },
    /// An event's year is outside [`YEARS_ACCEPTED`].
    #[error(
        "event {index} ({title:?}): {date} is outside the years 1900 to 2199 this calendar accepts"
    )]
    YearOutOfRange {
        /// Position in the list, counting from 1.
        index: usize,
        /// The event's title.
        title: String,
        /// The date.
        date: NaiveDate,
    },
    /// The same date appears twice.
    #[error("{date} is listed twice ({first:?} and {second:?})")]
    Duplicate {
        /// The repeated date.
        date: NaiveDate,
        /// The first title given for it.
        first: String,
        /// The second title given for it.
        second: String,
    },
    /// A year between the first and the last has no events, so the list
    /// cannot be complete.
    #[error("the bank holiday list has no dates in {year}: it must cover every year from {from} to {until} in full")]
    MissingYear {
        /// The year with no events.
        year: i32,
        /// First year in the list.
        from: i32,
        /// Last year in the list.
        until: i32,
    },
}

#[derive(Deserialize)]
struct FileEvent {
    title: String,
    date: String,
    #[serde(default)]
    notes: Option<String>,
}

#[derive(Deserialize)]
struct FileDivision {
    #[serde(default)]
    division: Option<String>,
    #[serde(default)]
    source: Option<String>,
    events: Vec<FileEvent>,
}

/// A working-day calendar: weekends and a list of bank holidays.
///
/// Cheap to query (`O(log h)` for `h` holidays, whatever the distance between
/// dates); clone or share it behind an `Arc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingCalendar {
    division: String,
    source: String,
    holidays: BTreeMap<NaiveDate, Holiday>,
    /// The holidays that fall Monday to Friday, sorted: only these change a
    /// count of working days.
    weekday_holidays: Vec<NaiveDate>,
    known_from: NaiveDate,
    known_until: NaiveDate,
}

impl WorkingCalendar {
    /// The shipped England and Wales calendar, 2018 to 2028.
    pub fn england_and_wales() -> Self {
        Self::from_json(ENGLAND_AND_WALES_JSON).expect("the shipped bank holiday list is valid")
    }

    /// Loads a calendar from JSON: this crate's format
    /// (`{"division", "source", "events": [{"title", "date"}]}`) or the
    /// GOV.UK `bank-holidays.json` file, of which the `england-and-wales`
    /// entry is used. Dates are `YYYY-MM-DD` and must exist; no date may be
    /// listed twice; every year from the first to the last must have at least
    /// one date (the list is taken to be complete for those years).
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        if json.len() > MAX_JSON_BYTES {
            return Err(CalendarError::TooLarge {
                size: json.len(),
                max: MAX_JSON_BYTES,
            });
        }
        if json.trim().is_empty() {
            return Err(CalendarError::Empty);
        }
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| CalendarError::Json(e.to_string()))?;
        let division_value = match &value {
            serde_json::Value::Object(map) if map.contains_key("events") => value,
            serde_json::Value::Object(map) => match map.get("england-and-wales") {
                Some(inner) => inner.clone(),
                None => return Err(CalendarError::NoDivision),
            },
            _ => {
                return Err(CalendarError::Json(
                    "expected a JSON object with \"division\" and \"events\"".into(),
                ))
            }
        };
        let file: FileDivision = serde_json::from_value(division_value)
            .map_err(|e| CalendarError::Json(e.to_string()))?;
        if file.events.is_empty() {
            return Err(CalendarError::NoEvents);
        }
        if file.events.len() > MAX_EVENTS {
            return Err(CalendarError::TooManyEvents {
                count: file.events.len(),
                max: MAX_EVENTS,
            });
        }
        let mut holidays: BTreeMap<NaiveDate, Holiday> = BTreeMap::new();
        for (i, event) in file.events.into_iter().enumerate() {
            let index = i + 1;
            let title = event.title.trim().to_string();
            if title.is_empty() {
                return Err(CalendarError::EmptyTitle {
                    index,
                    date: event.date,
                });
            }
            let Some(date) = parse_iso_date(&event.date) else {
                return Err(CalendarError::BadDate {
                    index,
                    title,
                    date: event.date,
                });
            };
            if !YEARS_ACCEPTED.contains(&date.year()) {
                return Err(CalendarError::YearOutOfRange { index, title, date });
            }
            if let Some(existing) = holidays.get(&date) {
                return Err(CalendarError::Duplicate {
                    date,
                    first: existing.title.clone(),
                    second: title,
                });
            }
            holidays.insert(
                date,
                Holiday {
                    date,
                    title,
                    notes: event.notes,
                },
            );
        }
        let first_year = holidays.keys().next().expect("not empty").year();
        let last_year = holidays.keys().next_back().expect("not empty").year();
        for year in first_year..=last_year {
            let from = NaiveDate::from_ymd_opt(year, 1, 1).expect("year in range");
            let until = NaiveDate::from_ymd_opt(year, 12, 31).expect("year in range");
            if holidays.range(from..=until).next().is_none() {
                return Err(CalendarError::MissingYear {
                    year,
                    from: first_year,
                    until: last_year,
                });
            }
        }
        let known_from = NaiveDate::from_ymd_opt(first_year, 1, 1).expect("year in range");
        let known_until = NaiveDate::from_ymd_opt(last_year, 12, 31).expect("year in range");
        Ok(Self::build(
            file.division.unwrap_or_else(|| "england-and-wales".into()),
            file.source.unwrap_or_default(),
            holidays,
            known_from,
            known_until,
        ))
    }

    fn build(
        division: String,
        source: String,
        holidays: BTreeMap<NaiveDate, Holiday>,
        known_from: NaiveDate,
        known_until: NaiveDate,
    ) -> Self {
        let weekday_holidays = holidays
            .keys()
            .copied()
            .filter(|d| is_weekday(*d))
            .collect();
        WorkingCalendar {
            division,
            source,
            holidays,
            weekday_holidays,
            known_from,
            known_until,
        }
    }

    /// This calendar with more days off added: a one-off bank holiday
    /// announced after the list was shipped, or a local closure. A date
    /// already in the calendar keeps its existing title. Extra holidays do
    /// not change [`known_from`](Self::known_from) or
    /// [`known_until`](Self::known_until): adding one day says nothing about
    /// the rest of a year. To add a whole year, load a longer list with
    /// [`from_json`](Self::from_json).
    pub fn with_extra_holidays(self, extra: impl IntoIterator<Item = Holiday>) -> Self {
        let mut holidays = self.holidays;
        for holiday in extra {
            holidays.entry(holiday.date).or_insert(holiday);
        }
        Self::build(
            self.division,
            self.source,
            holidays,
            self.known_from,
            self.known_until,
        )
    }

    /// The division the list is for, e.g. "england-and-wales".
    pub fn division(&self) -> &str {
        &self.division
    }

    /// Where the list came from, as the file says.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first day the holiday list is known to cover (1 January of its
    /// first year).
    pub fn known_from(&self) -> NaiveDate {
        self.known_from
    }

    /// The last day the holiday list is known to cover (31 December of its
    /// last year). After it, only weekends are known not to be working days.
    pub fn known_until(&self) -> NaiveDate {
        self.known_until
    }

    /// Whether every day from `from` to `until` (inclusive) is within the
    /// known range, so that a count over them is exact.
    pub fn covers(&self, from: NaiveDate, until: NaiveDate) -> bool {
        self.known_from <= from.min(until) && from.max(until) <= self.known_until
    }

    /// The holiday on `date`, if there is one.
    pub fn holiday(&self, date: NaiveDate) -> Option<&Holiday> {
        self.holidays.get(&date)
    }

    /// Every holiday in the calendar, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = &Holiday> + '_ {
        self.holidays.values()
    }

    /// Whether `date` is a working day: Monday to Friday and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        is_weekday(date) && !self.holidays.contains_key(&date)
    }

    /// The first working day strictly after `date`.
    ///
    /// # Panics
    /// Only if the answer is past chrono's last date (year 262,143).
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        self.add_working_days(date, 1)
    }

    /// The date `n` working days after `start`: the day on which the `n`th
    /// working day *after* the start day falls. The start day itself never
    /// counts, whether or not it is a working day. So with `n = 1`, Friday
    /// gives the next Monday, Saturday and Sunday give Monday, and the
    /// Thursday before Good Friday gives the Tuesday after Easter Monday.
    /// `n = 0` gives `start` itself. For `n >= 1` the answer is always a
    /// working day.
    ///
    /// # Panics
    /// Only if the answer is past chrono's last date (year 262,143); see
    /// [`checked_add_working_days`](Self::checked_add_working_days).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        self.checked_add_working_days(start, n)
            .expect("working-day arithmetic went past the year 262143")
    }

    /// [`add_working_days`](Self::add_working_days), or `None` if the answer
    /// is past chrono's last date.
    pub fn checked_add_working_days(&self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return Some(start);
        }
        // Jump by weekdays, then keep extending by the number of holidays
        // the last jump passed over, until a jump passes over none.
        let mut from = start;
        let mut to = add_weekdays(start, u64::from(n))?;
        loop {
            let passed = self.weekday_holidays_in(from, to);
            if passed == 0 {
                return Some(to);
            }
            from = to;
            to = add_weekdays(to, passed as u64)?;
        }
    }

    /// The number of working days after `a` up to and including `b`; negative
    /// when `b` is before `a`. It inverts
    /// [`add_working_days`](Self::add_working_days):
    /// `working_days_between(a, add_working_days(a, n)) == n`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let weekdays = weekdays_up_to(b) - weekdays_up_to(a);
        weekdays - self.weekday_holidays_in(a, b) as i64
    }

    /// How many weekday holidays fall after `a` up to and including `b`.
    fn weekday_holidays_in(&self, a: NaiveDate, b: NaiveDate) -> usize {
        let upto_b = self.weekday_holidays.partition_point(|d| *d <= b);
        let upto_a = self.weekday_holidays.partition_point(|d| *d <= a);
        upto_b.saturating_sub(upto_a)
    }
}

impl Default for WorkingCalendar {
    /// The shipped England and Wales calendar.
    fn default() -> Self {
        Self::england_and_wales()
    }
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The number of weekdays from a fixed Monday long ago up to and including
/// `date`. Differences of this give weekday counts over any range.
fn weekdays_up_to(date: NaiveDate) -> i64 {
    // 0001-01-01 (day 1 counted from the common era) was a Monday in the
    // proleptic Gregorian calendar, so day 0 was a Sunday.
    let days = i64::from(date.num_days_from_ce());
    let weeks = days.div_euclid(7);
    let into_week = days.rem_euclid(7); // 0 = Sunday, 1 = Monday, ... 6 = Saturday
    weeks * 5 + into_week.min(5)
}

/// The date `n >= 1` weekdays after `start` (the start day not counted).
fn add_weekdays(start: NaiveDate, n: u64) -> Option<NaiveDate> {
    // A weekend day counts like the Friday before it.
    let into_week = u64::from(start.weekday().num_days_from_monday());
    let monday = start.checked_sub_days(Days::new(into_week))?;
    let total = into_week.min(4) + n;
    monday.checked_add_days(Days::new((total / 5).checked_mul(7)? + total % 5))
}

/// Parses exactly `YYYY-MM-DD`, refusing dates that do not exist.
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    if !digits_at(0..4) || !digits_at(5..7) || !digits_at(8..10) {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekday_count_reference_is_a_monday() {
        let monday = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        assert_eq!(monday.weekday(), Weekday::Mon);
        // Mon..Sun of one week: 1,2,3,4,5,5,5 weekdays counted from the Sunday before.
        let sunday_before = monday.pred_opt().unwrap();
        let counts: Vec<i64> = (0..7)
            .map(|i| weekdays_up_to(monday + Days::new(i)) - weekdays_up_to(sunday_before))
            .collect();
        assert_eq!(counts, vec![1, 2, 3, 4, 5, 5, 5]);
        let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap();
        assert_eq!(first.weekday(), Weekday::Mon);
    }

    #[test]
    fn parses_only_real_iso_dates() {
        assert_eq!(
            parse_iso_date("2025-12-25"),
            NaiveDate::from_ymd_opt(2025, 12, 25)
        );
        for bad in [
            "2025-02-30",
            "2025-2-3",
            "25-12-2025",
            "2025/12/25",
            "2025-13-01",
            "2023-02-29",
            "",
            "2025-12-25T00:00",
            " 2025-12-2",
            "+202-12-25",
            "２０２５-12-25",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
        assert!(parse_iso_date("2024-02-29").is_some());
    }
}
