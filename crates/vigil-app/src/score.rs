//! The seam between the application and the matching model: the score of
//! one pair of person records, with each field's part in it.
//!
//! Everything that needs a probability (the triage screen's possible
//! existing records, the pair page's explanation, the scores written at
//! intake) calls [`Scorer::score`] of the app's scorer and nothing else, so the model behind it changes
//! in one place.
//!
//! **The fitted model.** When a Fellegi–Sunter model fitted by `vigil-link`
//! is loaded ([`Scorer::fitted`], held by the [`crate::App`]: `vigil serve`
//! loads `DATA/link-model.json`, which `vigil --data DIR link` fits on the
//! store's person records; `vigil link --csv` writes the same format), a
//! pair is scored and explained by it ([`vigil_link::Model::explain`]), its
//! version the first 12 hex digits of the model file's SHA-256.
//!
//! **Interim model.** Without one, the score is the existing triage screen's comparison
//! ([`crate::candidates::compare`]: family name, given name, date of birth)
//! given fixed log2 weights, added to a prior, as Fellegi–Sunter adds its
//! match weights: a field both records lack adds nothing, one that agrees
//! adds, one that disagrees takes away. The weights are set by hand, not
//! estimated; [`MODEL`] names them so every score written to the log says
//! which model made it. Sex, ethnicity, nationality and religion are never
//! fields.

use crate::candidates;
use crate::readmodel::PersonView;
use sha2::{Digest, Sha256};
use vigil_model::payload::matching::PPM;
use vigil_model::state::FieldWeight;

/// The interim model's name and version, as written in `person_match.scored`.
pub const MODEL: &str = "vigil-interim-screen";
pub const MODEL_VERSION: &str = "1";

/// The fitted model's name in `person_match.scored`.
pub const FITTED_MODEL: &str = "vigil-link";

/// The model that scores pairs of person records: a fitted `vigil-link`
/// model, or the interim one. One per [`crate::App`] (the partnership's
/// records have one model), swapped whole when a new fit is loaded, so a
/// score and the version it is written with always come from one model.
pub struct Scorer {
    fitted: Option<Fitted>,
}

struct Fitted {
    model: vigil_link::Model,
    version: String,
}

impl Scorer {
    /// The interim model (no fitted model loaded).
    pub fn interim() -> Scorer {
        Scorer { fitted: None }
    }

    /// The fitted model in this JSON (what `vigil link` writes). A file
    /// that is not such a model is refused with the parser's reason.
    pub fn fitted(json: &str) -> Result<Scorer, String> {
        let model = vigil_link::Model::from_json(json)?;
        Ok(Scorer {
            fitted: Some(Fitted {
                model,
                version: model_version_of(json),
            }),
        })
    }

    /// The model's name and version, as `person_match.scored` records them.
    pub fn name_and_version(&self) -> (String, String) {
        match &self.fitted {
            Some(f) => (FITTED_MODEL.to_owned(), f.version.clone()),
            None => (MODEL.to_owned(), MODEL_VERSION.to_owned()),
        }
    }

    /// Whether this is a fitted model (not the interim one).
    pub fn is_fitted(&self) -> bool {
        self.fitted.is_some()
    }

    /// The score of two person records.
    pub fn score(&self, a: &PersonView, b: &PersonView) -> Score {
        match &self.fitted {
            Some(f) => fitted_score(&f.model, a, b),
            None => interim_score(a, b),
        }
    }
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, version) = self.name_and_version();
        write!(f, "Scorer({name} {version})")
    }
}

/// A fitted model's version: the first 12 hex digits of its JSON's SHA-256,
/// so the same file is the same version wherever it is loaded.
pub fn model_version_of(json: &str) -> String {
    hex::encode(Sha256::digest(json.as_bytes()))[..12].to_owned()
}

/// A person record as `vigil-link` compares it: the first name recorded as
/// given and family name, every other name as other names, the date of
/// birth as far as it is known. Nothing else (never sex or ethnicity).
pub fn link_record(p: &PersonView) -> vigil_link::Record {
    let mut r = vigil_link::Record::new(p.id.to_string());
    let first = p.names.first();
    r.given_name = first.and_then(|n| n.given.clone());
    r.family_name = first.and_then(|n| n.family.clone());
    let others: Vec<String> = p
        .names
        .iter()
        .skip(1)
        .flat_map(|n| [n.given.clone(), n.family.clone()])
        .flatten()
        .collect();
    r.other_name = (!others.is_empty()).then(|| others.join(" "));
    r.dob = p
        .date_of_birth
        .as_ref()
        .and_then(vigil_link::Dob::from_model);
    r
}

fn fitted_score(model: &vigil_link::Model, a: &PersonView, b: &PersonView) -> Score {
    let e = model.explain(&link_record(a), &link_record(b));
    let milli = |x: f64| (x * 1000.0).round().clamp(-1e9, 1e9) as i64;
    let mut fields = vec![field(
        PRIOR_FIELD,
        "two records at random",
        milli(e.prior_log2),
    )];
    // A field neither record has adds nothing and says nothing: left out,
    // so the explanation lists what was compared (and what one record lacks).
    for t in e
        .terms
        .iter()
        .filter(|t| t.left.is_some() || t.right.is_some())
    {
        let name = if t.term_frequency {
            format!("{} (how common)", t.comparison.label())
        } else {
            t.comparison.label().to_owned()
        };
        fields.push(field(&name, &t.level_name, milli(t.log2)));
    }
    Score {
        probability_ppm: (e.probability * PPM as f64).round().clamp(0.0, PPM as f64) as u32,
        fields,
    }
}

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

