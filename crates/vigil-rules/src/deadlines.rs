//! Statutory timescales and the deadlines they set.
//!
//! The limits come from *Working Together to Safeguard Children* (2023), as
//! summarised in Vigil's DOMAIN.md §5 *(check wording against the current
//! edition: the defaults below are a secondary summary)*. They are
//! configuration ([`Timescales`]), not constants, so a partnership can set
//! its own where local procedures are stricter:
//!
//! | step | default |
//! |---|---|
//! | decision on a referral | 1 working day from receipt |
//! | decision on a referral of a child in immediate danger | the same day (weekends and bank holidays included) |
//! | assessment | 45 working days from the referral |
//! | initial child protection conference | 15 working days from the strategy discussion |
//! | return home interview after a missing episode | 72 hours (clock hours) from the return |
//!
//! # What "due" means
//!
//! A **working-day deadline** of `n` working days falls due at the **end of
//! the `n`th working day after the day of receipt**, in UK local time
//! (Europe/London, see [`crate::london`]). The day of receipt is the UK
//! calendar date on which the referral (or strategy discussion) happened,
//! whatever the time of day, and never counts itself. So, with 1 working day:
//!
//! * received Friday 18:00 → due by the end of Monday;
//! * received Saturday or Sunday → due by the end of Monday;
//! * received the Thursday before Easter → due by the end of Tuesday
//!   (Good Friday and Easter Monday are bank holidays).
//!
//! UK local time rather than UTC, because a referral made at 00:30 on a
//! summer Monday was made on Monday (UTC still says Sunday), and "end of
//! Tuesday" should mean midnight in England, not 01:00. The UK summer-time
//! rule is fixed in law and computed in [`crate::london`], so this costs no
//! time-zone database. A `FixedOffset` was not enough: the offset changes
//! twice a year, and a deadline set in March can fall due in April.
//!
//! A **clock-hour deadline** (the return home interview) falls due exactly
//! that many hours after the event: weekends and bank holidays make no
//! difference, because a child who has come home on Friday night needs the
//! interview by Monday night.
//!
//! [`Deadline::due_at`] is an *exclusive* bound, the instant the deadline
//! passes: for "end of Monday" it is local midnight at the start of Tuesday.
//! Anything done before `due_at` is on time; at `due_at` or later the work
//! is overdue. Use [`Deadline::is_overdue`] rather than comparing by hand.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::london;

/// The statutory timescales, as configuration. The defaults are those of
/// DOMAIN.md §5 *(check wording)*.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timescales {
    /// Working days after the day a referral is received within which the
    /// decision on it is due. Default 1.
    pub referral_decision_working_days: u32,
    /// Working days after the day of referral within which the assessment
    /// is due. Default 45.
    pub assessment_working_days: u32,
    /// Working days after the day of the strategy discussion within which
    /// the initial child protection conference is due. Default 15.
    pub icpc_working_days: u32,
    /// Clock hours after a child's return from a missing episode within
    /// which the return home interview is due. Default 72.
    pub return_interview_hours: u32,
    /// Working days after the day a high alert is raised within which a
    /// person must acknowledge it (then it escalates like late work).
    /// Default 1: "look at it today", and by the next working day at the
    /// latest. A local choice, not statute.
    pub high_alert_working_days: u32,
    /// The same for a medium alert. Default 5: "look at it this week".
    pub medium_alert_working_days: u32,
}

impl Default for Timescales {
    fn default() -> Self {
        Timescales {
            referral_decision_working_days: 1,
            assessment_working_days: 45,
            icpc_working_days: 15,
            return_interview_hours: 72,
            high_alert_working_days: 1,
            medium_alert_working_days: 5,
        }
    }
}

/// Limits on configured timescales, to catch typing mistakes: about ten
/// years of working days, one year of hours.
pub const MAX_WORKING_DAYS: u32 = 2_610;
/// See [`MAX_WORKING_DAYS`].
pub const MAX_HOURS: u32 = 8_784;

/// A configured timescale that cannot be right.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimescaleError {
    /// A working-day limit is over [`MAX_WORKING_DAYS`].
    #[error("the {step} timescale of {value} working days is more than the {max} allowed")]
    TooManyWorkingDays {
        /// Which step.
        step: &'static str,
        /// The configured value.
        value: u32,
        /// The limit.
        max: u32,
    },
    /// The return interview limit is zero or over [`MAX_HOURS`].
    #[error("the return home interview timescale of {value} hours must be between 1 and {max}")]
    BadHours {
        /// The configured value.
        value: u32,
        /// The limit.
        max: u32,
    },
}

