//! `eioa run`: the conformance suite against a target, with a report on disk.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use anyhow::Context;
use eioa_client::{Client, ClientConfig, Identity, Pace, Secret, Target, Url};
use eioa_runner::{Kit, RunOptions, RunSummary, Scenario, SuiteName, Judgement};
use eioa_validate::ValidatorOptions;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where and how to connect; shared with `eioa replay` and `eioa send`.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// `mock` (the built-in stand-in), `test` (FK's test address), `prod`, or a URL
    /// such as https://127.0.0.1:8020/shs2/FK.EIOA.AnmalanArbetsgivare.ext.
    #[arg(long, default_value = "mock")]
    pub target: String,
    /// Client certificate (PEM, may hold the chain).
    #[arg(long, value_name = "PEM", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key for --cert (PEM; PKCS#8, encrypted keys too).
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Client identity as PKCS#12 (.p12/.pfx), instead of --cert/--key.
    #[arg(long, value_name = "FILE", conflicts_with = "cert")]
    pub p12: Option<PathBuf>,
    /// Environment variable holding the key or PKCS#12 passphrase (never a flag value).
    #[arg(long, value_name = "VAR", default_value = "EIOA_PASSPHRASE")]
    pub passphrase_env: String,
    /// Extra CA certificate (PEM) to trust for the server, e.g. the stand-in's dev CA.
    #[arg(long, value_name = "PEM")]
    pub ca: Vec<PathBuf>,
    /// Seconds allowed for the whole exchange.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

impl Connection {
    pub fn is_mock(&self) -> bool {
        self.target == "mock"
    }

    /// The target and a client for it. For `mock`, `mock_url` is the started stand-in.
    pub fn client(&self, mock_url: Option<&str>) -> anyhow::Result<(Target, Client)> {
        let target = match self.target.as_str() {
            "mock" => {
                Target::Mock(Url::parse(mock_url.unwrap_or_default()).context("stand-in url")?)
            }
            "test" => Target::Test,
            "prod" => Target::Prod,
            other => Target::Url(Url::parse(other).map_err(|e| {
                ExpectedError::Usage(format!(
                    "--target `{other}` is not mock, test, prod or a URL: {e}"
                ))
            })?),
        };
        // The passphrase comes from the environment variable, else (on a terminal)
        // from a prompt without echo; never from a flag value.
        let from_env = || match std::env::var(&self.passphrase_env) {
            Ok(v) if !v.is_empty() => Some(Secret::new(v)),
            _ => None,
        };
        let prompt = |what: &std::path::Path| -> anyhow::Result<Option<Secret>> {
            if !std::io::stdin().is_terminal() {
                return Ok(None);
            }
            let text = format!(
                "passphrase for {} (or set ${}): ",
                what.display(),
                self.passphrase_env
            );
            Ok(Some(Secret::from_prompt(&text, |p: &str| {
                rpassword::prompt_password(p)
            })?))
        };
        let identity = match (&self.cert, &self.key, &self.p12) {
            (Some(c), Some(k), _) => {
                let env = from_env();
                let first = Identity::from_pem_files(c, k, env.as_ref());
                let loaded = match first {
                    Err(eioa_client::IdentityError::PassphraseRequired) if env.is_none() => {
                        match prompt(k)? {
                            Some(secret) => Identity::from_pem_files(c, k, Some(&secret)),
                            None => first,
                        }
                    }
                    other => other,
                };
                Some(loaded.with_context(|| {
                    format!("failed to load the client identity (an encrypted key takes its passphrase from ${})", self.passphrase_env)
                })?)
            }
            (_, _, Some(p)) => {
                let secret = match from_env() {
                    Some(s) => s,
                    None => prompt(p)?.ok_or_else(|| {
                        ExpectedError::Usage(format!(
                            "--p12 needs its passphrase in ${} (or name another variable with --passphrase-env)",
                            self.passphrase_env
                        ))
                    })?,
                };
                Some(
                    Identity::from_pkcs12_file(p, &secret)
                        .context("failed to load the PKCS#12 identity")?,
                )
            }
            _ => None,
        };
        if target.is_fk() && identity.is_none() {
            return Err(ExpectedError::Usage("FK requires a client certificate: pass --cert/--key or --p12 (your Expisoft certificate)".into()).into());
        }
        let mut extra_roots = Vec::new();
        for ca in &self.ca {
            let pem = std::fs::read(ca)
                .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", ca.display())))?;
            let certs = pem_certs(&pem).map_err(|e| {
                ExpectedError::Usage(format!("{} is not a readable PEM file: {e}", ca.display()))
            })?;
            let found = !certs.is_empty();
            extra_roots.extend(certs);
            if !found {
                return Err(ExpectedError::Usage(format!(
                    "{} holds no PEM certificate",
                    ca.display()
                ))
                .into());
            }
        }
        let cfg = ClientConfig {
            identity,
            extra_roots,
            total_timeout: std::time::Duration::from_secs(self.timeout.max(1)),
            pace: if self.is_mock() {
                Pace::off()
            } else {
                Pace::default()
            },
            ..ClientConfig::default()
        };
        let client = Client::new(cfg).context("failed to set up the client")?;
        Ok((target, client))
    }
}

