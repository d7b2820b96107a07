//! What a person record holds for linkage: [`Record`], the comparison
//! [`Field`]s, the wider set of [`Attribute`]s a file may carry, and the
//! date of birth with its precision ([`Dob`]).
//!
//! Sex, ethnicity, nationality and religion are [`Attribute`]s (a record
//! keeps them, in [`Kept`]) but never [`Field`]s: `Field` has no variant for
//! them, so no comparison, blocking rule, weight or explanation can read
//! them. `tests::protected_characteristics_are_not_fields` says so.

use serde::{Deserialize, Serialize};
use vigil_model::dates::DateOfBirth;
use vigil_model::Precision;

/// A comparison field: what the model compares between two records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GivenName,
    FamilyName,
    OtherName,
    DateOfBirth,
    Address,
    Postcode,
    Locality,
    Phone,
    Email,
    Vehicle,
    Identifier,
}

impl Field {
    /// Every comparison field, in the order of a comparison vector.
    pub const ALL: [Field; 11] = [
        Field::GivenName,
        Field::FamilyName,
        Field::OtherName,
        Field::DateOfBirth,
        Field::Address,
        Field::Postcode,
        Field::Locality,
        Field::Phone,
        Field::Email,
        Field::Vehicle,
        Field::Identifier,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The field's name in files, flags and explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::OtherName => "other_name",
            Field::DateOfBirth => "dob",
            Field::Address => "address",
            Field::Postcode => "postcode",
            Field::Locality => "locality",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Vehicle => "vehicle",
            Field::Identifier => "identifier",
        }
    }

    /// Words a person reads in an explanation.
    pub fn label(self) -> &'static str {
        match self {
            Field::GivenName => "given name",
            Field::FamilyName => "family name",
            Field::OtherName => "other name",
            Field::DateOfBirth => "date of birth",
            Field::Address => "address",
            Field::Postcode => "postcode",
            Field::Locality => "locality",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Vehicle => "vehicle",
            Field::Identifier => "identifier",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anything a record may carry: a comparison field, or a protected
/// characteristic that is kept with the record and never compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attribute {
    Compared(Field),
    Sex,
    Ethnicity,
    Nationality,
    Religion,
}

impl Attribute {
    /// Column and `--map` names each attribute answers to (lower case;
    /// spaces, hyphens and dots read as `_`). The first is the canonical one.
    pub const NAMES: &'static [(Attribute, &'static [&'static str])] = &[
        (
            Attribute::Compared(Field::GivenName),
            &[
                "given_name",
                "first_name",
                "forename",
                "forenames",
                "firstname",
                "given",
                "given_names",
            ],
        ),
        (
            Attribute::Compared(Field::FamilyName),
            &["family_name", "surname", "last_name", "lastname", "family"],
        ),
        (
            Attribute::Compared(Field::OtherName),
            &[
                "other_name",
                "middle_name",
                "middle_names",
                "alias",
                "other_names",
                "known_as",
            ],
        ),
        (
            Attribute::Compared(Field::DateOfBirth),
            &["dob", "date_of_birth", "birth_date", "birthdate", "born"],
        ),
        (
            Attribute::Compared(Field::Address),
            &[
                "address",
                "street",
                "address_1",
                "address_2",
                "address_line_1",
                "address_line_2",
                "street_number",
                "house_number",
                "address_1_line",
            ],
        ),
        (
            Attribute::Compared(Field::Postcode),
            &["postcode", "post_code", "postal_code", "zip", "zipcode"],
        ),
        (
            Attribute::Compared(Field::Locality),
            &["locality", "town", "city", "suburb", "district"],
        ),
        (
            Attribute::Compared(Field::Phone),
            &["phone", "phone_number", "telephone", "mobile", "tel"],
        ),
        (
            Attribute::Compared(Field::Email),
            &["email", "email_address", "e_mail"],
        ),
        (
            Attribute::Compared(Field::Vehicle),
            &[
                "vehicle",
                "vrm",
                "registration",
                "vehicle_registration",
                "reg",
            ],
        ),
        (
            Attribute::Compared(Field::Identifier),
            &[
                "identifier",
                "nhs_number",
                "ni_number",
                "national_insurance_number",
                "reference",
                "police_reference",
                "council_reference",
                "soc_sec_id",
                "ssn",
            ],
        ),
        (Attribute::Sex, &["sex", "gender"]),
        (Attribute::Ethnicity, &["ethnicity", "ethnic_group"]),
        (Attribute::Nationality, &["nationality"]),
        (Attribute::Religion, &["religion", "faith"]),
    ];

