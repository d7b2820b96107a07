//! Casework about a child: referrals and assessments, missing episodes,
//! placements, allocations, meetings, cases and notes.

use super::{ensure_new, persons, reject, require_all, same_child, subject, Ctx, Kind};
use crate::codes::{
    ActionStatus, AgencyId, CaseDecision, CaseLevel, CinFactor, MeetingKind, MissingType,
    PlacementType, ReferralDecision, RiskLevel,
};
use crate::dates::{Date, Timestamp};
use crate::event::{EntityKind, EventHeader, ModelError, SubjectRef};
use crate::projection::{ProjectionError, Projector};
use crate::state::{
    AddedInformation, AllocationState, AllocationStatus, AssessmentState, CaseAction, CaseContext,
    CaseHistoryEntry, CaseMeeting, CaseRiskEntry, CaseState, CaseStatus, ClosureRequest,
    ClosureSignOff, EpisodeStatus, LinkedChild, MeetingState, MissingEpisodeState,
    MultiAgencyMeetingState, PersonState, PlacementState, PlacementStatus, ReferralState,
    ReferralStatus, ReturnInterview, Stamp,
};
use crate::text::{
    check_count, check_line, check_opt_line, check_opt_text, check_text, check_unique,
    check_user_id, MAX_LONG_CHARS, MAX_NAME_CHARS, MAX_SHORT_CHARS,
};
use crate::time::truncate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Referrals and assessments
// ---------------------------------------------------------------------------

/// How to reach the person who raised a concern, when that is not the user
/// recording it (a member of the public, a taxi driver, a hotel receptionist).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referrer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their role or relationship to the child ("teacher", "neighbour").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Referrer {
    fn validate(&self) -> Result<(), ModelError> {
        if self.name.is_none()
            && self.role.is_none()
            && self.organisation.is_none()
            && self.phone.is_none()
            && self.email.is_none()
        {
            return Err(ModelError::invalid(
                "the referrer's details are empty; leave them out if the referrer is the person recording",
            ));
        }
        check_opt_line("the referrer's name", &self.name, MAX_NAME_CHARS)?;
        check_opt_line("the referrer's role", &self.role, MAX_NAME_CHARS)?;
        check_opt_line(
            "the referrer's organisation",
            &self.organisation,
            MAX_NAME_CHARS,
        )?;
        if let Some(p) = &self.phone {
            crate::pole::check_phone_number(p)?;
        }
        if let Some(e) = &self.email {
            let ok = e.len() <= 254
                && e.matches('@').count() == 1
                && !e.starts_with('@')
                && !e.ends_with('@')
                && e.chars().all(|c| !c.is_whitespace() && !c.is_control());
            if !ok {
                return Err(ModelError::invalid(format!(
                    "'{}' is not an email address",
                    truncate(e)
                )));
            }
        }
        Ok(())
    }
}

/// `referral.submitted`: a concern about a child. Its decision is due
/// within one working day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSubmitted {
    pub referral_id: Uuid,
    pub child_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<Referrer>,
    /// What the concern is.
    pub concern: String,
    /// What was seen or heard, in the referrer's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_seen: Option<String>,
    /// Where, as a recorded location ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// ... or in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_text: Option<String>,
    /// Other people involved (adults, other children).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others_involved: Vec<Uuid>,
    /// The child is in immediate danger (call 999 as well as recording).
    pub immediate_danger: bool,
    /// Whether the police were called (999). Required when the child is in
    /// immediate danger, so the front door knows whether to call them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_called: Option<bool>,
    /// A phone number the front door can call the sender back on (the
    /// sender is the event's actor; [`Referrer`] is someone else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_back_on: Option<String>,
}

impl Kind for ReferralSubmitted {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![
            subject(EntityKind::Referral, self.referral_id),
            subject(EntityKind::Person, self.child_id),
        ];
        v.extend(persons(&self.others_involved));
        v.extend(self.location_id.map(|l| subject(EntityKind::Location, l)));
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("what the concern is", &self.concern, MAX_LONG_CHARS, true)?;
        check_opt_text("what was seen", &self.what_seen, MAX_LONG_CHARS)?;
        check_opt_line("where it happened", &self.location_text, MAX_SHORT_CHARS)?;
        if let Some(r) = &self.referrer {
            r.validate()?;
        }
        if self.immediate_danger && self.police_called.is_none() {
            return Err(ModelError::invalid(
                "say whether the police were called: a referral of a child in immediate danger records it",
            ));
        }
        if let Some(p) = &self.call_back_on {
            crate::pole::check_phone_number(p)?;
        }
        check_count("the other people involved", &self.others_involved, false)?;
        check_unique("the list of other people involved", &self.others_involved)?;
        if self.others_involved.contains(&self.child_id) {
            return Err(ModelError::invalid(
                "the child is listed among the other people involved",
            ));
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        p.require(EntityKind::Person, self.child_id)?;
        require_all(p, EntityKind::Person, &self.others_involved)?;
        if let Some(l) = self.location_id {
            p.require(EntityKind::Location, l)?;
        }
        p.create(
            self.referral_id,
            ReferralState {
                child_id: self.child_id,
                referrer: self.referrer.clone(),
                concern: self.concern.clone(),
                what_seen: self.what_seen.clone(),
                location_id: self.location_id,
                location_text: self.location_text.clone(),
                others_involved: self.others_involved.clone(),
                immediate_danger: self.immediate_danger,
                police_called: self.police_called,
                call_back_on: self.call_back_on.clone(),
                status: ReferralStatus::AwaitingDecision,
                submitted: Stamp::of(h),
                decision: None,
                decision_reason: None,
                decided: None,
                assessment: None,
                escalation: None,
                escalations: Vec::new(),
                information_added: Vec::new(),
            },
        )
    }
}

/// `referral.decided`: what was decided. A referral is decided once; the
/// decider is the event's actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralDecided {
    pub referral_id: Uuid,
    pub decision: ReferralDecision,
    /// Required for no further action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ReferralDecided {
    /// The rule that needs the referral: on a referral of a child in
    /// immediate danger, a decision below a strategy discussion (no further
    /// action, early help, an assessment) needs a reason. The projection
    /// enforces it; commands ask first, to say so against the form's field.
    pub fn check_against(&self, immediate_danger: bool) -> Result<(), ModelError> {
        if immediate_danger
            && self.decision.below_strategy_discussion()
            && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(ModelError::invalid(format!(
                "the referrer said the child is in immediate danger, so a decision of {} needs a reason: say why a strategy discussion is not needed",
                self.decision.label().to_lowercase()
            )));
        }
        Ok(())
    }
}

