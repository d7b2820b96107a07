//! The secondary projections: rows derived from events and entity state that
//! reading needs beside the one-row-per-entity state, computed here once
//! (pure functions, no I/O) and written by the store in the append
//! transaction, rebuilt by `vigil rebuild` and compared by `vigil verify`.
//!
//! - **Chronology** ([`chronology_rows`]): for each sealed event, one row per
//!   person it concerns. Append-only: a row is made when its event is
//!   sealed, from the event and the projected state *after* it.
//! - **Edges** ([`edge_row`]): one row per `link` entity, a function of the
//!   link's state, replaced whenever the link changes. A pair of person
//!   records scored or decided (`person_match.*`) is a `same_person` link,
//!   active exactly while the two records count as one person, so the
//!   records of one linked person are the people reachable by active
//!   `same_person` edges.
//! - **Name keys** ([`name_key_rows`]): search keys ([`crate::names`]) of a
//!   person record (names, date of birth), of a referral (its reference,
//!   for the child) and of a link from a person to a place where they live
//!   or stay (the place's postcode); replaced whenever that source entity
//!   changes (and, for a link, whenever its place changes).
//! - **Referrals** ([`referral_row`]): one row per referral (child, submitter,
//!   status, dates, reference), replaced whenever the referral changes.
//! - **Match review** ([`match_review_row`]): one row per pair of person
//!   records that a model scored and no person has decided (`proposed` or
//!   `linked_by_model`), with its probability and the agencies of the two
//!   records, so the review queue reads the uncertain band in probability
//!   order through an index however many pairs the log holds; the row goes
//!   when a person decides the pair and comes back if new evidence reopens
//!   it. Every undecided scored pair has one, not only those in the band:
//!   the band is a setting of the review queue, not a projection rule.
//! - **Case actions** ([`case_action_rows`]): one row per action of a case
//!   (case, action, child, owner, due date, status, meeting), replaced
//!   whenever the case changes, so an owner's open actions and the overdue
//!   ones are index reads.
//!
//! ## Who each kind of event concerns
//!
//! The record of a row is the entity the event creates or changes; its
//! owner (agency and user) is who created that record. A follow-up that
//! does not name the child finds the child in the state of the record it
//! changes.
//!
//! | kind | record | people (role) |
//! |---|---|---|
//! | `person.recorded`, `person.amended` | the person | the person (`subject`) |
//! | `link.recorded`, `link.ended` | the link | each end that is a person: `victim`/`suspect`/`witness` for `victim_in`/`suspect_in`/`witness_in`, else `linked` |
//! | `person_match.confirmed`, `.rejected`, `.undone` | the pair's `same_person` link | both people (`linked`) |
//! | `referral.submitted` | the referral | the child (`child`), each other person involved (`other_person`) |
//! | `referral.decided`, `referral.escalated`, `referral.information_added`, `assessment.completed` | the referral | the referral's child (`child`) |
//! | `missing_episode.recorded`, `missing_episode.returned`, `return_interview.assigned`, `return_interview.recorded` | the episode | the episode's child |
//! | `placement.started`, `placement.ended` | the placement | the placement's child |
//! | `allocation.recorded`, `allocation.ended` | the allocation | the allocation's child |
//! | `intelligence.recorded` | the report | each person among its subjects (`subject`) |
//! | `offence.recorded` | the offence | victims (`victim`), suspects (`suspect`) |
//! | `offence.outcome_recorded` | the offence | the offence's victims; the suspect named, or every suspect if none is |
//! | `meeting.recorded` | the meeting | the child |
//! | `case.opened`, `case.level_changed`, `case.closed`, `case.allocated`, `case.agency_added`, `case.agency_removed`, `case.risk_changed`, `case.action_added`, `case.action_closed`, `case.closure_requested`, `case.closure_declined` | the case | the case's child |
//! | `screening.recorded` | the screening | the child |
//! | `alert.raised`, `alert.acknowledged`, `alert.resolved` | the alert | the alert's child |
//! | `note.recorded` | the note itself (record kind `note`, id the event's id, owned by its author) | each person among its subjects (`subject`); the child of each referral, episode, placement, allocation, meeting or case among them (`child`) |
//! | `meeting.held` | | nobody (a meeting of many cases names many children; each case keeps its decision) |
//! | `agency.registered`, `object.*`, `location.*`, `user.*`, `access_log.checkpointed`, `person_match.scored`, `alert.seen` | | nobody |
//!
//! A person who appears twice in one event (a note about a child and about
//! the child's referral) has one row, with the first role in the order above.
//!
//! ## When things happened
//!
//! A row keeps the envelope's occurred-at with its precision, and a sort key:
//! the first instant the value can mean (the instant itself, or midnight UTC
//! at the start of the day, month or year), in milliseconds, so a month-only
//! date sorts before the days of that month and an approximate day as that
//! day; ties are broken by log index. Recorded-at is when the record was
//! made: for imported history, when the source system recorded it (the
//! header's `source`), else the envelope's, as stored.
//!
//! ## State accessors
//!
//! Every read of entity state is in [`state`], a handful of small functions,
//! so that the shape of state can change in one place.

