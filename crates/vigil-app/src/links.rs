//! Records of one person: which records are linked (the entity a record
//! belongs to), the review queue of possible matches, one pair with the
//! model's explanation, the possible existing records of a referral's
//! child, and the decisions (confirm, reject, undo) that change them.
//!
//! A child of [`crate::guard`], so every query here authorises the user
//! with the one access table, writes the read to the access log and hands
//! back an [`Authorised`] value; people are shown only through its `embed`.
//!
//! **The linked person.** The `same_person` edges of the edges projection
//! (one per pair scored or decided, `active` while the pair is linked) are
//! walked from the record asked for ([`cluster`]): confirmed pairs first,
//! then the model's links, most probable first; a record is not added
//! through a model link when a person said it is not the same as a record
//! already in the group (confirmed links always join). So a rejection is
//! respected even when two model links would join the records through a
//! third.
//!
//! **Who sees what.** A linked record is listed (and its chronology merged
//! into the child's) only when the user may open it; nothing says how many
//! others exist. Deciding needs [`Action::DecideLink`] on one of the two
//! records and the right to open both (a practitioner: both their agency's
//! records; the front door: any). The review queue lists pairs in the
//! uncertain band ([`score::REVIEW_FROM_PPM`] to [`score::REVIEW_TO_PPM`])
//! that nobody has decided, highest first, whose two records the user may
//! open.

use super::{authorised, check, embed, may, people_of, person_of, person_resource, PersonLink};
use crate::access::Action;
use crate::readmodel::PersonView;
use crate::score::{self, Score};
use crate::{App, AppError, Caller};
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::index::{ChronologyRow, EdgeRow};
use vigil_model::payload::{
    match_id, PersonMatchConfirmed, PersonMatchRejected, PersonMatchScored, PersonMatchUndone,
};
use vigil_model::projection::EntityRecord;
use vigil_model::state::{LinkState, MatchDecisionState, MatchScore, MatchState, MatchStatus};
use vigil_model::{EntityKind, EventPayload, OccurredAt, SubjectRef};
use vigil_store::index::{ChronologyPage, MatchReviewQuery, Visibility};

/// The `same_person` link kind, as the edges table names it.
pub const SAME_PERSON: &str = "same_person";

/// Most records one linked person is walked to (a bound on hostile data).
pub const MAX_LINKED: usize = 100;

/// Most pairs one page of the review queue lists.
pub const MAX_REVIEW_PAGE: usize = 500;

/// One pair of person records as the log has decided it so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub a: Uuid,
    pub b: Uuid,
    pub status: MatchStatus,
    pub score: Option<MatchScore>,
    pub decision: Option<MatchDecisionState>,
}

impl Pair {
    fn from_link(l: &LinkState) -> Option<Pair> {
        let MatchState {
            status,
            score,
            decision,
            ..
        } = l.matching.clone()?;
        Some(Pair {
            a: l.from.id,
            b: l.to.id,
            status,
            score,
            decision,
        })
    }

    /// The other record of the pair.
    pub fn other(&self, one: Uuid) -> Uuid {
        if self.a == one {
            self.b
        } else {
            self.a
        }
    }

    pub fn probability_ppm(&self) -> Option<u32> {
        self.score.as_ref().map(|s| s.probability_ppm)
    }
}

/// The pairs with these link ids that exist.
fn pairs(st: &App, ids: &[Uuid]) -> Result<Vec<Pair>, AppError> {
    Ok(st
        .store
        .entities(ids)?
        .iter()
        .filter_map(|r| r.as_kind::<LinkState>().and_then(Pair::from_link))
        .collect())
}

/// The pair of these two records, if it was ever scored or decided.
pub(crate) fn pair_of(st: &App, a: Uuid, b: Uuid) -> Result<Option<Pair>, AppError> {
    Ok(pairs(st, &[match_id(a, b)])?.into_iter().next())
}

/// Every pair one record is part of (from its `same_person` edges).
fn pairs_of(st: &App, person: Uuid) -> Result<Vec<Pair>, AppError> {
    let ids: Vec<Uuid> = st
        .store
        .edges_of(person)?
        .iter()
        .filter_map(pair_link)
        .collect();
    pairs(st, &ids)
}

/// The link record to read for an edge, if it is a pair's.
pub(crate) fn pair_link(e: &EdgeRow) -> Option<Uuid> {
    (e.kind == SAME_PERSON).then_some(e.link_id)
}

/// [`pairs_of`] from a record's edges and the entities already read for
/// them (those [`pair_link`] picks; others are ignored).
fn pairs_among(edges: &[EdgeRow], records: &[EntityRecord]) -> Vec<Pair> {
    let by_id: HashMap<Uuid, &EntityRecord> = records.iter().map(|r| (r.id, r)).collect();
    let mut ids: Vec<Uuid> = edges.iter().filter_map(pair_link).collect();
    ids.sort();
    ids.dedup();
    ids.iter()
        .filter_map(|id| by_id.get(id))
        .filter_map(|r| r.as_kind::<LinkState>().and_then(Pair::from_link))
        .collect()
}

