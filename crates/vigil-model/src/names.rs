//! Search keys for people: names, dates of birth, postcodes and referral
//! references, made the same way for the name index and for a search query.
//!
//! The name index (one row per person record, key kind and key) is what
//! search and, later, entity resolution look people up by, so the one
//! normaliser lives here and both sides call it:
//!
//! - [`normalise_tokens`]: lower case, diacritics stripped (NFKD, combining
//!   marks dropped, `ß` → `ss`, ...), apostrophes dropped (`O'Brien` →
//!   `obrien`), any other punctuation a word break (`Smith-Jones` → `smith`,
//!   `jones`).
//! - For each token ([`token_keys`]): the token itself (`name`), its Double
//!   Metaphone codes (`phonetic`, primary and alternate, from the
//!   `rphonetic` crate), a transliteration-tolerant consonant skeleton
//!   (`skeleton`, see [`skeleton`]: Mohammed, Muhammad, Mohamed and
//!   Muhammed all give `mhmt`; Aisha and Ayesha `ash`; Yusuf and Yousef
//!   `ysf`), and the canonical form of its family in the nickname table
//!   shipped as data (`nickname`: Bill and Billy give `william`).
//! - A date of birth ([`dob_keys`]): the full date (`dob`), the year
//!   (`dob_year`), day and month (`dob_day_month`, `MM-DD`) and the date with
//!   day and month swapped (`dob_swapped`), for a date typed the American
//!   way round or recorded so.
//! - A postcode ([`postcode_keys`]): the whole normalised postcode
//!   (`postcode`, `NS1 4AB`) and its outward code (`postcode_outward`, `NS1`).
//! - A referral reference (`reference`, `REF-7K3M-9Q2P`, see
//!   [`crate::reference`]).
//!
//! [`parse_query`] turns a search box string into a [`NameQuery`]: groups of
//! keys, one group per thing typed (a name word, a date, a postcode, a
//! reference); a person matches when they match at least one key of every
//! group, and ranks by the sum over groups of the best weight matched.
//!
//! Ethnicity, nationality, religion and sex are never keys: nothing here
//! reads them.

use crate::dates::DateOfBirth;
use crate::time::Precision;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// What a key is made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// A normalised name token.
    Name,
    /// The canonical form of the token's nickname family.
    Nickname,
    /// A Double Metaphone code of the token.
    Phonetic,
    /// The transliteration-tolerant consonant skeleton of the token.
    Skeleton,
    /// A full date of birth, `YYYY-MM-DD`.
    Dob,
    /// The date of birth with day and month swapped, `YYYY-MM-DD`.
    DobSwapped,
    /// The year of birth, `YYYY`.
    DobYear,
    /// Month and day of birth, `MM-DD`.
    DobDayMonth,
    /// A whole postcode, normalised (`NS1 4AB`).
    Postcode,
    /// The outward code of a postcode (`NS1`).
    PostcodeOutward,
    /// A referral's human reference (`REF-7K3M-9Q2P`).
    Reference,
}

impl KeyKind {
    pub const ALL: &'static [KeyKind] = &[
        KeyKind::Name,
        KeyKind::Nickname,
        KeyKind::Phonetic,
        KeyKind::Skeleton,
        KeyKind::Dob,
        KeyKind::DobSwapped,
        KeyKind::DobYear,
        KeyKind::DobDayMonth,
        KeyKind::Postcode,
        KeyKind::PostcodeOutward,
        KeyKind::Reference,
    ];

    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Name => "name",
            KeyKind::Nickname => "nickname",
            KeyKind::Phonetic => "phonetic",
            KeyKind::Skeleton => "skeleton",
            KeyKind::Dob => "dob",
            KeyKind::DobSwapped => "dob_swapped",
            KeyKind::DobYear => "dob_year",
            KeyKind::DobDayMonth => "dob_day_month",
            KeyKind::Postcode => "postcode",
            KeyKind::PostcodeOutward => "postcode_outward",
            KeyKind::Reference => "reference",
        }
    }

    pub fn parse(s: &str) -> Option<KeyKind> {
        KeyKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key: what it was made from and its text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub kind: KeyKind,
    pub key: String,
}

impl Key {
    fn new(kind: KeyKind, key: impl Into<String>) -> Key {
        Key {
            kind,
            key: key.into(),
        }
    }
}

