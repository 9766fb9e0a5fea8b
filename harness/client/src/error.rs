//! The client's error type.

use std::path::PathBuf;
use std::time::Duration;

use crate::exchange::{Delivery, Exchange};
use crate::identity::IdentityError;
use crate::secret::SecretError;

/// Why the server's certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerCertProblem {
    /// It does not chain to a configured root (or a signature in the chain is bad).
    NotTrusted,
    /// It is not valid for the host name or address in the URL.
    NameMismatch,
    /// It has expired.
    Expired,
    /// It is not valid yet.
    NotYetValid,
    /// It has been revoked.
    Revoked,
    /// It is not meant for TLS server authentication.
    WrongPurpose,
    /// Anything else webpki refused, as rustls describes it.
    Other(String),
}

impl std::fmt::Display for ServerCertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotTrusted => f.write_str("it is not issued by a trusted authority"),
            Self::NameMismatch => f.write_str("it is not valid for this host name"),
            Self::Expired => f.write_str("it has expired"),
            Self::NotYetValid => f.write_str("it is not valid yet"),
            Self::Revoked => f.write_str("it has been revoked"),
            Self::WrongPurpose => f.write_str("it is not a tls server certificate"),
            Self::Other(reason) => write!(f, "{reason}"),
        }
    }
}

