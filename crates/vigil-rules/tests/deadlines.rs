//! Statutory deadlines across weekends, bank holidays and summer time.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use vigil_rules::deadlines::{
    assessment_due, icpc_due, referral_decision_due, return_interview_due, Deadline, DeadlineRules,
    DeadlineStatus, Measure, Step, TimescaleError, Timescales,
};
use vigil_rules::{Holiday, WorkingCalendar};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The working day a deadline falls on.
fn due_day(deadline: &Deadline) -> NaiveDate {
    match deadline.measure {
        Measure::WorkingDays { due_day, .. } => due_day,
        Measure::ClockHours { .. } => panic!("not a working-day deadline"),
    }
}

#[test]
fn referral_received_friday_evening_is_due_end_of_monday() {
    let received = utc(2025, 1, 3, 18, 30); // Friday 3 January 2025, GMT
    let deadline = referral_decision_due(received);
    assert_eq!(deadline.step, Step::ReferralDecision);
    assert_eq!(due_day(&deadline), date(2025, 1, 6));
    assert_eq!(deadline.due_at, utc(2025, 1, 7, 0, 0));
    assert_eq!(deadline.basis, "1 working day from receipt");
    assert!(!deadline.calendar_incomplete);
    assert_eq!(
        deadline.describe(received),
        "due by end of Monday 6 January"
    );
}

#[test]
fn referral_received_at_the_weekend_is_due_end_of_monday() {
    for received in [utc(2025, 1, 4, 9, 0), utc(2025, 1, 5, 23, 59)] {
        assert_eq!(due_day(&referral_decision_due(received)), date(2025, 1, 6));
    }
}

#[test]
fn referral_decisions_across_bank_holidays() {
    let cases = [
        // (received, due by end of)
        (utc(2025, 4, 17, 15, 0), date(2025, 4, 22)), // Thursday before Good Friday
        (utc(2024, 3, 28, 10, 0), date(2024, 4, 2)),  // ... and in 2024 (Easter in March)
        (utc(2025, 4, 18, 10, 0), date(2025, 4, 22)), // received on Good Friday itself
        (utc(2021, 12, 24, 12, 0), date(2021, 12, 29)), // Christmas and Boxing Day substitutes
        (utc(2021, 12, 23, 12, 0), date(2021, 12, 24)), // Christmas Eve is a working day
        (utc(2021, 12, 31, 12, 0), date(2022, 1, 4)), // New Year's Day substitute, Mon 3 Jan
        (utc(2022, 12, 23, 12, 0), date(2022, 12, 28)), // Boxing Day Mon, Christmas substitute Tue
        (utc(2022, 12, 30, 12, 0), date(2023, 1, 3)), // New Year's Day substitute, Mon 2 Jan
        (utc(2020, 12, 24, 12, 0), date(2020, 12, 29)), // Boxing Day substitute Mon 28 Dec
        (utc(2027, 12, 24, 12, 0), date(2027, 12, 29)), // 2027 substitutes
        (utc(2027, 12, 31, 12, 0), date(2028, 1, 4)), // 2028 New Year substitute (check)
        (utc(2022, 6, 1, 12, 0), date(2022, 6, 6)),   // Spring bank holiday and Platinum Jubilee
        (utc(2022, 9, 16, 12, 0), date(2022, 9, 20)), // State Funeral of Queen Elizabeth II
        (utc(2023, 5, 5, 12, 0), date(2023, 5, 9)),   // Coronation of King Charles III
        (utc(2023, 4, 28, 12, 0), date(2023, 5, 2)),  // Early May the week before
        (utc(2025, 5, 23, 12, 0), date(2025, 5, 27)), // late May
        (utc(2025, 5, 2, 12, 0), date(2025, 5, 6)),   // early May 2025 (Monday 5 May)
        (utc(2020, 5, 7, 12, 0), date(2020, 5, 11)),  // VE Day Friday 8 May 2020
        (utc(2025, 8, 22, 12, 0), date(2025, 8, 26)), // late August
    ];
    for (received, due) in cases {
        let deadline = referral_decision_due(received);
        assert_eq!(due_day(&deadline), due, "received {received}");
        assert!(!deadline.calendar_incomplete, "received {received}");
    }
}

