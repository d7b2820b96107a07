//! Every knob of the generator, with its default, in one place.
//!
//! [`SynthConfig`] is the whole of what the generator reads: nothing comes
//! from the clock, the environment or a file. docs/synth.md mirrors this
//! page as a table; when a knob is added here it is added there too.
//!
//! The config serialises to JSON (`vigil synth --config FILE` reads the same
//! shape; any field left out keeps its default), and the truth file repeats
//! the config it was made with so a result can always be reproduced.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use vigil_model::codes::{Nationality, OnsEthnicity, Sex};

/// One entry of a distribution: a code and its share (shares need not add
/// up to 1; they are normalised).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share<T> {
    pub code: T,
    pub share: f64,
}

fn share<T>(code: T, share: f64) -> Share<T> {
    Share { code, share }
}

/// Everything the generator can be told. Defaults: [`SynthConfig::default`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    /// Children in the borough's population (every one is of school age at
    /// some point in the simulated years). Default 2,000. Only children who
    /// come to an agency's attention get records, as in life.
    pub children: u32,
    /// Years simulated, ending on `end_date`. Default 3; 1 to 50.
    pub years: u32,
    /// Seed of the random generator: the same seed and config give the same
    /// records and a byte-identical truth file. Default 1.
    pub seed: u64,
    /// Last day simulated. Fixed (default 2025-12-31) so that generation
    /// never reads the clock; it must not be in the future when the records
    /// are imported, because Vigil refuses events that have not happened yet.
    pub end_date: NaiveDate,
    /// Who lives in the borough: sex, ethnicity, nationality, disability.
    pub demographics: Demographics,
    /// How many secondary schools (each is its own agency). Default: none
    /// given, one per 1,000 children (at least 1, at most 40).
    pub schools: Option<u32>,
    /// Exploitation networks: how many, how big, how long.
    pub networks: NetworkConfig,
    /// Share of the children drawn into exploitation by a network over the
    /// simulated years. Default 0.02 (the Jay report's 1,400 children in 16
    /// years in a borough of about 55,000 children is 2.5%). At most 0.5.
    /// Who becomes a victim is drawn without looking at any demographic.
    pub victimisation_rate: f64,
    /// How often things happen to children that agencies may see.
    pub rates: Rates,
    /// How likely each agency is to see and record what happens.
    pub observation: Observation,
    /// Recording errors, so that linking records is a real problem.
    pub noise: Noise,
    /// The failures the inquiries found, at these rates.
    pub failures: Failures,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            children: 2_000,
            years: 3,
            seed: 1,
            end_date: NaiveDate::from_ymd_opt(2025, 12, 31).expect("a valid date"),
            demographics: Demographics::default(),
            schools: None,
            networks: NetworkConfig::default(),
            victimisation_rate: 0.02,
            rates: Rates::default(),
            observation: Observation::default(),
            noise: Noise::default(),
            failures: Failures::default(),
        }
    }
}

/// The population's make-up. The same distributions are used for every
/// person the generator makes: children, parents, victims, suspects and
/// bystanders alike. Nothing about being a victim or an offender is ever
/// drawn from these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Demographics {
    /// Sex of each person. Default: male 0.51, female 0.49 (Census 2021,
    /// England and Wales, all ages).
    pub sex: Vec<Share<Sex>>,
    /// True ethnic group of each household, in the ONS 2021 classification
    /// (each agency then records it in its own scheme, sometimes not at
    /// all). Default: Census 2021, England and Wales, all usual residents
    /// (ONS, "Ethnic group, England and Wales: Census 2021", 29 November 2022).
    pub ethnicity: Vec<Share<OnsEthnicity>>,
    /// Nationality of each household. Default: about 90% British, the rest
    /// the most common other nationalities in the UK *(check)*: approximate
    /// shares from ONS "Population of the UK by country of birth and
    /// nationality" (year ending June 2021), rounded.
    pub nationality: Vec<Share<Nationality>>,
    /// Share of people with a disability. Default 0.08 *(check)*: DfE
    /// figures put children with an education, health and care plan or SEN
    /// support at about 17%, disability in the Equality Act sense lower.
    pub disability_rate: f64,
}

