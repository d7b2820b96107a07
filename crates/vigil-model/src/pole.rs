//! The POLE entities as recorded: people, objects and locations (events such
//! as referrals, missing episodes and offences are in [`crate::payload`]),
//! and the intelligence [`Grading`] that links and reports carry.
//!
//! Each type here is the payload of the event that records it
//! (`person.recorded` carries a [`Person`]) and has a `validate` that needs no
//! state: a date of birth in the future, an unknown code or a registration
//! with letters no plate has are refused with a sentence.

use crate::codes::{
    DfeEthnicity, Disability, EthnicitySource, HandlingCode, IntelligenceAssessment, LocationKind,
    NameKind, Nationality, ObjectKind, ObservedEthnicity, SelfDefinedEthnicity, Sex,
    SourceEvaluation,
};
use crate::dates::DateOfBirth;
use crate::event::ModelError;
use crate::text::{
    check_count, check_line, check_name, check_opt_line, check_opt_text, MAX_LONG_CHARS,
    MAX_NAME_CHARS, MAX_SHORT_CHARS,
};
use crate::time::truncate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most names one person may have.
pub const MAX_NAMES: usize = 50;
/// Most nationalities one person may have.
pub const MAX_NATIONALITIES: usize = 10;
/// Most address lines of a location.
pub const MAX_ADDRESS_LINES: usize = 6;

/// One name a person is known by. At least one of `given` and `family` is
/// present (a street name is often a single word: put it in `given`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonName {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    pub kind: NameKind,
}

impl PersonName {
    pub fn new(given: &str, family: &str, kind: NameKind) -> PersonName {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        PersonName {
            given: opt(given),
            family: opt(family),
            kind,
        }
    }

    /// "Given Family", or whichever part there is.
    pub fn display(&self) -> String {
        match (&self.given, &self.family) {
            (Some(g), Some(f)) => format!("{g} {f}"),
            (Some(g), None) => g.clone(),
            (None, Some(f)) => f.clone(),
            (None, None) => String::new(),
        }
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        if self.given.is_none() && self.family.is_none() {
            return Err(ModelError::invalid(
                "a name needs a given name, a family name or both",
            ));
        }
        if let Some(g) = &self.given {
            check_name("the given name", g)?;
        }
        if let Some(f) = &self.family {
            check_name("the family name", f)?;
        }
        Ok(())
    }
}

/// An ethnicity code with where it came from. Each scheme is its own field
/// of [`Person`] and none is ever derived from another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EthnicityRecord<C> {
    pub code: C,
    pub source: EthnicitySource,
}

impl<C> EthnicityRecord<C> {
    pub fn new(code: C, source: EthnicitySource) -> Self {
        EthnicityRecord { code, source }
    }
}

/// Checks that self-defined and DfE codes are never an observer's view and
/// that officer-observed codes always are.
fn check_ethnicity_sources(
    self_defined: &Option<EthnicityRecord<SelfDefinedEthnicity>>,
    observed: &Option<EthnicityRecord<ObservedEthnicity>>,
    dfe: &Option<EthnicityRecord<DfeEthnicity>>,
) -> Result<(), ModelError> {
    if self_defined
        .as_ref()
        .is_some_and(|e| e.source == EthnicitySource::Observed)
    {
        return Err(ModelError::invalid(
            "a self-defined ethnicity is what the person (or their parent or carer) says, so its source \
             cannot be 'observed'; record an officer's view as ethnicity_officer_observed",
        ));
    }
    if dfe
        .as_ref()
        .is_some_and(|e| e.source == EthnicitySource::Observed)
    {
        return Err(ModelError::invalid(
            "a DfE ethnicity code records what the child or their parent says, so its source cannot be \
             'observed'; record an officer's view as ethnicity_officer_observed",
        ));
    }
    if observed
        .as_ref()
        .is_some_and(|e| e.source != EthnicitySource::Observed)
    {
        return Err(ModelError::invalid(
            "an officer-observed ethnicity (IC code) is an observation, so its source must be 'observed'; \
             record what the person says as ethnicity_self_defined",
        ));
    }
    Ok(())
}