impl Timescales {
    /// Checks the values are plausible (see [`MAX_WORKING_DAYS`] and
    /// [`MAX_HOURS`]). A working-day limit of 0 is allowed and means "by the
    /// end of the day of receipt".
    pub fn validate(&self) -> Result<(), TimescaleError> {
        for (step, value) in [
            (Step::ReferralDecision, self.referral_decision_working_days),
            (Step::Assessment, self.assessment_working_days),
            (
                Step::InitialChildProtectionConference,
                self.icpc_working_days,
            ),
            (Step::AlertAcknowledgement, self.high_alert_working_days),
            (Step::AlertAcknowledgement, self.medium_alert_working_days),
        ] {
            if value > MAX_WORKING_DAYS {
                return Err(TimescaleError::TooManyWorkingDays {
                    step: step.label(),
                    value,
                    max: MAX_WORKING_DAYS,
                });
            }
        }
        if self.return_interview_hours == 0 || self.return_interview_hours > MAX_HOURS {
            return Err(TimescaleError::BadHours {
                value: self.return_interview_hours,
                max: MAX_HOURS,
            });
        }
        Ok(())
    }
}

/// The step of work a deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Deciding what to do with a referral.
    ReferralDecision,
    /// Deciding what to do with a referral of a child in immediate danger.
    ImmediateDangerDecision,
    /// Completing an assessment.
    Assessment,
    /// Holding the initial child protection conference.
    InitialChildProtectionConference,
    /// Holding the return home interview after a missing episode.
    ReturnHomeInterview,
    /// Doing an action set on a case (by its worker or a meeting), by the
    /// due date set with it.
    CaseAction,
    /// Acknowledging an alert a rule raised (a person took it on).
    AlertAcknowledgement,
}

impl Step {
    /// The step in plain words, e.g. "decision on a referral".
    pub fn label(self) -> &'static str {
        match self {
            Step::ReferralDecision => "decision on a referral",
            Step::ImmediateDangerDecision => {
                "decision on a referral of a child in immediate danger"
            }
            Step::Assessment => "assessment",
            Step::InitialChildProtectionConference => "initial child protection conference",
            Step::ReturnHomeInterview => "return home interview",
            Step::CaseAction => "action on a case",
            Step::AlertAcknowledgement => "acknowledgement of an alert",
        }
    }
}

/// How a deadline is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// `days` working days; due by the end of `due_day` (UK local date).
    WorkingDays {
        /// The number of working days.
        days: u32,
        /// The working day by the end of which the work is due.
        due_day: NaiveDate,
    },
    /// `hours` clock hours, weekends and holidays included.
    ClockHours {
        /// The number of hours.
        hours: u32,
    },
}

/// When a piece of work is due, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The step the deadline is for.
    pub step: Step,
    /// The instant the deadline passes (exclusive: before it is on time, at
    /// or after it is overdue). For working-day deadlines, local midnight at
    /// the end of the due day.
    pub due_at: DateTime<Utc>,
    /// The rule in plain words, e.g. "1 working day from receipt". A
    /// `String` rather than `&'static str` because timescales are
    /// configurable and the words must match the number.
    pub basis: String,
    /// True when the working days counted run past the end (or before the
    /// start) of the bank holiday list: the deadline was computed from
    /// weekends alone there and may be a day or two late. Show it, and
    /// refresh the calendar.
    pub calendar_incomplete: bool,
    /// Working days or clock hours.
    pub measure: Measure,
    calendar: Arc<WorkingCalendar>,
}

/// Where a piece of work stands against its deadline at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeadlineStatus {
    /// Due on a later day.
    OnTime {
        /// Time left until the deadline passes.
        remaining: TimeDelta,
    },
    /// Due later today (UK local date), not yet passed.
    DueToday {
        /// Time left until the deadline passes.
        remaining: TimeDelta,
    },
    /// The deadline has passed.
    Overdue {
        /// How long ago it passed.
        by: TimeDelta,
        /// Working days that have begun since the day it was due, counting
        /// today if today is a working day: due by the end of Monday and now
        /// Wednesday is 2. Zero when only a weekend or holiday has passed.
        working_days: i64,
    },
}

impl Deadline {
    /// The UK local date on which the deadline falls.
    pub fn due_date(&self) -> NaiveDate {
        match self.measure {
            Measure::WorkingDays { due_day, .. } => due_day,
            Measure::ClockHours { .. } => london::local_date(last_instant(self.due_at)),
        }
    }

    /// The calendar the deadline was computed with.
    pub fn calendar(&self) -> &WorkingCalendar {
        &self.calendar
    }

