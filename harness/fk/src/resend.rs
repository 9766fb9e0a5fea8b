//! FK's FAQ: re-sending a notification under the same id is allowed (the latest wins),
//! but a sent notification cannot be changed: a change needs a new id, and one under
//! the old id is handled manually at FK. [`ResendMemory`] remembers, for a bounded
//! number of ids, the SHA-256 of the payload last sent under each, and tells a re-send
//! of the same content from a changed one.
//!
//! The stand-in uses it for rule FK-W001; the runner uses the same type on the sending
//! side, so a run against FK's real address warns too.

use sha2::{Digest, Sha256};
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// What a notification id's payload was compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resend {
    /// The id was not remembered (first sent, or forgotten).
    New,
    /// The id was sent before with byte-identical content.
    Same,
    /// The id was sent before with other content; holds the earlier payload's SHA-256
    /// (hex).
    Changed { previous_sha256: String },
}

/// Notification id -> SHA-256 of its last payload, least recently used forgotten first.
/// `Send + Sync`; one lock, held for one map operation.
#[derive(Debug)]
pub struct ResendMemory {
    inner: Mutex<lru::LruCache<String, [u8; 32]>>,
}

impl ResendMemory {
    /// Remembers at most `capacity` ids (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        ResendMemory {
            inner: Mutex::new(lru::LruCache::new(cap)),
        }
    }

    /// Records `payload` as the latest under `id` and says how it compares with the one
    /// before. The payload is compared byte for byte: a re-serialised copy of the same
    /// notification counts as changed, which is what FK's rule asks vendors to avoid.
    pub fn record(&self, id: &str, payload: &[u8]) -> Resend {
        let hash: [u8; 32] = Sha256::digest(payload).into();
        // A poisoned lock only means another thread panicked between two map
        // operations; the map itself is intact.
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match map.put(id.to_string(), hash) {
            None => Resend::New,
            Some(prev) if prev == hash => Resend::Same,
            Some(prev) => Resend::Changed {
                previous_sha256: hex(&prev),
            },
        }
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_changed_and_new() {
        let m = ResendMemory::new(10);
        assert_eq!(m.record("a", b"one"), Resend::New);
        assert_eq!(m.record("a", b"one"), Resend::Same);
        // sha256("one"), from `printf one | sha256sum`.
        assert_eq!(
            m.record("a", b"two"),
            Resend::Changed {
                previous_sha256: "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"
                    .into()
            }
        );
        // The latest wins: the next comparison is with "two".
        assert_eq!(m.record("a", b"two"), Resend::Same);
        assert_eq!(m.record("b", b"two"), Resend::New);
    }

    #[test]
    fn memory_is_bounded_least_recently_used_first() {
        let m = ResendMemory::new(2);
        m.record("a", b"1");
        m.record("b", b"1");
        // Touching `a` makes `b` the least recently used.
        assert_eq!(m.record("a", b"1"), Resend::Same);
        m.record("c", b"1");
        assert_eq!(m.len(), 2);
        assert_eq!(m.record("b", b"2"), Resend::New, "b was forgotten");
        assert_eq!(m.record("a", b"1"), Resend::New, "a went when b came back");
        assert_eq!(ResendMemory::new(0).record("x", b""), Resend::New);
    }
}
