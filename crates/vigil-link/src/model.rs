//! The Fellegi–Sunter model: for each field and level, m (the chance a
//! true match is at that level) and u (the chance a non-match is), the
//! prior λ (the chance two records picked at random are one person), and
//! term frequencies for names and postcodes. A pair's match weight is
//! `log2(λ/(1−λ)) + Σ log2(m/u)` (plus term-frequency adjustments), and its
//! probability `1 / (1 + 2^−weight)`.
//!
//! Estimated without labels, as Splink does:
//! - **u** from record pairs drawn at random (almost all non-matches).
//! - **m** by expectation maximisation over the pairs each blocking rule
//!   finds, one training session per rule, with u held fixed and the
//!   fields the rule makes agree held out (they agree by construction, so
//!   they say nothing there); the sessions' expected counts are pooled.
//! - **λ** as the fixed point of `λ = Σ P(match | pair, λ) / (n(n−1)/2)`
//!   over every candidate pair (pairs no rule finds count as non-matches).
//! - **Term frequencies**: an exact match on a value held by a share `tf`
//!   of records has its u replaced by `tf`, so agreeing on a rare family
//!   name weighs more than on a common one; applied to given name, family
//!   name and postcode.

use crate::block::{Blocking, BlockingRule};
use crate::compare::{self, AddressTables, Comparison, MISSING};
use crate::prepare::{Dataset, Interner, NONE};
use crate::record::Record;
use crate::Progress;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const NF: usize = compare::NC;

/// How to block and fit. The defaults are settled by principle (see
/// docs/linkage.md), not tuned to a data set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub blocking_rules: Vec<BlockingRule>,
    /// A block with more records than this is compared as a sorted
    /// neighbourhood rather than all against all.
    pub max_block: usize,
    /// The neighbourhood's width in a giant block.
    pub window: usize,
    /// Random pairs drawn to estimate u.
    pub u_pairs: usize,
    /// Most pairs of one blocking rule used for EM.
    pub em_pairs: usize,
    pub em_iterations: usize,
    /// EM stops when no m moves by more than this.
    pub em_tolerance: f64,
    /// Seed of the random pairs (the same seed and file give the same model).
    pub seed: u64,
    /// An address word held by more than this share of addresses (road,
    /// street, flat, a town's name) does not identify a street.
    pub common_word_share: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            blocking_rules: BlockingRule::ALL.to_vec(),
            max_block: 100,
            window: 10,
            u_pairs: 1_000_000,
            em_pairs: 1_000_000,
            em_iterations: 200,
            em_tolerance: 1e-5,
            seed: 42,
            common_word_share: 0.01,
        }
    }
}

/// One comparison's parameters: `m[l]` and `u[l]` for each level `l`
/// (level 0, missing, has neither and is kept as 0).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComparisonModel {
    pub comparison: Comparison,
    pub levels: Vec<String>,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

/// Counts of the values held by at least two records, and how many records
/// hold any value, for the term-frequency adjustment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TermFrequencies {
    pub given_name: BTreeMap<String, u32>,
    pub given_name_records: u32,
    pub family_name: BTreeMap<String, u32>,
    pub family_name_records: u32,
    pub postcode: BTreeMap<String, u32>,
    pub postcode_records: u32,
}

/// A fitted model. Serialise it (serde) to keep it; score new records
/// with it without refitting.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Model {
    /// The chance two records drawn at random are the same person.
    pub lambda: f64,
    pub comparisons: Vec<ComparisonModel>,
    pub term_frequencies: TermFrequencies,
    /// Address words too common to identify a street.
    pub common_address_words: Vec<String>,
}

/// One training session's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub rule: BlockingRule,
    pub pairs: u64,
    pub iterations: usize,
    pub converged: bool,
    /// The share of matches among the session's pairs.
    pub match_share: f64,
}

/// What fitting did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FitReport {
    pub records: u64,
    pub u_pairs: u64,
    pub sessions: Vec<Session>,
    /// Comparisons whose m no session could estimate (kept at the
    /// starting values; a comparison of a field the file does not have).
    pub m_not_estimated: Vec<Comparison>,
    /// Expected number of matching pairs among the candidates.
    pub expected_matches: f64,
}

/// A fitted model with the match weight (without the prior) of every
/// candidate pair it was fitted on, in the order of `Blocking::pairs`.
pub struct Fit {
    pub model: Model,
    pub weights: Vec<f32>,
    pub report: FitReport,
}

