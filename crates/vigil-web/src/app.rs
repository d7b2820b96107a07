//! The service's shared state: the application layer ([`vigil_app::App`],
//! which alone reads the store) and what only the web needs (configuration,
//! the sign-in dummy hash, the referral rate limit, the allowed origins).

use crate::error::WebError;
use crate::html::{Chrome, ChromeUser, NavLink};
use std::ops::Deref;
use std::sync::Arc;
use vigil_app::access::Action;
use vigil_app::{App, Caller};

pub use vigil_app::{system_clock, Clock};

/// How the service is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark cookies `Secure` (and use `__Host-` names). True unless the
    /// service listens only on a loopback address over plain HTTP; behind a
    /// TLS-terminating proxy it must be true.
    pub secure_cookies: bool,
    /// How often the server checks for overdue referrals to escalate, in seconds.
    pub escalation_check_seconds: u64,
    /// Take the client's address for sign-in throttling from the last entry
    /// of `X-Forwarded-For` (only behind a proxy that sets it; otherwise a
    /// client could choose its own address).
    pub trust_forwarded_for: bool,
    /// Referrals one account may send in any minute ([`crate::limit`]).
    pub referrals_per_minute: usize,
    /// The origin people's browsers use for Vigil (`https://vigil.example.org`):
    /// a POST whose `Origin` header names anything else is refused. When
    /// None, it is worked out from the address served on, which works only
    /// over plain HTTP (`http://127.0.0.1:8080`); behind a TLS-terminating
    /// proxy it must be given (`vigil serve --public-url`).
    pub public_origin: Option<String>,
    /// Timeouts and the connection limit (slow or too many connections).
    pub limits: ServerLimits,
    /// The matching model to score possible existing records with (the
    /// fitted model in `DATA/link-model.json`); None: the interim one.
    pub scorer: Option<std::sync::Arc<vigil_app::score::Scorer>>,
    /// Where a newer fitted model may appear while the server runs (`vigil
    /// link` refitting on the store): asked on every background round, and
    /// a model it returns is used from the next request on.
    pub model_watch: Option<ModelWatch>,
    /// Who to call outside office hours, shown on the referral form and
    /// its receipt (`DATA/front-door.json`; see [`OutOfHours`]).
    pub out_of_hours: OutOfHours,
    /// The alert rule file, read again on each background round when it
    /// changes (`vigil_rules::alerts::RuleFile`); None or absent: the
    /// shipped defaults.
    pub alert_rules_file: Option<std::path::PathBuf>,
}

/// The out-of-hours service a referrer calls when the front door is closed
/// and a child is at risk tonight: a partnership's own number, set in the
/// data directory's `front-door.json`
/// (`{"out_of_hours": {"name": "...", "phone": "..."}}`). The default is a
/// synthetic number (Ofcom's drama range), never a real service's.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutOfHours {
    /// The service, in words ("Northshire emergency duty team").
    pub name: String,
    /// Its phone number, as people dial it.
    pub phone: String,
}

impl Default for OutOfHours {
    fn default() -> Self {
        OutOfHours {
            name: "The emergency duty team (out of hours)".into(),
            phone: "01632 960 999".into(),
        }
    }
}

impl OutOfHours {
    /// Reads `{"out_of_hours": {"name", "phone"}}`, refusing with a
    /// sentence anything else: unknown fields, an empty name, a phone
    /// number the model would not accept.
    pub fn from_json(text: &str) -> Result<OutOfHours, String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            out_of_hours: OutOfHours,
        }
        let f: File = serde_json::from_str(text).map_err(|e| {
            format!(
                "it is not {{\"out_of_hours\": {{\"name\": \"...\", \"phone\": \"...\"}}}}: {e}"
            )
        })?;
        let o = f.out_of_hours;
        vigil_model::text::check_line("the out-of-hours service's name", &o.name, 200)
            .map_err(|e| e.to_string())?;
        vigil_model::pole::check_phone_number(&o.phone).map_err(|e| e.to_string())?;
        Ok(o)
    }
}

/// Asks whether a newer matching model is there: `Some` with it when the
/// source changed since the last ask (and holds a model), `None` otherwise.
/// Called off the async threads, so it may read files.
#[derive(Clone)]
pub struct ModelWatch(
    pub std::sync::Arc<dyn Fn() -> Option<std::sync::Arc<vigil_app::score::Scorer>> + Send + Sync>,
);

