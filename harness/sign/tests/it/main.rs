mod cache;
mod chain;
mod known_answers;
mod multibyte;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use eioa_sign::*;
use std::path::Path;
use std::sync::OnceLock;
use time::macros::datetime;
use time::OffsetDateTime;

const WHEN: OffsetDateTime = datetime!(2026-03-02 10:15 UTC);

fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pki");
        TestPki::from_dir(&dir).expect("fixtures/pki holds the test PKI")
    })
}

fn payload() -> Vec<u8> {
    br#"<?xml version="1.0" encoding="UTF-8"?>
<AnmalanFranArbetsgivare xmlns="urn:example"><id>4a8db4b8-bc29-4406-901c-3f69298cabe3</id><x a="1"   b='2'/></AnmalanFranArbetsgivare>"#
        .to_vec()
}

const ID: &str = "4a8db4b8-bc29-4406-901c-3f69298cabe3";

fn signed_with(signer: &Signer) -> Signed {
    sign_as(pki(), signer)
}

/// A signature by `signer`, whose KeyInfo also holds `pki`'s CA certificate.
fn sign_as(pki: &TestPki, signer: &Signer) -> Signed {
    let p = payload();
    let text = visible_text(
        &[VisibleLine {
            name: "Assi Stent".into(),
            personnummer: "199001012380".into(),
        }],
        WHEN,
    );
    sign(
        pki,
        signer,
        &SignInput {
            notifications: &[(ID, &p)],
            visible_text: &text,
            when: WHEN,
        },
    )
    .unwrap()
}

fn signed() -> &'static Signed {
    static S: OnceLock<Signed> = OnceLock::new();
    S.get_or_init(|| signed_with(pki().signer()))
}

fn anchors() -> Vec<Vec<u8>> {
    vec![pki().ca_cert_der().to_vec()]
}

fn verify_text(xml: &str) -> Result<Verified, SignatureError> {
    verify(xml.as_bytes(), &anchors(), WHEN)
}

fn xml() -> String {
    String::from_utf8(signed().signature_xml.clone()).unwrap()
}

#[test]
fn sign_verify_round_trip() {
    let v = verify(&signed().signature_xml, &anchors(), WHEN).unwrap();
    assert_eq!(v.signer_cert_der, pki().signer().cert_der());
    assert!(
        v.visible_text
            .starts_with("1. Jag intygar idag 2026-03-02 vid: 10:15 att"),
        "{}",
        v.visible_text
    );
    assert!(v
        .visible_text
        .contains("Assi Stent 19900101-2380  är korrekt."));
    assert_eq!(v.non_visible_data, binding(ID, &payload()).unwrap());
    assert_eq!(v.bindings.len(), 1);
    v.check_binding(ID, &payload()).unwrap();
    let info = check_ocsp(
        &signed().ocsp_der,
        &v.signer_cert_der,
        pki().ca_cert_der(),
        WHEN,
    )
    .unwrap();
    assert_eq!(
        info,
        OcspInfo {
            status: OcspStatus::Good,
            produced_at: WHEN,
            this_update: WHEN,
            next_update: None,
        }
    );
}

#[test]
fn binding_is_over_canonical_form() {
    let b = binding(ID, &payload()).unwrap();
    let (id, hash) = b.split_once(',').unwrap();
    assert_eq!(id, ID);
    assert_eq!(hash.len(), 64);
    // Attribute quoting and spacing are not part of the canonical form...
    let same = String::from_utf8(payload())
        .unwrap()
        .replace("a=\"1\"   b='2'", "a='1' b=\"2\"");
    assert_eq!(binding(ID, same.as_bytes()).unwrap(), b);
    // ...but content is.
    let other = String::from_utf8(payload())
        .unwrap()
        .replace("a=\"1\"", "a=\"2\"");
    assert_ne!(binding(ID, other.as_bytes()).unwrap(), b);
    let p = payload();
    let two = bindings(&[("a", &p), ("b", &p)]).unwrap();
    assert_eq!(two.split(';').count(), 2);
    assert!(binding(ID, b"<not-closed>").is_err());
}

#[test]
fn changed_payload_byte_breaks_binding() {
    let v = verify(&signed().signature_xml, &anchors(), WHEN).unwrap();
    let mut p = payload();
    let pos = p.windows(4).position(|w| w == b"4a8d").unwrap();
    p[pos] = b'5';
    let err = v.check_binding(ID, &p).unwrap_err();
    assert!(
        matches!(err, SignatureError::BindingMismatch { .. }),
        "{err}"
    );
    assert_eq!(err.class(), "binding-mismatch");
    assert!(matches!(
        v.check_binding("other-id", &payload()),
        Err(SignatureError::BindingMissing { .. })
    ));
}

