//! Meetings: the agenda of the monthly multi-agency child exploitation
//! (MACE) meeting, generated from the open cases ([`vigil_rules::agenda`]),
//! the meetings held, one meeting's minutes, and recording a meeting with
//! its decisions and actions (one `meeting.held` and its
//! `case.action_added` events, appended as one unit).
//!
//! A child of [`crate::guard`]: every list names children, so every read
//! passes the access table case by case ([`Action::ViewCase`]) and writes
//! the access log. A case the user may not open is left out of the agenda
//! and the minutes, and nothing says it was there.

use super::cases::{case_of, case_resource, is_late, subjects, CaseLine};
use super::{authorised, check, may, PersonLink};
use crate::access::{Action, Resource};
use crate::{App, AppError, Caller};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::{MeetingKind, RiskLevel};
use vigil_model::payload::{
    CaseActionAdded, CaseDiscussed, EventPayload, MeetingAttendee, MeetingHeld,
};
use vigil_model::state::{
    CaseAction, CaseState, CaseStatus, MissingEpisodeState, MultiAgencyMeetingState, PersonState,
};
use vigil_model::time::OccurredAt;
use vigil_model::{EntityKind, SubjectRef};
use vigil_rules::agenda::{self, AgendaCriteria, CaseFacts, Reason};
use vigil_rules::london::local_date;

/// One case on the agenda.
#[derive(Clone, Debug)]
pub struct AgendaEntry {
    /// The case (a contextual case's place or peer group in `context`).
    pub case: CaseLine,
    /// The case's child; none on a contextual case.
    pub child: Option<PersonLink>,
    /// Why it is on the agenda, most urgent first.
    pub reasons: Vec<Reason>,
}

/// Who or what a case is about, in words: the child's name, or a
/// contextual case's place or peer group.
fn about(child: &Option<PersonLink>, context: &Option<String>) -> String {
    match (child, context) {
        (Some(c), _) => c.name.clone(),
        (None, Some(ctx)) => ctx.clone(),
        (None, None) => "A case".into(),
    }
}

impl AgendaEntry {
    /// The child's name, or the place or peer group of a contextual case.
    pub fn about(&self) -> String {
        about(&self.child, &self.case.context)
    }
}

impl Discussed {
    /// The child's name, or the place or peer group of a contextual case.
    pub fn about(&self) -> String {
        about(&self.child, &self.context)
    }
}

/// The agenda of the next meeting, as this user may see it.
#[derive(Clone, Debug)]
pub struct Agenda {
    /// The day of the last multi-agency exploitation meeting, if any.
    pub last_meeting: Option<NaiveDate>,
    /// The day "since the last meeting" counts from.
    pub since: NaiveDate,
    pub criteria: AgendaCriteria,
    pub items: Vec<AgendaEntry>,
}

/// One meeting in the list.
#[derive(Clone, Debug)]
pub struct MeetingLine {
    pub id: Uuid,
    pub kind: MeetingKind,
    pub held: OccurredAt,
    pub chair: String,
    /// The cases it discussed that this user may open, of `total`.
    pub shown: usize,
    pub total: usize,
}

/// The meetings page: the agenda of the next meeting and those held.
#[derive(Clone, Debug)]
pub struct Meetings {
    pub agenda: Agenda,
    /// Newest first.
    pub held: Vec<MeetingLine>,
}

/// A case one meeting discussed, as its minutes show it.
#[derive(Clone, Debug)]
pub struct Discussed {
    pub case_id: Uuid,
    /// The case's child; none on a contextual case.
    pub child: Option<PersonLink>,
    /// A contextual case's place or peer group, in words.
    pub context: Option<String>,
    pub decision: String,
    /// The actions the meeting set on it (as they stand now).
    pub actions: Vec<CaseAction>,
}

/// One meeting's minutes, as this user may see them.
#[derive(Clone, Debug)]
pub struct MeetingView {
    pub id: Uuid,
    pub state: MultiAgencyMeetingState,
    pub cases: Vec<Discussed>,
    /// Cases it discussed that this user may not open (only counted).
    pub hidden: usize,
}

/// The day of a stamp's or timestamp's RFC 3339 text in UK local time.
fn day_of(at: &str) -> Option<NaiveDate> {
    at.parse::<chrono::DateTime<chrono::Utc>>()
        .ok()
        .map(local_date)
}

