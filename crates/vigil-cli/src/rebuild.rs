//! `vigil rebuild`: rebuilds every projection table from the log (see
//! `vigil_store::rebuild`), with a progress bar on a terminal and a plain
//! line per tenth of the log otherwise. Refused while a server holds the
//! serving lock.

use crate::datadir::DataDir;
use anyhow::Result;
use std::io::IsTerminal;
use std::time::Instant;

pub fn run(dir: &DataDir, database: Option<&str>) -> Result<()> {
    let store = dir.open(database)?;
    let bar = (std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "  rebuilding {bar:40} {human_pos}/{human_len} entries, {eta} left",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let started = Instant::now();
    let mut next_line = 0u64;
    let report = store.rebuild_projections(&mut |done, total| match &bar {
        Some(b) => {
            b.set_length(total);
            b.set_position(done);
        }
        None => {
            if done >= next_line || done == total {
                eprintln!("vigil: rebuilding the projections: {done} of {total} entries");
                next_line = done + (total / 10).max(1);
            }
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report?;
    let was = match report.previous_version {
        Some(v) => format!("version {v}"),
        None => "no recorded version".into(),
    };
    println!(
        "rebuilt: {} entries replayed in {:.1} s; projections were {was}, now version {}",
        report.entries,
        started.elapsed().as_secs_f64(),
        report.version
    );
    Ok(())
}