/// A pair with its probability.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    pub left: u32,
    pub right: u32,
    /// Match weight, log2 of the odds.
    pub weight: f64,
    pub probability: f64,
}

/// Turns a match weight (log2 odds) into a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

fn logit2(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

/// Starting m: more weight on the more alike levels.
fn initial_m(c: Comparison) -> Vec<f64> {
    let n = c.level_count();
    let mut m = vec![0.0; n];
    let total: f64 = (1..n).map(|l| ((n - l) * (n - l)) as f64).sum();
    for (l, v) in m.iter_mut().enumerate().skip(1) {
        *v = ((n - l) * (n - l)) as f64 / total;
    }
    m
}

/// Expectation maximisation for m and the match share over comparison
/// patterns (`(gamma, count)`), with u fixed and only `free` fields in the
/// likelihood. Returns m, the match share, iterations and whether it
/// converged, and the expected counts (per field and level, among matches).
pub(crate) struct EmResult {
    /// The session's own m (fitting pools `expected` instead; tests read it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub m: Vec<Vec<f64>>,
    pub share: f64,
    pub iterations: usize,
    pub converged: bool,
    pub expected: Vec<Vec<f64>>,
}

pub(crate) fn em(
    patterns: &[(u64, f64)],
    u: &[Vec<f64>],
    free: &[bool; NF],
    start_m: &[Vec<f64>],
    iterations: usize,
    tolerance: f64,
) -> EmResult {
    let mut m: Vec<Vec<f64>> = start_m.to_vec();
    let mut share = 0.1f64;
    let mut expected = vec![Vec::new(); NF];
    let mut it = 0;
    let mut converged = false;
    let levels: Vec<Vec<u8>> = patterns
        .iter()
        .map(|&(g, _)| (0..NF).map(|f| compare::unpack(g, f)).collect())
        .collect();
    while it < iterations {
        it += 1;
        let mut num: Vec<Vec<f64>> = m.iter().map(|v| vec![0.0; v.len()]).collect();
        let mut matched = 0.0;
        let mut total = 0.0;
        for (p, &(_, count)) in levels.iter().zip(patterns) {
            // log odds of match for this pattern
            let mut lm = share.ln();
            let mut lu = (1.0 - share).ln();
            for f in 0..NF {
                let l = p[f] as usize;
                if free[f] && l != MISSING as usize {
                    lm += m[f][l].ln();
                    lu += u[f][l].ln();
                }
            }
            let pm = 1.0 / (1.0 + (lu - lm).exp());
            let w = pm * count;
            matched += w;
            total += count;
            for f in 0..NF {
                let l = p[f] as usize;
                if free[f] && l != MISSING as usize {
                    num[f][l] += w;
                }
            }
        }
        let mut delta: f64 = 0.0;
        for f in 0..NF {
            if !free[f] {
                continue;
            }
            let den: f64 = num[f].iter().sum();
            if den <= 1e-9 {
                continue;
            }
            let n = num[f].len();
            for l in 1..n {
                // A floor keeps a level never seen among matches finite.
                let v = ((num[f][l] + 1e-6) / (den + 1e-6 * n as f64)).max(1e-9);
                delta = delta.max((v - m[f][l]).abs());
                m[f][l] = v;
            }
        }
        let new_share = if total > 0.0 {
            (matched / total).clamp(1e-9, 1.0 - 1e-9)
        } else {
            share
        };
        delta = delta.max((new_share - share).abs());
        share = new_share;
        expected = num;
        if delta < tolerance {
            converged = true;
            break;
        }
    }
    EmResult {
        m,
        share,
        iterations: it,
        converged,
        expected,
    }
}

/// Raises m where needed so that no level's Bayes factor m/u is below
/// that of the last level, "different": the levels go from the most to
/// the least alike, so a closer agreement (a swap, a one-digit date, a
/// postcode in the same district) cannot be stronger evidence against a
/// match than no agreement at all. Without it a level that no training
/// session could see among matches (a swap of given and family name is
/// only found by rules that hold names out) got m ≈ u / pairs, a weight
/// near −log2(pairs), and sank true matches that had it. Renormalising
/// afterwards scales every m alike, so the floor still holds exactly.
pub(crate) fn floor_at_different(m: &mut [f64], u: &[f64]) {
    let last = m.len() - 1;
    if last < 2 || u[last] <= 0.0 {
        return;
    }
    let r = m[last] / u[last];
    for l in 1..last {
        m[l] = m[l].max(r * u[l]);
    }
    let total: f64 = m[1..].iter().sum();
    if total > 0.0 {
        for v in &mut m[1..] {
            *v /= total;
        }
    }
}

/// Which address words are common, by share of the addresses holding them.
fn common_words(ds: &Dataset, share: f64) -> Vec<String> {
    let with_address = ds.recs.iter().filter(|r| r.address != NONE).count() as f64;
    let limit = (share * with_address).max(10.0);
    let mut v: Vec<String> = ds
        .address_words
        .text
        .iter()
        .zip(&ds.address_words.count)
        .filter(|(_, &c)| f64::from(c) > limit)
        .map(|(w, _)| w.to_string())
        .collect();
    v.sort();
    v
}

fn counts(i: &Interner) -> (BTreeMap<String, u32>, u32) {
    let mut m = BTreeMap::new();
    let mut total = 0;
    for (t, &c) in i.text.iter().zip(&i.count) {
        total += c;
        if c >= 2 {
            m.insert(t.to_string(), c);
        }
    }
    (m, total)
}

/// The comparison vectors of some pairs, counted by pattern, with the
/// fields in `hold_out` set to missing.
fn patterns(
    ds: &Dataset,
    at: &AddressTables,
    pairs: &[(u32, u32)],
    hold_out: &[Comparison],
) -> Vec<(u64, f64)> {
    let mut mask = u64::MAX;
    for f in hold_out {
        mask &= !(0xF << (4 * f.index()));
    }
    let map = pairs
        .par_chunks(4096)
        .fold(
            rustc_hash::FxHashMap::<u64, f64>::default,
            |mut m, chunk| {
                for &(i, j) in chunk {
                    let g = compare::pack(&compare::levels(ds, at, i as usize, j as usize)) & mask;
                    *m.entry(g).or_default() += 1.0;
                }
                m
            },
        )
        .reduce(rustc_hash::FxHashMap::default, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        });
    let mut v: Vec<(u64, f64)> = map.into_iter().collect();
    v.sort_by_key(|p| p.0);
    v
}

