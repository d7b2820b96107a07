//! Signing in under attack, over real HTTP: attempts sent all at once,
//! the change-password page's current password, hostile `next` addresses,
//! the sign-in form's nonce, weak passwords, and the durable record of
//! sign-ins, failures and sign-outs in the access log.

mod common;

use common::{hidden, TestApp, PASSWORD};
use reqwest::StatusCode;
use vigil_web::auth::ACCOUNT_LIMIT;

/// `n` fresh sign-in forms (each client has its own nonce cookie).
async fn forms(app: &TestApp, n: usize) -> Vec<(common::Client, String)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let c = app.client();
        let page = c.get("/login").await;
        let nonce = hidden(&page.body, "nonce").unwrap();
        out.push((c, nonce));
    }
    out
}

/// 39 wrong passwords and then the right one, all sent at once.
async fn concurrent_guesses_stay_under_the_limit(app: &TestApp) {
    let name = app.username("referrer", "oakfield-academy");
    let mut tasks = Vec::new();
    for (i, (c, nonce)) in forms(app, 40).await.into_iter().enumerate() {
        let name = name.clone();
        let password = if i == 39 {
            PASSWORD.to_owned()
        } else {
            format!("wrong guess number {i}")
        };
        tasks.push(tokio::spawn(async move {
            c.post_raw(
                "/login",
                &[
                    ("nonce", &nonce),
                    ("next", "/"),
                    ("username", &name),
                    ("password", &password),
                ],
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let count = |s: StatusCode| statuses.iter().filter(|x| **x == s).count();
    let (wrong, right) = (
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::SEE_OTHER),
    );
    assert!(
        wrong <= ACCOUNT_LIMIT as usize,
        "{wrong} wrong passwords were checked out of 40 sent at once: {statuses:?}"
    );
    // Only a right guess among the first ACCOUNT_LIMIT is checked at all
    // (and it is no failure, so it frees its place for one more wrong one).
    let checked = wrong + right;
    assert!(
        checked <= ACCOUNT_LIMIT as usize + right,
        "{checked} passwords were checked out of 40 sent at once: {statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        40 - checked
    );
    if !statuses.contains(&StatusCode::SEE_OTHER) {
        let mut c = app.client();
        let r = c.sign_in(&name, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the right password after the limit must wait"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_attempts_sent_at_once_cannot_outrun_the_limit() {
    let app = TestApp::start().await;
    concurrent_guesses_stay_under_the_limit(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_attempts_sent_at_once_cannot_outrun_the_limit_on_postgres() {
    let Some(app) = TestApp::start_postgres().await else {
        return;
    };
    concurrent_guesses_stay_under_the_limit(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_current_password_on_the_change_password_page_is_throttled() {
    let app = TestApp::start().await;
    let name = app.username("triage", "northshire-childrens-services");
    let c = app.login(&name).await;
    for i in 0..ACCOUNT_LIMIT {
        let wrong = format!("not my password {i}");
        let r = c
            .post(
                "/account/password",
                &[
                    ("current", &wrong),
                    ("new", "violet tractor meadow"),
                    ("confirm", "violet tractor meadow"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("Your current password is not right."));
    }
    // Now even the right current password is not checked.
    let r = c
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "violet tractor meadow"),
                ("confirm", "violet tractor meadow"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("too many"), "{}", r.body);
    // The same count guards signing in.
    let mut other = app.client();
    assert_eq!(
        other.sign_in(&name, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_next_address_is_not_followed_after_sign_in() {
    let app = TestApp::start().await;
    let page = app.client().get("/login?next=/%09/evil.example").await;
    assert_eq!(hidden(&page.body, "next").as_deref(), Some("/"));
    let name = app.username("triage", "northshire-childrens-services");
    for next in ["/\t/evil.example", "/%09/evil.example", "/\\evil.example"] {
        let c = app.client();
        let nonce = hidden(&c.get("/login").await.body, "nonce").unwrap();
        let r = c
            .post_raw(
                "/login",
                &[
                    ("nonce", &nonce),
                    ("next", next),
                    ("username", &name),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location, "/", "{next:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_sign_in_nonce_with_an_empty_cookie_is_refused() {
    let app = TestApp::start().await;
    let name = app.username("triage", "northshire-childrens-services");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (cookie, nonce) in [("vigil_login=", ""), ("vigil_login=abc", "abc")] {
        let body = serde_urlencoded::to_string([
            ("nonce", nonce),
            ("next", "/"),
            ("username", name.as_str()),
            ("password", PASSWORD),
        ])
        .unwrap();
        let r = http
            .post(format!("{}/login", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{cookie:?} / {nonce:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_new_passwords_are_refused_with_what_to_do() {
    let app = TestApp::start().await;
    let c = app
        .login(&app.username("referrer", "northshire-police"))
        .await;
    for weak in ["password123456", "Password123!", "northshire2026"] {
        let r = c
            .post(
                "/account/password",
                &[("current", PASSWORD), ("new", weak), ("confirm", weak)],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{weak} was accepted");
        assert!(r.body.contains("three random words"), "{weak}: {}", r.body);
    }
}
