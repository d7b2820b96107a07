//! Agencies, people, objects, locations and the links between them.

use super::{ensure_new, reject, stamp, state_of, subject, to_value, Ctx, Kind};
use crate::codes::{AgencyId, AgencyKind, LinkEnd, LinkKind, LocationKind, ObjectKind};
use crate::dates::check_period;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::pole::{
    check_names, Grading, Location, LocationDetails, Object, ObjectDetails, Person,
    PersonAmendment, PersonName, MAX_NAMES,
};
use crate::projection::{ProjectionError, Projector};
use crate::text::{check_name, check_opt_text, check_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};
use crate::time::{truncate, OccurredAt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// `agency.registered`: an organisation that records in Vigil.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyRegistered {
    pub agency_id: Uuid,
    /// The id written as `agency` in the envelope of this agency's events.
    pub code: AgencyId,
    pub name: String,
    pub kind: AgencyKind,
}

impl Kind for AgencyRegistered {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Agency, self.agency_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_name("the agency name", &self.name)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let mut s = state_of(self)?;
        s.remove("agency_id");
        s.insert("registered".into(), stamp(h));
        p.create(EntityKind::Agency, self.agency_id, Value::Object(s))
    }
}

impl Kind for Person {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Person, self.person_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        Person::validate(self, cx.now)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let mut s = state_of(self)?;
        s.remove("person_id");
        s.insert("recorded".into(), stamp(h));
        p.create(EntityKind::Person, self.person_id, Value::Object(s))
    }
}

impl Kind for PersonAmendment {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Person, self.person_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        PersonAmendment::validate(self, cx.now)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.person_id;
        p.update(EntityKind::Person, id, |s| {
            let mut names: Vec<PersonName> = match s.get("names") {
                Some(v) => serde_json::from_value(v.clone())
                    .map_err(|e| ProjectionError::Store(format!("stored names are not readable: {e}")))?,
                None => Vec::new(),
            };
            for n in &self.remove_names {
                let Some(i) = names.iter().position(|x| x == n) else {
                    return Err(reject(format!(
                        "the name '{}' ({}) is not recorded for person {id}, so it cannot be removed",
                        truncate(&n.display()),
                        n.kind.label().to_lowercase()
                    )));
                };
                names.remove(i);
            }
            for n in &self.add_names {
                if names.contains(n) {
                    return Err(reject(format!(
                        "the name '{}' is already recorded for person {id}",
                        truncate(&n.display())
                    )));
                }
                names.push(n.clone());
            }
            if names.is_empty() {
                return Err(reject("a person must keep at least one name; add the right name before removing the wrong one"));
            }
            if names.len() > MAX_NAMES {
                return Err(reject(format!("a person may have at most {MAX_NAMES} names")));
            }
            check_names(&names).map_err(|e| reject(e.to_string()))?;
            s.insert("names".into(), to_value(&names)?);
            let mut set = |key: &str, v: Option<Value>| {
                if let Some(v) = v {
                    s.insert(key.into(), v);
                }
            };
            set("date_of_birth", self.date_of_birth.as_ref().map(to_value).transpose()?);
            set("sex", self.sex.as_ref().map(to_value).transpose()?);
            set("ethnicity_self_defined", self.ethnicity_self_defined.as_ref().map(to_value).transpose()?);
            set(
                "ethnicity_officer_observed",
                self.ethnicity_officer_observed.as_ref().map(to_value).transpose()?,
            );
            set("ethnicity_dfe", self.ethnicity_dfe.as_ref().map(to_value).transpose()?);
            set("disability", self.disability.as_ref().map(to_value).transpose()?);
            set("description", self.description.as_ref().map(to_value).transpose()?);
            if let Some(n) = &self.nationalities {
                if n.is_empty() {
                    s.remove("nationalities");
                } else {
                    s.insert("nationalities".into(), to_value(n)?);
                }
            }
            s.insert("amended".into(), stamp(h));
            Ok(())
        })
    }
}

impl Kind for Object {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Object, self.object_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        Object::validate(self)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let mut s = state_of(self)?;
        s.remove("object_id");
        s.insert("recorded".into(), stamp(h));
        p.create(EntityKind::Object, self.object_id, Value::Object(s))
    }
}

/// `object.amended`: details of an object added or corrected (only the
/// fields present change; the kind does not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectAmended {
    pub object_id: Uuid,
    pub reason: String,
    #[serde(flatten)]
    pub details: ObjectDetails,
}

