//! Cases: open one for a child, its page (summary, actions, risk,
//! decisions, closing and sign-off, the child's timeline and chronology
//! as the case's agencies see it), and the action lists ("My actions",
//! the supervisor's overdue actions and closures waiting for sign-off).
//!
//! Each handler parses the form field by field, calls one command or
//! query of `vigil_app::guard::cases` (which checks the access table and
//! writes the access log) and renders. No JavaScript is needed.

use super::{see_other, Respond};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::form::{line, parse_day, text, CsrfForm, FieldError, FormData, DAY_HINT};
use crate::html::{
    ActionRow, ActionsPage, CaseMeetingRow, CasePage, CaseRow, ClosureRow, FormView, Line,
    LinkedChildRow, NewCasePage, NewContextCasePage, Opt,
};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::guard::cases::{
    self, ActionItem, AwaitingClosure, CaseAbout, CaseLine, CaseView, Closure, ContextView,
    NewCase, OverdueWork,
};
use vigil_app::guard::Authorised;
use vigil_model::codes::{ActionStatus, AgencyId, CaseLevel, MeetingKind, RiskLevel};
use vigil_model::dates::Date;
use vigil_model::state::{CaseAction, CaseMeeting, CaseStatus, Stamp};
use vigil_rules::london::local_date;

/// Refuses a role without this action before anything is looked up, so
/// nobody without cases learns whether one exists.
fn allowed(who: &SignedIn, action: crate::access::Action) -> Result<(), WebError> {
    if who.may(action) {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "Your role does not let you {}.",
            action.describe()
        )))
    }
}

fn parse_case(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s).map_err(|_| WebError::NotFound("There is no case at this address.".into()))
}

/// A stamp's time in words ("3 Oct 2025 at 14:05"): when it was first
/// recorded (by the source system, for imported history).
fn when(s: &Stamp) -> String {
    stamp_time(s.first_recorded())
}

