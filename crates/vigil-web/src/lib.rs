//! `vigil-web`: the web service people use. Server-rendered HTML that works
//! without JavaScript, on axum.
//!
//! What it does, and where:
//! - [`access`]: the one table of who may see and do what, and
//!   [`access::authorise`]; [`guard`]: the only way to person-level data
//!   (authorised and access-logged by construction); [`routes`]: every
//!   route with its action;
//! - [`auth`], [`session`]: Argon2id passwords, sessions (only a SHA-256 of
//!   each token is stored), anti-forgery tokens, sign-in throttling;
//! - [`intake`]: the referral form, checked field by field, and the events it
//!   becomes; [`reference`]: the human reference (`REF-7K3M-9Q2P`);
//! - [`queue`]: the triage queue with working-day deadlines (vigil-rules) and
//!   the escalations it records; [`candidates`]: possible existing records;
//! - [`readmodel`]: in-memory mirrors of the projections the pages list,
//!   kept current by asking the store what changed;
//! - [`writer`]: group commit for events and access-log rows;
//! - [`users`]: accounts (events in the log; password hashes beside it), the
//!   first administrator, demo accounts;
//! - [`pages`]: the handlers; [`html`]: the templates (templates/);
//!   [`form`]: forms, read only through the [`form::CsrfForm`] extractor;
//!   [`limit`]: referrals per account per minute.
//!
//! The store is synchronous, so handlers call it through
//! [`app::AppState::blocking`] (the PostgreSQL client must not run on an
//! async thread). Static files and templates are compiled into the binary.

pub mod app;
pub mod bench;
mod connections;
pub mod error;
pub mod form;
pub mod held;
pub mod html;
pub mod intake;
pub mod limit;
pub mod missing_chart;
pub mod pages;
mod resources;
pub mod risk_chart;
pub mod routes;
pub mod session;
pub mod signin;
pub mod timeline;
pub mod waterfall;

pub use app::{system_clock, AppState, Clock, Config, ModelWatch, OutOfHours, ServerLimits};
// The application layer's modules, under the names the handlers use.
pub use error::WebError;
pub use resources::raise_fd_limit;
pub use users::{bootstrap_admin, create_demo_accounts, Bootstrap, DemoAccount};
pub use vigil_app::{
    access, auth, candidates, display, guard, queue, readmodel, reference, users, writer,
};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use pages::account;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use vigil_store::Store;

/// Largest request body accepted: far more than any form needs, far less
/// than would hurt the server.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// File descriptors kept back from connections, for the database, the
/// data directory and the sockets the server opens itself.
pub const FD_RESERVE: usize = 256;

/// The service's state over a store.
pub fn app_state(store: Arc<dyn Store>, config: Config, clock: Clock) -> Arc<AppState> {
    let referral_limit = limit::SlidingWindow::new(config.referrals_per_minute, 60_000);
    let app = vigil_app::App::new(store, clock);
    if let Some(scorer) = &config.scorer {
        app.use_scorer(Arc::clone(scorer));
    }
    Arc::new(AppState {
        app: Arc::new(app),
        config,
        dummy_hash: auth::dummy_hash(),
        referral_limit,
        public_origins: std::sync::OnceLock::new(),
    })
}

/// The service's router: every route of [`routes::ROUTES`], and 404 for
/// anything else.
pub fn router(state: Arc<AppState>) -> Router {
    routes::ROUTES
        .iter()
        .fold(Router::new(), |r, route| {
            r.route(route.path, route.handler())
        })
        .fallback(account::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            security_headers,
        ))
        .with_state(state)
}

/// Whether a POST's `Origin` (when the browser sends one) is this site:
/// scheme, host and port compared with the configured public origin, never
/// with the request's own `Host` header (which the sender chooses).
fn same_origin(req: &Request, public: &[String]) -> bool {
    // "null" is what a browser sends when it will not say (privacy
    // settings); the anti-forgery token still decides.
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| *o != "null")
    else {
        return true;
    };
    normal_origin(origin).is_ok_and(|o| public.contains(&o))
}

/// An origin in the form compared: `scheme://host[:port]`, lower case, the
/// scheme's default port left out, no path. Refuses anything else with a
/// sentence (for `--public-url`).
pub fn normal_origin(url: &str) -> Result<String, String> {
    let bad =
        || format!("'{url}' is not the address of a site; write it like https://vigil.example.org");
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return Err(bad()),
    };
    let host = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !ok {
        return Err(bad());
    }
    let host = host.strip_suffix(default_port).unwrap_or(&host);
    Ok(format!("{scheme}://{host}"))
}

