//! What changed between two schema sets' payload schemas, in plain words and as data:
//! elements added or removed, cardinalities, types, patterns, enumerations and the
//! target namespace.
//!
//! The XSD is read with quick-xml (no libxml2: nothing is validated here) into the
//! element paths a document can hold, each with its occurrence bounds and its type's
//! facets. Types are resolved by local name within the one payload schema (the shape
//! the E-IOA contract has); `xs:import`/`xs:include` are not followed.

use super::{Role, SchemaSet, SchemaSetInfo};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why a schema could not be read for a diff.
#[derive(Debug, thiserror::Error)]
#[error("failed to read the payload schema of `{set}`: {message}")]
pub struct DiffError {
    pub set: String,
    pub message: String,
}

/// One element path of the payload, as the schema allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElementShape {
    pub min: u64,
    /// `None` for unbounded.
    pub max: Option<u64>,
    /// Inside an `xs:choice` (so never required on its own).
    pub in_choice: bool,
    /// The named type (`ioa:Identitetsnummer`, `xs:date`), or `(anonymous)`.
    pub type_name: String,
    /// The built-in base the value restricts (`xs:token`).
    pub base: Option<String>,
    pub patterns: Vec<String>,
    pub enumerations: Vec<String>,
}

/// The payload schema, flattened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub target_namespace: Option<String>,
    pub elements: BTreeMap<String, ElementShape>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `namespace`, `element-added`, `element-removed`, `cardinality`, `type`,
    /// `pattern`, `enumeration`.
    pub kind: &'static str,
    /// The element path (`/AnmalanFranArbetsgivare/assistent/personnummer`), or empty.
    pub path: String,
    /// In plain words.
    pub text: String,
    /// A change that makes documents valid under A invalid under B.
    pub breaking: bool,
}

/// A diff between two sets.
#[derive(Debug, Clone, Serialize)]
pub struct SchemaDiff {
    pub from: SchemaSetInfo,
    pub to: SchemaSetInfo,
    pub changes: Vec<Change>,
}

impl SchemaDiff {
    /// The diff as people read it.
    pub fn to_text(&self) -> String {
        let mut s = format!("payload schema: {} -> {}\n", self.from, self.to);
        if self.changes.is_empty() {
            s.push_str("no change in elements, cardinalities, types, patterns, enumerations or namespace\n");
        }
        for c in &self.changes {
            let mark = if c.breaking { "!" } else { " " };
            s.push_str(&format!("{mark} {}\n", c.text));
        }
        let breaking = self.changes.iter().filter(|c| c.breaking).count();
        s.push_str(&format!(
            "{} change(s), {breaking} of which can make a valid document invalid (marked !)\n",
            self.changes.len()
        ));
        s
    }
}

/// Compares the payload schemas of `a` and `b`.
pub fn diff(a: &SchemaSet, b: &SchemaSet) -> Result<SchemaDiff, DiffError> {
    let sa = shape(a)?;
    let sb = shape(b)?;
    Ok(SchemaDiff {
        from: a.info(),
        to: b.info(),
        changes: compare(&sa, &sb),
    })
}

/// The flattened payload schema of `set`.
pub fn shape(set: &SchemaSet) -> Result<Shape, DiffError> {
    let err = |message: String| DiffError {
        set: set.id.clone(),
        message,
    };
    let root = parse_tree(set.bytes(Role::Payload)).map_err(err)?;
    Ok(flatten(&root))
}

