//! `eioa validate`: files, directories (recursive `*.xml`) and stdin, in parallel.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_report::validation::{FileResult, ValidationRun};
use eioa_validate::{ValidatorOptions, DEFAULT_MAX_BYTES};
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
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, inputs.len().max(1));
    // Each worker reads and validates its own files, so reading is parallel too. The
    // source is kept only when there is something to show from it.
    let check = |input: &common::Input| -> Result<FileResult, String> {
        let bytes = input
            .read()
            .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
        let report = validator.validate(&bytes);
        let source = if report.findings.is_empty() {
            Vec::new()
        } else {
            bytes
        };
        Ok(FileResult {
            path: input.display(),
            source,
            report,
        })
    };
    let mut results: Vec<Option<Result<FileResult, String>>> = Vec::new();
    results.resize_with(inputs.len(), || None);
    if threads == 1 {
        for (slot, input) in results.iter_mut().zip(&inputs) {
            *slot = Some(check(input));
        }
    } else {
        let next = AtomicUsize::new(0);
        let shared = std::sync::Mutex::new(&mut results);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut local = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(input) = inputs.get(i) else { break };
                        local.push((i, check(input)));
                    }
                    if let Ok(mut r) = shared.lock() {
                        for (i, res) in local {
                            r[i] = Some(res);
                        }
                    }
                });
            }
        });
    }
    // An unreadable file is an I/O error (exit 2), not a finding.
    let mut files = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Some(Ok(f)) => files.push(f),
            Some(Err(e)) => return Err(ExpectedError::Io(e).into()),
            None => return Err(ExpectedError::Io("a worker thread stopped early".into()).into()),
        }
    }
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
