//! Copying a log from one store to another, verbatim: the engine of
//! `vigil migrate` (SQLite to PostgreSQL when a borough joins a partnership).
//!
//! Why verbatim and not a re-import: a re-import would give every event a new
//! receipt time and the log new tree heads, so receipts already handed out
//! would no longer match. Here each stored header, payload, salt and leaf hash
//! goes across unchanged, in log order, with the tree heads the source signed;
//! the target rebuilds its projections with the model's rules as it goes
//! (through [`crate::Store::append_verbatim`], the write path's verbatim
//! twin), so a wrong row cannot be carried over. Each transaction ends at a
//! size the source signed, so the target is a valid, verifiable log after
//! every chunk, even if the copy is interrupted.

use crate::{Store, StoreError, StoredEntry};
use vigil_ledger::SignedTreeHead;

/// What was copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub entries: u64,
    pub tree_heads: u64,
}

/// Refuses a store that holds any entry, tree head or projection row.
pub fn ensure_empty(target: &dyn Store) -> Result<(), StoreError> {
    let existing = target.log_size()?;
    let mut has_rows = false;
    if existing == 0 && target.latest_tree_head()?.is_none() {
        // Stop at the first projection row, if any.
        let r = target.for_each_entity(&mut |_| {
            has_rows = true;
            Err(StoreError::Config(String::new()))
        });
        if !has_rows {
            r?;
        }
    }
    if existing > 0 || has_rows || target.latest_tree_head()?.is_some() {
        return Err(StoreError::Config(format!(
            "the target database is not empty (it holds {existing} log entries); Vigil copies a log only into an empty database"
        )));
    }
    Ok(())
}

/// Copies the whole log of `source` into `target`, which must be empty and
/// belong to the same log key. Entries go in transactions of about `chunk`
/// entries (each ending at a signed size); `progress` is told the number of
/// entries copied after each one.
pub fn copy_log(
    source: &dyn Store,
    target: &dyn Store,
    chunk: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<CopyReport, StoreError> {
    if source.log_key() != target.log_key() {
        return Err(StoreError::Config(
            "the target database belongs to a log signed with another key; a log can only be copied to a store of the same key".into(),
        ));
    }
    ensure_empty(target)?;
    let mut heads: Vec<SignedTreeHead> = Vec::new();
    source.for_each_tree_head(&mut |h| {
        heads.push(h);
        Ok(())
    })?;
    let chunk = chunk.max(1);
    let mut next_head = 0usize;
    let mut buffer: Vec<StoredEntry> = Vec::with_capacity(chunk);
    let mut report = CopyReport::default();
    let mut flush =
        |buffer: &mut Vec<StoredEntry>, next_head: &mut usize| -> Result<(), StoreError> {
            let end = buffer.last().map(|e| e.index + 1).unwrap_or(0);
            let mut these = Vec::new();
            while *next_head < heads.len() && heads[*next_head].head.size <= end {
                these.push(heads[*next_head].clone());
                *next_head += 1;
            }
            let n = buffer.len() as u64;
            report.tree_heads += these.len() as u64;
            target.append_verbatim(std::mem::take(buffer), these)?;
            report.entries += n;
            progress(report.entries);
            Ok(())
        };
    source.for_each_entry(0, &mut |e| {
        let end = e.index + 1;
        buffer.push(e);
        // Flush at a size the source signed, once the chunk is full.
        let at_signed_size = heads.get(next_head).is_some_and(|h| h.head.size == end);
        if buffer.len() >= chunk && at_signed_size {
            flush(&mut buffer, &mut next_head)?;
        }
        Ok(())
    })?;
    if !buffer.is_empty() {
        let end = buffer.last().map(|e| e.index + 1).unwrap_or(0);
        if heads.last().map(|h| h.head.size) != Some(end) {
            return Err(StoreError::Corrupt(format!(
                "the source log ends at {end} entries but its last signed tree head does not cover them; run `vigil verify` on it"
            )));
        }
        flush(&mut buffer, &mut next_head)?;
    }
    Ok(report)
}
