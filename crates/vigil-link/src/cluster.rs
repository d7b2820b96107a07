//! Clustering scored pairs into entities, respecting people's decisions.
//!
//! The rule:
//! 1. Every **confirmed** pair is joined first, whatever else holds: a
//!    person said these are one.
//! 2. The pairs the model scored (all at or above the threshold) are then
//!    taken from the most to the least probable, and each joins its two
//!    entities (connected components, as single linkage does) unless a
//!    **rejected** pair would end up inside the joined entity. So a
//!    rejection keeps two records apart against any chain of model links,
//!    and the strongest evidence is placed first.
//! 3. A rejected pair that confirmed links join anyway (A=B and B=C
//!    confirmed, A≠C rejected) stays joined, and is reported as a conflict
//!    for a person to resolve: a confirmation is a positive statement about
//!    these records, a rejection only says the pair is not enough.
//!
//! Ties are broken by record index, so the result does not depend on the
//! order pairs arrive in. An entity's id is the index of its first record.

use crate::model::ScoredPair;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// People's decisions about pairs of records (indices into the records).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Decisions {
    /// "These are the same person."
    pub confirmed: Vec<(u32, u32)>,
    /// "These are not the same person."
    pub rejected: Vec<(u32, u32)>,
}

/// What clustering did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ClusterReport {
    pub entities: u64,
    pub largest: u64,
    /// Model pairs not joined because a rejection kept the two apart.
    pub kept_apart: u64,
    /// Model pairs not joined because a pair across the two entities was
    /// scored as strongly against a match as the link was for it.
    #[serde(default)]
    pub kept_apart_by_evidence: u64,
    /// Rejected pairs that confirmed links joined anyway.
    pub conflicts: Vec<(u32, u32)>,
}

