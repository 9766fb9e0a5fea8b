//! The typed E-IOA notification (`AnmalanFranArbetsgivare`, form FK 3066).
//!
//! The types mirror the payload schema's choices (EEA residence, who employs the
//! assistant) so that only structurally valid notifications can be expressed.
//! Leaf values keep their lexical form: a value's *content* (a personnummer's check
//! digit, a date's plausibility) is the business rules' job, not the model's.
//!
//! [`Notification::to_xml`] writes schema-valid XML; [`Notification::from_xml`] reads it
//! back and rejects what the schema rejects, so it doubles as a second, independent
//! oracle next to libxml2.

pub mod fk_address;
pub mod ident;
mod read;
pub mod redact;
pub mod soap;
mod write;

pub use read::ParseError;

/// Namespace of the payload schema `anmalan_fran_arbetsgivare_extern_v1.xsd`.
pub const PAYLOAD_NS: &str =
    "http://schema.forsakringskassan.se/integration/isassistansersattning/ioa/anmalanfranarbetsgivare/1";
/// Name of the payload's root element.
pub const PAYLOAD_ROOT: &str = "AnmalanFranArbetsgivare";

/// One notification about one personal assistant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notification {
    /// UUID chosen by the sender; re-sending the same id replaces the earlier one.
    pub id: String,
    /// Module 1: the person who has assistance.
    pub person: Person,
    /// Module 2: the assistant.
    pub assistent: Assistent,
    /// Module 3: who employs the assistant.
    pub arbetsgivare: Arbetsgivare,
    /// The provider's telephone number (at least 7 characters).
    pub telefonnummer_anordnare: String,
}

/// A person identified by a 12-digit personnummer (`YYYYMMDDNNNN`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    pub personnummer: String,
    pub fornamn: String,
    pub efternamn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assistent {
    pub personnummer: String,
    pub fornamn: String,
    pub efternamn: String,
    /// `xs:date`, lexical form.
    pub anstallningsdatum: String,
    /// Närstående: a relative of, or sharing a household with, the person.
    pub narstaende: bool,
    pub bosatt: Bosatt,
    /// Only when the notice concerns changed circumstances; `xs:date`, lexical form.
    pub andring_galler_from: Option<String>,
}

/// Where the assistant lives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Bosatt {
    /// `bosattInnanforEES` = true.
    InnanforEes,
    /// `bosattUtanforEES { bosattUtanfor = true, adress }`.
    UtanforEes { adress: String },
}

/// Who employs the assistant (module 3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Arbetsgivare {
    /// `anstalldAvPersonSomHarAssistans` = true: the person is the employer.
    PersonSomHarAssistans,
    /// An assistance provider is engaged.
    Anordnare(Anordnare),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anordnare {
    pub namn: Option<String>,
    /// 10 digits.
    pub organisationsnummer: String,
    pub kontaktperson: Option<String>,
    pub telefonnummer: Option<String>,
    pub anstallning: Anstallning,
}

/// The provider's relation to the assistant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Anstallning {
    /// `assistentAnstalldAvAnordnare` = true.
    AnstalldAvAnordnare,
    /// `annanArbetsgivare { arbetsgivareNamn?, organisationsnummer }`.
    AnnanArbetsgivare {
        namn: Option<String>,
        organisationsnummer: String,
    },
    /// `assistentEgenForetagare` = true.
    EgenForetagare,
}

/// The text of the root's `id` child, read leniently (the document need not be
/// schema-valid; comments, CDATA and prefixes are handled). The signature binds this
/// id, so tools that sign arbitrary payloads need it. `None` when the bytes are not
/// UTF-8 XML or have no such element.
pub fn peek_id(bytes: &[u8]) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth = 0usize;
    let mut in_id = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                in_id = depth == 2 && e.local_name().as_ref() == b"id";
            }
            Event::Text(t) if in_id => text.push_str(&t.unescape().ok()?),
            Event::CData(c) if in_id => text.push_str(std::str::from_utf8(&c).ok()?),
            Event::End(_) => {
                if in_id {
                    return Some(text.trim().to_string()).filter(|s| !s.is_empty());
                }
                depth = depth.checked_sub(1)?;
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

impl Notification {
    /// The notification as UTF-8 XML, with an XML declaration and the payload
    /// namespace as default namespace.
    pub fn to_xml(&self) -> String {
        write::notification(self)
    }

    /// Reads a notification, rejecting anything the payload schema would reject.
    pub fn from_xml(xml: &str) -> Result<Self, ParseError> {
        read::notification(xml)
    }

    /// A short name for the structural branch, used in scenario and file names.
    pub fn branch(&self) -> String {
        let eea = match self.assistent.bosatt {
            Bosatt::InnanforEes => "inom-ees",
            Bosatt::UtanforEes { .. } => "utom-ees",
        };
        let employer = match &self.arbetsgivare {
            Arbetsgivare::PersonSomHarAssistans => "egen-arbetsgivare",
            Arbetsgivare::Anordnare(a) => match a.anstallning {
                Anstallning::AnstalldAvAnordnare => "anordnare",
                Anstallning::AnnanArbetsgivare { .. } => "annan-arbetsgivare",
                Anstallning::EgenForetagare => "egen-foretagare",
            },
        };
        format!("{employer}-{eea}")
    }
}

#[cfg(test)]
mod tests {
    use super::peek_id;

    #[test]
    fn peek_id_ignores_comments_and_nested_ids() {
        let x = br#"<?xml version="1.0"?><!-- <id>not-this</id> --><a:R xmlns:a="u"><a:x><a:id>nested</a:id></a:x><a:id> <![CDATA[abc]]> </a:id></a:R>"#;
        assert_eq!(peek_id(x).as_deref(), Some("abc"));
        assert_eq!(peek_id(b"<R><x/></R>"), None);
        assert_eq!(peek_id(b"not xml <id>"), None);
    }
}