impl Kind for ReferralDecided {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Referral, self.referral_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.decision.needs_reason()
            && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(ModelError::invalid(
                "a decision of no further action needs a reason: say why no action is needed",
            ));
        }
        check_opt_text("the reason", &self.reason, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.referral_id;
        p.update(id, |s: &mut ReferralState| {
            if s.status != ReferralStatus::AwaitingDecision {
                let when = s.decided.as_ref().map_or("earlier", |d| d.at.as_str());
                return Err(reject(format!(
                    "referral {id} was already decided ({when})"
                )));
            }
            self.check_against(s.immediate_danger)
                .map_err(|e| reject(e.to_string()))?;
            s.status = ReferralStatus::Decided;
            s.decision = Some(self.decision);
            if let Some(r) = &self.reason {
                s.decision_reason = Some(r.clone());
            }
            s.decided = Some(Stamp::of(h));
            Ok(())
        })
    }
}

/// `referral.information_added`: the sender of a referral tells the front
/// door more, later (the referrer closes the loop). A new event on the
/// referral, never a change to what was sent; it names the child, so their
/// chronology shows it. Only whoever sent the referral (the same account
/// of the same agency) may add to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralInformationAdded {
    pub referral_id: Uuid,
    /// The referral's child (checked against the referral).
    pub child_id: Uuid,
    /// What the sender adds, in their words.
    pub information: String,
}

impl Kind for ReferralInformationAdded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![
            subject(EntityKind::Referral, self.referral_id),
            subject(EntityKind::Person, self.child_id),
        ]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "the information added",
            &self.information,
            MAX_LONG_CHARS,
            true,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.referral_id;
        same_child::<ReferralState>(p, id, self.child_id)?;
        p.update(id, |s: &mut ReferralState| {
            if s.submitted.by != h.actor.user || s.submitted.agency != h.agency {
                return Err(reject(format!(
                    "only whoever sent referral {id} may add information to it"
                )));
            }
            if s.information_added.len() >= MAX_ADDITIONS {
                return Err(reject(format!(
                    "referral {id} already has {MAX_ADDITIONS} additions; raise a new concern instead"
                )));
            }
            s.information_added.push(AddedInformation {
                information: self.information.clone(),
                added: Stamp::of(h),
            });
            Ok(())
        })
    }
}

/// Most additions one referral takes (a bound on hostile data; a person
/// adding this much should raise a new concern).
pub const MAX_ADDITIONS: usize = 100;

