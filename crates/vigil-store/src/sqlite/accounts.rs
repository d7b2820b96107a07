//! [`AccountStore`] for SQLite: sign-in secrets, sessions, throttling,
//! receipts, the access log and the page queries, in the tables of
//! [`crate::accounts::SQLITE_MIGRATION`].
//!
//! Writes use a pooled connection with `BEGIN IMMEDIATE`, which takes
//! SQLite's one write lock for the whole database: an access-log append reads
//! the last hash and writes the next rows under that lock, so two servers
//! (or two threads) can never fork the chain.

use super::{row_strings, SqliteStore};
use crate::accounts::{
    chain, reservation, rows_about, subject_ranges, AccessEntry, AccessQuery, AccessRecord,
    AccountStore, AttemptLimit, Credential, HeldForm, LoginAttempt, Reserved, SessionRow,
    ACCESS_GENESIS,
};
use crate::entity_from_row;
use crate::StoreError;
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;
use vigil_model::projection::EntityRecord;
use vigil_model::EntityKind;

/// Runs `f` inside `BEGIN IMMEDIATE` … `COMMIT` on `conn`, rolling back on error.
fn write_tx<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(v) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

type SessionTuple = (Vec<u8>, String, String, i64, i64, i64, i64);

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn access_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessEntry> {
    Ok(AccessEntry {
        seq: r.get::<_, i64>(0)? as u64,
        record_json: r.get(1)?,
        prev_hash: r.get(2)?,
        hash: r.get(3)?,
    })
}

fn entities(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<EntityRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(entity_from_row(row_strings(r)?)?);
    }
    Ok(out)
}

impl AccountStore for SqliteStore {
    fn put_credential(&self, c: &Credential) -> Result<(), StoreError> {
        self.read(|conn| {
            write_tx(conn, |t| {
                t.execute(
                    "INSERT INTO credentials(user_id, username, phc, must_change, set_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(user_id) DO UPDATE SET username = excluded.username,
                       phc = excluded.phc, must_change = excluded.must_change, set_at_ms = excluded.set_at_ms",
                    params![c.user_id.to_string(), c.username, c.phc, c.must_change as i64, c.set_at_ms],
                )?;
                Ok(())
            })
        })
    }

