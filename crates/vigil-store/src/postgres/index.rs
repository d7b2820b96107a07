//! The secondary projection tables on PostgreSQL (see [`crate::index`]):
//! `uuid` ids, `date` days, `COLLATE "C"` wherever rows are listed in
//! order, so the order is byte order as on SQLite and as verification
//! expects. The append path sends a batch's index rows in the same statement
//! as its entries and tree head ([`write_index_ctes`]).

use super::{entity_row, index_of, Conn};
use crate::entity_from_row;
use crate::index::{
    parse_precision, precision_name, ChronologyPage, ChronologyQuery, ChronologyRow, EntityRows,
    PersonHit, ReferralQuery, Visibility,
};
use crate::StoreError;
use postgres::types::ToSql;
use postgres::Row;
use std::collections::HashMap;
use uuid::Uuid;
use vigil_model::index::{EdgeRow, MatchReviewRow, NameKeyRow, ReferralRow, Role};
use vigil_model::names::{KeyKind, NameQuery};
use vigil_model::projection::EntityRecord;
use vigil_model::{EntityKind, OccurredAt, SubjectRef};

pub(crate) const MIGRATION: &str = r#"
CREATE TABLE chronology (
    idx                BIGINT NOT NULL,
    person_id          UUID NOT NULL,
    event_id           UUID NOT NULL,
    kind               TEXT COLLATE "C" NOT NULL,
    agency             TEXT COLLATE "C" NOT NULL,
    actor              TEXT NOT NULL,
    occurred_value     TEXT NOT NULL,
    occurred_precision TEXT NOT NULL,
    occurred_sort      BIGINT NOT NULL,
    recorded_at        TEXT NOT NULL,
    record_id          UUID NOT NULL,
    record_kind        TEXT NOT NULL,
    record_agency      TEXT NOT NULL,
    record_user        TEXT NOT NULL,
    role               TEXT NOT NULL,
    PRIMARY KEY (idx, person_id)
);
CREATE INDEX chronology_person ON chronology(person_id, occurred_sort, idx);
CREATE TABLE edges (
    link_id    UUID PRIMARY KEY,
    from_kind  TEXT NOT NULL,
    from_id    UUID NOT NULL,
    to_kind    TEXT NOT NULL,
    to_id      UUID NOT NULL,
    kind       TEXT NOT NULL,
    first_seen DATE NOT NULL,
    last_seen  DATE NOT NULL,
    active     BOOLEAN NOT NULL,
    agency     TEXT NOT NULL
);
CREATE INDEX edges_from ON edges(from_id);
CREATE INDEX edges_to ON edges(to_id, kind);
-- No unique key: a batch deletes a source's keys and inserts its new ones in
-- one statement, whose parts all see the table as it was before it.
CREATE TABLE name_keys (
    source_id UUID NOT NULL,
    person_id UUID NOT NULL,
    kind      TEXT COLLATE "C" NOT NULL,
    key       TEXT COLLATE "C" NOT NULL,
    agency    TEXT NOT NULL
);
CREATE INDEX name_keys_source ON name_keys(source_id, person_id, kind, key);
CREATE INDEX name_keys_key ON name_keys(kind, key) INCLUDE (person_id, agency);
CREATE TABLE referrals (
    referral_id      UUID PRIMARY KEY,
    child_id         UUID NOT NULL,
    submitted_by     TEXT NOT NULL,
    submitted_agency TEXT NOT NULL,
    status           TEXT NOT NULL,
    submitted_at     TEXT COLLATE "C" NOT NULL,
    decided_at       TEXT,
    reference        TEXT NOT NULL
);
CREATE INDEX referrals_status ON referrals(status, submitted_at);
CREATE INDEX referrals_submitter ON referrals(submitted_by, submitted_agency, submitted_at);
CREATE INDEX referrals_child ON referrals(child_id, submitted_at);
CREATE INDEX referrals_reference ON referrals(reference);
"#;

/// Migration 7: the review queue of undecided scored pairs (projection
/// version 4; a store with a log gets an empty table and rebuilds).
pub(crate) const MATCH_REVIEW_MIGRATION: &str = r#"
CREATE TABLE match_review (
    link_id         UUID PRIMARY KEY,
    a_id            UUID NOT NULL,
    b_id            UUID NOT NULL,
    a_agency        TEXT NOT NULL,
    b_agency        TEXT NOT NULL,
    probability_ppm BIGINT NOT NULL
);
CREATE INDEX match_review_order ON match_review(probability_ppm DESC, a_id, b_id) INCLUDE (a_agency, b_agency);
CREATE INDEX match_review_agency ON match_review(a_agency, b_agency, probability_ppm DESC, a_id, b_id);
"#;

