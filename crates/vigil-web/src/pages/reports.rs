//! Reports a team reads about its own practice. The language report: per
//! agency, how many free texts on file use wording the professional
//! language guidance warns against, by row of the guidance, and the
//! phrases most used (`vigil_app::language`).

use super::page;
use crate::app::{AppState, SignedIn};
use crate::error::WebError;
use crate::html::{LanguageReportPage, LanguageRow};
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;
use vigil_rules::language::Guidance;

pub async fn language(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
) -> Result<Response, WebError> {
    let caller = who.caller.clone();
    let report = st
        .app
        .blocking(move |app| app.language_report(&caller))
        .await?;
    let rows = report
        .agencies
        .iter()
        .map(|a| {
            let name = st
                .app
                .agency_by_code(&a.agency)
                .map(|v| v.name.clone())
                .unwrap_or_else(|| a.agency.clone());
            LanguageRow {
                agency: name,
                texts: a.texts,
                flagged: a.texts_flagged,
                share: if a.texts == 0 {
                    "0%".into()
                } else {
                    format!("{:.1}%", 100.0 * a.texts_flagged as f64 / a.texts as f64)
                },
                counts: a.by_guidance.iter().map(|(_, n)| *n).collect(),
                phrases: a
                    .top_phrases
                    .iter()
                    .map(|(p, n)| format!("“{p}” ({n})"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    page(LanguageReportPage {
        chrome: st.chrome(&who, "Language report", "/reports/language"),
        headings: Guidance::ALL.iter().map(|g| g.avoid()).collect(),
        rows,
        entries: report.entries,
    })
}