fn nat(code: &str) -> Nationality {
    Nationality::parse(code).expect("a nationality code in the built-in table")
}

impl Default for Demographics {
    fn default() -> Self {
        use OnsEthnicity::*;
        Demographics {
            sex: vec![share(Sex::Male, 0.51), share(Sex::Female, 0.49)],
            ethnicity: vec![
                share(WhiteBritish, 74.4),
                share(WhiteIrish, 0.9),
                share(WhiteGypsyIrishTraveller, 0.1),
                share(WhiteRoma, 0.2),
                share(WhiteOther, 6.2),
                share(MixedWhiteBlackCaribbean, 0.9),
                share(MixedWhiteBlackAfrican, 0.4),
                share(MixedWhiteAsian, 0.8),
                share(MixedOther, 0.8),
                share(AsianIndian, 3.1),
                share(AsianPakistani, 2.7),
                share(AsianBangladeshi, 1.1),
                share(AsianChinese, 0.7),
                share(AsianOther, 1.6),
                share(BlackAfrican, 2.5),
                share(BlackCaribbean, 1.0),
                share(BlackOther, 0.5),
                share(OtherArab, 0.6),
                share(OtherAny, 1.6),
            ],
            nationality: vec![
                share(Nationality::GB, 90.5),
                share(nat("PL"), 1.1),
                share(nat("RO"), 0.8),
                share(nat("IN"), 0.6),
                share(nat("IE"), 0.5),
                share(nat("IT"), 0.5),
                share(nat("PT"), 0.4),
                share(nat("PK"), 0.3),
                share(nat("LT"), 0.3),
                share(nat("ES"), 0.3),
                share(nat("BG"), 0.2),
                share(nat("NG"), 0.2),
                share(nat("FR"), 0.2),
                share(nat("DE"), 0.2),
                share(nat("CN"), 0.2),
                share(nat("AF"), 0.1),
                share(nat("SO"), 0.1),
                share(nat("ER"), 0.1),
                share(nat("IQ"), 0.1),
                share(nat("BD"), 0.1),
            ],
            disability_rate: 0.08,
        }
    }
}

/// Exploitation networks: groups of two or more adults linked through
/// family, shared addresses, employers, vehicles and phones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Networks per 10,000 children. Default 8 (so 2 for the demo's 2,000
    /// children). At least one network is made whenever there are victims.
    pub per_10k_children: f64,
    /// Fewest adults in a network. Default 3; at least 2 (group-based CSE
    /// is two or more perpetrators).
    pub min_adults: u32,
    /// Most adults in a network. Default 10; at most 60.
    pub max_adults: u32,
    /// Shortest time a network is active, in months. Default 12.
    pub min_active_months: u32,
    /// Longest time a network is active, in months. Default 60.
    pub max_active_months: u32,
    /// Chance that each victim after the first is drawn in through one
    /// already exploited (a friend at the same school, about the same age)
    /// rather than found some other way. Default 0.6.
    pub recruit_through_peers: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            per_10k_children: 8.0,
            min_adults: 3,
            max_adults: 10,
            min_active_months: 12,
            max_active_months: 60,
            recruit_through_peers: 0.6,
        }
    }
}

