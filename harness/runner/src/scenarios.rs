//! Scenarios as data: what each step sends and what FK must answer. Suites are TOML
//! files (`fixtures/scenarios/*.toml`, format in `docs/scenarios.md`, read by
//! [`crate::suite`]); building a step from its definition happens here. The expectation
//! is part of the definition, never derived from the stand-in's answer.

use crate::kit::{fmt_date, Branch, Kit, KitError};
use crate::record::Expect;
use eioa_model::soap::{Request, Signaturtyp, Underskrift, SOAP_ACTION};
use eioa_model::Notification;
use serde::Deserialize;
use std::collections::HashMap;

/// Which part of the contract a scenario exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Valid notifications of every branch are accepted.
    Accepted,
    /// Payloads FK must refuse with `XmlValidationError`.
    Payload,
    /// Signatures FK must refuse with `SignatureValidationError`.
    Signature,
    /// SOAP and HTTP mistakes.
    Transport,
}

/// One HTTP exchange of a scenario, built.
#[derive(Debug, Clone)]
pub struct Step {
    pub body: Vec<u8>,
    pub soap_action: String,
    pub expect: Expect,
    /// A fragment the fault's message must contain (the element a payload scenario
    /// breaks, say); `None` when the kind of answer is all that is judged.
    pub message_contains: Option<String>,
}

/// A named check with its expected outcome, as a suite file defines it.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub category: Category,
    pub tags: Vec<String>,
    /// Whether the scenario may be sent to FK's hosts (only the connection test).
    pub fk_hosts: bool,
    /// The suite file it comes from (`full.toml`, or a path).
    pub source: String,
    /// The line of its `id` in that file (0 when not from a file).
    pub line: usize,
    pub steps: Vec<StepDef>,
}

/// The suites bundled with the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteName {
    /// Everything: for the stand-ins.
    Full,
    /// FK's onboarding connection test: one valid, signed notification.
    Connection,
}

/// Where a step's notification comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// One of the kit's branches, with a fresh id (or one derived from `seed`).
    Class { branch: Branch, seed: Option<u64> },
    /// `eioa-gen`'s generator class, determined by the seed.
    Generator { class: String, seed: u64 },
    /// A document read from a file when the suite was loaded; `id` is its `<id>`.
    File { bytes: Vec<u8>, id: String },
    /// The notification an earlier step of the scenario named.
    Named,
}

/// A step's notification: its source, and a name later steps can send again.
#[derive(Debug, Clone)]
pub struct NotificationDef {
    pub source: Source,
    pub name: Option<String>,
}

/// Edits to a typed notification (or its text) that no plain text replacement can
/// state, because the value depends on the generated document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Edit {
    /// The assistant's personnummer with its check digit off by one.
    AssistantWrongCheckDigit,
    /// The assistant born 17 years before today.
    #[serde(rename = "assistant-under-18")]
    AssistantUnder18,
    /// The assistant's personnummer is the assisted person's.
    AssistantIsPerson,
    /// andringGallerFrom 400 days before today (before anstallningsdatum).
    ChangeBeforeEmployment,
    /// The provider's organisationsnummer is FK's placeholder 1234567890.
    OrganisationsnummerPlaceholder,
    /// The `<assistent>` block twice.
    DuplicateAssistant,
}

/// A text replacement: the first occurrence of `from`, or every one with `all`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub all: bool,
}

impl Replace {
    fn apply(&self, text: &str) -> String {
        if self.all {
            text.replace(&self.from, &self.to)
        } else {
            text.replacen(&self.from, &self.to, 1)
        }
    }
}

/// How a step's payload is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureMode {
    /// The kit's test signer, as the provider. A payload with no canonical form (not
    /// well-formed, a DOCTYPE) travels with a valid signature of another notification,
    /// as a buggy sender's would.
    #[default]
    Signer,
    /// The provider's and the assistant's signatures.
    SignerAndAssistant,
    /// A signer issued by a CA nobody trusts.
    UntrustedCa,
    /// The signer's certificate expired last year.
    Expired,
    /// The OCSP response of another certificate.
    ForeignOcsp,
    /// signaturdatum three days ahead.
    FutureDate,
    /// A signature that is not XML.
    NotXml,
    /// The previous step's signatures, unchanged.
    Previous,
}

/// The expected outcome as a suite file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectDef {
    Accepted,
    XmlValidationError,
    SignatureValidationError,
    Fault,
    SoapAnswer,
    TransportError,
}

impl From<ExpectDef> for Expect {
    fn from(e: ExpectDef) -> Expect {
        match e {
            ExpectDef::Accepted => Expect::Accepted,
            ExpectDef::XmlValidationError => Expect::XmlValidationError,
            ExpectDef::SignatureValidationError => Expect::SignatureValidationError,
            ExpectDef::Fault => Expect::Fault,
            ExpectDef::SoapAnswer => Expect::SoapAnswer,
            ExpectDef::TransportError => Expect::TransportError,
        }
    }
}

