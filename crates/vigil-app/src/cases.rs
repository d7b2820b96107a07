//! Cases: the one loader of a case (its access check is involvement, see
//! [`crate::access::Resource::Case`]; every read writes the access log),
//! the commands that open and change one, and the action lists ("my
//! actions", the overdue actions a supervisor must see).
//!
//! A child of [`crate::guard`], so every value with a child's details comes
//! through its access check and access-log write.

use super::record::{ChronologyItem, Stability, Summary};
use super::{authorised, check, may, PersonLink};
use crate::access::{Action, Resource};
use crate::{App, AppError, Caller};
use chrono::NaiveDate;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::{ActionStatus, AgencyId, CaseLevel, RiskLevel};
use vigil_model::payload::{
    CaseActionAdded, CaseActionClosed, CaseAgencyAdded, CaseAgencyRemoved, CaseAllocated,
    CaseChildLinked, CaseChildUnlinked, CaseClosed, CaseClosureDeclined, CaseClosureRequested,
    CaseLevelChanged, CaseOpened, CaseRiskChanged, EventPayload,
};
use vigil_model::state::{
    CaseAction, CaseContext, CaseState, CaseStatus, ClosureRequest, ClosureSignOff,
};
use vigil_model::time::OccurredAt;
use vigil_model::{EntityKind, SubjectRef};
use vigil_rules::closure::{self, ClosureFacts};
use vigil_rules::escalation::Escalation;
use vigil_store::index::CaseActionQuery;

/// The record of the access table a case is.
pub fn case_resource(c: &CaseState) -> Resource<'_> {
    Resource::Case {
        lead: c.lead().as_str(),
        agencies: &c.agencies,
        worker: c.worker.as_deref(),
    }
}

/// A case as its page shows it.
#[derive(Clone, Debug)]
pub struct CaseView {
    pub id: Uuid,
    pub state: CaseState,
    /// The open actions past their date (escalated to the supervisor).
    pub overdue: Vec<Uuid>,
    /// The child: named to everyone involved in the case; `can_open` says
    /// whether this user may also open the child's whole record. None on a
    /// contextual case.
    pub child: Option<PersonLink>,
    /// What a contextual case is about: the place or the peer group.
    pub context: Option<ContextView>,
    /// The children linked to a contextual case whom this user may open,
    /// with why they were linked, and how many others are linked.
    pub linked: Vec<LinkedChildView>,
    pub linked_hidden: usize,
    /// The child's chronology as the case's agencies see it (first page;
    /// empty on a contextual case).
    pub chronology: Vec<ChronologyItem>,
    pub chronology_total: u64,
    /// Only the agencies on the case (and the user's own) are shown.
    pub chronology_limited: bool,
    /// The summary those items come from (timeline, stability,
    /// screenings); none on a contextual case.
    pub summary: Option<Arc<Summary>>,
    /// Why closing it now would need a supervisor's sign-off (empty: it
    /// would not), judged from every agency's records.
    pub closure_concerns: Vec<String>,
    /// What this user may do on it.
    pub can_manage: bool,
    pub can_sign_off: bool,
    /// Which of the meetings that discussed it are multi-agency meetings
    /// of many cases (`meeting.held`, with minutes of their own).
    pub multi_agency_meetings: Vec<Uuid>,
    /// The open alerts on the case's child (on a contextual case: on the
    /// children linked to it), most urgent first.
    pub alerts: Vec<super::alert_work::AlertLine>,
}

/// What a contextual case is about, as its page shows it.
#[derive(Clone, Debug)]
pub enum ContextView {
    /// A recorded place (`None` if the location record cannot be read).
    Place {
        location_id: Uuid,
        location: Option<Box<vigil_model::state::LocationState>>,
    },
    PeerGroup {
        name: String,
        description: String,
    },
}

impl ContextView {
    /// A short name of the context ("Hotel or B&B: Golden Fry").
    pub fn title(&self) -> String {
        match self {
            ContextView::Place { location, .. } => match location {
                Some(l) => {
                    let d = &l.details;
                    let name = d
                        .name
                        .clone()
                        .or_else(|| d.address_lines.first().cloned())
                        .or_else(|| d.postcode.clone())
                        .or_else(|| d.description.clone())
                        .unwrap_or_default();
                    format!("{}: {name}", l.kind.label())
                }
                None => "A place".into(),
            },
            ContextView::PeerGroup { name, .. } => format!("Peer group: {name}"),
        }
    }
}

/// A child linked to a contextual case, as its page lists them.
#[derive(Clone, Debug)]
pub struct LinkedChildView {
    pub child: PersonLink,
    pub reason: String,
    pub linked: vigil_model::state::Stamp,
}

/// The open alerts on these children, most urgent first, added to what
/// the page logs as shown.
fn case_alerts(
    st: &App,
    who: &Caller,
    children: &[Uuid],
    shown: &mut Vec<SubjectRef>,
) -> Result<Vec<super::alert_work::AlertLine>, AppError> {
    let mut alerts: Vec<super::alert_work::AlertLine> =
        super::alert_work::open_alerts_on(st, who, children)?
            .into_values()
            .flatten()
            .collect();
    super::alert_work::sort_lines(&mut alerts);
    shown.extend(
        alerts
            .iter()
            .map(|a| SubjectRef::new(EntityKind::Alert, a.id)),
    );
    Ok(alerts)
}

/// Which of the meetings that discussed a case are multi-agency meetings
/// of many cases (their minutes have a page of their own).
fn multi_agency_meetings(st: &App, c: &CaseState) -> Result<Vec<Uuid>, AppError> {
    let ids: Vec<Uuid> = c.meetings.iter().map(|m| m.meeting_id).collect();
    Ok(st
        .store
        .entities(&ids)?
        .into_iter()
        .filter(|r| r.kind == EntityKind::MultiAgencyMeeting)
        .map(|r| r.id)
        .collect())
}

