//! The pages, as askama templates compiled into the binary (templates/).
//! Every value is HTML-escaped by askama unless a template says otherwise,
//! and none does.
//!
//! A page that shows a child's details has a [`Read`] field: only
//! [`crate::guard::Authorised::show`] hands one out, so such a page can be
//! built only from data the guard authorised, and is sent only once the
//! read is in the access log.

use crate::form::{FieldError, FormData};
use crate::guard::Read;
use askama::Template;

/// What every page's frame needs.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub title: String,
    pub has_errors: bool,
    pub user: Option<ChromeUser>,
    pub nav: Vec<NavLink>,
    pub csrf: String,
}

impl Chrome {
    /// The frame of a page for someone not signed in.
    pub fn public(title: &str) -> Chrome {
        Chrome {
            title: title.to_owned(),
            ..Default::default()
        }
    }

    pub fn with_errors(mut self, errors: &[FieldError]) -> Chrome {
        self.has_errors = !errors.is_empty();
        self
    }
}

#[derive(Clone, Debug)]
pub struct ChromeUser {
    pub name: String,
    pub role: String,
    pub agency: String,
}

#[derive(Clone, Debug)]
pub struct NavLink {
    pub href: String,
    pub label: String,
    pub current: bool,
    pub count: usize,
    pub count_words: String,
}

impl NavLink {
    pub fn new(href: &str, label: &str, current: bool) -> NavLink {
        NavLink {
            href: href.into(),
            label: label.into(),
            current,
            count: 0,
            count_words: String::new(),
        }
    }

    pub fn set_count(&mut self, n: usize, words: &str) {
        self.count = n;
        self.count_words = words.into();
    }
}

/// An option of a radio group or select.
#[derive(Clone, Debug)]
pub struct Opt {
    pub value: String,
    pub label: String,
}

impl Opt {
    pub fn new(value: &str, label: &str) -> Opt {
        Opt {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// One form field as the macros draw it.
#[derive(Clone, Debug, Default)]
pub struct Field {
    pub id: String,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub error: Option<String>,
    /// `text`, `password`, `number`, `time`, `email`, `tel`.
    pub kind: &'static str,
    /// Extra classes (`v-input--short`), or the legend's class for radios.
    pub class: &'static str,
    pub autocomplete: &'static str,
    pub options: Vec<Opt>,
    pub inline: bool,
}

/// A date typed in three boxes.
#[derive(Clone, Debug, Default)]
pub struct DateField {
    pub prefix: String,
    pub legend: String,
    pub hint: String,
    pub day: String,
    pub month: String,
    pub year: String,
    pub error: Option<String>,
    pub bad_day: bool,
    pub bad_month: bool,
    pub bad_year: bool,
}

/// A form's values and errors, and the fields drawn from them.
#[derive(Clone, Debug, Default)]
pub struct FormView {
    pub values: FormData,
    pub errors: Vec<FieldError>,
}

impl FormView {
    pub fn new(values: FormData, errors: Vec<FieldError>) -> FormView {
        FormView { values, errors }
    }

    fn error(&self, id: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field == id)
            .map(|e| e.message.clone())
    }

    /// A text input.
    pub fn text(&self, id: &str, label: &str, hint: &str) -> Field {
        Field {
            id: id.into(),
            label: label.into(),
            hint: hint.into(),
            value: self.values.raw(id).to_owned(),
            error: self.error(id),
            kind: "text",
            ..Default::default()
        }
    }

    /// A text input of another type or width.
    pub fn input(
        &self,
        id: &str,
        label: &str,
        hint: &str,
        kind: &'static str,
        class: &'static str,
    ) -> Field {
        Field {
            kind,
            class,
            ..self.text(id, label, hint)
        }
    }

    /// A password input (never refilled).
    pub fn password(&self, id: &str, label: &str, hint: &str, autocomplete: &'static str) -> Field {
        Field {
            value: String::new(),
            kind: "password",
            autocomplete,
            ..self.text(id, label, hint)
        }
    }

    /// Radios or a select with these options.
    pub fn choice(&self, id: &str, label: &str, hint: &str, options: Vec<Opt>) -> Field {
        Field {
            options,
            class: "v-label",
            ..self.text(id, label, hint)
        }
    }

    /// The error of one field of a date group (day, month or year).
    pub fn date_error(&self, prefix: &str) -> Option<String> {
        ["_day", "_month", "_year"]
            .iter()
            .find_map(|s| self.error(&format!("{prefix}{s}")))
    }

    /// A day / month / year group named `{prefix}_day`, `_month`, `_year`.
    pub fn date(&self, prefix: &str, legend: &str, hint: &str) -> DateField {
        let part = |s: &str| self.values.raw(&format!("{prefix}_{s}")).to_owned();
        let bad = |s: &str| self.has_error(&format!("{prefix}_{s}"));
        DateField {
            prefix: prefix.into(),
            legend: legend.into(),
            hint: hint.into(),
            day: part("day"),
            month: part("month"),
            year: part("year"),
            error: self.date_error(prefix),
            bad_day: bad("day"),
            bad_month: bad("month"),
            bad_year: bad("year"),
        }
    }

    /// A text input with an `autocomplete` hint (`username`, `tel`, ...).
    pub fn input_completing(
        &self,
        id: &str,
        label: &str,
        hint: &str,
        class: &'static str,
        autocomplete: &'static str,
    ) -> Field {
        Field {
            autocomplete,
            ..self.input(id, label, hint, "text", class)
        }
    }

    pub fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.field == id)
    }

