//! Business rules (`EIOA-R###`): what FK's FAQ and form 3066 require beyond the
//! schema. They run on every well-formed document, schema-valid or not, so that a
//! placeholder is named as a placeholder rather than only as a pattern violation.
//!
//! Every rule is listed in [`RULES`] and documented in `docs/rules.md` with a
//! document that triggers it (`fixtures/invalid/<rule-id>/`).

use crate::finding::{Finding, Severity};
use crate::tree::{Kind, Node, Tree};
use eioa_model::ident::{self, IdentityError, OrgError, OrgKind};
use eioa_model::PAYLOAD_NS;
use std::borrow::Cow;
use time::Date;

/// A rule's stable description, for `eioa rules` and the docs.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub hint: &'static str,
}

macro_rules! rules {
    ($($konst:ident = $id:literal, $name:literal, $sev:ident, $summary:literal, $hint:literal;)*) => {
        $(pub const $konst: RuleInfo = RuleInfo {
            id: $id, name: $name, severity: Severity::$sev, summary: $summary, hint: $hint,
        };)*
        /// Every rule the validator knows: XML-level, schema and business rules.
        pub const RULES: &[RuleInfo] = &[$($konst),*];
    };
}

rules! {
    X001 = "EIOA-X001", "not-well-formed", Error,
        "The document is not well-formed XML.",
        "Fix the XML syntax at the position shown.";
    X002 = "EIOA-X002", "encoding-mismatch", Error,
        "The bytes do not match the encoding the document declares (or implies), or the encoding is one the harness does not read (UTF-7, UTF-32, EBCDIC…); such a document is never parsed.",
        "Save the file as UTF-8 and declare encoding=\"UTF-8\" (or nothing).";
    X003 = "EIOA-X003", "empty-document", Error,
        "The document is empty.",
        "Send the notification XML itself.";
    X004 = "EIOA-X004", "too-large", Error,
        "The document is larger than the size limit (default 1 MiB); it is not parsed.",
        "Check that the file is one notification.";
    X005 = "EIOA-X005", "doctype", Error,
        "The document carries a DOCTYPE (DTD, entity declarations). Entities are never resolved.",
        "Remove the <!DOCTYPE …> declaration.";
    X006 = "EIOA-X006", "byte-order-mark", Warning,
        "The document starts with a byte order mark.",
        "Write UTF-8 without a BOM.";
    X007 = "EIOA-X007", "not-utf8", Warning,
        "The document is, or declares itself, in an encoding other than UTF-8.",
        "Encode notifications as UTF-8.";
    X008 = "EIOA-X008", "too-many-attributes", Error,
        "An element carries more than 64 attributes; the document is not parsed (parsers slow down quadratically).",
        "Remove the attributes: a notification's elements carry none besides namespace declarations.";
    S000 = "EIOA-S000", "schema-set", Error,
        "The schema set itself could not be compiled or used, so the document was not checked against it; never the document's fault.",
        "Check the schema set with `eioa schema show`; import FK's files again or use the embedded set.";
    S001 = "EIOA-S001", "schema", Error,
        "The document does not conform to the payload schema (element order, names, namespace, types, patterns).",
        "Follow the schema; the finding's kind says what is wrong.";
    R001 = "EIOA-R001", "identity-date", Error,
        "A personnummer or samordningsnummer does not hold a real calendar date.",
        "Check the number's first eight digits (YYYYMMDD; samordningsnummer: day + 60).";
    R002 = "EIOA-R002", "identity-check-digit", Error,
        "A personnummer or samordningsnummer has the wrong check digit (Luhn).",
        "Check the number for a typing error; the last digit is computed from the other ten.";
    R003 = "EIOA-R003", "orgnr-check-digit", Error,
        "An organisationsnummer has the wrong check digit (Luhn).",
        "Check the organisationsnummer for a typing error.";
    R004 = "EIOA-R004", "orgnr-is-personnummer", Warning,
        "An organisationsnummer's third digit is below 2: it is a sole trader's personnummer.",
        "Right for an enskild firma; otherwise use the company's organisationsnummer.";
    R005 = "EIOA-R005", "placeholder", Error,
        "A value is a placeholder from FK's FAQ example or an obvious dummy (YYYYMMDDXXXX, 1234567890, …).",
        "Replace the placeholder with the real value.";
    R006 = "EIOA-R006", "assistant-under-18", Error,
        "The assistant is younger than 18 on anstallningsdatum; form 3066 requires an adult assistant.",
        "Check the assistant's personnummer and anstallningsdatum.";
    R007 = "EIOA-R007", "assistant-is-person", Error,
        "The assistant has the same personnummer as the person who has assistance.",
        "The assistant and the person who has assistance are two different people.";
    R008 = "EIOA-R008", "change-before-employment", Error,
        "andringGallerFrom is before anstallningsdatum.",
        "A change cannot apply before the employment began; check both dates.";
    R009 = "EIOA-R009", "implausible-date", Warning,
        "A date is implausible: far in the future, before personal assistance existed (1994), or a birth date in the future or more than 120 years ago.",
        "Check the date for a typing error.";
    R010 = "EIOA-R010", "id-not-lowercase-uuid", Error,
        "The notification id is not a lowercase UUID (8-4-4-4-12 hex digits).",
        "Write the id as a lowercase UUID without braces.";
    R011 = "EIOA-R011", "id-not-random", Warning,
        "The notification id is a UUID but not a random (version 4) one; ids must be unique per notification.",
        "Generate ids with a random UUID (v4) generator.";
    R012 = "EIOA-R012", "one-assistant-per-file", Error,
        "The file holds more than one assistant or more than one person; FK takes one of each per file.",
        "Send one notification per assistant.";
    R013 = "EIOA-R013", "marker-false", Error,
        "A marker that can only be `true` is sent as `false`; leave the marker out and choose the other branch instead.",
        "Send the element of the branch that applies, with the value true.";
    R014 = "EIOA-R014", "empty-name", Error,
        "A name or text field is empty or only white space.",
        "Fill in the field, or leave out the element where it is optional.";
    R015 = "EIOA-R015", "padded-text", Warning,
        "A name or text field has leading, trailing or repeated white space.",
        "Trim the value before writing the XML.";
    R016 = "EIOA-R016", "phone-letters", Error,
        "A telephone number contains letters.",
        "Use digits, spaces, +, - and parentheses only.";
    R017 = "EIOA-R017", "schema-location", Warning,
        "xsi:schemaLocation is not a list of namespace/location pairs (FK's FAQ example lacks the space between them).",
        "Separate the namespace and the file name with a space, or drop the attribute.";
}

