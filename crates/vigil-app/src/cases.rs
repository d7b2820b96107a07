//! Cases: the one loader of a case (its access check is involvement, see
//! [`crate::access::Resource::Case`]; every read writes the access log),
//! the commands that open and change one, and the action lists ("my
//! actions", the overdue actions a supervisor must see).
//!
//! A child of [`crate::guard`], so every value with a child's details comes
//! through its access check and access-log write.

use super::{authorised, check, may};
use crate::access::{Action, Resource};
use crate::{App, AppError, Caller};
use chrono::NaiveDate;
use uuid::Uuid;
use vigil_model::codes::{AgencyId, CaseLevel, RiskLevel};
use vigil_model::payload::{
    CaseActionAdded, CaseAgencyAdded, CaseAgencyRemoved, CaseOpened, EventPayload,
};
use vigil_model::state::{CaseAction, CaseState};
use vigil_model::time::OccurredAt;
use vigil_model::{EntityKind, SubjectRef};
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
}

fn case_of(st: &App, id: Uuid) -> Result<Option<CaseState>, AppError> {
    Ok(st
        .store
        .entity(id)?
        .and_then(|r| r.as_kind::<CaseState>().cloned()))
}

fn subjects(id: Uuid, child: Uuid) -> Vec<SubjectRef> {
    vec![
        SubjectRef::new(EntityKind::Case, id),
        SubjectRef::new(EntityKind::Person, child),
    ]
}

/// A case, for a user involved in it (or the front door, a supervisor of
/// an agency involved, an analyst, an auditor). The read is logged.
/// Refused: 403 with a sentence and no details.
pub fn case(st: &App, who: &Caller, id: Uuid) -> Result<super::Authorised<CaseView>, AppError> {
    let Some(state) = case_of(st, id)? else {
        return Err(AppError::NotFound(format!("There is no case {id}.")));
    };
    check(who, Action::ViewCase, case_resource(&state))?;
    let child = state.child_id;
    let now = st.now();
    let overdue = state
        .open_actions()
        .filter(|a| {
            NaiveDate::parse_from_str(&a.due.to_string(), "%Y-%m-%d").is_ok_and(|d| {
                st.policy.escalation(&st.rules.case_action_due(d), now) >= Escalation::Supervisor
            })
        })
        .map(|a| a.action_id)
        .collect();
    let view = CaseView { id, state, overdue };
    authorised(st, who, "view case", subjects(id, child), view)
}

/// One open action in a list, with how far it has escalated.
#[derive(Clone, Debug)]
pub struct ActionItem {
    pub case_id: Uuid,
    pub child_id: Uuid,
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
pub fn my_actions(st: &App, who: &Caller) -> Result<super::Authorised<Vec<ActionItem>>, AppError> {
    let me = who.user.username.clone();
    let (list, shown) = items(st, CaseActionQuery::OpenOwnedBy(me.clone()), &|_, a| {
        a.owner == me
    })?;
    authorised(st, who, "view my actions", shown, list)
}

/// The overdue actions this supervisor must see: open, past their date
/// (escalated to the supervisor or further), on cases the supervisor's
/// agency is involved in or owned by someone of the supervisor's agency.
pub fn overdue_actions(
    st: &App,
    who: &Caller,
) -> Result<super::Authorised<Vec<ActionItem>>, AppError> {
    check(who, Action::ViewOverdue, Resource::Page)?;
    let today = vigil_rules::london::local_date(st.now());
    let mine = who.user.agency.clone();
    let owner_agency = |owner: &str| st.mirror.user_by_name(owner).map(|u| u.agency.clone());
    let (list, shown) = items(st, CaseActionQuery::OpenDueBefore(today), &|c, a| {
        may(who, Action::ViewCase, case_resource(c))
            || owner_agency(&a.owner).as_deref() == Some(mine.as_str())
    })?;
    let list: Vec<ActionItem> = list.into_iter().filter(|i| i.overdue()).collect();
    authorised(st, who, "view overdue actions", shown, list)
}

/// What a new case needs.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub child_id: Uuid,
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
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let day = vigil_rules::london::local_date(now);
        let draft = match crate::referral::prepare(&actor, &agency, OccurredAt::day(day), body, now)
        {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(())),
            Some(Err(msg)) => Ok(Err(crate::sentence(&msg))),
            None => Err(AppError::Internal("the event was not written".into())),
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
        &self,
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
        let body = EventPayload::CaseOpened(CaseOpened {
            case_id,
            child_id: new.child_id,
            level: new.level,
            reason: new.reason.clone(),
            referral_id: new.referral_id,
            lead_agency: Some(new.lead_agency.clone()),
            worker: Some(new.worker.clone()),
            agencies: new.agencies.clone(),
            risk: Some(new.risk),
            risk_reason: Some(new.risk_reason.clone()),
        });
        Ok(self.append_one(who, body).await?.map(|()| case_id))
    }

    fn managed_case(&self, who: &Caller, id: Uuid) -> Result<CaseState, AppError> {
        let Some(c) = case_of(self, id)? else {
            return Err(AppError::NotFound(format!("There is no case {id}.")));
        };
        check(who, Action::ManageCase, case_resource(&c))?;
        Ok(c)
    }

    /// Adds an agency to a case (its users may then see it).
    pub async fn add_case_agency(
        &self,
        who: &Caller,
        case_id: Uuid,
        agency: AgencyId,
        reason: Option<String>,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id)?;
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
        &self,
        who: &Caller,
        case_id: Uuid,
        agency: AgencyId,
        reason: String,
    ) -> Result<Result<(), String>, AppError> {
        let c = self.managed_case(who, case_id)?;
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
        &self,
        who: &Caller,
        case_id: Uuid,
        text: String,
        owner: String,
        due: vigil_model::dates::Date,
        meeting_id: Option<Uuid>,
    ) -> Result<Result<Uuid, String>, AppError> {
        self.managed_case(who, case_id)?;
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
        let app = App::new(Arc::clone(&store), crate::system_clock());
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
            child_id: child,
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
            case(&app, &sw, id).unwrap().state.risk,
            Some(RiskLevel::High)
        );
        assert!(forbidden(case(&app, &yw, id).map(|_| ())));
        assert!(forbidden(case(&app, &pc, id).map(|_| ())));
        let youth = AgencyId::new("youth").unwrap();
        app.add_case_agency(&sw, id, youth.clone(), None)
            .await
            .unwrap()
            .unwrap();
        assert!(case(&app, &yw, id).is_ok());
        assert!(forbidden(case(&app, &pc, id).map(|_| ())));
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
        assert!(forbidden(case(&app, &yw, id).map(|_| ())));

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
        let mine = my_actions(&app, &sw).unwrap();
        let order: Vec<(Uuid, bool)> = mine
            .iter()
            .map(|i| (i.action.action_id, i.overdue()))
            .collect();
        assert_eq!(order, [(late, true), (due_today, false)]);
        assert_eq!(case(&app, &sw, id).unwrap().overdue, [late]);
        // The supervisor sees the one a day late, not the one due today.
        let overdue = overdue_actions(&app, &tm).unwrap();
        let ids: Vec<Uuid> = overdue.iter().map(|i| i.action.action_id).collect();
        assert_eq!(ids, [late]);
        // A practitioner has no overdue page.
        assert!(forbidden(overdue_actions(&app, &pc).map(|_| ())));
        assert!(my_actions(&app, &pc).unwrap().is_empty());
    }
}
