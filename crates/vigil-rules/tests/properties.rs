//! Property tests: the fast working-day arithmetic agrees with a day-by-day
//! reference, and deadlines and escalation behave sensibly at every moment.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc, Weekday};
use proptest::prelude::*;
use vigil_rules::deadlines::{DeadlineRules, Measure, Timescales};
use vigil_rules::{Escalation, Holiday, WorkingCalendar};

fn calendar() -> &'static WorkingCalendar {
    DeadlineRules::standard().calendar()
}

/// Dates from 2016 to 2031: both edges of the shipped list and everything
/// in it.
fn a_date() -> impl Strategy<Value = NaiveDate> {
    let from = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
    (0u64..16 * 366).prop_map(move |days| from + Days::new(days))
}

/// Instants over the same range, to the second.
fn an_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let from = NaiveDate::from_ymd_opt(2016, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    (0i64..16 * 366 * 86_400).prop_map(move |s| from + TimeDelta::seconds(s))
}

/// The plain definition, one day at a time.
fn reference_add(cal: &WorkingCalendar, start: NaiveDate, n: u32) -> NaiveDate {
    let mut day = start;
    let mut left = n;
    while left > 0 {
        day = day.succ_opt().unwrap();
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && cal.holiday(day).is_none() {
            left -= 1;
        }
    }
    day
}

fn reference_between(cal: &WorkingCalendar, a: NaiveDate, b: NaiveDate) -> i64 {
    let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
    let mut count = 0;
    let mut day = lo;
    while day < hi {
        day = day.succ_opt().unwrap();
        if cal.is_working_day(day) {
            count += 1;
        }
    }
    sign * count
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn add_working_days_matches_the_reference(start in a_date(), n in 0u32..400) {
        prop_assert_eq!(calendar().add_working_days(start, n), reference_add(calendar(), start, n));
    }

    #[test]
    fn add_working_days_lands_on_a_working_day(start in a_date(), n in 1u32..2000) {
        let cal = calendar();
        let due = cal.add_working_days(start, n);
        prop_assert!(cal.is_working_day(due));
        prop_assert!(due > start);
        // ... and it is the first day with that count: the day before has one fewer.
        prop_assert_eq!(cal.working_days_between(start, due.pred_opt().unwrap()), i64::from(n) - 1);
    }

    #[test]
    fn add_working_days_is_monotone(start in a_date(), n in 0u32..1000, extra in 1u32..100) {
        let cal = calendar();
        prop_assert!(cal.add_working_days(start, n) < cal.add_working_days(start, n + extra));
    }

    #[test]
    fn between_inverts_add(start in a_date(), n in 0u32..2000) {
        let cal = calendar();
        let due = cal.add_working_days(start, n);
        prop_assert_eq!(cal.working_days_between(start, due), i64::from(n));
        prop_assert_eq!(cal.working_days_between(due, start), -i64::from(n));
    }

    #[test]
    fn between_matches_the_reference_and_adds_up(a in a_date(), b in a_date(), c in a_date()) {
        let cal = calendar();
        prop_assert_eq!(cal.working_days_between(a, b), reference_between(cal, a, b));
        prop_assert_eq!(
            cal.working_days_between(a, b) + cal.working_days_between(b, c),
            cal.working_days_between(a, c)
        );
    }

    #[test]
    fn next_working_day_is_the_first_one_after(day in a_date()) {
        let cal = calendar();
        let next = cal.next_working_day(day);
        prop_assert!(cal.is_working_day(next));
        let mut between = day.succ_opt().unwrap();
        while between < next {
            prop_assert!(!cal.is_working_day(between));
            between = between.succ_opt().unwrap();
        }
    }

    #[test]
    fn extra_holidays_keep_the_invariants(
        extra in proptest::collection::vec(a_date(), 0..40),
        start in a_date(),
        n in 0u32..300,
    ) {
        let cal = WorkingCalendar::england_and_wales()
            .with_extra_holidays(extra.iter().map(|d| Holiday::new(*d, "Extra")));
        for d in &extra {
            prop_assert!(!cal.is_working_day(*d));
        }
        let due = cal.add_working_days(start, n);
        prop_assert_eq!(due, reference_add(&cal, start, n));
        prop_assert_eq!(cal.working_days_between(start, due), i64::from(n));
    }

    #[test]
    fn far_from_the_list_only_weekends_count(
        days in 0u64..2_000_000,
        n in 0u32..100_000,
    ) {
        // Years 2200 to about 7600: no holidays, so pure weekday arithmetic.
        let start = NaiveDate::from_ymd_opt(2200, 1, 1).unwrap() + Days::new(days);
        let cal = calendar();
        let due = cal.add_working_days(start, n);
        prop_assert_eq!(cal.working_days_between(start, due), i64::from(n));
        if n > 0 {
            prop_assert!(!matches!(due.weekday(), Weekday::Sat | Weekday::Sun));
        }
        // n working days span at most n / 5 weeks plus a weekend.
        let span = (due - start).num_days();
        prop_assert!(span <= i64::from(n) / 5 * 7 + 7);
    }

    #[test]
    fn working_day_deadlines_fall_at_the_end_of_a_working_day(
        at in an_instant(),
        days in 0u32..60,
    ) {
        let rules = DeadlineRules::new(
            Timescales { referral_decision_working_days: days, ..Timescales::default() },
            Arc::new(WorkingCalendar::england_and_wales()),
        ).unwrap();
        let deadline = rules.referral_decision_due(at);
        prop_assert!(deadline.due_at > at);
        let Measure::WorkingDays { due_day, .. } = deadline.measure else {
            return Err(TestCaseError::fail("not a working-day deadline"));
        };
        if days > 0 {
            prop_assert!(rules.calendar().is_working_day(due_day));
        }
        // The last instant before due_at is on the due day in London; due_at
        // itself is the next day.
        let last = deadline.due_at - TimeDelta::nanoseconds(1);
        prop_assert_eq!(vigil_rules::london::local_date(last), due_day);
        prop_assert_eq!(vigil_rules::london::local_date(deadline.due_at), due_day.succ_opt().unwrap());
        prop_assert!(!deadline.is_overdue(last));
        prop_assert!(deadline.is_overdue(deadline.due_at));
    }

    #[test]
    fn return_interviews_are_always_72_clock_hours(at in an_instant()) {
        let deadline = vigil_rules::deadlines::return_interview_due(at);
        prop_assert_eq!(deadline.due_at - at, TimeDelta::hours(72));
    }

    #[test]
    fn escalation_never_goes_down(
        received in an_instant(),
        first in 0i64..90 * 86_400,
        later in 0i64..90 * 86_400,
        clock in any::<bool>(),
    ) {
        let deadline = if clock {
            vigil_rules::deadlines::return_interview_due(received)
        } else {
            vigil_rules::deadlines::referral_decision_due(received)
        };
        let t1 = received + TimeDelta::seconds(first.min(later));
        let t2 = received + TimeDelta::seconds(first.max(later));
        let e1 = Escalation::for_overdue(&deadline, t1);
        let e2 = Escalation::for_overdue(&deadline, t2);
        prop_assert!(e1 <= e2, "{:?} at {} then {:?} at {}", e1, t1, e2, t2);
        // Overdue means at least the supervisor knows.
        prop_assert_eq!(deadline.is_overdue(t2), e2 >= Escalation::Supervisor);
    }
}