fn check_nationalities(list: &[Nationality]) -> Result<(), ModelError> {
    if list.len() > MAX_NATIONALITIES {
        return Err(ModelError::invalid(format!(
            "{} nationalities were given; the limit is {MAX_NATIONALITIES}",
            list.len()
        )));
    }
    crate::text::check_unique("the list of nationalities", list)?;
    if list.len() > 1 && list.iter().any(|n| !n.is_country()) {
        return Err(ModelError::invalid(
            "'not known' and 'stateless' cannot be recorded together with a nationality",
        ));
    }
    Ok(())
}

/// A person: a child, a parent or carer, a suspect, a witness, a professional.
/// The payload of `person.recorded`. Usually named; a person whose name is
/// not known has no names, a description and an (approximate) date of
/// birth instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub person_id: Uuid,
    /// The first is the name shown. Empty only for a person whose name is
    /// not known (then a description and a date of birth are required).
    pub names: Vec<PersonName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<DateOfBirth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_self_defined: Option<EthnicityRecord<SelfDefinedEthnicity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_officer_observed: Option<EthnicityRecord<ObservedEthnicity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_dfe: Option<EthnicityRecord<DfeEthnicity>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nationalities: Vec<Nationality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disability: Option<Disability>,
    /// Free text: appearance, distinguishing marks, how they are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Person {
    /// A person with one name and nothing else recorded.
    pub fn named(person_id: Uuid, given: &str, family: &str) -> Person {
        Person {
            person_id,
            names: vec![PersonName::new(given, family, NameKind::Birth)],
            date_of_birth: None,
            sex: None,
            ethnicity_self_defined: None,
            ethnicity_officer_observed: None,
            ethnicity_dfe: None,
            nationalities: Vec::new(),
            disability: None,
            description: None,
        }
    }

    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ModelError> {
        // "A girl of about 13, dark hair, seen at the taxi rank": a child
        // whose name nobody knows can still be referred, and linked to a
        // known child's record later (`person_match.confirmed`).
        if self.names.is_empty() {
            let described = self
                .description
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty());
            if !described || self.date_of_birth.is_none() {
                return Err(ModelError::invalid(
                    "a person needs at least one name (a nickname or street name will do); \
                     when nobody knows it, give a description and an approximate age instead",
                ));
            }
        }
        check_names(&self.names)?;
        if let Some(dob) = &self.date_of_birth {
            dob.validate(now)?;
        }
        check_ethnicity_sources(
            &self.ethnicity_self_defined,
            &self.ethnicity_officer_observed,
            &self.ethnicity_dfe,
        )?;
        check_nationalities(&self.nationalities)?;
        check_opt_text("the description", &self.description, MAX_LONG_CHARS)
    }
}

/// Checks a list of names: each valid, at most [`MAX_NAMES`], none twice.
pub fn check_names(names: &[PersonName]) -> Result<(), ModelError> {
    if names.len() > MAX_NAMES {
        return Err(ModelError::invalid(format!(
            "{} names were given; the limit is {MAX_NAMES}",
            names.len()
        )));
    }
    for (i, n) in names.iter().enumerate() {
        n.validate()?;
        if names[..i].contains(n) {
            return Err(ModelError::invalid(format!(
                "the name '{}' ({}) is given twice",
                truncate(&n.display()),
                n.kind.label().to_lowercase()
            )));
        }
    }
    Ok(())
}

