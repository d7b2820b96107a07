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
//! **Rules that make inaction visible.** Some rules are met by nothing
//! happening: no return home interview within 72 hours of a child's return,
//! an action on a case still open after its due date, a referral with no
//! decision by its working-day deadline. The evaluator keeps each such
//! deadline (computed by [`crate::deadlines::DeadlineRules`], the one
//! place deadlines are worked out, with the same timescales and calendar
//! the pages use) and the runner tells it the time with
//! [`Evaluator::tick`] once it has read the log to its end. A deadline
//! passed with nothing recorded is raised once and forgotten; one met in
//! time is forgotten; one met late (recorded at or after the deadline,
//! judged by when the record was first made) is raised when the record is
//! read, so a replay, or a server that was down when the deadline passed,
//! raises the same alert the clock would have. Either way the alert's
//! events are the one the deadline runs from (the return, the action
//! added, the referral), so its id is the same on every server and replay.
//! The rule file sets no timescale for these rules: they are the statutory
//! ones, configured once ([`crate::deadlines::Timescales`]).
//!
//! **Near a place linked to the child's exploitation.** A location records
//! a postcode (whole, sector or district) and no coordinates, so "near" is
//! judged on the postcode at the rule's `near` level ([`Nearness`]): the
//! same recorded location, the same whole postcode, the same sector or the
//! same district. The places linked to a child's exploitation are the
//! recorded locations they were seen at or in, stayed at, were found at
//! (a link, or a return from a missing episode) or that a referral about
//! them names. A placement at or near one raises an alert, whichever was
//! recorded first, while the placement is open.
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

use crate::deadlines::DeadlineRules;
use chrono::{DateTime, NaiveDate, Utc};
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
    /// A note or referral, in the writer's own words, that treats a child
    /// under 13 as able to consent ("she consented"): found by the
    /// language check (`crate::language`, the consent row of the
    /// guidance; quoting someone is not the writer's wording).
    Under13ConsentWording,
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
    /// A child back from a missing episode with no return home interview
    /// recorded by its deadline ([`DeadlineRules::return_interview_due`]:
    /// 72 clock hours from the return by default).
    ReturnInterviewOverdue,
    /// An action on a case still open after the end of its due date
    /// ([`DeadlineRules::case_action_due`], the rule the case pages use).
    CaseActionOverdue,
    /// A referral with no decision by its deadline
    /// ([`DeadlineRules::referral_decision_due_for`]: 1 working day from
    /// receipt, the same day for a child in immediate danger).
    ReferralDecisionOverdue,
    /// A placement at or `near` a place already linked to the child's
    /// exploitation, or such a place linked while the placement is open.
    #[allow(missing_docs)]
    PlacementNearExploitationPlace { near: Nearness },
}

/// How close two places must be for a placement to count as near a place
/// linked to the child's exploitation. A location records a postcode
/// (whole, sector or district) and no coordinates, so nearness is judged on
/// the postcode; each level includes those before it (the same place is
/// always near).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Nearness {
    /// The same recorded location only (`same_place`).
    SamePlace,
    /// Or the same whole postcode, `NS1 4AB` (`same_postcode`).
    SamePostcode,
    /// Or the same postcode sector, `NS1 4` (`same_sector`): a few
    /// thousand homes, a walk.
    SameSector,
    /// Or the same postcode district, `NS1` (`same_district`): a town's
    /// part, a bus ride.
    SameDistrict,
}

