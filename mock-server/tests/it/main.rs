//! The standalone stand-in end to end on 127.0.0.1: mutual TLS, FK answers, every
//! fault-injection mode as a client sees it, pacing, limits, the journal and
//! `tx show`.

mod admin;
mod fk_host;
mod hostile_encodings;
mod support;

use std::time::{Duration, Instant};

use eioa_fk::{Verdict, PATH_PROD, PATH_TEST};
use eioa_mock_server::cli::{tx_list, tx_show, DataDirArg};
use eioa_mock_server::faults::{FaultConfig, Latency};
use eioa_mock_server::journal::read_journal;
use eioa_mock_server::pacing::PacingConfig;
use eioa_model::soap::{FaultDetail, Response};
use support::*;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn tx_of(body: &[u8]) -> String {
    match Response::parse(body) {
        Ok(Response::Accepted { tx_id }) => tx_id,
        other => panic!(
            "expected a tx-id, got {other:?}: {}",
            String::from_utf8_lossy(body)
        ),
    }
}

#[test]
fn signed_request_with_generated_certificate_gets_a_tx_id_on_both_paths() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let c = good_client();
        let mut txs = Vec::new();
        for (i, path) in [PATH_TEST, PATH_PROD].into_iter().enumerate() {
            let r = post(&c, &h.url(path), signed_request(i as u16))
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            txs.push(tx_of(&r.bytes().await.unwrap()));
        }
        h.stop().await;
        let recs = h.records();
        let fp = eioa_mock_server::certs::fingerprint(&dev_pki().client.cert_der);
        for tx in &txs {
            let r = recs
                .iter()
                .find(|r| r.tx_id.as_deref() == Some(tx))
                .expect("tx-id journaled");
            assert_eq!(r.client_cert_sha256.as_deref(), Some(fp.as_str()));
            assert!(matches!(&r.verdict, Some(Verdict::Accepted { tx_id, .. }) if tx_id == tx));
            assert_eq!(r.status, Some(200));
            assert!(!r.request.is_empty());
        }
    });
}

#[test]
fn unsigned_body_gets_fks_fault_not_a_server_decision() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let r = post(&good_client(), &h.url(PATH_TEST), b"<not-soap/>".to_vec())
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        assert!(
            matches!(Response::parse(&body), Ok(Response::Fault(_))),
            "{}",
            String::from_utf8_lossy(&body)
        );
        h.stop().await;
        let rec = h.records().pop().unwrap();
        assert_eq!(rec.status, Some(status));
        assert!(rec.verdict.is_some() && !matches!(rec.verdict, Some(Verdict::Accepted { .. })));
        assert_eq!(rec.tx_id, None);
    });
}

#[test]
fn wsdl_and_health_go_through_fk() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let c = good_client();
        let health = c.get(h.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let wsdl = c
            .get(h.url(&format!("{PATH_TEST}?wsdl")))
            .send()
            .await
            .unwrap();
        assert_eq!(wsdl.status(), 200);
        let text = wsdl.text().await.unwrap();
        assert!(text.contains("SkickaAnmalanFranArbetsgivare"), "{text}");
        // The served address is this server's own.
        assert!(text.contains(&h.addr.to_string()), "{text}");
        h.stop().await;
        let served: Vec<_> = h
            .records()
            .into_iter()
            .filter(|r| matches!(r.verdict, Some(Verdict::Served { .. })))
            .collect();
        assert_eq!(served.len(), 2);
    });
}

#[test]
fn client_without_certificate_is_refused_during_the_handshake() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let out = raw(
            h.addr,
            Some(client_tls(None)),
            &raw_post(b"x"),
            Duration::from_secs(5),
        )
        .await;
        assert_refused(out, "CertificateRequired");
        // And through an ordinary HTTPS client.
        let e = post(
            &client(None, Duration::from_secs(5)),
            &h.url(PATH_TEST),
            b"x".to_vec(),
        )
        .await
        .unwrap_err();
        assert!(!e.is_status(), "{e:?}");
        h.stop().await;
        assert!(
            h.records().is_empty(),
            "nothing was exchanged, nothing journaled"
        );
    });
}

#[test]
fn client_with_certificate_from_another_ca_is_refused_during_the_handshake() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let out = raw(
            h.addr,
            Some(client_tls(Some(other_pki()))),
            &raw_post(b"x"),
            Duration::from_secs(5),
        )
        .await;
        assert_refused(out, "UnknownCA");
        h.stop().await;
        assert!(h.records().is_empty());
    });
}

