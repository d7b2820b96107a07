//! CSE screening over real HTTP, on both backends: the front door records
//! a screening from the child's page, sees it there (the indicators
//! answered yes, the supported and the judged risk) and, after later
//! screenings, the history of how the assessed risk changed (table and
//! step line) and a row in the chronology; "Check the risk" records
//! nothing; a judgement that differs needs a reason; who may record one
//! follows the access table; forms without the anti-forgery token, with
//! hostile text or with wrong answers record nothing.

mod common;

use common::{referral_form, submit_referral, Client, TestApp};
use reqwest::StatusCode;
use uuid::Uuid;
use vigil_model::codes::Indicator;

on_both_backends!(a_screening_is_recorded_and_its_history_shown: screening_sqlite, screening_postgres);

/// Runs store work off the async threads.
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn screenings(app: &TestApp) -> usize {
    blocking(|| app.kinds())
        .iter()
        .filter(|k| *k == "screening.recorded")
        .count()
}

/// The form as a browser sends it: every indicator not known except those
/// given (answer, day known, source), done on `done`.
fn form(
    yes_or_no: &[(Indicator, &str, &str, &str)],
    done: &str,
    judged: &str,
    reason: &str,
) -> Vec<(String, String)> {
    let mut f = vec![
        ("done".to_owned(), done.to_owned()),
        ("judged".to_owned(), judged.to_owned()),
        ("reason".to_owned(), reason.to_owned()),
    ];
    for i in Indicator::ALL {
        let given = yes_or_no.iter().find(|(x, ..)| x == i);
        let (answer, known, source) =
            given.map_or(("not_known", "", ""), |(_, a, k, s)| (*a, *k, *s));
        f.push((i.code().to_owned(), answer.to_owned()));
        f.push((format!("{}_known", i.code()), known.to_owned()));
        f.push((format!("{}_source", i.code()), source.to_owned()));
    }
    f
}

async fn post(c: &Client, path: &str, f: &[(String, String)]) -> common::Response {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post(path, &pairs).await
}

