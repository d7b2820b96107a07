//! The secondary projection tables on SQLite (see [`crate::index`]): ids
//! are 16-byte blobs, dates and times text.

use super::{entity_from_row, row_strings};
use crate::index::{
    parse_precision, precision_name, ChronologyPage, ChronologyQuery, EntityRows, MatchReviewPage,
    MatchReviewQuery, PersonHit, ReferralQuery, Visibility,
};
use crate::StoreError;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use uuid::Uuid;
use vigil_model::index::{ChronologyRow, EdgeRow, MatchReviewRow, NameKeyRow, ReferralRow, Role};
use vigil_model::names::{KeyKind, NameQuery};
use vigil_model::projection::EntityRecord;
use vigil_model::{EntityKind, OccurredAt, SubjectRef};

pub(super) fn projection_version(c: &Connection) -> Result<Option<u32>, StoreError> {
    let v: Option<String> = c
        .prepare_cached("SELECT value FROM meta WHERE key = 'projection_version'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    v.map(|t| {
        t.parse().map_err(|_| {
            StoreError::Corrupt(format!("meta.projection_version '{t}' is not a number"))
        })
    })
    .transpose()
}

pub(super) fn set_projection_version(c: &Connection, v: u32) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO meta(key, value) VALUES ('projection_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [v.to_string()],
    )?;
    Ok(())
}

pub(super) fn insert_chronology(c: &Connection, rows: &[ChronologyRow]) -> Result<(), StoreError> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO chronology(idx, person_id, event_id, kind, agency, actor, occurred_value,
           occurred_precision, occurred_sort, recorded_at, record_id, record_kind, record_agency,
           record_user, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for r in rows {
        stmt.execute(params![
            r.log_index as i64,
            &r.person_id.as_bytes()[..],
            &r.event_id.as_bytes()[..],
            r.kind,
            r.agency,
            r.actor,
            r.occurred_at.value,
            precision_name(r.occurred_at.precision),
            r.occurred_sort,
            r.recorded_at,
            &r.record_id.as_bytes()[..],
            r.record_kind,
            r.record_agency,
            r.record_user,
            r.role.as_str(),
        ])?;
    }
    Ok(())
}

