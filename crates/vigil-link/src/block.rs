//! Blocking: which pairs are compared at all. Several rules, OR-ed: a pair
//! is a candidate when any rule gives both records a common key, and each
//! pair is compared once however many rules found it (as Splink does).
//!
//! A block larger than [`crate::Settings::max_block`] (a very common
//! surname born in one year, a postcode covering a block of flats) is not
//! compared all against all: its records are sorted by given name and date
//! of birth and each is compared with the next
//! [`crate::Settings::window`] (a sorted neighbourhood), and the report says
//! how many blocks were so treated and how many pairs were left out.

use crate::compare::Comparison;
use crate::prepare::{Dataset, NONE};
use crate::Settings;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// A blocking rule: records that share its key are compared. Each rule
/// tolerates one kind of error the others do not (a misspelt name, a
/// nickname, a changed family name, a wrong or missing date of birth, a
/// move), and each key is specific enough that blocks stay small as files
/// grow (a rule on names alone or a date alone would make blocks of
/// thousands in a million records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockingRule {
    /// Given and family names sound the same (first words, Double
    /// Metaphone, in either order) and the same year of birth: finds
    /// misspelt and swapped names and wrong days and months.
    NamesSoundAndBirthYear,
    /// The family name sounds the same and the same date of birth: finds
    /// nicknames and other given names.
    FamilySoundAndBirthDate,
    /// The same given-name initial and date of birth: finds changed and
    /// misspelt family names.
    GivenInitialAndBirthDate,
    /// The same whole postcode and given-name initial: finds wrong,
    /// partial and missing dates of birth.
    PostcodeAndGivenInitial,
    /// The family name sounds the same, the same given-name initial and
    /// the same year of birth: finds misspelt given names (Megan, Megvn)
    /// with a partial or wrong date of birth.
    FamilyGivenInitialAndBirthYear,
    /// The same date of birth in the same postcode district: finds
    /// records whose names are both misspelt, missing or changed.
    BirthDateAndDistrict,
    /// The same whole postcode and year of birth: finds swapped and
    /// misspelt names with a wrong day or month.
    PostcodeAndBirthYear,
    /// Names sound the same (either order) in the same postcode district,
    /// or anywhere for records with no postcode: finds wrong dates of
    /// birth together with a move in the district.
    NamesSoundAndDistrict,
    /// An identifier in common.
    Identifier,
    /// A phone number in common.
    Phone,
    /// An email address in common.
    Email,
    /// A vehicle registration in common.
    Vehicle,
}

impl BlockingRule {
    pub const ALL: [BlockingRule; 12] = [
        BlockingRule::NamesSoundAndBirthYear,
        BlockingRule::FamilySoundAndBirthDate,
        BlockingRule::GivenInitialAndBirthDate,
        BlockingRule::FamilyGivenInitialAndBirthYear,
        BlockingRule::BirthDateAndDistrict,
        BlockingRule::PostcodeAndGivenInitial,
        BlockingRule::PostcodeAndBirthYear,
        BlockingRule::NamesSoundAndDistrict,
        BlockingRule::Identifier,
        BlockingRule::Phone,
        BlockingRule::Email,
        BlockingRule::Vehicle,
    ];

