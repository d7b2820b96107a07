//! `vigil import`: append events from JSON Lines files, one receipt per event.
//!
//! Each line is an `EventInput` (see examples/events.jsonl). Lines are
//! validated one by one; good ones are appended in batches (group commit) and
//! a receipt line is printed for each only after its batch has committed, so a
//! printed receipt always means the event is durable. A bad line is reported
//! on stderr with its line number and skipped; the rest still go in, and the
//! command exits non-zero at the end. Lines that carry an `id` already in the
//! log are refused as duplicates, so a file can be replayed after a crash.

use anyhow::{Context, Result};
use chrono::Utc;
use std::io::{BufRead, Write};
use vigil_model::{EventDraft, EventInput};
use vigil_store::{Appended, Store};

/// Largest line accepted, in bytes: a line bigger than any valid event is
/// refused before it is parsed.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default, Clone, Copy)]
pub struct ImportSummary {
    pub appended: u64,
    pub rejected: u64,
}

pub use vigil_app::events::salt as new_salt;

/// Validates one input, giving it an id, receipt time and salt (the
/// application layer's one constructor of event drafts).
pub fn prepare(input: EventInput) -> Result<EventDraft, String> {
    vigil_app::events::draft(input, Utc::now())
}

/// Parses one line of JSON Lines into an input.
pub fn parse_line(line: &str) -> Result<EventInput, String> {
    serde_json::from_str::<EventInput>(line).map_err(|e| {
        let msg = e.to_string();
        // serde's messages end with " at line 1 column N"; the line number we
        // report is the file's, so drop serde's.
        match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_owned(),
            None => msg,
        }
    })
}

/// Appends drafts collected so far and reports each outcome.
fn flush(
    store: &dyn Store,
    batch: &mut Vec<(u64, EventDraft)>,
    summary: &mut ImportSummary,
    on_ok: &mut dyn FnMut(&Appended) -> Result<()>,
    on_err: &mut dyn FnMut(u64, &str),
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let (lines, drafts): (Vec<u64>, Vec<EventDraft>) = std::mem::take(batch).into_iter().unzip();
    let outcome = store.append(drafts)?;
    for (line, r) in lines.into_iter().zip(outcome.results) {
        match r {
            Ok(a) => {
                summary.appended += 1;
                on_ok(&a)?;
            }
            Err(msg) => {
                summary.rejected += 1;
                on_err(line, &msg);
            }
        }
    }
    Ok(())
}

/// Imports JSON Lines from `reader`, calling `on_ok` for each committed event
/// and `on_err(line, message)` for each refused line.
pub fn import_reader(
    store: &dyn Store,
    reader: &mut dyn BufRead,
    batch_size: usize,
    on_ok: &mut dyn FnMut(&Appended) -> Result<()>,
    on_err: &mut dyn FnMut(u64, &str),
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let mut batch: Vec<(u64, EventDraft)> = Vec::with_capacity(batch_size);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = std::io::Read::take(&mut *reader, MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .context("cannot read the input")?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.len() > MAX_LINE_BYTES && !buf.ends_with(b"\n") {
            summary.rejected += 1;
            on_err(
                line_no,
                &format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            );
            // Skip the rest of the over-long line.
            loop {
                buf.clear();
                let m = std::io::Read::take(&mut *reader, MAX_LINE_BYTES as u64)
                    .read_until(b'\n', &mut buf)?;
                if m == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            continue;
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim(),
            Err(_) => {
                summary.rejected += 1;
                on_err(line_no, "the line is not valid UTF-8 text");
                continue;
            }
        };
        if text.is_empty() || text.starts_with("//") {
            continue;
        }
        match parse_line(text).and_then(prepare) {
            Ok(d) => batch.push((line_no, d)),
            Err(msg) => {
                summary.rejected += 1;
                on_err(line_no, &msg);
            }
        }
        if batch.len() >= batch_size {
            flush(store, &mut batch, &mut summary, on_ok, on_err)?;
        }
    }
    flush(store, &mut batch, &mut summary, on_ok, on_err)?;
    Ok(summary)
}

/// `vigil import FILE...`: receipts to stdout, one JSON object per line.
pub fn run(store: &dyn Store, files: &[String], batch_size: usize) -> Result<ImportSummary> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut total = ImportSummary::default();
    for file in files {
        let mut reader: Box<dyn BufRead> = if file == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(file).with_context(|| format!("cannot open {file}"))?,
            ))
        };
        let s = import_reader(
            store,
            &mut *reader,
            batch_size,
            &mut |a| {
                serde_json::to_writer(&mut out, &a.receipt)?;
                out.write_all(b"\n")?;
                // on_ok runs only after the batch committed; flush so that a
                // receipt a reader has seen is one that is durable.
                out.flush()?;
                Ok(())
            },
            &mut |line, msg| eprintln!("{file}:{line}: {msg}"),
        )?;
        out.flush()?;
        total.appended += s.appended;
        total.rejected += s.rejected;
    }
    Ok(total)
}
