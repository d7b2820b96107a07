//! Nothing typed is lost: a referral sent on a session that has ended.
//!
//! Writing a referral can take longer than a session lasts (30 minutes
//! without a request). Before this module, pressing *Send referral* then
//! went to the sign-in page and what was typed was gone. Now:
//!
//! 1. The POST of the referral form arrives with the cookie of a session
//!    that has **ended** (idle or too old; the row is kept, unusable, for
//!    [`KEEP_ENDED_SESSION_MS`] after it ends: [`crate::session`]). Its
//!    anti-forgery token must be that session's, and the `Origin` check has
//!    run as for every POST, so another site cannot plant a form.
//! 2. The form is kept server-side ([`vigil_store::accounts::HeldForm`]),
//!    bound to that session's **account**, under a fresh one-time token:
//!    32 random bytes in an `HttpOnly; SameSite=Strict` cookie, of which the
//!    store keeps only the SHA-256. The ended session is then deleted.
//! 3. The browser goes to sign in, and from there to `/referrals/resume`.
//!    Signed in as the **same account**, the form is taken (read and
//!    deleted in one statement, [`vigil_store::accounts::AccountStore::take_held_form`])
//!    and shown again, every field as typed, with a sentence saying nothing
//!    was lost; one press of *Send referral* sends it, through the same
//!    checks and the same command as any referral. Another account signed
//!    in on that browser takes nothing (the form stays for its owner until
//!    it expires), and a held form expires after [`HELD_MS`].
//!
//! Why the form is shown again rather than sent at once: sending is the
//! referrer's act, and a form that was typed half an hour ago deserves a
//! look (the session may have ended because they were called away); the
//! page also re-checks the child chosen against the new session's access.
//! The held form never enters the log (it is not a record until sent) and
//! is never shown to anyone but its author.
//!
//! The page warns before the session ends (a small script, `vigil.js`,
//! counting [`crate::auth::IDLE_MINUTES`] from the page's load; without it
//! the page works the same, and the form is still kept).

use crate::app::AppState;
use crate::error::WebError;
use crate::form::{CsrfForm, FormData};
use crate::session::{cookie, has_ended, session_cookie, set_cookie};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use vigil_store::accounts::HeldForm;

/// How long an ended session's row is kept, so that a form sent on it can
/// still be held for its account (as long as a session can last).
pub const KEEP_ENDED_SESSION_MS: i64 = crate::auth::MAX_HOURS * 3_600_000;

/// How long a held form waits for its author to sign in again.
pub const HELD_MS: i64 = crate::auth::MAX_HOURS * 3_600_000;

/// Where the author goes after signing in to get their form back.
pub const RESUME_PATH: &str = "/referrals/resume";

/// The cookie holding the one-time token of a held form.
pub fn held_cookie(state: &AppState) -> &'static str {
    if state.config.secure_cookies {
        "__Host-vigil_held"
    } else {
        "vigil_held"
    }
}

/// The referral form as sent: by a signed-in user (with their session's
/// token checked, as [`CsrfForm`]), or kept because the session had ended
/// (the response that sends the author to sign in).
pub enum ReferralPost {
    Live(CsrfForm),
    Kept(Response),
}

impl FromRequest<Arc<AppState>> for ReferralPost {
    type Rejection = Response;

    async fn from_request(req: Request, st: &Arc<AppState>) -> Result<Self, Response> {
        let ended = match cookie(req.headers(), session_cookie(st)) {
            Some(token) => {
                let hash = crate::auth::token_hash(&token);
                st.blocking(move |st| {
                    let now = st.now().timestamp_millis();
                    Ok(st
                        .accounts()
                        .session(&hash)?
                        .filter(|s| has_ended(s, now) && !s.restricted))
                })
                .await
                .map_err(IntoResponse::into_response)?
            }
            None => None,
        };
        let Some(session) = ended else {
            return CsrfForm::from_request(req, st)
                .await
                .map(ReferralPost::Live);
        };
        // The account must still be one that may sign in.
        let active = {
            let id = session.user_id;
            st.blocking(move |st| {
                st.refresh_accounts()?;
                Ok(st.user(id).is_some_and(|u| u.active()))
            })
            .await
            .map_err(IntoResponse::into_response)?
        };
        if !active {
            return CsrfForm::from_request(req, st)
                .await
                .map(ReferralPost::Live);
        }
        let form = crate::form::read(req, st)
            .await
            .map_err(IntoResponse::into_response)?;
        if !crate::auth::same_secret(form.raw("csrf"), &session.csrf) {
            return Err(WebError::Csrf.into_response());
        }
        let token = crate::auth::new_token();
        let held = HeldForm {
            token_sha256: crate::auth::token_hash(&token),
            user_id: session.user_id,
            form: form.to_urlencoded(),
            created_ms: st.now().timestamp_millis(),
            expires_ms: st.now().timestamp_millis() + HELD_MS,
        };
        let ended_token = session.token_sha256;
        st.blocking(move |st| {
            st.accounts().hold_form(&held)?;
            st.accounts().delete_session(&ended_token)?;
            Ok(())
        })
        .await
        .map_err(IntoResponse::into_response)?;
        let mut r = crate::pages::see_other(&format!(
            "/login?next={}&notice=kept",
            crate::session::urlencode(RESUME_PATH)
        ));
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(st, held_cookie(st), &token, Some(HELD_MS / 1000)),
        );
        Ok(ReferralPost::Kept(r))
    }
}

/// The held form of this signed-in account, if the browser has its token:
/// taken from the store (so it is shown once), with the cookie to clear.
pub async fn take(
    st: &Arc<AppState>,
    headers: &axum::http::HeaderMap,
    user_id: uuid::Uuid,
) -> Result<Option<FormData>, WebError> {
    let Some(token) = cookie(headers, held_cookie(st)) else {
        return Ok(None);
    };
    let hash = crate::auth::token_hash(&token);
    let text = st
        .blocking(move |st| {
            let now = st.now().timestamp_millis();
            Ok(st.accounts().take_held_form(&hash, user_id, now)?)
        })
        .await?;
    match text {
        Some(t) => Ok(Some(FormData::parse(t.as_bytes())?)),
        None => Ok(None),
    }
}

/// A `Set-Cookie` that forgets the held form's token.
pub fn clear_cookie(st: &AppState) -> axum::http::HeaderValue {
    set_cookie(st, held_cookie(st), "", Some(0))
}
