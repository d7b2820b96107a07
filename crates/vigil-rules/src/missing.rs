//! Missing episodes: where a return home interview stands, how many
//! episodes fell in each of the last twelve months, and the pattern of
//! where a child was found and who with.
//!
//! The return home interview is due within 72 **clock hours** of the
//! child's return ([`crate::deadlines::DeadlineRules::return_interview_due`]):
//! a return at Friday 18:00 is due by Monday 18:00, and bank holidays do not
//! move it. An interview the child declined still counts as offered and
//! done. An overdue interview escalates by the same policy as an overdue
//! referral ([`crate::escalation::EscalationPolicy`]): the supervisor once
//! it is overdue, the head of service once more than two working days late.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::deadlines::{Deadline, DeadlineRules};
use crate::escalation::{Escalation, EscalationPolicy};
use crate::london;

/// Where a return home interview stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterviewStatus {
    /// The child has not been recorded as back: nothing is due yet.
    StillMissing,
    /// Held or declined by the child (offered).
    Done,
    /// Not done yet: its deadline and who must be told now.
    Due {
        /// Due 72 clock hours after the return.
        deadline: Deadline,
        /// Who the escalation policy says must be told at `now`.
        escalation: Escalation,
        /// Whether the deadline has passed.
        overdue: bool,
    },
}

/// Where the interview for an episode stands at `now`.
pub fn interview_status(
    rules: &DeadlineRules,
    policy: &EscalationPolicy,
    returned_at: Option<DateTime<Utc>>,
    done: bool,
    now: DateTime<Utc>,
) -> InterviewStatus {
    let Some(returned) = returned_at else {
        return InterviewStatus::StillMissing;
    };
    if done {
        return InterviewStatus::Done;
    }
    let deadline = rules.return_interview_due(returned);
    InterviewStatus::Due {
        escalation: policy.escalation(&deadline, now),
        overdue: deadline.is_overdue(now),
        deadline,
    }
}

/// One calendar month (UK local time) and how many episodes began in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthCount {
    /// The first day of the month.
    pub month: NaiveDate,
    /// Episodes that began in it.
    pub count: usize,
}

/// Episodes begun in each of the twelve calendar months ending with the
/// month of `today` (oldest first), by the UK local date of each start.
/// Starts outside those months are not counted.
pub fn episodes_per_month(starts: &[DateTime<Utc>], today: NaiveDate) -> Vec<MonthCount> {
    let first_of = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let this_month = first_of(today);
    let mut months: Vec<MonthCount> = (0..12)
        .rev()
        .filter_map(|back| this_month.checked_sub_months(chrono::Months::new(back)))
        .map(|month| MonthCount { month, count: 0 })
        .collect();
    for s in starts {
        let m = first_of(london::local_date(*s));
        if let Some(slot) = months.iter_mut().find(|c| c.month == m) {
            slot.count += 1;
        }
    }
    months
}

