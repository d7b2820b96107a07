//! Read models: the projections the pages read, kept in memory.
//!
//! The store's projection rows are the truth; this is a mirror of the kinds
//! the web pages list (agencies, users, people, referrals), with the indexes
//! the pages need (referrals awaiting a decision, referrals by submitter,
//! referrals by child). Before a page reads it, [`Mirror::refresh`] asks the
//! store for rows changed after the last log position it has seen, which is
//! one indexed query that is usually empty. Log positions are assigned in
//! commit order, so "changed after position N" never misses a row, and
//! several servers on one database each stay current the same way.
//!
//! This module is a child of [`crate::guard`]: the accessors that return
//! people and referrals are visible only there, so every read of them goes
//! through the guard's access check and access log.

use crate::AppError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use uuid::Uuid;
use vigil_model::codes::{AgencyKind, ReferralDecision, Role, Sex};
use vigil_model::dates::DateOfBirth;
use vigil_model::payload::{EscalationLevel, Referrer};
use vigil_model::projection::EntityRecord;
use vigil_model::{EntityKind, PersonName};
use vigil_store::Store;

/// Who did something and when Vigil received it (the projections' `stamp`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub by: String,
    pub agency: String,
    pub event_id: Uuid,
    /// For imported history: when the source system recorded it
    /// ([`vigil_model::state::Stamp::source_at`]).
    #[serde(default)]
    pub source_at: Option<DateTime<Utc>>,
}

impl Stamp {
    /// When it was first recorded anywhere (the source system's time for
    /// imported history): what deadlines run from and what "received" says.
    pub fn first_recorded(&self) -> DateTime<Utc> {
        self.source_at.unwrap_or(self.at)
    }

