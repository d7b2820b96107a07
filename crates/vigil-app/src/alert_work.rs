//! The work alerts ask of people: the lists ("my alerts", "my team's"),
//! one alert in full, and the two answers a person gives (acknowledge with
//! a note, resolve with a note). The rules runner (`crate::alerts`) raises
//! alerts; this module is where people see and answer them.
//!
//! **Who sees an alert.** An alert is about a child, so it follows the
//! child: a user sees it when they may open the child's record or one of
//! the child's cases (the same rows of the access table as those pages).
//! "Mine" is narrower: alerts on children whose open case I am allocated
//! to, or on whose case I own an open action, and those I acknowledged.
//!
//! **Escalation.** An alert nobody has acknowledged has a deadline by its
//! severity (`DeadlineRules::alert_acknowledgement_due`: a high alert by
//! the next working day, a medium one within the week) and escalates by
//! the same policy as late work: the supervisor once it is past, the head
//! of service when it is more than two working days late. The level is a
//! pure function of the raised time, the severity and the time now, so
//! every page and server agrees on it, and it goes away only when someone
//! acknowledges the alert.
//!
//! The alerts on a child (their record, a case, a queue row) are found
//! through the child's chronology index, which lists every `alert.raised`
//! about them. The alerts pages read every alert record (there are few
//! beside the rest of the log: the rules are tuned to a handful per
//! practitioner a week); an index of open alerts by agency is the next
//! step if that changes.

use super::cases::{case_resource, cases_of_child, CaseLine};
use super::readmodel::PersonView;
use super::{authorised, check, link_of, may, person_resource, Authorised, PersonLink};
use crate::access::{Action, Resource};
use crate::{App, AppError, Caller};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::payload::{AlertAcknowledged, AlertResolved, AlertSeen, EventPayload};
use vigil_model::state::{AlertState, CaseState, CaseStatus, PersonState};
use vigil_model::time::OccurredAt;
use vigil_model::{EntityKind, SubjectRef};
use vigil_rules::deadlines::{Deadline, DeadlineRules};
use vigil_rules::escalation::{Escalation, EscalationPolicy};

/// One alert as a list shows it.
#[derive(Clone, Debug)]
pub struct AlertLine {
    pub id: Uuid,
    pub state: AlertState,
    pub child: PersonLink,
    /// The child's open cases this user may open (the alert page links
    /// them; the first is "Open the case").
    pub open_cases: Vec<Uuid>,
    /// When it must be acknowledged by.
    pub due: Deadline,
    /// How far it has escalated: `None` once acknowledged or resolved.
    pub escalation: Escalation,
    /// On a child this user is working with (see the module doc).
    pub mine: bool,
}

impl AlertLine {
    /// Not resolved yet.
    pub fn is_open(&self) -> bool {
        self.state.resolved.is_none()
    }

    /// Unacknowledged past its deadline (the supervisor has been told).
    pub fn is_overdue(&self) -> bool {
        self.escalation >= Escalation::Supervisor
    }
}

/// Which alerts a list holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertsView {
    /// Alerts on the children I work with.
    Mine,
    /// Every alert I may see (my agency's children and cases; the front
    /// door, analysts and auditors: every child's).
    Team,
}

/// The alerts page: the rows, most urgent first, and the counts.
#[derive(Clone, Debug)]
pub struct AlertList {
    pub view: AlertsView,
    pub rows: Vec<AlertLine>,
    /// Open (unresolved) alerts in the view, listed or not.
    pub open: usize,
    /// Of those, unacknowledged past their deadline.
    pub overdue: usize,
    /// Of those, escalated to the head of service.
    pub head_of_service: usize,
    /// Resolved alerts are listed too.
    pub with_resolved: bool,
}

/// Most rows a list shows (the counts cover every alert).
pub const MAX_LISTED: usize = 500;

fn raised_at(a: &AlertState) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&a.raised.at)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The deadline and escalation of an alert at `now`.
fn urgency(a: &AlertState, now: DateTime<Utc>) -> (Deadline, Escalation) {
    let due = DeadlineRules::standard().alert_acknowledgement_due(a.severity, raised_at(a));
    let level = if a.acknowledged.is_some() || a.resolved.is_some() {
        Escalation::None
    } else {
        EscalationPolicy::default().escalation(&due, now)
    };
    (due, level)
}

/// What is known of the children of a set of alerts: their records (to
/// name them and decide access) and their cases.
struct Children {
    people: HashMap<Uuid, (PersonView, PersonState)>,
    cases: HashMap<Uuid, CaseState>,
}

