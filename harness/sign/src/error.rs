//! Errors of signing (harness-side faults) and of verification (findings about a
//! received signature).

use eioa_validate::c14n::C14nError;

/// Why the harness could not produce a test signature or test PKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("could not generate an rsa key")]
    KeyGen(#[source] rsa::Error),
    #[error("could not build the {what} certificate: {message}")]
    Certificate { what: &'static str, message: String },
    #[error("could not build the ocsp response: {0}")]
    Ocsp(String),
    #[error("could not encode {what} as der")]
    Der {
        what: &'static str,
        #[source]
        source: der::Error,
    },
    #[error("could not canonicalise {what}")]
    C14n {
        what: String,
        #[source]
        source: C14nError,
    },
    #[error("could not compute the rsa signature")]
    Rsa(#[source] rsa::signature::Error),
    #[error("time {0} cannot be written into a certificate or ocsp response")]
    Time(String),
    #[error("could not read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not hold a {what}: {message}")]
    Pem {
        path: String,
        what: &'static str,
        message: String,
    },
    #[error("the signer certificate was not issued by this pki's ca")]
    ForeignSigner,
}

/// Why a received signature or OCSP response is not acceptable. Each variant is one
/// failure class; [`SignatureError::class`] names it stably.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("the signature is not well-formed xml: {0}")]
    MalformedXml(String),
    #[error("the signature has no {0} element")]
    MissingElement(String),
    #[error("the signature has more than one {0}, which makes its references ambiguous")]
    Ambiguous(String),
    #[error("the signature uses the unsupported {what} algorithm `{uri}`")]
    UnsupportedAlgorithm { what: &'static str, uri: String },
    #[error("the signature's references are {found:?}, expected #bidSignedData and #bidKeyInfo")]
    UnexpectedReferences { found: Vec<String> },
    #[error("the digest of reference {reference} does not match the signed content")]
    DigestMismatch { reference: String },
    #[error("the signature value does not verify with the signer certificate's key")]
    BadSignatureValue,
    #[error("element {element} does not hold valid base64")]
    BadBase64 {
        element: String,
        #[source]
        source: base64::DecodeError,
    },
    #[error("element {element} does not hold utf-8 text")]
    NotUtf8 { element: String },
    #[error("a certificate in the signature cannot be read: {0}")]
    BadCertificate(String),
    #[error("the signer certificate ({subject}) does not chain to a trusted anchor: {reason}")]
    UntrustedChain { subject: String, reason: String },
    #[error("certificate {subject} expired at {not_after}")]
    CertificateExpired { subject: String, not_after: String },
    #[error("certificate {subject} is not valid before {not_before}")]
    CertificateNotYetValid { subject: String, not_before: String },
    #[error("the non-visible data is not `{{id}},{{sha256 hex}}` entries joined by `;`: {0}")]
    MalformedBinding(String),
    #[error("the signature binds no notification with id {id}")]
    BindingMissing { id: String },
    #[error("the signature binds notification {id} to hash {signed}, but the payload sent hashes to {actual}")]
    BindingMismatch {
        id: String,
        signed: String,
        actual: String,
    },
    #[error("the signed content cannot be canonicalised: {0}")]
    Canonicalization(String),
    #[error("the ocsp response cannot be parsed: {0}")]
    OcspUnparsable(String),
    #[error("the ocsp response status is {0}, not successful")]
    OcspNotSuccessful(String),
    #[error("the ocsp response concerns another certificate than the signer's")]
    OcspWrongSigner,
    #[error("the ocsp response is not signed by the signer certificate's issuer")]
    OcspNotSignedByIssuer,
    #[error("the ocsp response reports the signer certificate as {0}")]
    OcspNotGood(String),
    #[error("the ocsp response is not current: {0}")]
    OcspNotCurrent(String),
}

impl SignatureError {
    /// A stable kebab-case name for the failure class.
    pub fn class(&self) -> &'static str {
        match self {
            SignatureError::MalformedXml(_) => "malformed-xml",
            SignatureError::MissingElement(_) => "missing-element",
            SignatureError::Ambiguous(_) => "ambiguous-reference",
            SignatureError::UnsupportedAlgorithm { .. } => "unsupported-algorithm",
            SignatureError::UnexpectedReferences { .. } => "unexpected-references",
            SignatureError::DigestMismatch { .. } => "digest-mismatch",
            SignatureError::BadSignatureValue => "bad-signature-value",
            SignatureError::BadBase64 { .. } => "bad-base64",
            SignatureError::NotUtf8 { .. } => "not-utf8",
            SignatureError::BadCertificate(_) => "bad-certificate",
            SignatureError::UntrustedChain { .. } => "untrusted-chain",
            SignatureError::CertificateExpired { .. } => "certificate-expired",
            SignatureError::CertificateNotYetValid { .. } => "certificate-not-yet-valid",
            SignatureError::MalformedBinding(_) => "binding-malformed",
            SignatureError::BindingMissing { .. } => "binding-missing",
            SignatureError::BindingMismatch { .. } => "binding-mismatch",
            SignatureError::Canonicalization(_) => "canonicalization",
            SignatureError::OcspUnparsable(_) => "ocsp-unparsable",
            SignatureError::OcspNotSuccessful(_) => "ocsp-not-successful",
            SignatureError::OcspWrongSigner => "ocsp-wrong-signer",
            SignatureError::OcspNotSignedByIssuer => "ocsp-not-signed-by-issuer",
            SignatureError::OcspNotGood(_) => "ocsp-not-good",
            SignatureError::OcspNotCurrent(_) => "ocsp-not-current",
        }
    }
}
