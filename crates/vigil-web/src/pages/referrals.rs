//! Raising a concern, its receipt, "My referrals", a referral in full, and
//! deciding it. Every read of a referral or a child goes through
//! [`crate::guard`].

use super::{decision_words, see_other, status_of};
use crate::access::Action;
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::form::{sentence, CsrfForm, FieldError, FormData};
use crate::guard::{self, Authorised, Reading, ReferralRecord};
use crate::html::{
    DecidePage, FormView, HistoryRow, Line, MyReferralsPage, MyRow, PersonLink, ReceiptPage,
    ReferralFormPage, ReferralPage, WordingRow,
};
use crate::intake::{self, OTHER_ROWS};
use crate::pages::Respond;
use crate::readmodel::ReferralView;
use crate::reference::reference_for;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::referral::DecisionRefused;
use vigil_model::codes::ReferralDecision;

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    child: String,
}

fn parse_id(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s)
        .map_err(|_| WebError::NotFound("There is no referral at this address.".into()))
}

/// The referral form, with the existing child it is about if one was chosen.
/// `resumed`: the form is what was typed when the session ended, kept for
/// this user and shown again to send ([`crate::held`]).
pub(crate) async fn form_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    form: FormData,
    errors: Vec<FieldError>,
    child: Authorised<Option<PersonLink>>,
    resumed: bool,
) -> Result<Response, WebError> {
    let danger = form.get("immediate_danger") == "yes" && (!errors.is_empty() || resumed);
    let chrome = st
        .chrome(who, "Raise a concern", "/referrals/new")
        .with_errors(&errors);
    child
        .show(|child, read| ReferralFormPage {
            chrome,
            read,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            child: child.map(|c| (c.id, c.name)),
            danger,
            other_rows: (1..=OTHER_ROWS).collect(),
            out_of_hours: st.config.out_of_hours.clone(),
            resumed,
            idle_minutes: crate::auth::IDLE_MINUTES,
        })
        .respond(status)
        .await
}

pub async fn new_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    let child = guard::chosen_child(&st.app, &who, &q.child).await?;
    form_page(
        &st,
        &who,
        StatusCode::OK,
        FormData::default(),
        Vec::new(),
        child,
        false,
    )
    .await
}

/// After signing in again: the referral that was being written when the
/// session ended, every field as typed, ready to send ([`crate::held`]).
pub async fn resume(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    who.authorise(Action::SubmitReferral, vigil_app::access::Resource::Page)?;
    let Some(form) = crate::held::take(&st, &headers, who.user.id).await? else {
        return Ok(see_other("/referrals/new"));
    };
    let child = guard::chosen_child(&st.app, &who, form.get("child_id")).await?;
    let mut r = form_page(&st, &who, StatusCode::OK, form, Vec::new(), child, true).await?;
    r.headers_mut()
        .append(header::SET_COOKIE, crate::held::clear_cookie(&st));
    Ok(r)
}

pub async fn submit(
    State(st): State<Arc<AppState>>,
    post: crate::held::ReferralPost,
) -> Result<Response, WebError> {
    let CsrfForm { who, form } = match post {
        crate::held::ReferralPost::Live(f) => f,
        crate::held::ReferralPost::Kept(r) => return Ok(r),
    };
    let child = guard::chosen_child(&st.app, &who, form.get("child_id")).await?;
    let now = st.now();
    let intake = match intake::check(&form, now) {
        Ok(i) => i,
        Err(errors) => {
            return form_page(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                form,
                errors,
                child,
                false,
            )
            .await
        }
    };
    if !st
        .referral_limit
        .try_take(who.user.id, now.timestamp_millis())
    {
        let errors = vec![FieldError::new("", WebError::TooMany.to_string())];
        return form_page(
            &st,
            &who,
            StatusCode::TOO_MANY_REQUESTS,
            form,
            errors,
            child,
            false,
        )
        .await;
    }
    let referral_id = match st.app.submit_referral(&who, &intake).await? {
        Ok(s) => s.referral_id,
        Err(msg) => {
            let errors = vec![FieldError::new("", msg)];
            return form_page(&st, &who, StatusCode::CONFLICT, form, errors, child, false).await;
        }
    };
    // Its receipt was kept in the same transaction; the receipt page shows it.
    // (The chosen child was not shown: the redirect is sent once logged.)
    child
        .send(|_| {
            Ok(see_other(&format!(
                "/referrals/{referral_id}/receipt?sent=1"
            )))
        })
        .await
}

#[derive(Deserialize, Default)]
pub struct SentQuery {
    #[serde(default)]
    sent: String,
    #[serde(default)]
    decided: String,
    #[serde(default)]
    added: String,
}