/// The interim model's score (see the module documentation).
pub fn interim_score(a: &PersonView, b: &PersonView) -> Score {
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
    use uuid::Uuid;
    use vigil_model::time::Precision;

    fn person(given: &str, family: &str, dob: Option<&str>) -> PersonView {
        PersonView::for_test(
            Uuid::now_v7(),
            given,
            family,
            dob.map(|d| (d, Precision::Day)),
        )
    }

    #[test]
    fn weights_add_up_to_the_probability_and_missing_fields_add_nothing() {
        let a = person("Jade", "Example", Some("2010-03-14"));
        let same = interim_score(&a, &person("Jade", "Example", Some("2010-03-14")));
        assert_eq!(same.total_milli(), -6_000 + 5_500 + 3_500 + 6_000);
        assert!(same.probability_ppm > 998_000, "{same:?}");
        let no_dob = interim_score(&a, &person("Jade", "Example", None));
        assert_eq!(no_dob.fields[3].weight_milli, 0);
        assert!(
            (REVIEW_FROM_PPM..REVIEW_TO_PPM).contains(&no_dob.probability_ppm),
            "{no_dob:?}"
        );
        let other = interim_score(&a, &person("Mia", "Other", Some("2004-01-01")));
        assert!(other.probability_ppm < 1_000, "{other:?}");
        // Symmetric.
        let b = person("J", "Exampel", Some("2010-03-14"));
        assert_eq!(interim_score(&a, &b).fields, interim_score(&b, &a).fields);
        let r = link_record(&a);
        assert_eq!(
            (r.given_name.as_deref(), r.family_name.as_deref()),
            (Some("Jade"), Some("Example"))
        );
        assert!(r.dob.is_some_and(|d| d.is_full()));
        assert!(Scorer::fitted("not a model").is_err());
        assert_eq!(Scorer::interim().name_and_version().0, MODEL);
    }

    #[test]
    fn a_fitted_model_scores_and_explains_pairs_of_people() {
        // 600 synthetic people, a third of them recorded twice with a typo.
        let given = [
            "Amira", "Bethany", "Callum", "Darnell", "Elif", "Farah", "Georgia", "Hamza", "Isla",
            "Jayden", "Kiran", "Leona", "Marek", "Nadia", "Oskar", "Priya", "Quinn", "Rhys",
            "Sana", "Tobias",
        ];
        let family = [
            "Testwood",
            "Samplefield",
            "Mockridge",
            "Fauxley",
            "Dummett",
            "Placerton",
            "Trialby",
            "Proofe",
            "Draftson",
            "Modelle",
            "Examplar",
            "Specimond",
            "Pilotte",
            "Checkley",
            "Vettam",
            "Assayer",
            "Probus",
            "Triallis",
            "Benchley",
            "Surveigh",
            "Quizzard",
            "Mustard",
            "Sketchley",
            "Roughton",
            "Outliner",
            "Templet",
            "Schemer",
            "Protoe",
            "Copyman",
            "Ditto",
        ];
        let mut records = Vec::new();
        for i in 0..600usize {
            let dob = vigil_link::Dob::full(
                2005 + (i % 12) as u16,
                1 + (i % 12) as u8,
                1 + (i * 7 % 28) as u8,
            );
            let r = vigil_link::Record {
                id: format!("p{i}"),
                given_name: Some(given[i % given.len()].into()),
                family_name: Some(family[(i / given.len()) % family.len()].into()),
                dob,
                ..Default::default()
            };
            if i % 3 == 0 {
                let mut copy = r.clone();
                copy.id = format!("p{i}b");
                copy.family_name = copy.family_name.map(|f| f.replacen('e', "a", 1));
                records.push(copy);
            }
            records.push(r);
        }
        let l = vigil_link::link(
            &records,
            &vigil_link::Settings::default(),
            0.5,
            &Default::default(),
            &(),
        );
        let model = l.model;
        let same_a = person("Amira", "Testwood", Some("2005-01-01"));
        let same_b = person("Amira", "Tastwood", Some("2005-01-01"));
        let other = person("Tobias", "Copyman", Some("2016-12-22"));
        let same = fitted_score(&model, &same_a, &same_b);
        let apart = fitted_score(&model, &same_a, &other);
        assert!(same.probability_ppm > 500_000, "{same:?}");
        assert!(apart.probability_ppm < 100_000, "{apart:?}");
        // The explanation adds up to the probability (to rounding).
        let from_weights = probability_ppm(same.total_milli());
        assert!(
            from_weights.abs_diff(same.probability_ppm) < 5_000,
            "{from_weights} {same:?}"
        );
        assert_eq!(same.fields[0].field, PRIOR_FIELD);
        assert!(
            same.fields
                .iter()
                .any(|f| f.field.contains("date of birth") || f.field.contains("Date of birth")),
            "{same:?}"
        );
        // Loaded from the JSON `vigil link` writes, it is the one in use.
        let json = model.to_json();
        let scorer = Scorer::fitted(&json).unwrap();
        assert_eq!(
            scorer.name_and_version(),
            (FITTED_MODEL.to_owned(), model_version_of(&json))
        );
        assert_eq!(scorer.score(&same_a, &same_b), same);
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
