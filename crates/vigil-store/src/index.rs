//! The secondary projection tables: what the store keeps beside entity
//! state so that reading never scans (see `vigil_model::index` for how each
//! row is derived, and docs/architecture.md, "Projections").
//!
//! | table | one row per | written |
//! |---|---|---|
//! | `chronology` | (person, event) | appended with the event |
//! | `edges` | link | replaced when the link changes |
//! | `name_keys` | (source entity, person, key kind, key) | replaced when the source changes (a `lives_at`/`stays_at` link's rows also when its place changes) |
//! | `referrals` | referral | replaced when the referral changes |
//! | `return_interviews` | missing episode the child came back from | replaced when the episode changes (its return, assignment, interview) |
//! | `match_review` | undecided scored pair of person records | replaced when the pair's link changes; deleted when a person decides it |
//!
//! This module holds the query types of the `Store` methods that read them,
//! and [`derive_entity_rows`], which the append path and `vigil rebuild`
//! share so both write exactly what verification recomputes.

use crate::StoreError;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;
use vigil_model::index::{
    case_action_rows, edge_row, match_review_row, name_key_rows, referral_row,
    return_interview_row, CaseActionRow, EdgeRow, MatchReviewRow, NameKeyRow, ReferralRow,
    ReturnInterviewRow,
};
use vigil_model::names::{Key, KeyKind, NameQuery};
use vigil_model::projection::{EntityRecord, ProjectionError, ProjectionState};
use vigil_model::EntityKind;

pub use vigil_model::index::ChronologyRow;

/// Whose records a reader may see, applied to the owner of each row's
/// record (the agency and user that created it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Every row (an auditor; a query that has authorised the whole record).
    All,
    /// Rows whose record is owned by one of these agencies.
    Agencies(Vec<String>),
    /// Rows whose record this user submitted, in this agency.
    Submitter { user_id: String, agency: String },
}

/// A page of a person's chronology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChronologyQuery {
    /// Only events recorded by these agencies (the envelope's); empty: all.
    pub agencies: Vec<String>,
    /// Only these kinds of event; empty: all.
    pub kinds: Vec<String>,
    pub visibility: Visibility,
    pub offset: u64,
    pub limit: u64,
    /// Count the matching rows ([`ChronologyPage::total`]) and the visible
    /// rows by agency and by kind ([`ChronologyPage::agencies`],
    /// [`ChronologyPage::kinds`]). A reader that has the counts already
    /// skips them: the page's total is then 0 and its counts empty.
    pub counts: bool,
}

impl Default for ChronologyQuery {
    fn default() -> Self {
        ChronologyQuery {
            agencies: Vec::new(),
            kinds: Vec::new(),
            visibility: Visibility::All,
            offset: 0,
            limit: 100,
            counts: true,
        }
    }
}

/// Most rows one chronology page returns.
pub const MAX_PAGE: u64 = 1000;

/// One page, with what the filter controls need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChronologyPage {
    /// Ordered by occurred-at sort key, then log index.
    pub rows: Vec<ChronologyRow>,
    /// Rows matching every filter (all pages); 0 unless the query asked
    /// for [`ChronologyQuery::counts`].
    pub total: u64,
    /// Rows the reader may see, by agency and by kind (before the agency
    /// and kind filters), sorted by name; empty unless the query asked for
    /// [`ChronologyQuery::counts`].
    pub agencies: Vec<(String, u64)>,
    pub kinds: Vec<(String, u64)>,
}

/// What a person's page reads on every request ([`crate::Store::person_page`]):
/// each field is what the `Store` method of the same meaning returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PersonPage {
    /// `entity(person)` (of whatever kind it is).
    pub person: Option<EntityRecord>,
    /// `referrals(ReferralQuery::AboutChild(person))`.
    pub referrals: Vec<EntityRecord>,
    /// `edges_of(person)`.
    pub edges: Vec<EdgeRow>,
    /// `entities(ids)` of the ids the caller's rule picked from `edges`.
    pub ends: Vec<EntityRecord>,
    /// `chronology_head(person)`.
    pub head: Option<u64>,
    /// `chronology(person, q)`; empty when no query was given.
    pub page: ChronologyPage,
}

