//! The judge: a checklist over a session's exchanges. Each case is demonstrated
//! (with the exchanges that show it), not yet demonstrated (with a hint what to
//! send) or failed (with the fault and the exchange). The verdict is "ready" only
//! when every required case is demonstrated.

use std::collections::BTreeMap;

use eioa_validate::SchemaSet;
use serde::{Deserialize, Serialize};

use crate::behaviour::{self, Finding, MIN_INTERVAL, RESEND_AFTER_FAULT};
use crate::checklist::{Behaviour, Case, Checklist};
use crate::coverage::{self, Coverage, CoverageError};
use crate::exchange::{Answer, Exchange, Seen};
use crate::store::Session;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Demonstrated,
    NotDemonstrated,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Demonstrated => "demonstrated",
            Status::NotDemonstrated => "not yet demonstrated",
            Status::Failed => "failed",
        }
    }
}

/// A reference to one exchange: its journal position and tx-id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRef {
    pub seq: u64,
    pub tx_id: Option<String>,
}

/// One case, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub title: String,
    pub required: bool,
    pub status: Status,
    /// The exchanges that demonstrate the case, or the one that failed it.
    pub exchanges: Vec<ExchangeRef>,
    /// For a case not yet demonstrated: what to send.
    pub hint: Option<String>,
    /// For a failed case: why (the fault, or the behaviour seen).
    pub reason: Option<String>,
}

/// One exchange of the session, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRow {
    pub seq: u64,
    pub time: String,
    pub method: String,
    pub target: String,
    pub status: Option<u16>,
    pub tx_id: Option<String>,
    pub answer: Answer,
    pub notification_id: Option<String>,
    pub fault: Option<String>,
}

/// The verdict over the whole session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readiness {
    Ready,
    NotReady,
}

/// A session judged: what every report format renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionReport {
    pub session: Session,
    pub checklist_id: String,
    pub checklist_title: String,
    pub verdict: Readiness,
    pub cases: Vec<CaseResult>,
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
    pub exchanges: Vec<ExchangeRow>,
    /// Whether personal data in fault texts is masked.
    pub redacted: bool,
}

impl SessionReport {
    pub fn count(&self, status: Status, required: bool) -> usize {
        self.cases
            .iter()
            .filter(|c| c.status == status && c.required == required)
            .count()
    }
}

/// Judges `exchanges` (the session's window of the journal, oldest first) against
/// `checklist`, with coverage over `schemas`' payload schema.
pub fn judge(
    session: &Session,
    checklist: &Checklist,
    schemas: &SchemaSet,
    exchanges: Vec<Exchange>,
    redacted: bool,
) -> Result<SessionReport, CoverageError> {
    let seen: Vec<Seen> = exchanges
        .into_iter()
        .filter(|e| session.covers(e))
        .map(Seen::new)
        .collect();
    let cases = checklist
        .cases
        .iter()
        .map(|c| judge_case(c, &seen))
        .collect();
    let findings = behaviour::findings(&seen);
    let coverage = coverage::coverage(
        schemas,
        seen.iter()
            .filter(|s| s.answer == Answer::Accepted)
            .filter_map(|s| Some((s.exchange.seq, s.request.as_ref()?.payload.as_slice()))),
    )?;
    let mask = |t: String| {
        if redacted {
            eioa_model::redact::mask_identity_numbers(&t)
        } else {
            t
        }
    };
    let mut report = SessionReport {
        session: session.clone(),
        checklist_id: checklist.id.clone(),
        checklist_title: checklist.title.clone(),
        verdict: Readiness::NotReady,
        cases,
        findings,
        coverage,
        exchanges: seen
            .iter()
            .filter(|s| s.answer != Answer::Served)
            .map(|s| ExchangeRow {
                seq: s.exchange.seq,
                time: s.exchange.time.clone(),
                method: s.exchange.method.clone(),
                target: s.exchange.target.clone(),
                status: s.exchange.status,
                tx_id: s.exchange.tx_id.clone(),
                answer: s.answer,
                notification_id: s.id.clone(),
                fault: s.fault_text().map(mask),
            })
            .collect(),
        redacted,
    };
    for c in &mut report.cases {
        c.reason = c.reason.take().map(mask);
    }
    for f in &mut report.findings {
        f.message = mask(std::mem::take(&mut f.message));
    }
    if report
        .cases
        .iter()
        .filter(|c| c.required)
        .all(|c| c.status == Status::Demonstrated)
    {
        report.verdict = Readiness::Ready;
    }
    Ok(report)
}

