//! The one way to person-level data: loaders that authorise the user and
//! write the read to the access log, and hand back an [`Authorised`] value.
//!
//! Before this module, every handler had to remember to call the access
//! check and to log the read, and some did not (a re-shown form, a refused
//! decision, "possible existing records" of other agencies). Now:
//!
//! - the read model's person-level accessors are visible only here
//!   ([`readmodel`] is a child of this module, its accessors
//!   `pub(in crate::guard)`), so a handler cannot get a child's record,
//!   a referral or the queue except through a loader below;
//! - every loader calls [`access::authorise`] and starts the access-log
//!   write itself, and returns [`Authorised<T>`], which only this module
//!   can build;
//! - the pages that show a child's details (the template structs in
//!   `html`) hold a [`Read`], which only [`Authorised::show`] hands out,
//!   and the page it builds is a [`Shown`], which is sent only after the
//!   access-log row is durable ([`Shown::respond`]); files go through
//!   [`Authorised::send`], which waits the same way;
//! - people embedded in a page (the child, other people involved, possible
//!   existing records) pass through one rule (`embed`): a person the user may not
//!   open is left out, and is not logged as read.

#[path = "alert_work.rs"]
pub mod alert_work;
#[path = "cases.rs"]
pub mod cases;
#[path = "links.rs"]
pub mod links;
#[path = "meetings.rs"]
pub mod meetings;
#[path = "missing.rs"]
pub mod missing;
#[path = "readmodel.rs"]
pub mod readmodel;
#[path = "record.rs"]
pub mod record;
#[path = "screening.rs"]
pub mod screening;

use crate::access::{self, Action, Resource, Scope};
use crate::display;
use crate::queue::{self, QueueItem};
use crate::writer::Pending;
use crate::AppError;
use crate::{App, Caller};
use readmodel::{PersonView, ReferralView};
use std::ops::Deref;
use std::sync::Arc;
use uuid::Uuid;
use vigil_model::state::LocationState;
use vigil_model::{EntityKind, SubjectRef};
use vigil_store::accounts::AccessRecord;

/// Person-level data this user may see, whose reading has been sent to the
/// access log. Only the loaders of this module make one.
#[must_use = "an authorised read must be shown (or sent) so the access log is awaited"]
pub struct Authorised<T> {
    value: T,
    logged: Logged,
}

/// The access-log write of one response, not yet known to be durable.
struct Logged(Pending);

/// Proof, held by a page, that it was built from an [`Authorised`] value.
/// Only [`Authorised::show`] makes one.
#[derive(Debug)]
pub struct Read(());

/// A page built from authorised data: sent only once its read is logged.
#[must_use = "a page is sent with respond()"]
pub struct Shown<P> {
    page: P,
    logged: Logged,
}

impl<T> Deref for Authorised<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Authorised<T> {
    /// Builds the page (or any other rendering) that shows this value.
    pub fn show<P>(self, page: impl FnOnce(T, Read) -> P) -> Shown<P> {
        Shown {
            page: page(self.value, Read(())),
            logged: self.logged,
        }
    }

    /// Sends a response that is not a page (a file), once the read is logged.
    pub async fn send<R, E: From<AppError>>(
        self,
        response: impl FnOnce(T) -> Result<R, E>,
    ) -> Result<R, E> {
        let r = response(self.value);
        self.logged.0.durable().await?;
        r
    }
}

impl<P> Shown<P> {
    /// Renders the page (meanwhile the access-log row is written) and hands
    /// the rendering over once the row is on disk; if it cannot be written,
    /// nothing is shown.
    pub async fn deliver<R, E: From<AppError>>(
        self,
        render: impl FnOnce(P) -> Result<R, E>,
    ) -> Result<R, E> {
        let r = render(self.page);
        self.logged.0.durable().await?;
        r
    }
}

/// Starts writing a read to the access log: who, what, and the records shown.
fn log(
    st: &App,
    who: &Caller,
    what: &str,
    mut subjects: Vec<SubjectRef>,
) -> Result<Logged, AppError> {
    subjects.sort();
    subjects.dedup();
    let record = AccessRecord {
        at: vigil_model::event::format_timestamp(&st.now()),
        user: who.user.username.clone(),
        role: Some(who.user.role),
        agency: who.user.agency.clone(),
        action: what.to_owned(),
        subjects,
        address: None,
        session: None,
    };
    Ok(Logged(st.writers.log_access(vec![record])?))
}

