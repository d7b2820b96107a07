//! Signed tree heads: the log operator's dated, signed statement "the log had
//! this many entries and this root". Ed25519, so keys and signatures are small
//! enough to print, paste and hand out.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::b64;
use crate::hash::Hash;

/// First word of a public key's text form.
pub const KEY_TEXT_TAG: &str = "vigil-log-key-v1";

/// Domain separator at the start of [`TreeHead::signing_input`], so a tree
/// head signature can never be mistaken for a signature over anything else.
const TREE_HEAD_DOMAIN: &[u8] = b"vigil-tree-head-v1\0";

/// Longest input the key parsers look at; a real key text is under 70 bytes.
const MAX_KEY_TEXT: usize = 1024;

/// Why a public key could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the log key is empty")]
    Empty,
    #[error("the log key text is too long ({len} bytes) to be a key")]
    TooLong { len: usize },
    #[error("the log key should be one line: \"{KEY_TEXT_TAG} <base64>\"")]
    Malformed,
    #[error("the log key starts with \"{found}\", expected \"{KEY_TEXT_TAG}\"")]
    WrongTag { found: String },
    #[error("the log key is not valid base64 of 32 bytes")]
    NotBase64,
    #[error("the log key's 32 bytes are not a usable Ed25519 public key")]
    InvalidKey,
}

/// Why a signed tree head was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error(
        "the tree head signature is not valid for this log's key \
         (signed by another key, or the size, root or time were changed)"
    )]
    Invalid,
}

/// The log's private signing key. Kept by the log operator only; its
/// [`Debug`] output shows the public key, never the secret.
pub struct LogSigner {
    key: SigningKey,
}

impl fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigner")
            .field("public_key", &self.public_key().to_base64())
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// A new random key from the operating system's randomness.
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(&mut OsRng),
        }
    }

    /// The key with this 32-byte secret (as stored by the operator).
    pub fn from_secret_bytes(b: &[u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(b),
        }
    }

    /// The 32-byte secret, for the operator to store.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public key that verifies this signer's tree heads.
    pub fn public_key(&self) -> LogKey {
        LogKey {
            key: self.key.verifying_key(),
        }
    }

    /// Signs `head.signing_input()`.
    pub fn sign_tree_head(&self, head: &TreeHead) -> SignedTreeHead {
        SignedTreeHead {
            head: *head,
            signature: self.key.sign(&head.signing_input()).to_bytes(),
        }
    }
}

/// A log's public key: all anyone needs to check its tree heads and receipts.
#[derive(Clone, PartialEq, Eq)]
pub struct LogKey {
    key: VerifyingKey,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LogKey").field(&self.to_base64()).finish()
    }
}

impl LogKey {
    /// The 32 key bytes in standard base64.
    pub fn to_base64(&self) -> String {
        b64::encode(self.key.as_bytes())
    }

    /// Reads [`LogKey::to_base64`] output. Rejects anything that is not 32
    /// bytes, not a valid curve point, or a weak (small-order) key.
    pub fn from_base64(s: &str) -> Result<Self, KeyError> {
        if s.is_empty() {
            return Err(KeyError::Empty);
        }
        if s.len() > MAX_KEY_TEXT {
            return Err(KeyError::TooLong { len: s.len() });
        }
        let bytes: [u8; 32] = b64::decode_array(s).ok_or(KeyError::NotBase64)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidKey);
        }
        Ok(Self { key })
    }

    /// Text file form, so a key can be handed out: one line
    /// `"vigil-log-key-v1 <base64>"` followed by a newline.
    pub fn to_text(&self) -> String {
        format!("{KEY_TEXT_TAG} {}\n", self.to_base64())
    }

    /// Reads [`LogKey::to_text`] output (surrounding whitespace allowed), or a
    /// bare base64 line.
    pub fn from_text(s: &str) -> Result<Self, KeyError> {
        let line = s.trim();
        if line.len() > MAX_KEY_TEXT {
            return Err(KeyError::TooLong { len: line.len() });
        }
        if line.is_empty() {
            return Err(KeyError::Empty);
        }
        if line.contains(['\n', '\r']) {
            return Err(KeyError::Malformed);
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [bare] => Self::from_base64(bare),
            [tag, key] if *tag == KEY_TEXT_TAG => Self::from_base64(key),
            [tag, _] => Err(KeyError::WrongTag {
                found: tag.chars().take(40).collect(),
            }),
            _ => Err(KeyError::Malformed),
        }
    }

    /// Hex SHA-256 of the 32 public key bytes: names the log in receipts, so a
    /// receipt cannot be checked against the wrong log's key by mistake.
    pub fn log_id(&self) -> String {
        hex::encode(Sha256::digest(self.key.as_bytes()))
    }

    /// Checks the signature on a tree head (strict Ed25519: no malleable
    /// signatures, no weak keys).
    pub fn verify_tree_head(&self, sth: &SignedTreeHead) -> Result<(), SignatureError> {
        let signature = Signature::from_bytes(&sth.signature);
        self.key
            .verify_strict(&sth.head.signing_input(), &signature)
            .map_err(|_| SignatureError::Invalid)
    }
}

/// The statement a log signs: it had `size` entries with this `root` at
/// `timestamp_ms` (milliseconds since the Unix epoch, UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    pub size: u64,
    /// Base64 in serialised forms.
    #[serde(with = "crate::b64::array")]
    pub root: Hash,
    pub timestamp_ms: i64,
}

impl TreeHead {
    /// The exact bytes signed, fixed so that any implementation can check a
    /// signature (67 bytes):
    ///
    /// ```text
    /// b"vigil-tree-head-v1\0"   19 bytes, domain separator
    /// size                      u64, big-endian
    /// timestamp_ms              i64, big-endian (two's complement)
    /// root                      32 bytes
    /// ```
    pub fn signing_input(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TREE_HEAD_DOMAIN.len() + 8 + 8 + 32);
        out.extend_from_slice(TREE_HEAD_DOMAIN);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.root);
        out
    }
}

/// A [`TreeHead`] with the log's Ed25519 signature over its
/// [`TreeHead::signing_input`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
    pub head: TreeHead,
    /// Base64 in serialised forms.
    #[serde(with = "crate::b64::array")]
    pub signature: [u8; 64],
}
