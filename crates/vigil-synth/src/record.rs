//! The agencies: each sees a noisy part of what happens and writes its own
//! records of it, as Vigil events.
//!
//! Happenings are taken in time order; what an agency does in response
//! (deciding a referral, an assessment weeks later, a return home interview,
//! closing a case) is queued for later, so the events come out in the order
//! they happened. Each agency keeps its own person, place and object
//! records: the same child seen by five agencies is five person records,
//! each with that agency's own errors.

use crate::config::SynthConfig;
use crate::noise::{self, Address};
use crate::pools;
use crate::population::PersonKind;
use crate::random::{Rng, Stream};
use crate::select::BusinessKind;
use crate::text::{self, ConcernKind, NoteKind};
use crate::truth::{self, Counts, FailureRecords, NoiseCounts};
use crate::world::{
    date_of, dt, Happening, HealthKind, Placement, SignKind, Source, Thing, Ts, World,
};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;
use vigil_model::codes::{
    AgencyId, AgencyKind, CaseLevel, CinFactor, DfeEthnicity, Disability, EthnicitySource,
    HandlingCode, IntelligenceAssessment, InterviewOutcome, LinkKind, LocationKind, MeetingKind,
    MissingType, NameKind, Nationality, ObjectKind, ObservedEthnicity, OffenceCode, OffenceOutcome,
    OnsEthnicity, ReferralDecision, Role, SelfDefinedEthnicity, SourceEvaluation,
};
use vigil_model::dates::{Date, DateOfBirth, Timestamp};
use vigil_model::event::SourceRecord;
use vigil_model::payload::*;
use vigil_model::pole::{EthnicityRecord, LocationDetails, ObjectDetails, PersonName};
use vigil_model::{
    Actor, EntityKind, EventInput, EventPayload, Grading, Location, Object, OccurredAt, Person,
    Precision, SubjectRef,
};

/// The system the synthetic borough's history is imported from.
pub const SOURCE_SYSTEM: &str = "Borough case system (synthetic)";

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

pub const POLICE: usize = 0;
pub const SOCIAL: usize = 1;
pub const HEALTH: usize = 2;
pub const YOUTH: usize = 3;
pub const LICENSING: usize = 4;
pub const FIRST_SCHOOL: usize = 5;

/// One agency of the borough.
#[derive(Clone, Debug)]
pub struct AgencyInfo {
    pub id: Uuid,
    pub code: AgencyId,
    pub name: String,
    pub kind: AgencyKind,
    staff_prefix: &'static str,
    staff: i64,
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if (c == ' ' || c == '-') && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// What the recording produced.
pub struct Recorded {
    pub agencies: Vec<AgencyInfo>,
    pub events: Vec<EventInput>,
    pub records: BTreeMap<Uuid, Vec<String>>,
    pub person_records: BTreeMap<Uuid, usize>,
    pub place_records: BTreeMap<Uuid, usize>,
    pub thing_records: BTreeMap<Uuid, usize>,
    /// Agency of each person record.
    pub person_record_agency: BTreeMap<Uuid, usize>,
    pub counts: Counts,
    pub noise: NoiseCounts,
    pub failures: FailureRecords,
    pub within_agency_duplicates: u64,
}

/// Work an agency does later in response to something.
#[derive(Clone, Debug)]
enum Task {
    World(Happening),
    Return {
        child: usize,
        episode: Uuid,
        child_rec: Uuid,
        found: Option<usize>,
    },
    ReturnInterview {
        child: usize,
        episode: Uuid,
        child_rec: Uuid,
    },
    Decide {
        child: usize,
        referral: Uuid,
        child_rec: Uuid,
        factors: Vec<CinFactor>,
    },
    Assess {
        child: usize,
        referral: Uuid,
        child_rec: Uuid,
        factors: Vec<CinFactor>,
    },
    CloseCase {
        child: usize,
        case: Uuid,
    },
    StepUp {
        child: usize,
        case: Uuid,
    },
    Mace {
        child: usize,
        case: Uuid,
    },
    Outcome {
        offence: Uuid,
        suspects: Vec<Uuid>,
        code: OffenceCode,
        victim_as_suspect: bool,
    },
    Refer {
        ag: usize,
        child: usize,
        child_rec: Uuid,
        concern: String,
        blaming: bool,
        factors: Vec<CinFactor>,
    },
    Strategy {
        referral: Uuid,
        child_rec: Uuid,
    },
}

struct OpenCase {
    id: Uuid,
    child_rec: Uuid,
    level: CaseLevel,
}

struct InCare {
    case: Uuid,
    child_rec: Uuid,
    placement: Option<Uuid>,
    allocation: Option<Uuid>,
}

struct Recorder<'a> {
    cfg: &'a SynthConfig,
    w: &'a World,
    rng: Rng,
    agencies: Vec<AgencyInfo>,
    events: Vec<EventInput>,
    records: BTreeMap<Uuid, Vec<String>>,
    person_recs: BTreeMap<(usize, usize), Uuid>,
    person_truth: BTreeMap<Uuid, usize>,
    person_agency: BTreeMap<Uuid, usize>,
    place_recs: BTreeMap<(usize, usize), Uuid>,
    place_truth: BTreeMap<Uuid, usize>,
    thing_recs: BTreeMap<(usize, usize), Uuid>,
    thing_truth: BTreeMap<Uuid, usize>,
    links: BTreeSet<(Uuid, Uuid, LinkKind)>,
    /// The name each person record shows first (what staff write about them).
    rec_names: BTreeMap<Uuid, String>,
    /// The registration each vehicle record holds.
    registrations: BTreeMap<Uuid, String>,
    queue: BTreeMap<(Ts, u64), Task>,
    seq: u64,
    cases: BTreeMap<usize, OpenCase>,
    care: BTreeMap<usize, InCare>,
    police_missing: BTreeMap<usize, Vec<Ts>>,
    last_police_referral: BTreeMap<usize, Ts>,
    counts: Counts,
    noise: NoiseCounts,
    failures: FailureRecords,
    within_agency_duplicates: u64,
}

/// Has the agencies record the world.
pub fn record(cfg: &SynthConfig, w: &World) -> Recorded {
    let mut r = Recorder {
        cfg,
        w,
        rng: Rng::new(cfg.seed, Stream::Recording),
        agencies: agencies(cfg, w),
        events: Vec::new(),
        records: BTreeMap::new(),
        person_recs: BTreeMap::new(),
        person_truth: BTreeMap::new(),
        person_agency: BTreeMap::new(),
        place_recs: BTreeMap::new(),
        place_truth: BTreeMap::new(),
        thing_recs: BTreeMap::new(),
        thing_truth: BTreeMap::new(),
        links: BTreeSet::new(),
        rec_names: BTreeMap::new(),
        registrations: BTreeMap::new(),
        queue: BTreeMap::new(),
        seq: 0,
        cases: BTreeMap::new(),
        care: BTreeMap::new(),
        police_missing: BTreeMap::new(),
        last_police_referral: BTreeMap::new(),
        counts: Counts::default(),
        noise: NoiseCounts::default(),
        failures: FailureRecords::default(),
        within_agency_duplicates: 0,
    };
    for (t, h) in &w.happenings {
        r.later(*t, Task::World(h.clone()));
    }
    let end = w.window_end();
    while let Some(((t, _), task)) = r.queue.pop_first() {
        if t > end {
            continue;
        }
        r.run(t, task);
    }
    Recorded {
        agencies: r.agencies,
        events: r.events,
        records: r.records,
        person_records: r.person_truth,
        place_records: r.place_truth,
        thing_records: r.thing_truth,
        person_record_agency: r.person_agency,
        counts: r.counts,
        noise: r.noise,
        failures: r.failures,
        within_agency_duplicates: r.within_agency_duplicates,
    }
}

fn agencies(cfg: &SynthConfig, w: &World) -> Vec<AgencyInfo> {
    let mut rng = Rng::new(cfg.seed ^ 0x5eed_a9e7, Stream::World);
    let scale = i64::from(cfg.children / 400).max(3);
    let mk = |rng: &mut Rng, code: &str, name: &str, kind, staff_prefix, staff| AgencyInfo {
        id: rng.uuid(),
        code: AgencyId::new(code).expect("built-in agency codes are valid"),
        name: name.to_owned(),
        kind,
        staff_prefix,
        staff,
    };
    let mut out = vec![
        mk(
            &mut rng,
            "northshire-police",
            "Northshire Police",
            AgencyKind::Police,
            "pc",
            scale * 2,
        ),
        mk(
            &mut rng,
            "northshire-childrens-services",
            "Northshire Children's Services",
            AgencyKind::SocialCare,
            "sw",
            scale,
        ),
        mk(
            &mut rng,
            "northshire-health",
            "Northshire Health Trust",
            AgencyKind::Health,
            "nurse",
            scale,
        ),
        mk(
            &mut rng,
            "riverside-youth-project",
            "Riverside Youth Project",
            AgencyKind::YouthService,
            "youthworker",
            3,
        ),
        mk(
            &mut rng,
            "northshire-licensing",
            "Northshire Council Licensing",
            AgencyKind::Licensing,
            "licensing",
            2,
        ),
    ];
    let mut codes: BTreeSet<String> = out.iter().map(|a| a.code.as_str().to_owned()).collect();
    for (i, name) in w.school_names.iter().enumerate() {
        let mut code = slug(name);
        if !codes.insert(code.clone()) {
            code = format!("{code}-{}", i + 1);
            codes.insert(code.clone());
        }
        out.push(mk(&mut rng, &code, name, AgencyKind::Education, "dsl", 2));
    }
    out
}