pub async fn receipt(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<SentQuery>,
) -> Result<Response, WebError> {
    let rec = guard::referral(&st.app, &who, Reading::Receipt, parse_id(&id)?).await?;
    let notice = (q.added == "1").then(|| "What you added has been recorded.".to_owned());
    receipt_page(
        &st,
        &who,
        rec,
        StatusCode::OK,
        q.sent == "1",
        notice,
        FormData::default(),
        Vec::new(),
    )
    .await
}

/// What a referral sent, as lines (the referrer's copy).
fn sent_lines(rec: &ReferralRecord) -> Vec<Line> {
    let r = &rec.referral;
    let mut out = vec![
        Line::new("About", rec.child_name()),
        Line::new(
            "Immediate danger",
            if r.immediate_danger { "Yes" } else { "No" },
        ),
    ];
    if let Some(p) = r.police_called {
        out.push(Line::new("Police called", if p { "Yes" } else { "No" }));
    }
    out.push(Line::new("What you are worried about", r.concern.clone()));
    if let Some(w) = &r.what_seen {
        out.push(Line::new("What you saw or heard", w.clone()));
    }
    if let Some(w) = &r.location_text {
        out.push(Line::new("Where", w.clone()));
    }
    if let Some(p) = &r.call_back_on {
        out.push(Line::new("Call you back on", p.clone()));
    }
    if let Some(rf) = &r.referrer {
        out.push(Line::new("Raised by", referrer_words(rf)));
    }
    out
}

