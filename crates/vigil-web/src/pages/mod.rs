//! The handlers: each parses the request, gets what it shows from
//! [`crate::guard`] (which asks the access table and writes the access log),
//! calls the domain, and renders a page. Nothing else.

pub mod account;
pub mod admin;
pub mod assets;
pub mod audit;
pub mod home;
pub mod links;
pub mod people;
pub mod referrals;
pub mod screening;
pub mod triage;

use crate::error::WebError;
use crate::form::FormData;
use crate::html::{Chrome, ErrorPage};
use crate::readmodel::ReferralView;
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use vigil_model::codes::ReferralDecision;

/// Renders a page with status 200.
pub fn page(t: impl Template) -> Result<Response, WebError> {
    page_with(StatusCode::OK, t)
}

/// Renders a page with a status (a form with errors is 400).
pub fn page_with(status: StatusCode, t: impl Template) -> Result<Response, WebError> {
    let html = t
        .render()
        .map_err(|e| WebError::Internal(format!("a page could not be drawn: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// Sending a page built from authorised data ([`vigil_app::guard::Shown`]):
/// drawn while its access-log row is written, sent once the row is durable.
pub trait Respond {
    fn respond(
        self,
        status: StatusCode,
    ) -> impl std::future::Future<Output = Result<Response, WebError>> + Send;
}

impl<P: Template + Send> Respond for vigil_app::guard::Shown<P> {
    fn respond(
        self,
        status: StatusCode,
    ) -> impl std::future::Future<Output = Result<Response, WebError>> + Send {
        self.deliver(move |p| page_with(status, p))
    }
}

/// The sign-in form's body (kept as it is until sign-in moves to
/// [`crate::form::PlainForm`]); the same parser as every other form.
pub fn read_form(body: Result<Bytes, BytesRejection>) -> Result<FormData, WebError> {
    match body {
        Ok(b) => FormData::parse(&b),
        Err(_) => Err(WebError::TooLarge),
    }
}

/// A redirect after a POST (303 See Other, so the browser GETs the page).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(detail) | WebError::Unavailable(detail) = &self {
            eprintln!("vigil-web: {detail}");
        }
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let t = ErrorPage {
            chrome: Chrome::public(self.title()),
            heading: self.title().to_owned(),
            message: self.to_string(),
        };
        match t.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.to_string()).into_response(),
        }
    }
}

/// How a referral's status is shown: words and tag colour.
pub fn status_of(r: &ReferralView) -> (String, &'static str) {
    match (r.status.as_str(), r.decision) {
        ("awaiting_decision", _) if r.escalation.is_some() => {
            ("Awaiting decision (overdue)".into(), "v-tag--red")
        }
        ("awaiting_decision", _) => ("Awaiting decision".into(), "v-tag--blue"),
        (_, Some(d)) => (format!("Decided: {}", decision_words(d)), "v-tag--green"),
        (s, None) => (s.replace('_', " "), "v-tag--grey"),
    }
}

/// A decision in words.
pub fn decision_words(d: ReferralDecision) -> &'static str {
    match d {
        ReferralDecision::NoFurtherAction => "no further action",
        ReferralDecision::EarlyHelp => "early help",
        ReferralDecision::Assessment => "assessment",
        ReferralDecision::StrategyDiscussion => "strategy discussion",
        ReferralDecision::PassToPolice => "passed to the police",
    }
}
