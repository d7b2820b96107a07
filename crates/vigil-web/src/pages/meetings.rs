//! Meetings: the list with the agenda of the next multi-agency child
//! exploitation meeting (`/meetings`), recording one (`/meetings/new`: the
//! agenda with a decision box and action rows per case, and who attended)
//! and one meeting's minutes (`/meetings/{id}`).
//!
//! Each handler parses the form field by field, calls one command or
//! query of `vigil_app::guard::meetings` (which checks the access table
//! case by case and writes the access log) and renders. A form with a
//! problem is shown again with every field as it was typed.

use super::cases::{action_row, agency_names, meeting_day};
use super::{see_other, Respond};
use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::form::{line, parse_day, text, CsrfForm, FieldError, FormData, DAY_HINT};
use crate::html::{
    ActionFields, AgendaRow, AttendeeFields, Field, FormView, Line, MeetingCaseForm, MeetingPage,
    MeetingRow, MeetingsPage, MinutesCase, NewMeetingPage, Opt,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::access::Action;
use vigil_app::guard::meetings::{
    self, Agenda, AgendaEntry, MeetingView, Meetings, NewAction, NewDiscussion, NewMeeting,
};
use vigil_app::guard::Authorised;
use vigil_model::codes::AgencyId;
use vigil_model::dates::Date;
use vigil_model::payload::MeetingAttendee;
use vigil_rules::agenda::AgendaCriteria;
use vigil_rules::london::local_date;

/// How many attendance rows the form offers.
pub const ATTENDEE_ROWS: usize = 12;
/// How many action rows the form offers per case.
pub const ACTION_ROWS: usize = 3;
/// The most cases one form may carry (the model's limit on a list).
const MAX_CASES: usize = vigil_model::text::MAX_ITEMS;

fn agenda_row(e: &AgendaEntry, names: &HashMap<String, String>) -> AgendaRow {
    AgendaRow {
        case_id: e.case.id.to_string(),
        case_href: format!("/cases/{}", e.case.id),
        child: e.about(),
        level: e.case.level.label().to_owned(),
        risk: meetings::risk_words(e.case.risk),
        lead: names
            .get(&e.case.lead)
            .cloned()
            .unwrap_or_else(|| e.case.lead.clone()),
        reasons: e.reasons.iter().map(|r| r.sentence()).collect(),
    }
}

/// The criteria in words, as the page explains them.
fn criteria_words(c: &AgendaCriteria) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(r) = c.risk_at_least {
        v.push(format!(
            "The case's risk is {} or higher",
            r.label().to_lowercase()
        ));
    }
    if c.risk_raised {
        v.push("The case's risk was raised since the last meeting".into());
    }
    if c.missing {
        v.push(format!(
            "The child went missing since the last meeting (or in the last {} days, when there has been none)",
            c.missing_window_days
        ));
    }
    if c.overdue_actions {
        v.push("An action on the case is overdue".into());
    }
    if c.closure_waiting {
        v.push("Closing the case waits for a supervisor's sign-off".into());
    }
    v
}

fn since_words(a: &Agenda) -> String {
    match a.last_meeting {
        Some(d) => format!("the last meeting ({})", display::date(d)),
        None => format!("{} (no meeting recorded yet)", display::date(a.since)),
    }
}

/// `/meetings`: the agenda of the next meeting and the meetings held.
pub async fn list(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    let m = meetings::meetings(&st.app, &who).await?;
    let chrome = st.chrome(&who, "Meetings", "/meetings");
    let names = agency_names(&st.app);
    let can_record = who.may(Action::RecordMeeting);
    m.show(|m: Meetings, read| MeetingsPage {
        chrome,
        read,
        since: since_words(&m.agenda),
        criteria: criteria_words(&m.agenda.criteria),
        agenda: m
            .agenda
            .items
            .iter()
            .map(|e| agenda_row(e, &names))
            .collect(),
        held: m
            .held
            .iter()
            .map(|l| MeetingRow {
                href: format!("/meetings/{}", l.id),
                held: meeting_day(&l.held),
                kind: l.kind.label().to_owned(),
                chair: l.chair.clone(),
                cases: match l.shown {
                    1 => "1 case you may open".into(),
                    n => format!("{n} cases you may open"),
                },
            })
            .collect(),
        can_record,
    })
    .respond(StatusCode::OK)
    .await
}

fn agency_opts(st: &AppState) -> Vec<Opt> {
    st.app
        .agencies()
        .iter()
        .filter(|a| a.code != "vigil")
        .map(|a| Opt::new(&a.code, &a.name))
        .collect()
}

fn input(form: &FormView, id: &str, label: &str, hint: &str, class: &'static str) -> Field {
    form.input(id, label, hint, "text", class)
}

