//! Comparisons and their levels: for each [`Comparison`], the ordered
//! levels a pair of records can fall in, from the most to the least alike,
//! the first that holds being the pair's level (as in Splink). Level 0 of
//! every comparison is "missing" (either side has no value): it has no m or
//! u and contributes nothing, so a missing value is never counted as a
//! disagreement.
//!
//! Most comparisons read one [`Field`]. Address, postcode and locality are
//! read together by one comparison, [`Comparison::Place`], because they
//! are not independent: two records at the same address have the same
//! postcode, so scoring them apart would count one fact twice (and count
//! every pair of people living together twice as strongly as a match).
//!
//! String metrics are `strsim`'s (Jaro–Winkler, optimal string alignment);
//! phonetic codes, skeletons and nicknames are `vigil_model::names`'s,
//! computed once per distinct word in [`crate::prepare`].

use crate::prepare::{Dataset, NameRef, Prep, NONE};
use crate::record::Field;
use serde::{Deserialize, Serialize};

/// The level of "either value is missing", for every comparison.
pub const MISSING: u8 = 0;

/// What the model compares between two records. There is no comparison of
/// sex, ethnicity, nationality or religion, and none can be made: each
/// reads only [`Field`]s, which have no such variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    GivenName,
    FamilyName,
    OtherName,
    DateOfBirth,
    /// Address, postcode and locality together.
    Place,
    Phone,
    Email,
    Vehicle,
    Identifier,
}

/// How many comparisons (the length of a comparison vector).
pub const NC: usize = 9;

