//! `eioa fuzz`: generated valid and mutated notifications against the validator and
//! the model's strict parser; surprises are shrunk and written as regression fixtures.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_gen::fuzz::{self, Budget, CaseClass, FuzzConfig};
use eioa_gen::shard::{self, Shard, ShardSummary};
use eioa_validate::ValidatorOptions;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<FuzzCommand>,
    /// Run shard I of N (1-based) of the `--cases` case space, for CI matrices: N
    /// jobs with the same seed and `--cases` run exactly the cases of one run, and
    /// `eioa fuzz merge` combines their `--summary-json` files.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse, requires = "cases")]
    shard: Option<Shard>,
    /// Write the run's summary (counts per class, surprises, the cases covered) as JSON.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
    /// Number of cases (default 10000 unless --time is given).
    #[arg(long, conflicts_with = "time")]
    cases: Option<u64>,
    /// Run for this long instead: `60s`, `5m`, `1h` or seconds.
    #[arg(long, value_parser = parse_duration)]
    time: Option<Duration>,
    /// Run seed; case i is a function of (seed, i) alone.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Schema set: `eioa-v1` (embedded), an imported id, or a directory.
    #[arg(long, value_name = "ID|DIR")]
    schema_set: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Where surprises are written as `<class>-<seed>.xml`.
    #[arg(long, value_name = "DIR", default_value = "fixtures/regressions")]
    regressions_dir: PathBuf,
    /// Only these classes (repeatable; `valid` or a mutation class from `eioa generate --list`).
    #[arg(long = "class", value_name = "CLASS")]
    classes: Vec<String>,
    /// The date generation and the date rules share, YYYY-MM-DD (default: a fixed
    /// date, so a seed reproduces on any day).
    #[arg(long, value_parser = common::parse_date)]
    today: Option<time::Date>,
}

