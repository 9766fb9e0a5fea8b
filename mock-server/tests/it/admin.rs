//! The session admin interface: a client that never finishes a request is cut off.

use std::time::{Duration, Instant};

use eioa_mock_server::admin::{self, AdminTimeouts};
use eioa_validate::SchemaSet;

use super::rt;
use crate::support::{raw, Raw};

fn timeouts() -> AdminTimeouts {
    AdminTimeouts {
        header_read: Duration::from_millis(500),
        request: Duration::from_millis(500),
    }
}

/// Regression: without hyper's timer the header read timeout never fired and a
/// connection that sent half a request line stayed open for ever.
#[test]
fn admin_closes_a_connection_whose_headers_never_finish() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let addr = admin::start_with(dir.path(), SchemaSet::embedded(), timeouts()).unwrap();
        let t = Instant::now();
        let out = raw(
            addr,
            None,
            b"GET /session/status HTTP/1.1\r\nHost: x\r\n",
            Duration::from_secs(10),
        )
        .await;
        assert!(
            !matches!(out, Raw::TimedOut),
            "the admin interface kept the connection open"
        );
        assert!(t.elapsed() < Duration::from_secs(9));
        // An idle connection that sends nothing is cut off too.
        let out = raw(addr, None, b"", Duration::from_secs(10)).await;
        assert!(!matches!(out, Raw::TimedOut), "idle connection kept open");
    });
}

/// A request whose body never arrives gets 503 once the request timeout passes.
#[test]
fn admin_answers_503_when_a_request_takes_too_long() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let addr = admin::start_with(dir.path(), SchemaSet::embedded(), timeouts()).unwrap();
        let token = std::fs::read_to_string(dir.path().join(admin::TOKEN_FILE)).unwrap();
        let req = format!(
            "POST /session/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 100\r\n\r\n{{"
        );
        match raw(addr, None, req.as_bytes(), Duration::from_secs(10)).await {
            Raw::Answer(got) | Raw::Failed(_, got) => {
                let got = String::from_utf8_lossy(&got);
                assert!(got.starts_with("HTTP/1.1 503"), "{got}");
                assert!(got.contains("took longer"), "{got}");
            }
            other => panic!("expected 503, got {other:?}"),
        }
    });
}

/// The stand-in with its admin interface holding the server's fault injector.
async fn with_fault_control() -> (crate::support::Harness, std::net::SocketAddr) {
    let h = crate::support::start_with(crate::support::Mode::Mutual, |_| {}).await;
    let faults = h.server.as_ref().unwrap().faults();
    let addr = admin::start_with_faults(
        &h.data_dir(),
        SchemaSet::embedded(),
        AdminTimeouts::default(),
        Some(faults),
    )
    .unwrap();
    (h, addr)
}

/// Faults switched through `PUT /faults` reach the next request, are journaled,
/// and switching back to the defaults gives tx-ids again.
#[test]
fn faults_switch_on_and_off_through_the_admin_interface() {
    use eioa_fk::PATH_TEST;
    use eioa_mock_server::faults::FaultConfig;
    use eioa_model::soap::{FaultDetail, Response};

    use crate::support::{good_client, post, signed_request};
    rt().block_on(async {
        let (mut h, _) = with_fault_control().await;
        let dir = h.data_dir();
        assert_eq!(
            admin::get_faults(&dir).await.unwrap(),
            FaultConfig::default()
        );
        let on = FaultConfig {
            xml_validation_error: 1.0,
            ..FaultConfig::default()
        };
        assert_eq!(admin::set_faults(&dir, &on).await.unwrap(), on);
        assert_eq!(admin::get_faults(&dir).await.unwrap(), on);
        let r = post(&good_client(), &h.url(PATH_TEST), signed_request(40))
            .await
            .unwrap();
        assert_eq!(r.status(), 500);
        let Ok(Response::Fault(f)) = Response::parse(&r.bytes().await.unwrap()) else {
            panic!("a soap fault")
        };
        assert!(
            matches!(f.detail, Some(FaultDetail::XmlValidationError { .. })),
            "{:?}",
            f.detail
        );

        // A share outside 0..=1 is refused with the reason; the old settings stay.
        let (status, body) = admin::call(&dir, "PUT", "/faults", Some(r#"{"http_500":1.5}"#))
            .await
            .unwrap();
        assert_eq!(status, 400, "{body}");
        assert!(
            body.contains("http_500") && body.contains("between 0 and 1"),
            "{body}"
        );
        let (status, body) = admin::call(&dir, "PUT", "/faults", Some(r#"{"http_504":1}"#))
            .await
            .unwrap();
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("http_504"), "{body}");
        assert_eq!(admin::get_faults(&dir).await.unwrap(), on);

        admin::set_faults(&dir, &FaultConfig::default())
            .await
            .unwrap();
        let r = post(&good_client(), &h.url(PATH_TEST), signed_request(41))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let tx = super::tx_of(&r.bytes().await.unwrap());

        h.stop().await;
        let recs = h.records();
        assert_eq!(
            recs.iter()
                .filter(|r| r.fault.as_deref() == Some("forced-xml-validation-error"))
                .count(),
            1
        );
        assert!(recs.iter().any(|r| r.tx_id.as_deref() == Some(tx.as_str())));
    });
}

/// A wrong token is refused before anything is switched; an admin interface
/// started without an injector says fault control is unavailable.
#[test]
fn faults_need_the_token_and_an_injector() {
    rt().block_on(async {
        let (h, addr) = with_fault_control().await;
        let req = "PUT /faults HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{\"xml_validation_error\":1}";
        match raw(addr, None, req.as_bytes(), Duration::from_secs(10)).await {
            Raw::Answer(got) | Raw::Failed(_, got) => {
                let got = String::from_utf8_lossy(&got);
                assert!(got.starts_with("HTTP/1.1 401"), "{got}");
            }
            other => panic!("expected 401, got {other:?}"),
        }
        assert_eq!(
            admin::get_faults(&h.data_dir()).await.unwrap().xml_validation_error,
            0.0
        );

        let bare = tempfile::tempdir().unwrap();
        admin::start_with(bare.path(), SchemaSet::embedded(), timeouts()).unwrap();
        match admin::get_faults(bare.path()).await {
            Err(admin::FaultsError::Refused { status, message }) => {
                assert_eq!(status, 404);
                assert_eq!(message, "fault control unavailable");
            }
            other => panic!("expected 404, got {other:?}"),
        }
    });
}
