//! Who offends and who is exploited: decided here, and only here, without
//! any protected characteristic.
//!
//! The functions of this module are given a [`Candidate`] for each child,
//! which holds a date of birth (children are exploited at an age) and a
//! school (victims are drawn in through friends), and nothing else. The
//! shape of each network (how many adults, how many of them family, how
//! many drive taxis) is decided before any of its adults exist. So the
//! distributions of sex, ethnicity and nationality among victims and
//! suspects are those of the population they are drawn from, and a test
//! (`tests/fairness.rs`) checks that this file never names a demographic.

use crate::config::NetworkConfig;
use crate::random::Rng;
use chrono::{Datelike, Duration, Months, NaiveDate};

/// What selection may know about a child.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    pub dob: NaiveDate,
    pub school: usize,
}

/// The kinds of business a network uses as a base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusinessKind {
    Takeaway,
    CarWash,
    TaxiFirm,
}

/// A network decided before any of its adults exist.
#[derive(Clone, Debug)]
pub struct NetworkShape {
    pub adults: u32,
    /// The first `relatives` adults are one family (brothers, cousins).
    pub relatives: u32,
    /// How many of the adults drive licensed taxis.
    pub taxi_drivers: u32,
    pub businesses: Vec<BusinessKind>,
    pub formed: NaiveDate,
    pub ends: NaiveDate,
    pub victims: u32,
}

/// One child drawn into a network.
#[derive(Clone, Debug)]
pub struct Victimisation {
    pub child: usize,
    pub began: NaiveDate,
    /// When the exploitation stopped (may be after the simulated years).
    pub ended: NaiveDate,
    /// The victim through whom this child was drawn in, if any.
    pub through: Option<usize>,
}

/// Plans `count` networks sharing `victims` victims between them.
pub fn plan_networks(
    rng: &mut Rng,
    cfg: &NetworkConfig,
    count: u32,
    victims: u32,
    start: NaiveDate,
    end: NaiveDate,
) -> Vec<NetworkShape> {
    let latest_formed = (end - Duration::days(120)).max(start);
    let span = (latest_formed - start).num_days();
    let mut shapes: Vec<NetworkShape> = (0..count)
        .map(|_| {
            let adults = rng.int(i64::from(cfg.min_adults), i64::from(cfg.max_adults)) as u32;
            let relatives = (rng.int(1, 3) as u32).min(adults);
            let taxi_drivers = (rng.int(0, 2) as u32).min(adults);
            let mut businesses = vec![if rng.chance(0.6) {
                BusinessKind::Takeaway
            } else {
                BusinessKind::CarWash
            }];
            if taxi_drivers > 0 {
                businesses.push(BusinessKind::TaxiFirm);
            }
            let formed = start + Duration::days(rng.int(0, span));
            let months = rng.int(
                i64::from(cfg.min_active_months),
                i64::from(cfg.max_active_months),
            ) as u32;
            let ends = formed
                .checked_add_months(Months::new(months))
                .unwrap_or(formed);
            NetworkShape {
                adults,
                relatives,
                taxi_drivers,
                businesses,
                formed,
                ends,
                victims: 1,
            }
        })
        .collect();
    if shapes.is_empty() {
        return shapes;
    }
    // Every network has at least one victim; the rest go to networks in
    // proportion to their size, with some networks busier than others.
    let weights: Vec<f64> = shapes
        .iter()
        .map(|s| f64::from(s.adults) * (0.5 + rng.unit()))
        .collect();
    for _ in count..victims {
        let i = rng.weighted(&weights);
        shapes[i].victims += 1;
    }
    shapes
}

fn age_on(dob: NaiveDate, on: NaiveDate) -> i32 {
    vigil_model::time::age_on(dob, on)
}

fn eligible(c: &Candidate, on: NaiveDate) -> bool {
    (11..=16).contains(&age_on(c.dob, on))
}

/// The 18th birthday (the day exploitation of a child ends at the latest).
pub fn eighteenth(dob: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(dob.year() + 18, dob.month(), dob.day())
        .or_else(|| NaiveDate::from_ymd_opt(dob.year() + 18, 3, 1))
        .unwrap_or(dob)
}

/// Draws the victims of one network. `taken` marks children already drawn
/// into a network (a child is exploited by one network here); `by_school`
/// lists the children of each school. Victims are found over the
/// network's life up to 90 days before the end of the simulated years,
/// each after the first through a friend already exploited (same school,
/// about the same age) with probability `recruit_through_peers`.
pub fn choose_victims(
    rng: &mut Rng,
    cfg: &NetworkConfig,
    shape: &NetworkShape,
    candidates: &[Candidate],
    by_school: &[Vec<usize>],
    taken: &mut [bool],
    window_end: NaiveDate,
) -> Vec<Victimisation> {
    let last = shape.ends.min(window_end - Duration::days(90));
    if last < shape.formed || candidates.is_empty() {
        return Vec::new();
    }
    let span = (last - shape.formed).num_days();
    let mut times: Vec<NaiveDate> = (0..shape.victims)
        .map(|_| shape.formed + Duration::days(rng.int(0, span)))
        .collect();
    times.sort();
    let mut out: Vec<Victimisation> = Vec::new();
    for on in times {
        let mut chosen = None;
        if !out.is_empty() && rng.chance(cfg.recruit_through_peers) {
            let friend = out[rng.index(out.len())].child;
            let school = &by_school[candidates[friend].school];
            for _ in 0..60 {
                let c = school[rng.index(school.len())];
                let close_in_age = (candidates[c].dob - candidates[friend].dob)
                    .num_days()
                    .abs()
                    <= 400;
                if !taken[c] && close_in_age && eligible(&candidates[c], on) {
                    chosen = Some((c, Some(friend)));
                    break;
                }
            }
        }
        if chosen.is_none() {
            for _ in 0..400 {
                let c = rng.index(candidates.len());
                if !taken[c] && eligible(&candidates[c], on) {
                    chosen = Some((c, None));
                    break;
                }
            }
        }
        let Some((child, through)) = chosen else {
            continue;
        };
        taken[child] = true;
        let months = rng.int(6, 36) as u32;
        let ended = on
            .checked_add_months(Months::new(months))
            .unwrap_or(on)
            .min(eighteenth(candidates[child].dob))
            .min(shape.ends + Duration::days(30))
            .max(on + Duration::days(30));
        out.push(Victimisation {
            child,
            began: on,
            ended,
            through,
        });
    }
    out
}