/// The language check on what the sender wrote (the concern, what they saw
/// and what they added since), shown to them after saving.
fn sent_wording(r: &ReferralView) -> Vec<WordingRow> {
    let mut texts: Vec<(&'static str, &str)> = vec![("What you are worried about", &r.concern)];
    if let Some(w) = &r.what_seen {
        texts.push(("What you saw or heard", w));
    }
    for a in &r.information_added {
        texts.push(("What you added", &a.information));
    }
    texts
        .into_iter()
        .flat_map(|(field, text)| {
            crate::pages::language::wording(text, None)
                .into_iter()
                .map(move |w| WordingRow {
                    field,
                    phrase: w.phrase,
                    why: w.why,
                    suggestion: w.suggestion,
                })
        })
        .collect()
}

fn referrer_words(rf: &vigil_model::payload::Referrer) -> String {
    [&rf.name, &rf.role, &rf.organisation, &rf.phone, &rf.email]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<String>>()
        .join(", ")
}

/// What the sender added later, oldest first.
fn added_rows(r: &ReferralView) -> Vec<HistoryRow> {
    r.information_added
        .iter()
        .map(|a| HistoryRow {
            when: display::datetime(a.added.at),
            what: a.information.clone(),
            who: a.added.by.clone(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn receipt_page(
    st: &Arc<AppState>,
    who: &SignedIn,
    rec: Authorised<ReferralRecord>,
    status_code: StatusCode,
    just_sent: bool,
    notice: Option<String>,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let event_id = rec.referral.submitted.event_id;
    let stored = st
        .blocking(move |st| Ok(st.accounts().receipt(event_id)?))
        .await?;
    let (entry, log_id) = stored
        .as_deref()
        .and_then(|j| serde_json::from_str::<vigil_ledger::Receipt>(j).ok())
        .map(|rc| (rc.entry, rc.log_id))
        .unwrap_or_default();
    let now = st.now();
    let can_add = rec.allows(who, Action::AddReferralInformation);
    let chrome = st.chrome(who, "Referral sent", "").with_errors(&errors);
    rec.show(|rec, read| {
        let r = &rec.referral;
        let (status, status_class) = status_of(r);
        let deadline = r.decision_due(&st.rules);
        ReceiptPage {
            chrome,
            read,
            id: r.id.to_string(),
            reference: reference_for(r.id),
            just_sent,
            danger: r.immediate_danger,
            child_name: rec.child_name(),
            received: display::datetime(r.submitted.first_recorded()),
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
            out_of_hours: st.config.out_of_hours.clone(),
            sent: sent_lines(&rec),
            added: added_rows(r),
            can_add,
            csrf: who.csrf.clone(),
            form: FormView::new(form, errors),
            notice,
            wording: sent_wording(r),
        }
    })
    .respond(status_code)
    .await
}

/// The sender adds information to their referral: a new event on it.
pub async fn add_information(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let rec = guard::referral(&st.app, &who, Reading::AddInformation, parse_id(&id)?).await?;
    let text = form.raw("information").trim().to_owned();
    if text.is_empty() {
        let errors = vec![FieldError::new(
            "information",
            "Write what you want to add to the referral.",
        )];
        return receipt_page(
            &st,
            &who,
            rec,
            StatusCode::BAD_REQUEST,
            false,
            None,
            form,
            errors,
        )
        .await;
    }
    match st.app.add_referral_information(&who, &rec, text).await? {
        Ok(()) => {
            rec.send(|rec| {
                Ok(see_other(&format!(
                    "/referrals/{}/receipt?added=1#added",
                    rec.referral.id
                )))
            })
            .await
        }
        Err(msg) => {
            let errors = vec![FieldError::new("information", sentence(&msg))];
            receipt_page(
                &st,
                &who,
                rec,
                StatusCode::BAD_REQUEST,
                false,
                None,
                form,
                errors,
            )
            .await
        }
    }
}

/// A JSON file to download, named after the referral's reference.
fn json_file(what: &str, r: &ReferralView, json: String) -> Result<Response, WebError> {
    let name = format!(
        "attachment; filename=\"vigil-{what}-{}.json\"",
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

pub async fn receipt_file(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let rec = guard::referral(&st.app, &who, Reading::ReceiptFile, parse_id(&id)?).await?;
    let event_id = rec.referral.submitted.event_id;
    let json = st
        .blocking(move |st| Ok(st.accounts().receipt(event_id)?))
        .await?
        .ok_or_else(|| {
            WebError::NotFound(
                "The signed receipt for this referral is not held on this server.".into(),
            )
        })?;
    rec.send(|rec| json_file("receipt", &rec.referral, json))
        .await
}

/// What the referral sent, byte for byte as the log's digest covers it.
pub async fn payload_file(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let sent = guard::payload(&st.app, &who, parse_id(&id)?).await?;
    sent.send(|p| json_file("payload", &p.referral, p.json))
        .await
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
            None => r.decision_due(&st.rules).describe(st.now()),
        },
        can_open: false,
    }
}

pub async fn mine(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    let list = guard::my_referrals(&st.app, &who).await?;
    let chrome = st.chrome(&who, "My referrals", "/referrals/mine");
    list.show(|list, read| MyReferralsPage {
        chrome,
        read,
        rows: list
            .iter()
            .map(|l| {
                let name = l
                    .child
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| guard::WITHHELD_CHILD.into());
                my_row(&st, &l.item, name)
            })
            .collect(),
    })
    .respond(StatusCode::OK)
    .await
}

/// The referral's facts as lines: who sent it, when, where, the decision.
fn lines(full: &guard::ReferralInFull) -> Vec<Line> {
    let r = &full.record.referral;
    let mut lines = vec![
        Line::new("Sent by", full.from.clone()),
        Line::new("Received", display::datetime(r.submitted.first_recorded())),
        Line::new(
            "When it happened",
            full.occurred.clone().unwrap_or_else(|| "not known".into()),
        ),
    ];
    if let Some(w) = &r.location_text {
        lines.push(Line::new("Where", w.clone()));
    }
    if let Some(p) = &r.call_back_on {
        lines.push(Line::new("Call the sender back on", p.clone()));
    }
    if let Some(rf) = &r.referrer {
        lines.push(Line::new("Raised by", referrer_words(rf)));
    }
    if r.immediate_danger {
        lines.push(Line::new(
            "Police called",
            match r.police_called {
                Some(true) => "Yes, the referrer says the police were called",
                Some(false) => "No: the referrer had not called the police",
                None => "Not said",
            },
        ));
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
    lines
}

/// What happened to the referral, oldest first.
fn history(full: &guard::ReferralInFull) -> Vec<HistoryRow> {
    let r = &full.record.referral;
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
            who: format!(
                "{} ({})",
                d.by,
                full.decided_by_agency.clone().unwrap_or_default()
            ),
        });
    }
    history
}

/// The child as the referral page shows them (withheld: no name, no link).
fn child_link(rec: &ReferralRecord) -> PersonLink {
    rec.child.clone().unwrap_or_else(|| PersonLink {
        id: String::new(),
        name: guard::WITHHELD_CHILD.into(),
        detail: String::new(),
        recorded: String::new(),
        reasons: String::new(),
        can_open: false,
    })
}

pub async fn view(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<SentQuery>,
) -> Result<Response, WebError> {
    let full = guard::referral_in_full(&st.app, &who, parse_id(&id)?).await?;
    let now = st.now();
    // After a decision: where the next one is (an id only: nothing shown).
    let next = if q.decided == "1" {
        guard::next_in_queue(&st.app, &who, full.record.referral.id).await?
    } else {
        None
    };
    let can_decide = full.record.referral.awaiting_decision()
        && full.record.allows(&who, Action::DecideReferral);
    let can_open_case = who.may(Action::ManageCase)
        && full.record.child.as_ref().is_some_and(|c| c.can_open)
        && full.recently_closed.is_none();
    let chrome = st.chrome(
        &who,
        &format!("Referral {}", reference_for(full.record.referral.id)),
        "",
    );
    full.show(|full, read| {
        let r = &full.record.referral;
        let (status, status_class) = status_of(r);
        let names = super::cases::agency_names(&st.app);
        ReferralPage {
            chrome,
            read,
            can_open_case,
            recently_closed: full
                .recently_closed
                .as_ref()
                .map(|c| super::cases::case_row(c, &names)),
            id: r.id.to_string(),
            reference: reference_for(r.id),
            notice: (q.decided == "1").then(|| "Your decision has been recorded.".to_owned()),
            danger: r.immediate_danger,
            status,
            status_class,
            due: if r.awaiting_decision() {
                r.decision_due(&st.rules).describe(now)
            } else {
                String::new()
            },
            lines: lines(&full),
            concern: r.concern.clone(),
            what_seen: r.what_seen.clone().unwrap_or_default(),
            child: child_link(&full.record),
            history: history(&full),
            others: full.others,
            candidates: candidate_rows(&full.record, full.candidates),
            csrf: who.csrf.clone(),
            search_limited: full.search_limited,
            can_decide,
            next: next.map(|n| (n.to_string(), reference_for(n))),
            unnamed: full.record.child.as_ref().is_some_and(|c| c.can_open) && full.unnamed_child,
            added: added_rows(r),
        }
    })
    .respond(StatusCode::OK)
    .await
}

/// The possible existing records as the referral page lists them.
fn candidate_rows(
    rec: &ReferralRecord,
    found: Vec<vigil_app::links::PossibleMatch>,
) -> Vec<crate::html::CandidateRow> {
    let child = rec.referral.child_id.to_string();
    found
        .into_iter()
        .map(|c| {
            let confirmed = c.status == Some(vigil_model::state::MatchStatus::Confirmed);
            crate::html::CandidateRow {
                explain_href: format!(
                    "{}&back=/referrals/{}",
                    super::links::pair_href(&child, &c.person.id),
                    rec.referral.id
                ),
                probability: vigil_app::score::percent(c.probability_ppm),
                status: c.status.map(|s| s.label().to_owned()).unwrap_or_default(),
                confirmed,
                can_confirm: c.can_confirm,
                holds: holds_words(&c),
                person: c.person,
            }
        })
        .collect()
}

/// What a possible record's person holds, in words.
fn holds_words(c: &vigil_app::links::PossibleMatch) -> String {
    let mut parts = Vec::new();
    if c.records > 1 {
        parts.push(format!("{} linked records of this child", c.records));
    }
    let referrals = match c.referrals {
        0 => "no referrals".to_owned(),
        1 => "1 referral".to_owned(),
        n => format!("{n} referrals"),
    };
    if c.outcomes.is_empty() {
        parts.push(referrals);
    } else {
        let outcomes: Vec<String> = c
            .outcomes
            .iter()
            .map(|(w, n)| format!("{n} {}", w.to_lowercase()))
            .collect();
        parts.push(format!("{referrals}: {}", outcomes.join(", ")));
    }
    parts.join(" · ")
}

async fn decide_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    rec: Authorised<ReferralRecord>,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let chrome = st.chrome(who, "Decide a referral", "").with_errors(&errors);
    rec.show(|rec, read| {
        let r = &rec.referral;
        DecidePage {
            chrome,
            read,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            id: r.id.to_string(),
            reference: reference_for(r.id),
            child: rec.child_name(),
            due: r.decision_due(&st.rules).describe(st.now()),
            concern: r.concern.clone(),
            danger: r.immediate_danger,
        }
    })
    .respond(status)
    .await
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
    let rec = guard::referral(&st.app, &who, Reading::Decide, parse_id(&id)?).await?;
    if !rec.referral.awaiting_decision() {
        return Err(already_decided(&rec.referral));
    }
    decide_page(
        &st,
        &who,
        StatusCode::OK,
        rec,
        FormData::default(),
        Vec::new(),
    )
    .await
}

pub async fn decide(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let rec = guard::referral(&st.app, &who, Reading::Decide, parse_id(&id)?).await?;
    if !rec.referral.awaiting_decision() {
        return Err(already_decided(&rec.referral));
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
    let Some(decision) = decision.filter(|_| errors.is_empty()) else {
        return decide_page(&st, &who, StatusCode::BAD_REQUEST, rec, form, errors).await;
    };
    match st.app.decide_referral(&who, &rec, decision, reason).await? {
        Ok(()) => {
            rec.send(|rec| {
                Ok(see_other(&format!(
                    "/referrals/{}?decided=1",
                    rec.referral.id
                )))
            })
            .await
        }
        Err(DecisionRefused::Reason(msg)) => {
            let errors = vec![FieldError::new("reason", msg)];
            decide_page(&st, &who, StatusCode::BAD_REQUEST, rec, form, errors).await
        }
        Err(DecisionRefused::Conflict(msg)) => {
            let errors = vec![FieldError::new("", msg)];
            decide_page(&st, &who, StatusCode::CONFLICT, rec, form, errors).await
        }
    }
}
