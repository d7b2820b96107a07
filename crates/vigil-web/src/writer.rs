//! Group commit for the web service's writes: events and access-log rows.
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
//! Events of one request stay together and in order in a batch (a new
//! child's `person.recorded` before the `referral.submitted` that names it),
//! and the store runs the projection rules over the batch in order, so a
//! later event of the batch sees the earlier ones.

use crate::error::WebError;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;
use vigil_model::EventDraft;
use vigil_store::accounts::AccessRecord;
use vigil_store::{Appended, Store, StoreError};

/// Most events written in one transaction.
const MAX_BATCH_EVENTS: usize = 2_000;
/// Most access-log rows written in one transaction.
const MAX_BATCH_ACCESS: usize = 2_000;

type EventReply = oneshot::Sender<Result<Vec<Result<Appended, String>>, WebError>>;

struct EventJob {
    drafts: Vec<EventDraft>,
    reply: EventReply,
}

struct AccessJob {
    records: Vec<AccessRecord>,
    reply: oneshot::Sender<Result<(), WebError>>,
}

/// The writer threads' front door.
pub struct Writers {
    events: mpsc::Sender<EventJob>,
    access: mpsc::Sender<AccessJob>,
}

/// A store error for every job in a failed batch (errors are not `Clone`).
fn shared(e: &StoreError) -> WebError {
    match e {
        StoreError::Unavailable(m) => WebError::Unavailable(m.clone()),
        other => WebError::Internal(other.to_string()),
    }
}

impl Writers {
    /// Starts the two writer threads; they end when the last `Writers` is dropped.
    pub fn start(store: Arc<dyn Store>) -> Writers {
        let (etx, erx) = mpsc::channel::<EventJob>();
        let (atx, arx) = mpsc::channel::<AccessJob>();
        let s = Arc::clone(&store);
        std::thread::Builder::new()
            .name("vigil-event-writer".into())
            .spawn(move || event_loop(s.as_ref(), erx))
            .expect("the event writer thread starts");
        std::thread::Builder::new()
            .name("vigil-access-writer".into())
            .spawn(move || access_loop(store.as_ref(), arx))
            .expect("the access-log writer thread starts");
        Writers {
            events: etx,
            access: atx,
        }
    }

    /// Appends one request's events together, durably; each gets its receipt
    /// or the sentence saying why it was refused.
    pub async fn append(
        &self,
        drafts: Vec<EventDraft>,
    ) -> Result<Vec<Result<Appended, String>>, WebError> {
        let (reply, rx) = oneshot::channel();
        self.events
            .send(EventJob { drafts, reply })
            .map_err(|_| WebError::Internal("the event writer has stopped".into()))?;
        rx.await
            .map_err(|_| WebError::Internal("the event writer stopped mid-write".into()))?
    }

    /// Writes access-log rows durably.
    pub async fn log_access(&self, records: Vec<AccessRecord>) -> Result<(), WebError> {
        if records.is_empty() {
            return Ok(());
        }
        let (reply, rx) = oneshot::channel();
        self.access
            .send(AccessJob { records, reply })
            .map_err(|_| WebError::Internal("the access-log writer has stopped".into()))?;
        rx.await
            .map_err(|_| WebError::Internal("the access-log writer stopped mid-write".into()))?
    }
}

fn event_loop(store: &dyn Store, rx: mpsc::Receiver<EventJob>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut n = jobs[0].drafts.len();
        while n < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.drafts.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let mut sizes = Vec::with_capacity(jobs.len());
        let mut all = Vec::with_capacity(n);
        let mut replies = Vec::with_capacity(jobs.len());
        for j in jobs {
            sizes.push(j.drafts.len());
            all.extend(j.drafts);
            replies.push(j.reply);
        }
        match store.append(all) {
            Ok(outcome) => {
                let mut results = outcome.results.into_iter();
                for (size, reply) in sizes.into_iter().zip(replies) {
                    let mine: Vec<_> = results.by_ref().take(size).collect();
                    let _ = reply.send(Ok(mine));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(shared(&e)));
                }
            }
        }
    }
}

fn access_loop(store: &dyn Store, rx: mpsc::Receiver<AccessJob>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let mut n = jobs[0].records.len();
        while n < MAX_BATCH_ACCESS {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.records.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let mut all = Vec::with_capacity(n);
        let mut replies = Vec::with_capacity(jobs.len());
        for j in jobs {
            all.extend(j.records);
            replies.push(j.reply);
        }
        let r = store.append_access(&all);
        for reply in replies {
            let _ = reply.send(match &r {
                Ok(_) => Ok(()),
                Err(e) => Err(shared(e)),
            });
        }
    }
}
