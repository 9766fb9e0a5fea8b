//! Trust anchors and certification paths for signer certificates.
//!
//! Path building and RFC 5280's checks are `rustls-webpki`'s (the verifier rustls
//! uses): signatures along the path, validity, basicConstraints (an end-entity
//! certificate never issues) and pathLenConstraint. webpki ignores keyUsage, so
//! two checks are added here: a CA on the path whose keyUsage is present must
//! have keyCertSign (RFC 5280 6.1.4 (n)), and the signer's keyUsage, when
//! present, must allow digitalSignature or nonRepudiation.

use std::cell::RefCell;
use std::time::Duration;

use der::{Decode, Encode};
use pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyPurposeIdIter};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::Certificate;

use crate::{SignError, SignatureError};

/// Algorithms accepted for certificate signatures along the path.
static ALGORITHMS: &[&dyn pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
];

/// No extendedKeyUsage is required of a signer certificate (or of its CAs).
///
/// EKU names purposes such as TLS client or server authentication. Neither BankID
/// nor FK names one for the certificates that sign notifications, and BankID's
/// end-user certificates are not issued with one to demand (an EKU required here
/// would refuse every real BankID test signature). What a signer certificate may
/// do is said by its keyUsage, which [`verify_path`] checks instead. A malformed
/// EKU extension is still an error.
struct NoEkuRequired;

impl webpki::ExtendedKeyUsageValidator for NoEkuRequired {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        for purpose in iter {
            purpose?;
        }
        Ok(())
    }
}

const OID_KEY_USAGE: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_BASIC_CONSTRAINTS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.19");

fn extension<'c, T: Decode<'c>>(
    cert: &'c Certificate,
    oid: der::asn1::ObjectIdentifier,
) -> Result<Option<T>, String> {
    let Some(ext) = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oid)
    else {
        return Ok(None);
    };
    T::from_der(ext.extn_value.as_bytes())
        .map(Some)
        .map_err(|e| format!("{}: extension {oid} cannot be read: {e}", subject(cert)))
}

fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

/// `Some(reason)` when `cert` may not issue certificates: its basicConstraints say
/// it is no CA, or its keyUsage lacks keyCertSign.
fn not_an_issuer(cert: &Certificate) -> Option<String> {
    match extension::<BasicConstraints>(cert, OID_BASIC_CONSTRAINTS) {
        Err(e) => return Some(e),
        Ok(Some(bc)) if !bc.ca => {
            return Some(format!(
                "{} is not a CA certificate (basicConstraints CA:false)",
                subject(cert)
            ))
        }
        Ok(_) => {}
    }
    match extension::<KeyUsage>(cert, OID_KEY_USAGE) {
        Err(e) => Some(e),
        Ok(Some(ku)) if !ku.key_cert_sign() => Some(format!(
            "{} may not sign certificates (its keyUsage lacks keyCertSign)",
            subject(cert)
        )),
        Ok(_) => None,
    }
}

/// Reads trust anchors for signer certificates from a file's bytes: one DER
/// certificate, or PEM with one or more `CERTIFICATE` blocks. Refuses an empty
/// file, anything that is not a certificate, and a certificate that may not issue
/// certificates (basicConstraints CA:false, or keyUsage without keyCertSign).
pub fn read_trust_anchors(bytes: &[u8], path: &str) -> Result<Vec<Vec<u8>>, SignError> {
    let err = |message: String| SignError::Pem {
        path: path.to_string(),
        what: "trust anchor certificate",
        message,
    };
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() {
        return Err(err("the file is empty".into()));
    }
    let certs: Vec<Vec<u8>> = if trimmed.starts_with(b"-----BEGIN") {
        let certs = Certificate::load_pem_chain(trimmed).map_err(|e| {
            err(format!(
                "not PEM with CERTIFICATE blocks only ({e}); \
                 a trust anchor is a CA certificate in PEM or DER"
            ))
        })?;
        certs
            .iter()
            .map(|c| c.to_der().map_err(|e| err(e.to_string())))
            .collect::<Result<_, _>>()?
    } else {
        vec![bytes.to_vec()]
    };
    if certs.is_empty() {
        return Err(err("no CERTIFICATE block".into()));
    }
    for der in &certs {
        let cert = Certificate::from_der(der).map_err(|e| {
            err(format!(
                "not an X.509 certificate ({e}); a trust anchor is a CA certificate in PEM or DER"
            ))
        })?;
        webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
            .map_err(|e| err(format!("{}: {e}", subject(&cert))))?;
        if let Some(reason) = not_an_issuer(&cert) {
            return Err(err(format!("{reason}: it cannot be a trust anchor")));
        }
    }
    Ok(certs)
}