    /// The comparisons whose agreement the rule requires or strongly
    /// implies: EM on the pairs this rule finds learns nothing about them
    /// (they agree by construction), so it holds them out.
    pub fn comparisons(self) -> &'static [Comparison] {
        use Comparison as C;
        match self {
            BlockingRule::NamesSoundAndBirthYear => &[C::GivenName, C::FamilyName, C::DateOfBirth],
            BlockingRule::FamilySoundAndBirthDate => &[C::FamilyName, C::DateOfBirth],
            BlockingRule::GivenInitialAndBirthDate => &[C::GivenName, C::DateOfBirth],
            BlockingRule::FamilyGivenInitialAndBirthYear => {
                &[C::FamilyName, C::GivenName, C::DateOfBirth]
            }
            BlockingRule::BirthDateAndDistrict => &[C::DateOfBirth, C::Place],
            BlockingRule::PostcodeAndGivenInitial => &[C::Place, C::GivenName],
            BlockingRule::PostcodeAndBirthYear => &[C::Place, C::DateOfBirth],
            BlockingRule::NamesSoundAndDistrict => &[C::GivenName, C::FamilyName, C::Place],
            BlockingRule::Identifier => &[C::Identifier],
            BlockingRule::Phone => &[C::Phone],
            BlockingRule::Email => &[C::Email],
            BlockingRule::Vehicle => &[C::Vehicle],
        }
    }

    /// Whether EM trains on the rule's pairs. Only rules whose agreement
    /// points at one *person* do: the pairs sharing a postcode, a phone or
    /// a vehicle are mostly people living or travelling together, who
    /// agree on family name, address and phone without being one person,
    /// and EM there learns "same household" instead of "same person".
    pub fn trains(self) -> bool {
        !matches!(
            self,
            BlockingRule::PostcodeAndGivenInitial
                | BlockingRule::PostcodeAndBirthYear
                | BlockingRule::Phone
                | BlockingRule::Vehicle
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BlockingRule::NamesSoundAndBirthYear => "names sound + year of birth",
            BlockingRule::FamilySoundAndBirthDate => "family name sound + date of birth",
            BlockingRule::GivenInitialAndBirthDate => "given initial + date of birth",
            BlockingRule::FamilyGivenInitialAndBirthYear => {
                "family name sound + given initial + year of birth"
            }
            BlockingRule::BirthDateAndDistrict => "date of birth + postcode district",
            BlockingRule::PostcodeAndGivenInitial => "postcode + given initial",
            BlockingRule::PostcodeAndBirthYear => "postcode + year of birth",
            BlockingRule::NamesSoundAndDistrict => "names sound + postcode district",
            BlockingRule::Identifier => "identifier",
            BlockingRule::Phone => "phone",
            BlockingRule::Email => "email",
            BlockingRule::Vehicle => "vehicle",
        }
    }

    /// The rule's keys for record `i` (none when a part is missing).
    pub(crate) fn keys(self, ds: &Dataset, i: usize, out: &mut Vec<u64>) {
        out.clear();
        let r = &ds.recs[i];
        let h = |parts: &[u64]| {
            let mut s = rustc_hash::FxHasher::default();
            (self as u8).hash(&mut s);
            parts.hash(&mut s);
            s.finish()
        };
        let first_token = |n: crate::prepare::NameRef| {
            n.present()
                .then(|| ds.ids(n.tokens).first().copied())
                .flatten()
        };
        let initial = |t: u32| ds.tokens.str(t).chars().next().map_or(0, |c| c as u64);
        let sound = |t: u32| {
            let p = ds.token_info[t as usize].phonetic[0];
            // A word with no phonetic code (digits) blocks on itself.
            if p == NONE {
                u64::from(t) | 1 << 40
            } else {
                u64::from(p)
            }
        };
        let names = || match (first_token(r.given), first_token(r.family)) {
            (Some(g), Some(f)) => {
                let (a, b) = (sound(g), sound(f));
                Some((a.min(b), a.max(b)))
            }
            _ => None,
        };
        let date = r
            .dob
            .filter(|d| d.is_full())
            .map(|d| (u64::from(d.year) << 16) | (u64::from(d.month) << 8) | u64::from(d.day));
        match self {
            BlockingRule::NamesSoundAndBirthYear => {
                if let (Some((a, b)), Some(d)) = (names(), r.dob) {
                    out.push(h(&[a, b, u64::from(d.year)]));
                }
            }
            BlockingRule::FamilySoundAndBirthDate => {
                if let (Some(f), Some(d)) = (first_token(r.family), date) {
                    out.push(h(&[sound(f), d]));
                }
            }
            BlockingRule::GivenInitialAndBirthDate => {
                if let (Some(g), Some(d)) = (first_token(r.given), date) {
                    out.push(h(&[initial(g), d]));
                }
            }
            BlockingRule::FamilyGivenInitialAndBirthYear => {
                if let (Some(f), Some(g), Some(d)) =
                    (first_token(r.family), first_token(r.given), r.dob)
                {
                    out.push(h(&[sound(f), initial(g), u64::from(d.year)]));
                }
            }
            BlockingRule::BirthDateAndDistrict => {
                // A postcode that is not a UK one (no district) counts
                // whole, as in NamesSoundAndDistrict: without it the rule
                // found nothing in a file of other countries' postcodes.
                let area = if r.district != NONE {
                    Some(u64::from(r.district))
                } else if r.postcode != NONE {
                    Some(u64::from(r.postcode) | 1 << 40)
                } else {
                    None
                };
                if let (Some(d), Some(a)) = (date, area) {
                    out.push(h(&[d, a]));
                }
            }
            BlockingRule::PostcodeAndGivenInitial => {
                if let (true, Some(g)) = (r.postcode != NONE, first_token(r.given)) {
                    out.push(h(&[u64::from(r.postcode), initial(g)]));
                }
            }
            BlockingRule::PostcodeAndBirthYear => {
                if let (true, Some(d)) = (r.postcode != NONE, r.dob) {
                    out.push(h(&[u64::from(r.postcode), u64::from(d.year)]));
                }
            }
            BlockingRule::NamesSoundAndDistrict => {
                if let Some((a, b)) = names() {
                    let district = if r.district != NONE {
                        u64::from(r.district)
                    } else if r.postcode != NONE {
                        // A postcode that is not a UK one: the whole.
                        u64::from(r.postcode) | 1 << 40
                    } else {
                        u64::MAX
                    };
                    out.push(h(&[a, b, district]));
                }
            }
            BlockingRule::Identifier => {
                for &v in ds.ids(r.identifier) {
                    out.push(h(&[u64::from(v)]));
                }
            }
            BlockingRule::Phone => {
                for &v in ds.ids(r.phone) {
                    out.push(h(&[u64::from(v)]));
                }
            }
            BlockingRule::Email => {
                for &v in ds.ids(r.email) {
                    out.push(h(&[u64::from(v)]));
                }
            }
            BlockingRule::Vehicle => {
                for &v in ds.ids(r.vehicle) {
                    out.push(h(&[u64::from(v)]));
                }
            }
        }
    }
}

