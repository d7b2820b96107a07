//! `vigil demo`: the ledger working end to end, in a temporary data directory.
//!
//! Creates a data directory, imports the example events through the normal
//! import path (every one gets a receipt), verifies the whole store, checks a
//! receipt offline with only the public key, and shows that a single altered
//! byte is caught.

use crate::datadir::DataDir;
use crate::import;
use anyhow::{bail, Result};
use std::path::Path;
use vigil_store::verify::{verify, VerifyOptions};

/// The example events shipped with the source (examples/events.jsonl).
pub const EXAMPLE_EVENTS: &str = include_str!("../../../examples/events.jsonl");

pub fn run(keep: Option<&Path>) -> Result<()> {
    let tmp;
    let path = match keep {
        Some(p) => p.to_owned(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().join("vigil-demo")
        }
    };
    let dir = DataDir::new(&path);
    let (key, _) = dir.init(None)?;
    println!("Vigil demo: data directory {}", path.display());
    let store = dir.open(None)?;
    let mut receipts = Vec::new();
    let mut errors = Vec::new();
    let summary = import::import_reader(
        store.as_ref(),
        &mut EXAMPLE_EVENTS.as_bytes(),
        100,
        &mut |a| {
            receipts.push(a.receipt.clone());
            Ok(())
        },
        &mut |line, msg| errors.push(format!("line {line}: {msg}")),
    )?;
    if !errors.is_empty() {
        bail!("the example events did not import: {}", errors.join("; "));
    }
    println!("  imported {} example events, each with a signed receipt", summary.appended);
    let report = verify(store.as_ref(), VerifyOptions::default())?;
    match &report.problem {
        None => println!(
            "  verified: {} entries, {} signed tree heads, {} projection rows rebuilt and matched",
            report.entries, report.tree_heads, report.entities
        ),
        Some(p) => bail!("the demo store failed verification: {p}"),
    }
    if let Some(r) = receipts.last() {
        r.verify(&key)?;
        println!("  receipt for entry {} checked offline with the public key only: valid", r.leaf_index);
        let mut forged = r.clone();
        forged.entry = forged.entry.replacen("\"index\"", "\"index\" ", 1);
        println!(
            "  the same receipt with one character changed: {}",
            match forged.verify(&key) {
                Ok(()) => "accepted (this is a bug)".to_string(),
                Err(e) => format!("rejected ({e})"),
            }
        );
    }
    println!("Try it yourself:");
    println!("  vigil --data /tmp/v init && vigil --data /tmp/v import examples/events.jsonl > receipts.jsonl");
    println!("  vigil receipt verify receipts.jsonl --key /tmp/v/log-key.pub && vigil --data /tmp/v verify");
    Ok(())
}
