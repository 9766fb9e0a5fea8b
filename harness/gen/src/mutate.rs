//! Mutations: from a valid notification, an invalid document of a named class.
//!
//! Each class defines the finding it must produce ([`Expected`]): the set of error
//! rule ids and, for schema findings, the set of `kind`s. The expectation follows
//! from the class's definition and the payload schema (for instance, a required
//! element removed before a sibling makes that sibling *unexpected*; removed at the
//! end of its parent, the element is *missing*), never from running the validator.

use crate::strategy;
use crate::values;
use crate::xmledit::Doc;
use eioa_model::{ident, Notification, PAYLOAD_NS};
use proptest::prelude::*;
use std::collections::BTreeSet;
use time::Date;

/// What validating a document must report.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Expected {
    /// Rule ids of the error findings (warnings are not counted).
    pub errors: BTreeSet<String>,
    /// The `kind`s of the `EIOA-S001` findings, when the class fixes them.
    pub s001_kinds: Option<BTreeSet<String>>,
}

impl Expected {
    /// No error finding at all.
    pub fn valid() -> Expected {
        Expected {
            errors: BTreeSet::new(),
            s001_kinds: Some(BTreeSet::new()),
        }
    }
    fn rules(rules: &[&str]) -> Expected {
        Expected {
            errors: rules.iter().map(|r| r.to_string()).collect(),
            s001_kinds: if rules.contains(&"EIOA-S001") {
                None
            } else {
                Some(BTreeSet::new())
            },
        }
    }
    fn schema(kind: &str, also: &[&str]) -> Expected {
        let mut e = Expected::rules(also);
        e.errors.insert("EIOA-S001".into());
        e.s001_kinds = Some(std::iter::once(kind.to_string()).collect());
        e
    }
    /// `errors=A,B; s001-kinds=k` (or `s001-kinds=*` when not fixed).
    pub fn describe(&self) -> String {
        let errors = if self.errors.is_empty() {
            "none".to_string()
        } else {
            self.errors.iter().cloned().collect::<Vec<_>>().join(",")
        };
        let kinds = match &self.s001_kinds {
            None => "*".to_string(),
            Some(k) if k.is_empty() => "none".to_string(),
            Some(k) => k.iter().cloned().collect::<Vec<_>>().join(","),
        };
        format!("errors={errors}; s001-kinds={kinds}")
    }
    /// Reads what [`Expected::describe`] wrote.
    pub fn parse(s: &str) -> Option<Expected> {
        let mut errors = None;
        let mut kinds = None;
        for part in s.split(';') {
            let (k, v) = part.trim().split_once('=')?;
            let set = || -> BTreeSet<String> {
                if v == "none" {
                    BTreeSet::new()
                } else {
                    v.split(',').map(str::to_string).collect()
                }
            };
            match k {
                "errors" => errors = Some(set()),
                "s001-kinds" => kinds = Some(if v == "*" { None } else { Some(set()) }),
                _ => {}
            }
        }
        Some(Expected {
            errors: errors?,
            s001_kinds: kinds?,
        })
    }
}

/// One applied mutation: its class, where it struck, and what it must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub class: MutationClass,
    /// Where and how, e.g. `removed /AnmalanFranArbetsgivare/assistent/fornamn`.
    pub detail: String,
    pub expected: Expected,
}

/// A mutated document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutated {
    pub bytes: Vec<u8>,
    pub mutation: Mutation,
}

macro_rules! classes {
    ($($v:ident = $name:literal, $summary:literal;)*) => {
        /// The named mutation classes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum MutationClass { $($v),* }
        impl MutationClass {
            /// Every class, in a stable order.
            pub const ALL: &'static [MutationClass] = &[$(MutationClass::$v),*];
            /// The class's kebab-case name (used in file names and on the command line).
            pub fn name(self) -> &'static str {
                match self { $(MutationClass::$v => $name),* }
            }
            /// One line on what the class does.
            pub fn summary(self) -> &'static str {
                match self { $(MutationClass::$v => $summary),* }
            }
            pub fn by_name(name: &str) -> Option<MutationClass> {
                Self::ALL.iter().copied().find(|c| c.name() == name)
            }
        }
    };
}

