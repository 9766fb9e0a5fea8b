//! The validation pipeline: bytes -> prechecks -> libxml2 parse -> XSD -> rules.

use crate::finding::{Finding, Report, Severity};
use crate::rules;
use crate::schema::{Role, SchemaSet, SchemaSetInfo};
use crate::tree::{has_dtd, Tree};
use crate::xml::{parse_with_diagnostics, Diag};
use crate::Error;
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
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
    static CONTEXTS: RefCell<HashMap<(u64, Role), SchemaValidationContext>> = RefCell::new(HashMap::new());
}

/// Validates payloads and SOAP envelopes against one schema set. `Send + Sync`:
/// share one per process; libxml2 state lives in per-thread caches.
#[derive(Debug)]
pub struct Validator {
    id: u64,
    set: Arc<SchemaSet>,
    info: SchemaSetInfo,
    opts: ValidatorOptions,
    /// The set written to disk so that libxml2 can follow `xs:import` between files.
    dir: SchemaDir,
}

#[derive(Debug)]
struct SchemaDir(PathBuf);

impl Drop for SchemaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Validator {
    /// Compiles the set once on this thread to surface schema errors early.
    pub fn new(set: SchemaSet, opts: ValidatorOptions) -> Result<Self, Error> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("eioa-schemas-{}-{id}", std::process::id()));
        set.write_to(&dir)?;
        let v = Validator {
            id,
            info: set.info(),
            set: Arc::new(set),
            opts,
            dir: SchemaDir(dir),
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
            Ok(f(ctx))
        })
    }

    fn compile(&self, role: Role) -> Result<SchemaValidationContext, Error> {
        let file = self.set.file(role).ok_or_else(|| {
            Error::SchemaIncomplete(format!("set `{}` has no {role:?} schema", self.set.id))
        })?;
        let path = self.dir.0.join(&file.name);
        let mut parser = SchemaParserContext::from_file(&path.to_string_lossy());
        SchemaValidationContext::from_parser(&mut parser).map_err(|errs| Error::SchemaCompile {
            id: self.set.id.clone(),
            message: errs
                .iter()
                .map(|e| e.message.as_deref().unwrap_or("").trim().to_string())
                .collect::<Vec<_>>()
                .join("; "),
        })
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

    fn run(&self, bytes: &[u8], role: Role, with_rules: bool) -> Report {
        let mut findings = Vec::new();
        let Some(text) = precheck(bytes, self.opts.max_bytes, &mut findings) else {
            return Report { findings };
        };
        // A DOCTYPE is refused before libxml2 sees the document: nothing in it is ever
        // loaded or expanded, whatever the parser's defaults. The scan runs on the
        // decoded text, so UTF-16 documents are covered too.
        let doctype = match &text {
            Some(t) => doctype_offset(t.as_bytes()).map(|o| line_col(t.as_bytes(), o)),
            None => doctype_offset(bytes).map(|o| line_col(bytes, o)),
        };
        if let Some((line, column)) = doctype {
            findings.push(doctype_finding(line, column));
            return Report { findings };
        }
        if let Some(f) = too_many_attributes(bytes) {
            findings.push(f);
            return Report { findings };
        }
        let doc = match parse_with_diagnostics(bytes) {
            Ok((doc, _)) => doc,
            Err(diags) => {
                findings.push(not_well_formed(diags));
                return Report { findings };
            }
        };
        // Second net, for encodings the scan above cannot read.
        if has_dtd(&doc) {
            findings.push(doctype_finding(1, 1));
            return Report { findings };
        }
        // Columns only: an encoding we do not decode is read as far as it is ASCII.
        let lossy;
        let source = match text.as_deref() {
            Some(t) => t,
            None => {
                lossy = String::from_utf8_lossy(bytes);
                &lossy
            }
        };
        let tree = Tree::from_doc(&doc, source);
        let xsd = self.with_context(role, |ctx| ctx.validate_document(&doc));
        match xsd {
            Ok(Ok(())) => {}
            Ok(Err(errors)) => {
                for e in errors.iter().take(MAX_SCHEMA_FINDINGS) {
                    findings.push(schema_finding(&Diag::from_structured(e), Some(&tree)));
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
                rule: "EIOA-S000".into(),
                severity: Severity::Error,
                line: 0,
                column: 0,
                path: None,
                message: e.to_string(),
                hint: hint("check the schema set with `eioa schema show`"),
                kind: None,
            }),
        }
        if with_rules {
            let today = self
                .opts
                .today
                .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
            findings.extend(rules::check(&tree, today));
        }
        // libxml2 quotes offending values whole; a 5 MB text node must not become a 5 MB
        // message.
        for f in &mut findings {
            shorten(&mut f.message);
        }
        findings.sort_by_key(|f| (f.line, f.column));
        Report { findings }
    }
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

/// Counts `=` outside quotes inside each tag: a cheap bound before any parser runs.
/// Works on the raw bytes of ASCII-compatible encodings and UTF-16 alike.
fn too_many_attributes(bytes: &[u8]) -> Option<Finding> {
    let (mut in_tag, mut quote, mut count) = (false, 0u8, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' | b'\'' if in_tag => {
                quote = if quote == 0 {
                    b
                } else if quote == b {
                    0
                } else {
                    quote
                };
            }
            b'<' if quote == 0 => {
                in_tag = true;
                count = 0;
            }
            b'>' if quote == 0 => in_tag = false,
            b'=' if in_tag && quote == 0 => {
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
            }
            _ => {}
        }
    }
    None
}