/// How often things happen. Rates "per week" apply to a victim while they
/// are being exploited; rates "per child-year" to every child of school age.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rates {
    /// Missing episodes per week while exploited. Default 0.5 (episodes
    /// come in bursts: sometimes several a week).
    pub victim_missing_per_week: f64,
    /// School absences worth a note per week while exploited. Default 0.4.
    pub victim_absence_per_week: f64,
    /// Times seen getting into a car at night near a hotspot, per week. Default 0.3.
    pub victim_car_per_week: f64,
    /// Sexual-health, A&E or substance-related health attendances per week. Default 0.1.
    pub victim_health_per_week: f64,
    /// Signs such as new phones, gifts, money or an older "boyfriend" noticed, per week. Default 0.15.
    pub victim_signs_per_week: f64,
    /// Chance that a victim discloses abuse so that police record an offence. Default 0.3.
    pub victim_disclosure: f64,
    /// Referrals to children's social care for reasons other than
    /// exploitation (neglect, domestic abuse, ...), per child-year. Default
    /// 0.05 (England: about 650,000 referrals a year for 12 million children).
    pub referrals_per_child_year: f64,
    /// Share of children who go missing now and then for reasons other than
    /// exploitation. Default 0.02.
    pub background_missing_children: f64,
    /// Missing episodes per year for those children. Default 3.
    pub background_missing_per_year: f64,
    /// Share of children with persistent absence unrelated to exploitation. Default 0.04.
    pub background_absent_children: f64,
    /// Share of children who come into care during the simulated years. Default 0.01.
    pub looked_after_children: f64,
    /// Licensed taxi drivers per 1,000 children who are not in any network. Default 5.
    pub taxi_drivers_per_1000_children: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            victim_missing_per_week: 0.5,
            victim_absence_per_week: 0.4,
            victim_car_per_week: 0.3,
            victim_health_per_week: 0.1,
            victim_signs_per_week: 0.15,
            victim_disclosure: 0.3,
            referrals_per_child_year: 0.05,
            background_missing_children: 0.02,
            background_missing_per_year: 3.0,
            background_absent_children: 0.04,
            looked_after_children: 0.01,
            taxi_drivers_per_1000_children: 5.0,
        }
    }
}

/// Chance that an agency sees and records what happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Observation {
    /// A missing episode is reported to the police. Default 0.85.
    pub police_missing_report: f64,
    /// A sighting of a child getting into a car becomes a police
    /// intelligence report (graded 3x5x2). Default 0.25.
    pub police_intelligence: f64,
    /// A youth project worker sees a sighting or a sign and writes a note. Default 0.3.
    pub youth_project: f64,
    /// The school records an absence or a sign it noticed. Default 0.7.
    pub education: f64,
    /// A health attendance is recorded by the health trust. Default 0.9.
    pub health: f64,
    /// Whoever recorded a concerning observation also refers the child to
    /// children's social care. Default 0.3.
    pub referral_after_observation: f64,
    /// Children's social care holds a return home interview after a
    /// missing episode. Default 0.6 (of those, half within 72 hours).
    pub return_interview: f64,
    /// The police intelligence unit records a report on a network (its
    /// members, vehicles, businesses, places) in a given month. Default 0.5.
    pub network_intelligence_per_month: f64,
}

impl Default for Observation {
    fn default() -> Self {
        Observation {
            police_missing_report: 0.85,
            police_intelligence: 0.25,
            youth_project: 0.3,
            education: 0.7,
            health: 0.9,
            referral_after_observation: 0.3,
            return_interview: 0.6,
            network_intelligence_per_month: 0.5,
        }
    }
}

/// Recording errors. Each agency makes its own person records with its own
/// errors, so one child becomes several records that entity resolution has
/// to link. Rates are probabilities per record (or per name part where
/// said); docs/synth.md says exactly how each is measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Noise {
    /// A name part (given or family, each separately) is misspelt: a letter
    /// dropped, doubled, swapped or a vowel changed. Default 0.05.
    pub misspelling: f64,
    /// A name part that has other spellings (Mohammed/Muhammad/Mohamed,
    /// Katie/Katy, Hussain/Hussein) is written in another of them. Default 0.3.
    pub transliteration: f64,
    /// A given name that has a common short form is recorded as that
    /// (Rebecca as Becky, Mohammed as Mo). Default 0.15.
    pub nickname: f64,
    /// A date of birth whose day is 12 or less (and not equal to the month)
    /// is recorded with day and month swapped. Default 0.04.
    pub swapped_day_month: f64,
    /// A person record has no date of birth. Default 0.1.
    pub missing_dob: f64,
    /// A vehicle noted by anyone but licensing has a partial registration
    /// (`KX1? ?AB`). Default 0.4.
    pub partial_registration: f64,
    /// A home address is written differently from how it really is
    /// (abbreviations, a flat number dropped, only the first half of the
    /// postcode, a misspelt street). Default 0.25.
    pub address_variant: f64,
    /// An agency that meets a person it already has a record of makes a new
    /// record anyway. Default 0.02.
    pub same_agency_duplicate: f64,
}

