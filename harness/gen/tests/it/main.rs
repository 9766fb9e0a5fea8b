//! Properties of generated and mutated notifications, checked against libxml2 (via
//! `eioa-validate`) and the model's strict parser, plus the regression fixtures.

use eioa_gen::fuzz::{self, observe, CaseClass};
use eioa_gen::mutate::{self, Expected, MutationClass};
use eioa_gen::strategy::{self, Scenario, SCENARIOS};
use eioa_gen::{generate, DEFAULT_TODAY};
use eioa_model::Notification;
use eioa_validate::{SchemaSet, Validator, ValidatorOptions};
use proptest::prelude::*;
use proptest::strategy::Union;
use std::sync::OnceLock;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        Validator::new(
            SchemaSet::embedded(),
            ValidatorOptions {
                today: Some(DEFAULT_TODAY),
                ..Default::default()
            },
        )
        .expect("the embedded schema set compiles")
    })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    }
}

fn all_scenarios() -> impl Strategy<Value = Notification> {
    Union::new(SCENARIOS.iter().map(|s| s.strategy(DEFAULT_TODAY)))
}

fn all_mutations() -> impl Strategy<Value = (Notification, mutate::Mutated)> {
    Union::new(
        MutationClass::ALL
            .iter()
            .map(|c| mutate::mutated(*c, DEFAULT_TODAY)),
    )
}

proptest! {
    #![proptest_config(config(384))]

    /// Every generated notification passes the schema and the rules, without even a
    /// warning, and reads back into the same model value.
    #[test]
    fn generated_notifications_are_valid(n in all_scenarios()) {
        let xml = n.to_xml();
        let report = validator().validate(xml.as_bytes());
        prop_assert!(report.findings.is_empty(), "{xml}\n{:#?}", report.findings);
        prop_assert_eq!(Notification::from_xml(&xml), Ok(n));
    }

    /// Every mutation is rejected with exactly the findings its class defines.
    #[test]
    fn mutations_are_classified_as_defined((n, m) in all_mutations()) {
        let o = observe(validator(), &m.bytes);
        let doc = String::from_utf8_lossy(&m.bytes);
        prop_assert!(
            o.matches(&m.mutation.expected),
            "{} ({}): expected {}, observed {}\n{doc}",
            m.mutation.class.name(), m.mutation.detail, m.mutation.expected.describe(), o.describe()
        );
        prop_assert_eq!(
            m.mutation.expected.errors.is_empty(),
            m.mutation.class == MutationClass::LexicalVariant
        );
        // The mutation is of the document, never of the value it came from.
        prop_assert_ne!(m.bytes, n.to_xml().into_bytes());
    }

    /// Differential oracle: the model's strict parser and libxml2 agree on schema
    /// acceptance for every document that is usable XML text (no `X` findings).
    #[test]
    fn model_parser_agrees_with_libxml2((_, m) in all_mutations()) {
        let o = observe(validator(), &m.bytes);
        prop_assert!(
            o.oracles_agree(),
            "{}: libxml2 {} but the model {}: {}\n{}",
            m.mutation.class.name(),
            if o.libxml_accepts { "accepts" } else { "rejects" },
            if o.model_accepts == Some(true) { "accepts" } else { "rejects" },
            m.mutation.detail,
            String::from_utf8_lossy(&m.bytes)
        );
    }
}

