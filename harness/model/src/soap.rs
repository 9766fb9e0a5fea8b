//! The E-IOA SOAP 1.1 messages: the `SkickaAnmalanFranArbetsgivare` request, its
//! response (a tx-id) and the contract's faults.
//!
//! Writers produce envelopes that the project's envelope schema accepts. Readers are
//! strict where the contract is strict (envelope, body, operation element, element
//! order, namespaces) and tolerant where it is open: other-namespace extension
//! elements are skipped, whitespace inside base64 is allowed, and namespace
//! prefixes are never assumed.

use crate::read::is_xs_date;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};
use quick_xml::NsReader;

/// SOAP 1.1 envelope namespace, the only SOAP version E-IOA speaks.
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace, recognised only to reject it with a clear error.
pub const SOAP12_ENV_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Namespace of the request, response and fault-detail elements.
pub const MESSAGE_NS: &str = "urn:shs:emottagning:SkickaAnmalanFranArbetsgivare:1";
/// The `SOAPAction` HTTP header value of the operation.
pub const SOAP_ACTION: &str =
    "urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare";
/// The HTTP `Content-Type` of requests and responses.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";
/// Local name of the request element.
pub const REQUEST_ELEMENT: &str = "SkickaAnmalanFranArbetsgivare";
/// Local name of the response element.
pub const RESPONSE_ELEMENT: &str = "SkickaAnmalanFranArbetsgivareResponse";
/// The fault code the contract's validation faults carry.
pub const FAULTCODE_CLIENT: &str = "soap:Client";

/// Deeper than any E-IOA message by far; stops stack abuse early.
const MAX_DEPTH: usize = 64;

/// Why bytes are not an E-IOA SOAP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SoapError {
    #[error("message is not UTF-8 text")]
    NotUtf8,
    #[error("message is not well-formed XML: {0}")]
    NotWellFormed(String),
    #[error("a DOCTYPE is not allowed in a SOAP message")]
    Doctype,
    #[error("the envelope uses the SOAP 1.2 namespace; E-IOA uses SOAP 1.1 ({SOAP_ENV_NS})")]
    Soap12Envelope,
    #[error("{path}: expected {expected}, found {found}")]
    UnexpectedElement {
        path: String,
        expected: String,
        found: String,
    },
    #[error("{path}: missing {expected}")]
    MissingElement { path: String, expected: String },
    #[error("{path}: text is not allowed in element-only content")]
    StrayText { path: String },
    #[error("{element} does not hold valid base64")]
    Base64 {
        element: String,
        #[source]
        source: base64::DecodeError,
    },
    #[error("{element}: invalid value `{value}`: {reason}")]
    InvalidValue {
        element: String,
        value: String,
        reason: String,
    },
}

/// Who signed: the provider or the assistant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Signaturtyp {
    Anordnare,
    Assistent,
}

impl Signaturtyp {
    /// The contract's enumeration value (`ANORDNARE` / `ASSISTENT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Signaturtyp::Anordnare => "ANORDNARE",
            Signaturtyp::Assistent => "ASSISTENT",
        }
    }

    /// Parses the contract's enumeration value (case-sensitive, as the schema is).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "ANORDNARE" => Some(Signaturtyp::Anordnare),
            "ASSISTENT" => Some(Signaturtyp::Assistent),
            _ => None,
        }
    }
}

/// One `underskrift`: a BankID signature with its OCSP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Underskrift {
    pub signaturtyp: Signaturtyp,
    /// The signature XML bytes (sent base64-encoded).
    pub signatur: Vec<u8>,
    /// The DER-encoded OCSP response (sent base64-encoded).
    pub ocspresponse: Vec<u8>,
    /// `xs:date`, lexical form.
    pub signaturdatum: String,
}

/// The `SkickaAnmalanFranArbetsgivare` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The payload bytes exactly as signed (sent base64-encoded).
    pub payload: Vec<u8>,
    /// One or more signatures.
    pub underskrifter: Vec<Underskrift>,
}

