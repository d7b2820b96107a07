//! Submitting a referral: the checked submission ([`Intake`]) and the
//! events it becomes, in one all-or-nothing unit: the child's
//! `person.recorded` (unless an existing record was chosen), their home and
//! school as `location.recorded` with `lives_at` / `attends` links, each
//! other person involved as `person.recorded`, and the `referral.submitted`
//! that names them all. Front ends parse their input into an [`Intake`]
//! (the web form: `vigil_web::intake::check`) and call
//! [`crate::App::submit_referral`]; [`prepare`] is the one constructor of an
//! event draft for every command.

use crate::sentence;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use vigil_model::codes::{AgencyId, LinkKind, LocationKind, NameKind, Sex};
use vigil_model::dates::DateOfBirth;
use vigil_model::payload::{LinkRecorded, ReferralSubmitted, Referrer};
use vigil_model::pole::LocationDetails;
use vigil_model::time::OccurredAt;
use vigil_model::{
    Actor, EntityKind, EventDraft, EventInput, EventPayload, Location, Person, PersonName,
    SubjectRef,
};
use vigil_rules::london;

/// How many other people the form has rows for.
pub const OTHER_ROWS: usize = 3;

/// The child the referral is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Child {
    /// A record that already exists (chosen from the person's page).
    Existing(Uuid),
    /// A new record. `names` may be empty when nobody knows the child's
    /// name: then `description` and an (approximate) `date_of_birth` say
    /// who they are ("a girl of about 13, dark hair"), and triage can link
    /// the record to a known child later (a `person_match.confirmed`).
    New {
        names: Vec<PersonName>,
        date_of_birth: Option<DateOfBirth>,
        sex: Option<Sex>,
        description: Option<String>,
    },
}

/// A referral form that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Intake {
    pub immediate_danger: bool,
    /// Whether the police were called (given when in immediate danger).
    pub police_called: Option<bool>,
    /// A phone number to call the sender back on.
    pub call_back_on: Option<String>,
    pub child: Child,
    pub home: Option<(Vec<String>, Option<String>)>,
    pub school: Option<String>,
    pub concern: String,
    pub what_seen: Option<String>,
    pub occurred: OccurredAt,
    pub where_text: Option<String>,
    /// Name or nickname, and what else is known.
    pub others: Vec<(String, Option<String>)>,
    pub referrer: Option<Referrer>,
}

/// The events of one referral and the ids that matter afterwards.
pub struct Drafts {
    pub drafts: Vec<EventDraft>,
    pub referral_id: Uuid,
    /// The `referral.submitted` event's id: its receipt is the referrer's.
    pub referral_event: Uuid,
    pub child_id: Uuid,
}

/// Validates one event of a command for the log; a refusal is a sentence.
/// Every command builds its events here (and imports through
/// [`crate::events::draft`]), so all of them get their salt, id and
/// receipt time the same way.
pub fn prepare(
    actor: &Actor,
    agency: &AgencyId,
    occurred_at: OccurredAt,
    body: EventPayload,
    now: DateTime<Utc>,
) -> Result<EventDraft, String> {
    crate::events::draft(
        EventInput {
            id: None,
            actor: actor.clone(),
            agency: agency.clone(),
            occurred_at,
            source: None,
            body,
        },
        now,
    )
    .map_err(|e| sentence(&e))
}

impl Intake {
    /// The events this referral becomes, for `actor` of `agency`, received `now`.
    pub fn drafts(
        &self,
        actor: &Actor,
        agency: &AgencyId,
        now: DateTime<Utc>,
    ) -> Result<Drafts, String> {
        let today = OccurredAt::day(london::local_date(now));
        let mut drafts = Vec::new();
        let mut ev = |occurred: OccurredAt, body: EventPayload| -> Result<(), String> {
            drafts.push(prepare(actor, agency, occurred, body, now)?);
            Ok(())
        };
        let child_id = match &self.child {
            Child::Existing(id) => *id,
            Child::New {
                names,
                date_of_birth,
                sex,
                description,
            } => {
                let id = Uuid::now_v7();
                let mut p = Person::named(id, "", "");
                p.names = names.clone();
                p.date_of_birth = date_of_birth.clone();
                p.sex = *sex;
                p.description = description.clone();
                ev(today.clone(), EventPayload::PersonRecorded(p))?;
                id
            }
        };
        let mut place =
            |kind: LocationKind, details: LocationDetails, link: LinkKind| -> Result<(), String> {
                let location_id = Uuid::now_v7();
                ev(
                    today.clone(),
                    EventPayload::LocationRecorded(Location {
                        location_id,
                        kind,
                        details,
                    }),
                )?;
                ev(
                    today.clone(),
                    EventPayload::LinkRecorded(LinkRecorded {
                        link_id: Uuid::now_v7(),
                        kind: link,
                        from: SubjectRef::new(EntityKind::Person, child_id),
                        to: SubjectRef::new(EntityKind::Location, location_id),
                        since: None,
                        until: None,
                        grading: None,
                        note: Some("Given by the referrer.".into()),
                    }),
                )
            };
        if let Some((lines, postcode)) = &self.home {
            place(
                LocationKind::Home,
                LocationDetails {
                    address_lines: lines.clone(),
                    postcode: postcode.clone(),
                    ..Default::default()
                },
                LinkKind::LivesAt,
            )?;
        }
        if let Some(school) = &self.school {
            place(
                LocationKind::School,
                LocationDetails {
                    name: Some(school.clone()),
                    ..Default::default()
                },
                LinkKind::Attends,
            )?;
        }
        let mut others = Vec::new();
        for (name, details) in &self.others {
            let id = Uuid::now_v7();
            let mut p = Person::named(id, "", "");
            p.names = vec![PersonName {
                given: Some(name.clone()),
                family: None,
                kind: NameKind::Alias,
            }];
            p.description = details.clone();
            ev(today.clone(), EventPayload::PersonRecorded(p))?;
            others.push(id);
        }
        let referral_id = Uuid::now_v7();
        ev(
            self.occurred.clone(),
            EventPayload::ReferralSubmitted(ReferralSubmitted {
                referral_id,
                child_id,
                referrer: self.referrer.clone(),
                concern: self.concern.clone(),
                what_seen: self.what_seen.clone(),
                location_id: None,
                location_text: self.where_text.clone(),
                others_involved: others,
                immediate_danger: self.immediate_danger,
                police_called: self.police_called,
                call_back_on: self.call_back_on.clone(),
            }),
        )?;
        let referral_event = drafts
            .iter()
            .find(|d| matches!(d.payload, EventPayload::ReferralSubmitted(_)))
            .map(|d| d.id)
            .ok_or("the referral itself was not among the events")?;
        Ok(Drafts {
            drafts,
            referral_id,
            referral_event,
            child_id,
        })
    }
}

