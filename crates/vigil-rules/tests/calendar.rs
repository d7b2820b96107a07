//! The shipped bank holiday list, working-day arithmetic across holidays, and
//! loading calendars from JSON (including bad input).

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use vigil_rules::calendar::{CalendarError, Holiday, WorkingCalendar, MAX_EVENTS, MAX_JSON_BYTES};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let dd = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - dd - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    d(year, month as u32, day as u32)
}

fn first_monday(year: i32, month: u32) -> NaiveDate {
    let mut x = d(year, month, 1);
    while x.weekday() != Weekday::Mon {
        x = x.succ_opt().unwrap();
    }
    x
}

fn last_monday(year: i32, month: u32) -> NaiveDate {
    let mut x = if month == 12 {
        d(year + 1, 1, 1)
    } else {
        d(year, month + 1, 1)
    }
    .pred_opt()
    .unwrap();
    while x.weekday() != Weekday::Mon {
        x = x.pred_opt().unwrap();
    }
    x
}

/// The England and Wales bank holidays of `year` derived from the rules
/// (Banking and Financial Dealings Act 1971 and the usual proclamations),
/// with the one-off changes of 2018-2028 written in by hand.
fn bank_holidays_by_rule(year: i32) -> BTreeSet<NaiveDate> {
    let mut days = BTreeSet::new();
    let new_year = d(year, 1, 1);
    days.insert(match new_year.weekday() {
        Weekday::Sat => d(year, 1, 3),
        Weekday::Sun => d(year, 1, 2),
        _ => new_year,
    });
    let easter = easter_sunday(year);
    days.insert(easter - Days::new(2));
    days.insert(easter + Days::new(1));
    days.insert(if year == 2020 {
        d(2020, 5, 8) // VE Day 75th anniversary
    } else {
        first_monday(year, 5)
    });
    if year == 2022 {
        days.insert(d(2022, 6, 2)); // Spring bank holiday moved
        days.insert(d(2022, 6, 3)); // Platinum Jubilee
        days.insert(d(2022, 9, 19)); // State Funeral of Queen Elizabeth II
    } else {
        days.insert(last_monday(year, 5));
    }
    if year == 2023 {
        days.insert(d(2023, 5, 8)); // Coronation of King Charles III
    }
    days.insert(last_monday(year, 8));
    let (christmas, boxing) = match d(year, 12, 25).weekday() {
        Weekday::Fri => (d(year, 12, 25), d(year, 12, 28)),
        Weekday::Sat => (d(year, 12, 27), d(year, 12, 28)),
        Weekday::Sun => (d(year, 12, 27), d(year, 12, 26)),
        _ => (d(year, 12, 25), d(year, 12, 26)),
    };
    days.insert(christmas);
    days.insert(boxing);
    days
}

#[test]
fn easter_algorithm_matches_known_easter_sundays() {
    // Written out from church calendars, independently of the algorithm.
    let known = [
        (2018, 4, 1),
        (2019, 4, 21),
        (2020, 4, 12),
        (2021, 4, 4),
        (2022, 4, 17),
        (2023, 4, 9),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2000, 4, 23),
        (2038, 4, 25),
        (2285, 3, 22),
    ];
    for (y, m, day) in known {
        assert_eq!(easter_sunday(y), d(y, m, day), "Easter {y}");
        assert_eq!(easter_sunday(y).weekday(), Weekday::Sun);
    }
}

#[test]
fn shipped_list_matches_the_rules_for_every_year() {
    let cal = WorkingCalendar::england_and_wales();
    for year in 2018..=2028 {
        let shipped: BTreeSet<NaiveDate> = cal
            .holidays()
            .map(|h| h.date)
            .filter(|date| date.year() == year)
            .collect();
        assert_eq!(
            shipped,
            bank_holidays_by_rule(year),
            "bank holidays of {year}"
        );
    }
    assert_eq!(cal.holidays().count(), 91);
}