/// Lower case, no diacritics, no punctuation: the words of a name.
pub fn normalise_tokens(s: &str) -> Vec<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}' => {}
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ł' | 'Ł' => out.push('l'),
            'ı' => out.push('i'),
            'þ' | 'Þ' => out.push_str("th"),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => out.push(' '),
        }
    }
    out.split_whitespace().map(str::to_owned).collect()
}

/// The consonant skeleton of a normalised token, tolerant of the ways one
/// name is transliterated into the Latin alphabet: common digraphs folded
/// (`ph` → `f`, `th` → `t`, `kh` → `k`, `ck` → `k`, `gh` → `g`), letters
/// that stand for one sound folded (`c`, `q` → `k`; `z` → `s`; `w` → `v`;
/// `d` → `t`), every vowel and `y` after the first letter dropped, a first
/// vowel written `a`, and doubled letters made single. Coarse on purpose:
/// it is one key among several, and weighs less than the name itself.
pub fn skeleton(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().filter(char::is_ascii_alphabetic).collect();
    // A doubled letter is one letter before digraphs are read, so that
    // `sopphie` folds as `sophie` (not `sop` + `phie`).
    chars.dedup();
    let mut folded: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (out, used) = match (c, next) {
            ('p', Some('h')) => ('f', 2),
            ('t', Some('h')) => ('t', 2),
            ('k', Some('h')) => ('k', 2),
            ('c', Some('k')) => ('k', 2),
            ('g', Some('h')) => ('g', 2),
            ('d', Some('h')) => ('t', 2),
            ('c' | 'q', _) => ('k', 1),
            ('z', _) => ('s', 1),
            ('w', _) => ('v', 1),
            ('d', _) => ('t', 1),
            (c, _) => (c, 1),
        };
        folded.push(out);
        i += used;
    }
    let mut s = String::with_capacity(folded.len());
    let mut last: Option<char> = None;
    for (n, c) in folded.into_iter().enumerate() {
        let c = if n == 0 {
            if "aeiou".contains(c) {
                'a'
            } else {
                c
            }
        } else if "aeiouy".contains(c) {
            continue;
        } else {
            c
        };
        if last != Some(c) {
            s.push(c);
        }
        last = Some(c);
    }
    s
}

/// The nickname table: each form to the canonical forms of its families.
fn nickname_table() -> &'static BTreeMap<String, Vec<String>> {
    static TABLE: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in include_str!("names/nicknames.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((canonical, forms)) = line.split_once(':') else {
                continue;
            };
            let canonical = canonical.trim().to_owned();
            for form in std::iter::once(canonical.as_str()).chain(forms.split_whitespace()) {
                let list = t.entry(form.to_owned()).or_default();
                if !list.contains(&canonical) {
                    list.push(canonical.clone());
                }
            }
        }
        t
    })
}

/// The canonical forms of the nickname families a normalised token belongs
/// to (none if it is in no family).
pub fn canonical_forms(token: &str) -> &'static [String] {
    nickname_table()
        .get(token)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn metaphone() -> &'static rphonetic::DoubleMetaphone {
    static DM: OnceLock<rphonetic::DoubleMetaphone> = OnceLock::new();
    DM.get_or_init(rphonetic::DoubleMetaphone::default)
}

/// The Double Metaphone codes of a token (primary, then alternate if it
/// differs; none for a token with no letters it can code).
pub fn phonetic_codes(token: &str) -> Vec<String> {
    let r = metaphone().double_metaphone(token);
    let mut v = Vec::with_capacity(2);
    for code in [r.primary(), r.alternate()] {
        if !code.is_empty() && !v.contains(&code) {
            v.push(code);
        }
    }
    v
}

/// The keys of one normalised name token, as stored.
pub fn token_keys(token: &str) -> Vec<Key> {
    let mut keys = vec![Key::new(KeyKind::Name, token)];
    if token.chars().any(|c| c.is_alphabetic()) {
        for c in canonical_forms(token) {
            keys.push(Key::new(KeyKind::Nickname, c.clone()));
        }
        for code in phonetic_codes(token) {
            keys.push(Key::new(KeyKind::Phonetic, code));
        }
        let sk = skeleton(token);
        if !sk.is_empty() {
            keys.push(Key::new(KeyKind::Skeleton, sk));
        }
    }
    keys
}