/// The ids `ends` picks from `edges`, sorted, once each.
pub fn end_ids(edges: &[EdgeRow], ends: &dyn Fn(&EdgeRow) -> Option<Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = edges.iter().filter_map(ends).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// A person record found by a search, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonHit {
    pub person_id: Uuid,
    /// Sum over the query's groups of the best weight matched.
    pub score: u32,
    /// For each group of the query, in order, the key that matched.
    pub matched: Vec<Key>,
}

/// Which referrals to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReferralQuery {
    /// Awaiting a decision (the triage queue), oldest first.
    AwaitingDecision,
    /// Submitted by this user in this agency, newest first.
    SubmittedBy { user_id: String, agency: String },
    /// About this child, newest first.
    AboutChild(Uuid),
    /// With this human reference (typed forgivingly).
    WithReference(String),
}

/// Which case actions to read (table `case_actions`), each open one first
/// by due date (earliest first), then by action id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseActionQuery {
    /// The open actions this user owns.
    OpenOwnedBy(String),
    /// The open actions due before this day (overdue on it).
    OpenDueBefore(chrono::NaiveDate),
    /// The actions a meeting set (any status).
    OfMeeting(Uuid),
}

/// The most case-action rows one query returns.
pub const CASE_ACTION_LIMIT: usize = 2000;

/// A page of the pairs of person records awaiting review.
///
/// A pair is listed when its probability is within `from_ppm..=to_ppm`,
/// both records' agencies are in `open` (the reader may open both) and at
/// least one is in `review` (the reader may review links of it). Best
/// first: by probability, highest first, then by the two record ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchReviewQuery {
    pub from_ppm: u32,
    pub to_ppm: u32,
    pub open: Visibility,
    pub review: Visibility,
    pub offset: u64,
    pub limit: u64,
}

/// Pairs counted past the end of a page: a count is a walk of the index,
/// so a queue of a million pairs is counted to "more than this" rather
/// than to the last.
pub const REVIEW_COUNT_BEYOND: u64 = 10_000;

impl MatchReviewQuery {
    /// Most pairs [`MatchReviewPage::total`] counts to.
    pub fn count_cap(&self) -> u64 {
        self.offset
            .saturating_add(self.limit)
            .saturating_add(REVIEW_COUNT_BEYOND)
    }
}

/// One page of the review queue, and how many pairs the whole queue holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchReviewPage {
    pub rows: Vec<MatchReviewRow>,
    /// Pairs in the queue, counted up to [`MatchReviewQuery::count_cap`].
    pub total: u64,
    /// The count stopped at the cap: there are at least `total`.
    pub more: bool,
}

/// The replaced rows of the entities a batch (or a rebuild page) changed.
#[derive(Debug, Default)]
pub struct EntityRows {
    pub edges: Vec<EdgeRow>,
    pub referrals: Vec<ReferralRow>,
    /// Returned missing episodes and their interviews (replaced whole).
    pub interviews: Vec<ReturnInterviewRow>,
    /// Links whose committed review row is deleted before `reviews` are
    /// written (as for `name_sources`: links created in this batch have none).
    pub review_sources: Vec<Uuid>,
    pub reviews: Vec<MatchReviewRow>,
    /// Sources whose committed name keys are deleted before `names` are
    /// written (sources created in this batch have none, so are not listed:
    /// most of a batch's sources are new, and each delete is an index probe).
    pub name_sources: Vec<Uuid>,
    pub names: Vec<NameKeyRow>,
    /// Cases whose committed action rows are deleted before `actions` are
    /// written (a case's rows are replaced whole).
    pub action_cases: Vec<Uuid>,
    pub actions: Vec<CaseActionRow>,
}

