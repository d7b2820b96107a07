//! `vigil bench alerts`: days to alert on a synthetic borough.
//!
//! The generator's truth says which children are being exploited and when
//! it began. The borough's events are fed, in the order they were recorded,
//! through the same fact extraction and rules the alert runner uses
//! (`vigil_rules::alerts`), and for each victim this reports the days from
//! the first recorded event about them (any of their records) to the first
//! alert on any of their records; the median over victims; the share never
//! alerted; and, beside it, the alerts per practitioner per week over the
//! whole borough, so that alerting on everything cannot pass for speed.
//! Runs in memory: no data directory.

use anyhow::{anyhow, Result};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;
use vigil_model::codes::Role;
use vigil_model::EventPayload;
use vigil_rules::alerts::{facts_of_event, Evaluator, RuleFile, Trigger};

/// What the run measured.
pub struct DaysToAlert {
    pub victims: usize,
    pub alerted: usize,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
    pub median_days_from_exploitation_began: Option<i64>,
    pub alerts: usize,
    pub alerts_on_victims: usize,
    pub practitioners: usize,
    pub weeks: f64,
    pub by_rule: BTreeMap<String, usize>,
    /// Days to the first alert for each victim recorded (None: never
    /// alerted on), fewest first.
    pub per_victim: Vec<Option<i64>>,
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    Some(sorted[i])
}

/// The day an event became known to the system: the source system's
/// recorded time for imported history, else when it says it happened.
fn known_on(e: &vigil_model::EventInput) -> Option<NaiveDate> {
    e.source
        .as_ref()
        .map(|s| s.recorded_at.as_str())
        .unwrap_or(e.occurred_at.value.as_str())
        .get(..10)
        .and_then(|d| d.parse().ok())
}

pub fn measure(cfg: &vigil_synth::SynthConfig, rules: &RuleFile) -> Result<DaysToAlert> {
    let borough = vigil_synth::generate(cfg).map_err(|e| anyhow!("{e}"))?;
    let truth = &borough.truth;
    // Victims and their records.
    let mut victim_of: HashMap<Uuid, &str> = HashMap::new();
    let mut began: HashMap<&str, NaiveDate> = HashMap::new();
    let victims: HashSet<&str> = truth
        .networks
        .iter()
        .flat_map(|n| n.victims.iter())
        .map(|v| {
            began
                .entry(v.person.as_str())
                .and_modify(|d| *d = (*d).min(v.exploitation_began))
                .or_insert(v.exploitation_began);
            v.person.as_str()
        })
        .collect();
    for (record, person) in &truth.person_records {
        if victims.contains(person.as_str()) {
            victim_of.insert(*record, person.as_str());
        }
    }
    let mut first_event: HashMap<&str, NaiveDate> = HashMap::new();
    let mut first_alert: HashMap<&str, NaiveDate> = HashMap::new();
    let mut practitioners: HashSet<&str> = HashSet::new();
    let (mut alerts, mut on_victims) = (0usize, 0usize);
    let mut by_rule: BTreeMap<String, usize> = BTreeMap::new();
    replay(&borough.events, rules, &mut |e, day, t| {
        if matches!(e.actor.role, Role::Practitioner | Role::Triage) {
            practitioners.insert(e.actor.user.as_str());
        }
        let Some(t) = t else {
            for s in e.body.subjects() {
                if let Some(v) = victim_of.get(&s.id) {
                    first_event.entry(v).or_insert(day);
                }
            }
            return;
        };
        alerts += 1;
        *by_rule.entry(t.rule.clone()).or_default() += 1;
        if let Some(v) = victim_of.get(&t.child) {
            on_victims += 1;
            first_alert.entry(v).or_insert(day);
        }
    });
    let mut days: Vec<i64> = Vec::new();
    let mut from_began: Vec<i64> = Vec::new();
    let mut per_victim: Vec<Option<i64>> = Vec::new();
    for v in &victims {
        if let Some(f) = first_event.get(v) {
            per_victim.push(first_alert.get(v).map(|a| (*a - *f).num_days().max(0)));
        }
        if let (Some(a), Some(f)) = (first_alert.get(v), first_event.get(v)) {
            days.push((*a - *f).num_days().max(0));
            if let Some(b) = began.get(v) {
                from_began.push((*a - *b).num_days());
            }
        }
    }
    days.sort_unstable();
    from_began.sort_unstable();
    per_victim.sort_unstable_by_key(|d| d.unwrap_or(i64::MAX));
    let weeks = (truth.end_date - truth.start_date).num_days() as f64 / 7.0;
    Ok(DaysToAlert {
        victims: victims
            .iter()
            .filter(|v| first_event.contains_key(*v))
            .count(),
        alerted: days.len(),
        median_days: percentile(&days, 0.5),
        p90_days: percentile(&days, 0.9),
        median_days_from_exploitation_began: percentile(&from_began, 0.5),
        alerts,
        alerts_on_victims: on_victims,
        practitioners: practitioners.len(),
        weeks,
        by_rule,
        per_victim,
    })
}

