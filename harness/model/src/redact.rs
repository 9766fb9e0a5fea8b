//! Redaction of personal data in anything shown from a real exchange (reports,
//! journals): identity numbers keep their date part and lose the last four digits,
//! person names shrink to initials, addresses are dropped, the base64 payload is
//! decoded and redacted in place, other base64 blobs (signatures, OCSP
//! responses, which hold the signer's certificate data) are elided, and comments
//! keep only their place: their text is free text, where names cannot be told
//! apart from other words.
//!
//! Stores keep what was sent, byte for byte; redaction happens when it is shown.
//! Journals hold whatever clients sent, so the input may be any text: the scanner
//! below never fails, and anything it cannot read as markup is treated as text
//! and redacted as such.
//!
//! What an element's text is (a name, an identity number, a payload) is decided
//! per element, across comments, CDATA sections and processing instructions:
//! `<fornamn><![CDATA[Tolvan]]></fornamn>` and
//! `<efternamn><!-- c -->Test<!-- c -->sson</efternamn>` are both one name.

use std::borrow::Cow;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};

/// Masks the last four digits of every 12-digit identity number (`YYYYMMDDNNNN`,
/// also `YYYYMMDD-NNNN`) in free text.
pub fn mask_identity_numbers(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        // A UUID's last group can be twelve digits: it follows `-` or a hex letter.
        let in_token = i > 0 && (b[i - 1] == b'-' || b[i - 1].is_ascii_alphanumeric());
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()) && !in_token {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let run = &text[start..i];
            if run.len() == 12 {
                out.push_str(&run[..8]);
                out.push_str("****");
            } else if run.len() == 8
                && i + 5 <= b.len()
                && b[i] == b'-'
                && b[i + 1..i + 5].iter().all(u8::is_ascii_digit)
                && (i + 5 == b.len() || !b[i + 5].is_ascii_digit())
            {
                out.push_str(run);
                out.push_str("-****");
                i += 5;
            } else {
                out.push_str(run);
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `"Anna Maria Svensson"` → `"A. M. S."`.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Redacts an XML text (a SOAP envelope, a payload document, or a fault message
/// quoting parts of one): names to initials, addresses dropped, identity numbers
/// masked, embedded base64 payloads decoded and redacted in place, and other
/// base64 blobs elided. Malformed input is redacted as far as it can be read and
/// never rejected.
pub fn redact_xml(xml: &str) -> String {
    redact_at(xml, 0)
}

/// How deep markup quoted in markup (CDATA, escaped text, comments, payloads in
/// payloads) is redacted; deeper quoted markup is elided.
const MAX_NESTING: usize = 16;

/// Open elements remembered (a notification has 4 levels, an envelope 3 more).
const MAX_OPEN: usize = 64;

/// [`redact_xml`] for text found `depth` levels of quoting down.
fn redact_at(xml: &str, depth: usize) -> String {
    let mut out = String::with_capacity(xml.len());
    // Qualified names of the open elements, innermost last.
    let mut open: Vec<&str> = Vec::new();
    // The current element's content since the last tag.
    let mut run: Vec<Piece> = Vec::new();
    let last = LastEnds::of(xml);
    let mut pos = 0;
    while pos < xml.len() {
        match markup_at(xml, pos, &last) {
            Some((Markup::Start { name, empty }, end)) => {
                flush(&mut out, xml, &mut run, kind_here(&open), depth);
                out.push_str(&mask_identity_numbers(&xml[pos..end]));
                if !empty {
                    if open.len() == MAX_OPEN {
                        // Only the nearest ancestors matter; this keeps
                        // pathological nesting linear.
                        open.remove(0);
                    }
                    open.push(name);
                }
                pos = end;
            }
            Some((Markup::End { name }, end)) => {
                flush(&mut out, xml, &mut run, kind_here(&open), depth);
                out.push_str(&mask_identity_numbers(&xml[pos..end]));
                if let Some(i) = open.iter().rposition(|n| *n == name) {
                    open.truncate(i);
                }
                pos = end;
            }
            Some((Markup::CData { inner }, end)) => {
                run.push(Piece::CData {
                    whole: (pos, end),
                    inner,
                });
                pos = end;
            }
            Some((Markup::Other, end)) => {
                run.push(Piece::Other((pos, end)));
                pos = end;
            }
            None => {
                // Text up to the next `<` (a `<` that starts no markup is text too).
                let from = if xml.as_bytes()[pos] == b'<' {
                    pos + 1
                } else {
                    pos
                };
                let end = xml[from..].find('<').map_or(xml.len(), |i| from + i);
                match run.last_mut() {
                    Some(Piece::Text(r)) if r.1 == pos => r.1 = end,
                    _ => run.push(Piece::Text((pos, end))),
                }
                pos = end;
            }
        }
    }
    flush(&mut out, xml, &mut run, kind_here(&open), depth);
    out
}

/// What an element's text holds, by the element's local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `fornamn`, `efternamn`, `kontaktperson`: initials.
    Name,
    /// `adress` (of an assistant living outside the EEA): dropped.
    Address,
    /// `personnummer`: last four digits masked, whatever the form.
    Identity,
    /// `anmalanfranarbetsgivare`: base64 of the payload document.
    Payload,
    /// `signatur`, `ocspresponse`: base64 of signed data and certificates.
    Binary,
    /// Anything else: identity numbers masked, long base64 elided.
    Other,
}

fn kind_of(qname: &str) -> Kind {
    let local = qname.rsplit(':').next().unwrap_or(qname);
    // Case-insensitive: mis-cased element names are exactly what some clients send.
    match local.to_ascii_lowercase().as_str() {
        "fornamn" | "efternamn" | "kontaktperson" => Kind::Name,
        "adress" => Kind::Address,
        "personnummer" => Kind::Identity,
        "anmalanfranarbetsgivare" => Kind::Payload,
        "signatur" | "ocspresponse" => Kind::Binary,
        _ => Kind::Other,
    }
}

/// The kind of the text at the current position: the innermost element's, or,
/// for elements nested where the schema has none (`<fornamn><b>…</b></fornamn>`),
/// that of the nearest name, address, identity or binary ancestor.
fn kind_here(open: &[&str]) -> Kind {
    match open.last().map(|n| kind_of(n)) {
        None => Kind::Other,
        Some(Kind::Other) => open
            .iter()
            .rev()
            .map(|n| kind_of(n))
            .find(|k| !matches!(k, Kind::Other | Kind::Payload))
            .unwrap_or(Kind::Other),
        Some(k) => k,
    }
}

/// Byte ranges into the input.
type Span = (usize, usize);

/// A part of an element's content between two tags.
#[derive(Debug)]
enum Piece {
    /// Character data as written (entity references undecoded).
    Text(Span),
    /// `<![CDATA[…]]>`: the whole section and its content.
    CData { whole: Span, inner: Span },
    /// A comment, processing instruction or declaration: no part of the value.
    Other(Span),
}

#[derive(Debug)]
enum Markup<'a> {
    Start {
        name: &'a str,
        empty: bool,
    },
    End {
        name: &'a str,
    },
    CData {
        inner: Span,
    },
    /// Comment, processing instruction, `<!DOCTYPE …>`.
    Other,
}

/// Where the last `-->` and `]]>` start: an unterminated comment or CDATA
/// section is found without scanning to the end again for each `<!--`.
#[derive(Debug)]
struct LastEnds {
    comment: Option<usize>,
    cdata: Option<usize>,
}

impl LastEnds {
    fn of(xml: &str) -> Self {
        LastEnds {
            comment: xml.rfind("-->"),
            cdata: xml.rfind("]]>"),
        }
    }
}

/// The markup starting at `pos` and the position after it, or `None` when what
/// starts there is not (complete) markup and so is text. Scans stop at the next
/// `<` (or, for comments and CDATA, find their end at once), so that the whole
/// input is read in linear time whatever it holds.
fn markup_at<'a>(xml: &'a str, pos: usize, last: &LastEnds) -> Option<(Markup<'a>, usize)> {
    let s = &xml[pos..];
    let b = s.as_bytes();
    if !s.starts_with('<') {
        return None;
    }
    if let Some(body) = s.strip_prefix("<!--") {
        // An unterminated comment runs to the end of the input, as a parser reads
        // it: what follows is comment text, elided with it.
        let end = last
            .comment
            .filter(|&l| l >= pos + 4)
            .and_then(|_| body.find("-->"))
            .map_or(xml.len(), |e| pos + 4 + e + 3);
        return Some((Markup::Other, end));
    }
    if let Some(body) = s.strip_prefix("<![CDATA[") {
        last.cdata.filter(|&l| l >= pos + 9)?;
        let end = body.find("]]>")?;
        let inner = (pos + 9, pos + 9 + end);
        return Some((Markup::CData { inner }, inner.1 + 3));
    }
    if s.starts_with("<?") || s.starts_with("<!") {
        // A processing instruction, or a declaration (`<!DOCTYPE`; an internal
        // subset reads as text and markup declarations). A `<` inside means it
        // was neither.
        if s.starts_with("<!") && !b.get(2).is_some_and(u8::is_ascii_uppercase) {
            return None;
        }
        let pi = s.starts_with("<?");
        for (i, &c) in b.iter().enumerate().skip(2) {
            match c {
                b'<' => return None,
                b'>' if !pi || b[i - 1] == b'?' && i > 2 => {
                    return Some((Markup::Other, pos + i + 1));
                }
                _ => {}
            }
        }
        return None;
    }
    let (closing, name_from) = if s.starts_with("</") {
        (true, 2)
    } else {
        (false, 1)
    };
    let first = *b.get(name_from)?;
    if !(first.is_ascii_alphabetic() || first == b'_' || first == b':' || first >= 0x80) {
        return None;
    }
    let name_len = s[name_from..]
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>' || c == '<')
        .unwrap_or(s.len() - name_from);
    let name = &s[name_from..name_from + name_len];
    // The tag ends at the first `>` outside quotes; `<` cannot occur in a tag, so
    // meeting one means this was no tag.
    let mut quote = None;
    for (i, &c) in b.iter().enumerate().skip(name_from + name_len) {
        match (quote, c) {
            (_, b'<') => return None,
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => {
                let markup = if closing {
                    Markup::End { name }
                } else {
                    Markup::Start {
                        name,
                        empty: b[i - 1] == b'/',
                    }
                };
                return Some((markup, pos + i + 1));
            }
            _ => {}
        }
    }
    None
}