pub(super) fn replace_entity_rows(c: &Connection, rows: &EntityRows) -> Result<(), StoreError> {
    let mut edge = c.prepare_cached(
        "INSERT OR REPLACE INTO edges(link_id, from_kind, from_id, to_kind, to_id, kind,
           first_seen, last_seen, active, agency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for e in &rows.edges {
        edge.execute(params![
            &e.link_id.as_bytes()[..],
            e.from.kind.as_str(),
            &e.from.id.as_bytes()[..],
            e.to.kind.as_str(),
            &e.to.id.as_bytes()[..],
            e.kind,
            e.first_seen.to_string(),
            e.last_seen.to_string(),
            e.active,
            e.agency,
        ])?;
    }
    let mut referral = c.prepare_cached(
        "INSERT OR REPLACE INTO referrals(referral_id, child_id, submitted_by, submitted_agency,
           status, submitted_at, decided_at, reference)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for r in &rows.referrals {
        referral.execute(params![
            &r.referral_id.as_bytes()[..],
            &r.child_id.as_bytes()[..],
            r.submitted_by,
            r.submitted_agency,
            r.status,
            r.submitted_at,
            r.decided_at,
            r.reference,
        ])?;
    }
    let mut interview = c.prepare_cached(
        "INSERT OR REPLACE INTO return_interviews(episode_id, child_id, agency, returned_at,
           done, assigned_agency, assigned_worker)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for r in &rows.interviews {
        interview.execute(params![
            &r.episode_id.as_bytes()[..],
            &r.child_id.as_bytes()[..],
            r.agency,
            r.returned_at,
            r.done,
            r.assigned_agency,
            r.assigned_worker,
        ])?;
    }
    let mut unreview = c.prepare_cached("DELETE FROM match_review WHERE link_id = ?1")?;
    for l in &rows.review_sources {
        unreview.execute([&l.as_bytes()[..]])?;
    }
    let mut review = c.prepare_cached(
        "INSERT INTO match_review(link_id, a_id, b_id, a_agency, b_agency, probability_ppm)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in &rows.reviews {
        review.execute(params![
            &r.link_id.as_bytes()[..],
            &r.a.as_bytes()[..],
            &r.b.as_bytes()[..],
            r.a_agency,
            r.b_agency,
            r.probability_ppm,
        ])?;
    }
    let mut unact = c.prepare_cached("DELETE FROM case_actions WHERE case_id = ?1")?;
    for id in &rows.action_cases {
        unact.execute([&id.as_bytes()[..]])?;
    }
    let mut act = c.prepare_cached(
        "INSERT INTO case_actions(action_id, case_id, child_id, owner, due, status, meeting_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for a in &rows.actions {
        act.execute(params![
            &a.action_id.as_bytes()[..],
            &a.case_id.as_bytes()[..],
            a.child_id.map(|c| c.as_bytes().to_vec()),
            a.owner,
            a.due,
            a.status,
            a.meeting_id.map(|m| m.as_bytes().to_vec()),
        ])?;
    }
    let mut clear = c.prepare_cached("DELETE FROM name_keys WHERE source_id = ?1")?;
    for s in &rows.name_sources {
        clear.execute([&s.as_bytes()[..]])?;
    }
    let mut key = c.prepare_cached(
        "INSERT OR IGNORE INTO name_keys(source_id, person_id, kind, key, agency)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for k in &rows.names {
        key.execute(params![
            &k.source_id.as_bytes()[..],
            &k.person_id.as_bytes()[..],
            k.kind.as_str(),
            k.key,
            k.agency,
        ])?;
    }
    Ok(())
}

pub(super) fn place_links(c: &Connection, place: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT link_id FROM edges WHERE to_id = ?1 AND kind IN ('lives_at', 'stays_at')",
    )?;
    let rows = stmt.query_map([&place.as_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for b in rows {
        out.push(uuid_of(&b?, "edges")?);
    }
    Ok(out)
}

fn uuid_of(b: &[u8], table: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(b).map_err(|_| {
        StoreError::Corrupt(format!(
            "a row of the {table} table holds an id that is not 16 bytes"
        ))
    })
}

fn blob(r: &Row<'_>, i: usize, table: &str) -> Result<Uuid, StoreError> {
    use rusqlite::types::ValueRef;
    match r.get_ref(i)? {
        ValueRef::Blob(b) => uuid_of(b, table),
        _ => Err(StoreError::Corrupt(format!(
            "a row of the {table} table holds an id that is not a blob"
        ))),
    }
}

fn text(r: &Row<'_>, i: usize) -> Result<String, StoreError> {
    Ok(super::lossy_text(r, i)?.unwrap_or_default())
}

const CHRONOLOGY_COLUMNS: &str = "idx, person_id, event_id, kind, agency, actor, occurred_value,
    occurred_precision, occurred_sort, recorded_at, record_id, record_kind, record_agency,
    record_user, role";

fn chronology_row(r: &Row<'_>) -> Result<ChronologyRow, StoreError> {
    let t = "chronology";
    let idx: i64 = r.get(0)?;
    let bad = |what: &str| StoreError::Corrupt(format!("chronology row for entry {idx}: {what}"));
    Ok(ChronologyRow {
        log_index: u64::try_from(idx).map_err(|_| bad("negative index"))?,
        person_id: blob(r, 1, t)?,
        event_id: blob(r, 2, t)?,
        kind: text(r, 3)?,
        agency: text(r, 4)?,
        actor: text(r, 5)?,
        occurred_at: OccurredAt {
            value: text(r, 6)?,
            precision: parse_precision(&text(r, 7)?).ok_or_else(|| bad("unknown precision"))?,
        },
        occurred_sort: r.get(8)?,
        recorded_at: text(r, 9)?,
        record_id: blob(r, 10, t)?,
        record_kind: text(r, 11)?,
        record_agency: text(r, 12)?,
        record_user: text(r, 13)?,
        role: Role::parse(&text(r, 14)?).ok_or_else(|| bad("unknown role"))?,
    })
}

fn edge_row(r: &Row<'_>) -> Result<EdgeRow, StoreError> {
    let t = "edges";
    let bad = || StoreError::Corrupt("a row of the edges table is not readable".into());
    let kind = |i: usize| -> Result<EntityKind, StoreError> {
        EntityKind::parse(&text(r, i)?).ok_or_else(bad)
    };
    let day = |i: usize| -> Result<chrono::NaiveDate, StoreError> {
        chrono::NaiveDate::parse_from_str(&text(r, i)?, "%Y-%m-%d").map_err(|_| bad())
    };
    Ok(EdgeRow {
        link_id: blob(r, 0, t)?,
        from: SubjectRef::new(kind(1)?, blob(r, 2, t)?),
        to: SubjectRef::new(kind(3)?, blob(r, 4, t)?),
        kind: text(r, 5)?,
        first_seen: day(6)?,
        last_seen: day(7)?,
        active: r.get::<_, i64>(8)? != 0,
        agency: text(r, 9)?,
    })
}

const EDGE_COLUMNS: &str =
    "link_id, from_kind, from_id, to_kind, to_id, kind, first_seen, last_seen, active, agency";

fn name_key_row(r: &Row<'_>) -> Result<NameKeyRow, StoreError> {
    let t = "name_keys";
    let kind = text(r, 2)?;
    Ok(NameKeyRow {
        source_id: blob(r, 0, t)?,
        person_id: blob(r, 1, t)?,
        kind: KeyKind::parse(&kind).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "a row of the name_keys table has the unknown kind '{kind}'"
            ))
        })?,
        key: text(r, 3)?,
        agency: text(r, 4)?,
    })
}

