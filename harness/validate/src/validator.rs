//! The validation pipeline: bytes -> prechecks -> libxml2 parse -> XSD -> rules.

use crate::c14n;
use crate::decode::{decode, DecodeError, NotUtf8};
use crate::finding::{Finding, Report, Severity};
use crate::rules;
use crate::schema::{Role, SchemaSet, SchemaSetInfo};
use crate::stream;
use crate::tree::{has_dtd, Tree};
use crate::xml::{self, parse_with_diagnostics, Diag};
use crate::Error;
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use libxml::tree::Document;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Default size limit for one document: 1 MiB, far above a real notification (~2 KB).
pub const DEFAULT_MAX_BYTES: usize = 1 << 20;

/// Knobs for a [`Validator`].
#[derive(Debug, Clone)]
pub struct ValidatorOptions {
    /// Documents larger than this are not parsed (finding `EIOA-X004`).
    pub max_bytes: usize,
    /// The day date rules compare against (age, plausibility); `None` = today (UTC).
    pub today: Option<time::Date>,
}

impl Default for ValidatorOptions {
    fn default() -> Self {
        ValidatorOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            today: None,
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    // libxml2 validation contexts are not thread-safe: each thread compiles and keeps
    // its own, keyed by validator id. Compiling takes well under a millisecond.
    // The schema's parsed document is kept beside its context for as long as it lives.
    static CONTEXTS: RefCell<HashMap<(u64, Role), (SchemaValidationContext, Document)>> = RefCell::new(HashMap::new());
}

/// Validates payloads and SOAP envelopes against one schema set. `Send + Sync`:
/// share one per process; libxml2 state lives in per-thread caches.
#[derive(Debug)]
pub struct Validator {
    id: u64,
    set: Arc<SchemaSet>,
    info: SchemaSetInfo,
    opts: ValidatorOptions,
    /// The set's files, loadable by libxml2 from memory (never from disk) so that
    /// `xs:import` between them resolves; unregistered on drop.
    urls: SchemaUrls,
}

#[derive(Debug)]
struct SchemaUrls {
    key: String,
    by_name: HashMap<String, String>,
}

impl Drop for SchemaUrls {
    fn drop(&mut self) {
        xml::unregister_schemas(&self.key);
    }
}

impl Validator {
    /// Compiles the set once on this thread to surface schema errors early.
    pub fn new(set: SchemaSet, opts: ValidatorOptions) -> Result<Self, Error> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let key = format!(
            "{}-{id}",
            set.id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let files: Vec<_> = set
            .files
            .iter()
            .map(|f| (f.name.clone(), f.bytes.clone()))
            .collect();
        let by_name = xml::register_schemas(&key, &files);
        let urls = SchemaUrls { key, by_name };
        let v = Validator {
            id,
            info: set.info(),
            set: Arc::new(set),
            opts,
            urls,
        };
        v.with_context(Role::Payload, |_| ())?;
        v.with_context(Role::Envelope, |_| ())?;
        Ok(v)
    }

    /// The embedded default set with default options.
    pub fn embedded() -> Result<Self, Error> {
        Validator::new(SchemaSet::embedded(), ValidatorOptions::default())
    }

    pub fn info(&self) -> &SchemaSetInfo {
        &self.info
    }

    pub fn schema_set(&self) -> &SchemaSet {
        &self.set
    }

    pub fn options(&self) -> &ValidatorOptions {
        &self.opts
    }

    fn with_context<R>(
        &self,
        role: Role,
        f: impl FnOnce(&mut SchemaValidationContext) -> R,
    ) -> Result<R, Error> {
        CONTEXTS.with(|cell| {
            let mut map = cell.borrow_mut();
            let ctx = match map.entry((self.id, role)) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => slot.insert(self.compile(role)?),
            };
            Ok(f(&mut ctx.0))
        })
    }

