//! Accounts: the list, creating one, and changing, resetting or disabling one.

use super::{page, page_with, see_other};
use crate::access::{role_fits_agency, Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::form::{sentence, CsrfForm, FieldError, FormData};
use crate::html::{
    FormView, HistoryRow, Line, NewUserPage, Opt, TemporaryPasswordPage, UserPage, UserRow,
    UsersPage,
};
use crate::readmodel::UserView;
use crate::users::{AccountError, Granter, NewAccount};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::Role;
use vigil_model::payload::check_username;
use vigil_model::text::check_name;

/// The roles this user may give at some agency they manage (the form's
/// choices; the change itself is checked again when it is made).
fn role_options(st: &AppState, who: &SignedIn) -> Vec<Opt> {
    let Ok(granter) = Granter::user(who.subject()) else {
        return Vec::new();
    };
    let agencies = st.agencies();
    Role::ACCOUNT_ROLES
        .iter()
        .filter(|r| {
            agencies
                .iter()
                .any(|a| granter.may(&a.code, **r, a.kind) && role_fits_agency(**r, a.kind))
        })
        .map(|r| Opt::new(r.code(), r.label()))
        .collect()
}

/// An account's agency, as the access table sees it.
fn account(u: &UserView) -> Resource<'_> {
    Resource::Account { agency: &u.agency }
}

pub async fn list(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    who.authorise(Action::ViewUsers, Resource::Page)?;
    let who2 = who.clone();
    let rows = st
        .blocking(move |st| {
            st.refresh_accounts()?;
            Ok(st
                .users()
                .iter()
                .filter(|u| who2.authorise(Action::ViewUsers, account(u)).is_ok())
                .map(|u| UserRow {
                    username: u.username.clone(),
                    name: u.name.clone(),
                    role: u.role.label().to_owned(),
                    agency: st
                        .agency(u.agency_id)
                        .map(|a| a.name.clone())
                        .unwrap_or_else(|| u.agency.clone()),
                    active: u.active(),
                })
                .collect::<Vec<_>>())
        })
        .await?;
    page(UsersPage {
        chrome: st.chrome(&who, "Accounts", "/admin/users"),
        rows,
        can_manage: who.may(Action::ManageUsers),
    })
}

fn new_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let agencies = st
        .agencies()
        .iter()
        .filter(|a| {
            who.authorise(Action::ManageUsers, Resource::Account { agency: &a.code })
                .is_ok()
        })
        .map(|a| {
            Opt::new(
                &a.id.to_string(),
                &format!("{} ({})", a.name, a.kind.label()),
            )
        })
        .collect();
    let chrome = st
        .chrome(who, "Create an account", "/admin/users")
        .with_errors(&errors);
    page_with(
        status,
        NewUserPage {
            chrome,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            roles: role_options(st, who),
            agencies,
        },
    )
}

pub async fn new_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
) -> Result<Response, WebError> {
    who.authorise(Action::ManageUsers, Resource::Page)?;
    st.blocking(|st| Ok(st.refresh_accounts()?)).await?;
    new_page(&st, &who, StatusCode::OK, FormData::default(), Vec::new())
}

fn account_error(e: AccountError, field: &str) -> Result<FieldError, WebError> {
    match e {
        AccountError::Refused(m) | AccountError::Forbidden(m) => Ok(FieldError::new(field, m)),
        AccountError::Store(s) => Err(s.into()),
    }
}

