//! The compact form records are compared in: every value normalised once
//! (with `vigil_model::names`, the normaliser the name index uses),
//! interned to a `u32`, and every name token's phonetic codes, skeleton and
//! nickname families computed once per distinct token, not once per pair.
//!
//! Multi-valued fields (phone, email, vehicle, identifier) are split on
//! `,`, `;` and `|`; inside one value spaces and punctuation are ignored
//! (`07700 900123` is one phone number, `NS12 ABC` one registration).

use crate::record::{Dob, Record};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use vigil_model::names;

pub(crate) const NONE: u32 = u32::MAX;

/// Strings to dense ids, with how many records hold each.
#[derive(Default, Clone)]
pub(crate) struct Interner {
    map: FxHashMap<Box<str>, u32>,
    pub(crate) text: Vec<Box<str>>,
    pub(crate) count: Vec<u32>,
}

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            self.count[i as usize] += 1;
            return i;
        }
        let i = self.text.len() as u32;
        self.map.insert(s.into(), i);
        self.text.push(s.into());
        self.count.push(1);
        i
    }

    /// An id without counting an occurrence (codes of tokens).
    fn code(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.text.len() as u32;
        self.map.insert(s.into(), i);
        self.text.push(s.into());
        self.count.push(0);
        i
    }

    pub(crate) fn str(&self, id: u32) -> &str {
        &self.text[id as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.text.len()
    }
}

/// A run of ids in the dataset's arena.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// A name: the whole normalised name (for exact matches and term
/// frequencies) and its words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NameRef {
    pub(crate) full: u32,
    pub(crate) tokens: Span,
}

impl NameRef {
    const MISSING: NameRef = NameRef {
        full: NONE,
        tokens: Span { start: 0, len: 0 },
    };
    pub(crate) fn present(&self) -> bool {
        self.full != NONE
    }
}

/// What is known of one distinct name word.
#[derive(Clone, Debug)]
pub(crate) struct TokenInfo {
    /// Double Metaphone codes (primary, alternate or `NONE`), ids in `codes`.
    pub(crate) phonetic: [u32; 2],
    /// Transliteration skeleton, id in `codes`.
    pub(crate) skeleton: u32,
    /// Nickname families' canonical forms, ids in `codes` (at most 3 kept).
    pub(crate) nick: [u32; 3],
    /// Letter counts, for bounding Jaro-Winkler before computing it.
    pub(crate) letters: u64,
}

/// One record, prepared.
#[derive(Clone, Debug)]
pub(crate) struct Prep {
    pub(crate) given: NameRef,
    pub(crate) family: NameRef,
    pub(crate) other: NameRef,
    pub(crate) dob: Option<Dob>,
    pub(crate) address: u32,
    pub(crate) address_words: Span,
    pub(crate) postcode: u32,
    pub(crate) sector: u32,
    pub(crate) district: u32,
    pub(crate) locality: u32,
    pub(crate) phone: Span,
    pub(crate) email: Span,
    pub(crate) vehicle: Span,
    pub(crate) identifier: Span,
}

/// Records prepared for comparison. Build one with [`Dataset::new`]; the
/// model, blocking and prediction all work on it.
pub struct Dataset {
    pub(crate) recs: Vec<Prep>,
    pub(crate) arena: Vec<u32>,
    /// Name words (given, family and other names share one table).
    pub(crate) tokens: Interner,
    pub(crate) token_info: Vec<TokenInfo>,
    /// Phonetic codes, skeletons and nickname canonical forms.
    pub(crate) codes: Interner,
    pub(crate) given: Interner,
    pub(crate) family: Interner,
    pub(crate) other: Interner,
    pub(crate) address: Interner,
    pub(crate) address_words: Interner,
    pub(crate) postcode: Interner,
    pub(crate) sector: Interner,
    pub(crate) district: Interner,
    pub(crate) locality: Interner,
    pub(crate) phone: Interner,
    pub(crate) email: Interner,
    pub(crate) vehicle: Interner,
    pub(crate) identifier: Interner,
}

