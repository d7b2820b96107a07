//! `vigil bench intake`: how long matching a new referral's child against
//! the people already recorded takes at intake (`App::match_at_intake`:
//! the name index brings the candidates near, the fitted model scores
//! them, scores at or above the review band are written), over a store of
//! `--people` realistic person records (`vigil_synth::linkage`: skewed
//! names, nicknames, typos, households, twins), and whether it finds the
//! true earlier record of each new one.
//!
//! The new records are the generator's later records, appended one at a
//! time and matched at once, as intake does; each is timed alone (one
//! request, nothing else running), from the first store read to the
//! commit of the scores.

use crate::bench::temp_store;
use anyhow::{anyhow, bail, Result};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;
use vigil_model::EventInput;

/// The JSON line of a person record as an agency would record it: names
/// (the other name as an alias) and the date of birth as far as known.
fn person_line(r: &vigil_synth::linkage::PersonRecord, id: Uuid) -> Option<String> {
    use serde_json::json;
    let mut birth = json!({"kind": "birth"});
    for (k, v) in [("given", &r.given_name), ("family", &r.family_name)] {
        if !v.is_empty() {
            birth[k] = json!(v);
        }
    }
    let mut names = vec![birth];
    if !r.other_name.is_empty() {
        names.push(json!({"given": r.other_name, "kind": "alias"}));
    }
    if r.given_name.is_empty() && r.family_name.is_empty() {
        return None;
    }
    let mut payload = json!({"person_id": id, "names": names});
    if let Ok(Some(d)) = vigil_link::Dob::parse(&r.date_of_birth) {
        payload["date_of_birth"] = if d.is_full() {
            json!({"value": format!("{:04}-{:02}-{:02}", d.year, d.month, d.day), "precision": "day"})
        } else {
            json!({"value": format!("{:04}", d.year), "precision": "year"})
        };
    }
    Some(
        json!({
            "actor": {"user": "bench", "role": "practitioner"},
            "agency": "bench-agency",
            "occurred_at": {"value": "2024-05-01", "precision": "day"},
            "kind": "person.recorded",
            "payload": payload,
        })
        .to_string(),
    )
}

fn drafts(lines: &[String]) -> Result<Vec<vigil_model::EventDraft>> {
    lines
        .iter()
        .map(|l| {
            let input: EventInput = crate::import::parse_line(l).map_err(anyhow::Error::msg)?;
            input
                .prepare(chrono::Utc::now(), crate::import::new_salt())
                .map_err(anyhow::Error::from)
        })
        .collect()
}

/// The `p` quantile of sorted durations, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Times the review queue's reads of the pairs the fit left in the
/// uncertain band (`Store::match_review`, what `links::review_queue` asks
/// the store for): its first page and its last, as the front door reads
/// them (every agency) and as one agency's practitioner does.
fn review_pages(store: &dyn vigil_store::Store) -> Result<()> {
    use vigil_store::index::{MatchReviewQuery, Visibility};
    let query = |open: Visibility, offset: u64| MatchReviewQuery {
        from_ppm: vigil_app::score::REVIEW_FROM_PPM,
        to_ppm: vigil_app::score::REVIEW_TO_PPM,
        review: open.clone(),
        open,
        offset,
        limit: 50,
    };
    // Counted to the end: from past the last page, the count is not capped.
    let total = store
        .match_review(&query(Visibility::All, u64::MAX / 4))?
        .total;
    let agency = Visibility::Agencies(vec!["bench-agency".into()]);
    for (who, open) in [("every agency", Visibility::All), ("one agency", agency)] {
        for (page, offset) in [("first", 0), ("last", total.saturating_sub(50))] {
            let mut times = Vec::new();
            let mut shown = (0, false);
            for _ in 0..50 {
                let t = Instant::now();
                let got = store.match_review(&query(open.clone(), offset))?;
                times.push(t.elapsed());
                if got.rows.len() != 50.min(total as usize) {
                    bail!(
                        "the review queue listed {} pairs on a page of 50",
                        got.rows.len()
                    );
                }
                shown = (got.total, got.more);
            }
            times.sort();
            println!(
                "review queue ({total} pairs in the band), {page} page of 50, {who}: p50 {:.2} ms, p99 {:.2} ms (the page says {}{} pairs)",
                percentile_ms(&times, 0.50),
                percentile_ms(&times, 0.99),
                if shown.1 { "more than " } else { "" },
                shown.0,
            );
        }
    }
    Ok(())
}

