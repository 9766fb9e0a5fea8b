//! The element tree the business rules read, taken from the document libxml2 has
//! already parsed (so every encoding libxml2 reads, the rules read too, and nothing
//! is parsed twice). It is built on every validation, so it stays lean: paths and
//! columns are worked out only for the nodes a finding names.

use libxml::readonly::RoNode;
use libxml::tree::{Document, NodeType};
use std::borrow::Cow;
use std::ops::Range;
use std::rc::Rc;

/// The element names the business rules look for: finding an element compares a
/// byte instead of a string. Every other name is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Other,
    Id,
    PersonSomHarAssistans,
    Assistent,
    Personnummer,
    Anstallningsdatum,
    AndringGallerFrom,
    Organisationsnummer,
    Fornamn,
    Efternamn,
    AnordnareNamn,
    Kontaktperson,
    ArbetsgivareNamn,
    Adress,
    Telefonnummer,
    TelefonnummerAnordnare,
    BosattInnanforEES,
    BosattUtanfor,
    AnstalldAvPersonSomHarAssistans,
    AssistentAnstalldAvAnordnare,
    AssistentEgenForetagare,
}

impl Kind {
    pub fn of(name: &str) -> Kind {
        match name {
            "id" => Kind::Id,
            "personSomHarAssistans" => Kind::PersonSomHarAssistans,
            "assistent" => Kind::Assistent,
            "personnummer" => Kind::Personnummer,
            "anstallningsdatum" => Kind::Anstallningsdatum,
            "andringGallerFrom" => Kind::AndringGallerFrom,
            "organisationsnummer" => Kind::Organisationsnummer,
            "fornamn" => Kind::Fornamn,
            "efternamn" => Kind::Efternamn,
            "anordnareNamn" => Kind::AnordnareNamn,
            "kontaktperson" => Kind::Kontaktperson,
            "arbetsgivareNamn" => Kind::ArbetsgivareNamn,
            "adress" => Kind::Adress,
            "telefonnummer" => Kind::Telefonnummer,
            "telefonnummerAnordnare" => Kind::TelefonnummerAnordnare,
            "bosattInnanforEES" => Kind::BosattInnanforEES,
            "bosattUtanfor" => Kind::BosattUtanfor,
            "anstalldAvPersonSomHarAssistans" => Kind::AnstalldAvPersonSomHarAssistans,
            "assistentAnstalldAvAnordnare" => Kind::AssistentAnstalldAvAnordnare,
            "assistentEgenForetagare" => Kind::AssistentEgenForetagare,
            _ => Kind::Other,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node<'s> {
    /// Local name. Shared: the streaming pass hands every element of the same name the
    /// same string instead of allocating one per element.
    pub name: Rc<str>,
    /// What the rules know `name` as.
    pub kind: Kind,
    pub line: u32,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// Text content (only filled for elements without element children); borrowed
    /// from the document's text where the parser read it straight from there.
    pub text: Cow<'s, str>,
    idx: usize,
}

#[derive(Debug, Clone)]
pub struct Tree<'s> {
    pub nodes: Vec<Node<'s>>,
    /// The root's namespace URI (the rules check no other element's).
    pub ns: Option<String>,
    /// The root's `xsi:schemaLocation`.
    pub schema_location: Option<String>,
    /// The document as text, for columns (decoded, or read as far as it is ASCII).
    source: &'s str,
}

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// A notification has about 40 elements; anything far beyond is not walked further
/// (the schema findings already say what is wrong with such a document).
const MAX_NODES: usize = 10_000;

/// The line libxml2 recorded for a node.
#[allow(unsafe_code)]
fn line_of(node: RoNode) -> u32 {
    // SAFETY: `node` points into a live document owned by the caller; xmlGetLineNo
    // only reads the node's line field (and its text siblings for large lines).
    let l = unsafe { libxml::bindings::xmlGetLineNo(node.node_ptr()) };
    u32::try_from(l).unwrap_or(0)
}

fn element_children(node: RoNode) -> impl Iterator<Item = RoNode> {
    std::iter::successors(node.get_first_child(), |n| n.get_next_sibling())
        .filter(|c| c.get_type() == Some(NodeType::ElementNode))
}

impl<'s> Tree<'s> {
    pub fn from_doc(doc: &Document, source: &'s str) -> Tree<'s> {
        let mut tree = Tree {
            nodes: Vec::with_capacity(48),
            ns: None,
            schema_location: None,
            source,
        };
        let Some(root) = doc.get_root_readonly() else {
            return tree;
        };
        let mut stack: Vec<(RoNode, Option<usize>)> = vec![(root, None)];
        while let Some((node, parent)) = stack.pop() {
            if tree.nodes.len() >= MAX_NODES {
                break;
            }
            let idx = tree.nodes.len();
            let is_root = parent.is_none();
            let first_len = stack.len();
            stack.extend(element_children(node).map(|c| (c, Some(idx))));
            let leaf = stack.len() == first_len;
            // Children were pushed in document order; pop them in document order too.
            stack[first_len..].reverse();
            let name = node.get_name();
            tree.nodes.push(Node {
                kind: Kind::of(&name),
                name: name.into(),
                line: line_of(node),
                parent,
                children: vec![],
                text: if leaf {
                    Cow::Owned(node.get_content())
                } else {
                    Cow::Borrowed("")
                },
                idx,
            });
            if is_root {
                tree.ns = node.get_namespace().map(|n| n.get_href());
                tree.schema_location = node.get_property_ns("schemaLocation", XSI_NS);
            }
            if let Some(p) = parent {
                tree.nodes[p].children.push(idx);
            }
        }
        tree
    }

    pub fn root(&self) -> Option<&Node<'s>> {
        self.nodes.first()
    }

