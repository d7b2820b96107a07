//! Alert rules: the patterns that, once recorded, must make someone look.
//!
//! In Rotherham and Rochdale the signs were recorded, often many times, and
//! nobody put them together. An alert rule puts them together: "three
//! missing episodes in thirty days", "a fourth placement in a year", "a
//! new referral on a child whose case closed last month", "a sexual
//! offence against a child under 13 recorded as something other than the
//! under-13 offences".
//!
//! This module is the pure half:
//!
//! * a **rule file** ([`RuleFile::parse`]): TOML, shipped with defaults
//!   ([`DEFAULT_RULES`]) and replaceable by a local file; every rule is a
//!   detector with its thresholds, a severity and plain words. A bad file is
//!   refused whole, with a message naming the line, so a typo never quietly
//!   switches a rule off;
//! * an **evaluator** ([`Evaluator`]) that is fed [`Fact`]s in log order and
//!   says when a rule is met ([`Trigger`]), with the events that met it.
//!   The alert's id is derived from the rule and those events
//!   ([`Trigger::alert_id`]), so replaying the log, or a second server
//!   following it, finds the same alerts rather than raising them twice.
//!
//! **What a rule can see.** A [`Fact`] carries ids, dates, codes of what
//! happened (an offence code, a placement) and the child's age. It has no
//! field for ethnicity, nationality, religion or sex, so no rule can use
//! them: that is a property of the types, and the tests check the facts'
//! fields against the model's protected ones.
//!
//! The runner that follows the log, turns events into facts and records
//! alerts as events lives in the application layer; this module reads no
//! file, clock or store.

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;
use vigil_model::codes::OffenceCode;

/// The rules Vigil ships with (`rules/default.toml` in this crate).
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// How urgent an alert is: the model's one list.
pub use vigil_model::codes::AlertSeverity as Severity;

/// What a rule looks for, with its thresholds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detector {
    /// At least `count` missing episodes beginning within `within_days`.
    #[allow(missing_docs)]
    MissingEpisodes { count: usize, within_days: i64 },
    /// At least `count` placements beginning within `within_days`.
    #[allow(missing_docs)]
    Placements { count: usize, within_days: i64 },
    /// At least `count` allocated workers beginning within `within_days`.
    #[allow(missing_docs)]
    Workers { count: usize, within_days: i64 },
    /// A referral about a child whose case closed within `within_days` before it.
    #[allow(missing_docs)]
    ReferralAfterClosure { within_days: i64 },
    /// A sexual offence against a victim under 13 recorded as an offence
    /// other than those for under-13s (DOMAIN.md section 6).
    Under13Offence,
    /// A child with an exploitation concern recorded as a suspect: review
    /// for criminalisation of a victim.
    ChildWithConcernAsSuspect,
    /// An adult linked to at least `count` children with concerns (an
    /// associate, a suspected exploiter, someone who contacted them, found
    /// with them or named in a referral about them; not family).
    #[allow(missing_docs)]
    AdultLinkedToChildren { count: usize },
    /// A vehicle, phone, online account or place that at least `count`
    /// children were seen in or at, stayed at, were found at or were
    /// contacted from (not where they live or go to school).
    #[allow(missing_docs)]
    SharedPlaceOrThing { count: usize },
}

/// One rule of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id (`repeated-missing`): part of every alert id it raises.
    pub id: String,
    /// What it looks for.
    pub detector: Detector,
    /// How urgent its alerts are.
    pub severity: Severity,
    /// What the alert says, in plain words.
    pub says: String,
    /// The line of the file the rule starts on (for messages).
    pub line: usize,
}

/// A rule file, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFile {
    /// The rules switched on, in the file's order.
    pub rules: Vec<Rule>,
}

/// Why a rule file was refused: the line and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RuleFileError {
    /// The 1-based line of the file.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: toml::Spanned<String>,
    detector: toml::Spanned<String>,
    #[serde(default = "yes")]
    enabled: bool,
    severity: toml::Spanned<String>,
    says: toml::Spanned<String>,
    count: Option<toml::Spanned<i64>>,
    within_days: Option<toml::Spanned<i64>>,
}

fn yes() -> bool {
    true
}

fn fail<T>(line: usize, message: String) -> Result<T, RuleFileError> {
    Err(RuleFileError { line, message })
}