/// One record normalised, before interning (made in parallel).
struct Raw {
    given: Vec<String>,
    family: Vec<String>,
    other: Vec<String>,
    dob: Option<Dob>,
    address: Vec<String>,
    postcode: Option<(String, Option<String>, Option<String>)>,
    locality: Option<String>,
    phone: Vec<String>,
    email: Vec<String>,
    vehicle: Vec<String>,
    identifier: Vec<String>,
}

fn tokens(o: &Option<String>) -> Vec<String> {
    o.as_deref()
        .map(names::normalise_tokens)
        .unwrap_or_default()
}

fn values(o: &Option<String>, f: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let Some(s) = o.as_deref() else {
        return Vec::new();
    };
    let mut v: Vec<String> = s.split([',', ';', '|']).filter_map(&f).collect();
    v.sort();
    v.dedup();
    v
}

/// A phone number: its digits, a leading `+44`/`0044` read as `0`.
pub(crate) fn normalise_phone(s: &str) -> Option<String> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    let d = if let Some(rest) = d.strip_prefix("0044") {
        format!("0{rest}")
    } else if d.len() == 12 && d.starts_with("44") {
        format!("0{}", &d[2..])
    } else {
        d
    };
    (d.len() >= 5).then_some(d)
}

/// Letters and digits, upper case (registrations and identifiers).
pub(crate) fn normalise_code(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!c.is_empty()).then_some(c)
}

fn normalise_email(s: &str) -> Option<String> {
    let e: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    (e.len() >= 3 && e.contains('@')).then_some(e)
}

/// A postcode: the whole, its sector and its district. A UK postcode
/// (`NS1 4AB`) has all three; an outward code alone (`NS1`) only a
/// district; any other form (`2615`) only the whole.
pub(crate) fn normalise_postcode(s: &str) -> Option<(String, Option<String>, Option<String>)> {
    let compact: String = s
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.is_empty() {
        return None;
    }
    if vigil_model::pole::check_postcode(s.trim()).is_ok() {
        let n = vigil_model::pole::normalise_postcode(s);
        if let Some((out, inw)) = n.split_once(' ') {
            let sector = format!("{out} {}", &inw[..1]);
            return Some((n.clone(), Some(sector), Some(out.to_owned())));
        }
        // An outward code alone: a district, no whole postcode.
        return Some((String::new(), None, Some(n)));
    }
    Some((compact, None, None))
}

fn raw(r: &Record) -> Raw {
    let t = |s: &Option<String>| -> Option<String> {
        let v = tokens(s);
        (!v.is_empty()).then(|| v.join(" "))
    };
    Raw {
        given: tokens(&r.given_name),
        family: tokens(&r.family_name),
        other: tokens(&r.other_name),
        dob: r.dob,
        address: tokens(&r.address),
        postcode: r.postcode.as_deref().and_then(normalise_postcode),
        locality: t(&r.locality),
        phone: values(&r.phone, normalise_phone),
        email: values(&r.email, normalise_email),
        vehicle: values(&r.vehicle, normalise_code),
        identifier: values(&r.identifier, normalise_code),
    }
}