impl EntityRows {
    pub fn is_empty(&self) -> bool {
        self.action_cases.is_empty()
            && self.actions.is_empty()
            && self.edges.is_empty()
            && self.referrals.is_empty()
            && self.interviews.is_empty()
            && self.review_sources.is_empty()
            && self.reviews.is_empty()
            && self.name_sources.is_empty()
            && self.names.is_empty()
    }
}

/// State as seen after a batch: its changes over the committed rows.
pub(crate) struct AfterBatch<'a, F: FnMut(Uuid) -> Result<Option<EntityRecord>, StoreError>> {
    pub changed: &'a HashMap<Uuid, EntityRecord>,
    pub read: F,
    pub failed: Option<StoreError>,
}

impl<F: FnMut(Uuid) -> Result<Option<EntityRecord>, StoreError>> ProjectionState
    for AfterBatch<'_, F>
{
    fn get(&mut self, id: Uuid) -> Result<Option<EntityRecord>, ProjectionError> {
        if let Some(r) = self.changed.get(&id) {
            return Ok(Some(r.clone()));
        }
        (self.read)(id).map_err(|e| {
            let msg = e.to_string();
            self.failed = Some(e);
            ProjectionError::Store(msg)
        })
    }
    fn put(&mut self, _: EntityRecord) -> Result<(), ProjectionError> {
        Err(ProjectionError::Store(
            "the secondary projections do not change entity state".into(),
        ))
    }
}

/// The edge, referral and name-key rows of the entities in `changed`, plus
/// those of `place_links` (links to a place that changed, which the caller
/// found in the edges table: their postcode keys follow the place).
/// `first_new` is the first log index of the batch; `read` reads committed
/// entity state.
pub(crate) fn derive_entity_rows(
    changed: &HashMap<Uuid, EntityRecord>,
    place_links: &[Uuid],
    first_new: u64,
    read: &mut dyn FnMut(Uuid) -> Result<Option<EntityRecord>, StoreError>,
) -> Result<EntityRows, StoreError> {
    let mut view = AfterBatch {
        changed,
        read,
        failed: None,
    };
    // Sorted by id, so the rows are written in one order every time.
    let mut sources: BTreeMap<Uuid, EntityRecord> = changed
        .iter()
        .filter(|(_, r)| {
            matches!(
                r.kind,
                EntityKind::Person
                    | EntityKind::Referral
                    | EntityKind::Link
                    | EntityKind::MissingEpisode
            )
        })
        .map(|(id, r)| (*id, r.clone()))
        .collect();
    // Links in this batch to a place in this batch are in `changed`; those
    // already committed come from the caller.
    for id in place_links {
        if !sources.contains_key(id) {
            if let Some(r) = view.get(*id).map_err(|e| from_projection(e, &mut view))? {
                sources.insert(*id, r);
            }
        }
    }
    let mut out = EntityRows::default();
    // Cases, sorted by id: their action rows, replaced whole.
    let mut cases: Vec<&EntityRecord> = changed
        .values()
        .filter(|r| r.kind == EntityKind::Case)
        .collect();
    cases.sort_by_key(|r| r.id);
    for rec in cases {
        if rec.created_index < first_new {
            out.action_cases.push(rec.id);
        }
        out.actions.extend(case_action_rows(rec));
    }
    for rec in sources.values() {
        if let Some(e) = edge_row(rec) {
            out.edges.push(e);
        }
        if let Some(r) = referral_row(rec) {
            out.referrals.push(r);
        }
        if let Some(r) = return_interview_row(rec) {
            out.interviews.push(r);
        }
        if rec.kind == EntityKind::MissingEpisode {
            continue;
        }
        // Only a pair of person records (a link with a match state) can
        // have a review row; other links are not probed.
        let is_pair = rec
            .as_kind::<vigil_model::state::LinkState>()
            .is_some_and(|l| l.matching.is_some());
        if is_pair {
            if rec.created_index < first_new {
                out.review_sources.push(rec.id);
            }
            let row =
                match_review_row(rec, &mut view).map_err(|e| from_projection(e, &mut view))?;
            out.reviews.extend(row);
        }
        if rec.created_index < first_new {
            out.name_sources.push(rec.id);
        }
        let rows = name_key_rows(rec, &mut view).map_err(|e| from_projection(e, &mut view))?;
        out.names.extend(rows);
    }
    Ok(out)
}