fn fail_if_some(
    v: &Option<toml::Spanned<i64>>,
    name: &str,
    detector: &str,
    text: &str,
) -> Result<(), RuleFileError> {
    match v {
        Some(s) => fail(
            line_of(text, s.span().start),
            format!("the {detector} rule takes no `{name}`"),
        ),
        None => Ok(()),
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl RuleFile {
    /// Parses and checks a rule file. Disabled rules are checked too (a
    /// rule switched back on must already be right) and then left out.
    pub fn parse(text: &str) -> Result<RuleFile, RuleFileError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RuleFileError {
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            message: e.message().trim().to_owned(),
        })?;
        let mut rules = Vec::new();
        let mut seen = HashSet::new();
        for r in raw.rule {
            let at = |s: std::ops::Range<usize>| line_of(text, s.start);
            let line = at(r.span());
            let r = r.into_inner();
            let id = r.id.get_ref().trim().to_owned();
            let id_ok = !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok {
                return fail(
                    at(r.id.span()),
                    format!(
                        "the rule id {id:?} must be 1 to 64 lower-case letters, digits and hyphens"
                    ),
                );
            }
            if !seen.insert(id.clone()) {
                return fail(at(r.id.span()), format!("the rule id {id:?} is used twice"));
            }
            let Ok(severity) = Severity::parse(r.severity.get_ref()) else {
                return fail(
                    at(r.severity.span()),
                    format!("severity {:?} is not medium or high", r.severity.get_ref()),
                );
            };
            let says = r.says.get_ref().trim().to_owned();
            if says.is_empty() || says.chars().count() > 300 {
                return fail(
                    at(r.says.span()),
                    "`says` must be 1 to 300 characters".into(),
                );
            }
            let positive = |v: &Option<toml::Spanned<i64>>, name: &str, max: i64| match v {
                None => fail(
                    line,
                    format!("the {} rule needs `{name}`", r.detector.get_ref()),
                ),
                Some(s) if *s.get_ref() < 1 || *s.get_ref() > max => fail(
                    at(s.span()),
                    format!("`{name}` must be between 1 and {max}"),
                ),
                Some(s) => Ok(*s.get_ref()),
            };
            let none = |v: &Option<toml::Spanned<i64>>, name: &str| match v {
                Some(s) => fail(
                    at(s.span()),
                    format!("the {} rule takes no `{name}`", r.detector.get_ref()),
                ),
                None => Ok(()),
            };
            let detector = match r.detector.get_ref().as_str() {
                d @ ("missing_episodes" | "placements" | "workers") => {
                    let count = positive(&r.count, "count", 1000)? as usize;
                    let within_days = positive(&r.within_days, "within_days", 3660)?;
                    match d {
                        "missing_episodes" => Detector::MissingEpisodes { count, within_days },
                        "placements" => Detector::Placements { count, within_days },
                        _ => Detector::Workers { count, within_days },
                    }
                }
                d @ ("adult_linked_to_children" | "shared_place_or_thing") => {
                    fail_if_some(&r.within_days, "within_days", r.detector.get_ref(), text)?;
                    let count = positive(&r.count, "count", 1000)? as usize;
                    if count < 2 {
                        return fail(
                            at(r.count.as_ref().map(|c| c.span()).unwrap_or(0..0)),
                            "`count` must be at least 2 (it counts children)".into(),
                        );
                    }
                    if d == "adult_linked_to_children" {
                        Detector::AdultLinkedToChildren { count }
                    } else {
                        Detector::SharedPlaceOrThing { count }
                    }
                }
                "referral_after_closure" => {
                    none(&r.count, "count")?;
                    Detector::ReferralAfterClosure {
                        within_days: positive(&r.within_days, "within_days", 3660)?,
                    }
                }
                d @ ("under_13_offence" | "child_with_concern_as_suspect") => {
                    none(&r.count, "count")?;
                    none(&r.within_days, "within_days")?;
                    if d == "under_13_offence" {
                        Detector::Under13Offence
                    } else {
                        Detector::ChildWithConcernAsSuspect
                    }
                }
                other => {
                    return fail(
                        at(r.detector.span()),
                        format!(
                            "there is no detector {other:?} (there are: missing_episodes, placements, workers, referral_after_closure, under_13_offence, child_with_concern_as_suspect, adult_linked_to_children, shared_place_or_thing)"
                        ),
                    )
                }
            };
            if r.enabled {
                rules.push(Rule {
                    id,
                    detector,
                    severity,
                    says,
                    line,
                });
            }
        }
        Ok(RuleFile { rules })
    }

    /// The shipped defaults.
    pub fn defaults() -> RuleFile {
        RuleFile::parse(DEFAULT_RULES).expect("the default rules parse")
    }
}