pub(crate) fn stamp_time(at: &str) -> String {
    DateTime::parse_from_rfc3339(at)
        .map(|t| display::datetime(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| at.to_owned())
}

/// The agencies to choose from (Vigil's own is not one).
fn agency_opts(st: &AppState) -> Vec<Opt> {
    st.app
        .agencies()
        .iter()
        .filter(|a| a.code != "vigil")
        .map(|a| Opt::new(&a.code, &a.name))
        .collect()
}

/// Agency codes to names.
pub(crate) fn agency_names(app: &vigil_app::App) -> HashMap<String, String> {
    app.agencies()
        .iter()
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect()
}

fn level_opts() -> Vec<Opt> {
    CaseLevel::ALL
        .iter()
        .map(|l| Opt::new(l.code(), l.label()))
        .collect()
}

fn risk_opts() -> Vec<Opt> {
    RiskLevel::ALL
        .iter()
        .map(|l| Opt::new(l.code(), l.label()))
        .collect()
}

fn level_of(form: &FormData, field: &str, errors: &mut Vec<FieldError>) -> Option<CaseLevel> {
    let v = CaseLevel::parse(form.get(field)).ok();
    if v.is_none() {
        errors.push(FieldError::new(field, "Choose the level of the case."));
    }
    v
}

fn risk_of(form: &FormData, field: &str, errors: &mut Vec<FieldError>) -> Option<RiskLevel> {
    let v = RiskLevel::parse(form.get(field)).ok();
    if v.is_none() {
        errors.push(FieldError::new(field, "Choose low, medium or high risk."));
    }
    v
}

fn agency_of(
    form: &FormData,
    field: &str,
    what: &str,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> Option<AgencyId> {
    match form.get(field) {
        "" if !required => None,
        v => match AgencyId::new(v) {
            Ok(a) => Some(a),
            Err(_) => {
                errors.push(FieldError::new(field, format!("Choose {what}.")));
                None
            }
        },
    }
}

/// A required reason or text.
fn reason(
    form: &FormData,
    field: &str,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let v = text(form, field, what, errors);
    if v.is_none() {
        errors.push(FieldError::new(field, format!("Write {what}.")));
    }
    v
}

/// A due day: today or later (an action is for the future), within ten
/// years.
fn due_of(
    form: &FormData,
    field: &str,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<Date> {
    match form.get(field) {
        "" => {
            errors.push(FieldError::new(field, "Enter the day it is due by."));
            None
        }
        v => match parse_day(v) {
            Some(d) if d < today => {
                errors.push(FieldError::new(field, "The due day is in the past."));
                None
            }
            Some(d) if d > today + chrono::TimeDelta::days(3653) => {
                errors.push(FieldError::new(
                    field,
                    "The due day is more than ten years away.",
                ));
                None
            }
            Some(d) => Some(Date::new(d)),
            None => {
                errors.push(FieldError::new(
                    field,
                    format!("Enter the day it is due by {DAY_HINT}."),
                ));
                None
            }
        },
    }
}

fn done<T>(v: Option<T>, errors: &[FieldError]) -> Option<T> {
    if errors.is_empty() {
        v
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Opening a case
// ---------------------------------------------------------------------------

/// `?child=...&referral=...`, or `?context=place|peer_group` (and, for a
/// place already recorded, `&location=...`).
#[derive(serde::Deserialize)]
pub struct NewCaseQuery {
    #[serde(default)]
    child: String,
    #[serde(default)]
    referral: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    location: String,
}

/// The contexts a case may be opened on (`place`, `peer_group`), or not
/// found.
fn parse_context(s: &str) -> Result<&'static str, WebError> {
    match s.trim() {
        "place" => Ok("place"),
        "peer_group" => Ok("peer_group"),
        _ => Err(WebError::NotFound(
            "A case is opened on a child, a place or a peer group.".into(),
        )),
    }
}

fn place_kind_opts() -> Vec<Opt> {
    vigil_model::codes::LocationKind::ALL
        .iter()
        .map(|k| Opt::new(k.code(), k.label()))
        .collect()
}

/// What a contextual case is about, from its form's fields.
fn check_about(form: &FormData, e: &mut Vec<FieldError>) -> Option<CaseAbout> {
    match form.get("context") {
        "place" => match form.get("location").trim() {
            "" => {
                let kind = vigil_model::codes::LocationKind::parse(form.get("p_kind")).ok();
                if kind.is_none() {
                    e.push(FieldError::new(
                        "p_kind",
                        "Choose what kind of place it is.",
                    ));
                }
                let details = vigil_model::pole::LocationDetails {
                    name: line(form, "p_name", "what the place is called", false, e),
                    address_lines: line(form, "p_address", "the address", false, e)
                        .into_iter()
                        .collect(),
                    town: None,
                    postcode: line(form, "p_postcode", "the postcode", false, e),
                    description: text(form, "p_description", "about the place", e),
                };
                if let Err(err) = details.validate() {
                    e.push(FieldError::new(
                        "p_name",
                        crate::form::sentence(&err.to_string()),
                    ));
                }
                kind.map(|kind| CaseAbout::NewPlace { kind, details })
            }
            v => match Uuid::parse_str(v) {
                Ok(id) => Some(CaseAbout::Place(id)),
                Err(_) => {
                    e.push(FieldError::new(
                        "",
                        "The place this case is on is not known.",
                    ));
                    None
                }
            },
        },
        "peer_group" => {
            let name = line(form, "g_name", "the peer group's name", true, e);
            let description = reason(form, "g_description", "about the peer group", e);
            name.zip(description)
                .map(|(name, description)| CaseAbout::PeerGroup { name, description })
        }
        _ => {
            e.push(FieldError::new(
                "",
                "Say whether the case is on a place or a peer group.",
            ));
            None
        }
    }
}

/// The child's id as given (the nil id, which names nobody, when it is
/// not one: the access check then comes before "there is no person").
fn parse_child(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s.trim()).map_err(|_| {
        WebError::NotFound("Open a case from the child's record: there is no such person.".into())
    })
}

/// The form read field by field: a case on the child, or (no child) on the
/// place or peer group the form describes.
pub fn check_new(form: &FormData, child: Option<Uuid>) -> Result<NewCase, Vec<FieldError>> {
    let mut e = Vec::new();
    let about = match child {
        Some(id) => Some(CaseAbout::Child(id)),
        None => check_about(form, &mut e),
    };
    let level = level_of(form, "level", &mut e);
    let why = reason(form, "reason", "why the case is opened", &mut e);
    let lead = agency_of(form, "lead", "the lead agency", true, &mut e);
    let worker = line(
        form,
        "worker",
        "the allocated worker's user name",
        true,
        &mut e,
    );
    let risk = risk_of(form, "risk", &mut e);
    let risk_reason = reason(form, "risk_reason", "why the risk is at that level", &mut e);
    let referral_id = match form.get("referral").trim() {
        "" => None,
        v => match Uuid::parse_str(v) {
            Ok(id) => Some(id),
            Err(_) => {
                e.push(FieldError::new(
                    "",
                    "The referral this case comes from is not known.",
                ));
                None
            }
        },
    };
    if child.is_none() && referral_id.is_some() {
        e.push(FieldError::new(
            "",
            "A case on a place or a peer group does not come from one child's referral.",
        ));
    }
    match (about, level, why, lead, worker, risk, risk_reason) {
        (
            Some(about),
            Some(level),
            Some(reason),
            Some(lead_agency),
            Some(worker),
            Some(risk),
            Some(risk_reason),
        ) if e.is_empty() => Ok(NewCase {
            about,
            level,
            reason,
            referral_id,
            lead_agency,
            worker,
            agencies: Vec::new(),
            risk,
            risk_reason,
        }),
        _ => Err(e),
    }
}

async fn new_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    child: Authorised<vigil_app::guard::PersonLink>,
    mut form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let chrome = st.chrome(who, "Open a case", "").with_errors(&errors);
    if form.get("lead").is_empty() {
        form.set("lead", &who.user.agency);
    }
    if form.get("worker").is_empty() {
        form.set("worker", &who.user.username);
    }
    let referral = form.get("referral").to_owned();
    child
        .show(|c, read| NewCasePage {
            chrome,
            read,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            child_id: c.id.clone(),
            child: c.name.clone(),
            referral,
            levels: level_opts(),
            risks: risk_opts(),
            agencies: agency_opts(st),
        })
        .respond(status)
        .await
}

async fn new_context_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    context: &'static str,
    mut form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let shown = cases::new_contextual_case_form(&st.app, who).await?;
    let chrome = st.chrome(who, "Open a case", "").with_errors(&errors);
    if form.get("lead").is_empty() {
        form.set("lead", &who.user.agency);
    }
    if form.get("worker").is_empty() {
        form.set("worker", &who.user.username);
    }
    let location = match Uuid::parse_str(form.get("location").trim()) {
        Ok(id) => id.to_string(),
        Err(_) => String::new(),
    };
    shown
        .show(|(), read| NewContextCasePage {
            chrome,
            read,
            form: FormView::new(form, errors),
            csrf: who.csrf.clone(),
            context: context.to_owned(),
            location,
            place_kinds: place_kind_opts(),
            levels: level_opts(),
            risks: risk_opts(),
            agencies: agency_opts(st),
        })
        .respond(status)
        .await
}

pub async fn new_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<NewCaseQuery>,
) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ManageCase)?;
    if !q.context.is_empty() {
        let context = parse_context(&q.context)?;
        let mut form = FormData::default();
        form.set("location", q.location.trim());
        return new_context_page(&st, &who, StatusCode::OK, context, form, Vec::new()).await;
    }
    let child = cases::new_case_form(&st.app, &who, parse_child(&q.child)?).await?;
    let mut form = FormData::default();
    form.set("referral", q.referral.trim());
    new_page(&st, &who, StatusCode::OK, child, form, Vec::new()).await
}

