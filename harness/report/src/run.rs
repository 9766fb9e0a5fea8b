//! One conformance run as data ([`RunSummary`]) and its renderings: JSON, JUnit,
//! Markdown and a self-contained HTML page. The judging itself lives with the
//! scenarios, in `eioa-runner`.

use eioa_validate::SchemaSetInfo;
use serde::{Deserialize, Serialize};

/// What a step must get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Expect {
    /// A `tx-id`.
    Accepted,
    /// An `XmlValidationError` fault.
    XmlValidationError,
    /// A `SignatureValidationError` fault.
    SignatureValidationError,
    /// Any SOAP fault (transport mistakes: FK's exact answer is not public).
    Fault,
    /// Any well-formed answer from FK's operation: a tx-id or one of its faults
    /// (the connection test, signed with the harness's test CA).
    SoapAnswer,
    /// No answer at all: the connection or TLS refused, or cut before an answer.
    TransportError,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expect::Accepted => "tx-id",
            Expect::XmlValidationError => "XmlValidationError",
            Expect::SignatureValidationError => "SignatureValidationError",
            Expect::Fault => "a SOAP fault",
            Expect::SoapAnswer => "a tx-id or an E-IOA fault",
            Expect::TransportError => "no answer (a transport error)",
        })
    }
}

/// What came back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub status: Option<u16>,
    pub tx_id: Option<String>,
    /// `XmlValidationError`, `SignatureValidationError` or `Fault`.
    pub fault: Option<String>,
    pub faultcode: Option<String>,
    pub fault_message: Option<String>,
    /// The answer could not be read as SOAP.
    pub unreadable: Option<String>,
    /// Schema errors in the answer's envelope (FK's side of the contract).
    pub envelope_findings: Vec<String>,
    /// The request failed before an answer (transport, TLS, timeout).
    pub error: Option<String>,
    /// `not-sent`, `maybe-sent` or `answered`.
    pub delivery: String,
}

/// The harness's judgement of one exchange: passed or failed (the reason is beside it
/// in [`ExchangeOutcome::reason`]). Not FK's decision, which is `eioa_fk::Verdict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judgement {
    Passed,
    Failed,
}

/// One exchange of one scenario, judged: a row of the run report. Built and judged by
/// `eioa-runner`; this crate only renders it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeOutcome {
    /// `A01`, or `A09#2` for a scenario's second exchange.
    pub id: String,
    pub scenario: String,
    pub title: String,
    pub category: String,
    pub expected: Expect,
    /// A fragment FK's fault message must contain, when the scenario names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_message: Option<String>,
    pub observed: Observed,
    /// Read as `verdict` too: reports written before the rename.
    #[serde(alias = "verdict")]
    pub judgement: Judgement,
    /// What passed but deserves a look (a changed re-send, a slow answer); never a
    /// failure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ExchangeWarning>,
    /// Why it failed, in one sentence.
    pub reason: Option<String>,
    /// The exchange's key for `eioa replay`: FK's tx-id when there is one, else a
    /// local id.
    pub exchange_id: String,
    pub elapsed_ms: f64,
    pub tls_version: Option<String>,
    pub server_cert_sha256: Option<String>,
    pub client_cert_sha256: Option<String>,
    pub url: String,
    /// Request and response bodies, redacted unless the run said otherwise.
    pub request: String,
    pub response: String,
}

/// Something about an exchange FK accepts or answers but a vendor should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeWarning {
    pub kind: WarningKind,
    /// One sentence, with what to do.
    pub message: String,
}

/// The kinds of [`ExchangeWarning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A notification id sent again with other content (FK's rule FK-W001: a change
    /// needs a new id; FK handles this one manually).
    ChangedResend,
    /// The answer took longer than FK's backend normally needs (2 seconds).
    SlowAnswer,
}

impl std::fmt::Display for WarningKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WarningKind::ChangedResend => "changed-resend",
            WarningKind::SlowAnswer => "slow-answer",
        })
    }
}

impl std::fmt::Display for ExchangeWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "warning[{}]: {}", self.kind, self.message)
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    pub tool: String,
    pub target: String,
    pub schema_set: SchemaSetInfo,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: time::OffsetDateTime,
    pub elapsed_ms: f64,
    pub outcomes: Vec<ExchangeOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub exchanges: usize,
    pub passed: usize,
    pub failed: usize,
    /// Warnings over all exchanges.
    pub warnings: usize,
}

impl RunSummary {
    pub fn totals(&self) -> Totals {
        let passed = self
            .outcomes
            .iter()
            .filter(|o| o.judgement == Judgement::Passed)
            .count();
        Totals {
            exchanges: self.outcomes.len(),
            passed,
            failed: self.outcomes.len() - passed,
            warnings: self.outcomes.iter().map(|o| o.warnings.len()).sum(),
        }
    }

