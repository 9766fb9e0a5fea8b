//! What the `handle` bench and the `handle_count` example both set up: FK with the
//! embedded test PKI as its trust anchor, SOAP request headers, fixtures, and signed
//! requests. Included by path (`#[path]`), so both measure the same requests.

use eioa_fk::{Fk, FkConfig, HttpRequest, HttpResponse, Verdict, PATH_TEST, SOAP_ACTION};
use eioa_model::soap::{Request, Signaturtyp, Underskrift};
use eioa_sign::{SignInput, TestPki};
use eioa_validate::Validator;
use std::sync::Arc;

/// FK trusting the embedded test PKI, and the headers of a well-formed call.
pub struct Setup {
    pub pki: TestPki,
    pub fk: Fk,
    pub headers: Vec<(String, String)>,
}

impl Setup {
    pub fn new() -> Setup {
        let pki = TestPki::embedded().expect("embedded test PKI");
        let mut cfg = FkConfig::new(Arc::new(Validator::embedded().expect("schemas")));
        cfg.trust_anchors = vec![pki.ca_cert_der().to_vec()];
        let headers = vec![
            (
                "Content-Type".to_string(),
                "text/xml; charset=utf-8".to_string(),
            ),
            ("SOAPAction".to_string(), format!("\"{SOAP_ACTION}\"")),
        ];
        Setup {
            pki,
            fk: Fk::new(cfg),
            headers,
        }
    }

    /// `payload` in a request signed now by the test PKI's signer (a new nonce, so
    /// new bytes, each call).
    pub fn signed_request(&self, payload: Vec<u8>, id: &str, visible_text: &str) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc();
        let signed = eioa_sign::sign(
            &self.pki,
            self.pki.signer(),
            &SignInput {
                notifications: &[(id, &payload)],
                visible_text,
                when: now,
            },
        )
        .expect("sign");
        let d = now.date();
        Request {
            payload,
            underskrifter: vec![Underskrift {
                signaturtyp: Signaturtyp::Anordnare,
                signatur: signed.signature_xml,
                ocspresponse: signed.ocsp_der,
                signaturdatum: format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            }],
        }
        .to_xml()
    }

    /// `Fk::handle` on a POST of `body` to the test path.
    pub fn call(&self, body: &[u8]) -> (HttpResponse, Verdict) {
        self.fk.handle(&HttpRequest {
            method: "POST",
            path: PATH_TEST,
            query: None,
            headers: &self.headers,
            body,
            client_cert_der: None,
        })
    }
}

/// A file under `fixtures/`.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}
