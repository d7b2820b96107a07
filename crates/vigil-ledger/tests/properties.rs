//! Property tests: the tree, the frontier and the verifiers against a naive
//! transcription of the RFC 9162 definitions (section 2.1), and tampering.

use proptest::prelude::*;
use vigil_ledger::{
    empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion, Frontier, Hash,
    MerkleTree, ProofError,
};

// ---- naive reference, written straight from RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1 ----

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = split(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]) together with its shape: `true` where the sibling is on the
/// left.
fn path(m: usize, d: &[Hash]) -> Vec<(Hash, bool)> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = split(d.len());
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push((mth(&d[k..]), false));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push((mth(&d[..k]), true));
        p
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    OldRootIsSeed,
    Seed,
    LeftSibling,
    RightSibling,
}

/// SUBPROOF(m, D[n], b) together with its shape.
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<(Hash, Step)> {
    let n = d.len();
    if m == n {
        return if b {
            vec![(empty_root(), Step::OldRootIsSeed)]
        } else {
            vec![(mth(d), Step::Seed)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push((mth(&d[k..]), Step::RightSibling));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push((mth(&d[..k]), Step::LeftSibling));
        p
    }
}

fn naive_consistency(m: usize, d: &[Hash]) -> (Vec<Hash>, Vec<Step>) {
    subproof(m, d, true)
        .into_iter()
        .filter(|(_, s)| *s != Step::OldRootIsSeed)
        .unzip()
}

fn consistency_shape(m: usize, d: &[Hash]) -> Vec<Step> {
    subproof(m, d, true).into_iter().map(|(_, s)| s).collect()
}

// ---- helpers ----

fn leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| {
            let mut b = seed.to_be_bytes().to_vec();
            b.extend_from_slice(&i.to_be_bytes());
            leaf_hash(&b)
        })
        .collect()
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[(bit / 8) % 32] ^= 1 << (bit % 8);
    h
}

/// Picks an element of `0..n` from a fraction in [0, 1).
fn pick(frac: f64, n: usize) -> usize {
    ((frac * n as f64) as usize).min(n - 1)
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(96)
}