/// A record of a linked person and how it joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    /// The record it is linked to (the start, or another member).
    pub via: Uuid,
    /// That pair.
    pub pair: Pair,
}

/// The records linked to `start` (not including it), in the order they
/// joined (see the module documentation). `pairs_of` gives every pair a
/// record is part of.
pub fn cluster<E>(
    start: Uuid,
    mut pairs_of: impl FnMut(Uuid) -> Result<Vec<Pair>, E>,
) -> Result<Vec<Member>, E> {
    // (confirmed first, then probability; then the lowest id, for one order)
    type Key = (bool, u32, std::cmp::Reverse<Uuid>, Uuid);
    let mut members: Vec<Member> = Vec::new();
    let mut inside: HashSet<Uuid> = HashSet::from([start]);
    let mut refused: HashSet<(Uuid, Uuid)> = HashSet::new();
    let mut heap: BinaryHeap<(Key, usize)> = BinaryHeap::new();
    let mut waiting: Vec<(Uuid, Pair)> = Vec::new();
    let mut explore = |from: Uuid,
                       heap: &mut BinaryHeap<(Key, usize)>,
                       waiting: &mut Vec<(Uuid, Pair)>,
                       refused: &mut HashSet<(Uuid, Uuid)>|
     -> Result<(), E> {
        for p in pairs_of(from)? {
            let other = p.other(from);
            if p.status.refused() {
                refused.insert((from.min(other), from.max(other)));
            } else if p.status.linked() {
                let key = (
                    p.status == MatchStatus::Confirmed,
                    p.probability_ppm().unwrap_or(0),
                    std::cmp::Reverse(other),
                    from,
                );
                waiting.push((from, p));
                heap.push((key, waiting.len() - 1));
            }
        }
        Ok(())
    };
    explore(start, &mut heap, &mut waiting, &mut refused)?;
    while let Some(((confirmed, ..), i)) = heap.pop() {
        if members.len() >= MAX_LINKED {
            break;
        }
        let (via, pair) = waiting[i].clone();
        let id = pair.other(via);
        if inside.contains(&id) {
            continue;
        }
        let against = |m: Uuid| refused.contains(&(m.min(id), m.max(id)));
        if !confirmed && inside.iter().any(|m| against(*m)) {
            continue;
        }
        inside.insert(id);
        members.push(Member { id, via, pair });
        explore(id, &mut heap, &mut waiting, &mut refused)?;
    }
    Ok(members)
}

/// The records linked to `person`, from the store.
pub(crate) fn linked_to(st: &App, person: Uuid) -> Result<Vec<Member>, AppError> {
    cluster(person, |p| pairs_of(st, p))
}

// ---------------------------------------------------------------------------
// The queue: referrals of one linked person together
// ---------------------------------------------------------------------------

/// What the triage queue says about the person a row's referral is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueuePerson {
    /// The row (in the queue's new order) of the first referral about the
    /// same person, when this row is not it.
    pub same_as_row: Option<usize>,
    /// Other referrals about this person, waiting or decided: about their
    /// record or any record linked to it that this user may open.
    pub other_referrals: usize,
    /// Records of this person this user may open (this one included).
    pub records: usize,
}