/// Every certificate in a PEM file; a damaged block is an error, not skipped.
fn pem_certs(pem: &[u8]) -> std::io::Result<Vec<eioa_client::CertificateDer<'static>>> {
    rustls_pemfile::certs(&mut &pem[..]).collect()
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub conn: Connection,
    /// `full` (every scenario; default for stand-ins) or `connection` (FK's onboarding test; default for test).
    #[arg(long, value_enum)]
    pub suite: Option<Suite>,
    /// Only these scenario ids (e.g. A01,S02).
    #[arg(long, value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Where reports go: DIR/<time>-<target>/{report.html,report.md,summary.json,junit.xml}.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Keep identity numbers and names in the report (redacted by default).
    #[arg(long)]
    pub unredacted: bool,
    /// Schema set: `eioa-v1`, an imported id, or a directory.
    #[arg(long, value_name = "ID|DIR")]
    pub schema_set: Option<String>,
    /// Test PKI directory (ca.pem, ca.key.pem, signer.pem, signer.key.pem); default: the embedded one.
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
    /// Print the list of scenarios and exit.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Suite {
    Full,
    Connection,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let suite_name = match args.suite {
        Some(Suite::Full) => SuiteName::Full,
        Some(Suite::Connection) => SuiteName::Connection,
        None if args.conn.target == "test" || args.conn.target == "prod" => SuiteName::Connection,
        None => SuiteName::Full,
    };
    let mut scenarios = eioa_runner::suite(suite_name);
    if !args.scenario.is_empty() {
        scenarios.retain(|s| args.scenario.iter().any(|w| w.eq_ignore_ascii_case(s.id)));
        if scenarios.is_empty() {
            return Err(ExpectedError::Usage(format!(
                "no scenario matches {:?} (see --list)",
                args.scenario
            ))
            .into());
        }
    }
    if args.list {
        let mut out = std::io::stdout().lock();
        for s in &scenarios {
            writeln!(
                out,
                "{}  {:<10} {}",
                s.id,
                format!("{:?}", s.category).to_lowercase(),
                s.title
            )?;
        }
        return Ok(Outcome::Success);
    }
    if args.conn.target == "prod" && suite_name == SuiteName::Full {
        return Err(ExpectedError::Usage("the full suite sends invalid notifications on purpose; it never runs against production".into()).into());
    }
    let summary = execute(
        &args.conn,
        &scenarios,
        args.schema_set.as_deref(),
        args.pki.as_deref(),
        !args.unredacted,
        true,
    )?;
    let dir = write_reports(&args.out, &summary, !args.unredacted)?;
    let t = summary.totals();
    eprintln!(
        "{}: {} of {} exchanges passed against {} in {:.0} ms; report: {}",
        if summary.passed() { "PASSED" } else { "FAILED" },
        t.passed,
        t.exchanges,
        summary.target,
        summary.elapsed_ms,
        dir.join("report.html").display()
    );
    Ok(if summary.passed() {
        Outcome::Success
    } else {
        Outcome::Findings
    })
}

/// Runs scenarios against the connection's target (starting the stand-in for `mock`).
pub fn execute(
    conn: &Connection,
    scenarios: &[Scenario],
    schema_set: Option<&str>,
    pki: Option<&Path>,
    redact: bool,
    print: bool,
) -> anyhow::Result<RunSummary> {
    let validator = Arc::new(common::validator(schema_set, ValidatorOptions::default())?);
    let kit = Kit::load(pki, time::OffsetDateTime::now_utc())
        .context("failed to prepare the test signatures")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let stand_in = if conn.is_mock() {
            Some(eioa_runner::start_stand_in(validator.clone(), &kit).await)
        } else {
            None
        };
        let url = stand_in.as_ref().map(|s| s.endpoint_url());
        let (target, client) = conn.client(url.as_deref())?;
        if print {
            eprintln!(
                "running {} scenario(s) against {target} (schema set {})",
                scenarios.len(),
                validator.info()
            );
        }
        let summary = eioa_runner::run(
            scenarios,
            &kit,
            &client,
            &target,
            &validator,
            RunOptions { redact },
            |o| {
                if print {
                    let mark = if o.judgement == Judgement::Passed {
                        "pass"
                    } else {
                        "FAIL"
                    };
                    let detail = match (&o.observed.tx_id, &o.observed.fault, &o.reason) {
                        (_, _, Some(r)) => r.clone(),
                        (Some(t), _, None) => format!("tx-id {t}"),
                        (None, Some(f), None) => f.clone(),
                        _ => String::new(),
                    };
                    eprintln!("  {mark} {:<6} {:<62} {detail}", o.id, o.title);
                }
            },
        )
        .await;
        Ok(summary)
    })
}

/// Writes the reports (see [`eioa_report::write::write_run`] for the layout and
/// the permissions, private to the owner when unredacted).
pub fn write_reports(out: &Path, s: &RunSummary, redacted: bool) -> anyhow::Result<PathBuf> {
    eioa_report::write::write_run(out, s, redacted)
        .map_err(|e| ExpectedError::Io(e.to_string()).into())
}