pub(super) fn context_view(st: &App, c: &CaseState) -> Result<Option<ContextView>, AppError> {
    use vigil_model::state::{CaseContext, LocationState};
    Ok(match &c.context {
        None => None,
        Some(CaseContext::Place { location_id }) => Some(ContextView::Place {
            location_id: *location_id,
            location: st
                .store
                .entity(*location_id)?
                .and_then(|r| r.as_kind::<LocationState>().cloned().map(Box::new)),
        }),
        Some(CaseContext::PeerGroup { name, description }) => Some(ContextView::PeerGroup {
            name: name.clone(),
            description: description.clone(),
        }),
    })
}

impl CaseView {
    /// Placements and workers in the last twelve months (a child's case).
    pub fn stability(&self) -> Option<Stability> {
        self.summary.as_ref().map(|s| s.stability())
    }

    /// The case's agencies: the lead first, then the others.
    pub fn agency_codes(&self) -> Vec<String> {
        std::iter::once(self.state.lead().to_string())
            .chain(self.state.agencies.iter().map(|a| a.to_string()))
            .collect()
    }
}

pub(super) fn case_of(st: &App, id: Uuid) -> Result<Option<CaseState>, AppError> {
    Ok(st
        .store
        .entity(id)?
        .and_then(|r| r.as_kind::<CaseState>().cloned()))
}

pub(super) fn subjects(id: Uuid, child: Option<Uuid>) -> Vec<SubjectRef> {
    let mut v = vec![SubjectRef::new(EntityKind::Case, id)];
    v.extend(child.map(|c| SubjectRef::new(EntityKind::Person, c)));
    v
}

