//! Who must be told about a piece of work, given its deadline and the time.
//!
//! In Rotherham a youth project was "inundated" with referrals and a
//! multi-agency forum with 90+ cases decided to consider fewer of them:
//! work that nobody could do quietly stopped being anybody's. Vigil's answer
//! is that every deadline has an owner and that overdue work **escalates and
//! stays visible until someone acts**: the owner is reminded before the
//! deadline, their supervisor is told the moment it passes, and the head of
//! service once it is more than two working days late.
//!
//! The level is a pure function of the deadline and the time. It never goes
//! down as time passes, so nothing drops off a list by waiting; it stops only
//! when the work is done and the caller stops asking. Each level includes
//! the ones below it: when the supervisor is told, the owner still is.
//!
//! The thresholds are configuration ([`EscalationPolicy`]); the defaults
//! follow Vigil's design and are a local choice, not statute.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::deadlines::{Deadline, DeadlineStatus};

/// How far a piece of work has escalated. Ordered: `None < OwnerReminded <
/// Supervisor < HeadOfService`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// On time and not due soon: nobody needs telling.
    None,
    /// Due today or within the reminder window: the owner is reminded.
    OwnerReminded,
    /// Overdue: the owner's supervisor is told.
    Supervisor,
    /// Overdue by more than the configured number of working days: the head
    /// of service is told.
    HeadOfService,
}

impl Escalation {
    /// The level for `deadline` at `now` under the default
    /// [`EscalationPolicy`]. (Despite the name, it is defined for work that
    /// is not overdue yet too: it then gives `None` or `OwnerReminded`.)
    pub fn for_overdue(deadline: &Deadline, now: DateTime<Utc>) -> Escalation {
        EscalationPolicy::default().escalation(deadline, now)
    }

    /// Who is told at this level, in plain words.
    pub fn who(self) -> &'static str {
        match self {
            Escalation::None => "nobody yet",
            Escalation::OwnerReminded => "the owner",
            Escalation::Supervisor => "the owner and their supervisor",
            Escalation::HeadOfService => "the owner, their supervisor and the head of service",
        }
    }
}

/// When work escalates. Defaults: remind the owner on the day it is due and
/// in the last 2 hours before it is due; the supervisor once overdue; the
/// head of service once overdue by more than 2 working days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Remind the owner when the deadline is at most this many minutes away.
    /// Default 120.
    pub remind_within_minutes: u32,
    /// Remind the owner all through the day the work is due (UK local
    /// date). Default true.
    pub remind_on_due_day: bool,
    /// Tell the head of service when work is overdue by *more than* this
    /// many working days. Default 2.
    pub head_of_service_after_working_days: u32,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            remind_within_minutes: 120,
            remind_on_due_day: true,
            head_of_service_after_working_days: 2,
        }
    }
}

impl EscalationPolicy {
    /// The level for `deadline` at `now`.
    pub fn escalation(&self, deadline: &Deadline, now: DateTime<Utc>) -> Escalation {
        let window = TimeDelta::minutes(i64::from(self.remind_within_minutes));
        match deadline.status(now) {
            DeadlineStatus::Overdue { working_days, .. } => {
                if working_days > i64::from(self.head_of_service_after_working_days) {
                    Escalation::HeadOfService
                } else {
                    Escalation::Supervisor
                }
            }
            DeadlineStatus::DueToday { remaining } => {
                if self.remind_on_due_day || remaining <= window {
                    Escalation::OwnerReminded
                } else {
                    Escalation::None
                }
            }
            DeadlineStatus::OnTime { remaining } => {
                if remaining <= window {
                    Escalation::OwnerReminded
                } else {
                    Escalation::None
                }
            }
        }
    }
}
