//! Canonical forms of long runs of 2-, 3- and 4-byte UTF-8 characters, at every
//! offset around the chunks libxml2 writes in, against `fixtures/c14n/multibyte.tsv`
//! (SHA-256s computed by lxml and PHP; `fixtures/c14n/multibyte.py` has the
//! commands). A canonical form converted chunk by chunk turns a character split
//! across two chunks into U+FFFD, and the binding no longer matches anyone else's.

use eioa_validate::c14n::{canonicalize, Select};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

fn c14n_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/c14n")
}

struct Case {
    kind: String,
    run: String,
    prefix: usize,
    count: usize,
    input_sha: String,
    c14n_sha: String,
}

fn cases() -> Vec<Case> {
    let path = c14n_dir().join("multibyte.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l:?}");
            Case {
                kind: f[0].into(),
                run: f[1].into(),
                prefix: f[2].parse().unwrap(),
                count: f[3].parse().unwrap(),
                input_sha: f[4].into(),
                c14n_sha: f[5].into(),
            }
        })
        .collect()
}

/// The document `multibyte.py`'s `document()` builds for a case.
fn document(c: &Case) -> Vec<u8> {
    let s = format!("{}{}", "x".repeat(c.prefix), c.run.repeat(c.count));
    match c.kind.as_str() {
        "text" => format!("<doc>{s}</doc>"),
        "attr" => format!("<doc a=\"{s}\"/>"),
        "subtree" => format!(
            "<doc><head>{}</head><part Id=\"p\" a=\"{s}\">{s}</part></doc>",
            c.run
        ),
        other => panic!("unknown kind {other}"),
    }
    .into_bytes()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn long_multibyte_runs_canonicalise_as_lxml_and_php_do() {
    let cases = cases();
    // Every kind, every character width, every prefix 0..=7, and runs long enough to
    // cross several chunk boundaries.
    assert_eq!(cases.len(), 3 * 4 * 8 * 12);
    assert!(cases
        .iter()
        .any(|c| c.run.len() == 4 && c.count * 4 > 64_000));
    let mut failures = Vec::new();
    for c in &cases {
        let doc = document(c);
        let name = format!(
            "{} {:?}×{} after {} ASCII",
            c.kind, c.run, c.count, c.prefix
        );
        assert_eq!(
            sha(&doc),
            c.input_sha,
            "{name}: the document is not the one lxml saw"
        );
        let select = if c.kind == "subtree" {
            Select::Id("p")
        } else {
            Select::Document
        };
        match canonicalize(&doc, select) {
            Ok(ours) if sha(&ours) == c.c14n_sha => {}
            Ok(ours) => failures.push(format!(
                "{name}: {} U+FFFD in our canonical form",
                String::from_utf8_lossy(&ours).matches('\u{fffd}').count()
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from lxml and PHP, e.g.:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}

/// lxml re-derives the stored answers (the file is not trusted on its own word).
/// Skipped, loudly, where python3 has no lxml, except under CI, where
/// `scripts/setup.sh --test` has installed it (zeep brings lxml).
#[test]
fn lxml_rederives_the_multibyte_answers() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let has_lxml = Command::new(&python)
        .args(["-c", "import lxml.etree"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_lxml {
        assert!(
            std::env::var_os("CI").is_none(),
            "{python} has no lxml (scripts/setup.sh --test installs it)"
        );
        eprintln!("SKIPPED: {python} has no lxml; multibyte.tsv not re-derived");
        return;
    }
    let o = Command::new(&python)
        .arg(c14n_dir().join("multibyte.py"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The FK-shaped case: the stand-in takes a clean payload's canonical form from the
/// payload check's own pass (`Validator::validate_canonical`); for a notification
/// with long non-ASCII free text it must be the bytes lxml, PHP and the JDK made
/// (`fixtures/c14n/long-text-notification`), and the binding check must accept it.
#[test]
fn the_payload_checks_canonical_form_of_long_non_ascii_text_is_exact() {
    let dir = c14n_dir().join("long-text-notification");
    let input = std::fs::read(dir.join("input.xml")).unwrap();
    let expected = std::fs::read(dir.join("expected.c14n")).unwrap();
    let v = eioa_validate::Validator::new(
        eioa_validate::SchemaSet::embedded(),
        eioa_validate::ValidatorOptions {
            // Rules compare dates with a fixed day, so the case stays clean.
            today: Some(time::macros::date!(2026 - 11 - 26)),
            ..Default::default()
        },
    )
    .unwrap();
    let (report, canonical) = v.validate_canonical(&input);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let canonical = canonical.expect("a clean payload comes with its canonical form");
    assert!(
        canonical == expected,
        "{} U+FFFD in the one pass's canonical form",
        String::from_utf8_lossy(&canonical)
            .matches('\u{fffd}')
            .count()
    );
    let binding = std::fs::read_to_string(dir.join("expected.binding")).unwrap();
    let (id, sha) = binding.trim().split_once(',').unwrap();
    let verified = eioa_sign::Verified {
        signer_cert_der: Vec::new(),
        visible_text: String::new(),
        non_visible_data: binding.trim().to_string(),
        bindings: vec![(id.to_string(), sha.to_string())],
    };
    verified.check_binding_canonical(id, &canonical).unwrap();
    verified.check_binding(id, &input).unwrap();
}
