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
}
