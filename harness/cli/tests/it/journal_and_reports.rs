//! Loss in the stand-in's journal seen by `eioa tx`, redaction of comments in
//! `tx show`, file modes of `eioa run` reports, and `--trust-anchor` files.

use super::{eioa, text};
use eioa_mock_server::journal::{Journal, JournalConfig, Record};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

fn record(tx: &str, request: &[u8]) -> Record {
    Record {
        seq: 0,
        time: "2026-11-26T10:00:00Z".into(),
        remote: "127.0.0.1:1".into(),
        client_cert_sha256: None,
        method: "POST".into(),
        target: "/shs2/FK.EIOA.AnmalanArbetsgivare.ext".into(),
        request_headers: vec![],
        request: request.to_vec(),
        status: Some(200),
        response: b"<ok/>".to_vec(),
        tx_id: Some(tx.into()),
        verdict: None,
        fault: None,
        findings: vec![],
    }
}

/// Appends one record per tx-id; `fail` names those whose write fails as on a
/// full disk.
fn journal(cfg: &JournalConfig, txs: &[&str], fail: &[&str]) {
    let j = Journal::open(cfg.clone()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for tx in txs {
            if fail.contains(tx) {
                cfg.fail_next_writes(1);
            }
            let r = j.append(record(tx, b"<x/>")).await;
            assert_eq!(r.is_err(), fail.contains(tx), "{tx}");
        }
    });
    j.close();
}

fn tx(args: &[&str], dir: &Path) -> std::process::Output {
    let mut all = vec!["tx"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", dir.to_str().unwrap()]);
    eioa(&all)
}

#[test]
fn tx_list_reports_the_gap_a_failed_write_leaves() {
    // Issue #11 item 7: after a failed write, `tx list` exited 0 saying nothing.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("journal");
    journal(&JournalConfig::new(&d), &["t1", "t2", "t3", "t4"], &["t2"]);
    let o = tx(&["list"], &d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        out.contains("t1") && out.contains("t3") && out.contains("t4"),
        "{out}"
    );
    assert!(
        err.contains("warning: journal damage:")
            && err.contains("sequence numbers 2 to 2 are missing"),
        "{err}"
    );
    // tx show still shows a record it finds, with the same warning.
    let o = tx(&["show", "t3"], &d);
    assert!(text(&o.stdout).contains("t3"));
    assert!(text(&o.stderr).contains("sequence numbers 2 to 2 are missing"));
}

#[test]
fn tx_list_reports_a_sealed_segment_cut_in_the_middle() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("journal");
    let mut cfg = JournalConfig::new(&d);
    cfg.rotate_bytes = 1000;
    let txs: Vec<String> = (1..=12).map(|i| format!("t{i}")).collect();
    let refs: Vec<&str> = txs.iter().map(String::as_str).collect();
    journal(&cfg, &refs, &[]);
    assert_eq!(tx(&["list"], &d).status.code(), Some(0));
    let first = d.join("journal-000001.log");
    let data = std::fs::read(&first).unwrap();
    std::fs::write(&first, &data[..data.len() * 2 / 3]).unwrap();
    let o = tx(&["list"], &d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("cut short") || err.contains("without its footer"),
        "{err}"
    );
    assert!(err.contains("are missing"), "{err}");
}

#[test]
fn tx_show_redacts_names_in_comments() {
    // Issue #11 item 8: a comment's name was shown as sent.
    // `base64 -w0` of: <?xml version="1.0"?>\n<!-- Anna Andersson 19900101-1234 -->\n
    // <AnmalanFranArbetsgivare><id>x</id></AnmalanFranArbetsgivare>
    let payload = "PD94bWwgdmVyc2lvbj0iMS4wIj8+CjwhLS0gQW5uYSBBbmRlcnNzb24gMTk5MDAxMDEtMTIzNCAtLT4K\
                   PEFubWFsYW5GcmFuQXJiZXRzZ2l2YXJlPjxpZD54PC9pZD48L0FubWFsYW5GcmFuQXJiZXRzZ2l2YXJlPg==";
    let request = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
         <!-- sent for Anna Andersson --><m:r xmlns:m=\"m\"><m:anmalanfranarbetsgivare>{payload}\
         </m:anmalanfranarbetsgivare></m:r></s:Body></s:Envelope>"
    );
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("journal");
    let j = Journal::open(JournalConfig::new(&d)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(j.append(record("t1", request.as_bytes())))
        .unwrap();
    j.close();
    let o = tx(&["show", "t1"], &d);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("comment of"), "{out}");
    assert!(!out.contains("Anna") && !out.contains("Andersson"), "{out}");
    assert!(!out.contains("1234"), "{out}");
    let o = tx(&["show", "t1", "--unredacted"], &d);
    assert!(text(&o.stdout).contains("sent for Anna Andersson"));
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `eioa run --suite connection` against the in-process stand-in under umask 000;
/// the run directory's mode and its files' modes.
fn run_under_umask_000(unredacted: bool) -> (u32, Vec<u32>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("reports");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec \"$0\" run --suite connection --out \"$1\" {}",
            if unredacted { "--unredacted" } else { "" }
        ))
        .arg(env!("CARGO_BIN_EXE_eioa"))
        .arg(&out)
        .current_dir(super::root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let dir = out.join("latest").canonicalize().unwrap();
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| mode(&e.unwrap().path()))
        .collect::<Vec<_>>();
    assert_eq!(files.len(), 4);
    (mode(&dir), files)
}

#[test]
fn reports_are_never_world_writable_and_private_when_unredacted() {
    // Issue #11 item 8: 0666 under umask 000, even with --unredacted.
    let (dir, files) = run_under_umask_000(false);
    assert_eq!(dir, 0o755);
    assert!(files.iter().all(|&m| m == 0o644), "{files:?}");
    let (dir, files) = run_under_umask_000(true);
    assert_eq!(dir, 0o700);
    assert!(files.iter().all(|&m| m == 0o600), "{files:?}");
}

#[test]
fn mock_server_refuses_a_trust_anchor_that_is_no_certificate() {
    // Issue #11 item 6: an empty file or /etc/passwd was taken as a trust anchor.
    let tmp = tempfile::tempdir().unwrap();
    let pki = tmp.path().join("pki");
    let o = eioa(&["certs", "init", pki.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let empty = tmp.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    let passwd = tmp.path().join("passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    for (anchor, says) in [(&empty, "empty"), (&passwd, "not an X.509 certificate")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eioa"))
            .args(["mock-server", "--listen", "127.0.0.1:0", "--pki-dir"])
            .arg(&pki)
            .arg("--data-dir")
            .arg(tmp.path().join("data"))
            .arg("--trust-anchor")
            .arg(anchor)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        let status = status.unwrap_or_else(|| panic!("the stand-in started with {anchor:?}"));
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains(says) && err.contains("trust anchor"), "{err}");
    }
}