#[test]
fn good_friday_and_easter_monday_are_titled_and_follow_easter() {
    let cal = WorkingCalendar::england_and_wales();
    for year in 2018..=2028 {
        let easter = easter_sunday(year);
        let good_friday = cal
            .holiday(easter - Days::new(2))
            .expect("Good Friday listed");
        assert_eq!(good_friday.title, "Good Friday", "{year}");
        assert_eq!(good_friday.date.weekday(), Weekday::Fri);
        let easter_monday = cal
            .holiday(easter + Days::new(1))
            .expect("Easter Monday listed");
        assert_eq!(easter_monday.title, "Easter Monday", "{year}");
    }
}

#[test]
fn shipped_list_facts() {
    let cal = WorkingCalendar::england_and_wales();
    assert_eq!(cal.division(), "england-and-wales");
    assert!(cal.source().contains("Refresh"));
    assert_eq!(cal.known_from(), d(2018, 1, 1));
    assert_eq!(cal.known_until(), d(2028, 12, 31));
    // Only actual days off are listed (substitutes, not the weekend dates).
    for h in cal.holidays() {
        assert!(
            !matches!(h.date.weekday(), Weekday::Sat | Weekday::Sun),
            "{} {} is at a weekend",
            h.date,
            h.title
        );
        assert!(!cal.is_working_day(h.date));
    }
    // The projected year is marked for checking; published years are not.
    for h in cal.holidays() {
        let marked = h.notes.as_deref().is_some_and(|n| n.contains("(check)"));
        assert_eq!(marked, h.date.year() == 2028, "{} {}", h.date, h.title);
    }
    // The one-off days, by name.
    let titled = |date: NaiveDate, word: &str| {
        let h = cal
            .holiday(date)
            .unwrap_or_else(|| panic!("{date} missing"));
        assert!(h.title.contains(word), "{date}: {}", h.title);
    };
    titled(d(2020, 5, 8), "VE Day");
    titled(d(2022, 6, 2), "Spring");
    titled(d(2022, 6, 3), "Platinum Jubilee");
    titled(d(2022, 9, 19), "State Funeral");
    titled(d(2023, 5, 8), "coronation");
    titled(d(2020, 12, 28), "Boxing Day (substitute");
    titled(d(2021, 12, 27), "Christmas Day (substitute");
    titled(d(2021, 12, 28), "Boxing Day (substitute");
    titled(d(2022, 1, 3), "New Year's Day (substitute");
    titled(d(2022, 12, 27), "Christmas Day (substitute");
    titled(d(2023, 1, 2), "New Year's Day (substitute");
    titled(d(2026, 12, 28), "Boxing Day (substitute");
    titled(d(2027, 12, 27), "Christmas Day (substitute");
    titled(d(2027, 12, 28), "Boxing Day (substitute");
    titled(d(2028, 1, 3), "New Year's Day (substitute");
    // Days that are *not* bank holidays in those years.
    for not_holiday in [d(2020, 5, 4), d(2022, 5, 30), d(2023, 5, 2), d(2022, 9, 20)] {
        assert!(cal.is_working_day(not_holiday), "{not_holiday}");
    }
}

