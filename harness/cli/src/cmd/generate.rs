//! `eioa generate`: fictitious notifications, valid or mutated, deterministic per seed.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_gen::fuzz::case_seed;
use eioa_gen::mutate::{self, MutationClass};
use eioa_gen::strategy::{Scenario, SCENARIOS};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario to generate (see --list).
    #[arg(long, default_value = "any", conflicts_with = "all")]
    scenario: String,
    /// Generate every scenario.
    #[arg(long)]
    all: bool,
    /// Documents per scenario.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory to write `<scenario>-s<seed>-<nnnn>.xml` into. Without it, a single
    /// document goes to standard output.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Apply this mutation class (see --list) to make an invalid document.
    #[arg(long, value_name = "CLASS")]
    invalid: Option<String>,
    /// The date generated dates are relative to, YYYY-MM-DD.
    #[arg(long, value_parser = common::parse_date)]
    today: Option<time::Date>,
    /// List the scenarios and mutation classes.
    #[arg(long)]
    list: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if args.list {
        writeln!(out, "scenarios:")?;
        for s in SCENARIOS {
            writeln!(out, "  {:28} {}", s.name, s.summary)?;
        }
        writeln!(out, "mutation classes (--invalid):")?;
        for c in MutationClass::ALL {
            writeln!(out, "  {:28} {}", c.name(), c.summary())?;
        }
        return Ok(Outcome::Success);
    }
    let scenarios: Vec<Scenario> = if args.all {
        SCENARIOS.to_vec()
    } else {
        vec![Scenario::by_name(&args.scenario).ok_or_else(|| {
            ExpectedError::Usage(format!(
                "no scenario `{}` (see `eioa generate --list`)",
                args.scenario
            ))
        })?]
    };
    let class = match &args.invalid {
        Some(name) => Some(MutationClass::by_name(name).ok_or_else(|| {
            ExpectedError::Usage(format!(
                "no mutation class `{name}` (see `eioa generate --list`)"
            ))
        })?),
        None => None,
    };
    let today = args.today.unwrap_or(eioa_gen::DEFAULT_TODAY);
    let total = scenarios.len() as u64 * u64::from(args.count);
    if args.out.is_none() && total != 1 {
        return Err(ExpectedError::Usage("more than one document: give --out DIR".into()).into());
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| ExpectedError::Io(format!("cannot create {}: {e}", dir.display())))?;
    }
    for s in &scenarios {
        for i in 1..=args.count {
            let bytes = document(*s, class, case_seed(args.seed, u64::from(i)), today)?;
            match &args.out {
                None => out.write_all(&bytes)?,
                Some(dir) => {
                    let name = match class {
                        Some(c) => format!("{}-{}-s{}-{i:04}.xml", s.name, c.name(), args.seed),
                        None => format!("{}-s{}-{i:04}.xml", s.name, args.seed),
                    };
                    let path = dir.join(name);
                    std::fs::write(&path, &bytes).map_err(|e| {
                        ExpectedError::Io(format!("cannot write {}: {e}", path.display()))
                    })?;
                }
            }
        }
    }
    if let Some(dir) = &args.out {
        eprintln!("wrote {total} document(s) to {}", dir.display());
    }
    out.flush()?;
    Ok(Outcome::Success)
}

fn document(
    s: Scenario,
    class: Option<MutationClass>,
    seed: u64,
    today: time::Date,
) -> anyhow::Result<Vec<u8>> {
    let Some(class) = class else {
        return Ok(eioa_gen::generate(seed, s, today).to_xml().into_bytes());
    };
    // Not every notification offers every mutation a place (no organisationsnummer when
    // the person is the employer): try the next derived seeds.
    for attempt in 0..64 {
        let k = case_seed(seed, attempt);
        let n = eioa_gen::generate(k, s, today);
        if let Some(m) = mutate::apply(class, &n, (k % 4096) as usize) {
            return Ok(m.bytes);
        }
    }
    Err(ExpectedError::Usage(format!(
        "mutation class `{}` does not apply to scenario `{}`",
        class.name(),
        s.name
    ))
    .into())
}