impl Kind for ObjectAmended {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Object, self.object_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "the reason for the change",
            &self.reason,
            MAX_SHORT_CHARS,
            true,
        )?;
        if self.details.is_empty() {
            return Err(ModelError::invalid("the amendment changes nothing"));
        }
        self.details.check_formats()
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let rec = p.require(EntityKind::Object, self.object_id)?;
        let current: Object = serde_json::from_value({
            let mut s = rec.state.clone();
            if let Some(m) = s.as_object_mut() {
                m.remove("recorded");
                m.remove("amended");
                m.insert("object_id".into(), json!(self.object_id));
            }
            s
        })
        .map_err(|e| ProjectionError::Store(format!("stored object is not readable: {e}")))?;
        let mut merged = current.details.clone();
        merged.merge(&self.details);
        merged
            .validate(current.kind)
            .map_err(|e| reject(e.to_string()))?;
        let mut new_state = state_of(&Object {
            object_id: self.object_id,
            kind: current.kind,
            details: merged,
        })?;
        p.update(EntityKind::Object, self.object_id, |s| {
            new_state.remove("object_id");
            if let Some(r) = s.get("recorded") {
                new_state.insert("recorded".into(), r.clone());
            }
            new_state.insert("amended".into(), stamp(h));
            *s = std::mem::take(&mut new_state);
            Ok(())
        })
    }
}

impl Kind for Location {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Location, self.location_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        Location::validate(self)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let mut s = state_of(self)?;
        s.remove("location_id");
        s.insert("recorded".into(), stamp(h));
        p.create(EntityKind::Location, self.location_id, Value::Object(s))
    }
}

/// `location.amended`: details of a place added or corrected (only the
/// fields present change; address lines are replaced as a whole).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationAmended {
    pub location_id: Uuid,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<LocationKind>,
    #[serde(flatten)]
    pub details: LocationDetails,
}

impl Kind for LocationAmended {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Location, self.location_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "the reason for the change",
            &self.reason,
            MAX_SHORT_CHARS,
            true,
        )?;
        if self.details.is_empty() && self.kind.is_none() {
            return Err(ModelError::invalid("the amendment changes nothing"));
        }
        self.details.check_formats()
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let rec = p.require(EntityKind::Location, self.location_id)?;
        let current: Location = serde_json::from_value({
            let mut s = rec.state.clone();
            if let Some(m) = s.as_object_mut() {
                m.remove("recorded");
                m.remove("amended");
                m.insert("location_id".into(), json!(self.location_id));
            }
            s
        })
        .map_err(|e| ProjectionError::Store(format!("stored location is not readable: {e}")))?;
        let mut merged = current.details.clone();
        merged.merge(&self.details);
        let kind = self.kind.unwrap_or(current.kind);
        let mut new_state = state_of(&Location {
            location_id: self.location_id,
            kind,
            details: merged,
        })?;
        p.update(EntityKind::Location, self.location_id, |s| {
            new_state.remove("location_id");
            if let Some(r) = s.get("recorded") {
                new_state.insert("recorded".into(), r.clone());
            }
            new_state.insert("amended".into(), stamp(h));
            *s = std::mem::take(&mut new_state);
            Ok(())
        })
    }
}

