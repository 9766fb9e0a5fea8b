//! XML -> model, as strict as the payload schema: element names, namespace, order,
//! cardinality, no stray text or attributes, and the simple types' lexical rules.
//! It shares no code with libxml2, which makes it a useful differential oracle.

use crate::{
    Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person, PAYLOAD_NS,
    PAYLOAD_ROOT,
};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Deeper than any valid notification (4 levels) by far; stops stack abuse early.
const MAX_DEPTH: usize = 64;

/// Why a document is not a valid notification, with the element path it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParseError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default)]
struct Elem {
    ns: Option<String>,
    name: String,
    children: Vec<Elem>,
    text: String,
    /// Non-whitespace text seen between child elements.
    stray_text: bool,
}

fn err(path: &str, message: impl Into<String>) -> ParseError {
    ParseError {
        path: path.to_string(),
        message: message.into(),
    }
}

fn parse_tree(xml: &str) -> Result<Elem, ParseError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Elem> = None;
    loop {
        let (ns, ev) = reader
            .read_resolved_event()
            .map_err(|e| err("/", format!("not well-formed: {e}")))?;
        match ev {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(err("/", "content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(err("/", "nested too deeply"));
                }
                let ns = match ns {
                    ResolveResult::Bound(n) => {
                        Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                    }
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => {
                        return Err(err(
                            "/",
                            format!("undeclared prefix `{}`", String::from_utf8_lossy(&p)),
                        ))
                    }
                };
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| err(&name, format!("bad attribute: {e}")))?;
                    let key = attr.key;
                    if key.as_ref() == b"xmlns"
                        || key.prefix().is_some_and(|p| p.as_ref() == b"xmlns")
                    {
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(key);
                    let is_xsi =
                        matches!(ans, ResolveResult::Bound(n) if n.as_ref() == XSI_NS.as_bytes());
                    let local = local.as_ref();
                    if !(is_xsi
                        && (local == b"schemaLocation" || local == b"noNamespaceSchemaLocation"))
                    {
                        return Err(err(
                            &name,
                            format!(
                                "attribute `{}` is not allowed",
                                String::from_utf8_lossy(key.as_ref())
                            ),
                        ));
                    }
                }
                stack.push(Elem {
                    ns,
                    name,
                    ..Elem::default()
                });
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(err("/", "unbalanced end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| err("/", format!("bad text: {e}")))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                push_text(&mut stack, &text)?;
            }
            Event::DocType(_) => {
                return Err(err("/", "a DOCTYPE is not allowed in a notification"));
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(err("/", "not well-formed: unclosed element"));
    }
    root.ok_or_else(|| err("/", "no root element"))
}

fn push_text(stack: &mut [Elem], text: &str) -> Result<(), ParseError> {
    match stack.last_mut() {
        Some(e) => {
            if !e.children.is_empty() && !text.trim().is_empty() {
                e.stray_text = true;
            }
            e.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(err("/", "text outside the root element")),
    }
}

/// Walks the children of one complex element in schema order.
struct Seq<'a> {
    path: String,
    items: &'a [Elem],
    pos: usize,
}

impl<'a> Seq<'a> {
    fn new(e: &'a Elem, path: &str) -> Result<Self, ParseError> {
        if e.stray_text || (!e.text.trim().is_empty()) {
            return Err(err(path, "text is not allowed in element-only content"));
        }
        for c in &e.children {
            if c.ns.as_deref() != Some(PAYLOAD_NS) {
                return Err(err(
                    &format!("{path}/{}", c.name),
                    format!("element `{}` is not in the payload namespace", c.name),
                ));
            }
        }
        Ok(Seq {
            path: path.to_string(),
            items: &e.children,
            pos: 0,
        })
    }
    fn peek(&self) -> Option<&'a str> {
        self.items.get(self.pos).map(|e| e.name.as_str())
    }
    fn optional(&mut self, name: &str) -> Option<&'a Elem> {
        if self.peek() == Some(name) {
            self.pos += 1;
            Some(&self.items[self.pos - 1])
        } else {
            None
        }
    }
    fn required(&mut self, name: &str) -> Result<&'a Elem, ParseError> {
        self.optional(name).ok_or_else(|| match self.peek() {
            Some(other) => err(
                &format!("{}/{other}", self.path),
                format!("expected `{name}`, found `{other}`"),
            ),
            None => err(&self.path, format!("missing `{name}`")),
        })
    }
    fn end(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(other) => Err(err(
                &format!("{}/{other}", self.path),
                format!("unexpected element `{other}`"),
            )),
        }
    }
    fn child_path(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }
    fn leaf(&mut self, name: &str) -> Result<String, ParseError> {
        let e = self.required(name)?;
        leaf_text(e, &self.child_path(name))
    }
    fn opt_leaf(&mut self, name: &str) -> Result<Option<String>, ParseError> {
        match self.optional(name) {
            Some(e) => leaf_text(e, &self.child_path(name)).map(Some),
            None => Ok(None),
        }
    }
}

