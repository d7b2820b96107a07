//! Agencies, people, objects, locations and the links between them.

use super::{ensure_new, reject, subject, Ctx, Kind};
use crate::codes::{AgencyId, AgencyKind, LinkEnd, LinkKind, LocationKind, ObjectKind};
use crate::dates::check_period;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::pole::{
    check_names, Grading, Location, LocationDetails, Object, ObjectDetails, Person,
    PersonAmendment, MAX_NAMES,
};
use crate::projection::{ProjectionError, Projector};
use crate::state::{
    AgencyState, LinkState, LinkStatus, LocationState, ObjectState, OffenceState, PersonState,
    Stamp,
};
use crate::text::{check_name, check_opt_text, check_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};
use crate::time::{truncate, OccurredAt};
use serde::{Deserialize, Serialize};
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
        p.create(
            self.agency_id,
            AgencyState {
                code: self.code.clone(),
                name: self.name.clone(),
                kind: self.kind,
                registered: Stamp::of(h),
            },
        )
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
        let Person {
            person_id,
            names,
            date_of_birth,
            sex,
            ethnicity_self_defined,
            ethnicity_officer_observed,
            ethnicity_dfe,
            nationalities,
            disability,
            description,
        } = self.clone();
        p.create(
            person_id,
            PersonState {
                names,
                date_of_birth,
                sex,
                ethnicity_self_defined,
                ethnicity_officer_observed,
                ethnicity_dfe,
                nationalities,
                disability,
                description,
                recorded: Stamp::of(h),
                amended: None,
                missing_episode_ids: Vec::new(),
                case_ids: Vec::new(),
                context_case_ids: Vec::new(),
                current_placement_id: None,
                placement_count: 0,
                allocation_count: 0,
            },
        )
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
        p.update(id, |s: &mut PersonState| {
            let mut names = s.names.clone();
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
            // (A person recorded without a name may stay without one.)
            if names.is_empty() && !self.remove_names.is_empty() {
                return Err(reject("a person must keep at least one name; add the right name before removing the wrong one"));
            }
            if names.len() > MAX_NAMES {
                return Err(reject(format!("a person may have at most {MAX_NAMES} names")));
            }
            check_names(&names).map_err(|e| reject(e.to_string()))?;
            s.names = names;
            fn set<T: Clone>(field: &mut Option<T>, v: &Option<T>) {
                if let Some(v) = v {
                    *field = Some(v.clone());
                }
            }
            set(&mut s.date_of_birth, &self.date_of_birth);
            set(&mut s.sex, &self.sex);
            set(&mut s.ethnicity_self_defined, &self.ethnicity_self_defined);
            set(&mut s.ethnicity_officer_observed, &self.ethnicity_officer_observed);
            set(&mut s.ethnicity_dfe, &self.ethnicity_dfe);
            set(&mut s.disability, &self.disability);
            set(&mut s.description, &self.description);
            if let Some(n) = &self.nationalities {
                s.nationalities = n.clone();
            }
            s.amended = Some(Stamp::of(h));
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
        p.create(
            self.object_id,
            ObjectState {
                kind: self.kind,
                details: self.details.clone(),
                recorded: Stamp::of(h),
                amended: None,
            },
        )
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
        p.update(self.object_id, |s: &mut ObjectState| {
            let mut merged = s.details.clone();
            merged.merge(&self.details);
            merged.validate(s.kind).map_err(|e| reject(e.to_string()))?;
            s.details = merged;
            s.amended = Some(Stamp::of(h));
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
        p.create(
            self.location_id,
            LocationState {
                kind: self.kind,
                details: self.details.clone(),
                recorded: Stamp::of(h),
                amended: None,
            },
        )
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
        p.update(self.location_id, |s: &mut LocationState| {
            s.details.merge(&self.details);
            if let Some(k) = self.kind {
                s.kind = k;
            }
            s.amended = Some(Stamp::of(h));
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
        if self.kind == LinkKind::SamePerson {
            return Err(ModelError::invalid(
                "two records of the same person are linked by confirming the match (person_match.confirmed), not with link.recorded",
            ));
        }
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
        let list: Option<fn(&mut OffenceState) -> &mut Vec<Uuid>> = match self.kind {
            LinkKind::VictimIn => Some(|o| &mut o.victim_ids),
            LinkKind::SuspectIn => Some(|o| &mut o.suspect_ids),
            LinkKind::WitnessIn => Some(|o| &mut o.witness_ids),
            _ => None,
        };
        if let Some(list) = list {
            let person = self.from.id;
            p.update(self.to.id, |o: &mut OffenceState| {
                let ids = list(o);
                if !ids.contains(&person) {
                    ids.push(person);
                }
                Ok(())
            })?;
        }
        p.create(
            self.link_id,
            LinkState {
                kind: self.kind,
                from: self.from,
                to: self.to,
                since: self.since.clone(),
                until: self.until.clone(),
                grading: self.grading.clone(),
                note: self.note.clone(),
                status: LinkStatus::Active,
                recorded: Stamp::of(h),
                end_reason: None,
                ended: None,
                matching: None,
            },
        )
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
    p.require(end.kind, end.id)?;
    let Some(rule) = allowed.iter().find(|e| e.entity == end.kind) else {
        return Err(reject(format!(
            "a '{}' link needs {} at its {which} end",
            kind.code(),
            LinkKind::describe_ends(allowed)
        )));
    };
    if !rule.object_kinds.is_empty() {
        let object_kind: Option<ObjectKind> = match end.kind {
            EntityKind::Object => Some(p.read(end.id, |o: &ObjectState| o.kind)?),
            _ => None,
        };
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
        p.update(id, |s: &mut LinkState| {
            if s.matching.is_some() {
                return Err(reject(format!(
                    "link {id} joins two records of one person; it is undone with person_match.undone"
                )));
            }
            if s.status == LinkStatus::Ended {
                return Err(reject(format!("link {id} has already been ended")));
            }
            if let (Some(since), Some(until)) = (&s.since, &self.until) {
                check_period("the link", since, until).map_err(|e| reject(e.to_string()))?;
            }
            s.status = LinkStatus::Ended;
            s.end_reason = Some(self.reason.clone());
            if let Some(u) = &self.until {
                s.until = Some(u.clone());
            }
            s.ended = Some(Stamp::of(h));
            Ok(())
        })
    }
}
