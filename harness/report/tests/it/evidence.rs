//! The evidence file: verification passes on an untouched directory and names every change;
//! the signature is checked independently with the openssl CLI.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use eioa_report::connect::{self, Lang};
use eioa_report::evidence::{self, Evidence, FileState, EVIDENCE_FILE};

use crate::fixtures;

/// A report directory written and signed by a fresh `kind` identity.
fn signed(kind: &str) -> (tempfile::TempDir, eioa_client::Identity) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let id = fixtures::identity(&keys, kind);
    let out = dir.path().join("report");
    let test = fixtures::answered(id.cert_sha256());
    let w = connect::write(&out, &test, Lang::En, Some(&id)).unwrap();
    assert_eq!(w.evidence, Some(out.join(EVIDENCE_FILE)));
    (dir, id)
}

fn report(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("report")
}

fn read_evidence(dir: &Path) -> Evidence {
    serde_json::from_slice(&std::fs::read(dir.join(EVIDENCE_FILE)).unwrap()).unwrap()
}

fn state(v: &evidence::Verification, name: &str) -> FileState {
    v.files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not in the manifest"))
        .state
        .clone()
}

#[test]
fn an_untouched_directory_verifies_and_names_the_signer() {
    for kind in ["rsa", "p256", "p384"] {
        let (tmp, id) = signed(kind);
        let trust = evidence::Trust {
            fingerprints: vec![id.cert_sha256().to_owned()],
            ..Default::default()
        };
        let v = evidence::verify_with(&report(&tmp), &trust).unwrap();
        assert!(v.intact(), "{kind}: {}", v.render());
        assert_eq!(v.verdict(), evidence::Verdict::Intact);
        let signer = v.signer.as_ref().unwrap();
        assert_eq!(signer.sha256, id.cert_sha256());
        assert!(
            signer.subject.contains(&format!("Testleverantören {kind}")),
            "{}",
            signer.subject
        );
        let expected_scheme = match kind {
            "rsa" => "RSA_PKCS1_SHA256",
            "p256" => "ECDSA_NISTP256_SHA256",
            _ => "ECDSA_NISTP384_SHA384",
        };
        assert_eq!(v.scheme.as_deref(), Some(expected_scheme));
        assert_eq!(v.files.len(), 4);
        let text = v.render();
        assert!(text.contains(id.cert_sha256()));
        assert!(
            text.ends_with("intact: the files are the ones signed, by an authenticated signer\n"),
            "{text}"
        );
    }
}

#[test]
fn one_changed_byte_is_named() {
    let (tmp, _) = signed("rsa");
    let path = report(&tmp).join("report.html");
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let v = evidence::verify(&report(&tmp)).unwrap();
    assert!(!v.intact());
    assert!(v.signature_valid, "the signature itself still holds");
    assert!(matches!(
        state(&v, "report.html"),
        FileState::Changed { .. }
    ));
    assert_eq!(state(&v, "summary.json"), FileState::Intact);
    assert!(v.render().contains("CHANGED   report.html"));
}

#[test]
fn a_deleted_file_is_named() {
    let (tmp, _) = signed("p256");
    std::fs::remove_file(report(&tmp).join("junit.xml")).unwrap();
    let v = evidence::verify(&report(&tmp)).unwrap();
    assert!(!v.intact());
    assert_eq!(state(&v, "junit.xml"), FileState::Missing);
    assert!(v.render().contains("MISSING   junit.xml"));
}

#[test]
fn an_added_file_is_named() {
    let (tmp, _) = signed("rsa");
    std::fs::write(report(&tmp).join("notes.txt"), "added later").unwrap();
    let v = evidence::verify(&report(&tmp)).unwrap();
    assert!(!v.intact());
    assert_eq!(v.added, ["notes.txt"]);
    assert!(v.files.iter().all(|f| f.state == FileState::Intact));
    assert!(v.render().contains("ADDED     notes.txt"));
}

#[test]
fn a_swapped_signature_fails() {
    // The signature of another directory (same files, another key): valid base64, valid shape,
    // wrong signer.
    let (tmp, _) = signed("rsa");
    let (other, _) = signed("rsa");
    let mut ev = read_evidence(&report(&tmp));
    ev.signature = read_evidence(&report(&other)).signature;
    std::fs::write(report(&tmp).join(EVIDENCE_FILE), ev.to_json()).unwrap();
    let v = evidence::verify(&report(&tmp)).unwrap();
    assert!(!v.intact());
    assert!(!v.signature_valid);
    assert!(v.render().contains("signature   INVALID"));
}

#[test]
fn an_edited_manifest_fails_the_signature() {
    // Edit a file and write its new hash into the manifest: the hashes agree, the signature
    // does not.
    let (tmp, _) = signed("p384");
    let dir = report(&tmp);
    std::fs::write(dir.join("report.md"), "# all good\n").unwrap();
    let mut ev = read_evidence(&dir);
    let new = evidence::manifest(
        &dir,
        &["summary.json", "report.md", "junit.xml", "report.html"],
    )
    .unwrap();
    assert_ne!(new, ev.manifest);
    ev.manifest = new;
    std::fs::write(dir.join(EVIDENCE_FILE), ev.to_json()).unwrap();
    let v = evidence::verify(&dir).unwrap();
    assert!(v.files.iter().all(|f| f.state == FileState::Intact));
    assert!(!v.signature_valid);
    assert!(!v.intact());
}