/// One step as defined: checked when the suite was loaded, built per run.
#[derive(Debug, Clone)]
pub struct StepDef {
    /// `None` only with `body`.
    pub notification: Option<NotificationDef>,
    pub edits: Vec<Edit>,
    pub replace: Vec<Replace>,
    pub signature: SignatureMode,
    pub after_signing: Vec<Replace>,
    pub envelope_replace: Vec<Replace>,
    /// A raw HTTP body instead of a SOAP request.
    pub body: Option<String>,
    pub soap_action: Option<String>,
    pub expect: Expect,
    pub message: Option<String>,
}

impl Scenario {
    /// The scenario's requests, built with fresh ids and signatures from `kit`.
    pub fn build(&self, kit: &Kit) -> Result<Vec<Step>, KitError> {
        let mut named: HashMap<String, Notification> = HashMap::new();
        let mut previous: Option<Vec<Underskrift>> = None;
        let mut steps = Vec::with_capacity(self.steps.len());
        for def in &self.steps {
            let soap_action = def
                .soap_action
                .clone()
                .unwrap_or_else(|| SOAP_ACTION.into());
            let body = match (&def.body, &def.notification) {
                (Some(raw), _) => raw.clone().into_bytes(),
                // Checked at load time: a step has a notification or a body.
                (None, None) => Vec::new(),
                (None, Some(n)) => {
                    let (id, payload) = payload(kit, n, def, &mut named);
                    let mut req = sign(kit, def.signature, &id, payload, previous.as_deref())?;
                    previous = Some(req.underskrifter.clone());
                    if !def.after_signing.is_empty() {
                        let mut text = String::from_utf8_lossy(&req.payload).into_owned();
                        for r in &def.after_signing {
                            text = r.apply(&text);
                        }
                        req.payload = text.into_bytes();
                    }
                    let mut envelope = req.to_xml();
                    if !def.envelope_replace.is_empty() {
                        let mut text = String::from_utf8_lossy(&envelope).into_owned();
                        for r in &def.envelope_replace {
                            text = r.apply(&text);
                        }
                        envelope = text.into_bytes();
                    }
                    envelope
                }
            };
            steps.push(Step {
                body,
                soap_action,
                expect: def.expect,
                message_contains: def.message.clone(),
            });
        }
        Ok(steps)
    }
}

/// A notification id derived from a seed: the same seed, the same id.
fn seeded_id(seed: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&seed.to_be_bytes());
    bytes[8..].copy_from_slice(&seed.rotate_left(29).to_le_bytes());
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The step's payload bytes and notification id, edits applied.
fn payload(
    kit: &Kit,
    n: &NotificationDef,
    def: &StepDef,
    named: &mut HashMap<String, Notification>,
) -> (String, Vec<u8>) {
    let model = match &n.source {
        Source::Class { branch, seed } => {
            let mut m = kit.notification(*branch);
            if let Some(seed) = seed {
                m.id = seeded_id(*seed);
            }
            Some(m)
        }
        Source::Generator { class, seed } => {
            eioa_gen::Scenario::by_name(class).map(|c| eioa_gen::generate(*seed, c, kit.today))
        }
        Source::Named => n.name.as_ref().and_then(|k| named.get(k).cloned()),
        Source::File { .. } => None,
    };
    if let (Some(name), Some(m)) = (&n.name, &model) {
        named.entry(name.clone()).or_insert_with(|| m.clone());
    }
    let (id, mut text) = match (&n.source, model) {
        (Source::File { bytes, id }, _) => {
            (id.clone(), String::from_utf8_lossy(bytes).into_owned())
        }
        (_, Some(mut m)) => {
            for e in &def.edits {
                edit_model(kit, *e, &mut m);
            }
            (m.id.clone(), m.to_xml())
        }
        // Checked at load time: a name always refers to an earlier step.
        (_, None) => (uuid::Uuid::new_v4().to_string(), String::new()),
    };
    if def.edits.contains(&Edit::DuplicateAssistant) {
        text = duplicate_assistant(&text);
    }
    for r in &def.replace {
        text = r.apply(&text);
    }
    (id, text.into_bytes())
}

fn edit_model(kit: &Kit, e: Edit, n: &mut Notification) {
    match e {
        Edit::AssistantWrongCheckDigit => {
            let p = &mut n.assistent.personnummer;
            if let Some(d) = p.as_bytes().last().filter(|d| d.is_ascii_digit()) {
                let wrong = (d - b'0' + 1) % 10;
                let at = p.len() - 1;
                p.replace_range(at.., &wrong.to_string());
            }
        }
        Edit::AssistantUnder18 => {
            let born = kit.today - time::Duration::days(365 * 17);
            n.assistent.personnummer = eioa_model::ident::personnummer(born, 981, false);
        }
        Edit::AssistantIsPerson => n.assistent.personnummer = n.person.personnummer.clone(),
        Edit::ChangeBeforeEmployment => {
            n.assistent.andring_galler_from = Some(fmt_date(kit.today - time::Duration::days(400)));
        }
        Edit::OrganisationsnummerPlaceholder => {
            if let eioa_model::Arbetsgivare::Anordnare(a) = &mut n.arbetsgivare {
                a.organisationsnummer = "1234567890".into();
            }
        }
        Edit::DuplicateAssistant => {}
    }
}