    pub fn value(&self, id: &str) -> &str {
        self.values.raw(id)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub form: FormView,
    pub nonce: String,
    pub notice: Option<String>,
    pub next: String,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub form: FormView,
    pub forced: bool,
}

#[derive(Clone, Debug)]
pub struct Task {
    pub href: String,
    pub title: String,
    pub text: String,
    pub alert: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub first_name: String,
    pub tasks: Vec<Task>,
    pub overdue: usize,
    pub show_overdue_banner: bool,
}

#[derive(Template)]
#[template(path = "referral_form.html")]
pub struct ReferralFormPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    /// An existing record chosen: its id and name.
    pub child: Option<(String, String)>,
    /// The referrer answered yes to immediate danger (shown first of all).
    pub danger: bool,
    pub other_rows: Vec<usize>,
    /// Who to call out of hours ([`crate::OutOfHours`]).
    pub out_of_hours: crate::OutOfHours,
    /// The form was kept when the session ended, and is shown again to send.
    pub resumed: bool,
    /// Minutes a session lasts without activity (the page warns before it ends).
    pub idle_minutes: i64,
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub id: String,
    pub reference: String,
    pub just_sent: bool,
    pub danger: bool,
    pub child_name: String,
    pub received: String,
    pub due: String,
    pub status: String,
    pub status_class: &'static str,
    pub decided: Option<String>,
    pub receipt_available: bool,
    pub entry: String,
    pub log_id: String,
    /// Who to call out of hours ([`crate::OutOfHours`]).
    pub out_of_hours: crate::OutOfHours,
    /// A copy of what was sent, as lines, and what was added since.
    pub sent: Vec<Line>,
    pub added: Vec<HistoryRow>,
    /// The sender may add information (their own referral).
    pub can_add: bool,
    pub csrf: String,
    pub form: FormView,
    pub notice: Option<String>,
    /// Wording in what was sent that the language guidance warns against
    /// (the check run on save; the text itself is kept as written).
    pub wording: Vec<WordingRow>,
}

/// One phrase the language check found in a saved text, and where.
#[derive(Clone, Debug)]
pub struct WordingRow {
    /// Which part of the form it is in ("What you are worried about").
    pub field: &'static str,
    pub phrase: String,
    pub why: &'static str,
    pub suggestion: &'static str,
}

#[derive(Clone, Debug)]
pub struct MyRow {
    pub id: String,
    pub reference: String,
    pub child: String,
    pub sent: String,
    pub status: String,
    pub status_class: &'static str,
    pub decided: String,
    /// The user may open the referral in full (a link), not only see it listed.
    pub can_open: bool,
}

#[derive(Template)]
#[template(path = "my_referrals.html")]
pub struct MyReferralsPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub rows: Vec<MyRow>,
}

#[derive(Clone, Debug)]
pub struct QueueRow {
    pub id: String,
    pub reference: String,
    pub child: String,
    pub age: String,
    pub from: String,
    pub received: String,
    pub due: String,
    pub tag: &'static str,
    pub tag_class: &'static str,
    pub overdue: bool,
    pub danger: bool,
    pub escalated: String,
    /// The child's record, when this user may open it.
    pub child_href: Option<String>,
    /// What the queue knows of the person: "Same child as REF-… above",
    /// "3 other referrals about this child", in one line; may be empty.
    pub person: String,
    /// Not the first row about this person (drawn as part of a group).
    pub grouped: bool,
    /// Open alerts on the child (most urgent first).
    pub alerts: Vec<AlertRow>,
}

