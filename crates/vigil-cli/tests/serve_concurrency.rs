//! Four `vigil serve` processes on one database, many HTTP clients sending
//! referrals at once (issue 4's concurrency test, with the web front door):
//! afterwards `vigil verify` passes, every acknowledged referral (a receipt
//! was downloaded) is in the log exactly once at its receipt's position, and
//! the number of referrals in the log equals the number acknowledged. Runs on
//! one SQLite file always, and on one PostgreSQL schema when
//! `VIGIL_TEST_POSTGRES_URL` is set.

use base64::Engine as _;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const SERVERS: usize = 4;
const CLIENTS_PER_SERVER: usize = 3;
const REFERRALS_EACH: usize = 4;

fn vigil(data: &Path, database: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c.arg("--data").arg(data);
    if let Some(u) = database {
        c.arg("--database").arg(u);
    }
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().expect("vigil runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker).expect("the page has the field") + marker.len();
    let j = body[i..].find('"').unwrap() + i;
    body[i..j].to_owned()
}

/// Signs in (changing the one-time password) and sends referrals; returns
/// the receipts of those acknowledged.
async fn client(base: String, user: String, temp: String, n: usize) -> Vec<serde_json::Value> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("nonce", hidden(&login, "nonce").as_str()),
            ("next", "/"),
            ("username", user.as_str()),
            ("password", temp.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = http
        .get(format!("{base}/account/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(format!("{base}/account/password"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("current", temp.as_str()),
            ("new", "maple lantern river"),
            ("confirm", "maple lantern river"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mut receipts = Vec::new();
    for k in 0..n {
        let page = http
            .get(format!("{base}/referrals/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let family = format!("Sample{k}");
        let r = http
            .post(format!("{base}/referrals/new"))
            .form(&[
                ("csrf", hidden(&page, "csrf").as_str()),
                ("immediate_danger", "no"),
                ("child_given", "Ruby"),
                ("child_family", family.as_str()),
                ("child_age", "13"),
                (
                    "concern",
                    "Seen getting into cars with older men after school.",
                ),
                ("when_month", "10"),
                ("when_year", "2025"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let id = location.split('/').nth(2).unwrap().to_owned();
        let receipt = http
            .get(format!("{base}/referrals/{id}/receipt.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(receipt.status(), 200);
        receipts.push(serde_json::from_slice(&receipt.bytes().await.unwrap()).unwrap());
    }
    receipts
}

fn four_servers(dir: &Path, database: Option<&str>) {
    let data = dir.join("data");
    ok(vigil(&data, database).arg("init"));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.jsonl");
    ok(vigil(&data, database).arg("import").arg(&examples));
    let mut users = Vec::new();
    for u in 0..SERVERS * CLIENTS_PER_SERVER {
        let name = format!("teacher.{u}");
        let out = ok(vigil(&data, database).args([
            "user",
            "add",
            &name,
            "--role",
            "referrer",
            "--agency",
            "oakfield-academy",
        ]));
        let temp = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("one-time password: "))
            .expect("the password is printed")
            .to_owned();
        users.push((name, temp));
    }
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..SERVERS {
        let mut child = vigil(&data, database)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        servers.push(Server(child));
        bases.push(
            line.trim()
                .strip_prefix("Vigil is serving on ")
                .and_then(|s| s.split(' ').next())
                .unwrap_or_else(|| panic!("unexpected first line: {line}"))
                .to_owned(),
        );
    }
    // The HTTP clients run on their own runtime, which is gone before the
    // blocking PostgreSQL client is used below (it cannot run inside one).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let receipts: Vec<serde_json::Value> = runtime.block_on(async {
        let tasks: Vec<_> = users
            .into_iter()
            .enumerate()
            .map(|(i, (user, temp))| {
                tokio::spawn(client(
                    bases[i % SERVERS].clone(),
                    user,
                    temp,
                    REFERRALS_EACH,
                ))
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    drop(runtime);
    drop(servers);
    assert_eq!(
        receipts.len(),
        SERVERS * CLIENTS_PER_SERVER * REFERRALS_EACH
    );
    let positions: BTreeSet<u64> = receipts
        .iter()
        .map(|r| r["leaf_index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        positions.len(),
        receipts.len(),
        "a position acknowledged twice"
    );

    let out = ok(vigil(&data, database).arg("verify"));
    assert!(out.starts_with("intact"), "{out}");
    let file = dir.join("receipts.jsonl");
    let mut f = std::fs::File::create(&file).unwrap();
    for r in &receipts {
        writeln!(f, "{r}").unwrap();
    }
    drop(f);
    let key = data.join("log-key.pub");
    ok(Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["receipt", "verify"])
        .arg(&file)
        .arg("--key")
        .arg(&key));

    // The log holds exactly the acknowledged referrals, each at its receipt's position.
    let secret = std::fs::read_to_string(data.join("log-key.secret")).unwrap();
    let secret: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(secret.trim())
        .unwrap()
        .try_into()
        .unwrap();
    let url = match database {
        Some(u) => vigil_store::DatabaseUrl::parse(u).unwrap(),
        None => vigil_store::DatabaseUrl::Sqlite(data.join("vigil.sqlite")),
    };
    let store =
        vigil_store::open(&url, vigil_ledger::LogSigner::from_secret_bytes(&secret)).unwrap();
    let mut in_log = BTreeSet::new();
    store
        .for_each_entry(0, &mut |e| {
            if e.header_json.contains("\"kind\":\"referral.submitted\"") {
                in_log.insert(e.index);
            }
            Ok(())
        })
        .unwrap();
    let examples_referrals = std::fs::read_to_string(&examples)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"referral.submitted\""))
        .count();
    assert!(
        positions.is_subset(&in_log),
        "an acknowledged referral is missing"
    );
    assert_eq!(
        in_log.len(),
        examples_referrals + receipts.len(),
        "referrals in the log that nobody was told about"
    );
}

#[test]
fn four_servers_on_one_sqlite_file() {
    let tmp = tempfile::tempdir().unwrap();
    four_servers(tmp.path(), None);
}

#[test]
fn four_servers_on_one_postgres_database() {
    let Some(base) = std::env::var("VIGIL_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL tests skipped: VIGIL_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let schema = vigil_store::postgres::ScratchSchema::new(&base, "vigil_cli_serve").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    four_servers(tmp.path(), Some(schema.url()));
}
