//! The agenda of the monthly multi-agency child exploitation (MACE)
//! meeting: which open cases it should discuss, why each is on it, and in
//! what order (issue 12, item 4).
//!
//! A case is on the agenda when one of these holds (each can be turned off
//! or tuned in [`AgendaCriteria`], a plain struct with defaults, so the
//! partnership can set its own without a code change to the rule):
//!
//! * its risk is high (at least [`AgendaCriteria::risk_at_least`]);
//! * its risk was raised since the last meeting;
//! * the child went missing since the last meeting (or, when there has
//!   been none, in the last [`AgendaCriteria::missing_window_days`] days);
//! * an action on it is overdue;
//! * closing it waits for a supervisor's sign-off.
//!
//! The facts are only these; nothing about who the child is (sex,
//! ethnicity, nationality, religion or any other protected characteristic)
//! is an input, so none can be a criterion.
//!
//! Most urgent first: by the most urgent reason a case has (high risk,
//! then risk raised, then missing, then overdue actions, then a closure
//! waiting), then by how many reasons, then by the most recent missing
//! episode, then by the most overdue actions; ties keep the order given.
//!
//! Pure: the caller gathers the facts (from every agency's records) and
//! passes the day of the last meeting and today in.

use chrono::NaiveDate;
use vigil_model::codes::RiskLevel;

/// What puts a case on the agenda. Configuration-like: every field has a
/// default ([`AgendaCriteria::default`]) and none is about the child's
/// identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgendaCriteria {
    /// A case at this risk or above is on the agenda (`None`: risk alone
    /// puts no case on it). Default: high.
    pub risk_at_least: Option<RiskLevel>,
    /// A case whose risk went up since the last meeting is on it.
    pub risk_raised: bool,
    /// A child who went missing since the last meeting is on it.
    pub missing: bool,
    /// With no meeting yet, "since the last meeting" means these many days
    /// back from today. Default: 31 (a month).
    pub missing_window_days: i64,
    /// A case with an overdue action is on it.
    pub overdue_actions: bool,
    /// A case whose closure waits for a supervisor's sign-off is on it.
    pub closure_waiting: bool,
}

/// The default window when there has been no meeting: a month.
pub const MISSING_WINDOW_DAYS: i64 = 31;

impl Default for AgendaCriteria {
    fn default() -> Self {
        AgendaCriteria {
            risk_at_least: Some(RiskLevel::High),
            risk_raised: true,
            missing: true,
            missing_window_days: MISSING_WINDOW_DAYS,
            overdue_actions: true,
            closure_waiting: true,
        }
    }
}

/// What is known about one open case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFacts<K> {
    /// The caller's key for the case (its id).
    pub key: K,
    /// The case's current risk, if recorded.
    pub risk: Option<RiskLevel>,
    /// Every assessment of the case's risk, oldest first: the day and level.
    pub risk_history: Vec<(NaiveDate, RiskLevel)>,
    /// The day each of the child's missing episodes began.
    pub missing_started: Vec<NaiveDate>,
    /// How many of the case's open actions are overdue.
    pub overdue_actions: usize,
    /// Its closure waits for a supervisor's sign-off.
    pub closure_waiting: bool,
}

/// Why a case is on the agenda, most urgent first (the order sorts them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Its risk is at or above the criterion.
    Risk(RiskLevel),
    /// Its risk went up since the last meeting: from, to, the day.
    RiskRaised {
        /// The risk before.
        from: RiskLevel,
        /// The risk after.
        to: RiskLevel,
        /// The day it was raised.
        on: NaiveDate,
    },
    /// The child went missing since the last meeting: how many times, and
    /// the day of the latest.
    Missing {
        /// How many episodes began since then.
        episodes: usize,
        /// The day the latest began.
        latest: NaiveDate,
    },
    /// Actions overdue: how many.
    OverdueActions(usize),
    /// Closing it waits for a supervisor's sign-off.
    ClosureWaiting,
}

