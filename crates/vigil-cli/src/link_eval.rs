//! `vigil synth records` (a CSV of person records and its truth, for
//! measuring entity resolution) and `vigil bench link-eval` (precision,
//! recall and F1 of a linker's pairs and clusters against that truth).
//! docs/linkage-benchmark.md describes both files and every measure.
//!
//! The maths is in [`Scores::compute`], on record indices, so it is tested
//! on hand-made examples; the rest reads and writes CSV. Counting is linear
//! in the number of records and pairs (a contingency table of predicted
//! cluster × true entity), so a million records take a second or two.

use anyhow::{bail, Context, Result};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use vigil_synth::linkage::{self, LinkageConfig, COLUMNS};

/// What `vigil synth records` made.
pub struct RecordsReport {
    pub records: usize,
    pub people: u32,
    pub households: u32,
    pub twin_pairs: u32,
    pub seconds: f64,
}

/// Writes the records CSV and the truth CSV (`record_id,person_id,household_id`).
/// Each file is written beside its destination and renamed into place, so
/// a failure leaves no half-written file.
pub fn write_records(records: u64, seed: u64, out: &Path, truth: &Path) -> Result<RecordsReport> {
    if out == truth {
        bail!("--out and --truth must be different files");
    }
    let started = std::time::Instant::now();
    let made = linkage::person_records(&LinkageConfig { records, seed })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_atomically(out, |w| {
        w.write_all(COLUMNS.join(",").as_bytes())?;
        w.write_all(b"\n")?;
        let mut line = String::with_capacity(256);
        for (i, r) in made.records.iter().enumerate() {
            line.clear();
            line.push_str(&linkage::record_id(i));
            for v in r.values() {
                line.push(',');
                push_field(&mut line, v);
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    })?;
    write_atomically(truth, |w| {
        w.write_all(b"record_id,person_id,household_id\n")?;
        for (i, r) in made.records.iter().enumerate() {
            writeln!(
                w,
                "{},{},{}",
                linkage::record_id(i),
                vigil_synth::truth::person_id(r.person as usize),
                vigil_synth::truth::household_id(r.household as usize)
            )?;
        }
        Ok(())
    })?;
    Ok(RecordsReport {
        records: made.records.len(),
        people: made.people,
        households: made.households,
        twin_pairs: made.twin_pairs,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn push_field(line: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&v.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(v);
    }
}

fn write_atomically(
    path: &Path,
    f: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.reopen()?);
    f(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    drop(w);
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Precision, recall and F1 of one way of counting.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Prf {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }

    /// From counts of true positives, predicted and true links. With
    /// nothing predicted precision is 1 (no wrong link was made); with
    /// nothing to find recall is 1.
    fn from_counts(tp: u64, predicted: u64, actual: u64) -> Prf {
        let p = if predicted == 0 {
            1.0
        } else {
            tp as f64 / predicted as f64
        };
        let r = if actual == 0 {
            1.0
        } else {
            tp as f64 / actual as f64
        };
        Prf::new(p, r)
    }
}

/// Pairwise counts.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct PairCounts {
    pub true_positives: u64,
    pub predicted: u64,
    pub actual: u64,
    #[serde(flatten)]
    pub scores: Prf,
}

/// Every measure, against the truth.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Scores {
    pub records: usize,
    pub true_entities: usize,
    /// The pairs file: each distinct pair of records it lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<PairCounts>,
    /// The clusters file, as the pairs it implies (every two records in one cluster).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_pairs: Option<PairCounts>,
    /// The clusters file, B-cubed: per record, the share of its cluster that
    /// is truly it (precision) and of its true entity that its cluster holds
    /// (recall), averaged over records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bcubed: Option<Prf>,
    /// The clusters file, whole clusters: the share of predicted clusters
    /// that are exactly one true entity (precision) and of true entities
    /// found exactly (recall).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<Prf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_clusters: Option<usize>,
}

fn choose2(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

impl Scores {
    /// `truth[r]` is record r's true entity; `pairs` are pairs of record
    /// indices (duplicates and order do not matter; a record paired with
    /// itself is not a link); `clusters[r]` is record r's predicted cluster.
    pub fn compute(
        truth: &[u32],
        pairs: Option<&[(u32, u32)]>,
        clusters: Option<&[u32]>,
    ) -> Scores {
        let mut size: HashMap<u32, u64> = HashMap::new();
        for e in truth {
            *size.entry(*e).or_default() += 1;
        }
        let actual: u64 = size.values().map(|n| choose2(*n)).sum();
        let pairs = pairs.map(|ps| {
            let mut seen: HashSet<(u32, u32)> = HashSet::with_capacity(ps.len());
            let mut tp = 0u64;
            for &(a, b) in ps {
                if a == b {
                    continue;
                }
                let key = (a.min(b), a.max(b));
                if seen.insert(key) && truth[a as usize] == truth[b as usize] {
                    tp += 1;
                }
            }
            let predicted = seen.len() as u64;
            PairCounts {
                true_positives: tp,
                predicted,
                actual,
                scores: Prf::from_counts(tp, predicted, actual),
            }
        });
        let mut out = Scores {
            records: truth.len(),
            true_entities: size.len(),
            pairs,
            cluster_pairs: None,
            bcubed: None,
            exact: None,
            predicted_clusters: None,
        };
        if let Some(cl) = clusters {
            let mut csize: HashMap<u32, u64> = HashMap::new();
            let mut cell: HashMap<(u32, u32), u64> = HashMap::new();
            for (r, c) in cl.iter().enumerate() {
                *csize.entry(*c).or_default() += 1;
                *cell.entry((*c, truth[r])).or_default() += 1;
            }
            let predicted: u64 = csize.values().map(|n| choose2(*n)).sum();
            let tp: u64 = cell.values().map(|n| choose2(*n)).sum();
            out.cluster_pairs = Some(PairCounts {
                true_positives: tp,
                predicted,
                actual,
                scores: Prf::from_counts(tp, predicted, actual),
            });
            let n = truth.len() as f64;
            let (mut bp, mut br, mut exact) = (0.0, 0.0, 0u64);
            for (&(c, e), &k) in &cell {
                let (a, b) = (csize[&c], size[&e]);
                // Each of the k records in this cell scores k/a and k/b.
                bp += (k * k) as f64 / a as f64;
                br += (k * k) as f64 / b as f64;
                if k == a && k == b {
                    exact += 1;
                }
            }
            out.bcubed = Some(if n > 0.0 {
                Prf::new(bp / n, br / n)
            } else {
                Prf::new(1.0, 1.0)
            });
            out.exact = Some(Prf::from_counts(
                exact,
                csize.len() as u64,
                size.len() as u64,
            ));
            out.predicted_clusters = Some(csize.len());
        }
        out
    }

    /// The scores as a few lines for people.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{} records, {} true entities\n",
            self.records, self.true_entities
        );
        let pc = |name: &str, c: &PairCounts| {
            format!(
                "{name}: precision {:.4}  recall {:.4}  F1 {:.4}  ({} of {} predicted pairs true; {} true pairs)\n",
                c.scores.precision, c.scores.recall, c.scores.f1, c.true_positives, c.predicted, c.actual
            )
        };
        if let Some(c) = &self.pairs {
            s.push_str(&pc("pairs                ", c));
        }
        if let Some(c) = &self.cluster_pairs {
            s.push_str(&pc("clusters, pairwise   ", c));
        }
        if let Some(b) = &self.bcubed {
            s.push_str(&format!(
                "clusters, B-cubed    : precision {:.4}  recall {:.4}  F1 {:.4}\n",
                b.precision, b.recall, b.f1
            ));
        }
        if let (Some(e), Some(n)) = (&self.exact, self.predicted_clusters) {
            s.push_str(&format!(
                "clusters, exact      : precision {:.4}  recall {:.4}  F1 {:.4}  ({n} predicted clusters)\n",
                e.precision, e.recall, e.f1
            ));
        }
        s
    }
}

/// A CSV file's header and rows, with the file named in every error.
struct Table {
    name: String,
    reader: csv::Reader<std::fs::File>,
    columns: Vec<String>,
}

impl Table {
    fn open(path: &Path) -> Result<Table> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(file);
        let columns: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
            Err(e) => bail!("{name} is not a CSV file: {}", csv_error(&e)),
        };
        if columns.iter().all(|c| c.is_empty()) {
            bail!("{name} is empty: it needs a header line");
        }
        Ok(Table {
            name,
            reader,
            columns,
        })
    }

    fn column(&self, names: &[&str]) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| names.contains(&c.as_str()))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} has no column {} (its columns are: {})",
                    self.name,
                    names.join(" or "),
                    self.columns.join(", ")
                )
            })
    }

    /// Calls `f(line, row)` for each row.
    fn rows(&mut self, mut f: impl FnMut(u64, &csv::StringRecord) -> Result<()>) -> Result<()> {
        let mut row = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut row) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = row.position().map(|p| p.line()).unwrap_or(0);
                    f(line, &row).with_context(|| format!("{} line {line}", self.name))?
                }
                Err(e) => bail!("{}: {}", self.name, csv_error(&e)),
            }
        }
    }
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {} has {len} fields where the header has {expected_len}",
            pos.as_ref().map(|p| p.line()).unwrap_or(0)
        ),
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {} is not UTF-8 text",
            pos.as_ref().map(|p| p.line()).unwrap_or(0)
        ),
        _ => e.to_string(),
    }
}