classes! {
    RemoveRequired = "remove-required", "a required element removed (S001 unexpected-element, or missing-element at the end of its parent)";
    Duplicate = "duplicate", "an element written twice (S001 unexpected-element; R012 too for assistent or personSomHarAssistans)";
    Reorder = "reorder", "two adjacent sibling elements swapped (S001 unexpected-element)";
    BothBranches = "both-branches", "both branches of a choice present (S001 unexpected-element)";
    NeitherBranch = "neither-branch", "no branch of a choice present (S001 unexpected-element or missing-element)";
    WrongNamespace = "wrong-namespace", "the payload namespace changed to another version (S001 root)";
    NoNamespace = "no-namespace", "the namespace declaration removed (S001 root)";
    ForeignChild = "foreign-child", "one element put in another namespace (S001 unexpected-element)";
    PatternPersonnummer = "pattern-personnummer", "a personnummer of 11 digits (S001 pattern)";
    PatternOrgnr = "pattern-orgnr", "an organisationsnummer written with a hyphen (S001 pattern)";
    PatternTelefon = "pattern-telefon", "a telephone number of 6 characters (S001 pattern)";
    IdUppercase = "id-uppercase", "the id written in uppercase (S001 pattern + R010)";
    PersonnummerCheckDigit = "personnummer-check-digit", "a personnummer with a wrong check digit (R002)";
    OrgnrCheckDigit = "orgnr-check-digit", "an organisationsnummer with a wrong check digit (R003)";
    PersonnummerDate = "personnummer-date", "a personnummer holding no calendar date, check digit recomputed (R001)";
    ImpossibleDate = "impossible-date", "an xs:date that is no calendar date (S001 datatype)";
    MarkerFalse = "marker-false", "a true-only marker sent as false (S001 enumeration + R013)";
    UnknownElement = "unknown-element", "an element the schema does not know (S001 unexpected-element)";
    UnknownAttribute = "unknown-attribute", "an attribute the schema does not declare (S001 attribute)";
    StrayText = "stray-text", "text between elements (S001 text)";
    UnescapedAmpersand = "unescaped-ampersand", "a raw & in a name (X001)";
    EncodingMismatch = "encoding-mismatch", "UTF-8 bytes with non-ASCII letters declared ISO-8859-1 (X002)";
    Truncated = "truncated", "the document cut short (X001)";
    Doctype = "doctype", "a DOCTYPE declaration (X005)";
    PlaceholderPersonnummer = "placeholder-personnummer", "FK's FAQ placeholder YYYYMMDDXXXX (R005 + S001 pattern)";
    PlaceholderOrgnr = "placeholder-orgnr", "the dummy organisationsnummer 1234567890 (R005)";
    NilUuid = "nil-uuid", "the nil UUID as id (R005)";
    AssistantIsPerson = "assistant-is-person", "the person given the assistant's personnummer (R007)";
    Under18 = "under-18", "anstallningsdatum the day before the assistant's 18th birthday (R006)";
    ChangeBeforeEmployment = "change-before-employment", "andringGallerFrom the day before anstallningsdatum (R008)";
    EmptyName = "empty-name", "a name or address left empty (R014)";
    PhoneLetters = "phone-letters", "letters in a telephone number (R016)";
    LexicalVariant = "lexical-variant", "a valid document in an unusual but allowed spelling: time zones, 1/0 booleans, CDATA, character references, comments, CRLF (no error)";
    XsiNil = "xsi-nil", "xsi:nil on an element the schema does not declare nillable (S001)";
}

const REQUIRED: &[&str] = &[
    "id",
    "personSomHarAssistans",
    "assistent",
    "telefonnummerAnordnare",
    "personnummer",
    "fornamn",
    "efternamn",
    "anstallningsdatum",
    "narstaende",
    "bosattUtanfor",
    "adress",
    "organisationsnummer",
];

/// The members of each choice; one of each group is present in a valid document.
const CHOICES: &[&[&str]] = &[
    &["bosattInnanforEES", "bosattUtanforEES"],
    &["anstalldAvPersonSomHarAssistans", "assistansanordnare"],
    &[
        "assistentAnstalldAvAnordnare",
        "annanArbetsgivare",
        "assistentEgenForetagare",
    ],
];