pub async fn open(
    State(st): State<Arc<AppState>>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ManageCase)?;
    if !form.get("context").is_empty() {
        return open_contextual(&st, &who, form).await;
    }
    let child_id = parse_child(form.get("child"))?;
    let child = cases::new_case_form(&st.app, &who, child_id).await?;
    let new = match check_new(&form, Some(child_id)) {
        Ok(n) => n,
        Err(errors) => {
            return new_page(&st, &who, StatusCode::BAD_REQUEST, child, form, errors).await
        }
    };
    match st.app.open_case(&who, &new).await? {
        Ok(id) => child.send(|_| Ok(see_other(&format!("/cases/{id}")))).await,
        Err(msg) => {
            let errors = vec![FieldError::new("", msg)];
            new_page(&st, &who, StatusCode::BAD_REQUEST, child, form, errors).await
        }
    }
}

/// Opens a case on a place or a peer group.
async fn open_contextual(
    st: &AppState,
    who: &SignedIn,
    form: FormData,
) -> Result<Response, WebError> {
    let context = parse_context(form.get("context"))?;
    let new = match check_new(&form, None) {
        Ok(n) => n,
        Err(errors) => {
            return new_context_page(st, who, StatusCode::BAD_REQUEST, context, form, errors).await
        }
    };
    match st.app.open_case(who, &new).await? {
        Ok(id) => Ok(see_other(&format!("/cases/{id}"))),
        Err(msg) => {
            let errors = vec![FieldError::new("", msg)];
            new_context_page(st, who, StatusCode::BAD_REQUEST, context, form, errors).await
        }
    }
}

// ---------------------------------------------------------------------------
// The case page
// ---------------------------------------------------------------------------

/// A case in a list (the child's page, the referral page).
pub(crate) fn case_row(c: &CaseLine, names: &HashMap<String, String>) -> CaseRow {
    let (status, status_class) = match (c.status, &c.closed) {
        (CaseStatus::Open, _) if c.awaiting_sign_off => {
            ("Closing: waits for sign-off".to_owned(), "v-tag--amber")
        }
        (CaseStatus::Open, _) => ("Open".to_owned(), "v-tag--blue"),
        (CaseStatus::Closed, Some(at)) => (format!("Closed {}", stamp_time(at)), "v-tag--grey"),
        (CaseStatus::Closed, None) => ("Closed".to_owned(), "v-tag--grey"),
    };
    CaseRow {
        href: format!("/cases/{}", c.id),
        level: c.level.label().to_owned(),
        status,
        status_class,
        lead: names
            .get(&c.lead)
            .cloned()
            .unwrap_or_else(|| c.lead.clone()),
        worker: c.worker.clone().unwrap_or_default(),
        risk: c
            .risk
            .map(|r| r.label().to_owned())
            .unwrap_or_else(|| "Not recorded".into()),
        open_actions: c.open_actions,
        close_reason: c.close_reason.clone().unwrap_or_default(),
        context: c.context.clone().unwrap_or_default(),
    }
}

fn action_status(a: &CaseAction, overdue: bool) -> (String, &'static str) {
    match a.status {
        ActionStatus::Open if overdue => ("Overdue".into(), "v-tag--red"),
        ActionStatus::Open => ("Open".into(), "v-tag--blue"),
        ActionStatus::Done => ("Done".into(), "v-tag--green"),
        ActionStatus::Cancelled => ("Cancelled".into(), "v-tag--grey"),
    }
}

/// "Set at the meeting of 3 Nov 2025" for an action a meeting set, from
/// the meetings the case keeps (empty when none did).
pub(crate) fn set_at(a: &CaseAction, meetings: &[CaseMeeting]) -> String {
    match a.meeting_id {
        None => String::new(),
        Some(id) => match meetings.iter().find(|m| m.meeting_id == id) {
            Some(m) => format!("Set at the meeting of {}", meeting_day(&m.held)),
            None => "Set at a meeting".into(),
        },
    }
}

