//! Raising a concern, its receipt, "My referrals", a referral in full, and
//! deciding it.

use super::{decision_words, page, page_with, read_form, see_other, status_of};
use crate::access::{Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::candidates;
use crate::display;
use crate::error::WebError;
use crate::form::{sentence, FieldError, FormData};
use crate::html::{
    DecidePage, FormView, HistoryRow, Line, MyReferralsPage, MyRow, PersonLink, ReceiptPage,
    ReferralFormPage, ReferralPage,
};
use crate::intake::{self, OTHER_ROWS};
use crate::readmodel::{PersonView, ReferralView};
use crate::reference::reference_for;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::ReferralDecision;
use vigil_model::payload::ReferralDecided;
use vigil_model::{EntityKind, EventPayload, OccurredAt, SubjectRef};

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    child: String,
}

fn referral_resource(r: &ReferralView) -> Resource<'_> {
    Resource::Referral {
        submitted_by: r.submitted.user_id(),
        agency: &r.submitted.agency,
    }
}

fn person_resource(p: &PersonView) -> Resource<'_> {
    Resource::Person {
        recorded_by_agency: &p.recorded.agency,
    }
}

fn parse_id(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s)
        .map_err(|_| WebError::NotFound("There is no referral at this address.".into()))
}

/// The existing child a new referral is about, if one was chosen; the user
/// must be allowed to open that record.
async fn chosen_child(
    st: &Arc<AppState>,
    who: &SignedIn,
    id: &str,
) -> Result<Option<(String, String)>, WebError> {
    if id.trim().is_empty() {
        return Ok(None);
    }
    let id = Uuid::parse_str(id.trim())
        .map_err(|_| WebError::NotFound("There is no such person.".into()))?;
    let person = st
        .blocking(move |st| {
            st.mirror.refresh_persons(st.store.as_ref())?;
            Ok(st.mirror.person(id))
        })
        .await?
        .ok_or_else(|| WebError::NotFound("There is no such person.".into()))?;
    who.authorise(Action::ViewPerson, person_resource(&person))?;
    Ok(Some((id.to_string(), person.display_name())))
}

fn form_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    form: FormData,
    errors: Vec<FieldError>,
    child: Option<(String, String)>,
) -> Result<Response, WebError> {
    let danger = form.get("immediate_danger") == "yes" && !errors.is_empty();
    let chrome = st
        .chrome(who, "Raise a concern", "/referrals/new")
        .with_errors(&errors);
    page_with(
        status,
        ReferralFormPage {
            chrome,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            child,
            danger,
            other_rows: (1..=OTHER_ROWS).collect(),
        },
    )
}

pub async fn new_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    who.authorise(Action::SubmitReferral, Resource::Page)?;
    let child = chosen_child(&st, &who, &q.child).await?;
    form_page(
        &st,
        &who,
        StatusCode::OK,
        FormData::default(),
        Vec::new(),
        child,
    )
}

