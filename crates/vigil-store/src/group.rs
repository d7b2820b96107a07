//! Group commit for many concurrent writers (web requests, API calls).
//!
//! A durable commit costs an fsync (about a millisecond on this hardware), so
//! one transaction per web request caps a server near a thousand writes a
//! second and makes every request wait behind every other. [`GroupCommit`]
//! runs one writer thread: requests hand it their drafts and block; the thread
//! takes everything queued at that moment, appends it in one transaction
//! through [`Store::append_batch`] (the one append path) and hands each request its
//! own results. Under load, batches grow by themselves; when idle, a single
//! request commits at once, with no added delay.
//!
//! Acknowledgement is unchanged: a caller gets its receipt only after the
//! transaction holding its event has committed.

use crate::{Appended, Batch, Store, StoreError};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use vigil_model::EventDraft;

/// What one submission gets back: for each of its drafts, the receipt or the
/// sentence saying why it was refused.
pub type Submission = Result<Vec<Result<Appended, String>>, StoreError>;

struct Job {
    batch: Batch,
    reply: mpsc::SyncSender<Submission>,
}

/// Batches concurrent appends into shared transactions. Cheap to share
/// (`Arc<GroupCommit>`); dropping it finishes queued work and stops the thread.
pub struct GroupCommit {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// Most events committed in one transaction.
pub const DEFAULT_MAX_BATCH: usize = 2_000;

impl GroupCommit {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_max_batch(store, DEFAULT_MAX_BATCH)
    }

    pub fn with_max_batch(store: Arc<dyn Store>, max_batch: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let worker = std::thread::Builder::new()
            .name("vigil-group-commit".into())
            .spawn(move || writer_loop(store, receiver, max_batch.max(1)))
            .expect("cannot start the group-commit thread");
        GroupCommit {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
        }
    }

    /// Appends `drafts` as one all-or-nothing unit (in order, in the same
    /// transaction as each other and possibly others') and waits until that
    /// transaction has committed. Blocking: call it from a blocking thread,
    /// not an async task.
    pub fn submit(&self, drafts: Vec<EventDraft>) -> Submission {
        let mut batch = Batch::new();
        batch.push_unit(drafts);
        self.submit_batch(batch)
    }

    /// Appends a [`Batch`] (its units, its kept receipts) in a shared
    /// transaction and waits until that transaction has committed.
    pub fn submit_batch(&self, batch: Batch) -> Submission {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        {
            let guard = self.sender.lock().expect("group-commit sender poisoned");
            let sender = guard
                .as_ref()
                .ok_or_else(|| StoreError::Unavailable("the store is shutting down".into()))?;
            sender
                .send(Job { batch, reply })
                .map_err(|_| StoreError::Unavailable("the store's writer has stopped".into()))?;
        }
        answer.recv().map_err(|_| {
            StoreError::Unavailable("the store's writer stopped before answering".into())
        })?
    }

    /// Appends one draft and returns its receipt, or the reason it was refused.
    pub fn submit_one(&self, draft: EventDraft) -> Result<Result<Appended, String>, StoreError> {
        Ok(self
            .submit(vec![draft])?
            .pop()
            .expect("one result per draft"))
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        // Closing the channel ends the loop once the queue is drained.
        self.sender.lock().map(|mut s| s.take()).ok();
        if let Some(w) = self.worker.lock().ok().and_then(|mut w| w.take()) {
            let _ = w.join();
        }
    }
}

fn writer_loop(store: Arc<dyn Store>, receiver: mpsc::Receiver<Job>, max_batch: usize) {
    while let Ok(first) = receiver.recv() {
        let mut jobs = vec![first];
        let mut count = jobs[0].batch.len();
        while count < max_batch {
            match receiver.try_recv() {
                Ok(job) => {
                    count += job.batch.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let sizes: Vec<usize> = jobs.iter().map(|j| j.batch.len()).collect();
        let mut replies = Vec::with_capacity(jobs.len());
        let mut batch = Batch::new();
        for job in jobs {
            batch.extend(job.batch);
            replies.push(job.reply);
        }
        match store.append_batch(batch) {
            Ok(outcome) => {
                let mut results = outcome.results.into_iter();
                for (reply, n) in replies.into_iter().zip(sizes) {
                    let mine: Vec<_> = results.by_ref().take(n).collect();
                    // A requester that gave up is not an error for the others.
                    let _ = reply.send(Ok(mine));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(same_error(&e)));
                }
            }
        }
    }
}

/// Each waiting request gets its own copy of a batch's error, of the same kind
/// (so a web server can still answer 503 for an unavailable database).
fn same_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Database(m) => StoreError::Database(m.clone()),
        StoreError::Schema(a, b) => StoreError::Schema(a.clone(), b.clone()),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
        StoreError::Config(m) => StoreError::Config(m.clone()),
        StoreError::OtherKey(m) => StoreError::OtherKey(m.clone()),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Stale(m) => StoreError::Stale(m.clone()),
    }
}
