//! Exchanges built by hand for the judge: a fixture notification, edited through the
//! model, wrapped in a SOAP request, answered with a chosen verdict.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use eioa_fk::{Verdict, Warning};
use eioa_model::soap::{Request, Signaturtyp, Underskrift};
use eioa_model::Notification;
use eioa_session::{Checklist, Exchange, Session, SessionReport};
use eioa_validate::SchemaSet;

pub const START: &str = "2026-03-02T09:00:00Z";

pub fn fixture(name: &str) -> Notification {
    let path = format!(
        "{}/../../fixtures/valid/{name}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect(&path);
    Notification::from_xml(&text).expect("a valid fixture")
}

/// A fixture notification under another id.
pub fn notification(name: &str, id_tail: u32) -> Notification {
    let mut n = fixture(name);
    n.id = format!("4f2b8c1d-0e3a-4b5c-9d6e-{id_tail:012x}");
    n
}

/// A signature XML whose non-visible data binds `ids` (only what the judge reads).
pub fn signature(ids: &[&str]) -> Vec<u8> {
    let bound: Vec<String> = ids
        .iter()
        .map(|i| format!("{i},{}", "ab".repeat(32)))
        .collect();
    format!(
        "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><Object><bankIdSignedData xmlns=\"http://www.bankid.com/signature/v1.0.0/types\"><usrNonVisibleData>{}</usrNonVisibleData></bankIdSignedData></Object></Signature>",
        STANDARD.encode(bound.join(";"))
    )
    .into_bytes()
}

pub fn underskrift(t: Signaturtyp, sig: Vec<u8>) -> Underskrift {
    Underskrift {
        signaturtyp: t,
        signatur: sig,
        ocspresponse: vec![0x30, 0x03, 0x0a, 0x01, 0x00],
        signaturdatum: "2026-03-02".into(),
    }
}

pub fn accepted(tx: u64) -> Verdict {
    Verdict::Accepted {
        tx_id: format!("7d0e6f1a-2b3c-4d5e-8f90-{tx:012x}"),
        warnings: Vec::<Warning>::new(),
    }
}

pub fn xml_error() -> Verdict {
    Verdict::XmlValidationError {
        rule: "EIOA-P003".into(),
        message: "assistent/personnummer 19940617-5013 has check digit 3, expected 2".into(),
    }
}

pub fn sig_error() -> Verdict {
    Verdict::SignatureValidationError {
        rule: "FK-S005".into(),
        message: "the signature binds another payload".into(),
    }
}

/// Builds a session's exchanges one by one, `ms` after the session started.
#[derive(Default)]
pub struct Traffic {
    pub exchanges: Vec<Exchange>,
}

impl Traffic {
    pub fn send_raw(
        &mut self,
        ms: i64,
        body: Vec<u8>,
        verdict: Option<Verdict>,
        injected: Option<&str>,
    ) -> u64 {
        let seq = self.exchanges.len() as u64 + 1;
        let at = time::OffsetDateTime::parse(START, &time::format_description::well_known::Rfc3339)
            .unwrap()
            + time::Duration::milliseconds(ms);
        let tx_id = match &verdict {
            Some(Verdict::Accepted { tx_id, .. }) => Some(tx_id.clone()),
            _ => None,
        };
        let status = match (&verdict, injected) {
            (_, Some("http-503")) => Some(503),
            (Some(Verdict::Accepted { .. }), _) => Some(200),
            (Some(_), _) => Some(500),
            (None, _) => None,
        };
        self.exchanges.push(Exchange {
            seq,
            time: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
            remote: "127.0.0.1:50000".into(),
            client: Some("c".repeat(64)),
            method: "POST".into(),
            target: eioa_fk::PATH_TEST.into(),
            request: body,
            status,
            tx_id,
            verdict,
            injected: injected.map(str::to_string),
        });
        seq
    }

    /// Sends `n` signed by `signers` (each signature binding `n` alone).
    pub fn send(
        &mut self,
        ms: i64,
        n: &Notification,
        signers: &[Signaturtyp],
        verdict: Verdict,
    ) -> u64 {
        let payload = n.to_xml().into_bytes();
        let underskrifter = signers
            .iter()
            .map(|t| underskrift(*t, signature(&[&n.id])))
            .collect();
        self.send_request(
            ms,
            Request {
                payload,
                underskrifter,
            },
            verdict,
        )
    }

    pub fn send_request(&mut self, ms: i64, r: Request, verdict: Verdict) -> u64 {
        self.send_raw(ms, r.to_xml(), Some(verdict), None)
    }

    pub fn judge(&self) -> SessionReport {
        judge(&self.exchanges, &Checklist::onboarding())
    }
}

pub fn session(checklist: &str) -> Session {
    Session {
        name: "qa-1".into(),
        checklist_source: "onboarding".into(),
        checklist: checklist.into(),
        client_fingerprint: None,
        started: START.into(),
        ended: None,
        schema_set: None,
    }
}

pub fn judge(exchanges: &[Exchange], checklist: &Checklist) -> SessionReport {
    eioa_session::judge(
        &session(eioa_session::checklist::ONBOARDING),
        checklist,
        &SchemaSet::embedded(),
        exchanges.to_vec(),
        true,
    )
    .expect("the embedded schema walks")
}

pub fn case<'a>(r: &'a SessionReport, id: &str) -> &'a eioa_session::judge::CaseResult {
    r.cases
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}