fn authorised<T>(
    st: &App,
    who: &Caller,
    what: &str,
    subjects: Vec<SubjectRef>,
    value: T,
) -> Result<Authorised<T>, AppError> {
    Ok(Authorised {
        value,
        logged: log(st, who, what, subjects)?,
    })
}

/// A value that shows no one (a blank form): nothing to log.
fn unlogged<T>(st: &App, value: T) -> Result<Authorised<T>, AppError> {
    Ok(Authorised {
        value,
        logged: Logged(st.writers.log_access(Vec::new())?),
    })
}

/// The record of the access table a referral is.
pub fn referral_resource(r: &ReferralView) -> Resource<'_> {
    Resource::Referral {
        submitted_by: r.submitted.user_id(),
        agency: &r.submitted.agency,
    }
}

fn person_resource(p: &PersonView) -> Resource<'_> {
    Resource::Person {
        recorded_by_agency: &p.recorded.agency,
    }
}

/// Whose person records `who` may act on with `action`, as the store
/// filters rows (an agency list; empty: none). The same table as
/// [`may`], read once per query instead of once per row.
pub(crate) fn person_scope(who: &Caller, action: Action) -> vigil_store::index::Visibility {
    use crate::access::Scope;
    match crate::access::scope_of(who.user.role, who.user.agency_kind, action) {
        Some(Scope::Any) => vigil_store::index::Visibility::All,
        Some(Scope::OwnAgency) => {
            vigil_store::index::Visibility::Agencies(vec![who.user.agency.clone()])
        }
        // A person record is nobody's own submission.
        Some(Scope::OwnSubmission) | None => vigil_store::index::Visibility::Agencies(Vec::new()),
    }
}

fn may(who: &Caller, action: Action, resource: Resource<'_>) -> bool {
    access::authorise(&who.subject(), action, resource).is_ok()
}

fn check(who: &Caller, action: Action, resource: Resource<'_>) -> Result<(), AppError> {
    access::authorise(&who.subject(), action, resource).map_err(|d| AppError::Forbidden(d.0))
}

fn person_subject(id: Uuid) -> SubjectRef {
    SubjectRef::new(EntityKind::Person, id)
}

fn referral_subject(id: Uuid) -> SubjectRef {
    SubjectRef::new(EntityKind::Referral, id)
}

/// An agency's name from its code (the code when it is not known).
fn agency_name(st: &App, code: &str) -> String {
    st.mirror
        .agency_by_code(code)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| code.to_owned())
}

/// A person as a page may show them, if this user may be shown them: when
/// they may open the person's record, or when the person is named in a
/// referral they may see and was recorded by the agency that sent it (what
/// the referrer's own agency told Vigil). Anyone else is left out.
fn embed(
    st: &App,
    who: &Caller,
    p: &PersonView,
    in_referral: Option<&ReferralView>,
) -> Option<PersonLink> {
    let link = link_of(st, who, p);
    let senders = in_referral.is_some_and(|r| r.submitted.agency == p.recorded.agency);
    (link.can_open || senders).then_some(link)
}

/// The person as a page names them, whether or not this user may open
/// their record (`can_open` says). Only for a page whose own check already
/// lets the user see who the person is: [`embed`] for people in general,
/// a case's loader for the child of a case the user is involved in.
fn link_of(st: &App, who: &Caller, p: &PersonView) -> PersonLink {
    let can_open = may(who, Action::ViewPerson, person_resource(p));
    let today = vigil_rules::london::local_date(st.now());
    PersonLink {
        id: p.id.to_string(),
        name: p.display_name(),
        // A child described, not named: the age and the description.
        detail: match (p.date_of_birth.as_ref(), &p.description) {
            (Some(d), Some(text)) if p.names.is_empty() => {
                format!("{} · {text}", display::age(d, today))
            }
            (Some(d), _) => display::age(d, today),
            (None, text) => text.clone().unwrap_or_default(),
        },
        recorded: format!(
            "{}, {}",
            agency_name(st, &p.recorded.agency),
            display::date(vigil_rules::london::local_date(p.recorded.at))
        ),
        reasons: String::new(),
        can_open,
    }
}