#[test]
fn every_mutation_class_has_a_nonempty_expectation() {
    // Maximal notifications offer most places a class can strike; the branch-specific
    // classes need an employer scenario. Every class must strike somewhere: a class
    // that applies to no scenario is a test that checks nothing, and fails here.
    let mut order: Vec<Scenario> = vec![Scenario::by_name("maximal").expect("scenario")];
    order.extend(SCENARIOS.iter().copied());
    let mut unapplied = Vec::new();
    for c in MutationClass::ALL {
        let hit = order.iter().enumerate().find_map(|(i, sc)| {
            let seed = 7 + i as u64;
            mutate::apply(*c, &generate(seed, *sc, DEFAULT_TODAY), 0)
        });
        let Some(m) = hit else {
            unapplied.push(c.name());
            continue;
        };
        let valid_spelling = *c == MutationClass::LexicalVariant;
        assert_eq!(
            m.mutation.expected.errors.is_empty(),
            valid_spelling,
            "{}",
            c.name()
        );
        assert_eq!(m.mutation.class, *c);
    }
    assert!(
        unapplied.is_empty(),
        "mutation classes that applied to no scenario: {unapplied:?}"
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for s in SCENARIOS {
        let a = generate(42, *s, DEFAULT_TODAY).to_xml();
        let b = generate(42, *s, DEFAULT_TODAY).to_xml();
        assert_eq!(a, b, "{}", s.name);
        let c = generate(43, *s, DEFAULT_TODAY).to_xml();
        assert_ne!(a, c, "{}", s.name);
    }
}

#[test]
fn scenarios_produce_their_branch() {
    for s in SCENARIOS.iter().filter(|s| s.name.ends_with("-ees")) {
        for seed in 0..8 {
            assert_eq!(generate(seed, *s, DEFAULT_TODAY).branch(), s.name);
        }
    }
    let min = generate(
        1,
        Scenario::by_name("minimal").expect("scenario"),
        DEFAULT_TODAY,
    );
    assert!(min.assistent.andring_galler_from.is_none());
    let max = generate(
        1,
        Scenario::by_name("maximal").expect("scenario"),
        DEFAULT_TODAY,
    );
    assert!(max.assistent.andring_galler_from.is_some());
    let t18 = generate(
        3,
        Scenario::by_name("fyller-18").expect("scenario"),
        DEFAULT_TODAY,
    );
    let birth = eioa_model::ident::parse_identity(&t18.assistent.personnummer)
        .expect("valid")
        .birth_date;
    assert_eq!(
        t18.assistent.anstallningsdatum,
        eioa_gen::values::eighteenth_birthday(birth).to_string()
    );
    let leap = generate(
        5,
        Scenario::by_name("skottdag").expect("scenario"),
        DEFAULT_TODAY,
    );
    assert_eq!(&leap.assistent.personnummer[4..8], "0229");
    let short = generate(
        5,
        Scenario::by_name("kortaste-telefon").expect("scenario"),
        DEFAULT_TODAY,
    );
    assert_eq!(short.telefonnummer_anordnare.chars().count(), 7);
}

#[test]
fn fuzz_run_is_deterministic_across_threads() {
    let cfg = fuzz::FuzzConfig::new(11, DEFAULT_TODAY);
    let n = cfg.classes.len() as u64 * 3;
    let one = fuzz::run(&cfg, validator(), 1, fuzz::Budget::Cases(n), &|_| {});
    let two = fuzz::run(&cfg, validator(), 2, fuzz::Budget::Cases(n), &|_| {});
    assert_eq!(one.cases, n);
    assert_eq!(one.per_class, two.per_class);
    for c in CaseClass::all() {
        assert_eq!(one.per_class[&c].cases, 3, "{}", c.name());
    }
    let describe = |s: &fuzz::Summary| {
        s.surprises
            .iter()
            .map(|x| {
                format!(
                    "{} {} {}",
                    x.class.name(),
                    x.kind.name(),
                    x.observed.describe()
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(describe(&one), describe(&two));
}

#[test]
fn regression_fixture_round_trips() {
    let s = fuzz::Surprise {
        class: CaseClass::Mutation(MutationClass::MarkerFalse),
        index: 3,
        case_seed: 99,
        kind: fuzz::SurpriseKind::Misclassified,
        document: b"<?xml version=\"1.0\"?>\n<a/>\n".to_vec(),
        expected: Expected {
            errors: ["EIOA-R013".to_string(), "EIOA-S001".to_string()].into(),
            s001_kinds: Some(["enumeration".to_string()].into()),
        },
        observed: fuzz::Classification::default(),
        detail: "x -- y".into(),
    };
    let cfg = fuzz::FuzzConfig::new(1, DEFAULT_TODAY);
    let bytes = fuzz::regression_fixture(&s, &cfg);
    let r = fuzz::read_regression(&bytes).expect("parses");
    assert_eq!(r.document, s.document);
    assert_eq!(r.expected, s.expected);
    assert!(r.open);
    assert_eq!(r.today, DEFAULT_TODAY);
}

/// Replays `fixtures/regressions/`: each document must now be classified as its
/// `expect` comment says, unless it is marked `status=open` (a known surprise, not
/// yet fixed), in which case it must still reproduce what was observed, so that a fix
/// or a change of behaviour is noticed and the fixture updated.
#[test]
fn regressions_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/regressions");
    // A missing or empty folder replays nothing and would pass: it is a failure.
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut fixtures: Vec<std::path::PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    fixtures.sort();
    assert!(
        !fixtures.is_empty(),
        "{} holds no regression fixture",
        dir.display()
    );
    let mut failures = Vec::new();
    for path in fixtures {
        let bytes = std::fs::read(&path).expect("readable fixture");
        let r = fuzz::read_regression(&bytes)
            .unwrap_or_else(|| panic!("{}: no `<!-- expect: … -->` trailer", path.display()));
        let v = Validator::new(
            SchemaSet::embedded(),
            ValidatorOptions {
                today: Some(r.today),
                ..Default::default()
            },
        )
        .expect("schema compiles");
        let o = observe(&v, &r.document);
        let fixed = o.matches(&r.expected) && o.oracles_agree();
        if fixed && r.open {
            failures.push(format!(
                "{}: now behaves as expected; remove `status=open`",
                path.display()
            ));
        } else if !(fixed || r.open && o.describe() == r.observed) {
            failures.push(format!(
                "{}: expected {}, observed {}",
                path.display(),
                r.expected.describe(),
                o.describe()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strategies_are_shared_with_the_cli() {
    // The `any` scenario is the crate-level notification strategy.
    let a = generate(5, Scenario::by_name("any").expect("any"), DEFAULT_TODAY);
    let mut runner = strategy::runner_for_seed(5);
    let b = strategy::notification(DEFAULT_TODAY)
        .new_tree(&mut runner)
        .expect("tree")
        .current();
    assert_eq!(a, b);
}

#[test]
fn shards_cover_exactly_the_cases_of_one_run() {
    use eioa_gen::shard::{merge, run_key, MergeError, Shard, ShardSummary};
    let mut cfg = fuzz::FuzzConfig::new(5, DEFAULT_TODAY);
    cfg.max_shrink_steps = 1;
    // A validator with a size limit below some notifications' size turns those cases
    // into surprises, so the comparison covers surprises as well as counts.
    let odd = Validator::new(
        SchemaSet::embedded(),
        ValidatorOptions {
            today: Some(DEFAULT_TODAY),
            max_bytes: 1100,
        },
    )
    .unwrap();
    let cases = cfg.classes.len() as u64 * 2 + 5;
    let key = run_key(&cfg, "eioa-v1".into(), cases);
    let whole = ShardSummary::of(
        key.clone(),
        0..cases,
        &fuzz::run(&cfg, &odd, 2, fuzz::Budget::Cases(cases), &|_| {}),
    );
    assert!(
        !whole.surprises.is_empty(),
        "the comparison needs surprises"
    );
    let n = 3;
    let parts: Vec<ShardSummary> = (1..=n)
        .map(|i| {
            let r = Shard::parse(&format!("{i}/{n}")).unwrap().range(cases);
            let budget = fuzz::Budget::Indices {
                start: r.start,
                end: r.end,
            };
            ShardSummary::of(key.clone(), r, &fuzz::run(&cfg, &odd, 1, budget, &|_| {}))
        })
        .collect();
    // Merged in any order, the shards are the one run.
    let merged = merge(&[parts[2].clone(), parts[0].clone(), parts[1].clone()]).unwrap();
    assert!(merged.complete());
    assert_eq!(merged.cases, whole.cases);
    assert_eq!(merged.per_class, whole.per_class);
    assert_eq!(merged.surprises, whole.surprises);
    // A shard twice, a missing shard, and a shard of another run are told apart.
    assert!(matches!(
        merge(&[parts[0].clone(), parts[0].clone()]),
        Err(MergeError::Overlap { .. })
    ));
    assert!(!merge(&parts[..2]).unwrap().complete());
    let mut other = parts[1].clone();
    other.run.seed += 1;
    assert!(matches!(
        merge(&[parts[0].clone(), other]),
        Err(MergeError::OtherRun { .. })
    ));
}