/// The index rows of a batch as statement parameters `$1` to `$46`, as
/// data-modifying CTEs (the caller adds the rest of the statement).
macro_rules! write_index_ctes {
    () => {
        "WITH c AS (
       INSERT INTO chronology(idx, person_id, event_id, kind, agency, actor, occurred_value,
         occurred_precision, occurred_sort, recorded_at, record_id, record_kind, record_agency,
         record_user, role)
       SELECT * FROM unnest($1::int8[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
         $6::text[], $7::text[], $8::text[], $9::int8[], $10::text[], $11::uuid[], $12::text[],
         $13::text[], $14::text[], $15::text[])),
     g AS (
       INSERT INTO edges(link_id, from_kind, from_id, to_kind, to_id, kind, first_seen,
         last_seen, active, agency)
       SELECT * FROM unnest($16::uuid[], $17::text[], $18::uuid[], $19::text[], $20::uuid[],
         $21::text[], $22::text[]::date[], $23::text[]::date[], $24::bool[], $25::text[])
       ON CONFLICT (link_id) DO UPDATE SET from_kind = excluded.from_kind,
         from_id = excluded.from_id, to_kind = excluded.to_kind, to_id = excluded.to_id,
         kind = excluded.kind, first_seen = excluded.first_seen,
         last_seen = excluded.last_seen, active = excluded.active, agency = excluded.agency),
     f AS (
       INSERT INTO referrals(referral_id, child_id, submitted_by, submitted_agency, status,
         submitted_at, decided_at, reference)
       SELECT * FROM unnest($26::uuid[], $27::uuid[], $28::text[], $29::text[], $30::text[],
         $31::text[], $32::text[], $33::text[])
       ON CONFLICT (referral_id) DO UPDATE SET child_id = excluded.child_id,
         submitted_by = excluded.submitted_by, submitted_agency = excluded.submitted_agency,
         status = excluded.status, submitted_at = excluded.submitted_at,
         decided_at = excluded.decided_at, reference = excluded.reference),
     d AS (DELETE FROM name_keys WHERE source_id = ANY($34::uuid[])),
     k AS (
       INSERT INTO name_keys(source_id, person_id, kind, key, agency)
       SELECT * FROM unnest($35::uuid[], $36::uuid[], $37::text[], $38::text[], $39::text[])),
     rd AS (DELETE FROM match_review WHERE link_id = ANY($40::uuid[])),
     ri AS (
       INSERT INTO match_review(link_id, a_id, b_id, a_agency, b_agency, probability_ppm)
       SELECT * FROM unnest($41::uuid[], $42::uuid[], $43::uuid[], $44::text[], $45::text[],
         $46::int8[])
       ON CONFLICT (link_id) DO UPDATE SET a_id = excluded.a_id, b_id = excluded.b_id,
         a_agency = excluded.a_agency, b_agency = excluded.b_agency,
         probability_ppm = excluded.probability_ppm)"
    };
}
pub(crate) use write_index_ctes;

/// The index rows alone (a rebuild page, or before a read in a batch).
pub(super) const WRITE_INDEX: &str = concat!(write_index_ctes!(), " SELECT 1");

/// A batch's index rows, buffered as the columns of [`write_index_ctes`].
#[derive(Default)]
pub(super) struct IndexColumns {
    c_idx: Vec<i64>,
    c_person: Vec<Uuid>,
    c_event: Vec<Uuid>,
    c_kind: Vec<String>,
    c_agency: Vec<String>,
    c_actor: Vec<String>,
    c_value: Vec<String>,
    c_precision: Vec<String>,
    c_sort: Vec<i64>,
    c_recorded: Vec<String>,
    c_record: Vec<Uuid>,
    c_record_kind: Vec<String>,
    c_record_agency: Vec<String>,
    c_record_user: Vec<String>,
    c_role: Vec<String>,
    g_link: Vec<Uuid>,
    g_from_kind: Vec<String>,
    g_from: Vec<Uuid>,
    g_to_kind: Vec<String>,
    g_to: Vec<Uuid>,
    g_kind: Vec<String>,
    g_first: Vec<String>,
    g_last: Vec<String>,
    g_active: Vec<bool>,
    g_agency: Vec<String>,
    f_id: Vec<Uuid>,
    f_child: Vec<Uuid>,
    f_by: Vec<String>,
    f_agency: Vec<String>,
    f_status: Vec<String>,
    f_at: Vec<String>,
    f_decided: Vec<Option<String>>,
    f_reference: Vec<String>,
    d_sources: Vec<Uuid>,
    k_source: Vec<Uuid>,
    k_person: Vec<Uuid>,
    k_kind: Vec<String>,
    k_key: Vec<String>,
    k_agency: Vec<String>,
    /// Review rows deleted (links whose pair was decided); never a link
    /// that `v_link` writes, as both parts of the statement see the table
    /// as it was before it.
    rd_links: Vec<Uuid>,
    v_link: Vec<Uuid>,
    v_a: Vec<Uuid>,
    v_b: Vec<Uuid>,
    v_a_agency: Vec<String>,
    v_b_agency: Vec<String>,
    v_ppm: Vec<i64>,
}

impl IndexColumns {
    pub(super) fn is_empty(&self) -> bool {
        self.c_idx.is_empty()
            && self.g_link.is_empty()
            && self.f_id.is_empty()
            && self.d_sources.is_empty()
            && self.rd_links.is_empty()
            && self.v_link.is_empty()
    }

    pub(super) fn push_chronology(&mut self, rows: &[ChronologyRow]) {
        for r in rows {
            self.c_idx.push(r.log_index as i64);
            self.c_person.push(r.person_id);
            self.c_event.push(r.event_id);
            self.c_kind.push(r.kind.clone());
            self.c_agency.push(r.agency.clone());
            self.c_actor.push(r.actor.clone());
            self.c_value.push(r.occurred_at.value.clone());
            self.c_precision
                .push(precision_name(r.occurred_at.precision).to_owned());
            self.c_sort.push(r.occurred_sort);
            self.c_recorded.push(r.recorded_at.clone());
            self.c_record.push(r.record_id);
            self.c_record_kind.push(r.record_kind.clone());
            self.c_record_agency.push(r.record_agency.clone());
            self.c_record_user.push(r.record_user.clone());
            self.c_role.push(r.role.as_str().to_owned());
        }
    }

