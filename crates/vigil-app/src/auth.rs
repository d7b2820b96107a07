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
//! - Password checks are counted per account and per address over
//!   [`WINDOW_MINUTES`], *before* the password is checked (see
//!   [`crate::signin`]): from the [`ACCOUNT_LIMIT`]th failure for an account
//!   (or the [`ADDRESS_LIMIT`]th from one address, which many staff behind one
//!   office gateway share) sign-in waits 30 seconds, doubling with each
//!   further failure up to 15 minutes. While it waits, the password is not
//!   even checked, so guessing gains nothing.
//! - Every Argon2id computation in the process passes through one
//!   [`HashGate`]: at most a few at once (each takes 19 MiB), the rest wait
//!   briefly and are then told the service is busy.
//! - New passwords follow the NCSC's guidance: length, not composition
//!   rules; no expiry; refused if common or guessable (zxcvbn's dictionaries
//!   of common and breached passwords, names and words, scoring below 3), or
//!   containing the username or the organisation's name or code.

use argon2::password_hash::rand_core::OsRng as HashRng;
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

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
/// Shortest password accepted (NCSC: length, not complexity rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 200;

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error("the password could not be hashed: {0}")]
    Failed(String),
}

/// Too many passwords are being checked at once: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Vigil is checking a lot of passwords at once just now. Wait a few seconds and try again.")]
pub struct Busy;

/// The Argon2id PHC string for a password (through the [`HashGate`]).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut HashRng);
    hashing()
        .run(|| {
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })?
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Whether `password` matches the PHC string (false for a damaged hash),
/// through the [`HashGate`].
pub fn verify_password(phc: &str, password: &str) -> Result<bool, Busy> {
    let Ok(h) = PasswordHash::new(phc) else {
        return Ok(false);
    };
    hashing().run(|| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to check against when the account does not exist, so that a wrong
/// username takes as long to refuse as a wrong password.
pub fn dummy_hash() -> String {
    hash_password("not a real password: timing only").unwrap_or_default()
}

/// How long a password check waits for its turn before the service says
/// it is busy: long enough for a burst of sign-ins at the start of a shift,
/// short enough that nobody stares at a blank page.
pub const HASH_WAIT: Duration = Duration::from_millis(1500);

/// The bound on Argon2id computations running at once in this process.
///
/// Each computation holds 19 MiB for about 50 ms, so 200 sign-ins at once
/// meant 3.8 GB wanted at once (the review measured 2.8 GB resident). Two
/// per core keeps every core busy and memory at a few tens of MB; the rest
/// wait in turn up to [`HASH_WAIT`], and beyond that the caller is told the
/// service is busy ([`Busy`]: 503 with Retry-After). It is one gate for the
/// whole process (sign-in, change of password, accounts created or reset
/// by administrators and the command line), because memory is the
/// process's, however many services it runs.
pub struct HashGate {
    state: Mutex<GateState>,
    freed: Condvar,
}

struct GateState {
    running: usize,
    limit: usize,
    wait: Duration,
    peak: usize,
}

/// The process's [`HashGate`]: two per core, waiting up to [`HASH_WAIT`].
pub fn hashing() -> &'static HashGate {
    static GATE: OnceLock<HashGate> = OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashGate::new(2 * cores, HASH_WAIT)
    })
}

impl HashGate {
    pub fn new(limit: usize, wait: Duration) -> HashGate {
        HashGate {
            state: Mutex::new(GateState {
                running: 0,
                limit: limit.max(1),
                wait,
                peak: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the bound and the wait (tests, benchmarks).
    pub fn set_limits(&self, limit: usize, wait: Duration) {
        let mut g = self.lock();
        g.limit = limit.max(1);
        g.wait = wait;
        drop(g);
        self.freed.notify_all();
    }

    /// The bound now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The most computations that ran at once since the last call (and resets it).
    pub fn take_peak(&self) -> usize {
        let mut g = self.lock();
        let running = g.running;
        std::mem::replace(&mut g.peak, running)
    }

    /// Runs `f` once fewer than the bound are running, waiting up to the
    /// gate's wait for a turn (blocking: callers are on blocking threads).
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T, Busy> {
        let mut g = self.lock();
        let deadline = Instant::now() + g.wait;
        while g.running >= g.limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Busy);
            }
            g = self
                .freed
                .wait_timeout(g, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        g.running += 1;
        g.peak = g.peak.max(g.running);
        drop(g);
        /// Gives the turn back even if `f` panics.
        struct Turn<'a>(&'a HashGate);
        impl Drop for Turn<'_> {
            fn drop(&mut self) {
                self.0.lock().running -= 1;
                self.0.freed.notify_one();
            }
        }
        let _turn = Turn(self);
        Ok(f())
    }
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

/// Whose password it is: what a guesser would try first, so a new password
/// must not be built from it.
#[derive(Clone, Copy, Debug)]
pub struct PasswordOwner<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub agency_name: &'a str,
    pub agency_code: &'a str,
}

/// The zxcvbn score a new password must reach: 3 is "safely unguessable"
/// (about 10^10 guesses), what an attacker with a copy of the hashes and a
/// list of breached passwords cannot reach in reasonable time.
const MIN_SCORE: u8 = 3;
/// zxcvbn's work grows with length; anything longer is judged on its start
/// (a password this long that starts well is strong).
const SCORED_CHARS: usize = 100;

/// What to do instead, at the end of every refusal.
const ADVICE: &str =
    "Choose three random words instead, such as three things you can see from where you sit.";

/// Letters and digits only, lower case: "Northshire Police" and
/// "northshire-police" both become "northshirepolice".
fn squashed(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Checks a new password (NCSC guidance: at least 12 characters, no
/// composition rules, refused when common or guessable); the error is a
/// sentence for the form that says what to do.
pub fn check_new_password(password: &str, owner: &PasswordOwner<'_>) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Your new password must be at least {MIN_PASSWORD_CHARS} characters long. {ADVICE}"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Your new password must be at most {MAX_PASSWORD_CHARS} characters long."
        ));
    }
    let plain = squashed(password);
    let username = squashed(owner.username);
    if username.chars().count() >= 3 && plain.contains(&username) {
        return Err(format!(
            "Your new password must not contain your username. {ADVICE}"
        ));
    }
    for org in [owner.agency_name, owner.agency_code] {
        let org = squashed(org);
        if org.chars().count() >= 3 && plain.contains(&org) {
            return Err(format!(
                "Your new password must not contain the name of your organisation. {ADVICE}"
            ));
        }
    }
    // Each word of the names too: "northshire2026" is the agency's first
    // word and a year.
    let words: Vec<String> = [
        owner.username,
        owner.name,
        owner.agency_name,
        owner.agency_code,
    ]
    .iter()
    .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
    .filter(|w| w.chars().count() >= 3)
    .map(str::to_lowercase)
    .chain([owner.username.to_lowercase(), "vigil".to_owned()])
    .collect();
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let scored: String = password.chars().take(SCORED_CHARS).collect();
    if u8::from(zxcvbn::zxcvbn(&scored, &inputs).score()) < MIN_SCORE {
        return Err(format!(
            "Your new password is too easy to guess: it is a common password, or close to one, or made from your name or organisation. {ADVICE}"
        ));
    }
    Ok(())
}