/// A person as a list or page shows them: the name, an age (or what is
/// known), which agency recorded them and when, why they were suggested
/// (possible existing records), and whether this user may open the record.
/// Made only by this module, for people the user may be shown.
#[derive(Clone, Debug)]
pub struct PersonLink {
    pub id: String,
    pub name: String,
    pub detail: String,
    /// When and by which agency the record was first made.
    pub recorded: String,
    pub reasons: String,
    pub can_open: bool,
}

/// Subjects of the people a page shows.
fn shown_people<'a>(people: impl IntoIterator<Item = &'a PersonLink>) -> Vec<SubjectRef> {
    people
        .into_iter()
        .filter_map(|p| Uuid::parse_str(&p.id).ok())
        .map(person_subject)
        .collect()
}

/// A referral and its child (when this user may be shown them).
pub struct ReferralRecord {
    pub referral: Arc<ReferralView>,
    pub child: Option<PersonLink>,
}

impl ReferralRecord {
    /// Whether this user may also do `action` on the referral.
    pub fn allows(&self, who: &Caller, action: Action) -> bool {
        may(who, action, referral_resource(&self.referral))
    }

    /// The child's name as pages say it.
    pub fn child_name(&self) -> String {
        self.child
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_else(|| WITHHELD_CHILD.to_owned())
    }
}

/// What a page says instead of a child it may not show.
pub const WITHHELD_CHILD: &str = "(a child whose record another agency holds)";

/// Why a referral is read, which decides the rule and the log's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Its receipt page.
    Receipt,
    /// Its signed receipt file.
    ReceiptFile,
    /// The canonical payload the submitter sent.
    Payload,
    /// To decide it (the form, and the decision sent).
    Decide,
    /// To add information to it (its sender).
    AddInformation,
}

impl Reading {
    fn action(self) -> Action {
        match self {
            Reading::Receipt | Reading::ReceiptFile | Reading::Payload => Action::ViewReceipt,
            Reading::Decide => Action::DecideReferral,
            Reading::AddInformation => Action::AddReferralInformation,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Reading::Receipt => "opened a referral's receipt",
            Reading::ReceiptFile => "downloaded a referral's receipt",
            Reading::Payload => "downloaded what a referral sent",
            Reading::Decide => "opened a referral to decide it",
            Reading::AddInformation => "added information to a referral",
        }
    }
}

fn not_found() -> AppError {
    AppError::NotFound("There is no referral at this address.".into())
}

/// A referral, from the store; not yet authorised.
fn find_referral(st: &App, id: Uuid) -> Result<Arc<ReferralView>, AppError> {
    match st.store.entity(id)? {
        Some(r) if r.kind == EntityKind::Referral => Ok(Arc::new(
            ReferralView::from_record(&r).map_err(AppError::Internal)?,
        )),
        _ => Err(not_found()),
    }
}

/// A person, from the store; not yet authorised.
fn person_of(st: &App, id: Uuid) -> Result<Option<PersonView>, AppError> {
    match st.store.entity(id)? {
        Some(r) if r.kind == EntityKind::Person => Ok(Some(
            PersonView::from_record(&r).map_err(AppError::Internal)?,
        )),
        _ => Ok(None),
    }
}

