//! The alerts pages: mine and my team's (`/alerts`, `/alerts/team`), one
//! alert with the forms to acknowledge and resolve it (`/alerts/{id}`),
//! and the alert rows the child's record, a case and the triage queue
//! show. Parse, call `vigil_app::guard::alert_work`, render.

use super::cases::{case_row, stamp_time};
use super::{see_other, Respond};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::form::{text, CsrfForm, FieldError, FormData};
use crate::html::{AlertPageView, AlertRow, AlertsPage, FormView, Line};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::guard::alert_work::{
    self, AlertAnswer, AlertLine, AlertList, AlertPage, AlertsView, MAX_CITED,
};
use vigil_model::codes::AlertSeverity;
use vigil_rules::escalation::Escalation;

/// The row of one alert, as every list shows it.
pub(crate) fn alert_row(a: &AlertLine) -> AlertRow {
    let (status, status_class) = match (&a.state.resolved, &a.state.acknowledged) {
        (Some(r), _) => (format!("Resolved by {}", r.at.by), "v-tag--green"),
        (None, Some(n)) => (format!("Acknowledged by {}", n.at.by), "v-tag--blue"),
        (None, None) if a.is_overdue() => ("Not acknowledged in time".to_owned(), "v-tag--red"),
        (None, None) => (
            format!(
                "To acknowledge by {}",
                display::datetime(a.due.due_at - chrono::TimeDelta::minutes(1))
            ),
            "v-tag--amber",
        ),
    };
    let escalated = match a.escalation {
        Escalation::Supervisor => "Escalated to the supervisor".to_owned(),
        Escalation::HeadOfService => "Escalated to the supervisor and the head of service".into(),
        Escalation::None | Escalation::OwnerReminded => String::new(),
    };
    AlertRow {
        id: a.id.to_string(),
        href: format!("/alerts/{}", a.id),
        severity: a.state.severity.label().to_owned(),
        severity_class: match a.state.severity {
            AlertSeverity::High => "v-tag--red",
            AlertSeverity::Medium => "v-tag--amber",
        },
        says: a.state.says.clone(),
        child: a.child.name.clone(),
        child_href: a.child.can_open.then(|| format!("/people/{}", a.child.id)),
        raised: stamp_time(&a.state.raised.at),
        status,
        status_class,
        escalated,
        case_href: a.open_cases.first().map(|c| format!("/cases/{c}")),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    resolved: String,
}

async fn list(
    st: &Arc<AppState>,
    who: &SignedIn,
    view: AlertsView,
    q: &ListQuery,
) -> Result<Response, WebError> {
    let with_resolved = q.resolved == "1";
    let list = alert_work::alert_list(&st.app, who, view, with_resolved).await?;
    let (title, here) = match view {
        AlertsView::Mine => ("My alerts", "/alerts"),
        AlertsView::Team => ("My team's alerts", "/alerts/team"),
    };
    let chrome = st.chrome(who, title, "/alerts");
    let _ = here;
    list.show(|l: AlertList, read| AlertsPage {
        chrome,
        read,
        team: view == AlertsView::Team,
        with_resolved: l.with_resolved,
        rows: l.rows.iter().map(alert_row).collect(),
        open: l.open,
        overdue: l.overdue,
        head_of_service: l.head_of_service,
    })
    .respond(StatusCode::OK)
    .await
}

/// `/alerts`: the alerts on the children I work with.
pub async fn mine(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    list(&st, &who, AlertsView::Mine, &q).await
}

/// `/alerts/team`: every alert I may see.
pub async fn team(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    list(&st, &who, AlertsView::Team, &q).await
}

fn parse_alert(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s).map_err(|_| WebError::NotFound("There is no alert at this address.".into()))
}

async fn show_alert(
    st: &Arc<AppState>,
    who: &SignedIn,
    status: StatusCode,
    id: Uuid,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let page = alert_work::alert(&st.app, who, id).await?;
    let names = super::cases::agency_names(&st.app);
    let chrome = st.chrome(who, "Alert", "/alerts").with_errors(&errors);
    let csrf = who.csrf.clone();
    page.show(|p: AlertPage, read| {
        let a = &p.line.state;
        let note = |n: &vigil_model::state::AlertNote, what: &str| {
            Line::new(
                &format!("{what} by {}, {}", n.at.by, stamp_time(&n.at.at)),
                n.note.clone(),
            )
        };
        AlertPageView {
            chrome,
            read,
            csrf,
            rule: a.rule.clone(),
            due: display::datetime(p.line.due.due_at - chrono::TimeDelta::minutes(1)),
            events: p
                .events
                .iter()
                .map(|e| Line::new(&e.what, e.occurred.clone()))
                .collect(),
            more_events: a.events.len().saturating_sub(p.events.len().min(MAX_CITED)),
            cases: p.cases.iter().map(|c| case_row(c, &names)).collect(),
            seen_by: if a.seen_by.is_empty() {
                "Nobody yet".into()
            } else {
                a.seen_by.join(", ")
            },
            acknowledged: a.acknowledged.as_ref().map(|n| note(n, "Acknowledged")),
            resolved: a.resolved.as_ref().map(|n| note(n, "Resolved")),
            can_acknowledge: p.can_answer && a.acknowledged.is_none() && a.resolved.is_none(),
            can_resolve: p.can_answer && a.resolved.is_none(),
            row: alert_row(&p.line),
            form: FormView::new(form, errors),
        }
    })
    .respond(status)
    .await
}

/// `/alerts/{id}`: one alert. Opening it is recorded (`alert.seen`).
pub async fn alert(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_alert(&id)?;
    show_alert(
        &st,
        &who,
        StatusCode::OK,
        id,
        FormData::default(),
        Vec::new(),
    )
    .await
}

async fn answer(
    st: Arc<AppState>,
    id: String,
    CsrfForm { who, form }: CsrfForm,
    answer: AlertAnswer,
) -> Result<Response, WebError> {
    let id = parse_alert(&id)?;
    let (field, words) = match answer {
        AlertAnswer::Acknowledge => ("ack_note", "what you are doing about it"),
        AlertAnswer::Resolve => ("resolve_note", "how it was dealt with"),
    };
    let mut errors = Vec::new();
    let note = text(&form, field, words, &mut errors);
    if note.is_none() {
        errors.push(FieldError::new(field, format!("Write {words}.")));
    }
    let result = match note {
        Some(note) if errors.is_empty() => st.app.answer_alert_with(&who, id, answer, note).await?,
        _ => Err(String::new()),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/alerts/{id}"))),
        Err(msg) => {
            if !msg.is_empty() {
                errors.push(FieldError::new("", msg));
            }
            show_alert(&st, &who, StatusCode::BAD_REQUEST, id, form, errors).await
        }
    }
}

/// `POST /alerts/{id}/acknowledge`, with a note.
pub async fn acknowledge(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    form: CsrfForm,
) -> Result<Response, WebError> {
    answer(st, id, form, AlertAnswer::Acknowledge).await
}

/// `POST /alerts/{id}/resolve`, with a note.
pub async fn resolve(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    form: CsrfForm,
) -> Result<Response, WebError> {
    answer(st, id, form, AlertAnswer::Resolve).await
}
