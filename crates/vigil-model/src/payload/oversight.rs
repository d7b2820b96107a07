//! Oversight: the warnings Vigil itself raises about work that is late.
//!
//! An escalation is an event, not a flag in a table, so "the system warned
//! the supervisor on 3 March and nobody acted until the 9th" is a provable
//! fact in the log. The rules (vigil-rules) decide *when* work escalates; the
//! projection here makes sure each level is raised once per referral and
//! never after the referral was decided.

use super::{reject, stamp, subject, to_value, Ctx, Kind};
use crate::dates::Date;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

crate::code_list! {
    /// Who has been told that a piece of work is overdue. Ordered: the head
    /// of service is told after the supervisor.
    pub enum EscalationLevel("escalation level") {
        /// Overdue: the supervisor is told.
        Supervisor = "supervisor" => "Supervisor",
        /// Overdue by more than the configured working days: the head of service is told.
        HeadOfService = "head_of_service" => "Head of service",
    }
}

/// `referral.escalated`: a referral was not decided in time and Vigil told
/// the next person up. Raised by Vigil (actor role `system`) when the triage
/// queue is computed or by the server's periodic check, once per level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralEscalated {
    pub referral_id: Uuid,
    pub level: EscalationLevel,
    /// The working day by the end of which the decision was due (UK local date).
    pub due_by: Date,
    /// Working days overdue when the escalation was raised (0 when only a
    /// weekend or holiday has passed since the deadline).
    pub working_days_overdue: u32,
}

impl Kind for ReferralEscalated {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Referral, self.referral_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.due_by
            .check_past("the day the decision was due", cx.now)?;
        if self.working_days_overdue > 10_000 {
            return Err(ModelError::invalid(
                "the number of working days overdue is not believable",
            ));
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.referral_id;
        let rec = p.require(EntityKind::Referral, id)?;
        if rec.state.get("status").and_then(Value::as_str) != Some("awaiting_decision") {
            return Err(reject(format!(
                "referral {id} has been decided, so it cannot be escalated"
            )));
        }
        let level = self.level;
        let already = rec
            .state
            .get("escalation")
            .and_then(Value::as_str)
            .and_then(|c| EscalationLevel::parse(c).ok());
        if let Some(a) = already.filter(|a| *a >= level) {
            return Err(reject(format!(
                "referral {id} was already escalated to the {}",
                a.label().to_lowercase()
            )));
        }
        p.update(EntityKind::Referral, id, |s| {
            let mut e = stamp(h);
            if let Some(m) = e.as_object_mut() {
                m.insert("level".into(), json!(level));
                m.insert("due_by".into(), to_value(&self.due_by)?);
                m.insert(
                    "working_days_overdue".into(),
                    json!(self.working_days_overdue),
                );
            }
            s.insert("escalation".into(), json!(level));
            match s.get_mut("escalations").and_then(Value::as_array_mut) {
                Some(a) => a.push(e),
                None => {
                    s.insert("escalations".into(), json!([e]));
                }
            }
            Ok(())
        })
    }
}
