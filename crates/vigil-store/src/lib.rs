//! `vigil-store`: where Vigil's record lives.
//!
//! One trait, [`Store`], with one implementation per database (SQLite now,
//! PostgreSQL next), in the manner of sqlx: callers never know which they have.
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
//!
//! Depends on `vigil-model` and `vigil-ledger`; I/O is confined to the backend
//! modules.

pub mod sqlite;
pub mod verify;
pub mod write;

use vigil_ledger::{LogKey, LogSigner, Receipt, SignedTreeHead};
use vigil_model::projection::EntityRecord;
use vigil_model::EventDraft;
use uuid::Uuid;

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
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
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

/// The interface every backend implements. All methods take `&self`: a store
/// is shared between threads (web handlers), serialises its writes internally,
/// and serves reads from its own connections.
pub trait Store: Send + Sync {
    /// Appends drafts in one transaction and returns after it has committed.
    fn append(&self, drafts: Vec<EventDraft>) -> Result<BatchOutcome, StoreError>;

    /// Number of entries in the log.
    fn log_size(&self) -> Result<u64, StoreError>;

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

    /// The public key that verifies this log's tree heads.
    fn log_key(&self) -> LogKey;
}

/// How to reach a database: `sqlite://PATH` (or a plain path) or `postgres://...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        if let Some(p) = s.strip_prefix("sqlite://") {
            if p.is_empty() {
                return Err(StoreError::Config("the sqlite:// address has no file path".into()));
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
}

/// Opens (creating if needed) the store at `url`, signing with `signer`.
pub fn open(url: &DatabaseUrl, signer: LogSigner) -> Result<Box<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(path, signer)?)),
        DatabaseUrl::Postgres(_) => Err(StoreError::Config(
            "this build of Vigil cannot use PostgreSQL yet; use a sqlite:// address".into(),
        )),
    }
}