pub async fn submit(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, WebError> {
    let form = read_form(body)?;
    crate::session::check_csrf(&who, &form)?;
    who.authorise(Action::SubmitReferral, Resource::Page)?;
    let child = chosen_child(&st, &who, form.get("child_id")).await?;
    let now = st.now();
    let intake = match intake::check(&form, now) {
        Ok(i) => i,
        Err(errors) => return form_page(&st, &who, StatusCode::BAD_REQUEST, form, errors, child),
    };
    let (actor, agency) = who.actor()?;
    let drafts = match intake.drafts(&actor, &agency, now) {
        Ok(d) => d,
        Err(msg) => {
            return form_page(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                form,
                vec![FieldError::new("", msg)],
                child,
            )
        }
    };
    let referral_id = drafts.referral_id;
    let results = st
        .append_keeping(drafts.drafts, vec![drafts.referral_event])
        .await?;
    if let Some(Err(msg)) = results.iter().find(|r| r.is_err()) {
        let msg = sentence(msg);
        return form_page(
            &st,
            &who,
            StatusCode::CONFLICT,
            form,
            vec![FieldError::new("", msg)],
            child,
        );
    }
    // Its receipt was kept in the same transaction; the receipt page shows it.
    Ok(see_other(&format!(
        "/referrals/{referral_id}/receipt?sent=1"
    )))
}

/// A referral and the child it is about, refreshed from the store.
async fn load(
    st: &Arc<AppState>,
    id: Uuid,
) -> Result<(Arc<ReferralView>, Option<Arc<PersonView>>), WebError> {
    st.blocking(move |st| {
        st.mirror.refresh_all(st.store.as_ref())?;
        let r = st
            .mirror
            .referral(id)
            .ok_or_else(|| WebError::NotFound("There is no referral at this address.".into()))?;
        let child = st.mirror.person(r.child_id);
        Ok((r, child))
    })
    .await
}

fn child_name(child: &Option<Arc<PersonView>>) -> String {
    child
        .as_ref()
        .map(|p| p.display_name())
        .unwrap_or_else(|| "(record not found)".into())
}

#[derive(Deserialize, Default)]
pub struct SentQuery {
    #[serde(default)]
    sent: String,
    #[serde(default)]
    decided: String,
}

pub async fn receipt(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<SentQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, child) = load(&st, id).await?;
    who.authorise(Action::ViewReceipt, referral_resource(&r))?;
    let event_id = r.submitted.event_id;
    let stored = st
        .blocking(move |st| Ok(st.store.receipt(event_id)?))
        .await?;
    let (entry, log_id) = stored
        .as_deref()
        .and_then(|j| serde_json::from_str::<vigil_ledger::Receipt>(j).ok())
        .map(|rc| (rc.entry, rc.log_id))
        .unwrap_or_default();
    let logged = st.log_access(
        &who,
        "opened a referral's receipt",
        vec![
            SubjectRef::new(EntityKind::Referral, r.id),
            SubjectRef::new(EntityKind::Person, r.child_id),
        ],
    )?;
    let (status, status_class) = status_of(&r);
    let now = st.now();
    let deadline = st.rules.referral_decision_due(r.submitted.at);
    let response = page(ReceiptPage {
        chrome: st.chrome(&who, "Referral sent", ""),
        id: r.id.to_string(),
        reference: reference_for(r.id),
        just_sent: q.sent == "1",
        danger: r.immediate_danger,
        child_name: child_name(&child),
        received: display::datetime(r.submitted.at),
        due: if r.awaiting_decision() {
            format!("The decision is {}.", deadline.describe(now))
        } else {
            "It has been decided.".into()
        },
        status,
        status_class,
        decided: r.decided.as_ref().map(|d| display::datetime(d.at)),
        receipt_available: stored.is_some(),
        entry,
        log_id,
    });
    logged.durable().await?;
    response
}

pub async fn receipt_file(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, _) = load(&st, id).await?;
    who.authorise(Action::ViewReceipt, referral_resource(&r))?;
    let event_id = r.submitted.event_id;
    let json = st
        .blocking(move |st| Ok(st.store.receipt(event_id)?))
        .await?
        .ok_or_else(|| {
            WebError::NotFound(
                "The signed receipt for this referral is not held on this server.".into(),
            )
        })?;
    let name = format!(
        "attachment; filename=\"vigil-receipt-{}.json\"",
        reference_for(r.id)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        json,
    )
        .into_response())
}

/// A row of "My referrals": when decided, when; otherwise when it is due.
fn my_row(st: &AppState, r: &ReferralView, child: String) -> MyRow {
    let (status, status_class) = status_of(r);
    MyRow {
        id: r.id.to_string(),
        reference: reference_for(r.id),
        child,
        sent: display::datetime(r.submitted.at),
        status,
        status_class,
        decided: match &r.decided {
            Some(d) => format!("decided {}", display::datetime(d.at)),
            None => st
                .rules
                .referral_decision_due(r.submitted.at)
                .describe(st.now()),
        },
    }
}

