//! Access over real HTTP: every role at every kind of agency, on every page,
//! gets the page where the access table allows it and 403 where it does
//! not; guessing another agency's or another referrer's referral is
//! refused; nothing deletes a referral.

mod common;

use common::{referral_form, submit_referral, TestApp};
use reqwest::{Method, StatusCode};
use vigil_model::codes::AgencyKind;
use vigil_web::access::{authorise, Action, Resource, Subject};

fn kind_of(code: &str) -> AgencyKind {
    if code == vigil_web::users::ADMIN_AGENCY_CODE {
        return AgencyKind::Other; // registered by the demo accounts
    }
    common::AGENCIES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, _, k)| *k)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_at_every_agency_gets_exactly_the_pages_the_table_allows() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&teacher, &referral_form()).await;
    let child = app
        .store
        .entity(referral)
        .unwrap()
        .unwrap()
        .as_kind::<vigil_model::state::ReferralState>()
        .expect("a referral")
        .child_id
        .to_string();
    let by = app.username("referrer", "oakfield-academy");
    let on_referral = Resource::Referral {
        submitted_by: vigil_model::payload::user_id_for(&by),
        agency: "oakfield-academy",
    };
    let on_child = Resource::Person {
        recorded_by_agency: "oakfield-academy",
    };
    let pages: Vec<(String, Action, Resource<'_>)> = vec![
        (
            "/referrals/new".into(),
            Action::SubmitReferral,
            Resource::Page,
        ),
        (
            "/referrals/mine".into(),
            Action::ListOwnReferrals,
            Resource::Page,
        ),
        ("/triage".into(), Action::ViewTriageQueue, Resource::Page),
        ("/overdue".into(), Action::ViewOverdue, Resource::Page),
        ("/audit".into(), Action::ViewAccessLog, Resource::Page),
        ("/admin/users".into(), Action::ViewUsers, Resource::Page),
        (
            "/admin/users/new".into(),
            Action::ManageUsers,
            Resource::Page,
        ),
        (
            format!("/admin/users/{by}"),
            Action::ViewUsers,
            Resource::Account {
                agency: "oakfield-academy",
            },
        ),
        (
            format!("/referrals/{referral}/receipt"),
            Action::ViewReceipt,
            on_referral,
        ),
        (
            format!("/referrals/{referral}/receipt.json"),
            Action::ViewReceipt,
            on_referral,
        ),
        (
            format!("/referrals/{referral}/payload.json"),
            Action::ViewReceipt,
            on_referral,
        ),
        (
            format!("/referrals/{referral}"),
            Action::ViewReferral,
            on_referral,
        ),
        (
            format!("/referrals/{referral}/decide"),
            Action::DecideReferral,
            on_referral,
        ),
        (format!("/people/{child}"), Action::ViewPerson, on_child),
        (
            format!("/people/{child}/screening"),
            Action::RecordScreening,
            on_child,
        ),
        (
            format!("/referrals/new?child={child}"),
            Action::ViewPerson,
            on_child,
        ),
    ];
    let mut accounts: Vec<(String, vigil_model::codes::Role, String)> = app
        .accounts
        .iter()
        .map(|a| (a.username.clone(), a.role, a.agency_code.clone()))
        .collect();
    accounts.push((
        "second.teacher".into(),
        vigil_model::codes::Role::Referrer,
        "oakfield-academy".into(),
    ));
    assert!(accounts.len() > 30, "every role at several agencies");
    let mut checked = 0;
    let (mut allowed, mut refused) = (0, 0);
    for (username, role, agency) in &accounts {
        let c = app.login(username).await;
        let who = Subject {
            user_id: vigil_model::payload::user_id_for(username),
            username,
            role: *role,
            agency,
            agency_kind: kind_of(agency),
        };
        for (path, action, resource) in &pages {
            let mut expected = authorise(&who, *action, *resource).is_ok();
            if path.ends_with("/screening") {
                // The form shows the child: it needs both.
                expected &= authorise(&who, Action::ViewPerson, *resource).is_ok();
            }
            if path.contains("?child=") {
                // Raising a concern about an existing child needs both.
                expected &= authorise(&who, Action::SubmitReferral, Resource::Page).is_ok();
            }
            let r = c.get(path).await;
            let want = if expected {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                r.status, want,
                "{username} ({role:?} at {agency}) GET {path}: expected {want}"
            );
            if expected {
                allowed += 1;
            } else {
                refused += 1;
                assert!(
                    r.body.contains("You cannot do this"),
                    "a 403 is a page that says why"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked}");
    assert!(
        allowed > 60 && refused > 200,
        "{allowed} allowed, {refused} refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_another_agencys_or_another_referrers_referral_is_refused() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let mine = submit_referral(&teacher, &referral_form()).await;
    let officer = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    let police_referral = submit_referral(&officer, &referral_form()).await;

    // A practitioner reaches their own agency's referrals only.
    assert_eq!(
        officer
            .get(&format!("/referrals/{police_referral}"))
            .await
            .status,
        StatusCode::OK
    );
    let r = officer.get(&format!("/referrals/{mine}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("belongs to another agency"), "{}", r.body);
    assert!(
        !r.body.contains("Seen getting into cars"),
        "nothing of the referral is shown"
    );

    // A referrer sees their own receipt, not a colleague's, and never the referral itself.
    let colleague = app.login("second.teacher").await;
    for path in [
        format!("/referrals/{mine}/receipt"),
        format!("/referrals/{mine}/receipt.json"),
        format!("/referrals/{mine}"),
        format!("/referrals/{police_referral}/receipt"),
    ] {
        let r = colleague.get(&path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        teacher
            .get(&format!("/referrals/{mine}/receipt"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        teacher.get(&format!("/referrals/{mine}")).await.status,
        StatusCode::FORBIDDEN
    );
    let listed = colleague.get("/referrals/mine").await;
    assert!(
        !listed.body.contains(&mine.to_string()),
        "My referrals lists only one's own"
    );
    let listed = teacher.get("/referrals/mine").await;
    assert!(listed.body.contains(&mine.to_string()));

    // Deciding needs the triage role; a referrer's POST is refused and records nothing.
    let before = app.store.log_size().unwrap();
    let r = teacher
        .post(
            &format!("/referrals/{mine}/decide"),
            &[("decision", "no_further_action"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let auditor = app.login(&app.username("auditor", "home-office")).await;
    let r = auditor
        .post(
            &format!("/referrals/{mine}/decide"),
            &[("decision", "early_help")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an auditor changes nothing"
    );
    let r = auditor
        .post("/referrals/new", &[("immediate_danger", "no")])
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "an auditor raises no referral"
    );
    assert_eq!(app.store.log_size().unwrap(), before);

    // An id that does not exist is not found; one that is not an id, too.
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let r = triage
        .get(&format!("/referrals/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        triage.get("/referrals/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        triage.get(&format!("/referrals/{mine}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_can_never_be_deleted_or_changed_by_other_methods() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let admin = app
        .login(&app.username("administrator", "northshire-childrens-services"))
        .await;
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    for c in [&teacher, &admin, &triage] {
        for method in [Method::DELETE, Method::PUT, Method::PATCH] {
            for path in [
                format!("/referrals/{id}"),
                format!("/referrals/{id}/receipt"),
                format!("/referrals/{id}/receipt.json"),
                format!("/referrals/{id}/decide"),
            ] {
                let r = c.request(method.clone(), &path).await;
                assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            }
        }
        for path in ["/referrals/delete", "/referrals/1/delete", "/api/referrals"] {
            let r = c.request(Method::POST, path).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::METHOD_NOT_ALLOWED,
                "{path}: {}",
                r.status
            );
        }
    }
    let r = triage.get(&format!("/referrals/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "the referral is still there");
    assert_eq!(
        app.kinds()
            .iter()
            .filter(|k| *k == "referral.submitted")
            .count(),
        1
    );
}

/// A GET, or a POST of an empty form with this client's token.
async fn send(c: &common::Client, method: &Method, path: &str) -> common::Response {
    if *method == Method::POST {
        c.post(path, &[]).await
    } else {
        c.get(path).await
    }
}

/// The routes that need no rule of the access table, and why.
const WITHOUT_A_RULE: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/",
        "the home page lists what the user's role may do",
    ),
    ("GET", "/login", "signing in"),
    ("POST", "/login", "signing in"),
    ("POST", "/logout", "one's own session"),
    ("GET", "/account/password", "one's own password"),
    ("POST", "/account/password", "one's own password"),
    (
        "POST",
        "/language/check",
        "checks the words one is typing; reads and records nothing",
    ),
    ("GET", "/static/vigil.css", "a static file"),
    ("GET", "/static/vigil.js", "a static file"),
    (
        "GET",
        "/log-key.pub",
        "the log's public key, for checking receipts",
    ),
    ("GET", "/healthz", "for the load balancer"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_has_a_rule_in_the_access_table_and_enforces_it() {
    use vigil_web::access::{scope_of, RULES};
    use vigil_web::routes::{Gate, ROUTES};
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&teacher, &referral_form()).await;
    let child = app
        .store
        .entity(referral)
        .unwrap()
        .unwrap()
        .as_kind::<vigil_model::state::ReferralState>()
        .expect("a referral")
        .child_id
        .to_string();
    let anonymous = app.client();
    let mut refused = 0;
    for route in ROUTES {
        let method = route.method.as_str();
        let what = format!("{method} {}", route.path);
        let path = route
            .path
            .replace(
                "{id}",
                &if route.path.starts_with("/people") {
                    child.clone()
                } else {
                    referral.to_string()
                },
            )
            .replace("{username}", "second.teacher");
        let r = send(&anonymous, &route.method, &path).await;
        let to_sign_in = r.status == StatusCode::SEE_OTHER && r.location.starts_with("/login");
        match route.gate {
            Gate::Public | Gate::SignedIn => {
                assert!(
                    WITHOUT_A_RULE
                        .iter()
                        .any(|(m, p, _)| *m == method && *p == route.path),
                    "{what} has no rule in the access table: give it Gate::Action"
                );
                assert_eq!(to_sign_in, route.gate == Gate::SignedIn, "{what}");
            }
            Gate::Action(action) => {
                assert!(
                    RULES.iter().any(|r| r.action == action),
                    "{what} is {action:?}, which has no rule in the access table"
                );
                assert!(to_sign_in, "{what} without signing in: {}", r.status);
                // Someone whose role has no rule for it is refused.
                let outsider = app
                    .accounts
                    .iter()
                    .find(|a| scope_of(a.role, kind_of(&a.agency_code), action).is_none())
                    .unwrap_or_else(|| panic!("every role may {action:?}?"));
                let c = app.login(&outsider.username).await;
                let r = send(&c, &route.method, &path).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{what} by {} ({:?})",
                    outsider.username,
                    outsider.role
                );
                refused += 1;
            }
        }
    }
    assert!(refused >= 20, "{refused}");
}
