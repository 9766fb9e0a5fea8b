//! Building [`ExchangeOutcome`]s from exchanges, judged by [`crate::judge`]; the data
//! types live in `eioa-report`, which renders them.

pub use eioa_report::run::{
    ExchangeOutcome, ExchangeWarning, Expect, Judgement, Observed, RunSummary, WarningKind,
};

use crate::scenarios::{Scenario, Step};
use eioa_client::{ClientError, Delivery, Exchange};
use eioa_model::redact::redact_xml;
use std::time::Duration;

pub(crate) trait OutcomeExt {
    fn not_built(s: &Scenario, why: &str) -> ExchangeOutcome;
    fn from_exchange(
        s: &Scenario,
        step_no: usize,
        step: &Step,
        observed: Observed,
        ex: Exchange,
        elapsed: Duration,
        redact: bool,
    ) -> ExchangeOutcome;
    fn from_error(
        s: &Scenario,
        step_no: usize,
        step: &Step,
        e: &ClientError,
        elapsed: Duration,
        redact: bool,
    ) -> ExchangeOutcome;
}

fn id(s: &Scenario, step_no: usize) -> String {
    if step_no == 0 {
        s.id.clone()
    } else {
        format!("{}#{}", s.id, step_no + 1)
    }
}

fn delivery(d: Delivery) -> String {
    match d {
        Delivery::NotSent => "not-sent",
        Delivery::MaybeSent => "maybe-sent",
        Delivery::Answered => "answered",
    }
    .into()
}

fn body(bytes: &[u8], redact: bool) -> String {
    let text = String::from_utf8_lossy(bytes);
    if redact {
        redact_xml(&text)
    } else {
        text.into_owned()
    }
}

fn base(s: &Scenario, step_no: usize, step: &Step) -> ExchangeOutcome {
    ExchangeOutcome {
        id: id(s, step_no),
        scenario: s.id.to_string(),
        title: s.title.to_string(),
        category: serde_json::to_value(s.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        expected: step.expect,
        expected_message: step.message_contains.clone(),
        observed: Observed::default(),
        judgement: Judgement::Failed,
        warnings: Vec::new(),
        reason: None,
        exchange_id: format!("local-{}", uuid::Uuid::new_v4()),
        elapsed_ms: 0.0,
        tls_version: None,
        server_cert_sha256: None,
        client_cert_sha256: None,
        url: String::new(),
        request: String::new(),
        response: String::new(),
    }
}

impl OutcomeExt for ExchangeOutcome {
    fn not_built(s: &Scenario, why: &str) -> ExchangeOutcome {
        let step = Step {
            body: vec![],
            soap_action: String::new(),
            expect: Expect::Accepted,
            message_contains: None,
        };
        let mut o = base(s, 0, &step);
        o.reason = Some(format!("the request could not be built: {why}"));
        o.observed.error = Some(why.to_string());
        o.observed.delivery = "not-sent".into();
        o
    }

    fn from_exchange(
        s: &Scenario,
        step_no: usize,
        step: &Step,
        observed: Observed,
        ex: Exchange,
        elapsed: Duration,
        redact: bool,
    ) -> ExchangeOutcome {
        let mut o = base(s, step_no, step);
        o.observed = Observed {
            delivery: delivery(ex.delivery),
            ..observed
        };
        if redact {
            // FK's messages quote the values they refuse.
            o.observed.fault_message = o.observed.fault_message.as_deref().map(redact_xml);
        }
        o.reason = crate::judge::judge(step.expect, step.message_contains.as_deref(), &o.observed);
        o.judgement = if o.reason.is_none() {
            Judgement::Passed
        } else {
            Judgement::Failed
        };
        if let Some(t) = &o.observed.tx_id {
            o.exchange_id = t.clone();
        }
        o.elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        o.tls_version = ex.tls_version;
        o.server_cert_sha256 = ex.server_cert_sha256;
        o.client_cert_sha256 = ex.client_cert_sha256;
        o.url = ex.url;
        o.request = body(&ex.request_body, redact);
        o.response = body(&ex.response_body, redact);
        o
    }

    fn from_error(
        s: &Scenario,
        step_no: usize,
        step: &Step,
        e: &ClientError,
        elapsed: Duration,
        redact: bool,
    ) -> ExchangeOutcome {
        let mut o = base(s, step_no, step);
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            msg.push_str(": ");
            msg.push_str(&inner.to_string());
            src = inner.source();
        }
        o.observed.error = Some(msg);
        o.observed.delivery = delivery(e.delivery());
        o.reason = crate::judge::judge(step.expect, step.message_contains.as_deref(), &o.observed);
        // Only a step that expects a transport error passes without an answer.
        if o.reason.is_none() {
            o.judgement = Judgement::Passed;
        }
        o.elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        o.request = body(&step.body, redact);
        if let Some(ex) = e.exchange() {
            o.url = ex.url.clone();
            o.tls_version = ex.tls_version.clone();
            o.server_cert_sha256 = ex.server_cert_sha256.clone();
        }
        o
    }
}
