//! Missing episodes from a child's page: report the child missing, record
//! the return (where found, by whom, with whom), say who is to do the
//! return home interview, and record it (held, or declined by the child).
//! Four small forms on one page, no JavaScript; each is checked field by
//! field here and recorded by `App::record_missing` (access table again,
//! one append path). The child is read through `vigil_app::guard::missing`.

use super::{see_other, Respond};
use crate::app::{AppState, SignedIn};
use crate::error::WebError;
use crate::form::{line, text, CsrfForm, FieldError, FormData};
use crate::html::{FormView, MissingFormPage, Opt, OverdueInterviewRow, OverdueInterviewsPage};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::guard::Authorised;
use vigil_app::missing::{self, MissingInput, MissingSubject};
use vigil_model::codes::{AgencyId, InterviewOutcome, MissingType};

fn parse_id(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s).map_err(|_| WebError::NotFound("There is no person at this address.".into()))
}

/// A UK local date and time as a `datetime-local` input sends it
/// (`2025-06-01T22:00`) or typed (`1/6/2025 22:00`), as an instant.
pub fn parse_local(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.len() > 20 {
        return None;
    }
    let naive = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    let guess = naive.and_utc();
    let summer = guess - TimeDelta::hours(1);
    Some(if vigil_rules::london::is_summer_time(summer) {
        summer
    } else {
        guess
    })
}

const WHEN_HINT: &str = "as day/month/year hour:minute, for example 28/11/2026 22:30";