    pub fn passed(&self) -> bool {
        self.totals().failed == 0 && !self.outcomes.is_empty()
    }

    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            version: u32,
            #[serde(flatten)]
            run: &'a RunSummary,
            totals: Totals,
        }
        serde_json::to_string_pretty(&Doc {
            version: 1,
            run: self,
            totals: self.totals(),
        })
        .unwrap_or_default()
            + "\n"
    }

    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
        let mut report = Report::new(format!("eioa run {}", self.run_id));
        let mut suite = TestSuite::new(format!("E-IOA conformance against {}", self.target));
        suite.add_property(quick_junit::Property::new(
            "schema-set",
            self.schema_set.to_string(),
        ));
        suite.add_property(quick_junit::Property::new("run-id", self.run_id.clone()));
        for o in &self.outcomes {
            let status = match o.judgement {
                Judgement::Passed => TestCaseStatus::success(),
                Judgement::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(o.reason.clone().unwrap_or_default());
                    s.set_description(format!(
                        "exchange {}\n\nrequest:\n{}\n\nresponse:\n{}",
                        o.exchange_id, o.request, o.response
                    ));
                    s
                }
            };
            let mut case = TestCase::new(format!("{} {}", o.id, o.title), status);
            case.set_classname(format!("eioa.{}", o.category));
            case.set_time(std::time::Duration::from_secs_f64(o.elapsed_ms / 1000.0));
            case.set_system_out(format!("exchange {}", o.exchange_id));
            if !o.warnings.is_empty() {
                case.set_system_err(warning_lines(o));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    pub fn to_markdown(&self) -> String {
        let t = self.totals();
        let mut s = format!(
            "# E-IOA conformance report\n\n- run: `{}`\n- target: {}\n- schema set: {}\n- tool: {}\n- started: {}\n- result: **{}** ({} of {} exchanges passed, {} warning(s), {:.0} ms)\n\n",
            self.run_id,
            self.target,
            self.schema_set,
            self.tool,
            self.started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            if self.passed() { "PASSED" } else { "FAILED" },
            t.passed,
            t.exchanges,
            t.warnings,
            self.elapsed_ms
        );
        s.push_str(
            "| id | scenario | expected | got | result | exchange |\n|---|---|---|---|---|---|\n",
        );
        for o in &self.outcomes {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | `{}` |\n",
                o.id,
                o.title.replace('|', "\\|"),
                expected(o).replace('|', "\\|"),
                got(o).replace('|', "\\|"),
                result(o, "**FAIL**"),
                o.exchange_id
            ));
        }
        let failed: Vec<&ExchangeOutcome> = self
            .outcomes
            .iter()
            .filter(|o| o.judgement == Judgement::Failed)
            .collect();
        let warned: Vec<&ExchangeOutcome> = self
            .outcomes
            .iter()
            .filter(|o| !o.warnings.is_empty())
            .collect();
        if !warned.is_empty() {
            s.push_str("\n## Warnings\n\n");
            for o in warned {
                for w in &o.warnings {
                    s.push_str(&format!(
                        "- {} {}: {} (`{}`)\n",
                        o.id,
                        w.kind,
                        w.message.replace('|', "\\|"),
                        o.exchange_id
                    ));
                }
            }
        }
        if !failed.is_empty() {
            s.push_str("\n## Failures\n");
            for o in failed {
                s.push_str(&format!(
                    "\n### {} {}\n\n{}\n\nReproduce: `eioa replay {}`\n\n```xml\n{}\n```\n",
                    o.id,
                    o.title,
                    o.reason.as_deref().unwrap_or(""),
                    o.exchange_id,
                    o.response
                ));
            }
        }
        s
    }

    pub fn to_html(&self) -> String {
        let t = self.totals();
        let mut rows = String::new();
        for o in &self.outcomes {
            let pass = o.judgement == Judgement::Passed;
            rows.push_str(&format!(
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n<tr class=\"detail\"><td></td><td colspan=\"5\"><details><summary>exchange</summary><p>{}</p><pre>{}</pre><pre>{}</pre></details></td></tr>\n",
                match (pass, o.warnings.is_empty()) {
                    (false, _) => "fail",
                    (true, true) => "pass",
                    (true, false) => "pass warn",
                },
                esc(&o.id),
                esc(&o.title),
                esc(&expected(o)),
                esc(&got(o)),
                esc(&result(o, "FAIL")),
                esc(&o.exchange_id),
                esc(&detail(o)),
                esc(&o.request),
                esc(&o.response),
            ));
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>E-IOA conformance {run}</title>\n<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;width:100%;table-layout:fixed}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}}th:nth-child(1){{width:4.5em}}th:nth-child(2){{width:22%}}th:nth-child(3){{width:12%}}th:nth-child(5){{width:3.5em}}th:nth-child(6){{width:16%}}code{{font-size:12px}}tr.fail td{{background:#fde8e8}}tr.pass td:nth-child(5){{color:#1a7f37}}tr.fail td:nth-child(5){{color:#b42318;font-weight:bold}}tr.warn td:nth-child(5){{color:#9a6700}}tr.detail td{{border:none;padding-top:0}}pre{{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:8px;font-size:12px}}.badge{{font-weight:bold;color:{color}}}</style></head>\n<body><h1>E-IOA conformance report</h1>\n<p>Run <code>{run}</code> against {target}<br>schema set {set} · {tool} · {started}</p>\n<p class=\"badge\">{result}: {passed} of {total} exchanges passed, {warnings} warning(s) ({ms:.0} ms)</p>\n<table><thead><tr><th>id</th><th>scenario</th><th>expected</th><th>got</th><th>result</th><th>exchange</th></tr></thead><tbody>\n{rows}</tbody></table></body></html>\n",
            run = esc(&self.run_id),
            target = esc(&self.target),
            set = esc(&self.schema_set.to_string()),
            tool = esc(&self.tool),
            started = self.started_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            result = if self.passed() { "PASSED" } else { "FAILED" },
            color = if self.passed() { "#1a7f37" } else { "#b42318" },
            passed = t.passed,
            total = t.exchanges,
            warnings = t.warnings,
            ms = self.elapsed_ms,
        )
    }
}

