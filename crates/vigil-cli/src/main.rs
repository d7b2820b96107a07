//! The `vigil` command: the contract that scripts and tests rely on (see
//! DESIGN.md). Each subcommand parses its arguments, opens what it needs and
//! calls into the library crates; the work itself lives there.
//!
//! Errors are one sentence on stderr and a non-zero exit, never a panic trace:
//! `vigil verify` exits 1 when the store fails verification, 3 when the
//! ledger is intact but the projections were built by another version of
//! the projection rules (nothing is wrong that `vigil rebuild` does not put
//! right, so it must not raise a tampering alarm), and 2 on any other error,
//! so a script can tell "tampered" from "stale" from "could not check".

mod bench;
mod bench_alerts;
mod bench_intake;
mod datadir;
mod demo;
mod import;
mod link;
mod link_eval;
mod link_store;
mod migrate;
mod rebuild;
mod synth;
mod web;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use datadir::DataDir;
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_ledger::{LogKey, PublishedTreeHead, Receipt};
use vigil_store::verify::{verify_with_key, VerifyOptions, Witness};

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Vigil: a multi-agency safeguarding record with a verifiable log"
)]
struct Cli {
    /// Data directory (signing key, default database).
    #[arg(long, global = true, env = "VIGIL_DATA")]
    data: Option<PathBuf>,
    /// Database address: sqlite://PATH or postgres://... (default: the SQLite file in the data directory).
    #[arg(long, global = true, env = "VIGIL_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new data directory: signing key and database.
    Init,
    /// Append events from JSON Lines files (or - for standard input); prints one receipt per event.
    Import {
        #[arg(required = true)]
        files: Vec<String>,
        /// Events per transaction (group commit).
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Rebuild every projection table from the log (after an upgrade that changed the projection rules). Refused while a server runs.
    Rebuild,
    /// Check that nothing in the store was altered, removed or reordered. Exit 0 intact, 1 tampered, 3 projections stale (run `vigil rebuild`).
    Verify {
        /// Check the log and signatures only, not the projections.
        #[arg(long)]
        ledger_only: bool,
        /// Receipts submitters hold (files of one receipt, or one per line): each must be consistent with the log.
        #[arg(long, num_args = 1.., value_name = "FILE")]
        receipts: Vec<PathBuf>,
        /// Copies of a tree-head file kept elsewhere (DATA/tree-head.json at some moment): the log must hold each.
        #[arg(long = "tree-head", num_args = 1.., value_name = "FILE")]
        tree_heads: Vec<PathBuf>,
        /// The log's public key held outside the data directory (a copy of DATA/log-key.pub): verify against it, not the directory's key.
        #[arg(long, value_name = "FILE")]
        key: Option<String>,
    },
    /// Receipts: check one offline with the log's public key.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Show Vigil working end to end: a synthetic borough in a temporary data directory.
    Demo {
        /// Keep the data directory here instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Address the web interface serves on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Children in the synthetic borough.
        #[arg(long, default_value_t = 2_000)]
        children: u32,
        /// Years simulated.
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// Seed: the same seed gives the same borough.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop after generating and checking; do not serve (for scripts and tests).
        #[arg(long)]
        no_serve: bool,
    },
    /// Generate a synthetic borough (records of every agency, with errors) and record it; see docs/synth.md.
    #[command(args_conflicts_with_subcommands = true)]
    Synth {
        /// `records`: a CSV of person records with their truth, not a borough.
        #[command(subcommand)]
        what: Option<SynthCommand>,
        /// Children in the borough (default 2000).
        #[arg(long)]
        children: Option<u32>,
        /// Years simulated, ending on the end date (default 3).
        #[arg(long)]
        years: Option<u32>,
        /// Seed: the same seed and config give the same records and truth (default 1).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the ground truth (JSON) here.
        #[arg(long)]
        truth: Option<PathBuf>,
        /// A JSON file of generator settings (any left out keep their defaults; see docs/synth.md).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Last day simulated, YYYY-MM-DD (default 2025-12-31).
        #[arg(long)]
        end_date: Option<chrono::NaiveDate>,
        /// Events per transaction.
        #[arg(long, default_value_t = synth::DEFAULT_BATCH)]
        batch: usize,
    },
    /// Copy this data directory's log, verbatim and verified, into an empty database (SQLite to PostgreSQL).
    Migrate {
        /// The target database, e.g. postgres://vigil@db.example/vigil (must be empty).
        #[arg(long)]
        to: String,
        /// Entries per transaction on the target.
        #[arg(long, default_value_t = 5000)]
        batch: usize,
    },
    /// Serve the web interface (docs/access.md says who may do what).
    Serve {
        /// Address to listen on. Cookies are marked Secure unless it is a loopback address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Mark cookies Secure even on a loopback address (behind a TLS-terminating proxy on this machine).
        #[arg(long)]
        secure_cookies: bool,
        /// Take the client address for sign-in throttling from X-Forwarded-For (only behind a proxy that sets it).
        #[arg(long)]
        trust_forwarded_for: bool,
        /// The address people's browsers use, like https://vigil.example.org (needed behind a TLS proxy or on 0.0.0.0): forms sent from any other site are refused.
        #[arg(long)]
        public_url: Option<String>,
        /// How often to check for overdue work and run the alert rules, in seconds (default 60).
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
        check_every: Option<u64>,
    },
    /// Accounts: create one with a one-time password.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Find the records that are the same person (entity resolution; docs/linkage.md): of a CSV file (--csv), or, without --csv, of the store in --data, recording the scores in its log and keeping the model for `vigil serve`.
    Link {
        /// The CSV file of person records (a header row, then one record per row).
        #[arg(long, value_name = "FILE", requires = "id")]
        csv: Option<PathBuf>,
        /// The column holding each record's unique id.
        #[arg(long, value_name = "COLUMN", requires = "csv")]
        id: Option<String>,
        /// Which column holds which field, e.g. --map forename=given_name surname=family_name (several columns may feed one field; without --map, columns named like fields are used).
        #[arg(long, num_args = 1.., value_name = "COLUMN=FIELD")]
        map: Vec<String>,
        /// Pairs at or above this probability are written and linked.
        #[arg(long, default_value_t = 0.5)]
        threshold: f64,
        /// Write pairs.csv, clusters.csv and model.json into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print why two records score as they do (a table of each field's contribution).
        #[arg(long, value_name = "LEFT_ID,RIGHT_ID")]
        explain: Vec<String>,
        /// Print the time of each stage, the blocking and EM reports and the fitted m and u.
        #[arg(long)]
        verbose: bool,
    },
    /// Check text on standard input against the professional language guidance (DOMAIN.md section 9): one JSON object per finding (start, end as byte offsets, phrase, why, suggestion) on standard output, nothing when the text is fine; exit 0 either way. Needs no data directory.
    CheckLanguage {
        /// The child's age in years, when known (under 13, sexual wording is flagged without an adult in the sentence).
        #[arg(long, value_name = "YEARS", value_parser = clap::value_parser!(u32).range(0..=120))]
        age: Option<u32>,
    },
    /// Measure throughput on this machine (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum SynthCommand {
    /// Write a CSV of synthetic person records from several agencies, with errors, and a truth CSV saying which are the same person (docs/linkage-benchmark.md). Needs no data directory.
    Records {
        /// Records to write.
        #[arg(long)]
        records: u64,
        /// The same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The records CSV.
        #[arg(long)]
        out: PathBuf,
        /// The truth CSV: record_id,person_id,household_id.
        #[arg(long)]
        truth: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account and print its one-time password (the first administrator: `user add ada.admin --role partnership_administrator`).
    Add {
        username: String,
        /// referrer, practitioner, triage, analyst, supervisor, auditor, administrator (of one agency) or partnership_administrator (every agency's accounts; only created here).
        #[arg(long)]
        role: String,
        /// The agency's code (not given for a partnership administrator).
        #[arg(long)]
        agency: Option<String>,
        /// The person's name as colleagues know it.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Verify a receipt file (one receipt, or one per line as `vigil import` prints them).
    Verify {
        receipt: PathBuf,
        /// The log's public key: a file such as DATA/log-key.pub, or the key text itself.
        #[arg(long)]
        key: String,
        /// The canonical payload the receipt's event was recorded with (as downloaded): checked against the receipt's salt and digest.
        #[arg(long, value_name = "FILE")]
        payload: Option<PathBuf>,
    },
}

/// Failure of `vigil verify`, distinct from an error running it.
struct Tampered;

fn main() -> ExitCode {
    // Before anything is opened or created: see `datadir`.
    datadir::private_umask();
    // A bug must still end in one sentence, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("vigil: internal error ({msg}); please report it");
    }));
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<Tampered>().is_some() {
                return ExitCode::from(1);
            }
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
            }
            eprintln!("vigil: {msg}");
            ExitCode::from(2)
        }
    }
}

