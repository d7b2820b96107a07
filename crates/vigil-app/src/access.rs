//! Who may see and do what: the one access table.
//!
//! [`authorise`] takes the signed-in user, the action and the record it
//! concerns. Handlers do not call it for records: the loaders of
//! [`crate::guard`] do, and every route says its action in
//! [`crate::routes::ROUTES`]. The rules
//! are the rows of [`RULES`] and nowhere else; docs/access.md shows the same
//! table ([`markdown_table`] renders it, and a test holds the page to it).
//!
//! A rule says that a role, working for an agency of one of the listed
//! kinds, may do an action on records within a scope: any record, records of
//! the user's own agency, or only what the user submitted. Where several
//! rules match, the widest scope wins. No rule, no access: a role not named
//! for an action is refused it.
//!
//! Two properties are tested, not just hoped for: an auditor may do every
//! read action on any record and no action that changes anything; and no
//! role but administrator manages accounts.

use vigil_model::codes::{AgencyKind, Role};

/// Something a user does; each page or form maps to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Raise a concern: the referral form.
    SubmitReferral,
    /// "My referrals": the status and decision of referrals one submitted.
    ListOwnReferrals,
    /// The receipt of a referral and its signed receipt file.
    ViewReceipt,
    /// Add information to a referral one sent (a new event on it).
    AddReferralInformation,
    /// The triage queue: every referral awaiting a decision.
    ViewTriageQueue,
    /// A referral in full, with the child's possible existing records.
    ViewReferral,
    /// Decide a referral.
    DecideReferral,
    /// Overdue referrals and escalations.
    ViewOverdue,
    /// A child's (or any person's) record.
    ViewPerson,
    /// Possible matches of person records (the review queue) and why the
    /// model scored a pair as it did.
    ReviewLinks,
    /// Decide whether two person records are of the same person: confirm,
    /// reject, or undo a link.
    DecideLink,
    /// Record a CSE screening of a child (the indicator checklist and the
    /// judgement of risk).
    RecordScreening,
    /// The language report: how the wording on file measures against the
    /// guidance, per agency (counts and phrases; no record's text).
    ViewLanguageReport,
    /// Record a child missing, their return (where found, by whom, with
    /// whom), who is to do the return home interview, and the interview.
    RecordMissing,
    /// A case in full (level, risk and why, agencies, worker, actions,
    /// history), and the child's record through it. "Own agency" for a
    /// case means involvement: the user's agency leads it or is on it, or
    /// the user is its allocated worker.
    ViewCase,
    /// Open a case, and change one: level, risk, worker, agencies, actions.
    ManageCase,
    /// Sign off (or decline) closing a case that needs it: actions open,
    /// indicators active or a recent missing episode.
    SignOffClosure,
    /// The meetings page: the agenda of the next multi-agency exploitation
    /// meeting and the meetings held, each listing only the cases the user
    /// may open ([`Action::ViewCase`]).
    ViewMeetings,
    /// Record a multi-agency meeting: who attended, the decision on each
    /// case and the actions it set, on cases the user may change
    /// ([`Action::ManageCase`]).
    RecordMeeting,
    /// Alerts the rules raised: one's own and one's team's, and one alert
    /// in full. Only alerts on children whose record or one of whose
    /// cases the user may open are listed or shown.
    ViewAlerts,
    /// Acknowledge an alert (take it on, with a note) and resolve it (with
    /// a note), on a child whose record or case the user may open.
    AnswerAlert,
    /// The access log: who read which record, when.
    ViewAccessLog,
    /// The list of accounts and one account's history.
    ViewUsers,
    /// Create accounts, change roles, disable accounts, reset passwords.
    ManageUsers,
}

