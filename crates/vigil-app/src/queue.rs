//! The triage queue: every referral awaiting a decision, its deadline, and
//! the escalations the deadline calls for.
//!
//! The arithmetic is vigil-rules': a decision is due by the end of the first
//! working day after receipt (England and Wales bank holidays), or by the
//! end of the same day when the child is in immediate danger; "overdue"
//! means that moment has passed, and the escalation policy says who must be
//! told. This module orders the queue (a child in immediate danger first,
//! then oldest deadline first, then oldest received, then reference) and turns each escalation that is due and not
//! yet recorded into a `referral.escalated` event, so that the log proves
//! the supervisor was told, and when. Escalations are raised once per level:
//! the projection refuses a level already raised, so two servers computing
//! the queue at once cannot raise it twice either.

use crate::readmodel::ReferralView;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use vigil_model::codes::{AgencyId, Role};
use vigil_model::dates::Date;
use vigil_model::payload::{EscalationLevel, ReferralEscalated};
use vigil_model::{Actor, EventDraft, EventPayload, OccurredAt};
use vigil_rules::{Deadline, DeadlineRules, DeadlineStatus, Escalation, EscalationPolicy};

/// A referral in the queue with where it stands.
#[derive(Clone, Debug)]
pub struct QueueItem {
    pub referral: Arc<ReferralView>,
    pub deadline: Deadline,
    pub status: DeadlineStatus,
    /// The deadline in words at the time the queue was computed.
    pub describe: String,
    pub escalation: Escalation,
}

impl QueueItem {
    pub fn overdue(&self) -> bool {
        matches!(self.status, DeadlineStatus::Overdue { .. })
    }

    pub fn due_today(&self) -> bool {
        matches!(self.status, DeadlineStatus::DueToday { .. })
    }

    /// The escalation level the rules call for now, as recorded in the log.
    pub fn level_due(&self) -> Option<EscalationLevel> {
        match self.escalation {
            Escalation::Supervisor => Some(EscalationLevel::Supervisor),
            Escalation::HeadOfService => Some(EscalationLevel::HeadOfService),
            Escalation::None | Escalation::OwnerReminded => None,
        }
    }
}

/// Orders the referrals awaiting a decision and works out where each stands at `now`.
pub fn compute(
    awaiting: Vec<Arc<ReferralView>>,
    rules: &DeadlineRules,
    policy: &EscalationPolicy,
    now: DateTime<Utc>,
) -> Vec<QueueItem> {
    let mut items: Vec<QueueItem> = awaiting
        .into_iter()
        .filter(|r| r.awaiting_decision())
        .map(|r| {
            let deadline = r.decision_due(rules);
            let status = deadline.status(now);
            QueueItem {
                describe: deadline.describe(now),
                escalation: policy.escalation(&deadline, now),
                status,
                deadline,
                referral: r,
            }
        })
        .collect();
    // A child in immediate danger first, whatever the other deadlines.
    items.sort_by(|a, b| {
        b.referral
            .immediate_danger
            .cmp(&a.referral.immediate_danger)
            .then(a.deadline.due_at.cmp(&b.deadline.due_at))
            .then(
                a.referral
                    .submitted
                    .first_recorded()
                    .cmp(&b.referral.submitted.first_recorded()),
            )
            .then(a.referral.id.cmp(&b.referral.id))
    });
    items
}

/// Who Vigil's own events are recorded as.
pub fn system_actor() -> (Actor, AgencyId) {
    (
        Actor {
            user: "vigil".into(),
            role: Role::System,
        },
        AgencyId::new("vigil").expect("'vigil' is a valid agency id"),
    )
}

/// The `referral.escalated` events the queue calls for and the log lacks.
pub fn escalations_due(items: &[QueueItem], now: DateTime<Utc>) -> Vec<EventDraft> {
    let (actor, agency) = system_actor();
    let mut out = Vec::new();
    for item in items {
        let Some(level) = item.level_due() else {
            continue;
        };
        if item.referral.escalation.is_some_and(|have| have >= level) {
            continue;
        }
        let DeadlineStatus::Overdue { working_days, .. } = item.status else {
            continue;
        };
        let body = EventPayload::ReferralEscalated(ReferralEscalated {
            referral_id: item.referral.id,
            level,
            due_by: Date::new(item.deadline.due_date()),
            working_days_overdue: u32::try_from(working_days).unwrap_or(u32::MAX),
        });
        // When the deadline passed: the moment the escalation became due.
        let occurred = OccurredAt::exact(item.deadline.due_at.min(now));
        if let Ok(d) = crate::referral::prepare(&actor, &agency, occurred, body, now) {
            out.push(d);
        }
    }
    out
}