fn referral_row(r: &Row<'_>) -> Result<ReferralRow, StoreError> {
    let t = "referrals";
    Ok(ReferralRow {
        referral_id: blob(r, 0, t)?,
        child_id: blob(r, 1, t)?,
        submitted_by: text(r, 2)?,
        submitted_agency: text(r, 3)?,
        status: text(r, 4)?,
        submitted_at: text(r, 5)?,
        decided_at: super::lossy_text(r, 6)?,
        reference: text(r, 7)?,
    })
}

fn match_review_row(r: &Row<'_>) -> Result<MatchReviewRow, StoreError> {
    let t = "match_review";
    let ppm: i64 = r.get(5)?;
    Ok(MatchReviewRow {
        link_id: blob(r, 0, t)?,
        a: blob(r, 1, t)?,
        b: blob(r, 2, t)?,
        a_agency: text(r, 3)?,
        b_agency: text(r, 4)?,
        probability_ppm: u32::try_from(ppm).map_err(|_| {
            StoreError::Corrupt(format!(
                "a row of the match_review table has the probability {ppm}, out of range"
            ))
        })?,
    })
}

const MATCH_REVIEW_COLUMNS: &str = "link_id, a_id, b_id, a_agency, b_agency, probability_ppm";

fn stream<T>(
    c: &Connection,
    sql: &str,
    parse: fn(&Row<'_>) -> Result<T, StoreError>,
    f: &mut dyn FnMut(T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = c.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        f(parse(r)?)?;
    }
    Ok(())
}

pub(super) fn for_each_chronology(
    c: &Connection,
    f: &mut dyn FnMut(ChronologyRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        &format!("SELECT {CHRONOLOGY_COLUMNS} FROM chronology ORDER BY idx, person_id"),
        chronology_row,
        f,
    )
}

pub(super) fn for_each_edge(
    c: &Connection,
    f: &mut dyn FnMut(EdgeRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        &format!("SELECT {EDGE_COLUMNS} FROM edges ORDER BY link_id"),
        edge_row,
        f,
    )
}

pub(super) fn for_each_name_key(
    c: &Connection,
    f: &mut dyn FnMut(NameKeyRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        "SELECT source_id, person_id, kind, key, agency FROM name_keys
         ORDER BY source_id, person_id, kind, key",
        name_key_row,
        f,
    )
}

const REFERRAL_COLUMNS: &str = "referral_id, child_id, submitted_by, submitted_agency, status,
    submitted_at, decided_at, reference";

pub(super) fn for_each_referral(
    c: &Connection,
    f: &mut dyn FnMut(ReferralRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        &format!("SELECT {REFERRAL_COLUMNS} FROM referrals ORDER BY referral_id"),
        referral_row,
        f,
    )
}

pub(super) fn for_each_match_review(
    c: &Connection,
    f: &mut dyn FnMut(MatchReviewRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        &format!("SELECT {MATCH_REVIEW_COLUMNS} FROM match_review ORDER BY link_id"),
        match_review_row,
        f,
    )
}

pub(super) fn for_each_case_action(
    c: &Connection,
    f: &mut dyn FnMut(vigil_model::index::CaseActionRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        &format!("SELECT {CASE_ACTION_COLUMNS} FROM case_actions ORDER BY action_id"),
        case_action_row,
        f,
    )
}

fn return_interview_row(r: &Row<'_>) -> Result<vigil_model::index::ReturnInterviewRow, StoreError> {
    let t = "return_interviews";
    Ok(vigil_model::index::ReturnInterviewRow {
        episode_id: blob(r, 0, t)?,
        child_id: blob(r, 1, t)?,
        agency: r.get(2)?,
        returned_at: r.get(3)?,
        done: r.get(4)?,
        assigned_agency: r.get(5)?,
        assigned_worker: r.get(6)?,
    })
}

pub(super) fn for_each_return_interview(
    c: &Connection,
    f: &mut dyn FnMut(vigil_model::index::ReturnInterviewRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    stream(
        c,
        "SELECT episode_id, child_id, agency, returned_at, done, assigned_agency, assigned_worker
         FROM return_interviews ORDER BY episode_id",
        return_interview_row,
        f,
    )
}

/// The pairs awaiting review (see [`MatchReviewQuery`]).
pub(super) fn match_review(
    c: &Connection,
    q: &MatchReviewQuery,
) -> Result<MatchReviewPage, StoreError> {
    let mut p = vec![
        SqlValue::Integer(i64::from(q.from_ppm)),
        SqlValue::Integer(i64::from(q.to_ppm)),
    ];
    let mut filter = String::from("probability_ppm BETWEEN ?1 AND ?2");
    match &q.open {
        Visibility::All => {}
        Visibility::Agencies(list) => {
            let a = in_list(list, &mut p);
            let b = in_list(list, &mut p);
            filter.push_str(&format!(" AND a_agency IN ({a}) AND b_agency IN ({b})"));
        }
        // Nobody opens a person record as its submitter.
        Visibility::Submitter { .. } => return Ok(MatchReviewPage::default()),
    }
    match &q.review {
        Visibility::All => {}
        Visibility::Agencies(list) => {
            let a = in_list(list, &mut p);
            let b = in_list(list, &mut p);
            filter.push_str(&format!(" AND (a_agency IN ({a}) OR b_agency IN ({b}))"));
        }
        Visibility::Submitter { .. } => return Ok(MatchReviewPage::default()),
    }
    let cap = q.count_cap();
    let mut counted = p.clone();
    counted.push(SqlValue::Integer(cap.min(i64::MAX as u64) as i64));
    let total: i64 = c
        .prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM match_review WHERE {filter} LIMIT ?{})",
            counted.len()
        ))?
        .query_row(params_from_iter(counted.iter()), |r| r.get(0))?;
    p.push(SqlValue::Integer(q.limit.min(i64::MAX as u64) as i64));
    let lim = p.len();
    p.push(SqlValue::Integer(q.offset.min(i64::MAX as u64) as i64));
    let off = p.len();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {MATCH_REVIEW_COLUMNS} FROM match_review WHERE {filter}
         ORDER BY probability_ppm DESC, a_id, b_id LIMIT ?{lim} OFFSET ?{off}"
    ))?;
    let mut rows = stmt.query(params_from_iter(p.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(match_review_row(r)?);
    }
    Ok(MatchReviewPage {
        rows: out,
        total: total as u64,
        more: total as u64 >= cap,
    })
}