const MARKERS: &[&str] = &[
    "bosattInnanforEES",
    "bosattUtanfor",
    "anstalldAvPersonSomHarAssistans",
    "assistentAnstalldAvAnordnare",
    "assistentEgenForetagare",
];

/// The free-text fields rule R014/R015 cover. Written out here rather than taken
/// from `eioa-validate`: a mutation's expected outcome must not come from the code
/// it tests.
const TEXT_FIELDS: &[&str] = &[
    "fornamn",
    "efternamn",
    "anordnareNamn",
    "kontaktperson",
    "arbetsgivareNamn",
    "adress",
];

/// A minimal valid instance of a choice member, at `indent`.
fn alternative(name: &str, indent: &str) -> Vec<String> {
    let org = ident::orgnr("802512345");
    let i2 = format!("{indent}  ");
    match name {
        "bosattUtanforEES" => vec![
            format!("{indent}<bosattUtanforEES>"),
            format!("{i2}<bosattUtanfor>true</bosattUtanfor>"),
            format!("{i2}<adress>Fiktivstrasse 1, 8000 Zürich, Schweiz</adress>"),
            format!("{indent}</bosattUtanforEES>"),
        ],
        "assistansanordnare" => vec![
            format!("{indent}<assistansanordnare>"),
            format!("{i2}<organisationsnummer>{org}</organisationsnummer>"),
            format!("{i2}<assistentAnstalldAvAnordnare>true</assistentAnstalldAvAnordnare>"),
            format!("{indent}</assistansanordnare>"),
        ],
        "annanArbetsgivare" => vec![
            format!("{indent}<annanArbetsgivare>"),
            format!("{i2}<organisationsnummer>{org}</organisationsnummer>"),
            format!("{indent}</annanArbetsgivare>"),
        ],
        marker => vec![format!("{indent}<{marker}>true</{marker}>")],
    }
}

fn pick_of<T: Copy>(items: &[T], pick: usize) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        Some(items[pick % items.len()])
    }
}

fn leaves(d: &Doc, names: &[&str]) -> Vec<usize> {
    (0..d.els.len())
        .filter(|&i| d.els[i].leaf && names.contains(&d.els[i].name.as_str()))
        .collect()
}

/// Required-element removal: the sibling after it becomes unexpected; with none, the
/// parent misses an element.
fn absence_kind(d: &Doc, i: usize) -> &'static str {
    if d.next_sibling(i).is_some() {
        "unexpected-element"
    } else {
        "missing-element"
    }
}

fn out(bytes: String, class: MutationClass, detail: String, expected: Expected) -> Mutated {
    Mutated {
        bytes: bytes.into_bytes(),
        mutation: Mutation {
            class,
            detail,
            expected,
        },
    }
}

fn birth_of(pnr: &str) -> Option<Date> {
    ident::parse_identity(pnr).ok().map(|i| i.birth_date)
}

fn parse_xs_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