#[derive(Debug, clap::Subcommand)]
enum FuzzCommand {
    /// Combine the `--summary-json` files of a sharded run into one summary.
    Merge {
        /// Summary files, one per shard.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write the merged summary as JSON too.
        #[arg(long, value_name = "FILE")]
        summary_json: Option<PathBuf>,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (60s, 5m, 1h)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{s}` is not a duration (60s, 5m, 1h)")),
    };
    Ok(Duration::from_secs(secs))
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if let Some(FuzzCommand::Merge {
        files,
        summary_json,
    }) = args.command
    {
        return merge(&files, summary_json.as_deref());
    }
    let today = args.today.unwrap_or(eioa_gen::DEFAULT_TODAY);
    let validator = common::validator(
        args.schema_set.as_deref(),
        ValidatorOptions {
            today: Some(today),
            ..Default::default()
        },
    )?;
    let mut cfg = FuzzConfig::new(args.seed, today);
    if !args.classes.is_empty() {
        cfg.classes = args
            .classes
            .iter()
            .map(|c| {
                CaseClass::by_name(c).ok_or_else(|| {
                    ExpectedError::Usage(format!("no class `{c}` (see `eioa generate --list`)"))
                })
            })
            .collect::<Result<_, _>>()?;
    }
    let total = args.cases.unwrap_or(10_000);
    let range = args.shard.map_or(0..total, |s| s.range(total));
    let budget = match (args.cases, args.time, args.shard) {
        (_, Some(t), _) => Budget::Time(t),
        (_, None, Some(_)) => Budget::Indices {
            start: range.start,
            end: range.end,
        },
        (_, None, None) => Budget::Cases(total),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);

    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let b = match budget {
            Budget::Cases(n) => indicatif::ProgressBar::new(n),
            Budget::Indices { start, end } => indicatif::ProgressBar::new(end - start),
            Budget::Time(t) => indicatif::ProgressBar::new(t.as_secs()),
        };
        let template = match budget {
            Budget::Cases(_) | Budget::Indices { .. } => {
                "{bar:40} {pos}/{len} cases {per_sec} {eta}"
            }
            Budget::Time(_) => "{bar:40} {pos}/{len} s {msg}",
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            b.set_style(style);
        }
        b
    });
    let started = Instant::now();
    let last_line = Mutex::new(Instant::now());
    let progress = |done: u64| {
        if let Some(b) = &bar {
            match budget {
                Budget::Cases(_) | Budget::Indices { .. } => b.set_position(done),
                Budget::Time(_) => {
                    b.set_position(started.elapsed().as_secs());
                    b.set_message(format!("{done} cases"));
                }
            }
        } else if let Ok(mut last) = last_line.lock() {
            if last.elapsed() >= Duration::from_secs(2) {
                *last = Instant::now();
                eprintln!(
                    "fuzz: {done} cases, {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    };
    let summary = fuzz::run(&cfg, &validator, threads, budget, &progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:28} {:>9} {:>9} {:>9}",
        "class", "cases", "expected", "surprises"
    )?;
    let mut expected = 0;
    for (class, st) in &summary.per_class {
        expected += st.as_expected;
        writeln!(
            out,
            "{:28} {:>9} {:>9} {:>9}",
            class.name(),
            st.cases,
            st.as_expected,
            st.surprises
        )?;
    }
    writeln!(
        out,
        "{:28} {:>9} {:>9} {:>9}",
        "total",
        summary.cases,
        expected,
        summary.surprises.len()
    )?;
    writeln!(
        out,
        "{} cases in {:.1} s: {:.0} cases/s ({threads} thread(s), seed {}, today {today}, schema set {})",
        summary.cases,
        summary.elapsed.as_secs_f64(),
        summary.cases_per_second(),
        args.seed,
        validator.info().id,
    )?;
    if let Some(shard) = args.shard {
        writeln!(
            out,
            "shard {shard}: cases {}..{} of {total}",
            range.start, range.end
        )?;
    }
    if let Some(file) = &args.summary_json {
        // A time budget covers whatever it reached, from 0.
        let covered = match budget {
            Budget::Time(_) => 0..summary.cases,
            _ => range.clone(),
        };
        let key = shard::run_key(&cfg, validator.info().to_string(), total);
        write_summary(file, &ShardSummary::of(key, covered, &summary))?;
    }
    for s in &summary.surprises {
        let path = fuzz::write_regression(&args.regressions_dir, s, &cfg).map_err(|e| {
            ExpectedError::Io(format!(
                "cannot write to {}: {e}",
                args.regressions_dir.display()
            ))
        })?;
        writeln!(
            out,
            "surprise: {} case {} (seed {}): {}; expected {}, observed {} ({}) -> {}",
            s.class.name(),
            s.index,
            s.case_seed,
            s.kind.name(),
            s.expected.describe(),
            s.observed.describe(),
            s.detail,
            path.display()
        )?;
    }
    out.flush()?;
    Ok(if summary.surprises.is_empty() {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}

fn write_summary(file: &std::path::Path, summary: &ShardSummary) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(summary)?;
    std::fs::write(file, json)
        .map_err(|e| ExpectedError::Io(format!("cannot write {}: {e}", file.display())))?;
    Ok(())
}

/// `eioa fuzz merge`: the shards' summaries as one run's.
fn merge(files: &[PathBuf], summary_json: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let mut parts = Vec::new();
    for f in files {
        let bytes = std::fs::read(f)
            .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", f.display())))?;
        let part: ShardSummary = serde_json::from_slice(&bytes).map_err(|e| {
            ExpectedError::Usage(format!("{} is not a fuzz summary: {e}", f.display()))
        })?;
        parts.push(part);
    }
    let merged = shard::merge(&parts).map_err(|e| ExpectedError::Usage(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:28} {:>9} {:>9} {:>9}",
        "class", "cases", "expected", "surprises"
    )?;
    for (class, n) in &merged.per_class {
        writeln!(
            out,
            "{class:28} {:>9} {:>9} {:>9}",
            n.cases, n.as_expected, n.surprises
        )?;
    }
    let covered: Vec<String> = merged
        .covered
        .iter()
        .map(|(a, b)| format!("{a}..{b}"))
        .collect();
    writeln!(
        out,
        "{} shard(s), {} of {} cases (covered {}), seed {}, today {}, schema set {}",
        parts.len(),
        merged.cases,
        merged.run.cases,
        if covered.is_empty() {
            "none".into()
        } else {
            covered.join(", ")
        },
        merged.run.seed,
        merged.run.today,
        merged.run.schema_set,
    )?;
    for s in &merged.surprises {
        writeln!(
            out,
            "surprise: {} case {} (seed {}): {} ({})",
            s.class, s.index, s.case_seed, s.kind, s.detail
        )?;
    }
    if !merged.complete() {
        writeln!(
            out,
            "incomplete: cases outside {} were not run by any shard given",
            if covered.is_empty() {
                "0..0".into()
            } else {
                covered.join(", ")
            }
        )?;
    }
    out.flush()?;
    if let Some(file) = summary_json {
        write_summary(file, &merged)?;
    }
    Ok(if merged.surprises.is_empty() && merged.complete() {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}