    /// The attribute a column or `--map` name stands for.
    pub fn parse(name: &str) -> Option<Attribute> {
        let n: String = name
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' | '.' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Attribute::NAMES
            .iter()
            .find(|(_, names)| names.contains(&n.as_str()))
            .map(|(a, _)| *a)
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        Attribute::NAMES
            .iter()
            .find(|(a, _)| *a == self)
            .map(|(_, n)| n[0])
            .unwrap_or("?")
    }
}

/// Protected characteristics: kept with the record because a file carries
/// them and the caller may want them back, never compared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub sex: Option<String>,
    pub ethnicity: Option<String>,
    pub nationality: Option<String>,
    pub religion: Option<String>,
}

/// A date of birth as far as it is known: a year, perhaps a month, perhaps
/// a day (`0` for unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dob {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Dob {
    pub fn full(year: u16, month: u8, day: u8) -> Option<Dob> {
        chrono::NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)?;
        Some(Dob { year, month, day })
    }

    pub fn year_only(year: u16) -> Dob {
        Dob {
            year,
            month: 0,
            day: 0,
        }
    }

    /// Known to the day.
    pub fn is_full(&self) -> bool {
        self.day != 0 && self.month != 0
    }

    /// From Vigil's own date of birth (day and approximate dates are full;
    /// a month or a year only keeps what is known).
    pub fn from_model(d: &DateOfBirth) -> Option<Dob> {
        use chrono::Datelike;
        let first = d.earliest_day().ok()?;
        let year = u16::try_from(first.year()).ok()?;
        Some(match d.precision {
            Precision::Day | Precision::Approximate | Precision::Exact => Dob {
                year,
                month: first.month() as u8,
                day: first.day() as u8,
            },
            Precision::Month => Dob {
                year,
                month: first.month() as u8,
                day: 0,
            },
            Precision::Year => Dob::year_only(year),
        })
    }

    /// Days since 0000-03-01 (for "within a year"), for a full date.
    pub(crate) fn day_number(&self) -> Option<i32> {
        use chrono::Datelike;
        let d =
            chrono::NaiveDate::from_ymd_opt(self.year as i32, self.month as u32, self.day as u32)?;
        Some(d.num_days_from_ce())
    }

    /// Reads a date of birth in the usual layouts: `1990-06-15`,
    /// `19900615`, `15/06/1990` (day first, as in the UK; also with `-` or
    /// `.`), `1990/06/15`, `1990-06` and `06/1990` (month), `1990` (year).
    /// A time after an ISO date (`1990-06-15T00:00:00`, `1990-06-15 00:00`)
    /// is ignored. Empty text is `Ok(None)`; anything else is an error
    /// sentence.
    pub fn parse(text: &str) -> Result<Option<Dob>, String> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let bad = || {
            let shown: String = t.chars().take(40).collect();
            format!(
                "'{shown}' is not a date of birth like 1990-06-15, 15/06/1990, 19900615, 1990-06 or 1990"
            )
        };
        // An ISO date followed by a time.
        let t = match t.find(['T', ' ']) {
            Some(i) if i == 10 && t.as_bytes().get(4) == Some(&b'-') => &t[..10],
            _ => t,
        };
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 8 && s.bytes().all(|b| b.is_ascii_digit());
        let num = |s: &str| s.parse::<u32>().ok();
        let year_ok = |y: u32| (1800..=2200).contains(&y);
        let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
        if parts.iter().any(|p| !digits(p)) {
            return Err(bad());
        }
        let full = |y: u32, m: u32, d: u32| -> Result<Option<Dob>, String> {
            if !year_ok(y) {
                return Err(bad());
            }
            Dob::full(y as u16, m as u8, d as u8)
                .map(Some)
                .ok_or_else(bad)
        };
        match parts.as_slice() {
            [one] if one.len() == 8 => {
                let (y, m, d) = (num(&one[..4]), num(&one[4..6]), num(&one[6..]));
                full(y.ok_or_else(bad)?, m.ok_or_else(bad)?, d.ok_or_else(bad)?)
            }
            [one] if one.len() == 4 => {
                let y = num(one).ok_or_else(bad)?;
                if !year_ok(y) {
                    return Err(bad());
                }
                Ok(Some(Dob::year_only(y as u16)))
            }
            [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => full(
                num(y).ok_or_else(bad)?,
                num(m).ok_or_else(bad)?,
                num(d).ok_or_else(bad)?,
            ),
            [d, m, y] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => full(
                num(y).ok_or_else(bad)?,
                num(m).ok_or_else(bad)?,
                num(d).ok_or_else(bad)?,
            ),
            [a, b] => {
                let (y, m) = if a.len() == 4 && b.len() <= 2 {
                    (a, b)
                } else if b.len() == 4 && a.len() <= 2 {
                    (b, a)
                } else {
                    return Err(bad());
                };
                let (y, m) = (num(y).ok_or_else(bad)?, num(m).ok_or_else(bad)?);
                if !year_ok(y) || !(1..=12).contains(&m) {
                    return Err(bad());
                }
                Ok(Some(Dob {
                    year: y as u16,
                    month: m as u8,
                    day: 0,
                }))
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Dob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.month, self.day) {
            (0, _) => write!(f, "{:04}", self.year),
            (m, 0) => write!(f, "{:04}-{m:02}", self.year),
            (m, d) => write!(f, "{:04}-{m:02}-{d:02}", self.year),
        }
    }
}

