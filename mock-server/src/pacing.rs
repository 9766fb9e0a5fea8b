//! Pacing observation: FK asks vendors to keep to about one call per second. Calls
//! from one client (certificate fingerprint, or address without a certificate)
//! closer together than the configured interval become journal findings, and,
//! when configured, are answered with 503.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Pacing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacingConfig {
    /// Minimum time between two calls of one client; `Duration::ZERO` turns
    /// observation off.
    pub min_interval: Duration,
    /// Answer too-fast calls with 503 instead of only recording them.
    pub reject: bool,
}

impl Default for PacingConfig {
    fn default() -> Self {
        PacingConfig {
            min_interval: Duration::from_secs(1),
            reject: false,
        }
    }
}

/// Remembers each client's previous call.
#[derive(Debug)]
pub struct Pacer {
    cfg: PacingConfig,
    last: Mutex<HashMap<String, Instant>>,
}

const MAX_CLIENTS: usize = 10_000;

impl Pacer {
    pub fn new(cfg: PacingConfig) -> Pacer {
        Pacer {
            cfg,
            last: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> PacingConfig {
        self.cfg
    }

    /// Records a call by `client` at `now`; returns a finding when it came too soon.
    pub fn observe(&self, client: &str, now: Instant) -> Option<String> {
        if self.cfg.min_interval.is_zero() {
            return None;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.len() >= MAX_CLIENTS && !last.contains_key(client) {
            let horizon = self.cfg.min_interval;
            last.retain(|_, t| now.saturating_duration_since(*t) < horizon);
        }
        let previous = last.insert(client.to_string(), now);
        let gap = now.saturating_duration_since(previous?);
        (gap < self.cfg.min_interval).then(|| {
            format!(
                "pace: call {} ms after the previous one from this client; FK asks for at most one call per {} ms",
                gap.as_millis(),
                self.cfg.min_interval.as_millis()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_calls_are_findings_per_client() {
        let p = Pacer::new(PacingConfig::default());
        let t0 = Instant::now();
        assert_eq!(p.observe("a", t0), None);
        assert_eq!(p.observe("b", t0 + Duration::from_millis(10)), None);
        let f = p.observe("a", t0 + Duration::from_millis(300)).unwrap();
        assert!(f.contains("300 ms"), "{f}");
        assert_eq!(p.observe("a", t0 + Duration::from_millis(1400)), None);
    }

    #[test]
    fn zero_interval_is_off() {
        let p = Pacer::new(PacingConfig {
            min_interval: Duration::ZERO,
            reject: true,
        });
        let t0 = Instant::now();
        assert_eq!(p.observe("a", t0), None);
        assert_eq!(p.observe("a", t0), None);
    }
}
