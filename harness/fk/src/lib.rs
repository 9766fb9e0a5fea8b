//! FK's behaviour as one function: an HTTP request in, an HTTP response and a
//! verdict out. Every transport (the in-process wiremock stand-in, the standalone
//! TLS server) is a thin adapter around [`Fk::handle`]; a fix to FK's rules is one
//! change here.

pub mod docs;
pub mod resend;
pub mod rules;

use eioa_validate::Validator;
use rules::Rule;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

/// FK's path for the test environment.
pub const PATH_TEST: &str = eioa_model::fk_address::FK_TEST.path;
/// FK's path for production.
pub const PATH_PROD: &str = eioa_model::fk_address::FK_PROD.path;
/// The SOAPAction the contract's binding names.
pub const SOAP_ACTION: &str =
    "urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare";

/// One HTTP request as the transport received it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// Path without the query.
    pub path: &'a str,
    /// Query string without `?`, if any (`wsdl` for `GET …?wsdl`).
    pub query: Option<&'a str>,
    /// Header names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// The TLS client certificate (DER), when the transport has one.
    pub client_cert_der: Option<&'a [u8]>,
}

/// What the transport must send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What FK decided, for journals and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Accepted: FK's transaction id, and what FK would look at by hand (`FK-W…`).
    Accepted {
        tx_id: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<Warning>,
    },
    /// `XmlValidationError` fault.
    XmlValidationError { rule: String, message: String },
    /// `SignatureValidationError` fault.
    SignatureValidationError { rule: String, message: String },
    /// Refused before the SOAP operation (wrong path, method, SOAPAction, content type, envelope).
    Rejected {
        rule: String,
        status: u16,
        message: String,
    },
    /// The service itself failed (its schema set does not compile): a `Server` fault,
    /// never blamed on the client's request.
    ServerFault { rule: String, message: String },
    /// A document was served (WSDL, schema, health).
    Served { what: String },
}

/// Something FK accepts but would handle by hand: a rule `FK-W…` and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub rule: String,
    pub message: String,
}

/// Default body limit: 1 MiB, far above a real request (a few KB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// How many signatures FK remembers for the one-notification-per-signature rule.
pub const DEFAULT_SIGNATURE_MEMORY: usize = 100_000;

/// How many notification ids FK remembers, with their payload's hash, for FK-W001.
pub const DEFAULT_RESEND_MEMORY: usize = 100_000;

/// What FK's behaviour depends on.
#[derive(Debug, Clone)]
pub struct FkConfig {
    /// Validates envelopes and payloads (FK's schema set).
    pub validator: Arc<Validator>,
    /// Trust anchors for signer certificates, DER. The project's test CA by default;
    /// BankID's test or production roots when configured.
    pub trust_anchors: Vec<Vec<u8>>,
    /// The clock; `None` = the system clock (UTC).
    pub now: Option<OffsetDateTime>,
    /// Scheme, host and port written into the served WSDL's `soap:address`, such as
    /// `https://127.0.0.1:8020`. `None` = `http://` plus the request's Host header.
    pub base_url: Option<String>,
    /// Larger bodies get HTTP 413.
    pub max_body_bytes: usize,
    /// Bound on the remembered signatures (oldest forgotten first).
    pub signature_memory: usize,
    /// Bound on the remembered notification ids (least recently sent forgotten first).
    pub resend_memory: usize,
}

impl FkConfig {
    /// Defaults around a validator: no trust anchors yet, system clock, Host-derived
    /// base URL, default limits.
    pub fn new(validator: Arc<Validator>) -> Self {
        FkConfig {
            validator,
            trust_anchors: Vec::new(),
            now: None,
            base_url: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            signature_memory: DEFAULT_SIGNATURE_MEMORY,
            resend_memory: DEFAULT_RESEND_MEMORY,
        }
    }
}

/// FK's behaviour. `Send + Sync`: share one behind an `Arc` across connections.
#[derive(Debug)]
pub struct Fk {
    config: FkConfig,
    /// The trust anchors read once, with the certification paths and OCSP verdicts
    /// already checked (the same for every request from one signer).
    verifier: eioa_sign::Verifier,
    seen: sig::SeenSignatures,
    sent: resend::ResendMemory,
}

