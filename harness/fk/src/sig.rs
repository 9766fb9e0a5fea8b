//! Signature checks, and FK's memory of the signatures it has accepted.

use crate::rules;
use crate::{Fk, Refusal};
use eioa_model::soap::{Request, Underskrift};
use eioa_model::Notification;
use eioa_sign::{OcspStatus, SignatureError};
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

    /// Binds every key to `id` unless one is already bound to another notification,
    /// in one critical section: two concurrent requests carrying the same signature
    /// for different notifications cannot both pass. Returns the index of the
    /// conflicting key and the notification it is bound to.
    pub(crate) fn claim(&self, keys: &[[u8; 32]], id: &str) -> Result<(), (usize, String)> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *g;
        for (i, key) in keys.iter().enumerate() {
            if let Some(prev) = map.get(key).filter(|prev| prev.as_str() != id) {
                return Err((i, prev.clone()));
            }
        }
        for key in keys {
            if map.insert(*key, id.to_string()).is_none() {
                order.push_back(*key);
                while order.len() > self.cap {
                    if let Some(old) = order.pop_front() {
                        map.remove(&old);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Checks every `underskrift`; returns the keys to remember once the request is accepted.
/// `canonical` is the payload's canonical form when the payload check has it.
pub(crate) fn check_all(
    fk: &Fk,
    request: &Request,
    notification: &Notification,
    canonical: Option<&[u8]>,
) -> Result<Vec<[u8; 32]>, Refusal> {
    let payload = Payload {
        bytes: &request.payload,
        canonical,
    };
    // One clock reading per request: every time check of every signature uses it.
    let now = fk.now();
    let mut keys = Vec::with_capacity(request.underskrifter.len());
    for (i, u) in request.underskrifter.iter().enumerate() {
        let at = format!(
            "/SkickaAnmalanFranArbetsgivare/underskrift[{}] ({})",
            i + 1,
            u.signaturtyp.as_str()
        );
        let key = check_one(fk, u, payload, notification, now).map_err(|r| Refusal {
            message: format!("{at}: {}", r.message),
            ..r
        })?;
        if let Some(prev) = fk.seen.conflict(&key, &notification.id) {
            return Err(Refusal::new(
                &rules::S006_REUSE,
                format!("{at}: this signature was already used for notification {prev}; FK accepts one notification per signature: sign notification {} separately", notification.id),
            ));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// The payload as sent, and its canonical form when already known.
#[derive(Clone, Copy)]
struct Payload<'a> {
    bytes: &'a [u8],
    canonical: Option<&'a [u8]>,
}

fn check_one(
    fk: &Fk,
    u: &Underskrift,
    payload: Payload<'_>,
    n: &Notification,
    now: time::OffsetDateTime,
) -> Result<[u8; 32], Refusal> {
    let today = now.date();
    if u.signatur.is_empty() || u.ocspresponse.is_empty() {
        let which = if u.signatur.is_empty() {
            "signatur"
        } else {
            "ocspresponse"
        };
        return Err(Refusal::new(
            &rules::S001_BASE64,
            format!("{which} is empty"),
        ));
    }
    // The signature's SHA-256 comes back with the verdict: it keys FK's memory of
    // the signatures it accepted.
    let (verified, key) = fk.verifier.verify_and_digest(&u.signatur, now);
    let verified = verified.map_err(refusal)?;
    match payload.canonical {
        Some(c) => verified.check_binding_canonical(&n.id, c),
        None => verified.check_binding(&n.id, payload.bytes),
    }
    .map_err(refusal)?;
    ocsp(fk, &key, &u.ocspresponse, &verified.signer_cert_der, now)?;
    let date = parse_date(&u.signaturdatum).ok_or_else(|| {
        Refusal::new(
            &rules::S008_DATE,
            format!("signaturdatum `{}` is not a date", u.signaturdatum),
        )
    })?;
    if date > today {
        return Err(Refusal::new(
            &rules::S008_DATE,
            format!("signaturdatum {date} is after today ({today})"),
        ));
    }
    Ok(key)
}

/// The OCSP response against the signer and its issuer. The issuer is one of the
/// trust anchors (the signer chained to one); the first anchor that accepts the
/// response wins, else the most telling error is reported. `signature` is the SHA-256
/// of the signature the response came with: the verifier finds the verdict it gave
/// these bytes before through it, without hashing them again.
fn ocsp(
    fk: &Fk,
    signature: &[u8; 32],
    der: &[u8],
    signer: &[u8],
    now: time::OffsetDateTime,
) -> Result<(), Refusal> {
    let mut best: Option<SignatureError> = None;
    for anchor in fk.verifier.trust_anchors() {
        match fk
            .verifier
            .check_ocsp_beside(signature, der, signer, anchor, now)
        {
            Ok(info) if info.status == OcspStatus::Good => return Ok(()),
            Ok(info) => {
                return Err(Refusal::new(
                    &rules::S007_OCSP,
                    format!(
                        "the ocsp response reports the signer certificate as {:?}",
                        info.status
                    )
                    .to_lowercase(),
                ))
            }
            Err(e) => {
                if best.as_ref().is_none_or(|b| rank(&e) > rank(b)) {
                    best = Some(e);
                }
            }
        }
    }
    Err(match best {
        Some(e) => refusal(e),
        None => Refusal::new(
            &rules::S007_OCSP,
            "no trust anchor is configured to check the ocsp response against",
        ),
    })
}

/// Errors that do not depend on which anchor was tried say more.
fn rank(e: &SignatureError) -> u8 {
    match e.class() {
        "ocsp-wrong-signer" | "ocsp-not-signed-by-issuer" => 0,
        _ => 1,
    }
}

/// The rule a signature error class belongs to.
fn refusal(e: SignatureError) -> Refusal {
    let rule = match e.class() {
        "digest-mismatch" | "bad-signature-value" => &rules::S003_CRYPTO,
        "untrusted-chain" | "certificate-expired" | "certificate-not-yet-valid" => {
            &rules::S004_CHAIN
        }
        "binding-malformed" | "binding-missing" | "binding-mismatch" => &rules::S005_BINDING,
        c if c.starts_with("ocsp-") => &rules::S007_OCSP,
        _ => &rules::S002_SIGNATURE_XML,
    };
    Refusal::new(rule, e.to_string())
}

/// The `YYYY-MM-DD` part of an `xs:date` (a zone suffix is ignored).
fn parse_date(s: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.get(..10)?, &fmt).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_same_id_is_no_conflict() {
        let s = SeenSignatures::new(2);
        assert_eq!(s.claim(&[[1; 32]], "a"), Ok(()));
        assert_eq!(s.conflict(&[1; 32], "a"), None);
        assert_eq!(s.conflict(&[1; 32], "b").as_deref(), Some("a"));
        assert_eq!(
            s.claim(&[[1; 32]], "a"),
            Ok(()),
            "the same notification again"
        );
        assert_eq!(s.claim(&[[2; 32]], "b"), Ok(()));
        assert_eq!(s.claim(&[[3; 32]], "c"), Ok(()));
        assert_eq!(s.conflict(&[1; 32], "z"), None, "oldest forgotten");
        assert_eq!(s.conflict(&[3; 32], "z").as_deref(), Some("c"));
    }

    #[test]
    fn claim_is_all_or_nothing() {
        let s = SeenSignatures::new(10);
        assert_eq!(s.claim(&[[1; 32]], "a"), Ok(()));
        assert_eq!(s.claim(&[[2; 32], [1; 32]], "b"), Err((1, "a".to_string())));
        assert_eq!(
            s.conflict(&[2; 32], "z"),
            None,
            "nothing bound after a refused claim"
        );
    }

    #[test]
    fn concurrent_claims_of_one_signature_let_exactly_one_notification_through() {
        let s = std::sync::Arc::new(SeenSignatures::new(100));
        let winners: usize = (0..8)
            .map(|i| {
                let s = s.clone();
                std::thread::spawn(move || {
                    usize::from(s.claim(&[[7; 32]], &format!("n{i}")).is_ok())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(winners, 1);
    }
}
