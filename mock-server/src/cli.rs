//! Command-line arguments shared by the `eioa-mock-server` binary and
//! `eioa mock-server`, `eioa certs init` and `eioa tx …`: raw arguments in, a
//! validated [`MockConfig`] (or a view) out.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use eioa_fk::FkConfig;

use crate::certs::{passphrase_from_env_or_random, DevPki, PASSPHRASE_ENV};
use crate::faults::{FaultConfig, Latency};
use crate::fkhost::{FkHost, FK_HOST_NAMES};
use crate::journal::{read_journal, Durability};
use crate::pacing::PacingConfig;
use crate::server::{Limits, MockConfig, RunningServer, Transport};
use crate::tls::{read, PemIdentity};

/// Environment variable naming the data directory (journal).
pub const DATA_DIR_ENV: &str = "EIOA_MOCK_DATA_DIR";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "eioa-mock-data";
/// Default directory of `eioa certs init`.
pub const DEFAULT_PKI_DIR: &str = "eioa-pki";

/// `eioa mock-server` / `eioa-mock-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8020, FK's test port; with
    /// --as, the port of that FK host: 8020 or 7020].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Pose as FK's test or production host: its port, only its service path (the
    /// other environment's path answers 404), and a server certificate that must
    /// carry its host name (`eioa certs init DIR --fk-hosts`). For a rehearsal of
    /// the connection test with `eioa connect --resolve`.
    #[arg(
        long = "as",
        value_enum,
        value_name = "HOST",
        conflicts_with = "plain_http"
    )]
    pub pose_as: Option<FkHost>,
    /// Directory written by `eioa certs init` (server.pem, server.key, ca.pem).
    #[arg(long, default_value = DEFAULT_PKI_DIR)]
    pub pki_dir: PathBuf,
    /// Server certificate chain, PEM [default: PKI_DIR/server.pem].
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// Server private key, PEM [default: PKI_DIR/server.key].
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// CA that client certificates must chain to, PEM [default: PKI_DIR/ca.pem].
    #[arg(long)]
    pub client_ca: Option<PathBuf>,
    /// Accept clients without a certificate (local experiments only; FK requires one).
    #[arg(long)]
    pub no_client_auth: bool,
    /// Serve plain HTTP without TLS (local experiments only).
    #[arg(long, conflicts_with = "no_client_auth")]
    pub plain_http: bool,

    /// Journal directory (created with mode 0700).
    #[arg(long, env = DATA_DIR_ENV, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// `fsync`: each answer waits until its record is on disk; `none`: written, not synced.
    #[arg(long, default_value = "fsync")]
    pub journal_durability: Durability,
    /// Start a new journal segment after this many MiB.
    #[arg(long, default_value_t = 64)]
    pub journal_rotate_mib: u64,
    /// Delete journal segments older than this many days.
    #[arg(long)]
    pub retention_days: Option<u32>,

    /// FK's official schema directory instead of the embedded reconstruction.
    #[arg(long)]
    pub schema_dir: Option<PathBuf>,
    /// Trust anchor for signer certificates (PEM or DER); repeatable.
    #[arg(long = "trust-anchor")]
    pub trust_anchors: Vec<PathBuf>,
    /// Do not trust the harness's embedded test CA (fixtures/pki) for signatures;
    /// e.g. with --trust-anchor set to BankID's test root.
    #[arg(long)]
    pub no_test_ca: bool,

    /// Minimum milliseconds between two calls of one client (0 = do not observe).
    #[arg(long, default_value_t = 1000)]
    pub pace_ms: u64,
    /// Answer calls that come faster than --pace-ms with 503.
    #[arg(long)]
    pub pace_reject: bool,

    /// Largest request body in bytes; larger ones get 413.
    #[arg(long, default_value_t = eioa_fk::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Seconds allowed for request headers (and idle keep-alive).
    #[arg(long, default_value_t = 10)]
    pub header_timeout_s: u64,
    /// Seconds allowed for a request body.
    #[arg(long, default_value_t = 30)]
    pub body_timeout_s: u64,
    /// Connections served at once.
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,

    /// Fault injection settings as JSON (flags below override it).
    #[arg(long)]
    pub fault_config: Option<PathBuf>,
    /// Seed for fault decisions.
    #[arg(long)]
    pub fault_seed: Option<u64>,
    /// Added latency: none, fk, fixed:MS or uniform:MIN-MAX.
    #[arg(long)]
    pub latency: Option<Latency>,
    /// Share of calls answered HTTP 500.
    #[arg(long)]
    pub fault_http_500: Option<f64>,
    /// Share of calls answered HTTP 503.
    #[arg(long)]
    pub fault_http_503: Option<f64>,
    /// Share of calls whose connection is reset.
    #[arg(long)]
    pub fault_reset: Option<f64>,
    /// Share of calls never answered.
    #[arg(long)]
    pub fault_no_answer: Option<f64>,
    /// How long an unanswered call is held, in ms (at most 600000).
    #[arg(long)]
    pub no_answer_hold_ms: Option<u64>,
    /// Share of calls answered with malformed SOAP.
    #[arg(long)]
    pub fault_malformed_soap: Option<f64>,
    /// Share of calls answered with a forced XmlValidationError.
    #[arg(long)]
    pub fault_xml_error: Option<f64>,
    /// Share of calls answered with a forced SignatureValidationError.
    #[arg(long)]
    pub fault_signature_error: Option<f64>,
    /// Share of connections refused with a TLS alert during the handshake.
    #[arg(long)]
    pub fault_tls_alert: Option<f64>,
    /// Share of connections closed right after the handshake.
    #[arg(long)]
    pub fault_tls_close: Option<f64>,
}