/// Empty, size, BOM and encoding checks on the raw bytes. Returns the document as
/// UTF-8 text for the rules' tree (None when it cannot be decoded), or stops.
#[allow(clippy::option_option)]
fn precheck(bytes: &[u8], max: usize, out: &mut Vec<Finding>) -> Option<Option<String>> {
    let whole = |rule: &str, severity, message: String, hint_text: &str| Finding {
        rule: rule.into(),
        severity,
        line: if rule == "EIOA-X004" { 0 } else { 1 },
        column: if rule == "EIOA-X004" { 0 } else { 1 },
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
        out.push(whole(
            "EIOA-X004",
            Severity::Error,
            format!("the document is {} bytes, over the limit of {max}; a notification is about 2 KB", bytes.len()),
            "check that the file is one notification (raise the limit with --max-bytes if it really is)",
        ));
        return None;
    }
    let (body, bom) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (rest, Some("UTF-8")),
        [0xFF, 0xFE, ..] => (bytes, Some("UTF-16LE")),
        [0xFE, 0xFF, ..] => (bytes, Some("UTF-16BE")),
        _ => (bytes, None),
    };
    if let Some(kind) = bom {
        out.push(whole(
            "EIOA-X006",
            Severity::Warning,
            format!("the document starts with a {kind} byte order mark"),
            "write UTF-8 without a BOM: the signed bytes must be exactly what FK parses",
        ));
        if kind != "UTF-8" {
            out.push(whole(
                "EIOA-X007",
                Severity::Warning,
                format!("the document is encoded as {kind}"),
                "encode notifications as UTF-8",
            ));
            return Some(decode_utf16(&bytes[2..], kind == "UTF-16LE"));
        }
    }
    // UTF-16 without a byte order mark: `<?` as 16-bit units (XML 1.0 appendix F).
    let utf16 = match bytes {
        [0x3C, 0, 0x3F, 0, ..] => Some(true),
        [0, 0x3C, 0, 0x3F, ..] => Some(false),
        _ => None,
    };
    if let (None, Some(le)) = (bom, utf16) {
        out.push(whole(
            "EIOA-X007",
            Severity::Warning,
            format!(
                "the document is encoded as UTF-16{} without a byte order mark",
                if le { "LE" } else { "BE" }
            ),
            "encode notifications as UTF-8",
        ));
        return Some(decode_utf16(bytes, le));
    }
    let declared = declared_encoding(body);
    let norm = declared
        .as_deref()
        .map(|e| e.to_ascii_uppercase().replace('_', "-"));
    match norm.as_deref() {
        None | Some("UTF-8") | Some("UTF8") => match std::str::from_utf8(body) {
            Ok(s) => Some(Some(s.to_string())),
            Err(e) => {
                let message = format!(
                    "byte 0x{:02X} at offset {} is not UTF-8, but the document {}",
                    body[e.valid_up_to()],
                    e.valid_up_to(),
                    if declared.is_some() {
                        "declares encoding=\"UTF-8\""
                    } else {
                        "declares no encoding, so it must be UTF-8"
                    }
                );
                out.push(encoding_error(
                    body,
                    e.valid_up_to(),
                    message,
                    "save the file as UTF-8, or declare the encoding the bytes really use",
                ));
                None
            }
        },
        Some(
            enc @ ("ISO-8859-1" | "LATIN1" | "ISO-LATIN-1" | "WINDOWS-1252" | "CP1252" | "US-ASCII"
            | "ASCII"),
        ) => {
            out.push(whole(
                "EIOA-X007",
                Severity::Warning,
                format!(
                    "the document declares encoding=\"{}\"",
                    declared.as_deref().unwrap_or(enc)
                ),
                "encode notifications as UTF-8",
            ));
            if enc.contains("ASCII") {
                if let Some(p) = body.iter().position(|b| !b.is_ascii()) {
                    out.push(encoding_error(
                        body,
                        p,
                        format!(
                            "byte 0x{:02X} is not ASCII, but the document declares encoding=\"{}\"",
                            body[p],
                            declared.as_deref().unwrap_or(enc)
                        ),
                        "declare encoding=\"UTF-8\" and save the file as UTF-8",
                    ));
                    return None;
                }
            } else if let Ok(s) = std::str::from_utf8(body) {
                // Valid multi-byte UTF-8 under a single-byte declaration: åäö become mojibake.
                if let Some((p, _)) = s.char_indices().find(|(_, c)| !c.is_ascii()) {
                    out.push(encoding_error(body, p, format!(
                            "the bytes are UTF-8 but the document declares encoding=\"{}\": `{}` would be read as `{}`",
                            declared.as_deref().unwrap_or(enc),
                            &s[p..p + s[p..].chars().next().map_or(1, char::len_utf8)],
                            body[p..p + s[p..].chars().next().map_or(1, char::len_utf8)].iter().map(|&b| b as char).collect::<String>(),
                        ), "declare encoding=\"UTF-8\" (the bytes already are)"));
                    return None;
                }
            }
            Some(Some(strip_decl_encoding(
                &body.iter().map(|&b| b as char).collect::<String>(),
            )))
        }
        Some(_) => {
            out.push(whole(
                "EIOA-X007",
                Severity::Warning,
                format!(
                    "the document declares encoding=\"{}\"",
                    declared.unwrap_or_default()
                ),
                "encode notifications as UTF-8",
            ));
            Some(None)
        }
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

/// UTF-16 text (after any byte order mark) as a string whose declaration no longer
/// claims another encoding; `None` when the units are not valid UTF-16.
fn decode_utf16(bytes: &[u8], le: bool) -> Option<String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        })
        .collect();
    String::from_utf16(&units)
        .ok()
        .map(|s| strip_decl_encoding(&s))
}

/// After transcoding to a Rust string, the declaration must not claim another encoding.
fn strip_decl_encoding(s: &str) -> String {
    match (s.find("<?xml"), s.find("?>")) {
        (Some(0), Some(end)) => format!("<?xml version=\"1.0\"{}", &s[end..]),
        _ => s.to_string(),
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
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `encoding` pseudo-attribute of the XML declaration, if any.
pub(crate) fn declared_encoding(body: &[u8]) -> Option<String> {
    if !body.starts_with(b"<?xml") {
        return None;
    }
    let end = body.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&body[..end]).ok()?;
    let i = decl.find("encoding")?;
    let rest = decl[i + 8..].trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(rest[..rest.find(q)?].to_string())
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