use crate::event::{EntityKind, SealedEvent, SubjectRef};
use crate::names::{self, Key, KeyKind};
use crate::payload::EventPayload;
use crate::projection::{EntityRecord, ProjectionError, ProjectionState};
use crate::time::{OccurredAt, Precision};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A person's part in an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The event is about the person's own record (or names them as a subject).
    Subject,
    /// The child a referral, episode, placement, allocation, meeting or case is about.
    Child,
    /// Another person involved in a referral.
    OtherPerson,
    Victim,
    Suspect,
    Witness,
    /// An end of a link of another kind.
    Linked,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Subject,
        Role::Child,
        Role::OtherPerson,
        Role::Victim,
        Role::Suspect,
        Role::Witness,
        Role::Linked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Subject => "subject",
            Role::Child => "child",
            Role::OtherPerson => "other_person",
            Role::Victim => "victim",
            Role::Suspect => "suspect",
            Role::Witness => "witness",
            Role::Linked => "linked",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

/// The record kind of a note's chronology rows (notes are not entities).
pub const NOTE_RECORD: &str = "note";

/// One line of a person's chronology.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChronologyRow {
    pub person_id: Uuid,
    pub log_index: u64,
    pub event_id: Uuid,
    /// Event kind (`referral.decided`, ...).
    pub kind: String,
    /// The envelope's agency.
    pub agency: String,
    /// The envelope's actor (user id).
    pub actor: String,
    pub occurred_at: OccurredAt,
    /// Milliseconds since 1970 of the first instant `occurred_at` can mean.
    pub occurred_sort: i64,
    /// When it was recorded (RFC 3339, UTC, milliseconds): the envelope's
    /// recorded-at, or for imported history the source system's.
    pub recorded_at: String,
    pub record_id: Uuid,
    /// An [`EntityKind`] name, or [`NOTE_RECORD`].
    pub record_kind: String,
    /// Agency and user that created the record.
    pub record_agency: String,
    pub record_user: String,
    pub role: Role,
}

/// One link between two entities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeRow {
    pub link_id: Uuid,
    pub from: SubjectRef,
    pub to: SubjectRef,
    /// A link kind name (`lives_at`, ...).
    pub kind: String,
    /// First day the link is known to hold: its `since`, else the day it was recorded.
    pub first_seen: NaiveDate,
    /// Last day it is known to hold: its `until`, else the day it was ended,
    /// else the later of `first_seen` and the day it was recorded.
    pub last_seen: NaiveDate,
    /// Not ended.
    pub active: bool,
    /// The agency that recorded the link.
    pub agency: String,
}

/// One search key of one person record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameKeyRow {
    /// The entity the key comes from (the person, a referral, a link).
    pub source_id: Uuid,
    pub person_id: Uuid,
    pub kind: KeyKind,
    pub key: String,
    /// The agency that owns the source record (for filtering by access).
    pub agency: String,
}

/// One referral, for the queues and lookups that must not scan them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralRow {
    pub referral_id: Uuid,
    pub child_id: Uuid,
    pub submitted_by: String,
    pub submitted_agency: String,
    /// `awaiting_decision`, `decided`, `assessed`.
    pub status: String,
    pub submitted_at: String,
    pub decided_at: Option<String>,
    pub reference: String,
}

/// A missing episode the child has come back from, with its return home
/// interview: what the overdue list reads (an index on `done, returned_at`)
/// instead of every episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnInterviewRow {
    pub episode_id: Uuid,
    pub child_id: Uuid,
    /// The agency that recorded the episode.
    pub agency: String,
    /// When the child came back (canonical timestamp text: sorts as time).
    pub returned_at: String,
    /// Held or declined by the child (a `return_interview.recorded`, or an
    /// older `meeting.recorded` of kind return home interview).
    pub done: bool,
    /// Who is to do it, if assigned: the agency code and the worker.
    pub assigned_agency: Option<String>,
    pub assigned_worker: Option<String>,
}

/// The interview row of a returned missing episode (`None` for anything
/// else, and for an episode the child has not come back from).
pub fn return_interview_row(rec: &EntityRecord) -> Option<ReturnInterviewRow> {
    let m = rec.as_kind::<crate::state::MissingEpisodeState>()?;
    let returned = m.ended_at?;
    Some(ReturnInterviewRow {
        episode_id: rec.id,
        child_id: m.child_id,
        agency: m.recorded.agency.as_str().to_owned(),
        returned_at: returned.to_string(),
        done: !m.interviews_recorded.is_empty() || !m.return_interviews.is_empty(),
        assigned_agency: m
            .interview_assigned
            .as_ref()
            .map(|a| a.agency.as_str().to_owned()),
        assigned_worker: m.interview_assigned.as_ref().and_then(|a| a.worker.clone()),
    })
}

/// One action of a case, so "my actions" and "overdue actions" are index
/// reads (table `case_actions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseActionRow {
    pub case_id: Uuid,
    pub action_id: Uuid,
    /// The case's child; none on a contextual case.
    pub child_id: Option<Uuid>,
    /// The owner's user id.
    pub owner: String,
    /// The due date, `YYYY-MM-DD` (sorts as text).
    pub due: String,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    pub meeting_id: Option<Uuid>,
}

/// The action rows of a case entity (empty for any other kind, and for a
/// case without actions). A case's rows are replaced whenever it changes.
pub fn case_action_rows(rec: &EntityRecord) -> Vec<CaseActionRow> {
    let Some(c) = rec.as_kind::<crate::state::CaseState>() else {
        return Vec::new();
    };
    c.actions
        .iter()
        .map(|a| CaseActionRow {
            case_id: rec.id,
            action_id: a.action_id,
            child_id: c.child_id,
            owner: a.owner.clone(),
            due: a.due.to_string(),
            status: a.status.code().to_owned(),
            meeting_id: a.meeting_id,
        })
        .collect()
}