proptest! {
    #![proptest_config(config())]

    /// Frontier, MerkleTree::root_at at every earlier size, and the naive MTH
    /// all agree.
    #[test]
    fn roots_agree(n in 0usize..3000, seed: u64, sample in prop::collection::vec(0.0f64..1.0, 6)) {
        let d = leaves(n, seed);
        let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
        prop_assert_eq!(tree.size(), n as u64);
        let mut frontier = Frontier::new();
        prop_assert_eq!(frontier.root(), tree.root_at(0).unwrap());
        for (i, l) in d.iter().enumerate() {
            frontier.push(*l);
            prop_assert_eq!(frontier.size(), i as u64 + 1);
            prop_assert_eq!(frontier.root(), tree.root_at(i as u64 + 1).unwrap());
        }
        prop_assert_eq!(tree.root(), mth(&d));
        prop_assert_eq!(frontier.root(), mth(&d));
        for f in sample {
            let s = pick(f, n + 1);
            prop_assert_eq!(tree.root_at(s as u64).unwrap(), mth(&d[..s]));
        }
        prop_assert_eq!(
            tree.root_at(n as u64 + 1),
            Err(ProofError::SizeBeyondTree { size: n as u64 + 1, tree_size: n as u64 })
        );
    }

    /// Inclusion proofs at sampled (index, size) equal the naive PATH, verify,
    /// and stop verifying when anything is changed.
    #[test]
    fn inclusion_proofs(
        n in 1usize..3000,
        seed: u64,
        picks in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0, any::<usize>()), 4),
    ) {
        let d = leaves(n, seed);
        let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
        for (fs, fi, fo, bit) in picks {
            let size = pick(fs, n) + 1;
            let index = pick(fi, size);
            let (s, i) = (size as u64, index as u64);
            let root = tree.root_at(s).unwrap();
            let proof = tree.inclusion_proof(i, s).unwrap();
            let (naive, shape): (Vec<Hash>, Vec<bool>) = path(index, &d[..size]).into_iter().unzip();
            prop_assert_eq!(&proof, &naive);
            prop_assert_eq!(verify_inclusion(i, s, &d[index], &proof, &root), Ok(()));

            // One flipped bit anywhere breaks it.
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let e = pick(fo, bad.len());
                bad[e] = flip(&bad[e], bit);
                prop_assert!(verify_inclusion(i, s, &d[index], &bad, &root).is_err());
            }
            prop_assert!(verify_inclusion(i, s, &flip(&d[index], bit), &proof, &root).is_err());
            prop_assert!(verify_inclusion(i, s, &d[index], &proof, &flip(&root, bit)).is_err());

            // Another index of the same tree never verifies.
            let other = pick(fo, size);
            if other != index {
                prop_assert!(verify_inclusion(other as u64, s, &d[index], &proof, &root).is_err());
            }
            prop_assert!(verify_inclusion(s, s, &d[index], &proof, &root).is_err());
            // Another size verifies only where RFC 9162 cannot tell them
            // apart: the path has exactly the same shape (the size itself is
            // bound by the signed tree head, not the proof).
            for other_size in [size - 1, size + 1, size * 2, size / 2, pick(fo, 2 * n) + 1] {
                if other_size == size || other_size <= index {
                    continue;
                }
                let same_shape = {
                    let longer = leaves(other_size, seed);
                    path(index, &longer).into_iter().map(|(_, b)| b).collect::<Vec<_>>() == shape
                };
                let ok = verify_inclusion(i, other_size as u64, &d[index], &proof, &root).is_ok();
                prop_assert_eq!(ok, same_shape, "size {} instead of {}", other_size, size);
            }
        }
    }

    /// Consistency proofs at sampled size pairs equal the naive SUBPROOF,
    /// verify, and stop verifying when anything is changed.
    #[test]
    fn consistency_proofs(
        n in 1usize..3000,
        seed: u64,
        picks in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0, any::<usize>()), 4),
    ) {
        let d = leaves(n, seed);
        let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
        for (f2, f1, fo, bit) in picks {
            let size2 = pick(f2, n) + 1;
            let size1 = pick(f1, size2) + 1;
            let (s1, s2) = (size1 as u64, size2 as u64);
            let (root1, root2) = (tree.root_at(s1).unwrap(), tree.root_at(s2).unwrap());
            let proof = tree.consistency_proof(s1, s2).unwrap();
            if size1 == size2 {
                prop_assert!(proof.is_empty());
            } else {
                prop_assert_eq!(&proof, &naive_consistency(size1, &d[..size2]).0);
            }
            prop_assert_eq!(verify_consistency(s1, s2, &root1, &root2, &proof), Ok(()));

            if !proof.is_empty() {
                let mut bad = proof.clone();
                let e = pick(fo, bad.len());
                bad[e] = flip(&bad[e], bit);
                prop_assert!(verify_consistency(s1, s2, &root1, &root2, &bad).is_err());
                let mut short = proof.clone();
                short.pop();
                prop_assert!(verify_consistency(s1, s2, &root1, &root2, &short).is_err());
            }
            let mut long = proof.clone();
            long.push(root1);
            prop_assert!(verify_consistency(s1, s2, &root1, &root2, &long).is_err());
            prop_assert!(verify_consistency(s1, s2, &flip(&root1, bit), &root2, &proof).is_err());
            prop_assert!(verify_consistency(s1, s2, &root1, &flip(&root2, bit), &proof).is_err());
            if root1 != root2 {
                prop_assert!(verify_consistency(s1, s2, &root2, &root1, &proof).is_err());
            }
            prop_assert!(verify_consistency(s2, s1, &root1, &root2, &proof).is_err() || s1 == s2);
            prop_assert!(verify_consistency(0, s2, &empty_root(), &root2, &proof).is_err());

            // Other sizes verify only when the proof has exactly the same
            // shape (RFC 9162 binds the sizes through the signed heads).
            if size1 < size2 {
                let shape = consistency_shape(size1, &d[..size2]);
                for (o1, o2) in [(size1 - 1, size2), (size1 + 1, size2), (size1, size2 + 1), (size1, size2 - 1), (size1, 2 * size2)] {
                    if o1 == 0 || o1 >= o2 || (o1, o2) == (size1, size2) {
                        continue;
                    }
                    let same_shape = consistency_shape(o1, &leaves(o2, seed)) == shape;
                    let ok = verify_consistency(o1 as u64, o2 as u64, &root1, &root2, &proof).is_ok();
                    prop_assert_eq!(ok, same_shape, "sizes {} {} instead of {} {}", o1, o2, size1, size2);
                }
            }
        }
    }
}

