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

use crate::canonical::canonical_value;
use crate::event::{EntityKind, SealedEvent};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The version of the projection rules: what the stored projection tables
/// were built by. Bump it in the same commit as any change to a rule or to the
/// shape of a projected row; a store built by another version is rebuilt from
/// the log (`vigil rebuild`) rather than reported as corrupt.
pub const PROJECTION_VERSION: u32 = 2;

/// The projected state of one entity.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityRecord {
    pub id: Uuid,
    pub kind: EntityKind,
    /// Current state; always a JSON object.
    pub state: Value,
    /// Log index of the event that created it.
    pub created_index: u64,
    /// Log index of the last event that changed it.
    pub updated_index: u64,
}

impl EntityRecord {
    /// Canonical JSON of the state, as stored.
    pub fn state_json(&self) -> String {
        canonical_value(&self.state).expect("projected state holds no floats")
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
}

/// Applies one sealed event to the projections.
pub fn apply(event: &SealedEvent, state: &mut dyn ProjectionState) -> Result<(), ProjectionError> {
    let mut ctx = Projector {
        index: event.header.index,
        state,
    };
    event.payload.project(&event.header, &mut ctx)
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
        kind: EntityKind,
        id: Uuid,
        state: Value,
    ) -> Result<(), ProjectionError> {
        if let Some(existing) = self.state.get(id)? {
            return Err(ProjectionError::Rejected(format!(
                "{id} is already recorded (as a {})",
                existing.kind
            )));
        }
        self.state.put(EntityRecord {
            id,
            kind,
            state,
            created_index: self.index,
            updated_index: self.index,
        })
    }

    /// Reads an entity that must exist and be of the given kind.
    pub fn require(&mut self, kind: EntityKind, id: Uuid) -> Result<EntityRecord, ProjectionError> {
        match self.state.get(id)? {
            Some(r) if r.kind == kind => Ok(r),
            Some(r) => Err(ProjectionError::Rejected(format!(
                "{id} is a {}, not a {kind}",
                r.kind
            ))),
            None => Err(ProjectionError::Rejected(format!(
                "there is no {kind} with id {id}"
            ))),
        }
    }

    /// Reads any entity that must exist, whatever its kind.
    pub fn require_any(&mut self, id: Uuid) -> Result<EntityRecord, ProjectionError> {
        self.state.get(id)?.ok_or_else(|| {
            ProjectionError::Rejected(format!("there is nothing recorded with id {id}"))
        })
    }

    /// Changes an existing entity of the given kind.
    pub fn update(
        &mut self,
        kind: EntityKind,
        id: Uuid,
        change: impl FnOnce(&mut serde_json::Map<String, Value>) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        let mut rec = self.require(kind, id)?;
        let obj = rec
            .state
            .as_object_mut()
            .ok_or_else(|| ProjectionError::Store(format!("state of {id} is not an object")))?;
        change(obj)?;
        rec.updated_index = self.index;
        self.state.put(rec)
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
}
