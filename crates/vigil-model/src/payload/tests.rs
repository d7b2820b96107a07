//! Tests of every event kind: round trips, validation sentences, hostile
//! input, and projection sequences with their refusals.

use super::*;
use crate::codes::*;
use crate::dates::{Date, DateOfBirth, Timestamp};
use crate::event::{Actor, EventInput};
use crate::pole::*;
use crate::projection::{apply, MemoryProjection};
use crate::state::*;
use crate::time::Precision;
use proptest::prelude::*;
use serde_json::{json, Value};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn day(s: &str) -> OccurredAt {
    OccurredAt {
        value: s.into(),
        precision: Precision::Day,
    }
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

const AGENCY: u128 = 0x1;
const JADE: u128 = 0x10;
const TYLER: u128 = 0x11;
const LIAM: u128 = 0x12;
const MIA: u128 = 0x13;
const CAR: u128 = 0x20;
const PHONE: u128 = 0x21;
const HOME: u128 = 0x30;
const HOTEL: u128 = 0x31;
const LINK: u128 = 0x40;
const REFERRAL: u128 = 0x50;
const EPISODE: u128 = 0x60;
const PLACEMENT: u128 = 0x70;
const ALLOCATION: u128 = 0x80;
const INTEL: u128 = 0x90;
const OFFENCE: u128 = 0xA0;
const MEETING: u128 = 0xB0;
const CASE: u128 = 0xC0;
/// A contextual case (on the hotel).
const PLACE_CASE: u128 = 0xC1;
const PANEL: u128 = 0xB8;

fn pref(kind: EntityKind, n: u128) -> SubjectRef {
    SubjectRef::new(kind, id(n))
}

fn jade() -> Person {
    Person {
        person_id: id(JADE),
        names: vec![
            PersonName::new("Jade", "Example", NameKind::Birth),
            PersonName::new("Jadey", "", NameKind::Nickname),
        ],
        date_of_birth: Some(DateOfBirth {
            value: "2010-03-14".into(),
            precision: Precision::Day,
        }),
        sex: Some(Sex::Female),
        ethnicity_self_defined: Some(EthnicityRecord::new(
            SelfDefinedEthnicity::W1,
            EthnicitySource::Person,
        )),
        ethnicity_officer_observed: Some(EthnicityRecord::new(
            ObservedEthnicity::Ic1,
            EthnicitySource::Observed,
        )),
        ethnicity_dfe: Some(EthnicityRecord::new(
            DfeEthnicity::Wbri,
            EthnicitySource::ParentOrCarer,
        )),
        nationalities: vec![Nationality::GB],
        disability: Some(Disability::No),
        description: Some("Slim, shoulder-length brown hair".into()),
    }
}

fn adult(n: u128, given: &str, family: &str) -> Person {
    let mut p = Person::named(id(n), given, family);
    p.date_of_birth = Some(DateOfBirth {
        value: "2000".into(),
        precision: Precision::Year,
    });
    p.sex = Some(Sex::Male);
    p
}

fn car() -> Object {
    Object {
        object_id: id(CAR),
        kind: ObjectKind::Vehicle,
        details: ObjectDetails {
            registration: Some("NS19 ?KT".into()),
            make: Some("Vauxhall".into()),
            colour: Some("silver".into()),
            ..Default::default()
        },
    }
}

fn phone() -> Object {
    Object {
        object_id: id(PHONE),
        kind: ObjectKind::Phone,
        details: ObjectDetails {
            phone_number: Some("07700 900123".into()),
            ..Default::default()
        },
    }
}

fn place(n: u128, kind: LocationKind, name: &str, postcode: &str) -> Location {
    Location {
        location_id: id(n),
        kind,
        details: LocationDetails {
            name: Some(name.into()),
            postcode: Some(postcode.into()),
            ..Default::default()
        },
    }
}

fn grading_c() -> Grading {
    Grading {
        source: SourceEvaluation::Untested,
        intelligence: IntelligenceAssessment::C,
        handling: HandlingCode::C,
        conditions: Some("Not to be disclosed to the family".into()),
    }
}

/// One coherent story holding every kind at least once, in an order in
/// which each event's references resolve.
fn samples() -> Vec<EventPayload> {
    use EventPayload as E;
    vec![
        E::AgencyRegistered(AgencyRegistered {
            agency_id: id(AGENCY),
            code: AgencyId::new("northshire-police").unwrap(),
            name: "Northshire Police".into(),
            kind: AgencyKind::Police,
        }),
        E::UserRegistered(UserRegistered {
            user_id: user_id_for("triage.02"),
            username: "triage.02".into(),
            name: "Sam Tester".into(),
            role: Role::Triage,
            agency_id: id(AGENCY),
        }),
        E::UserRoleChanged(UserRoleChanged {
            user_id: user_id_for("triage.02"),
            role: Role::Supervisor,
            reason: "Promoted to MASH team manager".into(),
        }),
        E::UserPasswordReset(UserPasswordReset {
            user_id: user_id_for("triage.02"),
            reason: "Forgot the password; identity checked in person".into(),
        }),
        E::UserDisabled(UserDisabled {
            user_id: user_id_for("triage.02"),
            reason: "Left the MASH".into(),
        }),
        E::AccessLogCheckpointed(AccessLogCheckpointed {
            rows: 120,
            head_sha256: "3f".repeat(32),
        }),
        E::PersonRecorded(jade()),
        E::PersonRecorded(adult(TYLER, "Tyler", "Sample")),
        E::PersonRecorded(adult(LIAM, "Liam", "Placeholder")),
        E::PersonRecorded(Person::named(id(MIA), "Mia", "Specimen")),
        E::PersonAmended(PersonAmendment {
            person_id: id(TYLER),
            reason: "Street name given by two witnesses".into(),
            add_names: vec![PersonName::new("T", "", NameKind::StreetName)],
            remove_names: vec![],
            date_of_birth: Some(DateOfBirth {
                value: "1999-11-02".into(),
                precision: Precision::Day,
            }),
            sex: None,
            ethnicity_self_defined: Some(EthnicityRecord::new(
                SelfDefinedEthnicity::NS,
                EthnicitySource::Person,
            )),
            ethnicity_officer_observed: None,
            ethnicity_dfe: None,
            nationalities: Some(vec![Nationality::GB]),
            disability: None,
            description: None,
        }),
        E::ObjectRecorded(car()),
        E::ObjectRecorded(phone()),
        E::ObjectAmended(ObjectAmended {
            object_id: id(CAR),
            reason: "Full registration from ANPR".into(),
            details: ObjectDetails {
                registration: Some("NS19 KTX".into()),
                ..Default::default()
            },
        }),
        E::LocationRecorded(place(HOME, LocationKind::Home, "Jade's home", "NS1 4AB")),
        E::LocationRecorded(place(HOTEL, LocationKind::Hotel, "Northshire Lodge", "NS3")),
        E::LocationAmended(LocationAmended {
            location_id: id(HOTEL),
            reason: "Full postcode confirmed".into(),
            kind: None,
            details: LocationDetails {
                postcode: Some("NS3 7EF".into()),
                ..Default::default()
            },
        }),
        E::LinkRecorded(LinkRecorded {
            link_id: id(LINK),
            kind: LinkKind::Drives,
            from: pref(EntityKind::Person, TYLER),
            to: pref(EntityKind::Object, CAR),
            since: Some(OccurredAt {
                value: "2024-01".into(),
                precision: Precision::Month,
            }),
            until: None,
            grading: Some(grading_c()),
            note: Some("Seen driving it outside the school twice".into()),
        }),
        E::LinkRecorded(LinkRecorded {
            link_id: id(LINK + 1),
            kind: LinkKind::UsesPhone,
            from: pref(EntityKind::Person, TYLER),
            to: pref(EntityKind::Object, PHONE),
            since: None,
            until: None,
            grading: None,
            note: None,
        }),
        E::LinkEnded(LinkEnded {
            link_id: id(LINK + 1),
            reason: "Number no longer in use".into(),
            until: Some(day("2024-06-01")),
        }),
        E::ReferralSubmitted(ReferralSubmitted {
            referral_id: id(REFERRAL),
            child_id: id(JADE),
            referrer: Some(Referrer {
                name: None,
                role: Some("Designated safeguarding lead".into()),
                organisation: Some("Oakfield Academy".into()),
                phone: None,
                email: Some("dsl@oakfield.example".into()),
            }),
            concern: "Jade has been seen getting into a silver car with an older man after school."
                .into(),
            what_seen: Some("New phone and clothes; tired and withdrawn in lessons.".into()),
            location_id: Some(id(HOME)),
            location_text: None,
            others_involved: vec![id(TYLER)],
            immediate_danger: false,
            police_called: None,
            call_back_on: Some("01632 960 123".into()),
        }),
        E::ReferralInformationAdded(ReferralInformationAdded {
            referral_id: id(REFERRAL),
            child_id: id(JADE),
            information: "She was collected again today by the same silver car.".into(),
        }),
        E::ReferralEscalated(ReferralEscalated {
            referral_id: id(REFERRAL),
            level: EscalationLevel::Supervisor,
            due_by: date("2024-02-06"),
            working_days_overdue: 1,
        }),
        E::ReferralDecided(ReferralDecided {
            referral_id: id(REFERRAL),
            decision: ReferralDecision::StrategyDiscussion,
            reason: None,
        }),
        E::AssessmentCompleted(AssessmentCompleted {
            referral_id: id(REFERRAL),
            factors: vec![CinFactor::F11A, CinFactor::F10A],
            summary: Some("Exploitation concerns confirmed.".into()),
        }),
        E::MissingEpisodeRecorded(MissingEpisodeRecorded {
            episode_id: id(EPISODE),
            child_id: id(JADE),
            missing_type: MissingType::Missing,
            started_at: ts("2024-03-15T19:30:00Z"),
            ended_at: None,
            reported_by: Some("Mother".into()),
            circumstances: None,
            placement_id: None,
        }),
        E::MissingEpisodeReturned(MissingEpisodeReturned {
            episode_id: id(EPISODE),
            returned_at: ts("2024-03-16T02:10:00Z"),
            found_location_id: Some(id(HOTEL)),
            return_interview_offered: true,
            note: None,
            found_place: Some("Station Road taxi rank".into()),
            found_by: Some("Police".into()),
            found_with_person_id: None,
            found_with: Some("Two older males in a silver car".into()),
        }),
        E::ReturnInterviewAssigned(ReturnInterviewAssigned {
            episode_id: id(EPISODE),
            agency: AgencyId::new("northshire-cs").unwrap(),
            worker: Some("sam.patel".into()),
        }),
        E::ReturnInterviewRecorded(ReturnInterviewRecorded {
            episode_id: id(EPISODE),
            outcome: InterviewOutcome::Held,
            held_at: ts("2024-03-17T16:00:00Z"),
            by_whom: "Sam Patel, youth worker".into(),
            where_held: Some("At home".into()),
            child_said: Some("She said she was at a friend's flat.".into()),
        }),
        E::PlacementStarted(PlacementStarted {
            placement_id: id(PLACEMENT),
            child_id: id(JADE),
            placement_type: PlacementType::K2,
            location_id: None,
            started_on: date("2024-05-01"),
            reason: None,
        }),
        E::PlacementEnded(PlacementEnded {
            placement_id: id(PLACEMENT),
            ended_on: date("2025-01-15"),
            reason: Some("Moved to a foster placement".into()),
        }),
        E::AllocationRecorded(AllocationRecorded {
            allocation_id: id(ALLOCATION),
            child_id: id(JADE),
            worker: "social.worker.07".into(),
            team: "Exploitation team".into(),
            started_on: date("2024-02-09"),
        }),
        E::AllocationEnded(AllocationEnded {
            allocation_id: id(ALLOCATION),
            ended_on: date("2024-09-30"),
            reason: None,
        }),
        E::IntelligenceRecorded(IntelligenceRecorded {
            intelligence_id: id(INTEL),
            subjects: vec![
                pref(EntityKind::Person, TYLER),
                pref(EntityKind::Object, CAR),
                pref(EntityKind::Location, HOTEL),
            ],
            text: "The car has been seen at the hotel late at night with girls of school age."
                .into(),
            grading: grading_c(),
            source_reference: Some("INT/2024/0042".into()),
        }),
        E::OffenceRecorded(OffenceRecorded {
            offence_id: id(OFFENCE),
            offence: OffenceCode::Soa2003S9,
            description: None,
            victim_ids: vec![id(JADE)],
            suspect_ids: vec![id(TYLER)],
            committed: OccurredAt {
                value: "2024-03".into(),
                precision: Precision::Month,
            },
            committed_until: None,
            location_id: Some(id(HOTEL)),
            cse_flag: true,
            crime_reference: Some("NP/24/01234".into()),
        }),
        E::OffenceOutcomeRecorded(OffenceOutcomeRecorded {
            offence_id: id(OFFENCE),
            outcome: OffenceOutcome::Charge,
            suspect_id: Some(id(TYLER)),
            charged_offence: Some(OffenceCode::Soa2003S9),
            reason: None,
        }),
        E::MeetingRecorded(MeetingRecorded {
            meeting_id: id(MEETING),
            kind: MeetingKind::ReturnHomeInterview,
            child_id: id(JADE),
            attendees: vec![AgencyId::new("riverside-youth-project").unwrap()],
            decisions: "Jade said she was at a party at the hotel.".into(),
            missing_episode_id: Some(id(EPISODE)),
            referral_id: Some(id(REFERRAL)),
            case_id: None,
        }),
        E::CaseOpened(CaseOpened {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            context: None,
            level: CaseLevel::ChildInNeed,
            reason: "Exploitation concerns".into(),
            referral_id: Some(id(REFERRAL)),
            lead_agency: None,
            worker: None,
            agencies: Vec::new(),
            risk: None,
            risk_reason: None,
        }),
        E::MeetingHeld(MeetingHeld {
            meeting_id: id(PANEL),
            kind: MeetingKind::MultiAgencyExploitation,
            chair: "DI Alex Example".into(),
            attendees: vec![
                MeetingAttendee {
                    name: "DI Alex Example".into(),
                    agency: AgencyId::new("northshire-police").unwrap(),
                },
                MeetingAttendee {
                    name: "Sam Placeholder".into(),
                    agency: AgencyId::new("riverside-youth-project").unwrap(),
                },
            ],
            cases: vec![CaseDiscussed {
                case_id: id(CASE),
                child_id: Some(id(JADE)),
                decision: "Disruption of the hotel; youth worker to visit weekly.".into(),
            }],
        }),
        E::CaseLevelChanged(CaseLevelChanged {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            level: CaseLevel::ChildProtection,
            reason: "Second missing episode; hotel intelligence".into(),
        }),
        E::CaseAllocated(CaseAllocated {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            worker: "social.worker.07".into(),
            lead_agency: None,
            reason: "Allocated at the strategy discussion".into(),
        }),
        E::CaseAgencyAdded(CaseAgencyAdded {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            agency: AgencyId::new("riverside-youth-project").unwrap(),
            reason: Some("Youth worker knows Jade".into()),
        }),
        E::CaseAgencyRemoved(CaseAgencyRemoved {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            agency: AgencyId::new("riverside-youth-project").unwrap(),
            reason: "Youth project closed its involvement".into(),
        }),
        E::CaseRiskChanged(CaseRiskChanged {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            risk: RiskLevel::High,
            reason: "Seen getting into cars with adults".into(),
        }),
        E::CaseActionAdded(CaseActionAdded {
            case_id: id(CASE),
            action_id: id(0xAC),
            text: "Visit Jade at the placement".into(),
            owner: "social.worker.07".into(),
            due: Date::parse("2024-04-01").unwrap(),
            meeting_id: Some(id(MEETING)),
        }),
        E::CaseActionClosed(CaseActionClosed {
            case_id: id(CASE),
            action_id: id(0xAC),
            status: ActionStatus::Done,
            note: "Visited; Jade spoke about the hotel".into(),
        }),
        E::CaseClosureRequested(CaseClosureRequested {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            reason: "Risk reduced".into(),
            concerns: vec!["An action is still open".into()],
        }),
        E::CaseClosureDeclined(CaseClosureDeclined {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            note: "Wait for the return home interview first".into(),
        }),
        E::CaseClosed(CaseClosed {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            sign_off: None,
            reason: "Settled in foster care; risk reduced; support from youth project continues"
                .into(),
        }),
        // A contextual case: on the hotel, with children linked to it.
        E::CaseOpened(CaseOpened {
            case_id: id(PLACE_CASE),
            child_id: None,
            context: Some(CaseContext::Place {
                location_id: id(HOTEL),
            }),
            level: CaseLevel::Exploitation,
            reason: "Several children seen at the hotel late at night".into(),
            referral_id: None,
            lead_agency: None,
            worker: None,
            agencies: Vec::new(),
            risk: Some(RiskLevel::High),
            risk_reason: Some("Adults seen taking children into rooms".into()),
        }),
        E::CaseChildLinked(CaseChildLinked {
            case_id: id(PLACE_CASE),
            child_id: id(JADE),
            reason: "Seen at the hotel twice in March".into(),
        }),
        E::CaseChildLinked(CaseChildLinked {
            case_id: id(PLACE_CASE),
            child_id: id(MIA),
            reason: "Named by Jade as going there too".into(),
        }),
        E::CaseChildUnlinked(CaseChildUnlinked {
            case_id: id(PLACE_CASE),
            child_id: id(MIA),
            reason: "Mia was at school on both days: it was another girl".into(),
        }),
        E::NoteRecorded(NoteRecorded {
            subjects: vec![pref(EntityKind::Person, JADE), pref(EntityKind::Case, CASE)],
            text:
                "Home visit. Jade said: \"he's my boyfriend\" — quoted.\n<b>not markup</b> \u{202e}"
                    .into(),
        }),
        E::ScreeningRecorded(screening()),
        E::PersonMatchScored(scored(MIA, JADE, 650_000)),
        E::PersonMatchRejected(PersonMatchRejected {
            person_a: id(JADE),
            person_b: id(MIA),
            probability_ppm: Some(650_000),
            reason: Some("Different schools and a different mother".into()),
        }),
        E::PersonMatchConfirmed(PersonMatchConfirmed {
            person_a: id(MIA),
            person_b: id(JADE),
            probability_ppm: None,
            reason: Some("The school confirmed Mia is Jade's second name".into()),
        }),
        E::PersonMatchUndone(PersonMatchUndone {
            person_a: id(JADE),
            person_b: id(MIA),
            reason: "Confirmed in error: twins".into(),
        }),
        E::AlertRaised(alert_raised()),
        E::AlertSeen(AlertSeen {
            alert_id: id(ALERT),
            child_id: id(JADE),
        }),
        E::AlertAcknowledged(AlertAcknowledged {
            alert_id: id(ALERT),
            child_id: id(JADE),
            note: "Strategy discussion booked for tomorrow".into(),
        }),
        E::AlertResolved(AlertResolved {
            alert_id: id(ALERT),
            child_id: id(JADE),
            note: "Safety plan agreed; episodes reviewed at the meeting".into(),
        }),
    ]
}

const ALERT: u128 = 0xE0;

fn alert_raised() -> AlertRaised {
    AlertRaised {
        alert_id: id(ALERT),
        rule: "repeated-missing".into(),
        severity: crate::codes::AlertSeverity::High,
        child_id: id(JADE),
        says: "Missing three or more times in 30 days".into(),
        events: vec![id(0xE1), id(0xE2), id(0xE3)],
    }
}

const SCREENING: u128 = 0xD0;

/// A screening of Jade: three indicators yes, two no with a source, the
/// rest not known; judged as the answers support, with a note.
fn screening() -> ScreeningRecorded {
    let answers = Indicator::ALL
        .iter()
        .map(|i| {
            let (answer, known_on, source) = match i {
                Indicator::Missing | Indicator::OlderPartner => (
                    ScreeningAnswer::Yes,
                    Some(date("2025-05-20")),
                    Some("Missing episode record, 20 May".to_owned()),
                ),
                Indicator::CarsWithAdults => (
                    ScreeningAnswer::Yes,
                    Some(date("2025-05-28")),
                    Some("Youth worker saw her get into a car".to_owned()),
                ),
                Indicator::SchoolAbsence => (
                    ScreeningAnswer::No,
                    Some(date("2025-05-30")),
                    Some("School attendance officer".to_owned()),
                ),
                Indicator::LookedAfter => (ScreeningAnswer::No, None, None),
                _ => (ScreeningAnswer::NotKnown, None, None),
            };
            IndicatorAnswer {
                indicator: *i,
                answer,
                known_on,
                source,
            }
        })
        .collect();
    ScreeningRecorded {
        screening_id: id(SCREENING),
        child_id: id(JADE),
        case_id: Some(id(CASE)),
        referral_id: Some(id(REFERRAL)),
        answers,
        supported_risk: RiskLevel::High,
        risk_rule: "vigil-cse-screening-1".into(),
        judged_risk: RiskLevel::High,
        reason: Some("Agree: the car and the older man are the main worry".into()),
    }
}

fn scored(a: u128, b: u128, ppm: u32) -> PersonMatchScored {
    PersonMatchScored {
        person_a: id(a),
        person_b: id(b),
        probability_ppm: ppm,
        threshold_ppm: 500_000,
        model: "test-model".into(),
        model_version: "1".into(),
        explanation: vec![FieldWeight {
            field: "family name".into(),
            level: "exact".into(),
            weight_milli: 4_250,
        }],
    }
}

/// Exhaustive on purpose (no `_` arm): a new kind does not compile until it
/// is given its position in `ALL_KINDS` here, and the tests below then ask
/// for a sample of it.
fn ordinal(p: &EventPayload) -> usize {
    use EventPayload as E;
    match p {
        E::AgencyRegistered(_) => 0,
        E::PersonRecorded(_) => 1,
        E::PersonAmended(_) => 2,
        E::ObjectRecorded(_) => 3,
        E::ObjectAmended(_) => 4,
        E::LocationRecorded(_) => 5,
        E::LocationAmended(_) => 6,
        E::LinkRecorded(_) => 7,
        E::LinkEnded(_) => 8,
        E::ReferralSubmitted(_) => 9,
        E::ReferralDecided(_) => 10,
        E::ReferralEscalated(_) => 11,
        E::ReferralInformationAdded(_) => 12,
        E::AssessmentCompleted(_) => 13,
        E::MissingEpisodeRecorded(_) => 14,
        E::MissingEpisodeReturned(_) => 15,
        E::ReturnInterviewAssigned(_) => 16,
        E::ReturnInterviewRecorded(_) => 17,
        E::PlacementStarted(_) => 18,
        E::PlacementEnded(_) => 19,
        E::AllocationRecorded(_) => 20,
        E::AllocationEnded(_) => 21,
        E::IntelligenceRecorded(_) => 22,
        E::OffenceRecorded(_) => 23,
        E::OffenceOutcomeRecorded(_) => 24,
        E::MeetingRecorded(_) => 25,
        E::CaseOpened(_) => 26,
        E::CaseLevelChanged(_) => 27,
        E::CaseClosed(_) => 28,
        E::CaseAllocated(_) => 29,
        E::CaseAgencyAdded(_) => 30,
        E::CaseAgencyRemoved(_) => 31,
        E::CaseRiskChanged(_) => 32,
        E::CaseActionAdded(_) => 33,
        E::CaseActionClosed(_) => 34,
        E::CaseClosureRequested(_) => 35,
        E::CaseClosureDeclined(_) => 36,
        E::CaseChildLinked(_) => 37,
        E::CaseChildUnlinked(_) => 38,
        E::NoteRecorded(_) => 39,
        E::ScreeningRecorded(_) => 40,
        E::PersonMatchScored(_) => 41,
        E::PersonMatchConfirmed(_) => 42,
        E::PersonMatchRejected(_) => 43,
        E::PersonMatchUndone(_) => 44,
        E::UserRegistered(_) => 45,
        E::UserRoleChanged(_) => 46,
        E::UserDisabled(_) => 47,
        E::UserPasswordReset(_) => 48,
        E::AccessLogCheckpointed(_) => 49,
        E::AlertRaised(_) => 50,
        E::AlertSeen(_) => 51,
        E::AlertAcknowledged(_) => 52,
        E::AlertResolved(_) => 53,
        E::MeetingHeld(_) => 54,
    }
}

#[test]
fn all_kinds_lists_every_variant_once() {
    let samples = samples();
    let mut seen = std::collections::BTreeSet::new();
    for s in &samples {
        assert_eq!(EventPayload::ALL_KINDS[ordinal(s)], s.kind());
        seen.insert(ordinal(s));
    }
    assert_eq!(
        seen.len(),
        EventPayload::ALL_KINDS.len(),
        "samples() needs one of every kind"
    );
    let unique: std::collections::BTreeSet<_> = EventPayload::ALL_KINDS.iter().collect();
    assert_eq!(unique.len(), EventPayload::ALL_KINDS.len());
    for k in EventPayload::ALL_KINDS {
        let (noun, verb) = k.split_once('.').expect("noun.verb_past");
        assert!(!noun.is_empty() && !verb.is_empty(), "{k}");
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.'),
            "{k}"
        );
    }
}