/// The facts closing is judged from: the case's open actions and, on a
/// child's case, the child's latest screening and missing episodes from
/// every agency's records (`whole`; none on a contextual case).
fn closure_facts(c: &CaseState, whole: Option<&Summary>) -> ClosureFacts {
    let day = |t: chrono::DateTime<chrono::Utc>| vigil_rules::london::local_date(t);
    ClosureFacts {
        open_actions: c.open_actions().count(),
        latest_screening: whole.and_then(|w| w.screenings.last().map(|s| (s.day, s.yes.len()))),
        missing: whole
            .map(|w| {
                w.missing
                    .iter()
                    .filter_map(|p| Some((day(p.from?), p.to.map(day))))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(super) fn is_late(
    st: &App,
    due: &vigil_model::dates::Date,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    NaiveDate::parse_from_str(&due.to_string(), "%Y-%m-%d").is_ok_and(|d| {
        st.policy.escalation(&st.rules.case_action_due(d), now) >= Escalation::Supervisor
    })
}

/// A case, for a user involved in it (or the front door, a supervisor of
/// an agency involved, an analyst, an auditor), with the child's
/// chronology as the case's agencies see it. The read is logged (the case,
/// the child and every record whose item is shown). Refused: 403 with a
/// sentence and no details.
pub async fn case(
    st: &Arc<App>,
    who: &Caller,
    id: Uuid,
) -> Result<super::Authorised<CaseView>, AppError> {
    let who = who.clone();
    st.blocking(move |st| load_case(st, &who, id)).await
}

fn load_case(st: &App, who: &Caller, id: Uuid) -> Result<super::Authorised<CaseView>, AppError> {
    // A role without cases is refused before it is told whether one exists.
    check(who, Action::ViewCase, Resource::Page)?;
    let Some(state) = case_of(st, id)? else {
        return Err(AppError::NotFound(format!("There is no case {id}.")));
    };
    check(who, Action::ViewCase, case_resource(&state))?;
    let Some(child_id) = state.child_id else {
        return load_contextual_case(st, who, id, state);
    };
    let person = super::person_of(st, child_id)?
        .ok_or_else(|| AppError::Internal(format!("case {id} names no recorded child")))?;
    let child = super::link_of(st, who, &person);
    let now = st.now();
    let overdue = state
        .open_actions()
        .filter(|a| is_late(st, &a.due, now))
        .map(|a| a.action_id)
        .collect();
    // The case's agencies, and the agency whose referral opened it: why a
    // case was opened is part of it for everyone working it (a school that
    // referred is rarely "on" the case, but its referral is the start).
    let referring = match state.referral_id {
        Some(r) => st
            .store
            .entity(r)?
            .and_then(|e| e.as_kind::<vigil_model::state::ReferralState>().cloned())
            .map(|r| r.submitted.agency.to_string()),
        None => None,
    };
    let agencies: Vec<String> = std::iter::once(state.lead().to_string())
        .chain(state.agencies.iter().map(|a| a.to_string()))
        .chain(referring)
        .collect();
    let chron = super::record::case_chronology(st, who, child_id, &agencies)?;
    let closure_concerns = match state.status {
        CaseStatus::Open => closure::concerns(
            &closure_facts(&state, Some(&chron.whole)),
            vigil_rules::london::local_date(now),
        ),
        CaseStatus::Closed => Vec::new(),
    };
    let mut shown = subjects(id, Some(child_id));
    let mut records: Vec<(Uuid, EntityKind)> = chron
        .items
        .iter()
        .filter_map(|i| Some((i.record_id, EntityKind::parse(&i.record_kind)?)))
        .collect();
    records.sort();
    records.dedup();
    shown.extend(records.into_iter().map(|(r, k)| SubjectRef::new(k, r)));
    let can_manage = may(who, Action::ManageCase, case_resource(&state));
    let can_sign_off = may(who, Action::SignOffClosure, case_resource(&state));
    let alerts = case_alerts(st, who, &[child_id], &mut shown)?;
    let view = CaseView {
        multi_agency_meetings: multi_agency_meetings(st, &state)?,
        alerts,
        id,
        overdue,
        child: Some(child),
        context: None,
        linked: Vec::new(),
        linked_hidden: 0,
        chronology: chron.items,
        chronology_total: chron.total,
        chronology_limited: chron.limited,
        summary: Some(chron.summary),
        closure_concerns,
        can_manage,
        can_sign_off,
        state,
    };
    authorised(st, who, "view case", shown, view)
}

/// A contextual case (on a place or a peer group): no child's chronology;
/// the place or group, and the children linked to it, named where this
/// user may open their record and counted otherwise. The read is logged
/// (the case, the place and every child named).
fn load_contextual_case(
    st: &App,
    who: &Caller,
    id: Uuid,
    state: CaseState,
) -> Result<super::Authorised<CaseView>, AppError> {
    let now = st.now();
    let overdue = state
        .open_actions()
        .filter(|a| is_late(st, &a.due, now))
        .map(|a| a.action_id)
        .collect();
    let context = context_view(st, &state)?;
    let mut shown = subjects(id, None);
    if let Some(ContextView::Place { location_id, .. }) = &context {
        shown.push(SubjectRef::new(EntityKind::Location, *location_id));
    }
    let ids: Vec<Uuid> = state.linked.iter().map(|l| l.child_id).collect();
    let people = super::people_of(st, &ids)?;
    let mut linked = Vec::new();
    let mut linked_hidden = 0;
    for l in &state.linked {
        match people.get(&l.child_id).map(|p| super::link_of(st, who, p)) {
            Some(child) if child.can_open => {
                shown.push(SubjectRef::new(EntityKind::Person, l.child_id));
                linked.push(LinkedChildView {
                    child,
                    reason: l.reason.clone(),
                    linked: l.linked.clone(),
                });
            }
            _ => linked_hidden += 1,
        }
    }
    let closure_concerns = match state.status {
        CaseStatus::Open => closure::concerns(
            &closure_facts(&state, None),
            vigil_rules::london::local_date(now),
        ),
        CaseStatus::Closed => Vec::new(),
    };
    let linked_ids: Vec<Uuid> = state.linked.iter().map(|l| l.child_id).collect();
    let alerts = case_alerts(st, who, &linked_ids, &mut shown)?;
    let view = CaseView {
        multi_agency_meetings: multi_agency_meetings(st, &state)?,
        alerts,
        id,
        overdue,
        child: None,
        context,
        linked,
        linked_hidden,
        chronology: Vec::new(),
        chronology_total: 0,
        chronology_limited: false,
        summary: None,
        closure_concerns,
        can_manage: may(who, Action::ManageCase, case_resource(&state)),
        can_sign_off: may(who, Action::SignOffClosure, case_resource(&state)),
        state,
    };
    authorised(st, who, "view case", shown, view)
}

/// The cases of a child that a user may open, newest first, and how many
/// others there are (cases of the child this user is not involved in):
/// the child's own cases and the contextual cases (on a place or a peer
/// group) the child is linked to now.
pub(crate) fn cases_of_child(
    st: &App,
    who: &Caller,
    person: &vigil_model::state::PersonState,
) -> Result<(Vec<CaseLine>, usize), AppError> {
    let mut lines = Vec::new();
    let mut hidden = 0;
    let ids: Vec<Uuid> = person
        .case_ids
        .iter()
        .chain(&person.context_case_ids)
        .copied()
        .collect();
    for r in st.store.entities(&ids)? {
        let Some(c) = r.as_kind::<CaseState>() else {
            continue;
        };
        if may(who, Action::ViewCase, case_resource(c)) {
            let mut line = CaseLine::of(r.id, c);
            line.context = context_view(st, c)?.map(|v| v.title());
            lines.push(line);
        } else {
            hidden += 1;
        }
    }
    lines.sort_by(|a, b| b.opened.cmp(&a.opened));
    Ok((lines, hidden))
}

/// One case in a list (the child's page, the triage page).
#[derive(Clone, Debug)]
pub struct CaseLine {
    pub id: Uuid,
    pub level: CaseLevel,
    pub status: CaseStatus,
    pub lead: String,
    pub worker: Option<String>,
    pub risk: Option<RiskLevel>,
    pub opened: String,
    pub closed: Option<String>,
    pub close_reason: Option<String>,
    pub open_actions: usize,
    pub awaiting_sign_off: bool,
    /// A contextual case's place or peer group, in words (none: the
    /// child's own case).
    pub context: Option<String>,
}

impl CaseLine {
    pub(super) fn of(id: Uuid, c: &CaseState) -> CaseLine {
        CaseLine {
            id,
            level: c.level,
            status: c.status,
            lead: c.lead().to_string(),
            worker: c.worker.clone(),
            risk: c.risk,
            opened: c.opened.at.clone(),
            closed: c.closed.as_ref().map(|s| s.at.clone()),
            close_reason: c.close_reason.clone(),
            open_actions: c.open_actions().count(),
            awaiting_sign_off: c.closure_request.is_some(),
            context: None,
        }
    }
}

/// How long after a case closes a new referral about the child reopens
/// the question (about six months).
pub const REOPEN_WINDOW_DAYS: i64 = 183;

/// The child's most recent case closed within [`REOPEN_WINDOW_DAYS`] of
/// `now`, if any, none is open and this user may open it: what the triage
/// page warns of (the front door sees every case).
pub(crate) fn recently_closed(
    st: &App,
    who: &Caller,
    child: Uuid,
) -> Result<Option<CaseLine>, AppError> {
    let Some(person) = st
        .store
        .entity(child)?
        .and_then(|r| r.as_kind::<vigil_model::state::PersonState>().cloned())
    else {
        return Ok(None);
    };
    let now = st.now();
    let since = now - chrono::TimeDelta::days(REOPEN_WINDOW_DAYS);
    let mut best: Option<(chrono::DateTime<chrono::Utc>, CaseLine)> = None;
    for r in st.store.entities(&person.case_ids)? {
        let Some(c) = r.as_kind::<CaseState>() else {
            continue;
        };
        let Some(at) = c
            .closed
            .as_ref()
            .and_then(|s| s.at.parse::<chrono::DateTime<chrono::Utc>>().ok())
        else {
            continue;
        };
        let newer = best.as_ref().is_none_or(|(b, _)| at > *b);
        if c.status == CaseStatus::Closed
            && at >= since
            && newer
            && may(who, Action::ViewCase, case_resource(c))
        {
            best = Some((at, CaseLine::of(r.id, c)));
        }
    }
    // An open case on the child means the question is already live.
    let open = st
        .store
        .entities(&person.case_ids)?
        .iter()
        .filter_map(|r| r.as_kind::<CaseState>())
        .any(|c| c.status == CaseStatus::Open);
    Ok(if open { None } else { best.map(|(_, l)| l) })
}

/// One open action in a list, with how far it has escalated.
#[derive(Clone, Debug)]
pub struct ActionItem {
    pub case_id: Uuid,
    /// None on a contextual case.
    pub child_id: Option<Uuid>,
    /// The child, named (the action is about them); `can_open` says whether
    /// this user may also open the child's whole record.
    pub child: Option<PersonLink>,
    pub action: CaseAction,
    pub escalation: Escalation,
}

impl ActionItem {
    pub fn overdue(&self) -> bool {
        self.escalation >= Escalation::Supervisor
    }
}

fn items(
    st: &App,
    who: &Caller,
    q: CaseActionQuery,
    keep: &dyn Fn(&CaseState, &CaseAction) -> bool,
) -> Result<(Vec<ActionItem>, Vec<SubjectRef>), AppError> {
    let rows = st.store.case_actions(&q)?;
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    ids.sort();
    ids.dedup();
    let cases: std::collections::HashMap<Uuid, CaseState> = st
        .store
        .entities(&ids)?
        .into_iter()
        .filter_map(|r| r.as_kind::<CaseState>().cloned().map(|c| (r.id, c)))
        .collect();
    let children: Vec<Uuid> = cases.values().filter_map(|c| c.child_id).collect();
    let people = super::people_of(st, &children)?;
    let now = st.now();
    let mut out = Vec::new();
    let mut shown = Vec::new();
    for r in rows {
        let Some(c) = cases.get(&r.case_id) else {
            continue;
        };
        let Some(a) = c.actions.iter().find(|a| a.action_id == r.action_id) else {
            continue;
        };
        if !keep(c, a) {
            continue;
        }
        let Ok(due) = NaiveDate::parse_from_str(&a.due.to_string(), "%Y-%m-%d") else {
            continue;
        };
        let escalation = st.policy.escalation(&st.rules.case_action_due(due), now);
        shown.extend(subjects(r.case_id, c.child_id));
        out.push(ActionItem {
            case_id: r.case_id,
            child_id: c.child_id,
            child: c
                .child_id
                .and_then(|id| people.get(&id))
                .map(|p| super::link_of(st, who, p)),
            action: a.clone(),
            escalation,
        });
    }
    // Overdue first (furthest escalated), then by due date.
    out.sort_by(|x, y| {
        y.escalation
            .cmp(&x.escalation)
            .then_with(|| x.action.due.to_string().cmp(&y.action.due.to_string()))
    });
    Ok((out, shown))
}

/// The signed-in user's open actions, overdue first. The owner sees their
/// own actions whatever their agency (they are to do them).
pub async fn my_actions(
    st: &Arc<App>,
    who: &Caller,
) -> Result<super::Authorised<Vec<ActionItem>>, AppError> {
    let who = who.clone();
    st.blocking(move |st| load_my_actions(st, &who)).await
}

fn load_my_actions(st: &App, who: &Caller) -> Result<super::Authorised<Vec<ActionItem>>, AppError> {
    check(who, Action::ViewCase, Resource::Page)?;
    let me = who.user.username.clone();
    let (list, shown) = items(
        st,
        who,
        CaseActionQuery::OpenOwnedBy(me.clone()),
        &|_, a| a.owner == me,
    )?;
    authorised(st, who, "view my actions", shown, list)
}

/// The overdue actions this supervisor must see: open, past their date
/// (escalated to the supervisor or further), on cases the supervisor's
/// agency is involved in or owned by someone of the supervisor's agency.
fn late_actions(st: &App, who: &Caller) -> Result<(Vec<ActionItem>, Vec<SubjectRef>), AppError> {
    let today = vigil_rules::london::local_date(st.now());
    let mine = who.user.agency.clone();
    let owner_agency = |owner: &str| st.mirror.user_by_name(owner).map(|u| u.agency.clone());
    let (list, shown) = items(st, who, CaseActionQuery::OpenDueBefore(today), &|c, a| {
        may(who, Action::ViewCase, case_resource(c))
            || owner_agency(&a.owner).as_deref() == Some(mine.as_str())
    })?;
    Ok((list.into_iter().filter(|i| i.overdue()).collect(), shown))
}

/// What a supervisor must see to: the overdue actions (see
/// [`late_actions`]) and, when they may sign closures off, the closures
/// waiting for them.
#[derive(Clone, Debug)]
pub struct OverdueWork {
    pub actions: Vec<ActionItem>,
    pub closures: Vec<AwaitingClosure>,
    /// May this user sign closures off at all (else the list is not shown).
    pub signs_off: bool,
}

/// A closure asked for and waiting for a supervisor.
#[derive(Clone, Debug)]
pub struct AwaitingClosure {
    pub case: CaseLine,
    /// None on a contextual case.
    pub child: Option<PersonLink>,
    pub request: ClosureRequest,
}

/// The overdue actions this supervisor must see, and the closures waiting
/// for their sign-off. The read is logged (every case and child listed).
pub async fn overdue_work(
    st: &Arc<App>,
    who: &Caller,
) -> Result<super::Authorised<OverdueWork>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        check(&who, Action::ViewOverdue, Resource::Page)?;
        let (actions, mut shown) = late_actions(st, &who)?;
        let signs_off = may(&who, Action::SignOffClosure, Resource::Page);
        let closures = if signs_off {
            let (list, more) = closures_awaiting(st, &who)?;
            shown.extend(more);
            list
        } else {
            Vec::new()
        };
        authorised(
            st,
            &who,
            "view overdue actions",
            shown,
            OverdueWork {
                actions,
                closures,
                signs_off,
            },
        )
    })
    .await
}

/// What a new case is about.
#[derive(Clone, Debug)]
pub enum CaseAbout {
    /// A child (a case on one child, as before contextual cases).
    Child(Uuid),
    /// A place already recorded.
    Place(Uuid),
    /// A place recorded with the case (`location.recorded` then
    /// `case.opened`, appended together).
    NewPlace {
        kind: vigil_model::codes::LocationKind,
        details: vigil_model::pole::LocationDetails,
    },
    /// A peer group, named and described.
    PeerGroup { name: String, description: String },
}

/// What a new case needs.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub about: CaseAbout,
    pub level: CaseLevel,
    pub reason: String,
    pub referral_id: Option<Uuid>,
    pub lead_agency: AgencyId,
    pub worker: String,
    pub agencies: Vec<AgencyId>,
    pub risk: RiskLevel,
    pub risk_reason: String,
}