/// Values from FK's FAQ example and other obvious dummies, by field kind.
const IDENTITY_PLACEHOLDERS: &[&str] = &[
    "YYYYMMDDXXXX",
    "YYYYMMDDNNNN",
    "ÅÅÅÅMMDDXXXX",
    "ÅÅÅÅMMDDNNNN",
    "YYYYMMDD-XXXX",
    "YYYYMMDDXXXXX",
    "123456789012",
    "000000000000",
    "111111111111",
    "999999999999",
    "XXXXXXXXXXXX",
];
const ORG_PLACEHOLDERS: &[&str] = &[
    "1234567890",
    "0000000000",
    "1111111111",
    "9999999999",
    "XXXXXXXXXX",
    "NNNNNNNNNN",
];
const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

struct Ctx<'a> {
    tree: &'a Tree<'a>,
    today: Date,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    fn push(&mut self, rule: &RuleInfo, node: &Node, message: String) {
        self.out.push(Finding {
            rule: rule.id.into(),
            severity: rule.severity,
            line: node.line,
            column: self.tree.column(node),
            path: Some(self.tree.path(node)),
            message,
            hint: Some(rule.hint.into()),
            kind: None,
        });
    }
}

fn text<'a>(n: &'a Node<'_>) -> &'a str {
    &n.text
}