#[derive(Template)]
#[template(path = "triage.html")]
pub struct TriagePage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    /// Referrals awaiting a decision, listed or not.
    pub total: usize,
    pub rows: Vec<QueueRow>,
    pub overdue: usize,
    pub due_today: usize,
    pub search: String,
    pub search_error: Option<String>,
    pub can_decide: bool,
}

#[derive(Template)]
#[template(path = "overdue.html")]
pub struct OverduePage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub rows: Vec<QueueRow>,
    pub can_decide: bool,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub value: String,
}

impl Line {
    pub fn new(label: &str, value: impl Into<String>) -> Line {
        Line {
            label: label.into(),
            value: value.into(),
        }
    }
}

pub use vigil_app::guard::PersonLink;

#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub when: String,
    pub what: String,
    pub who: String,
}

#[derive(Template)]
#[template(path = "referral.html")]
pub struct ReferralPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    /// The child's case closed in the last six months, none open since.
    pub recently_closed: Option<CaseRow>,
    /// May this user open a case for the child from here.
    pub can_open_case: bool,
    pub id: String,
    pub reference: String,
    pub notice: Option<String>,
    pub danger: bool,
    pub status: String,
    pub status_class: &'static str,
    pub due: String,
    pub lines: Vec<Line>,
    pub concern: String,
    pub what_seen: String,
    pub child: PersonLink,
    pub others: Vec<PersonLink>,
    pub candidates: Vec<CandidateRow>,
    pub csrf: String,
    /// Some records are out of this user's reach: the front door will check them.
    pub search_limited: bool,
    pub history: Vec<HistoryRow>,
    pub can_decide: bool,
    /// After a decision: the next referral in the queue (its id and reference).
    pub next: Option<(String, String)>,
    /// The child has no name (described only): triage can look for them.
    pub unnamed: bool,
    /// What the sender added later.
    pub added: Vec<HistoryRow>,
}

#[derive(Template)]
#[template(path = "decide.html")]
pub struct DecidePage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    pub id: String,
    pub reference: String,
    pub child: String,
    pub due: String,
    pub concern: String,
    /// The child is in immediate danger: a decision below a strategy
    /// discussion needs a reason.
    pub danger: bool,
}

#[derive(Template)]
#[template(path = "person.html")]
pub struct PersonPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub id: String,
    pub name: String,
    /// Open alerts on the child (most urgent first).
    pub alerts: Vec<AlertRow>,
    pub cases: Vec<CaseRow>,
    /// Cases of the child this user is not involved in (counted, not shown).
    pub cases_hidden: usize,
    pub can_open_case: bool,
    pub lines: Vec<Line>,
    /// Agency name and how many items it holds.
    pub agencies: Vec<Line>,
    pub places: Vec<Line>,
    pub referrals: Vec<MyRow>,
    /// Some referrals are out of this user's reach (so not listed).
    pub referrals_limited: bool,
    /// Missing episodes, placements, workers.
    pub periods: Vec<PeriodSection>,
    /// The timeline, drawn on the server ([`crate::timeline`]); escaped there.
    pub timeline_svg: std::sync::Arc<str>,
    pub items: Vec<ChronologyLine>,
    pub total: u64,
    pub filtered: bool,
    pub limited: bool,
    pub agency_choices: Vec<Choice>,
    pub kind_choices: Vec<Choice>,
    pub page: u64,
    pub pages: u64,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub print_href: String,
    pub can_refer: bool,
    /// Other records of the same person this user may open.
    pub linked: Vec<LinkedRow>,
    pub csrf: String,
    /// The latest screening, if any this user may see.
    pub screening: Option<ScreeningLatest>,
    /// How the assessed risk changed: every screening, oldest first.
    pub risk_history: Vec<RiskRow>,
    /// The history as a step line, drawn on the server
    /// ([`crate::risk_chart`]); escaped there. Empty without screenings.
    pub risk_svg: String,
    pub can_screen: bool,
    /// Missing episodes: the last twelve months as bars ([`crate::missing_chart`];
    /// escaped there), the months in words, the pattern, each recent episode.
    pub missing: MissingSection,
    /// "N placements and M workers in the last 12 months".
    pub stability: String,
    pub can_record_missing: bool,
}

