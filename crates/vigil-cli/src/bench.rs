//! `vigil bench`: throughput figures for BENCHMARKS.md, measured on the
//! machine it runs on, through the same code paths the product uses.
//!
//! Benchmarks are commands, not timed tests: a slow CI machine must not fail
//! the build, and a figure must come with the command that produced it.

use crate::datadir::DataDir;
use crate::import::{new_salt, parse_line};
use anyhow::{bail, Result};
use chrono::Utc;
use clap::Subcommand;
use std::time::Instant;
use vigil_model::EventDraft;
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::Store;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Durable appends per second: events validated, sealed, projected, committed (fsync) and receipted.
    Append {
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Events per transaction (group commit); 1 = one commit per event.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Database to use (default: SQLite in a temporary directory).
        #[arg(long)]
        database: Option<String>,
    },
    /// Full verification time: builds a log of N entries, then verifies it.
    Verify {
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        #[arg(long)]
        database: Option<String>,
    },
}

/// A synthetic person event (invented name, numbered).
pub fn synthetic_person_line(i: u64) -> String {
    format!(
        r#"{{"actor":{{"user":"bench","role":"system"}},"agency":"bench-agency","occurred_at":{{"value":"2024-05-01","precision":"day"}},"kind":"person.recorded","payload":{{"person_id":"{}","names":[{{"given":"Benchmark","family":"Person{i}","kind":"birth"}}],"date_of_birth":{{"value":"2010-03-04","precision":"day"}},"description":"synthetic record {i} made by vigil bench"}}}}"#,
        uuid::Uuid::now_v7()
    )
}

fn drafts(from: u64, n: u64) -> Result<Vec<EventDraft>> {
    (from..from + n)
        .map(|i| {
            let input = parse_line(&synthetic_person_line(i)).map_err(anyhow::Error::msg)?;
            input.prepare(Utc::now(), new_salt()).map_err(anyhow::Error::from)
        })
        .collect()
}

fn temp_store(database: Option<&str>) -> Result<(tempfile::TempDir, Box<dyn Store>)> {
    let tmp = tempfile::tempdir()?;
    let dir = DataDir::new(&tmp.path().join("data"));
    dir.init(database)?;
    let store = dir.open(database)?;
    Ok((tmp, store))
}

/// Appends `events` in batches, returning seconds spent.
fn fill(store: &dyn Store, events: u64, batch: usize, progress: bool) -> Result<f64> {
    let mut done = 0u64;
    let mut spent = 0f64;
    while done < events {
        let n = (batch as u64).min(events - done);
        let d = drafts(done, n)?;
        let t = Instant::now();
        let out = store.append(d)?;
        spent += t.elapsed().as_secs_f64();
        if let Some(Err(e)) = out.results.iter().find(|r| r.is_err()) {
            bail!("a benchmark event was refused: {e}");
        }
        done += n;
        if progress && done % 100_000 == 0 {
            eprintln!("  {done} entries written");
        }
    }
    Ok(spent)
}

pub fn run(c: &BenchCommand) -> Result<()> {
    match c {
        BenchCommand::Append { events, batch, database } => {
            if *batch == 0 {
                bail!("--batch must be at least 1");
            }
            let (_tmp, store) = temp_store(database.as_deref())?;
            let t = Instant::now();
            let append_secs = fill(store.as_ref(), *events, *batch, false)?;
            let total = t.elapsed().as_secs_f64();
            println!(
                "append: {events} events, batch {batch}: {:.0} durable appends/s (store.append only: {:.2} s; with validation: {:.2} s, {:.0}/s)",
                *events as f64 / append_secs,
                append_secs,
                total,
                *events as f64 / total
            );
        }
        BenchCommand::Verify { entries, database } => {
            let (_tmp, store) = temp_store(database.as_deref())?;
            eprintln!("building a log of {entries} entries...");
            fill(store.as_ref(), *entries, 10_000, true)?;
            let t = Instant::now();
            let r = verify(store.as_ref(), VerifyOptions { projections: false })?;
            let ledger = t.elapsed().as_secs_f64();
            if let Some(p) = r.problem {
                bail!("verification failed: {p}");
            }
            let t = Instant::now();
            let r = verify(store.as_ref(), VerifyOptions { projections: true })?;
            let full = t.elapsed().as_secs_f64();
            if let Some(p) = r.problem {
                bail!("verification failed: {p}");
            }
            let per10m = |s: f64| s * 10_000_000.0 / *entries as f64;
            println!(
                "verify: {entries} entries, {} signed tree heads: ledger (entries + tree + signatures) {:.2} s ({:.0} entries/s, 10M extrapolated {:.1} s); with projection rebuild {:.2} s (10M extrapolated {:.1} s)",
                r.tree_heads,
                ledger,
                *entries as f64 / ledger,
                per10m(ledger),
                full,
                per10m(full)
            );
        }
    }
    Ok(())
}
