//! `vigil --data DIR link` (without `--csv`): fit the matching model on the
//! store's own person records, record its scores in the log, and keep the
//! model in `DATA/link-model.json`, which `vigil serve` loads so intake
//! scores new referrals with it. The work is `vigil_app::App::fit_matching_model`.

use crate::datadir::DataDir;
use anyhow::{anyhow, bail, Context, Result};
use std::sync::Arc;
use vigil_app::fit::FitOutcome;
use vigil_app::score::Scorer;

/// The model file's name in the data directory.
pub const MODEL_FILE: &str = "link-model.json";

/// The fitted model kept in the data directory, if there is one. A file
/// that is there but is not a model is an error, not silently ignored:
/// matching would otherwise fall back to the interim model unnoticed.
pub fn load_model(dir: &DataDir) -> Result<Option<Arc<Scorer>>> {
    let path = dir.path.join(MODEL_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let json = std::fs::read_to_string(&path)
        .map_err(|e| anyhow!("{} could not be read: {e}", path.display()))?;
    let scorer = Scorer::fitted(&json)
        .map_err(|e| anyhow!("{} is not a model `vigil link` wrote: {e}", path.display()))?;
    println!(
        "Matching with the fitted model in {} (version {})",
        path.display(),
        scorer.name_and_version().1
    );
    Ok(Some(Arc::new(scorer)))
}

/// Watches the model file for a newer model while `vigil serve` runs, so a
/// `vigil link` beside a running server is used without a restart. The
/// file is replaced whole (written beside it, then renamed), so a change of
/// its modification time or size is a new model; one that does not read
/// as a model is reported and the one in use kept.
pub fn watch_model(dir: &DataDir) -> vigil_web::ModelWatch {
    let path = dir.path.join(MODEL_FILE);
    let stamp = |p: &std::path::Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let seen = std::sync::Mutex::new(stamp(&path));
    vigil_web::ModelWatch(Arc::new(move || {
        let now = stamp(&path);
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        if now.is_none() || *seen == now {
            return None;
        }
        *seen = now;
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|json| Scorer::fitted(&json));
        match loaded {
            Ok(scorer) => {
                println!(
                    "Matching with the newer fitted model in {} (version {})",
                    path.display(),
                    scorer.name_and_version().1
                );
                Some(Arc::new(scorer))
            }
            Err(e) => {
                eprintln!(
                    "vigil: warning: {} changed but is not a model `vigil link` wrote ({e}); still matching with the model loaded before",
                    path.display()
                );
                None
            }
        }
    }))
}

/// Fits, records and keeps the model; prints what it did.
pub fn run(dir: &DataDir, database: Option<&str>) -> Result<FitOutcome> {
    let store: Arc<dyn vigil_store::Store> = Arc::from(dir.open(database)?);
    match fit(dir, store)? {
        Ok((outcome, _)) => Ok(outcome),
        Err(refused) => bail!("{refused}"),
    }
}

/// [`run`] on an open store; also returns the model, to serve with. The
/// inner error is the sentence of a fit the app refused (too few records):
/// nothing was recorded or kept, and the interim model stays.
pub fn fit(
    dir: &DataDir,
    store: Arc<dyn vigil_store::Store>,
) -> Result<std::result::Result<(FitOutcome, Arc<Scorer>), String>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let app = Arc::new(vigil_app::App::new(
        Arc::clone(&store),
        Arc::new(chrono::Utc::now),
    ));
    let bar = Arc::new(crate::link::Bar::new());
    let started = std::time::Instant::now();
    let outcome = match runtime.block_on(app.fit_matching_model(Arc::clone(&bar) as Arc<_>)) {
        Ok(o) => o,
        Err(vigil_app::AppError::Refused(sentence)) => return Ok(Err(sentence)),
        Err(vigil_app::AppError::Internal(d)) => bail!("the fit failed: {d}"),
        Err(other) => bail!("{other}"),
    };
    // The model is kept only once its scores are in the log.
    let tmp = crate::link::write_temp(&dir.path, MODEL_FILE, |w| {
        w.write_all(outcome.model_json.as_bytes())?;
        Ok(())
    })?;
    let path = dir.path.join(MODEL_FILE);
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    // The runtime and app go before the store (PostgreSQL closes off the async threads).
    drop(app);
    drop(runtime);
    println!(
        "Fitted the matching model on {} person records in {:.1} s ({} candidate pairs compared; {} people decided pairs kept)",
        outcome.records,
        started.elapsed().as_secs_f64(),
        outcome.candidate_pairs,
        outcome.decisions
    );
    println!(
        "{} pairs at or above the review band ({} at or above the match threshold); {} scores recorded, {} unchanged",
        outcome.pairs_in_band, outcome.pairs_linked, outcome.scores_written, outcome.unchanged
    );
    println!(
        "{} people by the linker's clustering (largest: {} records)",
        outcome.entities, outcome.largest
    );
    println!(
        "Model version {} kept in {}; `vigil serve` scores new referrals with it",
        outcome.model_version,
        path.display()
    );
    let scorer = Scorer::fitted(&outcome.model_json).map_err(|e| anyhow!("{e}"))?;
    Ok(Ok((outcome, Arc::new(scorer))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model fitted on 600 made-up records (enough for m and u of the
    /// name and date fields).
    fn model_json() -> String {
        let given = ["Amira", "Tobias", "Keziah", "Oren", "Linnea", "Bram"];
        let family = ["Testwood", "Copyman", "Sketchley", "Templet", "Protoe"];
        let mut records = Vec::new();
        for i in 0..600usize {
            let r = vigil_link::Record {
                id: format!("p{i}"),
                given_name: Some(given[i % given.len()].into()),
                family_name: Some(family[(i / given.len()) % family.len()].into()),
                dob: vigil_link::Dob::full(
                    2005 + (i % 12) as u16,
                    1 + (i % 12) as u8,
                    1 + (i * 7 % 28) as u8,
                ),
                ..Default::default()
            };
            if i % 3 == 0 {
                let mut copy = r.clone();
                copy.id = format!("p{i}b");
                copy.family_name = copy.family_name.map(|f| f.replacen('e', "a", 1));
                records.push(copy);
            }
            records.push(r);
        }
        let settings = vigil_link::Settings::default();
        vigil_link::link(&records, &settings, 0.5, &Default::default(), &())
            .model
            .to_json()
    }

    #[test]
    fn a_running_server_picks_up_a_newer_model_and_keeps_its_own_over_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let path = dir.path().join(MODEL_FILE);
        // No file yet: nothing to pick up.
        let watch = watch_model(&data);
        assert!((watch.0)().is_none());
        // A model appears (as `vigil link` writes it: beside, then renamed).
        let json = model_json();
        std::fs::write(dir.path().join("m.tmp"), &json).unwrap();
        std::fs::rename(dir.path().join("m.tmp"), &path).unwrap();
        let picked = (watch.0)().expect("the new model is picked up");
        assert_eq!(
            picked.name_and_version(),
            Scorer::fitted(&json).unwrap().name_and_version()
        );
        // Asked again with nothing changed: nothing new.
        assert!((watch.0)().is_none());
        // A file that is not a model: reported, not used.
        std::fs::write(&path, "{\"not\": \"a model\"}").unwrap();
        assert!((watch.0)().is_none());
        // The file gone: nothing (the model in use stays).
        std::fs::remove_file(&path).unwrap();
        assert!((watch.0)().is_none());
        // Back again: picked up.
        std::fs::write(&path, &json).unwrap();
        assert!((watch.0)().is_some());
    }
}
