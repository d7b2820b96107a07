//! CSE screenings: the form's subject, the command that records one, the
//! child's screenings as their page shows them, and the latest screening
//! for the rules of other commands.
//!
//! A child of [`crate::guard`], so the form is opened through its one
//! access check and access-log write:
//!
//! - [`screening_form`]: the child a screening is about, for a user who
//!   may open the record and record a screening on it (the access table's
//!   *record a screening for exploitation*); showing the form names the
//!   child, so it is a logged read;
//! - [`crate::App::record_screening`]: computes the risk the answers
//!   support with the one rule (`vigil_rules::screening`), takes the
//!   practitioner's judgement (theirs, or the supported level when they
//!   agree), and appends `screening.recorded` through the one append path;
//! - [`Screened`]: one screening as the child's page shows it (the latest,
//!   and the history of how the assessed risk changed), made with the rest
//!   of the page's summary of the whole chronology
//!   ([`crate::guard::record`]), so it follows the same visibility: a user
//!   sees the screenings of records they may open;
//! - [`crate::App::latest_screening`]: the child's latest screening,
//!   whoever recorded it, for rules such as case closure ("are indicators
//!   active?"). It is not a page's query: it writes no access-log row, and
//!   is visible to this crate only.

use super::{authorised, check, embed, person_of, person_resource, PersonLink};
use crate::access::Action;
use crate::{App, AppError, Caller};
use chrono::NaiveDate;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::codes::RiskLevel;
use vigil_model::payload::{IndicatorAnswer, ScreeningRecorded};
use vigil_model::state::ScreeningState;
use vigil_model::time::OccurredAt;
use vigil_model::{EntityKind, EventPayload, SubjectRef};
use vigil_rules::screening::{ScreeningAnswers, RULE};
use vigil_store::index::{ChronologyQuery, Visibility};

/// The event kind of a screening, as the chronology lists it.
pub const KIND: &str = "screening.recorded";

/// The child a screening form is about, for a user who may record one.
pub struct ScreeningSubject {
    pub child: PersonLink,
    pub child_id: Uuid,
    /// The agency that recorded the child's record (what the access table
    /// checks the command against again).
    recorded_by_agency: String,
}

/// The child of a screening form: authorised (may open the record, and may
/// record a screening on it) and logged.
pub async fn screening_form(
    st: &Arc<App>,
    who: &Caller,
    child_id: Uuid,
) -> Result<super::Authorised<ScreeningSubject>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        let p = person_of(st, child_id)?
            .ok_or_else(|| AppError::NotFound("There is no person at this address.".into()))?;
        check(&who, Action::ViewPerson, person_resource(&p))?;
        check(&who, Action::RecordScreening, person_resource(&p))?;
        let child = embed(st, &who, &p, None)
            .ok_or_else(|| AppError::Internal("an openable person was not shown".into()))?;
        authorised(
            st,
            &who,
            "opened a person's record to record a screening",
            vec![SubjectRef::new(EntityKind::Person, p.id)],
            ScreeningSubject {
                child,
                child_id: p.id,
                recorded_by_agency: p.recorded.agency.clone(),
            },
        )
    })
    .await
}

/// What a practitioner recorded on the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScreeningInput {
    /// Every indicator once.
    pub answers: Vec<IndicatorAnswer>,
    /// The day the screening was done.
    pub done_on: NaiveDate,
    /// Their judgement; `None`: the level the answers support.
    pub judged: Option<RiskLevel>,
    pub reason: Option<String>,
    pub case_id: Option<Uuid>,
    pub referral_id: Option<Uuid>,
}

/// The risk these answers support, by the one rule.
pub fn supported_risk(answers: &[IndicatorAnswer]) -> RiskLevel {
    vigil_rules::screening::supported_risk(&ScreeningAnswers::of(answers))
}

/// A screening that was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub screening_id: Uuid,
    pub supported: RiskLevel,
    pub judged: RiskLevel,
}