#[test]
fn working_days_across_weekends_and_holidays() {
    let cal = WorkingCalendar::england_and_wales();
    let next = |date| cal.add_working_days(date, 1);
    // Friday -> Monday; Saturday and Sunday -> Monday.
    assert_eq!(next(d(2025, 1, 3)), d(2025, 1, 6));
    assert_eq!(next(d(2025, 1, 4)), d(2025, 1, 6));
    assert_eq!(next(d(2025, 1, 5)), d(2025, 1, 6));
    // Thursday before Good Friday -> Tuesday after Easter Monday.
    assert_eq!(next(d(2025, 4, 17)), d(2025, 4, 22));
    assert_eq!(next(d(2024, 3, 28)), d(2024, 4, 2));
    // Christmas and New Year with substitute days.
    assert_eq!(next(d(2021, 12, 24)), d(2021, 12, 29));
    assert_eq!(next(d(2021, 12, 31)), d(2022, 1, 4));
    assert_eq!(next(d(2022, 12, 23)), d(2022, 12, 28));
    assert_eq!(next(d(2022, 12, 30)), d(2023, 1, 3));
    assert_eq!(next(d(2020, 12, 24)), d(2020, 12, 29));
    assert_eq!(next(d(2026, 12, 24)), d(2026, 12, 29));
    assert_eq!(next(d(2027, 12, 24)), d(2027, 12, 29));
    assert_eq!(next(d(2027, 12, 31)), d(2028, 1, 4));
    // 2022: Spring bank holiday and the Platinum Jubilee; the State Funeral.
    assert_eq!(next(d(2022, 6, 1)), d(2022, 6, 6));
    assert_eq!(next(d(2022, 9, 16)), d(2022, 9, 20));
    // 2023: Early May and the Coronation, a week apart.
    assert_eq!(next(d(2023, 4, 28)), d(2023, 5, 2));
    assert_eq!(next(d(2023, 5, 5)), d(2023, 5, 9));
    // Late May and late August.
    assert_eq!(next(d(2025, 5, 23)), d(2025, 5, 27));
    assert_eq!(next(d(2025, 8, 22)), d(2025, 8, 26));
    // 2020: VE Day Friday; the first Monday of May was a working day.
    assert_eq!(next(d(2020, 5, 7)), d(2020, 5, 11));
    assert_eq!(next(d(2020, 5, 1)), d(2020, 5, 4));
    // next_working_day is the same thing.
    assert_eq!(cal.next_working_day(d(2025, 4, 17)), d(2025, 4, 22));
    // n = 0 is the start day itself.
    assert_eq!(cal.add_working_days(d(2025, 1, 4), 0), d(2025, 1, 4));
}

#[test]
fn longer_spans() {
    let cal = WorkingCalendar::england_and_wales();
    // 45 working days from Monday 6 January 2025: nine clear weeks.
    assert_eq!(cal.add_working_days(d(2025, 1, 6), 45), d(2025, 3, 10));
    // From Monday 31 March 2025, 45 weekdays reach Monday 2 June; Good
    // Friday, Easter Monday, 5 May and 26 May push it to Friday 6 June.
    assert_eq!(cal.add_working_days(d(2025, 3, 31), 45), d(2025, 6, 6));
    assert_eq!(cal.working_days_between(d(2025, 3, 31), d(2025, 6, 6)), 45);
    // A whole year: 2025 has 261 weekdays and 8 bank holidays on weekdays.
    assert_eq!(
        cal.working_days_between(d(2024, 12, 31), d(2025, 12, 31)),
        253
    );
    // 2022 had 10 bank holidays, all on weekdays: 260 - 10.
    assert_eq!(
        cal.working_days_between(d(2021, 12, 31), d(2022, 12, 31)),
        250
    );
    // Negative when reversed; zero for the same day.
    assert_eq!(cal.working_days_between(d(2025, 6, 6), d(2025, 3, 31)), -45);
    assert_eq!(cal.working_days_between(d(2025, 6, 6), d(2025, 6, 6)), 0);
    // Saturday to Monday is one working day; Friday to Sunday none.
    assert_eq!(cal.working_days_between(d(2025, 1, 4), d(2025, 1, 6)), 1);
    assert_eq!(cal.working_days_between(d(2025, 1, 3), d(2025, 1, 5)), 0);
}