    pub(super) fn push_entity_rows(&mut self, rows: &EntityRows) {
        for e in &rows.edges {
            self.g_link.push(e.link_id);
            self.g_from_kind.push(e.from.kind.as_str().to_owned());
            self.g_from.push(e.from.id);
            self.g_to_kind.push(e.to.kind.as_str().to_owned());
            self.g_to.push(e.to.id);
            self.g_kind.push(e.kind.clone());
            self.g_first.push(e.first_seen.to_string());
            self.g_last.push(e.last_seen.to_string());
            self.g_active.push(e.active);
            self.g_agency.push(e.agency.clone());
        }
        for r in &rows.referrals {
            self.f_id.push(r.referral_id);
            self.f_child.push(r.child_id);
            self.f_by.push(r.submitted_by.clone());
            self.f_agency.push(r.submitted_agency.clone());
            self.f_status.push(r.status.clone());
            self.f_at.push(r.submitted_at.clone());
            self.f_decided.push(r.decided_at.clone());
            self.f_reference.push(r.reference.clone());
        }
        // A link whose row is rewritten is updated in place (ON CONFLICT),
        // not deleted: only those left without a row are.
        let kept: std::collections::HashSet<Uuid> =
            rows.reviews.iter().map(|r| r.link_id).collect();
        self.rd_links
            .extend(rows.review_sources.iter().filter(|l| !kept.contains(l)));
        for r in &rows.reviews {
            self.v_link.push(r.link_id);
            self.v_a.push(r.a);
            self.v_b.push(r.b);
            self.v_a_agency.push(r.a_agency.clone());
            self.v_b_agency.push(r.b_agency.clone());
            self.v_ppm.push(i64::from(r.probability_ppm));
        }
        self.d_sources.extend(&rows.name_sources);
        for k in &rows.names {
            self.k_source.push(k.source_id);
            self.k_person.push(k.person_id);
            self.k_kind.push(k.kind.as_str().to_owned());
            self.k_key.push(k.key.clone());
            self.k_agency.push(k.agency.clone());
        }
    }

    /// The 46 parameters, in statement order.
    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.c_idx,
            &self.c_person,
            &self.c_event,
            &self.c_kind,
            &self.c_agency,
            &self.c_actor,
            &self.c_value,
            &self.c_precision,
            &self.c_sort,
            &self.c_recorded,
            &self.c_record,
            &self.c_record_kind,
            &self.c_record_agency,
            &self.c_record_user,
            &self.c_role,
            &self.g_link,
            &self.g_from_kind,
            &self.g_from,
            &self.g_to_kind,
            &self.g_to,
            &self.g_kind,
            &self.g_first,
            &self.g_last,
            &self.g_active,
            &self.g_agency,
            &self.f_id,
            &self.f_child,
            &self.f_by,
            &self.f_agency,
            &self.f_status,
            &self.f_at,
            &self.f_decided,
            &self.f_reference,
            &self.d_sources,
            &self.k_source,
            &self.k_person,
            &self.k_kind,
            &self.k_key,
            &self.k_agency,
            &self.rd_links,
            &self.v_link,
            &self.v_a,
            &self.v_b,
            &self.v_a_agency,
            &self.v_b_agency,
            &self.v_ppm,
        ]
    }
}

pub(super) const PROJECTION_VERSION: &str =
    "SELECT value FROM meta WHERE key = 'projection_version'";

pub(super) fn parse_version(v: Option<String>) -> Result<Option<u32>, StoreError> {
    v.map(|t| {
        t.parse().map_err(|_| {
            StoreError::Corrupt(format!("meta.projection_version '{t}' is not a number"))
        })
    })
    .transpose()
}

pub(super) const SET_PROJECTION_VERSION: &str =
    "INSERT INTO meta(key, value) VALUES ('projection_version', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

pub(super) const PLACE_LINKS: &str =
    "SELECT link_id FROM edges WHERE to_id = $1 AND kind IN ('lives_at', 'stays_at')";

pub(super) const CHRONOLOGY_COLUMNS: &str =
    "SELECT idx, person_id, event_id, kind, agency, actor, occurred_value,
    occurred_precision, occurred_sort, recorded_at, record_id, record_kind, record_agency,
    record_user, role FROM chronology ORDER BY idx, person_id";
pub(super) const EDGES_ALL: &str =
    "SELECT link_id, from_kind, from_id, to_kind, to_id, kind, first_seen::text,
    last_seen::text, active, agency FROM edges ORDER BY link_id";
pub(super) const NAME_KEYS_ALL: &str =
    "SELECT source_id, person_id, kind, key, agency FROM name_keys
    ORDER BY source_id, person_id, kind, key";
pub(super) const MATCH_REVIEW_ALL: &str =
    "SELECT link_id, a_id, b_id, a_agency, b_agency, probability_ppm FROM match_review
    ORDER BY link_id";
pub(super) const REFERRALS_ALL: &str =
    "SELECT referral_id, child_id, submitted_by, submitted_agency, status,
    submitted_at, decided_at, reference FROM referrals ORDER BY referral_id";

