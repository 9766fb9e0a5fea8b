//! `eioa-load-driver`: a small keep-alive HTTPS/1.1 client for the stand-in's load
//! benchmark and crash soak. It presents a client certificate (which `wrk` cannot),
//! sends one fixed request over N connections and reports what it saw.
//!
//! ```text
//! eioa-load-driver load --addr 127.0.0.1:8443 --path /health --ca ca.pem \
//!     [--cert client.pem --key client.key] [--body req.xml --soap-action A] \
//!     [--expect TEXT] [--expect-status 200] [--timeout-s 10] \
//!     [--connections 64] [--threads 2] [--warmup-s 2] [--duration-s 10] [--label x]
//! eioa-load-driver soak --addr … --path … --body … --soap-action … --ca … --cert … --key … \
//!     --total 100000 --connections 64 --txids FILE [--max-seconds 600]
//! ```
//!
//! `load` prints one `key=value` line: requests, requests/s, latency percentiles
//! (ms) and error counts. Every answer is checked: its status (`--expect-status`),
//! with a `--body` a tx-id in UUID form, and with `--expect` that the body holds that
//! text; an answer that fails a check is an error, as is a malformed answer
//! (`protocol_errors`) and one that takes longer than `--timeout-s` (`timeouts`).
//! Answers may be framed by Content-Length or chunked (see `http.rs`).
//! `soak` sends exactly `--total` calls that each end with a tx-id (a call whose
//! connection fails is retried on a new connection and the failure counted), appends
//! each tx-id to `--txids` the moment it arrives, and prints its counts. Both stop by
//! themselves (duration, count, deadline).

mod http;

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::http::{Answer, Parsed};

type Res<T> = Result<T, String>;

#[derive(Debug)]
struct Opts {
    mode: String,
    addr: SocketAddr,
    path: String,
    body: Option<Vec<u8>>,
    soap_action: Option<String>,
    ca: String,
    cert: Option<String>,
    key: Option<String>,
    connections: usize,
    threads: usize,
    warmup: Duration,
    duration: Duration,
    label: String,
    expect: Option<String>,
    expect_status: u16,
    timeout: Duration,
    total: u64,
    txids: Option<String>,
    max: Duration,
}

fn parse_args() -> Res<Opts> {
    let mut args = std::env::args().skip(1);
    let mode = args
        .next()
        .ok_or("usage: eioa-load-driver load|soak --addr … (see the source)")?;
    if mode != "load" && mode != "soak" {
        return Err(format!("unknown mode `{mode}` (load or soak)"));
    }
    let mut m: HashMap<String, String> = HashMap::new();
    while let Some(k) = args.next() {
        let k = k
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument `{k}`"))?
            .to_string();
        let v = args.next().ok_or_else(|| format!("--{k} needs a value"))?;
        m.insert(k, v);
    }
    let get = |k: &str| m.get(k).cloned();
    let num = |k: &str, d: u64| -> Res<u64> {
        get(k).map_or(Ok(d), |v| v.parse().map_err(|e| format!("--{k}: {e}")))
    };
    let body = match get("body") {
        Some(p) => Some(std::fs::read(&p).map_err(|e| format!("read {p}: {e}"))?),
        None => None,
    };
    Ok(Opts {
        mode,
        addr: get("addr")
            .ok_or("--addr is required")?
            .parse()
            .map_err(|e| format!("--addr: {e}"))?,
        path: get("path").unwrap_or_else(|| "/health".into()),
        body,
        soap_action: get("soap-action"),
        ca: get("ca").ok_or("--ca is required")?,
        cert: get("cert"),
        key: get("key"),
        connections: num("connections", 64)? as usize,
        threads: num("threads", 2)? as usize,
        warmup: Duration::from_secs(num("warmup-s", 2)?),
        duration: Duration::from_secs(num("duration-s", 10)?),
        label: get("label").unwrap_or_else(|| "run".into()),
        expect: get("expect"),
        expect_status: u16::try_from(num("expect-status", 200)?)
            .map_err(|e| format!("--expect-status: {e}"))?,
        timeout: Duration::from_secs(num("timeout-s", 10)?.max(1)),
        total: num("total", 100_000)?,
        txids: get("txids"),
        max: Duration::from_secs(num("max-seconds", 600)?),
    })
}

