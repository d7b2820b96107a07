//! Static files, embedded in the binary, and the log's public key.

use crate::app::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

const CSS: &str = include_str!("../../static/vigil.css");
const JS: &str = include_str!("../../static/vigil.js");

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        JS,
    )
        .into_response()
}

/// The log's public key, which checks receipts. Public by design.
pub async fn log_key(State(st): State<Arc<AppState>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"log-key.pub\"",
            ),
        ],
        st.log_key().to_text() + "\n",
    )
        .into_response()
}

pub async fn health() -> &'static str {
    "ok\n"
}
