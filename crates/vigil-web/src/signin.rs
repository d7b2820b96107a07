//! The one way a password a person types is checked, and the record it
//! leaves.
//!
//! [`check_password`] serves both the sign-in form and the change-password
//! form's "current password", so both are throttled alike: the attempt is
//! counted in the store *before* the password is checked
//! ([`vigil_store::accounts::AccountStore::reserve_login_attempt`]), so
//! attempts sent at once, to one server or to several sharing a database,
//! cannot all slip under the limit; the hash itself goes through the
//! process's [`crate::auth::HashGate`].
//!
//! Sign-ins, checked-and-refused sign-ins and sign-outs are written to the
//! hash-linked access log ([`record`]) with the client's address and a hash
//! of the session. Attempts refused unchecked while a wait is in force are
//! not written: a flood of them would otherwise fill a log kept for decades,
//! and the wait began with recorded failures.

use crate::app::AppState;
use crate::auth::{self, ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_MINUTES};
use crate::error::WebError;
use crate::writer::Pending;
use vigil_model::codes::Role;
use vigil_store::accounts::{AccessRecord, AttemptLimit, Credential, Reserved};

/// What checking a password came to.
pub enum Checked {
    /// The password is right: the account's failures are forgotten.
    Right(Credential),
    /// Wrong, or no such account (answered alike); counted. The account's
    /// id when it exists (for the record).
    Wrong(Option<uuid::Uuid>),
    /// Too many attempts: not checked. `account` says which limit.
    Waiting { until_ms: i64, account: bool },
}

/// Checks `password` for `username`, counted against the account and the
/// address first. Runs on a blocking thread (store calls and Argon2).
pub fn check_password(
    st: &AppState,
    username: &str,
    password: &str,
    address: &str,
) -> Result<Checked, WebError> {
    let now = st.now().timestamp_millis();
    // No username is longer than 64 characters, so a longer one typed is
    // unknown anyway: its count is kept under its first 100.
    let user_key = format!("user:{}", username.chars().take(100).collect::<String>());
    let limits = [
        AttemptLimit {
            key: user_key.clone(),
            limit: ACCOUNT_LIMIT,
        },
        AttemptLimit {
            key: format!("ip:{address}"),
            limit: ADDRESS_LIMIT,
        },
    ];
    let attempt =
        match st
            .accounts()
            .reserve_login_attempt(&limits, now, now - WINDOW_MINUTES * 60_000)?
        {
            Reserved::Admitted(a) => a,
            Reserved::Waiting { limit, until_ms } => {
                return Ok(Checked::Waiting {
                    until_ms,
                    account: limit == 0,
                })
            }
        };
    let cred = st.accounts().credential(username)?;
    let phc = cred
        .as_ref()
        .map_or(st.dummy_hash.as_str(), |c| c.phc.as_str());
    let right = match auth::verify_password(phc, password) {
        Ok(ok) => ok && cred.is_some(),
        Err(busy) => {
            // Not checked after all: a busy server must not lock accounts.
            st.accounts().forget_login_attempt(&attempt)?;
            return Err(busy.into());
        }
    };
    match cred {
        Some(c) if right => {
            // Earlier failures against the account are forgiven, and this
            // attempt was no failure. Attempts made at the same moment still
            // count, so a burst gets at most the limit of wrong guesses
            // checked even when one of its guesses is right.
            st.accounts().forget_login_attempt(&attempt)?;
            if attempt.before.first().is_some_and(|n| *n > 0) {
                st.accounts()
                    .clear_login_failures(&user_key, attempt.at_ms)?;
            }
            Ok(Checked::Right(c))
        }
        other => Ok(Checked::Wrong(other.map(|c| c.user_id))),
    }
}

/// Longest username kept from a refused sign-in, in characters.
pub const TYPED_USERNAME_CHARS: usize = 64;

/// A username as typed, fit for a permanent log: control characters (a
/// newline could fake a second entry in a text view) and backslashes
/// escaped, cut to [`TYPED_USERNAME_CHARS`].
pub fn typed_username(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(TYPED_USERNAME_CHARS) {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Who a sign-in record is about.
pub struct Account<'a> {
    pub username: &'a str,
    pub role: Option<Role>,
    pub agency: &'a str,
}

/// Starts writing a sign-in, refusal or sign-out to the access log.
pub fn record(
    st: &AppState,
    who: Account<'_>,
    action: &'static str,
    address: &str,
    session: Option<&[u8; 32]>,
) -> Result<Pending, WebError> {
    Ok(st.log_access(vec![AccessRecord {
        at: vigil_model::event::format_timestamp(&st.now()),
        user: who.username.to_owned(),
        role: who.role,
        agency: who.agency.to_owned(),
        action: action.to_owned(),
        subjects: Vec::new(),
        address: Some(address.to_owned()),
        session: session.map(auth::session_reference),
    }])?)
}

/// The action words of the three kinds of record.
pub const SIGNED_IN: &str = "signed in";
pub const REFUSED: &str = "sign-in refused";
pub const SIGNED_OUT: &str = "signed out";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_usernames_are_bounded_and_escaped() {
        assert_eq!(typed_username("pc.005"), "pc.005");
        assert_eq!(typed_username("a\nb\\c\u{7}"), "a\\nb\\\\c\\u{7}");
        assert_eq!(typed_username(&"x".repeat(500)).len(), TYPED_USERNAME_CHARS);
        assert_eq!(
            vigil_store::accounts::SIGN_IN_ACTIONS,
            [SIGNED_IN, REFUSED, SIGNED_OUT]
        );
    }
}