/// The `WHERE` clause (after `person_id = ?1`) and its parameters.
fn visibility_clause(v: &Visibility, params: &mut Vec<SqlValue>) -> String {
    match v {
        Visibility::All => String::new(),
        Visibility::Agencies(list) => {
            let marks = in_list(list, params);
            format!(" AND record_agency IN ({marks})")
        }
        Visibility::Submitter { user_id, agency } => {
            params.push(SqlValue::Text(user_id.clone()));
            let u = params.len();
            params.push(SqlValue::Text(agency.clone()));
            let a = params.len();
            format!(" AND record_user = ?{u} AND record_agency = ?{a}")
        }
    }
}

fn in_list(list: &[String], params: &mut Vec<SqlValue>) -> String {
    if list.is_empty() {
        return "NULL".into();
    }
    list.iter()
        .map(|x| {
            params.push(SqlValue::Text(x.clone()));
            format!("?{}", params.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn chronology(
    c: &Connection,
    person: Uuid,
    q: &ChronologyQuery,
) -> Result<ChronologyPage, StoreError> {
    let mut base = vec![SqlValue::Blob(person.as_bytes().to_vec())];
    let visible = visibility_clause(&q.visibility, &mut base);
    let facet = |column: &str| -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = c.prepare(&format!(
            "SELECT {column}, count(*) FROM chronology WHERE person_id = ?1{visible}
             GROUP BY {column} ORDER BY {column}"
        ))?;
        let rows = stmt.query_map(params_from_iter(base.iter()), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    };
    let (agencies, kinds) = if q.counts {
        (facet("agency")?, facet("kind")?)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut p = base.clone();
    let mut filter = visible.clone();
    if !q.agencies.is_empty() {
        filter.push_str(&format!(
            " AND agency IN ({})",
            in_list(&q.agencies, &mut p)
        ));
    }
    if !q.kinds.is_empty() {
        filter.push_str(&format!(" AND kind IN ({})", in_list(&q.kinds, &mut p)));
    }
    let total: i64 = if q.counts {
        c.prepare_cached(&format!(
            "SELECT count(*) FROM chronology WHERE person_id = ?1{filter}"
        ))?
        .query_row(params_from_iter(p.iter()), |r| r.get(0))?
    } else {
        0
    };
    p.push(SqlValue::Integer(q.limit.min(crate::index::MAX_PAGE) as i64));
    let l = p.len();
    p.push(SqlValue::Integer(q.offset.min(i64::MAX as u64) as i64));
    let o = p.len();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {CHRONOLOGY_COLUMNS} FROM chronology WHERE person_id = ?1{filter}
         ORDER BY occurred_sort, idx LIMIT ?{l} OFFSET ?{o}"
    ))?;
    let mut rows = stmt.query(params_from_iter(p.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(chronology_row(r)?);
    }
    Ok(ChronologyPage {
        rows: out,
        total: total as u64,
        agencies,
        kinds,
    })
}

pub(super) fn chronology_head(c: &Connection, person: Uuid) -> Result<Option<u64>, StoreError> {
    let idx: Option<i64> = c
        .prepare_cached("SELECT max(idx) FROM chronology WHERE person_id = ?1")?
        .query_row([&person.as_bytes()[..]], |r| r.get(0))?;
    Ok(idx.map(|i| i as u64))
}

pub(super) fn find_people(
    c: &Connection,
    q: &NameQuery,
    visible: Option<&[String]>,
    limit: usize,
) -> Result<Vec<PersonHit>, StoreError> {
    crate::index::find_people(q, &mut Keys { c, visible }, limit)
}

/// The name index as search reads it (see [`crate::index::KeyIndex`]).
struct Keys<'a> {
    c: &'a Connection,
    visible: Option<&'a [String]>,
}

impl Keys<'_> {
    /// Whether the row's agency (column `i`) is one the reader may see;
    /// compared in place: search reads thousands of rows.
    fn may_see(&self, r: &Row<'_>, i: usize) -> Result<bool, StoreError> {
        use rusqlite::types::ValueRef;
        Ok(match self.visible {
            Some(list) => match r.get_ref(i)? {
                ValueRef::Text(t) | ValueRef::Blob(t) => list.iter().any(|a| a.as_bytes() == t),
                _ => false,
            },
            None => true,
        })
    }
}

impl crate::index::KeyIndex for Keys<'_> {
    fn rows_after(
        &mut self,
        kind: KeyKind,
        key: &str,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<(Uuid, bool)>, StoreError> {
        // An empty blob sorts before every id.
        let after: &[u8] = after.as_ref().map(|u| &u.as_bytes()[..]).unwrap_or(&[]);
        let mut stmt = self.c.prepare_cached(
            "SELECT person_id, agency FROM name_keys
             WHERE kind = ?1 AND key = ?2 AND person_id > ?3 ORDER BY person_id LIMIT ?4",
        )?;
        let mut rows = stmt.query(params![
            kind.as_str(),
            key,
            after,
            limit.min(i64::MAX as usize) as i64
        ])?;
        let mut out = Vec::with_capacity(limit.min(4096));
        while let Some(r) = rows.next()? {
            out.push((blob(r, 0, "name_keys")?, self.may_see(r, 1)?));
        }
        Ok(out)
    }

    fn has(&mut self, kind: KeyKind, key: &str, person: Uuid) -> Result<bool, StoreError> {
        let mut stmt = self.c.prepare_cached(
            "SELECT agency FROM name_keys WHERE kind = ?1 AND key = ?2 AND person_id = ?3",
        )?;
        let mut rows = stmt.query(params![kind.as_str(), key, &person.as_bytes()[..]])?;
        while let Some(r) = rows.next()? {
            if self.may_see(r, 0)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

pub(super) fn edges_of(c: &Connection, entity: Uuid) -> Result<Vec<EdgeRow>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {EDGE_COLUMNS} FROM edges WHERE from_id = ?1
         UNION SELECT {EDGE_COLUMNS} FROM edges WHERE to_id = ?1 ORDER BY link_id"
    ))?;
    let mut rows = stmt.query([&entity.as_bytes()[..]])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(edge_row(r)?);
    }
    Ok(out)
}

pub(super) fn edges_of_kind(
    c: &Connection,
    kind: &str,
    limit: usize,
) -> Result<Vec<EdgeRow>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {EDGE_COLUMNS} FROM edges WHERE kind = ?1 ORDER BY link_id LIMIT ?2"
    ))?;
    let mut rows = stmt.query(params![kind, limit.min(i64::MAX as usize) as i64])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(edge_row(r)?);
    }
    Ok(out)
}