pub(super) fn chronology_row(r: &Row) -> Result<ChronologyRow, StoreError> {
    let idx: i64 = r.try_get(0)?;
    let bad = |what: &str| StoreError::Corrupt(format!("chronology row for entry {idx}: {what}"));
    let precision: String = r.try_get(7)?;
    let role: String = r.try_get(14)?;
    Ok(ChronologyRow {
        log_index: index_of(idx)?,
        person_id: r.try_get(1)?,
        event_id: r.try_get(2)?,
        kind: r.try_get(3)?,
        agency: r.try_get(4)?,
        actor: r.try_get(5)?,
        occurred_at: OccurredAt {
            value: r.try_get(6)?,
            precision: parse_precision(&precision).ok_or_else(|| bad("unknown precision"))?,
        },
        occurred_sort: r.try_get(8)?,
        recorded_at: r.try_get(9)?,
        record_id: r.try_get(10)?,
        record_kind: r.try_get(11)?,
        record_agency: r.try_get(12)?,
        record_user: r.try_get(13)?,
        role: Role::parse(&role).ok_or_else(|| bad("unknown role"))?,
    })
}

pub(super) fn edge_row(r: &Row) -> Result<EdgeRow, StoreError> {
    let bad = || StoreError::Corrupt("a row of the edges table is not readable".into());
    let kind = |i: usize| -> Result<EntityKind, StoreError> {
        EntityKind::parse(&r.try_get::<_, String>(i)?).ok_or_else(bad)
    };
    let day = |i: usize| -> Result<chrono::NaiveDate, StoreError> {
        chrono::NaiveDate::parse_from_str(&r.try_get::<_, String>(i)?, "%Y-%m-%d")
            .map_err(|_| bad())
    };
    Ok(EdgeRow {
        link_id: r.try_get(0)?,
        from: SubjectRef::new(kind(1)?, r.try_get(2)?),
        to: SubjectRef::new(kind(3)?, r.try_get(4)?),
        kind: r.try_get(5)?,
        first_seen: day(6)?,
        last_seen: day(7)?,
        active: r.try_get(8)?,
        agency: r.try_get(9)?,
    })
}

pub(super) fn name_key_row(r: &Row) -> Result<NameKeyRow, StoreError> {
    let kind: String = r.try_get(2)?;
    Ok(NameKeyRow {
        source_id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        kind: KeyKind::parse(&kind).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "a row of the name_keys table has the unknown kind '{kind}'"
            ))
        })?,
        key: r.try_get(3)?,
        agency: r.try_get(4)?,
    })
}

pub(super) fn referral_row(r: &Row) -> Result<ReferralRow, StoreError> {
    Ok(ReferralRow {
        referral_id: r.try_get(0)?,
        child_id: r.try_get(1)?,
        submitted_by: r.try_get(2)?,
        submitted_agency: r.try_get(3)?,
        status: r.try_get(4)?,
        submitted_at: r.try_get(5)?,
        decided_at: r.try_get(6)?,
        reference: r.try_get(7)?,
    })
}

pub(super) fn match_review_row(r: &Row) -> Result<MatchReviewRow, StoreError> {
    let ppm: i64 = r.try_get(5)?;
    Ok(MatchReviewRow {
        link_id: r.try_get(0)?,
        a: r.try_get(1)?,
        b: r.try_get(2)?,
        a_agency: r.try_get(3)?,
        b_agency: r.try_get(4)?,
        probability_ppm: u32::try_from(ppm).map_err(|_| {
            StoreError::Corrupt(format!(
                "a row of the match_review table has the probability {ppm}, out of range"
            ))
        })?,
    })
}

/// The pairs awaiting review: `$1`..`$2` the band, `$3` "may open every
/// agency's records" or `$4` the agencies that may be opened, `$5` "may
/// review every agency's" or `$6` those that may be reviewed.
macro_rules! match_review_filter {
    () => {
        " probability_ppm BETWEEN $1 AND $2
     AND ($3 OR (a_agency = ANY($4) AND b_agency = ANY($4)))
     AND ($5 OR a_agency = ANY($6) OR b_agency = ANY($6))"
    };
}
const MATCH_REVIEW_COUNT: &str = concat!(
    "SELECT count(*) FROM (SELECT 1 FROM match_review WHERE",
    match_review_filter!(),
    " LIMIT $7) AS capped"
);
const MATCH_REVIEW_PAGE: &str = concat!(
    "SELECT link_id, a_id, b_id, a_agency, b_agency, probability_ppm FROM match_review WHERE",
    match_review_filter!(),
    " ORDER BY probability_ppm DESC, a_id, b_id LIMIT $7 OFFSET $8"
);

/// The pairs awaiting review (see [`crate::index::MatchReviewQuery`]).
pub(super) fn match_review(
    c: &mut Conn,
    q: &crate::index::MatchReviewQuery,
) -> Result<crate::index::MatchReviewPage, StoreError> {
    let scope = |v: &Visibility| -> Option<(bool, Vec<String>)> {
        match v {
            Visibility::All => Some((true, Vec::new())),
            Visibility::Agencies(a) => Some((false, a.clone())),
            // Nobody opens a person record as its submitter.
            Visibility::Submitter { .. } => None,
        }
    };
    let (Some((open_all, open)), Some((review_all, review))) = (scope(&q.open), scope(&q.review))
    else {
        return Ok(Default::default());
    };
    let (from, to) = (i64::from(q.from_ppm), i64::from(q.to_ppm));
    let limit = q.limit.min(i64::MAX as u64) as i64;
    let offset = q.offset.min(i64::MAX as u64) as i64;
    let count = c.stmt(MATCH_REVIEW_COUNT)?;
    let cap = q.count_cap().min(i64::MAX as u64) as i64;
    let total: i64 = c
        .client
        .query_one(
            &count,
            &[&from, &to, &open_all, &open, &review_all, &review, &cap],
        )?
        .try_get(0)?;
    let page = c.stmt(MATCH_REVIEW_PAGE)?;
    let rows = c
        .client
        .query(
            &page,
            &[
                &from,
                &to,
                &open_all,
                &open,
                &review_all,
                &review,
                &limit,
                &offset,
            ],
        )?
        .iter()
        .map(match_review_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::index::MatchReviewPage {
        rows,
        total: total as u64,
        more: total >= cap,
    })
}

