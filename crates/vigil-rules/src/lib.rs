//! # vigil-rules: the rules Vigil applies to records
//!
//! This crate holds the logic that turns "when did this happen" into "when
//! is the next thing due, and who must be told":
//!
//! * [`calendar`]: the England and Wales working-day calendar, with the
//!   published bank holidays shipped as data (2018 to 2028, refresh yearly;
//!   administrators can extend it);
//! * [`deadlines`]: the statutory timescales of *Working Together to
//!   Safeguard Children* as configuration, and the deadlines they set, with a
//!   precise meaning of "due" (end of the Nth working day after the day of
//!   receipt, in UK local time) and plain-English descriptions;
//! * [`escalation`]: who is told as a deadline nears and passes (owner,
//!   supervisor, head of service), so overdue work stays visible until
//!   someone acts;
//! * [`london`]: UK civil time, computed from the fixed summer-time rule;
//! * [`missing`]: where a return home interview stands (72 clock hours
//!   from the return, escalated like a referral), missing episodes per
//!   month and the pattern of where a child was found and who with;
//! * [`closure`]: when closing a case needs a supervisor's sign-off (open
//!   actions, active indicators, a recent missing episode);
//! * [`agenda`]: which open cases the monthly multi-agency exploitation
//!   meeting should discuss and why (high risk, risk raised, missing since
//!   the last meeting, overdue actions, a closure waiting), most urgent
//!   first; the criteria are a struct with defaults;
//! * [`stability`]: placements and workers that overlap the last twelve
//!   months;
//! * [`screening`]: the overall risk of sexual exploitation (low, medium,
//!   high) a CSE screening's answers support, from the indicators alone;
//! * [`language`]: wording in free text that blames or criminalises an
//!   exploited child, with why it harms and what to write instead (the
//!   professional language guidance, DOMAIN.md section 9).
//!
//! * [`alerts`]: alert rules (a TOML file, checked with errors that name
//!   the line) and the evaluator that says when the facts recorded meet
//!   one, with an id derived from the rule and the events that met it.
//!
//! It is pure logic: no file, network or database I/O and no clock reads.
//! Callers pass "now" in, which makes every rule testable at any moment,
//! including the Thursday before Easter or the day of a state funeral. Among
//! Vigil's crates it depends only on `vigil-model` (for the code lists the
//! rules read): rules decide what a record means, and must not reach into storage,
//! the web layer or the ledger, so they can be reviewed and tested on their
//! own.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use vigil_rules::deadlines::referral_decision_due;
//!
//! // Received on the Thursday before Good Friday 2025, at 4 pm.
//! let received = Utc.with_ymd_and_hms(2025, 4, 17, 15, 0, 0).unwrap();
//! let deadline = referral_decision_due(received);
//! assert_eq!(deadline.describe(received), "due by end of Tuesday 22 April");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agenda;
pub mod alerts;
pub mod calendar;
pub mod closure;
pub mod deadlines;
pub mod escalation;
pub mod language;
pub mod london;
pub mod missing;
pub mod screening;
pub mod stability;

pub use calendar::{CalendarError, Holiday, WorkingCalendar};
pub use deadlines::{
    Deadline, DeadlineRules, DeadlineStatus, Measure, Step, TimescaleError, Timescales,
};
pub use escalation::{Escalation, EscalationPolicy};
