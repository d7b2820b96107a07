//! Group commit for the web service's writes: events (with any receipts
//! kept) and access-log rows.
//!
//! Every write is durable before the page that reports it is sent: a
//! referral is acknowledged (reference, receipt) only after its transaction
//! committed, and a child's record is shown only after the read was written
//! to the access log. One disk flush per request would cap the service at a
//! few hundred requests a second, so each kind of write has one thread that
//! takes whatever requests are waiting, writes them in one transaction, and
//! answers each with its own outcome. Under light load a batch is one
//! request and nothing waits; under heavy load many requests share a flush.
//!
//! Events go through the store's own [`GroupCommit`] (the one append path);
//! access-log rows through a thread of the same design here, since they are
//! not events. Events of one request stay together and in order in a batch
//! (a new child's `person.recorded` before the `referral.submitted` that
//! names it), and the store runs the projection rules over the batch in
//! order, so a later event of the batch sees the earlier ones.

use crate::AppError;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;
use uuid::Uuid;
use vigil_model::EventDraft;
use vigil_store::accounts::AccessRecord;
use vigil_store::group::GroupCommit;
use vigil_store::{Appended, Batch, Store, StoreError};

/// Most access-log writes taken into one batch.
const MAX_BATCH_ACCESS: usize = 2_000;

struct SideJob {
    records: Vec<AccessRecord>,
    reply: oneshot::Sender<Result<(), AppError>>,
}
/// A write sent to the side writer, not yet known to be durable.
pub struct Pending(Option<oneshot::Receiver<Result<(), AppError>>>);

impl Pending {
    /// Waits until the write is on disk (or failed).
    pub async fn durable(self) -> Result<(), AppError> {
        match self.0 {
            None => Ok(()),
            Some(rx) => rx.await.map_err(|_| {
                AppError::Internal("the access-log writer stopped mid-write".into())
            })?,
        }
    }
}

/// The writer threads' front door.
pub struct Writers {
    events: Arc<GroupCommit>,
    side: mpsc::Sender<SideJob>,
}

/// A store error for every job in a failed batch (errors are not `Clone`).
fn shared(e: &StoreError) -> AppError {
    match e {
        StoreError::Unavailable(m) => AppError::Unavailable(m.clone()),
        other => AppError::Internal(other.to_string()),
    }
}

impl Writers {
    /// Starts the two writer threads; they end when the `Writers` is dropped.
    pub fn start(store: Arc<dyn Store>) -> Writers {
        let (atx, arx) = mpsc::channel::<SideJob>();
        let events = Arc::new(GroupCommit::new(Arc::clone(&store)));
        std::thread::Builder::new()
            .name("vigil-side-writer".into())
            .spawn(move || side_loop(store.as_ref(), arx))
            .expect("the access-log writer thread starts");
        Writers { events, side: atx }
    }

    /// Appends one request's events together, durably and all-or-nothing;
    /// each gets its receipt or the sentence saying why it was refused.
    pub async fn append(
        &self,
        drafts: Vec<EventDraft>,
    ) -> Result<Vec<Result<Appended, String>>, AppError> {
        self.append_keeping(drafts, Vec::new()).await
    }

    /// [`Writers::append`], keeping the receipts of the events named in
    /// `keep_receipts` in the same transaction, to be downloaded again.
    pub async fn append_keeping(
        &self,
        drafts: Vec<EventDraft>,
        keep_receipts: Vec<Uuid>,
    ) -> Result<Vec<Result<Appended, String>>, AppError> {
        let group = Arc::clone(&self.events);
        let mut batch = Batch::new();
        batch.push_unit(drafts).keep_receipts(keep_receipts);
        // `submit_batch` blocks until the shared transaction commits.
        Ok(tokio::task::spawn_blocking(move || group.submit_batch(batch)).await??)
    }

    /// Starts writing access-log rows; [`Pending::durable`] waits until
    /// they are on disk. Sending first lets a handler draw its page while
    /// the rows are written, and still send it only once they are.
    pub fn log_access(&self, records: Vec<AccessRecord>) -> Result<Pending, AppError> {
        if records.is_empty() {
            return Ok(Pending(None));
        }
        let (reply, rx) = oneshot::channel();
        self.side
            .send(SideJob { records, reply })
            .map_err(|_| AppError::Internal("the access-log writer has stopped".into()))?;
        Ok(Pending(Some(rx)))
    }
}

fn side_loop(store: &dyn Store, rx: mpsc::Receiver<SideJob>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH_ACCESS {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut access = Vec::new();
        let mut replies = Vec::with_capacity(jobs.len());
        for j in jobs {
            access.extend(j.records);
            replies.push(j.reply);
        }
        let written = store.append_access(&access);
        for reply in replies {
            let _ = reply.send(written.as_ref().map(|_| ()).map_err(shared));
        }
    }
}
