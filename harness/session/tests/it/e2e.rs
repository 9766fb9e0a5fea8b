//! Sessions end to end: the standalone stand-in (plain HTTP on 127.0.0.1) with its
//! admin interface, driven by clients that are not the harness's own: PHP's
//! SoapClient and Python's zeep, each built from the served WSDL (`interop/`).
//! A missing stack fails the test with what to install; it is never skipped.
//! Between them they produce every behaviour finding from real traffic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use eioa_fk::FkConfig;
use eioa_mock_server::admin::{self, StartRequest};
use eioa_mock_server::faults::FaultConfig;
use eioa_mock_server::pacing::PacingConfig;
use eioa_mock_server::{MockConfig, MockServer, RunningServer, Transport};
use eioa_model::soap::{Signaturtyp, Underskrift};
use eioa_model::Notification;
use eioa_session::{Readiness, Status};
use eioa_sign::{SignInput, TestPki, VisibleLine};
use eioa_validate::SchemaSet;
use time::OffsetDateTime;

use crate::support::notification;

fn pki() -> &'static TestPki {
    static P: OnceLock<TestPki> = OnceLock::new();
    P.get_or_init(|| TestPki::generate().expect("test pki"))
}

async fn serve(data: &Path, faults: FaultConfig) -> RunningServer {
    let mut fk = FkConfig::new(Arc::new(eioa_validate::Validator::embedded().unwrap()));
    fk.trust_anchors = vec![pki().ca_cert_der().to_vec()];
    let mut cfg = MockConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        Transport::PlainHttp,
        fk,
        data,
    );
    cfg.faults = faults;
    cfg.pacing = PacingConfig {
        min_interval: Duration::ZERO,
        reject: false,
    };
    let s = MockServer::start(cfg).await.expect("server starts");
    admin::start(data, SchemaSet::embedded()).expect("admin starts");
    s
}

fn sign(n: &Notification, payload: &[u8], t: Signaturtyp) -> Underskrift {
    let now = OffsetDateTime::now_utc();
    let text = eioa_sign::visible_text(
        &[VisibleLine {
            name: format!("{} {}", n.assistent.fornamn, n.assistent.efternamn),
            personnummer: n.assistent.personnummer.clone(),
        }],
        now,
    );
    let signed = eioa_sign::sign(
        pki(),
        pki().signer(),
        &SignInput {
            notifications: &[(n.id.as_str(), payload)],
            visible_text: &text,
            when: now,
        },
    )
    .expect("signing works");
    Underskrift {
        signaturtyp: t,
        signatur: signed.signature_xml,
        ocspresponse: signed.ocsp_der,
        signaturdatum: format!("{}", now.date()),
    }
}

/// A case for the interop scripts: `n` as sent (`payload`), signed by `signers`.
fn case(
    name: &str,
    n: &Notification,
    payload: &[u8],
    signers: &[Signaturtyp],
) -> serde_json::Value {
    let u: Vec<serde_json::Value> = signers
        .iter()
        .map(|t| {
            let u = sign(n, payload, *t);
            serde_json::json!({
                "signaturtyp": u.signaturtyp.as_str(),
                "signatur_b64": STANDARD.encode(&u.signatur),
                "ocspresponse_b64": STANDARD.encode(&u.ocspresponse),
                "signaturdatum": u.signaturdatum,
            })
        })
        .collect();
    serde_json::json!({ "name": name, "payload_b64": STANDARD.encode(payload), "underskrifter": u })
}

fn signed(name: &str, n: &Notification) -> serde_json::Value {
    case(name, n, n.to_xml().as_bytes(), &[Signaturtyp::Anordnare])
}

/// A notification with a wrong check digit in the assistant's personnummer.
fn wrong_check_digit(n: &Notification) -> Notification {
    let mut bad = n.clone();
    let p = bad.assistent.personnummer.clone();
    bad.assistent.personnummer = format!("{}{}", &p[..11], (p.as_bytes()[11] - b'0' + 1) % 10);
    bad
}

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

fn require(what: &str, install: &str, program: &str, args: &[&str]) {
    let ok = Command::new(program)
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{what} is missing: install {install} (interop/setup.sh does)"
    );
}

/// Runs an interop script over `cases` against `server`; its output lines.
fn drive(
    program: &str,
    script: &str,
    server: &RunningServer,
    cases: Vec<serde_json::Value>,
    dir: &Path,
) -> Vec<String> {
    let file = dir.join(format!("cases-{}.json", cases.len()));
    let doc = serde_json::json!({ "wsdl": format!("{}?wsdl", server.endpoint()), "cases": cases });
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = Command::new(program)
        .arg(interop_dir().join(script))
        .arg(&file)
        .output()
        .expect("the interop script runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !text.contains("\tERROR\t") || text.lines().count() > 0,
        "{text}"
    );
    text.lines().map(str::to_string).collect()
}

