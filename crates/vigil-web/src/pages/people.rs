//! A person's whole record and search. Each reads through the
//! application layer's queries (`vigil_app::guard::record`), which check the
//! access table and write the read to the access log before anything is
//! shown; these handlers parse the request and render.

use crate::app::{AppState, SignedIn};
use crate::display;
use crate::error::WebError;
use crate::html::{
    Choice, ChronologyLine, Line, MyRow, PeriodRow, PeriodSection, PersonPage, RiskRow,
    ScreeningLatest, SearchPage,
};
use crate::pages::Respond;
use crate::reference::reference_for;
use crate::timeline::{self, Lane, Mark};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;
use uuid::Uuid;
use vigil_app::guard::record::{
    self, kind_words, ChildRecord, ChronologyFilter, Period, TimelineLane,
};
use vigil_app::screening::Screened;
use vigil_model::codes::RiskLevel;
use vigil_model::time::Precision;
use vigil_rules::london::local_date;

/// The person's details as lines: names, age, sex, description, first recorded.
fn lines(p: &crate::readmodel::PersonView, today: chrono::NaiveDate) -> Vec<Line> {
    let mut lines = vec![Line::new(
        "Names",
        p.names
            .iter()
            .map(|n| format!("{} ({})", n.display(), n.kind.label().to_lowercase()))
            .collect::<Vec<_>>()
            .join("\n"),
    )];
    lines.push(Line::new(
        "Age",
        p.date_of_birth
            .as_ref()
            .map(|d| display::age(d, today))
            .unwrap_or_else(|| "not known".into()),
    ));
    if let Some(s) = p.sex {
        lines.push(Line::new("Sex", s.label()));
    }
    if let Some(d) = &p.description {
        lines.push(Line::new("Description", d.clone()));
    }
    lines.push(Line::new("Vigil reference", p.id.to_string()));
    lines.push(Line::new(
        "First recorded",
        format!(
            "{} by {} ({})",
            display::datetime(p.recorded.at),
            p.recorded.by,
            p.recorded.agency
        ),
    ));
    lines
}

/// The query string's repeated `agency` and `kind` and its `page` and
/// `print`, read forgivingly: anything else is ignored, a bad page number
/// is page 1, and at most 50 values of each are kept.
fn chronology_filter(raw: Option<&str>) -> (ChronologyFilter, bool) {
    let mut f = ChronologyFilter {
        page: 1,
        ..ChronologyFilter::default()
    };
    let mut print = false;
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
    for (k, v) in pairs {
        let v: String = v.trim().chars().take(100).collect();
        match k.as_str() {
            "agency" if !v.is_empty() && f.agencies.len() < 50 => f.agencies.push(v),
            "kind" if !v.is_empty() && f.kinds.len() < 50 => f.kinds.push(v),
            "page" => f.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
            "print" => print = v == "1",
            _ => {}
        }
    }
    f.agencies.sort();
    f.agencies.dedup();
    f.kinds.sort();
    f.kinds.dedup();
    (f, print)
}

/// The address of a page of the chronology with the same filter.
fn href(id: Uuid, f: &ChronologyFilter, page: Option<u64>, print: bool) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for a in &f.agencies {
        pairs.push(("agency", a.clone()));
    }
    for k in &f.kinds {
        pairs.push(("kind", k.clone()));
    }
    if let Some(p) = page {
        pairs.push(("page", p.to_string()));
    }
    if print {
        pairs.push(("print", "1".into()));
    }
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if q.is_empty() {
        format!("/people/{id}#chronology")
    } else {
        format!("/people/{id}?{q}#chronology")
    }
}

fn precision_words(p: Precision) -> &'static str {
    match p {
        Precision::Exact | Precision::Day => "",
        Precision::Month => "date known to the month",
        Precision::Year => "date known to the year",
        Precision::Approximate => "approximate date",
    }
}

