//! The recording errors happen at the rates configured: each is measured
//! from the records themselves, against the truth, on a sample large enough
//! that the ±20% tolerance is at least three standard errors.

use std::collections::BTreeMap;
use vigil_model::codes::NameKind;
use vigil_model::{EventPayload, Precision};
use vigil_synth::pools::{nickname_of, variants_of};
use vigil_synth::truth::PersonTruth;
use vigil_synth::{generate, SynthConfig};

fn index(id: &str) -> usize {
    id[1..].parse::<usize>().unwrap() - 1
}

/// Counts `hits` out of `chances` and checks the rate is within 20% of
/// `expected`, with enough chances for that to mean something.
struct Measure {
    name: &'static str,
    chances: u64,
    hits: u64,
}

impl Measure {
    fn new(name: &'static str) -> Self {
        Measure {
            name,
            chances: 0,
            hits: 0,
        }
    }
    fn add(&mut self, hit: bool) {
        self.chances += 1;
        self.hits += u64::from(hit);
    }
    fn check(&self, expected: f64) {
        let n = self.chances as f64;
        // Three standard errors must fit inside the tolerance.
        let needed = 9.0 * (1.0 - expected) / (0.2 * 0.2 * expected);
        assert!(
            n >= needed,
            "{}: {} chances, {needed:.0} needed for a meaningful test",
            self.name,
            self.chances
        );
        let rate = self.hits as f64 / n;
        eprintln!(
            "{}: {rate:.4} measured over {} chances, {expected} configured",
            self.name, self.chances
        );
        assert!(
            (rate - expected).abs() <= 0.2 * expected,
            "{}: measured {rate:.4}, configured {expected}",
            self.name
        );
    }
}

fn legit_given(p: &PersonTruth) -> Vec<String> {
    let mut v = vec![p.given.clone()];
    v.extend(variants_of(&p.given).iter().map(|s| s.to_string()));
    v.extend(nickname_of(&p.given).map(str::to_owned));
    v
}

fn legit_family(p: &PersonTruth) -> Vec<String> {
    let mut v = vec![p.family.clone()];
    v.extend(variants_of(&p.family).iter().map(|s| s.to_string()));
    v
}

#[test]
fn noise_rates_are_within_twenty_percent_of_configured() {
    // A large borough with much contact with agencies, so there are
    // thousands of records to measure; noise at its default rates, except
    // swapped day and month, raised so that enough dates can be swapped.
    let mut cfg = SynthConfig::new(30_000, 5, 11);
    cfg.rates.referrals_per_child_year = 0.15;
    cfg.noise.swapped_day_month = 0.1;
    let b = generate(&cfg).unwrap();
    let t = &b.truth;
    let n = &cfg.noise;

    let mut misspelling = Measure::new("misspelling");
    let mut transliteration = Measure::new("transliteration");
    let mut nickname = Measure::new("nickname");
    let mut swapped = Measure::new("swapped_day_month");
    let mut missing_dob = Measure::new("missing_dob");
    let mut partial = Measure::new("partial_registration");
    let mut address = Measure::new("address_variant");

    let mut licensing_objects = BTreeMap::new();
    let mut registrations: BTreeMap<uuid::Uuid, (String, String)> = BTreeMap::new();
    for e in &b.events {
        match &e.body {
            EventPayload::PersonRecorded(rec) => {
                let p = &t.people[index(&t.person_records[&rec.person_id])];
                missing_dob.add(rec.date_of_birth.is_none());
                if let Some(d) = &rec.date_of_birth {
                    let day = p.date_of_birth;
                    use chrono::Datelike;
                    if d.precision == Precision::Day && day.day() <= 12 && day.day() != day.month()
                    {
                        let swapped_day =
                            chrono::NaiveDate::from_ymd_opt(day.year(), day.day(), day.month())
                                .unwrap();
                        swapped.add(d.value == swapped_day.format("%Y-%m-%d").to_string());
                    }
                }
                let Some(name) = rec.names.iter().find(|x| x.kind == NameKind::Birth) else {
                    continue;
                };
                let given = name.given.clone().unwrap_or_default();
                let family = name.family.clone().unwrap_or_default();
                let nick = nickname_of(&p.given);
                // Misspelling: a part that is none of the true name's legitimate forms.
                let given_base_len = if Some(given.as_str()) == nick {
                    given.chars().count()
                } else {
                    p.given.chars().count()
                };
                if given_base_len >= 3 {
                    misspelling.add(!legit_given(p).contains(&given));
                }
                if p.family.chars().count() >= 3 {
                    misspelling.add(!legit_family(p).contains(&family));
                }
                // Nickname: among given names that were not misspelt.
                if let Some(nk) = nick {
                    if legit_given(p).contains(&given) {
                        nickname.add(given == nk);
                    }
                }
                // Transliteration: among parts written as one of the spellings of the true name.
                let gv = variants_of(&p.given);
                if !gv.is_empty()
                    && Some(given.as_str()) != nick
                    && (given == p.given || gv.contains(&given.as_str()))
                {
                    transliteration.add(given != p.given);
                }
                let fv = variants_of(&p.family);
                if !fv.is_empty() && (family == p.family || fv.contains(&family.as_str())) {
                    transliteration.add(family != p.family);
                }
            }
            EventPayload::ObjectRecorded(o) => {
                let thing = &t.things[index(&t.object_records[&o.object_id])];
                if let (Some(reg), Some(true_reg)) = (&o.details.registration, &thing.registration)
                {
                    registrations.insert(o.object_id, (reg.clone(), true_reg.clone()));
                    if e.agency.as_str() == "northshire-licensing" {
                        licensing_objects.insert(o.object_id, ());
                        assert_eq!(reg, true_reg, "licensing records registrations in full");
                    } else if reg != true_reg {
                        assert!(
                            reg.contains('?') || true_reg.starts_with(reg.as_str()),
                            "{reg} for {true_reg}"
                        );
                    }
                }
            }
            // A registration is noted each time a vehicle is reported: a
            // full one is found again in the agency's records, a partial
            // one becomes a record of its own. So the rate is per report.
            EventPayload::IntelligenceRecorded(i) => {
                for s in &i.subjects {
                    if let Some((reg, true_reg)) = registrations.get(&s.id) {
                        partial.add(reg != true_reg);
                    }
                }
            }
            EventPayload::LocationRecorded(l) => {
                let place = &t.places[index(&t.location_records[&l.location_id])];
                if matches!(
                    l.kind,
                    vigil_model::codes::LocationKind::Home
                        | vigil_model::codes::LocationKind::FosterHome
                ) {
                    let exact = l.details.address_lines == place.address_lines
                        && l.details.town.as_deref() == Some(place.town.as_str())
                        && l.details.postcode.as_deref() == Some(place.postcode.as_str());
                    address.add(!exact);
                }
            }
            _ => {}
        }
    }
    assert!(!licensing_objects.is_empty());
    misspelling.check(n.misspelling);
    transliteration.check(n.transliteration);
    nickname.check(n.nickname);
    swapped.check(n.swapped_day_month);
    missing_dob.check(n.missing_dob);
    partial.check(n.partial_registration);
    address.check(n.address_variant);
    // Same-agency duplicates are counted by the generator (they cannot be
    // seen in a record on its own); check its tally against the rate.
    let d = t.noise.same_agency_duplicate;
    let mut dup = Measure::new("same_agency_duplicate");
    dup.chances = d.chances;
    dup.hits = d.applied;
    dup.check(n.same_agency_duplicate);
}
