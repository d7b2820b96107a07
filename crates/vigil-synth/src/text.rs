//! What practitioners write: concerns, notes, intelligence and reasons.
//!
//! Most wording follows professional language guidance. Victim-blaming
//! wording (DOMAIN.md section 9) is written only when the generator decides
//! to make that failure, and every such record is listed in the truth file,
//! so a language checker can be measured against it. Some sentences quote a
//! child ("she said he is her boyfriend"), which is not the writer's own
//! wording: a good checker tells the two apart.

use vigil_model::codes::{CinFactor, Sex};

/// Pronouns for a person, by the sex recorded for them.
pub struct Pron {
    pub they: &'static str,
    pub them: &'static str,
    pub their: &'static str,
    pub themself: &'static str,
    pub is: &'static str,
}

pub fn pron(sex: Sex) -> Pron {
    match sex {
        Sex::Female => Pron {
            they: "she",
            them: "her",
            their: "her",
            themself: "herself",
            is: "is",
        },
        Sex::Male => Pron {
            they: "he",
            them: "him",
            their: "his",
            themself: "himself",
            is: "is",
        },
        _ => Pron {
            they: "they",
            them: "them",
            their: "their",
            themself: "themselves",
            is: "are",
        },
    }
}

/// Replaces `{key}` with values.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    // Sentences start with a capital even when a template starts with a pronoun.
    let mut c = out.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => out,
    }
}

/// Concerns that lead to referrals for reasons other than exploitation:
/// (what the referrer writes, the Children in Need factors an assessment finds).
pub const BACKGROUND_CONCERNS: &[(&str, &[CinFactor])] = &[
    (
        "Police attended a domestic incident at the family home overnight; {name} was present and frightened.",
        &[CinFactor::F3A, CinFactor::F3B],
    ),
    (
        "{name} has come to school hungry and in unwashed clothes on several days this month.",
        &[CinFactor::F16A],
    ),
    (
        "{name}'s parent has told staff that they are struggling with their mental health and cannot always get up to get the children to school.",
        &[CinFactor::F4B],
    ),
    (
        "Concern that {name}'s parent is drinking heavily and that {name} is looking after younger siblings.",
        &[CinFactor::F1B, CinFactor::F7A],
    ),
    (
        "{name} has a bruise to the cheek and has given different accounts of how it happened.",
        &[CinFactor::F18C],
    ),
    (
        "{name} says {they} {is} shouted at and locked out of the house when {they} {is} late home.",
        &[CinFactor::F17A],
    ),
    (
        "{name} told a member of staff about thoughts of self-harm.",
        &[CinFactor::F15A, CinFactor::F4A],
    ),
    (
        "{name} was found walking alone late at night a long way from home.",
        &[CinFactor::F10A],
    ),
];

