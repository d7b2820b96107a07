//! Accounts as the domain sees them: creating one (an event in the log,
//! then its password hash beside the log), changing its role, resetting its
//! password, disabling it; the first administrator of a new data directory;
//! and the demo accounts.
//!
//! These run on blocking threads (or the command line) and write through the
//! store's one append path directly: account changes are rare, so they do
//! not need the web service's group commit.
//!
//! Every change is made by a [`Granter`], and every function here asks the
//! access table whether that granter may make it ([`access::may_grant`] and
//! the `ManageUsers` scope): an agency's administrator changes only their
//! agency's accounts, in roles that reach no further than it. The check is
//! here rather than in the pages so that no front end can skip it.

use crate::access::{self, role_fits_agency, Action, Resource, Subject};
use crate::auth;
use crate::queue::system_actor;
use crate::sentence;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use vigil_model::codes::{AgencyId, AgencyKind, Role};
use vigil_model::payload::{
    check_username, user_id_for, AgencyRegistered, UserDisabled, UserPasswordReset, UserRegistered,
    UserRoleChanged,
};
use vigil_model::state::{AgencyState, UserState};
use vigil_model::{Actor, EntityKind, EventPayload, OccurredAt};
use vigil_store::accounts::Credential;
use vigil_store::{Store, StoreError};

/// Why an account change was not made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The request breaks a rule; the sentence is for the person who asked.
    #[error("{0}")]
    Refused(String),
    /// The access table does not allow this granter to make the change.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(msg: impl Into<String>) -> AccountError {
    AccountError::Refused(msg.into())
}

/// Who makes an account change: the event's actor, and what the access
/// table allows them.
#[derive(Clone, Debug)]
pub struct Granter<'a> {
    actor: Actor,
    agency: AgencyId,
    /// `None`: whoever runs the server (`vigil user add`, `vigil demo`, the
    /// first administrator), who may grant every account role.
    access: Option<Subject<'a>>,
}

impl<'a> Granter<'a> {
    /// Whoever runs the server, recorded as Vigil itself.
    pub fn operator() -> Granter<'static> {
        let (actor, agency) = system_actor();
        Granter {
            actor,
            agency,
            access: None,
        }
    }

    /// A signed-in user, who may do what the access table gives their role.
    pub fn user(subject: Subject<'a>) -> Result<Granter<'a>, AccountError> {
        let agency = AgencyId::new(subject.agency).map_err(AccountError::Refused)?;
        Ok(Granter {
            actor: Actor {
                user: subject.username.to_owned(),
                role: subject.role,
            },
            agency,
            access: Some(subject),
        })
    }

    /// May this granter manage accounts of `agency_code`, and give (or take
    /// away) `role` at an agency of kind `kind`?
    /// Whether this granter may change an account of `agency_code` that has
    /// (or is to have) `role` at an agency of kind `kind`; for pages that
    /// offer only what will be allowed.
    pub fn may(&self, agency_code: &str, role: Role, kind: AgencyKind) -> bool {
        self.check(agency_code, role, kind).is_ok()
    }

    fn check(&self, agency_code: &str, role: Role, kind: AgencyKind) -> Result<(), AccountError> {
        let Some(who) = &self.access else {
            return match role {
                Role::System => Err(refused(
                    "The system role is Vigil's own and cannot be given to an account.",
                )),
                _ => Ok(()),
            };
        };
        access::authorise(
            who,
            Action::ManageUsers,
            Resource::Account {
                agency: agency_code,
            },
        )
        .map_err(|d| AccountError::Forbidden(d.0))?;
        access::may_grant(who, role, kind).map_err(|d| AccountError::Forbidden(d.0))
    }
}

/// Appends one event and turns a refusal into a sentence.
fn record(
    store: &dyn Store,
    by: &Granter<'_>,
    body: EventPayload,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let draft = crate::referral::prepare(&by.actor, &by.agency, OccurredAt::exact(now), body, now)
        .map_err(AccountError::Refused)?;
    let out = store.append(vec![draft])?;
    match out.results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err(msg)) => Err(refused(sentence(&msg))),
        None => Err(refused("The change was not recorded.")),
    }
}