// The visibility rule in the queries below: `$1` person, `$2` "every
// agency", `$3` the agencies, `$4`/`$5` the submitter (NULL: anyone).

const CHRONOLOGY_FACETS: &str = "SELECT 'a', agency, count(*) FROM chronology WHERE person_id = $1 AND ($2 OR record_agency = ANY($3))
     AND ($4::text IS NULL OR (record_user = $4 AND record_agency = $5)) GROUP BY agency
   UNION ALL
   SELECT 'k', kind, count(*) FROM chronology WHERE person_id = $1 AND ($2 OR record_agency = ANY($3))
     AND ($4::text IS NULL OR (record_user = $4 AND record_agency = $5)) GROUP BY kind";

/// The columns of [`chronology_row`].
macro_rules! chronology_columns {
    () => {
        "SELECT idx, person_id, event_id, kind, agency, actor, occurred_value,
    occurred_precision, occurred_sort, recorded_at, record_id, record_kind, record_agency,
    record_user, role"
    };
}

/// The rows a page query reads (see the visibility rule above; `$6`/`$7` the
/// agency and kind filters).
macro_rules! chronology_where {
    () => {
        " FROM chronology
   WHERE person_id = $1 AND ($2 OR record_agency = ANY($3))
     AND ($4::text IS NULL OR (record_user = $4 AND record_agency = $5))
     AND (cardinality($6::text[]) = 0 OR agency = ANY($6))
     AND (cardinality($7::text[]) = 0 OR kind = ANY($7))"
    };
}

const CHRONOLOGY_PAGE: &str = concat!(
    chronology_columns!(),
    ", count(*) OVER ()",
    chronology_where!(),
    " ORDER BY occurred_sort, idx LIMIT $8 OFFSET $9"
);

/// [`CHRONOLOGY_PAGE`] without the count (which makes the database read
/// every matching row before the page).
const CHRONOLOGY_ROWS: &str = concat!(
    chronology_columns!(),
    chronology_where!(),
    " ORDER BY occurred_sort, idx LIMIT $8 OFFSET $9"
);

const CHRONOLOGY_COUNT: &str = concat!("SELECT count(*)", chronology_where!());

/// The parameters `$2` to `$5` of the visibility rule.
fn visibility_params(v: &Visibility) -> (bool, Vec<String>, Option<String>, Option<String>) {
    match v {
        Visibility::All => (true, Vec::new(), None, None),
        Visibility::Agencies(list) => (false, list.clone(), None, None),
        Visibility::Submitter { user_id, agency } => (
            true,
            Vec::new(),
            Some(user_id.clone()),
            Some(agency.clone()),
        ),
    }
}

pub(super) fn chronology(
    c: &mut Conn,
    person: Uuid,
    q: &ChronologyQuery,
) -> Result<ChronologyPage, StoreError> {
    let (all, agencies, user, agency) = visibility_params(&q.visibility);
    let mut page = ChronologyPage::default();
    let facets = if q.counts {
        let s = c.stmt(CHRONOLOGY_FACETS)?;
        c.client
            .query(&s, &[&person, &all, &agencies, &user, &agency])?
    } else {
        Vec::new()
    };
    for r in facets {
        let which: String = r.try_get(0)?;
        let name: String = r.try_get(1)?;
        let n = r.try_get::<_, i64>(2)? as u64;
        if which == "a" {
            page.agencies.push((name, n));
        } else {
            page.kinds.push((name, n));
        }
    }
    page.agencies.sort();
    page.kinds.sort();
    let limit = q.limit.min(crate::index::MAX_PAGE) as i64;
    let offset = q.offset.min(i64::MAX as u64) as i64;
    let s = c.stmt(if q.counts {
        CHRONOLOGY_PAGE
    } else {
        CHRONOLOGY_ROWS
    })?;
    let rows = c.client.query(
        &s,
        &[
            &person,
            &all,
            &agencies,
            &user,
            &agency,
            &q.agencies,
            &q.kinds,
            &limit,
            &offset,
        ],
    )?;
    page.total = match rows.first() {
        _ if !q.counts => 0,
        Some(r) => r.try_get::<_, i64>(15)? as u64,
        // Past the last page (or nothing): count without the page.
        None => {
            let s = c.stmt(CHRONOLOGY_COUNT)?;
            let r = c.client.query_one(
                &s,
                &[
                    &person,
                    &all,
                    &agencies,
                    &user,
                    &agency,
                    &q.agencies,
                    &q.kinds,
                ],
            )?;
            r.try_get::<_, i64>(0)? as u64
        }
    };
    for r in &rows {
        page.rows.push(chronology_row(r)?);
    }
    Ok(page)
}

pub(super) fn chronology_head(c: &mut Conn, person: Uuid) -> Result<Option<u64>, StoreError> {
    let s = c.stmt("SELECT max(idx) FROM chronology WHERE person_id = $1")?;
    let idx: Option<i64> = c.client.query_one(&s, &[&person])?.try_get(0)?;
    Ok(idx.map(|i| i as u64))
}