/// A pair of person records a model scored and nobody has decided yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchReviewRow {
    /// The pair's `same_person` link ([`crate::payload::match_id`]).
    pub link_id: Uuid,
    /// The two records, as the link names them (`from`, `to`).
    pub a: Uuid,
    pub b: Uuid,
    /// The agencies that recorded each (who may open them).
    pub a_agency: String,
    pub b_agency: String,
    /// The latest score's probability, in millionths.
    pub probability_ppm: u32,
}

/// Referral status of one awaiting a decision.
pub const AWAITING_DECISION: &str = "awaiting_decision";

/// Reads of entity state: the only place this module looks inside it.
/// What the derivations need from an entity's typed state, by kind: each
/// accessor matches on the typed state, so a field renamed in
/// `crate::state` is a compile error here, not a silent `None`.
pub mod state {
    use super::*;
    use crate::dates::DateOfBirth;
    use crate::pole::PersonName;
    use crate::state::{self as typed, EntityState as S};

    /// Who did something and when, as the rules stamp it.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Stamp {
        pub at: String,
        pub by: String,
        pub agency: String,
    }

    impl From<&typed::Stamp> for Stamp {
        fn from(s: &typed::Stamp) -> Stamp {
            Stamp {
                at: s.at.clone(),
                by: s.by.clone(),
                agency: s.agency.as_str().to_owned(),
            }
        }
    }

    /// Who created the record (the stamp of its creating event: submitted,
    /// recorded, opened or registered); empty for the access-log anchor,
    /// which has none.
    pub fn created(r: &EntityRecord) -> Stamp {
        let s = match &r.state {
            S::Agency(x) => &x.registered,
            S::Person(x) => &x.recorded,
            S::Object(x) => &x.recorded,
            S::Location(x) => &x.recorded,
            S::Link(x) => &x.recorded,
            S::Referral(x) => &x.submitted,
            S::MissingEpisode(x) => &x.recorded,
            S::Placement(x) => &x.recorded,
            S::Allocation(x) => &x.recorded,
            S::Intelligence(x) => &x.recorded,
            S::Offence(x) => &x.recorded,
            S::Meeting(x) => &x.recorded,
            S::Case(x) => &x.opened,
            S::Screening(x) => &x.recorded,
            S::User(x) => &x.registered,
            _ => return Stamp::default(),
        };
        s.into()
    }

    /// The child a referral, episode, placement, allocation, meeting, case
    /// or screening is about.
    pub fn child_of(r: &EntityRecord) -> Option<Uuid> {
        match &r.state {
            S::Referral(x) => Some(x.child_id),
            S::MissingEpisode(x) => Some(x.child_id),
            S::Placement(x) => Some(x.child_id),
            S::Allocation(x) => Some(x.child_id),
            S::Meeting(x) => Some(x.child_id),
            S::Case(x) => x.child_id,
            S::Screening(x) => Some(x.child_id),
            S::Alert(x) => Some(x.child_id),
            _ => None,
        }
    }

    /// A link's ends and kind.
    pub fn link_ends(r: &EntityRecord) -> Option<(SubjectRef, SubjectRef, String)> {
        let l = r.as_kind::<typed::LinkState>()?;
        Some((l.from, l.to, l.kind.code().to_string()))
    }

    /// A link's dates: since, until, and when it was recorded and ended.
    pub fn link_dates(
        r: &EntityRecord,
    ) -> (
        Option<OccurredAt>,
        Option<OccurredAt>,
        Option<Stamp>,
        Option<Stamp>,
    ) {
        match r.as_kind::<typed::LinkState>() {
            Some(l) => (
                l.since.clone(),
                l.until.clone(),
                Some((&l.recorded).into()),
                l.ended.as_ref().map(Stamp::from),
            ),
            None => (None, None, None, None),
        }
    }

    /// Whether a link, allocation or placement has ended.
    pub fn ended(r: &EntityRecord) -> bool {
        match &r.state {
            S::Link(x) => x.status == typed::LinkStatus::Ended,
            S::Placement(x) => x.status == typed::PlacementStatus::Ended,
            S::Allocation(x) => x.status == typed::AllocationStatus::Ended,
            _ => false,
        }
    }

    /// An offence's victims and suspects.
    pub fn offence_people(r: &EntityRecord) -> (Vec<Uuid>, Vec<Uuid>) {
        match r.as_kind::<typed::OffenceState>() {
            Some(o) => (o.victim_ids.clone(), o.suspect_ids.clone()),
            None => Default::default(),
        }
    }

    /// A person's recorded names and date of birth.
    pub fn person_identity(r: &EntityRecord) -> (Vec<PersonName>, Option<DateOfBirth>) {
        match r.as_kind::<typed::PersonState>() {
            Some(p) => (p.names.clone(), p.date_of_birth.clone()),
            None => Default::default(),
        }
    }

    /// A location's postcode.
    pub fn postcode(r: &EntityRecord) -> Option<String> {
        r.as_kind::<typed::LocationState>()?
            .details
            .postcode
            .clone()
    }

    /// A `same_person` link's probability while no person has decided it
    /// (`None` once decided, or for any other link).
    pub fn undecided_match(r: &EntityRecord) -> Option<u32> {
        let m = r.as_kind::<typed::LinkState>()?.matching.as_ref()?;
        match m.status {
            typed::MatchStatus::Proposed | typed::MatchStatus::LinkedByModel => {
                Some(m.score.as_ref()?.probability_ppm)
            }
            _ => None,
        }
    }

    /// A referral's status, submission and decision stamps.
    pub fn referral_progress(r: &EntityRecord) -> (String, Option<Stamp>, Option<Stamp>) {
        match r.as_kind::<typed::ReferralState>() {
            Some(x) => (
                x.status.code().to_owned(),
                Some((&x.submitted).into()),
                x.decided.as_ref().map(Stamp::from),
            ),
            None => (String::new(), None, None),
        }
    }
}

