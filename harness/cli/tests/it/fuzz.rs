//! `eioa fuzz --shard I/N` and `eioa fuzz merge`: a CI matrix runs one shard per job,
//! and the merge is the one run.

use super::{eioa_in, text};

#[test]
fn sharded_fuzz_runs_merge_into_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| eioa_in(d, args, None);
    let regressions = d.join("regressions");
    let common = [
        "fuzz",
        "--seed",
        "3",
        "--cases",
        "80",
        "--threads",
        "1",
        "--regressions-dir",
        regressions.to_str().unwrap(),
    ];
    let whole = run(&[&common[..], &["--summary-json", "whole.json"]].concat());
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stderr));
    for (i, name) in [(1, "a.json"), (2, "b.json"), (3, "c.json")] {
        let shard = format!("{i}/3");
        let o = run(&[&common[..], &["--shard", &shard, "--summary-json", name]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(text(&o.stdout).contains(&format!("shard {shard}: cases")));
    }
    let merged = run(&[
        "fuzz",
        "merge",
        "c.json",
        "a.json",
        "b.json",
        "--summary-json",
        "m.json",
    ]);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
    assert!(
        text(&merged.stdout).contains("3 shard(s), 80 of 80 cases (covered 0..80)"),
        "{}",
        text(&merged.stdout)
    );
    // The merged summary is the whole run's, class by class.
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join(f)).unwrap()).unwrap()
    };
    assert_eq!(read("m.json")["per_class"], read("whole.json")["per_class"]);
    assert_eq!(read("m.json")["covered"], read("whole.json")["covered"]);

    // A missing shard is a finding; the same shard twice is refused.
    let partial = run(&["fuzz", "merge", "a.json", "c.json"]);
    assert_eq!(partial.status.code(), Some(1));
    assert!(text(&partial.stdout).contains("incomplete"));
    let twice = run(&["fuzz", "merge", "a.json", "a.json"]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        text(&twice.stderr).contains("covered twice"),
        "{}",
        text(&twice.stderr)
    );

    // --shard needs the case space it splits.
    let no_cases = run(&["fuzz", "--shard", "1/2"]);
    assert_eq!(no_cases.status.code(), Some(2));
}