fn self_defined(e: OnsEthnicity) -> SelfDefinedEthnicity {
    use OnsEthnicity::*;
    use SelfDefinedEthnicity as S;
    match e {
        WhiteBritish => S::W1,
        WhiteIrish => S::W2,
        WhiteGypsyIrishTraveller => S::W3,
        // The police 18+1 list has no Roma code.
        WhiteRoma | WhiteOther => S::W9,
        MixedWhiteBlackCaribbean => S::M1,
        MixedWhiteBlackAfrican => S::M2,
        MixedWhiteAsian => S::M3,
        MixedOther => S::M9,
        AsianIndian => S::A1,
        AsianPakistani => S::A2,
        AsianBangladeshi => S::A3,
        AsianChinese => S::A4,
        AsianOther => S::A9,
        BlackCaribbean => S::B1,
        BlackAfrican => S::B2,
        BlackOther => S::B9,
        OtherArab => S::O2,
        OtherAny => S::O9,
    }
}

fn dfe(e: OnsEthnicity, roll: f64) -> DfeEthnicity {
    use DfeEthnicity as D;
    use OnsEthnicity::*;
    match e {
        WhiteBritish => D::Wbri,
        WhiteIrish => D::Wiri,
        // DfE has Traveller of Irish heritage, and Gypsy/Roma together.
        WhiteGypsyIrishTraveller => {
            if roll < 0.5 {
                D::Wirt
            } else {
                D::Wrom
            }
        }
        WhiteRoma => D::Wrom,
        WhiteOther => D::Woth,
        MixedWhiteBlackCaribbean => D::Mwbc,
        MixedWhiteBlackAfrican => D::Mwba,
        MixedWhiteAsian => D::Mwas,
        MixedOther => D::Moth,
        AsianIndian => D::Aind,
        AsianPakistani => D::Apkn,
        AsianBangladeshi => D::Aban,
        AsianChinese => D::Chne,
        AsianOther => D::Aoth,
        BlackCaribbean => D::Bcrb,
        BlackAfrican => D::Bafr,
        BlackOther => D::Both,
        // DfE has no Arab code.
        OtherArab | OtherAny => D::Ooth,
    }
}

/// An officer's view of someone's ethnicity: an observation of appearance,
/// which can be wrong, and is simulated as such (it is not derived from
/// what the person says: Vigil never does that).
fn observed(e: OnsEthnicity, rng: &mut Rng) -> ObservedEthnicity {
    use ObservedEthnicity as I;
    use OnsEthnicity::*;
    if rng.chance(0.1) {
        return *rng.pick(&[I::Ic1, I::Ic2, I::Ic3, I::Ic4, I::Ic9]);
    }
    match e {
        WhiteBritish | WhiteIrish | WhiteGypsyIrishTraveller => I::Ic1,
        WhiteRoma | WhiteOther => *rng.pick(&[I::Ic1, I::Ic2]),
        MixedWhiteBlackCaribbean | MixedWhiteBlackAfrican => *rng.pick(&[I::Ic3, I::Ic1, I::Ic9]),
        MixedWhiteAsian | MixedOther => *rng.pick(&[I::Ic4, I::Ic1, I::Ic9]),
        AsianIndian | AsianPakistani | AsianBangladeshi | AsianOther => I::Ic4,
        AsianChinese => I::Ic5,
        BlackCaribbean | BlackAfrican | BlackOther => I::Ic3,
        OtherArab => I::Ic6,
        OtherAny => I::Ic9,
    }
}

