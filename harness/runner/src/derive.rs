//! Cases derived from what changed between two schema sets: for each change that can
//! make a valid document invalid, a notification that is valid under the older set
//! and must be refused under the newer one, naming the element.
//!
//! - a newly required element: the kit's notification, which lacks it;
//! - a tightened pattern: the element's value edited (a letter appended, lengthened…)
//!   until the older set accepts it and the newer one does not;
//! - a removed enumeration value: that value.
//!
//! Each candidate is checked with both validators before it becomes a case, so a case
//! states only what the two schema sets themselves say.

use crate::kit::{Branch, Kit};
use crate::record::Expect;
use crate::scenarios::{Category, NotificationDef, Scenario, SignatureMode, Source, StepDef};
use eioa_validate::schema::diff::{diff, Change, DiffError};
use eioa_validate::Validator;
use quick_xml::events::Event;
use quick_xml::Reader;

/// The derived scenarios for going from `a` to `b` (run them against `b`).
///
/// Each case isolates one change: its document is the kit's notification with every
/// element `b` newly requires filled in (so `b` refuses it for this change alone),
/// and the same value is accepted by `a` in the document `a` knows.
pub fn cases(a: &Validator, b: &Validator, kit: &Kit) -> Result<Vec<Scenario>, DiffError> {
    let d = diff(a.schema_set(), b.schema_set())?;
    let base = kit.notification(Branch::AnordnareInomEes).to_xml();
    let added: Vec<&Change> = d
        .changes
        .iter()
        .filter(|c| c.kind == "element-added" && c.breaking)
        .collect();
    // The document `b` accepts: every newly required element filled in.
    let mut base_b = base.clone();
    let mut inserted: Vec<(String, String)> = Vec::new();
    for c in &added {
        if let Some((doc, element)) = fill_in(&base_b, &c.path, b) {
            base_b = doc;
            inserted.push((c.path.clone(), element));
        }
    }
    let mut out = Vec::new();
    for c in d.changes.iter().filter(|c| c.breaking) {
        let local = c.path.rsplit('/').next().unwrap_or("").to_string();
        let only_this = |doc: &str| refused_only_for(b, doc, &local);
        let found: Option<(String, String)> = match c.kind {
            "element-added" => inserted
                .iter()
                .find(|(p, _)| *p == c.path)
                .map(|(_, element)| base_b.replacen(element.as_str(), "", 1))
                .or_else(|| (inserted.is_empty()).then(|| base.clone()))
                .filter(|doc| a.validate(base.as_bytes()).is_valid() && only_this(doc))
                .map(|doc| (doc, format!("a notification without {local}"))),
            "pattern" | "enumeration" => {
                let values = if c.kind == "pattern" {
                    value_at(&base, &c.path)
                        .map(|v| pattern_breakers(&v))
                        .unwrap_or_default()
                } else {
                    removed_values(c)
                };
                values.into_iter().find_map(|v| {
                    let in_a = set_value(&base, &c.path, &v)?;
                    let in_b = set_value(&base_b, &c.path, &v)?;
                    (a.validate(in_a.as_bytes()).is_valid() && only_this(&in_b))
                        .then(|| (in_b, format!("{local} = `{v}`")))
                })
            }
            _ => None,
        };
        if let Some((doc, what)) = found {
            out.push(case(out.len() + 1, c, &local, doc, what, a, b));
        }
    }
    Ok(out)
}

/// `b` refuses `doc`, and every error it names concerns element `local`.
fn refused_only_for(b: &Validator, doc: &str, local: &str) -> bool {
    let report = b.validate(doc.as_bytes());
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == eioa_validate::Severity::Error)
        .collect();
    !errors.is_empty()
        && errors.iter().all(|f| {
            f.message.contains(local)
                || f.path
                    .as_deref()
                    .is_some_and(|p| p.ends_with(&format!("/{local}")))
        })
}

/// Values tried for an element the newer set requires.
const FILL_VALUES: &[&str] = &[
    "fiktiv@example.invalid",
    "Exempel",
    "true",
    "1",
    "2024-01-01",
    "08-123 456 78",
    "5566778899",
];

/// `xml` with the element at `path` inserted where `b` accepts it, and that element's
/// text; `None` when no position and value make `b` stop naming it.
fn fill_in(xml: &str, path: &str, b: &Validator) -> Option<(String, String)> {
    let (parent, local) = path.rsplit_once('/')?;
    for pos in child_boundaries(xml, parent) {
        for v in FILL_VALUES {
            let element = format!("<{local}>{v}</{local}>");
            let doc = format!("{}{element}{}", &xml[..pos], &xml[pos..]);
            let names_it = b.validate(doc.as_bytes()).findings.iter().any(|f| {
                f.severity == eioa_validate::Severity::Error
                    && (f.message.contains(local)
                        || f.path
                            .as_deref()
                            .is_some_and(|p| p.ends_with(&format!("/{local}"))))
            });
            if !names_it {
                return Some((doc, element));
            }
        }
    }
    None
}

