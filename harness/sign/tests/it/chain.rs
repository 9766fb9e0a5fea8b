//! Certification paths with an intermediate CA, made with rcgen: what RFC 5280
//! demands of each certificate on the path (basicConstraints, keyUsage, path
//! length), and which files are accepted as trust anchors.

use super::{pki, signed_with, WHEN};
use eioa_sign::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256,
};
use rsa::pkcs8::EncodePrivateKey;
use std::sync::OnceLock;

/// One RSA key for every certificate here (distinct names keep the paths apart);
/// generating keys is slow.
pub(super) fn key() -> &'static (RsaPrivateKey, KeyPair) {
    static K: OnceLock<(RsaPrivateKey, KeyPair)> = OnceLock::new();
    K.get_or_init(|| {
        let rsa = pki().signer_key_for_tests();
        let der = rsa.to_pkcs8_der().unwrap();
        let kp = KeyPair::from_pkcs8_der_and_sign_algo(
            &pki_types::PrivatePkcs8KeyDer::from(der.as_bytes()),
            &PKCS_RSA_SHA256,
        )
        .unwrap();
        (rsa, kp)
    })
}

pub(super) fn params(cn: &str, ca: IsCa, usages: Vec<KeyUsagePurpose>) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CountryName, "SE");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = ca;
    p.key_usages = usages;
    p.not_before = WHEN - time::Duration::days(30);
    p.not_after = WHEN + time::Duration::days(30);
    p
}

pub(super) fn ca() -> IsCa {
    IsCa::Ca(BasicConstraints::Unconstrained)
}

pub(super) fn issuing() -> Vec<KeyUsagePurpose> {
    vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]
}

pub(super) fn signing() -> Vec<KeyUsagePurpose> {
    vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ]
}

/// Root -> intermediate -> signer, with the given intermediate and signer. Returns
/// the root (DER, the trust anchor) and a signature whose KeyInfo holds the signer
/// and the intermediate.
fn chain(
    root: CertificateParams,
    inter: CertificateParams,
    leaf: CertificateParams,
) -> (Vec<u8>, Signed) {
    let (rsa, kp) = key();
    let root = root.self_signed(kp).unwrap();
    let inter = inter.signed_by(kp, &root, kp).unwrap();
    let leaf = leaf.signed_by(kp, &inter, kp).unwrap();
    let pki = TestPki::from_parts(
        Signer::from_der(rsa.clone(), inter.der()).unwrap(),
        Signer::from_der(rsa.clone(), leaf.der()).unwrap(),
    );
    let signed = super::sign_as(&pki, pki.signer());
    (root.der().to_vec(), signed)
}

fn root() -> CertificateParams {
    params("Test Root", ca(), issuing())
}

fn leaf() -> CertificateParams {
    params("Testa Testsson", IsCa::ExplicitNoCa, signing())
}

fn refused(root: CertificateParams, inter: CertificateParams, leaf: CertificateParams) -> String {
    let (anchor, s) = chain(root, inter, leaf);
    let err = verify(&s.signature_xml, &[anchor], WHEN).unwrap_err();
    assert_eq!(err.class(), "untrusted-chain", "{err}");
    err.to_string()
}

#[test]
fn a_chain_through_an_intermediate_ca_is_accepted() {
    let (anchor, s) = chain(root(), params("Test Issuing CA", ca(), issuing()), leaf());
    let v = verify(&s.signature_xml, &[anchor], WHEN).unwrap();
    assert!(!v.signer_cert_der.is_empty());
}

#[test]
fn an_end_entity_certificate_cannot_act_as_an_intermediate() {
    // Issue #11 item 6: a leaf (CA:false) that signed another certificate.
    let e = refused(
        root(),
        params("Not A CA", IsCa::ExplicitNoCa, signing()),
        leaf(),
    );
    assert!(e.contains("CA:false"), "{e}");
}

#[test]
fn an_intermediate_without_key_cert_sign_is_refused() {
    let e = refused(
        root(),
        params(
            "Signing-only CA",
            ca(),
            vec![KeyUsagePurpose::DigitalSignature],
        ),
        leaf(),
    );
    assert!(e.contains("keyCertSign"), "{e}");
}

#[test]
fn a_path_longer_than_the_root_allows_is_refused() {
    let root = params(
        "Test Root",
        IsCa::Ca(BasicConstraints::Constrained(0)),
        issuing(),
    );
    let e = refused(root, params("Test Issuing CA", ca(), issuing()), leaf());
    assert!(e.contains("pathLenConstraint"), "{e}");
}

#[test]
fn a_signer_whose_key_usage_forbids_signing_is_refused() {
    let leaf = params(
        "Testa Testsson",
        IsCa::ExplicitNoCa,
        vec![KeyUsagePurpose::KeyEncipherment],
    );
    let e = refused(root(), params("Test Issuing CA", ca(), issuing()), leaf);
    assert!(e.contains("digitalSignature"), "{e}");
}

#[test]
fn a_ca_certificate_cannot_sign_as_the_signer() {
    let mut usages = issuing();
    usages.push(KeyUsagePurpose::DigitalSignature);
    let leaf = params("Testa Testsson", ca(), usages);
    let e = refused(root(), params("Test Issuing CA", ca(), issuing()), leaf);
    assert!(e.contains("CA certificate"), "{e}");
}

#[test]
fn the_embedded_test_signatures_still_verify() {
    let s = signed_with(pki().signer());
    verify(&s.signature_xml, &[pki().ca_cert_der().to_vec()], WHEN).unwrap();
}

#[test]
fn trust_anchor_files_must_hold_ca_certificates() {
    let (_, kp) = key();
    let ca_pem = root().self_signed(kp).unwrap().pem();
    let ca_der = pki().ca_cert_der().to_vec();
    assert_eq!(
        read_trust_anchors(ca_pem.as_bytes(), "ca.pem")
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        read_trust_anchors(format!("{ca_pem}\n{ca_pem}").as_bytes(), "two.pem")
            .unwrap()
            .len(),
        2
    );
    assert_eq!(read_trust_anchors(&ca_der, "ca.der").unwrap(), vec![ca_der]);

    let leaf_pem = leaf().self_signed(kp).unwrap().pem();
    let passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n";
    for (what, bytes, says) in [
        ("empty", "".as_bytes(), "empty"),
        ("blank", " \n".as_bytes(), "empty"),
        ("passwd", passwd.as_bytes(), "not an X.509 certificate"),
        ("key", kp.serialize_pem().leak().as_bytes(), "CERTIFICATE"),
        ("leaf", leaf_pem.as_bytes(), "not a CA certificate"),
    ] {
        let e = read_trust_anchors(bytes, what).unwrap_err().to_string();
        assert!(e.contains(what) && e.contains(says), "{what}: {e}");
    }
    let signing_ca = params(
        "Signing-only CA",
        ca(),
        vec![KeyUsagePurpose::DigitalSignature],
    )
    .self_signed(kp)
    .unwrap()
    .pem();
    let e = read_trust_anchors(signing_ca.as_bytes(), "ku.pem")
        .unwrap_err()
        .to_string();
    assert!(e.contains("keyCertSign"), "{e}");
}
