//! The documents FK serves over GET: the WSDL and the schemas it imports, rewritten
//! so that a SOAP stack pointed at `…?wsdl` can load everything from this service.

use crate::rules;
use crate::{header, text, Fk, HttpRequest, HttpResponse, Refusal};
use eioa_validate::schema::{Role, SchemaSet};

/// The roles a SOAP stack may fetch through `?xsd=NAME` (what the WSDL imports).
const SERVED: [Role; 2] = [Role::Responder, Role::Xmlmime];

const XML: &str = "text/xml; charset=utf-8";

/// Answers `GET <path>?wsdl` and `GET <path>?xsd=NAME`.
pub(crate) fn serve(fk: &Fk, req: &HttpRequest<'_>) -> Result<(HttpResponse, String), Refusal> {
    let set = fk.config.validator.schema_set();
    let base = match &fk.config.base_url {
        Some(b) => b.trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            header(req.headers, "host").unwrap_or("127.0.0.1")
        ),
    };
    let endpoint = format!("{base}{}", req.path);
    let query = req.query.unwrap_or("");
    if query.eq_ignore_ascii_case("wsdl") {
        let wsdl = String::from_utf8_lossy(set.bytes(Role::Wsdl));
        let body = rewrite_locations(&rewrite_address(&wsdl, &endpoint), set, &endpoint);
        return Ok((text(200, XML, body.into_bytes()), "wsdl".into()));
    }
    if let Some(name) = query.strip_prefix("xsd=") {
        if let Some(file) = SERVED
            .iter()
            .filter_map(|&r| set.file(r))
            .find(|f| f.name == name)
        {
            let body = rewrite_locations(&String::from_utf8_lossy(&file.bytes), set, &endpoint);
            return Ok((text(200, XML, body.into_bytes()), format!("xsd {name}")));
        }
        return Err(Refusal::new(
            &rules::T007_DOCUMENT,
            format!(
                "no schema named `{name}`; the WSDL imports {}",
                served_names(set)
            ),
        ));
    }
    Err(Refusal::new(
        &rules::T007_DOCUMENT,
        if query.is_empty() {
            "GET serves only ?wsdl and ?xsd=NAME; call the operation with POST".to_string()
        } else {
            format!("unknown query `{query}`; GET serves only ?wsdl and ?xsd=NAME")
        },
    ))
}

fn served_names(set: &SchemaSet) -> String {
    SERVED
        .iter()
        .filter_map(|&r| set.file(r))
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewrites every `soap:address location="…"` (any prefix) to the endpoint.
fn rewrite_address(wsdl: &str, endpoint: &str) -> String {
    let mut out = String::with_capacity(wsdl.len());
    let mut rest = wsdl;
    while let Some(i) = rest.find(":address") {
        let (before, after) = rest.split_at(i);
        out.push_str(before);
        let tag_end = after.find('>').unwrap_or(after.len());
        let tag = &after[..tag_end];
        match attr_span(tag, "location") {
            Some((s, e)) => {
                out.push_str(&tag[..s]);
                out.push_str(&escape_attr(endpoint));
                out.push_str(&tag[e..]);
            }
            None => out.push_str(tag),
        }
        rest = &after[tag_end..];
    }
    out.push_str(rest);
    out
}

/// Rewrites `schemaLocation="NAME"` for the served files to `<endpoint>?xsd=NAME`.
fn rewrite_locations(doc: &str, set: &SchemaSet, endpoint: &str) -> String {
    let mut out = doc.to_string();
    for file in SERVED.iter().filter_map(|&r| set.file(r)) {
        let url = escape_attr(&format!("{endpoint}?xsd={}", file.name));
        for q in ['"', '\''] {
            out = out.replace(
                &format!("schemaLocation={q}{}{q}", file.name),
                &format!("schemaLocation={q}{url}{q}"),
            );
        }
    }
    out
}

/// Byte span of an attribute's value inside a start tag.
fn attr_span(tag: &str, name: &str) -> Option<(usize, usize)> {
    let i = tag.find(&format!("{name}="))? + name.len() + 1;
    let q = tag[i..].chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let end = tag[i + 1..].find(q)? + i + 1;
    Some((i + 1, end))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_rewritten_with_any_prefix() {
        let w = r#"<a><soap:address location="https://x/y"/><s11:address location='z'/></a>"#;
        assert_eq!(
            rewrite_address(w, "http://h:1/p"),
            r#"<a><soap:address location="http://h:1/p"/><s11:address location='http://h:1/p'/></a>"#
        );
    }

    #[test]
    fn only_served_locations_are_rewritten() {
        let set = SchemaSet::embedded();
        let x = format!(
            r#"<i schemaLocation="{}"/><i schemaLocation="other.xsd"/>"#,
            set.file(Role::Xmlmime)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        );
        let r = rewrite_locations(&x, &set, "http://h/p");
        assert!(
            r.contains(r#"schemaLocation="http://h/p?xsd=xmlmime.xsd""#),
            "{r}"
        );
        assert!(r.contains(r#"schemaLocation="other.xsd""#), "{r}");
    }
}