/// Applies `class` to `n`; `pick` chooses among the places the class can strike.
/// `None` when the notification offers no such place (e.g. no organisationsnummer).
pub fn apply(class: MutationClass, n: &Notification, pick: usize) -> Option<Mutated> {
    use MutationClass as C;
    let xml = n.to_xml();
    let d = Doc::parse(&xml);
    let root = 0;
    let m = match class {
        C::RemoveRequired => {
            let cands: Vec<usize> = (1..d.els.len())
                .filter(|&i| REQUIRED.contains(&d.els[i].name.as_str()))
                .collect();
            let i = pick_of(&cands, pick)?;
            out(
                d.remove(i),
                class,
                format!("removed {}", d.path(i)),
                Expected::schema(absence_kind(&d, i), &[]),
            )
        }
        C::Duplicate => {
            let cands: Vec<usize> = (1..d.els.len()).collect();
            let i = pick_of(&cands, pick)?;
            let name = d.els[i].name.as_str();
            let also: &[&str] = if name == "assistent" || name == "personSomHarAssistans" {
                &["EIOA-R012"]
            } else {
                &[]
            };
            out(
                d.insert_lines(d.els[i].last + 1, d.block(i)),
                class,
                format!("duplicated {}", d.path(i)),
                Expected::schema("unexpected-element", also),
            )
        }
        C::Reorder => {
            let cands: Vec<(usize, usize)> = (1..d.els.len())
                .filter_map(|i| d.next_sibling(i).map(|j| (i, j)))
                .filter(|&(i, j)| d.els[i].name != d.els[j].name)
                .collect();
            let (a, b) = pick_of(&cands, pick)?;
            out(
                d.swap(a, b),
                class,
                format!("swapped {} and {}", d.path(a), d.els[b].name),
                Expected::schema("unexpected-element", &[]),
            )
        }
        C::BothBranches => {
            let mut cands: Vec<(usize, &str)> = Vec::new();
            for i in 1..d.els.len() {
                let name = d.els[i].name.as_str();
                for g in CHOICES.iter().filter(|g| g.contains(&name)) {
                    cands.extend(g.iter().filter(|alt| **alt != name).map(|alt| (i, *alt)));
                }
            }
            let (i, alt) = pick_of(&cands, pick)?;
            out(
                d.insert_lines(d.els[i].last + 1, alternative(alt, &d.indent(i))),
                class,
                format!("added {alt} after {}", d.path(i)),
                Expected::schema("unexpected-element", &[]),
            )
        }
        C::NeitherBranch => {
            let cands: Vec<usize> = (1..d.els.len())
                .filter(|&i| CHOICES.iter().any(|g| g.contains(&d.els[i].name.as_str())))
                .collect();
            let i = pick_of(&cands, pick)?;
            out(
                d.remove(i),
                class,
                format!("removed the chosen branch {}", d.path(i)),
                Expected::schema(absence_kind(&d, i), &[]),
            )
        }
        C::WrongNamespace => out(
            xml.replacen(
                &format!("xmlns=\"{PAYLOAD_NS}\""),
                &format!("xmlns=\"{}\"", PAYLOAD_NS.replace("/1", "/2")),
                1,
            ),
            class,
            "payload namespace version 2".into(),
            Expected::schema("root", &[]),
        ),
        C::NoNamespace => out(
            xml.replacen(&format!(" xmlns=\"{PAYLOAD_NS}\""), "", 1),
            class,
            "no namespace declaration".into(),
            Expected::schema("root", &[]),
        ),
        C::ForeignChild => {
            let cands: Vec<usize> = (1..d.els.len()).filter(|&i| d.els[i].leaf).collect();
            let i = pick_of(&cands, pick)?;
            out(
                d.add_attribute(i, "xmlns=\"urn:example:fiktiv\""),
                class,
                format!("{} in namespace urn:example:fiktiv", d.path(i)),
                Expected::schema("unexpected-element", &[]),
            )
        }
        C::PatternPersonnummer => {
            let i = pick_of(&leaves(&d, &["personnummer"]), pick)?;
            let v = d.value(i);
            out(
                d.set_value(i, &v[..11]),
                class,
                format!("{} = {}", d.path(i), &v[..11]),
                Expected::schema("pattern", &[]),
            )
        }
        C::PatternOrgnr => {
            let i = pick_of(&leaves(&d, &["organisationsnummer"]), pick)?;
            let v = d.value(i);
            let hy = format!("{}-{}", &v[..6], &v[6..]);
            out(
                d.set_value(i, &hy),
                class,
                format!("{} = {hy}", d.path(i)),
                Expected::schema("pattern", &[]),
            )
        }
        C::PatternTelefon => {
            let i = pick_of(
                &leaves(&d, &["telefonnummer", "telefonnummerAnordnare"]),
                pick,
            )?;
            out(
                d.set_value(i, "070123"),
                class,
                format!("{} = 070123", d.path(i)),
                Expected::schema("pattern", &[]),
            )
        }
        C::IdUppercase => {
            if !n.id.bytes().any(|b| b.is_ascii_alphabetic()) {
                return None;
            }
            let i = d.find("id").next()?;
            out(
                d.set_value(i, &n.id.to_ascii_uppercase()),
                class,
                "id in uppercase".into(),
                Expected::schema("pattern", &["EIOA-R010"]),
            )
        }
        C::PersonnummerCheckDigit => {
            let i = pick_of(&leaves(&d, &["personnummer"]), pick)?;
            let v = d.value(i);
            let last = v.as_bytes()[11] - b'0';
            let wrong = (last + 1 + (pick / 2 % 9) as u8) % 10;
            let bad = format!("{}{wrong}", &v[..11]);
            out(
                d.set_value(i, &bad),
                class,
                format!("{} = {bad}", d.path(i)),
                Expected::rules(&["EIOA-R002"]),
            )
        }
        C::OrgnrCheckDigit => {
            let i = pick_of(&leaves(&d, &["organisationsnummer"]), pick)?;
            let v = d.value(i);
            let last = v.as_bytes()[9] - b'0';
            let wrong = (last + 1 + (pick / 2 % 9) as u8) % 10;
            let bad = format!("{}{wrong}", &v[..9]);
            out(
                d.set_value(i, &bad),
                class,
                format!("{} = {bad}", d.path(i)),
                Expected::rules(&["EIOA-R003"]),
            )
        }
        C::PersonnummerDate => {
            let i = pick_of(&leaves(&d, &["personnummer"]), pick)?;
            let v = d.value(i);
            let year: i32 = v[..4].parse().ok()?;
            let mut mmdd = vec!["0230", "1301", "0432", "0290", "0000"];
            if !time::util::is_leap_year(year) {
                mmdd.push("0229");
            }
            let md = mmdd[pick / 2 % mmdd.len()];
            let eleven = format!("{}{md}{}", &v[..4], &v[8..11]);
            let bad = format!("{eleven}{}", ident::luhn_digit(&eleven.as_bytes()[2..11]));
            out(
                d.set_value(i, &bad),
                class,
                format!("{} = {bad}", d.path(i)),
                Expected::rules(&["EIOA-R001"]),
            )
        }
        C::ImpossibleDate => {
            let i = pick_of(
                &leaves(&d, &["anstallningsdatum", "andringGallerFrom"]),
                pick,
            )?;
            let v = d.value(i);
            let year: i32 = v[..4].parse().ok()?;
            let mut bad = vec![
                format!("{year}-02-30"),
                format!("{year}-13-01"),
                format!("{year}-04-31"),
            ];
            if !time::util::is_leap_year(year) {
                bad.push(format!("{year}-02-29"));
            }
            let b = bad[pick / 2 % bad.len()].clone();
            out(
                d.set_value(i, &b),
                class,
                format!("{} = {b}", d.path(i)),
                Expected::schema("datatype", &[]),
            )
        }
        C::MarkerFalse => {
            let i = pick_of(&leaves(&d, MARKERS), pick)?;
            out(
                d.set_value(i, "false"),
                class,
                format!("{} = false", d.path(i)),
                Expected::schema("enumeration", &["EIOA-R013"]),
            )
        }
        C::UnknownElement => {
            // Every position inside every container: before each child, or at its end.
            let cands: Vec<(usize, usize)> = (0..d.els.len())
                .filter(|&i| !d.els[i].leaf)
                .flat_map(|i| {
                    d.els[i]
                        .children
                        .iter()
                        .map(|&c| (i, d.els[c].first))
                        .chain(std::iter::once((i, d.els[i].last)))
                        .collect::<Vec<_>>()
                })
                .collect();
            let (parent, at) = pick_of(&cands, pick)?;
            let indent = format!("{}  ", d.indent(parent));
            out(
                d.insert_lines(
                    at,
                    vec![format!(
                        "{indent}<anteckning>Fiktiv anteckning</anteckning>"
                    )],
                ),
                class,
                format!("anteckning added in {}", d.path(parent)),
                Expected::schema("unexpected-element", &[]),
            )
        }
        C::UnknownAttribute => {
            let cands: Vec<usize> = (0..d.els.len()).collect();
            let i = pick_of(&cands, pick)?;
            out(
                d.add_attribute(i, "fiktiv=\"1\""),
                class,
                format!("attribute fiktiv on {}", d.path(i)),
                Expected::schema("attribute", &[]),
            )
        }
        C::StrayText => {
            let cands: Vec<usize> = (0..d.els.len()).filter(|&i| !d.els[i].leaf).collect();
            let i = pick_of(&cands, pick)?;
            out(
                d.insert_lines(d.els[i].first + 1, vec!["fiktiv text".into()]),
                class,
                format!("text in {}", d.path(i)),
                Expected::schema("text", &[]),
            )
        }
        C::UnescapedAmpersand => {
            let i = pick_of(&leaves(&d, TEXT_FIELDS), pick)?;
            out(
                d.set_value(i, "Fiktiv & Co"),
                class,
                format!("{} = Fiktiv & Co (raw)", d.path(i)),
                Expected::rules(&["EIOA-X001"]),
            )
        }
        C::EncodingMismatch => {
            let mut n2 = n.clone();
            if xml.is_ascii() {
                n2.person.fornamn = "Märta".into();
            }
            let x = n2
                .to_xml()
                .replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
            out(
                x,
                class,
                "UTF-8 bytes declared ISO-8859-1".into(),
                Expected::rules(&["EIOA-X002"]),
            )
        }
        C::Truncated => {
            let lo = d.lines[0].len() + 1 + d.lines[1].len() + 1;
            let hi = xml.rfind('>')?;
            let mut cut = lo + (hi - lo) * (pick % 1024) / 1024;
            while !xml.is_char_boundary(cut) {
                cut -= 1;
            }
            out(
                xml[..cut].to_string(),
                class,
                format!("cut after byte {cut} of {}", xml.len()),
                Expected::rules(&["EIOA-X001"]),
            )
        }
        C::Doctype => out(
            d.insert_lines(1, vec!["<!DOCTYPE AnmalanFranArbetsgivare>".into()]),
            class,
            "DOCTYPE after the XML declaration".into(),
            Expected::rules(&["EIOA-X005"]),
        ),
        C::PlaceholderPersonnummer => {
            let i = pick_of(&leaves(&d, &["personnummer"]), pick)?;
            out(
                d.set_value(i, "YYYYMMDDXXXX"),
                class,
                format!("{} = YYYYMMDDXXXX", d.path(i)),
                Expected::schema("pattern", &["EIOA-R005"]),
            )
        }
        C::PlaceholderOrgnr => {
            let i = pick_of(&leaves(&d, &["organisationsnummer"]), pick)?;
            out(
                d.set_value(i, "1234567890"),
                class,
                format!("{} = 1234567890", d.path(i)),
                Expected::rules(&["EIOA-R005"]),
            )
        }
        C::NilUuid => {
            let i = d.find("id").next()?;
            out(
                d.set_value(i, "00000000-0000-0000-0000-000000000000"),
                class,
                "nil UUID".into(),
                Expected::rules(&["EIOA-R005"]),
            )
        }
        C::AssistantIsPerson => {
            let mut n2 = n.clone();
            n2.person.personnummer = n.assistent.personnummer.clone();
            out(
                n2.to_xml(),
                class,
                format!("both personnummer {}", n.assistent.personnummer),
                Expected::rules(&["EIOA-R007"]),
            )
        }
        C::Under18 => {
            let b = birth_of(&n.assistent.personnummer)?;
            let day_before = values::eighteenth_birthday(b).previous_day()?;
            let mut n2 = n.clone();
            n2.assistent.anstallningsdatum = day_before.to_string();
            out(
                n2.to_xml(),
                class,
                format!("born {b}, anstallningsdatum {day_before}"),
                Expected::rules(&["EIOA-R006"]),
            )
        }
        C::ChangeBeforeEmployment => {
            let anst = parse_xs_date(&n.assistent.anstallningsdatum)?;
            let before = anst.previous_day()?;
            let mut n2 = n.clone();
            n2.assistent.andring_galler_from = Some(before.to_string());
            out(
                n2.to_xml(),
                class,
                format!("andringGallerFrom {before}, anstallningsdatum {anst}"),
                Expected::rules(&["EIOA-R008"]),
            )
        }
        C::EmptyName => {
            let i = pick_of(&leaves(&d, TEXT_FIELDS), pick)?;
            out(
                d.set_value(i, ""),
                class,
                format!("{} empty", d.path(i)),
                Expected::rules(&["EIOA-R014"]),
            )
        }
        C::PhoneLetters => {
            let i = pick_of(
                &leaves(&d, &["telefonnummer", "telefonnummerAnordnare"]),
                pick,
            )?;
            out(
                d.set_value(i, "08-FIKTIV1"),
                class,
                format!("{} = 08-FIKTIV1", d.path(i)),
                Expected::rules(&["EIOA-R016"]),
            )
        }
        C::LexicalVariant => lexical_variant(n, &d, pick)?,
        C::XsiNil => {
            let cands: Vec<usize> = (1..d.els.len()).filter(|&i| d.els[i].leaf).collect();
            let i = pick_of(&cands, pick)?;
            let value = if pick / 2 % 2 == 0 { "false" } else { "true" };
            out(
                d.add_attribute(
                    i,
                    &format!("xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"{value}\""),
                ),
                class,
                format!("xsi:nil=\"{value}\" on {}", d.path(i)),
                Expected {
                    errors: ["EIOA-S001".to_string()].into(),
                    s001_kinds: None,
                },
            )
        }
    };
    let _ = root;
    Some(m)
}

