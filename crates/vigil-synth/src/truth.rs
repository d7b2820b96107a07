//! The ground truth: what really happened behind the records.
//!
//! Serialised as JSON with a fixed field order (struct order) and sorted
//! maps, so the same seed and config give a byte-identical file. Later work
//! measures itself against it: entity resolution against
//! `person_records`, network discovery against `networks`, alerts against
//! each victim's `exploitation_began`, the language checker against
//! `failures.victim_blaming_wording`.
//!
//! Ids: people are `P0000001`, places `L0000001`, things (vehicles, phones,
//! businesses) `O0000001`, networks `N001`. Record ids are the UUIDs that
//! appear in the events.

use crate::config::SynthConfig;
use crate::population::PersonKind;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;
use vigil_model::codes::{LocationKind, Nationality, ObjectKind, OnsEthnicity, Sex};

/// Version of the truth file's format.
pub const TRUTH_FORMAT: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Truth {
    pub format: u32,
    pub generator: String,
    pub config: SynthConfig,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub counts: Counts,
    pub duplicates: Duplicates,
    pub noise: NoiseCounts,
    pub failures: FailureRecords,
    pub networks: Vec<NetworkTruth>,
    pub people: Vec<PersonTruth>,
    /// Every real place: homes as they really are, hotspots, businesses' premises.
    pub places: Vec<PlaceTruth>,
    /// Every real vehicle, phone and business.
    pub things: Vec<ThingTruth>,
    /// Every person record (the `person_id` of a `person.recorded` event) → the true person.
    pub person_records: BTreeMap<Uuid, String>,
    /// Every location record → the true place.
    pub location_records: BTreeMap<Uuid, String>,
    /// Every object record → the true thing.
    pub object_records: BTreeMap<Uuid, String>,
    /// Every event that concerns at least one person → the true people it
    /// concerns (through the person records among its subjects). Events
    /// about no person (agencies, objects, places) are not listed.
    pub records: BTreeMap<Uuid, Vec<String>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    pub events: u64,
    pub people: u64,
    pub children: u64,
    pub victims: u64,
    pub networks: u64,
    pub network_members: u64,
    pub person_records: u64,
    /// Events by agency code, then kind.
    pub by_agency_and_kind: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Duplicates by design: one real person, several person records.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Duplicates {
    pub person_records: u64,
    /// Distinct real people with at least one record.
    pub people_recorded: u64,
    /// `person_records - people_recorded`: records entity resolution should merge.
    pub duplicate_person_records: u64,
    /// Real people recorded by more than one agency.
    pub people_recorded_by_several_agencies: u64,
    /// Records an agency made of someone it had already recorded.
    pub within_agency_duplicates: u64,
    /// The most records any one person has.
    pub most_records_for_one_person: u64,
}

/// How often each kind of noise could have been applied, and was.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NoiseCounts {
    pub misspelling: Tally,
    pub transliteration: Tally,
    pub nickname: Tally,
    pub swapped_day_month: Tally,
    pub missing_dob: Tally,
    pub partial_registration: Tally,
    pub address_variant: Tally,
    pub same_agency_duplicate: Tally,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Tally {
    pub chances: u64,
    pub applied: u64,
}

impl Tally {
    pub fn add(&mut self, applied: bool) {
        self.chances += 1;
        self.applied += u64::from(applied);
    }
}

/// The failures made on purpose, so checks can be measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FailureRecords {
    /// Referral ids never decided.
    pub unanswered_referrals: Vec<Uuid>,
    /// Case ids closed while the child was still being exploited.
    pub cases_closed_while_exploited: Vec<Uuid>,
    /// Offence ids where an exploited child is recorded as the suspect.
    pub victims_recorded_as_suspects: Vec<Uuid>,
    /// Event ids (referrals and notes) whose text blames the child.
    pub victim_blaming_wording: Vec<Uuid>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NetworkTruth {
    pub id: String,
    pub formed: NaiveDate,
    pub active_until: NaiveDate,
    pub members: Vec<String>,
    /// Members who are one family.
    pub family: Vec<String>,
    pub victims: Vec<VictimTruth>,
    pub vehicles: Vec<String>,
    pub phones: Vec<String>,
    pub businesses: Vec<String>,
    /// Places the network uses (hotspots, its businesses, a member's home).
    pub places: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VictimTruth {
    pub person: String,
    pub exploitation_began: NaiveDate,
    /// None when it was still going on at the end of the simulated years.
    pub exploitation_ended: Option<NaiveDate>,
    /// The victim through whom this child was drawn in.
    pub drawn_in_through: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PersonTruth {
    pub id: String,
    pub kind: PersonKind,
    pub given: String,
    pub family: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub ethnicity: OnsEthnicity,
    pub nationality: Nationality,
    pub disability: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlaceTruth {
    pub id: String,
    pub kind: LocationKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub address_lines: Vec<String>,
    pub town: String,
    pub postcode: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ThingTruth {
    pub id: String,
    pub kind: ObjectKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    /// A business's premises.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

pub fn person_id(i: usize) -> String {
    format!("P{:07}", i + 1)
}
pub fn place_id(i: usize) -> String {
    format!("L{:07}", i + 1)
}
pub fn thing_id(i: usize) -> String {
    format!("O{:07}", i + 1)
}
pub fn network_id(i: usize) -> String {
    format!("N{:03}", i + 1)
}
pub fn household_id(i: usize) -> String {
    format!("H{:07}", i + 1)
}

impl Truth {
    /// The truth file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s =
            serde_json::to_string_pretty(self).expect("the truth holds only serialisable values");
        s.push('\n');
        s
    }
}
