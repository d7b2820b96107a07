//! The one append path, shared by every backend.
//!
//! A backend opens a write transaction that excludes other writers (SQLite
//! `BEGIN IMMEDIATE`, a PostgreSQL advisory lock), hands it to
//! [`LogWriter::append_in`] as a [`WriteTx`], commits, and only then calls
//! [`LogWriter::receipts`] to hand out the receipts. So:
//!
//! - positions are assigned under the write lock, and the writer's Merkle
//!   frontier first catches up with anything another process appended;
//! - each draft is sealed, then run through the model's projection rules on an
//!   overlay; a draft the rules refuse leaves no trace and gives its position
//!   to the next one;
//! - entries, projection rows and a signed tree head are written in the same
//!   transaction, so after a crash either all of a batch is there or none is;
//! - receipts are made with the batch, but handed out only once its
//!   transaction has committed (a kept receipt is written in that transaction);
//! - after the commit, the new signed tree head is also written to the
//!   tree-head file outside the database ([`crate::head_file`]), when the
//!   store has one.
//!
//! Because entries and their tree head are committed together, every entry
//! an honest writer leaves in the database is covered by a signed tree head.
//! So when the writer (re)loads the log it trusts nothing it reads: it
//! recomputes each leaf hash from the stored header, and before signing
//! anything new it checks that the latest signed tree head covers the whole
//! log with the root it recomputed, and that the log holds the head in the
//! tree-head file. An entry slipped into the database behind its back is
//! refused, never signed over.
//!
//! Memory: the writer does not hold the log's Merkle tree. Between batches
//! it keeps the *frontier* of the committed log (the roots of its complete
//! subtrees: at most 64 hashes, [`MerkleTree::prune`]); a batch's leaves are
//! pushed onto that, which is all a receipt's inclusion proof and the new
//! root need (every proof of a leaf at or after the frontier's size is made
//! of frontier nodes and new leaves). A load streams the stored leaves page
//! by page and folds them into a frontier, so nothing of the log is held at
//! once. Roots of older sizes, which the checks against the tree-head file
//! and after a lost connection need, are captured while streaming, and
//! the roots at the last [`KNOWN_ROOTS`] sizes this writer loaded or
//! committed are kept; a check that needs a root it does not have reads the
//! whole log again (rare: only when a third writer's late tree-head file
//! update overtakes two others).

use crate::head_file::{Published, TreeHeadFile};
use crate::index::{changed_places, derive_entity_rows, stale_message, ChronologyRow, EntityRows};
use crate::{Appended, Batch, BatchOutcome, StoreError, StoredEntry};
use chrono::Utc;
use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;
use vigil_ledger::{
    leaf_hash, Frontier, Hash, LogSigner, MerkleTree, Receipt, SignedTreeHead, TreeHead,
};
use vigil_model::event::SALT_LEN;
use vigil_model::projection::{
    self, EntityRecord, ProjectionError, ProjectionState, PROJECTION_VERSION,
};
use vigil_model::SealedEvent;