impl App {
    async fn append_one(
        &self,
        who: &Caller,
        body: EventPayload,
    ) -> Result<Result<(), String>, AppError> {
        self.append_together(who, vec![body]).await
    }

    /// Appends the events of one command together (all or none).
    pub(crate) async fn append_together(
        &self,
        who: &Caller,
        bodies: Vec<EventPayload>,
    ) -> Result<Result<(), String>, AppError> {
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let day = vigil_rules::london::local_date(now);
        let mut drafts = Vec::new();
        for body in bodies {
            match crate::referral::prepare(&actor, &agency, OccurredAt::day(day), body, now) {
                Ok(d) => drafts.push(d),
                Err(msg) => return Ok(Err(msg)),
            }
        }
        let results = self.append(drafts).await?;
        if results.is_empty() {
            return Err(AppError::Internal("the event was not written".into()));
        }
        match results.into_iter().find_map(Result::err) {
            Some(msg) => Ok(Err(crate::sentence(&msg))),
            None => Ok(Ok(())),
        }
    }

    fn unknown_agency(&self, a: &AgencyId) -> Option<String> {
        self.mirror
            .agency_by_code(a.as_str())
            .is_none()
            .then(|| format!("There is no agency '{a}' in Vigil."))
    }

    /// Opens a case. The user must be allowed to manage a case their own
    /// agency leads or is on (the front door: any). `Ok(Err(sentence))`
    /// when the input or the log refuses it.
    pub async fn open_case(
        self: &Arc<Self>,
        who: &Caller,
        new: &NewCase,
    ) -> Result<Result<Uuid, String>, AppError> {
        check(
            who,
            Action::ManageCase,
            Resource::Case {
                lead: new.lead_agency.as_str(),
                agencies: &new.agencies,
                worker: Some(new.worker.as_str()),
            },
        )?;
        for a in std::iter::once(&new.lead_agency).chain(&new.agencies) {
            if let Some(msg) = self.unknown_agency(a) {
                return Ok(Err(msg));
            }
        }
        if self.mirror.user_by_name(&new.worker).is_none() {
            return Ok(Err(format!("There is no account '{}'.", new.worker)));
        }
        let case_id = Uuid::now_v7();
        let mut bodies = Vec::new();
        let (child_id, context) = match &new.about {
            CaseAbout::Child(id) => (Some(*id), None),
            CaseAbout::Place(location_id) => {
                let id = *location_id;
                let Some(r) = self.blocking(move |st| Ok(st.store.entity(id)?)).await? else {
                    return Ok(Err("There is no such place recorded.".into()));
                };
                if r.kind != EntityKind::Location {
                    return Ok(Err("There is no such place recorded.".into()));
                }
                (
                    None,
                    Some(CaseContext::Place {
                        location_id: *location_id,
                    }),
                )
            }
            CaseAbout::NewPlace { kind, details } => {
                let location_id = Uuid::now_v7();
                bodies.push(EventPayload::LocationRecorded(
                    vigil_model::pole::Location {
                        location_id,
                        kind: *kind,
                        details: details.clone(),
                    },
                ));
                (None, Some(CaseContext::Place { location_id }))
            }
            CaseAbout::PeerGroup { name, description } => (
                None,
                Some(CaseContext::PeerGroup {
                    name: name.clone(),
                    description: description.clone(),
                }),
            ),
        };
        bodies.push(EventPayload::CaseOpened(CaseOpened {
            case_id,
            child_id,
            context,
            level: new.level,
            reason: new.reason.clone(),
            referral_id: new.referral_id,
            lead_agency: Some(new.lead_agency.clone()),
            worker: Some(new.worker.clone()),
            agencies: new.agencies.clone(),
            risk: Some(new.risk),
            risk_reason: Some(new.risk_reason.clone()),
        }));
        Ok(self.append_together(who, bodies).await?.map(|()| case_id))
    }

