//! `vigil bench web`: the triage queue (GET), the referral form (POST), a
//! child's record with a long chronology (GET) and search (GET) under many
//! concurrent users, over real HTTP on loopback, bounded in time.
//!
//! The server runs on its own runtime (two threads) with a fresh store: the
//! agencies, a referrer and a triage officer, and a queue of referrals
//! awaiting a decision. Each simulated user signs in with its own session
//! (cookie jar) and then, for half the time, loads the triage queue over and
//! over (each load writes an access-log row, durably), and for the other
//! half sends referrals over and over (each send writes two events durably
//! and keeps the signed receipt). Latency is measured by the client from
//! sending the request to reading the whole response.

use crate::users;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_ledger::LogSigner;
use vigil_model::codes::{AgencyKind, Role};
use vigil_store::{DatabaseUrl, Store};

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub users: usize,
    /// Measured seconds, split between the two pages.
    pub seconds: u64,
    /// Seconds of load at the start of each page's run that are not counted:
    /// a new server's first requests open database connections, fill
    /// caches and (PostgreSQL) plan statements against empty tables, which
    /// a server in service did long before.
    pub warmup: u64,
    /// Pause of each user between receiving a page and sending the next
    /// request (0: a closed loop with no pause, the harshest case).
    pub think_ms: u64,
    /// Referrals awaiting a decision before the run (what the queue page shows).
    pub queue: usize,
    /// Chronology items of the child whose record page is loaded (0: the
    /// child page is not measured).
    pub chronology: usize,
    /// Person records searched over (0: search is not measured). Each has
    /// a made-up two-word name and a date of birth.
    pub people: usize,
    /// Database (default: SQLite in a temporary directory).
    pub database: Option<String>,
    /// The pages measured, of [`PHASES`] (the others are skipped).
    pub phases: Vec<String>,
    /// SQLite only: keep the store in this directory, and reuse it when a
    /// run with the same `--queue`, `--chronology` and `--people` seeded it
    /// (seeding a million people takes many minutes).
    pub data: Option<std::path::PathBuf>,
}

/// What a kept data directory was seeded with (file `seeded` in it).
fn seeded_marker(opts: &BenchOptions) -> String {
    format!(
        "queue={} chronology={} people={}",
        opts.queue, opts.chronology, opts.people
    )
}

/// The pages `vigil bench web` can measure, in the order it measures them.
pub const PHASES: [&str; 5] = ["queue", "send", "child", "case", "search"];

/// The case opened on the bench child (its id follows from the child's,
/// so a kept store needs no second marker).
fn case_of(child: uuid::Uuid) -> uuid::Uuid {
    uuid::Uuid::from_u128(child.as_u128() ^ 0x5eed)
}

/// Events of the case on the bench child: opened, and ten actions.
const CASE_EVENTS: usize = 11;

/// Latencies of one kind of request.
#[derive(Clone, Debug)]
pub struct Figures {
    pub name: &'static str,
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Figures {
    fn from(name: &'static str, mut lat: Vec<Duration>, errors: usize, seconds: f64) -> Figures {
        lat.sort();
        let q = |p: f64| {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
            lat[i].as_secs_f64() * 1000.0
        };
        Figures {
            name,
            requests: lat.len(),
            errors,
            seconds,
            p50_ms: q(0.50),
            p90_ms: q(0.90),
            p99_ms: q(0.99),
            max_ms: lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
        }
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub users: usize,
    pub queue: usize,
    pub chronology: usize,
    pub people: usize,
    pub warmup: u64,
    pub think_ms: u64,
    pub backend: String,
    pub figures: Vec<Figures>,
    /// Events written per transaction during the submit phase (group commit).
    pub events_per_commit: f64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "web: {} concurrent users, {} referrals in the queue, a child with {} chronology items, {} person records to search, {} ({} s warm-up per page, not counted{})",
            self.users,
            self.queue,
            self.chronology,
            self.people,
            self.backend,
            self.warmup,
            if self.think_ms > 0 {
                format!("; each user pauses {} ms between requests", self.think_ms)
            } else {
                String::new()
            }
        )?;
        writeln!(
            f,
            "  {:<28} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7}",
            "page", "requests", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"
        )?;
        for x in &self.figures {
            writeln!(
                f,
                "  {:<28} {:>9} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7}",
                x.name,
                x.requests,
                x.per_second(),
                x.p50_ms,
                x.p90_ms,
                x.p99_ms,
                x.max_ms,
                x.errors
            )?;
        }
        write!(
            f,
            "  durable commits: {:.1} events per transaction while sending (group commit)",
            self.events_per_commit
        )
    }
}

