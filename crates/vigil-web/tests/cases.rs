//! Cases over real HTTP, on both backends: the front door opens a case for
//! a referred child; the allocated worker adds actions and asks to close
//! it while work is live; a supervisor signs the closure off (recorded);
//! a new referral within six months says the case closed recently; late
//! actions reach the owner and the supervisor and are ticked off; an
//! uninvolved agency is refused. Every form gets wrong, empty, huge and
//! hostile input.

mod common;

use chrono::{TimeZone, Utc};
use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(a_case_is_opened_worked_and_closed_with_a_sign_off: closure_sqlite, closure_postgres);
on_both_backends!(late_actions_reach_the_owner_and_the_supervisor: actions_sqlite, actions_postgres);

const COUNCIL: &str = "northshire-childrens-services";

fn count(app: &TestApp, kind: &str) -> usize {
    app.kinds().iter().filter(|k| *k == kind).count()
}

async fn post_pairs(
    c: &Client,
    path: &str,
    pairs: Vec<(&'static str, String)>,
) -> common::Response {
    let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.post(path, &p).await
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{path}: {} {}",
        r.location,
        r.body
    );
    r.body
}

fn case_form<'a>(child: &'a str, worker: &'a str, reason: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("child", child),
        ("referral", ""),
        ("level", "exploitation"),
        ("reason", reason),
        ("lead", COUNCIL),
        ("worker", worker),
        ("risk", "high"),
        ("risk_reason", "Seen with older men at the taxi rank twice."),
    ]
}

