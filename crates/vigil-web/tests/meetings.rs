//! Meetings over real HTTP, on both backends: the agenda of the next
//! multi-agency exploitation meeting lists the right open cases with their
//! reasons, and only those the user may open; recording a meeting makes
//! its actions appear on the cases and in the owner's actions; the form
//! refuses wrong, empty, huge and hostile input and shows every field
//! again; a case an uninvolved user may not open is not on their agenda
//! nor in the minutes.

mod common;

use common::{hidden, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(the_agenda_lists_the_right_cases_for_each_user: agenda_sqlite, agenda_postgres);
on_both_backends!(a_meeting_sets_actions_on_the_cases: record_sqlite, record_postgres);
on_both_backends!(the_meeting_form_refuses_bad_input_and_keeps_it: input_sqlite, input_postgres);

const COUNCIL: &str = "northshire-childrens-services";
const POLICE: &str = "northshire-police";

fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn event(agency: &str, kind: &str, payload: serde_json::Value) -> String {
    serde_json::json!({
        "actor": {"user": "officer.1", "role": "practitioner"},
        "agency": agency,
        "occurred_at": {"value": "2025-05-01", "precision": "day"},
        "kind": kind,
        "payload": payload,
    })
    .to_string()
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

fn count(app: &TestApp, kind: &str) -> usize {
    blocking(|| app.kinds())
        .iter()
        .filter(|k| *k == kind)
        .count()
}

/// The cases of the tests: (child, case) ids.
struct World {
    /// High risk, led by the council: on the agenda.
    jade: (Uuid, Uuid),
    /// Low risk, led by the police, missing a week ago: on the agenda,
    /// but the council's practitioner is not involved.
    liam: (Uuid, Uuid),
    /// Low risk, led by the council, nothing new: not on the agenda.
    mia: (Uuid, Uuid),
}

fn child_and_case(
    app: &TestApp,
    given: &str,
    lead: &str,
    worker: &str,
    risk: &str,
) -> ((Uuid, Uuid), Vec<String>) {
    let (child, case) = (Uuid::now_v7(), Uuid::now_v7());
    let lines = vec![
        event(
            lead,
            "person.recorded",
            serde_json::json!({"person_id": child, "names": [{"given": given, "family": "Example", "kind": "birth"}]}),
        ),
        event(
            lead,
            "case.opened",
            serde_json::json!({
                "case_id": case, "child_id": child, "level": "exploitation",
                "reason": "Seen with older men", "lead_agency": lead,
                "worker": worker, "risk": risk, "risk_reason": "As assessed",
            }),
        ),
    ];
    let _ = app;
    ((child, case), lines)
}

fn world(app: &TestApp) -> World {
    let sw = app.username("practitioner", COUNCIL);
    let pc = app.username("practitioner", POLICE);
    let (jade, mut lines) = child_and_case(app, "Jade", COUNCIL, &sw, "high");
    let (liam, more) = child_and_case(app, "Liam", POLICE, &pc, "low");
    lines.extend(more);
    let (mia, more) = child_and_case(app, "Mia", COUNCIL, &sw, "low");
    lines.extend(more);
    lines.push(
        serde_json::json!({
            "actor": {"user": "officer.1", "role": "practitioner"},
            "agency": POLICE,
            "occurred_at": {"value": "2025-05-26T20:00:00Z", "precision": "exact"},
            "kind": "missing_episode.recorded",
            "payload": {"episode_id": Uuid::now_v7(), "child_id": liam.0, "missing_type": "M", "started_at": "2025-05-26T20:00:00Z"},
        })
        .to_string(),
    );
    append(app, &lines);
    World { jade, liam, mia }
}

/// The agenda table's part of the meetings page.
fn agenda_of(body: &str) -> &str {
    let start = body.find("id=\"agenda\"").expect("the agenda heading");
    let end = body[start..]
        .find("id=\"held\"")
        .map_or(body.len(), |e| e + start);
    &body[start..end]
}

async fn the_agenda_lists_the_right_cases_for_each_user(app: &TestApp) {
    let w = world(app);
    // The front door sees every case: Jade (high risk) first, then Liam
    // (missing since the last meeting, here the last 31 days); not Mia.
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let r = triage.get("/meetings").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let agenda = agenda_of(&r.body);
    let jade = agenda.find(&format!("agenda-{}", w.jade.1)).expect("Jade");
    let liam = agenda.find(&format!("agenda-{}", w.liam.1)).expect("Liam");
    assert!(jade < liam, "most urgent first");
    assert!(!agenda.contains(&w.mia.1.to_string()), "Mia has no reason");
    assert!(agenda.contains("High risk"));
    assert!(agenda.contains("Missing since the last meeting (on 26 May 2025)"));
    assert!(r.body.contains("no meeting recorded yet"));
    // The council's practitioner is not involved in Liam's case: he is
    // not on their agenda, and nothing says he is left out.
    let sw = app.login(&app.username("practitioner", COUNCIL)).await;
    let r = sw.get("/meetings").await;
    assert_eq!(r.status, StatusCode::OK);
    let agenda = agenda_of(&r.body);
    assert!(agenda.contains(&w.jade.1.to_string()));
    assert!(!r.body.contains("Liam"), "an uninvolved user sees Liam");
    assert!(!r.body.contains(&w.liam.1.to_string()));
    // A referrer and an administrator have no meetings page.
    for role in ["referrer", "administrator"] {
        let c = app.login(&app.username(role, COUNCIL)).await;
        assert_eq!(c.get("/meetings").await.status, StatusCode::FORBIDDEN);
        assert_eq!(c.get("/meetings/new").await.status, StatusCode::FORBIDDEN);
    }
    // An auditor sees the agenda but may not record a meeting.
    let auditor = app.login(&app.username("auditor", "home-office")).await;
    assert_eq!(auditor.get("/meetings").await.status, StatusCode::OK);
    assert_eq!(
        auditor.get("/meetings/new").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn a_meeting_sets_actions_on_the_cases(app: &TestApp) {
    let w = world(app);
    let sw_name = app.username("practitioner", COUNCIL);
    let pc_name = app.username("practitioner", POLICE);
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let r = triage.get("/meetings/new").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cases = hidden(&r.body, "cases").unwrap();
    assert!(cases.contains(&w.jade.1.to_string()) && cases.contains(&w.liam.1.to_string()));
    let (jade, liam) = (w.jade.1.to_string(), w.liam.1.to_string());
    let f = |s: &str, id: &str| format!("{s}_{id}");
    let fields = [
        ("cases".to_owned(), cases.clone()),
        ("held".to_owned(), "02/06/2025".to_owned()),
        (
            "chair".to_owned(),
            "Chris Example, head of service".to_owned(),
        ),
        ("att0_name".to_owned(), "Chris Example".to_owned()),
        ("att0_agency".to_owned(), COUNCIL.to_owned()),
        ("att1_name".to_owned(), "DS Robin Sample".to_owned()),
        ("att1_agency".to_owned(), POLICE.to_owned()),
        (
            f("decision", &jade),
            "Disrupt the hotel; weekly visits.".to_owned(),
        ),
        (f("a0_text", &jade), "Visit Jade at home weekly".to_owned()),
        (f("a0_owner", &jade), sw_name.clone()),
        (f("a0_due", &jade), "09/06/2025".to_owned()),
        (
            f("decision", &liam),
            "Police to speak to the taxi firm.".to_owned(),
        ),
        (f("a0_text", &liam), "Speak to the taxi firm".to_owned()),
        (f("a0_owner", &liam), pc_name.clone()),
        (f("a0_due", &liam), "2025-06-16".to_owned()),
    ];
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = triage.post("/meetings/new", &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let meeting = r.location.clone();
    assert!(meeting.starts_with("/meetings/"));
    // One meeting, two actions, in the log.
    assert_eq!(count(app, "meeting.held"), 1);
    assert_eq!(count(app, "case.action_added"), 2);
    // The minutes: who attended, the decisions, the actions with links.
    let m = triage.get(&meeting).await;
    assert_eq!(m.status, StatusCode::OK);
    for want in [
        "Chris Example, head of service",
        "DS Robin Sample",
        "Northshire Police",
        "Disrupt the hotel; weekly visits.",
        "Visit Jade at home weekly",
        "Speak to the taxi firm",
        &format!("/cases/{jade}#action-"),
    ] {
        assert!(m.body.contains(want), "{want}");
    }
    // On the case: the meeting and the action it set.
    let sw = app.login(&sw_name).await;
    let c = sw.get(&format!("/cases/{jade}")).await;
    assert_eq!(c.status, StatusCode::OK);
    assert!(c.body.contains("Set at the meeting of 2 June 2025"));
    assert!(c.body.contains("Meetings that discussed it"));
    assert!(c.body.contains("Disrupt the hotel; weekly visits."));
    assert!(c.body.contains(&format!("href=\"{meeting}\"")));
    // In the owner's actions.
    let mine = sw.get("/actions/mine").await;
    assert!(mine.body.contains("Visit Jade at home weekly"));
    assert!(!mine.body.contains("Speak to the taxi firm"));
    let pc = app.login(&pc_name).await;
    assert!(pc
        .get("/actions/mine")
        .await
        .body
        .contains("Speak to the taxi firm"));
    // The council's practitioner reads the minutes without Liam's case.
    let m = sw.get(&meeting).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.body.contains("Disrupt the hotel"));
    assert!(!m.body.contains("Liam") && !m.body.contains("taxi firm"));
    // After the meeting, Liam's missing episode (before it) no longer
    // puts him on the next agenda; Jade's high risk still does.
    let r = triage.get("/meetings").await;
    let agenda = agenda_of(&r.body);
    assert!(agenda.contains(&jade));
    assert!(!agenda.contains(&liam));
    assert!(r.body.contains("the last meeting (2 June 2025)"));
    // An unknown meeting is 404; a hostile address too.
    for bad in [
        "/meetings/not-a-uuid",
        &format!("/meetings/{}", Uuid::now_v7()),
    ] {
        assert_eq!(triage.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
    }
}

async fn the_meeting_form_refuses_bad_input_and_keeps_it(app: &TestApp) {
    let w = world(app);
    let jade = w.jade.1.to_string();
    let sw = app.login(&app.username("practitioner", COUNCIL)).await;
    let f = |s: &str| format!("{s}_{jade}");
    let post = |pairs: Vec<(String, String)>| {
        let sw = &sw;
        async move {
            let p: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            sw.post("/meetings/new", &p).await
        }
    };
    let base = |extra: &[(String, String)]| {
        let mut v = vec![
            ("cases".to_owned(), jade.clone()),
            ("held".to_owned(), "02/06/2025".to_owned()),
            ("chair".to_owned(), "Chris Example".to_owned()),
            ("att0_name".to_owned(), "Chris Example".to_owned()),
            ("att0_agency".to_owned(), COUNCIL.to_owned()),
            (f("decision"), "Keep visiting.".to_owned()),
        ];
        for (k, val) in extra {
            v.retain(|(kk, _)| kk != k);
            v.push((k.clone(), val.clone()));
        }
        v
    };
    // Empty: every problem named; nothing written.
    let r = post(vec![("cases".into(), jade.clone())]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Enter the day the meeting was held."));
    assert!(r.body.contains("List who attended."));
    assert!(r.body.contains("Write the decision on at least one case"));
    // Wrong: a day in the future, an unknown agency, a bad due day, an
    // action without a decision on another case; all typed text kept.
    let r = post(base(&[
        ("held".into(), "31/12/2099".into()),
        ("att0_agency".into(), "nowhere".into()),
        ("att1_name".into(), "Pat <b>Example</b>".into()),
        (f("a0_text"), "<script>alert(1)</script> visit".into()),
        (f("a0_owner"), "someone".into()),
        (f("a0_due"), "yesterday".into()),
    ]))
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("in the future"));
    assert!(r.body.contains("Choose the agency they came for."));
    assert!(r
        .body
        .contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62; visit\""));
    assert!(!r.body.contains("<script>alert(1)"));
    assert!(r.body.contains("Pat &#60;b&#62;Example&#60;/b&#62;"));
    assert!(r.body.contains("Keep visiting."));
    assert!(r.body.contains("value=\"yesterday\""));
    // Huge: refused by length, not stored.
    let r = post(base(&[("chair".into(), "x".repeat(100_000))])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(base(&[(f("decision"), "y".repeat(200_000))])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A forged agenda: not case ids, or a case this user may not change.
    let r = post(base(&[("cases".into(), "<b>not ids</b>".into())])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let liam = w.liam.1.to_string();
    let r = post(vec![
        ("cases".into(), liam.clone()),
        ("held".into(), "02/06/2025".into()),
        ("chair".into(), "Chris Example".into()),
        ("att0_name".into(), "Chris Example".into()),
        ("att0_agency".into(), COUNCIL.into()),
        (format!("decision_{liam}"), "Nothing".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An owner with no account: the log refuses nothing because nothing
    // is sent; the sentence names them and the form is kept.
    let r = post(base(&[
        (f("a0_text"), "Visit".into()),
        (f("a0_owner"), "nobody.here".into()),
        (f("a0_due"), "10/06/2025".into()),
    ]))
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("There is no account &#39;nobody.here&#39;"));
    assert!(r.body.contains("Keep visiting."));
    // Without the anti-forgery token: refused.
    let r = sw
        .post_raw(
            "/meetings/new",
            &[("cases", jade.as_str()), ("held", "02/06/2025")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(app, "meeting.held"), 0);
    assert_eq!(count(app, "case.action_added"), 0);
    // And then right: recorded.
    let r = post(base(&[])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "meeting.held"), 1);
}

on_both_backends!(a_case_on_a_place_is_on_the_agenda_and_discussed: place_sqlite, place_postgres);

/// A contextual case (on a takeaway, high risk, Jade linked to it) is on
/// the agenda by its place, is discussed at the meeting with a decision
/// and an action, and keeps both; no child is named for it.
async fn a_case_on_a_place_is_on_the_agenda_and_discussed(app: &TestApp) {
    let w = world(app);
    let sw = app.username("practitioner", COUNCIL);
    let (place, case) = (Uuid::now_v7(), Uuid::now_v7());
    append(
        app,
        &[
            event(
                COUNCIL,
                "location.recorded",
                serde_json::json!({"location_id": place, "kind": "takeaway", "name": "Golden Fry", "postcode": "NS1 2CD"}),
            ),
            event(
                COUNCIL,
                "case.opened",
                serde_json::json!({
                    "case_id": case, "context": {"kind": "place", "location_id": place},
                    "level": "exploitation", "reason": "Children seen there late at night.",
                    "lead_agency": COUNCIL, "worker": sw, "risk": "high",
                    "risk_reason": "Older men buy them food.",
                }),
            ),
            event(
                COUNCIL,
                "case.child_linked",
                serde_json::json!({"case_id": case, "child_id": w.jade.0, "reason": "Seen there twice."}),
            ),
        ],
    );
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let r = triage.get("/meetings").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let agenda = agenda_of(&r.body);
    let row = agenda
        .split(&format!("agenda-{case}"))
        .nth(1)
        .expect("the case on the place is on the agenda");
    let row = row.split("</tr>").next().unwrap();
    assert!(
        row.contains("Golden Fry") && row.contains("High risk"),
        "{row}"
    );
    // Recorded with it: the decision and its action are the case's.
    let r = triage.get("/meetings/new").await;
    let cases = hidden(&r.body, "cases").unwrap();
    assert!(cases.contains(&case.to_string()), "{cases}");
    let id = case.to_string();
    let mut pairs: Vec<(String, String)> = vec![
        ("cases".into(), id.clone()),
        ("held".into(), "02/06/2025".into()),
        ("chair".into(), "Chris Example, head of service".into()),
        ("att0_name".into(), "Chris Example".into()),
        ("att0_agency".into(), COUNCIL.into()),
        (
            format!("decision_{id}"),
            "Licensing to visit the takeaway.".into(),
        ),
        (
            format!("a0_text_{id}"),
            "Ask licensing to review the takeaway".into(),
        ),
        (format!("a0_owner_{id}"), sw.clone()),
        (format!("a0_due_{id}"), "09/06/2025".into()),
    ];
    pairs.dedup();
    let p: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = triage.post("/meetings/new", &p).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let minutes = triage.get(&r.location).await.body;
    assert!(
        minutes.contains("Golden Fry") && minutes.contains("Licensing to visit"),
        "{minutes}"
    );
    let page = triage.get(&format!("/cases/{case}")).await.body;
    assert!(page.contains("Licensing to visit the takeaway."), "{page}");
    assert!(
        page.contains("Ask licensing to review the takeaway"),
        "{page}"
    );
}
