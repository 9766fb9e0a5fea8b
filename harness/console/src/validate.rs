//! `POST /api/validate`: documents from a multipart form (`file` parts and a `paste`
//! part) validated by [`eioa_validate::Validator`], with the CLI's excerpts, the rule's
//! explanation and fix from [`eioa_validate::rules::RULES`], and the JSON and JUnit
//! results rendered by [`eioa_report::validation`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::multipart::Multipart;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use eioa_report::validation::ValidationRun;
use eioa_validate::input::{excerpts, FileResult};
use eioa_validate::rules::RULES;
use serde::Serialize;

use crate::AppState;

/// Documents in one request.
pub const MAX_DOCUMENTS: usize = 200;
/// A whole request: a form of documents at the validator's default limit (1 MiB) each
/// would be refused long before this; the limit bounds memory, the validator judges size.
pub const MAX_REQUEST_BYTES: usize = 32 << 20;

pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_REQUEST_BYTES)
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub schema_set: String,
    pub summary: eioa_report::validation::Summary,
    pub documents: Vec<Document>,
    /// `eioa validate --format json` of the same run.
    pub json: String,
    /// `eioa validate --format junit` of the same run.
    pub junit: String,
}

#[derive(Debug, Serialize)]
pub struct Document {
    pub name: String,
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    /// The document as text (invalid UTF-8 shown as U+FFFD), for the listing; `None`
    /// when it is over the size limit.
    pub source: Option<String>,
    pub findings: Vec<FindingView>,
}

#[derive(Debug, Serialize)]
pub struct FindingView {
    pub rule: String,
    pub severity: String,
    pub line: u32,
    pub column: u32,
    pub path: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// The rule's summary from the rule table.
    pub explanation: Option<&'static str>,
    /// The rule's fix from the rule table.
    pub fix: Option<&'static str>,
    /// The quoted line and the span to underline, as the CLI shows it.
    pub excerpt: Option<ExcerptView>,
}

#[derive(Debug, Serialize)]
pub struct ExcerptView {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

fn bad_request(msg: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": msg.into() })),
    )
        .into_response()
}

pub async fn handle(State(state): State<Arc<AppState>>, mut form: Multipart) -> Response {
    let started = Instant::now();
    let mut docs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut schema_set: Option<String> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return (
                    e.status(),
                    Json(serde_json::json!({ "error": e.body_text() })),
                )
                    .into_response()
            }
        };
        if field.name() == Some("schema_set") {
            match field.text().await {
                Ok(t) => schema_set = Some(t),
                Err(e) => return bad_request(e.body_text()),
            }
            continue;
        }
        let name = match (field.name(), field.file_name()) {
            (_, Some(file)) if !file.is_empty() => file.to_string(),
            (Some("paste"), _) => "pasted".to_string(),
            _ => format!("document {}", docs.len() + 1),
        };
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return (
                    e.status(),
                    Json(serde_json::json!({ "error": e.body_text() })),
                )
                    .into_response()
            }
        };
        // An empty paste box is not a document.
        if name == "pasted" && bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if docs.len() == MAX_DOCUMENTS {
            return bad_request(format!("at most {MAX_DOCUMENTS} documents at a time"));
        }
        docs.push((name, bytes.to_vec()));
    }
    if docs.is_empty() {
        return bad_request("no document: choose files or paste one");
    }
    let validators = &state.cfg.validators;
    let validator = match schema_set.as_deref() {
        None | Some("") => validators[0].clone(),
        Some(id) => match validators.iter().find(|v| v.info().id == id) {
            Some(v) => v.clone(),
            None => return bad_request(format!("no schema set `{id}` in this console")),
        },
    };
    let Ok(_permit) = state.validations.acquire().await else {
        return bad_request("the console is stopping");
    };
    // Parsing and schema validation are CPU work: off the async workers.
    let judged = tokio::task::spawn_blocking(move || {
        let results: Vec<(FileResult, Option<String>)> = docs
            .into_iter()
            .map(|(path, bytes)| {
                let report = validator.validate(&bytes);
                let too_large = bytes.len() > validator.options().max_bytes;
                let ex = if too_large {
                    Vec::new()
                } else {
                    excerpts(&bytes, &report.findings)
                };
                let source = (!too_large).then(|| String::from_utf8_lossy(&bytes).into_owned());
                (
                    FileResult {
                        path,
                        report,
                        excerpts: ex,
                    },
                    source,
                )
            })
            .collect();
        (validator.info().clone(), results)
    })
    .await;
    let (info, results) = match judged {
        Ok(r) => r,
        Err(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": "validation stopped unexpectedly" })),
            )
                .into_response()
        }
    };
    let documents = results.iter().map(|(f, s)| view(f, s.clone())).collect();
    let run = ValidationRun {
        tool: format!("eioa console {}", env!("CARGO_PKG_VERSION")),
        schema_set: info.clone(),
        files: results.into_iter().map(|(f, _)| f).collect(),
        elapsed: started.elapsed(),
    };
    Json(Answer {
        schema_set: info.to_string(),
        summary: run.summary(),
        documents,
        json: run.to_json(),
        junit: run.to_junit(),
    })
    .into_response()
}

fn view(f: &FileResult, source: Option<String>) -> Document {
    let findings = f
        .report
        .findings
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let rule = RULES.iter().find(|r| r.id == x.rule);
            FindingView {
                rule: x.rule.clone(),
                severity: x.severity.to_string(),
                line: x.line,
                column: x.column,
                path: x.path.clone(),
                message: x.message.clone(),
                hint: x.hint.clone(),
                explanation: rule.map(|r| r.summary),
                fix: rule.map(|r| r.hint),
                excerpt: f.excerpts.get(i).cloned().flatten().map(|e| ExcerptView {
                    start: e.text.get(..e.span.start).map_or(0, |t| t.chars().count()),
                    end: e.text.get(..e.span.end).map_or(0, |t| t.chars().count()),
                    text: e.text,
                }),
            }
        })
        .collect();
    Document {
        name: f.path.clone(),
        valid: f.report.is_valid(),
        errors: f.report.errors(),
        warnings: f.report.warnings(),
        source,
        findings,
    }
}
