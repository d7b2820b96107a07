//! The web service over real HTTP for tests: a temporary SQLite store with
//! one agency of every kind and one account for every role that fits each
//! agency (the demo accounts), served on 127.0.0.1:0 with a clock the test
//! sets, and a client with its own cookie jar per user.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};
use uuid::Uuid;
use vigil_ledger::LogSigner;
use vigil_model::codes::AgencyKind;
use vigil_store::sqlite::SqliteStore;
use vigil_store::Store;
use vigil_web::users;
use vigil_web::{AppState, Config};

pub const PASSWORD: &str = "correct horse battery staple";

/// The agencies every test store has: code, name, kind.
pub const AGENCIES: &[(&str, &str, AgencyKind)] = &[
    ("northshire-police", "Northshire Police", AgencyKind::Police),
    (
        "northshire-childrens-services",
        "Northshire Children's Services",
        AgencyKind::SocialCare,
    ),
    (
        "northshire-health",
        "Northshire Health Trust",
        AgencyKind::Health,
    ),
    (
        "oakfield-academy",
        "Oakfield Academy",
        AgencyKind::Education,
    ),
    (
        "riverside-youth-project",
        "Riverside Youth Project",
        AgencyKind::YouthService,
    ),
    (
        "northshire-licensing",
        "Northshire Council Licensing",
        AgencyKind::Licensing,
    ),
    ("home-office", "Home Office", AgencyKind::Government),
    ("community-group", "Community Group", AgencyKind::Other),
];

pub struct TestApp {
    pub base: String,
    pub state: Arc<AppState>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<Mutex<DateTime<Utc>>>,
    pub accounts: Vec<users::DemoAccount>,
    _dir: tempfile::TempDir,
    _schema: Option<vigil_store::postgres::ScratchSchema>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Dropping a PostgreSQL schema uses the blocking client, which must
        // not run on the async threads.
        if let Some(schema) = self._schema.take() {
            let _ = std::thread::spawn(move || drop(schema)).join();
        }
    }
}

/// One agency of every kind, the demo accounts, and a second referrer at
/// the school (for "another referrer's referral").
fn setup(store: &dyn Store, now: DateTime<Utc>) -> Vec<users::DemoAccount> {
    for (code, name, kind) in AGENCIES {
        users::register_agency(store, code, name, *kind, now).unwrap();
    }
    let accounts = users::create_demo_accounts(store, PASSWORD).unwrap();
    let school = store
        .entities_changed_since(&[vigil_model::EntityKind::Agency], None)
        .unwrap()
        .into_iter()
        .find(|a| {
            a.as_kind::<vigil_model::state::AgencyState>()
                .is_some_and(|s| s.code.as_str() == "oakfield-academy")
        })
        .unwrap()
        .id;
    users::create_account(
        store,
        &users::Granter::operator(),
        &users::NewAccount {
            username: "second.teacher".into(),
            name: "Sam Second".into(),
            role: vigil_model::codes::Role::Referrer,
            agency_id: school,
        },
        PASSWORD,
        false,
        now,
    )
    .unwrap();
    accounts
}

