//! Records of one person: the review queue of possible matches, one pair
//! side by side with the model's explanation, and the decisions (confirm,
//! reject, undo). Each reads through `vigil_app::links`, which checks the
//! access table and writes the read to the access log; these handlers
//! parse, call and render.

use super::see_other;
use crate::access::{Action, Resource};
use crate::app::{AppState, SignedIn};
use crate::error::WebError;
use crate::form::{CsrfForm, FieldError};
use crate::html::{PairPage, ReviewPage, ReviewRow, StepRow};
use crate::pages::Respond;
use crate::waterfall::{self, Step};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::links::{self, LinkDecision};
use vigil_app::score;

/// Most pairs the review page lists.
pub const REVIEW_ROWS: usize = 50;

/// The pair page's address.
pub fn pair_href(a: &str, b: &str) -> String {
    format!("/links/pair?a={a}&b={b}")
}

fn person_id(s: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(s.trim())
        .map_err(|_| WebError::NotFound("There is no such pair of person records.".into()))
}

/// Where to go after a decision: one of Vigil's own pages (a referral, a
/// person, the review queue, a pair), never another site.
fn back_to(s: &str, fallback: &str) -> String {
    let s = s.trim();
    let ours = ["/referrals/", "/people/", "/links/review", "/links/pair?"]
        .iter()
        .any(|p| s.starts_with(p));
    let plain = s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-?=&#_.".contains(&b));
    if ours && plain && !s.starts_with("//") {
        s.to_owned()
    } else {
        fallback.to_owned()
    }
}

#[derive(Deserialize, Default)]
pub struct ReviewQuery {
    #[serde(default)]
    decided: String,
    /// 1-based; anything that is not a page number reads as the first.
    #[serde(default)]
    page: String,
}

/// The review page's address for a page (1-based).
fn review_href(page: u64) -> String {
    if page <= 1 {
        "/links/review".into()
    } else {
        format!("/links/review?page={page}")
    }
}

