//! Redaction of personal data in recorded XML: identity numbers keep their first
//! eight digits (the date) and lose the last four, names become initials. Base64
//! payloads are decoded, redacted and shown inline, since that is where the
//! notification travels.

use base64::Engine;

const NAME_ELEMENTS: &[&str] = &["fornamn", "efternamn", "kontaktperson", "adress"];

/// Redacts a notification, a SOAP request or a response.
pub fn redact_xml(text: &str) -> String {
    let text = inline_payload(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find('<') {
        out.push_str(&mask_digits(&rest[..i]));
        let Some(end) = rest[i..].find('>') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let tag = &rest[i..=i + end];
        out.push_str(tag);
        rest = &rest[i + end + 1..];
        let local = tag
            .trim_start_matches('<')
            .trim_end_matches('>')
            .split_whitespace()
            .next()
            .unwrap_or("");
        let local = local.rsplit(':').next().unwrap_or(local);
        if NAME_ELEMENTS.contains(&local) && !tag.starts_with("</") {
            let close = rest.find('<').unwrap_or(rest.len());
            out.push_str(&initials(&rest[..close]));
            rest = &rest[close..];
        }
    }
    out.push_str(&mask_digits(rest));
    out
}

/// The request's `anmalanfranarbetsgivare` is base64 of the notification: decode it
/// so that the redaction reaches it (and the report shows what was sent).
fn inline_payload(text: &str) -> String {
    let open = "anmalanfranarbetsgivare>";
    let Some(i) = text.find(open) else {
        return text.to_string();
    };
    let start = i + open.len();
    let Some(len) = text[start..].find('<') else {
        return text.to_string();
    };
    let b64: String = text[start..start + len].split_whitespace().collect();
    match base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
        Ok(bytes) => {
            let xml = String::from_utf8_lossy(&bytes);
            let xml = xml
                .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                .trim();
            format!(
                "{}<!-- base64 payload, decoded: -->{}{}",
                &text[..start],
                xml,
                &text[start + len..]
            )
        }
        Err(_) => text.to_string(),
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            w.chars()
                .next()
                .map(|c| format!("{c}."))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Masks the last four digits of every run of exactly 12 digits.
fn mask_digits(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let j = (i..b.len())
                .find(|&k| !b[k].is_ascii_digit())
                .unwrap_or(b.len());
            // A UUID's last group can be twelve digits too: it follows a `-`.
            let in_uuid = i > 0 && (b[i - 1] == b'-' || b[i - 1].is_ascii_hexdigit());
            if j - i == 12 && !in_uuid {
                out.push_str(&s[i..i + 8]);
                out.push_str("XXXX");
            } else {
                out.push_str(&s[i..j]);
            }
            i = j;
        } else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_identity_numbers_and_names() {
        let x = "<p><personnummer>195003159828</personnummer><fornamn>Åsa Märta</fornamn><tel>08-123 456 78</tel><org>5566778899</org></p>";
        let r = redact_xml(x);
        assert!(r.contains("19500315XXXX"), "{r}");
        assert!(r.contains("<fornamn>Å. M.</fornamn>"), "{r}");
        assert!(
            r.contains("5566778899"),
            "organisation numbers are not personal data: {r}"
        );
        assert!(!r.contains("9828"));
    }

    #[test]
    fn leaves_uuids_alone() {
        let x = "<tx-id>4a8db4b8-bc29-4406-901c-123456789012</tx-id>";
        assert_eq!(redact_xml(x), x);
    }

    #[test]
    fn reaches_into_the_base64_payload() {
        let inner = "<a><personnummer>195003159828</personnummer></a>";
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let r = redact_xml(&format!(
            "<r:anmalanfranarbetsgivare>{b64}</r:anmalanfranarbetsgivare>"
        ));
        assert!(r.contains("19500315XXXX") && !r.contains(&b64), "{r}");
    }
}