impl Action {
    /// Every action, in the order of the table.
    pub const ALL: &'static [Action] = &[
        Action::SubmitReferral,
        Action::ListOwnReferrals,
        Action::ViewReceipt,
        Action::AddReferralInformation,
        Action::ViewTriageQueue,
        Action::ViewReferral,
        Action::DecideReferral,
        Action::ViewOverdue,
        Action::ViewPerson,
        Action::ReviewLinks,
        Action::DecideLink,
        Action::RecordScreening,
        Action::ViewLanguageReport,
        Action::RecordMissing,
        Action::ViewCase,
        Action::ManageCase,
        Action::SignOffClosure,
        Action::ViewMeetings,
        Action::RecordMeeting,
        Action::ViewAlerts,
        Action::AnswerAlert,
        Action::ViewAccessLog,
        Action::ViewUsers,
        Action::ManageUsers,
    ];

    /// Whether the action changes the record (an auditor may do none of these).
    pub fn changes_anything(self) -> bool {
        matches!(
            self,
            Action::SubmitReferral
                | Action::AddReferralInformation
                | Action::DecideReferral
                | Action::DecideLink
                | Action::RecordScreening
                | Action::RecordMissing
                | Action::ManageCase
                | Action::SignOffClosure
                | Action::RecordMeeting
                | Action::AnswerAlert
                | Action::ManageUsers
        )
    }

    /// Whether the action reaches particular records (so its scope matters);
    /// the others are pages a role either has or does not.
    pub fn about_records(self) -> bool {
        matches!(
            self,
            Action::ListOwnReferrals
                | Action::ViewReceipt
                | Action::AddReferralInformation
                | Action::ViewReferral
                | Action::DecideReferral
                | Action::ViewPerson
                | Action::ReviewLinks
                | Action::DecideLink
                | Action::RecordScreening
                | Action::RecordMissing
                | Action::ViewCase
                | Action::ManageCase
                | Action::SignOffClosure
                | Action::ViewUsers
                | Action::ManageUsers
        )
    }

    /// The action in words, as the docs and refusals say it.
    pub fn describe(self) -> &'static str {
        match self {
            Action::SubmitReferral => "raise a concern (referral form)",
            Action::ListOwnReferrals => "see my referrals and their decisions",
            Action::ViewReceipt => "see a referral's receipt and download it",
            Action::AddReferralInformation => "add information to my referral",
            Action::ViewTriageQueue => "see the triage queue",
            Action::ViewReferral => "open a referral in full",
            Action::DecideReferral => "decide a referral",
            Action::ViewOverdue => "see overdue referrals",
            Action::ViewPerson => "open a person's record",
            Action::ReviewLinks => "see possible matches of records and why",
            Action::DecideLink => "decide whether two records are the same person",
            Action::RecordScreening => "record a screening for exploitation",
            Action::ViewLanguageReport => "see the language report of each agency",
            Action::RecordMissing => "record missing episodes and return home interviews",
            Action::ViewCase => {
                "open a case (own agency: cases it leads or is on, or where I am the worker)"
            }
            Action::ManageCase => "open and change a case and its actions",
            Action::SignOffClosure => "sign off closing a case while work on it is still live",
            Action::ViewMeetings => {
                "see the meeting agenda and the meetings held (only cases I may open)"
            }
            Action::RecordMeeting => {
                "record a multi-agency meeting and its actions (only cases I may change)"
            }
            Action::ViewAlerts => "see alerts (only on children whose record or case I may open)",
            Action::AnswerAlert => {
                "acknowledge and resolve alerts (only on children whose record or case I may open)"
            }
            Action::ViewAccessLog => "read the access log",
            Action::ViewUsers => "see accounts",
            Action::ManageUsers => "create and change accounts",
        }
    }
}

/// Which records of a kind a rule reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Only what the user submitted.
    OwnSubmission,
    /// Records of the user's own agency (submitted or recorded by it).
    OwnAgency,
    /// Every record.
    Any,
}

impl Scope {
    fn words(self) -> &'static str {
        match self {
            Scope::OwnSubmission => "own",
            Scope::OwnAgency => "own agency",
            Scope::Any => "any",
        }
    }
}

/// The kinds of agency a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agencies {
    /// Every kind of agency.
    All,
    /// The agencies that staff a multi-agency safeguarding hub (the front
    /// door): children's social care, police, health and education.
    Mash,
    /// Agencies whose analysts work on person-level data for problem
    /// profiles: police, children's social care and government.
    Analysis,
    /// Every kind except those of [`Agencies::Mash`].
    NotMash,
}

impl Agencies {
    /// Whether an agency of this kind is included.
    pub fn includes(self, kind: AgencyKind) -> bool {
        use AgencyKind::*;
        let mash = matches!(kind, SocialCare | Police | Health | Education);
        match self {
            Agencies::All => true,
            Agencies::Mash => mash,
            Agencies::Analysis => matches!(kind, Police | SocialCare | Government),
            Agencies::NotMash => !mash,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Agencies::All => "",
            Agencies::Mash => " (MASH agencies)",
            Agencies::Analysis => " (police, social care, government)",
            Agencies::NotMash => " (other agencies)",
        }
    }
}