/// What the append path needs from a backend's open write transaction.
pub trait WriteTx {
    /// Number of entries committed in the log (seen from inside the transaction).
    fn log_size(&mut self) -> Result<u64, StoreError>;
    /// Up to `limit` stored entries from index `from` on, in index order,
    /// as [`StoredLeaf`]s.
    fn leaves_page(&mut self, from: u64, limit: u64) -> Result<Vec<StoredLeaf>, StoreError>;
    /// The signed tree head of the largest size (seen from inside the transaction).
    fn latest_tree_head(&mut self) -> Result<Option<SignedTreeHead>, StoreError>;
    fn event_index(&mut self, id: Uuid) -> Result<Option<u64>, StoreError>;
    fn entity(&mut self, id: Uuid) -> Result<Option<EntityRecord>, StoreError>;
    fn insert_entry(&mut self, event: &SealedEvent, leaf_hash: &Hash) -> Result<(), StoreError>;
    fn upsert_entity(&mut self, record: &EntityRecord) -> Result<(), StoreError>;
    /// Keeps receipts (event id, receipt JSON) so they can be handed out
    /// again later. Called before [`WriteTx::insert_tree_head`], which may be
    /// the call that sends everything buffered.
    fn insert_receipts(&mut self, receipts: &[(Uuid, String)]) -> Result<(), StoreError>;
    fn insert_tree_head(&mut self, sth: &SignedTreeHead) -> Result<(), StoreError>;
    /// Told, before a batch is processed, which event ids and entity ids it
    /// will ask about, so that a backend far from its database (PostgreSQL)
    /// can fetch them in one round trip instead of one per draft. Answers must
    /// still come from `event_index` and `entity`; the default does nothing.
    fn prefetch(&mut self, _event_ids: &[Uuid], _entity_ids: &[Uuid]) -> Result<(), StoreError> {
        Ok(())
    }
    /// The projection version recorded in `meta` (None: none recorded).
    fn projection_version(&mut self) -> Result<Option<u32>, StoreError>;
    fn set_projection_version(&mut self, version: u32) -> Result<(), StoreError>;
    /// Appends chronology rows (see [`crate::index`]).
    fn insert_chronology(&mut self, rows: &[ChronologyRow]) -> Result<(), StoreError>;
    /// Replaces the edge and referral rows given (by id), and every name key
    /// of each of `rows.name_sources` by those in `rows.names`.
    fn replace_entity_rows(&mut self, rows: &EntityRows) -> Result<(), StoreError>;
    /// The committed links from a person to this place whose name keys
    /// follow the place's postcode (`lives_at`, `stays_at`), from the edges table.
    fn place_links(&mut self, place: Uuid) -> Result<Vec<Uuid>, StoreError>;
}

/// What `vigil rebuild` needs besides the append path's transaction.
pub trait RebuildTx: WriteTx {
    /// Empties every projection table (entities, subject index, chronology,
    /// edges, name keys, referrals).
    fn clear_projections(&mut self) -> Result<(), StoreError>;
    /// Up to `limit` stored entries from index `from` on, in index order.
    fn entries_page(&mut self, from: u64, limit: u64) -> Result<Vec<StoredEntry>, StoreError>;
    /// Writes an entry's rows of the subject index.
    fn insert_subjects(&mut self, event: &SealedEvent) -> Result<(), StoreError>;
    /// Sends whatever is buffered.
    fn flush_rows(&mut self) -> Result<(), StoreError>;
}

/// What the writer reads of a stored entry when it (re)loads the log: the
/// header, from which it recomputes the leaf hash, and the stored leaf hash,
/// which it only compares.
#[derive(Clone, Debug)]
pub struct StoredLeaf {
    pub index: u64,
    pub event_id: String,
    pub header: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

/// Entries read per round trip when the writer (re)loads the log.
const LOAD_PAGE: u64 = 10_000;

/// Roots at recent sizes a writer keeps (see the module documentation): a
/// few tens of kilobytes, enough to cover the tree-head file lagging behind
/// by that many batches.
pub const KNOWN_ROOTS: usize = 1024;

/// The writer's memory between batches: the committed log's Merkle frontier
/// (for roots and receipts' inclusion proofs), roots at recent sizes, and
/// the signing key. O(log n), whatever the log's length.
pub struct LogWriter {
    /// The committed log pruned to its frontier, plus the leaves of the
    /// batch being written.
    tree: MerkleTree,
    /// Roots at the last [`KNOWN_ROOTS`] sizes loaded or committed, oldest
    /// first, for sizes before `tree`'s base.
    known_roots: VecDeque<(u64, Hash)>,
    signer: LogSigner,
    /// Whether `tree` was loaded from the store and checked since the writer
    /// was made or last reset.
    loaded: bool,
    /// Where the latest signed tree head is also kept, outside the database.
    head_file: Option<TreeHeadFile>,
    /// Size of the log known to be committed: what this writer last loaded,
    /// or last committed itself (and issued receipts for).
    committed: u64,
    /// After a [`LogWriter::reset`]: the committed size and root that the
    /// reloaded log must still contain. A database that lost entries this
    /// writer committed (a failover to a replica that was behind, a restore)
    /// must stop the writer loudly, not let it hand out the same positions
    /// again.
    floor: Option<(u64, Hash)>,
}

/// A draft written in a pending batch.
struct Written {
    index: u64,
    id: Uuid,
    kind: &'static str,
    header_json: String,
    salt: [u8; SALT_LEN],
}

/// A batch written but not yet committed: its receipts are made, and are
/// handed out by [`LogWriter::receipts`] only after the commit.
pub struct PendingBatch {
    outcome: BatchOutcome,
}

impl LogWriter {
    pub fn new(signer: LogSigner) -> Self {
        LogWriter {
            tree: MerkleTree::new(),
            known_roots: VecDeque::new(),
            signer,
            loaded: false,
            head_file: None,
            committed: 0,
            floor: None,
        }
    }

