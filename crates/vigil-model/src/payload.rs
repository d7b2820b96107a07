//! Event payloads: one variant per kind of event, and the dispatch that every
//! kind implements (its name, schema version, validation, subjects and
//! projection rule).
//!
//! Kind names are `noun.verb_past`. Every event also carries, in its
//! envelope, the actor, agency, recorded-at and occurred-at. The kinds:
//!
//! | kind | what it records |
//! |---|---|
//! | `agency.registered` | an agency: its id, code (the `agency` of envelopes), name and kind |
//! | `person.recorded` | a person: names (birth, alias, nickname, street name, ...), date of birth with precision, sex, the three ethnicity codes each with its source, nationalities, disability, description |
//! | `person.amended` | names added or removed, date of birth corrected, codes changed; with a reason |
//! | `object.recorded` | a vehicle, phone, business, bank or online account, or other thing |
//! | `object.amended` | changed or added details of an object; with a reason |
//! | `location.recorded` | a place: kind, name, address, postcode (whole or partial), description |
//! | `location.amended` | changed or added details of a place; with a reason |
//! | `link.recorded` | a typed link between two entities (person lives_at location, ...), with optional dates, grading and note |
//! | `link.ended` | a link that no longer holds; with a reason |
//! | `referral.submitted` | a concern about a child: what was seen, where, who else, immediate danger (and then whether the police were called), a number to call the sender back on |
//! | `referral.decided` | the decision on a referral (once; no further action needs a reason, and so does any decision below a strategy discussion when the child is in immediate danger) |
//! | `referral.information_added` | the sender tells the front door more about their referral, later (only the sender; names the child) |
//! | `referral.escalated` | Vigil told a supervisor (then the head of service) that a referral was not decided in time; once per level, never after the decision |
//! | `assessment.completed` | the Children in Need factors found by the assessment a referral led to |
//! | `missing_episode.recorded` | a child missing (M) or away without authorisation (A), from an exact time |
//! | `missing_episode.returned` | the child's return (once; not before the start), where found (a location or words), by whom, with whom (a person or words), whether a return interview was offered |
//! | `return_interview.assigned` | who is to do the return home interview (agency, worker); due 72 clock hours after the return |
//! | `return_interview.recorded` | the return home interview held (what the child said, where, by whom) or declined by the child |
//! | `placement.started` | a child looked after placed (SSDA903 placement type, location, start date) |
//! | `placement.ended` | that placement's end (once; not before its start) |
//! | `allocation.recorded` | a worker allocated to a child |
//! | `allocation.ended` | that allocation's end (once) |
//! | `intelligence.recorded` | an intelligence report about people, objects and places, graded 3x5x2 |
//! | `offence.recorded` | an offence: code, victims, suspects, when, where, CSE flag |
//! | `offence.outcome_recorded` | an outcome: charge (offence charged), caution, community resolution, no further action (reason), not yet resolved |
//! | `meeting.recorded` | a strategy discussion, conference, MACE meeting or return home interview: attendees and decisions |
//! | `case.opened` | a case opened for a child at a level (early help ... exploitation), with its lead agency, allocated worker, agencies involved, and risk and why |
//! | `case.level_changed` | a case stepped up or down |
//! | `case.closed` | a case closed (once; with a reason) |
//! | `case.allocated` | a case's worker (and perhaps its lead agency) changed; with a reason |
//! | `case.agency_added` | another agency involved in a case (its users may then see the case) |
//! | `case.agency_removed` | an agency no longer involved (not the lead); with a reason |
//! | `case.risk_changed` | a case's risk (low, medium, high) assessed again; with why |
//! | `case.action_added` | an action on a case: what, who (owner), due date, and the meeting that set it if any |
//! | `case.action_closed` | an action done or cancelled (once; with a note) |
//! | `case.closure_requested` | someone asked to close a case whose work is still live (open actions, active indicators, a recent missing episode): the reason and those concerns; it waits for a supervisor |
//! | `case.closure_declined` | a supervisor kept the case open instead; with a note |
//! | `note.recorded` | a case note about one or more entities |
//! | `screening.recorded` | a CSE screening of a child: every indicator of DOMAIN.md section 8 answered yes / no / not known (a yes with the day it was known and its source), the risk the answers support (and the rule that computed it), the practitioner's judged risk, and a reason when the two differ (see [`screening`]) |
//! | `person_match.scored` | a model run's score of two person records: probability, threshold, model and version, each field's weight (links them at or above the threshold unless a person decided otherwise; see [`matching`]) |
//! | `person_match.confirmed` | a person confirmed two records are of the same person |
//! | `person_match.rejected` | a person said two records are not of the same person (stays so unless new evidence reopens it) |
//! | `person_match.undone` | a link of two records withdrawn (unmerge); with a reason |
//! | `user.registered` | an account: username (its id derives from it), name, role, agency; never a password |
//! | `user.role_changed` | an account given another role; with a reason |
//! | `user.disabled` | an account that may no longer sign in (final); with a reason |
//! | `user.password_reset` | an administrator issued a temporary password; with a reason |
//! | `meeting.held` | a meeting that discussed several cases (the monthly multi-agency exploitation meeting): chair, who attended (people and agencies), the decision on each case (every one open); its actions are `case.action_added` events naming it, in the same unit |
//! | `access_log.checkpointed` | Vigil anchored the access log (its row count and last hash) in the ledger, so rows cut off its end are found |
//! | `alert.raised` | a rule met (Vigil only): rule, severity, the child, what it says, the events that met it; the id derives from the rule and the events, so it is raised once |
//! | `alert.seen` | a person opened an alert (once per person) |
//! | `alert.acknowledged` | a person took an alert on, with a note (once) |
//! | `alert.resolved` | a person resolved an alert, with a note (once) |
//!
//! Validation ([`EventPayload::validate`]) needs no state and refuses bad
//! input with a sentence. Projection ([`EventPayload::project`]) enforces the
//! rules that need state: what an event refers to must exist and be of the
//! right kind, and things that happen once (a decision, a return, a closure)
//! happen once.

