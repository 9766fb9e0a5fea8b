//! Validating while parsing: one libxml2 pass that feeds the XSD validator (libxml2's
//! schema SAX plug, `xmlSchemaSAXPlug`) and builds the rules' element tree at the same
//! time, without building a libxml2 document. This is the crate's FFI for that pass;
//! everything it hands on is safe Rust ([`TreeBuilder`]).
//!
//! The pass only ever answers "clean": well-formed, schema-valid, no DTD, and a tree the
//! rules can read. Anything else (a parse error, a schema error, a DOCTYPE that slipped
//! past the scan, an event the tree cannot take) makes [`validate`] return `None`, and
//! the validator reports the document from a parsed document as before, so a
//! document's findings never depend on which path ran. The hardening is the same:
//! the text is the one [`crate::decode`] produced and the DOCTYPE scan accepted; the
//! parser gets `XML_PARSE_NONET` and `XML_PARSE_IGNORE_ENC`, never loads a DTD, and
//! every entity load goes through the process-wide loader in [`crate::xml`].
//!
//! [`validate_keeping_doc`] is the same pass with libxml2's own tree builder (its
//! default SAX2 handlers, which `xmlCtxtReadMemory` uses) behind the callbacks and
//! the parser options of [`crate::xml::parse_with_diagnostics`]: a clean document
//! comes back with the libxml2 document that parse would have built, for work that
//! needs one (the canonical form a signature binds), without parsing it again.
#![allow(unsafe_code)]

use crate::tree::{Kind, Tree, TreeBuilder};
use crate::xml::{install_entity_loader, memory_input};
use libxml::bindings as b;
use libxml::schemas::SchemaValidationContext;
use libxml::tree::Document;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::rc::Rc;

const XSI_NS: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

/// Parser options of the pass: no network, no DTD loading (the scan has refused any
/// DOCTYPE already), the declaration's encoding ignored (the text is UTF-8 we decoded;
/// with no 0x00, 0xFE or 0xFF byte, libxml2's sniffing can only find UTF-8), no
/// diagnostics printed.
const OPTIONS: c_int = (b::xmlParserOption_XML_PARSE_NONET
    | b::xmlParserOption_XML_PARSE_NOERROR
    | b::xmlParserOption_XML_PARSE_NOWARNING
    | b::xmlParserOption_XML_PARSE_IGNORE_ENC) as c_int;

/// Options of a pass that keeps its document: those above plus the two of
/// [`crate::xml::safe_options`] that shape the tree (`XML_PARSE_NSCLEAN`, which the
/// libxml crate's `no_implied` sets for XML, and `XML_PARSE_COMPACT`), so that the
/// document is the one [`crate::xml::parse_with_diagnostics`] builds from the text.
const OPTIONS_KEEPING_DOC: c_int = OPTIONS
    | (b::xmlParserOption_XML_PARSE_NSCLEAN | b::xmlParserOption_XML_PARSE_COMPACT) as c_int;

/// Names a reused parser context may collect in its dictionary before it is replaced,
/// so that a long run over documents with ever new names keeps bounded memory.
const MAX_DICT_NAMES: c_int = 4096;

/// Distinct element names a parser keeps shared; a document with more gets the rest
/// as strings of their own.
const MAX_SHARED_NAMES: usize = 256;

/// What the callbacks fill in.
struct Pass<'p, 's> {
    tree: TreeBuilder<'s>,
    /// Build the tree (payloads) or only validate (envelopes).
    with_tree: bool,
    /// The parser, to learn where in the text a run of character data stands.
    ctxt: b::xmlParserCtxtPtr,
    names: &'p mut Vec<(*const b::xmlChar, Rc<str>, Kind)>,
    /// libxml2's tree builder, called after the pass's own work on each event when
    /// the pass keeps its document.
    builder: Option<&'p b::xmlSAXHandler>,
}

/// One parser context per thread, reused from document to document (creating one
/// costs about as much as parsing a notification).
struct Parser {
    ctxt: b::xmlParserCtxtPtr,
    /// The SAX handler libxml2 allocated with the context; put back before freeing.
    own_sax: *mut b::xmlSAXHandler,
    sax: Box<b::xmlSAXHandler>,
    /// The handler of a pass that keeps its document: libxml2's default SAX2
    /// handlers, with the events the pass reads routed through it first.
    sax_doc: Box<b::xmlSAXHandler>,
    /// libxml2's default SAX2 handlers as `xmlSAXVersion` set them.
    builder: Box<b::xmlSAXHandler>,
    /// Element names by the address of libxml2's copy in the context's dictionary
    /// (which lives as long as the context), each shared by every element of the name.
    names: Vec<(*const b::xmlChar, Rc<str>, Kind)>,
}

