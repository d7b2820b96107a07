//! The one append path, shared by every backend.
//!
//! A backend opens a write transaction that excludes other writers (SQLite
//! `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), hands it to
//! [`LogWriter::append_in`] as a [`WriteTx`], commits, and only then calls
//! [`PendingBatch::into_outcome`] to make receipts. So:
//!
//! - positions are assigned under the write lock, and the in-memory Merkle
//!   tree first catches up with anything another process appended;
//! - each draft is sealed, then run through the model's projection rules on an
//!   overlay; a draft the rules refuse leaves no trace and gives its position
//!   to the next one;
//! - entries, projection rows and a signed tree head are written in the same
//!   transaction, so after a crash either all of a batch is there or none is;
//! - a receipt exists only for an event whose transaction committed.

use crate::{Appended, BatchOutcome, StoreError};
use chrono::Utc;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;
use vigil_ledger::{leaf_hash, Hash, LogSigner, MerkleTree, Receipt, SignedTreeHead, TreeHead};
use vigil_model::projection::{self, EntityRecord, ProjectionError, ProjectionState};
use vigil_model::{EventDraft, SealedEvent};

/// What the append path needs from a backend's open write transaction.
pub trait WriteTx {
    /// Number of entries committed in the log (seen from inside the transaction).
    fn log_size(&mut self) -> Result<u64, StoreError>;
    /// Stored leaf hashes from index `from` to the end, in order.
    fn leaf_hashes_from(&mut self, from: u64) -> Result<Vec<Hash>, StoreError>;
    fn event_index(&mut self, id: Uuid) -> Result<Option<u64>, StoreError>;
    fn entity(&mut self, id: Uuid) -> Result<Option<EntityRecord>, StoreError>;
    fn insert_entry(&mut self, event: &SealedEvent, leaf_hash: &Hash) -> Result<(), StoreError>;
    fn upsert_entity(&mut self, record: &EntityRecord) -> Result<(), StoreError>;
    fn insert_tree_head(&mut self, sth: &SignedTreeHead) -> Result<(), StoreError>;
}

/// The writer's memory between batches: the Merkle tree (for roots and
/// receipts' inclusion proofs) and the signing key.
pub struct LogWriter {
    tree: MerkleTree,
    signer: LogSigner,
}

/// A batch written but not yet committed.
pub struct PendingBatch {
    results: Vec<Result<(u64, Uuid, &'static str, String), String>>,
    tree_head: Option<SignedTreeHead>,
}

impl LogWriter {
    pub fn new(signer: LogSigner) -> Self {
        LogWriter { tree: MerkleTree::new(), signer }
    }

    pub fn signer(&self) -> &LogSigner {
        &self.signer
    }

    /// Forgets the in-memory tree; the next batch reloads it from the store.
    /// Called when a transaction fails after leaves were pushed.
    pub fn reset(&mut self) {
        self.tree = MerkleTree::new();
    }

    /// Brings the in-memory tree level with the committed log.
    pub fn catch_up(&mut self, tx: &mut dyn WriteTx) -> Result<u64, StoreError> {
        let size = tx.log_size()?;
        if size < self.tree.size() {
            // The log got shorter: someone removed entries behind our back.
            return Err(StoreError::Corrupt(format!(
                "the log has {size} entries but {} were written earlier; run `vigil verify`",
                self.tree.size()
            )));
        }
        if size > self.tree.size() {
            for h in tx.leaf_hashes_from(self.tree.size())? {
                self.tree.push(h);
            }
            if self.tree.size() != size {
                return Err(StoreError::Corrupt(format!(
                    "the log should have {size} entries but {} could be read; run `vigil verify`",
                    self.tree.size()
                )));
            }
        }
        Ok(size)
    }

