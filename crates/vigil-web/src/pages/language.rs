//! The language check as the writer types: `POST /language/check` takes the
//! text of a box being written (with the session's anti-forgery token) and
//! answers with the phrases the professional language guidance warns
//! against, why, and what to write instead (`vigil_rules::language`). The
//! page's script shows them under the box; without script the same check
//! runs when the form is saved and is shown on the page that follows. It
//! warns and never blocks, and it records nothing: the text is not kept.

use crate::app::AppState;
use crate::form::CsrfForm;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use vigil_rules::language::{check, Finding, LanguageContext};

/// The most text one request checks: far more than any box on a form.
pub const MAX_CHECK_CHARS: usize = 50_000;

/// What the writer is shown about one phrase.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Wording {
    pub phrase: String,
    pub why: &'static str,
    pub suggestion: &'static str,
}

impl From<Finding> for Wording {
    fn from(f: Finding) -> Self {
        Wording {
            phrase: f.phrase,
            why: f.why,
            suggestion: f.suggestion,
        }
    }
}

/// The findings for one piece of text, for a page that shows them after a
/// save (the same check the script runs while typing).
pub fn wording(text: &str, age: Option<u32>) -> Vec<Wording> {
    check(text, &LanguageContext { age })
        .into_iter()
        .map(Wording::from)
        .collect()
}

/// `POST /language/check`: `text`, optionally `age` (whole years; anything
/// else is ignored rather than refused, since it only sharpens the check).
pub async fn check_typed(State(_st): State<Arc<AppState>>, f: CsrfForm) -> Response {
    let text = f.form.raw("text");
    if text.chars().count() > MAX_CHECK_CHARS {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "The text is too long to check while typing; it is checked when you save.",
        )
            .into_response();
    }
    let age = f
        .form
        .raw("age")
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|a| *a < 120);
    let body = serde_json::json!({ "findings": wording(text, age) });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}
