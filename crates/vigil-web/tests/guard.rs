//! The guard over real HTTP: people a user may not open never appear on a
//! page (possible existing records, other people involved, a person's other
//! referrals); every response that shows a child's details writes the
//! access log; the canonical payload of a referral can be downloaded by
//! whoever may see its receipt.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use vigil_model::state::ReferralState;
use vigil_store::accounts::AccessQuery;

/// A referral form about a child with these names (and nothing else about them).
fn about(
    given: &str,
    family: &str,
    dob: Option<(&str, &str, &str)>,
) -> Vec<(&'static str, String)> {
    let mut f = referral_form();
    f.retain(|(k, _)| !k.starts_with("child_") && !k.starts_with("dob_"));
    f.push(("child_given", given.into()));
    f.push(("child_family", family.into()));
    if let Some((d, m, y)) = dob {
        f.push(("dob_day", d.into()));
        f.push(("dob_month", m.into()));
        f.push(("dob_year", y.into()));
    }
    f
}

/// Runs store work off the async threads (the PostgreSQL client must not
/// run on them).
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// The child a referral is about (from the store, not the web's read model).
fn child_of(app: &TestApp, referral: Uuid) -> Uuid {
    let e = blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .expect("the referral exists")
    });
    e.as_kind::<ReferralState>().expect("a referral").child_id
}

/// How many access-log rows by `username` name `subject`.
fn reads_of(app: &TestApp, username: &str, subject: Uuid) -> usize {
    let query = AccessQuery {
        subject: Some(subject),
        user: Some(username.to_owned()),
        before_seq: None,
        limit: 1000,
        sign_ins: false,
    };
    blocking(|| app.store.access_entries(&query).unwrap().len())
}

/// A police record of a child, made by a police officer raising a concern.
async fn police_record(app: &TestApp, given: &str, family: &str, dob: (&str, &str, &str)) -> Uuid {
    let officer = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    let r = submit_referral(&officer, &about(given, family, Some(dob))).await;
    child_of(app, r)
}