#[test]
fn beyond_the_list_only_weekends_count() {
    let cal = WorkingCalendar::england_and_wales();
    assert!(!cal.covers(d(2028, 12, 29), d(2029, 1, 1)));
    assert!(cal.covers(d(2018, 1, 1), d(2028, 12, 31)));
    assert!(!cal.covers(d(2017, 12, 29), d(2018, 1, 2)));
    // 1 January 2029 is a Monday: surely a bank holiday, but not yet listed.
    assert!(cal.is_working_day(d(2029, 1, 1)));
    assert_eq!(cal.add_working_days(d(2028, 12, 29), 1), d(2029, 1, 1));
    // Far ahead and far back still work.
    assert_eq!(cal.add_working_days(d(2200, 1, 3), 5), d(2200, 1, 10));
    assert_eq!(cal.working_days_between(d(1900, 1, 1), d(1900, 1, 8)), 5);
    assert_eq!(cal.checked_add_working_days(NaiveDate::MAX, 1), None);
    // u32::MAX working days is about 16 million years: past chrono's range.
    assert_eq!(cal.checked_add_working_days(d(2025, 1, 1), u32::MAX), None);
    // 10 million weeks of working days from a Monday after the list: exact,
    // and instant (no day-by-day loop).
    let monday = d(2029, 1, 1);
    assert_eq!(
        cal.add_working_days(monday, 50_000_000),
        monday + Days::new(70_000_000)
    );
}

#[test]
fn extra_holidays_extend_the_calendar() {
    let cal = WorkingCalendar::england_and_wales().with_extra_holidays([
        Holiday::new(d(2025, 6, 9), "Local closure"),
        Holiday::new(d(2029, 1, 1), "New Year's Day (added by administrator)"),
        Holiday::new(d(2025, 12, 25), "Duplicate of Christmas"),
    ]);
    assert!(!cal.is_working_day(d(2025, 6, 9)));
    assert_eq!(cal.add_working_days(d(2025, 6, 6), 1), d(2025, 6, 10));
    assert_eq!(cal.add_working_days(d(2028, 12, 29), 1), d(2029, 1, 2));
    // An existing date keeps its title; the known range is unchanged.
    assert_eq!(cal.holiday(d(2025, 12, 25)).unwrap().title, "Christmas Day");
    assert_eq!(cal.known_until(), d(2028, 12, 31));
    assert_eq!(cal.holidays().count(), 93);
}

#[test]
fn loads_this_crates_format_and_the_govuk_file() {
    let own = r#"{"division": "england-and-wales", "source": "test",
        "events": [{"title": "Christmas Day", "date": "2030-12-25"},
                   {"title": "Boxing Day", "date": "2030-12-26", "notes": "", "bunting": true}]}"#;
    let cal = WorkingCalendar::from_json(own).unwrap();
    assert_eq!(cal.known_from(), d(2030, 1, 1));
    assert_eq!(cal.known_until(), d(2030, 12, 31));
    assert_eq!(cal.add_working_days(d(2030, 12, 24), 1), d(2030, 12, 27));

    let govuk = r#"{"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "New Year’s Day", "date": "2031-01-01", "notes": "", "bunting": true}]},
        "scotland": {"division": "scotland", "events": [
            {"title": "2nd January", "date": "2031-01-02", "notes": "", "bunting": true}]}}"#;
    let cal = WorkingCalendar::from_json(govuk).unwrap();
    assert!(!cal.is_working_day(d(2031, 1, 1)));
    assert!(
        cal.is_working_day(d(2031, 1, 2)),
        "Scotland's holidays are not used"
    );
    assert_eq!(cal.division(), "england-and-wales");
}

fn err(json: &str) -> CalendarError {
    WorkingCalendar::from_json(json).expect_err(json.get(..60).unwrap_or(json))
}

