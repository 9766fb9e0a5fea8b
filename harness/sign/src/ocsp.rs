//! OCSP responses: the test CA answers for its signers; received responses are checked.

use crate::dsig::{public_key, verify_rsa};
use crate::{SignError, SignatureError, Signer, TestPki};
use der::{Decode, Encode};
use rsa::pkcs1v15::SigningKey;
use sha2::Sha256;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_ocsp::builder::OcspResponseBuilder;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, OcspResponseStatus,
    SingleResponse,
};

const ID_PKIX_OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";

/// The certificate status an OCSP response reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    Revoked,
    Unknown,
}

/// What a checked OCSP response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspInfo {
    pub status: OcspStatus,
    pub produced_at: OffsetDateTime,
    /// When the status was known to be correct.
    pub this_update: OffsetDateTime,
    /// When newer information will be available, if the responder says.
    pub next_update: Option<OffsetDateTime>,
}

/// How far a response's thisUpdate may lie ahead of the verifier's clock: the
/// responder's and the verifier's clocks are not the same clock.
pub const OCSP_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// An OCSP response's verdict for a signer and issuer that does not depend on the
/// clock (signature, certificate id, status), with the times checked per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OcspFacts(OcspInfo);

impl OcspFacts {
    /// The verdict at `at`: refused once nextUpdate has passed, or while thisUpdate
    /// lies more than [`OCSP_CLOCK_SKEW`] ahead (RFC 6960 3.2, items 5 and 6).
    pub(crate) fn at(self, at: OffsetDateTime) -> Result<OcspInfo, SignatureError> {
        let info = self.0;
        if info.this_update > at + OCSP_CLOCK_SKEW {
            return Err(SignatureError::OcspNotCurrent(format!(
                "its thisUpdate {} is after the time of checking, {at}",
                info.this_update
            )));
        }
        if let Some(next) = info.next_update.filter(|&n| at > n) {
            return Err(SignatureError::OcspNotCurrent(format!(
                "its nextUpdate {next} has passed at the time of checking, {at}"
            )));
        }
        Ok(info)
    }
}

fn offset_time(t: &OcspGeneralizedTime, what: &str) -> Result<OffsetDateTime, SignatureError> {
    let secs = t.0.to_unix_duration().as_secs();
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .map_err(|e| unparsable(format!("{what}: {e}")))
}

fn gtime(t: OffsetDateTime) -> Result<OcspGeneralizedTime, SignError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| SignError::Time(t.to_string()))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|_| SignError::Time(t.to_string()))?;
    Ok(OcspGeneralizedTime::from(dt))
}

/// A successful, CA-signed OCSP response saying `signer`'s certificate is good at `when`.
pub(crate) fn respond(
    pki: &TestPki,
    signer: &Signer,
    when: OffsetDateTime,
) -> Result<Vec<u8>, SignError> {
    let ca = pki.ca();
    let cert_id = CertId::from_cert::<Sha256>(ca.cert(), signer.cert())
        .map_err(|e| SignError::Ocsp(e.to_string()))?;
    let now = gtime(when)?;
    let resp = OcspResponseBuilder::new(ca.cert().tbs_certificate.subject.clone())
        .with_single_response(SingleResponse::new(cert_id, CertStatus::good(), now));
    let mut signing = SigningKey::<Sha256>::new(ca.key().clone());
    let resp = resp
        .sign::<_, rsa::pkcs1v15::Signature>(&mut signing, None, now)
        .map_err(|e| SignError::Ocsp(e.to_string()))?;
    resp.to_der().map_err(|source| SignError::Der {
        what: "ocsp response",
        source,
    })
}

fn unparsable(e: impl std::fmt::Display) -> SignatureError {
    SignatureError::OcspUnparsable(e.to_string())
}