/// One person record. Every value is optional: a missing value is a
/// missing value (it contributes nothing), never a disagreement. Several
/// values of one field (two phone numbers, an NHS number and a police
/// reference) may be given separated by spaces; phones, emails, vehicles
/// and identifiers are compared as sets of such values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The caller's id for the record (kept, never compared).
    pub id: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub other_name: Option<String>,
    pub dob: Option<Dob>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub locality: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vehicle: Option<String>,
    pub identifier: Option<String>,
    /// Protected characteristics: kept, never compared.
    pub kept: Kept,
}

impl Record {
    pub fn new(id: impl Into<String>) -> Record {
        Record {
            id: id.into(),
            ..Record::default()
        }
    }

    /// The text of a comparison field (the date of birth as written by
    /// [`Dob`]'s `Display`).
    pub fn text(&self, field: Field) -> Option<String> {
        let s = |o: &Option<String>| o.clone();
        match field {
            Field::GivenName => s(&self.given_name),
            Field::FamilyName => s(&self.family_name),
            Field::OtherName => s(&self.other_name),
            Field::DateOfBirth => self.dob.map(|d| d.to_string()),
            Field::Address => s(&self.address),
            Field::Postcode => s(&self.postcode),
            Field::Locality => s(&self.locality),
            Field::Phone => s(&self.phone),
            Field::Email => s(&self.email),
            Field::Vehicle => s(&self.vehicle),
            Field::Identifier => s(&self.identifier),
        }
    }

