//! `Fk::handle` promises an answer for every input and never a panic: properties over
//! arbitrary bytes, arbitrary requests around arbitrary base64, and valid notifications
//! with arbitrary text in their fields, all through the whole handler.

use crate::support::*;
use eioa_fk::{HttpRequest, HttpResponse, Verdict, PATH_PROD, PATH_TEST, SOAP_ACTION};
use eioa_model::soap::{Request, Response, Signaturtyp, Underskrift};
use proptest::prelude::*;
use std::sync::OnceLock;

/// One FK for all cases: its memories (signatures, notification ids) fill up as a
/// long-running server's would.
fn shared_fk() -> &'static eioa_fk::Fk {
    static F: OnceLock<eioa_fk::Fk> = OnceLock::new();
    F.get_or_init(trusting_fk)
}

/// Every answer is one of the statuses the rule table names, and every refusal of the
/// operation is a SOAP fault a client can read.
fn check_answer(resp: &HttpResponse, verdict: &Verdict) -> Result<(), TestCaseError> {
    prop_assert!(
        [200, 404, 405, 413, 415, 500].contains(&resp.status),
        "status {} for {verdict:?}",
        resp.status
    );
    if matches!(
        verdict,
        Verdict::XmlValidationError { .. }
            | Verdict::SignatureValidationError { .. }
            | Verdict::Rejected { .. }
            | Verdict::ServerFault { .. }
    ) {
        let parsed = Response::parse(&resp.body);
        prop_assert!(
            matches!(parsed, Ok(Response::Fault(_))),
            "a refusal is a SOAP fault: {parsed:?}"
        );
    }
    Ok(())
}

fn handle(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (HttpResponse, Verdict) {
    shared_fk().handle(&HttpRequest {
        method,
        path,
        query: None,
        headers,
        body,
        client_cert_der: None,
    })
}

/// Text a base64 element might hold: mostly the alphabet, sometimes anything.
fn base64ish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9+/=\\s]{0,200}",
        any::<Vec<u8>>().prop_map(|b| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(b)
        }),
        ".{0,40}",
    ]
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        method in prop_oneof![Just("POST".to_string()), Just("GET".to_string()), Just("PUT".to_string()), ".{0,8}"],
        path in prop_oneof![Just(PATH_TEST.to_string()), Just(PATH_PROD.to_string()), ".{0,40}"],
        content_type in prop_oneof![Just("text/xml; charset=utf-8".to_string()), ".{0,30}"],
        action in prop_oneof![Just(format!("\"{SOAP_ACTION}\"")), ".{0,30}"],
    ) {
        let headers = vec![
            ("Content-Type".to_string(), content_type),
            ("SOAPAction".to_string(), action),
        ];
        let (resp, verdict) = handle(&method, &path, &headers, &body);
        check_answer(&resp, &verdict)?;
    }

    /// A well-formed request whose three base64 elements and signaturdatum hold
    /// anything, in a template so that the text need not survive the model's writer.
    #[test]
    fn soap_envelope_with_arbitrary_base64(
        payload in base64ish(),
        signatur in base64ish(),
        ocsp in base64ish(),
        datum in prop_oneof![Just("2025-03-14".to_string()), ".{0,16}"],
        typ in prop_oneof![Just("anordnare".to_string()), ".{0,10}"],
    ) {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ns=\"urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1\"><soap:Body><ns:SkickaAnmalanFranArbetsgivare><ns:anmalanfranarbetsgivare>{}</ns:anmalanfranarbetsgivare><ns:underskrift><ns:signaturtyp>{}</ns:signaturtyp><ns:signatur>{}</ns:signatur><ns:ocspresponse>{}</ns:ocspresponse><ns:signaturdatum>{}</ns:signaturdatum></ns:underskrift></ns:SkickaAnmalanFranArbetsgivare></soap:Body></soap:Envelope>",
            xml_escape(&payload), xml_escape(&typ), xml_escape(&signatur), xml_escape(&ocsp), xml_escape(&datum)
        );
        let (resp, verdict) = handle("POST", PATH_TEST, &soap_headers(), body.as_bytes());
        check_answer(&resp, &verdict)?;
    }

    /// Arbitrary payload bytes and signature bytes, base64-encoded by the model's
    /// writer: the payload and signature stages see anything.
    #[test]
    fn request_with_arbitrary_payload_and_signature(
        payload in proptest::collection::vec(any::<u8>(), 0..1024),
        signatur in proptest::collection::vec(any::<u8>(), 0..256),
        ocsp in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let body = Request {
            payload,
            underskrifter: vec![Underskrift {
                signaturtyp: Signaturtyp::Anordnare,
                signatur,
                ocspresponse: ocsp,
                signaturdatum: "2025-03-14".into(),
            }],
        }
        .to_xml();
        let (resp, verdict) = handle("POST", PATH_TEST, &soap_headers(), &body);
        check_answer(&resp, &verdict)?;
    }

    /// A valid notification with one field's text replaced by anything (dates with
    /// multi-byte characters among them), signed as it stands.
    #[test]
    fn notification_with_arbitrary_field_text(
        field in prop_oneof![
            Just("anstallningsdatum"), Just("id"), Just("personnummer"),
            Just("fornamn"), Just("organisationsnummer"), Just("telefonnummerAnordnare"),
        ],
        value in prop_oneof![
            "[0-9]{4}-[0-9é-]{2,8}",
            "\\PC{0,20}",
            "[0-9]{12}",
        ],
        n in 0u16..500,
    ) {
        let xml = notification(n).to_xml();
        let open = format!("<{field}>");
        let close = format!("</{field}>");
        let Some(start) = xml.find(&open).map(|i| i + open.len()) else {
            return Err(TestCaseError::fail(format!("no <{field}> in the notification")));
        };
        let end = start + xml[start..].find(&close).unwrap_or(0);
        let edited = format!("{}{}{}", &xml[..start], xml_escape(&value), &xml[end..]);
        let body = request_with(edited.into_bytes(), vec![placeholder_underskrift()]);
        let (resp, verdict) = handle("POST", PATH_TEST, &soap_headers(), &body);
        check_answer(&resp, &verdict)?;
    }
}