impl Comparison {
    pub const ALL: [Comparison; NC] = [
        Comparison::GivenName,
        Comparison::FamilyName,
        Comparison::OtherName,
        Comparison::DateOfBirth,
        Comparison::Place,
        Comparison::Phone,
        Comparison::Email,
        Comparison::Vehicle,
        Comparison::Identifier,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The fields the comparison reads.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Comparison::GivenName => &[Field::GivenName, Field::FamilyName],
            Comparison::FamilyName => &[Field::FamilyName, Field::GivenName],
            Comparison::OtherName => &[Field::OtherName, Field::GivenName, Field::FamilyName],
            Comparison::DateOfBirth => &[Field::DateOfBirth],
            Comparison::Place => &[Field::Address, Field::Postcode, Field::Locality],
            Comparison::Phone => &[Field::Phone],
            Comparison::Email => &[Field::Email],
            Comparison::Vehicle => &[Field::Vehicle],
            Comparison::Identifier => &[Field::Identifier],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GivenName => "given_name",
            Comparison::FamilyName => "family_name",
            Comparison::OtherName => "other_name",
            Comparison::DateOfBirth => "dob",
            Comparison::Place => "place",
            Comparison::Phone => "phone",
            Comparison::Email => "email",
            Comparison::Vehicle => "vehicle",
            Comparison::Identifier => "identifier",
        }
    }

    /// Words a person reads in an explanation.
    pub fn label(self) -> &'static str {
        match self {
            Comparison::GivenName => "given name",
            Comparison::FamilyName => "family name",
            Comparison::OtherName => "other name",
            Comparison::DateOfBirth => "date of birth",
            Comparison::Place => "address and postcode",
            Comparison::Phone => "phone",
            Comparison::Email => "email",
            Comparison::Vehicle => "vehicle",
            Comparison::Identifier => "identifier",
        }
    }

    /// The names of the levels, index = level.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Comparison::GivenName => GIVEN,
            Comparison::FamilyName => FAMILY,
            Comparison::OtherName => OTHER,
            Comparison::DateOfBirth => DOB,
            Comparison::Place => PLACE,
            Comparison::Phone => PHONE,
            Comparison::Email => EMAIL,
            Comparison::Vehicle => VEHICLE,
            Comparison::Identifier => IDENTIFIER,
        }
    }

    /// How many levels (missing included).
    pub fn level_count(self) -> usize {
        self.levels().len()
    }

    /// The values compared, as a person reads them in an explanation.
    pub fn text(self, r: &crate::record::Record) -> Option<String> {
        let parts: Vec<String> = match self {
            Comparison::GivenName | Comparison::FamilyName | Comparison::OtherName => {
                return r.text(self.fields()[0]);
            }
            _ => self.fields().iter().filter_map(|&f| r.text(f)).collect(),
        };
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const GIVEN: &[&str] = &[
    "missing",
    "exact",
    "swapped with the family name",
    "a word the same, or a typo (Jaro-Winkler >= 0.92)",
    "nickname or listed variant",
    "same sound or transliteration",
    "similar (Jaro-Winkler >= 0.80)",
    "different",
];
pub(crate) mod given {
    pub const EXACT: u8 = 1;
    pub const SWAPPED: u8 = 2;
}

const FAMILY: &[&str] = &[
    "missing",
    "exact",
    "a word the same, or a typo (Jaro-Winkler >= 0.92)",
    "same sound or transliteration",
    "similar (Jaro-Winkler >= 0.80)",
    "different",
];
pub(crate) const EXACT: u8 = 1;

const OTHER: &[&str] = &[
    "missing",
    "exact",
    "one of the other record's names",
    "different",
];

const DOB: &[&str] = &[
    "missing",
    "exact",
    "day and month swapped",
    "one digit different",
    "same year (only the year is known)",
    "within a year",
    "different",
];

const PLACE: &[&str] = &[
    "missing",
    "same address and postcode",
    "same address, no postcode to compare",
    "same address, another postcode",
    "same street and postcode, another number",
    "same postcode, no address to compare",
    "same postcode, another address",
    "same street, postcode not the same",
    "same postcode sector or district",
    "same locality only",
    "different",
];
pub(crate) mod place {
    /// Levels at which the postcode is what agrees (term frequency applies).
    pub const POSTCODE_AGREES: [u8; 2] = [5, 6];
}

/// Address parts compared (internal; folded into the place level).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Addr {
    Missing,
    Same,
    Street,
    Different,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Post {
    Missing,
    Same,
    Area,
    Different,
}
const PHONE: &[&str] = &["missing", "exact", "one digit different", "different"];
const EMAIL: &[&str] = &["missing", "exact", "same user name", "different"];
const VEHICLE: &[&str] = &["missing", "exact", "partial registration", "different"];
const IDENTIFIER: &[&str] = &["missing", "exact", "one character different", "different"];

/// Per-dataset tables the address comparison needs: which address words
/// are too common to identify a street (from the model), and each word's
/// skeleton (for misspelt street names).
pub(crate) struct AddressTables {
    pub(crate) letters: Vec<u64>,
    pub(crate) locality_letters: Vec<u64>,
    pub(crate) common: Vec<bool>,
    pub(crate) numeric: Vec<bool>,
    pub(crate) skeleton: Vec<u32>,
}

impl AddressTables {
    pub(crate) fn new(ds: &Dataset, is_common: impl Fn(&str) -> bool) -> AddressTables {
        let mut skel = crate::prepare::Interner::default();
        let n = ds.address_words.len();
        let mut common = Vec::with_capacity(n);
        let mut numeric = Vec::with_capacity(n);
        let mut skeleton = Vec::with_capacity(n);
        let mut letters = Vec::with_capacity(n);
        for w in &ds.address_words.text {
            letters.push(letter_counts(w));
            common.push(is_common(w));
            let num = w.chars().any(|c| c.is_ascii_digit());
            numeric.push(num);
            let s = vigil_model::names::skeleton(w);
            skeleton.push(if num || s.len() < 3 {
                NONE
            } else {
                skel.id(&s)
            });
        }
        AddressTables {
            locality_letters: ds.locality.text.iter().map(|t| letter_counts(t)).collect(),
            letters,
            common,
            numeric,
            skeleton,
        }
    }
}

/// Levels of every comparison for records `i` and `j`.
pub(crate) fn levels(ds: &Dataset, at: &AddressTables, i: usize, j: usize) -> [u8; NC] {
    let (a, b) = (&ds.recs[i], &ds.recs[j]);
    let swapped = is_swapped(ds, a, b);
    [
        if swapped {
            given::SWAPPED
        } else {
            name_level(ds, a.given, b.given, true)
        },
        // A swap is evidence once, on the given name.
        if swapped {
            MISSING
        } else {
            name_level(ds, a.family, b.family, false)
        },
        other_level(ds, a, b),
        dob_level(a, b),
        place_level(ds, at, a, b),
        set_level(ds, a.phone, b.phone, &ds.phone, phone_near),
        set_level(ds, a.email, b.email, &ds.email, email_near),
        set_level(ds, a.vehicle, b.vehicle, &ds.vehicle, vehicle_near),
        set_level(ds, a.identifier, b.identifier, &ds.identifier, code_near),
    ]
}

/// Packs levels four bits each.
pub(crate) fn pack(l: &[u8; NC]) -> u64 {
    l.iter()
        .enumerate()
        .fold(0u64, |acc, (i, &v)| acc | (u64::from(v) << (4 * i)))
}

pub(crate) fn unpack(g: u64, f: usize) -> u8 {
    ((g >> (4 * f)) & 0xF) as u8
}

fn tokens_equal(ds: &Dataset, x: NameRef, y: NameRef) -> bool {
    x.present() && y.present() && same_ids(ds.ids(x.tokens), ds.ids(y.tokens))
}

/// Given and family names exchanged between the two records (and not
/// simply the same: "James James").
fn is_swapped(ds: &Dataset, a: &Prep, b: &Prep) -> bool {
    tokens_equal(ds, a.given, b.family)
        && tokens_equal(ds, a.family, b.given)
        && !tokens_equal(ds, a.given, b.given)
}

/// How alike two name words are: 0 the same or a typo, 1 nickname, 2 same
/// sound or skeleton, 3 similar, 4 different.
fn token_rank(ds: &Dataset, x: u32, y: u32, nicknames: bool) -> u8 {
    if x == y {
        return 0;
    }
    let (sx, sy) = (ds.tokens.str(x), ds.tokens.str(y));
    let (ix, iy) = (&ds.token_info[x as usize], &ds.token_info[y as usize]);
    // Jaro-Winkler only when it could reach 0.80 (most pairs of names
    // share too few letters to).
    let jw = if jw_bound(sx, sy, ix.letters, iy.letters) >= 0.80 {
        strsim::jaro_winkler(sx, sy)
    } else {
        0.0
    };
    if jw >= 0.92 {
        return 0;
    }
    if nicknames && ix.nick.iter().any(|&n| n != NONE && iy.nick.contains(&n)) {
        return 1;
    }
    let phon = ix
        .phonetic
        .iter()
        .any(|&p| p != NONE && iy.phonetic.contains(&p));
    if phon || (ix.skeleton != NONE && ix.skeleton == iy.skeleton) {
        return 2;
    }
    if jw >= 0.80 {
        return 3;
    }
    4
}

/// Given name (with nicknames) or family name level. The best pair of
/// words decides, so "Mary Ann" and "Mary" are "a word the same".
fn name_level(ds: &Dataset, x: NameRef, y: NameRef, given: bool) -> u8 {
    if !x.present() || !y.present() {
        return MISSING;
    }
    if same_ids(ds.ids(x.tokens), ds.ids(y.tokens)) {
        return EXACT;
    }
    let mut best = 4u8;
    'outer: for &tx in ds.ids(x.tokens) {
        for &ty in ds.ids(y.tokens) {
            best = best.min(token_rank(ds, tx, ty, given));
            if best == 0 {
                break 'outer;
            }
        }
    }
    if given {
        // 3 typo, 4 nickname, 5 sound, 6 similar, 7 different
        3 + best
    } else {
        // 2 typo, 3 sound, 4 similar, 5 different (no nickname level)
        match best {
            0 => 2,
            1 | 2 => 3,
            3 => 4,
            _ => 5,
        }
    }
}

