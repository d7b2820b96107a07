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
use vigil_store::postgres::ScratchSchema;
use vigil_store::verify::{verify, VerifyOptions};
use vigil_store::{DatabaseUrl, Store, StoreError};

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
    /// Reading one person's records (`entries_about` + `entity`) from N reader threads while one writer appends.
    Read {
        /// People in the store before the run.
        #[arg(long, default_value_t = 5_000)]
        people: u64,
        /// Notes per person (each note concerns two people).
        #[arg(long, default_value_t = 10)]
        notes: u64,
        /// Reader threads.
        #[arg(long, default_value_t = 4)]
        readers: usize,
        /// Length of the measured run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Database to use (default: SQLite in a temporary directory); with postgres:// the SQLite peer runs too.
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
    /// The web service over loopback HTTP: the triage queue (GET) and the referral form (POST) under concurrent users.
    Web {
        /// Concurrent users (each signed in with its own session).
        #[arg(long, default_value_t = 100)]
        users: usize,
        /// Measured length of the run, split between the two pages.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Seconds of load before each page's measurement that are not counted (a new server's first requests).
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// Pause of each user between a page and its next request, in ms (0: no pause, a closed loop).
        #[arg(long, default_value_t = 0)]
        think_ms: u64,
        /// Referrals awaiting a decision (what the queue page lists).
        #[arg(long, default_value_t = 50)]
        queue: usize,
        /// Chronology items of the child whose page is loaded (0: the child page is not measured).
        #[arg(long, default_value_t = 1000)]
        chronology: usize,
        /// Person records search looks through (0: search is not measured).
        #[arg(long, default_value_t = 10_000)]
        people: usize,
        /// Database to use (default: SQLite in a temporary directory); with postgres:// the SQLite peer runs too.
        #[arg(long)]
        database: Option<String>,
        /// Which pages to measure, of queue, send, child and search (each for --seconds/2).
        #[arg(long, value_delimiter = ',', default_value = "queue,send,child,search")]
        phases: Vec<String>,
        /// SQLite: keep the store in this directory and reuse it on a later run with the same --queue, --chronology and --people (the runs' referrals and access log accumulate in it).
        #[arg(long)]
        data: Option<std::path::PathBuf>,
    },
    /// Sign-ins sent all at once to a `vigil serve` process on loopback: its peak and final resident memory, and how they were answered.
    Signins {
        /// Accounts signing in at once (each from its own forwarded address).
        #[arg(long, default_value_t = 200)]
        users: usize,
        /// Bursts, one after the other (memory should not grow from one to the next).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Connections that never finish their headers (slowloris) against a `vigil serve` process on loopback, and how long /healthz takes meanwhile.
    Slowloris {
        /// Half-open connections to open (spread over helper processes of 10,000 each).
        #[arg(long, default_value_t = 20_000)]
        connections: usize,
        /// Times /healthz is asked while they are open.
        #[arg(long, default_value_t = 10)]
        probes: usize,
    },
    /// Resident memory of a `vigil serve` process over a log of N entries, after a referral (so its writer loads the log) and a list of pages.
    Memory {
        /// Entries in the log (people recorded by the benchmark, plus the accounts and referrals it needs).
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Keep the data directory here: built if absent, reused (and topped up to --entries) if present, so several servers can be measured on one log.
        #[arg(long)]
        data: Option<std::path::PathBuf>,
        /// Pages the triage officer loads, in order; `{referral}` and `{person}` stand for the first referral and person an earlier page links to (add `/search?q=...` when there is a search page).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "/triage,/referrals/{referral},/people/{person}"
        )]
        pages: Vec<String>,
        /// The `vigil` binary to run as the server (default: this one), to measure another build on the same log.
        #[arg(long)]
        server: Option<std::path::PathBuf>,
        /// Then open this many distinct people's pages (the last people recorded), in rounds of --round, measuring after each round: the child-page summary cache fills to its bound and memory should stop growing.
        #[arg(long, default_value_t = 0)]
        children: usize,
        /// Pages per round of --children.
        #[arg(long, default_value_t = 500)]
        round: usize,
    },
    /// Matching a new referral's child at intake (the name index and the fitted model) over a store of realistic person records: ms per match and how often the true earlier record is found.
    Intake {
        /// Person records in the store before the run (a model is fitted on them).
        #[arg(long, default_value_t = 100_000)]
        people: u64,
        /// New records matched one at a time.
        #[arg(long, default_value_t = 500)]
        new: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Database to use (default: SQLite in a temporary directory).
        #[arg(long)]
        database: Option<String>,
    },
    /// Precision, recall and F1 of entity resolution against a truth file: of the pairs file's links, of the pairs its clusters imply, B-cubed and exact clusters (docs/linkage-benchmark.md).
    LinkEval {
        /// The truth CSV: record_id and person_id (or entity_id) columns.
        #[arg(long)]
        truth: std::path::PathBuf,
        /// Pairs the linker found: left_id,right_id[,probability].
        #[arg(long)]
        pairs: Option<std::path::PathBuf>,
        /// Clusters the linker made: record_id,entity_id (records left out are alone).
        #[arg(long)]
        clusters: Option<std::path::PathBuf>,
        /// Count only pairs with at least this probability.
        #[arg(long)]
        threshold: Option<f64>,
        /// Print the scores as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Days to alert on a synthetic borough: for each exploited child (the generator's truth), days from the first recorded event about them to the first alert of the default rules; the median, the share never alerted, and alerts per practitioner per week. In memory.
    Alerts {
        #[arg(long, default_value_t = 2000)]
        children: u32,
        #[arg(long, default_value_t = 3)]
        years: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// (Used by `bench slowloris`.) Holds half-open connections to ADDR for a while.
    #[command(hide = true)]
    SlowlorisHold {
        #[arg(long)]
        addr: std::net::SocketAddr,
        #[arg(long)]
        connections: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
}

/// A synthetic person event (invented name, numbered).
pub fn synthetic_person_line(i: u64) -> String {
    synthetic_person_line_with_id(i, uuid::Uuid::now_v7())
}

/// A synthetic person event for a given person id.
pub fn synthetic_person_line_with_id(i: u64, person_id: uuid::Uuid) -> String {
    format!(
        r#"{{"actor":{{"user":"bench","role":"system"}},"agency":"bench-agency","occurred_at":{{"value":"2024-05-01","precision":"day"}},"kind":"person.recorded","payload":{{"person_id":"{}","names":[{{"given":"Benchmark","family":"Person{i}","kind":"birth"}}],"date_of_birth":{{"value":"2010-03-04","precision":"day"}},"description":"synthetic record {i} made by vigil bench"}}}}"#,
        person_id
    )
}

/// A synthetic note about two people.
pub fn synthetic_note_line(a: uuid::Uuid, b: uuid::Uuid, i: u64) -> String {
    format!(
        r#"{{"actor":{{"user":"bench","role":"practitioner"}},"agency":"bench-agency","occurred_at":{{"value":"2024-05-02","precision":"day"}},"kind":"note.recorded","payload":{{"subjects":[{{"type":"person","id":"{a}"}},{{"type":"person","id":"{b}"}}],"text":"Synthetic note {i} made by vigil bench: seen together."}}}}"#
    )
}

fn prepare_lines(lines: impl Iterator<Item = String>) -> Result<Vec<EventDraft>> {
    lines
        .map(|l| {
            let input = parse_line(&l).map_err(anyhow::Error::msg)?;
            input
                .prepare(Utc::now(), new_salt())
                .map_err(anyhow::Error::from)
        })
        .collect()
}

fn drafts(from: u64, n: u64) -> Result<Vec<EventDraft>> {
    (from..from + n)
        .map(|i| {
            let input = parse_line(&synthetic_person_line(i)).map_err(anyhow::Error::msg)?;
            input
                .prepare(Utc::now(), new_salt())
                .map_err(anyhow::Error::from)
        })
        .collect()
}

/// What a benchmark store needs kept alive: its data directory and, on
/// PostgreSQL, the scratch schema it uses (dropped afterwards).
pub struct BenchDb {
    _tmp: tempfile::TempDir,
    _schema: Option<ScratchSchema>,
}

/// A fresh store: SQLite in a temporary directory, or on PostgreSQL a new
/// schema (unless the address names one) that is dropped at the end.
pub(crate) fn temp_store(database: Option<&str>) -> Result<(BenchDb, Box<dyn Store>)> {
    let tmp = tempfile::tempdir()?;
    let dir = DataDir::new(&tmp.path().join("data"));
    let mut schema = None;
    let mut url = database.map(str::to_owned);
    if let Some(u) = database {
        if matches!(DatabaseUrl::parse(u)?, DatabaseUrl::Postgres(_)) && !u.contains("schema=") {
            let s = ScratchSchema::new(u, "vigil_bench")?;
            url = Some(s.url().to_owned());
            schema = Some(s);
        }
    }
    dir.init(url.as_deref())?;
    let store = dir.open(url.as_deref())?;
    Ok((
        BenchDb {
            _tmp: tmp,
            _schema: schema,
        },
        store,
    ))
}

fn is_postgres(database: Option<&str>) -> bool {
    database.is_some_and(|u| matches!(DatabaseUrl::parse(u), Ok(DatabaseUrl::Postgres(_))))
}

pub(crate) fn backend_name(database: Option<&str>) -> &'static str {
    if is_postgres(database) {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

fn bench_append(database: Option<&str>, events: u64, batch: usize) -> Result<()> {
    let (_db, store) = temp_store(database)?;
    let t = Instant::now();
    let append_secs = fill(store.as_ref(), events, batch, false)?;
    let total = t.elapsed().as_secs_f64();
    println!(
        "append ({}): {events} events, batch {batch}: {:.0} durable appends/s (store.append only: {:.2} s; with validation: {:.2} s, {:.0}/s)",
        backend_name(database),
        events as f64 / append_secs,
        append_secs,
        total,
        events as f64 / total
    );
    if let Some(r) = vigil_web::bench::resident(std::process::id()) {
        println!(
            "  this process: resident {:.0} MB (peak {:.0} MB, own {:.0} MB); the writer holds {} hashes",
            r.rss,
            r.peak,
            r.anon,
            store.writer_held_hashes()
        );
    }
    Ok(())
}

struct ReadRun {
    people: u64,
    notes: u64,
    readers: usize,
    seconds: u64,
}

fn bench_read(database: Option<&str>, r: &ReadRun) -> Result<()> {
    use rand::Rng;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let (_db, store) = temp_store(database)?;
    let ids: Vec<uuid::Uuid> = (0..r.people).map(|_| uuid::Uuid::now_v7()).collect();
    for chunk in ids.chunks(1000).enumerate() {
        let base = chunk.0 as u64 * 1000;
        let lines = chunk
            .1
            .iter()
            .enumerate()
            .map(|(k, id)| synthetic_person_line_with_id(base + k as u64, *id));
        let out = store.append(prepare_lines(lines)?)?;
        if let Some(Err(e)) = out.results.iter().find(|x| x.is_err()) {
            bail!("a benchmark event was refused: {e}");
        }
    }
    let n = r.people as usize;
    let mut k = 0u64;
    for round in 0..r.notes {
        let lines: Vec<String> = (0..n)
            .map(|p| {
                k += 1;
                synthetic_note_line(ids[p], ids[(p + round as usize + 1) % n], k)
            })
            .collect();
        for batch in lines.chunks(1000) {
            let out = store.append(prepare_lines(batch.iter().cloned())?)?;
            if let Some(Err(e)) = out.results.iter().find(|x| x.is_err()) {
                bail!("a benchmark event was refused: {e}");
            }
        }
    }
    let entries = store.log_size()?;
    let stop = AtomicBool::new(false);
    let written = AtomicU64::new(0);
    let store = store.as_ref();
    let (latencies, failures) = std::thread::scope(|scope| -> Result<(Vec<u64>, u64)> {
        let writer = scope.spawn(|| -> Result<()> {
            let mut i = 10_000_000u64;
            while !stop.load(Ordering::Relaxed) {
                store.append(drafts(i, 100)?)?;
                i += 100;
                written.fetch_add(100, Ordering::Relaxed);
            }
            Ok(())
        });
        let readers: Vec<_> = (0..r.readers)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<u64>> {
                    let mut rng = rand::thread_rng();
                    let mut lat = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let id = ids[rng.gen_range(0..ids.len())];
                        let t = Instant::now();
                        let about = store.entries_about(id)?;
                        let me = store.entity(id)?;
                        lat.push(t.elapsed().as_micros() as u64);
                        if about.is_empty() || me.is_none() {
                            bail!("person {id} has no records in the benchmark store");
                        }
                    }
                    Ok(lat)
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_secs(r.seconds));
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        let mut failures = 0;
        for h in readers {
            match h.join() {
                Ok(Ok(l)) => all.extend(l),
                _ => failures += 1,
            }
        }
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("the benchmark writer panicked"))??;
        Ok((all, failures))
    })?;
    if failures > 0 {
        bail!("{failures} benchmark reader(s) failed");
    }
    let mut lat = latencies;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    let secs = r.seconds as f64;
    println!(
        "read ({}): {} readers, one person's records ({} entries in the log, ~{} per person): {:.0} reads/s, p50 {:.2} ms, p99 {:.2} ms, while one writer appended {:.0} events/s (batch 100)",
        backend_name(database),
        r.readers,
        entries,
        1 + 2 * r.notes,
        lat.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        written.load(Ordering::Relaxed) as f64 / secs
    );
    Ok(())
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
        if progress && done.is_multiple_of(100_000) {
            eprintln!("  {done} entries written");
        }
    }
    Ok(spent)
}