/// What the service answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The notification was received; `tx_id` traces the call with FK.
    Accepted { tx_id: String },
    /// A SOAP fault.
    Fault(Fault),
}

/// A SOAP 1.1 fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// A QName. When its prefix is bound to the SOAP 1.1 namespace, it is read back as
    /// `soap:{local}` whatever prefix the sender used.
    pub faultcode: String,
    pub faultstring: String,
    pub detail: Option<FaultDetail>,
}

/// The contract's fault details, or whatever else a server put in `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultDetail {
    XmlValidationError {
        message: String,
    },
    SignatureValidationError {
        message: String,
    },
    /// Any other detail content, as the raw XML text between `<detail>` and `</detail>`
    /// (trimmed).
    Other {
        xml: String,
    },
}

impl Fault {
    /// A `soap:Client` fault with the contract's `XmlValidationError` detail.
    pub fn xml_validation(faultstring: impl Into<String>, message: impl Into<String>) -> Self {
        Fault {
            faultcode: FAULTCODE_CLIENT.to_string(),
            faultstring: faultstring.into(),
            detail: Some(FaultDetail::XmlValidationError {
                message: message.into(),
            }),
        }
    }

    /// A `soap:Client` fault with the contract's `SignatureValidationError` detail.
    pub fn signature_validation(
        faultstring: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Fault {
            faultcode: FAULTCODE_CLIENT.to_string(),
            faultstring: faultstring.into(),
            detail: Some(FaultDetail::SignatureValidationError {
                message: message.into(),
            }),
        }
    }

    /// The local part of the fault code (`Client`, `Server`, ...).
    pub fn code_local(&self) -> &str {
        self.faultcode.rsplit(':').next().unwrap_or(&self.faultcode)
    }
}

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

fn envelope(body: &str) -> Vec<u8> {
    format!(
        "{XML_DECL}\n<soap:Envelope xmlns:soap=\"{SOAP_ENV_NS}\"><soap:Body>{body}</soap:Body></soap:Envelope>\n"
    )
    .into_bytes()
}

impl Request {
    /// The full SOAP 1.1 envelope, base64 without line breaks.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut body = format!("<ns:{REQUEST_ELEMENT} xmlns:ns=\"{MESSAGE_NS}\">");
        body.push_str("<ns:anmalanfranarbetsgivare>");
        body.push_str(&STANDARD.encode(&self.payload));
        body.push_str("</ns:anmalanfranarbetsgivare>");
        for u in &self.underskrifter {
            body.push_str("<ns:underskrift><ns:signaturtyp>");
            body.push_str(u.signaturtyp.as_str());
            body.push_str("</ns:signaturtyp><ns:signatur>");
            body.push_str(&STANDARD.encode(&u.signatur));
            body.push_str("</ns:signatur><ns:ocspresponse>");
            body.push_str(&STANDARD.encode(&u.ocspresponse));
            body.push_str("</ns:ocspresponse><ns:signaturdatum>");
            body.push_str(&escape(u.signaturdatum.as_str()));
            body.push_str("</ns:signaturdatum></ns:underskrift>");
        }
        body.push_str(&format!("</ns:{REQUEST_ELEMENT}>"));
        envelope(&body)
    }

    /// Reads a request envelope strictly (see the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<Request, SoapError> {
        let root = parse_tree(bytes)?;
        let op = body_child(&root)?;
        let path = format!("/Envelope/Body/{}", op.local);
        if !op.is(MESSAGE_NS, REQUEST_ELEMENT) {
            return Err(unexpected(
                "/Envelope/Body",
                &format!("{{{MESSAGE_NS}}}{REQUEST_ELEMENT}"),
                op,
            ));
        }
        let mut seq = Seq::new(op, &path)?;
        let payload = decode_b64(
            seq.required("anmalanfranarbetsgivare")?,
            "anmalanfranarbetsgivare",
        )?;
        let mut underskrifter = Vec::new();
        while let Some(u) = seq.optional("underskrift") {
            underskrifter.push(underskrift(u, &seq.child_path("underskrift"))?);
        }
        if underskrifter.is_empty() {
            return Err(seq.missing("underskrift"));
        }
        seq.end()?;
        Ok(Request {
            payload,
            underskrifter,
        })
    }
}