/// The comparison patterns of one session's pairs, read from the
/// comparisons of every candidate (`pairs` sorted, `gammas` beside them),
/// with the held-out comparisons set to missing. The session is sorted
/// and merged with `pairs` in one pass (a binary search per pair into 30 M
/// candidates was a cache miss per step).
fn session_patterns(
    pairs: &[(u32, u32)],
    gammas: &[u64],
    session: &[(u32, u32)],
    hold_out: &[Comparison],
) -> Vec<(u64, f64)> {
    let mut mask = u64::MAX;
    for c in hold_out {
        mask &= !(0xF << (4 * c.index()));
    }
    let mut wanted = session.to_vec();
    wanted.par_sort_unstable();
    let mut map = rustc_hash::FxHashMap::<u64, f64>::default();
    let mut k = 0;
    for p in &wanted {
        while k < pairs.len() && pairs[k] < *p {
            k += 1;
        }
        if k < pairs.len() && pairs[k] == *p {
            *map.entry(gammas[k] & mask).or_default() += 1.0;
        }
    }
    let mut v: Vec<(u64, f64)> = map.into_iter().collect();
    v.sort_by_key(|p| p.0);
    v
}

/// Random pairs `i != j`, deterministic for a seed; every pair when there
/// are fewer pairs than asked for.
fn random_pairs(n: usize, want: usize, seed: u64) -> Vec<(u32, u32)> {
    if n < 2 {
        return Vec::new();
    }
    let total = n as u128 * (n as u128 - 1) / 2;
    if total <= want as u128 {
        let mut v = Vec::with_capacity(total as usize);
        for i in 0..n {
            for j in i + 1..n {
                v.push((i as u32, j as u32));
            }
        }
        return v;
    }
    let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(seed);
    (0..want)
        .map(|_| {
            let i = rng.gen_range(0..n);
            let mut j = rng.gen_range(0..n - 1);
            if j >= i {
                j += 1;
            }
            (i.min(j) as u32, i.max(j) as u32)
        })
        .collect()
}