impl Dataset {
    /// Prepares records (in parallel where it pays).
    pub fn new(records: &[Record]) -> Dataset {
        let raws: Vec<Raw> = if records.len() > 2_000 {
            records.par_iter().map(raw).collect()
        } else {
            records.iter().map(raw).collect()
        };
        let mut ds = Dataset {
            recs: Vec::with_capacity(raws.len()),
            arena: Vec::new(),
            tokens: Interner::default(),
            token_info: Vec::new(),
            codes: Interner::default(),
            given: Interner::default(),
            family: Interner::default(),
            other: Interner::default(),
            address: Interner::default(),
            address_words: Interner::default(),
            postcode: Interner::default(),
            sector: Interner::default(),
            district: Interner::default(),
            locality: Interner::default(),
            phone: Interner::default(),
            email: Interner::default(),
            vehicle: Interner::default(),
            identifier: Interner::default(),
        };
        for r in raws {
            let given = ds.name(&r.given, Which::Given);
            let family = ds.name(&r.family, Which::Family);
            let other = ds.name(&r.other, Which::Other);
            let (address, address_words) = if r.address.is_empty() {
                (NONE, Span::default())
            } else {
                let full = ds.address.id(&r.address.join(" "));
                let mut words: Vec<u32> =
                    r.address.iter().map(|w| ds.address_words.code(w)).collect();
                words.sort_unstable();
                words.dedup();
                for &w in &words {
                    ds.address_words.count[w as usize] += 1;
                }
                (full, ds.span(&words))
            };
            let (postcode, sector, district) = match &r.postcode {
                None => (NONE, NONE, NONE),
                Some((full, sector, district)) => (
                    if full.is_empty() {
                        NONE
                    } else {
                        ds.postcode.id(full)
                    },
                    sector.as_deref().map_or(NONE, |s| ds.sector.id(s)),
                    district.as_deref().map_or(NONE, |s| ds.district.id(s)),
                ),
            };
            let locality = r.locality.as_deref().map_or(NONE, |s| ds.locality.id(s));
            let phone = ds.set(&r.phone, |d| &mut d.phone);
            let email = ds.set(&r.email, |d| &mut d.email);
            let vehicle = ds.set(&r.vehicle, |d| &mut d.vehicle);
            let identifier = ds.set(&r.identifier, |d| &mut d.identifier);
            ds.recs.push(Prep {
                given,
                family,
                other,
                dob: r.dob,
                address,
                address_words,
                postcode,
                sector,
                district,
                locality,
                phone,
                email,
                vehicle,
                identifier,
            });
        }
        ds.compute_token_info();
        ds
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    fn span(&mut self, ids: &[u32]) -> Span {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(ids);
        Span {
            start,
            len: ids.len() as u32,
        }
    }

    fn set(&mut self, vals: &[String], which: fn(&mut Dataset) -> &mut Interner) -> Span {
        let ids: Vec<u32> = vals.iter().map(|v| which(self).id(v)).collect();
        self.span(&ids)
    }

    fn name(&mut self, toks: &[String], which: Which) -> NameRef {
        if toks.is_empty() {
            return NameRef::MISSING;
        }
        let joined = toks.join(" ");
        let full = match which {
            Which::Given => self.given.id(&joined),
            Which::Family => self.family.id(&joined),
            Which::Other => self.other.id(&joined),
        };
        let ids: Vec<u32> = toks.iter().map(|t| self.tokens.id(t)).collect();
        NameRef {
            full,
            tokens: self.span(&ids),
        }
    }

    /// Phonetic codes, skeleton and nickname families of each distinct
    /// name word (Double Metaphone is the costly part, done in parallel).
    fn compute_token_info(&mut self) {
        let start = self.token_info.len();
        let texts: Vec<&str> = self.tokens.text[start..].iter().map(|b| &**b).collect();
        let computed: Vec<(Vec<String>, String, Vec<String>)> = texts
            .par_iter()
            .map(|t| {
                let alpha = t.chars().any(char::is_alphabetic);
                if !alpha {
                    return (Vec::new(), String::new(), Vec::new());
                }
                (
                    names::phonetic_codes(t),
                    names::skeleton(t),
                    names::canonical_forms(t).to_vec(),
                )
            })
            .collect();
        for (k, (ph, sk, nick)) in computed.into_iter().enumerate() {
            let letters = crate::compare::letter_counts(&self.tokens.text[start + k]);
            let mut phonetic = [NONE; 2];
            for (i, c) in ph.iter().take(2).enumerate() {
                phonetic[i] = self.codes.code(&format!("p:{c}"));
            }
            let skeleton = if sk.is_empty() {
                NONE
            } else {
                self.codes.code(&format!("s:{sk}"))
            };
            let mut n = [NONE; 3];
            for (i, c) in nick.iter().take(3).enumerate() {
                n[i] = self.codes.code(&format!("n:{c}"));
            }
            self.token_info.push(TokenInfo {
                phonetic,
                skeleton,
                nick: n,
                letters,
            });
        }
    }

    /// The order to renumber records in so that records likely to be
    /// compared are neighbours in memory: by family-name sound, given-name
    /// sound, postcode district and date of birth. Most blocking keys are
    /// made of these, so most candidate pairs then join two records a few
    /// cache lines apart instead of two random ones (comparing 30 M pairs
    /// in file order was mostly cache misses). `order[k]` is the index, in
    /// the records given to [`Dataset::new`], of the record that becomes
    /// record `k`.
    pub fn locality_order(&self) -> Vec<u32> {
        let first = |n: NameRef| -> u32 {
            if !n.present() {
                return NONE;
            }
            match self.ids(n.tokens).first() {
                Some(&t) => {
                    let p = self.token_info[t as usize].phonetic[0];
                    if p == NONE {
                        t | 1 << 31
                    } else {
                        p
                    }
                }
                None => NONE,
            }
        };
        let mut keyed: Vec<(u32, u32, u32, u32, u32)> = self
            .recs
            .par_iter()
            .enumerate()
            .map(|(i, r)| {
                let dob = r.dob.map_or(0, |d| {
                    (u32::from(d.year) << 16) | (u32::from(d.month) << 8) | u32::from(d.day)
                });
                (first(r.family), first(r.given), r.district, dob, i as u32)
            })
            .collect();
        keyed.par_sort_unstable();
        keyed.into_iter().map(|k| k.4).collect()
    }

    /// The same records renumbered: record `k` of the result is record
    /// `order[k]` of this one (`order` a permutation). Each record's ids are
    /// copied into a fresh arena in the new order, so a record's spans sit
    /// beside its neighbours' too.
    pub fn permuted(mut self, order: &[u32]) -> Dataset {
        assert_eq!(order.len(), self.recs.len(), "order must be a permutation");
        let old = std::mem::take(&mut self.arena);
        let mut arena = Vec::with_capacity(old.len());
        let mut copy = |s: Span| -> Span {
            let start = arena.len() as u32;
            arena.extend_from_slice(&old[s.start as usize..(s.start + s.len) as usize]);
            Span { start, len: s.len }
        };
        let recs: Vec<Prep> = order
            .iter()
            .map(|&k| {
                let mut r = self.recs[k as usize].clone();
                r.given.tokens = copy(r.given.tokens);
                r.family.tokens = copy(r.family.tokens);
                r.other.tokens = copy(r.other.tokens);
                r.address_words = copy(r.address_words);
                r.phone = copy(r.phone);
                r.email = copy(r.email);
                r.vehicle = copy(r.vehicle);
                r.identifier = copy(r.identifier);
                r
            })
            .collect();
        self.recs = recs;
        self.arena = arena;
        self
    }

    pub(crate) fn ids(&self, s: Span) -> &[u32] {
        &self.arena[s.start as usize..(s.start + s.len) as usize]
    }
}

#[derive(Clone, Copy)]
enum Which {
    Given,
    Family,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_and_split() {
        assert_eq!(normalise_phone("+44 7700 900123").unwrap(), "07700900123");
        assert_eq!(normalise_phone("0044 7700 900123").unwrap(), "07700900123");
        assert_eq!(normalise_phone("12"), None);
        assert_eq!(normalise_code(" ns12-abc ").unwrap(), "NS12ABC");
        assert_eq!(normalise_code(" - "), None);
        let (full, sector, district) = normalise_postcode("ns14ab").unwrap();
        assert_eq!(
            (full.as_str(), sector.as_deref(), district.as_deref()),
            ("NS1 4AB", Some("NS1 4"), Some("NS1"))
        );
        assert_eq!(
            normalise_postcode("NS1").unwrap(),
            (String::new(), None, Some("NS1".into()))
        );
        assert_eq!(
            normalise_postcode("2615").unwrap(),
            ("2615".into(), None, None)
        );
        assert_eq!(normalise_postcode(" ,"), None);
        let mut r = Record::new("a");
        r.phone = Some("07700 900123; +44 7700 900456,".into());
        r.identifier = Some("943 476 5919 | QQ 12 34 56 C".into());
        let ds = Dataset::new(&[r]);
        assert_eq!(ds.ids(ds.recs[0].phone).len(), 2);
        let ids: Vec<&str> = ds
            .ids(ds.recs[0].identifier)
            .iter()
            .map(|&i| ds.identifier.str(i))
            .collect();
        assert_eq!(ids, ["9434765919", "QQ123456C"]);
    }
}