/// The missing episodes section of a child's page.
#[derive(Clone, Debug, Default)]
pub struct MissingSection {
    pub note: String,
    pub svg: String,
    /// "Jun 2025: 4", the months with any.
    pub months: Vec<String>,
    /// "Found at Station Road taxi rank 4 times".
    pub pattern: Vec<String>,
    pub episodes: Vec<EpisodeRow>,
}

/// One missing episode with its return home interview.
#[derive(Template)]
#[template(path = "overdue_interviews.html")]
pub struct OverdueInterviewsPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub rows: Vec<OverdueInterviewRow>,
}

/// One overdue return home interview.
#[derive(Clone, Debug)]
pub struct OverdueInterviewRow {
    pub child: String,
    pub child_href: Option<String>,
    pub returned: String,
    pub due: String,
    pub assigned: String,
    /// Who has been told, in the same words as the row's tag.
    pub escalated: String,
}

#[derive(Clone, Debug)]
pub struct EpisodeRow {
    pub from: String,
    pub to: String,
    pub what: String,
    /// Where found, by whom, with whom, in words.
    pub found: String,
    pub interview: String,
    /// A tag class: overdue red, done green, due yellow.
    pub interview_class: &'static str,
}

/// The latest screening on a child's page.
#[derive(Clone, Debug)]
pub struct ScreeningLatest {
    pub done: String,
    pub judged: String,
    pub judged_class: &'static str,
    pub supported: String,
    pub differs: bool,
    pub reason: String,
    pub who: String,
    /// Indicator, when known, source.
    pub yes: Vec<(String, String, String)>,
    pub not_known: usize,
}

/// One screening in the history of a child's risk.
#[derive(Clone, Debug)]
pub struct RiskRow {
    pub done: String,
    pub judged: String,
    pub judged_class: &'static str,
    pub supported: String,
    /// "Up from medium", "Down from high", "First screening", "No change".
    pub change: String,
    pub who: String,
}

/// One indicator's row of the screening form.
#[derive(Clone, Debug)]
pub struct IndicatorRow {
    pub n: usize,
    pub code: &'static str,
    pub label: &'static str,
    pub answer: String,
    pub known: String,
    pub source: String,
    pub error: Option<String>,
    pub known_error: Option<String>,
    pub source_error: Option<String>,
}

#[derive(Template)]
#[template(path = "screening_form.html")]
pub struct ScreeningFormPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    pub id: String,
    pub child: String,
    pub rows: Vec<IndicatorRow>,
    /// "Check the risk": the level the answers support, in words.
    pub preview: Option<String>,
    pub rule: &'static str,
}

#[derive(Template)]
#[template(path = "missing_form.html")]
pub struct MissingFormPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    pub id: String,
    pub child: String,
    /// Episodes with no return yet.
    pub open: Vec<Opt>,
    /// Returned episodes with no interview recorded.
    pub back: Vec<Opt>,
    pub agencies: Vec<Opt>,
    pub types: Vec<Opt>,
    pub outcomes: Vec<Opt>,
    pub yes_no: Vec<Opt>,
}

/// A list of periods on a person's page.
#[derive(Clone, Debug)]
pub struct PeriodSection {
    pub title: String,
    /// E.g. "3 in the last 12 months".
    pub note: String,
    pub rows: Vec<PeriodRow>,
}

#[derive(Clone, Debug)]
pub struct PeriodRow {
    pub from: String,
    pub to: String,
    pub what: String,
    pub detail: String,
}

/// One line of the chronology.
#[derive(Clone, Debug)]
pub struct ChronologyLine {
    pub when: String,
    /// "Date known to the month", ... (empty when exact or to the day).
    pub precision: String,
    pub what: String,
    pub detail: String,
    pub role: String,
    pub href: Option<String>,
    pub agency: String,
    pub actor: String,
    pub recorded: String,
}

/// A checkbox of a filter.
#[derive(Clone, Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub count: u64,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub query: String,
    pub searched: bool,
    pub understood: Vec<String>,
    pub results: Vec<PersonLink>,
    pub limited: bool,
    pub limit: usize,
    /// A child referred without a name: each result may be confirmed as them.
    pub link_to: Option<String>,
    /// A contextual case: each result may be linked to it.
    pub link_case: Option<String>,
    /// Where to go back to after confirming (this site's own path).
    pub back: String,
    pub csrf: String,
}