/// What happened, as far as the rules are concerned. Built by the runner
/// from the log's events; each carries the event's id. There is no field
/// for ethnicity, nationality, religion or sex, so no rule can read them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // the fields say what they are: the event, the child, the day
pub enum Fact {
    MissingEpisodeStarted {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
        episode: Uuid,
    },
    /// A missing child found: where, and the adult they were with, if
    /// recorded (the child is the episode's).
    EpisodeReturned {
        event: Uuid,
        episode: Uuid,
        found_at: Option<Uuid>,
        found_with_adult: Option<Uuid>,
    },
    PlacementStarted {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
    },
    WorkerAllocated {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
    },
    ReferralReceived {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
    },
    /// An exploitation concern about the child (a referral, a screening at
    /// medium or high risk, a CSE-flagged offence against them).
    ExploitationConcern { event: Uuid, child: Uuid },
    CaseClosed {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
    },
    /// An adult and a child linked (not as family).
    AdultLinkedToChild {
        event: Uuid,
        adult: Uuid,
        child: Uuid,
    },
    /// A child seen at, in, found at or contacted from a place or thing.
    ChildAtPlaceOrThing {
        event: Uuid,
        child: Uuid,
        thing: Uuid,
    },
    /// An offence recorded: its code, victims with their age in whole
    /// years when committed (None when not known), and suspects.
    OffenceRecorded {
        event: Uuid,
        offence: OffenceCode,
        victims: Vec<(Uuid, Option<u32>)>,
        suspects: Vec<Uuid>,
    },
}

/// A rule met: which rule, about whom, and the events that met it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// The rule's id.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The child the alert is about.
    pub child: Uuid,
    /// What the alert says.
    pub says: String,
    /// The events that met the rule, in log order.
    pub events: Vec<Uuid>,
}

/// The namespace of alert ids (a fixed, random UUID).
const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x6c2a_91e4_0d3b_4f57_8e11_5a0c_7b9d_2f48);

