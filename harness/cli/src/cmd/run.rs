//! `eioa run`: the conformance suite against a target, with a report on disk.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use anyhow::Context;
use eioa_client::{
    read_ca_files, Client, ClientConfig, IdentitySource, LoadError, Pace, PassphraseSource, Secret,
    Target, Url,
};
use eioa_runner::{Judgement, Kit, RunOptions, RunSummary, Scenario, SuiteName};
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

    /// The target named by `--target` (not `mock`, which needs the started stand-in's URL).
    pub fn target(&self) -> anyhow::Result<Target> {
        Ok(match self.target.as_str() {
            "test" => Target::Test,
            "prod" => Target::Prod,
            other => Target::Url(Url::parse(other).map_err(|e| {
                ExpectedError::Usage(format!(
                    "--target `{other}` is not mock, test, prod or a URL: {e}"
                ))
            })?),
        })
    }

    /// Whether the target is one of FK's hosts (test, prod, or a URL naming one).
    pub fn is_fk(&self) -> bool {
        !self.is_mock() && self.target().is_ok_and(|t| t.is_fk())
    }

    /// Where the client identity comes from, if one was given.
    pub fn identity_source(&self) -> Option<IdentitySource> {
        match (&self.cert, &self.key, &self.p12) {
            (Some(cert), Some(key), _) => Some(IdentitySource::Pem {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (_, _, Some(p12)) => Some(IdentitySource::Pkcs12(p12.clone())),
            _ => None,
        }
    }

    /// The passphrase for `source`: `$passphrase_env`, else (on a terminal) a prompt without
    /// echo; never a flag value.
    pub fn passphrase(&self, source: &IdentitySource) -> anyhow::Result<Option<Secret>> {
        let prompt = |text: &str| rpassword::prompt_password(text);
        let from = PassphraseSource {
            env_var: &self.passphrase_env,
            prompt: if std::io::stdin().is_terminal() {
                Some(&prompt)
            } else {
                None
            },
        };
        source
            .passphrase(&from)
            .map_err(|e| load_error(e, "read the passphrase"))
    }

    /// The `--ca` certificates.
    pub fn extra_roots(&self) -> anyhow::Result<Vec<eioa_client::CertificateDer<'static>>> {
        read_ca_files(&self.ca).map_err(|e| load_error(e, "read --ca"))
    }

    /// The target and a client for it. For `mock`, `mock_url` is the started stand-in.
    pub fn client(&self, mock_url: Option<&str>) -> anyhow::Result<(Target, Client)> {
        let target = if self.is_mock() {
            Target::Mock(Url::parse(mock_url.unwrap_or_default()).context("stand-in url")?)
        } else {
            self.target()?
        };
        let identity = match self.identity_source() {
            Some(source) => {
                let secret = self.passphrase(&source)?;
                if matches!(source, IdentitySource::Pkcs12(_)) && secret.is_none() {
                    return Err(ExpectedError::Usage(format!(
                        "--p12 needs its passphrase in ${} (or name another variable with --passphrase-env)",
                        self.passphrase_env
                    ))
                    .into());
                }
                Some(source.load(secret.as_ref()).map_err(|e| {
                    load_error(
                        e.into(),
                        &format!(
                            "failed to load the client identity (a passphrase comes from ${})",
                            self.passphrase_env
                        ),
                    )
                })?)
            }
            None => None,
        };
        if target.is_fk() && identity.is_none() {
            return Err(ExpectedError::Usage("FK requires a client certificate: pass --cert/--key or --p12 (your Expisoft certificate)".into()).into());
        }
        let cfg = ClientConfig {
            identity,
            extra_roots: self.extra_roots()?,
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

/// A loading error as the CLI reports it: unreadable files are I/O errors, the rest usage.
fn load_error(e: LoadError, what: &str) -> anyhow::Error {
    let io = e.is_io();
    let text = format!("{what}: {:#}", anyhow::Error::new(e));
    if io {
        ExpectedError::Io(text).into()
    } else {
        ExpectedError::Usage(text).into()
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub conn: Connection,
    /// `full` (every scenario; default for stand-ins), `connection` (FK's onboarding test;
    /// default for test), or a suite FILE or DIR of `*.toml` files (docs/scenarios.md).
    #[arg(long, value_name = "full|connection|FILE|DIR")]
    pub suite: Option<String>,
    /// Only these scenario ids (e.g. A01,S02).
    #[arg(long, value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Where reports go: DIR/<time>-<target>/{report.html,report.md,summary.json,junit.xml}.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Keep identity numbers and names in the report (redacted by default).
    #[arg(long)]
    pub unredacted: bool,
    /// Schema set: `eioa-v1`, an imported id, or a directory. Several, comma-separated,
    /// run the suite under each (one report per set) and print a scenario × set matrix.
    #[arg(long, value_name = "ID|DIR", value_delimiter = ',')]
    pub schema_set: Vec<String>,
    /// Test PKI directory (ca.pem, ca.key.pem, signer.pem, signer.key.pem); default: the embedded one.
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
    /// Print the list of scenarios and exit.
    #[arg(long)]
    pub list: bool,
}

/// The scenarios `--suite` names: a bundled suite, or suite files.
pub fn load_suite(
    suite: Option<&str>,
    conn: &Connection,
) -> anyhow::Result<(Option<SuiteName>, Vec<Scenario>)> {
    let name = match suite {
        Some("full") => Some(SuiteName::Full),
        Some("connection") => Some(SuiteName::Connection),
        Some(_) => None,
        None if conn.target == "test" || conn.target == "prod" => Some(SuiteName::Connection),
        None => Some(SuiteName::Full),
    };
    let loaded = match (name, suite) {
        (Some(n), _) => eioa_runner::suite(n),
        (None, Some(path)) => eioa_runner::suite::load(Path::new(path)),
        (None, None) => eioa_runner::suite(SuiteName::Full),
    };
    let scenarios = loaded.map_err(|e| -> anyhow::Error {
        if e.is_io() {
            ExpectedError::Io(e.to_string()).into()
        } else {
            ExpectedError::Usage(e.to_string()).into()
        }
    })?;
    Ok((name, scenarios))
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (suite_name, mut scenarios) = load_suite(args.suite.as_deref(), &args.conn)?;
    if !args.scenario.is_empty() {
        scenarios.retain(|s| args.scenario.iter().any(|w| w.eq_ignore_ascii_case(&s.id)));
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
    if args.conn.is_fk() {
        // FK: the test environment is for connection tests, not for performance, load or
        // functional tests. Only the connection test runs, and it sends one notification.
        if suite_name != Some(SuiteName::Connection) || !args.scenario.is_empty() {
            return Err(ExpectedError::Usage(format!(
                "{} is FK's: FK's test environment is for connection tests, not for performance, load or functional tests, so only the connection test runs against it (`eioa run --target {} --suite connection`, or `eioa connect`); run other suites against the stand-in",
                args.conn.target, args.conn.target
            ))
            .into());
        }
        // Production is not a test environment: there the test stops after mutual TLS.
        let request = if args.conn.target == "prod" {
            None
        } else {
            Some(super::connect::harness_request()?)
        };
        let (_, outcome) = super::connect::run_test(
            &args.conn,
            &[],
            10,
            request,
            !args.unredacted,
            &args.out,
            eioa_report::connect::Lang::En,
        )?;
        return Ok(outcome);
    }
    if !args.conn.is_mock() {
        // Any other real server: the connection test first, so that a transport problem is
        // named once, with its remedy, instead of as every scenario's failure.
        let request = Some(super::connect::harness_request()?);
        let (test, outcome) = super::connect::run_test(
            &args.conn,
            &[],
            10,
            request,
            !args.unredacted,
            &args.out,
            eioa_report::connect::Lang::En,
        )?;
        if test.level < eioa_client::connect::Level::MutualTls {
            eprintln!("the suite does not run: the connection test did not get through mutual TLS");
            return Ok(outcome);
        }
        eprintln!();
    }
    if args.schema_set.len() > 1 {
        let m = super::matrix::run(
            &args.conn,
            &scenarios,
            &args.schema_set,
            args.pki.as_deref(),
            !args.unredacted,
            &args.out,
        )?;
        return super::matrix::print(&m, false, "pass", "FAIL");
    }
    let summary = execute(
        &args.conn,
        &scenarios,
        args.schema_set.first().map(String::as_str),
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

/// FK's hosts only ever get the connection suite's scenarios: FK's test environment is for
/// connection tests, not for performance, load or functional tests. The policy is the
/// runner's ([`eioa_runner::gate`], which `eioa_runner::run` applies again); asked here
/// too so that a refusal comes before the stand-in or the identity is prepared.
fn only_connection_tests_to_fk(conn: &Connection, scenarios: &[Scenario]) -> anyhow::Result<()> {
    if !conn.is_fk() {
        return Ok(());
    }
    let target = conn.target()?;
    eioa_runner::gate::check(&target, eioa_runner::gate::Outgoing::Scenarios(scenarios))
        .map_err(|e| ExpectedError::Usage(e.to_string()).into())
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
    // Every path that sends scenarios (run, replay) passes here.
    only_connection_tests_to_fk(conn, scenarios)?;
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
        .await
        .map_err(|e| ExpectedError::Usage(e.to_string()))?;
        Ok(summary)
    })
}

/// Writes the reports (see [`eioa_report::write::write_run`] for the layout and
/// the permissions, private to the owner when unredacted).
pub fn write_reports(out: &Path, s: &RunSummary, redacted: bool) -> anyhow::Result<PathBuf> {
    eioa_report::write::write_run(out, s, redacted)
        .map_err(|e| ExpectedError::Io(e.to_string()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(target: &str) -> Connection {
        Connection {
            target: target.into(),
            cert: None,
            key: None,
            p12: None,
            passphrase_env: "EIOA_PASSPHRASE".into(),
            ca: Vec::new(),
            timeout: 30,
        }
    }

    #[test]
    fn fk_hosts_get_only_connection_scenarios() {
        let full = eioa_runner::suite(SuiteName::Full).unwrap();
        let connection = eioa_runner::suite(SuiteName::Connection).unwrap();
        for target in [
            "test",
            "prod",
            "https://shsext.forsakringskassan.se:8020/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
        ] {
            let err = only_connection_tests_to_fk(&conn(target), &full).unwrap_err();
            assert!(
                err.to_string()
                    .contains("FK's test environment is for connection tests"),
                "{err}"
            );
            assert!(only_connection_tests_to_fk(&conn(target), &connection).is_ok());
        }
        let local = "https://127.0.0.1:8020/shs2/FK.EIOA.AnmalanArbetsgivare.ext";
        assert!(only_connection_tests_to_fk(&conn(local), &full).is_ok());
        assert!(only_connection_tests_to_fk(&conn("mock"), &full).is_ok());
    }
}
