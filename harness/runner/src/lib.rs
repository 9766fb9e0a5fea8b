//! Conformance runs: scenarios become signed SOAP requests, go out through the one
//! [`eioa_client::Client`] (the same code path for the in-process stand-in, a local
//! TLS stand-in and FK's real test address), and the answers are judged against each
//! scenario's expectation.
//!
//! Nothing here resends a request on its own: every exchange is sent once and
//! recorded, whatever happens to it.

pub mod derive;
pub mod fixture;
pub mod gate;
mod judge;
mod kit;
pub mod pseudo;
mod record;
mod scenarios;
pub mod suite;
mod warn;

pub use eioa_model::redact::redact_xml;
pub use judge::judge;
pub use kit::{Branch, Kit, KitError};
use record::OutcomeExt;
pub use record::{
    ExchangeOutcome, ExchangeWarning, Expect, Judgement, Observed, RunSummary, WarningKind,
};
pub use scenarios::{
    suite, Category, Edit, ExpectDef, NotificationDef, Replace, Scenario, SignatureMode, Source,
    Step, StepDef, SuiteName,
};
pub use suite::SuiteError;
pub use warn::FK_ANSWER_TIME;

use eioa_client::{Client, Target};
use eioa_model::soap::{Response, SOAP_ACTION};
use eioa_validate::Validator;
use std::sync::Arc;
use std::time::Instant;

/// How a run records what it saw.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Mask identity numbers and names in recorded bodies (the default).
    pub redact: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { redact: true }
    }
}

/// Runs `scenarios` against `target`, one exchange at a time, in order. Refuses (before
/// any connection) what [`gate::check`] does not let through.
pub async fn run(
    scenarios: &[Scenario],
    kit: &Kit,
    client: &Client,
    target: &Target,
    validator: &Arc<Validator>,
    opts: RunOptions,
    mut progress: impl FnMut(&ExchangeOutcome),
) -> Result<RunSummary, gate::SendRefused> {
    gate::check(target, gate::Outgoing::Scenarios(scenarios))?;
    let started_at = time::OffsetDateTime::now_utc();
    let t0 = Instant::now();
    let mut outcomes = Vec::new();
    let mut warner = warn::Warner::default();
    for scenario in scenarios {
        let steps = match scenario.build(kit) {
            Ok(steps) => steps,
            Err(e) => {
                let o = ExchangeOutcome::not_built(scenario, &e.to_string());
                progress(&o);
                outcomes.push(o);
                continue;
            }
        };
        for (i, step) in steps.into_iter().enumerate() {
            let started = Instant::now();
            let result = client
                .post_soap(target, &step.soap_action, step.body.clone())
                .await;
            let elapsed = started.elapsed();
            let o = match result {
                Ok(ex) => {
                    let observed = observe(&ex.response_body, ex.status, validator);
                    let warnings = warner.check(&step.body, &observed, ex.timings.total);
                    let mut o = ExchangeOutcome::from_exchange(
                        scenario,
                        i,
                        &step,
                        observed,
                        ex,
                        elapsed,
                        opts.redact,
                    );
                    o.warnings = warnings;
                    o
                }
                Err(e) => ExchangeOutcome::from_error(scenario, i, &step, &e, elapsed, opts.redact),
            };
            progress(&o);
            outcomes.push(o);
        }
    }
    Ok(RunSummary {
        run_id: uuid::Uuid::new_v4().to_string(),
        tool: format!("eioa {}", env!("CARGO_PKG_VERSION")),
        target: target.to_string(),
        schema_set: validator.info().clone(),
        started_at,
        elapsed_ms: t0.elapsed().as_secs_f64() * 1000.0,
        outcomes,
    })
}

/// Reads FK's answer: tx-id, fault kind and message, and whether the envelope
/// conforms to the contract's Responder schema.
pub fn observe(body: &[u8], status: Option<u16>, validator: &Validator) -> Observed {
    let envelope = validator.validate_envelope(body);
    let envelope_findings: Vec<String> = envelope
        .findings
        .iter()
        .filter(|f| f.severity == eioa_validate::Severity::Error)
        .map(|f| f.message.clone())
        .collect();
    let mut o = Observed {
        status,
        envelope_findings,
        ..Observed::default()
    };
    match Response::parse(body) {
        Ok(Response::Accepted { tx_id }) => o.tx_id = Some(tx_id),
        Ok(Response::Fault(f)) => {
            use eioa_model::soap::FaultDetail;
            o.faultcode = Some(f.faultcode.clone());
            o.fault_message = Some(f.faultstring.clone());
            o.fault = Some(match f.detail {
                Some(FaultDetail::XmlValidationError { message }) => {
                    o.fault_message = Some(message);
                    "XmlValidationError".into()
                }
                Some(FaultDetail::SignatureValidationError { message }) => {
                    o.fault_message = Some(message);
                    "SignatureValidationError".into()
                }
                Some(FaultDetail::Other { .. }) | None => "Fault".into(),
            });
        }
        Err(e) => o.unreadable = Some(e.to_string()),
    }
    o
}

/// Starts the in-process stand-in, trusting the kit's test CA for signatures.
pub async fn start_stand_in(
    validator: Arc<Validator>,
    kit: &Kit,
) -> eioa_mock_server::inprocess::InProcessFk {
    let mut cfg = eioa_fk::FkConfig::new(validator);
    cfg.trust_anchors = kit.trust_anchors();
    eioa_mock_server::inprocess::InProcessFk::start(cfg).await
}

/// The SOAPAction header every well-behaved step sends.
pub fn soap_action() -> String {
    SOAP_ACTION.to_string()
}
