//! Signing in and out, and choosing a password.

use super::{page, page_with, read_form, see_other};
use crate::app::{AppState, SignedIn};
use crate::auth::{self, PasswordOwner};
use crate::display;
use crate::error::WebError;
use crate::form::{CsrfForm, FieldError, FormData};
use crate::html::{Chrome, FormView, LoginPage, PasswordPage};
use crate::session::{self, cookie, login_cookie, safe_next, session_cookie, set_cookie};
use crate::signin::{self, Checked};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use vigil_model::codes::Role;
use vigil_store::accounts::Credential;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

fn notice_words(code: &str) -> Option<String> {
    Some(
        match code {
            "ended" => "Your session has ended. Sign in again to carry on.",
            "disabled" => {
                "Your account has been disabled. Ask your Vigil administrator if you need access."
            }
            "signed_out" => "You have signed out.",
            "kept" => {
                "Your session ended before your referral was sent. Nothing you typed is lost: sign in again and it will be there for you to send."
            }
            _ => return None,
        }
        .to_owned(),
    )
}

fn login_page(
    st: &AppState,
    status: StatusCode,
    form: FormView,
    notice: Option<String>,
    next: &str,
) -> Result<Response, WebError> {
    let nonce = auth::new_token();
    let chrome = Chrome::public("Sign in").with_errors(&form.errors);
    let mut r = page_with(
        status,
        LoginPage {
            chrome,
            form,
            nonce: nonce.clone(),
            notice,
            next: safe_next(next),
        },
    )?;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(st, login_cookie(st), &nonce, Some(3600)),
    );
    Ok(r)
}

pub async fn login_form(
    State(st): State<Arc<AppState>>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    login_page(
        &st,
        StatusCode::OK,
        FormView::default(),
        notice_words(&q.notice),
        &q.next,
    )
}

/// What a sign-in attempt came to.
enum Outcome {
    SignedIn(axum::http::HeaderValue, bool),
    Wrong,
    Locked(i64, bool),
    Disabled,
}

/// The sentence for a wait after too many attempts.
fn locked_words(until: i64, account: bool) -> String {
    let when =
        display::time_of_day(chrono::DateTime::from_timestamp_millis(until).unwrap_or_default());
    if account {
        format!("There have been too many failed sign-ins to this account. Try again after {when}, or ask your administrator to reset your password.")
    } else {
        format!(
            "There have been too many failed sign-ins from your network. Try again after {when}."
        )
    }
}

/// Who a sign-in record names: the account if it exists, else the name as typed.
fn account_of(
    st: &AppState,
    id: Option<uuid::Uuid>,
    typed: &str,
) -> (String, Option<Role>, String) {
    match id.and_then(|id| st.user(id)) {
        Some(u) => (u.username.clone(), Some(u.role), u.agency.clone()),
        None => (signin::typed_username(typed), None, String::new()),
    }
}

/// The address a request came from, for throttling.
fn client_address(st: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    if st.config.trust_forwarded_for {
        if let Some(last) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
        {
            return last.trim().to_owned();
        }
    }
    peer.ip().to_string()
}

pub async fn login(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, WebError> {
    let form = read_form(body)?;
    let next = safe_next(form.get("next"));
    let username = form.get("username").to_lowercase();
    let password = form.raw("password").to_owned();
    let mut shown = FormData::default();
    shown.set("username", form.get("username"));
    let fail = |errors: Vec<FieldError>, status| {
        login_page(
            &st,
            status,
            FormView::new(shown.clone(), errors),
            None,
            &next,
        )
    };
    let nonce = form.raw("nonce");
    let nonce_ok = auth::is_token(nonce)
        && cookie(&headers, login_cookie(&st)).is_some_and(|c| auth::same_secret(&c, nonce));
    if !nonce_ok {
        return fail(
            vec![FieldError::new(
                "username",
                "The sign-in form had expired. Sign in again.",
            )],
            StatusCode::FORBIDDEN,
        );
    }
    let mut errors = Vec::new();
    if username.is_empty() {
        errors.push(FieldError::new("username", "Enter your username."));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    }
    if !errors.is_empty() {
        return fail(errors, StatusCode::BAD_REQUEST);
    }
    let address = client_address(&st, &headers, peer);
    let old = cookie(&headers, session_cookie(&st));
    let outcome = st
        .blocking(move |st| {
            let cred = match signin::check_password(st, &username, &password, &address)? {
                Checked::Right(c) => c,
                Checked::Wrong(id) => {
                    st.refresh_accounts()?;
                    let (user, role, agency) = account_of(st, id, &username);
                    let who = signin::Account {
                        username: &user,
                        role,
                        agency: &agency,
                    };
                    let w = signin::record(st, who, signin::REFUSED, &address, None)?;
                    return Ok((Outcome::Wrong, Some(w)));
                }
                Checked::Waiting { until_ms, account } => {
                    return Ok((Outcome::Locked(until_ms, account), None))
                }
            };
            st.refresh_accounts()?;
            let user = match st.user(cred.user_id) {
                Some(u) if u.active() => u,
                other => {
                    let (user, role, agency) = match &other {
                        Some(u) => (u.username.clone(), Some(u.role), u.agency.clone()),
                        None => (cred.username.clone(), None, String::new()),
                    };
                    let who = signin::Account {
                        username: &user,
                        role,
                        agency: &agency,
                    };
                    let w = signin::record(st, who, signin::REFUSED, &address, None)?;
                    return Ok((Outcome::Disabled, Some(w)));
                }
            };
            if let Some(old) = old {
                st.accounts().delete_session(&auth::token_hash(&old))?;
            }
            let (c, token_sha256) = session::start(st, cred.user_id, cred.must_change)?;
            let who = signin::Account {
                username: &user.username,
                role: Some(user.role),
                agency: &user.agency,
            };
            let w = signin::record(st, who, signin::SIGNED_IN, &address, Some(&token_sha256))?;
            Ok((Outcome::SignedIn(c, cred.must_change), Some(w)))
        })
        .await?;
    let (outcome, written) = outcome;
    if let Some(w) = written {
        w.durable().await?;
    }
    match outcome {
        Outcome::SignedIn(c, must_change) => {
            let mut r = see_other(if must_change {
                "/account/password"
            } else {
                &next
            });
            r.headers_mut().append(header::SET_COOKIE, c);
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&st, login_cookie(&st), "", Some(0)),
            );
            Ok(r)
        }
        Outcome::Wrong => fail(
            vec![FieldError::new(
                "username",
                "The username or password is not right.",
            )],
            StatusCode::UNAUTHORIZED,
        ),
        Outcome::Disabled => fail(
            vec![FieldError::new(
                "username",
                "This account has been disabled. Ask your Vigil administrator if you need access.",
            )],
            StatusCode::FORBIDDEN,
        ),
        Outcome::Locked(until, account) => fail(
            vec![FieldError::new("username", locked_words(until, account))],
            StatusCode::TOO_MANY_REQUESTS,
        ),
    }
}