impl std::fmt::Debug for Tampered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("verification failed")
    }
}
impl std::fmt::Display for Tampered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("verification failed")
    }
}
impl std::error::Error for Tampered {}

/// Text longer than this is refused with a message rather than read into
/// memory without bound (a whole case file is far smaller).
const MAX_CHECK_BYTES: u64 = 16 * 1024 * 1024;

/// `vigil check-language`: the same checker the forms use, on standard input.
fn check_language(age: Option<u32>) -> Result<()> {
    use std::io::{Read, Write};
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_CHECK_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    if bytes.len() as u64 > MAX_CHECK_BYTES {
        bail!("the text on standard input is longer than 16 MiB; check it in parts");
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "standard input is not UTF-8 text (the first bad byte is at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let cx = vigil_rules::language::LanguageContext { age };
    let mut out = std::io::stdout().lock();
    for f in vigil_rules::language::check(&text, &cx) {
        let line = serde_json::json!({
            "start": f.start,
            "end": f.end,
            "phrase": f.phrase,
            "why": f.why,
            "suggestion": f.suggestion,
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn data_dir(cli: &Cli) -> Result<DataDir> {
    match &cli.data {
        Some(p) => Ok(DataDir::new(p)),
        None => bail!("no data directory given: use --data DIR or set VIGIL_DATA"),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::CheckLanguage { age } => check_language(*age)?,
        Command::Init => {
            let dir = data_dir(&cli)?;
            let (key, url) = dir.init(cli.database.as_deref())?;
            println!("Created Vigil data directory {}", dir.path.display());
            println!("  database:   {}", describe_url(&url));
            println!(
                "  public key: {} (give this to anyone who checks receipts)",
                dir.public_key_path().display()
            );
            println!("  log id:     {}", key.log_id());
            println!(
                "  next:       create the first administrator with `vigil --data {} user add ada.admin --role partnership_administrator`",
                dir.path.display()
            );
        }
        Command::Import { files, batch } => {
            if *batch == 0 || *batch > 100_000 {
                bail!("--batch must be between 1 and 100000");
            }
            let dir = data_dir(&cli)?;
            let store = dir.open(cli.database.as_deref())?;
            let s = import::run(store.as_ref(), files, *batch)?;
            eprintln!(
                "vigil: {} events recorded, {} refused",
                s.appended, s.rejected
            );
            if s.rejected > 0 {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Verify {
            ledger_only,
            receipts,
            tree_heads,
            key,
        } => {
            let dir = data_dir(&cli)?;
            let store = match dir.open(cli.database.as_deref()) {
                Ok(s) => s,
                Err(e) => match e.downcast_ref::<vigil_store::StoreError>() {
                    // The database is another log's: that is what verify finds.
                    Some(vigil_store::StoreError::OtherKey(m)) => {
                        eprintln!("vigil: verification FAILED: {m}");
                        return Err(Tampered.into());
                    }
                    _ => return Err(e),
                },
            };
            let key = match key {
                Some(k) => datadir::read_public_key(k)?,
                None => store.log_key(),
            };
            let head_file = dir.tree_head_file();
            let mut witnesses = Vec::new();
            match head_file.read(&key) {
                Ok(Some(h)) => witnesses.push(Witness::tree_head(
                    head_file.path().display().to_string(),
                    h,
                )),
                Ok(None) => {}
                Err(vigil_store::StoreError::Corrupt(m)) => {
                    eprintln!("vigil: verification FAILED: {m}");
                    return Err(Tampered.into());
                }
                Err(e) => return Err(e.into()),
            }
            let file_head = witnesses.first().map(|w| w.head.clone());
            for copy in tree_heads {
                let copy = vigil_store::head_file::TreeHeadFile::at(copy);
                match copy.read(&key)? {
                    Some(h) => {
                        witnesses.push(Witness::tree_head(copy.path().display().to_string(), h))
                    }
                    None => bail!("there is no tree-head file {}", copy.path().display()),
                }
            }
            let mut held = 0;
            for file in receipts {
                for (label, r) in read_receipts(file, &key)? {
                    witnesses.push(Witness::receipt(label, &r).map_err(anyhow::Error::msg)?);
                    held += 1;
                }
            }
            let report = verify_with_key(
                store.as_ref(),
                &key,
                VerifyOptions {
                    projections: !ledger_only,
                },
                &witnesses,
            )?;
            if let Some(p) = report.problem {
                eprintln!("vigil: verification FAILED: {p}");
                return Err(Tampered.into());
            }
            if let Some(stale) = &report.stale {
                println!(
                    "ledger intact: {} entries, {} signed tree heads; root {}",
                    report.entries,
                    report.tree_heads,
                    hex_short(&report.root)
                );
                eprintln!("vigil: projections STALE: {stale}");
                return Ok(ExitCode::from(3));
            }
            // One line that starts with the counts and ends with the root
            // (scripts read both ends); what was checked against in between.
            let mut against = String::new();
            match &file_head {
                Some(h) => against.push_str(&format!(
                    ", tree-head file {} ({} entries, signed {}) held",
                    head_file.path().display(),
                    h.head.size,
                    PublishedTreeHead::new(&key, h).timestamp
                )),
                None => eprintln!(
                    "vigil: warning: there is no tree-head file {}, so a log cut back in the database could not be checked against it (it is written at the next append)",
                    head_file.path().display()
                ),
            }
            if held > 0 {
                against.push_str(&format!(", {held} receipts consistent"));
            }
            if !tree_heads.is_empty() {
                against.push_str(&format!(", {} tree-head copies held", tree_heads.len()));
            }
            println!(
                "intact: {} entries, {} signed tree heads, {} projection rows{against}; root {}",
                report.entries,
                report.tree_heads,
                if *ledger_only {
                    "unchecked".to_string()
                } else {
                    report.entities.to_string()
                },
                hex_short(&report.root)
            );
        }
        Command::Receipt {
            command:
                ReceiptCommand::Verify {
                    receipt,
                    key,
                    payload,
                },
        } => {
            let key = datadir::read_public_key(key)?;
            let all = read_receipts(receipt, &key)?;
            if let Some(p) = payload {
                let [(_, r)] = all.as_slice() else {
                    bail!(
                        "{} holds {} receipts; --payload checks one receipt, so give a file with only that receipt",
                        receipt.display(),
                        all.len()
                    );
                };
                let bytes =
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
                if let Err(e) = payload_matches(r, &bytes) {
                    eprintln!(
                        "vigil: {} is NOT the payload of event {}: {e}",
                        p.display(),
                        r.event_id
                    );
                    return Err(Tampered.into());
                }
                println!(
                    "valid: the receipt for event {} verifies against log {}, and {} is the payload that was recorded",
                    r.event_id,
                    key.log_id(),
                    p.display()
                );
            } else {
                println!(
                    "valid: {} receipt(s) verified against log {}",
                    all.len(),
                    key.log_id()
                );
            }
        }
        Command::Demo {
            keep,
            addr,
            children,
            years,
            seed,
            no_serve,
        } => demo::run(&demo::DemoArgs {
            keep: keep.as_deref(),
            addr,
            children: *children,
            years: *years,
            seed: *seed,
            serve: !*no_serve,
        })?,
        Command::Synth {
            what:
                Some(SynthCommand::Records {
                    records,
                    seed,
                    out,
                    truth,
                }),
            ..
        } => {
            let r = link_eval::write_records(*records, *seed, out, truth)?;
            println!(
                "{} records of {} people in {} households ({} pairs of twins) written to {} and {} in {:.1} s",
                r.records,
                r.people,
                r.households,
                r.twin_pairs,
                out.display(),
                truth.display(),
                r.seconds
            );
        }
        Command::Synth {
            what: None,
            children,
            years,
            seed,
            truth,
            config,
            end_date,
            batch,
        } => {
            if *batch == 0 || *batch > 100_000 {
                bail!("--batch must be between 1 and 100000");
            }
            let cfg = synth::config(&synth::SynthArgs {
                children: *children,
                years: *years,
                seed: *seed,
                end_date: *end_date,
                config: config.as_deref(),
            })?;
            let dir = data_dir(&cli)?;
            let store = dir.open(cli.database.as_deref())?;
            let report = synth::run(store.as_ref(), &cfg, truth.as_deref(), *batch)?;
            print!("{}", synth::summary(&report));
        }
        Command::Rebuild => rebuild::run(&data_dir(&cli)?, cli.database.as_deref())?,
        Command::Migrate { to, batch } => {
            migrate::run(&data_dir(&cli)?, cli.database.as_deref(), to, *batch)?
        }
        Command::Serve {
            addr,
            secure_cookies,
            trust_forwarded_for,
            public_url,
            check_every,
        } => web::serve(
            &data_dir(&cli)?,
            cli.database.as_deref(),
            &web::ServeArgs {
                addr,
                secure_cookies: *secure_cookies,
                trust_forwarded_for: *trust_forwarded_for,
                public_url: public_url.as_deref(),
                alert_rules: Some(data_dir(&cli)?.path.join(vigil_web::ALERT_RULES_FILE)),
                check_every: *check_every,
            },
        )?,
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    agency,
                    name,
                },
        } => web::add_user(
            &data_dir(&cli)?,
            cli.database.as_deref(),
            &web::AddUserArgs {
                username,
                role,
                agency: agency.as_deref(),
                name: name.as_deref(),
            },
        )?,
        Command::Bench { command } => bench::run(command)?,
        Command::Link {
            csv: None,
            map,
            out,
            explain,
            ..
        } => {
            if !map.is_empty() || out.is_some() || !explain.is_empty() {
                bail!("--map, --out and --explain are for a CSV file (--csv); without --csv, `vigil --data DIR link` links the store's own records");
            }
            let dir = data_dir(&cli)?;
            link_store::run(&dir, cli.database.as_deref())?;
        }
        Command::Link {
            csv: Some(csv),
            id,
            map,
            threshold,
            out,
            explain,
            verbose,
        } => link::run(&link::LinkArgs {
            csv,
            id: id.as_deref().unwrap_or_default(),
            map,
            threshold: *threshold,
            out: out.as_deref(),
            explain,
            verbose: *verbose,
        })?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the receipts in `file` (one, or one per line) and verifies each
/// with `key`; a receipt that does not verify ends the command with exit 1.
/// Each comes with a label naming it for reports.
fn read_receipts(file: &std::path::Path, key: &LogKey) -> Result<Vec<(String, Receipt)>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let docs = receipt_documents(&text);
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let label = if docs.len() == 1 {
            file.display().to_string()
        } else {
            format!("receipt {} in {}", i + 1, file.display())
        };
        let r: Receipt =
            serde_json::from_str(doc).with_context(|| format!("{label} is not a Vigil receipt"))?;
        if let Err(e) = r
            .verify(key)
            .map_err(|e| e.to_string())
            .and_then(|()| entry_matches(&r))
        {
            eprintln!("vigil: {label} (event {}) is NOT valid: {e}", r.event_id);
            return Err(Tampered.into());
        }
        out.push((label, r));
    }
    if out.is_empty() {
        bail!("{} holds no receipt", file.display());
    }
    Ok(out)
}

/// The payload file is the canonical payload the receipt's entry commits
/// to, with the receipt's salt.
fn payload_matches(r: &Receipt, payload: &[u8]) -> Result<(), String> {
    let header: vigil_model::EventHeader = serde_json::from_str(&r.entry)
        .map_err(|_| "the receipt's entry is not a Vigil event header".to_string())?;
    let salt = r.salt_bytes().ok_or_else(|| {
        "the receipt carries no salt (it was issued before receipts did), so the payload cannot be checked with it".to_string()
    })?;
    vigil_model::event::check_payload(&header, &salt, payload).map_err(|e| e.to_string())
}

/// Vigil's own check on top of the generic receipt check: the entry is an
/// event header naming the receipt's position and event id.
fn entry_matches(r: &Receipt) -> Result<(), String> {
    let header: vigil_model::EventHeader = serde_json::from_str(&r.entry)
        .map_err(|_| "its entry is not a Vigil event header".to_string())?;
    if header.index != r.leaf_index {
        return Err(format!(
            "its entry says it is entry {}, not {}",
            header.index, r.leaf_index
        ));
    }
    if header.id.to_string() != r.event_id {
        return Err(format!(
            "its entry is event {}, not {}",
            header.id, r.event_id
        ));
    }
    Ok(())
}

/// A receipt file is either one JSON document (possibly pretty-printed) or
/// JSON Lines, one receipt per line.
fn receipt_documents(text: &str) -> Vec<&str> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return vec![];
    }
    if serde_json::from_str::<serde_json::Value>(trimmed).is_ok() {
        return vec![trimmed];
    }
    trimmed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

fn describe_url(url: &vigil_store::DatabaseUrl) -> String {
    match url {
        vigil_store::DatabaseUrl::Sqlite(p) => format!("SQLite {}", p.display()),
        vigil_store::DatabaseUrl::Postgres(_) => "PostgreSQL".into(),
    }
}

fn hex_short(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