fn r(s: &Seen) -> ExchangeRef {
    ExchangeRef {
        seq: s.exchange.seq,
        tx_id: s.exchange.tx_id.clone(),
    }
}

fn result(
    case: &Case,
    status: Status,
    exchanges: Vec<ExchangeRef>,
    reason: Option<String>,
) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        required: case.required,
        status,
        hint: (status != Status::Demonstrated).then(|| case.hint.clone()),
        exchanges,
        reason,
    }
}

/// One case over the session's exchanges.
pub fn judge_case(case: &Case, seen: &[Seen]) -> CaseResult {
    let subs: Vec<&Seen> = seen.iter().filter(|s| s.is_submission()).collect();
    match case.behaviour {
        None => facts_case(case, &subs),
        Some(b) => behaviour_case(case, b, &subs, seen),
    }
}

/// `sent` facts on one exchange, answered as `answer` (default accepted). Failed
/// when exchanges showed the facts but none was answered so: the latest one's fault.
fn facts_case(case: &Case, subs: &[&Seen]) -> CaseResult {
    let want = case.answer.unwrap_or(Answer::Accepted);
    let matching: Vec<&&Seen> = subs
        .iter()
        .filter(|s| case.sent.iter().all(|f| s.facts.contains(f.as_str())))
        .collect();
    let good: Vec<ExchangeRef> = matching
        .iter()
        .filter(|s| s.answer == want)
        .map(|s| r(s))
        .collect();
    if !good.is_empty() {
        return result(case, Status::Demonstrated, good, None);
    }
    // Facts are read from a notification the model parsed; only then can the sender
    // be said to have tried this case.
    match matching
        .iter()
        .rev()
        .find(|s| s.answer.is_content_fault() || s.answer == Answer::ServerFault)
    {
        Some(last) if !case.sent.is_empty() => result(
            case,
            Status::Failed,
            vec![r(last)],
            Some(format!(
                "sent, but answered {}",
                last.fault_text()
                    .unwrap_or_else(|| last.answer.as_str().into())
            )),
        ),
        _ => result(case, Status::NotDemonstrated, Vec::new(), None),
    }
}

