//! The caching [`Verifier`] gives exactly the verdict a fresh verification gives, for
//! generated certificate sets (rcgen) and OCSP responses, at request times before,
//! inside and after their validity, including when the clock passes an expiry between
//! two calls that hit the cache.

use super::chain::{ca, issuing, key, params, signing};
use super::{sign_as, WHEN};
use der::{Decode, Encode};
use eioa_sign::*;
use proptest::prelude::*;
use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};
use sha2::Sha256;
use std::sync::OnceLock;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_ocsp::builder::OcspResponseBuilder;
use x509_ocsp::{CertId, CertStatus, OcspGeneralizedTime, RevokedInfo, SingleResponse};

/// One signer's material: its signature (KeyInfo: signer, issuing CA), the DER of both.
struct Case {
    what: &'static str,
    signed: Signed,
    leaf_der: Vec<u8>,
    issuer_der: Vec<u8>,
    /// Every validity boundary on the path, for request times right at them.
    edges: Vec<OffsetDateTime>,
}

struct Material {
    cases: Vec<Case>,
    /// Anchor sets: the right root, a root that issued none of it, both.
    anchor_sets: Vec<Vec<Vec<u8>>>,
    /// OCSP responses per case, with what they are.
    ocsp: Vec<Vec<(String, Vec<u8>)>>,
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn valid(mut p: CertificateParams, from: i64, to: i64) -> CertificateParams {
    p.not_before = WHEN + days(from);
    p.not_after = WHEN + days(to);
    p
}

fn gtime(t: OffsetDateTime) -> OcspGeneralizedTime {
    let secs = u64::try_from(t.unix_timestamp()).unwrap();
    OcspGeneralizedTime::from(
        der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs)).unwrap(),
    )
}

/// An OCSP response by the issuing CA about `leaf`.
fn ocsp(
    issuer_der: &[u8],
    leaf_der: &[u8],
    status: CertStatus,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
) -> Vec<u8> {
    let issuer = Certificate::from_der(issuer_der).unwrap();
    let leaf = Certificate::from_der(leaf_der).unwrap();
    let id = CertId::from_cert::<Sha256>(&issuer, &leaf).unwrap();
    let mut single = SingleResponse::new(id, status, gtime(this_update));
    if let Some(n) = next_update {
        single = single.with_next_update(gtime(n));
    }
    let mut signing = rsa::pkcs1v15::SigningKey::<Sha256>::new(key().0.clone());
    OcspResponseBuilder::new(issuer.tbs_certificate.subject.clone())
        .with_single_response(single)
        .sign::<_, rsa::pkcs1v15::Signature>(&mut signing, None, gtime(this_update))
        .unwrap()
        .to_der()
        .unwrap()
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let (rsa, kp) = key();
        let root = valid(params("Cache Root", ca(), issuing()), -400, 400)
            .self_signed(kp)
            .unwrap();
        let other = valid(params("Other Root", ca(), issuing()), -400, 400)
            .self_signed(kp)
            .unwrap();
        let long = valid(params("Cache Issuing CA", ca(), issuing()), -200, 200)
            .signed_by(kp, &root, kp)
            .unwrap();
        let short = valid(params("Cache Short CA", ca(), issuing()), -200, 20)
            .signed_by(kp, &root, kp)
            .unwrap();
        let leaf = |cn: &str| params(cn, IsCa::ExplicitNoCa, signing());
        let mut eku = valid(leaf("Eku Server"), -30, 30);
        eku.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaves: Vec<(&'static str, CertificateParams, bool)> = vec![
            ("valid", valid(leaf("Valid Signer"), -30, 30), true),
            ("expired", valid(leaf("Expired Signer"), -60, -1), true),
            ("not yet valid", valid(leaf("Future Signer"), 1, 60), true),
            ("server-auth EKU", eku, true),
            (
                "keyUsage without signing",
                valid(
                    params(
                        "Encrypting Signer",
                        IsCa::ExplicitNoCa,
                        vec![KeyUsagePurpose::KeyEncipherment],
                    ),
                    -30,
                    30,
                ),
                true,
            ),
            (
                "issuer expires first",
                valid(leaf("Short Chain Signer"), -30, 30),
                false,
            ),
        ];
        let mut cases = Vec::new();
        let mut all_ocsp = Vec::new();
        for (what, p, via_long) in leaves {
            let inter = if via_long { &long } else { &short };
            let inter_ends = if via_long { 200 } else { 20 };
            let edges = vec![
                WHEN - days(400),
                WHEN + days(400),
                WHEN - days(200),
                WHEN + days(inter_ends),
                p.not_before,
                p.not_after,
            ];
            let cert = p.signed_by(kp, inter, kp).unwrap();
            let pki = TestPki::from_parts(
                Signer::from_der(rsa.clone(), inter.der()).unwrap(),
                Signer::from_der(rsa.clone(), cert.der()).unwrap(),
            );
            let signed = sign_as(&pki, pki.signer());
            let (leaf_der, issuer_der) = (cert.der().to_vec(), inter.der().to_vec());
            let revoked = RevokedInfo {
                revocation_time: gtime(WHEN - days(2)),
                revocation_reason: None,
            };
            let mut responses = vec![("as signed".to_string(), signed.ocsp_der.clone())];
            for (name, status) in [
                ("good", CertStatus::good()),
                ("revoked", CertStatus::revoked(revoked)),
                ("unknown", CertStatus::unknown()),
            ] {
                for (span, this, next) in [
                    ("open", WHEN - days(1), None),
                    ("a week", WHEN - days(1), Some(WHEN + days(6))),
                    ("from the future", WHEN + days(3), Some(WHEN + days(10))),
                ] {
                    let der = ocsp(&issuer_der, &leaf_der, status, this, next);
                    responses.push((format!("{name}, {span}"), der));
                }
            }
            all_ocsp.push(responses);
            cases.push(Case {
                what,
                signed,
                leaf_der,
                issuer_der,
                edges,
            });
        }
        Material {
            cases,
            anchor_sets: vec![
                vec![root.der().to_vec()],
                vec![other.der().to_vec()],
                vec![other.der().to_vec(), root.der().to_vec()],
            ],
            ocsp: all_ocsp,
        }
    })
}