fn from_projection<F: FnMut(Uuid) -> Result<Option<EntityRecord>, StoreError>>(
    e: ProjectionError,
    view: &mut AfterBatch<'_, F>,
) -> StoreError {
    view.failed
        .take()
        .unwrap_or_else(|| StoreError::Database(e.to_string()))
}

/// The places among changed entities that existed before (a place created
/// in this batch has no committed links).
pub(crate) fn changed_places(changed: &HashMap<Uuid, EntityRecord>, first_new: u64) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = changed
        .values()
        .filter(|r| r.kind == EntityKind::Location && r.created_index < first_new)
        .map(|r| r.id)
        .collect();
    v.sort();
    v
}

/// Ranks people by the keys each was found to have (the one ranking rule,
/// [`vigil_model::names::score`]): best score first, then by id.
pub(crate) fn rank(
    q: &vigil_model::names::NameQuery,
    has: HashMap<Uuid, Vec<(vigil_model::names::KeyKind, String)>>,
    limit: usize,
) -> Vec<PersonHit> {
    let mut hits: Vec<PersonHit> = has
        .into_iter()
        .filter_map(|(person_id, keys)| {
            let (score, matched) = vigil_model::names::score(q, |k, key| {
                keys.iter().any(|(hk, hkey)| *hk == k && hkey == key)
            })?;
            Some(PersonHit {
                person_id,
                score,
                matched,
            })
        })
        .collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then(a.person_id.cmp(&b.person_id)));
    hits.truncate(limit);
    hits
}

/// The message when the stored projections were built by other rules.
pub fn stale_message(stored: Option<u32>) -> String {
    let now = vigil_model::projection::PROJECTION_VERSION;
    match stored {
        Some(v) => format!(
            "the projections in this store were built by projection version {v} and this build of Vigil uses version {now}; run `vigil rebuild` to rebuild them from the log"
        ),
        None => format!(
            "the projections in this store were built before projection versions were recorded (this build uses version {now}); run `vigil rebuild` to rebuild them from the log"
        ),
    }
}

/// How a precision is stored (`exact`, `day`, ...).
pub(crate) fn precision_name(p: vigil_model::Precision) -> &'static str {
    use vigil_model::Precision as P;
    match p {
        P::Exact => "exact",
        P::Day => "day",
        P::Month => "month",
        P::Year => "year",
        P::Approximate => "approximate",
    }
}

pub(crate) fn parse_precision(s: &str) -> Option<vigil_model::Precision> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// What search reads from the name index (SQLite answers these; each is a
/// short, prepared statement, cheap in process).
pub(crate) trait KeyIndex {
    /// Up to `limit` rows with this key whose person is above `after` (from
    /// the first when `None`), in person order: each row's person, and
    /// whether the reader may see that row (rows they may not see count as
    /// absent, but are read).
    fn rows_after(
        &mut self,
        kind: KeyKind,
        key: &str,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<(Uuid, bool)>, StoreError>;
    /// Whether this person has a row with this key the reader may see (one
    /// index seek).
    fn has(&mut self, kind: KeyKind, key: &str, person: Uuid) -> Result<bool, StoreError>;
}

/// Rows read of each key before search decides how to use it: a key with
/// fewer is read whole by then ("rare"); a key with more ("common") is read
/// on only as far as a search needs, or probed person by person.
pub(crate) const FIRST_PAGE: usize = 1000;

/// About how many rows read in order cost as much as one index seek (one
/// probe of a person); measured on SQLite at a million people (BENCHMARKS.md,
/// "session 7").
const SEEK_ROWS: usize = 8;

/// Fewest rows a page reads when a key is read on.
const MIN_PAGE: usize = 256;

/// Candidates the combination walk checks at a time (it stops as soon as it
/// has enough, so smaller chunks waste less).
const CHUNK: usize = 256;

/// Most key combinations [`find_people`] walks when every group is common
/// before it reads the rarest group whole instead (same result, slower).
const MAX_COMBINATIONS: usize = 64;

/// What search knows of one key's rows: the people it has read, in id
/// order, from the start up to `upto` (all of them once `done`). Each
/// search reads each key at most once, however many combinations or
/// groups use it.
struct Postings {
    kind: KeyKind,
    key: String,
    /// People the reader may see with this key, read so far, in id order.
    people: Vec<Uuid>,
    /// Rows read so far (seen or not): the key's size, once `done`.
    rows: usize,
    /// Every row of a person up to this one has been read.
    upto: Option<Uuid>,
    done: bool,
    /// People probed beyond `upto`, and the answers.
    probed: HashMap<Uuid, bool>,
}

impl Postings {
    fn new(kind: KeyKind, key: String) -> Postings {
        Postings {
            kind,
            key,
            people: Vec::new(),
            rows: 0,
            upto: None,
            done: false,
            probed: HashMap::new(),
        }
    }