#[test]
fn edited_visible_data_is_a_digest_mismatch() {
    let x = xml();
    let start = x.find("wysiwys\">").unwrap() + "wysiwys\">".len();
    let end = start + x[start..].find('<').unwrap();
    let forged = format!(
        "{}{}{}",
        &x[..start],
        STANDARD.encode("1. Något annat"),
        &x[end..]
    );
    let err = verify_text(&forged).unwrap_err();
    assert_eq!(
        err,
        SignatureError::DigestMismatch {
            reference: "#bidSignedData".into()
        }
    );
    assert_eq!(err.class(), "digest-mismatch");
}

#[test]
fn swapped_certificate_is_a_digest_mismatch_on_key_info() {
    let x = xml();
    let leaf = STANDARD.encode(pki().signer().cert_der());
    let ca = STANDARD.encode(pki().ca_cert_der());
    let forged = x
        .replacen(&leaf, "LEAF", 1)
        .replacen(&ca, &leaf, 1)
        .replacen("LEAF", &ca, 1);
    assert_ne!(forged, x);
    assert_eq!(
        verify_text(&forged).unwrap_err(),
        SignatureError::DigestMismatch {
            reference: "#bidKeyInfo".into()
        }
    );
}

#[test]
fn swapped_signature_value_fails() {
    let other = signed_with(pki().signer());
    let sv = |s: &str| {
        let a = s.find("<SignatureValue>").unwrap() + "<SignatureValue>".len();
        let b = s.find("</SignatureValue>").unwrap();
        s[a..b].to_string()
    };
    let mine = xml();
    let theirs = String::from_utf8(other.signature_xml).unwrap();
    assert_ne!(
        sv(&mine),
        sv(&theirs),
        "signatures differ through the nonce"
    );
    let forged = mine.replace(&sv(&mine), &sv(&theirs));
    let err = verify_text(&forged).unwrap_err();
    assert_eq!(err, SignatureError::BadSignatureValue);
    assert_eq!(err.class(), "bad-signature-value");
}

#[test]
fn signer_from_another_ca_is_untrusted() {
    let p = pki();
    let other_ca = TestPki::root(
        "Some Other Test CA",
        p.signer_key_for_tests(),
        WHEN - time::Duration::days(30),
        WHEN + time::Duration::days(30),
    )
    .unwrap();
    let other = TestPki::from_parts(other_ca.clone(), other_ca);
    let spec = SignerSpec {
        name: "Testa Testsson".into(),
        personnummer: "198506152399".into(),
        not_before: WHEN - time::Duration::days(1),
        not_after: WHEN + time::Duration::days(1),
    };
    let foreign = other.issue(&spec, p.signer_key_for_tests()).unwrap();
    let s = signed_with(&foreign);
    let err = verify(&s.signature_xml, &anchors(), WHEN).unwrap_err();
    assert!(
        matches!(err, SignatureError::UntrustedChain { .. }),
        "{err}"
    );
    assert_eq!(err.class(), "untrusted-chain");
    // The same signature is fine for someone who trusts that CA.
    verify(&s.signature_xml, &[other.ca_cert_der().to_vec()], WHEN).unwrap();
}

#[test]
fn expired_and_not_yet_valid_signers() {
    let spec = |from: OffsetDateTime, to: OffsetDateTime| SignerSpec {
        name: "Testa Testsson".into(),
        personnummer: "198506152399".into(),
        not_before: from,
        not_after: to,
    };
    let day = time::Duration::days(1);
    let expired = pki().reissue(&spec(WHEN - day * 30, WHEN - day)).unwrap();
    let err = verify(&signed_with(&expired).signature_xml, &anchors(), WHEN).unwrap_err();
    assert!(
        matches!(err, SignatureError::CertificateExpired { .. }),
        "{err}"
    );
    let future = pki().reissue(&spec(WHEN + day, WHEN + day * 30)).unwrap();
    let err = verify(&signed_with(&future).signature_xml, &anchors(), WHEN).unwrap_err();
    assert!(
        matches!(err, SignatureError::CertificateNotYetValid { .. }),
        "{err}"
    );
}

