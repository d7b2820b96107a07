//! `vigil-synth`: a synthetic borough with ground truth.
//!
//! Nothing real about a child may ever enter Vigil's repository, yet every
//! feature needs believable data to be built, tested, demonstrated and
//! benchmarked. This crate simulates a fictional borough (Northshire) over
//! some years: its children and families, schools, children in care, and
//! exploitation networks of adults linked through family, addresses,
//! businesses, vehicles and phones, who draw children in through their
//! friends. Its agencies (police, children's social care, health, schools, a
//! youth project, licensing) each see a noisy part of this and write their
//! own records, with their own errors and with the failures the inquiries
//! found. [`generate`] returns those records as Vigil events, in the order
//! they happened, and the [`Truth`] behind them.
//!
//! It is pure logic: no I/O, no clock, no environment. That is what makes it
//! deterministic (the same [`SynthConfig`] gives the same events, ids
//! included, and a byte-identical truth file) and testable without a
//! database; the `vigil synth` command does the writing. It depends on
//! `vigil-model` alone among Vigil's crates, so the events it makes are
//! exactly what any other importer would send.
//!
//! Every knob, with its default, is documented on [`SynthConfig`] and in
//! docs/synth.md. Victimisation and offending are never drawn from a
//! demographic: see [`select`].

pub mod casework;
pub mod config;
pub mod linkage;
mod noise;
pub mod pools;
mod population;
mod random;
mod record;
pub mod select;
pub mod text;
pub mod truth;
mod world;

pub use config::{
    ConfigError, Demographics, Failures, NetworkConfig, Noise, Observation, Rates, Share,
    SynthConfig,
};
pub use population::PersonKind;
pub use truth::Truth;

use std::collections::{BTreeMap, BTreeSet};
use vigil_model::EventInput;

/// What [`generate`] makes: the events (in the order they happened, each
/// with its id) and the truth behind them.
pub struct Borough {
    pub events: Vec<EventInput>,
    pub truth: Truth,
}

/// Generates a borough. The config is checked first; the error is one
/// sentence naming the knob that is wrong.
pub fn generate(cfg: &SynthConfig) -> Result<Borough, ConfigError> {
    cfg.validate()?;
    let w = world::build(cfg);
    let rec = record::record(cfg, &w);
    let truth = assemble_truth(cfg, &w, &rec);
    Ok(Borough {
        events: rec.events,
        truth,
    })
}

