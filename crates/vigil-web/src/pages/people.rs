//! A person's record. Opening it is written to the access log first (the
//! guard does it).

use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::guard;
use crate::html::{Line, MyRow, PersonPage};
use crate::pages::Respond;
use crate::reference::reference_for;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;
use uuid::Uuid;

/// The person's details as lines: names, age, sex, description, first recorded.
fn lines(p: &crate::readmodel::PersonView, today: chrono::NaiveDate) -> Vec<Line> {
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
    lines
}

pub async fn person(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| WebError::NotFound("There is no person at this address.".into()))?;
    let record = guard::person(&st.app, &who, id).await?;
    let today = vigil_rules::london::local_date(st.now());
    let chrome = st.chrome(&who, &record.link.name, "");
    let can_refer = who.may(crate::access::Action::SubmitReferral);
    record
        .show(|rec, read| PersonPage {
            chrome,
            read,
            id: rec.person.id.to_string(),
            lines: lines(&rec.person, today),
            name: rec.link.name,
            places: rec
                .places
                .into_iter()
                .map(|(label, words, _)| Line::new(&label, words))
                .collect(),
            referrals: rec
                .referrals
                .iter()
                .map(|(r, can_open)| {
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
                        can_open: *can_open,
                    }
                })
                .collect(),
            referrals_limited: rec.referrals_limited,
            can_refer,
        })
        .respond(StatusCode::OK)
        .await
}