fn compare(a: &Shape, b: &Shape) -> Vec<Change> {
    let mut out = Vec::new();
    if a.target_namespace != b.target_namespace {
        out.push(Change {
            kind: "namespace",
            path: String::new(),
            text: format!(
                "target namespace changed: {} -> {}",
                a.target_namespace.as_deref().unwrap_or("(none)"),
                b.target_namespace.as_deref().unwrap_or("(none)")
            ),
            breaking: true,
        });
    }
    for (path, eb) in &b.elements {
        let Some(ea) = a.elements.get(path) else {
            let required = eb.min > 0 && !eb.in_choice && parent_present(a, path);
            out.push(Change {
                kind: "element-added",
                path: path.clone(),
                text: format!("element added: {path} ({}, {})", occurs(eb), eb.type_name),
                breaking: required,
            });
            continue;
        };
        if (ea.min, ea.max) != (eb.min, eb.max) {
            let tighter = eb.min > ea.min
                || matches!((ea.max, eb.max), (None, Some(_)))
                || matches!((ea.max, eb.max), (Some(x), Some(y)) if y < x);
            out.push(Change {
                kind: "cardinality",
                path: path.clone(),
                text: format!("cardinality of {path}: {} -> {}", occurs(ea), occurs(eb)),
                breaking: tighter,
            });
        }
        if ea.type_name != eb.type_name || ea.base != eb.base {
            out.push(Change {
                kind: "type",
                path: path.clone(),
                text: format!("type of {path}: {} -> {}", type_words(ea), type_words(eb)),
                breaking: true,
            });
        }
        if ea.patterns != eb.patterns {
            out.push(Change {
                kind: "pattern",
                path: path.clone(),
                text: format!(
                    "pattern of {path}: {} -> {}",
                    list(&ea.patterns),
                    list(&eb.patterns)
                ),
                breaking: true,
            });
        }
        if ea.enumerations != eb.enumerations {
            let removed: Vec<&String> = ea
                .enumerations
                .iter()
                .filter(|v| !eb.enumerations.contains(v))
                .collect();
            let added: Vec<&String> = eb
                .enumerations
                .iter()
                .filter(|v| !ea.enumerations.contains(v))
                .collect();
            out.push(Change {
                kind: "enumeration",
                path: path.clone(),
                text: format!(
                    "enumeration of {path}: added [{}], removed [{}]",
                    join(&added),
                    join(&removed)
                ),
                breaking: !removed.is_empty() || ea.enumerations.is_empty(),
            });
        }
    }
    for (path, ea) in &a.elements {
        if !b.elements.contains_key(path) {
            out.push(Change {
                kind: "element-removed",
                path: path.clone(),
                text: format!(
                    "element removed: {path} (was {}, {})",
                    occurs(ea),
                    ea.type_name
                ),
                breaking: true,
            });
        }
    }
    out
}

fn parent_present(a: &Shape, path: &str) -> bool {
    match path.rfind('/') {
        Some(0) | None => true,
        Some(i) => a.elements.contains_key(&path[..i]),
    }
}

fn occurs(e: &ElementShape) -> String {
    let max = e.max.map_or("unbounded".to_string(), |m| m.to_string());
    let what = match (e.min, e.in_choice) {
        (0, _) => "optional",
        (_, true) => "in a choice",
        _ => "required",
    };
    format!("{what}, {}..{max}", e.min)
}

fn type_words(e: &ElementShape) -> String {
    match &e.base {
        Some(b) if *b != e.type_name => format!("{} (restricting {b})", e.type_name),
        _ => e.type_name.clone(),
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// An XSD element node: local name, attributes, children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.get(k).map(String::as_str)
    }
}

fn local(q: &[u8]) -> String {
    let s = String::from_utf8_lossy(q);
    s.rsplit(':').next().unwrap_or("").to_string()
}

fn node(e: &BytesStart) -> Result<Node, String> {
    let mut n = Node {
        name: local(e.name().as_ref()),
        ..Node::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let v = a.unescape_value().map_err(|e| e.to_string())?;
        n.attrs.insert(
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            v.into_owned(),
        );
    }
    Ok(n)
}

/// Bounded depth: a schema nested deeper than this is refused, not recursed into.
const MAX_DEPTH: usize = 64;

fn parse_tree(bytes: &[u8]) -> Result<Node, String> {
    let mut r = Reader::from_reader(bytes);
    r.config_mut().trim_text(true);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut buf = Vec::new();
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(|e| format!("at byte {}: {e}", r.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                if stack.len() > MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} elements"));
                }
                stack.push(node(&e)?);
            }
            Event::Empty(e) => {
                let n = node(&e)?;
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
            Event::DocType(_) => return Err("a DOCTYPE in a schema is refused".into()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let doc = stack.pop().ok_or("empty document")?;
    doc.children
        .into_iter()
        .find(|n| n.name == "schema")
        .ok_or_else(|| "no xs:schema element".to_string())
}

struct Types<'a> {
    simple: BTreeMap<String, &'a Node>,
    complex: BTreeMap<String, &'a Node>,
}

