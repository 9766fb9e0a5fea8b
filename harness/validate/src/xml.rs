//! Parsing untrusted bytes with libxml2, defended in three layers:
//!
//! 1. **Decoding is ours.** [`crate::decode`] turns the bytes into UTF-8 text from an
//!    allow-list of encodings; anything else is refused before libxml2 runs. libxml2
//!    parses only that text, with UTF-8 forced and the declared encoding ignored, so
//!    no encoding (UTF-7, EBCDIC, ISO-2022…) can hide markup from the DOCTYPE scan.
//! 2. **A DOCTYPE is refused** in the decoded text before parsing (and again if a
//!    parsed document still has one).
//! 3. **No entity is ever loaded.** The process-wide external-entity loader refuses
//!    every URL except the schema files a [`crate::Validator`] registered in memory
//!    (so `xs:import` between them resolves without touching the file system), and
//!    the parser options never load DTDs, substitute entities or use the network.
//!
//! libxml2 2.9.14 also stops entity loops and amplification on its own; the fixtures
//! under `fixtures/invalid/EIOA-X005` keep that true.

use crate::decode::{decode, DecodeError};
use libxml::error::StructuredError;
use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::tree::Document;
use std::collections::HashMap;
use std::sync::{Arc, Once, RwLock};

/// One diagnostic from libxml2's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub line: u32,
    pub column: u32,
    pub code: i32,
    pub message: String,
}

/// [`Diag::code`] of a document refused for its DOCTYPE before parsing.
pub const DIAG_DOCTYPE: i32 = -2;
/// [`Diag::code`] of a document refused for its encoding before parsing.
pub const DIAG_ENCODING: i32 = -3;

impl Diag {
    pub(crate) fn from_structured(e: &StructuredError) -> Self {
        Diag {
            line: e.line.map_or(0, |l| l.max(0) as u32),
            column: e.col.map_or(0, |c| c.max(0) as u32),
            code: e.code,
            message: e.message.as_deref().unwrap_or("").trim_end().to_string(),
        }
    }
}

pub(crate) fn safe_options() -> ParserOptions<'static> {
    ParserOptions {
        recover: false,
        // The libxml crate turns this flag into 4 for XML documents, which is libxml2's
        // XML_PARSE_DTDLOAD (HTML_PARSE_NODEFDTD only for HTML): off, so no external
        // DTD is ever asked for even if a DOCTYPE got past the scan.
        no_def_dtd: false,
        no_error: true,
        no_warning: true,
        pedantic: false,
        no_blanks: false,
        no_net: true,
        no_implied: true,
        huge: false,
        compact: true,
        // The text is UTF-8 we decoded ourselves: a declaration must not switch the
        // parser to another decoder, and the first bytes must not be sniffed.
        ignore_enc: true,
        encoding: Some("UTF-8"),
    }
}

/// Parses text the harness decoded itself (see the module documentation); on
/// failure, libxml2's diagnostics.
pub(crate) fn parse_with_diagnostics(text: &str) -> Result<(Document, Vec<Diag>), Vec<Diag>> {
    install_entity_loader();
    let parser = Parser::default();
    match parser.parse_string_with_diagnostics(text.as_bytes(), safe_options()) {
        Ok((doc, diags)) => Ok((doc, diags.iter().map(Diag::from_structured).collect())),
        Err(XmlParseFailure::ParseFailed(diags)) => {
            Err(diags.iter().map(Diag::from_structured).collect())
        }
        Err(_) => Err(vec![Diag {
            line: 0,
            column: 0,
            code: -1,
            message: "libxml2 could not parse the document".into(),
        }]),
    }
}