/// `assessment.completed`: the factors identified at the end of the
/// assessment a referral led to (Children in Need census).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentCompleted {
    pub referral_id: Uuid,
    /// At least one; `21` (no factors identified) stands alone.
    pub factors: Vec<CinFactor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl Kind for AssessmentCompleted {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Referral, self.referral_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.factors.is_empty() {
            return Err(ModelError::invalid(
                "list the factors identified by the assessment, or 21 if there were none",
            ));
        }
        check_count("the factors", &self.factors, true)?;
        check_unique("the list of factors", &self.factors)?;
        if self.factors.len() > 1 && self.factors.contains(&CinFactor::F21) {
            return Err(ModelError::invalid(
                "factor 21 (no factors identified) cannot be recorded with other factors",
            ));
        }
        check_opt_text("the summary", &self.summary, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.referral_id;
        p.update(id, |s: &mut ReferralState| {
            if !matches!(
                s.decision,
                Some(ReferralDecision::Assessment | ReferralDecision::StrategyDiscussion)
            ) {
                return Err(reject(format!(
                    "referral {id} was not decided for assessment or a strategy discussion, so no assessment can be completed on it"
                )));
            }
            if s.assessment.is_some() {
                return Err(reject(format!("the assessment for referral {id} has already been completed")));
            }
            s.assessment = Some(AssessmentState {
                factors: self.factors.clone(),
                summary: self.summary.clone(),
                completed: Stamp::of(h),
            });
            s.status = ReferralStatus::Assessed;
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// Missing episodes
// ---------------------------------------------------------------------------

/// `missing_episode.recorded`: a child missing or away without
/// authorisation (SSDA903 MISSING, MIS_START, MIS_END). A child's episodes
/// cannot overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingEpisodeRecorded {
    pub episode_id: Uuid,
    pub child_id: Uuid,
    pub missing_type: MissingType,
    pub started_at: Timestamp,
    /// When recorded after the child has already returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<Timestamp>,
    /// Who reported the child missing ("foster carer", "children's home staff").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circumstances: Option<String>,
    /// The placement the child went missing from, if looked after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement_id: Option<Uuid>,
}

fn check_episode_times(start: &Timestamp, end: &Timestamp) -> Result<(), ModelError> {
    if end < start {
        return Err(ModelError::invalid(format!(
            "the missing episode ends ({end}) before it starts ({start})"
        )));
    }
    Ok(())
}

impl Kind for MissingEpisodeRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![
            subject(EntityKind::MissingEpisode, self.episode_id),
            subject(EntityKind::Person, self.child_id),
        ];
        v.extend(
            self.placement_id
                .map(|id| subject(EntityKind::Placement, id)),
        );
        v
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.started_at
            .check_past("the start of the missing episode", cx.now)?;
        if let Some(end) = &self.ended_at {
            end.check_past("the end of the missing episode", cx.now)?;
            check_episode_times(&self.started_at, end)?;
        }
        check_opt_line("who reported it", &self.reported_by, MAX_SHORT_CHARS)?;
        check_opt_text("the circumstances", &self.circumstances, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let earlier = p.read(self.child_id, |c: &PersonState| {
            c.missing_episode_ids.clone()
        })?;
        if let Some(pl) = self.placement_id {
            same_child::<PlacementState>(p, pl, self.child_id)?;
        }
        for other in &earlier {
            let (start, end) =
                p.read(*other, |e: &MissingEpisodeState| (e.started_at, e.ended_at))?;
            if overlaps(self.started_at, self.ended_at, start, end) {
                return Err(reject(match end {
                    None => format!(
                        "the child is already recorded as missing since {start} (episode {other}) with no return; record the return first"
                    ),
                    Some(end) => format!(
                        "this episode overlaps episode {other} ({start} to {end}); a child's missing episodes cannot overlap"
                    ),
                }));
            }
        }
        let (status, duration_minutes) = match &self.ended_at {
            Some(end) => (
                EpisodeStatus::Returned,
                Some(minutes(&self.started_at, end)),
            ),
            None => (EpisodeStatus::Missing, None),
        };
        p.create(
            self.episode_id,
            MissingEpisodeState {
                child_id: self.child_id,
                missing_type: self.missing_type,
                started_at: self.started_at,
                ended_at: self.ended_at,
                reported_by: self.reported_by.clone(),
                circumstances: self.circumstances.clone(),
                placement_id: self.placement_id,
                status,
                duration_minutes,
                recorded: Stamp::of(h),
                return_interview_offered: None,
                found_location_id: None,
                return_note: None,
                returned: None,
                return_interviews: Vec::new(),
                found_place: None,
                found_by: None,
                found_with_person_id: None,
                found_with: None,
                interview_assigned: None,
                interviews_recorded: Vec::new(),
            },
        )?;
        let id = self.episode_id;
        p.update(self.child_id, |s: &mut PersonState| {
            s.missing_episode_ids.push(id);
            Ok(())
        })
    }
}

fn minutes(start: &Timestamp, end: &Timestamp) -> i64 {
    (end.as_utc() - start.as_utc()).num_minutes()
}

/// Whether two periods `[start, end)` overlap; no end means still open.
fn overlaps(
    a_start: Timestamp,
    a_end: Option<Timestamp>,
    b_start: Timestamp,
    b_end: Option<Timestamp>,
) -> bool {
    let a_before_b = a_end.is_some_and(|e| e <= b_start);
    let b_before_a = b_end.is_some_and(|e| e <= a_start);
    !(a_before_b || b_before_a)
}

/// `missing_episode.returned`: the child is back (or found). Recorded once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingEpisodeReturned {
    pub episode_id: Uuid,
    pub returned_at: Timestamp,
    /// Where the child was found, if recorded as a location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_location_id: Option<Uuid>,
    /// Whether a return home interview was offered (it is due within 72
    /// hours; record it as a `meeting.recorded` of kind
    /// `return_home_interview` when held).
    pub return_interview_offered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the child was found, in words, when it is not (or not yet) a
    /// recorded location ("Station Road taxi rank").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_place: Option<String>,
    /// Who found the child or brought them back ("police", "foster carer").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<String>,
    /// Who the child was with, if a recorded person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_with_person_id: Option<Uuid>,
    /// Who the child was with, in words ("two older males in a silver car").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_with: Option<String>,
}

impl Kind for MissingEpisodeReturned {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![subject(EntityKind::MissingEpisode, self.episode_id)];
        v.extend(
            self.found_location_id
                .map(|id| subject(EntityKind::Location, id)),
        );
        v.extend(
            self.found_with_person_id
                .map(|id| subject(EntityKind::Person, id)),
        );
        v
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.returned_at.check_past("the time of return", cx.now)?;
        check_opt_line(
            "where the child was found",
            &self.found_place,
            MAX_SHORT_CHARS,
        )?;
        check_opt_line("who found the child", &self.found_by, MAX_SHORT_CHARS)?;
        check_opt_line("who the child was with", &self.found_with, MAX_SHORT_CHARS)?;
        check_opt_text("the note", &self.note, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        if let Some(l) = self.found_location_id {
            p.require(EntityKind::Location, l)?;
        }
        if let Some(w) = self.found_with_person_id {
            p.require(EntityKind::Person, w)?;
        }
        let id = self.episode_id;
        p.update(id, |s: &mut MissingEpisodeState| {
            if s.status != EpisodeStatus::Missing {
                return Err(reject(format!(
                    "the return from missing episode {id} is already recorded"
                )));
            }
            let start = s.started_at;
            check_episode_times(&start, &self.returned_at).map_err(|e| reject(e.to_string()))?;
            s.status = EpisodeStatus::Returned;
            s.ended_at = Some(self.returned_at);
            s.duration_minutes = Some(minutes(&start, &self.returned_at));
            s.return_interview_offered = Some(self.return_interview_offered);
            if let Some(l) = self.found_location_id {
                s.found_location_id = Some(l);
            }
            if let Some(n) = &self.note {
                s.return_note = Some(n.clone());
            }
            s.found_place.clone_from(&self.found_place);
            s.found_by.clone_from(&self.found_by);
            s.found_with_person_id = self.found_with_person_id;
            s.found_with.clone_from(&self.found_with);
            s.returned = Some(Stamp::of(h));
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// Placements and allocations
// ---------------------------------------------------------------------------

/// `placement.started`: a looked-after child placed. A child has one
/// current placement: end it before starting the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementStarted {
    pub placement_id: Uuid,
    pub child_id: Uuid,
    pub placement_type: PlacementType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    pub started_on: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Kind for PlacementStarted {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![
            subject(EntityKind::Placement, self.placement_id),
            subject(EntityKind::Person, self.child_id),
        ];
        v.extend(self.location_id.map(|id| subject(EntityKind::Location, id)));
        v
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.started_on
            .check_past("the placement start date", cx.now)?;
        check_opt_text("the reason", &self.reason, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        if let Some(current) = p.read(self.child_id, |c: &PersonState| c.current_placement_id)? {
            return Err(reject(format!(
                "the child is still recorded in placement {current}; record its end before starting a new one"
            )));
        }
        if let Some(l) = self.location_id {
            p.require(EntityKind::Location, l)?;
        }
        p.create(
            self.placement_id,
            PlacementState {
                child_id: self.child_id,
                placement_type: self.placement_type,
                location_id: self.location_id,
                started_on: self.started_on,
                reason: self.reason.clone(),
                status: PlacementStatus::Current,
                recorded: Stamp::of(h),
                ended_on: None,
                end_reason: None,
                ended: None,
            },
        )?;
        let id = self.placement_id;
        p.update(self.child_id, |s: &mut PersonState| {
            s.current_placement_id = Some(id);
            s.placement_count += 1;
            Ok(())
        })
    }
}

/// `placement.ended`: the end of a placement. Recorded once, not before it started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementEnded {
    pub placement_id: Uuid,
    pub ended_on: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Kind for PlacementEnded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Placement, self.placement_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.ended_on.check_past("the placement end date", cx.now)?;
        check_opt_text("the reason", &self.reason, MAX_LONG_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.placement_id;
        let child = p.update(id, |s: &mut PlacementState| {
            if s.status == PlacementStatus::Ended {
                return Err(reject(format!("placement {id} has already ended")));
            }
            if self.ended_on < s.started_on {
                return Err(reject(format!(
                    "the placement ends ({}) before it starts ({})",
                    self.ended_on, s.started_on
                )));
            }
            s.status = PlacementStatus::Ended;
            s.ended_on = Some(self.ended_on);
            if let Some(r) = &self.reason {
                s.end_reason = Some(r.clone());
            }
            s.ended = Some(Stamp::of(h));
            Ok(s.child_id)
        })?;
        p.update(child, |s: &mut PersonState| {
            if s.current_placement_id == Some(id) {
                s.current_placement_id = None;
            }
            Ok(())
        })
    }
}

/// `allocation.recorded`: a worker allocated to a child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationRecorded {
    pub allocation_id: Uuid,
    pub child_id: Uuid,
    /// The worker's user id.
    pub worker: String,
    pub team: String,
    pub started_on: Date,
}

impl Kind for AllocationRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![
            subject(EntityKind::Allocation, self.allocation_id),
            subject(EntityKind::Person, self.child_id),
        ]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_user_id("the worker's user id", &self.worker)?;
        check_line("the team", &self.team, MAX_NAME_CHARS)?;
        self.started_on
            .check_past("the allocation start date", cx.now)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        p.require(EntityKind::Person, self.child_id)?;
        p.create(
            self.allocation_id,
            AllocationState {
                child_id: self.child_id,
                worker: self.worker.clone(),
                team: self.team.clone(),
                started_on: self.started_on,
                status: AllocationStatus::Active,
                recorded: Stamp::of(h),
                ended_on: None,
                end_reason: None,
                ended: None,
            },
        )?;
        p.update(self.child_id, |s: &mut PersonState| {
            s.allocation_count += 1;
            Ok(())
        })
    }
}

/// `allocation.ended`: the worker is no longer allocated. Recorded once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationEnded {
    pub allocation_id: Uuid,
    pub ended_on: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Kind for AllocationEnded {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Allocation, self.allocation_id)]
    }
    fn validate(&self, cx: &Ctx<'_>) -> Result<(), ModelError> {
        self.ended_on
            .check_past("the allocation end date", cx.now)?;
        check_opt_text("the reason", &self.reason, MAX_SHORT_CHARS)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.allocation_id;
        p.update(id, |s: &mut AllocationState| {
            if s.status == AllocationStatus::Ended {
                return Err(reject(format!("allocation {id} has already ended")));
            }
            if self.ended_on < s.started_on {
                return Err(reject(format!(
                    "the allocation ends ({}) before it starts ({})",
                    self.ended_on, s.started_on
                )));
            }
            s.status = AllocationStatus::Ended;
            s.ended_on = Some(self.ended_on);
            if let Some(r) = &self.reason {
                s.end_reason = Some(r.clone());
            }
            s.ended = Some(Stamp::of(h));
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// Meetings
// ---------------------------------------------------------------------------

/// `meeting.recorded`: a strategy discussion, child protection conference,
/// MACE meeting, return home interview or other meeting about a child.
/// When it happened is the event's occurred-at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingRecorded {
    pub meeting_id: Uuid,
    pub kind: MeetingKind,
    pub child_id: Uuid,
    /// The agencies that took part.
    pub attendees: Vec<AgencyId>,
    /// What was decided (or, for a return home interview, what was learned).
    pub decisions: String,
    /// Required for a return home interview: the episode it follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_episode_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
}

impl Kind for MeetingRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![
            subject(EntityKind::Meeting, self.meeting_id),
            subject(EntityKind::Person, self.child_id),
        ];
        v.extend(
            self.missing_episode_id
                .map(|id| subject(EntityKind::MissingEpisode, id)),
        );
        v.extend(self.referral_id.map(|id| subject(EntityKind::Referral, id)));
        v.extend(self.case_id.map(|id| subject(EntityKind::Case, id)));
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.attendees.is_empty() {
            return Err(ModelError::invalid(
                "list the agencies that took part in the meeting",
            ));
        }
        check_count("the attending agencies", &self.attendees, true)?;
        check_unique("the list of attending agencies", &self.attendees)?;
        check_text("the decisions", &self.decisions, MAX_LONG_CHARS, true)?;
        match (self.kind, self.missing_episode_id) {
            (MeetingKind::ReturnHomeInterview, None) => Err(ModelError::invalid(
                "a return home interview follows a missing episode: give its missing_episode_id",
            )),
            _ => Ok(()),
        }
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        ensure_new(p, self.meeting_id)?;
        p.require(EntityKind::Person, self.child_id)?;
        if let Some(r) = self.referral_id {
            same_child::<ReferralState>(p, r, self.child_id)?;
        }
        if let Some(c) = self.case_id {
            case_about(p, c, self.child_id)?;
        }
        if let Some(e) = self.missing_episode_id {
            same_child::<MissingEpisodeState>(p, e, self.child_id)?;
            if self.kind == MeetingKind::ReturnHomeInterview {
                let meeting_id = self.meeting_id;
                let held = h.occurred_at.clone();
                p.update(e, |s: &mut MissingEpisodeState| {
                    if s.status != EpisodeStatus::Returned {
                        return Err(reject(format!(
                            "the child has not been recorded as returned from episode {e}; record the return before the return home interview"
                        )));
                    }
                    s.return_interviews.push(ReturnInterview { meeting_id, held });
                    Ok(())
                })?;
            }
        }
        if let Some(c) = self.case_id {
            let m = CaseMeeting {
                meeting_id: self.meeting_id,
                kind: self.kind,
                held: h.occurred_at.clone(),
                decision: self.decisions.clone(),
            };
            p.update(c, |s: &mut CaseState| push_meeting(s, m))?;
        }
        p.create(
            self.meeting_id,
            MeetingState {
                kind: self.kind,
                child_id: self.child_id,
                attendees: self.attendees.clone(),
                decisions: self.decisions.clone(),
                missing_episode_id: self.missing_episode_id,
                referral_id: self.referral_id,
                case_id: self.case_id,
                held: h.occurred_at.clone(),
                recorded: Stamp::of(h),
            },
        )
    }
}