/// The kind and code of a registered agency.
fn agency_of(store: &dyn Store, agency_id: Uuid) -> Result<(AgencyKind, String), AccountError> {
    let rec = store
        .entity(agency_id)?
        .filter(|e| e.kind == EntityKind::Agency)
        .ok_or_else(|| refused("Choose an agency."))?;
    let a = rec
        .as_kind::<AgencyState>()
        .ok_or_else(|| refused("Choose an agency."))?;
    Ok((a.kind, a.code.as_str().to_owned()))
}

/// The refusal when an account with this role at this agency could do nothing.
pub fn role_misfit(role: Role, kind: AgencyKind) -> String {
    format!(
        "The access table gives a {} at {} agency nothing to do in Vigil. Choose another role or agency.",
        role.code(),
        match kind {
            AgencyKind::Other => "an \u{2018}other\u{2019}".to_owned(),
            k => format!("a {}", k.label().to_lowercase()),
        }
    )
}

/// An existing account as the access checks need it.
struct ExistingAccount {
    role: Role,
    agency_code: String,
    agency_kind: AgencyKind,
}

fn existing(store: &dyn Store, user_id: Uuid) -> Result<ExistingAccount, AccountError> {
    let rec = store
        .entity(user_id)?
        .filter(|e| e.kind == EntityKind::User)
        .ok_or_else(|| refused("There is no such account."))?;
    let u = rec
        .as_kind::<UserState>()
        .ok_or_else(|| refused("There is no such account."))?;
    Ok(ExistingAccount {
        role: u.role,
        agency_code: u.agency.as_str().to_owned(),
        agency_kind: u.agency_kind,
    })
}

/// A new account.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Uuid,
}

