//! rustls server configuration: TLS 1.2 and 1.3, client certificates required and
//! verified against a configured CA unless explicitly switched off.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// TLS set-up failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parse pem from {what}")]
    Pem {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} holds no certificate")]
    NoCertificate { what: String },
    #[error("{what} holds no private key")]
    NoKey { what: String },
    #[error("client ca {what} is not a usable trust anchor")]
    BadCa {
        what: String,
        #[source]
        source: rustls::Error,
    },
    #[error("build the client certificate verifier")]
    Verifier(#[source] rustls::server::VerifierBuilderError),
    #[error("server certificate and key do not fit together")]
    Config(#[source] rustls::Error),
    #[error("read the names in the server certificate {what}: {reason}")]
    Names { what: String, reason: String },
}

/// A certificate chain and its key, PEM.
#[derive(Debug, Clone)]
pub struct PemIdentity {
    /// Where the PEM came from (for messages).
    pub origin: String,
    pub cert_chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl PemIdentity {
    pub fn from_files(cert: &Path, key: &Path) -> Result<PemIdentity, TlsError> {
        Ok(PemIdentity {
            origin: cert.display().to_string(),
            cert_chain_pem: read(cert)?,
            key_pem: read(key)?,
        })
    }
}

/// Reads a file for the TLS set-up.
pub fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.into(),
        source,
    })
}

/// Every certificate in a PEM text.
pub fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            what: what.into(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { what: what.into() });
    }
    Ok(certs)
}

fn key_from_pem(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|source| TlsError::Pem {
            what: what.into(),
            source,
        })?
        .ok_or_else(|| TlsError::NoKey { what: what.into() })
}

/// The server's rustls configuration. `client_ca_pem = None` accepts clients
/// without a certificate (local runs only).
pub fn server_config(
    identity: &PemIdentity,
    client_ca_pem: Option<&[u8]>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certs_from_pem(&identity.cert_chain_pem, &identity.origin)?;
    let key = key_from_pem(&identity.key_pem, &identity.origin)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?;
    let builder = match client_ca_pem {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certs_from_pem(ca, "client ca")? {
                roots.add(c).map_err(|source| TlsError::BadCa {
                    what: "client ca".into(),
                    source,
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(TlsError::Verifier)?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder
        .with_single_cert(chain, key)
        .map_err(TlsError::Config)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The DNS names and IP addresses in a certificate's subject alternative names, in
/// the certificate's order (DNS names lower-cased, IPs in their usual text form).
/// These are the names a TLS client accepts the certificate for.
pub fn certificate_names(der: &[u8]) -> Result<Vec<String>, TlsError> {
    use x509_parser::extensions::GeneralName;
    let err = |reason: String| TlsError::Names {
        what: "certificate".into(),
        reason,
    };
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| err(e.to_string()))?;
    let Some(san) = cert
        .subject_alternative_name()
        .map_err(|e| err(e.to_string()))?
    else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(d) => names.push(d.to_ascii_lowercase()),
            GeneralName::IPAddress(b) => match b.len() {
                4 => names.push(
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())
                        .to_string(),
                ),
                16 => names.push(
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())
                        .to_string(),
                ),
                _ => {}
            },
            _ => {}
        }
    }
    Ok(names)
}

/// The names in the first certificate of a PEM chain (see [`certificate_names`]).
pub fn leaf_names(identity: &PemIdentity) -> Result<Vec<String>, TlsError> {
    let chain = certs_from_pem(&identity.cert_chain_pem, &identity.origin)?;
    certificate_names(chain[0].as_ref()).map_err(|e| match e {
        TlsError::Names { reason, .. } => TlsError::Names {
            what: identity.origin.clone(),
            reason,
        },
        other => other,
    })
}