fn underskrift(e: &Elem, path: &str) -> Result<Underskrift, SoapError> {
    let mut seq = Seq::new(e, path)?;
    let typ = seq.leaf("signaturtyp")?;
    let signaturtyp = Signaturtyp::parse(typ.trim()).ok_or_else(|| SoapError::InvalidValue {
        element: "signaturtyp".into(),
        value: typ.clone(),
        reason: "expected ANORDNARE or ASSISTENT".into(),
    })?;
    let signatur = decode_b64(seq.required("signatur")?, "signatur")?;
    let ocspresponse = decode_b64(seq.required("ocspresponse")?, "ocspresponse")?;
    let datum = seq.leaf("signaturdatum")?;
    let signaturdatum = datum.trim().to_string();
    if !is_xs_date(&signaturdatum) {
        return Err(SoapError::InvalidValue {
            element: "signaturdatum".into(),
            value: datum,
            reason: "expected an xs:date such as 2024-05-01".into(),
        });
    }
    seq.end()?;
    Ok(Underskrift {
        signaturtyp,
        signatur,
        ocspresponse,
        signaturdatum,
    })
}

fn decode_b64(e: &Elem, name: &str) -> Result<Vec<u8>, SoapError> {
    if let Some(c) = e.children.first() {
        return Err(SoapError::UnexpectedElement {
            path: name.to_string(),
            expected: "base64 text".into(),
            found: format!("element `{}`", c.local),
        });
    }
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let text = e.text.as_bytes();
    // Most senders write base64 on one line: then it is decoded as it stands, not
    // copied first. The scan has no early exit so that it runs many bytes at a time.
    let spaced = text.iter().fold(false, |seen, b| seen | is_space(b));
    let compact: std::borrow::Cow<'_, [u8]> = if spaced {
        text.iter().copied().filter(|b| !is_space(b)).collect()
    } else {
        text.into()
    };
    STANDARD
        .decode(&*compact)
        .map_err(|source| SoapError::Base64 {
            element: name.to_string(),
            source,
        })
}

impl Response {
    /// The full SOAP 1.1 envelope of this response or fault.
    pub fn to_xml(&self) -> Vec<u8> {
        match self {
            Response::Accepted { tx_id } => envelope(&format!(
                "<ns:{RESPONSE_ELEMENT} xmlns:ns=\"{MESSAGE_NS}\"><ns:tx-id>{}</ns:tx-id></ns:{RESPONSE_ELEMENT}>",
                escape(tx_id.as_str())
            )),
            Response::Fault(f) => {
                let detail = match &f.detail {
                    None => String::new(),
                    Some(FaultDetail::XmlValidationError { message }) => detail_element("XmlValidationError", message),
                    Some(FaultDetail::SignatureValidationError { message }) => {
                        detail_element("SignatureValidationError", message)
                    }
                    Some(FaultDetail::Other { xml }) => format!("<detail>{xml}</detail>"),
                };
                envelope(&format!(
                    "<soap:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring>{detail}</soap:Fault>",
                    escape(f.faultcode.as_str()),
                    escape(f.faultstring.as_str())
                ))
            }
        }
    }

    /// Reads a response or fault envelope, whatever prefixes the server chose.
    pub fn parse(bytes: &[u8]) -> Result<Response, SoapError> {
        let root = parse_tree(bytes)?;
        let child = body_child(&root)?;
        if child.is(MESSAGE_NS, RESPONSE_ELEMENT) {
            let path = format!("/Envelope/Body/{RESPONSE_ELEMENT}");
            let mut seq = Seq::new(child, &path)?;
            let tx_id = seq.leaf("tx-id")?.trim().to_string();
            seq.end()?;
            return Ok(Response::Accepted { tx_id });
        }
        if child.is(SOAP_ENV_NS, "Fault") {
            return fault(child).map(Response::Fault);
        }
        Err(unexpected(
            "/Envelope/Body",
            &format!("{{{MESSAGE_NS}}}{RESPONSE_ELEMENT} or a SOAP Fault"),
            child,
        ))
    }
}