/// Allowed spellings the generator never writes; the document stays valid.
fn lexical_variant(n: &Notification, d: &Doc, pick: usize) -> Option<Mutated> {
    let class = MutationClass::LexicalVariant;
    let valid = Expected::valid();
    let first = |name: &str| d.find(name).next();
    let variant = pick % 9;
    let (xml, detail) = match variant {
        0 | 1 => {
            let i = first("anstallningsdatum")?;
            let tz = if variant == 0 { "Z" } else { "+01:00" };
            (d.set_value(i, &format!("{}{tz}", d.value(i))), format!("anstallningsdatum with time zone {tz}"))
        }
        2 => {
            let i = first("narstaende")?;
            let v = if n.assistent.narstaende { "1" } else { "0" };
            (d.set_value(i, v), format!("narstaende = {v}"))
        }
        3 => {
            let i = first("personnummer")?;
            (d.set_value(i, &format!("\n      {}\t ", d.value(i))), "white space around a personnummer (xs:token)".into())
        }
        4 => {
            let i = first("efternamn")?;
            let raw = n.person.efternamn.replace("]]>", "");
            if raw != n.person.efternamn {
                return None;
            }
            (d.set_value(i, &format!("<![CDATA[{raw}]]>")), "efternamn in CDATA".into())
        }
        5 => {
            let i = first("fornamn")?;
            let v = &n.person.fornamn;
            let c = v.chars().next()?;
            let rest: String = eioa_model_escape(&v[c.len_utf8()..]);
            (d.set_value(i, &format!("&#{};{rest}", c as u32)), "fornamn starts with a character reference".into())
        }
        6 => {
            let i = first("telefonnummerAnordnare")?;
            let v = d.value(i);
            let (a, b) = v.split_at(v.len() / 2);
            let mut lines = d.lines.clone();
            let at = d.els[i].first;
            lines.insert(at, format!("{}<!-- fiktiv kommentar -->", d.indent(i)));
            let doc = Doc::render(&lines);
            let doc = doc.replacen(&format!(">{v}<"), &format!(">{a}<!-- k -->{b}<"), 1);
            (doc, "comments between elements and inside a value".into())
        }
        7 => (Doc::render(&d.lines).replace('\n', "\r\n"), "CRLF line endings".into()),
        _ => (
            d.add_attribute(
                0,
                &format!("xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"{PAYLOAD_NS} anmalan_fran_arbetsgivare_extern_v1.xsd\""),
            ),
            "xsi:schemaLocation with a namespace/location pair".into(),
        ),
    };
    Some(out(xml, class, detail, valid))
}

fn eioa_model_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Valid notifications and one mutation of `class` applied to each, with the
/// mutation site shrinking towards the first candidate.
pub fn mutated(class: MutationClass, today: Date) -> BoxedStrategy<(Notification, Mutated)> {
    (strategy::notification(today), 0usize..4096)
        .prop_filter_map("the class applies to the notification", move |(n, pick)| {
            apply(class, &n, pick).map(|m| (n, m))
        })
        .boxed()
}