/// No HTTP byte came back, and the error names the TLS alert.
fn assert_refused(out: Raw, alert: &str) {
    match out {
        Raw::Handshake(e) => assert!(format!("{e:?}").contains(alert), "{e:?}"),
        // TLS 1.3: the client's handshake ends before the server judges its
        // certificate; the alert arrives on the first read.
        Raw::Failed(e, got) => {
            assert!(got.is_empty());
            assert!(format!("{e:?}").contains(alert), "{e:?}");
        }
        other => panic!("expected a refused handshake, got {other:?}"),
    }
}

#[test]
fn fault_http_500_and_503() {
    rt().block_on(async {
        for (cfg, status, name) in [
            (
                FaultConfig {
                    http_500: 1.0,
                    ..FaultConfig::default()
                },
                500,
                "http-500",
            ),
            (
                FaultConfig {
                    http_503: 1.0,
                    ..FaultConfig::default()
                },
                503,
                "http-503",
            ),
        ] {
            let mut h = start_faults(cfg).await;
            let r = post(&good_client(), &h.url(PATH_TEST), signed_request(10))
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), status);
            let body = r.bytes().await.unwrap();
            if status == 500 {
                let Ok(Response::Fault(f)) = Response::parse(&body) else {
                    panic!("500 carries a soap fault")
                };
                assert_eq!(f.code_local(), "Server");
            }
            h.stop().await;
            let rec = h.records().pop().unwrap();
            assert_eq!(rec.fault.as_deref(), Some(name));
            assert_eq!(rec.status, Some(status));
            assert_eq!(rec.tx_id, None);
        }
    });
}

#[test]
fn fault_connection_reset_is_an_rst_with_no_answer() {
    rt().block_on(async {
        let mut h = start_faults(FaultConfig {
            reset: 1.0,
            ..FaultConfig::default()
        })
        .await;
        let out = raw(
            h.addr,
            Some(client_tls(Some(dev_pki()))),
            &raw_post(&signed_request(11)),
            Duration::from_secs(10),
        )
        .await;
        match out {
            Raw::Failed(e, got) => {
                assert!(got.is_empty());
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e:?}");
            }
            other => panic!("expected a reset, got {other:?}"),
        }
        h.stop().await;
        let rec = h.records().pop().unwrap();
        assert_eq!(rec.fault.as_deref(), Some("connection-reset"));
        assert_eq!(rec.status, None);
    });
}

#[test]
fn fault_no_answer_holds_until_the_client_gives_up() {
    rt().block_on(async {
        let mut h = start_faults(FaultConfig {
            no_answer: 1.0,
            no_answer_hold_ms: 30_000,
            ..FaultConfig::default()
        })
        .await;
        let c = client(Some(dev_pki()), Duration::from_millis(700));
        let e = post(&c, &h.url(PATH_TEST), signed_request(12))
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        // Shutdown does not wait the full hold.
        let t = Instant::now();
        h.stop().await;
        assert!(t.elapsed() < Duration::from_secs(20));
        let rec = h.records().pop().unwrap();
        assert_eq!(rec.fault.as_deref(), Some("no-answer"));
        assert_eq!(rec.status, None);
    });
}

#[test]
fn fault_malformed_soap_is_200_with_unparseable_body() {
    rt().block_on(async {
        let mut h = start_faults(FaultConfig {
            malformed_soap: 1.0,
            ..FaultConfig::default()
        })
        .await;
        let r = post(&good_client(), &h.url(PATH_TEST), signed_request(13))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.bytes().await.unwrap();
        assert!(
            Response::parse(&body).is_err(),
            "{}",
            String::from_utf8_lossy(&body)
        );
        h.stop().await;
        assert_eq!(
            h.records().pop().unwrap().fault.as_deref(),
            Some("malformed-soap")
        );
    });
}