    /// Reads about `limit` more rows, ending at a person's last row.
    fn read_on(&mut self, ix: &mut dyn KeyIndex, limit: usize) -> Result<(), StoreError> {
        if self.done {
            return Ok(());
        }
        let mut limit = limit.max(2);
        loop {
            let rows = ix.rows_after(self.kind, &self.key, self.upto, limit)?;
            // A full page may have cut the last person's rows short: they
            // are read again with the next page.
            let keep = if rows.len() < limit {
                self.done = true;
                rows.len()
            } else {
                let last = rows[rows.len() - 1].0;
                rows.iter().position(|r| r.0 == last).unwrap_or(0)
            };
            if keep == 0 && !self.done {
                // One person has a whole page of rows with this key.
                limit *= 2;
                continue;
            }
            for &(p, seen) in &rows[..keep] {
                self.rows += 1;
                if seen && self.people.last() != Some(&p) {
                    self.people.push(p);
                }
            }
            if keep > 0 {
                self.upto = Some(rows[keep - 1].0);
            }
            return Ok(());
        }
    }

    /// Whether this key has been read as far as `p`.
    fn covers(&self, p: Uuid) -> bool {
        self.done || self.upto.is_some_and(|u| p <= u)
    }

    /// Which of `cands` (in id order, no repeats) have this key. Reads on
    /// in order while that costs no more than probing the rest would
    /// (within twice the cheaper of the two, however the key's rows fall),
    /// then probes whoever it has not reached.
    fn which(&mut self, ix: &mut dyn KeyIndex, cands: &[Uuid]) -> Result<Vec<bool>, StoreError> {
        let reached = |s: &Postings| cands.partition_point(|&p| s.covers(p));
        let unasked = cands[reached(self)..]
            .iter()
            .filter(|p| !self.probed.contains_key(p))
            .count();
        let mut budget = unasked * SEEK_ROWS;
        while !self.done && reached(self) < cands.len() && budget >= MIN_PAGE {
            let page = budget.min(16 * FIRST_PAGE);
            self.read_on(ix, page)?;
            budget -= page;
        }
        let mut out = Vec::with_capacity(cands.len());
        for &p in cands {
            out.push(if self.covers(p) {
                self.people.binary_search(&p).is_ok()
            } else if let Some(&h) = self.probed.get(&p) {
                h
            } else {
                let h = ix.has(self.kind, &self.key, p)?;
                self.probed.insert(p, h);
                h
            });
        }
        Ok(out)
    }
}

/// The query's keys, each read once however many groups name it.
struct Keys<'a> {
    ix: &'a mut dyn KeyIndex,
    list: Vec<Postings>,
}