/// Reads the truth, then the pairs and clusters files, and scores them.
/// `threshold` keeps only pairs whose probability is at least it.
pub fn evaluate(
    truth: &Path,
    pairs: Option<&Path>,
    clusters: Option<&Path>,
    threshold: Option<f64>,
) -> Result<Scores> {
    if pairs.is_none() && clusters.is_none() {
        bail!("give --pairs FILE, --clusters FILE or both");
    }
    let mut t = Table::open(truth)?;
    let rc = t.column(&["record_id"])?;
    let ec = t.column(&["person_id", "entity_id", "true_id"])?;
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut entity_index: HashMap<String, u32> = HashMap::new();
    let mut truth_of: Vec<u32> = Vec::new();
    t.rows(|_, row| {
        let r = row.get(rc).unwrap_or("").trim();
        let e = row.get(ec).unwrap_or("").trim();
        if r.is_empty() || e.is_empty() {
            bail!("a record id or its true entity is empty");
        }
        let next = entity_index.len() as u32;
        let e = *entity_index.entry(e.to_owned()).or_insert(next);
        if index.insert(r.to_owned(), truth_of.len() as u32).is_some() {
            bail!("record {r} is listed twice");
        }
        truth_of.push(e);
        Ok(())
    })?;
    if truth_of.is_empty() {
        bail!("{} lists no records", truth.display());
    }
    let lookup = |id: &str| -> Result<u32> {
        index
            .get(id.trim())
            .copied()
            .ok_or_else(|| anyhow::anyhow!("record {id} is not in the truth file"))
    };
    let pair_list = match pairs {
        None => None,
        Some(p) => {
            let mut t = Table::open(p)?;
            let (l, r) = (t.column(&["left_id"])?, t.column(&["right_id"])?);
            let prob = t.column(&["probability"]).ok();
            let mut out = Vec::new();
            t.rows(|_, row| {
                if let (Some(pc), Some(min)) = (prob, threshold) {
                    let v = row.get(pc).unwrap_or("").trim();
                    let x: f64 = v
                        .parse()
                        .map_err(|_| anyhow::anyhow!("probability {v:?} is not a number"))?;
                    if x < min {
                        return Ok(());
                    }
                }
                out.push((
                    lookup(row.get(l).unwrap_or(""))?,
                    lookup(row.get(r).unwrap_or(""))?,
                ));
                Ok(())
            })?;
            Some(out)
        }
    };
    let cluster_list = match clusters {
        None => None,
        Some(p) => {
            let mut t = Table::open(p)?;
            let (rc, cc) = (
                t.column(&["record_id"])?,
                t.column(&["entity_id", "cluster_id"])?,
            );
            // Records the file leaves out are clusters of their own.
            const UNSET: u32 = u32::MAX;
            let mut of = vec![UNSET; truth_of.len()];
            let mut ids: HashMap<String, u32> = HashMap::new();
            t.rows(|_, row| {
                let r = lookup(row.get(rc).unwrap_or(""))? as usize;
                let c = row.get(cc).unwrap_or("").trim();
                if c.is_empty() {
                    bail!("the entity id is empty");
                }
                let next = ids.len() as u32;
                let c = *ids.entry(c.to_owned()).or_insert(next);
                if of[r] != UNSET {
                    bail!("record {} is in two clusters", row.get(rc).unwrap_or(""));
                }
                of[r] = c;
                Ok(())
            })?;
            let alone = of.iter_mut().filter(|c| **c == UNSET);
            for (next, c) in (ids.len() as u32..).zip(alone) {
                *c = next;
            }
            Some(of)
        }
    };
    Ok(Scores::compute(
        &truth_of,
        pair_list.as_deref(),
        cluster_list.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Truth: {0,1,2} one person, {3,4} another, {5} alone: 3 + 1 = 4 true pairs.
    const TRUTH: [u32; 6] = [0, 0, 0, 1, 1, 2];

    #[test]
    fn pairwise_counts_on_a_hand_made_example() {
        // (0,1) and (1,2) right, (2,3) wrong; (1,0) repeats (0,1); (4,4) is no link.
        let pairs = [(0, 1), (1, 2), (2, 3), (1, 0), (4, 4)];
        let s = Scores::compute(&TRUTH, Some(&pairs), None);
        let p = s.pairs.unwrap();
        assert_eq!((p.true_positives, p.predicted, p.actual), (2, 3, 4));
        assert!(close(p.scores.precision, 2.0 / 3.0));
        assert!(close(p.scores.recall, 0.5));
        assert!(close(
            p.scores.f1,
            2.0 * (2.0 / 3.0) * 0.5 / (2.0 / 3.0 + 0.5)
        ));
        assert_eq!(s.true_entities, 3);
        assert!(s.cluster_pairs.is_none());
    }

    #[test]
    fn cluster_measures_on_a_hand_made_example() {
        // Predicted: {0,1}, {2,3,4}, {5}.
        let clusters = [7, 7, 9, 9, 9, 4];
        let s = Scores::compute(&TRUTH, None, Some(&clusters));
        let c = s.cluster_pairs.unwrap();
        // Implied pairs: (0,1) + (2,3),(2,4),(3,4) = 4; true among them (0,1),(3,4).
        assert_eq!((c.true_positives, c.predicted, c.actual), (2, 4, 4));
        assert!(close(c.scores.precision, 0.5) && close(c.scores.recall, 0.5));
        // B-cubed precision: records 0,1: 2/2; 2: 1/3; 3,4: 2/3; 5: 1 → (2 + 1/3 + 4/3 + 1)/6.
        let b = s.bcubed.unwrap();
        assert!(close(
            b.precision,
            (2.0 + 1.0 / 3.0 + 4.0 / 3.0 + 1.0) / 6.0
        ));
        // Recall: 0,1: 2/3 each; 2: 1/3; 3,4: 2/2; 5: 1 → (4/3 + 1/3 + 2 + 1)/6.
        assert!(close(b.recall, (4.0 / 3.0 + 1.0 / 3.0 + 2.0 + 1.0) / 6.0));
        // Exact: only {5} is a true entity found whole: 1 of 3 predicted, 1 of 3 true.
        let e = s.exact.unwrap();
        assert!(close(e.precision, 1.0 / 3.0) && close(e.recall, 1.0 / 3.0));
        assert_eq!(s.predicted_clusters, Some(3));
    }

    #[test]
    fn perfect_and_empty_answers_score_as_they_should() {
        let perfect = Scores::compute(
            &TRUTH,
            Some(&[(0, 1), (0, 2), (1, 2), (3, 4)]),
            Some(&TRUTH),
        );
        for prf in [
            perfect.pairs.unwrap().scores,
            perfect.cluster_pairs.unwrap().scores,
            perfect.bcubed.unwrap(),
            perfect.exact.unwrap(),
        ] {
            assert_eq!(prf, Prf::new(1.0, 1.0));
        }
        // Nothing linked: no wrong links (precision 1), nothing found (recall 0).
        let none = Scores::compute(&TRUTH, Some(&[]), Some(&[0, 1, 2, 3, 4, 5]));
        let p = none.pairs.unwrap().scores;
        assert!(close(p.precision, 1.0) && close(p.recall, 0.0) && close(p.f1, 0.0));
        let e = none.exact.unwrap();
        assert!(close(e.precision, 1.0 / 6.0) && close(e.recall, 1.0 / 3.0));
        // Everything in one cluster: every pair predicted, 4 of 15 true.
        let all = Scores::compute(&TRUTH, None, Some(&[0; 6]));
        let c = all.cluster_pairs.unwrap();
        assert_eq!((c.true_positives, c.predicted), (4, 15));
        assert!(close(c.scores.recall, 1.0));
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn files_are_read_and_bad_ones_refused_with_the_line() {
        let d = tempfile::tempdir().unwrap();
        let truth = write(
            d.path(),
            "truth.csv",
            "record_id,person_id\nA,p1\nB,p1\nC,p2\nD,p2\nE,p3\n",
        );
        let pairs = write(
            d.path(),
            "pairs.csv",
            "left_id,right_id,probability\nA,B,0.99\nC,D,0.4\nB,C,0.7\n",
        );
        let clusters = write(
            d.path(),
            "clusters.csv",
            "record_id,entity_id\nA,1\nB,1\nC,2\n",
        );
        let s = evaluate(&truth, Some(&pairs), Some(&clusters), Some(0.5)).unwrap();
        let p = s.pairs.unwrap();
        assert_eq!((p.true_positives, p.predicted, p.actual), (1, 2, 2));
        // D and E are left out of the clusters file: each alone.
        let c = s.cluster_pairs.unwrap();
        assert_eq!((c.true_positives, c.predicted), (1, 1));
        assert_eq!(s.predicted_clusters, Some(4));
        let all = evaluate(&truth, Some(&pairs), None, None).unwrap();
        assert_eq!(all.pairs.unwrap().predicted, 3);

        let err = |t: &Path, p: Option<&Path>, c: Option<&Path>| {
            format!("{:#}", evaluate(t, p, c, Some(0.5)).unwrap_err())
        };
        let unknown = write(
            d.path(),
            "u.csv",
            "left_id,right_id,probability\nA,B,1\nA,Z,1\n",
        );
        assert!(
            err(&truth, Some(&unknown), None).contains("line 3"),
            "{}",
            err(&truth, Some(&unknown), None)
        );
        assert!(err(&truth, Some(&unknown), None).contains("Z is not in the truth"));
        let ragged = write(d.path(), "r.csv", "left_id,right_id\nA,B\nA\n");
        assert!(err(&truth, Some(&ragged), None).contains("line 3 has 1 fields"));
        let nocol = write(d.path(), "n.csv", "a,b\n1,2\n");
        assert!(err(&truth, Some(&nocol), None).contains("no column left_id"));
        let twice = write(d.path(), "t.csv", "record_id,entity_id\nA,1\nA,2\n");
        assert!(err(&truth, None, Some(&twice)).contains("two clusters"));
        let empty = write(d.path(), "e.csv", "");
        assert!(err(&empty, None, Some(&clusters)).contains("empty"));
        let dup = write(d.path(), "d.csv", "record_id,person_id\nA,1\nA,1\n");
        assert!(err(&dup, None, Some(&clusters)).contains("listed twice"));
        let badp = write(
            d.path(),
            "b.csv",
            "left_id,right_id,probability\nA,B,high\n",
        );
        assert!(err(&truth, Some(&badp), None).contains("not a number"));
        let binary = write(d.path(), "x.csv", "record_id,person_id\n\u{0}\u{1}\u{2}\n");
        // Not a crash: either refused or read as an id with no entity.
        assert!(evaluate(&binary, None, Some(&clusters), None).is_err());
        assert!(err(&truth, None, None).contains("--pairs"));
        assert!(err(&d.path().join("missing.csv"), None, Some(&clusters)).contains("cannot read"));
    }

    #[test]
    fn records_and_truth_files_are_well_formed_and_agree() {
        let d = tempfile::tempdir().unwrap();
        let (out, truth) = (d.path().join("r.csv"), d.path().join("t.csv"));
        let rep = write_records(2_000, 9, &out, &truth).unwrap();
        assert_eq!(rep.records, 2_000);
        let mut r = csv::Reader::from_path(&out).unwrap();
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let ids: Vec<String> = r.records().map(|x| x.unwrap()[0].to_owned()).collect();
        let mut t = csv::Reader::from_path(&truth).unwrap();
        let tids: Vec<String> = t.records().map(|x| x.unwrap()[0].to_owned()).collect();
        assert_eq!(ids.len(), 2_000);
        assert_eq!(ids, tids);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2_000);
        // The truth scores itself perfectly.
        let s = evaluate(
            &truth,
            None,
            Some(&truth_as_clusters(d.path(), &truth)),
            None,
        )
        .unwrap();
        assert_eq!(s.exact.unwrap(), Prf::new(1.0, 1.0));
        assert_eq!(s.true_entities as u32, rep.people);
        // The same seed writes the same bytes.
        let (out2, truth2) = (d.path().join("r2.csv"), d.path().join("t2.csv"));
        write_records(2_000, 9, &out2, &truth2).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
        assert_eq!(
            std::fs::read(&truth).unwrap(),
            std::fs::read(&truth2).unwrap()
        );
        assert!(write_records(0, 1, &out2, &truth2).is_err());
        assert!(write_records(10, 1, &out2, &out2).is_err());
        assert!(write_records(10, 1, &d.path().join("no/such/dir.csv"), &truth2).is_err());
    }

    fn truth_as_clusters(dir: &Path, truth: &Path) -> std::path::PathBuf {
        let text = std::fs::read_to_string(truth).unwrap();
        let mut out = String::from("record_id,entity_id\n");
        for line in text.lines().skip(1) {
            let mut f = line.split(',');
            out.push_str(&format!("{},{}\n", f.next().unwrap(), f.next().unwrap()));
        }
        write(dir, "tc.csv", &out)
    }
}
