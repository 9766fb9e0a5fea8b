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