fn push_meeting(s: &mut CaseState, m: CaseMeeting) -> Result<(), ProjectionError> {
    if s.meetings.len() >= MAX_CASE_ACTIONS {
        return Err(reject(format!(
            "this case already lists {MAX_CASE_ACTIONS} meetings"
        )));
    }
    s.meetings.push(m);
    Ok(())
}

/// Someone at a multi-agency meeting: their name as the minutes give it,
/// and the agency they came for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingAttendee {
    pub name: String,
    pub agency: AgencyId,
}

impl std::fmt::Display for MeetingAttendee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.agency)
    }
}

/// One case a multi-agency meeting discussed, and what it decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDiscussed {
    pub case_id: Uuid,
    /// The case's child; none for a contextual case (a place, a peer group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub decision: String,
}

/// `meeting.held`: a meeting that discussed several cases, the monthly
/// multi-agency child exploitation (MACE) meeting. Who chaired, who
/// attended (people and their agencies), and per case the decision; every
/// case must be open. The actions it set are `case.action_added` events
/// naming the meeting, appended in the same unit. When it was held is the
/// event's occurred-at. It is in no child's chronology (it names many
/// children); each case keeps its own decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingHeld {
    pub meeting_id: Uuid,
    pub kind: MeetingKind,
    pub chair: String,
    pub attendees: Vec<MeetingAttendee>,
    pub cases: Vec<CaseDiscussed>,
}

