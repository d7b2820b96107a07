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
//!
//! This module holds the query types of the `Store` methods that read them,
//! and [`derive_entity_rows`], which the append path and `vigil rebuild`
//! share so both write exactly what verification recomputes.

use crate::StoreError;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;
use vigil_model::index::{edge_row, name_key_rows, referral_row, EdgeRow, NameKeyRow, ReferralRow};
use vigil_model::names::{Key, KeyKind, NameQuery, QueryKey};
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

/// The replaced rows of the entities a batch (or a rebuild page) changed.
#[derive(Debug, Default)]
pub struct EntityRows {
    pub edges: Vec<EdgeRow>,
    pub referrals: Vec<ReferralRow>,
    /// Sources whose committed name keys are deleted before `names` are
    /// written (sources created in this batch have none, so are not listed:
    /// most of a batch's sources are new, and each delete is an index probe).
    pub name_sources: Vec<Uuid>,
    pub names: Vec<NameKeyRow>,
}

impl EntityRows {
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
            && self.referrals.is_empty()
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
                EntityKind::Person | EntityKind::Referral | EntityKind::Link
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
    for rec in sources.values() {
        if let Some(e) = edge_row(rec) {
            out.edges.push(e);
        }
        if let Some(r) = referral_row(rec) {
            out.referrals.push(r);
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

/// What search reads from the name index; each backend answers these
/// (rows whose agency the reader may not see count as absent, except in
/// [`KeyIndex::count`], which measures work, not matches).
pub(crate) trait KeyIndex {
    /// Rows with this key, counted up to `cap` (a common key costs `cap`
    /// index steps, not all its rows).
    fn count(&mut self, kind: KeyKind, key: &str, cap: usize) -> Result<usize, StoreError>;
    /// Every person with this key.
    fn people(&mut self, kind: KeyKind, key: &str) -> Result<Vec<Uuid>, StoreError>;
    /// Those of `among` with this key.
    fn which_have(
        &mut self,
        kind: KeyKind,
        key: &str,
        among: &[Uuid],
    ) -> Result<Vec<Uuid>, StoreError>;
    /// The first `limit` people, by id, with every one of `keys` (the
    /// first is the rarest: the walk starts there).
    fn with_all(&mut self, keys: &[(KeyKind, &str)], limit: usize)
        -> Result<Vec<Uuid>, StoreError>;
}

/// A group whose every key has fewer rows than this is read whole; a key
/// with more is only probed for candidates found elsewhere.
pub(crate) const COUNT_CAP: usize = 1000;

/// Most key combinations [`find_people`] walks when every group is common
/// before it reads the rarest group whole instead (same result, slower).
const MAX_COMBINATIONS: usize = 64;

/// Search: the same people, scores and order as [`rank`] over every row of
/// every key of the query, without reading every row of a common key.
///
/// Every hit matches every group, so the candidates are the people of the
/// rarest group (counted first, each count bounded by [`COUNT_CAP`]); the
/// other groups' keys are then looked up only for them. When even the
/// rarest group is common, key combinations (one key from each group) are
/// walked from the heaviest down: a person's score is the weight of the
/// heaviest combination they have, so once `limit` people are found by the
/// end of a weight, nobody unseen can rank above them.
pub(crate) fn find_people(
    q: &NameQuery,
    ix: &mut dyn KeyIndex,
    limit: usize,
) -> Result<Vec<PersonHit>, StoreError> {
    if q.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut count: HashMap<(KeyKind, String), usize> = HashMap::new();
    for (kind, key) in q.all_keys() {
        let n = ix.count(kind, &key, COUNT_CAP)?;
        count.insert((kind, key), n);
    }
    let n = |k: &QueryKey| count[&(k.kind, k.key.clone())];
    // Each group's keys that have rows, heaviest first, without repeats.
    let groups: Vec<Vec<&QueryKey>> = q
        .groups
        .iter()
        .map(|g| {
            let mut keys: Vec<&QueryKey> = Vec::new();
            for k in &g.keys {
                if n(k) > 0 && !keys.iter().any(|o| o.kind == k.kind && o.key == k.key) {
                    keys.push(k);
                }
            }
            keys.sort_by_key(|k| std::cmp::Reverse(k.weight));
            keys
        })
        .collect();
    if groups.iter().any(|g| g.is_empty()) {
        return Ok(Vec::new());
    }
    let common = |g: &[&QueryKey]| g.iter().any(|k| n(k) >= COUNT_CAP);
    let size = |g: &[&QueryKey]| g.iter().map(|k| n(k)).sum::<usize>();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| (common(&groups[i]), size(&groups[i])));
    if common(&groups[order[0]]) {
        if let Some(hits) = by_combinations(q, &groups, &n, ix, limit)? {
            return Ok(hits);
        }
    }
    let mut has: HashMap<Uuid, Vec<(KeyKind, String)>> = HashMap::new();
    for k in &groups[order[0]] {
        for p in ix.people(k.kind, &k.key)? {
            has.entry(p).or_default().push((k.kind, k.key.clone()));
        }
    }
    for &g in &order[1..] {
        let mut cands: Vec<Uuid> = has.keys().copied().collect();
        if cands.is_empty() {
            break;
        }
        cands.sort();
        let mut matched: HashSet<Uuid> = HashSet::new();
        for k in &groups[g] {
            // Reading a rare key whole is a few sequential steps; probing is
            // a seek per candidate.
            let found = if n(k) < COUNT_CAP && n(k) <= 8 * cands.len() {
                ix.people(k.kind, &k.key)?
            } else {
                ix.which_have(k.kind, &k.key, &cands)?
            };
            for p in found {
                if let Some(keys) = has.get_mut(&p) {
                    keys.push((k.kind, k.key.clone()));
                    matched.insert(p);
                }
            }
        }
        // Who matched nothing of this group has no score.
        has.retain(|p, _| matched.contains(p));
    }
    Ok(rank(q, has, limit))
}

/// The top `limit` hits when every group is common (see [`find_people`]);
/// `None` when more than [`MAX_COMBINATIONS`] would be walked.
fn by_combinations(
    q: &NameQuery,
    groups: &[Vec<&QueryKey>],
    n: &dyn Fn(&QueryKey) -> usize,
    ix: &mut dyn KeyIndex,
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
        let mut keys: Vec<&QueryKey> = c.iter().zip(groups).map(|(&i, g)| g[i]).collect();
        keys.sort_by_key(|k| n(k));
        keys.dedup_by(|a, b| a.kind == b.kind && a.key == b.key);
        let keys: Vec<(KeyKind, &str)> = keys.iter().map(|k| (k.kind, k.key.as_str())).collect();
        // `limit` new people, past any already found that have these keys
        // too: if the list is cut short, this weight fills the page.
        for p in ix.with_all(&keys, limit + found.len())? {
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
    // What each found person has of every key, for the ranking rule.
    found.sort();
    let mut has: HashMap<Uuid, Vec<(KeyKind, String)>> = HashMap::new();
    for (kind, key) in q.all_keys() {
        for p in ix.which_have(kind, &key, &found)? {
            has.entry(p).or_default().push((kind, key.clone()));
        }
    }
    Ok(Some(rank(q, has, limit)))
}