/// Groups queue rows, given as (referral, child record), by the linked
/// person: returns the new order (indices into `rows`; a group at the place
/// of its first row, its rows in their old order) and, for each row of the
/// new order, what the queue shows of the person.
pub(in crate::guard) fn queue_people(
    st: &App,
    who: &Caller,
    rows: &[(Uuid, Uuid)],
) -> Result<(Vec<usize>, Vec<QueuePerson>), AppError> {
    // Each row's person: its child record and the linked records the user may open.
    let mut records: Vec<BTreeSet<Uuid>> = Vec::with_capacity(rows.len());
    let mut known: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for &(_, child) in rows {
        if let Some(set) = known.get(&child) {
            records.push(set.clone());
            continue;
        }
        let members: Vec<Uuid> = linked_to(st, child)?.into_iter().map(|m| m.id).collect();
        let people = people_of(st, &members)?;
        let mut set = BTreeSet::from([child]);
        set.extend(
            members
                .iter()
                .filter(|id| {
                    people
                        .get(id)
                        .is_some_and(|p| may(who, Action::ViewPerson, person_resource(p)))
                })
                .copied(),
        );
        known.insert(child, set.clone());
        records.push(set);
    }
    // Rows whose people share a record are one person (union-find).
    let mut group: Vec<usize> = (0..rows.len()).collect();
    fn root(g: &mut [usize], mut i: usize) -> usize {
        while g[i] != i {
            g[i] = g[g[i]];
            i = g[i];
        }
        i
    }
    let mut owner: HashMap<Uuid, usize> = HashMap::new();
    for (i, set) in records.iter().enumerate() {
        for id in set {
            match owner.get(id) {
                Some(&j) => {
                    let (a, b) = (root(&mut group, i), root(&mut group, j));
                    if a != b {
                        group[a.max(b)] = a.min(b);
                    }
                }
                None => {
                    owner.insert(*id, i);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..rows.len()).map(|i| root(&mut group, i)).collect();
    let mut order = Vec::with_capacity(rows.len());
    let mut placed = vec![false; rows.len()];
    for i in 0..rows.len() {
        if placed[i] {
            continue;
        }
        for j in i..rows.len() {
            if !placed[j] && roots[j] == roots[i] {
                placed[j] = true;
                order.push(j);
            }
        }
    }
    // Referrals about every record of each group.
    let mut referrals_of: HashMap<usize, BTreeSet<Uuid>> = HashMap::new();
    for i in 0..rows.len() {
        let r = roots[i];
        if referrals_of.contains_key(&r) {
            continue;
        }
        let ids: BTreeSet<Uuid> = (0..rows.len())
            .filter(|&j| roots[j] == r)
            .flat_map(|j| records[j].iter().copied())
            .collect();
        let mut refs = BTreeSet::new();
        for id in ids {
            for rec in st
                .store
                .referrals(vigil_store::index::ReferralQuery::AboutChild(id))?
            {
                refs.insert(rec.id);
            }
        }
        referrals_of.insert(r, refs);
    }
    let mut first_row: HashMap<usize, usize> = HashMap::new();
    let people = order
        .iter()
        .enumerate()
        .map(|(at, &i)| {
            let r = roots[i];
            let refs = &referrals_of[&r];
            let same_as_row = match first_row.get(&r) {
                Some(&row) => Some(row),
                None => {
                    first_row.insert(r, at);
                    None
                }
            };
            QueuePerson {
                same_as_row,
                other_referrals: refs.len() - usize::from(refs.contains(&rows[i].0)),
                records: (0..rows.len())
                    .filter(|&j| roots[j] == r)
                    .flat_map(|j| records[j].iter())
                    .collect::<BTreeSet<_>>()
                    .len(),
            }
        })
        .collect();
    Ok((order, people))
}

// ---------------------------------------------------------------------------
// The child's record: linked records and the merged chronology
// ---------------------------------------------------------------------------

/// A record linked to the one shown, as the child's page lists it.
#[derive(Clone, Debug)]
pub struct LinkedRecord {
    pub person: PersonLink,
    /// The agency that made the record (its name).
    pub agency: String,
    /// How the link stands, in words ("Confirmed the same person by … on …").
    pub how: String,
    /// The record it is linked through, when not the one shown.
    pub via: Option<String>,
    /// The pair an undo withdraws.
    pub pair: (Uuid, Uuid),
    /// Whether this user may undo it ("Not the same person").
    pub can_undo: bool,
}

/// Words for how a pair stands.
pub fn status_words(st: &App, p: &Pair) -> String {
    let when = |d: &MatchDecisionState| {
        let day = chrono::DateTime::parse_from_rfc3339(&d.decided.at)
            .map(|t| {
                crate::display::date(vigil_rules::london::local_date(
                    t.with_timezone(&chrono::Utc),
                ))
            })
            .unwrap_or_default();
        format!(
            " by {} ({}) on {day}",
            d.decided.by,
            super::agency_name(st, d.decided.agency.as_str())
        )
    };
    match (&p.decision, p.status) {
        (Some(d), MatchStatus::Confirmed | MatchStatus::Rejected | MatchStatus::Undone) => {
            format!("{}{}", p.status.label(), when(d))
        }
        (_, s) => match p.probability_ppm() {
            Some(ppm) => format!("{} ({} likely)", s.label(), score::percent(ppm)),
            None => s.label().to_owned(),
        },
    }
}

/// Whether this user may decide about two records: open both, and decide
/// links for one of them.
fn may_decide(who: &Caller, a: &PersonView, b: &PersonView) -> bool {
    may(who, Action::ViewPerson, person_resource(a))
        && may(who, Action::ViewPerson, person_resource(b))
        && (may(who, Action::DecideLink, person_resource(a))
            || may(who, Action::DecideLink, person_resource(b)))
}

/// Every other record of the same person as `person` (the cluster the
/// links make), sorted: what a case's chronology and its closure are read
/// from, whoever reads (the rows are then filtered by visibility).
pub(in crate::guard) fn same_person(st: &App, person: Uuid) -> Result<Vec<Uuid>, AppError> {
    let mut ids: Vec<Uuid> = cluster(person, |p| pairs_of(st, p))?
        .iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    Ok(ids)
}

/// The records linked to `person` that this user may open, for the
/// child's page, and their ids (for the merged chronology).
/// `edges` and `records` are the person's links and the entities read for
/// them (see [`pairs_among`]): the walk starts from them without reading
/// them again.
pub(in crate::guard) fn linked_records(
    st: &App,
    who: &Caller,
    person: &PersonView,
    edges: &[EdgeRow],
    records: &[EntityRecord],
) -> Result<(Vec<LinkedRecord>, Vec<Uuid>), AppError> {
    let mut start = Some(pairs_among(edges, records));
    let members = cluster(person.id, |p| match start.take() {
        Some(pairs) if p == person.id => Ok(pairs),
        _ => pairs_of(st, p),
    })?;
    if members.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    ids.push(person.id);
    let people = people_of(st, &ids)?;
    let mut out = Vec::new();
    let mut open = Vec::new();
    for m in &members {
        let (Some(p), Some(via)) = (people.get(&m.id), people.get(&m.via)) else {
            continue;
        };
        if !may(who, Action::ViewPerson, person_resource(p)) {
            continue;
        }
        let Some(link) = embed(st, who, p, None) else {
            continue;
        };
        open.push(m.id);
        out.push(LinkedRecord {
            agency: super::agency_name(st, &p.recorded.agency),
            how: status_words(st, &m.pair),
            via: (m.via != person.id).then(|| {
                if may(who, Action::ViewPerson, person_resource(via)) {
                    via.display_name()
                } else {
                    super::WITHHELD_CHILD.to_owned()
                }
            }),
            pair: (m.via, m.id),
            can_undo: may_decide(who, via, p),
            person: link,
        });
    }
    Ok((out, open))
}

/// The whole chronology of several records of one person, as the user may
/// see it: merged in order (occurred-at, then log index), each event once.
pub(in crate::guard) fn merged_chronology(
    st: &App,
    ids: &[Uuid],
    visibility: &Visibility,
) -> Result<Vec<ChronologyRow>, AppError> {
    let mut all = Vec::new();
    let mut seen = HashSet::new();
    for id in ids {
        for r in super::record::whole_chronology(st, *id, visibility)? {
            if seen.insert(r.log_index) {
                all.push(r);
            }
        }
    }
    all.sort_by_key(|r| (r.occurred_sort, r.log_index));
    Ok(all)
}

/// A page of a merged chronology, with the same meaning as the store's
/// ([`vigil_store::Store::chronology`]): facets of every row, the total and
/// the rows after the agency and kind filters.
pub(in crate::guard) fn page_of(
    rows: &[ChronologyRow],
    agencies: &[String],
    kinds: &[String],
    offset: u64,
    limit: u64,
) -> ChronologyPage {
    let facet = |f: &dyn Fn(&ChronologyRow) -> &str| -> Vec<(String, u64)> {
        let mut m: std::collections::BTreeMap<String, u64> = Default::default();
        for r in rows {
            *m.entry(f(r).to_owned()).or_default() += 1;
        }
        m.into_iter().collect()
    };
    let matching: Vec<&ChronologyRow> = rows
        .iter()
        .filter(|r| agencies.is_empty() || agencies.contains(&r.agency))
        .filter(|r| kinds.is_empty() || kinds.contains(&r.kind))
        .collect();
    let limit = limit.min(vigil_store::index::MAX_PAGE);
    ChronologyPage {
        rows: matching
            .iter()
            .skip(offset.min(usize::MAX as u64) as usize)
            .take(limit as usize)
            .map(|r| (*r).clone())
            .collect(),
        total: matching.len() as u64,
        agencies: facet(&|r| r.agency.as_str()),
        kinds: facet(&|r| r.kind.as_str()),
    }
}

// ---------------------------------------------------------------------------
// Possible existing records (the triage screen) and scoring at intake
// ---------------------------------------------------------------------------

/// A possible existing record of a referral's child: one per linked
/// person (records already linked to each other are one row, shown by its
/// most likely record), with what that person's records hold.
#[derive(Clone, Debug)]
pub struct PossibleMatch {
    pub person: PersonLink,
    pub probability_ppm: u32,
    /// How a person decided the pair, if anyone has.
    pub status: Option<MatchStatus>,
    /// Whether this user may confirm it ("This is the same child").
    pub can_confirm: bool,
    /// Records of this person that this user may open (this one included;
    /// the records linked to it by [`cluster`]).
    pub records: usize,
    /// Other possible records that were the same person (folded into this row).
    pub folded: usize,
    /// Referrals about any of those records (not the one being triaged).
    pub referrals: usize,
    /// What became of them: (status words, how many), most first.
    pub outcomes: Vec<(String, usize)>,
}

/// What became of a referral, in words: its decision, or that it waits.
fn outcome_words(r: &crate::readmodel::ReferralView) -> String {
    match r.decision {
        Some(d) => d.label().to_owned(),
        None => "Awaiting a decision".to_owned(),
    }
}

/// Folds possible records of one linked person into one row (the first,
/// most likely, stands for them) and counts the person's records,
/// referrals and their outcomes, among the records this user may open.
/// The grouping is [`cluster`]'s, the same as the child's page and the
/// queue use.
fn by_person(
    st: &App,
    who: &Caller,
    child: &PersonView,
    found: Vec<PossibleMatch>,
) -> Result<Vec<PossibleMatch>, AppError> {
    let mut rows: Vec<PossibleMatch> = Vec::new();
    let mut row_of: HashMap<Uuid, usize> = HashMap::new();
    for mut m in found {
        let Ok(id) = Uuid::parse_str(&m.person.id) else {
            continue;
        };
        if let Some(&i) = row_of.get(&id) {
            rows[i].folded += 1;
            continue;
        }
        if rows.len() >= crate::candidates::MAX_CANDIDATES {
            break;
        }
        let members: Vec<Uuid> = linked_to(st, id)?.into_iter().map(|x| x.id).collect();
        let people = people_of(st, &members)?;
        let mut records = vec![id];
        // (The referral's own child is not one of the "existing" records.)
        records.extend(members.iter().copied().filter(|x| {
            *x != child.id
                && people
                    .get(x)
                    .is_some_and(|p| may(who, Action::ViewPerson, person_resource(p)))
        }));
        let mut seen = HashSet::new();
        let mut outcomes: HashMap<String, usize> = HashMap::new();
        for rec in &records {
            for r in st
                .store
                .referrals(vigil_store::index::ReferralQuery::AboutChild(*rec))?
            {
                let v =
                    crate::readmodel::ReferralView::from_record(&r).map_err(AppError::Internal)?;
                if v.child_id == child.id || !seen.insert(v.id) {
                    continue;
                }
                *outcomes.entry(outcome_words(&v)).or_default() += 1;
            }
        }
        let mut outcomes: Vec<(String, usize)> = outcomes.into_iter().collect();
        outcomes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        m.records = records.len();
        m.referrals = seen.len();
        m.outcomes = outcomes;
        let i = rows.len();
        for r in records {
            row_of.entry(r).or_insert(i);
        }
        rows.push(m);
    }
    Ok(rows)
}

/// People the name index brings near `child` (each name word, and the date
/// of birth), among the agencies given (`None`: all), not `child`.
fn near(
    st: &App,
    child: &PersonView,
    visible: Option<&[String]>,
) -> Result<Vec<PersonView>, AppError> {
    let mut queries: Vec<String> = child
        .names
        .iter()
        .flat_map(|n| vigil_model::names::normalise_tokens(&n.display()))
        .filter(|t| t.chars().count() > 1)
        .collect();
    queries.sort();
    queries.dedup();
    if let Some(d) = &child.date_of_birth {
        queries.push(d.value.clone());
    }
    let mut ids = BTreeSet::new();
    for q in queries {
        let parsed = vigil_model::names::parse_query(&q);
        if parsed.is_empty() {
            continue;
        }
        for h in st.store.find_people(&parsed, visible, 50)? {
            if h.person_id != child.id {
                ids.insert(h.person_id);
            }
        }
    }
    let ids: Vec<Uuid> = ids.into_iter().collect();
    Ok(people_of(st, &ids)?.into_values().collect())
}

/// The scores of `child` against the people near it, at or above the
/// review band, best first.
fn scored_near(
    st: &App,
    scorer: &score::Scorer,
    child: &PersonView,
    visible: Option<&[String]>,
) -> Result<Vec<(PersonView, Score)>, AppError> {
    let mut out: Vec<(PersonView, Score)> = near(st, child, visible)?
        .into_iter()
        .map(|p| {
            let s = scorer.score(child, &p);
            (p, s)
        })
        .filter(|(_, s)| s.probability_ppm >= score::REVIEW_FROM_PPM)
        .collect();
    out.sort_by(|a, b| {
        b.1.probability_ppm
            .cmp(&a.1.probability_ppm)
            .then(a.0.id.cmp(&b.0.id))
    });
    Ok(out)
}

/// The possible existing records of `child` that this user may open, most
/// likely first; pairs a person said are not the same are left out.
pub(in crate::guard) fn possible_existing(
    st: &App,
    who: &Caller,
    child: &PersonView,
    visible: Option<&[String]>,
) -> Result<Vec<PossibleMatch>, AppError> {
    let found = scored_near(st, &st.scorer(), child, visible)?;
    let link_ids: Vec<Uuid> = found
        .iter()
        .map(|(p, _)| match_id(child.id, p.id))
        .collect();
    let decided: HashMap<Uuid, Pair> = pairs(st, &link_ids)?
        .into_iter()
        .map(|p| (match_id(p.a, p.b), p))
        .collect();
    let mut out = Vec::new();
    for (p, s) in found {
        if !may(who, Action::ViewPerson, person_resource(&p)) {
            continue;
        }
        let pair = decided.get(&match_id(child.id, p.id));
        if pair.is_some_and(|x| x.status.refused()) {
            continue;
        }
        let Some(link) = embed(st, who, &p, None) else {
            continue;
        };
        let status = pair.map(|x| x.status);
        out.push(PossibleMatch {
            person: link,
            probability_ppm: s.probability_ppm,
            can_confirm: status != Some(MatchStatus::Confirmed) && may_decide(who, child, &p),
            status,
            records: 1,
            folded: 0,
            referrals: 0,
            outcomes: Vec::new(),
        });
    }
    by_person(st, who, child, out)
}

/// Vigil's record of a model's score of a pair: `person_match.scored`,
/// by the system actor, with the model's (name, version).
pub(crate) fn scored_event(
    (model, model_version): &(String, String),
    a: Uuid,
    b: Uuid,
    s: Score,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<vigil_model::EventDraft, AppError> {
    let (actor, agency) = crate::queue::system_actor();
    let body = EventPayload::PersonMatchScored(PersonMatchScored {
        person_a: a,
        person_b: b,
        probability_ppm: s.probability_ppm,
        threshold_ppm: score::THRESHOLD_PPM,
        model: model.clone(),
        model_version: model_version.clone(),
        explanation: s.fields,
    });
    crate::referral::prepare(&actor, &agency, OccurredAt::exact(now), body, now)
        .map_err(AppError::Internal)
}

impl App {
    /// Scores a new person record against the people the name index brings
    /// near it (every agency's: this is Vigil's own matching, not a user's
    /// read) and records each score at or above the review band as
    /// `person_match.scored`, by Vigil. Incremental: no model run over the
    /// whole log. Returns how many were recorded.
    pub async fn match_at_intake(self: &Arc<Self>, person: Uuid) -> Result<usize, AppError> {
        let drafts = self
            .blocking(move |st| {
                let Some(child) = person_of(st, person)? else {
                    return Ok(Vec::new());
                };
                let now = st.now();
                // One model for the scores and the version they are written with.
                let scorer = st.scorer();
                let model = scorer.name_and_version();
                scored_near(st, &scorer, &child, None)?
                    .into_iter()
                    .map(|(p, s)| scored_event(&model, child.id, p.id, s, now))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let n = drafts.len();
        if n > 0 {
            for r in self.append(drafts).await? {
                r.map_err(|e| AppError::Internal(format!("a match score was refused: {e}")))?;
            }
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// The review queue and one pair
// ---------------------------------------------------------------------------

/// A pair in the review queue (undecided: scored by the model, below its
/// threshold or linked by it, and not yet confirmed or rejected).
#[derive(Clone, Debug)]
pub struct ReviewItem {
    pub a: PersonLink,
    pub b: PersonLink,
    pub probability_ppm: u32,
    pub status: MatchStatus,
    pub can_decide: bool,
}

/// One page of the review queue: pairs in the uncertain band this user may open.
pub struct ReviewQueue {
    pub items: Vec<ReviewItem>,
    /// Pairs in the band this user may open (on every page), counted up
    /// to some thousands past this page ([`vigil_store::index::REVIEW_COUNT_BEYOND`]).
    pub total: u64,
    /// The count stopped there: there are more than `total`.
    pub more: bool,
    /// Where this page starts in the whole queue.
    pub offset: u64,
}

/// The review queue: pairs in the uncertain band this user may open, best
/// first, `limit` of them from `offset`.
///
/// Read from the match review projection through its index, so a page
/// costs the same at a million pairs as at ten. The store filters by the
/// agencies of the two records ([`super::person_scope`]); each listed pair is
/// still checked against the access table before it is shown.
pub async fn review_queue(
    app: &Arc<App>,
    who: &Caller,
    offset: u64,
    limit: usize,
) -> Result<super::Authorised<ReviewQueue>, AppError> {
    let who = who.clone();
    app.blocking(move |st| {
        check(&who, Action::ReviewLinks, crate::access::Resource::Page)?;
        let page = st.store.match_review(&MatchReviewQuery {
            from_ppm: score::REVIEW_FROM_PPM,
            to_ppm: score::REVIEW_TO_PPM,
            open: super::person_scope(&who, Action::ViewPerson),
            review: super::person_scope(&who, Action::ReviewLinks),
            offset,
            limit: limit.min(MAX_REVIEW_PAGE) as u64,
        })?;
        let mut ids: Vec<Uuid> = page.rows.iter().flat_map(|r| [r.a, r.b]).collect();
        ids.sort();
        ids.dedup();
        let people = people_of(st, &ids)?;
        let links: Vec<Uuid> = page.rows.iter().map(|r| r.link_id).collect();
        let status: HashMap<(Uuid, Uuid), MatchStatus> = pairs(st, &links)?
            .into_iter()
            .map(|p| ((p.a, p.b), p.status))
            .collect();
        let mut items = Vec::new();
        for r in &page.rows {
            let (Some(a), Some(b), Some(&status)) =
                (people.get(&r.a), people.get(&r.b), status.get(&(r.a, r.b)))
            else {
                continue;
            };
            let open = |x: &PersonView| may(&who, Action::ViewPerson, person_resource(x));
            let review = may(&who, Action::ReviewLinks, person_resource(a))
                || may(&who, Action::ReviewLinks, person_resource(b));
            if !(open(a) && open(b) && review) {
                continue;
            }
            let (Some(la), Some(lb)) = (embed(st, &who, a, None), embed(st, &who, b, None)) else {
                continue;
            };
            items.push(ReviewItem {
                a: la,
                b: lb,
                probability_ppm: r.probability_ppm,
                status,
                can_decide: may_decide(&who, a, b),
            });
        }
        let subjects = super::shown_people(items.iter().flat_map(|i| [&i.a, &i.b]));
        authorised(
            st,
            &who,
            "listed possible matches for review",
            subjects,
            ReviewQueue {
                items,
                total: page.total,
                more: page.more,
                offset,
            },
        )
    })
    .await
}

/// One side of a pair, in full enough to compare.
#[derive(Clone, Debug)]
pub struct Side {
    pub person: PersonLink,
    pub names: Vec<String>,
    pub date_of_birth: String,
    pub agency: String,
    pub description: String,
}

/// Two records side by side, why the model scores them as it does, and how
/// the pair stands.
pub struct PairRecord {
    pub a: Side,
    pub b: Side,
    /// The latest score a model run recorded for the pair (the one the
    /// review queue shows), else the score the model gives them now.
    pub score: Score,
    /// Which model made the score, and when.
    pub scored_by: String,
    pub pair: Option<Pair>,
    pub status: String,
    pub can_decide: bool,
    /// A person confirmed them as the same (so only an undo is offered).
    pub confirmed: bool,
}

fn side(st: &App, who: &Caller, p: &PersonView) -> Option<Side> {
    Some(Side {
        person: embed(st, who, p, None)?,
        names: p
            .names
            .iter()
            .map(|n| format!("{} ({})", n.display(), n.kind.label().to_lowercase()))
            .collect(),
        date_of_birth: p
            .date_of_birth
            .as_ref()
            .map(|d| {
                crate::display::occurred(&OccurredAt {
                    value: d.value.clone(),
                    precision: d.precision,
                })
            })
            .unwrap_or_else(|| "Not recorded".into()),
        agency: super::agency_name(st, &p.recorded.agency),
        description: p.description.clone().unwrap_or_default(),
    })
}

/// Two records, as the pair page shows them: both must be records the user
/// may open, and they must see possible matches.
pub async fn pair(
    app: &Arc<App>,
    who: &Caller,
    a: Uuid,
    b: Uuid,
) -> Result<super::Authorised<PairRecord>, AppError> {
    let who = who.clone();
    app.blocking(move |st| {
        check(&who, Action::ReviewLinks, crate::access::Resource::Page)?;
        let (pa, pb) = both(st, a, b)?;
        check(&who, Action::ViewPerson, person_resource(&pa))?;
        check(&who, Action::ViewPerson, person_resource(&pb))?;
        let (Some(sa), Some(sb)) = (side(st, &who, &pa), side(st, &who, &pb)) else {
            return Err(AppError::Internal(
                "an openable person was not shown".into(),
            ));
        };
        let pair = pair_of(st, a, b)?;
        let status = pair
            .as_ref()
            .map(|p| status_words(st, p))
            .unwrap_or_else(|| "Not scored or decided before".into());
        let (score, scored_by) = match pair.as_ref().and_then(|p| p.score.as_ref()) {
            Some(s) if !s.explanation.is_empty() => (
                Score {
                    probability_ppm: s.probability_ppm,
                    fields: s.explanation.clone(),
                },
                format!(
                    "Scored by the model {} (version {}) on {}",
                    s.model,
                    s.model_version,
                    chrono::DateTime::parse_from_rfc3339(&s.scored.at)
                        .map(|t| crate::display::datetime(t.with_timezone(&chrono::Utc)))
                        .unwrap_or_default()
                ),
            ),
            _ => {
                let scorer = st.scorer();
                let (model, version) = scorer.name_and_version();
                (
                    scorer.score(&pa, &pb),
                    format!("Scored now by the model {model} (version {version})"),
                )
            }
        };
        authorised(
            st,
            &who,
            "compared two records as a possible match",
            vec![
                SubjectRef::new(EntityKind::Person, a),
                SubjectRef::new(EntityKind::Person, b),
            ],
            PairRecord {
                score,
                scored_by,
                confirmed: pair
                    .as_ref()
                    .is_some_and(|p| p.status == MatchStatus::Confirmed),
                can_decide: may_decide(&who, &pa, &pb),
                pair,
                status,
                a: sa,
                b: sb,
            },
        )
    })
    .await
}

fn both(st: &App, a: Uuid, b: Uuid) -> Result<(PersonView, PersonView), AppError> {
    let gone = || AppError::NotFound("There is no such pair of person records.".into());
    if a == b {
        return Err(gone());
    }
    let pa = person_of(st, a)?.ok_or_else(gone)?;
    let pb = person_of(st, b)?.ok_or_else(gone)?;
    Ok((pa, pb))
}

// ---------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------

/// What a person decides about two records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkDecision {
    /// "This is the same child."
    Confirm,
    /// "Not the same person" (a pair not linked, or linked by the model).
    Reject,
    /// "Not the same person" for a confirmed link (unmerge; needs a reason).
    Undo,
}

impl App {
    /// Records a decision about two person records, for a user who may open
    /// both and decide links for one of them. `Ok(Err(sentence))` when the
    /// rules refuse it (nothing was written): already decided so, an undo
    /// without a reason, ...
    pub async fn decide_link(
        self: &Arc<Self>,
        who: &Caller,
        a: Uuid,
        b: Uuid,
        decision: LinkDecision,
        reason: Option<String>,
    ) -> Result<Result<(), String>, AppError> {
        let who2 = who.clone();
        let draft = self
            .blocking(move |st| {
                let (pa, pb) = both(st, a, b)?;
                check(&who2, Action::ViewPerson, person_resource(&pa))?;
                check(&who2, Action::ViewPerson, person_resource(&pb))?;
                if !may_decide(&who2, &pa, &pb) {
                    return Err(AppError::Forbidden(
                        "Your role cannot decide whether these records are the same person: neither is your agency's.".into(),
                    ));
                }
                let pair = pair_of(st, a, b)?;
                let decision = match (decision, &pair) {
                    // "Not the same" for a linked pair withdraws the link.
                    (LinkDecision::Reject, Some(p)) if p.status == MatchStatus::Confirmed => {
                        LinkDecision::Undo
                    }
                    (d, _) => d,
                };
                let shown = Some(st.scorer().score(&pa, &pb).probability_ppm);
                let body = match decision {
                    LinkDecision::Confirm => EventPayload::PersonMatchConfirmed(PersonMatchConfirmed {
                        person_a: a,
                        person_b: b,
                        probability_ppm: shown,
                        reason: reason.clone(),
                    }),
                    LinkDecision::Reject => EventPayload::PersonMatchRejected(PersonMatchRejected {
                        person_a: a,
                        person_b: b,
                        probability_ppm: shown,
                        reason: reason.clone(),
                    }),
                    LinkDecision::Undo => EventPayload::PersonMatchUndone(PersonMatchUndone {
                        person_a: a,
                        person_b: b,
                        reason: reason.clone().unwrap_or_default(),
                    }),
                };
                let (actor, agency) = who2.actor()?;
                let now = st.now();
                Ok(crate::referral::prepare(&actor, &agency, OccurredAt::exact(now), body, now))
            })
            .await?;
        let draft = match draft {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(())),
            Some(Err(msg)) => Ok(Err(crate::sentence(&msg))),
            None => Err(AppError::Internal("the decision was not written".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn pair(a: u128, b: u128, status: MatchStatus, ppm: u32) -> Pair {
        Pair {
            a: id(a),
            b: id(b),
            status,
            score: Some(MatchScore {
                probability_ppm: ppm,
                threshold_ppm: 500_000,
                model: "m".into(),
                model_version: "1".into(),
                explanation: vec![],
                scored: vigil_model::state::Stamp {
                    at: String::new(),
                    by: String::new(),
                    agency: vigil_model::codes::AgencyId::new("vigil").unwrap(),
                    event_id: Uuid::nil(),
                    source_at: None,
                },
            }),
            decision: None,
        }
    }

    fn walk(start: u128, all: &[Pair]) -> Vec<u128> {
        cluster::<()>(id(start), |p| {
            Ok(all
                .iter()
                .filter(|x| x.a == p || x.b == p)
                .cloned()
                .collect())
        })
        .unwrap()
        .iter()
        .map(|m| m.id.as_u128())
        .collect()
    }

    #[test]
    fn a_rejection_is_respected_through_a_third_record() {
        use MatchStatus::*;
        // 1~2 rejected; the model links 1~3 and 3~2: 2 must not join 1.
        let all = [
            pair(1, 2, Rejected, 700_000),
            pair(1, 3, LinkedByModel, 900_000),
            pair(3, 2, LinkedByModel, 800_000),
            pair(4, 5, LinkedByModel, 990_000),
        ];
        assert_eq!(walk(1, &all), [3]);
        // From 2's side, 3 joins first, then 1 is refused against 2.
        assert_eq!(walk(2, &all), [3]);
        // A confirmation always joins, and its records' links follow.
        let mut all = all.to_vec();
        all.push(pair(2, 6, Confirmed, 0));
        all.push(pair(6, 1, Confirmed, 0));
        assert_eq!(walk(1, &all), [6, 2, 3]);
        // Proposed, undone and rejected pairs join nothing.
        let all = [pair(1, 2, Proposed, 450_000), pair(1, 3, Undone, 990_000)];
        assert!(walk(1, &all).is_empty());
    }

    #[test]
    fn a_merged_page_filters_counts_and_pages_like_the_store() {
        let row = |i: u64, agency: &str, kind: &str| ChronologyRow {
            person_id: id(1),
            log_index: i,
            event_id: Uuid::nil(),
            kind: kind.into(),
            agency: agency.into(),
            actor: "u".into(),
            occurred_at: OccurredAt {
                value: "2024".into(),
                precision: vigil_model::Precision::Year,
            },
            occurred_sort: i as i64,
            recorded_at: String::new(),
            record_id: Uuid::nil(),
            record_kind: "person".into(),
            record_agency: agency.into(),
            record_user: "u".into(),
            role: vigil_model::index::Role::Subject,
        };
        let rows = [
            row(1, "police", "person.recorded"),
            row(2, "council", "person.recorded"),
            row(3, "council", "referral.submitted"),
        ];
        let p = page_of(&rows, &["council".into()], &[], 1, 10);
        assert_eq!(p.total, 2);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].log_index, 3);
        assert_eq!(
            p.agencies,
            [("council".to_owned(), 2), ("police".to_owned(), 1)]
        );
        assert_eq!(p.kinds.len(), 2);
    }
}
