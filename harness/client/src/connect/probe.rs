//! The probe: runs the checks in order and builds the [`ConnectionTest`].
//!
//! DNS, TCP and the TLS diagnosis use tokio and rustls directly, so that each hop can be told
//! apart (a refused port, a silent firewall, a listener that does not speak TLS, the server's
//! certificate, the server's verdict on ours). The SOAP exchange goes through
//! [`Client::post_soap`], the one code path every exchange takes. Server certificates are always
//! verified by webpki; the diagnosis only records what it saw.

use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use rustls::AlertDescription;
use time::OffsetDateTime;

use super::cert::{self};
use super::checks::{self, CheckDef};
use super::diag::TlsEnd;
use super::model::{
    CertPanel, Check, ConnectionTest, ExchangeSummary, Fact, Level, Status, TargetInfo,
    FORMAT_VERSION,
};
use crate::exchange::Delivery;
use crate::load::IdentitySource;
use crate::secret::Secret;
use crate::target::{is_fk_host, Resolve, Target};
use eioa_model::fk_address::{FK_PROD, FK_TEST};

/// FK's test host and the address FK publishes for it.
pub const FK_TEST_ADDR: (&str, &str) = (FK_TEST.host, FK_TEST.published_ip);
/// FK's production host and the address FK publishes for it.
pub const FK_PROD_ADDR: (&str, &str) = (FK_PROD.host, FK_PROD.published_ip);
/// FK's backend normally answers within this time.
pub const FK_ANSWER_EXPECTATION: Duration = Duration::from_secs(2);
/// Days of validity left under which a certificate is a warning.
pub const WARN_DAYS_LEFT: i64 = 60;

/// How the notification in the SOAP request was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    /// A real BankID test signature with its OCSP response (`--signature/--ocsp`).
    BankId,
    /// The harness's own test signer: only stand-ins that trust it accept it.
    HarnessTest,
}

impl SignatureKind {
    pub(super) fn id(self) -> &'static str {
        match self {
            SignatureKind::BankId => "bankid",
            SignatureKind::HarnessTest => "harness-test",
        }
    }
}

/// The SOAP request the test sends (built by the caller, e.g. with the runner's test kit).
#[derive(Debug, Clone)]
pub struct SoapRequest {
    /// The request envelope as sent.
    pub body: Vec<u8>,
    /// How its notification was signed.
    pub signature: SignatureKind,
}

/// What to test and how.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The endpoint.
    pub target: Target,
    /// The client identity; `None` tests what the server says without one.
    pub identity: Option<IdentitySource>,
    /// Its passphrase, when it needs one.
    pub passphrase: Option<Secret>,
    /// The environment variable the passphrase is read from (named in remedies).
    pub passphrase_env: String,
    /// Extra trust anchors for the server certificate (`--ca`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Whether the system's CA bundle is trusted too.
    pub use_system_roots: bool,
    /// Fixed addresses (`--resolve HOST:PORT:ADDR`).
    pub resolve: Vec<Resolve>,
    /// The request to send; `None` stops after TLS.
    pub request: Option<SoapRequest>,
    /// Limit for each DNS lookup, TCP connect and TLS handshake.
    pub connect_timeout: Duration,
    /// Limit for the SOAP exchange.
    pub total_timeout: Duration,
    /// How long to listen after the handshake for an alert refusing the client certificate
    /// (TLS 1.3 servers send it after the client considers the handshake done).
    pub alert_wait: Duration,
    /// Minimum time between connections to FK's hosts.
    pub fk_interval: Duration,
    /// Redact the request and response in the result.
    pub redact: bool,
    /// Tool name and version for the result.
    pub tool: String,
}

impl ConnectOptions {
    /// Defaults: no identity, system roots, 10 s to connect, 30 s for the exchange, 1 s for a
    /// late alert, one connection per second to FK's hosts, redacted.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            identity: None,
            passphrase: None,
            passphrase_env: "EIOA_PASSPHRASE".into(),
            extra_roots: Vec::new(),
            use_system_roots: true,
            resolve: Vec::new(),
            request: None,
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            alert_wait: Duration::from_secs(1),
            fk_interval: Duration::from_secs(1),
            redact: true,
            tool: concat!("eioa ", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

/// Runs the connection test.
pub async fn run(opts: ConnectOptions) -> ConnectionTest {
    run_with(opts, |_| {}).await
}

/// Runs the connection test, calling `on_check` as each check finishes (for a live timeline).
pub async fn run_with(
    opts: ConnectOptions,
    mut on_check: impl FnMut(&Check) + Send,
) -> ConnectionTest {
    let mut p = Probe {
        opts,
        checks: Vec::new(),
        on_check: &mut on_check,
        last_fk_connect: None,
        now: OffsetDateTime::now_utc(),
    };
    p.run().await
}

/// A check's remedy in both languages of the report: every remedy the probe writes is built
/// with [`Remedy::new`], so none can lack its Swedish sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Remedy {
    pub(super) en: String,
    pub(super) sv: String,
}

impl Remedy {
    /// The remedy in English and in Swedish. Commands, flags, file names, addresses and check
    /// ids stay as they are in both.
    pub(super) fn new(en: impl Into<String>, sv: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            sv: sv.into(),
        }
    }
}

