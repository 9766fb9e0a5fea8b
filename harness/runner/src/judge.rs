//! Judging one answer against a step's expectation. The expectation comes from the
//! scenario's definition, never from the answer; this is the only place a run decides
//! pass or fail.

use crate::record::{Expect, Observed};

/// Why `observed` does not meet `expected`, in one sentence; `None` when it does.
///
/// `message_contains` is a fragment the fault's message must contain (a scenario that
/// names the offending element, say). Checks in order: an answer at all, a readable
/// SOAP answer, the kind of answer, the message fragment, the HTTP status SOAP 1.1
/// gives that kind, the tx-id's form, and the answer's envelope against the contract.
pub fn judge(expected: Expect, message_contains: Option<&str>, o: &Observed) -> Option<String> {
    if expected == Expect::TransportError {
        return match (&o.error, message_contains) {
            (None, _) => Some(format!(
                "expected no answer (a transport error), got HTTP {}",
                o.status
                    .map_or("without a status".into(), |s| s.to_string())
            )),
            (Some(e), Some(fragment)) if !e.contains(fragment) => Some(format!(
                "the transport error does not mention `{fragment}`: {e}"
            )),
            (Some(_), _) => None,
        };
    }
    if let Some(e) = &o.error {
        return Some(if o.delivery == "maybe-sent" {
            format!(
                "no answer, and the request may have reached the server (it was not resent): {e}"
            )
        } else {
            format!("no answer: {e}")
        });
    }
    if let Some(u) = &o.unreadable {
        return Some(format!("the answer is not an E-IOA SOAP message: {u}"));
    }
    let got = match (&o.tx_id, &o.fault) {
        (Some(t), _) => format!("tx-id {t}"),
        (None, Some(f)) => format!("{f}: {}", o.fault_message.as_deref().unwrap_or("")),
        (None, None) => "nothing recognisable".into(),
    };
    let ok = match expected {
        Expect::Accepted => o.tx_id.is_some(),
        Expect::XmlValidationError => o.fault.as_deref() == Some("XmlValidationError"),
        Expect::SignatureValidationError => o.fault.as_deref() == Some("SignatureValidationError"),
        Expect::Fault => o.fault.is_some(),
        Expect::TransportError => false,
        Expect::SoapAnswer => {
            o.tx_id.is_some()
                || matches!(
                    o.fault.as_deref(),
                    Some("XmlValidationError" | "SignatureValidationError")
                )
        }
    };
    if !ok {
        return Some(format!("expected {expected}, got {got}"));
    }
    if let Some(fragment) = message_contains {
        let message = o.fault_message.as_deref().unwrap_or("");
        if !message.contains(fragment) {
            return Some(format!(
                "the fault's message does not mention `{fragment}`: {}",
                if message.is_empty() {
                    "(no message)"
                } else {
                    message
                }
            ));
        }
    }
    // SOAP 1.1 (section 6.2): an answer is HTTP 200, a fault HTTP 500.
    match (o.tx_id.is_some(), o.fault.is_some(), o.status) {
        (true, _, Some(s)) if s != 200 => {
            return Some(format!(
                "a tx-id came with HTTP {s}; SOAP 1.1 answers with 200"
            ))
        }
        (false, true, Some(s)) if s != 500 && expected != Expect::Fault => {
            return Some(format!(
                "the fault came with HTTP {s}; SOAP 1.1 sends faults with 500"
            ))
        }
        _ => {}
    }
    if let Some(t) = &o.tx_id {
        if uuid::Uuid::parse_str(t).is_err() {
            return Some(format!("tx-id `{t}` is not a UUID"));
        }
    }
    if !o.envelope_findings.is_empty() && expected != Expect::Fault {
        return Some(format!(
            "the answer does not conform to the Responder schema: {}",
            o.envelope_findings.join("; ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TX: &str = "4a8db4b8-bc29-4406-901c-3f69298cabe3";

    fn tx_id() -> Observed {
        Observed {
            status: Some(200),
            tx_id: Some(TX.into()),
            delivery: "answered".into(),
            ..Observed::default()
        }
    }

    fn fault(kind: &str, message: &str) -> Observed {
        Observed {
            status: Some(500),
            fault: Some(kind.into()),
            faultcode: Some("soap:Client".into()),
            fault_message: Some(message.into()),
            delivery: "answered".into(),
            ..Observed::default()
        }
    }

    /// The reason, which must exist and contain every fragment.
    #[track_caller]
    fn fails(expected: Expect, fragment: Option<&str>, o: &Observed, says: &[&str]) {
        let Some(reason) = judge(expected, fragment, o) else {
            panic!("{expected:?} with {o:?} must fail");
        };
        for s in says {
            assert!(reason.contains(s), "`{reason}` should say `{s}`");
        }
    }

    #[test]
    fn matching_answers_pass() {
        let xml = fault("XmlValidationError", "FK-X004: /a/personnummer: bad");
        let sig = fault("SignatureValidationError", "FK-S003: digest");
        let rejected = Observed {
            status: Some(415),
            ..fault("Fault", "FK-T004: Content-Type")
        };
        for (expected, o) in [
            (Expect::Accepted, &tx_id()),
            (Expect::XmlValidationError, &xml),
            (Expect::SignatureValidationError, &sig),
            (Expect::Fault, &xml),
            // Transport mistakes: any fault, with whatever status FK chooses.
            (Expect::Fault, &rejected),
            (Expect::SoapAnswer, &tx_id()),
            (Expect::SoapAnswer, &xml),
            (Expect::SoapAnswer, &sig),
        ] {
            assert_eq!(judge(expected, None, o), None, "{expected:?} {o:?}");
        }
        assert_eq!(
            judge(Expect::XmlValidationError, Some("personnummer"), &xml),
            None
        );
    }

    #[test]
    fn expected_tx_id_got_fault() {
        fails(
            Expect::Accepted,
            None,
            &fault("XmlValidationError", "FK-X003: missing fornamn"),
            &["expected tx-id", "XmlValidationError", "missing fornamn"],
        );
    }

    #[test]
    fn expected_fault_got_tx_id() {
        for expected in [
            Expect::XmlValidationError,
            Expect::SignatureValidationError,
            Expect::Fault,
        ] {
            fails(expected, None, &tx_id(), &["expected", TX]);
        }
    }

    #[test]
    fn wrong_fault_kind() {
        fails(
            Expect::XmlValidationError,
            None,
            &fault("SignatureValidationError", "FK-S003"),
            &[
                "expected XmlValidationError",
                "got SignatureValidationError",
            ],
        );
        fails(
            Expect::SignatureValidationError,
            None,
            &fault("XmlValidationError", "FK-X004"),
            &["expected SignatureValidationError"],
        );
        // A plain fault is no E-IOA answer for the connection test.
        fails(
            Expect::SoapAnswer,
            None,
            &fault("Fault", "FK-T005"),
            &["expected a tx-id or an E-IOA fault"],
        );
    }

    #[test]
    fn wrong_message_fragment() {
        fails(
            Expect::XmlValidationError,
            Some("telefonnummerAnordnare"),
            &fault("XmlValidationError", "FK-X004: /a/personnummer: bad"),
            &[
                "does not mention `telefonnummerAnordnare`",
                "personnummer: bad",
            ],
        );
        let mut silent = fault("XmlValidationError", "");
        silent.fault_message = None;
        fails(
            Expect::XmlValidationError,
            Some("x"),
            &silent,
            &["(no message)"],
        );
    }

    #[test]
    fn wrong_http_status() {
        let mut accepted = tx_id();
        accepted.status = Some(202);
        fails(Expect::Accepted, None, &accepted, &["HTTP 202", "200"]);
        let mut xml = fault("XmlValidationError", "m");
        xml.status = Some(400);
        fails(Expect::XmlValidationError, None, &xml, &["HTTP 400", "500"]);
        fails(Expect::SoapAnswer, None, &xml, &["HTTP 400"]);
    }

    #[test]
    fn tx_id_that_is_not_a_uuid() {
        let mut o = tx_id();
        o.tx_id = Some("12345".into());
        fails(Expect::Accepted, None, &o, &["`12345` is not a UUID"]);
    }

    #[test]
    fn envelope_off_contract() {
        let mut o = tx_id();
        o.envelope_findings = vec!["element `x` not expected".into()];
        fails(Expect::Accepted, None, &o, &["Responder schema", "`x`"]);
        // Transport scenarios accept any fault, conforming or not.
        let mut f = fault("Fault", "m");
        f.envelope_findings = vec!["no detail".into()];
        assert_eq!(judge(Expect::Fault, None, &f), None);
    }

    #[test]
    fn transport_error() {
        let o = Observed {
            error: Some("connection refused".into()),
            delivery: "not-sent".into(),
            ..Observed::default()
        };
        for expected in [Expect::Accepted, Expect::Fault, Expect::SoapAnswer] {
            fails(expected, None, &o, &["no answer: connection refused"]);
        }
    }

    #[test]
    fn expected_transport_error() {
        let refused = Observed {
            error: Some("tls: certificate unknown".into()),
            delivery: "not-sent".into(),
            ..Observed::default()
        };
        assert_eq!(judge(Expect::TransportError, None, &refused), None);
        assert_eq!(
            judge(Expect::TransportError, Some("certificate"), &refused),
            None
        );
        fails(
            Expect::TransportError,
            Some("timed out"),
            &refused,
            &["does not mention `timed out`"],
        );
        fails(
            Expect::TransportError,
            None,
            &tx_id(),
            &["expected no answer", "HTTP 200"],
        );
    }

    #[test]
    fn maybe_sent_says_it_was_not_resent() {
        let o = Observed {
            error: Some("timed out after 30 s".into()),
            delivery: "maybe-sent".into(),
            ..Observed::default()
        };
        fails(
            Expect::Accepted,
            None,
            &o,
            &["may have reached the server", "not resent", "timed out"],
        );
    }

    #[test]
    fn unreadable_answer() {
        let o = Observed {
            status: Some(200),
            unreadable: Some("not XML".into()),
            delivery: "answered".into(),
            ..Observed::default()
        };
        fails(Expect::Accepted, None, &o, &["not an E-IOA SOAP message"]);
        // Nothing at all is no tx-id either.
        let empty = Observed {
            status: Some(200),
            delivery: "answered".into(),
            ..Observed::default()
        };
        fails(Expect::Accepted, None, &empty, &["nothing recognisable"]);
    }
}
