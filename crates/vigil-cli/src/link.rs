//! `vigil link --csv FILE`: deduplicates any CSV file of person records
//! with `vigil-link`, outside the case system (docs/linkage.md).
//!
//! Reads the file (strictly: a ragged row, invalid UTF-8, a field over
//! [`MAX_FIELD`] bytes or binary data ends the command with one sentence
//! naming the line), maps its columns to fields, links, and writes
//! `DIR/pairs.csv`, `DIR/clusters.csv` and `DIR/model.json` through
//! temporary files renamed into place, so nothing is half-written.

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use vigil_link::{Attribute, Decisions, Field, Progress, Record, Settings};

/// The longest value a cell may hold.
pub const MAX_FIELD: usize = 10_000;

pub struct LinkArgs<'a> {
    pub csv: &'a Path,
    pub id: &'a str,
    pub map: &'a [String],
    pub threshold: f64,
    pub out: Option<&'a Path>,
    pub explain: &'a [String],
    pub verbose: bool,
}

/// Which columns feed which attribute, in the order given.
struct Mapping {
    id: usize,
    attrs: Vec<(Attribute, Vec<usize>)>,
}

fn field_names() -> String {
    Attribute::NAMES
        .iter()
        .map(|(_, n)| n[0])
        .collect::<Vec<_>>()
        .join(", ")
}

fn mapping(header: &[String], id: &str, map: &[String], file: &Path) -> Result<Mapping> {
    let find = |col: &str| -> Result<usize> {
        header.iter().position(|h| h == col).ok_or_else(|| {
            anyhow::anyhow!(
                "{} has no column '{col}' (line 1 has: {})",
                file.display(),
                shorten(&header.join(", "), 300)
            )
        })
    };
    let id = find(id).context("the --id column is missing")?;
    let mut attrs: Vec<(Attribute, Vec<usize>)> = Vec::new();
    let mut add = |a: Attribute, c: usize| match attrs.iter_mut().find(|(x, _)| *x == a) {
        Some((_, cols)) => cols.push(c),
        None => attrs.push((a, vec![c])),
    };
    if map.is_empty() {
        for (c, h) in header.iter().enumerate() {
            if c == id {
                continue;
            }
            if let Some(a) = Attribute::parse(h) {
                add(a, c);
            }
        }
        if attrs.is_empty() {
            bail!(
                "no column of {} is named like a field, so there is nothing to compare: name them with --map COLUMN=FIELD (fields: {})",
                file.display(),
                field_names()
            );
        }
    } else {
        for m in map {
            let Some((col, field)) = m.split_once('=') else {
                bail!("--map takes COLUMN=FIELD, not '{}'", shorten(m, 80));
            };
            let a = Attribute::parse(field).ok_or_else(|| {
                anyhow::anyhow!(
                    "'{}' in --map {} is not a field; the fields are {}",
                    shorten(field, 80),
                    shorten(m, 80),
                    field_names()
                )
            })?;
            let c = find(col).context("a --map column is missing")?;
            add(a, c);
        }
    }
    Ok(Mapping { id, attrs })
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}...", s.chars().take(n).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// How several columns of one attribute are joined: sets with `;`, dates
/// with `-` (year, month, day columns), text with a space.
fn joiner(a: Attribute) -> &'static str {
    match a {
        Attribute::Compared(Field::Phone | Field::Email | Field::Vehicle | Field::Identifier) => {
            "; "
        }
        Attribute::Compared(Field::DateOfBirth) => "-",
        _ => " ",
    }
}

struct Read {
    records: Vec<Record>,
    bad_dates: usize,
    first_bad_date: Option<String>,
}

