//! Entity resolution in the log: a model's score of a pair of person
//! records, and a person's decision about it (confirmed the same person,
//! rejected, undone).
//!
//! Each pair of person records has one `same_person` link entity, with an id
//! derived from the two ids ([`match_id`], whichever order they are given
//! in), and every event about the pair changes it, so the pair's whole
//! history is found by its id. Its state ([`crate::state::MatchState`])
//! keeps the latest score and the latest decision; the link is `active`
//! (an edge of kind `same_person` in the edges projection) exactly while
//! the records count as one person.
//!
//! The rules, so that decisions are reversible, attributable and respected
//! by later runs:
//!
//! - a **confirmed** pair stays confirmed whatever a later model run
//!   scores; only `person_match.undone` (with a reason) unlinks it;
//! - a **rejected** or **undone** pair stays unlinked: a later score never
//!   links it again, but **new evidence** reopens it for review (status
//!   `proposed`, never straight to linked). New evidence is either person
//!   record amended after the decision (a name, date of birth or other
//!   detail added or corrected: `person.amended`), or a later score whose
//!   probability is at least [`NEW_EVIDENCE_PPM`] (0.1) above the pair's
//!   probability when it was decided;
//! - a pair nobody decided follows the model: linked when the latest score
//!   is at or above the run's threshold, proposed below it;
//! - every decision can be reversed by another (confirm after a rejection,
//!   undo after a confirmation, confirm after an undo); the state keeps the
//!   latest and the log keeps all of them, with who, when and why.
//!
//! Probabilities are integers in millionths, because the canonical JSON
//! of the log holds no floats. Sex, ethnicity, nationality and religion are
//! never fields of a score.

use super::{reject, subject, Ctx, Kind};
use crate::codes::LinkKind;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{
    FieldWeight, LinkState, LinkStatus, MatchDecision, MatchDecisionState, MatchScore, MatchState,
    MatchStatus, PersonState, Stamp,
};
use crate::text::{check_opt_text, check_text, MAX_SHORT_CHARS};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// One, in millionths.
pub const PPM: u32 = 1_000_000;

/// How far a later score must rise above the probability a pair had when
/// a person rejected (or undid) it to reopen it for review: 0.1.
pub const NEW_EVIDENCE_PPM: u32 = 100_000;

/// Most fields one explanation lists.
pub const MAX_EXPLANATION: usize = 64;

/// Largest weight of one field, in thousandths of a bit (a million bits is
/// far beyond any likelihood ratio; it bounds hostile input).
pub const MAX_WEIGHT_MILLI: i64 = 1_000_000_000;

/// The id of the `same_person` link of two person records, the same in
/// either order.
pub fn match_id(a: Uuid, b: Uuid) -> Uuid {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = Sha256::new();
    h.update(b"vigil same person ");
    h.update(lo.as_bytes());
    h.update(hi.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// `person_match.scored`: a model run's score of a pair of person records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonMatchScored {
    pub person_a: Uuid,
    pub person_b: Uuid,
    /// Probability of a match, in millionths.
    pub probability_ppm: u32,
    /// The run's match threshold, in millionths: at or above it the model
    /// links a pair nobody has decided.
    pub threshold_ppm: u32,
    pub model: String,
    pub model_version: String,
    /// Each field's part in the weight, in the model's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<FieldWeight>,
}

/// `person_match.confirmed`: a person confirmed that two records are of the
/// same person ("this is the same child").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonMatchConfirmed {
    pub person_a: Uuid,
    pub person_b: Uuid,
    /// The probability the person was shown, in millionths, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_ppm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `person_match.rejected`: a person said two records are not of the same
/// person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonMatchRejected {
    pub person_a: Uuid,
    pub person_b: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_ppm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `person_match.undone`: a link of two records (confirmed, or the
/// model's) withdrawn by a person: they are not the same person (unmerge).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonMatchUndone {
    pub person_a: Uuid,
    pub person_b: Uuid,
    pub reason: String,
}

fn pair_subjects(a: Uuid, b: Uuid) -> Vec<SubjectRef> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    vec![
        subject(EntityKind::Link, match_id(a, b)),
        subject(EntityKind::Person, lo),
        subject(EntityKind::Person, hi),
    ]
}

