//! Who sees which chronology items, over real HTTP, on both backends: a
//! practitioner sees on `/people/{id}` only the items of records their own
//! agency made (follow-ups to those records included); the front door and
//! an auditor see every item; a referrer can neither open the page nor
//! search; search finds only records the user may open; and every page read
//! and every search writes an access-log row naming the person.
//!
//! Items are told apart on the page by their actor (the chronology shows
//! who recorded each item): each agency's events here have an actor of
//! their own.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;
use vigil_store::accounts::AccessQuery;

on_both_backends!(each_user_sees_the_chronology_items_they_may: chronology_access_sqlite, chronology_access_postgres);

/// Runs store work off the async threads.
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// Access-log rows by `username` that name `subject`, newest first: their actions.
fn reads_of(app: &TestApp, username: &str, subject: Uuid) -> Vec<String> {
    let query = AccessQuery {
        subject: Some(subject),
        user: Some(username.to_owned()),
        before_seq: None,
        limit: 1000,
        sign_ins: false,
    };
    blocking(|| {
        app.store
            .access_entries(&query)
            .unwrap()
            .iter()
            .map(|e| e.record().expect("a readable access row").action)
            .collect()
    })
}

fn event(agency: &str, actor: &str, at: &str, kind: &str, payload: String) -> String {
    format!(
        r#"{{"actor":{{"user":"{actor}","role":"practitioner"}},"agency":"{agency}","occurred_at":{{"value":"{at}","precision":"exact"}},"kind":"{kind}","payload":{payload}}}"#
    )
}

fn note(agency: &str, actor: &str, at: &str, child: Uuid) -> String {
    event(
        agency,
        actor,
        at,
        "note.recorded",
        format!(
            r#"{{"subjects":[{{"type":"person","id":"{child}"}}],"text":"Seen near the station late at night."}}"#
        ),
    )
}

fn append(app: &TestApp, lines: &[String]) {
    let now = *app.clock.lock().unwrap();
    let drafts: Vec<_> = lines
        .iter()
        .map(|l| {
            let input: vigil_model::EventInput = serde_json::from_str(l).unwrap();
            input.prepare(now, rand::random()).unwrap()
        })
        .collect();
    blocking(|| {
        for r in app.store.append(drafts).unwrap().results {
            r.expect("test event accepted");
        }
    });
}

/// The person page, with the status it came back with.
async fn page(c: &Client, path: &str) -> (StatusCode, String) {
    let r = c.get(path).await;
    (r.status, r.body)
}

const POLICE: &[&str] = &["police.noter", "police.missing"];
const CARE: &str = "care.noter";
const HEALTH: &str = "health.noter";

async fn each_user_sees_the_chronology_items_they_may(app: &TestApp) {
    // A police officer raises a concern: the child's record is the police's.
    let officer_name = app.username("practitioner", "northshire-police");
    let officer = app.login(&officer_name).await;
    let mut form = referral_form();
    form.retain(|(k, _)| *k != "child_given" && *k != "child_family");
    form.push(("child_given", "Kerensa".into()));
    form.push(("child_family", "Tregarthen".into()));
    let referral = submit_referral(&officer, &form).await;
    let child: Uuid = blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .expect("the referral exists")
            .as_kind::<vigil_model::state::ReferralState>()
            .expect("a referral")
            .child_id
    });
    // Records by three agencies: a police note and missing episode (with its
    // return, a follow-up that does not name the child), a social care note
    // and a health note.
    let episode = Uuid::now_v7();
    append(
        app,
        &[
            note(
                "northshire-police",
                POLICE[0],
                "2025-05-01T10:00:00Z",
                child,
            ),
            event(
                "northshire-police",
                POLICE[1],
                "2025-05-03T22:00:00Z",
                "missing_episode.recorded",
                format!(
                    r#"{{"episode_id":"{episode}","child_id":"{child}","missing_type":"M","started_at":"2025-05-03T22:00:00Z"}}"#
                ),
            ),
            event(
                "northshire-police",
                POLICE[1],
                "2025-05-04T08:00:00Z",
                "missing_episode.returned",
                format!(
                    r#"{{"episode_id":"{episode}","returned_at":"2025-05-04T08:00:00Z","return_interview_offered":true}}"#
                ),
            ),
            note(
                "northshire-childrens-services",
                CARE,
                "2025-05-10T09:00:00Z",
                child,
            ),
            note("northshire-health", HEALTH, "2025-05-12T09:00:00Z", child),
        ],
    );
    let person = format!("/people/{child}");

    // The police practitioner: their agency's items only, the return included.
    let (status, body) = page(&officer, &person).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for actor in POLICE {
        assert!(body.contains(actor), "the police see their own {actor}");
    }
    assert!(
        body.contains("Returned from missing"),
        "the follow-up is listed"
    );
    for hidden in [CARE, HEALTH] {
        assert!(
            !body.contains(hidden),
            "the police were shown {hidden}'s item"
        );
    }
    assert!(body.contains("Only items from records your agency made are shown."));
    assert_eq!(
        reads_of(app, &officer_name, child),
        vec!["opened a person's record"]
    );

    // The front door and the auditor: everything.
    let triage_name = app.username("triage", "northshire-childrens-services");
    let auditor_name = app
        .accounts
        .iter()
        .find(|a| a.role.code() == "auditor")
        .expect("an auditor account")
        .username
        .clone();
    for name in [&triage_name, &auditor_name] {
        let c = app.login(name).await;
        let (status, body) = page(&c, &person).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        for actor in POLICE.iter().chain([&CARE, &HEALTH]) {
            assert!(body.contains(actor), "{name} sees {actor}'s item");
        }
        assert!(!body.contains("Only items from records your agency made"));
        assert_eq!(reads_of(app, name, child), vec!["opened a person's record"]);
    }

    // A filter by agency shows that agency's items; the read is logged as filtered.
    let triage = app.login(&triage_name).await;
    let (status, body) = page(&triage, &format!("{person}?agency=northshire-health")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(HEALTH));
    assert!(!body.contains(CARE));
    assert!(!body.contains(POLICE[0]));
    assert_eq!(
        reads_of(app, &triage_name, child)[0],
        "opened a person's record (chronology filtered or paged)"
    );

    // A health practitioner cannot open a police record, and their search
    // does not find it; the search is logged without naming the child.
    let health_name = app.username("practitioner", "northshire-health");
    let health = app.login(&health_name).await;
    assert_eq!(page(&health, &person).await.0, StatusCode::FORBIDDEN);
    let (status, body) = page(&health, "/search?q=Kerensa+Tregarthen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !body.contains(&child.to_string()),
        "a record they may not open was listed"
    );
    assert!(reads_of(app, &health_name, child).is_empty());

    // The police practitioner's search finds the child, and the row names them.
    let (status, body) = page(&officer, "/search?q=Kerensa+Tregarthen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("/people/{child}")), "{body}");
    let reads = reads_of(app, &officer_name, child);
    assert_eq!(reads.len(), 2);
    assert!(reads[0].starts_with("searched for people"), "{reads:?}");
    // A misspelt family name still finds them.
    let (_, body) = page(&officer, "/search?q=Kerensa+Tregarthan").await;
    assert!(body.contains(&format!("/people/{child}")));

    // A referrer can neither open the page nor search.
    let referrer_name = app.username("referrer", "oakfield-academy");
    let referrer = app.login(&referrer_name).await;
    assert_eq!(page(&referrer, &person).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        page(&referrer, "/search?q=Kerensa").await.0,
        StatusCode::FORBIDDEN
    );
    assert!(reads_of(app, &referrer_name, child).is_empty());
}
