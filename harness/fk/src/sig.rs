//! Signature checks, and FK's memory of the signatures it has accepted.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Accepted signatures (sha256 of the signature bytes) and the notification id each
/// was used for; bounded, oldest forgotten first.
#[derive(Debug)]
pub(crate) struct SeenSignatures {
    cap: usize,
    inner: Mutex<Memory>,
}

/// Signature key -> notification id, plus insertion order for eviction.
type Memory = (HashMap<[u8; 32], String>, VecDeque<[u8; 32]>);

impl SeenSignatures {
    pub(crate) fn new(cap: usize) -> Self {
        SeenSignatures {
            cap: cap.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// The other notification id this signature was already used for, if any.
    pub(crate) fn conflict(&self, key: &[u8; 32], id: &str) -> Option<String> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.get(key).filter(|prev| prev.as_str() != id).cloned()
    }

    /// Remembers an accepted signature.
    pub(crate) fn remember(&self, key: [u8; 32], id: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *g;
        if map.insert(key, id.to_string()).is_none() {
            order.push_back(key);
            while order.len() > self.cap {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_same_id_is_no_conflict() {
        let s = SeenSignatures::new(2);
        s.remember([1; 32], "a");
        assert_eq!(s.conflict(&[1; 32], "a"), None);
        assert_eq!(s.conflict(&[1; 32], "b").as_deref(), Some("a"));
        s.remember([2; 32], "b");
        s.remember([3; 32], "c");
        assert_eq!(s.conflict(&[1; 32], "z"), None, "oldest forgotten");
        assert_eq!(s.conflict(&[3; 32], "z").as_deref(), Some("c"));
    }
}