fn leaf_text(e: &Elem, path: &str) -> Result<String, ParseError> {
    if let Some(c) = e.children.first() {
        return Err(err(
            &format!("{path}/{}", c.name),
            "a simple-typed element has no child elements",
        ));
    }
    Ok(e.text.clone())
}

/// xs:token whitespace collapse.
fn collapse(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn digits(path: &str, raw: &str, n: usize) -> Result<String, ParseError> {
    let v = collapse(raw);
    if v.len() == n && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(v)
    } else {
        Err(err(path, format!("`{v}` is not {n} digits")))
    }
}

fn uuid(path: &str, v: &str) -> Result<(), ParseError> {
    let ok = v.len() == 36
        && v.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        });
    if ok {
        Ok(())
    } else {
        Err(err(path, format!("`{v}` is not a lowercase UUID")))
    }
}

fn telefon(path: &str, v: &str) -> Result<(), ParseError> {
    // XSD `.{7,}`: `.` matches anything but a line break.
    if v.chars().count() >= 7 && !v.contains(['\n', '\r']) {
        Ok(())
    } else {
        Err(err(path, format!("`{v}` does not match .{{7,}}")))
    }
}

fn marker(path: &str, v: &str) -> Result<(), ParseError> {
    if v == "true" {
        Ok(())
    } else {
        Err(err(
            path,
            format!("`{v}` is not the only allowed value `true`"),
        ))
    }
}

fn boolean(path: &str, raw: &str) -> Result<bool, ParseError> {
    match collapse(raw).as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        v => Err(err(path, format!("`{v}` is not a boolean"))),
    }
}

/// The xs:date lexical space: `-?YYYY-MM-DD` with an optional time zone, a real day.
pub(crate) fn is_xs_date(raw: &str) -> bool {
    let v = collapse(raw);
    let s = v.strip_prefix('-').unwrap_or(&v);
    let Some((year, rest)) = s.split_once('-') else {
        return false;
    };
    if year.len() < 4
        || !year.bytes().all(|b| b.is_ascii_digit())
        || (year.len() > 4 && year.starts_with('0'))
    {
        return false;
    }
    // `get`, not `split_at`: the fifth byte may sit inside a multi-byte character.
    let (Some(md), Some(tz)) = (rest.get(..5), rest.get(5..)) else {
        return false;
    };
    let b = md.as_bytes();
    if b[2] != b'-' || !b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) {
        return false;
    }
    let month: u32 = md[..2].parse().unwrap_or(0);
    let day: u32 = md[3..].parse().unwrap_or(0);
    let y: i64 = year.parse().unwrap_or(0);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > max || y == 0 {
        return false;
    }
    match tz {
        "" | "Z" => true,
        _ => {
            let t = tz.as_bytes();
            t.len() == 6
                && (t[0] == b'+' || t[0] == b'-')
                && t[3] == b':'
                && t[1..3].iter().chain(&t[4..]).all(u8::is_ascii_digit)
                && {
                    let h: u32 = tz[1..3].parse().unwrap_or(99);
                    let m: u32 = tz[4..].parse().unwrap_or(99);
                    m < 60 && (h < 14 || (h == 14 && m == 0))
                }
        }
    }
}