impl Children {
    fn load(st: &App, ids: &[Uuid]) -> Result<Children, AppError> {
        let mut people = HashMap::new();
        let mut case_ids = Vec::new();
        for r in st.store.entities(ids)? {
            if r.kind != EntityKind::Person {
                continue;
            }
            let Some(state) = r.as_kind::<PersonState>().cloned() else {
                continue;
            };
            let view = PersonView::from_record(&r).map_err(AppError::Internal)?;
            case_ids.extend(state.case_ids.iter().chain(&state.context_case_ids));
            people.insert(r.id, (view, state));
        }
        let mut cases = HashMap::new();
        for r in st.store.entities(&case_ids)? {
            if let Some(c) = r.as_kind::<CaseState>() {
                cases.insert(r.id, c.clone());
            }
        }
        Ok(Children { people, cases })
    }

    fn cases_of<'a>(&'a self, child: Uuid) -> impl Iterator<Item = (Uuid, &'a CaseState)> + 'a {
        self.people
            .get(&child)
            .into_iter()
            .flat_map(|(_, p)| p.case_ids.iter().chain(&p.context_case_ids))
            .filter_map(|id| self.cases.get(id).map(|c| (*id, c)))
    }

    /// The line of an alert, if this user may see it.
    fn line(
        &self,
        st: &App,
        who: &Caller,
        id: Uuid,
        a: &AlertState,
        now: DateTime<Utc>,
    ) -> Option<AlertLine> {
        let (view, _) = self.people.get(&a.child_id)?;
        let cases: Vec<(Uuid, &CaseState)> = self
            .cases_of(a.child_id)
            .filter(|(_, c)| may(who, Action::ViewCase, case_resource(c)))
            .collect();
        if !may(who, Action::ViewPerson, person_resource(view)) && cases.is_empty() {
            return None;
        }
        let me = who.user.username.as_str();
        let open: Vec<&(Uuid, &CaseState)> = cases
            .iter()
            .filter(|(_, c)| c.status == CaseStatus::Open)
            .collect();
        let mine = open.iter().any(|(_, c)| {
            c.worker.as_deref() == Some(me) || c.open_actions().any(|x| x.owner == me)
        }) || a.acknowledged.as_ref().is_some_and(|n| n.at.by == me);
        let (due, escalation) = urgency(a, now);
        Some(AlertLine {
            id,
            state: a.clone(),
            child: link_of(st, who, view),
            open_cases: open.iter().map(|(id, _)| *id).collect(),
            due,
            escalation,
            mine,
        })
    }
}

fn all_alerts(st: &App) -> Result<Vec<(Uuid, AlertState)>, AppError> {
    Ok(st
        .store
        .entities_of_kind(EntityKind::Alert)?
        .into_iter()
        .filter_map(|r| {
            let id = r.id;
            r.state.into_kind::<AlertState>().map(|a| (id, a))
        })
        .collect())
}

/// Most urgent first: open before resolved, by escalation, high before
/// medium, then the oldest.
pub(crate) fn sort_lines(rows: &mut [AlertLine]) {
    rows.sort_by(|x, y| {
        y.is_open()
            .cmp(&x.is_open())
            .then(y.escalation.cmp(&x.escalation))
            .then(y.state.severity.cmp(&x.state.severity))
            .then(x.state.raised.at.cmp(&y.state.raised.at))
    });
}

fn subjects_of(lines: &[AlertLine]) -> Vec<SubjectRef> {
    let mut out = Vec::new();
    let mut children = HashSet::new();
    for l in lines {
        out.push(SubjectRef::new(EntityKind::Alert, l.id));
        if let Ok(c) = Uuid::parse_str(&l.child.id) {
            if children.insert(c) {
                out.push(SubjectRef::new(EntityKind::Person, c));
            }
        }
    }
    out
}

