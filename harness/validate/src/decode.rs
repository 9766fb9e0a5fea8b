//! Bytes to text, before any parser runs.
//!
//! libxml2 never decodes an untrusted document itself: every document is decoded
//! here, from an allow-list of encodings, into UTF-8 text; the DOCTYPE scan and the
//! other prechecks run on that text; and only that text is handed to libxml2, with
//! UTF-8 forced and the declaration's encoding ignored. An encoding outside the list
//! (UTF-7, UTF-32, EBCDIC, the ISO-2022 family, anything iconv happens to know) is a
//! finding and never reaches the parser, so no encoding can hide a `<!DOCTYPE` from
//! the scan.
//!
//! The allow-list: UTF-8; UTF-16 (by byte order mark or by `<?` as 16-bit units,
//! XML 1.0 appendix F); ISO-8859-1 and US-ASCII with their XML meaning; and every
//! other encoding of the WHATWG Encoding Standard (`encoding_rs`: the ISO-8859 and
//! windows-125x families, KOI8, Shift_JIS, EUC-JP, EUC-KR, GBK, gb18030, Big5…),
//! decoded strictly: a malformed byte sequence is a finding, never a replacement
//! character.

use std::borrow::Cow;

/// A document as text, and how its bytes were read.
#[derive(Debug, Clone)]
pub(crate) struct Decoded<'a> {
    /// The document as UTF-8. The XML declaration no longer names another encoding.
    /// UTF-8 input is the bytes themselves, not a copy.
    pub text: Cow<'a, str>,
    /// A byte order mark the bytes started with (`"UTF-8"`, `"UTF-16LE"`, `"UTF-16BE"`).
    pub bom: Option<&'static str>,
    /// What the bytes were, when not UTF-8: `"UTF-16LE"`, or the declared label.
    pub not_utf8: Option<NotUtf8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotUtf8 {
    /// UTF-16 found by the first bytes; `bom` says whether a byte order mark said so.
    Utf16 { le: bool, bom: bool },
    /// A declared single- or multi-byte encoding from the allow-list.
    Declared(String),
}

/// Why a document cannot be turned into text. Byte offsets are into the bytes after
/// any byte order mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Not UTF-8, though declared (or implied) to be.
    NotUtf8 {
        offset: usize,
        byte: u8,
        declared: bool,
    },
    /// A byte over 0x7F in a document declared US-ASCII.
    NotAscii {
        offset: usize,
        byte: u8,
        label: String,
    },
    /// Valid multi-byte UTF-8 under another declaration: åäö would become mojibake.
    Utf8UnderOther {
        offset: usize,
        label: String,
        seen: String,
        as_read: String,
    },
    /// The bytes are not valid in the encoding they declare (or that their first
    /// bytes show).
    Malformed { label: String, offset: usize },
    /// An encoding outside the allow-list.
    Unsupported { label: String },
}

/// XML's own reading of these labels (a byte is a code point), not WHATWG's, which
/// reads ISO-8859-1 and US-ASCII as windows-1252.
const LATIN1: &[&str] = &[
    "ISO-8859-1",
    "ISO8859-1",
    "LATIN1",
    "LATIN-1",
    "ISO-LATIN-1",
    "L1",
    "IBM819",
    "CP819",
    "CSISOLATIN1",
    "ISO-IR-100",
];
const ASCII: &[&str] = &[
    "US-ASCII",
    "ASCII",
    "ANSI_X3.4-1968",
    "ISO646-US",
    "CSASCII",
];

