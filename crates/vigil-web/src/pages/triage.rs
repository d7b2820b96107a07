//! The triage queue and the supervisor's overdue list.

use super::page;
use crate::access::{Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::html::{OverduePage, QueueRow, TriagePage};
use crate::queue::{self, QueueItem};
use crate::reference::{normalise, reference_for};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use vigil_model::{EntityKind, SubjectRef};

/// Most referrals listed on one page of the queue (the oldest deadlines;
/// the page says how many more there are).
pub const QUEUE_ROWS: usize = 100;

/// The queue at this moment, after recording any escalation it calls for.
/// Used by the pages and by the server's periodic check, so an overdue
/// referral is escalated even if nobody opens the queue.
pub async fn current_queue(st: &Arc<AppState>) -> Result<Vec<QueueItem>, WebError> {
    let compute = |st: &AppState| -> Result<Vec<QueueItem>, WebError> {
        st.mirror.refresh_all(st.store.as_ref())?;
        Ok(queue::compute(
            st.mirror.awaiting_decision(),
            &st.rules,
            &st.policy,
            st.now(),
        ))
    };
    let items = st.blocking(compute).await?;
    let due = queue::escalations_due(&items, st.now());
    if due.is_empty() {
        return Ok(items);
    }
    // Refusals here mean another server raised the same escalation first.
    st.append(due).await?;
    st.blocking(compute).await
}

/// Runs [`current_queue`] for its escalations; returns how many referrals are overdue.
pub async fn escalate(st: &Arc<AppState>) -> Result<usize, WebError> {
    Ok(current_queue(st)
        .await?
        .iter()
        .filter(|i| i.overdue())
        .count())
}

fn rows(st: &AppState, items: &[QueueItem]) -> Vec<QueueRow> {
    let today = vigil_rules::london::local_date(st.now());
    items
        .iter()
        .map(|i| {
            let r = &i.referral;
            let child = st.mirror.person(r.child_id);
            let (tag, tag_class) = if i.overdue() {
                ("Overdue", "v-tag--red")
            } else if i.due_today() {
                ("Due today", "v-tag--amber")
            } else {
                ("On time", "v-tag--blue")
            };
            let from = st
                .mirror
                .agency_by_code(&r.submitted.agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| r.submitted.agency.clone());
            QueueRow {
                id: r.id.to_string(),
                reference: reference_for(r.id),
                child: child
                    .as_ref()
                    .map(|c| c.display_name())
                    .unwrap_or_else(|| "(record not found)".into()),
                age: child
                    .as_ref()
                    .and_then(|c| c.date_of_birth.as_ref())
                    .map(|d| display::age(d, today))
                    .unwrap_or_else(|| "age not known".into()),
                from,
                received: display::datetime(r.submitted.at),
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

/// What a list shows of people: the children named on it. (Opening a
/// referral logs the referral too; a list logs whose names it showed.)
fn subjects(items: &[QueueItem]) -> Vec<SubjectRef> {
    items
        .iter()
        .map(|i| SubjectRef::new(EntityKind::Person, i.referral.child_id))
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
                    .blocking(move |st| {
                        st.mirror.refresh_referrals(st.store.as_ref())?;
                        Ok(st.mirror.referrals_with_reference(&reference))
                    })
                    .await?;
                match found.as_slice() {
                    [one] => return Ok(super::see_other(&format!("/referrals/{}", one.id))),
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
    let mut items = current_queue(&st).await?;
    let overdue = items.iter().filter(|i| i.overdue()).count();
    let due_today = items.iter().filter(|i| i.due_today()).count();
    let total = items.len();
    items.truncate(QUEUE_ROWS);
    let logged = st.log_access(&who, "listed the triage queue", subjects(&items))?;
    let rows = rows(&st, &items);
    let response = page(TriagePage {
        chrome: st.chrome(&who, "Triage queue", "/triage"),
        total,
        rows,
        overdue,
        due_today,
        search: q.reference,
        search_error,
        can_decide: who.may(Action::DecideReferral),
    });
    logged.durable().await?;
    response
}

pub async fn overdue(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    who.authorise(Action::ViewOverdue, Resource::Page)?;
    let items: Vec<QueueItem> = current_queue(&st)
        .await?
        .into_iter()
        .filter(|i| i.overdue())
        .collect();
    let logged = st.log_access(&who, "listed overdue referrals", subjects(&items))?;
    let rows = rows(&st, &items);
    let response = page(OverduePage {
        chrome: st.chrome(&who, "Overdue referrals", "/overdue"),
        rows,
        can_decide: who.may(Action::DecideReferral),
    });
    logged.durable().await?;
    response
}
