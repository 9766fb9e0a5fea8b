//! ARCHITECTURE.md's invariants that a test can check from the outside: which crate
//! may link libxml2, which may touch sockets, and that every rule is documented.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each workspace member's normal (not dev, not build) dependencies, by package name.
fn normal_dependencies() -> BTreeMap<String, (PathBuf, BTreeSet<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut map = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        let dir = Path::new(p["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap()
            .to_path_buf();
        map.insert(p["name"].as_str().unwrap().to_string(), (dir, deps));
    }
    assert!(
        map.len() >= 10,
        "only {} workspace members found",
        map.len()
    );
    map
}

/// Every `.rs` file under a crate's `src/` (tests and benches are test support).
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

/// Lines that use an item, ignoring comments.
fn code_mentions(text: &str, needles: &[&str]) -> Vec<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .map(str::to_string)
        .collect()
}

#[test]
fn only_eioa_validate_knows_libxml2() {
    for (name, (dir, deps)) in normal_dependencies() {
        if name == "eioa-validate" {
            assert!(
                deps.contains("libxml"),
                "eioa-validate no longer uses libxml"
            );
            continue;
        }
        assert!(!deps.contains("libxml"), "{name} depends on libxml");
        for (file, text) in sources(&dir) {
            let hits = code_mentions(&text, &["libxml::", "use libxml"]);
            assert!(hits.is_empty(), "{} uses libxml2: {hits:?}", file.display());
        }
    }
}

#[test]
fn only_the_client_and_the_stand_in_touch_sockets() {
    // eioa-browser-test drives a chromedriver on loopback for the browser tests; it is
    // a dev-dependency only (checked below). eioa-console is the local web console: it
    // serves HTTP (on loopback unless told otherwise) and holds no judging logic.
    let allowed = [
        "eioa-client",
        "eioa-mock-server",
        "eioa-browser-test",
        "eioa-console",
    ];
    let network_crates = [
        "reqwest",
        "hyper",
        "hyper-util",
        "tokio-rustls",
        "socket2",
        "wiremock",
        "fantoccini",
    ];
    let socket_code = [
        "std::net::TcpStream",
        "std::net::TcpListener",
        "std::net::UdpSocket",
        "tokio::net",
        "TcpStream::connect",
        "TcpListener::bind",
        "UdpSocket::bind",
        "reqwest::",
        "hyper::",
        "socket2::",
        "wiremock::",
    ];
    let all = normal_dependencies();
    for (name, (dir, deps)) in &all {
        if allowed.contains(&name.as_str()) {
            continue;
        }
        let net: Vec<_> = network_crates
            .iter()
            .filter(|c| deps.contains(**c))
            .collect();
        assert!(net.is_empty(), "{name} depends on {net:?}");
        for (file, text) in sources(dir) {
            let hits = code_mentions(&text, &socket_code);
            assert!(
                hits.is_empty(),
                "{} touches sockets: {hits:?}",
                file.display()
            );
        }
        assert!(
            !deps.contains("eioa-browser-test"),
            "{name} uses the browser test support outside its tests"
        );
    }
}

#[test]
fn every_validation_rule_is_documented_and_listed() {
    let rules_md = std::fs::read_to_string(workspace().join("docs/rules.md")).unwrap();
    for r in eioa_validate::rules::RULES {
        assert!(
            rules_md.contains(&format!("## {}", r.id)),
            "{} is not in docs/rules.md",
            r.id
        );
    }
    let out = assert_cmd_rules_json();
    assert_eq!(out.len(), eioa_validate::rules::RULES.len());
}

/// `eioa rules --format json` lists exactly the rule table.
fn assert_cmd_rules_json() -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_eioa"))
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
}
