//! The element tree the business rules read, taken from the document libxml2 has
//! already parsed (so every encoding libxml2 reads, the rules read too, and nothing
//! is parsed twice). Lines come from libxml2; columns are found on the source line.

use libxml::readonly::RoNode;
use libxml::tree::{Document, NodeType};

#[derive(Debug, Clone)]
pub struct Node {
    pub ns: Option<String>,
    pub name: String,
    /// `/AnmalanFranArbetsgivare/assistent/personnummer`
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub children: Vec<usize>,
    /// Text content (only filled for elements without element children).
    pub text: String,
    /// `xsi:schemaLocation` of this element, if any.
    pub schema_location: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
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

impl Tree {
    /// Walks `doc`. `source` (the document as text, when it could be decoded) is only
    /// used to find columns.
    pub fn from_doc(doc: &Document, source: Option<&str>) -> Tree {
        let mut tree = Tree {
            nodes: Vec::with_capacity(48),
        };
        let Some(root) = doc.get_root_readonly() else {
            return tree;
        };
        let lines: Vec<&str> = source.map(|s| s.split('\n').collect()).unwrap_or_default();
        let mut seen_on_line: std::collections::HashMap<(u32, String), usize> = Default::default();
        let mut stack: Vec<(RoNode, Option<usize>)> = vec![(root, None)];
        while let Some((node, parent)) = stack.pop() {
            if tree.nodes.len() >= MAX_NODES {
                break;
            }
            let name = node.get_name();
            let ns = node.get_namespace();
            let prefix = ns
                .as_ref()
                .map(|n| n.get_prefix())
                .filter(|p| !p.is_empty());
            let line = line_of(node);
            let qname = match &prefix {
                Some(p) => format!("{p}:{name}"),
                None => name.clone(),
            };
            let nth = seen_on_line.entry((line, qname.clone())).or_insert(0);
            let column = column_of(&lines, line, &qname, *nth);
            *nth += 1;
            let path = match parent {
                Some(p) => format!("{}/{name}", tree.nodes[p].path),
                None => format!("/{name}"),
            };
            let id = tree.nodes.len();
            let element_children: Vec<RoNode> = node
                .get_child_nodes()
                .into_iter()
                .filter(|c| c.get_type() == Some(NodeType::ElementNode))
                .collect();
            let text = if element_children.is_empty() {
                node.get_content()
            } else {
                String::new()
            };
            tree.nodes.push(Node {
                ns: ns.map(|n| n.get_href()),
                name,
                path,
                line,
                column,
                children: vec![],
                text,
                schema_location: node.get_property_ns("schemaLocation", XSI_NS),
            });
            if let Some(p) = parent {
                tree.nodes[p].children.push(id);
            }
            // Reverse so that children are visited, and numbered, in document order.
            for c in element_children.into_iter().rev() {
                stack.push((c, Some(id)));
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

    /// The element a schema error on `line` names: (path, column).
    pub fn locate(&self, line: u32, element: Option<&str>) -> Option<(String, u32)> {
        let on_line = |n: &&Node| n.line == line;
        self.nodes
            .iter()
            .filter(on_line)
            .find(|n| element.is_none_or(|e| n.name == e))
            .or_else(|| self.nodes.iter().find(on_line))
            .map(|n| (n.path.clone(), n.column))
    }
}

/// 1-based column of the `nth` start tag `<qname` on `line`; 0 when unknown.
fn column_of(lines: &[&str], line: u32, qname: &str, nth: usize) -> u32 {
    let Some(text) = line.checked_sub(1).and_then(|l| lines.get(l as usize)) else {
        return 0;
    };
    let needle = format!("<{qname}");
    let mut from = 0;
    let mut found = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let after = text[at + needle.len()..].chars().next();
        if after.is_none_or(|c| c.is_whitespace() || c == '>' || c == '/') {
            if found == nth {
                return text[..at].chars().count() as u32 + 1;
            }
            found += 1;
        }
        from = at + needle.len();
    }
    0
}

/// Whether the parsed document carries a DOCTYPE (internal or external subset).
pub fn has_dtd(doc: &Document) -> bool {
    let Some(root) = doc.get_root_readonly() else {
        return false;
    };
    let mut cur = root.get_prev_sibling();
    while let Some(n) = cur {
        if n.get_type() == Some(NodeType::DTDNode) {
            return true;
        }
        cur = n.get_prev_sibling();
    }
    false
}