/// Feeds `events`, in order, through the rules: `seen(event, day, None)`
/// for every event with a day, then `seen(event, day, Some(trigger))` for
/// each alert it raises. The rules see ages worked out here from the
/// dates of birth recorded, never a person's record.
pub fn replay<'a>(
    events: &'a [vigil_model::EventInput],
    rules: &RuleFile,
    seen: &mut dyn FnMut(&'a vigil_model::EventInput, NaiveDate, Option<Trigger>),
) {
    let mut born: HashMap<Uuid, NaiveDate> = HashMap::new();
    let mut postcodes: HashMap<Uuid, String> = HashMap::new();
    for e in events {
        match &e.body {
            EventPayload::PersonRecorded(p) => {
                if let Some(d) = p.date_of_birth.as_ref().and_then(|d| d.earliest_day().ok()) {
                    born.insert(p.person_id, d);
                }
            }
            EventPayload::LocationRecorded(l) => {
                if let Some(pc) = &l.details.postcode {
                    postcodes.insert(l.location_id, pc.clone());
                }
            }
            _ => {}
        }
    }
    let age_of = |person: Uuid, day: NaiveDate| born.get(&person).and_then(|b| day.years_since(*b));
    let place_of = |place: Uuid| postcodes.get(&place).cloned();
    let mut ev = Evaluator::new(rules);
    // The clock, as the runner's: deadlines (return interviews, actions,
    // referral decisions) are checked as each new day's records arrive.
    let mut today: Option<NaiveDate> = None;
    for (i, e) in events.iter().enumerate() {
        let Some(day) = known_on(e) else { continue };
        if today.is_some_and(|t| day > t) {
            let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            for t in ev.tick(midnight) {
                seen(e, day, Some(t));
            }
        }
        today = Some(today.map_or(day, |t| t.max(day)));
        seen(e, day, None);
        let id = e.id.unwrap_or_else(|| Uuid::from_u128(i as u128));
        let occurred = e
            .occurred_at
            .value
            .get(..10)
            .and_then(|d| d.parse().ok())
            .unwrap_or(day);
        let at = e
            .source
            .as_ref()
            .map(|s| s.recorded_at.as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|| day.and_hms_opt(12, 0, 0).expect("noon").and_utc());
        for fact in facts_of_event(id, occurred, at, &e.body, &age_of, &place_of) {
            for t in ev.observe(&fact) {
                seen(e, day, Some(t));
            }
        }
    }
}