fn strip_prefix(q: &str) -> &str {
    q.rsplit(':').next().unwrap_or(q)
}

fn flatten(schema: &Node) -> Shape {
    let mut types = Types {
        simple: BTreeMap::new(),
        complex: BTreeMap::new(),
    };
    for c in &schema.children {
        if let Some(n) = c.attr("name") {
            match c.name.as_str() {
                "simpleType" => {
                    types.simple.insert(n.to_string(), c);
                }
                "complexType" => {
                    types.complex.insert(n.to_string(), c);
                }
                _ => {}
            }
        }
    }
    let mut elements = BTreeMap::new();
    for c in schema.children.iter().filter(|c| c.name == "element") {
        walk_element(c, "", false, &types, &mut elements, 0);
    }
    Shape {
        target_namespace: schema.attr("targetNamespace").map(str::to_string),
        elements,
    }
}

fn walk_element(
    el: &Node,
    parent: &str,
    in_choice: bool,
    types: &Types,
    out: &mut BTreeMap<String, ElementShape>,
    depth: usize,
) {
    let Some(name) = el.attr("name").or(el.attr("ref")) else {
        return;
    };
    let path = format!("{parent}/{}", strip_prefix(name));
    if depth > MAX_DEPTH || out.contains_key(&path) {
        return;
    }
    let min = el
        .attr("minOccurs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let max = match el.attr("maxOccurs") {
        Some("unbounded") => None,
        Some(v) => v.parse().ok().or(Some(1)),
        None => Some(1),
    };
    let inline_simple = el.children.iter().find(|c| c.name == "simpleType");
    let inline_complex = el.children.iter().find(|c| c.name == "complexType");
    let type_attr = el.attr("type");
    let type_name = type_attr.map_or("(anonymous)".to_string(), str::to_string);
    let mut shape = ElementShape {
        min,
        max,
        in_choice,
        type_name,
        base: None,
        patterns: Vec::new(),
        enumerations: Vec::new(),
    };
    let simple = inline_simple
        .or_else(|| type_attr.and_then(|t| types.simple.get(strip_prefix(t)).copied()));
    let complex = inline_complex
        .or_else(|| type_attr.and_then(|t| types.complex.get(strip_prefix(t)).copied()));
    if let Some(st) = simple {
        facets(st, types, &mut shape, 0);
    } else if complex.is_none() {
        shape.base = type_attr.map(str::to_string);
    }
    out.insert(path.clone(), shape);
    if let Some(ct) = complex {
        walk_particles(ct, &path, false, types, out, depth + 1);
    }
}

fn walk_particles(
    n: &Node,
    parent: &str,
    in_choice: bool,
    types: &Types,
    out: &mut BTreeMap<String, ElementShape>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for c in &n.children {
        match c.name.as_str() {
            "element" => walk_element(c, parent, in_choice, types, out, depth),
            "sequence" | "all" => walk_particles(c, parent, in_choice, types, out, depth + 1),
            "choice" => walk_particles(c, parent, true, types, out, depth + 1),
            "complexContent" | "extension" | "restriction" => {
                if let Some(base) = c
                    .attr("base")
                    .and_then(|b| types.complex.get(strip_prefix(b)))
                {
                    walk_particles(base, parent, in_choice, types, out, depth + 1);
                }
                walk_particles(c, parent, in_choice, types, out, depth + 1);
            }
            _ => {}
        }
    }
}

