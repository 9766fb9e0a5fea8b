//! Calls `Fk::handle` N times on one kind of request, for counting instructions per
//! call: run it under `valgrind --tool=callgrind` with two different N and divide the
//! difference of the totals by the difference of N, so that set-up cancels out.
//!
//! `cargo build --release -p eioa-fk --example handle_count`
//! `valgrind --tool=callgrind target/release/examples/handle_count accepted 200`
//!
//! Cases: `accepted` (the same signed request again), `distinct` (a new signature
//! each call, one signer: 600 signatures are made during set-up whatever N is),
//! `invalid` (a payload with a rule finding).

use eioa_fk::{Fk, FkConfig, HttpRequest, Verdict, PATH_TEST, SOAP_ACTION};
use eioa_model::soap::{Request, Signaturtyp, Underskrift};
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
            visible_text: "count",
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

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "accepted".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
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
    let bodies: Vec<Vec<u8>> = match case.as_str() {
        "accepted" => vec![signed_request(&pki, valid, &id)],
        "distinct" => (0..600)
            .map(|_| signed_request(&pki, valid.clone(), &id))
            .collect(),
        "invalid" => {
            let bad = fixture("invalid/EIOA-R002/personnummer-check-digit.xml");
            let bad_id = eioa_model::peek_id(&bad).expect("id");
            vec![signed_request(&pki, bad, &bad_id)]
        }
        other => panic!("unknown case {other}: accepted, distinct or invalid"),
    };
    let mut accepted = 0usize;
    for body in bodies.iter().cycle().take(n) {
        let (_, verdict) = fk.handle(&HttpRequest {
            method: "POST",
            path: PATH_TEST,
            query: None,
            headers: &headers,
            body,
            client_cert_der: None,
        });
        accepted += usize::from(matches!(verdict, Verdict::Accepted { .. }));
    }
    println!("{case}: {n} calls, {accepted} accepted");
}
