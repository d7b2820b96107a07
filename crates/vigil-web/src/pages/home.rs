//! The start page: what this user can do, and what needs them now.

use super::page;
use crate::access::Action;
use crate::app::{AppState, SignedIn};
use crate::error::WebError;
use crate::html::{HomePage, Task};
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

pub async fn home(State(st): State<Arc<AppState>>, who: SignedIn) -> Result<Response, WebError> {
    let (awaiting, overdue) = st
        .blocking(|st| {
            st.refresh_referrals()?;
            Ok((st.awaiting_count(), st.overdue_count()))
        })
        .await?;
    let mut tasks = Vec::new();
    let mut task = |action: Action, href: &str, title: &str, text: String, alert: bool| {
        if who.may(action) {
            tasks.push(Task {
                href: href.into(),
                title: title.into(),
                text,
                alert,
            });
        }
    };
    task(
        Action::SubmitReferral,
        "/referrals/new",
        "Raise a concern",
        "Tell the front door about a child you are worried about. You get a reference and a signed receipt.".into(),
        false,
    );
    task(
        Action::ListOwnReferrals,
        "/referrals/mine",
        "My referrals",
        "See what was decided about the referrals you sent.".into(),
        false,
    );
    task(
        Action::ViewTriageQueue,
        "/triage",
        "Triage queue",
        format!(
            "{awaiting} {} waiting for a decision.",
            if awaiting == 1 {
                "referral is"
            } else {
                "referrals are"
            }
        ),
        false,
    );
    task(
        Action::ViewOverdue,
        "/overdue",
        "Overdue referrals",
        format!(
            "{overdue} {} not been decided in time.",
            if overdue == 1 {
                "referral has"
            } else {
                "referrals have"
            }
        ),
        overdue > 0,
    );
    task(
        Action::ManageCase,
        "/cases/new?context=place",
        "Open a case on a place",
        "A park, a takeaway, a hotel or a taxi rank where children are at risk: its own actions and meetings, with the children linked to it.".into(),
        false,
    );
    task(
        Action::ManageCase,
        "/cases/new?context=peer_group",
        "Open a case on a peer group",
        "A group of children exploited together or by the same adults: link each child to the case.".into(),
        false,
    );
    task(
        Action::ViewAccessLog,
        "/audit",
        "Access log",
        "Who opened which child's record, and when.".into(),
        false,
    );
    task(
        Action::ViewUsers,
        "/admin/users",
        "Accounts",
        "Who can use Vigil, in which role and agency.".into(),
        false,
    );
    let first_name = who
        .user
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&who.user.username)
        .to_owned();
    page(HomePage {
        chrome: st.chrome(&who, "Home", "/"),
        first_name,
        tasks,
        overdue,
        show_overdue_banner: who.may(Action::ViewOverdue) && overdue > 0,
    })
}