#[derive(Clone, Debug)]
pub struct AuditRow {
    pub seq: u64,
    pub when: String,
    pub user: String,
    pub role: String,
    pub agency: String,
    pub action: String,
    pub subjects: Vec<(String, String)>,
    /// The first hex digits of the row's hash.
    pub hash: String,
}

#[derive(Template)]
#[template(path = "language_report.html")]
pub struct LanguageReportPage {
    pub chrome: Chrome,
    /// The guidance rows, as the table's column headings.
    pub headings: Vec<&'static str>,
    pub rows: Vec<LanguageRow>,
    /// Log entries the report covers.
    pub entries: u64,
}

/// One agency's row of the language report.
#[derive(Clone, Debug)]
pub struct LanguageRow {
    pub agency: String,
    pub texts: u64,
    pub flagged: u64,
    pub share: String,
    /// Findings per guidance row, in the order of the headings.
    pub counts: Vec<u64>,
    pub phrases: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub form: FormView,
    pub rows: Vec<AuditRow>,
    pub older: Option<String>,
    pub filtered: bool,
    /// Only sign-ins, refused sign-ins and sign-outs.
    pub sign_ins: bool,
}

#[derive(Clone, Debug)]
pub struct UserRow {
    pub username: String,
    pub name: String,
    pub role: String,
    pub agency: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub rows: Vec<UserRow>,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "user_new.html")]
pub struct NewUserPage {
    pub chrome: Chrome,
    pub form: FormView,
    pub csrf: String,
    pub roles: Vec<Opt>,
    pub agencies: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "user_password.html")]
pub struct TemporaryPasswordPage {
    pub chrome: Chrome,
    pub username: String,
    pub name: String,
    pub password: String,
    pub created: bool,
}

#[derive(Template)]
#[template(path = "user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub form: FormView,
    pub csrf: String,
    pub username: String,
    pub name: String,
    pub lines: Vec<Line>,
    pub history: Vec<HistoryRow>,
    pub active: bool,
    pub can_manage: bool,
    pub is_self: bool,
    pub roles: Vec<Opt>,
    pub notice: Option<String>,
}

// ---------------------------------------------------------------------------
// Records of one person (entity resolution)
// ---------------------------------------------------------------------------

/// A possible existing record on a referral's page.
#[derive(Clone, Debug)]
pub struct CandidateRow {
    pub person: PersonLink,
    /// "87%".
    pub probability: String,
    /// How a person decided the pair, if anyone has ("" if nobody).
    pub status: String,
    pub confirmed: bool,
    pub can_confirm: bool,
    /// The pair page: both records side by side and the explanation.
    pub explain_href: String,
    /// What this person's records hold: "3 records · 4 referrals: 2 No
    /// further action, 1 Early help, 1 Awaiting a decision".
    pub holds: String,
}

/// A record of the same person on a person's page.
#[derive(Clone, Debug)]
pub struct LinkedRow {
    pub person: PersonLink,
    pub agency: String,
    pub how: String,
    pub via: Option<String>,
    pub a: String,
    pub b: String,
    pub can_undo: bool,
    pub explain_href: String,
}

/// One pair in the review queue.
#[derive(Clone, Debug)]
pub struct ReviewRow {
    pub a: PersonLink,
    pub b: PersonLink,
    pub probability: String,
    pub status: String,
    pub href: String,
    pub can_decide: bool,
}

#[derive(Template)]
#[template(path = "links_review.html")]
pub struct ReviewPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub rows: Vec<ReviewRow>,
    /// Pairs in the queue on every page.
    pub total: u64,
    /// This page (1-based) of `pages` (at least, when `more`).
    pub page: u64,
    pub pages: u64,
    /// There are more than `total` pairs (the count stops some thousands on).
    pub more: bool,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    /// This page's address (where a decision comes back to).
    pub here: String,
    pub band: String,
    pub csrf: String,
    pub notice: Option<String>,
}

pub use vigil_app::links::Side;

/// One field of an explanation, for the table beside the chart.
#[derive(Clone, Debug)]
pub struct StepRow {
    pub field: String,
    pub level: String,
    pub weight: String,
    pub running: String,
}

