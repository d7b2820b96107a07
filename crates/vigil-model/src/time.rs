//! When something happened, and how precisely that is known.
//!
//! Safeguarding records are full of imprecise dates ("summer 2023", "about
//! 14 years old", "last Tuesday night"). Forcing them into an exact timestamp
//! invents facts; so every occurred-at date carries its precision.

use crate::event::ModelError;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How precisely a date or time is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// An instant: `2025-03-01T22:15:00Z` (RFC 3339, any offset).
    Exact,
    /// A calendar day: `2025-03-01`.
    Day,
    /// A month: `2025-03`.
    Month,
    /// A year: `2025`.
    Year,
    /// A day that is someone's estimate: `2025-03-01`, read as "about".
    Approximate,
}

/// A date or time with its precision, e.g. `{"value": "2025-03", "precision": "month"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OccurredAt {
    pub value: String,
    pub precision: Precision,
}

/// Leeway for clocks that run a little fast before a time counts as "in the future".
const FUTURE_LEEWAY_SECONDS: i64 = 300;

impl OccurredAt {
    pub fn exact(t: DateTime<Utc>) -> Self {
        OccurredAt {
            value: crate::event::format_timestamp(&t),
            precision: Precision::Exact,
        }
    }

    pub fn day(d: NaiveDate) -> Self {
        OccurredAt {
            value: d.format("%Y-%m-%d").to_string(),
            precision: Precision::Day,
        }
    }

    /// The earliest calendar day the value can mean (for ordering and deadlines).
    pub fn earliest_day(&self) -> Result<NaiveDate, ModelError> {
        parse_with_precision(&self.value, self.precision)
    }

    /// Checks the value matches its precision and is not in the future.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ModelError> {
        if self.precision == Precision::Exact {
            let t = DateTime::parse_from_rfc3339(&self.value).map_err(|_| {
                ModelError::invalid(format!(
                    "the time '{}' is not a date and time like 2025-03-01T22:15:00Z",
                    truncate(&self.value)
                ))
            })?;
            if t.with_timezone(&Utc).timestamp() > now.timestamp() + FUTURE_LEEWAY_SECONDS {
                return Err(ModelError::invalid(format!(
                    "the time {} is in the future",
                    self.value
                )));
            }
            return Ok(());
        }
        let day = self.earliest_day()?;
        if day > now.date_naive() {
            return Err(ModelError::invalid(format!(
                "the date {} is in the future",
                self.value
            )));
        }
        Ok(())
    }
}

/// Parses a date string written at the given precision, returning its first day.
pub fn parse_with_precision(value: &str, precision: Precision) -> Result<NaiveDate, ModelError> {
    let bad = |shape: &str| {
        ModelError::invalid(format!(
            "the date '{}' does not match its precision ({:?}): write it like {shape}",
            truncate(value),
            precision
        ))
    };
    match precision {
        Precision::Exact => DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&Utc).date_naive())
            .map_err(|_| bad("2025-03-01T22:15:00Z")),
        Precision::Day | Precision::Approximate => {
            if value.len() != 10 {
                return Err(bad("2025-03-01"));
            }
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad("2025-03-01"))
        }
        Precision::Month => {
            if value.len() != 7 {
                return Err(bad("2025-03"));
            }
            NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d")
                .map_err(|_| bad("2025-03"))
        }
        Precision::Year => {
            let y: i32 = if value.len() == 4 {
                value.parse().map_err(|_| bad("2025"))?
            } else {
                return Err(bad("2025"));
            };
            NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(|| bad("2025"))
        }
    }
}

/// Keeps hostile input out of error messages at a readable length.
pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

/// Age in whole years on a given day.
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
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
    fn accepts_each_precision() {
        for (v, p) in [
            ("2025-03-01T22:15:00Z", Precision::Exact),
            ("2025-03-01T22:15:00+01:00", Precision::Exact),
            ("2025-03-01", Precision::Day),
            ("2025-03", Precision::Month),
            ("2025", Precision::Year),
            ("2025-03-01", Precision::Approximate),
        ] {
            OccurredAt {
                value: v.into(),
                precision: p,
            }
            .validate(now())
            .unwrap();
        }
    }

    #[test]
    fn rejects_mismatch_future_and_garbage() {
        for (v, p) in [
            ("2025-03", Precision::Day),
            ("2025-02-30", Precision::Day),
            ("2027-01-01", Precision::Day),
            ("2026-11-22T13:00:00Z", Precision::Exact),
            ("", Precision::Year),
            ("<script>", Precision::Month),
            ("99999", Precision::Year),
        ] {
            let e = OccurredAt {
                value: v.into(),
                precision: p,
            }
            .validate(now());
            assert!(e.is_err(), "{v} {p:?} should be rejected");
        }
        let huge = "9".repeat(100_000);
        let msg = OccurredAt {
            value: huge,
            precision: Precision::Day,
        }
        .validate(now())
        .unwrap_err()
        .to_string();
        assert!(msg.len() < 200, "error message should not echo huge input");
    }

    #[test]
    fn age_counts_birthdays() {
        let dob = NaiveDate::from_ymd_opt(2010, 6, 15).unwrap();
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2023, 6, 14).unwrap()),
            12
        );
        assert_eq!(
            age_on(dob, NaiveDate::from_ymd_opt(2023, 6, 15).unwrap()),
            13
        );
    }
}
