//! The record of one request/response exchange.

use std::time::Duration;

use time::OffsetDateTime;

/// How far a request got. Decides whether re-sending is safe to consider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// The request did not reach the server's HTTP layer: no connection, a refused or failed TLS
    /// handshake, or an error before anything was written. Sending it again cannot duplicate it.
    NotSent,
    /// The request may have reached the server, but no answer came (the connection closed, reset
    /// or timed out after the request was written). The server may have acted on it.
    MaybeSent,
    /// The server answered with an HTTP status.
    Answered,
}

/// Durations measured during an exchange, from its start (after pacing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Until the server's certificate was presented to the verifier: name resolution, the TCP
    /// connect and the TLS round trip that brings the certificate. `None` when the handshake did
    /// not get that far.
    pub connect: Option<Duration>,
    /// Until the last byte of the response was read, or the exchange failed.
    pub total: Duration,
}

/// Everything known about one exchange, successful or not. Bodies are kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The endpoint.
    pub url: String,
    /// The request body as sent.
    pub request_body: Vec<u8>,
    /// The headers this client set (the HTTP stack adds `Host` and `Content-Length`).
    pub request_headers: Vec<(String, String)>,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The response headers in the order received (values lossily decoded as UTF-8).
    pub response_headers: Vec<(String, String)>,
    /// The response body (empty when there was none).
    pub response_body: Vec<u8>,
    /// When the exchange started (after waiting for the pacer).
    pub started_at: OffsetDateTime,
    /// Measured durations.
    pub timings: Timings,
    /// `TLSv1.2` or `TLSv1.3`, once the server's handshake signature was checked.
    pub tls_version: Option<String>,
    /// SHA-256 (lowercase hex) of the server's leaf certificate, as presented (also when it was
    /// refused).
    pub server_cert_sha256: Option<String>,
    /// SHA-256 (lowercase hex) of the client certificate sent, when the server asked for one and
    /// one was configured.
    pub client_cert_sha256: Option<String>,
    /// How far the request got.
    pub delivery: Delivery,
}

impl Exchange {
    /// The value of the first response header named `name` (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