use crate::canonical::to_canonical_string;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{HasChild, KindState};
use crate::time::OccurredAt;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod accounts;
mod alerts;
mod casework;
mod entities;
pub mod matching;
mod missing;
mod oversight;
mod police;
pub mod screening;

pub use accounts::{
    check_username, user_id_for, UserDisabled, UserPasswordReset, UserRegistered, UserRoleChanged,
};
pub use alerts::{AlertAcknowledged, AlertRaised, AlertResolved, AlertSeen, MAX_ALERT_EVENTS};
pub use oversight::{access_log_id, AccessLogCheckpointed, EscalationLevel, ReferralEscalated};

pub use crate::pole::{Location, Object, Person, PersonAmendment};
pub use casework::{
    AllocationEnded, AllocationRecorded, AssessmentCompleted, CaseActionAdded, CaseActionClosed,
    CaseAgencyAdded, CaseAgencyRemoved, CaseAllocated, CaseChildLinked, CaseChildUnlinked,
    CaseClosed, CaseClosureDeclined, CaseClosureRequested, CaseDiscussed, CaseLevelChanged,
    CaseOpened, CaseRiskChanged, MeetingAttendee, MeetingHeld, MeetingRecorded,
    MissingEpisodeRecorded, MissingEpisodeReturned, NoteRecorded, PlacementEnded, PlacementStarted,
    ReferralDecided, ReferralInformationAdded, ReferralSubmitted, Referrer, MAX_ADDITIONS,
    MAX_CASE_ACTIONS, MAX_LINKED_CHILDREN,
};
pub use entities::{AgencyRegistered, LinkEnded, LinkRecorded, LocationAmended, ObjectAmended};
pub use matching::{
    match_id, PersonMatchConfirmed, PersonMatchRejected, PersonMatchScored, PersonMatchUndone,
};
pub use missing::{ReturnInterviewAssigned, ReturnInterviewRecorded};
pub use police::{IntelligenceRecorded, OffenceOutcomeRecorded, OffenceRecorded};
pub use screening::{IndicatorAnswer, ScreeningRecorded};

/// What validation of a payload may look at besides the payload.
pub(crate) struct Ctx<'a> {
    /// The envelope's occurred-at.
    pub occurred: &'a OccurredAt,
    /// When Vigil received the event.
    pub now: DateTime<Utc>,
}

/// What each payload type implements; [`EventPayload`] dispatches to it.
pub(crate) trait Kind {
    /// Schema version of the payload.
    const SCHEMA: u32 = 1;
    fn subjects(&self) -> Vec<SubjectRef>;
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError>;
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError>;
}