impl std::fmt::Debug for ModelWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelWatch")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: true,
            escalation_check_seconds: 60,
            trust_forwarded_for: false,
            referrals_per_minute: crate::limit::REFERRALS_PER_MINUTE,
            public_origin: None,
            limits: ServerLimits::default(),
            scorer: None,
            model_watch: None,
            out_of_hours: OutOfHours::default(),
            alert_rules_file: None,
        }
    }
}

/// What keeps the server answering when connections are slow (a client
/// that never finishes its headers or body) or too many.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// From a connection's first byte of a request to the end of its headers.
    pub header_read_timeout: std::time::Duration,
    /// From the end of the headers to the end of the body.
    pub body_read_timeout: std::time::Duration,
    /// From the end of the headers to the response (a handler, the database).
    pub request_timeout: std::time::Duration,
    /// Open connections at most (0: as many as the process's file
    /// descriptor limit allows after [`crate::FD_RESERVE`]). At the limit, a
    /// new connection closes the oldest one with no request under way.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: std::time::Duration::from_secs(10),
            body_read_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            max_connections: 0,
        }
    }
}

/// Everything handlers share.
pub struct AppState {
    pub app: Arc<App>,
    pub config: Config,
    /// Checked against when a username is unknown, so refusals take as long.
    pub dummy_hash: String,
    /// Referrals each account sent in the last minute (see [`crate::limit`]).
    pub referral_limit: crate::limit::SlidingWindow,
    /// The origins POSTs may come from ([`crate::public_origins`]), set when
    /// serving starts. Unset, every POST that names an origin is refused.
    pub public_origins: std::sync::OnceLock<Vec<String>>,
}

/// Handlers reach the application layer's clock and rules through the state.
impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// A signed-in user on this request: the application layer's [`Caller`]
/// and what the session adds.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub caller: Caller,
    pub csrf: String,
    pub token_sha256: [u8; 32],
    /// Signed in with a temporary password: may only change it.
    pub restricted: bool,
}

impl Deref for SignedIn {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl AppState {
    /// Runs blocking work of the web's own (sessions, sign-in) off the
    /// async threads.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&AppState) -> Result<T, WebError> + Send + 'static,
    ) -> Result<T, WebError> {
        let st = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&st)).await?
    }

    /// The frame of a page for a signed-in user: title, who, and the menu of
    /// what their role may do (from the access table).
    pub fn chrome(&self, who: &SignedIn, title: &str, current: &str) -> Chrome {
        let mut nav = Vec::new();
        let mut link = |href: &str, label: &str, action: Action| {
            if who.may(action) && !who.restricted {
                nav.push(NavLink::new(href, label, current == href));
            }
        };
        link("/", "Home", Action::ListOwnReferrals);
        link("/referrals/new", "Raise a concern", Action::SubmitReferral);
        link("/referrals/mine", "My referrals", Action::ListOwnReferrals);
        link("/search", "Find a person", Action::ViewPerson);
        link("/triage", "Triage queue", Action::ViewTriageQueue);
        link("/overdue", "Overdue", Action::ViewOverdue);
        link(
            "/overdue/interviews",
            "Overdue interviews",
            Action::ViewOverdue,
        );
        link("/alerts", "Alerts", Action::ViewAlerts);
        link("/actions/mine", "My actions", Action::ManageCase);
        link("/overdue/actions", "Overdue actions", Action::ViewOverdue);
        link("/meetings", "Meetings", Action::ViewMeetings);
        link("/links/review", "Possible matches", Action::ReviewLinks);
        link("/audit", "Access log", Action::ViewAccessLog);
        link("/reports/language", "Wording", Action::ViewLanguageReport);
        link("/admin/users", "Accounts", Action::ViewUsers);
        if nav.first().map(|n| n.href.as_str()) != Some("/") && !who.restricted {
            nav.insert(0, NavLink::new("/", "Home", current == "/"));
        }
        if who.may(Action::ViewOverdue) {
            let overdue = self.overdue_count();
            if let Some(n) = nav.iter_mut().find(|n| n.href == "/overdue") {
                n.set_count(overdue, "overdue");
            }
        }
        Chrome {
            title: title.to_owned(),
            has_errors: false,
            user: Some(ChromeUser {
                name: who.user.name.clone(),
                role: who.user.role.label().to_owned(),
                agency: who.agency_name.clone(),
            }),
            nav,
            csrf: who.csrf.clone(),
        }
    }
}