/// The people with these ids, from the store in one query (those that exist).
fn people_of(
    st: &App,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, PersonView>, AppError> {
    let mut out = std::collections::HashMap::new();
    for r in st.store.entities(ids)? {
        if r.kind == EntityKind::Person {
            let p = PersonView::from_record(&r).map_err(AppError::Internal)?;
            out.insert(p.id, p);
        }
    }
    Ok(out)
}

/// Referrals from the store, parsed.
fn referrals_where(
    st: &App,
    q: vigil_store::index::ReferralQuery,
) -> Result<Vec<Arc<ReferralView>>, AppError> {
    st.store
        .referrals(q)?
        .iter()
        .map(|r| {
            ReferralView::from_record(r)
                .map(Arc::new)
                .map_err(AppError::Internal)
        })
        .collect()
}

/// A referral, for `reading`.
pub async fn referral(
    st: &Arc<App>,
    who: &Caller,
    reading: Reading,
    id: Uuid,
) -> Result<Authorised<ReferralRecord>, AppError> {
    let who2 = who.clone();
    st.blocking(move |st| {
        let r = find_referral(st, id)?;
        check(&who2, reading.action(), referral_resource(&r))?;
        let child = person_of(st, r.child_id)?.and_then(|c| embed(st, &who2, &c, Some(&r)));
        let mut subjects = vec![referral_subject(r.id)];
        subjects.extend(shown_people(&child));
        authorised(
            st,
            &who2,
            reading.words(),
            subjects,
            ReferralRecord { referral: r, child },
        )
    })
    .await
}

/// The canonical payload of the `referral.submitted` event: the bytes its
/// header's `payload_sha256` covers (with the salt in the receipt).
fn submitted_payload(st: &App, r: &ReferralView) -> Result<Option<String>, AppError> {
    Ok(st.store.payload_of(r.submitted.event_id)?)
}

/// What a referral sent, as the log holds it, for whoever may see its receipt.
pub struct SubmittedPayload {
    pub referral: Arc<ReferralView>,
    pub json: String,
}

pub async fn payload(
    st: &Arc<App>,
    who: &Caller,
    id: Uuid,
) -> Result<Authorised<SubmittedPayload>, AppError> {
    let who2 = who.clone();
    st.blocking(move |st| {
        let r = find_referral(st, id)?;
        check(&who2, Reading::Payload.action(), referral_resource(&r))?;
        let json = submitted_payload(st, &r)?.ok_or_else(|| {
            AppError::NotFound("What this referral sent is not held on this server.".into())
        })?;
        // The payload names the child and everyone else the referral does.
        let mut subjects = vec![referral_subject(r.id), person_subject(r.child_id)];
        subjects.extend(r.others_involved.iter().copied().map(person_subject));
        authorised(
            st,
            &who2,
            Reading::Payload.words(),
            subjects,
            SubmittedPayload { referral: r, json },
        )
    })
    .await
}

/// A referral in full, as the referral page shows it.
pub struct ReferralInFull {
    pub record: ReferralRecord,
    /// Other people involved whom this user may be shown.
    pub others: Vec<PersonLink>,
    /// Possible existing records of the child among those this user may
    /// open, most likely first, with the model's probability.
    pub candidates: Vec<links::PossibleMatch>,
    /// Whether some records are out of this user's reach (so the page says
    /// the front door will check; never whether any were found).
    pub search_limited: bool,
    /// When it happened, in words (from the event's header).
    pub occurred: Option<String>,
    /// Who sent it: their name, account and agency's name.
    pub from: String,
    /// The name of the agency that decided it.
    pub decided_by_agency: Option<String>,
    /// The child was referred without a name (described only): triage
    /// looks for them among known children and links the records.
    pub unnamed_child: bool,
    /// A case on the child closed in the last six months (and none open):
    /// the referral reopens the question of closing it, and the page says so.
    pub recently_closed: Option<cases::CaseLine>,
}

/// The possible existing records of `child` that this user may open, most
/// likely first: the people the name index brings near the child among the
/// records this user may open (no process scans everyone), scored by the
/// matching model ([`crate::score`]).
fn possible_matches(
    st: &App,
    who: &Caller,
    child: &PersonView,
) -> Result<Vec<links::PossibleMatch>, AppError> {
    let visible = match access::scope_of(who.user.role, who.user.agency_kind, Action::ViewPerson) {
        Some(Scope::Any) => None,
        Some(_) => Some(vec![who.user.agency.clone()]),
        None => return Ok(Vec::new()),
    };
    links::possible_existing(st, who, child, visible.as_deref())
}

pub async fn referral_in_full(
    st: &Arc<App>,
    who: &Caller,
    id: Uuid,
) -> Result<Authorised<ReferralInFull>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        let r = find_referral(st, id)?;
        check(&who, Action::ViewReferral, referral_resource(&r))?;
        let child_view = person_of(st, r.child_id)?;
        let child = child_view
            .as_ref()
            .and_then(|c| embed(st, &who, c, Some(&r)));
        let others_found = people_of(st, &r.others_involved)?;
        let others: Vec<PersonLink> = r
            .others_involved
            .iter()
            .filter_map(|o| others_found.get(o))
            .filter_map(|p| embed(st, &who, p, Some(&r)))
            .collect();
        let candidates = match (&child_view, &child) {
            (Some(c), Some(_)) => possible_matches(st, &who, c)?,
            _ => Vec::new(),
        };
        let search_limited =
            access::scope_of(who.user.role, who.user.agency_kind, Action::ViewPerson)
                != Some(Scope::Any);
        let event = r.submitted.event_id.to_string();
        let occurred = st
            .store
            .entries_about(r.id)?
            .into_iter()
            .find(|e| e.event_id == event)
            .and_then(|e| serde_json::from_str::<vigil_model::EventHeader>(&e.header_json).ok())
            .map(|h| display::occurred(&h.occurred_at));
        // The sender's name as their account gives it, so triage can call back.
        let from = match st.mirror.user(r.submitted.user_id()) {
            Some(u) if u.username == r.submitted.by => format!(
                "{} ({}), {}",
                u.name,
                r.submitted.by,
                agency_name(st, &r.submitted.agency)
            ),
            _ => format!(
                "{} ({})",
                r.submitted.by,
                agency_name(st, &r.submitted.agency)
            ),
        };
        let decided_by_agency = r.decided.as_ref().map(|d| agency_name(st, &d.agency));
        let unnamed_child = child_view.as_ref().is_some_and(|c| c.names.is_empty());
        let recently_closed = match &child {
            Some(_) => cases::recently_closed(st, &who, r.child_id)?,
            None => None,
        };
        let mut subjects = vec![referral_subject(r.id)];
        subjects.extend(
            recently_closed
                .iter()
                .map(|c| SubjectRef::new(EntityKind::Case, c.id)),
        );
        subjects.extend(shown_people(
            child
                .iter()
                .chain(&others)
                .chain(candidates.iter().map(|c| &c.person)),
        ));
        authorised(
            st,
            &who,
            "opened a referral",
            subjects,
            ReferralInFull {
                record: ReferralRecord { referral: r, child },
                others,
                candidates,
                search_limited,
                occurred,
                from,
                decided_by_agency,
                unnamed_child,
                recently_closed,
            },
        )
    })
    .await
}

