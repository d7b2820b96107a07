//! Slow and many connections (slowloris): connections that never finish
//! their headers are closed after the header timeout, and when the
//! connection limit is reached `/healthz` still answers. The big numbers
//! (20,000 connections) are `vigil bench slowloris`; these are small.

mod common;

use common::TestApp;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vigil_web::{Config, ServerLimits};

fn config(limits: ServerLimits) -> Config {
    Config {
        secure_cookies: false,
        escalation_check_seconds: 3600,
        limits,
        ..Config::default()
    }
}

/// A connection that starts a request and never finishes its headers.
async fn half_open(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigil\r\nX-Slow: ")
        .await
        .unwrap();
    s
}

/// Whether the server closed `s` within `within` (end of stream or a reset).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 page before closing is fine too: keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn healthz_time(base: &str) -> Duration {
    let t = Instant::now();
    let r = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answers");
    assert!(r.status().is_success());
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_finish_their_headers_are_closed() {
    let app = TestApp::start_with_config(config(ServerLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    }))
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conns = Vec::new();
    for _ in 0..50 {
        conns.push(half_open(&addr).await);
    }
    // And connections that send nothing at all.
    for _ in 0..10 {
        conns.push(TcpStream::connect(&addr).await.unwrap());
    }
    for (i, c) in conns.iter_mut().enumerate() {
        assert!(
            closed_within(c, Duration::from_secs(3)).await,
            "half-open connection {i} is still open"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_when_the_connection_limit_is_reached() {
    let app = TestApp::start_with_config(config(ServerLimits {
        max_connections: 20,
        ..ServerLimits::default()
    }))
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conns = Vec::new();
    for _ in 0..40 {
        conns.push(half_open(&addr).await);
    }
    for _ in 0..5 {
        let t = healthz_time(&app.base).await;
        assert!(t < Duration::from_secs(1), "/healthz took {t:?}");
    }
    // The oldest half-open connections made room.
    assert!(closed_within(&mut conns[0], Duration::from_secs(1)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_given_up() {
    let app = TestApp::start_with_config(config(ServerLimits {
        body_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    }))
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
        .await
        .expect("the server answers a body that stops arriving")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 4"), "{head}");
}
