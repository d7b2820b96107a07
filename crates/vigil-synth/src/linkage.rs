//! A flat file of person records with the truth behind them, for measuring
//! entity resolution (`vigil synth records`, bench/link/).
//!
//! The borough ([`crate::generate`]) simulates what happens to children
//! over years and records it as events. Measured: 2,000 children give 446
//! person records among 4,081 events, and its person records carry names
//! and dates of birth but reach addresses only through links. A million
//! person records would need about 4.5 million children (its limit is 2
//! million) and nine million events. Linkage needs only the people and the
//! records several agencies made of them, so this module makes those
//! directly, with the borough's name pools and recording errors
//! ([`crate::noise`]) and more that matter for linkage: a million records
//! in about ten seconds.
//!
//! What it makes:
//! - **Households** (a single adult, a couple, or one or two adults with up
//!   to four children) sharing a family name, a naming tradition and a
//!   history of one to three addresses (people move). Twins share a date of
//!   birth as well; siblings share the family name, the address and often
//!   the year of birth. These are the hard negatives of linkage.
//! - **Names** drawn with a Zipf-like skew from the pools, so that a few
//!   names are very common and many people share one (term frequency
//!   matters), from a somewhat longer list of British family names than the
//!   borough uses, because a million records come from a whole force area.
//! - **Records per person**: most people have one, some 2 to 10 (about two
//!   on average), each made by one agency (police, children's social care,
//!   health, a school, a youth project, licensing, housing) that records the
//!   fields it keeps, in its own layout, with its own errors.
//! - **Errors**: misspellings, nicknames, transliterated spellings, given
//!   and family name swapped, an initial only, dates of birth with day and
//!   month swapped, a mistyped day, year only, or missing; an old address or
//!   a variant of the current one; mistyped postcodes; phone numbers in
//!   several layouts; partial vehicle registrations; an NHS number only in
//!   the agencies that hold one, now and then with two digits transposed.
//!
//! Every value is synthetic: names from [`crate::pools`], invented streets
//! and towns with the `NS` postcode area, phone numbers from Ofcom's drama
//! ranges, e-mail at the reserved `example.*` domains, NHS numbers from the
//! 999 range that the NHS keeps for testing. Sex is written (agencies
//! record it) but no matcher may compare it.
//!
//! Pure and deterministic: the same [`LinkageConfig`] gives the same
//! records in the same order. Records are shuffled before ids are given, so
//! neither the order nor the id says which records belong together.

use crate::config::{ConfigError, Demographics, Noise};
use crate::noise::{self, Address};
use crate::pools::{self, Tradition};
use crate::random::{Rng, Stream};
use chrono::{Datelike, NaiveDate};
use std::collections::{HashMap, HashSet};
use vigil_model::codes::Sex;

/// The most records one run makes.
pub const MAX_RECORDS: u64 = 20_000_000;

/// What to make.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkageConfig {
    /// Person records to make (exactly this many).
    pub records: u64,
    /// The same seed gives the same records.
    pub seed: u64,
}

/// The columns of a record, in the order the CSV file has them.
pub const COLUMNS: &[&str] = &[
    "record_id",
    "agency",
    "given_name",
    "family_name",
    "other_name",
    "date_of_birth",
    "sex",
    "address",
    "postcode",
    "locality",
    "phone",
    "email",
    "vehicle_registration",
    "identifier",
];

/// One agency's record of one person. Empty strings are values the agency
/// did not record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRecord {
    /// The true person (index; [`crate::truth::person_id`] names it).
    pub person: u32,
    /// The true household (index; [`crate::truth::household_id`]).
    pub household: u32,
    pub agency: &'static str,
    pub given_name: String,
    pub family_name: String,
    pub other_name: String,
    pub date_of_birth: String,
    pub sex: &'static str,
    pub address: String,
    pub postcode: String,
    pub locality: String,
    pub phone: String,
    pub email: String,
    pub vehicle_registration: String,
    pub identifier: String,
}

impl PersonRecord {
    /// The values in [`COLUMNS`] order, after the record id.
    pub fn values(&self) -> [&str; 13] {
        [
            self.agency,
            &self.given_name,
            &self.family_name,
            &self.other_name,
            &self.date_of_birth,
            self.sex,
            &self.address,
            &self.postcode,
            &self.locality,
            &self.phone,
            &self.email,
            &self.vehicle_registration,
            &self.identifier,
        ]
    }
}

/// The records (the i-th has id [`record_id`]`(i)`) and counts of the truth.
pub struct PersonRecords {
    pub records: Vec<PersonRecord>,
    /// People with at least one record.
    pub people: u32,
    pub households: u32,
    /// Pairs of twins (same household, same date of birth).
    pub twin_pairs: u32,
}

/// The id of the i-th record.
pub fn record_id(i: usize) -> String {
    format!("R{:07}", i + 1)
}