impl Model {
    /// Fits m, u, λ and the term frequencies on a dataset and the candidate
    /// pairs blocking found in it.
    pub fn fit(
        ds: &Dataset,
        blocking: &Blocking,
        settings: &Settings,
        progress: &dyn Progress,
    ) -> Fit {
        let n = ds.len();
        let common = common_words(ds, settings.common_word_share);
        let common_set: rustc_hash::FxHashSet<&str> = common.iter().map(|s| s.as_str()).collect();
        let at = AddressTables::new(ds, |w| common_set.contains(w));

        // u from random pairs.
        progress.stage("estimating u from random pairs", 1);
        let sample = random_pairs(n, settings.u_pairs, settings.seed);
        let pats = patterns(ds, &at, &sample, &[]);
        let mut u: Vec<Vec<f64>> = Comparison::ALL
            .iter()
            .map(|&c| vec![0.0; c.level_count()])
            .collect();
        for &(g, c) in &pats {
            for (f, uf) in u.iter_mut().enumerate() {
                uf[compare::unpack(g, f) as usize] += c;
            }
        }
        for uf in &mut u {
            // Laplace smoothing: a level never seen in the sample (an exact
            // identifier) is rare, not impossible.
            let seen: f64 = uf[1..].iter().sum();
            let k = (uf.len() - 1) as f64;
            uf[0] = 0.0;
            for v in uf.iter_mut().skip(1) {
                *v = (*v + 1.0) / (seen + k);
            }
        }
        progress.advance(1);

        // Every candidate pair compared once; EM and scoring read these.
        progress.stage("comparing candidate pairs", blocking.pairs.len() as u64);
        let gammas: Vec<u64> = blocking
            .pairs
            .par_chunks(16_384)
            .flat_map_iter(|chunk| {
                let g: Vec<u64> = chunk
                    .iter()
                    .map(|&(i, j)| compare::pack(&compare::levels(ds, &at, i as usize, j as usize)))
                    .collect();
                progress.advance(chunk.len() as u64);
                g
            })
            .collect();

        // m by EM, one session per blocking rule.
        progress.stage(
            "estimating m by expectation maximisation",
            blocking.samples.len() as u64,
        );
        let start: Vec<Vec<f64>> = Comparison::ALL.iter().map(|&c| initial_m(c)).collect();
        let mut pooled: Vec<Vec<f64>> = start.iter().map(|v| vec![0.0; v.len()]).collect();
        let mut sessions = Vec::new();
        for (rule, pairs) in &blocking.samples {
            if !rule.trains() {
                progress.advance(1);
                continue;
            }
            let held = rule.comparisons();
            let mut free = [true; NF];
            for f in held {
                free[f.index()] = false;
            }
            if pairs.len() >= 10 {
                let pats = session_patterns(&blocking.pairs, &gammas, pairs, held);
                let r = em(
                    &pats,
                    &u,
                    &free,
                    &start,
                    settings.em_iterations,
                    settings.em_tolerance,
                );
                for f in 0..NF {
                    if free[f] {
                        for (l, v) in r.expected[f].iter().enumerate() {
                            pooled[f][l] += v;
                        }
                    }
                }
                sessions.push(Session {
                    rule: *rule,
                    pairs: pairs.len() as u64,
                    iterations: r.iterations,
                    converged: r.converged,
                    match_share: r.share,
                });
            }
            progress.advance(1);
        }
        let mut m = start.clone();
        let mut not_estimated = Vec::new();
        for (f, c) in Comparison::ALL.iter().enumerate() {
            let den: f64 = pooled[f][1..].iter().sum();
            if den < 1.0 {
                not_estimated.push(*c);
                continue;
            }
            // One pseudo-match spread like the non-matches (a Dirichlet
            // prior centred on u): a level no match was seen at in this
            // file is taken to look like non-matches, not to be impossible.
            for l in 1..m[f].len() {
                m[f][l] = (pooled[f][l] + u[f][l]) / (den + 1.0);
            }
            floor_at_different(&mut m[f], &u[f]);
        }

        let (given_name, given_name_records) = counts(&ds.given);
        let (family_name, family_name_records) = counts(&ds.family);
        let (postcode, postcode_records) = counts(&ds.postcode);
        let mut model = Model {
            lambda: 1e-6,
            comparisons: Comparison::ALL
                .iter()
                .enumerate()
                .map(|(f, &comparison)| ComparisonModel {
                    comparison,
                    levels: comparison.levels().iter().map(|s| s.to_string()).collect(),
                    m: m[f].clone(),
                    u: u[f].clone(),
                })
                .collect(),
            term_frequencies: TermFrequencies {
                given_name,
                given_name_records,
                family_name,
                family_name_records,
                postcode,
                postcode_records,
            },
            common_address_words: common,
        };

        // Weights of every candidate pair, then λ.
        progress.stage("weighing candidate pairs", 1);
        let scorer = Scorer::new(&model, ds);
        let weights: Vec<f32> = blocking
            .pairs
            .par_iter()
            .zip(gammas.par_iter())
            .map(|(&(i, _), &g)| scorer.weight_of(i as usize, g) as f32)
            .collect();
        drop(gammas);
        progress.advance(1);
        let all_pairs = (n as f64) * (n as f64 - 1.0) / 2.0;
        let mut lambda = if all_pairs > 0.0 {
            (weights.len() as f64 / all_pairs).clamp(1e-12, 0.5)
        } else {
            0.5
        };
        let mut expected = 0.0;
        for _ in 0..100 {
            let prior = logit2(lambda);
            expected = weights
                .par_iter()
                .map(|&w| probability(prior + f64::from(w)))
                .sum::<f64>();
            let next = (expected / all_pairs.max(1.0)).clamp(1e-12, 0.5);
            let done = ((next - lambda) / lambda).abs() < 1e-6;
            lambda = next;
            if done {
                break;
            }
        }
        model.lambda = lambda;
        Fit {
            model,
            weights,
            report: FitReport {
                records: n as u64,
                u_pairs: sample.len() as u64,
                sessions,
                m_not_estimated: not_estimated,
                expected_matches: expected,
            },
        }
    }