#[test]
fn the_day_of_receipt_is_the_uk_date() {
    // 23:30 UTC on Sunday 30 June 2024 is 00:30 on Monday 1 July in London:
    // received Monday, so due by the end of Tuesday (midnight BST = 23:00 UTC).
    let deadline = referral_decision_due(utc(2024, 6, 30, 23, 30));
    assert_eq!(due_day(&deadline), date(2024, 7, 2));
    assert_eq!(deadline.due_at, utc(2024, 7, 2, 23, 0));
    // In winter, 23:30 UTC on a Sunday is still Sunday.
    let deadline = referral_decision_due(utc(2025, 1, 5, 23, 30));
    assert_eq!(due_day(&deadline), date(2025, 1, 6));
    assert_eq!(deadline.due_at, utc(2025, 1, 7, 0, 0));
    // Across the change to summer time: received Friday 28 March 2025 (GMT),
    // due end of Monday 31 March (BST).
    let deadline = referral_decision_due(utc(2025, 3, 28, 17, 0));
    assert_eq!(deadline.due_at, utc(2025, 3, 31, 23, 0));
}

#[test]
fn assessment_and_icpc_count_working_days() {
    let deadline = assessment_due(utc(2025, 1, 6, 10, 0));
    assert_eq!(deadline.step, Step::Assessment);
    assert_eq!(due_day(&deadline), date(2025, 3, 10));
    assert_eq!(deadline.basis, "45 working days from referral");
    // Across Easter and both May bank holidays.
    assert_eq!(
        due_day(&assessment_due(utc(2025, 3, 31, 10, 0))),
        date(2025, 6, 6)
    );

    // Strategy discussion Wednesday 10 December 2025: 15 working days, with
    // Christmas, Boxing Day and New Year's Day in between.
    let deadline = icpc_due(utc(2025, 12, 10, 14, 0));
    assert_eq!(deadline.step, Step::InitialChildProtectionConference);
    assert_eq!(due_day(&deadline), date(2026, 1, 5));
    assert_eq!(
        deadline.basis,
        "15 working days from the strategy discussion"
    );
    assert_eq!(
        deadline.describe(utc(2025, 12, 10, 14, 0)),
        "due by end of Monday 5 January 2026"
    );
}

#[test]
fn return_home_interview_is_72_clock_hours_even_over_a_weekend() {
    let returned = utc(2025, 1, 3, 21, 30); // Friday night
    let deadline = return_interview_due(returned);
    assert_eq!(deadline.step, Step::ReturnHomeInterview);
    assert_eq!(deadline.due_at, utc(2025, 1, 6, 21, 30));
    assert_eq!(deadline.due_at - returned, TimeDelta::hours(72));
    assert_eq!(deadline.basis, "72 hours from return");
    assert_eq!(deadline.measure, Measure::ClockHours { hours: 72 });
    assert!(!deadline.calendar_incomplete);
    assert_eq!(
        deadline.describe(returned),
        "due by 21:30 on Monday 6 January"
    );
    // Over Easter: bank holidays make no difference either.
    let returned = utc(2025, 4, 17, 16, 0);
    assert_eq!(
        return_interview_due(returned).due_at,
        utc(2025, 4, 20, 16, 0)
    );
    // Over the change to summer time: still 72 real hours, shown in BST.
    let returned = utc(2025, 3, 28, 20, 0);
    let deadline = return_interview_due(returned);
    assert_eq!(deadline.due_at, utc(2025, 3, 31, 20, 0));
    assert_eq!(
        deadline.describe(returned),
        "due by 21:00 on Monday 31 March"
    );
    // Beyond the known calendar too.
    assert!(!return_interview_due(utc(2031, 1, 1, 0, 0)).calendar_incomplete);
}

#[test]
fn deadlines_beyond_the_list_are_flagged() {
    // Friday 29 December 2028: the next working day by weekends alone is
    // Monday 1 January 2029, which is almost certainly a bank holiday.
    let deadline = referral_decision_due(utc(2028, 12, 29, 12, 0));
    assert_eq!(due_day(&deadline), date(2029, 1, 1));
    assert!(deadline.calendar_incomplete);
    // An assessment started in November 2028 runs into 2029.
    assert!(assessment_due(utc(2028, 11, 20, 12, 0)).calendar_incomplete);
    // Before the list starts.
    assert!(referral_decision_due(utc(2017, 12, 29, 12, 0)).calendar_incomplete);
    // Inside it.
    assert!(!assessment_due(utc(2028, 9, 1, 12, 0)).calendar_incomplete);
}