fn event_list(events: &str) -> String {
    format!(r#"{{"division": "england-and-wales", "events": [{events}]}}"#)
}

#[test]
fn bad_json_is_refused_clearly() {
    assert_eq!(err(""), CalendarError::Empty);
    assert_eq!(err("  \n\t "), CalendarError::Empty);
    assert!(matches!(err("garbage"), CalendarError::Json(_)));
    assert!(matches!(err("{\"events\": ["), CalendarError::Json(_)));
    assert!(matches!(err("[]"), CalendarError::Json(_)));
    assert!(matches!(err("42"), CalendarError::Json(_)));
    assert!(matches!(err("{\"events\": 7}"), CalendarError::Json(_)));
    assert!(matches!(
        err(&event_list(r#"{"title": "x", "date": 20250101}"#)),
        CalendarError::Json(_)
    ));
    assert!(matches!(
        err(&event_list(r#"{"date": "2025-01-01"}"#)),
        CalendarError::Json(_)
    ));
    assert_eq!(err("{}"), CalendarError::NoDivision);
    assert_eq!(
        err(r#"{"scotland": {"events": []}}"#),
        CalendarError::NoDivision
    );
    assert_eq!(err(&event_list("")), CalendarError::NoEvents);
    // Deep nesting is refused by the parser, not by overflowing the stack.
    let deep = "[".repeat(100_000);
    assert!(matches!(err(&deep), CalendarError::Json(_)));
    // The message says what is wrong.
    let message = err("garbage").to_string();
    assert!(
        message.starts_with("the bank holiday list could not be read: "),
        "{message}"
    );
}

#[test]
fn huge_input_is_refused_before_parsing() {
    let huge = format!("{{\"events\": [\"{}\"]}}", "x".repeat(MAX_JSON_BYTES));
    assert!(matches!(err(&huge), CalendarError::TooLarge { .. }));
    let many = event_list(&vec![r#"{"title":"a","date":"2020-01-01"}"#; MAX_EVENTS + 1].join(","));
    assert!(many.len() < MAX_JSON_BYTES);
    assert_eq!(
        err(&many),
        CalendarError::TooManyEvents {
            count: MAX_EVENTS + 1,
            max: MAX_EVENTS
        }
    );
}

#[test]
fn dates_that_do_not_exist_are_refused() {
    for bad in [
        "2025-02-30",
        "2023-02-29",
        "2025-04-31",
        "2025-13-01",
        "2025-00-10",
        "2025-12-00",
        "2025-2-3",
        "25-12-2025",
        "2025/12/25",
        "2025-12-25T00:00:00Z",
        "",
        "next Tuesday",
    ] {
        let e = err(&event_list(&format!(
            r#"{{"title": "Good Friday", "date": "2025-04-18"}}, {{"title": "Oops", "date": "{bad}"}}"#
        )));
        assert_eq!(
            e,
            CalendarError::BadDate {
                index: 2,
                title: "Oops".into(),
                date: bad.into()
            }
        );
    }
    let message = err(&event_list(r#"{"title": "Oops", "date": "2025-02-30"}"#)).to_string();
    assert_eq!(
        message,
        r#"event 1 ("Oops"): "2025-02-30" is not a real date in the form YYYY-MM-DD"#
    );
    // 29 February in a leap year is fine.
    assert!(
        WorkingCalendar::from_json(&event_list(r#"{"title": "Leap", "date": "2024-02-29"}"#))
            .is_ok()
    );
}

#[test]
fn other_mistakes_are_refused() {
    assert!(matches!(
        err(&event_list(r#"{"title": "Battle", "date": "1066-10-14"}"#)),
        CalendarError::YearOutOfRange { index: 1, .. }
    ));
    assert!(matches!(
        err(&event_list(r#"{"title": "  ", "date": "2025-01-01"}"#)),
        CalendarError::EmptyTitle { index: 1, .. }
    ));
    assert_eq!(
        err(&event_list(
            r#"{"title": "A", "date": "2025-01-01"}, {"title": "B", "date": "2025-01-01"}"#
        )),
        CalendarError::Duplicate {
            date: d(2025, 1, 1),
            first: "A".into(),
            second: "B".into()
        }
    );
    let gap = err(&event_list(
        r#"{"title": "A", "date": "2020-01-01"}, {"title": "B", "date": "2022-01-03"}"#,
    ));
    assert_eq!(
        gap,
        CalendarError::MissingYear {
            year: 2021,
            from: 2020,
            until: 2022
        }
    );
    assert_eq!(
        gap.to_string(),
        "the bank holiday list has no dates in 2021: it must cover every year from 2020 to 2022 in full"
    );
}