pub(super) fn referrals(c: &Connection, q: ReferralQuery) -> Result<Vec<EntityRecord>, StoreError> {
    let (clause, p): (&str, Vec<SqlValue>) = match q {
        ReferralQuery::AwaitingDecision => (
            "status = ?1 ORDER BY submitted_at, referral_id",
            vec![SqlValue::Text(vigil_model::index::AWAITING_DECISION.into())],
        ),
        ReferralQuery::SubmittedBy { user_id, agency } => (
            "submitted_by = ?1 AND submitted_agency = ?2 ORDER BY submitted_at DESC, referral_id",
            vec![SqlValue::Text(user_id), SqlValue::Text(agency)],
        ),
        ReferralQuery::AboutChild(child) => (
            "child_id = ?1 ORDER BY submitted_at DESC, referral_id",
            vec![SqlValue::Blob(child.as_bytes().to_vec())],
        ),
        ReferralQuery::WithReference(typed) => {
            let Some(r) = vigil_model::reference::normalise(&typed) else {
                return Ok(Vec::new());
            };
            (
                "reference = ?1 ORDER BY referral_id",
                vec![SqlValue::Text(r)],
            )
        }
    };
    let ids: Vec<Uuid> = {
        let mut stmt =
            c.prepare_cached(&format!("SELECT referral_id FROM referrals WHERE {clause}"))?;
        let mut rows = stmt.query(params_from_iter(p.iter()))?;
        let mut ids = Vec::new();
        while let Some(r) = rows.next()? {
            ids.push(blob(r, 0, "referrals")?);
        }
        ids
    };
    entities_in_order(c, ids)
}