/// Trust anchors read once: as webpki reads them, with their certificates, and an
/// identity (the SHA-256 of their DER) for keys of results that depend on them.
#[derive(Debug, Clone)]
pub(crate) struct TrustAnchors {
    ders: Vec<Vec<u8>>,
    /// An anchor that cannot be read is the error of every verification against the
    /// set, at the point a fresh verification reads them.
    parsed: Result<Vec<(TrustAnchor<'static>, Certificate)>, SignatureError>,
    id: [u8; 32],
}

impl TrustAnchors {
    pub(crate) fn new(ders: Vec<Vec<u8>>) -> Self {
        let parsed = ders
            .iter()
            .map(|der| {
                let bad = |e: &dyn std::fmt::Display| {
                    SignatureError::BadCertificate(format!("trust anchor: {e}"))
                };
                let cert = Certificate::from_der(der).map_err(|e| bad(&e))?;
                let anchor =
                    webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                        .map_err(|e| bad(&e))?
                        .to_owned();
                Ok((anchor, cert))
            })
            .collect();
        let mut h = Sha256::new();
        for der in &ders {
            h.update((der.len() as u64).to_le_bytes());
            h.update(der);
        }
        TrustAnchors {
            ders,
            parsed,
            id: h.finalize().into(),
        }
    }

    pub(crate) fn ders(&self) -> &[Vec<u8>] {
        &self.ders
    }

    pub(crate) fn id(&self) -> &[u8] {
        &self.id
    }
}

/// When every certificate of a verified path is valid: from the latest notBefore to
/// the earliest notAfter, in Unix seconds, bounds included (as RFC 5280 and webpki
/// count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub not_before: i64,
    pub not_after: i64,
}

impl Window {
    fn of(cert: &Certificate) -> Window {
        let v = &cert.tbs_certificate.validity;
        Window {
            not_before: secs(&v.not_before),
            not_after: secs(&v.not_after),
        }
    }

    fn and(self, other: Window) -> Window {
        Window {
            not_before: self.not_before.max(other.not_before),
            not_after: self.not_after.min(other.not_after),
        }
    }

    /// Whether `at` lies in the window. Times before 1970 never do: webpki reads them
    /// as 1970 itself, so the window says nothing about them.
    pub(crate) fn contains(&self, at: OffsetDateTime) -> bool {
        let at = at.unix_timestamp();
        at >= 0 && self.not_before <= at && at <= self.not_after
    }
}

