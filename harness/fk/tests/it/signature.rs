//! A valid signed request gets a tx-id; each signature failure class gets
//! `SignatureValidationError` with its rule.

use crate::support::*;
use eioa_fk::Verdict;
use eioa_model::soap::{Response, Signaturtyp};
use eioa_sign::SignerSpec;

/// Asserts a tx-id answer without warnings; returns the tx-id.
#[track_caller]
fn expect_accepted(out: &(eioa_fk::HttpResponse, Verdict)) -> String {
    let (tx_id, warnings) = expect_accepted_with_warnings(out);
    assert_eq!(warnings, vec![], "no warning expected");
    tx_id
}

#[track_caller]
fn expect_accepted_with_warnings(
    out: &(eioa_fk::HttpResponse, Verdict),
) -> (String, Vec<eioa_fk::Warning>) {
    let (resp, verdict) = out;
    assert_eq!(
        resp.status,
        200,
        "{verdict:?}: {}",
        String::from_utf8_lossy(&resp.body)
    );
    let Verdict::Accepted { tx_id, warnings } = verdict else {
        panic!("expected Accepted, got {verdict:?}")
    };
    match Response::parse(&resp.body) {
        Ok(Response::Accepted { tx_id: t }) => assert_eq!(&t, tx_id),
        other => panic!("expected a tx-id response, got {other:?}"),
    }
    let u = uuid::Uuid::parse_str(tx_id).expect("tx-id is a UUID");
    assert_eq!(u.get_version(), Some(uuid::Version::Random), "{tx_id}");
    assert_eq!(tx_id, &u.hyphenated().to_string(), "lowercase hyphenated");
    (tx_id.clone(), warnings.clone())
}

/// FK's FAQ: a sent notification cannot be changed; the same id with other content is
/// accepted but handled manually. The stand-in answers with a tx-id and records FK-W001.
#[test]
fn same_id_with_changed_content_is_accepted_with_a_warning() {
    let fk = trusting_fk();
    let n = notification(20);
    expect_accepted(&post_soap(&fk, &request_for(&n, vec![signed(&n)])));
    let mut changed = n.clone();
    changed.assistent.fornamn = "Annan".into();
    let (_, warnings) = expect_accepted_with_warnings(&post_soap(
        &fk,
        &request_for(&changed, vec![signed(&changed)]),
    ));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].rule, "FK-W001");
    assert!(
        warnings[0].message.contains(&n.id) && warnings[0].message.contains("new id"),
        "{}",
        warnings[0].message
    );
    // The changed content is now the latest: sending it again is a plain re-send.
    expect_accepted(&post_soap(
        &fk,
        &request_for(&changed, vec![signed(&changed)]),
    ));
    // A refused request is not remembered: only accepted notifications count.
    let mut refused = changed.clone();
    refused.assistent.fornamn = "Tredje".into();
    let mut bad = signed(&refused);
    bad.signatur = b"not a signature".to_vec();
    expect_sig_error(
        &post_soap(&fk, &request_for(&refused, vec![bad])),
        "FK-S002",
    );
    expect_accepted(&post_soap(
        &fk,
        &request_for(&changed, vec![signed(&changed)]),
    ));
}

#[test]
fn valid_signed_notification_gets_a_fresh_uuid_v4_tx_id() {
    let fk = trusting_fk();
    let n = notification(10);
    let body = request_for(&n, vec![signed(&n)]);
    let a = expect_accepted(&post_soap(&fk, &body));
    // Re-sending the same notification with its own signature is allowed (FAQ), with a new tx-id.
    let b = expect_accepted(&post_soap(&fk, &body));
    assert_ne!(a, b);
}

#[test]
fn provider_and_assistant_signatures_together() {
    let fk = trusting_fk();
    let n = notification(11);
    let mut second = signed(&n);
    second.signaturtyp = Signaturtyp::Assistent;
    expect_accepted(&post_soap(&fk, &request_for(&n, vec![signed(&n), second])));
}

#[test]
fn tampered_payload_breaks_the_binding() {
    let fk = trusting_fk();
    let n = notification(12);
    let u = signed(&n);
    let mut changed = n.clone();
    changed.assistent.fornamn = "Annan".into();
    let m = expect_sig_error(&post_soap(&fk, &request_for(&changed, vec![u])), "FK-S005");
    assert!(
        m.starts_with(
            "FK-S005(inferred): /SkickaAnmalanFranArbetsgivare/underskrift[1] (ANORDNARE):"
        ),
        "{m}"
    );
    assert!(m.contains(&n.id), "{m}");
}

#[test]
fn signature_for_another_notification_is_no_binding() {
    let fk = trusting_fk();
    let n = notification(13);
    let other = notification(14);
    let m = expect_sig_error(
        &post_soap(&fk, &request_for(&n, vec![signed(&other)])),
        "FK-S005",
    );
    assert!(m.contains("binds no notification"), "{m}");
}

#[test]
fn tampered_signature_value_or_signed_data_fails_crypto() {
    let fk = trusting_fk();
    let n = notification(15);
    let good = signed(&n);
    let text = String::from_utf8(good.signatur.clone()).unwrap();

    // Change the signature value.
    let start = text.find("<SignatureValue>").unwrap() + "<SignatureValue>".len();
    let mut bad = text.clone().into_bytes();
    bad[start + 5] = if bad[start + 5] == b'A' { b'B' } else { b'A' };
    let mut u = good.clone();
    u.signatur = bad;
    expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S003");

    // Change the signed time inside bankIdSignedData: its digest no longer matches.
    let mut u = good.clone();
    u.signatur = text
        .replace("2025-03-14T10:00:00Z", "2025-03-14T10:00:01Z")
        .into_bytes();
    assert_ne!(u.signatur, good.signatur, "signed time found");
    let m = expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S003");
    assert!(m.contains("digest"), "{m}");
}

