//! `eioa connect`: the onboarding connection test (`eioa_client::connect`), printed as a
//! timeline, with the report and its signed evidence file written by `eioa_report::connect`.

use super::run::Connection;
use crate::exit::{ExpectedError, Outcome};
use anyhow::Context;
use eioa_client::connect::{
    self, Check, ConnectOptions, ConnectionTest, Level, SoapRequest, Status,
};
use eioa_client::{IdentitySource, Resolve};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(mut_arg("target", |a| a
    .default_value("test")
    .help("`test` (FK's test address), `prod`, or a URL such as https://shsext.forsakringskassan.se:8020/shs2/FK.EIOA.AnmalanArbetsgivare.ext")))]
pub struct Args {
    #[command(flatten)]
    pub conn: Connection,
    /// Connect to ADDR for HOST:PORT, as curl does (the certificate is still checked against
    /// HOST), e.g. shsext.forsakringskassan.se:8020:127.0.0.1 to rehearse against a stand-in.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// A BankID signature XML over --notification (from BankID's test environment); without it
    /// the harness's test signer signs, which only stand-ins trust.
    #[arg(long, value_name = "XML", requires_all = ["ocsp", "notification"])]
    pub signature: Option<PathBuf>,
    /// The DER OCSP response that came with --signature.
    #[arg(long, value_name = "DER", requires = "signature")]
    pub ocsp: Option<PathBuf>,
    /// The notification (payload XML) that --signature signs.
    #[arg(long, value_name = "XML", requires = "signature")]
    pub notification: Option<PathBuf>,
    /// Seconds allowed for each DNS lookup, TCP connect and TLS handshake.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Where the report goes: DIR/<time>-connect-<target>/ (report.html, report.md,
    /// summary.json, junit.xml, evidence.json).
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub out: PathBuf,
    /// Language of the report: en or sv.
    #[arg(long, default_value = "en", value_name = "en|sv")]
    pub lang: eioa_report::connect::Lang,
    /// Keep identity numbers and names in the report's request and response.
    #[arg(long)]
    pub unredacted: bool,
    /// Against FK's production address, also send the notification (otherwise the test stops
    /// after mutual TLS: production is not a test environment).
    #[arg(long)]
    pub confirm_production: bool,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    ExpectedError::Usage(msg.into()).into()
}

fn read(p: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p)
        .map_err(|e| ExpectedError::Io(format!("cannot read {}: {e}", p.display())).into())
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.conn.is_mock() {
        return Err(usage(
            "eioa connect needs a target to connect to: --target test, prod or a URL (start a stand-in with `eioa mock-server --as fk-test`)",
        ));
    }
    let production = matches!(args.conn.target()?, eioa_client::Target::Prod)
        || args
            .conn
            .target()
            .is_ok_and(|t| t.url().host_str() == Some(connect::FK_PROD_ADDR.0));
    let request = if production && !args.confirm_production {
        eprintln!("FK's production address: the test stops after mutual TLS and sends nothing (--confirm-production sends the notification)");
        None
    } else {
        Some(request(&args)?)
    };
    let (_, outcome) = run_test(
        &args.conn,
        &args.resolve,
        args.connect_timeout,
        request,
        !args.unredacted,
        &args.out,
        args.lang,
    )?;
    Ok(outcome)
}

/// Runs the connection test, prints it, and writes its report and evidence under `out`.
#[allow(clippy::too_many_arguments)]
pub fn run_test(
    conn: &Connection,
    resolve: &[String],
    connect_timeout: u64,
    request: Option<SoapRequest>,
    redact: bool,
    out: &Path,
    lang: eioa_report::connect::Lang,
) -> anyhow::Result<(ConnectionTest, Outcome)> {
    let opts = options(conn, resolve, connect_timeout, request, redact)?;
    // The evidence is signed with the identity that made the connection, when it loads.
    let signer = opts
        .identity
        .as_ref()
        .and_then(|s| s.load(opts.passphrase.as_ref()).ok());
    let result = probe(opts)?;
    let dir = report_dir(out, &result);
    let written = eioa_report::connect::write(&dir, &result, lang, signer.as_ref())
        .map_err(|e| ExpectedError::Io(format!("{:#}", anyhow::Error::new(e))))?;
    eprintln!("report:  {}", dir.join("report.html").display());
    match &written.evidence {
        // The fingerprint names the certificate FK saw, so the reader of the report
        // can check who signed it (without it, verify says the signer is unknown).
        Some(ev) => eprintln!(
            "evidence: {} (check with `eioa evidence verify {}{}`)",
            ev.display(),
            dir.display(),
            signer
                .as_ref()
                .map(|i| format!(" --fingerprint {}", i.cert_sha256()))
                .unwrap_or_default()
        ),
        None => eprintln!("evidence: none (no client identity could be loaded to sign it)"),
    }
    let outcome = outcome(&result);
    Ok((result, outcome))
}

