//! Four `vigil serve` processes on one database, many HTTP clients sending
//! referrals at once (issue 4's concurrency test, with the web front door):
//! afterwards `vigil verify` passes, every acknowledged referral (a receipt
//! was downloaded) is in the log exactly once at its receipt's position, and
//! the number of referrals in the log equals the number acknowledged. Runs on
//! one SQLite file always, and on one PostgreSQL schema when
//! `VIGIL_TEST_POSTGRES_URL` is set.

use base64::Engine as _;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;

mod web_client;

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

/// Signs in (changing the one-time password) and sends referrals; returns
/// the receipts of those acknowledged.
async fn client(base: String, user: String, temp: String, n: usize) -> Vec<serde_json::Value> {
    let http = web_client::browser();
    web_client::first_sign_in(&http, &base, &user, &temp).await;
    let mut receipts = Vec::new();
    for k in 0..n {
        let (id, _) = web_client::send_referral(&http, &base, &format!("Sample{k}")).await;
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
    let servers: Vec<web_client::Server> = (0..SERVERS)
        .map(|_| {
            let mut serve = vigil(&data, database);
            serve.args(["serve", "--addr", "127.0.0.1:0"]);
            web_client::start(serve)
        })
        .collect();
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
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
