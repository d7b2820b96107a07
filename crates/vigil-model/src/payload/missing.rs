//! The return home interview after a missing episode:
//! `return_interview.assigned` (who is to do it) and
//! `return_interview.recorded` (done: what the child said, where, by whom;
//! or declined by the child, which still counts as offered). Both are about
//! the episode; the interview is due within 72 clock hours of the return
//! (`vigil_rules::deadlines::return_interview_due`).
//!
//! Older logs recorded interviews as a `meeting.recorded` of kind
//! `return_home_interview`; those stay readable and count as held.

use super::{reject, subject, Ctx, Kind};
use crate::codes::{AgencyId, InterviewOutcome};
use crate::dates::Timestamp;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{
    EpisodeStatus, InterviewAssignment, InterviewRecord, MissingEpisodeState, Stamp,
};
use crate::text::{
    check_line, check_opt_line, check_opt_text, check_user_id, MAX_LONG_CHARS, MAX_SHORT_CHARS,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `return_interview.assigned`: who is to do the return home interview for
/// a missing episode (an agency, and a worker when one is named). A later
/// assignment replaces an earlier one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInterviewAssigned {
    pub episode_id: Uuid,
    pub agency: AgencyId,
    /// The worker's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
}

impl Kind for ReturnInterviewAssigned {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::MissingEpisode, self.episode_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if let Some(w) = &self.worker {
            check_user_id("the worker's user id", w)?;
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.episode_id;
        p.update(id, |s: &mut MissingEpisodeState| {
            if !s.interviews_recorded.is_empty() || !s.return_interviews.is_empty() {
                return Err(reject(format!(
                    "the return home interview for episode {id} is already recorded"
                )));
            }
            s.interview_assigned = Some(InterviewAssignment {
                agency: self.agency.clone(),
                worker: self.worker.clone(),
                recorded: Stamp::of(h),
            });
            Ok(())
        })
    }
}

/// `return_interview.recorded`: the return home interview was held (what
/// the child said, where, by whom) or the child declined it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnInterviewRecorded {
    pub episode_id: Uuid,
    pub outcome: InterviewOutcome,
    /// When it was held (or offered and declined).
    pub held_at: Timestamp,
    /// Who did it ("Sam Patel, youth worker").
    pub by_whom: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub where_held: Option<String>,
    /// What the child said. Required when held; may be given when declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_said: Option<String>,
}

impl Kind for ReturnInterviewRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::MissingEpisode, self.episode_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.held_at
            .check_past("the time of the return home interview", cx.now)?;
        check_line("who did the interview", &self.by_whom, MAX_SHORT_CHARS)?;
        check_opt_line("where it was held", &self.where_held, MAX_SHORT_CHARS)?;
        if self.outcome == InterviewOutcome::Held
            && self
                .child_said
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
        {
            return Err(ModelError::invalid(
                "write what the child said in the interview (or record that they declined it)",
            ));
        }
        check_opt_text("what the child said", &self.child_said, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.episode_id;
        p.update(id, |s: &mut MissingEpisodeState| {
            if s.status != EpisodeStatus::Returned {
                return Err(reject(format!(
                    "the child has not been recorded as returned from episode {id}; record the return before the return home interview"
                )));
            }
            if s.ended_at.is_some_and(|end| self.held_at < end) {
                return Err(reject(
                    "the return home interview is before the child's return; check the time",
                ));
            }
            s.interviews_recorded.push(InterviewRecord {
                outcome: self.outcome,
                held_at: self.held_at,
                by_whom: self.by_whom.clone(),
                where_held: self.where_held.clone(),
                child_said: self.child_said.clone(),
                recorded: Stamp::of(h),
            });
            Ok(())
        })
    }
}