    pub fn children<'a>(&'a self, n: &'a Node<'s>) -> impl Iterator<Item = &'a Node<'s>> + 'a {
        n.children.iter().map(move |&i| &self.nodes[i])
    }

    /// The first child with this name.
    pub fn child<'a>(&'a self, n: &'a Node<'s>, kind: Kind) -> Option<&'a Node<'s>> {
        self.children(n).find(|c| c.kind == kind)
    }

    /// Every element with this name, in document order.
    pub fn all<'a>(&'a self, kind: Kind) -> impl Iterator<Item = &'a Node<'s>> + 'a {
        self.nodes.iter().filter(move |n| n.kind == kind)
    }

    /// `/AnmalanFranArbetsgivare/assistent/personnummer`
    pub fn path(&self, n: &Node<'_>) -> String {
        let mut names: Vec<&str> = vec![&n.name];
        let mut cur = n.parent;
        while let Some(p) = cur {
            names.push(&self.nodes[p].name);
            cur = self.nodes[p].parent;
        }
        names.iter().rev().fold(String::new(), |mut s, name| {
            s.push('/');
            s.push_str(name);
            s
        })
    }

    /// 1-based column of the node's start tag; 0 when it cannot be found.
    pub fn column(&self, n: &Node<'_>) -> u32 {
        // Which start tag of this name on this line the node is (minified documents
        // put everything on one line).
        let nth = self.nodes[..n.idx]
            .iter()
            .filter(|o| o.line == n.line && o.name == n.name)
            .count();
        let Some(text) = n
            .line
            .checked_sub(1)
            .and_then(|l| self.source.split('\n').nth(l as usize))
        else {
            return 0;
        };
        let mut found = 0;
        for (at, _) in text.match_indices('<') {
            let rest = &text[at + 1..];
            // Skip an optional prefix: `<r:name` as well as `<name`.
            let local =
                match rest.find(|c: char| c == ':' || c.is_whitespace() || c == '>' || c == '/') {
                    Some(i) if rest.as_bytes()[i] == b':' => &rest[i + 1..],
                    _ => rest,
                };
            let is_tag = local.starts_with(&*n.name)
                && local[n.name.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/');
            if is_tag {
                if found == nth {
                    return text[..at].chars().count() as u32 + 1;
                }
                found += 1;
            }
        }
        0
    }

    /// The element a schema error on `line` names: (path, column).
    pub fn locate(&self, line: u32, element: Option<&str>) -> Option<(String, u32)> {
        let on_line = |n: &&Node<'_>| n.line == line;
        self.nodes
            .iter()
            .filter(on_line)
            .find(|n| element.is_none_or(|e| &*n.name == e))
            .or_else(|| self.nodes.iter().find(on_line))
            .map(|n| (self.path(n), self.column(n)))
    }
}

/// Builds the rules' [`Tree`] from parser events in document order (the streaming pass,
/// [`crate::stream`]), with the same nodes, names, texts, root namespace and
/// `xsi:schemaLocation` that [`Tree::from_doc`] reads from a parsed document. Lines are
/// not recorded: a tree built this way is only used to learn that the rules find
/// nothing; a document with any finding is reported from the parsed document.
#[derive(Debug)]
pub(crate) struct TreeBuilder<'s> {
    nodes: Vec<Node<'s>>,
    ns: Option<String>,
    schema_location: Option<String>,
    open: Vec<usize>,
    /// The document's text, which element texts borrow from where they can.
    source: &'s str,
    /// Text of the innermost open element while it has no element child, as long as
    /// it is one run of `source` (the usual case: no reference, no CDATA split).
    span: Option<Range<usize>>,
    /// The same text once it is not one run of `source`; one buffer for the document.
    pending: String,
    /// Whether `pending` (not `span`) holds the text.
    in_pending: bool,
    /// The events do not map onto the tree [`Tree::from_doc`] would build (too many
    /// elements, an attribute value with a reference): the caller must not use it.
    pub unsure: bool,
}