/// Other names (middle names, aliases): the same, or one of them among
/// the other record's names of any kind.
fn other_level(ds: &Dataset, a: &Prep, b: &Prep) -> u8 {
    if !a.other.present() || !b.other.present() {
        return MISSING;
    }
    if same_ids(ds.ids(a.other.tokens), ds.ids(b.other.tokens)) {
        return 1;
    }
    let among = |t: &u32, p: &Prep| {
        [p.given, p.family, p.other]
            .iter()
            .any(|n| n.present() && ds.ids(n.tokens).contains(t))
    };
    let shared = ds.ids(a.other.tokens).iter().any(|t| among(t, b))
        || ds.ids(b.other.tokens).iter().any(|t| among(t, a));
    if shared {
        2
    } else {
        3
    }
}

/// The eight digits of YYYYMMDD.
fn dob_digits(d: &crate::record::Dob) -> [u8; 8] {
    let (y, m, dd) = (d.year as u32, d.month as u32, d.day as u32);
    [
        (y / 1000 % 10) as u8,
        (y / 100 % 10) as u8,
        (y / 10 % 10) as u8,
        (y % 10) as u8,
        (m / 10) as u8,
        (m % 10) as u8,
        (dd / 10) as u8,
        (dd % 10) as u8,
    ]
}