/// Parses untrusted XML, reporting the first error only. The bytes are decoded and
/// scanned exactly as [`crate::Validator`] does: an unsupported encoding or a
/// DOCTYPE is refused before libxml2 runs ([`DIAG_ENCODING`], [`DIAG_DOCTYPE`]).
pub fn parse_untrusted(bytes: &[u8]) -> Result<Document, Diag> {
    let refused = |code, message: String| Diag {
        line: 1,
        column: 1,
        code,
        message,
    };
    let text = decode(bytes)
        .map_err(|e| refused(DIAG_ENCODING, describe(&e)))?
        .text;
    if let Some(o) = crate::validator::doctype_offset(text.as_bytes()) {
        let (line, column) = crate::validator::line_col(text.as_bytes(), o);
        return Err(Diag {
            line,
            column,
            code: DIAG_DOCTYPE,
            message: "the document has a DOCTYPE, which is never parsed here".into(),
        });
    }
    let (doc, _) = parse_with_diagnostics(&text).map_err(|mut d| {
        if d.is_empty() {
            refused(-1, "not well-formed".into())
        } else {
            d.swap_remove(0)
        }
    })?;
    if crate::tree::has_dtd(&doc) {
        return Err(refused(
            DIAG_DOCTYPE,
            "the document has a DOCTYPE, which is never parsed here".into(),
        ));
    }
    Ok(doc)
}

/// A short description of a decoding failure, for callers without findings.
fn describe(e: &DecodeError) -> String {
    match e {
        DecodeError::NotUtf8 { offset, .. } => format!("byte {offset} is not UTF-8"),
        DecodeError::NotAscii { offset, label, .. } => {
            format!("byte {offset} is not ASCII, but the document declares {label}")
        }
        DecodeError::Utf8UnderOther { label, .. } => {
            format!("the bytes are UTF-8 but the document declares {label}")
        }
        DecodeError::Malformed { label, .. } => format!("the bytes are not valid {label}"),
        DecodeError::Unsupported { label } => {
            format!("encoding {label} is not read here; use UTF-8")
        }
    }
}

// ---------------------------------------------------------------------------
// The external-entity loader.

/// Schema files registered by validators, by the URL their documents carry.
static MEMORY: RwLock<Option<HashMap<String, Arc<[u8]>>>> = RwLock::new(None);
static LOADER: Once = Once::new();

/// The URL prefix of in-memory schema files. It is not a scheme libxml2 can open,
/// so nothing but the loader below can ever resolve it.
const SCHEME: &str = "eioa-schema://";

/// Installs, once per process, the loader that refuses every external entity but
/// registered schema files. Called before any libxml2 parse in this crate.
pub(crate) fn install_entity_loader() {
    LOADER.call_once(|| {
        libxml::init_parser();
        // SAFETY: sets a process-wide function pointer; `Once` runs it before any
        // parse in this crate, which is the only libxml2 user in the workspace.
        #[allow(unsafe_code)]
        unsafe {
            libxml::bindings::xmlSetExternalEntityLoader(Some(load_entity));
        }
    });
}

/// Registers schema files under `eioa-schema://{set}/{name}`; they stay loadable
/// until [`unregister_schemas`]. Returns the URL of each file, by name.
pub(crate) fn register_schemas(
    set: &str,
    files: &[(String, Arc<[u8]>)],
) -> HashMap<String, String> {
    install_entity_loader();
    let mut guard = MEMORY.write().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    let mut urls = HashMap::new();
    for (name, bytes) in files {
        let url = format!("{SCHEME}{set}/{name}");
        map.insert(url.clone(), bytes.clone());
        urls.insert(name.clone(), url);
    }
    urls
}

pub(crate) fn unregister_schemas(set: &str) {
    let prefix = format!("{SCHEME}{set}/");
    let mut guard = MEMORY.write().unwrap_or_else(|p| p.into_inner());
    if let Some(map) = guard.as_mut() {
        map.retain(|url, _| !url.starts_with(&prefix));
    }
}

