//! The referral form: what a referrer typed, checked field by field, and the
//! events it becomes.
//!
//! Every problem is reported against its field with a sentence a person
//! understands; where the model has a rule (a name is one line, a postcode
//! has a shape, text has a length limit) its own sentence is used, so the
//! form and the model never disagree. A form that passes becomes, in one
//! append: the child's `person.recorded` (unless an existing record was
//! chosen), their home and school as `location.recorded` with `lives_at` /
//! `attends` links, each other person involved as `person.recorded`, and the
//! `referral.submitted` that names them all.
//!
//! A child whose name the referrer does not know ("a girl of about 13, dark
//! hair, seen at the taxi rank") is enough: a description, an approximate
//! age and where they were seen stand in for the name. A child in
//! immediate danger needs the answer to "have the police been called?".

use crate::form::{sentence, FieldError, FormData};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use uuid::Uuid;
pub use vigil_app::referral::{Child, Intake, OTHER_ROWS};
use vigil_model::codes::{NameKind, Sex};
use vigil_model::dates::DateOfBirth;
use vigil_model::payload::Referrer;
use vigil_model::pole::{check_phone_number, check_postcode};
use vigil_model::text::{check_line, check_name, check_text, MAX_LONG_CHARS, MAX_SHORT_CHARS};
use vigil_model::time::{age_on, OccurredAt, Precision};
use vigil_model::PersonName;
use vigil_rules::london;

struct Checker<'a> {
    form: &'a FormData,
    errors: Vec<FieldError>,
}

impl Checker<'_> {
    fn fail(&mut self, field: &str, msg: impl Into<String>) {
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError::new(field, msg));
        }
    }

    /// A one-line field checked by the model's rule for names or lines.
    fn line(&mut self, field: &str, what: &str, max: usize) -> Option<String> {
        let v = self.form.opt(field)?;
        let r = if max <= vigil_model::text::MAX_NAME_CHARS {
            check_name(what, &v)
        } else {
            check_line(what, &v, max)
        };
        match r {
            Ok(()) => Some(v),
            Err(e) => {
                self.fail(field, sentence(&e.to_string()));
                None
            }
        }
    }

    /// A free-text field checked by the model's rule for text.
    fn text(&mut self, field: &str, what: &str, required: Option<&str>) -> Option<String> {
        let v = self.form.raw(field).trim_end().trim_start_matches('\n');
        if v.trim().is_empty() {
            if let Some(msg) = required {
                self.fail(field, msg);
            }
            return None;
        }
        match check_text(what, v, MAX_LONG_CHARS, true) {
            Ok(()) => Some(v.to_owned()),
            Err(e) => {
                self.fail(field, sentence(&e.to_string()));
                None
            }
        }
    }

    /// A day, month and year typed in three boxes (`{prefix}_day`, ...):
    /// the date and how precisely it is known, or None if all are empty.
    fn date_parts(&mut self, prefix: &str, what: &str) -> Option<(NaiveDate, Precision)> {
        let d = self.form.get(&format!("{prefix}_day")).to_owned();
        let m = self.form.get(&format!("{prefix}_month")).to_owned();
        let y = self.form.get(&format!("{prefix}_year")).to_owned();
        if d.is_empty() && m.is_empty() && y.is_empty() {
            return None;
        }
        let num = |s: &str, max: u32| -> Option<u32> {
            (s.len() <= 4 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
                .filter(|n| *n >= 1 && *n <= max)
        };
        if y.is_empty() {
            self.fail(
                &format!("{prefix}_year"),
                format!("{what} must include a year."),
            );
            return None;
        }
        let Some(year) = num(&y, 9999).filter(|_| y.len() == 4) else {
            self.fail(
                &format!("{prefix}_year"),
                format!(
                    "The year of {} must be 4 digits, like 2025.",
                    what.to_lowercase()
                ),
            );
            return None;
        };
        if year < EARLIEST_YEAR {
            self.fail(
                &format!("{prefix}_year"),
                format!(
                    "The year of {} must be {EARLIEST_YEAR} or later: check the year.",
                    what.to_lowercase()
                ),
            );
            return None;
        }
        if m.is_empty() {
            if !d.is_empty() {
                self.fail(
                    &format!("{prefix}_month"),
                    format!(
                        "{what} must include the month as well as the day, or leave the day empty."
                    ),
                );
                return None;
            }
            return NaiveDate::from_ymd_opt(year as i32, 1, 1).map(|x| (x, Precision::Year));
        }
        let Some(month) = num(&m, 12) else {
            self.fail(
                &format!("{prefix}_month"),
                format!(
                    "The month of {} must be a number from 1 to 12.",
                    what.to_lowercase()
                ),
            );
            return None;
        };
        if d.is_empty() {
            return NaiveDate::from_ymd_opt(year as i32, month, 1).map(|x| (x, Precision::Month));
        }
        let day = num(&d, 31);
        match day.and_then(|day| NaiveDate::from_ymd_opt(year as i32, month, day)) {
            Some(x) => Some((x, Precision::Day)),
            None => {
                self.fail(
                    &format!("{prefix}_day"),
                    format!("{what} must be a real date."),
                );
                None
            }
        }
    }
}

