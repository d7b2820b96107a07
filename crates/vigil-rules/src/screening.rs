//! The overall risk of sexual exploitation that a screening's answers
//! support: low, medium or high, from the indicators of DOMAIN.md section 8
//! (the one list is `vigil_model::codes::Indicator`).
//!
//! CSE tools grade overall risk low / medium / high; how is each tool's own
//! choice, and so is this one. Each indicator has one weight
//! ([`weight`], exhaustive, so a new indicator does not compile until it is
//! given one):
//!
//! - **a sign of exploitation** (an older "boyfriend" or controlling adults,
//!   getting into cars with unknown adults, sexual-health signs such as an
//!   infection or pregnancy, a disclosure then withdrawn): one is enough for
//!   a **high** risk;
//! - **a warning sign** (going missing, coming back late or intoxicated, an
//!   older peer group, exploited peers, unexplained gifts, hotspots,
//!   injuries, sexualised behaviour, concerning online contact): one makes
//!   the risk at least **medium**; [`HIGH_WARNING_SIGNS`] or more make it
//!   **high**;
//! - **a vulnerability** (substance misuse, self-harm, school absence,
//!   isolation, being looked after, a learning disability, earlier abuse):
//!   it makes a child more vulnerable rather than showing exploitation;
//!   [`MEDIUM_VULNERABILITIES`] or more make the risk at least **medium**.
//!
//! Only *yes* counts. *Not known* neither raises nor lowers the risk (the
//! page says how many were not known, so a low risk from an unanswered
//! checklist is not mistaken for a reassuring one), and *no* is no.
//!
//! The rule is a decision aid: the practitioner records their own judgement
//! beside it, with a reason when it differs. The supported risk is written
//! into the `screening.recorded` event with [`RULE`], the rule's name and
//! version, so changing the weights or thresholds (bump [`RULE`] with them)
//! never changes what an earlier screening was recorded as supporting.
//!
//! **What it never reads.** Ethnicity, nationality, religion and sex are
//! never inputs to a risk score. The function's only input is
//! [`ScreeningAnswers`]: a map from an indicator to an answer, both closed
//! code lists, and nothing else; no person, no record, no free text. The
//! tests hold that shape (the signature, the single field and its type) and
//! that no protected characteristic's code is an indicator.

use std::collections::BTreeMap;
use vigil_model::codes::{Indicator, RiskLevel, ScreeningAnswer};
use vigil_model::payload::IndicatorAnswer;

/// The name and version of this rule, as recorded with each screening.
pub const RULE: &str = "vigil-cse-screening-1";

/// Warning signs answered yes that make the risk high on their own.
pub const HIGH_WARNING_SIGNS: usize = 4;

/// Vulnerabilities answered yes that make the risk at least medium.
pub const MEDIUM_VULNERABILITIES: usize = 3;

/// What an indicator says about a child's risk (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    /// Makes a child more vulnerable to exploitation.
    Vulnerability,
    /// A sign that exploitation may be happening.
    WarningSign,
    /// A sign of exploitation: high on its own.
    Exploitation,
}

/// The weight of each indicator.
pub fn weight(i: Indicator) -> Weight {
    use Indicator::*;
    match i {
        OlderPartner | CarsWithAdults | SexualHealth | DisclosureWithdrawn => Weight::Exploitation,
        Missing | ReturnsLate | OlderPeers | PeersExploited | UnexplainedGifts | Hotspots
        | Injuries | SexualisedBehaviour | OnlineContact => Weight::WarningSign,
        SubstanceMisuse | SelfHarm | SchoolAbsence | Isolated | LookedAfter
        | LearningDisability | PreviousAbuse => Weight::Vulnerability,
    }
}

/// Everything the risk rule may read: which answer each indicator has.
/// Nothing else can be put in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScreeningAnswers(BTreeMap<Indicator, ScreeningAnswer>);

impl ScreeningAnswers {
    /// From (indicator, answer) pairs; a later pair for the same indicator
    /// replaces an earlier one (the model refuses duplicates before this).
    pub fn new(answers: impl IntoIterator<Item = (Indicator, ScreeningAnswer)>) -> Self {
        ScreeningAnswers(answers.into_iter().collect())
    }

    /// The answers of a screening, without their days and sources.
    pub fn of(answers: &[IndicatorAnswer]) -> Self {
        Self::new(answers.iter().map(|a| (a.indicator, a.answer)))
    }

    fn yes_of(&self, w: Weight) -> usize {
        self.0
            .iter()
            .filter(|(i, a)| **a == ScreeningAnswer::Yes && weight(**i) == w)
            .count()
    }
}

