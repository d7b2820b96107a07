//! UK civil time ("Europe/London") without a time-zone database.
//!
//! Working-day deadlines are about calendar days *in England and Wales*: a
//! referral received at 00:30 on a Monday in summer was received on Monday,
//! although in UTC it is still Sunday 23:30. So the day of receipt, and the end
//! of the day a deadline falls on, are taken in UK local time.
//!
//! The UK rule has been fixed since 1996 (Summer Time Order 2002, following
//! the EU summer-time directive): British Summer Time (UTC+1) runs from 01:00
//! UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
//! October; Greenwich Mean Time (UTC+0) the rest of the year. That rule is
//! simple enough to compute here, which keeps this crate free of a tz database
//! that would need its own updates. It is applied to every year, including
//! years before 1996 (when the rule differed) and years after any future
//! change of the law *(check if Parliament changes summer time)*.
//!
//! The changes happen at 01:00 and 02:00 local time, never at midnight, so
//! local midnight always exists and is never ambiguous.

use chrono::{
    DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
    Weekday,
};

/// The last Sunday of `month` in `year`, if the date is representable.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_of_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    last.checked_sub_days(Days::new(u64::from(back)))
}

/// The first and last days of British Summer Time in `year`: the last
/// Sundays of March and October.
fn summer_time_sundays(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((last_sunday(year, 3)?, last_sunday(year, 10)?))
}

/// Whether British Summer Time is in force at `instant`.
pub fn is_summer_time(instant: DateTime<Utc>) -> bool {
    let Some((start, end)) = summer_time_sundays(instant.year()) else {
        return false;
    };
    let one_am = NaiveTime::from_hms_opt(1, 0, 0).expect("01:00 is a valid time");
    let begins = start.and_time(one_am).and_utc();
    let ends = end.and_time(one_am).and_utc();
    begins <= instant && instant < ends
}

/// The UK's offset from UTC at `instant`: +01:00 in summer time, otherwise
/// +00:00.
pub fn offset_at(instant: DateTime<Utc>) -> FixedOffset {
    let seconds = if is_summer_time(instant) { 3600 } else { 0 };
    FixedOffset::east_opt(seconds).expect("0 or 3600 seconds is a valid offset")
}

/// The UK local date and time at `instant`.
pub fn local_datetime(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&offset_at(instant)).naive_local()
}

/// The UK local calendar date at `instant`.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    local_datetime(instant).date()
}

/// The instant at which `date` begins in the UK (local midnight), in UTC.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    // Local midnight of `date` is in summer time exactly when `date` is after
    // the last Sunday of March and on or before the last Sunday of October
    // (on both Sundays the change happens later than midnight).
    let summer =
        summer_time_sundays(date.year()).is_some_and(|(start, end)| start < date && date <= end);
    let midnight = date.and_time(NaiveTime::MIN).and_utc();
    if summer {
        midnight
            .checked_sub_signed(TimeDelta::hours(1))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    } else {
        midnight
    }
}

/// The instant at which `date` ends in the UK: the start of the next day, in
/// UTC. This is an *exclusive* bound: every instant before it is still on
/// `date`. Saturates at chrono's last representable instant.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    match date.succ_opt() {
        Some(next) => start_of_day(next),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The English name of a weekday, for messages.
pub(crate) fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// A date the way a person writes it in the UK: "Monday 6 January", with the
/// year added when it differs from `reference_year`.
pub(crate) fn format_date(date: NaiveDate, reference_year: i32) -> String {
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
    let month = MONTHS[date.month0() as usize];
    let mut text = format!("{} {} {}", weekday_name(date.weekday()), date.day(), month);
    if date.year() != reference_year {
        text.push_str(&format!(" {}", date.year()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }
    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn summer_time_boundaries_2025() {
        // BST 2025: Sunday 30 March 01:00 UTC to Sunday 26 October 01:00 UTC.
        assert!(!is_summer_time(utc(2025, 3, 30, 0, 59)));
        assert!(is_summer_time(utc(2025, 3, 30, 1, 0)));
        assert!(is_summer_time(utc(2025, 10, 26, 0, 59)));
        assert!(!is_summer_time(utc(2025, 10, 26, 1, 0)));
        assert!(!is_summer_time(utc(2025, 1, 6, 12, 0)));
        assert!(is_summer_time(utc(2025, 7, 1, 12, 0)));
    }

    #[test]
    fn local_dates_across_midnight() {
        // 23:30 UTC on Sunday 30 June 2024 is 00:30 on Monday 1 July in London.
        assert_eq!(local_date(utc(2024, 6, 30, 23, 30)), date(2024, 7, 1));
        // In winter UTC and London agree.
        assert_eq!(local_date(utc(2024, 12, 31, 23, 30)), date(2024, 12, 31));
    }

    #[test]
    fn day_bounds() {
        assert_eq!(start_of_day(date(2025, 1, 6)), utc(2025, 1, 6, 0, 0));
        assert_eq!(end_of_day(date(2025, 1, 6)), utc(2025, 1, 7, 0, 0));
        assert_eq!(start_of_day(date(2025, 7, 1)), utc(2025, 6, 30, 23, 0));
        assert_eq!(end_of_day(date(2025, 7, 1)), utc(2025, 7, 1, 23, 0));
        // The change-over Sundays begin at midnight of the old offset.
        assert_eq!(start_of_day(date(2025, 3, 30)), utc(2025, 3, 30, 0, 0));
        assert_eq!(end_of_day(date(2025, 3, 30)), utc(2025, 3, 30, 23, 0));
        assert_eq!(start_of_day(date(2025, 10, 26)), utc(2025, 10, 25, 23, 0));
        assert_eq!(end_of_day(date(2025, 10, 26)), utc(2025, 10, 27, 0, 0));
        // Every day's bounds agree with local_date.
        let mut d = date(2024, 1, 1);
        while d < date(2026, 1, 1) {
            let start = start_of_day(d);
            let end = end_of_day(d);
            assert_eq!(local_date(start), d);
            assert_eq!(local_date(end - TimeDelta::nanoseconds(1)), d);
            assert_eq!(local_date(end), d.succ_opt().unwrap());
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn formats_dates() {
        assert_eq!(format_date(date(2025, 1, 6), 2025), "Monday 6 January");
        assert_eq!(format_date(date(2026, 1, 2), 2025), "Friday 2 January 2026");
    }
}
