//! Event payloads: one variant per kind of event, and the dispatch that every
//! kind implements (its name, schema version, validation, subjects and
//! projection rule).

use crate::canonical::to_canonical_string;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::time::OccurredAt;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Every kind of event Vigil records. Serialised adjacently tagged:
/// `{"kind": "person.recorded", "payload": {...}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum EventPayload {
    #[serde(rename = "agency.registered")]
    AgencyRegistered(AgencyRegistered),
    #[serde(rename = "person.recorded")]
    PersonRecorded(PersonRecorded),
    #[serde(rename = "referral.submitted")]
    ReferralSubmitted(ReferralSubmitted),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyRegistered {
    pub agency_id: Uuid,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonRecorded {
    pub person_id: Uuid,
    pub given_name: String,
    pub family_name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSubmitted {
    pub referral_id: Uuid,
    pub child_id: Uuid,
    pub concern: String,
}

impl EventPayload {
    /// The kind name written in the header (`person.recorded`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            EventPayload::AgencyRegistered(_) => "agency.registered",
            EventPayload::PersonRecorded(_) => "person.recorded",
            EventPayload::ReferralSubmitted(_) => "referral.submitted",
        }
    }

    /// Schema version of this kind's payload.
    pub fn schema(&self) -> u32 {
        1
    }

    /// Parses a stored payload of the named kind.
    pub fn from_kind_and_json(kind: &str, payload_json: &str) -> Result<Self, ModelError> {
        let payload: serde_json::Value = serde_json::from_str(payload_json)
            .map_err(|e| ModelError::invalid(format!("the payload is not valid JSON: {e}")))?;
        serde_json::from_value(json!({"kind": kind, "payload": payload}))
            .map_err(|e| ModelError::invalid(format!("the {kind} payload is not valid: {e}")))
    }

    /// Canonical JSON of the payload alone (without the kind tag).
    pub fn payload_json(&self) -> Result<String, ModelError> {
        let mut v = serde_json::to_value(self)
            .map_err(|e| ModelError::invalid(format!("the payload could not be encoded: {e}")))?;
        let inner = v.get_mut("payload").map(serde_json::Value::take).unwrap_or_default();
        Ok(to_canonical_string(&inner)?)
    }

    /// The entities this event concerns.
    pub fn subjects(&self) -> Vec<SubjectRef> {
        match self {
            EventPayload::AgencyRegistered(p) => vec![SubjectRef::new(EntityKind::Agency, p.agency_id)],
            EventPayload::PersonRecorded(p) => vec![SubjectRef::new(EntityKind::Person, p.person_id)],
            EventPayload::ReferralSubmitted(p) => vec![
                SubjectRef::new(EntityKind::Referral, p.referral_id),
                SubjectRef::new(EntityKind::Person, p.child_id),
            ],
        }
    }

    /// Checks the payload on its own (no state needed).
    pub fn validate(&self, _occurred: &OccurredAt, _now: DateTime<Utc>) -> Result<(), ModelError> {
        match self {
            EventPayload::AgencyRegistered(p) => non_empty("the agency name", &p.name),
            EventPayload::PersonRecorded(p) => {
                non_empty("the given name", &p.given_name)?;
                non_empty("the family name", &p.family_name)
            }
            EventPayload::ReferralSubmitted(p) => non_empty("what the concern is", &p.concern),
        }
    }

    /// Folds the event into the projections.
    pub fn project(&self, header: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        match self {
            EventPayload::AgencyRegistered(a) => p.create(
                EntityKind::Agency,
                a.agency_id,
                json!({"agency": header.agency, "name": a.name}),
            ),
            EventPayload::PersonRecorded(x) => p.create(
                EntityKind::Person,
                x.person_id,
                json!({"given_name": x.given_name, "family_name": x.family_name}),
            ),
            EventPayload::ReferralSubmitted(r) => {
                p.require(EntityKind::Person, r.child_id)?;
                p.create(
                    EntityKind::Referral,
                    r.referral_id,
                    json!({"child_id": r.child_id, "concern": r.concern, "status": "awaiting_decision"}),
                )
            }
        }
    }
}

fn non_empty(what: &str, s: &str) -> Result<(), ModelError> {
    if s.trim().is_empty() {
        Err(ModelError::invalid(format!("{what} is empty")))
    } else {
        Ok(())
    }
}