impl Parser {
    fn new() -> Option<Parser> {
        install_entity_loader();
        // SAFETY: plain constructor; a null result is handled.
        let ctxt = unsafe { b::xmlNewParserCtxt() };
        if ctxt.is_null() {
            return None;
        }
        // SAFETY: `ctxt` is a live context we own.
        let own_sax = unsafe { (*ctxt).sax };
        // SAFETY: an all-zero xmlSAXHandler is valid (every callback NULL).
        let mut sax: Box<b::xmlSAXHandler> = Box::new(unsafe { std::mem::zeroed() });
        sax.initialized = b::XML_SAX2_MAGIC;
        sax.startElementNs = Some(start_element);
        sax.endElementNs = Some(end_element);
        sax.characters = Some(characters);
        // The same function for both, so the plug does not split them.
        sax.ignorableWhitespace = Some(characters);
        sax.cdataBlock = Some(characters);
        // Second net behind the DOCTYPE scan: a DTD ends the pass's trust.
        sax.internalSubset = Some(subset);
        sax.externalSubset = Some(subset);
        // SAFETY: as above; xmlSAXVersion fills in every default SAX2 callback.
        let mut builder: Box<b::xmlSAXHandler> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `builder` is a valid, writable handler.
        if unsafe { b::xmlSAXVersion(&mut *builder, 2) } != 0 {
            return None;
        }
        let mut sax_doc = builder.clone();
        sax_doc.startElementNs = Some(doc_start_element);
        sax_doc.endElementNs = Some(doc_end_element);
        sax_doc.characters = Some(doc_characters);
        sax_doc.ignorableWhitespace = Some(doc_ignorable_whitespace);
        sax_doc.cdataBlock = Some(doc_cdata_block);
        sax_doc.internalSubset = Some(doc_internal_subset);
        sax_doc.externalSubset = Some(doc_external_subset);
        Some(Parser {
            ctxt,
            own_sax,
            sax,
            sax_doc,
            builder,
            names: Vec::new(),
        })
    }
}

impl Drop for Parser {
    fn drop(&mut self) {
        // SAFETY: the context is ours; its own handler goes back so that libxml2 frees
        // what it allocated, never our Box.
        unsafe {
            (*self.ctxt).sax = self.own_sax;
            (*self.ctxt).userData = self.ctxt.cast();
            b::xmlFreeParserCtxt(self.ctxt);
        }
    }
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `text` once, validating it against `schema` and (with `with_tree`) building
/// the rules' tree. `Some` only when the document is well-formed and schema-valid, has
/// no DTD and the tree is faithful; `None` means "report it from a parsed document".
pub(crate) fn validate<'s>(
    schema: &mut SchemaValidationContext,
    text: &'s str,
    with_tree: bool,
) -> Option<Tree<'s>> {
    run(schema, text, with_tree, false).map(|(tree, _)| tree)
}

/// [`validate`], also building the libxml2 document of the text as
/// [`crate::xml::parse_with_diagnostics`] would (see the module documentation);
/// `Some` under the same conditions, with that document.
pub(crate) fn validate_keeping_doc<'s>(
    schema: &mut SchemaValidationContext,
    text: &'s str,
    with_tree: bool,
) -> Option<(Tree<'s>, Document)> {
    let (tree, doc) = run(schema, text, with_tree, true)?;
    Some((tree, doc?))
}