impl Keys<'_> {
    /// The people of `among` (in id order) who have key `k`.
    fn filter(&mut self, k: usize, among: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
        let has = self.list[k].which(&mut *self.ix, among)?;
        Ok(among
            .iter()
            .zip(has)
            .filter_map(|(p, h)| h.then_some(*p))
            .collect())
    }

    /// Every person the reader may see with key `k`.
    fn everyone(&mut self, k: usize) -> Result<&[Uuid], StoreError> {
        while !self.list[k].done {
            self.list[k].read_on(&mut *self.ix, 16 * FIRST_PAGE)?;
        }
        Ok(&self.list[k].people)
    }

    /// What each of `people` (in id order) has of every key of the query,
    /// for the ranking rule.
    fn keys_of(
        &mut self,
        people: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<(KeyKind, String)>>, StoreError> {
        let mut has: HashMap<Uuid, Vec<(KeyKind, String)>> = HashMap::new();
        for k in 0..self.list.len() {
            for p in self.filter(k, people)? {
                let pk = &self.list[k];
                has.entry(p).or_default().push((pk.kind, pk.key.clone()));
            }
        }
        Ok(has)
    }
}

/// One key of a group: its weight and which of [`Keys::list`] it is.
#[derive(Clone, Copy)]
struct GroupKey {
    weight: u32,
    at: usize,
}

/// Search: the same people, scores and order as [`rank`] over every row of
/// every key of the query, without reading every row of a common key.
///
/// Every key is first read up to [`FIRST_PAGE`] rows (a rare key whole).
/// Every hit matches every group, so when some group has only rare keys,
/// its people are the candidates and the other groups' keys are looked up
/// only for them. When every group has a common key, key combinations (one
/// key from each group) are walked from the heaviest down: a person's
/// score is the weight of the heaviest combination they have, so once
/// `limit` people are found by the end of a weight, nobody unseen can rank
/// above them. Either way a common key is read on in id order only while
/// that is cheaper than probing the people it is asked about
/// ([`Postings::which`]).
pub(crate) fn find_people(
    q: &NameQuery,
    ix: &mut dyn KeyIndex,
    limit: usize,
) -> Result<Vec<PersonHit>, StoreError> {
    if q.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut keys = Keys {
        ix,
        list: Vec::new(),
    };
    let mut at: HashMap<(KeyKind, String), usize> = HashMap::new();
    for (kind, key) in q.all_keys() {
        let mut p = Postings::new(kind, key.clone());
        p.read_on(&mut *keys.ix, FIRST_PAGE)?;
        at.insert((kind, key), keys.list.len());
        keys.list.push(p);
    }
    // Each group's keys that anyone the reader may see has, heaviest
    // first, without repeats.
    let groups: Vec<Vec<GroupKey>> = q
        .groups
        .iter()
        .map(|g| {
            let mut out: Vec<GroupKey> = Vec::new();
            for k in &g.keys {
                let i = at[&(k.kind, k.key.clone())];
                let p = &keys.list[i];
                if p.done && p.people.is_empty() {
                    continue;
                }
                match out.iter_mut().find(|o| o.at == i) {
                    Some(o) => o.weight = o.weight.max(k.weight),
                    None => out.push(GroupKey {
                        weight: k.weight,
                        at: i,
                    }),
                }
            }
            out.sort_by_key(|k| std::cmp::Reverse(k.weight));
            out
        })
        .collect();
    if groups.iter().any(|g| g.is_empty()) {
        return Ok(Vec::new());
    }
    let common = |g: &[GroupKey], keys: &Keys| g.iter().any(|k| !keys.list[k.at].done);
    let size = |g: &[GroupKey], keys: &Keys| g.iter().map(|k| keys.list[k.at].rows).sum::<usize>();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| (common(&groups[i], &keys), size(&groups[i], &keys)));
    if common(&groups[order[0]], &keys) {
        if let Some(hits) = by_combinations(q, &groups, &mut keys, limit)? {
            return Ok(hits);
        }
    }
    // The rarest group's people (read whole), then each other group's keys
    // looked up for them only.
    let mut cands: Vec<Uuid> = Vec::new();
    for k in &groups[order[0]] {
        cands.extend_from_slice(keys.everyone(k.at)?);
    }
    cands.sort();
    cands.dedup();
    for &g in &order[1..] {
        if cands.is_empty() {
            break;
        }
        let mut matched: Vec<Uuid> = Vec::new();
        for k in &groups[g] {
            matched.extend(keys.filter(k.at, &cands)?);
        }
        // Who matched nothing of this group has no score.
        matched.sort();
        matched.dedup();
        cands = matched;
    }
    let has = keys.keys_of(&cands)?;
    Ok(rank(q, has, limit))
}