/// One long-lived verifier per anchor set: its caches fill across cases, as a
/// server's do.
fn shared(set: usize) -> &'static Verifier {
    static V: OnceLock<Vec<Verifier>> = OnceLock::new();
    &V.get_or_init(|| {
        material()
            .anchor_sets
            .iter()
            .map(|a| Verifier::new(a.clone(), 64))
            .collect()
    })[set]
}

/// A request time: anywhere from 500 days before to 500 days after `WHEN`, or within
/// two seconds of a validity boundary of the case's path (or OCSP times).
fn request_time(case: usize) -> impl Strategy<Value = OffsetDateTime> {
    let mut near: Vec<OffsetDateTime> = material().cases[case].edges.clone();
    near.extend([
        WHEN - days(1),
        WHEN + days(3),
        WHEN + days(6),
        WHEN + days(10),
    ]);
    prop_oneof![
        (-500 * 86_400i64..500 * 86_400).prop_map(|s| WHEN + Duration::seconds(s)),
        (prop::sample::select(near), -2i64..=2).prop_map(|(t, s)| t + Duration::seconds(s)),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, usize, usize, OffsetDateTime, OffsetDateTime)> {
    let m = material();
    (0..m.cases.len(), 0..m.anchor_sets.len()).prop_flat_map(|(case, set)| {
        (
            Just(case),
            Just(set),
            0..material().ocsp[case].len(),
            request_time(case),
            request_time(case),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_cache_hit_gives_the_fresh_verdict((case, set, o, t1, t2) in scenario()) {
        let m = material();
        let c = &m.cases[case];
        let anchors = &m.anchor_sets[set];
        let xml = &c.signed.signature_xml;
        let fresh1 = verify(xml, anchors, t1);
        let fresh2 = verify(xml, anchors, t2);
        // A cold verifier, then the warm shared one, each asked at t1, t2, t1 again:
        // the second and third calls hit whatever the first stored.
        for v in [&Verifier::new(anchors.clone(), 4), shared(set)] {
            prop_assert_eq!(&v.verify(xml, t1), &fresh1, "{} at {} (first)", c.what, t1);
            prop_assert_eq!(&v.verify(xml, t2), &fresh2, "{} at {} after {}", c.what, t2, t1);
            prop_assert_eq!(&v.verify(xml, t1), &fresh1, "{} at {} again", c.what, t1);
        }

        let (name, der) = &m.ocsp[case][o];
        for issuer in [&c.issuer_der, &anchors[0]] {
            let fresh1 = check_ocsp(der, &c.leaf_der, issuer, t1);
            let fresh2 = check_ocsp(der, &c.leaf_der, issuer, t2);
            for v in [&Verifier::new(anchors.clone(), 4), shared(set)] {
                prop_assert_eq!(&v.check_ocsp(der, &c.leaf_der, issuer, t1), &fresh1, "ocsp {} at {}", name, t1);
                prop_assert_eq!(&v.check_ocsp(der, &c.leaf_der, issuer, t2), &fresh2, "ocsp {} at {} after {}", name, t2, t1);
                prop_assert_eq!(&v.check_ocsp(der, &c.leaf_der, issuer, t1), &fresh1, "ocsp {} at {} again", name, t1);
            }
            // Found beside the signature it came with; and under one digest shared by
            // every case, so that entries for other bytes meet in the same slot and
            // must not be taken for these.
            let (_, digest) = shared(set).verify_and_digest(xml, t1);
            for slot in [digest, [0; 32]] {
                for v in [&Verifier::new(anchors.clone(), 4), shared(set)] {
                    prop_assert_eq!(&v.check_ocsp_beside(&slot, der, &c.leaf_der, issuer, t1), &fresh1, "ocsp {} beside at {}", name, t1);
                    prop_assert_eq!(&v.check_ocsp_beside(&slot, der, &c.leaf_der, issuer, t2), &fresh2, "ocsp {} beside at {} after {}", name, t2, t1);
                    prop_assert_eq!(&v.check_ocsp_beside(&slot, der, &c.leaf_der, issuer, t1), &fresh1, "ocsp {} beside at {} again", name, t1);
                }
            }
        }
    }
}

/// The cases above are not all alike: some verify, some are refused for time, some
/// for the chain, and the OCSP responses give every verdict. Without this, a
/// generator that only made refusals would pass the property trivially.
#[test]
fn the_generated_cases_cover_every_verdict() {
    let m = material();
    let anchors = &m.anchor_sets[0];
    let mut classes = std::collections::BTreeSet::new();
    for c in &m.cases {
        for t in [WHEN, WHEN + days(25), WHEN + days(100), WHEN - days(100)] {
            classes.insert(match verify(&c.signed.signature_xml, anchors, t) {
                Ok(_) => "ok",
                Err(e) => e.class(),
            });
        }
    }
    for want in [
        "ok",
        "certificate-expired",
        "certificate-not-yet-valid",
        "untrusted-chain",
    ] {
        assert!(classes.contains(want), "{want} missing from {classes:?}");
    }
    let wrong = verify(&m.cases[0].signed.signature_xml, &m.anchor_sets[1], WHEN).unwrap_err();
    assert_eq!(wrong.class(), "untrusted-chain", "{wrong}");
    let c = &m.cases[0];
    let mut ocsp_classes = std::collections::BTreeSet::new();
    for (_, der) in &m.ocsp[0] {
        for t in [WHEN, WHEN + days(8), WHEN + days(4)] {
            ocsp_classes.insert(match check_ocsp(der, &c.leaf_der, &c.issuer_der, t) {
                Ok(_) => "ok",
                Err(e) => e.class(),
            });
        }
    }
    for want in ["ok", "ocsp-not-good", "ocsp-not-current"] {
        assert!(
            ocsp_classes.contains(want),
            "{want} missing from {ocsp_classes:?}"
        );
    }
}

/// The window of a remembered path ends with its first certificate to expire: a
/// request after it is refused even though the path verified a moment before.
#[test]
fn a_remembered_path_is_refused_once_a_certificate_on_it_expires() {
    let m = material();
    let c = &m.cases[5];
    assert_eq!(c.what, "issuer expires first");
    let v = Verifier::new(m.anchor_sets[0].clone(), 4);
    let xml = &c.signed.signature_xml;
    v.verify(xml, WHEN).expect("valid at WHEN");
    let after = WHEN + days(20) + Duration::seconds(1);
    let err = v.verify(xml, after).unwrap_err();
    assert_eq!(err.class(), "certificate-expired", "{err}");
    assert_eq!(Err(err), verify(xml, &m.anchor_sets[0], after));
}