impl Default for Noise {
    fn default() -> Self {
        Noise {
            misspelling: 0.05,
            transliteration: 0.3,
            nickname: 0.15,
            swapped_day_month: 0.04,
            missing_dob: 0.1,
            partial_registration: 0.4,
            address_variant: 0.25,
            same_agency_duplicate: 0.02,
        }
    }
}

/// The failures the inquiries found, so that Vigil's alerts and checks have
/// something to find.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Failures {
    /// A referral is never decided. Default 0.08.
    pub referral_unanswered: f64,
    /// A victim's open case is closed while the exploitation (and its
    /// indicators) continue. Default 0.35.
    pub case_closed_while_indicators_continue: f64,
    /// A victim is recorded as the suspect of an offence linked to their
    /// exploitation. Default 0.15.
    pub victim_recorded_as_offender: f64,
    /// A note or referral about a victim uses victim-blaming wording
    /// ("putting herself at risk", "promiscuous"). Default 0.25.
    pub victim_blaming_wording: f64,
}

impl Default for Failures {
    fn default() -> Self {
        Failures {
            referral_unanswered: 0.08,
            case_closed_while_indicators_continue: 0.35,
            victim_recorded_as_offender: 0.15,
            victim_blaming_wording: 0.25,
        }
    }
}

/// Why a config cannot be used: one sentence naming the knob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Most children one run may simulate (memory stays well under a gigabyte).
pub const MAX_CHILDREN: u32 = 2_000_000;
/// Most years one run may simulate.
pub const MAX_YEARS: u32 = 50;

fn err<T>(msg: String) -> Result<T, ConfigError> {
    Err(ConfigError(msg))
}

fn probability(name: &str, p: f64) -> Result<(), ConfigError> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        err(format!(
            "{name} must be a probability between 0 and 1; it is {p}"
        ))
    }
}

fn rate(name: &str, r: f64, max: f64) -> Result<(), ConfigError> {
    if r.is_finite() && (0.0..=max).contains(&r) {
        Ok(())
    } else {
        err(format!("{name} must be between 0 and {max}; it is {r}"))
    }
}

fn distribution<T>(name: &str, shares: &[Share<T>]) -> Result<(), ConfigError> {
    if shares.is_empty() {
        return err(format!("{name} needs at least one entry"));
    }
    if let Some(s) = shares
        .iter()
        .find(|s| !s.share.is_finite() || s.share < 0.0)
    {
        return err(format!(
            "every share in {name} must be zero or more; one is {}",
            s.share
        ));
    }
    if shares.iter().map(|s| s.share).sum::<f64>() <= 0.0 {
        return err(format!("the shares in {name} add up to nothing"));
    }
    Ok(())
}

impl SynthConfig {
    /// A config with the defaults and the three numbers the command line gives.
    pub fn new(children: u32, years: u32, seed: u64) -> SynthConfig {
        SynthConfig {
            children,
            years,
            seed,
            ..SynthConfig::default()
        }
    }

    /// The first day simulated.
    pub fn start_date(&self) -> NaiveDate {
        start_date(self.end_date, self.years)
    }