#[test]
fn status_and_description_through_time() {
    let received = utc(2025, 1, 3, 18, 30); // Friday
    let deadline = referral_decision_due(received); // due by end of Monday 6 January

    let friday = utc(2025, 1, 3, 19, 0);
    assert!(matches!(
        deadline.status(friday),
        DeadlineStatus::OnTime { .. }
    ));
    let monday_morning = utc(2025, 1, 6, 9, 0);
    assert_eq!(
        deadline.status(monday_morning),
        DeadlineStatus::DueToday {
            remaining: TimeDelta::hours(15)
        }
    );
    assert_eq!(
        deadline.describe(monday_morning),
        "due today (by end of Monday 6 January)"
    );
    let last_moment = deadline.due_at - TimeDelta::nanoseconds(1);
    assert!(!deadline.is_overdue(last_moment));
    assert!(matches!(
        deadline.status(last_moment),
        DeadlineStatus::DueToday { .. }
    ));
    assert!(deadline.is_overdue(deadline.due_at));
    assert_eq!(
        deadline.status(deadline.due_at),
        DeadlineStatus::Overdue {
            by: TimeDelta::zero(),
            working_days: 1
        }
    );
    assert_eq!(
        deadline.describe(utc(2025, 1, 7, 9, 0)),
        "overdue by 1 working day (was due by end of Monday 6 January)"
    );
    assert_eq!(
        deadline.describe(utc(2025, 1, 8, 9, 0)),
        "overdue by 2 working days (was due by end of Monday 6 January)"
    );
    assert_eq!(
        deadline.status(utc(2025, 1, 13, 9, 0)),
        DeadlineStatus::Overdue {
            by: TimeDelta::hours(6 * 24 + 9),
            working_days: 5
        }
    );

    // Due by end of Friday; on Saturday it is overdue, but no working day
    // has been lost yet.
    let deadline = referral_decision_due(utc(2025, 1, 2, 11, 0));
    assert_eq!(due_day(&deadline), date(2025, 1, 3));
    let saturday = utc(2025, 1, 4, 10, 0);
    assert_eq!(
        deadline.status(saturday),
        DeadlineStatus::Overdue {
            by: TimeDelta::hours(10),
            working_days: 0
        }
    );
    assert_eq!(
        deadline.describe(saturday),
        "overdue since end of Friday 3 January"
    );

    // Clock-hour deadlines describe lateness in time.
    let rhi = return_interview_due(utc(2025, 1, 3, 21, 30));
    assert_eq!(
        rhi.describe(utc(2025, 1, 6, 21, 55)),
        "overdue by 25 minutes (was due by 21:30 on Monday 6 January)"
    );
    assert_eq!(
        rhi.describe(utc(2025, 1, 7, 2, 30)),
        "overdue by 5 hours (was due by 21:30 on Monday 6 January)"
    );
    assert_eq!(
        rhi.describe(utc(2025, 1, 10, 9, 0)),
        "overdue by 3 days (was due by 21:30 on Monday 6 January)"
    );
    assert_eq!(
        rhi.describe(utc(2025, 1, 6, 8, 0)),
        "due today (by 21:30 on Monday 6 January)"
    );
}

#[test]
fn custom_timescales_and_calendar() {
    let calendar = WorkingCalendar::england_and_wales()
        .with_extra_holidays([Holiday::new(date(2025, 1, 6), "Local closure")]);
    let timescales = Timescales {
        referral_decision_working_days: 2,
        return_interview_hours: 48,
        ..Timescales::default()
    };
    let rules = DeadlineRules::new(timescales, Arc::new(calendar)).unwrap();
    let deadline = rules.referral_decision_due(utc(2025, 1, 3, 18, 30));
    assert_eq!(due_day(&deadline), date(2025, 1, 8));
    assert_eq!(deadline.basis, "2 working days from receipt");
    let rhi = rules.return_interview_due(utc(2025, 1, 3, 21, 30));
    assert_eq!(rhi.due_at, utc(2025, 1, 5, 21, 30));
    assert_eq!(rhi.basis, "48 hours from return");
    // Zero working days: by the end of the day of receipt.
    let same_day = DeadlineRules::new(
        Timescales {
            referral_decision_working_days: 0,
            ..Timescales::default()
        },
        Arc::new(WorkingCalendar::england_and_wales()),
    )
    .unwrap();
    let deadline = same_day.referral_decision_due(utc(2025, 1, 3, 10, 0));
    assert_eq!(deadline.due_at, utc(2025, 1, 4, 0, 0));
    assert_eq!(deadline.basis, "0 working days from receipt");
}

