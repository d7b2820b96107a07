//! Passwords, session tokens, anti-forgery tokens and sign-in throttling.
//!
//! - Passwords are hashed with Argon2id (the `argon2` crate's defaults: 19 MiB,
//!   2 passes, 1 lane, the OWASP recommendation) and the PHC string is kept in
//!   the store's credentials table, never in the log.
//! - A session token is 32 random bytes; the browser holds it in a cookie and
//!   the store holds only its SHA-256, so a copy of the database signs nobody
//!   in. Sessions end after [`IDLE_MINUTES`] without activity and
//!   [`MAX_HOURS`] after sign-in, whichever is first.
//! - Each session has its own anti-forgery token, which every form carries
//!   and every POST must return; the sign-in form (before there is a
//!   session) uses a double-submit cookie instead.
//! - Failed sign-ins are counted per account and per address over
//!   [`WINDOW_MINUTES`]: from the [`ACCOUNT_LIMIT`]th failure for an account
//!   (or the [`ADDRESS_LIMIT`]th from one address, which many staff behind one
//!   office gateway share) sign-in waits 30 seconds, doubling with each
//!   further failure up to 15 minutes. While it waits, the password is not
//!   even checked, so guessing gains nothing.

use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Minutes without activity after which a session ends.
pub const IDLE_MINUTES: i64 = 30;
/// Hours after sign-in after which a session ends however active it is.
pub const MAX_HOURS: i64 = 12;
/// Minutes over which failed sign-ins are counted.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures for one account before sign-in must wait.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failures from one address before sign-in must wait.
pub const ADDRESS_LIMIT: u32 = 20;
/// Shortest and longest wait after too many failures.
const FIRST_WAIT_MS: i64 = 30_000;
const LONGEST_WAIT_MS: i64 = 15 * 60_000;

/// Shortest password accepted (NCSC: length, not complexity rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 200;

/// The Argon2id PHC string for a password.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut HashRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("the password could not be hashed: {e}"))
}

/// Whether `password` matches the PHC string (false for a damaged hash).
pub fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to check against when the account does not exist, so that a wrong
/// username takes as long to refuse as a wrong password.
pub fn dummy_hash() -> String {
    hash_password("not a real password: timing only").unwrap_or_default()
}

/// 32 random bytes as URL-safe base64: session and anti-forgery tokens.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What the store keeps of a session token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A temporary password to read out to someone: four groups of four
/// characters that cannot be confused with each other (`k7mq-x3tp-9vwd-h2rf`).
pub fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Checks a new password; the error is a sentence for the form.
pub fn check_new_password(password: &str, username: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Your new password must be at least {MIN_PASSWORD_CHARS} characters long. Three random words make a good one."
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Your new password must be at most {MAX_PASSWORD_CHARS} characters long."
        ));
    }
    let lower = password.to_lowercase();
    if username.chars().count() >= 3 && lower.contains(&username.to_lowercase()) {
        return Err("Your new password must not contain your username.".into());
    }
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    const COMMON: &[&str] = &[
        "password1234",
        "password12345",
        "passwordpassword",
        "123456789012",
        "qwertyuiop12",
        "qwertyuiopas",
        "iloveyou1234",
        "welcome12345",
        "changeme1234",
        "letmein12345",
    ];
    if distinct.len() < 4 || COMMON.contains(&lower.as_str()) {
        return Err(
            "Your new password is too easy to guess. Three random words make a good one.".into(),
        );
    }
    Ok(())
}

/// Until when sign-in must wait after `count` failures, the latest at
/// `last_ms`, given the limit for this kind of key.
pub fn wait_until(count: u32, last_ms: Option<i64>, limit: u32) -> Option<i64> {
    let last = last_ms?;
    if count < limit {
        return None;
    }
    let doublings = (count - limit).min(20);
    let wait = (FIRST_WAIT_MS << doublings).min(LONGEST_WAIT_MS);
    Some(last + wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery "));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        assert_ne!(token_hash(&a), token_hash(&new_token()));
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &new_token()));
        assert!(!same_secret("a", "ab"));
        let t = temporary_password();
        assert_eq!(t.len(), 19);
        check_new_password(&t, "someone").unwrap();
    }

    #[test]
    fn new_passwords_are_long_and_not_obvious() {
        assert!(check_new_password("short", "u")
            .unwrap_err()
            .contains("at least 12"));
        assert!(check_new_password("triage.01-garden-lamp", "triage.01")
            .unwrap_err()
            .contains("username"));
        assert!(check_new_password("aaaaaaaaaaaaaa", "u")
            .unwrap_err()
            .contains("easy"));
        assert!(check_new_password("Password1234", "u")
            .unwrap_err()
            .contains("easy"));
        check_new_password("purple kettle orbit", "u").unwrap();
    }

    #[test]
    fn waits_double_from_the_limit_and_stop_growing() {
        assert_eq!(wait_until(4, Some(1_000), 5), None);
        assert_eq!(wait_until(5, Some(1_000), 5), Some(31_000));
        assert_eq!(wait_until(6, Some(1_000), 5), Some(61_000));
        assert_eq!(wait_until(50, Some(1_000), 5), Some(1_000 + 15 * 60_000));
        assert_eq!(wait_until(9, None, 5), None);
    }
}
