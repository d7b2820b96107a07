//! The language report: how the wording already on file measures against
//! the professional language guidance, per agency, so a team can see where
//! it starts from and how often the check fires on what it writes.
//!
//! Every free text in the log is checked ([`vigil_rules::language`]): every
//! string of three words or more in an event's payload, whatever its kind,
//! so a text field added by a later event kind is counted without a list
//! to keep up to date. Each text is credited to the agency that recorded
//! the event (the header's `agency`).
//!
//! The tally follows the log by index and keeps only counts (per agency,
//! per guidance row, and the most frequent phrases, bounded), so its memory
//! does not grow with the log; a page load reads only what was appended
//! since the last. It shows no record's text and names no child. A
//! supervisor sees their own agency's row, an auditor every agency's
//! ([`crate::access::Action::ViewLanguageReport`]).

use crate::access::{Action, Resource};
use crate::{AppError, Caller};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use vigil_rules::language::{check, Guidance, LanguageContext};
use vigil_store::Store;

/// Distinct phrases counted per agency; past this, new phrases are still
/// counted under their guidance row but not by their words.
const PHRASES_PER_AGENCY: usize = 200;

/// One agency's row of the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgencyWording {
    /// The agency's code, as the log's headers name it.
    pub agency: String,
    /// Free texts checked.
    pub texts: u64,
    /// Texts with at least one finding.
    pub texts_flagged: u64,
    /// Findings per guidance row, in the order of [`Guidance::ALL`].
    pub by_guidance: Vec<(Guidance, u64)>,
    /// The most frequent phrases (lower case), most frequent first, at most five.
    pub top_phrases: Vec<(String, u64)>,
}

/// The report: one row per agency with free text on file, by code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LanguageReport {
    pub agencies: Vec<AgencyWording>,
    /// Log entries read so far (the report covers the log up to here).
    pub entries: u64,
}

#[derive(Default)]
struct AgencyTally {
    texts: u64,
    texts_flagged: u64,
    by_guidance: HashMap<Guidance, u64>,
    phrases: HashMap<String, u64>,
}

/// The running tally, kept by the [`crate::App`].
#[derive(Default)]
pub struct Tally {
    inner: Mutex<TallyState>,
}

#[derive(Default)]
struct TallyState {
    next_index: u64,
    agencies: BTreeMap<String, AgencyTally>,
}

/// Every string of three words or more in a JSON value.
fn free_texts<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match v {
        serde_json::Value::String(s) if s.split_whitespace().nth(2).is_some() => out.push(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| free_texts(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| free_texts(x, out)),
        _ => {}
    }
}

impl Tally {
    /// Reads the log from where the tally stopped, then reports.
    fn report(&self, store: &dyn Store) -> Result<LanguageReport, AppError> {
        let mut st = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let from = st.next_index;
        let mut next = from;
        let agencies = &mut st.agencies;
        store.for_each_entry(from, &mut |e| {
            next = e.index + 1;
            let Some(payload) = e.payload_json.as_deref() else {
                return Ok(()); // erased at the end of its retention
            };
            let agency = serde_json::from_str::<serde_json::Value>(&e.header_json)
                .ok()
                .and_then(|h| h["agency"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let Ok(p) = serde_json::from_str::<serde_json::Value>(payload) else {
                return Ok(());
            };
            let mut texts = Vec::new();
            free_texts(&p, &mut texts);
            if texts.is_empty() {
                return Ok(());
            }
            let row = agencies.entry(agency).or_default();
            for t in texts {
                row.texts += 1;
                let found = check(t, &LanguageContext::default());
                if found.is_empty() {
                    continue;
                }
                row.texts_flagged += 1;
                for f in found {
                    *row.by_guidance.entry(f.guidance).or_default() += 1;
                    let words = f.phrase.to_lowercase();
                    if let Some(n) = row.phrases.get_mut(&words) {
                        *n += 1;
                    } else if row.phrases.len() < PHRASES_PER_AGENCY {
                        row.phrases.insert(words, 1);
                    }
                }
            }
            Ok(())
        })?;
        st.next_index = next;
        let agencies = st
            .agencies
            .iter()
            .map(|(code, t)| {
                let mut top: Vec<(String, u64)> =
                    t.phrases.iter().map(|(p, n)| (p.clone(), *n)).collect();
                top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                top.truncate(5);
                AgencyWording {
                    agency: code.clone(),
                    texts: t.texts,
                    texts_flagged: t.texts_flagged,
                    by_guidance: Guidance::ALL
                        .iter()
                        .map(|g| (*g, t.by_guidance.get(g).copied().unwrap_or(0)))
                        .collect(),
                    top_phrases: top,
                }
            })
            .collect();
        Ok(LanguageReport {
            agencies,
            entries: next,
        })
    }
}

impl crate::App {
    /// The language report, for a user whose role may see it.
    pub fn language_report(&self, caller: &Caller) -> Result<LanguageReport, AppError> {
        caller.authorise(Action::ViewLanguageReport, Resource::Page)?;
        let mut report = self.language.report(self.store.as_ref())?;
        let u = &caller.user;
        if crate::access::scope_of(u.role, u.agency_kind, Action::ViewLanguageReport)
            != Some(crate::access::Scope::Any)
        {
            report.agencies.retain(|a| a.agency == u.agency);
        }
        Ok(report)
    }
}
