//! The probe: runs the checks in order and builds the [`ConnectionTest`].
//!
//! DNS, TCP and the TLS diagnosis use tokio and rustls directly, so that each hop can be told
//! apart (a refused port, a silent firewall, a listener that does not speak TLS, the server's
//! certificate, the server's verdict on ours). The SOAP exchange goes through
//! [`Client::post_soap`], the one code path every exchange takes. Server certificates are always
//! verified by webpki; the diagnosis only records what it saw.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, DigitallySignedStruct, RootCertStore, SignatureScheme};
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::cert::{self, when};
use super::checks::{self, CheckDef};
use super::model::{
    CertPanel, Check, ConnectionTest, ExchangeSummary, Fact, Level, Status, TargetInfo,
    FORMAT_VERSION,
};
use crate::client::{Client, ClientConfig};
use crate::error::ClientError;
use crate::exchange::Delivery;
use crate::identity::{pem_parts, pkcs12_parts, read, Identity, IdentityError};
use crate::load::IdentitySource;
use crate::pace::Pace;
use crate::secret::Secret;
use crate::target::{is_fk_host, Resolve, Target};
use crate::tls::root_store;

/// FK's test host and the address FK publishes for it.
pub const FK_TEST_ADDR: (&str, &str) = ("shsext.forsakringskassan.se", "194.71.80.30");
/// FK's production host and the address FK publishes for it.
pub const FK_PROD_ADDR: (&str, &str) = ("shs.forsakringskassan.se", "194.71.65.32");
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
    fn id(self) -> &'static str {
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

/// The client identity as far as it could be read.
#[derive(Default)]
struct IdState {
    chain: Vec<CertificateDer<'static>>,
    key: Option<PrivateKeyDer<'static>>,
    certified: Option<Arc<CertifiedKey>>,
    /// Loaded and the key matches: it can be offered in a handshake.
    usable: bool,
    /// Whether an identity was given at all.
    given: bool,
    /// The check that stopped it, if one did.
    failed_at: Option<&'static str>,
}

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    cert_requested: bool,
    ca_names: Vec<Vec<u8>>,
    client_cert_sent: bool,
}

type SeenRec = Arc<Mutex<Seen>>;

fn note<R>(rec: &SeenRec, f: impl FnOnce(&mut Seen) -> R) -> R {
    let mut g = rec.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut g)
}

/// Hands every decision to webpki; notes the chain the server presented.
#[derive(Debug)]
struct DiagVerifier {
    inner: Arc<WebPkiServerVerifier>,
    rec: SeenRec,
}

impl ServerCertVerifier for DiagVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        note(&self.rec, |s| {
            s.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        });
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Offers the identity (if usable) and notes the authorities the server named.
#[derive(Debug)]
struct DiagResolver {
    key: Option<Arc<CertifiedKey>>,
    rec: SeenRec,
}

impl ResolvesClientCert for DiagResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        note(&self.rec, |s| {
            s.cert_requested = true;
            s.ca_names = root_hint_subjects.iter().map(|n| n.to_vec()).collect();
            s.client_cert_sent = self.key.is_some();
        });
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

struct Probe<'a> {
    opts: ConnectOptions,
    checks: Vec<Check>,
    on_check: &'a mut (dyn FnMut(&Check) + Send),
    last_fk_connect: Option<tokio::time::Instant>,
    now: OffsetDateTime,
}

/// How the TLS diagnosis ended.
enum TlsEnd {
    /// Not run (skipped) or no TLS (plain http).
    NotRun,
    /// The handshake completed; `alert` is what arrived afterwards, if anything.
    Done,
    /// The client refused the server's certificate.
    ServerCertRefused,
    /// The server refused the client certificate (or the handshake) with an alert.
    Alert,
    /// The handshake did not get as far as a certificate.
    Broken,
}