fn check_pair(a: Uuid, b: Uuid) -> Result<(), ModelError> {
    if a == b {
        return Err(ModelError::invalid(
            "a match is between two different person records; both are the same record",
        ));
    }
    Ok(())
}

fn check_probability(what: &str, p: u32) -> Result<(), ModelError> {
    if p > PPM {
        return Err(ModelError::invalid(format!(
            "{what} is in millionths and at most {PPM}; {p} is more"
        )));
    }
    Ok(())
}

/// What happens to a pair.
enum Change<'a> {
    Scored(&'a PersonMatchScored),
    Decided {
        decision: MatchDecision,
        shown_ppm: Option<u32>,
        reason: Option<String>,
    },
}

/// Applies one event to a pair: reads the pair (if it exists) and both
/// people, works out the new state, and only then writes it, so a refused
/// event changes nothing.
fn apply(
    h: &EventHeader,
    p: &mut Projector<'_>,
    a: Uuid,
    b: Uuid,
    change: Change<'_>,
) -> Result<(), ProjectionError> {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    p.require(EntityKind::Person, lo)?;
    p.require(EntityKind::Person, hi)?;
    let id = match_id(lo, hi);
    let existing: Option<LinkState> = match p.kind_of(id)? {
        None => None,
        Some(EntityKind::Link) => Some(p.get::<LinkState>(id)?),
        Some(k) => return Err(reject(format!("{id} is a {k}, not a match of two people"))),
    };
    let mut link = match existing.clone() {
        Some(l) if l.kind == LinkKind::SamePerson && l.matching.is_some() => l,
        Some(_) => {
            return Err(reject(format!(
                "link {id} is not the match of person records {lo} and {hi}"
            )))
        }
        None => LinkState {
            kind: LinkKind::SamePerson,
            from: SubjectRef::new(EntityKind::Person, lo),
            to: SubjectRef::new(EntityKind::Person, hi),
            since: None,
            until: None,
            grading: None,
            note: None,
            status: LinkStatus::Ended,
            recorded: Stamp::of(h),
            end_reason: None,
            ended: None,
            matching: Some(MatchState {
                status: MatchStatus::Proposed,
                score: None,
                decision: None,
                decisions: 0,
            }),
        },
    };
    let Some(m) = link.matching.as_mut() else {
        return Err(reject(format!("link {id} has no match state")));
    };
    match change {
        Change::Scored(s) => {
            let score = MatchScore {
                probability_ppm: s.probability_ppm,
                threshold_ppm: s.threshold_ppm,
                model: s.model.clone(),
                model_version: s.model_version.clone(),
                explanation: s.explanation.clone(),
                scored: Stamp::of(h),
            };
            let by_model = if s.probability_ppm >= s.threshold_ppm {
                MatchStatus::LinkedByModel
            } else {
                MatchStatus::Proposed
            };
            m.status = match (m.status, &m.decision) {
                (MatchStatus::Confirmed, _) => MatchStatus::Confirmed,
                (st, Some(d)) if st.refused() => {
                    let amended_after = |p: &mut Projector<'_>, who: Uuid| {
                        p.read(who, |s: &PersonState| {
                            s.amended.as_ref().is_some_and(|a| a.at > d.decided.at)
                        })
                    };
                    let amended = amended_after(p, lo)? || amended_after(p, hi)?;
                    let rose = d.probability_ppm.is_some_and(|was| {
                        s.probability_ppm >= was.saturating_add(NEW_EVIDENCE_PPM)
                    });
                    if amended || rose {
                        MatchStatus::Proposed
                    } else {
                        st
                    }
                }
                _ => by_model,
            };
            m.score = Some(score);
        }
        Change::Decided {
            decision,
            shown_ppm,
            reason,
        } => {
            let refused = match (decision, m.status) {
                (MatchDecision::Confirmed, MatchStatus::Confirmed) => Some(
                    "these records are already confirmed as the same person".to_owned(),
                ),
                (MatchDecision::Rejected, MatchStatus::Confirmed) => Some(
                    "these records were confirmed as the same person; undo the link (with a reason) instead"
                        .to_owned(),
                ),
                (MatchDecision::Rejected, st) if st.refused() => {
                    Some("these records are already recorded as not the same person".to_owned())
                }
                (MatchDecision::Undone, st) if !st.linked() => {
                    Some("these records are not linked, so there is no link to undo".to_owned())
                }
                _ => None,
            };
            if let Some(why) = refused {
                return Err(reject(why));
            }
            m.status = match decision {
                MatchDecision::Confirmed => MatchStatus::Confirmed,
                MatchDecision::Rejected => MatchStatus::Rejected,
                MatchDecision::Undone => MatchStatus::Undone,
            };
            m.decision = Some(MatchDecisionState {
                decision,
                reason,
                probability_ppm: shown_ppm.or_else(|| m.score.as_ref().map(|s| s.probability_ppm)),
                decided: Stamp::of(h),
            });
            m.decisions += 1;
        }
    }
    link.status = if m.status.linked() {
        LinkStatus::Active
    } else {
        LinkStatus::Ended
    };
    match existing {
        None => p.create(id, link),
        Some(_) => p.update(id, |s: &mut LinkState| {
            *s = link;
            Ok(())
        }),
    }
}

