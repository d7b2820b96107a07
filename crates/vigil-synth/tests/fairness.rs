//! Victimisation and offending are never derived from a demographic.
//!
//! Two checks: a structural one (the module that decides who is exploited
//! and who offends never names sex, ethnicity, nationality or disability),
//! and a statistical one (with the population's make-up changed, victims and
//! network members change with it, matching the population's shares).

use std::collections::BTreeMap;
use vigil_model::codes::{Nationality, OnsEthnicity, Sex};
use vigil_synth::{generate, PersonKind, Share, SynthConfig};

/// The selection code, as compiled.
const SELECT_RS: &str = include_str!("../src/select.rs");

#[test]
fn selection_code_never_names_a_demographic() {
    let code: String = SELECT_RS
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    for word in [
        "sex",
        "ethnic",
        "nationality",
        "disab",
        "demograph",
        "heritage",
        "tradition",
        "truperson",
        "trueperson",
        "people",
    ] {
        assert!(!code.contains(word), "select.rs mentions '{word}'");
    }
    // What selection is given about a child: a date of birth and a school.
    let candidate = SELECT_RS
        .split("pub struct Candidate {")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect("select.rs defines Candidate");
    let fields: Vec<&str> = candidate
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("pub "))
        .collect();
    assert_eq!(fields, ["pub dob: NaiveDate,", "pub school: usize,"]);
}

fn shares<T: Ord + Copy>(items: impl Iterator<Item = T>) -> BTreeMap<T, f64> {
    let mut counts: BTreeMap<T, f64> = BTreeMap::new();
    let mut n = 0.0;
    for i in items {
        *counts.entry(i).or_default() += 1.0;
        n += 1.0;
    }
    counts.values_mut().for_each(|c| *c /= n);
    counts
}

fn check_follows_population(ethnic_a: f64, female: f64, gb: f64) {
    let mut cfg = SynthConfig::new(40_000, 4, 3);
    cfg.victimisation_rate = 0.1;
    cfg.networks.per_10k_children = 40.0;
    cfg.demographics.ethnicity = vec![
        Share {
            code: OnsEthnicity::WhiteBritish,
            share: ethnic_a,
        },
        Share {
            code: OnsEthnicity::AsianPakistani,
            share: 1.0 - ethnic_a,
        },
    ];
    cfg.demographics.sex = vec![
        Share {
            code: Sex::Female,
            share: female,
        },
        Share {
            code: Sex::Male,
            share: 1.0 - female,
        },
    ];
    cfg.demographics.nationality = vec![
        Share {
            code: Nationality::GB,
            share: gb,
        },
        Share {
            code: Nationality::parse("RO").unwrap(),
            share: 1.0 - gb,
        },
    ];
    let b = generate(&cfg).unwrap();
    let t = &b.truth;
    let victims: Vec<_> = t
        .networks
        .iter()
        .flat_map(|n| {
            n.victims
                .iter()
                .map(|v| &t.people[v.person[1..].parse::<usize>().unwrap() - 1])
        })
        .collect();
    let members: Vec<_> = t
        .people
        .iter()
        .filter(|p| p.kind == PersonKind::NetworkMember)
        .collect();
    assert!(victims.len() > 3_000, "{} victims", victims.len());
    assert!(members.len() > 500, "{} members", members.len());
    // Victims are single children: their shares match the configured
    // population within a few standard errors (about 0.8 points here).
    let ve = shares(victims.iter().map(|p| p.ethnicity));
    let vs = shares(victims.iter().map(|p| p.sex));
    let vn = shares(victims.iter().map(|p| p.nationality));
    let close = |got: f64, want: f64, tol: f64, what: &str| {
        assert!(
            (got - want).abs() <= tol,
            "{what}: {got:.3} against the population's {want:.3}"
        );
    };
    close(
        ve[&OnsEthnicity::WhiteBritish],
        ethnic_a,
        0.035,
        "victims' ethnicity",
    );
    close(vs[&Sex::Female], female, 0.035, "victims' sex");
    close(vn[&Nationality::GB], gb, 0.035, "victims' nationality");
    // Members come in families of up to three who share a heritage, so
    // their shares vary more; the tolerance allows for that.
    let me = shares(members.iter().map(|p| p.ethnicity));
    let ms = shares(members.iter().map(|p| p.sex));
    close(
        me.get(&OnsEthnicity::WhiteBritish).copied().unwrap_or(0.0),
        ethnic_a,
        0.08,
        "members' ethnicity",
    );
    close(
        ms.get(&Sex::Female).copied().unwrap_or(0.0),
        female,
        0.06,
        "members' sex",
    );
}

#[test]
fn victims_and_offenders_follow_the_population_whatever_it_is() {
    check_follows_population(0.8, 0.5, 0.9);
    check_follows_population(0.2, 0.3, 0.4);
}
