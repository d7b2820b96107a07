//! Fitting the matching model on the store's own person records, and
//! writing what it finds to the log.
//!
//! `vigil --data DIR link` calls [`App::fit_matching_model`]: every person
//! record in the store becomes a `vigil-link` record ([`score::link_record`]:
//! names and date of birth, never sex or ethnicity), people's decisions so
//! far (confirmed, rejected, undone pairs) go in as `Decisions`, and
//! `vigil_link::link` blocks, fits m and u by EM, scores the candidates and
//! clusters them. Then, for each pair at or above the review band, a
//! `person_match.scored` event by Vigil records the probability and each
//! field's part in it; and a pair the log holds as scored in or above the
//! band that the new model puts below it is scored again, so an old
//! model's link does not outlive the model. The log's projection, not this
//! code, decides what a score may change: a confirmed pair stays confirmed,
//! a rejected or undone one is not linked by any score (see
//! `vigil_model::state::MatchStatus`).
//!
//! **Idempotent.** A pair whose recorded score is within
//! [`UNCHANGED_PPM`] of the new one, on the same side of the match
//! threshold and of the review band, is not written again: running the fit
//! twice on an unchanged store writes nothing the second time.
//!
//! The model itself is returned as JSON (the format `vigil link --csv`
//! writes) for the caller to keep (`DATA/link-model.json`) and load into
//! the app that serves ([`App::use_scorer`]), so intake scores new
//! referrals with it.

use crate::links::SAME_PERSON;
use crate::readmodel::PersonView;
use crate::score::{self, Scorer};
use crate::{App, AppError};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::payload::match_id;
use vigil_model::state::{LinkState, MatchStatus};
use vigil_model::EntityKind;

/// Fewest person records a model is fitted on. With fewer, random pairs
/// say little about how often fields agree by chance (u) and EM has too
/// few candidate pairs to tell matches from non-matches (m): the model
/// would be noise, so the interim model stays in use instead.
pub const MIN_RECORDS: usize = 100;

/// The comparisons a fit must have estimated m for (every person record
/// Vigil keeps has names and most a date of birth); a fit that could not
/// is refused rather than used.
const MUST_ESTIMATE: [vigil_link::Comparison; 3] = [
    vigil_link::Comparison::GivenName,
    vigil_link::Comparison::FamilyName,
    vigil_link::Comparison::DateOfBirth,
];

/// A recorded score this close to the new one (in millionths) is kept.
pub const UNCHANGED_PPM: u32 = 5_000;

/// Events appended per batch (one transaction each), so a large first fit
/// neither holds one huge transaction nor waits on one per pair.
const APPEND_CHUNK: usize = 5_000;

/// What a fit over the store did.
#[derive(Debug)]
pub struct FitOutcome {
    /// The fitted model, as `vigil link --csv` writes it.
    pub model_json: String,
    /// Its version as scores record it.
    pub model_version: String,
    /// Person records fitted on.
    pub records: usize,
    /// Candidate pairs the blocking rules compared.
    pub candidate_pairs: u64,
    /// Pairs at or above the review band.
    pub pairs_in_band: usize,
    /// Of those, at or above the match threshold.
    pub pairs_linked: usize,
    /// `person_match.scored` events written.
    pub scores_written: usize,
    /// Pairs whose recorded score stood (within [`UNCHANGED_PPM`]).
    pub unchanged: usize,
    /// Pairs people had decided, given to the fit.
    pub decisions: usize,
    /// What the linker's own clustering made of it: people, the largest.
    pub entities: u64,
    pub largest: u64,
    /// The linker's report of fitting (EM sessions, u pairs).
    pub fit: vigil_link::FitReport,
}

/// The band a probability falls in, for "did it change".
fn band(ppm: u32) -> u8 {
    match ppm {
        p if p >= score::THRESHOLD_PPM => 2,
        p if p >= score::REVIEW_FROM_PPM => 1,
        _ => 0,
    }
}

/// Whether a recorded probability can stand for the new one.
fn unchanged(recorded: u32, new: u32) -> bool {
    recorded.abs_diff(new) < UNCHANGED_PPM && band(recorded) == band(new)
}

