//! Fault injection: off by default, deterministic for a given seed.
//!
//! Each request (and each connection, for TLS faults) gets its own random stream,
//! derived from the seed and the request's (connection's) ordinal, so a client that
//! sends requests one after another sees the same faults in every run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Upper bound on how long a "no answer" fault holds a request.
pub const MAX_NO_ANSWER: Duration = Duration::from_secs(600);

/// Added delay before an answer.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Latency {
    #[default]
    None,
    /// Always this long.
    Fixed { ms: u64 },
    /// Uniform between the bounds (inclusive).
    Uniform { min_ms: u64, max_ms: u64 },
    /// Like FK's backend: mostly 80–600 ms, one call in ten up to 2 s.
    FkLike,
}

impl std::str::FromStr for Latency {
    type Err = String;
    /// `none`, `fk`, `fixed:MS`, `uniform:MIN-MAX`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("bad latency `{s}` (expected none, fk, fixed:MS or uniform:MIN-MAX)");
        match s {
            "none" => return Ok(Latency::None),
            "fk" | "fk-like" => return Ok(Latency::FkLike),
            _ => {}
        }
        if let Some(ms) = s.strip_prefix("fixed:") {
            return Ok(Latency::Fixed {
                ms: ms.parse().map_err(|_| bad())?,
            });
        }
        if let Some(range) = s.strip_prefix("uniform:") {
            let (a, b) = range.split_once('-').ok_or_else(bad)?;
            let (min_ms, max_ms) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            return Ok(Latency::Uniform { min_ms, max_ms });
        }
        Err(bad())
    }
}

/// Fault settings; every share is a probability in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    pub seed: u64,
    pub latency: Latency,
    /// Share of requests answered with HTTP 500 and a `soap:Server` fault.
    pub http_500: f64,
    /// Share of requests answered with HTTP 503.
    pub http_503: f64,
    /// Share of requests whose connection is reset (TCP RST) instead of answered.
    pub reset: f64,
    /// Share of requests never answered (held, then the connection is closed).
    pub no_answer: f64,
    /// How long an unanswered request is held, in ms (at most 600 000).
    pub no_answer_hold_ms: u64,
    /// Share of requests answered 200 with a truncated, malformed SOAP body.
    pub malformed_soap: f64,
    /// Share of requests answered with a forced `XmlValidationError` fault.
    pub xml_validation_error: f64,
    /// Share of requests answered with a forced `SignatureValidationError` fault.
    pub signature_validation_error: f64,
    /// Share of connections refused with a TLS alert during the handshake.
    pub tls_alert: f64,
    /// Share of connections closed right after a completed handshake.
    pub tls_close_after_handshake: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            seed: 0,
            latency: Latency::None,
            http_500: 0.0,
            http_503: 0.0,
            reset: 0.0,
            no_answer: 0.0,
            no_answer_hold_ms: 30_000,
            malformed_soap: 0.0,
            xml_validation_error: 0.0,
            signature_validation_error: 0.0,
            tls_alert: 0.0,
            tls_close_after_handshake: 0.0,
        }
    }
}