fn behaviour_case(case: &Case, b: Behaviour, subs: &[&Seen], all: &[Seen]) -> CaseResult {
    match b {
        Behaviour::ChangedAfterXmlValidationError => {
            let mut shown = Vec::new();
            for (i, s) in subs.iter().enumerate() {
                if s.answer != Answer::XmlValidationError {
                    continue;
                }
                let Some(id) = &s.id else { continue };
                let Some(next) = subs[i + 1..].iter().find(|n| n.id.as_ref() == Some(id)) else {
                    continue;
                };
                if next.body_sha256 == s.body_sha256 {
                    return result(
                        case,
                        Status::Failed,
                        vec![r(s), r(next)],
                        Some(format!(
                            "exchange {} re-sent exchange {} unchanged after {} ({})",
                            next.exchange.seq,
                            s.exchange.seq,
                            s.fault_text().unwrap_or_default(),
                            RESEND_AFTER_FAULT.id
                        )),
                    );
                }
                if next.payload_sha256 != s.payload_sha256 {
                    shown.extend([r(s), r(next)]);
                }
            }
            status_of(case, shown)
        }
        Behaviour::PacedAfterUnavailable => {
            let mut shown = Vec::new();
            for (i, s) in subs.iter().enumerate() {
                let unavailable = s.answer == Answer::Injected
                    || s.answer == Answer::Transport
                    || s.exchange.status == Some(503);
                if !unavailable {
                    continue;
                }
                let sender = s.sender();
                let Some(next) = subs[i + 1..].iter().find(|n| n.sender() == sender) else {
                    continue;
                };
                let (Some(a), Some(b)) = (s.at, next.at) else {
                    continue;
                };
                if b - a < MIN_INTERVAL {
                    return result(
                        case,
                        Status::Failed,
                        vec![r(s), r(next)],
                        Some(format!(
                            "exchange {} came {} ms after exchange {} was answered {}",
                            next.exchange.seq,
                            (b - a).whole_milliseconds(),
                            s.exchange.seq,
                            s.fault_text().unwrap_or_else(|| s.answer.as_str().into())
                        )),
                    );
                }
                shown.extend([r(s), r(next)]);
            }
            status_of(case, shown)
        }
        Behaviour::ChangedUnderNewId => {
            // Notifications about the same person and assistant, accepted under
            // different ids with different content.
            let mut by_pair: BTreeMap<(String, String), Vec<&Seen>> = BTreeMap::new();
            for s in subs.iter().filter(|s| s.answer == Answer::Accepted) {
                if let Some(n) = &s.notification {
                    by_pair
                        .entry((
                            n.person.personnummer.clone(),
                            n.assistent.personnummer.clone(),
                        ))
                        .or_default()
                        .push(s);
                }
            }
            let mut shown = Vec::new();
            for group in by_pair.values() {
                for (i, a) in group.iter().enumerate() {
                    if let Some(b) = group[i + 1..]
                        .iter()
                        .find(|b| b.id != a.id && b.payload_sha256 != a.payload_sha256)
                    {
                        shown.extend([r(a), r(b)]);
                        break;
                    }
                }
            }
            if shown.is_empty() {
                if let Some(f) = behaviour::findings(all)
                    .into_iter()
                    .find(|f| f.rule == behaviour::CHANGED_RESEND.id)
                {
                    return failed_by(case, f, subs);
                }
            }
            status_of(case, shown)
        }
        Behaviour::OneNotificationPerSignature => {
            if let Some(f) = behaviour::findings(all)
                .into_iter()
                .find(|f| f.rule == behaviour::SIGNATURE_SEVERAL.id)
            {
                return failed_by(case, f, subs);
            }
            let shown = subs
                .iter()
                .filter(|s| s.answer == Answer::Accepted)
                .map(|s| r(s))
                .collect();
            status_of(case, shown)
        }
        Behaviour::NoBurst => {
            if let Some(f) = behaviour::findings(all)
                .into_iter()
                .find(|f| f.rule == behaviour::BURST.id)
            {
                return failed_by(case, f, subs);
            }
            let shown: Vec<ExchangeRef> = subs.iter().map(|s| r(s)).collect();
            if shown.len() < 2 {
                return result(case, Status::NotDemonstrated, Vec::new(), None);
            }
            status_of(case, shown)
        }
    }
}

fn status_of(case: &Case, shown: Vec<ExchangeRef>) -> CaseResult {
    if shown.is_empty() {
        result(case, Status::NotDemonstrated, Vec::new(), None)
    } else {
        let mut shown = shown;
        shown.dedup();
        result(case, Status::Demonstrated, shown, None)
    }
}

fn failed_by(case: &Case, f: Finding, subs: &[&Seen]) -> CaseResult {
    let refs = f
        .seqs
        .iter()
        .map(|seq| ExchangeRef {
            seq: *seq,
            tx_id: subs
                .iter()
                .find(|s| s.exchange.seq == *seq)
                .and_then(|s| s.exchange.tx_id.clone()),
        })
        .collect();
    result(
        case,
        Status::Failed,
        refs,
        Some(format!("{}: {}", f.rule, f.message)),
    )
}