    /// Also keeps the latest signed tree head in `file` (see
    /// [`crate::head_file`]), and refuses a log that does not hold it.
    pub fn with_head_file(mut self, file: TreeHeadFile) -> Self {
        self.head_file = Some(file);
        self
    }

    pub fn signer(&self) -> &LogSigner {
        &self.signer
    }

    /// Forgets the in-memory tree; the next batch reloads it from the store.
    /// Called when a transaction fails after leaves were pushed.
    pub fn reset(&mut self) {
        if self.floor.is_none() && self.committed > 0 {
            if let Some(root) = self.root_of(self.committed) {
                self.floor = Some((self.committed, root));
            }
        }
        self.tree = MerkleTree::new();
        self.known_roots.clear();
        self.loaded = false;
    }

    /// The root of the log at `size`, if this writer holds it: from the
    /// tree for sizes from its base on, else from the recent roots.
    fn root_of(&self, size: u64) -> Option<Hash> {
        if size >= self.tree.base() {
            return self.tree.root_at(size).ok();
        }
        self.known_roots
            .iter()
            .rev()
            .find(|(s, _)| *s == size)
            .map(|(_, r)| *r)
    }

    /// Keeps the root at `size` among the recent ones.
    fn remember(&mut self, size: u64, root: Hash) {
        if self.known_roots.back().is_some_and(|(s, _)| *s >= size) {
            return;
        }
        if self.known_roots.len() == KNOWN_ROOTS {
            self.known_roots.pop_front();
        }
        self.known_roots.push_back((size, root));
    }

    /// Number of hashes the writer holds (tree nodes and recent roots):
    /// what its memory grows with. Stays O(log n) between batches.
    pub fn held_hashes(&self) -> usize {
        self.tree.held_hashes() + self.known_roots.len()
    }

    /// Brings the in-memory tree level with the committed log, checking
    /// what it loads (see the module documentation).
    pub fn catch_up(&mut self, tx: &mut dyn WriteTx) -> Result<u64, StoreError> {
        let size = tx.log_size()?;
        if let Some((n, _)) = self.floor {
            if size < n {
                return Err(lost_entries(size, n));
            }
        }
        if size < self.tree.size() {
            // The log got shorter: someone removed entries behind our back.
            return Err(StoreError::Corrupt(format!(
                "the log has {size} entries but {} were written earlier; run `vigil verify`",
                self.tree.size()
            )));
        }
        if size > self.tree.size() || !self.loaded {
            if let Err(e) = self.load(tx, size) {
                // Nothing loaded is kept: the next batch reads it all again.
                self.reset();
                return Err(e);
            }
            self.loaded = true;
        }
        if let Some((n, root)) = self.floor {
            if self.root_of(n) != Some(root) {
                self.tree = MerkleTree::new();
                self.known_roots.clear();
                return Err(StoreError::Corrupt(format!(
                    "the first {n} entries of the log are not the ones this server committed and issued receipts for: the log was rewritten; run `vigil verify` and restart Vigil once it is resolved"
                )));
            }
            self.floor = None;
        }
        self.committed = size;
        Ok(size)
    }

