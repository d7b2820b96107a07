//! The projected state of every kind of entity, as types.
//!
//! One struct per [`EntityKind`], with status enums where an entity moves
//! through states, and [`EntityState`] over them all. The projection rules
//! (`payload`) build and change these structs, never JSON maps, and every
//! reader gets them back from the store already parsed, so a field renamed
//! here is a compile error everywhere it is used rather than a silent
//! `None` in some page.
//!
//! Each struct serialises to exactly the JSON the store has always kept for
//! its kind (field names, optional fields left out when empty), so stores
//! written before these types existed parse unchanged. Parsing is strict
//! (`deny_unknown_fields`; a required field that is missing is an error, not
//! a default), and [`EntityState::parse`] is the one way a stored row becomes
//! state. Fields that are left out when empty (lists, counts) are the only
//! ones that default, because absent and empty mean the same thing there.
//!
//! Changing a struct here changes stored rows: bump
//! [`crate::projection::PROJECTION_VERSION`] in the same commit.

use crate::canonical::{to_canonical_string, CanonicalError};
use crate::codes::{
    ActionStatus, AgencyId, AgencyKind, CaseDecision, CaseLevel, CinFactor, DfeEthnicity,
    Disability, Indicator, InterviewOutcome, LinkKind, LocationKind, MeetingKind, MissingType,
    Nationality, ObjectKind, ObservedEthnicity, OffenceCode, OffenceOutcome, PlacementType,
    ReferralDecision, RiskLevel, Role, ScreeningAnswer, SelfDefinedEthnicity, Sex,
};
use crate::dates::{Date, DateOfBirth, Timestamp};
use crate::event::{EntityKind, EventHeader, SubjectRef};
use crate::payload::{EscalationLevel, IndicatorAnswer, Referrer};
use crate::pole::{EthnicityRecord, Grading, LocationDetails, ObjectDetails, PersonName};
use crate::time::OccurredAt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Who did something, for which agency, when Vigil received it, and in which
/// event: kept in state for every change that matters (recorded, decided,
/// ended, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// The event's recorded-at (RFC 3339, UTC, milliseconds).
    pub at: String,
    /// The actor's user id (an account name).
    pub by: String,
    pub agency: AgencyId,
    pub event_id: Uuid,
    /// For imported history: when the source system recorded it (the
    /// event's `source.recorded_at`). Deadlines run from it, so a referral
    /// a previous system received ten days before the import is ten days
    /// old in Vigil too, not new on the day of the import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_at: Option<String>,
}

impl Stamp {
    /// The stamp of the event with this header.
    pub fn of(h: &EventHeader) -> Stamp {
        Stamp {
            at: h.recorded_at.clone(),
            by: h.actor.user.clone(),
            agency: h.agency.clone(),
            event_id: h.id,
            source_at: h.source.as_ref().map(|s| s.recorded_at.clone()),
        }
    }

    /// When it was first recorded anywhere: by the source system for
    /// imported history, otherwise by Vigil (RFC 3339, UTC, milliseconds).
    pub fn first_recorded(&self) -> &str {
        self.source_at.as_deref().unwrap_or(&self.at)
    }

    /// The account id of whoever did it. Usernames are never reused (an
    /// account cannot take a name the log has seen), so this names one person.
    pub fn user_id(&self) -> Uuid {
        crate::payload::user_id_for(&self.by)
    }
}

// ---------------------------------------------------------------------------
// Agencies, people, objects, locations, links
// ---------------------------------------------------------------------------

/// An agency (`agency.registered`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyState {
    /// The id written as `agency` in the envelope of this agency's events.
    pub code: AgencyId,
    pub name: String,
    pub kind: AgencyKind,
    pub registered: Stamp,
}

