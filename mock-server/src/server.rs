//! The standalone stand-in: tokio + hyper 1 + tokio-rustls around [`eioa_fk::Fk`].
//!
//! The server decides nothing about FK's verdicts: every request that is not hit by
//! an injected fault or a transport limit goes to [`eioa_fk::Fk::handle`] with the
//! peer's certificate. Every answered request is journaled before it is answered.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use eioa_fk::{Fk, FkConfig, HttpRequest, HttpResponse, Verdict, PATH_PROD, PATH_TEST};
use eioa_model::soap::{Fault, Response as SoapResponse};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::certs::fingerprint;
use crate::faults::{ConnectionFault, FaultConfig, FaultConfigError, Injector, RequestFault};
use crate::fkhost::FkHost;
use crate::hostnames::{name_matches, HostNames};
use crate::journal::{Journal, JournalConfig, JournalError, Record};
use crate::pacing::{Pacer, PacingConfig};
use crate::tls::{PemIdentity, TlsError};

/// How the server talks to clients.
#[derive(Debug, Clone)]
pub enum Transport {
    /// TLS 1.2/1.3 with a client certificate required and verified against
    /// `client_ca_pem` (FK's set-up; the default).
    MutualTls {
        identity: PemIdentity,
        client_ca_pem: Vec<u8>,
    },
    /// TLS without client authentication. Local runs only; logged loudly.
    TlsNoClientAuth { identity: PemIdentity },
    /// Plain HTTP. Local runs only; logged loudly.
    PlainHttp,
}

/// Transport limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Larger request bodies get 413 with a SOAP fault.
    pub max_body_bytes: usize,
    /// Time allowed for a request's headers, and for an idle keep-alive connection.
    pub header_timeout: Duration,
    /// Time allowed for a request's body once its headers arrived.
    pub body_timeout: Duration,
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: eioa_fk::DEFAULT_MAX_BODY_BYTES,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 512,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub listen: SocketAddr,
    pub transport: Transport,
    /// FK's behaviour. With `base_url = None` a served WSDL names the server as
    /// the request's `Host` header does, when that is one of the server's names
    /// (see [`crate::hostnames`]); `Some` fixes it.
    pub fk: FkConfig,
    /// Pose as one of FK's hosts: serve only its path (the other environment's
    /// path answers 404), and refuse to start unless the server certificate
    /// carries the host's name.
    pub pose_as: Option<FkHost>,
    pub journal: JournalConfig,
    pub faults: FaultConfig,
    pub pacing: PacingConfig,
    pub limits: Limits,
}

impl MockConfig {
    /// Defaults: no faults, pacing observed at 1 call/s (not enforced), default
    /// limits, fsynced journal in `data_dir`.
    pub fn new(
        listen: SocketAddr,
        transport: Transport,
        fk: FkConfig,
        data_dir: impl Into<PathBuf>,
    ) -> MockConfig {
        MockConfig {
            listen,
            transport,
            fk,
            pose_as: None,
            journal: JournalConfig::new(data_dir),
            faults: FaultConfig::default(),
            pacing: PacingConfig::default(),
            limits: Limits::default(),
        }
    }
}

/// Failures starting the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    #[error("set up tls")]
    Tls(#[from] TlsError),
    #[error("open the journal")]
    Journal(#[from] JournalError),
    #[error("invalid fault injection settings")]
    Faults(#[from] FaultConfigError),
    #[error("listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("invalid limits: {0}")]
    Limits(String),
    #[error(
        "cannot pose as FK's {environment} host: the server certificate {cert} is not valid \
         for {host} (its names: {names}); a client checking FK's host name would refuse it. \
         Make one with `eioa certs init DIR --fk-hosts` and start with --pki-dir DIR"
    )]
    NotFkHost {
        environment: &'static str,
        host: &'static str,
        cert: String,
        names: String,
    },
    #[error("cannot pose as FK's {environment} host over plain HTTP: FK only speaks mutual TLS")]
    PoseWithoutTls { environment: &'static str },
}

/// Counters, for tests and the shutdown summary.
#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    handshake_failures: AtomicU64,
    requests: AtomicU64,
    journal_failures: AtomicU64,
}