#[test]
fn fault_forced_contract_faults() {
    rt().block_on(async {
        for (cfg, name) in [
            (
                FaultConfig {
                    xml_validation_error: 1.0,
                    ..FaultConfig::default()
                },
                "forced-xml-validation-error",
            ),
            (
                FaultConfig {
                    signature_validation_error: 1.0,
                    ..FaultConfig::default()
                },
                "forced-signature-validation-error",
            ),
        ] {
            let mut h = start_faults(cfg).await;
            let r = post(&good_client(), &h.url(PATH_TEST), signed_request(14))
                .await
                .unwrap();
            assert_eq!(r.status(), 500);
            let Ok(Response::Fault(f)) = Response::parse(&r.bytes().await.unwrap()) else {
                panic!("a soap fault")
            };
            match (name, f.detail) {
                ("forced-xml-validation-error", Some(FaultDetail::XmlValidationError { .. })) => {}
                (
                    "forced-signature-validation-error",
                    Some(FaultDetail::SignatureValidationError { .. }),
                ) => {}
                (n, d) => panic!("{n}: unexpected detail {d:?}"),
            }
            h.stop().await;
            assert_eq!(h.records().pop().unwrap().fault.as_deref(), Some(name));
        }
    });
}

#[test]
fn fault_tls_alert_during_handshake() {
    rt().block_on(async {
        let mut h = start_faults(FaultConfig {
            tls_alert: 1.0,
            ..FaultConfig::default()
        })
        .await;
        let out = raw(
            h.addr,
            Some(client_tls(Some(dev_pki()))),
            &raw_post(b"x"),
            Duration::from_secs(5),
        )
        .await;
        match out {
            Raw::Handshake(e) => assert!(format!("{e:?}").contains("HandshakeFailure"), "{e:?}"),
            other => panic!("expected a handshake alert, got {other:?}"),
        }
        h.stop().await;
        assert_eq!(
            h.records().pop().unwrap().fault.as_deref(),
            Some("tls-alert-during-handshake")
        );
    });
}

#[test]
fn fault_tls_close_after_handshake() {
    rt().block_on(async {
        let mut h = start_faults(FaultConfig {
            tls_close_after_handshake: 1.0,
            ..FaultConfig::default()
        })
        .await;
        let out = raw(
            h.addr,
            Some(client_tls(Some(dev_pki()))),
            &raw_post(b"x"),
            Duration::from_secs(5),
        )
        .await;
        match out {
            Raw::Answer(got) => assert!(got.is_empty(), "closed without an answer"),
            Raw::Failed(_, got) => assert!(got.is_empty()),
            other => panic!("expected a closed connection, got {other:?}"),
        }
        h.stop().await;
        let rec = h.records().pop().unwrap();
        assert_eq!(rec.fault.as_deref(), Some("tls-close-after-handshake"));
        assert!(
            rec.client_cert_sha256.is_some(),
            "the handshake completed: the client is known"
        );
    });
}

#[test]
fn fault_latency_delays_the_answer() {
    rt().block_on(async {
        let mut h = start_faults(FaultConfig {
            latency: Latency::Fixed { ms: 400 },
            ..FaultConfig::default()
        })
        .await;
        let c = good_client();
        let t = Instant::now();
        let r = post(&c, &h.url(PATH_TEST), signed_request(15))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() >= Duration::from_millis(400));
        tx_of(&r.bytes().await.unwrap());
        h.stop().await;
    });
}

#[test]
fn same_seed_gives_the_same_fault_sequence() {
    rt().block_on(async {
        let cfg = FaultConfig {
            seed: 42,
            http_500: 0.3,
            http_503: 0.3,
            ..FaultConfig::default()
        };
        let mut runs = Vec::new();
        for _ in 0..2 {
            let mut h = start_faults(cfg.clone()).await;
            let c = good_client();
            let mut seen = Vec::new();
            for _ in 0..12 {
                let r = post(&c, &h.url("/health"), Vec::new()).await.unwrap();
                assert_eq!(
                    r.status(),
                    404,
                    "faults hit only the operation, not other requests"
                );
                let r = post(&c, &h.url(PATH_TEST), b"<x/>".to_vec()).await.unwrap();
                seen.push(r.status().as_u16());
            }
            h.stop().await;
            runs.push(seen);
        }
        assert_eq!(runs[0], runs[1]);
        assert!(
            runs[0].contains(&500) && runs[0].contains(&503),
            "{:?}",
            runs[0]
        );
    });
}

