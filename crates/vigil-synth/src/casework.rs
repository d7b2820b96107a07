//! Live case work for a demo borough: the allocations, risk judgements and
//! actions of the cases still open at the end of the history, so that a
//! demo shows what a team's week looks like (work due, some of it done,
//! some of it late and escalated) rather than cases that nobody works.
//!
//! Pure: it takes the open cases and the workers, and returns the events,
//! dated in the recent past as imported history (`source.recorded_at`), so
//! deadlines run from when the work was set, not from when the demo
//! started. Each case's choices come from a generator seeded by the seed
//! and the case id, so they do not depend on the order of the list and
//! the same inputs always give the same events.
//!
//! Nothing here reads a protected characteristic: the choices depend on
//! the case's level and nothing else about the child.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;
use vigil_model::codes::{ActionStatus, AgencyId, CaseLevel, RiskLevel, Role};
use vigil_model::dates::Date;
use vigil_model::event::{Actor, EventInput, SourceRecord};
use vigil_model::payload::{
    CaseActionAdded, CaseActionClosed, CaseAllocated, CaseRiskChanged, EventPayload,
};
use vigil_model::time::OccurredAt;

/// A case open at the end of the history.
#[derive(Clone, Debug)]
pub struct OpenCase {
    pub case_id: Uuid,
    pub child_id: Uuid,
    pub level: CaseLevel,
    /// The agency that leads it.
    pub lead: AgencyId,
}

/// The things a worker is asked to do on a case, in plain words.
const ACTIONS: &[&str] = &[
    "Visit the child at home and see them alone",
    "Complete a CSE screening with the child",
    "Speak to the school about attendance and who collects the child",
    "Share the vehicle details with the police exploitation team",
    "Agree a safety plan with the carers",
    "Arrange a return home interview after the last missing episode",
    "Refer to the specialist exploitation service",
    "Check the placement's missing-from-care protocol",
];

/// The events of the live case work: for every open case, who it is
/// allocated to (the first `named` cases of each agency to one of its
/// `workers`, in turn; the rest to a synthetic worker), the risk now and
/// why, and two or three actions set in the last six weeks with due dates
/// from three weeks ago to two weeks ahead: most of those past their date
/// were done, some were not (and are escalated by the deadline rules).
pub fn live_casework(
    cases: &[OpenCase],
    workers: &[(String, AgencyId)],
    named: usize,
    now: DateTime<Utc>,
    seed: u64,
) -> Vec<EventInput> {
    let mut out = Vec::new();
    let mut given: std::collections::HashMap<&AgencyId, usize> = Default::default();
    for c in cases {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fold(c.case_id));
        let theirs: Vec<&String> = workers
            .iter()
            .filter(|(_, a)| *a == c.lead)
            .map(|(u, _)| u)
            .collect();
        let n = given.entry(&c.lead).or_default();
        let worker = match theirs.get(*n % theirs.len().max(1)) {
            Some(u) if *n < named => (*u).clone(),
            _ => format!("sw.{}", rng.gen_range(1..=40)),
        };
        *n += 1;
        let event = |at: DateTime<Utc>, user: &str, body: EventPayload| EventInput {
            id: None,
            actor: Actor {
                user: user.to_owned(),
                role: Role::Practitioner,
            },
            agency: c.lead.clone(),
            occurred_at: OccurredAt::day(at.date_naive()),
            source: Some(SourceRecord {
                system: crate::record::SOURCE_SYSTEM.to_owned(),
                reference: None,
                recorded_at: vigil_model::event::format_timestamp(&at),
            }),
            body,
        };
        let days = |rng: &mut ChaCha8Rng, from: i64, to: i64| {
            now - Duration::days(rng.gen_range(from..=to))
                - Duration::minutes(rng.gen_range(0..600))
        };
        let allocated = days(&mut rng, 42, 60);
        out.push(event(
            allocated,
            "team.manager",
            EventPayload::CaseAllocated(CaseAllocated {
                case_id: c.case_id,
                child_id: Some(c.child_id),
                worker: worker.clone(),
                lead_agency: None,
                reason: "Allocated at the team's weekly allocation meeting.".into(),
            }),
        ));
        let (risk, why) = match c.level {
            CaseLevel::ChildProtection | CaseLevel::Exploitation => {
                if rng.gen_bool(0.6) {
                    (
                        RiskLevel::High,
                        "Missing overnight twice this month; seen in cars with older men.",
                    )
                } else {
                    (
                        RiskLevel::Medium,
                        "Fewer missing episodes since the safety plan; still in contact with an older adult.",
                    )
                }
            }
            _ => {
                if rng.gen_bool(0.25) {
                    (
                        RiskLevel::Medium,
                        "New older peer group and unexplained gifts.",
                    )
                } else {
                    (
                        RiskLevel::Low,
                        "No indicators of exploitation at the last visit.",
                    )
                }
            }
        };
        out.push(event(
            allocated + Duration::days(2),
            &worker,
            EventPayload::CaseRiskChanged(CaseRiskChanged {
                case_id: c.case_id,
                child_id: Some(c.child_id),
                risk,
                reason: why.into(),
            }),
        ));
        let mut picks: Vec<usize> = (0..ACTIONS.len()).collect();
        for k in 0..rng.gen_range(2..=3usize) {
            let i = picks.swap_remove(rng.gen_range(0..picks.len()));
            let set = days(&mut rng, 3, 40).max(allocated + Duration::days(3 + k as i64));
            let due = (set + Duration::days(rng.gen_range(5..=21)))
                .min(now + Duration::days(14))
                .date_naive();
            let action_id = Uuid::from_u128(rng.gen());
            out.push(event(
                set,
                &worker,
                EventPayload::CaseActionAdded(CaseActionAdded {
                    case_id: c.case_id,
                    action_id,
                    text: ACTIONS[i].into(),
                    owner: worker.clone(),
                    due: Date::new(due),
                    meeting_id: None,
                }),
            ));
            let past = due < now.date_naive();
            if past && rng.gen_bool(0.7) {
                let done =
                    (due.and_hms_opt(15, 0, 0).unwrap().and_utc() - Duration::days(1)).max(set);
                out.push(event(
                    done,
                    &worker,
                    EventPayload::CaseActionClosed(CaseActionClosed {
                        case_id: c.case_id,
                        action_id,
                        status: ActionStatus::Done,
                        note: "Done; recorded in the case notes.".into(),
                    }),
                ));
            }
        }
    }
    // The log is in the order things were recorded.
    out.sort_by(|a, b| {
        let at = |e: &EventInput| e.source.as_ref().map(|s| s.recorded_at.clone());
        at(a).cmp(&at(b))
    });
    out
}