#[test]
fn implausible_timescales_are_refused() {
    let calendar = Arc::new(WorkingCalendar::england_and_wales());
    let too_long = Timescales {
        assessment_working_days: 450_000,
        ..Timescales::default()
    };
    let e = DeadlineRules::new(too_long, Arc::clone(&calendar)).unwrap_err();
    assert!(matches!(
        e,
        TimescaleError::TooManyWorkingDays {
            step: "assessment",
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "the assessment timescale of 450000 working days is more than the 2610 allowed"
    );
    let no_hours = Timescales {
        return_interview_hours: 0,
        ..Timescales::default()
    };
    assert!(matches!(
        DeadlineRules::new(no_hours, calendar).unwrap_err(),
        TimescaleError::BadHours { value: 0, .. }
    ));
}

#[test]
fn timescales_are_configuration() {
    let defaults = Timescales::default();
    assert_eq!(defaults.referral_decision_working_days, 1);
    assert_eq!(defaults.assessment_working_days, 45);
    assert_eq!(defaults.icpc_working_days, 15);
    assert_eq!(defaults.return_interview_hours, 72);
    // Missing fields take the defaults; unknown fields are a mistake.
    let parsed: Timescales = serde_json::from_str(r#"{"assessment_working_days": 40}"#).unwrap();
    assert_eq!(parsed.assessment_working_days, 40);
    assert_eq!(parsed.icpc_working_days, 15);
    assert!(serde_json::from_str::<Timescales>(r#"{"assesment_working_days": 40}"#).is_err());
    assert_eq!(DeadlineRules::standard().timescales(), &defaults);
}

#[test]
fn a_child_in_immediate_danger_is_decided_the_same_day_whatever_the_day() {
    let rules = DeadlineRules::standard();
    // Saturday 4 January 2025, 10:00 GMT: the same day, not Monday.
    let d = rules.referral_decision_due_for(utc(2025, 1, 4, 10, 0), true);
    assert_eq!(d.step, Step::ImmediateDangerDecision);
    assert_eq!(due_day(&d), date(2025, 1, 4));
    assert_eq!(
        d.due_at,
        utc(2025, 1, 5, 0, 0),
        "midnight at the end of Saturday"
    );
    assert_eq!(
        d.describe(utc(2025, 1, 4, 10, 5)),
        "due today (by end of Saturday 4 January)"
    );
    assert!(d.is_overdue(utc(2025, 1, 5, 0, 0)));
    // Good Friday 2025 (18 April) is a bank holiday: still the same day.
    let d = rules.referral_decision_due_for(utc(2025, 4, 18, 9, 0), true);
    assert_eq!(due_day(&d), date(2025, 4, 18));
    // 23:30 UTC on 30 June is already 1 July in UK summer time.
    let d = rules.referral_decision_due_for(utc(2024, 6, 30, 23, 30), true);
    assert_eq!(due_day(&d), date(2024, 7, 1));
    // Without immediate danger the working-day rule applies as before.
    let d = rules.referral_decision_due_for(utc(2025, 1, 4, 10, 0), false);
    assert_eq!(d.step, Step::ReferralDecision);
    assert_eq!(due_day(&d), date(2025, 1, 6));
    assert_eq!(d, referral_decision_due(utc(2025, 1, 4, 10, 0)));
}

#[test]
fn an_alert_must_be_acknowledged_by_its_severity_s_working_days_then_escalates() {
    use vigil_model::codes::AlertSeverity;
    use vigil_rules::escalation::{Escalation, EscalationPolicy};
    let rules = DeadlineRules::standard();
    // Raised on Friday 2 May 2025 at 19:00 London time; Monday 5 May is a
    // bank holiday.
    let raised = utc(2025, 5, 2, 18, 0);
    let high = rules.alert_acknowledgement_due(AlertSeverity::High, raised);
    assert_eq!(due_day(&high), date(2025, 5, 6));
    assert_eq!(high.basis, "1 working day from the alert");
    let medium = rules.alert_acknowledgement_due(AlertSeverity::Medium, raised);
    assert_eq!(due_day(&medium), date(2025, 5, 12));
    // Unacknowledged: the supervisor from the first minute of Wednesday
    // (London); the head of service on Friday, the third working day late.
    let policy = EscalationPolicy::default();
    assert_eq!(
        policy.escalation(&high, utc(2025, 5, 6, 22, 59)),
        Escalation::OwnerReminded
    );
    assert_eq!(
        policy.escalation(&high, utc(2025, 5, 6, 23, 0)),
        Escalation::Supervisor
    );
    assert_eq!(
        policy.escalation(&high, utc(2025, 5, 8, 22, 59)),
        Escalation::Supervisor
    );
    assert_eq!(
        policy.escalation(&high, utc(2025, 5, 8, 23, 0)),
        Escalation::HeadOfService
    );
}
