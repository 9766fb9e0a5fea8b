//! `eioa-load-driver`: a small keep-alive HTTPS/1.1 client for the stand-in's load
//! benchmark and crash soak. It presents a client certificate (which `wrk` cannot),
//! sends one fixed request over N connections and reports what it saw.
//!
//! ```text
//! eioa-load-driver load --addr 127.0.0.1:8443 --path /health --ca ca.pem \
//!     [--cert client.pem --key client.key] [--body req.xml --soap-action A] \
//!     [--connections 64] [--threads 2] [--warmup-s 2] [--duration-s 10] [--label x]
//! eioa-load-driver soak --addr … --path … --body … --soap-action … --ca … --cert … --key … \
//!     --total 100000 --connections 64 --txids FILE [--max-seconds 600]
//! ```
//!
//! `load` prints one `key=value` line: requests, requests/s, latency percentiles
//! (ms) and error counts. `soak` sends exactly `--total` calls that each end with a
//! tx-id (a call whose connection fails is retried on a new connection and the
//! failure counted), appends each tx-id to `--txids` the moment it arrives, and
//! prints its counts. Both stop by themselves (duration, count, deadline).

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

struct Answer {
    status: u16,
    body: Vec<u8>,
    close: bool,
}

/// Sends `req` and reads one answer (Content-Length framing: the stand-in always sends it).
async fn exchange(c: &mut Conn, req: &[u8]) -> std::io::Result<Answer> {
    c.tls.write_all(req).await?;
    c.tls.flush().await?;
    c.buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&c.buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = c.tls.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        c.buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&c.buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("bad status line"))?;
    let mut len = None;
    let mut close = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
                close = true;
            }
        }
    }
    let len = len.ok_or_else(|| std::io::Error::other("answer without Content-Length"))?;
    while c.buf.len() < head_end + len {
        let n = c.tls.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        c.buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Answer {
        status,
        body: c.buf[head_end..head_end + len].to_vec(),
        close,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn tx_id(body: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    let start = s.find("tx-id>")? + "tx-id>".len();
    let end = s[start..].find('<')?;
    Some(s[start..start + end].to_string())
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    status_errors: AtomicU64,
    no_tx: AtomicU64,
    conn_errors: AtomicU64,
    connects: AtomicU64,
}

impl Counters {
    fn line(&self) -> String {
        format!(
            "ok={} status_errors={} missing_tx_id={} connection_errors={} connects={}",
            self.ok.load(Ordering::Relaxed),
            self.status_errors.load(Ordering::Relaxed),
            self.no_tx.load(Ordering::Relaxed),
            self.conn_errors.load(Ordering::Relaxed),
            self.connects.load(Ordering::Relaxed),
        )
    }
}

async fn load(o: Arc<Opts>, tls: TlsConnector) -> Res<bool> {
    let req = Arc::new(request_bytes(&o));
    let counters = Arc::new(Counters::default());
    let expect_tx = o.body.is_some();
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
                        Err(_) => {
                            counters.conn_errors.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    },
                };
                let t0 = Instant::now();
                let r = exchange(c, &req).await;
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
                        if a.status != 200 {
                            counters.status_errors.fetch_add(1, Ordering::Relaxed);
                        } else if expect_tx && tx_id(&a.body).is_none() {
                            counters.no_tx.fetch_add(1, Ordering::Relaxed);
                        } else {
                            counters.ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        conn = None;
                        if measured {
                            counters.conn_errors.fetch_add(1, Ordering::Relaxed);
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
    let errors = counters.status_errors.load(Ordering::Relaxed)
        + counters.no_tx.load(Ordering::Relaxed)
        + counters.conn_errors.load(Ordering::Relaxed);
    println!(
        "label={} connections={} threads={} seconds={} requests={} rps={:.0} p50_ms={:.2} p90_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={} {}",
        o.label,
        o.connections,
        o.threads,
        secs,
        all.len(),
        all.len() as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        errors,
        counters.line()
    );
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
                    match exchange(c, &req).await {
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
                        Err(_) => {
                            // The server went away mid-call: count it, reconnect, send again.
                            counters.conn_errors.fetch_add(1, Ordering::Relaxed);
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