pub(crate) fn check(tree: &Tree<'_>, today: Date) -> Vec<Finding> {
    let Some(root) = tree.root() else {
        return vec![];
    };
    if tree.ns.as_deref() != Some(PAYLOAD_NS) {
        // Not a payload at all (a SOAP envelope, another schema): the schema finding says it.
        return vec![];
    }
    let mut c = Ctx {
        tree,
        today,
        out: Vec::new(),
    };
    schema_location(&mut c, root);
    id(&mut c, root);
    cardinality(&mut c, root);
    let person = tree.child(root, Kind::PersonSomHarAssistans);
    let assistent = tree.child(root, Kind::Assistent);
    let person_id = person
        .and_then(|p| tree.child(p, Kind::Personnummer))
        .and_then(|n| identity(&mut c, n));
    let assistant_id = assistent
        .and_then(|a| tree.child(a, Kind::Personnummer))
        .and_then(|n| identity(&mut c, n));
    if let (Some(p), Some(a)) = (person, assistent) {
        let pp = tree.child(p, Kind::Personnummer).map(|n| n.text.trim());
        let an = tree.child(a, Kind::Personnummer);
        if let (Some(pp), Some(an)) = (pp, an) {
            // Placeholders are equal too, but R005 already names them.
            if ident::parse_identity(pp).is_ok() && pp == an.text.trim() {
                c.push(&R007, an, format!("the assistant's personnummer {} is the same as the person's who has assistance", pp));
            }
        }
    }
    if let Some(a) = assistent {
        assistant_dates(&mut c, a, assistant_id);
    }
    if let Some(p) = person_id {
        if let Some(n) = person.and_then(|p| tree.child(p, Kind::Personnummer)) {
            birth_plausible(&mut c, n, p);
        }
    }
    for n in tree.all(Kind::Organisationsnummer) {
        orgnr(&mut c, n);
    }
    for kind in [
        Kind::Fornamn,
        Kind::Efternamn,
        Kind::AnordnareNamn,
        Kind::Kontaktperson,
        Kind::ArbetsgivareNamn,
        Kind::Adress,
    ] {
        for n in tree.all(kind) {
            text_field(&mut c, n);
        }
    }
    for kind in [Kind::Telefonnummer, Kind::TelefonnummerAnordnare] {
        for n in tree.all(kind) {
            phone(&mut c, n);
        }
    }
    for kind in [
        Kind::BosattInnanforEES,
        Kind::BosattUtanfor,
        Kind::AnstalldAvPersonSomHarAssistans,
        Kind::AssistentAnstalldAvAnordnare,
        Kind::AssistentEgenForetagare,
    ] {
        for n in tree.all(kind) {
            if n.text.trim() == "false" || n.text.trim() == "0" {
                c.push(
                    &R013,
                    n,
                    format!(
                        "`{}` can only be true; `{}` is not allowed",
                        n.name,
                        n.text.trim()
                    ),
                );
            }
        }
    }
    c.out
}

fn schema_location(c: &mut Ctx<'_>, root: &Node) {
    let Some(v) = c.tree.schema_location.as_deref() else {
        return;
    };
    if v.split_whitespace().count() % 2 == 1 {
        let glued = v.contains(".xsd") && v.split_whitespace().count() == 1;
        let msg = if glued {
            format!("xsi:schemaLocation `{v}` has no space between the namespace and the file name (as in FK's FAQ example)")
        } else {
            format!("xsi:schemaLocation `{v}` is not a list of namespace/location pairs")
        };
        c.push(&R017, root, msg);
    }
}

fn id(c: &mut Ctx<'_>, root: &Node) {
    let Some(n) = c.tree.child(root, Kind::Id) else {
        return;
    };
    let v = n.text.trim();
    let lower: Cow<'_, str> = if v.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(v.to_ascii_lowercase())
    } else {
        Cow::Borrowed(v)
    };
    let stripped = lower.trim_start_matches('{').trim_end_matches('}');
    let is_uuid = |s: &str| {
        s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    if v != n.text || !is_uuid(v) || v != lower {
        if is_uuid(stripped) {
            c.push(&R010, n, format!("id `{}` is a UUID but must be written in lowercase without braces or spaces: `{stripped}`", n.text));
        } else if v.is_empty() {
            c.push(&R010, n, "id is empty".into());
        } else {
            c.push(&R010, n, format!("id `{v}` is not a UUID"));
        }
        return;
    }
    if v == NIL_UUID {
        c.push(&R005, n, format!("id `{v}` is the nil UUID, a placeholder"));
    } else if &v[14..15] != "4" || !matches!(&v[19..20], "8" | "9" | "a" | "b") {
        c.push(
            &R011,
            n,
            format!(
                "id `{v}` is a version {} UUID, not a random (v4) one",
                &v[14..15]
            ),
        );
    }
}