/// The harness's test notification, signed by its test signer (only stand-ins trust it).
pub fn harness_request() -> anyhow::Result<SoapRequest> {
    let kit = eioa_runner::Kit::load(None, time::OffsetDateTime::now_utc())
        .context("failed to prepare the test signature")?;
    let n = kit.notification(eioa_runner::Branch::AnordnareInomEes);
    let req = kit
        .signed_request(&n)
        .context("failed to sign the test notification")?;
    Ok(SoapRequest {
        body: req.to_xml(),
        signature: connect::SignatureKind::HarnessTest,
    })
}

/// The SOAP request: a notification signed with a real BankID signature, or the harness's test
/// notification signed by its test signer.
fn request(args: &Args) -> anyhow::Result<SoapRequest> {
    match (&args.signature, &args.ocsp, &args.notification) {
        (Some(sig), Some(ocsp), Some(notification)) => Ok(SoapRequest {
            body: super::send::bankid_request(read(notification)?, read(sig)?, read(ocsp)?, None)
                .to_xml(),
            signature: connect::SignatureKind::BankId,
        }),
        _ => harness_request(),
    }
}

/// The probe's options from the shared connection flags. No passphrase or key is logged.
pub fn options(
    conn: &Connection,
    resolve: &[String],
    connect_timeout: u64,
    request: Option<SoapRequest>,
    redact: bool,
) -> anyhow::Result<ConnectOptions> {
    let target = conn.target()?;
    let mut opts = ConnectOptions::new(target);
    opts.identity = conn.identity_source();
    opts.passphrase_env = conn.passphrase_env.clone();
    if let Some(source) = &opts.identity {
        // A missing file is the test's first finding (C-ID-LOAD, with its remedy), not an
        // error before the test.
        let present = match source {
            IdentitySource::Pem { cert, key } => cert.is_file() && key.is_file(),
            IdentitySource::Pkcs12(p) => p.is_file(),
        };
        if present {
            opts.passphrase = conn.passphrase(source)?;
        }
    }
    opts.extra_roots = conn.extra_roots()?;
    opts.resolve = resolve
        .iter()
        .map(|r| Resolve::parse(r).map_err(|e| usage(format!("--resolve {e}"))))
        .collect::<anyhow::Result<_>>()?;
    opts.connect_timeout = std::time::Duration::from_secs(connect_timeout.max(1));
    opts.total_timeout = std::time::Duration::from_secs(conn.timeout.max(1));
    opts.request = request;
    opts.redact = redact;
    Ok(opts)
}

/// Runs the probe, printing each check as it finishes, then the verdict.
pub fn probe(opts: ConnectOptions) -> anyhow::Result<ConnectionTest> {
    eprintln!("connection test: {}", opts.target);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(connect::run_with(opts, print_check));
    eprintln!();
    eprintln!("level:   {}", result.level.id());
    eprintln!("verdict: {}", result.verdict);
    if let Some(hint) = &result.next_level_hint {
        eprintln!("next:    {hint}");
    }
    if let Some(tx) = result.exchange.as_ref().and_then(|e| e.tx_id.as_deref()) {
        println!("{tx}");
    }
    Ok(result)
}

fn print_check(c: &Check) {
    let mark = match c.status {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skipped => "skip",
    };
    eprintln!("  {mark}  {:<19} {}", c.id, c.summary);
    if c.status != Status::Skipped {
        if let Some(remedy) = &c.remedy {
            eprintln!("        {:<19} → {remedy}", "");
        }
    }
}

/// `DIR/<time>-connect-<target kind>`: a fresh directory per test, as the evidence file needs.
fn report_dir(out: &Path, t: &ConnectionTest) -> PathBuf {
    let stamp = t
        .started_at
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let base = out.join(format!("{stamp}-connect-{}", t.target.kind));
    let mut dir = base.clone();
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = PathBuf::from(format!("{}-{n}", base.display()));
    }
    dir
}

/// The exit outcome: network when not even TCP got through, TLS when the TLS checks stopped the
/// connection, findings for any other failed check.
pub fn outcome(t: &ConnectionTest) -> Outcome {
    let tls_failed = t
        .checks
        .iter()
        .any(|c| c.status == Status::Fail && c.id.starts_with("C-TLS-"));
    if t.level == Level::None {
        Outcome::Network
    } else if t.level < Level::MutualTls && tls_failed {
        Outcome::Tls
    } else if t.passed() {
        Outcome::Success
    } else {
        Outcome::Findings
    }
}
