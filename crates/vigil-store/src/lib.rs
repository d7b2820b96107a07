//! `vigil-store`: where Vigil's record lives.
//!
//! One trait, [`Store`], with one implementation per database ([`sqlite`], the
//! embedded default, and [`postgres`], for several application servers on one
//! replicated database), in the manner of sqlx: callers never know which they
//! have, and one test suite runs against both.
//! Everything a store does that is not database-specific lives once in this
//! crate and is shared by the backends:
//!
//! - [`write`]: the single append path. A batch of validated drafts is given
//!   log positions, folded into the projections by the model's rules, written
//!   with its Merkle leaves and a freshly signed tree head in **one database
//!   transaction**, and only after that transaction commits are receipts made.
//!   Nothing is acknowledged before it is durable.
//! - [`verify`]: recomputes every leaf and the tree, checks every signed tree
//!   head, and rebuilds the projections from the log to compare with the
//!   stored rows, naming the first entry or row that is wrong.
//! - [`head_file`]: the latest signed tree head, kept outside the database
//!   too, so that a log cut back in the database is caught.
//! - [`copy`]: moves a log verbatim from one store to another (`vigil migrate`).
//! - [`index`]: the secondary projection tables (chronology, edges, name
//!   keys, referrals) and the query types of the `Store` methods that read
//!   them; [`rebuild`]: `vigil rebuild` and the serving lock.
//!
//! Depends on `vigil-model` and `vigil-ledger`; I/O is confined to the backend
//! modules.

pub mod accounts;
pub mod actors;
pub mod copy;
pub mod group;
pub mod head_file;
pub mod index;
pub mod postgres;
pub mod rebuild;
pub mod sqlite;
pub mod verify;
pub mod write;

use index::{ChronologyPage, ChronologyQuery, PersonHit, ReferralQuery};
use uuid::Uuid;
use vigil_ledger::{LogKey, LogSigner, Receipt, SignedTreeHead};
use vigil_model::index::{ChronologyRow, EdgeRow, NameKeyRow, ReferralRow};
use vigil_model::names::NameQuery;
use vigil_model::projection::EntityRecord;
use vigil_model::{EntityKind, EventDraft};

/// What went wrong in the store. Messages are one sentence for an operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database could not be used: {0}")]
    Database(String),
    #[error("the database at {0} was not made by this version of Vigil: {1}")]
    Schema(String, String),
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    /// The database belongs to a log signed with another key than the one
    /// it was opened with (`meta.log_key` differs): for `vigil verify` a
    /// failed verification, not a failure to run.
    #[error("{0}")]
    OtherKey(String),
    /// The database cannot be reached or the connection was lost; nothing
    /// was acknowledged. Worth retrying later (a web server answers 503).
    #[error("{0}")]
    Unavailable(String),
    /// The projections were built by another version of the projection
    /// rules (or before versions were recorded): the log is fine, the
    /// derived tables must be rebuilt (`vigil rebuild`) before anything is
    /// appended.
    #[error("{0}")]
    Stale(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        postgres::error_from(e)
    }
}

/// One entry of the log as stored: the canonical header (the Merkle leaf) and
/// the payload with its salt (absent once erased).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    pub index: u64,
    pub event_id: String,
    pub header_json: String,
    pub payload_json: Option<String>,
    pub salt: Option<Vec<u8>>,
    pub leaf_hash: Vec<u8>,
    /// The `kind` column, kept beside the header for queries; verification
    /// checks it says what the header says.
    pub kind: String,
}

/// An event that was written, with the receipt that proves it.
#[derive(Clone, Debug)]
pub struct Appended {
    pub index: u64,
    pub event_id: Uuid,
    pub kind: &'static str,
    pub receipt: Receipt,
}

/// The result of one append: for each draft, in order, its receipt or the
/// sentence saying why it was refused (refused drafts write nothing).
#[derive(Clone, Debug)]
pub struct BatchOutcome {
    pub results: Vec<Result<Appended, String>>,
    /// The signed tree head committed with this batch (None if nothing was written).
    pub tree_head: Option<SignedTreeHead>,
}

/// What one append writes: drafts made of all-or-nothing units, and which
/// receipts to keep.
///
/// A unit is what one person submitted at once: a web referral is the new
/// child's record, the places given and the referral itself; if the rules
/// refuse any of them, none is written (no child record without the
/// referral that named it). [`Store::append`] makes each draft its own unit
/// (an import's lines stand alone); [`group::GroupCommit`] makes each
/// submission one.
#[derive(Debug, Default)]
pub struct Batch {
    drafts: Vec<EventDraft>,
    /// Sizes of the units `drafts` is made of, in order.
    units: Vec<usize>,
    keep_receipts: Vec<Uuid>,
}

