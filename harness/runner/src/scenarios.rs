//! The conformance scenarios. Each one builds its request(s) from the kit and states
//! what FK must answer; the expectation is part of the scenario, never derived from
//! the stand-in's answer.

use crate::kit::{fmt_date, Branch, Kit, KitError};
use crate::record::Expect;
use eioa_model::soap::{Request, Signaturtyp, SOAP_ACTION};
use eioa_model::Notification;

/// Which part of the contract a scenario exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

/// One HTTP exchange of a scenario.
#[derive(Debug, Clone)]
pub struct Step {
    pub body: Vec<u8>,
    pub soap_action: String,
    pub expect: Expect,
    /// A fragment the fault's message must contain (the element a payload scenario
    /// breaks, say); `None` when the kind of answer is all that is judged.
    pub message_contains: Option<&'static str>,
}

impl Step {
    fn soap(req: &Request, expect: Expect) -> Step {
        Step {
            body: req.to_xml(),
            soap_action: SOAP_ACTION.into(),
            expect,
            message_contains: None,
        }
    }

    /// The same step, judged also on its fault message.
    fn mentioning(mut self, fragment: &'static str) -> Step {
        self.message_contains = Some(fragment);
        self
    }
}

/// A named check with its expected outcome.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub build: fn(&Kit) -> Result<Vec<Step>, KitError>,
}

/// The suites a run can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteName {
    /// Everything: for the stand-ins.
    Full,
    /// FK's onboarding connection test: one valid, signed notification.
    Connection,
}

macro_rules! scenario {
    ($id:literal, $cat:ident, $title:literal, $build:expr) => {
        Scenario {
            id: $id,
            title: $title,
            category: Category::$cat,
            build: $build,
        }
    };
}

fn accepted(kit: &Kit, branch: Branch) -> Result<Vec<Step>, KitError> {
    Ok(vec![Step::soap(
        &kit.signed_request(&kit.notification(branch))?,
        Expect::Accepted,
    )])
}

/// Signs `payload` as it stands, so only the payload check can fail. A payload that
/// has no canonical form (not well-formed, a DOCTYPE) cannot be bound by a signature;
/// it travels with a valid signature of another notification, as a buggy sender's
/// would, and FK's payload check comes first.
fn signed_bytes(kit: &Kit, id: &str, payload: Vec<u8>) -> Result<Vec<Step>, KitError> {
    let u = match kit.underskrift(
        &kit.pki,
        kit.pki.signer(),
        id,
        &payload,
        Signaturtyp::Anordnare,
    ) {
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
    };
    Ok(vec![Step::soap(
        &Request {
            payload,
            underskrifter: vec![u],
        },
        Expect::XmlValidationError,
    )])
}

/// Steps whose fault must also name `fragment` (the element the scenario breaks).
fn naming(
    steps: Result<Vec<Step>, KitError>,
    fragment: &'static str,
) -> Result<Vec<Step>, KitError> {
    steps.map(|v| v.into_iter().map(|s| s.mentioning(fragment)).collect())
}

fn edited(kit: &Kit, edit: impl Fn(&mut Notification)) -> Result<Vec<Step>, KitError> {
    let mut n = kit.notification(Branch::AnordnareInomEes);
    edit(&mut n);
    signed_bytes(kit, &n.id.clone(), n.to_xml().into_bytes())
}

fn text_edit(kit: &Kit, from: &str, to: &str) -> Result<Vec<Step>, KitError> {
    let n = kit.notification(Branch::AnordnareInomEes);
    let xml = n.to_xml().replacen(from, to, 1);
    signed_bytes(kit, &n.id, xml.into_bytes())
}

const FAQ_AS_PRINTED: &[u8] = include_bytes!("../../../fixtures/faq/faq-example-as-printed.xml");