/// A meeting's day in words ("3 Nov 2025").
pub(crate) fn meeting_day(held: &vigil_model::time::OccurredAt) -> String {
    held.earliest_day()
        .map(display::date)
        .unwrap_or_else(|_| held.value.clone())
}

pub(crate) fn action_row(
    a: &CaseAction,
    case_id: Uuid,
    child: String,
    overdue: bool,
    can_close: bool,
) -> ActionRow {
    let (status, status_class) = action_status(a, overdue);
    let note = match (&a.closed, &a.note) {
        (Some(s), Some(n)) => format!("{} on {}: {n}", s.by, when(s)),
        (Some(s), None) => format!("{} on {}", s.by, when(s)),
        _ => String::new(),
    };
    ActionRow {
        id: a.action_id.to_string(),
        case_href: format!("/cases/{case_id}"),
        child,
        text: a.text.clone(),
        owner: a.owner.clone(),
        due: display::date(a.due.naive()),
        status,
        status_class,
        open: a.status == ActionStatus::Open,
        can_close,
        note,
        meeting: if a.meeting_id.is_some() {
            "Set at a meeting".into()
        } else {
            String::new()
        },
    }
}

fn closure_row(
    case_id: Uuid,
    child: &str,
    level: CaseLevel,
    req: &vigil_model::state::ClosureRequest,
    names: &HashMap<String, String>,
) -> ClosureRow {
    let agency = req.requested.agency.as_str();
    let agency = names.get(agency).map_or(agency, String::as_str);
    ClosureRow {
        case_href: format!("/cases/{case_id}"),
        child: child.to_owned(),
        level: level.label().to_owned(),
        reason: req.reason.clone(),
        concerns: req.concerns.clone(),
        requested: format!(
            "{} ({agency}) on {}",
            req.requested.by,
            when(&req.requested)
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn case_page(
    st: &AppState,
    who: &SignedIn,
    v: CaseView,
    read: vigil_app::guard::Read,
    form: FormData,
    errors: Vec<FieldError>,
) -> CasePage {
    let names = agency_names(&st.app);
    let name = |a: &str| names.get(a).cloned().unwrap_or_else(|| a.to_owned());
    let c = &v.state;
    let open = c.status == CaseStatus::Open;
    let (status, status_class) = match (&c.status, &c.closure_request) {
        (CaseStatus::Open, Some(_)) => ("Closing: waits for sign-off".to_owned(), "v-tag--amber"),
        (CaseStatus::Open, None) => ("Open".to_owned(), "v-tag--blue"),
        (CaseStatus::Closed, _) => (
            format!("Closed {}", c.closed.as_ref().map(when).unwrap_or_default()),
            "v-tag--grey",
        ),
    };
    let (risk, risk_class) = match c.risk {
        Some(r) => (format!("{} risk", r.label()), super::people::risk_class(r)),
        None => ("Risk not recorded".to_owned(), "v-tag--grey"),
    };
    let mut lines = vec![
        Line::new("Level", c.level.label()),
        Line::new("Why it was opened", c.reason.clone()),
        Line::new("Lead agency", name(c.lead().as_str())),
        Line::new(
            "Allocated worker",
            c.worker.clone().unwrap_or_else(|| "Nobody".into()),
        ),
        Line::new(
            "Agencies on the case",
            v.agency_codes()
                .iter()
                .map(|a| name(a))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Line::new(
            "Opened",
            format!(
                "{} by {} ({})",
                when(&c.opened),
                c.opened.by,
                name(c.opened.agency.as_str())
            ),
        ),
    ];
    if let Some(r) = c.referral_id {
        lines.push(Line::new(
            "From referral",
            crate::reference::reference_for(r),
        ));
    }
    if let Some(why) = &c.close_reason {
        lines.push(Line::new("Why it was closed", why.clone()));
    }
    match &v.context {
        Some(ContextView::Place {
            location: Some(l), ..
        }) => {
            let d = &l.details;
            lines.insert(0, Line::new("Kind of place", l.kind.label()));
            let mut at = 1;
            for (label, value) in [
                ("Place", d.name.clone()),
                (
                    "Address",
                    Some(d.address_lines.join(", ")).filter(|a| !a.is_empty()),
                ),
                ("Town", d.town.clone()),
                ("Postcode", d.postcode.clone()),
                ("About the place", d.description.clone()),
            ] {
                if let Some(value) = value {
                    lines.insert(at, Line::new(label, value));
                    at += 1;
                }
            }
        }
        Some(ContextView::PeerGroup { name, description }) => {
            lines.insert(0, Line::new("Peer group", name.clone()));
            lines.insert(1, Line::new("About the group", description.clone()));
        }
        _ => {}
    }
    let risk_history = c
        .risk_history
        .iter()
        .rev()
        .map(|r| {
            Line::new(
                &format!(
                    "{} · {} ({})",
                    stamp_time(&r.at),
                    r.by,
                    name(r.agency.as_str())
                ),
                format!("{}: {}", r.risk.label(), r.reason),
            )
        })
        .collect();
    let history = c
        .history
        .iter()
        .rev()
        .map(|h| {
            let level = h.level.map(|l| format!(" to {}", l.label().to_lowercase()));
            Line::new(
                &format!(
                    "{}{} · {}",
                    h.decision.label(),
                    level.unwrap_or_default(),
                    stamp_time(&h.at)
                ),
                format!("{} ({}): {}", h.by, name(h.agency.as_str()), h.reason),
            )
        })
        .collect();
    let me = who.user.username.as_str();
    // The page's subject: the child, or the place or peer group.
    let child = match (&v.child, &v.context) {
        (Some(c), _) => c.name.clone(),
        (None, Some(ctx)) => ctx.title(),
        (None, None) => "A case".into(),
    };
    let actions = c
        .actions
        .iter()
        .rev()
        .map(|a| {
            let overdue = v.overdue.contains(&a.action_id);
            ActionRow {
                meeting: set_at(a, &c.meetings),
                ..action_row(
                    a,
                    v.id,
                    child.clone(),
                    overdue,
                    v.can_manage || a.owner == me,
                )
            }
        })
        .collect();
    let meetings = c
        .meetings
        .iter()
        .rev()
        .map(|m| CaseMeetingRow {
            label: format!("{}, {}", m.kind.label(), meeting_day(&m.held)),
            href: (m.kind == MeetingKind::MultiAgencyExploitation
                && v.multi_agency_meetings.contains(&m.meeting_id))
            .then(|| format!("/meetings/{}", m.meeting_id)),
            decision: m.decision.clone(),
        })
        .collect();
    let waiting = c
        .closure_request
        .as_ref()
        .map(|req| closure_row(v.id, &child, c.level, req, &names));
    let sign_off = match (&c.sign_off, &c.closed) {
        (Some(s), Some(closed)) => {
            let mut l = vec![Line::new(
                "Signed off by",
                format!(
                    "{} ({}) on {}",
                    closed.by,
                    name(closed.agency.as_str()),
                    when(closed)
                ),
            )];
            if let Some(by) = &s.requested_by {
                l.push(Line::new("Closing asked for by", by.clone()));
            }
            l.push(Line::new(
                "Still live when it closed",
                s.concerns.join("; "),
            ));
            l.push(Line::new("Supervisor's note", s.note.clone()));
            l
        }
        _ => Vec::new(),
    };
    let removable = c
        .agencies
        .iter()
        .map(|a| Opt::new(a.as_str(), &name(a.as_str())))
        .collect();
    CasePage {
        chrome: st
            .chrome(who, &format!("Case: {child}"), "")
            .with_errors(&errors),
        read,
        form: FormView::new(form, errors),
        csrf: who.csrf.clone(),
        id: v.id.to_string(),
        meetings,
        alerts: v.alerts.iter().map(super::alerts::alert_row).collect(),
        child_href: v
            .child
            .as_ref()
            .filter(|c| c.can_open)
            .map(|c| format!("/people/{}", c.id)),
        child_detail: v
            .child
            .as_ref()
            .map(|c| c.detail.clone())
            .unwrap_or_default(),
        child,
        level: c.level.label().to_owned(),
        status,
        status_class,
        open,
        lines,
        risk,
        risk_class,
        risk_history,
        history,
        actions,
        overdue: v.overdue.len(),
        concerns: v.closure_concerns.clone(),
        waiting,
        sign_off,
        can_manage: v.can_manage,
        can_sign_off: v.can_sign_off,
        levels: level_opts(),
        risks: risk_opts(),
        agencies: agency_opts(st),
        removable,
        statuses: vec![
            Opt::new(ActionStatus::Done.code(), "Done"),
            Opt::new(ActionStatus::Cancelled.code(), "Cancelled"),
        ],
        stability: v.stability().map(|s| s.sentence()).unwrap_or_default(),
        timeline_svg: match &v.summary {
            Some(s) => super::people::timeline_svg(s),
            None => std::sync::Arc::from(""),
        },
        items: super::people::chronology_lines(&v.chronology),
        total: v.chronology_total,
        limited: v.chronology_limited,
        contextual: c.child_id.is_none(),
        linked: v
            .linked
            .iter()
            .map(|l| LinkedChildRow {
                id: l.child.id.clone(),
                name: l.child.name.clone(),
                detail: l.child.detail.clone(),
                reason: l.reason.clone(),
                linked: format!(
                    "{} ({}) on {}",
                    l.linked.by,
                    name(l.linked.agency.as_str()),
                    when(&l.linked)
                ),
            })
            .collect(),
        linked_hidden: v.linked_hidden,
    }
}

async fn show_case(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    view: Authorised<CaseView>,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    view.show(|v, read| case_page(st, who, v, read, form, errors))
        .respond(status)
        .await
}

pub async fn view(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ViewCase)?;
    let view = cases::case(&st.app, &who, parse_case(&id)?).await?;
    show_case(
        &st,
        &who,
        StatusCode::OK,
        view,
        FormData::default(),
        Vec::new(),
    )
    .await
}

/// One change to a case, as the form of the page says it.
#[derive(Debug)]
pub enum CaseChange {
    AddAction {
        text: String,
        owner: String,
        due: Date,
    },
    Risk {
        risk: RiskLevel,
        reason: String,
    },
    Level {
        level: CaseLevel,
        reason: String,
    },
    Allocate {
        worker: String,
        lead: Option<AgencyId>,
        reason: String,
    },
    AddAgency {
        agency: AgencyId,
    },
    RemoveAgency {
        agency: AgencyId,
        reason: String,
    },
    Close {
        reason: String,
    },
}

/// The page's forms read field by field: the change, or every problem.
pub fn check_change(form: &FormData, today: NaiveDate) -> Result<CaseChange, Vec<FieldError>> {
    let mut e = Vec::new();
    let change = match form.get("form") {
        "add_action" => {
            let text = reason(form, "a_text", "what is to be done", &mut e);
            let owner = line(form, "a_owner", "who is to do it", true, &mut e);
            let due = due_of(form, "a_due", today, &mut e);
            match (text, owner, due) {
                (Some(text), Some(owner), Some(due)) => {
                    Some(CaseChange::AddAction { text, owner, due })
                }
                _ => None,
            }
        }
        "risk" => {
            let risk = risk_of(form, "r_risk", &mut e);
            let why = reason(form, "r_reason", "why the risk is at that level", &mut e);
            risk.zip(why)
                .map(|(risk, reason)| CaseChange::Risk { risk, reason })
        }
        "level" => {
            let level = level_of(form, "l_level", &mut e);
            let why = reason(form, "l_reason", "why the level changes", &mut e);
            level
                .zip(why)
                .map(|(level, reason)| CaseChange::Level { level, reason })
        }
        "allocate" => {
            let worker = line(form, "w_worker", "the worker's user name", true, &mut e);
            let lead = agency_of(form, "w_lead", "the lead agency", false, &mut e);
            let why = reason(form, "w_reason", "why the case is allocated again", &mut e);
            worker
                .zip(why)
                .map(|(worker, reason)| CaseChange::Allocate {
                    worker,
                    lead,
                    reason,
                })
        }
        "add_agency" => agency_of(form, "g_agency", "the agency to add", true, &mut e)
            .map(|agency| CaseChange::AddAgency { agency }),
        "remove_agency" => {
            let agency = agency_of(form, "x_agency", "the agency to take off", true, &mut e);
            let why = line(form, "x_reason", "why it comes off the case", true, &mut e);
            agency
                .zip(why)
                .map(|(agency, reason)| CaseChange::RemoveAgency { agency, reason })
        }
        "close" => reason(form, "c_reason", "why the case can close", &mut e)
            .map(|reason| CaseChange::Close { reason }),
        _ => {
            e.push(FieldError::new("", "Choose one of the forms on this page."));
            None
        }
    };
    done(change, &e).ok_or(e)
}

/// The field a refusal from the application layer belongs to.
fn field_of(change: &CaseChange) -> &'static str {
    match change {
        CaseChange::AddAction { .. } => "a_owner",
        CaseChange::Risk { .. } => "r_reason",
        CaseChange::Level { .. } => "l_level",
        CaseChange::Allocate { .. } => "w_worker",
        CaseChange::AddAgency { .. } => "g_agency",
        CaseChange::RemoveAgency { .. } => "x_agency",
        CaseChange::Close { .. } => "c_reason",
    }
}

/// Makes one change, then back to the case at the section it changed.
pub async fn change(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ManageCase)?;
    let id = parse_case(&id)?;
    let today = local_date(st.now());
    let change = match check_change(&form, today) {
        Ok(c) => c,
        Err(errors) => {
            let view = cases::case(&st.app, &who, id).await?;
            return show_case(&st, &who, StatusCode::BAD_REQUEST, view, form, errors).await;
        }
    };
    let app = &st.app;
    let field = field_of(&change);
    let (result, anchor) = match change {
        CaseChange::AddAction { text, owner, due } => (
            app.add_case_action(&who, id, text, owner, due, None)
                .await?
                .map(|_| ()),
            "actions",
        ),
        CaseChange::Risk { risk, reason } => {
            (app.change_case_risk(&who, id, risk, reason).await?, "risk")
        }
        CaseChange::Level { level, reason } => (
            app.change_case_level(&who, id, level, reason).await?,
            "history",
        ),
        CaseChange::Allocate {
            worker,
            lead,
            reason,
        } => (
            app.allocate_case(&who, id, worker, lead, reason).await?,
            "case-summary",
        ),
        CaseChange::AddAgency { agency } => (
            app.add_case_agency(&who, id, agency, None).await?,
            "case-summary",
        ),
        CaseChange::RemoveAgency { agency, reason } => (
            app.remove_case_agency(&who, id, agency, reason).await?,
            "case-summary",
        ),
        CaseChange::Close { reason } => match app.close_case(&who, id, reason).await? {
            Ok(Closure::AwaitingSignOff(_)) => (Ok(()), "closure-waiting"),
            Ok(Closure::Closed | Closure::SignedOff(_)) => (Ok(()), "case-status"),
            Err(m) => (Err(m), "close"),
        },
    };
    match result {
        // Taken off the case, a user may no longer see it.
        Ok(()) => Ok(see_other(&format!("/cases/{id}#{anchor}"))),
        Err(msg) => {
            let view = cases::case(&st.app, &who, id).await?;
            let errors = vec![FieldError::new(field, msg)];
            show_case(&st, &who, StatusCode::BAD_REQUEST, view, form, errors).await
        }
    }
}

/// A supervisor signs a closure off, or keeps the case open.
pub async fn closure(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::SignOffClosure)?;
    let id = parse_case(&id)?;
    let mut errors = Vec::new();
    let decision = match form.get("decision") {
        "sign_off" => Some(true),
        "decline" => Some(false),
        _ => {
            errors.push(FieldError::new(
                "",
                "Sign the closure off or keep the case open.",
            ));
            None
        }
    };
    let note = reason(&form, "so_note", "your note", &mut errors);
    let (Some(sign_off), Some(note), true) = (decision, note, errors.is_empty()) else {
        let view = cases::case(&st.app, &who, id).await?;
        return show_case(&st, &who, StatusCode::BAD_REQUEST, view, form, errors).await;
    };
    match st.app.decide_closure(&who, id, sign_off, note).await? {
        Ok(()) => Ok(see_other(&format!("/cases/{id}#case-status"))),
        Err(msg) => {
            let view = cases::case(&st.app, &who, id).await?;
            let errors = vec![FieldError::new("so_note", msg)];
            show_case(&st, &who, StatusCode::BAD_REQUEST, view, form, errors).await
        }
    }
}