impl ServeArgs {
    /// The address to listen on: `--listen`, or 127.0.0.1 on the port of the FK
    /// host posed as (8020 otherwise).
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| {
            let port = self.pose_as.map_or(8020, FkHost::port);
            SocketAddr::from(([127, 0, 0, 1], port))
        })
    }

    /// The validated server configuration.
    pub fn to_config(&self) -> anyhow::Result<MockConfig> {
        let transport = if self.plain_http {
            Transport::PlainHttp
        } else {
            let cert = self
                .cert
                .clone()
                .unwrap_or_else(|| self.pki_dir.join("server.pem"));
            let key = self
                .key
                .clone()
                .unwrap_or_else(|| self.pki_dir.join("server.key"));
            let identity = PemIdentity::from_files(&cert, &key).with_context(|| {
                format!(
                    "no server certificate at {}; run `eioa certs init {}` first",
                    cert.display(),
                    self.pki_dir.display()
                )
            })?;
            if self.no_client_auth {
                Transport::TlsNoClientAuth { identity }
            } else {
                let ca = self
                    .client_ca
                    .clone()
                    .unwrap_or_else(|| self.pki_dir.join("ca.pem"));
                let client_ca_pem = read(&ca).context("read the client ca")?;
                Transport::MutualTls {
                    identity,
                    client_ca_pem,
                }
            }
        };
        let validator = match &self.schema_dir {
            Some(dir) => eioa_validate::Validator::new(
                eioa_validate::SchemaSet::from_dir(dir)
                    .with_context(|| format!("load schema set {}", dir.display()))?,
                eioa_validate::ValidatorOptions::default(),
            )
            .context("compile the schema set")?,
            None => {
                eioa_validate::Validator::embedded().context("compile the embedded schema set")?
            }
        };
        let mut fk = FkConfig::new(Arc::new(validator));
        if !self.no_test_ca {
            // The harness's own test CA, so that `eioa sign` requests are accepted.
            fk.trust_anchors
                .push(eioa_sign::TestPki::embedded_ca_der().context("load the embedded test CA")?);
        }
        for path in &self.trust_anchors {
            fk.trust_anchors.extend(load_certs(path)?);
        }
        let mut cfg = MockConfig::new(self.listen_addr(), transport, fk, &self.data_dir);
        cfg.pose_as = self.pose_as;
        cfg.journal.durability = self.journal_durability;
        cfg.journal.rotate_bytes = self.journal_rotate_mib.max(1) * 1024 * 1024;
        cfg.journal.retention_days = self.retention_days;
        cfg.pacing = PacingConfig {
            min_interval: Duration::from_millis(self.pace_ms),
            reject: self.pace_reject,
        };
        cfg.limits = Limits {
            max_body_bytes: self.max_body_bytes,
            header_timeout: Duration::from_secs(self.header_timeout_s.max(1)),
            body_timeout: Duration::from_secs(self.body_timeout_s.max(1)),
            max_connections: self.max_connections,
            ..Limits::default()
        };
        cfg.faults = self.faults()?;
        Ok(cfg)
    }

    fn faults(&self) -> anyhow::Result<FaultConfig> {
        let mut f = match &self.fault_config {
            Some(p) => FaultConfig::from_file(p)?,
            None => FaultConfig::default(),
        };
        let set = |dst: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        if let Some(s) = self.fault_seed {
            f.seed = s;
        }
        if let Some(l) = self.latency {
            f.latency = l;
        }
        if let Some(h) = self.no_answer_hold_ms {
            f.no_answer_hold_ms = h;
        }
        set(&mut f.http_500, self.fault_http_500);
        set(&mut f.http_503, self.fault_http_503);
        set(&mut f.reset, self.fault_reset);
        set(&mut f.no_answer, self.fault_no_answer);
        set(&mut f.malformed_soap, self.fault_malformed_soap);
        set(&mut f.xml_validation_error, self.fault_xml_error);
        set(
            &mut f.signature_validation_error,
            self.fault_signature_error,
        );
        set(&mut f.tls_alert, self.fault_tls_alert);
        set(&mut f.tls_close_after_handshake, self.fault_tls_close);
        f.validate()?;
        Ok(f)
    }
}

