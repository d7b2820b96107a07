//! The alert runner: follows the log by index, feeds each event's facts
//! to the rules of `vigil_rules::alerts` and records every alert they
//! raise as an `alert.raised` event through the one append path.
//!
//! Restart-safe and single-raising by construction rather than by a
//! cursor table: an alert's id is derived from its rule and the events that
//! met it, the model refuses an id already in the log, and the runner skips
//! one it finds there. A new runner (a restart, a second server, a reloaded
//! rule file) reads the log from the start to rebuild the rules' windows,
//! and raises only what the log does not already hold. Reading is pure
//! and quick (the days-to-alert benchmark replays a borough's history in
//! under a second); appends happen only for new alerts.
//!
//! Each step that reads the log to its end also tells the rules the time
//! (the clock rules: an overdue return home interview, case action or
//! referral decision) and records the `referral.escalated` events the
//! queue calls for (`guard::record_escalations`), so overdue referrals
//! escalate on the server's timer without anyone opening a page.
//!
//! The rules see facts and ages, never a person's record: the age of a
//! victim is worked out here from the recorded date of birth.

use crate::{App, AppError};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, Mutex};
use uuid::Uuid;
use vigil_model::payload::{AlertRaised, EventPayload};
use vigil_model::state::{LocationState, PersonState};
use vigil_model::time::OccurredAt;
use vigil_model::EventHeader;
use vigil_rules::alerts::{facts_of_event, Evaluator, RuleFile, Trigger};

/// Most entries read in one step of the runner (the rest the next step).
pub const STEP_ENTRIES: u64 = 20_000;

/// Where the runner is: its rules, their windows, the next entry to read.
pub struct Runner {
    rules: RuleFile,
    evaluator: Evaluator,
    next: u64,
    /// Whether the evaluator counts with the app's deadline rules yet (it
    /// is made on the first step, when the app's rules are known).
    started: bool,
}

impl Runner {
    pub fn new(rules: RuleFile) -> Runner {
        Runner {
            evaluator: Evaluator::new(&rules),
            rules,
            next: 0,
            started: false,
        }
    }

    /// The next log index it will read.
    pub fn next_index(&self) -> u64 {
        self.next
    }
}

/// What one step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Entries read.
    pub read: u64,
    /// Alerts the rules raised in them (new or already in the log).
    pub met: usize,
    /// Alerts recorded now (not in the log before).
    pub raised: usize,
    /// Whether the step read the log to its end (then the clock rules
    /// were checked and overdue referrals escalated).
    pub caught_up: bool,
    /// `referral.escalated` events recorded now.
    pub escalated: usize,
}

/// The runner of an [`App`]; a `Mutex` because one step runs at a time.
pub type Shared = Mutex<Runner>;

fn day_of(h: &EventHeader) -> Option<NaiveDate> {
    h.occurred_at.value.get(..10).and_then(|d| d.parse().ok())
}

