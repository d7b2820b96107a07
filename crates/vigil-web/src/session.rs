//! Cookies and sessions: who is signed in on a request.
//!
//! The [`SignedIn`] extractor reads the session cookie, looks the session up
//! by the SHA-256 of its token, ends it if it has been idle too long or is
//! too old, and reads the user's current role and agency from the log's
//! projection (so a change of role or a disabled account takes effect on
//! the next request, on every server). A request without a live session is
//! sent to the sign-in page, which brings the user back afterwards.

use crate::app::{AppState, SignedIn};
use crate::auth::{self, IDLE_MINUTES, MAX_HOURS};
use crate::error::WebError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use vigil_store::accounts::SessionRow;

/// Sessions are written back at most this often (idle expiry is approximate
/// by this much, and a busy page does not write on every request).
const TOUCH_EVERY_MS: i64 = 60_000;

/// The cookie names, with the `__Host-` prefix when cookies are secure (the
/// browser then refuses the cookie unless it is Secure, host-only and for /).
pub fn session_cookie(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        "__Host-vigil_session"
    } else {
        "vigil_session"
    }
}

pub fn login_cookie(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        "__Host-vigil_login"
    } else {
        "vigil_login"
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, and Secure when configured.
pub fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_seconds: Option<i64>,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age_seconds {
        c.push_str(&format!("; Max-Age={a}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Why there is no signed-in user: answered with a redirect to sign in.
pub enum NotSignedIn {
    SignIn {
        next: String,
        notice: Option<&'static str>,
    },
    ChangePassword,
    Error(WebError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::SignIn { next, notice } => {
                let mut to = format!("/login?next={}", urlencode(&next));
                if let Some(n) = notice {
                    to.push_str(&format!("&notice={n}"));
                }
                Redirect::to(&to).into_response()
            }
            NotSignedIn::ChangePassword => Redirect::to("/account/password").into_response(),
            NotSignedIn::Error(e) => e.into_response(),
        }
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .map(|t| t[2..].to_owned())
        .unwrap_or_default()
}

/// A path to come back to after signing in: only this site's own paths.
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && next.len() < 500
    {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_owned();
        let next = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into())
        } else {
            "/".into()
        };
        let Some(token) = cookie(&parts.headers, session_cookie(state)) else {
            return Err(NotSignedIn::SignIn { next, notice: None });
        };
        let hash = auth::token_hash(&token);
        let found = state
            .blocking(move |st| {
                let Some(s) = st.store.session(&hash)? else {
                    return Ok(Err("ended"));
                };
                let now = st.now().timestamp_millis();
                if now >= s.expires_ms || now - s.created_ms > MAX_HOURS * 3_600_000 {
                    st.store.delete_session(&hash)?;
                    return Ok(Err("ended"));
                }
                st.mirror.refresh_accounts(st.store.as_ref())?;
                let user = match st.mirror.user(s.user_id) {
                    Some(u) if u.active() => u,
                    _ => {
                        st.store.delete_session(&hash)?;
                        return Ok(Err("disabled"));
                    }
                };
                if now - s.last_seen_ms > TOUCH_EVERY_MS {
                    st.store
                        .touch_session(&hash, now, now + IDLE_MINUTES * 60_000)?;
                }
                let agency_name = st
                    .mirror
                    .agency(user.agency_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| user.agency.clone());
                Ok(Ok((s, user, agency_name)))
            })
            .await
            .map_err(NotSignedIn::Error)?;
        let (s, user, agency_name) = match found {
            Ok(x) => x,
            Err(notice) => {
                return Err(NotSignedIn::SignIn {
                    next,
                    notice: Some(notice),
                })
            }
        };
        let restricted = s.restricted;
        if restricted && !(path == "/account/password" || path == "/logout") {
            return Err(NotSignedIn::ChangePassword);
        }
        Ok(SignedIn {
            user,
            agency_name,
            csrf: s.csrf,
            token_sha256: hash,
            restricted,
        })
    }
}

/// Starts a session for a user: the cookie to set.
pub fn start(
    state: &AppState,
    user_id: uuid::Uuid,
    restricted: bool,
) -> Result<HeaderValue, WebError> {
    let token = auth::new_token();
    let now = state.now().timestamp_millis();
    state.store.insert_session(&SessionRow {
        token_sha256: auth::token_hash(&token),
        user_id,
        csrf: auth::new_token(),
        restricted,
        created_ms: now,
        last_seen_ms: now,
        expires_ms: now + IDLE_MINUTES * 60_000,
    })?;
    Ok(set_cookie(state, session_cookie(state), &token, None))
}
