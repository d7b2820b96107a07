//! A POST's `Origin` is compared with the site's own public origin, scheme
//! included, and never with the `Host` header the sender chose.

mod common;

use common::{hidden, TestApp, PASSWORD};
use reqwest::StatusCode;

async fn sign_in_with(app: &TestApp, origin: &str, host: Option<&str>) -> StatusCode {
    let c = app.client();
    let nonce = hidden(&c.get("/login").await.body, "nonce").unwrap();
    let name = app.username("triage", "northshire-childrens-services");
    let body = serde_urlencoded::to_string([
        ("nonce", nonce.as_str()),
        ("next", "/"),
        ("username", name.as_str()),
        ("password", PASSWORD),
    ])
    .unwrap();
    let mut r = c
        .http
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", origin);
    if let Some(h) = host {
        r = r.header("host", h);
    }
    r.body(body).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_from_another_scheme_or_a_forged_host_is_refused() {
    let app = TestApp::start().await;
    let own = app.base.clone();
    let hostport = own.trim_start_matches("http://").to_owned();
    assert_eq!(sign_in_with(&app, &own, None).await, StatusCode::SEE_OTHER);
    let port = hostport.rsplit(':').next().unwrap();
    assert_eq!(
        sign_in_with(&app, &format!("http://localhost:{port}"), None).await,
        StatusCode::SEE_OTHER,
        "on loopback, localhost is the same machine and port"
    );
    assert_eq!(
        sign_in_with(&app, &format!("https://{hostport}"), None).await,
        StatusCode::FORBIDDEN,
        "same host and port, another scheme"
    );
    assert_eq!(
        sign_in_with(&app, "http://evil.example", Some("evil.example")).await,
        StatusCode::FORBIDDEN,
        "a Host header chosen to match"
    );
    assert_eq!(
        sign_in_with(&app, &format!("{own}.evil.example"), None).await,
        StatusCode::FORBIDDEN
    );
}

#[test]
fn origins_are_compared_in_one_form() {
    use vigil_web::normal_origin;
    assert_eq!(
        normal_origin("HTTPS://Vigil.Example.org:443/").unwrap(),
        "https://vigil.example.org"
    );
    assert_eq!(
        normal_origin("http://127.0.0.1:8080").unwrap(),
        "http://127.0.0.1:8080"
    );
    assert!(normal_origin("vigil.example.org").is_err());
    assert!(normal_origin("https://vigil.example.org/path").is_err());
    assert!(normal_origin("ftp://vigil.example.org").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_behind_tls_or_on_every_address_needs_the_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn vigil_store::Store> = std::sync::Arc::new(
        vigil_store::sqlite::SqliteStore::open(
            &dir.path().join("vigil.sqlite"),
            vigil_ledger::LogSigner::generate(),
        )
        .unwrap(),
    );
    for (addr, secure) in [("0.0.0.0:0", false), ("127.0.0.1:0", true)] {
        let config = vigil_web::Config {
            secure_cookies: secure,
            ..vigil_web::Config::default()
        };
        let e = vigil_web::serve(
            std::sync::Arc::clone(&store),
            addr.parse().unwrap(),
            config,
            |_| panic!("must not start"),
            async {},
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("--public-url"), "{e}");
    }
}
