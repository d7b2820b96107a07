//! Accounts over real HTTP: signing in and its throttling, sessions that
//! end, temporary passwords that must be changed, administrators changing
//! and disabling accounts (in the log, with reasons), cookies, the access
//! log that an auditor reads, and receipts that verify.

mod common;

use chrono::Duration;
use common::{monday_morning, referral_form, submit_referral, TestApp, PASSWORD};
use reqwest::StatusCode;
use vigil_store::accounts::verify_access_log;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_make_sign_in_wait_and_it_says_until_when() {
    let app = TestApp::start().await;
    let name = app.username("referrer", "oakfield-academy");
    let mut c = app.client();
    for _ in 0..5 {
        let r = c.sign_in(&name, "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("The username or password is not right."));
    }
    // Now even the right password waits, and the page says until when.
    let r = c.sign_in(&name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.body
            .contains("too many failed sign-ins to this account. Try again after 10:00am"),
        "{}",
        r.body
    );
    // An unknown account is answered exactly like a wrong password.
    let r = c.sign_in("nobody.at.all", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("The username or password is not right."));
    // After the wait it works, and the count starts again.
    app.set_now(monday_morning() + Duration::seconds(31));
    let r = c.sign_in(&name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.store
            .login_failures(&format!("user:{name}"), 0)
            .unwrap()
            .0,
        0
    );
    // Attempts while waiting are not even checked; a failure after the
    // wait doubles the next one.
    let mut c = app.client();
    for _ in 0..5 {
        c.sign_in(&name, "wrong").await;
    }
    assert_eq!(
        c.sign_in(&name, "wrong").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.set_now(monday_morning() + Duration::seconds(62));
    assert_eq!(
        c.sign_in(&name, "wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.set_now(monday_morning() + Duration::seconds(62 + 45));
    assert_eq!(
        c.sign_in(&name, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "60 seconds now"
    );
    app.set_now(monday_morning() + Duration::seconds(62 + 61));
    assert_eq!(
        c.sign_in(&name, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_or_signed_out_and_cookies_are_strict() {
    let app = TestApp::start().await;
    let name = app.username("triage", "northshire-childrens-services");
    let mut c = app.client();
    let r = c.sign_in(&name, PASSWORD).await;
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    let session = cookie
        .iter()
        .find(|c| c.starts_with("vigil_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Strict")
            && session.contains("Path=/")
    );
    assert!(
        !session.contains("Secure"),
        "plain HTTP on loopback: not Secure (see docs/access.md)"
    );
    c.refresh_csrf().await;
    assert_eq!(c.get("/triage").await.status, StatusCode::OK);
    // Only the token's hash is stored.
    let token = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("vigil_session=");
    assert!(app
        .store
        .session(&vigil_web::auth::token_hash(token))
        .unwrap()
        .is_some());

    app.set_now(monday_morning() + Duration::minutes(29));
    assert_eq!(
        c.get("/triage").await.status,
        StatusCode::OK,
        "activity keeps it alive"
    );
    app.set_now(monday_morning() + Duration::minutes(29 + 31));
    let r = c.get("/triage").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/login?next=%2Ftriage&notice=ended");
    assert!(c
        .get("/login?notice=ended")
        .await
        .body
        .contains("Your session has ended"));

    let mut c = app.client();
    c.sign_in(&name, PASSWORD).await;
    c.refresh_csrf().await;
    let r = c.post("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        c.get("/triage").await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );

    // Pages about children are not cached; frames and other sites' scripts are refused.
    let mut c = app.client();
    c.sign_in(&name, PASSWORD).await;
    let r = c.get("/triage").await;
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_changes_and_disables_accounts_in_the_log() {
    let app = TestApp::start().await;
    let admin = app
        .login(&app.username("partnership_administrator", "vigil-administration"))
        .await;
    let school = app
        .state
        .agency_by_code("oakfield-academy")
        .unwrap()
        .id
        .to_string();
    let licensing = app
        .state
        .agency_by_code("northshire-licensing")
        .unwrap()
        .id
        .to_string();

    // A role that could do nothing at an agency is refused with the reason.
    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", "Lee Licence"),
                ("username", "l.licence"),
                ("agency", &licensing),
                ("role", "triage"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body
            .contains("gives a triage at a licensing agency nothing to do"),
        "{}",
        r.body
    );

    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", "Nia New"),
                ("username", "N.New"),
                ("agency", &school),
                ("role", "referrer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Account created"));
    let temp = r
        .body
        .split("class=\"v-panel__ref\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(temp.len(), 19, "{temp}");
    // The same username again is refused by the log itself.
    let r = admin
        .post(
            "/admin/users/new",
            &[
                ("name", "Other"),
                ("username", "n.new"),
                ("agency", &school),
                ("role", "referrer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("There is already an account called"),
        "{}",
        r.body
    );

    // The temporary password works once, and only to choose a new one.
    let mut nia = app.client();
    let r = nia.sign_in("n.new", &temp).await;
    assert_eq!(r.location, "/account/password");
    assert_eq!(
        nia.get("/referrals/new").await.location,
        "/account/password"
    );
    nia.refresh_csrf().await;
    let r = nia
        .post(
            "/account/password",
            &[("current", &temp), ("new", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("at least 12 characters"));
    let r = nia
        .post(
            "/account/password",
            &[
                ("current", &temp),
                ("new", "blue pencil harbour"),
                ("confirm", "blue pencil harbour"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(nia.get("/referrals/new").await.status, StatusCode::OK);
    assert_eq!(nia.get("/triage").await.status, StatusCode::FORBIDDEN);
    let mut again = app.client();
    assert_eq!(
        again.sign_in("n.new", &temp).await.status,
        StatusCode::UNAUTHORIZED,
        "the temporary password is spent"
    );

    // A change of role applies on the next request.
    let r = admin
        .post(
            "/admin/users/n.new/role",
            &[("role", "practitioner"), ("role_reason", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a reason is needed");
    let r = admin
        .post(
            "/admin/users/n.new/role",
            &[
                ("role", "practitioner"),
                ("role_reason", "Became the school's safeguarding lead"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let colleague_referral = submit_referral(&teacher, &referral_form()).await;
    assert_eq!(
        nia.get(&format!("/referrals/{colleague_referral}"))
            .await
            .status,
        StatusCode::OK
    );
    let page = admin.get("/admin/users/n.new").await.body;
    assert!(page.contains(
        "Role changed from referrer to practitioner: Became the school&#39;s safeguarding lead"
    ));

    // An administrator cannot change their own account here.
    let me = app.username("partnership_administrator", "vigil-administration");
    let r = admin
        .post(
            &format!("/admin/users/{me}/disable"),
            &[("disable_reason", "testing"), ("disable_confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Reset: a new temporary password, and existing sessions end.
    let r = admin
        .post(
            "/admin/users/n.new/reset",
            &[("reset_reason", "Forgot it; checked in person")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Password reset"));
    let temp = r
        .body
        .split("class=\"v-panel__ref\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        nia.get("/referrals/new").await.status,
        StatusCode::SEE_OTHER,
        "signed out by the reset"
    );
    let mut nia = app.client();
    assert_eq!(
        nia.sign_in("n.new", &temp).await.location,
        "/account/password"
    );

    // Disabled: the session ends at once, and signing in says why.
    let r = admin
        .post(
            "/admin/users/n.new/disable",
            &[
                ("disable_reason", "Left the school"),
                ("disable_confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        nia.get("/account/password").await.status,
        StatusCode::SEE_OTHER
    );
    let r = app.client().sign_in("n.new", &temp).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("This account has been disabled"));
    let kinds = app.kinds();
    for k in [
        "user.registered",
        "user.role_changed",
        "user.password_reset",
        "user.disabled",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} is in the log");
    }
    assert!(admin.get("/admin/users").await.body.contains("Disabled"));
    // The log says who did each, for accountability.
    let mut by_admin = 0;
    app.store
        .for_each_entry(0, &mut |e| {
            if e.header_json.contains("\"user.")
                && e.header_json.contains(&format!("\"user\":\"{me}\""))
            {
                by_admin += 1;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(by_admin, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_of_a_childs_record_is_in_the_access_log_and_an_auditor_can_see_it() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let triage_name = app.username("triage", "northshire-childrens-services");
    let triage = app.login(&triage_name).await;
    let page = triage.get(&format!("/referrals/{id}")).await.body;
    let child = page
        .split("href=\"/people/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(
        triage.get(&format!("/people/{child}")).await.status,
        StatusCode::OK
    );

    let auditor = app.login(&app.username("auditor", "home-office")).await;
    let log = auditor.get(&format!("/audit?person={child}")).await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains("opened a person&#39;s record"));
    assert!(log.body.contains("opened a referral"));
    assert!(log.body.contains(&triage_name));
    let by_user = auditor
        .get(&format!("/audit?user={triage_name}"))
        .await
        .body;
    assert!(by_user.contains("opened a referral"));
    assert!(
        !by_user.contains("listed my referrals"),
        "only the triage user's reads"
    );
    teacher.get("/referrals/mine").await;
    let all = auditor.get(&format!("/audit?person={child}")).await.body;
    assert!(
        all.contains("listed my referrals"),
        "the referrer's list shows the child's name: logged too"
    );
    let by_ref = auditor
        .get(&format!(
            "/audit?person={}",
            vigil_web::reference::reference_for(id)
        ))
        .await
        .body;
    assert!(by_ref.contains("opened a referral"));
    let bad = auditor.get("/audit?person=%3Cscript%3E").await;
    assert!(bad
        .body
        .contains("Enter a record&#39;s id, or a referral reference"));

    // Anchored in the ledger: once, and again only when it has grown.
    // Three reads and the three sign-ins before them.
    assert_eq!(
        vigil_web::checkpoint_access_log(&app.state).await.unwrap(),
        Some(6)
    );
    assert_eq!(
        vigil_web::checkpoint_access_log(&app.state).await.unwrap(),
        None
    );
    assert!(app.kinds().iter().any(|k| k == "access_log.checkpointed"));
    let (rows, problem) = verify_access_log(app.store.as_ref()).unwrap();
    assert_eq!(
        rows, 6,
        "three sign-ins, the referral, the person, the referrer's list"
    );
    assert_eq!(problem, None);
    // Refused reads are not shown, so they are not logged as reads.
    let colleague = app.login("second.teacher").await;
    let before = verify_access_log(app.store.as_ref()).unwrap().0;
    assert_eq!(
        colleague.get(&format!("/people/{child}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(verify_access_log(app.store.as_ref()).unwrap().0, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_downloaded_receipt_is_the_logs_signed_receipt() {
    let app = TestApp::start().await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let page = teacher
        .get(&format!("/referrals/{id}/receipt?sent=1"))
        .await;
    let reference = vigil_web::reference::reference_for(id);
    assert!(page.body.contains(&reference));
    assert!(
        page.body.contains("due by end of Tuesday 3 June"),
        "received Monday: due Tuesday"
    );
    let r = teacher.get(&format!("/referrals/{id}/receipt.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers["content-disposition"],
        format!("attachment; filename=\"vigil-receipt-{reference}.json\"").as_str()
    );
    let receipt: vigil_ledger::Receipt = serde_json::from_str(&r.body).unwrap();
    receipt.verify(&app.store.log_key()).unwrap();
    let header: vigil_model::EventHeader = serde_json::from_str(&receipt.entry).unwrap();
    assert_eq!(header.kind, "referral.submitted");
    assert_eq!(
        header.actor.user,
        app.username("referrer", "oakfield-academy")
    );
    assert!(header.subjects.iter().any(|s| s.id == id));
    let key = teacher.get("/log-key.pub").await.body;
    assert_eq!(
        vigil_ledger::LogKey::from_text(&key).unwrap(),
        app.store.log_key()
    );
}