/// The rows of the risk history table, as text without tags.
fn history(body: &str) -> String {
    let start = body
        .find("id=\"risk-history-table\"")
        .expect("a history table");
    let end = body[start..].find("</table>").unwrap() + start;
    let mut out = String::new();
    let mut in_tag = false;
    for c in body[start..end].chars() {
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

async fn a_screening_is_recorded_and_its_history_shown(app: &TestApp) {
    // A youth worker refers a child; their agency holds the child's record.
    let youth = app
        .login(&app.username("referrer", "riverside-youth-project"))
        .await;
    let referral = submit_referral(&youth, &referral_form()).await;
    let child: Uuid = blocking(|| {
        app.store
            .entity(referral)
            .unwrap()
            .unwrap()
            .as_kind::<vigil_model::state::ReferralState>()
            .unwrap()
            .child_id
    });
    let page = format!("/people/{child}");
    let path = format!("/people/{child}/screening");
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;

    // Before any screening.
    let r = triage.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .body
        .contains("No screening you may see has been recorded."));
    assert!(
        r.body.contains(&format!("href=\"{path}\"")),
        "a link to the form"
    );

    // The form: one row per indicator with three radios, a date and a source.
    let f = triage.get(&format!("{path}?referral={referral}")).await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    for i in Indicator::ALL {
        let c = i.code();
        for id in [c.to_owned(), format!("{c}-no"), format!("{c}-not_known")] {
            assert!(
                f.body
                    .contains(&format!("id=\"{id}\" name=\"{c}\" type=\"radio\"")),
                "{id}"
            );
        }
        assert!(
            f.body
                .contains(&format!("name=\"{c}_known\" type=\"date\"")),
            "{c}"
        );
        assert!(f.body.contains(&format!("name=\"{c}_source\"")), "{c}");
    }
    assert!(f
        .body
        .contains(&format!("name=\"referral_id\" value=\"{referral}\"")));
    assert!(f.body.contains("Goes missing or stays out overnight"));
    assert!(f.body.contains("Has been abused before"));

    // Check the risk: shown, nothing recorded.
    let missing = [(
        Indicator::Missing,
        "yes",
        "2025-05-30",
        "Mother rang the police: out all night <script>alert(1)</script>",
    )];
    let mut checked = form(&missing, "2025-06-01", "agree", "");
    checked.push(("check".into(), "1".into()));
    let r = post(&triage, &path, &checked).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("The answers support a medium risk."),
        "{}",
        r.body
    );
    assert_eq!(screenings(app), 0, "checking records nothing");

    // Record it: the judgement is the supported level (medium).
    let mut first = form(&missing, "2025-06-01", "agree", "");
    first.push(("referral_id".into(), referral.to_string()));
    let r = post(&triage, &path, &first).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("/people/{child}#screening"));
    assert_eq!(screenings(app), 1);
    let r = triage.get(&page).await;
    assert!(r.body.contains("id=\"latest-screening\""));
    assert!(r.body.contains("Goes missing or stays out overnight"));
    assert!(
        r.body.contains("out all night &#60;script&#62;alert(1)"),
        "escaped"
    );
    assert!(!r.body.contains("<script>alert(1)"));
    assert!(r.body.contains("19 indicators"), "not known counted");
    assert_eq!(history(&r.body).matches("First screening").count(), 1);
    assert!(
        r.body.contains("Screening for exploitation"),
        "a chronology row"
    );
    assert!(r
        .body
        .contains("Risk judged medium; the answers support medium (1 indicator yes)"));

    // A week later: in a car with unknown adults. The answers support high;
    // judging it medium needs a reason.
    app.set_now(common::monday_morning() + chrono::Duration::days(7));
    // (Sessions end after 30 minutes: sign in again.)
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let cars = [
        missing[0],
        (
            Indicator::CarsWithAdults,
            "yes",
            "7/6/2025",
            "Taxi marshal at the station rank",
        ),
    ];
    let r = post(&triage, &path, &form(&cars, "2025-06-08", "medium", "")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains(
        "The answers support a high risk and your judgement is medium: say why they differ."
    ));
    assert!(
        r.body.contains("Taxi marshal at the station rank"),
        "nothing typed is lost"
    );
    assert_eq!(screenings(app), 1);
    let r = post(&triage, &path, &form(&cars, "2025-06-08", "agree", "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Later still: the practitioner judges it low against the checklist,
    // with a reason.
    app.set_now(common::monday_morning() + chrono::Duration::days(30));
    let triage = app
        .login(&app.username("triage", "northshire-childrens-services"))
        .await;
    let why = "The driver was her uncle, checked with the police; she is back at school.";
    let r = post(&triage, &path, &form(&cars, "2025-07-01", "low", why)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(screenings(app), 3);

    let r = triage.get(&page).await;
    let h = history(&r.body);
    assert!(h.contains("1 June 2025"), "{h}");
    let first = h.find("First screening").expect(&h);
    let up = h.find("Up from medium").expect(&h);
    let down = h.find("Down from high").expect(&h);
    assert!(first < up && up < down, "oldest first: {h}");
    assert!(r.body.contains(why), "the reason is shown");
    assert!(r.body.contains("(the judgement differs)"));
    assert!(
        r.body.contains("class=\"v-risk\""),
        "the step line is drawn"
    );
    assert_eq!(r.body.matches("<circle").count(), 3);

    // Who may record one follows the access table.
    let refusals = [
        app.username("referrer", "riverside-youth-project"),
        app.username("auditor", "northshire-police"),
        app.username("practitioner", "northshire-police"),
    ];
    for who in refusals {
        let c = app.login(&who).await;
        assert_eq!(c.get(&path).await.status, StatusCode::FORBIDDEN, "{who}");
        let r = post(&c, &path, &form(&[], "2025-07-01", "agree", "")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
    }
    // The auditor reads the history, but has no link to the form.
    let auditor = app
        .login(&app.username("auditor", "northshire-police"))
        .await;
    let r = auditor.get(&page).await;
    assert!(r.body.contains("Down from high"));
    assert!(!r.body.contains(&format!("href=\"{path}\"")));
    // A practitioner of the agency that holds the record may.
    let own = app
        .login(&app.username("practitioner", "riverside-youth-project"))
        .await;
    assert_eq!(own.get(&path).await.status, StatusCode::OK);
    assert_eq!(screenings(app), 3);

    // Without the anti-forgery token: refused, nothing recorded.
    let f = form(&[], "2025-07-01", "agree", "");
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = triage.post_raw(&path, &pairs).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Wrong answers, an unknown child, a day in the future.
    let mut bad = form(&[], "2025-07-01", "agree", "");
    bad.retain(|(k, _)| k != "injuries");
    bad.push(("self_harm".into(), "perhaps".into()));
    let r = post(&triage, &path, &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .body
        .contains("Answer yes, no or not known: “Has injuries”."));
    let r = post(&triage, &path, &form(&[], "2099-01-01", "agree", "")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("is in the future"));
    let r = post(
        &triage,
        &format!("/people/{}/screening", Uuid::now_v7()),
        &form(&[], "2025-07-01", "agree", ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = triage.get("/people/not-an-id/screening").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(screenings(app), 3);
}
