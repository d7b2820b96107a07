//! `vigil synth`: generate a synthetic borough (see `vigil-synth` and
//! docs/synth.md) and record it through the normal write path.
//!
//! Every generated event is validated, given its receipt time and a random
//! salt, and appended with `store.append` in large batches, exactly as
//! `vigil import` does: each one ends up in the ledger with a signed
//! receipt. Validation of the next batch runs on a second thread while the
//! store writes the current one. The truth file is written before anything
//! is appended, so an unwritable path fails without touching the ledger.

use crate::import::new_salt;
use anyhow::{anyhow, bail, Context, Result};
use chrono::{NaiveDate, Utc};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;
use vigil_ledger::Receipt;
use vigil_model::codes::AgencyKind;
use vigil_model::{EventDraft, EventPayload};
use vigil_store::Store;
use vigil_synth::{SynthConfig, Truth};

/// What `vigil synth` was asked for on the command line.
pub struct SynthArgs<'a> {
    pub children: Option<u32>,
    pub years: Option<u32>,
    pub seed: Option<u64>,
    pub end_date: Option<NaiveDate>,
    pub config: Option<&'a Path>,
}

/// Events per transaction unless told otherwise: large batches make the
/// per-commit cost (fsync, signing a tree head) small.
pub const DEFAULT_BATCH: usize = 5_000;

/// The config to generate with: defaults, then the config file (if any),
/// then the command line's numbers.
pub fn config(args: &SynthArgs<'_>) -> Result<SynthConfig> {
    let mut cfg = match args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            serde_json::from_str::<SynthConfig>(&text)
                .map_err(|e| anyhow!("{} is not a synth config: {e}", p.display()))?
        }
        None => SynthConfig::default(),
    };
    if let Some(c) = args.children {
        cfg.children = c;
    }
    if let Some(y) = args.years {
        cfg.years = y;
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    if let Some(d) = args.end_date {
        cfg.end_date = d;
    }
    cfg.validate().map_err(|e| anyhow!("{e}"))?;
    let today = Utc::now().date_naive();
    if cfg.end_date > today {
        bail!(
            "the end date {} is in the future; Vigil refuses records of things that have not happened yet, so end on or before {today}",
            cfg.end_date
        );
    }
    Ok(cfg)
}

/// What one run did.
pub struct SynthReport {
    pub truth: Truth,
    /// Agency code → kind of agency, from the generated registrations.
    pub agency_kinds: BTreeMap<String, AgencyKind>,
    pub events: u64,
    pub receipts: u64,
    pub generate_secs: f64,
    pub append_secs: f64,
    /// The last receipt issued (for the demo to check offline).
    pub last_receipt: Option<Receipt>,
    pub truth_path: Option<PathBuf>,
}

