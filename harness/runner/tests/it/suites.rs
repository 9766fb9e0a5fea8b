//! Suites as files: the bundled ones give today's rows and verdicts, a vendor's own
//! suite runs, and a broken file is named with its line and what is wrong.

use super::{failed_rows, kit, run, validator};
use eioa_client::{Client, ClientConfig, Target, Url};
use eioa_runner::{Expect, Judgement, SuiteName};
use std::collections::BTreeSet;
use std::path::Path;

/// Every row of the full suite as it was defined in Rust before suites became
/// files: id, expected answer, the message fragment judged, and the FK rule the
/// stand-in answers with (so the same cause is exercised, not just the same kind).
const FULL: &[(&str, &str, Option<&str>, &str)] = &[
    ("A01", "accepted", None, ""),
    ("A02", "accepted", None, ""),
    ("A03", "accepted", None, ""),
    ("A04", "accepted", None, ""),
    ("A05", "accepted", None, ""),
    ("A06", "accepted", None, ""),
    ("A07", "accepted", None, ""),
    ("A08", "accepted", None, ""),
    ("A09", "accepted", None, ""),
    ("A09#2", "accepted", None, ""),
    ("A10", "accepted", None, ""),
    ("A10#2", "accepted", None, ""),
    ("P01", "xml-validation-error", None, "FK-X004"),
    (
        "P02",
        "xml-validation-error",
        Some("personnummer"),
        "FK-X004",
    ),
    ("P03", "xml-validation-error", None, "FK-X004"),
    ("P04", "xml-validation-error", None, "FK-X004"),
    ("P05", "xml-validation-error", None, "FK-X004"),
    (
        "P06",
        "xml-validation-error",
        Some("assistentAnstalldAvAnordnare"),
        "FK-X004",
    ),
    (
        "P07",
        "xml-validation-error",
        Some("telefonnummerAnordnare"),
        "FK-X003",
    ),
    ("P08", "xml-validation-error", None, "FK-X003"),
    ("P09", "xml-validation-error", None, "FK-X004"),
    ("P10", "xml-validation-error", None, "FK-X002"),
    ("P11", "xml-validation-error", None, "FK-X002"),
    (
        "P12",
        "xml-validation-error",
        Some("organisationsnummer"),
        "FK-X004",
    ),
    ("S01", "signature-validation-error", None, "FK-S005"),
    ("S02", "accepted", None, ""),
    ("S02#2", "signature-validation-error", None, "FK-S005"),
    ("S03", "signature-validation-error", None, "FK-S004"),
    ("S04", "signature-validation-error", None, "FK-S004"),
    ("S05", "signature-validation-error", None, "FK-S007"),
    ("S06", "signature-validation-error", None, "FK-S008"),
    ("S07", "signature-validation-error", None, "FK-S002"),
    ("T01", "fault", None, "FK-T005"),
    ("T02", "fault", None, "FK-E002"),
    ("T03", "fault", None, "FK-E001"),
];

async fn in_process() -> (eioa_mock_server::inprocess::InProcessFk, Client, Target) {
    let kit = kit();
    let stand_in = eioa_runner::start_stand_in(validator(), &kit).await;
    let client = Client::new(ClientConfig {
        extra_roots: vec![kit.pki.ca_cert_der().to_vec().into()],
        use_system_roots: false,
        ..ClientConfig::default()
    })
    .expect("client");
    let target = Target::Mock(Url::parse(&stand_in.endpoint_url()).expect("url"));
    (stand_in, client, target)
}