/// A snapshot of the server's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    pub handshake_failures: u64,
    pub requests: u64,
    pub journal_failures: u64,
}

struct State {
    fk: Arc<Fk>,
    /// For WSDLs named after the request's Host (see [`docs_fk`]); `None` when
    /// the configuration fixed the WSDL's base URL.
    docs_config: Option<FkConfig>,
    hosts: HostNames,
    pose_as: Option<FkHost>,
    journal: Arc<Journal>,
    injector: Arc<Injector>,
    pacer: Pacer,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
    counters: Counters,
}

/// The server in its own tasks; stop it with [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    scheme: &'static str,
    shutdown_tx: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    state: Arc<State>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("journal", &self.journal.dir())
            .finish_non_exhaustive()
    }
}

/// The standalone stand-in.
#[derive(Debug)]
pub struct MockServer;

impl MockServer {
    /// Binds, opens the journal and starts serving. Must be called inside a tokio
    /// runtime.
    pub async fn start(mut cfg: MockConfig) -> Result<RunningServer, MockError> {
        cfg.faults.validate()?;
        if cfg.limits.max_connections == 0 || cfg.limits.max_body_bytes == 0 {
            return Err(MockError::Limits(
                "max connections and max body bytes must be above 0".into(),
            ));
        }
        let cert_names = match &cfg.transport {
            Transport::MutualTls { identity, .. } | Transport::TlsNoClientAuth { identity } => {
                match crate::tls::leaf_names(identity) {
                    Ok(names) => names,
                    // rustls may still serve a certificate whose extensions x509-parser
                    // refuses; then only the listen address is known as a name.
                    Err(e @ TlsError::Names { .. }) if cfg.pose_as.is_none() => {
                        eprintln!(
                            "eioa-mock-server: WARNING: {e}; WSDL links name the listen address"
                        );
                        Vec::new()
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Transport::PlainHttp => Vec::new(),
        };
        if let Some(pose) = cfg.pose_as {
            match &cfg.transport {
                Transport::PlainHttp => {
                    return Err(MockError::PoseWithoutTls {
                        environment: pose.environment(),
                    })
                }
                Transport::MutualTls { identity, .. } | Transport::TlsNoClientAuth { identity } => {
                    if !cert_names.iter().any(|n| name_matches(n, pose.host_name())) {
                        return Err(MockError::NotFkHost {
                            environment: pose.environment(),
                            host: pose.host_name(),
                            cert: identity.origin.clone(),
                            names: if cert_names.is_empty() {
                                "none".into()
                            } else {
                                cert_names.join(", ")
                            },
                        });
                    }
                }
            }
        }
        let (acceptor, scheme) = match &cfg.transport {
            Transport::MutualTls {
                identity,
                client_ca_pem,
            } => (
                Some(TlsAcceptor::from(crate::tls::server_config(
                    identity,
                    Some(client_ca_pem),
                )?)),
                "https",
            ),
            Transport::TlsNoClientAuth { identity } => {
                eprintln!(
                    "eioa-mock-server: WARNING: client certificates are NOT required (--no-client-auth). \
                     FK requires them; use this for local experiments only."
                );
                (
                    Some(TlsAcceptor::from(crate::tls::server_config(
                        identity, None,
                    )?)),
                    "https",
                )
            }
            Transport::PlainHttp => {
                eprintln!(
                    "eioa-mock-server: WARNING: serving PLAIN HTTP without TLS (--plain-http). \
                     FK only speaks mutual TLS; use this for local experiments only."
                );
                (None, "http")
            }
        };
        let listener = TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| MockError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: cfg.listen,
            source,
        })?;
        let hosts = HostNames::new(
            scheme,
            &cert_names,
            addr,
            cfg.pose_as.map(FkHost::host_name),
        );
        cfg.fk.max_body_bytes = cfg.limits.max_body_bytes;
        let docs_config = if cfg.fk.base_url.is_none() {
            cfg.fk.base_url = Some(hosts.fallback_base());
            Some(cfg.fk.clone())
        } else {
            None
        };
        let journal = Arc::new(Journal::open(cfg.journal.clone())?);
        if cfg.faults.is_active() {
            eprintln!(
                "eioa-mock-server: fault injection is ON (seed {})",
                cfg.faults.seed
            );
        }
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = Arc::new(State {
            fk: Arc::new(Fk::new(cfg.fk)),
            docs_config,
            hosts,
            pose_as: cfg.pose_as,
            journal,
            injector: Arc::new(Injector::new(cfg.faults)),
            pacer: Pacer::new(cfg.pacing),
            limits: cfg.limits,
            shutdown: shutdown_rx.clone(),
            counters: Counters::default(),
        });
        let task = tokio::spawn(accept_loop(listener, acceptor, state.clone(), shutdown_rx));
        Ok(RunningServer {
            addr,
            scheme,
            shutdown_tx,
            task: Some(task),
            state,
        })
    }
}

impl RunningServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` in plain mode), no path.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The URL of the service path on this server: the path of the FK host it
    /// poses as, FK's test-environment path otherwise.
    pub fn endpoint(&self) -> String {
        let path = self.state.pose_as.map_or(PATH_TEST, FkHost::path);
        format!("{}{path}", self.url())
    }

    /// The FK host this server poses as, if any.
    pub fn pose_as(&self) -> Option<FkHost> {
        self.state.pose_as
    }

    /// The names the server answers to (its certificate's names and a specific
    /// listen address); a served WSDL names one of them.
    pub fn host_names(&self) -> &[String] {
        self.state.hosts.names()
    }

    /// The fault injector; its settings can be switched while the server runs
    /// (the admin interface's `/faults`).
    pub fn faults(&self) -> Arc<Injector> {
        self.state.injector.clone()
    }

    pub fn journal_dir(&self) -> PathBuf {
        self.state.journal.dir().to_path_buf()
    }

    pub fn stats(&self) -> Stats {
        let c = &self.state.counters;
        Stats {
            connections: c.connections.load(Ordering::Relaxed),
            handshake_failures: c.handshake_failures.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            journal_failures: c.journal_failures.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, lets in-flight requests finish (up to the drain timeout),
    /// then writes and syncs the journal and closes it.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let journal = self.state.journal.clone();
        let _ = tokio::task::spawn_blocking(move || journal.close()).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(state.limits.max_connections));
    loop {
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    eprintln!("eioa-mock-server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        state.counters.connections.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(connection(
            tcp,
            peer,
            acceptor.clone(),
            state.clone(),
            graceful.watcher(),
            permit,
        ));
    }
    drop(listener);
    if tokio::time::timeout(state.limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("eioa-mock-server: drain timeout: closing the remaining connections");
    }
}

struct ConnInfo {
    peer: SocketAddr,
    cert_der: Option<Vec<u8>>,
    cert_sha256: Option<String>,
    /// A second handle on the socket: a reset fault sets SO_LINGER 0 on it, and the
    /// last close then sends an RST.
    raw: Option<std::net::TcpStream>,
}

fn split_socket(tcp: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std = tcp.into_std()?;
    let dup = std.try_clone()?;
    Ok((TcpStream::from_std(std)?, dup))
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    state: Arc<State>,
    watcher: Watcher,
    _permit: OwnedSemaphorePermit,
) {
    let _ = tcp.set_nodelay(true);
    let (tcp, raw) = match split_socket(tcp) {
        Ok((t, r)) => (t, Some(r)),
        Err(_) => return,
    };
    let Some(acceptor) = acceptor else {
        let info = Arc::new(ConnInfo {
            peer,
            cert_der: None,
            cert_sha256: None,
            raw,
        });
        serve(TokioIo::new(tcp), info, state, watcher).await;
        return;
    };
    let fault = state.injector.next_connection();
    if fault == Some(ConnectionFault::TlsAlert) {
        tls_alert(tcp, state.limits.handshake_timeout).await;
        journal_connection_fault(&state, peer, None, ConnectionFault::TlsAlert).await;
        return;
    }
    let mut tls =
        match tokio::time::timeout(state.limits.handshake_timeout, acceptor.accept(tcp)).await {
            Ok(Ok(s)) => s,
            _ => {
                state
                    .counters
                    .handshake_failures
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
    let cert_der = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    let cert_sha256 = cert_der.as_deref().map(fingerprint);
    if fault == Some(ConnectionFault::TlsCloseAfterHandshake) {
        journal_connection_fault(
            &state,
            peer,
            cert_sha256,
            ConnectionFault::TlsCloseAfterHandshake,
        )
        .await;
        let _ = tls.shutdown().await;
        return;
    }
    let info = Arc::new(ConnInfo {
        peer,
        cert_der,
        cert_sha256,
        raw,
    });
    serve(TokioIo::new(tls), info, state, watcher).await;
}

/// Reads the ClientHello, answers with a fatal `handshake_failure` alert, closes.
async fn tls_alert(mut tcp: TcpStream, limit: Duration) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(limit.min(Duration::from_secs(2)), tcp.read(&mut buf)).await;
    // ContentType alert (21), TLS 1.2 record version, length 2, fatal (2), handshake_failure (40).
    let _ = tcp.write_all(&[21, 3, 3, 0, 2, 2, 40]).await;
    let _ = tcp.shutdown().await;
}

async fn journal_connection_fault(
    state: &State,
    peer: SocketAddr,
    cert: Option<String>,
    fault: ConnectionFault,
) {
    let rec = Record {
        seq: 0,
        time: now_rfc3339(),
        remote: peer.to_string(),
        client_cert_sha256: cert,
        method: String::new(),
        target: String::new(),
        request_headers: Vec::new(),
        request: Vec::new(),
        status: None,
        response: Vec::new(),
        tx_id: None,
        verdict: None,
        fault: Some(fault.name().into()),
        findings: Vec::new(),
    };
    journal_only(state, rec).await;
}

async fn serve<I>(io: I, info: Arc<ConnInfo>, state: Arc<State>, watcher: Watcher)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let header_timeout = state.limits.header_timeout;
    let svc_info = info.clone();
    let svc = service_fn(move |req| handle(state.clone(), svc_info.clone(), req));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let conn = builder.serve_connection(io, svc);
    let _ = watcher.watch(conn).await;
    // `info.raw` is dropped with the last reference, after the TLS stream: with
    // SO_LINGER 0 set by a reset fault, that final close sends the RST.
    drop(info);
}

/// Why a request got no HTTP answer at all.
#[derive(Debug, thiserror::Error)]
enum Abort {
    #[error("connection reset (injected fault)")]
    Reset,
    #[error("no answer (injected fault)")]
    NoAnswer,
    #[error("request body could not be read")]
    Body,
}

type Resp = hyper::Response<Full<Bytes>>;

async fn handle(
    state: Arc<State>,
    info: Arc<ConnInfo>,
    req: hyper::Request<Incoming>,
) -> Result<Resp, Abort> {
    state.counters.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let host_header = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let query = req.uri().query().map(str::to_string);
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_string());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut rec = Record {
        seq: 0,
        time: now_rfc3339(),
        remote: info.peer.to_string(),
        client_cert_sha256: info.cert_sha256.clone(),
        method: method.clone(),
        target,
        request_headers: headers.clone(),
        request: Vec::new(),
        status: None,
        response: Vec::new(),
        tx_id: None,
        verdict: None,
        fault: None,
        findings: Vec::new(),
    };
    let limit = state.limits.max_body_bytes;

    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return finish(&state, rec, too_large(limit)).await.map(close_after);
    }
    let body = match tokio::time::timeout(
        state.limits.body_timeout,
        Limited::new(req.into_body(), limit).collect(),
    )
    .await
    {
        Err(_) => {
            rec.findings.push(format!(
                "request body not complete within {} s",
                state.limits.body_timeout.as_secs()
            ));
            return finish(
                &state,
                rec,
                transport_fault(408, "request body not received in time"),
            )
            .await
            .map(close_after);
        }
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return finish(&state, rec, too_large(limit)).await.map(close_after);
        }
        Ok(Err(_)) => return Err(Abort::Body),
        Ok(Ok(c)) => c.to_bytes(),
    };
    rec.request = body.to_vec();

    if let Some(pose) = state.pose_as {
        if path == pose.other_path() {
            let (response, verdict) = other_environment(pose);
            rec.verdict = Some(verdict);
            return finish(&state, rec, response).await;
        }
    }
    let served = |p: &str| match state.pose_as {
        Some(pose) => p == pose.path(),
        None => p == PATH_TEST || p == PATH_PROD,
    };
    let is_operation = method == "POST" && served(&path);
    if is_operation {
        let client = info
            .cert_sha256
            .clone()
            .unwrap_or_else(|| format!("address {}", info.peer.ip()));
        if let Some(finding) = state.pacer.observe(&client, Instant::now()) {
            rec.findings.push(finding);
            if state.pacer.config().reject {
                let mut r = transport_fault(
                    503,
                    "too many calls: FK asks for at most one call per second",
                );
                r.headers.push(("Retry-After".into(), "1".into()));
                return finish(&state, rec, r).await;
            }
        }
        let plan = state.injector.next_request();
        if !plan.latency.is_zero() {
            tokio::time::sleep(plan.latency).await;
        }
        if let Some(fault) = plan.fault {
            rec.fault = Some(fault.name().to_string());
            return injected(&state, &info, rec, fault).await;
        }
    }

    let fk = if method.eq_ignore_ascii_case("GET") && served(&path) {
        docs_fk(&state, host_header.as_deref())
    } else {
        state.fk.clone()
    };
    let cert = info.cert_der.clone();
    let asked = tokio::task::spawn_blocking(move || {
        let req = HttpRequest {
            method: &method,
            path: &path,
            query: query.as_deref(),
            headers: &headers,
            body: &body,
            client_cert_der: cert.as_deref(),
        };
        fk.handle(&req)
    })
    .await;
    let response = match asked {
        Ok((response, verdict)) => {
            if let Verdict::Accepted { tx_id, .. } = &verdict {
                rec.tx_id = Some(tx_id.clone());
            }
            rec.verdict = Some(verdict);
            response
        }
        Err(e) => {
            rec.findings
                .push(format!("the FK model failed on this request: {e}"));
            soap_fault(
                500,
                Fault {
                    faultcode: "soap:Server".into(),
                    faultstring: "internal error in the FK model".into(),
                    detail: None,
                },
            )
        }
    };
    finish(&state, rec, response).await
}

/// The FK model that serves documents for a request with this `Host` header: the
/// shared one when the WSDL's base is fixed or the header names no known host, else
/// one whose base URL is the host the client asked for. GETs of documents keep no
/// state in the model, so a fresh one (a config clone) serves them alike.
fn docs_fk(state: &State, host_header: Option<&str>) -> Arc<Fk> {
    let Some(cfg) = &state.docs_config else {
        return state.fk.clone();
    };
    let base = state.hosts.base_for(host_header);
    if cfg.base_url.as_deref() == Some(base.as_str()) {
        return state.fk.clone();
    }
    let mut cfg = cfg.clone();
    cfg.base_url = Some(base);
    Arc::new(Fk::new(cfg))
}

/// The answer of an FK host to the other environment's path: FK-T001's 404 with
/// the reason spelled out (a production path against the test host, or the `.ext`
/// suffix where it does not belong).
fn other_environment(pose: FkHost) -> (HttpResponse, Verdict) {
    let rule = eioa_fk::rules::T001_PATH.tag();
    let other = match pose {
        FkHost::Test => "production",
        FkHost::Prod => "test",
    };
    let message = format!(
        "{rule}: no service at {} on {}: that is FK's {other} path; FK's {} host serves {}",
        pose.other_path(),
        pose.host_name(),
        pose.environment(),
        pose.path()
    );
    (
        transport_fault(404, &message),
        Verdict::Rejected {
            rule,
            status: 404,
            message,
        },
    )
}

async fn injected(
    state: &State,
    info: &ConnInfo,
    mut rec: Record,
    fault: RequestFault,
) -> Result<Resp, Abort> {
    let response = match fault {
        RequestFault::Reset => {
            journal_only(state, rec).await;
            if let Some(raw) = &info.raw {
                let _ = socket2::SockRef::from(raw).set_linger(Some(Duration::ZERO));
            }
            return Err(Abort::Reset);
        }
        RequestFault::NoAnswer => {
            journal_only(state, rec).await;
            let mut shutdown = state.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(state.injector.no_answer_hold()) => {}
                _ = shutdown.wait_for(|s| *s) => {}
            }
            return Err(Abort::NoAnswer);
        }
        RequestFault::Http500 => soap_fault(
            500,
            Fault {
                faultcode: "soap:Server".into(),
                faultstring: "Internal Server Error".into(),
                detail: None,
            },
        ),
        RequestFault::Http503 => {
            let mut r = HttpResponse {
                status: 503,
                headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
                body: b"<html><body><h1>503 Service Unavailable</h1></body></html>\n".to_vec(),
            };
            r.headers.push(("Retry-After".into(), "5".into()));
            r
        }
        RequestFault::MalformedSoap => {
            let full = SoapResponse::Accepted {
                tx_id: uuid::Uuid::new_v4().to_string(),
            }
            .to_xml();
            let cut = full.len() * 2 / 3;
            HttpResponse {
                status: 200,
                headers: vec![("Content-Type".into(), eioa_model::soap::CONTENT_TYPE.into())],
                body: full[..cut].to_vec(),
            }
        }
        RequestFault::XmlValidationError => soap_fault(
            500,
            Fault::xml_validation(
                "XML validation failed",
                "injected fault: the request was refused as invalid XML",
            ),
        ),
        RequestFault::SignatureValidationError => soap_fault(
            500,
            Fault::signature_validation(
                "Signature validation failed",
                "injected fault: the signature was refused",
            ),
        ),
    };
    rec.status = Some(response.status);
    finish(state, rec, response).await
}

async fn journal_only(state: &State, rec: Record) {
    if let Err(e) = state.journal.append(rec).await {
        state
            .counters
            .journal_failures
            .fetch_add(1, Ordering::Relaxed);
        eprintln!("eioa-mock-server: journal write failed: {e}");
    }
}

/// Journals the exchange, then builds the answer. A journal failure turns the
/// answer into a `soap:Server` fault: a client never gets a tx-id the journal lacks.
async fn finish(state: &State, mut rec: Record, response: HttpResponse) -> Result<Resp, Abort> {
    rec.status = Some(response.status);
    rec.response = response.body.clone();
    match state.journal.append(rec).await {
        Ok(_) => Ok(to_hyper(response)),
        Err(e) => {
            state
                .counters
                .journal_failures
                .fetch_add(1, Ordering::Relaxed);
            eprintln!("eioa-mock-server: journal write failed, answering 500: {e}");
            Ok(to_hyper(soap_fault(
                500,
                Fault {
                    faultcode: "soap:Server".into(),
                    faultstring: "the stand-in could not journal this call".into(),
                    detail: None,
                },
            )))
        }
    }
}

fn close_after(mut r: Resp) -> Resp {
    // The rest of an unread body would be taken as the next request.
    r.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    r
}

fn soap_fault(status: u16, fault: Fault) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), eioa_model::soap::CONTENT_TYPE.into())],
        body: SoapResponse::Fault(fault).to_xml(),
    }
}

fn transport_fault(status: u16, message: &str) -> HttpResponse {
    soap_fault(
        status,
        Fault {
            faultcode: "soap:Client".into(),
            faultstring: message.into(),
            detail: None,
        },
    )
}

fn too_large(limit: usize) -> HttpResponse {
    transport_fault(413, &format!("request body larger than {limit} bytes"))
}

fn to_hyper(r: HttpResponse) -> Resp {
    let mut out = hyper::Response::new(Full::new(Bytes::from(r.body)));
    *out.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in r.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Runs the server on its own runtime until ctrl-c or SIGTERM, then shuts down
/// gracefully. `on_ready` sees the running server once it listens.
pub fn run_until_signal(
    cfg: MockConfig,
    on_ready: impl FnOnce(&RunningServer),
) -> Result<Stats, MockError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(MockError::Runtime)?;
    rt.block_on(async move {
        let server = MockServer::start(cfg).await?;
        on_ready(&server);
        wait_for_signal().await;
        eprintln!(
            "eioa-mock-server: shutting down: finishing in-flight requests, flushing the journal"
        );
        let stats = server.stats();
        server.shutdown().await;
        Ok(stats)
    })
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