    /// Writes a batch inside `tx`. The caller commits, then calls
    /// [`PendingBatch::into_outcome`]; if the commit fails it must call
    /// [`LogWriter::reset`].
    pub fn append_in(
        &mut self,
        tx: &mut dyn WriteTx,
        drafts: Vec<EventDraft>,
    ) -> Result<PendingBatch, StoreError> {
        let mut next = self.catch_up(tx)?;
        let mut results = Vec::with_capacity(drafts.len());
        let mut changed: HashMap<Uuid, EntityRecord> = HashMap::new();
        let mut ids_in_batch: HashSet<Uuid> = HashSet::new();
        let mut accepted: Vec<(SealedEvent, Hash)> = Vec::new();

        for draft in drafts {
            let id = draft.id;
            if !ids_in_batch.insert(id) {
                results.push(Err(format!("event {id} appears twice in this batch")));
                continue;
            }
            if let Some(at) = tx.event_index(id)? {
                results.push(Err(format!("event {id} is already recorded (entry {at})")));
                continue;
            }
            let sealed = match draft.seal(next) {
                Ok(s) => s,
                Err(e) => {
                    results.push(Err(e.to_string()));
                    continue;
                }
            };
            let mut overlay = Overlay { tx: &mut *tx, batch: &changed, event: HashMap::new() };
            match projection::apply(&sealed, &mut overlay) {
                Ok(()) => {
                    let touched = overlay.event;
                    changed.extend(touched);
                }
                Err(ProjectionError::Rejected(msg)) => {
                    results.push(Err(msg));
                    continue;
                }
                Err(ProjectionError::Store(msg)) => return Err(StoreError::Database(msg)),
            }
            let leaf = leaf_hash(sealed.header_json.as_bytes());
            results.push(Ok((next, id, sealed.payload.kind(), sealed.header_json.clone())));
            accepted.push((sealed, leaf));
            next += 1;
        }

        if accepted.is_empty() {
            return Ok(PendingBatch { results, tree_head: None });
        }
        for (event, leaf) in &accepted {
            tx.insert_entry(event, leaf)?;
        }
        let mut records: Vec<&EntityRecord> = changed.values().collect();
        records.sort_by_key(|r| r.id);
        for r in records {
            tx.upsert_entity(r)?;
        }
        for (_, leaf) in &accepted {
            self.tree.push(*leaf);
        }
        let head = TreeHead {
            size: self.tree.size(),
            root: self.tree.root(),
            timestamp_ms: Utc::now().timestamp_millis(),
        };
        let sth = self.signer.sign_tree_head(&head);
        tx.insert_tree_head(&sth)?;
        Ok(PendingBatch { results, tree_head: Some(sth) })
    }

    /// Receipts for a committed batch.
    pub fn receipts(&self, pending: PendingBatch) -> Result<BatchOutcome, StoreError> {
        let PendingBatch { results, tree_head } = pending;
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            out.push(match r {
                Err(msg) => Err(msg),
                Ok((index, event_id, kind, header_json)) => {
                    let sth = tree_head.as_ref().expect("a batch with entries has a tree head");
                    let receipt = Receipt::issue(
                        &self.signer,
                        &self.tree,
                        sth,
                        index,
                        &event_id.to_string(),
                        &header_json,
                    )
                    .map_err(|e| StoreError::Corrupt(format!("receipt for entry {index}: {e}")))?;
                    Ok(Appended { index, event_id, kind, receipt })
                }
            });
        }
        Ok(BatchOutcome { results: out, tree_head })
    }
}

/// Projection state seen by one event: its own changes, over the batch's
/// changes, over the committed rows.
struct Overlay<'a> {
    tx: &'a mut dyn WriteTx,
    batch: &'a HashMap<Uuid, EntityRecord>,
    event: HashMap<Uuid, EntityRecord>,
}

impl ProjectionState for Overlay<'_> {
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, ProjectionError> {
        if let Some(r) = self.event.get(&id).or_else(|| self.batch.get(&id)) {
            return Ok(Some(r.clone()));
        }
        self.tx.entity(id).map_err(|e| ProjectionError::Store(e.to_string()))
    }

    fn put(&mut self, record: EntityRecord) -> Result<(), ProjectionError> {
        self.event.insert(record.id, record);
        Ok(())
    }
}