fn kebab(e: Expect) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_full_suite_gives_todays_rows_and_verdicts() {
    let kit = kit();
    let full = eioa_runner::suite(SuiteName::Full).expect("bundled suite");
    assert_eq!(full.len(), 32, "scenarios");
    let (_stand_in, client, target) = in_process().await;
    let summary = run(&kit, &full, &client, &target).await;
    let got: Vec<(String, String, Option<String>, String)> = summary
        .outcomes
        .iter()
        .map(|o| {
            let rule = o
                .observed
                .fault_message
                .as_deref()
                .and_then(|m| m.get(..7))
                .unwrap_or("")
                .to_string();
            (
                o.id.clone(),
                kebab(o.expected),
                o.expected_message.clone(),
                rule,
            )
        })
        .collect();
    let want: Vec<(String, String, Option<String>, String)> = FULL
        .iter()
        .map(|(id, e, m, r)| {
            (
                id.to_string(),
                e.to_string(),
                m.map(String::from),
                r.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(summary.outcomes.len(), 35, "exchanges");
    assert_eq!(
        failed_rows(&summary),
        BTreeSet::new(),
        "{}",
        summary.to_markdown()
    );
}

#[test]
fn bundled_connection_suite_is_the_one_scenario_fk_may_receive() {
    let connection = eioa_runner::suite(SuiteName::Connection).expect("bundled suite");
    let ids: Vec<(&str, bool, usize)> = connection
        .iter()
        .map(|s| (s.id.as_str(), s.fk_hosts, s.steps.len()))
        .collect();
    assert_eq!(ids, vec![("C01", true, 1)]);
    assert_eq!(connection[0].steps[0].expect, Expect::SoapAnswer);
    let full = eioa_runner::suite(SuiteName::Full).expect("bundled suite");
    assert!(
        full.iter().all(|s| !s.fk_hosts),
        "no full-suite scenario may go to FK"
    );
}

/// The files in `fixtures/scenarios/` load from disk the same as embedded.
#[test]
fn bundled_files_on_disk_load_like_the_embedded_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scenarios");
    let disk = eioa_runner::suite::load(&dir).expect("fixtures/scenarios loads");
    let ids: Vec<String> = disk.iter().map(|s| s.id.clone()).collect();
    let embedded: Vec<String> = eioa_runner::suite(SuiteName::Connection)
        .expect("connection")
        .into_iter()
        .chain(eioa_runner::suite(SuiteName::Full).expect("full"))
        .map(|s| s.id)
        .collect();
    // Directory order: connection.toml, full.toml.
    assert_eq!(ids, embedded);
}

/// A vendor's suite: its own notification file, a generated one, text edits, and a
/// transport error expected from a server that is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_suite_from_a_directory_runs_with_its_own_expectations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let faq =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/faq/faq-example-corrected.xml");
    std::fs::copy(&faq, dir.path().join("ours.xml")).expect("copy");
    std::fs::write(
        dir.path().join("vendor.toml"),
        r#"
suite = "vendor"

[[scenario]]
id = "V01"
category = "accepted"
title = "our corrected FAQ example"
tags = ["ours"]
[[scenario.step]]
notification = { file = "ours.xml" }
expect = "accepted"

[[scenario]]
id = "V02"
category = "accepted"
title = "a generated maximal notification"
[[scenario.step]]
notification = { generator = "maximal", seed = 7 }
expect = "accepted"

[[scenario]]
id = "V03"
category = "payload"
title = "our file with the placeholder put back"
[[scenario.step]]
notification = { file = "ours.xml" }
replace = [{ from = "<organisationsnummer>", to = "<organisationsnummer>X" }]
expect = "xml-validation-error"
message = "organisationsnummer"
"#,
    )
    .expect("write suite");
    let scenarios = eioa_runner::suite::load(dir.path()).expect("vendor suite loads");
    assert_eq!(scenarios.len(), 3);
    let kit = kit();
    let (_stand_in, client, target) = in_process().await;
    let summary = run(&kit, &scenarios, &client, &target).await;
    assert_eq!(
        failed_rows(&summary),
        BTreeSet::new(),
        "{}",
        summary.to_markdown()
    );
    // The same expectation against a stand-in that is not there: a transport error.
    let gone = Target::Mock(Url::parse("http://127.0.0.1:9/shs2/x").expect("url"));
    let transport = eioa_runner::suite::parse_str(
        "t.toml",
        r#"
[[scenario]]
id = "V04"
category = "transport"
title = "nobody listens"
[[scenario.step]]
body = "hello"
expect = "transport-error"
"#,
        dir.path(),
    )
    .expect("parses");
    let summary = run(&kit, &transport, &client, &gone).await;
    assert_eq!(
        summary.outcomes[0].judgement,
        Judgement::Passed,
        "{:?}",
        summary.outcomes[0]
    );
    // …and the same file against a live stand-in fails: an answer is not a transport error.
    let summary = run(&kit, &transport, &client, &target).await;
    assert_eq!(failed_rows(&summary), ["V04".to_string()].into());
}

/// Each broken suite file gives one error naming the file, line, column and cause.
#[test]
fn broken_suite_files_are_named_with_line_column_and_cause() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/broken-suites");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("broken-suites")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 8);
    let mut out = String::new();
    for f in files {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let text = std::fs::read_to_string(&f).expect("read");
        let err = match eioa_runner::suite::parse_str(&name, &text, &dir) {
            Ok(_) => panic!("{name} must not load"),
            Err(e) => e,
        };
        out.push_str(&format!("== {name}\n{err}\n\n"));
    }
    insta::assert_snapshot!(out);
}

