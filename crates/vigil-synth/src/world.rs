//! The borough as it really is: its people, places and things, its
//! networks, and what happens to its children over the simulated years.
//!
//! Nothing here is a record. [`build`] makes the world and a list of
//! [`Happening`]s in time order; [`crate::record`] then has each agency see
//! (or miss) each happening and write its own records of it.

use crate::config::SynthConfig;
use crate::noise::Address;
use crate::pools;
use crate::population::{self, Heritage, PersonKind, TruePerson};
use crate::random::{Rng, Stream};
use crate::select::{self, BusinessKind, Candidate};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use vigil_model::codes::{LocationKind, PlacementType};

/// A moment, in seconds since 1970 (UTC).
pub type Ts = i64;

pub fn ts_at(d: NaiveDate, secs_into_day: i64) -> Ts {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
        + secs_into_day
}

pub fn date_of(t: Ts) -> NaiveDate {
    dt(t).date_naive()
}

pub fn dt(t: Ts) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

/// A real place.
#[derive(Clone, Debug)]
pub struct Place {
    pub kind: LocationKind,
    pub name: Option<String>,
    pub address: Option<Address>,
    pub town: &'static str,
    pub postcode: String,
}

/// A real thing.
#[derive(Clone, Debug)]
pub enum Thing {
    Vehicle {
        registration: String,
        make: &'static str,
        model: &'static str,
        colour: &'static str,
        /// Private hire licence plate number, for licensed taxis.
        licence: Option<String>,
    },
    Phone {
        number: String,
    },
    Business {
        name: String,
        kind: BusinessKind,
        place: usize,
    },
}

/// A network as it really is.
#[derive(Clone, Debug)]
pub struct Network {
    pub formed: NaiveDate,
    pub ends: NaiveDate,
    pub members: Vec<usize>,
    /// The first `relatives` members are one family.
    pub relatives: usize,
    pub businesses: Vec<usize>,
    pub vehicles: Vec<usize>,
    /// The vehicle each member drives, if any (member index in `members`).
    pub drives: Vec<Option<usize>>,
    pub phones: Vec<Option<usize>>,
    pub hotspots: Vec<usize>,
    pub victims: Vec<select::Victimisation>,
}

/// Where a child in care is placed.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    pub kind: PlacementType,
    pub place: usize,
}

/// What happens (whether or not anyone records it).
#[derive(Clone, Debug)]
pub enum Happening {
    RegisterAgencies,
    DriverLicensed {
        driver: usize,
        vehicle: usize,
        firm: usize,
    },
    /// A concern unrelated to exploitation that leads someone to refer.
    Referral {
        child: usize,
        from: Source,
        concern: usize,
    },
    Missing {
        child: usize,
        end: Ts,
        found: Option<usize>,
    },
    Absence {
        child: usize,
    },
    CarSeen {
        child: usize,
        member: usize,
        vehicle: usize,
        place: usize,
    },
    Health {
        child: usize,
        kind: HealthKind,
    },
    Sign {
        child: usize,
        network: usize,
        member: usize,
        kind: SignKind,
    },
    Disclosure {
        child: usize,
        network: usize,
    },
    Criminalised {
        child: usize,
        place: usize,
    },
    NetworkIntel {
        network: usize,
    },
    EnterCare {
        child: usize,
        placement: Placement,
    },
    PlacementMove {
        child: usize,
        placement: Placement,
    },
    WorkerChange {
        child: usize,
    },
    LeaveCare {
        child: usize,
    },
}