#[test]
fn pacing_findings_and_optional_503() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |c| c.pacing = PacingConfig::default()).await;
        let c = good_client();
        for i in 0..2 {
            let r = post(&c, &h.url(PATH_TEST), signed_request(20 + i))
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        h.stop().await;
        let recs = h.records();
        assert!(recs[0].findings.is_empty());
        assert!(
            recs[1].findings[0].starts_with("pace:"),
            "{:?}",
            recs[1].findings
        );

        let mut h = start_with(Mode::Mutual, |c| {
            c.pacing = PacingConfig {
                min_interval: Duration::from_secs(60),
                reject: true,
            }
        })
        .await;
        let r1 = post(&c, &h.url(PATH_TEST), signed_request(22))
            .await
            .unwrap();
        assert_eq!(r1.status(), 200);
        let r2 = post(&c, &h.url(PATH_TEST), signed_request(23))
            .await
            .unwrap();
        assert_eq!(r2.status(), 503);
        assert_eq!(r2.headers().get("retry-after").unwrap(), "1");
        h.stop().await;
    });
}

#[test]
fn oversized_body_gets_413_with_a_soap_fault() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |c| c.limits.max_body_bytes = 4096).await;
        let r = post(&good_client(), &h.url(PATH_TEST), vec![b'a'; 10_000]).await.unwrap();
        assert_eq!(r.status(), 413);
        assert!(matches!(Response::parse(&r.bytes().await.unwrap()), Ok(Response::Fault(_))));
        // Chunked, without a Content-Length: the limit still holds.
        let mut req = format!(
            "POST {PATH_TEST} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for _ in 0..10 {
            req.extend_from_slice(b"3e8\r\n");
            req.extend_from_slice(&[b'b'; 1000]);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        match raw(h.addr, Some(client_tls(Some(dev_pki()))), &req, Duration::from_secs(10)).await {
            Raw::Answer(got) | Raw::Failed(_, got) => {
                assert!(got.starts_with(b"HTTP/1.1 413"), "{}", String::from_utf8_lossy(&got))
            }
            other => panic!("expected 413, got {other:?}"),
        }
        h.stop().await;
        assert!(h.records().iter().all(|r| r.status == Some(413)));
    });
}

#[test]
fn slow_client_cannot_hold_a_connection() {
    rt().block_on(async {
        let mut h = start_with(Mode::Plain, |c| c.limits.header_timeout = Duration::from_secs(1)).await;
        // Headers that never finish.
        let t = Instant::now();
        let out = raw(h.addr, None, b"POST /shs2/FK.EIOA.AnmalanArbetsgivare.ext HTTP/1.1\r\nHost: x\r\n", Duration::from_secs(10)).await;
        assert!(!matches!(out, Raw::TimedOut), "the server closed the connection");
        assert!(t.elapsed() < Duration::from_secs(9));
        // A body that never finishes gets 408.
        let mut h2 = start_with(Mode::Plain, |c| c.limits.body_timeout = Duration::from_secs(1)).await;
        let out = raw(
            h2.addr,
            None,
            b"POST /shs2/FK.EIOA.AnmalanArbetsgivare.ext HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
            Duration::from_secs(10),
        )
        .await;
        match out {
            Raw::Answer(got) | Raw::Failed(_, got) => {
                assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 408"), "{}", String::from_utf8_lossy(&got))
            }
            other => panic!("expected 408, got {other:?}"),
        }
        h.stop().await;
        h2.stop().await;
    });
}