impl Trigger {
    /// The alert's id: the same rule met by the same events is the same
    /// alert, however often the log is replayed.
    pub fn alert_id(&self) -> Uuid {
        use sha2::{Digest, Sha256};
        // A name-based UUID (version 8, SHA-256): namespace, rule, events.
        let mut h = Sha256::new();
        h.update(ALERT_NAMESPACE.as_bytes());
        h.update(self.rule.as_bytes());
        for e in &self.events {
            h.update(b"/");
            h.update(e.as_bytes());
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&h.finalize()[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

/// The offences for a victim under 13 (ss5-8), as the code list says.
fn under_13_offence(o: OffenceCode) -> bool {
    o.victim_under() == Some(13)
}

/// Whether an offence is sexual (so a victim under 13 needs an under-13
/// code): every Sexual Offences Act offence and indecent images; not
/// trafficking in general, nor "other", which says nothing either way.
fn sexual_offence(o: OffenceCode) -> bool {
    !matches!(o, OffenceCode::Msa2015S2 | OffenceCode::Other)
}

/// Follows facts in log order and says when a rule is met. Its memory per
/// child is bounded by the rules' windows: dates older than the longest
/// window are dropped.
pub struct Evaluator {
    rules: Vec<Rule>,
    /// Per (rule index, child): the dated events inside the window, and
    /// whether the rule is met now (it triggers again only after it stops
    /// being met, so a fifth episode does not raise a second alert for the
    /// same run of episodes).
    windows: HashMap<(usize, Uuid), Window>,
    closed: HashMap<Uuid, NaiveDate>,
    concern: HashSet<Uuid>,
    /// Adult -> the children linked to them, with the linking event.
    adult_children: HashMap<Uuid, Vec<(Uuid, Uuid)>>,
    /// Child -> the adults linked to them (to look again when a concern
    /// about the child is recorded).
    child_adults: HashMap<Uuid, Vec<Uuid>>,
    /// Place or thing -> the children seen there, with the event.
    thing_children: HashMap<Uuid, Vec<(Uuid, Uuid)>>,
    /// (rule, child, adult or thing) alerted already.
    alerted: HashSet<(usize, Uuid, Uuid)>,
    /// Missing episode -> its child (a return names only the episode).
    episodes: HashMap<Uuid, Uuid>,
}

#[derive(Default)]
struct Window {
    events: VecDeque<(NaiveDate, Uuid)>,
    met: bool,
}

impl Evaluator {
    /// An evaluator of these rules, having seen nothing yet.
    pub fn new(file: &RuleFile) -> Evaluator {
        Evaluator {
            rules: file.rules.clone(),
            windows: HashMap::new(),
            closed: HashMap::new(),
            concern: HashSet::new(),
            adult_children: HashMap::new(),
            child_adults: HashMap::new(),
            thing_children: HashMap::new(),
            alerted: HashSet::new(),
            episodes: HashMap::new(),
        }
    }

    /// The children linked to `adult` who have concerns: if there are
    /// enough for a rule, an alert for each not yet alerted on.
    fn check_adult(&mut self, out: &mut Vec<Trigger>, adult: Uuid) {
        let Some(linked) = self.adult_children.get(&adult) else {
            return;
        };
        let with_concern: Vec<(Uuid, Uuid)> = linked
            .iter()
            .filter(|(c, _)| self.concern.contains(c))
            .copied()
            .collect();
        for (i, rule) in self.rules.iter().enumerate() {
            let Detector::AdultLinkedToChildren { count } = rule.detector else {
                continue;
            };
            if with_concern.len() < count {
                continue;
            }
            let events: Vec<Uuid> = with_concern.iter().map(|(_, e)| *e).collect();
            for (child, _) in &with_concern {
                if self.alerted.insert((i, *child, adult)) {
                    out.push(Self::trigger(rule, *child, events.clone()));
                }
            }
        }
    }

    fn check_thing(&mut self, out: &mut Vec<Trigger>, thing: Uuid) {
        let Some(seen) = self.thing_children.get(&thing) else {
            return;
        };
        for (i, rule) in self.rules.iter().enumerate() {
            let Detector::SharedPlaceOrThing { count } = rule.detector else {
                continue;
            };
            if seen.len() < count {
                continue;
            }
            let events: Vec<Uuid> = seen.iter().map(|(_, e)| *e).collect();
            for (child, _) in seen {
                if self.alerted.insert((i, *child, thing)) {
                    out.push(Self::trigger(rule, *child, events.clone()));
                }
            }
        }
    }

    /// A concern recorded about a child: the adults linked to them may now
    /// be linked to enough children with concerns.
    fn concern_about(&mut self, out: &mut Vec<Trigger>, child: Uuid) {
        if self.concern.insert(child) {
            for adult in self.child_adults.get(&child).cloned().unwrap_or_default() {
                self.check_adult(out, adult);
            }
        }
    }

    fn trigger(rule: &Rule, child: Uuid, events: Vec<Uuid>) -> Trigger {
        Trigger {
            rule: rule.id.clone(),
            severity: rule.severity,
            child,
            says: rule.says.clone(),
            events,
        }
    }

    /// Counts a dated event for every rule of this detector kind.
    fn count(
        &mut self,
        out: &mut Vec<Trigger>,
        pick: impl Fn(&Detector) -> Option<(usize, i64)>,
        child: Uuid,
        on: NaiveDate,
        event: Uuid,
    ) {
        for (i, rule) in self.rules.iter().enumerate() {
            let Some((count, days)) = pick(&rule.detector) else {
                continue;
            };
            let w = self.windows.entry((i, child)).or_default();
            w.events.push_back((on, event));
            // Events arrive in log order, which is not always date order
            // (a late-recorded episode): keep them sorted by date.
            w.events.make_contiguous().sort();
            let newest = w.events.back().map(|e| e.0).unwrap_or(on);
            while w
                .events
                .front()
                .is_some_and(|(d, _)| (newest - *d).num_days() >= days)
            {
                w.events.pop_front();
            }
            let met = w.events.len() >= count;
            if met && !w.met {
                let events = w
                    .events
                    .iter()
                    .rev()
                    .take(count)
                    .rev()
                    .map(|e| e.1)
                    .collect();
                out.push(Self::trigger(rule, child, events));
            }
            w.met = met;
        }
    }

    /// Takes one fact; returns the rules it makes met.
    pub fn observe(&mut self, fact: &Fact) -> Vec<Trigger> {
        let mut out = Vec::new();
        match fact {
            Fact::MissingEpisodeStarted {
                event,
                child,
                on,
                episode,
            } => {
                self.episodes.insert(*episode, *child);
                self.count(
                    &mut out,
                    |d| match d {
                        Detector::MissingEpisodes { count, within_days } => {
                            Some((*count, *within_days))
                        }
                        _ => None,
                    },
                    *child,
                    *on,
                    *event,
                )
            }
            Fact::PlacementStarted { event, child, on } => self.count(
                &mut out,
                |d| match d {
                    Detector::Placements { count, within_days } => Some((*count, *within_days)),
                    _ => None,
                },
                *child,
                *on,
                *event,
            ),
            Fact::WorkerAllocated { event, child, on } => self.count(
                &mut out,
                |d| match d {
                    Detector::Workers { count, within_days } => Some((*count, *within_days)),
                    _ => None,
                },
                *child,
                *on,
                *event,
            ),
            Fact::CaseClosed { child, on, .. } => {
                self.closed.insert(*child, *on);
            }
            Fact::ExploitationConcern { child, .. } => self.concern_about(&mut out, *child),
            Fact::AdultLinkedToChild {
                event,
                adult,
                child,
            } => {
                let list = self.adult_children.entry(*adult).or_default();
                if !list.iter().any(|(c, _)| c == child) {
                    list.push((*child, *event));
                    self.child_adults.entry(*child).or_default().push(*adult);
                    self.check_adult(&mut out, *adult);
                }
            }
            Fact::EpisodeReturned {
                event,
                episode,
                found_at,
                found_with_adult,
            } => {
                if let Some(child) = self.episodes.get(episode).copied() {
                    if let Some(adult) = found_with_adult {
                        out.extend(self.observe(&Fact::AdultLinkedToChild {
                            event: *event,
                            adult: *adult,
                            child,
                        }));
                    }
                    if let Some(place) = found_at {
                        out.extend(self.observe(&Fact::ChildAtPlaceOrThing {
                            event: *event,
                            child,
                            thing: *place,
                        }));
                    }
                }
            }
            Fact::ChildAtPlaceOrThing {
                event,
                child,
                thing,
            } => {
                let list = self.thing_children.entry(*thing).or_default();
                if !list.iter().any(|(c, _)| c == child) {
                    list.push((*child, *event));
                    self.check_thing(&mut out, *thing);
                }
            }
            Fact::ReferralReceived { event, child, on } => {
                self.concern_about(&mut out, *child);
                if let Some(closed) = self.closed.get(child).copied() {
                    for rule in &self.rules {
                        if let Detector::ReferralAfterClosure { within_days } = rule.detector {
                            let since = (*on - closed).num_days();
                            if (0..=within_days).contains(&since) {
                                out.push(Self::trigger(rule, *child, vec![*event]));
                            }
                        }
                    }
                }
            }
            Fact::OffenceRecorded {
                event,
                offence,
                victims,
                suspects,
            } => {
                for rule in &self.rules {
                    match rule.detector {
                        Detector::Under13Offence
                            if sexual_offence(*offence) && !under_13_offence(*offence) =>
                        {
                            for (v, age) in victims {
                                if age.is_some_and(|a| a < 13) {
                                    out.push(Self::trigger(rule, *v, vec![*event]));
                                }
                            }
                        }
                        Detector::ChildWithConcernAsSuspect => {
                            for s in suspects {
                                if self.concern.contains(s) {
                                    out.push(Self::trigger(rule, *s, vec![*event]));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}

/// The facts a link gives: an adult and a child linked other than as
/// family, or a child and a place or thing where they were seen, stayed,
/// were found or were contacted from.
fn link_facts(
    event: Uuid,
    on: NaiveDate,
    p: &vigil_model::payload::LinkRecorded,
    age_of: &dyn Fn(Uuid, NaiveDate) -> Option<u32>,
) -> Vec<Fact> {
    use vigil_model::codes::LinkKind as L;
    use vigil_model::EntityKind as E;
    let child = |id: Uuid| age_of(id, on).is_some_and(|a| a < 18);
    let adult = |id: Uuid| age_of(id, on).is_some_and(|a| a >= 18);
    let (from, to) = (p.from, p.to);
    match p.kind {
        L::AssociateOf | L::SuspectedOfExploiting | L::Contacted
            if from.kind == E::Person && to.kind == E::Person =>
        {
            let pair = if adult(from.id) && child(to.id) {
                Some((from.id, to.id))
            } else if adult(to.id) && child(from.id) {
                Some((to.id, from.id))
            } else {
                None
            };
            pair.map(|(a, c)| Fact::AdultLinkedToChild {
                event,
                adult: a,
                child: c,
            })
            .into_iter()
            .collect()
        }
        L::SeenAt | L::SeenIn | L::StaysAt | L::FoundAt | L::Contacted => {
            let place = |s: vigil_model::SubjectRef| matches!(s.kind, E::Object | E::Location);
            let pair = if from.kind == E::Person && child(from.id) && place(to) {
                Some((from.id, to.id))
            } else if to.kind == E::Person && child(to.id) && place(from) {
                Some((to.id, from.id))
            } else {
                None
            };
            pair.map(|(c, t)| Fact::ChildAtPlaceOrThing {
                event,
                child: c,
                thing: t,
            })
            .into_iter()
            .collect()
        }
        _ => Vec::new(),
    }
}

/// The facts one event gives the rules. `on` is the day the event says it
/// happened (its envelope's `occurred_at`), used where the payload has no
/// date of its own; `age_of(person, day)` is the person's age in whole
/// years on that day when their date of birth is known (the caller looks
/// it up: the rules see an age, never the person's record). Events that say
/// nothing to any rule give no facts.
pub fn facts_of(
    event: Uuid,
    on: NaiveDate,
    body: &vigil_model::EventPayload,
    age_of: &dyn Fn(Uuid, NaiveDate) -> Option<u32>,
) -> Vec<Fact> {
    use vigil_model::codes::RiskLevel;
    use vigil_model::EventPayload as P;
    match body {
        P::MissingEpisodeRecorded(p) => vec![Fact::MissingEpisodeStarted {
            event,
            child: p.child_id,
            on: p.started_at.as_utc().date_naive(),
            episode: p.episode_id,
        }],
        P::PlacementStarted(p) => vec![Fact::PlacementStarted {
            event,
            child: p.child_id,
            on: p.started_on.naive(),
        }],
        P::AllocationRecorded(p) => vec![Fact::WorkerAllocated {
            event,
            child: p.child_id,
            on: p.started_on.naive(),
        }],
        P::ReferralSubmitted(p) => {
            let mut out = vec![Fact::ReferralReceived {
                event,
                child: p.child_id,
                on,
            }];
            // Adults named in a referral about the child are linked to them.
            for other in &p.others_involved {
                if age_of(*other, on).is_some_and(|a| a >= 18) {
                    out.push(Fact::AdultLinkedToChild {
                        event,
                        adult: *other,
                        child: p.child_id,
                    });
                }
            }
            if let Some(place) = p.location_id {
                out.push(Fact::ChildAtPlaceOrThing {
                    event,
                    child: p.child_id,
                    thing: place,
                });
            }
            out
        }
        P::MissingEpisodeReturned(p) => {
            let back = p.returned_at.as_utc().date_naive();
            vec![Fact::EpisodeReturned {
                event,
                episode: p.episode_id,
                found_at: p.found_location_id,
                found_with_adult: p
                    .found_with_person_id
                    .filter(|w| age_of(*w, back).is_some_and(|a| a >= 18)),
            }]
        }
        P::LinkRecorded(p) => link_facts(event, on, p, age_of),
        P::ScreeningRecorded(p) if p.judged_risk != RiskLevel::Low => {
            vec![Fact::ExploitationConcern {
                event,
                child: p.child_id,
            }]
        }
        // A contextual case (on a place or a peer group) has no child.
        P::CaseClosed(p) => p
            .child_id
            .map(|child| Fact::CaseClosed { event, child, on })
            .into_iter()
            .collect(),
        P::OffenceRecorded(p) => {
            let committed = p
                .committed
                .value
                .get(..10)
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .unwrap_or(on);
            // A CSE-flagged offence is a concern about each child victim,
            // known before the offence itself is looked at.
            let mut out: Vec<Fact> = if p.cse_flag {
                p.victim_ids
                    .iter()
                    .map(|v| Fact::ExploitationConcern { event, child: *v })
                    .collect()
            } else {
                Vec::new()
            };
            out.push(Fact::OffenceRecorded {
                event,
                offence: p.offence,
                victims: p
                    .victim_ids
                    .iter()
                    .map(|v| (*v, age_of(*v, committed)))
                    .collect(),
                suspects: p.suspect_ids.clone(),
            });
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn the_default_rules_parse() {
        let f = RuleFile::defaults();
        assert!(f.rules.len() >= 6, "{f:?}");
        assert!(f.rules.iter().all(|r| r.line > 0));
    }

    #[test]
    fn a_bad_rule_file_is_refused_naming_the_line() {
        let cases = [
            ("[[rule]]\nid = \"a\"\ndetector = \"missing_episodes\"\nseverity = \"high\"\nsays = \"x\"\ncount = 0\nwithin_days = 30\n", 6, "count"),
            ("[[rule]]\nid = \"a\"\ndetector = \"missing_episode\"\nseverity = \"high\"\nsays = \"x\"\n", 3, "no detector"),
            ("[[rule]]\nid = \"a\"\ndetector = \"workers\"\nseverity = \"urgent\"\nsays = \"x\"\ncount = 3\nwithin_days = 365\n", 4, "severity"),
            ("[[rule]]\nid = \"a\"\ndetector = \"under_13_offence\"\nseverity = \"high\"\nsays = \"x\"\n\n[[rule]]\nid = \"a\"\ndetector = \"under_13_offence\"\nseverity = \"high\"\nsays = \"y\"\n", 8, "twice"),
            ("[[rule]]\nid = \"a\"\ndetector = \"placements\"\nseverity = \"high\"\nsays = \"x\"\ncount = 3\n", 1, "within_days"),
            ("[[rule]]\nid = \"a\"\ndetector = \"placements\"\nseverity = \"high\"\nsays = \"x\"\ncount = 3\nwithin_days = 3\ncolour = \"red\"\n", 8, "colour"),
            ("[[rule]]\nid = \"a\"\ndetector = \"placements\"\nseverity = high\n", 4, ""),
            ("[[rule]]\nid = \"Bad Id\"\ndetector = \"under_13_offence\"\nseverity = \"high\"\nsays = \"x\"\n", 2, "rule id"),
        ];
        for (text, line, words) in cases {
            let e = RuleFile::parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(words), "{e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
        }
    }

    #[test]
    fn repeated_missing_episodes_at_the_edges_of_the_window() {
        let f = RuleFile::parse("[[rule]]\nid = \"m\"\ndetector = \"missing_episodes\"\nseverity = \"high\"\nsays = \"x\"\ncount = 3\nwithin_days = 30\n").unwrap();
        let child = id(1);
        let mut e = Evaluator::new(&f);
        let fact = |n: u128, on: &str| Fact::MissingEpisodeStarted {
            event: id(100 + n),
            child,
            on: d(on),
            episode: id(200 + n),
        };
        assert!(e.observe(&fact(1, "2025-01-01")).is_empty());
        assert!(e.observe(&fact(2, "2025-01-15")).is_empty());
        // Day 30 after the first is outside a 30-day window (days 0..29).
        assert!(e.observe(&fact(3, "2025-01-31")).is_empty());
        let mut e = Evaluator::new(&f);
        e.observe(&fact(1, "2025-01-01"));
        e.observe(&fact(2, "2025-01-15"));
        let t = e.observe(&fact(3, "2025-01-30"));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].events, vec![id(101), id(102), id(103)]);
        // A fourth in the same run is the same alert, not a new one.
        assert!(e.observe(&fact(4, "2025-02-01")).is_empty());
        // Another child's episodes are theirs alone.
        assert!(e
            .observe(&Fact::MissingEpisodeStarted {
                event: id(9),
                child: id(2),
                on: d("2025-02-01"),
                episode: id(9),
            })
            .is_empty());
    }

    #[test]
    fn placements_and_workers_at_the_edges_of_twelve_months() {
        for detector in ["placements", "workers"] {
            let f = RuleFile::parse(&format!(
                "[[rule]]\nid = \"p\"\ndetector = \"{detector}\"\nseverity = \"medium\"\nsays = \"x\"\ncount = 3\nwithin_days = 365\n"
            ))
            .unwrap();
            let child = id(1);
            let fact = |n: u128, on: &str| match detector {
                "placements" => Fact::PlacementStarted {
                    event: id(100 + n),
                    child,
                    on: d(on),
                },
                _ => Fact::WorkerAllocated {
                    event: id(100 + n),
                    child,
                    on: d(on),
                },
            };
            // The third on day 365 after the first: outside (days 0..364).
            let mut e = Evaluator::new(&f);
            assert!(e.observe(&fact(1, "2025-01-01")).is_empty());
            assert!(e.observe(&fact(2, "2025-06-01")).is_empty());
            assert!(e.observe(&fact(3, "2026-01-01")).is_empty(), "{detector}");
            // On day 364: inside.
            let mut e = Evaluator::new(&f);
            e.observe(&fact(1, "2025-01-01"));
            e.observe(&fact(2, "2025-06-01"));
            let t = e.observe(&fact(3, "2025-12-31"));
            assert_eq!(t.len(), 1, "{detector}");
            assert_eq!(t[0].events, vec![id(101), id(102), id(103)]);
            // Two are not enough, whenever.
            let mut e = Evaluator::new(&f);
            e.observe(&fact(1, "2025-01-01"));
            assert!(e.observe(&fact(2, "2025-01-02")).is_empty());
        }
    }

    #[test]
    fn the_same_events_make_the_same_alert_id() {
        let f = RuleFile::defaults();
        let run = || {
            let mut e = Evaluator::new(&f);
            let mut ids = Vec::new();
            for (n, on) in ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]
                .iter()
                .enumerate()
            {
                for t in e.observe(&Fact::MissingEpisodeStarted {
                    event: id(n as u128),
                    child: id(7),
                    on: d(on),
                    episode: id(50 + n as u128),
                }) {
                    ids.push(t.alert_id());
                }
            }
            ids
        };
        let a = run();
        assert!(!a.is_empty());
        assert_eq!(a, run());
    }

    #[test]
    fn a_referral_after_a_recent_closure_and_offence_checks() {
        let f = RuleFile::defaults();
        let mut e = Evaluator::new(&f);
        let child = id(5);
        e.observe(&Fact::CaseClosed {
            event: id(1),
            child,
            on: d("2025-01-10"),
        });
        let t = e.observe(&Fact::ReferralReceived {
            event: id(2),
            child,
            on: d("2025-07-09"),
        });
        assert!(
            t.iter().any(|t| t.rule == "referral-after-closure"),
            "{t:?}"
        );
        let t = e.observe(&Fact::ReferralReceived {
            event: id(3),
            child,
            on: d("2025-07-20"),
        });
        assert!(
            !t.iter().any(|t| t.rule == "referral-after-closure"),
            "beyond six months"
        );

        let t = e.observe(&Fact::OffenceRecorded {
            event: id(4),
            offence: OffenceCode::Soa2003S9,
            victims: vec![(id(6), Some(12)), (id(8), Some(14))],
            suspects: vec![],
        });
        assert_eq!(
            t.iter()
                .filter(|t| t.rule == "under-13-offence")
                .map(|t| t.child)
                .collect::<Vec<_>>(),
            vec![id(6)]
        );
        let t = e.observe(&Fact::OffenceRecorded {
            event: id(9),
            offence: OffenceCode::Soa2003S5,
            victims: vec![(id(6), Some(12))],
            suspects: vec![],
        });
        assert!(t.is_empty(), "recorded as an under-13 offence");
        // The child referred above is later recorded as a suspect.
        let t = e.observe(&Fact::OffenceRecorded {
            event: id(10),
            offence: OffenceCode::Soa2003S9,
            victims: vec![],
            suspects: vec![child, id(11)],
        });
        assert_eq!(
            t.iter()
                .filter(|t| t.rule == "criminalisation-review")
                .map(|t| t.child)
                .collect::<Vec<_>>(),
            vec![child]
        );
    }

    #[test]
    fn an_adult_linked_to_two_children_with_concerns_and_a_shared_place() {
        let f = RuleFile::defaults();
        let mut e = Evaluator::new(&f);
        let (adult, a, b, car) = (id(1), id(2), id(3), id(4));
        let link = |ev: u128, child: Uuid| Fact::AdultLinkedToChild {
            event: id(ev),
            adult,
            child,
        };
        // Linked to two children, but only one has a concern: nothing yet.
        e.observe(&Fact::ExploitationConcern {
            event: id(10),
            child: a,
        });
        assert!(e.observe(&link(11, a)).is_empty());
        assert!(e.observe(&link(12, b)).is_empty());
        // The second child's concern is recorded later: both are alerted on.
        let t = e.observe(&Fact::ReferralReceived {
            event: id(13),
            child: b,
            on: d("2025-05-01"),
        });
        let mut who: Vec<Uuid> = t
            .iter()
            .filter(|t| t.rule == "adult-linked-to-children")
            .map(|t| t.child)
            .collect();
        who.sort();
        assert_eq!(who, vec![a, b]);
        // The same link again raises nothing new.
        assert!(e.observe(&link(14, a)).is_empty());
        // A car two missing children were found in.
        e.observe(&Fact::MissingEpisodeStarted {
            event: id(20),
            child: a,
            on: d("2025-06-01"),
            episode: id(21),
        });
        e.observe(&Fact::MissingEpisodeStarted {
            event: id(22),
            child: b,
            on: d("2025-06-02"),
            episode: id(23),
        });
        assert!(e
            .observe(&Fact::EpisodeReturned {
                event: id(24),
                episode: id(21),
                found_at: Some(car),
                found_with_adult: None
            })
            .is_empty());
        let t = e.observe(&Fact::EpisodeReturned {
            event: id(25),
            episode: id(23),
            found_at: Some(car),
            found_with_adult: None,
        });
        assert_eq!(
            t.iter()
                .filter(|t| t.rule == "shared-place-or-thing")
                .count(),
            2,
            "{t:?}"
        );
        // A count below 2 is refused: these rules count children.
        let bad = "[[rule]]\nid = \"x\"\ndetector = \"shared_place_or_thing\"\nseverity = \"high\"\nsays = \"x\"\ncount = 1\n";
        assert_eq!(RuleFile::parse(bad).unwrap_err().line, 6);
    }
}