/// A `vigil serve` child process on loopback over a fresh data directory.
struct ServerProcess {
    child: std::process::Child,
    base: String,
    addr: std::net::SocketAddr,
    _tmp: Option<tempfile::TempDir>,
}

impl ServerProcess {
    /// Initialises a data directory, lets `prepare` fill its store, then
    /// starts `vigil serve` on 127.0.0.1:0 with `extra` options.
    fn start(prepare: impl FnOnce(&dyn Store) -> Result<()>, extra: &[&str]) -> Result<Self> {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("data");
        let dir = DataDir::new(&data);
        dir.init(None)?;
        prepare(dir.open(None)?.as_ref())?;
        Self::start_on(&data, &std::env::current_exe()?, extra, Some(tmp))
    }

    /// Starts `binary serve` on 127.0.0.1:0 over the data directory `data`.
    fn start_on(
        data: &std::path::Path,
        binary: &std::path::Path,
        extra: &[&str],
        tmp: Option<tempfile::TempDir>,
    ) -> Result<Self> {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(binary)
            .arg("--data")
            .arg(data)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let out = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no output"))?;
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line)?;
        let Some(base) = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(str::to_owned)
        else {
            let _ = child.kill();
            bail!("the benchmark server did not start: {line}");
        };
        let addr = base.trim_start_matches("http://").parse()?;
        Ok(ServerProcess {
            child,
            base,
            addr,
            _tmp: tmp,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn memory(&self) -> (f64, f64) {
        vigil_web::bench::resident_mb(self.pid()).unwrap_or((0.0, 0.0))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

fn bench_signins(users: usize, rounds: usize) -> Result<()> {
    let mut names = Vec::new();
    let server = ServerProcess::start(
        |store| {
            names = vigil_web::bench::signin_accounts(store, users).map_err(anyhow::Error::msg)?;
            Ok(())
        },
        &["--trust-forwarded-for"],
    )?;
    let rt = client_runtime()?;
    rt.block_on(vigil_web::bench::time_healthz(&server.base, 1));
    let (_, idle) = server.memory();
    println!(
        "signins: {users} accounts signing in at once, {rounds} bursts, against `vigil serve` (pid {}) on {}",
        server.pid(),
        server.addr
    );
    println!("  resident before: {idle:.0} MB");
    println!(
        "  {:<6} {:>10} {:>6} {:>6} {:>8} {:>14} {:>12} {:>12}",
        "burst", "signed in", "503", "other", "seconds", "peak RSS MB", "RSS MB", "RSS 2 s on"
    );
    for round in 1..=rounds {
        let a = rt
            .block_on(vigil_web::bench::signins_at_once(&server.base, &names))
            .map_err(anyhow::Error::msg)?;
        let (peak, now) = server.memory();
        std::thread::sleep(std::time::Duration::from_secs(2));
        let (_, later) = server.memory();
        println!(
            "  {round:<6} {:>10} {:>6} {:>6} {:>8.2} {peak:>14.0} {now:>12.0} {later:>12.0}",
            a.signed_in, a.busy, a.other, a.seconds
        );
    }
    Ok(())
}

/// Referrals in the queue of `vigil bench memory`'s store.
const MEMORY_QUEUE: usize = 25;

struct MemoryRun<'a> {
    entries: u64,
    data: Option<&'a std::path::Path>,
    pages: &'a [String],
    server: Option<&'a std::path::Path>,
    children: usize,
    round: usize,
}

/// The people recorded last in the log (up to `n`), newest last: read from
/// the log's last `n` + 100 entries (benchmark people are one entry each).
fn last_people(store: &dyn Store, n: usize) -> Result<Vec<uuid::Uuid>> {
    let size = store.log_size()?;
    let from = size.saturating_sub(n as u64 + 100);
    let mut out = Vec::new();
    store.for_each_entry(from, &mut |e| {
        if e.kind == "person.recorded" {
            let header: serde_json::Value = serde_json::from_str(&e.header_json)
                .map_err(|err| StoreError::Corrupt(err.to_string()))?;
            let id = header["subjects"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["type"] == "person"))
                .and_then(|s| s["id"].as_str())
                .and_then(|s| uuid::Uuid::parse_str(s).ok());
            out.extend(id);
        }
        Ok(())
    })?;
    let skip = out.len().saturating_sub(n);
    Ok(out.split_off(skip))
}

fn bench_memory(m: &MemoryRun<'_>) -> Result<()> {
    let tmp;
    let data = match m.data {
        Some(d) => d.to_owned(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().join("data")
        }
    };
    let dir = DataDir::new(&data);
    let me = std::env::current_exe()?;
    if !data.exists() {
        dir.init(None)?;
    }
    let store = dir.open(None)?;
    let had = store.log_size()?;
    if had == 0 {
        vigil_web::bench::memory_accounts(store.as_ref()).map_err(anyhow::Error::msg)?;
    }
    drop(store);
    let t = Instant::now();
    if had == 0 {
        // The queue first, sent through a server as a person would.
        let server = ServerProcess::start_on(&data, &me, &[], None)?;
        client_runtime()?
            .block_on(vigil_web::bench::send_referrals(&server.base, MEMORY_QUEUE))
            .map_err(anyhow::Error::msg)?;
    }
    let store = dir.open(None)?;
    let people = m.entries.saturating_sub(store.log_size()?);
    if people > 0 {
        eprintln!(
            "building a log of {} entries in {}...",
            m.entries,
            data.display()
        );
        fill(store.as_ref(), people, 10_000, true)?;
    }
    drop(store);
    let built = t.elapsed().as_secs_f64();
    let size = dir.open(None)?.log_size()?;
    if built > 1.0 {
        eprintln!("  built in {built:.0} s");
    }

    let children = if m.children > 0 {
        last_people(dir.open(None)?.as_ref(), m.children)?
    } else {
        Vec::new()
    };

    let binary = m.server.map_or(me.clone(), std::path::Path::to_owned);
    let server = ServerProcess::start_on(&data, &binary, &[], None)?;
    let rt = client_runtime()?;
    rt.block_on(vigil_web::bench::time_healthz(&server.base, 1));
    let mem = |what: &str| -> Result<()> {
        let r = vigil_web::bench::resident(server.pid())
            .ok_or_else(|| anyhow::anyhow!("cannot read /proc/{}/status", server.pid()))?;
        println!(
            "  {what:<40} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            r.rss, r.peak, r.anon, r.file
        );
        Ok(())
    };
    println!(
        "memory: `{} serve` (pid {}) over a log of {size} entries (SQLite)",
        binary.display(),
        server.pid()
    );
    println!(
        "  {:<40} {:>9} {:>9} {:>9} {:>9}",
        "after", "RSS MB", "peak MB", "anon MB", "file MB"
    );
    mem("start")?;
    rt.block_on(vigil_web::bench::send_referrals(&server.base, 1))
        .map_err(anyhow::Error::msg)?;
    mem("one referral (the writer loads the log)")?;
    for p in rt
        .block_on(vigil_web::bench::load_pages(&server.base, m.pages))
        .map_err(anyhow::Error::msg)?
    {
        if p.status != 200 {
            bail!("GET {} answered {}", p.path, p.status);
        }
        let label = format!("GET {} ({:.0} ms)", p.path, p.ms);
        mem(&label)?;
    }
    let mut opened = 0;
    for round in children.chunks(m.round.max(1)) {
        let paths: Vec<String> = round.iter().map(|id| format!("/people/{id}")).collect();
        let loads = rt
            .block_on(vigil_web::bench::load_pages(&server.base, &paths))
            .map_err(anyhow::Error::msg)?;
        if let Some(p) = loads.iter().find(|p| p.status != 200) {
            bail!("GET {} answered {}", p.path, p.status);
        }
        opened += loads.len();
        let mean = loads.iter().map(|p| p.ms).sum::<f64>() / loads.len().max(1) as f64;
        mem(&format!(
            "{opened} distinct people's pages ({mean:.1} ms each)"
        ))?;
    }
    Ok(())
}

fn bench_slowloris(connections: usize, probes: usize) -> Result<()> {
    use std::io::BufRead as _;
    let server = ServerProcess::start(|_| Ok(()), &[])?;
    let rt = client_runtime()?;
    let before = rt.block_on(vigil_web::bench::time_healthz(&server.base, 3));
    println!(
        "slowloris: {connections} connections that never finish their headers, against `vigil serve` (pid {}) on {}",
        server.pid(),
        server.addr
    );
    println!(
        "  /healthz before: worst {:.1} ms",
        before
            .iter()
            .max()
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    );
    // One process cannot hold them all (its descriptor limit): helpers of
    // at most 10,000 each.
    let t = Instant::now();
    let mut holders = Vec::new();
    let mut left = connections;
    while left > 0 {
        let n = left.min(10_000);
        left -= n;
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["bench", "slowloris-hold", "--addr"])
            .arg(server.addr.to_string())
            .args(["--connections", &n.to_string(), "--seconds", "30"])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        holders.push(child);
    }
    let (mut opened, mut failed) = (0usize, 0usize);
    for h in &mut holders {
        let mut line = String::new();
        if let Some(out) = h.stdout.take() {
            std::io::BufReader::new(out).read_line(&mut line)?;
        }
        let nums: Vec<usize> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        opened += nums.first().copied().unwrap_or(0);
        failed += nums.get(1).copied().unwrap_or(0);
    }
    let open_secs = t.elapsed().as_secs_f64();
    let fds = vigil_web::bench::open_descriptors(server.pid()).unwrap_or(0);
    let mut during = rt.block_on(vigil_web::bench::time_healthz(&server.base, probes));
    let fds_after = vigil_web::bench::open_descriptors(server.pid()).unwrap_or(0);
    for mut h in holders {
        let _ = h.kill();
        let _ = h.wait();
    }
    during.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!("  opened {opened} ({failed} could not connect) in {open_secs:.1} s; the server then had {fds} descriptors open ({fds_after} after the probes)");
    println!(
        "  /healthz meanwhile ({probes} probes, each on a new connection): median {:.1} ms, worst {:.1} ms",
        ms(during[during.len() / 2]),
        ms(*during.last().unwrap_or(&std::time::Duration::ZERO))
    );
    let (peak, now) = server.memory();
    println!("  server resident: peak {peak:.0} MB, now {now:.0} MB");
    Ok(())
}

fn slowloris_hold(addr: std::net::SocketAddr, connections: usize, seconds: u64) -> Result<()> {
    if !addr.ip().is_loopback() {
        bail!("the slowloris benchmark only runs against a loopback address");
    }
    vigil_web::raise_fd_limit();
    let rt = client_runtime()?;
    rt.block_on(async {
        let (open, failed) = vigil_web::bench::half_open_connections(addr, connections, 500).await;
        println!("{} {failed}", open.len());
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        tokio::time::sleep(std::time::Duration::from_secs(seconds.min(120))).await;
        drop(open);
    });
    Ok(())
}

pub fn run(c: &BenchCommand) -> Result<()> {
    match c {
        BenchCommand::Alerts {
            children,
            years,
            seed,
        } => crate::bench_alerts::run(*children, *years, *seed)?,
        BenchCommand::Intake {
            people,
            new,
            seed,
            database,
        } => crate::bench_intake::run(database.as_deref(), *people, *new, *seed)?,
        BenchCommand::LinkEval {
            truth,
            pairs,
            clusters,
            threshold,
            json,
        } => {
            if let Some(t) = threshold {
                if !(0.0..=1.0).contains(t) {
                    bail!("--threshold must be a probability from 0 to 1");
                }
            }
            let s = crate::link_eval::evaluate(
                truth,
                pairs.as_deref(),
                clusters.as_deref(),
                *threshold,
            )?;
            if *json {
                println!("{}", serde_json::to_string(&s)?);
            } else {
                print!("{}", s.render());
            }
        }
        BenchCommand::Signins { users, rounds } => {
            if *users == 0 || *users > 10_000 || *rounds == 0 {
                bail!("--users must be from 1 to 10,000 and --rounds at least 1");
            }
            bench_signins(*users, *rounds)?
        }
        BenchCommand::Slowloris {
            connections,
            probes,
        } => {
            if *connections == 0 || *connections > 50_000 || *probes == 0 {
                bail!("--connections must be from 1 to 50,000 and --probes at least 1");
            }
            bench_slowloris(*connections, *probes)?
        }
        BenchCommand::Memory {
            entries,
            data,
            pages,
            server,
            children,
            round,
        } => bench_memory(&MemoryRun {
            entries: *entries,
            data: data.as_deref(),
            pages,
            server: server.as_deref(),
            children: *children,
            round: *round,
        })?,
        BenchCommand::SlowlorisHold {
            addr,
            connections,
            seconds,
        } => slowloris_hold(*addr, *connections, *seconds)?,
        BenchCommand::Web {
            users,
            seconds,
            warmup,
            think_ms,
            queue,
            chronology,
            people,
            database,
            phases,
            data,
        } => {
            if *users == 0 || *seconds < 2 {
                bail!("--users must be at least 1 and --seconds at least 2");
            }
            if let Some(p) = phases
                .iter()
                .find(|p| !vigil_web::bench::PHASES.contains(&p.as_str()))
            {
                bail!("--phases: '{p}' is not one of queue, send, child, case, search");
            }
            let mut runs = vec![database.clone()];
            if is_postgres(database.as_deref()) {
                runs.push(None);
            }
            for db in runs {
                let opts = vigil_web::bench::BenchOptions {
                    users: *users,
                    seconds: *seconds,
                    warmup: *warmup,
                    think_ms: *think_ms,
                    queue: *queue,
                    chronology: *chronology,
                    people: *people,
                    database: db,
                    phases: phases.clone(),
                    data: data.clone(),
                };
                let report = vigil_web::bench::run(&opts)
                    .map_err(|e| anyhow::anyhow!("the web benchmark failed: {e}"))?;
                println!("{report}");
            }
        }
        BenchCommand::Append {
            events,
            batch,
            database,
        } => {
            if *batch == 0 {
                bail!("--batch must be at least 1");
            }
            bench_append(database.as_deref(), *events, *batch)?;
            if is_postgres(database.as_deref()) {
                // The peer figure from the same run.
                bench_append(None, *events, *batch)?;
            }
        }
        BenchCommand::Read {
            people,
            notes,
            readers,
            seconds,
            database,
        } => {
            if *people < 2 || *readers == 0 || *seconds == 0 {
                bail!("--people must be at least 2, and --readers and --seconds at least 1");
            }
            let run = ReadRun {
                people: *people,
                notes: *notes,
                readers: *readers,
                seconds: *seconds,
            };
            bench_read(database.as_deref(), &run)?;
            if is_postgres(database.as_deref()) {
                bench_read(None, &run)?;
            }
        }
        BenchCommand::Verify { entries, database } => {
            let (_db, store) = temp_store(database.as_deref())?;
            eprintln!("building a log of {entries} entries...");
            fill(store.as_ref(), *entries, 10_000, true)?;
            let t = Instant::now();
            let mut bytes = 0usize;
            store.for_each_entry(0, &mut |e| {
                bytes += e.header_json.len();
                Ok(())
            })?;
            let scan = t.elapsed().as_secs_f64();
            eprintln!("  reading the entries alone: {scan:.2} s ({bytes} header bytes)");
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
