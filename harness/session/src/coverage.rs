//! Schema coverage: which choices, optional elements and enumerated values of the
//! payload schema the session's accepted notifications exercised. The items come from
//! the schema set in use (its payload XSD, walked here), so an imported official
//! schema gets its own table; nothing is kept by hand.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use eioa_validate::schema::{Role, SchemaSet};
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

/// What kind of schema branch an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// One alternative of an `xs:choice`.
    Choice,
    /// An element with `minOccurs="0"`.
    Optional,
    /// One value of an enumeration (or of an `xs:boolean`).
    Value,
}

/// One branch of the schema and the exchanges that exercised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageItem {
    pub kind: ItemKind,
    /// Element path from the root, local names joined by `/`.
    pub path: String,
    /// For [`ItemKind::Value`]: the value.
    pub value: Option<String>,
    /// Journal sequence numbers of accepted exchanges whose payload shows it.
    pub seen: Vec<u64>,
}

/// The coverage table of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The schema set the items come from (`id`, provenance and hash).
    pub schema_set: String,
    pub items: Vec<CoverageItem>,
}

impl Coverage {
    pub fn covered(&self) -> usize {
        self.items.iter().filter(|i| !i.seen.is_empty()).count()
    }
}

/// Why the payload schema could not be walked.
#[derive(Debug, thiserror::Error)]
#[error("read the payload schema {file}: {message}")]
pub struct CoverageError {
    pub file: String,
    pub message: String,
}

/// A schema element, reduced to what the walk reads.
#[derive(Debug, Default)]
struct Node {
    local: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
}

fn attrs_of(e: &BytesStart<'_>) -> BTreeMap<String, String> {
    e.attributes()
        .flatten()
        .filter_map(|a| {
            let k = String::from_utf8(a.key.local_name().as_ref().to_vec()).ok()?;
            let v = a.unescape_value().ok()?.into_owned();
            Some((k, v))
        })
        .collect()
}

