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
    // Cases derived from the diff run on the newer set, with their own report.
    for case in ["D01", "D02", "D03"] {
        assert!(out.contains(&format!("pass  {case} ")), "{out}");
    }
    assert!(
        out.contains("a notification without epostAnordnare"),
        "{out}"
    );
    assert_eq!(out.matches("report: ").count(), 3, "{out}");
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

/// Every `eioa` command line in a shell snippet: continuations joined, split at
/// `&&`, `||`, `;` and `|`, as token lists starting with `eioa`.
fn eioa_commands(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        for seg in line.split(['|', ';', '&']) {
            let tokens: Vec<String> = seg.split_whitespace().map(str::to_string).collect();
            if tokens.first().map(String::as_str) == Some("eioa") {
                out.push(tokens);
            }
        }
    }
    out
}

fn yaml_strings(y: &yaml_rust2::Yaml, key_wanted: bool, out: &mut Vec<String>) {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                let wanted = matches!(k.as_str(), Some("run" | "script" | "before_script"));
                yaml_strings(v, wanted, out);
            }
        }
        Yaml::Array(a) => a.iter().for_each(|v| yaml_strings(v, key_wanted, out)),
        Yaml::String(s) if key_wanted => out.push(s.clone()),
        _ => {}
    }
}

/// Checks one command line against the binary's `--help`: the subcommand exists, and
/// so does every flag it passes.
fn check_against_help(cmd: &[String], source: &str) {
    let mut path: Vec<String> = Vec::new();
    let mut help = text(&eioa(&["--help"]).stdout);
    for t in cmd.iter().skip(1).take_while(|t| !t.starts_with('-')) {
        let listed = help
            .split("Commands:")
            .nth(1)
            .is_some_and(|cmds| cmds.lines().any(|l| l.split_whitespace().next() == Some(t)));
        if !listed {
            break;
        }
        path.push(t.clone());
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let o = eioa(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{source}: `eioa {}`",
            path.join(" ")
        );
        help = text(&o.stdout);
    }
    assert!(
        !path.is_empty() || cmd.get(1).is_some_and(|f| f.starts_with('-')),
        "{source}: `{}` names no eioa subcommand",
        cmd.join(" ")
    );
    for flag in cmd.iter().filter(|t| t.starts_with("--")) {
        let name = flag.split('=').next().unwrap_or(flag);
        assert!(
            help.contains(&format!("{name} "))
                || help.contains(&format!("{name}\n"))
                || help.contains(&format!("{name}=")),
            "{source}: `eioa {}` has no flag {name}",
            path.join(" ")
        );
    }
}

#[test]
fn ci_recipes_parse_and_call_only_commands_and_flags_that_exist() {
    let dir = super::root().join("docs/ci");
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let src = std::fs::read_to_string(dir.join(file)).expect(file);
        let docs = yaml_rust2::YamlLoader::load_from_str(&src)
            .unwrap_or_else(|e| panic!("{file} is not YAML: {e}"));
        let mut scripts = Vec::new();
        for d in &docs {
            yaml_strings(d, false, &mut scripts);
        }
        for s in scripts {
            for c in eioa_commands(&s) {
                commands.push((file.to_string(), c));
            }
        }
    }
    let docker = std::fs::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
    for c in eioa_commands(&docker) {
        commands.push(("Dockerfile".into(), c));
    }
    // ENTRYPOINT ["eioa"] with CMD ["--help"] runs `eioa --help`.
    assert!(
        docker.contains("ENTRYPOINT [\"eioa\"]"),
        "the image runs eioa"
    );
    let files: std::collections::BTreeSet<&str> =
        commands.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files.len(), 3, "every recipe calls eioa: {files:?}");
    assert!(commands.len() >= 12, "{commands:?}");
    for (file, c) in &commands {
        check_against_help(c, file);
    }
}

#[test]
fn the_recipe_check_catches_a_flag_that_does_not_exist() {
    let cmds = eioa_commands("eioa validate out/ --schema-set a,b && eioa run --no-such-flag");
    assert_eq!(cmds.len(), 2);
    check_against_help(&cmds[0], "inline");
    let bad = std::panic::catch_unwind(|| check_against_help(&cmds[1], "inline"));
    assert!(bad.is_err(), "--no-such-flag must be refused");
    let bad = std::panic::catch_unwind(|| {
        check_against_help(&["eioa".into(), "frobnicate".into()], "inline")
    });
    assert!(bad.is_err(), "an unknown subcommand must be refused");
}