/// What blocking did, rule by rule.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BlockingReport {
    pub rules: Vec<RuleReport>,
    /// Distinct candidate pairs after the rules are OR-ed.
    pub pairs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleReport {
    pub rule: BlockingRule,
    /// Pairs the rule found (before removing those an earlier rule found).
    pub pairs: u64,
    pub largest_block: u64,
    /// Blocks over the size limit, compared as a sorted neighbourhood.
    pub giant_blocks: u64,
    /// Pairs in those blocks that were not compared.
    pub pairs_skipped: u64,
}

/// Candidate pairs: `(i, j)` with `i < j`, each once, sorted.
pub struct Blocking {
    pub pairs: Vec<(u32, u32)>,
    pub report: BlockingReport,
    /// For each rule, an even sample of the pairs it found (at most
    /// `Settings::em_pairs`): the training sessions of EM.
    pub samples: Vec<(BlockingRule, Vec<(u32, u32)>)>,
}

/// Runs every rule of `settings` and returns the distinct pairs.
pub fn block(ds: &Dataset, settings: &Settings) -> Blocking {
    let mut all: Vec<u64> = Vec::new();
    let mut report = BlockingReport::default();
    let mut samples = Vec::new();
    for &rule in &settings.blocking_rules {
        let (pairs, r) = rule_pairs(ds, rule, settings);
        report.rules.push(r);
        let step = pairs.len().div_ceil(settings.em_pairs.max(1)).max(1);
        let sample: Vec<(u32, u32)> = pairs
            .iter()
            .step_by(step)
            .map(|&p| ((p >> 32) as u32, p as u32))
            .collect();
        samples.push((rule, sample));
        all.extend(pairs);
    }
    all.par_sort_unstable();
    all.dedup();
    report.pairs = all.len() as u64;
    let pairs = all
        .into_iter()
        .map(|p| ((p >> 32) as u32, p as u32))
        .collect();
    Blocking {
        pairs,
        report,
        samples,
    }
}

