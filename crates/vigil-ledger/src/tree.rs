//! In-memory append-only Merkle tree that produces roots and proofs.

use crate::hash::{empty_root, node_hash, split_point, Hash};
use crate::proof::ProofError;

/// All leaf hashes plus cached complete subtrees, for producing proofs
/// (append-only, in memory).
///
/// `levels[k][i]` is the hash of the complete subtree of `2^k` leaves starting
/// at leaf `i * 2^k`; level 0 holds the leaf hashes. That is about `2n` hashes
/// in all. Any RFC 9162 subtree of a tree of size `s <= size()` is either one
/// of these cached nodes or a chain of O(log n) of them along its right edge,
/// so roots and proofs for the current *and every earlier* size cost O(log n)
/// hashes, and a push costs amortised O(1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree holding the given leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let leaves = leaves.into_iter();
        let mut tree = Self::new();
        let (lower, _) = leaves.size_hint();
        if lower > 0 {
            tree.levels.push(Vec::with_capacity(lower));
        }
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends a leaf hash and returns its index.
    pub fn push(&mut self, leaf_hash: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let index = self.levels[0].len();
        self.levels[0].push(leaf_hash);
        // Each time the new node is a right child, its parent just became
        // complete: cache it, and carry on up.
        let (mut level, mut i) = (0, index);
        while i % 2 == 1 {
            let parent = node_hash(&self.levels[level][i - 1], &self.levels[level][i]);
            level += 1;
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(parent);
            i /= 2;
        }
        index as u64
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hash at `index`, if there is one.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// Root at the current size.
    pub fn root(&self) -> Hash {
        self.root_at(self.size())
            .expect("the current size is always within the tree")
    }

    /// Root the tree had when it held `size` leaves (`size <= self.size()`).
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        Ok(self.subtree(0, size))
    }

    /// RFC 9162 section 2.1.3.1 inclusion proof of leaf `index` in the tree of
    /// the first `size` leaves. Ordered from the leaf upwards.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::with_capacity(64);
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// RFC 9162 section 2.1.4.1 consistency proof between the trees of the
    /// first `size1` and `size2` leaves. Empty when the sizes are equal.
    /// A proof from size 0 is refused: every tree extends the empty tree, so
    /// there is nothing to prove, and verifiers reject such proofs.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size2)?;
        if size1 > size2 {
            return Err(ProofError::SizesOutOfOrder { size1, size2 });
        }
        if size1 == size2 {
            return Ok(Vec::new());
        }
        if size1 == 0 {
            return Err(ProofError::ConsistencyFromEmpty);
        }
        let mut proof = Vec::with_capacity(64);
        self.subproof(size1, 0, size2, true, &mut proof);
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeBeyondTree {
                size,
                tree_size: self.size(),
            });
        }
        Ok(())
    }

    /// MTH(D[lo:hi]) for a subtree reached by RFC 9162 splitting from
    /// `[0, s)`, `s <= size()`: `lo` is then a multiple of the smallest power
    /// of two >= `hi - lo`, so its left parts are always cached nodes.
    fn subtree(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() {
            let k = n.trailing_zeros() as usize;
            debug_assert_eq!(lo % n, 0, "subtree must be aligned");
            return self.levels[k][(lo >> k) as usize];
        }
        let k = split_point(n);
        node_hash(&self.subtree(lo, lo + k), &self.subtree(lo + k, hi))
    }

    /// PATH(m, D[lo:hi]) with `m` relative to `lo`.
    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, lo, lo + k, out);
            out.push(self.subtree(lo + k, hi));
        } else {
            self.path(m - k, lo + k, hi, out);
            out.push(self.subtree(lo, lo + k));
        }
    }

    /// SUBPROOF(m, D[lo:hi], b).
    fn subproof(&self, m: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if m == n {
            if !complete {
                out.push(self.subtree(lo, hi));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, lo, lo + k, complete, out);
            out.push(self.subtree(lo + k, hi));
        } else {
            self.subproof(m - k, lo + k, hi, false, out);
            out.push(self.subtree(lo, lo + k));
        }
    }
}
