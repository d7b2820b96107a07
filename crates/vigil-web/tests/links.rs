//! Records of one person over real HTTP, on SQLite and PostgreSQL: a new
//! referral's child is scored at intake against the records the name index
//! brings near it; the front door confirms "this is the same child" and the
//! child's page then lists the other record and merges its chronology;
//! an undo needs a reason; who may decide and who may see follows the
//! access table (referrers and auditors never decide; a practitioner only
//! about records of their own agency); hostile ids and forms get a
//! sentence, never a panic; every read is in the access log.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;
use vigil_model::payload::match_id;
use vigil_model::state::{LinkState, MatchStatus, ReferralState};

fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn child_of(app: &TestApp, referral: Uuid) -> Uuid {
    let e = blocking(|| app.store.entity(referral).unwrap().unwrap());
    e.as_kind::<ReferralState>().unwrap().child_id
}

fn status(app: &TestApp, a: Uuid, b: Uuid) -> Option<MatchStatus> {
    blocking(|| app.store.entity(match_id(a, b)).unwrap()).map(|r| {
        r.as_kind::<LinkState>()
            .unwrap()
            .matching
            .as_ref()
            .unwrap()
            .status
    })
}

async fn login(app: &TestApp, role: &str, agency: &str) -> Client {
    app.login(&app.username(role, agency)).await
}

fn pair(a: Uuid, b: Uuid) -> (String, String) {
    (a.to_string(), b.to_string())
}

async fn decide(c: &Client, what: &str, a: Uuid, b: Uuid, reason: &str) -> common::Response {
    let (a, b) = pair(a, b);
    c.post(
        &format!("/links/pair/{what}"),
        &[
            ("a", &a),
            ("b", &b),
            ("reason", reason),
            ("back", "/links/review"),
        ],
    )
    .await
}