/// One row of the access table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub role: Role,
    pub action: Action,
    pub agencies: Agencies,
    pub scope: Scope,
}

const fn rule(role: Role, action: Action, agencies: Agencies, scope: Scope) -> Rule {
    Rule {
        role,
        action,
        agencies,
        scope,
    }
}

use Action::*;
use Agencies::{All, Analysis, Mash, NotMash};
use Role::{
    Administrator, Analyst, Auditor, PartnershipAdministrator, Practitioner, Referrer, Supervisor,
    Triage,
};
use Scope::{Any, OwnAgency, OwnSubmission};

/// The access table. Everything any user may do is one of these rows.
pub const RULES: &[Rule] = &[
    // Anyone who works with children may raise a concern and follow it up.
    rule(Referrer, SubmitReferral, All, Any),
    rule(Referrer, ListOwnReferrals, All, OwnSubmission),
    rule(Referrer, ViewReceipt, All, OwnSubmission),
    rule(Referrer, AddReferralInformation, All, OwnSubmission),
    rule(Practitioner, SubmitReferral, All, Any),
    rule(Practitioner, ListOwnReferrals, All, OwnSubmission),
    rule(Practitioner, ViewReceipt, All, OwnSubmission),
    rule(Practitioner, AddReferralInformation, All, OwnSubmission),
    rule(Practitioner, ViewReferral, All, OwnAgency),
    rule(Practitioner, ViewPerson, All, OwnAgency),
    // Whether two records are one person is decided by someone who may open
    // both, and whose agency holds one of them (the front door: any).
    rule(Practitioner, ReviewLinks, All, OwnAgency),
    rule(Practitioner, DecideLink, All, OwnAgency),
    // A screening is recorded by those who work with the child and may
    // open their record: practitioners on their own agency's records, the
    // front door on any.
    rule(Practitioner, RecordScreening, All, OwnAgency),
    // Missing episodes and return home interviews likewise.
    rule(Practitioner, RecordMissing, All, OwnAgency),
    // A case is seen and worked by those involved in it: its worker and
    // the agencies that lead it or are on it (not merely the agency that
    // first recorded the child).
    rule(Practitioner, ViewCase, All, OwnAgency),
    rule(Practitioner, ManageCase, All, OwnAgency),
    // The multi-agency meeting: its agenda and minutes list only the cases
    // the user may open, and recording one needs each case's ManageCase.
    rule(Practitioner, ViewMeetings, All, OwnAgency),
    rule(Practitioner, RecordMeeting, All, OwnAgency),
    // Alerts: the page is the role's; which alerts follows the child's
    // record and cases (see `Action::ViewAlerts`).
    rule(Practitioner, ViewAlerts, All, OwnAgency),
    rule(Practitioner, AnswerAlert, All, OwnAgency),
    // The front door sees every referral and decides it.
    rule(Triage, SubmitReferral, Mash, Any),
    rule(Triage, ListOwnReferrals, Mash, OwnSubmission),
    rule(Triage, ViewReceipt, Mash, OwnSubmission),
    rule(Triage, AddReferralInformation, Mash, OwnSubmission),
    rule(Triage, ViewTriageQueue, Mash, Any),
    rule(Triage, ViewReferral, Mash, Any),
    rule(Triage, DecideReferral, Mash, Any),
    rule(Triage, ViewPerson, Mash, Any),
    rule(Triage, ReviewLinks, Mash, Any),
    rule(Triage, DecideLink, Mash, Any),
    rule(Triage, RecordScreening, Mash, Any),
    rule(Triage, RecordMissing, Mash, Any),
    rule(Triage, ViewCase, Mash, Any),
    rule(Triage, ManageCase, Mash, Any),
    rule(Triage, ViewMeetings, Mash, Any),
    rule(Triage, RecordMeeting, Mash, Any),
    rule(Triage, ViewAlerts, Mash, Any),
    rule(Triage, AnswerAlert, Mash, Any),
    // Analysts read person-level data for problem profiles; every read is logged.
    rule(Analyst, ViewReferral, Analysis, Any),
    rule(Analyst, ViewPerson, Analysis, Any),
    rule(Analyst, ViewCase, Analysis, Any),
    rule(Analyst, ViewAlerts, Analysis, Any),
    // Supervisors are told when work is late, and can act on it.
    rule(Supervisor, SubmitReferral, All, Any),
    rule(Supervisor, ListOwnReferrals, All, OwnSubmission),
    rule(Supervisor, ViewReceipt, All, OwnSubmission),
    rule(Supervisor, AddReferralInformation, All, OwnSubmission),
    rule(Supervisor, ViewTriageQueue, Mash, Any),
    rule(Supervisor, ViewReferral, Mash, Any),
    rule(Supervisor, ViewReferral, NotMash, OwnAgency),
    rule(Supervisor, DecideReferral, Mash, Any),
    rule(Supervisor, ViewOverdue, Mash, Any),
    rule(Supervisor, ViewPerson, Mash, Any),
    rule(Supervisor, ViewPerson, NotMash, OwnAgency),
    rule(Supervisor, ReviewLinks, Mash, Any),
    rule(Supervisor, ReviewLinks, NotMash, OwnAgency),
    rule(Supervisor, DecideLink, Mash, Any),
    rule(Supervisor, DecideLink, NotMash, OwnAgency),
    rule(Supervisor, RecordScreening, Mash, Any),
    rule(Supervisor, RecordScreening, NotMash, OwnAgency),
    // How a team's wording measures against the language guidance: a
    // supervisor sees their own agency's row, an auditor every agency's.
    rule(Supervisor, ViewLanguageReport, All, OwnAgency),
    rule(Supervisor, RecordMissing, Mash, Any),
    rule(Supervisor, RecordMissing, NotMash, OwnAgency),
    // Supervisors of the agencies involved (they are told of overdue actions).
    rule(Supervisor, ViewCase, All, OwnAgency),
    rule(Supervisor, ManageCase, All, OwnAgency),
    // Closing a case while actions are open, indicators are active or the
    // child went missing recently is for a supervisor of an agency on it.
    rule(Supervisor, SignOffClosure, All, OwnAgency),
    rule(Supervisor, ViewMeetings, All, OwnAgency),
    rule(Supervisor, RecordMeeting, All, OwnAgency),
    // An unacknowledged alert escalates to the supervisor.
    rule(Supervisor, ViewAlerts, All, OwnAgency),
    rule(Supervisor, AnswerAlert, All, OwnAgency),
    // An auditor reads everything and changes nothing.
    rule(Auditor, ViewReceipt, All, Any),
    rule(Auditor, ViewTriageQueue, All, Any),
    rule(Auditor, ViewReferral, All, Any),
    rule(Auditor, ViewOverdue, All, Any),
    rule(Auditor, ViewPerson, All, Any),
    rule(Auditor, ReviewLinks, All, Any),
    rule(Auditor, ViewCase, All, Any),
    rule(Auditor, ViewMeetings, All, Any),
    rule(Auditor, ViewAlerts, All, Any),
    rule(Auditor, ViewAccessLog, All, Any),
    rule(Auditor, ViewLanguageReport, All, Any),
    rule(Auditor, ViewUsers, All, Any),
    // Administrators manage accounts; they do not read children's records.
    // An agency's administrator manages that agency's accounts only, and
    // [`may_grant`] keeps them to roles that reach no further than it; the
    // partnership administrator manages every agency's.
    rule(Administrator, ViewUsers, All, OwnAgency),
    rule(Administrator, ManageUsers, All, OwnAgency),
    rule(PartnershipAdministrator, ViewUsers, All, Any),
    rule(PartnershipAdministrator, ManageUsers, All, Any),
];

