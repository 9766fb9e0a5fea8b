//! `eioa validate`: arguments to [`eioa_validate::input`], results to the chosen format.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_report::validation::{terminal_safe, HumanReport, ValidationRun};
use eioa_validate::input::{self, BatchOptions, InputError};
use eioa_validate::{ValidatorOptions, DEFAULT_MAX_BYTES};
use std::ffi::OsStr;
use std::io::{IsTerminal, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to validate; `-` reads standard input.
    #[arg(required_unless_present = "files_from", value_name = "PATH|-")]
    paths: Vec<String>,
    /// Also validate the inputs listed in FILE (`-`: standard input), after the PATHs:
    /// one per line, or NUL-separated when the list holds a NUL byte (`find -print0`,
    /// `git ls-files -z`). For batches too large for a command line.
    #[arg(long, value_name = "FILE")]
    files_from: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Schema set: `eioa-v1` (embedded), an imported id, or a directory. Default: $EIOA_SCHEMA_DIR or eioa-v1.
    /// Several, comma-separated, give a matrix (document × set; human or json).
    #[arg(long, value_name = "ID|DIR", value_delimiter = ',')]
    schema_set: Vec<String>,
    /// Workers (default: one per core; at most 256). On Linux a batch of 512 files or more
    /// runs them as processes; EIOA_WORKERS=threads keeps threads.
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

impl Args {
    /// The paths to validate, in order (see `crate::args`).
    pub(crate) fn set_paths(&mut self, paths: Vec<String>) {
        self.paths = paths;
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    if args.max_bytes == 0 {
        return Err(ExpectedError::Usage("--max-bytes must be positive".into()).into());
    }
    let list = match &args.files_from {
        Some(file) => read_list(file, &args.paths)?,
        None => Vec::new(),
    };
    let listed = input::list_entries(&list).map_err(|e| {
        ExpectedError::Usage(format!(
            "{} lists a name that is not UTF-8: {e}",
            list_name(args.files_from.as_deref())
        ))
    })?;
    if args.files_from.as_deref() == Some(Path::new("-")) && listed.iter().any(|e| *e == "-") {
        return Err(ExpectedError::Usage(
            "standard input cannot be both the list (--files-from -) and an input in it (-)".into(),
        )
        .into());
    }
    if args.files_from.is_some() && listed.is_empty() && args.paths.is_empty() {
        // A pipeline that found nothing to check must not pass as if it had.
        return Err(ExpectedError::Usage(format!(
            "{} lists no input",
            list_name(args.files_from.as_deref())
        ))
        .into());
    }
    // The paths given, then the list's, each borrowed: a list of 100,000 names is one
    // buffer, not 100,000 strings.
    let paths: Vec<&OsStr> = if args.paths.is_empty() {
        listed
    } else {
        args.paths.iter().map(OsStr::new).chain(listed).collect()
    };
    if args.schema_set.len() > 1 {
        let threads = args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let opts = ValidatorOptions {
            max_bytes: args.max_bytes,
            today: args.today,
        };
        let batch = |v: &eioa_validate::Validator, inputs: &[input::Input]| {
            input::validate_all(
                v,
                inputs,
                BatchOptions {
                    threads,
                    excerpts: false,
                    own_fd_tables: true,
                    processes: true,
                },
            )
        };
        let m = super::matrix::validate(&paths, &args.schema_set, opts, &batch)?;
        return super::matrix::print(&m, matches!(args.format, Format::Json), "valid", "INVALID");
    }
    let validator = common::validator(
        args.schema_set.first().map(String::as_str),
        ValidatorOptions {
            max_bytes: args.max_bytes,
            today: args.today,
        },
    )?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // An input that cannot be read is an I/O error (exit 3), not a finding.
    let opts = BatchOptions {
        threads,
        excerpts: matches!(args.format, Format::Human) && !args.quiet,
        // A command-line run: no other thread closes descriptors meanwhile, and the
        // process has one thread until the batch starts (worker processes).
        own_fd_tables: true,
        processes: true,
    };
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let summary = match args.format {
        Format::Human => {
            // Written as the batch runs, a file at a time, in input order: the run keeps
            // counts, not 20,000 results, and its end is one line. A file that cannot
            // be read ends the run after the findings of every file before it.
            let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
            let mut human = HumanReport::new(color, args.quiet);
            let mut written = out.write_all(HumanReport::header(validator.info()).as_bytes());
            let batch = input::validate_args_each(&validator, &paths, opts, &mut |f| {
                let text = human.file(&f);
                if !text.is_empty() {
                    written = out.write_all(text.as_bytes());
                }
                // A report that cannot be written (its reader went away, the disk is
                // full) stops the batch: nothing would show what it checks.
                match written {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            });
            if let Err(e) = batch {
                let _ = out.flush();
                return Err(io_error(e));
            }
            written.map_err(output_error)?;
            out.write_all(human.end(started.elapsed()).as_bytes())
                .and_then(|()| out.flush())
                .map_err(output_error)?;
            human.summary()
        }
        Format::Json | Format::Junit => {
            let files = input::validate_args(&validator, &paths, opts).map_err(io_error)?;
            let run = ValidationRun {
                tool: format!("eioa {}", env!("CARGO_PKG_VERSION")),
                schema_set: validator.info().clone(),
                files,
                elapsed: started.elapsed(),
            };
            let text = match args.format {
                Format::Json => run.to_json(),
                _ => run.to_junit(),
            };
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(output_error)?;
            let summary = run.summary();
            // The process ends next: freeing a result and a path per input one by one
            // (20,000 of each in a large batch) would only add a serial tail to a
            // parallel run.
            std::mem::forget((run, text));
            summary
        }
    };
    let outcome = if summary.invalid == 0 {
        Outcome::Success
    } else {
        Outcome::Findings
    };
    std::mem::forget(paths);
    std::mem::forget((list, args.paths));
    Ok(outcome)
}

/// The bytes of `--files-from FILE` (`-`: standard input).
fn read_list(file: &Path, paths: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut list = Vec::new();
    let read = if file == Path::new("-") {
        if paths.iter().any(|p| p == "-") {
            return Err(ExpectedError::Usage(
                "standard input cannot be both the list (--files-from -) and an input (-)".into(),
            )
            .into());
        }
        std::io::stdin().lock().read_to_end(&mut list).map(drop)
    } else {
        // Read at its size in one go, not grown (and copied) step by step.
        std::fs::read(file).map(|bytes| list = bytes)
    };
    read.map_err(|e| {
        ExpectedError::Io(format!(
            "cannot read the list {}: {e}",
            terminal_safe(&file.display().to_string())
        ))
    })?;
    Ok(list)
}

fn list_name(file: Option<&Path>) -> String {
    match file {
        Some(f) if f == Path::new("-") => "the list on standard input".into(),
        Some(f) => format!("the list {}", terminal_safe(&f.display().to_string())),
        None => "the list".into(),
    }
}

/// A report that could not be written is an I/O error (exit 3), except a reader that
/// went away (`| head`), which ends the run quietly (see `exit::finish`).
fn output_error(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return e.into();
    }
    ExpectedError::Io(format!("cannot write the report to standard output: {e}")).into()
}

pub(crate) fn io_error(e: InputError) -> anyhow::Error {
    let what = match e {
        InputError::Read { .. } => "cannot read",
        InputError::List { .. } => "cannot list",
    };
    ExpectedError::Io(format!(
        "{what} {}: {}",
        terminal_safe(e.path()),
        e.io_error()
    ))
    .into()
}
