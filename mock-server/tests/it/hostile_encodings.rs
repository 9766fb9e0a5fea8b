//! A remote client of the stand-in cannot make it open a file, by any encoding:
//! entities in the payload and in the envelope point at a FIFO, which blocks
//! whoever opens it for reading. Before decoding moved out of libxml2, a payload
//! declared UTF-7 made the server read `file:///etc/hostname` (a probe for which
//! files exist), and a FIFO hung a worker per request until `/health` stopped
//! answering.

use super::rt;
use super::support::*;
use eioa_model::soap::{FaultDetail, Request, Response};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Linux's O_NONBLOCK: opening a FIFO's writing end succeeds only while a reader
/// has it open, so a watchdog can see any reader without blocking.
const O_NONBLOCK: i32 = 0o4000;

fn utf7(url: &str, root: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n\
         +ADwAIQ-DOCTYPE r +AFs- +ADwAIQ-ENTITY +ACU- p SYSTEM +ACI-{url}+ACIAPg- +ACU-p+ADs- +AF0APg-\n\
         {root}"
    )
    .into_bytes()
}

#[test]
fn hostile_encodings_never_open_a_file_and_the_server_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let url = format!("file://{}", fifo.display());
    let opened = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (fifo, opened, stop) = (fifo.clone(), opened.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut w) = OpenOptions::new()
                    .write(true)
                    .custom_flags(O_NONBLOCK)
                    .open(&fifo)
                {
                    opened.fetch_add(1, Ordering::SeqCst);
                    let _ = w.write_all(b"x");
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };

    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let c = client(Some(dev_pki()), Duration::from_secs(10));
        // A well-signed request whose payload is swapped for the hostile one.
        let signed = Request::parse(&signed_request(1)).expect("request parses");
        let payload = utf7(
            &url,
            "<AnmalanFranArbetsgivare xmlns=\"http://schema.forsakringskassan.se/integration/isassistansersattning/ioa/anmalanfranarbetsgivare/1\"/>",
        );
        let hostile_payload = Request {
            payload,
            ..signed
        }
        .to_xml();
        // And an envelope that is itself UTF-7 with a hidden DOCTYPE.
        let hostile_envelope = utf7(
            &url,
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body/></soapenv:Envelope>",
        );
        let mut sends = Vec::new();
        for i in 0..40 {
            let body = if i % 2 == 0 {
                hostile_payload.clone()
            } else {
                hostile_envelope.clone()
            };
            let (c, u) = (c.clone(), h.url(eioa_fk::PATH_TEST));
            sends.push(tokio::spawn(async move { post(&c, &u, body).await }));
        }
        for (i, s) in sends.into_iter().enumerate() {
            let r = s.await.unwrap().expect("the stand-in answers every request");
            let body = r.bytes().await.unwrap();
            // The payload is FK's XmlValidationError; a broken envelope is a plain
            // client fault (FK-E001). Either way the encoding is named, not read.
            let text = match Response::parse(&body) {
                Ok(Response::Fault(eioa_model::soap::Fault {
                    detail: Some(FaultDetail::XmlValidationError { message }),
                    ..
                })) if i % 2 == 0 => message,
                Ok(Response::Fault(f)) if i % 2 == 1 => f.faultstring,
                other => panic!("{i}: expected a fault naming the encoding, got {other:?}"),
            };
            assert!(text.contains("EIOA-X002") && text.contains("UTF-7"), "{i}: {text}");
        }
        let health = c.get(h.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        h.stop().await;
    });
    stop.store(true, Ordering::Relaxed);
    watchdog.join().unwrap();
    assert_eq!(
        opened.load(Ordering::SeqCst),
        0,
        "the stand-in opened a file named by a client"
    );
}
