//! A tolerant element tree with source positions, for the business rules and for
//! placing schema findings. Built only after libxml2 accepted the document as
//! well-formed; it never rejects what the schema would (rules must still run on
//! schema-invalid documents to name placeholders and the like).

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

#[derive(Debug, Clone)]
pub struct Node {
    pub ns: Option<String>,
    pub name: String,
    /// `/AnmalanFranArbetsgivare/assistent/personnummer`
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub children: Vec<usize>,
    pub text: String,
    /// (qualified name, value), namespace declarations excluded.
    pub attrs: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    pub fn parse(src: &str) -> Result<Tree, String> {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let pos = |off: usize| -> (u32, u32) {
            let l = line_starts.partition_point(|&s| s <= off).max(1) - 1;
            let col = src[line_starts[l]..off.min(src.len())].chars().count() + 1;
            (l as u32 + 1, col as u32)
        };
        let mut reader = NsReader::from_str(src);
        reader.config_mut().expand_empty_elements = true;
        let mut tree = Tree::default();
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let start = reader.buffer_position() as usize;
            let (ns, ev) = reader.read_resolved_event().map_err(|e| e.to_string())?;
            match ev {
                Event::Start(s) => {
                    let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                    let ns = match ns {
                        ResolveResult::Bound(n) => {
                            Some(String::from_utf8_lossy(n.as_ref()).into_owned())
                        }
                        _ => None,
                    };
                    let parent_path = stack
                        .last()
                        .map_or(String::new(), |&p| tree.nodes[p].path.clone());
                    let (line, column) = pos(start);
                    let attrs = s
                        .attributes()
                        .flatten()
                        .filter(|a| {
                            let k = a.key.as_ref();
                            k != b"xmlns" && !k.starts_with(b"xmlns:")
                        })
                        .map(|a| {
                            (
                                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                                a.unescape_value()
                                    .map(|v| v.into_owned())
                                    .unwrap_or_default(),
                            )
                        })
                        .collect();
                    let id = tree.nodes.len();
                    tree.nodes.push(Node {
                        ns,
                        path: format!("{parent_path}/{name}"),
                        name,
                        line,
                        column,
                        children: vec![],
                        text: String::new(),
                        attrs,
                    });
                    if let Some(&p) = stack.last() {
                        tree.nodes[p].children.push(id);
                    }
                    stack.push(id);
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Text(t) => {
                    if let Some(&p) = stack.last() {
                        let s = t
                            .unescape()
                            .map(|c| c.into_owned())
                            .unwrap_or_else(|_| String::from_utf8_lossy(&t).into_owned());
                        tree.nodes[p].text.push_str(&s);
                    }
                }
                Event::CData(c) => {
                    if let Some(&p) = stack.last() {
                        tree.nodes[p].text.push_str(&String::from_utf8_lossy(&c));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(tree)
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