/// Who makes a background referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Police,
    School,
    Health,
    Youth,
    SocialCare,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthKind {
    StiTest,
    EmergencyContraception,
    PregnancyTest,
    Intoxicated,
    SelfHarm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignKind {
    NewPhone,
    Gifts,
    Money,
    OlderBoyfriend,
    PickedUpFromSchool,
}

/// The simulated borough.
pub struct World {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub people: Vec<TruePerson>,
    /// Children are people `0..children`.
    pub children: usize,
    pub households: Vec<Vec<usize>>,
    /// Parents of each household.
    pub parents: Vec<Vec<usize>>,
    pub places: Vec<Place>,
    pub things: Vec<Thing>,
    pub networks: Vec<Network>,
    /// For each child: the network exploiting them and when (began, ended).
    pub exploited: Vec<Option<(usize, Ts, Ts)>>,
    /// For each child in care at some point: (entered, left).
    pub care: BTreeMap<usize, (Ts, Ts)>,
    pub schools: usize,
    pub school_names: Vec<String>,
    pub taxi_firms: Vec<usize>,
    pub happenings: Vec<(Ts, Happening)>,
}

impl World {
    pub fn window_start(&self) -> Ts {
        ts_at(self.start, 0)
    }
    pub fn window_end(&self) -> Ts {
        ts_at(self.end, DAY - 1)
    }
    /// The network exploiting `child` at `t`, if any.
    pub fn exploited_at(&self, child: usize, t: Ts) -> Option<usize> {
        match self.exploited.get(child).copied().flatten() {
            Some((n, b, e)) if b <= t && t <= e => Some(n),
            _ => None,
        }
    }
    pub fn in_care_at(&self, child: usize, t: Ts) -> bool {
        self.care
            .get(&child)
            .is_some_and(|(a, b)| *a <= t && t < *b)
    }
}

struct Builder<'a> {
    cfg: &'a SynthConfig,
    rng: Rng,
    w: World,
    addresses: BTreeSet<(String, u32, Option<u32>, &'static str)>,
    plates: BTreeSet<String>,
    phones_used: u32,
    /// Missing episodes before overlaps are removed: (child, start, end, found at).
    missing: Vec<(usize, Ts, Ts, Option<usize>)>,
    /// Children who come into care, and when.
    care_entries: Vec<(usize, Ts)>,
}

/// Builds the world and everything that happens in it, in time order.
pub fn build(cfg: &SynthConfig) -> World {
    let start = cfg.start_date();
    let end = cfg.end_date;
    let mut b = Builder {
        cfg,
        rng: Rng::new(cfg.seed, Stream::World),
        w: World {
            start,
            end,
            people: Vec::new(),
            children: cfg.children as usize,
            households: Vec::new(),
            parents: Vec::new(),
            places: Vec::new(),
            things: Vec::new(),
            networks: Vec::new(),
            exploited: vec![None; cfg.children as usize],
            care: BTreeMap::new(),
            schools: cfg.school_count() as usize,
            school_names: Vec::new(),
            taxi_firms: Vec::new(),
            happenings: Vec::new(),
        },
        addresses: BTreeSet::new(),
        plates: BTreeSet::new(),
        phones_used: 0,
        missing: Vec::new(),
        care_entries: Vec::new(),
    };
    b.schools();
    b.children_and_households();
    let hotspots = b.hotspots();
    let homes = b.care_homes();
    b.networks(&hotspots);
    b.taxi_drivers();
    b.background();
    b.victim_timelines();
    b.care_journeys(&homes);
    b.missing_episodes_without_overlap();
    let ws = b.w.window_start();
    b.w.happenings
        .push((ws + 8 * HOUR, Happening::RegisterAgencies));
    let we = b.w.window_end();
    b.w.happenings.retain(|(t, _)| *t >= ws && *t <= we);
    // Stable: equal times keep the order they were made in.
    b.w.happenings.sort_by_key(|(t, _)| *t);
    b.w
}

impl Builder<'_> {
    fn schools(&mut self) {
        let mut used = BTreeSet::new();
        for i in 0..self.w.schools {
            let name = loop {
                let n = format!(
                    "{} {}",
                    self.rng.pick(pools::SCHOOL_STEMS),
                    self.rng.pick(pools::SCHOOL_KINDS)
                );
                if used.insert(n.clone()) {
                    break n;
                }
                if used.len() >= pools::SCHOOL_STEMS.len() * pools::SCHOOL_KINDS.len() {
                    break format!("Northshire School {}", i + 1);
                }
            };
            self.w.school_names.push(name);
        }
    }

    fn postcode(&mut self, district: &str) -> String {
        let l = pools::PLATE_LETTERS;
        format!(
            "{district} {}{}{}",
            self.rng.int(1, 9),
            l[self.rng.index(l.len())] as char,
            l[self.rng.index(l.len())] as char
        )
    }

    fn new_address(&mut self, allow_flat: bool) -> (Address, &'static str) {
        loop {
            let (town, district) = *self.rng.pick(pools::TOWNS);
            let stem = *self.rng.pick(pools::STREET_STEMS);
            let street_type = self.rng.index(pools::STREET_TYPES.len());
            let number = self.rng.int(1, 240) as u32;
            let flat = (allow_flat && self.rng.chance(0.2)).then(|| self.rng.int(1, 12) as u32);
            let key = (format!("{stem} {street_type}"), number, flat, town);
            if self.addresses.insert(key) {
                let postcode = self.postcode(district);
                return (
                    Address {
                        flat,
                        number,
                        street_stem: stem,
                        street_type,
                        town,
                        postcode,
                    },
                    town,
                );
            }
        }
    }

    fn add_place(&mut self, kind: LocationKind, name: Option<String>, with_address: bool) -> usize {
        let (address, town, postcode) = if with_address {
            let (a, town) = self.new_address(kind == LocationKind::Home);
            let pc = a.postcode.clone();
            (Some(a), town, pc)
        } else {
            let (town, district) = *self.rng.pick(pools::TOWNS);
            let pc = self.postcode(district);
            (None, town, pc)
        };
        self.w.places.push(Place {
            kind,
            name,
            address,
            town,
            postcode,
        });
        self.w.places.len() - 1
    }

    fn children_and_households(&mut self) {
        let start = self.w.start;
        let end = self.w.end;
        // Every child is between 9 and 17 at some point of the simulated years.
        let oldest = start - Duration::days(17 * 365 + 300);
        let youngest = end - Duration::days(9 * 365);
        let n = self.cfg.children as usize;
        let d = &self.cfg.demographics;
        let mut made = 0usize;
        while made < n {
            let size = [1usize, 1, 1, 2, 2, 2, 3, 4][self.rng.index(8)].min(n - made);
            let heritage: Heritage = population::draw_heritage(&mut self.rng, d);
            let home = self.add_place(LocationKind::Home, None, true);
            let school = self.rng.index(self.w.schools);
            let hh = self.w.households.len();
            let first = population::dob_between(&mut self.rng, oldest, youngest);
            let mut members = Vec::new();
            for k in 0..size {
                let dob = if k == 0 {
                    first
                } else {
                    let d = first + Duration::days(self.rng.int(-5 * 365, 5 * 365));
                    d.clamp(oldest, youngest)
                };
                let mut p = population::new_person(
                    &mut self.rng,
                    d,
                    &heritage,
                    PersonKind::Child,
                    dob,
                    home,
                );
                p.household = Some(hh);
                // Most siblings go to the same school.
                p.school = Some(if self.rng.chance(0.85) {
                    school
                } else {
                    self.rng.index(self.w.schools)
                });
                self.w.people.push(p);
                members.push(self.w.people.len() - 1);
            }
            made += size;
            self.w.households.push(members);
            let oldest_child = first;
            let parents = if self.rng.chance(0.45) { 1 } else { 2 };
            let mut ps = Vec::new();
            for _ in 0..parents {
                let dob = oldest_child - Duration::days(self.rng.int(20 * 365, 42 * 365));
                let mut p = population::new_person(
                    &mut self.rng,
                    d,
                    &heritage,
                    PersonKind::Parent,
                    dob,
                    home,
                );
                p.household = Some(hh);
                self.w.people.push(p);
                ps.push(self.w.people.len() - 1);
            }
            self.w.parents.push(ps);
        }
    }

    /// Parks, allotments, hotels, takeaways: places where children are
    /// seen with adults.
    fn hotspots(&mut self) -> Vec<usize> {
        let scale = (self.cfg.children as usize / 2_000).max(1);
        let mut out = Vec::new();
        for name in pools::PARKS.iter().take(3 + scale.min(5)) {
            out.push(self.add_place(LocationKind::Park, Some((*name).to_owned()), false));
        }
        for name in pools::ALLOTMENTS.iter().take(1 + scale.min(2)) {
            out.push(self.add_place(LocationKind::Allotment, Some((*name).to_owned()), false));
        }
        for name in pools::HOTELS.iter().take(2 + scale.min(4)) {
            out.push(self.add_place(LocationKind::Hotel, Some((*name).to_owned()), true));
        }
        out
    }

    /// Children's homes, for children in care (foster homes are made per placement).
    fn care_homes(&mut self) -> Vec<usize> {
        let n = 2 + (self.cfg.children as usize / 5_000).min(8);
        (0..n)
            .map(|i| {
                let name = format!(
                    "{} House",
                    pools::STREET_STEMS[(i * 7) % pools::STREET_STEMS.len()]
                );
                self.add_place(LocationKind::ChildrensHome, Some(name), true)
            })
            .collect()
    }

    fn registration(&mut self) -> String {
        let l = pools::PLATE_LETTERS;
        loop {
            let year = [self.rng.int(2, 24), self.rng.int(51, 74)][self.rng.index(2)];
            let mut s = String::new();
            for _ in 0..2 {
                s.push(l[self.rng.index(l.len())] as char);
            }
            s.push_str(&format!("{year:02} "));
            for _ in 0..3 {
                s.push(l[self.rng.index(l.len())] as char);
            }
            if self.plates.insert(s.clone()) {
                return s;
            }
        }
    }

    fn vehicle(&mut self, licensed: bool) -> usize {
        let registration = self.registration();
        let (make, model) = *self.rng.pick(pools::VEHICLE_MODELS);
        let colour = *self.rng.pick(pools::COLOURS);
        let licence = licensed.then(|| format!("PH{:05}", self.rng.int(1, 99_999)));
        self.w.things.push(Thing::Vehicle {
            registration,
            make,
            model,
            colour,
            licence,
        });
        self.w.things.len() - 1
    }

    fn phone(&mut self) -> Option<usize> {
        if self.phones_used >= 1_000 {
            return None;
        }
        let number = format!("07700 900{:03}", self.phones_used);
        self.phones_used += 1;
        self.w.things.push(Thing::Phone { number });
        Some(self.w.things.len() - 1)
    }

    fn business(&mut self, kind: BusinessKind) -> usize {
        let (name, lk) = match kind {
            BusinessKind::Takeaway => (
                format!(
                    "{} {} Takeaway",
                    self.rng.pick(pools::BUSINESS_ADJECTIVES),
                    self.rng.pick(pools::TAKEAWAY_NOUNS)
                )
                .replace("Kebab House Takeaway", "Kebab House")
                .replace("Burger Bar Takeaway", "Burger Bar"),
                LocationKind::Takeaway,
            ),
            BusinessKind::CarWash => (
                (*self.rng.pick(pools::CAR_WASH_NAMES)).to_owned(),
                LocationKind::CarWash,
            ),
            BusinessKind::TaxiFirm => (
                (*self.rng.pick(pools::TAXI_FIRM_NAMES)).to_owned(),
                LocationKind::TaxiRank,
            ),
        };
        let place = self.add_place(lk, Some(name.clone()), true);
        self.w.things.push(Thing::Business { name, kind, place });
        self.w.things.len() - 1
    }

    fn new_adult(
        &mut self,
        heritage: &Heritage,
        kind: PersonKind,
        on: NaiveDate,
        home: usize,
    ) -> usize {
        let dob = on - Duration::days(self.rng.int(19 * 365, 55 * 365));
        let p = population::new_person(
            &mut self.rng,
            &self.cfg.demographics,
            heritage,
            kind,
            dob,
            home,
        );
        self.w.people.push(p);
        self.w.people.len() - 1
    }

    fn networks(&mut self, hotspots: &[usize]) {
        let cfg = self.cfg;
        let shapes = select::plan_networks(
            &mut self.rng,
            &cfg.networks,
            cfg.network_count(),
            cfg.victim_count(),
            self.w.start,
            self.w.end,
        );
        let candidates: Vec<Candidate> = (0..self.w.children)
            .map(|i| Candidate {
                dob: self.w.people[i].dob,
                school: self.w.people[i].school.unwrap_or(0),
            })
            .collect();
        let mut by_school = vec![Vec::new(); self.w.schools];
        for (i, c) in candidates.iter().enumerate() {
            by_school[c.school].push(i);
        }
        let mut taken = vec![false; candidates.len()];
        let taxi_firm = if shapes
            .iter()
            .any(|s| s.businesses.contains(&BusinessKind::TaxiFirm))
        {
            Some(self.business(BusinessKind::TaxiFirm))
        } else {
            None
        };
        if let Some(f) = taxi_firm {
            self.w.taxi_firms.push(f);
        }
        for shape in shapes {
            // The shape is decided; only now are its adults made, with the
            // same demographic draws as anyone else.
            let mut members = Vec::new();
            let mut homes = Vec::new();
            let family = population::draw_heritage(&mut self.rng, &cfg.demographics);
            let family_home = self.add_place(LocationKind::Home, None, true);
            homes.push(family_home);
            for k in 0..shape.adults as usize {
                let (heritage, home) = if k < shape.relatives as usize {
                    (family.clone(), family_home)
                } else {
                    let h = population::draw_heritage(&mut self.rng, &cfg.demographics);
                    let home = if self.rng.chance(0.3) {
                        *self.rng.pick(&homes)
                    } else {
                        let home = self.add_place(LocationKind::Home, None, true);
                        homes.push(home);
                        home
                    };
                    (h, home)
                };
                let m = self.new_adult(&heritage, PersonKind::NetworkMember, shape.formed, home);
                if self.rng.chance(0.7) {
                    self.w.people[m].street_name = Some(*self.rng.pick(pools::STREET_NAMES));
                }
                members.push(m);
            }
            let mut businesses = Vec::new();
            for kind in &shape.businesses {
                businesses.push(match (kind, taxi_firm) {
                    (BusinessKind::TaxiFirm, Some(f)) => f,
                    _ => self.business(*kind),
                });
            }
            let mut vehicles = Vec::new();
            let mut drives = Vec::new();
            let mut phones = Vec::new();
            for k in 0..members.len() {
                let taxi = k < shape.taxi_drivers as usize;
                if taxi || self.rng.chance(0.5) {
                    let v = self.vehicle(taxi);
                    vehicles.push(v);
                    drives.push(Some(v));
                } else {
                    drives.push(None);
                }
                phones.push(self.phone());
            }
            if vehicles.is_empty() {
                let v = self.vehicle(false);
                vehicles.push(v);
                drives[0] = Some(v);
            }
            let mut spots: Vec<usize> = Vec::new();
            for _ in 0..self.rng.int(2, 3) {
                let s = *self.rng.pick(hotspots);
                if !spots.contains(&s) {
                    spots.push(s);
                }
            }
            for b in &businesses {
                if let Thing::Business { place, .. } = &self.w.things[*b] {
                    spots.push(*place);
                }
            }
            spots.push(family_home);
            let victims = select::choose_victims(
                &mut self.rng,
                &cfg.networks,
                &shape,
                &candidates,
                &by_school,
                &mut taken,
                self.w.end,
            );
            let idx = self.w.networks.len();
            for v in &victims {
                self.w.exploited[v.child] = Some((idx, ts_at(v.began, 0), ts_at(v.ended, DAY - 1)));
            }
            // Taxi drivers in the network are licensed like any other driver.
            for (k, m) in members.iter().enumerate().take(shape.taxi_drivers as usize) {
                if let (Some(v), Some(f)) = (drives[k], taxi_firm) {
                    let when = ts_at(shape.formed, 10 * HOUR) - self.rng.int(0, 365) * DAY;
                    let when = when.max(self.w.window_start() + DAY);
                    self.w.happenings.push((
                        when,
                        Happening::DriverLicensed {
                            driver: *m,
                            vehicle: v,
                            firm: f,
                        },
                    ));
                }
            }
            // The police intelligence unit looks at the network now and then.
            let mut month = shape.formed;
            while month <= shape.ends.min(self.w.end) {
                if self
                    .rng
                    .chance(cfg.observation.network_intelligence_per_month)
                {
                    let t = ts_at(
                        month,
                        self.rng.int(0, 29) * DAY + self.rng.int(8, 18) * HOUR,
                    );
                    self.w
                        .happenings
                        .push((t, Happening::NetworkIntel { network: idx }));
                }
                month += Duration::days(30);
            }
            self.w.networks.push(Network {
                formed: shape.formed,
                ends: shape.ends,
                members,
                relatives: shape.relatives as usize,
                businesses,
                vehicles,
                drives,
                phones,
                hotspots: spots,
                victims,
            });
        }
    }

    fn taxi_drivers(&mut self) {
        let n = (f64::from(self.cfg.children) * self.cfg.rates.taxi_drivers_per_1000_children
            / 1000.0)
            .round() as usize;
        if n == 0 {
            return;
        }
        if self.w.taxi_firms.is_empty() {
            let f = self.business(BusinessKind::TaxiFirm);
            self.w.taxi_firms.push(f);
        }
        if self.rng.chance(0.7) {
            let f = self.business(BusinessKind::TaxiFirm);
            self.w.taxi_firms.push(f);
        }
        let ws = self.w.window_start();
        for _ in 0..n {
            let heritage = population::draw_heritage(&mut self.rng, &self.cfg.demographics);
            let home = self.add_place(LocationKind::Home, None, true);
            let d = self.new_adult(&heritage, PersonKind::TaxiDriver, self.w.start, home);
            let v = self.vehicle(true);
            let firm = self.w.taxi_firms[self.rng.index(self.w.taxi_firms.len())];
            let t = ws + DAY + self.rng.int(0, 364) * DAY + 10 * HOUR;
            self.w.happenings.push((
                t,
                Happening::DriverLicensed {
                    driver: d,
                    vehicle: v,
                    firm,
                },
            ));
        }
    }

    /// The span in which a child is of school age (9 to 17) within the simulated years.
    fn school_age_span(&self, child: usize) -> Option<(Ts, Ts)> {
        let dob = self.w.people[child].dob;
        let from = ts_at(dob + Duration::days(9 * 365 + 2), 0).max(self.w.window_start());
        let to = ts_at(select::eighteenth(dob), 0).min(self.w.window_end());
        (from < to).then_some((from, to))
    }

    /// Times of a process happening `per_week` times a week between `from` and `to`.
    fn process(&mut self, from: Ts, to: Ts, per_week: f64) -> Vec<Ts> {
        let mut out = Vec::new();
        let mut t = from;
        loop {
            t = t.saturating_add(self.rng.wait_secs(per_week));
            if t > to {
                break;
            }
            out.push(t);
        }
        out
    }

    fn daytime(&mut self, t: Ts) -> Ts {
        ts_at(date_of(t), self.rng.int(9 * 3600, 16 * 3600))
    }

    fn evening(&mut self, t: Ts) -> Ts {
        ts_at(date_of(t), self.rng.int(17 * 3600, 23 * 3600 + 1800))
    }

    fn missing_duration(&mut self) -> i64 {
        // Half are back within about half a day; some are gone for days.
        let hours = if self.rng.chance(0.55) {
            self.rng.int(2, 12)
        } else {
            self.rng.int(12, 80)
        };
        hours * HOUR + self.rng.int(0, 59) * 60
    }

    fn background(&mut self) {
        let r = self.cfg.rates.clone();
        for child in 0..self.w.children {
            let Some((from, to)) = self.school_age_span(child) else {
                continue;
            };
            for t in self.process(from, to, r.referrals_per_child_year / 52.18) {
                let from_w = [0.3, 0.25, 0.15, 0.05, 0.25];
                let source = [
                    Source::Police,
                    Source::School,
                    Source::Health,
                    Source::Youth,
                    Source::SocialCare,
                ][self.rng.weighted(&from_w)];
                let concern = self.rng.index(crate::text::BACKGROUND_CONCERNS.len());
                let t = self.daytime(t);
                self.w.happenings.push((
                    t,
                    Happening::Referral {
                        child,
                        from: source,
                        concern,
                    },
                ));
            }
            if self.rng.chance(r.background_missing_children) {
                let span = self.rng.int(180, 720) * DAY;
                let a = from + self.rng.int(0, (to - from).max(1));
                for t in self.process(a, (a + span).min(to), r.background_missing_per_year / 52.18)
                {
                    let start = self.evening(t);
                    let end = start + self.missing_duration();
                    self.missing.push((child, start, end, None));
                }
            }
            if self.rng.chance(r.background_absent_children) {
                let a = from + self.rng.int(0, (to - from).max(1));
                for t in self.process(a, (a + 365 * DAY).min(to), 0.25) {
                    let t = self.daytime(t);
                    self.w.happenings.push((t, Happening::Absence { child }));
                }
            }
            if self.rng.chance(r.looked_after_children) {
                let t = from + self.rng.int(0, (to - from).max(1));
                self.care_entries.push((child, t));
            }
        }
    }

    fn victim_timelines(&mut self) {
        let r = self.cfg.rates.clone();
        let victim_list: Vec<(usize, usize)> = self
            .w
            .networks
            .iter()
            .enumerate()
            .flat_map(|(n, net)| net.victims.iter().map(move |v| (n, v.child)))
            .collect();
        let we = self.w.window_end();
        for (n, child) in victim_list {
            let Some((_, began, ended)) = self.w.exploited[child] else {
                continue;
            };
            let e = ended.min(we);
            let lag = self.rng.int(7, 45) * DAY;
            let b = began + lag;
            let net = self.w.networks[n].clone();
            for t in self.process(b, e, r.victim_missing_per_week) {
                let start = self.evening(t);
                let end = start + self.missing_duration();
                let found = self.rng.chance(0.5).then(|| *self.rng.pick(&net.hotspots));
                self.missing.push((child, start, end, found));
            }
            for t in self.process(b, e, r.victim_absence_per_week) {
                let t = self.daytime(t);
                self.w.happenings.push((t, Happening::Absence { child }));
            }
            for t in self.process(b, e, r.victim_car_per_week) {
                let mk = self.rng.index(net.members.len());
                let vehicle = net.drives[mk].unwrap_or(net.vehicles[0]);
                let place = *self.rng.pick(&net.hotspots);
                let t = ts_at(date_of(t), self.rng.int(19 * 3600, 24 * 3600 - 60));
                self.w.happenings.push((
                    t,
                    Happening::CarSeen {
                        child,
                        member: net.members[mk],
                        vehicle,
                        place,
                    },
                ));
            }
            for t in self.process(b, e, r.victim_health_per_week) {
                let kinds = [
                    HealthKind::StiTest,
                    HealthKind::EmergencyContraception,
                    HealthKind::PregnancyTest,
                    HealthKind::Intoxicated,
                    HealthKind::SelfHarm,
                ];
                let kind = *self.rng.pick(&kinds);
                let t = if matches!(kind, HealthKind::Intoxicated | HealthKind::SelfHarm) {
                    self.evening(t)
                } else {
                    self.daytime(t)
                };
                self.w
                    .happenings
                    .push((t, Happening::Health { child, kind }));
            }
            for t in self.process(b, e, r.victim_signs_per_week) {
                let kinds = [
                    SignKind::NewPhone,
                    SignKind::Gifts,
                    SignKind::Money,
                    SignKind::OlderBoyfriend,
                    SignKind::PickedUpFromSchool,
                ];
                let kind = *self.rng.pick(&kinds);
                let member = *self.rng.pick(&net.members);
                let t = self.daytime(t);
                self.w.happenings.push((
                    t,
                    Happening::Sign {
                        child,
                        network: n,
                        member,
                        kind,
                    },
                ));
            }
            if self.rng.chance(r.victim_disclosure) {
                let t = b + 60 * DAY + self.rng.int(0, (e + 120 * DAY - b - 60 * DAY).max(DAY));
                let t = self.daytime(t);
                self.w
                    .happenings
                    .push((t, Happening::Disclosure { child, network: n }));
            }
            if self
                .rng
                .chance(self.cfg.failures.victim_recorded_as_offender)
            {
                let t = b + self.rng.int(0, (e - b).max(DAY));
                let t = self.evening(t);
                let place = *self.rng.pick(&net.hotspots);
                self.w
                    .happenings
                    .push((t, Happening::Criminalised { child, place }));
            }
            // Some exploited children come into care, and are moved often.
            if self.rng.chance(0.15) {
                let t = b + self.rng.int(30, 180) * DAY;
                if t < e {
                    self.care_entries.push((child, t));
                }
            }
        }
    }

    fn placement(&mut self, homes: &[usize], victim: bool) -> Placement {
        let foster = if victim { 0.45 } else { 0.7 };
        if self.rng.chance(foster) {
            let place = self.add_place(LocationKind::FosterHome, None, true);
            let kind = *self.rng.pick(&[
                PlacementType::U4,
                PlacementType::U6,
                PlacementType::U6,
                PlacementType::U3,
            ]);
            Placement { kind, place }
        } else {
            Placement {
                kind: PlacementType::K2,
                place: *self.rng.pick(homes),
            }
        }
    }

    fn care_journeys(&mut self, homes: &[usize]) {
        let mut entries = std::mem::take(&mut self.care_entries);
        entries.sort();
        entries.dedup_by_key(|(c, _)| *c);
        for (child, t0) in entries {
            let victim = self.w.exploited[child].is_some();
            let eighteen = ts_at(select::eighteenth(self.w.people[child].dob), 0);
            let left = (t0 + self.rng.int(120, 1_500) * DAY).min(eighteen);
            if left <= t0 + DAY {
                continue;
            }
            self.w.care.insert(child, (t0, left));
            let t0 = self.daytime(t0);
            let first = self.placement(homes, victim);
            self.w.happenings.push((
                t0,
                Happening::EnterCare {
                    child,
                    placement: first,
                },
            ));
            // Exploited children are moved far more often.
            let moves_per_week = if victim { 1.0 / 8.0 } else { 1.0 / 40.0 };
            for t in self.process(t0 + 7 * DAY, left - DAY, moves_per_week) {
                let p = self.placement(homes, victim);
                let t = self.daytime(t);
                self.w.happenings.push((
                    t,
                    Happening::PlacementMove {
                        child,
                        placement: p,
                    },
                ));
            }
            let changes_per_week = if victim { 1.0 / 20.0 } else { 1.0 / 40.0 };
            for t in self.process(t0 + 14 * DAY, left - DAY, changes_per_week) {
                let t = self.daytime(t);
                self.w
                    .happenings
                    .push((t, Happening::WorkerChange { child }));
            }
            let left = self.daytime(left);
            self.w
                .happenings
                .push((left, Happening::LeaveCare { child }));
        }
    }

    /// A child cannot be missing twice at once: episodes from the different
    /// processes are merged and any that would start before the last one
    /// ended are dropped.
    fn missing_episodes_without_overlap(&mut self) {
        let mut all = std::mem::take(&mut self.missing);
        all.sort_by_key(|(c, s, _, _)| (*c, *s));
        let mut last: Option<(usize, Ts)> = None;
        for (child, start, end, found) in all {
            if let Some((c, e)) = last {
                if c == child && start <= e + HOUR {
                    continue;
                }
            }
            last = Some((child, end));
            self.w
                .happenings
                .push((start, Happening::Missing { child, end, found }));
        }
    }
}