    /// The account id of whoever did it. Usernames are never reused (an
    /// account cannot take a name the log has seen), so this names one
    /// person; ownership checks it together with [`Stamp::agency`].
    pub fn user_id(&self) -> Uuid {
        vigil_model::payload::user_id_for(&self.by)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AgencyView {
    #[serde(skip)]
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: AgencyKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RoleChange {
    pub at: DateTime<Utc>,
    pub by: String,
    pub from: Role,
    pub to: Role,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UserView {
    #[serde(skip)]
    pub id: Uuid,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Uuid,
    /// The agency's code.
    pub agency: String,
    pub agency_kind: AgencyKind,
    pub status: String,
    pub registered: Stamp,
    #[serde(default)]
    pub role_changes: Vec<RoleChange>,
    #[serde(default)]
    pub password_reset: Option<Stamp>,
    #[serde(default)]
    pub disabled: Option<Stamp>,
    #[serde(default)]
    pub disable_reason: Option<String>,
}

impl UserView {
    pub fn active(&self) -> bool {
        self.status == "active"
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PersonView {
    #[serde(skip)]
    pub id: Uuid,
    pub names: Vec<PersonName>,
    #[serde(default)]
    pub date_of_birth: Option<DateOfBirth>,
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub description: Option<String>,
    pub recorded: Stamp,
}

impl PersonView {
    /// The name shown: the first recorded (or that it is not known).
    pub fn display_name(&self) -> String {
        self.names
            .first()
            .map(|n| n.display())
            .unwrap_or_else(|| vigil_model::state::NAME_NOT_KNOWN.into())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct EscalationView {
    pub at: DateTime<Utc>,
    pub level: EscalationLevel,
    pub due_by: String,
    pub working_days_overdue: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ReferralView {
    #[serde(skip)]
    pub id: Uuid,
    pub child_id: Uuid,
    #[serde(default)]
    pub referrer: Option<Referrer>,
    pub concern: String,
    #[serde(default)]
    pub what_seen: Option<String>,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub location_text: Option<String>,
    #[serde(default)]
    pub others_involved: Vec<Uuid>,
    pub immediate_danger: bool,
    #[serde(default)]
    pub police_called: Option<bool>,
    #[serde(default)]
    pub call_back_on: Option<String>,
    pub status: String,
    pub submitted: Stamp,
    #[serde(default)]
    pub decision: Option<ReferralDecision>,
    #[serde(default)]
    pub decision_reason: Option<String>,
    #[serde(default)]
    pub decided: Option<Stamp>,
    #[serde(default)]
    pub escalation: Option<EscalationLevel>,
    #[serde(default)]
    pub escalations: Vec<EscalationView>,
    #[serde(default)]
    pub information_added: Vec<AddedView>,
}

/// What the sender added to a referral later.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AddedView {
    pub information: String,
    pub added: Stamp,
}

impl ReferralView {
    pub fn awaiting_decision(&self) -> bool {
        self.status == "awaiting_decision"
    }

    /// When the decision is due: the same day for a child in immediate
    /// danger, otherwise the working-day rule (vigil-rules decides both).
    pub fn decision_due(&self, rules: &vigil_rules::DeadlineRules) -> vigil_rules::Deadline {
        rules.referral_decision_due_for(self.submitted.first_recorded(), self.immediate_danger)
    }
}

impl PersonView {
    /// A person of one birth name for tests, recorded now by "t" of agency
    /// "a", with a date of birth at the given precision.
    #[cfg(test)]
    pub(crate) fn for_test(
        id: Uuid,
        given: &str,
        family: &str,
        dob: Option<(&str, vigil_model::time::Precision)>,
    ) -> PersonView {
        PersonView {
            id,
            names: vec![PersonName::new(
                given,
                family,
                vigil_model::codes::NameKind::Birth,
            )],
            date_of_birth: dob.map(|(v, precision)| DateOfBirth {
                value: v.into(),
                precision,
            }),
            sex: None,
            description: None,
            recorded: Stamp {
                at: Utc::now(),
                by: "t".into(),
                agency: "a".into(),
                event_id: Uuid::nil(),
                source_at: None,
            },
        }
    }

    /// A person's view from their projected record.
    pub fn from_record(rec: &EntityRecord) -> Result<Self, String> {
        <Self as View>::parse(rec)
    }
}

impl ReferralView {
    /// A referral's view from its projected record.
    pub fn from_record(rec: &EntityRecord) -> Result<Self, String> {
        <Self as View>::parse(rec)
    }
}

/// What each kind's records become in memory.
trait View: Sized {
    const KIND: EntityKind;
    fn parse(rec: &EntityRecord) -> Result<Self, String>;
}

fn parse_state<T: for<'de> Deserialize<'de>>(rec: &EntityRecord) -> Result<T, String> {
    // The typed state's JSON, read back into the page's view of it; the
    // application layer replaces this with the typed state itself.
    serde_json::to_value(&rec.state)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("the stored {} {} could not be read: {e}", rec.kind, rec.id))
}

impl View for AgencyView {
    const KIND: EntityKind = EntityKind::Agency;
    fn parse(rec: &EntityRecord) -> Result<Self, String> {
        Ok(AgencyView {
            id: rec.id,
            ..parse_state(rec)?
        })
    }
}

impl View for UserView {
    const KIND: EntityKind = EntityKind::User;
    fn parse(rec: &EntityRecord) -> Result<Self, String> {
        Ok(UserView {
            id: rec.id,
            ..parse_state(rec)?
        })
    }
}

impl View for PersonView {
    const KIND: EntityKind = EntityKind::Person;
    fn parse(rec: &EntityRecord) -> Result<Self, String> {
        Ok(PersonView {
            id: rec.id,
            ..parse_state(rec)?
        })
    }
}

impl View for ReferralView {
    const KIND: EntityKind = EntityKind::Referral;
    fn parse(rec: &EntityRecord) -> Result<Self, String> {
        Ok(ReferralView {
            id: rec.id,
            ..parse_state(rec)?
        })
    }
}

/// One kind's records, with the last log position reflected.
struct Table<T> {
    last: Option<u64>,
    rows: HashMap<Uuid, Arc<T>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            last: None,
            rows: HashMap::new(),
        }
    }
}

/// The in-memory mirror of the projections the pages read.
pub struct Mirror {
    agencies: RwLock<Table<AgencyView>>,
    users: RwLock<Table<UserView>>,
    users_by_name: RwLock<HashMap<String, Uuid>>,
    /// Only the referrals awaiting a decision: bounded by the work waiting,
    /// not by the log (the queue and the overdue count on every page).
    awaiting: RwLock<Table<ReferralView>>,
    /// Refreshes run one at a time: see [`Mirror::refresh_all`].
    refreshes_begun: AtomicU64,
    refreshed: Mutex<Refreshed>,
}

/// Where the last refresh left the mirror (held under its lock).
#[derive(Default)]
struct Refreshed {
    /// The number of the last refresh that finished (0: none yet).
    number: u64,
    /// The highest log position of any change applied; the next refresh
    /// asks for changes after it.
    upto: Option<u64>,
}

impl Default for Mirror {
    fn default() -> Self {
        Mirror {
            agencies: RwLock::default(),
            users: RwLock::default(),
            users_by_name: RwLock::default(),
            awaiting: RwLock::default(),
            refreshes_begun: AtomicU64::new(0),
            refreshed: Mutex::default(),
        }
    }
}

/// The kinds mirrored, asked for together. People and decided referrals
/// are not: they are read from the store when a page needs them.
const MIRRORED: [EntityKind; 3] = [AgencyView::KIND, UserView::KIND, ReferralView::KIND];

fn poisoned() -> AppError {
    AppError::Internal("a read model lock was poisoned by an earlier failure".into())
}

impl Mirror {
    /// Applies the changed records of the table's kind (oldest change first).
    fn refresh_table<T: View>(
        &self,
        changed: &[EntityRecord],
        table: &RwLock<Table<T>>,
        mut on_row: impl FnMut(&T, Option<&T>),
    ) -> Result<(), AppError> {
        let mut mine = changed.iter().filter(|r| r.kind == T::KIND).peekable();
        if mine.peek().is_none() {
            return Ok(());
        }
        let mut t = table.write().map_err(|_| poisoned())?;
        for rec in mine {
            if t.last.is_some_and(|l| rec.updated_index <= l) {
                continue; // already applied
            }
            let v = T::parse(rec).map_err(AppError::Internal)?;
            let old = t.rows.get(&rec.id).cloned();
            on_row(&v, old.as_deref());
            t.rows.insert(rec.id, Arc::new(v));
            t.last = Some(rec.updated_index);
        }
        Ok(())
    }

    /// Brings agencies and users up to date.
    pub fn refresh_accounts(&self, store: &dyn Store) -> Result<(), AppError> {
        self.refresh_all(store)
    }

    fn apply_accounts(&self, changed: &[EntityRecord]) -> Result<(), AppError> {
        self.refresh_table(changed, &self.agencies, |_, _| {})?;
        let mut names = Vec::new();
        self.refresh_table(changed, &self.users, |u: &UserView, _| {
            names.push((u.username.clone(), u.id))
        })?;
        if !names.is_empty() {
            self.users_by_name
                .write()
                .map_err(|_| poisoned())?
                .extend(names);
        }
        Ok(())
    }

    /// Brings referrals up to date.
    pub fn refresh_referrals(&self, store: &dyn Store) -> Result<(), AppError> {
        self.refresh_all(store)
    }

    /// Keeps the referrals awaiting a decision; a decided one leaves.
    fn apply_referrals(&self, changed: &[EntityRecord]) -> Result<(), AppError> {
        let mut mine = changed
            .iter()
            .filter(|r| r.kind == ReferralView::KIND)
            .peekable();
        if mine.peek().is_none() {
            return Ok(());
        }
        let mut t = self.awaiting.write().map_err(|_| poisoned())?;
        for rec in mine {
            if t.last.is_some_and(|l| rec.updated_index <= l) {
                continue; // already applied
            }
            let v = ReferralView::parse(rec).map_err(AppError::Internal)?;
            if v.awaiting_decision() {
                t.rows.insert(rec.id, Arc::new(v));
            } else {
                t.rows.remove(&rec.id);
            }
            t.last = Some(rec.updated_index);
        }
        Ok(())
    }

    /// Brings everything up to date: one indexed query for every kind the
    /// pages read, changed after the last change seen (usually nothing).
    ///
    /// A page needs every change committed before its request arrived, and
    /// nothing more. So when a hundred requests arrive together they need not
    /// ask the database a hundred times: refreshes run one at a time, and a
    /// request that finds one already finished that *began after it arrived*
    /// uses that one. Refresh numbers are taken in order, so "began after I
    /// arrived" is "numbered above the count I read on arrival". Under load
    /// this turns one refresh per request into about two per database round
    /// trip, without ever showing a page older than its request.
    pub fn refresh_all(&self, store: &dyn Store) -> Result<(), AppError> {
        let arrived_after = self.refreshes_begun.load(Ordering::Acquire);
        let mut last = self.refreshed.lock().map_err(|_| poisoned())?;
        if last.number > arrived_after {
            return Ok(());
        }
        let this = self.refreshes_begun.fetch_add(1, Ordering::AcqRel) + 1;
        if let Some(highest) = self.refresh_now(store, last.upto)? {
            last.upto = Some(highest);
        }
        last.number = this;
        Ok(())
    }

    /// Applies the changes after `upto`; the highest position applied.
    fn refresh_now(&self, store: &dyn Store, upto: Option<u64>) -> Result<Option<u64>, AppError> {
        let changed = store.entities_changed_since(&MIRRORED, upto)?;
        // Entries commit in log order, so every change at or below the
        // highest position returned has been returned too.
        let Some(highest) = changed.iter().map(|r| r.updated_index).max() else {
            return Ok(None);
        };
        self.apply_accounts(&changed)?;
        self.apply_referrals(&changed)?;
        Ok(Some(highest))
    }

    pub fn agency(&self, id: Uuid) -> Option<Arc<AgencyView>> {
        self.agencies.read().ok()?.rows.get(&id).cloned()
    }

    pub fn agency_by_code(&self, code: &str) -> Option<Arc<AgencyView>> {
        self.agencies
            .read()
            .ok()?
            .rows
            .values()
            .find(|a| a.code == code)
            .cloned()
    }

    /// Every agency, by name.
    pub fn agencies(&self) -> Vec<Arc<AgencyView>> {
        let mut v: Vec<_> = self
            .agencies
            .read()
            .map(|t| t.rows.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a: &Arc<AgencyView>, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
        v
    }

    pub fn user(&self, id: Uuid) -> Option<Arc<UserView>> {
        self.users.read().ok()?.rows.get(&id).cloned()
    }

    pub fn user_by_name(&self, username: &str) -> Option<Arc<UserView>> {
        let id = *self.users_by_name.read().ok()?.get(username)?;
        self.user(id)
    }

    /// Every account, by username.
    pub fn users(&self) -> Vec<Arc<UserView>> {
        let mut v: Vec<_> = self
            .users
            .read()
            .map(|t| t.rows.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a: &Arc<UserView>, b| a.username.cmp(&b.username));
        v
    }

    /// Every referral awaiting a decision (unordered).
    pub(in crate::guard) fn awaiting_decision(&self) -> Vec<Arc<ReferralView>> {
        self.awaiting
            .read()
            .map(|t| t.rows.values().cloned().collect())
            .unwrap_or_default()
    }
}
