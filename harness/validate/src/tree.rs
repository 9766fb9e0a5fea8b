//! The element tree the business rules read, taken from the document libxml2 has
//! already parsed (so every encoding libxml2 reads, the rules read too, and nothing
//! is parsed twice). It is built on every validation, so it stays lean: paths and
//! columns are worked out only for the nodes a finding names.

use libxml::readonly::RoNode;
use libxml::tree::{Document, NodeType};

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub line: u32,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// Text content (only filled for elements without element children).
    pub text: String,
    /// Namespace URI; filled for the root only (the rules check nothing else).
    pub ns: Option<String>,
    /// `xsi:schemaLocation`; filled for the root only.
    pub schema_location: Option<String>,
    idx: usize,
}

#[derive(Debug, Clone)]
pub struct Tree<'s> {
    pub nodes: Vec<Node>,
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
            tree.nodes.push(Node {
                name: node.get_name(),
                line: line_of(node),
                parent,
                children: vec![],
                text: if leaf {
                    node.get_content()
                } else {
                    String::new()
                },
                ns: if is_root {
                    node.get_namespace().map(|n| n.get_href())
                } else {
                    None
                },
                schema_location: if is_root {
                    node.get_property_ns("schemaLocation", XSI_NS)
                } else {
                    None
                },
                idx,
            });
            if let Some(p) = parent {
                tree.nodes[p].children.push(idx);
            }
        }
        tree
    }

    pub fn root(&self) -> Option<&Node> {
        self.nodes.first()
    }

    pub fn children<'a>(&'a self, n: &'a Node) -> impl Iterator<Item = &'a Node> + 'a {
        n.children.iter().map(move |&i| &self.nodes[i])
    }

    /// The first child with this local name.
    pub fn child<'a>(&'a self, n: &'a Node, name: &str) -> Option<&'a Node> {
        self.children(n).find(|c| c.name == name)
    }

    /// Every element with this local name, in document order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |n| n.name == name)
    }

    /// `/AnmalanFranArbetsgivare/assistent/personnummer`
    pub fn path(&self, n: &Node) -> String {
        let mut names = vec![n.name.as_str()];
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
    pub fn column(&self, n: &Node) -> u32 {
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
            let is_tag = local.starts_with(n.name.as_str())
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
        let on_line = |n: &&Node| n.line == line;
        self.nodes
            .iter()
            .filter(on_line)
            .find(|n| element.is_none_or(|e| n.name == e))
            .or_else(|| self.nodes.iter().find(on_line))
            .map(|n| (self.path(n), self.column(n)))
    }
}

/// Builds the rules' [`Tree`] from parser events in document order (the streaming pass,
/// [`crate::stream`]), with the same nodes, names, texts, root namespace and
/// `xsi:schemaLocation` that [`Tree::from_doc`] reads from a parsed document. Lines are
/// not recorded: a tree built this way is only used to learn that the rules find
/// nothing; a document with any finding is reported from the parsed document.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    nodes: Vec<Node>,
    open: Vec<usize>,
    /// Text of the innermost open element while it has no element child; it becomes
    /// the element's own text when the element ends a leaf. One buffer for the
    /// document, so indentation before a first child costs no allocation.
    pending: String,
    /// The events do not map onto the tree [`Tree::from_doc`] would build (too many
    /// elements, an attribute value with a reference): the caller must not use it.
    pub unsure: bool,
}

impl TreeBuilder {
    pub fn start(&mut self, name: &str, ns: Option<&str>, schema_location: Option<&str>) {
        if self.nodes.len() >= MAX_NODES {
            self.unsure = true;
            return;
        }
        let idx = self.nodes.len();
        let parent = self.open.last().copied();
        let is_root = parent.is_none();
        if let Some(p) = parent {
            // An element with element children has no text of its own.
            self.pending.clear();
            self.nodes[p].children.push(idx);
        } else if idx > 0 {
            // A second root cannot be well-formed; never trust such a stream.
            self.unsure = true;
        }
        self.nodes.push(Node {
            name: name.to_owned(),
            line: 0,
            parent,
            children: Vec::new(),
            text: String::new(),
            ns: if is_root { ns.map(str::to_owned) } else { None },
            schema_location: if is_root {
                schema_location.map(str::to_owned)
            } else {
                None
            },
            idx,
        });
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

    /// Character data or a CDATA section inside the innermost open element.
    pub fn text(&mut self, text: &str) {
        if self.wants_text() {
            self.pending.push_str(text);
        }
    }

    pub fn end(&mut self) {
        if let Some(i) = self.open.pop() {
            let n = &mut self.nodes[i];
            if n.children.is_empty() && !self.pending.is_empty() {
                n.text = self.pending.as_str().to_owned();
            }
        }
        self.pending.clear();
    }

    pub fn finish(self, source: &str) -> Tree<'_> {
        Tree {
            nodes: self.nodes,
            source,
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