fn dob_level(a: &Prep, b: &Prep) -> u8 {
    let (Some(x), Some(y)) = (a.dob, b.dob) else {
        return MISSING;
    };
    if x.is_full() && y.is_full() {
        if x == y {
            return 1;
        }
        if x.year == y.year && x.day == y.month && x.month == y.day {
            return 2;
        }
        let (dx, dy) = (dob_digits(&x), dob_digits(&y));
        let diff = dx.iter().zip(&dy).filter(|(p, q)| p != q).count();
        let transposed = diff == 2 && {
            let k: Vec<usize> = (0..8).filter(|&k| dx[k] != dy[k]).collect();
            k[1] == k[0] + 1 && dx[k[0]] == dy[k[1]] && dx[k[1]] == dy[k[0]]
        };
        if diff == 1 || transposed {
            return 3;
        }
        if let (Some(p), Some(q)) = (x.day_number(), y.day_number()) {
            if (p - q).abs() <= 365 {
                return 5;
            }
        }
        return 6;
    }
    // Known only to the month or year on at least one side.
    let months_agree = x.month == 0 || y.month == 0 || x.month == y.month;
    if x.year == y.year && months_agree {
        return 4;
    }
    if x.year.abs_diff(y.year) <= 1 {
        return 5;
    }
    6
}

fn address_level(ds: &Dataset, at: &AddressTables, a: &Prep, b: &Prep) -> Addr {
    if a.address == NONE || b.address == NONE {
        return Addr::Missing;
    }
    if a.address == b.address {
        return Addr::Same;
    }
    let (wa, wb) = (ds.ids(a.address_words), ds.ids(b.address_words));
    let mut number = false;
    let mut street = false;
    for &x in wa {
        let (xi, num) = (x as usize, at.numeric[x as usize]);
        for &y in wb {
            if num {
                number |= x == y;
            } else if !at.common[xi] && !at.numeric[y as usize] && !at.common[y as usize] {
                let yi = y as usize;
                street = street
                    || x == y
                    || (at.skeleton[xi] != NONE && at.skeleton[xi] == at.skeleton[yi])
                    || street_typo(
                        ds.address_words.str(x),
                        ds.address_words.str(y),
                        at.letters[xi],
                        at.letters[yi],
                    );
            }
        }
    }
    match (street, number) {
        (true, true) => Addr::Same,
        (true, false) => Addr::Street,
        _ => Addr::Different,
    }
}

/// A misspelt street word: both long enough that Jaro-Winkler means
/// something, and close.
fn street_typo(x: &str, y: &str, lx: u64, ly: u64) -> bool {
    x.len() >= 5
        && y.len() >= 5
        && jw_bound(x, y, lx, ly) >= 0.92
        && strsim::jaro_winkler(x, y) >= 0.92
}

/// Postcodes: the same (or one character different: a typo), the same
/// sector or district, or different.
fn postcode_level(ds: &Dataset, a: &Prep, b: &Prep) -> Post {
    let has = |p: &Prep| p.postcode != NONE || p.district != NONE;
    if !has(a) || !has(b) {
        return Post::Missing;
    }
    if a.postcode != NONE && a.postcode == b.postcode {
        return Post::Same;
    }
    if a.postcode != NONE && b.postcode != NONE {
        let (x, y) = (ds.postcode.str(a.postcode), ds.postcode.str(b.postcode));
        if within_one_edit(x.as_bytes(), y.as_bytes()) {
            return Post::Same;
        }
    }
    if (a.sector != NONE && a.sector == b.sector)
        || (a.district != NONE && a.district == b.district)
    {
        return Post::Area;
    }
    // One side known only to the district, the other with no district
    // (not a UK postcode): nothing to compare.
    if (a.postcode == NONE || b.postcode == NONE) && (a.district == NONE || b.district == NONE) {
        return Post::Missing;
    }
    Post::Different
}

/// Localities: the same or nearly (Jaro-Winkler >= 0.90); `None` if
/// either is missing.
fn locality_same(ds: &Dataset, at: &AddressTables, a: &Prep, b: &Prep) -> Option<bool> {
    if a.locality == NONE || b.locality == NONE {
        return None;
    }
    if a.locality == b.locality {
        return Some(true);
    }
    let (x, y) = (ds.locality.str(a.locality), ds.locality.str(b.locality));
    let (lx, ly) = (
        at.locality_letters[a.locality as usize],
        at.locality_letters[b.locality as usize],
    );
    Some(jw_bound(x, y, lx, ly) >= 0.90 && strsim::jaro_winkler(x, y) >= 0.90)
}