/// The alerts page of `who`. The read is logged (every alert and child
/// listed).
pub async fn alert_list(
    st: &Arc<App>,
    who: &Caller,
    view: AlertsView,
    with_resolved: bool,
) -> Result<Authorised<AlertList>, AppError> {
    check(who, Action::ViewAlerts, Resource::Page)?;
    let who = who.clone();
    st.blocking(move |st| {
        let now = st.now();
        let alerts = all_alerts(st)?;
        let ids: Vec<Uuid> = alerts.iter().map(|(_, a)| a.child_id).collect();
        let children = Children::load(st, &ids)?;
        let mut rows: Vec<AlertLine> = alerts
            .iter()
            .filter_map(|(id, a)| children.line(st, &who, *id, a, now))
            .filter(|l| view == AlertsView::Team || l.mine)
            .collect();
        let open = rows.iter().filter(|l| l.is_open()).count();
        let overdue = rows.iter().filter(|l| l.is_overdue()).count();
        let head_of_service = rows
            .iter()
            .filter(|l| l.escalation == Escalation::HeadOfService)
            .count();
        if !with_resolved {
            rows.retain(AlertLine::is_open);
        }
        sort_lines(&mut rows);
        rows.truncate(MAX_LISTED);
        let shown = subjects_of(&rows);
        let what = match view {
            AlertsView::Mine => "listed my alerts",
            AlertsView::Team => "listed the team's alerts",
        };
        authorised(
            st,
            &who,
            what,
            shown,
            AlertList {
                view,
                rows,
                open,
                overdue,
                head_of_service,
                with_resolved,
            },
        )
    })
    .await
}

/// One event an alert cites, as its page lists it.
#[derive(Clone, Debug)]
pub struct CitedEvent {
    pub id: Uuid,
    /// The event's kind in words ("Missing episode recorded").
    pub what: String,
    /// When it happened, as recorded.
    pub occurred: String,
}

/// Most cited events an alert page lists.
pub const MAX_CITED: usize = 20;

/// The kind and date of each event an alert cites (the first
/// [`MAX_CITED`]): from the log's headers, none of the content.
fn cited(st: &App, ids: &[Uuid]) -> Result<Vec<CitedEvent>, AppError> {
    const ONE: &str = "alert page: one entry read";
    let mut out = Vec::new();
    for id in ids.iter().take(MAX_CITED) {
        let Some(index) = st.store.event_index(*id)? else {
            continue;
        };
        let mut header = None;
        let read = st.store.for_each_entry(index, &mut |e| {
            header = serde_json::from_str::<vigil_model::EventHeader>(&e.header_json).ok();
            Err(vigil_store::StoreError::Config(ONE.into()))
        });
        match read {
            Err(vigil_store::StoreError::Config(m)) if m == ONE => {}
            Ok(()) => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(h) = header {
            out.push(CitedEvent {
                id: *id,
                what: super::record::kind_words(&h.kind),
                occurred: crate::display::occurred(&h.occurred_at),
            });
        }
    }
    Ok(out)
}

/// One alert in full.
#[derive(Clone, Debug)]
pub struct AlertPage {
    pub line: AlertLine,
    /// The events that met the rule (those this user may see of them are
    /// listed by kind and date; none of their content).
    pub events: Vec<CitedEvent>,
    /// The child's cases this user may open (open and closed).
    pub cases: Vec<CaseLine>,
    /// May this user acknowledge and resolve it.
    pub can_answer: bool,
}

/// One alert, for `who`; the read is logged, and the first time a person
/// opens it `alert.seen` is recorded (who saw it is part of the record:
/// "it was seen on the 3rd and nobody acknowledged it").
pub async fn alert(
    st: &Arc<App>,
    who: &Caller,
    id: Uuid,
) -> Result<Authorised<AlertPage>, AppError> {
    check(who, Action::ViewAlerts, Resource::Page)?;
    let w = who.clone();
    let page = st
        .blocking(move |st| {
            let Some(r) = st.store.entity(id)? else {
                return Err(AppError::NotFound("There is no such alert.".into()));
            };
            let Some(a) = r.as_kind::<AlertState>().cloned() else {
                return Err(AppError::NotFound("There is no such alert.".into()));
            };
            let children = Children::load(st, &[a.child_id])?;
            let Some(line) = children.line(st, &w, id, &a, st.now()) else {
                return Err(AppError::Forbidden(
                    "This alert is about a child whose record and cases you may not open.".into(),
                ));
            };
            let person = &children.people[&a.child_id].1;
            let (cases, _) = cases_of_child(st, &w, person)?;
            let events = cited(st, &a.events)?;
            let can_answer = may(&w, Action::AnswerAlert, Resource::Page);
            Ok(AlertPage {
                line,
                events,
                cases,
                can_answer,
            })
        })
        .await?;
    if !page
        .line
        .state
        .seen_by
        .iter()
        .any(|u| *u == who.user.username)
        && who.user.role != vigil_model::codes::Role::Auditor
    {
        // Best effort: a refusal means this person's `seen` is already in
        // the log (a second tab); the page is shown either way.
        let body = EventPayload::AlertSeen(AlertSeen {
            alert_id: id,
            child_id: page.line.state.child_id,
        });
        let _ = st.answer_alert(who, body).await?;
    }
    let mut shown = subjects_of(std::slice::from_ref(&page.line));
    shown.extend(
        page.cases
            .iter()
            .map(|c| SubjectRef::new(EntityKind::Case, c.id)),
    );
    st.blocking({
        let who = who.clone();
        move |st| authorised(st, &who, "viewed an alert", shown, page)
    })
    .await
}

/// How a person answers an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertAnswer {
    /// "I have taken this on", with what is being done.
    Acknowledge,
    /// "This is dealt with", with how.
    Resolve,
}