/// A child linked to a contextual case, or taken off it, with the reason
/// (the link form is on the search page's results, the unlink form on the
/// case page). Back to the case's children.
pub async fn children(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let id = parse_case(&id)?;
    let mut errors = Vec::new();
    let link = match form.get("form") {
        "link" => Some(true),
        "unlink" => Some(false),
        _ => {
            errors.push(FieldError::new(
                "",
                "Link a child or take one off the case.",
            ));
            None
        }
    };
    let child = Uuid::parse_str(form.get("child").trim()).ok();
    if child.is_none() {
        errors.push(FieldError::new("", "Choose a child."));
    }
    let what = match link {
        Some(false) => "why the child is no longer linked",
        _ => "why the child is linked",
    };
    let why = match line(&form, "reason", what, false, &mut errors) {
        Some(r) => Some(r),
        None => {
            errors.push(FieldError::new("", format!("Write {what}.")));
            None
        }
    };
    let result = match (link, child, why) {
        (Some(true), Some(c), Some(r)) if errors.is_empty() => {
            st.app.link_case_child(&who, id, c, r).await?
        }
        (Some(false), Some(c), Some(r)) if errors.is_empty() => {
            st.app.unlink_case_child(&who, id, c, r).await?
        }
        _ => Err(String::new()),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/cases/{id}#children"))),
        Err(msg) => {
            if !msg.is_empty() {
                errors.push(FieldError::new("", msg));
            }
            let view = cases::case(&st.app, &who, id).await?;
            show_case(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                view,
                FormData::default(),
                errors,
            )
            .await
        }
    }
}

