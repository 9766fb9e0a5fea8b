//! What one request costs FK's behaviour model, without transport: a valid signed
//! request (accepted; FK allows re-sending the same notification with its
//! signature), the same notification under a different signature each time (one
//! signer, so only the certification path and OCSP verdicts are remembered), and a
//! payload it refuses.
//!
//! `cargo bench -p eioa-fk`

use criterion::{criterion_group, criterion_main, Criterion};
use eioa_fk::{Fk, FkConfig, HttpRequest, Verdict, PATH_TEST, SOAP_ACTION};
use eioa_model::soap::{Request, Signaturtyp};
use eioa_sign::{SignInput, TestPki};
use eioa_validate::Validator;
use std::sync::Arc;

fn signed_request(pki: &TestPki, payload: Vec<u8>, id: &str) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc();
    let signed = eioa_sign::sign(
        pki,
        pki.signer(),
        &SignInput {
            notifications: &[(id, &payload)],
            visible_text: "bench",
            when: now,
        },
    )
    .expect("sign");
    let d = now.date();
    Request {
        payload,
        underskrifter: vec![eioa_model::soap::Underskrift {
            signaturtyp: Signaturtyp::Anordnare,
            signatur: signed.signature_xml,
            ocspresponse: signed.ocsp_der,
            signaturdatum: format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        }],
    }
    .to_xml()
}

fn bench(c: &mut Criterion) {
    let pki = TestPki::embedded().expect("embedded test PKI");
    let mut cfg = FkConfig::new(Arc::new(Validator::embedded().expect("schemas")));
    cfg.trust_anchors = vec![pki.ca_cert_der().to_vec()];
    let fk = Fk::new(cfg);
    let headers = vec![
        (
            "Content-Type".to_string(),
            "text/xml; charset=utf-8".to_string(),
        ),
        ("SOAPAction".to_string(), format!("\"{SOAP_ACTION}\"")),
    ];
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/../../fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    };
    let valid = fixture("valid/anordnare-inom-ees.xml");
    let id = eioa_model::peek_id(&valid).expect("id");
    let ok_body = signed_request(&pki, valid.clone(), &id);
    // Each signature has its own nonce: distinct bytes, one signer. More of them than
    // the verifier remembers, so that cycling through them always misses.
    let distinct: Vec<Vec<u8>> = (0..eioa_sign::DEFAULT_CACHE_ENTRIES + 88)
        .map(|_| signed_request(&pki, valid.clone(), &id))
        .collect();
    let bad = fixture("invalid/EIOA-R002/personnummer-check-digit.xml");
    let bad_id = eioa_model::peek_id(&bad).expect("id");
    let bad_body = signed_request(&pki, bad, &bad_id);
    let call = |body: &[u8]| {
        fk.handle(&HttpRequest {
            method: "POST",
            path: PATH_TEST,
            query: None,
            headers: &headers,
            body,
            client_cert_der: None,
        })
    };
    assert!(matches!(call(&ok_body).1, Verdict::Accepted { .. }));
    assert!(matches!(
        call(&bad_body).1,
        Verdict::XmlValidationError { .. }
    ));
    let mut g = c.benchmark_group("handle");
    g.bench_function("accepted", |b| b.iter(|| call(&ok_body)));
    let mut next = distinct.iter().cycle();
    g.bench_function("accepted-distinct-signatures", |b| {
        b.iter(|| call(next.next().expect("a cycle never ends")))
    });
    g.bench_function("xml-validation-error", |b| b.iter(|| call(&bad_body)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