/// Everything that can go wrong in this crate.
///
/// Errors about one exchange carry its [`Exchange`] record, whose `delivery` says whether the
/// request may have reached the server; [`ClientError::delivery`] answers that for every error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The client identity could not be loaded or is not usable now (unreadable, wrong
    /// passphrase, key does not match, expired or not yet valid).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The passphrase could not be obtained.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// An extra root certificate could not be used as a trust anchor.
    #[error("add extra root certificate #{index}")]
    BadRoot {
        /// Its position in `extra_roots`.
        index: usize,
        /// What webpki said.
        #[source]
        source: rustls::Error,
    },
    /// System roots were asked for but no CA bundle was found.
    #[error("find the system's ca bundle: set SSL_CERT_FILE or add the roots explicitly")]
    NoSystemRoots,
    /// The system CA bundle could not be read.
    #[error("read the system ca bundle {}", path.display())]
    ReadSystemRoots {
        /// The bundle.
        path: PathBuf,
        /// The I/O or PEM error.
        #[source]
        source: std::io::Error,
    },
    /// No trust root at all: every server certificate would be refused.
    #[error("configure trust roots: none were given and system roots are off")]
    NoTrustRoots,
    /// The certificate verifier could not be built.
    #[error("build the server certificate verifier")]
    Verifier(#[source] rustls::client::VerifierBuilderError),
    /// The TLS configuration could not be built.
    #[error("build the tls configuration")]
    Tls(#[source] rustls::Error),
    /// The HTTP client could not be built.
    #[error("build the http client")]
    Build(#[source] reqwest::Error),
    /// The URL cannot be used.
    #[error("use {url}: {reason}")]
    UnsupportedUrl {
        /// The URL.
        url: String,
        /// Why not.
        reason: &'static str,
    },
    /// The SOAPAction cannot be sent as a header value.
    #[error("send soap action {action:?}: it is not a valid header value")]
    BadSoapAction {
        /// The action.
        action: String,
    },
    /// The host name could not be resolved.
    #[error("resolve {host}")]
    Dns {
        /// The host.
        host: String,
        /// The exchange record (`NotSent`).
        exchange: Box<Exchange>,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },
    /// The server refused the TCP connection.
    #[error("connect to {}: connection refused", .exchange.url)]
    ConnectionRefused {
        /// The exchange record (`NotSent`).
        exchange: Box<Exchange>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The host or network is unreachable.
    #[error("connect to {}: host or network unreachable", .exchange.url)]
    Unreachable {
        /// The exchange record (`NotSent`).
        exchange: Box<Exchange>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// Another failure while connecting, before the request was written.
    #[error("connect to {}", .exchange.url)]
    Connect {
        /// The exchange record (`NotSent`).
        exchange: Box<Exchange>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// Connecting (resolve, TCP and TLS handshake) took longer than the connect timeout.
    #[error("connect to {}: no connection within {after:?}", .exchange.url)]
    ConnectTimeout {
        /// The configured limit.
        after: Duration,
        /// The exchange record (`NotSent`).
        exchange: Box<Exchange>,
    },
    /// No complete response within the total timeout.
    #[error("get a response from {}: none within {after:?}", .exchange.url)]
    ResponseTimeout {
        /// The configured limit.
        after: Duration,
        /// The exchange record (`MaybeSent`, or `Answered` if the body was cut off).
        exchange: Box<Exchange>,
    },
    /// The server's certificate was refused; nothing was sent.
    #[error("trust the server certificate of {}: {problem}", .exchange.url)]
    ServerCertificate {
        /// Why it was refused.
        problem: ServerCertProblem,
        /// The exchange record (`NotSent`; `server_cert_sha256` shows what was presented).
        exchange: Box<Exchange>,
        /// rustls' error.
        #[source]
        source: rustls::Error,
    },
    /// The server ended the TLS handshake with an alert, typically because it wants a client
    /// certificate we did not send or does not accept the one we sent.
    #[error("complete the tls handshake with {}: the server sent alert {alert}{}", .exchange.url, hint(*.client_cert_requested, *.client_cert_sent))]
    HandshakeAlert {
        /// The alert, e.g. `CertificateRequired`, `UnknownCA`, `BadCertificate`.
        alert: String,
        /// Whether the server asked for a client certificate.
        client_cert_requested: bool,
        /// Whether one was sent.
        client_cert_sent: bool,
        /// The exchange record.
        exchange: Box<Exchange>,
        /// rustls' error.
        #[source]
        source: rustls::Error,
    },
    /// The server asked for a client certificate, none was sent, and it closed the
    /// connection without an answer. Under TLS 1.3 its refusal (an alert such as
    /// `certificate_required`) arrives after the client has finished the handshake and
    /// may be lost when the connection closes: what is known is said, no alert is made up.
    #[error("complete mutual tls with {}: it asked for a client certificate, none is configured, and it closed the connection without an answer (it requires one)", .exchange.url)]
    ClientCertificateMissing {
        /// The exchange record (`NotSent` when it failed in the handshake, else `MaybeSent`).
        exchange: Box<Exchange>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// Another TLS failure.
    #[error("talk tls with {}", .exchange.url)]
    TlsFailure {
        /// The exchange record.
        exchange: Box<Exchange>,
        /// rustls' error.
        #[source]
        source: rustls::Error,
    },
    /// The connection failed after the request may have been written (closed or reset without
    /// an answer). The request is **not** re-sent.
    #[error("get a response from {}: the connection failed after the request was written", .exchange.url)]
    NoResponse {
        /// The exchange record (`MaybeSent`).
        exchange: Box<Exchange>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a body longer than
    /// [`ClientConfig::max_response_bytes`](crate::ClientConfig::max_response_bytes); reading
    /// stopped there and the connection was closed. The request was delivered: do not re-send.
    #[error("read the response body from {}: it is longer than the limit of {limit} bytes{}", .exchange.url, declared(*.declared_length))]
    ResponseTooLarge {
        /// The configured limit in bytes.
        limit: usize,
        /// The length the server announced in `Content-Length`, if it did.
        declared_length: Option<u64>,
        /// The exchange record (`Answered`, with the status, the headers and the first `limit`
        /// bytes of the body).
        exchange: Box<Exchange>,
    },
    /// The server answered but the body could not be read completely.
    #[error("read the response body from {}", .exchange.url)]
    ResponseBody {
        /// The exchange record (`Answered`, with what arrived of the body).
        exchange: Box<Exchange>,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
}

fn declared(length: Option<u64>) -> String {
    length.map_or_else(String::new, |n| format!(" (content-length {n})"))
}

fn hint(requested: bool, sent: bool) -> &'static str {
    match (requested, sent) {
        (true, false) => " (it asked for a client certificate and none is configured)",
        (true, true) => " (it did not accept our client certificate)",
        (false, _) => "",
    }
}

impl ClientError {
    /// The record of the failed exchange, when the failure happened during one.
    pub fn exchange(&self) -> Option<&Exchange> {
        match self {
            Self::Dns { exchange, .. }
            | Self::ConnectionRefused { exchange, .. }
            | Self::Unreachable { exchange, .. }
            | Self::Connect { exchange, .. }
            | Self::ConnectTimeout { exchange, .. }
            | Self::ResponseTimeout { exchange, .. }
            | Self::ServerCertificate { exchange, .. }
            | Self::HandshakeAlert { exchange, .. }
            | Self::ClientCertificateMissing { exchange, .. }
            | Self::TlsFailure { exchange, .. }
            | Self::NoResponse { exchange, .. }
            | Self::ResponseBody { exchange, .. }
            | Self::ResponseTooLarge { exchange, .. } => Some(exchange),
            _ => None,
        }
    }

    /// Whether the request may have reached the server. Errors raised before any connection
    /// (configuration, identity, URL) are [`Delivery::NotSent`].
    pub fn delivery(&self) -> Delivery {
        self.exchange()
            .map_or(Delivery::NotSent, |exchange| exchange.delivery)
    }
}