fn run<'s>(
    schema: &mut SchemaValidationContext,
    text: &'s str,
    with_tree: bool,
    keep_doc: bool,
) -> Option<(Tree<'s>, Option<Document>)> {
    PARSER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            *slot = Parser::new();
        }
        let parser = slot.as_mut()?;
        let mut pass = Pass {
            tree: TreeBuilder::new(text),
            with_tree,
            ctxt: parser.ctxt,
            names: &mut parser.names,
            builder: keep_doc.then_some(&*parser.builder),
        };
        let vctxt = schema.as_ptr();
        let mut kept: Option<Document> = None;
        // SAFETY: `ctxt`, `vctxt` and `pass` outlive the parse; the plug is undone
        // before either pointer handed to libxml2 goes out of scope, and the context is
        // left pointing at its own handler data only through `Parser`.
        // A pass that keeps its document hands libxml2's tree builder the parser
        // context as its user data, as a plain parse does, and finds the pass through
        // the context's `_private`.
        let pass_ptr: *mut Pass = &mut pass;
        let (clean, dict_names) = unsafe {
            let ctxt = parser.ctxt;
            let (sax, user, private, options): (_, *mut c_void, *mut c_void, _) = if keep_doc {
                (
                    &mut *parser.sax_doc,
                    ctxt.cast(),
                    pass_ptr.cast(),
                    OPTIONS_KEEPING_DOC,
                )
            } else {
                (
                    &mut *parser.sax,
                    pass_ptr.cast(),
                    std::ptr::null_mut(),
                    OPTIONS,
                )
            };
            (*ctxt).sax = sax;
            (*ctxt).userData = user;
            let plug = b::xmlSchemaSAXPlug(vctxt, &mut (*ctxt).sax, &mut (*ctxt).userData);
            let clean = if plug.is_null() {
                false
            } else {
                let quiet = QuietErrors::install();
                let parsed = read_memory(ctxt, text, private, options);
                drop(quiet);
                let built_doc = parsed.is_some_and(|doc| !doc.is_null());
                let valid = b::xmlSchemaIsValid(vctxt) == 1;
                b::xmlSchemaSAXUnplug(plug);
                let clean = parsed.is_some() && (*ctxt).wellFormed != 0 && valid;
                // Only a pass that keeps its document may have built one.
                let clean = clean && built_doc == keep_doc;
                if let Some(doc) = parsed.filter(|doc| !doc.is_null()) {
                    if clean {
                        kept = Some(Document::new_ptr(doc));
                    } else {
                        b::xmlFreeDoc(doc);
                    }
                }
                clean
            };
            (*ctxt).sax = parser.own_sax;
            (*ctxt).userData = ctxt.cast();
            (*ctxt)._private = std::ptr::null_mut();
            (clean, b::xmlDictSize((*ctxt).dict))
        };
        // Errors of a pass that is not used are not reported; the tree path reports
        // the document's own.
        let errors = schema.drain_errors();
        let tree = (clean && errors.is_empty() && !pass.tree.unsure).then(|| pass.tree.finish());
        let kept = kept.filter(|_| tree.is_some());
        if dict_names > MAX_DICT_NAMES {
            // The shared names are the tree's own (counted), so they outlive the parser;
            // a kept document holds its own reference to the dictionary.
            *slot = None;
        }
        tree.map(|t| (t, kept))
    })
}

/// `xmlCtxtReadMemory(ctxt, text, len, NULL, NULL, options)`, step by step, over an
/// input without the no-op reader ([`crate::xml::memory_input`]). Returns the document
/// libxml2 built (NULL when a SAX handler builds none), or `None` when no input could
/// be made and nothing was parsed. `private` is the context's `_private` for the parse.
///
/// # Safety
/// `ctxt` is a live parser context.
unsafe fn read_memory(
    ctxt: b::xmlParserCtxtPtr,
    text: &str,
    private: *mut c_void,
    options: c_int,
) -> Option<b::xmlDocPtr> {
    // SAFETY: the calls and their order are xmlCtxtReadMemory's and xmlDoRead's (2.9):
    // reset, an input over a copy of the text pushed on the context, the options, then
    // the parse; the input is the context's to free from the moment it is pushed. The
    // document, if any, is handed back even when not well-formed (xmlDoRead frees it
    // then); the caller frees it either way.
    unsafe {
        b::xmlInitParser();
        b::xmlCtxtReset(ctxt);
        let stream = memory_input(ctxt, text.as_bytes());
        if stream.is_null() {
            return None;
        }
        b::inputPush(ctxt, stream);
        b::xmlCtxtUseOptions(ctxt, options);
        (*ctxt)._private = private;
        b::xmlParseDocument(ctxt);
        let doc = (*ctxt).myDoc;
        (*ctxt).myDoc = std::ptr::null_mut();
        Some(doc)
    }
}

/// Silences libxml2's thread-wide structured error handler while the pass runs (its
/// errors are never reported), restoring whatever was installed before.
struct QuietErrors {
    handler: b::xmlStructuredErrorFunc,
    data: *mut c_void,
}