/// Address, postcode and locality as one comparison (see [`PLACE`]).
fn place_level(ds: &Dataset, at: &AddressTables, a: &Prep, b: &Prep) -> u8 {
    let ad = address_level(ds, at, a, b);
    let pc = postcode_level(ds, a, b);
    let loc = locality_same(ds, at, a, b);
    use Addr as A;
    use Post as P;
    match (ad, pc) {
        (A::Missing, P::Missing) => match loc {
            None => MISSING,
            Some(true) => 9,
            Some(false) => 10,
        },
        (A::Same, P::Same) => 1,
        (A::Same, P::Missing) => 2,
        (A::Same, _) => 3,
        (A::Street, P::Same) => 4,
        (A::Missing, P::Same) => 5,
        (A::Different, P::Same) => 6,
        (A::Street, _) => 7,
        (_, P::Area) => 8,
        _ => {
            if loc == Some(true) {
                9
            } else {
                10
            }
        }
    }
}

/// Sets of values (phones, emails, vehicles, identifiers): exact if any
/// value is shared, "near" if any pair is near, else different.
fn set_level(
    ds: &Dataset,
    x: crate::prepare::Span,
    y: crate::prepare::Span,
    table: &crate::prepare::Interner,
    near: fn(&str, &str) -> bool,
) -> u8 {
    let (xs, ys) = (ds.ids(x), ds.ids(y));
    if xs.is_empty() || ys.is_empty() {
        return MISSING;
    }
    if xs.iter().any(|v| ys.contains(v)) {
        return 1;
    }
    for &p in xs {
        for &q in ys {
            if near(table.str(p), table.str(q)) {
                return 2;
            }
        }
    }
    3
}

fn phone_near(x: &str, y: &str) -> bool {
    x.len() >= 9 && y.len() >= 9 && within_one_edit(x.as_bytes(), y.as_bytes())
}

fn email_near(x: &str, y: &str) -> bool {
    match (x.split_once('@'), y.split_once('@')) {
        (Some((ux, _)), Some((uy, _))) => ux.len() >= 3 && ux == uy,
        _ => false,
    }
}

/// A partial registration: one a part of the other (at least three
/// characters, as witnesses recall them), or one character different.
fn vehicle_near(x: &str, y: &str) -> bool {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    (short.len() >= 3 && long.contains(short))
        || (short.len() >= 5 && within_one_edit(x.as_bytes(), y.as_bytes()))
}

fn code_near(x: &str, y: &str) -> bool {
    x.len() >= 6 && y.len() >= 6 && within_one_edit(x.as_bytes(), y.as_bytes())
}

/// Whether two strings are at most one edit apart in the optimal string
/// alignment sense (a substitution, an insertion or deletion, or two
/// neighbours exchanged): `strsim::osa_distance(a, b) <= 1` without its
/// allocation, for the hot path (a test checks they agree).
pub(crate) fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let mut i = 0;
    while i < la.min(lb) && a[i] == b[i] {
        i += 1;
    }
    if i == la && i == lb {
        return true;
    }
    match la.cmp(&lb) {
        std::cmp::Ordering::Equal => {
            same_bytes(&a[i + 1..], &b[i + 1..])
                || (i + 1 < la
                    && a[i] == b[i + 1]
                    && a[i + 1] == b[i]
                    && same_bytes(&a[i + 2..], &b[i + 2..]))
        }
        std::cmp::Ordering::Greater => same_bytes(&a[i + 1..], &b[i..]),
        std::cmp::Ordering::Less => same_bytes(&a[i..], &b[i + 1..]),
    }
}

