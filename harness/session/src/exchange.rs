//! What the judge reads: the exchanges of a session, as the stand-in journaled them,
//! and the facts each one shows (what the vendor's system sent, how FK answered).

use std::collections::BTreeSet;

use eioa_fk::Verdict;
use eioa_model::ident::{parse_identity, IdentityKind};
use eioa_model::soap::{Request, Signaturtyp};
use eioa_model::{Anstallning, Arbetsgivare, Bosatt, Notification};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One exchange of the session: the journal's record, reduced to what the judge reads.
/// The stand-in's journal converts into it; the judge never sees a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// The journal's sequence number: the exchange's address in `eioa tx show`.
    pub seq: u64,
    /// RFC 3339, UTC.
    pub time: String,
    /// The peer's socket address.
    pub remote: String,
    /// SHA-256 (lowercase hex) of the client certificate, when one was presented.
    pub client: Option<String>,
    pub method: String,
    pub target: String,
    /// The request body as received.
    pub request: Vec<u8>,
    pub status: Option<u16>,
    pub tx_id: Option<String>,
    /// FK's verdict (from `eioa-fk`), when FK was asked.
    pub verdict: Option<Verdict>,
    /// The fault the stand-in injected instead of asking FK (`http-503`, `no-answer`…).
    pub injected: Option<String>,
}

/// How the stand-in answered, in the checklist's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    Accepted,
    XmlValidationError,
    SignatureValidationError,
    /// Refused before the operation (path, method, headers, envelope): HTTP error.
    Rejected,
    /// FK's own failure (`soap:Server`), not the client's.
    ServerFault,
    /// A fault the stand-in injected (503, reset, no answer, forced faults).
    Injected,
    /// A document served (WSDL, schema, health): not a submission.
    Served,
    /// No verdict and no injected fault (a transport-level event).
    Transport,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Accepted => "accepted",
            Answer::XmlValidationError => "xml-validation-error",
            Answer::SignatureValidationError => "signature-validation-error",
            Answer::Rejected => "rejected",
            Answer::ServerFault => "server-fault",
            Answer::Injected => "injected",
            Answer::Served => "served",
            Answer::Transport => "transport",
        }
    }

    /// A fault the request's own content caused: re-sending it unchanged cannot help.
    pub fn is_content_fault(self) -> bool {
        matches!(
            self,
            Answer::XmlValidationError | Answer::SignatureValidationError | Answer::Rejected
        )
    }
}

/// The facts a payload or its signatures can show. Checklists name them (`sent = […]`);
/// a name not in this table is refused when the checklist is loaded.
pub const FACTS: &[(&str, &str)] = &[
    (
        "assistant-inside-eea",
        "the assistant lives inside the EEA (bosattInnanforEES)",
    ),
    (
        "assistant-outside-eea",
        "the assistant lives outside the EEA (bosattUtanforEES with an address)",
    ),
    (
        "narstaende",
        "the assistant is närstående (narstaende = true)",
    ),
    (
        "not-narstaende",
        "the assistant is not närstående (narstaende = false)",
    ),
    (
        "andring-galler-from",
        "the notice concerns changed circumstances (andringGallerFrom)",
    ),
    (
        "assistant-samordningsnummer",
        "the assistant is identified by a samordningsnummer",
    ),
    (
        "person-samordningsnummer",
        "the person with assistance is identified by a samordningsnummer",
    ),
    (
        "employer-person",
        "the person with assistance employs the assistant (anstalldAvPersonSomHarAssistans)",
    ),
    (
        "employer-anordnare",
        "an assistansanordnare is named (assistansanordnare)",
    ),
    (
        "employed-by-anordnare",
        "the anordnare employs the assistant (assistentAnstalldAvAnordnare)",
    ),
    (
        "other-employer",
        "another employer employs the assistant (annanArbetsgivare)",
    ),
    (
        "other-employer-named",
        "the other employer's name is given (arbetsgivareNamn)",
    ),
    (
        "self-employed",
        "the assistant is self-employed (assistentEgenForetagare)",
    ),
    (
        "anordnare-namn",
        "the anordnare's name is given (anordnareNamn)",
    ),
    ("kontaktperson", "a contact person is given (kontaktperson)"),
    (
        "anordnare-telefonnummer",
        "the anordnare's own phone number is given (assistansanordnare/telefonnummer)",
    ),
    (
        "signed-by-anordnare",
        "signed by the anordnare (signaturtyp ANORDNARE)",
    ),
    (
        "signed-by-assistent",
        "signed by the assistant (signaturtyp ASSISTENT)",
    ),
    (
        "signed-by-both",
        "signed by both the anordnare and the assistant",
    ),
];

/// One exchange, analysed once.
#[derive(Debug, Clone)]
pub struct Seen {
    pub exchange: Exchange,
    pub at: Option<OffsetDateTime>,
    pub answer: Answer,
    /// The SOAP request, when the body is one.
    pub request: Option<Request>,
    /// The notification, when the payload is one the model reads.
    pub notification: Option<Notification>,
    /// The notification's id (read leniently, so an invalid payload has one too).
    pub id: Option<String>,
    /// SHA-256 of the payload bytes.
    pub payload_sha256: Option<String>,
    /// SHA-256 of the whole request body.
    pub body_sha256: String,
    /// The facts this exchange's payload and signatures show.
    pub facts: BTreeSet<&'static str>,
}