/// Creates an account: `user.registered` in the log, then its password hash.
///
/// Refused when the granter may not, and when the username has ever acted in
/// the log (an import or another system's events may name actors that have
/// no account): an account given that name would inherit their records.
pub fn create_account(
    store: &dyn Store,
    by: &Granter<'_>,
    account: &NewAccount,
    password: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<Uuid, AccountError> {
    check_username(&account.username).map_err(|e| refused(sentence(&e.to_string())))?;
    let (kind, code) = agency_of(store, account.agency_id)?;
    if !role_fits_agency(account.role, kind) {
        return Err(refused(role_misfit(account.role, kind)));
    }
    by.check(&code, account.role, kind)?;
    let user_id = user_id_for(&account.username);
    if store.entity(user_id)?.is_none() {
        if let Some(at) = vigil_store::actors::first_act_of(store, &account.username)? {
            return Err(refused(format!(
                "The username \u{2018}{}\u{2019} has been used in the record before (first in entry {at}), so it cannot be given to a new account: choose another.",
                account.username
            )));
        }
    }
    record(
        store,
        by,
        EventPayload::UserRegistered(UserRegistered {
            user_id,
            username: account.username.clone(),
            name: account.name.clone(),
            role: account.role,
            agency_id: account.agency_id,
        }),
        now,
    )?;
    set_password(
        store,
        user_id,
        &account.username,
        password,
        must_change,
        now,
    )?;
    Ok(user_id)
}

/// Stores a password hash for an account.
pub fn set_password(
    store: &dyn Store,
    user_id: Uuid,
    username: &str,
    password: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let phc = auth::hash_password(password).map_err(|e| AccountError::Refused(e.to_string()))?;
    store.put_credential(&Credential {
        user_id,
        username: username.to_owned(),
        phc,
        must_change,
        set_at_ms: now.timestamp_millis(),
    })?;
    Ok(())
}

/// Gives an account another role, with a reason. The granter must be
/// allowed both the role the account has and the one it is given.
pub fn change_role(
    store: &dyn Store,
    by: &Granter<'_>,
    user_id: Uuid,
    role: Role,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let old = existing(store, user_id)?;
    let kind = old.agency_kind;
    if !role_fits_agency(role, kind) {
        return Err(refused(role_misfit(role, kind)));
    }
    by.check(&old.agency_code, old.role, kind)?;
    by.check(&old.agency_code, role, kind)?;
    record(
        store,
        by,
        EventPayload::UserRoleChanged(UserRoleChanged {
            user_id,
            role,
            reason: reason.to_owned(),
        }),
        now,
    )
}

/// Issues a temporary password (recorded in the log, without the password)
/// and ends the account's sessions. Returns the password to hand over.
/// The granter must be allowed to grant the account's role: resetting a
/// password is how one would sign in as it.
pub fn reset_password(
    store: &dyn Store,
    by: &Granter<'_>,
    user_id: Uuid,
    username: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<String, AccountError> {
    let old = existing(store, user_id)?;
    by.check(&old.agency_code, old.role, old.agency_kind)?;
    record(
        store,
        by,
        EventPayload::UserPasswordReset(UserPasswordReset {
            user_id,
            reason: reason.to_owned(),
        }),
        now,
    )?;
    let password = auth::temporary_password();
    set_password(store, user_id, username, &password, true, now)?;
    store.delete_sessions_of(user_id)?;
    Ok(password)
}

/// Disables an account (final) and ends its sessions.
pub fn disable(
    store: &dyn Store,
    by: &Granter<'_>,
    user_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let old = existing(store, user_id)?;
    by.check(&old.agency_code, old.role, old.agency_kind)?;
    record(
        store,
        by,
        EventPayload::UserDisabled(UserDisabled {
            user_id,
            reason: reason.to_owned(),
        }),
        now,
    )?;
    store.delete_sessions_of(user_id)?;
    Ok(())
}

/// Registers an agency as Vigil (used to set up a new data directory).
pub fn register_agency(
    store: &dyn Store,
    code: &str,
    name: &str,
    kind: AgencyKind,
    now: DateTime<Utc>,
) -> Result<Uuid, AccountError> {
    let code = AgencyId::new(code).map_err(AccountError::Refused)?;
    let agency_id = Uuid::now_v7();
    record(
        store,
        &Granter::operator(),
        EventPayload::AgencyRegistered(AgencyRegistered {
            agency_id,
            code,
            name: name.to_owned(),
            kind,
        }),
        now,
    )?;
    Ok(agency_id)
}

/// The first administrator of a new data directory.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    pub username: String,
    /// One-time password: it must be changed at first sign-in.
    pub password: String,
    pub agency_code: String,
}

/// Agency code of the administrators' own agency in a new data directory.
pub const ADMIN_AGENCY_CODE: &str = "vigil-administration";

/// The agency partnership administrators belong to
/// ([`ADMIN_AGENCY_CODE`]), registered the first time it is needed.
pub fn administration_agency(store: &dyn Store, now: DateTime<Utc>) -> Result<Uuid, AccountError> {
    let found = store
        .entities_changed_since(&[EntityKind::Agency], None)?
        .into_iter()
        .find(|a| {
            a.as_kind::<AgencyState>()
                .is_some_and(|s| s.code.as_str() == ADMIN_AGENCY_CODE)
        });
    match found {
        Some(a) => Ok(a.id),
        None => register_agency(
            store,
            ADMIN_AGENCY_CODE,
            "Vigil administration",
            AgencyKind::Other,
            now,
        ),
    }
}

/// Creates the first administrator (and the agency administrators belong
/// to) in a store that has no accounts yet.
pub fn bootstrap_admin(store: &dyn Store, username: &str) -> Result<Bootstrap, AccountError> {
    if !store
        .entities_changed_since(&[EntityKind::User], None)?
        .is_empty()
    {
        return Err(refused(
            "This data directory already has accounts; create more from the Accounts page.",
        ));
    }
    let now = Utc::now();
    let agency_id = administration_agency(store, now)?;
    let password = auth::temporary_password();
    create_account(
        store,
        &Granter::operator(),
        &NewAccount {
            username: username.to_owned(),
            name: "Vigil administrator".into(),
            role: Role::PartnershipAdministrator,
            agency_id,
        },
        &password,
        true,
        now,
    )?;
    Ok(Bootstrap {
        username: username.to_owned(),
        password,
        agency_code: ADMIN_AGENCY_CODE.into(),
    })
}

/// A demo account, for `vigil demo` to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub agency_code: String,
    pub agency_name: String,
}

