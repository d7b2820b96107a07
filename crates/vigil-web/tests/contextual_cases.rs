//! Contextual cases over real HTTP, on both backends: the front door opens
//! a case on a place (recorded with the case) and on a peer group, links
//! two children to the place's case from the search page, both children's
//! pages list it, one is taken off again; another agency sees the case
//! only once it is on it, and then sees the linked children counted, not
//! named; wrong, empty, huge and hostile input records nothing.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(a_case_on_a_place_has_children_linked: context_sqlite, context_postgres);

/// Runs store work off the async threads.
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn count(app: &TestApp, kind: &str) -> usize {
    blocking(|| app.kinds())
        .iter()
        .filter(|k| *k == kind)
        .count()
}

/// A child referred by the youth project (their agency holds the record).
async fn child(app: &TestApp, youth: &Client, given: &str) -> Uuid {
    let mut form = referral_form();
    form[1].1 = given.into();
    let referral = submit_referral(youth, &form).await;
    blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .unwrap()
            .as_kind::<vigil_model::state::ReferralState>()
            .unwrap()
            .child_id
    })
}

fn place_form<'a>(name: &'a str, reason: &'a str, worker: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("context", "place"),
        ("p_kind", "hotel"),
        ("p_name", name),
        ("p_postcode", "NS1 4AB"),
        (
            "p_description",
            "Rooms let by the hour; children seen going in late.",
        ),
        ("level", "exploitation"),
        ("reason", reason),
        ("lead", "northshire-childrens-services"),
        ("worker", worker),
        ("risk", "high"),
        ("risk_reason", "Three children seen there this month."),
    ]
}

