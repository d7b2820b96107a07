//! Account administration cannot be turned into access (review items 6 and 7):
//! an agency's administrator manages only that agency's accounts, in roles
//! that reach no further than it; and a username that has acted in the log
//! can never be given to a new account, while ownership of a submission is
//! by user id and agency together. On both backends.

mod common;

use common::{referral_form, TestApp};
use reqwest::StatusCode;
use std::sync::Arc;
use vigil_model::codes::{AgencyId, Role};
use vigil_model::payload::{user_id_for, UserRegistered};
use vigil_model::{Actor, EventPayload, OccurredAt};
use vigil_web::form::FormData;
use vigil_web::intake;

const YOUTH: &str = "riverside-youth-project";
const POLICE: &str = "northshire-police";

async fn agency_id(app: &TestApp, code: &str) -> String {
    let st = Arc::clone(&app.state);
    tokio::task::spawn_blocking(move || st.refresh_accounts().unwrap())
        .await
        .unwrap();
    app.state
        .agency_by_code(code)
        .unwrap_or_else(|| panic!("no agency {code}"))
        .id
        .to_string()
}

/// How many events of a kind the log holds (read off the async threads:
/// the PostgreSQL client must not run on them).
async fn count(app: &TestApp, kind: &'static str) -> usize {
    let store = Arc::clone(&app.store);
    tokio::task::spawn_blocking(move || {
        let mut n = 0;
        store
            .for_each_entry(0, &mut |e| {
                let h: serde_json::Value = serde_json::from_str(&e.header_json).unwrap();
                n += usize::from(h["kind"] == kind);
                Ok(())
            })
            .unwrap();
        n
    })
    .await
    .unwrap()
}

async fn agency_administrators_cannot_reach_beyond_their_agency(app: TestApp) {
    let admin = app.login(&app.username("administrator", YOUTH)).await;
    let youth = agency_id(&app, YOUTH).await;
    let police = agency_id(&app, POLICE).await;
    let registered = count(&app, "user.registered").await;

    // An auditor reads every agency's records: not theirs to create.
    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", "Avery Auditor"),
                ("username", "a.auditor"),
                ("agency", &youth),
                ("role", "auditor"),
            ],
        )
        .await;
    assert!(!r.body.contains("Account created"), "{}", r.body);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // Nor an account at another agency, nor another administrator.
    for (agency, role) in [(&police, "referrer"), (&youth, "administrator")] {
        let r = admin
            .post(
                "/admin/users/new",
                &[
                    ("name", "Pat Other"),
                    ("username", "p.other"),
                    ("agency", agency),
                    ("role", role),
                ],
            )
            .await;
        assert!(!r.body.contains("Account created"), "{role}: {}", r.body);
    }
    assert_eq!(count(&app, "user.registered").await, registered);

    // The police administrator's password is not theirs to reset.
    let police_admin = app.username("administrator", POLICE);
    let r = admin
        .post(
            &format!("/admin/users/{police_admin}/reset"),
            &[("reset_reason", "Forgot it")],
        )
        .await;
    assert_ne!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("Temporary password"), "{}", r.body);
    assert_eq!(count(&app, "user.password_reset").await, 0);
    // Nor a police triage officer's role.
    let triage = app.username("triage", POLICE);
    let r = admin
        .post(
            &format!("/admin/users/{triage}/role"),
            &[("role", "auditor"), ("role_reason", "Audit work")],
        )
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(&app, "user.role_changed").await, 0);
    assert_eq!(app.state.user_by_name(&triage).unwrap().role, Role::Triage);
    // Other agencies' accounts are not listed, or shown.
    let list = admin.get("/admin/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains(&police_admin), "{}", list.body);
    assert!(list.body.contains(&app.username("referrer", YOUTH)));
    assert_eq!(
        admin.get(&format!("/admin/users/{triage}")).await.status,
        StatusCode::FORBIDDEN
    );

    // What stays within the agency still works, as an event.
    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", "Yan Youth"),
                ("username", "y.youth"),
                ("agency", &youth),
                ("role", "referrer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Account created"));
    assert_eq!(count(&app, "user.registered").await, registered + 1);
}

/// A referral about a child recorded by an actor that has no account (an
/// import, another system's events).
async fn referral_by_unregistered_actor(app: &TestApp, username: &str, agency: &str) -> uuid::Uuid {
    let pairs = referral_form();
    let form = FormData::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    let now = app.state.now();
    let drafts = intake::check(&form, now)
        .unwrap()
        .drafts(
            &Actor {
                user: username.into(),
                role: Role::Referrer,
            },
            &AgencyId::new(agency).unwrap(),
            now,
        )
        .unwrap();
    let id = drafts.referral_id;
    let store = Arc::clone(&app.store);
    let out = tokio::task::spawn_blocking(move || store.append(drafts.drafts).unwrap())
        .await
        .unwrap();
    assert!(out.results.iter().all(Result::is_ok));
    id
}