#[test]
fn signer_from_another_ca_is_untrusted() {
    let fk = trusting_fk();
    let n = notification(16);
    let u = sign_many(other_pki(), other_pki().signer(), &[&n]);
    let m = expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S004");
    assert!(m.contains("trusted anchor"), "{m}");
}

#[test]
fn no_trust_anchor_configured_trusts_nothing() {
    let fk = fk();
    let n = notification(17);
    expect_sig_error(
        &post_soap(&fk, &request_for(&n, vec![signed(&n)])),
        "FK-S004",
    );
}

#[test]
fn expired_signer_certificate() {
    let fk = trusting_fk();
    let n = notification(18);
    let spec = SignerSpec {
        name: "Utgangen Testsson".into(),
        personnummer: eioa_model::ident::personnummer(
            time::macros::date!(1970 - 01 - 01),
            321,
            false,
        ),
        not_before: NOW - time::Duration::days(800),
        not_after: NOW - time::Duration::days(1),
    };
    let expired = pki().reissue(&spec).unwrap();
    let u = sign_many(pki(), &expired, &[&n]);
    let m = expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S004");
    assert!(m.contains("expired"), "{m}");
}

#[test]
fn one_signature_for_two_notifications_is_refused_the_second_time() {
    let fk = trusting_fk();
    let (a, b) = (notification(19), notification(20));
    let shared = sign_many(pki(), pki().signer(), &[&a, &b]);
    expect_accepted(&post_soap(&fk, &request_for(&a, vec![shared.clone()])));
    let m = expect_sig_error(
        &post_soap(&fk, &request_for(&b, vec![shared.clone()])),
        "FK-S006",
    );
    assert!(m.contains(&a.id) && m.contains(&b.id), "{m}");
    // The first notification may still be re-sent with it.
    expect_accepted(&post_soap(&fk, &request_for(&a, vec![shared])));
}

#[test]
fn refused_requests_do_not_consume_the_signature() {
    let fk = trusting_fk();
    let (a, b) = (notification(21), notification(22));
    let shared = sign_many(pki(), pki().signer(), &[&a, &b]);
    let mut future = shared.clone();
    future.signaturdatum = "2025-03-15".into();
    expect_sig_error(&post_soap(&fk, &request_for(&a, vec![future])), "FK-S008");
    // `a` was refused, so `b` is the first notification to use the signature.
    expect_accepted(&post_soap(&fk, &request_for(&b, vec![shared])));
}

#[test]
fn bad_ocsp_responses() {
    let fk = trusting_fk();
    let n = notification(23);
    let good = signed(&n);

    let mut u = good.clone();
    u.ocspresponse = b"not der at all".to_vec();
    expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S007");

    // A genuine OCSP response, but for another certificate.
    let other = sign_many(other_pki(), other_pki().signer(), &[&n]);
    let mut u = good.clone();
    u.ocspresponse = other.ocspresponse;
    let m = expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S007");
    assert!(m.contains("ocsp"), "{m}");
}

#[test]
fn future_signaturdatum() {
    let fk = trusting_fk();
    let n = notification(24);
    let mut u = signed(&n);
    u.signaturdatum = "2025-03-15".into();
    let m = expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S008");
    assert!(m.contains("2025-03-15") && m.contains("2025-03-14"), "{m}");
    // Today and earlier are fine; the first of the month is a known vendor habit.
    let mut u = signed(&n);
    u.signaturdatum = "2025-03-01".into();
    expect_accepted(&post_soap(&fk, &request_for(&n, vec![u])));
}

#[test]
fn garbage_base64_and_garbage_bytes() {
    let fk = trusting_fk();
    let n = notification(25);
    let good = signed(&n);

    // Not base64 at all in <signatur>: the schema's datatype error goes to the signature stage.
    let body = String::from_utf8(request_for(&n, vec![good.clone()])).unwrap();
    let b64 = base64_of(&good.signatur);
    let broken = body.replace(&b64, "***garbage***");
    assert_ne!(body, broken);
    let m = expect_sig_error(&post_soap(&fk, broken.as_bytes()), "FK-S001");
    assert!(m.contains("signatur"), "{m}");

    // Valid base64 of something that is not a signature.
    let mut u = good.clone();
    u.signatur = vec![0xde, 0xad, 0xbe, 0xef];
    expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S002");

    // An empty OCSP response.
    let mut u = good.clone();
    u.ocspresponse = Vec::new();
    expect_sig_error(&post_soap(&fk, &request_for(&n, vec![u])), "FK-S001");
}

#[test]
fn second_signature_failing_names_its_position() {
    let fk = trusting_fk();
    let n = notification(26);
    let mut bad = signed(&n);
    bad.signaturtyp = Signaturtyp::Assistent;
    bad.ocspresponse = b"x".to_vec();
    let m = expect_sig_error(
        &post_soap(&fk, &request_for(&n, vec![signed(&n), bad])),
        "FK-S007",
    );
    assert!(m.contains("underskrift[2] (ASSISTENT)"), "{m}");
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
