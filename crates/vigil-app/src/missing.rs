//! Missing episodes and return home interviews: the form's subject (the
//! child and their episodes), and the one command that records a report,
//! a return (where found, by whom, with whom), who is to do the return
//! home interview, or the interview (held, or declined by the child).
//!
//! A child of [`crate::guard`], so the form is opened through its one
//! access check and access-log write ([`missing_form`]: may open the record
//! and *record missing episodes and return home interviews* on it), and
//! [`crate::App::record_missing`] checks the access table again and appends
//! through the one append path. Where each interview stands (72 clock hours
//! from the return) is `vigil_rules::missing`.

use super::{authorised, check, embed, person_of, person_resource, PersonLink};
use crate::access::Action;
use crate::{App, AppError, Caller};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::{AgencyId, InterviewOutcome, MissingType};
use vigil_model::dates::Timestamp;
use vigil_model::payload::{
    MissingEpisodeRecorded, MissingEpisodeReturned, ReturnInterviewAssigned,
    ReturnInterviewRecorded,
};
use vigil_model::state::MissingEpisodeState;
use vigil_model::time::OccurredAt;
use vigil_model::{EntityKind, EventPayload, SubjectRef};

/// Most episodes the form lists (the most recent first).
pub const FORM_EPISODES: usize = 20;

/// One of the child's episodes, as the form offers it.
#[derive(Clone, Debug)]
pub struct EpisodeChoice {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    /// An interview is recorded (held or declined).
    pub interview_done: bool,
}

/// The child of a missing-episode form: authorised and logged.
pub struct MissingSubject {
    pub child: PersonLink,
    pub child_id: Uuid,
    /// The child's most recent episodes, newest first.
    pub episodes: Vec<EpisodeChoice>,
    recorded_by_agency: String,
}

/// The child and their episodes, for a user who may record them.
pub async fn missing_form(
    st: &Arc<App>,
    who: &Caller,
    child_id: Uuid,
) -> Result<super::Authorised<MissingSubject>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        let p = person_of(st, child_id)?
            .ok_or_else(|| AppError::NotFound("There is no person at this address.".into()))?;
        check(&who, Action::ViewPerson, person_resource(&p))?;
        check(&who, Action::RecordMissing, person_resource(&p))?;
        let child = embed(st, &who, &p, None)
            .ok_or_else(|| AppError::Internal("an openable person was not shown".into()))?;
        let ids = st
            .store
            .entity(p.id)?
            .and_then(|r| {
                r.as_kind::<vigil_model::state::PersonState>()
                    .map(|s| s.missing_episode_ids.clone())
            })
            .unwrap_or_default();
        let mut episodes: Vec<EpisodeChoice> = st
            .store
            .entities(&ids)?
            .iter()
            .filter_map(|r| {
                let m = r.as_kind::<MissingEpisodeState>()?;
                Some(EpisodeChoice {
                    id: r.id,
                    started_at: m.started_at.as_utc(),
                    returned_at: m.ended_at.as_ref().map(|t| t.as_utc()),
                    interview_done: !m.interviews_recorded.is_empty()
                        || !m.return_interviews.is_empty(),
                })
            })
            .collect();
        episodes.sort_by_key(|e| std::cmp::Reverse(e.started_at));
        episodes.truncate(FORM_EPISODES);
        authorised(
            st,
            &who,
            "opened a person's record to record a missing episode",
            vec![SubjectRef::new(EntityKind::Person, p.id)],
            MissingSubject {
                child,
                child_id: p.id,
                episodes,
                recorded_by_agency: p.recorded.agency.clone(),
            },
        )
    })
    .await
}

/// What a form records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MissingInput {
    /// The child is missing (or away) since `started_at`.
    Report {
        missing_type: MissingType,
        started_at: DateTime<Utc>,
        reported_by: Option<String>,
        circumstances: Option<String>,
    },
    /// The child is back.
    Return {
        episode_id: Uuid,
        returned_at: DateTime<Utc>,
        found_place: Option<String>,
        found_by: Option<String>,
        found_with: Option<String>,
        interview_offered: bool,
        note: Option<String>,
    },
    /// Who is to do the return home interview.
    Assign {
        episode_id: Uuid,
        agency: AgencyId,
        worker: Option<String>,
    },
    /// The interview, held or declined.
    Interview {
        episode_id: Uuid,
        outcome: InterviewOutcome,
        held_at: DateTime<Utc>,
        by_whom: String,
        where_held: Option<String>,
        child_said: Option<String>,
    },
}