impl Kind for MeetingHeld {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![subject(EntityKind::MultiAgencyMeeting, self.meeting_id)];
        for c in &self.cases {
            v.push(subject(EntityKind::Case, c.case_id));
            if let Some(child) = c.child_id {
                v.push(subject(EntityKind::Person, child));
            }
        }
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.kind == MeetingKind::ReturnHomeInterview {
            return Err(ModelError::invalid(
                "a return home interview is about one child: record it as a meeting.recorded",
            ));
        }
        check_line("the chair", &self.chair, MAX_NAME_CHARS)?;
        if self.attendees.is_empty() {
            return Err(ModelError::invalid("list who attended the meeting"));
        }
        check_count("the attendees", &self.attendees, true)?;
        check_unique("the list of attendees", &self.attendees)?;
        for a in &self.attendees {
            check_line("an attendee's name", &a.name, MAX_NAME_CHARS)?;
        }
        if self.cases.is_empty() {
            return Err(ModelError::invalid("list the cases the meeting discussed"));
        }
        check_count("the cases discussed", &self.cases, true)?;
        let ids: Vec<Uuid> = self.cases.iter().map(|c| c.case_id).collect();
        check_unique("the list of cases discussed", &ids)?;
        for c in &self.cases {
            check_text("the decision", &c.decision, MAX_LONG_CHARS, true)?;
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        ensure_new(p, self.meeting_id)?;
        // Every case is checked before any is changed: a refused meeting
        // leaves nothing behind.
        for c in &self.cases {
            require_open_case(p, c.case_id, c.child_id)?;
            if p.read(c.case_id, |s: &CaseState| s.meetings.len())? >= MAX_CASE_ACTIONS {
                return Err(reject(format!(
                    "case {} already lists {MAX_CASE_ACTIONS} meetings",
                    c.case_id
                )));
            }
        }
        for c in &self.cases {
            let m = CaseMeeting {
                meeting_id: self.meeting_id,
                kind: self.kind,
                held: h.occurred_at.clone(),
                decision: c.decision.clone(),
            };
            p.update(c.case_id, |s: &mut CaseState| push_meeting(s, m))?;
        }
        p.create(
            self.meeting_id,
            MultiAgencyMeetingState {
                kind: self.kind,
                chair: self.chair.clone(),
                attendees: self.attendees.clone(),
                cases: self.cases.clone(),
                held: h.occurred_at.clone(),
                recorded: Stamp::of(h),
            },
        )
    }
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

fn history_entry(
    h: &EventHeader,
    decision: CaseDecision,
    level: Option<CaseLevel>,
    reason: &str,
) -> CaseHistoryEntry {
    CaseHistoryEntry {
        decision,
        level,
        reason: reason.to_owned(),
        at: h.recorded_at.clone(),
        by: h.actor.user.clone(),
        agency: h.agency.clone(),
    }
}

/// `case.opened`: a case opened at a level of support, for a child or on a
/// context (a place, a peer group) that children are then linked to
/// (`case.child_linked`). Older logs always name a child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOpened {
    pub case_id: Uuid,
    /// The child the case is about; none for a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    /// What a contextual case is about (a place or a peer group); exactly
    /// one of `child_id` and `context` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<CaseContext>,
    pub level: CaseLevel,
    pub reason: String,
    /// The referral that led to it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    /// The agency leading the case (none in older logs: the opening agency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_agency: Option<AgencyId>,
    /// The allocated worker's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Other agencies involved from the start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<AgencyId>,
    /// The risk at opening; `risk_reason` says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_reason: Option<String>,
}

/// The most actions one case holds (open, done and cancelled).
pub const MAX_CASE_ACTIONS: usize = 1000;

fn risk_entry(h: &EventHeader, risk: RiskLevel, reason: &str) -> CaseRiskEntry {
    CaseRiskEntry {
        risk,
        reason: reason.to_owned(),
        at: h.recorded_at.clone(),
        by: h.actor.user.clone(),
        agency: h.agency.clone(),
    }
}

