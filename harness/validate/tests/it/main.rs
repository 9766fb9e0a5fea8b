//! Fixture-driven tests: the expected outcome of every document comes from where it
//! lives (`fixtures/valid`, `fixtures/invalid/<rule>/`, `fixtures/warnings/<rule>/`)
//! and from an optional `<!-- expect: RULE … -->` comment, never from the code under test.

mod entities;

use eioa_model::Notification;
use eioa_validate::rules::RULES;
use eioa_validate::{Report, Severity, Validator, ValidatorOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Rules compare against a fixed day so results do not drift with the calendar.
fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let today = time::Date::from_calendar_date(2026, time::Month::November, 26).unwrap();
        Validator::new(
            eioa_validate::SchemaSet::embedded(),
            ValidatorOptions {
                today: Some(today),
                ..Default::default()
            },
        )
        .unwrap()
    })
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    v.sort();
    v
}

fn rule_dirs(kind: &str) -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(fixtures().join(kind))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    v.sort();
    v
}

/// The folder's rule plus any rules named in an `<!-- expect: … -->` comment.
fn expected(rule: &str, bytes: &[u8]) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut set: BTreeSet<String> = BTreeSet::from([rule.to_string()]);
    if let Some(i) = text.find("<!-- expect:") {
        let rest = &text[i + 12..];
        let end = rest.find("-->").unwrap();
        set.extend(rest[..end].split_whitespace().map(str::to_string));
    }
    set
}

fn rules_of(report: &Report, severity: Severity) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.rule.clone())
        .collect()
}

#[test]
fn valid_fixtures_have_no_findings() {
    let files = xml_files(&fixtures().join("valid"));
    assert!(files.len() >= 8);
    for f in files {
        let report = validator().validate(&std::fs::read(&f).unwrap());
        assert!(
            report.findings.is_empty(),
            "{}: {:#?}",
            f.display(),
            report.findings
        );
    }
}

#[test]
fn invalid_fixtures_fail_with_exactly_their_rules() {
    let dirs = rule_dirs("invalid");
    assert!(dirs.len() >= 15);
    for (rule, dir) in dirs {
        let files = xml_files(&dir);
        assert!(!files.is_empty(), "{rule} has no fixture");
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            let report = validator().validate(&bytes);
            assert!(!report.is_valid(), "{} passed", f.display());
            assert_eq!(
                rules_of(&report, Severity::Error),
                expected(&rule, &bytes),
                "{}: {:#?}",
                f.display(),
                report.findings
            );
        }
    }
}

#[test]
fn warning_fixtures_pass_with_exactly_their_warnings() {
    // An empty folder, or none at all, would pass without checking anything.
    let dirs = rule_dirs("warnings");
    assert!(!dirs.is_empty(), "fixtures/warnings has no rule folder");
    for (rule, dir) in dirs {
        let files = xml_files(&dir);
        assert!(!files.is_empty(), "{} holds no fixture", dir.display());
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            let report = validator().validate(&bytes);
            assert!(report.is_valid(), "{}: {:#?}", f.display(), report.findings);
            assert_eq!(
                rules_of(&report, Severity::Warning),
                expected(&rule, &bytes),
                "{}",
                f.display()
            );
        }
    }
}

#[test]
fn every_rule_has_a_fixture_and_a_docs_entry() {
    let docs = std::fs::read_to_string(fixtures().join("../docs/rules.md")).unwrap();
    let covered: BTreeSet<String> = rule_dirs("invalid")
        .into_iter()
        .chain(rule_dirs("warnings"))
        .map(|(r, _)| r)
        .collect();
    for r in RULES {
        assert!(
            docs.contains(&format!("## {}", r.id)),
            "{} is not documented in docs/rules.md",
            r.id
        );
        // A broken schema set is not a property of any document: no fixture can
        // trigger it (the validator unit test `schema_set_failures_are_a_rule_of_their_own` covers it).
        if r.id == "EIOA-S000" {
            continue;
        }
        assert!(covered.contains(r.id), "{} has no fixture folder", r.id);
        assert!(
            docs.contains(&format!("## {}", r.id)),
            "{} is not documented in docs/rules.md",
            r.id
        );
        let folder = if r.severity == Severity::Error {
            "invalid"
        } else {
            "warnings"
        };
        assert!(
            fixtures().join(folder).join(r.id).is_dir(),
            "{} belongs under fixtures/{folder}",
            r.id
        );
    }
}