/// One run of the test: the options, the checks so far, and the pacing state.
pub(super) struct Probe<'a> {
    pub(super) opts: ConnectOptions,
    pub(super) checks: Vec<Check>,
    pub(super) on_check: &'a mut (dyn FnMut(&Check) + Send),
    pub(super) last_fk_connect: Option<tokio::time::Instant>,
    pub(super) now: OffsetDateTime,
}

impl Probe<'_> {
    pub(super) fn push(
        &mut self,
        def: CheckDef,
        status: Status,
        summary: impl Into<String>,
        facts: Vec<Fact>,
        remedy: Option<Remedy>,
        started: Instant,
    ) {
        let (remedy, remedy_sv) = match remedy {
            Some(r) => (Some(r.en), Some(r.sv)),
            None => (None, None),
        };
        let check = Check {
            id: def.id.to_owned(),
            title: def.title.to_owned(),
            status,
            summary: summary.into(),
            facts,
            remedy,
            remedy_sv,
            duration_ms: (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0,
        };
        (self.on_check)(&check);
        self.checks.push(check);
    }

    pub(super) fn skip(&mut self, def: CheckDef, why: impl Into<String>) {
        let why = why.into();
        self.push(
            def,
            Status::Skipped,
            why.clone(),
            vec![Fact::new("skipped because", why)],
            None,
            Instant::now(),
        );
    }

    pub(super) fn status_of(&self, id: &str) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    pub(super) async fn pace(&mut self, host: &str) {
        if !is_fk_host(host) {
            return;
        }
        if let Some(last) = self.last_fk_connect {
            tokio::time::sleep_until(last + self.opts.fk_interval).await;
        }
        self.last_fk_connect = Some(tokio::time::Instant::now());
    }

    async fn run(&mut self) -> ConnectionTest {
        let started_at = self.now;
        let url = self.opts.target.url();
        let host = url.host_str().unwrap_or_default().to_owned();
        let bare_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let is_tls = url.scheme() == "https";
        let resolve = self
            .opts
            .resolve
            .iter()
            .find(|r| r.applies_to(&bare_host, port))
            .cloned();
        let target = TargetInfo {
            kind: match &self.opts.target {
                Target::Test => "fk-test",
                Target::Prod => "fk-prod",
                _ => "url",
            }
            .into(),
            url: url.to_string(),
            host: bare_host.clone(),
            port,
            is_fk: is_fk_host(&bare_host),
            resolve: resolve.as_ref().map(ToString::to_string),
        };

        let id = self.identity_checks();
        let client_panels: Vec<CertPanel> = id
            .chain
            .iter()
            .filter_map(|c| cert::parse(c, self.now).map(|c| c.panel))
            .collect();

        // DNS
        let addrs = self.dns(&bare_host, port, resolve.as_ref()).await;
        // TCP
        let stream = match addrs {
            Some(addrs) => self.tcp(&bare_host, port, &addrs).await,
            None => {
                self.skip(checks::TCP, "the host name did not resolve (C-DNS-RESOLVE)");
                None
            }
        };
        // TLS
        let mut server_chain = Vec::new();
        let mut cipher_suite = None;
        let tls_end = match (stream, is_tls) {
            (Some(stream), true) => {
                let (end, chain, suite) = self.tls(stream, &bare_host, &id).await;
                server_chain = chain;
                cipher_suite = suite;
                end
            }
            (Some(_), false) => {
                for def in tls_defs() {
                    self.skip(
                        def,
                        "plain http: no TLS (allowed to the local machine only)",
                    );
                }
                TlsEnd::NotRun
            }
            (None, _) => {
                for def in tls_defs() {
                    self.skip(def, "no TCP connection (C-TCP)");
                }
                TlsEnd::NotRun
            }
        };

        // HTTP and SOAP, through the client every exchange uses.
        let tls_ok = matches!(tls_end, TlsEnd::Done)
            && self.status_of(checks::TLS_CLIENT_CERT.id) != Some(Status::Fail);
        let plain_ok = !is_tls && self.status_of(checks::TCP.id).is_some_and(passed);
        let mut exchange = None;
        if tls_ok || plain_ok {
            exchange = self.soap(&id, &bare_host, cipher_suite.clone()).await;
        } else {
            let why = if self.status_of(checks::TCP.id).is_some_and(passed) {
                "the TLS connection was not accepted (see the TLS checks)"
            } else {
                "no connection (see C-DNS-RESOLVE and C-TCP)"
            };
            for def in [checks::HTTP, checks::SOAP, checks::SOAP_TIME] {
                self.skip(def, why);
            }
        }

        let (level, verdict, hint) = self.level(exchange.as_ref());
        let mut client_panels = client_panels.into_iter();
        ConnectionTest {
            format: FORMAT_VERSION,
            tool: self.opts.tool.clone(),
            target,
            started_at,
            finished_at: OffsetDateTime::now_utc(),
            level,
            verdict,
            next_level_hint: hint.as_ref().map(|h| h.en.clone()),
            next_level_hint_sv: hint.map(|h| h.sv),
            checks: std::mem::take(&mut self.checks),
            client_cert: client_panels.next(),
            client_intermediates: client_panels.collect(),
            server_chain,
            exchange,
        }
    }

    // ---- verdict ----------------------------------------------------------------------------

    /// The level reached, the verdict sentence, and what the next level needs (in English and
    /// Swedish).
    fn level(&self, exchange: Option<&ExchangeSummary>) -> (Level, String, Option<Remedy>) {
        let ok = |id: &str| self.status_of(id).is_some_and(passed);
        let mut level = Level::None;
        if ok(checks::TCP.id) {
            level = Level::Reachable;
        }
        if level == Level::Reachable
            && self.status_of(checks::TLS_CLIENT_CERT.id) == Some(Status::Pass)
        {
            level = Level::MutualTls;
        }
        let answered = exchange.is_some_and(|e| {
            e.tx_id.is_some()
                || matches!(
                    e.fault.as_deref(),
                    Some("XmlValidationError" | "SignatureValidationError")
                )
        });
        if level == Level::MutualTls && answered {
            level = Level::FkAnswered;
        }
        if level == Level::FkAnswered && exchange.is_some_and(|e| e.tx_id.is_some()) {
            level = Level::Accepted;
        }
        let verdict = match level {
            Level::None => "Not reachable: no TCP connection to the service.".to_owned(),
            Level::Reachable => "Reachable: TCP connects, but mutual TLS was not accepted.".to_owned(),
            Level::MutualTls => "Mutual TLS accepted: the server took the client certificate, but no E-IOA answer came back.".to_owned(),
            Level::FkAnswered => format!("FK answered: the service replied with {}, which proves the connection.", exchange.and_then(|e| e.fault.clone()).unwrap_or_else(|| "an E-IOA fault".into())),
            Level::Accepted => format!("Accepted: the service returned tx-id {}.", exchange.and_then(|e| e.tx_id.clone()).unwrap_or_default()),
        };
        let hint = level.next().map(|next| {
            // What stands in the way of exactly the next level first, failures before
            // warnings; then anything below it that failed.
            let find = |status: Status, at: &dyn Fn(Level) -> bool| {
                self.checks.iter().find(|c| {
                    c.status == status
                        && c.remedy.is_some()
                        && checks::def(&c.id).is_some_and(|d| at(d.gates))
                })
            };
            let blocking = find(Status::Fail, &|g| g == next)
                .or_else(|| find(Status::Warn, &|g| g == next))
                .or_else(|| find(Status::Fail, &|g| g < next));
            let (en, sv) = (next.title(), next.title_sv());
            match blocking {
                Some(c) => {
                    let remedy = c.remedy.clone().unwrap_or_default();
                    let remedy_sv = c.remedy_sv.clone().unwrap_or_else(|| remedy.clone());
                    Remedy::new(
                        format!("For {en}: {remedy} ({})", c.id),
                        format!("För {sv}: {remedy_sv} ({})", c.id),
                    )
                }
                None => match next {
                    Level::FkAnswered | Level::Accepted if self.opts.request.is_none() => {
                        Remedy::new(
                            format!(
                                "For {en}: send a notification (the test had no request to send)."
                            ),
                            format!(
                                "För {sv}: skicka en anmälan (testet hade ingen begäran att skicka)."
                            ),
                        )
                    }
                    Level::MutualTls if !self.opts.target.url().scheme().eq("https") => {
                        Remedy::new(
                            format!("For {en}: test an https URL."),
                            format!("För {sv}: testa en https-URL."),
                        )
                    }
                    _ => Remedy::new(
                        format!("For {en}: see the checks above."),
                        format!("För {sv}: se kontrollerna ovan."),
                    ),
                },
            }
        });
        (level, verdict, hint)
    }
}