#[derive(Template)]
#[template(path = "link_pair.html")]
pub struct PairPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    /// The two records, side by side.
    pub sides: Vec<Side>,
    pub a_id: String,
    pub b_id: String,
    /// The waterfall, drawn on the server ([`crate::waterfall`]); escaped there.
    pub chart_svg: String,
    pub steps: Vec<StepRow>,
    pub probability: String,
    pub scored_by: String,
    pub status: String,
    pub can_decide: bool,
    pub confirmed: bool,
    pub csrf: String,
    pub back: String,
    /// The decision form's problem (an undo without a reason).
    pub errors: Vec<FieldError>,
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

/// One case in a list (the child's page, the referral page).
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub href: String,
    pub level: String,
    /// "Open", "Closed 3 Oct 2025", "Closing: waits for sign-off".
    pub status: String,
    pub status_class: &'static str,
    pub lead: String,
    pub worker: String,
    pub risk: String,
    pub open_actions: usize,
    pub close_reason: String,
    /// A contextual case's place or peer group (empty: the child's own).
    pub context: String,
}

/// One action of a case, as the case page and the action lists show it.
#[derive(Clone, Debug)]
pub struct ActionRow {
    pub id: String,
    pub case_href: String,
    pub child: String,
    pub text: String,
    pub owner: String,
    pub due: String,
    pub status: String,
    pub status_class: &'static str,
    /// Still open: it can be marked done or cancelled.
    pub open: bool,
    /// May this user close it (its owner, or whoever manages the case).
    pub can_close: bool,
    pub note: String,
    /// "Set at the meeting of 3 Nov 2025" (empty if no meeting set it).
    pub meeting: String,
}

/// A closure waiting for a supervisor.
#[derive(Clone, Debug)]
pub struct ClosureRow {
    pub case_href: String,
    pub child: String,
    pub level: String,
    pub reason: String,
    pub concerns: Vec<String>,
    pub requested: String,
}

#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    pub id: String,
    /// The meetings that discussed the case, newest first: label (kind
    /// and day), link (a multi-agency meeting's minutes) and decision.
    pub meetings: Vec<CaseMeetingRow>,
    /// Open alerts on the child (or the linked children), most urgent first.
    pub alerts: Vec<AlertRow>,
    pub child: String,
    pub child_href: Option<String>,
    pub child_detail: String,
    pub level: String,
    pub status: String,
    pub status_class: &'static str,
    pub open: bool,
    pub lines: Vec<Line>,
    pub risk: String,
    pub risk_class: &'static str,
    pub risk_history: Vec<Line>,
    pub history: Vec<Line>,
    pub actions: Vec<ActionRow>,
    pub overdue: usize,
    /// Why closing now needs a supervisor's sign-off.
    pub concerns: Vec<String>,
    /// A closure asked for and waiting: (reason, concerns, who and when).
    pub waiting: Option<ClosureRow>,
    pub sign_off: Vec<Line>,
    pub can_manage: bool,
    pub can_sign_off: bool,
    pub levels: Vec<Opt>,
    pub risks: Vec<Opt>,
    pub agencies: Vec<Opt>,
    /// The agencies on the case other than the lead (to take off).
    pub removable: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub stability: String,
    pub timeline_svg: std::sync::Arc<str>,
    pub items: Vec<ChronologyLine>,
    pub total: u64,
    pub limited: bool,
    /// A case on a place or a peer group: the linked children instead of
    /// a child's timeline and chronology.
    pub contextual: bool,
    pub linked: Vec<LinkedChildRow>,
    pub linked_hidden: usize,
}

/// A child linked to a contextual case (one whose record the user may open).
#[derive(Clone, Debug)]
pub struct LinkedChildRow {
    pub id: String,
    pub name: String,
    pub detail: String,
    pub reason: String,
    /// Who linked them and when.
    pub linked: String,
}

#[derive(Template)]
#[template(path = "case_new_context.html")]
pub struct NewContextCasePage {
    pub chrome: Chrome,
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    /// `place` or `peer_group`.
    pub context: String,
    /// A place already recorded, when the form was opened for one.
    pub location: String,
    pub place_kinds: Vec<Opt>,
    pub levels: Vec<Opt>,
    pub risks: Vec<Opt>,
    pub agencies: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "case_new.html")]
pub struct NewCasePage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    pub child_id: String,
    pub child: String,
    pub referral: String,
    pub levels: Vec<Opt>,
    pub risks: Vec<Opt>,
    pub agencies: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "actions.html")]