impl App {
    /// Records a screening of the child of `subject` (a form this user
    /// opened through [`screening_form`]). `Ok(Err(sentence))` when the
    /// model or the log refuses it; nothing was written.
    pub async fn record_screening(
        &self,
        who: &Caller,
        subject: &ScreeningSubject,
        input: &ScreeningInput,
    ) -> Result<Result<Recorded, String>, AppError> {
        who.authorise(
            Action::RecordScreening,
            crate::access::Resource::Person {
                recorded_by_agency: &subject.recorded_by_agency,
            },
        )?;
        let (actor, agency) = who.actor()?;
        let supported = supported_risk(&input.answers);
        let judged = input.judged.unwrap_or(supported);
        let screening_id = Uuid::now_v7();
        let body = EventPayload::ScreeningRecorded(ScreeningRecorded {
            screening_id,
            child_id: subject.child_id,
            case_id: input.case_id,
            referral_id: input.referral_id,
            answers: input.answers.clone(),
            supported_risk: supported,
            risk_rule: RULE.to_owned(),
            judged_risk: judged,
            reason: input.reason.clone(),
        });
        let now = self.now();
        let draft = match crate::referral::prepare(
            &actor,
            &agency,
            OccurredAt::day(input.done_on),
            body,
            now,
        ) {
            Ok(d) => d,
            Err(msg) => return Ok(Err(msg)),
        };
        match self.append(vec![draft]).await?.into_iter().next() {
            Some(Ok(_)) => Ok(Ok(Recorded {
                screening_id,
                supported,
                judged,
            })),
            Some(Err(msg)) => Ok(Err(crate::sentence(&msg))),
            None => Err(AppError::Internal("the screening was not written".into())),
        }
    }

    /// The child's latest screening (by the day it was done, then the
    /// order recorded), whoever recorded it: for the rules of commands,
    /// such as closing a case while indicators are active
    /// ([`ScreeningState::indicators_active`]). Pages show screenings
    /// through the child's record, which follows the access table.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn latest_screening(&self, child: Uuid) -> Result<Option<ScreeningState>, AppError> {
        let mut last = None;
        let mut offset = 0;
        loop {
            let page = self.store.chronology(
                child,
                &ChronologyQuery {
                    kinds: vec![KIND.to_owned()],
                    visibility: Visibility::All,
                    offset,
                    limit: vigil_store::index::MAX_PAGE,
                    counts: false,
                    ..ChronologyQuery::default()
                },
            )?;
            let n = page.rows.len() as u64;
            // Rows come in the order things happened (then the log's).
            if let Some(r) = page.rows.last() {
                last = Some(r.record_id);
            }
            if n < vigil_store::index::MAX_PAGE {
                break;
            }
            offset += n;
        }
        let Some(id) = last else { return Ok(None) };
        Ok(self
            .store
            .entity(id)?
            .and_then(|r| r.as_kind::<ScreeningState>().cloned()))
    }
}

/// One screening as the child's page shows it.
#[derive(Clone, Debug)]
pub struct Screened {
    pub id: Uuid,
    /// When it was done.
    pub done: OccurredAt,
    /// The day it was done (for the history's steps).
    pub day: NaiveDate,
    pub supported: RiskLevel,
    pub judged: RiskLevel,
    pub reason: Option<String>,
    /// The indicators answered yes, with the day known and the source.
    pub yes: Vec<IndicatorAnswer>,
    pub not_known: usize,
    /// The agency (code and name) and user who recorded it.
    pub agency: String,
    pub agency_name: String,
    pub by: String,
    pub log_index: u64,
}

impl Screened {
    /// From a screening's record and the log index of its event.
    pub(crate) fn of(
        id: Uuid,
        s: &ScreeningState,
        log_index: u64,
        agency_name: String,
    ) -> Option<Screened> {
        Some(Screened {
            id,
            day: s.done.earliest_day().ok()?,
            done: s.done.clone(),
            supported: s.supported_risk,
            judged: s.judged_risk,
            reason: s.reason.clone(),
            yes: s
                .answers
                .iter()
                .filter(|a| a.answer == vigil_model::codes::ScreeningAnswer::Yes)
                .cloned()
                .collect(),
            not_known: s.not_known(),
            agency: s.recorded.agency.to_string(),
            agency_name,
            by: s.recorded.by.clone(),
            log_index,
        })
    }

    /// About how many bytes it holds (for the summary cache).
    pub(crate) fn bytes(&self) -> usize {
        256 + self.agency_name.len()
            + self.reason.as_ref().map_or(0, String::len)
            + self
                .yes
                .iter()
                .map(|a| 64 + a.source.as_ref().map_or(0, String::len))
                .sum::<usize>()
    }