async fn open_referral(c: &Client, id: Uuid) -> String {
    let r = c.get(&format!("/referrals/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn possible_existing_records_never_show_people_the_user_may_not_open_on(app: &TestApp) {
    let daniel = police_record(app, "Daniel", "Fletcher", ("14", "3", "2013")).await;
    let chloe = police_record(app, "Chloe", "Jacksan", ("1", "1", "2008")).await;

    // A licensing practitioner raises a concern about "Daniel Fletcher"
    // (no date of birth) and opens their own agency's referral.
    let licensing = app
        .login(&app.username("practitioner", "northshire-licensing"))
        .await;
    let theirs = submit_referral(&licensing, &about("Daniel", "Fletcher", None)).await;
    let page = open_referral(&licensing, theirs).await;
    for leak in [
        daniel.to_string(),
        "Northshire Police".into(),
        "14 March 2013".into(),
    ] {
        assert!(
            !page.contains(&leak),
            "the licensing practitioner was shown {leak:?} of a police record"
        );
    }
    assert!(page.contains("the front door will check for other records"));

    // A youth-project practitioner gives a family name and an initial.
    let youth = app
        .login(&app.username("practitioner", "riverside-youth-project"))
        .await;
    let theirs = submit_referral(&youth, &about("C", "Jacksan", None)).await;
    let page = open_referral(&youth, theirs).await;
    for leak in [
        chloe.to_string(),
        "Chloe".into(),
        "Northshire Police".into(),
    ] {
        assert!(
            !page.contains(&leak),
            "the youth-project practitioner was shown {leak:?} of a police record"
        );
    }
    // Neither read of a record they were not shown is in the access log.
    let who = app.username("practitioner", "riverside-youth-project");
    assert_eq!(reads_of(app, &who, chloe), 0);

    // The front door does see both possible matches.
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let page = open_referral(&triage, theirs).await;
    assert!(page.contains(&chloe.to_string()) && page.contains("Chloe Jacksan"));
    assert!(page.contains("Northshire Police"));
}

async fn other_people_and_other_agencies_referrals_are_not_shown_to_who_may_not_open_them_on(
    app: &TestApp,
) {
    let officer = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    // A police referral names another person (recorded by the police).
    let mut form = about("Mia", "Example", Some(("2", "2", "2012")));
    form.push(("other1_name", "Dez".into()));
    form.push(("other1_details", "About 30, silver car".into()));
    let police_referral = submit_referral(&officer, &form).await;
    let mia = child_of(app, police_referral);

    // A triage officer at social care raises a second concern about the
    // same (police-recorded) child, from the child's record.
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let r = triage.get(&format!("/referrals/new?child={mia}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut form = referral_form();
    form.retain(|(k, _)| !k.starts_with("child_") && !k.starts_with("dob_"));
    form.push(("child_id", mia.to_string()));
    let care_referral = submit_referral(&triage, &form).await;

    // The police officer opens the child's record: it lists the police's
    // own referral, not social care's.
    let person = officer.get(&format!("/people/{mia}")).await;
    assert_eq!(person.status, StatusCode::OK);
    assert!(person.body.contains(&police_referral.to_string()));
    assert!(
        !person.body.contains(&care_referral.to_string())
            && !person
                .body
                .contains(&vigil_web::reference::reference_for(care_referral)),
        "another agency's referral about the child is not listed"
    );

    // A social-care practitioner opens their agency's referral: the child's
    // record is the police's, so it is not shown to them.
    let care = app
        .login(&app.username("practitioner", "northshire-childrens-services"))
        .await;
    let page = open_referral(&care, care_referral).await;
    assert!(!page.contains("Mia"), "a child recorded by another agency");
    assert!(!page.contains(&format!("/people/{mia}")));
    // The front door sees both, and the other person involved.
    let person = triage.get(&format!("/people/{mia}")).await;
    assert!(person.body.contains(&care_referral.to_string()));
    let page = open_referral(&triage, police_referral).await;
    assert!(page.contains("Dez"));
}

async fn choosing_an_existing_child_for_a_referral_is_in_the_access_log_on(app: &TestApp) {
    let mia = police_record(app, "Mia", "Example", ("2", "2", "2012")).await;
    let who = app.username("triage", "northshire-childrens-services");
    let triage = app.login(&who).await;
    let before = reads_of(app, &who, mia);
    let r = triage.get(&format!("/referrals/new?child={mia}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Mia Example"));
    assert_eq!(reads_of(app, &who, mia), before + 1);

    // The same form shown again with its errors shows the child again.
    let r = triage
        .post(
            "/referrals/new",
            &[("child_id", &mia.to_string()), ("immediate_danger", "no")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Mia Example"));
    assert_eq!(reads_of(app, &who, mia), before + 2);
}

async fn a_refused_decision_that_shows_the_child_again_is_in_the_access_log_on(app: &TestApp) {
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let child = child_of(app, id);
    let who = app.username("triage", "northshire-childrens-services");
    let triage = app.login(&who).await;
    let before = reads_of(app, &who, child);
    let r = triage
        .post(
            &format!("/referrals/{id}/decide"),
            &[("decision", "not-a-decision")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Jade Example") && r.body.contains("Seen getting into cars"));
    assert_eq!(reads_of(app, &who, child), before + 1);
    assert_eq!(reads_of(app, &who, id), before + 1, "the referral too");
}

/// SHA-256(salt ‖ payload) as the header carries it.
fn digest(salt: &[u8], payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(payload);
    hex::encode(h.finalize())
}

async fn the_submitter_can_download_the_canonical_payload_of_their_referral_on(app: &TestApp) {
    let who = app.username("referrer", "oakfield-academy");
    let teacher = app.login(&who).await;
    let id = submit_referral(&teacher, &referral_form()).await;
    let receipt = teacher.get(&format!("/referrals/{id}/receipt")).await;
    assert!(
        receipt
            .body
            .contains(&format!("href=\"/referrals/{id}/payload.json\"")),
        "the receipt page links to it"
    );
    let before = reads_of(app, &who, id);
    let r = teacher.get(&format!("/referrals/{id}/payload.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    // Exactly the bytes the log's digest covers.
    let entry = blocking(|| app.store.entries_about(id).unwrap())
        .into_iter()
        .find(|e| e.header_json.contains("\"referral.submitted\""))
        .unwrap();
    let header: serde_json::Value = serde_json::from_str(&entry.header_json).unwrap();
    assert_eq!(
        digest(entry.salt.as_deref().unwrap(), r.body.as_bytes()),
        header["payload_sha256"].as_str().unwrap()
    );
    assert!(r.body.contains("Seen getting into cars"));
    assert_eq!(reads_of(app, &who, id), before + 1, "an access-logged read");

    // Whoever may not see the receipt may not download it either.
    let colleague = app.login("second.teacher").await;
    let r = colleague
        .get(&format!("/referrals/{id}/payload.json"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.body.contains("Seen getting into cars"));
}

async fn another_agencys_person_named_in_a_referral_is_left_out_for_who_may_not_open_them_on(
    app: &TestApp,
) {
    use vigil_model::codes::{AgencyId, Role};
    use vigil_model::payload::ReferralSubmitted;
    use vigil_model::{Actor, EventPayload, OccurredAt};
    // Health records a child and another person ("Dez") with a referral.
    let nurse = app
        .login(&app.username("practitioner", "northshire-health"))
        .await;
    let mut form = about("Ava", "Sample", Some(("5", "5", "2011")));
    form.push(("other1_name", "Dez".into()));
    let health = submit_referral(&nurse, &form).await;
    let dez = blocking(|| app.store.entity(health).unwrap().unwrap())
        .as_kind::<ReferralState>()
        .expect("a referral")
        .others_involved[0]
        .to_string();
    let officer_name = app.username("practitioner", "northshire-police");
    let officer = app.login(&officer_name).await;
    let police = submit_referral(&officer, &about("Mia", "Example", None)).await;
    let mia = child_of(app, police);
    // An imported police referral names health's person among others.
    let id = Uuid::now_v7();
    let now = app.state.now();
    let draft = vigil_app::referral::prepare(
        &Actor {
            user: officer_name.clone(),
            role: Role::Practitioner,
        },
        &AgencyId::new("northshire-police").unwrap(),
        OccurredAt::exact(now),
        EventPayload::ReferralSubmitted(ReferralSubmitted {
            referral_id: id,
            child_id: mia,
            referrer: None,
            concern: "Seen with an older man.".into(),
            what_seen: None,
            location_id: None,
            location_text: None,
            others_involved: vec![Uuid::parse_str(&dez).unwrap()],
            immediate_danger: false,
            police_called: None,
            call_back_on: None,
        }),
        now,
    )
    .unwrap();
    assert!(app.state.append(vec![draft]).await.unwrap()[0].is_ok());

    let page = open_referral(&officer, id).await;
    assert!(page.contains("Mia Example"), "their own agency's child");
    assert!(
        !page.contains("Dez") && !page.contains(&dez),
        "health's person"
    );
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    assert!(open_referral(&triage, id).await.contains("Dez"));
}

on_both_backends!(possible_existing_records_never_show_people_the_user_may_not_open_on: possible_existing_records_never_show_people_the_user_may_not_open, possible_existing_records_never_show_people_the_user_may_not_open_on_postgres);
on_both_backends!(other_people_and_other_agencies_referrals_are_not_shown_to_who_may_not_open_them_on: other_people_and_other_agencies_referrals_are_not_shown_to_who_may_not_open_them, other_people_and_other_agencies_referrals_are_not_shown_to_who_may_not_open_them_on_postgres);
on_both_backends!(choosing_an_existing_child_for_a_referral_is_in_the_access_log_on: choosing_an_existing_child_for_a_referral_is_in_the_access_log, choosing_an_existing_child_for_a_referral_is_in_the_access_log_on_postgres);
on_both_backends!(a_refused_decision_that_shows_the_child_again_is_in_the_access_log_on: a_refused_decision_that_shows_the_child_again_is_in_the_access_log, a_refused_decision_that_shows_the_child_again_is_in_the_access_log_on_postgres);
on_both_backends!(the_submitter_can_download_the_canonical_payload_of_their_referral_on: the_submitter_can_download_the_canonical_payload_of_their_referral, the_submitter_can_download_the_canonical_payload_of_their_referral_on_postgres);
on_both_backends!(another_agencys_person_named_in_a_referral_is_left_out_for_who_may_not_open_them_on: another_agencys_person_named_in_a_referral_is_left_out_for_who_may_not_open_them, another_agencys_person_named_in_a_referral_is_left_out_for_who_may_not_open_them_on_postgres);