/// Every index and every size pair of every tree up to 40 leaves, exhaustively.
#[test]
fn exhaustive_small_trees() {
    let d = leaves(40, 7);
    let tree = MerkleTree::from_leaf_hashes(d.iter().copied());
    for size in 0..=d.len() {
        let s = size as u64;
        let root = tree.root_at(s).unwrap();
        assert_eq!(root, mth(&d[..size]));
        for index in 0..size {
            let proof = tree.inclusion_proof(index as u64, s).unwrap();
            let naive: Vec<Hash> = path(index, &d[..size]).into_iter().map(|p| p.0).collect();
            assert_eq!(proof, naive, "inclusion {index} in {size}");
            verify_inclusion(index as u64, s, &d[index], &proof, &root).unwrap();
        }
        assert_eq!(
            tree.inclusion_proof(s, s),
            Err(ProofError::IndexOutOfRange { index: s, size: s })
        );
        for size1 in 1..=size {
            let proof = tree.consistency_proof(size1 as u64, s).unwrap();
            if size1 < size {
                assert_eq!(proof, naive_consistency(size1, &d[..size]).0);
            } else {
                assert!(proof.is_empty());
            }
            let root1 = tree.root_at(size1 as u64).unwrap();
            verify_consistency(size1 as u64, s, &root1, &root, &proof)
                .unwrap_or_else(|e| panic!("consistency {size1} -> {size}: {e}"));
        }
    }
    assert_eq!(tree.consistency_proof(0, 0), Ok(Vec::new()));
    assert_eq!(
        tree.consistency_proof(0, 5),
        Err(ProofError::ConsistencyFromEmpty)
    );
    assert_eq!(
        tree.consistency_proof(6, 5),
        Err(ProofError::SizesOutOfOrder { size1: 6, size2: 5 })
    );
    assert_eq!(
        tree.consistency_proof(1, 41),
        Err(ProofError::SizeBeyondTree {
            size: 41,
            tree_size: 40
        })
    );
    assert_eq!(
        verify_consistency(0, 0, &empty_root(), &empty_root(), &[]),
        Ok(())
    );
}

proptest! {
    #![proptest_config(config())]

    /// A tree pruned to its frontier at a random base (once, or again after
    /// growing) gives the same roots, inclusion proofs and consistency
    /// proofs as the whole tree for everything from the base on, and refuses
    /// what lies before it.
    #[test]
    fn pruned_trees_prove_what_whole_trees_prove(
        n in 1usize..2500,
        seed: u64,
        fb in 0.0f64..1.0,
        fb2 in 0.0f64..1.0,
        picks in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 8),
    ) {
        let d = leaves(n, seed);
        let whole = MerkleTree::from_leaf_hashes(d.iter().copied());
        let base = pick(fb, n + 1);
        let mut frontier = Frontier::new();
        d[..base].iter().for_each(|l| frontier.push(*l));
        let mut tree = MerkleTree::from_frontier(&frontier);
        prop_assert_eq!(tree.size(), base as u64);
        prop_assert_eq!(tree.base(), base as u64);
        prop_assert_eq!(tree.frontier(), frontier.clone());
        prop_assert_eq!(tree.root(), frontier.root());
        // Grow to a second base, prune there, then grow to the end.
        let base2 = base + pick(fb2, n - base + 1);
        for l in &d[base..base2] {
            tree.push(*l);
        }
        prop_assert_eq!(tree.root(), whole.root_at(base2 as u64).unwrap());
        tree.prune();
        prop_assert_eq!(tree.base(), base2 as u64);
        for (i, l) in d.iter().enumerate().skip(base2) {
            prop_assert_eq!(tree.push(*l), i as u64);
        }
        let b = base2 as u64;
        prop_assert_eq!(tree.size(), n as u64);
        prop_assert_eq!(tree.root(), whole.root());
        prop_assert_eq!(tree.frontier(), {
            let mut f = Frontier::new();
            d.iter().for_each(|l| f.push(*l));
            f
        });
        for (fs, fi) in picks {
            // A size from the base on, an index within the held part.
            let size = b + pick(fs, n - base2 + 1) as u64;
            prop_assert_eq!(tree.root_at(size), whole.root_at(size));
            if size > b {
                let index = b + pick(fi, (size - b) as usize) as u64;
                prop_assert_eq!(tree.leaf(index), whole.leaf(index));
                prop_assert_eq!(
                    tree.inclusion_proof(index, size),
                    whole.inclusion_proof(index, size)
                );
                let to = size + pick(fi, n - size as usize + 1) as u64;
                prop_assert_eq!(
                    tree.consistency_proof(size, to),
                    whole.consistency_proof(size, to)
                );
            }
        }
        if b > 0 {
            // The empty tree's root needs no leaves, so size 0 is always
            // answered, even when everything before the base is gone.
            let expected = if b == 1 {
                Ok(empty_root())
            } else {
                Err(ProofError::Pruned { size: b - 1, base: b })
            };
            prop_assert_eq!(tree.root_at(b - 1), expected);
            prop_assert!(tree.inclusion_proof(b - 1, n as u64).is_err());
            prop_assert!(tree.consistency_proof(b - 1, n as u64).is_err());
        }
    }
}