/// Runs the benchmark and prints its figures.
pub fn run(database: Option<&str>, people: u64, new: u64, seed: u64) -> Result<()> {
    if people < 100 || new == 0 {
        bail!("--people must be at least 100 (a model is fitted on them) and --new at least 1");
    }
    let records = vigil_synth::linkage::person_records(&vigil_synth::linkage::LinkageConfig {
        records: people + new,
        seed,
    })
    .map_err(|e| anyhow!("{e}"))?
    .records;
    let (_db, store) = temp_store(database)?;
    let store: Arc<dyn vigil_store::Store> = Arc::from(store);
    let t0 = Instant::now();
    let mut true_person: HashMap<Uuid, u32> = HashMap::new();
    let mut lines = Vec::new();
    for r in &records[..people as usize] {
        let id = Uuid::now_v7();
        if let Some(l) = person_line(r, id) {
            true_person.insert(id, r.person);
            lines.push(l);
        }
        if lines.len() == 10_000 {
            store.append(drafts(&std::mem::take(&mut lines))?)?;
        }
    }
    store.append(drafts(&lines)?)?;
    println!(
        "{} person records recorded in {:.1} s",
        true_person.len(),
        t0.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let app = Arc::new(vigil_app::App::new(
        Arc::clone(&store),
        Arc::new(chrono::Utc::now),
    ));
    let t1 = Instant::now();
    let fit = runtime
        .block_on(app.fit_matching_model(Arc::new(())))
        .map_err(|e| anyhow!("{e}"))?;
    app.use_scorer(Arc::new(
        vigil_app::score::Scorer::fitted(&fit.model_json).map_err(|e| anyhow!("{e}"))?,
    ));
    println!(
        "model fitted on them and {} scores recorded in {:.1} s",
        fit.scores_written,
        t1.elapsed().as_secs_f64()
    );
    review_pages(store.as_ref())?;
    let mut times: Vec<Duration> = Vec::new();
    let (mut with_earlier, mut found, mut written) = (0u64, 0u64, 0usize);
    let earlier: std::collections::HashSet<u32> = true_person.values().copied().collect();
    for r in &records[people as usize..] {
        let id = Uuid::now_v7();
        let Some(l) = person_line(r, id) else {
            continue;
        };
        store.append(drafts(&[l])?)?;
        let t = Instant::now();
        let n = runtime
            .block_on(app.match_at_intake(id))
            .map_err(|e| anyhow!("{e}"))?;
        times.push(t.elapsed());
        written += n;
        if earlier.contains(&r.person) {
            with_earlier += 1;
            // Did a score at or above the threshold name a true earlier record?
            let hit = store
                .edges_of(id)?
                .into_iter()
                .filter(|e| e.kind == vigil_app::links::SAME_PERSON && e.active)
                .any(|e| {
                    let other = if e.from.id == id { e.to.id } else { e.from.id };
                    true_person.get(&other) == Some(&r.person)
                });
            found += u64::from(hit);
        }
        true_person.insert(id, r.person);
    }
    drop(app);
    drop(runtime);
    times.sort();
    println!(
        "matching at intake, {} new records one at a time against {} ({}): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} scores written",
        times.len(),
        people,
        crate::bench::backend_name(database),
        percentile_ms(&times, 0.50),
        percentile_ms(&times, 0.90),
        percentile_ms(&times, 0.99),
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        written,
    );
    println!(
        "of the {with_earlier} new records whose person was already recorded, {found} were linked to a true earlier record at intake ({:.3})",
        found as f64 / with_earlier.max(1) as f64
    );
    Ok(())
}