/// The overall risk the answers support (see the module docs for the rule).
pub fn supported_risk(answers: &ScreeningAnswers) -> RiskLevel {
    let signs = answers.yes_of(Weight::WarningSign);
    if answers.yes_of(Weight::Exploitation) > 0 || signs >= HIGH_WARNING_SIGNS {
        RiskLevel::High
    } else if signs > 0 || answers.yes_of(Weight::Vulnerability) >= MEDIUM_VULNERABILITIES {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Indicator::*;
    use ScreeningAnswer::{No, NotKnown, Yes};

    /// Every indicator answered `rest`, and these answered yes.
    fn with_yes(yes: &[Indicator], rest: ScreeningAnswer) -> ScreeningAnswers {
        ScreeningAnswers::new(
            Indicator::ALL
                .iter()
                .map(|i| (*i, if yes.contains(i) { Yes } else { rest })),
        )
    }

    fn of_weight(w: Weight) -> Vec<Indicator> {
        Indicator::ALL
            .iter()
            .copied()
            .filter(|i| weight(*i) == w)
            .collect()
    }

    #[test]
    fn nothing_known_or_all_no_is_low() {
        assert_eq!(supported_risk(&ScreeningAnswers::default()), RiskLevel::Low);
        assert_eq!(supported_risk(&with_yes(&[], No)), RiskLevel::Low);
        assert_eq!(supported_risk(&with_yes(&[], NotKnown)), RiskLevel::Low);
    }

    #[test]
    fn one_sign_of_exploitation_is_high_whatever_else() {
        for i in of_weight(Weight::Exploitation) {
            assert_eq!(
                supported_risk(&with_yes(&[i], No)),
                RiskLevel::High,
                "{i:?}"
            );
            assert_eq!(
                supported_risk(&with_yes(&[i], NotKnown)),
                RiskLevel::High,
                "{i:?}"
            );
        }
    }

    #[test]
    fn warning_signs_make_medium_from_one_and_high_from_the_threshold() {
        let signs = of_weight(Weight::WarningSign);
        assert!(signs.len() > HIGH_WARNING_SIGNS);
        for n in 1..signs.len() {
            let want = if n >= HIGH_WARNING_SIGNS {
                RiskLevel::High
            } else {
                RiskLevel::Medium
            };
            assert_eq!(
                supported_risk(&with_yes(&signs[..n], No)),
                want,
                "{n} signs"
            );
        }
        // Either side of the edge.
        assert_eq!(
            supported_risk(&with_yes(&signs[..HIGH_WARNING_SIGNS - 1], No)),
            RiskLevel::Medium
        );
        assert_eq!(
            supported_risk(&with_yes(&signs[..HIGH_WARNING_SIGNS], No)),
            RiskLevel::High
        );
    }

    #[test]
    fn vulnerabilities_alone_are_low_until_the_threshold() {
        let v = of_weight(Weight::Vulnerability);
        for n in 0..=v.len() {
            let want = if n >= MEDIUM_VULNERABILITIES {
                RiskLevel::Medium
            } else {
                RiskLevel::Low
            };
            assert_eq!(supported_risk(&with_yes(&v[..n], No)), want, "{n}");
        }
        // Every vulnerability at once is still medium, not high: none shows
        // exploitation itself.
        assert_eq!(supported_risk(&with_yes(&v, No)), RiskLevel::Medium);
        // With one warning sign: medium.
        let mut one = v[..1].to_vec();
        one.push(Missing);
        assert_eq!(supported_risk(&with_yes(&one, No)), RiskLevel::Medium);
    }

    #[test]
    fn not_known_never_counts_as_yes() {
        // Every indicator not known except nothing: low; every warning sign
        // not known and one yes: medium, never high.
        let a = ScreeningAnswers::new(
            of_weight(Weight::WarningSign)
                .into_iter()
                .map(|i| (i, if i == Missing { Yes } else { NotKnown })),
        );
        assert_eq!(supported_risk(&a), RiskLevel::Medium);
    }

    #[test]
    fn every_indicator_has_one_weight_and_each_weight_is_used() {
        for w in [
            Weight::Vulnerability,
            Weight::WarningSign,
            Weight::Exploitation,
        ] {
            assert!(!of_weight(w).is_empty(), "{w:?}");
        }
        assert_eq!(Indicator::ALL.len(), 20, "DOMAIN.md section 8 has 20");
    }

    /// The rule cannot read ethnicity, nationality, religion or sex, because
    /// its input cannot carry them. This test fails to compile if the
    /// function takes anything more than the answers, or if the answers
    /// gain a field or change type; and fails if any protected
    /// characteristic's code or name could be given as an indicator.
    #[test]
    fn the_rule_cannot_read_protected_characteristics() {
        // The whole signature: answers in, a risk level out.
        let rule: fn(&ScreeningAnswers) -> RiskLevel = supported_risk;
        // The answers are one field, of exactly this type (an exhaustive
        // pattern: a second field would not compile).
        let answers = with_yes(&[Missing], No);
        let ScreeningAnswers(map) = &answers;
        let map: &BTreeMap<Indicator, ScreeningAnswer> = map;
        assert_eq!(map.len(), Indicator::ALL.len());
        assert_eq!(rule(&answers), RiskLevel::Medium);
        // Both are closed code lists: exhaustive, so a variant added to
        // either must be matched here.
        for a in ScreeningAnswer::ALL {
            match a {
                Yes | No | NotKnown => {}
            }
        }
        // No protected characteristic is an indicator: not the words, nor
        // any code of the lists that record them.
        use vigil_model::codes::{
            DfeEthnicity, Nationality, ObservedEthnicity, SelfDefinedEthnicity, Sex,
        };
        let mut codes: Vec<String> = ["ethnicity", "nationality", "religion", "sex", "gender"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        codes.extend(Sex::ALL.iter().map(|c| c.code().to_owned()));
        codes.extend(
            SelfDefinedEthnicity::ALL
                .iter()
                .map(|c| c.code().to_owned()),
        );
        codes.extend(ObservedEthnicity::ALL.iter().map(|c| c.code().to_owned()));
        codes.extend(DfeEthnicity::ALL.iter().map(|c| c.code().to_owned()));
        codes.extend(Nationality::all().iter().map(|c| c.code().to_owned()));
        for code in &codes {
            assert!(Indicator::parse(code).is_err(), "{code} is an indicator");
        }
        for i in Indicator::ALL {
            let words = format!("{} {}", i.code(), i.label()).to_lowercase();
            for banned in [
                "ethnic", "national", "religio", "faith", " sex ", "gender", "male",
            ] {
                assert!(!words.contains(banned), "{i:?}: {words}");
            }
        }
    }
}