/// Changes to a person; every field is optional and only what is present
/// changes. The payload of `person.amended`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonAmendment {
    pub person_id: Uuid,
    /// Why it is being changed (new information, a correction, ...).
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_names: Vec<PersonName>,
    /// Names to remove, exactly as recorded (a person keeps at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_names: Vec<PersonName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<DateOfBirth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_self_defined: Option<EthnicityRecord<SelfDefinedEthnicity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_officer_observed: Option<EthnicityRecord<ObservedEthnicity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity_dfe: Option<EthnicityRecord<DfeEthnicity>>,
    /// Replaces the whole list of nationalities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationalities: Option<Vec<Nationality>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disability: Option<Disability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl PersonAmendment {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ModelError> {
        crate::text::check_text(
            "the reason for the change",
            &self.reason,
            MAX_SHORT_CHARS,
            true,
        )?;
        let changes_nothing = self.add_names.is_empty()
            && self.remove_names.is_empty()
            && self.date_of_birth.is_none()
            && self.sex.is_none()
            && self.ethnicity_self_defined.is_none()
            && self.ethnicity_officer_observed.is_none()
            && self.ethnicity_dfe.is_none()
            && self.nationalities.is_none()
            && self.disability.is_none()
            && self.description.is_none();
        if changes_nothing {
            return Err(ModelError::invalid("the amendment changes nothing"));
        }
        check_names(&self.add_names)?;
        check_count("the names to remove", &self.remove_names, false)?;
        if let Some(n) = self
            .add_names
            .iter()
            .find(|n| self.remove_names.contains(n))
        {
            return Err(ModelError::invalid(format!(
                "the name '{}' is both added and removed",
                truncate(&n.display())
            )));
        }
        if let Some(dob) = &self.date_of_birth {
            dob.validate(now)?;
        }
        check_ethnicity_sources(
            &self.ethnicity_self_defined,
            &self.ethnicity_officer_observed,
            &self.ethnicity_dfe,
        )?;
        if let Some(n) = &self.nationalities {
            check_nationalities(n)?;
        }
        check_opt_text("the description", &self.description, MAX_LONG_CHARS)
    }
}

// ---------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------

/// A thing: a vehicle, a phone, a business, an account. Only the fields of
/// its kind may be filled in. The payload of `object.recorded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    pub object_id: Uuid,
    pub kind: ObjectKind,
    #[serde(flatten)]
    pub details: ObjectDetails,
}