/// A place in words: name, address lines, town and postcode.
fn place_words(state: &LocationState) -> String {
    let d = &state.details;
    let mut parts: Vec<String> = Vec::new();
    parts.extend(d.name.iter().cloned());
    parts.extend(d.address_lines.iter().cloned());
    parts.extend(d.town.iter().cloned());
    parts.extend(d.postcode.iter().cloned());
    parts.join(", ")
}

/// The place an edge of person `id` leads to, if it is an active link from
/// them to a place: the records [`places_among`] needs.
fn place_link(id: Uuid, e: &vigil_model::index::EdgeRow) -> Option<Uuid> {
    (e.active && e.from.id == id && e.to.kind == EntityKind::Location).then_some(e.to.id)
}

/// The places a person's active links lead to, from their edges (one
/// indexed query) and the places' records (one batch), both read with the
/// rest of the page (`Store::person_page`); `records` may hold others.
fn places_among(
    id: Uuid,
    edges: &[vigil_model::index::EdgeRow],
    records: &[vigil_model::projection::EntityRecord],
) -> Vec<(String, String, Uuid)> {
    let places: std::collections::HashMap<Uuid, &LocationState> = records
        .iter()
        .filter_map(|r| r.as_kind::<LocationState>().map(|l| (r.id, l)))
        .collect();
    let mut out = Vec::new();
    for e in edges.iter().filter(|e| place_link(id, e).is_some()) {
        let (Some(loc), Ok(kind)) = (
            places.get(&e.to.id),
            vigil_model::codes::LinkKind::parse(&e.kind),
        ) else {
            continue;
        };
        let mut label = kind.label().to_owned();
        if let Some(first) = label.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        out.push((label, place_words(loc), e.to.id));
    }
    out
}

/// The existing child a new referral is about, if the form names one (by
/// `?child=` or its hidden `child_id`); the user must be allowed to open
/// that record, and showing it on the form is a logged read.
pub async fn chosen_child(
    st: &Arc<App>,
    who: &Caller,
    id: &str,
) -> Result<Authorised<Option<PersonLink>>, AppError> {
    let id = id.trim();
    let id = if id.is_empty() {
        None
    } else {
        Some(
            Uuid::parse_str(id)
                .map_err(|_| AppError::NotFound("There is no such person.".into()))?,
        )
    };
    let who = who.clone();
    st.blocking(move |st| {
        check(&who, Action::SubmitReferral, Resource::Page)?;
        let Some(id) = id else {
            return unlogged(st, None);
        };
        let p = person_of(st, id)?
            .ok_or_else(|| AppError::NotFound("There is no such person.".into()))?;
        check(&who, Action::ViewPerson, person_resource(&p))?;
        let link = embed(st, &who, &p, None);
        authorised(
            st,
            &who,
            "opened a person's record to raise a concern",
            vec![person_subject(p.id)],
            link,
        )
    })
    .await
}