/// A person (`person.recorded`, `person.amended`), with what casework adds
/// to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonState {
    /// At least one; the first is the name shown.
    pub names: Vec<PersonName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<DateOfBirth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnicity_self_defined: Option<EthnicityRecord<SelfDefinedEthnicity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnicity_officer_observed: Option<EthnicityRecord<ObservedEthnicity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethnicity_dfe: Option<EthnicityRecord<DfeEthnicity>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nationalities: Vec<Nationality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disability: Option<Disability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub recorded: Stamp,
    /// The last amendment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amended: Option<Stamp>,
    /// The child's missing episodes, in the order recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_episode_ids: Vec<Uuid>,
    /// The cases opened for the child, in the order opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_ids: Vec<Uuid>,
    /// The contextual cases (on a place or a peer group) the child is
    /// linked to now, in the order linked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_case_ids: Vec<Uuid>,
    /// The placement the child is in now, if looked after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_placement_id: Option<Uuid>,
    /// Placements ever started for the child.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub placement_count: u64,
    /// Workers ever allocated to the child.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub allocation_count: u64,
}

/// What pages say for a person recorded without a name (a child described,
/// not named, by the referrer).
pub const NAME_NOT_KNOWN: &str = "Name not known";

impl PersonState {
    /// The name shown: the first recorded ([`NAME_NOT_KNOWN`] when none is).
    pub fn display_name(&self) -> String {
        self.names
            .first()
            .map(|n| n.display())
            .unwrap_or_else(|| NAME_NOT_KNOWN.into())
    }
}

/// A thing (`object.recorded`, `object.amended`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectState {
    pub kind: ObjectKind,
    #[serde(flatten)]
    pub details: ObjectDetails,
    pub recorded: Stamp,
    /// The last amendment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amended: Option<Stamp>,
}

/// A place (`location.recorded`, `location.amended`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationState {
    pub kind: LocationKind,
    #[serde(flatten)]
    pub details: LocationDetails,
    pub recorded: Stamp,
    /// The last amendment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amended: Option<Stamp>,
}

crate::code_list! {
    /// Whether a link still holds.
    pub enum LinkStatus("link status") {
        Active = "active" => "Active",
        Ended = "ended" => "Ended",
    }
}

/// A typed link between two entities (`link.recorded`, `link.ended`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkState {
    pub kind: LinkKind,
    pub from: SubjectRef,
    pub to: SubjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<OccurredAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<OccurredAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grading: Option<Grading>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub status: LinkStatus,
    pub recorded: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Stamp>,
    /// For a `same_person` link only: the model's score and the people's
    /// decisions about the pair (`person_match.*`). Its `status` is `active`
    /// exactly while the two records are linked (confirmed, or linked by
    /// the model and not rejected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching: Option<MatchState>,
}

crate::code_list! {
    /// Where a pair of person records stands.
    pub enum MatchStatus("match status") {
        /// Scored by a model below its match threshold and not decided by a
        /// person (or a rejection reopened by new evidence): for review when
        /// the probability is in the uncertain band.
        Proposed = "proposed" => "Possible match",
        /// Scored at or above the model's match threshold, not decided by a person.
        LinkedByModel = "linked_by_model" => "Linked by the model",
        /// A person confirmed that the records are of the same person.
        Confirmed = "confirmed" => "Confirmed the same person",
        /// A person said the records are not of the same person.
        Rejected = "rejected" => "Not the same person",
        /// A link (confirmed or the model's) was undone by a person: the
        /// records are not of the same person.
        Undone = "undone" => "Link undone",
    }
}

impl MatchStatus {
    /// Whether the two records count as one person now.
    pub fn linked(self) -> bool {
        matches!(self, MatchStatus::Confirmed | MatchStatus::LinkedByModel)
    }

    /// Whether a person said they are not the same (a later score does not
    /// link them unless new evidence reopens the pair for review).
    pub fn refused(self) -> bool {
        matches!(self, MatchStatus::Rejected | MatchStatus::Undone)
    }
}

/// One field's part in a score: the comparison level it reached and its
/// weight in thousandths of a bit (log2 of the likelihood ratio), negative
/// against a match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldWeight {
    pub field: String,
    pub level: String,
    pub weight_milli: i64,
}