/// A referral that was written: where to find it.
#[derive(Clone, Copy, Debug)]
pub struct Submitted {
    pub referral_id: Uuid,
    pub child_id: Uuid,
}

/// Why a decision was not recorded, said against what the person chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionRefused {
    /// The reason does not pass the model's rules (no further action needs one).
    Reason(String),
    /// The log refused it (someone decided it first).
    Conflict(String),
}

impl crate::App {
    /// Submits a referral: its events in one all-or-nothing unit, the
    /// referral's receipt kept with them. `Ok(Err(sentence))` when the
    /// rules refuse it (nothing was written). A new child's record is then
    /// matched against existing people ([`crate::App::match_at_intake`]);
    /// the referral stands whether or not that succeeds.
    pub async fn submit_referral(
        self: &std::sync::Arc<Self>,
        who: &crate::Caller,
        intake: &Intake,
    ) -> Result<Result<Submitted, String>, crate::AppError> {
        who.authorise(
            crate::access::Action::SubmitReferral,
            crate::access::Resource::Page,
        )?;
        let (actor, agency) = who.actor()?;
        let drafts = match intake.drafts(&actor, &agency, self.now()) {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        let submitted = Submitted {
            referral_id: drafts.referral_id,
            child_id: drafts.child_id,
        };
        let results = self
            .append_keeping(drafts.drafts, vec![drafts.referral_event])
            .await?;
        if let Some(Err(msg)) = results.iter().find(|r| r.is_err()) {
            return Ok(Err(sentence(msg)));
        }
        if matches!(intake.child, Child::New { .. }) {
            if let Err(e) = self.match_at_intake(submitted.child_id).await {
                eprintln!("vigil: the new record could not be matched at intake: {e}");
            }
        }
        Ok(Ok(submitted))
    }

    /// Records the decision on a referral this user opened to decide.
    pub async fn decide_referral(
        &self,
        who: &crate::Caller,
        referral: &crate::guard::ReferralRecord,
        decision: vigil_model::codes::ReferralDecision,
        reason: Option<String>,
    ) -> Result<Result<(), DecisionRefused>, crate::AppError> {
        if !referral.allows(who, crate::access::Action::DecideReferral) {
            return Err(crate::AppError::Forbidden(
                "Your role cannot decide this referral.".into(),
            ));
        }
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let decided = vigil_model::payload::ReferralDecided {
            referral_id: referral.referral.id,
            decision,
            reason,
        };
        // The model's rule for a child in immediate danger, said against the
        // reason field (the log would refuse it too).
        if let Err(e) = decided.check_against(referral.referral.immediate_danger) {
            return Ok(Err(DecisionRefused::Reason(sentence(&e.to_string()))));
        }
        let body = EventPayload::ReferralDecided(decided);
        let draft = match prepare(&actor, &agency, OccurredAt::exact(now), body, now) {
            Ok(d) => d,
            Err(msg) => return Ok(Err(DecisionRefused::Reason(msg))),
        };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(())),
            Some(Err(msg)) => Ok(Err(DecisionRefused::Conflict(sentence(&msg)))),
            None => Err(crate::AppError::Internal(
                "the decision was not written".into(),
            )),
        }
    }
}

impl crate::App {
    /// Adds information to a referral this user sent
    /// (`referral.information_added`, naming the child so their chronology
    /// shows it). `Ok(Err(sentence))` when the rules refuse it.
    pub async fn add_referral_information(
        &self,
        who: &crate::Caller,
        referral: &crate::guard::ReferralRecord,
        information: String,
    ) -> Result<Result<(), String>, crate::AppError> {
        if !referral.allows(who, crate::access::Action::AddReferralInformation) {
            return Err(crate::AppError::Forbidden(
                "Only whoever sent a referral can add information to it.".into(),
            ));
        }
        let (actor, agency) = who.actor()?;
        let now = self.now();
        let body = EventPayload::ReferralInformationAdded(
            vigil_model::payload::ReferralInformationAdded {
                referral_id: referral.referral.id,
                child_id: referral.referral.child_id,
                information,
            },
        );
        let draft = match prepare(&actor, &agency, OccurredAt::exact(now), body, now) {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(())),
            Some(Err(msg)) => Ok(Err(sentence(&msg))),
            None => Err(crate::AppError::Internal(
                "the information was not written".into(),
            )),
        }
    }
}
