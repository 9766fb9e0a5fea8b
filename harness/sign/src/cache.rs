//! A verifier for a server that sees the same signers again and again: trust anchors
//! parsed once, and certification paths and OCSP verdicts remembered by the SHA-256 of
//! their exact bytes, with every time-dependent check made again for each request.
//!
//! What is remembered is only what does not depend on the clock:
//! - a signature that verified, by its exact bytes: what it says, and the window of
//!   its certification path. Everything `verify` checks is a function of the bytes
//!   and the anchors except the validity times, so inside the window the answer is
//!   the fresh one; outside it, the signature is verified afresh. This helps a
//!   notification sent again with its signature (FK allows that); distinct
//!   signatures by one signer meet the next cache.
//! - a certification path that verified, with the window in which every certificate
//!   on it is valid. A later request inside that window gets the same answer a fresh
//!   verification gives (the same path is valid then); a request outside it is
//!   verified afresh, so an expired or not yet valid certificate is refused with the
//!   error a fresh verification names. Paths that failed are not remembered.
//! - an OCSP response's verdict for a signer and an issuer (signature, certificate
//!   id, status: all a function of the three byte strings), with its thisUpdate and
//!   nextUpdate, which are checked against each request's time.
//!
//! - the same OCSP verdict again, found through the SHA-256 of the signature it came
//!   with ([`Verifier::check_ocsp_beside`]): a request that carries a signature seen
//!   before usually carries its OCSP response too, and then no byte of the response,
//!   the signer or the issuer is hashed again. The entry keeps those three byte
//!   strings and is used only when all three are equal to the request's, so the
//!   digest only finds the entry; it never stands in for the bytes.
//!
//! The caches are bounded LRUs behind a mutex each; a verification runs outside the
//! lock, so two threads missing at once both verify (and store the same entry).

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::chain::{TrustAnchors, Window};
use crate::ocsp::OcspFacts;
use crate::{OcspInfo, SignatureError, Verified};

/// Entries each cache holds by default: far more signers than a test run has.
pub const DEFAULT_CACHE_ENTRIES: usize = 512;

/// Verifies signatures and OCSP responses against one set of trust anchors,
/// remembering what it verified (see the module's documentation). `Send + Sync`.
pub struct Verifier {
    anchors: TrustAnchors,
    signatures: Mutex<LruCache<[u8; 32], (Verified, Window)>>,
    paths: Mutex<LruCache<[u8; 32], Window>>,
    ocsp: Mutex<LruCache<[u8; 32], Result<OcspFacts, SignatureError>>>,
    /// By (SHA-256 of the signature, position of the issuer among the anchors).
    ocsp_beside: Mutex<LruCache<([u8; 32], usize), OcspBeside>>,
}

/// An OCSP verdict with the exact bytes it is the verdict for.
#[derive(Clone)]
struct OcspBeside {
    ocsp_der: Vec<u8>,
    signer_cert_der: Vec<u8>,
    issuer_der: Vec<u8>,
    facts: Result<OcspFacts, SignatureError>,
}

