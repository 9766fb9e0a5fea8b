//! Shared builders: fictitious notifications, requests and the FK under test.

use eioa_fk::{Fk, FkConfig, HttpRequest, HttpResponse, Verdict, PATH_TEST, SOAP_ACTION};
use eioa_model::ident::{orgnr, personnummer};
use eioa_model::soap::{FaultDetail, Request, Response, Signaturtyp, Underskrift};
use eioa_model::{Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person};
use eioa_validate::Validator;
use std::sync::{Arc, OnceLock};
use time::macros::{date, datetime};
use time::OffsetDateTime;

/// The fixed clock of these tests.
pub const NOW: OffsetDateTime = datetime!(2025-03-14 10:00 UTC);

pub fn validator() -> Arc<Validator> {
    static V: OnceLock<Arc<Validator>> = OnceLock::new();
    V.get_or_init(|| Arc::new(Validator::embedded().expect("embedded schema set compiles")))
        .clone()
}

pub fn config() -> FkConfig {
    let mut c = FkConfig::new(validator());
    c.now = Some(NOW);
    c.base_url = Some("https://fk.test:8020".into());
    c
}

pub fn fk() -> Fk {
    Fk::new(config())
}

/// A valid notification with fictitious numbers; `n` varies id and serials.
pub fn notification(n: u16) -> Notification {
    Notification {
        id: format!("3f2a7c1e-5b4d-4e8f-9a6b-{:012x}", 0x1000 + u64::from(n)),
        person: Person {
            personnummer: personnummer(date!(1961 - 04 - 12), 100 + n, false),
            fornamn: "Tora".into(),
            efternamn: "Testsson".into(),
        },
        assistent: Assistent {
            personnummer: personnummer(date!(1990 - 09 - 21), 200 + n, false),
            fornamn: "Alva".into(),
            efternamn: "Provberg".into(),
            anstallningsdatum: "2025-02-01".into(),
            narstaende: false,
            bosatt: Bosatt::InnanforEes,
            andring_galler_from: None,
        },
        arbetsgivare: Arbetsgivare::Anordnare(Anordnare {
            namn: Some("Assistans Exempel AB".into()),
            organisationsnummer: orgnr("556000016"),
            kontaktperson: Some("Kim Kontakt".into()),
            telefonnummer: Some("0101234567".into()),
            anstallning: Anstallning::AnstalldAvAnordnare,
        }),
        telefonnummer_anordnare: "0101234567".into(),
    }
}

/// A request around a payload with one placeholder signature (enough for checks that
/// come before the signature stage).
pub fn request_with(payload: Vec<u8>, underskrifter: Vec<Underskrift>) -> Vec<u8> {
    Request {
        payload,
        underskrifter,
    }
    .to_xml()
}

pub fn placeholder_underskrift() -> Underskrift {
    Underskrift {
        signaturtyp: Signaturtyp::Anordnare,
        signatur: b"<Signature/>".to_vec(),
        ocspresponse: vec![0x30, 0x03, 0x0a, 0x01, 0x00],
        signaturdatum: "2025-03-14".into(),
    }
}

pub fn soap_headers() -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "text/xml; charset=utf-8".into()),
        ("SOAPAction".into(), format!("\"{SOAP_ACTION}\"")),
    ]
}

pub fn post(fk: &Fk, headers: &[(String, String)], body: &[u8]) -> (HttpResponse, Verdict) {
    fk.handle(&HttpRequest {
        method: "POST",
        path: PATH_TEST,
        query: None,
        headers,
        body,
        client_cert_der: None,
    })
}

pub fn post_soap(fk: &Fk, body: &[u8]) -> (HttpResponse, Verdict) {
    post(fk, &soap_headers(), body)
}

pub fn get(fk: &Fk, path: &str, query: Option<&str>) -> (HttpResponse, Verdict) {
    fk.handle(&HttpRequest {
        method: "GET",
        path,
        query,
        headers: &[],
        body: b"",
        client_cert_der: None,
    })
}

/// The fault in a response body (panics with the body when it is not one).
pub fn fault_of(resp: &HttpResponse) -> eioa_model::soap::Fault {
    match Response::parse(&resp.body) {
        Ok(Response::Fault(f)) => f,
        other => panic!(
            "expected a SOAP fault, got {other:?}: {}",
            String::from_utf8_lossy(&resp.body)
        ),
    }
}

/// Asserts an `XmlValidationError` fault from this rule; returns its message.
#[track_caller]
pub fn expect_xml_error(out: &(HttpResponse, Verdict), rule: &str) -> String {
    let (resp, verdict) = out;
    assert_eq!(resp.status, 500, "{verdict:?}");
    match verdict {
        Verdict::XmlValidationError { rule: r, .. } => {
            assert_eq!(r.trim_end_matches("(inferred)"), rule, "{verdict:?}")
        }
        v => panic!("expected XmlValidationError {rule}, got {v:?}"),
    }
    let f = fault_of(resp);
    assert_eq!(f.code_local(), "Client");
    match f.detail {
        Some(FaultDetail::XmlValidationError { message }) => {
            assert!(
                message.starts_with(rule),
                "message names the rule: {message}"
            );
            message
        }
        d => panic!("expected XmlValidationError detail, got {d:?}"),
    }
}

