//! Output of `eioa validate`: human (compiler-style), JSON (stable, documented in
//! `docs/json-output.md`) and JUnit.

use annotate_snippets::{Level, Renderer, Snippet};
use eioa_validate::{Finding, SchemaSetInfo, Severity};
use serde::Serialize;
use std::borrow::Cow;
use std::time::Duration;

/// Version of the JSON shape; bumped only on incompatible changes.
pub const JSON_VERSION: u32 = 1;

/// One validated document, with the excerpts its findings quote.
pub use eioa_validate::input::FileResult;

/// A whole `validate` run.
#[derive(Debug, Clone)]
pub struct ValidationRun {
    pub tool: String,
    pub schema_set: SchemaSetInfo,
    pub files: Vec<FileResult>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    /// Counts one more file.
    pub fn add(&mut self, f: &FileResult) {
        let errors = f.report.errors();
        self.files += 1;
        self.errors += errors;
        self.warnings += f.report.warnings();
        if errors == 0 {
            self.valid += 1;
        } else {
            self.invalid += 1;
        }
    }
}

/// [`ValidationRun::to_human`] a file at a time, for a report written while the batch
/// runs: it keeps the counts, not the files.
#[derive(Debug, Clone)]
pub struct HumanReport {
    color: bool,
    quiet: bool,
    summary: Summary,
}

impl HumanReport {
    pub fn new(color: bool, quiet: bool) -> Self {
        HumanReport {
            color,
            quiet,
            summary: Summary::default(),
        }
    }

    /// The first line.
    pub fn header(schema_set: &SchemaSetInfo) -> String {
        format!("schema set {schema_set}\n")
    }

    /// Counts `f` and gives its findings as text (nothing when quiet or clean).
    pub fn file(&mut self, f: &FileResult) -> String {
        self.summary.add(f);
        let mut out = String::new();
        if !self.quiet && !f.report.findings.is_empty() {
            let renderer = if self.color {
                Renderer::styled()
            } else {
                Renderer::plain()
            };
            for i in 0..f.report.findings.len() {
                out.push_str(&render_finding(&renderer, f, i));
                out.push_str("\n\n");
            }
        }
        out
    }

    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The last line: the counts and the time the run took.
    pub fn end(&self, elapsed: Duration) -> String {
        let s = self.summary;
        let ms = elapsed.as_secs_f64() * 1000.0;
        format!(
            "checked {} file{} in {ms:.1} ms: {} valid, {} invalid; {} error{}, {} warning{}\n",
            s.files,
            plural(s.files),
            s.valid,
            s.invalid,
            s.errors,
            plural(s.errors),
            s.warnings,
            plural(s.warnings)
        )
    }
}

impl ValidationRun {
    pub fn summary(&self) -> Summary {
        // One pass: a batch of 20,000 files is read once, not once per count.
        let mut s = Summary::default();
        for f in &self.files {
            s.add(f);
        }
        s
    }