pub async fn mine(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    who.authorise(Action::ListOwnReferrals, Resource::Page)?;
    let (user_id, agency) = (who.user.id, who.user.agency.clone());
    let rows = st
        .blocking(move |st| {
            st.mirror.refresh_persons(st.store.as_ref())?;
            let mut list = st.mirror.submitted_by(user_id, &agency);
            list.sort_by_key(|r| std::cmp::Reverse(r.submitted.at));
            Ok(list
                .into_iter()
                .map(|r| {
                    let name = child_name(&st.mirror.person(r.child_id));
                    (r, name)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    let logged = st.log_access(
        &who,
        "listed my referrals",
        rows.iter()
            .map(|(r, _)| SubjectRef::new(EntityKind::Person, r.child_id))
            .collect(),
    )?;
    let response = page(MyReferralsPage {
        chrome: st.chrome(&who, "My referrals", "/referrals/mine"),
        rows: rows
            .iter()
            .map(|(r, n)| my_row(&st, r, n.clone()))
            .collect(),
    });
    logged.durable().await?;
    response
}

/// One person as a link, if this user may open their record.
pub fn person_link(
    st: &AppState,
    who: &SignedIn,
    p: &PersonView,
    today: chrono::NaiveDate,
) -> PersonLink {
    let agency = st
        .mirror
        .agency_by_code(&p.recorded.agency)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| p.recorded.agency.clone());
    PersonLink {
        id: p.id.to_string(),
        name: p.display_name(),
        detail: p
            .date_of_birth
            .as_ref()
            .map(|d| display::age(d, today))
            .or_else(|| p.description.clone())
            .unwrap_or_default(),
        recorded: format!(
            "{agency}, {}",
            display::date(vigil_rules::london::local_date(p.recorded.at))
        ),
        reasons: String::new(),
        can_open: who
            .authorise(Action::ViewPerson, person_resource(p))
            .is_ok(),
    }
}

pub async fn view(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<SentQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, child) = load(&st, id).await?;
    who.authorise(Action::ViewReferral, referral_resource(&r))?;
    let now = st.now();
    let today = vigil_rules::london::local_date(now);
    let r2 = Arc::clone(&r);
    let child2 = child.clone();
    let (others, candidates, occurred, from, decided_by_agency) = st
        .blocking(move |st| {
            let others: Vec<Arc<PersonView>> = r2
                .others_involved
                .iter()
                .filter_map(|o| st.mirror.person(*o))
                .collect();
            let mut found = Vec::new();
            if let Some(c) = &child2 {
                let mut all = Vec::new();
                st.mirror.for_each_person(|p| all.push(p.clone()));
                for cand in candidates::find(c, all.iter()) {
                    if let Some(p) = st.mirror.person(cand.person_id) {
                        found.push((p, cand.reasons.join("; ")));
                    }
                }
            }
            let occurred = st
                .store
                .entries_about(r2.id)?
                .into_iter()
                .filter_map(|e| {
                    serde_json::from_str::<vigil_model::EventHeader>(&e.header_json).ok()
                })
                .find(|h| h.kind == "referral.submitted")
                .map(|h| display::occurred(&h.occurred_at));
            let agency_name = |code: &str| {
                st.mirror
                    .agency_by_code(code)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| code.to_owned())
            };
            let from = format!(
                "{} ({})",
                r2.submitted.by,
                agency_name(&r2.submitted.agency)
            );
            let decided = r2.decided.as_ref().map(|d| agency_name(&d.agency));
            Ok((others, found, occurred, from, decided))
        })
        .await?;
    let mut subjects = vec![
        SubjectRef::new(EntityKind::Referral, r.id),
        SubjectRef::new(EntityKind::Person, r.child_id),
    ];
    subjects.extend(
        others
            .iter()
            .map(|p| SubjectRef::new(EntityKind::Person, p.id)),
    );
    subjects.extend(
        candidates
            .iter()
            .map(|(p, _)| SubjectRef::new(EntityKind::Person, p.id)),
    );
    let logged = st.log_access(&who, "opened a referral", subjects)?;

    let (status, status_class) = status_of(&r);
    let deadline = st.rules.referral_decision_due(r.submitted.at);
    let mut lines = vec![
        Line::new("Sent by", from),
        Line::new("Received", display::datetime(r.submitted.at)),
        Line::new(
            "When it happened",
            occurred.unwrap_or_else(|| "not known".into()),
        ),
    ];
    if let Some(w) = &r.location_text {
        lines.push(Line::new("Where", w.clone()));
    }
    if let Some(rf) = &r.referrer {
        let parts: Vec<String> = [&rf.name, &rf.role, &rf.organisation, &rf.phone, &rf.email]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        lines.push(Line::new("Raised by", parts.join(", ")));
    }
    if let (Some(d), Some(dec)) = (&r.decided, r.decision) {
        let mut v = format!(
            "{} ({})",
            sentence(decision_words(dec)).trim_end_matches('.'),
            display::datetime(d.at)
        );
        if let Some(reason) = &r.decision_reason {
            v.push_str(&format!(". Reason: {reason}"));
        }
        lines.push(Line::new("Decision", v));
    }
    let mut history = vec![HistoryRow {
        when: display::datetime(r.submitted.at),
        what: "Referral received".into(),
        who: r.submitted.by.clone(),
    }];
    for e in &r.escalations {
        history.push(HistoryRow {
            when: display::datetime(e.at),
            what: format!(
                "Not decided in time (was due by end of {}): escalated to the {}",
                e.due_by,
                e.level.label().to_lowercase()
            ),
            who: "Vigil".into(),
        });
    }
    if let (Some(d), Some(dec)) = (&r.decided, r.decision) {
        history.push(HistoryRow {
            when: display::datetime(d.at),
            what: format!("Decided: {}", decision_words(dec)),
            who: format!("{} ({})", d.by, decided_by_agency.unwrap_or_default()),
        });
    }
    let child_link = match &child {
        Some(c) => person_link(&st, &who, c, today),
        None => PersonLink {
            id: r.child_id.to_string(),
            name: "(record not found)".into(),
            detail: String::new(),
            recorded: String::new(),
            reasons: String::new(),
            can_open: false,
        },
    };
    let response = page(ReferralPage {
        chrome: st.chrome(&who, &format!("Referral {}", reference_for(r.id)), ""),
        id: r.id.to_string(),
        reference: reference_for(r.id),
        notice: (q.decided == "1").then(|| "Your decision has been recorded.".to_owned()),
        danger: r.immediate_danger,
        status,
        status_class,
        due: if r.awaiting_decision() {
            deadline.describe(now)
        } else {
            String::new()
        },
        lines,
        concern: r.concern.clone(),
        what_seen: r.what_seen.clone().unwrap_or_default(),
        child: child_link,
        others: others
            .iter()
            .map(|p| person_link(&st, &who, p, today))
            .collect(),
        candidates: candidates
            .iter()
            .map(|(p, why)| PersonLink {
                reasons: why.clone(),
                ..person_link(&st, &who, p, today)
            })
            .collect(),
        history,
        can_decide: r.awaiting_decision()
            && who
                .authorise(Action::DecideReferral, referral_resource(&r))
                .is_ok(),
    });
    logged.durable().await?;
    response
}

fn decide_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    r: &ReferralView,
    child: &Option<Arc<PersonView>>,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let chrome = st.chrome(who, "Decide a referral", "").with_errors(&errors);
    page_with(
        status,
        DecidePage {
            chrome,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            id: r.id.to_string(),
            reference: reference_for(r.id),
            child: child_name(child),
            due: st
                .rules
                .referral_decision_due(r.submitted.at)
                .describe(st.now()),
            concern: r.concern.clone(),
        },
    )
}

fn already_decided(r: &ReferralView) -> WebError {
    let when = r
        .decided
        .as_ref()
        .map(|d| format!(" by {} on {}", d.by, display::datetime(d.at)))
        .unwrap_or_default();
    WebError::Forbidden(format!(
        "This referral has already been decided{when}. A decision is recorded once."
    ))
}

pub async fn decide_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, child) = load(&st, id).await?;
    who.authorise(Action::DecideReferral, referral_resource(&r))?;
    if !r.awaiting_decision() {
        return Err(already_decided(&r));
    }
    let logged = st.log_access(
        &who,
        "opened a referral to decide it",
        vec![
            SubjectRef::new(EntityKind::Referral, r.id),
            SubjectRef::new(EntityKind::Person, r.child_id),
        ],
    )?;
    let response = decide_page(
        &st,
        &who,
        StatusCode::OK,
        &r,
        &child,
        FormData::default(),
        Vec::new(),
    );
    logged.durable().await?;
    response
}