#[test]
fn every_kind_round_trips() {
    for s in samples() {
        s.validate(&day("2025-06-01"), now())
            .unwrap_or_else(|e| panic!("{}: {e}", s.kind()));
        // serde with the tag
        let tagged = serde_json::to_string(&s).unwrap();
        let back: EventPayload = serde_json::from_str(&tagged).unwrap();
        assert_eq!(back, s, "{}", s.kind());
        // the stored form: kind + canonical payload
        let json = s.payload_json().unwrap();
        let back = EventPayload::from_kind_and_json(s.kind(), &json).unwrap();
        assert_eq!(back, s, "{}", s.kind());
        assert_eq!(
            back.payload_json().unwrap(),
            json,
            "{} canonical form is stable",
            s.kind()
        );
        assert!(!s.subjects().is_empty(), "{}", s.kind());
        assert_eq!(s.schema(), 1);
    }
}

#[test]
fn unknown_kind_and_unknown_fields_are_refused() {
    let e = EventPayload::from_kind_and_json("person.deleted", "{}")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "'person.deleted' is not a kind of event Vigil records");
    let e = EventPayload::from_kind_and_json(
        "referral.decided",
        r#"{"referral_id":"00000000-0000-0000-0000-000000000050","decision":"assessment","colour":"red"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown field `colour`"), "{e}");
    // Flattened detail structs refuse unknown fields too.
    let e = EventPayload::from_kind_and_json(
        "object.recorded",
        r#"{"object_id":"00000000-0000-0000-0000-000000000020","kind":"vehicle","registration":"AB12 CDE","wheels":4}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("wheels"), "{e}");
    let e = EventPayload::from_kind_and_json(
        "referral.decided",
        r#"{"referral_id":"00000000-0000-0000-0000-000000000050","decision":"close_it"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "'close_it' is not a referral decision; use one of no_further_action, early_help"
        ),
        "{e}"
    );
}

