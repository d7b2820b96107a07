//! The language check over real HTTP: while typing (`POST /language/check`,
//! what the page's script calls) and on save (the referrer's receipt page
//! names the phrase, why it harms and what to write instead). It warns and
//! never blocks: the referral is sent and kept as written. Wrong, empty,
//! huge and hostile input; no token, no session.

mod common;

use common::{referral_form, submit_referral, TestApp};
use reqwest::StatusCode;
use vigil_web::reference::reference_for;

on_both_backends!(wording_is_checked_while_typing_and_on_save: language_sqlite, language_postgres);

async fn wording_is_checked_while_typing_and_on_save(app: &TestApp) {
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;

    // While typing: the phrase, why and a suggestion, as JSON.
    let r = teacher
        .post(
            "/language/check",
            &[(
                "text",
                "She keeps putting herself at risk with her boyfriend, who is 24.",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let phrases: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["phrase"].as_str().unwrap())
        .collect();
    assert_eq!(phrases, ["putting herself at risk", "boyfriend"]);
    assert!(j["findings"][0]["suggestion"]
        .as_str()
        .unwrap()
        .contains("groomed"));

    // Fine text, empty text, quoting: nothing found.
    for text in [
        "",
        "She said he is her boyfriend; he is 24.",
        "Adults have been contacting her.",
    ] {
        let r = teacher.post("/language/check", &[("text", text)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body, r#"{"findings":[]}"#, "{text:?}");
    }
    // The age sharpens the check; a wrong age is ignored, not an error.
    let at = |age: &'static str| {
        let t = &teacher;
        async move {
            let r = t
                .post(
                    "/language/check",
                    &[("text", "She is sexually active."), ("age", age)],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            r.body
        }
    };
    assert!(at("12").await.contains("sexually active"));
    assert_eq!(at("15").await, r#"{"findings":[]}"#);
    assert!(
        at("twelve").await.contains("sexually active"),
        "unknown age: flagged"
    );
    // Hostile text comes back as data, never markup to run.
    let r = teacher
        .post(
            "/language/check",
            &[("text", "<script>x</script> she is a child prostitute")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("prostitute") && !r.body.contains("<script>x"),
        "{}",
        r.body
    );
    // Huge: refused with a sentence, checked on save instead.
    let huge = "a".repeat(50_001);
    let r = teacher.post("/language/check", &[("text", &huge)]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // No anti-forgery token, or no session: refused.
    let r = teacher
        .post_raw("/language/check", &[("text", "promiscuous")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let nobody = app.client();
    let r = nobody
        .post_raw("/language/check", &[("text", "promiscuous")])
        .await;
    assert_ne!(r.status, StatusCode::OK);
    assert!(!r.body.contains("findings"));

    // On save: the referral is sent as written, and the receipt says why
    // some words harm.
    let mut form = referral_form();
    for (k, v) in form.iter_mut() {
        if *k == "concern" {
            *v = "She is making poor choices and is promiscuous.".into();
        }
    }
    let id = submit_referral(&teacher, &form).await;
    let receipt = teacher.get(&format!("/referrals/{id}/receipt")).await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert!(receipt.body.contains(&reference_for(id)));
    assert!(
        receipt.body.contains("About the words used"),
        "{}",
        receipt.body
    );
    assert!(receipt.body.contains("“making poor choices”"));
    assert!(receipt.body.contains("“promiscuous”"));
    assert!(
        receipt
            .body
            .contains("She is making poor choices and is promiscuous."),
        "kept as written"
    );
    // A referral written in the guidance's words has no such section.
    let plain = submit_referral(&teacher, &referral_form()).await;
    let receipt = teacher.get(&format!("/referrals/{plain}/receipt")).await;
    assert!(!receipt.body.contains("About the words used"));
    // Every box on the form carries the live check.
    let page = teacher.get("/referrals/new").await;
    assert!(page.body.contains(r#"id="concern-language""#));
    assert!(page.body.matches("data-language-check").count() >= 3);
}

on_both_backends!(the_language_report_counts_wording_on_file_per_agency: report_sqlite, report_postgres);

async fn the_language_report_counts_wording_on_file_per_agency(app: &TestApp) {
    let supervisor = app
        .login(&app.username("auditor", "northshire-childrens-services"))
        .await;
    let before = supervisor.get("/reports/language").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert!(before.body.contains("Language report"));

    // Two referrals from the school: one in the guidance's words, one not.
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    submit_referral(&teacher, &referral_form()).await;
    let mut form = referral_form();
    for (k, v) in form.iter_mut() {
        if *k == "concern" {
            *v = "She is promiscuous and is putting herself at risk at the park.".into();
        }
    }
    submit_referral(&teacher, &form).await;

    // The report reads what was appended since it last looked.
    let after = supervisor.get("/reports/language").await;
    assert_eq!(after.status, StatusCode::OK);
    let row = after
        .body
        .split("<tr>")
        .find(|r| r.contains("Oakfield Academy"))
        .unwrap_or_else(|| panic!("a row for the school: {}", after.body));
    assert!(row.contains("“promiscuous” (1)"), "{row}");
    assert!(row.contains("“putting herself at risk” (1)"), "{row}");
    assert!(
        row.contains(">1 ("),
        "one text with wording to change: {row}"
    );
    // It shows counts and phrases, never a record's text.
    assert!(!after.body.contains("at the park"));
    // The menu links it; a referrer may not see it; a supervisor sees their
    // own agency's row only.
    assert!(after.body.contains(r#"href="/reports/language""#));
    assert_eq!(
        teacher.get("/reports/language").await.status,
        StatusCode::FORBIDDEN
    );
    let own = app
        .login(&app.username("supervisor", "northshire-childrens-services"))
        .await;
    let r = own.get("/reports/language").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Oakfield Academy"), "another agency's row");
}