    fn compile(&self, role: Role) -> Result<(SchemaValidationContext, Document), Error> {
        let file = self.set.file(role).ok_or_else(|| {
            Error::SchemaIncomplete(format!("set `{}` has no {role:?} schema", self.set.id))
        })?;
        let compile_error = |message: String| Error::SchemaCompile {
            id: self.set.id.clone(),
            message,
        };
        let url = &self.urls.by_name[&file.name];
        let doc = xml::parse_schema(url, &file.bytes)
            .ok_or_else(|| compile_error(format!("{} is not well-formed XML", file.name)))?;
        let mut parser = SchemaParserContext::from_document(&doc);
        let ctx = SchemaValidationContext::from_parser(&mut parser).map_err(|errs| {
            compile_error(
                errs.iter()
                    .map(|e| e.message.as_deref().unwrap_or("").trim().to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        Ok((ctx, doc))
    }

    /// Validates one `AnmalanFranArbetsgivare` payload: XML, XSD, then business rules.
    pub fn validate(&self, bytes: &[u8]) -> Report {
        self.run(bytes, Role::Payload, true)
    }

    /// Validates a SOAP 1.1 envelope (request, response or fault) against the envelope
    /// and Responder schemas. The base64 payload inside is not decoded here.
    pub fn validate_envelope(&self, bytes: &[u8]) -> Report {
        self.run(bytes, Role::Envelope, false)
    }

    /// [`Validator::validate`], and the payload's canonical form (inclusive C14N 1.0
    /// without comments: the bytes [`crate::c14n::canonicalize`] gives for
    /// [`crate::c14n::Select::Document`]) when the one pass found it clean: that pass
    /// then builds the libxml2 document the canonical form is taken from, so the
    /// payload is parsed once for both. `None` when the document was reported from a
    /// parsed document instead (it has findings other than the prechecks' warnings); a
    /// caller that still needs the form asks `canonicalize`. The report is the one
    /// `validate` gives.
    pub fn validate_canonical(&self, bytes: &[u8]) -> (Report, Option<Vec<u8>>) {
        let mut canonical = None;
        let report = self.run_on(
            bytes,
            Role::Payload,
            true,
            Path::Streaming,
            Some(&mut canonical),
        );
        (report, canonical)
    }

    fn run(&self, bytes: &[u8], role: Role, with_rules: bool) -> Report {
        self.run_on(bytes, role, with_rules, Path::Streaming, None)
    }

    /// With `canonical`, a document the one pass finds clean is canonicalised from the
    /// document that pass built (see [`Validator::validate_canonical`]).
    fn run_on(
        &self,
        bytes: &[u8],
        role: Role,
        with_rules: bool,
        path: Path,
        canonical: Option<&mut Option<Vec<u8>>>,
    ) -> Report {
        let mut findings = Vec::new();
        let Some(text) = precheck(bytes, self.opts.max_bytes, &mut findings) else {
            return Report { findings };
        };
        // A DOCTYPE is refused before libxml2 sees the document: nothing in it is ever
        // loaded or expanded, whatever the parser's defaults. The scan runs on the
        // decoded text, which is all libxml2 is ever given.
        if let Some(o) = doctype_offset(text.as_bytes()) {
            let (line, column) = line_col(text.as_bytes(), o);
            findings.push(doctype_finding(line, column));
            return Report { findings };
        }
        if let Some(f) = too_many_attributes(text.as_bytes()) {
            findings.push(f);
            return Report { findings };
        }
        // One pass first: parsing, the schema and the rules' tree together, no libxml2
        // document. Only a clean document is reported from it; any other goes through
        // the parsed document below, which gives every finding its place. Payloads
        // only: on SOAP envelopes libxml2's streaming and tree validation disagree
        // about QName values (`<faultcode>soap:Client</faultcode>`: the tree path
        // reports no namespace in scope, the streaming one and xmllint accept it), and
        // a document's findings must not depend on the path.
        if path == Path::Streaming && role == Role::Payload {
            let keep_doc = canonical.is_some();
            if let Some(doc) = self.clean_in_one_pass(&text, role, with_rules, keep_doc) {
                if let (Some(out), Some(doc)) = (canonical, doc) {
                    *out = c14n::document_form(&doc).ok();
                }
                return finish(findings);
            }
        }
        let doc = match parse_with_diagnostics(&text) {
            Ok((doc, _)) => doc,
            Err(diags) => {
                findings.push(not_well_formed(diags));
                return Report { findings };
            }
        };
        // Second net: a DTD the scan above missed is still refused.
        if has_dtd(&doc) {
            findings.push(doctype_finding(1, 1));
            return Report { findings };
        }
        let source: &str = &text;
        let xsd = self.with_context(role, |ctx| ctx.validate_document(&doc));
        // The rules' tree, also what places schema findings: built only when there are
        // rules to check or schema errors to place. A valid envelope needs neither, and
        // copying its base64 text into a tree was a fifth of its check.
        let needs_tree = with_rules || !matches!(xsd, Ok(Ok(())));
        let tree = needs_tree.then(|| Tree::from_doc(&doc, source));
        match xsd {
            Ok(Ok(())) => {}
            Ok(Err(errors)) => {
                for e in errors.iter().take(MAX_SCHEMA_FINDINGS) {
                    findings.push(schema_finding(&Diag::from_structured(e), tree.as_ref()));
                }
                if errors.len() > MAX_SCHEMA_FINDINGS {
                    findings.push(Finding {
                        rule: "EIOA-S001".into(),
                        severity: Severity::Error,
                        line: 0,
                        column: 0,
                        path: None,
                        message: format!(
                            "and {} more schema errors",
                            errors.len() - MAX_SCHEMA_FINDINGS
                        ),
                        hint: hint("fix the errors above first"),
                        kind: Some("other".into()),
                    });
                }
            }
            Err(e) => findings.push(Finding {
                rule: rules::S000.id.into(),
                severity: Severity::Error,
                line: 0,
                column: 0,
                path: None,
                message: e.to_string(),
                hint: hint("check the schema set with `eioa schema show`"),
                kind: None,
            }),
        }
        if let Some(tree) = tree.as_ref().filter(|_| with_rules) {
            findings.extend(rules::check(tree, self.today()));
        }
        finish(findings)
    }

    /// Whether one streaming pass ([`crate::stream`]) finds the document well-formed,
    /// schema-valid and (with `with_rules`) without a rule finding: `Some` then, with
    /// the libxml2 document the pass built when `keep_doc` asks for it
    /// ([`stream::validate_keeping_doc`]; a pass that could not keep one is not clean).
    fn clean_in_one_pass(
        &self,
        text: &str,
        role: Role,
        with_rules: bool,
        keep_doc: bool,
    ) -> Option<Option<Document>> {
        let pass = self.with_context(role, |ctx| {
            if keep_doc {
                stream::validate_keeping_doc(ctx, text, with_rules).map(|(t, d)| (t, Some(d)))
            } else {
                stream::validate(ctx, text, with_rules).map(|t| (t, None))
            }
        });
        let Ok(Some((tree, doc))) = pass else {
            return None;
        };
        (!with_rules || rules::check(&tree, self.today()).is_empty()).then_some(doc)
    }

    fn today(&self) -> time::Date {
        self.opts
            .today
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().date())
    }
}

/// The report: messages shortened, findings in document order.
fn finish(mut findings: Vec<Finding>) -> Report {
    // libxml2 quotes offending values whole; a 5 MB text node must not become a 5 MB
    // message.
    for f in &mut findings {
        shorten(&mut f.message);
    }
    findings.sort_by_key(|f| (f.line, f.column));
    Report { findings }
}

/// Which way [`Validator::run_on`] takes: the streaming pass first (always, outside
/// the tests that compare it with the other), or the parsed document alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Streaming,
    #[cfg(test)]
    TreeOnly,
}

/// Schema errors reported per document; a flood of them says nothing more.
const MAX_SCHEMA_FINDINGS: usize = 100;
/// Attributes allowed on one element. A notification has at most three (namespace
/// declarations and xsi:schemaLocation); thousands make parsers quadratic.
const MAX_ATTRIBUTES: usize = 64;

fn doctype_finding(line: u32, column: u32) -> Finding {
    Finding {
        rule: "EIOA-X005".into(),
        severity: Severity::Error,
        line,
        column,
        path: None,
        message: "the document has a DOCTYPE; DTDs and entity declarations are never loaded or expanded here and have no place in a notification".into(),
        hint: hint("remove the <!DOCTYPE …> declaration and any entity references"),
        kind: None,
    }
}

/// Counts the attributes of each start tag: a cheap, linear bound before any parser
/// runs (libxml2 checks attributes for duplicates in quadratic time). Comments, CDATA
/// sections, processing instructions, declarations and end tags are skipped whole, and
/// quotes count only where an attribute value starts, so no stray quote elsewhere can
/// switch the count off.
fn too_many_attributes(bytes: &[u8]) -> Option<Finding> {
    // Every attribute counted below is an `=`: a document with no more `=` in all
    // than one tag may have attributes cannot break the bound (one SIMD count instead
    // of a walk over every tag, for nearly every document).
    if memchr::memchr_iter(b'=', bytes).count() <= MAX_ATTRIBUTES {
        return None;
    }
    let n = bytes.len();
    let skip_past =
        |from: usize, end: &[u8]| find(&bytes[from..], end).map_or(n, |p| from + p + end.len());
    let mut i = 0;
    while i < n {
        // Straight to the next tag (memchr compares many bytes at a time).
        match memchr::memchr(b'<', &bytes[i..]) {
            Some(p) => i += p,
            None => break,
        }
        let rest = &bytes[i..];
        if rest.starts_with(b"<!--") {
            i = skip_past(i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_past(i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_past(i + 2, b"?>");
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") {
            i = skip_past(i + 2, b">");
        } else {
            // A start tag: every `=` outside a value is one attribute; a value runs
            // from the quote after `=` to the same quote.
            let mut count = 0usize;
            i += 1;
            loop {
                match memchr::memchr3(b'=', b'>', b'<', &bytes[i..]) {
                    Some(p) if bytes[i + p] == b'=' => i += p,
                    Some(p) => {
                        i += p;
                        break;
                    }
                    None => {
                        i = n;
                        break;
                    }
                }
                count += 1;
                if count > MAX_ATTRIBUTES {
                    let (line, column) = line_col(bytes, i);
                    return Some(Finding {
                        rule: "EIOA-X008".into(),
                        severity: Severity::Error,
                        line,
                        column,
                        path: None,
                        message: format!("an element has more than {MAX_ATTRIBUTES} attributes; the document is not parsed"),
                        hint: hint("a notification's elements carry no attributes besides namespace declarations"),
                        kind: None,
                    });
                }
                i += 1;
                while i < n && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if let Some(&q @ (b'"' | b'\'')) = bytes.get(i) {
                    i = memchr::memchr(q, &bytes[i + 1..]).map_or(n, |p| i + 1 + p + 1);
                }
            }
        }
    }
    None
}

/// `EIOA-X004` for a document over `max` bytes: `size` is its length when known, or
/// `None` for a stream that was not read past the limit.
pub(crate) fn too_large(size: Option<u64>, max: usize) -> Finding {
    let message = match size {
        Some(n) => format!(
            "the document is {n} bytes, over the limit of {max}; a notification is about 2 KB"
        ),
        None => format!(
            "the document is more than {max} bytes (the limit; it was not read further); a notification is about 2 KB"
        ),
    };
    Finding {
        rule: rules::X004.id.into(),
        severity: Severity::Error,
        line: 0,
        column: 0,
        path: None,
        message,
        hint: hint("check that the file is one notification (raise the limit with --max-bytes if it really is)"),
        kind: None,
    }
}

/// Empty, size, BOM and encoding checks on the raw bytes, then decoding (see
/// [`crate::decode`]). Returns the document as UTF-8 text, the only form libxml2
/// ever parses, or stops with the reason among the findings.
fn precheck<'b>(bytes: &'b [u8], max: usize, out: &mut Vec<Finding>) -> Option<Cow<'b, str>> {
    let whole = |rule: &str, severity, message: String, hint_text: &str| Finding {
        rule: rule.into(),
        severity,
        line: 1,
        column: 1,
        path: None,
        message,
        hint: hint(hint_text),
        kind: None,
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        out.push(whole(
            "EIOA-X003",
            Severity::Error,
            "the document is empty".into(),
            "send the notification XML itself, not an empty file",
        ));
        return None;
    }
    if bytes.len() > max {
        out.push(too_large(Some(bytes.len() as u64), max));
        return None;
    }
    let decoded = match decode(bytes) {
        Ok(d) => d,
        Err(e) => {
            let body = match bytes {
                [0xEF, 0xBB, 0xBF, rest @ ..] => rest,
                _ => bytes,
            };
            // The declaration is read, just not trusted: say which one it was too.
            if let DecodeError::NotAscii { label, .. } | DecodeError::Utf8UnderOther { label, .. } =
                &e
            {
                out.push(whole(
                    "EIOA-X007",
                    Severity::Warning,
                    format!("the document declares encoding=\"{label}\""),
                    "encode notifications as UTF-8",
                ));
            }
            out.push(decode_finding(body, e));
            return None;
        }
    };
    if let Some(kind) = decoded.bom {
        out.push(whole(
            "EIOA-X006",
            Severity::Warning,
            format!("the document starts with a {kind} byte order mark"),
            "write UTF-8 without a BOM: the signed bytes must be exactly what FK parses",
        ));
    }
    match &decoded.not_utf8 {
        None => {}
        Some(NotUtf8::Utf16 { le, bom }) => out.push(whole(
            "EIOA-X007",
            Severity::Warning,
            format!(
                "the document is encoded as UTF-16{}{}",
                if *le { "LE" } else { "BE" },
                if *bom {
                    ""
                } else {
                    " without a byte order mark"
                }
            ),
            "encode notifications as UTF-8",
        )),
        Some(NotUtf8::Declared(label)) => out.push(whole(
            "EIOA-X007",
            Severity::Warning,
            format!("the document declares encoding=\"{label}\""),
            "encode notifications as UTF-8",
        )),
    }
    if let Some(p) = memchr::memchr(0, decoded.text.as_bytes()) {
        let (line, column) = line_col(decoded.text.as_bytes(), p);
        out.push(Finding {
            rule: "EIOA-X001".into(),
            severity: Severity::Error,
            line,
            column,
            path: None,
            message: "the document contains a NUL character (U+0000), which XML does not allow"
                .into(),
            hint: hint(
                "remove the NUL bytes; a file full of them is probably UTF-32 or binary, not UTF-8",
            ),
            kind: None,
        });
        return None;
    }
    Some(decoded.text)
}

/// The finding for bytes that cannot be decoded (`body`: after any UTF-8 BOM).
fn decode_finding(body: &[u8], e: DecodeError) -> Finding {
    match e {
        DecodeError::NotUtf8 {
            offset,
            byte,
            declared,
        } => encoding_error(
            body,
            offset,
            format!(
                "byte 0x{byte:02X} at offset {offset} is not UTF-8, but the document {}",
                if declared {
                    "declares encoding=\"UTF-8\""
                } else {
                    "declares no encoding, so it must be UTF-8"
                }
            ),
            "save the file as UTF-8, or declare the encoding the bytes really use",
        ),
        DecodeError::NotAscii {
            offset,
            byte,
            label,
        } => encoding_error(
            body,
            offset,
            format!("byte 0x{byte:02X} is not ASCII, but the document declares encoding=\"{label}\""),
            "declare encoding=\"UTF-8\" and save the file as UTF-8",
        ),
        DecodeError::Utf8UnderOther {
            offset,
            label,
            seen,
            as_read,
        } => encoding_error(
            body,
            offset,
            format!(
                "the bytes are UTF-8 but the document declares encoding=\"{label}\": `{seen}` would be read as `{as_read}`"
            ),
            "declare encoding=\"UTF-8\" (the bytes already are)",
        ),
        DecodeError::Malformed { label, offset } => encoding_error(
            body,
            offset.min(body.len()),
            format!("the bytes are not valid {label}, the encoding the document declares or starts with"),
            "save the file as UTF-8 and declare encoding=\"UTF-8\"",
        ),
        DecodeError::Unsupported { label } => encoding_error(
            body,
            // Point at the name in the declaration, where there is one.
            find(body, format!("\"{label}\"").as_bytes())
                .or_else(|| find(body, format!("'{label}'").as_bytes()))
                .map_or(0, |p| p + 1),
            format!(
                "the document is in {}, an encoding the harness does not read (FK expects UTF-8; \
                 UTF-16, ISO-8859-1, US-ASCII and the WHATWG encodings are read with a warning)",
                if label.contains("UTF-32") { label } else { format!("encoding=\"{label}\"") }
            ),
            "save the file as UTF-8 and declare encoding=\"UTF-8\"",
        ),
    }
}

/// Longest message kept whole; longer ones are cut with a note of their length.
const MAX_MESSAGE_CHARS: usize = 400;

fn shorten(message: &mut String) {
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        let total = message.len();
        message.truncate(cut);
        message.push_str(&format!("… ({total} bytes in all)"));
    }
}

/// An `EIOA-X002` finding at a byte offset.
fn encoding_error(body: &[u8], offset: usize, message: String, fix: &str) -> Finding {
    let (line, column) = line_col(body, offset);
    Finding {
        rule: "EIOA-X002".into(),
        severity: Severity::Error,
        line,
        column,
        path: None,
        message,
        hint: hint(fix),
        kind: None,
    }
}

/// Where a `<!DOCTYPE` starts in the prolog, if there is one.
pub(crate) fn doctype_offset(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'<' if bytes[i..].starts_with(b"<?") => i += find(&bytes[i..], b"?>")? + 2,
            b'<' if bytes[i..].starts_with(b"<!--") => i += find(&bytes[i..], b"-->")? + 3,
            b'<' if bytes[i..].starts_with(b"<!DOCTYPE") => return Some(i),
            _ => return None,
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => memchr::memchr(*b, hay),
        _ => memchr::memmem::find(hay, needle),
    }
}

