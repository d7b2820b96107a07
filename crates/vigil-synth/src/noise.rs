//! Recording errors: the ways one real person or place becomes records that
//! do not quite agree. Each function takes the true value and returns what
//! an agency wrote; the rates are in [`crate::Noise`].

use crate::pools;
use crate::random::Rng;
use chrono::{Datelike, NaiveDate};

const VOWELS: &[char] = &['a', 'e', 'i', 'o', 'u'];

/// A misspelling that is still a plausible name: a letter dropped, doubled,
/// two neighbours swapped or a vowel changed. Always differs from `name`
/// (a name too short to misspell is returned unchanged).
pub fn misspell(rng: &mut Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 3 {
        return name.to_owned();
    }
    for _ in 0..8 {
        let mut c = chars.clone();
        // Keep the first letter: people rarely get that wrong.
        let i = 1 + rng.index(c.len() - 1);
        match rng.index(4) {
            0 if c.len() > 3 => {
                c.remove(i);
            }
            1 => c.insert(i, c[i]),
            2 if i + 1 < c.len() => c.swap(i, i + 1),
            _ => {
                if let Some(pos) = (i..c.len()).chain(1..i).find(|&k| VOWELS.contains(&c[k])) {
                    let now = c[pos];
                    let others: Vec<char> = VOWELS.iter().copied().filter(|v| *v != now).collect();
                    c[pos] = *rng.pick(&others);
                }
            }
        }
        let out: String = c.into_iter().collect();
        if out != name
            && out
                .chars()
                .all(|ch| ch.is_alphabetic() || ch == '\'' || ch == '-' || ch == ' ')
        {
            return out;
        }
    }
    // Every draw left the name as it was (a short name with no vowel to
    // change): double its last letter.
    let mut out = name.to_owned();
    out.push(chars[chars.len() - 1]);
    out
}

/// What noise was applied to one name part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameNoise {
    pub nickname: bool,
    pub transliteration: bool,
    pub misspelling: bool,
}

/// A given name as one agency writes it: perhaps its short form, perhaps
/// another spelling, perhaps misspelt.
pub fn given_name(rng: &mut Rng, cfg: &crate::Noise, name: &str) -> (String, NameNoise) {
    let mut out = name.to_owned();
    let mut n = NameNoise::default();
    if let Some(nick) = pools::nickname_of(name) {
        if rng.chance(cfg.nickname) {
            out = nick.to_owned();
            n.nickname = true;
        }
    }
    if !n.nickname {
        let vars = pools::variants_of(name);
        if !vars.is_empty() && rng.chance(cfg.transliteration) {
            out = (*rng.pick(&vars)).to_owned();
            n.transliteration = true;
        }
    }
    if rng.chance(cfg.misspelling) {
        let m = misspell(rng, &out);
        n.misspelling = m != out;
        out = m;
    }
    (out, n)
}

/// A family name as one agency writes it: perhaps another spelling, perhaps misspelt.
pub fn family_name(rng: &mut Rng, cfg: &crate::Noise, name: &str) -> (String, NameNoise) {
    let mut out = name.to_owned();
    let mut n = NameNoise::default();
    let vars = pools::variants_of(name);
    if !vars.is_empty() && rng.chance(cfg.transliteration) {
        out = (*rng.pick(&vars)).to_owned();
        n.transliteration = true;
    }
    if rng.chance(cfg.misspelling) {
        let m = misspell(rng, &out);
        n.misspelling = m != out;
        out = m;
    }
    (out, n)
}

/// Whether a date of birth can be written with day and month swapped and
/// still be a date that differs.
pub fn swappable(d: NaiveDate) -> bool {
    d.day() <= 12 && d.day() != d.month()
}

/// The date with day and month swapped (`swappable` must hold).
pub fn swap_day_month(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()).unwrap_or(d)
}

/// A UK registration (`AB12 CDE`) with some characters not seen: one to
/// three characters become `?`, or only the first half was noted.
pub fn partial_registration(rng: &mut Rng, reg: &str) -> String {
    if rng.chance(0.3) {
        // Only the first part was noted.
        return reg.split(' ').next().unwrap_or(reg).to_owned();
    }
    let mut c: Vec<char> = reg.chars().collect();
    let positions: Vec<usize> = (0..c.len()).filter(|&i| c[i] != ' ').collect();
    let k = 1 + rng.index(3);
    for _ in 0..k {
        let p = *rng.pick(&positions);
        c[p] = '?';
    }
    if c.iter().all(|ch| *ch == '?' || *ch == ' ') {
        c[0] = reg.chars().next().unwrap_or('A');
    }
    let out: String = c.into_iter().collect();
    if out == reg {
        format!("{}?", &reg[..reg.len() - 1])
    } else {
        out
    }
}

