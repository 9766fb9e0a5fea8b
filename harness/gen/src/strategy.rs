//! Proptest strategies for valid notifications, per scenario, and the deterministic
//! generator built on them.
//!
//! Every date lies in the validator's plausibility window for the given `today`
//! (rules R006 and R009): anställningsdatum and andringGallerFrom in
//! `[1994-01-01, today + 1 year]`, birth dates at most 100 years back and not in the
//! future, the assistant at least 18 on anställningsdatum.

use crate::values;
use eioa_model::{Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rand::{RngCore, SeedableRng};
use time::{Date, Month};

/// Who employs the assistant (module 3 of form 3066).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Employer {
    /// The person who has assistance is the employer.
    Person,
    /// The provider employs the assistant.
    Anordnare,
    /// Another employer, with or without a name.
    Annan,
    /// The assistant is self-employed.
    EgenForetagare,
}

/// How optional elements are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optionals {
    Random,
    None,
    All,
}

/// A named family of notifications: a branch of the schema's choices plus edge values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    pub name: &'static str,
    pub summary: &'static str,
    employer: Option<Employer>,
    inside_eea: Option<bool>,
    optionals: Optionals,
    leap_day: bool,
    turns_18: bool,
    shortest_phone: bool,
    long_names: bool,
    samordning: Option<bool>,
}

const BASE: Scenario = Scenario {
    name: "any",
    summary: "every branch, optional element and edge value mixed",
    employer: None,
    inside_eea: None,
    optionals: Optionals::Random,
    leap_day: false,
    turns_18: false,
    shortest_phone: false,
    long_names: false,
    samordning: None,
};

macro_rules! branch {
    ($name:literal, $summary:literal, $emp:ident, $eea:literal) => {
        Scenario {
            name: $name,
            summary: $summary,
            employer: Some(Employer::$emp),
            inside_eea: Some($eea),
            ..BASE
        }
    };
}

/// Every scenario, `any` first.
pub const SCENARIOS: &[Scenario] = &[
    BASE,
    branch!(
        "egen-arbetsgivare-inom-ees",
        "the person is the employer; assistant inside the EEA",
        Person,
        true
    ),
    branch!(
        "egen-arbetsgivare-utom-ees",
        "the person is the employer; assistant outside the EEA",
        Person,
        false
    ),
    branch!(
        "anordnare-inom-ees",
        "the provider employs the assistant; inside the EEA",
        Anordnare,
        true
    ),
    branch!(
        "anordnare-utom-ees",
        "the provider employs the assistant; outside the EEA",
        Anordnare,
        false
    ),
    branch!(
        "annan-arbetsgivare-inom-ees",
        "another employer (name optional); inside the EEA",
        Annan,
        true
    ),
    branch!(
        "annan-arbetsgivare-utom-ees",
        "another employer (name optional); outside the EEA",
        Annan,
        false
    ),
    branch!(
        "egen-foretagare-inom-ees",
        "the assistant is self-employed; inside the EEA",
        EgenForetagare,
        true
    ),
    branch!(
        "egen-foretagare-utom-ees",
        "the assistant is self-employed; outside the EEA",
        EgenForetagare,
        false
    ),
    Scenario {
        name: "minimal",
        summary: "a provider, every optional element left out",
        employer: Some(Employer::Annan),
        optionals: Optionals::None,
        ..BASE
    },
    Scenario {
        name: "maximal",
        summary: "a provider, every optional element present, andringGallerFrom included",
        employer: Some(Employer::Annan),
        optionals: Optionals::All,
        ..BASE
    },
    Scenario {
        name: "skottdag",
        summary: "the assistant and the person born on 29 February",
        leap_day: true,
        ..BASE
    },
    Scenario {
        name: "fyller-18",
        summary: "the assistant turns 18 exactly on anstallningsdatum",
        turns_18: true,
        ..BASE
    },
    Scenario {
        name: "kortaste-telefon",
        summary: "every telephone number at the shortest allowed length (7 characters)",
        shortest_phone: true,
        employer: Some(Employer::Anordnare),
        optionals: Optionals::All,
        ..BASE
    },
    Scenario {
        name: "langa-namn",
        summary: "long multi-part names with åäö and other scripts",
        long_names: true,
        optionals: Optionals::All,
        ..BASE
    },
    Scenario {
        name: "samordningsnummer",
        summary: "the assistant identified by a samordningsnummer",
        samordning: Some(true),
        ..BASE
    },
];