/// How many records a person has: weights for 1, 2, ... 10. Mean about 2;
/// 60% of people have one record.
const RECORDS_PER_PERSON: [f64; 10] = [
    0.60, 0.17, 0.08, 0.05, 0.03, 0.025, 0.02, 0.012, 0.008, 0.005,
];

/// More British family names than the borough's list (a force area is
/// bigger than a borough): common in the north of England, and chosen so
/// that no pool given name makes a well-known person's name with them.
const MORE_BRITISH_FAMILY: &[&str] = &[
    "Jackson",
    "Scott",
    "Mitchell",
    "Bell",
    "Carter",
    "Phillips",
    "Parker",
    "Bennett",
    "Russell",
    "Griffiths",
    "Edwards",
    "Lloyd",
    "Price",
    "Jenkins",
    "Marshall",
    "Webb",
    "Simpson",
    "Stevens",
    "Ellis",
    "Pearson",
    "Chapman",
    "Dixon",
    "Hudson",
    "Lawrence",
    "Gray",
    "Spencer",
    "Mills",
    "Dean",
    "Kemp",
    "Nicholson",
    "Rowe",
    "Burton",
    "Lambert",
    "Fisher",
    "Hodgson",
    "Whitehead",
    "Bradshaw",
    "Riley",
    "Walsh",
    "Crossley",
    "Haigh",
    "Sykes",
    "Horsfall",
    "Firth",
    "Broadbent",
    "Naylor",
    "Rhodes",
    "Metcalfe",
    "Priestley",
    "Holroyd",
    "Ackroyd",
    "Mellor",
    "Oldroyd",
    "Thornton",
    "Binns",
    "Hirst",
];

/// More invented street stems (generic words), so that a million records
/// do not run out of addresses.
const MORE_STREET_STEMS: &[&str] = &[
    "Oak", "Ash", "Birch", "Cedar", "Holly", "Maple", "Rowan", "Beech", "Hazel", "Linden",
    "Poplar", "Sycamore", "Meadow", "Brook", "Spring", "Bridge", "Castle", "Market", "School",
    "Farm", "Green", "High", "North", "South", "West", "East", "New", "Manor", "Hall", "Priory",
    "Forge", "Quarry", "Well", "Garden", "Cherry", "Laurel", "Bramble", "Clover", "Thistle",
    "Heron",
];

/// Ofcom's ranges of numbers kept for drama: (prefix as written, first
/// local number, how many). No real line has one of these.
const PHONE_RANGES: &[(&str, u32, u32)] = &[
    ("07700 900", 0, 1000),
    ("0113 496 ", 0, 1000),
    ("0114 496 ", 0, 1000),
    ("0115 496 ", 0, 1000),
    ("0116 496 ", 0, 1000),
    ("0117 496 ", 0, 1000),
    ("0118 496 ", 0, 1000),
    ("0121 496 ", 0, 1000),
    ("0131 496 ", 0, 1000),
    ("0141 496 ", 0, 1000),
    ("0151 496 ", 0, 1000),
    ("0161 496 ", 0, 1000),
    ("0191 498 ", 0, 1000),
    ("020 7946 ", 0, 1000),
    ("029 2018 ", 0, 1000),
    ("01632 960", 0, 1000),
];

/// How one kind of agency records a person: which fields it keeps (the
/// chance each is filled when the person has a value) and its habits.
struct Agency {
    code: &'static str,
    /// Layout of full dates: 0 ISO (YYYY-MM-DD), 1 DD/MM/YYYY, 2 YYYYMMDD.
    date_layout: u8,
    /// Multiplies the borough's misspelling rate.
    misspelling: f64,
    dob_missing: f64,
    /// An adult's date of birth is only an estimated year.
    year_only_adult: f64,
    other_name: f64,
    address: f64,
    postcode: f64,
    locality: f64,
    phone: f64,
    email: f64,
    vehicle: f64,
    partial_vehicle: f64,
    identifier: f64,
    /// Family name in capitals.
    upper_family: f64,
}

