//! A child's whole record, their multi-agency chronology, and search.
//!
//! A child of [`crate::guard`], so these queries use its one access check,
//! its one access-log write and its one rule for showing people:
//!
//! - [`search`]: people by any recorded name (typos, transliterations,
//!   nicknames), date of birth (full, year, day and month swapped),
//!   referral reference or postcode, through the name index; only records
//!   the user may open are searched, and each result says why it matched;
//! - [`child_record`]: everything about one person the user may see: every
//!   recorded name, the agencies that hold records, referrals, places,
//!   missing episodes, placements and allocated workers, the CSE
//!   screenings and how the assessed risk changed, and one page of
//!   the chronology generated from the events (never typed), with the
//!   timeline of the whole chronology.
//!
//! What the page shows of the *whole* chronology (the timeline, the period
//! lists and their counts, the filter's counts) is a [`Summary`], kept in a
//! bounded cache ([`SUMMARY_ENTRIES`], [`SUMMARY_BYTES`]) under a key that
//! says everything it depends on: the person, the log index of their last
//! chronology row (one indexed lookup per page: any new event about them,
//! or about a record of theirs, raises it), the reader's visibility (so two
//! users who may see different items never share one) and the day (the
//! twelve-month counts, the timeline's right edge); it also keeps the first
//! page of items, which is what opening the record shows. The access check,
//! the referrals, links, places, the head (all in one store read,
//! `Store::person_page`), any other page of items asked for and the
//! access-log row are read and written for every request.
//!
//! Who sees which chronology items: a user sees the items of records they
//! may open. The access table's scope for opening a person's record
//! decides it: an auditor, the front door and analysts (scope *any*) see
//! every item; a practitioner or a supervisor outside the front door
//! (scope *own agency*) sees the items of records their agency made.
//! Referrals follow their own rule (the referral list on the page).

use super::{authorised, check, embed, may, person_resource, referral_resource, PersonLink};
use crate::access::{self, Action, Scope};
use crate::readmodel::{PersonView, ReferralView};
use crate::{App, AppError, Caller};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use uuid::Uuid;
use vigil_model::index::ChronologyRow;
use vigil_model::names::{self, KeyKind, NameQuery};
use vigil_model::time::{OccurredAt, Precision};
use vigil_model::{EntityKind, SubjectRef};
use vigil_store::index::{ChronologyQuery, Visibility};

/// Most results a search shows.
pub const SEARCH_LIMIT: usize = 20;

/// Chronology items per page.
pub const PAGE_ITEMS: u64 = 50;

/// Most periods of each kind (missing episodes, placements, workers)
/// listed on the page, the most recent first; the chronology has them all.
pub const LIST_PERIODS: usize = 20;

/// Most missing episodes of the last twelve months read for the pattern of
/// where a child was found and who with (a child missing 48 times in 84
/// days is well inside it).
pub const MAX_PATTERN_EPISODES: usize = 400;

/// Most [`Summary`] values kept, and their most bytes (as estimated by
/// [`Summary::bytes`]), per process.
pub const SUMMARY_ENTRIES: usize = 1_000;
pub const SUMMARY_BYTES: usize = 64 << 20;

/// The longest search text read (anything longer is cut, not refused).
pub const MAX_QUERY_CHARS: usize = 200;

// ---------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------

/// What a search found.
pub struct Search {
    /// The text searched for, as read (trimmed, cut to [`MAX_QUERY_CHARS`]).
    pub query: String,
    /// How the text was read: one phrase per part ("name jade", "born in 2010").
    pub understood: Vec<String>,
    /// Best first; each person's `reasons` say why they matched.
    pub results: Vec<PersonLink>,
    /// Whether the user's role searches only some records (so the page says
    /// others may exist).
    pub limited: bool,
}

/// The agencies whose records this user may open (`None`: every agency),
/// from the one filter of the access table ([`super::person_scope`]).
fn visible_agencies(who: &Caller) -> Result<Option<Vec<String>>, AppError> {
    Ok(match chronology_visibility(who)? {
        Visibility::All => None,
        Visibility::Agencies(a) => Some(a),
        Visibility::Submitter { .. } => Some(Vec::new()),
    })
}

/// Whose chronology rows this user may see: the records they may open.
fn chronology_visibility(who: &Caller) -> Result<Visibility, AppError> {
    if access::scope_of(who.user.role, who.user.agency_kind, Action::ViewPerson).is_none() {
        return Err(AppError::Forbidden(
            "Your role cannot open people's records, so it cannot search them.".into(),
        ));
    }
    Ok(super::person_scope(who, Action::ViewPerson))
}

fn key_words(kind: KeyKind, key: &str) -> String {
    match kind {
        KeyKind::Name => format!("name “{key}”"),
        KeyKind::Nickname => format!("a name that is short for “{key}”"),
        KeyKind::Phonetic => "a name that sounds the same".into(),
        KeyKind::Skeleton => "a name spelt another way".into(),
        KeyKind::Dob => format!("date of birth {key}"),
        KeyKind::DobSwapped => format!("date of birth {key} with day and month swapped"),
        KeyKind::DobYear => format!("born in {key}"),
        KeyKind::DobDayMonth => format!("birthday {key}"),
        KeyKind::Postcode => format!("postcode {key}"),
        KeyKind::PostcodeOutward => format!("postcode area {key}"),
        KeyKind::Reference => format!("referral {key}"),
    }
}

/// How the query was read, for the page ("Searched for: …").
fn understood(q: &NameQuery) -> Vec<String> {
    q.groups
        .iter()
        .filter_map(|g| g.keys.first().map(|k| key_words(k.kind, &k.key)))
        .collect()
}