fn cardinality(c: &mut Ctx<'_>, root: &Node) {
    for kind in [Kind::Assistent, Kind::PersonSomHarAssistans] {
        let mut all = c.tree.children(root).filter(|n| n.kind == kind);
        if let (Some(_), Some(second)) = (all.next(), all.next()) {
            let count = 2 + all.count();
            let what = if kind == Kind::Assistent {
                "assistants"
            } else {
                "persons who have assistance"
            };
            c.push(
                &R012,
                second,
                format!("the file holds {count} {what}; FK takes one per file"),
            );
        }
    }
}

/// `v` in upper case; digits only (the usual value) are their own upper case.
fn upper_unless_digits(v: &str) -> Cow<'_, str> {
    if v.bytes().all(|b| b.is_ascii_digit()) {
        Cow::Borrowed(v)
    } else {
        Cow::Owned(v.to_uppercase())
    }
}

/// Checks a 12-digit identity; returns its birth date when valid.
fn identity(c: &mut Ctx<'_>, n: &Node) -> Option<Date> {
    let v = n.text.trim();
    let upper = upper_unless_digits(v);
    if IDENTITY_PLACEHOLDERS.contains(&&*upper) || IDENTITY_PLACEHOLDERS.contains(&v) {
        c.push(
            &R005,
            n,
            format!("`{v}` is a placeholder (as in FK's FAQ example), not a personnummer"),
        );
        return None;
    }
    match ident::parse_identity(v) {
        Ok(id) => Some(id.birth_date),
        // Not 12 digits: the schema's pattern finding says so.
        Err(IdentityError::Format) => None,
        Err(IdentityError::Date(d)) => {
            c.push(
                &R001,
                n,
                format!("personnummer `{v}` has no such date: {d}"),
            );
            None
        }
        Err(IdentityError::CheckDigit { expected, found }) => {
            c.push(
                &R002,
                n,
                format!("personnummer `{v}` has check digit {found}, expected {expected}"),
            );
            None
        }
    }
}

fn orgnr(c: &mut Ctx<'_>, n: &Node) {
    let v = n.text.trim();
    if ORG_PLACEHOLDERS.contains(&&*upper_unless_digits(v)) {
        c.push(
            &R005,
            n,
            format!("`{v}` is a placeholder (as in FK's FAQ example), not an organisationsnummer"),
        );
        return;
    }
    match ident::parse_orgnr(v) {
        Ok(OrgKind::LegalPerson) | Err(OrgError::Format) => {}
        Ok(OrgKind::SoleTrader) => c.push(
            &R004,
            n,
            format!("organisationsnummer `{v}` has third digit {} (< 2): it is a sole trader's personnummer", &v[2..3]),
        ),
        Err(OrgError::CheckDigit { expected, found }) => {
            c.push(&R003, n, format!("organisationsnummer `{v}` has check digit {found}, expected {expected}"))
        }
    }
}

/// The `YYYY-MM-DD` an xs:date starts with (a time zone may follow). Read by hand:
/// the same as `time`'s `[year]-[month]-[day]` on these ten bytes (exactly four, two
/// and two ASCII digits, a real calendar date), without interpreting a format
/// description for every date.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.trim().as_bytes().get(..10)?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |at: std::ops::Range<usize>| {
        b[at].iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    };
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    Date::from_calendar_date(i32::from(num(0..4)?), month, day).ok()
}

