//! The SOAP operation: envelope, payload and signature checks, then the answer.

use crate::rules::{self, Answer};
use crate::{sig, text, Fk, HttpResponse, Refusal, Verdict};
use eioa_model::soap::{Fault, Request, Response, SoapError};
use eioa_model::Notification;
use eioa_validate::{Finding, Severity};

/// Elements whose base64 the schema types as `base64Binary`: a lexical error there is
/// reported by the payload or signature stage, whose fault names it, not as a broken
/// envelope.
const BASE64_ELEMENTS: [&str; 3] = ["anmalanfranarbetsgivare", "signatur", "ocspresponse"];

/// The response and verdict for a refusal, per the rule's answer.
pub(crate) fn reject(r: Refusal) -> (HttpResponse, Verdict) {
    let rule = r.rule.tag();
    let message = format!("{rule}: {}", r.message);
    let (status, fault, verdict) = match r.rule.answer {
        Answer::Http(status) => (
            status,
            Fault {
                faultcode: eioa_model::soap::FAULTCODE_CLIENT.into(),
                faultstring: message.clone(),
                detail: None,
            },
            Verdict::Rejected {
                rule,
                status,
                message,
            },
        ),
        Answer::XmlValidationError => (
            500,
            Fault::xml_validation("XML validation failed", message.clone()),
            Verdict::XmlValidationError { rule, message },
        ),
        Answer::SignatureValidationError => (
            500,
            Fault::signature_validation("signature validation failed", message.clone()),
            Verdict::SignatureValidationError { rule, message },
        ),
    };
    (soap(status, Response::Fault(fault).to_xml()), verdict)
}

fn soap(status: u16, body: Vec<u8>) -> HttpResponse {
    text(status, eioa_model::soap::CONTENT_TYPE, body)
}

pub(crate) fn operation(fk: &Fk, body: &[u8]) -> (HttpResponse, Verdict) {
    match checks(fk, body) {
        Ok(tx_id) => {
            let resp = Response::Accepted {
                tx_id: tx_id.clone(),
            }
            .to_xml();
            (soap(200, resp), Verdict::Accepted { tx_id })
        }
        Err(r) => reject(r),
    }
}

fn checks(fk: &Fk, body: &[u8]) -> Result<String, Refusal> {
    envelope(fk, body)?;
    let request = Request::parse(body).map_err(soap_error)?;
    let notification = payload(fk, &request.payload)?;
    let keys = sig::check_all(fk, &request, &notification)?;
    // The check inside check_all gives the early, precise answer; this one is atomic.
    fk.seen.claim(&keys, &notification.id).map_err(|(i, prev)| {
        Refusal::new(
            &rules::S006_REUSE,
            format!(
                "/SkickaAnmalanFranArbetsgivare/underskrift[{}]: this signature was already used for notification {prev}; FK accepts one notification per signature: sign notification {} separately",
                i + 1,
                notification.id
            ),
        )
    })?;
    Ok(uuid::Uuid::new_v4().to_string())
}

/// The envelope against the SOAP 1.1 and Responder schemas.
fn envelope(fk: &Fk, body: &[u8]) -> Result<(), Refusal> {
    let report = fk.config.validator.validate_envelope(body);
    let blocking: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && !is_base64_datatype(f))
        .collect();
    let Some(first) = blocking.first() else {
        return Ok(());
    };
    if first.message.contains(eioa_model::soap::SOAP12_ENV_NS) || body_mentions_soap12(body) {
        return Err(Refusal::new(
            &rules::E002_SOAP12_ENVELOPE,
            "the envelope is SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope); this service is SOAP 1.1 (http://schemas.xmlsoap.org/soap/envelope/)",
        ));
    }
    let rule = if first.rule.starts_with("EIOA-X") {
        &rules::E001_ENVELOPE
    } else {
        &rules::E003_REQUEST
    };
    Err(Refusal::new(rule, describe(first, blocking.len())))
}

fn body_mentions_soap12(body: &[u8]) -> bool {
    let ns = eioa_model::soap::SOAP12_ENV_NS.as_bytes();
    body.windows(ns.len()).take(4096).any(|w| w == ns)
}

fn is_base64_datatype(f: &Finding) -> bool {
    let leaf = f
        .path
        .as_deref()
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or("");
    let leaf = leaf.rsplit(':').next().unwrap_or(leaf);
    BASE64_ELEMENTS.contains(&leaf)
        && (f.kind.as_deref() == Some("datatype") || f.message.contains("base64Binary"))
}

/// A parse failure after the schema passed: base64 and value errors by element.
fn soap_error(e: SoapError) -> Refusal {
    match &e {
        SoapError::Base64 { element, .. } if element == "anmalanfranarbetsgivare" => Refusal::new(
            &rules::X001_PAYLOAD_BASE64,
            format!("/SkickaAnmalanFranArbetsgivare/anmalanfranarbetsgivare: {e}"),
        ),
        SoapError::Base64 { element, .. } => Refusal::new(
            &rules::S001_BASE64,
            format!("/SkickaAnmalanFranArbetsgivare/underskrift/{element}: {e}"),
        ),
        SoapError::Soap12Envelope => Refusal::new(&rules::E002_SOAP12_ENVELOPE, e.to_string()),
        SoapError::NotUtf8 | SoapError::NotWellFormed(_) | SoapError::Doctype => {
            Refusal::new(&rules::E001_ENVELOPE, e.to_string())
        }
        _ => Refusal::new(&rules::E003_REQUEST, e.to_string()),
    }
}

/// The payload against the payload schema and rules; returns the notification.
fn payload(fk: &Fk, bytes: &[u8]) -> Result<Notification, Refusal> {
    let report = fk.config.validator.validate(bytes);
    let errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if let Some(&first) = errors.first() {
        // On the same element a business rule says more than the schema's pattern
        // (`YYYYMMDDXXXX` is a placeholder, not just "not 12 digits").
        let first = errors
            .iter()
            .copied()
            .find(|f| f.rule.starts_with("EIOA-R") && f.path == first.path)
            .unwrap_or(first);
        let rule = match first.rule.get(..6) {
            Some("EIOA-X") => &rules::X002_PAYLOAD_XML,
            Some("EIOA-R") => &rules::X004_PAYLOAD_RULES,
            _ => &rules::X003_PAYLOAD_SCHEMA,
        };
        return Err(Refusal::new(rule, describe(first, errors.len())));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Refusal::new(&rules::X002_PAYLOAD_XML, "the payload is not UTF-8"))?;
    Notification::from_xml(text)
        .map_err(|e| Refusal::new(&rules::X003_PAYLOAD_SCHEMA, e.to_string()))
}

/// `PATH: message [EIOA-…] (and N more errors)`.
fn describe(f: &Finding, total: usize) -> String {
    let mut s = match &f.path {
        Some(p) => format!("{p}: {}", f.message),
        None if f.line > 0 => format!("line {}: {}", f.line, f.message),
        None => f.message.clone(),
    };
    s.push_str(&format!(" [{}]", f.rule));
    if total > 1 {
        s.push_str(&format!(
            " (and {} more error{})",
            total - 1,
            if total > 2 { "s" } else { "" }
        ));
    }
    s
}
