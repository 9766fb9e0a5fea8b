//! The stand-in's session admin interface: plain HTTP on loopback only, every call
//! carrying the bearer token the server writes to its data directory (`admin.token`,
//! mode 0600) next to the address it listens on (`admin.addr`). `eioa session
//! start|status|end` call it; the sessions themselves live in `eioa-session`'s store
//! in the same data directory, so they survive a restart.
//!
//! Routes: `POST /session/start` (JSON [`StartRequest`]), `GET /session/status` (the
//! running session judged now, JSON `SessionReport`), `POST /session/end`. Errors are
//! `{"error": "…"}` with 400, 401, 404 or 409.
//!
//! When started with the server's fault injector ([`start_with_faults`]) it also
//! serves `GET /faults` (the settings in force, JSON [`FaultConfig`]) and `PUT
//! /faults` (new settings, validated first: 400 with the reason when refused);
//! without one these answer 404.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use eioa_session::{Exchange, SessionStore, StoreError};
use eioa_validate::SchemaSet;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::faults::{FaultConfig, Injector};
use crate::journal::{read_journal, Record};

/// The token file in the data directory.
pub const TOKEN_FILE: &str = "admin.token";
/// The file holding the admin interface's address.
pub const ADDR_FILE: &str = "admin.addr";
const MAX_BODY: usize = 1 << 20;

/// `POST /session/start`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartRequest {
    pub name: String,
    /// `onboarding` or the file the checklist was read from.
    pub checklist_source: String,
    /// The checklist's TOML.
    pub checklist: String,
    pub client_fingerprint: Option<String>,
}

/// The journal's record as the judge reads it.
pub fn exchange_of(r: &Record) -> Exchange {
    Exchange {
        seq: r.seq,
        time: r.time.clone(),
        remote: r.remote.clone(),
        client: r.client_cert_sha256.clone(),
        method: r.method.clone(),
        target: r.target.clone(),
        request: r.request.clone(),
        status: r.status,
        tx_id: r.tx_id.clone(),
        verdict: r.verdict.clone(),
        injected: r.fault.clone(),
    }
}

/// The exchanges of the journal in `data_dir`, oldest first.
pub fn exchanges(data_dir: &Path) -> Result<Vec<Exchange>, crate::journal::JournalError> {
    Ok(read_journal(data_dir)?
        .records
        .iter()
        .map(exchange_of)
        .collect())
}

struct State {
    dir: PathBuf,
    token: String,
    schemas: SchemaSet,
    store: Mutex<()>,
    faults: Option<Arc<Injector>>,
}

/// How long the admin interface waits on a client. Any local process can connect,
/// so a connection that never finishes a request must not stay open for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminTimeouts {
    /// For a request's headers (also the idle time between requests on a connection).
    pub header_read: Duration,
    /// For one request to be read, handled and answered; a slow body or a long
    /// judging gets 503. Kept below the 120 s that [`call`] waits.
    pub request: Duration,
}

impl Default for AdminTimeouts {
    fn default() -> Self {
        AdminTimeouts {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(110),
        }
    }
}

/// Starts the admin interface on 127.0.0.1 (an ephemeral port) and writes its token
/// and address into `data_dir`. Must be called inside a tokio runtime; it serves
/// until the runtime stops.
pub fn start(data_dir: &Path, schemas: SchemaSet) -> std::io::Result<SocketAddr> {
    start_with(data_dir, schemas, AdminTimeouts::default())
}

/// [`start`] with other timeouts.
pub fn start_with(
    data_dir: &Path,
    schemas: SchemaSet,
    timeouts: AdminTimeouts,
) -> std::io::Result<SocketAddr> {
    start_with_faults(data_dir, schemas, timeouts, None)
}

/// [`start_with`], also serving `/faults` for the given injector when there is one.
pub fn start_with_faults(
    data_dir: &Path,
    schemas: SchemaSet,
    timeouts: AdminTimeouts,
    faults: Option<Arc<Injector>>,
) -> std::io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    write_private(&data_dir.join(TOKEN_FILE), token.as_bytes())?;
    write_private(&data_dir.join(ADDR_FILE), addr.to_string().as_bytes())?;
    let state = Arc::new(State {
        dir: data_dir.to_path_buf(),
        token,
        schemas,
        store: Mutex::new(()),
        faults,
    });
    let listener = tokio::net::TcpListener::from_std(listener)?;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                // Out of file descriptors and the like: wait instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move {
                            let answer =
                                match tokio::time::timeout(timeouts.request, route(&state, req))
                                    .await
                                {
                                    Ok(answer) => answer,
                                    Err(_) => error(
                                        StatusCode::SERVICE_UNAVAILABLE,
                                        format!(
                                            "the request took longer than {} s",
                                            timeouts.request.as_secs_f64()
                                        ),
                                    ),
                                };
                            Ok::<_, std::convert::Infallible>(answer)
                        }
                    });
                // hyper enforces a header read timeout only when it has a timer.
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(timeouts.header_read)
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// Writes a file only its owner can read, replacing one left by an earlier run.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    std::io::Write::write_all(&mut f, bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response<Full<Bytes>> {
    json(
        status,
        serde_json::json!({ "error": message.to_string() }).to_string(),
    )
}

