//! `eioa rules`: the rule catalogue.

use crate::exit::Outcome;
use eioa_validate::rules::RULES;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, RULES)?;
            writeln!(out)?;
        }
        Format::Human => {
            for r in RULES {
                writeln!(
                    out,
                    "{}  {:<8} {:<26} {}",
                    r.id, r.severity, r.name, r.summary
                )?;
                writeln!(out, "{:11}{:<36}fix: {}", "", "", r.hint)?;
            }
        }
    }
    Ok(Outcome::Success)
}