fn detail_element(name: &str, message: &str) -> String {
    format!(
        "<detail><ns:{name} xmlns:ns=\"{MESSAGE_NS}\"><ns:message>{}</ns:message></ns:{name}></detail>",
        escape(message)
    )
}

/// Fault children are unqualified per SOAP 1.1, but some servers qualify them:
/// they are matched by local name only.
fn fault(e: &Elem) -> Result<Fault, SoapError> {
    let path = "/Envelope/Body/Fault";
    let find = |name: &str| e.children.iter().find(|c| c.local == name);
    let code = find("faultcode").ok_or_else(|| SoapError::MissingElement {
        path: path.into(),
        expected: "faultcode".into(),
    })?;
    let faultstring = find("faultstring")
        .ok_or_else(|| SoapError::MissingElement {
            path: path.into(),
            expected: "faultstring".into(),
        })?
        .text
        .trim()
        .to_string();
    let raw_code = code.text.trim();
    let faultcode = match (&code.qname_ns, raw_code.split_once(':')) {
        (Some(ns), Some((_, local))) if ns == SOAP_ENV_NS => format!("soap:{local}"),
        _ => raw_code.to_string(),
    };
    let detail = find("detail").and_then(|d| {
        if let Some(first) = d.children.first() {
            let message = || {
                first
                    .children
                    .iter()
                    .find(|m| {
                        m.local == "message"
                            && (m.ns.is_none() || m.ns.as_deref() == Some(MESSAGE_NS))
                    })
                    .map(|m| m.text.clone())
            };
            if d.children.len() == 1 && first.ns.as_deref() == Some(MESSAGE_NS) {
                match (first.local.as_str(), message()) {
                    ("XmlValidationError", Some(message)) => {
                        return Some(FaultDetail::XmlValidationError { message })
                    }
                    ("SignatureValidationError", Some(message)) => {
                        return Some(FaultDetail::SignatureValidationError { message })
                    }
                    _ => {}
                }
            }
        }
        let xml = d.inner_xml.trim();
        (!xml.is_empty()).then(|| FaultDetail::Other {
            xml: xml.to_string(),
        })
    });
    Ok(Fault {
        faultcode,
        faultstring,
        detail,
    })
}

/// The envelope's single body child, after checking Envelope, optional Header and Body.
fn body_child(root: &Elem) -> Result<&Elem, SoapError> {
    if root.ns.as_deref() == Some(SOAP12_ENV_NS) {
        return Err(SoapError::Soap12Envelope);
    }
    if !root.is(SOAP_ENV_NS, "Envelope") {
        return Err(unexpected("/", &format!("{{{SOAP_ENV_NS}}}Envelope"), root));
    }
    if !root.text.trim().is_empty() {
        return Err(SoapError::StrayText {
            path: "/Envelope".into(),
        });
    }
    let mut kids = root.children.iter();
    let mut next = kids.next();
    if next.is_some_and(|h| h.is(SOAP_ENV_NS, "Header")) {
        next = kids.next();
    }
    let body = match next {
        Some(b) if b.is(SOAP_ENV_NS, "Body") => b,
        Some(other) => {
            return Err(unexpected(
                "/Envelope",
                &format!("{{{SOAP_ENV_NS}}}Body"),
                other,
            ))
        }
        None => {
            return Err(SoapError::MissingElement {
                path: "/Envelope".into(),
                expected: "Body".into(),
            })
        }
    };
    if let Some(extra) = kids.next() {
        return Err(unexpected("/Envelope", "nothing after Body", extra));
    }
    if !body.text.trim().is_empty() {
        return Err(SoapError::StrayText {
            path: "/Envelope/Body".into(),
        });
    }
    match body.children.as_slice() {
        [one] => Ok(one),
        [] => Err(SoapError::MissingElement {
            path: "/Envelope/Body".into(),
            expected: "a body element".into(),
        }),
        [_, second, ..] => Err(unexpected(
            "/Envelope/Body",
            "exactly one body element",
            second,
        )),
    }
}