    /// Loads the entries from the tree's size up to `size` (or from the
    /// start, when a check needs the root at a size it no longer holds),
    /// recomputing each leaf hash from its header and folding it into a
    /// frontier page by page, then checks the result against the latest
    /// signed tree head and the tree-head file.
    fn load(&mut self, tx: &mut dyn WriteTx, size: u64) -> Result<(), StoreError> {
        let latest = tx.latest_tree_head()?;
        let signed = latest.as_ref().map_or(0, |h| h.head.size);
        let file_head = self.read_head_file()?;
        // Sizes whose roots the checks below need.
        let wanted: Vec<u64> = [
            self.floor.map(|(n, _)| n),
            file_head.as_ref().map(|h| h.head.size),
        ]
        .into_iter()
        .flatten()
        .filter(|&w| w <= size)
        .collect();
        let held = self.tree.size();
        let resume = self.loaded
            && wanted
                .iter()
                .all(|&w| w >= held || self.root_of(w).is_some());
        let mut frontier = if resume {
            self.tree.frontier()
        } else {
            self.known_roots.clear();
            Frontier::new()
        };
        let mut captured: Vec<(u64, Hash)> = Vec::new();
        if wanted.contains(&frontier.size()) {
            captured.push((frontier.size(), frontier.root()));
        }
        // The first entry no signed tree head covers, if it is among those read.
        let mut unsigned_event = None;
        while frontier.size() < size {
            let page = tx.leaves_page(frontier.size(), LOAD_PAGE)?;
            if page.is_empty() {
                break;
            }
            for leaf in page {
                let n = frontier.size();
                if leaf.index != n {
                    return Err(StoreError::Corrupt(format!(
                        "entry {n} is missing from the log (the next entry present is {}); run `vigil verify`",
                        leaf.index
                    )));
                }
                let hash = leaf_hash(&leaf.header);
                if leaf.leaf_hash != hash {
                    return Err(StoreError::Corrupt(format!(
                        "entry {n} (event {}) was altered: its header does not hash to its stored leaf hash; run `vigil verify`",
                        leaf.event_id
                    )));
                }
                if n == signed {
                    unsigned_event = Some(leaf.event_id);
                }
                frontier.push(hash);
                if wanted.contains(&frontier.size()) {
                    captured.push((frontier.size(), frontier.root()));
                }
            }
        }
        if frontier.size() != size {
            return Err(StoreError::Corrupt(format!(
                "the log should have {size} entries but {} could be read; run `vigil verify`",
                frontier.size()
            )));
        }
        self.tree = MerkleTree::from_frontier(&frontier);
        for (n, root) in captured {
            self.remember(n, root);
        }
        self.check_latest_head(latest.as_ref(), unsigned_event)?;
        self.check_head_file(file_head)
    }

    /// The latest signed tree head must carry this log's signature and cover
    /// the whole loaded tree with the same root.
    fn check_latest_head(
        &self,
        latest: Option<&SignedTreeHead>,
        unsigned_event: Option<String>,
    ) -> Result<(), StoreError> {
        let size = self.tree.size();
        let signed = latest.map_or(0, |h| h.head.size);
        if signed < size {
            let event = unsigned_event
                .map(|e| format!(" (event {e})"))
                .unwrap_or_default();
            return Err(StoreError::Corrupt(format!(
                "entry {signed}{event} is covered by no signed tree head: it was put into the database behind Vigil's back (entries are always committed with their tree head), so nothing will be appended on top of it; run `vigil verify`"
            )));
        }
        let Some(h) = latest else { return Ok(()) };
        if self.signer.public_key().verify_tree_head(h).is_err() {
            return Err(StoreError::Corrupt(format!(
                "the latest signed tree head (size {signed}) does not carry a valid signature from this log's key; run `vigil verify`"
            )));
        }
        if signed > size {
            return Err(StoreError::Corrupt(format!(
                "the latest signed tree head covers {signed} entries but the log has {size}: entries were removed; run `vigil verify`"
            )));
        }
        if self.root_of(size) != Some(h.head.root) {
            return Err(StoreError::Corrupt(format!(
                "the log does not match its latest signed tree head (size {signed}): an entry was rewritten; run `vigil verify`"
            )));
        }
        Ok(())
    }

    /// The head in the tree-head file, if the writer has one.
    fn read_head_file(&self) -> Result<Option<SignedTreeHead>, StoreError> {
        match &self.head_file {
            Some(file) => file.read(&self.signer.public_key()),
            None => Ok(None),
        }
    }

    /// The log must hold the head in the tree-head file (`head`, read
    /// before the log was): not be shorter than it, and have the same root
    /// at its size.
    fn check_head_file(&self, head: Option<SignedTreeHead>) -> Result<(), StoreError> {
        let (Some(file), Some(h)) = (&self.head_file, head) else {
            return Ok(());
        };
        let (size, at) = (self.tree.size(), h.head.size);
        if at > size {
            let removed = if at - size == 1 {
                format!("entry {size} was")
            } else {
                format!("entries {size} to {} were", at - 1)
            };
            return Err(StoreError::Corrupt(format!(
                "the log in the database has {size} entries but the tree head in {}, signed by this log, covers {at}: {removed} removed (or the database is an older copy); run `vigil verify`",
                file.path().display(),
            )));
        }
        if self.root_of(at) != Some(h.head.root) {
            return Err(StoreError::Corrupt(format!(
                "the first {at} entries in the database are not the ones the tree head in {} was signed over: the log was rewritten; run `vigil verify`",
                file.path().display()
            )));
        }
        Ok(())
    }