/// One rule firing: the rule and a concise message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static Rule,
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(rule: &'static Rule, message: impl Into<String>) -> Self {
        Refusal {
            rule,
            message: message.into(),
        }
    }
}

impl Fk {
    pub fn new(config: FkConfig) -> Self {
        let seen = sig::SeenSignatures::new(config.signature_memory);
        let sent = resend::ResendMemory::new(config.resend_memory);
        let verifier = eioa_sign::Verifier::new(
            config.trust_anchors.clone(),
            eioa_sign::DEFAULT_CACHE_ENTRIES,
        );
        Fk {
            config,
            verifier,
            seen,
            sent,
        }
    }

    pub fn config(&self) -> &FkConfig {
        &self.config
    }

    /// The clock FK uses.
    pub fn now(&self) -> OffsetDateTime {
        self.config.now.unwrap_or_else(OffsetDateTime::now_utc)
    }

    /// Answers one HTTP request. Never panics on any input.
    pub fn handle(&self, req: &HttpRequest<'_>) -> (HttpResponse, Verdict) {
        if req.path == "/health" && req.method.eq_ignore_ascii_case("GET") {
            return (
                text(200, "text/plain; charset=utf-8", b"ok\n".to_vec()),
                Verdict::Served {
                    what: "health".into(),
                },
            );
        }
        if req.path != PATH_TEST && req.path != PATH_PROD {
            return reject(Refusal::new(&rules::T001_PATH, format!("no service at {}; FK's paths are {PATH_TEST} (test) and {PATH_PROD} (production)", req.path)));
        }
        if req.method.eq_ignore_ascii_case("GET") {
            return match docs::serve(self, req) {
                Ok((resp, what)) => (resp, Verdict::Served { what }),
                Err(r) => reject(r),
            };
        }
        if req.method != "POST" {
            let (mut resp, v) = reject(Refusal::new(
                &rules::T002_METHOD,
                format!(
                    "method {} is not allowed; call the operation with POST",
                    req.method
                ),
            ));
            resp.headers.push(("Allow".into(), "GET, POST".into()));
            return (resp, v);
        }
        if let Err(r) = self.transport(req) {
            return reject(r);
        }
        op::operation(self, req.body)
    }

    /// Content type, SOAPAction and size checks on a POST.
    fn transport(&self, req: &HttpRequest<'_>) -> Result<(), Refusal> {
        let ct = header(req.headers, "content-type").unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime == "application/soap+xml" {
            return Err(Refusal::new(&rules::T003_SOAP12, "Content-Type application/soap+xml is SOAP 1.2; this service is SOAP 1.1: send text/xml with a SOAPAction header"));
        }
        if mime != "text/xml" {
            let shown = if ct.is_empty() {
                "missing".to_string()
            } else {
                format!("`{ct}`")
            };
            return Err(Refusal::new(
                &rules::T004_CONTENT_TYPE,
                format!("Content-Type is {shown}; SOAP 1.1 requires text/xml; charset=utf-8"),
            ));
        }
        match header(req.headers, "soapaction").map(unquote) {
            Some(a) if a == SOAP_ACTION => {}
            Some(a) => {
                return Err(Refusal::new(
                    &rules::T005_SOAP_ACTION,
                    format!("SOAPAction `{a}` is not the operation's; expected `{SOAP_ACTION}`"),
                ))
            }
            None => {
                return Err(Refusal::new(
                    &rules::T005_SOAP_ACTION,
                    format!("the SOAPAction header is missing; expected `{SOAP_ACTION}`"),
                ))
            }
        }
        if req.body.len() > self.config.max_body_bytes {
            return Err(Refusal::new(
                &rules::T006_BODY_LIMIT,
                format!(
                    "the body is {} bytes, over the limit of {}",
                    req.body.len(),
                    self.config.max_body_bytes
                ),
            ));
        }
        Ok(())
    }
}

mod op;
#[cfg(test)]
mod reference;
mod sig;

/// The first header with this name (case-insensitive).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

pub(crate) fn text(status: u16, content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body,
    }
}

pub(crate) use op::reject;

// `Fk` is shared across connections and threads.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Fk>();
};
