//! `eioa validate`: files, directories (recursive `*.xml`) and stdin, in parallel.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_report::validation::{FileResult, ValidationRun};
use eioa_validate::{Report, ValidatorOptions, DEFAULT_MAX_BYTES};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to validate; `-` reads standard input.
    #[arg(required = true, value_name = "PATH|-")]
    paths: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Schema set: `eioa-v1` (embedded), an imported id, or a directory. Default: $EIOA_SCHEMA_DIR or eioa-v1.
    #[arg(long, value_name = "ID|DIR")]
    schema_set: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Documents larger than this many bytes are not parsed.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
    max_bytes: usize,
    /// The date rules compare against (age on employment, plausibility), YYYY-MM-DD. Default: today.
    #[arg(long, value_parser = common::parse_date)]
    today: Option<time::Date>,
    /// Print only the summary (human format).
    #[arg(long, short)]
    quiet: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Junit,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    if args.max_bytes == 0 {
        return Err(ExpectedError::Usage("--max-bytes must be positive".into()).into());
    }
    let validator = common::validator(
        args.schema_set.as_deref(),
        ValidatorOptions {
            max_bytes: args.max_bytes,
            today: args.today,
        },
    )?;
    let inputs = common::collect_inputs(&args.paths)?;
    // Read everything first: an unreadable file is an I/O error (exit 2), not a finding.
    let mut docs = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let bytes = input
            .read()
            .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", input.display())))?;
        docs.push((input.display(), bytes));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, docs.len().max(1));
    let mut reports: Vec<Option<Report>> = vec![None; docs.len()];
    if threads == 1 {
        for (slot, (_, bytes)) in reports.iter_mut().zip(&docs) {
            *slot = Some(validator.validate(bytes));
        }
    } else {
        let next = AtomicUsize::new(0);
        let results = std::sync::Mutex::new(&mut reports);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut local = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, bytes)) = docs.get(i) else { break };
                        local.push((i, validator.validate(bytes)));
                    }
                    if let Ok(mut r) = results.lock() {
                        for (i, rep) in local {
                            r[i] = Some(rep);
                        }
                    }
                });
            }
        });
    }
    let files: Vec<FileResult> = docs
        .into_iter()
        .zip(reports)
        .map(|((path, source), report)| FileResult {
            path,
            source,
            report: report.unwrap_or_default(),
        })
        .collect();
    let run = ValidationRun {
        tool: format!("eioa {}", env!("CARGO_PKG_VERSION")),
        schema_set: validator.info().clone(),
        files,
        elapsed: started.elapsed(),
    };
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.format {
        Format::Human => run.to_human(color, args.quiet),
        Format::Json => run.to_json(),
        Format::Junit => run.to_junit(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if run.summary().invalid == 0 {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}