/// When the event was first recorded anywhere: by the source system for
/// imported history, otherwise by Vigil (what the pages' deadlines run
/// from, `readmodel::Stamp::first_recorded`).
fn first_recorded(h: &EventHeader) -> DateTime<Utc> {
    h.source
        .as_ref()
        .and_then(|s| s.recorded())
        .or_else(|| {
            DateTime::parse_from_rfc3339(&h.recorded_at)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl App {
    /// Uses these rules from now on: the runner starts again from the start
    /// of the log (rebuilding the windows) and raises only alerts the log
    /// lacks, so a reload never repeats one.
    pub fn use_alert_rules(&self, rules: RuleFile) {
        *self.alert_runner.lock().unwrap_or_else(|e| e.into_inner()) = Runner::new(rules);
    }

    /// The rules in use.
    pub fn alert_rules(&self) -> RuleFile {
        self.alert_runner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rules
            .clone()
    }

    /// Reads the log from where the runner is (at most [`STEP_ENTRIES`])
    /// and records the alerts its rules raise. Called by the server's
    /// periodic check; run it again while `read` is not zero to catch up.
    pub async fn run_alerts(self: &Arc<Self>) -> Result<Step, AppError> {
        let (drafts, step) = self.blocking(|st| st.alert_step()).await?;
        let mut step = step;
        if !drafts.is_empty() {
            // A refusal is an alert another server recorded first.
            step.raised = self
                .append(drafts)
                .await?
                .iter()
                .filter(|r| r.is_ok())
                .count();
        }
        if step.caught_up {
            // Overdue referrals escalate here, on the server's timer, by
            // the same policy and with the same events as the queue pages.
            step.escalated = crate::guard::record_escalations(self).await?;
        }
        Ok(step)
    }

    fn alert_step(&self) -> Result<(Vec<vigil_model::EventDraft>, Step), AppError> {
        let mut runner = self.alert_runner.lock().unwrap_or_else(|e| e.into_inner());
        if !runner.started {
            // The deadlines the pages show are the ones the rules count.
            runner.evaluator = Evaluator::with_deadlines(&runner.rules, self.rules.clone());
            runner.started = true;
        }
        let from = runner.next;
        let mut triggers: Vec<Trigger> = Vec::new();
        let mut read = 0u64;
        let mut last = None;
        let store = &self.store;
        let age_of = |person: Uuid, day: NaiveDate| -> Option<u32> {
            let rec = store.entity(person).ok()??;
            let dob = rec.as_kind::<PersonState>()?.date_of_birth.clone()?;
            day.years_since(dob.earliest_day().ok()?)
        };
        // A location's postcode (the rules see it, not the record).
        let place_of = |place: Uuid| -> Option<String> {
            let rec = store.entity(place).ok()??;
            rec.as_kind::<LocationState>()?.details.postcode.clone()
        };
        let evaluator = &mut runner.evaluator;
        // The store has no "stop" answer: a step ends with this marker.
        const ENOUGH: &str = "alert runner: step full";
        let walked = self.store.for_each_entry(from, &mut |e| {
            if read >= STEP_ENTRIES {
                return Err(vigil_store::StoreError::Config(ENOUGH.into()));
            }
            read += 1;
            last = Some(e.index);
            let (Some(payload), Ok(h)) = (
                e.payload_json.as_deref(),
                serde_json::from_str::<EventHeader>(&e.header_json),
            ) else {
                return Ok(());
            };
            let Ok(body) = EventPayload::from_kind_and_json(&h.kind, payload) else {
                return Ok(());
            };
            let Some(on) = day_of(&h) else {
                return Ok(());
            };
            for fact in facts_of_event(h.id, on, first_recorded(&h), &body, &age_of, &place_of) {
                triggers.extend(evaluator.observe(&fact));
            }
            Ok(())
        });
        let caught_up = match walked {
            Err(vigil_store::StoreError::Config(m)) if m == ENOUGH => false,
            Ok(()) => true,
            Err(e) => return Err(e.into()),
        };
        if let Some(l) = last {
            runner.next = l + 1;
        }
        let now = self.now();
        // The clock rules: only once the whole log is read, or work
        // recorded further on would look undone.
        if caught_up {
            triggers.extend(runner.evaluator.tick(now));
        }
        drop(runner);
        let met = triggers.len();
        let (actor, agency) = crate::queue::system_actor();
        let mut drafts = Vec::new();
        for t in triggers {
            let id = t.alert_id();
            if self.store.entity(id)?.is_some() {
                continue;
            }
            let body = EventPayload::AlertRaised(AlertRaised {
                alert_id: id,
                rule: t.rule,
                severity: t.severity,
                child_id: t.child,
                says: t.says,
                events: t.events,
            });
            match crate::referral::prepare(&actor, &agency, OccurredAt::exact(now), body, now) {
                Ok(d) => drafts.push(d),
                Err(msg) => eprintln!("vigil: an alert could not be drafted: {msg}"),
            }
        }
        Ok((
            drafts,
            Step {
                read,
                met,
                raised: 0,
                caught_up,
                escalated: 0,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_ledger::LogSigner;
    use vigil_model::codes::{AgencyId, MissingType, Role};
    use vigil_model::payload::MissingEpisodeRecorded;
    use vigil_model::{Actor, EventInput, Person};
    use vigil_store::sqlite::SqliteStore;
    use vigil_store::Store;

    fn event(body: EventPayload) -> vigil_model::EventDraft {
        crate::events::draft(
            EventInput {
                id: None,
                actor: Actor {
                    user: "pc1".into(),
                    role: Role::Practitioner,
                },
                agency: AgencyId::new("police").unwrap(),
                occurred_at: OccurredAt::day(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()),
                source: None,
                body,
            },
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn missing(child: Uuid, day: u32) -> vigil_model::EventDraft {
        missing_episode(child, day, Uuid::now_v7(), true)
    }

    /// An episode beginning at 21:00 on `day` of March 2025, recorded with
    /// its end three hours later when `ended`.
    fn missing_episode(
        child: Uuid,
        day: u32,
        episode_id: Uuid,
        ended: bool,
    ) -> vigil_model::EventDraft {
        let at = chrono::NaiveDate::from_ymd_opt(2025, 3, day)
            .unwrap()
            .and_hms_opt(21, 0, 0)
            .unwrap()
            .and_utc();
        event(EventPayload::MissingEpisodeRecorded(
            MissingEpisodeRecorded {
                episode_id,
                child_id: child,
                missing_type: MissingType::Missing,
                started_at: vigil_model::dates::Timestamp::from_utc(at),
                ended_at: ended.then(|| {
                    vigil_model::dates::Timestamp::from_utc(at + chrono::TimeDelta::hours(3))
                }),
                reported_by: None,
                circumstances: None,
                placement_id: None,
            },
        ))
    }

    fn rules(count: u32) -> RuleFile {
        RuleFile::parse(&format!(
            "[[rule]]\nid = \"repeated-missing\"\ndetector = \"missing_episodes\"\nseverity = \"high\"\nsays = \"Missing often\"\ncount = {count}\nwithin_days = 30\n"
        ))
        .unwrap()
    }

    fn alerts(store: &dyn Store) -> usize {
        store
            .entities_of_kind(vigil_model::EntityKind::Alert)
            .unwrap()
            .len()
    }

    /// On a real SQLite store: three missing episodes in a month raise one
    /// alert, recorded as an event by Vigil; running again, restarting (a
    /// new app on the same store) or a second server raises no second one;
    /// a reloaded rule file is used from the start of the log.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_alert_is_raised_once_across_runs_restarts_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("v.sqlite"), LogSigner::generate()).unwrap(),
        );
        let child = Uuid::now_v7();
        let mut drafts = vec![event(EventPayload::PersonRecorded(Person::named(
            child, "Jade", "Example",
        )))];
        drafts.extend([missing(child, 1), missing(child, 10)]);
        for r in store.append(drafts).unwrap().results {
            r.unwrap();
        }
        let app = Arc::new(App::new(Arc::clone(&store), crate::system_clock()));
        app.use_alert_rules(rules(3));
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.read, s.met, s.raised), (3, 0, 0));
        // The third within 30 days meets the rule.
        for r in store.append(vec![missing(child, 20)]).unwrap().results {
            r.unwrap();
        }
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.read, s.met, s.raised), (1, 1, 1));
        assert_eq!(alerts(store.as_ref()), 1);
        let a = store
            .entities_of_kind(vigil_model::EntityKind::Alert)
            .unwrap()
            .remove(0);
        let state = a.as_kind::<vigil_model::state::AlertState>().unwrap();
        assert_eq!(
            (state.rule.as_str(), state.child_id),
            ("repeated-missing", child)
        );
        assert_eq!(state.events.len(), 3);
        assert_eq!(state.raised.by, "vigil");
        // Nothing new: nothing raised (the alert event itself is read).
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.met, s.raised), (0, 0));
        // A restart, and a second server, read the log again: no second alert.
        for _ in 0..2 {
            let again = Arc::new(App::new(Arc::clone(&store), crate::system_clock()));
            again.use_alert_rules(rules(3));
            let s = again.run_alerts().await.unwrap();
            assert_eq!((s.met, s.raised), (1, 0));
        }
        assert_eq!(alerts(store.as_ref()), 1);
        // A reloaded rule file (two episodes are enough now) reads from the
        // start: the first two episodes are a new alert, the run of three
        // is the one already recorded... and (1, 10, 20) meets it once more
        // from its second pair, which is a different set of events.
        app.use_alert_rules(rules(2));
        assert_eq!(app.alert_rules().rules[0].id, "repeated-missing");
        let s = app.run_alerts().await.unwrap();
        assert!(s.raised >= 1, "{s:?}");
        let after = alerts(store.as_ref());
        let s = app.run_alerts().await.unwrap();
        assert_eq!(s.raised, 0);
        assert_eq!(alerts(store.as_ref()), after);
    }

    /// A clock the test sets.
    fn clock_at(
        t: chrono::DateTime<chrono::Utc>,
    ) -> (crate::Clock, Arc<Mutex<chrono::DateTime<chrono::Utc>>>) {
        let now = Arc::new(Mutex::new(t));
        let read = Arc::clone(&now);
        (Arc::new(move || *read.lock().unwrap()), now)
    }

    /// On a real SQLite store: a child back from missing with no return
    /// home interview raises the overdue alert once, when 72 hours have
    /// passed (not a minute before), as Vigil's own event; running again,
    /// or a restart reading the log from the start, raises no second one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_overdue_return_interview_is_raised_once_and_not_again_after_a_restart() {
        use vigil_model::payload::MissingEpisodeReturned;
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("v.sqlite"), LogSigner::generate()).unwrap(),
        );
        let child = Uuid::now_v7();
        let episode_id = Uuid::now_v7();
        let episode = missing_episode(child, 1, episode_id, false);
        let back = chrono::NaiveDate::from_ymd_opt(2025, 3, 2)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap()
            .and_utc();
        let returned = event(EventPayload::MissingEpisodeReturned(
            MissingEpisodeReturned {
                episode_id,
                returned_at: vigil_model::dates::Timestamp::from_utc(back),
                found_location_id: None,
                return_interview_offered: true,
                note: None,
                found_place: None,
                found_by: None,
                found_with_person_id: None,
                found_with: None,
            },
        ));
        let return_event = returned.id;
        let drafts = vec![
            event(EventPayload::PersonRecorded(Person::named(
                child, "Jade", "Example",
            ))),
            episode,
            returned,
        ];
        for r in store.append(drafts).unwrap().results {
            r.unwrap();
        }
        let interview_rule = || {
            let mut f = RuleFile::defaults();
            f.rules.retain(|r| r.id == "return-interview-overdue");
            assert_eq!(f.rules.len(), 1);
            f
        };
        let due = back + chrono::TimeDelta::hours(72);
        let (clock, now) = clock_at(due - chrono::TimeDelta::minutes(1));
        let app = Arc::new(App::new(Arc::clone(&store), clock.clone()));
        app.use_alert_rules(interview_rule());
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.read, s.met, s.raised), (3, 0, 0), "not yet");
        *now.lock().unwrap() = due;
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.read, s.met, s.raised), (0, 1, 1));
        let a = store
            .entities_of_kind(vigil_model::EntityKind::Alert)
            .unwrap()
            .remove(0);
        let state = a.as_kind::<vigil_model::state::AlertState>().unwrap();
        assert_eq!(
            (state.rule.as_str(), state.child_id, state.events.clone()),
            ("return-interview-overdue", child, vec![return_event])
        );
        assert_eq!(state.raised.by, "vigil");
        // Again, and later: nothing new.
        *now.lock().unwrap() = due + chrono::TimeDelta::days(3);
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.met, s.raised), (0, 0));
        // A restart reads the log from the start: the same alert, already
        // in the log, is not raised again.
        let again = Arc::new(App::new(Arc::clone(&store), clock));
        again.use_alert_rules(interview_rule());
        let s = again.run_alerts().await.unwrap();
        assert_eq!((s.met, s.raised), (1, 0));
        let s = again.run_alerts().await.unwrap();
        assert_eq!((s.met, s.raised), (0, 0));
        assert_eq!(alerts(store.as_ref()), 1);
    }

    /// The runner escalates an overdue referral itself: no page is
    /// opened, and it raises the overdue-decision alert too; a second run
    /// records neither again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_runner_escalates_an_overdue_referral_without_a_page_load() {
        use vigil_model::payload::ReferralSubmitted;
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("v.sqlite"), LogSigner::generate()).unwrap(),
        );
        let child = Uuid::now_v7();
        let referral = event(EventPayload::ReferralSubmitted(ReferralSubmitted {
            referral_id: Uuid::now_v7(),
            child_id: child,
            referrer: None,
            concern: "Seen getting into cars with older men after school.".into(),
            what_seen: None,
            location_id: None,
            location_text: None,
            others_involved: vec![],
            immediate_danger: false,
            police_called: None,
            call_back_on: None,
        }));
        let drafts = vec![
            event(EventPayload::PersonRecorded(Person::named(
                child, "Jade", "Example",
            ))),
            referral,
        ];
        for r in store.append(drafts).unwrap().results {
            r.unwrap();
        }
        let escalations = || {
            let mut n = 0;
            store
                .for_each_entry(0, &mut |e| {
                    if e.header_json.contains("\"referral.escalated\"") {
                        n += 1;
                    }
                    Ok(())
                })
                .unwrap();
            n
        };
        // Ten days after it was received: well past its working day.
        let (clock, _) = clock_at(chrono::Utc::now() + chrono::TimeDelta::days(10));
        let app = Arc::new(App::new(Arc::clone(&store), clock));
        let mut f = RuleFile::defaults();
        f.rules.retain(|r| r.id == "referral-decision-overdue");
        app.use_alert_rules(f);
        let s = app.run_alerts().await.unwrap();
        assert!(s.caught_up);
        assert_eq!((s.met, s.raised, s.escalated), (1, 1, 1), "{s:?}");
        assert_eq!(escalations(), 1);
        let s = app.run_alerts().await.unwrap();
        assert_eq!((s.met, s.raised, s.escalated), (0, 0, 0), "{s:?}");
        assert_eq!(escalations(), 1);
        assert_eq!(alerts(store.as_ref()), 1);
    }
}