impl Batch {
    pub fn new() -> Self {
        Batch::default()
    }

    /// Each draft on its own: one refused draft does not stop the others.
    pub fn of_drafts(drafts: Vec<EventDraft>) -> Self {
        let units = vec![1; drafts.len()];
        Batch {
            drafts,
            units,
            keep_receipts: Vec::new(),
        }
    }

    /// Adds drafts written together or not at all.
    pub fn push_unit(&mut self, drafts: Vec<EventDraft>) -> &mut Self {
        if !drafts.is_empty() {
            self.units.push(drafts.len());
            self.drafts.extend(drafts);
        }
        self
    }

    /// Keeps the receipts of these events in the store, written in the same
    /// transaction, so [`accounts::AccountStore::receipt`] can hand them out
    /// again (a referrer's receipt, downloadable from the referral's page).
    pub fn keep_receipts(&mut self, event_ids: impl IntoIterator<Item = Uuid>) -> &mut Self {
        self.keep_receipts.extend(event_ids);
        self
    }

    pub fn len(&self) -> usize {
        self.drafts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.drafts.is_empty()
    }

    /// The parts, for the append path.
    pub(crate) fn into_parts(self) -> (Vec<EventDraft>, Vec<usize>, Vec<Uuid>) {
        (self.drafts, self.units, self.keep_receipts)
    }

    /// Appends another batch's units and receipts after this one's.
    pub fn extend(&mut self, other: Batch) {
        self.drafts.extend(other.drafts);
        self.units.extend(other.units);
        self.keep_receipts.extend(other.keep_receipts);
    }
}

/// The interface every backend implements. All methods take `&self`: a store
/// is shared between threads (web handlers), serialises its writes internally,
/// and serves reads from its own connections.
pub trait Store: Send + Sync + accounts::AccountStore {
    /// Appends drafts in one transaction, each on its own (a refused draft
    /// writes nothing and does not stop the others), and returns after the
    /// transaction has committed.
    fn append(&self, drafts: Vec<EventDraft>) -> Result<BatchOutcome, StoreError> {
        self.append_batch(Batch::of_drafts(drafts))
    }

    /// Appends a [`Batch`] in one transaction: its units all-or-nothing, its
    /// kept receipts with them; returns after the transaction has committed,
    /// with one result per draft, in order.
    fn append_batch(&self, batch: Batch) -> Result<BatchOutcome, StoreError>;

    /// Number of entries in the log.
    fn log_size(&self) -> Result<u64, StoreError>;

    /// Number of hashes this process's writer holds in memory (its Merkle
    /// frontier, a batch's new nodes, recent roots): O(log n) between
    /// batches, whatever the log's length. For measurements and tests.
    fn writer_held_hashes(&self) -> usize;

    /// The most recent signed tree head.
    fn latest_tree_head(&self) -> Result<Option<SignedTreeHead>, StoreError>;