async fn a_case_on_a_place_has_children_linked(app: &TestApp) {
    let youth = app
        .login(&app.username("referrer", "riverside-youth-project"))
        .await;
    let jade = child(app, &youth, "Jade").await;
    let mia = child(app, &youth, "Mia").await;
    let triage_name = app.username("triage", "northshire-childrens-services");
    let triage = app.login(&triage_name).await;

    // The home page leads to the forms; the forms exist for the two contexts only.
    let home = triage.get("/").await;
    assert!(home.body.contains("href=\"/cases/new?context=place\""));
    assert!(home.body.contains("href=\"/cases/new?context=peer_group\""));
    let f = triage.get("/cases/new?context=place").await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    assert!(f.body.contains("name=\"p_kind\""));
    let g = triage.get("/cases/new?context=peer_group").await;
    assert!(g.body.contains("name=\"g_name\""));
    for bad in ["street", "<script>", "%00"] {
        let r = triage.get(&format!("/cases/new?context={bad}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }
    // A referrer may not open cases.
    assert_eq!(
        youth.get("/cases/new?context=place").await.status,
        StatusCode::FORBIDDEN
    );

    // Wrong, empty and huge input: the form again, nothing recorded.
    let huge = "x".repeat(200_000);
    let mut wrong_kind = place_form("Golden Fry", "Seen there", &triage_name);
    wrong_kind[1].1 = "castle";
    let mut nothing = place_form("", "Seen there", &triage_name);
    nothing[3].1 = "";
    nothing[4].1 = "";
    for (what, form) in [
        ("empty", vec![("context", "place")]),
        ("huge", place_form("Golden Fry", &huge, &triage_name)),
        ("wrong kind", wrong_kind),
        ("no detail of the place", nothing),
        (
            "empty group",
            vec![
                ("context", "peer_group"),
                ("g_name", " "),
                ("g_description", ""),
            ],
        ),
        ("context unknown", vec![("context", "moon")]),
    ] {
        let r = triage.post("/cases/new", &form).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::NOT_FOUND,
            "{what}: {}",
            r.status
        );
    }
    assert_eq!(count(app, "case.opened"), 0);
    assert_eq!(count(app, "location.recorded"), 0);
    // Without the anti-forgery token: refused.
    let r = triage
        .post_raw(
            "/cases/new",
            &place_form("Golden Fry", "Seen there", &triage_name),
        )
        .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(count(app, "case.opened"), 0);

    // Opened, with hostile text kept as text.
    let r = triage
        .post(
            "/cases/new",
            &place_form(
                "<script>alert(1)</script> Golden Fry Hotel",
                "Children seen at the hotel late at night.",
                &triage_name,
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let case_path = r.location.clone();
    let case = Uuid::parse_str(case_path.strip_prefix("/cases/").unwrap()).unwrap();
    assert_eq!(
        count(app, "location.recorded"),
        1,
        "the place recorded with the case"
    );
    let page = triage.get(&case_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Hotel or B&#38;B"));
    assert!(page
        .body
        .contains("&#60;script&#62;alert(1)&#60;/script&#62; Golden Fry Hotel"));
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(page.body.contains("id=\"children\""));
    assert!(page
        .body
        .contains("No child you may open is linked to this case."));
    assert!(
        !page.body.contains("id=\"chronology\""),
        "no child's chronology"
    );
    assert!(page.body.contains(&format!("href=\"/search?case={case}\"")));

    // The search page links each result to the case.
    let s = triage.get(&format!("/search?q=Jade&case={case}")).await;
    assert_eq!(s.status, StatusCode::OK);
    assert!(s
        .body
        .contains(&format!("action=\"/cases/{case}/children\"")));
    assert!(s.body.contains("Link to the case"));

    let children = format!("/cases/{case}/children");
    let link = |c: Uuid, why: &'static str| {
        let c = c.to_string();
        let triage = &triage;
        let children = children.clone();
        async move {
            triage
                .post(
                    &children,
                    &[("form", "link"), ("child", &c), ("reason", why)],
                )
                .await
        }
    };
    let r = link(jade, "Seen at the hotel twice in March.").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("/cases/{case}#children"));
    let r = link(mia, "Named by Jade as going there too.").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Again, with no reason, with a reason too long, with no child, with a child not recorded.
    assert_eq!(link(jade, "Again.").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(link(jade, "  ").await.status, StatusCode::BAD_REQUEST);
    let long = "y".repeat(5_000);
    let r = triage
        .post(
            &children,
            &[
                ("form", "link"),
                ("child", &mia.to_string()),
                ("reason", &long),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = triage
        .post(
            &children,
            &[("form", "link"), ("child", "<b>"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = triage
        .post(
            &children,
            &[
                ("form", "zap"),
                ("child", &jade.to_string()),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        link(Uuid::now_v7(), "Nobody.").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(count(app, "case.child_linked"), 2);

    // The case lists both; both children's pages list the case.
    let page = triage.get(&case_path).await;
    assert!(page.body.contains(&format!("href=\"/people/{jade}\"")));
    assert!(page.body.contains(&format!("href=\"/people/{mia}\"")));
    assert!(page.body.contains("Named by Jade as going there too."));
    for c in [jade, mia] {
        let p = triage.get(&format!("/people/{c}")).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.body.contains(&format!("href=\"{case_path}\"")), "{c}");
        assert!(p.body.contains("Linked to a case on Hotel or B&#38;B"));
    }

    // Mia taken off: her page no longer lists it; the case lists Jade only.
    let r = triage
        .post(
            &children,
            &[
                ("form", "unlink"),
                ("child", &mia.to_string()),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a reason is needed");
    let r = triage
        .post(
            &children,
            &[
                ("form", "unlink"),
                ("child", &mia.to_string()),
                (
                    "reason",
                    "Mia was at school both days: it was another girl.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = triage.get(&format!("/people/{mia}")).await;
    assert!(!p.body.contains(&format!("href=\"{case_path}\"")));
    let p = triage.get(&format!("/people/{jade}")).await;
    assert!(p.body.contains(&format!("href=\"{case_path}\"")));
    let page = triage.get(&case_path).await;
    assert!(!page.body.contains(&format!("href=\"/people/{mia}\"")));
    assert!(page.body.contains(&format!("href=\"/people/{jade}\"")));

    // Access by involvement: the police see the case only once on it, and
    // then the linked child counted, not named; they may not link a child
    // whose record they may not open.
    let police = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    assert_eq!(police.get(&case_path).await.status, StatusCode::FORBIDDEN);
    let r = triage
        .post(
            &case_path,
            &[("form", "add_agency"), ("g_agency", "northshire-police")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let seen = police.get(&case_path).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains("id=\"linked-hidden\""));
    assert!(seen.body.contains("1 other child is linked"));
    assert!(!seen.body.contains(&format!("/people/{jade}")));
    let r = police
        .post(
            &children,
            &[
                ("form", "link"),
                ("child", &mia.to_string()),
                ("reason", "Seen there"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(app, "case.child_linked"), 2);

    // Its actions work as on any case: the owner's list names the case's context.
    let r = triage
        .post(
            &case_path,
            &[
                ("form", "add_action"),
                ("a_text", "Visit the hotel manager"),
                ("a_owner", &triage_name),
                ("a_due", "2099-01-01"),
            ],
        )
        .await;
    // Ten years at most: refused; then a near date.
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let today = vigil_rules::london::local_date(app.state.app.now());
    let due = (today + chrono::TimeDelta::days(7))
        .format("%d/%m/%Y")
        .to_string();
    let r = triage
        .post(
            &case_path,
            &[
                ("form", "add_action"),
                ("a_text", "Visit the hotel manager"),
                ("a_owner", &triage_name),
                ("a_due", &due),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mine = triage.get("/actions/mine").await;
    assert!(mine.body.contains("Visit the hotel manager"));
    assert!(mine.body.contains("A case on a place or peer group"));

    // A peer group: named and described, no child and no place.
    let r = triage
        .post(
            "/cases/new",
            &[
                ("context", "peer_group"),
                ("g_name", "The Northside girls"),
                (
                    "g_description",
                    "Girls from year 9 picked up from the park by the same men.",
                ),
                ("level", "exploitation"),
                ("reason", "Several referrals name the same group."),
                ("lead", "northshire-childrens-services"),
                ("worker", &triage_name),
                ("risk", "medium"),
                ("risk_reason", "No child missing yet."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let g = triage.get(&r.location).await;
    assert!(g.body.contains("Peer group: The Northside girls"));
    assert!(g.body.contains("Girls from year 9"));
    assert_eq!(count(app, "location.recorded"), 1);
    assert_eq!(count(app, "case.opened"), 2);
}
