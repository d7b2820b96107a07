//! Missing episodes on a child's page over real HTTP, on both backends:
//! the episodes per month of the last twelve, the pattern (where found and
//! who with, counted), each episode's return home interview (held, due
//! within 72 clock hours of the return, overdue and escalated by the
//! referral policy), and the placements and workers of the last twelve
//! months. Hostile text in a return is shown escaped.

mod common;

use chrono::{TimeZone, Utc};
use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(the_childs_page_shows_episodes_pattern_and_interviews: page_sqlite, page_postgres);
on_both_backends!(the_forms_record_an_episode_its_return_and_interview: forms_sqlite, forms_postgres);

fn count(app: &TestApp, kind: &str) -> usize {
    blocking(|| app.kinds())
        .iter()
        .filter(|k| *k == kind)
        .count()
}

/// The episode ids offered in a select of the form page.
fn options(body: &str, select: &str) -> Vec<String> {
    let Some(start) = body.find(&format!("id=\"{select}\"")) else {
        return Vec::new();
    };
    let end = body[start..].find("</select>").unwrap() + start;
    body[start..end]
        .split("<option value=\"")
        .skip(2)
        .map(|o| o[..o.find('"').unwrap()].to_owned())
        .collect()
}

fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn event(agency: &str, at: &str, kind: &str, payload: String) -> String {
    format!(
        r#"{{"actor":{{"user":"officer.1","role":"practitioner"}},"agency":"{agency}","occurred_at":{{"value":"{at}","precision":"exact"}},"kind":"{kind}","payload":{payload}}}"#
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

/// An episode from `start` to `back` (if back), found at/with/by.
fn episode(
    child: Uuid,
    start: &str,
    back: Option<(&str, &str, &str, &str)>,
) -> (Uuid, Vec<String>) {
    let id = Uuid::now_v7();
    let mut v = vec![event(
        "northshire-police",
        start,
        "missing_episode.recorded",
        format!(
            r#"{{"episode_id":"{id}","child_id":"{child}","missing_type":"M","started_at":"{start}"}}"#
        ),
    )];
    if let Some((at, place, with, by)) = back {
        let payload = serde_json::json!({
            "episode_id": id,
            "returned_at": at,
            "return_interview_offered": true,
            "found_place": place,
            "found_with": with,
            "found_by": by,
        });
        v.push(event(
            "northshire-police",
            at,
            "missing_episode.returned",
            payload.to_string(),
        ));
    }
    (id, v)
}

/// The text of the page's missing section, without tags.
fn section(body: &str) -> String {
    let start = body.find("id=\"missing\"").expect("a missing section");
    let end = body[start..]
        .find("id=\"stability\"")
        .expect("the stability line")
        + start;
    let mut out = String::new();
    let mut in_tag = false;
    for c in body[start..end + 200].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

async fn the_childs_page_shows_episodes_pattern_and_interviews(app: &TestApp) {
    // Now: Monday 2 June 2025, 10:00 BST.
    let officer = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    let referral = submit_referral(&officer, &referral_form()).await;
    let child = blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .unwrap()
            .as_kind::<vigil_model::state::ReferralState>()
            .unwrap()
            .child_id
    });
    let path = format!("/people/{child}");
    let before = section(&page(&officer, &path).await);
    assert!(
        before.contains("None recorded that you may see"),
        "{before}"
    );

    let mut lines = Vec::new();
    // Thirteen months ago: in all, not in the last twelve months.
    let (_, old) = episode(
        child,
        "2024-05-15T20:00:00Z",
        Some((
            "2024-05-16T01:00:00Z",
            "Riverside Park",
            "Adult X",
            "Police",
        )),
    );
    lines.extend(old);
    // Interview held.
    let (held, e1) = episode(
        child,
        "2025-05-01T19:00:00Z",
        Some((
            "2025-05-02T01:00:00Z",
            "Station Road taxi rank",
            "Adult X",
            "Police patrol",
        )),
    );
    lines.extend(e1);
    lines.push(event(
        "riverside-youth-project",
        "2025-05-03T15:00:00Z",
        "return_interview.recorded",
        serde_json::json!({
            "episode_id": held, "outcome": "held", "held_at": "2025-05-03T15:00:00Z",
            "by_whom": "Sam Patel", "child_said": "She said she was with friends."
        })
        .to_string(),
    ));
    // Assigned, never done: due Saturday 24 May, long overdue.
    let (late, e2) = episode(
        child,
        "2025-05-20T19:00:00Z",
        Some((
            "2025-05-21T03:00:00Z",
            "station road  taxi rank",
            "adult x",
            "<script>alert(1)</script>",
        )),
    );
    lines.extend(e2);
    lines.push(event(
        "northshire-childrens-services",
        "2025-05-21T09:00:00Z",
        "return_interview.assigned",
        serde_json::json!({"episode_id": late, "agency": "riverside-youth-project", "worker": "sam.patel"})
            .to_string(),
    ));
    // Back at Friday 30 May 18:00 BST: due Monday 2 June 18:00 BST.
    let (_, e3) = episode(
        child,
        "2025-05-30T14:00:00Z",
        Some((
            "2025-05-30T17:00:00Z",
            "Station Road Taxi Rank",
            "Adult X",
            "Foster carer",
        )),
    );
    lines.extend(e3);
    // Still missing.
    let (_, e4) = episode(child, "2025-06-01T22:00:00Z", None);
    lines.extend(e4);
    // Placements: one ended before the twelve months, one that began in
    // 2020 and ended inside them, one since March.
    for (on, to) in [
        ("2019-01-01", Some("2020-01-05")),
        ("2020-01-06", Some("2024-07-10")),
        ("2025-03-01", None),
    ] {
        let id = Uuid::now_v7();
        lines.push(format!(
            r#"{{"actor":{{"user":"sw.1","role":"practitioner"}},"agency":"northshire-childrens-services","occurred_at":{{"value":"{on}","precision":"day"}},"kind":"placement.started","payload":{{"placement_id":"{id}","child_id":"{child}","placement_type":"U1","started_on":"{on}"}}}}"#
        ));
        if let Some(to) = to {
            lines.push(format!(
                r#"{{"actor":{{"user":"sw.1","role":"practitioner"}},"agency":"northshire-childrens-services","occurred_at":{{"value":"{to}","precision":"day"}},"kind":"placement.ended","payload":{{"placement_id":"{id}","ended_on":"{to}"}}}}"#
            ));
        }
    }
    append(app, &lines);

    // The front door sees every agency's records (placements included).
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let body = page(&triage, &path).await;
    assert!(
        !body.contains("<script>alert(1)"),
        "hostile text is escaped"
    );
    let s = section(&body);
    assert!(s.contains("4 in the last 12 months, 5 in all"), "{s}");
    assert!(s.contains("By month: May 2025: 3; Jun 2025: 1."), "{s}");
    assert!(s.contains("Found at Station Road taxi rank 3 times"), "{s}");
    assert!(s.contains("With Adult X 3 times"), "{s}");
    assert!(
        !s.contains("Found at Riverside Park once"),
        "older than a year: {s}"
    );
    assert!(s.contains("Held"), "{s}");
    assert!(s.contains("by Sam Patel"), "{s}");
    assert!(
        s.contains("Overdue by 9 days (was due by 04:00 on Saturday 24 May). Escalated to the supervisor and the head of service. Assigned to sam.patel (Riverside Youth Project)."),
        "{s}"
    );
    assert!(
        s.contains("Not done: due today (by 18:00 on Monday 2 June)."),
        "{s}"
    );
    assert!(s.contains("Not due: still missing"), "{s}");
    assert!(
        s.contains("2 placements and 0 workers in the last 12 months"),
        "{s}"
    );
    assert!(
        body.contains("<svg") && body.contains("missing episodes in the last 12 months, by month")
    );

    // The supervisors' list: an index read of the returns not followed by
    // an interview within 72 hours. The one held and the one not yet due
    // are not on it; the late one's row says how far it went, in the
    // same words as the page's explanation.
    let supervisor = app
        .login(&app.username("supervisor", "northshire-childrens-services"))
        .await;
    let home = page(&supervisor, "/").await;
    assert!(
        home.contains("href=\"/overdue/interviews\""),
        "in the navigation"
    );
    let list = page(&supervisor, "/overdue/interviews").await;
    assert!(
        list.contains("2 return home interviews are overdue"),
        "{list}"
    );
    assert_eq!(list.matches("<tr class=\"v-row--overdue\">").count(), 2);
    assert!(list.contains("sam.patel (Riverside Youth Project)"));
    assert!(list.contains("Escalated to the supervisor and the head of service"));
    assert!(!list.contains("escalated to you"));
    assert!(list.contains(&format!("href=\"/people/{child}#missing\"")));
    // A referrer may not see it.
    let referrer = app
        .login(&app.username("referrer", "riverside-youth-project"))
        .await;
    assert_eq!(
        referrer.get("/overdue/interviews").await.status,
        StatusCode::FORBIDDEN
    );

    // At 18:00 BST the Friday return's interview is overdue: the supervisor.
    app.set_now(Utc.with_ymd_and_hms(2025, 6, 2, 17, 0, 0).unwrap());
    // (Signed in afresh: a session does not last the working day.)
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let s = section(&page(&triage, &path).await);
    assert!(
        s.contains("(was due by 18:00 on Monday 2 June). Escalated to the supervisor."),
        "{s}"
    );
    let supervisor = app
        .login(&app.username("supervisor", "northshire-childrens-services"))
        .await;
    let list = page(&supervisor, "/overdue/interviews").await;
    assert_eq!(
        list.matches("<tr class=\"v-row--overdue\">").count(),
        3,
        "{list}"
    );
    assert!(list.contains("Escalated to the supervisor</td>"));
}

async fn the_forms_record_an_episode_its_return_and_interview(app: &TestApp) {
    // Now: Monday 2 June 2025, 10:00 BST. A police officer's own record.
    let officer = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    let referral = submit_referral(&officer, &referral_form()).await;
    let child = blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .unwrap()
            .as_kind::<vigil_model::state::ReferralState>()
            .unwrap()
            .child_id
    });
    let person = format!("/people/{child}");
    let path = format!("{person}/missing");
    assert!(page(&officer, &person)
        .await
        .contains(&format!("href=\"{path}\"")));
    let form = page(&officer, &path).await;
    assert!(form.contains("No episode is open"));

    // Wrong, empty, huge and hostile input records nothing.
    let huge = "x".repeat(5_000);
    let bad: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("action", "report"), ("m_type", "M")],
            "Enter when the child went missing.",
        ),
        (
            vec![
                ("action", "report"),
                ("m_type", "X"),
                ("m_started", "2025-06-01T22:00"),
            ],
            "Choose missing or away",
        ),
        (
            vec![
                ("action", "report"),
                ("m_type", "M"),
                ("m_started", "tomorrow"),
            ],
            "for example 28/11/2026 22:30",
        ),
        (
            vec![
                ("action", "report"),
                ("m_type", "M"),
                ("m_started", "2025-06-09T22:00"),
            ],
            "is in the future",
        ),
        (
            vec![
                ("action", "report"),
                ("m_type", "M"),
                ("m_started", "2025-06-01T22:00"),
                ("m_reported_by", &huge),
            ],
            "the limit is",
        ),
        (
            vec![
                ("action", "report"),
                ("m_type", "M"),
                ("m_started", "2025-06-01T22:00"),
                ("m_reported_by", "a\u{0}b"),
            ],
            "Who reported it",
        ),
        (
            vec![("action", "drop table")],
            "Choose one of the forms on this page.",
        ),
        (vec![], "Choose one of the forms on this page."),
        (
            vec![
                ("action", "return"),
                ("r_episode", "not-a-uuid"),
                ("r_at", "2025-06-02T08:00"),
                ("r_offered", "yes"),
            ],
            "Choose one of this child",
        ),
    ];
    for (n, (pairs, want)) in bad.iter().enumerate() {
        let r = officer.post(&path, pairs).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "case {n}");
        let summary = r
            .body
            .find("There is a problem")
            .map(|i| &r.body[i..(i + 600).min(r.body.len())])
            .unwrap_or("");
        assert!(r.body.contains(want), "case {n}: want {want:?}: {summary}");
    }
    // Without the anti-forgery token: refused.
    let r = officer
        .post_raw(
            &path,
            &[
                ("action", "report"),
                ("m_type", "M"),
                ("m_started", "2025-06-01T22:00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(app, "missing_episode.recorded"), 0);

    // Report: missing since Sunday 22:00 BST.
    let r = officer
        .post(
            &path,
            &[
                ("action", "report"),
                ("m_type", "M"),
                ("m_started", "2025-06-01T22:00"),
                ("m_reported_by", "Foster carer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "missing_episode.recorded"), 1);
    let form = page(&officer, &path).await;
    let open = options(&form, "r_episode");
    assert_eq!(open.len(), 1, "the open episode is offered");
    let ep = open[0].clone();
    // An episode of another child, or one made up, is refused.
    let made_up = Uuid::now_v7().to_string();
    let r = officer
        .post(
            &path,
            &[
                ("action", "return"),
                ("r_episode", &made_up),
                ("r_at", "2025-06-02T08:00"),
                ("r_offered", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Back before it began: refused by the model, in a sentence.
    let r = officer
        .post(
            &path,
            &[
                ("action", "return"),
                ("r_episode", &ep),
                ("r_at", "2025-06-01T20:00"),
                ("r_offered", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("before it starts"), "{}", r.body);
    // Found Monday 02:00 BST at the taxi rank, with hostile text.
    let r = officer
        .post(
            &path,
            &[
                ("action", "return"),
                ("r_episode", &ep),
                ("r_at", "2025-06-02T02:00"),
                ("r_place", "Station Road taxi rank"),
                ("r_by", "Police patrol"),
                ("r_with", "<img src=x onerror=alert(1)>"),
                ("r_offered", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let body = page(&officer, &person).await;
    assert!(!body.contains("<img src=x"), "escaped");
    let s = section(&body);
    assert!(
        s.contains("Found at Station Road taxi rank, by Police patrol"),
        "{s}"
    );
    // Due 72 hours after 02:00 BST Monday: Thursday 5 June 02:00.
    assert!(
        s.contains("Not done: due by 02:00 on Thursday 5 June."),
        "{s}"
    );

    // Assign it, then record it: held needs what the child said.
    let form = page(&officer, &path).await;
    assert_eq!(options(&form, "a_episode"), vec![ep.clone()]);
    let r = officer
        .post(
            &path,
            &[
                ("action", "assign"),
                ("a_episode", &ep),
                ("a_agency", "Not An Agency!"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = officer
        .post(
            &path,
            &[
                ("action", "assign"),
                ("a_episode", &ep),
                ("a_agency", "riverside-youth-project"),
                ("a_worker", "sam.patel"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let s = section(&page(&officer, &person).await);
    assert!(
        s.contains("Assigned to sam.patel (Riverside Youth Project)."),
        "{s}"
    );
    let r = officer
        .post(
            &path,
            &[
                ("action", "interview"),
                ("i_episode", &ep),
                ("i_outcome", "held"),
                ("i_at", "2025-06-02T09:30"),
                ("i_by", "Sam Patel"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Write what the child said"));
    let r = officer
        .post(
            &path,
            &[
                ("action", "interview"),
                ("i_episode", &ep),
                ("i_outcome", "held"),
                ("i_at", "2025-06-02T01:00"),
                ("i_by", "Sam Patel"),
                ("i_said", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "before the return");
    let r = officer
        .post(
            &path,
            &[
                ("action", "interview"),
                ("i_episode", &ep),
                ("i_outcome", "held"),
                ("i_at", "2025-06-02T09:30"),
                ("i_by", "Sam Patel, youth worker"),
                ("i_where", "At home"),
                ("i_said", "She said she was with older friends in a car."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(app, "return_interview.assigned"), 1);
    assert_eq!(count(app, "return_interview.recorded"), 1);
    let s = section(&page(&officer, &person).await);
    assert!(
        s.contains("Held 2 June 2025 at 9:30am by Sam Patel, youth worker"),
        "{s}"
    );
    assert!(s.contains("Found at Station Road taxi rank once"), "{s}");
    // Nothing left waiting for an interview.
    assert!(page(&officer, &path)
        .await
        .contains("No return is waiting for an interview."));

    // A referrer may not record missing episodes.
    let referrer = app
        .login(&app.username("referrer", "riverside-youth-project"))
        .await;
    let r = referrer.get(&path).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
