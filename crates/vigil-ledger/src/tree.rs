//! Append-only Merkle tree that produces roots and proofs, whole or pruned
//! to a frontier.

use crate::frontier::Frontier;
use crate::hash::{empty_root, node_hash, split_point, Hash};
use crate::proof::ProofError;

/// Leaf hashes plus cached complete subtrees, for producing proofs
/// (append-only, in memory), optionally with everything before a *base*
/// size pruned away.
///
/// `levels[k][i - offset(k)]` is the hash of the complete subtree of `2^k`
/// leaves starting at leaf `i * 2^k`; level 0 holds the leaf hashes. A whole
/// tree (base 0) holds about `2n` hashes. Any RFC 9162 subtree of a tree of
/// size `s <= size()` is either one of these cached nodes or a chain of
/// O(log n) of them along its right edge, so roots and proofs for the
/// current *and every earlier* size cost O(log n) hashes, and a push costs
/// amortised O(1).
///
/// A *pruned* tree ([`MerkleTree::from_frontier`], [`MerkleTree::prune`])
/// keeps, below its base size `b`, only the frontier of `b` (the roots of the
/// complete subtrees covering leaves `0..b`, at most 64 hashes): level `k`
/// starts at node `offset(k) = (b >> k) & !1`, which is the frontier node of
/// that level when bit `k` of `b` is set and otherwise the first node to its
/// right. That is exactly what roots at sizes `>= b`, inclusion proofs of
/// leaves `>= b` and consistency proofs from sizes `>= b` need, so an append
/// path can hand out receipts for a batch while holding O(log n + batch)
/// hashes instead of the whole log. Anything further back is refused with
/// [`ProofError::Pruned`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
    /// Leaves before this index were pruned (0: the whole tree).
    base: u64,
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

    /// A tree of `frontier.size()` leaves pruned to their frontier: it can
    /// grow, and prove anything about leaves from `frontier.size()` on (see
    /// the type's documentation).
    pub fn from_frontier(frontier: &Frontier) -> Self {
        let base = frontier.size();
        let height = (64 - base.leading_zeros()) as usize;
        let mut levels = vec![Vec::new(); height.max(1)];
        // The frontier holds one subtree per set bit of `base`, largest first.
        let bits = (0..height).rev().filter(|k| base >> k & 1 == 1);
        for (k, hash) in bits.zip(frontier.subtrees()) {
            levels[k].push(*hash);
        }
        MerkleTree { levels, base }
    }

    /// The frontier of the current size: the roots of the complete subtrees
    /// covering every leaf.
    pub fn frontier(&self) -> Frontier {
        let size = self.size();
        let height = (64 - size.leading_zeros()) as usize;
        let subtrees = (0..height)
            .rev()
            .filter(|k| size >> k & 1 == 1)
            .map(|k| self.levels[k][((size >> k) - 1 - self.offset(k)) as usize])
            .collect();
        Frontier::from_parts(size, subtrees)
    }

    /// Forgets everything but the frontier of the current size, so that the
    /// tree holds at most 64 hashes until it grows again.
    pub fn prune(&mut self) {
        *self = Self::from_frontier(&self.frontier());
    }

    /// Number of hashes held: about `2 * (size - base)` plus the frontier.
    pub fn held_hashes(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// The size before which leaves were pruned (0 for a whole tree).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Index of the first node held at level `k`.
    fn offset(&self, k: usize) -> u64 {
        if k >= 64 {
            return 0;
        }
        (self.base >> k) & !1
    }

    /// Appends a leaf hash and returns its index.
    pub fn push(&mut self, leaf_hash: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let index = self.size();
        self.levels[0].push(leaf_hash);
        // Each time the new node is a right child, its parent just became
        // complete: cache it, and carry on up.
        let (mut level, mut i) = (0, index);
        while i % 2 == 1 {
            let at = (i - self.offset(level)) as usize;
            let parent = node_hash(&self.levels[level][at - 1], &self.levels[level][at]);
            level += 1;
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(parent);
            i /= 2;
        }
        index
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels
            .first()
            .map_or(0, |l| self.offset(0) + l.len() as u64)
    }

    /// The leaf hash at `index`, if there is one and it was not pruned.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let at = usize::try_from(index.checked_sub(self.offset(0))?).ok()?;
        self.levels.first()?.get(at).copied()
    }

    /// Root at the current size.
    pub fn root(&self) -> Hash {
        self.root_at(self.size())
            .expect("the current size is always within the tree")
    }

    /// Root the tree had when it held `size` leaves (`base() <= size <=
    /// self.size()`, or 0).
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root());
        }
        self.check_held(size)?;
        self.subtree(0, size)
    }

    /// RFC 9162 section 2.1.3.1 inclusion proof of leaf `index` (`>= base()`)
    /// in the tree of the first `size` leaves. Ordered from the leaf upwards.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        self.check_held(index)?;
        let mut proof = Vec::with_capacity(64);
        self.path(index, 0, size, &mut proof)?;
        Ok(proof)
    }

    /// RFC 9162 section 2.1.4.1 consistency proof between the trees of the
    /// first `size1` (`>= base()`) and `size2` leaves. Empty when the sizes
    /// are equal. A proof from size 0 is refused: every tree extends the
    /// empty tree, so there is nothing to prove, and verifiers reject such
    /// proofs.
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
        self.check_held(size1)?;
        let mut proof = Vec::with_capacity(64);
        self.subproof(size1, 0, size2, true, &mut proof)?;
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

    /// Refuses a size whose tree reaches into the pruned part.
    fn check_held(&self, size: u64) -> Result<(), ProofError> {
        if size < self.base {
            return Err(ProofError::Pruned {
                size,
                base: self.base,
            });
        }
        Ok(())
    }

    /// MTH(D[lo:hi]) for a subtree reached by RFC 9162 splitting from
    /// `[0, s)`, `s <= size()`: `lo` is then a multiple of the smallest power
    /// of two >= `hi - lo`, so its left parts are always cached nodes (or,
    /// in a pruned tree, were: [`ProofError::Pruned`]).
    fn subtree(&self, lo: u64, hi: u64) -> Result<Hash, ProofError> {
        let n = hi - lo;
        if n.is_power_of_two() {
            let k = n.trailing_zeros() as usize;
            debug_assert_eq!(lo % n, 0, "subtree must be aligned");
            let held = (lo >> k)
                .checked_sub(self.offset(k))
                .and_then(|i| self.levels.get(k)?.get(usize::try_from(i).ok()?));
            return held.copied().ok_or(ProofError::Pruned {
                size: hi,
                base: self.base,
            });
        }
        let k = split_point(n);
        Ok(node_hash(
            &self.subtree(lo, lo + k)?,
            &self.subtree(lo + k, hi)?,
        ))
    }

    /// PATH(m, D[lo:hi]) with `m` relative to `lo`.
    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Result<(), ProofError> {
        let n = hi - lo;
        if n == 1 {
            return Ok(());
        }
        let k = split_point(n);
        if m < k {
            self.path(m, lo, lo + k, out)?;
            out.push(self.subtree(lo + k, hi)?);
        } else {
            self.path(m - k, lo + k, hi, out)?;
            out.push(self.subtree(lo, lo + k)?);
        }
        Ok(())
    }

    /// SUBPROOF(m, D[lo:hi], b).
    fn subproof(
        &self,
        m: u64,
        lo: u64,
        hi: u64,
        complete: bool,
        out: &mut Vec<Hash>,
    ) -> Result<(), ProofError> {
        let n = hi - lo;
        if m == n {
            if !complete {
                out.push(self.subtree(lo, hi)?);
            }
            return Ok(());
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, lo, lo + k, complete, out)?;
            out.push(self.subtree(lo + k, hi)?);
        } else {
            self.subproof(m - k, lo + k, hi, false, out)?;
            out.push(self.subtree(lo, lo + k)?);
        }
        Ok(())
    }
}
