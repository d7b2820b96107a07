//! Alerts over real HTTP, on both backends: a child missing three times in
//! a month raises an alert (the rules runner, as the server's loop runs
//! it); it is on the worker's and the team's alert pages, on the child's
//! record, the case and the triage queue; opening it records `alert.seen`
//! once; the worker acknowledges it with a note and later resolves it;
//! one nobody acknowledges escalates to the supervisor, then the head of
//! service. An agency with no part in the child's record or cases sees
//! none of it; an auditor reads and changes nothing. The forms get wrong,
//! empty, huge and hostile input.

mod common;

use chrono::{TimeZone, Utc};
use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;

on_both_backends!(an_alert_is_seen_acknowledged_and_resolved: answered_sqlite, answered_postgres);

const COUNCIL: &str = "northshire-childrens-services";

fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn count(app: &TestApp, kind: &str) -> usize {
    app.kinds().iter().filter(|k| *k == kind).count()
}

/// The table row of the alerts page that links `path` (empty if none).
fn row_of<'a>(page: &'a str, path: &str) -> &'a str {
    page.split("<tr")
        .find(|r| r.contains(&format!("href=\"{path}\"")))
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .unwrap_or("")
}

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{path}: {} {}",
        r.location,
        r.body
    );
    r.body
}

/// Reports the child missing and back, three times in May 2025.
async fn three_episodes(c: &Client, child: Uuid) {
    let path = format!("/people/{child}/missing");
    for (from, back) in [
        ("2025-05-10T22:00", "2025-05-11T08:00"),
        ("2025-05-20T22:00", "2025-05-21T08:00"),
        ("2025-05-30T22:00", "2025-05-31T08:00"),
    ] {
        let r = c
            .post(
                &path,
                &[
                    ("action", "report"),
                    ("m_type", "M"),
                    ("m_started", from),
                    ("m_reported_by", "Foster carer"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let form = page(c, &path).await;
        let select = form.split("name=\"r_episode\"").nth(1).unwrap_or_default();
        let ep = select
            .split("<option value=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|v| !v.is_empty())
            .expect("the open episode is offered")
            .to_owned();
        let r = c
            .post(
                &path,
                &[
                    ("action", "return"),
                    ("r_episode", &ep),
                    ("r_at", back),
                    ("r_offered", "yes"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
}

/// The alerts of one rule (the episodes also raise `return-interview-overdue`:
/// nobody recorded the interviews).
fn alerts_of(app: &TestApp, rule: &str) -> Vec<Uuid> {
    blocking(|| {
        app.store
            .entities_of_kind(vigil_model::EntityKind::Alert)
            .unwrap()
            .iter()
            .filter(|r| {
                r.as_kind::<vigil_model::state::AlertState>()
                    .is_some_and(|a| a.rule == rule)
            })
            .map(|r| r.id)
            .collect()
    })
}

fn alert_id(app: &TestApp) -> Uuid {
    let ids = alerts_of(app, "repeated-missing");
    assert_eq!(ids.len(), 1, "one repeated-missing alert");
    ids[0]
}

async fn an_alert_is_seen_acknowledged_and_resolved(app: &TestApp) {
    let referrer = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&referrer, &referral_form()).await;
    let child = app.child_of_referral(referral);
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    let sw_name = app.username("practitioner", COUNCIL);
    let sw = app.login(&sw_name).await;
    let police = app
        .login(&app.username("practitioner", "northshire-police"))
        .await;
    let auditor = app.login(&app.username("auditor", COUNCIL)).await;

    // No alert yet; the runner raises one for three episodes in 30 days,
    // and only one however often it runs.
    three_episodes(&triage, child).await;
    assert_eq!(count(app, "alert.raised"), 0);
    app.state.app.run_alerts().await.unwrap();
    let raised = count(app, "alert.raised");
    app.state.app.run_alerts().await.unwrap();
    assert_eq!(count(app, "alert.raised"), raised);
    let id = alert_id(app);
    let alert_path = format!("/alerts/{id}");

    // A case for the child, allocated to the social worker.
    let c = child.to_string();
    let r = triage
        .post(
            "/cases/new",
            &[
                ("child", c.as_str()),
                ("referral", ""),
                ("level", "exploitation"),
                ("reason", "Missing three times in May."),
                ("lead", COUNCIL),
                ("worker", sw_name.as_str()),
                ("risk", "high"),
                ("risk_reason", "Missing overnight, found with older men."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let case_path = r.location.clone();

    // The worker's own page lists it, with the case; so do the child's
    // record, the case and the triage queue.
    let mine = page(&sw, "/alerts").await;
    assert!(mine.contains(&alert_path), "{mine}");
    assert!(mine.contains("Missing three or more times in 30 days"));
    assert!(mine.contains(&format!("href=\"{case_path}\"")), "{mine}");
    assert!(mine.contains("open alerts"), "{mine}");
    let record = page(&triage, &format!("/people/{child}")).await;
    assert!(record.contains("id=\"person-alerts\"") && record.contains(&alert_path));
    let case = page(&sw, &case_path).await;
    assert!(case.contains("id=\"case-alerts\"") && case.contains(&alert_path));
    let _second = submit_referral(&referrer, &referral_form()).await;
    let queue = page(&triage, "/triage").await;
    assert!(queue.contains("v-queue-alert") && queue.contains(&alert_path));

    // Another agency with no part in the child's record or case: nothing.
    let theirs = page(&police, "/alerts/team").await;
    assert!(!theirs.contains(&alert_path), "{theirs}");
    assert!(theirs.contains("0 open alerts"), "{theirs}");
    assert_eq!(police.get(&alert_path).await.status, StatusCode::FORBIDDEN);
    let r = police
        .post(
            &format!("{alert_path}/acknowledge"),
            &[("ack_note", "Mine now")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A role without alerts is refused the page itself.
    assert_eq!(referrer.get("/alerts").await.status, StatusCode::FORBIDDEN);
    // No such alert, or no id at all.
    for bad in ["not-an-id", &Uuid::now_v7().to_string()] {
        assert_eq!(
            sw.get(&format!("/alerts/{bad}")).await.status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }

    // Opening it records who saw it, once per person; an auditor reads it
    // without being recorded as having seen it and may not answer it.
    let shown = page(&sw, &alert_path).await;
    assert!(shown.contains("Acknowledge the alert") && shown.contains("Missing"));
    page(&sw, &alert_path).await;
    assert_eq!(count(app, "alert.seen"), 1);
    let audited = page(&auditor, &alert_path).await;
    assert!(!audited.contains("Acknowledge the alert"));
    assert_eq!(count(app, "alert.seen"), 1);
    let r = auditor
        .post(
            &format!("{alert_path}/acknowledge"),
            &[("ack_note", "Seen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Acknowledging needs a note; a huge one is refused; nothing is lost:
    // the page comes back with the words typed.
    let ack = format!("{alert_path}/acknowledge");
    for (note, says) in [
        ("", "Write what you are doing about it."),
        ("   ", "Write what you are doing about it."),
    ] {
        let r = sw.post(&ack, &[("ack_note", note)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains(says), "{}", r.body);
    }
    let huge = "x".repeat(60_000);
    let r = sw.post(&ack, &[("ack_note", &huge)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(app, "alert.acknowledged"), 0);
    // Hostile text is kept as written and shown escaped.
    let note = "<script>alert(1)</script> Visited Jade; strategy discussion booked for Thursday.";
    let r = sw.post(&ack, &[("ack_note", note)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = page(&sw, &alert_path).await;
    assert!(
        shown.contains("&#60;script&#62;alert(1)&#60;/script&#62; Visited Jade"),
        "{shown}"
    );
    assert!(!shown.contains("<script>alert(1)"));
    assert!(shown.contains(&format!("Acknowledged by {sw_name}")));
    assert!(!shown.contains("Acknowledge the alert"));
    // Once only.
    let r = sw.post(&ack, &[("ack_note", "Again")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("acknowledged already"), "{}", r.body);
    assert_eq!(count(app, "alert.acknowledged"), 1);

    // Acknowledged: no escalation, however late it gets.
    app.set_now(Utc.with_ymd_and_hms(2025, 6, 9, 9, 0, 0).unwrap());
    let tm = app.login(&app.username("supervisor", COUNCIL)).await;
    let sw = app.login(&sw_name).await;
    let team = page(&tm, "/alerts/team").await;
    let row = row_of(&team, &alert_path);
    assert!(!row.is_empty() && !row.contains("Escalated to"), "{team}");

    // Resolved, with a note: off the open lists, still on the record.
    let resolve = format!("{alert_path}/resolve");
    let r = sw.post(&resolve, &[("resolve_note", "")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = sw
        .post(
            &resolve,
            &[("resolve_note", "Safety plan agreed; no missing since.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!page(&sw, "/alerts").await.contains(&alert_path));
    assert!(page(&sw, "/alerts?resolved=1").await.contains(&alert_path));
    // (The case still lists the other alerts: the interviews are overdue.)
    assert!(!page(&sw, &case_path).await.contains(&alert_path));
    assert!(page(&sw, &alert_path).await.contains("Resolved by"));
}

on_both_backends!(an_alert_nobody_acknowledges_escalates: escalates_sqlite, escalates_postgres);

async fn an_alert_nobody_acknowledges_escalates(app: &TestApp) {
    let referrer = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let referral = submit_referral(&referrer, &referral_form()).await;
    let child = app.child_of_referral(referral);
    let triage = app.login(&app.username("triage", COUNCIL)).await;
    three_episodes(&triage, child).await;
    // Raised on Monday 2 June 2025 at 10:00: a high alert is to be
    // acknowledged by the end of Tuesday.
    app.state.app.run_alerts().await.unwrap();
    let path = format!("/alerts/{}", alert_id(app));
    for (at, words) in [
        (Utc.with_ymd_and_hms(2025, 6, 3, 22, 59, 0).unwrap(), None),
        (
            Utc.with_ymd_and_hms(2025, 6, 3, 23, 0, 0).unwrap(),
            Some("Escalated to the supervisor</span>"),
        ),
        (
            Utc.with_ymd_and_hms(2025, 6, 5, 23, 0, 0).unwrap(),
            Some("Escalated to the supervisor and the head of service"),
        ),
    ] {
        app.set_now(at);
        // Signed in afresh: a session ends after hours without use.
        let tm = app.login(&app.username("supervisor", COUNCIL)).await;
        let team = page(&tm, "/alerts/team").await;
        let row = row_of(&team, &path);
        assert!(!row.is_empty(), "{team}");
        match words {
            None => assert!(!row.contains("Escalated to"), "{at}: {row}"),
            Some(w) => {
                assert!(row.contains(w), "{at}: {row}");
                assert!(row.contains("Not acknowledged in time"), "{at}: {row}");
            }
        }
    }
}