/// Creates one account for every role at every registered agency where the
/// access table gives that role something to do, all with `password` (no
/// change required: these are for demonstrations with synthetic data), and
/// one partnership administrator, at the Vigil administration agency
/// (registered if need be). Usernames are `ROLE.AGENCY-CODE` (shortened to
/// fit). Accounts that exist already are left as they are and not returned.
pub fn create_demo_accounts(
    store: &dyn Store,
    password: &str,
) -> Result<Vec<DemoAccount>, AccountError> {
    let now = Utc::now();
    let granter = Granter::operator();
    administration_agency(store, now)?;
    let mut agencies: Vec<(Uuid, String, String, AgencyKind)> = store
        .entities_changed_since(&[EntityKind::Agency], None)?
        .into_iter()
        .filter_map(|e| {
            let a = e.as_kind::<AgencyState>()?;
            Some((e.id, a.code.as_str().to_owned(), a.name.clone(), a.kind))
        })
        .collect();
    agencies.sort_by(|a, b| a.1.cmp(&b.1));
    let mut out = Vec::new();
    for (id, code, name, kind) in agencies {
        for role in Role::ACCOUNT_ROLES {
            let partnership = *role == Role::PartnershipAdministrator;
            if !role_fits_agency(*role, kind) || partnership != (code == ADMIN_AGENCY_CODE) {
                continue;
            }
            let mut username = format!("{}.{}", role.code(), code);
            username.truncate(64);
            let username = username.trim_end_matches(['-', '.']).to_owned();
            if store.entity(user_id_for(&username))?.is_some() {
                continue;
            }
            create_account(
                store,
                &granter,
                &NewAccount {
                    username: username.clone(),
                    name: format!("Demo {} ({})", role.code(), name),
                    role: *role,
                    agency_id: id,
                },
                password,
                false,
                now,
            )?;
            out.push(DemoAccount {
                username,
                password: password.to_owned(),
                role: *role,
                agency_code: code.clone(),
                agency_name: name.clone(),
            });
        }
    }
    Ok(out)
}

/// The account commands as the web's administration pages call them: each
/// asks the [`Granter`], appends its event, and brings the accounts the
/// session check reads up to date.
impl crate::App {
    pub fn create_account(
        &self,
        by: &Granter<'_>,
        account: &NewAccount,
        password: &str,
    ) -> Result<Result<Uuid, AccountError>, crate::AppError> {
        let r = create_account(self.store.as_ref(), by, account, password, true, self.now());
        self.refresh_accounts()?;
        Ok(r)
    }

    pub fn change_role(
        &self,
        by: &Granter<'_>,
        user_id: Uuid,
        role: Role,
        reason: &str,
    ) -> Result<Result<(), AccountError>, crate::AppError> {
        let r = change_role(self.store.as_ref(), by, user_id, role, reason, self.now());
        self.refresh_accounts()?;
        Ok(r)
    }

    /// Returns the temporary password.
    pub fn reset_password(
        &self,
        by: &Granter<'_>,
        user_id: Uuid,
        username: &str,
        reason: &str,
    ) -> Result<Result<String, AccountError>, crate::AppError> {
        let r = reset_password(
            self.store.as_ref(),
            by,
            user_id,
            username,
            reason,
            self.now(),
        );
        self.refresh_accounts()?;
        Ok(r)
    }

    pub fn disable(
        &self,
        by: &Granter<'_>,
        user_id: Uuid,
        reason: &str,
    ) -> Result<Result<(), AccountError>, crate::AppError> {
        let r = disable(self.store.as_ref(), by, user_id, reason, self.now());
        self.refresh_accounts()?;
        Ok(r)
    }
}