pub(crate) fn line_col(bytes: &[u8], offset: usize) -> (u32, u32) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() as u32 + 1;
    (line, col)
}

fn not_well_formed(diags: Vec<Diag>) -> Finding {
    let d = diags.into_iter().next().unwrap_or(Diag {
        line: 0,
        column: 0,
        code: -1,
        message: "not well-formed".into(),
    });
    // libxml2's encoding errors: XML_ERR_INVALID_CHAR (9), XML_ERR_UNSUPPORTED_ENCODING (32),
    // XML_ERR_INVALID_ENCODING (81).
    let encoding = matches!(d.code, 32 | 81)
        || d.message.contains("not proper UTF-8")
        || d.message.contains("encoding");
    let (rule, hint_text) = if encoding {
        (
            "EIOA-X002",
            "save the file in the encoding its XML declaration names (UTF-8)",
        )
    } else if d.message.contains("xmlParseEntityRef") || d.message.contains("EntityRef") {
        ("EIOA-X001", "escape & as &amp; and < as &lt; in text")
    } else if d.message.contains("Document is empty") || d.message.contains("Start tag expected") {
        ("EIOA-X001", "the file does not start with XML; check that it is the notification and not base64 or a SOAP dump")
    } else if d.message.contains("Premature end")
        || d.message.contains("EndTag")
        || d.message.contains("end of data")
    {
        (
            "EIOA-X001",
            "the document is cut short or a tag is not closed; check how the file was written",
        )
    } else if d.message.contains("Detected an entity reference loop")
        || d.message.contains("amplification")
    {
        (
            "EIOA-X005",
            "remove the DOCTYPE and its entity declarations",
        )
    } else {
        ("EIOA-X001", "fix the XML syntax at the position shown")
    };
    Finding {
        rule: rule.into(),
        severity: Severity::Error,
        line: d.line,
        column: d.column,
        path: None,
        message: format!("not well-formed XML: {}", d.message),
        hint: hint(hint_text),
        kind: None,
    }
}