fn verifies(
    basic: &BasicOcspResponse,
    tbs: &[u8],
    by: &Certificate,
) -> Result<bool, SignatureError> {
    let Ok(key) = public_key(by) else {
        return Ok(false);
    };
    verify_rsa(
        &key,
        &basic.signature_algorithm.oid.to_string(),
        tbs,
        basic.signature.raw_bytes(),
    )
}

/// Parses and verifies an OCSP response for `signer_cert_der` issued by `issuer_der`:
/// successful, a basic response signed by the issuer (or by a responder certificate
/// the issuer signed), holding a status for this very certificate, that status
/// good, and current at `at` (thisUpdate not ahead of it by more than
/// [`OCSP_CLOCK_SKEW`], nextUpdate, when given, not passed).
pub fn check_ocsp(
    ocsp_der: &[u8],
    signer_cert_der: &[u8],
    issuer_der: &[u8],
    at: OffsetDateTime,
) -> Result<OcspInfo, SignatureError> {
    facts(ocsp_der, signer_cert_der, issuer_der)?.at(at)
}

/// Everything [`check_ocsp`] checks that does not depend on the clock.
pub(crate) fn facts(
    ocsp_der: &[u8],
    signer_cert_der: &[u8],
    issuer_der: &[u8],
) -> Result<OcspFacts, SignatureError> {
    let signer = Certificate::from_der(signer_cert_der)
        .map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
    let issuer = Certificate::from_der(issuer_der)
        .map_err(|e| SignatureError::BadCertificate(e.to_string()))?;
    let resp = OcspResponse::from_der(ocsp_der).map_err(unparsable)?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(SignatureError::OcspNotSuccessful(format!(
            "{:?}",
            resp.response_status
        )));
    }
    let bytes = resp
        .response_bytes
        .ok_or_else(|| unparsable("no response bytes"))?;
    if bytes.response_type.to_string() != ID_PKIX_OCSP_BASIC {
        return Err(unparsable(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(unparsable)?;
    let tbs = basic.tbs_response_data.to_der().map_err(unparsable)?;
    let mut signed = verifies(&basic, &tbs, &issuer)?;
    if !signed {
        // A delegated responder: its certificate travels in the response, signed by the issuer.
        for responder in basic.certs.iter().flatten() {
            let rtbs = responder.tbs_certificate.to_der().map_err(unparsable)?;
            let issued = responder.tbs_certificate.issuer == issuer.tbs_certificate.subject
                && verify_rsa(
                    &public_key(&issuer)?,
                    &responder.signature_algorithm.oid.to_string(),
                    &rtbs,
                    responder.signature.raw_bytes(),
                )?;
            if issued && verifies(&basic, &tbs, responder)? {
                signed = true;
                break;
            }
        }
    }
    if !signed {
        return Err(SignatureError::OcspNotSignedByIssuer);
    }
    let expected = CertId::from_cert::<Sha256>(&issuer, &signer).map_err(unparsable)?;
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|s| {
            let id = &s.cert_id;
            id.serial_number == expected.serial_number
                // Hashes are compared when they are SHA-256; other hash algorithms rely on
                // the serial and on the issuer's signature checked above.
                && (id.hash_algorithm.oid.to_string() != SHA256_OID
                    || (id.issuer_name_hash == expected.issuer_name_hash && id.issuer_key_hash == expected.issuer_key_hash))
        })
        .ok_or(SignatureError::OcspWrongSigner)?;
    let status = match single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good,
        CertStatus::Revoked(_) => OcspStatus::Revoked,
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    };
    if status != OcspStatus::Good {
        return Err(SignatureError::OcspNotGood(
            format!("{status:?}").to_lowercase(),
        ));
    }
    Ok(OcspFacts(OcspInfo {
        status,
        produced_at: offset_time(&basic.tbs_response_data.produced_at, "producedAt")?,
        this_update: offset_time(&single.this_update, "thisUpdate")?,
        next_update: single
            .next_update
            .as_ref()
            .map(|t| offset_time(t, "nextUpdate"))
            .transpose()?,
    }))
}
