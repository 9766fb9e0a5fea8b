//! A small namespace-aware element tree over untrusted signature XML.

use crate::SignatureError;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

const MAX_DEPTH: usize = 64;
const MAX_ELEMENTS: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct Elem {
    pub ns: Option<String>,
    pub local: String,
    /// Unqualified attributes (`Id`, `URI`, `Algorithm`, ...).
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Elem>,
    pub text: String,
}

impl Elem {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn child(&self, ns: &str, local: &str) -> Option<&Elem> {
        self.children.iter().find(|c| c.is(ns, local))
    }
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Elem> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }
    /// Depth-first, document order.
    pub fn walk<'a>(&'a self, out: &mut Vec<&'a Elem>) {
        out.push(self);
        for c in &self.children {
            c.walk(out);
        }
    }
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Elem, SignatureError> {
    let bad = |m: String| SignatureError::MalformedXml(m);
    let xml = std::str::from_utf8(bytes).map_err(|_| bad("not utf-8 text".into()))?;
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Elem> = Vec::new();
    let mut root = None;
    let mut count = 0usize;
    loop {
        let (ns, ev) = reader
            .read_resolved_event()
            .map_err(|e| bad(e.to_string()))?;
        match ev {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(bad("content after the root element".into()));
                }
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(bad("too many or too deeply nested elements".into()));
                }
                let ns = match ns {
                    ResolveResult::Bound(n) => {
                        Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                    }
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => {
                        return Err(bad(format!(
                            "undeclared namespace prefix `{}`",
                            String::from_utf8_lossy(&p)
                        )))
                    }
                };
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| bad(e.to_string()))?;
                    if attr.key.prefix().is_some() || attr.key.as_ref() == b"xmlns" {
                        continue;
                    }
                    let value = attr
                        .unescape_value()
                        .map_err(|e| bad(e.to_string()))?
                        .into_owned();
                    attrs.push((
                        String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
                        value,
                    ));
                }
                let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Elem {
                    ns,
                    local,
                    attrs,
                    ..Elem::default()
                });
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| bad("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| bad(e.to_string()))?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                push_text(&mut stack, &text)?;
            }
            Event::DocType(_) => return Err(bad("a DOCTYPE is not allowed".into())),
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::Empty(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(bad("unclosed element at end of input".into()));
    }
    root.ok_or_else(|| bad("no root element".into()))
}

fn push_text(stack: &mut [Elem], text: &str) -> Result<(), SignatureError> {
    match stack.last_mut() {
        Some(e) => {
            e.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(SignatureError::MalformedXml(
            "text outside the root element".into(),
        )),
    }
}

/// Escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
