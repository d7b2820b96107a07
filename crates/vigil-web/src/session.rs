//! Cookies and sessions: who is signed in on a request.
//!
//! The [`SignedIn`] extractor reads the session cookie, looks the session up
//! by the SHA-256 of its token, refuses it if it has been idle too long or is
//! too old (the row stays, unusable, until the background purge, so that a
//! form sent on it is kept for its account: [`crate::held`]), and reads the user's current role and agency from the log's
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
///
/// Browsers and URL parsers are lenient in ways that turn a harmless-looking
/// path into another site: they drop tabs and newlines (`/\t/evil.example`
/// becomes `//evil.example`), read `\` as `/`, and some decode `%2F`. So a
/// path is followed only if it is printable ASCII without backslashes and,
/// after percent-decoding (repeatedly, for double encoding), still has no
/// control characters, backslashes or non-ASCII bytes and does not begin
/// with `//` (which would name a host). Anything else sends the user home.
pub fn safe_next(next: &str) -> String {
    if is_own_path(next) {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Longest `next` followed (the site's own addresses are far shorter).
const MAX_NEXT_BYTES: usize = 500;

fn is_own_path(next: &str) -> bool {
    let plain = |b: &[u8], space: bool| {
        b.iter()
            .all(|c| (0x21..=0x7e).contains(c) && *c != b'\\' || (space && *c == b' '))
    };
    if next.len() >= MAX_NEXT_BYTES || !next.starts_with('/') || !plain(next.as_bytes(), false) {
        return false;
    }
    let mut text = next.as_bytes().to_vec();
    for _ in 0..3 {
        if !text.contains(&b'%') {
            break;
        }
        match percent_decode(&text) {
            Some(d) if plain(&d, true) => text = d,
            _ => return false,
        }
    }
    let path = text
        .split(|c| *c == b'?' || *c == b'#')
        .next()
        .unwrap_or(&[]);
    !text.contains(&b'%') && path.starts_with(b"/") && !path.starts_with(b"//")
}

/// `%XX` decoded once; None if a `%` is not followed by two hex digits.
fn percent_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out)
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
                let Some(s) = st.accounts().session(&hash)? else {
                    return Ok(Err("ended"));
                };
                let now = st.now().timestamp_millis();
                if has_ended(&s, now) {
                    // Kept (unusable) until purged, so a form sent on it can
                    // still be held for its account ([`crate::held`]).
                    return Ok(Err("ended"));
                }
                st.refresh_accounts()?;
                let user = match st.user(s.user_id) {
                    Some(u) if u.active() => u,
                    _ => {
                        st.accounts().delete_session(&hash)?;
                        return Ok(Err("disabled"));
                    }
                };
                if now - s.last_seen_ms > TOUCH_EVERY_MS {
                    st.accounts()
                        .touch_session(&hash, now, now + IDLE_MINUTES * 60_000)?;
                }
                let agency_name = st
                    .app
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
            caller: vigil_app::Caller { user, agency_name },
            csrf: s.csrf,
            token_sha256: hash,
            restricted,
        })
    }
}

/// Whether a session has ended at `now_ms`: idle too long, or signed in too
/// long ago. An ended session signs nobody in.
pub fn has_ended(s: &SessionRow, now_ms: i64) -> bool {
    now_ms >= s.expires_ms || now_ms - s.created_ms > MAX_HOURS * 3_600_000
}

/// Starts a session for a user: the cookie to set, and the token's stored hash.
pub fn start(
    state: &AppState,
    user_id: uuid::Uuid,
    restricted: bool,
) -> Result<(HeaderValue, [u8; 32]), WebError> {
    let token = auth::new_token();
    let now = state.now().timestamp_millis();
    let token_sha256 = auth::token_hash(&token);
    state.accounts().insert_session(&SessionRow {
        token_sha256,
        user_id,
        csrf: auth::new_token(),
        restricted,
        created_ms: now,
        last_seen_ms: now,
        expires_ms: now + IDLE_MINUTES * 60_000,
    })?;
    Ok((
        set_cookie(state, session_cookie(state), &token, None),
        token_sha256,
    ))
}
#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_origin_paths_are_followed_after_sign_in() {
        let long = format!("/{}", "a".repeat(600));
        let hostile = [
            "/\t/evil.example",
            "/%09/evil.example",
            "/\n/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "/\u{0}x",
            "/%00x",
            "/\u{7f}x",
            "/\u{85}x",
            "/\u{2028}x",
            "/\u{ff0f}\u{ff0f}evil.example",
            "/%E2%80%A8x",
            "/%ZZ",
            "/ /evil.example",
            "/x#//evil.example\\",
            long.as_str(),
            "",
        ];
        for h in hostile {
            assert_eq!(safe_next(h), "/", "{h:?} must not be followed");
        }
        for good in [
            "/",
            "/triage",
            "/referrals/mine",
            "/people/0190c3f0-0000-7000-8000-000000000001",
            "/audit?person=REF-7K3M-9Q2P&user=triage.01",
            "/audit?user=a%20b",
        ] {
            assert_eq!(safe_next(good), good, "{good:?} is this site's own page");
        }
    }
}
