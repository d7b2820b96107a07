//! The front door as a youth worker and a triage officer use it, over real
//! HTTP: immediate danger first with a same-day deadline, whether the
//! police were called and the out-of-hours number; a child referred without
//! a name and linked later; the possible records grouped per person; the
//! referrer's copy and what they add later; and a session that ends while
//! a referral is being written losing nothing. Those that need no clock or
//! configuration of their own run on SQLite and PostgreSQL.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{hidden, referral_form, submit_referral, TestApp, PASSWORD};
use reqwest::StatusCode;
use vigil_web::reference::reference_for;

on_both_backends!(a_decision_below_a_strategy_discussion_on_immediate_danger_needs_a_reason: a_decision_below_a_strategy_discussion_on_immediate_danger_needs_a_reason_sqlite, a_decision_below_a_strategy_discussion_on_immediate_danger_needs_a_reason_postgres);
on_both_backends!(a_child_without_a_name_can_be_referred_and_linked_to_a_known_child_later: a_child_without_a_name_can_be_referred_and_linked_to_a_known_child_later_sqlite, a_child_without_a_name_can_be_referred_and_linked_to_a_known_child_later_postgres);
on_both_backends!(possible_records_are_one_row_per_linked_person_with_their_referrals: possible_records_are_one_row_per_linked_person_with_their_referrals_sqlite, possible_records_are_one_row_per_linked_person_with_their_referrals_postgres);
on_both_backends!(the_referrer_sees_what_they_sent_and_adds_to_it_later: the_referrer_sees_what_they_sent_and_adds_to_it_later_sqlite, the_referrer_sees_what_they_sent_and_adds_to_it_later_postgres);
on_both_backends!(a_session_that_expires_mid_referral_loses_nothing: a_session_that_expires_mid_referral_loses_nothing_sqlite, a_session_that_expires_mid_referral_loses_nothing_postgres);
on_both_backends!(a_form_sent_on_an_ended_session_with_a_forged_token_is_not_kept: a_form_sent_on_an_ended_session_with_a_forged_token_is_not_kept_sqlite, a_form_sent_on_an_ended_session_with_a_forged_token_is_not_kept_postgres);
on_both_backends!(small_things_from_the_walk_through: small_things_from_the_walk_through_sqlite, small_things_from_the_walk_through_postgres);

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn with(
    mut form: Vec<(&'static str, String)>,
    k: &'static str,
    v: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(x, _)| *x != k);
    form.push((k, v.to_owned()));
    form
}

