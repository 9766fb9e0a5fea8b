//! The session report: HTML (self-contained, the run report's look), JSON, JUnit (one
//! test case per checklist case) and Markdown, all from one [`SessionReport`].
//! Presentation only: every status comes from the judge.

use std::fmt::Write as _;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::coverage::ItemKind;
use crate::judge::{CaseResult, ExchangeRef, Readiness, SessionReport, Status};

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}\
table{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1.5em}\
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
code{font-size:12px}tr.failed td{background:#fde8e8}tr.demonstrated td.status{color:#1a7f37}\
tr.failed td.status{color:#b42318;font-weight:bold}tr.not-demonstrated td.status{color:#9a6700}\
.badge{font-weight:bold}.ready{color:#1a7f37}.not-ready{color:#b42318}\
h2{break-after:avoid}tr{break-inside:avoid}:target td{background:#fff8c5}";

fn verdict_text(r: &SessionReport) -> &'static str {
    match r.verdict {
        Readiness::Ready => "ready",
        Readiness::NotReady => "not ready",
    }
}

fn summary(r: &SessionReport) -> String {
    let req = r.cases.iter().filter(|c| c.required).count();
    format!(
        "{}: {} of {} required case(s) demonstrated, {} failed; {} of {} advisory; {} behaviour finding(s)",
        verdict_text(r),
        r.count(Status::Demonstrated, true),
        req,
        r.count(Status::Failed, true),
        r.count(Status::Demonstrated, false),
        r.cases.len() - req,
        r.findings.len()
    )
}

fn refs_text(refs: &[ExchangeRef]) -> String {
    refs.iter()
        .map(|e| match &e.tx_id {
            Some(t) => format!("#{} ({t})", e.seq),
            None => format!("#{}", e.seq),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn refs_html(refs: &[ExchangeRef]) -> Markup {
    html! {
        @for (i, e) in refs.iter().enumerate() {
            @if i > 0 { ", " }
            a href={ "#x-" (e.seq) } { "#" (e.seq) }
            @if let Some(t) = &e.tx_id { " " code { (t) } }
        }
    }
}

fn case_note(c: &CaseResult) -> String {
    match c.status {
        Status::Demonstrated => String::new(),
        Status::NotDemonstrated => c.hint.clone().unwrap_or_default(),
        Status::Failed => c.reason.clone().unwrap_or_default(),
    }
}

impl SessionReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises") + "\n"
    }

    pub fn to_html(&self) -> String {
        let s = &self.session;
        let cls = match self.verdict {
            Readiness::Ready => "badge ready",
            Readiness::NotReady => "badge not-ready",
        };
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { "E-IOA session " (s.name) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    h1 { "E-IOA conformance session " (s.name) }
                    p {
                        "Checklist " code { (self.checklist_id) } " (" (self.checklist_title) ") · "
                        "client " (s.client_fingerprint.as_deref().unwrap_or("any certificate")) br;
                        "from " (s.started) " to " (s.ended.as_deref().unwrap_or("(running)"))
                        " · schema set " (self.coverage.schema_set)
                        @if self.redacted { " · personal data redacted" }
                    }
                    p class=(cls) id="verdict" { (summary(self)) }
                    h2 { "Cases" }
                    table id="cases" {
                        thead { tr { th style="width:5em" { "id" } th { "case" } th style="width:7em" { "kind" } th style="width:10em" { "status" } th { "exchanges / what to do" } } }
                        tbody {
                            @for c in &self.cases {
                                tr class=(c.status.as_str().replace(' ', "-").replace("not-yet-", "not-")) id={ "case-" (c.id) } {
                                    td { code { (c.id) } }
                                    td { (c.title) }
                                    td { @if c.required { "required" } @else { "advisory" } }
                                    td class="status" { (c.status.as_str()) }
                                    td {
                                        (refs_html(&c.exchanges))
                                        @let note = case_note(c);
                                        @if !note.is_empty() { @if !c.exchanges.is_empty() { br; } (note) }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "Behaviour findings" }
                    @if self.findings.is_empty() {
                        p { "None." }
                    } @else {
                        table id="findings" {
                            thead { tr { th style="width:5em" { "rule" } th { "finding" } th style="width:14em" { "exchanges" } } }
                            tbody {
                                @for f in &self.findings {
                                    tr {
                                        td { code { (f.rule) } }
                                        td { (f.title) br; (f.message) }
                                        td { @for (i, seq) in f.seqs.iter().enumerate() { @if i > 0 { ", " } a href={ "#x-" (seq) } { "#" (seq) } } }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "Schema coverage" }
                    p { (self.coverage.covered()) " of " (self.coverage.items.len()) " branches of the payload schema exercised by accepted notifications." }
                    table id="coverage" {
                        thead { tr { th style="width:7em" { "kind" } th { "element" } th style="width:8em" { "value" } th style="width:14em" { "exchanges" } } }
                        tbody {
                            @for it in &self.coverage.items {
                                tr class=(if it.seen.is_empty() { "not-demonstrated" } else { "demonstrated" }) {
                                    td { (kind(it.kind)) }
                                    td { code { (it.path) } }
                                    td { @if let Some(v) = &it.value { code { (v) } } }
                                    td class="status" {
                                        @if it.seen.is_empty() { "not exercised" }
                                        @for (i, seq) in it.seen.iter().enumerate() { @if i > 0 { ", " } a href={ "#x-" (seq) } { "#" (seq) } }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "Exchanges" }
                    p { "Each exchange in full: " code { "eioa tx show TX-ID" } " (or by sequence number in " code { "eioa tx list" } ")." }
                    table id="exchanges" {
                        thead { tr { th style="width:4em" { "seq" } th style="width:13em" { "time" } th style="width:4em" { "status" } th { "tx-id" } th { "notification" } th { "answer" } } }
                        tbody {
                            @for e in &self.exchanges {
                                tr id={ "x-" (e.seq) } {
                                    td { (e.seq) }
                                    td { (e.time.chars().take(23).collect::<String>()) }
                                    td { (e.status.map_or("-".to_string(), |s| s.to_string())) }
                                    td { code { (e.tx_id.as_deref().unwrap_or("-")) } }
                                    td { code { (e.notification_id.as_deref().unwrap_or("-")) } }
                                    td { (e.answer.as_str()) @if let Some(f) = &e.fault { br; (f) } }
                                }
                            }
                        }
                    }
                }
            }
        };
        page.into_string()
    }

    /// One test suite, one test case per checklist case; a case not yet demonstrated
    /// is a failure when required and skipped when advisory.
    pub fn to_junit(&self) -> String {
        let mut suite = TestSuite::new(format!(
            "session {} ({})",
            self.session.name, self.checklist_id
        ));
        for c in &self.cases {
            let status = match (c.status, c.required) {
                (Status::Demonstrated, _) => TestCaseStatus::success(),
                (Status::Failed, _) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(c.reason.clone().unwrap_or_default());
                    s.set_type("failed");
                    s
                }
                (Status::NotDemonstrated, true) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!(
                        "not yet demonstrated: {}",
                        c.hint.clone().unwrap_or_default()
                    ));
                    s.set_type("not-demonstrated");
                    s
                }
                (Status::NotDemonstrated, false) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "advisory, not yet demonstrated: {}",
                        c.hint.clone().unwrap_or_default()
                    ));
                    s
                }
            };
            let mut tc = TestCase::new(format!("{} {}", c.id, c.title), status);
            tc.set_classname(format!("eioa.session.{}", self.checklist_id));
            if !c.exchanges.is_empty() {
                tc.set_system_out(format!("exchanges: {}", refs_text(&c.exchanges)));
            }
            suite.add_test_case(tc);
        }
        let mut report = Report::new(format!("eioa session {}", self.session.name));
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    pub fn to_markdown(&self) -> String {
        let s = &self.session;
        let mut o = String::new();
        let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
        let _ = writeln!(o, "# E-IOA conformance session {}\n", s.name);
        let _ = writeln!(
            o,
            "Checklist `{}` ({}), client {}, from {} to {}; schema set {}{}.\n",
            self.checklist_id,
            self.checklist_title,
            s.client_fingerprint.as_deref().unwrap_or("any certificate"),
            s.started,
            s.ended.as_deref().unwrap_or("(running)"),
            self.coverage.schema_set,
            if self.redacted {
                "; personal data redacted"
            } else {
                ""
            }
        );
        let _ = writeln!(o, "**{}**\n", summary(self));
        let _ = writeln!(o, "## Cases\n\n| id | case | kind | status | exchanges / what to do |\n| --- | --- | --- | --- | --- |");
        for c in &self.cases {
            let refs = refs_text(&c.exchanges);
            let note = case_note(c);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                c.id,
                cell(&c.title),
                if c.required { "required" } else { "advisory" },
                c.status.as_str(),
                cell(
                    &[refs, note]
                        .iter()
                        .filter(|t| !t.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            );
        }
        let _ = writeln!(o, "\n## Behaviour findings\n");
        if self.findings.is_empty() {
            let _ = writeln!(o, "None.");
        } else {
            let _ = writeln!(o, "| rule | finding | exchanges |\n| --- | --- | --- |");
            for f in &self.findings {
                let seqs: Vec<String> = f.seqs.iter().map(|s| format!("#{s}")).collect();
                let _ = writeln!(
                    o,
                    "| {} | {}: {} | {} |",
                    f.rule,
                    cell(&f.title),
                    cell(&f.message),
                    seqs.join(", ")
                );
            }
        }
        let _ = writeln!(
            o,
            "\n## Schema coverage\n\n{} of {} branches exercised by accepted notifications.\n\n| kind | element | value | exchanges |\n| --- | --- | --- | --- |",
            self.coverage.covered(),
            self.coverage.items.len()
        );
        for it in &self.coverage.items {
            let seen = if it.seen.is_empty() {
                "not exercised".to_string()
            } else {
                it.seen
                    .iter()
                    .map(|s| format!("#{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                o,
                "| {} | `{}` | {} | {} |",
                kind(it.kind),
                it.path,
                it.value.as_deref().unwrap_or(""),
                seen
            );
        }
        o
    }
}

fn kind(k: ItemKind) -> &'static str {
    match k {
        ItemKind::Choice => "choice",
        ItemKind::Optional => "optional",
        ItemKind::Value => "value",
    }
}