fn assistant_dates(c: &mut Ctx<'_>, a: &Node, birth: Option<Date>) {
    let tree = c.tree;
    let anst_node = tree.child(a, Kind::Anstallningsdatum);
    let anst = anst_node.and_then(|n| parse_date(text(n)));
    if let (Some(n), Some(d), Some(b)) = (anst_node, anst, birth) {
        if let Some(adult) = b.replace_year(b.year() + 18).ok().or_else(|| {
            // 29 February: the 18th birthday is taken as 1 March.
            Date::from_calendar_date(b.year() + 18, time::Month::March, 1).ok()
        }) {
            if d < adult {
                c.push(&R006, n, format!("the assistant, born {b}, is not 18 until {adult}, after anstallningsdatum {d}"));
            }
        }
    }
    if let (Some(n), Some(d)) = (anst_node, anst) {
        plausible(c, n, "anstallningsdatum", d);
    }
    if let Some(an) = tree.child(a, Kind::Personnummer) {
        if let Some(b) = birth {
            birth_plausible(c, an, b);
        }
    }
    let change_node = tree.child(a, Kind::AndringGallerFrom);
    if let Some(n) = change_node {
        if let Some(ch) = parse_date(text(n)) {
            plausible(c, n, "andringGallerFrom", ch);
            if let Some(d) = anst {
                if ch < d {
                    c.push(
                        &R008,
                        n,
                        format!("andringGallerFrom {ch} is before anstallningsdatum {d}"),
                    );
                }
            }
        }
    }
}

fn plausible(c: &mut Ctx<'_>, n: &Node, field: &str, d: Date) {
    let earliest = Date::from_calendar_date(1994, time::Month::January, 1).unwrap_or(Date::MIN);
    let latest = c.today.replace_year(c.today.year() + 1).unwrap_or(c.today);
    if d < earliest {
        c.push(
            &R009,
            n,
            format!("{field} {d} is before personal assistance existed (1994)"),
        );
    } else if d > latest {
        c.push(
            &R009,
            n,
            format!("{field} {d} is more than a year in the future"),
        );
    }
}

fn birth_plausible(c: &mut Ctx<'_>, n: &Node, b: Date) {
    if b > c.today {
        c.push(
            &R009,
            n,
            format!("the personnummer's birth date {b} is in the future"),
        );
    } else if b.year() < c.today.year() - 120 {
        c.push(
            &R009,
            n,
            format!("the personnummer's birth date {b} is more than 120 years ago"),
        );
    }
}

fn text_field(c: &mut Ctx<'_>, n: &Node) {
    if !n.children.is_empty() {
        return;
    }
    let v: &str = &n.text;
    if v.trim().is_empty() {
        c.push(&R014, n, format!("`{}` is empty", n.name));
    } else if v.trim() != v || stray_space(v.as_bytes()) {
        c.push(
            &R015,
            n,
            format!("`{}` has stray white space: `{}`", n.name, v.escape_debug()),
        );
    }
}

/// Two spaces in a row, or a tab or line break (byte loops: a substring search would
/// set up a searcher for every short value).
fn stray_space(v: &[u8]) -> bool {
    v.windows(2).any(|w| w == b"  ") || v.iter().any(|b| matches!(b, b'\t' | b'\n' | b'\r'))
}

fn phone(c: &mut Ctx<'_>, n: &Node) {
    if let Some(ch) = n.text.chars().find(|ch| ch.is_alphabetic()) {
        c.push(
            &R016,
            n,
            format!(
                "telephone number `{}` contains the letter `{ch}`",
                n.text.trim()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_times_format_description_reads_them() {
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        let by_time = |s: &str| Date::parse(s.trim().get(..10)?, &fmt).ok();
        for s in [
            "2024-02-29",
            "2023-02-29",
            "2024-04-31",
            "0000-01-01",
            "9999-12-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-01-32",
            "2024-1-011",
            "+024-01-01",
            "-024-01-01",
            "2024/01/01",
            "2024-01x01",
            "2024x01-01",
            "abcd-ef-gh",
            "2024-01-01Z",
            "2024-01-01+01:00",
            "  2024-03-01\n",
            "2024-01-0",
            "",
            "２０２４-01-01",
            "2024-01-0١",
        ] {
            assert_eq!(parse_date(s), by_time(s), "{s:?}");
        }
    }
}