fn store_error(e: StoreError) -> Response<Full<Bytes>> {
    error(code_of(&e), error_chain(&e))
}

fn code_of(e: &StoreError) -> StatusCode {
    match e {
        StoreError::Exists(_) | StoreError::Running(_) => StatusCode::CONFLICT,
        StoreError::NoneRunning | StoreError::Unknown(_) => StatusCode::NOT_FOUND,
        StoreError::Io { .. } | StoreError::Damaged { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An error and its causes on one line, `outer: cause: root cause` (the admin
/// interface's refusals and its clients' messages).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// Compares without stopping at the first differing byte.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn route(state: &State, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let auth = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !same_token(auth.trim(), &state.token) {
        return error(
            StatusCode::UNAUTHORIZED,
            format!("missing or wrong bearer token (see {TOKEN_FILE} in the data directory)"),
        );
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "request body too large or cut short",
            )
        }
    };
    let dir = state.dir.clone();
    match (parts.method, parts.uri.path()) {
        (Method::POST, "/session/start") => {
            let start: StartRequest = match serde_json::from_slice(&body) {
                Ok(s) => s,
                Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad start request: {e}")),
            };
            let _guard = state.store.lock().unwrap_or_else(|p| p.into_inner());
            match SessionStore::open(&dir).and_then(|mut s| {
                s.start(
                    &start.name,
                    &start.checklist_source,
                    &start.checklist,
                    start.client_fingerprint.as_deref(),
                    Some(&state.schemas.info().to_string()),
                )
            }) {
                Ok(s) => json(
                    StatusCode::OK,
                    serde_json::to_string(&s).unwrap_or_default(),
                ),
                Err(e) => store_error(e),
            }
        }
        (Method::POST, "/session/end") => {
            let _guard = state.store.lock().unwrap_or_else(|p| p.into_inner());
            match SessionStore::open(&dir).and_then(|mut s| s.end()) {
                Ok(s) => json(
                    StatusCode::OK,
                    serde_json::to_string(&s).unwrap_or_default(),
                ),
                Err(e) => store_error(e),
            }
        }
        (Method::GET, "/session/status") => {
            let schemas = state.schemas.clone();
            let judged = tokio::task::spawn_blocking(move || status(&dir, &schemas)).await;
            match judged {
                Ok(Ok(body)) => json(StatusCode::OK, body),
                Ok(Err((code, message))) => error(code, message),
                Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
            }
        }
        (Method::GET, "/faults") => match &state.faults {
            Some(f) => json(
                StatusCode::OK,
                serde_json::to_string(&f.config()).unwrap_or_default(),
            ),
            None => error(StatusCode::NOT_FOUND, FAULTS_UNAVAILABLE),
        },
        (Method::PUT, "/faults") => {
            let Some(f) = &state.faults else {
                return error(StatusCode::NOT_FOUND, FAULTS_UNAVAILABLE);
            };
            let cfg: FaultConfig = match serde_json::from_slice(&body) {
                Ok(c) => c,
                Err(e) => {
                    return error(StatusCode::BAD_REQUEST, format!("bad fault settings: {e}"))
                }
            };
            match f.set(cfg) {
                Ok(()) => {
                    let now = f.config();
                    if now.is_active() {
                        eprintln!(
                            "eioa-mock-server: fault injection switched ON (seed {})",
                            now.seed
                        );
                    } else {
                        eprintln!("eioa-mock-server: fault injection switched off");
                    }
                    json(
                        StatusCode::OK,
                        serde_json::to_string(&now).unwrap_or_default(),
                    )
                }
                Err(e) => error(StatusCode::BAD_REQUEST, error_chain(&e)),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "no such admin route"),
    }
}

const FAULTS_UNAVAILABLE: &str = "fault control unavailable";

fn status(dir: &Path, schemas: &SchemaSet) -> Result<String, (StatusCode, String)> {
    let refused = |e: StoreError| (code_of(&e), error_chain(&e));
    let store = SessionStore::open(dir).map_err(refused)?;
    let session = store
        .running()
        .cloned()
        .ok_or_else(|| refused(StoreError::NoneRunning))?;
    let checklist = session
        .checklist()
        .map_err(|e| (StatusCode::BAD_REQUEST, error_chain(&e)))?;
    let exchanges =
        exchanges(dir).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, error_chain(&e)))?;
    let report = eioa_session::judge(&session, &checklist, schemas, exchanges, true)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, error_chain(&e)))?;
    Ok(report.to_json())
}