fn held_day(m: &MultiAgencyMeetingState) -> Option<NaiveDate> {
    m.held.earliest_day().ok()
}

fn meetings_held(st: &App) -> Result<Vec<(Uuid, MultiAgencyMeetingState)>, AppError> {
    Ok(st
        .store
        .entities_of_kind(EntityKind::MultiAgencyMeeting)?
        .into_iter()
        .filter_map(|r| {
            let id = r.id;
            r.state
                .into_kind::<MultiAgencyMeetingState>()
                .map(|m| (id, m))
        })
        .collect())
}

/// The facts the agenda is judged from, for one open case: its risk and
/// its history, the child's missing episodes (every agency's: a police
/// episode counts for a council case), its overdue actions and whether
/// its closure waits for sign-off.
fn facts(st: &App, id: Uuid, c: &CaseState) -> Result<CaseFacts<Uuid>, AppError> {
    let now = st.now();
    // A child's case: the child's episodes; a contextual case: those of
    // the children linked to it now.
    let children: Vec<Uuid> = match c.child_id {
        Some(child) => vec![child],
        None => c.linked.iter().map(|l| l.child_id).collect(),
    };
    let mut episode_ids = Vec::new();
    for r in st.store.entities(&children)? {
        if let Some(p) = r.as_kind::<PersonState>() {
            episode_ids.extend(p.missing_episode_ids.iter().copied());
        }
    }
    let episodes = st.store.entities(&episode_ids)?;
    let missing_started = episodes
        .iter()
        .filter_map(|r| r.as_kind::<MissingEpisodeState>())
        .filter_map(|e| day_of(&e.started_at.to_string()))
        .collect();
    Ok(CaseFacts {
        key: id,
        risk: c.risk,
        risk_history: c
            .risk_history
            .iter()
            .filter_map(|r| Some((day_of(&r.at)?, r.risk)))
            .collect(),
        missing_started,
        overdue_actions: c
            .open_actions()
            .filter(|a| is_late(st, &a.due, now))
            .count(),
        closure_waiting: c.closure_request.is_some(),
    })
}

/// The agenda for `who`: every open case that meets the criteria and that
/// they may open, with the subjects shown (for the access log).
fn build_agenda(st: &App, who: &Caller) -> Result<(Agenda, Vec<SubjectRef>), AppError> {
    let today = local_date(st.now());
    let criteria = AgendaCriteria::default();
    let last_meeting = meetings_held(st)?
        .iter()
        .filter(|(_, m)| m.kind == MeetingKind::MultiAgencyExploitation)
        .filter_map(|(_, m)| held_day(m))
        .filter(|d| *d <= today)
        .max();
    let mut open: HashMap<Uuid, CaseState> = HashMap::new();
    let mut all = Vec::new();
    for r in st.store.entities_of_kind(EntityKind::Case)? {
        let Some(c) = r.as_kind::<CaseState>() else {
            continue;
        };
        // Only cases this user may open are looked at at all.
        if c.status != CaseStatus::Open || !may(who, Action::ViewCase, case_resource(c)) {
            continue;
        }
        all.push(facts(st, r.id, c)?);
        open.insert(r.id, c.clone());
    }
    let listed = agenda::agenda(&all, last_meeting, today, &criteria);
    let children: Vec<Uuid> = listed
        .iter()
        .filter_map(|i| open.get(&i.key).and_then(|c| c.child_id))
        .collect();
    let people = super::people_of(st, &children)?;
    let mut items = Vec::new();
    let mut shown = Vec::new();
    for i in listed {
        let Some(c) = open.get(&i.key) else { continue };
        let child = match c.child_id {
            Some(id) => match people.get(&id) {
                Some(p) => Some(super::link_of(st, who, p)),
                None => continue,
            },
            None => None,
        };
        shown.extend(subjects(i.key, c.child_id));
        let mut case = CaseLine::of(i.key, c);
        case.context = super::cases::context_view(st, c)?.map(|v| v.title());
        items.push(AgendaEntry {
            case,
            child,
            reasons: i.reasons,
        });
    }
    let since = agenda::since(last_meeting, today, criteria.missing_window_days);
    Ok((
        Agenda {
            last_meeting,
            since,
            criteria,
            items,
        },
        shown,
    ))
}