/// The descriptive fields of an object (all optional; which are allowed
/// depends on the kind).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDetails {
    /// Vehicle registration; partial allowed, `?` or `*` for unknown characters (`KX1? ?AB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Phone number; partial allowed with `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Handset IMEI (14–16 digits; `?` for unknown digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    /// What the business does (takeaway, taxi firm, hotel, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_type: Option<String>,
    /// A licence held (premises, private hire operator, driver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<String>,
    /// Bank or platform of an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Account name, handle or (partial) number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ObjectDetails {
    /// `(field name, value, the kinds it belongs to)`.
    fn fields(&self) -> [(&'static str, &Option<String>, &'static [ObjectKind]); 11] {
        use ObjectKind::*;
        [
            ("registration", &self.registration, &[Vehicle]),
            ("make", &self.make, &[Vehicle, Phone]),
            ("model", &self.model, &[Vehicle, Phone]),
            ("colour", &self.colour, &[Vehicle, Phone]),
            ("phone_number", &self.phone_number, &[Phone]),
            ("imei", &self.imei, &[Phone]),
            ("business_name", &self.business_name, &[Business]),
            ("business_type", &self.business_type, &[Business]),
            ("licence_number", &self.licence_number, &[Business, Vehicle]),
            ("provider", &self.provider, &[BankAccount, OnlineAccount]),
            (
                "account_name",
                &self.account_name,
                &[BankAccount, OnlineAccount],
            ),
        ]
    }

    /// Checks the fields against the object's kind.
    pub fn validate(&self, kind: ObjectKind) -> Result<(), ModelError> {
        let mut any = self.description.is_some();
        for (name, value, kinds) in self.fields() {
            if value.is_some() {
                if !kinds.contains(&kind) {
                    let allowed: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
                    return Err(ModelError::invalid(format!(
                        "{name} is recorded only for a {}, not for a {}",
                        allowed.join(" or "),
                        kind.code()
                    )));
                }
                any = true;
            }
        }
        if !any {
            return Err(ModelError::invalid(format!(
                "say something about the {}: fill in {} or a description",
                kind.label().to_lowercase(),
                self.fields()
                    .iter()
                    .filter(|(_, _, k)| k.contains(&kind))
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        self.check_formats()
    }

    /// Checks the shape of each field present, whatever the kind.
    pub fn check_formats(&self) -> Result<(), ModelError> {
        if let Some(r) = &self.registration {
            check_registration(r)?;
        }
        if let Some(p) = &self.phone_number {
            check_phone_number(p)?;
        }
        if let Some(i) = &self.imei {
            check_imei(i)?;
        }
        check_opt_line("the make", &self.make, MAX_NAME_CHARS)?;
        check_opt_line("the model", &self.model, MAX_NAME_CHARS)?;
        check_opt_line("the colour", &self.colour, MAX_NAME_CHARS)?;
        check_opt_line("the business name", &self.business_name, MAX_NAME_CHARS)?;
        check_opt_line("the business type", &self.business_type, MAX_NAME_CHARS)?;
        check_opt_line("the licence number", &self.licence_number, MAX_NAME_CHARS)?;
        check_opt_line("the provider", &self.provider, MAX_NAME_CHARS)?;
        check_opt_line("the account name", &self.account_name, MAX_NAME_CHARS)?;
        check_opt_text("the description", &self.description, MAX_LONG_CHARS)
    }

    /// Applies the fields present in `change` over `self`.
    pub fn merge(&mut self, change: &ObjectDetails) {
        let pairs: [(&mut Option<String>, &Option<String>); 12] = [
            (&mut self.registration, &change.registration),
            (&mut self.make, &change.make),
            (&mut self.model, &change.model),
            (&mut self.colour, &change.colour),
            (&mut self.phone_number, &change.phone_number),
            (&mut self.imei, &change.imei),
            (&mut self.business_name, &change.business_name),
            (&mut self.business_type, &change.business_type),
            (&mut self.licence_number, &change.licence_number),
            (&mut self.provider, &change.provider),
            (&mut self.account_name, &change.account_name),
            (&mut self.description, &change.description),
        ];
        for (to, from) in pairs {
            if from.is_some() {
                to.clone_from(from);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == ObjectDetails::default()
    }
}

impl Object {
    pub fn validate(&self) -> Result<(), ModelError> {
        self.details.validate(self.kind)
    }
}

/// A vehicle registration, whole or partial: letters, digits, spaces and
/// `?`/`*` for characters not seen, 1–12 characters with at least one
/// letter or digit.
pub fn check_registration(r: &str) -> Result<(), ModelError> {
    let ok = !r.trim().is_empty()
        && r.chars().count() <= 12
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '?' | '*'))
        && r.chars().any(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ModelError::invalid(format!(
            "'{}' is not a vehicle registration: use letters, digits and spaces, with ? for a \
             character not seen (e.g. KX1? ?AB), at most 12 characters",
            truncate(r)
        )))
    }
}

/// Upper case without spaces, for comparing registrations.
pub fn normalise_registration(r: &str) -> String {
    r.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A phone number, whole or partial: digits, spaces, `+ - ( )` and `?`,
/// at most 20 characters, at least three digits.
pub fn check_phone_number(p: &str) -> Result<(), ModelError> {
    let ok = p.chars().count() <= 20
        && p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '?'))
        && p.chars().filter(char::is_ascii_digit).count() >= 3;
    if ok {
        Ok(())
    } else {
        Err(ModelError::invalid(format!(
            "'{}' is not a phone number: use digits, spaces, + and ? for a digit not known, at most 20 characters",
            truncate(p)
        )))
    }
}

/// An IMEI: 14 to 16 digits (`?` for a digit not known). A complete
/// 15-digit IMEI must pass its check digit (Luhn).
pub fn check_imei(i: &str) -> Result<(), ModelError> {
    let n = i.chars().count();
    if !(14..=16).contains(&n) || !i.chars().all(|c| c.is_ascii_digit() || c == '?') {
        return Err(ModelError::invalid(format!(
            "'{}' is not an IMEI: it is 14 to 16 digits, with ? for a digit not known",
            truncate(i)
        )));
    }
    if n == 15 && i.chars().all(|c| c.is_ascii_digit()) && !luhn(i) {
        return Err(ModelError::invalid(format!(
            "the IMEI {i} fails its check digit; check it was copied correctly"
        )));
    }
    Ok(())
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

// ---------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------

/// A place. The payload of `location.recorded`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub location_id: Uuid,
    pub kind: LocationKind,
    #[serde(flatten)]
    pub details: LocationDetails,
}

/// The descriptive fields of a location; at least one is needed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationDetails {
    /// What the place is called ("Riverside Park", "Golden Fry").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address_lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
    /// A UK postcode, whole or partial (`NS1 4AB`, `NS1 4`, `NS1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl LocationDetails {
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.name.is_none()
            && self.address_lines.is_empty()
            && self.postcode.is_none()
            && self.description.is_none()
        {
            return Err(ModelError::invalid(
                "say where the place is: give a name, an address, a postcode or a description",
            ));
        }
        self.check_formats()
    }

    /// Checks the shape of each field present.
    pub fn check_formats(&self) -> Result<(), ModelError> {
        check_opt_line("the place name", &self.name, MAX_NAME_CHARS)?;
        if self.address_lines.len() > MAX_ADDRESS_LINES {
            return Err(ModelError::invalid(format!(
                "the address has {} lines; the limit is {MAX_ADDRESS_LINES}",
                self.address_lines.len()
            )));
        }
        for line in &self.address_lines {
            check_line("an address line", line, MAX_NAME_CHARS)?;
        }
        check_opt_line("the town", &self.town, MAX_NAME_CHARS)?;
        if let Some(p) = &self.postcode {
            check_postcode(p)?;
        }
        check_opt_text("the description", &self.description, MAX_LONG_CHARS)
    }

    /// Applies the fields present in `change` over `self` (address lines
    /// are replaced as a whole when any are given).
    pub fn merge(&mut self, change: &LocationDetails) {
        for (to, from) in [
            (&mut self.name, &change.name),
            (&mut self.town, &change.town),
            (&mut self.postcode, &change.postcode),
            (&mut self.description, &change.description),
        ] {
            if from.is_some() {
                to.clone_from(from);
            }
        }
        if !change.address_lines.is_empty() {
            self.address_lines.clone_from(&change.address_lines);
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == LocationDetails::default()
    }
}