fn facets(st: &Node, types: &Types, shape: &mut ElementShape, depth: usize) {
    let Some(r) = st.children.iter().find(|c| c.name == "restriction") else {
        return;
    };
    let base = r.attr("base").unwrap_or("");
    match types.simple.get(strip_prefix(base)) {
        Some(parent) if depth < MAX_DEPTH => facets(parent, types, shape, depth + 1),
        _ => shape.base = Some(base.to_string()),
    }
    for f in &r.children {
        if let Some(v) = f.attr("value") {
            match f.name.as_str() {
                "pattern" => shape.patterns.push(v.to_string()),
                "enumeration" => shape.enumerations.push(v.to_string()),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_payload_schema_flattens_to_its_paths() {
        let s = shape(&SchemaSet::embedded()).expect("embedded set reads");
        let p = &s.elements["/AnmalanFranArbetsgivare/assistent/personnummer"];
        assert_eq!((p.min, p.max, p.in_choice), (1, Some(1), false));
        assert_eq!(p.patterns, vec!["[0-9]{12}".to_string()]);
        assert_eq!(p.base.as_deref(), Some("xs:token"));
        let m =
            &s.elements["/AnmalanFranArbetsgivare/assistansanordnare/assistentAnstalldAvAnordnare"];
        assert!(m.in_choice);
        assert_eq!(m.enumerations, vec!["true".to_string()]);
        let opt = &s.elements["/AnmalanFranArbetsgivare/assistent/andringGallerFrom"];
        assert_eq!(opt.min, 0);
        assert!(s
            .target_namespace
            .as_deref()
            .unwrap_or("")
            .ends_with("anmalanfranarbetsgivare/1"));
    }

    #[test]
    fn a_set_against_itself_has_no_change() {
        let e = SchemaSet::embedded();
        assert!(diff(&e, &e).expect("diff").changes.is_empty());
    }

    #[test]
    fn diff_against_the_draft_set_in_words_and_json() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/schema-sets/eioa-v2-draft");
        let draft = SchemaSet::from_dir(&dir).expect("draft set reads");
        let d = diff(&SchemaSet::embedded(), &draft).expect("diff");
        insta::assert_snapshot!(d.to_text());
        insta::assert_json_snapshot!(d);
    }

    fn shape_of(xsd: &str) -> Shape {
        flatten(&parse_tree(xsd.as_bytes()).expect("parses"))
    }

    const A: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a">
      <xs:simpleType name="Kod"><xs:restriction base="xs:string">
        <xs:enumeration value="A"/><xs:enumeration value="B"/></xs:restriction></xs:simpleType>
      <xs:element name="r"><xs:complexType><xs:sequence>
        <xs:element name="kod" type="Kod"/>
        <xs:element name="n" type="xs:int" maxOccurs="3"/>
        <xs:element name="gone" type="xs:string"/>
        <xs:element name="t" type="xs:string"/>
      </xs:sequence></xs:complexType></xs:element></xs:schema>"#;

    const B: &str = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:b">
      <xs:simpleType name="Kod"><xs:restriction base="xs:string">
        <xs:enumeration value="A"/><xs:enumeration value="C"/></xs:restriction></xs:simpleType>
      <xs:element name="r"><xs:complexType><xs:sequence>
        <xs:element name="kod" type="Kod"/>
        <xs:element name="n" type="xs:int" minOccurs="0" maxOccurs="unbounded"/>
        <xs:element name="t" type="xs:date"/>
        <xs:element name="extra" type="xs:string" minOccurs="0"/>
      </xs:sequence></xs:complexType></xs:element></xs:schema>"#;

    #[test]
    fn every_kind_of_change_is_named() {
        let changes = compare(&shape_of(A), &shape_of(B));
        let kinds: Vec<(&str, &str, bool)> = changes
            .iter()
            .map(|c| (c.kind, c.path.as_str(), c.breaking))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("namespace", "", true),
                ("element-added", "/r/extra", false),
                ("enumeration", "/r/kod", true),
                ("cardinality", "/r/n", false),
                ("type", "/r/t", true),
                ("element-removed", "/r/gone", true),
            ]
        );
        let enumeration = &changes[2].text;
        assert!(
            enumeration.contains("added [C], removed [B]"),
            "{enumeration}"
        );
    }

    #[test]
    fn broken_schemas_are_errors_not_panics() {
        for bad in [
            &b"<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element"[..],
            b"<!DOCTYPE x []><xs:schema/>",
            b"</a>",
            b"<notaschema/>",
        ] {
            assert!(parse_tree(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