/// Writes the current element's content, redacted as its kind requires. The
/// value is the content's text and CDATA together; when it has to change, the
/// replacement takes the place of its first non-blank part (in that part's form)
/// and the other parts are dropped, while comments stay where they were.
fn flush(out: &mut String, xml: &str, run: &mut Vec<Piece>, kind: Kind, depth: usize) {
    if run.is_empty() {
        return;
    }
    let mut value = String::new();
    for p in run.iter() {
        match *p {
            Piece::Text((a, z)) => value.push_str(&decode_entities(&xml[a..z])),
            Piece::CData { inner: (a, z), .. } => value.push_str(&xml[a..z]),
            Piece::Other(_) => {}
        }
    }
    // Markup in the value that the scan above has not seen as markup.
    let quoted = run.iter().any(|p| match *p {
        Piece::Text((a, z)) => xml[a..z].contains('&'),
        Piece::CData { .. } => true,
        Piece::Other(_) => false,
    });
    let core = value.trim();
    let replacement = if core.is_empty() {
        None
    } else {
        redact_value(kind, core, quoted, depth)
    };
    let mut placed = false;
    for p in run.drain(..) {
        match p {
            Piece::Other((a, z)) => out.push_str(&redact_markup(&xml[a..z])),
            Piece::Text((a, z)) => {
                let raw = &xml[a..z];
                match &replacement {
                    Some(rep) if !decode_entities(raw).trim().is_empty() => {
                        if !placed {
                            out.push_str(&raw[..raw.len() - raw.trim_start().len()]);
                            out.push_str(rep);
                            placed = true;
                        }
                        out.push_str(&raw[raw.trim_end().len()..]);
                    }
                    _ => out.push_str(raw),
                }
            }
            Piece::CData {
                whole: (a, z),
                inner: (ia, iz),
            } => match &replacement {
                Some(rep) if !xml[ia..iz].trim().is_empty() => {
                    if !placed {
                        out.push_str("<![CDATA[");
                        out.push_str(&rep.replace("]]>", "]]]]><![CDATA[>"));
                        out.push_str("]]>");
                        placed = true;
                    }
                }
                _ => out.push_str(&xml[a..z]),
            },
        }
    }
}