pub async fn search(
    app: &Arc<App>,
    who: &Caller,
    text: &str,
) -> Result<super::Authorised<Search>, AppError> {
    let query: String = text.trim().chars().take(MAX_QUERY_CHARS).collect();
    let who = who.clone();
    app.blocking(move |st| {
        let visible = visible_agencies(&who)?;
        let parsed = names::parse_query(&query);
        let mut results = Vec::new();
        if !parsed.is_empty() {
            let hits = st
                .store
                .find_people(&parsed, visible.as_deref(), SEARCH_LIMIT)?;
            let ids: Vec<Uuid> = hits.iter().map(|h| h.person_id).collect();
            let people: HashMap<Uuid, PersonView> = st
                .store
                .entities(&ids)?
                .iter()
                .filter_map(|r| PersonView::from_record(r).ok())
                .map(|p| (p.id, p))
                .collect();
            for h in &hits {
                let Some(p) = people.get(&h.person_id) else {
                    continue;
                };
                // The index filtered by agency; the access table decides.
                if !may(&who, Action::ViewPerson, person_resource(p)) {
                    continue;
                }
                let mut reasons: Vec<String> = h
                    .matched
                    .iter()
                    .map(|k| key_words(k.kind, &k.key))
                    .collect();
                reasons.dedup();
                if let Some(link) = embed(st, &who, p, None) {
                    results.push(PersonLink {
                        reasons: reasons.join("; "),
                        ..link
                    });
                }
            }
        }
        let subjects = super::shown_people(&results);
        let words = format!(
            "searched for people: “{}”",
            query.chars().take(100).collect::<String>()
        );
        authorised(
            st,
            &who,
            &words,
            subjects,
            Search {
                understood: understood(&parsed),
                query,
                results,
                limited: visible.is_some(),
            },
        )
    })
    .await
}

// ---------------------------------------------------------------------------
// The child's record
// ---------------------------------------------------------------------------

/// Which part of the chronology to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChronologyFilter {
    /// Only items recorded by these agencies (codes); empty: all.
    pub agencies: Vec<String>,
    /// Only these kinds of event; empty: all.
    pub kinds: Vec<String>,
    /// 1-based.
    pub page: u64,
}

/// One line of the chronology.
#[derive(Clone, Debug)]
pub struct ChronologyItem {
    pub occurred_at: OccurredAt,
    /// When Vigil (or, for imported history, the source system) recorded it.
    pub recorded_at: DateTime<Utc>,
    pub kind: String,
    /// The agency's name.
    pub agency: String,
    pub agency_code: String,
    pub actor: String,
    /// The record it belongs to.
    pub record_id: Uuid,
    pub record_kind: String,
    /// The person's part in it (child, other person involved, victim, ...).
    pub role: String,
    /// A short account of what the record says, where there is one.
    pub detail: String,
    /// Where to read the record in full, if this user may.
    pub href: Option<String>,
    pub log_index: u64,
}

/// A period or event on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEntry {
    pub lane: TimelineLane,
    pub from: NaiveDate,
    /// `None`: still open.
    pub to: Option<NaiveDate>,
    pub period: bool,
    pub imprecise: bool,
    pub label: String,
}

/// The timeline's lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimelineLane {
    Referrals,
    Missing,
    Placements,
    Workers,
    Police,
    Other,
}

/// A missing episode, a placement or an allocation, as the record lists it.
#[derive(Clone, Debug)]
pub struct Period {
    pub id: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// What it was (episode kind, placement type, the worker).
    pub what: String,
    /// Where (found at, the placement's place).
    pub detail: String,
    /// A missing episode's return and its interview (`None` for others).
    pub episode: Option<EpisodeFacts>,
}

/// What a missing episode's record says of the return and the return
/// home interview.
#[derive(Clone, Debug, Default)]
pub struct EpisodeFacts {
    /// Where the child was found: the words given, else the recorded
    /// place's name.
    pub found_at: Option<String>,
    pub found_by: Option<String>,
    /// Who with: the words given (or "a recorded person").
    pub found_with: Option<String>,
    /// The place recorded, to name it once read.
    found_location: Option<Uuid>,
    /// Who is to do the interview (agency name, worker).
    pub assigned: Option<(String, Option<String>)>,
    /// Held, or declined by the child (which counts as offered).
    pub interview_done: bool,
    /// The latest interview recorded: outcome words, when, by whom, what
    /// the child said.
    pub interview: Option<(String, DateTime<Utc>, String, Option<String>)>,
}

impl Period {
    /// Where this missing episode's return home interview stands at `now`
    /// (72 clock hours from the return, escalated by the app's policy);
    /// `None` for a placement or an allocation.
    pub fn interview_status(
        &self,
        app: &App,
        now: DateTime<Utc>,
    ) -> Option<vigil_rules::missing::InterviewStatus> {
        let e = self.episode.as_ref()?;
        Some(vigil_rules::missing::interview_status(
            &app.rules,
            &app.policy,
            self.to,
            e.interview_done,
            now,
        ))
    }
}

impl ChildRecord {
    /// The child's placement and worker stability over the twelve months to
    /// the summary's day: what the child's page shows and what the case page
    /// calls (through the record it has opened, so the same access check).
    pub fn stability_of(&self) -> Stability {
        self.summary.stability()
    }
}

/// How many placements and allocated workers a child had in the twelve
/// months ending on a day (each one that overlaps the window), as
/// [`vigil_rules::stability`] counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stability {
    pub placements: usize,
    pub workers: usize,
}

impl Stability {
    /// "3 placements and 2 workers in the last 12 months".
    pub fn sentence(&self) -> String {
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        format!(
            "{} and {} in the last 12 months",
            n(self.placements, "placement", "placements"),
            n(self.workers, "worker", "workers")
        )
    }
}