pub struct ActionsPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub csrf: String,
    pub heading: String,
    pub intro: String,
    pub rows: Vec<ActionRow>,
    pub closures: Vec<ClosureRow>,
    pub show_closures: bool,
    /// Where closing an action comes back to.
    pub back: String,
}

/// One case on a meeting's agenda.
#[derive(Clone, Debug)]
pub struct AgendaRow {
    pub case_id: String,
    pub case_href: String,
    pub child: String,
    pub level: String,
    pub risk: String,
    pub lead: String,
    pub reasons: Vec<String>,
}

/// One meeting held, in the list.
#[derive(Clone, Debug)]
pub struct MeetingRow {
    pub href: String,
    pub held: String,
    pub kind: String,
    pub chair: String,
    pub cases: String,
}

#[derive(Template)]
#[template(path = "meetings.html")]
pub struct MeetingsPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub since: String,
    pub criteria: Vec<String>,
    pub agenda: Vec<AgendaRow>,
    pub held: Vec<MeetingRow>,
    pub can_record: bool,
}

/// The fields of one action row on the meeting form.
#[derive(Clone, Debug)]
pub struct ActionFields {
    pub text: Field,
    pub owner: Field,
    pub due: Field,
}

/// One case on the meeting form: its agenda line, the decision box and
/// the action rows.
#[derive(Clone, Debug)]
pub struct MeetingCaseForm {
    pub row: AgendaRow,
    pub decision: Field,
    pub actions: Vec<ActionFields>,
}

/// One attendance row on the meeting form.
#[derive(Clone, Debug)]
pub struct AttendeeFields {
    pub name: Field,
    pub agency: Field,
}

#[derive(Template)]
#[template(path = "meeting_new.html")]
pub struct NewMeetingPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub form: FormView,
    pub csrf: String,
    pub case_ids: String,
    pub held: Field,
    pub chair: Field,
    pub attendees: Vec<AttendeeFields>,
    pub cases: Vec<MeetingCaseForm>,
}

/// One case in a meeting's minutes.
#[derive(Clone, Debug)]
pub struct MinutesCase {
    pub case_href: String,
    pub child: String,
    pub decision: String,
    pub actions: Vec<ActionRow>,
}

#[derive(Template)]
#[template(path = "meeting.html")]
pub struct MeetingPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub kind: String,
    pub held: String,
    pub chair: String,
    pub attendees: Vec<Line>,
    pub agencies: String,
    /// Only the cases the user may open (the others are not mentioned).
    pub cases: Vec<MinutesCase>,
}

/// A meeting that discussed a case, on the case page.
#[derive(Clone, Debug)]
pub struct CaseMeetingRow {
    pub label: String,
    pub href: Option<String>,
    pub decision: String,
}

/// One alert in a list (the alerts page, a child's record, a case, the
/// triage queue).
#[derive(Clone, Debug)]
pub struct AlertRow {
    pub id: String,
    pub href: String,
    pub severity: String,
    pub severity_class: &'static str,
    pub says: String,
    pub child: String,
    pub child_href: Option<String>,
    pub raised: String,
    /// "Acknowledged by …", "Resolved", or when it must be acknowledged by.
    pub status: String,
    pub status_class: &'static str,
    /// Who has been told (empty: not escalated).
    pub escalated: String,
    /// The child's first open case this user may open.
    pub case_href: Option<String>,
}

/// The alerts page (mine or the team's).
#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub team: bool,
    pub with_resolved: bool,
    pub rows: Vec<AlertRow>,
    pub open: usize,
    pub overdue: usize,
    pub head_of_service: usize,
}

/// One alert in full, with the forms to acknowledge and resolve it.
#[derive(Template)]
#[template(path = "alert.html")]
pub struct AlertPageView {
    pub chrome: Chrome,
    /// Built from data the guard authorised and logged.
    pub read: Read,
    pub csrf: String,
    pub row: AlertRow,
    pub rule: String,
    pub due: String,
    pub events: Vec<Line>,
    pub more_events: usize,
    pub cases: Vec<CaseRow>,
    pub seen_by: String,
    pub acknowledged: Option<Line>,
    pub resolved: Option<Line>,
    pub can_acknowledge: bool,
    pub can_resolve: bool,
    pub form: FormView,
}