pub(super) fn tls_defs() -> [CheckDef; 6] {
    [
        checks::TLS_HANDSHAKE,
        checks::TLS_SERVER_TRUST,
        checks::TLS_SERVER_NAME,
        checks::TLS_SERVER_VALID,
        checks::TLS_CA_NAMES,
        checks::TLS_CLIENT_CERT,
    ]
}

pub(super) fn passed(s: Status) -> bool {
    matches!(s, Status::Pass | Status::Warn)
}

pub(super) fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

pub(super) fn delivery_id(d: Delivery) -> &'static str {
    match d {
        Delivery::NotSent => "not-sent",
        Delivery::MaybeSent => "maybe-sent",
        Delivery::Answered => "answered",
    }
}

pub(super) fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// An error and its causes on one line.
pub(super) fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// The rustls error inside an I/O error from tokio-rustls.
pub(super) fn rustls_error(e: &std::io::Error) -> Option<rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned()
}

/// The TLS name of an alert, as RFC 8446 writes it (e.g. `unknown_ca`).
pub fn alert_name(a: AlertDescription) -> String {
    use AlertDescription as A;
    match a {
        A::CloseNotify => "close_notify",
        A::UnexpectedMessage => "unexpected_message",
        A::BadRecordMac => "bad_record_mac",
        A::HandshakeFailure => "handshake_failure",
        A::BadCertificate => "bad_certificate",
        A::UnsupportedCertificate => "unsupported_certificate",
        A::CertificateRevoked => "certificate_revoked",
        A::CertificateExpired => "certificate_expired",
        A::CertificateUnknown => "certificate_unknown",
        A::IllegalParameter => "illegal_parameter",
        A::UnknownCA => "unknown_ca",
        A::AccessDenied => "access_denied",
        A::DecodeError => "decode_error",
        A::DecryptError => "decrypt_error",
        A::ProtocolVersion => "protocol_version",
        A::InsufficientSecurity => "insufficient_security",
        A::InternalError => "internal_error",
        A::UserCanceled => "user_canceled",
        A::MissingExtension => "missing_extension",
        A::UnsupportedExtension => "unsupported_extension",
        A::UnrecognisedName => "unrecognized_name",
        A::CertificateRequired => "certificate_required",
        A::NoApplicationProtocol => "no_application_protocol",
        other => return format!("{other:?}").to_lowercase(),
    }
    .to_owned()
}