/// Monday 2 June 2025, 10:00 UK time: the default "now" of the tests.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 9, 0, 0).unwrap()
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_at(monday_morning()).await
    }

    pub async fn start_at(now: DateTime<Utc>) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("vigil.sqlite"), LogSigner::generate()).unwrap(),
        );
        Self::start_on(store, dir, None, now).await
    }

    /// The same over PostgreSQL, when `VIGIL_TEST_POSTGRES_URL` names a
    /// database (None otherwise, after saying so).
    pub async fn start_postgres() -> Option<TestApp> {
        let Some(base) = std::env::var("VIGIL_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("PostgreSQL web test skipped: VIGIL_TEST_POSTGRES_URL is not set");
            return None;
        };
        // The PostgreSQL client must not run on the async threads.
        let (schema, store) = tokio::task::spawn_blocking(move || {
            let schema =
                vigil_store::postgres::ScratchSchema::new(&base, "vigil_web_test").unwrap();
            let url = vigil_store::DatabaseUrl::Postgres(schema.url().to_owned());
            let store: Arc<dyn Store> =
                Arc::from(vigil_store::open(&url, LogSigner::generate()).unwrap());
            (schema, store)
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        Some(Self::start_on(store, dir, Some(schema), monday_morning()).await)
    }

    async fn start_on(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        schema: Option<vigil_store::postgres::ScratchSchema>,
        now: DateTime<Utc>,
    ) -> TestApp {
        let config = Config {
            secure_cookies: false,
            escalation_check_seconds: 3600,
            trust_forwarded_for: false,
            ..Config::default()
        };
        Self::start_with(store, dir, schema, now, config).await
    }

    /// [`TestApp::start`] with a configuration of the test's own.
    pub async fn start_with_config(config: Config) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("vigil.sqlite"), LogSigner::generate()).unwrap(),
        );
        Self::start_with(store, dir, None, monday_morning(), config).await
    }

    async fn start_with(
        store: Arc<dyn Store>,
        dir: tempfile::TempDir,
        schema: Option<vigil_store::postgres::ScratchSchema>,
        now: DateTime<Utc>,
        config: Config,
    ) -> TestApp {
        let s = Arc::clone(&store);
        let accounts = tokio::task::spawn_blocking(move || setup(s.as_ref(), now))
            .await
            .unwrap();
        let clock = Arc::new(Mutex::new(now));
        let c = Arc::clone(&clock);
        let state = vigil_web::app_state(
            Arc::clone(&store),
            config,
            Arc::new(move || *c.lock().unwrap()),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            vigil_web::serve_listener(listener, st, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            base,
            state,
            store,
            clock,
            accounts,
            _dir: dir,
            _schema: schema,
            _shutdown: tx,
        }
    }

    pub fn set_now(&self, t: DateTime<Utc>) {
        *self.clock.lock().unwrap() = t;
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            csrf: String::new(),
        }
    }

    /// A client signed in as `username` (with the tests' password).
    /// Runs SQL on the test's database itself, not through the store (to
    /// make a table fail): `sqlite` on SQLite, `postgres` on PostgreSQL.
    #[allow(dead_code)]
    pub fn sql(&self, sqlite: &str, postgres: &str) {
        match &self._schema {
            Some(schema) => {
                let (url, sql) = (schema.url().to_owned(), postgres.to_owned());
                // The blocking client must not run on the async threads.
                std::thread::spawn(move || {
                    vigil_store::postgres::raw_client(&url)
                        .unwrap()
                        .batch_execute(&sql)
                        .unwrap()
                })
                .join()
                .unwrap();
            }
            None => rusqlite::Connection::open(self._dir.path().join("vigil.sqlite"))
                .unwrap()
                .execute_batch(sqlite)
                .unwrap(),
        }
    }

    pub async fn login(&self, username: &str) -> Client {
        let mut c = self.client();
        let r = c.sign_in(username, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{username} could not sign in: {}",
            r.body
        );
        c.refresh_csrf().await;
        c
    }

    /// The demo account for a role at an agency.
    pub fn username(&self, role: &str, agency: &str) -> String {
        self.accounts
            .iter()
            .find(|a| a.role.code() == role && a.agency_code == agency)
            .unwrap_or_else(|| panic!("no {role} account at {agency}"))
            .username
            .clone()
    }

    /// Every event kind in the log, in order. Callable from a test's async
    /// body: the PostgreSQL client blocks, so it runs off the async threads.
    /// The child a referral is about (read off the async threads: the
    /// PostgreSQL client blocks).
    pub fn child_of_referral(&self, referral: uuid::Uuid) -> uuid::Uuid {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.store
                    .entity(referral)
                    .unwrap()
                    .unwrap()
                    .as_kind::<vigil_model::state::ReferralState>()
                    .unwrap()
                    .child_id
            })
            .join()
            .unwrap()
        })
    }

    pub fn kinds(&self) -> Vec<String> {
        tokio::task::block_in_place(|| {
            let mut out = Vec::new();
            self.store
                .for_each_entry(0, &mut |e| {
                    let h: serde_json::Value = serde_json::from_str(&e.header_json).unwrap();
                    out.push(h["kind"].as_str().unwrap().to_owned());
                    Ok(())
                })
                .unwrap();
            out
        })
    }
}

pub struct Response {
    pub status: StatusCode,
    pub location: String,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    /// The anti-forgery token of this client's session (from the last page read).
    pub csrf: String,
}

/// The value of a hidden input on a page.
pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker)? + marker.len();
    let j = body[i..].find('"')? + i;
    Some(body[i..j].to_owned())
}

impl Client {
    async fn wrap(r: reqwest::Response) -> Response {
        let status = r.status();
        let headers = r.headers().clone();
        let location = headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = r.text().await.unwrap_or_default();
        Response {
            status,
            location,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        Self::wrap(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn request(&self, method: reqwest::Method, path: &str) -> Response {
        Self::wrap(
            self.http
                .request(method, format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POSTs a form as given (no token added).
    pub async fn post_raw(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let body = serde_urlencoded::to_string(pairs).unwrap();
        self.post_body(path, body).await
    }

    pub async fn post_body(&self, path: &str, body: String) -> Response {
        Self::wrap(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POSTs a form with this session's anti-forgery token.
    pub async fn post(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(pairs);
        self.post_raw(path, &all).await
    }

    pub async fn sign_in(&mut self, username: &str, password: &str) -> Response {
        let page = self.get("/login").await;
        let nonce = hidden(&page.body, "nonce").expect("the sign-in form has a nonce");
        self.post_raw(
            "/login",
            &[
                ("nonce", &nonce),
                ("next", "/"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Reads the session's anti-forgery token from a page that has forms.
    pub async fn refresh_csrf(&mut self) {
        let page = self.get("/account/password").await;
        self.csrf = hidden(&page.body, "csrf").unwrap_or_default();
    }
}

/// A complete, valid referral form.
pub fn referral_form() -> Vec<(&'static str, String)> {
    vec![
        ("immediate_danger", "no".into()),
        ("child_given", "Jade".into()),
        ("child_family", "Example".into()),
        ("dob_day", "14".into()),
        ("dob_month", "3".into()),
        ("dob_year", "2010".into()),
        (
            "concern",
            "Seen getting into cars with older men after school.".into(),
        ),
        ("when_month", "5".into()),
        ("when_year", "2025".into()),
    ]
}

/// Submits a referral as `c`; returns its id (from the receipt's address).
pub async fn submit_referral(c: &Client, form: &[(&str, String)]) -> Uuid {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = c.post("/referrals/new", &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = r
        .location
        .strip_prefix("/referrals/")
        .and_then(|s| s.split('/').next())
        .unwrap();
    Uuid::parse_str(id).unwrap()
}

/// A test on SQLite, and on PostgreSQL when `VIGIL_TEST_POSTGRES_URL` is
/// set: `on_both_backends!(body: sqlite_name, postgres_name)` runs
/// `async fn body(app: &TestApp)` once on each.
#[macro_export]
macro_rules! on_both_backends {
    ($body:ident: $sqlite:ident, $postgres:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $body(&$crate::common::TestApp::start().await).await
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            if let Some(app) = $crate::common::TestApp::start_postgres().await {
                $body(&app).await
            }
        }
    };
}