const POLICE: Agency = Agency {
    code: "police",
    date_layout: 1,
    misspelling: 2.0,
    dob_missing: 0.12,
    year_only_adult: 0.3,
    other_name: 0.3,
    address: 0.7,
    postcode: 0.6,
    locality: 0.6,
    phone: 0.5,
    email: 0.05,
    vehicle: 0.6,
    partial_vehicle: 0.4,
    identifier: 0.1,
    upper_family: 0.6,
};
const SOCIAL_CARE: Agency = Agency {
    code: "social-care",
    date_layout: 0,
    misspelling: 1.0,
    dob_missing: 0.05,
    year_only_adult: 0.05,
    other_name: 0.4,
    address: 0.9,
    postcode: 0.85,
    locality: 0.7,
    phone: 0.6,
    email: 0.3,
    vehicle: 0.0,
    partial_vehicle: 0.0,
    identifier: 0.6,
    upper_family: 0.0,
};
const HEALTH: Agency = Agency {
    code: "health",
    date_layout: 2,
    misspelling: 0.7,
    dob_missing: 0.02,
    year_only_adult: 0.0,
    other_name: 0.5,
    address: 0.95,
    postcode: 0.95,
    locality: 0.5,
    phone: 0.8,
    email: 0.4,
    vehicle: 0.0,
    partial_vehicle: 0.0,
    identifier: 0.97,
    upper_family: 0.3,
};
const SCHOOL: Agency = Agency {
    code: "school",
    date_layout: 1,
    misspelling: 0.8,
    dob_missing: 0.02,
    year_only_adult: 0.0,
    other_name: 0.5,
    address: 0.9,
    postcode: 0.9,
    locality: 0.8,
    phone: 0.3,
    email: 0.1,
    vehicle: 0.0,
    partial_vehicle: 0.0,
    identifier: 0.3,
    upper_family: 0.0,
};
const YOUTH: Agency = Agency {
    code: "youth-project",
    date_layout: 1,
    misspelling: 1.5,
    dob_missing: 0.25,
    year_only_adult: 0.1,
    other_name: 0.2,
    address: 0.4,
    postcode: 0.5,
    locality: 0.5,
    phone: 0.6,
    email: 0.2,
    vehicle: 0.0,
    partial_vehicle: 0.0,
    identifier: 0.0,
    upper_family: 0.0,
};
const LICENSING: Agency = Agency {
    code: "licensing",
    date_layout: 0,
    misspelling: 0.5,
    dob_missing: 0.0,
    year_only_adult: 0.0,
    other_name: 0.6,
    address: 1.0,
    postcode: 1.0,
    locality: 1.0,
    phone: 0.9,
    email: 0.8,
    vehicle: 0.9,
    partial_vehicle: 0.0,
    identifier: 0.0,
    upper_family: 0.5,
};
const HOUSING: Agency = Agency {
    code: "housing",
    date_layout: 0,
    misspelling: 1.0,
    dob_missing: 0.1,
    year_only_adult: 0.0,
    other_name: 0.3,
    address: 1.0,
    postcode: 0.95,
    locality: 0.8,
    phone: 0.7,
    email: 0.5,
    vehicle: 0.0,
    partial_vehicle: 0.0,
    identifier: 0.0,
    upper_family: 0.0,
};

/// Which agencies meet children, and how often (weights).
const CHILD_AGENCIES: &[(&Agency, f64)] = &[
    (&SCHOOL, 3.0),
    (&HEALTH, 3.0),
    (&SOCIAL_CARE, 2.0),
    (&POLICE, 1.5),
    (&YOUTH, 1.0),
];
/// Which agencies meet adults, and how often (weights).
const ADULT_AGENCIES: &[(&Agency, f64)] = &[
    (&HEALTH, 3.0),
    (&POLICE, 2.5),
    (&HOUSING, 1.5),
    (&SOCIAL_CARE, 1.0),
    (&LICENSING, 0.4),
];

/// The fixed "today" of the generator: ages are counted to it.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 31).expect("a valid date")
}

/// A list drawn with a skew like the frequencies of real names: the k-th
/// entry (from 0) has weight 1/(k+1) + 0.3, so the first few are common
/// and the tail stays alive. (Arithmetic only, no `powf`, so the weights
/// are the same bits on every machine.)
struct Skewed {
    items: Vec<&'static str>,
    cumulative: Vec<f64>,
}

impl Skewed {
    fn new(items: Vec<&'static str>) -> Skewed {
        let mut total = 0.0;
        let cumulative = (0..items.len())
            .map(|k| {
                total += 1.0 / (k as f64 + 1.0) + 0.3;
                total
            })
            .collect();
        Skewed { items, cumulative }
    }

    fn draw(&self, rng: &mut Rng) -> &'static str {
        let total = *self.cumulative.last().expect("a non-empty list");
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|c| *c <= x);
        self.items[i.min(self.items.len() - 1)]
    }
}

/// A tradition's lists, skewed.
struct Names {
    female: Skewed,
    male: Skewed,
    family: Skewed,
}

fn names_of<'a>(cache: &'a mut HashMap<usize, Names>, t: &'static Tradition) -> &'a Names {
    // Traditions are statics: their address identifies them.
    cache
        .entry(t as *const Tradition as usize)
        .or_insert_with(|| {
            let mut family: Vec<&'static str> = t.family.to_vec();
            let british = pools::tradition(vigil_model::codes::OnsEthnicity::WhiteBritish, 0.0);
            if std::ptr::eq(t, british) {
                family.extend(MORE_BRITISH_FAMILY.iter().filter(|f| !t.family.contains(f)));
            }
            Names {
                female: Skewed::new(t.female.to_vec()),
                male: Skewed::new(t.male.to_vec()),
                family: Skewed::new(family),
            }
        })
}

/// A person as they really are.
struct Person {
    given: &'static str,
    middle: Option<&'static str>,
    family: &'static str,
    /// A family name used before (a name changed at marriage).
    former_family: Option<&'static str>,
    sex: Sex,
    dob: NaiveDate,
    /// (index into [`PHONE_RANGES`], local number).
    phone: Option<(usize, u32)>,
    email: Option<String>,
    vehicle: Option<String>,
    nhs: Option<u64>,
}

