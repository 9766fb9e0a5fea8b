//! Canonical XML (inclusive C14N 1.0, without comments) through libxml2.
//!
//! The signature binding hashes the canonical form of the payload, and xmldsig
//! digests canonical subtrees; both go through here so that only this crate
//! touches libxml2.

use crate::xml::{parse_untrusted, DIAG_DOCTYPE};
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use libxml::tree::{Document, Node};

/// Why a document could not be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum C14nError {
    #[error("document is not well-formed XML: {0}")]
    NotWellFormed(String),
    #[error("no element {0} in the document")]
    NotFound(String),
    #[error("document has a DOCTYPE; entity references are never expanded, so it has no canonical form here")]
    Doctype,
    #[error("libxml2 could not canonicalise the document")]
    Failed,
}

/// Which subtree to canonicalise.
#[derive(Debug, Clone, Copy)]
pub enum Select<'a> {
    /// The whole document.
    Document,
    /// The first element (document order) whose `Id` attribute has this value.
    Id(&'a str),
    /// The first element (document order) with this namespace and local name.
    Element { ns: &'a str, local: &'a str },
}

fn options() -> CanonicalizationOptions {
    CanonicalizationOptions {
        mode: CanonicalizationMode::Canonical1_0,
        with_comments: false,
        inclusive_ns_prefixes: vec![],
    }
}

/// Inclusive C14N 1.0 (no comments) of the selected part of `xml`.
pub fn canonicalize(xml: &[u8], select: Select<'_>) -> Result<Vec<u8>, C14nError> {
    canonicalize_many(xml, &[select]).map(|mut v| v.swap_remove(0))
}

/// Several parts of one document, parsed once (a signature's verification needs
/// three canonical subtrees of the same XML).
pub fn canonicalize_many(xml: &[u8], selects: &[Select<'_>]) -> Result<Vec<Vec<u8>>, C14nError> {
    // libxml2's C14N cannot serialise unexpanded entity references (and prints to
    // stderr trying); DTDs are refused everywhere else in the harness too, and
    // `parse_untrusted` refuses them in the decoded text, whatever the encoding.
    let doc = parse_untrusted(xml).map_err(|e| match e.code {
        DIAG_DOCTYPE => C14nError::Doctype,
        _ => C14nError::NotWellFormed(e.message),
    })?;
    let mut out = Vec::with_capacity(selects.len());
    for select in selects {
        let text = match *select {
            Select::Document => document_form(&doc)?,
            Select::Id(id) => {
                let root = doc.get_root_element().ok_or(C14nError::Failed)?;
                let mut node = find(&root, &|n| {
                    n.get_attribute_no_ns("Id").as_deref() == Some(id)
                })
                .ok_or_else(|| C14nError::NotFound(format!("with Id=\"{id}\"")))?;
                node.canonicalize(options())
                    .map_err(|()| C14nError::Failed)?
                    .into_bytes()
            }
            Select::Element { ns, local } => {
                let root = doc.get_root_element().ok_or(C14nError::Failed)?;
                let mut node = find(&root, &|n| {
                    n.get_name() == local
                        && n.get_namespace().map(|x| x.get_href()).as_deref() == Some(ns)
                })
                .ok_or_else(|| C14nError::NotFound(format!("{{{ns}}}{local}")))?;
                node.canonicalize(options())
                    .map_err(|()| C14nError::Failed)?
                    .into_bytes()
            }
        };
        out.push(text);
    }
    Ok(out)
}

/// The whole document's canonical form: what [`canonicalize`] gives for
/// [`Select::Document`] once the bytes are parsed.
pub(crate) fn document_form(doc: &Document) -> Result<Vec<u8>, C14nError> {
    doc.canonicalize(options(), None)
        .map(String::into_bytes)
        .map_err(|()| C14nError::Failed)
}

fn find(node: &Node, pred: &dyn Fn(&Node) -> bool) -> Option<Node> {
    if pred(node) {
        return Some(node.clone());
    }
    node.get_child_elements().iter().find_map(|c| find(c, pred))
}
