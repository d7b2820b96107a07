//! Alerts: a rule of `vigil-rules` met by events in the log, raised as an
//! event (`alert.raised`) so that "the system warned on 3 March and nobody
//! acknowledged it" is a provable fact; then seen, acknowledged with a
//! note, and resolved with a note, each by a person and each an event.
//!
//! Only Vigil raises an alert (the actor's role is `system`); only a person
//! sees, acknowledges or resolves one. An alert's id is derived from the
//! rule and the events that met it (`vigil_rules::alerts::Trigger::alert_id`),
//! so a replay, a restart or a second server raising the same alert is
//! refused here as a duplicate.

use super::{ensure_new, reject, same_child, subject, Ctx, Kind};
use crate::codes::{AlertSeverity, Role};
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{AlertNote, AlertState, Stamp, MAX_ALERT_SEEN};
use crate::text::{check_line, check_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most events one alert cites.
pub const MAX_ALERT_EVENTS: usize = 200;

fn alert_subjects(alert: Uuid, child: Uuid) -> Vec<SubjectRef> {
    vec![
        subject(EntityKind::Person, child),
        subject(EntityKind::Alert, alert),
    ]
}

fn by_system(h: &EventHeader, what: &str) -> Result<(), ProjectionError> {
    if h.actor.role != Role::System {
        return Err(reject(format!("only Vigil's rules {what}")));
    }
    Ok(())
}

fn by_person(h: &EventHeader, what: &str) -> Result<(), ProjectionError> {
    if h.actor.role == Role::System {
        return Err(reject(format!(
            "an alert is {what} by a person, not by Vigil"
        )));
    }
    Ok(())
}

/// `alert.raised`: a rule was met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRaised {
    pub alert_id: Uuid,
    pub rule: String,
    pub severity: AlertSeverity,
    pub child_id: Uuid,
    pub says: String,
    /// The events that met the rule, in log order.
    pub events: Vec<Uuid>,
}

impl Kind for AlertRaised {
    fn subjects(&self) -> Vec<SubjectRef> {
        alert_subjects(self.alert_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_line("the rule's id", &self.rule, 100)?;
        check_text("what the alert says", &self.says, MAX_SHORT_CHARS, true)?;
        if self.events.is_empty() || self.events.len() > MAX_ALERT_EVENTS {
            return Err(ModelError::invalid(format!(
                "an alert cites between 1 and {MAX_ALERT_EVENTS} events"
            )));
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        by_system(h, "raise alerts")?;
        ensure_new(p, self.alert_id)?;
        p.require(EntityKind::Person, self.child_id)?;
        p.create(
            self.alert_id,
            AlertState {
                rule: self.rule.clone(),
                severity: self.severity,
                child_id: self.child_id,
                says: self.says.clone(),
                events: self.events.clone(),
                raised: Stamp::of(h),
                seen_by: Vec::new(),
                acknowledged: None,
                resolved: None,
            },
        )
    }
}

/// `alert.seen`: a person opened the alert (once per person).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSeen {
    pub alert_id: Uuid,
    pub child_id: Uuid,
}

impl Kind for AlertSeen {
    fn subjects(&self) -> Vec<SubjectRef> {
        alert_subjects(self.alert_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        by_person(h, "seen")?;
        same_child::<AlertState>(p, self.alert_id, self.child_id)?;
        let who = h.actor.user.clone();
        p.update(self.alert_id, |s: &mut AlertState| {
            if s.seen_by.contains(&who) {
                return Err(reject(format!("{who} has seen this alert already")));
            }
            if s.seen_by.len() < MAX_ALERT_SEEN {
                s.seen_by.push(who);
            }
            Ok(())
        })
    }
}

/// `alert.acknowledged`: a person took the alert on, and said what they
/// will do (once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertAcknowledged {
    pub alert_id: Uuid,
    pub child_id: Uuid,
    pub note: String,
}

impl Kind for AlertAcknowledged {
    fn subjects(&self) -> Vec<SubjectRef> {
        alert_subjects(self.alert_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("the note", &self.note, MAX_LONG_CHARS, true)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        answer(
            h,
            p,
            self.alert_id,
            self.child_id,
            &self.note,
            Answer::Acknowledged,
        )
    }
}

/// `alert.resolved`: a person closed the alert, saying why (once; it need
/// not have been acknowledged first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertResolved {
    pub alert_id: Uuid,
    pub child_id: Uuid,
    pub note: String,
}

impl Kind for AlertResolved {
    fn subjects(&self) -> Vec<SubjectRef> {
        alert_subjects(self.alert_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("why it is resolved", &self.note, MAX_LONG_CHARS, true)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        answer(
            h,
            p,
            self.alert_id,
            self.child_id,
            &self.note,
            Answer::Resolved,
        )
    }
}

/// A person's answer to an alert, each given once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Acknowledged,
    Resolved,
}

/// Projects `alert.acknowledged` or `alert.resolved`: by a person, about
/// the alert's own child, not after it was resolved, and once each.
fn answer(
    h: &EventHeader,
    p: &mut Projector<'_>,
    alert: Uuid,
    child: Uuid,
    note: &str,
    answer: Answer,
) -> Result<(), ProjectionError> {
    let what = match answer {
        Answer::Acknowledged => "acknowledged",
        Answer::Resolved => "resolved",
    };
    by_person(h, what)?;
    same_child::<AlertState>(p, alert, child)?;
    let note = AlertNote {
        note: note.to_owned(),
        at: Stamp::of(h),
    };
    p.update(alert, |s: &mut AlertState| {
        if s.resolved.is_some() {
            return Err(reject("the alert is resolved already"));
        }
        let slot = match answer {
            Answer::Acknowledged => &mut s.acknowledged,
            Answer::Resolved => &mut s.resolved,
        };
        if slot.is_some() {
            return Err(reject(format!("the alert is {what} already")));
        }
        *slot = Some(note);
        Ok(())
    })
}
