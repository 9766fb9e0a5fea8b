//! `--schema-set a,b,…` for `eioa validate` and `eioa run`: the same documents or
//! scenarios under every set, as a matrix (document or scenario × set). FK keeps the
//! current and the previous contract live and trials a coming one; a vendor's CI runs
//! all of them.

use super::common;
use super::run::{execute, write_reports, Connection};
use crate::exit::Outcome;
use anyhow::Context;
use eioa_runner::{Judgement, Scenario};
use eioa_validate::input::{self, FileResult, Input, InputError};
use eioa_validate::{Validator, ValidatorOptions};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One row of a matrix: a document or an exchange, and its result under each set.
#[derive(Debug, Serialize)]
pub struct Row {
    pub name: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Serialize)]
pub struct Cell {
    pub schema_set: String,
    pub passed: bool,
    /// Rule ids (validate) or the reason (run), when not passed.
    pub detail: String,
}

/// The matrix and its column heads.
#[derive(Debug, Serialize)]
pub struct Matrix {
    pub schema_sets: Vec<String>,
    pub rows: Vec<Row>,
    /// Run report folders, one per set (run only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reports: Vec<PathBuf>,
    /// Cases derived from each diff between consecutive sets, run on the newer set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<Row>,
}

impl Matrix {
    pub fn passed(&self) -> bool {
        self.rows
            .iter()
            .chain(&self.derived)
            .all(|r| r.cells.iter().all(|c| c.passed))
    }

    /// A plain-text table: one column per set.
    pub fn to_text(&self, pass: &str, fail: &str) -> String {
        let first = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(0)
            .max(8);
        let widths: Vec<usize> = self
            .schema_sets
            .iter()
            .map(|s| s.len().max(pass.len()).max(fail.len()))
            .collect();
        let mut s = format!("{:first$}", "");
        for (set, w) in self.schema_sets.iter().zip(&widths) {
            s.push_str(&format!("  {set:<w$}"));
        }
        s.push('\n');
        for r in &self.rows {
            s.push_str(&format!("{:first$}", r.name));
            for (c, w) in r.cells.iter().zip(&widths) {
                s.push_str(&format!("  {:<w$}", if c.passed { pass } else { fail }));
            }
            let details: Vec<String> = r
                .cells
                .iter()
                .filter(|c| !c.passed && !c.detail.is_empty())
                .map(|c| format!("{}: {}", c.schema_set, c.detail))
                .collect();
            if !details.is_empty() {
                s.push_str(&format!("  {}", details.join("; ")));
            }
            s.push('\n');
        }
        s
    }
}

/// What validates a batch of inputs (`eioa validate`'s own settings).
pub type Batch<'a> = &'a dyn Fn(&Validator, &[Input]) -> Result<Vec<FileResult>, InputError>;

/// Validates `paths` under every set.
pub fn validate(
    paths: &[&std::ffi::OsStr],
    sets: &[String],
    opts: ValidatorOptions,
    batch: Batch,
) -> anyhow::Result<Matrix> {
    let inputs: Vec<Input> = input::collect(paths).map_err(super::validate::io_error)?;
    let mut m = Matrix {
        schema_sets: Vec::new(),
        rows: Vec::new(),
        reports: Vec::new(),
        derived: Vec::new(),
    };
    for (col, set) in sets.iter().enumerate() {
        let v = common::validator(Some(set), opts.clone())?;
        m.schema_sets.push(v.info().id.clone());
        let files = batch(&v, &inputs).map_err(super::validate::io_error)?;
        for (i, f) in files.into_iter().enumerate() {
            if col == 0 {
                m.rows.push(Row {
                    name: f.path.clone(),
                    cells: Vec::new(),
                });
            }
            let mut rules: Vec<String> = Vec::new();
            for x in &f.report.findings {
                if x.severity == eioa_validate::Severity::Error && !rules.contains(&x.rule) {
                    rules.push(x.rule.clone());
                }
            }
            if let Some(r) = m.rows.get_mut(i) {
                r.cells.push(Cell {
                    schema_set: v.info().id.clone(),
                    passed: f.report.is_valid(),
                    detail: rules.join(","),
                });
            }
        }
    }
    Ok(m)
}

/// Runs `scenarios` under every set (the stand-in and the answer check use the set),
/// one report folder per set.
pub fn run(
    conn: &Connection,
    scenarios: &[Scenario],
    sets: &[String],
    pki: Option<&Path>,
    redact: bool,
    out: &Path,
) -> anyhow::Result<Matrix> {
    let mut m = Matrix {
        schema_sets: Vec::new(),
        rows: Vec::new(),
        reports: Vec::new(),
        derived: Vec::new(),
    };
    for (col, set) in sets.iter().enumerate() {
        let summary = execute(conn, scenarios, Some(set), pki, redact, false)?;
        m.schema_sets.push(summary.schema_set.id.clone());
        m.reports.push(write_reports(out, &summary, redact)?);
        for (i, o) in summary.outcomes.iter().enumerate() {
            if col == 0 {
                m.rows.push(Row {
                    name: format!("{} {}", o.id, o.title),
                    cells: Vec::new(),
                });
            }
            if let Some(r) = m.rows.get_mut(i) {
                r.cells.push(Cell {
                    schema_set: summary.schema_set.id.clone(),
                    passed: o.judgement == Judgement::Passed,
                    detail: o.reason.clone().unwrap_or_default(),
                });
            }
        }
    }
    // Against the stand-in (which runs each set), the cases each diff derives:
    // valid under the older set, refused under the newer one naming the element.
    if conn.is_mock() {
        let kit = eioa_runner::Kit::load(pki, time::OffsetDateTime::now_utc())
            .context("failed to prepare the test signatures")?;
        for pair in sets.windows(2) {
            let va = common::validator(Some(&pair[0]), ValidatorOptions::default())?;
            let vb = common::validator(Some(&pair[1]), ValidatorOptions::default())?;
            let cases = eioa_runner::derive::cases(&va, &vb, &kit)
                .map_err(|e| crate::exit::ExpectedError::Usage(e.to_string()))?;
            if cases.is_empty() {
                continue;
            }
            let summary = execute(conn, &cases, Some(&pair[1]), pki, redact, false)?;
            m.reports.push(write_reports(out, &summary, redact)?);
            for o in &summary.outcomes {
                m.derived.push(Row {
                    name: format!("{} {}", o.id, o.title),
                    cells: vec![Cell {
                        schema_set: summary.schema_set.id.clone(),
                        passed: o.judgement == Judgement::Passed,
                        detail: o.reason.clone().unwrap_or_default(),
                    }],
                });
            }
        }
    }
    Ok(m)
}

/// Prints `m` (text or JSON) and gives the exit outcome.
pub fn print(m: &Matrix, json: bool, pass: &str, fail: &str) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(m)?)?;
    } else {
        out.write_all(m.to_text(pass, fail).as_bytes())?;
        if !m.derived.is_empty() {
            writeln!(
                out,
                "\ncases derived from the schema diffs (each on the newer set):"
            )?;
            for r in &m.derived {
                let c = &r.cells[0];
                let mark = if c.passed { pass } else { fail };
                writeln!(
                    out,
                    "{mark:<4}  {} [{}]  {}",
                    r.name, c.schema_set, c.detail
                )?;
            }
        }
        for r in &m.reports {
            writeln!(out, "report: {}", r.join("report.html").display())?;
        }
    }
    Ok(if m.passed() {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}