impl Location {
    pub fn validate(&self) -> Result<(), ModelError> {
        self.details.validate()
    }
}

fn shape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                'A'
            } else if c.is_ascii_digit() {
                '9'
            } else {
                '#'
            }
        })
        .collect()
}

fn is_outward(s: &str) -> bool {
    matches!(
        shape(s).as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    )
}

fn is_inward(s: &str, partial: bool) -> bool {
    let sh = shape(s);
    sh == "9AA" || (partial && (sh == "9" || sh == "9A"))
}

/// A UK postcode, checked loosely for shape: a whole postcode (`NS1 4AB`,
/// with or without the space), a sector (`NS1 4`) or a district (`NS1`).
/// Case does not matter.
pub fn check_postcode(p: &str) -> Result<(), ModelError> {
    let parts: Vec<&str> = p.split(' ').filter(|s| !s.is_empty()).collect();
    let ok = p.len() <= 10
        && match parts.as_slice() {
            [one] => {
                is_outward(one)
                    || (one.len() >= 5 && one.len() <= 7 && one.is_ascii() && {
                        let (out, inw) = one.split_at(one.len() - 3);
                        is_outward(out) && is_inward(inw, false)
                    })
            }
            [out, inw] => is_outward(out) && is_inward(inw, true),
            _ => false,
        };
    if ok {
        Ok(())
    } else {
        Err(ModelError::invalid(format!(
            "'{}' is not a UK postcode: write it like NS1 4AB, or just the first part (NS1) if that is all that is known",
            truncate(p)
        )))
    }
}