/// Slices of ids equal (a loop: most are one id long, and a call to
/// `memcmp` costs more than the comparison).
#[inline]
fn same_ids(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Counts of each letter (26 buckets, digits, anything else), two bits
/// each, 3 meaning "three or more", and the length in characters in the
/// top eight bits (at most 255): for [`jw_bound`].
pub(crate) fn letter_counts(s: &str) -> u64 {
    let mut x = 0u64;
    let mut n = 0u64;
    for c in s.chars() {
        n += 1;
        let k = match c {
            'a'..='z' => c as u64 - 'a' as u64,
            '0'..='9' => 26,
            _ => 27,
        };
        if (x >> (2 * k)) & 3 < 3 {
            x += 1 << (2 * k);
        }
    }
    x | (n.min(255) << 56)
}

/// An upper bound of `strsim::jaro_winkler(a, b)` from letter counts and
/// the common prefix: Jaro's matching characters are at most the letters
/// the two have in common, transpositions only lower it, and Winkler's
/// bonus is at most the common prefix (up to four) times 0.1.
pub(crate) fn jw_bound(a: &str, b: &str, la: u64, lb: u64) -> f64 {
    let (na, nb) = ((la >> 56) as usize, (lb >> 56) as usize);
    if na == 255 || nb == 255 {
        return 1.0;
    }
    if na == 0 || nb == 0 {
        return 0.0;
    }
    let mut common = 0usize;
    for k in 0..28 {
        let (ca, cb) = ((la >> (2 * k)) & 3, (lb >> (2 * k)) & 3);
        if ca == 3 && cb == 3 {
            common = na.min(nb);
            break;
        }
        common += ca.min(cb) as usize;
    }
    let m = common.min(na).min(nb) as f64;
    let j = (m / na as f64 + m / nb as f64 + 1.0) / 3.0;
    // Bytes, not characters: a longer common prefix in bytes only loosens
    // the bound.
    let prefix = a
        .bytes()
        .zip(b.bytes())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count() as f64;
    (j + 0.1 * prefix * (1.0 - j)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Dob, Record};

    fn pair(a: Record, b: Record) -> [u8; NC] {
        let ds = Dataset::new(&[a, b]);
        let at = AddressTables::new(&ds, |w| ["road", "street", "flat"].contains(&w));
        levels(&ds, &at, 0, 1)
    }

    fn names(g1: &str, f1: &str, g2: &str, f2: &str) -> (&'static str, &'static str) {
        let r = |g: &str, f: &str| Record {
            given_name: (!g.is_empty()).then(|| g.into()),
            family_name: (!f.is_empty()).then(|| f.into()),
            ..Record::default()
        };
        let l = pair(r(g1, f1), r(g2, f2));
        (GIVEN[l[0] as usize], FAMILY[l[1] as usize])
    }

    #[test]
    fn names_exact_typo_nickname_transliteration_swapped_missing() {
        assert_eq!(names("Aisha", "Khan", "AISHA", "khan"), ("exact", "exact"));
        assert_eq!(names("Zoë", "Núñez", "zoe", "Nunez"), ("exact", "exact"));
        assert_eq!(names("Jonathon", "Smith", "Jonathan", "Smyth").0, GIVEN[3]);
        assert_eq!(names("Bill", "Stone", "William", "Stone").0, GIVEN[4]);
        // Transliterations: listed in the variants table, or meeting in
        // the skeleton or the sound.
        assert_eq!(names("Mohammed", "Ali", "Muhammad", "Aly").0, GIVEN[4]);
        assert_eq!(
            names("Yusuf", "Chaudhry", "Yousif", "Choudhury"),
            (
                "same sound or transliteration",
                "same sound or transliteration"
            )
        );
        assert_eq!(
            names("Aisha", "Begum", "Begum", "Aisha"),
            ("swapped with the family name", "missing")
        );
        // "James James" is not a swap.
        assert_eq!(
            names("James", "James", "James", "James"),
            ("exact", "exact")
        );
        assert_eq!(names("", "Khan", "Aisha", "Khan"), ("missing", "exact"));
        assert_eq!(
            names("Peter", "Ward", "Aisha", "Begum"),
            ("different", "different")
        );
        // Words: a second given name, a double-barrelled family name.
        assert_eq!(
            names("Mary Ann", "Smith-Jones", "Mary", "Smith").0,
            GIVEN[3]
        );
        assert_eq!(
            names("Mary Ann", "Smith-Jones", "Mary", "Smith").1,
            FAMILY[2]
        );
        // Only punctuation is no name at all.
        assert_eq!(names("--", "", "Aisha", ""), ("missing", "missing"));
        // Non-Latin letters compare as themselves (no transliteration table
        // for scripts: exact or different).
        assert_eq!(names("Дмитрий", "", "Дмитрий", "").0, "exact");
        assert_eq!(names("Дмитрий", "", "Zoe", "").0, "different");
    }

    fn dobs(x: Option<Dob>, y: Option<Dob>) -> &'static str {
        let r = |d| Record {
            dob: d,
            ..Record::default()
        };
        DOB[pair(r(x), r(y))[3] as usize]
    }

    #[test]
    fn dates_exact_swapped_typo_year_only_within_a_year() {
        let f = |y, m, d| Dob::full(y, m, d);
        assert_eq!(dobs(f(2010, 3, 7), f(2010, 3, 7)), "exact");
        assert_eq!(dobs(f(2010, 3, 7), f(2010, 7, 3)), "day and month swapped");
        assert_eq!(dobs(f(2010, 3, 7), f(2010, 3, 8)), "one digit different");
        assert_eq!(
            dobs(f(2010, 3, 17), f(2010, 3, 71 - 60)),
            "one digit different"
        );
        assert_eq!(dobs(f(2010, 3, 12), f(2010, 3, 21)), "one digit different");
        assert_eq!(dobs(f(2010, 3, 7), Some(Dob::year_only(2010))), DOB[4]);
        assert_eq!(
            dobs(f(2010, 3, 7), Some(Dob::year_only(2011))),
            "within a year"
        );
        assert_eq!(dobs(f(2010, 3, 7), f(2010, 11, 29)), "within a year");
        assert_eq!(dobs(f(2010, 3, 7), f(2004, 9, 29)), "different");
        assert_eq!(dobs(None, f(2004, 9, 29)), "missing");
        let m = |y, m| {
            Some(Dob {
                year: y,
                month: m,
                day: 0,
            })
        };
        assert_eq!(dobs(m(2010, 3), f(2010, 3, 9)), DOB[4]);
        assert_eq!(dobs(m(2010, 4), f(2010, 3, 9)), "within a year");
    }

    #[test]
    fn places_addresses_postcodes_localities() {
        let r = |addr: &str, pc: &str, loc: &str| Record {
            address: (!addr.is_empty()).then(|| addr.into()),
            postcode: (!pc.is_empty()).then(|| pc.into()),
            locality: (!loc.is_empty()).then(|| loc.into()),
            ..Record::default()
        };
        let place = |a: Record, b: Record| PLACE[pair(a, b)[4] as usize];
        assert_eq!(
            place(
                r("12 Acacia Road", "NS1 4AB", ""),
                r("12 acacia road", "ns14ab", "")
            ),
            "same address and postcode"
        );
        // A flat number, a misspelt street, a postcode one character out.
        assert_eq!(
            place(
                r("12 Acacia Road", "NS1 4AB", ""),
                r("Flat 3, 12 Acacai Road", "NS1 4AD", "")
            ),
            "same address and postcode"
        );
        assert_eq!(
            place(
                r("12 Acacia Road", "", ""),
                r("12 Acacia Road", "NS1 4AD", "")
            ),
            "same address, no postcode to compare"
        );
        assert_eq!(
            place(
                r("12 Acacia Road", "NS2 9ZZ", ""),
                r("12 Acacia Road", "NS1 4AD", "")
            ),
            "same address, another postcode"
        );
        assert_eq!(
            place(
                r("14 Acacia Road", "NS1 4AB", ""),
                r("12 Acacia Road", "NS1 4AB", "")
            ),
            "same street and postcode, another number"
        );
        assert_eq!(
            place(r("", "NS1 4AB", ""), r("12 Acacia Road", "NS1 4AB", "")),
            "same postcode, no address to compare"
        );
        assert_eq!(
            place(
                r("3 Mill Lane", "NS1 4AB", ""),
                r("12 Acacia Road", "NS1 4AB", "")
            ),
            "same postcode, another address"
        );
        assert_eq!(
            place(
                r("14 Acacia Road", "NS1 4XY", ""),
                r("12 Acacia Road", "NS7 5AB", "")
            ),
            "same street, postcode not the same"
        );
        assert_eq!(
            place(
                r("14 Acacia Road", "NS1 4XY", ""),
                r("14 Mill Lane", "NS1", "")
            ),
            "same postcode sector or district"
        );
        assert_eq!(
            place(
                r("", "NS1 4XY", "Easthaven"),
                r("14 Mill Lane", "", "easthavn")
            ),
            "same locality only"
        );
        assert_eq!(
            place(
                r("1 Elm Way", "NS1 4XY", "Easthaven"),
                r("14 Mill Lane", "NS9 1AA", "Millbrook")
            ),
            "different"
        );
        // Common words (road, street) do not make a street in common.
        assert_eq!(
            place(r("1 Elm Road", "", ""), r("1 Mill Road", "", "")),
            "different"
        );
        assert_eq!(
            place(r("", "NS1 4XY", ""), r("14 Mill Road", "", "")),
            "missing"
        );
        assert_eq!(place(r("", "", ""), r("", "", "")), "missing");
        // Postcodes of other countries compare whole or one character out.
        assert_eq!(place(r("", "2615", ""), r("", "2615", "")), PLACE[5]);
        assert_eq!(place(r("", "2615", ""), r("", "2616", "")), PLACE[5]);
        assert_eq!(place(r("", "2615", ""), r("", "3000", "")), "different");
    }

    #[test]
    fn contacts_vehicles_identifiers() {
        let c = |ph: &str, em: &str, v: &str, id: &str| Record {
            phone: Some(ph.into()),
            email: Some(em.into()),
            vehicle: Some(v.into()),
            identifier: Some(id.into()),
            ..Record::default()
        };
        let l = pair(
            c("07700 900123", "a.b@x.test", "NS12 ABC", "943 476 5919"),
            c("+447700900123", "A.B@X.test", "ns12abc", "9434765919"),
        );
        assert_eq!(&l[5..], &[1, 1, 1, 1]);
        let l = pair(
            c("07700 900123", "a.b@x.test", "NS12 ABC", "943 476 5919"),
            c("07700 900124", "a.b@y.test", "ABC", "9434765918"),
        );
        assert_eq!(&l[5..], &[2, 2, 2, 2]);
        let l = pair(
            c("07700 900123", "a.b@x.test", "NS12 ABC", "943 476 5919"),
            c("07700 900999", "zz@y.test", "XY99 ZZZ", "1234567890"),
        );
        assert_eq!(&l[5..], &[3, 3, 3, 3]);
        let l = pair(c("", "", "", ""), c("07700 900999", "zz@y.test", "XY", "1"));
        assert_eq!(&l[5..], &[0, 0, 0, 0]);
        // Several values: one in common is enough.
        let l = pair(
            c("07700 900001; 07700 900123", "", "AB1 ; NS12ABC", ""),
            c("07700900123", "", "NS12ABC", ""),
        );
        assert_eq!((l[5], l[7]), (1, 1));
    }

    #[test]
    fn other_names() {
        let r = |g: &str, o: &str| Record {
            given_name: Some(g.into()),
            other_name: (!o.is_empty()).then(|| o.into()),
            ..Record::default()
        };
        assert_eq!(pair(r("Aisha", "Jade"), r("Aisha", "jade"))[2], 1);
        assert_eq!(
            OTHER[pair(r("Jade", "Aisha"), r("Aisha", "Kim"))[2] as usize],
            OTHER[2]
        );
        assert_eq!(pair(r("Jade", "Lee"), r("Aisha", "Kim"))[2], 3);
        assert_eq!(pair(r("Jade", ""), r("Aisha", "Kim"))[2], MISSING);
    }

    proptest::proptest! {
        #[test]
        fn one_edit_agrees_with_strsim(a in "[ab1 ]{0,7}", b in "[ab1 ]{0,7}") {
            proptest::prop_assert_eq!(
                within_one_edit(a.as_bytes(), b.as_bytes()),
                strsim::osa_distance(&a, &b) <= 1
            );
        }

        #[test]
        fn the_jaro_winkler_bound_is_a_bound(a in "[a-eé0]{1,9}", b in "[a-eé0]{1,9}") {
            let jw = strsim::jaro_winkler(&a, &b);
            let ub = jw_bound(&a, &b, letter_counts(&a), letter_counts(&b));
            proptest::prop_assert!(ub + 1e-12 >= jw, "{} {} {} {}", a, b, jw, ub);
        }
    }

    #[test]
    fn packing_round_trips() {
        let l = [7, 5, 3, 6, 10, 3, 3, 3, 3];
        let g = pack(&l);
        for (f, &v) in l.iter().enumerate() {
            assert_eq!(unpack(g, f), v);
        }
        for c in Comparison::ALL {
            assert!(c.level_count() <= 16);
            assert_eq!(Comparison::ALL[c.index()], c);
        }
    }

    #[test]
    fn no_comparison_reads_a_protected_characteristic() {
        for c in Comparison::ALL {
            for word in ["sex", "gender", "ethnic", "national", "religio", "faith"] {
                assert!(!c.as_str().contains(word) && !c.label().contains(word));
            }
            // Fields only; a Field cannot be a protected characteristic
            // (record.rs tests that).
            assert!(!c.fields().is_empty());
        }
    }
}