impl Reason {
    /// The reason in plain words, as the agenda shows it.
    pub fn sentence(&self) -> String {
        let day = |d: &NaiveDate| d.format("%-d %B %Y").to_string();
        match self {
            Reason::Risk(r) => format!("{} risk", r.label()),
            Reason::RiskRaised { from, to, on } => format!(
                "Risk raised from {} to {} on {}",
                from.label().to_lowercase(),
                to.label().to_lowercase(),
                day(on)
            ),
            Reason::Missing {
                episodes: 1,
                latest,
            } => {
                format!("Missing since the last meeting (on {})", day(latest))
            }
            Reason::Missing { episodes, latest } => format!(
                "Missing {episodes} times since the last meeting (latest {})",
                day(latest)
            ),
            Reason::OverdueActions(1) => "1 action overdue".to_owned(),
            Reason::OverdueActions(n) => format!("{n} actions overdue"),
            Reason::ClosureWaiting => "Closing it waits for a supervisor's sign-off".to_owned(),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Reason::Risk(_) => 0,
            Reason::RiskRaised { .. } => 1,
            Reason::Missing { .. } => 2,
            Reason::OverdueActions(_) => 3,
            Reason::ClosureWaiting => 4,
        }
    }
}

/// One case on the agenda and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgendaItem<K> {
    /// The caller's key for the case.
    pub key: K,
    /// Why it is on the agenda: never empty; most urgent first.
    pub reasons: Vec<Reason>,
}

fn rank(r: RiskLevel) -> u8 {
    match r {
        RiskLevel::Low => 0,
        RiskLevel::Medium => 1,
        RiskLevel::High => 2,
    }
}

/// The day from which "since the last meeting" counts: the meeting's own
/// day (something on that day may have happened after it met: better
/// discussed twice than missed), or, with none, `window` days back from
/// today.
pub fn since(last_meeting: Option<NaiveDate>, today: NaiveDate, window: i64) -> NaiveDate {
    match last_meeting {
        Some(d) => d,
        None => today - chrono::TimeDelta::days(window.max(0)),
    }
}

/// Why one case should be discussed (empty: it need not be).
pub fn reasons<K>(
    c: &CaseFacts<K>,
    last_meeting: Option<NaiveDate>,
    today: NaiveDate,
    crit: &AgendaCriteria,
) -> Vec<Reason> {
    let from = since(last_meeting, today, crit.missing_window_days);
    let mut out = Vec::new();
    if let (Some(min), Some(r)) = (crit.risk_at_least, c.risk) {
        if rank(r) >= rank(min) {
            out.push(Reason::Risk(r));
        }
    }
    if crit.risk_raised {
        // The latest rise since the last meeting.
        let rise = c
            .risk_history
            .windows(2)
            .filter(|w| w[1].0 >= from && w[1].0 <= today && rank(w[1].1) > rank(w[0].1))
            .map(|w| Reason::RiskRaised {
                from: w[0].1,
                to: w[1].1,
                on: w[1].0,
            })
            .next_back();
        out.extend(rise);
    }
    if crit.missing {
        let recent: Vec<NaiveDate> = c
            .missing_started
            .iter()
            .copied()
            .filter(|d| *d >= from && *d <= today)
            .collect();
        if let Some(latest) = recent.iter().max() {
            out.push(Reason::Missing {
                episodes: recent.len(),
                latest: *latest,
            });
        }
    }
    if crit.overdue_actions && c.overdue_actions > 0 {
        out.push(Reason::OverdueActions(c.overdue_actions));
    }
    if crit.closure_waiting && c.closure_waiting {
        out.push(Reason::ClosureWaiting);
    }
    out
}

