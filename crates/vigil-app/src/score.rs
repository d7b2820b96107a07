//! The seam between the application and the matching model: the score of
//! one pair of person records, with each field's part in it.
//!
//! Everything that needs a probability (the triage screen's possible
//! existing records, the pair page's explanation, the scores written at
//! intake) calls [`score`] and nothing else, so the model behind it changes
//! in one place.
//!
//! **Interim model.** Until the Fellegi–Sunter model of `vigil-link` is
//! merged, the score is the existing triage screen's comparison
//! ([`crate::candidates::compare`]: family name, given name, date of birth)
//! given fixed log2 weights, added to a prior, as Fellegi–Sunter adds its
//! match weights: a field both records lack adds nothing, one that agrees
//! adds, one that disagrees takes away. The weights are set by hand, not
//! estimated; [`MODEL`] names them so every score written to the log says
//! which model made it. Sex, ethnicity, nationality and religion are never
//! fields.

use crate::candidates;
use crate::readmodel::PersonView;
use vigil_model::payload::matching::PPM;
use vigil_model::state::FieldWeight;

/// The model's name and version, as written in `person_match.scored`.
pub const MODEL: &str = "vigil-interim-screen";
pub const MODEL_VERSION: &str = "1";

/// The match threshold: at or above it a pair nobody decided counts as one
/// person (0.5, as `vigil link` defaults to).
pub const THRESHOLD_PPM: u32 = 500_000;

/// The uncertain band a person reviews: from 0.2 to 0.9.
pub const REVIEW_FROM_PPM: u32 = 200_000;
pub const REVIEW_TO_PPM: u32 = 900_000;

/// The log2 odds that two records the name index brings together are of
/// one person, before any field is compared (in thousandths of a bit).
const PRIOR_MILLI: i64 = -6_000;

/// The field name of the prior in an explanation.
pub const PRIOR_FIELD: &str = "starting point";

/// A pair's score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    pub probability_ppm: u32,
    /// The prior first, then each field, in thousandths of a bit.
    pub fields: Vec<FieldWeight>,
}

impl Score {
    /// The total weight (the prior and every field), in thousandths of a bit.
    pub fn total_milli(&self) -> i64 {
        self.fields.iter().map(|f| f.weight_milli).sum()
    }
}

/// The probability of a total weight: 2^w / (1 + 2^w), in millionths.
pub fn probability_ppm(total_milli: i64) -> u32 {
    let w = total_milli as f64 / 1000.0;
    let p = 1.0 / (1.0 + (-w).exp2());
    (p * PPM as f64).round().clamp(0.0, PPM as f64) as u32
}

fn field(field: &str, level: &str, weight_milli: i64) -> FieldWeight {
    FieldWeight {
        field: field.into(),
        level: level.into(),
        weight_milli,
    }
}

/// The score of two person records.
pub fn score(a: &PersonView, b: &PersonView) -> Score {
    let c = candidates::compare(a, b);
    let mut fields = vec![field(
        PRIOR_FIELD,
        "two records with a similar name",
        PRIOR_MILLI,
    )];
    fields.push(match (c.family_known, c.family) {
        (false, _) => field("family name", "missing on one record", 0),
        (true, Some("same family name")) => field("family name", "the same", 5_500),
        (true, Some(_)) => field("family name", "one letter apart", 3_000),
        (true, None) => field("family name", "different", -4_000),
    });
    fields.push(match (c.given_known, c.given) {
        (false, _) => field("given name", "missing on one record", 0),
        (true, true) => field("given name", "the same (or an initial of it)", 3_500),
        (true, false) => field("given name", "different", -2_500),
    });
    fields.push(match (c.dob_known, c.dob) {
        (false, _) => field("date of birth", "missing on one record", 0),
        (true, Some("same date of birth")) => field("date of birth", "the same day", 6_000),
        (true, Some(_)) => field("date of birth", "could be the same", 1_500),
        (true, None) => field("date of birth", "different", -5_000),
    });
    let total: i64 = fields.iter().map(|f| f.weight_milli).sum();
    Score {
        probability_ppm: probability_ppm(total),
        fields,
    }
}

/// A probability as pages say it: "87%" (never a rounded "100%" or "0%"
/// for what is not certain).
pub fn percent(ppm: u32) -> String {
    match ppm {
        PPM => "100%".into(),
        995_000.. => "over 99%".into(),
        0 => "0%".into(),
        1..=4_999 => "under 1%".into(),
        _ => format!("{}%", (ppm as u64 * 100 + PPM as u64 / 2) / PPM as u64),
    }
}

/// A weight as pages say it: "+5.5" or "−4.0" bits.
pub fn bits(weight_milli: i64) -> String {
    let sign = if weight_milli < 0 { "\u{2212}" } else { "+" };
    format!("{sign}{:.1}", weight_milli.unsigned_abs() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readmodel::Stamp;
    use uuid::Uuid;
    use vigil_model::codes::NameKind;
    use vigil_model::dates::DateOfBirth;
    use vigil_model::time::Precision;
    use vigil_model::PersonName;

    fn person(given: &str, family: &str, dob: Option<&str>) -> PersonView {
        PersonView {
            id: Uuid::now_v7(),
            names: vec![PersonName::new(given, family, NameKind::Birth)],
            date_of_birth: dob.map(|v| DateOfBirth {
                value: v.into(),
                precision: Precision::Day,
            }),
            sex: None,
            description: None,
            recorded: Stamp {
                at: chrono::Utc::now(),
                by: "t".into(),
                agency: "a".into(),
                event_id: Uuid::nil(),
            },
        }
    }

    #[test]
    fn weights_add_up_to_the_probability_and_missing_fields_add_nothing() {
        let a = person("Jade", "Example", Some("2010-03-14"));
        let same = score(&a, &person("Jade", "Example", Some("2010-03-14")));
        assert_eq!(same.total_milli(), -6_000 + 5_500 + 3_500 + 6_000);
        assert!(same.probability_ppm > 998_000, "{same:?}");
        let no_dob = score(&a, &person("Jade", "Example", None));
        assert_eq!(no_dob.fields[3].weight_milli, 0);
        assert!(
            (REVIEW_FROM_PPM..REVIEW_TO_PPM).contains(&no_dob.probability_ppm),
            "{no_dob:?}"
        );
        let other = score(&a, &person("Mia", "Other", Some("2004-01-01")));
        assert!(other.probability_ppm < 1_000, "{other:?}");
        // Symmetric.
        let b = person("J", "Exampel", Some("2010-03-14"));
        assert_eq!(score(&a, &b).fields, score(&b, &a).fields);
    }

    #[test]
    fn probabilities_and_words() {
        assert_eq!(probability_ppm(0), 500_000);
        assert_eq!(probability_ppm(i64::MAX / 2), PPM);
        assert_eq!(probability_ppm(i64::MIN / 2), 0);
        assert_eq!(percent(876_543), "88%");
        assert_eq!(percent(998_000), "over 99%");
        assert_eq!(percent(2_000), "under 1%");
        assert_eq!(percent(PPM), "100%");
        assert_eq!(bits(-4_000), "\u{2212}4.0");
        assert_eq!(bits(5_500), "+5.5");
    }
}
