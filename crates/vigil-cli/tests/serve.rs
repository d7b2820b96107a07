//! `vigil serve` end to end with the real binary: an account made with
//! `vigil user add`, a first sign-in that must choose a password, a referral
//! sent through the form, and its downloaded receipt checked by `vigil
//! receipt verify` with only the data directory's public key; then `vigil
//! verify` finds the log and the access log intact.

use std::path::{Path, PathBuf};
use std::process::Command;

mod web_client;

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

    let mut serve = vigil();
    serve
        .arg("--data")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0"]);
    let server = web_client::start(serve);
    let base = server.base.clone();

    let http = web_client::browser();
    let get = |p: &str| http.get(format!("{base}{p}")).send();
    web_client::first_sign_in(&http, &base, "teacher.one", &temp).await;
    let (id, receipt_page) = web_client::send_referral(&http, &base, "Sample").await;
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

    drop(server);
    let out = ok(vigil().arg("--data").arg(&data).arg("verify"));
    assert!(out.starts_with("intact"), "{out}");
}