pub async fn decide(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, WebError> {
    let form = read_form(body)?;
    crate::session::check_csrf(&who, &form)?;
    let id = parse_id(&id)?;
    let (r, child) = load(&st, id).await?;
    who.authorise(Action::DecideReferral, referral_resource(&r))?;
    if !r.awaiting_decision() {
        return Err(already_decided(&r));
    }
    let mut errors = Vec::new();
    let decision = match ReferralDecision::parse(form.get("decision")) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new("decision", "Choose a decision."));
            None
        }
    };
    let reason = form.raw("reason").trim().to_owned();
    let reason = (!reason.is_empty()).then_some(reason);
    let now = st.now();
    let (actor, agency) = who.actor()?;
    let mut draft = None;
    if let Some(d) = decision {
        let body = EventPayload::ReferralDecided(ReferralDecided {
            referral_id: r.id,
            decision: d,
            reason: reason.clone(),
        });
        match intake::prepare(&actor, &agency, OccurredAt::exact(now), body, now) {
            Ok(x) => draft = Some(x),
            Err(msg) => errors.push(FieldError::new("reason", msg)),
        }
    }
    let Some(draft) = draft.filter(|_| errors.is_empty()) else {
        return decide_page(&st, &who, StatusCode::BAD_REQUEST, &r, &child, form, errors);
    };
    let results = st.append(vec![draft]).await?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(see_other(&format!("/referrals/{}?decided=1", r.id))),
        Some(Err(msg)) => decide_page(
            &st,
            &who,
            StatusCode::CONFLICT,
            &r,
            &child,
            form,
            vec![FieldError::new("", sentence(&msg))],
        ),
        None => Err(WebError::Internal("the decision was not written".into())),
    }
}
