//! When closing a case needs a supervisor's sign-off (issue: cases closed
//! while the abuse went on). A case may be closed by whoever manages it,
//! unless one of these holds, in which case a supervisor must sign the
//! closure off and the sign-off is recorded:
//!
//! * actions on the case are still open;
//! * the child's latest CSE screening answers an indicator "yes" (the
//!   indicators are still active);
//! * the child is missing now, or went missing or came back within the last
//!   [`RECENT_MISSING_DAYS`] days.
//!
//! Pure: the caller gathers the facts (from every agency's records, not
//! only those the user may read, so a police missing episode counts for a
//! council closure) and passes today in.

use chrono::NaiveDate;

/// How recent a missing episode keeps a closure from going through without
/// sign-off: four weeks and two days, so a monthly pattern is caught.
pub const RECENT_MISSING_DAYS: i64 = 30;

/// What is known about the case and the child when closing is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClosureFacts {
    /// Actions on the case still open.
    pub open_actions: usize,
    /// Indicators answered yes in the child's latest screening, and the day
    /// it was done (`None`: never screened).
    pub latest_screening: Option<(NaiveDate, usize)>,
    /// The child's missing episodes: the day each began and the day it
    /// ended (`None` while the child is still missing).
    pub missing: Vec<(NaiveDate, Option<NaiveDate>)>,
}

/// Why closing needs sign-off, one sentence each; empty when it does not.
pub fn concerns(f: &ClosureFacts, today: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    match f.open_actions {
        0 => {}
        1 => out.push("1 action on the case is still open".to_owned()),
        n => out.push(format!("{n} actions on the case are still open")),
    }
    if let Some((day, yes)) = f.latest_screening {
        if yes > 0 {
            out.push(format!(
                "The latest screening ({}) answers {yes} {} yes",
                day.format("%-d %B %Y"),
                if yes == 1 { "indicator" } else { "indicators" }
            ));
        }
    }
    if f.missing.iter().any(|(_, end)| end.is_none()) {
        out.push("The child is recorded as missing now".to_owned());
    } else {
        let since = today - chrono::TimeDelta::days(RECENT_MISSING_DAYS);
        let recent = f
            .missing
            .iter()
            .filter(|(from, to)| *from >= since || to.is_some_and(|t| t >= since))
            .count();
        if recent > 0 {
            out.push(format!(
                "{recent} missing {} in the last {RECENT_MISSING_DAYS} days",
                if recent == 1 { "episode" } else { "episodes" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn nothing_open_nothing_active_nothing_recent_needs_no_sign_off() {
        let today = d("2026-12-02");
        let f = ClosureFacts {
            open_actions: 0,
            latest_screening: Some((d("2026-10-01"), 0)),
            missing: vec![(d("2026-10-01"), Some(d("2026-11-01")))],
        };
        // Came back 31 days ago: not recent.
        assert!(concerns(&f, today).is_empty(), "{:?}", concerns(&f, today));
        assert!(concerns(&ClosureFacts::default(), today).is_empty());
    }

    #[test]
    fn each_concern_on_its_own_and_at_the_edge() {
        let today = d("2026-12-02");
        let open = ClosureFacts {
            open_actions: 2,
            ..Default::default()
        };
        assert_eq!(
            concerns(&open, today),
            ["2 actions on the case are still open"]
        );
        let active = ClosureFacts {
            latest_screening: Some((d("2026-11-20"), 1)),
            ..Default::default()
        };
        assert_eq!(
            concerns(&active, today),
            ["The latest screening (20 November 2026) answers 1 indicator yes"]
        );
        // Came back exactly 30 days ago: still recent.
        let edge = ClosureFacts {
            missing: vec![(d("2026-10-01"), Some(d("2026-11-02")))],
            ..Default::default()
        };
        assert_eq!(
            concerns(&edge, today),
            ["1 missing episode in the last 30 days"]
        );
        let now = ClosureFacts {
            missing: vec![(d("2025-01-01"), None)],
            ..Default::default()
        };
        assert_eq!(
            concerns(&now, today),
            ["The child is recorded as missing now"]
        );
        let all = ClosureFacts {
            open_actions: 1,
            latest_screening: Some((d("2026-11-20"), 3)),
            missing: vec![(d("2026-11-25"), Some(d("2026-11-26")))],
        };
        assert_eq!(concerns(&all, today).len(), 3);
    }
}
