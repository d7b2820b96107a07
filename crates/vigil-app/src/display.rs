//! Dates, ages and names the way pages show them: UK local time, words.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use vigil_model::dates::DateOfBirth;
use vigil_model::time::{age_on, OccurredAt, Precision};
use vigil_rules::london;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "6 January 2025".
pub fn date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// "2:05pm".
fn clock(h: u32, m: u32) -> String {
    let (h12, ampm) = match h {
        0 => (12, "am"),
        1..=11 => (h, "am"),
        12 => (12, "pm"),
        _ => (h - 12, "pm"),
    };
    format!("{h12}:{m:02}{ampm}")
}

/// "6 January 2025 at 2:05pm", in UK local time.
pub fn datetime(t: DateTime<Utc>) -> String {
    let l = london::local_datetime(t);
    format!("{} at {}", date(l.date()), clock(l.hour(), l.minute()))
}

/// "14:05 on 6 January 2025" style for waits: "2:05pm".
pub fn time_of_day(t: DateTime<Utc>) -> String {
    let l = london::local_datetime(t);
    clock(l.hour(), l.minute())
}

/// When something happened, with its precision: "March 2025", "about 1 March 2025".
pub fn occurred(o: &OccurredAt) -> String {
    match o.precision {
        Precision::Exact => DateTime::parse_from_rfc3339(&o.value)
            .map(|t| datetime(t.with_timezone(&Utc)))
            .unwrap_or_else(|_| o.value.clone()),
        Precision::Day => o
            .earliest_day()
            .map(date)
            .unwrap_or_else(|_| o.value.clone()),
        Precision::Approximate => o
            .earliest_day()
            .map(|d| format!("about {}", date(d)))
            .unwrap_or_else(|_| o.value.clone()),
        Precision::Month => o
            .earliest_day()
            .map(|d| format!("{} {}", MONTHS[d.month0() as usize], d.year()))
            .unwrap_or_else(|_| o.value.clone()),
        Precision::Year => o.value.clone(),
    }
}

/// A date of birth and the age it gives today: "14 (born 14 March 2010)",
/// "about 14", "13 or 14 (born 2011)".
pub fn age(dob: &DateOfBirth, today: NaiveDate) -> String {
    let (Ok(first), Ok(last)) = (dob.earliest_day(), dob.latest_day()) else {
        return dob.value.clone();
    };
    let oldest = age_on(first, today);
    let youngest = age_on(last, today).max(0);
    let ages = if oldest == youngest {
        oldest.to_string()
    } else {
        format!("{youngest} or {oldest}")
    };
    match dob.precision {
        Precision::Approximate => format!("about {oldest} (estimated)"),
        Precision::Day | Precision::Exact => format!("{ages} (born {})", date(first)),
        Precision::Month => format!(
            "{ages} (born {} {})",
            MONTHS[first.month0() as usize],
            first.year()
        ),
        Precision::Year => format!("{ages} (born {})", first.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn words_for_dates_and_ages() {
        let t = Utc.with_ymd_and_hms(2025, 7, 1, 13, 5, 0).unwrap();
        assert_eq!(datetime(t), "1 July 2025 at 2:05pm", "summer time");
        let t = Utc.with_ymd_and_hms(2025, 1, 6, 0, 30, 0).unwrap();
        assert_eq!(datetime(t), "6 January 2025 at 12:30am");
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let dob = |v: &str, p| DateOfBirth {
            value: v.into(),
            precision: p,
        };
        assert_eq!(
            age(&dob("2010-03-14", Precision::Day), today),
            "15 (born 14 March 2010)"
        );
        assert_eq!(
            age(&dob("2011", Precision::Year), today),
            "13 or 14 (born 2011)"
        );
        assert_eq!(
            age(&dob("2011-02", Precision::Month), today),
            "14 (born February 2011)"
        );
        assert_eq!(
            age(&dob("2011-01-01", Precision::Approximate), today),
            "about 14 (estimated)"
        );
    }
}