fn load_certs(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("read trust anchor {}", path.display()))?;
    // An empty file, a non-certificate or a certificate that cannot issue is refused.
    Ok(eioa_sign::read_trust_anchors(
        &bytes,
        &path.display().to_string(),
    )?)
}

/// Starts the server and blocks until ctrl-c or SIGTERM.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    let schema_set = cfg.fk.validator.info().clone();
    let anchors = cfg.fk.trust_anchors.len();
    let schemas = cfg.fk.validator.schema_set().clone();
    let stats = crate::server::run_until_signal(cfg, |s: &RunningServer| {
        eprintln!("eioa-mock-server: listening on {}", s.url());
        match crate::admin::start_with_faults(
            &s.journal_dir(),
            schemas,
            crate::admin::AdminTimeouts::default(),
            Some(s.faults()),
        ) {
            Ok(a) => eprintln!(
                "eioa-mock-server: sessions     admin on http://{a} (eioa session start NAME)"
            ),
            Err(e) => eprintln!("eioa-mock-server: sessions     unavailable: {e}"),
        }
        eprintln!("eioa-mock-server: schema set   {schema_set}");
        eprintln!("eioa-mock-server: signer trust {anchors} anchor(s)");
        eprintln!("eioa-mock-server: endpoint     {}", s.endpoint());
        eprintln!(
            "eioa-mock-server: journal      {}",
            s.journal_dir().display()
        );
        if let Some(pose) = s.pose_as() {
            eprintln!(
                "eioa-mock-server: posing as FK's {} host {} (serves {} only; {} answers 404)",
                pose.environment(),
                pose.host_name(),
                pose.path(),
                pose.other_path()
            );
            eprintln!("eioa-mock-server: rehearse the connection test with:");
            eprintln!("  {}", connect_command(pose, s.local_addr(), &args.pki_dir));
        }
    })?;
    eprintln!(
        "eioa-mock-server: stopped after {} connections, {} requests ({} failed handshakes)",
        stats.connections, stats.requests, stats.handshake_failures
    );
    Ok(())
}