/// Parses one registered schema file as a document whose URL lets its relative
/// `xs:import`s resolve through the loader.
#[allow(unsafe_code)]
pub(crate) fn parse_schema(url: &str, bytes: &[u8]) -> Option<Document> {
    install_entity_loader();
    let c_url = std::ffi::CString::new(url).ok()?;
    let len = i32::try_from(bytes.len()).ok()?;
    let options = (libxml::bindings::xmlParserOption_XML_PARSE_NONET
        | libxml::bindings::xmlParserOption_XML_PARSE_NOERROR
        | libxml::bindings::xmlParserOption_XML_PARSE_NOWARNING) as i32;
    // SAFETY: the buffer and URL outlive the call; libxml2 copies what it keeps.
    let ptr = unsafe {
        libxml::bindings::xmlReadMemory(
            bytes.as_ptr().cast(),
            len,
            c_url.as_ptr(),
            std::ptr::null(),
            options,
        )
    };
    if ptr.is_null() {
        None
    } else {
        Some(Document::new_ptr(ptr))
    }
}

/// A parser input for `ctxt` over a copy of `bytes` (null when libxml2 cannot make
/// one, or the bytes are more than an `int` can count). When the copy holds the whole
/// text, its buffer gets no read callback: libxml2 2.9 gives memory a no-op reader and
/// then "grows" the buffer through it on almost every token of the last 250 bytes
/// (about 10 k instructions of a 160 k notification); later versions may read memory
/// in chunks through that very callback, and then it stays.
///
/// # Safety
/// `ctxt` is a live parser context.
#[allow(unsafe_code)]
pub(crate) unsafe fn memory_input(
    ctxt: libxml::bindings::xmlParserCtxtPtr,
    bytes: &[u8],
) -> libxml::bindings::xmlParserInputPtr {
    use libxml::bindings as b;
    let Ok(len) = i32::try_from(bytes.len()) else {
        return std::ptr::null_mut();
    };
    // SAFETY: libxml2 copies `bytes` into the new buffer; the input stream takes
    // ownership of the buffer, which is freed here only if no stream was made.
    unsafe {
        let buf = b::xmlParserInputBufferCreateMem(
            bytes.as_ptr().cast(),
            len,
            b::xmlCharEncoding_XML_CHAR_ENCODING_NONE,
        );
        if buf.is_null() {
            return std::ptr::null_mut();
        }
        if b::xmlBufUse((*buf).buffer) == bytes.len() {
            (*buf).readcallback = None;
        }
        let input = b::xmlNewIOInputStream(ctxt, buf, b::xmlCharEncoding_XML_CHAR_ENCODING_NONE);
        if input.is_null() {
            b::xmlFreeParserInputBuffer(buf);
        }
        input
    }
}

/// The loader libxml2 calls for every external entity, DTD and schema import.
#[allow(unsafe_code)]
unsafe extern "C" fn load_entity(
    url: *const std::os::raw::c_char,
    _id: *const std::os::raw::c_char,
    ctxt: libxml::bindings::xmlParserCtxtPtr,
) -> libxml::bindings::xmlParserInputPtr {
    use libxml::bindings as b;
    let refused = std::ptr::null_mut();
    if url.is_null() {
        return refused;
    }
    // SAFETY: libxml2 passes a NUL-terminated string.
    let c_url = unsafe { std::ffi::CStr::from_ptr(url) };
    let Ok(key) = c_url.to_str() else {
        return refused;
    };
    if !key.starts_with(SCHEME) {
        return refused;
    }
    let guard = MEMORY.read().unwrap_or_else(|p| p.into_inner());
    let Some(bytes) = guard.as_ref().and_then(|m| m.get(key)) else {
        return refused;
    };
    // SAFETY: `ctxt` is the parser libxml2 is loading for; `filename` is freed with
    // xmlFree, so it is allocated by libxml2's own strdup.
    unsafe {
        let input = memory_input(ctxt, bytes);
        if input.is_null() {
            return refused;
        }
        (*input).filename = b::xmlCharStrdup(url).cast();
        input
    }
}