fn tls_connector(o: &Opts) -> Res<TlsConnector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let ca = std::fs::read(&o.ca).map_err(|e| format!("read {}: {e}", o.ca))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut &ca[..]) {
        let c = c.map_err(|e| format!("parse {}: {e}", o.ca))?;
        roots.add(c).map_err(|e| format!("trust {}: {e}", o.ca))?;
    }
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let cfg = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => {
            let cp = std::fs::read(c).map_err(|e| format!("read {c}: {e}"))?;
            let kp = std::fs::read(k).map_err(|e| format!("read {k}: {e}"))?;
            let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &cp[..])
                .collect::<Result<_, _>>()
                .map_err(|e| format!("parse {c}: {e}"))?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut &kp[..])
                .map_err(|e| format!("parse {k}: {e}"))?
                .ok_or_else(|| format!("{k} holds no key"))?;
            b.with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        (None, None) => b.with_no_client_auth(),
        _ => return Err("--cert and --key go together".into()),
    };
    Ok(TlsConnector::from(Arc::new(cfg)))
}

fn request_bytes(o: &Opts) -> Vec<u8> {
    let mut r = Vec::new();
    let method = if o.body.is_some() { "POST" } else { "GET" };
    r.extend_from_slice(format!("{method} {} HTTP/1.1\r\nHost: {}\r\n", o.path, o.addr).as_bytes());
    if let Some(body) = &o.body {
        r.extend_from_slice(b"Content-Type: text/xml; charset=utf-8\r\n");
        if let Some(a) = &o.soap_action {
            r.extend_from_slice(format!("SOAPAction: \"{a}\"\r\n").as_bytes());
        }
        r.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        r.extend_from_slice(body);
    } else {
        r.extend_from_slice(b"\r\n");
    }
    r
}

struct Conn {
    tls: TlsStream<TcpStream>,
    buf: Vec<u8>,
}

async fn connect(addr: SocketAddr, tls: &TlsConnector) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::IpAddress(match addr.ip() {
        IpAddr::V4(v) => v.into(),
        IpAddr::V6(v) => v.into(),
    });
    let tls = tokio::time::timeout(Duration::from_secs(10), tls.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("handshake timed out"))??;
    Ok(Conn {
        tls,
        buf: Vec::with_capacity(16 * 1024),
    })
}

/// Sends `req` and reads one answer, within `limit`. A malformed answer is an
/// `InvalidData` error, one that does not come in time a `TimedOut` error.
async fn exchange(c: &mut Conn, req: &[u8], limit: Duration) -> std::io::Result<Answer> {
    match tokio::time::timeout(limit, exchange_inner(c, req)).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

async fn exchange_inner(c: &mut Conn, req: &[u8]) -> std::io::Result<Answer> {
    c.tls.write_all(req).await?;
    c.tls.flush().await?;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match http::parse_response(&c.buf) {
            Ok(Parsed::Done { answer, used }) => {
                c.buf.drain(..used);
                return Ok(answer);
            }
            Ok(Parsed::Partial) => {}
            Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        }
        let n = c.tls.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        c.buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The text of the first `tx-id` element (any prefix), if it is a UUID
/// (8-4-4-4-12 hexadecimal digits), as FK's and the stand-in's are.
fn tx_id(body: &[u8]) -> Option<String> {
    let start = find(body, b"tx-id>")? + "tx-id>".len();
    let end = start + body[start..].iter().position(|&b| b == b'<')?;
    let t = std::str::from_utf8(&body[start..end]).ok()?.trim();
    let groups: Vec<&str> = t.split('-').collect();
    let shape = groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12];
    (shape
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit())))
    .then(|| t.to_string())
}

/// What one answer is worth to `load`.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Ok,
    Status,
    NoTxId,
    NoExpectedText,
}

fn check(a: &Answer, o: &Opts) -> Check {
    if a.status != o.expect_status {
        Check::Status
    } else if o.body.is_some() && o.expect_status == 200 && tx_id(&a.body).is_none() {
        Check::NoTxId
    } else if o
        .expect
        .as_deref()
        .is_some_and(|e| find(&a.body, e.as_bytes()).is_none())
    {
        Check::NoExpectedText
    } else {
        Check::Ok
    }
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    status_errors: AtomicU64,
    no_tx: AtomicU64,
    no_text: AtomicU64,
    protocol_errors: AtomicU64,
    timeouts: AtomicU64,
    conn_errors: AtomicU64,
    connects: AtomicU64,
    /// The first failure's message, printed to stderr at the end.
    first_error: Mutex<Option<String>>,
}

impl Counters {
    fn line(&self) -> String {
        format!(
            "ok={} status_errors={} missing_tx_id={} missing_expected={} protocol_errors={} timeouts={} connection_errors={} connects={}",
            self.ok.load(Ordering::Relaxed),
            self.status_errors.load(Ordering::Relaxed),
            self.no_tx.load(Ordering::Relaxed),
            self.no_text.load(Ordering::Relaxed),
            self.protocol_errors.load(Ordering::Relaxed),
            self.timeouts.load(Ordering::Relaxed),
            self.conn_errors.load(Ordering::Relaxed),
            self.connects.load(Ordering::Relaxed),
        )
    }

