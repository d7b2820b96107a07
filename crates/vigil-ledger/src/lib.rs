//! # vigil-ledger: the verifiable event log
//!
//! Every change to a Vigil record is an event, and every event is appended to
//! this log. The log is an RFC 9162 (Certificate Transparency v2) Merkle tree,
//! so that anyone holding the log's public key can check, without trusting the
//! people who run Vigil, that
//!
//! * an event is in the log at a given position ([`verify_inclusion`]),
//! * a later version of the log only added events and changed or removed none
//!   ([`verify_consistency`]),
//! * the log operator vouched for a given size and root at a given time
//!   ([`SignedTreeHead`], Ed25519), and
//! * a submitter's [`Receipt`] proves all of the above offline.
//!
//! This crate holds:
//!
//! * the hashes ([`leaf_hash`], [`node_hash`], [`empty_root`]),
//! * [`Frontier`], the O(log n) memory running root used to re-verify a log
//!   streamed from a database,
//! * [`MerkleTree`], an append-only tree that produces roots and proofs for
//!   the current or any earlier size, either whole or pruned to a frontier
//!   (the append path keeps it pruned, so a writer's memory does not grow
//!   with the log),
//! * the proof verifiers, tree-head signing ([`LogSigner`], [`LogKey`]) and
//!   [`Receipt`]s.
//!
//! It is pure logic: no file, network or database I/O and no clock reads (the
//! only thing taken from the system is OS randomness in
//! [`LogSigner::generate`]). Storage and time come from the caller, which keeps the code that decides what is provable small enough to
//! audit and to test exhaustively. Among Vigil's crates it may depend only on
//! `vigil-model` (it does not need to yet): the log must not be tangled with
//! storage, the web layer or business rules.

mod b64;
mod frontier;
mod hash;
mod proof;
mod published;
mod receipt;
mod sign;
mod tree;

pub use frontier::Frontier;
pub use hash::{empty_root, leaf_hash, node_hash, Hash};
pub use proof::{verify_consistency, verify_inclusion, ProofError};
pub use published::{PublishedHeadError, PublishedTreeHead, TREE_HEAD_FORMAT};
pub use receipt::{Receipt, ReceiptError, ReceiptIssuer, RECEIPT_FORMAT};
pub use sign::{
    KeyError, LogKey, LogSigner, SignatureError, SignedTreeHead, TreeHead, KEY_TEXT_TAG,
};
pub use tree::MerkleTree;
