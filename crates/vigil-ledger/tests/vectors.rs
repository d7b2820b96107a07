//! Checks the verifiers and the tree against the RFC 6962 / RFC 9162 proof
//! test vectors of the public transparency-dev/merkle project (testdata/,
//! Apache License 2.0), kept outside the repository in
//! `shared/testdata/merkle` beside the work tree (see its README.md).
//!
//! When that directory is absent (a clone outside this workspace) the tests
//! say so and skip rather than fail.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigil_ledger::{leaf_hash, verify_consistency, verify_inclusion, Frontier, Hash, MerkleTree};

fn vectors_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/merkle");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "merkle test vectors not found at {}, skipped",
            dir.display()
        );
        None
    }
}

/// Every `.json` file below `dir`, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn raw(v: &Value, field: &str) -> Vec<u8> {
    STANDARD.decode(v[field].as_str().unwrap()).unwrap()
}

/// A 32-byte hash, or `None` when the vector deliberately holds something
/// else (e.g. "ZG9uJ3QgY2FyZSAx" = "don't care 1", or ""), which our typed
/// API cannot even be called with.
fn hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

/// Roots are only ever compared for equality, so a root that is not 32
/// bytes gets a 32-byte stand-in that keeps equal roots equal and matches no
/// real tree. This lets the "sizes equal, roots equal, proof empty" vector
/// (wantErr false, with "don't care" roots) be run rather than rejected, and
/// makes the wrong-root vectors exercise the verifier's root check.
fn root(v: &Value, field: &str) -> Hash {
    let bytes = raw(v, field);
    hash(&bytes).unwrap_or_else(|| {
        Sha256::new()
            .chain_update(b"stand-in for a malformed root:")
            .chain_update(&bytes)
            .finalize()
            .into()
    })
}

/// `"proof": null` means an empty proof. `None` if an element is not 32 bytes.
fn proof(v: &Value) -> Option<Vec<Hash>> {
    match &v["proof"] {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|h| hash(&STANDARD.decode(h.as_str().unwrap()).unwrap()))
            .collect(),
        other => panic!("unexpected proof {other}"),
    }
}

fn u64_field(v: &Value, field: &str) -> u64 {
    v[field].as_u64().unwrap()
}

/// Runs one vector; `Ok` if our verifier agrees with `wantErr`.
fn run_inclusion(v: &Value) -> Result<(), String> {
    let want_err = v["wantErr"].as_bool().unwrap();
    let leaf = hash(&raw(v, "leafHash"));
    let outcome = match (leaf, proof(v)) {
        (Some(leaf), Some(proof)) => verify_inclusion(
            u64_field(v, "leafIdx"),
            u64_field(v, "treeSize"),
            &leaf,
            &proof,
            &root(v, "root"),
        )
        .map_err(|e| e.to_string()),
        _ => Err("a leaf hash or proof element is not 32 bytes".to_owned()),
    };
    match (outcome, want_err) {
        (Ok(()), false) | (Err(_), true) => Ok(()),
        (Ok(()), true) => Err("accepted, but the vector wants an error".to_owned()),
        (Err(e), false) => Err(format!("rejected ({e}), but the vector wants success")),
    }
}

fn run_consistency(v: &Value) -> Result<(), String> {
    let want_err = v["wantErr"].as_bool().unwrap();
    let outcome = match proof(v) {
        Some(proof) => verify_consistency(
            u64_field(v, "size1"),
            u64_field(v, "size2"),
            &root(v, "root1"),
            &root(v, "root2"),
            &proof,
        )
        .map_err(|e| e.to_string()),
        None => Err("a proof element is not 32 bytes".to_owned()),
    };
    match (outcome, want_err) {
        (Ok(()), false) | (Err(_), true) => Ok(()),
        (Ok(()), true) => Err("accepted, but the vector wants an error".to_owned()),
        (Err(e), false) => Err(format!("rejected ({e}), but the vector wants success")),
    }
}

