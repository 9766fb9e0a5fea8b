//! `eioa session` end to end with the real binaries: the mutual-TLS stand-in, a
//! session following one client certificate (its fingerprint computed by openssl),
//! `eioa send` as the vendor's system, and the four report files.

use super::{eioa, text};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sha256_of_der(pem: &Path) -> String {
    let der = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pem)
        .output()
        .expect("openssl runs");
    assert!(der.status.success(), "{}", text(&der.stderr));
    let mut sum = Command::new("openssl")
        .args(["dgst", "-sha256", "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sum.stdin.take().unwrap().write_all(&der.stdout).unwrap();
    let out = sum.wait_with_output().unwrap();
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn session_follows_one_certificate_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    let data = tmp.path().join("data");
    let o = eioa(&["certs", "init", pki.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_eioa"))
            .args(["mock-server", "--pki-dir", pki.to_str().unwrap()])
            .args(["--listen", &listen, "--pace-ms", "0", "--data-dir"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() || !data.join("admin.token").exists() {
        assert!(Instant::now() < deadline, "the stand-in did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = std::fs::metadata(data.join("admin.token")).unwrap();
    assert_eq!(token.permissions().mode() & 0o777, 0o600);

    let d = data.to_str().unwrap();
    let fingerprint = sha256_of_der(&pki.join("client.pem"));
    let o = eioa(&[
        "session",
        "start",
        "qa-cli",
        "--client-fingerprint",
        &fingerprint,
        "--data-dir",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let again = eioa(&["session", "start", "qa-other", "--data-dir", d]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("still running"),
        "{}",
        text(&again.stderr)
    );

    let url = format!("https://{listen}/shs2/FK.EIOA.AnmalanArbetsgivare.ext");
    let p = |f: &str| pki.join(f).to_str().unwrap().to_string();
    for fixture in ["egen-foretagare", "anordnare-utom-ees-narstaende"] {
        let o = eioa(&[
            "send",
            "--target",
            &url,
            "--cert",
            &p("client.pem"),
            "--key",
            &p("client.key"),
            "--ca",
            &p("ca.pem"),
            "--sign-test",
            &format!("fixtures/valid/{fixture}.xml"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        std::thread::sleep(Duration::from_millis(1100));
    }
    let status = eioa(&["session", "status", "--data-dir", d]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let s = text(&status.stdout);
    assert!(s.contains("2 exchange(s)"), "{s}");
    assert!(
        s.lines()
            .any(|l| l.contains("ON-12") && l.contains("demonstrated") && !l.contains("not yet")),
        "{s}"
    );

    let o = eioa(&["session", "end", "--data-dir", d]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = tmp.path().join("report");
    let o = eioa(&[
        "session",
        "report",
        "qa-cli",
        "--data-dir",
        d,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "not ready: {}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("not ready:"),
        "{}",
        text(&o.stdout)
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| ON-02 | Accepted: assistant outside the EEA and närstående | required | demonstrated |"), "{md}");
    assert!(md.contains("| ON-21 | Accepted: signed by both the anordnare and the assistant | required | not yet demonstrated |"), "{md}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 19, "{junit}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["session"]["client_fingerprint"], fingerprint.as_str());
    assert!(std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains("id=\"verdict\""));

    // A session following another certificate sees none of this client's exchanges.
    let other = "ab".repeat(32);
    let o = eioa(&[
        "session",
        "start",
        "qa-else",
        "--client-fingerprint",
        &other,
        "--data-dir",
        d,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = eioa(&[
        "send",
        "--target",
        &url,
        "--cert",
        &p("client.pem"),
        "--key",
        &p("client.key"),
        "--ca",
        &p("ca.pem"),
        "--sign-test",
        "fixtures/valid/egen-foretagare.xml",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let status = eioa(&["session", "status", "--data-dir", d]);
    assert!(
        text(&status.stdout).contains("0 exchange(s)"),
        "{}",
        text(&status.stdout)
    );
}