impl OcspBeside {
    fn is_for(&self, ocsp_der: &[u8], signer_cert_der: &[u8], issuer_der: &[u8]) -> bool {
        self.ocsp_der == ocsp_der
            && self.signer_cert_der == signer_cert_der
            && self.issuer_der == issuer_der
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("anchors", &self.anchors.ders().len())
            .field("signatures", &lock(&self.signatures).len())
            .field("paths", &lock(&self.paths).len())
            .field("ocsp", &lock(&self.ocsp).len())
            .field("ocsp_beside", &lock(&self.ocsp_beside).len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The caches hold plain values: one left by a panicking thread is still whole.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// SHA-256 over length-prefixed parts, so that no two part lists hash alike by
/// shifting bytes from one part to the next.
fn key(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

impl Verifier {
    /// A verifier for `trust_anchors` (DER) with caches of `entries` entries each.
    /// Anchors that cannot be read are an error of each verification, as with
    /// [`crate::verify`].
    pub fn new(trust_anchors: Vec<Vec<u8>>, entries: usize) -> Self {
        let cap = NonZeroUsize::new(entries.max(1)).unwrap_or(NonZeroUsize::MIN);
        Verifier {
            anchors: TrustAnchors::new(trust_anchors),
            signatures: Mutex::new(LruCache::new(cap)),
            paths: Mutex::new(LruCache::new(cap)),
            ocsp: Mutex::new(LruCache::new(cap)),
            ocsp_beside: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The trust anchors, DER.
    pub fn trust_anchors(&self) -> &[Vec<u8>] {
        self.anchors.ders()
    }

    /// [`crate::verify`], with the signature, or else its certification path, taken
    /// from the cache when it verified before and `at` lies in its path's window.
    pub fn verify(
        &self,
        signature_xml: &[u8],
        at: OffsetDateTime,
    ) -> Result<Verified, SignatureError> {
        self.verify_and_digest(signature_xml, at).0
    }

    /// [`Verifier::verify`], and the SHA-256 of `signature_xml`, which the cache is
    /// keyed by: a caller that needs that digest too (FK remembers signatures by it)
    /// does not hash the signature a second time.
    pub fn verify_and_digest(
        &self,
        signature_xml: &[u8],
        at: OffsetDateTime,
    ) -> (Result<Verified, SignatureError>, [u8; 32]) {
        let digest: [u8; 32] = Sha256::digest(signature_xml).into();
        (self.verify_digested(signature_xml, &digest, at), digest)
    }

    fn verify_digested(
        &self,
        signature_xml: &[u8],
        digest: &[u8; 32],
        at: OffsetDateTime,
    ) -> Result<Verified, SignatureError> {
        let k = key(&[self.anchors.id(), digest]);
        let hit = lock(&self.signatures).get(&k).cloned();
        if let Some((verified, _)) = hit.filter(|(_, w)| w.contains(at)) {
            return Ok(verified);
        }
        let (verified, window) =
            crate::dsig::verify_with(signature_xml, &self.anchors, at, Some(self))?;
        lock(&self.signatures).put(k, (verified.clone(), window));
        Ok(verified)
    }

    /// [`crate::check_ocsp`], with the verdict on the three byte strings taken from
    /// the cache when it was reached before; the times are checked against `at`.
    pub fn check_ocsp(
        &self,
        ocsp_der: &[u8],
        signer_cert_der: &[u8],
        issuer_der: &[u8],
        at: OffsetDateTime,
    ) -> Result<OcspInfo, SignatureError> {
        self.ocsp_facts(ocsp_der, signer_cert_der, issuer_der)?
            .at(at)
    }

    /// The clock-free part of [`Verifier::check_ocsp`], from the cache keyed by the
    /// hash of the three byte strings.
    fn ocsp_facts(
        &self,
        ocsp_der: &[u8],
        signer_cert_der: &[u8],
        issuer_der: &[u8],
    ) -> Result<OcspFacts, SignatureError> {
        let k = key(&[self.anchors.id(), ocsp_der, signer_cert_der, issuer_der]);
        let cached = lock(&self.ocsp).get(&k).cloned();
        match cached {
            Some(facts) => facts,
            None => {
                let facts = crate::ocsp::facts(ocsp_der, signer_cert_der, issuer_der);
                lock(&self.ocsp).put(k, facts.clone());
                facts
            }
        }
    }

    /// [`Verifier::check_ocsp`] for the OCSP response that came with a signature,
    /// `signature_digest` being the SHA-256 of that signature's bytes (as
    /// [`Verifier::verify_and_digest`] returns it). The verdict is the one
    /// `check_ocsp` gives: when the same three byte strings were checked beside the
    /// same signature before, it is taken from there without hashing any of them (the
    /// entry holds the bytes and is compared with them); otherwise `check_ocsp`
    /// answers, and its verdict is kept beside the signature. A wrong digest can only
    /// cost a miss, never another verdict.
    pub fn check_ocsp_beside(
        &self,
        signature_digest: &[u8; 32],
        ocsp_der: &[u8],
        signer_cert_der: &[u8],
        issuer_der: &[u8],
        at: OffsetDateTime,
    ) -> Result<OcspInfo, SignatureError> {
        let issuer_at = self
            .anchors
            .ders()
            .iter()
            .position(|a| a.as_slice() == issuer_der)
            .unwrap_or(usize::MAX);
        let slot = (*signature_digest, issuer_at);
        let hit = lock(&self.ocsp_beside)
            .get(&slot)
            .filter(|e| e.is_for(ocsp_der, signer_cert_der, issuer_der))
            .map(|e| e.facts.clone());
        let facts = match hit {
            Some(facts) => facts,
            None => {
                let facts = self.ocsp_facts(ocsp_der, signer_cert_der, issuer_der);
                let entry = OcspBeside {
                    ocsp_der: ocsp_der.to_vec(),
                    signer_cert_der: signer_cert_der.to_vec(),
                    issuer_der: issuer_der.to_vec(),
                    facts: facts.clone(),
                };
                lock(&self.ocsp_beside).put(slot, entry);
                facts
            }
        };
        facts?.at(at)
    }

    /// The certification path check of `verify`: the window remembered for these
    /// certificates when `at` lies in it, else a fresh check (remembered when it passes).
    pub(crate) fn path(
        &self,
        leaf: &x509_cert::Certificate,
        leaf_der: &[u8],
        intermediates: &[Vec<u8>],
        at: OffsetDateTime,
    ) -> Result<Window, SignatureError> {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(intermediates.len() + 2);
        parts.push(self.anchors.id());
        parts.push(leaf_der);
        parts.extend(intermediates.iter().map(Vec::as_slice));
        let k = key(&parts);
        let hit = lock(&self.paths).get(&k).copied();
        if let Some(window) = hit.filter(|w| w.contains(at)) {
            return Ok(window);
        }
        let window = crate::chain::verify_path(leaf, leaf_der, intermediates, &self.anchors, at)?;
        lock(&self.paths).put(k, window);
        Ok(window)
    }
}

// Shared across a server's connections.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Verifier>();
};