impl Kind for CaseOpened {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = case_subjects(self.case_id, self.child_id);
        v.extend(self.referral_id.map(|id| subject(EntityKind::Referral, id)));
        if let Some(CaseContext::Place { location_id }) = &self.context {
            v.push(subject(EntityKind::Location, *location_id));
        }
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        match (&self.child_id, &self.context) {
            (Some(_), Some(_)) => {
                return Err(ModelError::invalid(
                    "a case is about a child or a context (a place, a peer group), not both",
                ))
            }
            (None, None) => {
                return Err(ModelError::invalid(
                    "say what the case is about: a child, a place or a peer group",
                ))
            }
            (None, Some(c)) => {
                check_context(c)?;
                if self.referral_id.is_some() {
                    return Err(ModelError::invalid(
                        "a referral is about one child: a case on a place or a peer group does not come from one",
                    ));
                }
            }
            (Some(_), None) => {}
        }
        check_text("the reason", &self.reason, MAX_LONG_CHARS, true)?;
        if let Some(w) = &self.worker {
            check_user_id("the allocated worker", w)?;
        }
        check_count("the agencies involved", &self.agencies, false)?;
        check_unique("the list of agencies involved", &self.agencies)?;
        if let Some(lead) = &self.lead_agency {
            if self.agencies.contains(lead) {
                return Err(ModelError::invalid(format!(
                    "{lead} leads the case: do not list it again among the agencies involved"
                )));
            }
        }
        match (&self.risk, &self.risk_reason) {
            (Some(_), Some(r)) => {
                check_text("why the risk is at that level", r, MAX_LONG_CHARS, true)
            }
            (Some(_), None) => Err(ModelError::invalid("say why the risk is at that level")),
            (None, Some(_)) => Err(ModelError::invalid(
                "a reason for the risk was given without a risk level",
            )),
            (None, None) => Ok(()),
        }
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        ensure_new(p, self.case_id)?;
        if let Some(CaseContext::Place { location_id }) = &self.context {
            p.require(EntityKind::Location, *location_id)?;
        }
        if let Some(child) = self.child_id {
            p.require(EntityKind::Person, child)?;
            if let Some(r) = self.referral_id {
                same_child::<ReferralState>(p, r, child)?;
            }
            let case_id = self.case_id;
            p.update(child, |s: &mut PersonState| {
                if s.case_ids.len() >= MAX_CASE_ACTIONS {
                    return Err(reject(format!(
                        "this child already has {MAX_CASE_ACTIONS} cases recorded"
                    )));
                }
                s.case_ids.push(case_id);
                Ok(())
            })?;
        }
        p.create(
            self.case_id,
            CaseState {
                child_id: self.child_id,
                context: self.context.clone(),
                linked: Vec::new(),
                level: self.level,
                reason: self.reason.clone(),
                referral_id: self.referral_id,
                status: CaseStatus::Open,
                opened: Stamp::of(h),
                history: vec![history_entry(
                    h,
                    CaseDecision::Open,
                    Some(self.level),
                    &self.reason,
                )],
                close_reason: None,
                closed: None,
                closure_request: None,
                sign_off: None,
                lead_agency: self.lead_agency.clone(),
                worker: self.worker.clone(),
                agencies: self.agencies.clone(),
                risk: self.risk,
                risk_history: match (self.risk, &self.risk_reason) {
                    (Some(r), Some(why)) => vec![risk_entry(h, r, why)],
                    _ => Vec::new(),
                },
                actions: Vec::new(),
                meetings: Vec::new(),
            },
        )
    }
}

/// Checks what a contextual case is about, as `case.opened` gives it.
fn check_context(c: &CaseContext) -> Result<(), ModelError> {
    match c {
        CaseContext::Place { .. } => Ok(()),
        CaseContext::PeerGroup { name, description } => {
            check_line("the peer group's name", name, MAX_NAME_CHARS)?;
            check_text(
                "the description of the peer group",
                description,
                MAX_LONG_CHARS,
                true,
            )
        }
    }
}

/// Refuses an event that names a child other than the case's own (or
/// names one on a contextual case, or none on a child's case).
fn same_case_child(
    p: &mut Projector<'_>,
    case: Uuid,
    child: Option<Uuid>,
) -> Result<(), ProjectionError> {
    let about = p.read(case, |c: &CaseState| c.child_id)?;
    match (about, child) {
        (None, None) => Ok(()),
        (Some(a), Some(c)) if a == c => Ok(()),
        (None, Some(c)) => Err(reject(format!(
            "case {case} is on a place or a peer group, not about child {c}: name no child"
        ))),
        (Some(_), None) => Err(reject(format!(
            "case {case} is about a child: name the child"
        ))),
        (Some(_), Some(c)) => Err(reject(format!(
            "case {case} is about a different child from {c}"
        ))),
    }
}

/// Refuses a record (a meeting, a screening) about a child that names a
/// case not about that child: neither the child's own case nor a
/// contextual case the child is linked to.
pub(super) fn case_about(
    p: &mut Projector<'_>,
    case: Uuid,
    child: Uuid,
) -> Result<(), ProjectionError> {
    if !p.read(case, |c: &CaseState| c.concerns(child))? {
        return Err(reject(format!(
            "case {case} is not about child {child}: it is another child's case, or a case on a place or peer group the child is not linked to"
        )));
    }
    Ok(())
}

fn require_open_case(
    p: &mut Projector<'_>,
    case: Uuid,
    child: Option<Uuid>,
) -> Result<(), ProjectionError> {
    same_case_child(p, case, child)?;
    let closed = p.read(case, |c: &CaseState| match c.status {
        CaseStatus::Closed => Some(
            c.closed
                .as_ref()
                .map_or("earlier".to_owned(), |s| s.at.clone()),
        ),
        CaseStatus::Open => None,
    })?;
    if let Some(when) = closed {
        return Err(reject(format!("case {case} was already closed ({when})")));
    }
    Ok(())
}

/// `case.level_changed`: a case stepped up or down to another level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLevelChanged {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub level: CaseLevel,
    pub reason: String,
}

impl Kind for CaseLevelChanged {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("the reason", &self.reason, MAX_LONG_CHARS, true)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            let current = s.level;
            let decision = match self.level.cmp(&current) {
                std::cmp::Ordering::Greater => CaseDecision::StepUp,
                std::cmp::Ordering::Less => CaseDecision::StepDown,
                std::cmp::Ordering::Equal => {
                    return Err(reject(format!(
                        "case {id} is already at the level '{}'",
                        current.label()
                    )))
                }
            };
            s.level = self.level;
            s.history
                .push(history_entry(h, decision, Some(self.level), &self.reason));
            Ok(())
        })
    }
}

/// `case.allocated`: the case's worker (and, if it changes, its lead
/// agency) changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAllocated {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    /// The newly allocated worker's user id.
    pub worker: String,
    /// The agency that now leads the case, when that changes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_agency: Option<AgencyId>,
    pub reason: String,
}

impl Kind for CaseAllocated {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_user_id("the allocated worker", &self.worker)?;
        check_text("the reason", &self.reason, MAX_LONG_CHARS, true)
    }
    fn project(&self, _h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            let lead_same = self.lead_agency.as_ref().is_none_or(|l| l == s.lead());
            if s.worker.as_deref() == Some(self.worker.as_str()) && lead_same {
                return Err(reject(format!(
                    "{} is already the allocated worker of case {id}",
                    self.worker
                )));
            }
            if let Some(lead) = &self.lead_agency {
                s.agencies.retain(|a| a != lead);
                let old = s.lead().clone();
                if &old != lead && !s.agencies.contains(&old) {
                    // The agency that led stays involved until removed.
                    s.agencies.push(old);
                }
                s.lead_agency = Some(lead.clone());
            }
            s.worker = Some(self.worker.clone());
            Ok(())
        })
    }
}

fn case_subjects(case: Uuid, child: Option<Uuid>) -> Vec<SubjectRef> {
    let mut v = vec![subject(EntityKind::Case, case)];
    v.extend(child.map(|c| subject(EntityKind::Person, c)));
    v
}