impl Kind for PersonMatchScored {
    fn subjects(&self) -> Vec<SubjectRef> {
        pair_subjects(self.person_a, self.person_b)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_pair(self.person_a, self.person_b)?;
        check_probability("the probability", self.probability_ppm)?;
        check_probability("the threshold", self.threshold_ppm)?;
        if self.threshold_ppm == 0 {
            return Err(ModelError::invalid(
                "the threshold must be above 0, or every pair would be linked",
            ));
        }
        check_text("the model", &self.model, MAX_SHORT_CHARS, true)?;
        check_text(
            "the model version",
            &self.model_version,
            MAX_SHORT_CHARS,
            true,
        )?;
        if self.explanation.len() > MAX_EXPLANATION {
            return Err(ModelError::invalid(format!(
                "an explanation lists at most {MAX_EXPLANATION} fields, not {}",
                self.explanation.len()
            )));
        }
        for f in &self.explanation {
            check_text(
                "a field of the explanation",
                &f.field,
                MAX_SHORT_CHARS,
                true,
            )?;
            check_text("a comparison level", &f.level, MAX_SHORT_CHARS, true)?;
            if f.weight_milli.unsigned_abs() > MAX_WEIGHT_MILLI.unsigned_abs() {
                return Err(ModelError::invalid(format!(
                    "the weight of {} is out of range",
                    crate::time::truncate(&f.field)
                )));
            }
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        apply(h, p, self.person_a, self.person_b, Change::Scored(self))
    }
}

fn validate_decision(
    a: Uuid,
    b: Uuid,
    shown: Option<u32>,
    reason: &Option<String>,
) -> Result<(), ModelError> {
    check_pair(a, b)?;
    if let Some(p) = shown {
        check_probability("the probability shown", p)?;
    }
    check_opt_text("the reason", reason, MAX_SHORT_CHARS)
}

impl Kind for PersonMatchConfirmed {
    fn subjects(&self) -> Vec<SubjectRef> {
        pair_subjects(self.person_a, self.person_b)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        validate_decision(
            self.person_a,
            self.person_b,
            self.probability_ppm,
            &self.reason,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        apply(
            h,
            p,
            self.person_a,
            self.person_b,
            Change::Decided {
                decision: MatchDecision::Confirmed,
                shown_ppm: self.probability_ppm,
                reason: self.reason.clone(),
            },
        )
    }
}

impl Kind for PersonMatchRejected {
    fn subjects(&self) -> Vec<SubjectRef> {
        pair_subjects(self.person_a, self.person_b)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        validate_decision(
            self.person_a,
            self.person_b,
            self.probability_ppm,
            &self.reason,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        apply(
            h,
            p,
            self.person_a,
            self.person_b,
            Change::Decided {
                decision: MatchDecision::Rejected,
                shown_ppm: self.probability_ppm,
                reason: self.reason.clone(),
            },
        )
    }
}

impl Kind for PersonMatchUndone {
    fn subjects(&self) -> Vec<SubjectRef> {
        pair_subjects(self.person_a, self.person_b)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_pair(self.person_a, self.person_b)?;
        check_text(
            "the reason for undoing the link",
            &self.reason,
            MAX_SHORT_CHARS,
            true,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        apply(
            h,
            p,
            self.person_a,
            self.person_b,
            Change::Decided {
                decision: MatchDecision::Undone,
                shown_ppm: None,
                reason: Some(self.reason.clone()),
            },
        )
    }
}
