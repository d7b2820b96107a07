//! The triage queue and the supervisor's overdue list.

use crate::access::{Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::guard::links::QueuePerson;
use crate::guard::{self, Listed, QueueView};
use crate::html::{OverduePage, QueueRow, TriagePage};
use crate::pages::Respond;
use crate::queue::QueueItem;
use crate::reference::{normalise, reference_for};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;

/// Most referrals listed on one page of the queue (the oldest deadlines;
/// the page says how many more there are).
pub const QUEUE_ROWS: usize = 100;

/// What the queue says of the person, in words.
fn person_words(p: &QueuePerson, rows: &[Listed<QueueItem>]) -> String {
    let mut parts = Vec::new();
    if let Some(first) = p.same_as_row.and_then(|i| rows.get(i)) {
        parts.push(format!(
            "Same child as {} above",
            reference_for(first.item.referral.id)
        ));
    }
    match p.other_referrals {
        0 => {}
        1 => parts.push("1 other referral about this child".to_owned()),
        n => parts.push(format!("{n} other referrals about this child")),
    }
    if p.records > 1 {
        parts.push(format!("{} agency records of this child", p.records));
    }
    parts.join(" · ")
}

fn rows(
    st: &AppState,
    list: &[Listed<QueueItem>],
    people: &[QueuePerson],
    alerts: &[Vec<vigil_app::guard::alert_work::AlertLine>],
) -> Vec<QueueRow> {
    list.iter()
        .zip(people)
        .zip(alerts)
        .map(|((l, p), alerts)| {
            let i = &l.item;
            let r = &i.referral;
            let (tag, tag_class) = if i.overdue() {
                ("Overdue", "v-tag--red")
            } else if i.due_today() {
                ("Due today", "v-tag--amber")
            } else {
                ("On time", "v-tag--blue")
            };
            let from = st
                .agency_by_code(&r.submitted.agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| r.submitted.agency.clone());
            QueueRow {
                alerts: alerts.iter().map(super::alerts::alert_row).collect(),
                child_href: l
                    .child
                    .as_ref()
                    .filter(|c| c.can_open)
                    .map(|c| format!("/people/{}", c.id)),
                person: person_words(p, list),
                grouped: p.same_as_row.is_some(),
                id: r.id.to_string(),
                reference: reference_for(r.id),
                child: l
                    .child
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| guard::WITHHELD_CHILD.into()),
                age: l
                    .child
                    .as_ref()
                    .map(|c| c.detail.clone())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| "age not known".into()),
                from,
                received: display::datetime(r.submitted.first_recorded()),
                due: i.describe.clone(),
                tag,
                tag_class,
                overdue: i.overdue(),
                danger: r.immediate_danger,
                escalated: r
                    .escalations
                    .last()
                    .map(|e| {
                        format!(
                            "Escalated to the {} on {}",
                            e.level.label().to_lowercase(),
                            display::datetime(e.at)
                        )
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default, rename = "ref")]
    reference: String,
}

pub async fn triage(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    who.authorise(Action::ViewTriageQueue, Resource::Page)?;
    let mut search_error = None;
    if !q.reference.trim().is_empty() {
        match normalise(&q.reference) {
            None => {
                search_error = Some("Enter a reference like REF-7K3M-9Q2P.".to_owned());
            }
            Some(reference) => {
                let found = st
                    .blocking(move |st| Ok(guard::referrals_with_reference(st, &reference)?))
                    .await?;
                match found.as_slice() {
                    [one] => return Ok(super::see_other(&format!("/referrals/{one}"))),
                    [] => {
                        search_error = Some(
                            "No referral has that reference. Check it and try again.".to_owned(),
                        )
                    }
                    _ => search_error = Some(
                        "More than one referral has that reference; they are marked in the list."
                            .to_owned(),
                    ),
                }
            }
        }
    }
    let list = guard::queue_for(&st.app, &who, QueueView::Triage { limit: QUEUE_ROWS }).await?;
    let chrome = st.chrome(&who, "Triage queue", "/triage");
    let can_decide = who.may(Action::DecideReferral);
    list.show(|list, read| TriagePage {
        chrome,
        read,
        total: list.total,
        rows: rows(&st, &list.rows, &list.people, &list.alerts),
        overdue: list.overdue,
        due_today: list.due_today,
        search: q.reference,
        search_error,
        can_decide,
    })
    .respond(StatusCode::OK)
    .await
}

pub async fn overdue(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    let list = guard::queue_for(&st.app, &who, QueueView::Overdue).await?;
    let chrome = st.chrome(&who, "Overdue referrals", "/overdue");
    let can_decide = who.may(Action::DecideReferral);
    list.show(|list, read| OverduePage {
        chrome,
        read,
        rows: rows(&st, &list.rows, &list.people, &list.alerts),
        can_decide,
    })
    .respond(StatusCode::OK)
    .await
}