/// `case.agency_added`: another agency involved in the case (its users
/// may then see the case and the child's record through it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAgencyAdded {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub agency: AgencyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Kind for CaseAgencyAdded {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_opt_text("the reason", &self.reason, MAX_LONG_CHARS)
    }
    fn project(&self, _h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            if s.involves(&self.agency) {
                return Err(reject(format!(
                    "{} is already involved in case {id}",
                    self.agency
                )));
            }
            if s.agencies.len() >= crate::text::MAX_ITEMS {
                return Err(reject(format!(
                    "case {id} already lists the most agencies it may"
                )));
            }
            s.agencies.push(self.agency.clone());
            Ok(())
        })
    }
}

/// `case.agency_removed`: an agency no longer involved in the case (its
/// users lose the access the case gave them). The lead cannot be removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAgencyRemoved {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub agency: AgencyId,
    pub reason: String,
}

impl Kind for CaseAgencyRemoved {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("the reason", &self.reason, MAX_LONG_CHARS, true)
    }
    fn project(&self, _h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            if s.lead() == &self.agency {
                return Err(reject(format!(
                    "{} leads case {id}: give the case another lead before removing it",
                    self.agency
                )));
            }
            let before = s.agencies.len();
            s.agencies.retain(|a| a != &self.agency);
            if s.agencies.len() == before {
                return Err(reject(format!(
                    "{} is not involved in case {id}",
                    self.agency
                )));
            }
            Ok(())
        })
    }
}

/// `case.risk_changed`: the case's risk assessed again, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseRiskChanged {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub risk: RiskLevel,
    pub reason: String,
}

impl Kind for CaseRiskChanged {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "why the risk is at that level",
            &self.reason,
            MAX_LONG_CHARS,
            true,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        p.update(self.case_id, |s: &mut CaseState| {
            if s.risk_history.len() >= MAX_CASE_ACTIONS {
                return Err(reject(
                    "this case's risk has been assessed too many times to hold more",
                ));
            }
            s.risk = Some(self.risk);
            s.risk_history.push(risk_entry(h, self.risk, &self.reason));
            Ok(())
        })
    }
}

/// `case.action_added`: something to be done on a case, by whom and by
/// when; `meeting_id` when a meeting set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseActionAdded {
    pub case_id: Uuid,
    pub action_id: Uuid,
    pub text: String,
    /// The user id of whoever is to do it.
    pub owner: String,
    pub due: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<Uuid>,
}

impl Kind for CaseActionAdded {
    fn subjects(&self) -> Vec<SubjectRef> {
        let mut v = vec![subject(EntityKind::Case, self.case_id)];
        v.extend(self.meeting_id.map(|id| subject(EntityKind::Meeting, id)));
        v
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("what is to be done", &self.text, MAX_LONG_CHARS, true)?;
        check_user_id("who is to do it", &self.owner)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let child = p.read(self.case_id, |c: &CaseState| c.child_id)?;
        require_open_case(p, self.case_id, child)?;
        if let Some(m) = self.meeting_id {
            // A meeting about the child, or a multi-agency meeting of many.
            if p.kind_of(m)? != Some(EntityKind::MultiAgencyMeeting) {
                p.require(EntityKind::Meeting, m)?;
            }
        }
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            if s.actions.iter().any(|a| a.action_id == self.action_id) {
                return Err(reject(format!(
                    "action {} is already on case {id}",
                    self.action_id
                )));
            }
            if s.actions.len() >= MAX_CASE_ACTIONS {
                return Err(reject(format!(
                    "case {id} already holds {MAX_CASE_ACTIONS} actions"
                )));
            }
            s.actions.push(CaseAction {
                action_id: self.action_id,
                text: self.text.clone(),
                owner: self.owner.clone(),
                due: self.due,
                meeting_id: self.meeting_id,
                status: ActionStatus::Open,
                added: Stamp::of(h),
                closed: None,
                note: None,
            });
            Ok(())
        })
    }
}

/// `case.action_closed`: an action done or cancelled, with a note. Once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseActionClosed {
    pub case_id: Uuid,
    pub action_id: Uuid,
    /// `done` or `cancelled`.
    pub status: ActionStatus,
    pub note: String,
}

impl Kind for CaseActionClosed {
    fn subjects(&self) -> Vec<SubjectRef> {
        vec![subject(EntityKind::Case, self.case_id)]
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.status == ActionStatus::Open {
            return Err(ModelError::invalid(
                "an action is closed as done or cancelled, not open",
            ));
        }
        check_text("the note", &self.note, MAX_LONG_CHARS, true)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.case_id;
        let action = self.action_id;
        p.update(id, |s: &mut CaseState| {
            let Some(a) = s.actions.iter_mut().find(|a| a.action_id == action) else {
                return Err(reject(format!("case {id} has no action {action}")));
            };
            if a.status != ActionStatus::Open {
                return Err(reject(format!(
                    "action {action} is already {}",
                    a.status.label().to_lowercase()
                )));
            }
            a.status = self.status;
            a.closed = Some(Stamp::of(h));
            a.note = Some(self.note.clone());
            Ok(())
        })
    }
}

/// `case.closure_requested`: someone asked to close a case that needs a
/// supervisor's sign-off first (open actions, active indicators or a recent
/// missing episode: `concerns` lists them as the requester was shown). The
/// case stays open until a supervisor closes it (`case.closed` with a
/// sign-off) or declines (`case.closure_declined`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseClosureRequested {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub reason: String,
    pub concerns: Vec<String>,
}

fn check_concerns(concerns: &[String]) -> Result<(), ModelError> {
    check_count("the concerns", concerns, false)?;
    for c in concerns {
        check_line("a concern", c, crate::text::MAX_SHORT_CHARS)?;
    }
    Ok(())
}

impl Kind for CaseClosureRequested {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "the reason for closing the case",
            &self.reason,
            MAX_LONG_CHARS,
            true,
        )?;
        if self.concerns.is_empty() {
            return Err(ModelError::invalid(
                "a closure needs sign-off only for a reason: list the concerns",
            ));
        }
        check_concerns(&self.concerns)
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            if let Some(r) = &s.closure_request {
                return Err(reject(format!(
                    "closing case {id} was already asked for ({}) and waits for a supervisor",
                    r.requested.at
                )));
            }
            s.closure_request = Some(ClosureRequest {
                reason: self.reason.clone(),
                concerns: self.concerns.clone(),
                requested: Stamp::of(h),
            });
            Ok(())
        })
    }
}

