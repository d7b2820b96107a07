//! Who has acted in the log: the names that can never be given to a new
//! account.
//!
//! Ownership of a submission ("my referrals", a receipt) is checked by the
//! submitter's user id and agency, and a user id derives from the username.
//! An event can name an actor that has no account (an import, the
//! synthetic borough, an account created elsewhere before a migration), so
//! an account given such a name later would inherit that actor's records.
//! A username the log has ever seen acting is therefore taken for good.

use crate::{Store, StoreError};

/// The first entry in which `username` acted, if any.
///
/// Reads every header once (account creation is rare; at ten million
/// entries this is a second or two). The header is canonical JSON (RFC
/// 8785), where the actor object's members are sorted, so `"user"` is its
/// last member and no other header field is called `user`: the bytes
/// `"user":"NAME"}` occur exactly where NAME acted.
pub fn first_act_of(store: &dyn Store, username: &str) -> Result<Option<u64>, StoreError> {
    let name = serde_json::to_string(username)
        .map_err(|e| StoreError::Config(format!("a username could not be encoded: {e}")))?;
    let needle = format!("\"user\":{name}}}");
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let mut first = None;
    store.read_snapshot(&mut |log| {
        log.for_each_raw_entry(0, &mut |e| {
            if first.is_none() && finder.find(e.header).is_some() {
                first = Some(e.index);
            }
            Ok(())
        })
    })?;
    Ok(first)
}