pub async fn review(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, WebError> {
    // A page past the end shows the last one (a decision may have emptied it).
    let asked: u64 = q.page.trim().parse().unwrap_or(1).clamp(1, 1 << 40);
    let rows = REVIEW_ROWS as u64;
    let mut queue = links::review_queue(&st.app, &who, (asked - 1) * rows, REVIEW_ROWS).await?;
    let last = |total: u64| total.div_ceil(rows).max(1);
    if !queue.more && asked > last(queue.total) {
        let page = last(queue.total);
        queue = links::review_queue(&st.app, &who, (page - 1) * rows, REVIEW_ROWS).await?;
    }
    let chrome = st.chrome(&who, "Possible matches to review", "/links/review");
    let csrf = who.csrf.clone();
    queue
        .show(|q2, read| ReviewPage {
            chrome,
            read,
            page: q2.offset / rows + 1,
            pages: last(q2.total),
            more: q2.more,
            prev_href: (q2.offset >= rows).then(|| review_href(q2.offset / rows)),
            next_href: (q2.offset + rows < q2.total).then(|| review_href(q2.offset / rows + 2)),
            here: review_href(q2.offset / rows + 1),
            total: q2.total,
            rows: q2
                .items
                .into_iter()
                .map(|i| ReviewRow {
                    href: pair_href(&i.a.id, &i.b.id),
                    probability: score::percent(i.probability_ppm),
                    status: i.status.label().to_owned(),
                    can_decide: i.can_decide,
                    a: i.a,
                    b: i.b,
                })
                .collect(),
            band: format!(
                "from {} to {} likely",
                score::percent(score::REVIEW_FROM_PPM),
                score::percent(score::REVIEW_TO_PPM)
            ),
            csrf,
            notice: (q.decided == "1").then(|| "Your decision has been recorded.".to_owned()),
        })
        .respond(StatusCode::OK)
        .await
}

#[derive(Deserialize, Default)]
pub struct PairQuery {
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
    #[serde(default)]
    back: String,
}

pub async fn pair(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Query(q): Query<PairQuery>,
) -> Result<Response, WebError> {
    // The role first, so a user who may not see matches learns nothing of the ids.
    who.authorise(Action::ReviewLinks, Resource::Page)?;
    let (a, b) = (person_id(&q.a)?, person_id(&q.b)?);
    pair_page(&st, &who, a, b, &q.back, None).await
}

/// The pair page; with `error`, the decision form's problem is shown at
/// the top and beside the field, and the page is sent as 422.
async fn pair_page(
    st: &AppState,
    who: &SignedIn,
    a: Uuid,
    b: Uuid,
    back: &str,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let rec = links::pair(&st.app, who, a, b).await?;
    let errors: Vec<FieldError> = error
        .map(|m| FieldError::new("reason", m))
        .into_iter()
        .collect();
    let chrome = st
        .chrome(who, "Are these the same person?", "")
        .with_errors(&errors);
    let csrf = who.csrf.clone();
    let back = back_to(back, &pair_href(&a.to_string(), &b.to_string()));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    rec.show(|p, read| {
        let steps: Vec<Step> = p
            .score
            .fields
            .iter()
            .map(|f| Step {
                field: f.field.clone(),
                level: f.level.clone(),
                weight_milli: f.weight_milli,
            })
            .collect();
        let probability = score::percent(p.score.probability_ppm);
        let mut running = 0i64;
        let rows = steps
            .iter()
            .map(|s| {
                running = running.saturating_add(s.weight_milli);
                StepRow {
                    field: s.field.clone(),
                    level: s.level.clone(),
                    weight: score::bits(s.weight_milli),
                    running: score::bits(running),
                }
            })
            .collect();
        PairPage {
            chrome,
            read,
            chart_svg: waterfall::svg(&steps, &probability),
            steps: rows,
            probability,
            scored_by: p.scored_by,
            status: p.status,
            can_decide: p.can_decide,
            confirmed: p.confirmed,
            csrf,
            back,
            a_id: a.to_string(),
            b_id: b.to_string(),
            sides: vec![p.a, p.b],
            errors,
        }
    })
    .respond(status)
    .await
}

async fn decide(
    st: &AppState,
    who: SignedIn,
    form: crate::form::FormData,
    decision: LinkDecision,
) -> Result<Response, WebError> {
    who.authorise(Action::DecideLink, Resource::Page)?;
    let (a, b) = (person_id(form.get("a"))?, person_id(form.get("b"))?);
    let reason = form.raw("reason").trim().to_owned();
    let reason = (!reason.is_empty()).then_some(reason);
    let fallback = match decision {
        LinkDecision::Confirm => format!("/people/{a}#linked"),
        _ => "/links/review?decided=1".to_owned(),
    };
    if decision == LinkDecision::Undo && reason.is_none() {
        // A form error, not a refusal: the page again, saying what is missing.
        return pair_page(
            st,
            &who,
            a,
            b,
            form.get("back"),
            Some("Say why these records are not the same person, so whoever reads the record later knows."),
        )
        .await;
    }
    let back = back_to(form.get("back"), &fallback);
    match st.app.decide_link(&who, a, b, decision, reason).await? {
        Ok(()) => Ok(see_other(&back)),
        Err(msg) => Err(WebError::Forbidden(msg)),
    }
}

pub async fn confirm(
    State(st): State<Arc<AppState>>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    decide(&st, who, form, LinkDecision::Confirm).await
}

pub async fn reject(
    State(st): State<Arc<AppState>>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    decide(&st, who, form, LinkDecision::Reject).await
}

pub async fn undo(
    State(st): State<Arc<AppState>>,
    CsrfForm { who, form }: CsrfForm,
) -> Result<Response, WebError> {
    decide(&st, who, form, LinkDecision::Undo).await
}

/// The records of the same person as a person's page lists them.
pub fn linked_rows(list: &[links::LinkedRecord]) -> Vec<crate::html::LinkedRow> {
    list.iter()
        .map(|l| crate::html::LinkedRow {
            explain_href: pair_href(&l.pair.0.to_string(), &l.pair.1.to_string()),
            a: l.pair.0.to_string(),
            b: l.pair.1.to_string(),
            person: l.person.clone(),
            agency: l.agency.clone(),
            how: l.how.clone(),
            via: l.via.clone(),
            can_undo: l.can_undo,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_go_back_only_to_vigils_own_pages() {
        let f = "/links/review";
        assert_eq!(back_to("/people/abc#linked", f), "/people/abc#linked");
        assert_eq!(back_to("/referrals/x", f), "/referrals/x");
        for hostile in [
            "https://elsewhere.example/",
            "//elsewhere.example/people/",
            "/people/\"><script>",
            "/admin/users",
            "",
            &"/people/".repeat(100),
        ] {
            assert_eq!(back_to(hostile, f), f, "{hostile}");
        }
    }
}
