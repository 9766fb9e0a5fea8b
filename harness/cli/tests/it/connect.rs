//! The onboarding dress rehearsal, end to end with the real binaries: `eioa certs init
//! --fk-hosts`, `eioa mock-server --as fk-test` on 127.0.0.1, and `eioa connect` reaching it as
//! FK's test host through `--resolve` (so the host-name check runs as against FK).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{eioa, text};

const HOST: &str = "shsext.forsakringskassan.se";
const TEST_PATH: &str = "/shs2/FK.EIOA.AnmalanArbetsgivare.ext";
const PROD_PATH: &str = "/shs2/FK.EIOA.AnmalanArbetsgivare";

struct StandIn {
    child: Child,
    port: u16,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pki(dir: &Path) -> PathBuf {
    let pki = dir.join("dev-pki");
    let o = eioa(&["certs", "init", pki.to_str().unwrap(), "--fk-hosts"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    pki
}

/// `eioa mock-server --as fk-test` on a free port of 127.0.0.1.
fn stand_in(dir: &Path, pki: &Path, extra: &[&str]) -> StandIn {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_eioa"))
        .args(["mock-server", "--as", "fk-test", "--pace-ms", "0"])
        .arg("--pki-dir")
        .arg(pki)
        .args(["--listen", &listen])
        .arg("--data-dir")
        .arg(dir.join("journal"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = StandIn { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "the stand-in did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    s
}

/// `eioa connect` to the stand-in as FK's test host; returns the output and the report dir.
fn connect(pki: &Path, port: u16, path: &str, out: &Path) -> (Output, Option<PathBuf>) {
    let p = |f: &str| pki.join(f).to_str().unwrap().to_owned();
    let o = eioa(&[
        "connect",
        "--target",
        &format!("https://{HOST}:{port}{path}"),
        "--resolve",
        &format!("{HOST}:{port}:127.0.0.1"),
        "--ca",
        &p("ca.pem"),
        "--cert",
        &p("client.pem"),
        "--key",
        &p("client.key"),
        "--out",
        out.to_str().unwrap(),
    ]);
    let dir = std::fs::read_dir(out)
        .ok()
        .and_then(|mut d| d.next())
        .map(|e| e.unwrap().path());
    (o, dir)
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

fn status<'a>(s: &'a serde_json::Value, id: &str) -> &'a str {
    s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn dress_rehearsal_reaches_accepted_with_a_stand_in_trusting_the_test_signer() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let fk = stand_in(tmp.path(), &pki, &[]);
    let out = tmp.path().join("reports");
    let (o, dir) = connect(&pki, fk.port, TEST_PATH, &out);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let dir = dir.expect("a report directory");
    let s = summary(&dir);
    assert_eq!(s["level"], "accepted", "{stderr}");
    // The host-name check ran against FK's name, not 127.0.0.1.
    assert_eq!(status(&s, "C-TLS-SERVER-NAME"), "pass");
    assert_eq!(status(&s, "C-TLS-CLIENT-CERT"), "pass");
    assert_eq!(status(&s, "C-DNS-PUBLISHED"), "warn");
    // The timeline shows every check, and the tx-id goes to stdout.
    for id in [
        "C-ID-LOAD",
        "C-DNS-RESOLVE",
        "C-TCP",
        "C-TLS-HANDSHAKE",
        "C-HTTP",
        "C-SOAP",
        "C-SOAP-TIME",
    ] {
        assert!(stderr.contains(id), "{id} missing from\n{stderr}");
    }
    assert!(stderr.contains("verdict: Accepted"), "{stderr}");
    let tx = text(&o.stdout);
    assert_eq!(tx.trim(), s["exchange"]["tx_id"].as_str().unwrap());
    // The report is signed with the client key and verifies against the CA that issued it.
    let ca = pki.join("ca.pem");
    let v = eioa(&[
        "evidence",
        "verify",
        dir.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stdout));
}

#[test]
fn dress_rehearsal_reaches_fk_answered_when_the_stand_in_distrusts_the_test_signer() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    // Like FK: the harness's test signature is not trusted.
    let fk = stand_in(tmp.path(), &pki, &["--no-test-ca"]);
    let out = tmp.path().join("reports");
    let (o, dir) = connect(&pki, fk.port, TEST_PATH, &out);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let s = summary(&dir.unwrap());
    assert_eq!(s["level"], "fk-answered", "{stderr}");
    assert_eq!(s["exchange"]["fault"], "SignatureValidationError");
    assert!(
        s["next_level_hint"]
            .as_str()
            .unwrap()
            .contains("--signature FILE --ocsp FILE"),
        "{s}"
    );
    assert!(text(&o.stdout).trim().is_empty(), "no tx-id");
}

#[test]
fn production_path_on_the_stand_in_posing_as_the_test_host_is_a_404_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let fk = stand_in(tmp.path(), &pki, &[]);
    let out = tmp.path().join("reports");
    let (o, dir) = connect(&pki, fk.port, PROD_PATH, &out);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let s = summary(&dir.unwrap());
    assert_eq!(s["level"], "mutual-tls", "{stderr}");
    assert_eq!(status(&s, "C-HTTP"), "fail");
    assert!(
        stderr.contains("production path on the test host"),
        "{stderr}"
    );
}

#[test]
fn run_against_fk_refuses_other_suites_with_fks_reason() {
    let o = eioa(&[
        "run", "--target", "test", "--suite", "full", "--p12", "none.p12",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("FK's test environment is for connection tests"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn unreachable_target_exits_with_the_network_code() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = eioa(&[
        "connect",
        "--target",
        &format!("https://127.0.0.1:{port}{TEST_PATH}"),
        "--out",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("FAIL  C-TCP"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn refused_client_certificate_exits_with_the_tls_code() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = pki(tmp.path());
    let fk = stand_in(tmp.path(), &pki, &[]);
    let out = tmp.path().join("reports");
    let o = eioa(&[
        "connect",
        "--target",
        &format!("https://{HOST}:{}{TEST_PATH}", fk.port),
        "--resolve",
        &format!("{HOST}:{}:127.0.0.1", fk.port),
        "--ca",
        pki.join("ca.pem").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains(
            "FAIL  C-TLS-CLIENT-CERT   refused: the server sent TLS alert `certificate_required`"
        ),
        "{stderr}"
    );
}