impl Person {
    fn child(&self) -> bool {
        age(self.dob) < 18
    }
}

fn age(dob: NaiveDate) -> i32 {
    let t = today();
    let mut a = t.year() - dob.year();
    if (t.month(), t.day()) < (dob.month(), dob.day()) {
        a -= 1;
    }
    a
}

struct Household {
    people: Vec<Person>,
    /// Where the household has lived, the current address first.
    addresses: Vec<Address>,
}

/// The generator's state: one random stream and what has been given out.
struct Gen {
    rng: Rng,
    noise: Noise,
    demographics: Demographics,
    names: HashMap<usize, Names>,
    stems: Vec<&'static str>,
    /// Postcode of each street segment: (town, stem, type, number / 30).
    postcodes: HashMap<(usize, usize, usize, u32), String>,
    /// Addresses given out: (town, stem, type, number, flat).
    addresses: HashSet<(usize, usize, usize, u32, u32)>,
    nhs: HashSet<u64>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut stems: Vec<&'static str> = pools::STREET_STEMS.to_vec();
        stems.extend(
            MORE_STREET_STEMS
                .iter()
                .filter(|s| !pools::STREET_STEMS.contains(s)),
        );
        Gen {
            rng: Rng::new(seed, Stream::Linkage),
            noise: Noise::default(),
            demographics: Demographics::default(),
            names: HashMap::new(),
            stems,
            postcodes: HashMap::new(),
            addresses: HashSet::new(),
            nhs: HashSet::new(),
        }
    }

    fn sex(&mut self) -> Sex {
        let w: Vec<f64> = self.demographics.sex.iter().map(|s| s.share).collect();
        self.demographics.sex[self.rng.weighted(&w)].code
    }

    fn given(
        &mut self,
        t: &'static Tradition,
        sex: Sex,
        family: &str,
        not: &[&str],
    ) -> &'static str {
        let female = match sex {
            Sex::Female => true,
            Sex::Male => false,
            _ => self.rng.chance(0.5),
        };
        let Gen { rng, names, .. } = self;
        let n = names_of(names, t);
        let list = if female { &n.female } else { &n.male };
        let mut g = list.draw(rng);
        for _ in 0..30 {
            if !not.contains(&g) && !pools::is_avoided(g, family) {
                break;
            }
            g = list.draw(rng);
        }
        g
    }

    fn family(&mut self, t: &'static Tradition) -> &'static str {
        let Gen { rng, names, .. } = self;
        names_of(names, t).family.draw(rng)
    }

    fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + chrono::Duration::days(self.rng.int(0, span))
    }

    fn address(&mut self) -> Address {
        loop {
            let town = self.rng.index(pools::TOWNS.len());
            let stem = self.rng.index(self.stems.len());
            let stype = self.rng.index(pools::STREET_TYPES.len());
            let number = self.rng.int(1, 300) as u32;
            let flat = if self.rng.chance(0.15) {
                self.rng.int(1, 12) as u32
            } else {
                0
            };
            if !self.addresses.insert((town, stem, stype, number, flat)) {
                continue;
            }
            let district = pools::TOWNS[town].1;
            let key = (town, stem, stype, number / 30);
            let postcode = match self.postcodes.get(&key) {
                Some(p) => p.clone(),
                None => {
                    let l = pools::PLATE_LETTERS;
                    let p = format!(
                        "{district} {}{}{}",
                        self.rng.int(0, 9),
                        l[self.rng.index(l.len())] as char,
                        l[self.rng.index(l.len())] as char
                    );
                    self.postcodes.insert(key, p.clone());
                    p
                }
            };
            return Address {
                flat: (flat > 0).then_some(flat),
                number,
                street_stem: self.stems[stem],
                street_type: stype,
                town: pools::TOWNS[town].0,
                postcode,
            };
        }
    }

    /// A new NHS number in the 999 range (kept for testing), with a valid
    /// modulus-11 check digit, not given to anyone before. The range holds
    /// about 909,000 valid numbers; once 600,000 are given out, people have
    /// none (as if their agency never learnt it), so that drawing stays fast.
    fn nhs_number(&mut self) -> Option<u64> {
        if self.nhs.len() >= 600_000 {
            return None;
        }
        loop {
            let body = 999_000_000 + self.rng.int(0, 999_999) as u64;
            if let Some(check) = nhs_check_digit(body) {
                let n = body * 10 + check;
                if self.nhs.insert(n) {
                    return Some(n);
                }
            }
        }
    }

    fn registration(&mut self) -> String {
        let l = pools::PLATE_LETTERS;
        let mut s = String::with_capacity(8);
        for _ in 0..2 {
            s.push(l[self.rng.index(l.len())] as char);
        }
        let age = if self.rng.chance(0.5) {
            self.rng.int(2, 25)
        } else {
            self.rng.int(51, 75)
        };
        s.push_str(&format!("{age:02} "));
        for _ in 0..3 {
            s.push(l[self.rng.index(l.len())] as char);
        }
        s
    }

    fn email(&mut self, given: &str, family: &str, dob: NaiveDate) -> String {
        let clean = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        };
        let (g, f) = (clean(given), clean(family));
        let domain = *self
            .rng
            .pick(&["example.com", "example.org", "example.net"]);
        match self.rng.index(3) {
            0 => format!("{g}.{f}{}@{domain}", dob.year() % 100),
            1 => format!(
                "{}{f}{}@{domain}",
                g.chars().next().unwrap_or('x'),
                self.rng.int(1, 999)
            ),
            _ => format!("{g}{f}{}@{domain}", self.rng.int(1, 99)),
        }
    }

    fn person(
        &mut self,
        t: &'static Tradition,
        family: &'static str,
        sex: Sex,
        dob: NaiveDate,
        not: &[&str],
    ) -> Person {
        let given = self.given(t, sex, family, not);
        let middle = if self.rng.chance(0.5) {
            let m = self.given(t, sex, family, &[given]);
            (m != given).then_some(m)
        } else {
            None
        };
        let a = age(dob);
        let phone =
            (a >= 18 && self.rng.chance(0.75) || a >= 11 && self.rng.chance(0.5)).then(|| {
                let r = self.rng.index(PHONE_RANGES.len());
                let (_, first, n) = PHONE_RANGES[r];
                (r, first + self.rng.int(0, i64::from(n) - 1) as u32)
            });
        let email = (a >= 18 && self.rng.chance(0.5) || a >= 13 && self.rng.chance(0.2))
            .then(|| self.email(given, family, dob));
        let vehicle = (a >= 18 && self.rng.chance(0.25)).then(|| self.registration());
        let nhs = self.nhs_number();
        Person {
            given,
            middle,
            family,
            former_family: None,
            sex,
            dob,
            phone,
            email,
            vehicle,
            nhs,
        }
    }

    fn household(&mut self, twins: &mut u32) -> Household {
        let d = &self.demographics;
        let w: Vec<f64> = d.ethnicity.iter().map(|s| s.share).collect();
        let ethnicity = d.ethnicity[self.rng.weighted(&w)].code;
        let t = pools::tradition(ethnicity, self.rng.unit());
        let family = self.family(t);
        let n_addresses = 1 + self.rng.weighted(&[0.65, 0.25, 0.10]);
        let addresses = (0..n_addresses).map(|_| self.address()).collect();
        let mut people = Vec::new();
        let first = NaiveDate::from_ymd_opt(1945, 1, 1).expect("a valid date");
        let last = NaiveDate::from_ymd_opt(2007, 12, 31).expect("a valid date");
        let dob1 = self.date_between(first, last);
        let sex1 = self.sex();
        people.push(self.person(t, family, sex1, dob1, &[]));
        let roll = self.rng.unit();
        let second_adult = (0.30..0.50).contains(&roll) || roll >= 0.50 && self.rng.chance(0.65);
        if second_adult {
            let sex2 = match sex1 {
                Sex::Male if self.rng.chance(0.95) => Sex::Female,
                Sex::Female if self.rng.chance(0.95) => Sex::Male,
                s => s,
            };
            let offset = self.rng.int(-8 * 365, 8 * 365);
            let dob2 = (dob1 + chrono::Duration::days(offset)).min(last);
            let (fam2, former) = if self.rng.chance(0.65) {
                // Same family name; some had another before marrying.
                let former = self
                    .rng
                    .chance(0.5)
                    .then(|| self.family(t))
                    .filter(|f| *f != family);
                (family, former)
            } else {
                (self.family(t), None)
            };
            let mut p = self.person(t, fam2, sex2, dob2, &[people[0].given]);
            p.former_family = former;
            people.push(p);
        }
        if roll >= 0.50 {
            let children = 1 + self.rng.weighted(&[0.35, 0.40, 0.17, 0.08]);
            let mut dob = dob1 + chrono::Duration::days(self.rng.int(20 * 365, 38 * 365));
            let mut k = 0;
            while k < children && dob <= today() {
                let fam = if people.len() > 1 && self.rng.chance(0.1) {
                    people[1].family
                } else {
                    family
                };
                let taken: Vec<&str> = people.iter().map(|p| p.given).collect();
                let sex = self.sex();
                people.push(self.person(t, fam, sex, dob, &taken));
                k += 1;
                if k < children && self.rng.chance(0.03) {
                    // Twins: the same birthday, family name and address.
                    let taken: Vec<&str> = people.iter().map(|p| p.given).collect();
                    let sex = self.sex();
                    people.push(self.person(t, fam, sex, dob, &taken));
                    *twins += 1;
                    k += 1;
                }
                dob += chrono::Duration::days(self.rng.int(300, 4 * 365));
            }
        }
        Household { people, addresses }
    }

    /// One agency's record of person `p` of household `h`.
    fn record(&mut self, h: &Household, p: usize, person: u32, household: u32) -> PersonRecord {
        let tp = &h.people[p];
        let child = tp.child();
        let list = if child {
            CHILD_AGENCIES
        } else {
            ADULT_AGENCIES
        };
        let w: Vec<f64> = list.iter().map(|(_, w)| *w).collect();
        let ag: &Agency = list[self.rng.weighted(&w)].0;
        let mut noise = self.noise.clone();
        noise.misspelling *= ag.misspelling;

        // Names.
        let (mut given, _) = noise::given_name(&mut self.rng, &noise, tp.given);
        let family_true = match tp.former_family {
            Some(f) if self.rng.chance(0.3) => f,
            _ => tp.family,
        };
        let (mut family, _) = noise::family_name(&mut self.rng, &noise, family_true);
        let mut other = String::new();
        if self.rng.chance(ag.other_name) {
            if let Some(m) = tp.middle {
                other = m.to_owned();
            }
        }
        if let Some(f) = tp.former_family {
            if family_true != f && self.rng.chance(0.2) {
                other = f.to_owned();
            }
        }
        if self.rng.chance(0.01) {
            std::mem::swap(&mut given, &mut family);
        }
        if (ag.code == "police" || ag.code == "youth-project") && self.rng.chance(0.015) {
            given = given.chars().take(1).collect();
        }
        if self.rng.chance(0.01) {
            given.clear();
        }
        let family_missing = if ag.code == "youth-project" {
            0.15
        } else {
            0.01
        };
        if self.rng.chance(family_missing) {
            family.clear();
        }
        if self.rng.chance(ag.upper_family) {
            family = family.to_uppercase();
        }

        // Date of birth.
        let date_of_birth = if self.rng.chance(ag.dob_missing) {
            String::new()
        } else if !child && self.rng.chance(ag.year_only_adult) {
            let off = if self.rng.chance(0.5) {
                0
            } else {
                self.rng.int(-2, 2) as i32
            };
            format!("{}", tp.dob.year() + off)
        } else {
            let mut d = tp.dob;
            if noise::swappable(d) && self.rng.chance(self.noise.swapped_day_month) {
                d = noise::swap_day_month(d);
            } else if self.rng.chance(0.015) {
                // A mistyped day.
                let day = d.day() as i64 + if self.rng.chance(0.5) { 1 } else { -1 };
                d = NaiveDate::from_ymd_opt(d.year(), d.month(), day.clamp(1, 28) as u32)
                    .unwrap_or(d);
            } else if self.rng.chance(0.01) {
                let y = d.year() + if self.rng.chance(0.5) { 1 } else { -1 };
                d = NaiveDate::from_ymd_opt(y, d.month(), d.day().min(28)).unwrap_or(d);
            }
            match ag.date_layout {
                1 => d.format("%d/%m/%Y").to_string(),
                2 => d.format("%Y%m%d").to_string(),
                _ => d.format("%Y-%m-%d").to_string(),
            }
        };
        let sex = if self.rng.chance(0.05) {
            ""
        } else {
            match (tp.sex, ag.code) {
                (Sex::Male, "health") => "Male",
                (Sex::Female, "health") => "Female",
                (Sex::Male, _) => "M",
                (Sex::Female, _) => "F",
                _ => "U",
            }
        };

        // Address: mostly the current one, sometimes one they have left.
        let n = h.addresses.len();
        let which = self.rng.weighted(&[0.6, 0.3, 0.1][..n]);
        let a = &h.addresses[which];
        let (lines, town, pc) = if self.rng.chance(self.noise.address_variant) {
            noise::address_variant(&mut self.rng, a)
        } else {
            noise::address_exact(a)
        };
        let address = if self.rng.chance(ag.address) {
            lines.join(", ")
        } else {
            String::new()
        };
        let locality = match town {
            Some(t) if self.rng.chance(ag.locality) => t,
            _ => String::new(),
        };
        let postcode = match pc {
            Some(pc) if self.rng.chance(ag.postcode) => self.postcode_as_written(pc),
            _ => String::new(),
        };

        // Phone: their own, or (a child without one) a parent's.
        let own = tp.phone;
        let phone_of = if own.is_some() {
            own
        } else if child && self.rng.chance(0.3) {
            h.people[0].phone
        } else {
            None
        };
        let phone = match phone_of {
            Some(ph) if self.rng.chance(ag.phone) => self.phone_as_written(ph),
            _ => String::new(),
        };
        let email = match &tp.email {
            Some(e) if self.rng.chance(ag.email) => e.clone(),
            _ => String::new(),
        };
        let vehicle_registration = match &tp.vehicle {
            Some(v) if self.rng.chance(ag.vehicle) => {
                let v = if self.rng.chance(ag.partial_vehicle) {
                    noise::partial_registration(&mut self.rng, v)
                } else {
                    v.clone()
                };
                if self.rng.chance(0.2) {
                    v.replace(' ', "")
                } else {
                    v
                }
            }
            _ => String::new(),
        };
        let identifier = match tp.nhs {
            Some(nhs) if self.rng.chance(ag.identifier) => {
                let mut digits: Vec<u8> = nhs.to_string().into_bytes();
                if self.rng.chance(0.01) {
                    // Two digits transposed (the check digit then fails), never
                    // in the 999 prefix that marks a test number.
                    let i = 3 + self.rng.index(digits.len() - 4);
                    digits.swap(i, i + 1);
                }
                let s = String::from_utf8(digits).expect("digits");
                if self.rng.chance(0.5) {
                    format!("{} {} {}", &s[..3], &s[3..6], &s[6..])
                } else {
                    s
                }
            }
            _ => String::new(),
        };
        PersonRecord {
            person,
            household,
            agency: ag.code,
            given_name: given,
            family_name: family,
            other_name: other,
            date_of_birth,
            sex,
            address,
            postcode,
            locality,
            phone,
            email,
            vehicle_registration,
            identifier,
        }
    }

    /// A postcode as someone typed it: now and then one character wrong,
    /// the space left out, or in lower case.
    fn postcode_as_written(&mut self, pc: String) -> String {
        let mut pc = pc;
        if self.rng.chance(0.03) {
            pc = postcode_typo(&mut self.rng, &pc);
        }
        if self.rng.chance(0.1) {
            pc = pc.replace(' ', "");
        }
        if self.rng.chance(0.05) {
            pc = pc.to_lowercase();
        }
        pc
    }

    fn phone_as_written(&mut self, (range, local): (usize, u32)) -> String {
        let (prefix, _, n) = PHONE_RANGES[range];
        let width = if n >= 1000 && prefix.ends_with(' ') {
            4
        } else {
            3
        };
        let full = format!("{prefix}{local:0width$}");
        match self.rng.index(10) {
            0..=5 => full,
            6..=8 => full.replace(' ', ""),
            _ => format!("+44 {}", &full[1..]),
        }
    }
}