fn unexpected(path: &str, expected: &str, found: &Elem) -> SoapError {
    SoapError::UnexpectedElement {
        path: path.to_string(),
        expected: expected.to_string(),
        found: found.display_name(),
    }
}

#[derive(Debug, Default)]
struct Elem {
    ns: Option<String>,
    local: String,
    children: Vec<Elem>,
    /// All character data directly inside this element.
    text: String,
    /// Non-whitespace text seen between child elements.
    stray_text: bool,
    /// For text holding a QName (`faultcode`): the namespace its prefix resolves to.
    qname_ns: Option<String>,
    /// Raw source between the start and end tag; kept only for `detail`.
    inner_xml: String,
}

impl Elem {
    fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }
    fn display_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.local),
            None => self.local.clone(),
        }
    }
}

fn parse_tree(bytes: &[u8]) -> Result<Elem, SoapError> {
    let xml = std::str::from_utf8(bytes).map_err(|_| SoapError::NotUtf8)?;
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    // Each open element with the byte offset where its content starts.
    let mut stack: Vec<(Elem, usize)> = Vec::new();
    let mut root: Option<Elem> = None;
    let bad = |e: &dyn std::fmt::Display| SoapError::NotWellFormed(e.to_string());
    loop {
        let before = reader.buffer_position() as usize;
        let (ns, ev) = reader.read_resolved_event().map_err(|e| bad(&e))?;
        match ev {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(SoapError::NotWellFormed(
                        "content after the root element".into(),
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(SoapError::NotWellFormed(
                        "elements nested too deeply".into(),
                    ));
                }
                let ns = match ns {
                    ResolveResult::Bound(n) => {
                        Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                    }
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => {
                        return Err(SoapError::NotWellFormed(format!(
                            "undeclared namespace prefix `{}`",
                            String::from_utf8_lossy(&p)
                        )))
                    }
                };
                for attr in start.attributes() {
                    attr.map_err(|e| bad(&e))?;
                }
                let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push((
                    Elem {
                        ns,
                        local,
                        ..Elem::default()
                    },
                    reader.buffer_position() as usize,
                ));
            }
            Event::End(_) => {
                let Some((mut done, content_start)) = stack.pop() else {
                    return Err(SoapError::NotWellFormed("unbalanced end tag".into()));
                };
                if done.local == "detail" {
                    done.inner_xml = xml
                        .get(content_start..before)
                        .unwrap_or_default()
                        .to_string();
                }
                if done.local == "faultcode" {
                    let text = done.text.trim().to_string();
                    if let (ResolveResult::Bound(n), _) =
                        reader.resolve(QName(text.as_bytes()), false)
                    {
                        done.qname_ns = Some(String::from_utf8_lossy(n.as_ref()).into_owned());
                    }
                }
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| bad(&e))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                push_text(&mut stack, &text)?;
            }
            Event::DocType(_) => return Err(SoapError::Doctype),
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(SoapError::NotWellFormed(
            "unclosed element at end of input".into(),
        ));
    }
    root.ok_or_else(|| SoapError::NotWellFormed("no root element".into()))
}

fn push_text(stack: &mut [(Elem, usize)], text: &str) -> Result<(), SoapError> {
    match stack.last_mut() {
        Some((e, _)) => {
            if !e.children.is_empty() && !text.trim().is_empty() {
                e.stray_text = true;
            }
            e.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(SoapError::NotWellFormed(
            "text outside the root element".into(),
        )),
    }
}

/// Walks the message-namespace children of one element in schema order, skipping
/// other-namespace extension elements (the schema's lax wildcards).
struct Seq<'a> {
    path: String,
    items: Vec<&'a Elem>,
    pos: usize,
}

