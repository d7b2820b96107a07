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
//!
//! Where things are:
//! - [`codes`]: every code list (ethnicity schemes and their publication
//!   mapping, nationality, placement types, offences, link kinds, ...);
//! - [`pole`]: people, objects, locations and intelligence grading;
//! - [`payload`]: the event kinds (listed in its doc), their validation and
//!   projection rules;
//! - [`event`], [`projection`], [`canonical`]: the envelope, the projection
//!   machinery and canonical JSON;
//! - [`state`]: the projected state of every kind of entity, as types;
//! - [`time`], [`dates`], [`text`]: dates with precision, timestamps, and the
//!   checks on text fields;
//! - [`index`]: the secondary projections (chronology, edges, name keys,
//!   referrals) derived from events and state;
//! - [`names`]: search keys (names, dates of birth, postcodes, references)
//!   and the search query parser; [`reference`]: referrals' human references.

pub mod canonical;
pub mod codes;
pub mod dates;
pub mod event;
pub mod index;
pub mod names;
pub mod payload;
pub mod pole;
pub mod projection;
pub mod reference;
pub mod state;
pub mod text;
pub mod time;

pub use event::{
    Actor, EntityKind, EventDraft, EventHeader, EventInput, ModelError, SealedEvent, SourceRecord,
    SubjectRef,
};
pub use payload::EventPayload;
pub use pole::{Grading, Location, Object, Person, PersonName};
pub use time::{OccurredAt, Precision};