fn period_rows(list: &[Period]) -> Vec<PeriodRow> {
    let day = |t: Option<chrono::DateTime<chrono::Utc>>, open: &str| {
        t.map(|t| display::date(local_date(t)))
            .unwrap_or_else(|| open.to_owned())
    };
    list.iter()
        .map(|p| PeriodRow {
            from: day(p.from, "not known"),
            to: day(p.to, "not ended"),
            what: p.what.clone(),
            detail: p.detail.clone(),
        })
        .collect()
}

fn lane(l: TimelineLane) -> Lane {
    match l {
        TimelineLane::Referrals => Lane::Referrals,
        TimelineLane::Missing => Lane::Missing,
        TimelineLane::Placements => Lane::Placements,
        TimelineLane::Workers => Lane::Workers,
        TimelineLane::Police => Lane::Police,
        TimelineLane::Other => Lane::Other,
    }
}

/// The timeline's window: from the first item (at least a year before
/// the summary's day) to that day. Drawn once per summary: readers of the
/// same summary (same person, scope, day, nothing new) share the drawing.
pub(crate) fn timeline_svg(summary: &record::Summary) -> Arc<str> {
    let draw = || -> Arc<str> { draw_timeline(summary).into() };
    Arc::clone(summary.drawn.get_or_init(draw))
}

fn draw_timeline(summary: &record::Summary) -> String {
    let today = summary.day;
    let marks: Vec<Mark> = summary
        .timeline
        .iter()
        .map(|e| Mark {
            lane: lane(e.lane),
            from: e.from,
            to: e.to,
            period: e.period,
            imprecise: e.imprecise,
            label: e.label.clone(),
        })
        .collect();
    let year_ago = today - chrono::Duration::days(365);
    let start = marks
        .iter()
        .map(|m| m.from)
        .min()
        .unwrap_or(year_ago)
        .min(year_ago);
    timeline::svg(&marks, start, today)
}

/// The missing episodes section: the months as bars and in words, the
/// pattern of where found and who with, each recent episode with where its
/// return home interview stands at `now`.
fn missing_section(
    sum: &record::Summary,
    app: &vigil_app::App,
    now: chrono::DateTime<chrono::Utc>,
    shown: String,
) -> crate::html::MissingSection {
    use vigil_rules::missing::InterviewStatus;
    use vigil_rules::Escalation;
    let in_year: usize = sum.missing_months.iter().map(|m| m.count).sum();
    let times = |n: usize| {
        if n == 1 {
            "once".to_owned()
        } else {
            format!("{n} times")
        }
    };
    let mut pattern: Vec<String> = sum
        .found_at
        .iter()
        .map(|(place, n)| format!("Found at {place} {}", times(*n)))
        .collect();
    pattern.extend(
        sum.found_with
            .iter()
            .map(|(who, n)| format!("With {who} {}", times(*n))),
    );
    let day = |t: Option<chrono::DateTime<chrono::Utc>>, open: &str| {
        t.map(display::datetime).unwrap_or_else(|| open.to_owned())
    };
    let episodes = sum
        .missing
        .iter()
        .map(|p| {
            let e = p.episode.clone().unwrap_or_default();
            let mut found = Vec::new();
            if let Some(a) = &e.found_at {
                found.push(format!("at {a}"));
            }
            if let Some(b) = &e.found_by {
                found.push(format!("by {b}"));
            }
            if let Some(w) = &e.found_with {
                found.push(format!("with {w}"));
            }
            let found = if found.is_empty() {
                p.detail.clone()
            } else {
                format!("Found {}", found.join(", "))
            };
            let assigned = e.assigned.as_ref().map(|(agency, worker)| match worker {
                Some(w) => format!(" Assigned to {w} ({agency})."),
                None => format!(" Assigned to {agency}."),
            });
            let (interview, interview_class) = match p.interview_status(app, now) {
                Some(InterviewStatus::StillMissing) | None => {
                    ("Not due: still missing".to_owned(), "v-tag--grey")
                }
                Some(InterviewStatus::Done) => match &e.interview {
                    Some((outcome, at, by, _)) => (
                        format!("{outcome} {} by {by}", display::datetime(*at)),
                        "v-tag--green",
                    ),
                    None => ("Held".to_owned(), "v-tag--green"),
                },
                Some(InterviewStatus::Due {
                    deadline,
                    escalation,
                    overdue,
                }) => {
                    let told = match escalation {
                        Escalation::Supervisor => " Escalated to the supervisor.",
                        Escalation::HeadOfService => {
                            " Escalated to the supervisor and the head of service."
                        }
                        _ => "",
                    };
                    let words = if overdue {
                        let d = deadline.describe(now);
                        let mut c = d.chars();
                        let first = c.next().map(|f| f.to_uppercase().collect::<String>());
                        format!("{}{}.{told}", first.unwrap_or_default(), c.as_str())
                    } else {
                        format!("Not done: {}.", deadline.describe(now))
                    };
                    (
                        format!("{words}{}", assigned.clone().unwrap_or_default()),
                        if overdue {
                            "v-tag--red"
                        } else {
                            "v-tag--yellow"
                        },
                    )
                }
            };
            crate::html::EpisodeRow {
                from: day(p.from, "not known"),
                to: day(p.to, "not back"),
                what: p.what.clone(),
                found,
                interview,
                interview_class,
            }
        })
        .collect();
    crate::html::MissingSection {
        note: format!(
            "{in_year} in the last 12 months, {} in all{shown}",
            sum.missing_total
        ),
        svg: if sum.missing_total == 0 {
            String::new()
        } else {
            crate::missing_chart::svg(&sum.missing_months)
        },
        months: sum
            .missing_months
            .iter()
            .filter(|m| m.count > 0)
            .map(|m| format!("{}: {}", m.month.format("%b %Y"), m.count))
            .collect(),
        pattern,
        episodes,
    }
}