impl Probe<'_> {
    fn push(
        &mut self,
        def: CheckDef,
        status: Status,
        summary: impl Into<String>,
        facts: Vec<Fact>,
        remedy: Option<String>,
        started: Instant,
    ) {
        let check = Check {
            id: def.id.to_owned(),
            title: def.title.to_owned(),
            status,
            summary: summary.into(),
            facts,
            remedy,
            duration_ms: (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0,
        };
        (self.on_check)(&check);
        self.checks.push(check);
    }

    fn skip(&mut self, def: CheckDef, why: impl Into<String>) {
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

    fn status_of(&self, id: &str) -> Option<Status> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.status)
    }

    async fn pace(&mut self, host: &str) {
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

        let (level, verdict, next_level_hint) = self.level(exchange.as_ref());
        let mut client_panels = client_panels.into_iter();
        ConnectionTest {
            format: FORMAT_VERSION,
            tool: self.opts.tool.clone(),
            target,
            started_at,
            finished_at: OffsetDateTime::now_utc(),
            level,
            verdict,
            next_level_hint,
            checks: std::mem::take(&mut self.checks),
            client_cert: client_panels.next(),
            client_intermediates: client_panels.collect(),
            server_chain,
            exchange,
        }
    }

    // ---- client identity -------------------------------------------------------------------

    fn identity_checks(&mut self) -> IdState {
        let t = Instant::now();
        let mut st = IdState::default();
        let Some(source) = self.opts.identity.clone() else {
            self.push(
                checks::ID_LOAD,
                Status::Fail,
                "no client certificate given",
                vec![],
                Some("Pass the certificate ordered from Expisoft with --p12 FILE or --cert FILE --key FILE: FK's service requires mutual TLS.".into()),
                t,
            );
            for def in [
                checks::ID_KEY,
                checks::ID_VALID,
                checks::ID_EKU,
                checks::ID_CHAIN,
            ] {
                self.skip(def, "no client certificate given (C-ID-LOAD)");
            }
            st.failed_at = Some(checks::ID_LOAD.id);
            return st;
        };
        st.given = true;
        let env = self.opts.passphrase_env.clone();
        let (format, file) = match &source {
            IdentitySource::Pem { cert, .. } => ("PEM", cert.display().to_string()),
            IdentitySource::Pkcs12(p) => ("PKCS#12", p.display().to_string()),
        };
        let parts = match &source {
            IdentitySource::Pem { cert, key } => read(cert).and_then(|c| {
                let k = read(key)?;
                pem_parts(&c, &k, self.opts.passphrase.as_ref())
            }),
            IdentitySource::Pkcs12(p) => match &self.opts.passphrase {
                Some(secret) => read(p).and_then(|der| pkcs12_parts(&der, secret)),
                None => Err(IdentityError::PassphraseRequired),
            },
        };
        let mut facts = vec![Fact::new("format", format), Fact::new("file", file.clone())];
        let (chain, key) = match parts {
            Ok(parts) => parts,
            Err(e) => {
                let remedy = match &e {
                    IdentityError::Read { path, .. } => format!("Check the path {}: the file could not be read.", path.display()),
                    IdentityError::PassphraseRequired => format!("The {} is protected: put its passphrase in the environment variable ${env} (or name another with --passphrase-env), never on the command line.", if format == "PEM" { "key" } else { "PKCS#12 file" }),
                    IdentityError::WrongPassphrase { what } => format!("The passphrase in ${env} does not open the {what}: set the passphrase Expisoft gave with the certificate."),
                    IdentityError::NoCertificate => "The certificate file holds no PEM certificate: pass the certificate (leaf first, then intermediates) with --cert.".into(),
                    IdentityError::NoKey => "The key file holds no private key: pass the key generated with the certificate request with --key.".into(),
                    IdentityError::Pkcs12NoKey => "The PKCS#12 file holds no private key: export it again with its key (openssl pkcs12 -export -inkey KEY -in CERT -certfile CHAIN).".into(),
                    _ => "Check that the files are the certificate and key (PEM) or the PKCS#12 archive delivered by Expisoft.".into(),
                };
                facts.push(Fact::new("error", error_text(&e)));
                self.push(
                    checks::ID_LOAD,
                    Status::Fail,
                    format!("cannot load the client identity: {}", error_text(&e)),
                    facts,
                    Some(remedy),
                    t,
                );
                for def in [
                    checks::ID_KEY,
                    checks::ID_VALID,
                    checks::ID_EKU,
                    checks::ID_CHAIN,
                ] {
                    self.skip(def, "the client identity did not load (C-ID-LOAD)");
                }
                st.failed_at = Some(checks::ID_LOAD.id);
                return st;
            }
        };
        let now = self.now;
        let Some(leaf) = cert::parse(&chain[0], now) else {
            self.push(
                checks::ID_LOAD,
                Status::Fail,
                "the client certificate cannot be parsed",
                facts,
                Some("Pass an X.509 certificate in PEM or PKCS#12 form.".into()),
                t,
            );
            for def in [
                checks::ID_KEY,
                checks::ID_VALID,
                checks::ID_EKU,
                checks::ID_CHAIN,
            ] {
                self.skip(def, "the client certificate cannot be parsed (C-ID-LOAD)");
            }
            st.failed_at = Some(checks::ID_LOAD.id);
            return st;
        };
        let panel = leaf.panel.clone();
        facts.extend([
            Fact::new("subject", panel.subject.clone()),
            Fact::new("issuer", panel.issuer.clone()),
            Fact::new("serial", panel.serial.clone()),
            Fact::new("sha256", panel.sha256.clone()),
            Fact::new("certificates", chain.len().to_string()),
        ]);
        self.push(
            checks::ID_LOAD,
            Status::Pass,
            format!("{format} identity {}", panel.subject),
            facts,
            None,
            t,
        );

        // Key
        let t = Instant::now();
        let provider = rustls::crypto::ring::default_provider();
        let key_text = panel.key.clone();
        let mut facts = vec![Fact::new("key", key_text.clone())];
        match CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider) {
            Ok(ck) => {
                let weak = cert::rsa_bits(&leaf.x509).is_some_and(|b| b < 2048);
                facts.push(Fact::new("matches certificate", "yes"));
                if weak {
                    self.push(checks::ID_KEY, Status::Warn, format!("{key_text}: shorter than 2048 bits"), facts, Some("Order a certificate with an RSA key of at least 2048 bits: shorter keys are refused by current TLS stacks.".into()), t);
                } else {
                    self.push(
                        checks::ID_KEY,
                        Status::Pass,
                        format!("{key_text}, matches the certificate"),
                        facts,
                        None,
                        t,
                    );
                }
                st.certified = Some(Arc::new(ck));
                st.usable = true;
            }
            Err(e) => {
                let mismatch = matches!(e, rustls::Error::InconsistentKeys(_));
                facts.push(Fact::new(
                    "matches certificate",
                    if mismatch { "no" } else { "unknown" },
                ));
                facts.push(Fact::new("error", e.to_string()));
                let (summary, remedy) = if mismatch {
                    (format!("the private key does not belong to the certificate {}", panel.subject),
                     "Use the key generated together with this certificate's request (in a PKCS#12 file from Expisoft the two come together); compare `openssl x509 -noout -pubkey` with `openssl pkey -pubout`.".to_owned())
                } else {
                    (
                        format!("the private key cannot be used: {e}"),
                        "Use an RSA or ECDSA (P-256/P-384) key in PKCS#8, PKCS#1 or SEC1 form."
                            .to_owned(),
                    )
                };
                self.push(
                    checks::ID_KEY,
                    Status::Fail,
                    summary,
                    facts,
                    Some(remedy),
                    t,
                );
                st.failed_at = Some(checks::ID_KEY.id);
            }
        }

        // Validity
        let t = Instant::now();
        let facts = vec![
            Fact::new("not before", when(panel.not_before)),
            Fact::new("not after", when(panel.not_after)),
            Fact::new("days left", panel.days_left.to_string()),
        ];
        if now < panel.not_before {
            self.push(checks::ID_VALID, Status::Fail, format!("not valid before {}", when(panel.not_before)), facts, Some("The certificate is not valid yet: check this machine's clock, or wait until its start date.".into()), t);
        } else if now > panel.not_after {
            self.push(checks::ID_VALID, Status::Fail, format!("expired {}", when(panel.not_after)), facts, Some("The client certificate has expired: order a new one from Expisoft (they are renewed every second year).".into()), t);
        } else if panel.days_left < WARN_DAYS_LEFT {
            self.push(
                checks::ID_VALID,
                Status::Warn,
                format!(
                    "{} days left (until {})",
                    panel.days_left,
                    when(panel.not_after)
                ),
                facts,
                Some(format!(
                    "Order the renewal from Expisoft now: the certificate expires in {} days.",
                    panel.days_left
                )),
                t,
            );
        } else {
            self.push(
                checks::ID_VALID,
                Status::Pass,
                format!(
                    "{} days left (until {})",
                    panel.days_left,
                    when(panel.not_after)
                ),
                facts,
                None,
                t,
            );
        }

        // Extended key usage
        let t = Instant::now();
        let eku_text = if panel.eku.is_empty() {
            "(no extension: any use)".to_owned()
        } else {
            panel.eku.join(", ")
        };
        let facts = vec![Fact::new("extended key usage", eku_text.clone())];
        match cert::allows_client_auth(&leaf.x509) {
            Some(false) => self.push(checks::ID_EKU, Status::Fail, format!("not for client authentication: {eku_text}"), facts, Some("This certificate may not be used as a TLS client certificate: use the certificate Expisoft issued for the connection, not the signing or a server certificate.".into()), t),
            Some(true) => self.push(checks::ID_EKU, Status::Pass, format!("allows clientAuth ({eku_text})"), facts, None, t),
            None => self.push(checks::ID_EKU, Status::Pass, "no extended key usage extension: any use allowed", facts, None, t),
        }

        // Chain
        let t = Instant::now();
        let parsed: Vec<_> = chain.iter().filter_map(|c| cert::parse(c, now)).collect();
        let mut facts: Vec<Fact> = parsed
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Fact::new(
                    if i == 0 {
                        "leaf".to_owned()
                    } else {
                        format!("intermediate {i}")
                    },
                    format!("{} (issuer {})", c.panel.subject, c.panel.issuer),
                )
            })
            .collect();
        let self_issued =
            |c: &cert::Cert<'_>| c.x509.subject().as_raw() == c.x509.issuer().as_raw();
        // A leaf issued straight by a root needs no intermediate: when that root is one of the
        // --ca anchors, the leaf alone is complete.
        let issuer_is_given_root = self.opts.extra_roots.iter().any(|r| {
            cert::parse(r, now)
                .is_some_and(|c| c.x509.subject().as_raw() == leaf.x509.issuer().as_raw())
        });
        let broken_link = parsed
            .windows(2)
            .position(|w| w[0].x509.issuer().as_raw() != w[1].x509.subject().as_raw());
        if let Some(i) = broken_link {
            facts.push(Fact::new(
                "order",
                format!("certificate {} is not issued by certificate {}", i, i + 1),
            ));
            self.push(
                checks::ID_CHAIN,
                Status::Warn,
                "the chain is out of order",
                facts,
                Some("Put the leaf first and each issuer after the certificate it issued.".into()),
                t,
            );
        } else if parsed.len() == 1 && !self_issued(&parsed[0]) && issuer_is_given_root {
            facts.push(Fact::new(
                "issuer",
                format!("{} (a root given with --ca)", panel.issuer),
            ));
            self.push(
                checks::ID_CHAIN,
                Status::Pass,
                format!("the leaf alone; its issuer {} is a root", panel.issuer),
                facts,
                None,
                t,
            );
        } else if parsed.len() == 1 && !self_issued(&parsed[0]) {
            facts.push(Fact::new("missing", format!("the issuer {}", panel.issuer)));
            self.push(checks::ID_CHAIN, Status::Warn, format!("only the leaf is presented; its issuer {} is not included", panel.issuer), facts, Some("Include the intermediate certificate(s) with the leaf (PEM: append them to --cert; PKCS#12: export with -certfile CHAIN): a server that does not hold the intermediate refuses the certificate.".into()), t);
        } else {
            self.push(
                checks::ID_CHAIN,
                Status::Pass,
                format!(
                    "{} certificate(s): leaf{}",
                    parsed.len(),
                    if parsed.len() > 1 {
                        " plus intermediates"
                    } else {
                        " (self-issued)"
                    }
                ),
                facts,
                None,
                t,
            );
        }

        st.chain = chain;
        st.key = Some(key);
        st
    }

    // ---- DNS --------------------------------------------------------------------------------

    async fn dns(
        &mut self,
        host: &str,
        port: u16,
        resolve: Option<&Resolve>,
    ) -> Option<Vec<IpAddr>> {
        let t = Instant::now();
        let published = [FK_TEST_ADDR, FK_PROD_ADDR]
            .into_iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host.trim_end_matches('.')))
            .map(|(_, a)| a);
        let (addrs, how) = if let Ok(ip) = host.parse::<IpAddr>() {
            (vec![ip], "an address; no lookup")
        } else if let Some(r) = resolve {
            (vec![r.addr], "given by --resolve")
        } else {
            let lookup = tokio::time::timeout(
                self.opts.connect_timeout,
                tokio::net::lookup_host((host, port)),
            )
            .await;
            match lookup {
                Ok(Ok(found)) => {
                    let mut v: Vec<IpAddr> = Vec::new();
                    for a in found {
                        if !v.contains(&a.ip()) {
                            v.push(a.ip());
                        }
                    }
                    (v, "resolved by the system resolver")
                }
                Ok(Err(e)) => {
                    let remedy = match published {
                        Some(addr) => format!("This machine's DNS has no answer for {host}: ask your network team for a resolver that does, or test with --resolve {host}:{port}:{addr} (the address FK publishes)."),
                        None => format!("The name {host} has no address here: check the spelling and the DNS settings, or give the address with --resolve {host}:{port}:ADDR."),
                    };
                    self.push(
                        checks::DNS_RESOLVE,
                        Status::Fail,
                        format!("{host} does not resolve: {e}"),
                        vec![
                            Fact::new("host", host),
                            Fact::new("error", e.to_string()),
                            Fact::new("time", ms(t.elapsed())),
                        ],
                        Some(remedy),
                        t,
                    );
                    self.skip(
                        checks::DNS_PUBLISHED,
                        "the host name did not resolve (C-DNS-RESOLVE)",
                    );
                    return None;
                }
                Err(_) => {
                    self.push(checks::DNS_RESOLVE, Status::Fail, format!("no DNS answer for {host} within {:?}", self.opts.connect_timeout), vec![Fact::new("host", host), Fact::new("time", ms(t.elapsed()))], Some(format!("The resolver does not answer: check the DNS settings, or give the address with --resolve {host}:{port}:ADDR.")), t);
                    self.skip(
                        checks::DNS_PUBLISHED,
                        "the host name did not resolve (C-DNS-RESOLVE)",
                    );
                    return None;
                }
            }
        };
        if addrs.is_empty() {
            self.push(
                checks::DNS_RESOLVE,
                Status::Fail,
                format!("{host} resolves to no address"),
                vec![Fact::new("host", host)],
                Some(format!(
                    "Give the address with --resolve {host}:{port}:ADDR."
                )),
                t,
            );
            self.skip(
                checks::DNS_PUBLISHED,
                "the host name did not resolve (C-DNS-RESOLVE)",
            );
            return None;
        }
        let list = addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            checks::DNS_RESOLVE,
            Status::Pass,
            format!("{host} → {list} ({how})"),
            vec![
                Fact::new("host", host),
                Fact::new("addresses", list.clone()),
                Fact::new("source", how),
                Fact::new("time", ms(t.elapsed())),
            ],
            None,
            t,
        );

        let t = Instant::now();
        match published {
            None => self.skip(
                checks::DNS_PUBLISHED,
                format!("{host} is not one of FK's hosts"),
            ),
            Some(addr) => {
                let facts = vec![
                    Fact::new("published by FK", addr),
                    Fact::new("addresses", list.clone()),
                ];
                if addrs.iter().any(|a| a.to_string() == addr) {
                    self.push(
                        checks::DNS_PUBLISHED,
                        Status::Pass,
                        format!("{addr}, as FK publishes"),
                        facts,
                        None,
                        t,
                    );
                } else if resolve.is_some() {
                    self.push(checks::DNS_PUBLISHED, Status::Warn, format!("--resolve gives {list}; FK publishes {addr}"), facts, Some(format!("Fine for a rehearsal against a stand-in; against FK itself use {addr} (or no --resolve).")), t);
                } else {
                    self.push(checks::DNS_PUBLISHED, Status::Warn, format!("DNS answers {list}; FK publishes {addr}"), facts, Some(format!("A different answer points at split DNS or a proxy: ask your network team why {host} does not resolve to {addr}.")), t);
                }
            }
        }
        Some(addrs)
    }

    // ---- TCP --------------------------------------------------------------------------------

    async fn tcp(&mut self, host: &str, port: u16, addrs: &[IpAddr]) -> Option<TcpStream> {
        let t = Instant::now();
        let mut facts = Vec::new();
        let mut first_ok = None;
        let mut failure: Option<(&'static str, SocketAddr)> = None;
        for ip in addrs {
            let sa = SocketAddr::new(*ip, port);
            self.pace(host).await;
            let t1 = Instant::now();
            match tokio::time::timeout(self.opts.connect_timeout, TcpStream::connect(sa)).await {
                Ok(Ok(stream)) => {
                    facts.push(Fact::new(
                        sa.to_string(),
                        format!("connected in {}", ms(t1.elapsed())),
                    ));
                    if first_ok.is_none() {
                        first_ok = Some(stream);
                    }
                }
                Ok(Err(e)) => {
                    let kind = match e.kind() {
                        std::io::ErrorKind::ConnectionRefused => "refused",
                        std::io::ErrorKind::TimedOut => "timed out",
                        std::io::ErrorKind::HostUnreachable
                        | std::io::ErrorKind::NetworkUnreachable => "unreachable",
                        _ => "failed",
                    };
                    facts.push(Fact::new(sa.to_string(), format!("{kind}: {e}")));
                    failure.get_or_insert((kind, sa));
                }
                Err(_) => {
                    facts.push(Fact::new(
                        sa.to_string(),
                        format!("timed out after {:?}", self.opts.connect_timeout),
                    ));
                    failure.get_or_insert(("timed out", sa));
                }
            }
            if first_ok.is_some() {
                break;
            }
        }
        let remedy = |kind: &str, sa: SocketAddr| {
            match kind {
            "refused" => format!("Nothing accepts connections at {sa}, or a firewall rejects them: check the port (FK: test 8020, production 7020) and ask your network team to allow outbound TCP to {sa}."),
            "timed out" => format!("The connection is silently dropped, typically by a firewall: ask your network team to open outbound TCP from this machine to {sa}."),
            "unreachable" => format!("There is no route to {}: check this machine's network and gateway (the harness does not use HTTP proxies; the connection must go directly to {sa}).", sa.ip()),
            _ => format!("Check the network path to {sa}."),
        }
        };
        match (first_ok, failure) {
            (Some(stream), None) => {
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                self.push(
                    checks::TCP,
                    Status::Pass,
                    format!("connected to {peer}"),
                    facts,
                    None,
                    t,
                );
                Some(stream)
            }
            (Some(stream), Some((kind, sa))) => {
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                self.push(
                    checks::TCP,
                    Status::Warn,
                    format!("connected to {peer}; {sa} {kind}"),
                    facts,
                    Some(remedy(kind, sa)),
                    t,
                );
                Some(stream)
            }
            (None, Some((kind, sa))) => {
                self.push(
                    checks::TCP,
                    Status::Fail,
                    format!("{sa}: connection {kind}"),
                    facts,
                    Some(remedy(kind, sa)),
                    t,
                );
                None
            }
            (None, None) => {
                self.push(
                    checks::TCP,
                    Status::Fail,
                    "no address to connect to",
                    facts,
                    Some("Give the address with --resolve HOST:PORT:ADDR.".into()),
                    t,
                );
                None
            }
        }
    }

    // ---- TLS --------------------------------------------------------------------------------

    async fn tls(
        &mut self,
        stream: TcpStream,
        host: &str,
        id: &IdState,
    ) -> (TlsEnd, Vec<CertPanel>, Option<String>) {
        let t = Instant::now();
        let roots = match root_store(&self.opts.extra_roots, self.opts.use_system_roots) {
            Ok(r) => r,
            Err(e) => {
                self.push(
                    checks::TLS_HANDSHAKE,
                    Status::Fail,
                    format!("no trust roots: {e}"),
                    vec![],
                    Some("Pass the CA that issued the server's certificate with --ca FILE.".into()),
                    t,
                );
                for def in &tls_defs()[1..] {
                    self.skip(*def, "no TLS configuration (C-TLS-HANDSHAKE)");
                }
                return (TlsEnd::Broken, Vec::new(), None);
            }
        };
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let rec: SeenRec = Arc::default();
        let server_name = match ServerName::try_from(host.to_owned()) {
            Ok(n) => n,
            Err(e) => {
                self.push(
                    checks::TLS_HANDSHAKE,
                    Status::Fail,
                    format!("`{host}` cannot be used as a TLS server name: {e}"),
                    vec![],
                    Some("Use a host name or an IP address in the URL.".into()),
                    t,
                );
                for def in &tls_defs()[1..] {
                    self.skip(*def, "no TLS server name (C-TLS-HANDSHAKE)");
                }
                return (TlsEnd::Broken, Vec::new(), None);
            }
        };
        let config =
            WebPkiServerVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&provider))
                .build()
                .map_err(|e| e.to_string())
                .and_then(|inner| {
                    rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
                        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
                        .map_err(|e| e.to_string())
                        .map(|b| {
                            b.dangerous()
                                .with_custom_certificate_verifier(Arc::new(DiagVerifier {
                                    inner,
                                    rec: Arc::clone(&rec),
                                }))
                                .with_client_cert_resolver(Arc::new(DiagResolver {
                                    key: id.certified.clone(),
                                    rec: Arc::clone(&rec),
                                }))
                        })
                });
        let mut config = match config {
            Ok(c) => c,
            Err(e) => {
                self.push(
                    checks::TLS_HANDSHAKE,
                    Status::Fail,
                    format!("cannot configure TLS: {e}"),
                    vec![],
                    Some("Check the --ca files: each must be a CA certificate.".into()),
                    t,
                );
                for def in &tls_defs()[1..] {
                    self.skip(*def, "no TLS configuration (C-TLS-HANDSHAKE)");
                }
                return (TlsEnd::Broken, Vec::new(), None);
            }
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.resumption = rustls::client::Resumption::disabled();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let peer = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let result = tokio::time::timeout(
            self.opts.connect_timeout,
            connector.connect(server_name.clone(), stream),
        )
        .await;
        let seen_chain = note(&rec, |s| s.chain.clone());
        let server_chain: Vec<CertPanel> = seen_chain
            .iter()
            .filter_map(|c| cert::parse(c, self.now).map(|c| c.panel))
            .collect();

        let (end, handshake_error, mut tls_stream, suite, version) = match result {
            Err(_) => {
                self.push(checks::TLS_HANDSHAKE, Status::Fail, format!("no TLS answer from {peer} within {:?}", self.opts.connect_timeout), vec![Fact::new("peer", peer.clone()), Fact::new("waited", ms(t.elapsed()))],
                    Some(format!("Something accepts TCP at {peer} but does not speak TLS: check the port and that the URL is https (FK: test 8020, production 7020); if a proxy or TLS inspection sits in between, ask for a direct route.")), t);
                (TlsEnd::Broken, None, None, None, None)
            }
            Ok(Ok(s)) => {
                let conn = s.get_ref().1;
                let version = conn.protocol_version().map(version_name);
                let suite = conn
                    .negotiated_cipher_suite()
                    .map(|cs| format!("{:?}", cs.suite()));
                let alpn = conn
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .unwrap_or_else(|| "none".into());
                self.push(
                    checks::TLS_HANDSHAKE,
                    Status::Pass,
                    format!(
                        "{} {}",
                        version.clone().unwrap_or_default(),
                        suite.clone().unwrap_or_default()
                    ),
                    vec![
                        Fact::new("peer", peer.clone()),
                        Fact::new("tls version", version.clone().unwrap_or_default()),
                        Fact::new("cipher suite", suite.clone().unwrap_or_default()),
                        Fact::new("alpn", alpn),
                        Fact::new("time", ms(t.elapsed())),
                    ],
                    None,
                    t,
                );
                (TlsEnd::Done, None, Some(s), suite, version)
            }
            Ok(Err(e)) => {
                let tls_err = rustls_error(&e);
                match (&tls_err, seen_chain.is_empty()) {
                    (Some(rustls::Error::InvalidCertificate(_)), _) => {
                        self.push(
                            checks::TLS_HANDSHAKE,
                            Status::Pass,
                            "the server speaks TLS; the handshake stopped at its certificate",
                            vec![
                                Fact::new("peer", peer.clone()),
                                Fact::new("error", e.to_string()),
                            ],
                            None,
                            t,
                        );
                        (TlsEnd::ServerCertRefused, tls_err, None, None, None)
                    }
                    (Some(rustls::Error::AlertReceived(alert)), false) => {
                        self.push(
                            checks::TLS_HANDSHAKE,
                            Status::Pass,
                            format!(
                                "the server speaks TLS; it ended the handshake with alert {}",
                                alert_name(*alert)
                            ),
                            vec![
                                Fact::new("peer", peer.clone()),
                                Fact::new("alert", alert_name(*alert)),
                            ],
                            None,
                            t,
                        );
                        (TlsEnd::Alert, tls_err, None, None, None)
                    }
                    (Some(rustls::Error::AlertReceived(alert)), true) => {
                        self.push(checks::TLS_HANDSHAKE, Status::Fail, format!("the server refused the handshake with alert {}", alert_name(*alert)), vec![Fact::new("peer", peer.clone()), Fact::new("alert", alert_name(*alert))],
                            Some("The server and this client share no TLS version or cipher suite (TLS 1.2 and 1.3 are offered), or the server refuses the name asked for: check the URL's host name and port.".into()), t);
                        (TlsEnd::Broken, tls_err, None, None, None)
                    }
                    _ => {
                        self.push(checks::TLS_HANDSHAKE, Status::Fail, format!("the TLS handshake with {peer} failed: {e}"), vec![Fact::new("peer", peer.clone()), Fact::new("error", e.to_string())],
                            Some(format!("Something at {peer} does not complete a TLS handshake: check the port and that the URL is https; a proxy or TLS inspection in between breaks mutual TLS.")), t);
                        (TlsEnd::Broken, tls_err, None, None, None)
                    }
                }
            }
        };
        let _ = version;

        // Server certificate: trust, name and validity, each judged on its own.
        if seen_chain.is_empty() {
            for def in [
                checks::TLS_SERVER_TRUST,
                checks::TLS_SERVER_NAME,
                checks::TLS_SERVER_VALID,
            ] {
                self.skip(def, "the server presented no certificate (C-TLS-HANDSHAKE)");
            }
        } else {
            self.server_cert_checks(
                &seen_chain,
                &roots,
                &provider,
                &server_name,
                host,
                handshake_error.as_ref(),
            );
        }

        // Authorities the server accepts for client certificates.
        let seen = note(&rec, std::mem::take);
        let t = Instant::now();
        if !seen.cert_requested {
            if matches!(end, TlsEnd::Done) {
                self.push(checks::TLS_CA_NAMES, Status::Warn, "the server did not ask for a client certificate", vec![], Some("FK's service always asks for one: you may be talking to something else (a proxy, TLS inspection, the wrong port).".into()), t);
            } else {
                self.skip(
                    checks::TLS_CA_NAMES,
                    "the handshake stopped before the server asked for a client certificate",
                );
            }
        } else {
            let names: Vec<String> = seen.ca_names.iter().map(|n| cert::dn_text(n)).collect();
            let mut facts: Vec<Fact> = names
                .iter()
                .map(|n| Fact::new("accepted authority", n.clone()))
                .collect();
            if names.is_empty() {
                facts.push(Fact::new("accepted authority", "(none named)"));
                self.push(
                    checks::TLS_CA_NAMES,
                    Status::Pass,
                    "the server asks for a client certificate and names no authority",
                    facts,
                    None,
                    t,
                );
            } else if id.chain.is_empty() {
                self.push(
                    checks::TLS_CA_NAMES,
                    Status::Pass,
                    format!("the server accepts certificates from {}", names.join("; ")),
                    facts,
                    None,
                    t,
                );
            } else {
                let wanted: Vec<Vec<u8>> = seen.ca_names.iter().map(|n| cert::wrap_dn(n)).collect();
                let issuers: Vec<(Vec<u8>, String)> = id
                    .chain
                    .iter()
                    .filter_map(|c| cert::parse(c, self.now))
                    .map(|c| (c.x509.issuer().as_raw().to_vec(), c.panel.issuer.clone()))
                    .collect();
                let leaf_issuer = issuers.first().map(|i| i.1.clone()).unwrap_or_default();
                facts.push(Fact::new("client certificate issuer", leaf_issuer.clone()));
                match issuers.iter().find(|(raw, _)| wanted.contains(raw)) {
                    Some((_, name)) => self.push(checks::TLS_CA_NAMES, Status::Pass, format!("the server accepts {name}, which issued the client chain"), facts, None, t),
                    None => self.push(checks::TLS_CA_NAMES, Status::Warn, format!("the client certificate's issuer {leaf_issuer} is not among the {} authorities the server names", names.len()),
                        facts, Some(format!("The server will likely refuse this certificate: use a certificate issued under {} (for FK, the one ordered from Expisoft), with its intermediates.", names.join("; "))), t),
                }
            }
        }

        // The server's verdict on the client certificate.
        let t = Instant::now();
        let sent = if seen.client_cert_sent { "yes" } else { "no" };
        match end {
            TlsEnd::NotRun => {}
            TlsEnd::Broken => self.skip(
                checks::TLS_CLIENT_CERT,
                "the TLS handshake did not complete (C-TLS-HANDSHAKE)",
            ),
            TlsEnd::ServerCertRefused => self.skip(
                checks::TLS_CLIENT_CERT,
                "the client refused the server's certificate first (C-TLS-SERVER-*)",
            ),
            TlsEnd::Alert => {
                let alert = match handshake_error {
                    Some(rustls::Error::AlertReceived(a)) => a,
                    _ => AlertDescription::HandshakeFailure,
                };
                self.client_cert_refused(alert, sent, id, t, "during the handshake");
            }
            TlsEnd::Done => {
                let s = tls_stream
                    .as_mut()
                    .expect("a completed handshake has a stream");
                let mut buf = [0u8; 1];
                let after = tokio::time::timeout(self.opts.alert_wait, s.read(&mut buf)).await;
                let facts = vec![
                    Fact::new("client certificate sent", sent),
                    Fact::new("listened after the handshake", ms(self.opts.alert_wait)),
                ];
                match after {
                    Err(_) | Ok(Ok(1..)) => {
                        if !seen.cert_requested {
                            self.push(checks::TLS_CLIENT_CERT, Status::Warn, "no client certificate was asked for, so none was checked", facts, Some("Mutual TLS is not proven: FK's service asks for the certificate; check that you reach the right host and port.".into()), t);
                        } else if !seen.client_cert_sent {
                            self.push(checks::TLS_CLIENT_CERT, Status::Warn, "the server asked for a client certificate, none was sent, and it did not object", facts, Some("Pass the certificate from Expisoft with --p12 or --cert/--key: FK refuses connections without it.".into()), t);
                        } else {
                            self.push(checks::TLS_CLIENT_CERT, Status::Pass, format!("accepted: no alert within {} after the handshake", ms(self.opts.alert_wait)), facts, None, t);
                        }
                    }
                    Ok(Err(e)) => match rustls_error(&e) {
                        Some(rustls::Error::AlertReceived(alert)) => self.client_cert_refused(alert, sent, id, t, "after the handshake"),
                        _ => self.push(checks::TLS_CLIENT_CERT, Status::Fail, format!("the connection failed right after the handshake: {e}"), facts, Some("The server dropped the connection without naming a reason: check with the server's operator that this certificate is registered for the service.".into()), t),
                    },
                    Ok(Ok(0)) => self.push(checks::TLS_CLIENT_CERT, Status::Warn, "the server closed the connection right after the handshake, without an alert", facts, Some("Some servers close silently when they refuse a certificate: if the HTTP check fails too, ask the server's operator whether this certificate is registered.".into()), t),
                }
                // Close politely; errors here change nothing.
                let _ = tokio::time::timeout(
                    Duration::from_millis(200),
                    tokio::io::AsyncWriteExt::shutdown(s),
                )
                .await;
            }
        }
        (end, server_chain, suite)
    }

    fn client_cert_refused(
        &mut self,
        alert: AlertDescription,
        sent: &str,
        id: &IdState,
        t: Instant,
        when_: &str,
    ) {
        let name = alert_name(alert);
        let facts = vec![
            Fact::new("alert", name.clone()),
            Fact::new("alert code", u8::from(alert).to_string()),
            Fact::new("client certificate sent", sent),
            Fact::new("when", when_),
        ];
        let issuer = id
            .chain
            .first()
            .and_then(|c| cert::parse(c, self.now))
            .map(|c| c.panel.issuer)
            .unwrap_or_default();
        let remedy = match alert {
            AlertDescription::CertificateRequired => "The server requires a client certificate: pass the certificate from Expisoft with --p12 FILE or --cert FILE --key FILE.".to_owned(),
            AlertDescription::UnknownCA => format!("The server does not trust the authority that issued the client certificate ({issuer}): use the certificate FK accepts (ordered from Expisoft) and include its intermediate certificates."),
            AlertDescription::BadCertificate => "The server could not verify the client certificate (a broken chain, a missing intermediate, or a key that does not match): include the intermediates and check the key.".to_owned(),
            AlertDescription::CertificateExpired => "The server says the client certificate has expired: order a new one from Expisoft.".to_owned(),
            AlertDescription::CertificateRevoked => "The client certificate has been revoked: order a new one from Expisoft.".to_owned(),
            AlertDescription::UnsupportedCertificate => "The server does not accept this kind of certificate (key type or usage): use the certificate Expisoft issued for the connection.".to_owned(),
            AlertDescription::AccessDenied => "The certificate is valid but not allowed: ask FK whether the connection agreement for this certificate is in place.".to_owned(),
            AlertDescription::HandshakeFailure => "The server ended the handshake without a specific reason: most often it refused the client certificate; check it is the one registered with FK.".to_owned(),
            _ => format!("The server refused the connection with `{name}`: show this alert to the server's operator."),
        };
        self.push(
            checks::TLS_CLIENT_CERT,
            Status::Fail,
            format!("refused: the server sent TLS alert `{name}` {when_}"),
            facts,
            Some(remedy),
            t,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn server_cert_checks(
        &mut self,
        chain: &[CertificateDer<'static>],
        roots: &RootCertStore,
        provider: &rustls::crypto::CryptoProvider,
        server_name: &ServerName<'static>,
        host: &str,
        handshake_error: Option<&rustls::Error>,
    ) {
        let now = self.now;
        let Some(leaf) = cert::parse(&chain[0], now) else {
            for def in [
                checks::TLS_SERVER_TRUST,
                checks::TLS_SERVER_NAME,
                checks::TLS_SERVER_VALID,
            ] {
                self.skip(def, "the server's certificate cannot be parsed");
            }
            return;
        };
        let panel = leaf.panel.clone();
        let parsed = rustls::server::ParsedCertificate::try_from(&chain[0]);
        let algs = provider.signature_verification_algorithms.all;
        let refused_for_other = matches!(handshake_error, Some(rustls::Error::InvalidCertificate(e)) if !matches!(e,
            rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature
            | rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. }
            | rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. }
            | rustls::CertificateError::NotValidYet | rustls::CertificateError::NotValidYetContext { .. }));

        // Trust: judged at a moment inside the certificate's validity, so that an expired
        // certificate from a trusted authority is reported as expired, not as untrusted.
        let t = Instant::now();
        let half: time::Duration = (panel.not_after - panel.not_before) / 2;
        let mid: OffsetDateTime = panel.not_before + half;
        let at =
            UnixTime::since_unix_epoch(Duration::from_secs(mid.unix_timestamp().max(0) as u64));
        let trust = parsed.as_ref().map_err(|e| e.clone()).and_then(|p| {
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                p,
                roots,
                &chain[1..],
                at,
                algs,
            )
        });
        let facts = vec![
            Fact::new("subject", panel.subject.clone()),
            Fact::new("issuer", panel.issuer.clone()),
            Fact::new("certificates presented", chain.len().to_string()),
            Fact::new(
                "trust anchors",
                format!(
                    "{} ({} from --ca{})",
                    roots.len(),
                    self.opts.extra_roots.len(),
                    if self.opts.use_system_roots {
                        " plus the system bundle"
                    } else {
                        ""
                    }
                ),
            ),
            Fact::new("sha256", panel.sha256.clone()),
        ];
        match (trust, refused_for_other) {
            (Ok(()), false) => self.push(checks::TLS_SERVER_TRUST, Status::Pass, format!("issued by {}, a trusted authority", panel.issuer), facts, None, t),
            (Ok(()), true) => {
                let e = handshake_error.map(|e| e.to_string()).unwrap_or_default();
                self.push(checks::TLS_SERVER_TRUST, Status::Fail, format!("refused by the certificate verifier: {e}"), facts, Some("The server's certificate is not usable for TLS here (revoked, wrong purpose or a broken extension): tell the server's operator.".into()), t);
            }
            (Err(e), _) => self.push(checks::TLS_SERVER_TRUST, Status::Fail, format!("not trusted: issuer {} is not a trusted authority ({e})", panel.issuer), facts,
                Some(format!("Pass the certificate of the authority that issued the server's certificate ({}) with --ca FILE: for FK, the CA named in FK's onboarding material; for the stand-in, its dev CA (ca.pem).", panel.issuer)), t),
        }

        // Name
        let t = Instant::now();
        let facts = vec![
            Fact::new("host", host),
            Fact::new("names in certificate", panel.sans.join(", ")),
        ];
        let name_ok = parsed
            .as_ref()
            .map_err(|e| e.clone())
            .and_then(|p| rustls::client::verify_server_name(p, server_name));
        match name_ok {
            Ok(()) => self.push(
                checks::TLS_SERVER_NAME,
                Status::Pass,
                format!("valid for {host}"),
                facts,
                None,
                t,
            ),
            Err(_) => {
                let remedy = if host.parse::<IpAddr>().is_ok() {
                    let first = panel
                        .sans
                        .iter()
                        .find_map(|s| s.strip_prefix("DNS:"))
                        .unwrap_or("NAME")
                        .to_owned();
                    format!("Connect by the name on the certificate: use https://{first}:PORT/… with --resolve {first}:PORT:{host}.")
                } else {
                    format!("The certificate is for {}, not {host}: you reached a different server (a proxy, TLS inspection or the wrong address); check the URL, DNS and --resolve.", if panel.sans.is_empty() { panel.subject.clone() } else { panel.sans.join(", ") })
                };
                self.push(
                    checks::TLS_SERVER_NAME,
                    Status::Fail,
                    format!(
                        "not valid for {host}: the certificate names {}",
                        if panel.sans.is_empty() {
                            "no alternative names".into()
                        } else {
                            panel.sans.join(", ")
                        }
                    ),
                    facts,
                    Some(remedy),
                    t,
                );
            }
        }

        // Validity
        let t = Instant::now();
        let facts = vec![
            Fact::new("not before", when(panel.not_before)),
            Fact::new("not after", when(panel.not_after)),
            Fact::new("days left", panel.days_left.to_string()),
        ];
        if now > panel.not_after {
            self.push(checks::TLS_SERVER_VALID, Status::Fail, format!("expired {}", when(panel.not_after)), facts, Some("The server's certificate has expired: if this is FK's host, tell FK's support; for a stand-in, make new certificates (eioa certs init).".into()), t);
        } else if now < panel.not_before {
            self.push(
                checks::TLS_SERVER_VALID,
                Status::Fail,
                format!("not valid before {}", when(panel.not_before)),
                facts,
                Some(
                    "The server's certificate is not valid yet: check this machine's clock.".into(),
                ),
                t,
            );
        } else {
            self.push(
                checks::TLS_SERVER_VALID,
                Status::Pass,
                format!(
                    "valid until {} ({} days left)",
                    when(panel.not_after),
                    panel.days_left
                ),
                facts,
                None,
                t,
            );
        }
    }

    // ---- HTTP and SOAP ---------------------------------------------------------------------

    async fn soap(
        &mut self,
        id: &IdState,
        host: &str,
        cipher_suite: Option<String>,
    ) -> Option<ExchangeSummary> {
        let Some(request) = self.opts.request.clone() else {
            for def in [checks::HTTP, checks::SOAP, checks::SOAP_TIME] {
                self.skip(def, "no request to send was given");
            }
            return None;
        };
        let t = Instant::now();
        let identity = match (&id.key, id.chain.is_empty()) {
            (Some(key), false) if id.usable => {
                Identity::from_der(id.chain.clone(), key.clone_key()).ok()
            }
            _ => None,
        };
        let client = Client::new(ClientConfig {
            identity,
            extra_roots: self.opts.extra_roots.clone(),
            use_system_roots: self.opts.use_system_roots,
            connect_timeout: self.opts.connect_timeout,
            total_timeout: self.opts.total_timeout,
            // The probe paces every connection to FK's hosts itself (below).
            pace: Pace::default(),
            resolve: self.opts.resolve.clone(),
            ..ClientConfig::default()
        });
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                self.push(
                    checks::HTTP,
                    Status::Fail,
                    format!("cannot set up the client: {}", error_text(&e)),
                    vec![],
                    Some("Fix the client identity first (see the C-ID checks).".into()),
                    t,
                );
                for def in [checks::SOAP, checks::SOAP_TIME] {
                    self.skip(def, "no HTTP exchange (C-HTTP)");
                }
                return None;
            }
        };
        self.pace(host).await;
        let url = self.opts.target.url();
        let result = client
            .post_soap(
                &self.opts.target,
                eioa_model::soap::SOAP_ACTION,
                request.body.clone(),
            )
            .await;
        let ex = match result {
            Ok(ex) => ex,
            Err(e) => {
                let delivery = e.delivery();
                let mut facts = vec![
                    Fact::new("error", error_text(&e)),
                    Fact::new("delivery", delivery_id(delivery)),
                ];
                if let Some(ex) = e.exchange() {
                    facts.push(Fact::new("time", ms(ex.timings.total)));
                }
                let remedy = match (&e, delivery) {
                    (ClientError::ResponseTimeout { after, .. }, _) => format!("No answer within {after:?}. The request may have reached the service and was not resent: note the time and ask FK's support before sending it again."),
                    (_, Delivery::MaybeSent) => "The connection broke after the request was written: it may have reached the service and was not resent; ask FK's support before sending it again.".into(),
                    (ClientError::HandshakeAlert { .. }, _) => "The server refused the TLS connection for the exchange: see C-TLS-CLIENT-CERT.".into(),
                    _ => "The exchange failed before anything was sent: fix the cause named and run the test again.".into(),
                };
                self.push(
                    checks::HTTP,
                    Status::Fail,
                    format!("no HTTP answer: {}", error_text(&e)),
                    facts,
                    Some(remedy),
                    t,
                );
                for def in [checks::SOAP, checks::SOAP_TIME] {
                    self.skip(def, "no HTTP answer (C-HTTP)");
                }
                let summary = e
                    .exchange()
                    .map(|ex| self.summary(ex, &request, cipher_suite.clone(), None, None, None));
                return summary;
            }
        };

        // HTTP
        let status = ex.status.unwrap_or(0);
        let content_type = ex.response_header("content-type").map(str::to_owned);
        let ct = content_type.clone().unwrap_or_else(|| "(none)".into());
        let facts = vec![
            Fact::new("status", status.to_string()),
            Fact::new("content type", ct.clone()),
            Fact::new("path", url.path()),
            Fact::new("time", ms(ex.timings.total)),
        ];
        let xml = ct.to_ascii_lowercase().contains("xml");
        let http_ok = match status {
            200 | 500 if xml => {
                self.push(
                    checks::HTTP,
                    Status::Pass,
                    format!("HTTP {status}, {ct}"),
                    facts,
                    None,
                    t,
                );
                true
            }
            200 | 500 => {
                self.push(checks::HTTP, Status::Fail, format!("HTTP {status} with {ct}, not a SOAP answer"), facts, Some("Something other than the E-IOA service answered (a proxy, a login page, a load balancer): check the URL and that nothing intercepts the connection.".into()), t);
                false
            }
            404 => {
                self.push(
                    checks::HTTP,
                    Status::Fail,
                    format!("HTTP 404: no service at {}", url.path()),
                    facts,
                    Some(path_remedy(host, url.path())),
                    t,
                );
                false
            }
            503 => {
                self.push(checks::HTTP, Status::Fail, "HTTP 503: the service is unavailable", facts, Some("The service is down or refusing calls (maintenance, or too many calls): wait and run the test again later; nothing was resent.".into()), t);
                false
            }
            other => {
                self.push(checks::HTTP, Status::Fail, format!("HTTP {other}, {ct}"), facts, Some(format!("The service answered HTTP {other}: check the URL ({}) and the request; show the response to the service's operator.", url)), t);
                false
            }
        };

        // SOAP
        let t = Instant::now();
        let mut tx_id = None;
        let mut fault = None;
        let mut fault_message = None;
        if !http_ok {
            self.skip(
                checks::SOAP,
                "the HTTP answer is not a SOAP answer (C-HTTP)",
            );
            self.skip(
                checks::SOAP_TIME,
                "the HTTP answer is not a SOAP answer (C-HTTP)",
            );
        } else {
            use eioa_model::soap::{FaultDetail, Response};
            match Response::parse(&ex.response_body) {
                Ok(Response::Accepted { tx_id: tx }) => {
                    self.push(checks::SOAP, Status::Pass, format!("accepted: tx-id {tx}"), vec![Fact::new("tx-id", tx.clone()), Fact::new("signature", request.signature.id())], None, t);
                    tx_id = Some(tx);
                }
                Ok(Response::Fault(f)) => {
                    let (kind, message) = match &f.detail {
                        Some(FaultDetail::XmlValidationError { message }) => ("XmlValidationError", message.clone()),
                        Some(FaultDetail::SignatureValidationError { message }) => ("SignatureValidationError", message.clone()),
                        _ => ("Fault", format!("{}: {}", f.faultcode, f.faultstring)),
                    };
                    let shown = if self.opts.redact { eioa_model::redact::redact_xml(&message) } else { message.clone() };
                    let facts = vec![Fact::new("fault", kind), Fact::new("message", shown.clone()), Fact::new("faultcode", f.faultcode.clone()), Fact::new("signature", request.signature.id())];
                    match kind {
                        "XmlValidationError" => self.push(checks::SOAP, Status::Warn, format!("XmlValidationError: {shown}"), facts,
                            Some("The connection works; the service refused the notification's XML: run `eioa validate` on it and fix what the message names.".into()), t),
                        "SignatureValidationError" => {
                            let remedy = match request.signature {
                                SignatureKind::HarnessTest => "The connection works; the service does not trust the harness's test signature (FK never does): to reach accepted, send a notification signed in BankID's test environment with --notification FILE --signature FILE --ocsp FILE.",
                                SignatureKind::BankId => "The connection works; the service refused the BankID signature: check that it signs exactly this notification (its id and SHA-256 binding) and that the OCSP response belongs to it.",
                            };
                            self.push(checks::SOAP, Status::Warn, format!("SignatureValidationError: {shown}"), facts, Some(remedy.into()), t);
                        }
                        _ => self.push(checks::SOAP, Status::Fail, format!("a SOAP fault without an E-IOA detail: {shown}"), facts,
                            Some("The service answered with a generic fault, which does not prove the E-IOA service: run the test again later, and show the time and fault to FK's support if it persists.".into()), t),
                    }
                    fault = Some(kind.to_owned());
                    fault_message = Some(shown);
                }
                Err(e) => self.push(checks::SOAP, Status::Fail, format!("the answer is not an E-IOA SOAP response: {e}"), vec![Fact::new("error", e.to_string())],
                    Some("Something other than the E-IOA service answered: check the URL and that nothing intercepts the connection.".into()), t),
            }
            let t = Instant::now();
            let total = ex.timings.total;
            let facts = vec![
                Fact::new("answer time", ms(total)),
                Fact::new("expected under", ms(FK_ANSWER_EXPECTATION)),
            ];
            if total > FK_ANSWER_EXPECTATION {
                self.push(checks::SOAP_TIME, Status::Warn, format!("answered in {}, over FK's 2 s", ms(total)), facts,
                    Some("Slower than FK's backend normally is: fine once, but if it repeats, check the network path (a proxy, a slow link) and allow at least 30 s before timing out; never resend on a timeout.".into()), t);
            } else {
                self.push(
                    checks::SOAP_TIME,
                    Status::Pass,
                    format!("answered in {}", ms(total)),
                    facts,
                    None,
                    t,
                );
            }
        }
        Some(self.summary(&ex, &request, cipher_suite, tx_id, fault, fault_message))
    }

    fn summary(
        &self,
        ex: &crate::exchange::Exchange,
        request: &SoapRequest,
        cipher_suite: Option<String>,
        tx_id: Option<String>,
        fault: Option<String>,
        fault_message: Option<String>,
    ) -> ExchangeSummary {
        let text = |b: &[u8]| {
            let t = String::from_utf8_lossy(b).into_owned();
            if self.opts.redact {
                eioa_model::redact::redact_xml(&t)
            } else {
                t
            }
        };
        ExchangeSummary {
            url: ex.url.clone(),
            started_at: ex.started_at,
            signature: request.signature.id().into(),
            delivery: delivery_id(ex.delivery).into(),
            tls_version: ex.tls_version.clone(),
            cipher_suite,
            server_cert_sha256: ex.server_cert_sha256.clone(),
            client_cert_sha256: ex.client_cert_sha256.clone(),
            http_status: ex.status,
            content_type: ex.response_header("content-type").map(str::to_owned),
            tx_id,
            fault,
            fault_message,
            connect_ms: ex.timings.connect.map(|d| d.as_secs_f64() * 1000.0),
            total_ms: ex.timings.total.as_secs_f64() * 1000.0,
            request: text(&ex.request_body),
            response: text(&ex.response_body),
            redacted: self.opts.redact,
        }
    }

    // ---- verdict ----------------------------------------------------------------------------

    fn level(&self, exchange: Option<&ExchangeSummary>) -> (Level, String, Option<String>) {
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
            match blocking {
                Some(c) => format!(
                    "For {}: {} ({})",
                    next.title(),
                    c.remedy.clone().unwrap_or_default(),
                    c.id
                ),
                None => match next {
                    Level::FkAnswered | Level::Accepted if self.opts.request.is_none() => format!(
                        "For {}: send a notification (the test had no request to send).",
                        next.title()
                    ),
                    Level::MutualTls if !self.opts.target.url().scheme().eq("https") => {
                        "For mutual TLS accepted: test an https URL.".to_owned()
                    }
                    _ => format!("For {}: see the checks above.", next.title()),
                },
            }
        });
        (level, verdict, hint)
    }
}