impl Scenario {
    /// The scenario called `name`.
    pub fn by_name(name: &str) -> Option<Scenario> {
        SCENARIOS.iter().copied().find(|s| s.name == name)
    }

    /// The strategy for this scenario's notifications, dated relative to `today`.
    pub fn strategy(&self, today: Date) -> BoxedStrategy<Notification> {
        notification_for(*self, today)
    }
}

/// Valid notifications of every shape, dated relative to `today`.
pub fn notification(today: Date) -> BoxedStrategy<Notification> {
    notification_for(BASE, today)
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    mode: Optionals,
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    match mode {
        Optionals::Random => proptest::option::of(s).boxed(),
        Optionals::None => Just(None).boxed(),
        Optionals::All => s.prop_map(Some).boxed(),
    }
}

fn one_year_after(today: Date) -> Date {
    today
        .replace_year(today.year() + 1)
        .or_else(|_| Date::from_calendar_date(today.year() + 1, Month::March, 1))
        .unwrap_or(today)
}

/// The assistant: birth date, identity, names, dates, EEA residence.
fn assistent(sc: Scenario, today: Date) -> BoxedStrategy<Assistent> {
    let latest_anst = one_year_after(today);
    let first_anst = time::macros::date!(1994 - 01 - 01);
    let latest_birth = values::years_before(latest_anst, 18).min(values::years_before(today, 18));
    let mut earliest_birth =
        Date::from_calendar_date(today.year() - 70, Month::January, 1).unwrap_or(first_anst);
    if sc.turns_18 {
        // 18 on a day inside the plausibility window.
        earliest_birth = values::years_before(first_anst, 18).max(earliest_birth);
    }
    let leap = if sc.leap_day { None } else { Some(12) };
    let birth = values::birth_date(earliest_birth, latest_birth, leap);
    let samordning = match sc.samordning {
        Some(b) => Just(b).boxed(),
        None => prop_oneof![9 => Just(false), 1 => Just(true)].boxed(),
    };
    let turns_18 = sc.turns_18;
    let dates = birth.prop_flat_map(move |b| {
        let adult = values::eighteenth_birthday(b).max(first_anst);
        let anst = if turns_18 {
            Just(adult).boxed()
        } else {
            prop_oneof![7 => values::date_in(adult, latest_anst), 1 => Just(adult)].boxed()
        };
        (Just(b), anst)
    });
    let dates = dates.prop_flat_map(move |(b, anst)| {
        (
            Just(b),
            Just(anst),
            opt(sc.optionals, values::date_in(anst, latest_anst)),
        )
    });
    let bosatt = match sc.inside_eea {
        Some(true) => Just(Bosatt::InnanforEes).boxed(),
        Some(false) => bosatt_utom().boxed(),
        None => prop_oneof![Just(Bosatt::InnanforEes), bosatt_utom()].boxed(),
    };
    (
        dates,
        samordning,
        values::name(values::FORNAMN, sc.long_names),
        values::name(values::EFTERNAMN, sc.long_names),
        any::<bool>(),
        bosatt,
    )
        .prop_flat_map(
            |((b, anst, andring), samordning, fornamn, efternamn, narstaende, bosatt)| {
                values::identity(b, samordning).prop_map(move |personnummer| Assistent {
                    personnummer,
                    fornamn: fornamn.clone(),
                    efternamn: efternamn.clone(),
                    anstallningsdatum: anst.to_string(),
                    narstaende,
                    bosatt: bosatt.clone(),
                    andring_galler_from: andring.map(|d| d.to_string()),
                })
            },
        )
        .boxed()
}

fn bosatt_utom() -> impl Strategy<Value = Bosatt> {
    select(values::ADRESSER_UTOM_EES).prop_map(|a| Bosatt::UtanforEes {
        adress: a.to_string(),
    })
}

