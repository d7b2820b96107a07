//! The web service on PostgreSQL (when `VIGIL_TEST_POSTGRES_URL` is set):
//! the same pages, with every store call off the async threads (the
//! PostgreSQL client panics on them), a referral sent, listed, opened and
//! decided, and the log and access log verifying afterwards.

mod common;

use common::{referral_form, submit_referral, TestApp};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_referral_journey_works_on_postgresql() {
    let Some(app) = TestApp::start_postgres().await else {
        return;
    };
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let receipt = teacher.get(&format!("/referrals/{id}/receipt.json")).await;
    assert_eq!(receipt.status, StatusCode::OK);
    let receipt: vigil_ledger::Receipt = serde_json::from_str(&receipt.body).unwrap();
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    assert!(triage
        .get("/triage")
        .await
        .body
        .contains(&vigil_web::reference::reference_for(id)));
    assert_eq!(
        triage.get(&format!("/referrals/{id}")).await.status,
        StatusCode::OK
    );
    let r = triage
        .post(
            &format!("/referrals/{id}/decide"),
            &[("decision", "assessment")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let auditor = app.login(&app.username("auditor", "home-office")).await;
    assert!(auditor
        .get("/audit")
        .await
        .body
        .contains("opened a referral"));
    let store = std::sync::Arc::clone(&app.store);
    let report = tokio::task::spawn_blocking(move || {
        receipt.verify(&store.log_key()).unwrap();
        vigil_store::verify::verify(store.as_ref(), Default::default()).unwrap()
    })
    .await
    .unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
}
