//! Screening a child for sexual exploitation: `screening.recorded`.
//!
//! A screening is the structured checklist of [`Indicator`]s (DOMAIN.md
//! section 8), each answered yes, no or not known, a *yes* with the day it
//! was known and its source (who said it, or which record shows it); the
//! overall risk the answers support, as the risk rule computed it when the
//! screening was recorded (`vigil_rules::screening`, named in the event so
//! a later change of rule never rewrites what was recorded); and the
//! practitioner's own judgement of the risk, which may differ from the
//! rule's and then needs a reason. When the screening was done is the
//! event's occurred-at.
//!
//! The model cannot compute the supported risk itself (the rule lives in
//! vigil-rules, which depends on this crate); the application layer does,
//! and the payload keeps both levels side by side, so the chronology shows
//! where professional judgement and the checklist parted.

use super::{ensure_new, reject, same_child, subject, Ctx, Kind};
use crate::codes::{Indicator, RiskLevel, ScreeningAnswer};
use crate::dates::Date;
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{ReferralState, ScreeningState, Stamp};
use crate::text::{check_line, check_opt_line, check_opt_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One indicator's answer, with when it was known and who or what said so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorAnswer {
    pub indicator: Indicator,
    pub answer: ScreeningAnswer,
    /// The day it was known. Required for *yes*; may be given for *no*;
    /// never for *not known*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_on: Option<Date>,
    /// Who said it, or which record shows it ("foster carer, by phone",
    /// "referral REF-7K3M-9Q2P"). Required for *yes*; may be given for
    /// *no*; never for *not known*.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Longest name of a risk rule.
const MAX_RULE_CHARS: usize = 100;

/// `screening.recorded`: a CSE screening of a child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRecorded {
    pub screening_id: Uuid,
    pub child_id: Uuid,
    /// The case it was done for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// The referral it was done for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    /// Every indicator, once each, in any order.
    pub answers: Vec<IndicatorAnswer>,
    /// The risk the answers support, as `risk_rule` computed it.
    pub supported_risk: RiskLevel,
    /// The rule that computed it, with its version (`vigil-cse-screening-1`).
    pub risk_rule: String,
    /// The practitioner's judgement of the risk.
    pub judged_risk: RiskLevel,
    /// Why the judgement differs from the supported risk: required when it
    /// does, and may be given when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl IndicatorAnswer {
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        let what = self.indicator.label();
        match self.answer {
            ScreeningAnswer::Yes => {
                if self.known_on.is_none() {
                    return Err(ModelError::invalid(format!(
                        "say when it was known that the answer to \u{201c}{what}\u{201d} is yes"
                    )));
                }
                if self.source.is_none() {
                    return Err(ModelError::invalid(format!(
                        "say who said or which record shows that the answer to \u{201c}{what}\u{201d} is yes"
                    )));
                }
            }
            ScreeningAnswer::No => {}
            ScreeningAnswer::NotKnown => {
                if self.known_on.is_some() || self.source.is_some() {
                    return Err(ModelError::invalid(format!(
                        "\u{201c}{what}\u{201d} is answered not known, so it has no date or source: answer yes or no, or leave them empty"
                    )));
                }
            }
        }
        if let Some(d) = &self.known_on {
            d.check_past(&format!("the day \u{201c}{what}\u{201d} was known"), cx.now)?;
            if let Ok(done) = crate::dates::latest_day(&cx.occurred.value, cx.occurred.precision) {
                if d.naive() > done {
                    return Err(ModelError::invalid(format!(
                        "the day \u{201c}{what}\u{201d} was known ({d}) is after the screening ({done})"
                    )));
                }
            }
        }
        check_opt_line(
            &format!("the source of \u{201c}{what}\u{201d}"),
            &self.source,
            MAX_SHORT_CHARS,
        )
    }
}

/// Checks a screening's answers: every indicator once, each consistent.
fn check_answers(answers: &[IndicatorAnswer], cx: &Ctx<'_>) -> Result<(), ModelError> {
    let mut seen = std::collections::BTreeSet::new();
    for a in answers {
        if !seen.insert(a.indicator) {
            return Err(ModelError::invalid(format!(
                "the indicator \u{201c}{}\u{201d} is answered twice",
                a.indicator.label()
            )));
        }
    }
    let missing: Vec<&str> = Indicator::ALL
        .iter()
        .filter(|i| !seen.contains(i))
        .map(|i| i.label())
        .collect();
    if !missing.is_empty() {
        return Err(ModelError::invalid(format!(
            "every indicator needs an answer (yes, no or not known); not answered: {}",
            missing.join("; ")
        )));
    }
    answers.iter().try_for_each(|a| a.validate(cx))
}

impl Kind for ScreeningRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![
            subject(EntityKind::Screening, self.screening_id),
            subject(EntityKind::Person, self.child_id),
        ];
        v.extend(self.case_id.map(|id| subject(EntityKind::Case, id)));
        v.extend(self.referral_id.map(|id| subject(EntityKind::Referral, id)));
        v
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        // The count first: a hostile list of a million answers is refused
        // before it is walked.
        if self.answers.len() > Indicator::ALL.len() * 2 {
            return Err(ModelError::invalid(format!(
                "a screening has {} indicators; {} answers were given",
                Indicator::ALL.len(),
                self.answers.len()
            )));
        }
        check_answers(&self.answers, cx)?;
        check_line("the risk rule", &self.risk_rule, MAX_RULE_CHARS)?;
        check_opt_text("the reason", &self.reason, MAX_LONG_CHARS)?;
        if self.judged_risk != self.supported_risk && self.reason.is_none() {
            return Err(ModelError::invalid(format!(
                "the answers support a {} risk and the judgement is {}: say why they differ",
                self.supported_risk.label().to_lowercase(),
                self.judged_risk.label().to_lowercase()
            )));
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        ensure_new(p, self.screening_id)?;
        p.require(EntityKind::Person, self.child_id)?;
        if let Some(c) = self.case_id {
            super::casework::case_about(p, c, self.child_id)?;
        }
        if let Some(r) = self.referral_id {
            same_child::<ReferralState>(p, r, self.child_id)?;
        }
        let mut answers = self.answers.clone();
        answers.sort_by_key(|a| a.indicator);
        if answers.len() != Indicator::ALL.len() {
            return Err(reject("a screening must answer every indicator once"));
        }
        p.create(
            self.screening_id,
            ScreeningState {
                child_id: self.child_id,
                case_id: self.case_id,
                referral_id: self.referral_id,
                answers,
                supported_risk: self.supported_risk,
                risk_rule: self.risk_rule.clone(),
                judged_risk: self.judged_risk,
                reason: self.reason.clone(),
                done: h.occurred_at.clone(),
                recorded: Stamp::of(h),
            },
        )
    }
}
