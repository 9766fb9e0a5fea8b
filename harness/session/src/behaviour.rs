//! Behaviour findings: what FK accepts but handles by hand, or a vendor should not
//! do. Warnings about the vendor's system, never faults. One row per finding in
//! [`FINDINGS`], like `eioa-fk`'s rule table.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use eioa_fk::resend::{Resend, ResendMemory};
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exchange::Seen;

/// A behaviour rule: id and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingRule {
    pub id: &'static str,
    pub title: &'static str,
}

pub const CHANGED_RESEND: FindingRule = FindingRule {
    id: "SB001",
    title:
        "same id re-sent with different content (FK handles it by hand; a change needs a new id)",
};
pub const RESEND_AFTER_FAULT: FindingRule = FindingRule {
    id: "SB002",
    title: "identical request re-sent after a fault its content caused",
};
pub const BURST: FindingRule = FindingRule {
    id: "SB003",
    title: "more than one request per second",
};
pub const SIGNATURE_SEVERAL: FindingRule = FindingRule {
    id: "SB004",
    title: "one signature binds several notifications (FK: one notification per signature)",
};

/// Every behaviour rule, in report order.
pub const FINDINGS: &[FindingRule] =
    &[CHANGED_RESEND, RESEND_AFTER_FAULT, BURST, SIGNATURE_SEVERAL];

/// One occurrence of a behaviour rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub message: String,
    /// The exchanges that show it (journal sequence numbers), oldest first.
    pub seqs: Vec<u64>,
}

/// Two requests closer than this are a burst (FK's sibling service asks for about one
/// call per second).
pub const MIN_INTERVAL: time::Duration = time::Duration::seconds(1);

/// The findings over the session's exchanges (oldest first).
pub fn findings(seen: &[Seen]) -> Vec<Finding> {
    let mut out = Vec::new();
    let subs: Vec<&Seen> = seen.iter().filter(|s| s.is_submission()).collect();

    // SB001: FK's own resend memory type, scoped to the session.
    let memory = ResendMemory::new(subs.len().max(1));
    let mut first_seq: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &subs {
        let (Some(id), Some(r)) = (&s.id, &s.request) else {
            continue;
        };
        let first = *first_seq.entry(id.as_str()).or_insert(s.exchange.seq);
        if let Resend::Changed { .. } = memory.record(id, &r.payload) {
            out.push(Finding {
                rule: CHANGED_RESEND.id.into(),
                title: CHANGED_RESEND.title.into(),
                message: format!(
                    "notification {id} was sent again with other content (first sent in exchange {first})"
                ),
                seqs: vec![first, s.exchange.seq],
            });
        }
    }

    // SB002: the same bytes again after the stand-in refused them.
    let mut refused: BTreeMap<&str, &Seen> = BTreeMap::new();
    for s in &subs {
        if let Some(prev) = refused.get(s.body_sha256.as_str()) {
            out.push(Finding {
                rule: RESEND_AFTER_FAULT.id.into(),
                title: RESEND_AFTER_FAULT.title.into(),
                message: format!(
                    "exchange {} repeats exchange {} byte for byte, which was answered {}",
                    s.exchange.seq,
                    prev.exchange.seq,
                    prev.fault_text()
                        .unwrap_or_else(|| prev.answer.as_str().into())
                ),
                seqs: vec![prev.exchange.seq, s.exchange.seq],
            });
        }
        if s.answer.is_content_fault() {
            refused.insert(s.body_sha256.as_str(), s);
        } else {
            refused.remove(s.body_sha256.as_str());
        }
    }

    // SB003: per sender, two requests less than a second apart.
    let mut last: BTreeMap<String, &Seen> = BTreeMap::new();
    for s in &subs {
        let sender = s.sender();
        if let (Some(prev), Some(at)) = (last.get(&sender), s.at) {
            if let Some(prev_at) = prev.at {
                let gap = at - prev_at;
                if gap < MIN_INTERVAL {
                    out.push(Finding {
                        rule: BURST.id.into(),
                        title: BURST.title.into(),
                        message: format!(
                            "exchange {} came {} ms after exchange {} from the same client",
                            s.exchange.seq,
                            gap.whole_milliseconds(),
                            prev.exchange.seq
                        ),
                        seqs: vec![prev.exchange.seq, s.exchange.seq],
                    });
                }
            }
        }
        last.insert(sender, s);
    }

    // SB004: a signature whose non-visible data binds several notifications, or one
    // signature sent with several notification ids.
    let mut by_signature: BTreeMap<String, (BTreeSet<String>, Vec<u64>)> = BTreeMap::new();
    for s in &subs {
        let Some(r) = &s.request else { continue };
        for u in &r.underskrifter {
            let bound = bound_ids(&u.signatur);
            if bound.len() > 1 {
                out.push(Finding {
                    rule: SIGNATURE_SEVERAL.id.into(),
                    title: SIGNATURE_SEVERAL.title.into(),
                    message: format!(
                        "the {} signature of exchange {} binds {} notifications: {}",
                        u.signaturtyp.as_str(),
                        s.exchange.seq,
                        bound.len(),
                        bound.join(", ")
                    ),
                    seqs: vec![s.exchange.seq],
                });
            }
            if let Some(id) = &s.id {
                let key = hex::encode(Sha256::digest(&u.signatur));
                let e = by_signature.entry(key).or_default();
                e.0.insert(id.clone());
                if !e.1.contains(&s.exchange.seq) {
                    e.1.push(s.exchange.seq);
                }
            }
        }
    }
    for (ids, seqs) in by_signature.into_values() {
        if ids.len() > 1 {
            out.push(Finding {
                rule: SIGNATURE_SEVERAL.id.into(),
                title: SIGNATURE_SEVERAL.title.into(),
                message: format!(
                    "one signature was sent with {} notifications: {}",
                    ids.len(),
                    ids.into_iter().collect::<Vec<_>>().join(", ")
                ),
                seqs,
            });
        }
    }
    out.sort_by(|a, b| (a.seqs.last(), &a.rule).cmp(&(b.seqs.last(), &b.rule)));
    out
}

/// The notification ids a BankID signature's non-visible data binds
/// (`{id},{sha256};{id},{sha256}…`, base64 in `usrNonVisibleData`). Empty when the
/// signature is not readable: the stand-in's verdict already says so.
pub fn bound_ids(signature_xml: &[u8]) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_reader(signature_xml);
    let mut inside = false;
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"usrNonVisibleData" => inside = true,
            Ok(Event::Text(t)) if inside => {
                if let Ok(t) = t.unescape() {
                    text.push_str(&t);
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == b"usrNonVisibleData" => break,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(decoded) = STANDARD.decode(compact) else {
        return Vec::new();
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Vec::new();
    };
    decoded
        .split(';')
        .filter(|b| !b.trim().is_empty())
        .map(|b| b.split(',').next().unwrap_or("").trim().to_string())
        .collect()
}