fn date(path: &str, raw: String) -> Result<String, ParseError> {
    if is_xs_date(&raw) {
        Ok(raw)
    } else {
        Err(err(path, format!("`{raw}` is not an xs:date (YYYY-MM-DD)")))
    }
}

pub(crate) fn notification(xml: &str) -> Result<Notification, ParseError> {
    let root = parse_tree(xml)?;
    let rp = format!("/{}", root.name);
    if root.ns.as_deref() != Some(PAYLOAD_NS) || root.name != PAYLOAD_ROOT {
        return Err(err(
            &rp,
            format!("root element must be `{PAYLOAD_ROOT}` in namespace {PAYLOAD_NS}"),
        ));
    }
    let mut s = Seq::new(&root, &rp)?;
    let id = s.leaf("id")?;
    uuid(&s.child_path("id"), &id)?;

    let pe = s.required("personSomHarAssistans")?;
    let person = person(pe, &s.child_path("personSomHarAssistans"))?;

    let ae = s.required("assistent")?;
    let assistent = assistent(ae, &s.child_path("assistent"))?;

    let arbetsgivare = if let Some(m) = s.optional("anstalldAvPersonSomHarAssistans") {
        let p = s.child_path("anstalldAvPersonSomHarAssistans");
        marker(&p, &leaf_text(m, &p)?)?;
        Arbetsgivare::PersonSomHarAssistans
    } else if let Some(e) = s.optional("assistansanordnare") {
        Arbetsgivare::Anordnare(anordnare(e, &s.child_path("assistansanordnare"))?)
    } else {
        return Err(match s.peek() {
            Some(o) => err(&s.child_path(o), format!("expected `anstalldAvPersonSomHarAssistans` or `assistansanordnare`, found `{o}`")),
            None => err(&rp, "missing `anstalldAvPersonSomHarAssistans` or `assistansanordnare`"),
        });
    };
    let tel = s.leaf("telefonnummerAnordnare")?;
    telefon(&s.child_path("telefonnummerAnordnare"), &tel)?;
    s.end()?;
    Ok(Notification {
        id,
        person,
        assistent,
        arbetsgivare,
        telefonnummer_anordnare: tel,
    })
}

fn person(e: &Elem, path: &str) -> Result<Person, ParseError> {
    let mut s = Seq::new(e, path)?;
    let pnr = digits(&s.child_path("personnummer"), &s.leaf("personnummer")?, 12)?;
    let fornamn = s.leaf("fornamn")?;
    let efternamn = s.leaf("efternamn")?;
    s.end()?;
    Ok(Person {
        personnummer: pnr,
        fornamn,
        efternamn,
    })
}