pub fn run(children: u32, years: u32, seed: u64) -> Result<()> {
    let cfg = vigil_synth::SynthConfig {
        children,
        years,
        seed,
        ..vigil_synth::SynthConfig::default()
    };
    let rules = RuleFile::defaults();
    let t = std::time::Instant::now();
    let m = measure(&cfg, &rules)?;
    let per = |n: usize| {
        if m.practitioners == 0 || m.weeks <= 0.0 {
            0.0
        } else {
            n as f64 / m.practitioners as f64 / m.weeks
        }
    };
    let show = |d: Option<i64>| d.map_or("-".to_owned(), |d| d.to_string());
    println!(
        "alerts: synthetic borough of {children} children over {years} years (seed {seed}), default rules, {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "  victims recorded: {}; alerted: {} ({:.1}%); never alerted: {:.1}%",
        m.victims,
        m.alerted,
        100.0 * m.alerted as f64 / m.victims.max(1) as f64,
        100.0 * (m.victims - m.alerted) as f64 / m.victims.max(1) as f64
    );
    println!(
        "  days from the first recorded event about a victim to the first alert: median {}, p90 {}",
        show(m.median_days),
        show(m.p90_days)
    );
    println!(
        "  days from when the exploitation began to the first alert: median {}",
        show(m.median_days_from_exploitation_began)
    );
    println!(
        "  alerts: {} ({} on victims' records); practitioners {}; {:.1} weeks; {:.2} alerts per practitioner per week",
        m.alerts,
        m.alerts_on_victims,
        m.practitioners,
        m.weeks,
        per(m.alerts)
    );
    for (rule, n) in &m.by_rule {
        println!("    {rule}: {n}");
    }
    let list: Vec<String> = m.per_victim.iter().map(|d| show(*d)).collect();
    println!(
        "  per victim, days to the first alert (- never): {}",
        list.join(" ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::codes::{Nationality, Sex};

    /// The alerts of a borough, as (rule, child, events).
    fn alerts(events: &[vigil_model::EventInput]) -> Vec<(String, Uuid, Vec<Uuid>)> {
        let mut out = Vec::new();
        replay(events, &RuleFile::defaults(), &mut |_, _, t| {
            if let Some(t) = t {
                out.push((t.rule, t.child, t.events));
            }
        });
        out
    }

    /// Statistically, beside the structural test in vigil-rules: on a
    /// synthetic borough, recording every person's sex, ethnicity (all
    /// three schemes) and nationality differently, or not at all, changes
    /// no alert: not one rule, child or triggering event.
    #[test]
    fn protected_characteristics_change_no_alert_on_a_synthetic_borough() {
        let cfg = vigil_synth::SynthConfig {
            children: 600,
            years: 2,
            seed: 11,
            ..vigil_synth::SynthConfig::default()
        };
        let borough = vigil_synth::generate(&cfg).unwrap();
        let before = alerts(&borough.events);
        assert!(
            before.len() > 20,
            "the borough raises alerts ({})",
            before.len()
        );
        let mut recorded = 0;
        for variant in 0..3 {
            let mut events = borough.events.clone();
            for (i, e) in events.iter_mut().enumerate() {
                if let EventPayload::PersonRecorded(p) = &mut e.body {
                    recorded += usize::from(p.sex.is_some() || p.ethnicity_self_defined.is_some());
                    match variant {
                        // Nothing recorded.
                        0 => {
                            p.sex = None;
                            p.ethnicity_self_defined = None;
                            p.ethnicity_officer_observed = None;
                            p.ethnicity_dfe = None;
                            p.nationalities.clear();
                        }
                        // Everyone the same, and another nationality.
                        1 => {
                            p.sex = Some(Sex::ALL[0]);
                            p.ethnicity_self_defined = None;
                            p.ethnicity_dfe = None;
                            p.nationalities =
                                vec![Nationality::all()[i % Nationality::all().len()]];
                        }
                        // Another sex for each, by position.
                        _ => {
                            p.sex = Some(Sex::ALL[i % Sex::ALL.len()]);
                        }
                    }
                }
            }
            assert_eq!(alerts(&events), before, "variant {variant}");
        }
        assert!(
            recorded > 0,
            "the borough records protected characteristics"
        );
    }
}
