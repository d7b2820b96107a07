//! The child's page keeps what it draws from the whole chronology (the
//! timeline, the period lists, the filter's counts) in a bounded cache,
//! and its reads go to the access log through one group-committing
//! writer. Over real HTTP, on both backends:
//!
//! - a new event about the child is on the next page load (the cached
//!   summary is not served once the chronology has moved on);
//! - two users who may see different items, loading the same child in
//!   turn, each see only their own view, every time;
//! - many loads at once are each logged, under the reader's name, in a
//!   chain that verifies; one client's loads are logged in the order made;
//! - when the access log cannot be written, the page is not sent.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;
use vigil_store::accounts::AccessQuery;

on_both_backends!(a_new_event_is_on_the_next_load: new_event_sqlite, new_event_postgres);
on_both_backends!(each_scope_sees_its_own_view: scopes_sqlite, scopes_postgres);
on_both_backends!(every_read_is_logged_in_a_chain: logged_sqlite, logged_postgres);
on_both_backends!(no_log_no_page: no_log_no_page_sqlite, no_log_no_page_postgres);

fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// Access-log actions by `username` naming `subject`, oldest first.
fn reads_of(app: &TestApp, username: &str, subject: Uuid) -> Vec<(u64, String)> {
    let query = AccessQuery {
        subject: Some(subject),
        user: Some(username.to_owned()),
        before_seq: None,
        limit: 1000,
        sign_ins: false,
    };
    let mut v: Vec<(u64, String)> = blocking(|| {
        app.store
            .access_entries(&query)
            .unwrap()
            .iter()
            .map(|e| (e.seq, e.record().expect("a readable access row").action))
            .collect()
    });
    v.reverse();
    v
}

fn event(agency: &str, actor: &str, at: &str, kind: &str, payload: String) -> String {
    format!(
        r#"{{"actor":{{"user":"{actor}","role":"practitioner"}},"agency":"{agency}","occurred_at":{{"value":"{at}","precision":"exact"}},"kind":"{kind}","payload":{payload}}}"#
    )
}

fn missing(agency: &str, actor: &str, at: &str, child: Uuid) -> String {
    event(
        agency,
        actor,
        at,
        "missing_episode.recorded",
        format!(
            r#"{{"episode_id":"{}","child_id":"{child}","missing_type":"M","started_at":"{at}"}}"#,
            Uuid::now_v7()
        ),
    )
}

