//! Suite files, tx-id fixtures and schema-set matrices through the real binary.

use super::{eioa, text};

#[test]
fn run_list_gives_the_bundled_suite_from_its_file() {
    let o = eioa(&["run", "--list"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let ids: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 32, "{out}");
    assert_eq!(ids.first(), Some(&"A01"));
    assert_eq!(ids.last(), Some(&"T03"));
    let o = eioa(&[
        "run",
        "--list",
        "--suite",
        "fixtures/scenarios/connection.toml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("C01 "), "{}", text(&o.stdout));
}

#[test]
fn a_broken_suite_file_is_a_usage_error_with_its_line() {
    let o = eioa(&[
        "run",
        "--suite",
        "harness/runner/tests/it/broken-suites/unknown-expect.toml",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown-expect.toml:7:10: unknown variant `tx-id`"),
        "{err}"
    );
    let o = eioa(&["run", "--suite", "no/such/suite.toml"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}

#[test]
fn schema_diff_between_the_embedded_and_the_draft_set() {
    let o = eioa(&[
        "schema",
        "diff",
        "eioa-v1",
        "fixtures/schema-sets/eioa-v2-draft",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let kinds: Vec<&str> = v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["pattern", "element-added", "pattern"]);
    let o = eioa(&["schema", "diff", "eioa-v1", "eioa-v1"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

#[test]
fn validate_with_two_schema_sets_gives_a_matrix() {
    let o = eioa(&[
        "validate",
        "--schema-set",
        "eioa-v1,fixtures/schema-sets/eioa-v2-draft",
        "--format",
        "json",
        "fixtures/faq/faq-example-corrected.xml",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        v["schema_sets"],
        serde_json::json!(["eioa-v1", "eioa-v2-draft"])
    );
    let cells = &v["rows"][0]["cells"];
    assert_eq!(cells[0]["passed"], true);
    assert_eq!(cells[1]["passed"], false);
    assert_eq!(cells[1]["detail"], "EIOA-S001");
}

#[test]
fn run_with_two_schema_sets_gives_a_matrix_and_a_report_per_set() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let o = eioa(&[
        "run",
        "--scenario",
        "A01,T03",
        "--schema-set",
        "eioa-v1,fixtures/schema-sets/eioa-v2-draft",
        "--out",
        tmp.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let a01 = out.lines().find(|l| l.starts_with("A01 ")).unwrap_or("");
    assert!(
        a01.contains("pass") && a01.contains("FAIL") && a01.contains("epostAnordnare"),
        "{out}"
    );
    let t03 = out.lines().find(|l| l.starts_with("T03 ")).unwrap_or("");
    assert!(!t03.contains("FAIL"), "{out}");
    assert_eq!(out.matches("report: ").count(), 2, "{out}");
}

#[test]
fn committed_fixtures_replay_and_a_new_one_is_taken_from_a_report() {
    let o = eioa(&["replay", "fixtures/tx"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout)
        .lines()
        .all(|l| l.starts_with("PASSES") || l.starts_with("FIXED")));

    let tmp = tempfile::tempdir().expect("temp dir");
    let reports = tmp.path().join("reports");
    let r = reports.to_str().expect("utf-8");
    // A redacted report no longer holds what was sent.
    let o = eioa(&["run", "--scenario", "P06", "--out", r]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let id = |dir: &std::path::Path| -> String {
        let s: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join("latest/summary.json")).expect("summary"),
        )
        .expect("json");
        s["outcomes"][0]["exchange_id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let redacted = id(&reports);
    let fx = tmp.path().join("tx");
    let f = fx.to_str().expect("utf-8");
    let o = eioa(&["fixture", "add", &redacted, "--reports", r, "--out", f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("redacted"), "{}", text(&o.stderr));

    let o = eioa(&["run", "--scenario", "P06", "--unredacted", "--out", r]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let kept = id(&reports);
    let o = eioa(&["fixture", "add", &kept, "--reports", r, "--out", f]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = eioa(&["replay", &kept, "--fixtures", f]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout).starts_with("PASSES"), "{}", text(&o.stdout));
    // Taking it twice would overwrite the fixture: refused.
    let o = eioa(&["fixture", "add", &kept, "--reports", r, "--out", f]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}
