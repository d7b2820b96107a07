//! The handlers: each parses the request, gets what it shows from
//! [`crate::guard`] (which asks the access table and writes the access log),
//! calls the domain, and renders a page. Nothing else.

pub mod account;
pub mod admin;
pub mod alerts;
pub mod assets;
pub mod audit;
pub mod cases;
pub mod home;
pub mod language;
pub mod links;
pub mod meetings;
pub mod missing;
pub mod people;
pub mod referrals;
pub mod reports;
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
        let mut r = match t.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, self.to_string()).into_response(),
        };
        // So the page can be drawn again with the user's header and menu
        // when the request had a session ([`with_chrome`]).
        r.extensions_mut().insert(ErrorShown {
            title: self.title(),
            message: self.to_string(),
        });
        r
    }
}

/// An error page's words, kept on the response so it can be drawn again
/// in the signed-in user's frame.
#[derive(Clone, Debug)]
pub struct ErrorShown {
    pub title: &'static str,
    pub message: String,
}

/// A refused (403) or missing (404) page for a signed-in user keeps the
/// header and the menu: the error is drawn in their frame, so they can go
/// on from there. (A handler's error does not know who asked; the session
/// is looked up again here, and only for those two statuses.)
pub async fn with_chrome(
    st: &std::sync::Arc<crate::app::AppState>,
    cookies: axum::http::HeaderMap,
    r: Response,
) -> Response {
    let status = r.status();
    if !(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND) {
        return r;
    }
    let Some(shown) = r.extensions().get::<ErrorShown>().cloned() else {
        return r;
    };
    let mut req = axum::http::Request::new(());
    *req.headers_mut() = cookies;
    let (mut parts, ()) = req.into_parts();
    use axum::extract::FromRequestParts as _;
    let Ok(who) = crate::app::SignedIn::from_request_parts(&mut parts, st).await else {
        return r;
    };
    if who.restricted {
        return r;
    }
    let page = ErrorPage {
        chrome: st.chrome(&who, shown.title, ""),
        heading: shown.title.to_owned(),
        message: shown.message,
    };
    match page.render() {
        Ok(html) => {
            let (mut head, _) = r.into_parts();
            head.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(head, axum::body::Body::from(html))
        }
        Err(_) => r,
    }
}

/// How a referral's status is shown: words and tag colour.
pub fn status_of(r: &ReferralView) -> (String, &'static str) {
    match (r.status.as_str(), r.decision) {
        ("awaiting_decision", _) if r.escalation.is_some() => {
            ("Awaiting decision (overdue)".into(), "v-tag--red")
        }
        ("awaiting_decision", _) => ("Awaiting decision".into(), "v-tag--blue"),
        (_, Some(d)) => (format!("Decided: {}", decision_words(d)), decision_class(d)),
        (s, None) => (s.replace('_', " "), "v-tag--grey"),
    }
}

/// The tag colour of a decision: each its own, so "no further action" does
/// not look like the work going ahead (grey), and the decisions that bring
/// in a strategy discussion or the police stand out.
pub fn decision_class(d: ReferralDecision) -> &'static str {
    match d {
        ReferralDecision::NoFurtherAction => "v-tag--grey",
        ReferralDecision::EarlyHelp => "v-tag--green",
        ReferralDecision::Assessment => "v-tag--turquoise",
        ReferralDecision::StrategyDiscussion => "v-tag--purple",
        ReferralDecision::PassToPolice => "v-tag--yellow",
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
