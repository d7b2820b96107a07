//! RFC 9162 proof verification (sections 2.1.3.2 and 2.1.4.2) and the error
//! type shared by proof production and checking.

use crate::hash::{empty_root, node_hash, Hash};

/// Why a proof could not be produced or did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("entry {index} is not in a tree of {size} entries")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A size larger than the tree currently held was asked for.
    #[error("tree size {size} was asked for, but the log only holds {tree_size} entries")]
    SizeBeyondTree { size: u64, tree_size: u64 },
    /// A size or leaf before the point a pruned tree was pruned at
    /// ([`crate::MerkleTree::prune`]): only its frontier is held.
    #[error(
        "tree size {size} reaches before entry {base}, and this tree holds only its frontier there"
    )]
    Pruned { size: u64, base: u64 },
    /// A consistency check where the "older" tree is the larger one.
    #[error("the older tree size ({size1}) is larger than the newer one ({size2})")]
    SizesOutOfOrder { size1: u64, size2: u64 },
    /// Consistency from size 0: every tree extends the empty tree, so such a
    /// proof shows nothing and is refused (as RFC 9162 requires `0 < m`).
    #[error("a consistency proof from an empty tree proves nothing and is not accepted")]
    ConsistencyFromEmpty,
    /// The proof has the wrong number of hashes for the index and sizes.
    #[error("the proof has {actual} hashes, but one for these sizes must have {expected}")]
    WrongProofLength { expected: usize, actual: usize },
    /// An inclusion proof led to a different root than the one expected.
    #[error("the inclusion proof does not lead from this entry to the expected root")]
    RootMismatch,
    /// A consistency proof did not reproduce the older root.
    #[error("the consistency proof does not reproduce the older tree's root")]
    OldRootMismatch,
    /// A consistency proof did not reproduce the newer root.
    #[error("the consistency proof does not reproduce the newer tree's root")]
    NewRootMismatch,
    /// Two trees of the same size must have the same root.
    #[error("the two trees have the same size but different roots")]
    RootsDiffer,
    /// A tree of size 0 must have [`empty_root`].
    #[error("a tree of size 0 must have the empty root (SHA-256 of nothing)")]
    NotEmptyRoot,
    /// Issuing a receipt: the entry is not the one stored at that index.
    #[error("the entry given does not match leaf {index} of the log")]
    LeafMismatch { index: u64 },
    /// Issuing a receipt: the signed tree head is not for this tree.
    #[error("the signed tree head's root is not this log's root at size {size}")]
    TreeHeadMismatch { size: u64 },
    /// Issuing a receipt: the tree head's signature is not by this log's key.
    #[error("the signed tree head is not validly signed by this log's key")]
    TreeHeadNotSigned,
    /// Issuing a receipt: the timestamp cannot be written as a date.
    #[error("timestamp {timestamp_ms} ms is outside the range of writable dates")]
    TimestampOutOfRange { timestamp_ms: i64 },
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size`
/// (`index < size`): the levels below the point where the paths to `index`
/// and to the last leaf part, plus one per left sibling above it.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// Shifts `fn_` and `sn` right together until `fn_` is odd or zero.
fn skip_right_edge(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// RFC 9162 section 2.1.3.2: checks that `proof` links leaf `index` with hash
/// `leaf_hash` to `root` in a tree of `size` leaves.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Checked up front for a clearer error; the RFC loop below would also
    // catch it through `sn`.
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            skip_right_edge(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 section 2.1.4.2: checks that the tree of `size2` leaves with
/// `root2` extends (append-only) the tree of `size1` leaves with `root1`.
///
/// Equal sizes need an empty proof and equal roots (and size 0 the empty
/// root). Size 0 against a larger size is refused, see
/// [`ProofError::ConsistencyFromEmpty`].
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if root1 != root2 {
            return Err(ProofError::RootsDiffer);
        }
        if size1 == 0 && *root1 != empty_root() {
            return Err(ProofError::NotEmptyRoot);
        }
        return Ok(());
    }
    if size1 == 0 {
        return Err(ProofError::ConsistencyFromEmpty);
    }

    // Expected length: the inclusion path of the old tree's last leaf in the
    // new tree, minus the levels inside the old tree's rightmost complete
    // subtree, plus that subtree's root unless it is the whole old tree.
    let shift = size1.trailing_zeros() as usize;
    let old_is_complete = size1 == 1 << shift;
    let expected = inclusion_proof_len(size1 - 1, size2) - shift + usize::from(!old_is_complete);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }

    // Step 2: when the old tree is complete its root is the first node.
    let (seed, rest) = if old_is_complete {
        (*root1, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            skip_right_edge(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if fr != *root1 {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *root2 {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}
