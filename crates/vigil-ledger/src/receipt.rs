//! Receipts: what a person who submitted something keeps, so they can later
//! prove, offline and with only the log's public key, that the log accepted
//! exactly that entry at that position and time.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::hash::{leaf_hash, Hash};
use crate::proof::{verify_inclusion, ProofError};
use crate::sign::{LogKey, LogSigner, SignatureError, SignedTreeHead, TreeHead};
use crate::tree::MerkleTree;

/// Value of [`Receipt::format`].
pub const RECEIPT_FORMAT: &str = "vigil-receipt-v1";

/// An inclusion proof bundled with the signed tree head it leads to.
///
/// Self-contained and plain JSON (hashes and signature in standard base64) so
/// it can be checked by tools other than Vigil. What is proven is `entry`;
/// `event_id` and `timestamp` are there for people reading the receipt
/// (`timestamp` is checked against the signed `timestamp_ms`, `event_id` is a
/// label that the entry itself is expected to contain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// [`LogKey::log_id`] of the log that issued it.
    pub log_id: String,
    /// Opaque to this crate (a UUID string).
    pub event_id: String,
    /// The exact leaf bytes as UTF-8 (the event's canonical JSON header).
    pub entry: String,
    pub leaf_index: u64,
    /// Base64 of `leaf_hash(entry.as_bytes())`.
    pub leaf_hash: String,
    pub tree_size: u64,
    /// Base64 of the root at `tree_size`.
    pub root: String,
    /// RFC 3339 UTC form of `timestamp_ms`, with milliseconds, for people.
    pub timestamp: String,
    pub timestamp_ms: i64,
    /// Base64 hashes, RFC 9162 order (leaf upwards).
    pub inclusion_proof: Vec<String>,
    /// Base64 Ed25519 signature over
    /// `TreeHead { size: tree_size, root, timestamp_ms }.signing_input()`.
    pub signature: String,
    /// Base64 of the salt the entry's payload digest was taken with, so the
    /// holder can show which payload they submitted: with the payload bytes,
    /// `SHA-256(salt || payload)` must equal the digest the entry commits to
    /// (Vigil's `payload_sha256`). Not covered by the signature, and need not
    /// be: it only opens a commitment that is. Absent in receipts issued
    /// before it was added (the format string stays `vigil-receipt-v1`,
    /// since every v1 field keeps its meaning and v1 readers ignore fields
    /// they do not know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// Why a receipt does not verify; each names the part that failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("not a Vigil receipt: format is \"{found}\", expected \"{RECEIPT_FORMAT}\"")]
    UnknownFormat { found: String },
    #[error("the receipt is from another log (log id {receipt}) than this key's ({key})")]
    WrongLog { receipt: String, key: String },
    #[error("the receipt's {field} is not valid base64 of the right length")]
    BadField { field: &'static str },
    #[error("the entry text does not hash to the receipt's leaf hash: the entry was changed")]
    EntryMismatch,
    #[error("the inclusion proof does not hold: {0}")]
    Inclusion(ProofError),
    #[error("{0}")]
    Signature(SignatureError),
    #[error("the timestamp \"{timestamp}\" does not agree with timestamp_ms {timestamp_ms}")]
    TimestampMismatch {
        timestamp: String,
        timestamp_ms: i64,
    },
}

/// At most this many characters of untrusted text are echoed in errors.
fn excerpt(s: &str) -> String {
    s.chars().take(80).collect()
}