/// Pruning every possible way, every inclusion and consistency proof the
/// pruned tree gives of what it holds equals the whole tree's (small trees).
#[test]
fn exhaustive_small_pruned_trees() {
    for n in 1..=40usize {
        let d = leaves(n, 11);
        let whole = MerkleTree::from_leaf_hashes(d.iter().copied());
        for base in 0..=n {
            let mut frontier = Frontier::new();
            d[..base].iter().for_each(|l| frontier.push(*l));
            let mut tree = MerkleTree::from_frontier(&frontier);
            d[base..].iter().for_each(|l| {
                tree.push(*l);
            });
            let b = base as u64;
            // Before the base: the empty root is still known, nothing else.
            assert_eq!(tree.root_at(0), Ok(empty_root()), "n {n} base {base}");
            for size in 1..b {
                assert_eq!(
                    tree.root_at(size),
                    Err(ProofError::Pruned { size, base: b }),
                    "n {n} base {base} size {size}"
                );
            }
            for size in b.max(1)..=n as u64 {
                assert_eq!(tree.root_at(size), whole.root_at(size));
                for index in b..size {
                    assert_eq!(
                        tree.inclusion_proof(index, size).unwrap(),
                        whole.inclusion_proof(index, size).unwrap(),
                        "n {n} base {base} index {index} size {size}"
                    );
                }
                for to in size..=n as u64 {
                    assert_eq!(
                        tree.consistency_proof(size, to).unwrap(),
                        whole.consistency_proof(size, to).unwrap(),
                        "n {n} base {base} from {size} to {to}"
                    );
                }
            }
        }
    }
}

/// Pushing one at a time and building at once give the same tree, and push
/// returns consecutive indices.
#[test]
fn push_matches_from_leaf_hashes() {
    let d = leaves(1000, 3);
    let mut tree = MerkleTree::new();
    for (i, l) in d.iter().enumerate() {
        assert_eq!(tree.push(*l), i as u64);
        assert_eq!(tree.leaf(i as u64), Some(*l));
    }
    assert_eq!(tree.leaf(1000), None);
    assert_eq!(tree.leaf(u64::MAX), None);
    let built = MerkleTree::from_leaf_hashes(d.iter().copied());
    assert_eq!(tree.root(), built.root());
    assert_eq!(MerkleTree::new().root(), empty_root());
    assert_eq!(Frontier::new().root(), empty_root());
}

#[test]
fn hashes_follow_rfc_9162() {
    // Known SHA-256 values, independent of this crate.
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // SHA-256 of the single byte 0x00: the leaf hash of the empty leaf.
    assert_eq!(
        hex::encode(leaf_hash(b"")),
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    );
    let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
    assert_ne!(node_hash(&a, &b), node_hash(&b, &a));
    let mut input = vec![1u8];
    input.extend_from_slice(&a);
    input.extend_from_slice(&b);
    assert_eq!(node_hash(&a, &b), sha2_digest(&input));
}

fn sha2_digest(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}