/// A model's score of a pair (`person_match.scored`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchScore {
    /// Probability of a match, in millionths (canonical JSON holds no floats).
    pub probability_ppm: u32,
    /// The model's match threshold, in millionths.
    pub threshold_ppm: u32,
    pub model: String,
    pub model_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<FieldWeight>,
    pub scored: Stamp,
}

crate::code_list! {
    /// What a person decided about a pair.
    pub enum MatchDecision("match decision") {
        Confirmed = "confirmed" => "Confirmed the same person",
        Rejected = "rejected" => "Not the same person",
        Undone = "undone" => "Link undone",
    }
}

/// A person's decision about a pair (`person_match.confirmed`, `.rejected`, `.undone`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchDecisionState {
    pub decision: MatchDecision,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The pair's latest score when it was decided, in millionths: a later
    /// score must beat it by [`crate::payload::NEW_EVIDENCE_PPM`] to reopen
    /// a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability_ppm: Option<u32>,
    pub decided: Stamp,
}

/// A pair of person records (a `same_person` link): its latest score and
/// its latest decision. Every earlier score and decision is in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchState {
    pub status: MatchStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<MatchScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<MatchDecisionState>,
    /// Decisions made about the pair so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub decisions: u64,
}

// ---------------------------------------------------------------------------
// Referrals
// ---------------------------------------------------------------------------

crate::code_list! {
    /// Where a referral stands.
    pub enum ReferralStatus("referral status") {
        /// Submitted; the decision is due within one working day.
        AwaitingDecision = "awaiting_decision" => "Awaiting decision",
        Decided = "decided" => "Decided",
        /// Decided for assessment (or a strategy discussion), and the assessment completed.
        Assessed = "assessed" => "Assessed",
    }
}

/// The assessment a referral led to (`assessment.completed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentState {
    pub factors: Vec<CinFactor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub completed: Stamp,
}

/// One `referral.escalated`: who Vigil told, and how late the decision was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub at: String,
    pub by: String,
    pub agency: AgencyId,
    pub event_id: Uuid,
    pub level: EscalationLevel,
    pub due_by: Date,
    pub working_days_overdue: u32,
}

/// A concern about a child (`referral.submitted`) and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralState {
    pub child_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<Referrer>,
    pub concern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others_involved: Vec<Uuid>,
    pub immediate_danger: bool,
    /// Whether the police were called (given when in immediate danger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_called: Option<bool>,
    /// A phone number to call the sender back on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_back_on: Option<String>,
    pub status: ReferralStatus,
    pub submitted: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<ReferralDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided: Option<Stamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<AssessmentState>,
    /// The highest level escalated to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<EscalationLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<Escalation>,
    /// What the sender added later (`referral.information_added`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub information_added: Vec<AddedInformation>,
}

/// One `referral.information_added`: what the sender told the front door later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedInformation {
    pub information: String,
    pub added: Stamp,
}

// ---------------------------------------------------------------------------
// Missing episodes, placements, allocations
// ---------------------------------------------------------------------------

crate::code_list! {
    /// Whether the child is still missing.
    pub enum EpisodeStatus("missing episode status") {
        Missing = "missing" => "Missing",
        Returned = "returned" => "Returned",
    }
}

/// A return home interview held after an episode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInterview {
    pub meeting_id: Uuid,
    pub held: OccurredAt,
}

/// A child missing or away (`missing_episode.recorded`, `missing_episode.returned`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingEpisodeState {
    pub child_id: Uuid,
    pub missing_type: MissingType,
    pub started_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circumstances: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement_id: Option<Uuid>,
    pub status: EpisodeStatus,
    /// From start to return, once returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<i64>,
    pub recorded: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_interview_offered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_location_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_note: Option<String>,
    /// The `missing_episode.returned` event, when the return was recorded separately.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_interviews: Vec<ReturnInterview>,
    /// Where the child was found, in words (`missing_episode.returned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_with_person_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_with: Option<String>,
    /// Who is to do the return home interview (`return_interview.assigned`;
    /// the latest assignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interview_assigned: Option<InterviewAssignment>,
    /// Return home interviews recorded (`return_interview.recorded`), held
    /// or declined by the child, in log order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interviews_recorded: Vec<InterviewRecord>,
}

