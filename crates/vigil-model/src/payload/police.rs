//! Police records: intelligence reports, offences and their outcomes.

use super::{persons, reject, require_all, subject, Ctx, Kind};
use crate::codes::{OffenceCode, OffenceOutcome};
use crate::dates::check_period;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::pole::Grading;
use crate::projection::{ProjectionError, Projector};
use crate::state::{IntelligenceState, OffenceState, OutcomeEntry, Stamp};
use crate::text::{
    check_count, check_opt_line, check_opt_text, check_text, check_unique, MAX_LONG_CHARS,
    MAX_NAME_CHARS,
};
use crate::time::OccurredAt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `intelligence.recorded`: an intelligence report about people, objects
/// and places, graded 3x5x2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelligenceRecorded {
    pub intelligence_id: Uuid,
    /// The people, objects and locations it is about (at least one).
    pub subjects: Vec<SubjectRef>,
    pub text: String,
    pub grading: Grading,
    /// The report's reference in the originating system, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_reference: Option<String>,
}

impl Kind for IntelligenceRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![subject(EntityKind::Intelligence, self.intelligence_id)];
        v.extend(self.subjects.iter().copied());
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.subjects.is_empty() {
            return Err(ModelError::invalid(
                "say who or what the intelligence is about: give at least one person, object or location",
            ));
        }
        check_count("the subjects", &self.subjects, true)?;
        if let Some(s) = self.subjects.iter().find(|s| {
            !matches!(
                s.kind,
                EntityKind::Person | EntityKind::Object | EntityKind::Location
            )
        }) {
            return Err(ModelError::invalid(format!(
                "intelligence is about people, objects and locations, not {}",
                crate::codes::entity_with_article(s.kind)
            )));
        }
        let ids: Vec<Uuid> = self.subjects.iter().map(|s| s.id).collect();
        check_unique("the list of subjects", &ids)?;
        check_text("the intelligence text", &self.text, MAX_LONG_CHARS, true)?;
        self.grading.validate()?;
        check_opt_line(
            "the source reference",
            &self.source_reference,
            MAX_NAME_CHARS,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        for s in &self.subjects {
            p.require(s.kind, s.id)?;
        }
        p.create(
            self.intelligence_id,
            IntelligenceState {
                subjects: self.subjects.clone(),
                text: self.text.clone(),
                grading: self.grading.clone(),
                source_reference: self.source_reference.clone(),
                recorded: Stamp::of(h),
            },
        )
    }
}

/// `offence.recorded`: an offence, with its victims and suspects as known
/// when recorded (more are added by `victim_in` / `suspect_in` links).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenceRecorded {
    pub offence_id: Uuid,
    pub offence: OffenceCode,
    /// Required for `other`; otherwise optional detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub victim_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspect_ids: Vec<Uuid>,
    /// When it was committed (or when it began, for a course of offending).
    pub committed: OccurredAt,
    /// When a course of offending ended, if it spans a period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_until: Option<OccurredAt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// Flagged as related to child sexual exploitation (Home Office returns).
    pub cse_flag: bool,
    /// The crime reference number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crime_reference: Option<String>,
}

impl Kind for OffenceRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![subject(EntityKind::Offence, self.offence_id)];
        v.extend(persons(&self.victim_ids));
        v.extend(persons(&self.suspect_ids));
        v.extend(self.location_id.map(|id| subject(EntityKind::Location, id)));
        v
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.offence == OffenceCode::Other
            && self
                .description
                .as_deref()
                .is_none_or(|d| d.trim().is_empty())
        {
            return Err(ModelError::invalid(
                "for an 'other' offence, describe the offence",
            ));
        }
        check_opt_text("the description", &self.description, MAX_LONG_CHARS)?;
        check_count("the victims", &self.victim_ids, false)?;
        check_count("the suspects", &self.suspect_ids, false)?;
        check_unique("the list of victims", &self.victim_ids)?;
        check_unique("the list of suspects", &self.suspect_ids)?;
        if let Some(both) = self
            .victim_ids
            .iter()
            .find(|v| self.suspect_ids.contains(v))
        {
            return Err(ModelError::invalid(format!(
                "person {both} is recorded both as a victim and as a suspect of the same offence"
            )));
        }
        self.committed.validate(cx.now)?;
        if let Some(u) = &self.committed_until {
            u.validate(cx.now)?;
            check_period("the offending", &self.committed, u)?;
        }
        check_opt_line("the crime reference", &self.crime_reference, MAX_NAME_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_all(p, EntityKind::Person, &self.victim_ids)?;
        require_all(p, EntityKind::Person, &self.suspect_ids)?;
        if let Some(l) = self.location_id {
            p.require(EntityKind::Location, l)?;
        }
        p.create(
            self.offence_id,
            OffenceState {
                offence: self.offence,
                description: self.description.clone(),
                victim_ids: self.victim_ids.clone(),
                suspect_ids: self.suspect_ids.clone(),
                witness_ids: Vec::new(),
                committed: self.committed.clone(),
                committed_until: self.committed_until.clone(),
                location_id: self.location_id,
                cse_flag: self.cse_flag,
                crime_reference: self.crime_reference.clone(),
                status: OffenceOutcome::NotYetResolved,
                recorded: Stamp::of(h),
                outcomes: Vec::new(),
            },
        )
    }
}

/// `offence.outcome_recorded`: what came of an offence, for one suspect or
/// for the offence as a whole. Outcomes accumulate; the latest is the
/// offence's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenceOutcomeRecorded {
    pub offence_id: Uuid,
    pub outcome: OffenceOutcome,
    /// The suspect the outcome is for; must be a suspect of the offence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect_id: Option<Uuid>,
    /// Required with `charge`: the offence charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charged_offence: Option<OffenceCode>,
    /// Required with `no_further_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Kind for OffenceOutcomeRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![subject(EntityKind::Offence, self.offence_id)];
        v.extend(self.suspect_id.map(|id| subject(EntityKind::Person, id)));
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        match (self.outcome, self.charged_offence) {
            (OffenceOutcome::Charge, None) => {
                return Err(ModelError::invalid(
                    "a charge needs the offence charged (charged_offence)",
                ))
            }
            (o, Some(_)) if o != OffenceOutcome::Charge => {
                return Err(ModelError::invalid(
                    "an offence charged is recorded only with the outcome 'charge'",
                ))
            }
            _ => {}
        }
        if self.outcome == OffenceOutcome::NoFurtherAction
            && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(ModelError::invalid(
                "an outcome of no further action needs a reason: say why",
            ));
        }
        check_opt_text("the reason", &self.reason, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.offence_id;
        p.update(id, |s: &mut OffenceState| {
            if let Some(sus) = self.suspect_id {
                if !s.suspect_ids.contains(&sus) {
                    return Err(reject(format!(
                        "person {sus} is not recorded as a suspect of offence {id}; link them as suspect_in first"
                    )));
                }
            }
            s.outcomes.push(OutcomeEntry {
                outcome: self.outcome,
                suspect_id: self.suspect_id,
                charged_offence: self.charged_offence,
                reason: self.reason.clone(),
                recorded: Stamp::of(h),
            });
            s.status = self.outcome;
            Ok(())
        })
    }
}