fn duplicate_assistant(xml: &str) -> String {
    let Some(start) = xml.find("  <assistent>") else {
        return xml.to_string();
    };
    let close = "  </assistent>\n";
    let end = xml[start..]
        .find(close)
        .map_or(start, |e| start + e + close.len());
    format!("{}{}{}", &xml[..end], &xml[start..end], &xml[end..])
}

/// The text of a document's first `<id>` element, if any.
pub(crate) fn id_in(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let start = text.find("<id>")? + 4;
    let end = text[start..].find("</id>")? + start;
    Some(text[start..end].trim().to_string())
}

/// `payload` signed by the kit's test signer, as a suite step's default signature.
pub(crate) fn sign_as_signer(kit: &Kit, id: &str, payload: Vec<u8>) -> Result<Request, KitError> {
    sign(kit, SignatureMode::Signer, id, payload, None)
}

/// Signs `payload` (notification `id`) as `mode` says.
fn sign(
    kit: &Kit,
    mode: SignatureMode,
    id: &str,
    payload: Vec<u8>,
    previous: Option<&[Underskrift]>,
) -> Result<Request, KitError> {
    let by_signer = |payload: &[u8]| {
        kit.underskrift(
            &kit.pki,
            kit.pki.signer(),
            id,
            payload,
            Signaturtyp::Anordnare,
        )
    };
    let underskrifter = match mode {
        SignatureMode::Signer => vec![match by_signer(&payload) {
            Ok(u) => u,
            Err(_) => {
                let other = kit.notification(Branch::AnordnareInomEes);
                kit.underskrift(
                    &kit.pki,
                    kit.pki.signer(),
                    &other.id,
                    other.to_xml().as_bytes(),
                    Signaturtyp::Anordnare,
                )?
            }
        }],
        SignatureMode::SignerAndAssistant => vec![
            by_signer(&payload)?,
            kit.underskrift(
                &kit.pki,
                kit.pki.signer(),
                id,
                &payload,
                Signaturtyp::Assistent,
            )?,
        ],
        SignatureMode::UntrustedCa => vec![kit.underskrift(
            &kit.foreign,
            kit.foreign.signer(),
            id,
            &payload,
            Signaturtyp::Anordnare,
        )?],
        SignatureMode::Expired => {
            vec![kit.underskrift(&kit.pki, &kit.expired, id, &payload, Signaturtyp::Anordnare)?]
        }
        SignatureMode::ForeignOcsp => {
            let mut u = by_signer(&payload)?;
            let other = kit.underskrift(
                &kit.foreign,
                kit.foreign.signer(),
                id,
                &payload,
                Signaturtyp::Anordnare,
            )?;
            u.ocspresponse = other.ocspresponse;
            vec![u]
        }
        SignatureMode::FutureDate => {
            let mut u = by_signer(&payload)?;
            u.signaturdatum = fmt_date(kit.today + time::Duration::days(3));
            vec![u]
        }
        SignatureMode::NotXml => {
            let mut u = by_signer(&payload)?;
            u.signatur = b"not a signature".to_vec();
            vec![u]
        }
        // Checked at load time: `previous` never comes first.
        SignatureMode::Previous => previous.map(<[_]>::to_vec).unwrap_or_default(),
    };
    Ok(Request {
        payload,
        underskrifter,
    })
}

/// The scenarios of a bundled suite.
pub fn suite(name: SuiteName) -> Result<Vec<Scenario>, crate::suite::SuiteError> {
    crate::suite::bundled(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str, kit: &Kit) -> Vec<String> {
        let s = crate::suite::parse_str("t.toml", text, std::path::Path::new("."))
            .unwrap_or_else(|e| panic!("{e}"));
        s[0].build(kit)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|st| {
                let req = Request::parse(&st.body).unwrap_or_else(|e| panic!("{e}"));
                id_in(&req.payload).unwrap_or_default()
            })
            .collect()
    }

    const TWO: &str = r#"
[[scenario]]
id = "X"
category = "accepted"
title = "t"
[[scenario.step]]
notification = { class = "anordnare-inom-ees", seed = 7 }
expect = "accepted"
[[scenario.step]]
notification = { generator = "minimal", seed = 7 }
expect = "accepted"
[[scenario.step]]
notification = { class = "anordnare-inom-ees" }
expect = "accepted"
"#;

    #[test]
    fn seeds_fix_the_notification_and_no_seed_gives_a_fresh_one() {
        let kit =
            Kit::load(None, time::OffsetDateTime::now_utc()).unwrap_or_else(|e| panic!("{e}"));
        let first = ids(TWO, &kit);
        let second = ids(TWO, &kit);
        assert_eq!(first[0], second[0], "seeded class id");
        assert_eq!(first[1], second[1], "generator with a seed");
        assert_ne!(first[2], second[2], "no seed: a fresh id each build");
        assert!(uuid::Uuid::parse_str(&first[0]).is_ok(), "{}", first[0]);
    }
}