/// The keys of a name as written (every word of it).
pub fn name_keys(text: &str) -> Vec<Key> {
    normalise_tokens(text)
        .iter()
        .flat_map(|t| token_keys(t))
        .collect()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The keys of a date of birth. A day (or an approximate day) gives all
/// four kinds; a month or a year gives the year only (a month-only date has
/// no day to match or swap).
pub fn dob_keys(dob: &DateOfBirth) -> Vec<Key> {
    let Ok(first) = dob.earliest_day() else {
        return Vec::new();
    };
    let mut keys = vec![Key::new(KeyKind::DobYear, first.year().to_string())];
    if matches!(dob.precision, Precision::Day | Precision::Approximate) {
        keys.push(Key::new(KeyKind::Dob, ymd(first)));
        keys.push(Key::new(
            KeyKind::DobDayMonth,
            format!("{:02}-{:02}", first.month(), first.day()),
        ));
        if let Some(swapped) = swap_day_month(first) {
            keys.push(Key::new(KeyKind::DobSwapped, ymd(swapped)));
        }
    }
    keys
}

/// The date with day and month exchanged, when that is another valid date.
fn swap_day_month(d: NaiveDate) -> Option<NaiveDate> {
    if d.day() == d.month() || d.day() > 12 {
        return None;
    }
    NaiveDate::from_ymd_opt(d.year(), d.day(), d.month())
}

/// The keys of a postcode: whole (if it is whole) and outward code.
pub fn postcode_keys(postcode: &str) -> Vec<Key> {
    if crate::pole::check_postcode(postcode).is_err() {
        return Vec::new();
    }
    let n = crate::pole::normalise_postcode(postcode);
    let mut parts = n.split(' ');
    let outward = parts.next().unwrap_or_default().to_owned();
    let mut keys = Vec::new();
    if parts.next().is_some_and(|inward| inward.len() == 3) {
        keys.push(Key::new(KeyKind::Postcode, n.clone()));
    }
    if !outward.is_empty() {
        keys.push(Key::new(KeyKind::PostcodeOutward, outward));
    }
    keys
}

/// A key a search looks for, and how much a match on it counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryKey {
    pub kind: KeyKind,
    pub key: String,
    pub weight: u32,
}

/// One thing typed in the search box, and the keys that match it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryGroup {
    /// What was typed, for "why it matched".
    pub typed: String,
    pub keys: Vec<QueryKey>,
}

/// A parsed search: a person matches when they match a key of every group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameQuery {
    pub groups: Vec<QueryGroup>,
}

impl NameQuery {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Every distinct (kind, key) the query looks for.
    pub fn all_keys(&self) -> Vec<(KeyKind, String)> {
        let mut v: Vec<(KeyKind, String)> = self
            .groups
            .iter()
            .flat_map(|g| g.keys.iter().map(|k| (k.kind, k.key.clone())))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Weights of a match, by how strongly it says "the same person".
pub mod weight {
    pub const REFERENCE: u32 = 100;
    pub const NAME: u32 = 10;
    pub const DOB: u32 = 10;
    pub const POSTCODE: u32 = 8;
    pub const NICKNAME: u32 = 7;
    pub const PHONETIC: u32 = 5;
    pub const DOB_SWAPPED: u32 = 5;
    pub const SKELETON: u32 = 4;
    pub const DOB_DAY_MONTH: u32 = 4;
    pub const POSTCODE_OUTWARD: u32 = 3;
    pub const DOB_YEAR: u32 = 3;
}

fn qk(kind: KeyKind, key: impl Into<String>, weight: u32) -> QueryKey {
    QueryKey {
        kind,
        key: key.into(),
        weight,
    }
}

/// The query keys of one name token.
fn name_group(token: &str) -> QueryGroup {
    let keys = token_keys(token)
        .into_iter()
        .map(|k| {
            let w = match k.kind {
                KeyKind::Name => weight::NAME,
                KeyKind::Nickname => weight::NICKNAME,
                KeyKind::Phonetic => weight::PHONETIC,
                _ => weight::SKELETON,
            };
            QueryKey {
                kind: k.kind,
                key: k.key,
                weight: w,
            }
        })
        .collect();
    QueryGroup {
        typed: token.to_owned(),
        keys,
    }
}

/// A typed full date: `07/03/2010`, `7.3.2010`, `07-03-2010` (day first, as
/// written in the UK) or `2010-03-07`.
fn typed_date(t: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = t.split(['/', '.', '-']).collect();
    let num = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?),
        [d, m, y] if y.len() == 4 && d.len() <= 2 && m.len() <= 2 => {
            NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)
        }
        _ => None,
    }
}

