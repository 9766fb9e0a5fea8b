//! `eioa replay ID`: finds an exchange by FK's tx-id (or the local id a report gives
//! a failed exchange), shows what was sent and answered, and runs its scenario again
//! against a fresh stand-in. A real FK target needs `--send`: nothing reaches FK
//! again without the user asking.

use super::run::{execute, Connection};
use crate::exit::{ExpectedError, Outcome};
use eioa_runner::{Judgement, RunSummary};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// tx-id or local exchange id from a report.
    id: String,
    /// Reports directory to search.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    #[command(flatten)]
    conn: Connection,
    /// Allow sending to FK (test or prod). Without it only the stand-in is used.
    #[arg(long)]
    send: bool,
    /// Only show the recorded exchange.
    #[arg(long)]
    show: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (summary, idx) = find(&args.reports, &args.id)?;
    let o = &summary.outcomes[idx];
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "exchange {} from run {} ({})",
        o.exchange_id, summary.run_id, summary.target
    )?;
    writeln!(
        out,
        "scenario {} {}: expected {}, {}",
        o.id,
        o.title,
        o.expected,
        o.reason.as_deref().unwrap_or("passed")
    )?;
    writeln!(
        out,
        "\nrequest:\n{}\n\nresponse:\n{}\n",
        o.request, o.response
    )?;
    if args.show {
        return Ok(Outcome::Success);
    }
    if args.conn.target == "prod" {
        return Err(ExpectedError::Usage("replay never reaches FK's production address (scenarios send invalid notifications on purpose); use `eioa send --confirm-production` for one notification".into()).into());
    }
    if !args.conn.is_mock() && !args.send {
        return Err(ExpectedError::Usage(format!(
            "replaying against {} sends a new request; add --send to confirm",
            args.conn.target
        ))
        .into());
    }
    let bundled = |n| eioa_runner::suite(n).map_err(|e| ExpectedError::Usage(e.to_string()));
    let scenarios: Vec<_> = bundled(eioa_runner::SuiteName::Full)?
        .into_iter()
        .chain(bundled(eioa_runner::SuiteName::Connection)?)
        .filter(|s| s.id == o.scenario)
        .collect();
    if scenarios.is_empty() {
        return Err(ExpectedError::Usage(format!(
            "scenario {} is not known to this version",
            o.scenario
        ))
        .into());
    }
    writeln!(
        out,
        "running scenario {} again against {}:",
        o.scenario, args.conn.target
    )?;
    let again = execute(&args.conn, &scenarios, None, None, true, true)?;
    Ok(
        if again
            .outcomes
            .iter()
            .all(|x| x.judgement == Judgement::Passed)
        {
            Outcome::Success
        } else {
            Outcome::Findings
        },
    )
}

fn find(reports: &std::path::Path, id: &str) -> anyhow::Result<(RunSummary, usize)> {
    let rd = std::fs::read_dir(reports)
        .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", reports.display())))?;
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .map(|d| d.path())
        .filter(|p| p.join("summary.json").is_file())
        .collect();
    dirs.sort();
    for d in dirs.iter().rev() {
        let Ok(bytes) = std::fs::read(d.join("summary.json")) else {
            continue;
        };
        let Ok(s) = serde_json::from_slice::<RunSummary>(&bytes) else {
            continue;
        };
        if let Some(i) = s
            .outcomes
            .iter()
            .position(|o| o.exchange_id == id || o.observed.tx_id.as_deref() == Some(id))
        {
            return Ok((s, i));
        }
    }
    Err(ExpectedError::Usage(format!("no exchange `{id}` in {}", reports.display())).into())
}