/// The top `limit` hits when every group is common (see [`find_people`]);
/// `None` when more than [`MAX_COMBINATIONS`] would be walked.
fn by_combinations(
    q: &NameQuery,
    groups: &[Vec<GroupKey>],
    keys: &mut Keys,
    limit: usize,
) -> Result<Option<Vec<PersonHit>>, StoreError> {
    use std::collections::{BTreeSet, BinaryHeap};
    let weight = |c: &[usize]| -> u32 { c.iter().zip(groups).map(|(&i, g)| g[i].weight).sum() };
    // Best first: each combination's successors take the next-lighter key
    // of one group.
    let first = vec![0; groups.len()];
    let mut heap = BinaryHeap::from([(weight(&first), std::cmp::Reverse(first.clone()))]);
    let mut seen: HashSet<Vec<usize>> = HashSet::from([first]);
    let mut found: Vec<Uuid> = Vec::new();
    let mut found_set: HashSet<Uuid> = HashSet::new();
    let mut pool: BTreeSet<Uuid> = BTreeSet::new();
    let mut tier: Option<u32> = None;
    let mut walked = 0;
    loop {
        let next = heap.pop();
        if tier.is_some() && next.as_ref().map(|(w, _)| *w) != tier {
            // Everyone in the pool scores exactly this weight (heavier
            // people were all found): the lowest ids come first.
            for p in std::mem::take(&mut pool) {
                if found.len() < limit && found_set.insert(p) {
                    found.push(p);
                }
            }
            if found.len() >= limit {
                break;
            }
        }
        let Some((w, std::cmp::Reverse(c))) = next else {
            break;
        };
        walked += 1;
        if walked > MAX_COMBINATIONS {
            return Ok(None);
        }
        tier = Some(w);
        let mut combo: Vec<usize> = c.iter().zip(groups).map(|(&i, g)| g[i].at).collect();
        combo.sort_by_key(|&k| (!keys.list[k].done, keys.list[k].rows));
        combo.dedup();
        // `limit` new people, past any already found that have these keys
        // too: if the list is cut short, this weight fills the page.
        for p in with_all(keys, &combo, limit + found.len())? {
            if !found_set.contains(&p) {
                pool.insert(p);
            }
        }
        for g in 0..groups.len() {
            if c[g] + 1 < groups[g].len() {
                let mut s = c.clone();
                s[g] += 1;
                if seen.insert(s.clone()) {
                    heap.push((weight(&s), std::cmp::Reverse(s)));
                }
            }
        }
    }
    found.sort();
    let has = keys.keys_of(&found)?;
    Ok(Some(rank(q, has, limit)))
}

/// The first `limit` people, by id, with every one of `combo` (the first
/// the rarest: the walk goes through its people in order, a chunk at a
/// time, and asks the other keys about them).
fn with_all(keys: &mut Keys, combo: &[usize], limit: usize) -> Result<Vec<Uuid>, StoreError> {
    let Some((&driver, rest)) = combo.split_first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let d = &keys.list[driver];
        if next == d.people.len() {
            if d.done {
                return Ok(out);
            }
            keys.list[driver].read_on(&mut *keys.ix, FIRST_PAGE)?;
            continue;
        }
        let end = (next + CHUNK).min(d.people.len());
        let mut alive: Vec<Uuid> = d.people[next..end].to_vec();
        next = end;
        for &k in rest {
            if alive.is_empty() {
                break;
            }
            alive = keys.filter(k, &alive)?;
        }
        for p in alive {
            out.push(p);
            if out.len() >= limit {
                return Ok(out);
            }
        }
    }
}