async fn call(data: &Path, method: &str, path: &str, body: Option<String>) -> (u16, String) {
    admin::call(data, method, path, body.as_deref())
        .await
        .expect("admin answers")
}

async fn start_session(data: &Path, name: &str) {
    let req = StartRequest {
        name: name.into(),
        checklist_source: "onboarding".into(),
        checklist: eioa_session::checklist::ONBOARDING.into(),
        client_fingerprint: None,
    };
    let (status, body) = call(
        data,
        "POST",
        "/session/start",
        Some(serde_json::to_string(&req).unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_soapclient_complete_session_is_ready_across_a_restart() {
    require(
        "PHP's SoapClient",
        "php-cli and php-soap",
        "php",
        &["-r", "exit(class_exists('SoapClient') ? 0 : 1);"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    // First run: every call answered 503.
    let unavailable = FaultConfig {
        http_503: 1.0,
        ..FaultConfig::default()
    };
    let server = serve(&data, unavailable).await;
    // The admin interface wants its token.
    let addr = std::fs::read_to_string(data.join(admin::ADDR_FILE)).unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr.trim()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut tcp, b"POST /session/end HTTP/1.1\r\nhost: x\r\nauthorization: Bearer nope\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut tcp, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(data.join(admin::TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    start_session(&data, "qa-php").await;
    let base = notification("anordnare-inom-ees", 0x101);
    let out = drive(
        "php",
        "php_client.php",
        &server,
        vec![signed("first", &base)],
        tmp.path(),
    );
    assert!(
        out[0].starts_with("first\tFAULT") || out[0].starts_with("first\tERROR"),
        "{out:?}"
    );
    server.shutdown().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // Second run, same data directory: the session is still running.
    let server = serve(&data, FaultConfig::default()).await;
    let (status, body) = call(&data, "GET", "/session/status", None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("qa-php"));

    let mut changed = base.clone();
    changed.id = "4f2b8c1d-0e3a-4b5c-9d6e-000000000102".into();
    changed.assistent.andring_galler_from = Some("2026-04-01".into());
    let mut not_narstaende = notification("anordnare-inom-ees", 0x103);
    not_narstaende.assistent.narstaende = false;
    let refused = notification("egen-foretagare", 0x104);
    let bad = wrong_check_digit(&refused);
    let cases = vec![
        signed("base", &base),
        signed(
            "outside-eea",
            &notification("anordnare-utom-ees-narstaende", 0x105),
        ),
        signed("not-narstaende", &not_narstaende),
        signed("changed-new-id", &changed),
        signed(
            "samordningsnummer",
            &notification("samordningsnummer-assistent", 0x106),
        ),
        signed("person-employs", &notification("egen-arbetsgivare", 0x107)),
        signed("other-employer", &notification("annan-arbetsgivare", 0x108)),
        {
            let n = notification("anordnare-inom-ees", 0x109);
            case(
                "both-sign",
                &n,
                n.to_xml().as_bytes(),
                &[Signaturtyp::Anordnare, Signaturtyp::Assistent],
            )
        },
        signed("refused", &bad),
        signed("corrected", &refused),
    ];
    let out = drive("php", "php_client.php", &server, cases, tmp.path());
    let faults: Vec<&String> = out.iter().filter(|l| !l.contains("\tOK\t")).collect();
    assert_eq!(
        faults.len(),
        1,
        "only the wrong check digit is refused: {out:#?}"
    );
    assert!(
        faults[0].starts_with("refused\tFAULT\tXmlValidationError"),
        "{out:#?}"
    );

    let (status, body) = call(&data, "POST", "/session/end", None).await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await;

    let (report, damage) =
        admin::session_report(&data, "qa-php", &SchemaSet::embedded(), true).unwrap();
    assert!(damage.is_empty(), "{damage:?}");
    let missing: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.required && c.status != Status::Demonstrated)
        .collect();
    assert!(missing.is_empty(), "{missing:#?}");
    assert_eq!(report.verdict, Readiness::Ready);
    // The session remembers the schema set the stand-in validated with.
    let set = SchemaSet::embedded().info().to_string();
    assert_eq!(report.session.schema_set.as_deref(), Some(set.as_str()));
    // The 503 and the first call after the restart show the pacing case.
    let paced = report.cases.iter().find(|c| c.id == "ON-33").unwrap();
    let first = report
        .exchanges
        .iter()
        .find(|e| e.seq == paced.exchanges[0].seq)
        .unwrap();
    assert_eq!(first.status, Some(503), "{paced:#?}");
    // PHP sends its cases back to back: the burst finding, from real traffic.
    assert!(
        report.findings.iter().any(|f| f.rule == "SB003"),
        "{:#?}",
        report.findings
    );
    // Every accepted exchange is listed with its tx-id.
    assert_eq!(
        report
            .exchanges
            .iter()
            .filter(|e| e.tx_id.is_some())
            .count(),
        9
    );
    // Redacted: no assistant's full personnummer anywhere in the rendering.
    let html = report.to_html();
    assert!(!html.contains(&bad.assistent.personnummer), "redacted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_partial_session_reports_the_missing_cases_and_the_blind_resend() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    require("Python's zeep", "zeep", &python, &["-c", "import zeep"]);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = serve(&data, FaultConfig::default()).await;
    start_session(&data, "qa-zeep").await;
    let (status, body) = call(
        &data,
        "POST",
        "/session/start",
        Some(
            serde_json::to_string(&StartRequest {
                name: "qa-other".into(),
                checklist_source: "onboarding".into(),
                checklist: eioa_session::checklist::ONBOARDING.into(),
                client_fingerprint: None,
            })
            .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 409, "one session at a time: {body}");

    let base = notification("anordnare-inom-ees", 0x201);
    let bad = wrong_check_digit(&notification("egen-foretagare", 0x202));
    let bad_case = signed("refused", &bad);
    let mut again = bad_case.clone();
    again["name"] = "refused-again".into();
    // The same id again with other content (SB001), properly signed.
    let mut base_changed = base.clone();
    base_changed.assistent.fornamn = "Ändrad".into();
    // One signature over two notifications, sent with the first (SB004).
    let (n3, n4) = (
        notification("annan-arbetsgivare", 0x203),
        notification("egen-arbetsgivare", 0x204),
    );
    let (p3, p4) = (n3.to_xml().into_bytes(), n4.to_xml().into_bytes());
    let now = OffsetDateTime::now_utc();
    let both = eioa_sign::sign(
        pki(),
        pki().signer(),
        &SignInput {
            notifications: &[(n3.id.as_str(), &p3), (n4.id.as_str(), &p4)],
            visible_text: "1. Jag intygar …\n2. Jag intygar …",
            when: now,
        },
    )
    .expect("signing works");
    let mut two_bound = case("two-bound", &n3, &p3, &[Signaturtyp::Anordnare]);
    two_bound["underskrifter"][0]["signatur_b64"] = STANDARD.encode(&both.signature_xml).into();
    two_bound["underskrifter"][0]["ocspresponse_b64"] = STANDARD.encode(&both.ocsp_der).into();
    let out = drive(
        &python,
        "zeep_client.py",
        &server,
        vec![
            signed("base", &base),
            bad_case,
            again,
            signed("base-changed", &base_changed),
            two_bound,
        ],
        tmp.path(),
    );
    assert_eq!(out.len(), 5, "{out:#?}");
    assert!(
        out[3].starts_with("base-changed\tOK\t"),
        "FK accepts it (FK-W001): {out:#?}"
    );

    let (status, body) = call(&data, "GET", "/session/status", None).await;
    assert_eq!(status, 200, "{body}");
    let live: eioa_session::SessionReport = serde_json::from_str(&body).unwrap();
    assert_eq!(live.verdict, Readiness::NotReady);
    call(&data, "POST", "/session/end", None).await;
    server.shutdown().await;

    let (report, _) =
        admin::session_report(&data, "qa-zeep", &SchemaSet::embedded(), true).unwrap();
    assert_eq!(report.verdict, Readiness::NotReady);
    let status_of = |id: &str| report.cases.iter().find(|c| c.id == id).unwrap().status;
    assert_eq!(status_of("ON-01"), Status::Demonstrated);
    assert_eq!(status_of("ON-02"), Status::NotDemonstrated);
    assert_eq!(status_of("ON-30"), Status::Failed);
    assert_eq!(
        status_of("ON-22"),
        Status::Failed,
        "one signature, two notifications"
    );
    let missing = report.cases.iter().find(|c| c.id == "ON-02").unwrap();
    assert!(missing
        .hint
        .as_deref()
        .unwrap()
        .contains("bosattUtanforEES"));
    for rule in ["SB001", "SB004"] {
        assert!(
            report.findings.iter().any(|f| f.rule == rule),
            "{rule}: {:#?}",
            report.findings
        );
    }
    assert!(
        report.findings.iter().any(|f| f.rule == "SB002"),
        "{:#?}",
        report.findings
    );
    let md = report.to_markdown();
    assert!(md.contains("not yet demonstrated"), "{md}");
    assert!(report.to_junit().contains("not-demonstrated"));
}
