//! The access log, for auditors: who read what, when; by record or by user.

use super::page;
use crate::access::{Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::form::{FieldError, FormData};
use crate::html::{AuditPage, AuditRow, FormView};
use crate::reference::{normalise, reference_for};
use crate::session::urlencode;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::EntityKind;
use vigil_store::accounts::AccessQuery;

/// The start of a row's hash, enough to compare with `vigil verify` output.
fn short_hash(h: &[u8]) -> String {
    hex::encode(h).chars().take(12).collect()
}

/// Rows per page.
const PAGE_ROWS: u32 = 100;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    before: Option<u64>,
    /// `sign-ins`: only sign-ins, refused sign-ins and sign-outs.
    #[serde(default)]
    show: String,
}

/// What a row did, in words; for sign-ins and sign-outs with where from and
/// which session (the start of its hash, enough to pair a sign-in with its
/// sign-out).
fn action_words(r: &vigil_store::accounts::AccessRecord) -> String {
    let mut words = r.action.clone();
    if let Some(a) = &r.address {
        words.push_str(&format!(" from {a}"));
    }
    if let Some(s) = &r.session {
        words.push_str(&format!(
            ", session {}",
            s.chars().take(12).collect::<String>()
        ));
    }
    words
}

pub async fn audit(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    who.authorise(Action::ViewAccessLog, Resource::Page)?;
    let mut errors = Vec::new();
    let record = q.person.trim().to_owned();
    let user = q.user.trim().to_lowercase();
    let subject = if record.is_empty() {
        None
    } else if let Ok(id) = Uuid::parse_str(&record) {
        Some(id)
    } else if let Some(reference) = normalise(&record) {
        let found = st
            .blocking(move |st| Ok(crate::guard::referrals_with_reference(st, &reference)?))
            .await?;
        match found.first() {
            Some(id) => Some(*id),
            None => {
                errors.push(FieldError::new("person", "No referral has that reference."));
                None
            }
        }
    } else {
        errors.push(FieldError::new(
            "person",
            "Enter a record's id, or a referral reference like REF-7K3M-9Q2P.",
        ));
        None
    };
    let sign_ins = q.show == "sign-ins";
    let query = AccessQuery {
        subject,
        user: (!user.is_empty()).then(|| user.clone()),
        sign_ins,
        before_seq: q.before,
        limit: PAGE_ROWS,
    };
    let show = errors.is_empty();
    let entries = if show {
        st.blocking(move |st| Ok(st.accounts().access_entries(&query)?))
            .await?
    } else {
        Vec::new()
    };
    let rows: Vec<AuditRow> = entries
        .iter()
        .map(|e| match e.record() {
            Some(r) => AuditRow {
                seq: e.seq,
                when: chrono::DateTime::parse_from_rfc3339(&r.at)
                    .map(|t| display::datetime(t.with_timezone(&chrono::Utc)))
                    .unwrap_or(r.at.clone()),
                user: r.user.clone(),
                role: r.role.map_or("no such account", |r| r.label()).to_owned(),
                agency: r.agency.clone(),
                action: action_words(&r),
                subjects: r
                    .subjects
                    .iter()
                    .map(|s| {
                        let label = match s.kind {
                            EntityKind::Referral => reference_for(s.id),
                            // The end of the id: v7 ids share their start (the time).
                            k => {
                                let id = s.id.simple().to_string();
                                format!("{} …{}", k.as_str().replace('_', " "), &id[id.len() - 8..])
                            }
                        };
                        (s.id.to_string(), label)
                    })
                    .collect(),
                hash: short_hash(&e.hash),
            },
            None => AuditRow {
                seq: e.seq,
                when: String::new(),
                user: String::new(),
                role: String::new(),
                agency: String::new(),
                action: "(this row cannot be read; run vigil verify)".into(),
                subjects: Vec::new(),
                hash: short_hash(&e.hash),
            },
        })
        .collect();
    let older = (rows.len() as u32 == PAGE_ROWS)
        .then(|| rows.last().map(|r| r.seq))
        .flatten()
        .map(|seq| {
            format!(
                "/audit?person={}&user={}&show={}&before={seq}",
                urlencode(&record),
                urlencode(&user),
                if sign_ins { "sign-ins" } else { "" }
            )
        });
    let mut values = FormData::default();
    values.set("person", &record);
    values.set("user", &user);
    let chrome = st.chrome(&who, "Access log", "/audit").with_errors(&errors);
    page(AuditPage {
        chrome,
        form: FormView::new(values, errors),
        rows,
        older,
        filtered: !record.is_empty() || !user.is_empty(),
        sign_ins,
    })
}