fn store_err(e: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Store(e.to_string())
}

/// Milliseconds of the first instant an occurred-at can mean.
pub fn occurred_sort_key(o: &OccurredAt) -> Option<i64> {
    if o.precision == Precision::Exact {
        return DateTime::parse_from_rfc3339(&o.value)
            .ok()
            .map(|t| t.with_timezone(&Utc).timestamp_millis());
    }
    let d = o.earliest_day().ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn recorded_millis(recorded_at: &str) -> i64 {
    DateTime::parse_from_rfc3339(recorded_at)
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

fn day_of(timestamp: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(timestamp)
        .ok()
        .map(|t| t.with_timezone(&Utc).date_naive())
}

/// The entity an event creates or changes (`None` for a note, and for
/// events that concern nobody's chronology).
fn record_of(p: &EventPayload) -> Option<(EntityKind, Uuid)> {
    use EventPayload as E;
    Some(match p {
        E::PersonRecorded(x) => (EntityKind::Person, x.person_id),
        E::PersonAmended(x) => (EntityKind::Person, x.person_id),
        E::LinkRecorded(x) => (EntityKind::Link, x.link_id),
        E::LinkEnded(x) => (EntityKind::Link, x.link_id),
        E::ReferralSubmitted(x) => (EntityKind::Referral, x.referral_id),
        E::ReferralDecided(x) => (EntityKind::Referral, x.referral_id),
        E::ReferralEscalated(x) => (EntityKind::Referral, x.referral_id),
        E::ReferralInformationAdded(x) => (EntityKind::Referral, x.referral_id),
        E::AssessmentCompleted(x) => (EntityKind::Referral, x.referral_id),
        E::MissingEpisodeRecorded(x) => (EntityKind::MissingEpisode, x.episode_id),
        E::MissingEpisodeReturned(x) => (EntityKind::MissingEpisode, x.episode_id),
        E::ReturnInterviewAssigned(x) => (EntityKind::MissingEpisode, x.episode_id),
        E::ReturnInterviewRecorded(x) => (EntityKind::MissingEpisode, x.episode_id),
        E::PlacementStarted(x) => (EntityKind::Placement, x.placement_id),
        E::PlacementEnded(x) => (EntityKind::Placement, x.placement_id),
        E::AllocationRecorded(x) => (EntityKind::Allocation, x.allocation_id),
        E::AllocationEnded(x) => (EntityKind::Allocation, x.allocation_id),
        E::IntelligenceRecorded(x) => (EntityKind::Intelligence, x.intelligence_id),
        E::OffenceRecorded(x) => (EntityKind::Offence, x.offence_id),
        E::OffenceOutcomeRecorded(x) => (EntityKind::Offence, x.offence_id),
        E::MeetingRecorded(x) => (EntityKind::Meeting, x.meeting_id),
        E::CaseOpened(x) => (EntityKind::Case, x.case_id),
        E::CaseLevelChanged(x) => (EntityKind::Case, x.case_id),
        E::CaseClosed(x) => (EntityKind::Case, x.case_id),
        E::CaseAllocated(x) => (EntityKind::Case, x.case_id),
        E::CaseAgencyAdded(x) => (EntityKind::Case, x.case_id),
        E::CaseAgencyRemoved(x) => (EntityKind::Case, x.case_id),
        E::CaseRiskChanged(x) => (EntityKind::Case, x.case_id),
        E::CaseActionAdded(x) => (EntityKind::Case, x.case_id),
        E::CaseActionClosed(x) => (EntityKind::Case, x.case_id),
        E::CaseClosureRequested(x) => (EntityKind::Case, x.case_id),
        E::CaseClosureDeclined(x) => (EntityKind::Case, x.case_id),
        E::CaseChildLinked(x) => (EntityKind::Case, x.case_id),
        E::CaseChildUnlinked(x) => (EntityKind::Case, x.case_id),
        E::ScreeningRecorded(x) => (EntityKind::Screening, x.screening_id),
        E::AlertRaised(x) => (EntityKind::Alert, x.alert_id),
        E::AlertAcknowledged(x) => (EntityKind::Alert, x.alert_id),
        E::AlertResolved(x) => (EntityKind::Alert, x.alert_id),
        // Who opened an alert is kept on it, not in the chronology.
        E::AlertSeen(_) => return None,
        // A person's decisions about a pair are in both people's
        // chronologies; a model's scores are not (a run scores thousands).
        E::PersonMatchConfirmed(x) => (
            EntityKind::Link,
            crate::payload::match_id(x.person_a, x.person_b),
        ),
        E::PersonMatchRejected(x) => (
            EntityKind::Link,
            crate::payload::match_id(x.person_a, x.person_b),
        ),
        E::PersonMatchUndone(x) => (
            EntityKind::Link,
            crate::payload::match_id(x.person_a, x.person_b),
        ),
        E::PersonMatchScored(_)
        | E::NoteRecorded(_)
        | E::AgencyRegistered(_)
        | E::ObjectRecorded(_)
        | E::ObjectAmended(_)
        | E::LocationRecorded(_)
        | E::LocationAmended(_)
        | E::UserRegistered(_)
        | E::UserRoleChanged(_)
        | E::UserDisabled(_)
        | E::UserPasswordReset(_)
        | E::AccessLogCheckpointed(_) => return None,
        // A meeting of many cases names many children: it is in no child's
        // chronology (each case keeps its own decision, and the actions it
        // set are `case.action_added` events of the case).
        E::MeetingHeld(_) => return None,
    })
}

fn link_role(kind: &str, end_is_from: bool) -> Role {
    match (kind, end_is_from) {
        ("victim_in", true) => Role::Victim,
        ("suspect_in", true) => Role::Suspect,
        ("witness_in", true) => Role::Witness,
        _ => Role::Linked,
    }
}

fn read(state: &mut dyn ProjectionState, id: Uuid) -> Result<EntityRecord, ProjectionError> {
    state
        .get(id)?
        .ok_or_else(|| store_err(format!("{id} is not in the projections after its event")))
}

/// The chronology rows of one sealed event, from the event and the
/// projected state after it (see the module documentation). `state` must
/// already hold the event's own changes.
pub fn chronology_rows(
    event: &SealedEvent,
    state: &mut dyn ProjectionState,
) -> Result<Vec<ChronologyRow>, ProjectionError> {
    use EventPayload as E;
    let h = &event.header;
    let mut people: Vec<(Uuid, Role)> = Vec::new();
    let (record_kind, record_id, owner) = match record_of(&event.payload) {
        Some((kind, id)) => {
            let rec = read(state, id)?;
            let owner = state::created(&rec);
            let child = || state::child_of(&rec);
            match &event.payload {
                E::PersonRecorded(_) | E::PersonAmended(_) => people.push((id, Role::Subject)),
                E::LinkRecorded(_)
                | E::LinkEnded(_)
                | E::PersonMatchConfirmed(_)
                | E::PersonMatchRejected(_)
                | E::PersonMatchUndone(_) => {
                    if let Some((from, to, kind)) = state::link_ends(&rec) {
                        for (end, is_from) in [(from, true), (to, false)] {
                            if end.kind == EntityKind::Person {
                                people.push((end.id, link_role(&kind, is_from)));
                            }
                        }
                    }
                }
                E::ReferralSubmitted(x) => {
                    people.push((x.child_id, Role::Child));
                    people.extend(x.others_involved.iter().map(|p| (*p, Role::OtherPerson)));
                }
                E::IntelligenceRecorded(x) => people.extend(
                    x.subjects
                        .iter()
                        .filter(|s| s.kind == EntityKind::Person)
                        .map(|s| (s.id, Role::Subject)),
                ),
                E::OffenceRecorded(x) => {
                    people.extend(x.victim_ids.iter().map(|p| (*p, Role::Victim)));
                    people.extend(x.suspect_ids.iter().map(|p| (*p, Role::Suspect)));
                }
                E::OffenceOutcomeRecorded(x) => {
                    let (victims, suspects) = state::offence_people(&rec);
                    people.extend(victims.into_iter().map(|p| (p, Role::Victim)));
                    match x.suspect_id {
                        Some(s) => people.push((s, Role::Suspect)),
                        None => people.extend(suspects.into_iter().map(|p| (p, Role::Suspect))),
                    }
                }
                // A child linked to (or unlinked from) a contextual case.
                E::CaseChildLinked(x) => people.push((x.child_id, Role::Child)),
                E::CaseChildUnlinked(x) => people.push((x.child_id, Role::Child)),
                // Every other kind with a record belongs to one child.
                _ => people.extend(child().map(|c| (c, Role::Child))),
            }
            (kind.as_str().to_owned(), id, owner)
        }
        None => {
            let E::NoteRecorded(note) = &event.payload else {
                return Ok(Vec::new());
            };
            for s in &note.subjects {
                if s.kind == EntityKind::Person {
                    people.push((s.id, Role::Subject));
                } else if let Some(c) = state.get(s.id)?.as_ref().and_then(state::child_of) {
                    people.push((c, Role::Child));
                }
            }
            let owner = state::Stamp {
                at: h.recorded_at.clone(),
                by: h.actor.user.clone(),
                agency: h.agency.to_string(),
            };
            (NOTE_RECORD.to_owned(), h.id, owner)
        }
    };
    let sort = occurred_sort_key(&h.occurred_at).unwrap_or_else(|| recorded_millis(&h.recorded_at));
    let mut seen = std::collections::HashSet::new();
    Ok(people
        .into_iter()
        .filter(|(p, _)| seen.insert(*p))
        .map(|(person_id, role)| ChronologyRow {
            person_id,
            log_index: h.index,
            event_id: h.id,
            kind: h.kind.clone(),
            agency: h.agency.to_string(),
            actor: h.actor.user.clone(),
            occurred_at: h.occurred_at.clone(),
            occurred_sort: sort,
            // Imported history: when the source system recorded it.
            recorded_at: h
                .source
                .as_ref()
                .map(|src| src.recorded_at.clone())
                .unwrap_or_else(|| h.recorded_at.clone()),
            record_id,
            record_kind: record_kind.clone(),
            record_agency: owner.agency.clone(),
            record_user: owner.by.clone(),
            role,
        })
        .collect())
}

/// The edge row of a link entity (`None` for any other kind).
pub fn edge_row(rec: &EntityRecord) -> Option<EdgeRow> {
    if rec.kind != EntityKind::Link {
        return None;
    }
    let (from, to, kind) = state::link_ends(rec)?;
    let (since, until, recorded, ended) = state::link_dates(rec);
    let recorded_day = recorded.as_ref().and_then(|s| day_of(&s.at));
    let first_seen = since
        .as_ref()
        .and_then(|s| s.earliest_day().ok())
        .or(recorded_day)?;
    let last_seen = until
        .as_ref()
        .and_then(|u| crate::dates::latest_day(&u.value, u.precision).ok())
        .or_else(|| ended.as_ref().and_then(|e| day_of(&e.at)))
        .unwrap_or_else(|| recorded_day.map_or(first_seen, |d| d.max(first_seen)));
    Some(EdgeRow {
        link_id: rec.id,
        from,
        to,
        kind,
        first_seen,
        last_seen,
        active: !state::ended(rec),
        agency: recorded.map(|s| s.agency).unwrap_or_default(),
    })
}

/// The referral row of a referral entity (`None` for any other kind).
pub fn referral_row(rec: &EntityRecord) -> Option<ReferralRow> {
    if rec.kind != EntityKind::Referral {
        return None;
    }
    let (status, submitted, decided) = state::referral_progress(rec);
    let submitted = submitted.unwrap_or_default();
    Some(ReferralRow {
        referral_id: rec.id,
        child_id: state::child_of(rec)?,
        submitted_by: submitted.by,
        submitted_agency: submitted.agency,
        status,
        submitted_at: submitted.at,
        decided_at: decided.map(|d| d.at),
        reference: crate::reference::reference_for(rec.id),
    })
}

/// The review row of a `same_person` link scored by a model and not
/// decided by a person (`None` for anything else). `state` is read for the
/// agencies of the two records.
pub fn match_review_row(
    rec: &EntityRecord,
    state: &mut dyn ProjectionState,
) -> Result<Option<MatchReviewRow>, ProjectionError> {
    if rec.kind != EntityKind::Link {
        return Ok(None);
    }
    let Some(probability_ppm) = state::undecided_match(rec) else {
        return Ok(None);
    };
    let Some((a, b, _)) = state::link_ends(rec) else {
        return Ok(None);
    };
    let mut agency_of = |id: Uuid| -> Result<String, ProjectionError> {
        let mut agency = String::new();
        state.read(id, &mut |p| agency = state::created(p).agency)?;
        Ok(agency)
    };
    Ok(Some(MatchReviewRow {
        link_id: rec.id,
        a: a.id,
        b: b.id,
        a_agency: agency_of(a.id)?,
        b_agency: agency_of(b.id)?,
        probability_ppm,
    }))
}

/// Link kinds whose postcode becomes a search key of the person at the
/// `from` end: where they live or stay.
pub const POSTCODE_LINKS: &[&str] = &["lives_at", "stays_at"];

/// The search keys an entity is the source of, sorted and unique: a
/// person's names and date of birth; a referral's reference (a key of its
/// child); a person's `lives_at`/`stays_at` link's place's postcode (a key
/// of that person). `state` is read for the place of a link.
pub fn name_key_rows(
    rec: &EntityRecord,
    state: &mut dyn ProjectionState,
) -> Result<Vec<NameKeyRow>, ProjectionError> {
    let (person, agency, keys): (Uuid, String, Vec<Key>) = match rec.kind {
        EntityKind::Person => {
            let (names, dob) = state::person_identity(rec);
            let mut keys = Vec::new();
            for n in &names {
                for part in [&n.given, &n.family].into_iter().flatten() {
                    keys.extend(names::name_keys(part));
                }
            }
            if let Some(d) = &dob {
                keys.extend(names::dob_keys(d));
            }
            (rec.id, state::created(rec).agency, keys)
        }
        EntityKind::Referral => {
            let Some(child) = state::child_of(rec) else {
                return Ok(Vec::new());
            };
            let key = Key {
                kind: KeyKind::Reference,
                key: crate::reference::reference_for(rec.id),
            };
            (child, state::created(rec).agency, vec![key])
        }
        EntityKind::Link => {
            let Some((from, to, kind)) = state::link_ends(rec) else {
                return Ok(Vec::new());
            };
            if from.kind != EntityKind::Person
                || to.kind != EntityKind::Location
                || !POSTCODE_LINKS.contains(&kind.as_str())
            {
                return Ok(Vec::new());
            }
            let keys = match state.get(to.id)?.as_ref().and_then(state::postcode) {
                Some(p) => names::postcode_keys(&p),
                None => Vec::new(),
            };
            (from.id, state::created(rec).agency, keys)
        }
        _ => return Ok(Vec::new()),
    };
    let mut rows: Vec<NameKeyRow> = keys
        .into_iter()
        .map(|k| NameKeyRow {
            source_id: rec.id,
            person_id: person,
            kind: k.kind,
            key: k.key,
            agency: agency.clone(),
        })
        .collect();
    // In the order the store lists them: by source, person, kind name, key.
    rows.sort_by(|a, b| name_key_order(a).cmp(&name_key_order(b)));
    rows.dedup();
    Ok(rows)
}

/// The order name key rows are listed in (by the kind's name, as stored).
pub fn name_key_order(r: &NameKeyRow) -> (Uuid, Uuid, &'static str, &str) {
    (r.source_id, r.person_id, r.kind.as_str(), r.key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::{apply, MemoryProjection};
    use crate::EventInput;
    use serde_json::json;

    fn seal(i: u64, occurred: (&str, &str), kind: &str, payload: serde_json::Value) -> SealedEvent {
        let input: EventInput = serde_json::from_value(json!({
            "actor": {"user": "u1", "role": "practitioner"},
            "agency": "northshire-council",
            "occurred_at": {"value": occurred.0, "precision": occurred.1},
            "kind": kind,
            "payload": payload,
        }))
        .unwrap();
        input.prepare(Utc::now(), [7; 16]).unwrap().seal(i).unwrap()
    }

    fn run(events: &[SealedEvent]) -> (MemoryProjection, Vec<Vec<ChronologyRow>>) {
        let mut state = MemoryProjection::default();
        let mut rows = Vec::new();
        for e in events {
            apply(e, &mut state).unwrap();
            rows.push(chronology_rows(e, &mut state).unwrap());
        }
        (state, rows)
    }

    const CHILD: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);
    const REFERRAL: Uuid = Uuid::from_u128(3);

    fn person(i: u64, id: Uuid) -> SealedEvent {
        seal(
            i,
            ("2024-01-02", "day"),
            "person.recorded",
            json!({
                "person_id": id, "names": [{"given": "Testchild", "kind": "birth"}],
            }),
        )
    }

    #[test]
    fn imported_history_is_dated_by_when_the_source_system_recorded_it() {
        let mut input: EventInput = serde_json::from_value(json!({
            "actor": {"user": "importer", "role": "administrator"},
            "agency": "northshire-council",
            "occurred_at": {"value": "2019-03-04", "precision": "day"},
            "source": {"system": "Old case system", "recorded_at": "2019-03-05T09:30:00Z"},
            "kind": "person.recorded",
            "payload": {"person_id": CHILD, "names": [{"given": "Testchild", "kind": "birth"}]},
        }))
        .unwrap();
        let imported = input
            .clone()
            .prepare(Utc::now(), [7; 16])
            .unwrap()
            .seal(0)
            .unwrap();
        input.source = None;
        let native = input.prepare(Utc::now(), [7; 16]).unwrap().seal(0).unwrap();
        let (_, rows) = run(&[imported]);
        assert_eq!(rows[0][0].recorded_at, "2019-03-05T09:30:00.000Z");
        let (_, rows) = run(std::slice::from_ref(&native));
        assert_eq!(rows[0][0].recorded_at, native.header.recorded_at);
    }

    #[test]
    fn follow_ups_find_the_child_in_the_record_they_change() {
        let (_, rows) = run(&[
            person(0, CHILD),
            person(1, OTHER),
            seal(
                2,
                ("2024-03", "month"),
                "referral.submitted",
                json!({
                    "referral_id": REFERRAL, "child_id": CHILD, "concern": "A concern.",
                    "others_involved": [OTHER], "immediate_danger": false,
                }),
            ),
            seal(
                3,
                ("2024-04-01", "day"),
                "referral.decided",
                json!({
                    "referral_id": REFERRAL, "decision": "assessment",
                }),
            ),
            seal(
                4,
                ("2024-04-02", "day"),
                "assessment.completed",
                json!({
                    "referral_id": REFERRAL, "factors": ["21"],
                }),
            ),
            seal(
                5,
                ("2024", "year"),
                "note.recorded",
                json!({
                    "subjects": [{"type": "referral", "id": REFERRAL}, {"type": "person", "id": CHILD}],
                    "text": "Reviewed.",
                }),
            ),
        ]);
        let who = |r: &[ChronologyRow]| -> Vec<(Uuid, Role)> {
            r.iter().map(|r| (r.person_id, r.role)).collect()
        };
        assert_eq!(who(&rows[0]), [(CHILD, Role::Subject)]);
        assert_eq!(
            who(&rows[2]),
            [(CHILD, Role::Child), (OTHER, Role::OtherPerson)]
        );
        assert_eq!(who(&rows[3]), [(CHILD, Role::Child)]);
        assert_eq!(who(&rows[4]), [(CHILD, Role::Child)]);
        // One row per person, first role kept.
        assert_eq!(who(&rows[5]), [(CHILD, Role::Child)]);
        let decided = &rows[3][0];
        assert_eq!(
            (decided.record_id, decided.record_kind.as_str()),
            (REFERRAL, "referral")
        );
        assert_eq!(decided.record_user, "u1");
        assert_eq!(rows[5][0].record_kind, NOTE_RECORD);
        assert_eq!(rows[5][0].record_id, rows[5][0].event_id);
    }

    #[test]
    fn every_casework_kind_lands_with_the_people_it_concerns() {
        let (p, a, o, i, m, case) = (
            Uuid::from_u128(20),
            Uuid::from_u128(21),
            Uuid::from_u128(23),
            Uuid::from_u128(24),
            Uuid::from_u128(25),
            Uuid::from_u128(26),
        );
        let d = ("2024-02-01", "day");
        let (_, rows) = run(&[
            person(0, CHILD),
            person(1, OTHER),
            seal(
                2,
                d,
                "placement.started",
                json!({
                    "placement_id": p, "child_id": CHILD, "placement_type": "K2", "started_on": "2024-02-01",
                }),
            ),
            seal(
                3,
                d,
                "placement.ended",
                json!({"placement_id": p, "ended_on": "2024-02-01"}),
            ),
            seal(
                4,
                d,
                "allocation.recorded",
                json!({
                    "allocation_id": a, "child_id": CHILD, "worker": "sw1", "team": "Team A", "started_on": "2024-02-01",
                }),
            ),
            seal(
                5,
                d,
                "allocation.ended",
                json!({"allocation_id": a, "ended_on": "2024-02-01"}),
            ),
            seal(
                6,
                d,
                "case.opened",
                json!({
                    "case_id": case, "child_id": CHILD, "level": "child_in_need", "reason": "Concerns.",
                }),
            ),
            seal(
                7,
                d,
                "case.level_changed",
                json!({
                    "case_id": case, "child_id": CHILD, "level": "child_protection", "reason": "Escalating.",
                }),
            ),
            seal(
                8,
                d,
                "case.closed",
                json!({"case_id": case, "child_id": CHILD, "reason": "Moved away."}),
            ),
            seal(
                9,
                d,
                "offence.recorded",
                json!({
                    "offence_id": o, "offence": "soa2003_s7", "victim_ids": [CHILD], "suspect_ids": [OTHER],
                    "committed": {"value": "2024-01", "precision": "month"}, "cse_flag": true,
                }),
            ),
            seal(
                10,
                d,
                "offence.outcome_recorded",
                json!({"offence_id": o, "outcome": "caution", "suspect_id": OTHER}),
            ),
            seal(
                11,
                d,
                "intelligence.recorded",
                json!({
                    "intelligence_id": i, "subjects": [{"type": "person", "id": OTHER}],
                    "text": "Seen near the school.",
                    "grading": {"source": "2", "intelligence": "B", "handling": "P"},
                }),
            ),
            seal(
                12,
                d,
                "meeting.recorded",
                json!({
                    "meeting_id": m, "kind": "strategy_discussion", "child_id": CHILD,
                    "attendees": ["northshire-council"], "decisions": "Section 47 enquiries.",
                }),
            ),
            seal(
                13,
                d,
                "agency.registered",
                json!({
                    "agency_id": Uuid::from_u128(31), "code": "northshire-police",
                    "name": "Northshire Police", "kind": "police",
                }),
            ),
        ]);
        let who = |r: &[ChronologyRow]| -> Vec<(Uuid, Role)> {
            r.iter().map(|r| (r.person_id, r.role)).collect()
        };
        for (n, r) in rows.iter().enumerate().take(9).skip(2) {
            assert_eq!(who(r), [(CHILD, Role::Child)], "event {n}");
        }
        assert_eq!(
            (rows[3][0].record_id, rows[3][0].record_kind.as_str()),
            (p, "placement")
        );
        assert_eq!(
            (rows[5][0].record_id, rows[5][0].record_kind.as_str()),
            (a, "allocation")
        );
        assert_eq!(
            who(&rows[9]),
            [(CHILD, Role::Victim), (OTHER, Role::Suspect)]
        );
        assert_eq!(
            who(&rows[10]),
            [(CHILD, Role::Victim), (OTHER, Role::Suspect)]
        );
        assert_eq!(who(&rows[11]), [(OTHER, Role::Subject)]);
        assert_eq!(who(&rows[12]), [(CHILD, Role::Child)]);
        assert!(rows[13].is_empty(), "an agency is nobody's chronology");
    }

    #[test]
    fn sort_keys_place_periods_at_their_start() {
        let at = |v: &str, p: Precision| {
            occurred_sort_key(&OccurredAt {
                value: v.into(),
                precision: p,
            })
            .unwrap()
        };
        let year = at("2024", Precision::Year);
        let month = at("2024-03", Precision::Month);
        let day = at("2024-03-01", Precision::Day);
        let about = at("2024-03-02", Precision::Approximate);
        let exact = at("2024-03-01T10:00:00+01:00", Precision::Exact);
        assert!(year < month && month == day && day < exact && exact < about);
        assert_eq!(exact, day + 9 * 3600 * 1000);
    }

    #[test]
    fn edges_take_their_dates_from_the_link() {
        let place = Uuid::from_u128(9);
        let link = Uuid::from_u128(10);
        let (state, _) = run(&[
            person(0, CHILD),
            seal(
                1,
                ("2024-01-02", "day"),
                "location.recorded",
                json!({
                    "location_id": place, "kind": "home", "postcode": "NS1 4AB",
                }),
            ),
            seal(
                2,
                ("2024-01-02", "day"),
                "link.recorded",
                json!({
                    "link_id": link, "kind": "lives_at",
                    "from": {"type": "person", "id": CHILD}, "to": {"type": "location", "id": place},
                    "since": {"value": "2022", "precision": "year"},
                    "until": {"value": "2023-06", "precision": "month"},
                }),
            ),
        ]);
        let e = edge_row(&state.records[&link]).unwrap();
        assert_eq!(
            (e.first_seen.to_string(), e.last_seen.to_string()),
            ("2022-01-01".into(), "2023-06-30".into())
        );
        assert!(e.active);
        let mut st = state.clone();
        let keys = name_key_rows(&state.records[&link], &mut st).unwrap();
        let got: Vec<(KeyKind, &str)> = keys.iter().map(|k| (k.kind, k.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (KeyKind::Postcode, "NS1 4AB"),
                (KeyKind::PostcodeOutward, "NS1")
            ]
        );
        assert!(keys
            .iter()
            .all(|k| k.person_id == CHILD && k.source_id == link));
        // Protected characteristics are never keys: a person's keys come from
        // names and date of birth only.
        let keys = name_key_rows(&state.records[&CHILD], &mut st).unwrap();
        assert!(keys.iter().all(|k| matches!(
            k.kind,
            KeyKind::Name | KeyKind::Nickname | KeyKind::Phonetic | KeyKind::Skeleton
        )));
    }
}