/// The redacted form of an element's (trimmed, non-empty) value, or `None` when
/// it shows as it is. `quoted`: the value may hold markup (from CDATA or
/// character references) that is to be redacted as such.
fn redact_value(kind: Kind, value: &str, quoted: bool, depth: usize) -> Option<String> {
    match kind {
        Kind::Name => Some(initials(value)),
        Kind::Address => Some("[address]".into()),
        Kind::Identity => {
            let masked = mask_identity_value(value);
            (masked != value).then_some(masked)
        }
        Kind::Payload => Some(match decode_base64(value) {
            Some(bytes) => match decode_payload(&bytes) {
                Some(_) if depth >= MAX_NESTING => elided(value, "nested too deep"),
                Some((text, encoding)) => {
                    let encoding = encoding.map(|e| format!(" ({e})")).unwrap_or_default();
                    format!(
                        "[payload{encoding}, decoded and redacted:]\n{}\n",
                        redact_at(&text, depth + 1)
                    )
                }
                None => elided(value, "base64, not a text payload in an encoding read here"),
            },
            None => elided(value, "not valid base64"),
        }),
        Kind::Binary => Some(if decode_base64(value).is_some() {
            elided(value, "base64")
        } else {
            elided(value, "not valid base64")
        }),
        Kind::Other => {
            if quoted && value.contains('<') {
                // Markup quoted as text (a CDATA section, or escaped in a fault
                // message): redacted as markup.
                if depth >= MAX_NESTING {
                    return Some(elided(value, "nested too deep"));
                }
                let redacted = redact_at(value, depth + 1);
                return (redacted != value).then_some(redacted);
            }
            if is_base64_blob(value) {
                return Some(elided(value, "base64"));
            }
            let masked = mask_identity_numbers(value);
            (masked != value).then_some(masked)
        }
    }
}

fn elided(value: &str, what: &str) -> String {
    let n = value.chars().count();
    if what == "base64" {
        format!("[{n} characters of base64 elided; --unredacted shows them]")
    } else {
        format!("[{n} characters elided ({what}); --unredacted shows them]")
    }
}

/// Comments keep their place but lose their content, wherever they are: a comment
/// is free text (`<!-- Anna Andersson 19900101-1234 -->`), and which words in free
/// text are names cannot be known, so masking identity numbers alone would leave
/// the names. Blank comments stay as they are. Processing instructions and
/// declarations only have identity numbers masked.
fn redact_markup(raw: &str) -> String {
    let Some(rest) = raw.strip_prefix("<!--") else {
        return mask_identity_numbers(raw);
    };
    let (inner, terminated) = match rest.strip_suffix("-->") {
        Some(inner) => (inner, true),
        None => (rest, false),
    };
    if inner.trim().is_empty() {
        return raw.to_string();
    }
    // No `--` inside, so the result is still a comment.
    let n = inner.chars().count();
    if terminated {
        format!("<!-- [comment of {n} characters elided] -->")
    } else {
        format!("<!-- [unterminated comment of {n} characters elided]")
    }
}