    /// Whether the deadline has passed at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        now >= self.due_at
    }

    /// Where the work stands at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> DeadlineStatus {
        let today = london::local_date(now);
        if self.is_overdue(now) {
            DeadlineStatus::Overdue {
                by: now.signed_duration_since(self.due_at),
                working_days: self
                    .calendar
                    .working_days_between(self.due_date(), today)
                    .max(0),
            }
        } else {
            let remaining = self.due_at.signed_duration_since(now);
            if today == self.due_date() {
                DeadlineStatus::DueToday { remaining }
            } else {
                DeadlineStatus::OnTime { remaining }
            }
        }
    }

    /// The deadline in plain English at `now`: "due by end of Monday 6
    /// January", "due today (by end of Monday 6 January)", "overdue by 2
    /// working days (was due by end of Friday 3 January)". The year is shown
    /// only when it is not the current one.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let year = london::local_date(now).year();
        let when = match self.measure {
            Measure::WorkingDays { due_day, .. } => {
                format!("end of {}", london::format_date(due_day, year))
            }
            Measure::ClockHours { .. } => {
                let local = london::local_datetime(self.due_at);
                format!(
                    "{} on {}",
                    local.format("%H:%M"),
                    london::format_date(local.date(), year)
                )
            }
        };
        match self.status(now) {
            DeadlineStatus::OnTime { .. } => format!("due by {when}"),
            DeadlineStatus::DueToday { .. } => format!("due today (by {when})"),
            DeadlineStatus::Overdue { by, working_days } => match self.measure {
                Measure::WorkingDays { .. } if working_days >= 1 => format!(
                    "overdue by {} (was due by {when})",
                    plural(working_days, "working day")
                ),
                Measure::WorkingDays { .. } => format!("overdue since {when}"),
                Measure::ClockHours { .. } => {
                    format!("overdue by {} (was due by {when})", elapsed(by))
                }
            },
        }
    }
}

fn last_instant(exclusive: DateTime<Utc>) -> DateTime<Utc> {
    exclusive
        .checked_sub_signed(TimeDelta::nanoseconds(1))
        .unwrap_or(exclusive)
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// "25 minutes", "5 hours", "3 days".
fn elapsed(by: TimeDelta) -> String {
    if by < TimeDelta::hours(1) {
        plural(by.num_minutes().max(1), "minute")
    } else if by < TimeDelta::hours(48) {
        plural(by.num_hours(), "hour")
    } else {
        plural(by.num_days(), "day")
    }
}

/// Timescales together with the calendar they are counted on: the thing that
/// computes deadlines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlineRules {
    timescales: Timescales,
    calendar: Arc<WorkingCalendar>,
}

impl DeadlineRules {
    /// Rules from configured timescales and a calendar.
    pub fn new(
        timescales: Timescales,
        calendar: Arc<WorkingCalendar>,
    ) -> Result<Self, TimescaleError> {
        timescales.validate()?;
        Ok(DeadlineRules {
            timescales,
            calendar,
        })
    }

