//! Parsing untrusted bytes with libxml2: from memory, no network, no external DTD,
//! no entity substitution. libxml2 2.9.14 also stops entity loops and
//! amplification on its own; the fixtures under `fixtures/invalid/EIOA-X005`
//! keep that true.

use libxml::error::StructuredError;
use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::tree::Document;

/// One diagnostic from libxml2's parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub line: u32,
    pub column: u32,
    pub code: i32,
    pub message: String,
}

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
        no_def_dtd: true,
        no_error: true,
        no_warning: true,
        pedantic: false,
        no_blanks: false,
        no_net: true,
        no_implied: true,
        huge: false,
        compact: true,
        ignore_enc: false,
        encoding: None,
    }
}

/// Parses untrusted XML; on failure, the first fatal diagnostic.
pub(crate) fn parse_with_diagnostics(bytes: &[u8]) -> Result<(Document, Vec<Diag>), Vec<Diag>> {
    let parser = Parser::default();
    match parser.parse_string_with_diagnostics(bytes, safe_options()) {
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

/// Parses untrusted XML, reporting the first error only.
pub fn parse_untrusted(bytes: &[u8]) -> Result<Document, Diag> {
    parse_with_diagnostics(bytes)
        .map(|(d, _)| d)
        .map_err(|mut d| {
            if d.is_empty() {
                Diag {
                    line: 0,
                    column: 0,
                    code: -1,
                    message: "not well-formed".into(),
                }
            } else {
                d.swap_remove(0)
            }
        })
}
