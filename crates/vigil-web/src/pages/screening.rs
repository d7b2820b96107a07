//! The screening form, from a child's page: one row per indicator (yes,
//! no, not known; when it was known; who said it or which record), the
//! day it was done, and the practitioner's judgement of the risk. Works
//! without JavaScript: "Check the risk" shows the level the answers
//! support without recording anything, and a judgement that differs from
//! it is sent back asking why. The child is read through
//! `vigil_app::guard::screening` (access table and access log); the
//! screening is recorded by `App::record_screening`.

use super::{see_other, Respond};
use crate::app::{AppState, SignedIn};
use crate::error::WebError;
use crate::form::{parse_day, sentence, CsrfForm, FieldError, FormData, DAY_HINT};
use crate::html::{FormView, IndicatorRow, ScreeningFormPage};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::guard::Authorised;
use vigil_app::screening::{self, ScreeningInput, ScreeningSubject};
use vigil_model::codes::{Indicator, RiskLevel, ScreeningAnswer};
use vigil_model::dates::Date;
use vigil_model::payload::IndicatorAnswer;
use vigil_model::text::{check_line, check_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};
use vigil_rules::london::local_date;

fn parse_id(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s).map_err(|_| WebError::NotFound("There is no person at this address.".into()))
}

/// The form read field by field: the input, or every problem against its field.
pub fn check(form: &FormData, today: NaiveDate) -> Result<ScreeningInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let done_on = match form.get("done") {
        "" => {
            errors.push(FieldError::new(
                "done",
                "Enter the day the screening was done.",
            ));
            None
        }
        v => match parse_day(v) {
            Some(d) if d > today => {
                errors.push(FieldError::new(
                    "done",
                    "The day the screening was done is in the future.",
                ));
                None
            }
            Some(d) if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(d) => {
                errors.push(FieldError::new("done", "The day is before 1900."));
                None
            }
            Some(d) => Some(d),
            None => {
                errors.push(FieldError::new(
                    "done",
                    format!("Enter the day the screening was done {DAY_HINT}."),
                ));
                None
            }
        },
    };
    let last_day = done_on.unwrap_or(today);
    let mut answers = Vec::new();
    for i in Indicator::ALL {
        let code = i.code();
        let label = i.label();
        let answer = match ScreeningAnswer::parse(form.get(code)) {
            Ok(a) => a,
            Err(_) => {
                errors.push(FieldError::new(
                    code,
                    format!("Answer yes, no or not known: \u{201c}{label}\u{201d}."),
                ));
                continue;
            }
        };
        let known_field = format!("{code}_known");
        let source_field = format!("{code}_source");
        let known_on = match form.get(&known_field) {
            "" => None,
            v => match parse_day(v) {
                Some(d) if d > last_day => {
                    errors.push(FieldError::new(
                        &known_field,
                        format!(
                            "\u{201c}{label}\u{201d}: the day it was known is after the screening."
                        ),
                    ));
                    continue;
                }
                Some(d) if d.year() < 1900 => {
                    errors.push(FieldError::new(
                        &known_field,
                        format!("\u{201c}{label}\u{201d}: the day is before 1900."),
                    ));
                    continue;
                }
                Some(d) => Some(Date::new(d)),
                None => {
                    errors.push(FieldError::new(
                        &known_field,
                        format!("\u{201c}{label}\u{201d}: enter the day it was known {DAY_HINT}."),
                    ));
                    continue;
                }
            },
        };
        let source = form.opt(&source_field);
        if let Some(s) = &source {
            if let Err(e) = check_line(
                &format!("the source of \u{201c}{label}\u{201d}"),
                s,
                MAX_SHORT_CHARS,
            ) {
                errors.push(FieldError::new(&source_field, sentence(&e.to_string())));
                continue;
            }
        }
        match answer {
            ScreeningAnswer::Yes if known_on.is_none() => {
                errors.push(FieldError::new(
                    &known_field,
                    format!("\u{201c}{label}\u{201d} is yes: say when it was known."),
                ));
                continue;
            }
            ScreeningAnswer::Yes if source.is_none() => {
                errors.push(FieldError::new(
                    &source_field,
                    format!("\u{201c}{label}\u{201d} is yes: say who said it, or which record shows it."),
                ));
                continue;
            }
            ScreeningAnswer::NotKnown if known_on.is_some() || source.is_some() => {
                errors.push(FieldError::new(
                    code,
                    format!("\u{201c}{label}\u{201d} is not known but has a day or source: answer yes or no, or clear them."),
                ));
                continue;
            }
            _ => {}
        }
        answers.push(IndicatorAnswer {
            indicator: *i,
            answer,
            known_on,
            source,
        });
    }
    let judged = match form.get("judged") {
        "" | "agree" => None,
        v => match RiskLevel::parse(v) {
            Ok(l) => Some(l),
            Err(_) => {
                errors.push(FieldError::new(
                    "judged",
                    "Choose your judgement of the risk.",
                ));
                None
            }
        },
    };
    let reason = {
        let v = form.raw("reason").trim();
        if v.is_empty() {
            None
        } else if let Err(e) = check_text("the reason", v, MAX_LONG_CHARS, true) {
            errors.push(FieldError::new("reason", sentence(&e.to_string())));
            None
        } else {
            Some(v.to_owned())
        }
    };
    let mut ids = [None, None];
    for (slot, name) in ids.iter_mut().zip(["case_id", "referral_id"]) {
        match form.get(name) {
            "" => {}
            v => match Uuid::parse_str(v) {
                Ok(u) => *slot = Some(u),
                Err(_) => errors.push(FieldError::new(
                    "",
                    format!("The {} is not a Vigil id.", name.replace('_', " ")),
                )),
            },
        }
    }
    if errors.is_empty() {
        let supported = screening::supported_risk(&answers);
        if judged.is_some_and(|j| j != supported) && reason.is_none() {
            errors.push(FieldError::new(
                "reason",
                format!(
                    "The answers support a {} risk and your judgement is {}: say why they differ.",
                    supported.label().to_lowercase(),
                    judged.map(|j| j.label().to_lowercase()).unwrap_or_default()
                ),
            ));
        }
    }
    match done_on {
        Some(done_on) if errors.is_empty() => Ok(ScreeningInput {
            answers,
            done_on,
            judged,
            reason,
            case_id: ids[0],
            referral_id: ids[1],
        }),
        _ => Err(errors),
    }
}

