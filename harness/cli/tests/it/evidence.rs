//! `eioa evidence verify DIR`: exit 0 when the directory is as signed, 1 when not, naming the
//! file and the signer.

use std::path::Path;
use std::process::Command;

use super::{eioa, text};

/// A directory of four report files signed with a fresh RSA identity made by openssl.
fn signed_dir(tmp: &Path) -> (std::path::PathBuf, String) {
    let key = tmp.join("client.key.pem");
    let cert = tmp.join("client.pem");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-nodes", "-days", "30", "-newkey", "rsa:2048",
        ])
        .args(["-subj", "/CN=Testleverantoren AB/C=SE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = eioa_client::Identity::from_pem_files(&cert, &key, None).unwrap();
    let dir = tmp.join("report");
    std::fs::create_dir(&dir).unwrap();
    let files = ["summary.json", "report.md", "junit.xml", "report.html"];
    for f in files {
        std::fs::write(dir.join(f), format!("contents of {f}\n")).unwrap();
    }
    let ev = eioa_report::evidence::sign(&dir, &files, &id.certified_key()).unwrap();
    std::fs::write(dir.join(eioa_report::evidence::EVIDENCE_FILE), ev.to_json()).unwrap();
    (dir, id.cert_sha256().to_owned())
}

#[test]
fn verify_exits_0_when_intact_and_1_when_a_file_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, sha) = signed_dir(tmp.path());
    let d = dir.to_str().unwrap();

    let out = eioa(&["evidence", "verify", d]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("signed by   CN=Testleverantoren AB, C=SE"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&sha),
        "the fingerprint to compare is printed"
    );
    assert!(stdout.contains("intact"));

    std::fs::write(dir.join("report.html"), "edited\n").unwrap();
    let out = eioa(&["evidence", "verify", d]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("CHANGED   report.html"), "{stdout}");
    assert!(stdout.contains("TAMPERED"));
}

#[test]
fn verify_of_a_missing_directory_is_an_error_not_a_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = eioa(&["evidence", "verify", missing.to_str().unwrap()]);
    let code = out.status.code().unwrap();
    assert!(code >= 2, "exit {code}");
    assert!(text(&out.stderr).contains("not a directory"));
}
