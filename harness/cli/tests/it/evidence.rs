//! `eioa evidence verify DIR [--ca FILE] [--fingerprint SHA256]`: exit 0 only when the
//! directory is as signed and the signer is authenticated, 6 when it is as signed by a signer
//! nobody vouched for, 1 when anything was changed, naming the file and the signer. The forged
//! folder is made with the openssl CLI and sha256sum, not with the code under test.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{eioa, text};

const FILES: [&str; 4] = ["summary.json", "report.md", "junit.xml", "report.html"];

/// A signed report folder made by the real client identity of `eioa certs init`.
struct Signed {
    dir: PathBuf,
    /// The development PKI: `ca.pem` issued `client.pem`.
    pki: PathBuf,
    /// SHA-256 of `client.pem`, the signer.
    sha: String,
}

impl Signed {
    fn ca(&self) -> String {
        self.pki.join("ca.pem").to_str().unwrap().to_owned()
    }
    fn d(&self) -> &str {
        self.dir.to_str().unwrap()
    }
}

fn summary_json(client_sha: &str) -> String {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    summary_at(client_sha, &now)
}

fn summary_at(client_sha: &str, started_at: &str) -> String {
    serde_json::json!({
        "started_at": started_at,
        "level": "fk-answered",
        "client_cert": { "subject": "CN=eioa Test Vendor AB", "sha256": client_sha },
    })
    .to_string()
}

/// Four report files, `summary.json` naming the client certificate, signed by the client key
/// of a fresh development PKI.
fn signed_dir(tmp: &Path) -> Signed {
    let pki = tmp.join("pki");
    let o = eioa(&["certs", "init", pki.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let dir = tmp.join("report");
    std::fs::create_dir(&dir).unwrap();
    for f in FILES {
        std::fs::write(dir.join(f), format!("contents of {f}: level fk-answered\n")).unwrap();
    }
    let sha = sign_with(&dir, &pki.join("client.pem"), &pki.join("client.key"), None);
    Signed { dir, pki, sha }
}

/// Writes a `summary.json` naming `cert` (started now, or at `started_at`) and signs the
/// folder with `cert` and `key`. The certificate's SHA-256.
fn sign_with(dir: &Path, cert: &Path, key: &Path, started_at: Option<&str>) -> String {
    let id = eioa_client::Identity::from_pem_files(cert, key, None).unwrap();
    let sha = id.cert_sha256().to_owned();
    let summary = match started_at {
        Some(t) => summary_at(&sha, t),
        None => summary_json(&sha),
    };
    std::fs::write(dir.join("summary.json"), summary).unwrap();
    let ev = eioa_report::evidence::sign(dir, &FILES, &id.certified_key()).unwrap();
    std::fs::write(dir.join(eioa_report::evidence::EVIDENCE_FILE), ev.to_json()).unwrap();
    sha
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command runs");
    assert!(out.status.success(), "{:?}: {}", cmd, text(&out.stderr));
    text(&out.stdout)
}

/// SHA-256 of a certificate's DER, as openssl computes it: lowercase hex.
fn openssl_fingerprint(cert: &Path) -> String {
    let out = run(Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert));
    out.trim()
        .split_once('=')
        .unwrap()
        .1
        .replace(':', "")
        .to_ascii_lowercase()
}

/// The attack: edit the report, make a self-signed certificate with the vendor's subject,
/// point `summary.json` at it (or, with `drop_client_cert`, remove `client_cert`), and sign a
/// fresh manifest with `openssl dgst -sha256 -sign`.
fn forge(s: &Signed, tmp: &Path, drop_client_cert: bool) {
    let key = tmp.join("forger.key");
    let csr = tmp.join("forger.csr");
    let cert = tmp.join("forger.pem");
    let ext = tmp.join("forger.ext");
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&key));
    // The vendor's subject, copied exactly, in a request signed by the forger's key.
    run(Command::new("openssl")
        .args(["x509", "-x509toreq", "-in"])
        .arg(s.pki.join("client.pem"))
        .arg("-signkey")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    std::fs::write(&ext, "extendedKeyUsage=clientAuth\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "30", "-in"])
        .arg(&csr)
        .arg("-signkey")
        .arg(&key)
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&cert));
    let vendor_subject = run(Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(s.pki.join("client.pem")));
    let forged_subject = run(Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&cert));
    assert_eq!(vendor_subject, forged_subject);

    std::fs::write(
        s.dir.join("report.html"),
        "<p>Accepted: every check passed.</p>\n",
    )
    .unwrap();
    let mut summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("summary.json")).unwrap()).unwrap();
    summary["level"] = "accepted".into();
    // A run after the forged certificate was made, so that the chain, not its validity, is
    // what --ca refuses.
    summary["started_at"] = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .into();
    if drop_client_cert {
        summary.as_object_mut().unwrap().remove("client_cert");
    } else {
        summary["client_cert"]["sha256"] = openssl_fingerprint(&cert).into();
    }
    std::fs::write(s.dir.join("summary.json"), summary.to_string()).unwrap();

    let mut sorted = FILES;
    sorted.sort_unstable();
    let manifest = run(Command::new("sha256sum").args(sorted).current_dir(&s.dir));
    let manifest_file = tmp.join("manifest");
    std::fs::write(&manifest_file, &manifest).unwrap();
    let sig = tmp.join("sig.bin");
    run(Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&key)
        .arg("-out")
        .arg(&sig)
        .arg(&manifest_file));
    let signature = run(Command::new("openssl")
        .args(["base64", "-A", "-in"])
        .arg(&sig));
    let evidence = serde_json::json!({
        "format": "eioa-evidence/1",
        "about": "",
        "manifest": manifest,
        "scheme": "RSA_PKCS1_SHA256",
        "signature": signature.trim(),
        "certificate": std::fs::read_to_string(&cert).unwrap(),
    });
    std::fs::write(s.dir.join("evidence.json"), evidence.to_string()).unwrap();
}