    /// Streams log entries with index >= `from`, in index order.
    fn for_each_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(StoredEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Streams every signed tree head, by size.
    fn for_each_tree_head(
        &self,
        f: &mut dyn FnMut(SignedTreeHead) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Streams every projected entity, by id.
    fn for_each_entity(
        &self,
        f: &mut dyn FnMut(EntityRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Streams the (subject, entry index) pairs of the subject index, by subject then index.
    fn for_each_subject_link(
        &self,
        f: &mut dyn FnMut(Uuid, u64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// One entity's current state.
    fn entity(&self, id: Uuid) -> Result<Option<EntityRecord>, StoreError>;

    /// Every log entry that concerns an entity, oldest first.
    fn entries_about(&self, subject: Uuid) -> Result<Vec<StoredEntry>, StoreError>;

    /// Whether an event id is already in the log, and where.
    fn event_index(&self, event_id: Uuid) -> Result<Option<u64>, StoreError>;

    /// The canonical payload of an event, byte for byte as its header's
    /// `payload_sha256` commits to it (with the salt in its receipt): what a
    /// submitter downloads to prove what they sent. `None` if there is no
    /// such event (or its payload was erased). Callers decide who may see it.
    fn payload_of(&self, event_id: Uuid) -> Result<Option<String>, StoreError>;

    /// The public key that verifies this log's tree heads.
    fn log_key(&self) -> LogKey;

    /// Appends entries and signed tree heads copied verbatim from another
    /// store of the same log (`vigil migrate`), in one transaction: the
    /// entries must continue this log exactly and the last head must cover
    /// them all. See [`write::LogWriter::append_verbatim_in`].
    fn append_verbatim(
        &self,
        entries: Vec<StoredEntry>,
        heads: Vec<SignedTreeHead>,
    ) -> Result<(), StoreError>;

    /// Runs `f` with a view of the log and projections fixed at one moment
    /// (one read transaction): whatever other writers commit meanwhile, every
    /// read through the view sees the same state. `vigil verify` uses it so
    /// that checking a store beside live servers compares a log with the
    /// projections of that same log.
    fn read_snapshot(
        &self,
        f: &mut dyn FnMut(&dyn LogReader) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// [`Store::read_snapshot`] with a second view of the same snapshot
    /// lent to `side` on a thread of its own while `main` runs: `vigil
    /// verify` digests the stored projection tables there while the log is
    /// replayed. A backend that cannot open two views of one snapshot (the
    /// default, or a pool of one connection) runs `side` and then `main` on
    /// one view, so `main` may wait on what `side` sends it but not the
    /// other way round.
    fn read_snapshot_pair(
        &self,
        main: &mut dyn FnMut(&dyn LogReader) -> Result<(), StoreError>,
        side: &mut (dyn FnMut(&dyn LogReader) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        self.read_snapshot(&mut |v| {
            side(v)?;
            main(v)
        })
    }

    /// A page of a person's chronology: rows the visibility rule lets
    /// through, filtered by agency and kind, ordered by when things happened
    /// (occurred-at sort key, then log index), with the total and the facet
    /// counts. `limit` is capped at [`index::MAX_PAGE`].
    fn chronology(&self, person: Uuid, q: &ChronologyQuery) -> Result<ChronologyPage, StoreError>;

    /// The log index of the last entry in a person's chronology (any
    /// agency's), `None` if it is empty: every event about the person, or
    /// about a record of theirs, raises it, so it says whether anything
    /// derived from their chronology is still current.
    fn chronology_head(&self, person: Uuid) -> Result<Option<u64>, StoreError>;

    /// Everything a person's page reads on every request, as one read (one
    /// pooled connection; on PostgreSQL two round trips, three with a page,
    /// instead of eight or more): the entity, the referrals about them,
    /// their links and the entities `ends` picks from those links, their
    /// chronology head and, if `q` is given, one page of their chronology.
    /// The default composes the methods of the same meaning
    /// ([`index::PersonPage`]).
    fn person_page(
        &self,
        person: Uuid,
        q: Option<&ChronologyQuery>,
        ends: &dyn Fn(&EdgeRow) -> Option<Uuid>,
    ) -> Result<index::PersonPage, StoreError> {
        let edges = self.edges_of(person)?;
        let ids = index::end_ids(&edges, ends);
        Ok(index::PersonPage {
            person: self.entity(person)?,
            referrals: self.referrals(ReferralQuery::AboutChild(person))?,
            ends: self.entities(&ids)?,
            edges,
            head: self.chronology_head(person)?,
            page: match q {
                Some(q) => self.chronology(person, q)?,
                None => ChronologyPage::default(),
            },
        })
    }

    /// Person records matching a key of every group of the query, best
    /// first (see [`vigil_model::names::score`]), at most `limit`; only
    /// keys whose source record is owned by one of `visible_agencies` count
    /// when it is given.
    fn find_people(
        &self,
        q: &NameQuery,
        visible_agencies: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<PersonHit>, StoreError>;

    /// Every link from or to an entity, by link id.
    fn edges_of(&self, entity: Uuid) -> Result<Vec<EdgeRow>, StoreError>;

    /// The links of one kind (`same_person`, ...), by link id, at most
    /// `limit`: for the review queue of possible matches.
    fn edges_of_kind(&self, kind: &str, limit: usize) -> Result<Vec<EdgeRow>, StoreError>;

    /// A page of the pairs of person records awaiting review, and how many
    /// there are (see [`index::MatchReviewQuery`]).
    fn match_review(
        &self,
        q: &index::MatchReviewQuery,
    ) -> Result<index::MatchReviewPage, StoreError>;

    /// Referrals, as their entity rows (see [`ReferralQuery`] for the order).
    fn referrals(&self, q: ReferralQuery) -> Result<Vec<EntityRecord>, StoreError>;

    /// Missing episodes the child came back from at or before `returned_by`
    /// (canonical timestamp text) whose return home interview is not done,
    /// as their entity rows, longest waiting first, at most `limit`: the
    /// overdue list, read from the `return_interviews` index.
    fn interviews_not_done(
        &self,
        returned_by: &str,
        limit: usize,
    ) -> Result<Vec<EntityRecord>, StoreError>;

    /// Case actions (table `case_actions`), earliest due first, at most
    /// [`index::CASE_ACTION_LIMIT`].
    fn case_actions(
        &self,
        q: &index::CaseActionQuery,
    ) -> Result<Vec<vigil_model::index::CaseActionRow>, StoreError>;

    /// Every entity of a kind, by id: for the small kinds (agencies, users).
    fn entities_of_kind(&self, kind: EntityKind) -> Result<Vec<EntityRecord>, StoreError>;

    /// The entities with these ids that exist, by id.
    fn entities(&self, ids: &[Uuid]) -> Result<Vec<EntityRecord>, StoreError>;

    /// Drops and rebuilds every projection table from the log in one write
    /// transaction, page by page (see [`rebuild`]); refused while a server
    /// holds the serving lock. `progress(done, total)` is called after each page.
    fn rebuild_projections(
        &self,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<rebuild::RebuildReport, StoreError>;

    /// Takes the serving lock, shared, for as long as the guard lives: what
    /// a server holds so that `vigil rebuild` is refused while it runs.
    fn hold_serving_lock(&self) -> Result<rebuild::ServingLock, StoreError>;
}

/// The bulk reads of a store, as seen through one read transaction
/// ([`Store::read_snapshot`]). Same contracts as the `Store` methods of the
/// same names.
pub trait LogReader {
    fn for_each_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(StoredEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// The same entries as borrowed bytes, with no copy and no text decoding:
    /// the fast path of verification (millions of entries). The default goes
    /// through [`LogReader::for_each_entry`]; a backend that can lend its row
    /// buffers overrides it.
    fn for_each_raw_entry(
        &self,
        from: u64,
        f: &mut dyn FnMut(RawEntry<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.for_each_entry(from, &mut |e| {
            f(RawEntry {
                index: e.index,
                event_id: e.event_id.as_bytes(),
                header: e.header_json.as_bytes(),
                payload: e.payload_json.as_deref().map(str::as_bytes),
                salt: e.salt.as_deref(),
                leaf_hash: &e.leaf_hash,
                kind: e.kind.as_bytes(),
            })
        })
    }
    fn for_each_tree_head(
        &self,
        f: &mut dyn FnMut(SignedTreeHead) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    fn for_each_entity(
        &self,
        f: &mut dyn FnMut(EntityRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// The same rows as [`LogReader::for_each_entity`], by id, as stored
    /// bytes, not parsed. The default re-encodes parsed rows; the backends
    /// override it to lend the stored text.
    fn for_each_raw_entity(
        &self,
        f: &mut dyn FnMut(RawEntity<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.for_each_entity(&mut |r| {
            let (id, state) = (r.id.to_string(), r.state_json());
            f(RawEntity {
                id: id.as_bytes(),
                kind: r.kind.as_str().as_bytes(),
                state: state.as_bytes(),
                created_idx: r.created_index as i64,
                updated_idx: r.updated_index as i64,
            })
        })
    }
    fn for_each_subject_link(
        &self,
        f: &mut dyn FnMut(Uuid, u64) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the receipts kept for submitters to download again, as
    /// (`event_id` column, receipt text), by event id. Text as stored, even
    /// if it is not a receipt: verification says what is wrong with it.
    fn for_each_kept_receipt(
        &self,
        f: &mut dyn FnMut(String, String) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// The log key the database says it belongs to (`meta.log_key`, base64),
    /// if it holds one.
    fn stored_log_key(&self) -> Result<Option<String>, StoreError>;
    /// The projection version recorded in `meta`, if any.
    fn projection_version(&self) -> Result<Option<u32>, StoreError>;
    /// Streams the chronology table, by log index then person.
    fn for_each_chronology(
        &self,
        f: &mut dyn FnMut(ChronologyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the edges table, by link id.
    fn for_each_edge(
        &self,
        f: &mut dyn FnMut(EdgeRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the name keys, by source, person, kind name and key.
    fn for_each_name_key(
        &self,
        f: &mut dyn FnMut(NameKeyRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the referrals table, by referral id.
    fn for_each_referral(
        &self,
        f: &mut dyn FnMut(ReferralRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the match review table, by link id.
    fn for_each_match_review(
        &self,
        f: &mut dyn FnMut(vigil_model::index::MatchReviewRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the case actions table, by action id.
    fn for_each_case_action(
        &self,
        f: &mut dyn FnMut(vigil_model::index::CaseActionRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Streams the return interviews table, by episode id.
    fn for_each_return_interview(
        &self,
        f: &mut dyn FnMut(vigil_model::index::ReturnInterviewRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// One log entry as the database holds it, borrowed (see
/// [`LogReader::for_each_raw_entry`]). Bytes, not text: verification hashes
/// exactly what is stored, so a value that is not even valid UTF-8 is still
/// reported as an altered entry.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry<'a> {
    pub index: u64,
    pub event_id: &'a [u8],
    pub header: &'a [u8],
    pub payload: Option<&'a [u8]>,
    pub salt: Option<&'a [u8]>,
    pub leaf_hash: &'a [u8],
    /// The `kind` column (not hashed: it must equal the header's `kind`).
    pub kind: &'a [u8],
}

/// One stored projection row as the bytes in the database, for
/// verification's fast comparison with the canonical JSON of the rebuilt
/// state (a row that differs is then parsed, to say how).
#[derive(Clone, Copy, Debug)]
pub struct RawEntity<'a> {
    pub id: &'a [u8],
    pub kind: &'a [u8],
    pub state: &'a [u8],
    pub created_idx: i64,
    pub updated_idx: i64,
}

impl RawEntity<'_> {
    /// The row parsed strictly ([`entity_from_row`]'s corruption names it).
    pub fn parse(&self) -> Result<EntityRecord, StoreError> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        entity_from_row((
            text(self.id),
            text(self.kind),
            text(self.state),
            self.created_idx,
            self.updated_idx,
        ))
    }
}

/// Parses a stored entity row; a row that does not parse is reported as
/// corruption naming the row, never a panic. Shared by the backends.
///
/// The state must parse strictly as its kind's struct
/// ([`vigil_model::state::EntityState::parse`]): an unknown field, a missing
/// required one or a value of the wrong type is corruption, not a default.
pub(crate) fn entity_from_row(
    (id, kind, state, c, u): (String, String, String, i64, i64),
) -> Result<EntityRecord, StoreError> {
    let bad = |what: &str| StoreError::Corrupt(format!("projection row {id}: {what}"));
    let kind = vigil_model::EntityKind::parse(&kind).ok_or_else(|| bad("unknown entity kind"))?;
    let state = vigil_model::state::EntityState::parse(kind, &state)
        .map_err(|e| bad(&format!("the state is not a valid {kind}: {e}")))?;
    Ok(EntityRecord::new(
        Uuid::parse_str(&id).map_err(|_| bad("the id is not a UUID"))?,
        state,
        u64::try_from(c).map_err(|_| bad("negative index"))?,
        u64::try_from(u).map_err(|_| bad("negative index"))?,
    ))
}

/// How to reach a database: `sqlite://PATH` (or a plain path) or
/// `postgres://...` (see [`postgres`] for the options Vigil adds). `Debug`
/// and [`DatabaseUrl::redacted`] never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            DatabaseUrl::Postgres(_) => f.debug_tuple("Postgres").field(&self.redacted()).finish(),
        }
    }
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        if let Some(p) = s.strip_prefix("sqlite://") {
            if p.is_empty() {
                return Err(StoreError::Config(
                    "the sqlite:// address has no file path".into(),
                ));
            }
            Ok(DatabaseUrl::Sqlite(p.into()))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_owned()))
        } else if s.contains("://") {
            Err(StoreError::Config(format!(
                "'{s}' is not a database address Vigil understands: use sqlite://PATH or postgres://..."
            )))
        } else {
            Ok(DatabaseUrl::Sqlite(s.into()))
        }
    }

    /// The address as it may be shown to a person or written to a log: a
    /// PostgreSQL password is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(u) => postgres::redact_url(u),
        }
    }
}

/// Opens (creating if needed) the store at `url`, signing with `signer`.
pub fn open(url: &DatabaseUrl, signer: LogSigner) -> Result<Box<dyn Store>, StoreError> {
    open_with_writer(url, write::LogWriter::new(signer))
}

/// [`open`], keeping the latest signed tree head in `file` as well (what a
/// data directory does: see [`head_file`]).
pub fn open_with_head_file(
    url: &DatabaseUrl,
    signer: LogSigner,
    file: head_file::TreeHeadFile,
) -> Result<Box<dyn Store>, StoreError> {
    open_with_writer(url, write::LogWriter::new(signer).with_head_file(file))
}

fn open_with_writer(
    url: &DatabaseUrl,
    writer: write::LogWriter,
) -> Result<Box<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open_with_writer(
            path, writer,
        )?)),
        DatabaseUrl::Postgres(u) => Ok(Box::new(postgres::PostgresStore::open_with_writer(
            u, writer,
        )?)),
    }
}
