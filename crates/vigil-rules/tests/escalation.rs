//! Escalation of work as its deadline nears and passes.

use chrono::{DateTime, TimeZone, Utc};
use vigil_rules::deadlines::{referral_decision_due, return_interview_due};
use vigil_rules::{Escalation, EscalationPolicy};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[test]
fn a_referral_escalates_day_by_day() {
    // Received Friday 3 January 2025; due by the end of Monday 6 January.
    let deadline = referral_decision_due(utc(2025, 1, 3, 18, 30));
    let at = |now| Escalation::for_overdue(&deadline, now);
    assert_eq!(at(utc(2025, 1, 3, 19, 0)), Escalation::None);
    assert_eq!(at(utc(2025, 1, 5, 12, 0)), Escalation::None);
    assert_eq!(at(utc(2025, 1, 6, 0, 1)), Escalation::OwnerReminded);
    assert_eq!(at(utc(2025, 1, 6, 23, 30)), Escalation::OwnerReminded);
    assert_eq!(at(utc(2025, 1, 7, 0, 0)), Escalation::Supervisor);
    assert_eq!(at(utc(2025, 1, 8, 17, 0)), Escalation::Supervisor); // 2 working days late
    assert_eq!(at(utc(2025, 1, 9, 9, 0)), Escalation::HeadOfService); // 3
    assert_eq!(at(utc(2025, 6, 1, 9, 0)), Escalation::HeadOfService); // and it stays there
}

#[test]
fn weekends_and_holidays_do_not_count_towards_head_of_service() {
    // Received Wednesday 23 December 2020; due by the end of Thursday 24th.
    // Christmas Day (Fri), the weekend and Boxing Day's substitute (Mon 28)
    // pass before any working day is lost.
    let deadline = referral_decision_due(utc(2020, 12, 23, 12, 0));
    let at = |now| Escalation::for_overdue(&deadline, now);
    assert_eq!(at(utc(2020, 12, 28, 12, 0)), Escalation::Supervisor);
    assert_eq!(at(utc(2020, 12, 30, 12, 0)), Escalation::Supervisor); // Tue 29, Wed 30
    assert_eq!(at(utc(2020, 12, 31, 12, 0)), Escalation::HeadOfService);
}

#[test]
fn return_interview_reminds_in_the_last_two_hours() {
    // Returned Friday 21:30 GMT; interview due by 21:30 on Monday.
    let deadline = return_interview_due(utc(2025, 1, 3, 21, 30));
    let at = |now| Escalation::for_overdue(&deadline, now);
    assert_eq!(at(utc(2025, 1, 5, 21, 30)), Escalation::None);
    assert_eq!(at(utc(2025, 1, 6, 8, 0)), Escalation::OwnerReminded); // due today
    assert_eq!(at(utc(2025, 1, 6, 21, 30)), Escalation::Supervisor);

    // Without the due-day reminder, only the two-hour window applies.
    let policy = EscalationPolicy {
        remind_on_due_day: false,
        ..EscalationPolicy::default()
    };
    assert_eq!(
        policy.escalation(&deadline, utc(2025, 1, 6, 8, 0)),
        Escalation::None
    );
    assert_eq!(
        policy.escalation(&deadline, utc(2025, 1, 6, 19, 45)),
        Escalation::OwnerReminded
    );

    // A deadline just after midnight: the window reaches back into the day before.
    let deadline = return_interview_due(utc(2025, 1, 4, 0, 30)); // due Tue 7 Jan 00:30
    assert_eq!(
        Escalation::for_overdue(&deadline, utc(2025, 1, 6, 23, 0)),
        Escalation::OwnerReminded
    );
    assert_eq!(
        Escalation::for_overdue(&deadline, utc(2025, 1, 6, 22, 0)),
        Escalation::None
    );
}

#[test]
fn policy_is_configuration() {
    let deadline = referral_decision_due(utc(2025, 1, 3, 18, 30));
    let strict = EscalationPolicy {
        head_of_service_after_working_days: 0,
        ..EscalationPolicy::default()
    };
    assert_eq!(
        strict.escalation(&deadline, utc(2025, 1, 7, 9, 0)),
        Escalation::HeadOfService
    );
    let parsed: EscalationPolicy =
        serde_json::from_str(r#"{"remind_within_minutes": 60}"#).unwrap();
    assert_eq!(parsed.remind_within_minutes, 60);
    assert_eq!(parsed.head_of_service_after_working_days, 2);
    assert!(serde_json::from_str::<EscalationPolicy>(r#"{"remind_within": 60}"#).is_err());
}

#[test]
fn levels_are_ordered_and_named() {
    assert!(Escalation::None < Escalation::OwnerReminded);
    assert!(Escalation::OwnerReminded < Escalation::Supervisor);
    assert!(Escalation::Supervisor < Escalation::HeadOfService);
    assert_eq!(
        Escalation::Supervisor.who(),
        "the owner and their supervisor"
    );
    assert_eq!(
        serde_json::to_string(&Escalation::HeadOfService).unwrap(),
        "\"head_of_service\""
    );
}

/// A case action escalates to the owner's supervisor one day after its due
/// date, not before (the policy referrals use).
#[test]
fn a_case_action_escalates_to_the_supervisor_the_day_after_it_is_due() {
    use vigil_rules::deadlines::{case_action_due, Step};
    use vigil_rules::escalation::Escalation;
    let due = chrono::NaiveDate::from_ymd_opt(2025, 11, 7).unwrap(); // a Friday
    let d = case_action_due(due);
    assert_eq!(d.step, Step::CaseAction);
    assert_eq!(d.due_date(), due);
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    // The day before: nobody; on the day: the owner; the day after: the supervisor.
    assert_eq!(
        Escalation::for_overdue(&d, at("2025-11-06T10:00:00Z")),
        Escalation::None
    );
    assert_eq!(
        Escalation::for_overdue(&d, at("2025-11-07T23:59:00Z")),
        Escalation::OwnerReminded
    );
    assert!(!d.is_overdue(at("2025-11-07T23:59:59Z")));
    assert!(d.is_overdue(at("2025-11-08T00:00:00Z")));
    assert_eq!(
        Escalation::for_overdue(&d, at("2025-11-08T09:00:00Z")),
        Escalation::Supervisor
    );
    // More than two working days late: the head of service.
    assert_eq!(
        Escalation::for_overdue(&d, at("2025-11-12T09:00:00Z")),
        Escalation::HeadOfService
    );
}
