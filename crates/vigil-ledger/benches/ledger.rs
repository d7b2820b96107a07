//! Throughput of the operations Vigil runs at scale: re-verifying a whole log
//! (Frontier), hashing entries, building the proof tree and answering proofs.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use vigil_ledger::{leaf_hash, Frontier, Hash, MerkleTree};

const N: u64 = 1_000_000;

/// Distinct, cheap pseudo leaf hashes (hashing is benchmarked separately).
fn leaves() -> Vec<Hash> {
    (0..N)
        .map(|i| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&i.to_le_bytes());
            h
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let leaves = leaves();

    c.bench_function("frontier_push_1m", |b| {
        b.iter(|| {
            let mut f = Frontier::new();
            for l in &leaves {
                f.push(*l);
            }
            black_box(f.root())
        })
    });

    let entry = vec![b'x'; 400];
    c.bench_function("leaf_hash_400_bytes", |b| {
        b.iter(|| leaf_hash(black_box(&entry)))
    });

    c.bench_function("merkle_tree_push_1m", |b| {
        b.iter(|| {
            let mut t = MerkleTree::new();
            for l in &leaves {
                t.push(*l);
            }
            black_box(t.size())
        })
    });

    let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
    let mut i = 0u64;
    c.bench_function("inclusion_proof_at_1m", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            black_box(tree.inclusion_proof(i, N).unwrap())
        })
    });
}

criterion_group! {
    name = ledger;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1));
    targets = benches
}
criterion_main!(ledger);
