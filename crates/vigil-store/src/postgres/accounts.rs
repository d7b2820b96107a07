//! [`AccountStore`] for PostgreSQL, in the tables of
//! [`crate::accounts::POSTGRES_MIGRATION`].
//!
//! Access-log appends take a transaction-scoped advisory lock of their own
//! (class `VigA`, same schema key as the ledger's), so appends from every
//! server form one chain without waiting on ledger writes. A write is never
//! retried once its `COMMIT` was sent.

use super::{entity_row, PostgresStore, LOCK_TIMEOUT};
use crate::accounts::{
    chain, reservation, rows_about, subject_ranges, AccessEntry, AccessQuery, AccessRecord,
    AccountStore, AttemptLimit, Credential, HeldForm, LoginAttempt, Reserved, SessionRow,
    ACCESS_GENESIS,
};
use crate::StoreError;
use postgres::types::ToSql;
use postgres::Row;
use uuid::Uuid;
use vigil_model::projection::EntityRecord;
use vigil_model::EntityKind;

/// First half of the access-log advisory lock key: "VigA" in ASCII.
pub const ACCESS_LOCK_CLASS: i32 = 0x5669_6741;
/// First half of the sign-in throttling advisory lock key: "VigT" in ASCII.
pub const LOGIN_LOCK_CLASS: i32 = 0x5669_6754;

const ACCESS_LAST: &str = "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1";
/// A batch of access-log rows and their subject index, in one statement.
const ACCESS_INSERT: &str = "WITH s AS (
       INSERT INTO access_subject_ranges(subject_id, last_seq, first_seq)
       SELECT * FROM unnest($6::bytea[], $7::bigint[], $8::bigint[]))
     INSERT INTO access_log(seq, username, record, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bytea[])";

fn access_row(r: &Row) -> Result<AccessEntry, StoreError> {
    Ok(AccessEntry {
        seq: r.try_get::<_, i64>(0)? as u64,
        record_json: r.try_get(1)?,
        prev_hash: r.try_get(2)?,
        hash: r.try_get(3)?,
    })
}

fn session_from(r: &Row) -> Result<SessionRow, StoreError> {
    let bad = || StoreError::Corrupt("a session row is malformed".into());
    let t: Vec<u8> = r.try_get(0)?;
    let u: String = r.try_get(1)?;
    Ok(SessionRow {
        token_sha256: t.try_into().map_err(|_| bad())?,
        user_id: Uuid::parse_str(&u).map_err(|_| bad())?,
        csrf: r.try_get(2)?,
        created_ms: r.try_get(3)?,
        last_seen_ms: r.try_get(4)?,
        expires_ms: r.try_get(5)?,
        restricted: r.try_get(6)?,
    })
}

impl PostgresStore {
    /// One statement on a pooled connection (retried once on a dead reused connection).
    fn exec(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        self.read(|conn, _| {
            let stmt = conn.stmt(sql)?;
            Ok(conn.client.execute(&stmt, params)?)
        })
    }

    fn rows(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        self.read(|conn, _| {
            let stmt = conn.stmt(sql)?;
            Ok(conn.client.query(&stmt, params)?)
        })
    }

    fn write_refused(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::Config(format!(
                "the PostgreSQL server at {} is a read-only replica; point Vigil's web servers at the primary",
                self.target.address
            )));
        }
        Ok(())
    }
}