    /// Compiler-style text. `color` adds ANSI styles.
    pub fn to_human(&self, color: bool, quiet: bool) -> String {
        let mut human = HumanReport::new(color, quiet);
        let mut out = HumanReport::header(&self.schema_set);
        for f in &self.files {
            out.push_str(&human.file(f));
        }
        out.push_str(&human.end(self.elapsed));
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
                        .map(|x| one_line(&terminal_safe(&f.path), x))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
                s
            };
            // XML 1.0 cannot carry control characters, not even as references.
            let mut case = TestCase::new(terminal_safe(&f.path).into_owned(), status);
            case.set_classname("eioa.validate");
            let warnings: Vec<String> = f
                .report
                .findings
                .iter()
                .filter(|x| x.severity == Severity::Warning)
                .map(|x| one_line(&terminal_safe(&f.path), x))
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

/// A name as it may reach a terminal: control characters (an ESC starts a colour or
/// a cursor move) and bidirectional overrides (which reorder what is shown) are written
/// as `\u{…}` escapes. File names can hold any of them.
pub fn terminal_safe(name: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !name.chars().any(unsafe_char) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn render_finding(renderer: &Renderer, file: &FileResult, index: usize) -> String {
    let f = &file.report.findings[index];
    let excerpt = file.excerpts.get(index).and_then(Option::as_ref);
    let level = match f.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let title = match &f.kind {
        Some(k) => format!("{} ({k})", f.message),
        None => f.message.clone(),
    };
    let path = terminal_safe(&file.path);
    let label = f.path.clone().unwrap_or_default();
    let hint = f.hint.clone().unwrap_or_default();
    let mut msg = level.title(&title).id(&f.rule);
    // Line 0: the finding is about the whole document.
    let location = if f.line == 0 {
        path.to_string()
    } else {
        format!("{path}:{}:{}", f.line, f.column)
    };
    if let Some(ex) = excerpt {
        // annotate-snippets appends line:column to the origin itself.
        msg = msg.snippet(
            Snippet::source(&ex.text)
                .origin(&path)
                .line_start(ex.line as usize)
                .annotation(level.span(ex.span.clone()).label(&label)),
        );
    } else {
        msg = msg.footer(Level::Note.title(&location));
    }
    if !hint.is_empty() {
        msg = msg.footer(Level::Help.title(&hint));
    }
    let rendered = renderer.render(msg).to_string();
    match excerpt {
        Some(ex) => with_column(&rendered, &format!("{path}:{}:", ex.line), ex.column),
        None => rendered,
    }
}

/// annotate-snippets counts the column within the excerpt; where the line was cut on
/// the left the document's column is another, so the location line gets it back.
fn with_column(rendered: &str, location: &str, column: u32) -> String {
    let mut done = false;
    let lines: Vec<Cow<'_, str>> = rendered
        .split('\n')
        .map(|l| {
            if done || !l.contains("-->") {
                return Cow::Borrowed(l);
            }
            match l.rfind(location) {
                Some(i) if l[i + location.len()..].bytes().all(|b| b.is_ascii_digit()) => {
                    done = true;
                    Cow::Owned(format!("{}{location}{column}", &l[..i]))
                }
                _ => Cow::Borrowed(l),
            }
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use eioa_validate::input::{excerpts, Excerpt};
    use eioa_validate::{Report, SchemaSet};

    fn run_of(path: &str, source: &str, line: u32, column: u32) -> ValidationRun {
        let finding = Finding {
            rule: "EIOA-S001".into(),
            severity: Severity::Error,
            line,
            column,
            path: Some("/r/b".into()),
            message: "something about b".into(),
            hint: None,
            kind: None,
        };
        let excerpts: Vec<Option<Excerpt>> =
            excerpts(source.as_bytes(), std::slice::from_ref(&finding));
        ValidationRun {
            tool: "eioa".into(),
            schema_set: SchemaSet::embedded().info(),
            files: vec![FileResult {
                path: path.into(),
                report: Report {
                    findings: vec![finding],
                },
                excerpts,
            }],
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn a_line_cut_on_the_left_keeps_the_documents_column_in_colour_too() {
        let source = format!("<r>{}<b/></r>", "x".repeat(10_000));
        let column = 10_004;
        for color in [false, true] {
            let out = run_of("d.xml", &source, 1, column as u32).to_human(color, false);
            assert!(out.contains(&format!("d.xml:1:{column}\n")), "{out}");
            assert!(out.len() < 1500, "{out}");
        }
    }

    #[test]
    fn names_with_control_characters_are_escaped_in_human_and_junit_output() {
        let name = "a\u{1b}[2J\u{7}\u{202e}lmx.xml";
        let run = run_of(name, "<r>\n<b/>\n</r>", 2, 1);
        for out in [run.to_human(false, false), run.to_junit()] {
            assert!(!out.contains(['\u{1b}', '\u{7}', '\u{202e}']), "{out}");
            assert!(out.contains("a\\u{1b}[2J\\u{7}\\u{202e}lmx.xml"), "{out}");
        }
        assert!(run.to_json().contains("a\\u001b[2J\\u0007\u{202e}lmx.xml"));
        assert_eq!(terminal_safe("plain/ä.xml"), Cow::Borrowed("plain/ä.xml"));
    }
}