/// Opens a case as `c`; returns its id from the redirect.
async fn open_case(c: &Client, child: Uuid, worker: &str) -> Uuid {
    let child = child.to_string();
    let r = c
        .post(
            "/cases/new",
            &case_form(&child, worker, "Referred by the school."),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    Uuid::parse_str(r.location.strip_prefix("/cases/").unwrap()).unwrap()
}

async fn a_case_is_opened_worked_and_closed_with_a_sign_off(app: &TestApp) {
    let referrer = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&referrer, &referral_form()).await;
    let child = app.child_of_referral(referral);
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let sw_name = app.username("practitioner", COUNCIL);
    let sw = app.login(&sw_name).await;
    let tm = app.login(&app.username("supervisor", COUNCIL)).await;
    let police = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;

    // The child's page offers to open a case; the form names the child.
    let person = page(&triage, &format!("/people/{child}")).await;
    assert!(person.contains("id=\"open-case-link\""), "{person}");
    assert!(person.contains("No case you may see"), "{person}");
    let form = page(&triage, &format!("/cases/new?child={child}")).await;
    assert!(form.contains("Open a case") && form.contains("Jade Example"));
    for bad in ["not-an-id", "", &Uuid::now_v7().to_string()] {
        let r = triage.get(&format!("/cases/new?child={bad}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }

    // Empty: every field named, nothing written.
    let c = child.to_string();
    let r = triage.post("/cases/new", &[("child", &c)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for msg in [
        "Choose the level of the case.",
        "Write why the case is opened.",
        "Choose the lead agency.",
        "Enter the allocated worker",
        "Choose low, medium or high risk.",
    ] {
        assert!(r.body.contains(msg), "{msg}: {}", r.body);
    }
    // Wrong: an unknown level, risk, agency and worker.
    let mut wrong = case_form(&c, "nobody.at.all", "x");
    wrong[2] = ("level", "top");
    let r = triage.post("/cases/new", &wrong).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Choose the level of the case."));
    let r = triage
        .post("/cases/new", &case_form(&c, "nobody.at.all", "x"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("There is no account"), "{}", r.body);
    // What was typed is kept.
    assert!(r
        .body
        .contains("Seen with older men at the taxi rank twice."));
    // Huge: refused by length (or by the body limit), never stored.
    let huge = "x".repeat(30_000);
    let r = triage
        .post("/cases/new", &case_form(&c, &sw_name, &huge))
        .await;
    assert!(
        r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        r.status
    );
    assert_eq!(count(app, "case.opened"), 0);

    // Hostile text is stored as text and shown escaped.
    let hostile = "<script>alert(1)</script> Referred by the school.";
    let r = triage
        .post("/cases/new", &case_form(&c, &sw_name, hostile))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = r.location.strip_prefix("/cases/").unwrap().to_owned();
    let case_path = format!("/cases/{id}");
    let body = page(&triage, &case_path).await;
    assert!(!body.contains("<script>alert(1)"));
    assert!(body.contains("&#60;script&#62;"));
    assert!(body.contains("High risk"));

    // Involvement: the worker sees it; an uninvolved agency does not.
    let r = police.get(&case_path).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("Jade"), "a refusal names nobody");
    let body = page(&sw, &case_path).await;
    assert!(body.contains("id=\"add-action-form\""));
    // The child's page lists the case.
    let person = page(&triage, &format!("/people/{child}")).await;
    assert!(
        person.contains(&format!("href=\"{case_path}\"")),
        "{person}"
    );

    // Actions: wrong, empty, then right.
    let add = |text: &'static str, owner: String, due: &'static str| {
        vec![
            ("form", "add_action".to_owned()),
            ("a_text", text.to_owned()),
            ("a_owner", owner),
            ("a_due", due.to_owned()),
        ]
    };
    let r = post_pairs(
        &sw,
        &case_path,
        add("Visit at home", sw_name.clone(), "2025-06-01"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("The due day is in the past."));
    let r = post_pairs(
        &sw,
        &case_path,
        add("Visit at home", "nobody.at.all".into(), "2025-06-04"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("There is no account"));
    let r = post_pairs(&sw, &case_path, vec![("form", "add_action".into())]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Write what is to be done."));
    let r = post_pairs(&sw, &case_path, vec![("form", "drop_table".into())]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post_pairs(
        &sw,
        &case_path,
        add("Visit at home", sw_name.clone(), "4/6/2025"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "case.action_added"), 1);
    // The police cannot change it.
    let r = post_pairs(
        &police,
        &case_path,
        add("Visit", sw_name.clone(), "2025-06-04"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The worker asks to close with an action open: a request, not a closure.
    let body = page(&sw, &case_path).await;
    assert!(
        body.contains("1 action on the case is still open"),
        "{body}"
    );
    assert!(body.contains("Ask a supervisor to close it"));
    let r = post_pairs(
        &sw,
        &case_path,
        vec![("form", "close".into()), ("c_reason", "".into())],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post_pairs(
        &sw,
        &case_path,
        vec![
            ("form", "close".into()),
            ("c_reason", "The family has moved away.".into()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "case.closure_requested"), 1);
    assert_eq!(count(app, "case.closed"), 0);
    let body = page(&sw, &case_path).await;
    assert!(body.contains("waits for a supervisor"), "{body}");
    // Only a supervisor may answer it.
    let r = sw
        .post(
            &format!("{case_path}/closure"),
            &[("decision", "sign_off"), ("so_note", "Fine")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The supervisor sees it waiting, and must write a note.
    let overdue = page(&tm, "/overdue/actions").await;
    assert!(overdue.contains("id=\"closures-table\""), "{overdue}");
    assert!(overdue.contains("The family has moved away."));
    let r = tm
        .post(
            &format!("{case_path}/closure"),
            &[("decision", "sign_off"), ("so_note", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Write your note."));
    let r = tm
        .post(
            &format!("{case_path}/closure"),
            &[("decision", "maybe"), ("so_note", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = tm
        .post(
            &format!("{case_path}/closure"),
            &[
                ("decision", "sign_off"),
                ("so_note", "Checked with the new school: support in place."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "case.closed"), 1);
    let body = page(&tm, &case_path).await;
    assert!(body.contains("Closure signed off"), "{body}");
    assert!(body.contains("Checked with the new school"));
    assert!(body.contains(&format!(
        "Closing asked for by</dt><dd class=\"v-pre-wrap\">{sw_name}"
    )));
    assert!(!page(&tm, "/overdue/actions")
        .await
        .contains("closures-table"));

    // A further referral about the child: the referral page says the case
    // closed recently.
    let mut form = referral_form();
    form.push(("child_id", c.clone()));
    let again = submit_referral(&triage, &form).await;
    assert_eq!(app.child_of_referral(again), child);
    let body = page(&triage, &format!("/referrals/{again}")).await;
    assert!(body.contains("id=\"recently-closed\""), "{body}");
    assert!(body.contains("The family has moved away."));
    // Seven months on, it no longer does.
    app.set_now(Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap());
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let body = page(&triage, &format!("/referrals/{again}")).await;
    assert!(!body.contains("id=\"recently-closed\""));
}

async fn late_actions_reach_the_owner_and_the_supervisor(app: &TestApp) {
    let referrer = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&referrer, &referral_form()).await;
    let child = app.child_of_referral(referral);
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let sw_name = app.username("practitioner", COUNCIL);
    let sw = app.login(&sw_name).await;
    let tm = app.login(&app.username("supervisor", COUNCIL)).await;
    let id = open_case(&triage, child, &sw_name).await;
    let case_path = format!("/cases/{id}");
    // Due today (Monday 2 June 2025).
    let r = sw
        .post(
            &case_path,
            &[
                ("form", "add_action"),
                ("a_text", "Call the school"),
                ("a_owner", &sw_name),
                ("a_due", "2025-06-02"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mine = page(&sw, "/actions/mine").await;
    assert!(
        mine.contains("Call the school") && mine.contains(">Open<"),
        "{mine}"
    );
    assert!(!page(&tm, "/overdue/actions")
        .await
        .contains("Call the school"));

    // Wednesday: a working day late, so the supervisor's.
    app.set_now(Utc.with_ymd_and_hms(2025, 6, 4, 9, 0, 0).unwrap());
    // (Sessions end when idle: sign in again two days on.)
    let sw = app.login(&sw_name).await;
    let tm = app.login(&app.username("supervisor", COUNCIL)).await;
    let mine = page(&sw, "/actions/mine").await;
    assert!(mine.contains(">Overdue<"), "{mine}");
    let overdue = page(&tm, "/overdue/actions").await;
    assert!(overdue.contains("Call the school"), "{overdue}");
    assert!(overdue.contains("Jade Example"));
    let case = page(&sw, &case_path).await;
    assert!(case.contains("1 overdue action"));

    // Ticking it off: wrong input first.
    let action = common::hidden(&mine, "action_id").expect("a close form");
    let close = format!("{case_path}/actions/close");
    for (a, s) in [
        ("not-an-id", "done"),
        (action.as_str(), "open"),
        (action.as_str(), ""),
    ] {
        let r = sw.post(&close, &[("action_id", a), ("status", s)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{a} {s}");
    }
    let other = Uuid::now_v7().to_string();
    let r = sw
        .post(&close, &[("action_id", &other), ("status", "done")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // An address elsewhere is not followed back.
    let r = sw
        .post(
            &close,
            &[
                ("action_id", &action),
                ("status", "done"),
                ("note", "Spoke to the head of year."),
                ("back", "https://elsewhere.example/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("{case_path}#actions"));
    assert_eq!(count(app, "case.action_closed"), 1);
    assert!(page(&sw, "/actions/mine").await.contains("None."));
    assert!(!page(&tm, "/overdue/actions")
        .await
        .contains("Call the school"));
    let case = page(&sw, &case_path).await;
    assert!(case.contains("Spoke to the head of year."));
    // Closing again is refused by the model with a sentence.
    let r = sw
        .post(&close, &[("action_id", &action), ("status", "done")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Nothing live now: the worker closes the case without a sign-off.
    let r = sw
        .post(
            &case_path,
            &[("form", "close"), ("c_reason", "Support in place.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "case.closed"), 1);
    assert_eq!(count(app, "case.closure_requested"), 0);

    // An auditor reads the case and may change nothing.
    let auditor = app.login(&app.username("auditor", COUNCIL)).await;
    let body = page(&auditor, &case_path).await;
    assert!(!body.contains("id=\"add-action-form\""));
    let r = auditor
        .post(&case_path, &[("form", "close"), ("c_reason", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

on_both_backends!(a_case_shows_the_referral_that_opened_it: referral_sqlite, referral_postgres);

/// The school that referred is not on the case, but its referral is where
/// the case starts: the worker of another agency sees it in the case's
/// chronology; a case opened without a referral shows no school record.
async fn a_case_shows_the_referral_that_opened_it(app: &TestApp) {
    let referrer = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&referrer, &referral_form()).await;
    let child = app.child_of_referral(referral);
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let sw_name = app.username("practitioner", COUNCIL);
    let sw = app.login(&sw_name).await;
    let c = child.to_string();
    let open = |with: String| {
        let mut form = case_form(&c, &sw_name, "Referred by the school.");
        let with: &'static str = Box::leak(with.into_boxed_str());
        form[1] = ("referral", with);
        form
    };
    // Without the referral: the school's records are not the case's.
    let r = triage.post("/cases/new", &open(String::new())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plain = page(&sw, &r.location).await;
    let rows = plain.split("id=\"chronology-table\"").nth(1).unwrap_or("");
    assert!(!rows.contains("Referral received"), "{rows}");
    // From the referral: it is shown.
    let r = triage.post("/cases/new", &open(referral.to_string())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let from_referral = page(&sw, &r.location).await;
    let rows = from_referral
        .split("id=\"chronology-table\"")
        .nth(1)
        .unwrap_or("");
    assert!(rows.contains("Referral received"), "{rows}");
}
