//! The triage queue against a clock the test moves: deadlines in working
//! days across weekends and England and Wales bank holidays, oldest
//! deadline first, overdue referrals escalated once per level (as events in
//! the log) and kept in front of the supervisor until decided.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{referral_form, submit_referral, TestApp};
use reqwest::StatusCode;
use vigil_web::reference::reference_for;

/// A UK local time in spring or summer 2025 (British Summer Time, UTC+1).
fn bst(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, m, d, h - 1, 0, 0).unwrap()
}

fn form_for_month(month: u32) -> Vec<(&'static str, String)> {
    let mut f = referral_form();
    f.retain(|(k, _)| *k != "when_month");
    f.push(("when_month", month.to_string()));
    f
}

fn escalations(app: &TestApp) -> usize {
    app.kinds()
        .iter()
        .filter(|k| *k == "referral.escalated")
        .count()
}

/// A page as a user, signed in afresh (sessions end after 30 idle minutes
/// by the same clock the test moves).
async fn page(app: &TestApp, user: &str, path: &str) -> String {
    let r = app.login(user).await.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{user} GET {path}");
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_due_over_easter_is_due_on_tuesday_then_overdue_and_escalated_once() {
    // Thursday before Good Friday 2025, 3pm.
    let app = TestApp::start_at(bst(4, 17, 15)).await;
    let teacher = app.username("referrer", "oakfield-academy");
    let triage = app.username("triage", "northshire-childrens-services");
    let supervisor = app.username("supervisor", "northshire-childrens-services");
    let id = submit_referral(&app.login(&teacher).await, &form_for_month(4)).await;

    let queue = page(&app, &triage, "/triage").await;
    assert!(
        queue.contains("due by end of Tuesday 22 April"),
        "Good Friday and Easter Monday do not count"
    );
    assert!(queue.contains(">On time<"));

    // After each move of the clock, the server's timer: the rules runner
    // records the escalations.
    app.set_now(bst(4, 19, 12)); // Saturday
    app.state.app.run_alerts().await.unwrap();
    assert!(page(&app, &triage, "/triage").await.contains(">On time<"));
    app.set_now(bst(4, 21, 12)); // Easter Monday
    app.state.app.run_alerts().await.unwrap();
    assert!(page(&app, &triage, "/triage")
        .await
        .contains("due by end of Tuesday 22 April"));

    app.set_now(bst(4, 22, 10)); // Tuesday: the day it is due
    app.state.app.run_alerts().await.unwrap();
    let queue = page(&app, &triage, "/triage").await;
    assert!(
        queue.contains("due today (by end of Tuesday 22 April)"),
        "{queue}"
    );
    assert!(queue.contains(">Due today<"));
    assert_eq!(escalations(&app), 0);
    assert!(page(&app, &supervisor, "/overdue")
        .await
        .contains("No referral is overdue"));

    app.set_now(bst(4, 23, 9)); // Wednesday: overdue
                                // Reading the queue writes nothing to the log, even when it is late.
    page(&app, &triage, "/triage").await;
    assert_eq!(escalations(&app), 0, "a page load records no escalation");
    app.state.app.run_alerts().await.unwrap();
    let queue = page(&app, &triage, "/triage").await;
    assert!(queue.contains("overdue by 1 working day (was due by end of Tuesday 22 April)"));
    assert!(queue.contains(">Overdue<"));
    assert!(queue.contains("Escalated to the supervisor"));
    assert_eq!(escalations(&app), 1, "the supervisor is told, in the log");
    page(&app, &triage, "/triage").await;
    page(&app, &supervisor, "/overdue").await;
    app.state.app.run_alerts().await.unwrap();
    assert_eq!(escalations(&app), 1, "and only once");
    let overdue = page(&app, &supervisor, "/overdue").await;
    assert!(overdue.contains(&reference_for(id)));
    assert!(overdue.contains("1 referral has not been decided in time"));
    let home = page(&app, &supervisor, "/").await;
    assert!(
        home.contains("1 referral is overdue for a decision"),
        "the supervisor sees a banner"
    );
    assert!(page(&app, &teacher, "/referrals/mine")
        .await
        .contains("Awaiting decision (overdue)"));

    // Wed, Thu, Fri, Mon: more than 2 working days late, the head of service is told.
    app.set_now(bst(4, 28, 9));
    app.state.app.run_alerts().await.unwrap();
    let overdue = page(&app, &supervisor, "/overdue").await;
    assert!(overdue.contains("overdue by 4 working days"));
    assert!(overdue.contains("Escalated to the head of service"));
    assert_eq!(escalations(&app), 2);
    page(&app, &supervisor, "/overdue").await;
    assert_eq!(escalations(&app), 2);

    // Decided: it leaves the queue and the overdue list, and escalates no more.
    let r = app
        .login(&triage)
        .await
        .post(
            &format!("/referrals/{id}/decide"),
            &[("decision", "strategy_discussion")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(page(&app, &supervisor, "/overdue")
        .await
        .contains("No referral is overdue"));
    assert!(page(&app, &triage, "/triage")
        .await
        .contains("Nothing is waiting"));
    app.set_now(bst(5, 6, 9));
    app.state.app.run_alerts().await.unwrap();
    app.state.app.run_alerts().await.unwrap();
    assert_eq!(escalations(&app), 2);
    let view = page(&app, &triage, &format!("/referrals/{id}")).await;
    assert!(view.contains("escalated to the supervisor"));
    assert!(view.contains("escalated to the head of service"));
    assert!(view.contains("Decided: strategy discussion"));
    assert!(
        page(&app, &teacher, "/referrals/mine")
            .await
            .contains("Decided: strategy discussion"),
        "the referrer sees the decision"
    );

    // The escalation events are Vigil's own, with the day it was due.
    let mut found = Vec::new();
    app.store
        .for_each_entry(0, &mut |e| {
            if e.header_json.contains("\"referral.escalated\"") {
                found.push((e.header_json.clone(), e.payload_json.clone().unwrap()));
            }
            Ok(())
        })
        .unwrap();
    assert!(
        found[0]
            .0
            .contains(r#""actor":{"role":"system","user":"vigil"}"#),
        "{}",
        found[0].0
    );
    assert!(found[0].1.contains(r#""due_by":"2025-04-22""#));
    assert!(found[0].1.contains(r#""level":"supervisor""#));
    assert!(found[1].1.contains(r#""level":"head_of_service""#));
    assert!(found[1].1.contains(r#""working_days_overdue":4"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_puts_the_oldest_deadline_first_across_a_bank_holiday_weekend() {
    // Thursday 22 May 2025; Monday 26 May is the spring bank holiday.
    let app = TestApp::start_at(bst(5, 22, 10)).await;
    let teacher = app
        .login(&app.username("referrer", "oakfield-academy"))
        .await;
    let thursday = submit_referral(&teacher, &form_for_month(5)).await;
    let name = app.username("referrer", "oakfield-academy");
    app.set_now(bst(5, 23, 17));
    app.state.app.run_alerts().await.unwrap();
    let friday = submit_referral(&app.login(&name).await, &form_for_month(5)).await;
    app.set_now(bst(5, 24, 11));
    app.state.app.run_alerts().await.unwrap();
    let saturday = submit_referral(&app.login(&name).await, &form_for_month(5)).await;

    app.set_now(bst(5, 24, 12));
    app.state.app.run_alerts().await.unwrap();
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let queue = triage.get("/triage").await.body;
    let at = |id| queue.find(&reference_for(id)).unwrap();
    assert!(
        at(thursday) < at(friday) && at(friday) < at(saturday),
        "oldest deadline, then oldest received"
    );
    assert!(
        queue.contains("overdue since end of Friday 23 May"),
        "a weekend day is not a working day late"
    );
    assert_eq!(
        queue.matches("due by end of Tuesday 27 May").count(),
        2,
        "Friday evening and Saturday: both due Tuesday"
    );
    assert!(queue.contains("3 referrals are waiting for a decision; <strong>1 overdue</strong>"));
    assert_eq!(escalations(&app), 1);

    app.set_now(bst(5, 27, 9));
    app.state.app.run_alerts().await.unwrap();
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let queue = triage.get("/triage").await.body;
    assert!(
        queue.contains("overdue by 1 working day (was due by end of Friday 23 May)"),
        "Monday was a holiday"
    );
    assert!(queue.contains("2 due today"));
    assert_eq!(
        escalations(&app),
        1,
        "still within 2 working days: no head of service"
    );
}

/// Imported history keeps its own clock: a referral the previous system
/// received ten days before it was imported is overdue on the day of the
/// import, not new (issue 12, item 9), and is escalated; the same referral
/// without a source time would be on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_referral_is_due_from_when_its_source_system_received_it() {
    use serde_json::json;
    let now = bst(6, 12, 10); // Thursday 12 June 2025
    let app = TestApp::start_at(now).await;
    let triage = app.username("triage", "northshire-childrens-services");
    let imported_at = now - chrono::Duration::days(10);
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let event = |kind: &str, payload: serde_json::Value, source: Option<DateTime<Utc>>| {
        let mut e = json!({
            "actor": {"user": "import.operator", "role": "practitioner"},
            "agency": "northshire-childrens-services",
            "occurred_at": {"value": stamp(imported_at), "precision": "exact"},
            "kind": kind,
            "payload": payload,
        });
        if let Some(t) = source {
            e["source"] = json!({"system": "Previous case system", "recorded_at": stamp(t)});
        }
        let input: vigil_model::EventInput = serde_json::from_value(e).unwrap();
        vigil_app::events::draft(input, now).unwrap()
    };
    let mut drafts = Vec::new();
    let mut referral = |given: &str, source: Option<DateTime<Utc>>| {
        let child = uuid::Uuid::now_v7();
        let id = uuid::Uuid::now_v7();
        drafts.push(event(
            "person.recorded",
            json!({"person_id": child, "names": [{"given": given, "family": "Imported", "kind": "birth"}]}),
            source,
        ));
        drafts.push(event(
            "referral.submitted",
            json!({"referral_id": id, "child_id": child, "concern": "Seen with older men at the station late at night.", "immediate_danger": false}),
            source,
        ));
        id
    };
    let old = referral("Orla", Some(imported_at));
    let fresh = referral("Nell", None);
    let store = std::sync::Arc::clone(&app.store);
    tokio::task::spawn_blocking(move || {
        let out = store.append(drafts).unwrap();
        assert!(out.results.iter().all(|r| r.is_ok()), "{:?}", out.results);
    })
    .await
    .unwrap();
    app.state.app.refresh_referrals().unwrap();

    let queue = page(&app, &triage, "/triage").await;
    let row = |id: uuid::Uuid| {
        let r = reference_for(id);
        let at = queue
            .find(&r)
            .unwrap_or_else(|| panic!("{r} is in the queue"));
        let end = queue[at..].find("</tr>").map_or(queue.len(), |e| at + e);
        queue[at..end].to_owned()
    };
    assert!(
        row(old).contains("Overdue"),
        "received ten days ago by the source system: {}",
        row(old)
    );
    assert!(row(fresh).contains(">On time<"), "{}", row(fresh));
    assert!(
        queue.find(&reference_for(old)) < queue.find(&reference_for(fresh)),
        "the older deadline comes first"
    );
}
