//! What the tests that drive a real `vigil serve` share: starting it and
//! stopping it, and a referrer's first sign-in and sending a referral
//! through the forms, as a browser without JavaScript would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `vigil serve`, killed when the test ends, however it ends.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (a `vigil ... serve --addr 127.0.0.1:0`) and waits for
/// the address it prints.
pub fn start(mut command: Command) -> Server {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Keep reading what the server prints, so it never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let base = line
        .trim()
        .strip_prefix("Vigil is serving on ")
        .and_then(|s| s.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    Server { child, base }
}

/// The value of a hidden form field.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = body.find(&marker).expect("the page has the field") + marker.len();
    let j = body[i..].find('"').unwrap() + i;
    body[i..j].to_owned()
}

/// A client with a cookie jar that does not follow redirects (tests check them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(http: &reqwest::Client, url: String) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// Signs in with a one-time password, which must be changed first.
pub async fn first_sign_in(http: &reqwest::Client, base: &str, user: &str, temp: &str) {
    let login = page(http, format!("{base}/login")).await;
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("nonce", hidden(&login, "nonce").as_str()),
            ("next", "/"),
            ("username", user),
            ("password", temp),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/account/password",
        "a one-time password must be changed first"
    );
    let form = page(http, format!("{base}/account/password")).await;
    let r = http
        .post(format!("{base}/account/password"))
        .form(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("current", temp),
            ("new", "maple lantern river"),
            ("confirm", "maple lantern river"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// Sends a referral about a child of that family name; returns the referral
/// id and the receipt page it redirects to.
pub async fn send_referral(http: &reqwest::Client, base: &str, family: &str) -> (String, String) {
    let form = page(http, format!("{base}/referrals/new")).await;
    let r = http
        .post(format!("{base}/referrals/new"))
        .form(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("immediate_danger", "no"),
            ("child_given", "Ruby"),
            ("child_family", family),
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
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    (location.split('/').nth(2).unwrap().to_owned(), location)
}