impl Seen {
    pub fn new(exchange: Exchange) -> Seen {
        let at = OffsetDateTime::parse(&exchange.time, &Rfc3339).ok();
        let answer = answer_of(&exchange);
        let request = if exchange.method == "POST" {
            Request::parse(&exchange.request).ok()
        } else {
            None
        };
        let payload = request.as_ref().map(|r| r.payload.as_slice());
        let notification = payload
            .and_then(|p| std::str::from_utf8(p).ok())
            .and_then(|t| Notification::from_xml(t).ok());
        let id = notification
            .as_ref()
            .map(|n| n.id.clone())
            .or_else(|| payload.and_then(eioa_model::peek_id));
        let payload_sha256 = payload.map(|p| hex::encode(Sha256::digest(p)));
        let body_sha256 = hex::encode(Sha256::digest(&exchange.request));
        let mut facts = BTreeSet::new();
        if let Some(n) = &notification {
            payload_facts(n, &mut facts);
        }
        if let Some(r) = &request {
            let anordnare = r
                .underskrifter
                .iter()
                .any(|u| u.signaturtyp == Signaturtyp::Anordnare);
            let assistent = r
                .underskrifter
                .iter()
                .any(|u| u.signaturtyp == Signaturtyp::Assistent);
            if anordnare {
                facts.insert("signed-by-anordnare");
            }
            if assistent {
                facts.insert("signed-by-assistent");
            }
            if anordnare && assistent {
                facts.insert("signed-by-both");
            }
        }
        Seen {
            exchange,
            at,
            answer,
            request,
            notification,
            id,
            payload_sha256,
            body_sha256,
            facts,
        }
    }

    /// A call of the operation (not a WSDL fetch or a connection event).
    pub fn is_submission(&self) -> bool {
        self.exchange.method == "POST" && self.answer != Answer::Served
    }

    /// Who sent it: the client certificate, else the peer's address without its port.
    pub fn sender(&self) -> String {
        match &self.exchange.client {
            Some(c) => c.clone(),
            None => match self.exchange.remote.rsplit_once(':') {
                Some((host, _)) => host.to_string(),
                None => self.exchange.remote.clone(),
            },
        }
    }

    /// The fault's text, for a report: rule and message, or the injected fault.
    pub fn fault_text(&self) -> Option<String> {
        match &self.exchange.verdict {
            Some(Verdict::XmlValidationError { rule, message })
            | Some(Verdict::SignatureValidationError { rule, message })
            | Some(Verdict::ServerFault { rule, message }) => Some(format!("{rule}: {message}")),
            Some(Verdict::Rejected {
                rule,
                status,
                message,
            }) => Some(format!("{rule} (HTTP {status}): {message}")),
            _ => self
                .exchange
                .injected
                .as_ref()
                .map(|f| format!("injected fault {f}")),
        }
    }
}

fn answer_of(e: &Exchange) -> Answer {
    if e.injected.is_some() {
        return Answer::Injected;
    }
    match &e.verdict {
        Some(Verdict::Accepted { .. }) => Answer::Accepted,
        Some(Verdict::XmlValidationError { .. }) => Answer::XmlValidationError,
        Some(Verdict::SignatureValidationError { .. }) => Answer::SignatureValidationError,
        Some(Verdict::Rejected { .. }) => Answer::Rejected,
        Some(Verdict::ServerFault { .. }) => Answer::ServerFault,
        Some(Verdict::Served { .. }) => Answer::Served,
        None => Answer::Transport,
    }
}

fn is_samordningsnummer(n: &str) -> bool {
    matches!(parse_identity(n), Ok(i) if i.kind == IdentityKind::Samordningsnummer)
}

fn payload_facts(n: &Notification, f: &mut BTreeSet<&'static str>) {
    let a = &n.assistent;
    match &a.bosatt {
        Bosatt::InnanforEes => f.insert("assistant-inside-eea"),
        Bosatt::UtanforEes { .. } => f.insert("assistant-outside-eea"),
    };
    f.insert(if a.narstaende {
        "narstaende"
    } else {
        "not-narstaende"
    });
    if a.andring_galler_from.is_some() {
        f.insert("andring-galler-from");
    }
    if is_samordningsnummer(&a.personnummer) {
        f.insert("assistant-samordningsnummer");
    }
    if is_samordningsnummer(&n.person.personnummer) {
        f.insert("person-samordningsnummer");
    }
    match &n.arbetsgivare {
        Arbetsgivare::PersonSomHarAssistans => {
            f.insert("employer-person");
        }
        Arbetsgivare::Anordnare(o) => {
            f.insert("employer-anordnare");
            if o.namn.is_some() {
                f.insert("anordnare-namn");
            }
            if o.kontaktperson.is_some() {
                f.insert("kontaktperson");
            }
            if o.telefonnummer.is_some() {
                f.insert("anordnare-telefonnummer");
            }
            match &o.anstallning {
                Anstallning::AnstalldAvAnordnare => {
                    f.insert("employed-by-anordnare");
                }
                Anstallning::AnnanArbetsgivare { namn, .. } => {
                    f.insert("other-employer");
                    if namn.is_some() {
                        f.insert("other-employer-named");
                    }
                }
                Anstallning::EgenForetagare => {
                    f.insert("self-employed");
                }
            }
        }
    }
}