/// The user asking, as far as access is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject<'a> {
    /// The account's id: what ownership of a submission is checked against
    /// (with the agency), never the username as typed.
    pub user_id: uuid::Uuid,
    pub username: &'a str,
    pub role: Role,
    /// The agency's code (`northshire-police`).
    pub agency: &'a str,
    pub agency_kind: AgencyKind,
}

/// The record an action concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource<'a> {
    /// A page that is not about one record (a form, a list).
    Page,
    /// A referral: the user id of whoever submitted it, and the agency they
    /// submitted it for. A submission is the user's own only when both match.
    Referral {
        submitted_by: uuid::Uuid,
        agency: &'a str,
    },
    /// A person's record: the agency that recorded it.
    Person { recorded_by_agency: &'a str },
    /// An account: the agency it belongs to.
    Account { agency: &'a str },
    /// A case: the agency that leads it, the other agencies on it, and the
    /// allocated worker's user id. Involvement is what "own agency" means
    /// for a case.
    Case {
        lead: &'a str,
        agencies: &'a [vigil_model::codes::AgencyId],
        worker: Option<&'a str>,
    },
}

/// Why access was refused: a sentence for the person refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// The widest scope the table gives `user` for `action`, if any.
pub fn scope_of(role: Role, agency_kind: AgencyKind, action: Action) -> Option<Scope> {
    RULES
        .iter()
        .filter(|r| r.role == role && r.action == action && r.agencies.includes(agency_kind))
        .map(|r| r.scope)
        .max()
}

/// May `user` do `action` on `resource`? The one question of the table.
pub fn authorise(user: &Subject<'_>, action: Action, resource: Resource<'_>) -> Result<(), Denied> {
    let Some(scope) = scope_of(user.role, user.agency_kind, action) else {
        return Err(Denied(format!(
            "Your role ({}) does not allow you to {}.",
            user.role.label().to_lowercase(),
            action.describe()
        )));
    };
    let allowed = match (scope, resource) {
        (Scope::Any, _) | (_, Resource::Page) => true,
        (Scope::OwnAgency, Resource::Referral { agency, .. }) => agency == user.agency,
        (Scope::OwnAgency, Resource::Person { recorded_by_agency }) => {
            recorded_by_agency == user.agency
        }
        (Scope::OwnAgency, Resource::Account { agency }) => agency == user.agency,
        (
            Scope::OwnAgency | Scope::OwnSubmission,
            Resource::Case {
                lead,
                agencies,
                worker,
            },
        ) => {
            worker == Some(user.username)
                || (scope == Scope::OwnAgency
                    && (lead == user.agency || agencies.iter().any(|a| a.as_str() == user.agency)))
        }
        (
            Scope::OwnSubmission,
            Resource::Referral {
                submitted_by,
                agency,
            },
        ) => submitted_by == user.user_id && agency == user.agency,
        (Scope::OwnSubmission, Resource::Person { .. } | Resource::Account { .. }) => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied(match scope {
            Scope::OwnSubmission => {
                "You can only see referrals you submitted yourself.".to_string()
            }
            _ if matches!(resource, Resource::Case { .. }) => {
                "Your agency is not involved in this case, and you are not its worker.".to_string()
            }
            _ => "This record belongs to another agency, and your role only reaches your own agency's records.".to_string(),
        }))
    }
}