/// Returned episodes whose interview is not done, back at or before
/// `returned_by`, the longest waiting first, at most `limit`.
pub(super) fn interviews_not_done(
    c: &Connection,
    returned_by: &str,
    limit: usize,
) -> Result<Vec<EntityRecord>, StoreError> {
    let ids: Vec<Uuid> = {
        let mut stmt = c.prepare_cached(
            "SELECT episode_id FROM return_interviews WHERE done = 0 AND returned_at <= ?1
             ORDER BY returned_at, episode_id LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![returned_by, limit as i64])?;
        let mut ids = Vec::new();
        while let Some(r) = rows.next()? {
            ids.push(blob(r, 0, "return_interviews")?);
        }
        ids
    };
    entities_in_order(c, ids)
}

/// The entity rows of `ids`, in the list's order (entities keep text ids,
/// so each is a point lookup), leaving out any that are not there.
fn entities_in_order(c: &Connection, ids: Vec<Uuid>) -> Result<Vec<EntityRecord>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(r) = super::entity_query(c, id)? {
            out.push(r);
        }
    }
    Ok(out)
}

pub(super) fn entities_of_kind(
    c: &Connection,
    kind: EntityKind,
) -> Result<Vec<EntityRecord>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, kind, state, created_idx, updated_idx FROM entities WHERE kind = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query([kind.as_str()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(entity_from_row(row_strings(r)?)?);
    }
    Ok(out)
}

