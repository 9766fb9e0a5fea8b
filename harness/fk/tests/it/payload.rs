//! Payload rules: base64, XML, schema and business rules -> `XmlValidationError`.

use crate::support::*;

fn send_payload(payload: Vec<u8>) -> (eioa_fk::HttpResponse, eioa_fk::Verdict) {
    post_soap(
        &fk(),
        &request_with(payload, vec![placeholder_underskrift()]),
    )
}

#[test]
fn invalid_base64_payload() {
    let body = String::from_utf8(request_with(b"x".to_vec(), vec![placeholder_underskrift()]))
        .unwrap()
        .replace(
            "<ns:anmalanfranarbetsgivare>eA==<",
            "<ns:anmalanfranarbetsgivare>%%%not base64%%%<",
        );
    assert!(body.contains("%%%"), "payload replaced");
    let m = expect_xml_error(&post_soap(&fk(), body.as_bytes()), "FK-X001");
    assert!(m.contains("anmalanfranarbetsgivare"), "{m}");
}

#[test]
fn payload_not_well_formed() {
    let m = expect_xml_error(
        &send_payload(b"<AnmalanFranArbetsgivare><id>".to_vec()),
        "FK-X002",
    );
    assert!(m.contains("[EIOA-X"), "{m}");
}

#[test]
fn payload_schema_violation_names_the_path() {
    let xml = notification(2)
        .to_xml()
        .replace("<fornamn>Alva</fornamn>", "");
    assert!(!xml.contains("Alva"));
    let m = expect_xml_error(&send_payload(xml.into_bytes()), "FK-X003");
    assert!(m.contains("/AnmalanFranArbetsgivare/assistent"), "{m}");
    assert!(m.contains("[EIOA-S"), "{m}");
}

#[test]
fn payload_business_rule_violation() {
    // A personnummer with a wrong Luhn check digit passes the pattern, not the rules.
    let mut n = notification(3);
    let good = n.assistent.personnummer.clone();
    let last = good.as_bytes()[11] - b'0';
    n.assistent.personnummer = format!("{}{}", &good[..11], (last + 1) % 10);
    let m = expect_xml_error(&send_payload(n.to_xml().into_bytes()), "FK-X004");
    assert!(m.contains("personnummer"), "{m}");
}

#[test]
fn marker_false_is_rejected() {
    let xml = notification(4).to_xml();
    let bad = xml.replace(
        "<assistentAnstalldAvAnordnare>true<",
        "<assistentAnstalldAvAnordnare>false<",
    );
    assert_ne!(xml, bad);
    // The schema's enumeration error and rule R013 both name the element; the
    // answer leads with the rule, which says what to do instead.
    let m = expect_xml_error(&send_payload(bad.into_bytes()), "FK-X004");
    assert!(
        m.contains("assistentAnstalldAvAnordnare") && m.contains("EIOA-R013"),
        "{m}"
    );
}