/// Upper case with one space before the inward code, for comparing postcodes.
pub fn normalise_postcode(p: &str) -> String {
    let compact: String = p
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.len() >= 5 && compact.is_ascii() && is_inward(&compact[compact.len() - 3..], false) {
        let (out, inw) = compact.split_at(compact.len() - 3);
        if is_outward(out) {
            return format!("{out} {inw}");
        }
    }
    p.split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------
// Intelligence grading
// ---------------------------------------------------------------------------

/// A 3x5x2 intelligence grading (College of Policing): source evaluation,
/// intelligence assessment and handling code, with the conditions of sharing
/// when the handling code is C.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    pub source: SourceEvaluation,
    pub intelligence: IntelligenceAssessment,
    pub handling: HandlingCode,
    /// Required with handling code C, refused with P.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
}

impl Grading {
    /// The short form, e.g. `1AP`, `2CC`.
    pub fn short(&self) -> String {
        format!(
            "{}{}{}",
            self.source.code(),
            self.intelligence.code(),
            self.handling.code()
        )
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        match (self.handling, &self.conditions) {
            (HandlingCode::C, None) => Err(ModelError::invalid(
                "handling code C means sharing is permitted with conditions: write the conditions",
            )),
            (HandlingCode::C, Some(c)) => {
                crate::text::check_text("the handling conditions", c, MAX_SHORT_CHARS, true)
            }
            (HandlingCode::P, Some(_)) => Err(ModelError::invalid(
                "conditions are recorded only with handling code C; use C, or leave the conditions out",
            )),
            (HandlingCode::P, None) => Ok(()),
        }
    }