/// What to do about a 404 from FK's hosts (or any other).
pub(super) fn path_remedy(host: &str, path: &str) -> Remedy {
    let test = eioa_test_path();
    let prod = eioa_prod_path();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h == FK_TEST_ADDR.0 && path == prod {
        Remedy::new(
            format!("This is the production path on the test host: FK's test service is at {test} (with the .ext suffix)."),
            format!("Det här är produktionens sökväg på testvärden: FK:s testtjänst finns på {test} (med ändelsen .ext)."),
        )
    } else if h == FK_PROD_ADDR.0 && path == test {
        Remedy::new(
            format!("This is the test path on the production host: FK's production service is at {prod} (without .ext)."),
            format!("Det här är testets sökväg på produktionsvärden: FK:s produktionstjänst finns på {prod} (utan .ext)."),
        )
    } else if h == FK_TEST_ADDR.0 || h == FK_PROD_ADDR.0 {
        Remedy::new(
            format!("No E-IOA service at {path}: FK's test path is {test} (with .ext, port 8020), production's is {prod} (port 7020)."),
            format!("Ingen E-IOA-tjänst på {path}: FK:s sökväg för test är {test} (med .ext, port 8020), för produktion {prod} (port 7020)."),
        )
    } else {
        Remedy::new(
            format!("No service at {path}: E-IOA's paths are {test} (test) and {prod} (production); check the URL."),
            format!("Ingen tjänst på {path}: E-IOA:s sökvägar är {test} (test) och {prod} (produktion); kontrollera URL:en."),
        )
    }
}

fn eioa_test_path() -> &'static str {
    FK_TEST.path
}

fn eioa_prod_path() -> &'static str {
    FK_PROD.path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_remedies_name_the_right_path() {
        let r = path_remedy(
            "shsext.forsakringskassan.se",
            "/shs2/FK.EIOA.AnmalanArbetsgivare",
        );
        assert!(r.en.contains("production path on the test host"), "{r:?}");
        assert!(r.sv.contains("produktionens sökväg på testvärden"), "{r:?}");
        assert!(r.en.contains(".ext") && r.sv.contains(".ext"), "{r:?}");
        let r = path_remedy(
            "shs.forsakringskassan.se",
            "/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
        );
        assert!(r.en.contains("test path on the production host"), "{r:?}");
        assert!(
            r.sv.contains("testets sökväg på produktionsvärden"),
            "{r:?}"
        );
        // The paths here are FK's published ones, as in the target constants.
        assert!(crate::target::FK_TEST_URL.ends_with(eioa_test_path()));
        assert!(crate::target::FK_PROD_URL.ends_with(eioa_prod_path()));
    }

    #[test]
    fn alert_names_follow_the_rfc() {
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
        assert_eq!(
            alert_name(AlertDescription::CertificateExpired),
            "certificate_expired"
        );
    }
}