/// A `personnummer` element's value: the usual masking, and when that finds no
/// 12-digit number (a 10-digit or malformed one), the last four digits masked.
fn mask_identity_value(value: &str) -> String {
    let masked = mask_identity_numbers(value);
    if masked != value || value.bytes().filter(u8::is_ascii_digit).count() < 9 {
        return masked;
    }
    let mut left = 4;
    let mut chars: Vec<char> = value.chars().collect();
    for c in chars.iter_mut().rev() {
        if left > 0 && c.is_ascii_digit() {
            *c = '*';
            left -= 1;
        }
    }
    chars.into_iter().collect()
}

/// Character and the five predefined entity references decoded; anything else
/// is kept as written.
fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let decoded = after
            .find(';')
            .filter(|&j| j <= 12)
            .and_then(|j| entity(&after[..j]).map(|c| (c, j)));
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &after[j + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Base64 as clients write it: padded or not, standard or URL-safe alphabet,
/// with line breaks and indentation anywhere.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const BASE64_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

/// Whether the text is made of base64 characters only (either alphabet, with at
/// most two `=` at the end), whitespace aside.
fn is_base64_alphabet(compact: &str) -> bool {
    let body = compact.trim_end_matches('=');
    !body.is_empty()
        && compact.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

/// The bytes of valid base64, whatever they are.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact = compact(text);
    if !is_base64_alphabet(&compact) {
        return None;
    }
    BASE64_STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| BASE64_URL_SAFE.decode(compact.as_bytes()))
        .ok()
}

/// Shortest text outside the known elements taken for a base64 blob.
const MIN_BLOB_CHARS: usize = 64;

/// Whether free text is a base64 blob (and so elided) rather than words, digits
/// or a hexadecimal digest: long, base64 characters only, and laid out as base64
/// is (one token, or lines of at least 16 characters).
fn is_base64_blob(text: &str) -> bool {
    let compact = compact(text);
    if compact.len() < MIN_BLOB_CHARS
        || !is_base64_alphabet(&compact)
        || compact.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return false;
    }
    let mut tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    tokens.pop();
    tokens.iter().all(|t| t.len() >= 16)
}

/// A decoded payload as text, read in the encoding it declares (a byte order
/// mark, or the XML declaration's `encoding`), with the encoding's name when it
/// is not plain UTF-8. `None` for bytes that are not an XML text in an encoding
/// read here (binary data, other character sets): those are elided.
fn decode_payload(bytes: &[u8]) -> Option<(String, Option<&'static str>)> {
    let (text, encoding) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (
            String::from_utf8(rest.to_vec()).ok()?,
            Some("UTF-8 with byte order mark"),
        ),
        [0xFF, 0xFE, rest @ ..] => (utf16(rest, u16::from_le_bytes)?, Some("UTF-16LE")),
        [0xFE, 0xFF, rest @ ..] => (utf16(rest, u16::from_be_bytes)?, Some("UTF-16BE")),
        // `<` in UTF-16 without a byte order mark.
        [b'<', 0, ..] => (utf16(bytes, u16::from_le_bytes)?, Some("UTF-16LE")),
        [0, b'<', ..] => (utf16(bytes, u16::from_be_bytes)?, Some("UTF-16BE")),
        _ => {
            let declared =
                declared_encoding(bytes).map(|e| e.to_ascii_uppercase().replace('_', "-"));
            match declared.as_deref() {
                None | Some("UTF-8" | "UTF8") => (String::from_utf8(bytes.to_vec()).ok()?, None),
                Some(
                    "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "LATIN-1" | "ISO-LATIN-1" | "L1"
                    | "US-ASCII" | "ASCII",
                ) => (
                    bytes.iter().map(|&b| char::from(b)).collect(),
                    Some("ISO-8859-1"),
                ),
                Some("WINDOWS-1252" | "CP1252") => (
                    bytes.iter().map(|&b| windows_1252(b)).collect(),
                    Some("windows-1252"),
                ),
                Some(_) => return None,
            }
        }
    };
    let is_xml_text = text.trim_start().starts_with('<')
        && !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{80}'..='\u{9f}'));
    is_xml_text.then_some((text, encoding))
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    String::from_utf16(&units).ok()
}