/// The meetings page: the agenda of the next meeting (the cases this user
/// may open) and the meetings held. The read is logged (every case and
/// child on the agenda).
pub async fn meetings(
    st: &Arc<App>,
    who: &Caller,
) -> Result<super::Authorised<Meetings>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        check(&who, Action::ViewMeetings, Resource::Page)?;
        let (agenda, shown) = build_agenda(st, &who)?;
        let mut held: Vec<MeetingLine> = Vec::new();
        for (id, m) in meetings_held(st)? {
            let cases = st
                .store
                .entities(&m.cases.iter().map(|c| c.case_id).collect::<Vec<_>>())?;
            let visible = cases
                .iter()
                .filter_map(|r| r.as_kind::<CaseState>())
                .filter(|c| may(&who, Action::ViewCase, case_resource(c)))
                .count();
            held.push(MeetingLine {
                id,
                kind: m.kind,
                held: m.held.clone(),
                chair: m.chair.clone(),
                shown: visible,
                total: m.cases.len(),
            });
        }
        held.sort_by(|a, b| b.held.value.cmp(&a.held.value).then(b.id.cmp(&a.id)));
        authorised(
            st,
            &who,
            "view meetings and agenda",
            shown,
            Meetings { agenda, held },
        )
    })
    .await
}

/// The form to record a meeting: the agenda of the cases this user may
/// open. The read is logged.
pub async fn new_meeting_form(
    st: &Arc<App>,
    who: &Caller,
) -> Result<super::Authorised<Agenda>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        check(&who, Action::RecordMeeting, Resource::Page)?;
        let (agenda, shown) = build_agenda(st, &who)?;
        authorised(st, &who, "record a meeting", shown, agenda)
    })
    .await
}

/// One meeting's minutes: who chaired and attended, and the cases this
/// user may open with the decision on each and the actions set. Cases
/// they may not open are counted, not shown. The read is logged.
pub async fn meeting(
    st: &Arc<App>,
    who: &Caller,
    id: Uuid,
) -> Result<super::Authorised<MeetingView>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        check(&who, Action::ViewMeetings, Resource::Page)?;
        let Some(state) = st
            .store
            .entity(id)?
            .and_then(|r| r.state.into_kind::<MultiAgencyMeetingState>())
        else {
            return Err(AppError::NotFound(format!("There is no meeting {id}.")));
        };
        let ids: Vec<Uuid> = state.cases.iter().map(|c| c.case_id).collect();
        let cases: HashMap<Uuid, CaseState> = st
            .store
            .entities(&ids)?
            .into_iter()
            .filter_map(|r| {
                let id = r.id;
                r.state.into_kind::<CaseState>().map(|c| (id, c))
            })
            .collect();
        let visible: Vec<&CaseDiscussed> = state
            .cases
            .iter()
            .filter(|d| {
                cases
                    .get(&d.case_id)
                    .is_some_and(|c| may(&who, Action::ViewCase, case_resource(c)))
            })
            .collect();
        let children: Vec<Uuid> = visible.iter().filter_map(|d| d.child_id).collect();
        let people = super::people_of(st, &children)?;
        let mut out = Vec::new();
        let mut shown = vec![SubjectRef::new(EntityKind::MultiAgencyMeeting, id)];
        for d in &visible {
            let Some(c) = cases.get(&d.case_id) else {
                continue;
            };
            let child = match d.child_id {
                Some(child) => match people.get(&child) {
                    Some(p) => Some(super::link_of(st, &who, p)),
                    None => continue,
                },
                None => None,
            };
            shown.extend(subjects(d.case_id, d.child_id));
            out.push(Discussed {
                case_id: d.case_id,
                child,
                context: super::cases::context_view(st, c)?.map(|v| v.title()),
                decision: d.decision.clone(),
                actions: c
                    .actions
                    .iter()
                    .filter(|a| a.meeting_id == Some(id))
                    .cloned()
                    .collect(),
            });
        }
        let hidden = state.cases.len() - out.len();
        let view = MeetingView {
            id,
            state: MultiAgencyMeetingState {
                cases: Vec::new(),
                ..state
            },
            cases: out,
            hidden,
        };
        authorised(st, &who, "view meeting", shown, view)
    })
    .await
}