fn read_records(file: &Path, id: &str, map: &[String], bar: &Bar) -> Result<Read> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.is_empty() {
        bail!(
            "{} is empty: a CSV file needs a header row naming its columns",
            file.display()
        );
    }
    if bytes[..bytes.len().min(65_536)].contains(&0) {
        bail!(
            "{} is not a CSV file: it holds binary data (a NUL byte near the start)",
            file.display()
        );
    }
    bar.stage("reading", bytes.len() as u64);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(bytes.as_slice());
    let mut row = csv::ByteRecord::new();
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());
    let utf8 = |r: &csv::ByteRecord, line: u64| -> Result<Vec<String>> {
        r.iter()
            .enumerate()
            .map(|(k, f)| {
                if f.len() > MAX_FIELD {
                    bail!(
                        "line {line} of {}: column {} holds {} bytes, more than the {MAX_FIELD} a value may have",
                        file.display(),
                        k + 1,
                        f.len()
                    );
                }
                std::str::from_utf8(f).map(str::to_owned).map_err(|_| {
                    anyhow::anyhow!(
                        "line {line} of {} is not valid UTF-8 (column {}): save the file as UTF-8",
                        file.display(),
                        k + 1
                    )
                })
            })
            .collect()
    };
    let csv_err = |e: csv::Error| -> anyhow::Error {
        let line = e.position().map_or(0, |p| p.line());
        match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => anyhow::anyhow!(
                "line {line} of {} has {len} fields where the header has {expected_len}: is a value with a comma missing its quotes?",
                file.display()
            ),
            _ => anyhow::anyhow!("line {line} of {} is not CSV: {e}", file.display()),
        }
    };
    if !rdr.read_byte_record(&mut row).map_err(csv_err)? {
        bail!("{} is empty: a CSV file needs a header row", file.display());
    }
    let header: Vec<String> = utf8(&row, 1)?
        .into_iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    let m = mapping(&header, id, map, file)?;
    let mut records = Vec::new();
    let mut seen: std::collections::HashMap<String, u64> = Default::default();
    let mut bad_dates = 0;
    let mut first_bad_date = None;
    let mut last = 0u64;
    while rdr.read_byte_record(&mut row).map_err(csv_err)? {
        let line = line_of(&row);
        let cells = utf8(&row, line)?;
        if cells.len() == 1 && cells[0].trim().is_empty() {
            continue;
        }
        let rid = cells[m.id].trim();
        if rid.is_empty() {
            bail!(
                "line {line} of {} has no record id (column '{}' is empty)",
                file.display(),
                header[m.id]
            );
        }
        if let Some(prev) = seen.insert(rid.to_owned(), line) {
            bail!(
                "line {line} of {}: record id '{}' is also on line {prev}; ids must be unique",
                file.display(),
                shorten(rid, 60)
            );
        }
        let mut r = Record::new(rid);
        for (a, cols) in &m.attrs {
            let parts: Vec<&str> = cols
                .iter()
                .map(|&c| cells[c].trim())
                .filter(|s| !s.is_empty())
                .collect();
            let value = parts.join(joiner(*a));
            if let Err(e) = r.set(*a, &value) {
                bad_dates += 1;
                if first_bad_date.is_none() {
                    first_bad_date = Some(format!("line {line}: {e}"));
                }
            }
        }
        records.push(r);
        let pos = row.position().map_or(0, |p| p.byte());
        if pos - last > 1 << 20 {
            bar.advance(pos - last);
            last = pos;
        }
    }
    if records.is_empty() {
        bail!("{} has a header but no records", file.display());
    }
    if records.len() > u32::MAX as usize / 2 {
        bail!(
            "{} has more records than vigil link can hold",
            file.display()
        );
    }
    Ok(Read {
        records,
        bad_dates,
        first_bad_date,
    })
}

/// A progress bar on a terminal (hidden otherwise, and under CI), and the
/// time each stage started (for `--verbose`).
pub(crate) struct Bar(
    ProgressBar,
    std::sync::Mutex<Vec<(String, std::time::Instant)>>,
);

impl Bar {
    /// Each stage and how long it took.
    fn timings(&self) -> Vec<(String, f64)> {
        let v = self.1.lock().map(|v| v.clone()).unwrap_or_default();
        let end = std::time::Instant::now();
        v.iter()
            .enumerate()
            .map(|(k, (name, t))| {
                let next = v.get(k + 1).map_or(end, |n| n.1);
                (name.clone(), (next - *t).as_secs_f64())
            })
            .collect()
    }