fn without(mut form: Vec<(&'static str, String)>, k: &str) -> Vec<(&'static str, String)> {
    form.retain(|(x, _)| *x != k);
    form
}

/// An immediate-danger referral of a named child.
fn danger_form(given: &str) -> Vec<(&'static str, String)> {
    let f = with(referral_form(), "immediate_danger", "yes");
    let f = with(f, "police_called", "no");
    with(f, "child_given", given)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_danger_is_first_in_the_queue_and_due_the_same_day() {
    // Friday 6 June 2025, 16:00 UK time: an ordinary referral is due Monday.
    let app = TestApp::start_at(Utc.with_ymd_and_hms(2025, 6, 6, 15, 0, 0).unwrap()).await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let older = submit_referral(&teacher, &referral_form()).await;
    app.set_now(Utc.with_ymd_and_hms(2025, 6, 6, 15, 20, 0).unwrap());
    let danger = submit_referral(&teacher, &danger_form("Mia")).await;

    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let q = triage.get("/triage").await;
    assert_eq!(q.status, StatusCode::OK);
    let first = q.body.find(&reference_for(danger)).expect("listed");
    let second = q.body.find(&reference_for(older)).expect("listed");
    assert!(
        first < second,
        "the child in immediate danger comes first, though received later"
    );
    assert!(
        q.body.contains("due today (by end of Friday 6 June)"),
        "same day: {}",
        q.body
    );
    assert!(q.body.contains("due by end of Monday 9 June"));

    // The same-day deadline passes at midnight: overdue on Saturday.
    app.set_now(Utc.with_ymd_and_hms(2025, 6, 7, 9, 0, 0).unwrap());
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let q = triage.get("/triage").await;
    assert!(
        q.body.contains("overdue since end of Friday 6 June"),
        "{}",
        q.body
    );

    // The referral page says the police were not called.
    let page = triage.get(&format!("/referrals/{danger}")).await;
    assert!(page
        .body
        .contains("No: the referrer had not called the police"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_police_question_is_required_with_immediate_danger_and_the_out_of_hours_number_is_shown(
) {
    let app = TestApp::start_with_config(vigil_web::Config {
        secure_cookies: false,
        out_of_hours: vigil_web::OutOfHours {
            name: "Northshire emergency duty team".into(),
            phone: "01632 960 555".into(),
        },
        ..vigil_web::Config::default()
    })
    .await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let form = teacher.get("/referrals/new").await;
    assert!(form.body.contains("Northshire emergency duty team"));
    assert!(form.body.contains("01632 960 555"));

    // Immediate danger without saying whether the police were called.
    let f = without(danger_form("Mia"), "police_called");
    let r = teacher.post("/referrals/new", &pairs(&f)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Say whether the police have been called"));
    assert!(
        r.body.contains("The child is in immediate danger</h2>"),
        "the emergency box comes first"
    );
    assert!(r.body.contains("01632 960 555"));
    // A hostile answer is refused, not guessed at.
    let f = with(
        danger_form("Mia"),
        "police_called",
        "<script>alert(1)</script>",
    );
    let r = teacher.post("/referrals/new", &pairs(&f)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.body.contains("<script>alert(1)"));
    assert!(!app.kinds().contains(&"referral.submitted".to_owned()));

    let id = submit_referral(&teacher, &danger_form("Mia")).await;
    let receipt = teacher
        .get(&format!("/referrals/{id}/receipt?sent=1"))
        .await;
    assert!(receipt.body.contains("01632 960 555"), "on the receipt too");
    assert!(receipt.body.contains("Police called"));
}

async fn a_decision_below_a_strategy_discussion_on_immediate_danger_needs_a_reason(app: &TestApp) {
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &danger_form("Mia")).await;
    let other = submit_referral(&teacher, &referral_form()).await;
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let form = triage.get(&format!("/referrals/{id}/decide")).await;
    assert!(form.body.contains("needs a reason"));
    for decision in ["early_help", "assessment", "no_further_action"] {
        let r = triage
            .post(
                &format!("/referrals/{id}/decide"),
                &[("decision", decision), ("reason", "   ")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{decision}");
        assert!(r.body.contains("needs a reason"), "{decision}: {}", r.body);
    }
    assert!(!app.kinds().contains(&"referral.decided".to_owned()));
    // With a reason it is recorded, and the page links to the next referral.
    let r = triage
        .post(
            &format!("/referrals/{id}/decide"),
            &[
                ("decision", "assessment"),
                (
                    "reason",
                    "Police attended and the child is safe at home tonight.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = triage.get(&r.location).await;
    assert!(page.body.contains("Your decision has been recorded"));
    assert!(
        page.body.contains(&format!("href=\"/referrals/{other}\"")),
        "a link to the next referral"
    );
    assert!(page.body.contains(&reference_for(other)));
    // Passing to the police needs no reason.
    let id2 = submit_referral(&teacher, &danger_form("Ana")).await;
    let r = triage
        .post(
            &format!("/referrals/{id2}/decide"),
            &[("decision", "pass_to_police")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// The unnamed child of the issue: a description, an age, where seen.
fn unnamed_form() -> Vec<(&'static str, String)> {
    let f = without(without(referral_form(), "child_given"), "child_family");
    let f = without(without(without(f, "dob_day"), "dob_month"), "dob_year");
    let f = with(
        f,
        "child_description",
        "A girl, dark hair, grey school coat.",
    );
    let f = with(f, "child_age", "13");
    with(f, "where", "The taxi rank on Station Road")
}

async fn a_child_without_a_name_can_be_referred_and_linked_to_a_known_child_later(app: &TestApp) {
    let worker = app
        .login(&app.username("referrer", "riverside-youth-project"))
        .await;
    // Without a name, the description, the age and the place are each needed.
    for (missing, field) in [
        ("child_description", "child_given"),
        ("child_age", "child_age"),
        ("where", "where"),
    ] {
        let f = without(unnamed_form(), missing);
        let r = worker.post("/referrals/new", &pairs(&f)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "without {missing}");
        assert!(
            r.body.contains(&format!("href=\"#{field}\"")),
            "{missing}: {}",
            r.body
        );
    }
    let id = submit_referral(&worker, &unnamed_form()).await;
    let receipt = worker.get(&format!("/referrals/{id}/receipt")).await;
    assert!(receipt.body.contains("Name not known"));

    // A known child, referred by the school.
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let known = submit_referral(&teacher, &referral_form()).await;
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let page = triage.get(&format!("/referrals/{id}")).await;
    assert!(page.body.contains("A girl, dark hair, grey school coat."));
    assert!(page.body.contains("Find the child"));
    let unnamed_child = hidden(&page.body, "link_to").expect("the search form names the record");
    let known_page = triage.get(&format!("/referrals/{known}")).await;
    let known_child = known_page
        .body
        .split("href=\"/people/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let found = triage
        .get(&format!(
            "/search?q=Jade+Example&link_to={unnamed_child}&back=/referrals/{id}"
        ))
        .await;
    assert!(found.body.contains("This is the child"), "{}", found.body);
    let r = triage
        .post(
            "/links/pair/confirm",
            &[
                ("a", &unnamed_child),
                ("b", &known_child),
                ("back", &format!("/referrals/{id}")),
                (
                    "reason",
                    "Identified by the front door from the description.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("/referrals/{id}"));
    assert!(app.kinds().contains(&"person_match.confirmed".to_owned()));
    // The known child's record now shows the taxi-rank referral.
    let child = triage.get(&format!("/people/{known_child}")).await;
    assert!(child.body.contains(&reference_for(id)), "{}", child.body);
}

async fn possible_records_are_one_row_per_linked_person_with_their_referrals(app: &TestApp) {
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let worker = app
        .login(&app.username("referrer", "riverside-youth-project"))
        .await;
    // The same child three times from two agencies; two referrals decided.
    let a = submit_referral(&teacher, &referral_form()).await;
    let b = submit_referral(&worker, &referral_form()).await;
    let c = submit_referral(&teacher, &referral_form()).await;
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let r = triage
        .post(
            &format!("/referrals/{a}/decide"),
            &[
                ("decision", "no_further_action"),
                ("reason", "Known; already open."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Link the first two records as one child.
    let child_of = |body: &str| {
        body.split("href=\"/people/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned()
    };
    let ca = child_of(&triage.get(&format!("/referrals/{a}")).await.body);
    let cb = child_of(&triage.get(&format!("/referrals/{b}")).await.body);
    let r = triage
        .post("/links/pair/confirm", &[("a", &ca), ("b", &cb)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let page = triage.get(&format!("/referrals/{c}")).await;
    let table = page
        .body
        .split("id=\"possible-records-table\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .expect("possible records are listed");
    assert_eq!(
        table.matches("<tr><td").count(),
        1,
        "two linked records are one row: {table}"
    );
    assert!(table.contains("2 linked records of this child"), "{table}");
    assert!(
        table.contains("2 referrals: 1 awaiting a decision, 1 no further action"),
        "{table}"
    );
    // The sender's name and how to reach them.
    assert!(page.body.contains("Sent by"));
}

async fn the_referrer_sees_what_they_sent_and_adds_to_it_later(app: &TestApp) {
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let f = with(referral_form(), "call_back_on", "01632 960 123");
    let id = submit_referral(&teacher, &f).await;
    let mine = teacher.get("/referrals/mine").await;
    assert!(mine.body.contains(&reference_for(id)));
    let receipt = teacher.get(&format!("/referrals/{id}/receipt")).await;
    assert!(receipt.body.contains("What you sent"));
    assert!(receipt
        .body
        .contains("Seen getting into cars with older men after school."));
    assert!(receipt.body.contains("01632 960 123"));

    // Empty, huge and hostile additions.
    let add = format!("/referrals/{id}/add");
    let r = teacher.post(&add, &[("information", "  \n ")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Write what you want to add"));
    let huge = "x".repeat(20_001);
    let r = teacher.post(&add, &[("information", &huge)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("the limit is 20000"), "{}", r.body);
    let r = teacher
        .post(&add, &[("information", "seen again\u{7}")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!app
        .kinds()
        .contains(&"referral.information_added".to_owned()));
    // Without the anti-forgery token: refused.
    let r = teacher
        .post_raw(&add, &[("information", "Seen again at the taxi rank.")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = teacher
        .post(
            &add,
            &[("information", "Seen again at the taxi rank <b>tonight</b>.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app
        .kinds()
        .contains(&"referral.information_added".to_owned()));
    let receipt = teacher
        .get(&format!("/referrals/{id}/receipt?added=1"))
        .await;
    assert!(receipt.body.contains("What you added has been recorded"));
    assert!(receipt.body.contains("Seen again at the taxi rank "));
    assert!(!receipt.body.contains("<b>tonight</b>"), "escaped");

    // Another referrer of the same school may not add to it; nor may triage.
    let other = app.login("second.teacher").await;
    let r = other.post(&add, &[("information", "Not mine.")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let r = triage.post(&add, &[("information", "Not mine.")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Triage sees it on the referral, and the child's chronology shows it.
    let page = triage.get(&format!("/referrals/{id}")).await;
    assert!(page.body.contains("Added by the sender since"));
    assert!(page.body.contains("01632 960 123"), "call back number");
    let child = page
        .body
        .split("href=\"/people/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let record = triage.get(&format!("/people/{child}")).await;
    assert!(
        record.body.contains("information added") || record.body.contains("Information added"),
        "{}",
        record.body
    );
}

async fn a_session_that_expires_mid_referral_loses_nothing(app: &TestApp) {
    let teacher_name = app.username("referrer", "oakfield-academy");
    let mut teacher = app.login(&teacher_name).await;
    let form = teacher.get("/referrals/new").await;
    assert!(
        form.body.contains("data-idle-minutes=\"30\""),
        "the page can warn"
    );
    assert!(form.body.contains("id=\"session-warning\""));

    // Forty minutes of typing: the session has ended by the time it is sent.
    app.set_now(common::monday_morning() + Duration::minutes(40));
    let f = with(
        referral_form(),
        "what_seen",
        "She said \"he's my boyfriend\"; the car was a silver Astra, NS19 ?KT.\nSecond line.",
    );
    let r = teacher.post("/referrals/new", &pairs(&f)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.location.starts_with("/login?next=%2Freferrals%2Fresume"),
        "{}",
        r.location
    );
    assert!(
        !app.kinds().contains(&"referral.submitted".to_owned()),
        "not sent yet"
    );
    let login = teacher.get(&r.location).await;
    assert!(login.body.contains("Nothing you typed is lost"));

    // Someone else signing in on that browser gets nothing of it.
    let second = {
        // The same browser: the same cookie jar.
        let mut c = common::Client {
            base: teacher.base.clone(),
            http: teacher.http.clone(),
            csrf: String::new(),
        };
        let r = c.sign_in("second.teacher", PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        c.get("/referrals/resume").await
    };
    assert_eq!(
        second.status,
        StatusCode::SEE_OTHER,
        "nothing held for them"
    );
    assert!(!second.body.contains("silver Astra"));

    // The author signs in again and finds every field as typed.
    let r = teacher.sign_in(&teacher_name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = teacher.get("/referrals/resume").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Nothing you typed has been lost"));
    assert!(page
        .body
        .contains("She said &quot;he&#x27;s my boyfriend&quot;; the car was a silver Astra, NS19 ?KT.\nSecond line.")
        || page.body.contains("She said &#34;he&#39;s my boyfriend&#34;; the car was a silver Astra, NS19 ?KT.\nSecond line."),
        "{}", page.body);
    assert!(page.body.contains("value=\"Jade\""));
    // Taken once: a second look finds nothing.
    let again = teacher.get("/referrals/resume").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    // Sending it is the ordinary referral.
    teacher.csrf = hidden(&page.body, "csrf").unwrap();
    let id = submit_referral(&teacher, &f).await;
    let receipt = teacher.get(&format!("/referrals/{id}/receipt")).await;
    assert!(receipt.body.contains("silver Astra"));
}

async fn a_form_sent_on_an_ended_session_with_a_forged_token_is_not_kept(app: &TestApp) {
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    app.set_now(common::monday_morning() + Duration::minutes(40));
    let f = referral_form();
    let mut p = vec![("csrf", "forged")];
    p.extend(pairs(&f));
    let r = teacher.post_raw("/referrals/new", &p).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // No session at all: to sign in, nothing kept (no account to keep it for).
    let stranger = app.client();
    let r = stranger.post("/referrals/new", &pairs(&f)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!r.location.contains("resume"));
    // Huge: refused as too large, nothing kept.
    let huge = "a".repeat(2 * 1024 * 1024);
    let r = teacher
        .post("/referrals/new", &[("concern", huge.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn small_things_from_the_walk_through(app: &TestApp) {
    // The username field helps password managers.
    let login = app.client().get("/login").await;
    assert!(login.body.contains("autocomplete=\"username\""));
    // A refused page keeps the header and the menu.
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let r = teacher.get("/triage").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Sign out"), "{}", r.body);
    assert!(r.body.contains("href=\"/referrals/mine\""));
    // Decisions are told apart by colour: no further action is not green.
    let a = submit_referral(&teacher, &referral_form()).await;
    let b = submit_referral(&teacher, &referral_form()).await;
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    triage
        .post(
            &format!("/referrals/{a}/decide"),
            &[("decision", "no_further_action"), ("reason", "Checked.")],
        )
        .await;
    triage
        .post(
            &format!("/referrals/{b}/decide"),
            &[("decision", "early_help")],
        )
        .await;
    let mine = teacher.get("/referrals/mine").await;
    assert!(
        mine.body
            .contains("v-tag--grey\">Decided: no further action"),
        "{}",
        mine.body
    );
    assert!(mine.body.contains("v-tag--green\">Decided: early help"));
    // Tables stack on a phone.
    assert!(mine.body.contains("v-table--stack"));
    // The overdue page and its rows say the same about who was told: a
    // referral 3 working days late has gone to the head of service.
    submit_referral(&teacher, &referral_form()).await;
    app.set_now(common::monday_morning() + Duration::days(4)); // Friday
                                                               // The server's timer: the rules runner records escalations.
    app.state.app.run_alerts().await.unwrap();
    let sup = app
        .login(&app.username("supervisor", "northshire-childrens-services"))
        .await;
    let overdue = sup.get("/overdue").await;
    assert!(
        overdue.body.contains("Escalated to the head of service"),
        "{}",
        overdue.body
    );
    assert!(!overdue.body.contains("escalated to you"));
    assert!(overdue
        .body
        .contains("to the head of service once it was more than 2 working days late"));
    // Disabling an account asks to confirm first.
    let admin = app
        .login(&app.username("administrator", "oakfield-academy"))
        .await;
    let r = admin
        .post(
            "/admin/users/second.teacher/disable",
            &[("disable_reason", "Left the school")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Tick the box to confirm"));
    assert!(!app.kinds().contains(&"user.disabled".to_owned()));
    let r = admin
        .post(
            "/admin/users/second.teacher/disable",
            &[
                ("disable_reason", "Left the school"),
                ("disable_confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app.kinds().contains(&"user.disabled".to_owned()));
}