/// Search in one statement: each person's best weight in each group of
/// the query (`q`: group, kind, key, weight), those with every group, best
/// total first, then by id (uuids compare as bytes, as `Uuid` does), and
/// the query keys those few have, for [`crate::index::rank`].
const FIND_PEOPLE: &str = "WITH q AS (
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) AS q(g, kind, key, w)),
   best AS (
     SELECT nk.person_id, q.g, max(q.w) AS w
       FROM q JOIN name_keys nk ON nk.kind = q.kind AND nk.key = q.key
      WHERE $5::text[] IS NULL OR nk.agency = ANY($5)
      GROUP BY nk.person_id, q.g),
   top AS (
     SELECT person_id FROM best GROUP BY person_id HAVING count(*) = $6
      ORDER BY sum(w) DESC, person_id LIMIT $7)
   SELECT nk.person_id, nk.kind, nk.key
     FROM top CROSS JOIN (SELECT DISTINCT kind, key FROM q) k
     JOIN name_keys nk ON nk.kind = k.kind AND nk.key = k.key AND nk.person_id = top.person_id
    WHERE $5::text[] IS NULL OR nk.agency = ANY($5)";

/// The entity rows a person's page needs, in one statement: part 0 the
/// person, part 1 the referrals about them (as [`REFERRALS_ABOUT`] orders
/// them), part 2 the entities with the ids `$3` (by id); and on every row
/// the person's chronology head (an init plan, evaluated once: one probe
/// of the `chronology_head` index).
const PAGE_ENTITIES: &str = "SELECT part, id, kind, state, created_idx, updated_idx,
     (SELECT max(idx) FROM chronology WHERE person_id = $2) FROM (
     SELECT 0 AS part, '' AS at, id, kind, state, created_idx, updated_idx
       FROM entities WHERE id = $1
     UNION ALL
     SELECT 1, r.submitted_at, e.id, e.kind, e.state, e.created_idx, e.updated_idx
       FROM referrals r JOIN entities e ON e.id = r.referral_id::text WHERE r.child_id = $2
     UNION ALL
     SELECT 2, '', id, kind, state, created_idx, updated_idx FROM entities WHERE id = ANY($3)
   ) p ORDER BY part, at DESC, id";

/// [`crate::Store::person_page`] in two round trips (the person's links;
/// then [`PAGE_ENTITIES`]), and a third for a page of the chronology.
pub(super) fn person_page(
    c: &mut Conn,
    person: Uuid,
    q: Option<&ChronologyQuery>,
    ends: &dyn Fn(&EdgeRow) -> Option<Uuid>,
) -> Result<crate::index::PersonPage, StoreError> {
    let edges = edges_of(c, person)?;
    let ids: Vec<String> = crate::index::end_ids(&edges, ends)
        .iter()
        .map(Uuid::to_string)
        .collect();
    let mut out = crate::index::PersonPage {
        edges,
        ..Default::default()
    };
    let s = c.stmt(PAGE_ENTITIES)?;
    let rows = c.client.query(&s, &[&person.to_string(), &person, &ids])?;
    out.head = match rows.first() {
        Some(r) => r.try_get::<_, Option<i64>>(6)?.map(index_of).transpose()?,
        // No such entity and nothing about it: as `chronology_head` says.
        None => chronology_head(c, person)?,
    };
    for r in &rows {
        let part: i32 = r.try_get(0)?;
        let e = entity_from_row((
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
        ))?;
        match part {
            0 => out.person = Some(e),
            1 => out.referrals.push(e),
            _ => out.ends.push(e),
        }
    }
    if let Some(q) = q {
        out.page = chronology(c, person, q)?;
    }
    Ok(out)
}

/// Search on PostgreSQL: one round trip, which scores every row of the
/// query's keys in the server and sends back only the top `limit` people's
/// keys; ranked here by the one rule, so the people, scores and order are
/// those of [`crate::index::rank`] over every row (tests/search_scale.rs).
/// SQLite's walk (`crate::index::find_people`) reads less but asks many
/// small questions, each a round trip here.
pub(super) fn find_people(
    c: &mut Conn,
    q: &NameQuery,
    visible: Option<&[String]>,
    limit: usize,
) -> Result<Vec<PersonHit>, StoreError> {
    if q.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let (mut groups, mut kinds, mut texts, mut weights) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (g, group) in q.groups.iter().enumerate() {
        for k in &group.keys {
            groups.push(g as i32);
            kinds.push(k.kind.as_str().to_owned());
            texts.push(k.key.clone());
            weights.push(k.weight.min(i32::MAX as u32) as i32);
        }
    }
    let visible: Option<Vec<String>> = visible.map(<[String]>::to_vec);
    let n_groups = q.groups.len() as i64;
    let top = limit.min(i64::MAX as usize) as i64;
    let s = c.stmt(FIND_PEOPLE)?;
    let mut has: HashMap<Uuid, Vec<(KeyKind, String)>> = HashMap::new();
    for r in c.client.query(
        &s,
        &[&groups, &kinds, &texts, &weights, &visible, &n_groups, &top],
    )? {
        let kind: String = r.try_get(1)?;
        let Some(kind) = KeyKind::parse(&kind) else {
            continue;
        };
        has.entry(r.try_get(0)?)
            .or_default()
            .push((kind, r.try_get(2)?));
    }
    Ok(crate::index::rank(q, has, limit))
}