    /// Links a child to a contextual case (on a place or a peer group),
    /// with the reason. The user must be allowed to manage the case and to
    /// open the child's record. `Ok(Err(sentence))` when the log refuses it
    /// (the case is a child's own, closed, or the child already linked).
    pub async fn link_case_child(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        child_id: Uuid,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        self.managed_case(who, case_id).await?;
        self.openable_child(who, child_id).await?;
        let body = EventPayload::CaseChildLinked(CaseChildLinked {
            case_id,
            child_id,
            reason,
        });
        self.append_one(who, body).await
    }

    /// Takes a child off a contextual case, with the reason (the same
    /// checks as linking).
    pub async fn unlink_case_child(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        child_id: Uuid,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        self.managed_case(who, case_id).await?;
        self.openable_child(who, child_id).await?;
        let body = EventPayload::CaseChildUnlinked(CaseChildUnlinked {
            case_id,
            child_id,
            reason,
        });
        self.append_one(who, body).await
    }

    /// A person whose record this user may open (else 404 or 403).
    async fn openable_child(self: &Arc<Self>, who: &Caller, id: Uuid) -> Result<(), AppError> {
        let p = self
            .blocking(move |st| super::person_of(st, id))
            .await?
            .ok_or_else(|| AppError::NotFound("There is no such child recorded.".into()))?;
        check(who, Action::ViewPerson, super::person_resource(&p))
    }