fn when(
    form: &FormData,
    field: &str,
    what: &str,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    match form.get(field) {
        "" => {
            errors.push(FieldError::new(field, format!("Enter {what}.")));
            None
        }
        v => match parse_local(v) {
            Some(t) if t > now + TimeDelta::minutes(5) => {
                errors.push(FieldError::new(
                    field,
                    format!("{} is in the future.", capital(what)),
                ));
                None
            }
            Some(t) if t.timestamp() < -2_208_988_800 => {
                errors.push(FieldError::new(field, "The time is before 1900."));
                None
            }
            Some(t) => Some(t),
            None => {
                errors.push(FieldError::new(field, format!("Enter {what} {WHEN_HINT}.")));
                None
            }
        },
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn episode(
    form: &FormData,
    field: &str,
    subject: &MissingSubject,
    errors: &mut Vec<FieldError>,
) -> Option<Uuid> {
    match Uuid::parse_str(form.get(field)) {
        Ok(id) if subject.episodes.iter().any(|e| e.id == id) => Some(id),
        _ => {
            errors.push(FieldError::new(
                field,
                "Choose one of this child's missing episodes.",
            ));
            None
        }
    }
}

/// The form read field by field: what to record, or every problem.
pub fn check(
    form: &FormData,
    subject: &MissingSubject,
    now: DateTime<Utc>,
) -> Result<MissingInput, Vec<FieldError>> {
    let mut e = Vec::new();
    let input = match form.get("action") {
        "report" => {
            let missing_type = match MissingType::parse(form.get("m_type")).ok() {
                Some(t) => Some(t),
                None => {
                    e.push(FieldError::new(
                        "m_type",
                        "Choose missing or away without permission.",
                    ));
                    None
                }
            };
            let started_at = when(
                form,
                "m_started",
                "when the child went missing",
                now,
                &mut e,
            );
            let reported_by = line(form, "m_reported_by", "who reported it", false, &mut e);
            let circumstances = text(form, "m_circumstances", "the circumstances", &mut e);
            missing_type
                .zip(started_at)
                .map(|(missing_type, started_at)| MissingInput::Report {
                    missing_type,
                    started_at,
                    reported_by,
                    circumstances,
                })
        }
        "return" => {
            let ep = episode(form, "r_episode", subject, &mut e);
            let at = when(
                form,
                "r_at",
                "when the child came back or was found",
                now,
                &mut e,
            );
            let found_place = line(form, "r_place", "where the child was found", false, &mut e);
            let found_by = line(form, "r_by", "who found the child", false, &mut e);
            let found_with = line(form, "r_with", "who the child was with", false, &mut e);
            let offered = match form.get("r_offered") {
                "yes" => Some(true),
                "no" => Some(false),
                _ => {
                    e.push(FieldError::new(
                        "r_offered",
                        "Say whether a return home interview was offered.",
                    ));
                    None
                }
            };
            let note = text(form, "r_note", "the note", &mut e);
            match (ep, at, offered) {
                (Some(episode_id), Some(returned_at), Some(interview_offered)) => {
                    Some(MissingInput::Return {
                        episode_id,
                        returned_at,
                        found_place,
                        found_by,
                        found_with,
                        interview_offered,
                        note,
                    })
                }
                _ => None,
            }
        }
        "assign" => {
            let ep = episode(form, "a_episode", subject, &mut e);
            let agency = match AgencyId::new(form.get("a_agency")) {
                Ok(a) => Some(a),
                Err(_) => {
                    e.push(FieldError::new(
                        "a_agency",
                        "Choose the agency that is to do the interview.",
                    ));
                    None
                }
            };
            let worker = line(form, "a_worker", "the worker's user name", false, &mut e);
            ep.zip(agency)
                .map(|(episode_id, agency)| MissingInput::Assign {
                    episode_id,
                    agency,
                    worker,
                })
        }
        "interview" => {
            let ep = episode(form, "i_episode", subject, &mut e);
            let outcome = match InterviewOutcome::parse(form.get("i_outcome")).ok() {
                Some(o) => Some(o),
                None => {
                    e.push(FieldError::new(
                        "i_outcome",
                        "Say whether the interview was held or the child declined it.",
                    ));
                    None
                }
            };
            let held_at = when(
                form,
                "i_at",
                "when the interview was held or offered",
                now,
                &mut e,
            );
            let by_whom = line(form, "i_by", "who did the interview", true, &mut e);
            let where_held = line(form, "i_where", "where it was held", false, &mut e);
            let child_said = text(form, "i_said", "what the child said", &mut e);
            if outcome == Some(InterviewOutcome::Held) && child_said.is_none() {
                e.push(FieldError::new(
                    "i_said",
                    "Write what the child said (or record that they declined the interview).",
                ));
            }
            match (ep, outcome, held_at, by_whom) {
                (Some(episode_id), Some(outcome), Some(held_at), Some(by_whom)) => {
                    Some(MissingInput::Interview {
                        episode_id,
                        outcome,
                        held_at,
                        by_whom,
                        where_held,
                        child_said,
                    })
                }
                _ => None,
            }
        }
        _ => {
            e.push(FieldError::new("", "Choose one of the forms on this page."));
            None
        }
    };
    match input {
        Some(i) if e.is_empty() => Ok(i),
        _ => Err(e),
    }
}

async fn form_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    subject: Authorised<MissingSubject>,
    form: FormData,
    errors: Vec<FieldError>,
) -> Result<Response, WebError> {
    let chrome = st.chrome(who, "Missing episodes", "").with_errors(&errors);
    let agencies: Vec<Opt> = st
        .app
        .agencies()
        .iter()
        .filter(|a| a.code != "vigil")
        .map(|a| Opt::new(&a.code, &a.name))
        .collect();
    subject
        .show(|s, read| {
            let label = |e: &missing::EpisodeChoice| {
                let from = crate::display::datetime(e.started_at);
                match e.returned_at {
                    None => format!("Missing since {from}"),
                    Some(b) => format!("{from} to {}", crate::display::datetime(b)),
                }
            };
            let open: Vec<Opt> = s
                .episodes
                .iter()
                .filter(|e| e.returned_at.is_none())
                .map(|e| Opt::new(&e.id.to_string(), &label(e)))
                .collect();
            let back: Vec<Opt> = s
                .episodes
                .iter()
                .filter(|e| e.returned_at.is_some() && !e.interview_done)
                .map(|e| Opt::new(&e.id.to_string(), &label(e)))
                .collect();
            MissingFormPage {
                chrome,
                read,
                form: FormView::new(form, errors),
                csrf: who.csrf.clone(),
                id: s.child_id.to_string(),
                child: s.child.name.clone(),
                open,
                back,
                agencies,
                types: MissingType::ALL
                    .iter()
                    .map(|t| Opt::new(t.code(), t.label()))
                    .collect(),
                outcomes: InterviewOutcome::ALL
                    .iter()
                    .map(|t| Opt::new(t.code(), t.label()))
                    .collect(),
                yes_no: vec![Opt::new("yes", "Yes"), Opt::new("no", "No")],
            }
        })
        .respond(status)
        .await
}

/// The four forms.
pub async fn form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let subject = missing::missing_form(&st.app, &who, parse_id(&id)?).await?;
    form_page(
        &st,
        &who,
        StatusCode::OK,
        subject,
        FormData::default(),
        Vec::new(),
    )
    .await
}