    /// The match weight of the prior, log2(λ/(1−λ)).
    pub fn prior_weight(&self) -> f64 {
        logit2(self.lambda)
    }

    /// Scores candidate pairs of a dataset; keeps those at or above
    /// `threshold`.
    pub fn predict(&self, ds: &Dataset, pairs: &[(u32, u32)], threshold: f64) -> Vec<ScoredPair> {
        let scorer = Scorer::new(self, ds);
        let prior = self.prior_weight();
        pairs
            .par_iter()
            .filter_map(|&(i, j)| {
                let w = prior + scorer.weight(i as usize, j as usize);
                let p = probability(w);
                (p >= threshold).then_some(ScoredPair {
                    left: i,
                    right: j,
                    weight: w,
                    probability: p,
                })
            })
            .collect()
    }

    /// The probability that two records are the same person.
    pub fn score_pair(&self, a: &Record, b: &Record) -> f64 {
        let ds = Dataset::new(&[a.clone(), b.clone()]);
        let s = Scorer::new(self, &ds);
        probability(self.prior_weight() + s.weight(0, 1))
    }

    /// Scores one new record against candidates (those the name index
    /// found), without refitting: the probability for each candidate, in
    /// order.
    pub fn score_candidates(&self, new: &Record, candidates: &[Record]) -> Vec<f64> {
        let mut all = Vec::with_capacity(candidates.len() + 1);
        all.push(new.clone());
        all.extend_from_slice(candidates);
        let ds = Dataset::new(&all);
        let s = Scorer::new(self, &ds);
        let prior = self.prior_weight();
        (1..all.len())
            .map(|k| probability(prior + s.weight(0, k)))
            .collect()
    }

    /// Why two records score as they do.
    pub fn explain(&self, a: &Record, b: &Record) -> crate::explain::Explanation {
        let ds = Dataset::new(&[a.clone(), b.clone()]);
        let s = Scorer::new(self, &ds);
        s.explain(0, 1, a, b)
    }

    /// Serialises the model as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Result<Model, String> {
        let m: Model =
            serde_json::from_str(s).map_err(|e| format!("not a vigil-link model: {e}"))?;
        if m.comparisons.len() != NF
            || m.comparisons.iter().zip(Comparison::ALL).any(|(cm, c)| {
                cm.comparison != c
                    || cm.m.len() != c.level_count()
                    || cm.u.len() != c.level_count()
                    || cm
                        .m
                        .iter()
                        .chain(&cm.u)
                        .skip(1)
                        .any(|v| !(v.is_finite() && *v >= 0.0))
            })
            || !(m.lambda > 0.0 && m.lambda < 1.0)
        {
            return Err("the model's comparisons or levels are not those of this version".into());
        }
        Ok(m)
    }
}

/// A model bound to one dataset: level weights and term-frequency
/// adjustments looked up per interned value.
pub(crate) struct Scorer<'a> {
    pub(crate) model: &'a Model,
    pub(crate) ds: &'a Dataset,
    at: AddressTables,
    w: [[f64; 16]; NF],
    tf_given: Vec<f64>,
    tf_family: Vec<f64>,
    /// For the two place levels at which the postcode is what agrees.
    tf_postcode: [Vec<f64>; 2],
}

