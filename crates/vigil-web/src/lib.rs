//! `vigil-web`: the web service people use. Server-rendered HTML that works
//! without JavaScript, on axum.
//!
//! What it does, and where:
//! - [`access`]: the one table of who may see and do what, and
//!   [`access::authorise`], which every handler calls;
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
//! - [`pages`]: the handlers; [`html`]: the templates (templates/).
//!
//! The store is synchronous, so handlers call it through
//! [`app::AppState::blocking`] (the PostgreSQL client must not run on an
//! async thread). Static files and templates are compiled into the binary.

pub mod access;
pub mod app;
pub mod auth;
pub mod bench;
pub mod candidates;
pub mod display;
pub mod error;
pub mod form;
pub mod html;
pub mod intake;
pub mod pages;
pub mod queue;
pub mod readmodel;
pub mod reference;
pub mod session;
pub mod signin;
pub mod users;
pub mod writer;

pub use app::{system_clock, AppState, Clock, Config};
pub use error::WebError;
pub use users::{bootstrap_admin, create_demo_accounts, Bootstrap, DemoAccount};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use pages::{account, admin, assets, audit, home, people, referrals, triage};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use vigil_rules::{DeadlineRules, EscalationPolicy};
use vigil_store::Store;

/// Largest request body accepted: far more than any form needs, far less
/// than would hurt the server.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The service's state over a store.
pub fn app_state(store: Arc<dyn Store>, config: Config, clock: Clock) -> Arc<AppState> {
    Arc::new(AppState {
        writers: writer::Writers::start(Arc::clone(&store)),
        store,
        config,
        clock,
        mirror: readmodel::Mirror::default(),
        rules: DeadlineRules::standard().clone(),
        policy: EscalationPolicy::default(),
        dummy_hash: auth::dummy_hash(),
    })
}

/// Every route. Anything not listed is 404, and a listed path with another
/// method (DELETE, PUT, ...) is 405: nothing deletes a referral.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route(
            "/referrals/new",
            get(referrals::new_form).post(referrals::submit),
        )
        .route("/referrals/mine", get(referrals::mine))
        .route("/referrals/{id}", get(referrals::view))
        .route("/referrals/{id}/receipt", get(referrals::receipt))
        .route("/referrals/{id}/receipt.json", get(referrals::receipt_file))
        .route(
            "/referrals/{id}/decide",
            get(referrals::decide_form).post(referrals::decide),
        )
        .route("/triage", get(triage::triage))
        .route("/overdue", get(triage::overdue))
        .route("/people/{id}", get(people::person))
        .route("/audit", get(audit::audit))
        .route("/admin/users", get(admin::list))
        .route("/admin/users/new", get(admin::new_form).post(admin::create))
        .route("/admin/users/{username}", get(admin::show))
        .route("/admin/users/{username}/role", post(admin::change_role))
        .route("/admin/users/{username}/reset", post(admin::reset))
        .route("/admin/users/{username}/disable", post(admin::disable))
        .route("/static/vigil.css", get(assets::css))
        .route("/static/vigil.js", get(assets::js))
        .route("/log-key.pub", get(assets::log_key))
        .route("/healthz", get(assets::health))
        .fallback(account::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            security_headers,
        ))
        .with_state(state)
}

/// Whether a POST's `Origin` (when the browser sends one) is this site.
fn same_origin(req: &Request) -> bool {
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
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        == Some(host)
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
    if req.method() == Method::POST && !same_origin(&req) {
        return WebError::Csrf.into_response();
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
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

/// Anchors the access log in the ledger: records `access_log.checkpointed`
/// with its current length and last hash, if it has grown since the last
/// anchor. Afterwards, cutting rows off the end of the access log is found
/// by `vigil verify` like any other change. Returns the rows anchored.
pub async fn checkpoint_access_log(st: &Arc<AppState>) -> Result<Option<u64>, WebError> {
    use vigil_model::payload::{access_log_id, AccessLogCheckpointed};
    let draft = st
        .blocking(|st| {
            let Some((seq, hash)) = vigil_store::accounts::access_head(st.store.as_ref())? else {
                return Ok(None);
            };
            let rows = seq + 1;
            let anchored = st
                .store
                .entity(access_log_id())?
                .and_then(|e| e.state.get("rows").and_then(|r| r.as_u64()))
                .unwrap_or(0);
            if rows <= anchored {
                return Ok(None);
            }
            let (actor, agency) = queue::system_actor();
            let now = st.now();
            let body = vigil_model::EventPayload::AccessLogCheckpointed(AccessLogCheckpointed {
                rows,
                head_sha256: hex::encode(hash),
            });
            intake::prepare(
                &actor,
                &agency,
                vigil_model::OccurredAt::exact(now),
                body,
                now,
            )
            .map(|d| Some((rows, d)))
            .map_err(WebError::Internal)
        })
        .await?;
    let Some((rows, draft)) = draft else {
        return Ok(None);
    };
    match st.append(vec![draft]).await?.into_iter().next() {
        Some(Ok(_)) => Ok(Some(rows)),
        // Another server anchored as far or further first.
        Some(Err(_)) | None => Ok(None),
    }
}

/// Starts the periodic check that escalates overdue referrals even when
/// nobody opens the queue, anchors the access log in the ledger, and
/// forgets expired sessions.
fn start_background(state: &Arc<AppState>) -> tokio::task::JoinHandle<()> {
    let st = Arc::clone(state);
    tokio::spawn(async move {
        let every = Duration::from_secs(st.config.escalation_check_seconds.max(1));
        loop {
            if let Err(e) = pages::triage::escalate(&st).await {
                eprintln!("vigil-web: the overdue check failed: {e}");
            }
            if let Err(e) = checkpoint_access_log(&st).await {
                eprintln!("vigil-web: anchoring the access log failed: {e}");
            }
            let now = st.now().timestamp_millis();
            let r = st
                .blocking(move |st| {
                    Ok(st
                        .store
                        .purge_expired(now, now - auth::WINDOW_MINUTES * 120_000)?)
                })
                .await;
            if let Err(e) = r {
                eprintln!("vigil-web: forgetting expired sessions failed: {e}");
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Serves on an already bound listener until `shutdown` completes.
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = start_background(&state);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    background.abort();
    r
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
    on_bound(listener.local_addr()?);
    let state = app_state(store, config, system_clock());
    serve_listener(listener, state, shutdown).await
}