#[test]
fn all_vectors_agree_with_want_err() {
    let Some(dir) = vectors_dir() else { return };
    let mut failures = Vec::new();
    let (mut ran, mut want_ok) = (0, 0);
    for (kind, run) in [
        (
            "inclusion",
            run_inclusion as fn(&Value) -> Result<(), String>,
        ),
        ("consistency", run_consistency),
    ] {
        let files = json_files(&dir.join(kind));
        assert!(!files.is_empty(), "no {kind} vectors in {}", dir.display());
        for path in files {
            let v = load(&path);
            if !v["wantErr"].as_bool().unwrap() {
                want_ok += 1;
            }
            if let Err(e) = run(&v) {
                failures.push(format!("{}: {e}", path.display()));
            }
            ran += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran > 150, "only {ran} vectors ran");
    assert!(want_ok >= 10, "only {want_ok} success cases");
    println!("{ran} vectors ran, {want_ok} of them expected to verify");
}

/// The reference leaves the vectors' trees are built from (README.md).
const REFERENCE_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

fn reference_tree() -> MerkleTree {
    MerkleTree::from_leaf_hashes(
        REFERENCE_LEAVES
            .iter()
            .map(|h| leaf_hash(&hex::decode(h).unwrap())),
    )
}

/// The reference tree pruned to its frontier at `base` leaves, then grown
/// back to its full size.
fn pruned_reference_tree(base: u64) -> MerkleTree {
    let whole = reference_tree();
    let mut frontier = Frontier::new();
    for i in 0..base {
        frontier.push(whole.leaf(i).unwrap());
    }
    let mut tree = MerkleTree::from_frontier(&frontier);
    for i in base..whole.size() {
        tree.push(whole.leaf(i).unwrap());
    }
    tree
}

fn b64_hashes(v: &Value) -> Vec<Hash> {
    proof(v).expect("happy paths hold 32-byte hashes")
}

fn b64_hash(v: &Value, field: &str) -> Hash {
    hash(&raw(v, field)).expect("happy paths hold 32-byte hashes")
}

/// Building the reference tree ourselves must give the roots the happy-path
/// vectors expect, and our proof generation must give exactly their proofs.
#[test]
fn reference_tree_regenerates_happy_path_vectors() {
    let Some(dir) = vectors_dir() else { return };
    let tree = reference_tree();
    let mut checked = 0;

    for path in json_files(&dir.join("inclusion")) {
        if path.file_name().unwrap() != "happy-path.json" {
            continue;
        }
        let v = load(&path);
        let (index, size) = (u64_field(&v, "leafIdx"), u64_field(&v, "treeSize"));
        let at = path.display();
        assert_eq!(tree.root_at(size).unwrap(), b64_hash(&v, "root"), "{at}");
        assert_eq!(tree.leaf(index).unwrap(), b64_hash(&v, "leafHash"), "{at}");
        assert_eq!(
            tree.inclusion_proof(index, size).unwrap(),
            b64_hashes(&v),
            "{at}"
        );
        // A tree pruned anywhere up to the leaf gives the same proof.
        for base in 0..=index {
            let pruned = pruned_reference_tree(base);
            assert_eq!(
                pruned.inclusion_proof(index, size).unwrap(),
                b64_hashes(&v),
                "{at}, pruned at {base}"
            );
            assert_eq!(pruned.root_at(size).unwrap(), b64_hash(&v, "root"), "{at}");
        }
        let mut frontier = Frontier::new();
        for i in 0..size {
            frontier.push(tree.leaf(i).unwrap());
        }
        assert_eq!(frontier.root(), b64_hash(&v, "root"), "{at}");
        checked += 1;
    }

    for path in json_files(&dir.join("consistency")) {
        if path.file_name().unwrap() != "happy-path.json" {
            continue;
        }
        let v = load(&path);
        let (size1, size2) = (u64_field(&v, "size1"), u64_field(&v, "size2"));
        let at = path.display();
        assert_eq!(tree.root_at(size1).unwrap(), b64_hash(&v, "root1"), "{at}");
        assert_eq!(tree.root_at(size2).unwrap(), b64_hash(&v, "root2"), "{at}");
        assert_eq!(
            tree.consistency_proof(size1, size2).unwrap(),
            b64_hashes(&v),
            "{at}"
        );
        for base in 0..=size1 {
            assert_eq!(
                pruned_reference_tree(base)
                    .consistency_proof(size1, size2)
                    .unwrap(),
                b64_hashes(&v),
                "{at}, pruned at {base}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} happy-path vectors found");
}
