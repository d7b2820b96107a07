//! Sign-ins, failed sign-ins and sign-outs leave a durable record in the
//! hash-linked access log, which the auditor reads.

mod common;

use common::{TestApp, PASSWORD};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_failures_and_sign_outs_are_in_the_access_log() {
    let app = TestApp::start().await;
    let name = app.username("triage", "northshire-childrens-services");
    let mut c = app.client();
    let r = c.sign_in(&name, PASSWORD).await;
    let token = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("vigil_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    c.refresh_csrf().await;
    assert_eq!(c.post("/logout", &[]).await.status, StatusCode::SEE_OTHER);
    let mut stranger = app.client();
    let typed = "nobody\n<b>x</b>".to_owned() + &"y".repeat(300);
    assert_eq!(
        stranger.sign_in(&typed, "a wrong guess").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stranger.sign_in(&name, "another wrong guess").await.status,
        StatusCode::UNAUTHORIZED
    );

    let records: Vec<_> = app
        .store
        .access_entries(&vigil_store::accounts::AccessQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .rev()
        .filter_map(|e| e.record())
        .collect();
    let actions: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.action.as_str(), r.user.as_str()))
        .collect();
    assert_eq!(actions[0], ("signed in", name.as_str()), "{actions:?}");
    assert_eq!(actions[1], ("signed out", name.as_str()), "{actions:?}");
    assert_eq!(actions[2].0, "sign-in refused", "{actions:?}");
    assert!(
        records[2].user.starts_with("nobody\\n<b>x</b>") && records[2].user.len() <= 80,
        "the username as typed, escaped and bounded: {:?}",
        records[2].user
    );
    assert_eq!(records[3].user, name);
    for r in &records[..4] {
        assert_eq!(r.address.as_deref(), Some("127.0.0.1"));
    }
    // The session is named by a hash of its stored hash, never the token.
    let stored = vigil_web::auth::token_hash(&token);
    let expected = vigil_web::auth::session_reference(&stored);
    assert_eq!(records[0].session.as_deref(), Some(expected.as_str()));
    assert_eq!(records[1].session, records[0].session);
    assert_ne!(expected, hex::encode(stored));
    assert!(!records.iter().any(|r| r.session.as_deref() == Some(&token)));

    let auditor = app.login(&app.username("auditor", "home-office")).await;
    let page = auditor.get("/audit?show=sign-ins").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("signed in"), "{}", page.body);
    assert!(page.body.contains("signed out"));
    assert!(page.body.contains("sign-in refused"));
    assert!(
        page.body.contains("nobody\\n&#60;b&#62;x&#60;/b&#62;"),
        "{}",
        page.body
    );
    assert!(page.body.contains("127.0.0.1"));
    assert!(!page.body.contains("<b>x</b>"));
    let (_, problem) = vigil_store::accounts::verify_access_log(app.store.as_ref()).unwrap();
    assert_eq!(problem, None);
}
