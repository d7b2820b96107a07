//! Running root over a stream of leaves in O(log n) memory.

use crate::hash::{empty_root, node_hash, Hash};

/// Incremental root over a stream of leaf hashes in O(log n) memory (the
/// "frontier" or compact range).
///
/// Used to verify millions of entries streamed from a database: only the roots
/// of the maximal complete subtrees are kept (one per set bit of the size),
/// so memory stays at most 64 hashes whatever the log's length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the complete subtrees covering leaves `0..size`, largest
    /// (leftmost) first; subtree `i` has `2^b` leaves for the i-th set bit `b`
    /// of `size`, counting from the most significant.
    subtrees: Vec<Hash>,
}

impl Frontier {
    /// An empty frontier (size 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash. Amortised O(1) hashes.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut acc = leaf_hash;
        // Each trailing 1 bit of the old size is a complete subtree of the same
        // height as `acc`: merge them, as a binary counter carries.
        let mut carries = self.size.trailing_ones();
        while carries > 0 {
            let left = self
                .subtrees
                .pop()
                .expect("one subtree per set bit of size");
            acc = node_hash(&left, &acc);
            carries -= 1;
        }
        self.subtrees.push(acc);
        self.size += 1;
    }

    /// A frontier from its parts: `subtrees` must be the roots of the
    /// complete subtrees covering leaves `0..size`, largest first.
    pub(crate) fn from_parts(size: u64, subtrees: Vec<Hash>) -> Self {
        debug_assert_eq!(subtrees.len(), size.count_ones() as usize);
        Frontier { size, subtrees }
    }

    /// The roots of the complete subtrees covering leaves `0..size`, largest
    /// (leftmost) first: one per set bit of the size.
    pub fn subtrees(&self) -> &[Hash] {
        &self.subtrees
    }

    /// Number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// RFC 9162 Merkle Tree Hash of the leaves pushed so far; [`empty_root`]
    /// when none were.
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        // The right edge is folded from the smallest subtree leftwards, which
        // is exactly how RFC 9162 splits an incomplete tree.
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}
