//! FK's rules as a table: stable ids, what each checks, how FK answers, and whether
//! FK documents the rule or the project infers it.

/// How a rule answers when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Plain HTTP status with a SOAP 1.1 `Client` fault body (no `detail`).
    Http(u16),
    /// HTTP 500 with an `XmlValidationError` fault.
    XmlValidationError,
    /// HTTP 500 with a `SignatureValidationError` fault.
    SignatureValidationError,
    /// HTTP 500 with a `Server` fault and no `detail`: the service itself is broken, and
    /// the client must not be told that its request is.
    ServerFault,
    /// No refusal: HTTP 200 with a tx-id, and the verdict carries a warning.
    AcceptedWithWarning,
}

impl Answer {
    /// How the docs name the answer: `404`, `XmlValidationError`, `Server fault`, `tx-id + warning`.
    pub fn label(self) -> String {
        match self {
            Answer::Http(s) => s.to_string(),
            Answer::XmlValidationError => "XmlValidationError".into(),
            Answer::SignatureValidationError => "SignatureValidationError".into(),
            Answer::ServerFault => "Server fault".into(),
            Answer::AcceptedWithWarning => "tx-id + warning".into(),
        }
    }
}

/// One rule of FK's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id: `FK-T…` transport, `FK-E…` envelope, `FK-X…` payload, `FK-S…` signature,
    /// `FK-W…` warnings on accepted requests, `FK-I…` the service's own failures.
    pub id: &'static str,
    /// What the rule checks, in one line.
    pub check: &'static str,
    pub answer: Answer,
    /// True when the rule is the project's inference about FK rather than FK's documented behaviour.
    pub inferred: bool,
}

impl Rule {
    /// The id as it appears in fault messages: `FK-S004(inferred)` for inferred rules.
    pub fn tag(&self) -> String {
        if self.inferred {
            format!("{}(inferred)", self.id)
        } else {
            self.id.to_string()
        }
    }
}

macro_rules! rules {
    ($($name:ident = $id:literal, $answer:expr, $inferred:literal, $check:literal;)*) => {
        $(
            #[doc = $check]
            pub const $name: Rule = Rule { id: $id, check: $check, answer: $answer, inferred: $inferred };
        )*
        /// Every rule, in the order FK applies them.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

use Answer::*;

rules! {
    T001_PATH = "FK-T001", Http(404), false, "the request path is one of FK's two service paths (test or production)";
    T002_METHOD = "FK-T002", Http(405), true, "the operation is called with POST (GET only for ?wsdl and ?xsd=NAME)";
    T003_SOAP12 = "FK-T003", Http(415), true, "the Content-Type is not SOAP 1.2's application/soap+xml: the service speaks SOAP 1.1";
    T004_CONTENT_TYPE = "FK-T004", Http(415), true, "the Content-Type is text/xml";
    T005_SOAP_ACTION = "FK-T005", Http(500), true, "the SOAPAction header names the contract's operation (quoted or not)";
    T006_BODY_LIMIT = "FK-T006", Http(413), true, "the body is no larger than the configured limit";
    T007_DOCUMENT = "FK-T007", Http(404), true, "a GET names a document the service has (?wsdl, ?xsd=NAME, /health)";
    E001_ENVELOPE = "FK-E001", Http(500), true, "the body is a well-formed SOAP 1.1 envelope";
    E002_SOAP12_ENVELOPE = "FK-E002", Http(500), true, "the envelope is not in SOAP 1.2's namespace";
    E003_REQUEST = "FK-E003", Http(500), false, "the envelope and request element follow the contract's schema";
    X001_PAYLOAD_BASE64 = "FK-X001", XmlValidationError, false, "anmalanfranarbetsgivare holds valid base64";
    X002_PAYLOAD_XML = "FK-X002", XmlValidationError, false, "the payload is well-formed UTF-8 XML";
    X003_PAYLOAD_SCHEMA = "FK-X003", XmlValidationError, false, "the payload follows the AnmalanFranArbetsgivare schema";
    X004_PAYLOAD_RULES = "FK-X004", XmlValidationError, true, "the payload follows the rules the schema cannot express (Luhn, dates, markers)";
    S001_BASE64 = "FK-S001", SignatureValidationError, false, "signatur and ocspresponse hold valid, non-empty base64";
    S002_SIGNATURE_XML = "FK-S002", SignatureValidationError, false, "the signature is a parseable BankID-shaped xmldsig Signature";
    S003_CRYPTO = "FK-S003", SignatureValidationError, false, "the signature's digests and RSA signature verify";
    S004_CHAIN = "FK-S004", SignatureValidationError, false, "the signer's certificate chains to a configured trust anchor and was valid when checked";
    S005_BINDING = "FK-S005", SignatureValidationError, true, "the signed non-visible data binds exactly this payload ({id},{sha256 of its C14N})";
    S006_REUSE = "FK-S006", SignatureValidationError, false, "the signature has not been used for another notification id";
    S007_OCSP = "FK-S007", SignatureValidationError, true, "the OCSP response parses, says good, is for the signer's certificate, and is current (nextUpdate not passed)";
    S008_DATE = "FK-S008", SignatureValidationError, true, "signaturdatum is not in the future";
    W001_CHANGED_RESEND = "FK-W001", AcceptedWithWarning, false, "a notification id re-sent with different content is accepted, but a change needs a new id and is handled manually";
    I001_SCHEMA_SET = "FK-I001", ServerFault, true, "the service's own schema set compiles (a broken set is the server's fault, never the client's)";
}

/// The rule with this id, if any.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for r in ALL {
            assert!(r.id.len() == 7 && r.id.starts_with("FK-"), "{}", r.id);
            assert!(
                matches!(&r.id[3..4], "T" | "E" | "X" | "S" | "W" | "I"),
                "{}",
                r.id
            );
            let warns = r.id.starts_with("FK-W");
            assert_eq!(warns, r.answer == Answer::AcceptedWithWarning, "{}", r.id);
            let internal = r.id.starts_with("FK-I");
            assert_eq!(internal, r.answer == Answer::ServerFault, "{}", r.id);
        }
    }

    #[test]
    fn inferred_rules_say_so_in_their_tag() {
        assert_eq!(S005_BINDING.tag(), "FK-S005(inferred)");
        assert_eq!(S006_REUSE.tag(), "FK-S006");
    }
}