/// Where to go back to after closing an action: a page of this site only.
fn back_to(form: &FormData, id: Uuid) -> String {
    let b = form.get("back");
    let ours = b.starts_with('/')
        && !b.starts_with("//")
        && b.len() < 200
        && b.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    if ours {
        b.to_owned()
    } else {
        format!("/cases/{id}#actions")
    }
}

/// An action marked done or cancelled (by its owner, or whoever manages
/// the case), with an optional note.
pub async fn close_action(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ViewCase)?;
    let id = parse_case(&id)?;
    let mut errors = Vec::new();
    let action_id = Uuid::parse_str(form.get("action_id")).ok();
    if action_id.is_none() {
        errors.push(FieldError::new("", "Choose one of the case's actions."));
    }
    let status = match ActionStatus::parse(form.get("status")) {
        Ok(s @ (ActionStatus::Done | ActionStatus::Cancelled)) => Some(s),
        _ => {
            errors.push(FieldError::new("", "Mark the action done or cancelled."));
            None
        }
    };
    let note = line(&form, "note", "the note", false, &mut errors).unwrap_or_default();
    let result = match (action_id, status) {
        (Some(a), Some(s)) if errors.is_empty() => {
            st.app.close_case_action(&who, id, a, s, note).await?
        }
        _ => Err(String::new()),
    };
    match result {
        Ok(()) => Ok(see_other(&back_to(&form, id))),
        Err(msg) => {
            if !msg.is_empty() {
                errors.push(FieldError::new("", msg));
            }
            let view = cases::case(&st.app, &who, id).await?;
            show_case(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                view,
                FormData::default(),
                errors,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------
// Action lists
// ---------------------------------------------------------------------------

fn item_row(i: &ActionItem, me: &str, may_manage: bool) -> ActionRow {
    let child = match (&i.child, i.child_id) {
        (Some(c), _) => c.name.clone(),
        (None, Some(_)) => "A child".into(),
        (None, None) => "A case on a place or peer group".into(),
    };
    action_row(
        &i.action,
        i.case_id,
        child,
        i.overdue(),
        may_manage || i.action.owner == me,
    )
}

/// The signed-in user's open actions, overdue first.
pub async fn mine(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ViewCase)?;
    let list = cases::my_actions(&st.app, &who).await?;
    let chrome = st.chrome(&who, "My actions", "/actions/mine");
    let me = who.user.username.clone();
    list.show(|rows, read| ActionsPage {
        chrome,
        read,
        csrf: who.csrf.clone(),
        heading: "My actions".into(),
        intro: "The open actions on cases that you are to do, overdue first. An action past its date is escalated to your supervisor.".into(),
        rows: rows.iter().map(|i| item_row(i, &me, false)).collect(),
        closures: Vec::new(),
        show_closures: false,
        back: "/actions/mine".into(),
    })
    .respond(StatusCode::OK)
    .await
}

fn awaiting_row(a: &AwaitingClosure, names: &HashMap<String, String>) -> ClosureRow {
    let about = match (&a.child, &a.case.context) {
        (Some(c), _) => c.name.clone(),
        (None, Some(ctx)) => ctx.clone(),
        (None, None) => "A case".into(),
    };
    closure_row(a.case.id, &about, a.case.level, &a.request, names)
}

/// Overdue actions on cases of the supervisor's agency (or owned by its
/// staff), and the closures waiting for their sign-off.
pub async fn overdue(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    allowed(&who, crate::access::Action::ViewOverdue)?;
    let work = cases::overdue_work(&st.app, &who).await?;
    let chrome = st.chrome(&who, "Overdue actions", "/overdue/actions");
    let me = who.user.username.clone();
    work.show(|w: OverdueWork, read| ActionsPage {
        chrome,
        read,
        csrf: who.csrf.clone(),
        heading: "Overdue actions".into(),
        intro: "Open actions past their date on cases your agency is involved in, or owned by your agency's staff; each was escalated to the owner's supervisor the working day after it was due.".into(),
        rows: w.actions.iter().map(|i| item_row(i, &me, false)).collect(),
        closures: w
            .closures
            .iter()
            .map(|a| awaiting_row(a, &agency_names(&st.app)))
            .collect(),
        show_closures: w.signs_off,
        back: "/overdue/actions".into(),
    })
    .respond(StatusCode::OK)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(pairs.iter().copied())
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    #[test]
    fn an_action_needs_what_who_and_a_day_not_in_the_past() {
        let ok = check_change(
            &form(&[
                ("form", "add_action"),
                ("a_text", "Visit"),
                ("a_owner", "sw"),
                ("a_due", "10/12/2026"),
            ]),
            today(),
        );
        assert!(matches!(ok, Ok(CaseChange::AddAction { .. })), "{ok:?}");
        let errs = check_change(&form(&[("form", "add_action")]), today()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a_text", "a_owner", "a_due"]);
        for bad in [
            "2026-12-02",
            "yesterday",
            "31/02/2026",
            &"9".repeat(5000),
            "<script>",
            "01/01/2099",
        ] {
            let errs = check_change(
                &form(&[
                    ("form", "add_action"),
                    ("a_text", "Visit"),
                    ("a_owner", "sw"),
                    ("a_due", bad),
                ]),
                today(),
            )
            .unwrap_err();
            assert_eq!(errs.len(), 1, "{bad}");
            assert_eq!(errs[0].field, "a_due");
        }
    }

    #[test]
    fn every_form_names_its_missing_fields_and_unknown_forms_are_refused() {
        for (which, fields) in [
            ("risk", vec!["r_risk", "r_reason"]),
            ("level", vec!["l_level", "l_reason"]),
            ("allocate", vec!["w_worker", "w_reason"]),
            ("add_agency", vec!["g_agency"]),
            ("remove_agency", vec!["x_agency", "x_reason"]),
            ("close", vec!["c_reason"]),
        ] {
            let errs = check_change(&form(&[("form", which)]), today()).unwrap_err();
            let got: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(got, fields, "{which}");
        }
        for which in ["", "delete", "<b>"] {
            assert!(check_change(&form(&[("form", which)]), today()).is_err());
        }
        // A huge reason is refused by length, not stored.
        let huge = "x".repeat(200_000);
        let errs =
            check_change(&form(&[("form", "close"), ("c_reason", &huge)]), today()).unwrap_err();
        assert_eq!(errs[0].field, "c_reason");
        // Hostile text is kept as text (escaped when shown), not refused.
        let ok = check_change(
            &form(&[
                ("form", "close"),
                ("c_reason", "<script>alert(1)</script> work done"),
            ]),
            today(),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn the_new_case_form_needs_every_answer() {
        let child = Uuid::now_v7();
        let errs = check_new(&form(&[]), Some(child)).unwrap_err();
        let got: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            got,
            ["level", "reason", "lead", "worker", "risk", "risk_reason"]
        );
        let ok = check_new(
            &form(&[
                ("level", "exploitation"),
                ("reason", "Seen at the taxi rank"),
                ("lead", "council"),
                ("worker", "sw"),
                ("risk", "high"),
                ("risk_reason", "Missing twice this month"),
            ]),
            Some(child),
        )
        .unwrap();
        assert_eq!(ok.level, CaseLevel::Exploitation);
        assert!(check_new(
            &form(&[
                ("level", "top"),
                ("reason", "x"),
                ("lead", "council"),
                ("worker", "sw"),
                ("risk", "extreme"),
                ("risk_reason", "y")
            ]),
            Some(child)
        )
        .is_err());
    }

    #[test]
    fn going_back_stays_on_this_site() {
        let id = Uuid::now_v7();
        let fallback = format!("/cases/{id}#actions");
        for (b, want) in [
            ("/actions/mine", "/actions/mine"),
            ("https://evil.example/", fallback.as_str()),
            ("//evil.example", fallback.as_str()),
            ("/\\evil", fallback.as_str()),
            ("", fallback.as_str()),
        ] {
            assert_eq!(back_to(&form(&[("back", b)]), id), want, "{b}");
        }
    }
}
