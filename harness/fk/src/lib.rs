//! FK's behaviour as one function: an HTTP request in, an HTTP response and a
//! verdict out. Every transport (the in-process wiremock stand-in, the standalone
//! TLS server) is a thin adapter around [`Fk::handle`]; a fix to FK's rules is one
//! change here.

use serde::{Deserialize, Serialize};

/// FK's path for the test environment.
pub const PATH_TEST: &str = "/shs2/FK.EIOA.AnmalanArbetsgivare.ext";
/// FK's path for production.
pub const PATH_PROD: &str = "/shs2/FK.EIOA.AnmalanArbetsgivare";
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
    /// Accepted: FK's transaction id.
    Accepted { tx_id: String },
    /// `XmlValidationError` fault.
    XmlValidationError { rule: String, message: String },
    /// `SignatureValidationError` fault.
    SignatureValidationError { rule: String, message: String },
    /// Refused before the SOAP operation (wrong path, method, SOAPAction, content type, envelope).
    Rejected { rule: String, status: u16, message: String },
    /// A document was served (WSDL, schema, health).
    Served { what: String },
}