    /// A line for the chronology: the judgement and what the answers support.
    pub fn summary(&self) -> String {
        let yes: Vec<&str> = self.yes.iter().map(|a| a.indicator.label()).collect();
        let mut s = format!(
            "Risk judged {}; the answers support {}",
            self.judged.label().to_lowercase(),
            self.supported.label().to_lowercase()
        );
        if !yes.is_empty() {
            s.push_str(&format!(
                " ({} {} yes)",
                yes.len(),
                if yes.len() == 1 {
                    "indicator"
                } else {
                    "indicators"
                }
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_ledger::LogSigner;
    use vigil_model::codes::{Indicator, ScreeningAnswer};
    use vigil_model::dates::Date;
    use vigil_model::{Actor, EventInput, Person};
    use vigil_store::sqlite::SqliteStore;
    use vigil_store::Store;

    fn answers(yes: &[Indicator]) -> Vec<IndicatorAnswer> {
        Indicator::ALL
            .iter()
            .map(|i| {
                let y = yes.contains(i);
                IndicatorAnswer {
                    indicator: *i,
                    answer: if y {
                        ScreeningAnswer::Yes
                    } else {
                        ScreeningAnswer::No
                    },
                    known_on: y.then(|| Date::parse("2025-05-01").unwrap()),
                    source: y.then(|| "Youth worker".to_owned()),
                }
            })
            .collect()
    }

    fn event(body: EventPayload, day: &str) -> vigil_model::EventDraft {
        crate::events::draft(
            EventInput {
                id: None,
                actor: Actor {
                    user: "worker".into(),
                    role: vigil_model::codes::Role::Practitioner,
                },
                agency: vigil_model::codes::AgencyId::new("northshire-police").unwrap(),
                occurred_at: OccurredAt::day(NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()),
                source: None,
                body,
            },
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn screening(child: Uuid, yes: &[Indicator], judged: RiskLevel) -> EventPayload {
        let a = answers(yes);
        let supported = supported_risk(&a);
        EventPayload::ScreeningRecorded(ScreeningRecorded {
            screening_id: Uuid::now_v7(),
            child_id: child,
            case_id: None,
            referral_id: None,
            answers: a,
            supported_risk: supported,
            risk_rule: RULE.into(),
            judged_risk: judged,
            reason: (judged != supported).then(|| "Known to the team".to_owned()),
        })
    }

    /// On a real SQLite store: the latest is by the day it was done, not
    /// the order recorded, and says whether indicators are active.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_latest_screening_is_the_last_done_whoever_recorded_it() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("v.sqlite"), LogSigner::generate()).unwrap(),
        );
        let app = App::new(Arc::clone(&store), crate::system_clock());
        let child = Uuid::now_v7();
        let other = Uuid::now_v7();
        store
            .append(vec![
                event(
                    EventPayload::PersonRecorded(Person::named(child, "Jade", "Example")),
                    "2025-01-01",
                ),
                event(
                    EventPayload::PersonRecorded(Person::named(other, "Mia", "Example")),
                    "2025-01-01",
                ),
            ])
            .unwrap();
        assert!(app.latest_screening(child).unwrap().is_none());
        store
            .append(vec![event(
                screening(child, &[Indicator::CarsWithAdults], RiskLevel::High),
                "2025-05-10",
            )])
            .unwrap();
        // Recorded later, but done earlier: not the latest.
        store
            .append(vec![event(
                screening(child, &[], RiskLevel::Low),
                "2025-04-01",
            )])
            .unwrap();
        store
            .append(vec![event(
                screening(other, &[], RiskLevel::Medium),
                "2025-06-01",
            )])
            .unwrap();
        let latest = app.latest_screening(child).unwrap().unwrap();
        assert_eq!(latest.judged_risk, RiskLevel::High);
        assert!(latest.indicators_active());
        // A later screening with nothing answered yes: indicators no longer active.
        store
            .append(vec![event(
                screening(child, &[], RiskLevel::Low),
                "2025-06-01",
            )])
            .unwrap();
        let latest = app.latest_screening(child).unwrap().unwrap();
        assert!(!latest.indicators_active());
        assert_eq!(latest.supported_risk, RiskLevel::Low);
    }
}