/// A typed day and month: `07/03` (day first).
fn typed_day_month(t: &str) -> Option<(u32, u32)> {
    let (d, m) = t.split_once(['/', '.'])?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.chars().all(|c| c.is_ascii_digit());
    if !digits(d) || !digits(m) {
        return None;
    }
    let (d, m): (u32, u32) = (d.parse().ok()?, m.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((d, m))
}

fn date_group(typed: &str, d: NaiveDate) -> QueryGroup {
    // The stored `dob_swapped` of a person born on the swapped date is this
    // date, so one key of each kind finds both readings.
    QueryGroup {
        typed: typed.to_owned(),
        keys: vec![
            qk(KeyKind::Dob, ymd(d), weight::DOB),
            qk(KeyKind::DobSwapped, ymd(d), weight::DOB_SWAPPED),
        ],
    }
}

/// Whether a token, upper-cased, reads as a reference rather than a word or
/// a date: it starts with `REF`, or holds both a digit and a letter
/// (`MOHAMMED` is eight letters of the reference alphabet once O is read as
/// 0, but it is a name; `2010-03-07` is eight digits, but it is a date).
fn typed_reference(t: &str) -> Option<String> {
    let looks = t.to_ascii_uppercase().starts_with("REF")
        || (t.chars().any(|c| c.is_ascii_digit()) && t.chars().any(|c| c.is_ascii_alphabetic()));
    looks.then(|| crate::reference::normalise(t)).flatten()
}

fn postcode_group(typed: &str) -> Option<QueryGroup> {
    if !typed.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let keys: Vec<QueryKey> = postcode_keys(typed)
        .into_iter()
        .map(|k| {
            let w = if k.kind == KeyKind::Postcode {
                weight::POSTCODE
            } else {
                weight::POSTCODE_OUTWARD
            };
            qk(k.kind, k.key, w)
        })
        .collect();
    // A whole postcode matches a whole postcode; a district alone matches
    // every postcode in it.
    let keys = match keys.iter().find(|k| k.kind == KeyKind::Postcode) {
        Some(whole) => vec![whole.clone()],
        None => keys,
    };
    (!keys.is_empty()).then(|| QueryGroup {
        typed: typed.to_owned(),
        keys,
    })
}

/// Most groups a query may have: the rest of a longer string is ignored.
pub const MAX_GROUPS: usize = 8;

/// Turns what was typed in a search box into groups of keys: full dates
/// (day first), day and month, a year (1900 to 2100), a referral reference,
/// a postcode (whole, with or without its space, or a district), and name
/// words. Empty when nothing searchable was typed.
pub fn parse_query(q: &str) -> NameQuery {
    let q: String = q.chars().take(200).collect();
    let mut groups = Vec::new();
    if let Some(r) = typed_reference(q.trim()) {
        groups.push(QueryGroup {
            typed: q.trim().to_owned(),
            keys: vec![qk(KeyKind::Reference, r, weight::REFERENCE)],
        });
        return NameQuery { groups };
    }
    let words: Vec<&str> = q
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let mut i = 0;
    while i < words.len() && groups.len() < MAX_GROUPS {
        let w = words[i];
        if let Some(next) = words.get(i + 1) {
            let pair = format!("{w} {next}");
            if crate::pole::check_postcode(&pair).is_ok() && next.len() == 3 {
                if let Some(g) = postcode_group(&pair) {
                    groups.push(g);
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
        if let Some(d) = typed_date(w) {
            groups.push(date_group(w, d));
        } else if let Some((d, m)) = typed_day_month(w) {
            let mut keys = vec![qk(
                KeyKind::DobDayMonth,
                format!("{m:02}-{d:02}"),
                weight::DOB_DAY_MONTH,
            )];
            if d <= 12 && d != m {
                keys.push(qk(KeyKind::DobDayMonth, format!("{d:02}-{m:02}"), 2));
            }
            groups.push(QueryGroup {
                typed: w.to_owned(),
                keys,
            });
        } else if w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()) {
            let y: i32 = w.parse().unwrap_or(0);
            if (1900..=2100).contains(&y) {
                groups.push(QueryGroup {
                    typed: w.to_owned(),
                    keys: vec![qk(KeyKind::DobYear, w, weight::DOB_YEAR)],
                });
            }
        } else if let Some(r) = typed_reference(w) {
            groups.push(QueryGroup {
                typed: w.to_owned(),
                keys: vec![qk(KeyKind::Reference, r, weight::REFERENCE)],
            });
        } else if let Some(g) = postcode_group(w) {
            groups.push(g);
        } else {
            for t in normalise_tokens(w) {
                if groups.len() < MAX_GROUPS && t.chars().any(char::is_alphabetic) {
                    groups.push(name_group(&t));
                }
            }
        }
    }
    NameQuery { groups }
}

/// How a set of stored keys matches a query: for each group, the best key
/// matched (and its weight); `None` if some group matches nothing. The one
/// ranking rule, used by every backend.
pub fn score(q: &NameQuery, has: impl Fn(KeyKind, &str) -> bool) -> Option<(u32, Vec<Key>)> {
    let mut total = 0;
    let mut why = Vec::with_capacity(q.groups.len());
    for g in &q.groups {
        let best = g
            .keys
            .iter()
            .filter(|k| has(k.kind, &k.key))
            .max_by_key(|k| k.weight)?;
        total += best.weight;
        why.push(Key::new(best.kind, best.key.clone()));
    }
    Some((total, why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn stored(name: &str) -> HashSet<(KeyKind, String)> {
        name_keys(name)
            .into_iter()
            .map(|k| (k.kind, k.key))
            .collect()
    }

    fn matches(query: &str, name: &str) -> Option<u32> {
        let s = stored(name);
        score(&parse_query(query), |k, key| {
            s.contains(&(k, key.to_owned()))
        })
        .map(|(w, _)| w)
    }

    #[test]
    fn normalises_case_diacritics_and_punctuation() {
        assert_eq!(
            normalise_tokens("  José  O'Brien-Núñez "),
            ["jose", "obrien", "nunez"]
        );
        assert_eq!(normalise_tokens("Zoë Straße"), ["zoe", "strasse"]);
        assert_eq!(normalise_tokens("ŁUKASZ Ørsted"), ["lukasz", "orsted"]);
        assert!(normalise_tokens("-- , .").is_empty());
    }

    #[test]
    fn transliterations_meet_in_the_skeleton() {
        for group in [
            &["Mohammed", "Muhammad", "Mohamed", "Muhammed", "Mohammad"][..],
            &["Aisha", "Ayesha", "Aysha"],
            &["Yusuf", "Yousef", "Yousuf", "Youssef"],
            &["Catherine", "Katherine", "Kathryn"],
        ] {
            let first = skeleton(&normalise_tokens(group[0])[0]);
            for n in group {
                assert_eq!(
                    skeleton(&normalise_tokens(n)[0]),
                    first,
                    "{n} vs {}",
                    group[0]
                );
            }
        }
        // A doubled letter does not change the skeleton, even before a digraph.
        assert_eq!(skeleton("sopphie"), skeleton("sophie"));
        assert_eq!(skeleton("matthew"), skeleton("mathew"));
        assert_ne!(skeleton("yusuf"), skeleton("asif"));
        assert_ne!(skeleton("aisha"), skeleton("amir"));
    }

    #[test]
    fn nicknames_typos_and_transliterations_are_found() {
        // Nicknames.
        assert!(matches("Bill", "William Stone").is_some());
        assert!(matches("Liz", "Elizabeth Carter").is_some());
        assert!(matches("Jack Stone", "John Stone").is_some());
        assert!(matches("Mo", "Mohammed Khan").is_some());
        // Transliterations.
        assert!(matches("Muhammad Khan", "Mohammed Khan").is_some());
        assert!(matches("Ayesha", "Aisha Begum").is_some());
        assert!(matches("Yousef", "Yusuf Ali").is_some());
        // Typos.
        assert!(matches("Jonathon", "Jonathan Reed").is_some());
        assert!(matches("Smyth", "Jane Smith").is_some());
        assert!(matches("Tomas", "Thomas Reed").is_some());
        // Diacritics and case.
        assert!(matches("zoe", "Zoë Ward").is_some());
        // Every word must match something.
        assert!(matches("Aisha Smith", "Aisha Begum").is_none());
        assert!(matches("Peter", "Aisha Begum").is_none());
        // An exact name outranks a phonetic or nickname match.
        let exact = matches("William", "William Stone").unwrap();
        let nick = matches("Bill", "William Stone").unwrap();
        let typo = matches("Wiliam", "William Stone").unwrap();
        assert!(exact > nick && exact > typo, "{exact} {nick} {typo}");
    }

    #[test]
    fn common_short_forms_find_the_full_name() {
        // Short forms that search on the synthetic borough missed (BENCHMARKS.md,
        // "Issue 10"): each finds the full name and the full name finds it.
        for (short, full) in [
            ("Brad", "Bradley Taylor"),
            ("Tash", "Natasha Jackson"),
            ("Josh", "Joshua Reed"),
            ("Jess", "Jessica Hall"),
            ("Liv", "Olivia Stone"),
            ("Nate", "Nathan Cole"),
            ("Kuba", "Jakub Nowak"),
            ("Tomek", "Tomasz Nowak"),
            ("Kath", "Kathleen Ward"),
            ("Abdul", "Abdullah Khan"),
            ("Becky", "Rebekah Ward"),
        ] {
            assert!(matches(short, full).is_some(), "{short} should find {full}");
            let family = full.split(' ').nth(1).unwrap();
            let short_full = format!("{short} {family}");
            assert!(
                matches(full, &short_full).is_some(),
                "{full} should find {short_full}"
            );
        }
        // A family is not a free-for-all.
        assert!(matches("Brad", "Natasha Jackson").is_none());
    }

    fn dob(v: &str, p: Precision) -> HashSet<(KeyKind, String)> {
        dob_keys(&DateOfBirth {
            value: v.into(),
            precision: p,
        })
        .into_iter()
        .map(|k| (k.kind, k.key))
        .collect()
    }

    #[test]
    fn dates_of_birth_full_year_day_month_and_swapped() {
        let s = dob("2010-03-07", Precision::Day);
        let found = |q: &str| score(&parse_query(q), |k, key| s.contains(&(k, key.to_owned())));
        // Full date, day first as typed in the UK, and ISO.
        assert_eq!(found("07/03/2010").unwrap().1[0].kind, KeyKind::Dob);
        assert_eq!(found("2010-03-07").unwrap().1[0].kind, KeyKind::Dob);
        assert_eq!(found("7.3.2010").unwrap().1[0].kind, KeyKind::Dob);
        // Day and month swapped.
        assert_eq!(found("03/07/2010").unwrap().1[0].kind, KeyKind::DobSwapped);
        // Year only, day and month only.
        assert_eq!(found("2010").unwrap().1[0].kind, KeyKind::DobYear);
        assert_eq!(found("07/03").unwrap().1[0].kind, KeyKind::DobDayMonth);
        assert!(found("08/03/2010").is_none());
        assert!(found("2011").is_none());
        // A month-only or year-only date of birth gives the year alone.
        assert_eq!(
            dob("2010-03", Precision::Month),
            [(KeyKind::DobYear, "2010".to_owned())]
                .into_iter()
                .collect()
        );
        // No swap when it would not be another date.
        assert!(!dob("2010-03-13", Precision::Day)
            .iter()
            .any(|(k, _)| *k == KeyKind::DobSwapped));
    }

    #[test]
    fn queries_recognise_references_postcodes_and_mixtures() {
        let id = uuid::Uuid::from_u128(7);
        let r = crate::reference::reference_for(id);
        let q = parse_query(&r.to_lowercase());
        assert_eq!(q.groups.len(), 1);
        assert_eq!(q.groups[0].keys[0].kind, KeyKind::Reference);
        assert_eq!(q.groups[0].keys[0].key, r);
        // Eight letters of the reference alphabet are still a name.
        assert_eq!(
            parse_query("mohammed").groups[0].keys[0].kind,
            KeyKind::Name
        );
        let q = parse_query("Aisha ns1 4ab 2010");
        let kinds: Vec<KeyKind> = q.groups.iter().map(|g| g.keys[0].kind).collect();
        assert_eq!(kinds, [KeyKind::Name, KeyKind::Postcode, KeyKind::DobYear]);
        assert_eq!(q.groups[1].keys[0].key, "NS1 4AB");
        let q = parse_query("NS1");
        assert_eq!(q.groups[0].keys[0].kind, KeyKind::PostcodeOutward);
        assert_eq!(
            postcode_keys("ns14ab"),
            [
                Key::new(KeyKind::Postcode, "NS1 4AB"),
                Key::new(KeyKind::PostcodeOutward, "NS1")
            ]
        );
        assert!(parse_query("  ,, ").is_empty());
        assert!(parse_query(&"a ".repeat(1000)).groups.len() <= MAX_GROUPS);
    }
}