fn tls_defs() -> [CheckDef; 6] {
    [
        checks::TLS_HANDSHAKE,
        checks::TLS_SERVER_TRUST,
        checks::TLS_SERVER_NAME,
        checks::TLS_SERVER_VALID,
        checks::TLS_CA_NAMES,
        checks::TLS_CLIENT_CERT,
    ]
}

fn passed(s: Status) -> bool {
    matches!(s, Status::Pass | Status::Warn)
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn delivery_id(d: Delivery) -> &'static str {
    match d {
        Delivery::NotSent => "not-sent",
        Delivery::MaybeSent => "maybe-sent",
        Delivery::Answered => "answered",
    }
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// An error and its causes on one line.
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
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
fn rustls_error(e: &std::io::Error) -> Option<rustls::Error> {
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
fn path_remedy(host: &str, path: &str) -> String {
    let test = eioa_test_path();
    let prod = eioa_prod_path();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h == FK_TEST_ADDR.0 && path == prod {
        format!("This is the production path on the test host: FK's test service is at {test} (with the .ext suffix).")
    } else if h == FK_PROD_ADDR.0 && path == test {
        format!("This is the test path on the production host: FK's production service is at {prod} (without .ext).")
    } else if h == FK_TEST_ADDR.0 || h == FK_PROD_ADDR.0 {
        format!("No E-IOA service at {path}: FK's test path is {test} (with .ext, port 8020), production's is {prod} (port 7020).")
    } else {
        format!("No service at {path}: E-IOA's paths are {test} (test) and {prod} (production); check the URL.")
    }
}

fn eioa_test_path() -> &'static str {
    "/shs2/FK.EIOA.AnmalanArbetsgivare.ext"
}

fn eioa_prod_path() -> &'static str {
    "/shs2/FK.EIOA.AnmalanArbetsgivare"
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
        assert!(r.contains("production path on the test host"), "{r}");
        assert!(r.contains(".ext"), "{r}");
        let r = path_remedy(
            "shs.forsakringskassan.se",
            "/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
        );
        assert!(r.contains("test path on the production host"), "{r}");
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