    /// The case, read off the async threads (the PostgreSQL client blocks).
    async fn loaded_case(self: &Arc<Self>, id: Uuid) -> Result<CaseState, AppError> {
        self.blocking(move |st| {
            case_of(st, id)?.ok_or_else(|| AppError::NotFound(format!("There is no case {id}.")))
        })
        .await
    }

    async fn managed_case(self: &Arc<Self>, who: &Caller, id: Uuid) -> Result<CaseState, AppError> {
        check(who, Action::ManageCase, Resource::Page)?;
        let c = self.loaded_case(id).await?;
        check(who, Action::ManageCase, case_resource(&c))?;
        Ok(c)
    }

    /// Adds an agency to a case (its users may then see it).
    pub async fn add_case_agency(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        agency: AgencyId,
        reason: Option<String>,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id).await?;
        if let Some(msg) = self.unknown_agency(&agency) {
            return Ok(Err(msg));
        }
        let body = EventPayload::CaseAgencyAdded(CaseAgencyAdded {
            case_id,
            child_id: c.child_id,
            agency,
            reason,
        });
        self.append_one(who, body).await
    }

    /// Takes an agency off a case (its users lose the access it gave).
    pub async fn remove_case_agency(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        agency: AgencyId,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id).await?;
        let body = EventPayload::CaseAgencyRemoved(CaseAgencyRemoved {
            case_id,
            child_id: c.child_id,
            agency,
            reason,
        });
        self.append_one(who, body).await
    }

    /// Adds an action to a case (`meeting_id` when a meeting set it).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_case_action(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        text: String,
        owner: String,
        due: vigil_model::dates::Date,
        meeting_id: Option<Uuid>,
    ) -> Result<Result<Uuid, String>, AppError> {
        self.managed_case(who, case_id).await?;
        if self.mirror.user_by_name(&owner).is_none() {
            return Ok(Err(format!("There is no account '{owner}'.")));
        }
        let action_id = Uuid::now_v7();
        let body = EventPayload::CaseActionAdded(CaseActionAdded {
            case_id,
            action_id,
            text,
            owner,
            due,
            meeting_id,
        });
        Ok(self.append_one(who, body).await?.map(|()| action_id))
    }
}

/// What closing a case did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Closure {
    /// Closed: nothing needed a sign-off.
    Closed,
    /// Closed by a supervisor, who signed off these concerns.
    SignedOff(Vec<String>),
    /// Not closed yet: a supervisor must sign off these concerns.
    AwaitingSignOff(Vec<String>),
}