/// Going from the embedded set to the draft: every breaking change gives a case that
/// the draft's stand-in refuses naming the element, and the embedded one accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_derived_from_a_schema_diff_pass_on_the_new_set_and_fail_on_the_old() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schema-sets/eioa-v2-draft");
    let draft = std::sync::Arc::new(
        eioa_validate::Validator::new(
            eioa_validate::SchemaSet::from_dir(&dir).expect("draft set"),
            eioa_validate::ValidatorOptions::default(),
        )
        .expect("draft compiles"),
    );
    let kit = kit();
    let cases = eioa_runner::derive::cases(&validator(), &draft, &kit).expect("derived");
    let named: Vec<String> = cases
        .iter()
        .map(|c| c.steps[0].message.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        named,
        ["telefonnummer", "epostAnordnare", "telefonnummerAnordnare"]
    );

    let on_draft = eioa_runner::start_stand_in(draft.clone(), &kit).await;
    let client = Client::new(ClientConfig {
        extra_roots: vec![kit.pki.ca_cert_der().to_vec().into()],
        use_system_roots: false,
        ..ClientConfig::default()
    })
    .expect("client");
    let target = Target::Mock(Url::parse(&on_draft.endpoint_url()).expect("url"));
    let summary = eioa_runner::run(
        &cases,
        &kit,
        &client,
        &target,
        &draft,
        eioa_runner::RunOptions::default(),
        |_| {},
    )
    .await
    .expect("the gate lets it through");
    assert_eq!(
        failed_rows(&summary),
        BTreeSet::new(),
        "{}",
        summary.to_markdown()
    );

    let (_old, client, target) = in_process().await;
    let summary = run(&kit, &cases, &client, &target).await;
    assert_eq!(failed_rows(&summary).len(), 3, "{}", summary.to_markdown());
}

#[test]
fn an_id_defined_in_two_files_of_a_directory_names_both_places() {
    let dir = tempfile::tempdir().expect("temp dir");
    let one = "[[scenario]]\nid = \"V01\"\ncategory = \"accepted\"\ntitle = \"t\"\n[[scenario.step]]\nnotification = { class = \"anordnare-inom-ees\" }\nexpect = \"accepted\"\n";
    std::fs::write(dir.path().join("a.toml"), one).expect("write");
    std::fs::write(dir.path().join("b.toml"), format!("# another\n\n{one}")).expect("write");
    let err = eioa_runner::suite::load(dir.path())
        .expect_err("duplicate id")
        .to_string();
    assert!(
        err.contains("b.toml:4:1: scenario id `V01` is also defined in"),
        "{err}"
    );
    assert!(err.contains("a.toml:2"), "{err}");
}