async fn new_page(
    st: &AppState,
    who: &SignedIn,
    agenda: Authorised<Agenda>,
    mut form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let chrome = st
        .chrome(who, "Record the meeting", "")
        .with_errors(&errors);
    let names = agency_names(&st.app);
    let agencies = agency_opts(st);
    let csrf = who.csrf.clone();
    if form.get("held").is_empty() {
        form.set("held", &local_date(st.now()).format("%d/%m/%Y").to_string());
    }
    {
        agenda
            .show(|a: Agenda, read| {
                let view = FormView::new(form, errors);
                let case_ids = a
                    .items
                    .iter()
                    .map(|e| e.case.id.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                let cases = a
                    .items
                    .iter()
                    .map(|e| {
                        let id = e.case.id;
                        let child = e.about();
                        MeetingCaseForm {
                            row: agenda_row(e, &names),
                            decision: view.text(
                                &format!("decision_{id}"),
                                &format!("What the meeting decided about {child}"),
                                "Leave it empty if the meeting did not discuss this case.",
                            ),
                            actions: (0..ACTION_ROWS)
                                .map(|j| ActionFields {
                                    text: input(
                                        &view,
                                        &format!("a{j}_text_{id}"),
                                        &format!("Action {}", j + 1),
                                        "",
                                        "",
                                    ),
                                    owner: input(
                                        &view,
                                        &format!("a{j}_owner_{id}"),
                                        "Who (user name)",
                                        "",
                                        "v-input--medium",
                                    ),
                                    due: input(
                                        &view,
                                        &format!("a{j}_due_{id}"),
                                        "By",
                                        DAY_HINT,
                                        "v-input--short",
                                    ),
                                })
                                .collect(),
                        }
                    })
                    .collect();
                NewMeetingPage {
                    chrome,
                    read,
                    held: input(&view, "held", "Held on", DAY_HINT, "v-input--short"),
                    chair: input(&view, "chair", "Chair", "Their name and role.", ""),
                    attendees: (0..ATTENDEE_ROWS)
                        .map(|k| AttendeeFields {
                            name: input(&view, &format!("att{k}_name"), "Name", "", ""),
                            agency: view.choice(
                                &format!("att{k}_agency"),
                                "Agency",
                                "",
                                agencies.clone(),
                            ),
                        })
                        .collect(),
                    cases,
                    case_ids,
                    csrf,
                    form: view,
                }
            })
            .respond(status)
            .await
    }
}

/// `GET /meetings/new`: the agenda with a decision box per case.
pub async fn new_form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
) -> Result<Response, WebError> {
    let agenda = meetings::new_meeting_form(&st.app, &who).await?;
    new_page(&st, &who, agenda, FormData::default(), Vec::new()).await
}

/// The day a meeting was held: not in the future, within the last year.
fn held_of(form: &FormData, today: NaiveDate, e: &mut Vec<FieldError>) -> Option<NaiveDate> {
    match form.get("held") {
        "" => {
            e.push(FieldError::new(
                "held",
                "Enter the day the meeting was held.",
            ));
            None
        }
        v => match parse_day(v) {
            Some(d) if d > today => {
                e.push(FieldError::new(
                    "held",
                    "The meeting's day is in the future.",
                ));
                None
            }
            Some(d) if d < today - chrono::TimeDelta::days(366) => {
                e.push(FieldError::new(
                    "held",
                    "The meeting's day is more than a year ago.",
                ));
                None
            }
            Some(d) => Some(d),
            None => {
                e.push(FieldError::new(
                    "held",
                    format!("Enter the day the meeting was held {DAY_HINT}."),
                ));
                None
            }
        },
    }
}

/// An action's due day: the meeting's day or later, within ten years.
fn due_of(form: &FormData, field: &str, from: NaiveDate, e: &mut Vec<FieldError>) -> Option<Date> {
    match parse_day(form.get(field)) {
        Some(d) if d < from => {
            e.push(FieldError::new(field, "The due day is before the meeting."));
            None
        }
        Some(d) if d > from + chrono::TimeDelta::days(3653) => {
            e.push(FieldError::new(
                field,
                "The due day is more than ten years away.",
            ));
            None
        }
        Some(d) => Some(Date::new(d)),
        None => {
            e.push(FieldError::new(
                field,
                format!("Enter the day it is due by {DAY_HINT}."),
            ));
            None
        }
    }
}