impl App {
    /// Steps a case up or down to another level, with the reason.
    pub async fn change_case_level(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        level: CaseLevel,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id).await?;
        let body = EventPayload::CaseLevelChanged(CaseLevelChanged {
            case_id,
            child_id: c.child_id,
            level,
            reason,
        });
        self.append_one(who, body).await
    }

    /// Records the case's risk again, and why.
    pub async fn change_case_risk(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        risk: RiskLevel,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id).await?;
        let body = EventPayload::CaseRiskChanged(CaseRiskChanged {
            case_id,
            child_id: c.child_id,
            risk,
            reason,
        });
        self.append_one(who, body).await
    }

    /// Allocates the case to another worker (and, if given, lead agency).
    pub async fn allocate_case(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        worker: String,
        lead_agency: Option<AgencyId>,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id).await?;
        if self.mirror.user_by_name(&worker).is_none() {
            return Ok(Err(format!("There is no account '{worker}'.")));
        }
        if let Some(msg) = lead_agency.as_ref().and_then(|a| self.unknown_agency(a)) {
            return Ok(Err(msg));
        }
        let body = EventPayload::CaseAllocated(CaseAllocated {
            case_id,
            child_id: c.child_id,
            worker,
            lead_agency,
            reason,
        });
        self.append_one(who, body).await
    }

    /// Marks an action done or cancelled, with a note. Its owner may close
    /// it as well as whoever may manage the case.
    pub async fn close_case_action(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        action_id: Uuid,
        status: ActionStatus,
        note: String,
    ) -> Result<Result<(), String>, AppError> {
        check(who, Action::ViewCase, Resource::Page)?;
        let c = self.loaded_case(case_id).await?;
        let owner = c
            .actions
            .iter()
            .any(|a| a.action_id == action_id && a.owner == who.user.username);
        if !owner {
            check(who, Action::ManageCase, case_resource(&c))?;
        }
        let body = EventPayload::CaseActionClosed(CaseActionClosed {
            case_id,
            action_id,
            status,
            note,
        });
        self.append_one(who, body).await
    }

    /// Closes a case with a reason. When work on it is still live (open
    /// actions, active indicators, a recent missing episode: judged from
    /// every agency's records) a supervisor's sign-off is needed: a
    /// supervisor who may give it closes the case with the sign-off
    /// recorded; anyone else's closing becomes a request that waits for one.
    pub async fn close_case(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        reason: String,
    ) -> Result<Result<Closure, String>, AppError> {
        let c = self.managed_case(who, case_id).await?;
        let concerns = {
            let (who, c) = (who.clone(), c.clone());
            self.blocking(move |st| {
                let whole = match c.child_id {
                    Some(child) => {
                        Some(super::record::case_chronology(st, &who, child, &[])?.whole)
                    }
                    None => None,
                };
                Ok(closure::concerns(
                    &closure_facts(&c, whole.as_deref()),
                    vigil_rules::london::local_date(st.now()),
                ))
            })
            .await?
        };
        let child_id = c.child_id;
        let (body, outcome) = if concerns.is_empty() {
            (
                EventPayload::CaseClosed(CaseClosed {
                    case_id,
                    child_id,
                    reason,
                    sign_off: None,
                }),
                Closure::Closed,
            )
        } else if may(who, Action::SignOffClosure, case_resource(&c)) {
            (
                EventPayload::CaseClosed(CaseClosed {
                    case_id,
                    child_id,
                    reason: reason.clone(),
                    sign_off: Some(ClosureSignOff {
                        requested_by: None,
                        concerns: concerns.clone(),
                        note: reason,
                    }),
                }),
                Closure::SignedOff(concerns),
            )
        } else {
            (
                EventPayload::CaseClosureRequested(CaseClosureRequested {
                    case_id,
                    child_id,
                    reason,
                    concerns: concerns.clone(),
                }),
                Closure::AwaitingSignOff(concerns),
            )
        };
        Ok(self.append_one(who, body).await?.map(|()| outcome))
    }

    /// A supervisor's answer to a closure waiting for sign-off: close the
    /// case with the sign-off recorded, or keep it open and say why.
    pub async fn decide_closure(
        self: &Arc<Self>,
        who: &Caller,
        case_id: Uuid,
        sign_off: bool,
        note: String,
    ) -> Result<Result<(), String>, AppError> {
        check(who, Action::SignOffClosure, Resource::Page)?;
        let c = self.loaded_case(case_id).await?;
        check(who, Action::SignOffClosure, case_resource(&c))?;
        let Some(req) = c.closure_request.clone() else {
            return Ok(Err("Nobody has asked to close this case.".into()));
        };
        let body = if sign_off {
            EventPayload::CaseClosed(CaseClosed {
                case_id,
                child_id: c.child_id,
                reason: req.reason,
                sign_off: Some(ClosureSignOff {
                    requested_by: Some(req.requested.by.clone()),
                    concerns: req.concerns,
                    note,
                }),
            })
        } else {
            EventPayload::CaseClosureDeclined(CaseClosureDeclined {
                case_id,
                child_id: c.child_id,
                note,
            })
        };
        self.append_one(who, body).await
    }
}

/// The closures waiting for this supervisor's sign-off (cases their agency
/// is involved in), oldest request first. Reads every case: there are few
/// enough for a page per request today; an index of open closure requests
/// is the next step when there are not.
fn closures_awaiting(
    st: &App,
    who: &Caller,
) -> Result<(Vec<AwaitingClosure>, Vec<SubjectRef>), AppError> {
    let mut out = Vec::new();
    let mut shown = Vec::new();
    for r in st.store.entities_of_kind(EntityKind::Case)? {
        let Some(c) = r.as_kind::<CaseState>() else {
            continue;
        };
        let Some(req) = &c.closure_request else {
            continue;
        };
        if !may(who, Action::SignOffClosure, case_resource(c)) {
            continue;
        }
        let child = match c.child_id {
            Some(id) => match super::person_of(st, id)? {
                Some(p) => Some(super::link_of(st, who, &p)),
                None => continue,
            },
            None => None,
        };
        shown.extend(subjects(r.id, c.child_id));
        let mut case = CaseLine::of(r.id, c);
        case.context = context_view(st, c)?.map(|v| v.title());
        out.push(AwaitingClosure {
            case,
            child,
            request: req.clone(),
        });
    }
    out.sort_by(|a, b| a.request.requested.at.cmp(&b.request.requested.at));
    Ok((out, shown))
}

/// The new-case form for a child: the user must be allowed to open the
/// child's record and to manage a case their own agency leads. Showing the
/// child on the form is a logged read.
pub async fn new_case_form(
    st: &Arc<App>,
    who: &Caller,
    child_id: Uuid,
) -> Result<super::Authorised<PersonLink>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        // Whether the user may open cases at all comes first, so a refusal
        // says nothing about whether the child exists.
        let own = [];
        check(
            &who,
            Action::ManageCase,
            Resource::Case {
                lead: who.user.agency.as_str(),
                agencies: &own,
                worker: None,
            },
        )?;
        let p = super::person_of(st, child_id)?
            .ok_or_else(|| AppError::NotFound("There is no person at this address.".into()))?;
        check(&who, Action::ViewPerson, super::person_resource(&p))?;
        let link = super::link_of(st, &who, &p);
        authorised(
            st,
            &who,
            "opened a person's record to open a case",
            vec![SubjectRef::new(EntityKind::Person, p.id)],
            link,
        )
    })
    .await
}