/// The `eioa connect` line that runs the onboarding connection test against a
/// server posing as `pose` on `addr`: FK's URL (its port replaced when the server
/// listens elsewhere), `--resolve` to the server's address, the development CA and
/// client certificate from `pki_dir`.
pub fn connect_command(pose: FkHost, addr: SocketAddr, pki_dir: &Path) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        ip => ip.to_string(),
    };
    let target = if addr.port() == pose.port() {
        pose.target().to_string()
    } else {
        format!(
            "https://{}:{}{}",
            pose.host_name(),
            addr.port(),
            pose.path()
        )
    };
    let file = |name: &str| shell_word(&pki_dir.join(name).display().to_string());
    format!(
        "eioa connect --target {target} --resolve {}:{}:{ip} --ca {} --cert {} --key {}",
        pose.host_name(),
        addr.port(),
        file("ca.pem"),
        file("client.pem"),
        file("client.key"),
    )
}

/// `s` as one shell word: unchanged when it is plainly safe, single-quoted otherwise.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:,=@%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The standalone binary's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "eioa-mock-server",
    version,
    about = "Mutual-TLS stand-in for FK's E-IOA web service"
)]
pub struct StandaloneCli {
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `eioa certs init DIR`.
#[derive(Debug, Clone, clap::Args)]
pub struct CertsInitArgs {
    /// Directory for the PKI files (created with mode 0700).
    #[arg(default_value = DEFAULT_PKI_DIR)]
    pub dir: PathBuf,
    /// Overwrite existing files (each is replaced by a new file, never written
    /// through a symlink).
    #[arg(long)]
    pub force: bool,
    /// A further DNS name or IP address for the server certificate, besides
    /// localhost and 127.0.0.1 (repeatable, or comma-separated), such as the name of
    /// the machine other computers reach the stand-in by.
    #[arg(long = "san", value_name = "NAME", value_delimiter = ',')]
    pub sans: Vec<String>,
    /// Add FK's host names (shsext.forsakringskassan.se, shs.forsakringskassan.se) to
    /// the server certificate, so that `eioa mock-server --as fk-test|fk-prod` can pose
    /// as FK's test or production host.
    #[arg(long)]
    pub fk_hosts: bool,
}

impl CertsInitArgs {
    /// The extra server-certificate names: `--fk-hosts` first, then `--san`.
    pub fn extra_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if self.fk_hosts {
            names.extend(FK_HOST_NAMES.iter().map(|n| n.to_string()));
        }
        names.extend(self.sans.iter().cloned());
        names
    }
}

/// Writes a development PKI and prints how to use it. Returns the text to print.
pub fn certs_init(args: &CertsInitArgs) -> anyhow::Result<String> {
    let pki = DevPki::generate_with_names("eioa", &args.extra_names())?;
    let (passphrase, generated) = passphrase_from_env_or_random();
    let p = pki.write_to(&args.dir, &passphrase, args.force)?;
    let d = args.dir.display();
    let names = crate::tls::certificate_names(&pki.server.cert_der).unwrap_or_default();
    let mut out = format!(
        "wrote a development PKI to {d}\n  ca.pem  ca.key  server.pem  server.key  client.pem  client.key  client.p12\n\
         server certificate names: {}\n\n",
        names.join(", ")
    );
    if generated {
        out.push_str(&format!(
            "PKCS#12 passphrase for {} (shown once; set {PASSPHRASE_ENV} to choose your own):\n  {passphrase}\n\n",
            p.client_p12.display()
        ));
    } else {
        out.push_str(&format!(
            "PKCS#12 passphrase taken from {PASSPHRASE_ENV}\n\n"
        ));
    }
    out.push_str(&format!(
        "start the stand-in:\n  eioa mock-server --pki-dir {d} --data-dir eioa-mock-data\n\n\
         check it with curl:\n  curl --cert {} --key {} --cacert {} https://127.0.0.1:8020/health\n  \
         curl --cert {} --key {} --cacert {} 'https://127.0.0.1:8020{}?wsdl'\n",
        p.client_cert.display(),
        p.client_key.display(),
        p.ca_cert.display(),
        p.client_cert.display(),
        p.client_key.display(),
        p.ca_cert.display(),
        eioa_fk::PATH_TEST,
    ));
    if args.fk_hosts {
        out.push_str(&format!(
            "\npose as FK's test host (a dress rehearsal of the connection test):\n  \
             eioa mock-server --pki-dir {d} --as fk-test\n"
        ));
    }
    Ok(out)
}

