//! The SOAP operation: envelope, payload and signature checks, then the answer.

use crate::rules;
use crate::{reject, text, Fk, HttpResponse, Refusal, Verdict};

pub(crate) const SOAP11_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

pub(crate) enum Detail<'a> {
    Xml(&'a str),
    Signature(&'a str),
}

/// A SOAP 1.1 `Client` fault.
pub(crate) fn client_fault(faultstring: &str, detail: Option<Detail<'_>>) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let detail = match detail {
        None => String::new(),
        Some(Detail::Xml(m)) => format!("<detail><r:XmlValidationError xmlns:r=\"urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1\"><r:message>{}</r:message></r:XmlValidationError></detail>", esc(m)),
        Some(Detail::Signature(m)) => format!("<detail><r:SignatureValidationError xmlns:r=\"urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1\"><r:message>{}</r:message></r:SignatureValidationError></detail>", esc(m)),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>{}</faultstring>{detail}</soap:Fault></soap:Body></soap:Envelope>",
        esc(faultstring)
    )
    .into_bytes()
}

pub(crate) fn operation(fk: &Fk, body: &[u8]) -> (HttpResponse, Verdict) {
    let report = fk.config.validator.validate_envelope(body);
    if !report.is_valid() {
        let f = report
            .findings
            .iter()
            .find(|f| f.severity == eioa_validate::Severity::Error);
        let msg = f
            .map(|f| format!("{}: {}", f.path.as_deref().unwrap_or("envelope"), f.message))
            .unwrap_or_default();
        return reject(Refusal::new(&rules::E003_REQUEST, msg));
    }
    let _ = text;
    reject(Refusal::new(
        &rules::E001_ENVELOPE,
        "operation checks are not wired yet",
    ))
}