#[allow(clippy::too_many_arguments)]
fn page_of(
    rec: ChildRecord,
    read: vigil_app::guard::Read,
    chrome: crate::html::Chrome,
    app: &vigil_app::App,
    now: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
    can_refer: bool,
    print: bool,
    csrf: String,
) -> PersonPage {
    let id = rec.person.id;
    let f = rec.filter.clone();
    let chosen = |list: &[String], v: &str| list.iter().any(|x| x == v);
    let shown = |n: usize| {
        if n > record::LIST_PERIODS {
            format!(
                "; the {} most recent are listed, the chronology has them all",
                record::LIST_PERIODS
            )
        } else {
            String::new()
        }
    };
    let sum = &rec.summary;
    let missing = missing_section(sum, app, now, shown(sum.missing_total));
    let stability = rec.stability_of().sentence();
    let periods = vec![
        PeriodSection {
            title: "Placements".into(),
            note: format!(
                "{} in the last 12 months, {} in all{}",
                sum.placements_12m,
                sum.placements_total,
                shown(sum.placements_total)
            ),
            rows: period_rows(&sum.placements),
        },
        PeriodSection {
            title: "Allocated workers".into(),
            note: format!(
                "{} in the last 12 months, {} in all{}",
                sum.workers_12m,
                sum.workers_total,
                shown(sum.workers_total)
            ),
            rows: period_rows(&sum.workers),
        },
    ];
    let names = super::cases::agency_names(app);
    PersonPage {
        alerts: rec.alerts.iter().map(super::alerts::alert_row).collect(),
        timeline_svg: timeline_svg(&rec.summary),
        cases: rec
            .cases
            .iter()
            .map(|c| super::cases::case_row(c, &names))
            .collect(),
        cases_hidden: rec.cases_hidden,
        can_open_case: rec.can_open_case,
        chrome,
        read,
        id: id.to_string(),
        lines: lines(&rec.person, today),
        name: rec.link.name.clone(),
        agencies: rec
            .agencies
            .iter()
            .map(|(name, n)| {
                Line::new(
                    name,
                    format!("{n} {}", if *n == 1 { "item" } else { "items" }),
                )
            })
            .collect(),
        places: rec
            .places
            .iter()
            .map(|(label, words, _)| Line::new(label, words.clone()))
            .collect(),
        referrals: rec
            .referrals
            .iter()
            .map(|(r, can_open)| {
                let (status, status_class) = super::status_of(r);
                MyRow {
                    id: r.id.to_string(),
                    reference: reference_for(r.id),
                    child: String::new(),
                    sent: display::datetime(r.submitted.at),
                    status,
                    status_class,
                    decided: r
                        .decided
                        .as_ref()
                        .map(|d| display::datetime(d.at))
                        .unwrap_or_default(),
                    can_open: *can_open,
                }
            })
            .collect(),
        referrals_limited: rec.referrals_limited,
        periods,
        missing,
        stability,
        can_record_missing: rec.can_record_missing,
        items: chronology_lines(&rec.items),
        total: rec.total,
        filtered: !f.agencies.is_empty() || !f.kinds.is_empty(),
        limited: rec.limited,
        agency_choices: rec
            .agency_choices
            .iter()
            .map(|(code, name, n)| Choice {
                value: code.clone(),
                label: name.clone(),
                count: *n,
                checked: chosen(&f.agencies, code),
            })
            .collect(),
        kind_choices: rec
            .kind_choices
            .iter()
            .map(|(k, n)| Choice {
                value: k.clone(),
                label: kind_words(k),
                count: *n,
                checked: chosen(&f.kinds, k),
            })
            .collect(),
        page: rec.page,
        pages: if print { 1 } else { rec.pages },
        prev_href: (rec.page > 1).then(|| href(id, &f, Some(rec.page - 1), false)),
        next_href: (rec.page < rec.pages).then(|| href(id, &f, Some(rec.page + 1), false)),
        print_href: href(id, &f, None, true),
        can_refer,
        linked: super::links::linked_rows(&rec.linked),
        csrf,
        screening: sum.screenings.last().map(latest),
        risk_history: risk_history(&sum.screenings),
        risk_svg: crate::risk_chart::svg(
            &sum.screenings
                .iter()
                .map(|s| crate::risk_chart::Point {
                    day: s.day,
                    judged: s.judged,
                    supported: s.supported,
                })
                .collect::<Vec<_>>(),
            sum.day,
        ),
        can_screen: rec.can_screen,
    }
}

