//! The SOAP operation: envelope, payload and signature checks, then the answer.

use crate::resend::Resend;
use crate::rules::{self, Answer};
use crate::{sig, text, Fk, HttpResponse, Refusal, Verdict, Warning};
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
        // A warning rule never refuses; if one is ever passed here, the service is at
        // fault, not the client.
        Answer::ServerFault | Answer::AcceptedWithWarning => (
            500,
            Fault {
                faultcode: "soap:Server".into(),
                faultstring: message.clone(),
                detail: None,
            },
            Verdict::ServerFault { rule, message },
        ),
    };
    (soap(status, Response::Fault(fault).to_xml()), verdict)
}

fn soap(status: u16, body: Vec<u8>) -> HttpResponse {
    text(status, eioa_model::soap::CONTENT_TYPE, body)
}

pub(crate) fn operation(fk: &Fk, body: &[u8]) -> (HttpResponse, Verdict) {
    match checks(fk, body) {
        Ok((tx_id, warnings)) => {
            let resp = Response::Accepted {
                tx_id: tx_id.clone(),
            }
            .to_xml();
            (soap(200, resp), Verdict::Accepted { tx_id, warnings })
        }
        Err(r) => reject(r),
    }
}

fn checks(fk: &Fk, body: &[u8]) -> Result<(String, Vec<Warning>), Refusal> {
    envelope(fk, body)?;
    let request = Request::parse(body).map_err(soap_error)?;
    let (notification, canonical) = payload(fk, &request.payload)?;
    let keys = sig::check_all(fk, &request, &notification, canonical.as_deref())?;
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
    let mut warnings = Vec::new();
    if let Resend::Changed { previous_sha256 } = fk.sent.record(&notification.id, &request.payload)
    {
        warnings.push(changed_resend(&notification.id, &previous_sha256));
    }
    Ok((uuid::Uuid::new_v4().to_string(), warnings))
}

/// FK-W001's warning: the same id, other content.
pub(crate) fn changed_resend(id: &str, previous_sha256: &str) -> Warning {
    let rule = &rules::W001_CHANGED_RESEND;
    Warning {
        rule: rule.tag(),
        message: format!(
            "{}: notification {id} was sent before with other content (payload SHA-256 {previous_sha256}); FK accepts it, but a sent notification cannot be changed: a change needs a new id, and this one is handled manually",
            rule.tag()
        ),
    }
}

/// A finding that says the service's own schema set is broken, not the document.
fn broken_schema_set(findings: &[&Finding]) -> Option<Refusal> {
    findings.iter().find(|f| f.rule == "EIOA-S000").map(|f| {
        Refusal::new(
            &rules::I001_SCHEMA_SET,
            format!("the service's schema set could not be used: {}", f.message),
        )
    })
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
    if let Some(r) = broken_schema_set(&blocking) {
        return Err(r);
    }
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

/// The payload against the payload schema and rules; returns the notification and,
/// when the validator found the payload clean in its one pass, the payload's canonical
/// form from that pass (what the signature binding hashes; without it, the binding
/// check canonicalises the payload itself).
fn payload(fk: &Fk, bytes: &[u8]) -> Result<(Notification, Option<Vec<u8>>), Refusal> {
    let (report, canonical) = fk.config.validator.validate_canonical(bytes);
    let errors: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if let Some(r) = broken_schema_set(&errors) {
        return Err(r);
    }
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
    let notification = Notification::from_xml(text)
        .map_err(|e| Refusal::new(&rules::X003_PAYLOAD_SCHEMA, e.to_string()))?;
    Ok((notification, canonical))
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

#[cfg(test)]
mod tests {
    use super::*;
    use eioa_model::soap::FaultDetail;

    fn finding(rule: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::Error,
            line: 0,
            column: 0,
            path: None,
            message: format!("{rule} happened"),
            hint: None,
            kind: None,
        }
    }

    /// EIOA-S000 (the schema set does not compile) is the service's failure: a Server
    /// fault without detail, never the client's XmlValidationError.
    #[test]
    fn broken_schema_set_is_a_server_fault() {
        let s001 = finding("EIOA-S001");
        let s000 = finding("EIOA-S000");
        assert_eq!(broken_schema_set(&[&s001]), None);
        let refusal = broken_schema_set(&[&s001, &s000]).expect("S000 is noticed");
        assert_eq!(refusal.rule.id, "FK-I001");
        let (resp, verdict) = reject(refusal);
        assert_eq!(resp.status, 500);
        let Verdict::ServerFault { rule, message } = &verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(rule, "FK-I001(inferred)");
        assert!(message.contains("EIOA-S000 happened"), "{message}");
        let Ok(Response::Fault(f)) = Response::parse(&resp.body) else {
            panic!("{}", String::from_utf8_lossy(&resp.body));
        };
        assert_eq!(f.code_local(), "Server");
        assert_eq!(f.detail, None::<FaultDetail>);
        assert!(f.faultstring.starts_with("FK-I001"), "{}", f.faultstring);
    }
}