fn tf_adjust(i: &Interner, table: &BTreeMap<String, u32>, records: u32, u_exact: f64) -> Vec<f64> {
    let total = f64::from(records.max(2));
    i.text
        .iter()
        .map(|t| {
            let c = table.get(&**t).copied().unwrap_or(0).max(2);
            let tf = (f64::from(c) / total).min(1.0);
            (u_exact / tf).log2()
        })
        .collect()
}

impl<'a> Scorer<'a> {
    pub(crate) fn new(model: &'a Model, ds: &'a Dataset) -> Scorer<'a> {
        let common: rustc_hash::FxHashSet<&str> = model
            .common_address_words
            .iter()
            .map(|s| s.as_str())
            .collect();
        let at = AddressTables::new(ds, |w| common.contains(w));
        let mut w = [[0.0; 16]; NF];
        for (wf, cm) in w.iter_mut().zip(&model.comparisons) {
            for (l, (m, u)) in cm.m.iter().zip(&cm.u).enumerate().skip(1) {
                wf[l] = (m.max(1e-12) / u.max(1e-12)).log2();
            }
        }
        let tf = &model.term_frequencies;
        let ue = |c: Comparison, l: u8| model.comparisons[c.index()].u[l as usize];
        Scorer {
            model,
            ds,
            at,
            w,
            tf_given: tf_adjust(
                &ds.given,
                &tf.given_name,
                tf.given_name_records,
                ue(Comparison::GivenName, compare::given::EXACT),
            ),
            tf_family: tf_adjust(
                &ds.family,
                &tf.family_name,
                tf.family_name_records,
                ue(Comparison::FamilyName, compare::EXACT),
            ),
            tf_postcode: [5, 6].map(|l| {
                tf_adjust(
                    &ds.postcode,
                    &tf.postcode,
                    tf.postcode_records,
                    ue(Comparison::Place, l),
                )
            }),
        }
    }

    pub(crate) fn levels(&self, i: usize, j: usize) -> [u8; NF] {
        compare::levels(self.ds, &self.at, i, j)
    }

    /// Term-frequency adjustments (log2) that apply to a pair at these levels.
    pub(crate) fn tf_terms(&self, i: usize, l: &[u8; NF]) -> [(Comparison, f64); 3] {
        let r = &self.ds.recs[i];
        let mut out = [
            (Comparison::GivenName, 0.0),
            (Comparison::FamilyName, 0.0),
            (Comparison::Place, 0.0),
        ];
        if l[Comparison::GivenName.index()] == compare::given::EXACT {
            out[0].1 = self.tf_given[r.given.full as usize];
        }
        if l[Comparison::FamilyName.index()] == compare::EXACT {
            out[1].1 = self.tf_family[r.family.full as usize];
        }
        let pl = l[Comparison::Place.index()];
        if let Some(k) = compare::place::POSTCODE_AGREES
            .iter()
            .position(|&x| x == pl)
        {
            if r.postcode != NONE {
                out[2].1 = self.tf_postcode[k][r.postcode as usize];
            }
        }
        out
    }

    /// Match weight without the prior.
    pub(crate) fn weight(&self, i: usize, j: usize) -> f64 {
        self.weight_of(i, compare::pack(&self.levels(i, j)))
    }

    /// Match weight without the prior, of a pair whose left record is `i`
    /// and comparison vector `g`.
    pub(crate) fn weight_of(&self, i: usize, g: u64) -> f64 {
        let mut l = [0u8; NF];
        for (f, v) in l.iter_mut().enumerate() {
            *v = compare::unpack(g, f);
        }
        let mut s: f64 = self.w.iter().zip(&l).map(|(w, &v)| w[v as usize]).sum();
        for (_, t) in self.tf_terms(i, &l) {
            s += t;
        }
        s
    }

    pub(crate) fn explain(
        &self,
        i: usize,
        j: usize,
        a: &Record,
        b: &Record,
    ) -> crate::explain::Explanation {
        use crate::explain::{Explanation, Term};
        let l = self.levels(i, j);
        let tfs = self.tf_terms(i, &l);
        let mut terms = Vec::new();
        for (f, c) in Comparison::ALL.iter().enumerate() {
            let fm = &self.model.comparisons[f];
            let (left, right) = (c.text(a), c.text(b));
            let lv = l[f] as usize;
            let (m, u) = if lv == 0 {
                (None, None)
            } else {
                (Some(fm.m[lv]), Some(fm.u[lv]))
            };
            let w = self.w[f][lv];
            terms.push(Term {
                comparison: *c,
                level: lv as u8,
                level_name: fm.levels[lv].clone(),
                left: left.clone(),
                right: right.clone(),
                m,
                u,
                bayes_factor: w.exp2(),
                log2: w,
                term_frequency: false,
            });
            if let Some((_, t)) = tfs.iter().find(|(tc, t)| tc == c && *t != 0.0) {
                terms.push(Term {
                    comparison: *c,
                    level: lv as u8,
                    level_name: "term frequency: how common this value is".into(),
                    left,
                    right,
                    m: None,
                    u: None,
                    bayes_factor: t.exp2(),
                    log2: *t,
                    term_frequency: true,
                });
            }
        }
        let prior = self.model.prior_weight();
        let total = prior + terms.iter().map(|t| t.log2).sum::<f64>();
        Explanation {
            left_id: a.id.clone(),
            right_id: b.id.clone(),
            prior_probability: self.model.lambda,
            prior_log2: prior,
            terms,
            log2: total,
            probability: probability(total),
        }
    }
}

