//! The client's TLS identity: a certificate chain and its private key.
//!
//! Two sources: PEM files (certificate chain + key; PKCS#1, SEC1, PKCS#8 and *encrypted* PKCS#8
//! keys) and PKCS#12 files (`.p12`/`.pfx`, as Expisoft delivers them). Both are parsed into the
//! same [`Identity`], which has already checked that the key matches the leaf certificate.
//! Whether the certificate is valid *now* is checked separately ([`Identity::check_validity`]),
//! because a loaded identity may be used for a long run.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

use crate::secret::Secret;

/// Why an identity could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A file could not be read.
    #[error("read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The PEM input is malformed.
    #[error("parse the pem input")]
    Pem(#[source] std::io::Error),
    /// The certificate input holds no certificate.
    #[error("find a certificate: the input holds none")]
    NoCertificate,
    /// The key input holds no private key.
    #[error("find a private key: the input holds none")]
    NoKey,
    /// The key is encrypted and no passphrase was given.
    #[error("decrypt the private key: it is encrypted and no passphrase was given")]
    PassphraseRequired,
    /// The passphrase does not open the key or the PKCS#12 file.
    #[error("decrypt the {what}: wrong passphrase")]
    WrongPassphrase {
        /// `private key` or `pkcs#12 file`.
        what: &'static str,
    },
    /// The encrypted key could not be decrypted for another reason (e.g. an unsupported scheme).
    #[error("decrypt the private key")]
    EncryptedKey(#[source] pkcs8::Error),
    /// The PKCS#12 file could not be read.
    #[error("read the pkcs#12 file")]
    Pkcs12(#[source] p12_keystore::error::Error),
    /// The PKCS#12 file holds no private key with a certificate chain.
    #[error("find a private key with its certificate in the pkcs#12 file: there is none")]
    Pkcs12NoKey,
    /// A certificate could not be parsed.
    #[error("parse the client certificate: {reason}")]
    BadCertificate {
        /// What the parser said.
        reason: String,
    },
    /// The key type is not supported, or the key is malformed.
    #[error("load the private key")]
    UnsupportedKey(#[source] rustls::Error),
    /// The private key does not belong to the leaf certificate.
    #[error("use the private key: it does not match the certificate {subject}")]
    KeyMismatch {
        /// The leaf certificate's subject.
        subject: String,
    },
    /// The leaf certificate has expired.
    #[error("use the client certificate {subject}: it expired at {not_after} (now {now})")]
    Expired {
        /// The leaf certificate's subject.
        subject: String,
        /// End of validity.
        not_after: OffsetDateTime,
        /// The time of the check.
        now: OffsetDateTime,
    },
    /// The leaf certificate is not valid yet.
    #[error(
        "use the client certificate {subject}: it is not valid before {not_before} (now {now})"
    )]
    NotYetValid {
        /// The leaf certificate's subject.
        subject: String,
        /// Start of validity.
        not_before: OffsetDateTime,
        /// The time of the check.
        now: OffsetDateTime,
    },
}

/// A client certificate chain (leaf first) and its private key, checked to belong together.
///
/// `Debug` shows the subject, validity and fingerprint, never the key.
#[derive(Clone)]
pub struct Identity {
    certified: Arc<CertifiedKey>,
    subject: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    sha256: String,
}

impl Identity {
    /// Builds an identity from PEM text: `cert_chain_pem` holds the leaf certificate first, then
    /// any intermediates; `key_pem` holds the key (an `ENCRYPTED PRIVATE KEY` block needs
    /// `passphrase`).
    pub fn from_pem(
        cert_chain_pem: &[u8],
        key_pem: &[u8],
        passphrase: Option<&Secret>,
    ) -> Result<Self, IdentityError> {
        let (chain, key) = pem_parts(cert_chain_pem, key_pem, passphrase)?;
        Self::from_der(chain, key)
    }

    /// Reads [`Identity::from_pem`]'s inputs from files.
    pub fn from_pem_files(
        cert_chain: &Path,
        key: &Path,
        passphrase: Option<&Secret>,
    ) -> Result<Self, IdentityError> {
        let cert_pem = read(cert_chain)?;
        let key_pem = read(key)?;
        Self::from_pem(&cert_pem, &key_pem, passphrase)
    }

    /// Builds an identity from a PKCS#12 archive (DER bytes) and its passphrase.
    pub fn from_pkcs12(der: &[u8], passphrase: &Secret) -> Result<Self, IdentityError> {
        let (certs, key) = pkcs12_parts(der, passphrase)?;
        Self::from_der(certs, key)
    }

    /// Reads a PKCS#12 file and calls [`Identity::from_pkcs12`].
    pub fn from_pkcs12_file(path: &Path, passphrase: &Secret) -> Result<Self, IdentityError> {
        Self::from_pkcs12(&read(path)?, passphrase)
    }
    /// Builds an identity from DER parts: the chain (leaf first) and the key.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, IdentityError> {
        let leaf = chain.first().ok_or(IdentityError::NoCertificate)?;
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf).map_err(|e| {
            IdentityError::BadCertificate {
                reason: e.to_string(),
            }
        })?;
        let subject = parsed.subject().to_string();
        let not_before = parsed.validity().not_before.to_datetime();
        let not_after = parsed.validity().not_after.to_datetime();
        let sha256 = crate::tls::sha256_hex(leaf);
        let provider = rustls::crypto::ring::default_provider();
        let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => IdentityError::KeyMismatch {
                subject: subject.clone(),
            },
            other => IdentityError::UnsupportedKey(other),
        })?;
        Ok(Self {
            certified: Arc::new(certified),
            subject,
            not_before,
            not_after,
            sha256,
        })
    }

    /// The leaf certificate's subject, e.g. `CN=Vendor AB, O=Vendor AB, C=SE`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Start of the leaf certificate's validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of the leaf certificate's validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// SHA-256 of the leaf certificate's DER, lowercase hex.
    pub fn cert_sha256(&self) -> &str {
        &self.sha256
    }

    /// Refuses a leaf certificate that is expired or not yet valid at `now`.
    pub fn check_validity(&self, now: OffsetDateTime) -> Result<(), IdentityError> {
        if now < self.not_before {
            return Err(IdentityError::NotYetValid {
                subject: self.subject.clone(),
                not_before: self.not_before,
                now,
            });
        }
        if now > self.not_after {
            return Err(IdentityError::Expired {
                subject: self.subject.clone(),
                not_after: self.not_after,
                now,
            });
        }
        Ok(())
    }

    /// The chain and the signing key as rustls holds them. Besides the TLS handshake, this
    /// signs the connection report's evidence file with the key the server saw; the key's
    /// bytes stay inside rustls.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.certified)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("subject", &self.subject)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("sha256", &self.sha256)
            .field("chain_len", &self.certified.cert.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, IdentityError> {
    std::fs::read(path).map_err(|source| IdentityError::Read {
        path: path.to_owned(),
        source,
    })
}

const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// The first private key in `pem`, decrypting an `ENCRYPTED PRIVATE KEY` block.
fn pem_key(
    pem: &[u8],
    passphrase: Option<&Secret>,
) -> Result<PrivateKeyDer<'static>, IdentityError> {
    let text = String::from_utf8_lossy(pem);
    if let Some(start) = text.find(ENCRYPTED_BEGIN) {
        let end = text[start..]
            .find(ENCRYPTED_END)
            .map(|i| start + i + ENCRYPTED_END.len())
            .ok_or_else(|| {
                IdentityError::Pem(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "encrypted private key block has no end line",
                ))
            })?;
        let passphrase = passphrase.ok_or(IdentityError::PassphraseRequired)?;
        let (_label, doc) = pkcs8::der::Document::from_pem(&text[start..end]).map_err(|e| {
            IdentityError::Pem(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(IdentityError::EncryptedKey)?;
        let plain = info.decrypt(passphrase.expose()).map_err(|e| match e {
            // A wrong passphrase shows up either as bad padding or, when the padding happens to
            // look right, as garbage that is not DER.
            // (pkcs5 0.7 reports a padding failure while decrypting as `EncryptFailed`.)
            pkcs8::Error::EncryptedPrivateKey(
                pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
            )
            | pkcs8::Error::Asn1(_) => IdentityError::WrongPassphrase {
                what: "private key",
            },
            other => IdentityError::EncryptedKey(other),
        })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            plain.as_bytes().to_vec(),
        )));
    }
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(IdentityError::Pem)?
        .ok_or(IdentityError::NoKey)
}