/// Chronology items as the table shows them.
pub(crate) fn chronology_lines(items: &[record::ChronologyItem]) -> Vec<ChronologyLine> {
    items
        .iter()
        .map(|i| ChronologyLine {
            when: display::occurred(&i.occurred_at),
            precision: precision_words(i.occurred_at.precision).to_owned(),
            what: kind_words(&i.kind),
            detail: i.detail.clone(),
            role: i.role.clone(),
            href: i.href.clone(),
            agency: i.agency.clone(),
            actor: i.actor.clone(),
            recorded: display::datetime(i.recorded_at),
        })
        .collect()
}

/// A risk level's tag colour.
pub(crate) fn risk_class(l: RiskLevel) -> &'static str {
    match l {
        RiskLevel::Low => "v-tag--green",
        RiskLevel::Medium => "v-tag--amber",
        RiskLevel::High => "v-tag--red",
    }
}

fn screened_by(s: &Screened) -> String {
    format!("{} ({})", s.by, s.agency_name)
}

fn latest(s: &Screened) -> ScreeningLatest {
    ScreeningLatest {
        done: display::occurred(&s.done),
        judged: s.judged.label().to_owned(),
        judged_class: risk_class(s.judged),
        supported: s.supported.label().to_owned(),
        differs: s.judged != s.supported,
        reason: s.reason.clone().unwrap_or_default(),
        who: screened_by(s),
        yes: s
            .yes
            .iter()
            .map(|a| {
                (
                    a.indicator.label().to_owned(),
                    a.known_on
                        .map(|d| display::date(d.naive()))
                        .unwrap_or_default(),
                    a.source.clone().unwrap_or_default(),
                )
            })
            .collect(),
        not_known: s.not_known,
    }
}