/// The earliest year any date on the form may have. Nobody alive was born
/// before it and nothing a referral describes happened before it, so an
/// earlier year (`0001`, `1025`) is a typing slip; chrono and the model would
/// accept it and show a child aged two thousand.
pub const EARLIEST_YEAR: u32 = 1900;

/// The ages (in whole years) the form accepts instead of a date of birth:
/// from 1 (a child under one is better known by their date of birth, and
/// "0" is what an empty number box becomes by mistake) to 17 (Vigil records
/// concerns about children: under 18).
pub const CHILD_AGES: std::ops::RangeInclusive<u32> = 1..=17;

fn value_for(d: NaiveDate, p: Precision) -> String {
    match p {
        Precision::Year => format!("{:04}", d.year()),
        Precision::Month => format!("{:04}-{:02}", d.year(), d.month()),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

/// The UTC instant of a UK local date and time.
fn london_instant(d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
    let naive = d.and_time(t).and_utc();
    let offset = london::offset_at(naive).local_minus_utc();
    naive - Duration::seconds(i64::from(offset))
}

/// Checks a referral form at `now`.
pub fn check(form: &FormData, now: DateTime<Utc>) -> Result<Intake, Vec<FieldError>> {
    let today = london::local_date(now);
    let mut c = Checker {
        form,
        errors: Vec::new(),
    };

    let immediate_danger = match form.get("immediate_danger") {
        "yes" => true,
        "no" => false,
        _ => {
            c.fail(
                "immediate_danger",
                "Say whether the child is in immediate danger.",
            );
            false
        }
    };

    // Whether the police were called: asked when the child is in
    // immediate danger, and required then.
    let police_called = match form.get("police_called") {
        "yes" => Some(true),
        "no" => Some(false),
        "" => None,
        _ => {
            c.fail("police_called", "Say whether the police have been called.");
            None
        }
    };
    if immediate_danger
        && police_called.is_none()
        && !c.errors.iter().any(|e| e.field == "police_called")
    {
        c.fail(
            "police_called",
            "Say whether the police have been called: if not, call 999 now.",
        );
    }

    // Who the child is.
    let existing = form.opt("child_id");
    let child = match existing {
        Some(id) => match Uuid::parse_str(&id) {
            Ok(id) => Some(Child::Existing(id)),
            Err(_) => {
                c.fail("", "The child's record could not be found; start the referral again from their page.");
                None
            }
        },
        None => {
            let given = c.line("child_given", "the child's first name", 200);
            let family = c.line("child_family", "the child's last name", 200);
            let mut names = Vec::new();
            if given.is_some() || family.is_some() {
                names.push(PersonName {
                    given: given.clone(),
                    family: family.clone(),
                    kind: NameKind::Birth,
                });
            }
            if let Some(other) = c.line("child_other_names", "the other names", MAX_SHORT_CHARS) {
                for n in other.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let name = PersonName {
                        given: Some(n.to_owned()),
                        family: None,
                        kind: NameKind::Nickname,
                    };
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            // A child nobody can name is described instead: what they look
            // like, about how old they are, and where they were seen.
            let description = c.text("child_description", "the description of the child", None);
            let unnamed =
                names.is_empty() && !c.errors.iter().any(|e| e.field.starts_with("child_"));
            if unnamed && description.is_none() {
                c.fail(
                    "child_given",
                    "Enter the child's first name, last name, or a name they are known by. If you do not know their name, describe them instead.",
                );
            }
            if names.len() > vigil_model::pole::MAX_NAMES {
                c.fail("child_other_names", "Give at most 40 other names.");
            }
            let mut dob = None;
            if let Some((d, p)) = c.date_parts("dob", "The date of birth") {
                let latest = vigil_model::dates::latest_day(&value_for(d, p), p).unwrap_or(d);
                if d > today {
                    c.fail("dob_day", "The date of birth must be in the past.");
                } else if age_on(latest, today) >= 18 {
                    c.fail("dob_year", "The date of birth makes the child 18 or older. Vigil records concerns about children: check the year.");
                } else {
                    dob = Some(DateOfBirth {
                        value: value_for(d, p),
                        precision: p,
                    });
                }
            }
            if let Some(age) = form.opt("child_age") {
                match age.parse::<u32>() {
                    Ok(0) => c.fail(
                        "child_age",
                        "If the child is under a year old, enter their date of birth instead of an age.",
                    ),
                    Ok(a) if CHILD_AGES.contains(&a) => {
                        if dob.is_none() && !c.errors.iter().any(|e| e.field.starts_with("dob_")) {
                            let born = today - Duration::days(i64::from(a) * 365 + 182);
                            dob = Some(DateOfBirth {
                                value: born.format("%Y-%m-%d").to_string(),
                                precision: Precision::Approximate,
                            });
                        }
                    }
                    _ => c.fail(
                        "child_age",
                        "The child's age must be a whole number of years under 18, like 14.",
                    ),
                }
            }
            let sex = match form.get("child_sex") {
                "" => None,
                s => match Sex::parse(s) {
                    Ok(s) => Some(s),
                    Err(_) => {
                        c.fail("child_sex", "Choose female, male or not known.");
                        None
                    }
                },
            };
            if unnamed && description.is_some() {
                if dob.is_none()
                    && !c
                        .errors
                        .iter()
                        .any(|e| e.field == "child_age" || e.field.starts_with("dob_"))
                {
                    c.fail(
                        "child_age",
                        "Give the child's approximate age: when you do not know their name, the description, an age and where they were seen are what the front door goes on.",
                    );
                }
                if form.opt("where").is_none() {
                    c.fail(
                        "where",
                        "Say where the child was seen: when you do not know their name, it helps the front door find them.",
                    );
                }
            }
            Some(Child::New {
                names,
                date_of_birth: dob,
                sex,
                description,
            })
        }
    };

    let address = c.text("child_address", "the address", None);
    let postcode = form.opt("child_postcode").map(|p| p.to_uppercase());
    if let Some(p) = &postcode {
        if let Err(e) = check_postcode(p) {
            c.fail("child_postcode", sentence(&e.to_string()));
        }
    }
    let mut home = None;
    if address.is_some() || postcode.is_some() {
        let lines: Vec<String> = address
            .as_deref()
            .unwrap_or("")
            .lines()
            .map(|l| l.trim().trim_end_matches(',').to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        if lines.len() > vigil_model::pole::MAX_ADDRESS_LINES {
            c.fail(
                "child_address",
                format!(
                    "Write the address on at most {} lines.",
                    vigil_model::pole::MAX_ADDRESS_LINES
                ),
            );
        } else if let Some(l) = lines
            .iter()
            .find(|l| check_name("an address line", l).is_err())
        {
            let e = check_name("an address line", l).unwrap_err();
            c.fail("child_address", sentence(&e.to_string()));
        }
        home = Some((lines, postcode));
    }
    let school = c.line("child_school", "the school or college", 200);

    // What happened.
    let concern = c
        .text(
            "concern",
            "what you are worried about",
            Some("Describe what you are worried about."),
        )
        .unwrap_or_default();
    let what_seen = c.text("what_seen", "what you saw or heard", None);
    let mut occurred = None;
    match c.date_parts("when", "The date it happened") {
        None if !c.errors.iter().any(|e| e.field.starts_with("when_")) => c.fail(
            "when_day",
            "Enter when this happened, even roughly: a month and year, or a year, will do.",
        ),
        None => {}
        Some((d, p)) if d > today => {
            c.fail(
                "when_day",
                "The date it happened must be today or in the past.",
            );
            let _ = p;
        }
        Some((d, mut p)) => {
            let approx = form.get("when_approx") == "yes";
            let time = form.get("when_time");
            if !time.is_empty() {
                match (p, NaiveTime::parse_from_str(time, "%H:%M")) {
                    (Precision::Day, Ok(t)) if !approx => {
                        let at = london_instant(d, t);
                        if at > now + Duration::minutes(5) {
                            c.fail("when_time", "The time it happened must be in the past.");
                        } else {
                            occurred = Some(OccurredAt::exact(at));
                        }
                    }
                    (Precision::Day, Ok(_)) => c.fail(
                        "when_time",
                        "Leave the time empty when the date is approximate.",
                    ),
                    (_, Ok(_)) => c.fail(
                        "when_time",
                        "Give the day as well as the time, or leave the time empty.",
                    ),
                    (_, Err(_)) => c.fail(
                        "when_time",
                        "The time must be written like 14:30 (24-hour clock).",
                    ),
                }
            } else {
                if approx && p == Precision::Day {
                    p = Precision::Approximate;
                }
                occurred = Some(OccurredAt {
                    value: value_for(d, p),
                    precision: p,
                });
            }
        }
    }
    let where_text = c.line("where", "where it happened", MAX_SHORT_CHARS);

    let mut others = Vec::new();
    for i in 1..=OTHER_ROWS {
        let name_f = format!("other{i}_name");
        let details_f = format!("other{i}_details");
        let name = c.line(&name_f, "the other person's name", 200);
        let details = c.line(
            &details_f,
            "what you know about the other person",
            MAX_SHORT_CHARS,
        );
        match (name, details) {
            (Some(n), d) => others.push((n, d)),
            (None, Some(_)) if !c.errors.iter().any(|e| e.field == name_f) => c.fail(
                &name_f,
                "Give the other person's name or the name they go by. If you do not know it, describe them under \u{201c}What did you see or hear?\u{201d} instead.",
            ),
            _ => {}
        }
    }

    let referrer = Referrer {
        name: c.line(
            "referrer_name",
            "the name of the person who raised the concern",
            200,
        ),
        role: c.line("referrer_role", "their role", 200),
        organisation: c.line("referrer_org", "their organisation", 200),
        phone: form.opt("referrer_phone"),
        email: form.opt("referrer_email"),
    };
    if let Some(p) = &referrer.phone {
        if let Err(e) = check_phone_number(p) {
            c.fail("referrer_phone", sentence(&e.to_string()));
        }
    }
    if let Some(e) = &referrer.email {
        let ok = e.len() <= 254
            && e.matches('@').count() == 1
            && !e.starts_with('@')
            && !e.ends_with('@')
            && e.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if !ok {
            c.fail(
                "referrer_email",
                "Enter an email address like name@example.org.",
            );
        }
    }
    let call_back_on = form.opt("call_back_on");
    if let Some(p) = &call_back_on {
        if let Err(e) = check_phone_number(p) {
            c.fail("call_back_on", sentence(&e.to_string()));
        }
    }
    let referrer_given = referrer.name.is_some()
        || referrer.role.is_some()
        || referrer.organisation.is_some()
        || referrer.phone.is_some()
        || referrer.email.is_some();

    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    Ok(Intake {
        immediate_danger,
        police_called,
        call_back_on,
        child: child.expect("a child is set when there are no errors"),
        home,
        school,
        concern,
        what_seen,
        occurred: occurred.expect("a date is set when there are no errors"),
        where_text,
        others,
        referrer: referrer_given.then_some(referrer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 2, 10, 0, 0).unwrap()
    }

    fn good() -> FormData {
        FormData::from_pairs([
            ("immediate_danger", "no"),
            ("child_given", "Jade"),
            ("child_family", "Example"),
            ("child_other_names", "Jadey, JJ"),
            ("dob_day", "14"),
            ("dob_month", "3"),
            ("dob_year", "2010"),
            ("child_address", "1 Sample Street\r\nNorthshire"),
            ("child_postcode", "ns1 4ab"),
            ("child_school", "Oakfield Academy"),
            ("concern", "Seen getting into cars with older men."),
            ("when_month", "5"),
            ("when_year", "2025"),
            ("other1_name", "Dez"),
            ("other1_details", "About 30, silver car"),
        ])
    }

    fn errors(f: FormData) -> Vec<(String, String)> {
        check(&f, now())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect()
    }

    #[test]
    fn a_good_form_becomes_events_that_the_model_accepts() {
        let i = check(&good(), now()).unwrap();
        assert_eq!(i.occurred.precision, Precision::Month);
        let Child::New {
            names,
            date_of_birth,
            ..
        } = &i.child
        else {
            panic!()
        };
        assert_eq!(names.len(), 3);
        assert_eq!(date_of_birth.as_ref().unwrap().value, "2010-03-14");
        assert_eq!(
            i.home.as_ref().unwrap().0,
            vec!["1 Sample Street", "Northshire"]
        );
        assert_eq!(i.home.as_ref().unwrap().1.as_deref(), Some("NS1 4AB"));
        let actor = vigil_model::Actor {
            user: "teacher.dsl".into(),
            role: vigil_model::codes::Role::Referrer,
        };
        let d = i
            .drafts(
                &actor,
                &vigil_model::codes::AgencyId::new("oakfield-academy").unwrap(),
                now(),
            )
            .unwrap();
        let kinds: Vec<&str> = d.drafts.iter().map(|d| d.payload.kind()).collect();
        assert_eq!(
            kinds,
            [
                "person.recorded",
                "location.recorded",
                "link.recorded",
                "location.recorded",
                "link.recorded",
                "person.recorded",
                "referral.submitted"
            ]
        );
    }

    #[test]
    fn each_problem_is_a_sentence_on_its_field() {
        let e = errors(FormData::default());
        let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["immediate_danger", "child_given", "concern", "when_day"]
        );
        assert!(e.iter().all(|(_, m)| m.ends_with('.')));

        let mut f = good();
        f.set("dob_day", "31");
        f.set("dob_month", "2");
        assert_eq!(
            errors(f),
            [(
                "dob_day".into(),
                "The date of birth must be a real date.".into()
            )]
        );
        let mut f = good();
        f.set("dob_year", "2001");
        assert!(errors(f)[0].1.contains("18 or older"));
        let mut f = good();
        f.set("when_year", "2026");
        assert_eq!(errors(f)[0].0, "when_day");
        let mut f = good();
        f.set("child_given", "Jade\u{202e}");
        assert!(errors(f)[0]
            .1
            .starts_with("The child's first name contains a text-direction override"));
        let mut f = good();
        f.set("concern", &"x".repeat(MAX_LONG_CHARS + 1));
        assert_eq!(
            errors(f),
            [(
                "concern".into(),
                "What you are worried about is 20001 characters long; the limit is 20000.".into()
            )]
        );
        let mut f = good();
        f.set("child_postcode", "<script>");
        assert_eq!(errors(f)[0].0, "child_postcode");
        let mut f = good();
        f.set("other2_details", "tall");
        assert_eq!(errors(f)[0].0, "other2_name");
        let mut f = good();
        f.set("when_day", "3");
        f.set("when_time", "25:00");
        assert_eq!(errors(f)[0].0, "when_time");
    }

    #[test]
    fn dates_keep_their_precision() {
        let mut f = good();
        f.set("when_day", "1");
        f.set("when_time", "21:15");
        let i = check(&f, now()).unwrap();
        assert_eq!(i.occurred.precision, Precision::Exact);
        assert_eq!(
            i.occurred.value, "2025-05-01T20:15:00.000Z",
            "UK summer time"
        );
        let mut f = good();
        f.set("when_day", "1");
        f.set("when_approx", "yes");
        assert_eq!(
            check(&f, now()).unwrap().occurred.precision,
            Precision::Approximate
        );
        let mut f = good();
        f.set("when_month", "");
        assert_eq!(
            check(&f, now()).unwrap().occurred.precision,
            Precision::Year
        );
        let mut f = good();
        for k in ["dob_day", "dob_month", "dob_year"] {
            f.set(k, "");
        }
        f.set("child_age", "14");
        let Child::New { date_of_birth, .. } = check(&f, now()).unwrap().child else {
            panic!()
        };
        assert_eq!(date_of_birth.unwrap().precision, Precision::Approximate);
    }
}

#[cfg(test)]
mod date_bounds {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 2, 10, 0, 0).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> FormData {
        let mut f = FormData::from_pairs([
            ("immediate_danger", "no"),
            ("child_given", "Jade"),
            ("concern", "Seen getting into cars with older men."),
            ("when_month", "5"),
            ("when_year", "2025"),
        ]);
        for (k, v) in pairs {
            f.set(k, v);
        }
        f
    }

    fn error_on(f: FormData, field: &str) -> Option<String> {
        check(&f, now())
            .err()?
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }

    #[test]
    fn a_date_in_year_0001_or_before_1900_is_refused() {
        let e = error_on(form(&[("when_year", "0001")]), "when_year").expect("refused");
        assert!(e.contains("1900"), "{e}");
        assert!(error_on(form(&[("when_year", "1899")]), "when_year").is_some());
        let e = error_on(form(&[("dob_year", "0001")]), "dob_year").expect("refused");
        assert!(e.contains("1900"), "{e}");
        assert!(check(&form(&[("when_year", "1990")]), now()).is_ok());
    }

    #[test]
    fn an_age_of_0_is_refused_with_what_to_do_instead() {
        let e = error_on(form(&[("child_age", "0")]), "child_age").expect("refused");
        assert!(e.contains("date of birth"), "{e}");
        assert!(error_on(form(&[("child_age", "18")]), "child_age").is_some());
        assert!(check(&form(&[("child_age", "1")]), now()).is_ok());
        assert!(check(&form(&[("child_age", "17")]), now()).is_ok());
    }
}