fn format_timestamp(timestamp_ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(timestamp_ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn decode_hash(s: &str, field: &'static str) -> Result<Hash, ReceiptError> {
    b64::decode_array(s).ok_or(ReceiptError::BadField { field })
}

impl Receipt {
    /// The receipt with the salt of its entry's payload digest (see
    /// [`Receipt::salt`]).
    pub fn with_salt(mut self, salt: &[u8]) -> Receipt {
        self.salt = Some(b64::encode(salt));
        self
    }

    /// The salt's bytes, if the receipt carries a readable one.
    pub fn salt_bytes(&self) -> Option<Vec<u8>> {
        let s = self.salt.as_deref()?;
        // No salt is longer than 64 bytes; don't decode a flood.
        if s.len() > 88 {
            return None;
        }
        b64::decode_vec(s)
    }

    /// The signed tree head the receipt carries, its fields decoded (not
    /// checked: [`Receipt::verify`] does that).
    pub fn tree_head(&self) -> Result<SignedTreeHead, ReceiptError> {
        Ok(SignedTreeHead {
            head: TreeHead {
                size: self.tree_size,
                root: decode_hash(&self.root, "root")?,
                timestamp_ms: self.timestamp_ms,
            },
            signature: b64::decode_array(&self.signature)
                .ok_or(ReceiptError::BadField { field: "signature" })?,
        })
    }

    /// The leaf hash the receipt carries, decoded.
    pub fn leaf(&self) -> Result<Hash, ReceiptError> {
        decode_hash(&self.leaf_hash, "leaf_hash")
    }

    /// Builds the receipt for leaf `index`, proven against the signed tree
    /// head `sth`. Refuses (rather than hand out a receipt that would not
    /// verify) if `sth` is not signed by `signer`, is not a head of `tree`, or
    /// `entry` is not the leaf at `index`.
    pub fn issue(
        signer: &LogSigner,
        tree: &MerkleTree,
        sth: &SignedTreeHead,
        index: u64,
        event_id: &str,
        entry: &str,
    ) -> Result<Receipt, ProofError> {
        Receipt::issuer(signer, tree, sth)?.issue(index, event_id, entry)
    }

    /// Checks `sth` once (signed by `signer`, a head of `tree`) and returns
    /// an issuer for any number of receipts under it: a batch of appends
    /// shares one tree head, and checking its signature once per receipt
    /// was a measurable share of a busy server's time.
    pub fn issuer<'a>(
        signer: &LogSigner,
        tree: &'a MerkleTree,
        sth: &SignedTreeHead,
    ) -> Result<ReceiptIssuer<'a>, ProofError> {
        let key = signer.public_key();
        key.verify_tree_head(sth)
            .map_err(|_| ProofError::TreeHeadNotSigned)?;
        let TreeHead {
            size,
            root,
            timestamp_ms,
        } = sth.head;
        if tree.root_at(size)? != root {
            return Err(ProofError::TreeHeadMismatch { size });
        }
        let timestamp = format_timestamp(timestamp_ms)
            .ok_or(ProofError::TimestampOutOfRange { timestamp_ms })?;
        Ok(ReceiptIssuer {
            tree,
            log_id: key.log_id(),
            size,
            root: b64::encode(&root),
            timestamp,
            timestamp_ms,
            signature: b64::encode(&sth.signature),
        })
    }

    /// Checks everything: entry hashes to leaf_hash, proof links leaf to root
    /// at tree_size, signature over the tree head is valid for key, log_id
    /// matches key, timestamp string agrees with timestamp_ms. Returns a clear
    /// error naming what failed.
    pub fn verify(&self, key: &LogKey) -> Result<(), ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError::UnknownFormat {
                found: excerpt(&self.format),
            });
        }
        let key_id = key.log_id();
        if self.log_id != key_id {
            return Err(ReceiptError::WrongLog {
                receipt: excerpt(&self.log_id),
                key: key_id,
            });
        }
        let leaf = decode_hash(&self.leaf_hash, "leaf_hash")?;
        let root = decode_hash(&self.root, "root")?;
        let signature: [u8; 64] = b64::decode_array(&self.signature)
            .ok_or(ReceiptError::BadField { field: "signature" })?;
        // No valid proof has more than 64 hashes; don't decode a flood.
        if self.inclusion_proof.len() > 64 {
            return Err(ReceiptError::Inclusion(ProofError::WrongProofLength {
                expected: 64,
                actual: self.inclusion_proof.len(),
            }));
        }
        let proof = self
            .inclusion_proof
            .iter()
            .map(|h| decode_hash(h, "inclusion_proof"))
            .collect::<Result<Vec<_>, _>>()?;

        if leaf_hash(self.entry.as_bytes()) != leaf {
            return Err(ReceiptError::EntryMismatch);
        }
        verify_inclusion(self.leaf_index, self.tree_size, &leaf, &proof, &root)
            .map_err(ReceiptError::Inclusion)?;
        let sth = SignedTreeHead {
            head: TreeHead {
                size: self.tree_size,
                root,
                timestamp_ms: self.timestamp_ms,
            },
            signature,
        };
        key.verify_tree_head(&sth)
            .map_err(ReceiptError::Signature)?;
        let expected = DateTime::<Utc>::from_timestamp_millis(self.timestamp_ms);
        let stated = DateTime::parse_from_rfc3339(&self.timestamp).ok();
        match (expected, stated) {
            (Some(expected), Some(stated)) if stated == expected => Ok(()),
            _ => Err(ReceiptError::TimestampMismatch {
                timestamp: excerpt(&self.timestamp),
                timestamp_ms: self.timestamp_ms,
            }),
        }
    }
}

/// Issues receipts under one checked signed tree head (see [`Receipt::issuer`]).
pub struct ReceiptIssuer<'a> {
    tree: &'a MerkleTree,
    log_id: String,
    size: u64,
    root: String,
    timestamp: String,
    timestamp_ms: i64,
    signature: String,
}

impl ReceiptIssuer<'_> {
    /// The receipt for leaf `index`; refused if `entry` is not that leaf.
    pub fn issue(&self, index: u64, event_id: &str, entry: &str) -> Result<Receipt, ProofError> {
        let proof = self.tree.inclusion_proof(index, self.size)?;
        let hash = leaf_hash(entry.as_bytes());
        if self.tree.leaf(index) != Some(hash) {
            return Err(ProofError::LeafMismatch { index });
        }
        Ok(Receipt {
            format: RECEIPT_FORMAT.to_owned(),
            log_id: self.log_id.clone(),
            event_id: event_id.to_owned(),
            entry: entry.to_owned(),
            leaf_index: index,
            leaf_hash: b64::encode(&hash),
            tree_size: self.size,
            root: self.root.clone(),
            timestamp: self.timestamp.clone(),
            timestamp_ms: self.timestamp_ms,
            inclusion_proof: proof.iter().map(|h| b64::encode(h)).collect(),
            signature: self.signature.clone(),
            salt: None,
        })
    }
}