/// A case id folded to 64 bits (for the per-case seed).
fn fold(id: Uuid) -> u64 {
    let v = id.as_u128();
    (v as u64) ^ ((v >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cases(n: u128) -> Vec<OpenCase> {
        (0..n)
            .map(|i| OpenCase {
                case_id: Uuid::from_u128(1000 + i),
                child_id: Uuid::from_u128(2000 + i),
                level: if i % 2 == 0 {
                    CaseLevel::ChildProtection
                } else {
                    CaseLevel::ChildInNeed
                },
                lead: AgencyId::new("council").unwrap(),
            })
            .collect()
    }

    #[test]
    fn every_open_case_is_worked_and_some_actions_are_late() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let workers = vec![(
            "practitioner.council".to_owned(),
            AgencyId::new("council").unwrap(),
        )];
        let events = live_casework(&cases(40), &workers, 5, now, 7);
        let kinds = |k: &str| events.iter().filter(|e| e.body.kind() == k).count();
        assert_eq!(kinds("case.allocated"), 40);
        assert_eq!(kinds("case.risk_changed"), 40);
        let added = kinds("case.action_added");
        assert!((80..=120).contains(&added), "{added}");
        // Open and past their date: some, not all.
        let closed: std::collections::HashSet<Uuid> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventPayload::CaseActionClosed(c) => Some(c.action_id),
                _ => None,
            })
            .collect();
        let late = events
            .iter()
            .filter(|e| match &e.body {
                EventPayload::CaseActionAdded(a) => {
                    a.due.naive() < now.date_naive() && !closed.contains(&a.action_id)
                }
                _ => false,
            })
            .count();
        assert!(late > 0 && late < added / 2, "{late} of {added}");
        // Five cases for the named worker, the rest to synthetic ones.
        let named = events
            .iter()
            .filter(|e| matches!(&e.body, EventPayload::CaseAllocated(a) if a.worker == "practitioner.council"))
            .count();
        assert_eq!(named, 5);
        // Nothing in the future, nothing before six weeks and a half ago,
        // in recorded order; the same inputs give the same events.
        let times: Vec<String> = events
            .iter()
            .map(|e| e.source.as_ref().unwrap().recorded_at.clone())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        let fmt = |t: DateTime<Utc>| vigil_model::event::format_timestamp(&t);
        assert!(times
            .iter()
            .all(|t| *t <= fmt(now) && *t >= fmt(now - Duration::days(61))));
        let again = live_casework(&cases(40), &workers, 5, now, 7);
        assert_eq!(format!("{events:?}"), format!("{again:?}"));
        // Every event is valid for the model.
        for e in events {
            e.prepare(now, [0; 16]).unwrap();
        }
    }
}