pub(super) fn entities(c: &Connection, ids: &[Uuid]) -> Result<Vec<EntityRecord>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut sorted = ids.to_vec();
    sorted.sort();
    sorted.dedup();
    for id in sorted {
        if let Some(r) = super::entity_query(c, id)? {
            out.push(r);
        }
    }
    Ok(out)
}

const CASE_ACTION_COLUMNS: &str = "action_id, case_id, child_id, owner, due, status, meeting_id";

fn case_action_row(r: &Row<'_>) -> Result<vigil_model::index::CaseActionRow, StoreError> {
    let t = "case_actions";
    let meeting: Option<Vec<u8>> = r.get(6)?;
    let child: Option<Vec<u8>> = r.get(2)?;
    Ok(vigil_model::index::CaseActionRow {
        action_id: blob(r, 0, t)?,
        case_id: blob(r, 1, t)?,
        child_id: match child {
            Some(b) => Some(
                Uuid::from_slice(&b)
                    .map_err(|_| StoreError::Corrupt(format!("{t}: a child id is not 16 bytes")))?,
            ),
            None => None,
        },
        owner: r.get(3)?,
        due: r.get(4)?,
        status: r.get(5)?,
        meeting_id: match meeting {
            Some(b) => {
                Some(Uuid::from_slice(&b).map_err(|_| {
                    StoreError::Corrupt(format!("{t}: a meeting id is not 16 bytes"))
                })?)
            }
            None => None,
        },
    })
}

pub(super) fn case_actions(
    c: &Connection,
    q: &crate::index::CaseActionQuery,
) -> Result<Vec<vigil_model::index::CaseActionRow>, StoreError> {
    use crate::index::{CaseActionQuery as Q, CASE_ACTION_LIMIT};
    let limit = CASE_ACTION_LIMIT as i64;
    let (clause, arg): (&str, rusqlite::types::Value) = match q {
        Q::OpenOwnedBy(owner) => (
            "owner = ?1 AND status = 'open' ORDER BY due, action_id",
            owner.clone().into(),
        ),
        Q::OpenDueBefore(day) => (
            "status = 'open' AND due < ?1 ORDER BY due, action_id",
            day.format("%Y-%m-%d").to_string().into(),
        ),
        Q::OfMeeting(m) => (
            "meeting_id = ?1 ORDER BY due, action_id",
            m.as_bytes().to_vec().into(),
        ),
    };
    let mut st = c.prepare_cached(&format!(
        "SELECT {CASE_ACTION_COLUMNS} FROM case_actions WHERE {clause} LIMIT ?2"
    ))?;
    let mut rows = st.query(params![arg, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(case_action_row(r)?);
    }
    Ok(out)
}