/// Invalid fault settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaultConfigError {
    #[error("fault share `{name}` is {value}; it must be between 0 and 1")]
    Share { name: &'static str, value: f64 },
    #[error("request fault shares add up to {0}; at most 1 is possible")]
    RequestSum(f64),
    #[error("connection fault shares add up to {0}; at most 1 is possible")]
    ConnectionSum(f64),
    #[error("uniform latency needs min_ms <= max_ms (got {min_ms}-{max_ms})")]
    LatencyRange { min_ms: u64, max_ms: u64 },
    #[error("no_answer_hold_ms {0} is above the bound of 600000")]
    Hold(u64),
    #[error("read fault configuration {path}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parse fault configuration {path}")]
    Parse {
        path: std::path::PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl FaultConfig {
    /// Reads a JSON file with any of this struct's fields.
    pub fn from_file(path: &std::path::Path) -> Result<FaultConfig, FaultConfigError> {
        let bytes = std::fs::read(path).map_err(|source| FaultConfigError::Read {
            path: path.into(),
            source,
        })?;
        let cfg: FaultConfig =
            serde_json::from_slice(&bytes).map_err(|source| FaultConfigError::Parse {
                path: path.into(),
                source,
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn request_shares(&self) -> [(RequestFault, &'static str, f64); 7] {
        [
            (RequestFault::Http500, "http_500", self.http_500),
            (RequestFault::Http503, "http_503", self.http_503),
            (RequestFault::Reset, "reset", self.reset),
            (RequestFault::NoAnswer, "no_answer", self.no_answer),
            (
                RequestFault::MalformedSoap,
                "malformed_soap",
                self.malformed_soap,
            ),
            (
                RequestFault::XmlValidationError,
                "xml_validation_error",
                self.xml_validation_error,
            ),
            (
                RequestFault::SignatureValidationError,
                "signature_validation_error",
                self.signature_validation_error,
            ),
        ]
    }

    fn connection_shares(&self) -> [(ConnectionFault, &'static str, f64); 2] {
        [
            (ConnectionFault::TlsAlert, "tls_alert", self.tls_alert),
            (
                ConnectionFault::TlsCloseAfterHandshake,
                "tls_close_after_handshake",
                self.tls_close_after_handshake,
            ),
        ]
    }

    pub fn validate(&self) -> Result<(), FaultConfigError> {
        let mut req = 0.0;
        for (_, name, value) in self.request_shares() {
            check_share(name, value)?;
            req += value;
        }
        if req > 1.0 + 1e-9 {
            return Err(FaultConfigError::RequestSum(req));
        }
        let mut conn = 0.0;
        for (_, name, value) in self.connection_shares() {
            check_share(name, value)?;
            conn += value;
        }
        if conn > 1.0 + 1e-9 {
            return Err(FaultConfigError::ConnectionSum(conn));
        }
        if let Latency::Uniform { min_ms, max_ms } = self.latency {
            if min_ms > max_ms {
                return Err(FaultConfigError::LatencyRange { min_ms, max_ms });
            }
        }
        if self.no_answer_hold_ms > MAX_NO_ANSWER.as_millis() as u64 {
            return Err(FaultConfigError::Hold(self.no_answer_hold_ms));
        }
        Ok(())
    }

    /// Whether any fault or latency is configured.
    pub fn is_active(&self) -> bool {
        self.latency != Latency::None
            || self.request_shares().iter().any(|s| s.2 > 0.0)
            || self.connection_shares().iter().any(|s| s.2 > 0.0)
    }
}

fn check_share(name: &'static str, value: f64) -> Result<(), FaultConfigError> {
    if !(0.0..=1.0).contains(&value) || value.is_nan() {
        return Err(FaultConfigError::Share { name, value });
    }
    Ok(())
}

/// A fault that replaces a request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    Http500,
    Http503,
    Reset,
    NoAnswer,
    MalformedSoap,
    XmlValidationError,
    SignatureValidationError,
}

impl RequestFault {
    /// The name recorded in the journal.
    pub fn name(self) -> &'static str {
        match self {
            RequestFault::Http500 => "http-500",
            RequestFault::Http503 => "http-503",
            RequestFault::Reset => "connection-reset",
            RequestFault::NoAnswer => "no-answer",
            RequestFault::MalformedSoap => "malformed-soap",
            RequestFault::XmlValidationError => "forced-xml-validation-error",
            RequestFault::SignatureValidationError => "forced-signature-validation-error",
        }
    }
}

/// A fault that hits a connection before any request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionFault {
    TlsAlert,
    TlsCloseAfterHandshake,
}

impl ConnectionFault {
    pub fn name(self) -> &'static str {
        match self {
            ConnectionFault::TlsAlert => "tls-alert-during-handshake",
            ConnectionFault::TlsCloseAfterHandshake => "tls-close-after-handshake",
        }
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPlan {
    pub latency: Duration,
    pub fault: Option<RequestFault>,
}

/// Draws fault decisions.
///
/// The settings can be replaced while the server runs ([`Injector::set`]); the
/// request and connection ordinals keep counting, so the draws stay a function
/// of (seed, ordinal) and a run that changes nothing sees the same faults.
#[derive(Debug)]
pub struct Injector {
    cfg: RwLock<FaultConfig>,
    requests: AtomicU64,
    connections: AtomicU64,
}

impl Injector {
    pub fn new(cfg: FaultConfig) -> Injector {
        Injector {
            cfg: RwLock::new(cfg),
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
        }
    }

    /// The settings in force now.
    pub fn config(&self) -> FaultConfig {
        self.read().clone()
    }

    /// Replaces the settings for the requests and connections that follow;
    /// invalid settings are refused and the old ones stay.
    pub fn set(&self, cfg: FaultConfig) -> Result<(), FaultConfigError> {
        cfg.validate()?;
        // A panic while holding the lock cannot leave a half-written config
        // (the write is one assignment), so a poisoned lock is still usable.
        *self.cfg.write().unwrap_or_else(|e| e.into_inner()) = cfg;
        Ok(())
    }

    fn read(&self) -> RwLockReadGuard<'_, FaultConfig> {
        self.cfg.read().unwrap_or_else(|e| e.into_inner())
    }

    fn rng(seed: u64, stream: u64, n: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream((stream << 60) | (n & ((1 << 60) - 1)));
        rng
    }

    /// The plan for the next request.
    pub fn next_request(&self) -> RequestPlan {
        let cfg = self.read();
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut rng = Self::rng(cfg.seed, 1, n);
        let latency = match cfg.latency {
            Latency::None => Duration::ZERO,
            Latency::Fixed { ms } => Duration::from_millis(ms),
            Latency::Uniform { min_ms, max_ms } => {
                Duration::from_millis(rng.gen_range(min_ms..=max_ms.max(min_ms)))
            }
            Latency::FkLike => {
                if rng.gen_bool(0.9) {
                    Duration::from_millis(rng.gen_range(80..=600))
                } else {
                    Duration::from_millis(rng.gen_range(600..=2000))
                }
            }
        };
        let u: f64 = rng.gen();
        let mut acc = 0.0;
        let mut fault = None;
        for (f, _, share) in cfg.request_shares() {
            acc += share;
            if share > 0.0 && u < acc {
                fault = Some(f);
                break;
            }
        }
        RequestPlan { latency, fault }
    }

    /// The fault, if any, for the next accepted connection.
    pub fn next_connection(&self) -> Option<ConnectionFault> {
        let cfg = self.read();
        if cfg.connection_shares().iter().all(|s| s.2 <= 0.0) {
            return None;
        }
        let n = self.connections.fetch_add(1, Ordering::Relaxed);
        let u: f64 = Self::rng(cfg.seed, 2, n).gen();
        let mut acc = 0.0;
        for (f, _, share) in cfg.connection_shares() {
            acc += share;
            if share > 0.0 && u < acc {
                return Some(f);
            }
        }
        None
    }

    /// How long a "no answer" fault holds.
    pub fn no_answer_hold(&self) -> Duration {
        Duration::from_millis(self.read().no_answer_hold_ms).min(MAX_NO_ANSWER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_plans_and_shares_roughly_hold() {
        let cfg = FaultConfig {
            seed: 7,
            http_500: 0.25,
            reset: 0.25,
            latency: Latency::FkLike,
            ..FaultConfig::default()
        };
        let a = Injector::new(cfg.clone());
        let b = Injector::new(cfg);
        let pa: Vec<_> = (0..1000).map(|_| a.next_request()).collect();
        let pb: Vec<_> = (0..1000).map(|_| b.next_request()).collect();
        assert_eq!(pa, pb);
        let n500 = pa
            .iter()
            .filter(|p| p.fault == Some(RequestFault::Http500))
            .count();
        let nreset = pa
            .iter()
            .filter(|p| p.fault == Some(RequestFault::Reset))
            .count();
        assert!((180..320).contains(&n500), "{n500}");
        assert!((180..320).contains(&nreset), "{nreset}");
        assert!(
            pa.iter()
                .all(|p| p.latency <= Duration::from_secs(2)
                    && p.latency >= Duration::from_millis(80))
        );
        let other = Injector::new(FaultConfig {
            seed: 8,
            ..a.config()
        });
        let po: Vec<_> = (0..1000).map(|_| other.next_request()).collect();
        assert_ne!(pa, po);
    }

    #[test]
    fn off_by_default() {
        let i = Injector::new(FaultConfig::default());
        assert!(!i.config().is_active());
        assert!((0..100).all(|_| i.next_request()
            == RequestPlan {
                latency: Duration::ZERO,
                fault: None
            }));
        assert_eq!(i.next_connection(), None);
    }

    #[test]
    fn settings_switch_at_run_time_and_bad_ones_are_refused() {
        let i = Injector::new(FaultConfig::default());
        assert_eq!(i.next_request().fault, None);
        i.set(FaultConfig {
            xml_validation_error: 1.0,
            ..FaultConfig::default()
        })
        .unwrap();
        assert_eq!(
            i.next_request().fault,
            Some(RequestFault::XmlValidationError)
        );
        let err = i
            .set(FaultConfig {
                http_500: 1.5,
                ..FaultConfig::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("http_500"), "{err}");
        assert_eq!(i.config().xml_validation_error, 1.0);
        i.set(FaultConfig::default()).unwrap();
        assert_eq!(i.next_request().fault, None);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(FaultConfig {
            http_500: 1.5,
            ..FaultConfig::default()
        }
        .validate()
        .is_err());
        assert!(FaultConfig {
            http_500: 0.6,
            reset: 0.6,
            ..FaultConfig::default()
        }
        .validate()
        .is_err());
        assert!(FaultConfig {
            latency: Latency::Uniform {
                min_ms: 5,
                max_ms: 1
            },
            ..FaultConfig::default()
        }
        .validate()
        .is_err());
        assert!(FaultConfig {
            no_answer_hold_ms: 700_000,
            ..FaultConfig::default()
        }
        .validate()
        .is_err());
        assert_eq!(
            "uniform:10-20".parse::<Latency>().unwrap(),
            Latency::Uniform {
                min_ms: 10,
                max_ms: 20
            }
        );
        assert_eq!(
            "fixed:5".parse::<Latency>().unwrap(),
            Latency::Fixed { ms: 5 }
        );
        assert!("fixed:x".parse::<Latency>().is_err());
    }

    #[test]
    fn config_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        std::fs::write(
            &p,
            r#"{"seed":3,"latency":{"kind":"uniform","min_ms":1,"max_ms":2},"http_503":0.5}"#,
        )
        .unwrap();
        let c = FaultConfig::from_file(&p).unwrap();
        assert_eq!(c.seed, 3);
        assert_eq!(c.http_503, 0.5);
        std::fs::write(&p, r#"{"http_504":0.5}"#).unwrap();
        assert!(FaultConfig::from_file(&p).is_err());
    }
}