fn parse_tree(bytes: &[u8]) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match ev {
            Event::Start(e) => stack.push(Node {
                local: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                attrs: attrs_of(&e),
                children: Vec::new(),
            }),
            Event::Empty(e) => {
                let n = Node {
                    local: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    attrs: attrs_of(&e),
                    children: Vec::new(),
                };
                if let Some(top) = stack.last_mut() {
                    top.children.push(n);
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(top) => top.children.push(n),
                    None => return Err("unbalanced end tag".into()),
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let mut root = stack.pop().ok_or("empty document")?;
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    let found = root.children.drain(..).find(|n| n.local == "schema");
    found.ok_or_else(|| "no xs:schema element".to_string())
}

fn local_type(t: &str) -> &str {
    t.rsplit_once(':').map_or(t, |(_, l)| l)
}

struct Walk<'a> {
    complex: BTreeMap<&'a str, &'a Node>,
    simple: BTreeMap<&'a str, &'a Node>,
    items: Vec<CoverageItem>,
    on_stack: HashSet<&'a str>,
}

const MAX_DEPTH: usize = 32;

impl<'a> Walk<'a> {
    fn push(&mut self, kind: ItemKind, path: &str, value: Option<&str>) {
        self.items.push(CoverageItem {
            kind,
            path: path.to_string(),
            value: value.map(str::to_string),
            seen: Vec::new(),
        });
    }

    fn element(&mut self, el: &'a Node, parent: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some(name) = el.attrs.get("name").or(el.attrs.get("ref")) else {
            return;
        };
        let name = local_type(name);
        let path = if parent.is_empty() {
            name.to_string()
        } else {
            format!("{parent}/{name}")
        };
        if el.attrs.get("minOccurs").map(String::as_str) == Some("0") {
            self.push(ItemKind::Optional, &path, None);
        }
        for c in &el.children {
            match c.local.as_str() {
                "complexType" => self.complex_type(c, &path, depth + 1),
                "simpleType" => self.simple_type(c, &path),
                _ => {}
            }
        }
        if let Some(t) = el.attrs.get("type") {
            let t = local_type(t);
            if t == "boolean" && !self.simple.contains_key(t) {
                self.push(ItemKind::Value, &path, Some("true"));
                self.push(ItemKind::Value, &path, Some("false"));
            } else if let Some(ct) = self.complex.get(t).copied() {
                if self.on_stack.insert(t) {
                    self.complex_type(ct, &path, depth + 1);
                    self.on_stack.remove(t);
                }
            } else if let Some(st) = self.simple.get(t).copied() {
                self.simple_type(st, &path);
            }
        }
    }

    fn simple_type(&mut self, st: &'a Node, path: &str) {
        for r in st.children.iter().filter(|c| c.local == "restriction") {
            let values: Vec<&str> = r
                .children
                .iter()
                .filter(|c| c.local == "enumeration")
                .filter_map(|c| c.attrs.get("value").map(String::as_str))
                .collect();
            // A one-value enumeration is a marker ("true" only): the element's presence
            // is the branch, already an item of its own.
            if values.len() > 1 {
                for v in values {
                    self.push(ItemKind::Value, path, Some(v));
                }
            }
        }
    }

    fn complex_type(&mut self, ct: &'a Node, path: &str, depth: usize) {
        for c in &ct.children {
            self.particle(c, path, depth);
        }
    }

    fn particle(&mut self, p: &'a Node, path: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match p.local.as_str() {
            "element" => self.element(p, path, depth),
            "sequence" | "all" => {
                for c in &p.children {
                    self.particle(c, path, depth + 1);
                }
            }
            "choice" => {
                for c in &p.children {
                    if c.local == "element" {
                        if let Some(n) = c.attrs.get("name").or(c.attrs.get("ref")) {
                            self.push(ItemKind::Choice, &format!("{path}/{}", local_type(n)), None);
                        }
                    }
                    self.particle(c, path, depth + 1);
                }
            }
            "complexContent" | "simpleContent" => {
                for ext in &p.children {
                    if let Some(base) = ext.attrs.get("base") {
                        let base = local_type(base);
                        if let Some(bt) = self.complex.get(base).copied() {
                            if self.on_stack.insert(base) {
                                self.complex_type(bt, path, depth + 1);
                                self.on_stack.remove(base);
                            }
                        }
                    }
                    for c in &ext.children {
                        self.particle(c, path, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The coverage items of a payload schema (its XSD bytes).
pub fn items(xsd: &[u8], file: &str) -> Result<Vec<CoverageItem>, CoverageError> {
    let schema = parse_tree(xsd).map_err(|message| CoverageError {
        file: file.to_string(),
        message,
    })?;
    let mut w = Walk {
        complex: BTreeMap::new(),
        simple: BTreeMap::new(),
        items: Vec::new(),
        on_stack: HashSet::new(),
    };
    for c in &schema.children {
        if let Some(n) = c.attrs.get("name") {
            match c.local.as_str() {
                "complexType" => {
                    w.complex.insert(n.as_str(), c);
                }
                "simpleType" => {
                    w.simple.insert(n.as_str(), c);
                }
                _ => {}
            }
        }
    }
    for c in schema.children.iter().filter(|c| c.local == "element") {
        w.element(c, "", 0);
    }
    Ok(w.items)
}

/// What one payload shows: its element paths and its leaves' (path, text).
#[derive(Debug, Default)]
pub struct Shape {
    pub paths: BTreeSet<String>,
    pub values: BTreeSet<(String, String)>,
}

/// Reads a payload's shape (local names, so prefixes do not matter). `None` when it
/// is not well-formed.
pub fn shape(payload: &[u8]) -> Option<Shape> {
    let mut reader = quick_xml::Reader::from_reader(payload);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = Shape::default();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                out.paths.insert(stack.join("/"));
                text.clear();
            }
            Event::Empty(e) => {
                stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                out.paths.insert(stack.join("/"));
                stack.pop();
            }
            Event::Text(t) => text.push_str(&t.unescape().ok()?),
            Event::End(_) => {
                let path = stack.join("/");
                let v = text.trim();
                if !v.is_empty() {
                    out.values.insert((path, normalise(v)));
                }
                text.clear();
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(out)
}

/// xs:boolean's other spellings, so `1` counts as `true`.
fn normalise(v: &str) -> String {
    match v {
        "1" => "true".into(),
        "0" => "false".into(),
        other => other.to_string(),
    }
}

/// The coverage table of `set` over the payloads `(seq, bytes)`.
pub fn coverage<'p>(
    set: &SchemaSet,
    payloads: impl IntoIterator<Item = (u64, &'p [u8])>,
) -> Result<Coverage, CoverageError> {
    let file = set
        .file(Role::Payload)
        .map_or("(payload schema)", |f| f.name.as_str());
    let mut items = items(set.bytes(Role::Payload), file)?;
    for (seq, bytes) in payloads {
        let Some(s) = shape(bytes) else { continue };
        for it in &mut items {
            let hit = match (&it.kind, &it.value) {
                (ItemKind::Value, Some(v)) => s.values.contains(&(it.path.clone(), v.clone())),
                _ => s.paths.contains(&it.path),
            };
            if hit && !it.seen.contains(&seq) {
                it.seen.push(seq);
            }
        }
    }
    Ok(Coverage {
        schema_set: set.info().to_string(),
        items,
    })
}
