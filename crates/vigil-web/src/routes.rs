//! Every route, in one table: method, path, handler, and the rule that
//! guards it. The router is built from [`ROUTES`] and nothing else, and a
//! test reads the same table, so a route cannot be added without saying
//! which action of the access table it is (or that it is public), and the
//! test fails if that action has no rule.

use crate::access::Action;
use crate::app::AppState;
use crate::pages::{
    account, admin, alerts, assets, audit, cases, home, language, links, meetings, missing, people,
    referrals, reports, screening, triage,
};
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use std::sync::Arc;

/// What a route needs of whoever asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Anyone, signed in or not (sign-in, static files, the log's key, health).
    Public,
    /// Any signed-in user: their own session and password, the home page.
    SignedIn,
    /// A signed-in user whose role has this action in the access table (and,
    /// for a record, whose scope reaches it: the handler's guard checks that).
    Action(Action),
}

/// One route of the table.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub gate: Gate,
    handler: fn() -> MethodRouter<Arc<AppState>>,
}

impl Route {
    /// The handler, for the router.
    pub fn handler(&self) -> MethodRouter<Arc<AppState>> {
        (self.handler)()
    }
}

/// A row of [`ROUTES`]: the method is written once and used for both the
/// table and the handler.
macro_rules! route {
    ($method:ident $path:literal => $handler:path, $gate:expr) => {
        Route {
            method: Method::$method,
            path: $path,
            gate: $gate,
            handler: || on(MethodFilter::$method, $handler),
        }
    };
}

use Action::*;
use Gate::{Public, SignedIn};

/// Every route. Anything not listed is 404, and a listed path with another
/// method (DELETE, PUT, ...) is 405: nothing deletes a referral.
pub const ROUTES: &[Route] = &[
    route!(GET "/" => home::home, SignedIn),
    route!(GET "/login" => account::login_form, Public),
    route!(POST "/login" => account::login, Public),
    route!(POST "/logout" => account::logout, SignedIn),
    route!(GET "/account/password" => account::password_form, SignedIn),
    route!(POST "/account/password" => account::change_password, SignedIn),
    route!(GET "/referrals/new" => referrals::new_form, Gate::Action(SubmitReferral)),
    route!(POST "/referrals/new" => referrals::submit, Gate::Action(SubmitReferral)),
    route!(GET "/referrals/resume" => referrals::resume, Gate::Action(SubmitReferral)),
    route!(GET "/referrals/mine" => referrals::mine, Gate::Action(ListOwnReferrals)),
    route!(GET "/referrals/{id}" => referrals::view, Gate::Action(ViewReferral)),
    route!(GET "/referrals/{id}/receipt" => referrals::receipt, Gate::Action(ViewReceipt)),
    route!(GET "/referrals/{id}/receipt.json" => referrals::receipt_file, Gate::Action(ViewReceipt)),
    route!(GET "/referrals/{id}/payload.json" => referrals::payload_file, Gate::Action(ViewReceipt)),
    route!(POST "/referrals/{id}/add" => referrals::add_information, Gate::Action(AddReferralInformation)),
    route!(GET "/referrals/{id}/decide" => referrals::decide_form, Gate::Action(DecideReferral)),
    route!(POST "/referrals/{id}/decide" => referrals::decide, Gate::Action(DecideReferral)),
    route!(GET "/triage" => triage::triage, Gate::Action(ViewTriageQueue)),
    route!(GET "/overdue" => triage::overdue, Gate::Action(ViewOverdue)),
    route!(GET "/overdue/interviews" => missing::overdue, Gate::Action(ViewOverdue)),
    route!(GET "/people/{id}" => people::person, Gate::Action(ViewPerson)),
    route!(GET "/people/{id}/screening" => screening::form, Gate::Action(RecordScreening)),
    route!(POST "/people/{id}/screening" => screening::record, Gate::Action(RecordScreening)),
    route!(GET "/people/{id}/missing" => missing::form, Gate::Action(RecordMissing)),
    route!(POST "/people/{id}/missing" => missing::record, Gate::Action(RecordMissing)),
    route!(GET "/search" => people::search, Gate::Action(ViewPerson)),
    route!(GET "/cases/new" => cases::new_form, Gate::Action(ManageCase)),
    route!(POST "/cases/new" => cases::open, Gate::Action(ManageCase)),
    route!(GET "/cases/{id}" => cases::view, Gate::Action(ViewCase)),
    route!(POST "/cases/{id}" => cases::change, Gate::Action(ManageCase)),
    route!(POST "/cases/{id}/closure" => cases::closure, Gate::Action(SignOffClosure)),
    route!(POST "/cases/{id}/children" => cases::children, Gate::Action(ManageCase)),
    route!(POST "/cases/{id}/actions/close" => cases::close_action, Gate::Action(ViewCase)),
    route!(GET "/actions/mine" => cases::mine, Gate::Action(ViewCase)),
    route!(GET "/overdue/actions" => cases::overdue, Gate::Action(ViewOverdue)),
    route!(GET "/alerts" => alerts::mine, Gate::Action(ViewAlerts)),
    route!(GET "/alerts/team" => alerts::team, Gate::Action(ViewAlerts)),
    route!(GET "/alerts/{id}" => alerts::alert, Gate::Action(ViewAlerts)),
    route!(POST "/alerts/{id}/acknowledge" => alerts::acknowledge, Gate::Action(AnswerAlert)),
    route!(POST "/alerts/{id}/resolve" => alerts::resolve, Gate::Action(AnswerAlert)),
    route!(GET "/meetings" => meetings::list, Gate::Action(ViewMeetings)),
    route!(GET "/meetings/new" => meetings::new_form, Gate::Action(RecordMeeting)),
    route!(POST "/meetings/new" => meetings::record, Gate::Action(RecordMeeting)),
    route!(GET "/meetings/{id}" => meetings::view, Gate::Action(ViewMeetings)),
    route!(GET "/links/review" => links::review, Gate::Action(ReviewLinks)),
    route!(GET "/links/pair" => links::pair, Gate::Action(ReviewLinks)),
    route!(POST "/links/pair/confirm" => links::confirm, Gate::Action(DecideLink)),
    route!(POST "/links/pair/reject" => links::reject, Gate::Action(DecideLink)),
    route!(POST "/links/pair/undo" => links::undo, Gate::Action(DecideLink)),
    route!(GET "/audit" => audit::audit, Gate::Action(ViewAccessLog)),
    route!(GET "/reports/language" => reports::language, Gate::Action(ViewLanguageReport)),
    route!(GET "/admin/users" => admin::list, Gate::Action(ViewUsers)),
    route!(GET "/admin/users/new" => admin::new_form, Gate::Action(ManageUsers)),
    route!(POST "/admin/users/new" => admin::create, Gate::Action(ManageUsers)),
    route!(GET "/admin/users/{username}" => admin::show, Gate::Action(ViewUsers)),
    route!(POST "/admin/users/{username}/role" => admin::change_role, Gate::Action(ManageUsers)),
    route!(POST "/admin/users/{username}/reset" => admin::reset, Gate::Action(ManageUsers)),
    route!(POST "/admin/users/{username}/disable" => admin::disable, Gate::Action(ManageUsers)),
    route!(POST "/language/check" => language::check_typed, SignedIn),
    route!(GET "/static/vigil.css" => assets::css, Public),
    route!(GET "/static/vigil.js" => assets::js, Public),
    route!(GET "/log-key.pub" => assets::log_key, Public),
    route!(GET "/healthz" => assets::health, Public),
];