/// A person's whole record, as far as this user may see it.
pub struct ChildRecord {
    pub person: PersonView,
    pub link: PersonLink,
    /// Agencies holding records about the person that this user may see,
    /// with how many chronology items each (names, most first).
    pub agencies: Vec<(String, u64)>,
    /// The referrals about them this user may see (and whether they may
    /// open each in full).
    pub referrals: Vec<(Arc<ReferralView>, bool)>,
    pub referrals_limited: bool,
    pub places: Vec<(String, String, Uuid)>,
    /// What the page shows of the whole chronology (shared with other
    /// readers of the same scope, the same day, while nothing changes).
    pub summary: Arc<Summary>,
    /// The page of the chronology asked for.
    pub items: Vec<ChronologyItem>,
    /// Items matching the filter, all pages.
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    /// Filter choices: (code, name, count).
    pub agency_choices: Vec<(String, String, u64)>,
    pub kind_choices: Vec<(String, u64)>,
    pub filter: ChronologyFilter,
    /// Whether the user sees only some agencies' items.
    pub limited: bool,
    /// Other records of the same person that this user may open; their
    /// chronologies are merged into this one ([`super::links`]).
    pub linked: Vec<super::links::LinkedRecord>,
    /// Whether this user may record a screening on this record.
    pub can_screen: bool,
    /// Whether this user may record missing episodes and return home
    /// interviews on this record.
    pub can_record_missing: bool,
    /// The child's cases this user may open (newest first), and how many
    /// others there are.
    pub cases: Vec<super::cases::CaseLine>,
    pub cases_hidden: usize,
    /// Whether this user may open a case for the child (led by their agency).
    pub can_open_case: bool,
    /// The open alerts on this record and its linked records that the
    /// user may see, most urgent first.
    pub alerts: Vec<super::alert_work::AlertLine>,
}

/// What a child's page shows of their whole visible chronology: made from
/// every chronology row a scope may see and the period records it lists,
/// and kept (see the module documentation) while it is current.
#[derive(Debug)]
pub struct Summary {
    /// The day it was made for: the timeline ends here, and the twelve
    /// months are counted back from it.
    pub day: NaiveDate,
    /// The whole chronology as a timeline (not only this page).
    pub timeline: Vec<TimelineEntry>,
    /// The most recent [`LIST_PERIODS`] of each, and how many there are.
    pub missing: Vec<Period>,
    pub placements: Vec<Period>,
    pub workers: Vec<Period>,
    pub missing_total: usize,
    pub placements_total: usize,
    pub workers_total: usize,
    /// Placements and workers that overlap the last twelve months.
    pub placements_12m: usize,
    pub workers_12m: usize,
    /// Missing episodes begun in each of the last twelve months.
    pub missing_months: Vec<vigil_rules::missing::MonthCount>,
    /// Where the child was found and who with, over the episodes of the
    /// last twelve months, most often first.
    pub found_at: Vec<(String, usize)>,
    pub found_with: Vec<(String, usize)>,
    /// The screenings this scope may see, in the order they were done
    /// (then recorded): the last is the latest, and the list is the history
    /// of how the assessed risk changed.
    pub screenings: Vec<super::screening::Screened>,
    /// Visible rows by agency code and by kind, sorted.
    pub agency_counts: Vec<(String, u64)>,
    pub kind_counts: Vec<(String, u64)>,
    /// Visible rows by (agency code, kind): how many items any filter
    /// matches, without counting them again.
    pair_counts: Vec<(String, String, u64)>,
    /// The period records read, for the chronology's detail column.
    periods: HashMap<Uuid, Period>,
    /// The first [`PAGE_ITEMS`] visible rows: the page shown when the
    /// record is opened (no filter, page 1), which is then not read again.
    first_page: Vec<ChronologyRow>,
    /// A front end's drawing of the timeline (the web's SVG), made at most
    /// once per summary by whoever shows it first.
    pub drawn: OnceLock<Arc<str>>,
}

impl Summary {
    /// Placements and workers overlapping the twelve months to the
    /// summary's day: what the child's page and the case page show.
    pub fn stability(&self) -> Stability {
        Stability {
            placements: self.placements_12m,
            workers: self.workers_12m,
        }
    }

    /// Visible items the filter matches (as the store's filter: an agency
    /// among `agencies` and a kind among `kinds`, an empty list any).
    pub fn matching(&self, f: &ChronologyFilter) -> u64 {
        let among = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        self.pair_counts
            .iter()
            .filter(|(a, k, _)| among(&f.agencies, a) && among(&f.kinds, k))
            .map(|(_, _, n)| n)
            .sum()
    }

    /// About how many bytes it holds, with room for a drawing of about
    /// 200 bytes a mark: what the cache counts.
    pub fn bytes(&self) -> usize {
        let period = |p: &Period| 96 + p.what.len() + p.detail.len();
        let periods: usize = self.periods.values().map(period).sum::<usize>()
            + self
                .missing
                .iter()
                .chain(&self.placements)
                .chain(&self.workers)
                .map(period)
                .sum::<usize>();
        let counts: usize = self
            .agency_counts
            .iter()
            .chain(&self.kind_counts)
            .map(|(k, _)| 40 + k.len())
            .sum::<usize>()
            + self
                .pair_counts
                .iter()
                .map(|(a, k, _)| 64 + a.len() + k.len())
                .sum::<usize>();
        let marks: usize = self.timeline.iter().map(|e| 64 + 200 + e.label.len()).sum();
        let rows: usize = self.first_page.iter().map(row_bytes).sum();
        let screenings: usize = self.screenings.iter().map(|s| s.bytes()).sum();
        1024 + periods + counts + marks + rows + screenings + 4096
    }
}

/// About how many bytes a chronology row holds.
fn row_bytes(r: &ChronologyRow) -> usize {
    let strings = [
        &r.kind,
        &r.agency,
        &r.actor,
        &r.occurred_at.value,
        &r.recorded_at,
        &r.record_kind,
        &r.record_agency,
        &r.record_user,
    ];
    std::mem::size_of::<ChronologyRow>() + strings.iter().map(|t| t.len()).sum::<usize>()
}

/// What a [`Summary`] depends on: it is kept under this and found only by
/// an equal key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SummaryKey {
    pub person: Uuid,
    /// The other records linked to this one (sorted): their rows are in
    /// the summary too.
    pub linked: Vec<Uuid>,
    /// The log index of the last chronology row of any of them (any agency's).
    pub head: Option<u64>,
    /// Which rows the reader may see.
    pub visibility: Visibility,
    pub day: NaiveDate,
}