impl Nearness {
    const NAMES: [(&'static str, Nearness); 4] = [
        ("same_place", Nearness::SamePlace),
        ("same_postcode", Nearness::SamePostcode),
        ("same_sector", Nearness::SameSector),
        ("same_district", Nearness::SameDistrict),
    ];

    fn parse(s: &str) -> Option<Nearness> {
        Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }

    /// Whether two places are near at this level: the same location id,
    /// or postcodes that agree at this level. A postcode recorded only in
    /// part (a district) is near another only at a level it reaches: `NS1`
    /// is never "the same sector" as `NS1 4AB`, because it may not be.
    pub fn near(self, a: (Uuid, Option<&str>), b: (Uuid, Option<&str>)) -> bool {
        if a.0 == b.0 {
            return true;
        }
        let (Some(pa), Some(pb)) = (a.1, b.1) else {
            return false;
        };
        let key = |p: &str| -> Option<String> {
            let n = vigil_model::pole::normalise_postcode(p);
            let mut parts = n.split(' ');
            let outward = parts.next().filter(|o| !o.is_empty())?.to_owned();
            let inward = parts.next().unwrap_or("");
            match self {
                Nearness::SamePlace => None,
                Nearness::SamePostcode if inward.len() == 3 => Some(n.clone()),
                Nearness::SamePostcode => None,
                Nearness::SameSector => inward.get(..1).map(|d| format!("{outward} {d}")),
                Nearness::SameDistrict => Some(outward),
            }
        };
        matches!((key(pa), key(pb)), (Some(x), Some(y)) if x == y)
    }
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
    near: Option<toml::Spanned<String>>,
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
            if let Some(n) = &r.near {
                if r.detector.get_ref() != "placement_near_exploitation_place" {
                    return fail(
                        at(n.span()),
                        format!("the {} rule takes no `near`", r.detector.get_ref()),
                    );
                }
            }
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
                d @ ("under_13_offence"
                | "under_13_consent_wording"
                | "child_with_concern_as_suspect"
                | "return_interview_overdue"
                | "case_action_overdue"
                | "referral_decision_overdue") => {
                    // The deadline rules take their timescales from the one
                    // place deadlines are configured (vigil-rules
                    // `Timescales`), not from this file.
                    none(&r.count, "count")?;
                    none(&r.within_days, "within_days")?;
                    match d {
                        "under_13_offence" => Detector::Under13Offence,
                        "under_13_consent_wording" => Detector::Under13ConsentWording,
                        "child_with_concern_as_suspect" => Detector::ChildWithConcernAsSuspect,
                        "return_interview_overdue" => Detector::ReturnInterviewOverdue,
                        "case_action_overdue" => Detector::CaseActionOverdue,
                        _ => Detector::ReferralDecisionOverdue,
                    }
                }
                "placement_near_exploitation_place" => {
                    none(&r.count, "count")?;
                    none(&r.within_days, "within_days")?;
                    let Some(n) = &r.near else {
                        return fail(
                            line,
                            "the placement_near_exploitation_place rule needs `near` (same_place, same_postcode, same_sector or same_district)".into(),
                        );
                    };
                    let Some(near) = Nearness::parse(n.get_ref()) else {
                        return fail(
                            at(n.span()),
                            format!(
                                "`near` {:?} is not same_place, same_postcode, same_sector or same_district",
                                n.get_ref()
                            ),
                        );
                    };
                    Detector::PlacementNearExploitationPlace { near }
                }
                other => {
                    return fail(
                        at(r.detector.span()),
                        format!(
                            "there is no detector {other:?} (there are: missing_episodes, placements, workers, referral_after_closure, under_13_offence, child_with_concern_as_suspect, adult_linked_to_children, shared_place_or_thing, return_interview_overdue, case_action_overdue, referral_decision_overdue, placement_near_exploitation_place)"
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
    /// A text about `child`, under 13 on the day, whose own wording treats
    /// them as able to consent.
    ConsentWordingUnder13 {
        event: Uuid,
        child: Uuid,
    },
    MissingEpisodeStarted {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
        episode: Uuid,
    },
    /// A missing child found: when, where, and the adult they were with,
    /// if recorded (the child is the episode's).
    EpisodeReturned {
        event: Uuid,
        episode: Uuid,
        /// When the child came back: the return home interview runs from it.
        returned_at: DateTime<Utc>,
        found_at: Option<Uuid>,
        found_with_adult: Option<Uuid>,
    },
    /// A return home interview held (or declined by the child) recorded
    /// at `at`, as a `return_interview.recorded` or a meeting of that kind.
    ReturnInterviewDone {
        event: Uuid,
        episode: Uuid,
        at: DateTime<Utc>,
    },
    PlacementStarted {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
        placement: Uuid,
        /// Where the child is placed, when a recorded location.
        location: Option<Uuid>,
    },
    PlacementEnded {
        event: Uuid,
        placement: Uuid,
    },
    /// What the rules know of a recorded location: its postcode, whole or
    /// in part, if recorded. Given before the facts that name it.
    PlaceDescribed {
        place: Uuid,
        postcode: Option<String>,
    },
    /// A case about a child opened (a contextual case has no child, and
    /// gives no fact).
    CaseOpened {
        event: Uuid,
        case: Uuid,
        child: Uuid,
    },
    /// An action set on a case, due by the end of `due` (UK date).
    CaseActionAdded {
        event: Uuid,
        case: Uuid,
        action: Uuid,
        due: NaiveDate,
    },
    /// An action done or cancelled, recorded at `at`.
    CaseActionClosed {
        event: Uuid,
        action: Uuid,
        at: DateTime<Utc>,
    },
    /// A referral decided, recorded at `at`.
    ReferralDecided {
        event: Uuid,
        referral: Uuid,
        at: DateTime<Utc>,
    },
    WorkerAllocated {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
    },
    /// A referral received: its decision is due by the working-day rule
    /// from `received_at` (when first recorded anywhere).
    ReferralReceived {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
        referral: Uuid,
        received_at: DateTime<Utc>,
        immediate_danger: bool,
    },
    /// An exploitation concern about the child (a referral, a screening at
    /// medium or high risk, a CSE-flagged offence against them).
    ExploitationConcern {
        event: Uuid,
        child: Uuid,
    },
    CaseClosed {
        event: Uuid,
        child: Uuid,
        on: NaiveDate,
        case: Uuid,
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
    /// The deadlines the clock rules count from (the app's configured
    /// timescales and calendar).
    deadlines: DeadlineRules,
    /// Return home interviews due, by episode; dropped when done or raised.
    interviews_due: HashMap<Uuid, Pending>,
    /// Case actions open, by action, with their case; dropped when the
    /// action or its case is closed, or raised.
    actions_due: HashMap<Uuid, (Uuid, Pending)>,
    /// Referrals awaiting a decision, by referral; dropped when decided
    /// or raised.
    decisions_due: HashMap<Uuid, Pending>,
    /// Case -> its child (an action names only the case).
    cases: HashMap<Uuid, Uuid>,
    /// Recorded location -> its postcode (normalised), if any.
    places: HashMap<Uuid, Option<String>>,
    /// Child -> the recorded locations linked to their exploitation, with
    /// the linking event.
    child_places: HashMap<Uuid, Vec<(Uuid, Uuid)>>,
    /// Open placement -> (child, location, the placement's event).
    placements: HashMap<Uuid, (Uuid, Uuid, Uuid)>,
}

/// A deadline waiting: whose, the event it runs from (the alert's id is
/// derived from it) and the instant it passes.
#[derive(Clone, Copy, Debug)]
struct Pending {
    child: Uuid,
    event: Uuid,
    due_at: DateTime<Utc>,
}

#[derive(Default)]
struct Window {
    events: VecDeque<(NaiveDate, Uuid)>,
    met: bool,
}

impl Evaluator {
    /// An evaluator of these rules, having seen nothing yet, counting
    /// deadlines with the standard timescales and calendar.
    pub fn new(file: &RuleFile) -> Evaluator {
        Evaluator::with_deadlines(file, DeadlineRules::standard().clone())
    }

    /// An evaluator counting deadlines with these timescales and calendar
    /// (the ones the application's pages use, so a page and an alert never
    /// disagree about when something was due).
    pub fn with_deadlines(file: &RuleFile, deadlines: DeadlineRules) -> Evaluator {
        Evaluator {
            deadlines,
            interviews_due: HashMap::new(),
            actions_due: HashMap::new(),
            decisions_due: HashMap::new(),
            cases: HashMap::new(),
            places: HashMap::new(),
            child_places: HashMap::new(),
            placements: HashMap::new(),
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

    fn has(&self, is: IsDetector) -> bool {
        self.rules.iter().any(|r| is(&r.detector))
    }

    /// Raises every rule of one kind for a deadline missed: the alert's
    /// events are the one the deadline runs from, so whether the clock or
    /// a late record finds it missed, and on whichever server, it is the
    /// same alert.
    fn missed(rules: &[Rule], is: IsDetector, p: Pending, out: &mut Vec<Trigger>) {
        for rule in rules.iter().filter(|r| is(&r.detector)) {
            out.push(Self::trigger(rule, p.child, vec![p.event]));
        }
    }

    /// The work a deadline waited for was recorded at `at`: the deadline
    /// is dropped, and raised first if `at` is at or after it (the runner
    /// was not running when it passed, or the log is being replayed).
    fn settled(
        &mut self,
        out: &mut Vec<Trigger>,
        p: Option<Pending>,
        at: DateTime<Utc>,
        is: IsDetector,
    ) {
        if let Some(p) = p {
            if at >= p.due_at {
                Self::missed(&self.rules, is, p, out);
            }
        }
    }

    /// The clock: `now` has come. Raises the deadlines that passed at or
    /// before it with nothing recorded to meet them, and forgets them (each
    /// is raised once). The caller passes the time; call it only once the
    /// log has been read to its end, or work recorded later in the log
    /// would look undone.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Trigger> {
        let mut passed: Vec<(Pending, IsDetector)> = Vec::new();
        self.interviews_due.retain(|_, p| {
            let due = now >= p.due_at;
            if due {
                passed.push((*p, is_interview));
            }
            !due
        });
        self.actions_due.retain(|_, (_, p)| {
            let due = now >= p.due_at;
            if due {
                passed.push((*p, is_action));
            }
            !due
        });
        self.decisions_due.retain(|_, p| {
            let due = now >= p.due_at;
            if due {
                passed.push((*p, is_decision));
            }
            !due
        });
        // The same order on every server: by deadline, then event.
        passed.sort_by_key(|(p, _)| (p.due_at, p.event));
        let mut out = Vec::new();
        for (p, is) in passed {
            Self::missed(&self.rules, is, p, &mut out);
        }
        out
    }

    /// A placement and a place linked to the child's exploitation, near
    /// each other by a rule's measure: an alert per rule, placement and
    /// place, with the two events in log order.
    fn check_placement_near(
        &mut self,
        out: &mut Vec<Trigger>,
        child: Uuid,
        placement: Uuid,
        placed_at: Uuid,
        placement_event: Uuid,
        placement_first: bool,
    ) {
        let places = self.child_places.get(&child).cloned().unwrap_or_default();
        let postcode = |id: Uuid| self.places.get(&id).cloned().flatten();
        let home = postcode(placed_at);
        for (i, rule) in self.rules.iter().enumerate() {
            let Detector::PlacementNearExploitationPlace { near } = rule.detector else {
                continue;
            };
            for (place, link_event) in &places {
                let there = postcode(*place);
                if near.near((placed_at, home.as_deref()), (*place, there.as_deref()))
                    && self.alerted.insert((i, placement, *place))
                {
                    let events = if placement_first {
                        vec![placement_event, *link_event]
                    } else {
                        vec![*link_event, placement_event]
                    };
                    out.push(Self::trigger(rule, child, events));
                }
            }
        }
    }

    /// Takes one fact; returns the rules it makes met.
    pub fn observe(&mut self, fact: &Fact) -> Vec<Trigger> {
        let mut out = Vec::new();
        match fact {
            Fact::ReturnInterviewDone { episode, at, .. } => {
                let p = self.interviews_due.remove(episode);
                self.settled(&mut out, p, *at, is_interview);
            }
            Fact::PlacementEnded { placement, .. } => {
                self.placements.remove(placement);
            }
            Fact::PlaceDescribed { place, postcode } => {
                self.places.insert(*place, postcode.clone());
            }
            Fact::CaseOpened { case, child, .. } => {
                if self.has(is_action) {
                    self.cases.insert(*case, *child);
                }
            }
            Fact::CaseActionAdded {
                event,
                case,
                action,
                due,
            } => {
                if let Some(child) = self.cases.get(case).copied() {
                    let due_at = self.deadlines.case_action_due(*due).due_at;
                    self.actions_due.insert(
                        *action,
                        (
                            *case,
                            Pending {
                                child,
                                event: *event,
                                due_at,
                            },
                        ),
                    );
                }
            }
            Fact::CaseActionClosed { action, at, .. } => {
                let p = self.actions_due.remove(action).map(|(_, p)| p);
                self.settled(&mut out, p, *at, is_action);
            }
            Fact::ReferralDecided { referral, at, .. } => {
                let p = self.decisions_due.remove(referral);
                self.settled(&mut out, p, *at, is_decision);
            }
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
            Fact::PlacementStarted {
                event,
                child,
                on,
                placement,
                location,
            } => {
                self.count(
                    &mut out,
                    |d| match d {
                        Detector::Placements { count, within_days } => Some((*count, *within_days)),
                        _ => None,
                    },
                    *child,
                    *on,
                    *event,
                );
                if let Some(l) = location {
                    if self.has(is_near) {
                        self.placements.insert(*placement, (*child, *l, *event));
                        self.check_placement_near(&mut out, *child, *placement, *l, *event, false);
                    }
                }
            }
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
            Fact::CaseClosed {
                child, on, case, ..
            } => {
                self.closed.insert(*child, *on);
                // A closed case's actions are no one's to do any more.
                self.actions_due.retain(|_, (c, _)| c != case);
                self.cases.remove(case);
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
                returned_at,
                found_at,
                found_with_adult,
            } => {
                if let Some(child) = self.episodes.get(episode).copied() {
                    if self.has(is_interview) {
                        let due_at = self.deadlines.return_interview_due(*returned_at).due_at;
                        self.interviews_due.insert(
                            *episode,
                            Pending {
                                child,
                                event: *event,
                                due_at,
                            },
                        );
                    }
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
                // A recorded location: a place linked to the child's
                // exploitation, which an open placement may be near.
                if self.places.contains_key(thing) && self.has(is_near) {
                    let mine = self.child_places.entry(*child).or_default();
                    if !mine.iter().any(|(p, _)| p == thing) {
                        mine.push((*thing, *event));
                        let open: Vec<(Uuid, Uuid, Uuid)> = self
                            .placements
                            .iter()
                            .filter(|(_, (c, _, _))| c == child)
                            .map(|(p, (_, l, e))| (*p, *l, *e))
                            .collect();
                        for (placement, l, e) in open {
                            self.check_placement_near(&mut out, *child, placement, l, e, true);
                        }
                    }
                }
            }
            Fact::ReferralReceived {
                event,
                child,
                on,
                referral,
                received_at,
                immediate_danger,
            } => {
                self.concern_about(&mut out, *child);
                if self.has(is_decision) {
                    let due_at = self
                        .deadlines
                        .referral_decision_due_for(*received_at, *immediate_danger)
                        .due_at;
                    self.decisions_due.insert(
                        *referral,
                        Pending {
                            child: *child,
                            event: *event,
                            due_at,
                        },
                    );
                }
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
            Fact::ConsentWordingUnder13 { event, child } => {
                for rule in &self.rules {
                    if rule.detector == Detector::Under13ConsentWording {
                        out.push(Self::trigger(rule, *child, vec![*event]));
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

/// Which detector a deadline is for.
type IsDetector = fn(&Detector) -> bool;

fn is_interview(d: &Detector) -> bool {
    matches!(d, Detector::ReturnInterviewOverdue)
}

fn is_action(d: &Detector) -> bool {
    matches!(d, Detector::CaseActionOverdue)
}

fn is_decision(d: &Detector) -> bool {
    matches!(d, Detector::ReferralDecisionOverdue)
}

fn is_near(d: &Detector) -> bool {
    matches!(d, Detector::PlacementNearExploitationPlace { .. })
}

/// The facts a link gives: an adult and a child linked other than as
/// family, or a child and a place or thing where they were seen, stayed,
/// were found or were contacted from.
fn link_facts(
    event: Uuid,
    on: NaiveDate,
    p: &vigil_model::payload::LinkRecorded,
    age_of: &dyn Fn(Uuid, NaiveDate) -> Option<u32>,
    place_of: &dyn Fn(Uuid) -> Option<String>,
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
            let mut out = Vec::new();
            if let Some((c, t)) = pair {
                let location = if from.id == t { from.kind } else { to.kind } == E::Location;
                if location {
                    out.push(Fact::PlaceDescribed {
                        place: t,
                        postcode: place_of(t),
                    });
                }
                out.push(Fact::ChildAtPlaceOrThing {
                    event,
                    child: c,
                    thing: t,
                });
            }
            out
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
    let midnight = on.and_time(chrono::NaiveTime::MIN).and_utc();
    facts_of_event(event, on, midnight, body, age_of, &|_| None)
}

/// [`facts_of`] with what the clock rules need as well: `at`, when the
/// event was first recorded (by the source system for imported history,
/// otherwise by Vigil: what deadlines run from and what "done in time" is
/// judged by), and `place_of(location)`, a recorded location's postcode
/// when it has one (the caller looks it up: the rules see a postcode,
/// never the location's record).
pub fn facts_of_event(
    event: Uuid,
    on: NaiveDate,
    at: DateTime<Utc>,
    body: &vigil_model::EventPayload,
    age_of: &dyn Fn(Uuid, NaiveDate) -> Option<u32>,
    place_of: &dyn Fn(Uuid) -> Option<String>,
) -> Vec<Fact> {
    use vigil_model::codes::{MeetingKind, RiskLevel};
    use vigil_model::EventPayload as P;
    let described = |place: Uuid| Fact::PlaceDescribed {
        place,
        postcode: place_of(place),
    };
    match body {
        P::ReturnInterviewRecorded(p) => vec![Fact::ReturnInterviewDone {
            event,
            episode: p.episode_id,
            at,
        }],
        P::MeetingRecorded(p) if p.kind == MeetingKind::ReturnHomeInterview => p
            .missing_episode_id
            .map(|episode| Fact::ReturnInterviewDone { event, episode, at })
            .into_iter()
            .collect(),
        P::PlacementEnded(p) => vec![Fact::PlacementEnded {
            event,
            placement: p.placement_id,
        }],
        P::CaseOpened(p) => p
            .child_id
            .map(|child| Fact::CaseOpened {
                event,
                case: p.case_id,
                child,
            })
            .into_iter()
            .collect(),
        P::CaseActionAdded(p) => vec![Fact::CaseActionAdded {
            event,
            case: p.case_id,
            action: p.action_id,
            due: p.due.naive(),
        }],
        P::CaseActionClosed(p) => vec![Fact::CaseActionClosed {
            event,
            action: p.action_id,
            at,
        }],
        P::ReferralDecided(p) => vec![Fact::ReferralDecided {
            event,
            referral: p.referral_id,
            at,
        }],
        P::MissingEpisodeRecorded(p) => {
            let mut out = vec![Fact::MissingEpisodeStarted {
                event,
                child: p.child_id,
                on: p.started_at.as_utc().date_naive(),
                episode: p.episode_id,
            }];
            // Recorded once the child was back: the return is this event
            // (the interview runs from the end the episode records).
            if let Some(end) = &p.ended_at {
                out.push(Fact::EpisodeReturned {
                    event,
                    episode: p.episode_id,
                    returned_at: end.as_utc(),
                    found_at: None,
                    found_with_adult: None,
                });
            }
            out
        }
        P::PlacementStarted(p) => {
            let mut out: Vec<Fact> = p.location_id.map(described).into_iter().collect();
            out.push(Fact::PlacementStarted {
                event,
                child: p.child_id,
                on: p.started_on.naive(),
                placement: p.placement_id,
                location: p.location_id,
            });
            out
        }
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
                referral: p.referral_id,
                received_at: at,
                immediate_danger: p.immediate_danger,
            }];
            out.extend(consent_wording(
                event,
                on,
                &p.concern,
                &[p.child_id],
                age_of,
            ));
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
                out.push(described(place));
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
            let mut out: Vec<Fact> = p.found_location_id.map(described).into_iter().collect();
            out.push(Fact::EpisodeReturned {
                event,
                episode: p.episode_id,
                returned_at: p.returned_at.as_utc(),
                found_at: p.found_location_id,
                found_with_adult: p
                    .found_with_person_id
                    .filter(|w| age_of(*w, back).is_some_and(|a| a >= 18)),
            });
            out
        }
        P::LinkRecorded(p) => link_facts(event, on, p, age_of, place_of),
        P::ScreeningRecorded(p) if p.judged_risk != RiskLevel::Low => {
            vec![Fact::ExploitationConcern {
                event,
                child: p.child_id,
            }]
        }
        // A contextual case (on a place or a peer group) has no child.
        P::CaseClosed(p) => p
            .child_id
            .map(|child| Fact::CaseClosed {
                event,
                child,
                on,
                case: p.case_id,
            })
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
        P::NoteRecorded(n) => {
            let children: Vec<Uuid> = n
                .subjects
                .iter()
                .filter(|r| r.kind == vigil_model::EntityKind::Person)
                .map(|r| r.id)
                .collect();
            consent_wording(event, on, &n.text, &children, age_of)
        }
        _ => Vec::new(),
    }
}

/// [`Fact::ConsentWordingUnder13`] for each child under 13 on `on` that
/// `text` is about and whose wording (not a quotation) treats as able to
/// consent. Only an age goes into the check, never who the child is.
fn consent_wording(
    event: Uuid,
    on: NaiveDate,
    text: &str,
    children: &[Uuid],
    age_of: &dyn Fn(Uuid, NaiveDate) -> Option<u32>,
) -> Vec<Fact> {
    children
        .iter()
        .filter_map(|c| Some((*c, age_of(*c, on)?)))
        .filter(|(_, age)| *age < 13)
        .filter(|(_, age)| {
            crate::language::check(text, &crate::language::LanguageContext { age: Some(*age) })
                .iter()
                .any(|f| f.guidance == crate::language::Guidance::Consent)
        })
        .map(|(child, _)| Fact::ConsentWordingUnder13 { event, child })
        .collect()
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

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
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
                    placement: id(300 + n),
                    location: None,
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
    fn a_note_that_treats_a_child_under_13_as_consenting_raises_an_alert() {
        let f = RuleFile::defaults();
        let child = id(7);
        // Twelve on the day (born 1 July 2012), thirteen from 1 July 2025.
        let age_of = |p: Uuid, on: NaiveDate| {
            (p == child)
                .then(|| on.years_since(d("2012-07-01")))
                .flatten()
        };
        let note = |n: u128, text: &str| {
            let body =
                vigil_model::EventPayload::NoteRecorded(vigil_model::payload::NoteRecorded {
                    subjects: vec![vigil_model::SubjectRef::new(
                        vigil_model::EntityKind::Person,
                        child,
                    )],
                    text: text.into(),
                });
            facts_of(id(n), d("2025-06-30"), &body, &age_of)
        };
        let mut e = Evaluator::new(&f);
        let raised = |e: &mut Evaluator, facts: Vec<Fact>| -> Vec<String> {
            facts
                .iter()
                .flat_map(|x| e.observe(x))
                .map(|t| t.rule)
                .collect()
        };
        let own = note(1, "She consented to sex with him at the flat.");
        assert_eq!(
            raised(&mut e, own),
            vec!["under-13-consent-wording".to_owned()]
        );
        // Quoting someone is not the writer's wording; plain words are fine.
        let quoted = note(2, "He told police \"she consented to sex\".");
        assert!(raised(&mut e, quoted).is_empty());
        let plain = note(
            3,
            "She went with him to the flat; she was sexually abused there.",
        );
        assert!(raised(&mut e, plain).is_empty());
        // The day she is 13 this rule no longer applies (the language check
        // still flags the words on the form).
        let thirteen =
            vigil_model::EventPayload::NoteRecorded(vigil_model::payload::NoteRecorded {
                subjects: vec![vigil_model::SubjectRef::new(
                    vigil_model::EntityKind::Person,
                    child,
                )],
                text: "She consented to sex with him at the flat.".into(),
            });
        let facts = facts_of(id(4), d("2025-07-01"), &thirteen, &age_of);
        assert!(raised(&mut e, facts).is_empty());
        // No recorded date of birth: no age, no alert.
        let unknown = |_: Uuid, _: NaiveDate| None;
        let facts = facts_of(id(5), d("2025-06-30"), &thirteen, &unknown);
        assert!(facts.is_empty());
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
            case: id(99),
        });
        let t = e.observe(&Fact::ReferralReceived {
            event: id(2),
            child,
            on: d("2025-07-09"),
            referral: id(500 + 2),
            received_at: d("2025-07-09").and_hms_opt(10, 0, 0).unwrap().and_utc(),
            immediate_danger: false,
        });
        assert!(
            t.iter().any(|t| t.rule == "referral-after-closure"),
            "{t:?}"
        );
        let t = e.observe(&Fact::ReferralReceived {
            event: id(3),
            child,
            on: d("2025-07-20"),
            referral: id(500 + 3),
            received_at: d("2025-07-20").and_hms_opt(10, 0, 0).unwrap().and_utc(),
            immediate_danger: false,
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
            referral: id(500 + 13),
            received_at: d("2025-05-01").and_hms_opt(10, 0, 0).unwrap().and_utc(),
            immediate_danger: false,
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
                returned_at: at("2025-06-02T10:00:00Z"),
                found_at: Some(car),
                found_with_adult: None
            })
            .is_empty());
        let t = e.observe(&Fact::EpisodeReturned {
            event: id(25),
            episode: id(23),
            returned_at: at("2025-06-03T10:00:00Z"),
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

    /// A rule file of the one rule, with its TOML after the `says` line.
    fn one_rule(detector: &str, extra: &str) -> RuleFile {
        RuleFile::parse(&format!(
            "[[rule]]\nid = \"r\"\ndetector = \"{detector}\"\nseverity = \"high\"\nsays = \"x\"\n{extra}"
        ))
        .unwrap()
    }

    fn minutes(n: i64) -> chrono::TimeDelta {
        chrono::TimeDelta::minutes(n)
    }

    /// An evaluator that has seen one child go missing and come back at
    /// `back` (the return is event 11).
    fn returned(f: &RuleFile, back: DateTime<Utc>) -> Evaluator {
        let mut e = Evaluator::new(f);
        e.observe(&Fact::MissingEpisodeStarted {
            event: id(10),
            child: id(1),
            on: back.date_naive(),
            episode: id(2),
        });
        e.observe(&Fact::EpisodeReturned {
            event: id(11),
            episode: id(2),
            returned_at: back,
            found_at: None,
            found_with_adult: None,
        });
        e
    }

    #[test]
    fn a_return_interview_overdue_at_the_edges_of_72_hours() {
        let f = one_rule("return_interview_overdue", "");
        // Back on a Friday evening: due by Monday evening, the weekend
        // counts (clock hours).
        let back = at("2025-03-07T18:00:00Z");
        let due = back + chrono::TimeDelta::hours(72);
        assert_eq!(due, at("2025-03-10T18:00:00Z"));
        // 72 hours less a minute: not yet.
        let mut e = returned(&f, back);
        assert!(e.tick(due - minutes(1)).is_empty());
        // Exactly 72 hours: the deadline has passed (it is exclusive).
        let t = e.tick(due);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].rule.as_str(), t[0].child), ("r", id(1)));
        assert_eq!(t[0].events, vec![id(11)], "the return event");
        // Raised once: later ticks and a late interview raise nothing more.
        assert!(e.tick(due + minutes(60)).is_empty());
        assert!(e
            .observe(&Fact::ReturnInterviewDone {
                event: id(12),
                episode: id(2),
                at: due + minutes(90),
            })
            .is_empty());
        // 72 hours and a minute, first seen then: raised, the same alert.
        let mut again = returned(&f, back);
        let u = again.tick(due + minutes(1));
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].alert_id(), t[0].alert_id());
    }

    #[test]
    fn a_return_interview_recorded_in_time_raises_nothing_and_is_forgotten() {
        let f = one_rule("return_interview_overdue", "");
        let back = at("2025-03-07T18:00:00Z");
        let due = back + chrono::TimeDelta::hours(72);
        let mut e = returned(&f, back);
        assert!(e
            .observe(&Fact::ReturnInterviewDone {
                event: id(12),
                episode: id(2),
                at: due - minutes(1),
            })
            .is_empty());
        assert!(e.interviews_due.is_empty(), "a deadline met is dropped");
        assert!(e.tick(due + chrono::TimeDelta::days(30)).is_empty());
        // Recorded a minute late, with no tick in between (the runner was
        // stopped, or this is a replay): raised from the record itself,
        // with the id the clock would have given.
        let mut late = returned(&f, back);
        let t = late.observe(&Fact::ReturnInterviewDone {
            event: id(12),
            episode: id(2),
            at: due,
        });
        assert_eq!(t.len(), 1);
        let mut clocked = returned(&f, back);
        assert_eq!(clocked.tick(due)[0].alert_id(), t[0].alert_id());
    }

    /// A case about child 1 with one action due by the end of `due`.
    fn with_action(f: &RuleFile, due: &str) -> Evaluator {
        let mut e = Evaluator::new(f);
        e.observe(&Fact::CaseOpened {
            event: id(20),
            case: id(3),
            child: id(1),
        });
        e.observe(&Fact::CaseActionAdded {
            event: id(21),
            case: id(3),
            action: id(4),
            due: d(due),
        });
        e
    }

    #[test]
    fn a_case_action_overdue_across_a_weekend_and_a_bank_holiday() {
        let f = one_rule("case_action_overdue", "");
        // Due on Thursday 17 April 2025, the day before Good Friday: the
        // date set with the action is the date, so the bank holiday and
        // the weekend after it do not move it. Overdue from UK midnight
        // (British Summer Time: 23:00 UTC).
        let end = at("2025-04-17T23:00:00Z");
        assert_eq!(
            end,
            DeadlineRules::standard()
                .case_action_due(d("2025-04-17"))
                .due_at,
            "the rule the case pages use"
        );
        let mut e = with_action(&f, "2025-04-17");
        assert!(e.tick(end - minutes(1)).is_empty());
        let t = e.tick(end);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].child, t[0].events.clone()), (id(1), vec![id(21)]));
        assert!(e.tick(end + minutes(1)).is_empty(), "once");
        // Due on a Saturday in winter (GMT): overdue from Sunday 00:00 UTC,
        // though neither day is a working day.
        let mut e = with_action(&f, "2025-12-20");
        assert!(e.tick(at("2025-12-20T23:59:00Z")).is_empty());
        assert_eq!(e.tick(at("2025-12-21T00:00:00Z")).len(), 1);
        // Due on Christmas Day, closed on it: in time, nothing, forgotten.
        let mut e = with_action(&f, "2025-12-25");
        assert!(e
            .observe(&Fact::CaseActionClosed {
                event: id(22),
                action: id(4),
                at: at("2025-12-25T23:59:00Z"),
            })
            .is_empty());
        assert!(e.actions_due.is_empty());
        assert!(e.tick(at("2026-01-10T00:00:00Z")).is_empty());
        // Closed a minute late: raised from the record, as the clock would.
        let mut e = with_action(&f, "2025-12-25");
        let late = e.observe(&Fact::CaseActionClosed {
            event: id(22),
            action: id(4),
            at: at("2025-12-26T00:00:00Z"),
        });
        let mut clocked = with_action(&f, "2025-12-25");
        assert_eq!(
            late.iter().map(Trigger::alert_id).collect::<Vec<_>>(),
            clocked
                .tick(at("2025-12-27T00:00:00Z"))
                .iter()
                .map(Trigger::alert_id)
                .collect::<Vec<_>>()
        );
        // The case closed: its open actions are no one's any more.
        let mut e = with_action(&f, "2025-12-25");
        e.observe(&Fact::CaseClosed {
            event: id(23),
            child: id(1),
            on: d("2025-12-24"),
            case: id(3),
        });
        assert!(e.tick(at("2026-01-10T00:00:00Z")).is_empty());
    }

    fn referred(f: &RuleFile, received: DateTime<Utc>, immediate_danger: bool) -> Evaluator {
        let mut e = Evaluator::new(f);
        e.observe(&Fact::ReferralReceived {
            event: id(30),
            child: id(1),
            on: received.date_naive(),
            referral: id(5),
            received_at: received,
            immediate_danger,
        });
        e
    }

    #[test]
    fn a_referral_decision_overdue_after_its_working_day() {
        let f = one_rule("referral_decision_overdue", "");
        // Received the Thursday before Easter 2025 at 4 pm: due by the end
        // of Tuesday 22 April (Good Friday, the weekend and Easter Monday
        // are not working days), UK midnight being 23:00 UTC.
        let received = at("2025-04-17T15:00:00Z");
        let end = at("2025-04-22T23:00:00Z");
        let mut e = referred(&f, received, false);
        assert!(
            e.tick(at("2025-04-21T23:30:00Z")).is_empty(),
            "Easter Monday"
        );
        assert!(e.tick(end - minutes(1)).is_empty());
        let t = e.tick(end);
        assert_eq!((t.len(), t[0].events.clone()), (1, vec![id(30)]));
        assert!(e.tick(end + minutes(1)).is_empty(), "once");
        // A child in immediate danger, referred on a Saturday: by the end
        // of that day.
        let mut e = referred(&f, at("2025-04-19T10:00:00Z"), true);
        assert!(e.tick(at("2025-04-19T22:59:00Z")).is_empty());
        assert_eq!(e.tick(at("2025-04-19T23:00:00Z")).len(), 1);
        // Decided in time: nothing, and forgotten.
        let mut e = referred(&f, received, false);
        assert!(e
            .observe(&Fact::ReferralDecided {
                event: id(31),
                referral: id(5),
                at: end - minutes(1),
            })
            .is_empty());
        assert!(e.decisions_due.is_empty());
        assert!(e.tick(end + chrono::TimeDelta::days(9)).is_empty());
    }

    #[test]
    fn nearness_is_judged_on_the_postcode_at_the_rule_s_level() {
        let (a, b) = (id(1), id(2));
        let n = |level: Nearness, x: Option<&str>, y: Option<&str>| level.near((a, x), (b, y));
        assert!(Nearness::SamePlace.near((a, None), (a, None)));
        assert!(!n(Nearness::SamePlace, Some("NS1 4AB"), Some("NS1 4AB")));
        assert!(n(Nearness::SamePostcode, Some("ns14ab"), Some("NS1 4AB")));
        assert!(!n(Nearness::SamePostcode, Some("NS1 4AB"), Some("NS1 4AD")));
        assert!(n(Nearness::SameSector, Some("NS1 4AB"), Some("NS1 4ZZ")));
        assert!(!n(Nearness::SameSector, Some("NS1 4AB"), Some("NS1 5AB")));
        assert!(n(Nearness::SameSector, Some("NS1 4"), Some("NS1 4ZZ")));
        // A district alone may be anywhere in it.
        assert!(!n(Nearness::SameSector, Some("NS1"), Some("NS1 4AB")));
        assert!(n(Nearness::SameDistrict, Some("NS1"), Some("NS1 4AB")));
        assert!(!n(Nearness::SameDistrict, Some("NS1"), Some("NS11 4AB")));
        assert!(!n(Nearness::SameDistrict, None, Some("NS1 4AB")));
    }

    #[test]
    fn a_placement_near_a_place_linked_to_the_child_either_way_round() {
        let f = one_rule(
            "placement_near_exploitation_place",
            "near = \"same_sector\"\n",
        );
        let (child, flat, home, far) = (id(1), id(40), id(41), id(42));
        let place = |e: &mut Evaluator, p: Uuid, pc: &str| {
            e.observe(&Fact::PlaceDescribed {
                place: p,
                postcode: Some(pc.into()),
            })
        };
        let seen_at = |e: &mut Evaluator, ev: u128, p: Uuid| {
            e.observe(&Fact::ChildAtPlaceOrThing {
                event: id(ev),
                child,
                thing: p,
            })
        };
        let placed = |e: &mut Evaluator, ev: u128, at: Uuid| {
            e.observe(&Fact::PlacementStarted {
                event: id(ev),
                child,
                on: d("2025-05-01"),
                placement: id(ev + 1000),
                location: Some(at),
            })
        };
        let setup = |e: &mut Evaluator| {
            place(e, flat, "NS1 4AB");
            place(e, home, "NS1 4ZZ");
            place(e, far, "NS2 7QQ");
        };
        // Seen at a flat, then placed in the same sector.
        let mut e = Evaluator::new(&f);
        setup(&mut e);
        assert!(seen_at(&mut e, 50, flat).is_empty());
        assert!(placed(&mut e, 51, far).is_empty(), "another district");
        let t = placed(&mut e, 52, home);
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].child, t[0].events.clone()),
            (child, vec![id(50), id(52)])
        );
        // Placed first, the flat linked while the placement is open.
        let mut e = Evaluator::new(&f);
        setup(&mut e);
        assert!(placed(&mut e, 52, home).is_empty());
        let t = seen_at(&mut e, 50, flat);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].events, vec![id(52), id(50)]);
        assert!(seen_at(&mut e, 53, flat).is_empty(), "once per place");
        // Linked after the placement ended: nothing.
        let mut e = Evaluator::new(&f);
        setup(&mut e);
        placed(&mut e, 52, home);
        e.observe(&Fact::PlacementEnded {
            event: id(54),
            placement: id(1052),
        });
        assert!(seen_at(&mut e, 50, flat).is_empty());
        // At the same postcode only: the sector is not near enough.
        let strict = one_rule(
            "placement_near_exploitation_place",
            "near = \"same_postcode\"\n",
        );
        let mut e = Evaluator::new(&strict);
        setup(&mut e);
        seen_at(&mut e, 50, flat);
        assert!(placed(&mut e, 52, home).is_empty());
        // The very place, whatever its postcode: a car is not a place.
        assert_eq!(placed(&mut e, 55, flat).len(), 1);
        let mut e = Evaluator::new(&strict);
        e.observe(&Fact::ChildAtPlaceOrThing {
            event: id(56),
            child,
            thing: id(60),
        });
        assert!(
            placed(&mut e, 57, id(60)).is_empty(),
            "not a recorded location"
        );
        // Replayed: the same alert.
        let run = || {
            let mut e = Evaluator::new(&f);
            setup(&mut e);
            seen_at(&mut e, 50, flat);
            placed(&mut e, 52, home)[0].alert_id()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn the_clock_rules_are_checked_naming_the_line() {
        let cases = [
            ("[[rule]]\nid = \"a\"\ndetector = \"return_interview_overdue\"\nseverity = \"high\"\nsays = \"x\"\nwithin_days = 3\n", 6, "takes no `within_days`"),
            ("[[rule]]\nid = \"a\"\ndetector = \"case_action_overdue\"\nseverity = \"high\"\nsays = \"x\"\ncount = 3\n", 6, "takes no `count`"),
            ("[[rule]]\nid = \"a\"\ndetector = \"placement_near_exploitation_place\"\nseverity = \"high\"\nsays = \"x\"\n", 1, "needs `near`"),
            ("[[rule]]\nid = \"a\"\ndetector = \"placement_near_exploitation_place\"\nseverity = \"high\"\nsays = \"x\"\nnear = \"next_door\"\n", 6, "same_sector"),
            ("[[rule]]\nid = \"a\"\ndetector = \"referral_decision_overdue\"\nseverity = \"high\"\nsays = \"x\"\nnear = \"same_place\"\n", 6, "takes no `near`"),
        ];
        for (text, line, words) in cases {
            let e = RuleFile::parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(words), "{e}");
        }
        let f = RuleFile::defaults();
        for id in [
            "return-interview-overdue",
            "case-action-overdue",
            "referral-decision-overdue",
            "placement-near-exploitation-place",
        ] {
            assert!(f.rules.iter().any(|r| r.id == id), "{id}");
        }
    }

    #[test]
    fn the_facts_of_the_clock_rules_events() {
        use vigil_model::payload as p;
        let when = at("2025-03-10T09:30:00Z");
        let none = |_: Uuid, _: NaiveDate| None;
        let facts = facts_of_event(
            id(1),
            d("2025-03-10"),
            when,
            &vigil_model::EventPayload::CaseActionClosed(p::CaseActionClosed {
                case_id: id(2),
                action_id: id(3),
                status: vigil_model::codes::ActionStatus::Done,
                note: "Done".into(),
            }),
            &none,
            &|_| None,
        );
        assert_eq!(
            facts,
            vec![Fact::CaseActionClosed {
                event: id(1),
                action: id(3),
                at: when,
            }]
        );
    }

    #[test]
    fn an_episode_recorded_with_its_end_is_a_return_the_interview_runs_from() {
        use vigil_model::payload as p;
        let start = at("2025-05-20T22:00:00Z");
        let end = at("2025-05-21T04:00:00Z");
        let body = vigil_model::EventPayload::MissingEpisodeRecorded(p::MissingEpisodeRecorded {
            episode_id: id(2),
            child_id: id(1),
            missing_type: vigil_model::codes::MissingType::Missing,
            started_at: vigil_model::dates::Timestamp::from_utc(start),
            ended_at: Some(vigil_model::dates::Timestamp::from_utc(end)),
            reported_by: None,
            circumstances: None,
            placement_id: None,
        });
        let none = |_: Uuid, _: NaiveDate| None;
        let facts = facts_of_event(id(9), d("2025-05-21"), end, &body, &none, &|_| None);
        let f = one_rule("return_interview_overdue", "");
        let mut e = Evaluator::new(&f);
        for fact in &facts {
            assert!(e.observe(fact).is_empty());
        }
        let due = end + chrono::TimeDelta::hours(72);
        assert!(e.tick(due - minutes(1)).is_empty());
        let t = e.tick(due);
        assert_eq!((t.len(), t[0].events.clone()), (1, vec![id(9)]));
    }
}