    /// The default timescales on the shipped England and Wales calendar,
    /// built once per process.
    pub fn standard() -> &'static DeadlineRules {
        static STANDARD: OnceLock<DeadlineRules> = OnceLock::new();
        STANDARD.get_or_init(|| DeadlineRules {
            timescales: Timescales::default(),
            calendar: Arc::new(WorkingCalendar::england_and_wales()),
        })
    }

    /// The timescales in use.
    pub fn timescales(&self) -> &Timescales {
        &self.timescales
    }

    /// The calendar in use.
    pub fn calendar(&self) -> &Arc<WorkingCalendar> {
        &self.calendar
    }

    /// The decision on a referral received at `received_at`.
    pub fn referral_decision_due(&self, received_at: DateTime<Utc>) -> Deadline {
        let n = self.timescales.referral_decision_working_days;
        self.working_days(Step::ReferralDecision, received_at, n, "from receipt")
    }

    /// The decision on a referral of a child in immediate danger received
    /// at `received_at`: by the end of the same day (UK local date),
    /// whatever day it is. A child in danger on a Saturday or a bank
    /// holiday is in danger that day; the out-of-hours service answers.
    pub fn immediate_danger_decision_due(&self, received_at: DateTime<Utc>) -> Deadline {
        let day = london::local_date(received_at);
        Deadline {
            step: Step::ImmediateDangerDecision,
            due_at: london::end_of_day(day),
            basis: "the same day (the child is in immediate danger)".into(),
            calendar_incomplete: false,
            measure: Measure::WorkingDays {
                days: 0,
                due_day: day,
            },
            calendar: Arc::clone(&self.calendar),
        }
    }

    /// The decision on a referral: [`Self::immediate_danger_decision_due`]
    /// when the referrer said the child is in immediate danger, otherwise
    /// [`Self::referral_decision_due`]. Every queue and page asks this.
    pub fn referral_decision_due_for(
        &self,
        received_at: DateTime<Utc>,
        immediate_danger: bool,
    ) -> Deadline {
        if immediate_danger {
            self.immediate_danger_decision_due(received_at)
        } else {
            self.referral_decision_due(received_at)
        }
    }

    /// The assessment following a referral received at `referral_received`.
    pub fn assessment_due(&self, referral_received: DateTime<Utc>) -> Deadline {
        let n = self.timescales.assessment_working_days;
        self.working_days(Step::Assessment, referral_received, n, "from referral")
    }

    /// The initial child protection conference after a strategy discussion
    /// held at `strategy_discussion`.
    pub fn icpc_due(&self, strategy_discussion: DateTime<Utc>) -> Deadline {
        let n = self.timescales.icpc_working_days;
        self.working_days(
            Step::InitialChildProtectionConference,
            strategy_discussion,
            n,
            "from the strategy discussion",
        )
    }

    /// The return home interview for a child who returned at `returned_at`:
    /// clock hours, weekends and holidays included.
    pub fn return_interview_due(&self, returned_at: DateTime<Utc>) -> Deadline {
        let hours = self.timescales.return_interview_hours;
        let due_at = returned_at
            .checked_add_signed(TimeDelta::hours(i64::from(hours)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Deadline {
            step: Step::ReturnHomeInterview,
            due_at,
            basis: format!("{} from return", plural(i64::from(hours), "hour")),
            calendar_incomplete: false,
            measure: Measure::ClockHours { hours },
            calendar: Arc::clone(&self.calendar),
        }
    }

    /// An action on a case: due by the end of `due_day` (UK local date), the
    /// date set with it, so it is overdue from the next morning's midnight
    /// and escalates by the same policy as referrals.
    pub fn case_action_due(&self, due_day: NaiveDate) -> Deadline {
        Deadline {
            step: Step::CaseAction,
            due_at: london::end_of_day(due_day),
            basis: "by the date set with the action".to_owned(),
            calendar_incomplete: !self.calendar.covers(due_day, due_day),
            measure: Measure::WorkingDays { days: 0, due_day },
            calendar: Arc::clone(&self.calendar),
        }
    }

    /// Acknowledging an alert of `severity` raised at `raised_at`: the
    /// working days configured for the severity, after the day it was
    /// raised. Unacknowledged past it, the alert escalates by the same
    /// policy as late work (the supervisor, then the head of service).
    pub fn alert_acknowledgement_due(
        &self,
        severity: vigil_model::codes::AlertSeverity,
        raised_at: DateTime<Utc>,
    ) -> Deadline {
        use vigil_model::codes::AlertSeverity;
        let n = match severity {
            AlertSeverity::High => self.timescales.high_alert_working_days,
            AlertSeverity::Medium => self.timescales.medium_alert_working_days,
        };
        self.working_days(Step::AlertAcknowledgement, raised_at, n, "from the alert")
    }

    fn working_days(&self, step: Step, from: DateTime<Utc>, days: u32, after: &str) -> Deadline {
        let start_day = london::local_date(from);
        let due_day = self
            .calendar
            .checked_add_working_days(start_day, days)
            .unwrap_or(NaiveDate::MAX);
        Deadline {
            step,
            due_at: london::end_of_day(due_day),
            basis: format!("{} {after}", plural(i64::from(days), "working day")),
            calendar_incomplete: !self.calendar.covers(start_day, due_day),
            measure: Measure::WorkingDays { days, due_day },
            calendar: Arc::clone(&self.calendar),
        }
    }
}

/// [`DeadlineRules::referral_decision_due`] with the standard rules.
pub fn referral_decision_due(received_at: DateTime<Utc>) -> Deadline {
    DeadlineRules::standard().referral_decision_due(received_at)
}

/// [`DeadlineRules::assessment_due`] with the standard rules.
pub fn assessment_due(referral_received: DateTime<Utc>) -> Deadline {
    DeadlineRules::standard().assessment_due(referral_received)
}

/// [`DeadlineRules::icpc_due`] with the standard rules.
pub fn icpc_due(strategy_discussion: DateTime<Utc>) -> Deadline {
    DeadlineRules::standard().icpc_due(strategy_discussion)
}

/// [`DeadlineRules::case_action_due`] with the standard rules.
pub fn case_action_due(due_day: NaiveDate) -> Deadline {
    DeadlineRules::standard().case_action_due(due_day)
}

/// [`DeadlineRules::return_interview_due`] with the standard rules.
pub fn return_interview_due(returned_at: DateTime<Utc>) -> Deadline {
    DeadlineRules::standard().return_interview_due(returned_at)
}