const PASSWORD: &str = "bench password not for real use";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// One simulated user: a signed-in client and its anti-forgery token.
struct User {
    http: reqwest::Client,
    csrf: String,
}

fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker)? + marker.len();
    let j = body[i..].find('"')? + i;
    Some(body[i..j].to_owned())
}

/// A client with its own cookie jar that has fetched the sign-in form: the
/// client and the form's nonce (its double-submit cookie is in the jar).
async fn sign_in_form(base: &str) -> Result<(reqwest::Client, String), String> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .build()
        .map_err(err)?;
    let page = http
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    let nonce = hidden(&page, "nonce").ok_or("the sign-in page has no form token")?;
    Ok((http, nonce))
}

async fn sign_in(base: &str, username: &str) -> Result<User, String> {
    let (http, nonce) = sign_in_form(base).await?;
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("nonce", nonce.as_str()),
            ("next", "/"),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .map_err(err)?;
    if r.status() != 303 {
        return Err(format!("{username} could not sign in ({})", r.status()));
    }
    let page = http
        .get(format!("{base}/referrals/new"))
        .send()
        .await
        .map_err(err)?
        .text()
        .await
        .map_err(err)?;
    let csrf = hidden(&page, "csrf").unwrap_or_default();
    Ok(User { http, csrf })
}

fn referral_form(csrf: &str, n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("immediate_danger", "no".into()),
        ("child_given", format!("Benchchild{n}")),
        ("child_family", "Sample".into()),
        ("child_age", "14".into()),
        (
            "concern",
            "Seen getting into cars with older men after school; a new phone she will not explain."
                .into(),
        ),
        ("when_month", "5".into()),
        ("when_year", "2025".into()),
    ]
}