const EDGES_OF: &str = "SELECT link_id, from_kind, from_id, to_kind, to_id, kind, first_seen::text,
    last_seen::text, active, agency FROM edges WHERE from_id = $1
   UNION SELECT link_id, from_kind, from_id, to_kind, to_id, kind, first_seen::text,
    last_seen::text, active, agency FROM edges WHERE to_id = $1 ORDER BY 1";

const EDGES_OF_KIND: &str =
    "SELECT link_id, from_kind, from_id, to_kind, to_id, kind, first_seen::text,
    last_seen::text, active, agency FROM edges WHERE kind = $1 ORDER BY link_id LIMIT $2";

pub(super) fn edges_of(c: &mut Conn, entity: Uuid) -> Result<Vec<EdgeRow>, StoreError> {
    let s = c.stmt(EDGES_OF)?;
    c.client
        .query(&s, &[&entity])?
        .iter()
        .map(edge_row)
        .collect()
}

pub(super) fn edges_of_kind(
    c: &mut Conn,
    kind: &str,
    limit: usize,
) -> Result<Vec<EdgeRow>, StoreError> {
    let s = c.stmt(EDGES_OF_KIND)?;
    let limit = limit.min(i64::MAX as usize) as i64;
    c.client
        .query(&s, &[&kind, &limit])?
        .iter()
        .map(edge_row)
        .collect()
}

const REFERRALS_AWAITING: &str = "SELECT e.id, e.kind, e.state, e.created_idx, e.updated_idx
   FROM referrals r JOIN entities e ON e.id = r.referral_id::text
   WHERE r.status = $1 ORDER BY r.submitted_at, r.referral_id";
const REFERRALS_BY: &str = "SELECT e.id, e.kind, e.state, e.created_idx, e.updated_idx
   FROM referrals r JOIN entities e ON e.id = r.referral_id::text
   WHERE r.submitted_by = $1 AND r.submitted_agency = $2
   ORDER BY r.submitted_at DESC, r.referral_id";
const REFERRALS_ABOUT: &str = "SELECT e.id, e.kind, e.state, e.created_idx, e.updated_idx
   FROM referrals r JOIN entities e ON e.id = r.referral_id::text
   WHERE r.child_id = $1 ORDER BY r.submitted_at DESC, r.referral_id";
const REFERRALS_REF: &str = "SELECT e.id, e.kind, e.state, e.created_idx, e.updated_idx
   FROM referrals r JOIN entities e ON e.id = r.referral_id::text
   WHERE r.reference = $1 ORDER BY r.referral_id";

pub(super) fn referrals(c: &mut Conn, q: &ReferralQuery) -> Result<Vec<EntityRecord>, StoreError> {
    let rows = match q {
        ReferralQuery::AwaitingDecision => {
            let s = c.stmt(REFERRALS_AWAITING)?;
            c.client
                .query(&s, &[&vigil_model::index::AWAITING_DECISION])?
        }
        ReferralQuery::SubmittedBy { user_id, agency } => {
            let s = c.stmt(REFERRALS_BY)?;
            c.client.query(&s, &[user_id, agency])?
        }
        ReferralQuery::AboutChild(child) => {
            let s = c.stmt(REFERRALS_ABOUT)?;
            c.client.query(&s, &[child])?
        }
        ReferralQuery::WithReference(typed) => {
            let Some(r) = vigil_model::reference::normalise(typed) else {
                return Ok(Vec::new());
            };
            let s = c.stmt(REFERRALS_REF)?;
            c.client.query(&s, &[&r])?
        }
    };
    rows.iter().map(entity_row).collect()
}

/// One returned episode's interview row, replaced whole.
pub(super) const WRITE_INTERVIEW: &str = "INSERT INTO return_interviews(episode_id, child_id,
     agency, returned_at, done, assigned_agency, assigned_worker)
   VALUES ($1, $2, $3, $4, $5, $6, $7)
   ON CONFLICT (episode_id) DO UPDATE SET child_id = excluded.child_id,
     agency = excluded.agency, returned_at = excluded.returned_at, done = excluded.done,
     assigned_agency = excluded.assigned_agency, assigned_worker = excluded.assigned_worker";

const INTERVIEWS_NOT_DONE: &str = "SELECT e.id, e.kind, e.state, e.created_idx, e.updated_idx
   FROM return_interviews r JOIN entities e ON e.id = r.episode_id::text
   WHERE NOT r.done AND r.returned_at <= $1 ORDER BY r.returned_at, r.episode_id LIMIT $2";

/// Returned episodes whose interview is not done (see the `Store` method).
pub(super) fn interviews_not_done(
    c: &mut Conn,
    returned_by: &str,
    limit: usize,
) -> Result<Vec<EntityRecord>, StoreError> {
    let s = c.stmt(INTERVIEWS_NOT_DONE)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    c.client
        .query(&s, &[&returned_by, &limit])?
        .iter()
        .map(entity_row)
        .collect()
}

const OF_KIND: &str = "SELECT id, kind, state, created_idx, updated_idx FROM entities
   WHERE kind = $1 ORDER BY id";
const BY_IDS: &str = "SELECT id, kind, state, created_idx, updated_idx FROM entities
   WHERE id = ANY($1) ORDER BY id";

pub(super) fn entities_of_kind(
    c: &mut Conn,
    kind: EntityKind,
) -> Result<Vec<EntityRecord>, StoreError> {
    let s = c.stmt(OF_KIND)?;
    c.client
        .query(&s, &[&kind.as_str()])?
        .iter()
        .map(entity_row)
        .collect()
}