/// One referral of a list, with its child when this user may be shown them.
pub struct Listed<T> {
    pub item: T,
    pub child: Option<PersonLink>,
}

/// "My referrals": what this user submitted, newest first.
pub async fn my_referrals(
    st: &Arc<App>,
    who: &Caller,
) -> Result<Authorised<Vec<Listed<Arc<ReferralView>>>>, AppError> {
    let who = who.clone();
    st.blocking(move |st| {
        check(&who, Action::ListOwnReferrals, Resource::Page)?;
        let mine = referrals_where(
            st,
            vigil_store::index::ReferralQuery::SubmittedBy {
                user_id: who.user.username.clone(),
                agency: who.user.agency.clone(),
            },
        )?;
        let children = people_of(st, &mine.iter().map(|r| r.child_id).collect::<Vec<_>>())?;
        let mut list: Vec<Listed<Arc<ReferralView>>> = mine
            .into_iter()
            .filter(|r| may(&who, Action::ListOwnReferrals, referral_resource(r)))
            .map(|r| Listed {
                child: children
                    .get(&r.child_id)
                    .and_then(|c| embed(st, &who, c, Some(&r))),
                item: r,
            })
            .collect();
        list.sort_by_key(|l| std::cmp::Reverse(l.item.submitted.at));
        let subjects = shown_people(list.iter().filter_map(|l| l.child.as_ref()));
        authorised(st, &who, "listed my referrals", subjects, list)
    })
    .await
}

/// The queue at this moment, after recording any escalation it calls for.
/// Used by the pages (through [`queue_for`]) and by the server's periodic
/// check, so an overdue referral is escalated even if nobody opens the queue.
/// The queue as it stands now (the mirror brought up to date first).
fn queue_now(st: &App) -> Result<Vec<QueueItem>, AppError> {
    st.mirror.refresh_all(st.store.as_ref())?;
    Ok(queue::compute(
        st.mirror.awaiting_decision(),
        &st.rules,
        &st.policy,
        st.now(),
    ))
}

/// Records the `referral.escalated` events due now that the log lacks;
/// returns how many were recorded. The alert runner calls it on every
/// step that reaches the end of the log, so escalation happens on the
/// server's timer whether or not anyone opens a page.
pub(crate) async fn record_escalations(st: &Arc<App>) -> Result<usize, AppError> {
    let items = st.blocking(queue_now).await?;
    let due = queue::escalations_due(&items, st.now());
    if due.is_empty() {
        return Ok(0);
    }
    // Refusals mean another server raised the same escalation first.
    Ok(st.append(due).await?.iter().filter(|r| r.is_ok()).count())
}

/// The queue now. Reading it writes nothing: the escalations it shows are
/// those the rules runner recorded (`record_escalations`, on the server's
/// timer), so a page load never appends to the log.
async fn current_queue(st: &Arc<App>) -> Result<Vec<QueueItem>, AppError> {
    st.blocking(queue_now).await
}

/// A list of the queue, as the triage and overdue pages show it.
pub struct QueueList {
    /// Referrals about the same person (their linked records) are listed
    /// together, at the place of the most urgent of them.
    pub rows: Vec<Listed<QueueItem>>,
    /// What the queue knows of the person each row is about: one per row,
    /// in the same order.
    pub people: Vec<links::QueuePerson>,
    /// The open alerts on each row's child, one list per row, in the same
    /// order (most urgent first).
    pub alerts: Vec<Vec<alert_work::AlertLine>>,
    /// Referrals awaiting a decision, listed or not.
    pub total: usize,
    pub overdue: usize,
    pub due_today: usize,
}

/// Which list of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueView {
    /// The triage queue: the oldest deadlines first, at most `limit`.
    Triage { limit: usize },
    /// Only the overdue ones.
    Overdue,
}

