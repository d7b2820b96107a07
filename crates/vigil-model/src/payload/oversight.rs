//! Oversight: the warnings Vigil itself raises about work that is late, and
//! the anchoring of the access log in the ledger.
//!
//! An escalation is an event, not a flag in a table, so "the system warned
//! the supervisor on 3 March and nobody acted until the 9th" is a provable
//! fact in the log. The rules (vigil-rules) decide *when* work escalates; the
//! projection here makes sure each level is raised once per referral and
//! never after the referral was decided.
//!
//! The access log (who read which child's record) is a hash chain kept
//! beside the ledger. A chain shows a changed or removed row, but not rows
//! cut off its end; so Vigil periodically writes the chain's length and last
//! hash into the signed ledger (`access_log.checkpointed`), and verification
//! checks the chain still reaches every anchored point.

use super::{reject, subject, Ctx, Kind};
use crate::dates::Date;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{AccessLogState, Escalation, ReferralState, ReferralStatus, Stamp};
use serde::{Deserialize, Serialize};
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
        let level = self.level;
        p.update(id, |s: &mut ReferralState| {
            if s.status != ReferralStatus::AwaitingDecision {
                return Err(reject(format!(
                    "referral {id} has been decided, so it cannot be escalated"
                )));
            }
            if let Some(a) = s.escalation.filter(|a| *a >= level) {
                return Err(reject(format!(
                    "referral {id} was already escalated to the {}",
                    a.label().to_lowercase()
                )));
            }
            let stamp = Stamp::of(h);
            s.escalations.push(Escalation {
                at: stamp.at,
                by: stamp.by,
                agency: stamp.agency,
                event_id: stamp.event_id,
                level,
                due_by: self.due_by,
                working_days_overdue: self.working_days_overdue,
            });
            s.escalation = Some(level);
            Ok(())
        })
    }
}

/// The id of the one access-log entity (the anchor state in the projections):
/// the first 16 bytes of SHA-256(`vigil access log`), as a version 8 UUID.
pub fn access_log_id() -> Uuid {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(b"vigil access log");
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

/// `access_log.checkpointed`: the access log had `rows` rows and its last
/// row's hash was `head_sha256` (64 zeros for an empty log). Raised by Vigil
/// (actor role `system`). Anchors never go back: a later checkpoint has at
/// least as many rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogCheckpointed {
    pub rows: u64,
    /// Lower-case hex SHA-256 of row `rows - 1`.
    pub head_sha256: String,
}

impl Kind for AccessLogCheckpointed {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::AccessLog, access_log_id())]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        let h = &self.head_sha256;
        if h.len() != 64
            || !h
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ModelError::invalid(
                "the access log's head must be a SHA-256 written as 64 lower-case hex digits",
            ));
        }
        if self.rows == 0 && h.bytes().any(|b| b != b'0') {
            return Err(ModelError::invalid(
                "an empty access log has no head: write 64 zeros",
            ));
        }
        if self.rows > (1u64 << 53) {
            return Err(ModelError::invalid(
                "the number of access-log rows is not believable",
            ));
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = access_log_id();
        let anchor = AccessLogState {
            rows: self.rows,
            head_sha256: self.head_sha256.clone(),
            checkpointed: Stamp::of(h),
        };
        match p.kind_of(id)? {
            Some(_) => p.update(id, |s: &mut AccessLogState| {
                if self.rows < s.rows {
                    return Err(reject(format!(
                        "the access log was anchored at {} rows; a checkpoint cannot go back to {}",
                        s.rows, self.rows
                    )));
                }
                *s = anchor;
                Ok(())
            }),
            None => p.create(id, anchor),
        }
    }
}