/// An event kind in words, for the chronology and its filter.
pub fn kind_words(kind: &str) -> String {
    let words = match kind {
        "person.recorded" => "Person recorded",
        "person.amended" => "Person's details changed",
        "link.recorded" => "Link recorded",
        "link.ended" => "Link ended",
        "referral.submitted" => "Referral received",
        "referral.decided" => "Referral decided",
        "referral.escalated" => "Referral escalated (not decided in time)",
        "assessment.completed" => "Assessment completed",
        "missing_episode.recorded" => "Missing",
        "missing_episode.returned" => "Returned from missing",
        "placement.started" => "Placement started",
        "placement.ended" => "Placement ended",
        "allocation.recorded" => "Worker allocated",
        "allocation.ended" => "Worker allocation ended",
        "intelligence.recorded" => "Intelligence",
        "offence.recorded" => "Offence recorded",
        "offence.outcome_recorded" => "Offence outcome",
        "meeting.recorded" => "Meeting",
        "case.opened" => "Case opened",
        "case.level_changed" => "Case stepped up or down",
        "case.closed" => "Case closed",
        "case.allocated" => "Case worker allocated",
        "case.agency_added" => "Agency joined the case",
        "case.agency_removed" => "Agency left the case",
        "case.risk_changed" => "Case risk assessed",
        "case.action_added" => "Case action set",
        "case.action_closed" => "Case action done or cancelled",
        "note.recorded" => "Note",
        "screening.recorded" => "Screening for exploitation",
        "case.closure_requested" => "Closing the case asked for",
        "case.closure_declined" => "Closing the case declined",
        "case.child_linked" => "Linked to a case on a place or group",
        "case.child_unlinked" => "Taken off a case on a place or group",
        "alert.raised" => "Alert raised",
        "alert.acknowledged" => "Alert acknowledged",
        "alert.resolved" => "Alert resolved",
        other => return other.replace(['.', '_'], " "),
    };
    words.to_owned()
}

fn lane_of(kind: &str) -> TimelineLane {
    match kind.split('.').next().unwrap_or("") {
        "referral" | "assessment" => TimelineLane::Referrals,
        "missing_episode" => TimelineLane::Missing,
        "placement" => TimelineLane::Placements,
        "allocation" => TimelineLane::Workers,
        "offence" | "intelligence" => TimelineLane::Police,
        _ => TimelineLane::Other,
    }
}

/// The days an occurred-at covers: (first, last, imprecise).
/// A month-only date covers its month, a year-only date its year; an
/// approximate date is drawn over a fortnight either side.
fn days_of(o: &OccurredAt) -> Option<(NaiveDate, NaiveDate, bool)> {
    let first = o.earliest_day().ok()?;
    Some(match o.precision {
        Precision::Exact | Precision::Day => (first, first, false),
        Precision::Month => {
            let next = first.checked_add_months(chrono::Months::new(1))?;
            (first, next.pred_opt()?, true)
        }
        Precision::Year => {
            let next = first.checked_add_months(chrono::Months::new(12))?;
            (first, next.pred_opt()?, true)
        }
        Precision::Approximate => (
            first - chrono::Duration::days(14),
            first + chrono::Duration::days(14),
            true,
        ),
    })
}

/// A date as the midnight it starts with.
fn midnight(d: &vigil_model::dates::Date) -> Option<DateTime<Utc>> {
    d.naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// What a period's record says, from its typed state.
fn period_of(rec: &vigil_model::projection::EntityRecord) -> Option<Period> {
    use vigil_model::state::{AllocationState, MissingEpisodeState, PlacementState};
    let mut episode = None;
    let (from, to, what, detail) = if let Some(m) = rec.as_kind::<MissingEpisodeState>() {
        let latest = m.interviews_recorded.last();
        episode = Some(EpisodeFacts {
            found_at: m.found_place.clone(),
            found_by: m.found_by.clone(),
            found_with: m.found_with.clone().or_else(|| {
                m.found_with_person_id
                    .map(|_| "A recorded person".to_owned())
            }),
            found_location: m.found_location_id,
            assigned: m
                .interview_assigned
                .as_ref()
                .map(|a| (a.agency.as_str().to_owned(), a.worker.clone())),
            // Older logs: a meeting of kind return home interview.
            interview_done: !m.interviews_recorded.is_empty() || !m.return_interviews.is_empty(),
            interview: latest.map(|i| {
                (
                    i.outcome.label().to_owned(),
                    i.held_at.as_utc(),
                    i.by_whom.clone(),
                    i.child_said.clone(),
                )
            }),
        });
        (
            Some(m.started_at.as_utc()),
            m.ended_at.as_ref().map(|t| t.as_utc()),
            m.missing_type.label().to_owned(),
            m.circumstances.clone().unwrap_or_default(),
        )
    } else if let Some(p) = rec.as_kind::<PlacementState>() {
        (
            midnight(&p.started_on),
            p.ended_on.as_ref().and_then(midnight),
            format!("Placement {}", p.placement_type.code()),
            p.reason.clone().unwrap_or_default(),
        )
    } else if let Some(a) = rec.as_kind::<AllocationState>() {
        (
            midnight(&a.started_on),
            a.ended_on.as_ref().and_then(midnight),
            a.worker.clone(),
            a.team.clone(),
        )
    } else {
        return None;
    };
    Some(Period {
        id: rec.id,
        from,
        to,
        what,
        detail,
        episode,
    })
}

/// Every chronology row of a person this user may see, in order, page by
/// page (a child with thousands of items is read in a few queries).
pub(in crate::guard) fn whole_chronology(
    st: &App,
    person: Uuid,
    visibility: &Visibility,
) -> Result<Vec<ChronologyRow>, AppError> {
    let mut all = Vec::new();
    loop {
        let page = st.store.chronology(
            person,
            &ChronologyQuery {
                visibility: visibility.clone(),
                offset: all.len() as u64,
                limit: vigil_store::index::MAX_PAGE,
                counts: false,
                ..ChronologyQuery::default()
            },
        )?;
        let n = page.rows.len() as u64;
        all.extend(page.rows);
        if n < vigil_store::index::MAX_PAGE {
            return Ok(all);
        }
    }
}

/// A period as the chronology gives it: its start and end events.
struct Span<'a> {
    kind: EntityKind,
    start: Option<&'a ChronologyRow>,
    end: Option<&'a ChronologyRow>,
}