/// The form read field by field: the meeting, or every problem (each
/// named by its field, so the page marks it and keeps what was typed).
pub fn check_meeting(form: &FormData, today: NaiveDate) -> Result<NewMeeting, Vec<FieldError>> {
    let mut e = Vec::new();
    let held = held_of(form, today, &mut e);
    let chair = line(form, "chair", "the chair", true, &mut e);
    let mut attendees = Vec::new();
    for k in 0..ATTENDEE_ROWS {
        let (nf, af) = (format!("att{k}_name"), format!("att{k}_agency"));
        if form.get(&nf).trim().is_empty() && form.get(&af).is_empty() {
            continue;
        }
        let name = line(form, &nf, "the attendee's name", true, &mut e);
        let agency = match AgencyId::new(form.get(&af)) {
            Ok(a) => Some(a),
            Err(_) => {
                e.push(FieldError::new(&af, "Choose the agency they came for."));
                None
            }
        };
        if let (Some(name), Some(agency)) = (name, agency) {
            let a = MeetingAttendee { name, agency };
            if attendees.contains(&a) {
                e.push(FieldError::new(&nf, "This person is listed twice."));
            } else {
                attendees.push(a);
            }
        }
    }
    if attendees.is_empty() && !e.iter().any(|x| x.field.starts_with("att")) {
        e.push(FieldError::new("att0_name", "List who attended."));
    }
    let mut ids: Vec<Uuid> = Vec::new();
    for w in form.get("cases").split_whitespace().take(MAX_CASES + 1) {
        match Uuid::parse_str(w) {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            _ => {
                e.push(FieldError::new(
                    "",
                    "The agenda on this form is not one Vigil drew: open the form again.",
                ));
                break;
            }
        }
    }
    if ids.len() > MAX_CASES {
        e.push(FieldError::new(
            "",
            "The agenda on this form has too many cases.",
        ));
        ids.truncate(MAX_CASES);
    }
    let mut cases = Vec::new();
    for id in ids {
        let df = format!("decision_{id}");
        let decision = text(form, &df, "the decision", &mut e);
        let mut actions = Vec::new();
        for j in 0..ACTION_ROWS {
            let (tf, of, uf) = (
                format!("a{j}_text_{id}"),
                format!("a{j}_owner_{id}"),
                format!("a{j}_due_{id}"),
            );
            let typed = [&tf, &of, &uf]
                .iter()
                .any(|f| !form.get(f).trim().is_empty());
            if !typed {
                continue;
            }
            let t = text(form, &tf, "what is to be done", &mut e);
            if t.is_none() && !e.iter().any(|x| x.field == tf) {
                e.push(FieldError::new(&tf, "Write what is to be done."));
            }
            let o = line(form, &of, "who is to do it", true, &mut e);
            let d = held.and_then(|h| due_of(form, &uf, h, &mut e));
            if let (Some(text), Some(owner), Some(due)) = (t, o, d) {
                actions.push(NewAction { text, owner, due });
            }
        }
        let typed_any = !actions.is_empty() || e.iter().any(|x| x.field.ends_with(&id.to_string()));
        match decision {
            Some(decision) => cases.push(NewDiscussion {
                case_id: id,
                decision,
                actions,
            }),
            // An action needs the decision it came from.
            None if typed_any && !e.iter().any(|x| x.field == df) => e.push(FieldError::new(
                &df,
                "Write what the meeting decided: actions need a decision.",
            )),
            None => {}
        }
    }
    if cases.is_empty() && !e.iter().any(|x| x.field.starts_with("decision_")) {
        e.push(FieldError::new(
            "",
            "Write the decision on at least one case the meeting discussed.",
        ));
    }
    match (held, chair) {
        (Some(held), Some(chair)) if e.is_empty() => Ok(NewMeeting {
            held,
            chair,
            attendees,
            cases,
        }),
        _ => Err(e),
    }
}

/// `POST /meetings/new`: records the meeting, or shows the form again
/// with every field kept and each problem marked.
pub async fn record(
    State(st): State<Arc<AppState>>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let today = local_date(st.now());
    let new = match check_meeting(&form, today) {
        Ok(n) => n,
        Err(errors) => {
            let agenda = meetings::new_meeting_form(&st.app, &who).await?;
            return new_page(&st, &who, agenda, form, errors).await;
        }
    };
    match st.app.record_meeting(&who, &new).await? {
        Ok(id) => Ok(see_other(&format!("/meetings/{id}"))),
        Err(msg) => {
            let agenda = meetings::new_meeting_form(&st.app, &who).await?;
            new_page(&st, &who, agenda, form, vec![FieldError::new("", msg)]).await
        }
    }
}

/// `/meetings/{id}`: what was decided, who attended, the actions set.
pub async fn view(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| WebError::NotFound("There is no meeting at this address.".into()))?;
    let m = meetings::meeting(&st.app, &who, id).await?;
    let names = agency_names(&st.app);
    let name = |a: &str| names.get(a).cloned().unwrap_or_else(|| a.to_owned());
    let chrome = st.chrome(&who, "Meeting", "/meetings");
    m.show(|m: MeetingView, read| {
        let mut agencies: Vec<String> = m
            .state
            .attendees
            .iter()
            .map(|a| name(a.agency.as_str()))
            .collect();
        agencies.sort();
        agencies.dedup();
        MeetingPage {
            chrome,
            read,
            kind: m.state.kind.label().to_owned(),
            held: meeting_day(&m.state.held),
            chair: m.state.chair.clone(),
            attendees: m
                .state
                .attendees
                .iter()
                .map(|a| Line::new(&a.name, name(a.agency.as_str())))
                .collect(),
            agencies: agencies.join(", "),
            cases: m
                .cases
                .iter()
                .map(|d| MinutesCase {
                    case_href: format!("/cases/{}", d.case_id),
                    child: d.about(),
                    decision: d.decision.clone(),
                    actions: d
                        .actions
                        .iter()
                        .map(|a| action_row(a, d.case_id, d.about(), false, false))
                        .collect(),
                })
                .collect(),
        }
    })
    .respond(StatusCode::OK)
    .await
}