/// What the access log keeps to name a session: the hex SHA-256 of the
/// token's stored SHA-256. It links a sign-in to its sign-out without
/// giving out even the stored hash (which, with the sessions table, would
/// find the live session).
pub fn session_reference(token_sha256: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(token_sha256))
}

/// Whether `s` looks like a token [`new_token`] made (43 URL-safe base64
/// characters): an empty or short value is never a valid nonce.
pub fn is_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password(&h, "correct horse battery").unwrap());
        assert!(!verify_password(&h, "correct horse battery ").unwrap());
        assert!(!verify_password("not a hash", "x").unwrap());
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
        check_new_password(&t, &OWNER).unwrap();
        assert!(is_token(&a) && !is_token("") && !is_token(&a[1..]));
    }

    const OWNER: PasswordOwner<'static> = PasswordOwner {
        username: "triage.01",
        name: "Tess Example",
        agency_name: "Northshire Children's Services",
        agency_code: "northshire-childrens-services",
    };

    #[test]
    fn new_passwords_are_long_and_not_obvious() {
        assert!(check_new_password("short", &OWNER)
            .unwrap_err()
            .contains("at least 12"));
        assert!(check_new_password("triage.01-garden-lamp", &OWNER)
            .unwrap_err()
            .contains("username"));
        assert!(check_new_password("aaaaaaaaaaaaaa", &OWNER)
            .unwrap_err()
            .contains("easy"));
        assert!(check_new_password("Password1234", &OWNER)
            .unwrap_err()
            .contains("easy"));
        check_new_password("purple kettle orbit", &OWNER).unwrap();
    }

    #[test]
    fn the_gate_never_runs_more_than_its_bound_and_says_busy_beyond_its_wait() {
        let gate = std::sync::Arc::new(HashGate::new(2, Duration::from_millis(200)));
        let outcomes: Vec<Result<(), Busy>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    let g = std::sync::Arc::clone(&gate);
                    s.spawn(move || g.run(|| std::thread::sleep(Duration::from_millis(120))))
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(gate.take_peak(), 2, "never more than the bound at once");
        let busy = outcomes.iter().filter(|o| o.is_err()).count();
        assert!(
            (2..=6).contains(&busy),
            "two run at once for 120 ms, the others wait 200 ms: {busy} busy"
        );
    }
}

#[cfg(test)]
mod deny_list {
    use super::*;

    const ME: PasswordOwner<'static> = PasswordOwner {
        username: "pc.005",
        name: "Pat Example",
        agency_name: "Northshire Police",
        agency_code: "northshire-police",
    };

    #[test]
    fn common_and_guessable_passwords_are_refused_with_what_to_do() {
        for weak in [
            "password123456",
            "Password123!",
            "northshire2026",
            "Northshire Police 1",
            "pc.005 garden lamp",
            "qwertyuiop123",
            "iloveyou12345",
            "aaaaaaaaaaaaaa",
            "123456789012",
        ] {
            let e = check_new_password(weak, &ME).expect_err(weak);
            assert!(
                e.contains("three random words") || e.contains("username"),
                "{weak}: {e}"
            );
        }
    }

    #[test]
    fn three_random_words_and_temporary_passwords_pass() {
        for strong in [
            "purple kettle orbit",
            "blue pencil harbour",
            "maple lantern river 42",
            "a new long passphrase",
            "correct horse battery staple",
        ] {
            check_new_password(strong, &ME).unwrap_or_else(|e| panic!("{strong}: {e}"));
        }
        for _ in 0..50 {
            let t = temporary_password();
            check_new_password(&t, &ME).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }
}