impl App {
    /// Fits the matching model on every person record in the store and
    /// records its scores (see the module documentation). Vigil acts, not
    /// a user: this is the operator's command, like import.
    pub async fn fit_matching_model(
        self: &Arc<Self>,
        progress: Arc<dyn vigil_link::Progress + Send>,
    ) -> Result<FitOutcome, AppError> {
        let (drafts, outcome) = self
            .blocking(move |st| {
                let people: Vec<PersonView> = st
                    .store
                    .entities_of_kind(EntityKind::Person)?
                    .iter()
                    .map(PersonView::from_record)
                    .collect::<Result<_, _>>()
                    .map_err(|e| AppError::Internal(format!("a person record: {e}")))?;
                let at: HashMap<Uuid, u32> = people
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.id, i as u32))
                    .collect();
                // Every pair the log has scored or decided.
                let link_ids: Vec<Uuid> = st
                    .store
                    .edges_of_kind(SAME_PERSON, usize::MAX)?
                    .into_iter()
                    .map(|e| e.link_id)
                    .collect();
                let mut recorded: HashMap<Uuid, LinkState> = HashMap::new();
                for chunk in link_ids.chunks(1_000) {
                    for r in st.store.entities(chunk)? {
                        if let Some(l) = r.as_kind::<LinkState>() {
                            recorded.insert(r.id, l.clone());
                        }
                    }
                }
                let mut decisions = vigil_link::Decisions::default();
                for l in recorded.values() {
                    let (Some(m), Some(&a), Some(&b)) =
                        (&l.matching, at.get(&l.from.id), at.get(&l.to.id))
                    else {
                        continue;
                    };
                    match m.status {
                        MatchStatus::Confirmed => decisions.confirmed.push((a, b)),
                        s if s.refused() => decisions.rejected.push((a, b)),
                        _ => {}
                    }
                }
                if people.len() < MIN_RECORDS {
                    return Err(AppError::Refused(format!(
                        "The store has {} person records and a matching model needs at least {MIN_RECORDS} to be estimated, so none was fitted; the interim model stays in use.",
                        people.len()
                    )));
                }
                let n_decisions = decisions.confirmed.len() + decisions.rejected.len();
                let records: Vec<vigil_link::Record> =
                    people.iter().map(score::link_record).collect();
                let linkage = vigil_link::link(
                    &records,
                    &vigil_link::Settings::default(),
                    f64::from(score::REVIEW_FROM_PPM) / f64::from(vigil_model::payload::matching::PPM),
                    &decisions,
                    progress.as_ref(),
                );
                if let Some(c) = MUST_ESTIMATE
                    .iter()
                    .find(|c| linkage.fit.m_not_estimated.contains(c))
                {
                    return Err(AppError::Refused(format!(
                        "The records gave too few likely matches to estimate how often the {} agrees between records of one person, so no model was fitted and nothing was recorded; the interim model stays in use.",
                        c.label()
                    )));
                }
                let json = linkage.model.to_json();
                let scorer = Scorer::fitted(&json).map_err(AppError::Internal)?;
                let model = scorer.name_and_version();
                let now = st.now();
                let mut drafts = Vec::new();
                let mut unchanged_n = 0;
                let mut linked = 0;
                let mut write = |a: &PersonView, b: &PersonView, drafts: &mut Vec<_>| {
                    let s = scorer.score(a, b);
                    let recorded_ppm = recorded
                        .get(&match_id(a.id, b.id))
                        .and_then(|l| l.matching.as_ref()?.score.as_ref())
                        .map(|s| s.probability_ppm);
                    if recorded_ppm.is_some_and(|r| unchanged(r, s.probability_ppm)) {
                        unchanged_n += 1;
                        return Ok::<_, AppError>(());
                    }
                    drafts.push(crate::links::scored_event(&model, a.id, b.id, s, now)?);
                    Ok(())
                };
                let mut found = std::collections::HashSet::new();
                for p in &linkage.pairs {
                    let (a, b) = (&people[p.left as usize], &people[p.right as usize]);
                    found.insert(match_id(a.id, b.id));
                    if p.probability >= f64::from(score::THRESHOLD_PPM) / 1e6 {
                        linked += 1;
                    }
                    write(a, b, &mut drafts)?;
                }
                // Pairs an earlier score put in or above the band that this
                // model did not: scored again, so they leave the band.
                for (id, l) in &recorded {
                    let in_band = l
                        .matching
                        .as_ref()
                        .and_then(|m| m.score.as_ref())
                        .is_some_and(|s| s.probability_ppm >= score::REVIEW_FROM_PPM);
                    if !in_band || found.contains(id) {
                        continue;
                    }
                    let (Some(&a), Some(&b)) = (at.get(&l.from.id), at.get(&l.to.id)) else {
                        continue;
                    };
                    write(&people[a as usize], &people[b as usize], &mut drafts)?;
                }
                let outcome = FitOutcome {
                    model_json: json,
                    model_version: model.1.clone(),
                    records: people.len(),
                    candidate_pairs: linkage.blocking.pairs,
                    pairs_in_band: linkage.pairs.len(),
                    pairs_linked: linked,
                    scores_written: drafts.len(),
                    unchanged: unchanged_n,
                    decisions: n_decisions,
                    entities: linkage.cluster_report.entities,
                    largest: linkage.cluster_report.largest,
                    fit: linkage.fit,
                };
                Ok((drafts, outcome))
            })
            .await?;
        let mut drafts = drafts;
        while !drafts.is_empty() {
            let rest = drafts.split_off(drafts.len().min(APPEND_CHUNK));
            for r in self.append(std::mem::replace(&mut drafts, rest)).await? {
                r.map_err(|e| AppError::Internal(format!("a match score was refused: {e}")))?;
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_stands_only_within_the_margin_and_its_band() {
        assert!(unchanged(600_000, 604_999));
        assert!(!unchanged(600_000, 605_000));
        // Across the threshold or the band edge, however close: written.
        assert!(!unchanged(499_999, 500_000));
        assert!(!unchanged(200_000, 199_999));
        assert!(unchanged(10_000, 12_000));
    }
}