    /// Checks every knob; the error is one sentence naming the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.children == 0 || self.children > MAX_CHILDREN {
            return err(format!(
                "the number of children must be between 1 and {MAX_CHILDREN}; it is {}",
                self.children
            ));
        }
        if self.years == 0 || self.years > MAX_YEARS {
            return err(format!(
                "the number of years must be between 1 and {MAX_YEARS}; it is {}",
                self.years
            ));
        }
        if self.start_date() < NaiveDate::from_ymd_opt(1920, 1, 1).expect("a valid date") {
            return err(format!(
                "the simulated years would start on {}; Vigil accepts dates from 1900 and children born after it, so end later or simulate fewer years",
                self.start_date()
            ));
        }
        if let Some(s) = self.schools {
            if s == 0 || s > 500 {
                return err(format!(
                    "the number of schools must be between 1 and 500; it is {s}"
                ));
            }
        }
        let d = &self.demographics;
        distribution("demographics.sex", &d.sex)?;
        distribution("demographics.ethnicity", &d.ethnicity)?;
        distribution("demographics.nationality", &d.nationality)?;
        probability("demographics.disability_rate", d.disability_rate)?;
        let n = &self.networks;
        rate("networks.per_10k_children", n.per_10k_children, 1_000.0)?;
        if n.min_adults < 2 {
            return err(format!(
                "networks.min_adults must be at least 2 (a network is two or more adults); it is {}",
                n.min_adults
            ));
        }
        if n.max_adults < n.min_adults || n.max_adults > 60 {
            return err(format!(
                "networks.max_adults must be between networks.min_adults ({}) and 60; it is {}",
                n.min_adults, n.max_adults
            ));
        }
        if n.min_active_months == 0
            || n.max_active_months < n.min_active_months
            || n.max_active_months > 600
        {
            return err(format!(
                "networks.min_active_months and max_active_months must satisfy 1 <= min <= max <= 600; they are {} and {}",
                n.min_active_months, n.max_active_months
            ));
        }
        probability("networks.recruit_through_peers", n.recruit_through_peers)?;
        if !self.victimisation_rate.is_finite() || !(0.0..=0.5).contains(&self.victimisation_rate) {
            return err(format!(
                "victimisation_rate must be between 0 and 0.5 (the share of all children exploited); it is {}",
                self.victimisation_rate
            ));
        }
        let r = &self.rates;
        rate(
            "rates.victim_missing_per_week",
            r.victim_missing_per_week,
            7.0,
        )?;
        rate(
            "rates.victim_absence_per_week",
            r.victim_absence_per_week,
            5.0,
        )?;
        rate("rates.victim_car_per_week", r.victim_car_per_week, 7.0)?;
        rate(
            "rates.victim_health_per_week",
            r.victim_health_per_week,
            7.0,
        )?;
        rate("rates.victim_signs_per_week", r.victim_signs_per_week, 7.0)?;
        probability("rates.victim_disclosure", r.victim_disclosure)?;
        rate(
            "rates.referrals_per_child_year",
            r.referrals_per_child_year,
            12.0,
        )?;
        probability(
            "rates.background_missing_children",
            r.background_missing_children,
        )?;
        rate(
            "rates.background_missing_per_year",
            r.background_missing_per_year,
            100.0,
        )?;
        probability(
            "rates.background_absent_children",
            r.background_absent_children,
        )?;
        probability("rates.looked_after_children", r.looked_after_children)?;
        rate(
            "rates.taxi_drivers_per_1000_children",
            r.taxi_drivers_per_1000_children,
            1_000.0,
        )?;
        let o = &self.observation;
        for (name, p) in [
            ("observation.police_missing_report", o.police_missing_report),
            ("observation.police_intelligence", o.police_intelligence),
            ("observation.youth_project", o.youth_project),
            ("observation.education", o.education),
            ("observation.health", o.health),
            (
                "observation.referral_after_observation",
                o.referral_after_observation,
            ),
            ("observation.return_interview", o.return_interview),
            (
                "observation.network_intelligence_per_month",
                o.network_intelligence_per_month,
            ),
            ("noise.misspelling", self.noise.misspelling),
            ("noise.transliteration", self.noise.transliteration),
            ("noise.nickname", self.noise.nickname),
            ("noise.swapped_day_month", self.noise.swapped_day_month),
            ("noise.missing_dob", self.noise.missing_dob),
            (
                "noise.partial_registration",
                self.noise.partial_registration,
            ),
            ("noise.address_variant", self.noise.address_variant),
            (
                "noise.same_agency_duplicate",
                self.noise.same_agency_duplicate,
            ),
            (
                "failures.referral_unanswered",
                self.failures.referral_unanswered,
            ),
            (
                "failures.case_closed_while_indicators_continue",
                self.failures.case_closed_while_indicators_continue,
            ),
            (
                "failures.victim_recorded_as_offender",
                self.failures.victim_recorded_as_offender,
            ),
            (
                "failures.victim_blaming_wording",
                self.failures.victim_blaming_wording,
            ),
        ] {
            probability(name, p)?;
        }
        if self.noise.same_agency_duplicate > 0.5 {
            return err(format!(
                "noise.same_agency_duplicate must be at most 0.5 (above that most encounters make a new record); it is {}",
                self.noise.same_agency_duplicate
            ));
        }
        Ok(())
    }

    /// Number of schools (each its own agency).
    pub fn school_count(&self) -> u32 {
        self.schools
            .unwrap_or_else(|| self.children.div_ceil(1_000).clamp(1, 40))
    }

    /// Number of networks.
    pub fn network_count(&self) -> u32 {
        let victims = self.victim_count();
        if victims == 0 {
            return 0;
        }
        let n =
            (f64::from(self.children) * self.networks.per_10k_children / 10_000.0).round() as u32;
        n.clamp(1, victims)
    }

    /// Number of children to be exploited.
    pub fn victim_count(&self) -> u32 {
        (f64::from(self.children) * self.victimisation_rate).round() as u32
    }
}

