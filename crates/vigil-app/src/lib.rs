//! `vigil-app`: the application layer, the one way in for every front end.
//!
//! The web pages, the JSON API and the command line parse their input, call
//! one command or query of this crate, and render what it returns. Nothing
//! else reads the store (vigil-store) or builds events:
//!
//! - **commands** change the record: each validates its input, authorises
//!   the user against the one access table ([`access`]), builds the events
//!   ([`referral::prepare`] is the one constructor of an event draft) and
//!   appends them as one all-or-nothing unit through the group committer
//!   ([`writer`]); [`events::draft`] makes every event draft, for commands
//!   and imports alike; [`referral`] (submitting a concern), [`users`] (accounts:
//!   every change asks [`users::Granter`]), [`queue`] (the escalations an
//!   overdue referral calls for);
//! - **queries** read it: each takes the signed-in [`Caller`], returns only
//!   what that user may see, and has already sent the read to the access
//!   log ([`guard`]: a value carrying a child's details is an
//!   [`guard::Authorised`], which only this crate can make, and is delivered
//!   only once its access-log row is durable);
//! - [`auth`]: passwords (Argon2id behind one gate), session and anti-forgery
//!   tokens; [`reference`]: the human reference of a referral;
//!   [`display`]: dates, ages and times as pages and files say them.
//!
//! The store is synchronous; queries and commands run it off the async
//! threads ([`App::blocking`]), because the PostgreSQL client must never
//! run on them.
//!
//! Depends on vigil-model, vigil-ledger, vigil-store and vigil-rules; knows
//! nothing of HTTP or HTML.

pub mod access;
pub mod alerts;
pub mod auth;
pub mod cache;
pub mod candidates;
pub mod display;
mod error;
pub mod events;
pub mod fit;
pub mod guard;
pub mod language;
pub mod queue;
pub use vigil_model::reference;
pub mod referral;
pub mod score;
pub mod users;
pub mod writer;

pub use error::AppError;
pub use guard::links;
pub use guard::missing;
pub use guard::readmodel;
pub use guard::screening;

use access::{Action, Resource, Subject};
use chrono::{DateTime, Utc};
use readmodel::{Mirror, UserView};
use std::sync::Arc;
use vigil_model::codes::AgencyId;
use vigil_model::{Actor, EventDraft};
use vigil_rules::{DeadlineRules, EscalationPolicy};
use vigil_store::{Appended, Store};
use writer::Writers;

/// Where "now" comes from. Real time in service; tests set it to cross
/// weekends and bank holidays without waiting for them.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The real clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What every command and query works with: the store, the writers in front
/// of it, the clock and the deadline rules. One per process (a server, a
/// command-line run), shared between threads.
pub struct App {
    /// Private: only this crate reads the store.
    store: Arc<dyn Store>,
    clock: Clock,
    mirror: Mirror,
    writers: Writers,
    /// What children's pages draw from their whole chronology, bounded
    /// (see [`guard::record`]).
    summaries: cache::Bounded<guard::record::SummaryKey, guard::record::Summary>,
    /// The matching model in use (replaced whole by [`App::use_scorer`]).
    scorer: std::sync::RwLock<Arc<score::Scorer>>,
    /// The language report's running tally (counts only).
    language: language::Tally,
    pub rules: DeadlineRules,
    pub policy: EscalationPolicy,
    /// The alert rules and where in the log they have read to.
    alert_runner: alerts::Shared,
}

impl App {
    /// The application over a store, with the standard deadline rules.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> App {
        App {
            writers: Writers::start(Arc::clone(&store)),
            store,
            clock,
            mirror: Mirror::default(),
            summaries: cache::Bounded::new(
                guard::record::SUMMARY_ENTRIES,
                guard::record::SUMMARY_BYTES,
            ),
            scorer: std::sync::RwLock::new(Arc::new(score::Scorer::interim())),
            language: language::Tally::default(),
            rules: DeadlineRules::standard().clone(),
            policy: EscalationPolicy::default(),
            alert_runner: std::sync::Mutex::new(alerts::Runner::new(
                vigil_rules::alerts::RuleFile::defaults(),
            )),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Scores pairs of person records with this model from now on (the
    /// fitted model `vigil serve` loads, or one a fit just made).
    pub fn use_scorer(&self, scorer: Arc<score::Scorer>) {
        // A poisoned lock only means a writer panicked mid-swap of an Arc:
        // the value inside is whole either way.
        *self.scorer.write().unwrap_or_else(|e| e.into_inner()) = scorer;
    }

    /// The matching model in use now.
    pub fn scorer(&self) -> Arc<score::Scorer> {
        Arc::clone(&self.scorer.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// How full the cache of children's page summaries is, and its hits.
    pub fn summary_cache_stats(&self) -> cache::CacheStats {
        self.summaries.stats()
    }

    /// The store, for the accounts and sessions code of this crate's
    /// front ends that has not moved here yet (sign-in, sessions). Nothing
    /// person-level is reachable through it without the guard's log.
    #[doc(hidden)]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Runs blocking store work off the async threads (the PostgreSQL
    /// client must never run on them).
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&app)).await?
    }

    /// Appends one request's events durably (group-committed with others).
    pub async fn append(
        &self,
        drafts: Vec<EventDraft>,
    ) -> Result<Vec<Result<Appended, String>>, AppError> {
        self.writers.append(drafts).await
    }

    /// [`App::append`], keeping the receipts of the events named in
    /// `keep_receipts` with them (a referral's, downloadable again).
    pub async fn append_keeping(
        &self,
        drafts: Vec<EventDraft>,
        keep_receipts: Vec<uuid::Uuid>,
    ) -> Result<Vec<Result<Appended, String>>, AppError> {
        self.writers.append_keeping(drafts, keep_receipts).await
    }
}

/// Accounts and agencies, which are not person-level records: any signed-in
/// front end may look them up (the web's session check, menus, the
/// administration pages apply the access table themselves).
impl App {
    /// Brings accounts and agencies up to date with the log.
    pub fn refresh_accounts(&self) -> Result<(), AppError> {
        self.mirror.refresh_accounts(self.store.as_ref())
    }