/// How often each answer occurs ("where found", "who with"), most often
/// first, then by name. Answers are compared ignoring case and spacing;
/// the first spelling seen is the one shown. Empty answers are skipped.
pub fn pattern<'a>(answers: impl IntoIterator<Item = &'a str>) -> Vec<(String, usize)> {
    let key = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let mut out: Vec<(String, String, usize)> = Vec::new();
    for a in answers {
        let k = key(a);
        if k.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(kk, _, _)| *kk == k) {
            Some(e) => e.2 += 1,
            None => out.push((k, a.split_whitespace().collect::<Vec<_>>().join(" "), 1)),
        }
    }
    out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    out.into_iter().map(|(_, shown, n)| (shown, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn a_friday_evening_return_is_due_monday_evening() {
        let rules = DeadlineRules::standard();
        let policy = EscalationPolicy::default();
        // Friday 10 January 2025, 18:00 (GMT): due Monday 13 January 18:00.
        let back = utc(2025, 1, 10, 18, 0);
        let InterviewStatus::Due {
            deadline,
            overdue,
            escalation,
        } = interview_status(rules, &policy, Some(back), false, back)
        else {
            panic!("due")
        };
        assert_eq!(deadline.due_at, utc(2025, 1, 13, 18, 0));
        assert!(!overdue);
        assert_eq!(escalation, Escalation::None);
        assert_eq!(deadline.describe(back), "due by 18:00 on Monday 13 January");
        // A minute before: the owner is reminded; at the deadline: overdue, supervisor.
        let at = |t| interview_status(rules, &policy, Some(back), false, t);
        assert!(matches!(
            at(utc(2025, 1, 13, 17, 59)),
            InterviewStatus::Due {
                overdue: false,
                escalation: Escalation::OwnerReminded,
                ..
            }
        ));
        assert!(matches!(
            at(utc(2025, 1, 13, 18, 0)),
            InterviewStatus::Due {
                overdue: true,
                escalation: Escalation::Supervisor,
                ..
            }
        ));
        // More than two working days late: the head of service.
        assert!(matches!(
            at(utc(2025, 1, 16, 18, 0)),
            InterviewStatus::Due {
                overdue: true,
                escalation: Escalation::HeadOfService,
                ..
            }
        ));
        // Done (or declined) stops it; still missing means nothing is due.
        assert_eq!(
            interview_status(rules, &policy, Some(back), true, utc(2025, 2, 1, 0, 0)),
            InterviewStatus::Done
        );
        assert_eq!(
            interview_status(rules, &policy, None, false, utc(2025, 2, 1, 0, 0)),
            InterviewStatus::StillMissing
        );
    }

    #[test]
    fn a_bank_holiday_does_not_move_it() {
        let rules = DeadlineRules::standard();
        // Friday 23 May 2025 18:00 BST (17:00 UTC); Monday 26 May is the
        // spring bank holiday: still due Monday 26 May 18:00 BST.
        let back = utc(2025, 5, 23, 17, 0);
        let d = rules.return_interview_due(back);
        assert!(rules
            .calendar()
            .holiday(NaiveDate::from_ymd_opt(2025, 5, 26).unwrap())
            .is_some());
        assert_eq!(d.due_at, utc(2025, 5, 26, 17, 0));
        assert_eq!(d.describe(back), "due by 18:00 on Monday 26 May");
        // Christmas: Thursday 25 December 2025 10:00 -> Sunday 28th 10:00.
        let back = utc(2025, 12, 25, 10, 0);
        assert_eq!(
            rules.return_interview_due(back).due_at,
            utc(2025, 12, 28, 10, 0)
        );
    }

    #[test]
    fn months_are_the_last_twelve_by_uk_date() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 15).unwrap();
        let starts = [
            utc(2025, 6, 1, 10, 0),
            utc(2025, 6, 14, 10, 0),
            // 23:30 UTC on 31 May is 00:30 BST on 1 June.
            utc(2025, 5, 31, 23, 30),
            utc(2025, 5, 1, 10, 0),
            utc(2024, 7, 1, 10, 0),
            // Thirteen months back: not counted.
            utc(2024, 6, 30, 10, 0),
        ];
        let months = episodes_per_month(&starts, today);
        assert_eq!(months.len(), 12);
        assert_eq!(
            months[0].month,
            NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()
        );
        assert_eq!(months[0].count, 1);
        assert_eq!(months[10].count, 1);
        assert_eq!(
            months[11].month,
            NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
        );
        assert_eq!(months[11].count, 3);
        assert_eq!(months.iter().map(|m| m.count).sum::<usize>(), 5);
    }

    #[test]
    fn the_pattern_counts_answers_most_often_first() {
        let p = pattern([
            "Station Road taxi rank",
            "station road  taxi rank",
            "",
            "  ",
            "Park",
            "STATION ROAD TAXI RANK",
            "Allotments",
            "park",
        ]);
        assert_eq!(
            p,
            vec![
                ("Station Road taxi rank".to_owned(), 3),
                ("Park".to_owned(), 2),
                ("Allotments".to_owned(), 1),
            ]
        );
        assert!(pattern(Vec::<&str>::new()).is_empty());
    }
}