pub async fn create(
    State(st): State<Arc<AppState>>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    who.authorise(Action::ManageUsers, Resource::Page)?;
    let mut errors = Vec::new();
    let name = form.get("name").to_owned();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Enter the person's full name."));
    } else if let Err(e) = check_name("the name", &name) {
        errors.push(FieldError::new("name", sentence(&e.to_string())));
    }
    let username = form.get("username").to_lowercase();
    if username.is_empty() {
        errors.push(FieldError::new("username", "Enter a username."));
    } else if let Err(e) = check_username(&username) {
        errors.push(FieldError::new("username", sentence(&e.to_string())));
    }
    let agency_id = Uuid::parse_str(form.get("agency")).ok();
    if agency_id.is_none() {
        errors.push(FieldError::new(
            "agency",
            "Choose the agency they work for.",
        ));
    }
    let role = Role::parse(form.get("role"))
        .ok()
        .filter(|r| *r != Role::System);
    if role.is_none() {
        errors.push(FieldError::new("role", "Choose a role."));
    }
    if !errors.is_empty() {
        return new_page(&st, &who, StatusCode::BAD_REQUEST, form, errors);
    }
    let account = NewAccount {
        username: username.clone(),
        name: name.clone(),
        role: role.expect("checked"),
        agency_id: agency_id.expect("checked"),
    };
    let password = crate::auth::temporary_password();
    let pw = password.clone();
    let who2 = who.clone();
    let result = st
        .blocking(move |st| {
            Ok(match Granter::user(who2.subject()) {
                Ok(by) => st.create_account(&by, &account, &pw)?,
                Err(e) => Err(e),
            })
        })
        .await?;
    match result {
        Ok(_) => page(TemporaryPasswordPage {
            chrome: st.chrome(&who, "Account created", "/admin/users"),
            username,
            name,
            password,
            created: true,
        }),
        Err(e) => {
            let field = match &e {
                AccountError::Forbidden(m) if m.contains("role") => "role",
                AccountError::Forbidden(_) => "agency",
                AccountError::Refused(m) if m.contains("access table") => "role",
                AccountError::Refused(m) if m.contains("agency") => "agency",
                _ => "username",
            };
            let status = match e {
                AccountError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::BAD_REQUEST,
            };
            let err = account_error(e, field)?;
            new_page(&st, &who, status, form, vec![err])
        }
    }
}

/// An account `who` may reach for `action` (refused, like any record of
/// another agency, with the reason).
async fn find_user(
    st: &Arc<AppState>,
    who: &SignedIn,
    action: Action,
    username: String,
) -> Result<Arc<UserView>, WebError> {
    let u = st
        .blocking(move |st| {
            st.refresh_accounts()?;
            st.user_by_name(&username)
                .ok_or_else(|| WebError::NotFound("There is no account with that username.".into()))
        })
        .await?;
    who.authorise(action, account(&u))?;
    Ok(u)
}

#[derive(Deserialize, Default)]
pub struct UserQuery {
    #[serde(default)]
    done: String,
}

fn user_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    u: &UserView,
    form: FormData,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let agency = st
        .agency(u.agency_id)
        .map(|a| format!("{} ({})", a.name, a.kind.label()))
        .unwrap_or_else(|| u.agency.clone());
    let mut lines = vec![
        Line::new("Username", u.username.clone()),
        Line::new("Role", u.role.label()),
        Line::new("Agency", agency),
        Line::new("Status", if u.active() { "Active" } else { "Disabled" }),
    ];
    if let Some(r) = &u.disable_reason {
        lines.push(Line::new("Why it was disabled", r.clone()));
    }
    let mut history = vec![HistoryRow {
        when: display::datetime(u.registered.at),
        what: format!(
            "Account created as {}",
            u.role_changes
                .first()
                .map(|c| c.from)
                .unwrap_or(u.role)
                .label()
                .to_lowercase()
        ),
        who: u.registered.by.clone(),
    }];
    for c in &u.role_changes {
        history.push(HistoryRow {
            when: display::datetime(c.at),
            what: format!(
                "Role changed from {} to {}: {}",
                c.from.code(),
                c.to.code(),
                c.reason
            ),
            who: c.by.clone(),
        });
    }
    if let Some(p) = &u.password_reset {
        history.push(HistoryRow {
            when: display::datetime(p.at),
            what: "Temporary password issued (latest)".into(),
            who: p.by.clone(),
        });
    }
    if let Some(d) = &u.disabled {
        history.push(HistoryRow {
            when: display::datetime(d.at),
            what: "Account disabled".into(),
            who: d.by.clone(),
        });
    }
    let mut form = form;
    if form.get("role").is_empty() {
        form.set("role", u.role.code());
    }
    let chrome = st.chrome(who, &u.name, "/admin/users").with_errors(&errors);
    page_with(
        status,
        UserPage {
            chrome,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            username: u.username.clone(),
            name: u.name.clone(),
            lines,
            history,
            active: u.active(),
            can_manage: Granter::user(who.subject())
                .is_ok_and(|g| g.may(&u.agency, u.role, u.agency_kind)),
            is_self: who.user.id == u.id,
            roles: role_options(st, who),
            notice,
        },
    )
}