impl App {
    /// Records what the form says about the child of `subject`.
    /// `Ok(Err(sentence))` when the model or the log refuses it (nothing
    /// was written); an episode that is not this child's is refused.
    pub async fn record_missing(
        &self,
        who: &Caller,
        subject: &MissingSubject,
        input: &MissingInput,
    ) -> Result<Result<Uuid, String>, AppError> {
        who.authorise(
            Action::RecordMissing,
            crate::access::Resource::Person {
                recorded_by_agency: &subject.recorded_by_agency,
            },
        )?;
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let ours = |id: &Uuid| subject.episodes.iter().any(|e| e.id == *id);
        let (id, occurred, body) = match input.clone() {
            MissingInput::Report {
                missing_type,
                started_at,
                reported_by,
                circumstances,
            } => {
                let id = Uuid::now_v7();
                (
                    id,
                    OccurredAt::exact(started_at),
                    EventPayload::MissingEpisodeRecorded(MissingEpisodeRecorded {
                        episode_id: id,
                        child_id: subject.child_id,
                        missing_type,
                        started_at: Timestamp::from_utc(started_at),
                        ended_at: None,
                        reported_by,
                        circumstances,
                        placement_id: None,
                    }),
                )
            }
            MissingInput::Return {
                episode_id,
                returned_at,
                found_place,
                found_by,
                found_with,
                interview_offered,
                note,
            } => (
                episode_id,
                OccurredAt::exact(returned_at),
                EventPayload::MissingEpisodeReturned(MissingEpisodeReturned {
                    episode_id,
                    returned_at: Timestamp::from_utc(returned_at),
                    found_location_id: None,
                    return_interview_offered: interview_offered,
                    note,
                    found_place,
                    found_by,
                    found_with_person_id: None,
                    found_with,
                }),
            ),
            MissingInput::Assign {
                episode_id,
                agency,
                worker,
            } => (
                episode_id,
                OccurredAt::exact(now),
                EventPayload::ReturnInterviewAssigned(ReturnInterviewAssigned {
                    episode_id,
                    agency,
                    worker,
                }),
            ),
            MissingInput::Interview {
                episode_id,
                outcome,
                held_at,
                by_whom,
                where_held,
                child_said,
            } => (
                episode_id,
                OccurredAt::exact(held_at),
                EventPayload::ReturnInterviewRecorded(ReturnInterviewRecorded {
                    episode_id,
                    outcome,
                    held_at: Timestamp::from_utc(held_at),
                    by_whom,
                    where_held,
                    child_said,
                }),
            ),
        };
        if !matches!(input, MissingInput::Report { .. }) && !ours(&id) {
            return Ok(Err(
                "Choose one of this child's missing episodes.".to_owned()
            ));
        }
        let draft = match crate::referral::prepare(&actor, &agency, occurred, body, now) {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(id)),
            Some(Err(msg)) => Ok(Err(crate::sentence(&msg))),
            None => Err(AppError::Internal(
                "the missing episode was not written".into(),
            )),
        }
    }
}

/// Most overdue return home interviews listed at once.
pub const OVERDUE_LIMIT: usize = 500;

/// A return home interview not done within 72 hours of the return.
#[derive(Clone, Debug)]
pub struct OverdueInterview {
    pub episode_id: Uuid,
    /// The child, if this user may open their record (else `None`: the
    /// row is shown without a name).
    pub child: Option<PersonLink>,
    pub returned_at: DateTime<Utc>,
    pub deadline: vigil_rules::Deadline,
    /// Who the escalation policy says must be told now.
    pub escalation: vigil_rules::Escalation,
    /// Who is to do it: the agency's name and the worker, if assigned.
    pub assigned: Option<(String, Option<String>)>,
}

/// Every return home interview overdue now (72 clock hours from the
/// return, not held or declined), longest waiting first: an index read of
/// `return_interviews`. For those who see overdue work (the access table's
/// *see overdue referrals*); the children shown are logged as read.
pub async fn overdue_interviews(
    st: &Arc<App>,
    who: &Caller,
) -> Result<super::Authorised<Vec<OverdueInterview>>, AppError> {
    check(who, Action::ViewOverdue, crate::access::Resource::Page)?;
    let who = who.clone();
    st.blocking(move |st| {
        let now = st.now();
        let hours = i64::from(st.rules.timescales().return_interview_hours);
        let cutoff = Timestamp::from_utc(now - chrono::TimeDelta::hours(hours)).to_string();
        let episodes = st.store.interviews_not_done(&cutoff, OVERDUE_LIMIT)?;
        let facts: Vec<(Uuid, MissingEpisodeState)> = episodes
            .iter()
            .filter_map(|r| {
                r.as_kind::<MissingEpisodeState>()
                    .map(|m| (r.id, m.clone()))
            })
            .collect();
        let children = super::people_of(
            st,
            &facts.iter().map(|(_, m)| m.child_id).collect::<Vec<_>>(),
        )?;
        let mut rows = Vec::new();
        for (id, m) in facts {
            let Some(back) = m.ended_at.map(|t| t.as_utc()) else {
                continue;
            };
            let deadline = st.rules.return_interview_due(back);
            if !deadline.is_overdue(now) {
                continue;
            }
            rows.push(OverdueInterview {
                episode_id: id,
                child: children
                    .get(&m.child_id)
                    .and_then(|c| embed(st, &who, c, None)),
                returned_at: back,
                escalation: st.policy.escalation(&deadline, now),
                deadline,
                assigned: m
                    .interview_assigned
                    .as_ref()
                    .map(|a| (super::agency_name(st, a.agency.as_str()), a.worker.clone())),
            });
        }
        let subjects = super::shown_people(rows.iter().filter_map(|r| r.child.as_ref()));
        authorised(
            st,
            &who,
            "listed overdue return home interviews",
            subjects,
            rows,
        )
    })
    .await
}
