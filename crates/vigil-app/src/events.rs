//! The one constructor of event drafts: every command of this crate and
//! every import line becomes an [`EventDraft`] here, with a fresh random
//! salt from the operating system, its id and Vigil's receipt time.

use chrono::{DateTime, Utc};
use rand::RngCore;
use vigil_model::event::SALT_LEN;
use vigil_model::{EventDraft, EventInput};

/// A fresh random salt for a payload digest.
pub fn salt() -> [u8; SALT_LEN] {
    let mut s = [0u8; SALT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

/// Validates an input and fixes its id, receipt time (`now`) and salt; a
/// refusal is the model's sentence.
pub fn draft(input: EventInput, now: DateTime<Utc>) -> Result<EventDraft, String> {
    input.prepare(now, salt()).map_err(|e| e.to_string())
}