#[test]
fn faq_example_as_printed_fails_naming_the_placeholder() {
    let report = validator()
        .validate(&std::fs::read(fixtures().join("faq/faq-example-as-printed.xml")).unwrap());
    assert!(!report.is_valid());
    let placeholder: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "EIOA-R005")
        .collect();
    assert_eq!(placeholder.len(), 2, "{:#?}", report.findings);
    for f in placeholder {
        assert!(
            f.message.contains("YYYYMMDDXXXX") && f.message.contains("placeholder"),
            "{}",
            f.message
        );
    }
    assert!(report.has("EIOA-R017"), "the glued schemaLocation is named");
}

#[test]
fn faq_example_corrected_passes() {
    let report = validator()
        .validate(&std::fs::read(fixtures().join("faq/faq-example-corrected.xml")).unwrap());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn valid_fixtures_round_trip_through_the_model() {
    for f in xml_files(&fixtures().join("valid")) {
        let text = std::fs::read_to_string(&f).unwrap();
        let n = Notification::from_xml(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let again = n.to_xml();
        assert!(
            validator().validate(again.as_bytes()).findings.is_empty(),
            "{}",
            f.display()
        );
        assert_eq!(Notification::from_xml(&again).unwrap(), n);
    }
}

/// The model's strict reader and libxml2 agree on schema acceptance for every
/// well-formed UTF-8 fixture.
#[test]
fn model_reader_agrees_with_libxml2_on_fixtures() {
    let mut all = Vec::new();
    for kind in ["valid", "faq"] {
        all.extend(xml_files(&fixtures().join(kind)));
    }
    for (_, d) in rule_dirs("invalid")
        .into_iter()
        .chain(rule_dirs("warnings"))
    {
        all.extend(xml_files(&d));
    }
    for f in all {
        let bytes = std::fs::read(&f).unwrap();
        let report = validator().validate(&bytes);
        // Only documents libxml2 could read; the model reader takes UTF-8 text.
        let unreadable = report
            .findings
            .iter()
            .any(|x| x.rule.starts_with("EIOA-X") && x.severity == Severity::Error);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if unreadable || text.contains('\0') {
            continue;
        }
        let schema_ok = !report.has("EIOA-S001");
        let model_ok = Notification::from_xml(text);
        assert_eq!(
            schema_ok,
            model_ok.is_ok(),
            "{}: libxml2 {:?} vs model {:?}",
            f.display(),
            report.findings,
            model_ok.err()
        );
    }
}

#[test]
fn size_limit_is_a_finding_not_a_parse() {
    let v = Validator::new(
        eioa_validate::SchemaSet::embedded(),
        ValidatorOptions {
            max_bytes: 100,
            today: None,
        },
    )
    .unwrap();
    let report =
        v.validate(&std::fs::read(fixtures().join("valid/anordnare-inom-ees.xml")).unwrap());
    assert_eq!(report.rules(), vec!["EIOA-X004"]);
}

#[test]
fn deep_nesting_is_a_clear_finding() {
    let mut doc = String::from("<?xml version=\"1.0\"?>");
    for _ in 0..100_000 {
        doc.push_str("<a>");
    }
    let report = validator().validate(doc.as_bytes());
    assert_eq!(report.rules(), vec!["EIOA-X001"], "{:?}", report.findings);
}

#[test]
fn validator_is_shared_across_threads() {
    let bytes = std::fs::read(fixtures().join("valid/anordnare-inom-ees.xml")).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert!(validator().validate(&bytes).is_valid());
                }
            });
        }
    });
}

#[test]
fn envelope_schema_accepts_a_response_and_rejects_an_unknown_body() {
    let ok = br#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<r:SkickaAnmalanFranArbetsgivareResponse xmlns:r="urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1"><r:tx-id>4a8db4b8-bc29-4406-901c-3f69298cabe3</r:tx-id></r:SkickaAnmalanFranArbetsgivareResponse>
</soap:Body></soap:Envelope>"#;
    assert!(validator().validate_envelope(ok).findings.is_empty());
    let bad = br#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><r:Nope xmlns:r="urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1"/></soap:Body></soap:Envelope>"#;
    assert!(validator().validate_envelope(bad).has("EIOA-S001"));
}

mod prop {
    use super::validator;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        /// Arbitrary bytes give a report, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = validator().validate(&bytes);
            let _ = validator().validate_envelope(&bytes);
        }

        /// Cutting a valid document anywhere gives an error, never a panic.
        #[test]
        fn truncation_is_an_error(cut in 0usize..1000) {
            let doc = std::fs::read(super::fixtures().join("valid/anordnare-inom-ees.xml")).unwrap();
            let cut = cut.min(doc.len() - 2);
            prop_assert!(!validator().validate(&doc[..cut]).is_valid());
        }
    }
}