/// The origins to compare POSTs with: the configured one, or over plain
/// HTTP the address served on (and, on a loopback address, the same port as
/// `localhost`, which people type: only this machine can reach either).
/// Behind TLS the address served on is the proxy's back door, not what
/// browsers use, so it must be configured.
pub fn public_origins(config: &Config, bound: SocketAddr) -> std::io::Result<Vec<String>> {
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
    if let Some(o) = &config.public_origin {
        return Ok(vec![normal_origin(o).map_err(invalid)?]);
    }
    if config.secure_cookies {
        return Err(invalid(format!(
            "give --public-url, the address people's browsers use for Vigil (like https://vigil.example.org): with secure cookies Vigil is behind TLS, and {bound} is not that address"
        )));
    }
    if bound.ip().is_unspecified() {
        return Err(invalid(format!(
            "give --public-url, the address people's browsers use for Vigil: {bound} listens on every address, so Vigil cannot tell which one they use"
        )));
    }
    let mut out = vec![normal_origin(&format!("http://{bound}")).map_err(invalid)?];
    if bound.ip().is_loopback() {
        out.push(format!("http://localhost:{}", bound.port()));
    }
    Ok(out)
}

/// Headers on every response: a strict content security policy (scripts,
/// styles and forms from this site only; no framing), no caching of pages
/// about children, no referrer leaving the site (addresses hold record
/// ids; within the site it is kept, so browsers send a real `Origin`). Also refuses a POST from another site's page outright (the
/// anti-forgery token would refuse it too).
async fn security_headers(
    axum::extract::State(st): axum::extract::State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::POST
        && !same_origin(&req, st.public_origins.get().map_or(&[], Vec::as_slice))
    {
        return WebError::Csrf.into_response();
    }
    let cookies = if req.headers().contains_key(header::COOKIE) {
        let mut h = axum::http::HeaderMap::new();
        for v in req.headers().get_all(header::COOKIE) {
            h.append(header::COOKIE, v.clone());
        }
        Some(h)
    } else {
        None
    };
    let mut r = next.run(req).await;
    if let Some(cookies) = cookies {
        r = pages::with_chrome(&st, cookies, r).await;
    }
    let busy = r.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE;
    let h = r.headers_mut();
    if busy && !h.contains_key(header::RETRY_AFTER) {
        // Busy hashing, or the database: a few seconds is enough either way.
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    if st.config.secure_cookies {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    r
}

/// Anchors the access log in the ledger ([`vigil_app::App::checkpoint_access_log`]).
pub async fn checkpoint_access_log(st: &Arc<AppState>) -> Result<Option<u64>, WebError> {
    Ok(st.app.checkpoint_access_log().await?)
}

/// Starts the periodic check: the alert rules runner (which also records
/// the escalations of overdue referrals, whether or not anyone opens the
/// queue), anchoring the access log in the ledger, and forgetting expired
/// sessions.
fn start_background(state: &Arc<AppState>) -> tokio::task::JoinHandle<()> {
    let st = Arc::clone(state);
    tokio::spawn(async move {
        let every = Duration::from_secs(st.config.escalation_check_seconds.max(1));
        let mut rules_changed: Option<std::time::SystemTime> = None;
        loop {
            if let Some(path) = st.config.alert_rules_file.clone() {
                reload_alert_rules(&st, &path, &mut rules_changed).await;
            }
            // Catch up with the log (a step reads a bounded number of entries).
            for _ in 0..100 {
                match st.app.run_alerts().await {
                    Ok(s) if s.read >= vigil_app::alerts::STEP_ENTRIES => continue,
                    Ok(_) => break,
                    Err(e) => {
                        eprintln!("vigil-web: the alert rules could not run: {e}");
                        break;
                    }
                }
            }
            if let Err(e) = checkpoint_access_log(&st).await {
                eprintln!("vigil-web: anchoring the access log failed: {e}");
            }
            let now = st.now().timestamp_millis();
            let r = st
                .blocking(move |st| {
                    Ok(st.accounts().purge_expired(
                        now - held::KEEP_ENDED_SESSION_MS,
                        now,
                        now - auth::WINDOW_MINUTES * 120_000,
                    )?)
                })
                .await;
            if let Err(e) = r {
                eprintln!("vigil-web: forgetting expired sessions failed: {e}");
            }
            if let Some(watch) = st.config.model_watch.clone() {
                match tokio::task::spawn_blocking(move || (watch.0)()).await {
                    Ok(Some(scorer)) => st.app.use_scorer(scorer),
                    Ok(None) => {}
                    Err(e) => {
                        eprintln!("vigil-web: looking for a newer matching model failed: {e}")
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// The alert rule file in a data directory.
pub const ALERT_RULES_FILE: &str = "alert-rules.toml";

/// Uses the rule file again when it has changed since `seen`; a file that
/// does not parse is reported (with its line) and the rules in use stay.
async fn reload_alert_rules(
    st: &Arc<AppState>,
    path: &std::path::Path,
    seen: &mut Option<std::time::SystemTime>,
) {
    let Ok(changed) = std::fs::metadata(path).and_then(|m| m.modified()) else {
        return;
    };
    if *seen == Some(changed) {
        return;
    }
    *seen = Some(changed);
    match std::fs::read_to_string(path).map(|t| vigil_rules::alerts::RuleFile::parse(&t)) {
        Ok(Ok(rules)) => st.app.use_alert_rules(rules),
        Ok(Err(e)) => eprintln!(
            "vigil-web: {} was not loaded ({e}); the rules in use stay",
            path.display()
        ),
        Err(e) => eprintln!("vigil-web: cannot read {}: {e}", path.display()),
    }
}

/// Serves on an already bound listener until `shutdown` completes.
///
/// The accept loop is written out (rather than `axum::serve`) for the
/// limits of [`ServerLimits`]: a header-read timeout (hyper), body-read and
/// request timeouts (tower-http), and a bound on open connections that,
/// when reached, closes the oldest connection with no request under way
/// (a client holding connections open without finishing a request, as in
/// slowloris, loses them first) so that `/healthz` and real users still get
/// in. The bound leaves [`FD_RESERVE`] file descriptors for the database
/// and the data directory. Handlers see the peer's address as
/// `ConnectInfo<SocketAddr>`, as with `into_make_service_with_connect_info`.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let origins = public_origins(&state.config, listener.local_addr()?)?;
    let _ = state.public_origins.set(origins);
    let fds = resources::raise_fd_limit();
    resources::return_large_allocations();
    let limits = state.config.limits.clone();
    let max = match limits.max_connections {
        0 => fds.saturating_sub(FD_RESERVE as u64).max(16) as usize,
        n => n,
    };
    let background = start_background(&state);
    let app = router(state)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_read_timeout,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ));
    let conns = connections::Connections::new(max);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors or a connection reset before it
                    // was accepted: wait a moment rather than spin.
                    eprintln!("vigil-web: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = conns.admit() else {
            continue; // every connection is busy: this one is closed
        };
        let app = app.clone();
        let in_flight = slot.requests();
        let svc = tower::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let app = app.clone();
            let busy = connections::Busy::start(&in_flight);
            async move {
                let r = tower::ServiceExt::oneshot(app, req.map(axum::body::Body::new)).await;
                drop(busy);
                r
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(svc),
            );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                _ = slot.evicted() => {}
            }
        });
    }
    drop(listener);
    // In-flight requests finish (idle connections close at once), for a while.
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    background.abort();
    Ok(())
}

/// The configuration `serve` uses for an address: cookies are marked
/// Secure unless the service listens only on loopback (plain HTTP on the
/// same machine, as in development and `vigil demo`).
pub fn config_for(addr: &SocketAddr) -> Config {
    Config {
        secure_cookies: !addr.ip().is_loopback(),
        ..Config::default()
    }
}

/// Serves `store` at `addr` until `shutdown` completes; `on_bound` is told
/// the address actually bound (when `addr` asks for port 0).
///
/// With PostgreSQL, keep a clone of `store` and drop the runtime before it:
/// the blocking PostgreSQL client panics if its last connection is closed
/// on an async thread (`vigil serve` does this).
pub async fn serve(
    store: Arc<dyn Store>,
    addr: SocketAddr,
    config: Config,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    public_origins(&config, listener.local_addr()?)?;
    on_bound(listener.local_addr()?);
    let state = app_state(store, config, system_clock());
    serve_listener(listener, state, shutdown).await
}