impl QuietErrors {
    fn install() -> QuietErrors {
        // SAFETY: libxml2's per-thread globals, read and set on this thread.
        unsafe {
            let saved = QuietErrors {
                handler: *b::__xmlStructuredError(),
                data: *b::__xmlStructuredErrorContext(),
            };
            b::xmlSetStructuredErrorFunc(std::ptr::null_mut(), Some(ignore_error));
            saved
        }
    }
}

impl Drop for QuietErrors {
    fn drop(&mut self) {
        // SAFETY: puts back the handler read in `install`.
        unsafe { b::xmlSetStructuredErrorFunc(self.data, self.handler) }
    }
}

unsafe extern "C" fn ignore_error(_data: *mut c_void, _error: b::xmlErrorPtr) {}

/// The pass behind a callback's user data.
///
/// # Safety
/// `ctx` is the `Pass` that [`validate`] handed to libxml2 for this parse.
unsafe fn pass<'a, 'p, 's>(ctx: *mut c_void) -> &'a mut Pass<'p, 's> {
    // SAFETY: see the function's contract.
    unsafe { &mut *ctx.cast::<Pass<'p, 's>>() }
}

/// The shared string for the element name libxml2 passed at `p` (`None`: NULL or not
/// UTF-8).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that lives for the call.
unsafe fn shared_name(
    names: &mut Vec<(*const b::xmlChar, Rc<str>, Kind)>,
    p: *const b::xmlChar,
) -> Option<(Rc<str>, Kind)> {
    // The address finds the entry (libxml2 hands on the dictionary's copy of a name);
    // the text is compared too, byte by byte up to the first difference, so a name
    // from anywhere else can never be mistaken for another.
    let same = |n: &str| {
        // SAFETY: reading stops at the first byte that differs from `n`, at the latest
        // at `p`'s terminating NUL (`n` has no NUL).
        unsafe { n.bytes().enumerate().all(|(i, c)| *p.add(i) == c) && *p.add(n.len()) == 0 }
    };
    if let Some((_, n, kind)) = names.iter().find(|(q, n, _)| *q == p && same(n)) {
        return Some((Rc::clone(n), *kind));
    }
    // SAFETY: see the function's contract.
    let n: Rc<str> = unsafe { c_str(p) }?.into();
    let kind = Kind::of(&n);
    if names.len() < MAX_SHARED_NAMES {
        names.push((p, Rc::clone(&n), kind));
    }
    Some((n, kind))
}

/// A NUL-terminated libxml2 string as UTF-8 (`None` for NULL or not UTF-8).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that lives for `'a`.
unsafe fn c_str<'a>(p: *const b::xmlChar) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: see the function's contract.
    unsafe { CStr::from_ptr(p.cast::<c_char>()) }.to_str().ok()
}