    fn errors(&self) -> u64 {
        [
            &self.status_errors,
            &self.no_tx,
            &self.no_text,
            &self.protocol_errors,
            &self.timeouts,
            &self.conn_errors,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }

    fn note(&self, what: impl FnOnce() -> String) {
        let mut f = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(what());
        }
    }

    /// Counts a failed exchange by its kind.
    fn failed(&self, e: &std::io::Error) {
        let c = match e.kind() {
            std::io::ErrorKind::InvalidData => &self.protocol_errors,
            std::io::ErrorKind::TimedOut => &self.timeouts,
            _ => &self.conn_errors,
        };
        c.fetch_add(1, Ordering::Relaxed);
        self.note(|| format!("exchange: {e}"));
    }
}

async fn load(o: Arc<Opts>, tls: TlsConnector) -> Res<bool> {
    let req = Arc::new(request_bytes(&o));
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let measure_from = start + o.warmup;
    let stop_at = measure_from + o.duration;
    let mut tasks = Vec::new();
    for _ in 0..o.connections {
        let (o, tls, req, counters) = (o.clone(), tls.clone(), req.clone(), counters.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::new();
            let mut conn: Option<Conn> = None;
            while Instant::now() < stop_at {
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match connect(o.addr, &tls).await {
                        Ok(c) => {
                            counters.connects.fetch_add(1, Ordering::Relaxed);
                            conn.insert(c)
                        }
                        Err(e) => {
                            counters.conn_errors.fetch_add(1, Ordering::Relaxed);
                            counters.note(|| format!("connect: {e}"));
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    },
                };
                let t0 = Instant::now();
                let r = exchange(c, &req, o.timeout).await;
                let t1 = Instant::now();
                let measured = t0 >= measure_from && t1 <= stop_at;
                match r {
                    Ok(a) => {
                        if a.close {
                            conn = None;
                        }
                        if !measured {
                            continue;
                        }
                        lat.push(u32::try_from((t1 - t0).as_micros()).unwrap_or(u32::MAX));
                        let verdict = check(&a, &o);
                        let c = match verdict {
                            Check::Ok => &counters.ok,
                            Check::Status => &counters.status_errors,
                            Check::NoTxId => &counters.no_tx,
                            Check::NoExpectedText => &counters.no_text,
                        };
                        c.fetch_add(1, Ordering::Relaxed);
                        if verdict != Check::Ok {
                            counters.note(|| {
                                let body = String::from_utf8_lossy(&a.body);
                                let cut: String = body.chars().take(300).collect();
                                format!("{verdict:?}: HTTP {}: {cut}", a.status)
                            });
                        }
                    }
                    Err(e) => {
                        conn = None;
                        if measured {
                            counters.failed(&e);
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())?);
    }
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[i]) / 1000.0
    };
    let secs = o.duration.as_secs_f64();
    let errors = counters.errors();
    let ok = counters.ok.load(Ordering::Relaxed);
    println!(
        "label={} connections={} threads={} seconds={} requests={} rps={:.0} ok_rps={:.0} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={} {}",
        o.label,
        o.connections,
        o.threads,
        secs,
        all.len(),
        all.len() as f64 / secs,
        ok as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        errors,
        counters.line()
    );
    if let Some(e) = counters
        .first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        eprintln!("eioa-load-driver: {}: first error: {e}", o.label);
    }
    Ok(errors == 0)
}