/// Every string in a payload, replaced by something hostile, is either
/// refused with a short sentence or accepted; nothing panics, and NUL,
/// empty, blank and huge strings are always refused.
#[test]
fn hostile_strings_in_every_field() {
    fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::String(_) => out.push(at),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let mut p = at.clone();
                    p.push(i.to_string());
                    paths(x, p, out);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    let mut p = at.clone();
                    p.push(k.clone());
                    paths(x, p, out);
                }
            }
            _ => {}
        }
    }
    fn set(v: &mut Value, path: &[String], new: &str) {
        let mut cur = v;
        for k in path {
            cur = match cur {
                Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
                Value::Object(m) => m.get_mut(k).unwrap(),
                _ => unreachable!(),
            };
        }
        *cur = Value::String(new.into());
    }
    let huge = "A".repeat(300_000);
    let always_refused = ["", " \t ", "a\0b", "a\u{1}b", huge.as_str()];
    let hostile = [
        "<script>alert(1)</script>",
        "abc\u{202e}fed",
        "Robert'); DROP TABLE people;--",
        "\u{feff}",
        "💥",
        "\\u0000",
    ];
    let mut checked = 0;
    for s in samples() {
        let base: Value = serde_json::from_str(&s.payload_json().unwrap()).unwrap();
        let mut ps = Vec::new();
        paths(&base, Vec::new(), &mut ps);
        for path in ps {
            for (bad, must_fail) in always_refused
                .iter()
                .map(|b| (*b, true))
                .chain(hostile.iter().map(|b| (*b, false)))
            {
                let mut v = base.clone();
                set(&mut v, &path, bad);
                let result = EventPayload::from_kind_and_json(s.kind(), &v.to_string())
                    .and_then(|p| p.validate(&day("2025-06-01"), now()).map(|_| p));
                match result {
                    Ok(p) => {
                        assert!(
                            !must_fail,
                            "{} {path:?} accepted {:?}",
                            s.kind(),
                            crate::time::truncate(bad)
                        );
                        p.payload_json().expect("accepted payloads canonicalise");
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        assert!(
                            msg.len() < 600,
                            "{} {path:?}: message too long: {}",
                            s.kind(),
                            crate::time::truncate(&msg)
                        );
                        assert!(!msg.is_empty());
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

// ---------------------------------------------------------------------------
// Validation: each rule, with the sentence it gives
// ---------------------------------------------------------------------------

fn invalid(p: EventPayload) -> String {
    p.validate(&day("2025-06-01"), now())
        .expect_err("should be refused")
        .to_string()
}

fn sample(kind: &str) -> EventPayload {
    samples().into_iter().find(|s| s.kind() == kind).unwrap()
}

#[test]
fn person_validation() {
    let mut p = jade();
    p.date_of_birth = Some(DateOfBirth {
        value: "2026-02-01".into(),
        precision: Precision::Day,
    });
    assert_eq!(
        invalid(EventPayload::PersonRecorded(p)),
        "the date of birth 2026-02-01 is in the future"
    );
    let mut p = jade();
    p.names.clear();
    p.description = None;
    assert!(invalid(EventPayload::PersonRecorded(p)).contains("at least one name"));
    let e = EventPayload::from_kind_and_json(
        "person.recorded",
        r#"{"person_id":"00000000-0000-0000-0000-000000000010","names":[{"given":"Jade","kind":"birth"}],"ethnicity_officer_observed":{"code":"IC7","source":"observed"}}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("'IC7' is not an officer-observed ethnicity code (IC code); use one of IC1"),
        "{e}"
    );
    let mut a = match sample("person.amended") {
        EventPayload::PersonAmended(a) => a,
        _ => unreachable!(),
    };
    a.reason = "".into();
    assert_eq!(
        invalid(EventPayload::PersonAmended(a.clone())),
        "the reason for the change is empty"
    );
    let only_reason = PersonAmendment {
        person_id: id(TYLER),
        reason: "nothing".into(),
        add_names: vec![],
        remove_names: vec![],
        date_of_birth: None,
        sex: None,
        ethnicity_self_defined: None,
        ethnicity_officer_observed: None,
        ethnicity_dfe: None,
        nationalities: None,
        disability: None,
        description: None,
    };
    assert_eq!(
        invalid(EventPayload::PersonAmended(only_reason)),
        "the amendment changes nothing"
    );
}

#[test]
fn missing_episode_validation() {
    let EventPayload::MissingEpisodeRecorded(mut m) = sample("missing_episode.recorded") else {
        unreachable!()
    };
    m.ended_at = Some(ts("2024-03-15T18:00:00Z"));
    assert_eq!(
        invalid(EventPayload::MissingEpisodeRecorded(m.clone())),
        "the missing episode ends (2024-03-15T18:00:00.000Z) before it starts (2024-03-15T19:30:00.000Z)"
    );
    m.ended_at = None;
    m.started_at = ts("2026-06-01T00:00:00Z");
    assert!(invalid(EventPayload::MissingEpisodeRecorded(m)).contains("is in the future"));
    let e = EventPayload::from_kind_and_json(
        "missing_episode.recorded",
        r#"{"episode_id":"00000000-0000-0000-0000-000000000060","child_id":"00000000-0000-0000-0000-000000000010","missing_type":"X","started_at":"2024-03-15T19:30:00Z"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("'X' is not a missing type (M or A); use one of M, A"),
        "{e}"
    );
    let e = EventPayload::from_kind_and_json(
        "missing_episode.recorded",
        r#"{"episode_id":"00000000-0000-0000-0000-000000000060","child_id":"00000000-0000-0000-0000-000000000010","missing_type":"M","started_at":"Friday night"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("'Friday night' is not a date and time like 2025-03-01T22:15:00Z"),
        "{e}"
    );
}

#[test]
fn link_validation() {
    let EventPayload::LinkRecorded(mut l) = sample("link.recorded") else {
        unreachable!()
    };
    l.kind = LinkKind::LivesAt;
    assert_eq!(
        invalid(EventPayload::LinkRecorded(l.clone())),
        "a 'lives_at' link needs a location at its to end, not an object"
    );
    l.kind = LinkKind::Drives;
    l.to = l.from;
    assert!(invalid(EventPayload::LinkRecorded(l.clone())).contains("both ends are the same"));
    l.to = pref(EntityKind::Object, CAR);
    l.until = Some(day("2023-06-01"));
    assert_eq!(
        invalid(EventPayload::LinkRecorded(l.clone())),
        "the link ends (2023-06-01) before it starts (2024-01)"
    );
    l.until = None;
    l.grading = Some(Grading {
        conditions: None,
        ..grading_c()
    });
    assert!(invalid(EventPayload::LinkRecorded(l)).contains("handling code C"));
}

#[test]
fn casework_validation() {
    let EventPayload::ReferralDecided(mut d) = sample("referral.decided") else {
        unreachable!()
    };
    d.decision = ReferralDecision::NoFurtherAction;
    assert!(invalid(EventPayload::ReferralDecided(d.clone()))
        .starts_with("a decision of no further action needs a reason"));
    d.reason = Some("   ".into());
    assert!(invalid(EventPayload::ReferralDecided(d.clone()))
        .starts_with("a decision of no further action needs a reason"));
    d.reason = Some("Already supported by the exploitation team under case 123".into());
    EventPayload::ReferralDecided(d)
        .validate(&day("2025-06-01"), now())
        .unwrap();

    let EventPayload::ReferralSubmitted(mut r) = sample("referral.submitted") else {
        unreachable!()
    };
    r.concern = "\n".into();
    assert_eq!(
        invalid(EventPayload::ReferralSubmitted(r.clone())),
        "what the concern is is empty"
    );
    r.concern = "x".repeat(20_001);
    assert_eq!(
        invalid(EventPayload::ReferralSubmitted(r.clone())),
        "what the concern is is 20001 characters long; the limit is 20000"
    );
    r.concern = "ok".into();
    r.others_involved.push(id(JADE));
    assert!(invalid(EventPayload::ReferralSubmitted(r.clone())).contains("the child is listed"));
    r.others_involved = vec![id(TYLER), id(TYLER)];
    assert!(invalid(EventPayload::ReferralSubmitted(r.clone())).contains("twice"));
    r.others_involved.clear();
    r.referrer = Some(Referrer {
        name: None,
        role: None,
        organisation: None,
        phone: None,
        email: Some("not an email".into()),
    });
    assert!(invalid(EventPayload::ReferralSubmitted(r)).contains("is not an email address"));

    let EventPayload::AssessmentCompleted(mut a) = sample("assessment.completed") else {
        unreachable!()
    };
    a.factors.push(CinFactor::F21);
    assert!(invalid(EventPayload::AssessmentCompleted(a.clone())).contains("factor 21"));
    a.factors.clear();
    assert!(invalid(EventPayload::AssessmentCompleted(a)).contains("or 21 if there were none"));

    let EventPayload::PlacementStarted(mut pl) = sample("placement.started") else {
        unreachable!()
    };
    pl.started_on = date("2026-01-02");
    assert_eq!(
        invalid(EventPayload::PlacementStarted(pl)),
        "the placement start date (2026-01-02) is in the future"
    );

    let EventPayload::MeetingRecorded(mut m) = sample("meeting.recorded") else {
        unreachable!()
    };
    m.missing_episode_id = None;
    assert!(
        invalid(EventPayload::MeetingRecorded(m.clone())).contains("give its missing_episode_id")
    );
    m.kind = MeetingKind::StrategyDiscussion;
    m.attendees.clear();
    assert!(invalid(EventPayload::MeetingRecorded(m)).contains("list the agencies"));

    let EventPayload::CaseClosed(mut c) = sample("case.closed") else {
        unreachable!()
    };
    c.reason = "".into();
    assert_eq!(
        invalid(EventPayload::CaseClosed(c)),
        "the reason for closing the case is empty"
    );

    let EventPayload::NoteRecorded(mut n) = sample("note.recorded") else {
        unreachable!()
    };
    n.text = "a\u{0}".into();
    assert!(invalid(EventPayload::NoteRecorded(n.clone())).contains("NUL"));
    n.subjects.clear();
    assert!(invalid(EventPayload::NoteRecorded(n)).contains("at least one subject"));

    let EventPayload::AllocationRecorded(mut al) = sample("allocation.recorded") else {
        unreachable!()
    };
    al.worker = "sw\nadmin".into();
    assert!(invalid(EventPayload::AllocationRecorded(al)).contains("single line"));
}

#[test]
fn police_validation() {
    let EventPayload::IntelligenceRecorded(mut i) = sample("intelligence.recorded") else {
        unreachable!()
    };
    i.grading.conditions = None;
    assert!(invalid(EventPayload::IntelligenceRecorded(i.clone())).contains("write the conditions"));
    i.grading = grading_c();
    i.subjects.push(pref(EntityKind::Case, CASE));
    assert!(invalid(EventPayload::IntelligenceRecorded(i.clone())).contains("not a case"));
    i.subjects.clear();
    assert!(invalid(EventPayload::IntelligenceRecorded(i)).contains("at least one"));

    let EventPayload::OffenceRecorded(mut o) = sample("offence.recorded") else {
        unreachable!()
    };
    o.suspect_ids.push(id(JADE));
    assert!(invalid(EventPayload::OffenceRecorded(o.clone()))
        .contains("both as a victim and as a suspect"));
    o.suspect_ids = vec![id(TYLER)];
    o.offence = OffenceCode::Other;
    assert!(invalid(EventPayload::OffenceRecorded(o.clone())).contains("describe the offence"));
    o.offence = OffenceCode::Soa2003S15A;
    o.committed = day("2027-01-01");
    assert!(invalid(EventPayload::OffenceRecorded(o)).contains("in the future"));

    let EventPayload::OffenceOutcomeRecorded(mut r) = sample("offence.outcome_recorded") else {
        unreachable!()
    };
    r.charged_offence = None;
    assert!(
        invalid(EventPayload::OffenceOutcomeRecorded(r.clone())).contains("the offence charged")
    );
    r.outcome = OffenceOutcome::NoFurtherAction;
    assert!(invalid(EventPayload::OffenceOutcomeRecorded(r.clone())).contains("needs a reason"));
    r.charged_offence = Some(OffenceCode::Soa2003S9);
    r.reason = Some("Insufficient evidence".into());
    assert!(
        invalid(EventPayload::OffenceOutcomeRecorded(r)).contains("only with the outcome 'charge'")
    );
}

#[test]
fn object_and_location_validation() {
    let EventPayload::ObjectAmended(mut o) = sample("object.amended") else {
        unreachable!()
    };
    o.details = ObjectDetails::default();
    assert_eq!(
        invalid(EventPayload::ObjectAmended(o.clone())),
        "the amendment changes nothing"
    );
    o.details.imei = Some("123".into());
    assert!(invalid(EventPayload::ObjectAmended(o)).contains("is not an IMEI"));
    let EventPayload::LocationRecorded(mut l) = sample("location.recorded") else {
        unreachable!()
    };
    l.details.postcode = Some("ZZZZ ZZZ".into());
    assert!(invalid(EventPayload::LocationRecorded(l.clone())).contains("is not a UK postcode"));
    l.details.address_lines = vec!["1".into(); 7];
    l.details.postcode = None;
    assert!(invalid(EventPayload::LocationRecorded(l)).contains("the limit is 6"));
}

// ---------------------------------------------------------------------------
// Projection sequences
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct World {
    state: MemoryProjection,
    next: u64,
    /// Who records the next events.
    user: &'static str,
}

impl World {
    fn new() -> World {
        World {
            state: MemoryProjection::default(),
            next: 0,
            user: "tester",
        }
    }

    /// A world holding every sample up to (not including) the first of `kind`.
    fn before(kind: &str) -> World {
        let mut w = World::new();
        for s in samples() {
            if s.kind() == kind {
                break;
            }
            w.ok(s);
        }
        w
    }

    fn record_at(&mut self, payload: EventPayload, occurred: OccurredAt) -> Result<(), String> {
        // Only Vigil raises alerts.
        let role = if payload.kind() == "alert.raised" {
            Role::System
        } else {
            Role::Practitioner
        };
        let input = EventInput {
            id: None,
            actor: Actor {
                user: self.user.into(),
                role,
            },
            agency: AgencyId::new("northshire-police").unwrap(),
            occurred_at: occurred,
            source: None,
            body: payload,
        };
        let draft = input.prepare(now(), [7u8; 16]).map_err(|e| e.to_string())?;
        let sealed = draft.seal(self.next).map_err(|e| e.to_string())?;
        let before = self.state.clone();
        let r = apply(&sealed, &mut self.state).map_err(|e| e.to_string());
        if r.is_err() {
            assert_eq!(
                self.state, before,
                "a refused event must leave no partial change"
            );
        } else {
            self.next += 1;
        }
        r
    }

    fn record(&mut self, payload: EventPayload) -> Result<(), String> {
        self.record_at(payload, day("2025-06-01"))
    }

    fn ok(&mut self, payload: EventPayload) {
        let kind = payload.kind();
        self.record(payload)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
    }

    fn refused(&mut self, payload: EventPayload) -> String {
        self.record(payload).expect_err("should be refused")
    }

    /// The stored JSON of entity `n`: what the store keeps and readers parse.
    fn state(&self, n: u128) -> Value {
        self.state_of(id(n))
    }

    fn state_of(&self, id: Uuid) -> Value {
        serde_json::from_str(&self.state.records[&id].state_json()).unwrap()
    }

    /// The typed state of entity `n`, which must be of kind `T`.
    fn typed<T: crate::state::KindState>(&self, n: u128) -> T {
        let rec = &self.state.records[&id(n)];
        rec.as_kind::<T>()
            .unwrap_or_else(|| panic!("{} is a {}, not a {}", rec.id, rec.kind, T::KIND))
            .clone()
    }
}

#[test]
fn the_whole_story_projects() {
    let mut w = World::new();
    for s in samples() {
        w.ok(s);
    }
    let jade = w.state(JADE);
    assert_eq!(jade["names"][0]["given"], "Jade");
    assert_eq!(jade["ethnicity_self_defined"]["code"], "W1");
    assert_eq!(jade["missing_episode_ids"].as_array().unwrap().len(), 1);
    assert_eq!(jade["placement_count"], 1);
    assert!(jade.get("current_placement_id").is_none());
    let tyler = w.state(TYLER);
    assert_eq!(tyler["names"][1]["kind"], "street_name");
    assert_eq!(tyler["date_of_birth"]["value"], "1999-11-02");
    assert_eq!(w.state(CAR)["registration"], "NS19 KTX");
    assert_eq!(
        w.state(CAR)["make"],
        "Vauxhall",
        "an amendment keeps what it does not change"
    );
    assert_eq!(w.state(HOTEL)["postcode"], "NS3 7EF");
    let referral = w.state(REFERRAL);
    assert_eq!(referral["status"], "assessed");
    assert_eq!(referral["decision"], "strategy_discussion");
    assert_eq!(referral["decided"]["by"], "tester");
    assert_eq!(referral["assessment"]["factors"], json!(["11A", "10A"]));
    let ep = w.state(EPISODE);
    assert_eq!(ep["status"], "returned");
    assert_eq!(ep["duration_minutes"], 400);
    assert_eq!(ep["return_interviews"][0]["meeting_id"], json!(id(MEETING)));
    assert_eq!(w.state(PLACEMENT)["status"], "ended");
    assert_eq!(w.state(ALLOCATION)["status"], "ended");
    assert_eq!(w.state(OFFENCE)["status"], "charge");
    assert_eq!(w.state(LINK + 1)["status"], "ended");
    let case = w.state(CASE);
    assert_eq!(case["status"], "closed");
    assert_eq!(case["level"], "child_protection");
    let decisions: Vec<&str> = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["open", "step_up", "close"]);
    // Projected state holds no floats and canonicalises, and reads back
    // through its kind's struct to the same state and the same bytes.
    for r in w.state.records.values() {
        let json = r.state_json();
        let back = EntityState::parse(r.kind, &json)
            .unwrap_or_else(|e| panic!("{} {}: {e}\n{json}", r.kind, r.id));
        assert_eq!(back, r.state);
        assert_eq!(back.to_json().unwrap(), json);
    }
}

#[test]
fn the_whole_story_in_typed_state() {
    let mut w = World::new();
    for s in samples() {
        w.ok(s);
    }
    let jade: PersonState = w.typed(JADE);
    assert_eq!(jade.display_name(), jade.names[0].display());
    assert_eq!(jade.missing_episode_ids, [id(EPISODE)]);
    assert_eq!((jade.placement_count, jade.current_placement_id), (1, None));
    let referral: ReferralState = w.typed(REFERRAL);
    assert_eq!(referral.status, ReferralStatus::Assessed);
    assert_eq!(
        referral.decision,
        Some(ReferralDecision::StrategyDiscussion)
    );
    assert_eq!(
        referral.decided.as_ref().map(|d| d.by.as_str()),
        Some("tester")
    );
    assert_eq!(
        referral.assessment.map(|a| a.factors),
        Some(vec![CinFactor::F11A, CinFactor::F10A])
    );
    let ep: MissingEpisodeState = w.typed(EPISODE);
    assert_eq!(ep.status, EpisodeStatus::Returned);
    assert_eq!(ep.duration_minutes, Some(400));
    assert_eq!(ep.return_interviews[0].meeting_id, id(MEETING));
    assert_eq!(
        w.typed::<PlacementState>(PLACEMENT).status,
        PlacementStatus::Ended
    );
    assert_eq!(
        w.typed::<AllocationState>(ALLOCATION).status,
        AllocationStatus::Ended
    );
    assert_eq!(
        w.typed::<OffenceState>(OFFENCE).status,
        OffenceOutcome::Charge
    );
    assert_eq!(w.typed::<LinkState>(LINK + 1).status, LinkStatus::Ended);
    let case: CaseState = w.typed(CASE);
    assert_eq!(
        (case.status, case.level),
        (CaseStatus::Closed, CaseLevel::ChildProtection)
    );
    let decisions: Vec<CaseDecision> = case.history.iter().map(|h| h.decision).collect();
    assert_eq!(
        decisions,
        [
            CaseDecision::Open,
            CaseDecision::StepUp,
            CaseDecision::Close
        ]
    );
    assert_eq!(
        case.closed.map(|c| c.agency.as_str().to_owned()).as_deref(),
        Some("northshire-police")
    );
}

#[test]
fn stored_state_is_parsed_strictly() {
    let mut w = World::new();
    for s in samples() {
        w.ok(s);
    }
    let referral = w.state.records[&id(REFERRAL)].state_json();
    let car = w.state.records[&id(CAR)].state_json();
    // As stored, each parses as its own kind and no other.
    assert!(EntityState::parse(EntityKind::Referral, &referral).is_ok());
    assert!(EntityState::parse(EntityKind::Case, &referral).is_err());
    // An unknown field is refused, in a plain struct and in one with
    // flattened details (an object's).
    let extra = |json: &str| json.replacen('{', r#"{"zzz":1,"#, 1);
    let e = EntityState::parse(EntityKind::Referral, &extra(&referral)).unwrap_err();
    assert!(e.contains("unknown field `zzz`"), "{e}");
    let e = EntityState::parse(EntityKind::Object, &extra(&car)).unwrap_err();
    assert!(e.contains("zzz"), "{e}");
    // A required field that is missing is refused, not defaulted.
    let mut v: Value = serde_json::from_str(&referral).unwrap();
    v.as_object_mut().unwrap().remove("status");
    let e = EntityState::parse(EntityKind::Referral, &v.to_string()).unwrap_err();
    assert!(e.contains("missing field `status`"), "{e}");
    // A status that is not one of its enum's is refused.
    let bad = referral.replace(r#""status":"assessed""#, r#""status":"done""#);
    assert_ne!(bad, referral);
    assert!(EntityState::parse(EntityKind::Referral, &bad).is_err());
}

#[test]
fn references_must_exist_and_be_the_right_kind() {
    let mut w = World::before("referral.submitted");
    let EventPayload::ReferralSubmitted(mut r) = sample("referral.submitted") else {
        unreachable!()
    };
    r.child_id = id(0xDEAD);
    assert_eq!(
        w.refused(EventPayload::ReferralSubmitted(r.clone())),
        format!("there is no person with id {}", id(0xDEAD))
    );
    r.child_id = id(CAR);
    assert_eq!(
        w.refused(EventPayload::ReferralSubmitted(r.clone())),
        format!("{} is a object, not a person", id(CAR))
    );
    r.child_id = id(JADE);
    w.ok(EventPayload::ReferralSubmitted(r.clone()));
    assert!(w
        .refused(EventPayload::ReferralSubmitted(r))
        .contains("is already recorded"));
    let mut p = jade();
    p.person_id = id(CAR);
    assert!(w
        .refused(EventPayload::PersonRecorded(p))
        .contains("already recorded (as a object)"));
    let n = NoteRecorded {
        subjects: vec![pref(EntityKind::Case, 0xBEEF)],
        text: "x".into(),
    };
    assert!(w
        .refused(EventPayload::NoteRecorded(n))
        .contains("there is no case"));
}

#[test]
fn links_check_their_ends_against_state() {
    let mut w = World::before("link.recorded");
    let EventPayload::LinkRecorded(mut l) = sample("link.recorded") else {
        unreachable!()
    };
    // uses_phone needs a phone, and the car is a vehicle.
    l.kind = LinkKind::UsesPhone;
    let e = w.refused(EventPayload::LinkRecorded(l.clone()));
    assert!(
        e.contains("needs an object (phone) at its to end; object") && e.ends_with("is a vehicle"),
        "{e}"
    );
    l.kind = LinkKind::Drives;
    l.from = pref(EntityKind::Person, 0xDEAD);
    assert!(w
        .refused(EventPayload::LinkRecorded(l.clone()))
        .contains("there is no person"));
    l.from = pref(EntityKind::Person, TYLER);
    w.ok(EventPayload::LinkRecorded(l.clone()));
    let end = LinkEnded {
        link_id: id(LINK),
        reason: "Car sold".into(),
        until: Some(day("2023-01-01")),
    };
    assert!(w
        .refused(EventPayload::LinkEnded(end.clone()))
        .contains("ends (2023-01-01) before it starts (2024-01)"));
    let end = LinkEnded {
        until: Some(day("2025-01-01")),
        ..end
    };
    w.ok(EventPayload::LinkEnded(end.clone()));
    assert_eq!(
        w.refused(EventPayload::LinkEnded(end)),
        format!("link {} has already been ended", id(LINK))
    );
}

#[test]
fn a_referral_is_decided_once_and_assessed_once() {
    let mut w = World::before("referral.decided");
    let decided = sample("referral.decided");
    w.ok(decided.clone());
    let e = w.refused(decided);
    assert!(
        e.starts_with(&format!("referral {} was already decided (", id(REFERRAL))),
        "{e}"
    );
    let a = sample("assessment.completed");
    w.ok(a.clone());
    assert!(w.refused(a).contains("already been completed"));

    let mut w = World::before("referral.decided");
    w.ok(EventPayload::ReferralDecided(ReferralDecided {
        referral_id: id(REFERRAL),
        decision: ReferralDecision::EarlyHelp,
        reason: None,
    }));
    assert!(w
        .refused(sample("assessment.completed"))
        .contains("was not decided for assessment"));
}

#[test]
fn missing_episodes_return_once_and_never_overlap() {
    let mut w = World::before("missing_episode.recorded");
    let EventPayload::MissingEpisodeRecorded(m) = sample("missing_episode.recorded") else {
        unreachable!()
    };
    w.ok(EventPayload::MissingEpisodeRecorded(m.clone()));
    assert_eq!(w.state(EPISODE)["status"], "missing");
    // A second episode while the first is open.
    let second = MissingEpisodeRecorded {
        episode_id: id(EPISODE + 1),
        started_at: ts("2024-03-20T10:00:00Z"),
        ..m.clone()
    };
    assert!(w
        .refused(EventPayload::MissingEpisodeRecorded(second.clone()))
        .contains("record the return first"));
    // A return before the start.
    let early = MissingEpisodeReturned {
        episode_id: id(EPISODE),
        returned_at: ts("2024-03-15T10:00:00Z"),
        found_location_id: None,
        return_interview_offered: false,
        note: None,
        found_place: None,
        found_by: None,
        found_with_person_id: None,
        found_with: None,
    };
    assert!(w
        .refused(EventPayload::MissingEpisodeReturned(early.clone()))
        .contains("ends (2024-03-15T10:00:00.000Z) before it starts"));
    let ret = MissingEpisodeReturned {
        returned_at: ts("2024-03-16T02:10:00Z"),
        ..early
    };
    w.ok(EventPayload::MissingEpisodeReturned(ret.clone()));
    assert_eq!(
        w.refused(EventPayload::MissingEpisodeReturned(ret)),
        format!(
            "the return from missing episode {} is already recorded",
            id(EPISODE)
        )
    );
    // Recorded retrospectively inside the first: overlaps.
    let inside = MissingEpisodeRecorded {
        episode_id: id(EPISODE + 2),
        started_at: ts("2024-03-15T20:00:00Z"),
        ended_at: Some(ts("2024-03-15T21:00:00Z")),
        ..m.clone()
    };
    assert!(w
        .refused(EventPayload::MissingEpisodeRecorded(inside))
        .contains("a child's missing episodes cannot overlap"));
    w.ok(EventPayload::MissingEpisodeRecorded(second));
    assert_eq!(
        w.state(JADE)["missing_episode_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Another child's episode at the same time is fine.
    let mia = MissingEpisodeRecorded {
        episode_id: id(EPISODE + 3),
        child_id: id(MIA),
        ..m
    };
    w.ok(EventPayload::MissingEpisodeRecorded(mia));
}

#[test]
fn a_return_home_interview_follows_a_return() {
    let mut w = World::before("missing_episode.returned");
    let rhi = sample("meeting.recorded");
    let e = w.refused(rhi.clone());
    assert!(e.contains("has not been recorded as returned"), "{e}");
    w.ok(sample("missing_episode.returned"));
    w.ok(rhi);
    let EventPayload::MeetingRecorded(mut other) = sample("meeting.recorded") else {
        unreachable!()
    };
    other.meeting_id = id(MEETING + 1);
    other.child_id = id(MIA);
    assert!(w
        .refused(EventPayload::MeetingRecorded(other))
        .contains("is about a different child"));
}

#[test]
fn placements_one_at_a_time_and_ended_once() {
    let mut w = World::before("placement.started");
    let EventPayload::PlacementStarted(p) = sample("placement.started") else {
        unreachable!()
    };
    w.ok(EventPayload::PlacementStarted(p.clone()));
    let next = PlacementStarted {
        placement_id: id(PLACEMENT + 1),
        placement_type: PlacementType::U4,
        ..p.clone()
    };
    assert!(w
        .refused(EventPayload::PlacementStarted(next.clone()))
        .contains("record its end before starting a new one"));
    let early = PlacementEnded {
        placement_id: id(PLACEMENT),
        ended_on: date("2024-04-30"),
        reason: None,
    };
    assert_eq!(
        w.refused(EventPayload::PlacementEnded(early.clone())),
        "the placement ends (2024-04-30) before it starts (2024-05-01)"
    );
    let end = PlacementEnded {
        ended_on: date("2024-06-01"),
        ..early
    };
    w.ok(EventPayload::PlacementEnded(end.clone()));
    assert!(w
        .refused(EventPayload::PlacementEnded(end))
        .contains("has already ended"));
    w.ok(EventPayload::PlacementStarted(next));
    assert_eq!(
        w.state(JADE)["current_placement_id"],
        json!(id(PLACEMENT + 1))
    );
    assert_eq!(w.state(JADE)["placement_count"], 2);
}

#[test]
fn allocations_end_once() {
    let mut w = World::before("allocation.ended");
    let end = sample("allocation.ended");
    w.ok(end.clone());
    assert!(w.refused(end).contains("has already ended"));
    let EventPayload::AllocationRecorded(a) = sample("allocation.recorded") else {
        unreachable!()
    };
    w.ok(EventPayload::AllocationRecorded(AllocationRecorded {
        allocation_id: id(ALLOCATION + 1),
        ..a
    }));
    let early = AllocationEnded {
        allocation_id: id(ALLOCATION + 1),
        ended_on: date("2024-01-01"),
        reason: None,
    };
    assert!(w
        .refused(EventPayload::AllocationEnded(early))
        .contains("before it starts"));
    assert_eq!(w.state(JADE)["allocation_count"], 2);
}

#[test]
fn a_contextual_case_names_a_place_or_a_peer_group_and_never_a_child_too() {
    let EventPayload::CaseOpened(place) = samples()
        .into_iter()
        .find(|s| matches!(s, EventPayload::CaseOpened(c) if c.context.is_some()))
        .unwrap()
    else {
        unreachable!()
    };
    let both = CaseOpened {
        child_id: Some(id(JADE)),
        ..place.clone()
    };
    assert!(invalid(EventPayload::CaseOpened(both)).contains("not both"));
    let neither = CaseOpened {
        context: None,
        ..place.clone()
    };
    assert!(invalid(EventPayload::CaseOpened(neither)).contains("say what the case is about"));
    let from_referral = CaseOpened {
        referral_id: Some(id(REFERRAL)),
        ..place.clone()
    };
    assert!(
        invalid(EventPayload::CaseOpened(from_referral)).contains("a referral is about one child")
    );
    let group = |name: &str, description: &str| {
        EventPayload::CaseOpened(CaseOpened {
            context: Some(CaseContext::PeerGroup {
                name: name.into(),
                description: description.into(),
            }),
            ..place.clone()
        })
    };
    assert!(invalid(group("", "Girls from year 9 seen with older men")).contains("name"));
    assert!(invalid(group("The Northside girls", "  ")).contains("description"));
    assert!(invalid(group(&"x".repeat(10_000), "d")).contains("name"));
    assert!(invalid(group("Two\nlines", "d")).contains("name"));
    assert!(invalid(group("g", &"x".repeat(1_000_000))).contains("description"));
    // Stored JSON: the context is tagged; an old case.opened (with a child
    // and no context) still reads.
    let EventPayload::CaseOpened(g) = group("<b>Northside</b>", "Seen at the park") else {
        unreachable!()
    };
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["context"]["kind"], "peer_group");
    assert!(json.get("child_id").is_none());
    let old = EventPayload::from_kind_and_json(
        "case.opened",
        &format!(
            r#"{{"case_id":"{}","child_id":"{}","level":"child_in_need","reason":"Concerns."}}"#,
            id(CASE),
            id(JADE)
        ),
    )
    .unwrap();
    let EventPayload::CaseOpened(old) = old else {
        unreachable!()
    };
    assert_eq!((old.child_id, old.context), (Some(id(JADE)), None));
    let unknown = EventPayload::from_kind_and_json(
        "case.opened",
        &format!(
            r#"{{"case_id":"{}","context":{{"kind":"street_corner"}},"level":"child_in_need","reason":"x"}}"#,
            id(CASE)
        ),
    );
    assert!(unknown.is_err());
    // Linking and unlinking need a reason.
    let link = CaseChildLinked {
        case_id: id(PLACE_CASE),
        child_id: id(TYLER),
        reason: " ".into(),
    };
    assert!(invalid(EventPayload::CaseChildLinked(link)).contains("why"));
    let unlink = CaseChildUnlinked {
        case_id: id(PLACE_CASE),
        child_id: id(TYLER),
        reason: String::new(),
    };
    assert!(invalid(EventPayload::CaseChildUnlinked(unlink)).contains("why"));
}

#[test]
fn children_are_linked_to_a_contextual_case_and_its_actions_and_closure_work_the_same() {
    let mut w = World::new();
    for s in samples() {
        w.ok(s);
    }
    let c: CaseState = w.typed(PLACE_CASE);
    assert_eq!(c.child_id, None);
    assert_eq!(
        c.context,
        Some(CaseContext::Place {
            location_id: id(HOTEL)
        })
    );
    let linked: Vec<Uuid> = c.linked.iter().map(|l| l.child_id).collect();
    assert_eq!(linked, [id(JADE)], "Mia was unlinked");
    let jade: PersonState = w.typed(JADE);
    assert_eq!(jade.context_case_ids, [id(PLACE_CASE)]);
    assert_eq!(jade.case_ids, [id(CASE)], "her own cases are apart");
    let mia: PersonState = w.typed(MIA);
    assert!(mia.context_case_ids.is_empty());
    // The place case is not one of the hotel's children's own cases.
    assert!(!w
        .state(PLACE_CASE)
        .as_object()
        .unwrap()
        .contains_key("child_id"));
    let link = |child: u128, case: u128| {
        EventPayload::CaseChildLinked(CaseChildLinked {
            case_id: id(case),
            child_id: id(child),
            reason: "Seen there".into(),
        })
    };
    assert!(w.refused(link(JADE, PLACE_CASE)).contains("already linked"));
    assert!(w.refused(link(JADE, CASE)).contains("about one child"));
    assert!(w.refused(link(HOTEL, PLACE_CASE)).contains("person"));
    assert!(w
        .refused(EventPayload::CaseChildUnlinked(CaseChildUnlinked {
            case_id: id(PLACE_CASE),
            child_id: id(MIA),
            reason: "Again".into(),
        }))
        .contains("not linked"));
    // An event naming a child on a contextual case is refused, and one
    // naming none on a child's case.
    let risk = |case: u128, child: Option<u128>| {
        EventPayload::CaseRiskChanged(CaseRiskChanged {
            case_id: id(case),
            child_id: child.map(id),
            risk: RiskLevel::Medium,
            reason: "Fewer sightings".into(),
        })
    };
    assert!(w
        .refused(risk(PLACE_CASE, Some(JADE)))
        .contains("name no child"));
    w.ok(risk(PLACE_CASE, None));
    // A meeting about a linked child may name the contextual case; about a
    // child not linked, not.
    let meeting = |n: u128, child: u128| {
        EventPayload::MeetingRecorded(MeetingRecorded {
            meeting_id: id(n),
            kind: MeetingKind::MultiAgencyExploitation,
            child_id: id(child),
            attendees: vec![AgencyId::new("northshire-police").unwrap()],
            decisions: "Disrupt the hotel; visit each child.".into(),
            missing_episode_id: None,
            referral_id: None,
            case_id: Some(id(PLACE_CASE)),
        })
    };
    assert!(w.refused(meeting(MEETING + 5, MIA)).contains("not linked"));
    w.ok(meeting(MEETING + 6, JADE));
    // Actions, as on any case.
    w.ok(EventPayload::CaseActionAdded(CaseActionAdded {
        case_id: id(PLACE_CASE),
        action_id: id(0xAD),
        text: "Visit the hotel manager".into(),
        owner: "pc.01".into(),
        due: Date::parse("2025-07-01").unwrap(),
        meeting_id: Some(id(MEETING + 6)),
    }));
    let rows = crate::index::case_action_rows(&w.state.records[&id(PLACE_CASE)]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].child_id, None);
    // Closed like any case; then no child is linked or unlinked.
    w.ok(EventPayload::CaseClosed(CaseClosed {
        case_id: id(PLACE_CASE),
        child_id: None,
        reason: "The hotel closed".into(),
        sign_off: None,
    }));
    assert!(w.refused(link(MIA, PLACE_CASE)).contains("already closed"));
}

#[test]
fn cases_close_once_and_step_between_levels() {
    let mut w = World::before("case.level_changed");
    let EventPayload::CaseLevelChanged(step) = sample("case.level_changed") else {
        unreachable!()
    };
    let same = CaseLevelChanged {
        level: CaseLevel::ChildInNeed,
        ..step.clone()
    };
    assert!(w
        .refused(EventPayload::CaseLevelChanged(same))
        .contains("is already at the level 'Child in need'"));
    w.ok(EventPayload::CaseLevelChanged(step.clone()));
    let down = CaseLevelChanged {
        level: CaseLevel::EarlyHelp,
        reason: "Risk reduced".into(),
        ..step.clone()
    };
    w.ok(EventPayload::CaseLevelChanged(down));
    assert_eq!(w.state(CASE)["history"][2]["decision"], "step_down");
    let wrong_child = CaseClosed {
        case_id: id(CASE),
        child_id: Some(id(MIA)),
        reason: "x".into(),
        sign_off: None,
    };
    assert!(w
        .refused(EventPayload::CaseClosed(wrong_child))
        .contains("different child"));
    let close = sample("case.closed");
    w.ok(close.clone());
    let e = w.refused(close);
    assert!(
        e.starts_with(&format!("case {} was already closed (", id(CASE))),
        "{e}"
    );
    assert!(w
        .refused(EventPayload::CaseLevelChanged(step))
        .contains("already closed"));
}

#[test]
fn amendments_keep_a_person_named_and_objects_in_kind() {
    let mut w = World::before("person.amended");
    let base = PersonAmendment {
        person_id: id(TYLER),
        reason: "Correction".into(),
        add_names: vec![],
        remove_names: vec![PersonName::new("Tyler", "Sample", NameKind::Birth)],
        date_of_birth: None,
        sex: None,
        ethnicity_self_defined: None,
        ethnicity_officer_observed: None,
        ethnicity_dfe: None,
        nationalities: None,
        disability: None,
        description: None,
    };
    assert!(w
        .refused(EventPayload::PersonAmended(base.clone()))
        .contains("must keep at least one name"));
    let wrong = PersonAmendment {
        remove_names: vec![PersonName::new("Tyla", "Sample", NameKind::Birth)],
        ..base.clone()
    };
    assert!(w
        .refused(EventPayload::PersonAmended(wrong))
        .contains("is not recorded for person"));
    let swap = PersonAmendment {
        add_names: vec![PersonName::new("Tyler", "Sampel", NameKind::Birth)],
        ..base
    };
    w.ok(EventPayload::PersonAmended(swap));
    assert_eq!(
        w.state(TYLER)["names"],
        json!([{"given": "Tyler", "family": "Sampel", "kind": "birth"}])
    );

    let mut w = World::before("object.amended");
    let wrong_kind = ObjectAmended {
        object_id: id(CAR),
        reason: "Phone found in car".into(),
        details: ObjectDetails {
            phone_number: Some("07700 900456".into()),
            ..Default::default()
        },
    };
    assert!(w
        .refused(EventPayload::ObjectAmended(wrong_kind))
        .contains("recorded only for a phone"));
}

#[test]
fn outcomes_are_for_suspects_of_the_offence() {
    let mut w = World::before("offence.outcome_recorded");
    let nfa = OffenceOutcomeRecorded {
        offence_id: id(OFFENCE),
        outcome: OffenceOutcome::NoFurtherAction,
        suspect_id: Some(id(LIAM)),
        charged_offence: None,
        reason: Some("Insufficient evidence".into()),
    };
    assert!(w
        .refused(EventPayload::OffenceOutcomeRecorded(nfa.clone()))
        .contains("link them as suspect_in first"));
    w.ok(EventPayload::LinkRecorded(LinkRecorded {
        link_id: id(LINK + 9),
        kind: LinkKind::SuspectIn,
        from: pref(EntityKind::Person, LIAM),
        to: pref(EntityKind::Offence, OFFENCE),
        since: None,
        until: None,
        grading: None,
        note: None,
    }));
    assert_eq!(
        w.state(OFFENCE)["suspect_ids"],
        json!([id(TYLER), id(LIAM)])
    );
    w.ok(EventPayload::OffenceOutcomeRecorded(nfa));
    w.ok(sample("offence.outcome_recorded"));
    assert_eq!(w.state(OFFENCE)["outcomes"].as_array().unwrap().len(), 2);
    assert_eq!(w.state(OFFENCE)["status"], "charge");
}

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any strings at all as names: validation answers (yes or a sentence),
    /// and the payload always canonicalises and round-trips.
    #[test]
    fn any_name_never_panics(given in any::<String>(), family in "\\PC*", nick in ".{0,300}") {
        let mut p = Person::named(id(JADE), "x", "y");
        p.names = vec![
            PersonName { given: Some(given), family: Some(family), kind: NameKind::Birth },
            PersonName { given: Some(nick), family: None, kind: NameKind::StreetName },
        ];
        let payload = EventPayload::PersonRecorded(p);
        if let Err(e) = payload.validate(&day("2025-06-01"), now()) {
            prop_assert!(!e.to_string().is_empty() && e.to_string().len() < 600);
        }
        let json = payload.payload_json().unwrap();
        let back = EventPayload::from_kind_and_json("person.recorded", &json).unwrap();
        prop_assert_eq!(&back, &payload);
        let input = EventInput {
            id: None,
            actor: Actor { user: "tester".into(), role: Role::Practitioner },
            agency: AgencyId::new("northshire-police").unwrap(),
            occurred_at: day("2025-06-01"),
            source: None,
            body: payload,
        };
        if let Ok(draft) = input.prepare(now(), [1; 16]) {
            let sealed = draft.seal(0).unwrap();
            let again = crate::event::SealedEvent::from_stored(&sealed.header_json, &sealed.payload_json, &sealed.salt).unwrap();
            prop_assert_eq!(again.payload, sealed.payload);
        }
    }

    /// Any string as a code is parsed or refused with a bounded sentence.
    #[test]
    fn any_code_never_panics(s in any::<String>()) {
        for r in [
            SelfDefinedEthnicity::parse(&s).map(|_| ()),
            ObservedEthnicity::from_legacy_code(&s).map(|_| ()),
            Nationality::parse(&s).map(|_| ()),
            PlacementType::parse(&s).map(|_| ()),
        ] {
            if let Err(e) = r {
                prop_assert!(e.to_string().len() < 1_000);
            }
        }
        let _ = check_postcode(&s);
        let _ = check_registration(&s);
        let _ = check_imei(&s);
        let _ = Timestamp::parse(&s);
        let _ = Date::parse(&s);
    }
}

#[test]
fn escalations_rise_once_per_level_and_stop_at_the_decision() {
    let mut w = World::before("referral.escalated");
    let EventPayload::ReferralEscalated(e) = sample("referral.escalated") else {
        unreachable!()
    };
    w.ok(EventPayload::ReferralEscalated(e.clone()));
    assert_eq!(
        w.refused(EventPayload::ReferralEscalated(e.clone())),
        format!(
            "referral {} was already escalated to the supervisor",
            id(REFERRAL)
        )
    );
    let higher = ReferralEscalated {
        level: EscalationLevel::HeadOfService,
        working_days_overdue: 3,
        ..e.clone()
    };
    w.ok(EventPayload::ReferralEscalated(higher.clone()));
    assert!(w
        .refused(EventPayload::ReferralEscalated(e.clone()))
        .contains("already escalated to the head of service"));
    assert_eq!(
        w.state(REFERRAL)["escalations"].as_array().unwrap().len(),
        2
    );
    w.ok(sample("referral.decided"));
    assert!(w
        .refused(EventPayload::ReferralEscalated(higher))
        .contains("has been decided, so it cannot be escalated"));
    let future = ReferralEscalated {
        due_by: date("2026-06-01"),
        ..e
    };
    assert!(invalid(EventPayload::ReferralEscalated(future)).contains("is in the future"));
}

#[test]
fn accounts_are_unique_and_disabled_accounts_change_no_more() {
    let mut w = World::before("user.registered");
    let EventPayload::UserRegistered(u) = sample("user.registered") else {
        unreachable!()
    };
    let mut wrong_id = u.clone();
    wrong_id.user_id = id(0xBAD);
    assert!(invalid(EventPayload::UserRegistered(wrong_id)).contains("derived from the username"));
    let mut system = u.clone();
    system.role = Role::System;
    assert!(invalid(EventPayload::UserRegistered(system)).contains("Vigil's own role"));
    let mut no_agency = u.clone();
    no_agency.agency_id = id(0xDEAD);
    assert!(w
        .refused(EventPayload::UserRegistered(no_agency))
        .contains("there is no agency"));
    w.ok(EventPayload::UserRegistered(u.clone()));
    assert_eq!(w.state_of(u.user_id)["agency"], "northshire-police");
    assert_eq!(
        w.refused(EventPayload::UserRegistered(u.clone())),
        "there is already an account called 'triage.02'"
    );
    let same_role = UserRoleChanged {
        user_id: u.user_id,
        role: Role::Triage,
        reason: "no change".into(),
    };
    assert!(w
        .refused(EventPayload::UserRoleChanged(same_role))
        .contains("already has the role triage"));
    w.ok(sample("user.role_changed"));
    assert_eq!(w.state_of(u.user_id)["role"], "supervisor");
    w.ok(sample("user.disabled"));
    assert_eq!(w.state_of(u.user_id)["status"], "disabled");
    assert_eq!(
        w.refused(sample("user.password_reset")),
        "the account 'triage.02' is disabled"
    );
    assert!(w.refused(sample("user.disabled")).contains("is disabled"));
}

#[test]
fn access_log_anchors_never_go_back() {
    let mut w = World::new();
    let at = |rows: u64, h: &str| {
        EventPayload::AccessLogCheckpointed(AccessLogCheckpointed {
            rows,
            head_sha256: h.repeat(64 / h.len()),
        })
    };
    w.ok(at(0, "0"));
    w.ok(at(10, "ab"));
    w.ok(at(10, "ab"));
    assert_eq!(
        w.refused(at(9, "cd")),
        "the access log was anchored at 10 rows; a checkpoint cannot go back to 9"
    );
    w.ok(at(25, "cd"));
    assert_eq!(w.state_of(access_log_id())["rows"], 25);
    assert!(invalid(at(3, "AB")).contains("64 lower-case hex digits"));
    assert!(invalid(at(0, "ab")).contains("64 zeros"));
}

use EventPayload as E;

impl World {
    /// Records an event a minute after the others (so it is later than them).
    fn later(&mut self, payload: EventPayload) {
        let input = EventInput {
            id: None,
            actor: Actor {
                user: "tester".into(),
                role: Role::Practitioner,
            },
            agency: AgencyId::new("northshire-police").unwrap(),
            occurred_at: day("2025-06-01"),
            source: None,
            body: payload,
        };
        let draft = input
            .prepare(now() + chrono::Duration::minutes(1), [7u8; 16])
            .unwrap();
        apply(&draft.seal(self.next).unwrap(), &mut self.state).unwrap();
        self.next += 1;
    }
}

fn pair_status(w: &World, a: u128, b: u128) -> (MatchStatus, LinkStatus) {
    let rec = &w.state.records[&match_id(id(a), id(b))];
    let l = rec.as_kind::<LinkState>().unwrap();
    (l.matching.as_ref().unwrap().status, l.status)
}

#[test]
fn match_decisions_are_respected_by_later_scores() {
    use MatchStatus as M;
    let mut w = World::before("person_match.scored");
    let (a, b) = (JADE, MIA);
    assert_eq!(match_id(id(a), id(b)), match_id(id(b), id(a)));
    // Nobody decided: the model links at or above its threshold.
    w.ok(E::PersonMatchScored(scored(a, b, 400_000)));
    assert_eq!(pair_status(&w, a, b), (M::Proposed, LinkStatus::Ended));
    w.ok(E::PersonMatchScored(scored(b, a, 500_000)));
    assert_eq!(
        pair_status(&w, a, b),
        (M::LinkedByModel, LinkStatus::Active)
    );
    let reject = || {
        E::PersonMatchRejected(PersonMatchRejected {
            person_a: id(a),
            person_b: id(b),
            probability_ppm: None,
            reason: None,
        })
    };
    let confirm = || {
        E::PersonMatchConfirmed(PersonMatchConfirmed {
            person_a: id(b),
            person_b: id(a),
            probability_ppm: None,
            reason: None,
        })
    };
    let undo = || {
        E::PersonMatchUndone(PersonMatchUndone {
            person_a: id(a),
            person_b: id(b),
            reason: "Not the same child".into(),
        })
    };
    w.ok(reject());
    assert_eq!(pair_status(&w, a, b).0, M::Rejected);
    assert!(w
        .refused(reject())
        .contains("already recorded as not the same"));
    assert!(w.refused(undo()).contains("not linked"));
    // A later run scoring higher, but not by the margin, leaves it rejected.
    w.ok(E::PersonMatchScored(scored(a, b, 599_999)));
    assert_eq!(pair_status(&w, a, b), (M::Rejected, LinkStatus::Ended));
    // New evidence (0.1 above the probability when rejected) reopens it for
    // review, never straight to linked.
    w.ok(E::PersonMatchScored(scored(a, b, 600_000)));
    assert_eq!(pair_status(&w, a, b), (M::Proposed, LinkStatus::Ended));
    // Confirmed stays confirmed whatever the model says.
    w.ok(confirm());
    assert!(w.refused(confirm()).contains("already confirmed"));
    assert!(w.refused(reject()).contains("undo the link"));
    w.ok(E::PersonMatchScored(scored(a, b, 1)));
    assert_eq!(pair_status(&w, a, b), (M::Confirmed, LinkStatus::Active));
    // Undone: unlinked, and a high score does not link it again.
    w.ok(undo());
    assert_eq!(pair_status(&w, a, b), (M::Undone, LinkStatus::Ended));
    w.ok(E::PersonMatchScored(scored(a, b, 50_000)));
    w.ok(E::PersonMatchScored(scored(a, b, 99_000)));
    assert_eq!(pair_status(&w, a, b).0, M::Undone);
    // A person record amended after the decision is new evidence too.
    w.later(E::PersonAmended(PersonAmendment {
        person_id: id(b),
        reason: "Date of birth corrected".into(),
        add_names: vec![],
        remove_names: vec![],
        date_of_birth: Some(DateOfBirth {
            value: "2010-03-15".into(),
            precision: Precision::Day,
        }),
        sex: None,
        ethnicity_self_defined: None,
        ethnicity_officer_observed: None,
        ethnicity_dfe: None,
        nationalities: None,
        disability: None,
        description: None,
    }));
    w.ok(E::PersonMatchScored(scored(a, b, 99_000)));
    assert_eq!(pair_status(&w, a, b).0, M::Proposed);
}

#[test]
fn match_events_are_checked() {
    let mut bad = scored(JADE, JADE, 1);
    assert!(invalid(E::PersonMatchScored(bad.clone())).contains("two different person records"));
    bad.person_b = id(MIA);
    bad.probability_ppm = 1_000_001;
    assert!(invalid(E::PersonMatchScored(bad.clone())).contains("at most 1000000"));
    bad.probability_ppm = 1;
    bad.threshold_ppm = 0;
    assert!(invalid(E::PersonMatchScored(bad.clone())).contains("above 0"));
    bad.threshold_ppm = 1;
    bad.explanation[0].weight_milli = i64::MIN;
    assert!(invalid(E::PersonMatchScored(bad.clone())).contains("out of range"));
    bad.explanation = vec![bad.explanation[0].clone(); 65];
    assert!(invalid(E::PersonMatchScored(bad)).contains("at most 64"));
    assert!(invalid(E::PersonMatchUndone(PersonMatchUndone {
        person_a: id(JADE),
        person_b: id(MIA),
        reason: "  ".into(),
    }))
    .contains("reason"));
    // A same-person link is never recorded as an ordinary link.
    let mut l = match sample("link.recorded") {
        E::LinkRecorded(l) => l,
        _ => unreachable!(),
    };
    l.kind = LinkKind::SamePerson;
    assert!(invalid(E::LinkRecorded(l)).contains("person_match.confirmed"));
    // The people must exist.
    let mut w = World::before("person_match.scored");
    assert!(w
        .refused(E::PersonMatchScored(scored(JADE, 0xFFFF, 900_000)))
        .contains("there is no person"));
}

// ---------------------------------------------------------------------------
// The front door: immediate danger, unnamed children, information added
// ---------------------------------------------------------------------------

fn submitted() -> ReferralSubmitted {
    let EventPayload::ReferralSubmitted(r) = sample("referral.submitted") else {
        unreachable!()
    };
    r
}

#[test]
fn a_child_in_immediate_danger_needs_the_police_question_answered() {
    let mut r = submitted();
    r.immediate_danger = true;
    r.police_called = None;
    assert_eq!(
        invalid(EventPayload::ReferralSubmitted(r.clone())),
        "say whether the police were called: a referral of a child in immediate danger records it"
    );
    for answer in [true, false] {
        r.police_called = Some(answer);
        EventPayload::ReferralSubmitted(r.clone())
            .validate(&OccurredAt::day(now().date_naive()), now())
            .unwrap();
    }
    // Not in danger: the question may be left out.
    let mut r = submitted();
    r.police_called = None;
    EventPayload::ReferralSubmitted(r.clone())
        .validate(&OccurredAt::day(now().date_naive()), now())
        .unwrap();
    // The call-back number is a phone number.
    r.call_back_on = Some("<script>".into());
    assert!(invalid(EventPayload::ReferralSubmitted(r)).contains("is not a phone number"));
}

#[test]
fn a_decision_below_a_strategy_discussion_in_immediate_danger_needs_a_reason() {
    let mut w = World::before("referral.submitted");
    let mut r = submitted();
    r.immediate_danger = true;
    r.police_called = Some(true);
    w.ok(EventPayload::ReferralSubmitted(r));
    let decide = |decision, reason: Option<&str>| {
        EventPayload::ReferralDecided(ReferralDecided {
            referral_id: id(REFERRAL),
            decision,
            reason: reason.map(str::to_owned),
        })
    };
    for d in [ReferralDecision::EarlyHelp, ReferralDecision::Assessment] {
        let e = w.refused(decide(d, None));
        assert!(
            e.contains("the referrer said the child is in immediate danger, so a decision of")
                && e.contains("needs a reason"),
            "{e}"
        );
        assert!(w.refused(decide(d, Some("  "))).contains("reason"));
    }
    // A strategy discussion or the police need none; a reason makes any do.
    let mut w2 = w.clone();
    w2.ok(decide(ReferralDecision::StrategyDiscussion, None));
    let mut w3 = w.clone();
    w3.ok(decide(ReferralDecision::PassToPolice, None));
    w.ok(decide(
        ReferralDecision::EarlyHelp,
        Some("Police attended; the child is safe with family tonight."),
    ));
    // Not in danger: early help needs no reason (as before).
    let mut w = World::before("referral.decided");
    w.ok(decide(ReferralDecision::EarlyHelp, None));
}

#[test]
fn a_person_without_a_name_is_described_with_an_approximate_age() {
    let mut p = jade();
    p.names.clear();
    p.description = Some("A girl, dark hair, seen at the taxi rank.".into());
    p.date_of_birth = Some(DateOfBirth {
        value: "2012-06-01".into(),
        precision: Precision::Approximate,
    });
    EventPayload::PersonRecorded(p.clone())
        .validate(&OccurredAt::day(now().date_naive()), now())
        .unwrap();
    let mut q = p.clone();
    q.description = Some("   ".into());
    assert!(invalid(EventPayload::PersonRecorded(q))
        .contains("give a description and an approximate age"));
    let mut q = p.clone();
    q.date_of_birth = None;
    assert!(invalid(EventPayload::PersonRecorded(q)).contains("approximate age"));
    let mut q = p.clone();
    q.description = Some("x".repeat(crate::text::MAX_LONG_CHARS + 1));
    assert!(invalid(EventPayload::PersonRecorded(q)).contains("the limit is"));
    // Recorded, shown as "Name not known", and amended later without a name.
    let mut w = World::new();
    w.ok(EventPayload::PersonRecorded(p.clone()));
    assert_eq!(
        w.typed::<PersonState>(JADE).display_name(),
        "Name not known"
    );
    w.ok(EventPayload::PersonAmended(PersonAmendment {
        person_id: p.person_id,
        reason: "A better estimate of her age".into(),
        add_names: vec![],
        remove_names: vec![],
        date_of_birth: Some(DateOfBirth {
            value: "2012".into(),
            precision: Precision::Year,
        }),
        sex: None,
        ethnicity_self_defined: None,
        ethnicity_officer_observed: None,
        ethnicity_dfe: None,
        nationalities: None,
        disability: None,
        description: None,
    }));
}

#[test]
fn information_is_added_by_the_sender_about_the_referrals_child() {
    let mut w = World::before("referral.information_added");
    let add = |child: u128, text: &str| {
        EventPayload::ReferralInformationAdded(ReferralInformationAdded {
            referral_id: id(REFERRAL),
            child_id: id(child),
            information: text.into(),
        })
    };
    assert_eq!(invalid(add(JADE, " \n ")), "the information added is empty");
    assert!(
        invalid(add(JADE, &"x".repeat(crate::text::MAX_LONG_CHARS + 1))).contains("the limit is")
    );
    assert!(invalid(add(JADE, "seen again\u{7}")).contains("only line breaks and tabs"));
    assert!(w
        .refused(add(TYLER, "Seen again."))
        .contains("is about a different child"));
    w.user = "someone.else";
    assert!(w
        .refused(add(JADE, "Seen again."))
        .contains("only whoever sent referral"));
    w.user = "tester";
    w.ok(add(JADE, "Seen again at the taxi rank."));
    let r = w.typed::<ReferralState>(REFERRAL);
    assert_eq!(r.information_added.len(), 1);
    assert_eq!(
        r.information_added[0].information,
        "Seen again at the taxi rank."
    );
}

// ---------------------------------------------------------------------------
// Screening
// ---------------------------------------------------------------------------

fn screening_json() -> Value {
    serde_json::from_str(&E::ScreeningRecorded(screening()).payload_json().unwrap()).unwrap()
}

fn screening_from(v: &Value) -> Result<(), String> {
    EventPayload::from_kind_and_json("screening.recorded", &v.to_string())
        .and_then(|p| p.validate(&day("2025-06-01"), now()))
        .map_err(|e| e.to_string())
}

#[test]
fn screening_validation_refuses_wrong_empty_huge_and_hostile_answers() {
    screening_from(&screening_json()).expect("the sample is valid");
    // An indicator Vigil does not have, and protected characteristics,
    // which are never indicators.
    for code in [
        "on_a_bus",
        "sex",
        "ethnicity",
        "nationality",
        "religion",
        "W1",
        "F",
        "",
    ] {
        let mut v = screening_json();
        v["answers"][0]["indicator"] = json!(code);
        let e = screening_from(&v).unwrap_err();
        assert!(e.contains("screening indicator"), "{code}: {e}");
        assert!(Indicator::parse(code).is_err());
    }
    // An answer that is not yes, no or not known.
    let mut v = screening_json();
    v["answers"][3]["answer"] = json!("maybe");
    assert!(screening_from(&v)
        .unwrap_err()
        .contains("yes, no or not known"));
    // Duplicates, even with the same answer.
    let mut s = screening();
    s.answers[1] = s.answers[0].clone();
    let e = invalid(E::ScreeningRecorded(s));
    assert!(e.contains("answered twice"), "{e}");
    // Missing indicators, and none at all.
    let mut s = screening();
    s.answers.retain(|a| a.indicator != Indicator::Injuries);
    let e = invalid(E::ScreeningRecorded(s.clone()));
    assert!(e.contains("not answered: Has injuries"), "{e}");
    s.answers.clear();
    assert!(invalid(E::ScreeningRecorded(s)).contains("every indicator needs an answer"));
    // A hundred thousand answers are refused by their count, before they are read.
    let mut s = screening();
    s.answers = vec![s.answers[0].clone(); 100_000];
    assert!(invalid(E::ScreeningRecorded(s)).contains("100000 answers were given"));
    // A yes needs its day and source; a not known has neither.
    let yes = |f: &dyn Fn(&mut IndicatorAnswer)| {
        let mut s = screening();
        f(&mut s.answers[0]);
        invalid(E::ScreeningRecorded(s))
    };
    assert!(yes(&|a| a.known_on = None).contains("say when it was known"));
    assert!(yes(&|a| a.source = None).contains("say who said or which record"));
    let e = yes(&|a| {
        a.answer = ScreeningAnswer::NotKnown;
        a.source = None;
    });
    assert!(e.contains("has no date or source"), "{e}");
    // Days in the future, after the screening, and before 1900.
    let e = yes(&|a| a.known_on = Some(date("2026-03-01")));
    assert!(e.contains("is in the future"), "{e}");
    let e = yes(&|a| a.known_on = Some(date("2025-06-02")));
    assert!(e.contains("is after the screening (2025-06-01)"), "{e}");
    assert!(yes(&|a| a.known_on = Some(date("1899-12-31"))).contains("before 1900"));
    // Ten megabytes of text, in the source and in the reason.
    let ten_mb = "x".repeat(10 << 20);
    let e = yes(&|a| a.source = Some(ten_mb.clone()));
    assert!(e.contains("characters long; the limit is 2000"), "{e}");
    let mut s = screening();
    s.reason = Some(ten_mb);
    assert!(invalid(E::ScreeningRecorded(s)).contains("the limit is 20000"));
    // Hostile text that is still text is kept as it was typed (pages escape it).
    let mut v = screening_json();
    v["answers"][0]["source"] = json!("<script>alert(1)</script> ' OR 1=1 --");
    screening_from(&v).expect("markup is text");
    let mut v = screening_json();
    v["answers"][0]["source"] = json!("two\nlines");
    assert!(screening_from(&v).unwrap_err().contains("single line"));
    // Unknown fields, e.g. someone trying to pass a protected
    // characteristic alongside the answers.
    let mut v = screening_json();
    v["ethnicity"] = json!("W1");
    assert!(screening_from(&v).unwrap_err().contains("unknown field"));
    let mut v = screening_json();
    v["answers"][0]["sex"] = json!("F");
    assert!(screening_from(&v).unwrap_err().contains("unknown field"));
}

#[test]
fn a_judgement_that_differs_from_the_answers_needs_a_reason() {
    let mut s = screening();
    s.judged_risk = RiskLevel::Medium;
    s.reason = None;
    let e = invalid(E::ScreeningRecorded(s.clone()));
    assert_eq!(
        e,
        "the answers support a high risk and the judgement is medium: say why they differ"
    );
    s.reason = Some("   ".into());
    assert!(invalid(E::ScreeningRecorded(s.clone())).contains("the reason is empty"));
    s.reason = Some("The older man has been arrested and bailed away from the area".into());
    E::ScreeningRecorded(s.clone())
        .validate(&day("2025-06-01"), now())
        .unwrap();
    // The same level needs none.
    s.judged_risk = RiskLevel::High;
    s.reason = None;
    E::ScreeningRecorded(s)
        .validate(&day("2025-06-01"), now())
        .unwrap();
}

#[test]
fn a_screening_belongs_to_one_child_and_is_recorded_once() {
    let mut w = World::before("screening.recorded");
    // The case and referral must be the child's own.
    let mut other = screening();
    other.child_id = id(MIA);
    let e = w.refused(E::ScreeningRecorded(other.clone()));
    assert!(e.contains("is not about child"), "{e}");
    other.case_id = None;
    other.referral_id = None;
    other.screening_id = id(SCREENING + 1);
    w.ok(E::ScreeningRecorded(other));
    // The child must be a recorded person.
    let mut nobody = screening();
    nobody.screening_id = id(SCREENING + 2);
    nobody.child_id = id(0xFFFF);
    nobody.case_id = None;
    nobody.referral_id = None;
    assert!(w
        .refused(E::ScreeningRecorded(nobody))
        .contains("there is no person"));
    w.ok(E::ScreeningRecorded(screening()));
    let e = w.refused(E::ScreeningRecorded(screening()));
    assert!(e.contains("is already recorded (as a screening)"), "{e}");
    // The state keeps the answers in the list's order, the two levels
    // and when it was done.
    let mut shuffled = screening();
    shuffled.screening_id = id(SCREENING + 3);
    shuffled.answers.reverse();
    w.ok(E::ScreeningRecorded(shuffled));
    let st: ScreeningState = w.typed(SCREENING + 3);
    let order: Vec<Indicator> = st.answers.iter().map(|a| a.indicator).collect();
    assert_eq!(order, Indicator::ALL);
    assert_eq!(st.done, day("2025-06-01"));
    assert_eq!(st.supported_risk, RiskLevel::High);
    assert!(st.indicators_active());
    assert_eq!(
        st.yes().collect::<Vec<_>>(),
        [
            Indicator::Missing,
            Indicator::OlderPartner,
            Indicator::CarsWithAdults
        ]
    );
    assert_eq!(st.not_known(), Indicator::ALL.len() - 5);
}

#[test]
fn return_interview_validation() {
    let EventPayload::ReturnInterviewRecorded(mut r) = sample("return_interview.recorded") else {
        unreachable!()
    };
    r.child_said = None;
    assert!(invalid(EventPayload::ReturnInterviewRecorded(r.clone()))
        .contains("write what the child said"));
    r.child_said = Some("   ".into());
    assert!(invalid(EventPayload::ReturnInterviewRecorded(r.clone()))
        .contains("write what the child said"));
    // Declined: nothing the child said is needed.
    let declined = ReturnInterviewRecorded {
        outcome: InterviewOutcome::DeclinedByChild,
        child_said: None,
        ..r.clone()
    };
    assert!(EventPayload::ReturnInterviewRecorded(declined)
        .validate(&day("2025-06-01"), now())
        .is_ok());
    r.child_said = Some("x".into());
    r.by_whom = String::new();
    assert!(
        invalid(EventPayload::ReturnInterviewRecorded(r.clone())).contains("who did the interview")
    );
    r.by_whom = "a".repeat(10_000);
    assert!(
        invalid(EventPayload::ReturnInterviewRecorded(r.clone())).contains("who did the interview")
    );
    r.by_whom = "line\nbreak".into();
    assert!(
        invalid(EventPayload::ReturnInterviewRecorded(r.clone())).contains("who did the interview")
    );
    r.by_whom = "Sam".into();
    r.held_at = ts("2026-06-01T00:00:00Z");
    assert!(invalid(EventPayload::ReturnInterviewRecorded(r)).contains("is in the future"));
    let e = EventPayload::from_kind_and_json(
        "return_interview.recorded",
        r#"{"episode_id":"00000000-0000-0000-0000-000000000060","outcome":"maybe","held_at":"2024-03-17T16:00:00Z","by_whom":"Sam"}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not a return home interview outcome"), "{e}");
    let EventPayload::MissingEpisodeReturned(mut m) = sample("missing_episode.returned") else {
        unreachable!()
    };
    m.found_with = Some("<script>".repeat(1000));
    assert!(
        invalid(EventPayload::MissingEpisodeReturned(m.clone())).contains("who the child was with")
    );
    m.found_with = None;
    m.found_place = Some(String::new());
    assert!(invalid(EventPayload::MissingEpisodeReturned(m)).contains("where the child was found"));
    // Old returns without the new fields still parse.
    let old = EventPayload::from_kind_and_json(
        "missing_episode.returned",
        r#"{"episode_id":"00000000-0000-0000-0000-000000000060","returned_at":"2024-03-16T02:10:00Z","return_interview_offered":true}"#,
    );
    assert!(old.is_ok(), "{old:?}");
}

#[test]
fn return_interviews_follow_the_return() {
    let mut w = World::before("missing_episode.returned");
    let EventPayload::ReturnInterviewRecorded(r) = sample("return_interview.recorded") else {
        unreachable!()
    };
    let EventPayload::ReturnInterviewAssigned(a) = sample("return_interview.assigned") else {
        unreachable!()
    };
    // Assigned before the return is fine; recorded before it is not.
    w.ok(EventPayload::ReturnInterviewAssigned(a.clone()));
    assert!(w
        .refused(EventPayload::ReturnInterviewRecorded(r.clone()))
        .contains("record the return before the return home interview"));
    w.ok(sample("missing_episode.returned"));
    let ep: MissingEpisodeState = w.typed(EPISODE);
    assert_eq!(ep.found_place.as_deref(), Some("Station Road taxi rank"));
    assert_eq!(ep.found_by.as_deref(), Some("Police"));
    assert_eq!(
        ep.interview_assigned.as_ref().unwrap().worker.as_deref(),
        Some("sam.patel")
    );
    let early = ReturnInterviewRecorded {
        held_at: ts("2024-03-16T01:00:00Z"),
        ..r.clone()
    };
    assert!(w
        .refused(EventPayload::ReturnInterviewRecorded(early))
        .contains("before the child's return"));
    w.ok(EventPayload::ReturnInterviewRecorded(r));
    let ep: MissingEpisodeState = w.typed(EPISODE);
    assert_eq!(ep.interviews_recorded.len(), 1);
    assert_eq!(ep.interviews_recorded[0].outcome, InterviewOutcome::Held);
    // Once done, it is not assigned again.
    assert!(w
        .refused(EventPayload::ReturnInterviewAssigned(a))
        .contains("already recorded"));
    // A missing episode that does not exist.
    let EventPayload::ReturnInterviewAssigned(mut a) = sample("return_interview.assigned") else {
        unreachable!()
    };
    a.episode_id = id(9999);
    assert!(!w
        .refused(EventPayload::ReturnInterviewAssigned(a))
        .is_empty());
}

#[test]
fn case_agencies_risk_and_actions_follow_their_rules() {
    let mut w = World::before("case.allocated");
    let youth = AgencyId::new("riverside-youth-project").unwrap();
    let EventPayload::CaseAgencyAdded(add) = sample("case.agency_added") else {
        unreachable!()
    };
    w.ok(EventPayload::CaseAgencyAdded(add.clone()));
    assert!(w
        .refused(EventPayload::CaseAgencyAdded(add.clone()))
        .contains("already involved"));
    // The lead (the opening agency, here) cannot be added again or removed.
    let lead = AgencyId::new("northshire-police").unwrap();
    assert!(w
        .refused(EventPayload::CaseAgencyAdded(CaseAgencyAdded {
            agency: lead.clone(),
            ..add.clone()
        }))
        .contains("already involved"));
    assert!(w
        .refused(EventPayload::CaseAgencyRemoved(CaseAgencyRemoved {
            case_id: id(CASE),
            child_id: Some(id(JADE)),
            agency: lead,
            reason: "x".into(),
        }))
        .contains("leads case"));
    let remove = CaseAgencyRemoved {
        case_id: id(CASE),
        child_id: Some(id(JADE)),
        agency: youth.clone(),
        reason: "Done".into(),
    };
    w.ok(EventPayload::CaseAgencyRemoved(remove.clone()));
    assert!(w
        .refused(EventPayload::CaseAgencyRemoved(remove))
        .contains("not involved"));
    // A risk needs a reason, at opening and later.
    let EventPayload::CaseOpened(open) = sample("case.opened") else {
        unreachable!()
    };
    let no_reason = CaseOpened {
        risk: Some(RiskLevel::High),
        ..open.clone()
    };
    assert!(invalid(EventPayload::CaseOpened(no_reason)).contains("why the risk"));
    let listed_twice = CaseOpened {
        lead_agency: Some(youth.clone()),
        agencies: vec![youth.clone()],
        ..open.clone()
    };
    assert!(invalid(EventPayload::CaseOpened(listed_twice)).contains("leads the case"));
    let EventPayload::CaseRiskChanged(risk) = sample("case.risk_changed") else {
        unreachable!()
    };
    assert!(invalid(EventPayload::CaseRiskChanged(CaseRiskChanged {
        reason: " ".into(),
        ..risk.clone()
    }))
    .contains("why the risk"));
    w.ok(EventPayload::CaseRiskChanged(risk));
    assert_eq!(w.state(CASE)["risk"], "high");
    // Actions: empty text and an open "closure" are refused; closed once.
    let EventPayload::CaseActionAdded(action) = sample("case.action_added") else {
        unreachable!()
    };
    assert!(invalid(EventPayload::CaseActionAdded(CaseActionAdded {
        text: "".into(),
        ..action.clone()
    }))
    .contains("what is to be done"));
    assert!(invalid(EventPayload::CaseActionAdded(CaseActionAdded {
        owner: "x".repeat(5000),
        ..action.clone()
    }))
    .contains("who is to do it"));
    w.ok(EventPayload::CaseActionAdded(action.clone()));
    assert!(w
        .refused(EventPayload::CaseActionAdded(action.clone()))
        .contains("already on case"));
    let EventPayload::CaseActionClosed(done) = sample("case.action_closed") else {
        unreachable!()
    };
    assert!(invalid(EventPayload::CaseActionClosed(CaseActionClosed {
        status: ActionStatus::Open,
        ..done.clone()
    }))
    .contains("done or cancelled"));
    assert!(w
        .refused(EventPayload::CaseActionClosed(CaseActionClosed {
            action_id: id(0xAD),
            ..done.clone()
        }))
        .contains("has no action"));
    w.ok(EventPayload::CaseActionClosed(done.clone()));
    assert_eq!(w.state(CASE)["actions"][0]["status"], "done");
    assert!(w
        .refused(EventPayload::CaseActionClosed(done))
        .contains("already done"));
    // A closure that needs sign-off: asked for once; closing without the
    // sign-off is refused while it waits; declined, then signed off.
    let EventPayload::CaseClosureRequested(ask) = sample("case.closure_requested") else {
        unreachable!()
    };
    assert!(
        invalid(EventPayload::CaseClosureRequested(CaseClosureRequested {
            concerns: vec![],
            ..ask.clone()
        }))
        .contains("list the concerns")
    );
    w.ok(EventPayload::CaseClosureRequested(ask.clone()));
    assert!(w
        .refused(EventPayload::CaseClosureRequested(ask.clone()))
        .contains("already asked"));
    assert!(w.refused(sample("case.closed")).contains("sign-off"));
    w.ok(sample("case.closure_declined"));
    assert!(w
        .refused(sample("case.closure_declined"))
        .contains("nobody has asked"));
    assert_eq!(w.state(CASE)["status"], "open");
    w.ok(EventPayload::CaseClosureRequested(ask.clone()));
    let EventPayload::CaseClosed(close) = sample("case.closed") else {
        unreachable!()
    };
    let signed = CaseClosed {
        sign_off: Some(ClosureSignOff {
            requested_by: Some("social.worker.07".into()),
            concerns: ask.concerns.clone(),
            note: "".into(),
        }),
        ..close.clone()
    };
    assert!(invalid(EventPayload::CaseClosed(signed.clone())).contains("supervisor's note"));
    let signed = CaseClosed {
        sign_off: signed.sign_off.map(|so| ClosureSignOff {
            note: "Agreed: the interview is booked".into(),
            ..so
        }),
        ..close
    };
    w.ok(EventPayload::CaseClosed(signed));
    assert_eq!(w.state(CASE)["status"], "closed");
    assert_eq!(
        w.state(CASE)["sign_off"]["concerns"][0],
        "An action is still open"
    );
    assert!(w.state(CASE).get("closure_request").is_none());
    assert_eq!(w.state(JADE)["case_ids"][0], id(CASE).to_string());
    // An action on a closed case is refused.
    let late = CaseActionAdded {
        action_id: id(0xAE),
        ..action
    };
    assert!(w
        .refused(EventPayload::CaseActionAdded(late))
        .contains("already closed"));
}

#[test]
fn alerts_are_raised_once_by_vigil_and_answered_once_by_people() {
    let mut w = World::before("alert.raised");
    // A note cites at least one event, and not thousands.
    let mut none = alert_raised();
    none.events.clear();
    assert!(invalid(EventPayload::AlertRaised(none)).contains("between 1 and"));
    let mut unknown = alert_raised();
    unknown.child_id = id(0xDEAD);
    assert!(w
        .refused(EventPayload::AlertRaised(unknown))
        .contains("no person"));
    w.ok(EventPayload::AlertRaised(alert_raised()));
    assert_eq!(w.state(ALERT)["rule"], "repeated-missing");
    // The same alert again (a replay, a second server): refused.
    assert!(w
        .refused(EventPayload::AlertRaised(alert_raised()))
        .contains("already recorded"));
    let seen = AlertSeen {
        alert_id: id(ALERT),
        child_id: id(JADE),
    };
    w.ok(EventPayload::AlertSeen(seen.clone()));
    assert!(w
        .refused(EventPayload::AlertSeen(seen))
        .contains("seen this alert already"));
    let wrong_child = AlertAcknowledged {
        alert_id: id(ALERT),
        child_id: id(MIA),
        note: "x".into(),
    };
    assert!(w
        .refused(EventPayload::AlertAcknowledged(wrong_child))
        .contains("different child"));
    let ack = AlertAcknowledged {
        alert_id: id(ALERT),
        child_id: id(JADE),
        note: "Booked a strategy discussion".into(),
    };
    w.ok(EventPayload::AlertAcknowledged(ack.clone()));
    assert!(w
        .refused(EventPayload::AlertAcknowledged(ack.clone()))
        .contains("acknowledged already"));
    let done = AlertResolved {
        alert_id: id(ALERT),
        child_id: id(JADE),
        note: "Plan agreed".into(),
    };
    w.ok(EventPayload::AlertResolved(done.clone()));
    assert!(w
        .refused(EventPayload::AlertResolved(done))
        .contains("resolved already"));
    assert_eq!(
        w.state(ALERT)["acknowledged"]["note"],
        "Booked a strategy discussion"
    );
    assert_eq!(w.state(ALERT)["seen_by"], serde_json::json!(["tester"]));
}

#[test]
fn a_multi_agency_meeting_discusses_open_cases_and_sets_their_actions() {
    let EventPayload::MeetingHeld(held) = sample("meeting.held") else {
        unreachable!()
    };
    // Validation: a chair, attendees, cases, a decision each; no repeats.
    for (bad, words) in [
        (
            MeetingHeld {
                chair: " ".into(),
                ..held.clone()
            },
            "the chair is empty",
        ),
        (
            MeetingHeld {
                attendees: vec![],
                ..held.clone()
            },
            "who attended",
        ),
        (
            MeetingHeld {
                cases: vec![],
                ..held.clone()
            },
            "cases the meeting discussed",
        ),
        (
            MeetingHeld {
                cases: vec![held.cases[0].clone(), held.cases[0].clone()],
                ..held.clone()
            },
            "cases discussed",
        ),
        (
            MeetingHeld {
                cases: vec![CaseDiscussed {
                    decision: "".into(),
                    ..held.cases[0].clone()
                }],
                ..held.clone()
            },
            "decision",
        ),
        (
            MeetingHeld {
                kind: MeetingKind::ReturnHomeInterview,
                ..held.clone()
            },
            "one child",
        ),
        (
            MeetingHeld {
                chair: "x".repeat(5000),
                ..held.clone()
            },
            "chair",
        ),
    ] {
        let got = invalid(EventPayload::MeetingHeld(bad));
        assert!(got.contains(words), "{words}: {got}");
    }
    // Projection: the case keeps the decision; the meeting is its own
    // record; an action naming it is accepted; once only.
    let mut w = World::before("meeting.held");
    w.ok(EventPayload::MeetingHeld(held.clone()));
    let case = w.typed::<CaseState>(CASE);
    assert_eq!(case.meetings.len(), 1);
    assert_eq!(case.meetings[0].meeting_id, id(PANEL));
    assert!(case.meetings[0].decision.contains("hotel"));
    let m = w.typed::<MultiAgencyMeetingState>(PANEL);
    assert_eq!(m.chair, "DI Alex Example");
    assert_eq!(m.cases.len(), 1);
    assert!(w
        .refused(EventPayload::MeetingHeld(held.clone()))
        .contains("already recorded"));
    w.ok(EventPayload::CaseActionAdded(CaseActionAdded {
        case_id: id(CASE),
        action_id: id(0xAF),
        text: "Visit weekly".into(),
        owner: "youth.worker.3".into(),
        due: Date::parse("2025-07-01").unwrap(),
        meeting_id: Some(id(PANEL)),
    }));
    assert_eq!(
        w.typed::<CaseState>(CASE).actions[0].meeting_id,
        Some(id(PANEL))
    );
    // A case of another child, or a case that does not exist, is refused
    // and nothing of the meeting is kept.
    let wrong_child = MeetingHeld {
        meeting_id: id(PANEL + 1),
        cases: vec![CaseDiscussed {
            child_id: Some(id(MIA)),
            ..held.cases[0].clone()
        }],
        ..held.clone()
    };
    assert!(w
        .refused(EventPayload::MeetingHeld(wrong_child))
        .contains("different child"));
    let unknown = MeetingHeld {
        meeting_id: id(PANEL + 2),
        cases: vec![
            held.cases[0].clone(),
            CaseDiscussed {
                case_id: id(CASE + 9),
                ..held.cases[0].clone()
            },
        ],
        ..held
    };
    w.refused(EventPayload::MeetingHeld(unknown));
    assert_eq!(w.typed::<CaseState>(CASE).meetings.len(), 1);
}