/// Who is to do a return home interview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterviewAssignment {
    pub agency: AgencyId,
    /// The worker's user id, when one is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub recorded: Stamp,
}

/// A return home interview as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterviewRecord {
    pub outcome: InterviewOutcome,
    pub held_at: Timestamp,
    pub by_whom: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub where_held: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_said: Option<String>,
    pub recorded: Stamp,
}

crate::code_list! {
    /// Whether a placement is the child's current one.
    pub enum PlacementStatus("placement status") {
        Current = "current" => "Current",
        Ended = "ended" => "Ended",
    }
}

/// A looked-after child's placement (`placement.started`, `placement.ended`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementState {
    pub child_id: Uuid,
    pub placement_type: PlacementType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    pub started_on: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: PlacementStatus,
    pub recorded: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Stamp>,
}

crate::code_list! {
    /// Whether a worker is still allocated.
    pub enum AllocationStatus("allocation status") {
        Active = "active" => "Active",
        Ended = "ended" => "Ended",
    }
}

/// A worker allocated to a child (`allocation.recorded`, `allocation.ended`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationState {
    pub child_id: Uuid,
    /// The worker's user id.
    pub worker: String,
    pub team: String,
    pub started_on: Date,
    pub status: AllocationStatus,
    pub recorded: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Stamp>,
}

// ---------------------------------------------------------------------------
// Police records
// ---------------------------------------------------------------------------

/// An intelligence report (`intelligence.recorded`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelligenceState {
    pub subjects: Vec<SubjectRef>,
    pub text: String,
    pub grading: Grading,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_reference: Option<String>,
    pub recorded: Stamp,
}

/// One `offence.outcome_recorded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeEntry {
    pub outcome: OffenceOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspect_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charged_offence: Option<OffenceCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub recorded: Stamp,
}

/// An offence (`offence.recorded`), its people (also from `victim_in`,
/// `suspect_in` and `witness_in` links) and its outcomes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenceState {
    pub offence: OffenceCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub victim_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspect_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witness_ids: Vec<Uuid>,
    pub committed: OccurredAt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed_until: Option<OccurredAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    pub cse_flag: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crime_reference: Option<String>,
    /// The latest outcome (`not_yet_resolved` until one is recorded).
    pub status: OffenceOutcome,
    pub recorded: Stamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<OutcomeEntry>,
}

// ---------------------------------------------------------------------------
// Meetings and cases
// ---------------------------------------------------------------------------

/// A meeting about a child (`meeting.recorded`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingState {
    pub kind: MeetingKind,
    pub child_id: Uuid,
    pub attendees: Vec<AgencyId>,
    pub decisions: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_episode_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// When it was held (the event's occurred-at).
    pub held: OccurredAt,
    pub recorded: Stamp,
}

/// A meeting that discussed several cases (`meeting.held`): the monthly
/// multi-agency child exploitation (MACE) meeting. Who attended, who
/// chaired, and per case the decision; the actions it set are
/// `case.action_added` events naming it, on each case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiAgencyMeetingState {
    pub kind: MeetingKind,
    pub chair: String,
    pub attendees: Vec<crate::payload::MeetingAttendee>,
    pub cases: Vec<crate::payload::CaseDiscussed>,
    /// When it was held (the event's occurred-at).
    pub held: OccurredAt,
    pub recorded: Stamp,
}

/// A meeting that discussed a case, as the case keeps it: a strategy
/// discussion or conference about the child (`meeting.recorded` with the
/// case), or a multi-agency meeting of many cases (`meeting.held`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMeeting {
    pub meeting_id: Uuid,
    pub kind: MeetingKind,
    pub held: OccurredAt,
    /// What it decided about this case.
    pub decision: String,
}