/// Every screening, oldest first, with how the judged risk moved.
fn risk_history(list: &[Screened]) -> Vec<RiskRow> {
    let mut before: Option<RiskLevel> = None;
    list.iter()
        .map(|s| {
            let change = match before {
                None => "First screening".to_owned(),
                Some(b) if s.judged > b => format!("Up from {}", b.label().to_lowercase()),
                Some(b) if s.judged < b => format!("Down from {}", b.label().to_lowercase()),
                Some(_) => "No change".to_owned(),
            };
            before = Some(s.judged);
            RiskRow {
                done: display::occurred(&s.done),
                judged: s.judged.label().to_owned(),
                judged_class: risk_class(s.judged),
                supported: s.supported.label().to_owned(),
                change,
                who: screened_by(s),
            }
        })
        .collect()
}

pub async fn person(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| WebError::NotFound("There is no person at this address.".into()))?;
    let (filter, print) = chronology_filter(raw.as_deref());
    let record = record::child_record(&st.app, &who, id, filter, print).await?;
    let today = local_date(st.now());
    let chrome = st.chrome(&who, &record.link.name, "");
    let can_refer = who.may(crate::access::Action::SubmitReferral);
    record
        .show(|rec, read| {
            page_of(
                rec,
                read,
                chrome,
                &st.app,
                st.now(),
                today,
                can_refer,
                print,
                who.csrf.clone(),
            )
        })
        .respond(StatusCode::OK)
        .await
}

pub async fn search(
    State(st): State<Arc<AppState>>,
    who: SignedIn,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let q = value("q");
    // Looking for a child referred without a name: each result can be
    // confirmed as that child (the existing record-linking decision).
    let link_to = uuid::Uuid::parse_str(value("link_to").trim())
        .ok()
        .map(|id| id.to_string());
    // Linking children to a contextual case: each result may be linked.
    let link_case = uuid::Uuid::parse_str(value("case").trim())
        .ok()
        .map(|id| id.to_string());
    let back = crate::session::safe_next(&value("back"));
    let searched = !q.trim().is_empty();
    let found = record::search(&st.app, &who, &q).await?;
    let chrome = st.chrome(&who, "Find a child or adult", "/search");
    found
        .show(|s, read| SearchPage {
            chrome,
            read,
            query: s.query,
            searched,
            understood: s.understood,
            results: s.results,
            limited: s.limited,
            limit: record::SEARCH_LIMIT,
            link_to,
            link_case,
            back,
            csrf: who.csrf.clone(),
        })
        .respond(StatusCode::OK)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_is_read_forgivingly() {
        let (f, print) = chronology_filter(Some(
            "agency=northshire-police&agency=northshire-police&kind=referral.decided&page=x&print=1&junk=%FF",
        ));
        assert_eq!(f.agencies, vec!["northshire-police"]);
        assert_eq!(f.kinds, vec!["referral.decided"]);
        assert_eq!(f.page, 1);
        assert!(print);
        let (f, _) = chronology_filter(Some("page=0"));
        assert_eq!(f.page, 1);
        let (f, _) = chronology_filter(Some("%%%%&&&==="));
        assert_eq!(
            f,
            ChronologyFilter {
                page: 1,
                ..Default::default()
            }
        );
        let many = (0..500)
            .map(|i| format!("kind=k{i}"))
            .collect::<Vec<_>>()
            .join("&");
        let (f, _) = chronology_filter(Some(&many));
        assert_eq!(f.kinds.len(), 50);
        let huge = format!("agency={}", "a".repeat(100_000));
        let (f, _) = chronology_filter(Some(&huge));
        assert_eq!(f.agencies[0].len(), 100);
    }

    #[test]
    fn page_addresses_keep_the_filter() {
        let id = Uuid::nil();
        let f = ChronologyFilter {
            agencies: vec!["a b".into()],
            kinds: vec!["referral.decided".into()],
            page: 2,
        };
        assert_eq!(
            href(id, &f, Some(3), false),
            "/people/00000000-0000-0000-0000-000000000000?agency=a+b&kind=referral.decided&page=3#chronology"
        );
        assert_eq!(
            href(id, &ChronologyFilter::default(), None, false),
            "/people/00000000-0000-0000-0000-000000000000#chronology"
        );
    }
}