/// Whether a role at this kind of agency reaches records or lists beyond its
/// own agency: some rule gives it `any` scope for an action other than
/// raising a concern (whose scope reaches nobody's records). Derived from
/// the table, so a rule added later is counted without anyone remembering to.
pub fn reaches_beyond_own_agency(role: Role, kind: AgencyKind) -> bool {
    Action::ALL
        .iter()
        .filter(|a| **a != Action::SubmitReferral)
        .any(|a| scope_of(role, kind, *a) == Some(Scope::Any))
}

/// May `user` give an account the role `role` at an agency of kind `kind`
/// (create it so, or change it to it)? Also asked for the role an account
/// has now before it is changed, reset or disabled, so that an agency's
/// administrator cannot take over an account that reaches further than
/// they may grant (by resetting its password and signing in as it).
///
/// - A partnership administrator grants every account role except their
///   own, which only `vigil user add` on the server gives.
/// - An agency's administrator grants only roles that reach no further than
///   the agency ([`reaches_beyond_own_agency`]) and never administrator: an
///   administrator makes accounts, so granting it is granting that power.
pub fn may_grant(user: &Subject<'_>, role: Role, kind: AgencyKind) -> Result<(), Denied> {
    let refuse = |why: &str| {
        Err(Denied(format!(
            "Only a partnership administrator can give an account the {} role{why}.",
            role.label().to_lowercase()
        )))
    };
    match role {
        Role::System => {
            return Err(Denied(
                "The system role is Vigil's own and cannot be given to an account.".into(),
            ))
        }
        Role::PartnershipAdministrator => {
            return Err(Denied(
                "Partnership administrators are created only with `vigil user add` on the server."
                    .into(),
            ))
        }
        _ => {}
    }
    match scope_of(user.role, user.agency_kind, Action::ManageUsers) {
        Some(Scope::Any) => Ok(()),
        Some(_) if role == Role::Administrator => {
            refuse(", because an administrator creates and changes accounts")
        }
        Some(_) if reaches_beyond_own_agency(role, kind) => refuse(&format!(
            " at {} agency, because it reaches other agencies' records",
            match kind {
                AgencyKind::Other => "an \u{2018}other\u{2019}".to_owned(),
                k => format!("a {}", k.label().to_lowercase()),
            }
        )),
        Some(_) => Ok(()),
        None => Err(Denied(format!(
            "Your role ({}) does not allow you to {}.",
            user.role.label().to_lowercase(),
            Action::ManageUsers.describe()
        ))),
    }
}