async fn same_child_is_confirmed_shown_and_undone_by_those_allowed_on(app: &TestApp) {
    // The police know the child; the school refers her again, spelt alike.
    let police = login(app, "practitioner", "northshire-police").await;
    let police_referral = submit_referral(&police, &referral_form()).await;
    let known = child_of(app, police_referral);
    let teacher = login(app, "referrer", "oakfield-academy").await;
    let referral = submit_referral(&teacher, &referral_form()).await;
    let new = child_of(app, referral);
    // Scored at intake (same names and date of birth: linked by the model).
    assert_eq!(status(app, new, known), Some(MatchStatus::LinkedByModel));
    assert!(blocking(|| app.kinds()).contains(&"person_match.scored".to_owned()));

    // The triage page lists the police record with its probability and a
    // way to see why.
    let triage = login(app, "triage", "northshire-childrens-services").await;
    let page = triage.get(&format!("/referrals/{referral}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("This is the same child"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("b={known}")), "{}", page.body);
    let why = triage.get(&format!("/links/pair?a={new}&b={known}")).await;
    assert_eq!(why.status, StatusCode::OK, "{}", why.body);
    assert!(why.body.contains("<svg") && why.body.contains("explanation-table"));
    assert!(why.body.contains("date of birth"));

    // Referrers, auditors and another agency's practitioner may not decide.
    for (c, who) in [
        (&teacher, "a referrer"),
        (
            &login(app, "auditor", "northshire-childrens-services").await,
            "an auditor",
        ),
        (
            &login(app, "practitioner", "riverside-youth-project").await,
            "a youth worker",
        ),
    ] {
        let r = decide(c, "confirm", new, known, "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.body);
    }
    assert_eq!(status(app, new, known), Some(MatchStatus::LinkedByModel));
    // A referrer does not see the review queue or a pair either.
    assert_eq!(
        teacher.get("/links/review").await.status,
        StatusCode::FORBIDDEN
    );
    let r = teacher.get(&format!("/links/pair?a={new}&b={known}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // One click.
    let r = decide(&triage, "confirm", new, known, "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(status(app, new, known), Some(MatchStatus::Confirmed));
    // Again: refused with a sentence, nothing written.
    let r = decide(&triage, "confirm", new, known, "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("already confirmed"), "{}", r.body);

    // The child's page shows both records and one chronology.
    let child = triage.get(&format!("/people/{new}")).await;
    assert_eq!(child.status, StatusCode::OK);
    assert!(child.body.contains("Other records of this person"));
    assert!(child.body.contains(&format!("/people/{known}")));
    assert!(child.body.contains("Northshire Police"));
    assert!(child.body.contains("Confirmed the same person by"));
    // The police referral is in the school record's chronology now, and
    // listed with the child's referrals, to be opened from there.
    assert!(
        child.body.matches("Referral received").count() >= 2,
        "{}",
        child.body
    );
    assert!(
        child
            .body
            .contains(&format!("href=\"/referrals/{police_referral}\"")),
        "{}",
        child.body
    );
    // The read of the linked record is in the access log.
    let who = app.username("triage", "northshire-childrens-services");
    let reads = blocking(|| {
        app.store
            .access_entries(&vigil_store::accounts::AccessQuery {
                subject: Some(known),
                user: Some(who.clone()),
                before_seq: None,
                limit: 100,
                sign_ins: false,
            })
            .unwrap()
            .len()
    });
    assert!(reads >= 2, "{reads}");

    // A practitioner of the school's agency? The school has only referrers;
    // a police practitioner may not open the school's record, so is not
    // shown it, and may not undo the link.
    let page = police.get(&format!("/people/{known}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains(&new.to_string()),
        "a record of another agency was shown"
    );
    let r = decide(&police, "undo", new, known, "Not her").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Undo needs a reason; with one, the records are apart again, and a
    // later score (a referral naming her again) does not link them.
    // Without one: the pair again, the problem said at the top and by the
    // field (a form error, not a refusal), nothing written.
    let r = decide(&triage, "undo", new, known, "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("There is a problem"), "{}", r.body);
    assert!(r
        .body
        .contains("Say why these records are not the same person"));
    assert!(r.body.contains("id=\"reason-error\""), "{}", r.body);
    assert_eq!(status(app, new, known), Some(MatchStatus::Confirmed));
    let r = decide(&triage, "undo", new, known, "Twins: different girls").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(status(app, new, known), Some(MatchStatus::Undone));
    let child = triage.get(&format!("/people/{new}")).await;
    assert!(!child.body.contains("Other records of this person"));
    let page = triage.get(&format!("/referrals/{referral}")).await;
    assert!(
        !page.body.contains(&format!("b={known}")),
        "a pair a person said is not the same is not offered again"
    );
}

on_both_backends!(same_child_is_confirmed_shown_and_undone_by_those_allowed_on:
    same_child_sqlite, same_child_postgres);

async fn hostile_requests_get_a_sentence_on(app: &TestApp) {
    let triage = login(app, "triage", "northshire-childrens-services").await;
    for q in [
        "",
        "?a=not-a-uuid&b=x",
        "?a=00000000-0000-0000-0000-000000000001&b=00000000-0000-0000-0000-000000000001",
        "?a=00000000-0000-0000-0000-000000000001&b=00000000-0000-0000-0000-000000000002",
    ] {
        let r = triage.get(&format!("/links/pair{q}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{q}: {}", r.body);
        assert!(r.body.contains("no such pair"), "{q}");
    }
    let huge = "9".repeat(100_000);
    let r = triage
        .post("/links/pair/confirm", &[("a", &huge), ("b", "<script>")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("<script>"));
    // Without the anti-forgery token: refused.
    let r = triage.post_raw("/links/pair/reject", &[("a", "x")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A redirect elsewhere is never followed.
    let police = login(app, "practitioner", "northshire-police").await;
    let a = child_of(app, submit_referral(&police, &referral_form()).await);
    let mut other = referral_form();
    other.retain(|(k, _)| *k != "child_given");
    other.push(("child_given", "Mia".into()));
    let b = child_of(app, submit_referral(&police, &other).await);
    let (sa, sb) = pair(a, b);
    let r = triage
        .post(
            "/links/pair/reject",
            &[
                ("a", &sa),
                ("b", &sb),
                ("back", "https://elsewhere.example/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location.starts_with("/links/review"), "{}", r.location);
    assert_eq!(status(app, a, b), Some(MatchStatus::Rejected));
    // The review queue: the auditor reads it, with no buttons.
    let auditor = login(app, "auditor", "northshire-childrens-services").await;
    let q = auditor.get("/links/review").await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(!q.body.contains("/links/pair/confirm"));
}

on_both_backends!(hostile_requests_get_a_sentence_on: hostile_sqlite, hostile_postgres);

/// People, not records: the front door's queue lists the referrals about
/// one linked child together, at the place of the most urgent, and says
/// what is known of the child across agencies.
async fn the_queue_lists_one_childs_referrals_together_on(app: &TestApp) {
    let police = login(app, "practitioner", "northshire-police").await;
    let first = submit_referral(&police, &referral_form()).await;
    // Another child's referral arrives in between.
    let teacher = login(app, "referrer", "oakfield-academy").await;
    let mut other = referral_form();
    for (k, v) in other.iter_mut() {
        match *k {
            "child_given" => *v = "Priya".into(),
            "child_family" => *v = "Sampleton".into(),
            "dob_year" => *v = "2012".into(),
            _ => {}
        }
    }
    let between = submit_referral(&teacher, &other).await;
    // The school refers the first child again, spelt another way.
    let mut again = referral_form();
    for (k, v) in again.iter_mut() {
        if *k == "child_given" {
            *v = "Jayde".into();
        }
    }
    let third = submit_referral(&teacher, &again).await;
    let (a, c) = (child_of(app, first), child_of(app, third));
    let triage = login(app, "triage", "northshire-childrens-services").await;
    if status(app, a, c) != Some(MatchStatus::LinkedByModel) {
        let r = decide(&triage, "confirm", a, c, "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let page = triage.get("/triage").await;
    assert_eq!(page.status, StatusCode::OK);
    let at = |id: Uuid| {
        page.body
            .find(&format!("/referrals/{id}\""))
            .unwrap_or_else(|| panic!("{id} not listed: {}", page.body))
    };
    // First, then the same child's later referral, then the other child's.
    assert!(
        at(first) < at(third) && at(third) < at(between),
        "{}",
        page.body
    );
    let first_ref = vigil_model::reference::reference_for(first);
    assert!(
        page.body
            .contains(&format!("Same child as {first_ref} above")),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 other referral about this child"));
    assert!(page.body.contains("2 agency records of this child"));
    // Undone: two people again, in deadline order.
    let r = decide(
        &triage,
        "undo",
        a,
        c,
        "Different children: the school checked.",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = triage.get("/triage").await;
    let at = |id: Uuid| page.body.find(&format!("/referrals/{id}\"")).unwrap();
    assert!(
        at(first) < at(between) && at(between) < at(third),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Same child as"), "{}", page.body);
}

on_both_backends!(the_queue_lists_one_childs_referrals_together_on: queue_groups_one_child_sqlite, queue_groups_one_child_postgres);

/// An event about person records, recorded by the police (test data only).
fn police_event(kind: &str, payload: serde_json::Value) -> vigil_model::EventDraft {
    let input: vigil_model::EventInput = serde_json::from_value(serde_json::json!({
        "actor": {"user": "test", "role": "practitioner"},
        "agency": "northshire-police",
        "occurred_at": {"value": "2026-01-05", "precision": "day"},
        "kind": kind,
        "payload": payload,
    }))
    .unwrap();
    input.prepare(chrono::Utc::now(), rand::random()).unwrap()
}

on_both_backends!(the_review_queue_is_paged_on: review_pages_sqlite, review_pages_postgres);

/// The review queue, paged: 12 police records make 66 pairs in the band;
/// 50 a page, best first; a page number that is not one reads as the
/// first, one past the end as the last; the police practitioner sees them
/// all, a council practitioner none, and a decision returns to its page.
async fn the_review_queue_is_paged_on(app: &TestApp) {
    let ids: Vec<Uuid> = (0..12u128)
        .map(|i| Uuid::from_u128(0x0193_0000_0000_7000_8000_00ab_0000_0000 + i))
        .collect();
    let mut drafts: Vec<_> = ids
        .iter()
        .map(|id| {
            police_event(
                "person.recorded",
                serde_json::json!({"person_id": id,
                    "names": [{"given": "Testchild", "family": "Pageson", "kind": "birth"}]}),
            )
        })
        .collect();
    let mut ppm = 300_000u32;
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            drafts.push(police_event(
                "person_match.scored",
                serde_json::json!({"person_a": a, "person_b": b, "probability_ppm": ppm,
                    "threshold_ppm": 950_000, "model": "test", "model_version": "1"}),
            ));
            ppm += 1_000;
        }
    }
    blocking(|| {
        for r in app.store.append(drafts).unwrap().results {
            r.unwrap();
        }
    });
    let triage = login(app, "triage", "northshire-childrens-services").await;
    let rows = |body: &str| body.matches("Why, field by field").count();
    let first = triage.get("/links/review").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("66 pairs to review"), "{}", first.body);
    assert!(first.body.contains("Page 1 of 2"));
    assert_eq!(rows(&first.body), 50);
    assert!(first.body.contains("href=\"/links/review?page=2\""));
    // Best first: the last pair scored (365,000 ppm) heads page 1.
    let at = |p: &str| first.body.find(&format!("<strong>{p}</strong>"));
    assert!(
        at("37%").is_some() && at("37%") < at("36%"),
        "{}",
        first.body
    );
    let second = triage.get("/links/review?page=2").await;
    assert_eq!(rows(&second.body), 16);
    assert!(second.body.contains("Page 2 of 2"));
    assert!(second.body.contains("value=\"/links/review?page=2\""));
    for (q, page) in [
        ("?page=abc", 1),
        ("?page=0", 1),
        ("?page=-3", 1),
        ("?page=999", 2),
        (&*format!("?page={}", "9".repeat(5_000)), 1),
    ] {
        let r = triage.get(&format!("/links/review{q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        assert!(r.body.contains(&format!("Page {page} of 2")), "{q}");
    }
    let police = login(app, "practitioner", "northshire-police").await;
    assert!(police
        .get("/links/review")
        .await
        .body
        .contains("66 pairs to review"));
    let council = login(app, "practitioner", "northshire-childrens-services").await;
    let none = council.get("/links/review").await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("0 pairs to review"), "{}", none.body);
    // A decision takes the pair off the queue.
    let (a, b) = pair(ids[0], ids[1]);
    let r = triage
        .post(
            "/links/pair/reject",
            &[
                ("a", &a),
                ("b", &b),
                ("reason", ""),
                ("back", "/links/review?page=2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location.starts_with("/links/review?page=2"),
        "{}",
        r.location
    );
    assert!(triage
        .get("/links/review")
        .await
        .body
        .contains("65 pairs to review"));
}

/// A newer model found while the server runs (`Config::model_watch`, which
/// `vigil serve` points at `DATA/link-model.json`) is used from then on,
/// without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_matching_model_is_used_without_a_restart() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let newer = Arc::new(vigil_app::score::Scorer::interim());
    let asked = Arc::new(AtomicUsize::new(0));
    let (given, count) = (Arc::clone(&newer), Arc::clone(&asked));
    let config = vigil_web::Config {
        secure_cookies: false,
        escalation_check_seconds: 1,
        model_watch: Some(vigil_web::ModelWatch(Arc::new(move || {
            // The second ask finds the new model; the others find nothing.
            (count.fetch_add(1, Ordering::SeqCst) == 1).then(|| Arc::clone(&given))
        }))),
        ..vigil_web::Config::default()
    };
    let app = TestApp::start_with_config(config).await;
    assert!(!Arc::ptr_eq(&app.state.app.scorer(), &newer));
    let t = std::time::Instant::now();
    while !Arc::ptr_eq(&app.state.app.scorer(), &newer) {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "the newer model was not picked up (asked {} times)",
            asked.load(Ordering::SeqCst)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Later asks that find nothing leave it in use.
    while asked.load(Ordering::SeqCst) < 4 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(Arc::ptr_eq(&app.state.app.scorer(), &newer));
}
