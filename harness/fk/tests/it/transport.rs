//! Transport and document rules: path, method, content type, SOAPAction, size, GETs.

use crate::support::*;
use eioa_fk::{FkConfig, Verdict, PATH_PROD, PATH_TEST, SOAP_ACTION};

fn valid_body() -> Vec<u8> {
    request_with(
        notification(1).to_xml().into_bytes(),
        vec![placeholder_underskrift()],
    )
}

fn headers(ct: Option<&str>, action: Option<&str>) -> Vec<(String, String)> {
    let mut h = Vec::new();
    if let Some(ct) = ct {
        h.push(("content-type".to_string(), ct.to_string()));
    }
    if let Some(a) = action {
        h.push(("soapaction".to_string(), a.to_string()));
    }
    h
}

#[test]
fn unknown_path_is_404() {
    let fk = fk();
    let out = fk.handle(&eioa_fk::HttpRequest {
        method: "POST",
        path: "/shs2/FK.EIOA.Annat",
        query: None,
        headers: &soap_headers(),
        body: &valid_body(),
        client_cert_der: None,
    });
    let m = expect_rejected(&out, 404, "FK-T001");
    assert!(m.contains(PATH_TEST) && m.contains(PATH_PROD), "{m}");
}

#[test]
fn both_paths_reach_the_operation() {
    let fk = fk();
    for path in [PATH_TEST, PATH_PROD] {
        let (resp, verdict) = fk.handle(&eioa_fk::HttpRequest {
            method: "POST",
            path,
            query: None,
            headers: &soap_headers(),
            body: &valid_body(),
            client_cert_der: None,
        });
        // The placeholder signature fails, which proves the request got past transport.
        assert!(
            matches!(verdict, Verdict::SignatureValidationError { .. }),
            "{path}: {verdict:?}"
        );
        assert_eq!(resp.status, 500);
    }
}

#[test]
fn other_methods_are_405_with_allow() {
    let fk = fk();
    for method in ["PUT", "DELETE", "PATCH"] {
        let out = fk.handle(&eioa_fk::HttpRequest {
            method,
            path: PATH_TEST,
            query: None,
            headers: &soap_headers(),
            body: b"",
            client_cert_der: None,
        });
        expect_rejected(&out, 405, "FK-T002");
        assert!(out
            .0
            .headers
            .iter()
            .any(|(k, v)| k == "Allow" && v.contains("POST")));
    }
}

#[test]
fn soap12_content_type_is_its_own_mistake() {
    let out = post(
        &fk(),
        &headers(
            Some("application/soap+xml; charset=utf-8"),
            Some(SOAP_ACTION),
        ),
        &valid_body(),
    );
    let m = expect_rejected(&out, 415, "FK-T003");
    assert!(m.contains("SOAP 1.2"), "{m}");
}

#[test]
fn wrong_or_missing_content_type_is_415() {
    for ct in [Some("application/json"), Some("application/xml"), None] {
        let out = post(&fk(), &headers(ct, Some(SOAP_ACTION)), &valid_body());
        expect_rejected(&out, 415, "FK-T004");
    }
}

#[test]
fn soap_action_quoted_or_not_is_accepted() {
    for a in [SOAP_ACTION.to_string(), format!("\"{SOAP_ACTION}\"")] {
        let (_, v) = post(&fk(), &headers(Some("text/xml"), Some(&a)), &valid_body());
        assert!(!matches!(v, Verdict::Rejected { .. }), "{a}: {v:?}");
    }
}

#[test]
fn wrong_or_missing_soap_action_is_500_client_fault() {
    for a in [Some("\"urn:something:else\""), Some("\"\""), None] {
        let out = post(
            &fk(),
            &headers(Some("text/xml; charset=utf-8"), a),
            &valid_body(),
        );
        let m = expect_rejected(&out, 500, "FK-T005");
        assert!(m.contains(SOAP_ACTION), "{m}");
    }
}

#[test]
fn oversized_body_is_413() {
    let mut c = config();
    c.max_body_bytes = 1000;
    let fk = eioa_fk::Fk::new(c);
    let out = post_soap(&fk, &vec![b' '; 1001]);
    expect_rejected(&out, 413, "FK-T006");
}

