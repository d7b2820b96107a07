//! `vigil demo`: a synthetic borough in a temporary data directory, recorded
//! through the normal write path, then checked.
//!
//! Creates a data directory, generates a borough into it exactly as
//! `vigil synth` does (every record in the ledger with a signed receipt),
//! prints what was generated, verifies the whole store, and checks one
//! receipt offline with only the public key (and that the same receipt with
//! one character changed is rejected), creates a demo account for each role
//! at each agency (one shared, freshly generated password, printed), and
//! serves the web interface until Ctrl-C (`--no-serve` stops after the
//! checks, for scripts and tests).

use crate::datadir::DataDir;
use crate::synth;
use anyhow::{bail, Result};
use std::path::Path;
use vigil_store::verify::{verify, VerifyOptions};

/// What `vigil demo` was asked for.
pub struct DemoArgs<'a> {
    pub keep: Option<&'a Path>,
    pub addr: &'a str,
    pub children: u32,
    pub years: u32,
    pub seed: u64,
    pub serve: bool,
}

pub fn run(a: &DemoArgs<'_>) -> Result<()> {
    let cfg = synth::config(&synth::SynthArgs {
        children: Some(a.children),
        years: Some(a.years),
        seed: Some(a.seed),
        // A living borough: its history runs up to yesterday, so the
        // referrals, missing episodes and deadlines of the last days are
        // open and some are overdue today.
        end_date: Some(chrono::Utc::now().date_naive() - chrono::Days::new(1)),
        config: None,
    })?;
    let tmp;
    let path = match a.keep {
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
    let truth_path = path.join("truth.json");
    let report = synth::run(
        store.as_ref(),
        &cfg,
        Some(&truth_path),
        synth::DEFAULT_BATCH,
    )?;
    println!();
    print!("{}", synth::summary(&report));
    println!();
    // The matching model, fitted on the borough's own records: its scores
    // go in the log (and are verified below) and intake uses it.
    let store: std::sync::Arc<dyn vigil_store::Store> = std::sync::Arc::from(store);
    let scorer = match crate::link_store::fit(&dir, std::sync::Arc::clone(&store))? {
        Ok((_, scorer)) => Some(scorer),
        Err(refused) => {
            println!("Matching model: {refused}");
            None
        }
    };
    println!();
    let password = demo_password();
    let accounts = vigil_web::create_demo_accounts(store.as_ref(), &password)?;
    println!(
        "{} demo accounts, one for each role at each agency, all with the password {password}:",
        accounts.len()
    );
    for acc in &accounts {
        println!(
            "  {:<28} {:<14} {}",
            acc.username,
            acc.role.label(),
            acc.agency_name
        );
    }
    println!();
    live_casework(store.as_ref(), &accounts, a.seed)?;
    println!();
    let started = std::time::Instant::now();
    let v = verify(store.as_ref(), VerifyOptions::default())?;
    match &v.problem {
        None => println!(
            "Verified: {} entries, {} signed tree heads, {} projection rows rebuilt from the log and matched ({:.2} s)",
            v.entries,
            v.tree_heads,
            v.entities,
            started.elapsed().as_secs_f64()
        ),
        Some(p) => bail!("the demo store failed verification: {p}"),
    }
    let Some(r) = &report.last_receipt else {
        bail!("the demo recorded nothing, so there is no receipt to check");
    };
    r.verify(&key)?;
    println!(
        "Receipt for entry {} (event {}) checked offline with the public key only: valid",
        r.leaf_index, r.event_id
    );
    let mut forged = r.clone();
    forged.entry = forged.entry.replacen("\"index\"", "\"index\" ", 1);
    println!(
        "The same receipt with one character changed: {}",
        match forged.verify(&key) {
            Ok(()) => "accepted (this is a bug)".to_string(),
            Err(e) => format!("rejected ({e})"),
        }
    );
    println!();
    match a.keep {
        Some(p) => {
            println!("The data directory is kept at {}; try:", p.display());
            println!("  vigil --data {} verify", p.display());
            println!(
                "  less {}    # the truth behind every record",
                truth_path.display()
            );
        }
        None => {
            println!(
                "The temporary data directory is removed when the demo ends; keep one with --keep DIR, or try:"
            );
            println!(
                "  vigil --data /tmp/v init && vigil --data /tmp/v synth --children {} --years {} --seed {} --truth truth.json",
                a.children, a.years, a.seed
            );
            println!("  vigil --data /tmp/v verify");
        }
    }
    if a.serve {
        println!();
        println!(
            "What to try: sign in as a referrer and raise a concern; sign in as a triage user"
        );
        println!(
            "and decide it; as a supervisor see what is overdue; as an auditor see who read what."
        );
        crate::web::serve_store(
            store,
            &crate::web::ServeArgs {
                addr: a.addr,
                secure_cookies: false,
                trust_forwarded_for: false,
                public_url: None,
                alert_rules: None,
                check_every: None,
            },
            scorer,
            // The demo's data directory is its own and temporary: nothing
            // else fits a model there.
            None,
            // The synthetic out-of-hours number (the demo holds no real service).
            vigil_web::OutOfHours::default(),
        )?;
    } else {
        println!(
            "Not serving (--no-serve); the web interface would be at http://{}",
            a.addr
        );
    }
    Ok(())
}

/// The open cases' live work (allocations, risk, actions: some late), so
/// the demo's practitioners have work and its supervisors see what is
/// overdue. Eight cases of each agency go to its demo practitioner.
fn live_casework(
    store: &dyn vigil_store::Store,
    accounts: &[vigil_web::DemoAccount],
    seed: u64,
) -> Result<()> {
    use vigil_model::state::{CaseState, CaseStatus};
    let open: Vec<vigil_synth::casework::OpenCase> = store
        .entities_of_kind(vigil_model::EntityKind::Case)?
        .iter()
        .filter_map(|r| {
            let c = r.as_kind::<CaseState>()?;
            let child_id = c.child_id?;
            (c.status == CaseStatus::Open).then(|| vigil_synth::casework::OpenCase {
                case_id: r.id,
                child_id,
                level: c.level,
                lead: c.lead().clone(),
            })
        })
        .collect();
    let workers: Vec<(String, vigil_model::codes::AgencyId)> = accounts
        .iter()
        .filter(|a| a.role == vigil_model::codes::Role::Practitioner)
        .filter_map(|a| {
            Some((
                a.username.clone(),
                vigil_model::codes::AgencyId::new(&a.agency_code).ok()?,
            ))
        })
        .collect();
    let now = chrono::Utc::now();
    let events = vigil_synth::casework::live_casework(&open, &workers, 8, now, seed);
    let mut drafts = Vec::with_capacity(events.len());
    for e in events {
        drafts.push(e.prepare(now, rand::random())?);
    }
    let n = drafts.len();
    for r in store.append(drafts)?.results {
        if let Err(e) = r {
            bail!("the demo's case work was refused: {e}");
        }
    }
    println!(
        "Live case work: {} open cases allocated, with their risk and {n} events in all (actions set, some done, some late)",
        open.len()
    );
    Ok(())
}

/// A fresh password for this demo's accounts: 16 characters from an
/// unambiguous alphabet, so nobody reuses a password printed in a document.
fn demo_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}