/// Where `eioa tx` reads the journal.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDirArg {
    /// Journal directory of the stand-in.
    #[arg(long, env = DATA_DIR_ENV, default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

/// `eioa tx list`: the text to print and whether the journal is damaged.
pub fn tx_list(dir: &DataDirArg) -> anyhow::Result<(String, Vec<String>)> {
    if !dir.data_dir.is_dir() {
        bail!(
            "no journal at {}: start the stand-in with --data-dir, or pass --data-dir",
            dir.data_dir.display()
        );
    }
    let j = read_journal(&dir.data_dir)?;
    Ok((crate::txview::list(&j.records), j.damage))
}

/// `eioa tx show TX-ID`: the text, or `None` when the tx-id is not in the journal.
/// The journal's records for `tx_id` (None when there are none), and the damage the
/// journal reader reported, so that a missing tx-id next to damage is not mistaken
/// for one that was never answered.
pub fn tx_show(
    dir: &DataDirArg,
    tx_id: &str,
    unredacted: bool,
) -> anyhow::Result<(Option<String>, Vec<String>)> {
    if !dir.data_dir.is_dir() {
        bail!("no journal at {}: pass --data-dir", dir.data_dir.display());
    }
    let j = read_journal(&dir.data_dir)?;
    let found = crate::txview::find(&j.records, tx_id);
    if found.is_empty() {
        return Ok((None, j.damage));
    }
    let parts: Vec<String> = found
        .iter()
        .map(|r| crate::txview::show(r, !unredacted))
        .collect();
    Ok((Some(parts.join("\n========\n\n")), j.damage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_command_for_each_fk_host() {
        assert_eq!(
            connect_command(
                FkHost::Test,
                "127.0.0.1:8020".parse().unwrap(),
                Path::new("dev-pki")
            ),
            "eioa connect --target test --resolve shsext.forsakringskassan.se:8020:127.0.0.1 \
             --ca dev-pki/ca.pem --cert dev-pki/client.pem --key dev-pki/client.key"
        );
        // Another port: FK's URL with that port, so that --resolve applies to it.
        assert_eq!(
            connect_command(
                FkHost::Prod,
                "0.0.0.0:9000".parse().unwrap(),
                Path::new("/tmp/my pki")
            ),
            "eioa connect --target https://shs.forsakringskassan.se:9000/shs2/FK.EIOA.AnmalanArbetsgivare \
             --resolve shs.forsakringskassan.se:9000:127.0.0.1 --ca '/tmp/my pki/ca.pem' \
             --cert '/tmp/my pki/client.pem' --key '/tmp/my pki/client.key'"
        );
    }

    #[test]
    fn as_sets_the_fk_port_unless_listen_says_otherwise() {
        let parse = |args: &[&str]| {
            StandaloneCli::try_parse_from(
                std::iter::once("eioa-mock-server").chain(args.iter().copied()),
            )
        };
        let listen = |args: &[&str]| parse(args).unwrap().serve.listen_addr().to_string();
        assert_eq!(listen(&[]), "127.0.0.1:8020");
        assert_eq!(listen(&["--as", "fk-test"]), "127.0.0.1:8020");
        assert_eq!(listen(&["--as", "fk-prod"]), "127.0.0.1:7020");
        assert_eq!(
            listen(&["--as", "fk-prod", "--listen", "0.0.0.0:9000"]),
            "0.0.0.0:9000"
        );
        assert!(parse(&["--as", "fk-test", "--plain-http"]).is_err());
        assert!(parse(&["--as", "fk-staging"]).is_err());
    }
}