fn start_kind(kind: &str) -> Option<EntityKind> {
    match kind {
        "missing_episode.recorded" => Some(EntityKind::MissingEpisode),
        "placement.started" => Some(EntityKind::Placement),
        "allocation.recorded" => Some(EntityKind::Allocation),
        _ => None,
    }
}

fn end_kind(kind: &str) -> bool {
    matches!(
        kind,
        "missing_episode.returned" | "placement.ended" | "allocation.ended"
    )
}

/// The periods of a chronology, by record, from their start and end rows.
fn spans(rows: &[ChronologyRow]) -> BTreeMap<Uuid, Span<'_>> {
    let mut out: BTreeMap<Uuid, Span<'_>> = BTreeMap::new();
    for r in rows {
        if let Some(kind) = start_kind(&r.kind) {
            out.entry(r.record_id)
                .or_insert(Span {
                    kind,
                    start: None,
                    end: None,
                })
                .start = Some(r);
        } else if end_kind(&r.kind) {
            if let Some(kind) = EntityKind::parse(&r.record_kind) {
                out.entry(r.record_id)
                    .or_insert(Span {
                        kind,
                        start: None,
                        end: None,
                    })
                    .end = Some(r);
            }
        }
    }
    out
}

fn first_day(r: &ChronologyRow) -> Option<NaiveDate> {
    days_of(&r.occurred_at).map(|(d, _, _)| d)
}

/// The timeline from the whole chronology: periods from their records where
/// they were read, else from their start and end events; single events as
/// marks.
fn timeline(
    rows: &[ChronologyRow],
    spans: &BTreeMap<Uuid, Span<'_>>,
    periods: &HashMap<Uuid, Period>,
) -> Vec<TimelineEntry> {
    let local = vigil_rules::london::local_date;
    let mut out = Vec::new();
    for (id, sp) in spans {
        let lane = match sp.kind {
            EntityKind::MissingEpisode => TimelineLane::Missing,
            EntityKind::Placement => TimelineLane::Placements,
            _ => TimelineLane::Workers,
        };
        let (from, to, what) = match periods.get(id) {
            Some(p) => (
                p.from.map(local).or_else(|| sp.start.and_then(first_day)),
                p.to.map(local),
                p.what.clone(),
            ),
            None => (
                sp.start.and_then(first_day),
                sp.end.and_then(first_day),
                kind_words(sp.start.map(|r| r.kind.as_str()).unwrap_or("")),
            ),
        };
        let Some(from) = from else { continue };
        out.push(TimelineEntry {
            lane,
            from,
            to,
            period: true,
            imprecise: false,
            label: format!(
                "{what}: {}{}",
                crate::display::date(from),
                to.map(|t| format!(" to {}", crate::display::date(t)))
                    .unwrap_or_else(|| " (not ended)".into())
            ),
        });
    }
    for r in rows {
        if start_kind(&r.kind).is_some()
            || end_kind(&r.kind)
            || r.kind == "person.recorded"
            || r.kind == "person.amended"
        {
            continue;
        }
        let Some((from, to, imprecise)) = days_of(&r.occurred_at) else {
            continue;
        };
        out.push(TimelineEntry {
            lane: lane_of(&r.kind),
            from,
            to: Some(to),
            period: false,
            imprecise,
            label: format!(
                "{}: {}",
                kind_words(&r.kind),
                crate::display::occurred(&r.occurred_at)
            ),
        });
    }
    out
}

/// Where a record is read in full, if there is a page for it and this user may.
fn href_of(kind: &str, id: Uuid, referrals: &HashMap<Uuid, bool>) -> Option<String> {
    match kind {
        "referral" => referrals
            .get(&id)
            .copied()
            .unwrap_or(false)
            .then(|| format!("/referrals/{id}")),
        _ => None,
    }
}