/// A progress bar only when a person is watching: stderr is a terminal and
/// this is not CI.
fn progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "  recording {bar:40} {human_pos}/{human_len} events, {eta} left",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// Generates the borough, writes the truth file, and appends every event.
pub fn run(
    store: &dyn Store,
    cfg: &SynthConfig,
    truth_path: Option<&Path>,
    batch: usize,
) -> Result<SynthReport> {
    let t0 = Instant::now();
    let borough = vigil_synth::generate(cfg).map_err(|e| anyhow!("{e}"))?;
    let generate_secs = t0.elapsed().as_secs_f64();
    if let Some(p) = truth_path {
        std::fs::write(p, borough.truth.to_json())
            .with_context(|| format!("cannot write the truth file {}", p.display()))?;
    }
    let agency_kinds: BTreeMap<String, AgencyKind> = borough
        .events
        .iter()
        .filter_map(|e| match &e.body {
            EventPayload::AgencyRegistered(a) => Some((a.code.as_str().to_owned(), a.kind)),
            _ => None,
        })
        .collect();
    let total = borough.events.len() as u64;
    let bar = progress_bar(total);
    let t1 = Instant::now();
    let mut receipts = 0u64;
    let mut last_receipt = None;
    let mut refused: Vec<String> = Vec::new();
    let events = borough.events;
    std::thread::scope(|s| -> Result<()> {
        // Validation (canonical JSON, digests) of the next batch overlaps
        // with the store writing the current one.
        let (tx, rx) = sync_channel::<Result<Vec<EventDraft>, String>>(1);
        let producer = s.spawn(move || {
            for chunk in events.chunks(batch) {
                let now = Utc::now();
                let drafts: Result<Vec<EventDraft>, String> = chunk
                    .iter()
                    .map(|e| {
                        e.clone().prepare(now, new_salt()).map_err(|err| {
                            format!("a generated {} event is not valid: {err}", e.body.kind())
                        })
                    })
                    .collect();
                let failed = drafts.is_err();
                if tx.send(drafts).is_err() || failed {
                    break;
                }
            }
        });
        for drafts in rx {
            let drafts = drafts.map_err(anyhow::Error::msg)?;
            let n = drafts.len() as u64;
            let outcome = store.append(drafts)?;
            for r in outcome.results {
                match r {
                    Ok(a) => {
                        receipts += 1;
                        last_receipt = Some(a.receipt);
                    }
                    Err(msg) => refused.push(msg),
                }
            }
            if let Some(b) = &bar {
                b.inc(n);
            }
        }
        producer
            .join()
            .map_err(|_| anyhow!("the validating thread stopped unexpectedly"))?;
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let append_secs = t1.elapsed().as_secs_f64();
    if !refused.is_empty() {
        bail!(
            "{} of the {total} generated events were refused (was this borough already recorded in this data directory?); the first: {}",
            refused.len(),
            refused[0]
        );
    }
    Ok(SynthReport {
        truth: borough.truth,
        agency_kinds,
        events: total,
        receipts,
        generate_secs,
        append_secs,
        last_receipt,
        truth_path: truth_path.map(Path::to_owned),
    })
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The columns of the summary table: kinds of agency, schools together.
const COLUMNS: &[(AgencyKind, &str)] = &[
    (AgencyKind::Police, "police"),
    (AgencyKind::SocialCare, "social care"),
    (AgencyKind::Health, "health"),
    (AgencyKind::Education, "schools"),
    (AgencyKind::YouthService, "youth"),
    (AgencyKind::Licensing, "licensing"),
];

/// The summary printed at the end: records per agency and kind, networks,
/// victims, duplicates by design, failures made, timings.
pub fn summary(r: &SynthReport) -> String {
    let t = &r.truth;
    let c = &t.config;
    let mut out = String::new();
    let line = |out: &mut String, s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(
        &mut out,
        format!(
            "Synthetic borough: {} children over {} year(s), {} to {}, seed {}",
            thousands(u64::from(c.children)),
            c.years,
            t.start_date,
            t.end_date,
            c.seed
        ),
    );
    let schools = r
        .agency_kinds
        .values()
        .filter(|k| **k == AgencyKind::Education)
        .count();
    line(
        &mut out,
        format!(
            "  agencies: police, children's social care, health, {} school(s), a youth project, licensing",
            schools
        ),
    );
    line(&mut out, String::new());
    // kind → column → count
    let mut table: BTreeMap<&str, [u64; 6]> = BTreeMap::new();
    let mut totals = [0u64; 6];
    for (agency, kinds) in &t.counts.by_agency_and_kind {
        let col = r
            .agency_kinds
            .get(agency)
            .and_then(|k| COLUMNS.iter().position(|(c, _)| c == k))
            .unwrap_or(0);
        for (kind, n) in kinds {
            table.entry(kind.as_str()).or_default()[col] += n;
            totals[col] += n;
        }
    }
    let mut header = format!("  {:<26}", "records");
    for (_, name) in COLUMNS {
        header.push_str(&format!("{name:>12}"));
    }
    header.push_str(&format!("{:>10}", "total"));
    line(&mut out, header);
    for (kind, cols) in &table {
        let mut row = format!("  {kind:<26}");
        for n in cols {
            row.push_str(&format!(
                "{:>12}",
                if *n == 0 {
                    "-".to_owned()
                } else {
                    thousands(*n)
                }
            ));
        }
        row.push_str(&format!("{:>10}", thousands(cols.iter().sum())));
        line(&mut out, row);
    }
    let mut row = format!("  {:<26}", "all");
    for n in totals {
        row.push_str(&format!("{:>12}", thousands(n)));
    }
    row.push_str(&format!("{:>10}", thousands(totals.iter().sum())));
    line(&mut out, row);
    line(&mut out, String::new());
    let d = &t.duplicates;
    line(
        &mut out,
        format!(
            "  networks: {} ({} adults); victims: {} (exploitation began on dates in the truth file)",
            t.counts.networks, t.counts.network_members, t.counts.victims
        ),
    );
    line(
        &mut out,
        format!(
            "  duplicates by design: {} person records for {} real people, so {} records to link ({} people on record with more than one agency; {} repeat records within one agency; most for one person {})",
            thousands(d.person_records),
            thousands(d.people_recorded),
            thousands(d.duplicate_person_records),
            thousands(d.people_recorded_by_several_agencies),
            thousands(d.within_agency_duplicates),
            d.most_records_for_one_person
        ),
    );
    let f = &t.failures;
    line(
        &mut out,
        format!(
            "  failures made: {} referrals never answered, {} cases closed while the child was still exploited, {} exploited children recorded as suspects, {} records with victim-blaming wording",
            thousands(f.unanswered_referrals.len() as u64),
            thousands(f.cases_closed_while_exploited.len() as u64),
            thousands(f.victims_recorded_as_suspects.len() as u64),
            thousands(f.victim_blaming_wording.len() as u64)
        ),
    );
    line(
        &mut out,
        format!(
            "  {} events generated in {:.2} s; {} appended with {} receipts in {:.2} s ({} events/s)",
            thousands(r.events),
            r.generate_secs,
            thousands(r.events),
            thousands(r.receipts),
            r.append_secs,
            thousands((r.events as f64 / r.append_secs.max(1e-9)) as u64)
        ),
    );
    if let Some(p) = &r.truth_path {
        line(&mut out, format!("  truth written to {}", p.display()));
    }
    out
}