pub(super) fn entities(c: &mut Conn, ids: &[Uuid]) -> Result<Vec<EntityRecord>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let s = c.stmt(BY_IDS)?;
    c.client
        .query(&s, &[&ids])?
        .iter()
        .map(entity_row)
        .collect()
}

/// Replaces the action rows of the cases a batch changed (apart from the
/// batched statement: they are few, and only when a case changed).
pub(super) fn replace_case_actions(c: &mut Conn, rows: &EntityRows) -> Result<(), StoreError> {
    if rows.action_cases.is_empty() && rows.actions.is_empty() {
        return Ok(());
    }
    let s = c.stmt("DELETE FROM case_actions WHERE case_id = ANY($1::uuid[])")?;
    c.client.execute(&s, &[&rows.action_cases])?;
    if rows.actions.is_empty() {
        return Ok(());
    }
    let a = &rows.actions;
    let ids: Vec<Uuid> = a.iter().map(|r| r.action_id).collect();
    let cases: Vec<Uuid> = a.iter().map(|r| r.case_id).collect();
    let children: Vec<Option<Uuid>> = a.iter().map(|r| r.child_id).collect();
    let owners: Vec<&str> = a.iter().map(|r| r.owner.as_str()).collect();
    let dues: Vec<&str> = a.iter().map(|r| r.due.as_str()).collect();
    let statuses: Vec<&str> = a.iter().map(|r| r.status.as_str()).collect();
    let meetings: Vec<Option<Uuid>> = a.iter().map(|r| r.meeting_id).collect();
    let s = c.stmt(
        "INSERT INTO case_actions(action_id, case_id, child_id, owner, due, status, meeting_id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[]::date[],
           $6::text[], $7::uuid[])
         ON CONFLICT (action_id) DO UPDATE SET case_id = excluded.case_id,
           child_id = excluded.child_id, owner = excluded.owner, due = excluded.due,
           status = excluded.status, meeting_id = excluded.meeting_id",
    )?;
    c.client.execute(
        &s,
        &[
            &ids, &cases, &children, &owners, &dues, &statuses, &meetings,
        ],
    )?;
    Ok(())
}

const CASE_ACTIONS_OWNED: &str =
    "SELECT action_id, case_id, child_id, owner, due::text, status, meeting_id
   FROM case_actions WHERE owner = $1 AND status = 'open' ORDER BY due, action_id LIMIT $2";
const CASE_ACTIONS_DUE_BEFORE: &str = "SELECT action_id, case_id, child_id, owner, due::text, status, meeting_id
   FROM case_actions WHERE status = 'open' AND due < $1::text::date ORDER BY due, action_id LIMIT $2";
const CASE_ACTIONS_OF_MEETING: &str =
    "SELECT action_id, case_id, child_id, owner, due::text, status, meeting_id
   FROM case_actions WHERE meeting_id = $1 ORDER BY due, action_id LIMIT $2";

pub(super) fn case_actions(
    c: &mut Conn,
    q: &crate::index::CaseActionQuery,
) -> Result<Vec<vigil_model::index::CaseActionRow>, StoreError> {
    use crate::index::{CaseActionQuery as Q, CASE_ACTION_LIMIT};
    let limit = CASE_ACTION_LIMIT as i64;
    let rows = match q {
        Q::OpenOwnedBy(owner) => {
            let s = c.stmt(CASE_ACTIONS_OWNED)?;
            c.client.query(&s, &[owner, &limit])?
        }
        Q::OpenDueBefore(day) => {
            let s = c.stmt(CASE_ACTIONS_DUE_BEFORE)?;
            let d = day.format("%Y-%m-%d").to_string();
            c.client.query(&s, &[&d, &limit])?
        }
        Q::OfMeeting(m) => {
            let s = c.stmt(CASE_ACTIONS_OF_MEETING)?;
            c.client.query(&s, &[m, &limit])?
        }
    };
    rows.iter().map(case_action_row).collect()
}

/// A `case_actions` row as read (the columns of [`CASE_ACTIONS_ALL`]).
pub(super) fn case_action_row(r: &Row) -> Result<vigil_model::index::CaseActionRow, StoreError> {
    Ok(vigil_model::index::CaseActionRow {
        action_id: r.try_get(0)?,
        case_id: r.try_get(1)?,
        child_id: r.try_get(2)?,
        owner: r.try_get(3)?,
        due: r.try_get(4)?,
        status: r.try_get(5)?,
        meeting_id: r.try_get(6)?,
    })
}

pub(super) const CASE_ACTIONS_ALL: &str =
    "SELECT action_id, case_id, child_id, owner, due::text, status, meeting_id
   FROM case_actions ORDER BY action_id";

pub(super) const RETURN_INTERVIEWS_ALL: &str = "SELECT episode_id, child_id, agency,
     returned_at, done, assigned_agency, assigned_worker FROM return_interviews ORDER BY episode_id";

pub(super) fn return_interview_row(
    r: &Row,
) -> Result<vigil_model::index::ReturnInterviewRow, StoreError> {
    Ok(vigil_model::index::ReturnInterviewRow {
        episode_id: r.try_get(0)?,
        child_id: r.try_get(1)?,
        agency: r.try_get(2)?,
        returned_at: r.try_get(3)?,
        done: r.try_get(4)?,
        assigned_agency: r.try_get(5)?,
        assigned_worker: r.try_get(6)?,
    })
}