/// One character of a postcode replaced by a neighbour of its kind (a digit
/// by another digit, a letter by another letter); the area `NS` is kept.
fn postcode_typo(rng: &mut Rng, pc: &str) -> String {
    let mut c: Vec<char> = pc.chars().collect();
    let positions: Vec<usize> = (2..c.len()).filter(|&i| c[i] != ' ').collect();
    if positions.is_empty() {
        return pc.to_owned();
    }
    let i = *rng.pick(&positions);
    c[i] = if c[i].is_ascii_digit() {
        let d = c[i] as u8 - b'0';
        (b'0' + (d + 1 + rng.index(9) as u8) % 10) as char
    } else {
        let l = pools::PLATE_LETTERS;
        loop {
            let x = l[rng.index(l.len())] as char;
            if x != c[i] {
                break x;
            }
        }
    };
    c.into_iter().collect()
}

/// The NHS modulus-11 check digit of a nine-digit number, or `None` when
/// the number cannot have one (the check would be 10).
pub fn nhs_check_digit(body: u64) -> Option<u64> {
    let digits: Vec<u64> = format!("{body:09}")
        .bytes()
        .map(|b| u64::from(b - b'0'))
        .collect();
    let sum: u64 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (10 - i as u64))
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}

/// Makes the records. The error is one sentence naming what is wrong.
pub fn person_records(cfg: &LinkageConfig) -> Result<PersonRecords, ConfigError> {
    if cfg.records == 0 || cfg.records > MAX_RECORDS {
        return Err(ConfigError(format!(
            "the number of records must be between 1 and {MAX_RECORDS}; it is {}",
            cfg.records
        )));
    }
    let target = cfg.records as usize;
    let mut g = Gen::new(cfg.seed);
    let mut out: Vec<PersonRecord> = Vec::with_capacity(target);
    let (mut households, mut person, mut twin_pairs) = (0u32, 0u32, 0u32);
    while out.len() < target {
        let mut twins = 0;
        let h = g.household(&mut twins);
        for p in 0..h.people.len() {
            if out.len() >= target {
                break;
            }
            let n = 1 + g.rng.weighted(&RECORDS_PER_PERSON);
            for _ in 0..n.min(target - out.len()) {
                let r = g.record(&h, p, person, households);
                out.push(r);
            }
            person += 1;
        }
        twin_pairs += twins;
        households += 1;
    }
    // Shuffle (Fisher–Yates) so that order says nothing about who is who.
    for i in (1..out.len()).rev() {
        let j = g.rng.index(i + 1);
        out.swap(i, j);
    }
    Ok(PersonRecords {
        records: out,
        people: person,
        households,
        twin_pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn make(records: u64, seed: u64) -> PersonRecords {
        person_records(&LinkageConfig { records, seed }).unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_records_and_another_seed_others() {
        let a = make(3_000, 7);
        let b = make(3_000, 7);
        let c = make(3_000, 8);
        assert_eq!(a.records, b.records);
        assert_eq!((a.people, a.households), (b.people, b.households));
        assert_ne!(a.records, c.records);
    }

    #[test]
    fn exactly_the_records_asked_for_and_the_truth_adds_up() {
        for n in [1u64, 2, 17, 5_000] {
            let r = make(n, 3);
            assert_eq!(r.records.len() as u64, n);
            // Every person index below `people` has a record; none above.
            let mut per: BTreeMap<u32, usize> = BTreeMap::new();
            let mut household_of: BTreeMap<u32, u32> = BTreeMap::new();
            for rec in &r.records {
                *per.entry(rec.person).or_default() += 1;
                // A person belongs to one household.
                assert_eq!(
                    *household_of.entry(rec.person).or_insert(rec.household),
                    rec.household
                );
            }
            assert_eq!(per.len() as u32, r.people);
            assert_eq!(per.keys().next_back().copied(), Some(r.people - 1));
            assert!(per.values().all(|c| (1..=10).contains(c)), "{per:?}");
            assert!(r.households <= r.people);
        }
        assert!(person_records(&LinkageConfig {
            records: 0,
            seed: 1
        })
        .is_err());
        let e = person_records(&LinkageConfig {
            records: MAX_RECORDS + 1,
            seed: 1,
        })
        .err()
        .unwrap();
        assert!(e.0.contains("between 1 and"), "{e}");
    }

    #[test]
    fn duplication_collisions_and_twins_are_as_designed() {
        let r = make(20_000, 11);
        let mut per: HashMap<u32, usize> = HashMap::new();
        for rec in &r.records {
            *per.entry(rec.person).or_default() += 1;
        }
        let singles = per.values().filter(|c| **c == 1).count() as f64 / per.len() as f64;
        assert!((0.5..0.7).contains(&singles), "{singles}");
        let mean = r.records.len() as f64 / per.len() as f64;
        assert!((1.7..2.4).contains(&mean), "{mean}");
        assert!(per.values().any(|c| *c >= 8));
        assert!(r.twin_pairs > 0);
        // Common names are shared by different people.
        let mut people_by_name: HashMap<(&str, &str), HashSet<u32>> = HashMap::new();
        for rec in &r.records {
            people_by_name
                .entry((&rec.given_name, &rec.family_name))
                .or_default()
                .insert(rec.person);
        }
        let most = people_by_name.values().map(|s| s.len()).max().unwrap();
        assert!(most >= 10, "{most}");
        // Records are shuffled: neighbours are rarely the same person.
        let same_neighbours = r
            .records
            .windows(2)
            .filter(|w| w[0].person == w[1].person)
            .count();
        assert!(same_neighbours < 100, "{same_neighbours}");
    }

    #[test]
    fn every_value_is_synthetic_and_in_a_known_layout() {
        let r = make(5_000, 5);
        for rec in &r.records {
            if !rec.postcode.is_empty() {
                assert!(
                    rec.postcode.to_uppercase().starts_with("NS"),
                    "{}",
                    rec.postcode
                );
            }
            if !rec.email.is_empty() {
                let domain = rec.email.rsplit('@').next().unwrap();
                assert!(domain.starts_with("example."), "{}", rec.email);
            }
            if !rec.identifier.is_empty() {
                let digits: String = rec
                    .identifier
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                assert_eq!(digits.len(), 10, "{}", rec.identifier);
                assert!(digits.starts_with("999"), "{}", rec.identifier);
            }
            if !rec.phone.is_empty() {
                let compact = rec.phone.replace(' ', "").replace("+44", "0");
                assert!(
                    PHONE_RANGES
                        .iter()
                        .any(|(p, _, _)| compact.starts_with(&p.replace(' ', ""))),
                    "{}",
                    rec.phone
                );
            }
            let d = &rec.date_of_birth;
            assert!(
                d.is_empty()
                    || NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
                    || NaiveDate::parse_from_str(d, "%d/%m/%Y").is_ok()
                    || NaiveDate::parse_from_str(d, "%Y%m%d").is_ok()
                    || (d.len() == 4 && d.parse::<i32>().is_ok()),
                "{d}"
            );
            for v in rec.values() {
                assert!(!v.contains('\n') && !v.contains('"'), "{v:?}");
            }
        }
        // The noise is there: several spellings of one person's given name.
        let mut spellings: HashMap<u32, HashSet<&str>> = HashMap::new();
        for rec in &r.records {
            spellings
                .entry(rec.person)
                .or_default()
                .insert(&rec.given_name);
        }
        let noisy_names = spellings.values().filter(|s| s.len() > 1).count();
        assert!(noisy_names > 100, "{noisy_names}");
    }

    #[test]
    fn nhs_check_digits_follow_modulus_11() {
        // 943 476 5919 is the NHS's published example of a valid number.
        assert_eq!(nhs_check_digit(943_476_591), Some(9));
        let mut r = Rng::new(1, Stream::Linkage);
        for _ in 0..100 {
            let pc = postcode_typo(&mut r, "NS3 4AB");
            assert_ne!(pc, "NS3 4AB");
            assert!(pc.starts_with("NS") && pc.len() == 7, "{pc}");
        }
    }
}