impl App {
    /// Acknowledges or resolves an alert with a note. The user must be
    /// allowed to answer alerts and to see this one (the child's record or
    /// a case of the child). `Ok(Err(sentence))` when the note or the log
    /// refuses it (an empty note, already acknowledged or resolved).
    pub async fn answer_alert_with(
        self: &Arc<Self>,
        who: &Caller,
        id: Uuid,
        answer: AlertAnswer,
        note: String,
    ) -> Result<Result<(), String>, AppError> {
        check(who, Action::AnswerAlert, Resource::Page)?;
        let w = who.clone();
        let child_id = self
            .blocking(move |st| {
                let a = match st.store.entity(id)? {
                    Some(r) => r.as_kind::<AlertState>().cloned(),
                    None => None,
                }
                .ok_or_else(|| AppError::NotFound("There is no such alert.".into()))?;
                let children = Children::load(st, &[a.child_id])?;
                match children.line(st, &w, id, &a, st.now()) {
                    Some(_) => Ok(a.child_id),
                    None => Err(AppError::Forbidden(
                        "This alert is about a child whose record and cases you may not open."
                            .into(),
                    )),
                }
            })
            .await?;
        let body = match answer {
            AlertAnswer::Acknowledge => EventPayload::AlertAcknowledged(AlertAcknowledged {
                alert_id: id,
                child_id,
                note,
            }),
            AlertAnswer::Resolve => EventPayload::AlertResolved(AlertResolved {
                alert_id: id,
                child_id,
                note,
            }),
        };
        self.answer_alert(who, body).await
    }

    /// Appends one person's event on an alert, dated now.
    async fn answer_alert(
        &self,
        who: &Caller,
        body: EventPayload,
    ) -> Result<Result<(), String>, AppError> {
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let draft =
            match crate::referral::prepare(&actor, &agency, OccurredAt::exact(now), body, now) {
                Ok(d) => d,
                Err(msg) => return Ok(Err(msg)),
            };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(())),
            Some(Err(msg)) => Ok(Err(crate::sentence(&msg))),
            None => Err(AppError::Internal("the event was not written".into())),
        }
    }
}

/// The open alerts on these children that `who` may see, by child, most
/// urgent first: what the child's record, a case and the triage queue
/// show beside their own content. Not logged here: the caller's page
/// logs the children it shows.
pub(crate) fn open_alerts_on(
    st: &App,
    who: &Caller,
    children: &[Uuid],
) -> Result<HashMap<Uuid, Vec<AlertLine>>, AppError> {
    let mut out: HashMap<Uuid, Vec<AlertLine>> = HashMap::new();
    if children.is_empty() || !may(who, Action::ViewAlerts, Resource::Page) {
        return Ok(out);
    }
    // The child's chronology index lists each `alert.raised` about them
    // (by child, indexed): no scan of every alert for one page.
    let mut ids = Vec::new();
    let q = vigil_store::index::ChronologyQuery {
        kinds: vec!["alert.raised".to_owned()],
        limit: MAX_LISTED as u64,
        counts: false,
        ..Default::default()
    };
    let wanted: HashSet<Uuid> = children.iter().copied().collect();
    for child in &wanted {
        ids.extend(
            st.store
                .chronology(*child, &q)?
                .rows
                .iter()
                .map(|r| r.record_id),
        );
    }
    let alerts: Vec<(Uuid, AlertState)> = st
        .store
        .entities(&ids)?
        .into_iter()
        .filter_map(|r| {
            let id = r.id;
            r.state.into_kind::<AlertState>().map(|a| (id, a))
        })
        .filter(|(_, a)| a.resolved.is_none() && wanted.contains(&a.child_id))
        .collect();
    if alerts.is_empty() {
        return Ok(out);
    }
    let ids: Vec<Uuid> = alerts.iter().map(|(_, a)| a.child_id).collect();
    let known = Children::load(st, &ids)?;
    let now = st.now();
    for (id, a) in &alerts {
        if let Some(line) = known.line(st, who, *id, a, now) {
            out.entry(a.child_id).or_default().push(line);
        }
    }
    for lines in out.values_mut() {
        sort_lines(lines);
    }
    Ok(out)
}