/// Records what one of the forms says, then back to the child's page.
pub async fn record(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let subject = missing::missing_form(&st.app, &who, parse_id(&id)?).await?;
    let input = match check(&form, &subject, st.now()) {
        Ok(i) => i,
        Err(errors) => {
            return form_page(&st, &who, StatusCode::BAD_REQUEST, subject, form, errors).await
        }
    };
    match st.app.record_missing(&who, &subject, &input).await? {
        Ok(_) => {
            let to = format!("/people/{}#missing", subject.child_id);
            subject.send(|_| Ok(see_other(&to))).await
        }
        Err(msg) => {
            let errors = vec![FieldError::new("", msg)];
            form_page(&st, &who, StatusCode::BAD_REQUEST, subject, form, errors).await
        }
    }
}

/// Who has been told about an overdue interview, in words that match the
/// page's explanation (never "you": the reader may be either).
pub fn escalated_words(e: vigil_rules::Escalation) -> &'static str {
    match e {
        vigil_rules::Escalation::HeadOfService => {
            "Escalated to the supervisor and the head of service"
        }
        vigil_rules::Escalation::Supervisor => "Escalated to the supervisor",
        _ => "Not escalated yet",
    }
}

/// Every return home interview not done within 72 hours of the return.
pub async fn overdue(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    let list = missing::overdue_interviews(&st.app, &who).await?;
    let chrome = st.chrome(
        &who,
        "Overdue return home interviews",
        "/overdue/interviews",
    );
    let now = st.now();
    list.show(|rows, read| OverdueInterviewsPage {
        chrome,
        read,
        rows: rows
            .iter()
            .map(|r| OverdueInterviewRow {
                child: r
                    .child
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| "A child whose record you may not open".to_owned()),
                child_href: r
                    .child
                    .as_ref()
                    .map(|c| format!("/people/{}#missing", c.id)),
                returned: crate::display::datetime(r.returned_at),
                due: r.deadline.describe(now),
                assigned: match &r.assigned {
                    Some((agency, Some(w))) => format!("{w} ({agency})"),
                    Some((agency, None)) => agency.clone(),
                    None => "Nobody yet".to_owned(),
                },
                escalated: escalated_words(r.escalation).to_owned(),
            })
            .collect(),
    })
    .respond(StatusCode::OK)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_times_are_uk_times() {
        // Summer: 22:00 BST is 21:00 UTC.
        assert_eq!(
            parse_local("2025-06-01T22:00"),
            Some(Utc.with_ymd_and_hms(2025, 6, 1, 21, 0, 0).unwrap())
        );
        // Winter: the same.
        assert_eq!(
            parse_local("10/01/2025 18:00"),
            Some(Utc.with_ymd_and_hms(2025, 1, 10, 18, 0, 0).unwrap())
        );
        for bad in [
            "",
            "yesterday",
            "2025-13-01T10:00",
            "2025-06-01T25:00",
            &"9".repeat(5000),
            "<script>",
        ] {
            assert_eq!(parse_local(bad), None, "{bad}");
        }
    }
}