    /// Converts a legacy 5x5x5 grading, as written in older intelligence
    /// systems, to 3x5x2. *(check)* with the force's intelligence
    /// management policy; the rules used are:
    ///
    /// | 5x5x5 | 3x5x2 |
    /// |---|---|
    /// | source A always reliable, B mostly reliable | 1 reliable |
    /// | source C sometimes reliable, D unreliable | 3 not reliable |
    /// | source E untested | 2 untested |
    /// | intelligence 1 known to be true, 2 known personally to the source | A known directly to the source |
    /// | intelligence 3 not known personally but corroborated | B known indirectly but corroborated |
    /// | intelligence 4 cannot be judged | D not known |
    /// | intelligence 5 suspected to be false or malicious | E suspected to be false |
    /// | handling 1 and 2 (may be disseminated within UK law enforcement / to UK non-prosecuting parties) | P |
    /// | handling 3, 4, 5 (non-EEA law enforcement; originating agency only; special conditions) | C, with the legacy meaning written as the conditions |
    pub fn from_legacy_5x5x5(
        source: &str,
        intelligence: &str,
        handling: &str,
    ) -> Result<Grading, ModelError> {
        let source = match source.trim().to_ascii_uppercase().as_str() {
            "A" | "B" => SourceEvaluation::Reliable,
            "C" | "D" => SourceEvaluation::NotReliable,
            "E" => SourceEvaluation::Untested,
            _ => {
                return Err(ModelError::invalid(format!(
                    "'{}' is not a 5x5x5 source evaluation; use A, B, C, D or E",
                    truncate(source)
                )))
            }
        };
        let intelligence = match intelligence.trim() {
            "1" | "2" => IntelligenceAssessment::A,
            "3" => IntelligenceAssessment::B,
            "4" => IntelligenceAssessment::D,
            "5" => IntelligenceAssessment::E,
            _ => {
                return Err(ModelError::invalid(format!(
                    "'{}' is not a 5x5x5 intelligence evaluation; use 1, 2, 3, 4 or 5",
                    truncate(intelligence)
                )))
            }
        };
        let (handling, conditions) = match handling.trim() {
            "1" | "2" => (HandlingCode::P, None),
            "3" => (HandlingCode::C, Some("Legacy 5x5x5 handling code 3: may be disseminated to non-EEA law enforcement agencies; check conditions with the originator before sharing")),
            "4" => (HandlingCode::C, Some("Legacy 5x5x5 handling code 4: may be disseminated within the originating agency only")),
            "5" => (HandlingCode::C, Some("Legacy 5x5x5 handling code 5: no further dissemination; refer to the originator (special handling requirements)")),
            _ => {
                return Err(ModelError::invalid(format!(
                    "'{}' is not a 5x5x5 handling code; use 1, 2, 3, 4 or 5",
                    truncate(handling)
                )))
            }
        };
        Ok(Grading {
            source,
            intelligence,
            handling,
            conditions: conditions.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Precision;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn jade() -> Person {
        Person::named(Uuid::from_u128(1), "Jade", "Example")
    }

    #[test]
    fn a_person_needs_a_valid_name() {
        jade().validate(now()).unwrap();
        let mut p = jade();
        p.names.clear();
        assert!(p
            .validate(now())
            .unwrap_err()
            .to_string()
            .contains("at least one name"));
        let mut p = jade();
        p.names = vec![PersonName {
            given: None,
            family: None,
            kind: NameKind::Alias,
        }];
        assert!(p.validate(now()).is_err());
        let mut p = jade();
        p.names.push(p.names[0].clone());
        assert!(p
            .validate(now())
            .unwrap_err()
            .to_string()
            .contains("given twice"));
        let mut p = jade();
        p.names = vec![PersonName::new(
            "<script>alert(1)</script>",
            "",
            NameKind::StreetName,
        )];
        p.validate(now()).unwrap();
        p.names = vec![PersonName::new("Ja\0de", "", NameKind::Birth)];
        assert!(p.validate(now()).unwrap_err().to_string().contains("NUL"));
        p.names = vec![PersonName::new("Jade\u{202e}", "", NameKind::Birth)];
        assert!(p.validate(now()).is_err());
        p.names = vec![PersonName::new(&"J".repeat(100_000), "", NameKind::Birth)];
        assert!(p.validate(now()).unwrap_err().to_string().len() < 200);
        p.names = (0..=MAX_NAMES)
            .map(|i| PersonName::new(&format!("N{i}"), "", NameKind::Alias))
            .collect();
        assert!(p.validate(now()).is_err());
    }

    #[test]
    fn a_person_dob_and_codes() {
        let mut p = jade();
        p.date_of_birth = Some(DateOfBirth {
            value: "2099-01-01".into(),
            precision: Precision::Day,
        });
        assert_eq!(
            p.validate(now()).unwrap_err().to_string(),
            "the date of birth 2099-01-01 is in the future"
        );
        p.date_of_birth = Some(DateOfBirth {
            value: "2010".into(),
            precision: Precision::Year,
        });
        p.validate(now()).unwrap();
        p.ethnicity_self_defined = Some(EthnicityRecord::new(
            SelfDefinedEthnicity::W1,
            EthnicitySource::Observed,
        ));
        assert!(p
            .validate(now())
            .unwrap_err()
            .to_string()
            .contains("ethnicity_officer_observed"));
        p.ethnicity_self_defined = Some(EthnicityRecord::new(
            SelfDefinedEthnicity::W1,
            EthnicitySource::Person,
        ));
        p.ethnicity_officer_observed = Some(EthnicityRecord::new(
            ObservedEthnicity::Ic1,
            EthnicitySource::Person,
        ));
        assert!(p.validate(now()).is_err());
        p.ethnicity_officer_observed = Some(EthnicityRecord::new(
            ObservedEthnicity::Ic1,
            EthnicitySource::Observed,
        ));
        p.validate(now()).unwrap();
        p.nationalities = vec![Nationality::GB, Nationality::GB];
        assert!(p.validate(now()).unwrap_err().to_string().contains("twice"));
        p.nationalities = vec![Nationality::GB, Nationality::NOT_KNOWN];
        assert!(p.validate(now()).is_err());
        p.nationalities = vec![Nationality::GB, Nationality::parse("IE").unwrap()];
        p.validate(now()).unwrap();
    }

    #[test]
    fn an_unknown_ethnicity_code_reads_as_a_sentence() {
        let json = r#"{"person_id":"00000000-0000-0000-0000-000000000001","names":[{"given":"Jade","kind":"birth"}],
                       "ethnicity_self_defined":{"code":"X9","source":"person"}}"#;
        let e = serde_json::from_str::<Person>(json)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("'X9' is not a self-defined ethnicity code; use one of W1, W2"),
            "{e}"
        );
    }

    #[test]
    fn objects_keep_to_their_kind() {
        let mut car = Object {
            object_id: Uuid::from_u128(2),
            kind: ObjectKind::Vehicle,
            details: ObjectDetails {
                registration: Some("KX1? ?AB".into()),
                ..Default::default()
            },
        };
        car.validate().unwrap();
        car.details.registration = Some("KX<script>".into());
        assert!(car
            .validate()
            .unwrap_err()
            .to_string()
            .contains("is not a vehicle registration"));
        car.details.registration = Some("".into());
        assert!(car.validate().is_err());
        car.details.registration = Some("A".repeat(100_000));
        assert!(car.validate().unwrap_err().to_string().len() < 300);
        car.details.registration = None;
        car.details.colour = Some("silver".into());
        car.validate().unwrap();
        car.details.phone_number = Some("07700 900123".into());
        assert_eq!(
            car.validate().unwrap_err().to_string(),
            "phone_number is recorded only for a phone, not for a vehicle"
        );
        let empty = Object {
            object_id: Uuid::from_u128(3),
            kind: ObjectKind::Phone,
            details: ObjectDetails::default(),
        };
        assert!(empty
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("say something about the phone"));
        check_imei("490154203237518").unwrap();
        assert!(check_imei("490154203237519")
            .unwrap_err()
            .to_string()
            .contains("check digit"));
        check_imei("4901542032375??").unwrap();
        assert!(check_imei("12345").is_err());
        check_phone_number("+44 7700 900???").unwrap();
        assert!(check_phone_number("call me").is_err());
        assert!(check_phone_number("07700\u{0}900123").is_err());
        assert_eq!(normalise_registration("kx12 abc"), "KX12ABC");
    }

    #[test]
    fn postcodes_loosely() {
        for ok in [
            "NS1 4AB", "ns1 4ab", "NS14AB", "NS1", "NS1 4", "NS1 4A", "W1A 1AA", "M1 1AE",
            "B33 8TH", "CR2 6XH", "DN55 1PT",
        ] {
            check_postcode(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "NS",
            "1NS 4AB",
            "NS1 4AB X",
            "<script>",
            "NS1\u{0}",
            "ŃS1",
            "NS1  4AB4",
            &"N".repeat(10_000),
        ] {
            assert!(check_postcode(bad).is_err(), "{bad}");
        }
        assert_eq!(normalise_postcode("ns14ab"), "NS1 4AB");
        assert_eq!(normalise_postcode("ns1"), "NS1");
        let loc = Location {
            location_id: Uuid::from_u128(4),
            kind: LocationKind::Park,
            details: LocationDetails::default(),
        };
        assert!(loc
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("say where the place is"));
    }

    #[test]
    fn grading_conditions() {
        let mut g = Grading {
            source: SourceEvaluation::Untested,
            intelligence: IntelligenceAssessment::C,
            handling: HandlingCode::C,
            conditions: None,
        };
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .contains("write the conditions"));
        g.conditions = Some("   ".into());
        assert!(g.validate().is_err());
        g.conditions = Some("Not to be shared with the family".into());
        g.validate().unwrap();
        assert_eq!(g.short(), "2CC");
        g.handling = HandlingCode::P;
        assert!(g.validate().is_err());
        let legacy = Grading::from_legacy_5x5x5("B", "2", "4").unwrap();
        assert_eq!(legacy.short(), "1AC");
        legacy.validate().unwrap();
        assert_eq!(
            Grading::from_legacy_5x5x5("E", "4", "1").unwrap().short(),
            "2DP"
        );
        assert!(Grading::from_legacy_5x5x5("F", "1", "1").is_err());
        assert!(Grading::from_legacy_5x5x5("A", "6", "1").is_err());
        assert!(Grading::from_legacy_5x5x5("A", "1", "9").is_err());
    }
}