/// Runs `users` tasks doing `one` until `until`; returns the latencies and
/// errors of the requests started at or after `from` (the warm-up before it
/// is load, not measurement).
async fn phase<F, Fut>(
    users: &[Arc<User>],
    from: Instant,
    until: Instant,
    think: Duration,
    one: F,
) -> (Vec<Duration>, usize)
where
    F: Fn(Arc<User>, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let mut tasks = Vec::new();
    let n_users = users.len().max(1) as u32;
    for (i, u) in users.iter().enumerate() {
        let u = Arc::clone(u);
        let one = one.clone();
        // With pauses, users start spread over one pause (as people do)
        // rather than all in the same millisecond, which would make every
        // second begin with a burst of every user at once.
        let offset = think * i as u32 / n_users;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut n = 0;
            while Instant::now() < until {
                let t = Instant::now();
                let ok = one(Arc::clone(&u), i * 1_000_000 + n).await;
                let d = t.elapsed();
                if t < from {
                    // warm-up: an error still counts
                    errors += usize::from(!ok);
                } else if ok {
                    lat.push(d);
                } else {
                    errors += 1;
                }
                n += 1;
                if !think.is_zero() {
                    tokio::time::sleep(think).await;
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    (all, errors)
}

/// Appends events given as JSON (import lines), in batches, as the
/// operator: how the bench builds its child and its crowd quickly.
fn append_json(store: &dyn Store, lines: Vec<serde_json::Value>) -> Result<(), String> {
    let now = chrono::Utc::now();
    let mut drafts = Vec::with_capacity(lines.len());
    for l in lines {
        let input: vigil_model::EventInput = serde_json::from_value(l).map_err(err)?;
        drafts.push(vigil_app::events::draft(input, now)?);
    }
    for chunk in drafts.chunks(2_000) {
        let out = store.append(chunk.to_vec()).map_err(err)?;
        if let Some(Err(e)) = out.results.iter().find(|r| r.is_err()) {
            return Err(format!("a seed event was refused: {e}"));
        }
    }
    Ok(())
}

fn envelope(
    agency: &str,
    occurred: serde_json::Value,
    kind: &str,
    payload: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "actor": {"user": "bench.seed", "role": "practitioner"},
        "agency": agency,
        "occurred_at": occurred,
        "kind": kind,
        "payload": payload,
    })
}

/// A child whose chronology has `items` entries: missing episodes (each
/// reported, then returned), placements and allocated workers (each
/// started, then ended), and notes, over the years before now.
fn seed_child(store: &dyn Store, agency: &str, items: usize) -> Result<uuid::Uuid, String> {
    use serde_json::json;
    let child = uuid::Uuid::now_v7();
    let start = chrono::Utc::now() - chrono::Duration::days(6 * 365);
    let mut lines = vec![envelope(
        agency,
        json!({"value": start.format("%Y-%m-%d").to_string(), "precision": "day"}),
        "person.recorded",
        json!({"person_id": child, "names": [{"given": "Bench", "family": "Child", "kind": "birth"}],
               "date_of_birth": {"value": "2011-05-06", "precision": "day"}}),
    )];
    let mut day = 1i64;
    // The last events are the child's case: its page reads the same
    // chronology.
    let room = items.saturating_sub(CASE_EVENTS).max(1);
    while lines.len() < room {
        let t = start + chrono::Duration::days(day);
        let ts = |h: i64| {
            (t + chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let date = |d: i64| {
            (t + chrono::Duration::days(d))
                .format("%Y-%m-%d")
                .to_string()
        };
        let exact = |h: i64| json!({"value": ts(h), "precision": "exact"});
        let on = |d: i64| json!({"value": date(d), "precision": "day"});
        match day % 4 {
            0 | 1 => {
                let episode = uuid::Uuid::now_v7();
                lines.push(envelope(agency, exact(0), "missing_episode.recorded",
                    json!({"episode_id": episode, "child_id": child, "missing_type": "M", "started_at": ts(0)})));
                lines.push(envelope(agency, exact(20), "missing_episode.returned",
                    json!({"episode_id": episode, "returned_at": ts(20), "return_interview_offered": true})));
            }
            2 => {
                let placement = uuid::Uuid::now_v7();
                lines.push(envelope(agency, on(0), "placement.started",
                    json!({"placement_id": placement, "child_id": child, "placement_type": "U1", "started_on": date(0)})));
                lines.push(envelope(
                    agency,
                    on(1),
                    "placement.ended",
                    json!({"placement_id": placement, "ended_on": date(1)}),
                ));
            }
            _ => {
                let allocation = uuid::Uuid::now_v7();
                lines.push(envelope(agency, on(0), "allocation.recorded",
                    json!({"allocation_id": allocation, "child_id": child, "worker": format!("worker.{day}"), "team": "Bench team", "started_on": date(0)})));
                lines.push(envelope(
                    agency,
                    on(1),
                    "allocation.ended",
                    json!({"allocation_id": allocation, "ended_on": date(1)}),
                ));
            }
        }
        day += 2;
    }
    lines.truncate(room);
    let case = case_of(child);
    let today = chrono::Utc::now();
    lines.push(envelope(
        agency,
        json!({"value": today.format("%Y-%m-%d").to_string(), "precision": "day"}),
        "case.opened",
        json!({"case_id": case, "child_id": child, "level": "exploitation",
               "reason": "Missing often; seen with older adults.", "lead_agency": agency,
               "worker": "bench.triage", "risk": "high", "risk_reason": "Missing twice this month."}),
    ));
    for k in 0..(CASE_EVENTS - 1) as i64 {
        let due = (today + chrono::Duration::days(k - 4))
            .format("%Y-%m-%d")
            .to_string();
        lines.push(envelope(
            agency,
            json!({"value": today.format("%Y-%m-%d").to_string(), "precision": "day"}),
            "case.action_added",
            json!({"case_id": case, "action_id": uuid::Uuid::now_v7(), "text": format!("Action {k}"),
                   "owner": "bench.triage", "due": due}),
        ));
    }
    append_json(store, lines)?;
    Ok(child)
}

/// Syllables of the made-up names (no real person's name).
const SYLLABLES: [&str; 20] = [
    "ka", "ro", "mi", "ten", "va", "lu", "sor", "bel", "qui", "dra", "ne", "fo", "zu", "pel",
    "gra", "shi", "mon", "tas", "ver", "yo",
];

/// The made-up name of crowd member `i`: (given, family, date of birth).
pub fn crowd_name(i: usize) -> (String, String, String) {
    let s = |k: usize| SYLLABLES[k % SYLLABLES.len()];
    let mut given = format!("{}{}", s(i), s(i / 20));
    let mut family = format!("{}{}{}", s(i / 400), s(i / 8_000), s(i / 160_000 + i));
    for n in [&mut given, &mut family] {
        if let Some(c) = n.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
    }
    let dob = format!("{}-{:02}-{:02}", 1990 + i % 30, 1 + i % 12, 1 + i % 28);
    (given, family, dob)
}

/// `n` person records with made-up names, for search to look through.
fn seed_crowd(store: &dyn Store, agency: &str, n: usize) -> Result<(), String> {
    use serde_json::json;
    let mut lines = Vec::with_capacity(20_000);
    for i in 0..n {
        let (given, family, dob) = crowd_name(i);
        lines.push(envelope(
            agency,
            json!({"value": "2024-01-01", "precision": "day"}),
            "person.recorded",
            json!({"person_id": uuid::Uuid::now_v7(), "names": [{"given": given, "family": family, "kind": "birth"}],
                   "date_of_birth": {"value": dob, "precision": "day"}}),
        ));
        if lines.len() == 20_000 {
            append_json(store, std::mem::take(&mut lines))?;
        }
    }
    append_json(store, lines)
}

/// Loads a page as `u`: whether it came back whole with 200.
async fn loads(u: &User, url: String) -> bool {
    match u.http.get(url).send().await {
        Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// Agencies, the child, the crowd and the two accounts; the child's id.
fn seed(
    store: &dyn Store,
    opts: &BenchOptions,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<uuid::Uuid>, String> {
    let mut school = None;
    let mut front_door = None;
    for (code, name, kind) in [
        ("bench-school", "Bench Academy", AgencyKind::Education),
        (
            "bench-childrens-services",
            "Bench Children's Services",
            AgencyKind::SocialCare,
        ),
    ] {
        let id = users::register_agency(store, code, name, kind, now).map_err(err)?;
        match kind {
            AgencyKind::Education => school = Some(id),
            _ => front_door = Some(id),
        }
    }
    let child = if opts.chronology > 0 {
        Some(seed_child(
            store,
            "bench-childrens-services",
            opts.chronology,
        )?)
    } else {
        None
    };
    if opts.people > 0 {
        seed_crowd(store, "bench-childrens-services", opts.people)?;
    }
    for (username, role, agency_id) in [
        ("bench.referrer", Role::Referrer, school),
        ("bench.triage", Role::Triage, front_door),
    ] {
        users::create_account(
            store,
            &users::Granter::operator(),
            &users::NewAccount {
                username: username.into(),
                name: username.into(),
                role,
                agency_id: agency_id.ok_or("no agency")?,
            },
            PASSWORD,
            false,
            now,
        )
        .map_err(err)?;
    }

    Ok(child)
}

/// Runs the benchmark.
pub fn run(opts: &BenchOptions) -> Result<BenchReport, String> {
    let tmp = tempfile::tempdir().map_err(err)?;
    let dir = match &opts.data {
        Some(d) if opts.database.is_none() => {
            std::fs::create_dir_all(d).map_err(err)?;
            d.clone()
        }
        _ => tmp.path().to_owned(),
    };
    // The marker holds the seed options and then the child's id; a store
    // without it (or seeded otherwise) is started again.
    let marker = dir.join("seeded");
    let reused: Option<Option<uuid::Uuid>> = match std::fs::read_to_string(&marker) {
        Ok(t) if opts.data.is_some() && t.lines().next() == Some(&seeded_marker(opts)) => {
            Some(t.lines().nth(1).and_then(|l| l.parse().ok()))
        }
        _ => {
            for f in [
                "bench.sqlite",
                "bench.sqlite-wal",
                "bench.sqlite-shm",
                "seeded",
            ] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            None
        }
    };
    // PostgreSQL: a fresh scratch schema, dropped afterwards.
    let mut scratch = None;
    let url = match &opts.database {
        Some(u) => match DatabaseUrl::parse(u).map_err(err)? {
            DatabaseUrl::Postgres(base) => {
                let s = vigil_store::postgres::ScratchSchema::new(&base, "vigil_bench_web")
                    .map_err(err)?;
                let url = DatabaseUrl::Postgres(s.url().to_owned());
                scratch = Some(s);
                url
            }
            sqlite => sqlite,
        },
        None => DatabaseUrl::Sqlite(dir.join("bench.sqlite")),
    };
    let backend = match &url {
        DatabaseUrl::Sqlite(_) => "SQLite".to_owned(),
        DatabaseUrl::Postgres(_) => "PostgreSQL".to_owned(),
    };
    // A kept store keeps its log's signing key beside it.
    let key_file = dir.join("bench.key");
    let signer = match std::fs::read(&key_file) {
        Ok(b) if reused.is_some() && b.len() == 32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(&b);
            LogSigner::from_secret_bytes(&k)
        }
        _ => {
            let s = LogSigner::generate();
            if opts.data.is_some() {
                std::fs::write(&key_file, s.secret_bytes()).map_err(err)?;
            }
            s
        }
    };
    // As `vigil serve` does: every commit also writes the tree-head file.
    let head_file = vigil_store::head_file::TreeHeadFile::in_dir(&dir);
    let store: Arc<dyn Store> =
        Arc::from(vigil_store::open_with_head_file(&url, signer, head_file).map_err(err)?);
    let now = chrono::Utc::now();
    // A reused store has its queue already.
    let queue = if reused.is_some() { 0 } else { opts.queue };
    let child = match reused {
        Some(child) => child,
        None => {
            let child = seed(store.as_ref(), opts, now)?;
            if opts.data.is_some() {
                // Written last: a store whose seeding was cut short is not reused.
                let ids = child.map(|c| c.to_string()).unwrap_or_default();
                std::fs::write(&marker, format!("{}\n{ids}\n", seeded_marker(opts)))
                    .map_err(err)?;
            }
            child
        }
    };
    // The server, on its own runtime.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()
        .map_err(err)?;
    let state = crate::app_state(
        Arc::clone(&store),
        crate::Config {
            secure_cookies: false,
            escalation_check_seconds: 3600,
            trust_forwarded_for: false,
            // The bench measures the server, not a person: one account sends
            // far more than a person could.
            referrals_per_minute: usize::MAX,
            ..crate::Config::default()
        },
        crate::system_clock(),
    );
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(err)?;
    let base = format!("http://{}", listener.local_addr().map_err(err)?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(crate::serve_listener(listener, state, async {
        let _ = stopped.await;
    }));

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .map_err(err)?;
    let report = client_rt.block_on(async {
        // The queue the triage page shows.
        let seeder = sign_in(&base, "bench.referrer").await?;
        for n in 0..queue {
            let r = seeder
                .http
                .post(format!("{base}/referrals/new"))
                .form(&referral_form(&seeder.csrf, n))
                .send()
                .await
                .map_err(err)?;
            if r.status() != 303 {
                return Err(format!("a seed referral was refused ({})", r.status()));
            }
        }
        let mut referrers = Vec::new();
        let mut triage = Vec::new();
        for _ in 0..opts.users {
            referrers.push(Arc::new(sign_in(&base, "bench.referrer").await?));
            triage.push(Arc::new(sign_in(&base, "bench.triage").await?));
        }
        let half = Duration::from_secs_f64(opts.seconds as f64 / 2.0);
        let warmup = Duration::from_secs(opts.warmup);
        let think = Duration::from_millis(opts.think_ms);

        let measure = |p: &str| opts.phases.iter().any(|x| x == p);
        let mut figures = Vec::new();
        let mut events_per_commit = 0.0;
        if measure("queue") {
            let b = base.clone();
            let t0 = Instant::now() + warmup;
            let (lat, errors) = phase(&triage, t0, t0 + half, think, move |u, _| {
                let url = format!("{b}/triage");
                async move { loads(&u, url).await }
            })
            .await;
            figures.push(Figures::from(
                "GET /triage (queue page)",
                lat,
                errors,
                t0.elapsed().as_secs_f64(),
            ));
        }
        if measure("send") {
            let (heads_before, size_before) = log_figures(&store).await?;
            let b = base.clone();
            let t1 = Instant::now() + warmup;
            let (lat, errors) = phase(&referrers, t1, t1 + half, think, move |u, n| {
                let url = format!("{b}/referrals/new");
                async move {
                    let form = referral_form(&u.csrf, n);
                    match u.http.post(url).form(&form).send().await {
                        Ok(r) if r.status() == 303 => r.bytes().await.is_ok(),
                        _ => false,
                    }
                }
            })
            .await;
            figures.push(Figures::from(
                "POST /referrals/new (send)",
                lat,
                errors,
                t1.elapsed().as_secs_f64(),
            ));
            let (heads_after, size_after) = log_figures(&store).await?;
            events_per_commit =
                (size_after - size_before) as f64 / (heads_after - heads_before).max(1) as f64;
        }

        if let Some(child) = child.filter(|_| measure("child")) {
            let b = base.clone();
            let t2 = Instant::now() + warmup;
            let (lat, errors) = phase(&triage, t2, t2 + half, think, move |u, _| {
                let url = format!("{b}/people/{child}");
                async move { loads(&u, url).await }
            })
            .await;
            figures.push(Figures::from(
                "GET /people/{id} (child page)",
                lat,
                errors,
                t2.elapsed().as_secs_f64(),
            ));
        }
        if let Some(child) = child.filter(|_| measure("case")) {
            let b = base.clone();
            let case = case_of(child);
            let t2 = Instant::now() + warmup;
            let (lat, errors) = phase(&triage, t2, t2 + half, think, move |u, _| {
                let url = format!("{b}/cases/{case}");
                async move { loads(&u, url).await }
            })
            .await;
            figures.push(Figures::from(
                "GET /cases/{id} (case page)",
                lat,
                errors,
                t2.elapsed().as_secs_f64(),
            ));
        }
        if opts.people > 0 && measure("search") {
            let b = base.clone();
            let people = opts.people;
            let t3 = Instant::now() + warmup;
            let (lat, errors) = phase(&triage, t3, t3 + half, think, move |u, n| {
                // A different person each time, by full name (or name and year of birth).
                let i = (n.wrapping_mul(2_654_435_761)) % people;
                let (given, family, dob) = crowd_name(i);
                let q = if n % 2 == 0 {
                    format!("{given} {family}")
                } else {
                    format!("{family} {}", &dob[..4])
                };
                let url = format!("{b}/search?q={}", q.replace(' ', "+"));
                async move { loads(&u, url).await }
            })
            .await;
            figures.push(Figures::from(
                "GET /search (by name)",
                lat,
                errors,
                t3.elapsed().as_secs_f64(),
            ));
        }
        Ok::<_, String>(BenchReport {
            users: opts.users,
            queue: opts.queue,
            chronology: opts.chronology,
            people: opts.people,
            warmup: opts.warmup,
            think_ms: opts.think_ms,
            backend,
            figures,
            events_per_commit,
        })
    });
    let _ = stop.send(());
    let _ = server_rt.block_on(server);
    // Close connections (and drop the scratch schema) off the async threads.
    drop(client_rt);
    drop(server_rt);
    drop(store);
    drop(scratch);
    report
}

/// Signed tree heads (one per committed batch) and entries in the log,
/// read off the async threads.
async fn log_figures(store: &Arc<dyn Store>) -> Result<(u64, u64), String> {
    let s = Arc::clone(store);
    tokio::task::spawn_blocking(move || Ok((count_heads(s.as_ref())?, s.log_size().map_err(err)?)))
        .await
        .map_err(err)?
}

fn count_heads(store: &dyn Store) -> Result<u64, String> {
    let mut n = 0u64;
    store
        .for_each_tree_head(&mut |_| {
            n += 1;
            Ok(())
        })
        .map_err(err)?;
    Ok(n)
}

// ---------------------------------------------------------------------------
// `vigil bench signins` and `vigil bench slowloris`: the client side. The
// command line runs the server as a separate `vigil serve` process (so its
// memory and descriptors are measured alone) and calls these.

/// Registers an agency and `n` referrer accounts (`bench.user.0` ...) with
/// the benchmark password; returns their usernames.
pub fn signin_accounts(store: &dyn Store, n: usize) -> Result<Vec<String>, String> {
    let now = chrono::Utc::now();
    let school = users::register_agency(
        store,
        "bench-school",
        "Bench Academy",
        AgencyKind::Education,
        now,
    )
    .map_err(err)?;
    let names: Vec<String> = (0..n).map(|i| format!("bench.user.{i}")).collect();
    let granter = users::Granter::operator();
    for username in &names {
        users::create_account(
            store,
            &granter,
            &users::NewAccount {
                username: username.clone(),
                name: username.clone(),
                role: Role::Referrer,
                agency_id: school,
            },
            PASSWORD,
            false,
            now,
        )
        .map_err(err)?;
    }
    Ok(names)
}

/// How a burst of sign-ins was answered.
#[derive(Clone, Debug, Default)]
pub struct SigninAnswers {
    pub signed_in: usize,
    /// 503 "busy": no turn to check the password within the wait.
    pub busy: usize,
    pub other: usize,
    /// From the first POST to the last answer.
    pub seconds: f64,
}

/// Signs every account in at once: each fetches the form first, then all
/// POST together (each from its own `X-Forwarded-For` address, so the
/// per-address throttle, which the server trusts only when told to, does
/// not turn the burst away before it reaches the password check).
pub async fn signins_at_once(base: &str, usernames: &[String]) -> Result<SigninAnswers, String> {
    let mut ready = Vec::new();
    for (i, u) in usernames.iter().enumerate() {
        let (http, nonce) = sign_in_form(base).await?;
        ready.push((
            http,
            nonce,
            u.clone(),
            format!("10.{}.{}.1", i / 250, i % 250),
        ));
    }
    let start = Arc::new(tokio::sync::Barrier::new(ready.len()));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (http, nonce, username, from) in ready {
        let (base, start) = (base.to_owned(), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            http.post(format!("{base}/login"))
                .header("x-forwarded-for", from)
                .form(&[
                    ("nonce", nonce.as_str()),
                    ("next", "/"),
                    ("username", username.as_str()),
                    ("password", PASSWORD),
                ])
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut a = SigninAnswers::default();
    for t in tasks {
        match t.await.map_err(err)? {
            303 => a.signed_in += 1,
            503 => a.busy += 1,
            _ => a.other += 1,
        }
    }
    a.seconds = t0.elapsed().as_secs_f64();
    Ok(a)
}

/// Opens `n` connections to `addr` that each send the start of a request
/// and never finish its headers; at most `in_flight` connects at a time.
/// Returns the open connections (hold them to keep them open) and how many
/// could not be opened.
pub async fn half_open_connections(
    addr: std::net::SocketAddr,
    n: usize,
    in_flight: usize,
) -> (Vec<tokio::net::TcpStream>, usize) {
    use tokio::io::AsyncWriteExt;
    let gate = Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let gate = Arc::clone(&gate);
        tasks.push(tokio::spawn(async move {
            let _turn = gate.acquire_owned().await.ok()?;
            let connect = tokio::net::TcpStream::connect(addr);
            let mut s = tokio::time::timeout(Duration::from_secs(5), connect)
                .await
                .ok()?
                .ok()?;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: vigil\r\nX-Slow: ")
                .await
                .ok()?;
            Some(s)
        }));
    }
    let mut open = Vec::with_capacity(n);
    let mut failed = 0;
    for t in tasks {
        match t.await.ok().flatten() {
            Some(s) => open.push(s),
            None => failed += 1,
        }
    }
    (open, failed)
}

/// Times `times` requests for `/healthz`, each on a new connection, with a
/// 10-second limit each; a failure counts as the limit.
pub async fn time_healthz(base: &str, times: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(times);
    for _ in 0..times {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(10))
            .build();
        let t = Instant::now();
        let ok = match http {
            Ok(h) => h
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
            Err(_) => false,
        };
        out.push(if ok {
            t.elapsed()
        } else {
            Duration::from_secs(10)
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    out
}

/// A process's resident memory from /proc: (peak, now) in MB.
pub fn resident_mb(pid: u32) -> Option<(f64, f64)> {
    resident(pid).map(|r| (r.peak, r.rss))
}

/// How many file descriptors a process has open (from /proc).
pub fn open_descriptors(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

// `vigil bench memory`: the client side. The command line builds the store
// and runs the server as a separate `vigil serve` process (so its memory is
// measured alone) and calls these.

/// Registers the agencies and the two accounts `vigil bench memory` signs
/// in with (`bench.referrer`, `bench.triage`), as `vigil bench web` does.
pub fn memory_accounts(store: &dyn Store) -> Result<(), String> {
    let now = chrono::Utc::now();
    let school = users::register_agency(
        store,
        "bench-school",
        "Bench Academy",
        AgencyKind::Education,
        now,
    )
    .map_err(err)?;
    let front_door = users::register_agency(
        store,
        "bench-childrens-services",
        "Bench Children's Services",
        AgencyKind::SocialCare,
        now,
    )
    .map_err(err)?;
    for (username, role, agency_id) in [
        ("bench.referrer", Role::Referrer, school),
        ("bench.triage", Role::Triage, front_door),
    ] {
        users::create_account(
            store,
            &users::Granter::operator(),
            &users::NewAccount {
                username: username.into(),
                name: username.into(),
                role,
                agency_id,
            },
            PASSWORD,
            false,
            now,
        )
        .map_err(err)?;
    }
    Ok(())
}

/// [`sign_in`], trying again for up to a minute while the server answers
/// 503 (a new server over a large log is still building its read model).
async fn sign_in_patiently(base: &str, username: &str) -> Result<User, String> {
    let mut tries = 0;
    loop {
        match sign_in(base, username).await {
            Err(e) if e.contains("503") && tries < 60 => {
                tries += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            other => return other,
        }
    }
}

/// Sends `n` referrals as `bench.referrer` (each writes two events durably).
pub async fn send_referrals(base: &str, n: usize) -> Result<(), String> {
    let referrer = sign_in_patiently(base, "bench.referrer").await?;
    for i in 0..n {
        let r = referrer
            .http
            .post(format!("{base}/referrals/new"))
            .form(&referral_form(&referrer.csrf, i))
            .send()
            .await
            .map_err(err)?;
        if r.status() != 303 {
            return Err(format!("a referral was refused ({})", r.status()));
        }
    }
    Ok(())
}

/// One page `load_pages` fetched.
#[derive(Clone, Debug)]
pub struct PageLoad {
    pub path: String,
    pub status: u16,
    pub bytes: usize,
    pub ms: f64,
}

/// Signs in as `bench.triage` and fetches each path in turn. A
/// placeholder in a path is replaced by the first id that a page fetched
/// before it links to: `{referral}` by a `/referrals/ID` link, `{person}` by
/// a `/people/ID` link. So `/triage,/referrals/{referral},/people/{person}`
/// opens the queue, a referral in it and its child, whatever the store
/// holds; a path like `/search?q=Sample` needs none.
pub async fn load_pages(base: &str, paths: &[String]) -> Result<Vec<PageLoad>, String> {
    let triage = sign_in_patiently(base, "bench.triage").await?;
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for p in paths {
        let mut path = p.clone();
        for (placeholder, prefix) in [("{referral}", "/referrals/"), ("{person}", "/people/")] {
            if path.contains(placeholder) {
                let id = seen
                    .iter()
                    .rev()
                    .find_map(|body| first_link_id(body, prefix))
                    .ok_or_else(|| format!("no page loaded before {p} links to {prefix}ID"))?;
                path = path.replace(placeholder, &id);
            }
        }
        let t = Instant::now();
        let r = triage
            .http
            .get(format!("{base}{path}"))
            .send()
            .await
            .map_err(err)?;
        let status = r.status().as_u16();
        let body = r.text().await.map_err(err)?;
        out.push(PageLoad {
            path,
            status,
            bytes: body.len(),
            ms: t.elapsed().as_secs_f64() * 1000.0,
        });
        seen.push(body);
    }
    Ok(out)
}

/// The id (a UUID) of the first link in `html` to `prefix` + UUID.
fn first_link_id(html: &str, prefix: &str) -> Option<String> {
    let pattern = format!("href=\"{prefix}");
    html.match_indices(&pattern).find_map(|(at, m)| {
        let id: String = html[at + m.len()..].chars().take(36).collect();
        uuid::Uuid::parse_str(&id).ok().map(|_| id)
    })
}

/// A process's memory from /proc/PID/status, in MB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resident {
    /// VmRSS: resident now.
    pub rss: f64,
    /// VmHWM: the most ever resident.
    pub peak: f64,
    /// RssAnon: the process's own memory (heap, stacks).
    pub anon: f64,
    /// RssFile: file pages mapped and resident (the binary, SQLite's
    /// memory-mapped database pages, which the kernel may drop).
    pub file: f64,
}

/// [`Resident`] of process `pid`.
pub fn resident(pid: u32) -> Option<Resident> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mb = |field: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
    };
    Some(Resident {
        rss: mb("VmRSS:")?,
        peak: mb("VmHWM:")?,
        anon: mb("RssAnon:").unwrap_or(0.0),
        file: mb("RssFile:").unwrap_or(0.0),
    })
}
