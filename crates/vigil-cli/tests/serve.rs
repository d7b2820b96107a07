//! `vigil serve` end to end with the real binary: an account made with
//! `vigil user add`, a first sign-in that must choose a password, a referral
//! sent through the form, and its downloaded receipt checked by `vigil
//! receipt verify` with only the data directory's public key; then `vigil
//! verify` finds the log and the access log intact.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_DATA").env_remove("VIGIL_DATABASE_URL");
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().expect("vigil runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events.jsonl")
}

/// Kills the server when the test ends, however it ends.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_sent_through_the_web_has_a_receipt_that_vigil_receipt_verify_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(vigil().arg("--data").arg(&data).arg("init"));
    ok(vigil()
        .arg("--data")
        .arg(&data)
        .arg("import")
        .arg(examples()));
    let out = ok(vigil().arg("--data").arg(&data).args([
        "user",
        "add",
        "teacher.one",
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
    // An agency that does not exist is one sentence, not a panic.
    let o = vigil()
        .arg("--data")
        .arg(&data)
        .args([
            "user", "add", "x.y", "--role", "referrer", "--agency", "nowhere",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("there is no agency with the code 'nowhere'")
    );

    let mut child = vigil()
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // Keep reading what the server prints, so it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let _server = Server(child);
    let base = line
        .trim()
        .strip_prefix("Vigil is serving on ")
        .and_then(|s| s.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();

    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |p: &str| http.get(format!("{base}{p}")).send();
    let login = get("/login").await.unwrap().text().await.unwrap();
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("nonce", hidden(&login, "nonce").as_str()),
            ("next", "/"),
            ("username", "teacher.one"),
            ("password", temp.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/account/password",
        "a one-time password must be changed first"
    );
    let page = get("/account/password")
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

    let page = get("/referrals/new").await.unwrap().text().await.unwrap();
    let r = http
        .post(format!("{base}/referrals/new"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("immediate_danger", "no"),
            ("child_given", "Ruby"),
            ("child_family", "Sample"),
            ("child_age", "13"),
            (
                "concern",
                "Picked up from school by different older men in cars.",
            ),
            ("when_month", "10"),
            ("when_year", "2025"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let receipt_page = r.headers()["location"].to_str().unwrap().to_owned();
    let id = receipt_page.split('/').nth(2).unwrap().to_owned();
    let page = get(&receipt_page).await.unwrap().text().await.unwrap();
    assert!(page.contains("Referral sent") && page.contains("REF-"));
    let receipt = get(&format!("/referrals/{id}/receipt.json")).await.unwrap();
    assert_eq!(receipt.status(), 200);
    let file = tmp.path().join("receipt.json");
    std::fs::write(&file, receipt.bytes().await.unwrap()).unwrap();

    let out = ok(vigil()
        .args(["receipt", "verify"])
        .arg(&file)
        .arg("--key")
        .arg(data.join("log-key.pub")));
    assert!(out.starts_with("valid: 1 receipt(s)"), "{out}");
    // One character changed and it is refused.
    let text = std::fs::read_to_string(&file).unwrap();
    let forged = tmp.path().join("forged.json");
    std::fs::write(
        &forged,
        text.replace("\\\"referral.submitted\\\"", "\\\"referral.decided\\\""),
    )
    .unwrap();
    let o = vigil()
        .args(["receipt", "verify"])
        .arg(&forged)
        .arg("--key")
        .arg(data.join("log-key.pub"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "an altered receipt is refused");

    drop(_server);
    let out = ok(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(out.starts_with("intact"), "{out}");
}
