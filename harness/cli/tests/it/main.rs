//! The `eioa` binary end to end: each test runs the real executable, in its own
//! temporary directory where it writes anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod architecture;
mod connect;
mod evidence;
mod fuzz;
mod journal_and_reports;
mod session;
mod sign;
mod suites_fixtures_schemas;
mod validate;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn eioa(args: &[&str]) -> Output {
    eioa_in(&root(), args, None)
}

fn eioa_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eioa"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("EIOA_SCHEMA_DIR");
    cmd.env(
        "EIOA_HOME",
        std::env::temp_dir().join(format!("eioa-home-{}", std::process::id())),
    );
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run eioa");
    if let Some(bytes) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Timings and run ids change from run to run.
fn stable(s: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        let line = match line.find(" in ") {
            Some(i) if line.starts_with("checked ") => {
                let rest = &line[i + 4..];
                let ms_end = rest.find(" ms").map_or(0, |e| e + 3);
                format!("{} in [elapsed]{}", &line[..i], &rest[ms_end..])
            }
            _ => line.to_string(),
        };
        let line = if line.trim_start().starts_with("\"elapsed_ms\"") {
            "  \"elapsed_ms\": \"[elapsed]\"".to_string()
        } else {
            line
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

const TODAY: &str = "--today=2026-11-26";

#[test]
fn valid_examples_exit_zero() {
    let o = eioa(&["validate", TODAY, "fixtures/valid"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("10 valid, 0 invalid"));
}

#[test]
fn faq_example_as_printed_names_the_placeholder() {
    let o = eioa(&["validate", TODAY, "fixtures/faq/faq-example-as-printed.xml"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(
        out.contains("error[EIOA-R005]: `YYYYMMDDXXXX` is a placeholder"),
        "{out}"
    );
    assert!(
        out.contains("--> fixtures/faq/faq-example-as-printed.xml:5:5"),
        "{out}"
    );
    let o = eioa(&["validate", TODAY, "fixtures/faq/faq-example-corrected.xml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

#[test]
fn human_output_snapshot() {
    let o = eioa(&[
        "validate",
        TODAY,
        "fixtures/faq",
        "fixtures/invalid/EIOA-R006",
        "fixtures/invalid/EIOA-X002",
        "fixtures/warnings/EIOA-R017",
    ]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("human", stable(&text(&o.stdout)));
}

#[test]
fn json_output_snapshot_covers_every_fixture() {
    let o = eioa(&[
        "validate",
        TODAY,
        "--format",
        "json",
        "fixtures/valid",
        "fixtures/faq",
        "fixtures/invalid",
        "fixtures/warnings",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["schema_set"]["id"], "eioa-v1");
    insta::assert_snapshot!("json", stable(&text(&o.stdout)));
}

#[test]
fn junit_output_counts_failures() {
    let o = eioa(&["validate", TODAY, "--format", "junit", "fixtures/faq"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    assert!(
        out.contains("tests=\"2\"") && out.contains("failures=\"1\""),
        "{out}"
    );
    assert!(out.contains("EIOA-R005"), "{out}");
}

#[test]
fn stdin_is_read_with_dash() {
    let doc = std::fs::read(root().join("fixtures/valid/egen-foretagare.xml")).unwrap();
    let o = eioa_in(&root(), &["validate", TODAY, "-"], Some(&doc));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("1 valid"));
}

#[test]
fn missing_file_is_an_io_error() {
    let o = eioa(&["validate", "no/such/file.xml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("cannot read no/such/file.xml"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_usage_exits_two() {
    assert_eq!(eioa(&["validate"]).status.code(), Some(2));
    assert_eq!(
        eioa(&["validate", "--today", "yesterday", "x.xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        eioa(&["validate", "--schema-set", "nope", "fixtures/valid"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn rules_are_listed_as_json() {
    let o = eioa(&["rules", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"EIOA-R005") && ids.contains(&"EIOA-X005") && ids.contains(&"EIOA-S001"));
}

#[test]
fn official_schema_files_can_be_imported_and_used() {
    let tmp = tempfile::tempdir().unwrap();
    let fk = tmp.path().join("fk");
    std::fs::create_dir(&fk).unwrap();
    // A stand-in for FK's file: ours with one more optional element is enough to show
    // that the imported file, not the embedded one, is used.
    let ours = std::fs::read_to_string(
        root().join("schemas/eioa-v1/anmalan_fran_arbetsgivare_extern_v1.xsd"),
    )
    .unwrap();
    let theirs = ours.replace(
        "<xs:element name=\"andringGallerFrom\" type=\"xs:date\" minOccurs=\"0\"/>",
        "<xs:element name=\"andringGallerFrom\" type=\"xs:date\" minOccurs=\"0\"/>\n      <xs:element name=\"kollektivavtal\" type=\"xs:boolean\" minOccurs=\"0\"/>",
    );
    assert_ne!(ours, theirs);
    std::fs::write(fk.join("anmalan_fran_arbetsgivare_extern_v1.xsd"), theirs).unwrap();
    let home = tmp.path().join("home");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_eioa"))
            .args(args)
            .current_dir(root())
            .env("EIOA_HOME", &home)
            .output()
            .unwrap()
    };
    let o = run(&[
        "schema",
        "import",
        fk.to_str().unwrap(),
        "--id",
        "fk-official",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let doc = "fixtures/invalid/EIOA-S001/unknown-element.xml";
    assert_eq!(run(&["validate", TODAY, doc]).status.code(), Some(1));
    let o = run(&["validate", TODAY, "--schema-set", "fk-official", doc]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).starts_with("schema set fk-official (official, "),
        "{}",
        text(&o.stdout)
    );

    std::fs::write(
        fk.join("anmalan_fran_arbetsgivare_extern_v1.xsd"),
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element/></xs:schema>",
    )
    .unwrap();
    let o = run(&["schema", "import", fk.to_str().unwrap(), "--id", "broken"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a schema that does not compile is refused"
    );
}

#[test]
fn conformance_run_against_the_stand_in_writes_reports_and_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("reports");
    let o = eioa(&["run", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let latest = out.join("latest");
    for f in ["report.html", "report.md", "summary.json", "junit.xml"] {
        assert!(latest.join(f).is_file(), "{f}");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest.join("summary.json")).unwrap()).unwrap();
    let outcomes = summary["outcomes"].as_array().unwrap();
    assert!(outcomes.len() >= 30);
    assert_eq!(summary["totals"]["failed"], 0);
    for cat in ["accepted", "payload", "signature", "transport"] {
        assert!(outcomes.iter().any(|o| o["category"] == cat), "{cat}");
    }
    // Reports are redacted: identity numbers keep their date only.
    let html = std::fs::read_to_string(latest.join("report.html")).unwrap();
    assert!(html.contains("19500315****") && !html.contains("195003159828"));

    let tx = outcomes
        .iter()
        .find_map(|o| o["observed"]["tx_id"].as_str())
        .unwrap();
    let o = eioa(&["replay", tx, "--reports", out.to_str().unwrap(), "--show"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(tx));
    let o = eioa(&[
        "replay",
        tx,
        "--reports",
        out.to_str().unwrap(),
        "--target",
        "test",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "FK is reached again only with --send"
    );
}

#[test]
fn send_prints_the_tx_id_or_the_fault() {
    let o = eioa(&["send", "fixtures/valid/anordnare-inom-ees.xml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(uuid_like(text(&o.stdout).trim()), "{}", text(&o.stdout));
    let o = eioa(&["send", "fixtures/faq/faq-example-as-printed.xml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).starts_with("XmlValidationError:")
            && text(&o.stdout).contains("YYYYMMDDXXXX"),
        "{}",
        text(&o.stdout)
    );
    let o = eioa(&[
        "send",
        "--target",
        "prod",
        "fixtures/valid/anordnare-inom-ees.xml",
    ]);
    assert_eq!(o.status.code(), Some(2), "production needs confirmation");
}

#[test]
fn sign_then_send_the_request() {
    let tmp = tempfile::tempdir().unwrap();
    let req = tmp.path().join("req.xml");
    let o = eioa(&[
        "sign",
        "fixtures/valid/annan-arbetsgivare.xml",
        "--out",
        req.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = eioa(&["send", "--request", req.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

/// The standalone stand-in over mutual TLS, driven by the same `eioa run` (and so
/// the same client) that drives FK's test address.
#[test]
fn conformance_run_over_mutual_tls_against_the_standalone_stand_in() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    let o = eioa(&["certs", "init", pki.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_eioa"))
        .args([
            "mock-server",
            "--pki-dir",
            pki.to_str().unwrap(),
            "--listen",
            &listen,
            "--pace-ms",
            "0",
        ])
        .arg("--data-dir")
        .arg(tmp.path().join("journal"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stand-in did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let url = format!("https://{listen}/shs2/FK.EIOA.AnmalanArbetsgivare.ext");
    let out = tmp.path().join("reports");
    let p = |f: &str| pki.join(f).to_str().unwrap().to_string();
    let o = eioa(&[
        "run",
        "--target",
        &url,
        "--cert",
        &p("client.pem"),
        "--key",
        &p("client.key"),
        "--ca",
        &p("ca.pem"),
        "--out",
        out.to_str().unwrap(),
    ]);
    // Without a client certificate the handshake is refused: nothing is judged as an FK answer.
    let refused = eioa(&[
        "send",
        "--target",
        &url,
        "--ca",
        &p("ca.pem"),
        "--sign-test",
        "fixtures/valid/egen-foretagare.xml",
    ]);
    let journal = eioa(&[
        "tx",
        "list",
        "--data-dir",
        tmp.path().join("journal").to_str().unwrap(),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("latest/summary.json")).unwrap()).unwrap();
    let first = &summary["outcomes"][0];
    assert!(
        first["tls_version"].as_str().unwrap().starts_with("TLSv1."),
        "{first}"
    );
    assert!(first["client_cert_sha256"].is_string(), "{first}");
    // A refused handshake is a TLS failure: exit 5.
    assert_eq!(refused.status.code(), Some(5), "{}", text(&refused.stderr));
    let tx = first["observed"]["tx_id"].as_str().unwrap();
    assert!(
        text(&journal.stdout).contains(tx),
        "every tx-id the client got is journaled"
    );
}