/// The summary of a person's whole chronology as `visibility` sees it, on
/// `day`: read from the store (every visible row, and the period records
/// listed or still open).
fn summarise(
    st: &App,
    id: Uuid,
    linked: &[Uuid],
    visibility: &Visibility,
    day: NaiveDate,
) -> Result<Summary, AppError> {
    let rows = if linked.is_empty() {
        whole_chronology(st, id, visibility)?
    } else {
        let ids: Vec<Uuid> = std::iter::once(id).chain(linked.iter().copied()).collect();
        super::links::merged_chronology(st, &ids, visibility)?
    };
    let spans = spans(&rows);
    // The records read: the most recent of each kind (for the lists)
    // and any without an end event (a return may be on the record).
    let mut wanted: Vec<Uuid> = Vec::new();
    for kind in [
        EntityKind::MissingEpisode,
        EntityKind::Placement,
        EntityKind::Allocation,
    ] {
        let mut of_kind: Vec<(&Uuid, &Span<'_>)> =
            spans.iter().filter(|(_, sp)| sp.kind == kind).collect();
        of_kind.sort_by_key(|(_, sp)| {
            std::cmp::Reverse(sp.start.map(|r| (r.occurred_sort, r.log_index)))
        });
        wanted.extend(of_kind.iter().take(LIST_PERIODS).map(|(id, _)| **id));
        wanted.extend(
            of_kind
                .iter()
                .filter(|(_, sp)| sp.end.is_none())
                .map(|(id, _)| **id),
        );
    }
    // Every missing episode of the last twelve months (the pattern of
    // where found and who with), at most MAX_PATTERN_EPISODES.
    let year_ago = day - chrono::Duration::days(365);
    let mut recent_episodes: Vec<Uuid> = spans
        .iter()
        .filter(|(_, sp)| sp.kind == EntityKind::MissingEpisode)
        .filter(|(_, sp)| sp.start.and_then(first_day).is_some_and(|d| d >= year_ago))
        .map(|(id, _)| *id)
        .collect();
    recent_episodes.truncate(MAX_PATTERN_EPISODES);
    wanted.extend(recent_episodes.iter().copied());
    // Every screening (the history of the child's risk is the list).
    let screened: HashMap<Uuid, u64> = rows
        .iter()
        .filter(|r| r.kind == super::screening::KIND)
        .map(|r| (r.record_id, r.log_index))
        .collect();
    wanted.extend(screened.keys().copied());
    wanted.sort();
    wanted.dedup();
    let mut periods = HashMap::new();
    let mut screenings = Vec::new();
    for r in st.store.entities(&wanted)? {
        if let Some(p) = period_of(&r) {
            periods.insert(r.id, p);
        } else if let (Some(s), Some(idx)) = (
            r.as_kind::<vigil_model::state::ScreeningState>(),
            screened.get(&r.id),
        ) {
            let name = super::agency_name(st, s.recorded.agency.as_str());
            screenings.extend(super::screening::Screened::of(r.id, s, *idx, name));
        }
    }
    screenings.sort_by_key(|s| (s.day, s.log_index));
    // Name the places children were found at, where only a place is recorded.
    let mut places: Vec<Uuid> = periods
        .values()
        .filter_map(|p| p.episode.as_ref())
        .filter(|e| e.found_at.is_none())
        .filter_map(|e| e.found_location)
        .collect();
    places.sort();
    places.dedup();
    if !places.is_empty() {
        let mut names: HashMap<Uuid, String> = HashMap::new();
        for r in st.store.entities(&places)? {
            if let Some(l) = r.as_kind::<vigil_model::state::LocationState>() {
                if let Some(n) = &l.details.name {
                    names.insert(r.id, n.clone());
                }
            }
        }
        for p in periods.values_mut() {
            if let Some(e) = p.episode.as_mut() {
                if e.found_at.is_none() {
                    e.found_at = e.found_location.and_then(|l| names.get(&l).cloned());
                }
            }
        }
    }
    for p in periods.values_mut() {
        if let Some((agency, _)) = p.episode.as_mut().and_then(|e| e.assigned.as_mut()) {
            *agency = super::agency_name(st, agency);
        }
    }
    let recent_facts: Vec<&EpisodeFacts> = recent_episodes
        .iter()
        .filter_map(|id| periods.get(id))
        .filter_map(|p| p.episode.as_ref())
        .collect();
    let found_at =
        vigil_rules::missing::pattern(recent_facts.iter().filter_map(|e| e.found_at.as_deref()));
    let found_with =
        vigil_rules::missing::pattern(recent_facts.iter().filter_map(|e| e.found_with.as_deref()));
    let starts: Vec<DateTime<Utc>> = spans
        .iter()
        .filter(|(_, sp)| sp.kind == EntityKind::MissingEpisode)
        .filter_map(|(id, sp)| {
            periods.get(id).and_then(|p| p.from).or_else(|| {
                sp.start
                    .and_then(first_day)
                    .and_then(|d| d.and_hms_opt(12, 0, 0))
                    .map(|t| t.and_utc())
            })
        })
        .collect();
    let missing_months = vigil_rules::missing::episodes_per_month(&starts, day);
    let listed = |kind: EntityKind| -> Vec<Period> {
        let mut v: Vec<Period> = spans
            .iter()
            .filter(|(_, sp)| sp.kind == kind)
            .filter_map(|(id, _)| periods.get(id).cloned())
            .collect();
        v.sort_by_key(|p| std::cmp::Reverse(p.from));
        v.truncate(LIST_PERIODS);
        v
    };
    let total = |kind: EntityKind| spans.values().filter(|sp| sp.kind == kind).count();
    // Placements and workers that overlap the last twelve months.
    let recent = |kind: EntityKind| {
        let spans: Vec<vigil_rules::stability::Span> = spans
            .values()
            .filter(|sp| sp.kind == kind)
            .filter_map(|sp| {
                Some(vigil_rules::stability::Span {
                    from: sp.start.and_then(first_day)?,
                    to: match sp.end {
                        Some(e) => Some(first_day(e)?),
                        None => None,
                    },
                })
            })
            .collect();
        vigil_rules::stability::in_last_twelve_months(&spans, day)
    };
    // The filter's counts, as the store would count them (sorted by code).
    let mut by_agency: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_pair: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for r in &rows {
        *by_agency.entry(&r.agency).or_default() += 1;
        *by_kind.entry(&r.kind).or_default() += 1;
        *by_pair.entry((&r.agency, &r.kind)).or_default() += 1;
    }
    let counts = |m: BTreeMap<&str, u64>| -> Vec<(String, u64)> {
        m.into_iter().map(|(k, n)| (k.to_owned(), n)).collect()
    };
    Ok(Summary {
        day,
        timeline: timeline(&rows, &spans, &periods),
        missing: listed(EntityKind::MissingEpisode),
        placements: listed(EntityKind::Placement),
        workers: listed(EntityKind::Allocation),
        missing_total: total(EntityKind::MissingEpisode),
        placements_total: total(EntityKind::Placement),
        workers_total: total(EntityKind::Allocation),
        placements_12m: recent(EntityKind::Placement),
        workers_12m: recent(EntityKind::Allocation),
        missing_months,
        found_at,
        found_with,
        screenings,
        agency_counts: counts(by_agency),
        kind_counts: counts(by_kind),
        pair_counts: by_pair
            .into_iter()
            .map(|((a, k), n)| (a.to_owned(), k.to_owned(), n))
            .collect(),
        drawn: OnceLock::new(),
        periods,
        first_page: rows.iter().take(PAGE_ITEMS as usize).cloned().collect(),
    })
}

/// One chronology row as a page lists it: its words, the agency's name, the
/// period or screening it belongs to, and a link where this user may read
/// the record in full (`openable`: referrals and whether they may open each).
fn item_of(
    st: &App,
    summary: &Summary,
    r: &ChronologyRow,
    openable: &HashMap<Uuid, bool>,
) -> ChronologyItem {
    ChronologyItem {
        occurred_at: r.occurred_at.clone(),
        recorded_at: DateTime::parse_from_rfc3339(&r.recorded_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
        kind: r.kind.clone(),
        agency: super::agency_name(st, &r.agency),
        agency_code: r.agency.clone(),
        actor: r.actor.clone(),
        record_id: r.record_id,
        record_kind: r.record_kind.clone(),
        role: r.role.as_str().replace('_', " "),
        detail: summary
            .periods
            .get(&r.record_id)
            .map(|p| {
                if p.detail.is_empty() {
                    p.what.clone()
                } else {
                    format!("{}: {}", p.what, p.detail)
                }
            })
            .or_else(|| {
                summary
                    .screenings
                    .iter()
                    .find(|s| s.id == r.record_id)
                    .map(|s| s.summary())
            })
            .unwrap_or_default(),
        href: href_of(&r.record_kind, r.record_id, openable),
        log_index: r.log_index,
    }
}

/// What a case page shows of the child's chronology: the summary of the
/// child's own record as the case's agencies see it (the items recorded by
/// the lead and involved agencies, with whatever the reader's own scope
/// already shows), its first page of items and how many there are; and the
/// summary every agency's records make, from which closing is judged (a
/// police missing episode counts for a council closure). Both come from
/// the summary cache. Not authorised here: the case's loader checks
/// involvement and writes the access log for the rows shown.
pub(crate) fn case_chronology(
    st: &App,
    who: &Caller,
    child: Uuid,
    agencies: &[String],
) -> Result<CaseChronology, AppError> {
    let visibility = match super::person_scope(who, Action::ViewPerson) {
        Visibility::All => Visibility::All,
        Visibility::Agencies(mut own) => {
            own.extend(agencies.iter().cloned());
            own.sort();
            own.dedup();
            Visibility::Agencies(own)
        }
        Visibility::Submitter { .. } => Visibility::Agencies(agencies.to_vec()),
    };
    // The child's other records (the same person, linked) are part of it.
    let linked = super::links::same_person(st, child)?;
    let mut head = st.store.chronology_head(child)?;
    for p in &linked {
        head = head.max(st.store.chronology_head(*p)?);
    }
    let day = vigil_rules::london::local_date(st.now());
    let key = |visibility| SummaryKey {
        person: child,
        linked: linked.clone(),
        head,
        visibility,
        day,
    };
    let whole = summary_for(st, key(Visibility::All))?;
    let limited = visibility != Visibility::All;
    let summary = if !limited {
        Arc::clone(&whole)
    } else {
        summary_for(st, key(visibility))?
    };
    let items = summary
        .first_page
        .iter()
        .map(|r| item_of(st, &summary, r, &HashMap::new()))
        .collect();
    Ok(CaseChronology {
        total: summary.matching(&ChronologyFilter::default()),
        items,
        summary,
        whole,
        limited,
    })
}

/// See [`case_chronology`].
#[derive(Clone, Debug)]
pub struct CaseChronology {
    /// As the case's agencies (and the reader) see it.
    pub summary: Arc<Summary>,
    /// Its first page.
    pub items: Vec<ChronologyItem>,
    /// Items in all.
    pub total: u64,
    /// Every agency's: what closing is judged from (never shown).
    pub whole: Arc<Summary>,
    /// Some agencies' records are left out.
    pub limited: bool,
}

/// The summary for this key: from the cache, else made and kept.
fn summary_for(st: &App, key: SummaryKey) -> Result<Arc<Summary>, AppError> {
    if let Some(s) = st.summaries.get(&key) {
        return Ok(s);
    }
    let s = Arc::new(summarise(
        st,
        key.person,
        &key.linked,
        &key.visibility,
        key.day,
    )?);
    st.summaries.put(key, Arc::clone(&s), s.bytes());
    Ok(s)
}

pub async fn child_record(
    app: &Arc<App>,
    who: &Caller,
    id: Uuid,
    filter: ChronologyFilter,
    all_on_one_page: bool,
) -> Result<super::Authorised<ChildRecord>, AppError> {
    let who = who.clone();
    app.blocking(move |st| {
        // Printing takes every matching item, up to the store's page bound.
        let (page_no, per_page) = if all_on_one_page {
            (1, vigil_store::index::MAX_PAGE)
        } else {
            (filter.page.max(1), PAGE_ITEMS)
        };
        let offset = (page_no - 1).saturating_mul(per_page);
        // What every load reads, in one go (`Store::person_page`): the
        // person, their referrals, links and the records those lead to
        // (pairs, places), their chronology head and the page asked for.
        // Nothing is shown before the access check below; a role that may
        // open no record reads with a rule that lets nothing through.
        let visibility = chronology_visibility(&who);
        // The record as opened (no filter, page 1) shows the summary's
        // first page; any other page is read.
        let first_page = !all_on_one_page
            && page_no == 1
            && filter.agencies.is_empty()
            && filter.kinds.is_empty();
        let page_query = ChronologyQuery {
            agencies: filter.agencies.clone(),
            kinds: filter.kinds.clone(),
            visibility: visibility
                .as_ref()
                .map_or(Visibility::Agencies(Vec::new()), Clone::clone),
            offset,
            limit: per_page,
            // The summary has them (as of its head: a row appended
            // since is counted on the next load).
            counts: false,
        };
        let reads = st
            .store
            .person_page(id, (!first_page).then_some(&page_query), &|e| {
                super::links::pair_link(e).or_else(|| super::place_link(id, e))
            })?;
        let rec = reads
            .person
            .as_ref()
            .filter(|r| r.kind == EntityKind::Person)
            .ok_or_else(|| AppError::NotFound("There is no person at this address.".into()))?;
        let person = PersonView::from_record(rec).map_err(AppError::Internal)?;
        check(&who, Action::ViewPerson, person_resource(&person))?;
        let (cases, cases_hidden) = match rec.as_kind::<vigil_model::state::PersonState>() {
            Some(p) => super::cases::cases_of_child(st, &who, p)?,
            None => (Vec::new(), 0),
        };
        let link = embed(st, &who, &person, None)
            .ok_or_else(|| AppError::Internal("an openable person was not shown".into()))?;
        let visibility = visibility?;
        let (linked, linked_ids) =
            super::links::linked_records(st, &who, &person, &reads.edges, &reads.ends)?;

        // Referrals about them (this record and the linked records they
        // may open: the fifth referral shows the first four), by the
        // referral rule.
        let mut about = reads.referrals;
        for child in linked_ids.iter().copied() {
            about.extend(
                st.store
                    .referrals(vigil_store::index::ReferralQuery::AboutChild(child))?,
            );
        }
        let mut referrals: Vec<(Arc<ReferralView>, bool)> = about
            .iter()
            .filter_map(|r| ReferralView::from_record(r).ok())
            .filter_map(|r| {
                let open = may(&who, Action::ViewReferral, referral_resource(&r));
                let listed = open || may(&who, Action::ViewReceipt, referral_resource(&r));
                listed.then_some((Arc::new(r), open))
            })
            .collect();
        referrals.sort_by_key(|(r, _)| std::cmp::Reverse(r.submitted.at));
        let openable: HashMap<Uuid, bool> =
            referrals.iter().map(|(r, open)| (r.id, *open)).collect();

        // The whole visible chronology's summary (of this record and the
        // records linked to it). The heads are read first, so what is made
        // under them is at least as new as they say.
        let mut ids: Vec<Uuid> = std::iter::once(id)
            .chain(linked_ids.iter().copied())
            .collect();
        ids[1..].sort();
        let mut head = reads.head;
        for p in &ids[1..] {
            head = head.max(st.store.chronology_head(*p)?);
        }
        let key = SummaryKey {
            person: id,
            linked: ids[1..].to_vec(),
            head,
            visibility: visibility.clone(),
            day: vigil_rules::london::local_date(st.now()),
        };
        let summary = summary_for(st, key)?;

        // The page asked for (from the summary, or read above unless
        // records are linked).
        let read_page = if first_page {
            None
        } else if linked_ids.is_empty() {
            Some(reads.page)
        } else {
            let rows = super::links::merged_chronology(st, &ids, &visibility)?;
            Some(super::links::page_of(
                &rows,
                &filter.agencies,
                &filter.kinds,
                offset,
                per_page,
            ))
        };
        let page_rows: &[ChronologyRow] = match &read_page {
            Some(p) => &p.rows,
            None => &summary.first_page,
        };
        let total = summary.matching(&filter);
        let agency_name = |code: &str| super::agency_name(st, code);
        let items: Vec<ChronologyItem> = page_rows
            .iter()
            .map(|r| item_of(st, &summary, r, &openable))
            .collect();
        let mut agencies: Vec<(String, u64)> = summary
            .agency_counts
            .iter()
            .map(|(code, n)| (agency_name(code), *n))
            .collect();
        agencies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let agency_choices = summary
            .agency_counts
            .iter()
            .map(|(code, n)| (code.clone(), agency_name(code), *n))
            .collect();
        let pages = total.div_ceil(per_page).max(1);
        let places = super::places_among(id, &reads.edges, &reads.ends);

        let mut subjects = vec![SubjectRef::new(EntityKind::Person, id)];
        subjects.extend(
            linked_ids
                .iter()
                .map(|p| SubjectRef::new(EntityKind::Person, *p)),
        );
        subjects.extend(
            referrals
                .iter()
                .map(|(r, _)| SubjectRef::new(EntityKind::Referral, r.id)),
        );
        subjects.extend(
            places
                .iter()
                .map(|(_, _, l)| SubjectRef::new(EntityKind::Location, *l)),
        );
        let mut shown_records: BTreeMap<Uuid, EntityKind> = BTreeMap::new();
        for r in page_rows {
            if let Some(k) = EntityKind::parse(&r.record_kind) {
                shown_records.insert(r.record_id, k);
            }
        }
        for s in &summary.screenings {
            shown_records.insert(s.id, EntityKind::Screening);
        }
        for c in &cases {
            shown_records.insert(c.id, EntityKind::Case);
        }
        let mut alerts: Vec<super::alert_work::AlertLine> =
            super::alert_work::open_alerts_on(st, &who, &ids)?
                .into_values()
                .flatten()
                .collect();
        super::alert_work::sort_lines(&mut alerts);
        for a in &alerts {
            shown_records.insert(a.id, EntityKind::Alert);
        }
        for (rid, k) in shown_records {
            subjects.push(SubjectRef::new(k, rid));
        }
        let words = if page_no > 1 || !filter.agencies.is_empty() || !filter.kinds.is_empty() {
            "opened a person's record (chronology filtered or paged)"
        } else {
            "opened a person's record"
        };
        authorised(
            st,
            &who,
            words,
            subjects,
            ChildRecord {
                link,
                agencies,
                referrals_limited: access::scope_of(
                    who.user.role,
                    who.user.agency_kind,
                    Action::ViewReferral,
                ) != Some(Scope::Any),
                referrals,
                places,
                items,
                total,
                page: page_no,
                pages,
                agency_choices,
                kind_choices: summary.kind_counts.clone(),
                filter,
                summary,
                limited: !matches!(visibility, Visibility::All),
                linked,
                can_screen: may(&who, Action::RecordScreening, person_resource(&person)),
                can_record_missing: may(&who, Action::RecordMissing, person_resource(&person)),
                can_open_case: access::scope_of(
                    who.user.role,
                    who.user.agency_kind,
                    Action::ManageCase,
                )
                .is_some(),
                cases,
                cases_hidden,
                alerts,
                person,
            },
        )
    })
    .await
}