/// An address as the generator keeps it for a real place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub flat: Option<u32>,
    pub number: u32,
    pub street_stem: &'static str,
    /// Index into [`pools::STREET_TYPES`].
    pub street_type: usize,
    pub town: &'static str,
    pub postcode: String,
}

impl Address {
    /// Address lines as written correctly.
    pub fn lines(&self) -> Vec<String> {
        let street = format!(
            "{} {} {}",
            self.number,
            self.street_stem,
            pools::STREET_TYPES[self.street_type].0
        );
        match self.flat {
            Some(f) => vec![format!("Flat {f}"), street],
            None => vec![street],
        }
    }
}

/// How an agency writes an address: `(lines, town, postcode)`.
pub type WrittenAddress = (Vec<String>, Option<String>, Option<String>);

/// The address written correctly.
pub fn address_exact(a: &Address) -> WrittenAddress {
    (a.lines(), Some(a.town.to_owned()), Some(a.postcode.clone()))
}

/// The address written in another way that a person would still recognise:
/// an abbreviated street type, a flat number dropped or run together, only
/// the first half of the postcode, a misspelt street name or no town.
/// Always differs from [`address_exact`].
pub fn address_variant(rng: &mut Rng, a: &Address) -> WrittenAddress {
    let exact = address_exact(a);
    for _ in 0..8 {
        let (stype_full, stype_short) = pools::STREET_TYPES[a.street_type];
        let mut stem = a.street_stem.to_owned();
        let mut stype = stype_full;
        let mut flat = a.flat.map(|f| format!("Flat {f}"));
        let mut joined_flat = false;
        let mut town = Some(a.town.to_owned());
        let mut postcode = Some(a.postcode.clone());
        match rng.index(5) {
            0 => stype = stype_short,
            1 => {
                if a.flat.is_some() {
                    if rng.chance(0.5) {
                        flat = None;
                    } else {
                        joined_flat = true;
                    }
                } else {
                    stype = stype_short;
                }
            }
            2 => postcode = Some(a.postcode.split(' ').next().unwrap_or("NS1").to_owned()),
            3 => stem = misspell(rng, &stem),
            _ => town = None,
        }
        let street = if joined_flat {
            format!("{}/{} {stem} {stype}", a.flat.unwrap_or(1), a.number)
        } else {
            format!("{} {stem} {stype}", a.number)
        };
        let lines = match (flat, joined_flat) {
            (Some(f), false) => vec![f, street],
            _ => vec![street],
        };
        let written = (lines, town, postcode);
        if written != exact {
            return written;
        }
    }
    let (lines, town, _) = exact;
    (lines, town, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Stream;

    #[test]
    fn misspellings_differ_but_stay_names() {
        let mut r = Rng::new(3, Stream::Recording);
        for name in ["Mohammed", "Katie", "O'Brien", "Al-Masri", "Li", "Amy"] {
            for _ in 0..50 {
                let m = misspell(&mut r, name);
                if name.chars().count() >= 3 {
                    assert_ne!(m, name);
                }
                vigil_model::pole::PersonName::new(&m, "", vigil_model::codes::NameKind::Birth)
                    .validate()
                    .unwrap();
            }
        }
    }

    #[test]
    fn registrations_and_addresses_vary_validly() {
        let mut r = Rng::new(4, Stream::Recording);
        for _ in 0..200 {
            let p = partial_registration(&mut r, "KX12 ABC");
            assert_ne!(p, "KX12 ABC");
            vigil_model::pole::check_registration(&p).unwrap();
        }
        let a = Address {
            flat: Some(2),
            number: 14,
            street_stem: "Mill",
            street_type: 2,
            town: "Easthaven",
            postcode: "NS2 4TJ".into(),
        };
        assert_eq!(
            address_exact(&a).0,
            vec!["Flat 2".to_string(), "14 Mill Lane".to_string()]
        );
        for _ in 0..200 {
            let v = address_variant(&mut r, &a);
            assert_ne!(v, address_exact(&a));
            if let Some(pc) = &v.2 {
                vigil_model::pole::check_postcode(pc).unwrap();
            }
        }
        let d = NaiveDate::from_ymd_opt(2011, 3, 7).unwrap();
        assert!(swappable(d));
        assert_eq!(
            swap_day_month(d),
            NaiveDate::from_ymd_opt(2011, 7, 3).unwrap()
        );
        assert!(!swappable(NaiveDate::from_ymd_opt(2011, 3, 13).unwrap()));
        assert!(!swappable(NaiveDate::from_ymd_opt(2011, 5, 5).unwrap()));
    }
}
