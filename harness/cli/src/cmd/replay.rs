//! `eioa replay ID|DIR...`: sends tx-id fixtures (`fixtures/tx/<id>/`, made by `eioa
//! fixture add`) again and says FIXED, PASSES, STILL FAILING or CHANGED (with a diff);
//! an id with no fixture is looked up in the run reports, shown, and its scenario run
//! again. A real FK target needs `--send`, and production is refused: nothing reaches
//! FK again without the user asking. FK's test host gets one pseudonymised fixture of
//! a connection-suite scenario at most ([`eioa_runner::gate`], which
//! `fixture::replay` applies again).

use super::run::{execute, Connection};
use crate::exit::{ExpectedError, Outcome};
use anyhow::Context;
use eioa_runner::fixture::{self, Replay};
use eioa_runner::{Judgement, Kit, RunSummary};
use eioa_validate::ValidatorOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Fixture directories (or directories of fixtures), fixture ids under --fixtures,
    /// or a tx-id / local exchange id from a report.
    #[arg(required = true, value_name = "ID|DIR")]
    ids: Vec<String>,
    /// Where fixtures are looked up by id.
    #[arg(long, default_value = "fixtures/tx")]
    fixtures: PathBuf,
    /// Reports directory to search for ids that are not fixtures.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    #[command(flatten)]
    conn: Connection,
    /// Allow sending to FK's test address. Without it only the stand-in is used.
    #[arg(long)]
    send: bool,
    /// Only show the recorded exchange (report ids).
    #[arg(long)]
    show: bool,
    /// Schema set of the stand-in and of the answer check.
    #[arg(long, value_name = "ID|DIR")]
    schema_set: Option<String>,
    /// `human` (default) or `json` (one object per fixture).
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    format: String,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
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
    let mut fixtures: Vec<PathBuf> = Vec::new();
    let mut report_ids: Vec<&str> = Vec::new();
    for id in &args.ids {
        let as_path = Path::new(id);
        let by_id = args.fixtures.join(id);
        if as_path.is_dir() {
            let found = fixture::find_all(as_path).map_err(super::fixture::expected)?;
            if found.is_empty() {
                return Err(ExpectedError::Usage(format!(
                    "{id}: no fixture (a directory with meta.toml) in it"
                ))
                .into());
            }
            fixtures.extend(found);
        } else if by_id.join("meta.toml").is_file() {
            fixtures.push(by_id);
        } else {
            report_ids.push(id);
        }
    }
    match (fixtures.is_empty(), report_ids.as_slice()) {
        (false, []) => replay_fixtures(&args, &fixtures),
        (true, [id]) => replay_report(&args, id),
        (_, ids) => Err(ExpectedError::Usage(format!(
            "no fixture {} under {} (a report's exchange is replayed alone)",
            ids.join(", "),
            args.fixtures.display()
        ))
        .into()),
    }
}

fn replay_fixtures(args: &Args, dirs: &[PathBuf]) -> anyhow::Result<Outcome> {
    let loaded = dirs
        .iter()
        .map(|d| fixture::read(d).map_err(super::fixture::expected))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.conn.is_fk() {
        // FK's test environment is for connection tests: never a batch of fixtures.
        if loaded.len() > 1 {
            return Err(ExpectedError::Usage(
                "FK's test environment is for connection tests: replay one fixture at a time against it".into(),
            )
            .into());
        }
        // Refused before the identity is loaded or anything is sent.
        let target = args.conn.target()?;
        for f in &loaded {
            eioa_runner::gate::check(&target, eioa_runner::gate::Outgoing::Fixture(f))
                .map_err(|e| ExpectedError::Usage(e.to_string()))?;
        }
    }
    let validator = Arc::new(super::common::validator(
        args.schema_set.as_deref(),
        ValidatorOptions::default(),
    )?);
    let kit = Kit::load(None, time::OffsetDateTime::now_utc())
        .context("failed to prepare the test signatures")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let results: Vec<Replay> = rt.block_on(async {
        let stand_in = if args.conn.is_mock() {
            Some(eioa_runner::start_stand_in(validator.clone(), &kit).await)
        } else {
            None
        };
        let url = stand_in.as_ref().map(|s| s.endpoint_url());
        let (target, client) = args.conn.client(url.as_deref())?;
        let mut out = Vec::new();
        for f in &loaded {
            out.push(
                fixture::replay(f, &kit, &client, &target, &validator)
                    .await
                    .map_err(super::fixture::expected)?,
            );
        }
        anyhow::Ok(out)
    })?;
    let mut out = std::io::stdout().lock();
    for r in &results {
        if args.format == "json" {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
            continue;
        }
        writeln!(out, "{:<14} {}", r.verdict.to_string(), r.fixture.display())?;
        if let Some(reason) = &r.reason {
            writeln!(out, "               {reason}")?;
        }
        if let Some(diff) = &r.diff {
            for line in diff.lines() {
                writeln!(out, "               {line}")?;
            }
        }
    }
    let ok = results.iter().all(|r| r.verdict.ok());
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}

fn replay_report(args: &Args, id: &str) -> anyhow::Result<Outcome> {
    let (summary, idx) = find(&args.reports, id)?;
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
    let bundled = |n| eioa_runner::suite(n).map_err(|e| ExpectedError::Usage(e.to_string()));
    let scenarios: Vec<_> = bundled(eioa_runner::SuiteName::Full)?
        .into_iter()
        .chain(bundled(eioa_runner::SuiteName::Connection)?)
        .filter(|s| s.id == o.scenario)
        .collect();
    if scenarios.is_empty() {
        return Err(ExpectedError::Usage(format!(
            "scenario {} is not in the bundled suites; keep the exchange with `eioa fixture add {id}` and replay the fixture",
            o.scenario
        ))
        .into());
    }
    writeln!(
        out,
        "running scenario {} again against {} (to keep this exchange itself: `eioa fixture add {id}`):",
        o.scenario, args.conn.target
    )?;
    let again = execute(
        &args.conn,
        &scenarios,
        args.schema_set.as_deref(),
        None,
        true,
        true,
    )?;
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

fn find(reports: &Path, id: &str) -> anyhow::Result<(RunSummary, usize)> {
    let dirs = fixture::run_reports_newest_first(reports)
        .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", reports.display())))?;
    for d in &dirs {
        let Ok(bytes) = std::fs::read(d.join("summary.json")) else {
            continue;
        };
        let Ok(s) = serde_json::from_slice::<RunSummary>(&bytes) else {
            continue;
        };
        if let Some(i) = s
            .outcomes
            .iter()
            .position(|o| fixture::names_exchange(o, id))
        {
            return Ok((s, i));
        }
    }
    Err(ExpectedError::Usage(format!(
        "no fixture `{id}` and no exchange `{id}` in {}",
        reports.display()
    ))
    .into())
}
