//! BankID-shaped test signatures for E-IOA, made with the harness's own test CA.
//!
//! [`sign`] produces an xmldsig `Signature` in the shape BankID returns (references to
//! `#bidSignedData` and `#bidKeyInfo`, `bankIdSignedData` with the visible text and the
//! non-visible payload binding) plus a DER OCSP response signed by the test CA.
//! [`verify`] and [`check_ocsp`] check such signatures against configurable trust
//! anchors, so real BankID test signatures can be checked with BankID's test roots.
//! [`Verifier`] does the same for a server: anchors read once, certification paths
//! and OCSP verdicts remembered, every time-dependent check made per request.
//!
//! Invariant: every digest and the signature value are computed over
//! [`eioa_validate::c14n::canonicalize`] of the final document, the same function a
//! verifier applies to the received bytes.

mod cache;
mod chain;
mod dsig;
mod error;
mod ocsp;
mod pki;
mod xml;

pub use cache::{Verifier, DEFAULT_CACHE_ENTRIES};
pub use chain::read_trust_anchors;
pub use dsig::{
    binding, bindings, sign, verify, visible_text, SignInput, Signed, Verified, VisibleLine,
    BANKID_NS, C14N_ALG, DSIG_NS, RSA_SHA256_ALG, SHA256_ALG,
};
pub use error::{SignError, SignatureError};
pub use ocsp::{check_ocsp, OcspInfo, OcspStatus, OCSP_CLOCK_SKEW};
pub use pki::{generate_key, Signer, SignerSpec, TestPki, CA_NAME};
pub use rsa::RsaPrivateKey;