fn rule_pairs(ds: &Dataset, rule: BlockingRule, settings: &Settings) -> (Vec<u64>, RuleReport) {
    let n = ds.len();
    let mut keyed: Vec<(u64, u32)> = (0..n)
        .into_par_iter()
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut acc, mut buf): (Vec<(u64, u32)>, Vec<u64>), i| {
                rule.keys(ds, i, &mut buf);
                acc.extend(buf.iter().map(|&k| (k, i as u32)));
                (acc, buf)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(Vec::new, |mut a, b| {
            a.extend(b);
            a
        });
    keyed.par_sort_unstable();
    keyed.dedup();
    // Block boundaries.
    let mut starts = Vec::new();
    let mut k = 0;
    while k < keyed.len() {
        let mut e = k + 1;
        while e < keyed.len() && keyed[e].0 == keyed[k].0 {
            e += 1;
        }
        if e - k > 1 {
            starts.push((k, e));
        }
        k = e;
    }
    let max_block = settings.max_block.max(2);
    let window = settings.window.max(2);
    let results: Vec<(Vec<u64>, u64, u64)> = starts
        .par_iter()
        .map(|&(s, e)| {
            let mut members: Vec<u32> = keyed[s..e].iter().map(|&(_, i)| i).collect();
            let size = members.len();
            let mut out = Vec::new();
            let full = (size * (size - 1) / 2) as u64;
            if size <= max_block {
                for a in 0..size {
                    for b in a + 1..size {
                        out.push(pair_key(members[a], members[b]));
                    }
                }
                (out, 0, 0)
            } else {
                members.sort_by(|&x, &y| neighbourhood_key(ds, x).cmp(&neighbourhood_key(ds, y)));
                for a in 0..size {
                    for b in a + 1..(a + window).min(size) {
                        out.push(pair_key(members[a], members[b]));
                    }
                }
                let done = out.len() as u64;
                (out, 1, full - done)
            }
        })
        .collect();
    let mut r = RuleReport {
        rule,
        pairs: 0,
        largest_block: starts
            .iter()
            .map(|(s, e)| (e - s) as u64)
            .max()
            .unwrap_or(0),
        giant_blocks: 0,
        pairs_skipped: 0,
    };
    let mut pairs = Vec::with_capacity(results.iter().map(|x| x.0.len()).sum());
    for (p, g, skipped) in results {
        r.pairs += p.len() as u64;
        r.giant_blocks += g;
        r.pairs_skipped += skipped;
        pairs.extend(p);
    }
    (pairs, r)
}

fn pair_key(a: u32, b: u32) -> u64 {
    let (i, j) = if a < b { (a, b) } else { (b, a) };
    (u64::from(i) << 32) | u64::from(j)
}

/// Order inside a giant block: given name, family name, then date of
/// birth, so that neighbours are the likeliest matches.
fn neighbourhood_key(ds: &Dataset, i: u32) -> (&str, &str, Option<crate::record::Dob>, u32) {
    let r = &ds.recs[i as usize];
    let given = if r.given.present() {
        ds.given.str(r.given.full)
    } else {
        ""
    };
    let family = if r.family.present() {
        ds.family.str(r.family.full)
    } else {
        ""
    };
    (given, family, r.dob, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Dob, Record};

    /// The rule's keys of each record, all in one dataset (keys are made
    /// of interned ids).
    fn keys(rule: BlockingRule, rs: &[Record]) -> Vec<Vec<u64>> {
        let ds = Dataset::new(rs);
        (0..rs.len())
            .map(|i| {
                let mut out = Vec::new();
                rule.keys(&ds, i, &mut out);
                out
            })
            .collect()
    }

    #[test]
    fn date_of_birth_and_area_blocks_other_countries_postcodes_whole() {
        let r = |given: &str, pc: Option<&str>| Record {
            given_name: Some(given.into()),
            dob: Dob::full(1964, 12, 23),
            postcode: pc.map(Into::into),
            ..Record::default()
        };
        let mut year_only = r("e", Some("2229"));
        year_only.dob = Some(Dob::year_only(1964));
        let k = keys(
            BlockingRule::BirthDateAndDistrict,
            &[
                // Australian postcodes: the whole of each is the area.
                r("olivia", Some("2229")),
                r("blackwell", Some("2229")),
                r("olivia", Some("2230")),
                // UK postcodes: the district.
                r("a", Some("NS1 4AB")),
                r("b", Some("NS1 9ZZ")),
                r("c", Some("NS2 4AB")),
                r("d", None),
                year_only,
            ],
        );
        assert_eq!(k[0].len(), 1);
        assert_eq!(k[0], k[1]);
        assert_ne!(k[0], k[2]);
        assert_eq!(k[3], k[4]);
        assert_ne!(k[3], k[5]);
        assert!(k[6].is_empty() && k[7].is_empty());
    }
}