impl<'a> Seq<'a> {
    fn new(e: &'a Elem, path: &str) -> Result<Self, SoapError> {
        if e.stray_text || !e.text.trim().is_empty() {
            return Err(SoapError::StrayText {
                path: path.to_string(),
            });
        }
        let mut items = Vec::new();
        for c in &e.children {
            match c.ns.as_deref() {
                Some(MESSAGE_NS) => items.push(c),
                Some(_) => {}
                None => {
                    return Err(SoapError::UnexpectedElement {
                        path: path.to_string(),
                        expected: format!("elements in {MESSAGE_NS}"),
                        found: format!("unqualified element `{}`", c.local),
                    })
                }
            }
        }
        Ok(Seq {
            path: path.to_string(),
            items,
            pos: 0,
        })
    }
    fn optional(&mut self, name: &str) -> Option<&'a Elem> {
        let e = *self.items.get(self.pos)?;
        (e.local == name).then(|| {
            self.pos += 1;
            e
        })
    }
    fn missing(&self, name: &str) -> SoapError {
        match self.items.get(self.pos) {
            Some(other) => unexpected(&self.path, &format!("`{name}`"), other),
            None => SoapError::MissingElement {
                path: self.path.clone(),
                expected: format!("`{name}`"),
            },
        }
    }
    fn required(&mut self, name: &str) -> Result<&'a Elem, SoapError> {
        match self.optional(name) {
            Some(e) => Ok(e),
            None => Err(self.missing(name)),
        }
    }
    fn leaf(&mut self, name: &str) -> Result<String, SoapError> {
        let e = self.required(name)?;
        if let Some(c) = e.children.first() {
            return Err(unexpected(&self.child_path(name), "text", c));
        }
        Ok(e.text.clone())
    }
    fn end(&self) -> Result<(), SoapError> {
        match self.items.get(self.pos) {
            None => Ok(()),
            Some(other) => Err(unexpected(&self.path, "no further elements", other)),
        }
    }
    fn child_path(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            payload: b"<?xml version=\"1.0\"?>\n<a xmlns=\"urn:x\">\xc3\xa5</a>".to_vec(),
            underskrifter: vec![
                Underskrift {
                    signaturtyp: Signaturtyp::Anordnare,
                    signatur: b"<Signature/>".to_vec(),
                    ocspresponse: vec![0x30, 0x03, 0x0a, 0x01, 0x00],
                    signaturdatum: "2024-05-01".into(),
                },
                Underskrift {
                    signaturtyp: Signaturtyp::Assistent,
                    signatur: vec![1, 2, 3],
                    ocspresponse: vec![],
                    signaturdatum: "2024-05-02+02:00".into(),
                },
            ],
        }
    }

    #[test]
    fn request_round_trips() {
        let r = request();
        let xml = r.to_xml();
        assert_eq!(Request::parse(&xml).unwrap(), r);
        assert!(
            !String::from_utf8(xml).unwrap().contains("\n<ns:"),
            "no line breaks inside the body"
        );
    }

    #[test]
    fn request_tolerates_prefixes_whitespace_and_extensions() {
        let xml = format!(
            r#"<E:Envelope xmlns:E="{SOAP_ENV_NS}"><E:Header/><E:Body>
<SkickaAnmalanFranArbetsgivare xmlns="{MESSAGE_NS}" xmlns:x="urn:ext">
  <anmalanfranarbetsgivare>PGEv
  Pg==</anmalanfranarbetsgivare>
  <underskrift><signaturtyp>ASSISTENT</signaturtyp><signatur>AQID</signatur>
    <ocspresponse></ocspresponse><signaturdatum>2024-01-01</signaturdatum><x:more>1</x:more></underskrift>
  <x:extension><anything/></x:extension>
</SkickaAnmalanFranArbetsgivare></E:Body></E:Envelope>"#
        );
        let r = Request::parse(xml.as_bytes()).unwrap();
        assert_eq!(r.payload, b"<a/>");
        assert_eq!(r.underskrifter.len(), 1);
        assert_eq!(r.underskrifter[0].signatur, vec![1, 2, 3]);
        assert_eq!(r.underskrifter[0].signaturtyp, Signaturtyp::Assistent);
    }

    /// Base64 on one line is decoded in place, wrapped base64 from a compacted copy:
    /// the same bytes, and the same error (the offset counts base64 characters only).
    #[test]
    fn base64_with_and_without_whitespace_reads_alike() {
        let good = String::from_utf8(request().to_xml()).unwrap();
        for (one_line, wrapped) in [
            (
                "<ns:signatur>PFNpZ25hdHVyZS8+",
                "<ns:signatur>PF\r\n Np\tZ25hdHVyZS8+",
            ),
            (
                "<ns:signatur>PFNp*25hdHVyZS8+",
                "<ns:signatur>PF\r\n Np\t*25hdHVyZS8+",
            ),
        ] {
            let a = Request::parse(
                good.replace("<ns:signatur>PFNpZ25hdHVyZS8+", one_line)
                    .as_bytes(),
            );
            let b = Request::parse(
                good.replace("<ns:signatur>PFNpZ25hdHVyZS8+", wrapped)
                    .as_bytes(),
            );
            assert_eq!(a, b, "{one_line}");
        }
    }

    #[test]
    fn request_errors_are_typed() {
        let good = String::from_utf8(request().to_xml()).unwrap();
        let soap12 = good.replace(SOAP_ENV_NS, SOAP12_ENV_NS);
        assert_eq!(
            Request::parse(soap12.as_bytes()),
            Err(SoapError::Soap12Envelope)
        );

        let bad64 = good.replace(
            "<ns:signatur>PFNpZ25hdHVyZS8+",
            "<ns:signatur>PFNp*25hdHVyZS8+",
        );
        assert!(
            matches!(Request::parse(bad64.as_bytes()), Err(SoapError::Base64 { element, .. }) if element == "signatur")
        );

        let wrong_ns = good.replace(MESSAGE_NS, "urn:other");
        assert!(matches!(
            Request::parse(wrong_ns.as_bytes()),
            Err(SoapError::UnexpectedElement { .. })
        ));

        let bad_type = good.replace(">ANORDNARE<", ">anordnare<");
        assert!(
            matches!(Request::parse(bad_type.as_bytes()), Err(SoapError::InvalidValue { element, .. }) if element == "signaturtyp")
        );

        let bad_date = good.replace(">2024-05-01<", ">2024-5-1<");
        assert!(
            matches!(Request::parse(bad_date.as_bytes()), Err(SoapError::InvalidValue { element, .. }) if element == "signaturdatum")
        );

        let start = good.find("<ns:underskrift>").unwrap();
        let end = good.rfind("</ns:underskrift>").unwrap() + "</ns:underskrift>".len();
        let none = format!("{}{}", &good[..start], &good[end..]);
        assert!(
            matches!(Request::parse(none.as_bytes()), Err(SoapError::MissingElement { expected, .. }) if expected.contains("underskrift"))
        );

        let resp = Response::Accepted { tx_id: "x".into() }.to_xml();
        assert!(matches!(
            Request::parse(&resp),
            Err(SoapError::UnexpectedElement { .. })
        ));
        assert_eq!(Request::parse(b"\xff\xfe"), Err(SoapError::NotUtf8));
        assert!(matches!(
            Request::parse(b"<a><b></a>"),
            Err(SoapError::NotWellFormed(_))
        ));
        assert!(matches!(
            Request::parse(b""),
            Err(SoapError::NotWellFormed(_))
        ));
        let doctype = format!(
            "<!DOCTYPE x [<!ENTITY a \"b\">]>{}",
            &good[good.find("<soap:").unwrap()..]
        );
        assert_eq!(Request::parse(doctype.as_bytes()), Err(SoapError::Doctype));
    }

    #[test]
    fn truncations_never_panic() {
        let good = request().to_xml();
        let complete = good.trim_ascii_end().len();
        for n in 0..complete {
            assert!(
                Request::parse(&good[..n]).is_err(),
                "prefix of {n} bytes parsed"
            );
            let _ = Response::parse(&good[..n]);
        }
    }

    #[test]
    fn responses_round_trip() {
        let cases = [
            Response::Accepted {
                tx_id: "4a8db4b8-bc29-4406-901c-3f69298cabe3".into(),
            },
            Response::Fault(Fault::xml_validation(
                "invalid request",
                "line 3: <x> & more",
            )),
            Response::Fault(Fault::signature_validation(
                "invalid signature",
                "digest mismatch",
            )),
            Response::Fault(Fault {
                faultcode: "soap:Server".into(),
                faultstring: "down".into(),
                detail: None,
            }),
            Response::Fault(Fault {
                faultcode: "soap:Server".into(),
                faultstring: "down".into(),
                detail: Some(FaultDetail::Other {
                    xml: "<e:x xmlns:e=\"urn:e\">1</e:x>".into(),
                }),
            }),
        ];
        for r in cases {
            assert_eq!(Response::parse(&r.to_xml()).unwrap(), r);
        }
    }

    #[test]
    fn fault_reading_is_prefix_agnostic() {
        let xml = format!(
            r#"<?xml version="1.0"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV_NS}" xmlns:r="{MESSAGE_NS}">
 <SOAP-ENV:Body>
  <SOAP-ENV:Fault>
   <faultcode>SOAP-ENV:Client</faultcode>
   <faultstring>Validation failed</faultstring>
   <detail><r:SignatureValidationError><r:message>bad &amp; worse</r:message></r:SignatureValidationError></detail>
  </SOAP-ENV:Fault>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"#
        );
        let Response::Fault(f) = Response::parse(xml.as_bytes()).unwrap() else {
            panic!("not a fault")
        };
        assert_eq!(f.faultcode, "soap:Client");
        assert_eq!(f.code_local(), "Client");
        assert_eq!(
            f.detail,
            Some(FaultDetail::SignatureValidationError {
                message: "bad & worse".into()
            })
        );
    }

    #[test]
    fn response_with_soap12_is_named() {
        let xml = Response::Accepted { tx_id: "t".into() }.to_xml();
        let xml = String::from_utf8(xml)
            .unwrap()
            .replace(SOAP_ENV_NS, SOAP12_ENV_NS);
        assert_eq!(
            Response::parse(xml.as_bytes()),
            Err(SoapError::Soap12Envelope)
        );
    }

    #[test]
    fn xs_date_lexical_forms() {
        for ok in [
            "2024-05-01",
            "2024-05-01Z",
            "2024-05-01+01:00",
            "2024-05-01-05:00",
            "-0001-01-01",
        ] {
            assert!(is_xs_date(ok), "{ok}");
        }
        for bad in [
            "",
            "2024-5-01",
            "2024-13-01",
            "2024-05-01T00:00",
            "24-05-01",
            "2024-05-01+1:00",
        ] {
            assert!(!is_xs_date(bad), "{bad}");
        }
    }

    #[test]
    fn built_envelopes_pass_the_envelope_schema() {
        let v = eioa_validate::Validator::embedded().unwrap();
        let mut docs = vec![request().to_xml()];
        docs.push(
            Response::Accepted {
                tx_id: "4a8db4b8-bc29-4406-901c-3f69298cabe3".into(),
            }
            .to_xml(),
        );
        docs.push(Response::Fault(Fault::xml_validation("invalid", "m")).to_xml());
        docs.push(Response::Fault(Fault::signature_validation("invalid", "m")).to_xml());
        for d in docs {
            let report = v.validate_envelope(&d);
            assert!(
                report.is_valid(),
                "{}\n{report:?}",
                String::from_utf8_lossy(&d)
            );
        }
        // The oracle is not blind: a request without underskrift is rejected.
        let good = String::from_utf8(request().to_xml()).unwrap();
        let start = good.find("<ns:underskrift>").unwrap();
        let end = good.rfind("</ns:underskrift>").unwrap() + "</ns:underskrift>".len();
        let none = format!("{}{}", &good[..start], &good[end..]);
        assert!(!v.validate_envelope(none.as_bytes()).is_valid());
    }
}
