//! rustls configuration: trust roots, a recording certificate verifier and a recording client
//! certificate resolver.
//!
//! Verification is never weakened: [`RecordingVerifier`] hands every decision to rustls'
//! `WebPkiServerVerifier` and only *notes* what it saw (the server's leaf certificate, the TLS
//! version implied by which signature check ran, and when). There is no code path that accepts a
//! certificate the inner verifier refused.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::ClientError;

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Places where Linux distributions and other Unix systems keep their CA bundle. `SSL_CERT_FILE`
/// takes precedence when set.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Builds the root store: the caller's extra roots, plus the system's CA bundle when asked.
pub(crate) fn root_store(
    extra: &[CertificateDer<'static>],
    use_system_roots: bool,
) -> Result<RootCertStore, ClientError> {
    let mut store = RootCertStore::empty();
    for (index, root) in extra.iter().enumerate() {
        store
            .add(root.clone())
            .map_err(|source| ClientError::BadRoot { index, source })?;
    }
    if use_system_roots {
        let path = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                SYSTEM_BUNDLES
                    .iter()
                    .map(std::path::PathBuf::from)
                    .find(|p| p.is_file())
            })
            .ok_or(ClientError::NoSystemRoots)?;
        let pem = std::fs::read(&path).map_err(|source| ClientError::ReadSystemRoots {
            path: path.clone(),
            source,
        })?;
        let certs = rustls_pemfile::certs(&mut &pem[..])
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| ClientError::ReadSystemRoots {
                path: path.clone(),
                source,
            })?;
        // A bundle may carry the odd certificate webpki cannot use as an anchor; skip those
        // rather than refusing every other root.
        store.add_parsable_certificates(certs);
    }
    if store.is_empty() {
        return Err(ClientError::NoTrustRoots);
    }
    Ok(store)
}

/// What one TLS handshake showed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Handshake {
    pub server_cert_sha256: Option<String>,
    pub server_cert_at: Option<Instant>,
    pub tls_version: Option<&'static str>,
    pub client_cert_requested: bool,
    pub client_cert_sha256: Option<String>,
}

pub(crate) type Recorder = Arc<Mutex<Handshake>>;

/// Runs `f` on what a handshake recorder holds (the client's and the connection test's).
pub(crate) fn with<T, R>(rec: &Mutex<T>, f: impl FnOnce(&mut T) -> R) -> R {
    // A poisoned lock only means another thread panicked while noting something; the notes
    // themselves stay usable.
    let mut guard = rec.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

pub(crate) fn observed(rec: &Recorder) -> Handshake {
    with(rec, |o| o.clone())
}

/// Delegates every check to webpki and records what the server presented.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    rec: Recorder,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        with(&self.rec, |o| {
            o.server_cert_sha256 = Some(sha256_hex(end_entity));
            o.server_cert_at = Some(Instant::now());
        });
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        with(&self.rec, |o| o.tls_version = Some("TLSv1.2"));
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        with(&self.rec, |o| o.tls_version = Some("TLSv1.3"));
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Offers the configured identity (if any) and records whether the server asked for it.
#[derive(Debug)]
pub(crate) struct RecordingResolver {
    key: Option<Arc<CertifiedKey>>,
    rec: Recorder,
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        with(&self.rec, |o| {
            o.client_cert_requested = true;
            // rustls sends an empty certificate message when the key can sign with none
            // of the server's schemes: only a usable key means the certificate was sent.
            o.client_cert_sha256 = self
                .key
                .as_ref()
                .filter(|k| k.key.choose_scheme(sigschemes).is_some())
                .and_then(|k| k.cert.first())
                .map(|c| sha256_hex(c));
        });
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// The parts of the TLS configuration shared by all exchanges of one client.
#[derive(Debug, Clone)]
pub(crate) struct TlsBase {
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    key: Option<Arc<CertifiedKey>>,
}

impl TlsBase {
    pub(crate) fn new(
        roots: RootCertStore,
        key: Option<Arc<CertifiedKey>>,
    ) -> Result<Self, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(ClientError::Verifier)?;
        Ok(Self {
            provider,
            verifier,
            key,
        })
    }

    /// A fresh configuration for one exchange, recording into `rec`. TLS 1.2 and 1.3 only,
    /// HTTP/1.1 only, no session resumption (every exchange does a full handshake, so every
    /// record shows the server's certificate).
    pub(crate) fn config_for(&self, rec: &Recorder) -> Result<rustls::ClientConfig, ClientError> {
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(ClientError::Tls)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RecordingVerifier {
                inner: Arc::clone(&self.verifier),
                rec: Arc::clone(rec),
            }))
            .with_client_cert_resolver(Arc::new(RecordingResolver {
                key: self.key.clone(),
                rec: Arc::clone(rec),
            }));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.resumption = rustls::client::Resumption::disabled();
        Ok(config)
    }
}
