//! The result of a connection test: the data model every report of it is rendered from.
//!
//! Serialised as `summary.json` (documented in `docs/connection-test.md`). Field names are
//! snake_case, enums kebab-case, times RFC 3339. The shape is versioned by
//! [`ConnectionTest::format`]; fields are only ever added.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Version of the `summary.json` shape written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// One run of the connection test against one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    /// Shape version, [`FORMAT_VERSION`].
    pub format: u32,
    /// The tool that ran the test, e.g. `eioa 0.1.0`.
    pub tool: String,
    /// Where the test went.
    pub target: TargetInfo,
    /// Start of the test.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// End of the test.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The highest level of proof reached.
    pub level: Level,
    /// One sentence (English) stating the level reached, for a banner.
    pub verdict: String,
    /// What is missing for the next level, in one sentence; `None` at [`Level::Accepted`].
    pub next_level_hint: Option<String>,
    /// The same hint in Swedish (`För godkänd: …`); absent in results written before it
    /// existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_level_hint_sv: Option<String>,
    /// The checks in the order they ran (skipped ones included).
    pub checks: Vec<Check>,
    /// The client's leaf certificate, when the identity could be read.
    pub client_cert: Option<CertPanel>,
    /// The certificates the client presents after its leaf (intermediates), in order.
    pub client_intermediates: Vec<CertPanel>,
    /// The chain the server presented, leaf first (also when it was refused).
    pub server_chain: Vec<CertPanel>,
    /// The SOAP exchange, when one was attempted.
    pub exchange: Option<ExchangeSummary>,
}

impl ConnectionTest {
    /// The check with this id, if it ran.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The first check that failed.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }

    /// Whether no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.first_failure().is_none()
    }
}

/// The endpoint as the test saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// `fk-test`, `fk-prod` or `url`.
    pub kind: String,
    /// The endpoint URL.
    pub url: String,
    /// Its host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Whether the host is one of FK's (then requests are paced and nothing is resent).
    pub is_fk: bool,
    /// The address given with `--resolve` (curl's `HOST:PORT:ADDR`), if any.
    pub resolve: Option<String>,
}

/// Levels of proof, each including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Not even a TCP connection.
    None,
    /// A TCP connection to the host and port.
    Reachable,
    /// The TLS handshake completed and the server accepted the client certificate.
    MutualTls,
    /// The service answered with a tx-id or an E-IOA fault: the connection is proven.
    FkAnswered,
    /// A tx-id for the notification sent.
    Accepted,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [
        Level::None,
        Level::Reachable,
        Level::MutualTls,
        Level::FkAnswered,
        Level::Accepted,
    ];

    /// The stable id used in JSON, e.g. `fk-answered`.
    pub fn id(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Reachable => "reachable",
            Level::MutualTls => "mutual-tls",
            Level::FkAnswered => "fk-answered",
            Level::Accepted => "accepted",
        }
    }

    /// The level's name in plain English, e.g. `FK answered`.
    pub fn title(self) -> &'static str {
        match self {
            Level::None => "not reachable",
            Level::Reachable => "reachable",
            Level::MutualTls => "mutual TLS accepted",
            Level::FkAnswered => "FK answered",
            Level::Accepted => "accepted",
        }
    }

    /// The level's name in Swedish, for a report shown to FK.
    pub fn title_sv(self) -> &'static str {
        match self {
            Level::None => "inte nåbar",
            Level::Reachable => "nåbar",
            Level::MutualTls => "ömsesidig TLS godkänd",
            Level::FkAnswered => "FK svarade",
            Level::Accepted => "godkänd",
        }
    }

    /// The next level up, if any.
    pub fn next(self) -> Option<Level> {
        match self {
            Level::None => Some(Level::Reachable),
            Level::Reachable => Some(Level::MutualTls),
            Level::MutualTls => Some(Level::FkAnswered),
            Level::FkAnswered => Some(Level::Accepted),
            Level::Accepted => None,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// As it should be.
    Pass,
    /// Works, but needs attention (e.g. a certificate expiring within 60 days).
    Warn,
    /// Broken: the remedy says what to do.
    Fail,
    /// Not run, because a check it depends on failed (the facts say which).
    Skipped,
}

impl Status {
    /// `pass`, `warn`, `fail` or `skipped`.
    pub fn id(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        }
    }
}

/// One check of the connection test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable id, e.g. `C-TLS-CLIENT-CERT` (the table in `docs/connection-test.md`).
    pub id: String,
    /// What is checked, e.g. `server accepts the client certificate`.
    pub title: String,
    /// The outcome.
    pub status: Status,
    /// One line saying what was found (for a timeline row).
    pub summary: String,
    /// What was measured, in order.
    pub facts: Vec<Fact>,
    /// One sentence on what to do, for `warn` and `fail` (and `skipped`, naming what to fix
    /// first), in English.
    pub remedy: Option<String>,
    /// The same remedy in Swedish, for a report shown to FK (`--lang sv`). The probe writes it
    /// with every remedy; absent in results written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy_sv: Option<String>,
    /// How long the check took, in milliseconds.
    pub duration_ms: f64,
}

impl Check {
    /// The value of the first fact named `key`.
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }
}

/// One measured fact: a key such as `tls version` and its value such as `TLSv1.3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// What was measured (lowercase words).
    pub key: String,
    /// The value as text.
    pub value: String,
}

impl Fact {
    /// A fact.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A certificate as a person checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertPanel {
    /// Subject, e.g. `CN=Vendor AB, O=Vendor AB, C=SE`.
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// Whole days from the test to `not_after` (negative once expired).
    pub days_left: i64,
    /// Subject alternative names (`DNS:…`, `IP:…`).
    pub sans: Vec<String>,
    /// Key type and size, e.g. `RSA 2048` or `ECDSA P-256`.
    pub key: String,
    /// Extended key usages, e.g. `clientAuth`; empty when the extension is absent.
    pub eku: Vec<String>,
    /// Whether it is a CA certificate.
    pub is_ca: bool,
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
}

/// The SOAP exchange of the test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeSummary {
    /// The endpoint.
    pub url: String,
    /// When the request started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// How the notification was signed: `bankid` (`--signature/--ocsp`) or `harness-test` (the
    /// harness's own test signer, which only stand-ins trust).
    pub signature: String,
    /// `not-sent`, `maybe-sent` or `answered`.
    pub delivery: String,
    /// `TLSv1.2` or `TLSv1.3`.
    pub tls_version: Option<String>,
    /// The negotiated cipher suite (from the diagnosis handshake), e.g.
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: Option<String>,
    /// SHA-256 of the server's leaf certificate.
    pub server_cert_sha256: Option<String>,
    /// SHA-256 of the client certificate sent.
    pub client_cert_sha256: Option<String>,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// `Content-Type` of the answer.
    pub content_type: Option<String>,
    /// FK's tx-id, when the notification was accepted.
    pub tx_id: Option<String>,
    /// `XmlValidationError`, `SignatureValidationError` or `Fault`, when FK answered with a fault.
    pub fault: Option<String>,
    /// The fault's message.
    pub fault_message: Option<String>,
    /// Until the server's certificate arrived, in milliseconds.
    pub connect_ms: Option<f64>,
    /// The whole exchange, in milliseconds (FK expects under 2,000).
    pub total_ms: f64,
    /// The request as sent, redacted unless asked otherwise (identity numbers and names in the
    /// base64 payload are decoded, masked and shown as text).
    pub request: String,
    /// The response body, redacted the same way.
    pub response: String,
    /// Whether `request` and `response` are redacted.
    pub redacted: bool,
}