pub async fn show(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(username): Path<String>,
    Query(q): Query<UserQuery>,
) -> Result<Response, WebError> {
    who.authorise(Action::ViewUsers, Resource::Page)?;
    let u = find_user(&st, &who, Action::ViewUsers, username).await?;
    let notice = match q.done.as_str() {
        "role" => Some("The role has been changed.".to_owned()),
        "disabled" => Some("The account has been disabled and its sessions ended.".to_owned()),
        _ => None,
    };
    user_page(
        &st,
        &who,
        StatusCode::OK,
        &u,
        FormData::default(),
        Vec::new(),
        notice,
    )
}

/// What an administrator may do to an account.
enum Change {
    Role,
    Reset,
    Disable,
}

async fn change(
    st: Arc<AppState>,
    who: SignedIn,
    username: String,
    form: FormData,
    what: Change,
) -> Result<Response, WebError> {
    who.authorise(Action::ManageUsers, Resource::Page)?;
    let u = find_user(&st, &who, Action::ManageUsers, username).await?;
    if who.user.id == u.id {
        return Err(WebError::Forbidden(
            "You cannot change your own account here; ask another administrator.".into(),
        ));
    }
    if !u.active() {
        return Err(WebError::Forbidden(
            "This account is disabled; it cannot be changed.".into(),
        ));
    }
    let field = match what {
        Change::Role => "role_reason",
        Change::Reset => "reset_reason",
        Change::Disable => "disable_reason",
    };
    let reason = form.get(field).to_owned();
    let mut errors = Vec::new();
    if reason.is_empty() {
        errors.push(FieldError::new(
            field,
            "Give the reason; it is recorded in the log.",
        ));
    }
    // Disabling is final: a second, explicit step (the box ticked).
    if matches!(what, Change::Disable) && form.get("disable_confirm") != "yes" {
        errors.push(FieldError::new(
            "disable_confirm",
            "Tick the box to confirm that you mean to disable this account.",
        ));
    }
    let role = Role::parse(form.get("role"))
        .ok()
        .filter(|r| *r != Role::System);
    if matches!(what, Change::Role) && role.is_none() {
        errors.push(FieldError::new("role", "Choose a role."));
    }
    if !errors.is_empty() {
        return user_page(&st, &who, StatusCode::BAD_REQUEST, &u, form, errors, None);
    }
    let u2 = Arc::clone(&u);
    let who2 = who.clone();
    let result = st
        .blocking(move |st| {
            let r = match Granter::user(who2.subject()) {
                Err(e) => Err(e),
                Ok(by) => match what {
                    Change::Role => st
                        .change_role(&by, u2.id, role.expect("checked"), &reason)?
                        .map(|()| None),
                    Change::Reset => st
                        .reset_password(&by, u2.id, &u2.username, &reason)?
                        .map(Some),
                    Change::Disable => st.disable(&by, u2.id, &reason)?.map(|()| None),
                },
            };
            Ok(r.map(|p| (p, matches!(what, Change::Role))))
        })
        .await?;
    match result {
        Ok((Some(password), _)) => page(TemporaryPasswordPage {
            chrome: st.chrome(&who, "Password reset", "/admin/users"),
            username: u.username.clone(),
            name: u.name.clone(),
            password,
            created: false,
        }),
        Ok((None, true)) => Ok(see_other(&format!("/admin/users/{}?done=role", u.username))),
        Ok((None, false)) => Ok(see_other(&format!(
            "/admin/users/{}?done=disabled",
            u.username
        ))),
        Err(AccountError::Forbidden(m)) => Err(WebError::Forbidden(m)),
        Err(e) => {
            let err = account_error(
                e,
                if form.get("role").is_empty() {
                    field
                } else {
                    "role"
                },
            )?;
            user_page(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                &u,
                form,
                vec![err],
                None,
            )
        }
    }
}

pub async fn change_role(
    State(st): State<Arc<AppState>>,
    Path(username): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    change(st, who, username, form, Change::Role).await
}

pub async fn reset(
    State(st): State<Arc<AppState>>,
    Path(username): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    change(st, who, username, form, Change::Reset).await
}

pub async fn disable(
    State(st): State<Arc<AppState>>,
    Path(username): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    change(st, who, username, form, Change::Disable).await
}