pub async fn logout(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    CsrfForm { who, .. }: CsrfForm,
) -> Result<Response, WebError> {
    signed_out(&st, &who, client_address(&st, &headers, peer)).await?;
    let mut r = see_other("/login?notice=signed_out");
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&st, session_cookie(&st), "", Some(0)),
    );
    Ok(r)
}

/// Ends the session and records the sign-out.
async fn signed_out(st: &Arc<AppState>, who: &SignedIn, address: String) -> Result<(), WebError> {
    let hash = who.token_sha256;
    let user = Arc::clone(&who.user);
    let written = st
        .blocking(move |st| {
            st.accounts().delete_session(&hash)?;
            let who = signin::Account {
                username: &user.username,
                role: Some(user.role),
                agency: &user.agency,
            };
            signin::record(st, who, signin::SIGNED_OUT, &address, Some(&hash))
        })
        .await?;
    Ok(written.durable().await?)
}

pub async fn password_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
) -> Result<Response, WebError> {
    page(PasswordPage {
        chrome: st.chrome(&who, "Change your password", ""),
        form: FormView::default(),
        forced: who.restricted,
    })
}

pub async fn change_password(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let (current, new, confirm) = (
        form.raw("current").to_owned(),
        form.raw("new").to_owned(),
        form.raw("confirm").to_owned(),
    );
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(FieldError::new("current", "Enter your current password."));
    }
    let owner = PasswordOwner {
        username: &who.user.username,
        name: &who.user.name,
        agency_name: &who.agency_name,
        agency_code: &who.user.agency,
    };
    if let Err(e) = auth::check_new_password(&new, &owner) {
        errors.push(FieldError::new("new", e));
    } else if new != confirm {
        errors.push(FieldError::new(
            "confirm",
            "The two new passwords are not the same.",
        ));
    } else if new == current {
        errors.push(FieldError::new(
            "new",
            "Your new password must be different from the current one.",
        ));
    }
    let user = Arc::clone(&who.user);
    let old = who.token_sha256;
    let check_current = errors.iter().all(|e| e.field != "current");
    let address = client_address(&st, &headers, peer);
    let result = st
        .blocking(move |st| {
            if check_current {
                match signin::check_password(st, &user.username, &current, &address)? {
                    Checked::Right(_) => {}
                    Checked::Wrong(_) => errors.insert(
                        0,
                        FieldError::new("current", "Your current password is not right."),
                    ),
                    Checked::Waiting { until_ms, account } => {
                        let e = FieldError::new("current", locked_words(until_ms, account));
                        return Ok(Err((StatusCode::TOO_MANY_REQUESTS, vec![e])));
                    }
                }
            }
            if !errors.is_empty() {
                return Ok(Err((StatusCode::BAD_REQUEST, errors)));
            }
            let phc = auth::hash_password(&new).map_err(|e| match e {
                auth::HashError::Busy(b) => WebError::Busy(b),
                auth::HashError::Failed(m) => WebError::Internal(m),
            })?;
            st.accounts().put_credential(&Credential {
                user_id: user.id,
                username: user.username.clone(),
                phc,
                must_change: false,
                set_at_ms: st.now().timestamp_millis(),
            })?;
            // Every other session of this account ends; this one is replaced.
            st.accounts().delete_sessions_of(user.id)?;
            st.accounts().delete_session(&old)?;
            Ok(Ok(session::start(st, user.id, false)?.0))
        })
        .await?;
    match result {
        Ok(cookie) => {
            let mut r = see_other("/");
            r.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(r)
        }
        Err((status, errors)) => {
            let chrome = st
                .chrome(&who, "Change your password", "")
                .with_errors(&errors);
            page_with(
                status,
                PasswordPage {
                    chrome,
                    form: FormView::new(FormData::default(), errors),
                    forced: who.restricted,
                },
            )
        }
    }
}

/// Anything else at the root of the site.
pub async fn not_found() -> Response {
    WebError::NotFound(
        "There is no page at this address. Check it, or start again from the home page.".into(),
    )
    .into_response()
}
