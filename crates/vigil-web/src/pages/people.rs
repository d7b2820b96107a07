//! A person's record. Opening it is written to the access log first.

use super::page;
use super::referrals::person_link;
use crate::access::{Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::html::{Line, MyRow, PersonPage};
use crate::reference::reference_for;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::LinkKind;
use vigil_model::{EntityKind, SubjectRef};

/// A place in words: name, address lines, town and postcode.
fn place_words(state: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(n) = state.get("name").and_then(Value::as_str) {
        parts.push(n.to_owned());
    }
    if let Some(lines) = state.get("address_lines").and_then(Value::as_array) {
        parts.extend(lines.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    for k in ["town", "postcode"] {
        if let Some(v) = state.get(k).and_then(Value::as_str) {
            parts.push(v.to_owned());
        }
    }
    parts.join(", ")
}

pub async fn person(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| WebError::NotFound("There is no person at this address.".into()))?;
    let p = st
        .blocking(move |st| {
            st.mirror.refresh_all(st.store.as_ref())?;
            st.mirror
                .person(id)
                .ok_or_else(|| WebError::NotFound("There is no person at this address.".into()))
        })
        .await?;
    who.authorise(
        Action::ViewPerson,
        Resource::Person {
            recorded_by_agency: &p.recorded.agency,
        },
    )?;
    let (referrals, places) = st
        .blocking(move |st| {
            let mut refs = st.mirror.about_child(id);
            refs.sort_by_key(|r| std::cmp::Reverse(r.submitted.at));
            let mut places = Vec::new();
            for e in st.store.entries_about(id)? {
                let Ok(h) = serde_json::from_str::<vigil_model::EventHeader>(&e.header_json) else {
                    continue;
                };
                if h.kind != "link.recorded" {
                    continue;
                }
                let Some(link) = h.subjects.iter().find(|s| s.kind == EntityKind::Link) else {
                    continue;
                };
                let Some(l) = st.store.entity(link.id)? else {
                    continue;
                };
                let from = l
                    .state
                    .get("from")
                    .and_then(|f| f.get("id"))
                    .and_then(Value::as_str);
                if from != Some(id.to_string().as_str())
                    || l.state.get("status").and_then(Value::as_str) != Some("active")
                {
                    continue;
                }
                let to = l
                    .state
                    .get("to")
                    .and_then(|t| t.get("id"))
                    .and_then(Value::as_str)
                    .and_then(|t| Uuid::parse_str(t).ok());
                let kind = l
                    .state
                    .get("kind")
                    .and_then(Value::as_str)
                    .and_then(|k| LinkKind::parse(k).ok());
                if let (Some(to), Some(kind)) = (to, kind) {
                    if let Some(loc) = st
                        .store
                        .entity(to)?
                        .filter(|e| e.kind == EntityKind::Location)
                    {
                        let label = kind.label();
                        let mut label = label.to_owned();
                        if let Some(first) = label.get_mut(0..1) {
                            first.make_ascii_uppercase();
                        }
                        places.push((label, place_words(&loc.state), to));
                    }
                }
            }
            Ok((refs, places))
        })
        .await?;
    let mut subjects = vec![SubjectRef::new(EntityKind::Person, p.id)];
    subjects.extend(
        referrals
            .iter()
            .map(|r| SubjectRef::new(EntityKind::Referral, r.id)),
    );
    subjects.extend(
        places
            .iter()
            .map(|(_, _, l)| SubjectRef::new(EntityKind::Location, *l)),
    );
    let logged = st.log_access(&who, "opened a person's record", subjects)?;

    let today = vigil_rules::london::local_date(st.now());
    let mut lines = vec![Line::new(
        "Names",
        p.names
            .iter()
            .map(|n| format!("{} ({})", n.display(), n.kind.label().to_lowercase()))
            .collect::<Vec<_>>()
            .join("\n"),
    )];
    lines.push(Line::new(
        "Age",
        p.date_of_birth
            .as_ref()
            .map(|d| display::age(d, today))
            .unwrap_or_else(|| "not known".into()),
    ));
    if let Some(s) = p.sex {
        lines.push(Line::new("Sex", s.label()));
    }
    if let Some(d) = &p.description {
        lines.push(Line::new("Description", d.clone()));
    }
    lines.push(Line::new(
        "First recorded",
        format!(
            "{} by {} ({})",
            display::datetime(p.recorded.at),
            p.recorded.by,
            p.recorded.agency
        ),
    ));
    let link = person_link(&st, &who, &p, today);
    let can_open_referrals = who.may(Action::ViewReferral);
    let response = page(PersonPage {
        chrome: st.chrome(&who, &link.name, ""),
        id: p.id.to_string(),
        name: link.name,
        lines,
        places: places
            .into_iter()
            .map(|(label, words, _)| Line::new(&label, words))
            .collect(),
        referrals: referrals
            .iter()
            .map(|r| {
                let (status, status_class) = super::status_of(r);
                MyRow {
                    id: r.id.to_string(),
                    reference: reference_for(r.id),
                    child: String::new(),
                    sent: display::datetime(r.submitted.at),
                    status,
                    status_class,
                    decided: r
                        .decided
                        .as_ref()
                        .map(|d| display::datetime(d.at))
                        .unwrap_or_default(),
                }
            })
            .collect(),
        can_refer: who.may(Action::SubmitReferral),
        can_open_referrals,
    });
    logged.durable().await?;
    response
}