/// Byte positions where a child of the element at `parent` may be inserted: after
/// its start tag and after each child's end.
fn child_boundaries(xml: &str, parent: &str) -> Vec<usize> {
    let mut r = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut inside = false;
    loop {
        let Ok(ev) = r.read_event() else {
            return out;
        };
        let here = usize::try_from(r.buffer_position()).unwrap_or(0);
        match ev {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                let p = format!("/{}", stack.join("/"));
                if p == parent {
                    inside = true;
                    out.push(here);
                }
            }
            Event::End(_) => {
                let p = format!("/{}", stack.join("/"));
                stack.pop();
                if p == parent {
                    return out;
                }
                if inside && format!("/{}", stack.join("/")) == parent {
                    out.push(here);
                }
            }
            Event::Empty(_) if inside && format!("/{}", stack.join("/")) == parent => {
                out.push(here)
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn case(
    n: usize,
    c: &Change,
    local: &str,
    doc: String,
    what: String,
    a: &Validator,
    b: &Validator,
) -> Scenario {
    let id = crate::scenarios::id_in(doc.as_bytes()).unwrap_or_default();
    Scenario {
        id: format!("D{n:02}"),
        title: format!(
            "{what}: valid under {}, refused under {} ({})",
            a.info().id,
            b.info().id,
            c.kind
        ),
        category: Category::Payload,
        tags: vec!["derived".into(), c.kind.to_string()],
        fk_hosts: false,
        source: format!("schema diff {} -> {}", a.info().id, b.info().id),
        line: 0,
        steps: vec![StepDef {
            notification: Some(NotificationDef {
                source: Source::File {
                    bytes: doc.into_bytes(),
                    id,
                },
                name: None,
            }),
            edits: Vec::new(),
            replace: Vec::new(),
            signature: SignatureMode::Signer,
            after_signing: Vec::new(),
            envelope_replace: Vec::new(),
            body: None,
            soap_action: None,
            expect: Expect::XmlValidationError,
            message: Some(local.to_string()),
        }],
    }
}

/// Values that a tightened pattern may refuse, from the element's current value.
fn pattern_breakers(v: &str) -> Vec<String> {
    vec![
        format!("{v}x"),
        format!("{v}?"),
        format!("x{v}"),
        format!("{v} ({v})"),
        v.repeat(4),
        format!("{v}.{v}"),
        v.to_uppercase() + "Ä",
    ]
}

fn removed_values(c: &Change) -> Vec<String> {
    // "enumeration of P: added [..], removed [a, b]"
    c.text
        .rsplit("removed [")
        .next()
        .and_then(|s| s.strip_suffix(']'))
        .map(|s| {
            s.split(", ")
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The byte range of the text of the first element at `path` (`/a/b/c`, local names).
fn text_range(xml: &str, path: &str) -> Option<(usize, usize)> {
    let mut r = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut start = None;
    loop {
        let before = usize::try_from(r.buffer_position()).ok()?;
        match r.read_event().ok()? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(name);
                if format!("/{}", stack.join("/")) == path {
                    start = Some(usize::try_from(r.buffer_position()).ok()?);
                }
            }
            Event::End(_) => {
                if let Some(s) = start.filter(|_| format!("/{}", stack.join("/")) == path) {
                    return Some((s, before));
                }
                stack.pop();
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn value_at(xml: &str, path: &str) -> Option<String> {
    text_range(xml, path).map(|(s, e)| xml[s..e].to_string())
}

fn set_value(xml: &str, path: &str, value: &str) -> Option<String> {
    let (s, e) = text_range(xml, path)?;
    let escaped = value.replace('&', "&amp;").replace('<', "&lt;");
    Some(format!("{}{escaped}{}", &xml[..s], &xml[e..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_and_set_by_path() {
        let xml = "<a><p><n>1</n></p><q><n>2</n></q></a>";
        assert_eq!(value_at(xml, "/a/q/n").as_deref(), Some("2"));
        assert_eq!(
            set_value(xml, "/a/p/n", "x<y").as_deref(),
            Some("<a><p><n>x&lt;y</n></p><q><n>2</n></q></a>")
        );
        assert_eq!(value_at(xml, "/a/r"), None);
    }
}