async fn soak(o: Arc<Opts>, tls: TlsConnector) -> Res<bool> {
    let req = Arc::new(request_bytes(&o));
    let path = o.txids.clone().ok_or("--txids is required for soak")?;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("open {path}: {e}"))?;
    let out = Arc::new(Mutex::new(out));
    let next = Arc::new(AtomicU64::new(0));
    let counters = Arc::new(Counters::default());
    let retries = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + o.max;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..o.connections {
        let (o, tls, req, counters, out, next, retries) = (
            o.clone(),
            tls.clone(),
            req.clone(),
            counters.clone(),
            out.clone(),
            next.clone(),
            retries.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn: Option<Conn> = None;
            'calls: while next.fetch_add(1, Ordering::Relaxed) < o.total {
                let mut attempt = 0u32;
                loop {
                    if Instant::now() > deadline {
                        break 'calls;
                    }
                    if attempt > 0 {
                        retries.fetch_add(1, Ordering::Relaxed);
                    }
                    attempt += 1;
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match connect(o.addr, &tls).await {
                            Ok(c) => {
                                counters.connects.fetch_add(1, Ordering::Relaxed);
                                conn.insert(c)
                            }
                            Err(_) => {
                                counters.conn_errors.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                continue;
                            }
                        },
                    };
                    match exchange(c, &req, o.timeout).await {
                        Ok(a) => {
                            if a.close {
                                conn = None;
                            }
                            if a.status != 200 {
                                counters.status_errors.fetch_add(1, Ordering::Relaxed);
                                continue 'calls;
                            }
                            match tx_id(&a.body) {
                                Some(tx) => {
                                    let line = format!("{tx}\n");
                                    let mut f = out.lock().unwrap_or_else(|e| e.into_inner());
                                    if f.write_all(line.as_bytes()).is_err() {
                                        eprintln!(
                                            "eioa-load-driver: cannot write {}",
                                            o.txids.as_deref().unwrap_or("")
                                        );
                                    }
                                    counters.ok.fetch_add(1, Ordering::Relaxed);
                                }
                                None => {
                                    counters.no_tx.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            continue 'calls;
                        }
                        Err(e) => {
                            // The server went away mid-call (or answered garbage, or not
                            // in time): count it, reconnect, send again.
                            counters.failed(&e);
                            conn = None;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())?;
    }
    let secs = start.elapsed().as_secs_f64();
    let ok = counters.ok.load(Ordering::Relaxed);
    println!(
        "soak total={} seconds={:.1} {} retries={} deadline_hit={}",
        o.total,
        secs,
        counters.line(),
        retries.load(Ordering::Relaxed),
        Instant::now() > deadline
    );
    Ok(ok == o.total)
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => Arc::new(o),
        Err(e) => {
            eprintln!("eioa-load-driver: {e}");
            return ExitCode::from(2);
        }
    };
    let tls = match tls_connector(&o) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("eioa-load-driver: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let r = rt.block_on(async {
        if o.mode == "load" {
            load(o.clone(), tls).await
        } else {
            soak(o.clone(), tls).await
        }
    });
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("eioa-load-driver: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(body: bool, expect: Option<&str>) -> Opts {
        Opts {
            mode: "load".into(),
            addr: "127.0.0.1:1".parse().unwrap(),
            path: "/".into(),
            body: body.then(Vec::new),
            soap_action: None,
            ca: String::new(),
            cert: None,
            key: None,
            connections: 1,
            threads: 1,
            warmup: Duration::ZERO,
            duration: Duration::ZERO,
            label: String::new(),
            expect: expect.map(str::to_string),
            expect_status: 200,
            timeout: Duration::from_secs(1),
            total: 0,
            txids: None,
            max: Duration::ZERO,
        }
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.as_bytes().to_vec(),
            close: false,
        }
    }

    const OK: &str = "<soap:Envelope><soap:Body><ns:SkickaAnmalanFranArbetsgivareResponse><ns:tx-id>0f6a9d5e-1c2b-4e8f-9a7d-3b4c5d6e7f80</ns:tx-id></ns:SkickaAnmalanFranArbetsgivareResponse></soap:Body></soap:Envelope>";

    #[test]
    fn tx_id_must_be_a_uuid() {
        assert_eq!(
            tx_id(OK.as_bytes()).as_deref(),
            Some("0f6a9d5e-1c2b-4e8f-9a7d-3b4c5d6e7f80")
        );
        for bad in [
            "<tx-id></tx-id>",
            "<tx-id>{{randomValue type='UUID'}}</tx-id>",
            "<tx-id>0f6a9d5e-1c2b-4e8f-9a7d-3b4c5d6e7f8</tx-id>",
            "<tx-id>0f6a9d5e-1c2b-4e8f-9a7d-3b4c5d6e7fxx</tx-id>",
            "<tx-id>0f6a9d5e1c2b-4e8f-9a7d-3b4c-5d6e7f80</tx-id>",
            "<tx-id>0f6a9d5e-1c2b-4e8f-9a7d-3b4c5d6e7f80",
            "no element",
        ] {
            assert_eq!(tx_id(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn every_answer_is_checked() {
        let post = opts(true, Some("SkickaAnmalanFranArbetsgivareResponse>"));
        assert_eq!(check(&answer(200, OK), &post), Check::Ok);
        assert_eq!(check(&answer(500, OK), &post), Check::Status);
        let fault = "<soap:Fault><faultcode>soap:Client</faultcode></soap:Fault>";
        assert_eq!(check(&answer(200, fault), &post), Check::NoTxId);
        let other = "<Other><tx-id>0f6a9d5e-1c2b-4e8f-9a7d-3b4c5d6e7f80</tx-id></Other>";
        assert_eq!(check(&answer(200, other), &post), Check::NoExpectedText);
        // A GET (no body) needs no tx-id; a fault expected by status needs none either.
        assert_eq!(check(&answer(200, "ok"), &opts(false, None)), Check::Ok);
        let mut refused = opts(true, Some("faultcode"));
        refused.expect_status = 500;
        assert_eq!(check(&answer(500, fault), &refused), Check::Ok);
    }
}