fn rows(form: &FormView) -> Vec<IndicatorRow> {
    let err = |f: &str| {
        form.errors
            .iter()
            .find(|e| e.field == f)
            .map(|e| e.message.clone())
    };
    Indicator::ALL
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let code = i.code();
            let known = format!("{code}_known");
            let source = format!("{code}_source");
            IndicatorRow {
                n: n + 1,
                code,
                label: i.label(),
                answer: form.value(code).to_owned(),
                known: form.value(&known).to_owned(),
                source: form.value(&source).to_owned(),
                error: err(code),
                known_error: err(&known),
                source_error: err(&source),
            }
        })
        .collect()
}

async fn form_page(
    st: &AppState,
    who: &SignedIn,
    status: StatusCode,
    subject: Authorised<ScreeningSubject>,
    form: FormData,
    errors: Vec<FieldError>,
    preview: Option<String>,
) -> Result<Response, WebError> {
    let chrome = st
        .chrome(who, "Record a screening", "")
        .with_errors(&errors);
    subject
        .show(|s, read| {
            let form = FormView::new(form, errors);
            ScreeningFormPage {
                chrome,
                read,
                rows: rows(&form),
                form,
                csrf: who.csrf.clone(),
                id: s.child_id.to_string(),
                child: s.child.name.clone(),
                preview,
                rule: vigil_rules::screening::RULE,
            }
        })
        .respond(status)
        .await
}

/// The blank form: every indicator not known, done today; a case or
/// referral named in the address (`?case=…&referral=…`) is carried along.
pub async fn form(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let subject = screening::screening_form(&st.app, &who, parse_id(&id)?).await?;
    let mut form = FormData::default();
    for i in Indicator::ALL {
        form.set(i.code(), ScreeningAnswer::NotKnown.code());
    }
    form.set("done", &local_date(st.now()).format("%Y-%m-%d").to_string());
    form.set("judged", "agree");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    for (k, v) in pairs {
        match k.as_str() {
            "case" if Uuid::parse_str(&v).is_ok() => form.set("case_id", &v),
            "referral" if Uuid::parse_str(&v).is_ok() => form.set("referral_id", &v),
            _ => {}
        }
    }
    form_page(&st, &who, StatusCode::OK, subject, form, Vec::new(), None).await
}