/// `years` before `end`, the day after (so 3 years ending 2025-12-31 start on 2023-01-01).
pub fn start_date(end: NaiveDate, years: u32) -> NaiveDate {
    use chrono::Datelike;
    let y = end.year() - years as i32;
    let same_day = NaiveDate::from_ymd_opt(y, end.month(), end.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, end.month(), end.day() - 1))
        .unwrap_or(end);
    same_day.succ_opt().unwrap_or(same_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_one_sentence() {
        SynthConfig::default().validate().unwrap();
        let bad = |f: &dyn Fn(&mut SynthConfig)| {
            let mut c = SynthConfig::default();
            f(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(!e.contains('\n') && e.len() < 250, "{e}");
            e
        };
        assert!(bad(&|c| c.children = 0).starts_with("the number of children must be between 1"));
        assert!(bad(&|c| c.years = 0).starts_with("the number of years must be between 1 and 50"));
        assert!(bad(&|c| c.years = 51).contains("it is 51"));
        assert!(bad(&|c| c.noise.misspelling = 1.5)
            .starts_with("noise.misspelling must be a probability"));
        assert!(bad(&|c| c.noise.misspelling = f64::NAN).contains("noise.misspelling"));
        assert!(bad(&|c| c.victimisation_rate = 0.9).starts_with("victimisation_rate"));
        assert!(bad(&|c| c.networks.min_adults = 1).contains("two or more adults"));
        assert!(bad(&|c| c.networks.max_adults = 2).contains("networks.max_adults"));
        assert!(bad(&|c| c.demographics.ethnicity.clear()).contains("at least one entry"));
        assert!(bad(&|c| c.demographics.sex[0].share = -1.0).contains("zero or more"));
        assert!(bad(&|c| c.schools = Some(0)).contains("schools"));
        assert!(bad(&|c| c.rates.victim_missing_per_week = 100.0).contains("between 0 and 7"));
    }

    #[test]
    fn start_date_counts_back_whole_years() {
        let end = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(
            start_date(end, 3),
            NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()
        );
        let leap = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(
            start_date(leap, 1),
            NaiveDate::from_ymd_opt(2023, 3, 1).unwrap()
        );
    }

    #[test]
    fn config_round_trips_through_json_and_fills_defaults() {
        let c = SynthConfig::default();
        let json = serde_json::to_string(&c).unwrap();
        let back: SynthConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let partial: SynthConfig =
            serde_json::from_str(r#"{"children": 50, "noise": {"misspelling": 0.2}}"#).unwrap();
        assert_eq!(partial.children, 50);
        assert_eq!(partial.noise.misspelling, 0.2);
        assert_eq!(partial.noise.nickname, Noise::default().nickname);
        assert!(serde_json::from_str::<SynthConfig>(r#"{"childs": 5}"#).is_err());
    }
}
