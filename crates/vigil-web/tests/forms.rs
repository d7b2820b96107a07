//! Forms over real HTTP: every POST needs its session's anti-forgery token;
//! a script typed into any field comes back as text; bad, empty, huge and
//! hostile input gets a clear sentence on its field and loses nothing typed.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;

const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;";
/// What a form with bytes that are not text is told.
const NOT_TEXT: &str = "not plain text";

fn assert_escaped(body: &str, what: &str) {
    assert!(
        !body.contains(SCRIPT),
        "{what}: a typed script came back as markup"
    );
    assert!(
        !body.contains("<script>alert"),
        "{what}: a typed script came back as markup"
    );
    assert!(
        body.contains(ESCAPED),
        "{what}: the typed text should be shown, escaped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_needs_the_sessions_anti_forgery_token() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let admin = app
        .login(&app.username("administrator", "northshire-childrens-services"))
        .await;
    let target = "second.teacher";
    let form: Vec<(&str, String)> = referral_form();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let decide = format!("/referrals/{id}/decide");
    // (who posts, where, what)
    type Post<'a> = (&'a Client, String, Vec<(&'a str, &'a str)>);
    let posts: Vec<Post> = vec![
        (&teacher, "/referrals/new".into(), form.clone()),
        (&triage, decide.clone(), vec![("decision", "early_help")]),
        (
            &admin,
            "/admin/users/new".into(),
            vec![
                ("name", "New Person"),
                ("username", "new.person"),
                ("role", "referrer"),
            ],
        ),
        (
            &admin,
            format!("/admin/users/{target}/role"),
            vec![("role", "practitioner"), ("role_reason", "moved")],
        ),
        (
            &admin,
            format!("/admin/users/{target}/reset"),
            vec![("reset_reason", "forgot")],
        ),
        (
            &admin,
            format!("/admin/users/{target}/disable"),
            vec![("disable_reason", "left"), ("disable_confirm", "yes")],
        ),
        (
            &teacher,
            "/account/password".into(),
            vec![
                ("current", common::PASSWORD),
                ("new", "a new long passphrase"),
                ("confirm", "a new long passphrase"),
            ],
        ),
        (&teacher, "/logout".into(), vec![]),
    ];
    let before = app.store.log_size().unwrap();
    let cred_before = app.store.credential(target).unwrap().unwrap();
    for (c, path, pairs) in &posts {
        let r = c.post_raw(path, pairs).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} without a token"
        );
        assert!(r.body.contains("did not come from Vigil"), "{}", r.body);
        let mut wrong = pairs.clone();
        wrong.push(("csrf", "not-the-token"));
        assert_eq!(
            c.post_raw(path, &wrong).await.status,
            StatusCode::FORBIDDEN,
            "POST {path} with a wrong token"
        );
        // Another user's token is as wrong as any other.
        let mut theirs = pairs.clone();
        let other = if std::ptr::eq(*c, &admin) {
            &teacher
        } else {
            &admin
        };
        theirs.push(("csrf", &other.csrf));
        assert_eq!(
            c.post_raw(path, &theirs).await.status,
            StatusCode::FORBIDDEN,
            "POST {path} with another session's token"
        );
    }
    assert_eq!(
        app.store.log_size().unwrap(),
        before,
        "nothing was recorded"
    );
    assert_eq!(app.store.credential(target).unwrap().unwrap(), cred_before);
    assert_eq!(
        teacher.get("/referrals/mine").await.status,
        StatusCode::OK,
        "still signed in"
    );

    // A form posted from another site is refused even with the right token.
    let r = triage
        .http
        .post(format!("{}{decide}", triage.base))
        .header("origin", "https://evil.example")
        .form(&[("csrf", triage.csrf.as_str()), ("decision", "early_help")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The same form from this site works.
    let r = triage.post(&decide, &[("decision", "early_help")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Signing in needs the sign-in form's own token.
    let c = app.client();
    let r = c
        .post_raw(
            "/login",
            &[
                ("username", "second.teacher"),
                ("password", common::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("sign-in form had expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_typed_into_any_field_comes_back_escaped() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let text_fields = [
        "child_given",
        "child_family",
        "child_other_names",
        "child_address",
        "child_school",
        "concern",
        "what_seen",
        "where",
        "other1_name",
        "other1_details",
        "referrer_name",
        "referrer_role",
        "referrer_org",
    ];
    let mut form = referral_form();
    form.retain(|(k, _)| !text_fields.contains(k));
    for f in text_fields {
        form.push((f, SCRIPT.into()));
    }
    let id = submit_referral(&teacher, &form).await;

    let receipt = teacher
        .get(&format!("/referrals/{id}/receipt?sent=1"))
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert_escaped(&receipt.body, "receipt");
    assert_escaped(&teacher.get("/referrals/mine").await.body, "my referrals");
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    assert_escaped(&triage.get("/triage").await.body, "triage queue");
    let page = triage.get(&format!("/referrals/{id}")).await;
    assert_escaped(&page.body, "referral page");
    assert!(
        page.body.matches(ESCAPED).count() >= 6,
        "name, concern, seen, where, other, referrer"
    );
    let person = page
        .body
        .split("href=\"/people/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert_escaped(
        &triage.get(&format!("/people/{person}")).await.body,
        "person page",
    );
    assert_escaped(
        &triage.get(&format!("/referrals/{id}/decide")).await.body,
        "decision page",
    );

    // On a form with errors every typed value is shown again, escaped,
    // including in fields that are refused.
    let mut bad: Vec<(&str, String)> = text_fields
        .iter()
        .map(|f| (*f, SCRIPT.to_string()))
        .collect();
    for f in [
        "child_postcode",
        "referrer_phone",
        "referrer_email",
        "dob_day",
        "when_year",
        "child_age",
        "when_time",
    ] {
        bad.push((f, SCRIPT.into()));
    }
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = teacher.post("/referrals/new", &pairs).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.body.contains("<script>alert"));
    assert!(
        r.body.matches(ESCAPED).count() >= bad.len(),
        "each value kept, escaped (some messages quote it too)"
    );

    // Decisions, account names and sign-in names too.
    let r = triage
        .post(
            &format!("/referrals/{id}/decide"),
            &[("decision", "no_further_action"), ("reason", SCRIPT)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_escaped(
        &triage.get(&format!("/referrals/{id}")).await.body,
        "decision reason",
    );
    let admin = app
        .login(&app.username("administrator", "oakfield-academy"))
        .await;
    let agency = app
        .state
        .agency_by_code("oakfield-academy")
        .unwrap()
        .id
        .to_string();
    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", SCRIPT),
                ("username", "script.kiddie"),
                ("agency", &agency),
                ("role", "referrer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_escaped(&admin.get("/admin/users").await.body, "accounts list");
    let mut c = app.client();
    let r = c.sign_in(SCRIPT, "x").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_escaped(&r.body, "sign-in form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_empty_huge_and_hostile_input_gets_clear_errors_and_loses_nothing() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let before = app.store.log_size().unwrap();

    // Empty: one sentence per missing answer, each linked to its field.
    let r = teacher.post("/referrals/new", &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("There is a problem"));
    assert!(r.body.contains("<title>Error: Raise a concern"));
    for (field, msg) in [
        (
            "immediate_danger",
            "Say whether the child is in immediate danger.",
        ),
        (
            "child_given",
            "Enter the child&#39;s first name, last name, or a name they are known by.",
        ),
        ("concern", "Describe what you are worried about."),
        ("when_day", "Enter when this happened, even roughly"),
    ] {
        assert!(
            r.body.contains(&format!("<a href=\"#{field}\">{msg}")),
            "{field}: {}",
            r.body
        );
        assert!(
            r.body.contains(&format!("id=\"{field}\"")),
            "the link target {field} exists"
        );
    }

    // One mistake among many answers: everything typed is shown again.
    let mut form = referral_form();
    form.retain(|(k, _)| *k != "concern");
    form.extend([
        ("child_other_names", "Jadey, JJ".to_string()),
        ("child_address", "1 Sample Street\nNorthshire".to_string()),
        ("child_postcode", "NS1 4AB".to_string()),
        ("child_school", "Oakfield Academy".to_string()),
        (
            "what_seen",
            "A silver car, registration starting NS19".to_string(),
        ),
        ("where", "Car park behind the Golden Fry".to_string()),
        ("other1_name", "Dez".to_string()),
        ("other1_details", "About 30".to_string()),
        ("when_day", "31".to_string()),
        ("when_month", "4".to_string()),
    ]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = teacher.post("/referrals/new", &pairs).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("The date it happened must be a real date."),
        "31 April"
    );
    assert!(r.body.contains("Describe what you are worried about."));
    for (k, v) in &form {
        let shown = v.replace('\'', "&#39;");
        assert!(r.body.contains(&shown), "{k} = {v} was lost");
    }
    assert!(
        r.body.contains(r#"value="no" checked"#),
        "the radio answer is kept"
    );

    // Too long: the model's limit, in a sentence, and the text is kept.
    let huge = "x".repeat(25_000);
    let mut form = referral_form();
    form.retain(|(k, _)| *k != "concern");
    form.push(("concern", huge.clone()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = teacher.post("/referrals/new", &pairs).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .body
        .contains("What you are worried about is 25000 characters long; the limit is 20000."));
    assert!(r.body.contains(&huge));

    // Larger than any form: a page that says so.
    let r = teacher
        .post_body(
            "/referrals/new",
            format!("concern={}", "y".repeat(2 * 1024 * 1024)),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.body.contains("larger than any form accepts"),
        "{}",
        r.body
    );

    // Hostile characters: refused by the model's rules with its sentence.
    for (field, value, expect) in [
        ("child_given", "Ja\u{0}de", "contains a NUL character"),
        ("child_family", "Example\u{202e}", "text-direction override"),
        ("child_given", "Ja\nde", "a line break"),
        ("child_postcode", "NOT A POSTCODE 123", "postcode"),
        ("referrer_email", "nobody", "Enter an email address"),
        ("child_age", "-3", "whole number of years under 18"),
        ("dob_year", "2001", "18 or older"),
        ("when_year", "3025", "today or in the past"),
    ] {
        let mut form = referral_form();
        form.retain(|(k, _)| *k != field);
        form.push((field, value.into()));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = teacher.post("/referrals/new", &pairs).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}={value:?}");
        assert!(
            r.body.contains(expect),
            "{field}={value:?}: {}",
            &r.body[..2000.min(r.body.len())]
        );
    }
    // Bytes that are not UTF-8 are refused with a sentence, not guessed at.
    let mut raw = serde_urlencoded::to_string([("csrf", teacher.csrf.as_str())]).unwrap();
    raw.push_str("&concern=%FF%FE&immediate_danger=%C0");
    let r = teacher.post_body("/referrals/new", raw).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains(NOT_TEXT), "{}", r.body);
    assert_eq!(
        app.store.log_size().unwrap(),
        before,
        "nothing was recorded by any of these"
    );

    // And after all that, the right answers go in.
    submit_referral(&teacher, &referral_form()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_danger_shows_the_emergency_instruction_first() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let blank = teacher.get("/referrals/new").await;
    let warning = blank.body.find("call 999 now").unwrap();
    let first_question = blank.body.find("First name").unwrap();
    assert!(
        warning < first_question,
        "the 999 instruction comes before any question"
    );

    // With an error, the instruction comes before the error summary.
    let r = teacher
        .post("/referrals/new", &[("immediate_danger", "yes")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let call = r.body.find("Call 999 now").unwrap();
    assert!(call < r.body.find("There is a problem").unwrap());
    assert!(call < r.body.find("<h1>").unwrap());

    // Sent: the receipt page opens with it.
    let mut form = referral_form();
    form.retain(|(k, _)| *k != "immediate_danger");
    form.push(("immediate_danger", "yes".into()));
    form.push(("police_called", "yes".into()));
    let id = submit_referral(&teacher, &form).await;
    let r = teacher
        .get(&format!("/referrals/{id}/receipt?sent=1"))
        .await;
    let call = r.body.find("Call 999 now").unwrap();
    assert!(call < r.body.find("<h1>Referral sent").unwrap());
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    assert!(triage
        .get("/triage")
        .await
        .body
        .contains("Immediate danger"));
}

/// POSTs `body` with this Content-Type (None: no Content-Type at all).
async fn post_typed(
    c: &Client,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> common::Response {
    let mut req = c.http.post(format!("{}{path}", c.base)).body(body);
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    common::Response {
        status,
        location: String::new(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap_or_default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_bodies_that_are_not_url_encoded_text_are_refused() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let before = app.store.log_size().unwrap();
    let mut good = referral_form();
    good.push(("csrf", teacher.csrf.clone()));
    let encoded = serde_urlencoded::to_string(&good).unwrap();

    // A well-formed form with the right token, under any other type: 415.
    for t in [
        None,
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/x-www-form-urlencodedx"),
        Some(""),
    ] {
        let r = post_typed(&teacher, "/referrals/new", t, encoded.clone().into_bytes()).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{t:?}");
        assert!(
            r.body.contains("Vigil only accepts forms"),
            "{t:?}: {}",
            r.body
        );
    }
    // Parameters of the right type are fine (browsers may add a charset).
    let r = post_typed(
        &teacher,
        "/referrals/new",
        Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        encoded.clone().into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after_one = app.store.log_size().unwrap();
    assert!(after_one > before);

    // Invalid UTF-8, raw or percent-encoded, anywhere: 400 and a sentence.
    let form = "application/x-www-form-urlencoded";
    let token = format!("csrf={}", teacher.csrf);
    for body in [
        format!("{token}&concern=%FF%FE").into_bytes(),
        format!("{token}&immediate_danger=%C0").into_bytes(),
        format!("{token}&%FF=x").into_bytes(),
        [format!("{token}&concern=").as_bytes(), &[0xff, 0xfe]].concat(),
        [&[0xc0, 0x80][..], format!("&{token}").as_bytes()].concat(),
    ] {
        let r = post_typed(&teacher, "/referrals/new", Some(form), body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert!(r.body.contains(NOT_TEXT), "{}", r.body);
    }
    // Empty: no token, so nothing comes of it.
    let r = post_typed(&teacher, "/referrals/new", Some(form), Vec::new()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Huge: larger than any form. The server answers 413 as soon as it sees
    // the length, without reading the body; a client still sending may then
    // find the connection closed before it reads the answer. Either way
    // nothing is recorded (checked below).
    let huge = format!("{token}&concern={}", "z".repeat(2 * 1024 * 1024)).into_bytes();
    let sent = teacher
        .http
        .post(format!("{}/referrals/new", teacher.base))
        .header("content-type", form)
        .body(huge)
        .send()
        .await;
    match sent {
        Ok(r) => assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    // Hostile but valid: stray percent signs, repeated names, odd pairs are
    // read as written, and the form's own checks answer.
    let body = format!("{token}&concern=100%25+sure%&concern=%zz&=&&immediate_danger");
    let r = post_typed(&teacher, "/referrals/new", Some(form), body.into_bytes()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("%zz"),
        "the last value of a repeated name is kept"
    );
    // The same rules for every form: signing out, too.
    let r = post_typed(
        &teacher,
        "/logout",
        Some("text/plain"),
        token.clone().into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        app.store.log_size().unwrap(),
        after_one,
        "only the one form went in"
    );
    assert_eq!(teacher.get("/referrals/mine").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_thirty_referrals_a_minute_from_one_account_are_held_back_with_what_was_typed() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let form = referral_form();
    for _ in 0..30 {
        submit_referral(&teacher, &form).await;
    }
    let before = app.store.log_size().unwrap();
    let mut typed = form.clone();
    typed.retain(|(k, _)| *k != "concern");
    typed.push(("concern", "The thirty-first concern, typed in full.".into()));
    let pairs: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = teacher.post("/referrals/new", &pairs).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Wait a minute"), "{}", r.body);
    assert!(r.body.contains("The thirty-first concern, typed in full."));
    assert!(r.body.contains(r#"value="no" checked"#));
    assert_eq!(
        app.store.log_size().unwrap(),
        before,
        "nothing was recorded"
    );

    // Someone else at the same school is not held back.
    let colleague = app.login("second.teacher").await;
    submit_referral(&colleague, &form).await;

    // A minute after the first, the window has moved on.
    app.set_now(common::monday_morning() + chrono::Duration::seconds(61));
    submit_referral(&teacher, &typed).await;
}
