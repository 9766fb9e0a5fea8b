//! Output of `eioa validate`: human (compiler-style), JSON (stable, documented in
//! `docs/json-output.md`) and JUnit.

use annotate_snippets::{Level, Renderer, Snippet};
use eioa_validate::{Finding, Report, SchemaSetInfo, Severity};
use serde::Serialize;
use std::time::Duration;

/// Version of the JSON shape; bumped only on incompatible changes.
pub const JSON_VERSION: u32 = 1;

/// One validated document.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// As given on the command line (or `<stdin>`).
    pub path: String,
    /// The bytes, for source snippets.
    pub source: Vec<u8>,
    pub report: Report,
}

/// A whole `validate` run.
#[derive(Debug, Clone)]
pub struct ValidationRun {
    pub tool: String,
    pub schema_set: SchemaSetInfo,
    pub files: Vec<FileResult>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl ValidationRun {
    pub fn summary(&self) -> Summary {
        let valid = self.files.iter().filter(|f| f.report.is_valid()).count();
        Summary {
            files: self.files.len(),
            valid,
            invalid: self.files.len() - valid,
            errors: self.files.iter().map(|f| f.report.errors()).sum(),
            warnings: self.files.iter().map(|f| f.report.warnings()).sum(),
        }
    }

    /// Compiler-style text. `color` adds ANSI styles.
    pub fn to_human(&self, color: bool, quiet: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        out.push_str(&format!("schema set {}\n", self.schema_set));
        if !quiet {
            for f in &self.files {
                for finding in &f.report.findings {
                    out.push_str(&render_finding(&renderer, f, finding));
                    out.push_str("\n\n");
                }
            }
        }
        let s = self.summary();
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        out.push_str(&format!(
            "checked {} file{} in {ms:.1} ms: {} valid, {} invalid; {} error{}, {} warning{}\n",
            s.files,
            plural(s.files),
            s.valid,
            s.invalid,
            s.errors,
            plural(s.errors),
            s.warnings,
            plural(s.warnings)
        ));
        out
    }

    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            version: u32,
            tool: &'a str,
            schema_set: &'a SchemaSetInfo,
            files: Vec<JsonFile<'a>>,
            summary: Summary,
            elapsed_ms: f64,
        }
        #[derive(Serialize)]
        struct JsonFile<'a> {
            path: &'a str,
            valid: bool,
            errors: usize,
            warnings: usize,
            findings: &'a [Finding],
        }
        let doc = Doc {
            version: JSON_VERSION,
            tool: &self.tool,
            schema_set: &self.schema_set,
            files: self
                .files
                .iter()
                .map(|f| JsonFile {
                    path: &f.path,
                    valid: f.report.is_valid(),
                    errors: f.report.errors(),
                    warnings: f.report.warnings(),
                    findings: &f.report.findings,
                })
                .collect(),
            summary: self.summary(),
            elapsed_ms: (self.elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        };
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// One test suite, one test case per file; error findings are failures.
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
        let mut report = JReport::new("eioa validate");
        let mut suite = TestSuite::new(format!("schema set {}", self.schema_set.id));
        suite.add_property(quick_junit::Property::new(
            "schema-set",
            self.schema_set.to_string(),
        ));
        for f in &self.files {
            let status = if f.report.is_valid() {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = f
                    .report
                    .findings
                    .iter()
                    .find(|x| x.severity == Severity::Error);
                if let Some(first) = first {
                    s.set_message(format!("{}: {}", first.rule, first.message));
                    s.set_type(first.rule.clone());
                }
                s.set_description(
                    f.report
                        .findings
                        .iter()
                        .map(|x| one_line(&f.path, x))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                s
            };
            let mut case = TestCase::new(f.path.clone(), status);
            case.set_classname("eioa.validate");
            let warnings: Vec<String> = f
                .report
                .findings
                .iter()
                .filter(|x| x.severity == Severity::Warning)
                .map(|x| one_line(&f.path, x))
                .collect();
            if !warnings.is_empty() && f.report.is_valid() {
                case.set_system_out(warnings.join("\n"));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `path:line:col: severity[RULE]: message`
pub fn one_line(path: &str, f: &Finding) -> String {
    format!(
        "{path}:{}:{}: {}[{}]: {}",
        f.line, f.column, f.severity, f.rule, f.message
    )
}

fn render_finding(renderer: &Renderer, file: &FileResult, f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let title = match &f.kind {
        Some(k) => format!("{} ({k})", f.message),
        None => f.message.clone(),
    };
    // Control characters (NUL and friends) would garble a terminal: show them as �.
    let source: String = String::from_utf8_lossy(&file.source)
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    let span = span_of(&source, f.line, f.column);
    // annotate-snippets appends line:column to the origin itself.
    let origin = if span.is_some() {
        file.path.clone()
    } else {
        format!("{}:{}:{}", file.path, f.line, f.column)
    };
    let label = f.path.clone().unwrap_or_default();
    let hint = f.hint.clone().unwrap_or_default();
    let mut msg = level.title(&title).id(&f.rule);
    if let Some((start, end)) = span {
        msg = msg.snippet(
            Snippet::source(&source)
                .origin(&origin)
                .line_start(1)
                .fold(true)
                .annotation(level.span(start..end).label(&label)),
        );
    } else {
        msg = msg.footer(Level::Note.title(&origin));
    }
    if !hint.is_empty() {
        msg = msg.footer(Level::Help.title(&hint));
    }
    let rendered = renderer.render(msg).to_string();
    rendered
}

/// Byte range to underline: from the column to the end of the tag (or of the line).
fn span_of(source: &str, line: u32, column: u32) -> Option<(usize, usize)> {
    if line == 0 {
        return None;
    }
    let line_start = if line == 1 {
        0
    } else {
        source
            .match_indices('\n')
            .nth(line as usize - 2)
            .map(|(i, _)| i + 1)?
    };
    let line_end = source[line_start..]
        .find('\n')
        .map_or(source.len(), |i| line_start + i);
    let text = &source[line_start..line_end];
    let col_byte = text
        .char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(0, |(i, _)| i);
    let start = line_start + col_byte;
    let rest = &source[start..line_end];
    // Underline the element's name (`<personnummer`), not its attributes.
    let len = if rest.starts_with('<') {
        rest.find(|c: char| c.is_whitespace() || c == '>')
            .map_or(rest.len(), |i| {
                if rest.as_bytes()[i] == b'>' {
                    i + 1
                } else {
                    i
                }
            })
    } else {
        rest.trim_end().len()
    };
    let end = start + len.max(1).min(line_end.saturating_sub(start).max(1));
    Some((start, end.min(source.len()).max(start)))
}