/// The `encoding` of an XML declaration at the start of the bytes.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let end = bytes.windows(2).take(256).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&bytes[..end]).ok()?;
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| matches!(q, '"' | '\''))?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Windows-1252, which differs from ISO-8859-1 in 0x80–0x9F.
fn windows_1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(b - 0x80)])).unwrap_or('\u{fffd}'),
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    fn envelope(payload: &[u8]) -> String {
        format!(
            "<s:Body><x:anmalanfranarbetsgivare>{}</x:anmalanfranarbetsgivare></s:Body>",
            B64.encode(payload)
        )
    }

    fn latin1(text: &str) -> Vec<u8> {
        text.chars().map(|c| u8::try_from(c).unwrap()).collect()
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn masks_identity_numbers_in_both_forms() {
        assert_eq!(
            mask_identity_numbers("pnr 194001019802."),
            "pnr 19400101****."
        );
        assert_eq!(mask_identity_numbers("19400101-9802 x"), "19400101-**** x");
        // Other digit runs stay: organisation numbers, dates, 13 digits.
        assert_eq!(
            mask_identity_numbers("5560000001 2025-01-01 1234567890123"),
            "5560000001 2025-01-01 1234567890123"
        );
        assert_eq!(
            mask_identity_numbers("åäö 194001019802"),
            "åäö 19400101****"
        );
    }

    #[test]
    fn leaves_uuids_and_organisation_numbers_alone() {
        let x = "<tx-id>4a8db4b8-bc29-4406-901c-123456789012</tx-id>";
        assert_eq!(redact_xml(x), x);
        let x = "<id>4a8db4b8-bc29-4406-901c-123456789012</id>\
                 <organisationsnummer>5560000001</organisationsnummer>\
                 <anstallningsdatum>2024-01-01</anstallningsdatum>";
        assert_eq!(redact_xml(x), x);
        assert_eq!(
            redact_xml("tx 4a8db4b8-bc29-4406-901c-123456789012, org 5560000001"),
            "tx 4a8db4b8-bc29-4406-901c-123456789012, org 5560000001"
        );
    }

    #[test]
    fn names_become_initials() {
        assert_eq!(initials("Tolvan  Tolvansson"), "T. T.");
        assert_eq!(initials("Åsa"), "Å.");
    }

    #[test]
    fn xml_names_numbers_and_payload_are_redacted() {
        let payload =
            "<a:personnummer>194001019802</a:personnummer><a:fornamn>Tolvan Test</a:fornamn>";
        let b64 = B64.encode(payload);
        let env = format!("<s:Body><x:anmalanfranarbetsgivare>{b64}</x:anmalanfranarbetsgivare><x:signatur>{}</x:signatur></s:Body>", "QUJD".repeat(60));
        let r = redact_xml(&env);
        assert!(r.contains("19400101****"), "{r}");
        assert!(r.contains("<a:fornamn>T. T.</a:fornamn>"), "{r}");
        assert!(r.contains("base64 elided"), "{r}");
        assert!(!r.contains("9802"), "{r}");
        assert!(!r.contains("Tolvan"), "{r}");
    }

    #[test]
    fn names_in_cdata_are_redacted() {
        assert_eq!(
            redact_xml("<fornamn><![CDATA[Fiktiv]]></fornamn>"),
            "<fornamn><![CDATA[F.]]></fornamn>"
        );
        assert_eq!(
            redact_xml("<a:efternamn>\n  <![CDATA[Fiktiv Person]]>\n</a:efternamn>"),
            "<a:efternamn>\n  <![CDATA[F. P.]]>\n</a:efternamn>"
        );
        // Half text, half CDATA: one name.
        let r = redact_xml("<kontaktperson>Tol<![CDATA[van Test]]></kontaktperson>");
        assert_eq!(r, "<kontaktperson>T. T.</kontaktperson>");
    }

    #[test]
    fn names_after_comments_and_processing_instructions_are_redacted() {
        assert_eq!(
            redact_xml("<efternamn><!-- c -->Testsson</efternamn>"),
            "<efternamn><!-- [comment of 3 characters elided] -->T.</efternamn>"
        );
        assert_eq!(
            redact_xml("<fornamn><?pi x?>Tolvan</fornamn>"),
            "<fornamn><?pi x?>T.</fornamn>"
        );
        let r = redact_xml("<efternamn>Test<!-- x -->sson<!-- Tolvan --></efternamn>");
        assert!(
            !r.contains("Test") && !r.contains("sson") && !r.contains("Tolvan"),
            "{r}"
        );
        assert!(r.starts_with("<efternamn>T."), "{r}");
    }

    #[test]
    fn names_in_odd_places_are_redacted() {
        // Mis-cased element names, and elements nested where the schema has none.
        assert_eq!(
            redact_xml("<Fornamn>Tolvan</Fornamn>"),
            "<Fornamn>T.</Fornamn>"
        );
        let r = redact_xml("<fornamn><b>Tolvan</b> Test</fornamn>");
        assert_eq!(r, "<fornamn><b>T.</b> T.</fornamn>");
        // Markup quoted as text in CDATA or a fault.
        for x in [
            "<x><![CDATA[<fornamn>Tolvan</fornamn><personnummer>194001019802</personnummer>]]></x>",
            "<faultstring>bad &lt;fornamn&gt;Tolvan&lt;/fornamn&gt; in \
             &lt;personnummer&gt;194001019802&lt;/personnummer&gt;</faultstring>",
        ] {
            let r = redact_xml(x);
            assert!(!r.contains("Tolvan") && !r.contains("9802"), "{r}");
            assert!(r.contains("T.") && r.contains("19400101****"), "{r}");
        }
    }

    #[test]
    fn comments_lose_their_content_wherever_they_are() {
        // Names in free text cannot be recognised: the whole comment goes.
        for (x, want) in [
            (
                "<!-- Anna Andersson 19900101-1234 -->",
                "<!-- [comment of 30 characters elided] -->",
            ),
            (
                "<rot><!--Anna Andersson--><a>1</a></rot>",
                "<rot><!-- [comment of 14 characters elided] --><a>1</a></rot>",
            ),
            (
                "<!-- <fornamn>Tolvan</fornamn> <personnummer>194001019802</personnummer> -->",
                "<!-- [comment of 69 characters elided] -->",
            ),
            // Unterminated: a parser reads the rest as comment text.
            (
                "<a>x</a><!-- Anna Andersson <b>y</b>",
                "<a>x</a><!-- [unterminated comment of 24 characters elided]",
            ),
            // Blank comments carry nothing.
            ("<a><!-- --></a>", "<a><!-- --></a>"),
        ] {
            assert_eq!(redact_xml(x), want, "{x}");
        }
        // In a payload, as `tx show` and reports show a request.
        let payload = "<?xml version=\"1.0\"?>\n<!-- Anna Andersson 19900101-1234 -->\n\
                       <AnmalanFranArbetsgivare><id>x</id><!-- Anna --></AnmalanFranArbetsgivare>";
        let env = format!(
            "<s:Body><x:anmalanfranarbetsgivare>{}</x:anmalanfranarbetsgivare></s:Body>",
            B64.encode(payload)
        );
        let r = redact_xml(&env);
        assert!(r.contains("decoded and redacted"), "{r}");
        assert!(!r.contains("Anna") && !r.contains("Andersson"), "{r}");
        assert!(!r.contains("1990") && !r.contains("1234"), "{r}");
    }

    #[test]
    fn malformed_input_is_still_redacted() {
        for x in [
            "<fornamn>Tolvan",
            "<fornamn><![CDATA[Tolvan",
            "<fornamn>Tolvan <Test</fornamn>",
            "<fornamn><!-- unterminated Tolvan",
            "<fornamn>Tolvan</efternamn>",
            "<a b=\"<fornamn>\">x</a><fornamn>Tolvan</fornamn>",
            "<!x <fornamn>Tolvan</fornamn>",
            "<?pi <fornamn>Tolvan</fornamn>?>",
            "<<fornamn>>Tolvan<</fornamn>",
            "</fornamn><fornamn a='>'>Tolvan</fornamn",
        ] {
            let r = redact_xml(x);
            assert!(!r.contains("Tolvan") && !r.contains("Test"), "{x} -> {r}");
        }
        // Text outside any element, as in fault messages.
        assert_eq!(
            redact_xml("Ogiltigt personnummer 194001019802 < 3"),
            "Ogiltigt personnummer 19400101**** < 3"
        );
        // Odd bytes and lone delimiters pass through.
        for x in [
            "",
            "<",
            ">",
            "<>",
            "</>",
            "<!",
            "<![CDATA[",
            "&",
            "&#xD800;",
            "å<ä>ö",
        ] {
            let _ = redact_xml(x);
        }
    }

    #[test]
    fn pathological_input_is_read_in_linear_time() {
        // Each of these would take minutes if every `<` scanned to the end.
        for unit in [
            "<!--",
            "<![CDATA[",
            "<?",
            "<!D",
            "<a \"",
            "</a",
            "<a>",
            "</b>",
            "&lt;a&gt;",
            "<",
        ] {
            let x = format!("<fornamn>Tolvan{}", unit.repeat(100_000));
            assert!(!redact_xml(&x).contains("Tolvan"), "{unit}");
        }
    }

    #[test]
    fn address_is_redacted() {
        let x = "<bosattUtanforEES><bosattUtanfor>true</bosattUtanfor>\
                 <adress>Calle Real 12, 28001 Madrid</adress></bosattUtanforEES>";
        assert_eq!(
            redact_xml(x),
            "<bosattUtanforEES><bosattUtanfor>true</bosattUtanfor>\
             <adress>[address]</adress></bosattUtanforEES>"
        );
        let r = redact_xml("<adress><![CDATA[Calle Real]]><!-- x --> 12</adress>");
        assert!(!r.contains("Calle") && !r.contains("12"), "{r}");
    }

    #[test]
    fn identity_elements_are_masked_in_any_form() {
        assert_eq!(
            redact_xml("<personnummer>4001019802</personnummer>"),
            "<personnummer>400101****</personnummer>"
        );
        assert_eq!(
            redact_xml("<personnummer>1940<!-- c -->01019802</personnummer>"),
            "<personnummer>19400101****<!-- [comment of 3 characters elided] --></personnummer>"
        );
        assert_eq!(
            redact_xml("<personnummer><![CDATA[194001019802]]></personnummer>"),
            "<personnummer><![CDATA[19400101****]]></personnummer>"
        );
        assert_eq!(
            redact_xml("<personnummer>&#49;94001019802</personnummer>"),
            "<personnummer>19400101****</personnummer>"
        );
    }

    #[test]
    fn latin1_and_windows_1252_payloads_are_decoded() {
        for enc in ["ISO-8859-1", "windows-1252"] {
            let doc = format!(
                "<?xml version=\"1.0\" encoding=\"{enc}\"?>\
                 <a><fornamn>Åsa Öberg</fornamn><personnummer>194001019802</personnummer></a>"
            );
            let r = redact_xml(&envelope(&latin1(&doc)));
            assert!(r.contains("decoded and redacted"), "{r}");
            assert!(r.contains("<fornamn>Å. Ö.</fornamn>"), "{r}");
            assert!(r.contains("19400101****") && !r.contains("9802"), "{r}");
        }
    }

    #[test]
    fn utf16_payloads_with_byte_order_mark_are_decoded() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\
                   <a><efternamn>Ärlig</efternamn><personnummer>194001019802</personnummer></a>";
        for big_endian in [false, true] {
            let r = redact_xml(&envelope(&utf16(doc, big_endian)));
            assert!(r.contains("(UTF-16"), "{r}");
            assert!(r.contains("<efternamn>Ä.</efternamn>"), "{r}");
            assert!(!r.contains("Ärlig") && !r.contains("9802"), "{r}");
        }
    }

    #[test]
    fn undecodable_payloads_are_elided() {
        // A character set this view does not read, binary data, invalid base64.
        let ebcdic = b"<?xml version=\"1.0\" encoding=\"IBM037\"?>\xc1\xe2\xc1";
        let utf8_declared_latin1_bytes = latin1("<a><fornamn>Åsa</fornamn></a>");
        for payload in [
            &ebcdic[..],
            &[0x30, 0x82, 0x01, 0x0a, 0xff],
            &utf8_declared_latin1_bytes,
        ] {
            let r = redact_xml(&envelope(payload));
            assert!(
                r.contains("elided") && !r.contains(&B64.encode(payload)),
                "{r}"
            );
        }
        let r = redact_xml("<anmalanfranarbetsgivare>PGE+VG9sdmFu*</anmalanfranarbetsgivare>");
        assert!(r.contains("not valid base64") && !r.contains("PGE+"), "{r}");
    }

    #[test]
    fn binary_blobs_are_elided() {
        // A DER OCSP response of any length, and signatures.
        let der: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        for blob in [&der[..5], &der[..]] {
            let x = format!(
                "<ns:ocspresponse>{}</ns:ocspresponse><ns:signatur>{}</ns:signatur>",
                B64.encode(blob),
                B64.encode(blob)
            );
            let r = redact_xml(&x);
            assert_eq!(r.matches("of base64 elided").count(), 2, "{r}");
            assert!(!r.contains(&B64.encode(blob)), "{r}");
        }
        // Long base64 elsewhere, UTF-8 or not, on one line or wrapped.
        let wrapped: Vec<String> = B64
            .encode(&der)
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        for text in [
            B64.encode(&der),
            wrapped.join("\n        "),
            B64.encode("å".repeat(60)),
        ] {
            let r = redact_xml(&format!(
                "<x:X509Certificate>\n{text}\n</x:X509Certificate>"
            ));
            assert!(
                r.contains("of base64 elided") && !r.contains(&wrapped[1]),
                "{r}"
            );
        }
    }

    #[test]
    fn prose_digests_and_short_tokens_are_not_elided() {
        for x in [
            // A SHA-256 digest in hex and in base64.
            "<d>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</d>",
            "<DigestValue>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</DigestValue>",
            "<text>Detta ar en lang mening utan skiljetecken men med manga ord i sig</text>",
            "<fault>Value must be 12 digits and the date must be valid for the person here</fault>",
        ] {
            assert_eq!(redact_xml(x), x);
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    /// One to three words with letters from all of Unicode, at least one of them
    /// not ASCII (so a name cannot occur by chance in the envelope's own markup).
    fn name() -> impl Strategy<Value = String> {
        prop::collection::vec("[A-ZÅÄÖÉ\\p{Lu}][a-zåäöéüøæß\\p{Ll}]{1,9}", 1..=3)
            .prop_map(|w| w.join(" "))
            .prop_filter("has a non-ASCII letter", |n| !n.is_ascii())
    }

    fn identity_number() -> impl Strategy<Value = String> {
        (1900i32..2025, 1u8..=12, 1u8..=28, 0u16..1000, any::<bool>()).prop_map(
            |(y, m, d, serial, samordning)| {
                let month = time::Month::try_from(m).unwrap();
                let date = time::Date::from_calendar_date(y, month, d).unwrap();
                crate::ident::personnummer(date, serial, samordning)
            },
        )
    }

    /// How a value is written: plain, CDATA, after or before or inside a comment,
    /// half CDATA, after a processing instruction, as character references.
    fn written(value: &str, form: u8, cut: usize) -> String {
        let chars: Vec<char> = value.chars().collect();
        let cut = cut % (chars.len() + 1);
        let a: String = chars[..cut].iter().collect();
        let b: String = chars[cut..].iter().collect();
        match form {
            0 => value.to_string(),
            1 => format!("<![CDATA[{value}]]>"),
            2 => format!("<!-- c -->{value}"),
            3 => format!("\n  {value}<!-- c -->\n"),
            4 => format!("{a}<!-- c -->{b}"),
            5 => format!("{a}<![CDATA[{b}]]>"),
            6 => format!("<?pi x?>{value}"),
            _ => value
                .chars()
                .map(|c| format!("&#{};", u32::from(c)))
                .collect(),
        }
    }

    #[derive(Debug, Clone)]
    struct Case {
        pnr: [String; 2],
        names: [String; 4],
        forms: [(u8, usize); 6],
        prefix: bool,
        /// 0: the document itself; 1–4: as the payload in UTF-8, ISO-8859-1,
        /// UTF-16LE or UTF-16BE, base64 on one line or wrapped, maybe in CDATA.
        placement: u8,
        wrap: bool,
        cdata: bool,
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            [identity_number(), identity_number()],
            [name(), name(), name(), name()],
            prop::array::uniform6((0u8..8, any::<usize>())),
            any::<bool>(),
            0u8..5,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(pnr, names, forms, prefix, placement, wrap, cdata)| Case {
                pnr,
                names,
                forms,
                prefix,
                placement,
                wrap,
                cdata,
            })
    }

    fn document(c: &Case, encoding: &str) -> String {
        let p = if c.prefix { "a:" } else { "" };
        let el = |name: &str, i: usize, value: &str| {
            let (form, cut) = c.forms[i];
            format!("<{p}{name}>{}</{p}{name}>", written(value, form, cut))
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n\
             <{p}AnmalanFranArbetsgivare xmlns{x}=\"{ns}\">\
             <{p}id>4a8db4b8-bc29-4406-901c-123456789012</{p}id>\
             <{p}personSomHarAssistans>{}{}</{p}personSomHarAssistans>\
             <{p}assistent>{}{}<{p}bosattUtanforEES><{p}bosattUtanfor>true</{p}bosattUtanfor>\
             {}</{p}bosattUtanforEES></{p}assistent>\
             <{p}assistansanordnare><{p}organisationsnummer>5560000001</{p}organisationsnummer>\
             {}</{p}assistansanordnare></{p}AnmalanFranArbetsgivare>\n",
            el("personnummer", 0, &c.pnr[0]),
            el("fornamn", 1, &c.names[0]),
            el("personnummer", 2, &c.pnr[1]),
            el("efternamn", 3, &c.names[1]),
            el("adress", 4, &c.names[2]),
            el("kontaktperson", 5, &c.names[3]),
            x = if c.prefix { ":a" } else { "" },
            ns = crate::PAYLOAD_NS,
        )
    }

    fn shown(c: &Case) -> String {
        let latin1_ok = c
            .names
            .iter()
            .all(|n| n.chars().all(|ch| u32::from(ch) < 256));
        let bytes = match c.placement {
            0 => return document(c, "UTF-8"),
            2 if latin1_ok => document(c, "ISO-8859-1")
                .chars()
                .map(|ch| u8::try_from(ch).unwrap())
                .collect(),
            3 | 4 => {
                let mut b = if c.placement == 3 {
                    vec![0xFF, 0xFE]
                } else {
                    vec![0xFE, 0xFF]
                };
                for u in document(c, "UTF-16").encode_utf16() {
                    b.extend(if c.placement == 3 {
                        u.to_le_bytes()
                    } else {
                        u.to_be_bytes()
                    });
                }
                b
            }
            _ => document(c, "UTF-8").into_bytes(),
        };
        let mut b64 = B64.encode(bytes);
        if c.wrap {
            b64 = b64
                .as_bytes()
                .chunks(76)
                .map(|l| String::from_utf8(l.to_vec()).unwrap())
                .collect::<Vec<_>>()
                .join("\n");
        }
        if c.cdata {
            b64 = format!("<![CDATA[{b64}]]>");
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"s\"><soap:Body>\
             <ns:anmalanFranArbetsgivareRequest xmlns:ns=\"m\">\
             <ns:anmalanfranarbetsgivare>{b64}</ns:anmalanfranarbetsgivare>\
             </ns:anmalanFranArbetsgivareRequest></soap:Body></soap:Envelope>\n"
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_name_or_identity_number_survives(c in case()) {
            let r = redact_xml(&shown(&c));
            for n in &c.names {
                prop_assert!(n.chars().count() < 2 || !r.contains(n.as_str()), "{n:?} in {r}");
            }
            for p in &c.pnr {
                prop_assert!(!r.contains(p.as_str()), "{p} in {r}");
                prop_assert!(r.contains(&format!("{}****", &p[..8])), "{p} not masked in {r}");
            }
            prop_assert!(r.contains("5560000001"), "{r}");
            prop_assert!(r.contains("4a8db4b8-bc29-4406-901c-123456789012"), "{r}");
            prop_assert_eq!(c.placement != 0, r.contains("decoded and redacted"), "{}", r);
        }

        #[test]
        fn nothing_in_a_comment_survives(
            c in case(),
            name in name(),
            pnr in identity_number(),
            dashed in any::<bool>(),
            at in 0usize..4,
        ) {
            let number = if dashed { format!("{}-{}", &pnr[..8], &pnr[8..]) } else { pnr.clone() };
            let comment = format!("<!-- {name} {number} -->");
            let doc = document(&c, "UTF-8");
            // In the prolog, after the root's start tag, inside an element, at the end.
            let pos = match at {
                0 => doc.find("?>").unwrap() + 2,
                1 => doc.find("<id>").or_else(|| doc.find("<a:id>")).unwrap(),
                2 => doc.find("5560000001").unwrap(),
                _ => doc.len(),
            };
            let r = redact_xml(&format!("{}{comment}{}", &doc[..pos], &doc[pos..]));
            prop_assert!(name.chars().count() < 2 || !r.contains(name.as_str()), "{name:?} in {r}");
            prop_assert!(!r.contains(&number), "{number} in {r}");
        }

        #[test]
        fn any_text_is_redacted_without_panicking(s in "\\PC{0,200}") {
            let _ = redact_xml(&s);
        }

        #[test]
        fn any_markup_soup_is_redacted_without_panicking(
            parts in prop::collection::vec(prop::sample::select(vec![
                "<", ">", "/", "<!--", "-->", "<![CDATA[", "]]>", "<?", "?>", "<!D", "[", "]",
                "&lt;", "&amp;", "&#60;", "&", ";", "\"", "'", " ", "\n", "<fornamn>",
                "</fornamn>", "<personnummer>", "<anmalanfranarbetsgivare>", "<a:adress x='1'>",
                "Tolvan", "194001019802", "PGZvcm5hbW4+", "å",
            ]), 0..60)
        ) {
            let _ = redact_xml(&parts.concat());
        }
    }
}