/// The agenda: the cases that meet the criteria, each with its reasons,
/// most urgent first (see the module documentation for the order).
pub fn agenda<K: Clone>(
    cases: &[CaseFacts<K>],
    last_meeting: Option<NaiveDate>,
    today: NaiveDate,
    crit: &AgendaCriteria,
) -> Vec<AgendaItem<K>> {
    let mut items: Vec<(usize, AgendaItem<K>)> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let reasons = reasons(c, last_meeting, today, crit);
            (!reasons.is_empty()).then(|| {
                (
                    i,
                    AgendaItem {
                        key: c.key.clone(),
                        reasons,
                    },
                )
            })
        })
        .collect();
    let latest_missing = |it: &AgendaItem<K>| {
        it.reasons.iter().find_map(|r| match r {
            Reason::Missing { latest, .. } => Some(*latest),
            _ => None,
        })
    };
    let overdue = |it: &AgendaItem<K>| {
        it.reasons
            .iter()
            .find_map(|r| match r {
                Reason::OverdueActions(n) => Some(*n),
                _ => None,
            })
            .unwrap_or(0)
    };
    items.sort_by(|(ia, a), (ib, b)| {
        let top = |x: &AgendaItem<K>| x.reasons.iter().map(Reason::rank).min().unwrap_or(u8::MAX);
        top(a)
            .cmp(&top(b))
            .then_with(|| b.reasons.len().cmp(&a.reasons.len()))
            .then_with(|| latest_missing(b).cmp(&latest_missing(a)))
            .then_with(|| overdue(b).cmp(&overdue(a)))
            .then_with(|| ia.cmp(ib))
    });
    items.into_iter().map(|(_, it)| it).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn quiet(key: u32) -> CaseFacts<u32> {
        CaseFacts {
            key,
            risk: Some(RiskLevel::Low),
            risk_history: vec![(d("2026-01-01"), RiskLevel::Low)],
            missing_started: Vec::new(),
            overdue_actions: 0,
            closure_waiting: false,
        }
    }

    const TODAY: &str = "2026-12-03";

    fn run(cases: &[CaseFacts<u32>], last: Option<&str>) -> Vec<AgendaItem<u32>> {
        agenda(cases, last.map(d), d(TODAY), &AgendaCriteria::default())
    }

    #[test]
    fn a_quiet_case_is_not_on_the_agenda_and_each_criterion_puts_one_on() {
        assert!(run(&[quiet(1)], Some("2026-11-05")).is_empty());
        let high = CaseFacts {
            risk: Some(RiskLevel::High),
            ..quiet(2)
        };
        let medium = CaseFacts {
            risk: Some(RiskLevel::Medium),
            ..quiet(3)
        };
        let late = CaseFacts {
            overdue_actions: 2,
            ..quiet(4)
        };
        let closing = CaseFacts {
            closure_waiting: true,
            ..quiet(5)
        };
        let got = run(&[quiet(1), high, medium, late, closing], Some("2026-11-05"));
        let keys: Vec<u32> = got.iter().map(|i| i.key).collect();
        assert_eq!(keys, [2, 4, 5]);
        assert_eq!(got[0].reasons, [Reason::Risk(RiskLevel::High)]);
        assert_eq!(got[1].reasons[0].sentence(), "2 actions overdue");
        assert_eq!(
            got[2].reasons[0].sentence(),
            "Closing it waits for a supervisor's sign-off"
        );
    }

    #[test]
    fn missing_counts_from_the_day_of_the_last_meeting() {
        let day_before = CaseFacts {
            missing_started: vec![d("2026-11-04")],
            ..quiet(1)
        };
        let on_the_day = CaseFacts {
            missing_started: vec![d("2026-11-05"), d("2026-11-20"), d("2026-10-01")],
            ..quiet(2)
        };
        let got = run(&[day_before, on_the_day], Some("2026-11-05"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, 2);
        assert_eq!(
            got[0].reasons,
            [Reason::Missing {
                episodes: 2,
                latest: d("2026-11-20")
            }]
        );
        assert_eq!(
            got[0].reasons[0].sentence(),
            "Missing 2 times since the last meeting (latest 20 November 2026)"
        );
    }

    #[test]
    fn with_no_meeting_yet_missing_counts_31_days_back() {
        // 3 Dec minus 31 days is 2 Nov: in; 1 Nov: out.
        let edge = CaseFacts {
            missing_started: vec![d("2026-11-02")],
            ..quiet(1)
        };
        let before = CaseFacts {
            missing_started: vec![d("2026-11-01")],
            ..quiet(2)
        };
        let future = CaseFacts {
            missing_started: vec![d("2026-12-04")],
            ..quiet(3)
        };
        let got = run(&[edge, before, future], None);
        let keys: Vec<u32> = got.iter().map(|i| i.key).collect();
        assert_eq!(keys, [1]);
        assert_eq!(since(None, d(TODAY), 31), d("2026-11-02"));
    }

    #[test]
    fn only_a_rise_since_the_last_meeting_counts() {
        let rose = CaseFacts {
            risk: Some(RiskLevel::Medium),
            risk_history: vec![
                (d("2026-01-01"), RiskLevel::Low),
                (d("2026-11-10"), RiskLevel::Medium),
            ],
            ..quiet(1)
        };
        let rose_before = CaseFacts {
            risk: Some(RiskLevel::Medium),
            risk_history: vec![
                (d("2026-01-01"), RiskLevel::Low),
                (d("2026-11-04"), RiskLevel::Medium),
            ],
            ..quiet(2)
        };
        let fell = CaseFacts {
            risk: Some(RiskLevel::Low),
            risk_history: vec![
                (d("2026-01-01"), RiskLevel::Medium),
                (d("2026-11-10"), RiskLevel::Low),
            ],
            ..quiet(3)
        };
        let got = run(&[rose, rose_before, fell], Some("2026-11-05"));
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].reasons[0].sentence(),
            "Risk raised from low to medium on 10 November 2026"
        );
    }

    #[test]
    fn most_urgent_first_and_ties_keep_their_order() {
        let late = CaseFacts {
            overdue_actions: 1,
            ..quiet(1)
        };
        let missing_and_late = CaseFacts {
            missing_started: vec![d("2026-11-20")],
            overdue_actions: 1,
            ..quiet(2)
        };
        let missing_early = CaseFacts {
            missing_started: vec![d("2026-11-10")],
            ..quiet(3)
        };
        let missing_late = CaseFacts {
            missing_started: vec![d("2026-11-30")],
            ..quiet(4)
        };
        let high = CaseFacts {
            risk: Some(RiskLevel::High),
            ..quiet(5)
        };
        let very_late = CaseFacts {
            overdue_actions: 5,
            ..quiet(6)
        };
        let also_late = CaseFacts {
            overdue_actions: 1,
            ..quiet(7)
        };
        let got = run(
            &[
                late,
                missing_and_late,
                missing_early,
                missing_late,
                high,
                very_late,
                also_late,
            ],
            Some("2026-11-05"),
        );
        let keys: Vec<u32> = got.iter().map(|i| i.key).collect();
        assert_eq!(keys, [5, 2, 4, 3, 6, 1, 7]);
    }

    #[test]
    fn the_criteria_can_be_turned_off_one_by_one() {
        let busy = CaseFacts {
            risk: Some(RiskLevel::High),
            risk_history: vec![
                (d("2026-01-01"), RiskLevel::Low),
                (d("2026-11-10"), RiskLevel::High),
            ],
            missing_started: vec![d("2026-11-20")],
            overdue_actions: 1,
            closure_waiting: true,
            ..quiet(1)
        };
        let all = reasons(
            &busy,
            Some(d("2026-11-05")),
            d(TODAY),
            &AgendaCriteria::default(),
        );
        assert_eq!(all.len(), 5);
        let none = AgendaCriteria {
            risk_at_least: None,
            risk_raised: false,
            missing: false,
            missing_window_days: MISSING_WINDOW_DAYS,
            overdue_actions: false,
            closure_waiting: false,
        };
        assert!(agenda(
            std::slice::from_ref(&busy),
            Some(d("2026-11-05")),
            d(TODAY),
            &none
        )
        .is_empty());
        let medium = AgendaCriteria {
            risk_at_least: Some(RiskLevel::Medium),
            ..none
        };
        let m = CaseFacts {
            risk: Some(RiskLevel::Medium),
            ..quiet(2)
        };
        assert_eq!(
            agenda(&[m], None, d(TODAY), &medium)[0].reasons,
            [Reason::Risk(RiskLevel::Medium)]
        );
        // No risk recorded: risk alone puts nothing on the agenda.
        let unknown = CaseFacts {
            risk: None,
            risk_history: vec![],
            ..quiet(3)
        };
        assert!(run(&[unknown], None).is_empty());
    }
}