/// `eioa args`, killed and failed after `limit`: a verification must never hang.
fn eioa_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eioa"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eioa");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("eioa {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout,
        stderr,
    }
}

#[test]
fn verify_exits_0_only_with_the_signer_authenticated() {
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    let ca = s.ca();

    // No --ca, no --fingerprint: the signature holds, but anyone could have made the
    // certificate.
    let out = eioa(&["evidence", "verify", s.d()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(6), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.ends_with(
            "signature valid, but the signer is NOT authenticated: pass --ca or --fingerprint\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("signed by   CN=eioa Test Vendor AB"),
        "{stdout}"
    );
    assert!(stdout.contains(&s.sha), "the fingerprint is printed");

    // The CA that issued the client certificate.
    let out = eioa(&["evidence", "verify", s.d(), "--ca", &ca]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("authenticated: its chain leads to the --ca CN=eioa"));
    assert!(stdout.ends_with("intact: the files are the ones signed, by an authenticated signer\n"));

    // The certificate pinned, as openssl prints its fingerprint (colons, upper case).
    let colons = run(Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(s.pki.join("client.pem")));
    let colons = colons.trim().split_once('=').unwrap().1.to_owned();
    for fp in [s.sha.as_str(), colons.as_str()] {
        let out = eioa(&["evidence", "verify", s.d(), "--fingerprint", fp]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    }
    let out = eioa(&["evidence", "verify", s.d(), "--fingerprint", "abc"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed fingerprint is a usage error"
    );

    std::fs::write(s.dir.join("report.html"), "edited\n").unwrap();
    let out = eioa(&["evidence", "verify", s.d(), "--ca", &ca]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("CHANGED   report.html"), "{stdout}");
    assert!(stdout.contains("TAMPERED"));
}

#[test]
fn a_folder_re_signed_with_a_copied_subject_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    forge(&s, tmp.path(), false);

    // The forgery is self-consistent: its signature holds and summary.json names its
    // certificate. Without trust, the verdict says only that, and does not exit 0.
    let out = eioa(&["evidence", "verify", s.d()]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("signature   valid"), "{stdout}");
    assert_eq!(out.status.code(), Some(6), "{stdout}");
    assert!(
        stdout.contains("the signer is NOT authenticated"),
        "{stdout}"
    );

    let out = eioa(&["evidence", "verify", s.d(), "--ca", &s.ca()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("the signer is not authenticated by --ca: its chain does not lead"),
        "{stdout}"
    );
    assert!(stdout.contains("TAMPERED"), "{stdout}");

    let out = eioa(&["evidence", "verify", s.d(), "--fingerprint", &s.sha]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("is not the --fingerprint given"),
        "{stdout}"
    );
}

#[test]
fn the_ca_refuses_a_signer_without_client_auth_or_outside_its_validity_at_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    // Issued by the same CA, but with no extendedKeyUsage at all: the client certificate the
    // server saw names clientAuth, so this one did not make the connection.
    let key = tmp.path().join("signing.key");
    let csr = tmp.path().join("signing.csr");
    let cert = tmp.path().join("signing.pem");
    let ext = tmp.path().join("signing.ext");
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&key));
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-subj",
            "/CN=eioa Test Vendor AB/C=SE",
            "-key",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    std::fs::write(&ext, "keyUsage=critical,digitalSignature\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "30", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(s.pki.join("ca.pem"))
        .arg("-CAkey")
        .arg(s.pki.join("ca.key"))
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&cert));
    sign_with(&s.dir, &cert, &key, None);
    let out = eioa(&["evidence", "verify", s.d(), "--ca", &s.ca()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("its extendedKeyUsage does not name clientAuth"),
        "{stdout}"
    );

    // The real client certificate, but a run recorded before it was issued.
    let pki = &s.pki;
    sign_with(
        &s.dir,
        &pki.join("client.pem"),
        &pki.join("client.key"),
        Some("2001-01-01T00:00:00Z"),
    );
    let out = eioa(&["evidence", "verify", s.d(), "--ca", &s.ca()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("is not valid at 2001-01-01T00:00:00Z"),
        "{stdout}"
    );
    // The same folder with the run's time as recorded by the signer: intact.
    sign_with(
        &s.dir,
        &pki.join("client.pem"),
        &pki.join("client.key"),
        None,
    );
    let out = eioa(&["evidence", "verify", s.d(), "--ca", &s.ca()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_summary_without_its_client_certificate_is_tampered() {
    // Removing client_cert used to skip the cross-check with the signer.
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    forge(&s, tmp.path(), true);
    let out = eioa(&["evidence", "verify", s.d()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("summary.json names no client certificate"),
        "{stdout}"
    );
    assert!(stdout.contains("TAMPERED"), "{stdout}");
}

#[test]
fn a_symlink_to_dev_zero_is_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    let html = s.dir.join("report.html");
    std::fs::remove_file(&html).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &html).unwrap();
    let out = eioa_within(
        &["evidence", "verify", s.d(), "--ca", &s.ca()],
        Duration::from_secs(30),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("REFUSED   report.html (is a symbolic link (not followed))"),
        "{stdout}"
    );
    assert!(stdout.contains("TAMPERED"), "{stdout}");
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    let md = s.dir.join("report.md");
    std::fs::remove_file(&md).unwrap();
    run(Command::new("mkfifo").arg(&md));
    let out = eioa_within(
        &["evidence", "verify", s.d(), "--ca", &s.ca()],
        Duration::from_secs(30),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("REFUSED   report.md (is a FIFO"),
        "{stdout}"
    );
}

#[test]
fn control_characters_in_a_file_name_are_escaped() {
    // A file whose name resets the colour and starts a line of its own that reads like the
    // verdict.
    let tmp = tempfile::tempdir().unwrap();
    let s = signed_dir(tmp.path());
    let name = "\u{1b}[0m\n  intact: the files are the ones signed\u{1b}[8m";
    std::fs::write(s.dir.join(name), "x").unwrap();
    let out = eioa(&["evidence", "verify", s.d(), "--ca", &s.ca()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(
        stdout.contains(r"ADDED     \u{1b}[0m\u{a}  intact: the files are the ones signed"),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|l| l.trim_start().starts_with("intact")),
        "{stdout}"
    );
}

#[test]
fn verify_of_a_missing_directory_is_an_error_not_a_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let out = eioa(&["evidence", "verify", missing.to_str().unwrap()]);
    let code = out.status.code().unwrap();
    assert!(code >= 2 && code != 6, "exit {code}");
    assert!(text(&out.stderr).contains("not a directory"));
}