/// The chain (leaf first) and key of a PKCS#12 archive.
pub(crate) fn pkcs12_parts(
    der: &[u8],
    passphrase: &Secret,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), IdentityError> {
    let store = p12_keystore::KeyStore::from_pkcs12(
        der,
        passphrase.expose(),
        p12_keystore::Pkcs12ImportPolicy::Strict,
    )
    .map_err(|e| match e {
        p12_keystore::error::Error::MacError(_) => IdentityError::WrongPassphrase {
            what: "pkcs#12 file",
        },
        other => IdentityError::Pkcs12(other),
    })?;
    let (_alias, chain) = store
        .private_key_chain()
        .ok_or(IdentityError::Pkcs12NoKey)?;
    let certs: Vec<CertificateDer<'static>> = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    if certs.is_empty() {
        return Err(IdentityError::NoCertificate);
    }
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// The chain (leaf first) and key of PEM inputs.
pub(crate) fn pem_parts(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    passphrase: Option<&Secret>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), IdentityError> {
    let chain = rustls_pemfile::certs(&mut &cert_chain_pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(IdentityError::Pem)?;
    if chain.is_empty() {
        return Err(IdentityError::NoCertificate);
    }
    let key = pem_key(key_pem, passphrase)?;
    Ok((chain, key))
}

/// Whether PEM key text holds an encrypted key.
pub(crate) fn pem_is_encrypted(key_pem: &[u8]) -> bool {
    String::from_utf8_lossy(key_pem).contains(ENCRYPTED_BEGIN)
}