impl Recorder<'_> {
    fn later(&mut self, t: Ts, task: Task) {
        self.queue.insert((t, self.seq), task);
        self.seq += 1;
    }

    fn user(&mut self, ag: usize) -> String {
        let a = &self.agencies[ag];
        let (prefix, n) = (a.staff_prefix, a.staff);
        format!("{prefix}.{:03}", self.rng.int(1, n))
    }

    fn emit(
        &mut self,
        t: Ts,
        exact: bool,
        ag: usize,
        role: Role,
        user: String,
        body: EventPayload,
    ) -> Uuid {
        let at = dt(t);
        let id = self.rng.event_id(at);
        let occurred_at = if exact {
            OccurredAt::exact(at)
        } else {
            OccurredAt::day(at.date_naive())
        };
        let mut persons: Vec<String> = body
            .subjects()
            .iter()
            .filter(|s| s.kind == EntityKind::Person)
            .filter_map(|s| self.person_truth.get(&s.id))
            .map(|p| truth::person_id(*p))
            .collect();
        persons.sort();
        persons.dedup();
        if !persons.is_empty() {
            self.records.insert(id, persons);
        }
        let agency = self.agencies[ag].code.clone();
        *self
            .counts
            .by_agency_and_kind
            .entry(agency.as_str().to_owned())
            .or_default()
            .entry(body.kind().to_owned())
            .or_default() += 1;
        self.events.push(EventInput {
            id: Some(id),
            actor: Actor { user, role },
            agency,
            occurred_at,
            // The borough's history arrives as an import from the system
            // it was kept in: Vigil keeps that system's recorded time, and
            // deadlines and chronologies run from it (issue 12, item 9).
            source: Some(SourceRecord {
                system: SOURCE_SYSTEM.to_owned(),
                reference: None,
                recorded_at: vigil_model::event::format_timestamp(&at),
            }),
            body,
        });
        id
    }

    fn staff_emit(
        &mut self,
        t: Ts,
        exact: bool,
        ag: usize,
        role: Role,
        body: EventPayload,
    ) -> Uuid {
        let user = self.user(ag);
        self.emit(t, exact, ag, role, user, body)
    }

    fn school_of(&self, child: usize) -> usize {
        FIRST_SCHOOL + self.w.people[child].school.unwrap_or(0)
    }

    fn name_fields(&mut self, p: usize) -> PersonName {
        let tp = &self.w.people[p];
        let (given_true, family_true) = (tp.given, tp.family);
        let (given, gn) = noise::given_name(&mut self.rng, &self.cfg.noise, given_true);
        let (family, fnz) = noise::family_name(&mut self.rng, &self.cfg.noise, family_true);
        if pools::nickname_of(given_true).is_some() {
            self.noise.nickname.add(gn.nickname);
        }
        if !gn.nickname && !pools::variants_of(given_true).is_empty() {
            self.noise.transliteration.add(gn.transliteration);
        }
        if !pools::variants_of(family_true).is_empty() {
            self.noise.transliteration.add(fnz.transliteration);
        }
        let given_before = if gn.nickname {
            pools::nickname_of(given_true).unwrap_or(given_true)
        } else {
            given_true
        };
        if given_before.chars().count() >= 3 {
            self.noise.misspelling.add(gn.misspelling);
        }
        if family_true.chars().count() >= 3 {
            self.noise.misspelling.add(fnz.misspelling);
        }
        PersonName::new(&given, &family, NameKind::Birth)
    }

    /// The agency's record of a person, made the first time the agency meets
    /// them (and now and then again, by mistake).
    fn person(&mut self, ag: usize, p: usize, t: Ts) -> Uuid {
        if let Some(id) = self.person_recs.get(&(ag, p)).copied() {
            let again = self.rng.chance(self.cfg.noise.same_agency_duplicate);
            self.noise.same_agency_duplicate.add(again);
            if !again {
                return id;
            }
            self.within_agency_duplicates += 1;
        }
        let street_only = ag == POLICE
            && self.w.people[p].kind == PersonKind::NetworkMember
            && self.w.people[p].street_name.is_some()
            && self.rng.chance(0.3);
        let id = self.rng.uuid();
        let tp = self.w.people[p].clone();
        let child = tp.kind == PersonKind::Child;
        let mut names = Vec::new();
        if !street_only {
            names.push(self.name_fields(p));
        }
        if let Some(s) = tp.street_name {
            if ag == POLICE || ag == YOUTH {
                names.push(PersonName::new(s, "", NameKind::StreetName));
            }
        }
        if child && (ag == YOUTH || ag >= FIRST_SCHOOL) {
            if let Some(n) = pools::nickname_of(tp.given) {
                let nn = PersonName::new(n, "", NameKind::Nickname);
                if self.rng.chance(0.3)
                    && !names.contains(&nn)
                    && names.first().and_then(|x| x.given.as_deref()) != Some(n)
                {
                    names.push(nn);
                }
            }
        }
        let missing = self.rng.chance(self.cfg.noise.missing_dob);
        self.noise.missing_dob.add(missing);
        let date_of_birth = if missing {
            None
        } else if street_only || (ag == POLICE && !child && self.rng.chance(0.5)) {
            // Only an estimate of age is known.
            Some(DateOfBirth {
                value: format!(
                    "{}",
                    chrono::Datelike::year(&tp.dob) + self.rng.int(-2, 2) as i32
                ),
                precision: Precision::Year,
            })
        } else {
            let mut d = tp.dob;
            if noise::swappable(d) {
                let swap = self.rng.chance(self.cfg.noise.swapped_day_month);
                self.noise.swapped_day_month.add(swap);
                if swap {
                    d = noise::swap_day_month(d);
                }
            }
            Some(DateOfBirth::day(d))
        };
        let source = if child {
            EthnicitySource::ParentOrCarer
        } else {
            EthnicitySource::Person
        };
        let (mut sd, mut ob, mut df) = (None, None, None);
        match ag {
            POLICE => {
                let p_sd = if child { 0.5 } else { 0.35 };
                if self.rng.chance(p_sd) {
                    sd = Some(EthnicityRecord::new(
                        self_defined(tp.ethnicity),
                        EthnicitySource::Person,
                    ));
                } else if self.rng.chance(0.2) {
                    sd = Some(EthnicityRecord::new(
                        SelfDefinedEthnicity::NS,
                        EthnicitySource::Person,
                    ));
                }
                if !street_only && self.rng.chance(if child { 0.2 } else { 0.5 }) {
                    let code = observed(tp.ethnicity, &mut self.rng);
                    ob = Some(EthnicityRecord::new(code, EthnicitySource::Observed));
                }
            }
            SOCIAL if self.rng.chance(0.9) => {
                let roll = self.rng.unit();
                df = Some(EthnicityRecord::new(dfe(tp.ethnicity, roll), source));
            }
            HEALTH if self.rng.chance(0.7) => {
                sd = Some(EthnicityRecord::new(self_defined(tp.ethnicity), source));
            }
            a if a >= FIRST_SCHOOL && self.rng.chance(0.95) => {
                let roll = self.rng.unit();
                df = Some(EthnicityRecord::new(
                    dfe(tp.ethnicity, roll),
                    EthnicitySource::ParentOrCarer,
                ));
            }
            _ => {}
        }
        let nat_p = match ag {
            POLICE => 0.6,
            SOCIAL => 0.8,
            LICENSING => 1.0,
            _ => 0.0,
        };
        let nationalities: Vec<Nationality> = if !street_only && self.rng.chance(nat_p) {
            vec![tp.nationality]
        } else {
            vec![]
        };
        let disability = (ag == SOCIAL || ag >= FIRST_SCHOOL).then_some(if tp.disability {
            Disability::Yes
        } else {
            Disability::No
        });
        let description = if street_only {
            Some(format!(
                "Adult known as '{}'; real name not known.",
                tp.street_name.unwrap_or("unknown")
            ))
        } else if ag >= FIRST_SCHOOL {
            Some(format!("Pupil at {}.", self.agencies[ag].name))
        } else {
            None
        };
        let person = Person {
            person_id: id,
            names,
            date_of_birth,
            sex: Some(tp.sex),
            ethnicity_self_defined: sd,
            ethnicity_officer_observed: ob,
            ethnicity_dfe: df,
            nationalities,
            disability,
            description,
        };
        if let Some(n) = person.names.first().and_then(|n| n.given.clone()) {
            self.rec_names.insert(id, n);
        }
        self.person_recs.insert((ag, p), id);
        self.person_truth.insert(id, p);
        self.person_agency.insert(id, ag);
        let role = if ag == POLICE && !child {
            Role::Analyst
        } else {
            Role::Practitioner
        };
        self.staff_emit(t, false, ag, role, EventPayload::PersonRecorded(person));
        // Where they live, as this agency writes it.
        let records_home = match tp.kind {
            PersonKind::Child => matches!(ag, POLICE | SOCIAL | HEALTH) || ag >= FIRST_SCHOOL,
            PersonKind::TaxiDriver => ag == LICENSING,
            PersonKind::NetworkMember => ag == LICENSING,
            PersonKind::Parent => ag == SOCIAL,
        };
        if records_home {
            let home = self.place(ag, tp.home, t);
            self.link(
                t,
                ag,
                LinkKind::LivesAt,
                person_ref(id),
                SubjectRef::new(EntityKind::Location, home),
                None,
            );
        }
        id
    }

    fn place(&mut self, ag: usize, place: usize, t: Ts) -> Uuid {
        if let Some(id) = self.place_recs.get(&(ag, place)) {
            return *id;
        }
        let pl = self.w.places[place].clone();
        let details = match &pl.address {
            Some(a) if pl.kind == LocationKind::Home || pl.kind == LocationKind::FosterHome => {
                let variant = self.rng.chance(self.cfg.noise.address_variant);
                self.noise.address_variant.add(variant);
                let (lines, town, postcode) = if variant {
                    noise::address_variant(&mut self.rng, a)
                } else {
                    noise::address_exact(a)
                };
                LocationDetails {
                    name: None,
                    address_lines: lines,
                    town,
                    postcode,
                    description: None,
                }
            }
            Some(a) => LocationDetails {
                name: pl.name.clone(),
                address_lines: exact_lines(a),
                town: Some(pl.town.to_owned()),
                postcode: Some(pl.postcode.clone()),
                description: None,
            },
            None => LocationDetails {
                name: pl.name.clone(),
                address_lines: Vec::new(),
                town: Some(pl.town.to_owned()),
                postcode: Some(pl.postcode.split(' ').next().unwrap_or("NS1").to_owned()),
                description: None,
            },
        };
        let id = self.rng.uuid();
        self.place_recs.insert((ag, place), id);
        self.place_truth.insert(id, place);
        self.staff_emit(
            t,
            false,
            ag,
            Role::Practitioner,
            EventPayload::LocationRecorded(Location {
                location_id: id,
                kind: pl.kind,
                details,
            }),
        );
        id
    }

    fn thing(&mut self, ag: usize, thing: usize, t: Ts) -> Uuid {
        let th = self.w.things[thing].clone();
        let partial = match &th {
            Thing::Vehicle { .. } if ag != LICENSING => {
                let p = self.rng.chance(self.cfg.noise.partial_registration);
                self.noise.partial_registration.add(p);
                p
            }
            _ => false,
        };
        if !partial {
            if let Some(id) = self.thing_recs.get(&(ag, thing)) {
                return *id;
            }
        }
        let (kind, details) = match &th {
            Thing::Vehicle {
                registration,
                make,
                model,
                colour,
                licence,
            } => {
                let reg = if partial {
                    noise::partial_registration(&mut self.rng, registration)
                } else {
                    registration.clone()
                };
                let full = ag == LICENSING;
                (
                    ObjectKind::Vehicle,
                    ObjectDetails {
                        registration: Some(reg),
                        make: (full || self.rng.chance(0.6)).then(|| (*make).to_owned()),
                        model: (full || self.rng.chance(0.4)).then(|| (*model).to_owned()),
                        colour: Some((*colour).to_owned()),
                        licence_number: if full { licence.clone() } else { None },
                        ..ObjectDetails::default()
                    },
                )
            }
            Thing::Phone { number } => (
                ObjectKind::Phone,
                ObjectDetails {
                    phone_number: Some(number.clone()),
                    ..ObjectDetails::default()
                },
            ),
            Thing::Business { name, kind, .. } => (
                ObjectKind::Business,
                ObjectDetails {
                    business_name: Some(name.clone()),
                    business_type: Some(
                        match kind {
                            BusinessKind::Takeaway => "takeaway",
                            BusinessKind::CarWash => "car wash",
                            BusinessKind::TaxiFirm => "private hire operator",
                        }
                        .to_owned(),
                    ),
                    ..ObjectDetails::default()
                },
            ),
        };
        let id = self.rng.uuid();
        if !partial {
            self.thing_recs.insert((ag, thing), id);
        }
        if let Some(r) = &details.registration {
            self.registrations.insert(id, r.clone());
        }
        self.thing_truth.insert(id, thing);
        self.staff_emit(
            t,
            false,
            ag,
            Role::Practitioner,
            EventPayload::ObjectRecorded(Object {
                object_id: id,
                kind,
                details,
            }),
        );
        if let Thing::Business { place, .. } = th {
            let loc = self.place(ag, place, t);
            self.link(
                t,
                ag,
                LinkKind::LocatedAt,
                SubjectRef::new(EntityKind::Object, id),
                location_ref(loc),
                None,
            );
        }
        id
    }

    /// Records a link once (per pair and kind).
    fn link(
        &mut self,
        t: Ts,
        ag: usize,
        kind: LinkKind,
        from: SubjectRef,
        to: SubjectRef,
        grading: Option<Grading>,
    ) {
        if !self.links.insert((from.id, to.id, kind)) {
            return;
        }
        let link_id = self.rng.uuid();
        let since = matches!(
            kind,
            LinkKind::LivesAt | LinkKind::WorksAt | LinkKind::Drives
        )
        .then(|| OccurredAt::day(date_of(t)));
        self.staff_emit(
            t,
            false,
            ag,
            if ag == POLICE {
                Role::Analyst
            } else {
                Role::Practitioner
            },
            EventPayload::LinkRecorded(LinkRecorded {
                link_id,
                kind,
                from,
                to,
                since,
                until: None,
                grading,
                note: None,
            }),
        );
    }

    fn grading(&mut self) -> Grading {
        let source = [
            SourceEvaluation::Reliable,
            SourceEvaluation::Untested,
            SourceEvaluation::NotReliable,
        ][self.rng.weighted(&[0.25, 0.6, 0.15])];
        let intelligence = [
            IntelligenceAssessment::A,
            IntelligenceAssessment::B,
            IntelligenceAssessment::C,
            IntelligenceAssessment::D,
            IntelligenceAssessment::E,
        ][self.rng.weighted(&[0.2, 0.25, 0.35, 0.15, 0.05])];
        let conditional = self.rng.chance(0.2);
        Grading {
            source,
            intelligence,
            handling: if conditional {
                HandlingCode::C
            } else {
                HandlingCode::P
            },
            conditions: conditional
                .then(|| "Not to be disclosed to the subject or their family".to_owned()),
        }
    }

    /// Name of a person as the agency's record has it, for writing about them.
    fn name_in(&self, rec: Uuid, p: usize) -> String {
        self.rec_names
            .get(&rec)
            .cloned()
            .unwrap_or_else(|| self.w.people[p].given.to_owned())
    }

    fn blaming(&mut self, child: usize, t: Ts) -> bool {
        self.w.exploited_at(child, t).is_some()
            && self.rng.chance(self.cfg.failures.victim_blaming_wording)
    }

    fn values(&self, name: &str, child: usize) -> Vec<(&'static str, String)> {
        let p = text::pron(self.w.people[child].sex);
        vec![
            ("name", name.to_owned()),
            ("they", p.they.to_owned()),
            ("them", p.them.to_owned()),
            ("their", p.their.to_owned()),
            ("themself", p.themself.to_owned()),
            ("is", p.is.to_owned()),
        ]
    }

    /// Queues a referral to children's social care (made a little after
    /// what prompted it; queued so that events stay in time order).
    #[allow(clippy::too_many_arguments)]
    fn refer(
        &mut self,
        t: Ts,
        ag: usize,
        child: usize,
        child_rec: Uuid,
        concern: String,
        blaming: bool,
        factors: Vec<CinFactor>,
    ) {
        self.later(
            t,
            Task::Refer {
                ag,
                child,
                child_rec,
                concern,
                blaming,
                factors,
            },
        );
    }

    /// Submits a referral to children's social care and queues the decision.
    #[allow(clippy::too_many_arguments)]
    fn refer_now(
        &mut self,
        t: Ts,
        ag: usize,
        child: usize,
        child_rec: Uuid,
        concern: String,
        blaming: bool,
        factors: Vec<CinFactor>,
    ) {
        let referral = self.rng.uuid();
        let referrer = (ag != SOCIAL).then(|| Referrer {
            name: None,
            role: Some(
                match ag {
                    POLICE => "Police officer",
                    HEALTH => "Nurse",
                    YOUTH => "Youth worker",
                    _ => "Designated safeguarding lead",
                }
                .to_owned(),
            ),
            organisation: Some(self.agencies[ag].name.clone()),
            phone: None,
            email: None,
        });
        let id = self.staff_emit(
            t,
            true,
            ag,
            if ag == SOCIAL {
                Role::Practitioner
            } else {
                Role::Referrer
            },
            EventPayload::ReferralSubmitted(ReferralSubmitted {
                referral_id: referral,
                child_id: child_rec,
                referrer,
                concern,
                what_seen: None,
                location_id: None,
                location_text: None,
                others_involved: Vec::new(),
                immediate_danger: false,
                police_called: None,
                call_back_on: None,
            }),
        );
        if blaming {
            self.failures.victim_blaming_wording.push(id);
        }
        if self.rng.chance(self.cfg.failures.referral_unanswered) {
            self.failures.unanswered_referrals.push(referral);
            return;
        }
        let when = t + self.rng.int(2 * HOUR, 40 * HOUR);
        self.later(
            when,
            Task::Decide {
                child,
                referral,
                child_rec,
                factors,
            },
        );
    }

    fn note(&mut self, t: Ts, ag: usize, subjects: Vec<SubjectRef>, text: String, blaming: bool) {
        let id = self.staff_emit(
            t,
            false,
            ag,
            Role::Practitioner,
            EventPayload::NoteRecorded(NoteRecorded { subjects, text }),
        );
        if blaming {
            self.failures.victim_blaming_wording.push(id);
        }
    }

    fn run(&mut self, t: Ts, task: Task) {
        match task {
            Task::World(h) => self.happening(t, h),
            Task::Refer {
                ag,
                child,
                child_rec,
                concern,
                blaming,
                factors,
            } => self.refer_now(t, ag, child, child_rec, concern, blaming, factors),
            Task::Strategy {
                referral,
                child_rec,
            } => {
                let attendees = vec![
                    self.agencies[SOCIAL].code.clone(),
                    self.agencies[POLICE].code.clone(),
                ];
                let new_id = self.rng.uuid();
                self.staff_emit(
                    t,
                    true,
                    SOCIAL,
                    Role::Practitioner,
                    EventPayload::MeetingRecorded(MeetingRecorded {
                        meeting_id: new_id,
                        kind: MeetingKind::StrategyDiscussion,
                        child_id: child_rec,
                        attendees,
                        decisions: "Section 47 enquiry to start; police to check intelligence on the adults named.".into(),
                        missing_episode_id: None,
                        referral_id: Some(referral),
                        case_id: None,
                    }),
                );
            }
            Task::Return {
                child,
                episode,
                child_rec,
                found,
            } => self.returned(t, child, episode, child_rec, found),
            Task::ReturnInterview {
                child,
                episode,
                child_rec,
            } => {
                let name = self.name_in(child_rec, child);
                let p = text::pron(self.w.people[child].sex);
                let decisions = format!(
                    "{name} would not say where {} had been. Information shared with the police and school; safety plan reviewed.",
                    p.they
                );
                let _ = child_rec;
                // Drawn as when this was a meeting with its own id, so the
                // rest of the borough is the same for a seed.
                let _ = self.rng.uuid();
                self.staff_emit(
                    t,
                    true,
                    SOCIAL,
                    Role::Practitioner,
                    EventPayload::ReturnInterviewRecorded(ReturnInterviewRecorded {
                        episode_id: episode,
                        outcome: InterviewOutcome::Held,
                        held_at: Timestamp::from_utc(dt(t)),
                        by_whom: "Children's services social worker".to_owned(),
                        where_held: Some("At home".to_owned()),
                        child_said: Some(decisions),
                    }),
                );
            }
            Task::Decide {
                child,
                referral,
                child_rec,
                factors,
            } => self.decide(t, child, referral, child_rec, factors),
            Task::Assess {
                child,
                referral,
                child_rec,
                factors,
            } => self.assess(t, child, referral, child_rec, factors),
            Task::CloseCase { child, case } => self.close_case(t, child, case),
            Task::StepUp { child, case } => {
                if let Some(c) = self.cases.get(&child) {
                    if c.id == case && c.level < CaseLevel::ChildProtection {
                        let child_rec = c.child_rec;
                        self.cases.get_mut(&child).expect("present").level =
                            CaseLevel::ChildProtection;
                        self.staff_emit(
                            t,
                            false,
                            SOCIAL,
                            Role::Supervisor,
                            EventPayload::CaseLevelChanged(CaseLevelChanged {
                                case_id: case,
                                child_id: Some(child_rec),
                                level: CaseLevel::ChildProtection,
                                reason: "Initial child protection conference: risk of sexual exploitation; child protection plan made.".into(),
                            }),
                        );
                    }
                }
            }
            Task::Mace { child, case } => {
                if let Some(c) = self.cases.get(&child) {
                    if c.id == case {
                        let child_rec = c.child_rec;
                        let mut attendees: Vec<AgencyId> = [SOCIAL, POLICE, HEALTH, YOUTH]
                            .iter()
                            .map(|a| self.agencies[*a].code.clone())
                            .collect();
                        let school = self.school_of(child);
                        attendees.push(self.agencies[school].code.clone());
                        let new_id = self.rng.uuid();
                        self.staff_emit(
                            t,
                            true,
                            SOCIAL,
                            Role::Practitioner,
                            EventPayload::MeetingRecorded(MeetingRecorded {
                                meeting_id: new_id,
                                kind: MeetingKind::MultiAgencyExploitation,
                                child_id: child_rec,
                                attendees,
                                decisions: "Child discussed at the multi-agency child exploitation meeting; disruption plan for the adults and vehicles named; safety plan agreed.".into(),
                                missing_episode_id: None,
                                referral_id: None,
                                case_id: Some(case),
                            }),
                        );
                    }
                }
            }
            Task::Outcome {
                offence,
                suspects,
                code,
                victim_as_suspect,
            } => {
                for s in suspects {
                    let (outcome, charged, reason) = if victim_as_suspect {
                        match self.rng.weighted(&[0.4, 0.4, 0.2]) {
                            0 => (OffenceOutcome::Caution, None, None),
                            1 => (OffenceOutcome::CommunityResolution, None, None),
                            _ => (OffenceOutcome::Charge, Some(code), None),
                        }
                    } else {
                        match self.rng.weighted(&[0.3, 0.45, 0.25]) {
                            0 => (OffenceOutcome::Charge, Some(code), None),
                            1 => (
                                OffenceOutcome::NoFurtherAction,
                                None,
                                Some(
                                    (*self.rng.pick(&[
                                        "The victim does not support a prosecution.",
                                        "Evidential difficulties: the suspect could not be identified.",
                                        "Evidential difficulties: insufficient evidence to charge.",
                                    ]))
                                    .to_owned(),
                                ),
                            ),
                            _ => (OffenceOutcome::NotYetResolved, None, None),
                        }
                    };
                    self.staff_emit(
                        t,
                        false,
                        POLICE,
                        Role::Practitioner,
                        EventPayload::OffenceOutcomeRecorded(OffenceOutcomeRecorded {
                            offence_id: offence,
                            outcome,
                            suspect_id: Some(s),
                            charged_offence: charged,
                            reason,
                        }),
                    );
                }
            }
        }
    }

    fn happening(&mut self, t: Ts, h: Happening) {
        match h {
            Happening::RegisterAgencies => {
                for i in 0..self.agencies.len() {
                    let a = self.agencies[i].clone();
                    self.emit(
                        t,
                        false,
                        i,
                        Role::Administrator,
                        "admin".into(),
                        EventPayload::AgencyRegistered(AgencyRegistered {
                            agency_id: a.id,
                            code: a.code,
                            name: a.name,
                            kind: a.kind,
                        }),
                    );
                }
            }
            Happening::DriverLicensed {
                driver,
                vehicle,
                firm,
            } => {
                let d = self.person(LICENSING, driver, t);
                let v = self.thing(LICENSING, vehicle, t);
                let f = self.thing(LICENSING, firm, t);
                self.link(
                    t,
                    LICENSING,
                    LinkKind::RegisteredKeeper,
                    person_ref(d),
                    object_ref(v),
                    None,
                );
                self.link(
                    t,
                    LICENSING,
                    LinkKind::Drives,
                    person_ref(d),
                    object_ref(v),
                    None,
                );
                self.link(
                    t,
                    LICENSING,
                    LinkKind::WorksAt,
                    person_ref(d),
                    object_ref(f),
                    None,
                );
            }
            Happening::Referral {
                child,
                from,
                concern,
            } => {
                let ag = match from {
                    Source::Police => POLICE,
                    Source::School => self.school_of(child),
                    Source::Health => HEALTH,
                    Source::Youth => YOUTH,
                    Source::SocialCare => SOCIAL,
                };
                let rec = self.person(ag, child, t);
                let name = self.name_in(rec, child);
                let (template, factors) = text::BACKGROUND_CONCERNS[concern];
                let v = self.values(&name, child);
                let vv: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
                let concern_text = text::fill(template, &vv);
                self.refer(t, ag, child, rec, concern_text, false, factors.to_vec());
            }
            Happening::Missing { child, end, found } => self.missing(t, child, end, found),
            Happening::Absence { child } => {
                if !self.rng.chance(self.cfg.observation.education) {
                    return;
                }
                let ag = self.school_of(child);
                let rec = self.person(ag, child, t);
                let name = self.name_in(rec, child);
                let blaming = self.blaming(child, t);
                let mut v = self.values(&name, child);
                v.push(("pct", self.rng.int(55, 88).to_string()));
                v.push(("n", self.rng.int(3, 12).to_string()));
                let vv: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
                let text = text::note(NoteKind::Absence, blaming, &vv);
                self.note(t, ag, vec![person_ref(rec)], text.clone(), blaming);
                let exploited = self.w.exploited_at(child, t).is_some();
                let p = self.cfg.observation.referral_after_observation
                    * if exploited { 0.5 } else { 0.1 };
                if self.rng.chance(p) {
                    self.refer(t + HOUR, ag, child, rec, text, false, vec![CinFactor::F10A]);
                }
            }
            Happening::CarSeen {
                child,
                member,
                vehicle,
                place,
            } => self.car_seen(t, child, member, vehicle, place),
            Happening::Health { child, kind } => {
                if !self.rng.chance(self.cfg.observation.health) {
                    return;
                }
                let rec = self.person(HEALTH, child, t);
                let name = self.name_in(rec, child);
                let (service, what) = match kind {
                    HealthKind::StiTest => ("sexual health clinic", "STI screen"),
                    HealthKind::EmergencyContraception => {
                        ("sexual health clinic", "emergency contraception")
                    }
                    HealthKind::PregnancyTest => ("sexual health clinic", "pregnancy test"),
                    HealthKind::Intoxicated => (
                        "emergency department",
                        "brought in heavily intoxicated in the early hours",
                    ),
                    HealthKind::SelfHarm => (
                        "emergency department",
                        "self-harm injuries to the forearms treated",
                    ),
                };
                let blaming = self.blaming(child, t)
                    && matches!(
                        kind,
                        HealthKind::StiTest
                            | HealthKind::EmergencyContraception
                            | HealthKind::PregnancyTest
                    );
                let mut v = self.values(&name, child);
                v.push(("service", service.into()));
                v.push(("what", what.into()));
                let vv: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
                let note = text::note(NoteKind::Health, blaming, &vv);
                self.note(t, HEALTH, vec![person_ref(rec)], note, blaming);
                if self
                    .rng
                    .chance(self.cfg.observation.referral_after_observation)
                {
                    let blaming = self.blaming(child, t)
                        && !matches!(kind, HealthKind::Intoxicated | HealthKind::SelfHarm);
                    let concern = text::cse_concern(ConcernKind::Health, blaming, &vv);
                    let factors = match kind {
                        HealthKind::Intoxicated => vec![CinFactor::F1A],
                        HealthKind::SelfHarm => vec![CinFactor::F15A],
                        _ => vec![CinFactor::F11A],
                    };
                    self.refer(t + HOUR, HEALTH, child, rec, concern, blaming, factors);
                }
            }
            Happening::Sign {
                child,
                network,
                member,
                kind,
            } => self.sign(t, child, network, member, kind),
            Happening::Disclosure { child, network } => self.disclosure(t, child, network),
            Happening::Criminalised { child, place } => {
                let rec = self.person(POLICE, child, t);
                let loc = self.place(POLICE, place, t);
                let place_name = self.w.places[place]
                    .name
                    .clone()
                    .unwrap_or_else(|| "an address in the town".into());
                let description = match self.rng.index(4) {
                    0 => format!("Criminal damage to a car parked outside {place_name}."),
                    1 => "Possession of a controlled drug (cannabis).".to_owned(),
                    2 => {
                        "Assault on a member of staff after being returned to the children's home."
                            .to_owned()
                    }
                    _ => format!("Theft of alcohol from a shop near {place_name}."),
                };
                let offence = self.rng.uuid();
                let crime_ref = self.crime_reference(t);
                self.staff_emit(
                    t,
                    true,
                    POLICE,
                    Role::Practitioner,
                    EventPayload::OffenceRecorded(OffenceRecorded {
                        offence_id: offence,
                        offence: OffenceCode::Other,
                        description: Some(description),
                        victim_ids: Vec::new(),
                        suspect_ids: vec![rec],
                        committed: OccurredAt::exact(dt(t)),
                        committed_until: None,
                        location_id: Some(loc),
                        cse_flag: false,
                        crime_reference: Some(crime_ref),
                    }),
                );
                self.failures.victims_recorded_as_suspects.push(offence);
                let when = t + self.rng.int(7, 90) * DAY;
                self.later(
                    when,
                    Task::Outcome {
                        offence,
                        suspects: vec![rec],
                        code: OffenceCode::Other,
                        victim_as_suspect: true,
                    },
                );
            }
            Happening::NetworkIntel { network } => self.network_intel(t, network),
            Happening::EnterCare { child, placement } => {
                let rec = self.person(SOCIAL, child, t);
                let case = self.rng.uuid();
                let reason = (*self.rng.pick(&[
                    "Accommodated under section 20 with parental agreement.",
                    "Interim care order granted.",
                    "Accommodated after the family home broke down.",
                ]))
                .to_owned();
                self.staff_emit(
                    t,
                    false,
                    SOCIAL,
                    Role::Supervisor,
                    EventPayload::CaseOpened(CaseOpened {
                        case_id: case,
                        child_id: Some(rec),
                        context: None,
                        level: CaseLevel::LookedAfter,
                        reason,
                        referral_id: None,
                        lead_agency: None,
                        worker: None,
                        agencies: Vec::new(),
                        risk: None,
                        risk_reason: None,
                    }),
                );
                self.care.insert(
                    child,
                    InCare {
                        case,
                        child_rec: rec,
                        placement: None,
                        allocation: None,
                    },
                );
                self.place_child(t, child, placement);
                self.allocate(t, child);
            }
            Happening::PlacementMove { child, placement } => {
                if self.care.contains_key(&child) {
                    let reason = (*self.rng.pick(&[
                        "Placement breakdown.",
                        "Moved for safety after repeated missing episodes.",
                        "Planned move to a long-term placement.",
                        "Carer gave notice.",
                    ]))
                    .to_owned();
                    self.end_placement(t, child, reason);
                    self.place_child(t, child, placement);
                }
            }
            Happening::WorkerChange { child } => {
                if self.care.contains_key(&child) {
                    let reason = (*self.rng.pick(&[
                        "Worker left the authority.",
                        "Caseload reallocation.",
                        "Worker on long-term leave.",
                    ]))
                    .to_owned();
                    self.end_allocation(t, child, reason);
                    self.allocate(t, child);
                }
            }
            Happening::LeaveCare { child } => {
                if let Some(c) = self.care.get(&child) {
                    let (case, rec) = (c.case, c.child_rec);
                    self.end_placement(t, child, "Left care.".into());
                    self.end_allocation(t, child, "Case closed.".into());
                    let reason = (*self.rng.pick(&[
                        "Returned home to parents; plan completed.",
                        "Turned 18: moved to the leaving care service.",
                    ]))
                    .to_owned();
                    self.staff_emit(
                        t,
                        false,
                        SOCIAL,
                        Role::Supervisor,
                        EventPayload::CaseClosed(CaseClosed {
                            case_id: case,
                            child_id: Some(rec),
                            reason,
                            sign_off: None,
                        }),
                    );
                    self.care.remove(&child);
                }
            }
        }
    }

    fn place_child(&mut self, t: Ts, child: usize, placement: Placement) {
        let Some(c) = self.care.get(&child) else {
            return;
        };
        let rec = c.child_rec;
        let loc = self.place(SOCIAL, placement.place, t);
        let id = self.rng.uuid();
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Practitioner,
            EventPayload::PlacementStarted(PlacementStarted {
                placement_id: id,
                child_id: rec,
                placement_type: placement.kind,
                location_id: Some(loc),
                started_on: Date::new(date_of(t)),
                reason: None,
            }),
        );
        if let Some(c) = self.care.get_mut(&child) {
            c.placement = Some(id);
        }
    }

    fn end_placement(&mut self, t: Ts, child: usize, reason: String) {
        let Some(id) = self.care.get_mut(&child).and_then(|c| c.placement.take()) else {
            return;
        };
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Practitioner,
            EventPayload::PlacementEnded(PlacementEnded {
                placement_id: id,
                ended_on: Date::new(date_of(t)),
                reason: Some(reason),
            }),
        );
    }

    fn allocate(&mut self, t: Ts, child: usize) {
        let Some(c) = self.care.get(&child) else {
            return;
        };
        let rec = c.child_rec;
        let id = self.rng.uuid();
        let worker = self.user(SOCIAL);
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Supervisor,
            EventPayload::AllocationRecorded(AllocationRecorded {
                allocation_id: id,
                child_id: rec,
                worker,
                team: "Children in Care Team".into(),
                started_on: Date::new(date_of(t)),
            }),
        );
        if let Some(c) = self.care.get_mut(&child) {
            c.allocation = Some(id);
        }
    }

    fn end_allocation(&mut self, t: Ts, child: usize, reason: String) {
        let Some(id) = self.care.get_mut(&child).and_then(|c| c.allocation.take()) else {
            return;
        };
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Supervisor,
            EventPayload::AllocationEnded(AllocationEnded {
                allocation_id: id,
                ended_on: Date::new(date_of(t)),
                reason: Some(reason),
            }),
        );
    }

    fn crime_reference(&mut self, t: Ts) -> String {
        format!(
            "NS/{}/{:06}",
            chrono::Datelike::year(&date_of(t)),
            self.rng.int(1, 999_999)
        )
    }

    fn missing(&mut self, t: Ts, child: usize, end: Ts, found: Option<usize>) {
        let in_care = self.w.in_care_at(child, t);
        let p = if in_care {
            0.98
        } else {
            self.cfg.observation.police_missing_report
        };
        if !self.rng.chance(p) {
            return;
        }
        let rec = self.person(POLICE, child, t);
        let reported_by = if in_care {
            *self.rng.pick(&["children's home staff", "foster carer"])
        } else {
            *self.rng.pick(&[
                "mother",
                "father",
                "grandmother",
                "stepfather",
                "older sister",
            ])
        };
        let p = text::pron(self.w.people[child].sex);
        let circumstances = match self.rng.index(3) {
            0 => format!(
                "Did not return home after school; {} phone is switched off.",
                p.their
            ),
            1 => format!(
                "Left the house at about 8pm saying {} was going to a friend's; not seen since.",
                p.they
            ),
            _ => "Was seen getting into a car near the shops; has not come home.".to_owned(),
        };
        let episode = self.rng.uuid();
        let missing_type = if in_care && self.rng.chance(0.3) {
            MissingType::Away
        } else {
            MissingType::Missing
        };
        self.staff_emit(
            t,
            true,
            POLICE,
            Role::Practitioner,
            EventPayload::MissingEpisodeRecorded(MissingEpisodeRecorded {
                episode_id: episode,
                child_id: rec,
                missing_type,
                started_at: Timestamp::from_utc(dt(t)),
                ended_at: None,
                reported_by: Some(reported_by.to_owned()),
                circumstances: Some(circumstances),
                placement_id: None,
            }),
        );
        self.later(
            end,
            Task::Return {
                child,
                episode,
                child_rec: rec,
                found,
            },
        );
        // Repeated episodes make the police refer the child.
        let list = self.police_missing.entry(child).or_default();
        list.push(t);
        list.retain(|x| *x >= t - 30 * DAY);
        let count = list.len();
        let last = self
            .last_police_referral
            .get(&child)
            .copied()
            .unwrap_or(i64::MIN / 2);
        if count >= 3 && t - last > 60 * DAY {
            self.last_police_referral.insert(child, t);
            let name = self.name_in(rec, child);
            let blaming = self.blaming(child, t);
            let place = found
                .and_then(|f| self.w.places[f].name.clone())
                .unwrap_or_else(|| "an address in the town".into());
            let mut v = self.values(&name, child);
            v.push(("count", count.to_string()));
            v.push(("days", "30".into()));
            v.push(("place", place));
            let vv: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
            let concern = text::cse_concern(ConcernKind::Missing, blaming, &vv);
            self.refer(
                t + 2 * HOUR,
                POLICE,
                child,
                rec,
                concern,
                blaming,
                vec![CinFactor::F10A],
            );
        }
    }

    fn returned(
        &mut self,
        t: Ts,
        child: usize,
        episode: Uuid,
        child_rec: Uuid,
        found: Option<usize>,
    ) {
        let found_location_id = found.map(|f| self.place(POLICE, f, t));
        let p = text::pron(self.w.people[child].sex);
        let mut found_with = None;
        let note = match found {
            Some(f) => {
                let with = self.rng.chance(0.5);
                if with {
                    found_with = Some("Two adults".to_owned());
                }
                format!(
                    "Found by a patrol at {}{}.",
                    self.w.places[f]
                        .name
                        .clone()
                        .unwrap_or_else(|| "an address in the town".into()),
                    if with { " with two adults" } else { "" }
                )
            }
            None => format!(
                "Returned of {} own accord; would not say where {} had been.",
                p.their, p.they
            ),
        };
        let offered = self.rng.chance(0.7);
        self.staff_emit(
            t,
            true,
            POLICE,
            Role::Practitioner,
            EventPayload::MissingEpisodeReturned(MissingEpisodeReturned {
                episode_id: episode,
                returned_at: Timestamp::from_utc(dt(t)),
                found_location_id,
                return_interview_offered: offered,
                note: Some(note),
                found_place: None,
                found_by: found.map(|_| "Police patrol".to_owned()),
                found_with_person_id: None,
                found_with,
            }),
        );
        // Children's services are to do the return home interview (due
        // 72 hours after the return); whether it is done follows.
        let social = self.agencies[SOCIAL].code.clone();
        self.staff_emit(
            t,
            true,
            SOCIAL,
            Role::Practitioner,
            EventPayload::ReturnInterviewAssigned(ReturnInterviewAssigned {
                episode_id: episode,
                agency: social,
                worker: None,
            }),
        );
        if self.rng.chance(self.cfg.observation.return_interview) {
            let delay = if self.rng.chance(0.5) {
                self.rng.int(4, 70) * HOUR
            } else {
                self.rng.int(4, 14) * DAY
            };
            self.later(
                t + delay,
                Task::ReturnInterview {
                    child,
                    episode,
                    child_rec,
                },
            );
        }
    }

    fn vehicle_words(&self, vehicle: usize) -> String {
        match &self.w.things[vehicle] {
            Thing::Vehicle {
                make,
                model,
                colour,
                ..
            } => format!("{colour} {make} {model}"),
            _ => "car".into(),
        }
    }

    fn car_seen(&mut self, t: Ts, child: usize, member: usize, vehicle: usize, place: usize) {
        let place_name = self.w.places[place]
            .name
            .clone()
            .unwrap_or_else(|| format!("a house in {}", self.w.places[place].town));
        let vehicle_words = self.vehicle_words(vehicle);
        let time = dt(t).format("%H:%M").to_string();
        if self.rng.chance(self.cfg.observation.police_intelligence) {
            let rec = self.person(POLICE, child, t);
            let v = self.thing(POLICE, vehicle, t);
            let loc = self.place(POLICE, place, t);
            let reg = self.registrations.get(&v).cloned();
            let name = self.name_in(rec, child);
            let mut subjects = vec![person_ref(rec), object_ref(v), location_ref(loc)];
            let mut text = format!(
                "{name} seen getting into a {vehicle_words}, registration {}, outside {place_name} at {time}.",
                reg.unwrap_or_else(|| "not seen".into())
            );
            if self.rng.chance(0.3) {
                let m = self.person(POLICE, member, t);
                subjects.push(person_ref(m));
                let street = self.w.people[member].street_name.unwrap_or("not known");
                text.push_str(&format!(
                    " Driver believed to be the adult known as '{street}'."
                ));
            } else {
                text.push_str(" Driver described as an adult, not known to the caller.");
            }
            let grading = self.grading();
            let new_id = self.rng.uuid();
            let source_ref = format!("SR-{:05}", self.rng.int(1, 99_999));
            self.staff_emit(
                t,
                true,
                POLICE,
                Role::Analyst,
                EventPayload::IntelligenceRecorded(IntelligenceRecorded {
                    intelligence_id: new_id,
                    subjects,
                    text,
                    grading,
                    source_reference: Some(source_ref),
                }),
            );
            let g = self.grading();
            self.link(
                t,
                POLICE,
                LinkKind::SeenIn,
                person_ref(rec),
                object_ref(v),
                Some(g),
            );
        }
        if self.rng.chance(self.cfg.observation.youth_project) {
            let rec = self.person(YOUTH, child, t);
            let name = self.name_in(rec, child);
            let blaming = self.blaming(child, t);
            let mut v = self.values(&name, child);
            v.push(("vehicle", vehicle_words));
            v.push(("place", place_name));
            v.push(("time", time));
            let vv: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
            let note = text::note(NoteKind::Car, blaming, &vv);
            self.note(t, YOUTH, vec![person_ref(rec)], note, blaming);
            if self
                .rng
                .chance(self.cfg.observation.referral_after_observation)
            {
                let blaming = self.blaming(child, t);
                let concern = text::cse_concern(ConcernKind::Car, blaming, &vv);
                self.refer(
                    t + 12 * HOUR,
                    YOUTH,
                    child,
                    rec,
                    concern,
                    blaming,
                    vec![CinFactor::F11A],
                );
            }
        }
    }

    fn sign(&mut self, t: Ts, child: usize, _network: usize, member: usize, kind: SignKind) {
        let (ag, p) = if self.rng.chance(0.5) {
            (self.school_of(child), self.cfg.observation.education)
        } else {
            (YOUTH, self.cfg.observation.youth_project)
        };
        if !self.rng.chance(p) {
            return;
        }
        let rec = self.person(ag, child, t);
        let name = self.name_in(rec, child);
        let pr = text::pron(self.w.people[child].sex);
        let sign = match kind {
            SignKind::NewPhone => "a second mobile phone".to_owned(),
            SignKind::Gifts => "new trainers and expensive clothes".to_owned(),
            SignKind::Money => "large amounts of cash".to_owned(),
            SignKind::OlderBoyfriend => format!(
                "been talking about an older friend who buys {} things",
                pr.them
            ),
            SignKind::PickedUpFromSchool => {
                "been collected from school by an adult in a car".to_owned()
            }
        };
        let street = self.w.people[member]
            .street_name
            .unwrap_or(self.w.people[member].given)
            .to_owned();
        let blaming = self.blaming(child, t);
        let mut v = self.values(&name, child);
        v.push(("sign", sign));
        v.push(("street", street));
        let vv: Vec<(&str, &str)> = v.iter().map(|(k, s)| (*k, s.as_str())).collect();
        let note = text::note(NoteKind::Sign, blaming, &vv);
        self.note(t, ag, vec![person_ref(rec)], note, blaming);
        if self
            .rng
            .chance(self.cfg.observation.referral_after_observation)
        {
            let blaming = self.blaming(child, t);
            let kind = if matches!(kind, SignKind::OlderBoyfriend) {
                ConcernKind::Boyfriend
            } else {
                ConcernKind::Signs
            };
            let concern = text::cse_concern(kind, blaming, &vv);
            self.refer(
                t + 2 * HOUR,
                ag,
                child,
                rec,
                concern,
                blaming,
                vec![CinFactor::F11A],
            );
        }
    }

    fn disclosure(&mut self, t: Ts, child: usize, network: usize) {
        let net = &self.w.networks[network];
        let members = net.members.clone();
        let rec = self.person(POLICE, child, t);
        let n = self.rng.int(1, 3.min(members.len() as i64)) as usize;
        let mut suspects = Vec::new();
        let mut picked = BTreeSet::new();
        while picked.len() < n {
            picked.insert(members[self.rng.index(members.len())]);
        }
        for m in picked {
            let s = self.person(POLICE, m, t);
            if !suspects.contains(&s) {
                suspects.push(s);
            }
        }
        let Some((_, began, _)) = self.w.exploited[child] else {
            return;
        };
        let began_day = date_of(began);
        let age = vigil_model::time::age_on(self.w.people[child].dob, began_day);
        let code = match age {
            ..=12 => *self.rng.pick(&[
                OffenceCode::Soa2003S5,
                OffenceCode::Soa2003S7,
                OffenceCode::Soa2003S8,
            ]),
            13..=15 => *self.rng.pick(&[
                OffenceCode::Soa2003S9,
                OffenceCode::Soa2003S10,
                OffenceCode::Soa2003S14,
                OffenceCode::Soa2003S15,
            ]),
            _ => *self.rng.pick(&[
                OffenceCode::Soa2003S48,
                OffenceCode::Soa2003S49,
                OffenceCode::Soa2003S50,
                OffenceCode::Soa2003S1,
            ]),
        };
        let offence = self.rng.uuid();
        let committed = OccurredAt {
            value: began_day.format("%Y-%m").to_string(),
            precision: Precision::Month,
        };
        let until = OccurredAt::day(
            date_of(t)
                .min(date_of(self.w.exploited[child].map_or(t, |x| x.2)))
                .max(began_day),
        );
        let crime_ref = self.crime_reference(t);
        self.staff_emit(
            t,
            true,
            POLICE,
            Role::Practitioner,
            EventPayload::OffenceRecorded(OffenceRecorded {
                offence_id: offence,
                offence: code,
                description: Some("Disclosed in a video-recorded interview: sexual abuse by several adults over a period of months.".into()),
                victim_ids: vec![rec],
                suspect_ids: suspects.clone(),
                committed,
                committed_until: Some(until),
                location_id: None,
                cse_flag: true,
                crime_reference: Some(crime_ref),
            }),
        );
        for s in &suspects {
            let g = self.grading();
            self.link(
                t,
                POLICE,
                LinkKind::SuspectedOfExploiting,
                person_ref(*s),
                person_ref(rec),
                Some(g),
            );
        }
        let when = t + self.rng.int(30, 300) * DAY;
        self.later(
            when,
            Task::Outcome {
                offence,
                suspects,
                code,
                victim_as_suspect: false,
            },
        );
        if self.rng.chance(0.8) {
            let name = self.name_in(rec, child);
            let concern = format!("{name} has disclosed sexual abuse by several adults (crime reference recorded). Strategy discussion requested.");
            self.refer(
                t + 3 * HOUR,
                POLICE,
                child,
                rec,
                concern,
                false,
                vec![CinFactor::F11A, CinFactor::F19C],
            );
        }
    }

    fn network_intel(&mut self, t: Ts, network: usize) {
        let net = self.w.networks[network].clone();
        let n = self.rng.int(1, 3.min(net.members.len() as i64)) as usize;
        let mut ks: Vec<usize> = Vec::new();
        while ks.len() < n {
            let k = self.rng.index(net.members.len());
            if !ks.contains(&k) {
                ks.push(k);
            }
        }
        let recs: Vec<Uuid> = ks
            .iter()
            .map(|k| self.person(POLICE, net.members[*k], t))
            .collect();
        let mut subjects: Vec<SubjectRef> = recs.iter().map(|r| person_ref(*r)).collect();
        let describe = |p: usize, w: &World| {
            let tp = &w.people[p];
            match tp.street_name {
                Some(s) => format!("{} {} ('{s}')", tp.given, tp.family),
                None => format!("{} {}", tp.given, tp.family),
            }
        };
        let mut text = String::new();
        let first = net.members[ks[0]];
        if ks.len() > 1 {
            let others: Vec<String> = ks[1..]
                .iter()
                .map(|k| describe(net.members[*k], self.w))
                .collect();
            text.push_str(&format!(
                "{} is an associate of {}.",
                describe(first, self.w),
                others.join(" and ")
            ));
        } else {
            text.push_str(&format!("Information about {}.", describe(first, self.w)));
        }
        if self.rng.chance(0.6) {
            let b = *self.rng.pick(&net.businesses);
            let o = self.thing(POLICE, b, t);
            subjects.push(object_ref(o));
            if let Thing::Business { name, .. } = &self.w.things[b] {
                text.push_str(&format!(" They use {name} as a meeting place; young girls and boys are seen there late at night."));
            }
            let g = self.grading();
            self.link(
                t,
                POLICE,
                LinkKind::WorksAt,
                person_ref(recs[0]),
                object_ref(o),
                Some(g),
            );
        }
        if let Some(v) = net.drives[ks[0]] {
            if self.rng.chance(0.6) {
                let o = self.thing(POLICE, v, t);
                if !subjects.iter().any(|s| s.id == o) {
                    subjects.push(object_ref(o));
                }
                text.push_str(&format!(
                    " {} drives a {}.",
                    self.w.people[first].given,
                    self.vehicle_words(v)
                ));
                self.link(
                    t,
                    POLICE,
                    LinkKind::Drives,
                    person_ref(recs[0]),
                    object_ref(o),
                    None,
                );
            }
        }
        if let Some(ph) = net.phones[ks[0]] {
            if self.rng.chance(0.4) {
                let o = self.thing(POLICE, ph, t);
                subjects.push(object_ref(o));
                text.push_str(" The phone they use has been in contact with several children.");
                self.link(
                    t,
                    POLICE,
                    LinkKind::UsesPhone,
                    person_ref(recs[0]),
                    object_ref(o),
                    None,
                );
            }
        }
        if self.rng.chance(0.3) {
            let home = self.w.people[first].home;
            let loc = self.place(POLICE, home, t);
            subjects.push(location_ref(loc));
            text.push_str(" Children are taken to this address, where parties are held.");
            self.link(
                t,
                POLICE,
                LinkKind::LivesAt,
                person_ref(recs[0]),
                location_ref(loc),
                None,
            );
        }
        let grading = self.grading();
        let new_id = self.rng.uuid();
        let source_ref = format!("SR-{:05}", self.rng.int(1, 99_999));
        self.staff_emit(
            t,
            false,
            POLICE,
            Role::Analyst,
            EventPayload::IntelligenceRecorded(IntelligenceRecorded {
                intelligence_id: new_id,
                subjects,
                text,
                grading,
                source_reference: Some(source_ref),
            }),
        );
        for i in 1..recs.len() {
            let (a, b) = (ks[0], ks[i]);
            let family = a < net.relatives && b < net.relatives;
            let g = self.grading();
            let kind = if family {
                LinkKind::FamilyOf
            } else {
                LinkKind::AssociateOf
            };
            if recs[0] != recs[i] {
                self.link(
                    t,
                    POLICE,
                    kind,
                    person_ref(recs[0]),
                    person_ref(recs[i]),
                    Some(g),
                );
            }
        }
    }

    fn decide(
        &mut self,
        t: Ts,
        child: usize,
        referral: Uuid,
        child_rec: Uuid,
        factors: Vec<CinFactor>,
    ) {
        let exploit_concern =
            factors.contains(&CinFactor::F11A) || factors.contains(&CinFactor::F10A);
        let options = [
            ReferralDecision::Assessment,
            ReferralDecision::StrategyDiscussion,
            ReferralDecision::EarlyHelp,
            ReferralDecision::NoFurtherAction,
            ReferralDecision::PassToPolice,
        ];
        let weights = if exploit_concern {
            [0.45, 0.25, 0.1, 0.15, 0.05]
        } else {
            [0.35, 0.0, 0.25, 0.35, 0.05]
        };
        let decision = options[self.rng.weighted(&weights)];
        let reason = (decision == ReferralDecision::NoFurtherAction).then(|| {
            (*self.rng.pick(&[
                "Information shared with the school; no role for children's social care at this time.",
                "Parent is supportive and the concern has been addressed; advice given.",
                "Threshold for statutory intervention not met; signposted to universal services.",
            ]))
            .to_owned()
        });
        let user = format!("triage.{:03}", self.rng.int(1, 6));
        self.emit(
            t,
            true,
            SOCIAL,
            Role::Triage,
            user,
            EventPayload::ReferralDecided(ReferralDecided {
                referral_id: referral,
                decision,
                reason,
            }),
        );
        match decision {
            ReferralDecision::StrategyDiscussion => {
                self.later(
                    t + 4 * HOUR,
                    Task::Strategy {
                        referral,
                        child_rec,
                    },
                );
                let when = t + self.rng.int(10, 45) * DAY;
                self.later(
                    when,
                    Task::Assess {
                        child,
                        referral,
                        child_rec,
                        factors,
                    },
                );
            }
            ReferralDecision::Assessment => {
                let when = t + self.rng.int(10, 60) * DAY;
                self.later(
                    when,
                    Task::Assess {
                        child,
                        referral,
                        child_rec,
                        factors,
                    },
                );
            }
            _ => {}
        }
    }

    fn assess(
        &mut self,
        t: Ts,
        child: usize,
        referral: Uuid,
        child_rec: Uuid,
        factors: Vec<CinFactor>,
    ) {
        let exploited = self.w.exploited_at(child, t).is_some();
        let mut found: Vec<CinFactor> = Vec::new();
        if exploited {
            found.push(CinFactor::F11A);
            found.push(CinFactor::F10A);
            for f in [CinFactor::F2A, CinFactor::F1A, CinFactor::F15A] {
                if self.rng.chance(0.3) {
                    found.push(f);
                }
            }
        } else if self.rng.chance(0.8) {
            for f in factors {
                if !found.contains(&f) {
                    found.push(f);
                }
            }
        }
        if found.is_empty() {
            found.push(CinFactor::F21);
        }
        let needs_case = found != [CinFactor::F21];
        let summary = if needs_case {
            "Assessment completed; needs identified and a plan agreed with the family."
        } else {
            "Assessment completed; no factors identified."
        };
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Practitioner,
            EventPayload::AssessmentCompleted(AssessmentCompleted {
                referral_id: referral,
                factors: found,
                summary: Some(summary.into()),
            }),
        );
        if !needs_case {
            return;
        }
        if let Some(c) = self.cases.get(&child) {
            // Already open: a child being exploited may be stepped up.
            if exploited && c.level < CaseLevel::ChildProtection && self.rng.chance(0.4) {
                let case = c.id;
                let when = t + self.rng.int(14, 45) * DAY;
                self.later(when, Task::StepUp { child, case });
            }
            return;
        }
        let level = if exploited {
            if self.rng.chance(0.4) {
                CaseLevel::ChildProtection
            } else {
                CaseLevel::ChildInNeed
            }
        } else {
            [
                CaseLevel::ChildInNeed,
                CaseLevel::ChildProtection,
                CaseLevel::EarlyHelp,
            ][self.rng.weighted(&[0.7, 0.2, 0.1])]
        };
        let case = self.rng.uuid();
        let reason = if exploited {
            "Child at risk of sexual exploitation: repeated missing episodes, older adults and vehicles named."
        } else {
            "Needs identified at assessment."
        };
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Supervisor,
            EventPayload::CaseOpened(CaseOpened {
                case_id: case,
                child_id: Some(child_rec),
                context: None,
                level,
                reason: reason.into(),
                referral_id: Some(referral),
                lead_agency: None,
                worker: None,
                agencies: Vec::new(),
                risk: None,
                risk_reason: None,
            }),
        );
        self.cases.insert(
            child,
            OpenCase {
                id: case,
                child_rec,
                level,
            },
        );
        // A parent is recorded with the case.
        if let Some(hh) = self.w.people[child].household {
            if let Some(&parent) = self.w.parents[hh].first() {
                let pr = self.person(SOCIAL, parent, t);
                self.link(
                    t,
                    SOCIAL,
                    LinkKind::FamilyOf,
                    person_ref(child_rec),
                    person_ref(pr),
                    None,
                );
            }
        }
        let close_at = if exploited {
            let mace = t + self.rng.int(14, 28) * DAY;
            self.later(mace, Task::Mace { child, case });
            if level == CaseLevel::ChildInNeed && self.rng.chance(0.4) {
                let up = t + self.rng.int(30, 60) * DAY;
                self.later(up, Task::StepUp { child, case });
            }
            if self
                .rng
                .chance(self.cfg.failures.case_closed_while_indicators_continue)
            {
                t + self.rng.int(60, 150) * DAY
            } else {
                let ends = self.w.exploited[child].map_or(t, |x| x.2);
                (ends + self.rng.int(30, 90) * DAY).max(t + 90 * DAY)
            }
        } else {
            t + self.rng.int(90, 365) * DAY
        };
        self.later(close_at, Task::CloseCase { child, case });
    }

    fn close_case(&mut self, t: Ts, child: usize, case: Uuid) {
        let Some(c) = self.cases.get(&child) else {
            return;
        };
        if c.id != case {
            return;
        }
        let child_rec = c.child_rec;
        let still_exploited = self.w.exploited_at(child, t).is_some();
        let name = self.name_in(child_rec, child);
        let reason = if still_exploited {
            (*self.rng.pick(&[
                "{name} is engaging well and the concerns have reduced; case closed.",
                "{name} is refusing to engage with services; no further role for children's social care.",
                "Family do not want further support; case closed.",
            ]))
            .replace("{name}", &name)
        } else {
            "Plan completed; concerns addressed.".to_owned()
        };
        self.staff_emit(
            t,
            false,
            SOCIAL,
            Role::Supervisor,
            EventPayload::CaseClosed(CaseClosed {
                case_id: case,
                child_id: Some(child_rec),
                reason,
                sign_off: None,
            }),
        );
        if still_exploited {
            self.failures.cases_closed_while_exploited.push(case);
        }
        self.cases.remove(&child);
    }
}

fn exact_lines(a: &Address) -> Vec<String> {
    a.lines()
}

fn person_ref(id: Uuid) -> SubjectRef {
    SubjectRef::new(EntityKind::Person, id)
}
fn object_ref(id: Uuid) -> SubjectRef {
    SubjectRef::new(EntityKind::Object, id)
}
fn location_ref(id: Uuid) -> SubjectRef {
    SubjectRef::new(EntityKind::Location, id)
}