crate::code_list! {
    /// Whether a case is open.
    pub enum CaseStatus("case status") {
        Open = "open" => "Open",
        Closed = "closed" => "Closed",
    }
}

/// One decision in a case's history: opened, stepped up or down, closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseHistoryEntry {
    pub decision: CaseDecision,
    /// The level after the decision (none for a closure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<CaseLevel>,
    pub reason: String,
    pub at: String,
    pub by: String,
    pub agency: AgencyId,
}

/// One assessment of a case's risk: the level and why (`case.opened` with a
/// risk, `case.risk_changed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRiskEntry {
    pub risk: RiskLevel,
    pub reason: String,
    pub at: String,
    pub by: String,
    pub agency: AgencyId,
}

/// One action of a case (`case.action_added`, `case.action_closed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAction {
    pub action_id: Uuid,
    pub text: String,
    /// The user id of whoever is to do it.
    pub owner: String,
    pub due: Date,
    /// The meeting that set it, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<Uuid>,
    pub status: ActionStatus,
    pub added: Stamp,
    /// When it was done or cancelled, and the note said then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Stamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A case (`case.opened`, `case.level_changed`, `case.allocated`,
/// `case.agency_added`, `case.agency_removed`, `case.risk_changed`,
/// `case.action_added`, `case.action_closed`, `case.closed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseState {
    /// The child the case is about; none for a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    /// What a contextual case is about (a place or a peer group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<CaseContext>,
    /// The children linked to a contextual case now, in the order linked
    /// (`case.child_linked`, `case.child_unlinked`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked: Vec<LinkedChild>,
    /// The current level.
    pub level: CaseLevel,
    /// Why it was opened.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    pub status: CaseStatus,
    pub opened: Stamp,
    pub history: Vec<CaseHistoryEntry>,
    /// The agency that leads the case (a case opened before leads were
    /// recorded has none: the opening agency leads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_agency: Option<AgencyId>,
    /// The allocated worker's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// The other agencies involved, in the order they were added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<AgencyId>,
    /// The current risk (the last of `risk_history`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_history: Vec<CaseRiskEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<CaseAction>,
    /// The meetings that discussed it, in the order they were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meetings: Vec<CaseMeeting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<Stamp>,
    /// A closure waiting for a supervisor's sign-off (`case.closure_requested`;
    /// gone once signed off, declined or the case is closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_request: Option<ClosureRequest>,
    /// The sign-off the closure had, if it needed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<ClosureSignOff>,
}

/// A request to close a case that needs a supervisor's sign-off: the
/// reason, and what made it need one (open actions, active indicators, a
/// recent missing episode), as the requester was shown them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureRequest {
    pub reason: String,
    pub concerns: Vec<String>,
    pub requested: Stamp,
}

/// A supervisor's sign-off of a closure (`case.closed` with `sign_off`):
/// who asked (if someone else did), what was signed off against, and the
/// supervisor's note. The supervisor is the closing event's actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureSignOff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    pub concerns: Vec<String>,
    pub note: String,
}

/// What a contextual case is about: a place (a recorded location) or a
/// peer group, named and described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseContext {
    Place { location_id: Uuid },
    PeerGroup { name: String, description: String },
}

/// A child linked to a contextual case, why and by whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedChild {
    pub child_id: Uuid,
    pub reason: String,
    pub linked: Stamp,
}

impl CaseState {
    /// Whether the child is linked to this (contextual) case now.
    pub fn links(&self, child: Uuid) -> bool {
        self.linked.iter().any(|l| l.child_id == child)
    }

    /// Whether the case is about the child: the child's own case, or a
    /// contextual case the child is linked to.
    pub fn concerns(&self, child: Uuid) -> bool {
        self.child_id == Some(child) || self.links(child)
    }