/// Asserts a `SignatureValidationError` fault from this rule; returns its message.
#[track_caller]
pub fn expect_sig_error(out: &(HttpResponse, Verdict), rule: &str) -> String {
    let (resp, verdict) = out;
    assert_eq!(resp.status, 500, "{verdict:?}");
    match verdict {
        Verdict::SignatureValidationError { rule: r, .. } => {
            assert_eq!(r.trim_end_matches("(inferred)"), rule, "{verdict:?}")
        }
        v => panic!("expected SignatureValidationError {rule}, got {v:?}"),
    }
    match fault_of(resp).detail {
        Some(FaultDetail::SignatureValidationError { message }) => {
            assert!(
                message.starts_with(rule),
                "message names the rule: {message}"
            );
            message
        }
        d => panic!("expected SignatureValidationError detail, got {d:?}"),
    }
}

/// Asserts a plain rejection with this status and rule and a detail-less Client fault.
#[track_caller]
pub fn expect_rejected(out: &(HttpResponse, Verdict), status: u16, rule: &str) -> String {
    let (resp, verdict) = out;
    assert_eq!(resp.status, status, "{verdict:?}");
    match verdict {
        Verdict::Rejected {
            rule: r,
            status: s,
            message,
        } => {
            assert_eq!(r.trim_end_matches("(inferred)"), rule, "{verdict:?}");
            assert_eq!(*s, status);
            let f = fault_of(resp);
            assert_eq!(f.code_local(), "Client");
            assert_eq!(f.detail, None);
            assert!(f.faultstring.contains(rule), "{}", f.faultstring);
            message.clone()
        }
        v => panic!("expected Rejected {status} {rule}, got {v:?}"),
    }
}

/// One test PKI for the whole binary (RSA key generation is slow), valid around [`NOW`].
pub fn pki() -> &'static eioa_sign::TestPki {
    static P: OnceLock<eioa_sign::TestPki> = OnceLock::new();
    P.get_or_init(|| {
        eioa_sign::TestPki::generate_valid(
            NOW - time::Duration::days(365),
            NOW + time::Duration::days(5 * 365),
        )
        .expect("test pki")
    })
}

/// A second, unrelated CA with its own signer.
pub fn other_pki() -> &'static eioa_sign::TestPki {
    static P: OnceLock<eioa_sign::TestPki> = OnceLock::new();
    P.get_or_init(|| {
        eioa_sign::TestPki::generate_valid(
            NOW - time::Duration::days(365),
            NOW + time::Duration::days(5 * 365),
        )
        .expect("second test pki")
    })
}

/// FK trusting [`pki`]'s CA.
pub fn trusting_fk() -> Fk {
    let mut c = config();
    c.trust_anchors = vec![pki().ca_cert_der().to_vec()];
    Fk::new(c)
}

/// Signs these notifications with one signature by `signer` of `pki`.
pub fn sign_many(
    pki: &eioa_sign::TestPki,
    signer: &eioa_sign::Signer,
    ns: &[&Notification],
) -> Underskrift {
    let payloads: Vec<(String, Vec<u8>)> = ns
        .iter()
        .map(|n| (n.id.clone(), n.to_xml().into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = payloads
        .iter()
        .map(|(i, p)| (i.as_str(), p.as_slice()))
        .collect();
    let lines: Vec<eioa_sign::VisibleLine> = ns
        .iter()
        .map(|n| eioa_sign::VisibleLine {
            name: format!("{} {}", n.assistent.fornamn, n.assistent.efternamn),
            personnummer: n.assistent.personnummer.clone(),
        })
        .collect();
    let text = eioa_sign::visible_text(&lines, NOW);
    let signed = eioa_sign::sign(
        pki,
        signer,
        &eioa_sign::SignInput {
            notifications: &refs,
            visible_text: &text,
            when: NOW,
        },
    )
    .expect("signing works");
    Underskrift {
        signaturtyp: Signaturtyp::Anordnare,
        signatur: signed.signature_xml,
        ocspresponse: signed.ocsp_der,
        signaturdatum: "2025-03-14".into(),
    }
}

/// A notification signed by the default test signer.
pub fn signed(n: &Notification) -> Underskrift {
    sign_many(pki(), pki().signer(), &[n])
}

/// The full request for a notification and its signatures.
pub fn request_for(n: &Notification, underskrifter: Vec<Underskrift>) -> Vec<u8> {
    request_with(n.to_xml().into_bytes(), underskrifter)
}
