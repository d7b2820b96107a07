//! A signed tree head in a text form of its own, to be kept away from the
//! log's database (Vigil keeps the latest in `DATA/tree-head.json`) or handed
//! to a witness: whoever holds a copy can later show that the log once had
//! that size and root, and so catch a log cut back or rewritten below it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::sign::{LogKey, SignatureError, SignedTreeHead, TreeHead};

/// Value of [`PublishedTreeHead::format`].
pub const TREE_HEAD_FORMAT: &str = "vigil-tree-head-v1";

/// A signed tree head as plain JSON (binary values in standard base64, as in
/// receipts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTreeHead {
    /// Always [`TREE_HEAD_FORMAT`].
    pub format: String,
    /// [`LogKey::log_id`] of the log that signed it.
    pub log_id: String,
    pub size: u64,
    /// Base64 of the root.
    pub root: String,
    /// RFC 3339 UTC form of `timestamp_ms`, with milliseconds, for people.
    pub timestamp: String,
    pub timestamp_ms: i64,
    /// Base64 Ed25519 signature over the tree head's signing input.
    pub signature: String,
}

/// Why a published tree head is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublishedHeadError {
    #[error("not a Vigil tree head: format is \"{found}\", expected \"{TREE_HEAD_FORMAT}\"")]
    UnknownFormat { found: String },
    #[error("the tree head is from another log (log id {found})")]
    WrongLog { found: String },
    #[error("the tree head's {field} is not valid")]
    BadField { field: &'static str },
    #[error("{0}")]
    Signature(SignatureError),
}

impl PublishedTreeHead {
    /// The text form of `sth`, signed by the log whose key is `key`.
    pub fn new(key: &LogKey, sth: &SignedTreeHead) -> PublishedTreeHead {
        PublishedTreeHead {
            format: TREE_HEAD_FORMAT.to_owned(),
            log_id: key.log_id(),
            size: sth.head.size,
            root: b64::encode(&sth.head.root),
            timestamp: DateTime::<Utc>::from_timestamp_millis(sth.head.timestamp_ms)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                .unwrap_or_default(),
            timestamp_ms: sth.head.timestamp_ms,
            signature: b64::encode(&sth.signature),
        }
    }

    /// The signed tree head, once its format, log id and signature are
    /// checked against `key`.
    pub fn verify(&self, key: &LogKey) -> Result<SignedTreeHead, PublishedHeadError> {
        if self.format != TREE_HEAD_FORMAT {
            return Err(PublishedHeadError::UnknownFormat {
                found: self.format.chars().take(40).collect(),
            });
        }
        if self.log_id != key.log_id() {
            return Err(PublishedHeadError::WrongLog {
                found: self.log_id.chars().take(80).collect(),
            });
        }
        let sth = SignedTreeHead {
            head: TreeHead {
                size: self.size,
                root: b64::decode_array(&self.root)
                    .ok_or(PublishedHeadError::BadField { field: "root" })?,
                timestamp_ms: self.timestamp_ms,
            },
            signature: b64::decode_array(&self.signature)
                .ok_or(PublishedHeadError::BadField { field: "signature" })?,
        };
        key.verify_tree_head(&sth)
            .map_err(PublishedHeadError::Signature)?;
        Ok(sth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogSigner;

    #[test]
    fn a_published_head_round_trips_and_is_checked() {
        let signer = LogSigner::generate();
        let sth = signer.sign_tree_head(&TreeHead {
            size: 7,
            root: [3; 32],
            timestamp_ms: 1_795_309_323_456,
        });
        let p = PublishedTreeHead::new(&signer.public_key(), &sth);
        assert_eq!(p.timestamp, "2026-11-22T01:02:03.456Z");
        assert_eq!(p.verify(&signer.public_key()), Ok(sth));
        let mut bigger = p.clone();
        bigger.size = 8;
        assert!(matches!(
            bigger.verify(&signer.public_key()),
            Err(PublishedHeadError::Signature(_))
        ));
        assert!(matches!(
            p.verify(&LogSigner::generate().public_key()),
            Err(PublishedHeadError::WrongLog { .. })
        ));
    }
}