    /// The agency that leads the case: the one named, else the one that
    /// opened it.
    pub fn lead(&self) -> &AgencyId {
        self.lead_agency.as_ref().unwrap_or(&self.opened.agency)
    }

    /// Whether the agency leads the case or is involved in it.
    pub fn involves(&self, agency: &AgencyId) -> bool {
        self.lead() == agency || self.agencies.contains(agency)
    }

    /// The actions still open.
    pub fn open_actions(&self) -> impl Iterator<Item = &CaseAction> + '_ {
        self.actions
            .iter()
            .filter(|a| a.status == ActionStatus::Open)
    }
}

// ---------------------------------------------------------------------------
// Screening
// ---------------------------------------------------------------------------

/// A CSE screening of a child (`screening.recorded`): final once recorded
/// (a later screening is a new one, and the history of the child's risk is
/// the list of them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningState {
    pub child_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    /// Every indicator once, in the order of [`Indicator::ALL`].
    pub answers: Vec<IndicatorAnswer>,
    /// The risk the answers support, as `risk_rule` computed it.
    pub supported_risk: RiskLevel,
    pub risk_rule: String,
    /// The practitioner's judgement.
    pub judged_risk: RiskLevel,
    /// Why the judgement differs (or any note on it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the screening was done (the event's occurred-at).
    pub done: OccurredAt,
    pub recorded: Stamp,
}

impl ScreeningState {
    /// The indicators answered *yes*, in the list's order.
    pub fn yes(&self) -> impl Iterator<Item = Indicator> + '_ {
        self.answers
            .iter()
            .filter(|a| a.answer == ScreeningAnswer::Yes)
            .map(|a| a.indicator)
    }

    /// How many indicators are answered *not known*.
    pub fn not_known(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| a.answer == ScreeningAnswer::NotKnown)
            .count()
    }

    /// Whether indicators are active: at least one is answered *yes*.
    /// What the case-closure rule asks of a child's latest screening.
    pub fn indicators_active(&self) -> bool {
        self.yes().next().is_some()
    }
}

// ---------------------------------------------------------------------------
// Accounts and the access log
// ---------------------------------------------------------------------------

crate::code_list! {
    /// Whether an account may sign in.
    pub enum UserStatus("account status") {
        Active = "active" => "Active",
        /// Final: the username stays taken.
        Disabled = "disabled" => "Disabled",
    }
}

/// One `user.role_changed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub at: String,
    pub by: String,
    pub agency: AgencyId,
    pub event_id: Uuid,
    pub from: Role,
    pub to: Role,
    pub reason: String,
}

/// An account (`user.registered` and the changes to it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserState {
    pub username: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Uuid,
    /// The agency's code.
    pub agency: AgencyId,
    pub agency_kind: AgencyKind,
    pub status: UserStatus,
    pub registered: Stamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_changes: Vec<RoleChange>,
    /// The last password reset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_reset: Option<Stamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Stamp>,
}

impl UserState {
    pub fn active(&self) -> bool {
        self.status == UserStatus::Active
    }
}

/// The access log's anchor in the ledger (`access_log.checkpointed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogState {
    pub rows: u64,
    pub head_sha256: String,
    pub checkpointed: Stamp,
}

/// An alert a rule raised about a child, and what people did with it
/// (`alert.raised`, `alert.seen`, `alert.acknowledged`, `alert.resolved`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertState {
    /// The rule's id (`crates/vigil-rules/rules/default.toml`).
    pub rule: String,
    pub severity: crate::codes::AlertSeverity,
    pub child_id: Uuid,
    /// What the rule says, in plain words.
    pub says: String,
    /// The events that met the rule, in log order.
    pub events: Vec<Uuid>,
    pub raised: Stamp,
    /// Who has opened it (user ids, first 50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<AlertNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<AlertNote>,
}

/// A person's note on an alert, and when and who.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    pub note: String,
    pub at: Stamp,
}

/// How many users an alert's `seen_by` keeps.
pub const MAX_ALERT_SEEN: usize = 50;

