//! `vigil --data DIR migrate --to postgres://...`: moves a data directory's
//! log from its SQLite database to PostgreSQL when a borough joins a
//! partnership deployment.
//!
//! The log goes across verbatim (headers, payloads, salts, leaf hashes and
//! the signed tree heads, so every receipt already handed out still proves
//! its event), and the target's projections are rebuilt by the model's rules
//! as it goes ([`vigil_store::copy`]). To be sure nothing was lost or
//! invented on the way, both sides are fully verified (ledger, signatures
//! and projections) before and after, and must end with the same size, root
//! and row counts. A target that already holds anything is refused. The
//! source is left as it was; stop the servers that write to it first.

use crate::datadir::DataDir;
use anyhow::{bail, Context, Result};
use vigil_store::copy::{copy_log, ensure_empty};
use vigil_store::verify::{verify, VerifyOptions, VerifyReport};
use vigil_store::{DatabaseUrl, Store};

fn verified(store: &dyn Store, which: &str, when: &str) -> Result<VerifyReport> {
    let r = verify(store, VerifyOptions::default())
        .with_context(|| format!("cannot verify the {which} {when} migrating"))?;
    if let Some(p) = &r.problem {
        bail!("the {which} log fails verification {when} migrating ({p}); nothing was changed on the source");
    }
    Ok(r)
}

pub fn run(dir: &DataDir, source: Option<&str>, to: &str, chunk: usize) -> Result<()> {
    if chunk == 0 {
        bail!("--batch must be at least 1");
    }
    let from_url = dir.database_url(source)?;
    let to_url = DatabaseUrl::parse(to)?;
    if from_url == to_url {
        bail!("the source and the target are the same database");
    }
    let signer = dir.signer()?;
    let source = dir.open(source)?;
    // The target first: an unreachable or non-empty one is refused before any work.
    let target = vigil_store::open(&to_url, signer)?;
    ensure_empty(target.as_ref())?;
    let before = verified(source.as_ref(), "source", "before")?;
    // Progress only for logs big enough to take a while.
    let step = (before.entries / 10).max(100_000);
    let mut next_note = step;
    let copied = copy_log(source.as_ref(), target.as_ref(), chunk, &mut |n| {
        if n >= next_note {
            eprintln!(
                "vigil: {n} of {} entries copied and projected",
                before.entries
            );
            next_note = n + step;
        }
    })?;
    let after_target = verified(target.as_ref(), "target", "after")?;
    let after_source = verified(source.as_ref(), "source", "after")?;
    if after_source.entries != before.entries || after_source.root != before.root {
        bail!(
            "the source log changed while it was being copied ({} entries, now {}); stop every writer and migrate into a new, empty target",
            before.entries,
            after_source.entries
        );
    }
    let same = (
        after_target.entries,
        after_target.tree_heads,
        after_target.entities,
        after_target.root,
    ) == (
        before.entries,
        before.tree_heads,
        before.entities,
        before.root,
    );
    if !same || copied.entries != before.entries {
        bail!(
            "the copy does not match the source ({} entries, {} tree heads, {} projection rows against {}, {}, {})",
            after_target.entries,
            after_target.tree_heads,
            after_target.entities,
            before.entries,
            before.tree_heads,
            before.entities
        );
    }
    println!(
        "migrated: {} entries, {} signed tree heads, {} projection rows from {} to {}; both verify with root {}",
        after_target.entries,
        after_target.tree_heads,
        after_target.entities,
        from_url.redacted(),
        to_url.redacted(),
        after_target.root.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    println!(
        "  from now on run Vigil with --database (or VIGIL_DATABASE_URL) set to the new address"
    );
    Ok(())
}