fn person(sc: Scenario, today: Date) -> BoxedStrategy<Person> {
    let earliest = Date::from_calendar_date(today.year() - 100, Month::January, 1).unwrap_or(today);
    let leap = if sc.leap_day { None } else { Some(12) };
    (
        values::birth_date(earliest, today, leap),
        prop_oneof![19 => Just(false), 1 => Just(true)],
    )
        .prop_flat_map(move |(b, samordning)| {
            (
                values::identity(b, samordning),
                values::name(values::FORNAMN, sc.long_names),
                values::name(values::EFTERNAMN, sc.long_names),
            )
        })
        .prop_map(|(personnummer, fornamn, efternamn)| Person {
            personnummer,
            fornamn,
            efternamn,
        })
        .boxed()
}

fn arbetsgivare(sc: Scenario) -> BoxedStrategy<Arbetsgivare> {
    let emp = match sc.employer {
        Some(e) => Just(e).boxed(),
        None => select(
            &[
                Employer::Person,
                Employer::Anordnare,
                Employer::Annan,
                Employer::EgenForetagare,
            ][..],
        )
        .boxed(),
    };
    let kontakt =
        (select(values::FORNAMN), select(values::EFTERNAMN)).prop_map(|(f, e)| format!("{f} {e}"));
    let anordnare = (
        opt(
            sc.optionals,
            select(values::FORETAG).prop_map(str::to_string),
        ),
        values::orgnr(),
        opt(sc.optionals, kontakt),
        opt(sc.optionals, values::telefon(sc.shortest_phone)),
        opt(
            sc.optionals,
            select(values::FORETAG).prop_map(str::to_string),
        ),
        values::orgnr(),
    );
    (emp, anordnare)
        .prop_map(
            |(emp, (namn, org, kontaktperson, telefonnummer, annan_namn, annan_org))| {
                let anstallning = match emp {
                    Employer::Person => return Arbetsgivare::PersonSomHarAssistans,
                    Employer::Anordnare => Anstallning::AnstalldAvAnordnare,
                    Employer::Annan => Anstallning::AnnanArbetsgivare {
                        namn: annan_namn,
                        organisationsnummer: annan_org,
                    },
                    Employer::EgenForetagare => Anstallning::EgenForetagare,
                };
                Arbetsgivare::Anordnare(Anordnare {
                    namn,
                    organisationsnummer: org,
                    kontaktperson,
                    telefonnummer,
                    anstallning,
                })
            },
        )
        .boxed()
}

fn notification_for(sc: Scenario, today: Date) -> BoxedStrategy<Notification> {
    (
        values::uuid_v4(),
        person(sc, today),
        assistent(sc, today),
        arbetsgivare(sc),
        values::telefon(sc.shortest_phone),
    )
        .prop_filter(
            "the assistant and the person are two people",
            |(_, p, a, _, _)| p.personnummer != a.personnummer,
        )
        .prop_map(|(id, person, assistent, arbetsgivare, tel)| Notification {
            id,
            person,
            assistent,
            arbetsgivare,
            telefonnummer_anordnare: tel,
        })
        .boxed()
}

/// A proptest runner whose randomness is a function of `seed` alone: ChaCha20
/// (`rand_chacha`) seeded from `seed` keys proptest's own ChaCha generator.
pub fn runner_for_seed(seed: u64) -> TestRunner {
    let mut chacha = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut key = [0u8; 32];
    chacha.fill_bytes(&mut key);
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    TestRunner::new_with_rng(Config::default(), rng)
}

/// One notification of `scenario`, determined by `seed` (and the proptest version
/// locked in `Cargo.lock`): the same seed always gives the same notification.
pub fn generate(seed: u64, scenario: Scenario, today: Date) -> Notification {
    let strategy = scenario.strategy(today);
    let mut attempt = seed;
    loop {
        let mut runner = runner_for_seed(attempt);
        if let Ok(tree) = strategy.new_tree(&mut runner) {
            return tree.current();
        }
        // Only reachable if the filter rejected every draw; move to the next seed.
        attempt = attempt.wrapping_add(0x9E37_79B9_7F4A_7C15);
    }
}