pub async fn queue_for(
    st: &Arc<App>,
    who: &Caller,
    view: QueueView,
) -> Result<Authorised<QueueList>, AppError> {
    let (action, words) = match view {
        QueueView::Triage { .. } => (Action::ViewTriageQueue, "listed the triage queue"),
        QueueView::Overdue => (Action::ViewOverdue, "listed overdue referrals"),
    };
    check(who, action, Resource::Page)?;
    let mut items = current_queue(st).await?;
    let total = items.len();
    let overdue = items.iter().filter(|i| i.overdue()).count();
    let due_today = items.iter().filter(|i| i.due_today()).count();
    match view {
        QueueView::Triage { limit } => items.truncate(limit),
        QueueView::Overdue => items.retain(|i| i.overdue()),
    }
    let who = who.clone();
    st.blocking(move |st| {
        // People, not records: rows about one linked person go together.
        let (order, people) = links::queue_people(
            st,
            &who,
            &items
                .iter()
                .map(|i| (i.referral.id, i.referral.child_id))
                .collect::<Vec<_>>(),
        )?;
        let mut slots: Vec<Option<QueueItem>> = items.into_iter().map(Some).collect();
        let items: Vec<QueueItem> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let children = people_of(
            st,
            &items
                .iter()
                .map(|i| i.referral.child_id)
                .collect::<Vec<_>>(),
        )?;
        let rows: Vec<Listed<QueueItem>> = items
            .into_iter()
            .map(|i| Listed {
                child: children
                    .get(&i.referral.child_id)
                    .and_then(|c| embed(st, &who, c, Some(&i.referral))),
                item: i,
            })
            .collect();
        let mut subjects = shown_people(rows.iter().filter_map(|l| l.child.as_ref()));
        // Open alerts on each row's child: on the children this user is
        // shown, so a hidden child's alerts are not counted either.
        let shown_children: Vec<Uuid> = rows
            .iter()
            .filter(|l| l.child.is_some())
            .map(|l| l.item.referral.child_id)
            .collect();
        let on = alert_work::open_alerts_on(st, &who, &shown_children)?;
        let alerts: Vec<Vec<alert_work::AlertLine>> = rows
            .iter()
            .map(|l| match l.child {
                Some(_) => on
                    .get(&l.item.referral.child_id)
                    .cloned()
                    .unwrap_or_default(),
                None => Vec::new(),
            })
            .collect();
        subjects.extend(
            alerts
                .iter()
                .flatten()
                .map(|a| SubjectRef::new(EntityKind::Alert, a.id)),
        );
        authorised(
            st,
            &who,
            words,
            subjects,
            QueueList {
                rows,
                alerts,
                people,
                total,
                overdue,
                due_today,
            },
        )
    })
    .await
}

/// The referral at the head of the triage queue, other than `after` (the
/// one just decided): its id only, so it shows nothing and logs nothing.
/// For "Next referral" after a decision; `None` when nothing else waits or
/// the user has no queue.
pub async fn next_in_queue(
    st: &Arc<App>,
    who: &Caller,
    after: Uuid,
) -> Result<Option<Uuid>, AppError> {
    if !who.may(Action::ViewTriageQueue) {
        return Ok(None);
    }
    Ok(current_queue(st)
        .await?
        .iter()
        .map(|i| &i.referral)
        .find(|r| r.id != after && may(who, Action::ViewReferral, referral_resource(r)))
        .map(|r| r.id))
}

/// The ids of referrals with this human reference (normally one): ids
/// only, so finding one shows nothing of it.
pub fn referrals_with_reference(st: &App, reference: &str) -> Result<Vec<Uuid>, AppError> {
    Ok(st
        .store
        .referrals(vigil_store::index::ReferralQuery::WithReference(
            reference.to_owned(),
        ))?
        .iter()
        .map(|r| r.id)
        .collect())
}

impl App {
    /// How many referrals awaiting a decision are past their deadline now
    /// (a number, shown to those who may see the overdue list).
    pub fn overdue_count(&self) -> usize {
        let now = self.now();
        self.mirror
            .awaiting_decision()
            .iter()
            .filter(|r| r.decision_due(&self.rules).is_overdue(now))
            .count()
    }

    /// How many referrals await a decision (a number, for the home page).
    pub fn awaiting_count(&self) -> usize {
        self.mirror.awaiting_decision().len()
    }
}