/// Every scenario, in run order.
pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "A01",
            Accepted,
            "provider employs the assistant, who lives inside the EEA",
            |k| accepted(k, Branch::AnordnareInomEes)
        ),
        scenario!(
            "A02",
            Accepted,
            "assistant lives outside the EEA and is närstående",
            |k| accepted(k, Branch::AnordnareUtomEesNarstaende)
        ),
        scenario!("A03", Accepted, "another employer than the provider", |k| {
            accepted(k, Branch::AnnanArbetsgivare)
        }),
        scenario!("A04", Accepted, "assistant is self-employed", |k| accepted(
            k,
            Branch::EgenForetagare
        )),
        scenario!(
            "A05",
            Accepted,
            "the person who has assistance is the employer",
            |k| accepted(k, Branch::EgenArbetsgivare)
        ),
        scenario!(
            "A06",
            Accepted,
            "changed circumstances (andringGallerFrom)",
            |k| accepted(k, Branch::MedAndring)
        ),
        scenario!(
            "A07",
            Accepted,
            "assistant identified by samordningsnummer",
            |k| accepted(k, Branch::Samordningsnummer)
        ),
        scenario!(
            "A08",
            Accepted,
            "signed by both provider and assistant",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let mut req = k.signed_request(&n)?;
                let second = k.underskrift(
                    &k.pki,
                    k.pki.signer(),
                    &n.id,
                    &req.payload,
                    Signaturtyp::Assistent,
                )?;
                req.underskrifter.push(second);
                Ok(vec![Step::soap(&req, Expect::Accepted)])
            }
        ),
        scenario!(
            "A09",
            Accepted,
            "re-sending the same notification id is accepted (the latest wins)",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let first = k.signed_request(&n)?;
                let again = k.signed_request(&n)?;
                Ok(vec![
                    Step::soap(&first, Expect::Accepted),
                    Step::soap(&again, Expect::Accepted),
                ])
            }
        ),
        scenario!(
            "A10",
            Accepted,
            "re-sending a notification id with changed content is accepted, with a warning (FK handles it manually)",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let mut changed = n.clone();
                changed.telefonnummer_anordnare = "08-123 456 79".into();
                Ok(vec![
                    Step::soap(&k.signed_request(&n)?, Expect::Accepted),
                    Step::soap(&k.signed_request(&changed)?, Expect::Accepted),
                ])
            }
        ),
        scenario!(
            "P01",
            Payload,
            "FK's FAQ example as printed (placeholder YYYYMMDDXXXX)",
            |k| {
                signed_bytes(
                    k,
                    "9e0c2a8e-3b5d-4f7a-8c1e-2d4f6a8b0c1e",
                    FAQ_AS_PRINTED.to_vec(),
                )
            }
        ),
        scenario!(
            "P02",
            Payload,
            "personnummer with a wrong check digit",
            |k| naming(
                edited(k, |n| {
                    let p = &mut n.assistent.personnummer;
                    let last = (p.as_bytes()[11] - b'0' + 1) % 10;
                    p.replace_range(11.., &last.to_string());
                }),
                "personnummer"
            )
        ),
        scenario!(
            "P03",
            Payload,
            "assistant under 18 on anstallningsdatum",
            |k| edited(k, |n| {
                let born = k.today - time::Duration::days(365 * 17);
                n.assistent.personnummer = eioa_model::ident::personnummer(born, 981, false);
            })
        ),
        scenario!(
            "P04",
            Payload,
            "assistant is the person who has assistance",
            |k| edited(k, |n| {
                n.assistent.personnummer = n.person.personnummer.clone();
            })
        ),
        scenario!(
            "P05",
            Payload,
            "andringGallerFrom before anstallningsdatum",
            |k| edited(k, |n| {
                n.assistent.andring_galler_from =
                    Some(fmt_date(k.today - time::Duration::days(400)));
            })
        ),
        scenario!("P06", Payload, "a true-only marker sent as false", |k| {
            naming(
                text_edit(
                    k,
                    "<assistentAnstalldAvAnordnare>true<",
                    "<assistentAnstalldAvAnordnare>false<",
                ),
                "assistentAnstalldAvAnordnare",
            )
        }),
        scenario!(
            "P07",
            Payload,
            "required element missing (telefonnummerAnordnare)",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let xml = n.to_xml().replace(
                    "  <telefonnummerAnordnare>08-123 456 78</telefonnummerAnordnare>\n",
                    "",
                );
                naming(
                    signed_bytes(k, &n.id, xml.into_bytes()),
                    "telefonnummerAnordnare",
                )
            }
        ),
        scenario!("P08", Payload, "payload in the wrong namespace", |k| {
            text_edit(
                k,
                "anmalanfranarbetsgivare/1\"",
                "anmalanfranarbetsgivare/2\"",
            )
        }),
        scenario!("P09", Payload, "two assistants in one file", |k| {
            let n = k.notification(Branch::AnordnareInomEes);
            let xml = n.to_xml();
            let start = xml.find("  <assistent>").unwrap_or(0);
            let end = xml
                .find("  </assistent>\n")
                .map_or(start, |e| e + "  </assistent>\n".len());
            let block = xml[start..end].to_string();
            let doubled = format!("{}{}{}", &xml[..end], block, &xml[end..]);
            signed_bytes(k, &n.id, doubled.into_bytes())
        }),
        scenario!("P10", Payload, "not well-formed (unescaped &)", |k| {
            text_edit(k, "Exempelassistans AB", "Exempel & Assistans AB")
        }),
        scenario!(
            "P11",
            Payload,
            "DOCTYPE with an external entity (never resolved)",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let xml = n.to_xml().replacen(
                "?>\n",
                "?>\n<!DOCTYPE AnmalanFranArbetsgivare [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>\n",
                1,
            ).replacen("<fornamn>Fiktiv</fornamn>", "<fornamn>&x;</fornamn>", 1);
                signed_bytes(k, &n.id, xml.into_bytes())
            }
        ),
        scenario!(
            "P12",
            Payload,
            "organisationsnummer placeholder 1234567890",
            |k| naming(
                edited(k, |n| {
                    if let eioa_model::Arbetsgivare::Anordnare(a) = &mut n.arbetsgivare {
                        a.organisationsnummer = "1234567890".into();
                    }
                }),
                "organisationsnummer"
            )
        ),
        scenario!("S01", Signature, "payload changed after signing", |k| {
            let n = k.notification(Branch::AnordnareInomEes);
            let mut req = k.signed_request(&n)?;
            req.payload = String::from_utf8_lossy(&req.payload)
                .replace("Fiktiv", "Fiktivt")
                .into_bytes();
            Ok(vec![Step::soap(&req, Expect::SignatureValidationError)])
        }),
        scenario!(
            "S02",
            Signature,
            "one signature reused for a second notification",
            |k| {
                let n1 = k.notification(Branch::AnordnareInomEes);
                let first = k.signed_request(&n1)?;
                let n2 = k.notification(Branch::AnnanArbetsgivare);
                let second = Request {
                    payload: n2.to_xml().into_bytes(),
                    underskrifter: first.underskrifter.clone(),
                };
                Ok(vec![
                    Step::soap(&first, Expect::Accepted),
                    Step::soap(&second, Expect::SignatureValidationError),
                ])
            }
        ),
        scenario!(
            "S03",
            Signature,
            "signer certificate from an untrusted CA",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let payload = n.to_xml().into_bytes();
                let u = k.underskrift(
                    &k.foreign,
                    k.foreign.signer(),
                    &n.id,
                    &payload,
                    Signaturtyp::Anordnare,
                )?;
                Ok(vec![Step::soap(
                    &Request {
                        payload,
                        underskrifter: vec![u],
                    },
                    Expect::SignatureValidationError,
                )])
            }
        ),
        scenario!("S04", Signature, "signer certificate expired", |k| {
            let n = k.notification(Branch::AnordnareInomEes);
            let payload = n.to_xml().into_bytes();
            let u = k.underskrift(&k.pki, &k.expired, &n.id, &payload, Signaturtyp::Anordnare)?;
            Ok(vec![Step::soap(
                &Request {
                    payload,
                    underskrifter: vec![u],
                },
                Expect::SignatureValidationError,
            )])
        }),
        scenario!(
            "S05",
            Signature,
            "OCSP response for another certificate",
            |k| {
                let n = k.notification(Branch::AnordnareInomEes);
                let mut req = k.signed_request(&n)?;
                let other = k.underskrift(
                    &k.foreign,
                    k.foreign.signer(),
                    &n.id,
                    &req.payload,
                    Signaturtyp::Anordnare,
                )?;
                req.underskrifter[0].ocspresponse = other.ocspresponse;
                Ok(vec![Step::soap(&req, Expect::SignatureValidationError)])
            }
        ),
        scenario!("S06", Signature, "signaturdatum in the future", |k| {
            let n = k.notification(Branch::AnordnareInomEes);
            let mut req = k.signed_request(&n)?;
            req.underskrifter[0].signaturdatum = fmt_date(k.today + time::Duration::days(3));
            Ok(vec![Step::soap(&req, Expect::SignatureValidationError)])
        }),
        scenario!("S07", Signature, "signature is not XML", |k| {
            let n = k.notification(Branch::AnordnareInomEes);
            let mut req = k.signed_request(&n)?;
            req.underskrifter[0].signatur = b"not a signature".to_vec();
            Ok(vec![Step::soap(&req, Expect::SignatureValidationError)])
        }),
        scenario!("T01", Transport, "wrong SOAPAction", |k| {
            let req = k.signed_request(&k.notification(Branch::AnordnareInomEes))?;
            Ok(vec![Step {
                body: req.to_xml(),
                soap_action: "urn:wrong:action".into(),
                expect: Expect::Fault,
                message_contains: None,
            }])
        }),
        scenario!("T02", Transport, "SOAP 1.2 envelope", |k| {
            let req = k.signed_request(&k.notification(Branch::AnordnareInomEes))?;
            let body = String::from_utf8_lossy(&req.to_xml())
                .replace(
                    "http://schemas.xmlsoap.org/soap/envelope/",
                    "http://www.w3.org/2003/05/soap-envelope",
                )
                .into_bytes();
            Ok(vec![Step {
                body,
                soap_action: SOAP_ACTION.into(),
                expect: Expect::Fault,
                message_contains: None,
            }])
        }),
        scenario!("T03", Transport, "body is not XML", |_| {
            Ok(vec![Step {
                body: b"hello".to_vec(),
                soap_action: SOAP_ACTION.into(),
                expect: Expect::Fault,
                message_contains: None,
            }])
        }),
    ]
}

/// The scenarios of a suite.
pub fn suite(name: SuiteName) -> Vec<Scenario> {
    match name {
        SuiteName::Full => all(),
        SuiteName::Connection => vec![scenario!(
            "C01",
            Accepted,
            "connection test: one valid, signed notification gets FK's answer",
            |k| {
                let req = k.signed_request(&k.notification(Branch::AnordnareInomEes))?;
                Ok(vec![Step::soap(&req, Expect::SoapAnswer)])
            }
        )],
    }
}