/// Checks the risk (`check=1`: nothing recorded) or records the screening.
pub async fn record(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    let subject = screening::screening_form(&st.app, &who, parse_id(&id)?).await?;
    let today = local_date(st.now());
    let input = match check(&form, today) {
        Ok(i) => i,
        Err(errors) => {
            return form_page(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                subject,
                form,
                errors,
                None,
            )
            .await
        }
    };
    if form.get("check") == "1" {
        let supported = screening::supported_risk(&input.answers);
        let words = format!(
            "The answers support a {} risk.",
            supported.label().to_lowercase()
        );
        return form_page(
            &st,
            &who,
            StatusCode::OK,
            subject,
            form,
            Vec::new(),
            Some(words),
        )
        .await;
    }
    match st.app.record_screening(&who, &subject, &input).await? {
        Ok(_) => {
            let to = format!("/people/{}#screening", subject.child_id);
            subject.send(|_| Ok(see_other(&to))).await
        }
        Err(msg) => {
            let errors = vec![FieldError::new("", msg)];
            form_page(
                &st,
                &who,
                StatusCode::BAD_REQUEST,
                subject,
                form,
                errors,
                None,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 2).unwrap()
    }

    fn blank() -> FormData {
        let mut f = FormData::default();
        for i in Indicator::ALL {
            f.set(i.code(), "not_known");
        }
        f.set("done", "2025-06-01");
        f.set("judged", "agree");
        f
    }

    fn fields(e: Vec<FieldError>) -> Vec<String> {
        e.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_blank_checklist_is_a_low_risk_screening() {
        let i = check(&blank(), today()).unwrap();
        assert_eq!(i.answers.len(), Indicator::ALL.len());
        assert_eq!(i.judged, None);
        assert_eq!(screening::supported_risk(&i.answers), RiskLevel::Low);
    }

    #[test]
    fn each_problem_is_said_against_its_field() {
        let mut f = blank();
        f.set("missing", "yes");
        f.set("older_partner", "maybe");
        f.set("hotspots", "yes");
        f.set("hotspots_known", "2025-05-30");
        f.set("injuries", "not_known");
        f.set("injuries_source", "School nurse");
        f.set("self_harm", "no");
        f.set("self_harm_known", "31/02/2025");
        f.set("online_contact", "no");
        f.set("online_contact_known", "2025-06-02");
        f.set("isolated", "no");
        f.set("isolated_source", "two\nlines");
        f.set("done", "2099-01-01");
        f.set("judged", "extreme");
        f.set("case_id", "not-an-id");
        let e = fields(check(&f, today()).unwrap_err());
        for want in [
            "done",
            "missing_known",
            "older_partner",
            "hotspots_source",
            "injuries",
            "self_harm_known",
            "isolated_source",
            "judged",
            "",
        ] {
            assert!(e.iter().any(|x| x == want), "{want} not in {e:?}");
        }
        // With the screening done on 1 June, a day known on 2 June is after it.
        let mut f = blank();
        f.set("online_contact", "no");
        f.set("online_contact_known", "2025-06-02");
        assert_eq!(
            fields(check(&f, today()).unwrap_err()),
            ["online_contact_known"]
        );
    }

    #[test]
    fn a_different_judgement_needs_a_reason() {
        let mut f = blank();
        f.set("cars_with_adults", "yes");
        f.set("cars_with_adults_known", "1/6/2025");
        f.set("cars_with_adults_source", "Taxi marshal at the rank");
        f.set("judged", "medium");
        let e = check(&f, today()).unwrap_err();
        assert_eq!(e[0].field, "reason");
        assert!(e[0]
            .message
            .contains("support a high risk and your judgement is medium"));
        f.set(
            "reason",
            "The driver was her uncle; checked with the police.",
        );
        let i = check(&f, today()).unwrap();
        assert_eq!(i.judged, Some(RiskLevel::Medium));
        assert_eq!(
            i.answers[6].known_on,
            Some(Date::new(NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()))
        );
    }

    #[test]
    fn empty_huge_and_hostile_forms_are_refused_not_recorded() {
        // Nothing at all.
        let e = check(&FormData::default(), today()).unwrap_err();
        assert!(e.len() > Indicator::ALL.len(), "{}", e.len());
        // Ten megabytes in a source and in the reason.
        let huge = "x".repeat(10 << 20);
        let mut f = blank();
        f.set("missing", "no");
        f.set("missing_source", &huge);
        f.set("reason", &huge);
        let e = fields(check(&f, today()).unwrap_err());
        assert!(e.contains(&"missing_source".to_owned()) && e.contains(&"reason".to_owned()));
        // A day that is not one, however long.
        let mut f = blank();
        f.set("done", &"9".repeat(100_000));
        assert_eq!(fields(check(&f, today()).unwrap_err()), ["done"]);
        // Markup is text (escaped on every page).
        let mut f = blank();
        f.set("missing", "no");
        f.set("missing_source", "<script>alert(1)</script>");
        check(&f, today()).unwrap();
        // Unknown fields (an indicator Vigil does not have) change nothing.
        let mut f = blank();
        f.set("ethnicity", "yes");
        f.set("sex", "yes");
        let i = check(&f, today()).unwrap();
        assert_eq!(i.answers.len(), Indicator::ALL.len());
    }
}