/// `len` bytes at `p` (libxml2's text and attribute values).
///
/// # Safety
/// `p` points at `len` readable bytes that live for `'a`.
unsafe fn bytes<'a>(p: *const b::xmlChar, len: usize) -> &'a [u8] {
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: see the function's contract.
    unsafe { std::slice::from_raw_parts(p, len) }
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn start_element(
    ctx: *mut c_void,
    localname: *const b::xmlChar,
    _prefix: *const b::xmlChar,
    uri: *const b::xmlChar,
    _nb_namespaces: c_int,
    _namespaces: *mut *const b::xmlChar,
    nb_attributes: c_int,
    _nb_defaulted: c_int,
    attributes: *mut *const b::xmlChar,
) {
    // SAFETY: libxml2 passes our user data and its own live strings; `attributes` holds
    // five pointers (local name, prefix, URI, value, end of value) per attribute.
    unsafe {
        let pass = pass(ctx);
        if !pass.with_tree || pass.tree.unsure {
            return;
        }
        let Some((name, kind)) = shared_name(pass.names, localname) else {
            pass.tree.unsure = true;
            return;
        };
        // The rules read the namespace and attributes of the root only.
        let root = pass.tree.at_root();
        let ns = if root { c_str(uri) } else { None };
        let mut schema_location = None;
        let n = usize::try_from(nb_attributes).unwrap_or(0);
        if root && !attributes.is_null() {
            for i in 0..n {
                let a = attributes.add(5 * i);
                let (local, a_uri) = (c_str(*a), *a.add(2));
                if local != Some("schemaLocation")
                    || a_uri.is_null()
                    || CStr::from_ptr(a_uri.cast()).to_bytes() != XSI_NS
                {
                    continue;
                }
                let (start, end) = (*a.add(3), *a.add(4));
                let len = usize::try_from(end.offset_from(start)).unwrap_or(0);
                let value = bytes(start, len);
                // libxml2 hands references in attribute values on as `&#38;`; the
                // document's own reading of them is the tree path's.
                match std::str::from_utf8(value) {
                    Ok(v) if !v.contains('&') => schema_location = Some(v),
                    _ => pass.tree.unsure = true,
                }
            }
        }
        pass.tree.start(name, kind, ns, schema_location);
    }
}

unsafe extern "C" fn end_element(
    ctx: *mut c_void,
    _localname: *const b::xmlChar,
    _prefix: *const b::xmlChar,
    _uri: *const b::xmlChar,
) {
    // SAFETY: libxml2 passes our user data.
    let pass = unsafe { pass(ctx) };
    if pass.with_tree {
        pass.tree.end();
    }
}

unsafe extern "C" fn characters(ctx: *mut c_void, ch: *const b::xmlChar, len: c_int) {
    // SAFETY: libxml2 passes our user data and `len` bytes at `ch`.
    unsafe {
        let pass = pass(ctx);
        if !pass.with_tree || pass.tree.unsure || !pass.tree.wants_text() {
            return;
        }
        let len = usize::try_from(len).unwrap_or(0);
        let chunk = bytes(ch, len);
        // Plain character data is a run of the text itself: borrowed, not copied.
        let borrowed = source_offset(pass.ctxt, ch, len)
            .and_then(|at| Some(at..at.checked_add(len)?))
            .filter(|at| pass.tree.source().get(at.clone()) == Some(chunk))
            .and_then(|at| pass.tree.text_at(at));
        if borrowed.is_some() {
            return;
        }
        match std::str::from_utf8(chunk) {
            Ok(t) => pass.tree.text(t),
            Err(_) => pass.tree.unsure = true,
        }
    }
}

/// Where `len` bytes at `ch` stand in the text being parsed, if they lie in the
/// parser's input buffer (plain character data; text from a reference or that libxml2
/// copied elsewhere does not). libxml2's buffer is a copy of the text, minus the
/// `consumed` bytes it has dropped from its front. Only a hint: the tree compares the
/// bytes before it borrows them.
///
/// # Safety
/// `ctxt` is the live context of the running parse.
unsafe fn source_offset(
    ctxt: b::xmlParserCtxtPtr,
    ch: *const b::xmlChar,
    len: usize,
) -> Option<usize> {
    // SAFETY: the context and its current input are live during a callback; only
    // pointer values are compared, nothing is read through them.
    unsafe {
        let input = (*ctxt).input;
        if input.is_null() || (*input).base.is_null() || (*input).end.is_null() {
            return None;
        }
        let (base, end) = ((*input).base as usize, (*input).end as usize);
        let (at, stop) = (ch as usize, (ch as usize).checked_add(len)?);
        if at < base || stop > end {
            return None;
        }
        usize::try_from((*input).consumed)
            .ok()?
            .checked_add(at - base)
    }
}

unsafe extern "C" fn subset(
    ctx: *mut c_void,
    _name: *const b::xmlChar,
    _external_id: *const b::xmlChar,
    _system_id: *const b::xmlChar,
) {
    // SAFETY: libxml2 passes our user data.
    unsafe { pass(ctx) }.tree.unsure = true;
}

// The callbacks of a pass that keeps its document: libxml2 hands them the parser
// context (libxml2's tree builder needs it); the pass is the context's `_private`.
// Each does the pass's own work first, then the tree builder's.

/// The pass of a parse that keeps its document.
///
/// # Safety
/// `ctx` is the live parser context of a pass run by [`validate_keeping_doc`].
unsafe fn doc_pass(ctx: *mut c_void) -> *mut c_void {
    // SAFETY: see the function's contract.
    unsafe { (*ctx.cast::<b::xmlParserCtxt>())._private }
}

/// libxml2's tree builder of the pass behind `p`.
///
/// # Safety
/// `p` is NULL or the pass [`doc_pass`] found.
unsafe fn builder<'a>(p: *mut c_void) -> Option<&'a b::xmlSAXHandler> {
    if p.is_null() {
        return None;
    }
    // SAFETY: see the function's contract.
    unsafe { pass(p) }.builder
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn doc_start_element(
    ctx: *mut c_void,
    localname: *const b::xmlChar,
    prefix: *const b::xmlChar,
    uri: *const b::xmlChar,
    nb_namespaces: c_int,
    namespaces: *mut *const b::xmlChar,
    nb_attributes: c_int,
    nb_defaulted: c_int,
    attributes: *mut *const b::xmlChar,
) {
    // SAFETY: libxml2 passes the context and its own live arguments, handed on as is.
    unsafe {
        let p = doc_pass(ctx);
        if !p.is_null() {
            start_element(
                p,
                localname,
                prefix,
                uri,
                nb_namespaces,
                namespaces,
                nb_attributes,
                nb_defaulted,
                attributes,
            );
        }
        if let Some(f) = builder(p).and_then(|h| h.startElementNs) {
            f(
                ctx,
                localname,
                prefix,
                uri,
                nb_namespaces,
                namespaces,
                nb_attributes,
                nb_defaulted,
                attributes,
            );
        }
    }
}

unsafe extern "C" fn doc_end_element(
    ctx: *mut c_void,
    localname: *const b::xmlChar,
    prefix: *const b::xmlChar,
    uri: *const b::xmlChar,
) {
    // SAFETY: as in `doc_start_element`.
    unsafe {
        let p = doc_pass(ctx);
        if !p.is_null() {
            end_element(p, localname, prefix, uri);
        }
        if let Some(f) = builder(p).and_then(|h| h.endElementNs) {
            f(ctx, localname, prefix, uri);
        }
    }
}

/// A text event (characters, ignorable whitespace, CDATA): the rules' pass reads each
/// as characters, and libxml2's tree builder gets it through its own handler, `pick`.
///
/// # Safety
/// As for `doc_start_element`.
unsafe fn doc_text(
    ctx: *mut c_void,
    ch: *const b::xmlChar,
    len: c_int,
    pick: fn(&b::xmlSAXHandler) -> b::charactersSAXFunc,
) {
    // SAFETY: as in `doc_start_element`.
    unsafe {
        let p = doc_pass(ctx);
        if !p.is_null() {
            characters(p, ch, len);
        }
        if let Some(f) = builder(p).and_then(pick) {
            f(ctx, ch, len);
        }
    }
}

unsafe extern "C" fn doc_characters(ctx: *mut c_void, ch: *const b::xmlChar, len: c_int) {
    // SAFETY: as in `doc_start_element`.
    unsafe { doc_text(ctx, ch, len, |h| h.characters) }
}

unsafe extern "C" fn doc_ignorable_whitespace(ctx: *mut c_void, ch: *const b::xmlChar, len: c_int) {
    // SAFETY: as in `doc_start_element`.
    unsafe { doc_text(ctx, ch, len, |h| h.ignorableWhitespace) }
}

unsafe extern "C" fn doc_cdata_block(ctx: *mut c_void, ch: *const b::xmlChar, len: c_int) {
    // SAFETY: as in `doc_start_element`.
    unsafe { doc_text(ctx, ch, len, |h| h.cdataBlock) }
}

unsafe extern "C" fn doc_internal_subset(
    ctx: *mut c_void,
    name: *const b::xmlChar,
    external_id: *const b::xmlChar,
    system_id: *const b::xmlChar,
) {
    // SAFETY: as in `doc_start_element`.
    unsafe {
        let p = doc_pass(ctx);
        if !p.is_null() {
            subset(p, name, external_id, system_id);
        }
        if let Some(f) = builder(p).and_then(|h| h.internalSubset) {
            f(ctx, name, external_id, system_id);
        }
    }
}

unsafe extern "C" fn doc_external_subset(
    ctx: *mut c_void,
    name: *const b::xmlChar,
    external_id: *const b::xmlChar,
    system_id: *const b::xmlChar,
) {
    // SAFETY: as in `doc_start_element`.
    unsafe {
        let p = doc_pass(ctx);
        if !p.is_null() {
            subset(p, name, external_id, system_id);
        }
        if let Some(f) = builder(p).and_then(|h| h.externalSubset) {
            f(ctx, name, external_id, system_id);
        }
    }
}