/// `link.recorded`: a typed link from one entity to another, e.g. a person
/// `lives_at` a location or `drives` a vehicle. Which entities may stand at
/// each end is set by the link kind ([`LinkKind::from_ends`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRecorded {
    pub link_id: Uuid,
    pub kind: LinkKind,
    pub from: SubjectRef,
    pub to: SubjectRef,
    /// Since when the link holds, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<OccurredAt>,
    /// Until when it held, if it is known to have ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<OccurredAt>,
    /// How far the information behind the link is to be trusted and shared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grading: Option<Grading>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Kind for LinkRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Link, self.link_id), self.from, self.to]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.from.id == self.to.id {
            return Err(ModelError::invalid(
                "a link joins two different things; both ends are the same",
            ));
        }
        if self.from.id == self.link_id || self.to.id == self.link_id {
            return Err(ModelError::invalid("a link cannot have itself at one end"));
        }
        for (which, end, allowed) in [
            ("from", &self.from, self.kind.from_ends()),
            ("to", &self.to, self.kind.to_ends()),
        ] {
            if !allowed.iter().any(|e| e.entity == end.kind) {
                return Err(ModelError::invalid(format!(
                    "a '{}' link needs {} at its {which} end, not {}",
                    self.kind.code(),
                    LinkKind::describe_ends(allowed),
                    crate::codes::entity_with_article(end.kind)
                )));
            }
        }
        if let Some(s) = &self.since {
            s.validate(cx.now)?;
        }
        if let Some(u) = &self.until {
            u.validate(cx.now)?;
        }
        if let (Some(s), Some(u)) = (&self.since, &self.until) {
            check_period("the link", s, u)?;
        }
        if let Some(g) = &self.grading {
            g.validate()?;
        }
        check_opt_text("the note", &self.note, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        ensure_new(p, self.link_id)?;
        check_end(p, self.kind, "from", &self.from, self.kind.from_ends())?;
        check_end(p, self.kind, "to", &self.to, self.kind.to_ends())?;
        // A person linked to an offence is listed on the offence too, so an
        // outcome can be recorded for a suspect identified later.
        let list = match self.kind {
            LinkKind::VictimIn => Some("victim_ids"),
            LinkKind::SuspectIn => Some("suspect_ids"),
            LinkKind::WitnessIn => Some("witness_ids"),
            _ => None,
        };
        if let Some(key) = list {
            let person = json!(self.from.id);
            p.update(EntityKind::Offence, self.to.id, |s| {
                let arr = s.entry(key).or_insert_with(|| json!([]));
                if let Some(a) = arr.as_array_mut() {
                    if !a.contains(&person) {
                        a.push(person);
                    }
                }
                Ok(())
            })?;
        }
        let mut s = state_of(self)?;
        s.remove("link_id");
        s.insert("status".into(), json!("active"));
        s.insert("recorded".into(), stamp(h));
        p.create(EntityKind::Link, self.link_id, Value::Object(s))
    }
}

/// Checks that a link end exists, is of an allowed kind and, for objects,
/// of an allowed object kind.
fn check_end(
    p: &mut Projector<'_>,
    kind: LinkKind,
    which: &str,
    end: &SubjectRef,
    allowed: &[LinkEnd],
) -> Result<(), ProjectionError> {
    let rec = p.require(end.kind, end.id)?;
    let Some(rule) = allowed.iter().find(|e| e.entity == end.kind) else {
        return Err(reject(format!(
            "a '{}' link needs {} at its {which} end",
            kind.code(),
            LinkKind::describe_ends(allowed)
        )));
    };
    if !rule.object_kinds.is_empty() {
        let object_kind = rec
            .state
            .get("kind")
            .and_then(Value::as_str)
            .and_then(|k| ObjectKind::parse(k).ok());
        if !object_kind.is_some_and(|k| rule.object_kinds.contains(&k)) {
            return Err(reject(format!(
                "a '{}' link needs {} at its {which} end; object {} is a {}",
                kind.code(),
                LinkKind::describe_ends(allowed),
                end.id,
                object_kind.map_or("thing of unknown kind", |k| k.code())
            )));
        }
    }
    Ok(())
}

/// `link.ended`: a link no longer holds (moved away, eliminated, phone
/// changed hands).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkEnded {
    pub link_id: Uuid,
    pub reason: String,
    /// When it stopped holding, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<OccurredAt>,
}

impl Kind for LinkEnded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Link, self.link_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("the reason", &self.reason, MAX_SHORT_CHARS, true)?;
        if let Some(u) = &self.until {
            u.validate(cx.now)?;
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.link_id;
        let rec = p.require(EntityKind::Link, id)?;
        if rec.state.get("status").and_then(Value::as_str) == Some("ended") {
            return Err(reject(format!("link {id} has already been ended")));
        }
        if let (Some(since), Some(until)) = (
            super::field::<OccurredAt>(&rec.state, "since")?,
            &self.until,
        ) {
            check_period("the link", &since, until).map_err(|e| reject(e.to_string()))?;
        }
        p.update(EntityKind::Link, id, |s| {
            s.insert("status".into(), json!("ended"));
            s.insert("end_reason".into(), json!(self.reason));
            if let Some(u) = &self.until {
                s.insert("until".into(), to_value(u)?);
            }
            s.insert("ended".into(), stamp(h));
            Ok(())
        })
    }
}