/// A state that belongs to one child.
pub trait HasChild {
    fn child_id(&self) -> Uuid;
}

macro_rules! has_child {
    ( $( $ty:ty ),+ ) => {
        $( impl HasChild for $ty { fn child_id(&self) -> Uuid { self.child_id } } )+
    };
}

has_child!(
    ReferralState,
    MissingEpisodeState,
    PlacementState,
    AllocationState,
    MeetingState,
    ScreeningState,
    AlertState
);

// ---------------------------------------------------------------------------
// All of them
// ---------------------------------------------------------------------------

/// A struct that is the state of one kind of entity.
pub trait KindState: Sized + Clone + Into<EntityState> {
    const KIND: EntityKind;
    fn from_ref(s: &EntityState) -> Option<&Self>;
    fn from_mut(s: &mut EntityState) -> Option<&mut Self>;
    fn from_owned(s: EntityState) -> Option<Self>;
}

macro_rules! entity_states {
    ( $( $variant:ident($ty:ty), )+ ) => {
        /// The state of one entity, of whichever kind. Serialises as the
        /// inner struct alone (the kind is stored beside it). Each state is
        /// boxed so that a record is small to move: replaying a log keeps
        /// hundreds of thousands of them in an ordered map.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum EntityState {
            $( $variant(Box<$ty>), )+
        }

        impl EntityState {
            /// The kind of entity this is the state of.
            pub fn kind(&self) -> EntityKind {
                match self { $( EntityState::$variant(_) => EntityKind::$variant, )+ }
            }

            /// Parses stored JSON as the state of an entity of `kind`:
            /// strictly, so a row that is not exactly a state of that kind
            /// is refused with the reason.
            pub fn parse(kind: EntityKind, json: &str) -> Result<EntityState, String> {
                match kind {
                    $( EntityKind::$variant => serde_json::from_str::<$ty>(json)
                        .map(|x| EntityState::$variant(Box::new(x)))
                        .map_err(|e| crate::payload::bounded(&e.to_string())), )+
                }
            }
        }

        impl Serialize for EntityState {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self { $( EntityState::$variant(x) => x.serialize(s), )+ }
            }
        }

        $(
            impl From<$ty> for EntityState {
                fn from(x: $ty) -> EntityState { EntityState::$variant(Box::new(x)) }
            }
            impl KindState for $ty {
                const KIND: EntityKind = EntityKind::$variant;
                fn from_ref(s: &EntityState) -> Option<&Self> {
                    match s { EntityState::$variant(x) => Some(x), _ => None }
                }
                fn from_mut(s: &mut EntityState) -> Option<&mut Self> {
                    match s { EntityState::$variant(x) => Some(x), _ => None }
                }
                fn from_owned(s: EntityState) -> Option<Self> {
                    match s { EntityState::$variant(x) => Some(*x), _ => None }
                }
            }
        )+
    };
}

entity_states! {
    Agency(AgencyState),
    Person(PersonState),
    Object(ObjectState),
    Location(LocationState),
    Link(LinkState),
    Referral(ReferralState),
    MissingEpisode(MissingEpisodeState),
    Placement(PlacementState),
    Allocation(AllocationState),
    Intelligence(IntelligenceState),
    Offence(OffenceState),
    Meeting(MeetingState),
    Case(CaseState),
    Screening(ScreeningState),
    User(UserState),
    AccessLog(AccessLogState),
    Alert(AlertState),
    MultiAgencyMeeting(MultiAgencyMeetingState),
}

impl EntityState {
    /// Canonical JSON (RFC 8785), as stored.
    pub fn to_json(&self) -> Result<String, CanonicalError> {
        to_canonical_string(self)
    }

    /// The typed state, if this is an entity of that kind.
    pub fn as_kind<T: KindState>(&self) -> Option<&T> {
        T::from_ref(self)
    }

    /// The typed state, if this is an entity of that kind.
    pub fn into_kind<T: KindState>(self) -> Option<T> {
        T::from_owned(self)
    }
}