impl<'s> TreeBuilder<'s> {
    pub fn new(source: &'s str) -> TreeBuilder<'s> {
        TreeBuilder {
            // A notification has about 40 elements and nests 3 deep.
            nodes: Vec::with_capacity(48),
            ns: None,
            schema_location: None,
            open: Vec::with_capacity(8),
            source,
            span: None,
            pending: String::new(),
            in_pending: false,
            unsure: false,
        }
    }

    fn clear_text(&mut self) {
        self.span = None;
        self.pending.clear();
        self.in_pending = false;
    }

    pub fn start(
        &mut self,
        name: Rc<str>,
        kind: Kind,
        ns: Option<&str>,
        schema_location: Option<&str>,
    ) {
        if self.nodes.len() >= MAX_NODES {
            self.unsure = true;
            return;
        }
        let idx = self.nodes.len();
        let parent = self.open.last().copied();
        let is_root = parent.is_none();
        if let Some(p) = parent {
            // An element with element children has no text of its own.
            self.clear_text();
            self.nodes[p].children.push(idx);
        } else if idx > 0 {
            // A second root cannot be well-formed; never trust such a stream.
            self.unsure = true;
        }
        self.nodes.push(Node {
            name,
            kind,
            line: 0,
            parent,
            children: Vec::new(),
            text: Cow::Borrowed(""),
            idx,
        });
        if is_root {
            self.ns = ns.map(str::to_owned);
            self.schema_location = schema_location.map(str::to_owned);
        }
        self.open.push(idx);
    }

    /// Whether the next element is the root.
    pub fn at_root(&self) -> bool {
        self.open.is_empty()
    }

    /// Whether text now would count: the innermost open element has no element child.
    pub fn wants_text(&self) -> bool {
        self.open
            .last()
            .is_some_and(|&i| self.nodes[i].children.is_empty())
    }

    /// The document's text as bytes (to check where a run of character data stands).
    pub fn source(&self) -> &'s [u8] {
        self.source.as_bytes()
    }

    /// Character data inside the innermost open element that stands at `at` in the
    /// source; `None` when `at` is not a run of the source that starts and ends
    /// between characters (the caller then hands the text to [`TreeBuilder::text`]).
    pub fn text_at(&mut self, at: Range<usize>) -> Option<()> {
        let source = self.source;
        if !source.is_char_boundary(at.start) || !source.is_char_boundary(at.end) {
            return None;
        }
        let text = source.get(at.clone())?;
        if !self.wants_text() {
            return Some(());
        }
        match &mut self.span {
            _ if self.in_pending => self.pending.push_str(text),
            None => self.span = Some(at),
            Some(r) if r.end == at.start => r.end = at.end,
            Some(_) => self.text(text),
        }
        Some(())
    }

    /// Character data or a CDATA section inside the innermost open element.
    pub fn text(&mut self, text: &str) {
        if !self.wants_text() {
            return;
        }
        if !self.in_pending {
            self.in_pending = true;
            if let Some(r) = self.span.take() {
                self.pending.push_str(&self.source[r]);
            }
        }
        self.pending.push_str(text);
    }

    pub fn end(&mut self) {
        if let Some(i) = self.open.pop() {
            let n = &mut self.nodes[i];
            if n.children.is_empty() {
                if self.in_pending {
                    if !self.pending.is_empty() {
                        n.text = Cow::Owned(self.pending.as_str().to_owned());
                    }
                } else if let Some(r) = self.span.clone() {
                    n.text = Cow::Borrowed(&self.source[r]);
                }
            }
        }
        self.clear_text();
    }

    pub fn finish(self) -> Tree<'s> {
        Tree {
            nodes: self.nodes,
            ns: self.ns,
            schema_location: self.schema_location,
            source: self.source,
        }
    }
}

/// Whether the parsed document carries a DOCTYPE (internal or external subset).
pub fn has_dtd(doc: &Document) -> bool {
    let Some(root) = doc.get_root_readonly() else {
        return false;
    };
    std::iter::successors(root.get_prev_sibling(), |n| n.get_prev_sibling())
        .any(|n| n.get_type() == Some(NodeType::DTDNode))
}
