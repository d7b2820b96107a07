//! Projection rules: how events fold into the current state of each entity.
//!
//! The store keeps one row per entity (person, referral, link, ...) holding
//! its current state as canonical JSON. The rules that compute that state live
//! here, once, as pure functions over a [`ProjectionState`]; the store runs
//! them inside its write transaction, and `vigil verify` runs the same rules
//! over an in-memory [`MemoryProjection`] to rebuild every row from the log
//! and compare. Rules also enforce the checks that need current state (the
//! person a referral names must exist; a decided referral cannot be decided
//! again), so an event that breaks them is refused before it is written.

use crate::event::{EntityKind, SealedEvent};
use crate::state::{EntityState, KindState};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The version of the projection rules: what the stored projection tables
/// were built by. Bump it in the same commit as any change to a rule or to the
/// shape of a projected row (the structs of [`crate::state`]); a store built
/// by another version is rebuilt from the log (`vigil rebuild`) rather than
/// reported as corrupt. The test `projection_version` in vigil-synth fails
/// when the rows it projects change while this number does not.
///
/// 4: the match review table (`crate::index::match_review_row`).
/// 5: stamps carry the source system's recorded time of imported history
/// (`crate::state::Stamp::source_at`).
/// 6: the front door: `police_called`, `call_back_on` and
/// `information_added` on a referral; a person without a name.
/// 7: CSE screenings (`screening.recorded`, `crate::state::ScreeningState`).
/// 8: missing episodes: where found, by whom, with whom; the return home
/// interview assigned and recorded (`return_interview.*`).
/// 9: cases: lead agency, worker, agencies involved, risk and its history,
/// actions (`crate::state::CaseState`), and the `case_actions` rows.
/// 10: closing a case: a request waiting for a supervisor's sign-off, the
/// sign-off or its refusal (`case.closure_*`); a person's case ids.
/// 11: alerts (`alert.*`, `crate::state::AlertState`).
/// 12: meetings: the multi-agency meeting of many cases (`meeting.held`,
/// `crate::state::MultiAgencyMeetingState`), and the meetings that
/// discussed a case on the case (`crate::state::CaseState::meetings`, from
/// `meeting.held` and `meeting.recorded` with a case).
/// 13: contextual cases: a case on a place or a peer group
/// (`crate::state::CaseContext`, no `child_id`), the children linked to it
/// (`case.child_linked`, `case.child_unlinked`; a person's
/// `context_case_ids`), and `case_actions` rows without a child.
/// 14: an alert's events (`alert.raised`, `.acknowledged`, `.resolved`)
/// are in the chronology of the alert's child, as the index table said.
pub const PROJECTION_VERSION: u32 = 14;

/// The projected state of one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityRecord {
    pub id: Uuid,
    /// Always `state.kind()`; kept beside it because the store keeps it in a
    /// column of its own.
    pub kind: EntityKind,
    pub state: EntityState,
    /// Log index of the event that created it.
    pub created_index: u64,
    /// Log index of the last event that changed it.
    pub updated_index: u64,
}

impl EntityRecord {
    /// A record of `state`, its kind taken from the state.
    pub fn new(id: Uuid, state: EntityState, created_index: u64, updated_index: u64) -> Self {
        EntityRecord {
            id,
            kind: state.kind(),
            state,
            created_index,
            updated_index,
        }
    }

    /// Canonical JSON of the state, as stored.
    pub fn state_json(&self) -> String {
        // The state types hold no floats and no integers beyond 2^53 (counts,
        // minutes, and access-log rows, which validation bounds), the only
        // things canonical JSON refuses.
        self.state
            .to_json()
            .expect("projected state holds no floats or unsafe integers")
    }

    /// The state, if this is an entity of kind `T`.
    pub fn as_kind<T: KindState>(&self) -> Option<&T> {
        T::from_ref(&self.state)
    }
}

/// Why an event could not be projected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProjectionError {
    /// The event breaks a rule that depends on current state; the message is for a person.
    #[error("{0}")]
    Rejected(String),
    /// The state could not be read or written.
    #[error("could not read or write the projections: {0}")]
    Store(String),
}