fn assistent(e: &Elem, path: &str) -> Result<Assistent, ParseError> {
    let mut s = Seq::new(e, path)?;
    let pnr = digits(&s.child_path("personnummer"), &s.leaf("personnummer")?, 12)?;
    let fornamn = s.leaf("fornamn")?;
    let efternamn = s.leaf("efternamn")?;
    let anst = date(
        &s.child_path("anstallningsdatum"),
        s.leaf("anstallningsdatum")?,
    )?;
    let narstaende = boolean(&s.child_path("narstaende"), &s.leaf("narstaende")?)?;
    let bosatt = if let Some(m) = s.optional("bosattInnanforEES") {
        let p = s.child_path("bosattInnanforEES");
        marker(&p, &leaf_text(m, &p)?)?;
        Bosatt::InnanforEes
    } else if let Some(u) = s.optional("bosattUtanforEES") {
        let p = s.child_path("bosattUtanforEES");
        let mut us = Seq::new(u, &p)?;
        let m = us.leaf("bosattUtanfor")?;
        marker(&us.child_path("bosattUtanfor"), &m)?;
        let adress = us.leaf("adress")?;
        us.end()?;
        Bosatt::UtanforEes { adress }
    } else {
        return Err(match s.peek() {
            Some(o) => err(
                &s.child_path(o),
                format!("expected `bosattInnanforEES` or `bosattUtanforEES`, found `{o}`"),
            ),
            None => err(path, "missing `bosattInnanforEES` or `bosattUtanforEES`"),
        });
    };
    let andring = match s.opt_leaf("andringGallerFrom")? {
        Some(v) => Some(date(&s.child_path("andringGallerFrom"), v)?),
        None => None,
    };
    s.end()?;
    Ok(Assistent {
        personnummer: pnr,
        fornamn,
        efternamn,
        anstallningsdatum: anst,
        narstaende,
        bosatt,
        andring_galler_from: andring,
    })
}

fn anordnare(e: &Elem, path: &str) -> Result<Anordnare, ParseError> {
    let mut s = Seq::new(e, path)?;
    let namn = s.opt_leaf("anordnareNamn")?;
    let org = digits(
        &s.child_path("organisationsnummer"),
        &s.leaf("organisationsnummer")?,
        10,
    )?;
    let kontaktperson = s.opt_leaf("kontaktperson")?;
    let telefonnummer = s.opt_leaf("telefonnummer")?;
    if let Some(t) = &telefonnummer {
        telefon(&s.child_path("telefonnummer"), t)?;
    }
    let anstallning = if let Some(m) = s.optional("assistentAnstalldAvAnordnare") {
        let p = s.child_path("assistentAnstalldAvAnordnare");
        marker(&p, &leaf_text(m, &p)?)?;
        Anstallning::AnstalldAvAnordnare
    } else if let Some(a) = s.optional("annanArbetsgivare") {
        let p = s.child_path("annanArbetsgivare");
        let mut a = Seq::new(a, &p)?;
        let namn = a.opt_leaf("arbetsgivareNamn")?;
        let org = digits(
            &a.child_path("organisationsnummer"),
            &a.leaf("organisationsnummer")?,
            10,
        )?;
        a.end()?;
        Anstallning::AnnanArbetsgivare {
            namn,
            organisationsnummer: org,
        }
    } else if let Some(m) = s.optional("assistentEgenForetagare") {
        let p = s.child_path("assistentEgenForetagare");
        marker(&p, &leaf_text(m, &p)?)?;
        Anstallning::EgenForetagare
    } else {
        return Err(match s.peek() {
            Some(o) => err(&s.child_path(o), format!("expected `assistentAnstalldAvAnordnare`, `annanArbetsgivare` or `assistentEgenForetagare`, found `{o}`")),
            None => err(path, "missing `assistentAnstalldAvAnordnare`, `annanArbetsgivare` or `assistentEgenForetagare`"),
        });
    };
    s.end()?;
    Ok(Anordnare {
        namn,
        organisationsnummer: org,
        kontaktperson,
        telefonnummer,
        anstallning,
    })
}

#[cfg(test)]
mod tests {
    use super::is_xs_date;

    #[test]
    fn xs_date_lexical_space() {
        for ok in [
            "2024-02-29",
            "2023-01-31Z",
            "2023-01-31+01:00",
            "12023-01-01",
            "-0044-03-15",
        ] {
            assert!(is_xs_date(ok), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "2023-1-01",
            "2023-13-01",
            "20230101",
            "2023-01-01T00:00",
            "0000-01-01",
            "2023-01-01+15:00",
            // Multi-byte characters where the month and day are read (issue 11, item 12).
            "2024-0000é",
            "2024-00é",
            "2024-é1-01",
            "2024-01-01+0é:00",
        ] {
            assert!(!is_xs_date(bad), "{bad}");
        }
    }
}