/// An action set at a meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAction {
    pub text: String,
    /// The user name of whoever is to do it.
    pub owner: String,
    pub due: vigil_model::dates::Date,
}

/// One case discussed at a meeting being recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDiscussion {
    pub case_id: Uuid,
    pub decision: String,
    pub actions: Vec<NewAction>,
}

/// A meeting to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMeeting {
    pub held: NaiveDate,
    pub chair: String,
    pub attendees: Vec<MeetingAttendee>,
    pub cases: Vec<NewDiscussion>,
}

impl App {
    /// Records a multi-agency exploitation meeting: one `meeting.held`
    /// (chair, attendees, the decision on each case) and a
    /// `case.action_added` naming it for every action set, appended as one
    /// unit, so the meeting and its actions are recorded together or not
    /// at all. The user must be allowed to change every case discussed.
    /// `Ok(Err(sentence))` when the input or the log refuses it.
    pub async fn record_meeting(
        self: &Arc<Self>,
        who: &Caller,
        new: &NewMeeting,
    ) -> Result<Result<Uuid, String>, AppError> {
        check(who, Action::RecordMeeting, Resource::Page)?;
        // The store's reads block (PostgreSQL's client): off the async
        // threads.
        let (w, n) = (who.clone(), new.clone());
        let discussed = match self.blocking(move |st| st.discussed(&w, &n)).await? {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let meeting_id = Uuid::now_v7();
        let mut bodies = vec![EventPayload::MeetingHeld(MeetingHeld {
            meeting_id,
            kind: MeetingKind::MultiAgencyExploitation,
            chair: new.chair.clone(),
            attendees: new.attendees.clone(),
            cases: discussed,
        })];
        for d in &new.cases {
            for a in &d.actions {
                bodies.push(EventPayload::CaseActionAdded(CaseActionAdded {
                    case_id: d.case_id,
                    action_id: Uuid::now_v7(),
                    text: a.text.clone(),
                    owner: a.owner.clone(),
                    due: a.due,
                    meeting_id: Some(meeting_id),
                }));
            }
        }
        let mut drafts = Vec::new();
        for body in bodies {
            match crate::referral::prepare(&actor, &agency, OccurredAt::day(new.held), body, now) {
                Ok(d) => drafts.push(d),
                Err(msg) => return Ok(Err(msg)),
            }
        }
        let results = self.append(drafts).await?;
        if let Some(Err(msg)) = results.iter().find(|r| r.is_err()) {
            return Ok(Err(crate::sentence(msg)));
        }
        if results.is_empty() {
            return Err(AppError::Internal("the meeting was not written".into()));
        }
        Ok(Ok(meeting_id))
    }

    /// Each case discussed, checked: it exists, the user may change it, it
    /// is open, its actions' owners have accounts; and each attendee's
    /// agency is known.
    fn discussed(
        &self,
        who: &Caller,
        new: &NewMeeting,
    ) -> Result<Result<Vec<CaseDiscussed>, String>, AppError> {
        let mut discussed = Vec::new();
        for d in &new.cases {
            let Some(c) = case_of(self, d.case_id)? else {
                return Ok(Err(format!("There is no case {}.", d.case_id)));
            };
            check(who, Action::ManageCase, case_resource(&c))?;
            if c.status != CaseStatus::Open {
                return Ok(Err("One of the cases has been closed since the agenda was drawn: open the form again.".into()));
            }
            for a in &d.actions {
                if self.mirror.user_by_name(&a.owner).is_none() {
                    return Ok(Err(format!("There is no account '{}'.", a.owner)));
                }
            }
            discussed.push(CaseDiscussed {
                case_id: d.case_id,
                child_id: c.child_id,
                decision: d.decision.clone(),
            });
        }
        for a in &new.attendees {
            if self.mirror.agency_by_code(a.agency.as_str()).is_none() {
                return Ok(Err(format!("There is no agency '{}' in Vigil.", a.agency)));
            }
        }
        Ok(Ok(discussed))
    }
}

/// The risk a case is held at, in words for the agenda ("High risk").
pub fn risk_words(r: Option<RiskLevel>) -> String {
    r.map(|r| format!("{} risk", r.label()))
        .unwrap_or_else(|| "Risk not recorded".into())
}
