//! The interim model's comparison of two person records, on three fields.
//!
//! Used only where no model fitted by `vigil-link` is loaded
//! ([`crate::score::Scorer::interim`]): [`compare`] says how the family
//! names, given names and dates of birth of two records agree, and the
//! interim score weighs that. Which records are compared at all comes from
//! the name index (`crate::links`), not from here.
//!
//! - family names are "close" when equal after folding case and accents
//!   away, or within one edit of each other when both have five letters or
//!   more (Smith / Smyth, Robinson / Robertson is not);
//! - given names agree when equal after folding, or when one is a single
//!   initial of the other;
//! - dates of birth agree when the ranges their precision allows overlap
//!   (born 2010 overlaps born 14 March 2010; an estimate counts as a year
//!   either side).
//!
//! Each match says why, so the officer can judge it. Sex, ethnicity and
//! nationality are never used.

use crate::readmodel::PersonView;
use chrono::{Duration, NaiveDate};
use vigil_model::dates::DateOfBirth;
use vigil_model::time::Precision;

/// Most possible existing records shown for a referral's child.
pub const MAX_CANDIDATES: usize = 10;

/// Lower case with common accents folded and anything but letters dropped.
fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            c => c,
        })
        .filter(|c| c.is_alphabetic())
        .collect()
}

/// Whether two strings are at most one insertion, deletion or substitution apart.
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

fn family_close(a: &str, b: &str) -> Option<&'static str> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a == b {
        Some("same family name")
    } else if a.chars().count() >= 5 && b.chars().count() >= 5 && within_one_edit(a, b) {
        Some("similar family name")
    } else {
        None
    }
}

fn given_agree(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b
        || (a.chars().count() == 1 && b.starts_with(a))
        || (b.chars().count() == 1 && a.starts_with(b))
}

/// The days a date of birth can mean, widened for estimates.
fn dob_range(d: &DateOfBirth) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = (d.earliest_day().ok()?, d.latest_day().ok()?);
    if d.precision == Precision::Approximate {
        Some((first - Duration::days(366), last + Duration::days(366)))
    } else {
        Some((first, last))
    }
}

fn dob_overlap(a: &DateOfBirth, b: &DateOfBirth) -> Option<&'static str> {
    let (a0, a1) = dob_range(a)?;
    let (b0, b1) = dob_range(b)?;
    if a.precision == Precision::Day && b.precision == Precision::Day && a0 == b0 {
        Some("same date of birth")
    } else if a0 <= b1 && b0 <= a1 {
        Some("date of birth could be the same")
    } else {
        None
    }
}

/// How two person records compare on the screen's three fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// "same family name", "similar family name", or `None`.
    pub family: Option<&'static str>,
    /// Both records have a family name.
    pub family_known: bool,
    pub given: bool,
    /// Both records have a given name.
    pub given_known: bool,
    /// "same date of birth", "date of birth could be the same", or `None`.
    pub dob: Option<&'static str>,
    /// Both records have a date of birth.
    pub dob_known: bool,
}

impl Comparison {
    pub fn strong_dob(&self) -> bool {
        self.dob == Some("same date of birth")
    }
}

/// Compares every name of `a` with every name of `b`, and the dates of birth.
pub fn compare(a: &PersonView, b: &PersonView) -> Comparison {
    let folded = |p: &PersonView| -> Vec<(String, String)> {
        p.names
            .iter()
            .map(|n| {
                (
                    fold(n.given.as_deref().unwrap_or("")),
                    fold(n.family.as_deref().unwrap_or("")),
                )
            })
            .collect()
    };
    let (na, nb) = (folded(a), folded(b));
    let mut family = None;
    let mut given = false;
    for (g, f) in &nb {
        for (cg, cf) in &na {
            if let Some(r) = family_close(cf, f) {
                if family.is_none() || r == "same family name" {
                    family = Some(r);
                }
            }
            given |= given_agree(cg, g);
        }
    }
    let known = |v: &[(String, String)], family: bool| {
        v.iter().any(|(g, f)| {
            let part = if family { f } else { g };
            !part.is_empty()
        })
    };
    let dob = match (&a.date_of_birth, &b.date_of_birth) {
        (Some(x), Some(y)) => dob_overlap(x, y),
        _ => None,
    };
    Comparison {
        family,
        family_known: known(&na, true) && known(&nb, true),
        given,
        given_known: known(&na, false) && known(&nb, false),
        dob,
        dob_known: a.date_of_birth.is_some() && b.date_of_birth.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn person(n: u128, given: &str, family: &str, dob: Option<(&str, Precision)>) -> PersonView {
        PersonView::for_test(Uuid::from_u128(n), given, family, dob)
    }

    #[test]
    fn names_and_dates_compare_with_what_is_known() {
        let child = person(1, "Jade", "Example", Some(("2010-03-14", Precision::Day)));
        let c = compare(&child, &person(2, "Jade", "Example", None));
        assert_eq!(
            (c.family, c.given, c.dob),
            (Some("same family name"), true, None)
        );
        assert!(c.family_known && c.given_known && !c.dob_known);
        let c = compare(
            &child,
            &person(3, "J", "Exampl", Some(("2010", Precision::Year))),
        );
        assert_eq!(
            (c.family, c.given, c.dob),
            (
                Some("similar family name"),
                true,
                Some("date of birth could be the same")
            )
        );
        assert!(!c.strong_dob());
        let c = compare(
            &child,
            &person(5, "Mia", "Other", Some(("2010-03-14", Precision::Day))),
        );
        assert_eq!((c.family, c.given), (None, false));
        assert!(c.strong_dob());
        let c = compare(
            &child,
            &person(7, "Jade", "Example", Some(("2004-01-01", Precision::Day))),
        );
        assert_eq!(c.dob, None);
        assert!(c.dob_known);
    }

    #[test]
    fn edits_and_folding() {
        assert!(within_one_edit("smith", "smyth"));
        assert!(within_one_edit("example", "exampl"));
        assert!(!within_one_edit("robinson", "robertson"));
        assert_eq!(fold("O'Néill-Smith"), "oneillsmith");
        assert_eq!(
            family_close("lee", "lea"),
            None,
            "short names must match exactly"
        );
    }
}