#[test]
fn garbage_and_soap12_envelopes_are_rejected() {
    let out = post_soap(&fk(), b"this is not xml");
    expect_rejected(&out, 500, "FK-E001");
    let s12 = String::from_utf8(valid_body()).unwrap().replace(
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    let out = post_soap(&fk(), s12.as_bytes());
    expect_rejected(&out, 500, "FK-E002");
}

#[test]
fn request_element_against_contract_schema() {
    // No underskrift at all: the Responder schema requires at least one.
    let body = request_with(notification(1).to_xml().into_bytes(), vec![]);
    let m = expect_rejected(&post_soap(&fk(), &body), 500, "FK-E003");
    assert!(m.contains("underskrift"), "{m}");
}

#[test]
fn health_is_200() {
    let (resp, v) = get(&fk(), "/health", None);
    assert_eq!(resp.status, 200);
    assert_eq!(
        v,
        Verdict::Served {
            what: "health".into()
        }
    );
}

#[test]
fn wsdl_points_at_base_url_and_served_schemas() {
    let fk = fk();
    let (resp, v) = get(&fk, PATH_TEST, Some("wsdl"));
    assert_eq!(resp.status, 200);
    assert_eq!(
        v,
        Verdict::Served {
            what: "wsdl".into()
        }
    );
    let wsdl = String::from_utf8(resp.body).unwrap();
    let endpoint = format!("https://fk.test:8020{PATH_TEST}");
    assert!(wsdl.contains(&format!("location=\"{endpoint}\"")), "{wsdl}");
    assert!(
        !wsdl.contains("forsakringskassan.se"),
        "the real address is gone"
    );
    let xsd = format!("{endpoint}?xsd=SkickaAnmalanFranArbetsgivareResponder_1.0.xsd");
    assert!(
        wsdl.contains(&format!("schemaLocation=\"{xsd}\"")),
        "{wsdl}"
    );

    // Each schema location resolves through this service.
    let (resp, _) = get(
        &fk,
        PATH_TEST,
        Some("xsd=SkickaAnmalanFranArbetsgivareResponder_1.0.xsd"),
    );
    assert_eq!(resp.status, 200);
    let responder = String::from_utf8(resp.body).unwrap();
    assert!(
        responder.contains(&format!("schemaLocation=\"{endpoint}?xsd=xmlmime.xsd\"")),
        "{responder}"
    );
    let (resp, _) = get(&fk, PATH_TEST, Some("xsd=xmlmime.xsd"));
    assert_eq!(resp.status, 200);
    assert!(String::from_utf8(resp.body)
        .unwrap()
        .contains("base64Binary"));
}

#[test]
fn wsdl_without_base_url_uses_host() {
    let fk = eioa_fk::Fk::new(FkConfig {
        base_url: None,
        ..config()
    });
    let h = vec![("Host".to_string(), "127.0.0.1:4711".to_string())];
    let (resp, _) = fk.handle(&eioa_fk::HttpRequest {
        method: "GET",
        path: PATH_PROD,
        query: Some("wsdl"),
        headers: &h,
        body: b"",
        client_cert_der: None,
    });
    assert!(String::from_utf8(resp.body)
        .unwrap()
        .contains(&format!("location=\"http://127.0.0.1:4711{PATH_PROD}\"")));
}

#[test]
fn unknown_documents_are_404() {
    let fk = fk();
    expect_rejected(
        &get(
            &fk,
            PATH_TEST,
            Some("xsd=anmalan_fran_arbetsgivare_extern_v1.xsd"),
        ),
        404,
        "FK-T007",
    );
    expect_rejected(
        &get(&fk, PATH_TEST, Some("xsd=../../etc/passwd")),
        404,
        "FK-T007",
    );
    expect_rejected(&get(&fk, PATH_TEST, None), 404, "FK-T007");
    expect_rejected(&get(&fk, "/nothing", Some("wsdl")), 404, "FK-T001");
}

#[test]
fn every_truncation_of_a_valid_request_is_refused_cleanly() {
    let fk = trusting_fk();
    let n = notification(40);
    let body = request_for(&n, vec![signed(&n)]);
    // Every prefix (stepped to keep the test fast) is answered with a fault, never a panic.
    for len in (0..body.len()).step_by(37) {
        let (resp, verdict) = post_soap(&fk, &body[..len]);
        assert!(resp.status >= 400, "prefix {len}: {verdict:?}");
        assert!(!matches!(verdict, Verdict::Accepted { .. }));
        fault_of(&resp);
    }
}

#[test]
fn hostile_xml_is_refused_without_expansion() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&c;</soap:Body></soap:Envelope>"#;
    let (resp, verdict) = post_soap(&fk(), bomb);
    assert_eq!(resp.status, 500, "{verdict:?}");
    assert!(matches!(verdict, Verdict::Rejected { .. }), "{verdict:?}");
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let (resp, _) = post_soap(&fk(), deep.as_bytes());
    assert_eq!(resp.status, 500);
}
