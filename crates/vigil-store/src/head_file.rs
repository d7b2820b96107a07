//! The latest signed tree head, kept outside the database.
//!
//! Someone who can change the database can delete its newest entries
//! together with their tree heads, and the shorter log is consistent with
//! itself. So after every commit the append path ([`crate::write`]) also
//! writes the new head to a file beside the signing key,
//! `DATA/tree-head.json`; `vigil verify` compares the database with it, and
//! a writer refuses to append to a database that is shorter than the file or
//! does not contain the log it signed.
//!
//! Several processes may append to one database (several `vigil serve`
//! sharing a data directory), each committing and then publishing its own
//! head: the file only ever moves forward. Under an exclusive lock on a
//! file beside it, a head replaces the one in the file only if it is larger
//! and the writer's tree holds the file's head as a prefix; the new file is
//! written to a temporary name, flushed to disk and renamed over the old one,
//! so a crash leaves the old or the new head, never a torn file.

use crate::StoreError;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use vigil_ledger::{LogKey, PublishedTreeHead, SignedTreeHead};

/// Name of the file in the data directory.
pub const TREE_HEAD_FILE: &str = "tree-head.json";

/// Where a store keeps its latest signed tree head outside the database.
#[derive(Clone, Debug)]
pub struct TreeHeadFile {
    path: PathBuf,
}

/// What [`TreeHeadFile::publish`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Published {
    /// The file now holds the new head.
    Replaced,
    /// The file already held this head or a larger one (another process got
    /// there first): left as it was.
    AlreadyAhead,
    /// The caller could not tell whether its log holds the file's head (it
    /// no longer holds the root at that size): left as it was, for the
    /// caller to check after reading its log again.
    Unconfirmed,
}

impl TreeHeadFile {
    /// `DIR/tree-head.json`.
    pub fn in_dir(dir: &Path) -> TreeHeadFile {
        TreeHeadFile {
            path: dir.join(TREE_HEAD_FILE),
        }
    }

    /// A copy kept elsewhere (`vigil verify --tree-head FILE`).
    pub fn at(path: &Path) -> TreeHeadFile {
        TreeHeadFile {
            path: path.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The head in the file, checked against `key`; `None` if there is no
    /// file. A file that cannot be read or does not carry the log's signature
    /// is corruption, named.
    pub fn read(&self, key: &LogKey) -> Result<Option<SignedTreeHead>, StoreError> {
        let text = match fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Config(format!(
                    "cannot read {}: {e}",
                    self.path.display()
                )))
            }
        };
        let bad = |why: String| {
            StoreError::Corrupt(format!(
                "the tree-head file {} is not a tree head of this log: {why}",
                self.path.display()
            ))
        };
        if text.len() > 64 * 1024 {
            return Err(bad("it is far too long".into()));
        }
        let published: PublishedTreeHead =
            serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        published
            .verify(key)
            .map(Some)
            .map_err(|e| bad(e.to_string()))
    }

    /// Replaces the file's head with `sth` if `sth` is larger. `holds` says
    /// whether the caller's log contains a given smaller head (same root at
    /// its size), or `None` if it cannot tell; if it does not, the file is
    /// left alone and the mismatch is reported: the file and the database
    /// tell two different stories.
    pub fn publish(
        &self,
        key: &LogKey,
        sth: &SignedTreeHead,
        holds: impl Fn(&SignedTreeHead) -> Option<bool>,
    ) -> Result<Published, StoreError> {
        let _lock = self.lock()?;
        if let Some(current) = self.read(key)? {
            if current.head.size >= sth.head.size {
                return Ok(Published::AlreadyAhead);
            }
            let Some(holds) = holds(&current) else {
                return Ok(Published::Unconfirmed);
            };
            if !holds {
                return Err(StoreError::Corrupt(format!(
                    "the log just signed at size {} does not contain the tree head of size {} in {}: the database is not the log that file was written for",
                    sth.head.size,
                    current.head.size,
                    self.path.display()
                )));
            }
        }
        let text = serde_json::to_string_pretty(&PublishedTreeHead::new(key, sth))
            .map_err(|e| StoreError::Config(format!("cannot write a tree head: {e}")))?
            + "\n";
        let tmp = self.path.with_extension("json.tmp");
        let io = |e: std::io::Error| {
            StoreError::Config(format!("cannot write {}: {e}", self.path.display()))
        };
        let mut f = private_file(&tmp, true).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        // No fsync of the directory: after a crash the rename may be lost and
        // the file hold the previous head, which is still a head of this log
        // (only older), so nothing is falsely reported.
        fs::rename(&tmp, &self.path).map_err(io)?;
        Ok(Published::Replaced)
    }

    /// Holds an exclusive lock on `tree-head.json.lock` (a separate file,
    /// because the rename replaces the head file itself).
    fn lock(&self) -> Result<fs::File, StoreError> {
        let path = self.path.with_extension("json.lock");
        let f = private_file(&path, false)
            .map_err(|e| StoreError::Config(format!("cannot open {}: {e}", path.display())))?;
        f.lock()
            .map_err(|e| StoreError::Config(format!("cannot lock {}: {e}", path.display())))?;
        Ok(f)
    }
}

/// Opens (creating if needed) a file only its owner may read: the head is
/// not secret, but the data directory's files are all private.
fn private_file(path: &Path, truncate: bool) -> std::io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_ledger::{LogSigner, TreeHead};

    fn head(signer: &LogSigner, size: u64, root: u8) -> SignedTreeHead {
        signer.sign_tree_head(&TreeHead {
            size,
            root: [root; 32],
            timestamp_ms: 1_000 + size as i64,
        })
    }

    #[test]
    fn the_tree_head_file_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let file = TreeHeadFile::in_dir(dir.path());
        let signer = LogSigner::generate();
        let key = signer.public_key();
        assert_eq!(file.read(&key).unwrap(), None);
        let h20 = head(&signer, 20, 1);
        assert_eq!(
            file.publish(&key, &h20, |_| Some(true)).unwrap(),
            Published::Replaced
        );
        // A smaller (older) head, from a process that committed earlier but
        // published later, never replaces a larger one.
        assert_eq!(
            file.publish(&key, &head(&signer, 14, 2), |_| Some(true))
                .unwrap(),
            Published::AlreadyAhead
        );
        assert_eq!(file.read(&key).unwrap(), Some(h20.clone()));
        // A larger head that does not contain the file's is refused.
        assert!(file
            .publish(&key, &head(&signer, 30, 3), |_| Some(false))
            .is_err());
        assert_eq!(file.read(&key).unwrap(), Some(h20.clone()));
        // A caller that cannot tell leaves the file as it is.
        assert_eq!(
            file.publish(&key, &head(&signer, 30, 3), |_| None).unwrap(),
            Published::Unconfirmed
        );
        assert_eq!(file.read(&key).unwrap(), Some(h20.clone()));
        let h30 = head(&signer, 30, 3);
        file.publish(&key, &h30, |h| Some(h.head.size == 20))
            .unwrap();
        assert_eq!(file.read(&key).unwrap(), Some(h30));
        // Another log's key does not read it as its own.
        assert!(file.read(&LogSigner::generate().public_key()).is_err());
    }
}
