//! `eioa session start|status|end|report`: conformance sessions in the standalone
//! stand-in. start, status and end call the running server's admin interface;
//! report reads the data directory, so it works after the server stopped.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use eioa_mock_server::admin::{self, StartRequest};
use eioa_mock_server::cli::DataDirArg;
use eioa_session::{Checklist, Readiness, SessionReport, Status};

use crate::cmd::common;
use crate::exit::{ExpectedError, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Start a session: from now on, the exchanges (of one client certificate, or all)
    /// are judged against a checklist.
    Start {
        /// The session's name (letters, digits, '.', '_', '-').
        name: String,
        /// `onboarding` (bundled) or a checklist file (TOML, see docs/checklists.md).
        #[arg(long, default_value = "onboarding", value_name = "onboarding|FILE")]
        checklist: String,
        /// Follow only this client certificate (SHA-256 of its DER, hex; colons allowed).
        #[arg(long, value_name = "SHA256")]
        client_fingerprint: Option<String>,
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// The running session, judged now: each case's status.
    Status {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// End the running session.
    End {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Write the session's report: HTML, JSON, JUnit and Markdown.
    Report {
        name: String,
        #[command(flatten)]
        dir: DataDirArg,
        /// Directory for report.html, report.json, junit.xml and report.md.
        #[arg(long, default_value = "reports/session")]
        out: PathBuf,
        /// Schema set for the coverage table: `eioa-v1` (embedded), an imported id, or a
        /// directory. Default: $EIOA_SCHEMA_DIR or eioa-v1 (use the stand-in's).
        #[arg(long, value_name = "ID|DIR")]
        schema_set: Option<String>,
        /// Keep identity numbers in fault texts as sent (the report is then private).
        #[arg(long)]
        unredacted: bool,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Calls the admin interface; a non-2xx answer becomes its error message.
fn call(dir: &DataDirArg, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<String> {
    let (status, body) = runtime()?.block_on(admin::call(&dir.data_dir, method, path, body))?;
    if !(200..300).contains(&status) {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or(body);
        return Err(ExpectedError::Usage(message).into());
    }
    Ok(body)
}

fn status_line(r: &SessionReport) -> String {
    let required = r.cases.iter().filter(|c| c.required).count();
    format!(
        "{}: {} of {} required case(s) demonstrated, {} failed, {} finding(s)",
        match r.verdict {
            Readiness::Ready => "ready",
            Readiness::NotReady => "not ready",
        },
        r.count(Status::Demonstrated, true),
        required,
        r.count(Status::Failed, true),
        r.findings.len()
    )
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match cmd {
        Command::Start {
            name,
            checklist,
            client_fingerprint,
            dir,
        } => {
            let (list, text) =
                Checklist::resolve(&checklist).map_err(|e| ExpectedError::Usage(e.to_string()))?;
            let req = StartRequest {
                name,
                checklist_source: checklist,
                checklist: text,
                client_fingerprint,
            };
            let body = call(
                &dir,
                "POST",
                "/session/start",
                Some(&serde_json::to_string(&req)?),
            )?;
            let s: eioa_session::Session = serde_json::from_str(&body)?;
            writeln!(
                out,
                "session {} started at {} with checklist {} ({} cases), client {}",
                s.name,
                s.started,
                list.id,
                list.cases.len(),
                s.client_fingerprint.as_deref().unwrap_or("any")
            )?;
            writeln!(
                out,
                "point your system at the stand-in; then: eioa session status"
            )?;
            Ok(Outcome::Success)
        }
        Command::Status { dir } => {
            let body = call(&dir, "GET", "/session/status", None)?;
            let r: SessionReport = serde_json::from_str(&body)?;
            writeln!(
                out,
                "session {} (checklist {}), {} exchange(s) since {}",
                r.session.name,
                r.checklist_id,
                r.exchanges.len(),
                r.session.started
            )?;
            for c in &r.cases {
                let refs: Vec<String> = c.exchanges.iter().map(|e| format!("#{}", e.seq)).collect();
                writeln!(
                    out,
                    "  {:<6} {:<8} {:<21} {}{}",
                    c.id,
                    if c.required { "required" } else { "advisory" },
                    c.status.as_str(),
                    c.title,
                    if refs.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", refs.join(", "))
                    }
                )?;
            }
            for c in r.cases.iter().filter(|c| c.status != Status::Demonstrated) {
                if let Some(why) = c.reason.as_ref().or(c.hint.as_ref()) {
                    writeln!(out, "  {}: {why}", c.id)?;
                }
            }
            for f in &r.findings {
                writeln!(out, "  finding {}: {}", f.rule, f.message)?;
            }
            writeln!(out, "{}", status_line(&r))?;
            Ok(Outcome::Success)
        }
        Command::End { dir } => {
            let body = call(&dir, "POST", "/session/end", None)?;
            let s: eioa_session::Session = serde_json::from_str(&body)?;
            writeln!(
                out,
                "session {} ended at {}; write its report with: eioa session report {}",
                s.name,
                s.ended.as_deref().unwrap_or("?"),
                s.name
            )?;
            Ok(Outcome::Success)
        }
        Command::Report {
            name,
            dir,
            out: out_dir,
            schema_set,
            unredacted,
        } => {
            if !dir.data_dir.is_dir() {
                bail!(ExpectedError::Usage(format!(
                    "no data directory at {}: pass the stand-in's --data-dir",
                    dir.data_dir.display()
                )));
            }
            let schemas = common::schema_set(schema_set.as_deref())?;
            let (report, damage) =
                admin::session_report(&dir.data_dir, &name, &schemas, !unredacted)
                    .map_err(|e| ExpectedError::Usage(format!("{e:#}")))?;
            for d in &damage {
                eprintln!("warning: journal damage: {d}");
            }
            let used = schemas.info().to_string();
            if let Some(ran) = report.session.schema_set.as_deref().filter(|r| *r != used) {
                eprintln!(
                    "warning: the stand-in ran this session with schema set {ran}; the coverage table is for {used} (pass --schema-set)"
                );
            }
            write_report(&report, &out_dir, unredacted)
                .with_context(|| format!("failed to write the report to {}", out_dir.display()))?;
            writeln!(out, "{}", status_line(&report))?;
            writeln!(out, "report: {}", out_dir.join("report.html").display())?;
            Ok(match report.verdict {
                Readiness::Ready => Outcome::Success,
                Readiness::NotReady => Outcome::Findings,
            })
        }
    }
}

/// The four files; an unredacted report is readable by its owner only.
fn write_report(r: &SessionReport, dir: &std::path::Path, private: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::create_dir_all(dir)?;
    if private {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    for (file, text) in [
        ("report.html", r.to_html()),
        ("report.json", r.to_json()),
        ("junit.xml", r.to_junit()),
        ("report.md", r.to_markdown()),
    ] {
        let path = dir.join(file);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(if private { 0o600 } else { 0o644 })
            .open(&path)?;
        f.write_all(text.as_bytes())?;
    }
    Ok(())
}