impl AccountStore for PostgresStore {
    fn put_credential(&self, c: &Credential) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "INSERT INTO credentials(user_id, username, phc, must_change, set_at_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, phc = EXCLUDED.phc,
               must_change = EXCLUDED.must_change, set_at_ms = EXCLUDED.set_at_ms",
            &[&c.user_id.to_string(), &c.username, &c.phc, &c.must_change, &c.set_at_ms],
        )?;
        Ok(())
    }

    fn credential(&self, username: &str) -> Result<Option<Credential>, StoreError> {
        let rows = self.rows(
            "SELECT user_id, username, phc, must_change, set_at_ms FROM credentials WHERE username = $1",
            &[&username],
        )?;
        rows.first()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let username: String = r.try_get(1)?;
                Ok(Credential {
                    user_id: Uuid::parse_str(&id).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "credential of {username}: the user id is not a UUID"
                        ))
                    })?,
                    username,
                    phc: r.try_get(2)?,
                    must_change: r.try_get(3)?,
                    set_at_ms: r.try_get(4)?,
                })
            })
            .transpose()
    }

    fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "INSERT INTO sessions(token_sha256, user_id, csrf, created_ms, last_seen_ms, expires_ms, restricted)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&&s.token_sha256[..], &s.user_id.to_string(), &s.csrf, &s.created_ms, &s.last_seen_ms, &s.expires_ms, &s.restricted],
        )?;
        Ok(())
    }

    fn session(&self, token_sha256: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        let rows = self.rows(
            "SELECT token_sha256, user_id, csrf, created_ms, last_seen_ms, expires_ms, restricted FROM sessions WHERE token_sha256 = $1",
            &[&&token_sha256[..]],
        )?;
        rows.first().map(session_from).transpose()
    }

    fn touch_session(
        &self,
        token_sha256: &[u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "UPDATE sessions SET last_seen_ms = $2, expires_ms = $3 WHERE token_sha256 = $1",
            &[&&token_sha256[..], &now_ms, &expires_ms],
        )?;
        Ok(())
    }

    fn delete_session(&self, token_sha256: &[u8; 32]) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "DELETE FROM sessions WHERE token_sha256 = $1",
            &[&&token_sha256[..]],
        )?;
        Ok(())
    }

    fn delete_sessions_of(&self, user_id: Uuid) -> Result<u64, StoreError> {
        self.write_refused()?;
        self.exec(
            "DELETE FROM sessions WHERE user_id = $1",
            &[&user_id.to_string()],
        )
    }

    fn purge_expired(
        &self,
        sessions_before_ms: i64,
        held_before_ms: i64,
        failures_before_ms: i64,
    ) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "DELETE FROM sessions WHERE expires_ms < $1",
            &[&sessions_before_ms],
        )?;
        self.exec(
            "DELETE FROM held_forms WHERE expires_ms < $1",
            &[&held_before_ms],
        )?;
        self.exec(
            "DELETE FROM login_failures WHERE at_ms < $1",
            &[&failures_before_ms],
        )?;
        Ok(())
    }

    fn hold_form(&self, f: &HeldForm) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "INSERT INTO held_forms(token_sha256, user_id, form, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &&f.token_sha256[..],
                &f.user_id.to_string(),
                &f.form,
                &f.created_ms,
                &f.expires_ms,
            ],
        )?;
        Ok(())
    }

    fn take_held_form(
        &self,
        token_sha256: &[u8; 32],
        user_id: Uuid,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        self.write_refused()?;
        let rows = self.rows(
            "DELETE FROM held_forms WHERE token_sha256 = $1 AND user_id = $2 AND expires_ms >= $3
             RETURNING form",
            &[&&token_sha256[..], &user_id.to_string(), &now_ms],
        )?;
        Ok(rows.first().map(|r| r.get::<_, String>(0)))
    }

    fn reserve_login_attempt(
        &self,
        limits: &[AttemptLimit],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<Reserved, StoreError> {
        self.write_refused()?;
        // One advisory lock per schema serialises reservations from every
        // server: count, decide and record with nobody counting in between.
        let begin = format!(
            "BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock({LOGIN_LOCK_CLASS}, {})",
            self.lock_key
        );
        self.read(|conn, sent| {
            let decided = (|| {
                conn.client.batch_execute(&begin)?;
                let count = conn.stmt(
                    "SELECT count(*), max(at_ms) FROM login_failures WHERE key = $1 AND at_ms >= $2",
                )?;
                let mut counts = Vec::with_capacity(limits.len());
                for l in limits {
                    let r = conn.client.query_one(&count, &[&l.key, &since_ms])?;
                    counts.push((r.try_get::<_, i64>(0)? as u32, r.try_get(1)?));
                }
                let decided = reservation(limits, &counts, now_ms);
                if let Reserved::Admitted(a) = &decided {
                    let ins = conn.stmt(
                        "INSERT INTO login_failures(key, at_ms) SELECT k, $2 FROM unnest($1::text[]) AS k",
                    )?;
                    conn.client.execute(&ins, &[&a.keys, &a.at_ms])?;
                }
                Ok::<Reserved, StoreError>(decided)
            })();
            let decided = match decided {
                Ok(d) => d,
                Err(e) => {
                    let _ = conn.client.batch_execute("ROLLBACK");
                    return Err(e);
                }
            };
            *sent = true;
            conn.client.batch_execute("COMMIT")?;
            Ok(decided)
        })
    }

    fn forget_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        self.write_refused()?;
        for k in &attempt.keys {
            self.exec(
                "DELETE FROM login_failures WHERE ctid IN
                   (SELECT ctid FROM login_failures WHERE key = $1 AND at_ms = $2 LIMIT 1)",
                &[k, &attempt.at_ms],
            )?;
        }
        Ok(())
    }

    fn login_failures(&self, key: &str, since_ms: i64) -> Result<(u32, Option<i64>), StoreError> {
        let rows = self.rows(
            "SELECT count(*), max(at_ms) FROM login_failures WHERE key = $1 AND at_ms >= $2",
            &[&key, &since_ms],
        )?;
        let r = rows
            .first()
            .ok_or_else(|| StoreError::Database("count returned no row".into()))?;
        Ok((r.try_get::<_, i64>(0)? as u32, r.try_get(1)?))
    }

    fn clear_login_failures(&self, key: &str, before_ms: i64) -> Result<(), StoreError> {
        self.write_refused()?;
        self.exec(
            "DELETE FROM login_failures WHERE key = $1 AND at_ms < $2",
            &[&key, &before_ms],
        )?;
        Ok(())
    }

    fn receipt(&self, event_id: Uuid) -> Result<Option<String>, StoreError> {
        let rows = self.rows(
            "SELECT receipt FROM receipts WHERE event_id = $1",
            &[&event_id.to_string()],
        )?;
        rows.first().map(|r| Ok(r.try_get(0)?)).transpose()
    }

    fn append_access(&self, records: &[AccessRecord]) -> Result<u64, StoreError> {
        self.write_refused()?;
        // Four round trips: take the lock, read the chain's end, write the
        // rows and their subject index in one statement, commit.
        let begin = format!(
            "BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; SELECT pg_advisory_xact_lock({ACCESS_LOCK_CLASS}, {})",
            self.lock_key
        );
        self.read(|conn, sent| {
            let written = (|| {
                conn.client.batch_execute(&begin)?;
                let last = conn.stmt(ACCESS_LAST)?;
                let last = conn.client.query_opt(&last, &[])?;
                let (next, prev) = match last {
                    Some(r) => (
                        r.try_get::<_, i64>(0)? as u64 + 1,
                        r.try_get::<_, Vec<u8>>(1)?,
                    ),
                    None => (0, ACCESS_GENESIS.to_vec()),
                };
                let mut seqs: Vec<i64> = Vec::new();
                let mut users: Vec<&str> = Vec::new();
                let mut jsons: Vec<String> = Vec::new();
                let mut prevs: Vec<Vec<u8>> = Vec::new();
                let mut hashes: Vec<Vec<u8>> = Vec::new();
                for ((seq, json, prev_hash, hash), rec) in
                    chain(next, prev, records)?.into_iter().zip(records)
                {
                    seqs.push(seq as i64);
                    users.push(&rec.user);
                    jsons.push(json);
                    prevs.push(prev_hash);
                    hashes.push(hash.to_vec());
                }
                let mut subj_ids: Vec<Vec<u8>> = Vec::new();
                let mut subj_last: Vec<i64> = Vec::new();
                let mut subj_first: Vec<i64> = Vec::new();
                for (id, last, first) in subject_ranges(next, records) {
                    subj_ids.push(id.to_vec());
                    subj_last.push(last);
                    subj_first.push(first);
                }
                let insert = conn.stmt(ACCESS_INSERT)?;
                conn.client.execute(
                    &insert,
                    &[
                        &seqs,
                        &users,
                        &jsons,
                        &prevs,
                        &hashes,
                        &subj_ids,
                        &subj_last,
                        &subj_first,
                    ],
                )?;
                Ok::<u64, StoreError>(next)
            })();
            let next = match written {
                Ok(n) => n,
                Err(e) => {
                    // Leave the pooled connection out of the failed (or
                    // never-begun: a warning, not an error) transaction.
                    let _ = conn.client.batch_execute("ROLLBACK");
                    return Err(e);
                }
            };
            *sent = true;
            conn.client.batch_execute("COMMIT")?;
            Ok(next)
        })
    }

    fn access_entries(&self, q: &AccessQuery) -> Result<Vec<AccessEntry>, StoreError> {
        let before = q.before_seq.map(|s| s as i64).unwrap_or(i64::MAX);
        let limit = i64::from(q.limit.clamp(1, 1000));
        let Some(subject) = q.subject else {
            let rows = self.rows(
                "SELECT seq, record, prev_hash, hash FROM access_log
                 WHERE seq < $1 AND ($3::text IS NULL OR username = $3)
                   AND (NOT $4 OR record LIKE '%\"action\":\"signed in\",%'
                        OR record LIKE '%\"action\":\"sign-in refused\",%'
                        OR record LIKE '%\"action\":\"signed out\",%')
                 ORDER BY seq DESC LIMIT $2",
                &[&before, &limit, &q.user, &q.sign_ins],
            )?;
            return rows.iter().map(access_row).collect();
        };
        let id = subject.as_bytes().to_vec();
        rows_about(subject, before, limit, |before, limit| {
            let rows = self.rows(
                "SELECT a.seq, a.record, a.prev_hash, a.hash
                 FROM access_subject_ranges r
                 JOIN access_log a ON a.seq BETWEEN r.first_seq AND r.last_seq
                 WHERE r.subject_id = $3 AND r.first_seq < $1 AND a.seq < $1
                   AND ($4::text IS NULL OR a.username = $4)
                 ORDER BY r.last_seq DESC, a.seq DESC LIMIT $2",
                &[&before, &limit, &id, &q.user],
            )?;
            rows.iter().map(access_row).collect()
        })
    }

    fn for_each_access_entry(
        &self,
        f: &mut dyn FnMut(AccessEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.stream(
            "SELECT seq, record, prev_hash, hash FROM access_log ORDER BY seq",
            &[],
            &mut |r| f(access_row(r)?),
        )
    }

    fn entities_changed_since(
        &self,
        kinds: &[EntityKind],
        after_index: Option<u64>,
    ) -> Result<Vec<EntityRecord>, StoreError> {
        let after = after_index.map(|i| i as i64).unwrap_or(-1);
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let rows = self.rows(
            "SELECT id, kind, state, created_idx, updated_idx FROM entities
             WHERE kind = ANY($1) AND updated_idx > $2 ORDER BY updated_idx",
            &[&kinds, &after],
        )?;
        rows.iter().map(entity_row).collect()
    }
}
