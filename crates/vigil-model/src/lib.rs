//! `vigil-model`: Vigil's domain, with no I/O.
//!
//! Holds the POLE entities (people, objects, locations, events such as
//! referrals and missing episodes), the typed links between them, the code
//! lists of DOMAIN.md, the event envelope that every change is written as, the
//! validation that turns bad input into a sentence a person understands, and
//! the projection rules that fold events into current state.
//!
//! It depends on nothing else of Vigil's and does no I/O, so everything here
//! is tested with plain unit and property tests, and every other crate
//! (ledger, store, rules, link, graph, stats, synth, web, cli) can rely on it.

pub mod canonical;
pub mod codes;
pub mod event;
pub mod payload;
pub mod projection;
pub mod time;

pub use event::{
    Actor, EntityKind, EventDraft, EventHeader, EventInput, ModelError, SealedEvent, SubjectRef,
};
pub use payload::EventPayload;
pub use time::{OccurredAt, Precision};