/// Why a call of the admin interface failed before it was answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    #[error("no session admin interface in {dir}: is the stand-in running with --data-dir {dir}?")]
    NotRunning {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the admin address in {0} is not an address on this machine's loopback")]
    BadAddress(String),
    #[error("call the session admin interface at {addr}")]
    Call {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the session admin interface answered something that is not HTTP")]
    BadAnswer,
}

/// Calls the admin interface of the stand-in whose data directory is `data_dir`:
/// `(status, body)`. Loopback only; one request per connection.
pub async fn call(
    data_dir: &Path,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), AdminError> {
    let not_running = |source| AdminError::NotRunning {
        dir: data_dir.display().to_string(),
        source,
    };
    let addr_text = std::fs::read_to_string(data_dir.join(ADDR_FILE)).map_err(not_running)?;
    let token = std::fs::read_to_string(data_dir.join(TOKEN_FILE)).map_err(not_running)?;
    let addr: SocketAddr = addr_text
        .trim()
        .parse()
        .map_err(|_| AdminError::BadAddress(data_dir.join(ADDR_FILE).display().to_string()))?;
    if !addr.ip().is_loopback() {
        return Err(AdminError::BadAddress(
            data_dir.join(ADDR_FILE).display().to_string(),
        ));
    }
    let io = |source| AdminError::Call { addr, source };
    tokio::time::timeout(
        CALL_TIMEOUT,
        exchange(addr, &token, method, path, body, not_running),
    )
    .await
    .map_err(|_| io(std::io::ErrorKind::TimedOut.into()))?
}

/// Why reading or switching the fault settings failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaultsError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The admin interface answered with an error (`status`, its message).
    #[error("the admin interface refused ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the admin interface answered fault settings that cannot be read")]
    BadAnswer(#[source] serde_json::Error),
}

/// The fault settings in force in the stand-in whose data directory is `data_dir`.
pub async fn get_faults(data_dir: &Path) -> Result<FaultConfig, FaultsError> {
    faults_answer(call(data_dir, "GET", "/faults", None).await?)
}

/// Switches the fault settings of the stand-in whose data directory is
/// `data_dir`; returns the settings now in force.
pub async fn set_faults(data_dir: &Path, cfg: &FaultConfig) -> Result<FaultConfig, FaultsError> {
    let body = serde_json::to_string(cfg).map_err(FaultsError::BadAnswer)?;
    faults_answer(call(data_dir, "PUT", "/faults", Some(&body)).await?)
}

fn faults_answer((status, body): (u16, String)) -> Result<FaultConfig, FaultsError> {
    if status != 200 {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_string))
            .unwrap_or(body);
        return Err(FaultsError::Refused { status, message });
    }
    serde_json::from_str(&body).map_err(FaultsError::BadAnswer)
}

/// How long a call of the admin interface may take (judging a long session included).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest answer read from the admin interface.
const MAX_ANSWER: u64 = 256 << 20;

async fn exchange(
    addr: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    not_running: impl Fn(std::io::Error) -> AdminError,
) -> Result<(u16, String), AdminError> {
    let io = |source| AdminError::Call { addr, source };
    let mut tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            not_running(e)
        } else {
            io(e)
        }
    })?;
    let body = body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        token.trim(),
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.map_err(io)?;
    tcp.write_all(body.as_bytes()).await.map_err(io)?;
    let mut answer = Vec::new();
    tcp.take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .await
        .map_err(io)?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or(AdminError::BadAnswer)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(AdminError::BadAnswer)?;
    Ok((status, body.to_string()))
}

/// The report of session `name` from the data directory alone (the stand-in may be
/// stopped): its window of the journal judged against its checklist, with coverage
/// over `schemas`. Journal damage is returned beside it.
pub fn session_report(
    data_dir: &Path,
    name: &str,
    schemas: &SchemaSet,
    redacted: bool,
) -> anyhow::Result<(eioa_session::SessionReport, Vec<String>)> {
    use anyhow::Context as _;
    let store = SessionStore::open(data_dir)?;
    let session = store.get(name)?.clone();
    let checklist = session.checklist()?;
    let journal = read_journal(data_dir)
        .with_context(|| format!("failed to read the journal in {}", data_dir.display()))?;
    let exchanges = journal.records.iter().map(exchange_of).collect();
    let report = eioa_session::judge(&session, &checklist, schemas, exchanges, redacted)?;
    Ok((report, journal.damage))
}