/// The form to open a contextual case (on a place or a peer group): the
/// user must be allowed to manage a case their own agency leads. It shows
/// nobody's record, so nothing is logged.
pub async fn new_contextual_case_form(
    st: &Arc<App>,
    who: &Caller,
) -> Result<super::Authorised<()>, AppError> {
    let own = [];
    check(
        who,
        Action::ManageCase,
        Resource::Case {
            lead: who.user.agency.as_str(),
            agencies: &own,
            worker: None,
        },
    )?;
    super::unlogged(st, ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vigil_ledger::LogSigner;
    use vigil_model::codes::{AgencyKind, Role};
    use vigil_model::payload::{user_id_for, AgencyRegistered, UserRegistered};
    use vigil_model::{Actor, EventInput, Person};
    use vigil_store::sqlite::SqliteStore;
    use vigil_store::Store;

    fn event(body: EventPayload) -> vigil_model::EventDraft {
        crate::events::draft(
            EventInput {
                id: None,
                actor: Actor {
                    user: "admin".into(),
                    role: Role::PartnershipAdministrator,
                },
                agency: AgencyId::new("council").unwrap(),
                occurred_at: OccurredAt::day(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
                source: None,
                body,
            },
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn caller(app: &App, name: &str) -> Caller {
        Caller {
            user: app.user_by_name(name).unwrap(),
            agency_name: String::new(),
        }
    }

    fn forbidden<T>(r: Result<T, AppError>) -> bool {
        matches!(r, Err(AppError::Forbidden(_)))
    }

    /// On a real SQLite store: a case is seen by involvement (an uninvolved
    /// agency's user is refused until the agency is added, and again once
    /// it is removed); an action past its date is the owner's, overdue
    /// first, and the supervisor's; not before its date.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_case_is_seen_by_involvement_and_late_actions_reach_the_supervisor() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("v.sqlite"), LogSigner::generate()).unwrap(),
        );
        let app = Arc::new(App::new(Arc::clone(&store), crate::system_clock()));
        let agencies = [
            ("council", AgencyKind::SocialCare),
            ("youth", AgencyKind::YouthService),
            ("police", AgencyKind::Police),
        ];
        let mut drafts = Vec::new();
        let mut ids = std::collections::HashMap::new();
        for (code, kind) in agencies {
            let id = Uuid::now_v7();
            ids.insert(code, id);
            drafts.push(event(EventPayload::AgencyRegistered(AgencyRegistered {
                agency_id: id,
                code: AgencyId::new(code).unwrap(),
                name: code.to_uppercase(),
                kind,
            })));
        }
        for (name, role, agency) in [
            ("sw", Role::Practitioner, "council"),
            ("tm", Role::Supervisor, "council"),
            ("yw", Role::Practitioner, "youth"),
            ("pc", Role::Practitioner, "police"),
        ] {
            drafts.push(event(EventPayload::UserRegistered(UserRegistered {
                user_id: user_id_for(name),
                username: name.into(),
                name: name.to_uppercase(),
                role,
                agency_id: ids[agency],
            })));
        }
        let child = Uuid::now_v7();
        drafts.push(event(EventPayload::PersonRecorded(Person::named(
            child, "Jade", "Example",
        ))));
        for r in store.append(drafts).unwrap().results {
            r.unwrap();
        }
        app.refresh_accounts().unwrap();
        let (sw, tm, yw, pc) = (
            caller(&app, "sw"),
            caller(&app, "tm"),
            caller(&app, "yw"),
            caller(&app, "pc"),
        );
        let new = NewCase {
            about: CaseAbout::Child(child),
            level: CaseLevel::Exploitation,
            reason: "Seen at the hotel".into(),
            referral_id: None,
            lead_agency: AgencyId::new("council").unwrap(),
            worker: "sw".into(),
            agencies: vec![],
            risk: RiskLevel::High,
            risk_reason: "Missing twice".into(),
        };
        // Police may not open a case led by the council.
        assert!(forbidden(app.open_case(&pc, &new).await));
        let id = app.open_case(&sw, &new).await.unwrap().unwrap();
        assert_eq!(
            load_case(&app, &sw, id).unwrap().state.risk,
            Some(RiskLevel::High)
        );
        assert!(forbidden(load_case(&app, &yw, id).map(|_| ())));
        assert!(forbidden(load_case(&app, &pc, id).map(|_| ())));
        let youth = AgencyId::new("youth").unwrap();
        app.add_case_agency(&sw, id, youth.clone(), None)
            .await
            .unwrap()
            .unwrap();
        assert!(load_case(&app, &yw, id).is_ok());
        assert!(forbidden(load_case(&app, &pc, id).map(|_| ())));
        // An unknown agency is refused with a sentence.
        let bad = app
            .add_case_agency(&sw, id, AgencyId::new("nowhere").unwrap(), None)
            .await
            .unwrap();
        assert!(bad.unwrap_err().contains("no agency"));
        app.remove_case_agency(&sw, id, youth, "Closed its work".into())
            .await
            .unwrap()
            .unwrap();
        assert!(forbidden(load_case(&app, &yw, id).map(|_| ())));

        let today = vigil_rules::london::local_date(app.now());
        let day = |n: i64| {
            vigil_model::dates::Date::parse(&(today + chrono::TimeDelta::days(n)).to_string())
                .unwrap()
        };
        let late = app
            .add_case_action(&sw, id, "Visit".into(), "sw".into(), day(-1), None)
            .await
            .unwrap()
            .unwrap();
        let due_today = app
            .add_case_action(&sw, id, "Call school".into(), "sw".into(), day(0), None)
            .await
            .unwrap()
            .unwrap();
        // A bad owner is refused with a sentence; empty text by the model.
        assert!(app
            .add_case_action(&sw, id, "x".into(), "nobody".into(), day(1), None)
            .await
            .unwrap()
            .is_err());
        assert!(app
            .add_case_action(&sw, id, "  ".into(), "sw".into(), day(1), None)
            .await
            .unwrap()
            .is_err());
        let mine = load_my_actions(&app, &sw).unwrap();
        let order: Vec<(Uuid, bool)> = mine
            .iter()
            .map(|i| (i.action.action_id, i.overdue()))
            .collect();
        assert_eq!(order, [(late, true), (due_today, false)]);
        assert_eq!(load_case(&app, &sw, id).unwrap().overdue, [late]);
        // The supervisor sees the one a day late, not the one due today.
        let overdue = late_actions(&app, &tm).unwrap().0;
        let ids: Vec<Uuid> = overdue.iter().map(|i| i.action.action_id).collect();
        assert_eq!(ids, [late]);
        // A practitioner has no overdue page.

        assert!(load_my_actions(&app, &pc).unwrap().is_empty());
    }
}