struct Dsu {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl Dsu {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
}

/// Entities of `n` records: for each record, the index of its entity's
/// first record.
pub fn cluster(n: usize, pairs: &[ScoredPair], decisions: &Decisions) -> (Vec<u32>, ClusterReport) {
    cluster_guarded(n, pairs, decisions, &[])
}

/// Candidate pairs scored below the threshold, as evidence against
/// joining (`left`, `right`, match weight with the prior), read as an
/// adjacency list.
struct Against {
    start: Vec<u32>,
    other: Vec<u32>,
    weight: Vec<f32>,
}

impl Against {
    fn new(n: usize, against: &[(u32, u32, f32)]) -> Against {
        let mut start = vec![0u32; n + 1];
        for &(a, b, _) in against {
            if (a as usize) < n && (b as usize) < n {
                start[a as usize + 1] += 1;
                start[b as usize + 1] += 1;
            }
        }
        for k in 0..n {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let total = start[n] as usize;
        let (mut other, mut weight) = (vec![0u32; total], vec![0f32; total]);
        for &(a, b, w) in against {
            if (a as usize) < n && (b as usize) < n {
                for (x, y) in [(a, b), (b, a)] {
                    let k = fill[x as usize] as usize;
                    other[k] = y;
                    weight[k] = w;
                    fill[x as usize] += 1;
                }
            }
        }
        Against {
            start,
            other,
            weight,
        }
    }
}

/// As [`cluster`], with a chain guard: `against` are candidate pairs the
/// model scored below the threshold (match weight with the prior). Two
/// entities are not joined through a link of weight `w` when a pair
/// across them weighs `−w` or less: the evidence that two of their
/// records are different people is at least as strong as the link's that
/// the entities are one. Single linkage otherwise chains households and
/// namesakes through one weak link each into entities of hundreds of
/// records. Confirmed pairs are not guarded (a person decided).
pub fn cluster_guarded(
    n: usize,
    pairs: &[ScoredPair],
    decisions: &Decisions,
    against: &[(u32, u32, f32)],
) -> (Vec<u32>, ClusterReport) {
    let guard = Against::new(n, against);
    // Members of each entity as linked lists (head = root's first member).
    let mut next: Vec<u32> = vec![u32::MAX; n];
    let mut head: Vec<u32> = (0..n as u32).collect();
    let mut tail: Vec<u32> = (0..n as u32).collect();
    let mut d = Dsu {
        parent: (0..n as u32).collect(),
        size: vec![1; n],
    };
    let ok = |x: u32| (x as usize) < n;
    let mut report = ClusterReport::default();
    // 1. Confirmed.
    for &(a, b) in &decisions.confirmed {
        if ok(a) && ok(b) {
            let (ra, rb) = (d.find(a), d.find(b));
            if ra != rb {
                join(&mut d, &mut next, &mut head, &mut tail, ra, rb);
            }
        }
    }
    // Rejections by entity root: the records each entity must not join.
    let mut apart: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    let mut rejected: rustc_hash::FxHashSet<(u32, u32)> = Default::default();
    for &(a, b) in &decisions.rejected {
        if !ok(a) || !ok(b) || a == b {
            continue;
        }
        rejected.insert((a.min(b), a.max(b)));
        if d.find(a) == d.find(b) {
            report.conflicts.push((a.min(b), a.max(b)));
            continue;
        }
        let (ra, rb) = (d.find(a), d.find(b));
        apart.entry(ra).or_default().push(b);
        apart.entry(rb).or_default().push(a);
    }
    report.conflicts.sort_unstable();
    report.conflicts.dedup();
    // 2. Model pairs, strongest first.
    let mut order: Vec<&ScoredPair> = pairs.iter().filter(|p| ok(p.left) && ok(p.right)).collect();
    order.sort_by(|x, y| {
        y.weight
            .total_cmp(&x.weight)
            .then((x.left, x.right).cmp(&(y.left, y.right)))
    });
    for p in order {
        let (a, b) = (p.left.min(p.right), p.left.max(p.right));
        if rejected.contains(&(a, b)) {
            report.kept_apart += 1;
            continue;
        }
        let (ra, rb) = (d.find(a), d.find(b));
        if ra == rb {
            continue;
        }
        let blocked = {
            let check = |d: &mut Dsu, from: u32, other: u32| {
                apart
                    .get(&from)
                    .is_some_and(|v| v.iter().any(|&x| d.find(x) == other))
            };
            check(&mut d, ra, rb) || check(&mut d, rb, ra)
        };
        if blocked {
            report.kept_apart += 1;
            continue;
        }
        if !guard.other.is_empty() {
            // Walk the smaller entity's members and their evidence against.
            let (small, big) = if d.size[ra as usize] <= d.size[rb as usize] {
                (ra, rb)
            } else {
                (rb, ra)
            };
            let limit = -(p.weight as f32);
            let mut x = head[small as usize];
            let mut contradicted = false;
            while x != u32::MAX && !contradicted {
                let (s0, s1) = (
                    guard.start[x as usize] as usize,
                    guard.start[x as usize + 1] as usize,
                );
                for k in s0..s1 {
                    if guard.weight[k] <= limit && d.find(guard.other[k]) == big {
                        contradicted = true;
                        break;
                    }
                }
                x = next[x as usize];
            }
            if contradicted {
                report.kept_apart_by_evidence += 1;
                continue;
            }
        }
        let root = join(&mut d, &mut next, &mut head, &mut tail, ra, rb);
        let other = if root == ra { rb } else { ra };
        if let Some(v) = apart.remove(&other) {
            apart.entry(root).or_default().extend(v);
        }
    }
    // Entity id: the first record of each entity.
    let mut first: FxHashMap<u32, u32> = FxHashMap::default();
    let mut out = Vec::with_capacity(n);
    let mut sizes: FxHashMap<u32, u64> = FxHashMap::default();
    for i in 0..n as u32 {
        let r = d.find(i);
        let e = *first.entry(r).or_insert(i);
        *sizes.entry(e).or_default() += 1;
        out.push(e);
    }
    report.entities = sizes.len() as u64;
    report.largest = sizes.values().copied().max().unwrap_or(0);
    (out, report)
}

/// Joins two roots and their member lists; returns the new root.
fn join(d: &mut Dsu, next: &mut [u32], head: &mut [u32], tail: &mut [u32], a: u32, b: u32) -> u32 {
    let root = union(d, a, b);
    let other = if root == a { b } else { a };
    if !next.is_empty() {
        next[tail[root as usize] as usize] = head[other as usize];
        tail[root as usize] = tail[other as usize];
    }
    root
}

/// Joins two roots (the larger keeps its root); returns the new root.
fn union(d: &mut Dsu, a: u32, b: u32) -> u32 {
    let (big, small) = if d.size[a as usize] >= d.size[b as usize] {
        (a, b)
    } else {
        (b, a)
    };
    d.parent[small as usize] = big;
    d.size[big as usize] += d.size[small as usize];
    big
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(l: u32, r: u32, prob: f64) -> ScoredPair {
        ScoredPair {
            left: l,
            right: r,
            weight: (prob / (1.0 - prob)).log2(),
            probability: prob,
        }
    }

    #[test]
    fn connected_components() {
        let (c, r) = cluster(
            5,
            &[p(0, 1, 0.9), p(1, 2, 0.8), p(3, 4, 0.7)],
            &Decisions::default(),
        );
        assert_eq!(c, [0, 0, 0, 3, 3]);
        assert_eq!((r.entities, r.largest), (2, 3));
        let (c, _) = cluster(3, &[], &Decisions::default());
        assert_eq!(c, [0, 1, 2]);
        let (c, _) = cluster(0, &[p(0, 1, 0.9)], &Decisions::default());
        assert!(c.is_empty());
    }

    #[test]
    fn a_rejection_keeps_records_apart_against_a_chain() {
        // 0-1 and 1-2 strong, 0-2 rejected: 1 goes with the stronger side.
        let pairs = [p(0, 1, 0.95), p(1, 2, 0.9), p(0, 2, 0.6)];
        let dec = Decisions {
            rejected: vec![(2, 0)],
            ..Decisions::default()
        };
        let (c, r) = cluster(3, &pairs, &dec);
        assert_eq!(c, [0, 0, 2]);
        assert_eq!(r.kept_apart, 2);
        assert!(r.conflicts.is_empty());
        // Order of the input does not matter.
        let rev: Vec<ScoredPair> = pairs.iter().rev().copied().collect();
        assert_eq!(cluster(3, &rev, &dec).0, c);
        // A rejection between two chains keeps the chains apart.
        let pairs = [p(0, 1, 0.9), p(2, 3, 0.9), p(1, 2, 0.99)];
        let dec = Decisions {
            rejected: vec![(0, 3)],
            ..Decisions::default()
        };
        let (c, _) = cluster(4, &pairs, &dec);
        // 1-2 is strongest and joins first; then 0-1 joins 0; 2-3 would put
        // 0 and 3 together, so 3 stays alone.
        assert_eq!(c, [0, 0, 0, 3]);
    }

    #[test]
    fn a_weak_link_does_not_chain_across_a_clear_non_match() {
        // 0-1 strong, 1-2 weak (weight +1), and 0-2 scored clearly against
        // (weight -10): 2 stays apart. Plain single linkage joins all three.
        let pairs = [p(0, 1, 0.999), p(1, 2, 2.0 / 3.0)];
        assert_eq!(cluster(3, &pairs, &Decisions::default()).0, [0, 0, 0]);
        let (c, r) = cluster_guarded(3, &pairs, &Decisions::default(), &[(2, 0, -10.0)]);
        assert_eq!(c, [0, 0, 2]);
        assert_eq!(r.kept_apart_by_evidence, 1);
        // Evidence against weaker than the link does not keep them apart.
        let (c, _) = cluster_guarded(3, &pairs, &Decisions::default(), &[(0, 2, -0.5)]);
        assert_eq!(c, [0, 0, 0]);
        // The guard reads every member of the smaller entity: 3-4 joins
        // {0,1,2}'s side through 2-3 only if no member is contradicted.
        let pairs = [p(0, 1, 0.999), p(1, 2, 0.999), p(3, 4, 0.999), p(2, 3, 0.8)];
        let (c, _) = cluster_guarded(5, &pairs, &Decisions::default(), &[(4, 0, -3.0)]);
        assert_eq!(c, [0, 0, 0, 3, 3]);
        // A confirmation is not guarded: a person decided.
        let dec = Decisions {
            confirmed: vec![(0, 2)],
            ..Decisions::default()
        };
        let (c, _) = cluster_guarded(3, &[], &dec, &[(0, 2, -30.0)]);
        assert_eq!(c, [0, 1, 0]);
        // Out-of-range evidence is ignored.
        let (c, _) = cluster_guarded(2, &[p(0, 1, 0.9)], &Decisions::default(), &[(0, 7, -30.0)]);
        assert_eq!(c, [0, 0]);
    }

    #[test]
    fn confirmations_join_and_win_over_rejections() {
        // Confirmed with no model pair at all.
        let dec = Decisions {
            confirmed: vec![(0, 2)],
            ..Decisions::default()
        };
        assert_eq!(cluster(3, &[], &dec).0, [0, 1, 0]);
        // Confirmed path 0=1=2 joins a rejected 0≠2: a conflict reported.
        let dec = Decisions {
            confirmed: vec![(0, 1), (1, 2)],
            rejected: vec![(0, 2)],
        };
        let (c, r) = cluster(3, &[], &dec);
        assert_eq!(c, [0, 0, 0]);
        assert_eq!(r.conflicts, [(0, 2)]);
        // A rejected pair the model scores highly is not joined directly.
        let dec = Decisions {
            rejected: vec![(0, 1)],
            ..Decisions::default()
        };
        assert_eq!(cluster(2, &[p(0, 1, 0.999)], &dec).0, [0, 1]);
        // Out-of-range indices are ignored, not a panic.
        let dec = Decisions {
            confirmed: vec![(0, 9)],
            rejected: vec![(7, 1)],
        };
        assert_eq!(cluster(2, &[p(0, 5, 0.9)], &dec).0, [0, 1]);
    }
}