#[test]
fn journal_survives_a_torn_tail_and_tx_show_finds_the_tx_id() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), Mode::Mutual);
        let server = eioa_mock_server::MockServer::start(cfg.clone())
            .await
            .unwrap();
        let url = server.endpoint();
        let c = good_client();
        let tx1 = tx_of(
            &post(&c, &url, signed_request(30))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        );
        server.shutdown().await;

        // A crash mid-append: half a frame at the end of the segment.
        let data = dir.path().join("data");
        let seg = data.join("journal-000001.log");
        let mut bytes = std::fs::read(&seg).unwrap();
        let good = bytes.len();
        bytes.extend_from_slice(&[200, 0, 0, 0, 9, 9, 9, 9, b'{', b'"', b's']);
        std::fs::write(&seg, &bytes).unwrap();
        assert_eq!(read_journal(&data).unwrap().damage.len(), 1);

        let server = eioa_mock_server::MockServer::start(cfg).await.unwrap();
        assert_eq!(
            std::fs::metadata(&seg).unwrap().len() as usize,
            good,
            "torn tail cut on open"
        );
        let url = server.endpoint();
        let tx2 = tx_of(
            &post(&c, &url, signed_request(31))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        );
        server.shutdown().await;

        let j = read_journal(&data).unwrap();
        assert!(j.damage.is_empty(), "{:?}", j.damage);
        let seqs: Vec<u64> = j.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![1, 2]);

        let arg = DataDirArg {
            data_dir: data.clone(),
        };
        let (list, damage) = tx_list(&arg).unwrap();
        assert!(damage.is_empty());
        assert!(list.contains(&tx1) && list.contains(&tx2), "{list}");
        let (shown, damage) = tx_show(&arg, &tx2, false).unwrap();
        assert!(damage.is_empty());
        let shown = shown.expect("tx-id found");
        assert!(shown.contains(&tx2));
        // Redacted by default: the assistant's number keeps only its date part.
        let pnr = notification(31).assistent.personnummer;
        assert!(!shown.contains(&pnr), "{shown}");
        assert!(shown.contains(&format!("{}****", &pnr[..8])), "{shown}");
        assert!(!shown.contains("Provsson"), "{shown}");
        let raw_view = tx_show(&arg, &tx2, true).unwrap().0.unwrap();
        assert!(raw_view.contains("PFNpZ25hdHVyZ") || raw_view.contains(&tx2));
        assert_eq!(
            tx_show(&arg, "00000000-0000-4000-8000-000000000000", false)
                .unwrap()
                .0,
            None
        );
    });
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    rt().block_on(async {
        let h = start_faults(FaultConfig {
            latency: Latency::Fixed { ms: 800 },
            ..FaultConfig::default()
        })
        .await;
        let url = h.url(PATH_TEST);
        let c = good_client();
        let inflight = tokio::spawn(async move { post(&c, &url, signed_request(40)).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut h = h;
        h.stop().await;
        let r = inflight.await.unwrap().expect("in-flight request answered");
        let tx = tx_of(&r.bytes().await.unwrap());
        assert!(h
            .records()
            .iter()
            .any(|r| r.tx_id.as_deref() == Some(tx.as_str())));
    });
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
        let heads = prop::sample::select(vec![
            "POST /shs2/FK.EIOA.AnmalanArbetsgivare.ext HTTP/1.1\r\n".to_string(),
            "GET /shs2/FK.EIOA.AnmalanArbetsgivare?wsdl HTTP/1.1\r\n".to_string(),
            "GET /health HTTP/1.0\r\n".to_string(),
            "PUT / HTTP/1.1\r\n".to_string(),
            String::new(),
        ]);
        let headers = prop::collection::vec(
            prop::sample::select(vec![
                "Host: 127.0.0.1\r\n",
                "Content-Type: text/xml; charset=utf-8\r\n",
                "Content-Length: 5\r\n",
                "Content-Length: -1\r\n",
                "Content-Length: 99999999999999999999\r\n",
                "Transfer-Encoding: chunked\r\n",
                "SOAPAction: \"x\"\r\n",
                "Connection: close\r\n",
                "\r\n",
            ]),
            0..6,
        );
        (heads, headers, prop::collection::vec(any::<u8>(), 0..600)).prop_map(|(h, hs, tail)| {
            let mut v = h.into_bytes();
            for x in hs {
                v.extend_from_slice(x.as_bytes());
            }
            v.extend_from_slice(b"\r\n");
            v.extend_from_slice(&tail);
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn any_bytes_get_an_answer_or_a_close_never_a_crash(reqs in prop::collection::vec(request_bytes(), 1..4)) {
            let rt = rt();
            rt.block_on(async {
                let mut h = start_with(Mode::Plain, |c| {
                    c.limits.header_timeout = Duration::from_secs(2);
                    c.limits.body_timeout = Duration::from_secs(2);
                }).await;
                for bytes in &reqs {
                    let out = raw(h.addr, None, bytes, Duration::from_secs(10)).await;
                    assert!(!matches!(out, Raw::TimedOut), "server hung on {:?}", String::from_utf8_lossy(bytes));
                }
                // Still serving.
                let out = raw(h.addr, None, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Duration::from_secs(10)).await;
                match out {
                    Raw::Answer(got) => assert!(got.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got)),
                    other => panic!("health after fuzzing: {other:?}"),
                }
                h.stop().await;
                assert!(read_journal(&h.data_dir()).unwrap().damage.is_empty());
            });
        }
    }
}
