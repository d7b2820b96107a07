//! Dates and times inside payloads: an exact [`Timestamp`], a calendar
//! [`Date`], and a [`DateOfBirth`] that may be approximate.
//!
//! All are written in JSON as text, and all give a sentence, not a parser's
//! complaint, when the text is wrong. (Dates that may be known only to the
//! month or year elsewhere in payloads use [`OccurredAt`].)

use crate::event::{format_timestamp, ModelError};
use crate::time::{parse_with_precision, truncate, OccurredAt, Precision};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Leeway for clocks that run a little fast (same as the envelope's).
const FUTURE_LEEWAY_SECONDS: i64 = 300;

/// Earliest year Vigil accepts in any date.
pub const EARLIEST_YEAR: i32 = 1900;

/// An instant, written as RFC 3339 (`2025-03-01T22:15:00Z`, any offset on
/// input) and stored in UTC with milliseconds (`2025-03-01T22:15:00.000Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Parses RFC 3339; finer than milliseconds is dropped.
    pub fn parse(s: &str) -> Result<Timestamp, ModelError> {
        let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
            ModelError::invalid(format!(
                "'{}' is not a date and time like 2025-03-01T22:15:00Z",
                truncate(s)
            ))
        })?;
        Ok(Timestamp::from_utc(t.with_timezone(&Utc)))
    }

    pub fn from_utc(t: DateTime<Utc>) -> Timestamp {
        Timestamp(DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t))
    }

    pub fn as_utc(&self) -> DateTime<Utc> {
        self.0
    }

    /// Refuses times in the future and before 1900; `what` names the field.
    pub fn check_past(&self, what: &str, now: DateTime<Utc>) -> Result<(), ModelError> {
        if self.0.timestamp() > now.timestamp() + FUTURE_LEEWAY_SECONDS {
            return Err(ModelError::invalid(format!(
                "{what} ({self}) is in the future"
            )));
        }
        if self.0.year() < EARLIEST_YEAR {
            return Err(ModelError::invalid(format!(
                "{what} ({self}) is before {EARLIEST_YEAR}"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_timestamp(&self.0))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(&self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A calendar day, written `2025-03-01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(NaiveDate);

impl Date {
    pub fn parse(s: &str) -> Result<Date, ModelError> {
        let bad =
            || ModelError::invalid(format!("'{}' is not a date like 2025-03-01", truncate(s)));
        if s.len() != 10 {
            return Err(bad());
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| bad())
    }

    pub fn new(d: NaiveDate) -> Date {
        Date(d)
    }

    pub fn naive(&self) -> NaiveDate {
        self.0
    }

    /// Refuses days after today and before 1900; `what` names the field.
    pub fn check_past(&self, what: &str, now: DateTime<Utc>) -> Result<(), ModelError> {
        if self.0 > now.date_naive() {
            return Err(ModelError::invalid(format!(
                "{what} ({self}) is in the future"
            )));
        }
        if self.0.year() < EARLIEST_YEAR {
            return Err(ModelError::invalid(format!(
                "{what} ({self}) is before {EARLIEST_YEAR}"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A date of birth, which may be known only to the month or year, or be an
/// estimate: `{"value": "2010-06", "precision": "month"}`,
/// `{"value": "2010-06-15", "precision": "approximate"}`. An exact time is
/// not a date of birth.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateOfBirth {
    pub value: String,
    pub precision: Precision,
}

impl DateOfBirth {
    pub fn day(d: NaiveDate) -> DateOfBirth {
        DateOfBirth {
            value: d.format("%Y-%m-%d").to_string(),
            precision: Precision::Day,
        }
    }

    /// The earliest day the value can mean.
    pub fn earliest_day(&self) -> Result<NaiveDate, ModelError> {
        parse_with_precision(&self.value, self.precision)
    }

    /// The latest day the value can mean.
    pub fn latest_day(&self) -> Result<NaiveDate, ModelError> {
        latest_day(&self.value, self.precision)
    }

    /// Refuses a date of birth in the future, before 1900, or written as a time.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ModelError> {
        if self.precision == Precision::Exact {
            return Err(ModelError::invalid(
                "a date of birth is a day, month or year (precision day, month, year or approximate), not a time",
            ));
        }
        let first = self.earliest_day().map_err(|_| {
            ModelError::invalid(format!(
                "the date of birth '{}' does not match its precision ({:?}): write it like {}",
                truncate(&self.value),
                self.precision,
                match self.precision {
                    Precision::Month => "2010-06",
                    Precision::Year => "2010",
                    _ => "2010-06-15",
                }
            ))
        })?;
        if first > now.date_naive() {
            return Err(ModelError::invalid(format!(
                "the date of birth {} is in the future",
                self.value
            )));
        }
        if first.year() < EARLIEST_YEAR {
            return Err(ModelError::invalid(format!(
                "the date of birth {} is before {EARLIEST_YEAR}; check the year",
                self.value
            )));
        }
        Ok(())
    }
}

/// The last day a value written at the given precision can mean.
pub fn latest_day(value: &str, precision: Precision) -> Result<NaiveDate, ModelError> {
    let first = parse_with_precision(value, precision)?;
    Ok(match precision {
        Precision::Exact | Precision::Day | Precision::Approximate => first,
        Precision::Month => {
            let (y, m) = if first.month() == 12 {
                (first.year() + 1, 1)
            } else {
                (first.year(), first.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).map_or(first, |d| d - Duration::days(1))
        }
        Precision::Year => NaiveDate::from_ymd_opt(first.year(), 12, 31).unwrap_or(first),
    })
}

/// Refuses a period whose end is certainly before its start: `until` may be
/// known only roughly, so it is refused only if its last possible day is
/// before the first possible day of `since`.
pub fn check_period(what: &str, since: &OccurredAt, until: &OccurredAt) -> Result<(), ModelError> {
    let start = since.earliest_day()?;
    let end = latest_day(&until.value, until.precision)?;
    if end < start {
        return Err(ModelError::invalid(format!(
            "{what} ends ({}) before it starts ({})",
            until.value, since.value
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn timestamps_normalise_to_utc_milliseconds() {
        let t = Timestamp::parse("2025-03-01T22:15:00.123456+01:00").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T21:15:00.123Z");
        let json = serde_json::to_string(&t).unwrap();
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let e = serde_json::from_str::<Timestamp>("\"last Tuesday\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("'last Tuesday' is not a date and time like 2025-03-01T22:15:00Z"),
            "{e}"
        );
        assert!(Timestamp::parse("2027-01-01T00:00:00Z")
            .unwrap()
            .check_past("the start", now())
            .is_err());
        assert!(Timestamp::parse("1899-01-01T00:00:00Z")
            .unwrap()
            .check_past("the start", now())
            .is_err());
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(Date::parse("2025-03-01").unwrap().to_string(), "2025-03-01");
        for bad in [
            "2025-3-1",
            "2025-02-30",
            "",
            "<script>",
            "2025-03-01T00:00:00Z",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("2026-11-23")
            .unwrap()
            .check_past("the end", now())
            .is_err());
    }

    #[test]
    fn dates_of_birth() {
        let ok = |v: &str, p| {
            DateOfBirth {
                value: v.into(),
                precision: p,
            }
            .validate(now())
        };
        ok("2010-06-15", Precision::Day).unwrap();
        ok("2010-06", Precision::Month).unwrap();
        ok("2010", Precision::Year).unwrap();
        ok("2026", Precision::Year).unwrap();
        ok("2010-06-15", Precision::Approximate).unwrap();
        let e = ok("2027-01-01", Precision::Day).unwrap_err().to_string();
        assert_eq!(e, "the date of birth 2027-01-01 is in the future");
        assert!(ok("1899-12-31", Precision::Day)
            .unwrap_err()
            .to_string()
            .contains("before 1900"));
        assert!(ok("2010-06-15T00:00:00Z", Precision::Exact).is_err());
        assert!(ok("2010-06", Precision::Day)
            .unwrap_err()
            .to_string()
            .contains("write it like 2010-06-15"));
        assert!(
            ok(&"9".repeat(100_000), Precision::Year)
                .unwrap_err()
                .to_string()
                .len()
                < 200
        );
    }

    #[test]
    fn latest_days() {
        assert_eq!(
            latest_day("2024-02", Precision::Month).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(
            latest_day("2024-12", Precision::Month).unwrap(),
            NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()
        );
        assert_eq!(
            latest_day("2024", Precision::Year).unwrap(),
            NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()
        );
        let since = OccurredAt {
            value: "2024-06-10".into(),
            precision: Precision::Day,
        };
        check_period(
            "the link",
            &since,
            &OccurredAt {
                value: "2024-06".into(),
                precision: Precision::Month,
            },
        )
        .unwrap();
        assert!(check_period(
            "the link",
            &since,
            &OccurredAt {
                value: "2024-05".into(),
                precision: Precision::Month
            }
        )
        .is_err());
    }
}