    fn credential(&self, username: &str) -> Result<Option<Credential>, StoreError> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT user_id, username, phc, must_change, set_at_ms FROM credentials WHERE username = ?1",
                )?
                .query_row([username], |r| {
                    Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get(4)?))
                })
                .optional()?;
            row.map(|(id, username, phc, mc, set_at_ms)| {
                Ok(Credential {
                    user_id: Uuid::parse_str(&id)
                        .map_err(|_| StoreError::Corrupt(format!("credential of {username}: the user id is not a UUID")))?,
                    username,
                    phc,
                    must_change: mc != 0,
                    set_at_ms,
                })
            })
            .transpose()
        })
    }

    fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "INSERT INTO sessions(token_sha256, user_id, csrf, created_ms, last_seen_ms, expires_ms, restricted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                &s.token_sha256[..],
                s.user_id.to_string(),
                s.csrf,
                s.created_ms,
                s.last_seen_ms,
                s.expires_ms,
                s.restricted as i64
            ])?;
            Ok(())
        })
    }

    fn session(&self, token_sha256: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT token_sha256, user_id, csrf, created_ms, last_seen_ms, expires_ms, restricted
                     FROM sessions WHERE token_sha256 = ?1",
                )?
                .query_row([&token_sha256[..]], session_row)
                .optional()?;
            row.map(|(t, u, csrf, created_ms, last_seen_ms, expires_ms, restricted)| {
                let bad = || StoreError::Corrupt("a session row is malformed".into());
                Ok(SessionRow {
                    token_sha256: t.try_into().map_err(|_| bad())?,
                    user_id: Uuid::parse_str(&u).map_err(|_| bad())?,
                    csrf,
                    created_ms,
                    last_seen_ms,
                    expires_ms,
                    restricted: restricted != 0,
                })
            })
            .transpose()
        })
    }

    fn touch_session(
        &self,
        token_sha256: &[u8; 32],
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "UPDATE sessions SET last_seen_ms = ?2, expires_ms = ?3 WHERE token_sha256 = ?1",
            )?
            .execute(params![&token_sha256[..], now_ms, expires_ms])?;
            Ok(())
        })
    }

    fn delete_session(&self, token_sha256: &[u8; 32]) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.prepare_cached("DELETE FROM sessions WHERE token_sha256 = ?1")?
                .execute([&token_sha256[..]])?;
            Ok(())
        })
    }

    fn delete_sessions_of(&self, user_id: Uuid) -> Result<u64, StoreError> {
        self.read(|conn| {
            let n = conn
                .prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                .execute([user_id.to_string()])?;
            Ok(n as u64)
        })
    }

    fn purge_expired(
        &self,
        sessions_before_ms: i64,
        held_before_ms: i64,
        failures_before_ms: i64,
    ) -> Result<(), StoreError> {
        self.read(|conn| {
            write_tx(conn, |t| {
                t.execute(
                    "DELETE FROM sessions WHERE expires_ms < ?1",
                    [sessions_before_ms],
                )?;
                t.execute(
                    "DELETE FROM held_forms WHERE expires_ms < ?1",
                    [held_before_ms],
                )?;
                t.execute(
                    "DELETE FROM login_failures WHERE at_ms < ?1",
                    [failures_before_ms],
                )?;
                Ok(())
            })
        })
    }

    fn hold_form(&self, f: &HeldForm) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "INSERT INTO held_forms(token_sha256, user_id, form, created_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                &f.token_sha256[..],
                f.user_id.to_string(),
                f.form,
                f.created_ms,
                f.expires_ms
            ])?;
            Ok(())
        })
    }

    fn take_held_form(
        &self,
        token_sha256: &[u8; 32],
        user_id: Uuid,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "DELETE FROM held_forms WHERE token_sha256 = ?1 AND user_id = ?2 AND expires_ms >= ?3
                     RETURNING form",
                )?
                .query_row(
                    params![&token_sha256[..], user_id.to_string(), now_ms],
                    |r| r.get::<_, String>(0),
                )
                .optional()?)
        })
    }

    fn reserve_login_attempt(
        &self,
        limits: &[AttemptLimit],
        now_ms: i64,
        since_ms: i64,
    ) -> Result<Reserved, StoreError> {
        // BEGIN IMMEDIATE takes the database's write lock before counting,
        // so no other attempt (thread or process) counts in between.
        self.read(|conn| {
            write_tx(conn, |t| {
                let mut count = t.prepare_cached(
                    "SELECT count(*), max(at_ms) FROM login_failures WHERE key = ?1 AND at_ms >= ?2",
                )?;
                let mut counts = Vec::with_capacity(limits.len());
                for l in limits {
                    let (n, last): (i64, Option<i64>) = count
                        .query_row(params![l.key, since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    counts.push((n as u32, last));
                }
                let decided = reservation(limits, &counts, now_ms);
                if let Reserved::Admitted(a) = &decided {
                    let mut ins =
                        t.prepare_cached("INSERT INTO login_failures(key, at_ms) VALUES (?1, ?2)")?;
                    for k in &a.keys {
                        ins.execute(params![k, a.at_ms])?;
                    }
                }
                Ok(decided)
            })
        })
    }

    fn forget_login_attempt(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        self.read(|conn| {
            write_tx(conn, |t| {
                let mut del = t.prepare_cached(
                    "DELETE FROM login_failures WHERE rowid IN
                       (SELECT rowid FROM login_failures WHERE key = ?1 AND at_ms = ?2 LIMIT 1)",
                )?;
                for k in &attempt.keys {
                    del.execute(params![k, attempt.at_ms])?;
                }
                Ok(())
            })
        })
    }

    fn login_failures(&self, key: &str, since_ms: i64) -> Result<(u32, Option<i64>), StoreError> {
        self.read(|conn| {
            let (n, last): (i64, Option<i64>) = conn
                .prepare_cached("SELECT count(*), max(at_ms) FROM login_failures WHERE key = ?1 AND at_ms >= ?2")?
                .query_row(params![key, since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok((n as u32, last))
        })
    }

    fn clear_login_failures(&self, key: &str, before_ms: i64) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.prepare_cached("DELETE FROM login_failures WHERE key = ?1 AND at_ms < ?2")?
                .execute(params![key, before_ms])?;
            Ok(())
        })
    }

    fn receipt(&self, event_id: Uuid) -> Result<Option<String>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT receipt FROM receipts WHERE event_id = ?1")?
                .query_row([event_id.to_string()], |r| r.get(0))
                .optional()?)
        })
    }

    fn append_access(&self, records: &[AccessRecord]) -> Result<u64, StoreError> {
        self.read(|conn| {
            write_tx(conn, |t| {
                let last: Option<(i64, Vec<u8>)> = t
                    .query_row("SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                let (next, prev) = match last {
                    Some((s, h)) => (s as u64 + 1, h),
                    None => (0, ACCESS_GENESIS.to_vec()),
                };
                let mut row = t.prepare_cached(
                    "INSERT INTO access_log(seq, username, record, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for ((seq, json, prev_hash, hash), rec) in chain(next, prev, records)?.into_iter().zip(records) {
                    row.execute(params![seq as i64, rec.user, json, prev_hash, &hash[..]])?;
                }
                let mut subj = t.prepare_cached(
                    "INSERT INTO access_subject_ranges(subject_id, last_seq, first_seq) VALUES (?1, ?2, ?3)",
                )?;
                for (id, last, first) in subject_ranges(next, records) {
                    subj.execute(params![&id[..], last, first])?;
                }
                Ok(next)
            })
        })
    }

    fn access_entries(&self, q: &AccessQuery) -> Result<Vec<AccessEntry>, StoreError> {
        let before = q.before_seq.map(|s| s as i64).unwrap_or(i64::MAX);
        let limit = i64::from(q.limit.clamp(1, 1000));
        let user = q.user.clone();
        let Some(subject) = q.subject else {
            return self.read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT seq, record, prev_hash, hash FROM access_log
                     WHERE seq < ?1 AND (?3 IS NULL OR username = ?3)
                       AND (?4 = 0 OR record LIKE '%\"action\":\"signed in\",%'
                            OR record LIKE '%\"action\":\"sign-in refused\",%'
                            OR record LIKE '%\"action\":\"signed out\",%')
                     ORDER BY seq DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![before, limit, user, q.sign_ins], access_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            });
        };
        let id = subject.as_bytes().to_vec();
        rows_about(subject, before, limit, |before, limit| {
            self.read(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT a.seq, a.record, a.prev_hash, a.hash
                     FROM access_subject_ranges r
                     JOIN access_log a ON a.seq BETWEEN r.first_seq AND r.last_seq
                     WHERE r.subject_id = ?3 AND r.first_seq < ?1 AND a.seq < ?1
                       AND (?4 IS NULL OR a.username = ?4)
                     ORDER BY r.last_seq DESC, a.seq DESC LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![before, limit, id, user], access_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
        })
    }

    fn for_each_access_entry(
        &self,
        f: &mut dyn FnMut(AccessEntry) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare("SELECT seq, record, prev_hash, hash FROM access_log ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                f(access_row(r)?)?;
            }
            Ok(())
        })
    }

    fn entities_changed_since(
        &self,
        kinds: &[EntityKind],
        after_index: Option<u64>,
    ) -> Result<Vec<EntityRecord>, StoreError> {
        let after = after_index.map(|i| i as i64).unwrap_or(-1);
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&after];
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let marks: Vec<String> = (0..names.len()).map(|i| format!("?{}", i + 2)).collect();
        args.extend(names.iter().map(|n| n as &dyn rusqlite::ToSql));
        let sql = format!(
            "SELECT id, kind, state, created_idx, updated_idx FROM entities
             WHERE kind IN ({}) AND updated_idx > ?1 ORDER BY updated_idx",
            marks.join(", ")
        );
        self.read(|conn| entities(conn, &sql, &args))
    }
}