    /// Sets a text attribute (empty text is missing). The date of birth is
    /// parsed with [`Dob::parse`]; its error is returned.
    pub fn set(&mut self, attr: Attribute, value: &str) -> Result<(), String> {
        let v = value.trim();
        let o = if v.is_empty() {
            None
        } else {
            Some(v.to_owned())
        };
        match attr {
            Attribute::Compared(f) => match f {
                Field::GivenName => self.given_name = o,
                Field::FamilyName => self.family_name = o,
                Field::OtherName => self.other_name = o,
                Field::DateOfBirth => self.dob = Dob::parse(v)?,
                Field::Address => self.address = o,
                Field::Postcode => self.postcode = o,
                Field::Locality => self.locality = o,
                Field::Phone => self.phone = o,
                Field::Email => self.email = o,
                Field::Vehicle => self.vehicle = o,
                Field::Identifier => self.identifier = o,
            },
            Attribute::Sex => self.kept.sex = o,
            Attribute::Ethnicity => self.kept.ethnicity = o,
            Attribute::Nationality => self.kept.nationality = o,
            Attribute::Religion => self.kept.religion = o,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_characteristics_are_not_fields() {
        // No comparison field is, or is named like, a protected characteristic.
        for f in Field::ALL {
            for word in ["sex", "gender", "ethnic", "national", "religio", "faith"] {
                assert!(!f.as_str().contains(word), "{f}");
            }
        }
        // Every column name of a protected characteristic parses to a
        // non-compared attribute.
        for name in [
            "sex",
            "Gender",
            "ethnicity",
            "Nationality",
            "religion",
            "faith",
        ] {
            assert!(
                !matches!(Attribute::parse(name), Some(Attribute::Compared(_)) | None),
                "{name}"
            );
        }
        // Field::ALL covers every variant (index i is at position i).
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
    }

    #[test]
    fn dates_of_birth_in_the_usual_layouts() {
        let full = |y, m, d| Some(Dob::full(y, m, d).unwrap());
        assert_eq!(Dob::parse("1990-06-15").unwrap(), full(1990, 6, 15));
        assert_eq!(Dob::parse("19900615").unwrap(), full(1990, 6, 15));
        assert_eq!(Dob::parse("15/06/1990").unwrap(), full(1990, 6, 15));
        assert_eq!(Dob::parse("5/6/1990").unwrap(), full(1990, 6, 5));
        assert_eq!(Dob::parse("15.06.1990").unwrap(), full(1990, 6, 15));
        assert_eq!(Dob::parse("1990/06/15").unwrap(), full(1990, 6, 15));
        assert_eq!(
            Dob::parse("1990-06-15T00:00:00").unwrap(),
            full(1990, 6, 15)
        );
        assert_eq!(Dob::parse(" 1990 ").unwrap(), Some(Dob::year_only(1990)));
        assert_eq!(
            Dob::parse("06/1990").unwrap(),
            Some(Dob {
                year: 1990,
                month: 6,
                day: 0
            })
        );
        assert_eq!(Dob::parse("").unwrap(), None);
        for bad in [
            "31/02/1990",
            "1990-13-01",
            "15/06/90",
            "yesterday",
            "1990-06-15-01",
            "٢٠١٠",
            "0000",
            "19901315",
            &"9".repeat(10_000),
        ] {
            let e = Dob::parse(bad).unwrap_err();
            assert!(
                e.contains("is not a date of birth") && e.len() < 200,
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn attributes_parse_their_names() {
        assert_eq!(
            Attribute::parse("First Name"),
            Some(Attribute::Compared(Field::GivenName))
        );
        assert_eq!(
            Attribute::parse("surname"),
            Some(Attribute::Compared(Field::FamilyName))
        );
        assert_eq!(
            Attribute::parse("date-of-birth"),
            Some(Attribute::Compared(Field::DateOfBirth))
        );
        assert_eq!(Attribute::parse("shoe size"), None);
        for f in Field::ALL {
            assert_eq!(Attribute::parse(f.as_str()), Some(Attribute::Compared(f)));
        }
    }
}
