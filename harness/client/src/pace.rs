//! Pacing: at most one request per interval to a host.
//!
//! FK asks vendors of its sibling service to keep to about one call per second and may shut off
//! vendors that send too much; the harness keeps to that for E-IOA too. By default requests to
//! FK's hosts are spaced at least one second apart (measured between the starts of consecutive
//! exchanges), and other hosts — the local mock — are not paced unless the caller asks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::time::Instant;

use crate::target::is_fk_host;

/// Which hosts are paced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaceScope {
    /// FK's hosts only (the default).
    FkHosts,
    /// FK's hosts and the listed ones (compared case-insensitively).
    FkHostsAnd(Vec<String>),
    /// Every host.
    AllHosts,
    /// No host.
    Off,
}

/// The pacing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pace {
    /// Minimum time between the starts of two exchanges with the same host.
    pub min_interval: Duration,
    /// Which hosts the interval applies to.
    pub scope: PaceScope,
}

impl Default for Pace {
    /// One request per second to FK's hosts.
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            scope: PaceScope::FkHosts,
        }
    }
}

impl Pace {
    /// No pacing at all.
    pub fn off() -> Self {
        Self {
            min_interval: Duration::ZERO,
            scope: PaceScope::Off,
        }
    }

    /// Whether requests to `host` are paced.
    pub fn applies_to(&self, host: &str) -> bool {
        if self.min_interval.is_zero() {
            return false;
        }
        match &self.scope {
            PaceScope::FkHosts => is_fk_host(host),
            PaceScope::FkHostsAnd(extra) => {
                is_fk_host(host) || extra.iter().any(|h| h.eq_ignore_ascii_case(host))
            }
            PaceScope::AllHosts => true,
            PaceScope::Off => false,
        }
    }
}

/// Hands out start slots per host; concurrent callers queue up one interval apart.
#[derive(Debug)]
pub(crate) struct Pacer {
    pace: Pace,
    next_slot: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    pub(crate) fn new(pace: Pace) -> Self {
        Self {
            pace,
            next_slot: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until an exchange with `host` may start, and returns the start (monotonic and
    /// wall-clock), taken under the pacer's lock so that starts of paced exchanges are never
    /// closer than the interval.
    pub(crate) async fn wait(&self, host: &str) -> (Instant, OffsetDateTime) {
        if !self.pace.applies_to(host) {
            return (Instant::now(), OffsetDateTime::now_utc());
        }
        let key = host.to_ascii_lowercase();
        loop {
            let slot = {
                let mut map = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                match map.get(&key) {
                    Some(&next) if next > now => next,
                    _ => {
                        let started = (now, OffsetDateTime::now_utc());
                        map.insert(key, now + self.pace.min_interval);
                        return started;
                    }
                }
            };
            tokio::time::sleep_until(slot).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_paces_fk_hosts_only() {
        let pace = Pace::default();
        assert!(pace.applies_to("shsext.forsakringskassan.se"));
        assert!(pace.applies_to("shs.forsakringskassan.se"));
        assert!(!pace.applies_to("127.0.0.1"));
        assert!(!pace.applies_to("localhost"));
    }

    #[test]
    fn scopes() {
        let listed = Pace {
            min_interval: Duration::from_secs(1),
            scope: PaceScope::FkHostsAnd(vec!["127.0.0.1".into()]),
        };
        assert!(listed.applies_to("127.0.0.1"));
        assert!(listed.applies_to("shs.forsakringskassan.se"));
        assert!(!listed.applies_to("localhost"));
        assert!(!Pace::off().applies_to("shs.forsakringskassan.se"));
        let zero = Pace {
            min_interval: Duration::ZERO,
            scope: PaceScope::AllHosts,
        };
        assert!(!zero.applies_to("anything"));
    }

    #[tokio::test]
    async fn slots_are_one_interval_apart() {
        let pacer = Pacer::new(Pace {
            min_interval: Duration::from_millis(200),
            scope: PaceScope::AllHosts,
        });
        let t0 = Instant::now();
        pacer.wait("a").await;
        pacer.wait("a").await;
        pacer.wait("a").await;
        assert!(
            t0.elapsed() >= Duration::from_millis(400),
            "{:?}",
            t0.elapsed()
        );
        // Another host has its own slots.
        let t1 = Instant::now();
        pacer.wait("b").await;
        assert!(
            t1.elapsed() < Duration::from_millis(200),
            "{:?}",
            t1.elapsed()
        );
    }
}