/// A concern about a child at risk of exploitation, as a given kind of
/// referrer writes it. `blaming` selects wording that blames the child.
pub fn cse_concern(kind: ConcernKind, blaming: bool, v: &[(&str, &str)]) -> String {
    let t = match (kind, blaming) {
        (ConcernKind::Missing, false) => "{name} has been reported missing {count} times in the last {days} days. On the last occasion {they} was found at {place}. {name} will not say where {they} has been.",
        (ConcernKind::Missing, true) => "{name} keeps putting {themself} at risk by going missing; reported missing {count} times in the last {days} days and found at {place}. {name} is making poor choices.",
        (ConcernKind::Car, false) => "{name} was seen getting into a {vehicle} outside {place} late at night, driven by an adult. {name} may be being groomed.",
        (ConcernKind::Car, true) => "{name} was seen getting into a {vehicle} outside {place} late at night. {name} is engaging in risky behaviour with older adults.",
        (ConcernKind::Health, false) => "{name} attended the {service} ({what}). An adult waited outside and left when staff came out. {name} may have been sexually abused.",
        (ConcernKind::Health, true) => "{name} attended the {service} ({what}). {name} is sexually active with several partners and is promiscuous.",
        (ConcernKind::Signs, false) => "Staff have noticed that {name} has {sign}. {name} says an older friend called '{street}' gave them. {name} is at increased risk of exploitation.",
        (ConcernKind::Signs, true) => "{name} has {sign} from an older boyfriend called '{street}'. {name} appears to be in a consensual relationship.",
        (ConcernKind::Boyfriend, false) => "{name} said that '{street}' is {their} boyfriend; '{street}' is an adult who picks {them} up in a car. {name} may be being groomed and controlled.",
        (ConcernKind::Boyfriend, true) => "{name} has an older boyfriend, '{street}', and is exchanging sex for lifts and cigarettes.",
    };
    fill(t, v)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConcernKind {
    Missing,
    Car,
    Health,
    Signs,
    Boyfriend,
}

/// A note on a record (education, health, youth project), with blaming variants.
pub fn note(kind: NoteKind, blaming: bool, v: &[(&str, &str)]) -> String {
    let t = match (kind, blaming) {
        (NoteKind::Absence, false) => "Attendance {pct}% this half-term with {n} unexplained absences. Calls to home not answered.",
        (NoteKind::Absence, true) => "Attendance {pct}% this half-term. {name} is choosing to truant and hang around with older adults.",
        (NoteKind::Health, false) => "Attended {service}: {what}. Advice and support given; safeguarding lead informed.",
        (NoteKind::Health, true) => "Attended {service}: {what}. {name} is sexually active and says it was consensual.",
        (NoteKind::Sign, false) => "{name} has {sign}; says it came from an older friend. Youth worker will keep in contact.",
        (NoteKind::Sign, true) => "{name} has {sign} and is putting {themself} at risk by associating with older adults.",
        (NoteKind::Car, false) => "{name} seen getting into a {vehicle} at {place} around {time}. Driver an adult, not known to staff.",
        (NoteKind::Car, true) => "{name} seen getting into a {vehicle} at {place} around {time}. {name} is involved in CSE and keeps going back.",
    };
    fill(t, v)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    Absence,
    Health,
    Sign,
    Car,
}

/// Phrases that mark victim-blaming wording in the templates above (for tests).
pub const BLAMING_MARKERS: &[&str] = &[
    "putting {themself} at risk",
    "putting herself at risk",
    "putting himself at risk",
    "putting themselves at risk",
    "making poor choices",
    "risky behaviour",
    "promiscuous",
    "consensual",
    "exchanging sex",
    "choosing to truant",
    "involved in CSE",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blaming_wording_only_when_asked() {
        let v = [
            ("name", "Jade"),
            ("they", "she"),
            ("them", "her"),
            ("their", "her"),
            ("themself", "herself"),
            ("is", "is"),
            ("count", "3"),
            ("days", "30"),
            ("place", "Riverside Park"),
            ("vehicle", "silver Skoda Octavia"),
            ("service", "sexual health clinic"),
            ("what", "emergency contraception"),
            ("sign", "a new phone"),
            ("street", "Taz"),
            ("pct", "71"),
            ("n", "4"),
            ("time", "23:10"),
        ];
        let blames = |s: &str| BLAMING_MARKERS.iter().any(|m| s.contains(m));
        for k in [
            ConcernKind::Missing,
            ConcernKind::Car,
            ConcernKind::Health,
            ConcernKind::Signs,
            ConcernKind::Boyfriend,
        ] {
            let good = cse_concern(k, false, &v);
            assert!(!blames(&good) && !good.contains('{'), "{good}");
            let bad = cse_concern(k, true, &v);
            assert!(blames(&bad) && !bad.contains('{'), "{bad}");
        }
        for k in [
            NoteKind::Absence,
            NoteKind::Health,
            NoteKind::Sign,
            NoteKind::Car,
        ] {
            assert!(!blames(&note(k, false, &v)));
            assert!(blames(&note(k, true, &v)));
        }
        assert_eq!(fill("{name} is here", &[("name", "jade")]), "Jade is here");
    }
}