    /// Brings the counts of referrals up to date with the log.
    pub fn refresh_referrals(&self) -> Result<(), AppError> {
        self.mirror.refresh_referrals(self.store.as_ref())
    }

    pub fn user(&self, id: uuid::Uuid) -> Option<Arc<UserView>> {
        self.mirror.user(id)
    }

    pub fn agency_by_code(&self, code: &str) -> Option<Arc<readmodel::AgencyView>> {
        self.mirror.agency_by_code(code)
    }

    /// Starts writing access-log rows that name no record (sign-ins,
    /// refusals, sign-outs); [`writer::Pending::durable`] waits for them.
    pub fn log_access(
        &self,
        records: Vec<vigil_store::accounts::AccessRecord>,
    ) -> Result<writer::Pending, AppError> {
        self.writers.log_access(records)
    }

    pub fn user_by_name(&self, username: &str) -> Option<Arc<UserView>> {
        self.mirror.user_by_name(username)
    }

    pub fn users(&self) -> Vec<Arc<UserView>> {
        self.mirror.users()
    }

    pub fn agency(&self, id: uuid::Uuid) -> Option<Arc<readmodel::AgencyView>> {
        self.mirror.agency(id)
    }

    pub fn agencies(&self) -> Vec<Arc<readmodel::AgencyView>> {
        self.mirror.agencies()
    }

    /// Credentials, sessions, sign-in attempts, kept receipts and the access
    /// log: the tables beside the log that sign-in, sessions and the audit
    /// page need. Not the event log or the projections (person-level
    /// records are reached only through [`guard`]).
    pub fn accounts(&self) -> &dyn vigil_store::accounts::AccountStore {
        self.store.as_ref()
    }

    /// The public key that verifies this log's signed tree heads.
    pub fn log_key(&self) -> vigil_ledger::LogKey {
        self.store.log_key()
    }
}

impl App {
    /// Anchors the access log in the ledger: records `access_log.checkpointed`
    /// with its current length and last hash, if it has grown since the last
    /// anchor. Afterwards, cutting rows off the end of the access log is found
    /// by `vigil verify` like any other change. Returns the rows anchored.
    pub async fn checkpoint_access_log(self: &Arc<Self>) -> Result<Option<u64>, AppError> {
        let st = self;
        use vigil_model::payload::{access_log_id, AccessLogCheckpointed};
        let draft = st
            .blocking(|st| {
                let Some((seq, hash)) = vigil_store::accounts::access_head(st.store.as_ref())?
                else {
                    return Ok(None);
                };
                let rows = seq + 1;
                let anchored = st
                    .store
                    .entity(access_log_id())?
                    .and_then(|e| {
                        e.as_kind::<vigil_model::state::AccessLogState>()
                            .map(|a| a.rows)
                    })
                    .unwrap_or(0);
                if rows <= anchored {
                    return Ok(None);
                }
                let (actor, agency) = crate::queue::system_actor();
                let now = st.now();
                let body =
                    vigil_model::EventPayload::AccessLogCheckpointed(AccessLogCheckpointed {
                        rows,
                        head_sha256: hex::encode(hash),
                    });
                crate::referral::prepare(
                    &actor,
                    &agency,
                    vigil_model::OccurredAt::exact(now),
                    body,
                    now,
                )
                .map(|d| Some((rows, d)))
                .map_err(AppError::Internal)
            })
            .await?;
        let Some((rows, draft)) = draft else {
            return Ok(None);
        };
        match st.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Some(rows)),
            // Another server anchored as far or further first.
            Some(Err(_)) | None => Ok(None),
        }
    }
}

/// The user a command or query is for: their account as the log records it
/// and their agency's name. Front ends make one from a session (the web) or
/// an operator's account (the command line).
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: Arc<UserView>,
    pub agency_name: String,
}

impl Caller {
    pub fn subject(&self) -> Subject<'_> {
        Subject {
            user_id: self.user.id,
            username: &self.user.username,
            role: self.user.role,
            agency: &self.user.agency,
            agency_kind: self.user.agency_kind,
        }
    }

    /// May this user do `action` on `resource`? Refusal says why.
    pub fn authorise(&self, action: Action, resource: Resource<'_>) -> Result<(), AppError> {
        access::authorise(&self.subject(), action, resource).map_err(|d| AppError::Forbidden(d.0))
    }

    /// Whether the user may do `action` on some records (for links and menus).
    pub fn may(&self, action: Action) -> bool {
        access::scope_of(self.user.role, self.user.agency_kind, action).is_some()
    }

    /// The envelope actor and agency of events this user records.
    pub fn actor(&self) -> Result<(Actor, AgencyId), AppError> {
        let agency = AgencyId::new(&self.user.agency).map_err(AppError::Internal)?;
        Ok((
            Actor {
                user: self.user.username.clone(),
                role: self.user.role,
            },
            agency,
        ))
    }
}

/// The sentence of a model error as a person is shown it: with a capital
/// letter and a full stop.
pub fn sentence(msg: &str) -> String {
    let mut s = String::with_capacity(msg.len() + 1);
    let mut chars = msg.chars();
    if let Some(c) = chars.next() {
        s.extend(c.to_uppercase());
        s.push_str(chars.as_str());
    }
    if !s.ends_with(['.', '?', '!']) {
        s.push('.');
    }
    s
}