/// Decodes `bytes` (already checked to be non-empty and within the size limit).
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    // UTF-32 / UCS-4 by their first four bytes (with or without a byte order mark):
    // checked before UTF-16, whose byte order mark FF FE is a prefix of UTF-32LE's.
    if matches!(
        bytes,
        [0xFF, 0xFE, 0, 0, ..]
            | [0, 0, 0xFE, 0xFF, ..]
            | [0x3C, 0, 0, 0, ..]
            | [0, 0, 0, 0x3C, ..]
            | [0, 0x3C, 0, 0, ..]
            | [0, 0, 0x3C, 0, ..]
    ) {
        return Err(DecodeError::Unsupported {
            label: "UTF-32 (UCS-4)".into(),
        });
    }
    let (body, bom) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (rest, Some("UTF-8")),
        [0xFF, 0xFE, rest @ ..] => (rest, Some("UTF-16LE")),
        [0xFE, 0xFF, rest @ ..] => (rest, Some("UTF-16BE")),
        _ => (bytes, None),
    };
    let utf16 = match (bom, body) {
        (Some("UTF-16LE"), _) => Some((true, true)),
        (Some("UTF-16BE"), _) => Some((false, true)),
        (None, [0x3C, 0, 0x3F, 0, ..]) => Some((true, false)),
        (None, [0, 0x3C, 0, 0x3F, ..]) => Some((false, false)),
        _ => None,
    };
    if let Some((le, with_bom)) = utf16 {
        let label = if le { "UTF-16LE" } else { "UTF-16BE" };
        let text = decode_utf16(body, le).ok_or_else(|| DecodeError::Malformed {
            label: label.into(),
            offset: 0,
        })?;
        return Ok(Decoded {
            text: Cow::Owned(strip_decl_encoding(&text)),
            bom,
            not_utf8: Some(NotUtf8::Utf16 { le, bom: with_bom }),
        });
    }
    let declared = declared_encoding(body);
    let was_declared = declared.is_some();
    // UTF-8, declared or not: the common case, without the label's normalised copy.
    let Some(label) = declared.filter(|l| !is_utf8_label(l)) else {
        let text = std::str::from_utf8(body).map_err(|e| DecodeError::NotUtf8 {
            offset: e.valid_up_to(),
            byte: body[e.valid_up_to()],
            declared: was_declared,
        })?;
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            bom,
            not_utf8: None,
        });
    };
    let norm = label.trim().to_ascii_uppercase().replace('_', "-");
    let text = match norm.as_str() {
        // Declared UTF-16 (or UCS-2) but the first bytes are not 16-bit units.
        n if n.starts_with("UTF-16") || n.starts_with("UTF16") || n.starts_with("UCS-2") => {
            return Err(DecodeError::Malformed { label, offset: 0 })
        }
        n if ASCII.contains(&n) => {
            if let Some(p) = body.iter().position(|b| !b.is_ascii()) {
                return Err(DecodeError::NotAscii {
                    offset: p,
                    byte: body[p],
                    label,
                });
            }
            body.iter().map(|&b| b as char).collect::<String>()
        }
        n => {
            utf8_under_other(body, &label)?;
            if LATIN1.contains(&n) {
                body.iter().map(|&b| b as char).collect::<String>()
            } else {
                let enc = encoding_rs::Encoding::for_label_no_replacement(n.as_bytes())
                    .filter(|e| {
                        *e != encoding_rs::UTF_16LE
                            && *e != encoding_rs::UTF_16BE
                            && *e != encoding_rs::X_USER_DEFINED
                    })
                    .ok_or(DecodeError::Unsupported {
                        label: label.clone(),
                    })?;
                let (text, had_errors) = enc.decode_without_bom_handling(body);
                if had_errors {
                    let offset = text
                        .find('\u{FFFD}')
                        .map(|c| text[..c].chars().count())
                        .unwrap_or(0);
                    return Err(DecodeError::Malformed { label, offset });
                }
                text.into_owned()
            }
        }
    };
    Ok(Decoded {
        text: Cow::Owned(strip_decl_encoding(&text)),
        bom,
        not_utf8: Some(NotUtf8::Declared(label)),
    })
}

/// Whether a declared label means UTF-8 (as `UTF-8`, `UTF8` or `UTF_8`, in any case,
/// with white space around it).
fn is_utf8_label(label: &str) -> bool {
    let t = label.trim();
    ["UTF-8", "UTF8", "UTF_8"]
        .iter()
        .any(|u| t.eq_ignore_ascii_case(u))
}

/// Valid multi-byte UTF-8 under a declaration of another encoding: the writer meant
/// UTF-8, and the reader would see `Ã¥` for `å`.
fn utf8_under_other(body: &[u8], label: &str) -> Result<(), DecodeError> {
    let Ok(s) = std::str::from_utf8(body) else {
        return Ok(());
    };
    let Some((p, c)) = s.char_indices().find(|(_, c)| !c.is_ascii()) else {
        return Ok(());
    };
    Err(DecodeError::Utf8UnderOther {
        offset: p,
        label: label.into(),
        seen: c.to_string(),
        as_read: body[p..p + c.len_utf8()]
            .iter()
            .map(|&b| b as char)
            .collect(),
    })
}