/// `case.closure_declined`: a supervisor did not sign off a requested
/// closure, and said why; the case stays open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseClosureDeclined {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub note: String,
}

impl Kind for CaseClosureDeclined {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text("why the case stays open", &self.note, MAX_LONG_CHARS, true)
    }
    fn project(&self, _h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            if s.closure_request.take().is_none() {
                return Err(reject(format!("nobody has asked to close case {id}")));
            }
            Ok(())
        })
    }
}

/// `case.closed`: a case closed, with the reason. Closed once. A closure
/// that needed a supervisor's sign-off carries it (`sign_off`), and its
/// actor is that supervisor (the access table lets only supervisors sign
/// off); a pending request can only be closed so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseClosed {
    pub case_id: Uuid,
    /// The case's child (checked against the case); none on a contextual case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<Uuid>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<ClosureSignOff>,
}

impl Kind for CaseClosed {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, self.child_id)
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "the reason for closing the case",
            &self.reason,
            MAX_LONG_CHARS,
            true,
        )?;
        if let Some(so) = &self.sign_off {
            if let Some(u) = &so.requested_by {
                check_user_id("who asked to close the case", u)?;
            }
            check_concerns(&so.concerns)?;
            check_text("the supervisor's note", &so.note, MAX_LONG_CHARS, true)?;
        }
        Ok(())
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, self.child_id)?;
        let id = self.case_id;
        p.update(id, |s: &mut CaseState| {
            if s.closure_request.is_some() && self.sign_off.is_none() {
                return Err(reject(format!(
                    "closing case {id} waits for a supervisor's sign-off"
                )));
            }
            s.closure_request = None;
            s.sign_off = self.sign_off.clone();
            s.status = CaseStatus::Closed;
            s.close_reason = Some(self.reason.clone());
            s.closed = Some(Stamp::of(h));
            s.history
                .push(history_entry(h, CaseDecision::Close, None, &self.reason));
            Ok(())
        })
    }
}

/// The most children linked to one contextual case at once.
pub const MAX_LINKED_CHILDREN: usize = 500;

/// `case.child_linked`: a child linked to an open contextual case (one on
/// a place or a peer group), and why. It names the child, so their
/// chronology shows it, and the child's record lists the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseChildLinked {
    pub case_id: Uuid,
    pub child_id: Uuid,
    pub reason: String,
}

impl Kind for CaseChildLinked {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, Some(self.child_id))
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "why the child is linked to the case",
            &self.reason,
            MAX_LONG_CHARS,
            true,
        )
    }
    fn project(&self, h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        let id = self.case_id;
        if p.read(id, |c: &CaseState| c.child_id.is_some())? {
            return Err(reject(format!(
                "case {id} is about one child: children are linked only to a case on a place or a peer group"
            )));
        }
        require_open_case(p, id, None)?;
        p.require(EntityKind::Person, self.child_id)?;
        let (id, child) = (self.case_id, self.child_id);
        p.update(id, |s: &mut CaseState| {
            if s.links(child) {
                return Err(reject(format!(
                    "child {child} is already linked to case {id}"
                )));
            }
            if s.linked.len() >= MAX_LINKED_CHILDREN {
                return Err(reject(format!(
                    "case {id} already has {MAX_LINKED_CHILDREN} children linked to it"
                )));
            }
            s.linked.push(LinkedChild {
                child_id: child,
                reason: self.reason.clone(),
                linked: Stamp::of(h),
            });
            Ok(())
        })?;
        p.update(child, |s: &mut PersonState| {
            if s.context_case_ids.len() >= MAX_CASE_ACTIONS {
                return Err(reject(format!(
                    "this child is already linked to {MAX_CASE_ACTIONS} cases"
                )));
            }
            s.context_case_ids.push(id);
            Ok(())
        })
    }
}

/// `case.child_unlinked`: a child no longer linked to an open contextual
/// case, and why (the link stays in the chronology).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseChildUnlinked {
    pub case_id: Uuid,
    pub child_id: Uuid,
    pub reason: String,
}

impl Kind for CaseChildUnlinked {
    fn subjects(&self) -> Vec<SubjectRef> {
        case_subjects(self.case_id, Some(self.child_id))
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        check_text(
            "why the child is no longer linked",
            &self.reason,
            MAX_LONG_CHARS,
            true,
        )
    }
    fn project(&self, _h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        require_open_case(p, self.case_id, None)?;
        let (id, child) = (self.case_id, self.child_id);
        p.update(id, |s: &mut CaseState| {
            if !s.links(child) {
                return Err(reject(format!("child {child} is not linked to case {id}")));
            }
            s.linked.retain(|l| l.child_id != child);
            Ok(())
        })?;
        p.update(child, |s: &mut PersonState| {
            s.context_case_ids.retain(|c| *c != id);
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------

/// `note.recorded`: a case note about one or more recorded entities. The
/// note is the event itself (it appears in each subject's chronology); no
/// entity is created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRecorded {
    pub subjects: Vec<SubjectRef>,
    pub text: String,
}

impl Kind for NoteRecorded {
    fn subjects(&self) -> Vec<SubjectRef> {
        self.subjects.clone()
    }
    fn validate(&self, _cx: &Ctx<'_>) -> Result<(), ModelError> {
        if self.subjects.is_empty() {
            return Err(ModelError::invalid(
                "say what the note is about: give at least one subject",
            ));
        }
        check_count("the subjects of the note", &self.subjects, true)?;
        let ids: Vec<Uuid> = self.subjects.iter().map(|s| s.id).collect();
        check_unique("the list of subjects", &ids)?;
        check_text("the note", &self.text, MAX_LONG_CHARS, true)
    }
    fn project(&self, _h: &EventHeader, p: &mut Projector<'_>) -> Result<(), ProjectionError> {
        for s in &self.subjects {
            p.require(s.kind, s.id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn overlap_rules() {
        let a = t("2025-01-01T10:00:00Z");
        let b = t("2025-01-01T12:00:00Z");
        let c = t("2025-01-01T14:00:00Z");
        assert!(
            !overlaps(a, Some(b), b, Some(c)),
            "touching periods do not overlap"
        );
        assert!(overlaps(a, Some(c), b, None));
        assert!(overlaps(b, None, a, None));
        assert!(!overlaps(c, None, a, Some(b)));
        assert!(
            overlaps(a, None, b, Some(c)),
            "an open episode overlaps anything after it starts"
        );
    }
}
