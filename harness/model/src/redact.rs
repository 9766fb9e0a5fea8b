//! Redaction of personal data in anything shown from a real exchange (reports,
//! journals): identity numbers keep their date part and lose the last four digits,
//! person names shrink to initials.
//!
//! Stores keep what was sent, byte for byte; redaction happens when it is shown.

use base64::Engine as _;

/// Elements whose text is a person's name.
const NAME_ELEMENTS: &[&str] = &["fornamn", "efternamn", "kontaktperson"];
/// Elements whose text is base64 of a payload document.
const PAYLOAD_ELEMENTS: &[&str] = &["anmalanfranarbetsgivare"];

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

/// Redacts an XML text (a SOAP envelope or a payload document): names to
/// initials, identity numbers masked, embedded base64 payloads decoded and
/// redacted in place, and other long base64 blobs (signatures, OCSP responses,
/// which hold personal data of their own) elided.
pub fn redact_xml(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        let (before, tag_on) = rest.split_at(open);
        out.push_str(&redact_text(before, None));
        let Some(close) = tag_on.find('>') else {
            out.push_str(&mask_identity_numbers(tag_on));
            return out;
        };
        let tag = &tag_on[..=close];
        out.push_str(&mask_identity_numbers(tag));
        rest = &tag_on[close + 1..];
        // Element text directly after a start tag.
        if !tag.starts_with("</")
            && !tag.ends_with("/>")
            && !tag.starts_with("<?")
            && !tag.starts_with("<!")
        {
            let name = tag[1..tag.len() - 1]
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("");
            let local = name.rsplit(':').next().unwrap_or(name);
            let text_end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..text_end];
            out.push_str(&redact_text(text, Some(local)));
            rest = &rest[text_end..];
        }
    }
    out.push_str(&redact_text(rest, None));
    out
}

fn redact_text(text: &str, element: Option<&str>) -> String {
    if text.trim().is_empty() {
        return text.to_string();
    }
    if let Some(el) = element {
        if NAME_ELEMENTS.contains(&el) {
            return initials(text);
        }
        if PAYLOAD_ELEMENTS.contains(&el) {
            if let Some(inner) = decode_base64(text) {
                return format!("[payload, decoded and redacted:]\n{}\n", redact_xml(&inner));
            }
        }
    }
    let trimmed = text.trim();
    if trimmed.len() > 120 && decode_base64(trimmed).is_some() {
        return format!(
            "[{} characters of base64 elided; --unredacted shows them]",
            trimmed.len()
        );
    }
    mask_identity_numbers(text)
}

fn decode_base64(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn leaves_uuids_alone() {
        let x = "<tx-id>4a8db4b8-bc29-4406-901c-123456789012</tx-id>";
        assert_eq!(redact_xml(x), x);
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
        let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
        let env = format!("<s:Body><x:anmalanfranarbetsgivare>{b64}</x:anmalanfranarbetsgivare><x:signatur>{}</x:signatur></s:Body>", "QUJD".repeat(60));
        let r = redact_xml(&env);
        assert!(r.contains("19400101****"), "{r}");
        assert!(r.contains("<a:fornamn>T. T.</a:fornamn>"), "{r}");
        assert!(r.contains("base64 elided"), "{r}");
        assert!(!r.contains("9802"), "{r}");
        assert!(!r.contains("Tolvan"), "{r}");
    }
}