macro_rules! event_payloads {
    ( $( $(#[$doc:meta])* $kind:literal => $variant:ident($ty:ty), )+ ) => {
        /// Every kind of event Vigil records. Serialised adjacently tagged:
        /// `{"kind": "person.recorded", "payload": {...}}`.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", content = "payload")]
        pub enum EventPayload {
            $( $(#[$doc])* #[serde(rename = $kind)] $variant($ty), )+
        }

        impl EventPayload {
            /// Every kind name, in the order of the table in this module's doc.
            pub const ALL_KINDS: &'static [&'static str] = &[ $( $kind, )+ ];

            /// The kind name written in the header (`person.recorded`, ...).
            pub fn kind(&self) -> &'static str {
                match self { $( EventPayload::$variant(_) => $kind, )+ }
            }

            /// Schema version of this kind's payload.
            pub fn schema(&self) -> u32 {
                match self { $( EventPayload::$variant(_) => <$ty as Kind>::SCHEMA, )+ }
            }

            /// The entities this event concerns.
            pub fn subjects(&self) -> Vec<SubjectRef> {
                match self { $( EventPayload::$variant(x) => Kind::subjects(x), )+ }
            }

            fn validate_inner(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
                match self { $( EventPayload::$variant(x) => Kind::validate(x, cx), )+ }
            }

            /// Parses a payload of a known kind straight into its type.
            fn parse_kind(kind: &str, payload_json: &str) -> Option<serde_json::Result<Self>> {
                match kind {
                    $( $kind => Some(serde_json::from_str::<$ty>(payload_json).map(EventPayload::$variant)), )+
                    _ => None,
                }
            }

            /// Folds the event into the projections.
            pub fn project(&self, header: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
                match self { $( EventPayload::$variant(x) => Kind::project(x, header, p), )+ }
            }
        }
    };
}

event_payloads! {
    "agency.registered" => AgencyRegistered(AgencyRegistered),
    "person.recorded" => PersonRecorded(Person),
    "person.amended" => PersonAmended(PersonAmendment),
    "object.recorded" => ObjectRecorded(Object),
    "object.amended" => ObjectAmended(ObjectAmended),
    "location.recorded" => LocationRecorded(Location),
    "location.amended" => LocationAmended(LocationAmended),
    "link.recorded" => LinkRecorded(LinkRecorded),
    "link.ended" => LinkEnded(LinkEnded),
    "referral.submitted" => ReferralSubmitted(ReferralSubmitted),
    "referral.decided" => ReferralDecided(ReferralDecided),
    "referral.escalated" => ReferralEscalated(ReferralEscalated),
    "referral.information_added" => ReferralInformationAdded(ReferralInformationAdded),
    "assessment.completed" => AssessmentCompleted(AssessmentCompleted),
    "missing_episode.recorded" => MissingEpisodeRecorded(MissingEpisodeRecorded),
    "missing_episode.returned" => MissingEpisodeReturned(MissingEpisodeReturned),
    "return_interview.assigned" => ReturnInterviewAssigned(ReturnInterviewAssigned),
    "return_interview.recorded" => ReturnInterviewRecorded(ReturnInterviewRecorded),
    "placement.started" => PlacementStarted(PlacementStarted),
    "placement.ended" => PlacementEnded(PlacementEnded),
    "allocation.recorded" => AllocationRecorded(AllocationRecorded),
    "allocation.ended" => AllocationEnded(AllocationEnded),
    "intelligence.recorded" => IntelligenceRecorded(IntelligenceRecorded),
    "offence.recorded" => OffenceRecorded(OffenceRecorded),
    "offence.outcome_recorded" => OffenceOutcomeRecorded(OffenceOutcomeRecorded),
    "meeting.recorded" => MeetingRecorded(MeetingRecorded),
    "case.opened" => CaseOpened(CaseOpened),
    "case.level_changed" => CaseLevelChanged(CaseLevelChanged),
    "case.closed" => CaseClosed(CaseClosed),
    "case.allocated" => CaseAllocated(CaseAllocated),
    "case.agency_added" => CaseAgencyAdded(CaseAgencyAdded),
    "case.agency_removed" => CaseAgencyRemoved(CaseAgencyRemoved),
    "case.risk_changed" => CaseRiskChanged(CaseRiskChanged),
    "case.action_added" => CaseActionAdded(CaseActionAdded),
    "case.action_closed" => CaseActionClosed(CaseActionClosed),
    "case.closure_requested" => CaseClosureRequested(CaseClosureRequested),
    "case.closure_declined" => CaseClosureDeclined(CaseClosureDeclined),
    "case.child_linked" => CaseChildLinked(CaseChildLinked),
    "case.child_unlinked" => CaseChildUnlinked(CaseChildUnlinked),
    "note.recorded" => NoteRecorded(NoteRecorded),
    "screening.recorded" => ScreeningRecorded(ScreeningRecorded),
    "person_match.scored" => PersonMatchScored(PersonMatchScored),
    "person_match.confirmed" => PersonMatchConfirmed(PersonMatchConfirmed),
    "person_match.rejected" => PersonMatchRejected(PersonMatchRejected),
    "person_match.undone" => PersonMatchUndone(PersonMatchUndone),
    "user.registered" => UserRegistered(UserRegistered),
    "user.role_changed" => UserRoleChanged(UserRoleChanged),
    "user.disabled" => UserDisabled(UserDisabled),
    "user.password_reset" => UserPasswordReset(UserPasswordReset),
    "access_log.checkpointed" => AccessLogCheckpointed(AccessLogCheckpointed),
    "alert.raised" => AlertRaised(AlertRaised),
    "alert.seen" => AlertSeen(AlertSeen),
    "alert.acknowledged" => AlertAcknowledged(AlertAcknowledged),
    "alert.resolved" => AlertResolved(AlertResolved),
    "meeting.held" => MeetingHeld(MeetingHeld),
}

impl EventPayload {
    /// Parses a stored payload of the named kind.
    pub fn from_kind_and_json(kind: &str, payload_json: &str) -> Result<Self, ModelError> {
        if !Self::ALL_KINDS.contains(&kind) {
            return Err(ModelError::invalid(format!(
                "'{}' is not a kind of event Vigil records",
                crate::time::truncate(kind)
            )));
        }
        // Parsed straight into the kind's type (no intermediate JSON value:
        // this runs for every entry when verification replays the log);
        // a syntax error is told apart from a payload of the wrong shape.
        match Self::parse_kind(kind, payload_json) {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) if e.is_syntax() || e.is_eof() => Err(ModelError::invalid(format!(
                "the payload is not valid JSON: {}",
                bounded(&e.to_string())
            ))),
            Some(Err(e)) => Err(ModelError::invalid(format!(
                "the {kind} payload is not valid: {}",
                bounded(&e.to_string())
            ))),
            None => Err(ModelError::invalid(format!(
                "'{}' is not a kind of event Vigil records",
                crate::time::truncate(kind)
            ))),
        }
    }

    /// Canonical JSON of the payload alone (without the kind tag).
    pub fn payload_json(&self) -> Result<String, ModelError> {
        let mut v = serde_json::to_value(self)
            .map_err(|e| ModelError::invalid(format!("the payload could not be encoded: {e}")))?;
        let inner = v
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or_default();
        Ok(to_canonical_string(&inner)?)
    }

    /// Checks the payload on its own (no state needed).
    pub fn validate(&self, occurred: &OccurredAt, now: DateTime<Utc>) -> Result<(), ModelError> {
        self.validate_inner(&Ctx { occurred, now })
    }
}

/// Keeps a parser's message readable: serde's own messages (an unknown
/// variant of a derived enum, for example) quote the whole input.
pub(crate) fn bounded(msg: &str) -> String {
    const MAX: usize = 300;
    if msg.chars().count() <= MAX {
        msg.to_owned()
    } else {
        let mut t: String = msg.chars().take(MAX).collect();
        t.push('…');
        t
    }
}

// ---------------------------------------------------------------------------
// Helpers shared by the projection rules
// ---------------------------------------------------------------------------

pub(crate) fn reject(msg: impl Into<String>) -> ProjectionError {
    ProjectionError::Rejected(msg.into())
}

/// Refuses when an entity that belongs to a child belongs to another child.
pub(crate) fn same_child<T: KindState + HasChild>(
    p: &mut Projector<'_>,
    id: Uuid,
    child: Uuid,
) -> Result<(), ProjectionError> {
    if p.read(id, |t: &T| t.child_id())? != child {
        return Err(reject(format!(
            "{} {id} is about a different child from {child}",
            T::KIND
        )));
    }
    Ok(())
}

/// Refuses an id that is already taken, before an event changes anything
/// else (so a refused event leaves no partial change, even without a
/// transaction around it).
pub(crate) fn ensure_new(p: &mut Projector<'_>, id: Uuid) -> Result<(), ProjectionError> {
    match p.kind_of(id)? {
        Some(existing) => Err(reject(format!(
            "{id} is already recorded (as a {existing})"
        ))),
        None => Ok(()),
    }
}

pub(crate) fn require_all(
    p: &mut Projector<'_>,
    kind: EntityKind,
    ids: &[Uuid],
) -> Result<(), ProjectionError> {
    for id in ids {
        p.require(kind, *id)?;
    }
    Ok(())
}

pub(crate) fn subject(kind: EntityKind, id: Uuid) -> SubjectRef {
    SubjectRef::new(kind, id)
}

pub(crate) fn persons(ids: &[Uuid]) -> impl Iterator<Item = SubjectRef> + '_ {
    ids.iter()
        .map(|id| SubjectRef::new(EntityKind::Person, *id))
}

#[cfg(test)]
mod tests;