/// Whether an account with this role at this kind of agency could do
/// anything at all (accounts that could do nothing are not created).
pub fn role_fits_agency(role: Role, kind: AgencyKind) -> bool {
    Action::ALL
        .iter()
        .any(|a| scope_of(role, kind, *a).is_some())
}

/// The access table as Markdown, exactly as docs/access.md shows it.
pub fn markdown_table() -> String {
    let roles = Role::ACCOUNT_ROLES;
    let mut out = String::from("| may … | ");
    out.push_str(
        &roles
            .iter()
            .map(|r| r.code())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    out.push_str(" |\n|---|");
    out.push_str(&"---|".repeat(roles.len()));
    out.push('\n');
    for action in Action::ALL {
        out.push_str(&format!("| {} |", action.describe()));
        for role in roles {
            let cells: Vec<String> = RULES
                .iter()
                .filter(|r| r.role == *role && r.action == *action)
                .map(|r| {
                    let scope = if action.about_records() {
                        r.scope.words()
                    } else {
                        "yes"
                    };
                    format!("{scope}{}", r.agencies.words())
                })
                .collect();
            if cells.is_empty() {
                out.push_str(" — |");
            } else {
                out.push_str(&format!(" {} |", cells.join("; ")));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_case_is_seen_by_involvement() {
        use vigil_model::codes::{AgencyId, AgencyKind};
        let agencies = [AgencyId::new("riverside-youth-project").unwrap()];
        let case = Resource::Case {
            lead: "northshire-childrens-services",
            agencies: &agencies,
            worker: Some("sw.07"),
        };
        let who = |username: &'static str, role, agency: &'static str, kind| Subject {
            user_id: uuid::Uuid::nil(),
            username,
            role,
            agency,
            agency_kind: kind,
        };
        let ok = |s: &Subject<'_>| authorise(s, Action::ViewCase, case).is_ok();
        // The lead agency's and an involved agency's practitioners.
        assert!(ok(&who(
            "sw.01",
            Role::Practitioner,
            "northshire-childrens-services",
            AgencyKind::SocialCare
        )));
        assert!(ok(&who(
            "yw.01",
            Role::Practitioner,
            "riverside-youth-project",
            AgencyKind::YouthService
        )));
        // The worker, wherever they are.
        assert!(ok(&who(
            "sw.07",
            Role::Practitioner,
            "elsewhere",
            AgencyKind::SocialCare
        )));
        // An uninvolved agency, even one that recorded the child.
        let out = who(
            "pc.01",
            Role::Practitioner,
            "northshire-police",
            AgencyKind::Police,
        );
        let e = authorise(&out, Action::ViewCase, case).unwrap_err();
        assert!(e.0.contains("not involved"), "{e}");
        assert!(authorise(&out, Action::ManageCase, case).is_err());
        // Supervisors of the agencies involved; not of others.
        assert!(ok(&who(
            "tm.01",
            Role::Supervisor,
            "riverside-youth-project",
            AgencyKind::YouthService
        )));
        assert!(!ok(&who(
            "tm.02",
            Role::Supervisor,
            "northshire-police",
            AgencyKind::Police
        )));
        // The front door, any case.
        assert!(ok(&who(
            "t.01",
            Role::Triage,
            "northshire-police",
            AgencyKind::Police
        )));
        // A referrer has no case access.
        assert!(!ok(&who(
            "ref.01",
            Role::Referrer,
            "riverside-youth-project",
            AgencyKind::YouthService
        )));
        // Administrators manage accounts, not cases.
        assert!(!ok(&who(
            "admin",
            Role::Administrator,
            "northshire-childrens-services",
            AgencyKind::SocialCare
        )));
    }

    use super::*;

    fn uid(name: &str) -> uuid::Uuid {
        vigil_model::payload::user_id_for(name)
    }

    fn user(role: Role, kind: AgencyKind) -> Subject<'static> {
        Subject {
            user_id: uid("u"),
            username: "u",
            role,
            agency: "a",
            agency_kind: kind,
        }
    }

    #[test]
    fn an_auditor_reads_everything_and_changes_nothing() {
        for kind in AgencyKind::ALL {
            for a in Action::ALL {
                let s = scope_of(Role::Auditor, *kind, *a);
                if a.changes_anything() {
                    assert_eq!(s, None, "auditor may not {a:?}");
                } else if *a != Action::ListOwnReferrals {
                    assert_eq!(s, Some(Scope::Any), "auditor should {a:?}");
                }
            }
        }
    }

    #[test]
    fn only_administrators_manage_accounts_and_they_read_no_records() {
        for role in Role::ACCOUNT_ROLES {
            for kind in AgencyKind::ALL {
                assert_eq!(
                    scope_of(*role, *kind, Action::ManageUsers).is_some(),
                    matches!(*role, Role::Administrator | Role::PartnershipAdministrator)
                );
            }
        }
        for a in [
            Action::ViewPerson,
            Action::ViewReferral,
            Action::ViewAccessLog,
        ] {
            assert_eq!(scope_of(Role::Administrator, AgencyKind::Police, a), None);
            assert_eq!(
                scope_of(Role::PartnershipAdministrator, AgencyKind::Other, a),
                None
            );
        }
    }

    #[test]
    fn scopes_are_checked_against_the_record() {
        let referrer = user(Role::Referrer, AgencyKind::Education);
        let mine = Resource::Referral {
            submitted_by: uid("u"),
            agency: "a",
        };
        let colleagues = Resource::Referral {
            submitted_by: uid("v"),
            agency: "a",
        };
        assert!(authorise(&referrer, Action::ViewReceipt, mine).is_ok());
        assert!(authorise(&referrer, Action::ViewReceipt, colleagues).is_err());
        assert!(authorise(&referrer, Action::ViewReferral, mine).is_err());
        let practitioner = user(Role::Practitioner, AgencyKind::Education);
        assert!(authorise(&practitioner, Action::ViewReferral, colleagues).is_ok());
        let other_agency = Resource::Referral {
            submitted_by: uid("v"),
            agency: "b",
        };
        let e = authorise(&practitioner, Action::ViewReferral, other_agency).unwrap_err();
        assert!(e.0.contains("another agency"), "{e}");
        let triage_at_school = user(Role::Triage, AgencyKind::Education);
        assert!(authorise(&triage_at_school, Action::DecideReferral, other_agency).is_ok());
        let triage_at_licensing = user(Role::Triage, AgencyKind::Licensing);
        assert!(authorise(
            &triage_at_licensing,
            Action::ViewTriageQueue,
            Resource::Page
        )
        .is_err());
        assert!(!role_fits_agency(Role::Triage, AgencyKind::Licensing));
        assert!(role_fits_agency(Role::Referrer, AgencyKind::Licensing));
        let supervisor_at_school = user(Role::Supervisor, AgencyKind::YouthService);
        assert!(authorise(&supervisor_at_school, Action::ViewReferral, colleagues).is_ok());
        assert!(authorise(&supervisor_at_school, Action::ViewReferral, other_agency).is_err());
    }

    #[test]
    fn links_are_decided_by_those_who_hold_a_record_never_referrers_or_auditors() {
        use AgencyKind::*;
        for kind in AgencyKind::ALL {
            assert_eq!(scope_of(Role::Referrer, *kind, Action::DecideLink), None);
            assert_eq!(scope_of(Role::Referrer, *kind, Action::ReviewLinks), None);
            assert_eq!(scope_of(Role::Auditor, *kind, Action::DecideLink), None);
            assert_eq!(
                scope_of(Role::Practitioner, *kind, Action::DecideLink),
                Some(Scope::OwnAgency)
            );
        }
        assert_eq!(
            scope_of(Role::Triage, Police, Action::DecideLink),
            Some(Scope::Any)
        );
        let practitioner = user(Role::Practitioner, Health);
        let theirs = Resource::Person {
            recorded_by_agency: "a",
        };
        let others = Resource::Person {
            recorded_by_agency: "b",
        };
        assert!(authorise(&practitioner, Action::DecideLink, theirs).is_ok());
        assert!(authorise(&practitioner, Action::DecideLink, others).is_err());
    }

    #[test]
    fn screenings_are_recorded_by_those_who_may_open_the_record_never_referrers_or_auditors() {
        for kind in AgencyKind::ALL {
            for role in [
                Role::Referrer,
                Role::Auditor,
                Role::Analyst,
                Role::Administrator,
            ] {
                assert_eq!(
                    scope_of(role, *kind, Action::RecordScreening),
                    None,
                    "{role:?}"
                );
            }
            // Nobody may record a screening on a record they may not open.
            for role in Role::ACCOUNT_ROLES {
                if let Some(s) = scope_of(*role, *kind, Action::RecordScreening) {
                    assert!(
                        scope_of(*role, *kind, Action::ViewPerson) >= Some(s),
                        "{role:?} at {kind:?}"
                    );
                }
            }
        }
        let practitioner = user(Role::Practitioner, AgencyKind::YouthService);
        let theirs = Resource::Person {
            recorded_by_agency: "a",
        };
        let others = Resource::Person {
            recorded_by_agency: "b",
        };
        assert!(authorise(&practitioner, Action::RecordScreening, theirs).is_ok());
        assert!(authorise(&practitioner, Action::RecordScreening, others).is_err());
        let triage = user(Role::Triage, AgencyKind::SocialCare);
        assert!(authorise(&triage, Action::RecordScreening, others).is_ok());
    }

    #[test]
    fn refusals_are_sentences() {
        let e = authorise(
            &user(Role::Referrer, AgencyKind::Other),
            Action::ViewTriageQueue,
            Resource::Page,
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "Your role (referrer) does not allow you to see the triage queue."
        );
    }

    #[test]
    fn a_submission_is_ones_own_only_at_the_same_agency() {
        // The same user id at another agency (an actor name that an account
        // elsewhere also carries) does not make a referral one's own.
        let referrer = user(Role::Referrer, AgencyKind::YouthService);
        let elsewhere = Resource::Referral {
            submitted_by: uid("u"),
            agency: "police",
        };
        assert!(authorise(&referrer, Action::ViewReceipt, elsewhere).is_err());
    }

    #[test]
    fn agency_administrators_grant_only_roles_that_stay_within_their_agency() {
        let admin = Subject {
            agency_kind: AgencyKind::YouthService,
            ..user(Role::Administrator, AgencyKind::YouthService)
        };
        for role in [
            Role::Auditor,
            Role::Administrator,
            Role::PartnershipAdministrator,
        ] {
            assert!(
                may_grant(&admin, role, AgencyKind::YouthService).is_err(),
                "{role:?}"
            );
        }
        for role in [Role::Triage, Role::Analyst, Role::Supervisor] {
            assert!(
                may_grant(&admin, role, AgencyKind::Police).is_err(),
                "{role:?}"
            );
        }
        for role in [Role::Referrer, Role::Practitioner, Role::Supervisor] {
            assert!(
                may_grant(&admin, role, AgencyKind::YouthService).is_ok(),
                "{role:?}"
            );
        }
        let partnership = user(Role::PartnershipAdministrator, AgencyKind::Other);
        for role in Role::ACCOUNT_ROLES {
            assert_eq!(
                may_grant(&partnership, *role, AgencyKind::Police).is_ok(),
                *role != Role::PartnershipAdministrator,
                "{role:?}"
            );
        }
        let referrer = user(Role::Referrer, AgencyKind::Police);
        assert!(may_grant(&referrer, Role::Referrer, AgencyKind::Police).is_err());
        // Accounts are scoped to the administrator's agency.
        let own = Resource::Account { agency: "a" };
        let other = Resource::Account { agency: "b" };
        assert!(authorise(&admin, Action::ManageUsers, own).is_ok());
        assert!(authorise(&admin, Action::ManageUsers, other).is_err());
        assert!(authorise(&admin, Action::ViewUsers, other).is_err());
        assert!(authorise(&partnership, Action::ManageUsers, other).is_ok());
    }
}
