//! The people of the borough and their demographics.
//!
//! This is the only module that draws sex, ethnicity, nationality or
//! disability, and it draws them from the configured distributions for
//! every person alike. Who becomes a victim and who offends is decided in
//! [`crate::select`], which is never given any of these; the adults of a
//! network are made here only after the network's shape has been decided,
//! with the same draws as any other adult.

use crate::config::{Demographics, Share};
use crate::pools;
use crate::random::Rng;
use chrono::{Duration, NaiveDate};
use vigil_model::codes::{Nationality, OnsEthnicity, Sex};

/// What part a person plays in the simulation (recorded in the truth file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    Child,
    Parent,
    /// An adult in an exploitation network.
    NetworkMember,
    /// A licensed taxi driver who is in no network.
    TaxiDriver,
}

/// A real (simulated) person: what every record of them is a version of.
#[derive(Clone, Debug)]
pub struct TruePerson {
    pub kind: PersonKind,
    pub given: &'static str,
    pub family: &'static str,
    pub sex: Sex,
    pub dob: NaiveDate,
    pub ethnicity: OnsEthnicity,
    pub nationality: Nationality,
    pub disability: bool,
    /// Index of the home location.
    pub home: usize,
    /// Household (children and parents).
    pub household: Option<usize>,
    /// School (children).
    pub school: Option<usize>,
    /// A street name (network members).
    pub street_name: Option<&'static str>,
}

/// What a household or family shares: ethnic group, nationality, family
/// name and naming tradition.
#[derive(Clone, Debug)]
pub struct Heritage {
    pub ethnicity: OnsEthnicity,
    pub nationality: Nationality,
    pub tradition: &'static pools::Tradition,
    pub family: &'static str,
}

fn draw<T: Copy>(rng: &mut Rng, shares: &[Share<T>]) -> T {
    let w: Vec<f64> = shares.iter().map(|s| s.share).collect();
    shares[rng.weighted(&w)].code
}

/// Draws a family's heritage from the configured distributions.
pub fn draw_heritage(rng: &mut Rng, d: &Demographics) -> Heritage {
    let ethnicity = draw(rng, &d.ethnicity);
    let nationality = draw(rng, &d.nationality);
    let tradition = pools::tradition(ethnicity, rng.unit());
    let family = *rng.pick(tradition.family);
    Heritage {
        ethnicity,
        nationality,
        tradition,
        family,
    }
}

/// Makes one person of a family: their sex and disability drawn from the
/// configured distributions, a given name from the family's tradition, and
/// the date of birth given.
pub fn new_person(
    rng: &mut Rng,
    d: &Demographics,
    h: &Heritage,
    kind: PersonKind,
    dob: NaiveDate,
    home: usize,
) -> TruePerson {
    let sex = draw(rng, &d.sex);
    let disability = rng.chance(d.disability_rate);
    let mut given;
    let mut tries = 0;
    loop {
        let list = match sex {
            Sex::Female => h.tradition.female,
            Sex::Male => h.tradition.male,
            _ => {
                if rng.chance(0.5) {
                    h.tradition.female
                } else {
                    h.tradition.male
                }
            }
        };
        given = *rng.pick(list);
        tries += 1;
        if !pools::is_avoided(given, h.family) || tries > 20 {
            break;
        }
    }
    TruePerson {
        kind,
        given,
        family: h.family,
        sex,
        dob,
        ethnicity: h.ethnicity,
        nationality: h.nationality,
        disability,
        home,
        household: None,
        school: None,
        street_name: None,
    }
}

/// A date of birth uniformly between two days.
pub fn dob_between(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + Duration::days(rng.int(0, span))
}
