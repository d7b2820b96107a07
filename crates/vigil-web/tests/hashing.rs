//! Password hashing is bounded: however many sign-ins arrive at once, at
//! most the gate's bound of Argon2 computations run together, and those
//! that cannot get a turn within the wait are told the service is busy
//! (503 with Retry-After). Its own test binary: the gate is the process's.

mod common;

use common::{hidden, TestApp};
use reqwest::StatusCode;
use std::time::Duration;
use vigil_web::Config;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_password_checks_never_exceed_the_bound_and_beyond_the_wait_are_503() {
    let app = TestApp::start_with_config(Config {
        secure_cookies: false,
        escalation_check_seconds: 3600,
        // Each attempt from its own address, so throttling stays out of it.
        trust_forwarded_for: true,
        ..Config::default()
    })
    .await;
    let gate = vigil_web::auth::hashing();
    gate.set_limits(2, Duration::from_millis(150));
    gate.take_peak();
    let mut forms = Vec::new();
    for _ in 0..40 {
        let c = app.client();
        let nonce = hidden(&c.get("/login").await.body, "nonce").unwrap();
        forms.push((c, nonce));
    }
    let mut tasks = Vec::new();
    for (i, (c, nonce)) in forms.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let body = serde_urlencoded::to_string([
                ("nonce", nonce.as_str()),
                ("next", "/"),
                ("username", &format!("nobody.{i}")),
                ("password", "a wrong guess"),
            ])
            .unwrap();
            let r = c
                .http
                .post(format!("{}/login", c.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-for", format!("192.0.2.{i}"))
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.headers().get("retry-after").cloned())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let peak = gate.take_peak();
    assert!(peak <= 2, "{peak} hashes ran at once; the bound is 2");
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !busy.is_empty(),
        "40 at once cannot all get a turn in 150 ms"
    );
    assert!(busy.iter().all(|(_, retry)| retry.is_some()), "Retry-After");
    assert!(answers
        .iter()
        .all(|(s, _)| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE));
    gate.set_limits(4, Duration::from_millis(1500));
}