#[test]
fn ocsp_for_another_certificate_is_rejected() {
    let other = pki()
        .reissue(&SignerSpec {
            name: "Annan Person".into(),
            personnummer: "197001012386".into(),
            not_before: WHEN - time::Duration::days(1),
            not_after: WHEN + time::Duration::days(1),
        })
        .unwrap();
    let s = signed_with(&other);
    let err = check_ocsp(
        &s.ocsp_der,
        pki().signer().cert_der(),
        pki().ca_cert_der(),
        WHEN,
    )
    .unwrap_err();
    assert_eq!(err, SignatureError::OcspWrongSigner);
    assert_eq!(err.class(), "ocsp-wrong-signer");
}

#[test]
fn ocsp_not_signed_by_issuer_and_garbage() {
    // Checked against the signer's certificate as "issuer": the CA's signature does not verify.
    let err = check_ocsp(
        &signed().ocsp_der,
        pki().signer().cert_der(),
        pki().signer().cert_der(),
        WHEN,
    )
    .unwrap_err();
    assert_eq!(err, SignatureError::OcspNotSignedByIssuer);
    let mut flipped = signed().ocsp_der.clone();
    let n = flipped.len();
    flipped[n - 10] ^= 0x01;
    let err = check_ocsp(
        &flipped,
        pki().signer().cert_der(),
        pki().ca_cert_der(),
        WHEN,
    )
    .unwrap_err();
    assert_eq!(err, SignatureError::OcspNotSignedByIssuer);
    let err = check_ocsp(
        b"\x30\x03\x0a\x01\x02",
        pki().signer().cert_der(),
        pki().ca_cert_der(),
        WHEN,
    )
    .unwrap_err();
    assert_eq!(err.class(), "ocsp-not-successful");
    for n in 0..signed().ocsp_der.len() {
        assert!(check_ocsp(
            &signed().ocsp_der[..n],
            pki().signer().cert_der(),
            pki().ca_cert_der(),
            WHEN,
        )
        .is_err());
    }
}

#[test]
fn structural_tampering_classes() {
    let x = xml();
    let cases: Vec<(String, &str)> = vec![
        (
            x.replace(RSA_SHA256_ALG, "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
            "unsupported-algorithm",
        ),
        (
            x.replace("URI=\"#bidKeyInfo\"", "URI=\"#elsewhere\""),
            "unexpected-references",
        ),
        (
            x.replace("Id=\"bidKeyInfo\"", "Id=\"bidSignedData\""),
            "ambiguous-reference",
        ),
        (
            x.replacen("<DigestValue>", "<DigestValue>*", 1),
            "bad-base64",
        ),
        (
            x.replace("<SignedInfo", "<Info")
                .replace("</SignedInfo>", "</Info>"),
            "missing-element",
        ),
        (x[..x.len() / 2].to_string(), "malformed-xml"),
        (
            format!("<!DOCTYPE x>{}", &x[x.find("<Signature").unwrap()..]),
            "malformed-xml",
        ),
    ];
    for (doc, class) in cases {
        let err = verify_text(&doc).unwrap_err();
        assert_eq!(err.class(), class, "{err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn pki_round_trips_through_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    pki().write_to(dir.path()).unwrap();
    let back = TestPki::from_dir(dir.path()).unwrap();
    assert_eq!(back.ca_cert_der(), pki().ca_cert_der());
    assert_eq!(back.signer().cert_der(), pki().signer().cert_der());
    std::fs::write(
        dir.path().join("signer.key.pem"),
        std::fs::read(dir.path().join("ca.key.pem")).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        TestPki::from_dir(dir.path()),
        Err(SignError::Pem { .. })
    ));
    assert!(matches!(
        TestPki::from_dir(&dir.path().join("missing")),
        Err(SignError::Read { .. })
    ));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn untrusted_bytes_never_panic(cut in 0usize..4000, flip in 0usize..4000, byte in proptest::prelude::any::<u8>()) {
        let mut doc = signed().signature_xml.clone();
        let i = flip % doc.len();
        doc[i] = byte;
        doc.truncate(cut.max(1).min(doc.len()));
        let _ = verify(&doc, &anchors(), WHEN);
        let mut o = signed().ocsp_der.clone();
        let j = flip % o.len();
        o[j] = byte;
        let _ = check_ocsp(&o, pki().signer().cert_der(), pki().ca_cert_der(), WHEN);
    }
}