/// Everything the standalone mode needs, in one call: prepare, block,
/// fit, predict, cluster.
pub struct Linkage {
    pub model: Model,
    pub blocking: crate::block::BlockingReport,
    pub fit: FitReport,
    /// Pairs at or above the threshold.
    pub pairs: Vec<ScoredPair>,
    /// Entity of each record: the index of the entity's first record.
    pub clusters: Vec<u32>,
    pub cluster_report: crate::cluster::ClusterReport,
}

/// Links `records`: candidates by blocking, a model fitted on them, pairs
/// at or above `threshold`, and entities respecting people's decisions.
pub fn link(
    records: &[Record],
    settings: &Settings,
    threshold: f64,
    decisions: &crate::cluster::Decisions,
    progress: &dyn Progress,
) -> Linkage {
    progress.stage("preparing records", 1);
    let ds = Dataset::new(records);
    // Records renumbered so that candidate pairs join neighbours in memory
    // (Dataset::locality_order); pairs go back to the caller's numbering
    // before clustering, so decisions and results are in it.
    let order = ds.locality_order();
    let ds = ds.permuted(&order);
    progress.advance(1);
    progress.stage("blocking", 1);
    let blocking = crate::block::block(&ds, settings);
    progress.advance(1);
    let fit = Model::fit(&ds, &blocking, settings, progress);
    let prior = fit.model.prior_weight();
    let pairs: Vec<ScoredPair> = blocking
        .pairs
        .par_iter()
        .zip(fit.weights.par_iter())
        .filter_map(|(&(i, j), &w)| {
            let w = prior + f64::from(w);
            let p = probability(w);
            let (a, b) = (order[i as usize], order[j as usize]);
            (p >= threshold).then_some(ScoredPair {
                left: a.min(b),
                right: a.max(b),
                weight: w,
                probability: p,
            })
        })
        .collect();
    progress.stage("clustering", 1);
    // Evidence against joins: the candidates below the threshold between
    // records that some link touches (no other can be joined).
    let mut linked = vec![false; records.len()];
    for p in &pairs {
        linked[p.left as usize] = true;
        linked[p.right as usize] = true;
    }
    let against: Vec<(u32, u32, f32)> = blocking
        .pairs
        .par_iter()
        .zip(fit.weights.par_iter())
        .filter_map(|(&(i, j), &w)| {
            let (a, b) = (order[i as usize], order[j as usize]);
            let w = prior as f32 + w;
            (linked[a as usize] && linked[b as usize] && probability(f64::from(w)) < threshold)
                .then_some((a, b, w))
        })
        .collect();
    let (clusters, cluster_report) =
        crate::cluster::cluster_guarded(records.len(), &pairs, decisions, &against);
    drop(against);
    progress.advance(1);
    Linkage {
        model: fit.model,
        blocking: blocking.report,
        fit: fit.report,
        pairs,
        clusters,
        cluster_report,
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // indices of fields and levels are the point
mod tests {
    use super::*;

    /// Draws a level from a distribution over levels 1.. (index 0 unused).
    fn draw(rng: &mut impl Rng, p: &[f64]) -> u8 {
        let mut x: f64 = rng.gen();
        for (l, &v) in p.iter().enumerate().skip(1) {
            if x < v {
                return l as u8;
            }
            x -= v;
        }
        (p.len() - 1) as u8
    }

    fn norm(v: Vec<f64>) -> Vec<f64> {
        let s: f64 = v[1..].iter().sum();
        std::iter::once(0.0)
            .chain(v[1..].iter().map(|x| x / s))
            .collect()
    }

    #[test]
    fn em_recovers_known_m_and_share_from_simulated_pairs() {
        let mut rng = rand_chacha::ChaCha12Rng::seed_from_u64(7);
        // Known parameters for every field: m favours the alike levels,
        // u the "different" level.
        let mut m_true = Vec::new();
        let mut u = Vec::new();
        for c in Comparison::ALL {
            let n = c.level_count();
            let m: Vec<f64> = (0..n)
                .map(|l| {
                    if l == 0 {
                        0.0
                    } else {
                        (n - l) as f64 + 0.5 * l as f64
                    }
                })
                .collect();
            let uu: Vec<f64> = (0..n)
                .map(|l| {
                    if l == 0 {
                        0.0
                    } else {
                        1.0 + (l * l * l) as f64
                    }
                })
                .collect();
            m_true.push(norm(m));
            u.push(norm(uu));
        }
        let share_true = 0.15;
        let mut counts: rustc_hash::FxHashMap<u64, f64> = Default::default();
        for _ in 0..300_000 {
            let is_match = rng.gen::<f64>() < share_true;
            let mut l = [0u8; NF];
            for f in 0..NF {
                // 10% missing, which must not bias anything.
                l[f] = if rng.gen::<f64>() < 0.1 {
                    0
                } else if is_match {
                    draw(&mut rng, &m_true[f])
                } else {
                    draw(&mut rng, &u[f])
                };
            }
            *counts.entry(compare::pack(&l)).or_default() += 1.0;
        }
        let pats: Vec<(u64, f64)> = counts.into_iter().collect();
        let start: Vec<Vec<f64>> = Comparison::ALL.iter().map(|&c| initial_m(c)).collect();
        let r = em(&pats, &u, &[true; NF], &start, 500, 1e-7);
        assert!(
            r.converged,
            "EM did not converge in {} iterations",
            r.iterations
        );
        assert!((r.share - share_true).abs() < 0.01, "share {}", r.share);
        for f in 0..NF {
            for l in 1..m_true[f].len() {
                assert!(
                    (r.m[f][l] - m_true[f][l]).abs() < 0.02,
                    "field {f} level {l}: {} vs {}",
                    r.m[f][l],
                    m_true[f][l]
                );
            }
        }
        // Held-out fields are left at their starting values.
        let mut free = [true; NF];
        free[0] = false;
        let r = em(&pats, &u, &free, &start, 500, 1e-7);
        assert_eq!(r.m[0], start[0]);
        assert!((r.share - share_true).abs() < 0.01);
    }

    #[test]
    fn no_level_weighs_less_than_different() {
        // A level never seen among matches (m ~ 0) is floored at the
        // Bayes factor of "different"; the others keep their ratios.
        let u = vec![0.0, 0.01, 0.001, 0.2, 0.789];
        let mut m = vec![0.0, 0.8, 1e-9, 0.15, 0.05 - 1e-9];
        floor_at_different(&mut m, &u);
        let w = |l: usize| (m[l] / u[l]).log2();
        assert!((m[1..].iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((w(2) - w(4)).abs() < 1e-9, "{} {}", w(2), w(4));
        for l in 1..4 {
            assert!(w(l) >= w(4) - 1e-9);
        }
        assert!((m[1] / m[3] - 0.8 / 0.15).abs() < 1e-9);
        // Nothing to do when every level already weighs more.
        let mut same = vec![0.0, 0.9, 0.05, 0.05];
        floor_at_different(&mut same, &[0.0, 0.01, 0.09, 0.9]);
        assert_eq!(same, vec![0.0, 0.9, 0.05, 0.05]);
        // Two levels (missing, one other): nothing to floor.
        let mut two = vec![0.0, 1.0];
        floor_at_different(&mut two, &[0.0, 1.0]);
        assert_eq!(two, vec![0.0, 1.0]);
    }

    #[test]
    fn probabilities_and_random_pairs() {
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
        assert!(probability(30.0) > 0.999_999);
        assert!(probability(-30.0) < 1e-6);
        assert!(random_pairs(1, 10, 1).is_empty());
        assert_eq!(random_pairs(4, 100, 1).len(), 6);
        let p = random_pairs(1000, 500, 3);
        assert_eq!(p.len(), 500);
        assert!(p.iter().all(|&(i, j)| i < j && j < 1000));
        assert_eq!(p, random_pairs(1000, 500, 3));
    }
}