fn placement(agency: &str, actor: &str, on: &str, child: Uuid) -> String {
    format!(
        r#"{{"actor":{{"user":"{actor}","role":"practitioner"}},"agency":"{agency}","occurred_at":{{"value":"{on}","precision":"day"}},"kind":"placement.started","payload":{{"placement_id":"{}","child_id":"{child}","placement_type":"U1","started_on":"{on}"}}}}"#,
        Uuid::now_v7()
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

async fn page(c: &Client, path: &str) -> String {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

/// The timeline's summary line: "... N missing episodes, N placements ...".
fn timeline_title(body: &str) -> String {
    let start = body
        .find("<title id=\"v-tl-title\">")
        .expect("the page has a timeline");
    let rest = &body[start..];
    rest[..rest.find("</title>").unwrap()].to_owned()
}

/// A child whose record the police made (a police officer's referral), and
/// the officer's name and signed-in client.
async fn police_child(app: &TestApp, given: &str) -> (Uuid, String, Client) {
    let officer_name = app.username("practitioner", "northshire-police");
    let officer = app.login(&officer_name).await;
    let mut form = referral_form();
    form.retain(|(k, _)| *k != "child_given" && *k != "child_family");
    form.push(("child_given", given.into()));
    form.push(("child_family", "Penhallow".into()));
    let referral = submit_referral(&officer, &form).await;
    let child = blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .expect("the referral exists")
            .as_kind::<vigil_model::state::ReferralState>()
            .expect("a referral")
            .child_id
    });
    (child, officer_name, officer)
}

fn episode(actor: &str, at: &str, child: Uuid, episode: Uuid) -> String {
    event(
        "northshire-police",
        actor,
        at,
        "missing_episode.recorded",
        format!(
            r#"{{"episode_id":"{episode}","child_id":"{child}","missing_type":"M","started_at":"{at}"}}"#
        ),
    )
}

fn returned(actor: &str, at: &str, episode: Uuid) -> String {
    event(
        "northshire-police",
        actor,
        at,
        "missing_episode.returned",
        format!(
            r#"{{"episode_id":"{episode}","returned_at":"{at}","return_interview_offered":true}}"#
        ),
    )
}

async fn a_new_event_is_on_the_next_load(app: &TestApp) {
    let (child, _, officer) = police_child(app, "Morwenna").await;
    let path = format!("/people/{child}");
    let first_episode = Uuid::now_v7();
    append(
        app,
        &[
            episode("police.first", "2025-05-03T22:00:00Z", child, first_episode),
            returned("police.back", "2025-05-04T08:00:00Z", first_episode),
        ],
    );
    let before = app.state.app.summary_cache_stats();
    let first = page(&officer, &path).await;
    let again = page(&officer, &path).await;
    let after = app.state.app.summary_cache_stats();
    assert!(
        after.hits > before.hits,
        "the second load used the kept summary: {before:?} {after:?}"
    );
    assert_eq!(timeline_title(&first), timeline_title(&again));
    assert!(timeline_title(&first).contains("1 missing episodes"));
    assert!(first.contains("1 in all"));
    assert!(!first.contains("not ended"));

    // A second episode: the next load shows it, on the timeline, in the
    // period list (still open) and its count, and in the chronology.
    let second = Uuid::now_v7();
    append(
        app,
        &[episode(
            "police.second",
            "2025-05-17T21:00:00Z",
            child,
            second,
        )],
    );
    let now = page(&officer, &path).await;
    assert!(
        timeline_title(&now).contains("2 missing episodes"),
        "{}",
        timeline_title(&now)
    );
    assert!(now.contains("2 in all"));
    assert!(now.contains("police.second"));
    assert!(now.contains("not ended"), "the open episode is listed so");
    // Its return, a follow-up that does not name the child, ends it on the
    // next load.
    append(
        app,
        &[returned("police.returner", "2025-05-18T08:00:00Z", second)],
    );
    let back = page(&officer, &path).await;
    assert!(back.contains("police.returner"));
    assert!(
        !back.contains("not ended"),
        "the return ended the episode on the next load"
    );
}

async fn each_scope_sees_its_own_view(app: &TestApp) {
    let (child, _, officer) = police_child(app, "Tamsin").await;
    let path = format!("/people/{child}");
    // A police missing episode and a social care placement: the police see
    // their own record's items only, the front door sees both.
    append(
        app,
        &[
            missing(
                "northshire-police",
                "police.only",
                "2025-05-03T22:00:00Z",
                child,
            ),
            placement(
                "northshire-childrens-services",
                "care.only",
                "2025-05-20",
                child,
            ),
        ],
    );
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    for round in 0..3 {
        let p = page(&officer, &path).await;
        assert!(p.contains("police.only"), "round {round}");
        assert!(
            !p.contains("care.only"),
            "round {round}: care's item shown to police"
        );
        let t = timeline_title(&p);
        assert!(t.contains("0 placements"), "round {round}: {t}");
        assert!(t.contains("1 missing episodes"), "round {round}: {t}");

        let f = page(&triage, &path).await;
        assert!(
            f.contains("police.only") && f.contains("care.only"),
            "round {round}"
        );
        let t = timeline_title(&f);
        assert!(t.contains("1 placements"), "round {round}: {t}");
        assert!(t.contains("1 missing episodes"), "round {round}: {t}");
    }
    // Two summaries are kept, one per scope, and were used again.
    let s = app.state.app.summary_cache_stats();
    assert!(s.hits >= 4, "{s:?}");
    assert!(s.entries >= 2 && s.entries <= vigil_app::guard::record::SUMMARY_ENTRIES);
    assert!(s.bytes <= vigil_app::guard::record::SUMMARY_BYTES);
}

async fn every_read_is_logged_in_a_chain(app: &TestApp) {
    let (child, officer_name, officer) = police_child(app, "Demelza").await;
    let path = format!("/people/{child}");
    append(
        app,
        &[missing(
            "northshire-police",
            "police.one",
            "2025-05-03T22:00:00Z",
            child,
        )],
    );
    // One client's loads, one after another, alternating plain and
    // filtered: logged in that order.
    let filtered = format!("{path}?kind=missing_episode.recorded");
    for i in 0..6 {
        page(&officer, if i % 2 == 0 { &path } else { &filtered }).await;
    }
    let reads = reads_of(app, &officer_name, child);
    assert_eq!(reads.len(), 6, "{reads:?}");
    for (i, (_, action)) in reads.iter().enumerate() {
        let want = if i % 2 == 0 {
            "opened a person's record"
        } else {
            "opened a person's record (chronology filtered or paged)"
        };
        assert_eq!(action, want, "load {i}");
    }
    // Many at once (sharing transactions): every one logged, the chain whole.
    let n = 40;
    let clients: Vec<std::sync::Arc<Client>> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(std::sync::Arc::new(app.login(&officer_name).await));
        }
        v
    };
    let mut tasks = Vec::new();
    for i in 0..n {
        let c = std::sync::Arc::clone(&clients[i % clients.len()]);
        let path = path.clone();
        tasks.push(tokio::spawn(async move { c.get(&path).await.status }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let reads = reads_of(app, &officer_name, child);
    assert_eq!(reads.len(), 6 + n);
    let seqs: Vec<u64> = reads.iter().map(|(s, _)| *s).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let store = app.store.clone();
    let (rows, problem) =
        blocking(move || vigil_store::accounts::verify_access_log(store.as_ref()))
            .expect("the access log can be read");
    assert!(problem.is_none(), "{problem:?}");
    assert!(rows as usize >= 6 + n);
}

async fn no_log_no_page(app: &TestApp) {
    let (child, officer_name, officer) = police_child(app, "Loveday").await;
    let path = format!("/people/{child}");
    // Loaded once, so its summary is kept: a kept summary is no way around the log.
    page(&officer, &path).await;
    app.sql(
        "CREATE TRIGGER vigil_test_fail BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        "CREATE FUNCTION vigil_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
         CREATE TRIGGER vigil_test_fail BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION vigil_test_fail();",
    );
    let before = reads_of(app, &officer_name, child).len();
    let r = officer.get(&path).await;
    assert!(
        r.status.is_server_error(),
        "a page whose read could not be logged was sent: {}",
        r.status
    );
    assert!(!r.body.contains("Loveday"), "the child's name was sent");
    assert!(!r.body.contains("v-timeline"), "the timeline was sent");
    assert_eq!(reads_of(app, &officer_name, child).len(), before);
    app.sql(
        "DROP TRIGGER vigil_test_fail;",
        "DROP TRIGGER vigil_test_fail ON access_log; DROP FUNCTION vigil_test_fail();",
    );
    let body = page(&officer, &path).await;
    assert!(body.contains("Loveday"));
    assert_eq!(reads_of(app, &officer_name, child).len(), before + 1);
}