#[test]
fn re_signing_with_another_key_is_caught() {
    // Someone edits the report and signs it again with their own key: the signature holds, but
    // the report names a different client certificate than the signer's.
    let (tmp, _) = signed("rsa");
    let dir = report(&tmp);
    let keys = tmp.path().join("other");
    std::fs::create_dir(&keys).unwrap();
    let forger = fixtures::identity(&keys, "rsa");
    std::fs::write(dir.join("report.md"), "# all good\n").unwrap();
    let ev = evidence::sign(
        &dir,
        &["summary.json", "report.md", "junit.xml", "report.html"],
        &forger.certified_key(),
    )
    .unwrap();
    std::fs::write(dir.join(EVIDENCE_FILE), ev.to_json()).unwrap();
    let v = evidence::verify(&dir).unwrap();
    assert!(v.signature_valid);
    assert!(!v.intact());
    assert!(
        v.render().contains("not the one that signed"),
        "{}",
        v.render()
    );
}

#[test]
fn missing_or_broken_evidence_is_not_intact() {
    let (tmp, _) = signed("rsa");
    let dir = report(&tmp);
    std::fs::write(dir.join(EVIDENCE_FILE), "{ not json").unwrap();
    let v = evidence::verify(&dir).unwrap();
    assert!(!v.intact());
    assert!(v.render().contains("cannot be read"));
    std::fs::remove_file(dir.join(EVIDENCE_FILE)).unwrap();
    let v = evidence::verify(&dir).unwrap();
    assert!(!v.intact());
    assert!(v.render().contains("evidence.json is missing"));
    assert!(evidence::verify(&tmp.path().join("nope")).is_err());
}

#[test]
fn a_manifest_cannot_reach_outside_the_directory() {
    let (tmp, _) = signed("rsa");
    let dir = report(&tmp);
    let mut ev = read_evidence(&dir);
    ev.manifest
        .push_str(&format!("{}  ../keys/rsa.key.pem\n", "0".repeat(64)));
    std::fs::write(dir.join(EVIDENCE_FILE), ev.to_json()).unwrap();
    let v = evidence::verify(&dir).unwrap();
    assert!(!v.intact());
    assert!(v.files.iter().all(|f| !f.name.contains("..")));
    assert!(
        v.problems.iter().any(|p| p.contains("manifest line 5")),
        "{:?}",
        v.problems
    );
}

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs")
}

/// The signature and the hashes checked by tools that share no code with ours: openssl for the
/// signature, sha256sum for the manifest.
#[test]
fn openssl_and_sha256sum_agree() {
    for (kind, digest) in [("rsa", "-sha256"), ("p256", "-sha256"), ("p384", "-sha384")] {
        let (tmp, _) = signed(kind);
        let dir = report(&tmp);
        let ev = read_evidence(&dir);
        let work = tmp.path().join("openssl");
        std::fs::create_dir(&work).unwrap();
        std::fs::write(work.join("manifest"), &ev.manifest).unwrap();
        std::fs::write(work.join("cert.pem"), &ev.certificate).unwrap();
        std::fs::write(
            work.join("sig.bin"),
            base64::engine::general_purpose::STANDARD
                .decode(&ev.signature)
                .unwrap(),
        )
        .unwrap();
        let out = openssl(
            &[
                "x509",
                "-in",
                "cert.pem",
                "-pubkey",
                "-noout",
                "-out",
                "pubkey.pem",
            ],
            &work,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verify = |file: &str| {
            openssl(
                &[
                    "dgst",
                    digest,
                    "-verify",
                    "pubkey.pem",
                    "-signature",
                    "sig.bin",
                    file,
                ],
                &work,
            )
        };
        let out = verify("manifest");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
            "{kind}: openssl: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The same check fails on a manifest one byte off: the cross-check can fail.
        let mut bad = ev.manifest.clone().into_bytes();
        bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
        std::fs::write(work.join("manifest.bad"), bad).unwrap();
        let out = verify("manifest.bad");
        assert!(
            !out.status.success(),
            "{kind}: openssl accepted a changed manifest"
        );

        let out = Command::new("sha256sum")
            .args(["--check", "--strict", "-"])
            .current_dir(&dir)
            .stdin(std::fs::File::open(work.join("manifest")).unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sha256sum: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).matches(": OK").count(),
            4
        );
    }
}

/// The signature covers the fixed PKCS#1 v1.5 encoding: for RSA, signing twice gives the same
/// bytes (deterministic), and openssl's own signature over the manifest with the same key is
/// byte-for-byte ours.
#[test]
fn rsa_signature_equals_openssls() {
    let (tmp, _) = signed("rsa");
    let dir = report(&tmp);
    let ev = read_evidence(&dir);
    let work = tmp.path().join("keys");
    std::fs::write(work.join("manifest"), &ev.manifest).unwrap();
    let out = openssl(
        &[
            "dgst",
            "-sha256",
            "-sign",
            "rsa.key.pem",
            "-out",
            "theirs.bin",
            "manifest",
        ],
        &work,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = std::fs::read(work.join("theirs.bin")).unwrap();
    let ours = base64::engine::general_purpose::STANDARD
        .decode(&ev.signature)
        .unwrap();
    assert_eq!(ours, theirs);
}
