//! Canonical XML (inclusive C14N 1.0, without comments) through libxml2.
//!
//! The signature binding hashes the canonical form of the payload, and xmldsig
//! digests canonical subtrees; both go through here so that only this crate
//! touches libxml2.
//!
//! The canonical bytes are libxml2's, copied verbatim from an in-memory output
//! buffer after `xmlC14NExecute` (the call behind `xmlC14NDocSaveTo`). The `libxml`
//! crate's own `canonicalize` converts each chunk libxml2 writes with
//! `String::from_utf8_lossy`, so a multi-byte character split across two chunks
//! (16,000 bytes of one string at a time) became U+FFFD, and the digest matched no
//! other implementation; `fixtures/c14n/multibyte.tsv` keeps that from coming back.

#![allow(unsafe_code)]

use crate::xml::{parse_untrusted, DIAG_DOCTYPE};
use libxml::bindings as b;
use libxml::tree::{Document, Node};
use std::ffi::{c_int, c_void};

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
                let node = find(&root, &|n| {
                    n.get_attribute_no_ns("Id").as_deref() == Some(id)
                })
                .ok_or_else(|| C14nError::NotFound(format!("with Id=\"{id}\"")))?;
                exact(&doc, Some(&node))?
            }
            Select::Element { ns, local } => {
                let root = doc.get_root_element().ok_or(C14nError::Failed)?;
                let node = find(&root, &|n| {
                    n.get_name() == local
                        && n.get_namespace().map(|x| x.get_href()).as_deref() == Some(ns)
                })
                .ok_or_else(|| C14nError::NotFound(format!("{{{ns}}}{local}")))?;
                exact(&doc, Some(&node))?
            }
        };
        out.push(text);
    }
    Ok(out)
}

/// The whole document's canonical form: what [`canonicalize`] gives for
/// [`Select::Document`] once the bytes are parsed.
pub(crate) fn document_form(doc: &Document) -> Result<Vec<u8>, C14nError> {
    exact(doc, None)
}

/// Inclusive C14N 1.0 without comments of `doc`, or of the subtree at `subtree`
/// with the namespaces in scope there, as libxml2 wrote it, byte for byte.
fn exact(doc: &Document, subtree: Option<&Node>) -> Result<Vec<u8>, C14nError> {
    let doc_ptr = doc.doc_ptr();
    let (visible, root): (b::xmlC14NIsVisibleCallback, *mut c_void) = match subtree {
        Some(node) => (Some(within_subtree), node.node_ptr().cast()),
        None => (None, std::ptr::null_mut()),
    };
    if doc_ptr.is_null() {
        return Err(C14nError::Failed);
    }
    // SAFETY: `doc` (and so `subtree`, one of its nodes) stays alive and unchanged for
    // the whole call. A buffer without an encoder or write callback keeps everything
    // written to it in memory; we copy its content before closing (which frees it
    // with libxml2's own allocator), and a NULL buffer is never passed on.
    unsafe {
        let buf = b::xmlAllocOutputBuffer(std::ptr::null_mut());
        if buf.is_null() {
            return Err(C14nError::Failed);
        }
        let status = b::xmlC14NExecute(
            doc_ptr,
            visible,
            root,
            b::xmlC14NMode_XML_C14N_1_0 as c_int,
            std::ptr::null_mut(), // inclusive namespace prefixes: exclusive C14N only
            0,                    // without comments
            buf,
        );
        let content = b::xmlOutputBufferGetContent(buf);
        let len = b::xmlOutputBufferGetSize(buf);
        let bytes = if status < 0 || (content.is_null() && len > 0) {
            None
        } else if len == 0 {
            Some(Vec::new())
        } else {
            Some(std::slice::from_raw_parts(content, len).to_vec())
        };
        b::xmlOutputBufferClose(buf);
        bytes.ok_or(C14nError::Failed)
    }
}

/// The node types that are themselves in or out of a subtree; any other (a namespace
/// node, CDATA, an entity reference) is judged by its parent. The same choice as the
/// `libxml` crate's `Node::canonicalize`.
const OWN_NODE_TYPES: [b::xmlElementType; 7] = [
    b::xmlElementType_XML_ELEMENT_NODE,
    b::xmlElementType_XML_ATTRIBUTE_NODE,
    b::xmlElementType_XML_DOCUMENT_TYPE_NODE,
    b::xmlElementType_XML_TEXT_NODE,
    b::xmlElementType_XML_DTD_NODE,
    b::xmlElementType_XML_PI_NODE,
    b::xmlElementType_XML_COMMENT_NODE,
];

/// libxml2's visibility callback for a subtree: a node is in the node set when the
/// subtree's root (`root`) is the node itself or one of its ancestors.
unsafe extern "C" fn within_subtree(
    root: *mut c_void,
    node: b::xmlNodePtr,
    parent: b::xmlNodePtr,
) -> c_int {
    let root: b::xmlNodePtr = root.cast();
    // SAFETY: libxml2 passes nodes of the document being canonicalised, which
    // outlives the call. `node` may be an `xmlNs` (a namespace node): its `type`
    // field sits where an `xmlNode`'s does (libxml2 relies on the same layout), and
    // its `parent` is never read since such a node is judged by `parent`.
    unsafe {
        let mut n = if !node.is_null() && OWN_NODE_TYPES.contains(&(*node).type_) {
            node
        } else {
            parent
        };
        while !n.is_null() {
            if n == root {
                return 1;
            }
            n = (*n).parent;
        }
    }
    0
}

fn find(node: &Node, pred: &dyn Fn(&Node) -> bool) -> Option<Node> {
    if pred(node) {
        return Some(node.clone());
    }
    node.get_child_elements().iter().find_map(|c| find(c, pred))
}