/// Where projection rules read and write entity state.
pub trait ProjectionState {
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, ProjectionError>;
    fn put(&mut self, record: EntityRecord) -> Result<(), ProjectionError>;
    /// The kind of the entity with this id, if there is one. Rules that only
    /// need to know that something exists ask this, which a backend may
    /// answer without copying the state.
    fn kind_of(&mut self, id: Uuid) -> Result<Option<EntityKind>, ProjectionError> {
        Ok(self.get(id)?.map(|r| r.kind))
    }
    /// Lets `look` read the entity with this id, if there is one (`false`
    /// when there is none). A backend may lend its own copy.
    fn read(
        &mut self,
        id: Uuid,
        look: &mut dyn FnMut(&EntityRecord),
    ) -> Result<bool, ProjectionError> {
        match self.get(id)? {
            Some(rec) => {
                look(&rec);
                Ok(true)
            }
            None => Ok(false),
        }
    }
    /// Changes the entity with this id with `change`, if there is one
    /// (`false` when there is none); when `change` refuses, nothing is
    /// written. A backend may change its own copy in place, so rules check
    /// everything before they change anything (the payload tests hold every
    /// rule to that: a refused event leaves the state as it was).
    fn modify(
        &mut self,
        id: Uuid,
        change: &mut dyn FnMut(&mut EntityRecord) -> Result<(), ProjectionError>,
    ) -> Result<bool, ProjectionError> {
        match self.get(id)? {
            Some(mut rec) => {
                change(&mut rec)?;
                self.put(rec)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Applies one sealed event to the projections.
pub fn apply(event: &SealedEvent, state: &mut dyn ProjectionState) -> Result<(), ProjectionError> {
    let mut ctx = Projector {
        index: event.header.index,
        state,
    };
    event.payload.project(&event.header, &mut ctx)
}

fn not_found(kind: EntityKind, id: Uuid) -> ProjectionError {
    ProjectionError::Rejected(format!("there is no {kind} with id {id}"))
}

fn wrong_kind(id: Uuid, is: EntityKind, want: EntityKind) -> ProjectionError {
    ProjectionError::Rejected(format!("{id} is a {is}, not a {want}"))
}

/// What the per-kind rules use to read and change state.
pub struct Projector<'a> {
    index: u64,
    state: &'a mut dyn ProjectionState,
}

impl Projector<'_> {
    /// Creates an entity; refused if the id is already taken.
    pub fn create(
        &mut self,
        id: Uuid,
        state: impl Into<EntityState>,
    ) -> Result<(), ProjectionError> {
        if let Some(existing) = self.state.kind_of(id)? {
            return Err(ProjectionError::Rejected(format!(
                "{id} is already recorded (as a {existing})"
            )));
        }
        self.state
            .put(EntityRecord::new(id, state.into(), self.index, self.index))
    }

    /// Checks that an entity exists and is of the given kind.
    pub fn require(&mut self, kind: EntityKind, id: Uuid) -> Result<(), ProjectionError> {
        match self.state.kind_of(id)? {
            Some(k) if k == kind => Ok(()),
            Some(k) => Err(wrong_kind(id, k, kind)),
            None => Err(not_found(kind, id)),
        }
    }

    /// The kind of whatever has this id, if anything.
    pub fn kind_of(&mut self, id: Uuid) -> Result<Option<EntityKind>, ProjectionError> {
        self.state.kind_of(id)
    }

    /// Reads the state of an entity that must exist and be of kind `T`.
    pub fn get<T: KindState>(&mut self, id: Uuid) -> Result<T, ProjectionError> {
        let rec = self.state.get(id)?.ok_or_else(|| not_found(T::KIND, id))?;
        let kind = rec.kind;
        match rec.state.into_kind::<T>() {
            Some(t) => Ok(t),
            None => Err(wrong_kind(id, kind, T::KIND)),
        }
    }

    /// Reads part of an entity that must exist and be of kind `T`, without
    /// copying the rest of it.
    pub fn read<T: KindState, R>(
        &mut self,
        id: Uuid,
        look: impl FnOnce(&T) -> R,
    ) -> Result<R, ProjectionError> {
        let mut look = Some(look);
        let mut out: Option<Result<R, ProjectionError>> = None;
        let found = self.state.read(id, &mut |rec| {
            out = Some(match (T::from_ref(&rec.state), look.take()) {
                (Some(t), Some(look)) => Ok(look(t)),
                _ => Err(wrong_kind(id, rec.kind, T::KIND)),
            });
        })?;
        match out {
            Some(r) => r,
            None if !found => Err(not_found(T::KIND, id)),
            None => Err(ProjectionError::Store(format!("{id} could not be read"))),
        }
    }

    /// Changes an existing entity of kind `T`. `change` must refuse before
    /// it changes anything: when it refuses, the event is refused and the
    /// entity is left as it was.
    pub fn update<T: KindState, R>(
        &mut self,
        id: Uuid,
        change: impl FnOnce(&mut T) -> Result<R, ProjectionError>,
    ) -> Result<R, ProjectionError> {
        let index = self.index;
        let mut change = Some(change);
        let mut out: Option<R> = None;
        let found = self.state.modify(id, &mut |rec| {
            let kind = rec.kind;
            let t = T::from_mut(&mut rec.state).ok_or_else(|| wrong_kind(id, kind, T::KIND))?;
            let change = change
                .take()
                .ok_or_else(|| ProjectionError::Store(format!("{id} was changed twice")))?;
            out = Some(change(t)?);
            rec.updated_index = index;
            Ok(())
        })?;
        match out {
            Some(r) => Ok(r),
            None if !found => Err(not_found(T::KIND, id)),
            None => Err(ProjectionError::Store(format!("{id} could not be changed"))),
        }
    }
}

/// Projections held in memory: used by verification to rebuild from the log,
/// and by tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryProjection {
    pub records: BTreeMap<Uuid, EntityRecord>,
}

impl ProjectionState for MemoryProjection {
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, ProjectionError> {
        Ok(self.records.get(&id).cloned())
    }
    fn put(&mut self, record: EntityRecord) -> Result<(), ProjectionError> {
        self.records.insert(record.id, record);
        Ok(())
    }
    fn kind_of(&mut self, id: Uuid) -> Result<Option<EntityKind>, ProjectionError> {
        Ok(self.records.get(&id).map(|r| r.kind))
    }
    fn read(
        &mut self,
        id: Uuid,
        look: &mut dyn FnMut(&EntityRecord),
    ) -> Result<bool, ProjectionError> {
        Ok(self.records.get(&id).map(look).is_some())
    }
    /// Changes the record in place (no copy): a refused change may leave
    /// part of it done, which is why rules check before they change.
    fn modify(
        &mut self,
        id: Uuid,
        change: &mut dyn FnMut(&mut EntityRecord) -> Result<(), ProjectionError>,
    ) -> Result<bool, ProjectionError> {
        match self.records.get_mut(&id) {
            Some(rec) => change(rec).map(|()| true),
            None => Ok(false),
        }
    }
}