fn secs(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn check_validity(cert: &Certificate, at: OffsetDateTime) -> Result<(), SignatureError> {
    let v = &cert.tbs_certificate.validity;
    let at = at.unix_timestamp();
    if at < secs(&v.not_before) {
        return Err(SignatureError::CertificateNotYetValid {
            subject: subject(cert),
            not_before: v.not_before.to_string(),
        });
    }
    if at > secs(&v.not_after) {
        return Err(SignatureError::CertificateExpired {
            subject: subject(cert),
            not_after: v.not_after.to_string(),
        });
    }
    Ok(())
}

/// Builds and checks a path from `leaf` through any of `intermediates` (the other
/// certificates of the signature's KeyInfo) to one of `trust_anchors`, every
/// certificate valid at `at`. Returns when the path found is valid.
pub(crate) fn verify_path(
    leaf: &Certificate,
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    trust_anchors: &TrustAnchors,
    at: OffsetDateTime,
) -> Result<Window, SignatureError> {
    let untrusted = |reason: String| SignatureError::UntrustedChain {
        subject: subject(leaf),
        reason,
    };
    // The signer first, so that its own expiry is named with its subject.
    check_validity(leaf, at)?;
    match extension::<KeyUsage>(leaf, OID_KEY_USAGE) {
        Err(e) => return Err(SignatureError::BadCertificate(e)),
        Ok(Some(ku)) if !ku.digital_signature() && !ku.non_repudiation() => {
            return Err(untrusted(
                "its keyUsage allows neither digitalSignature nor nonRepudiation".into(),
            ))
        }
        Ok(_) => {}
    }
    let anchors = trust_anchors.parsed.as_ref().map_err(Clone::clone)?;
    if anchors.is_empty() {
        return Err(untrusted("no trust anchor is configured".into()));
    }
    let webpki_anchors: Vec<TrustAnchor<'_>> = anchors.iter().map(|(a, _)| a.clone()).collect();
    let leaf_der = CertificateDer::from(leaf_der);
    let ee = EndEntityCert::try_from(&leaf_der)
        .map_err(|e| SignatureError::BadCertificate(format!("{}: {e}", subject(leaf))))?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(
        u64::try_from(at.unix_timestamp()).unwrap_or(0),
    ));
    // The keyUsage of each CA on a candidate path; webpki tries another path when
    // this refuses one, and the reason is kept for the error.
    let refused: RefCell<Option<String>> = RefCell::new(None);
    let check_cas = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
        let mut reason = None;
        for ca in path.intermediate_certificates() {
            reason = reason.or_else(|| match Certificate::from_der(ca.der().as_ref()) {
                Ok(cert) => not_an_issuer(&cert),
                Err(e) => Some(format!("an intermediate certificate cannot be read: {e}")),
            });
        }
        // webpki applies the pathLenConstraints of intermediates; the anchor's is
        // applied here, as the anchor's certificate is known.
        let cas = path.intermediate_certificates().count();
        if let Some((_, cert)) = anchors.iter().find(|(a, _)| a == path.anchor()) {
            if let Ok(Some(bc)) = extension::<BasicConstraints>(cert, OID_BASIC_CONSTRAINTS) {
                match bc.path_len_constraint {
                    Some(n) if cas > usize::from(n) => {
                        reason = reason.or(Some(format!(
                            "the path has {cas} intermediate CA(s), more than the pathLenConstraint \
                             of {n} of the trust anchor {}",
                            subject(cert)
                        )));
                    }
                    _ => {}
                }
            }
        }
        match reason {
            Some(reason) => {
                *refused.borrow_mut() = Some(reason);
                Err(webpki::Error::UnknownIssuer)
            }
            None => Ok(()),
        }
    };
    let path = ee
        .verify_for_usage(
            ALGORITHMS,
            &webpki_anchors,
            &intermediates,
            time,
            NoEkuRequired,
            None,
            Some(&check_cas),
        )
        .map_err(|e| match (e, refused.borrow_mut().take()) {
            (webpki::Error::UnknownIssuer, Some(reason)) => untrusted(reason),
            (e, _) => chain_error(e, &untrusted),
        })?;
    // webpki keeps only the anchor's name and key; its validity is checked here.
    let used = path.anchor();
    let mut window = Window::of(leaf);
    if let Some((_, cert)) = anchors.iter().find(|(a, _)| a == used) {
        check_validity(cert, at)?;
        window = window.and(Window::of(cert));
    }
    for ca in path.intermediate_certificates() {
        // Read when the path was checked: readable here as well.
        let cert = Certificate::from_der(ca.der().as_ref())
            .map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
        window = window.and(Window::of(&cert));
    }
    Ok(window)
}

fn chain_error(e: webpki::Error, untrusted: &dyn Fn(String) -> SignatureError) -> SignatureError {
    use webpki::Error as E;
    let in_chain = "a certificate in the signer's chain".to_string();
    let when = |t: UnixTime| {
        OffsetDateTime::from_unix_timestamp(i64::try_from(t.as_secs()).unwrap_or(i64::MAX))
            .map_or_else(|_| t.as_secs().to_string(), |d| d.to_string())
    };
    match e {
        E::CertExpired { not_after, .. } => SignatureError::CertificateExpired {
            subject: in_chain,
            not_after: when(not_after),
        },
        E::CertNotValidYet { not_before, .. } => SignatureError::CertificateNotYetValid {
            subject: in_chain,
            not_before: when(not_before),
        },
        E::UnknownIssuer => untrusted("no path to a trust anchor".into()),
        E::EndEntityUsedAsCa => untrusted(
            "a certificate that is not a CA (basicConstraints CA:false) issued another one".into(),
        ),
        E::CaUsedAsEndEntity => untrusted("the signer certificate is a CA certificate".into()),
        E::PathLenConstraintViolated => {
            untrusted("the path is longer than a CA's pathLenConstraint allows".into())
        }
        other => untrusted(other.to_string()),
    }
}