async fn a_name_that_acted_in_the_log_is_never_reused(app: TestApp) {
    referral_by_unregistered_actor(&app, "pc.005", POLICE).await;
    let admin = app.login(&app.username("administrator", YOUTH)).await;
    let youth = agency_id(&app, YOUTH).await;
    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", "Pip Newcomer"),
                ("username", "pc.005"),
                ("agency", &youth),
                ("role", "referrer"),
            ],
        )
        .await;
    assert!(!r.body.contains("Account created"), "{}", r.body);
    assert!(r.body.contains("used in the record before"), "{}", r.body);
}

/// Even an account that got an actor's name before that was refused
/// (written straight to the log here) owns nothing of another agency's.
async fn a_submission_is_owned_by_user_id_and_agency(app: TestApp) {
    let referral = referral_by_unregistered_actor(&app, "pc.005", POLICE).await;
    let youth = agency_id(&app, YOUTH).await;
    let store = Arc::clone(&app.store);
    let youth_id = uuid::Uuid::parse_str(&youth).unwrap();
    let now = app.state.now();
    tokio::task::spawn_blocking(move || {
        let (actor, agency) = vigil_web::queue::system_actor();
        let draft = vigil_app::referral::prepare(
            &actor,
            &agency,
            OccurredAt::exact(now),
            EventPayload::UserRegistered(UserRegistered {
                user_id: user_id_for("pc.005"),
                username: "pc.005".into(),
                name: "Pip Newcomer".into(),
                role: Role::Referrer,
                agency_id: youth_id,
            }),
            now,
        )
        .unwrap();
        assert!(store.append(vec![draft]).unwrap().results[0].is_ok());
        vigil_web::users::set_password(
            store.as_ref(),
            user_id_for("pc.005"),
            "pc.005",
            common::PASSWORD,
            false,
            now,
        )
        .unwrap();
    })
    .await
    .unwrap();
    let newcomer = app.login("pc.005").await;
    let mine = newcomer.get("/referrals/mine").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(!mine.body.contains(&referral.to_string()), "{}", mine.body);
    assert!(!mine.body.contains("Jade"), "{}", mine.body);
    for path in ["receipt", "receipt.json"] {
        let r = newcomer.get(&format!("/referrals/{referral}/{path}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_administrators_cannot_reach_beyond_their_agency_sqlite() {
    agency_administrators_cannot_reach_beyond_their_agency(TestApp::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_administrators_cannot_reach_beyond_their_agency_postgres() {
    if let Some(app) = TestApp::start_postgres().await {
        agency_administrators_cannot_reach_beyond_their_agency(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_acted_in_the_log_is_never_reused_sqlite() {
    a_name_that_acted_in_the_log_is_never_reused(TestApp::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_acted_in_the_log_is_never_reused_postgres() {
    if let Some(app) = TestApp::start_postgres().await {
        a_name_that_acted_in_the_log_is_never_reused(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_is_owned_by_user_id_and_agency_sqlite() {
    a_submission_is_owned_by_user_id_and_agency(TestApp::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_is_owned_by_user_id_and_agency_postgres() {
    if let Some(app) = TestApp::start_postgres().await {
        a_submission_is_owned_by_user_id_and_agency(app).await;
    }
}

async fn a_partnership_administrator_grants_what_agencies_cannot(app: TestApp) {
    let partnership = app
        .login(&app.username("partnership_administrator", "vigil-administration"))
        .await;
    let police = agency_id(&app, POLICE).await;
    let r = partnership
        .post(
            "/admin/users/new",
            &[
                ("name", "Avery Auditor"),
                ("username", "a.auditor"),
                ("agency", &police),
                ("role", "auditor"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Account created"));
    // Their own role is given only on the server, with `vigil user add`.
    let r = partnership
        .post(
            "/admin/users/new",
            &[
                ("name", "Pat Partner"),
                ("username", "p.partner"),
                ("agency", &police),
                ("role", "partnership_administrator"),
            ],
        )
        .await;
    assert!(!r.body.contains("Account created"), "{}", r.body);
    let r = partnership
        .post(
            &format!(
                "/admin/users/{}/reset",
                app.username("administrator", POLICE)
            ),
            &[("reset_reason", "Locked out, confirmed by phone")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Every grant is an event, by the person who made it.
    let store = Arc::clone(&app.store);
    let by = tokio::task::spawn_blocking(move || {
        let mut by = Vec::new();
        store
            .for_each_entry(0, &mut |e| {
                let h: serde_json::Value = serde_json::from_str(&e.header_json).unwrap();
                if h["kind"] == "user.registered" || h["kind"] == "user.password_reset" {
                    by.push(h["actor"]["user"].as_str().unwrap().to_owned());
                }
                Ok(())
            })
            .unwrap();
        by
    })
    .await
    .unwrap();
    let mine = by
        .iter()
        .filter(|u| u.as_str() == "partnership_administrator.vigil-administration")
        .count();
    assert_eq!(mine, 2, "{by:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partnership_administrator_grants_what_agencies_cannot_sqlite() {
    a_partnership_administrator_grants_what_agencies_cannot(TestApp::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partnership_administrator_grants_what_agencies_cannot_postgres() {
    if let Some(app) = TestApp::start_postgres().await {
        a_partnership_administrator_grants_what_agencies_cannot(app).await;
    }
}