fn assemble_truth(cfg: &SynthConfig, w: &world::World, rec: &record::Recorded) -> Truth {
    use truth::*;
    let mut network_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (n, net) in w.networks.iter().enumerate() {
        for m in &net.members {
            network_of.insert(*m, n);
        }
        for v in &net.victims {
            network_of.insert(v.child, n);
        }
    }
    let people: Vec<PersonTruth> = w
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| PersonTruth {
            id: person_id(i),
            kind: p.kind,
            given: p.given.to_owned(),
            family: p.family.to_owned(),
            street_name: p.street_name.map(str::to_owned),
            sex: p.sex,
            date_of_birth: p.dob,
            ethnicity: p.ethnicity,
            nationality: p.nationality,
            disability: p.disability,
            household: p.household.map(household_id),
            school: p.school.map(|s| {
                rec.agencies[record::FIRST_SCHOOL + s]
                    .code
                    .as_str()
                    .to_owned()
            }),
            network: network_of.get(&i).map(|n| network_id(*n)),
        })
        .collect();
    let end = cfg.end_date;
    let networks: Vec<NetworkTruth> = w
        .networks
        .iter()
        .enumerate()
        .map(|(n, net)| NetworkTruth {
            id: network_id(n),
            formed: net.formed,
            active_until: net.ends,
            members: net.members.iter().map(|m| person_id(*m)).collect(),
            family: net.members[..net.relatives]
                .iter()
                .map(|m| person_id(*m))
                .collect(),
            victims: net
                .victims
                .iter()
                .map(|v| VictimTruth {
                    person: person_id(v.child),
                    exploitation_began: v.began,
                    exploitation_ended: (v.ended <= end).then_some(v.ended),
                    drawn_in_through: v.through.map(person_id),
                })
                .collect(),
            vehicles: dedup_ids(&net.vehicles, thing_id),
            phones: dedup_ids(
                &net.phones.iter().flatten().copied().collect::<Vec<_>>(),
                thing_id,
            ),
            businesses: dedup_ids(&net.businesses, thing_id),
            places: dedup_ids(&net.hotspots, place_id),
        })
        .collect();
    let mut by_person: BTreeMap<usize, (u64, BTreeSet<usize>)> = BTreeMap::new();
    for (id, p) in &rec.person_records {
        let e = by_person.entry(*p).or_default();
        e.0 += 1;
        if let Some(a) = rec.person_record_agency.get(id) {
            e.1.insert(*a);
        }
    }
    let person_records = rec.person_records.len() as u64;
    let duplicates = Duplicates {
        person_records,
        people_recorded: by_person.len() as u64,
        duplicate_person_records: person_records - by_person.len() as u64,
        people_recorded_by_several_agencies: by_person.values().filter(|(_, a)| a.len() > 1).count()
            as u64,
        within_agency_duplicates: rec.within_agency_duplicates,
        most_records_for_one_person: by_person.values().map(|(n, _)| *n).max().unwrap_or(0),
    };
    let mut counts = rec.counts.clone();
    counts.events = rec.events.len() as u64;
    counts.people = w.people.len() as u64;
    counts.children = w.children as u64;
    counts.victims = w.networks.iter().map(|n| n.victims.len() as u64).sum();
    counts.networks = w.networks.len() as u64;
    counts.network_members = w.networks.iter().map(|n| n.members.len() as u64).sum();
    counts.person_records = person_records;
    Truth {
        format: TRUTH_FORMAT,
        generator: "vigil-synth".into(),
        config: cfg.clone(),
        start_date: w.start,
        end_date: w.end,
        counts,
        duplicates,
        noise: rec.noise.clone(),
        failures: rec.failures.clone(),
        networks,
        people,
        places: w
            .places
            .iter()
            .enumerate()
            .map(|(i, p)| PlaceTruth {
                id: place_id(i),
                kind: p.kind,
                name: p.name.clone(),
                address_lines: p.address.as_ref().map(|a| a.lines()).unwrap_or_default(),
                town: p.town.to_owned(),
                postcode: p.postcode.clone(),
            })
            .collect(),
        things: w
            .things
            .iter()
            .enumerate()
            .map(|(i, t)| thing_truth(i, t))
            .collect(),
        person_records: rec
            .person_records
            .iter()
            .map(|(k, v)| (*k, person_id(*v)))
            .collect(),
        location_records: rec
            .place_records
            .iter()
            .map(|(k, v)| (*k, place_id(*v)))
            .collect(),
        object_records: rec
            .thing_records
            .iter()
            .map(|(k, v)| (*k, thing_id(*v)))
            .collect(),
        records: rec.records.clone(),
    }
}

fn thing_truth(i: usize, t: &world::Thing) -> truth::ThingTruth {
    use vigil_model::codes::ObjectKind;
    let mut out = truth::ThingTruth {
        id: truth::thing_id(i),
        kind: ObjectKind::Other,
        registration: None,
        description: None,
        licence_number: None,
        phone_number: None,
        business_name: None,
        place: None,
    };
    match t {
        world::Thing::Vehicle {
            registration,
            make,
            model,
            colour,
            licence,
        } => {
            out.kind = ObjectKind::Vehicle;
            out.registration = Some(registration.clone());
            out.description = Some(format!("{colour} {make} {model}"));
            out.licence_number = licence.clone();
        }
        world::Thing::Phone { number } => {
            out.kind = ObjectKind::Phone;
            out.phone_number = Some(number.clone());
        }
        world::Thing::Business { name, place, .. } => {
            out.kind = ObjectKind::Business;
            out.business_name = Some(name.clone());
            out.place = Some(truth::place_id(*place));
        }
    }
    out
}

fn dedup_ids(items: &[usize], f: fn(usize) -> String) -> Vec<String> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .filter(|i| seen.insert(**i))
        .map(|i| f(*i))
        .collect()
}
