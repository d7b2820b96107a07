//! `vigil rebuild`: every projection table rebuilt from the log, for a store
//! whose projections were built by another version of the rules (or
//! before versions were recorded), or were damaged.
//!
//! One write transaction (holding the writers' lock, so imports wait):
//! every projection table is emptied, then the log is read
//! [`PAGE`] entries at a time; each page is replayed by the same rules and
//! the same row derivation as the append path ([`crate::write`]), its rows
//! written, and its changed entities forgotten, so memory stays that of one
//! page whatever the length of the log (entity state is read back from the
//! table being rebuilt). The version is set last; readers see the old
//! tables until the commit, and a failure leaves them as they were.
//!
//! Refused while a server runs: each server holds the **serving lock**
//! shared ([`crate::Store::hold_serving_lock`]): an OS file lock on
//! `DB.serving` beside a SQLite database, a session-level PostgreSQL
//! advisory lock (class [`SERVING_LOCK_CLASS`], the schema's key) on a
//! connection of its own. Rebuild takes it exclusively without waiting, or
//! refuses with a sentence.

use crate::index::ChronologyRow;
use crate::write::{project, write_projections, RebuildTx};
use crate::StoreError;
use std::collections::HashMap;
use uuid::Uuid;
use vigil_model::projection::{EntityRecord, PROJECTION_VERSION};
use vigil_model::SealedEvent;

/// Entries replayed per page.
pub const PAGE: u64 = 5_000;

/// Advisory lock class of the serving lock (`Srvg` in ASCII); the key is the
/// schema's, as for the writers' lock.
pub const SERVING_LOCK_CLASS: i32 = 0x5372_7667;

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebuildReport {
    pub entries: u64,
    /// The version the projections had before (None: none recorded).
    pub previous_version: Option<u32>,
    pub version: u32,
}

/// Held by a server while it serves; dropping it releases the lock.
pub struct ServingLock {
    _held: Box<dyn Send>,
}

impl ServingLock {
    pub(crate) fn new(held: Box<dyn Send>) -> Self {
        ServingLock { _held: held }
    }
}

impl std::fmt::Debug for ServingLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServingLock")
    }
}

/// The refusal when a server holds the serving lock.
pub(crate) fn serving_refusal(what: &str) -> StoreError {
    StoreError::Config(format!(
        "a Vigil server is using this store ({what}); stop every `vigil serve` on it, then run `vigil rebuild` again"
    ))
}

/// Rebuilds inside `tx` (the caller holds the writers' lock and the serving
/// lock, and commits). `size` is the log's size.
pub(crate) fn rebuild_in(
    tx: &mut dyn RebuildTx,
    size: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<RebuildReport, StoreError> {
    let previous_version = tx.projection_version()?;
    tx.clear_projections()?;
    let mut from = 0;
    progress(0, size);
    while from < size {
        let page = tx.entries_page(from, PAGE)?;
        if page.is_empty() {
            break;
        }
        let mut sealed = Vec::with_capacity(page.len());
        for (want, e) in (from..).zip(&page) {
            let bad = |what: String| {
                StoreError::Corrupt(format!(
                    "entry {} (event {}) cannot be replayed: {what}; run `vigil verify`",
                    e.index, e.event_id
                ))
            };
            if e.index != want {
                return Err(bad(format!("entry {want} is missing before it")));
            }
            let (Some(payload), Some(salt)) = (e.payload_json.as_deref(), e.salt.as_deref()) else {
                return Err(bad("its payload was erased".into()));
            };
            let s = SealedEvent::from_stored(&e.header_json, payload, salt)
                .map_err(|err| bad(err.to_string()))?;
            sealed.push(s);
        }
        let mut subjects: Vec<Uuid> = sealed
            .iter()
            .flat_map(|s| s.header.subjects.iter().map(|r| r.id))
            .collect();
        subjects.sort_unstable();
        subjects.dedup();
        tx.prefetch(&[], &subjects)?;
        let mut changed: HashMap<Uuid, EntityRecord> = HashMap::new();
        let mut chronology: Vec<ChronologyRow> = Vec::new();
        for s in &sealed {
            match project(&mut *tx, &changed, s)? {
                Ok((touched, rows)) => {
                    changed.extend(touched);
                    chronology.extend(rows);
                }
                Err(msg) => {
                    return Err(StoreError::Corrupt(format!(
                    "entry {} (event {}) cannot be replayed: the projection rules refuse it: {msg}",
                    s.header.index, s.header.id
                )))
                }
            }
            tx.insert_subjects(s)?;
        }
        write_projections(&mut *tx, &changed, &chronology, from)?;
        tx.flush_rows()?;
        from += page.len() as u64;
        progress(from, size);
    }
    tx.set_projection_version(PROJECTION_VERSION)?;
    tx.flush_rows()?;
    Ok(RebuildReport {
        entries: from,
        previous_version,
        version: PROJECTION_VERSION,
    })
}
