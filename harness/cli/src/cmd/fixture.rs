//! `eioa fixture add ID`: keeps one recorded exchange as a tx-id fixture
//! (`fixtures/tx/<id>/`), pseudonymised by default, for `eioa replay` to send again.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_runner::fixture::{self, FixtureError};
use eioa_validate::ValidatorOptions;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Take an exchange from a run report (`eioa run --unredacted`) or, with --journal,
    /// from the TLS stand-in's journal (`seq-N` names any exchange, faulted ones too).
    Add(AddArgs),
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// FK's tx-id, a report's local exchange id, or `seq-N` (journal).
    id: String,
    /// Reports directory to search.
    #[arg(long, default_value = "reports", conflicts_with = "journal")]
    reports: PathBuf,
    /// The stand-in's data directory (its journal) instead of reports.
    #[arg(long, value_name = "DIR")]
    journal: Option<PathBuf>,
    /// Where fixtures go: DIR/<id>/.
    #[arg(long, default_value = "fixtures/tx")]
    out: PathBuf,
    /// Keep identity numbers and names as recorded (pseudonymised by default).
    #[arg(long)]
    unredacted: bool,
    /// Schema set that reads the journal's answers: `eioa-v1`, an imported id, or a directory.
    #[arg(long, value_name = "ID|DIR")]
    schema_set: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let Cmd::Add(a) = args.cmd;
    let ex = match &a.journal {
        Some(dir) => {
            let validator =
                common::validator(a.schema_set.as_deref(), ValidatorOptions::default())?;
            fixture::from_journal(dir, &a.id, &validator)
        }
        None => fixture::from_reports(&a.reports, &a.id),
    }
    .map_err(expected)?;
    let dir = fixture::write(&a.out, &ex, a.unredacted).map_err(expected)?;
    let o = &ex.meta.outcome;
    eprintln!(
        "fixture {}: {}{} ({}); replay it with `eioa replay {}`",
        dir.display(),
        o.kind,
        o.fault
            .as_deref()
            .map(|f| format!(" {f}"))
            .unwrap_or_default(),
        if a.unredacted {
            "as recorded"
        } else {
            "pseudonymised"
        },
        dir.display()
    );
    Ok(Outcome::Success)
}

/// A fixture error as the CLI reports it.
pub fn expected(e: FixtureError) -> anyhow::Error {
    if e.is_io() {
        ExpectedError::Io(e.to_string()).into()
    } else {
        ExpectedError::Usage(e.to_string()).into()
    }
}