/// UTF-16 text (after any byte order mark); `None` when the units are not valid
/// UTF-16 or the length is odd.
fn decode_utf16(bytes: &[u8], le: bool) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|c| {
        if le {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// After transcoding, the declaration must not claim another encoding.
fn strip_decl_encoding(s: &str) -> String {
    match (s.find("<?xml"), s.find("?>")) {
        (Some(0), Some(end)) => format!("<?xml version=\"1.0\"{}", &s[end..]),
        _ => s.to_string(),
    }
}

/// The `encoding` pseudo-attribute of the XML declaration, if any.
pub(crate) fn declared_encoding(body: &[u8]) -> Option<String> {
    if !body.starts_with(b"<?xml") {
        return None;
    }
    let end = memchr::memmem::find(body, b"?>")?;
    let decl = match std::str::from_utf8(&body[..end]) {
        Ok(d) => Cow::Borrowed(d),
        Err(_) => String::from_utf8_lossy(&body[..end]),
    };
    let i = memchr::memmem::find(decl.as_bytes(), b"encoding")?;
    let rest = decl[i + 8..].trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(rest[..rest.find(q)?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling of UTF-8 that the declaration may use is read as UTF-8, without
    /// a "declared another encoding" note; near misses are not.
    #[test]
    fn utf8_labels_in_any_spelling_are_utf8() {
        for label in [
            "UTF-8", "utf-8", "Utf-8", "UTF8", "utf8", "UTF_8", "utf_8", " UTF-8 ",
        ] {
            let bytes = doc(label);
            let d = decode(&bytes).unwrap();
            assert_eq!(d.not_utf8, None, "{label:?}");
            assert!(matches!(d.text, Cow::Borrowed(_)), "{label:?} was copied");
        }
        for label in ["UTF-88", "UTF", "UTF-8x", "U-T-F-8"] {
            assert!(decode(&doc(label)).is_err(), "{label:?}");
        }
    }

    fn doc(decl: &str) -> Vec<u8> {
        format!("<?xml version=\"1.0\" encoding=\"{decl}\"?><a>x</a>").into_bytes()
    }

    #[test]
    fn utf7_is_refused_not_decoded() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADwAIQ-DOCTYPE r []><r/>";
        assert_eq!(
            decode(bytes).unwrap_err(),
            DecodeError::Unsupported {
                label: "UTF-7".into()
            }
        );
    }

    #[test]
    fn the_allow_list_decodes_and_drops_the_declared_encoding() {
        for label in [
            "ISO-8859-15",
            "windows-1252",
            "latin1",
            "Shift_JIS",
            "KOI8-R",
        ] {
            let bytes = doc(label);
            let d = decode(&bytes).unwrap();
            assert_eq!(d.text, "<?xml version=\"1.0\"?><a>x</a>", "{label}");
            assert_eq!(d.not_utf8, Some(NotUtf8::Declared(label.into())));
        }
    }

    #[test]
    fn outside_the_allow_list_is_unsupported() {
        for label in [
            "UTF-7",
            "UTF-32",
            "UCS-4",
            "IBM037",
            "EBCDIC-US",
            "ISO-2022-KR",
            "HZ-GB-2312",
            "x-user-defined",
            "nonsense",
        ] {
            assert!(
                matches!(decode(&doc(label)), Err(DecodeError::Unsupported { .. })),
                "{label}"
            );
        }
    }

    #[test]
    fn utf32_is_recognised_by_its_first_bytes() {
        let text = "<?xml version=\"1.0\"?><a/>";
        let le: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        for bytes in [le.clone(), be, [&[0xFF, 0xFE, 0, 0][..], &le].concat()] {
            assert!(matches!(
                decode(&bytes),
                Err(DecodeError::Unsupported { .. })
            ));
        }
    }

    #[test]
    fn malformed_bytes_in_a_declared_encoding_are_an_error() {
        // 0x82 0x20 is not a Shift_JIS character.
        let mut bytes = doc("Shift_JIS");
        bytes.splice(bytes.len() - 5..bytes.len() - 5, [0x82, 0x20]);
        assert!(matches!(decode(&bytes), Err(DecodeError::Malformed { .. })));
    }

    #[test]
    fn odd_length_utf16_is_malformed() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend("<a/>".encode_utf16().flat_map(u16::to_le_bytes));
        bytes.push(0x3C);
        assert!(matches!(decode(&bytes), Err(DecodeError::Malformed { .. })));
    }
}