    /// Writes a batch inside `tx`. The caller commits, then calls
    /// [`LogWriter::receipts`]; if the commit fails it must call
    /// [`LogWriter::reset`].
    ///
    /// Each unit of the batch is all-or-nothing: when the rules refuse one
    /// of its drafts, the unit's earlier drafts are taken back (their
    /// positions and projection changes) and every draft of the unit is
    /// answered with the reason.
    ///
    /// The receipts the batch asks to keep are made before the commit and
    /// written in the same transaction, so a kept receipt exists exactly
    /// when its event does, and keeping it costs no second commit. (The
    /// caller is still given receipts only after the commit.)
    pub fn append_in(
        &mut self,
        tx: &mut dyn WriteTx,
        batch: Batch,
    ) -> Result<PendingBatch, StoreError> {
        let (drafts, units, keep_receipts) = batch.into_parts();
        let mut next = self.catch_up(tx)?;
        check_projection_version(tx, next)?;
        let first_new = next;
        let ids: Vec<Uuid> = drafts.iter().map(|d| d.id).collect();
        let mut subjects: Vec<Uuid> = drafts
            .iter()
            .flat_map(|d| d.subjects.iter().map(|s| s.id))
            .collect();
        subjects.sort_unstable();
        subjects.dedup();
        tx.prefetch(&ids, &subjects)?;
        let mut results = Vec::with_capacity(drafts.len());
        let mut changed: HashMap<Uuid, EntityRecord> = HashMap::new();
        let mut ids_in_batch: HashSet<Uuid> = HashSet::new();
        let mut accepted: Vec<(SealedEvent, Hash)> = Vec::new();
        let mut chronology: Vec<Vec<ChronologyRow>> = Vec::new();

        let mut drafts = drafts.into_iter();
        for size in units {
            // What to restore if the unit is refused part-way.
            let (first_result, first_accepted, first_position) =
                (results.len(), accepted.len(), next);
            let mut undo: Vec<(Uuid, Option<EntityRecord>)> = Vec::new();
            let mut ids_of_unit: Vec<Uuid> = Vec::new();
            // The refused draft's place in `results`, and why.
            let mut refused: Option<(usize, String)> = None;
            for draft in drafts.by_ref().take(size) {
                let id = draft.id;
                if refused.is_some() {
                    results.push(Err(String::new())); // worded below
                    continue;
                }
                let why = if !ids_in_batch.insert(id) {
                    Some(format!("event {id} appears twice in this batch"))
                } else if let Some(at) = tx.event_index(id)? {
                    ids_of_unit.push(id);
                    Some(format!("event {id} is already recorded (entry {at})"))
                } else {
                    ids_of_unit.push(id);
                    match draft.seal(next) {
                        Err(e) => Some(e.to_string()),
                        Ok(sealed) => match project(&mut *tx, &changed, &sealed)? {
                            Err(msg) => Some(msg),
                            Ok((touched, rows)) => {
                                chronology.push(rows);
                                for (k, v) in touched {
                                    undo.push((k, changed.insert(k, v)));
                                }
                                let leaf = leaf_hash(sealed.header_json.as_bytes());
                                results.push(Ok(Written {
                                    index: next,
                                    id,
                                    kind: sealed.payload.kind(),
                                    header_json: sealed.header_json.clone(),
                                    salt: sealed.salt,
                                }));
                                accepted.push((sealed, leaf));
                                next += 1;
                                None
                            }
                        },
                    }
                };
                if let Some(msg) = why {
                    refused = Some((results.len(), msg.clone()));
                    results.push(Err(msg));
                }
            }
            let Some((refused_at, reason)) = refused else {
                continue;
            };
            if size == 1 {
                continue; // nothing else to take back
            }
            for (k, before) in undo.into_iter().rev() {
                match before {
                    Some(v) => changed.insert(k, v),
                    None => changed.remove(&k),
                };
            }
            for id in ids_of_unit {
                ids_in_batch.remove(&id);
            }
            accepted.truncate(first_accepted);
            chronology.truncate(first_accepted);
            next = first_position;
            for (i, r) in results.iter_mut().enumerate().skip(first_result) {
                if i != refused_at {
                    *r = Err(format!(
                        "not recorded, because another event sent with it was refused: {reason}"
                    ));
                }
            }
        }

        if accepted.is_empty() {
            // Nothing was accepted, so every result is a refusal.
            debug_assert!(results.iter().all(Result::is_err));
            let results = results
                .into_iter()
                .map(|r| Err(r.err().unwrap_or_default()))
                .collect();
            return Ok(PendingBatch {
                outcome: BatchOutcome {
                    results,
                    tree_head: None,
                },
            });
        }
        for (event, leaf) in &accepted {
            tx.insert_entry(event, leaf)?;
        }
        let rows: Vec<ChronologyRow> = chronology.into_iter().flatten().collect();
        write_projections(tx, &changed, &rows, first_new)?;
        for (_, leaf) in &accepted {
            self.tree.push(*leaf);
        }
        let head = TreeHead {
            size: self.tree.size(),
            root: self.tree.root(),
            timestamp_ms: Utc::now().timestamp_millis(),
        };
        let sth = self.signer.sign_tree_head(&head);
        let results = self.issue(results, &sth)?;
        let kept = results
            .iter()
            .flatten()
            .filter(|a| keep_receipts.contains(&a.event_id))
            .map(|a| Ok((a.event_id, receipt_json(&a.receipt)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if !kept.is_empty() {
            tx.insert_receipts(&kept)?;
        }
        tx.insert_tree_head(&sth)?;
        Ok(PendingBatch {
            outcome: BatchOutcome {
                results,
                tree_head: Some(sth),
            },
        })
    }

    /// Writes entries copied verbatim from another store of the same log
    /// (`vigil migrate`) inside `tx`, with the tree heads that store signed.
    ///
    /// Nothing is re-sealed: each stored header, payload, salt and leaf hash
    /// is checked (canonical header, payload digest, leaf hash, position) and
    /// written as it is; the projections are rebuilt by the same rules as
    /// [`LogWriter::append_in`]; each tree head must carry this log's
    /// signature over the root of the entries now present at its size, and
    /// the last one must cover the whole log, so the target always ends a
    /// transaction with a signed head over everything in it. Any mismatch
    /// fails the whole call. The caller commits (and calls
    /// [`LogWriter::reset`] if anything fails).
    pub fn append_verbatim_in(
        &mut self,
        tx: &mut dyn WriteTx,
        entries: Vec<StoredEntry>,
        heads: Vec<SignedTreeHead>,
    ) -> Result<PendingBatch, StoreError> {
        let start = self.catch_up(tx)?;
        check_projection_version(tx, start)?;
        if entries.is_empty() {
            return Err(StoreError::Config("there are no entries to copy".into()));
        }
        let ids: Vec<Uuid> = entries
            .iter()
            .filter_map(|e| Uuid::parse_str(&e.event_id).ok())
            .collect();
        tx.prefetch(&ids, &[])?;
        let mut changed: HashMap<Uuid, EntityRecord> = HashMap::new();
        let mut accepted: Vec<(SealedEvent, Hash)> = Vec::with_capacity(entries.len());
        let mut chronology: Vec<ChronologyRow> = Vec::new();
        for (next, e) in (start..).zip(entries) {
            let n = e.index;
            if n != next {
                return Err(StoreError::Config(format!(
                    "entry {n} cannot be copied here: the target log holds {next} entries, so the next entry must be {next}"
                )));
            }
            let bad = |what: String| {
                StoreError::Corrupt(format!(
                    "entry {n} (event {}) cannot be copied: {what}",
                    e.event_id
                ))
            };
            let (Some(payload), Some(salt)) = (e.payload_json.as_deref(), e.salt.as_deref()) else {
                return Err(bad("it has lost its payload or salt".into()));
            };
            let sealed = SealedEvent::from_stored(&e.header_json, payload, salt)
                .map_err(|err| bad(err.to_string()))?;
            if sealed.header.index != n || sealed.header.id.to_string() != e.event_id {
                return Err(bad("its header names another position or event id".into()));
            }
            let leaf = leaf_hash(e.header_json.as_bytes());
            if e.leaf_hash.as_slice() != leaf {
                return Err(bad(
                    "its header does not hash to its stored leaf hash".into()
                ));
            }
            if let Some(at) = tx.event_index(sealed.header.id)? {
                return Err(bad(format!(
                    "the target already holds this event (entry {at})"
                )));
            }
            if accepted
                .iter()
                .any(|(s, _)| s.header.id == sealed.header.id)
            {
                return Err(bad("the event appears twice".into()));
            }
            match project(&mut *tx, &changed, &sealed)? {
                Ok((touched, rows)) => {
                    changed.extend(touched);
                    chronology.extend(rows);
                }
                Err(msg) => return Err(bad(format!("the projection rules refuse it: {msg}"))),
            }
            accepted.push((sealed, leaf));
        }
        for (event, leaf) in &accepted {
            tx.insert_entry(event, leaf)?;
        }
        write_projections(tx, &changed, &chronology, start)?;
        for (_, leaf) in &accepted {
            self.tree.push(*leaf);
        }
        let key = self.signer.public_key();
        let mut last = start;
        for h in &heads {
            let size = h.head.size;
            if size <= last || size > self.tree.size() {
                return Err(StoreError::Config(format!(
                    "the signed tree head of size {size} does not fall within the entries copied ({} to {})",
                    start,
                    self.tree.size()
                )));
            }
            let root = self
                .tree
                .root_at(size)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if root != h.head.root {
                return Err(StoreError::Corrupt(format!(
                    "the signed tree head of size {size} does not match the entries copied"
                )));
            }
            if key.verify_tree_head(h).is_err() {
                return Err(StoreError::Corrupt(format!(
                    "the signed tree head of size {size} does not carry a valid signature from this log's key"
                )));
            }
            tx.insert_tree_head(h)?;
            last = size;
        }
        if last != self.tree.size() {
            return Err(StoreError::Config(format!(
                "the entries copied end at {} but no signed tree head of that size came with them",
                self.tree.size()
            )));
        }
        Ok(PendingBatch {
            outcome: BatchOutcome {
                results: Vec::new(),
                tree_head: heads.last().cloned(),
            },
        })
    }

    /// The receipts of a batch's written drafts, proved against its signed
    /// tree head (checked once for the batch).
    fn issue(
        &self,
        results: Vec<Result<Written, String>>,
        sth: &SignedTreeHead,
    ) -> Result<Vec<Result<Appended, String>>, StoreError> {
        let issuer = Receipt::issuer(&self.signer, &self.tree, sth)
            .map_err(|e| StoreError::Corrupt(format!("the batch's tree head: {e}")))?;
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            out.push(match r {
                Err(msg) => Err(msg),
                Ok(w) => {
                    let receipt = issuer
                        .issue(w.index, &w.id.to_string(), &w.header_json)
                        .map_err(|e| {
                            StoreError::Corrupt(format!("receipt for entry {}: {e}", w.index))
                        })?
                        .with_salt(&w.salt);
                    Ok(Appended {
                        index: w.index,
                        event_id: w.id,
                        kind: w.kind,
                        receipt,
                    })
                }
            });
        }
        Ok(out)
    }

    /// Marks a batch committed, writes its tree head to the tree-head file
    /// and hands out its receipts. Call only after the transaction it was
    /// written in has committed.
    pub fn receipts(&mut self, pending: PendingBatch) -> BatchOutcome {
        if let Some(h) = &pending.outcome.tree_head {
            self.committed = h.head.size;
            self.remember(h.head.size, h.head.root);
            self.publish(h);
        }
        // The batch's leaves are no longer needed: back to the frontier.
        self.tree.prune();
        pending.outcome
    }

    /// Writes a committed head to the tree-head file. The batch is recorded
    /// whatever happens here, so a failure is reported, not returned: the
    /// next load of the log (another process, a restart) checks the file.
    fn publish(&mut self, head: &SignedTreeHead) {
        let Some(file) = &self.head_file else { return };
        let holds = |h: &SignedTreeHead| self.root_of(h.head.size).map(|r| r == h.head.root);
        match file.publish(&self.signer.public_key(), head, holds) {
            Ok(Published::Unconfirmed) => {
                // The file's head is older than any root this writer holds:
                // the next batch reads the whole log again, checking the
                // file's head on the way, and publishes then.
                self.loaded = false;
            }
            Ok(Published::Replaced | Published::AlreadyAhead) => {}
            Err(e) => eprintln!(
                "vigil: warning: entries up to {} were recorded, but the tree-head file was not updated: {e}",
                head.head.size
            ),
        }
    }
}

/// A receipt as kept and handed out again: pretty JSON, the same bytes as
/// the file a user downloads.
pub fn receipt_json(receipt: &Receipt) -> Result<String, StoreError> {
    serde_json::to_string_pretty(receipt)
        .map_err(|e| StoreError::Corrupt(format!("a receipt could not be written out: {e}")))
}

fn lost_entries(size: u64, committed: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "the log in the database has {size} entries, but this server had already committed {committed} and issued receipts for them: committed entries were lost (a failover to a replica that was behind, or a restore?); run `vigil verify`, see docs/postgres.md, and restart Vigil once it is resolved"
    ))
}

/// The entity rows a batch changed and its chronology rows, then the edge,
/// referral and name-key rows of the entities it changed (and of committed
/// links to places it changed), all in the write transaction.
pub(crate) fn write_projections(
    tx: &mut dyn WriteTx,
    changed: &HashMap<Uuid, EntityRecord>,
    chronology: &[ChronologyRow],
    first_new: u64,
) -> Result<(), StoreError> {
    let mut records: Vec<&EntityRecord> = changed.values().collect();
    records.sort_by_key(|r| r.id);
    for r in records {
        tx.upsert_entity(r)?;
    }
    if !chronology.is_empty() {
        tx.insert_chronology(chronology)?;
    }
    let mut place_links = Vec::new();
    for place in changed_places(changed, first_new) {
        place_links.extend(tx.place_links(place)?);
    }
    let rows = derive_entity_rows(changed, &place_links, first_new, &mut |id| tx.entity(id))?;
    if !rows.is_empty() {
        tx.replace_entity_rows(&rows)?;
    }
    Ok(())
}

/// Refuses to write on projections built by other rules (they would mix
/// two versions' rows). An empty log takes this build's version.
pub(crate) fn check_projection_version(tx: &mut dyn WriteTx, size: u64) -> Result<(), StoreError> {
    match tx.projection_version()? {
        Some(v) if v == PROJECTION_VERSION => Ok(()),
        None if size == 0 => tx.set_projection_version(PROJECTION_VERSION),
        other => Err(StoreError::Stale(stale_message(other))),
    }
}

/// What one event did to the projections: the entity rows it changed and
/// its chronology rows.
type Projected = (HashMap<Uuid, EntityRecord>, Vec<ChronologyRow>);

/// Runs the projection rules for one sealed event over the batch's changes
/// and the committed rows: `Ok(Ok(what it changed))`, `Ok(Err(why the rules
/// refuse it))`, or `Err` if the store failed.
pub(crate) fn project(
    tx: &mut dyn WriteTx,
    batch: &HashMap<Uuid, EntityRecord>,
    sealed: &SealedEvent,
) -> Result<Result<Projected, String>, StoreError> {
    let mut overlay = Overlay {
        tx,
        batch,
        event: HashMap::new(),
        failed: None,
    };
    let outcome = projection::apply(sealed, &mut overlay)
        .and_then(|()| vigil_model::index::chronology_rows(sealed, &mut overlay));
    // A store failure keeps its own kind (an unreachable database stays
    // "unavailable"), not the rules' string form of it.
    if let Some(e) = overlay.failed {
        return Err(e);
    }
    match outcome {
        Ok(rows) => Ok(Ok((overlay.event, rows))),
        Err(ProjectionError::Rejected(msg)) => Ok(Err(msg)),
        Err(ProjectionError::Store(msg)) => Err(StoreError::Database(msg)),
    }
}

/// Projection state seen by one event: its own changes, over the batch's
/// changes, over the committed rows.
struct Overlay<'a> {
    tx: &'a mut dyn WriteTx,
    batch: &'a HashMap<Uuid, EntityRecord>,
    event: HashMap<Uuid, EntityRecord>,
    failed: Option<StoreError>,
}

impl ProjectionState for Overlay<'_> {
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, ProjectionError> {
        if let Some(r) = self.event.get(&id).or_else(|| self.batch.get(&id)) {
            return Ok(Some(r.clone()));
        }
        self.tx.entity(id).map_err(|e| {
            let msg = e.to_string();
            self.failed = Some(e);
            ProjectionError::Store(msg)
        })
    }

    fn put(&mut self, record: EntityRecord) -> Result<(), ProjectionError> {
        self.event.insert(record.id, record);
        Ok(())
    }
}