    pub(crate) fn new() -> Bar {
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let pb = if tty {
            ProgressBar::new(1)
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template("{msg:42} [{bar:30}] {percent:>3}% {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Bar(pb, Default::default())
    }
}

impl vigil_link::Progress for Bar {
    fn stage(&self, name: &str, total: u64) {
        if let Ok(mut v) = self.1.lock() {
            v.push((name.to_owned(), std::time::Instant::now()));
        }
        self.0.set_message(name.to_owned());
        self.0.set_length(total.max(1));
        self.0.set_position(0);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

/// Writes `name` in `dir` through a temporary file; returns the temporary
/// path (renamed by the caller once every file is written).
pub(crate) fn write_temp(
    dir: &Path,
    name: &str,
    body: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<PathBuf> {
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let r = body(&mut w).and_then(|()| w.flush().map_err(Into::into));
    if let Err(e) = r.and_then(|()| w.get_ref().sync_all().map_err(anyhow::Error::from)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("cannot write {}", tmp.display())));
    }
    Ok(tmp)
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn run(args: &LinkArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) || args.threshold.is_nan() {
        bail!(
            "--threshold is a probability between 0 and 1, not {}",
            args.threshold
        );
    }
    if args.out.is_none() && args.explain.is_empty() {
        bail!("say where to write the results with --out DIR (or give --explain LEFT_ID,RIGHT_ID)");
    }
    let mut wanted = Vec::new();
    for e in args.explain {
        let Some((l, r)) = e.split_once(',') else {
            bail!(
                "--explain takes two record ids separated by a comma, not '{}'",
                shorten(e, 80)
            );
        };
        wanted.push((l.trim().to_owned(), r.trim().to_owned()));
    }
    if let Some(dir) = args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    }
    let bar = Bar::new();
    let started = std::time::Instant::now();
    let read = read_records(args.csv, args.id, args.map, &bar)?;
    if let Some(first) = &read.first_bad_date {
        eprintln!(
            "vigil: warning: {} date(s) of birth could not be read and are treated as missing; the first, {first}",
            read.bad_dates
        );
    }
    let records = read.records;
    let settings = Settings::default();
    let linkage = vigil_link::link(
        &records,
        &settings,
        args.threshold,
        &Decisions::default(),
        &bar,
    );
    bar.0.finish_and_clear();
    if args.verbose {
        for (name, secs) in bar.timings() {
            eprintln!("vigil: {secs:8.2} s  {name}");
        }
        for r in &linkage.blocking.rules {
            eprintln!(
                "vigil: blocking on {}: {} pairs, largest block {}, {} giant blocks ({} pairs not compared)",
                r.rule.as_str(),
                r.pairs,
                r.largest_block,
                r.giant_blocks,
                r.pairs_skipped
            );
        }
        for s in &linkage.fit.sessions {
            eprintln!(
                "vigil: EM on {}: {} pairs, {} iterations{}, match share {:.4}",
                s.rule.as_str(),
                s.pairs,
                s.iterations,
                if s.converged { "" } else { " (not converged)" },
                s.match_share
            );
        }
        eprintln!(
            "vigil: prior {:.3e} (log2 {:+.2}); expected matching pairs {:.0}",
            linkage.model.lambda,
            linkage.model.prior_weight(),
            linkage.fit.expected_matches
        );
        for c in &linkage.model.comparisons {
            eprintln!("vigil: {}", c.comparison.label());
            for l in 1..c.m.len() {
                eprintln!(
                    "vigil:    {:48} m {:.5}  u {:.6}  {:+6.2}",
                    c.levels[l],
                    c.m[l],
                    c.u[l],
                    (c.m[l] / c.u[l]).log2()
                );
            }
        }
    }

    for (l, r) in &wanted {
        let idx = |id: &str| {
            records.iter().position(|x| x.id == id).ok_or_else(|| {
                anyhow::anyhow!(
                    "--explain: there is no record '{}' in {}",
                    shorten(id, 60),
                    args.csv.display()
                )
            })
        };
        let (a, b) = (idx(l)?, idx(r)?);
        print!(
            "{}",
            linkage.model.explain(&records[a], &records[b]).table()
        );
    }

    if let Some(dir) = args.out {
        let mut pairs = linkage.pairs.clone();
        pairs.sort_by_key(|p| (p.left, p.right));
        let t_pairs = write_temp(dir, "pairs.csv", |w| {
            writeln!(w, "left_id,right_id,probability")?;
            for p in &pairs {
                writeln!(
                    w,
                    "{},{},{:.6}",
                    csv_cell(&records[p.left as usize].id),
                    csv_cell(&records[p.right as usize].id),
                    p.probability
                )?;
            }
            Ok(())
        })?;
        let t_clusters = write_temp(dir, "clusters.csv", |w| {
            writeln!(w, "record_id,entity_id")?;
            for (r, &e) in records.iter().zip(&linkage.clusters) {
                writeln!(
                    w,
                    "{},{}",
                    csv_cell(&r.id),
                    csv_cell(&records[e as usize].id)
                )?;
            }
            Ok(())
        });
        let t_clusters = match t_clusters {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_file(&t_pairs);
                return Err(e);
            }
        };
        let t_model = write_temp(dir, "model.json", |w| {
            w.write_all(linkage.model.to_json().as_bytes())?;
            Ok(())
        });
        let t_model = match t_model {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_file(&t_pairs);
                let _ = std::fs::remove_file(&t_clusters);
                return Err(e);
            }
        };
        for (t, name) in [
            (&t_pairs, "pairs.csv"),
            (&t_clusters, "clusters.csv"),
            (&t_model, "model.json"),
        ] {
            std::fs::rename(t, dir.join(name))
                .with_context(|| format!("cannot move {} into place", t.display()))?;
        }
        let skipped: u64 = linkage.blocking.rules.iter().map(|r| r.pairs_skipped).sum();
        let giant: u64 = linkage.blocking.rules.iter().map(|r| r.giant_blocks).sum();
        eprintln!(
            "vigil: {} records, {} candidate pairs, {} pairs at or above {}, {} entities (largest {}) in {:.1} s; wrote {}",
            records.len(),
            linkage.blocking.pairs,
            pairs.len(),
            args.threshold,
            linkage.cluster_report.entities,
            linkage.cluster_report.largest,
            started.elapsed().as_secs_f64(),
            dir.display()
        );
        if giant > 0 {
            eprintln!(
                "vigil: {giant} blocks were larger than {} records and were compared as sorted neighbourhoods ({skipped} pairs in them not compared)",
                settings.max_block
            );
        }
    }
    Ok(())
}