/// libxml2 writes `{namespace}local` for every element; the path already says where.
fn strip_namespaces(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    while let Some(i) = rest.find('{') {
        match rest[i..].find('}') {
            // `{urn:…}` or `{http://…}`, not a regex quantifier such as `{12}`.
            Some(j) if rest[i + 1..i + j].contains(':') && !rest[i + 1..i + j].contains(' ') => {
                out.push_str(&rest[..i]);
                rest = &rest[i + j + 1..];
            }
            _ => {
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Classifies a libxml2 schema error and places it on the element it names.
fn schema_finding(d: &Diag, tree: Option<&Tree<'_>>) -> Finding {
    let m = d.message.as_str();
    let kind = if m.contains("This element is not expected") {
        "unexpected-element"
    } else if m.contains("Missing child element") {
        "missing-element"
    } else if m.contains("is not accepted by the pattern") {
        "pattern"
    } else if m.contains("is not an element of the set") {
        "enumeration"
    } else if m.contains("is not a valid value of") {
        "datatype"
    } else if m.contains("attribute") && m.contains("is not allowed") {
        "attribute"
    } else if m.contains("Character content") || m.contains("Element content is not allowed") {
        "text"
    } else if m.contains("No matching global declaration") {
        "root"
    } else {
        "other"
    };
    let hint_text = match kind {
        "unexpected-element" => {
            "Check the element's name, namespace and position against the schema's order."
        }
        "missing-element" => "Add the missing element in the position the schema gives.",
        "pattern" => "Give the value in the format the schema's pattern requires.",
        "enumeration" => "Use one of the allowed values.",
        "datatype" => {
            "Give a value of the element's type (dates as YYYY-MM-DD, booleans as true/false)."
        }
        "attribute" => "Remove the attribute: the schema declares none.",
        "text" => "Remove the text between elements.",
        "root" => "The root must be AnmalanFranArbetsgivare in FK's payload namespace.",
        _ => "Compare the element with the schema.",
    };
    // libxml2 names the element as `Element '{ns}local'` or `Element 'local'`.
    let element = m
        .split_once("Element '")
        .and_then(|(_, r)| r.split_once('\''))
        .map(|(e, _)| e.rsplit('}').next().unwrap_or(e).to_string());
    let located = tree.and_then(|t| t.locate(d.line, element.as_deref()));
    Finding {
        rule: "EIOA-S001".into(),
        severity: Severity::Error,
        line: d.line,
        column: located.as_ref().map_or(d.column, |n| n.1),
        path: located.map(|n| n.0),
        message: strip_namespaces(m.trim_end_matches('.')),
        hint: Some(hint_text.into()),
        kind: Some(kind.into()),
    }
}

/// Hints read as one sentence: capitalised, ending with a full stop.
fn hint(s: &str) -> Option<String> {
    let mut c = s.chars();
    let first = c.next()?;
    let mut out: String = first.to_uppercase().chain(c).collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn validator() -> &'static Validator {
        static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
        V.get_or_init(|| {
            let today = time::Date::from_calendar_date(2026, time::Month::November, 26).unwrap();
            Validator::new(
                SchemaSet::embedded(),
                ValidatorOptions {
                    today: Some(today),
                    ..Default::default()
                },
            )
            .unwrap()
        })
    }

    /// The report with the streaming pass and without it, as payload and as envelope;
    /// and the pass that keeps its document gives the same report and, when it gives
    /// a canonical form, the one `c14n::canonicalize` gives. Whether it gave one.
    fn assert_same_on_both_paths(bytes: &[u8], what: &str) -> bool {
        let v = validator();
        for (role, rules) in [(Role::Payload, true), (Role::Envelope, false)] {
            let streamed = v.run_on(bytes, role, rules, Path::Streaming, None);
            let tree = v.run_on(bytes, role, rules, Path::TreeOnly, None);
            assert_eq!(streamed, tree, "{what} as {role:?}");
        }
        let (report, canonical) = v.validate_canonical(bytes);
        assert_eq!(
            report,
            v.validate(bytes),
            "{what}: validate_canonical's report"
        );
        let Some(canonical) = canonical else {
            return false;
        };
        let parsed_again = c14n::canonicalize(bytes, c14n::Select::Document);
        // Compared as bytes: a lossy conversion would hide the very corruption a
        // canonical form must not have.
        assert!(
            parsed_again.as_ref() == Ok(&canonical),
            "{what}: canonical form from the one pass: {:?}, parsed again: {:?}",
            String::from_utf8_lossy(&canonical),
            parsed_again.map(|c| String::from_utf8_lossy(&c).into_owned()),
        );
        true
    }

    /// Valid fixtures changed in the ways a canonical form must see through: the XML
    /// declaration, comments and processing instructions inside and outside the
    /// root, CDATA, character and entity references, a redundant namespace
    /// declaration (libxml2 drops it under XML_PARSE_NSCLEAN), an unused prefix,
    /// CRLF line ends, tabs, a BOM. Each is clean, so the canonical form comes from
    /// the one pass, and it is the one a second parse gives.
    #[test]
    fn the_one_pass_canonical_form_is_the_parsed_documents() {
        let ns = "http://schema.forsakringskassan.se/integration/isassistansersattning/ioa/anmalanfranarbetsgivare/1";
        type Change = Box<dyn Fn(&str) -> String>;
        let variants: Vec<(&str, Change)> = vec![
            ("as is", Box::new(|t: &str| t.to_string())),
            (
                "no declaration",
                Box::new(|t: &str| t.split_once("?>").map_or(t, |(_, rest)| rest).to_string()),
            ),
            (
                "comments and PIs",
                Box::new(|t: &str| {
                    let (decl, rest) = t.split_once("?>").unwrap_or(("", t));
                    let rest = rest.replacen("<id>", "<!-- c --><?pi in?><id>", 1);
                    format!("{decl}?>\n<!-- before -->\n<?app x?>{rest}<!-- after -->\n<?app y?>\n")
                }),
            ),
            (
                "CDATA and references",
                Box::new(|t: &str| {
                    t.replacen("<fornamn>", "<fornamn><![CDATA[]]>", 1)
                        .replacen("Testsson<", "Test&#x73;son<", 1)
                        .replacen("<efternamn>", "<efternamn>&#84;", 1)
                        .replacen("<efternamn>&#84;T", "<efternamn>&#84;", 1)
                }),
            ),
            (
                "redundant namespace declaration",
                Box::new(move |t: &str| {
                    t.replacen("<assistent>", &format!("<assistent xmlns=\"{ns}\">"), 1)
                }),
            ),
            (
                "unused prefix",
                Box::new(|t: &str| {
                    t.replacen(
                        "<AnmalanFranArbetsgivare ",
                        "<AnmalanFranArbetsgivare xmlns:u=\"urn:unused\" ",
                        1,
                    )
                }),
            ),
            (
                "CRLF and tabs",
                Box::new(|t: &str| t.replace('\n', "\r\n\t")),
            ),
            ("BOM", Box::new(|t: &str| format!("\u{feff}{t}"))),
        ];
        let valid: Vec<_> = fixture_files()
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "valid"))
            .collect();
        assert!(valid.len() >= 8);
        for f in &valid {
            let text = std::fs::read_to_string(f).unwrap();
            for (what, change) in &variants {
                let changed = change(&text);
                let name = format!("{} {what}", f.display());
                assert!(
                    assert_same_on_both_paths(changed.as_bytes(), &name),
                    "{name}: no canonical form from the one pass: {:?}",
                    validator().validate(changed.as_bytes()).findings
                );
            }
        }
    }

    fn fixture_files() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        // The same walk `eioa validate fixtures` makes (sorted, every `*.xml`).
        crate::input::collect(&[root])
            .unwrap()
            .into_iter()
            .filter_map(crate::input::Input::into_path)
            .collect()
    }

    /// Every fixture (valid, invalid, warnings, FAQ, envelopes, regressions, C14N
    /// inputs) gets the same findings whether the streaming pass ran first or not.
    #[test]
    fn the_streaming_pass_never_changes_a_fixtures_findings() {
        let files = fixture_files();
        assert!(files.len() > 50, "{} fixtures", files.len());
        let (mut clean, mut canonical) = (0, 0);
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            canonical += usize::from(assert_same_on_both_paths(&bytes, &f.display().to_string()));
            clean += usize::from(validator().validate(&bytes).findings.is_empty());
        }
        // The pass decides for the clean ones; they must be there to be compared.
        assert!(clean >= 8, "only {clean} clean fixtures");
        assert!(
            canonical >= clean,
            "{canonical} canonical forms, {clean} clean fixtures"
        );
    }

    /// The streaming pass does decide the clean documents (otherwise every document
    /// would be parsed twice and the comparisons above would prove nothing).
    #[test]
    fn the_streaming_pass_finds_the_valid_fixtures_clean() {
        for f in fixture_files()
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "valid"))
        {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(
                validator()
                    .clean_in_one_pass(&text, Role::Payload, true, false)
                    .is_some(),
                "{}",
                f.display()
            );
        }
    }

    /// Edits that keep a document close to valid: the places where the streaming
    /// pass and the parsed document could disagree (text, CDATA, references,
    /// comments, white space, attributes, namespaces, element structure).
    fn edit() -> impl Strategy<Value = (usize, &'static str)> {
        (
            0usize..4000,
            prop::sample::select(vec![
                "",
                " ",
                "\n",
                "\t",
                "x",
                "&amp;",
                "&#38;",
                "&#x41;",
                "&lt;",
                "<![CDATA[ ]]>",
                "<![CDATA[a&b]]>",
                "<!-- c -->",
                "<?pi x?>",
                "<x/>",
                "</x>",
                "<a:b xmlns:a='urn:x'/>",
                " xsi:nil='true'",
                " xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'",
                " xsi:schemaLocation='a &amp; b'",
                " xsi:schemaLocation='a b c'",
                "<!DOCTYPE r>",
                "YYYYMMDDXXXX",
                "false",
                "true",
                "1",
                "0",
                "2025-02-29",
                "  padded ",
                "\u{e5}\u{e4}\u{f6}",
                ">",
                "=",
                "'",
                "\"",
            ]),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        /// Valid fixtures with up to three edits at random places: same findings on
        /// both paths, clean or not.
        #[test]
        fn the_streaming_pass_agrees_with_the_tree_on_edited_documents(
            which in 0usize..64,
            edits in prop::collection::vec((edit(), 0usize..3, any::<bool>()), 1..4),
        ) {
            let valid: Vec<_> = fixture_files()
                .into_iter()
                .filter(|p| p.components().any(|c| c.as_os_str() == "valid"))
                .collect();
            let mut text = std::fs::read_to_string(&valid[which % valid.len()]).unwrap();
            for ((at, insert), cut, in_text) in edits {
                let mut at = at % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if in_text {
                    // The start of the next element's text, where the rules look.
                    let b = text.as_bytes();
                    if let Some(p) = (at..b.len().saturating_sub(1))
                        .find(|&i| b[i] == b'>' && !matches!(b[i + 1], b'<' | b'\n' | b' '))
                    {
                        at = p + 1;
                    }
                }
                let mut end = (at + cut).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, insert);
            }
            assert_same_on_both_paths(text.as_bytes(), &text);
        }
    }

    fn attributes(n: usize) -> String {
        (0..n).map(|i| format!(" a{i}=\"v\"")).collect()
    }

    /// Nothing before an element can switch the attribute count off: not a quote in
    /// a comment, a CDATA section, a processing instruction or text.
    #[test]
    fn the_attribute_bound_cannot_be_switched_off() {
        let many = attributes(MAX_ATTRIBUTES + 1);
        for prefix in [
            "",
            "<!-- it's -->",
            "<!-- \" -->",
            "<?pi it's?>",
            "<r><![CDATA[ ' \" ]]></r>",
            "<r>it's \" text</r>",
            "<r a='x>y' b=\"'\"/>",
            "</r a='>",
        ] {
            let doc = format!("{prefix}<e{many}/>");
            assert!(
                too_many_attributes(doc.as_bytes()).is_some(),
                "bypassed by {prefix:?}"
            );
        }
        // Values may hold `=`, `>` and the other quote; only attributes count.
        let values: String = (0..MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}='x=\"y>z=='"))
            .collect();
        assert!(too_many_attributes(format!("<e{values}/>").as_bytes()).is_none());
        assert!(
            too_many_attributes(format!("<e{}/>", attributes(MAX_ATTRIBUTES)).as_bytes()).is_none()
        );
    }

    /// A set that stops compiling (here: its imports are no longer loadable) is
    /// reported as the set's failure on every document, never as the document's and
    /// never as a panic.
    #[test]
    fn schema_set_failures_are_a_rule_of_their_own() {
        let v = Validator::embedded().unwrap();
        xml::unregister_schemas(&v.urls.key);
        // A fresh thread compiles its own context, and now cannot.
        let report =
            std::thread::scope(|s| s.spawn(|| v.validate_envelope(b"<a/>")).join().unwrap());
        let rules: Vec<_> = report.findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, ["EIOA-S000"], "{:#?}", report.findings);
    }
}
