//! `docs/fk-behaviour.md` against the rule table: every rule has a row, with its
//! provenance (FK or inferred) and its answer as the code has them, and the docs name no
//! rule the code does not have.

use eioa_fk::rules::{Answer, ALL};
use std::collections::BTreeMap;

/// The rows of the docs' rule table: id -> (answer column, source column).
fn documented() -> BTreeMap<String, (String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/fk-behaviour.md");
    let text = std::fs::read_to_string(path).expect("docs/fk-behaviour.md is readable");
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| id | check | answer | source | triggered by |` splits into seven cells.
        if cells.len() == 7 && cells[1].starts_with("FK-") {
            let previous = rows.insert(
                cells[1].to_string(),
                (cells[3].to_string(), cells[4].to_string()),
            );
            assert!(previous.is_none(), "{} has two rows", cells[1]);
        }
    }
    rows
}

#[test]
fn every_rule_is_documented_with_its_provenance_and_answer() {
    let docs = documented();
    assert!(docs.len() >= ALL.len(), "the docs' table was not found");
    for rule in ALL {
        let Some((answer, source)) = docs.get(rule.id) else {
            panic!("{} has no row in docs/fk-behaviour.md", rule.id);
        };
        let says_inferred = source.starts_with("inferred");
        let says_fk = source.starts_with("FK");
        assert!(
            says_inferred != says_fk,
            "{}: the source column must start with `FK` or `inferred`: {source}",
            rule.id
        );
        assert_eq!(
            says_inferred, rule.inferred,
            "{}: the code says inferred = {}, the docs say `{source}`",
            rule.id, rule.inferred
        );
        let fits = match rule.answer {
            Answer::Http(status) => {
                answer.starts_with(&status.to_string()) && answer.contains("Client fault")
            }
            Answer::XmlValidationError => answer.contains("`XmlValidationError`"),
            Answer::SignatureValidationError => answer.contains("`SignatureValidationError`"),
            Answer::ServerFault => answer.starts_with("500") && answer.contains("Server fault"),
            Answer::AcceptedWithWarning => answer.starts_with("200") && answer.contains("warning"),
        };
        assert!(
            fits,
            "{}: the code answers {}, the docs say `{answer}`",
            rule.id,
            rule.answer.label()
        );
    }
    for id in docs.keys() {
        assert!(
            ALL.iter().any(|r| r.id == id),
            "docs/fk-behaviour.md documents {id}, which the rule table does not have"
        );
    }
}