/// `pass`, `pass, 1 warning` or the failure mark.
fn result(o: &ExchangeOutcome, fail: &str) -> String {
    match (o.judgement, o.warnings.len()) {
        (Judgement::Failed, _) => fail.to_string(),
        (Judgement::Passed, 0) => "pass".into(),
        (Judgement::Passed, 1) => "pass, 1 warning".into(),
        (Judgement::Passed, n) => format!("pass, {n} warnings"),
    }
}

/// The expectation as the reports show it: the kind of answer, and the message
/// fragment when the scenario names one.
fn expected(o: &ExchangeOutcome) -> String {
    match &o.expected_message {
        Some(m) => format!("{} mentioning `{m}`", o.expected),
        None => o.expected.to_string(),
    }
}

/// The reason (or "as expected") and the warnings, on one line.
fn detail(o: &ExchangeOutcome) -> String {
    std::iter::once(o.reason.clone().unwrap_or_else(|| "as expected".into()))
        .chain(o.warnings.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One `warning[kind]: message` line per warning.
fn warning_lines(o: &ExchangeOutcome) -> String {
    o.warnings.iter().map(|w| format!("{w}\n")).collect()
}

fn got(o: &ExchangeOutcome) -> String {
    let ob = &o.observed;
    if let Some(e) = &ob.error {
        return format!("error: {e}");
    }
    match (&ob.tx_id, &ob.fault) {
        (Some(t), _) => format!("tx-id {t}"),
        (None, Some(f)) => format!(
            "{f} (HTTP {}): {}",
            ob.status.map_or("-".into(), |s| s.to_string()),
            ob.fault_message.as_deref().unwrap_or("")
        ),
        _ => format!("HTTP {}", ob.status.map_or("-".into(), |s| s.to_string())),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, judgement: Judgement) -> ExchangeOutcome {
        ExchangeOutcome {
            id: id.into(),
            scenario: id.into(),
            title: format!("scenario {id} | with a pipe"),
            category: "accepted".into(),
            expected: Expect::Accepted,
            expected_message: None,
            observed: Observed {
                status: Some(500),
                fault: Some("XmlValidationError".into()),
                fault_message: Some("FK-X003: <missing> & more".into()),
                delivery: "answered".into(),
                ..Observed::default()
            },
            judgement,
            warnings: Vec::new(),
            reason: (judgement == Judgement::Failed)
                .then(|| format!("expected tx-id, got XmlValidationError ({id})")),
            exchange_id: format!("local-{id}"),
            elapsed_ms: 1.5,
            tls_version: None,
            server_cert_sha256: None,
            client_cert_sha256: None,
            url: "http://127.0.0.1:1/x".into(),
            request: "<request/>".into(),
            response: "<response/>".into(),
        }
    }

    fn summary(outcomes: Vec<ExchangeOutcome>) -> RunSummary {
        RunSummary {
            run_id: "run-1".into(),
            tool: "eioa test".into(),
            target: "mock http://127.0.0.1:1/x".into(),
            schema_set: SchemaSetInfo {
                id: "eioa-v1".into(),
                provenance: "reconstructed".into(),
                hash: "000000000000".into(),
            },
            started_at: time::OffsetDateTime::UNIX_EPOCH,
            elapsed_ms: 3.0,
            outcomes,
        }
    }

    fn mixed() -> RunSummary {
        let mut warned = row("A10#2", Judgement::Passed);
        warned.warnings.push(ExchangeWarning {
            kind: WarningKind::ChangedResend,
            message: "notification n was sent earlier with other content".into(),
        });
        summary(vec![
            row("A01", Judgement::Passed),
            row("P02", Judgement::Failed),
            warned,
        ])
    }

    #[test]
    fn totals_count_failures_and_warnings() {
        let s = mixed();
        assert_eq!(
            s.totals(),
            Totals {
                exchanges: 3,
                passed: 2,
                failed: 1,
                warnings: 1
            }
        );
        assert!(!s.passed());
        assert!(summary(vec![row("A01", Judgement::Passed)]).passed());
        assert!(!summary(vec![]).passed(), "an empty run proves nothing");
    }

    #[test]
    fn json_marks_the_failed_row_and_round_trips() {
        let s = mixed();
        let json = s.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(v["outcomes"][1]["id"], "P02");
        assert_eq!(v["outcomes"][1]["judgement"], "failed");
        assert_eq!(v["outcomes"][0]["judgement"], "passed");
        assert_eq!(v["outcomes"][2]["warnings"][0]["kind"], "changed-resend");
        assert!(v["outcomes"][0].get("warnings").is_none());
        assert_eq!(v["totals"]["failed"], 1);
        assert_eq!(v["totals"]["warnings"], 1);
        let back: RunSummary = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, s);
    }

    #[test]
    fn reports_written_before_the_rename_still_read() {
        let json = mixed().to_json().replace("\"judgement\"", "\"verdict\"");
        let back: RunSummary = serde_json::from_str(&json).expect("old key read");
        assert_eq!(back.outcomes[1].judgement, Judgement::Failed);
    }

    #[test]
    fn junit_reports_the_failure_with_its_reason() {
        let junit = mixed().to_junit();
        assert!(junit.contains("tests=\"3\""), "{junit}");
        assert!(junit.contains("failures=\"1\""), "{junit}");
        let p02 = junit
            .split("<testcase")
            .find(|c| c.contains("name=\"P02 "))
            .expect("P02 case");
        assert!(p02.contains("<failure"), "{p02}");
        assert!(
            p02.contains("expected tx-id, got XmlValidationError (P02)"),
            "{p02}"
        );
        let a01 = junit
            .split("<testcase")
            .find(|c| c.contains("name=\"A01 "))
            .expect("A01 case");
        assert!(!a01.contains("<failure"), "{a01}");
        let warned = junit
            .split("<testcase")
            .find(|c| c.contains("name=\"A10#2 "))
            .expect("A10#2 case");
        assert!(
            warned.contains("warning[changed-resend]") && !warned.contains("<failure"),
            "{warned}"
        );
    }

    #[test]
    fn markdown_marks_the_failed_row_and_lists_it() {
        let md = mixed().to_markdown();
        assert!(
            md.contains("- result: **FAILED** (2 of 3 exchanges passed, 1 warning(s)"),
            "{md}"
        );
        let p02 = md
            .lines()
            .find(|l| l.starts_with("| P02 "))
            .expect("P02 row");
        assert!(p02.contains("| **FAIL** |"), "{p02}");
        // A pipe in a cell would break the table.
        assert!(p02.contains("with a pipe") && p02.contains("\\|"), "{p02}");
        let a01 = md
            .lines()
            .find(|l| l.starts_with("| A01 "))
            .expect("A01 row");
        assert!(a01.contains("| pass |"), "{a01}");
        let warned = md.lines().find(|l| l.starts_with("| A10#2 ")).expect("row");
        assert!(warned.contains("| pass, 1 warning |"), "{warned}");
        assert!(md.contains("## Failures\n\n### P02 "), "{md}");
        assert!(md.contains("Reproduce: `eioa replay local-P02`"), "{md}");
        assert!(
            md.contains("## Warnings\n\n- A10#2 changed-resend: "),
            "{md}"
        );
    }

    #[test]
    fn html_marks_the_failed_row_and_escapes() {
        let html = mixed().to_html();
        assert!(
            html.contains("FAILED: 2 of 3 exchanges passed, 1 warning(s)"),
            "{html}"
        );
        assert!(html.contains("<tr class=\"fail\"><td>P02</td>"), "{html}");
        assert!(html.contains("<tr class=\"pass\"><td>A01</td>"), "{html}");
        assert!(
            html.contains("<tr class=\"pass warn\"><td>A10#2</td>"),
            "{html}"
        );
        assert!(html.contains("&lt;missing&gt; &amp; more"), "{html}");
        assert!(!html.contains("<missing>"), "fault text is escaped");
    }
}
