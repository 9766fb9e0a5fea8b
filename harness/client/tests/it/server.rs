//! A small HTTPS/1.1 server on 127.0.0.1 built from tokio-rustls, with scripted behaviour and a
//! log of what it received.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::pki::{Leaf, Pki};

pub struct ServerOpts {
    /// The server's certificate (issued by the test CA unless a test swaps it).
    pub cert: Leaf,
    /// Certificates presented after `cert` (intermediates).
    pub chain: Vec<CertificateDer<'static>>,
    /// When set, a client certificate from this CA is required.
    pub client_ca: Option<CertificateDer<'static>>,
    /// Offer TLS 1.2 only.
    pub tls12_only: bool,
    /// When set (with `client_ca`), ask for a client certificate naming only these
    /// signature schemes, and let a client that sends none in.
    pub client_schemes: Option<Vec<SignatureScheme>>,
}

impl ServerOpts {
    /// Mutual TLS with the test CA, as FK's service does.
    pub fn mutual(pki: &Pki) -> Self {
        Self {
            cert: pki.server.clone(),
            chain: Vec::new(),
            client_ca: Some(pki.ca.der()),
            tls12_only: false,
            client_schemes: None,
        }
    }
}

/// A client verifier that names only some signature schemes in its certificate request.
#[derive(Debug)]
struct OnlySchemes {
    inner: Arc<dyn ClientCertVerifier>,
    schemes: Vec<SignatureScheme>,
}

impl ClientCertVerifier for OnlySchemes {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }
    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.inner
            .verify_client_cert(end_entity, intermediates, now)
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
        self.schemes.clone()
    }
}

#[derive(Clone)]
pub enum Behaviour {
    /// Answer every complete request.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the whole request, then close without a byte of answer.
    ReadThenClose,
    /// Read the whole request, then hold the connection open without answering.
    NeverAnswer,
    /// Answer `200` with a chunked body that does not end: `chunk` bytes at a time until the
    /// client goes away or `cap` bytes are out, then close without the final chunk. The cap only
    /// keeps a client without a size limit from eating the machine's memory.
    Flood { chunk: usize, cap: usize },
}

pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
    pub client_cert_sha256: Option<String>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

#[derive(Default)]
struct Log {
    requests: Mutex<Vec<Received>>,
    connections: AtomicUsize,
    handshake_failures: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    log: Arc<Log>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(opts: ServerOpts, behaviour: Behaviour) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = if opts.tls12_only {
            &[&rustls::version::TLS12]
        } else {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        };
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .unwrap();
        let builder = match &opts.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                roots.add(ca.clone()).unwrap();
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                match &opts.client_schemes {
                    None => builder.with_client_cert_verifier(verifier.build().unwrap()),
                    Some(schemes) => builder.with_client_cert_verifier(Arc::new(OnlySchemes {
                        inner: verifier.allow_unauthenticated().build().unwrap(),
                        schemes: schemes.clone(),
                    })),
                }
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder
            .with_single_cert(
                std::iter::once(opts.cert.der())
                    .chain(opts.chain.iter().cloned())
                    .collect(),
                opts.cert.key_der(),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Log::default());
        let task_log = Arc::clone(&log);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                task_log.connections.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let log = Arc::clone(&task_log);
                let behaviour = behaviour.clone();
                tokio::spawn(serve(acceptor, tcp, log, behaviour));
            }
        });
        Self { addr, log, task }
    }

    pub fn requests(&self) -> std::sync::MutexGuard<'_, Vec<Received>> {
        self.log.requests.lock().unwrap()
    }

    pub fn connections(&self) -> usize {
        self.log.connections.load(Ordering::SeqCst)
    }

    pub fn handshake_failures(&self) -> usize {
        self.log.handshake_failures.load(Ordering::SeqCst)
    }
}

async fn serve(acceptor: TlsAcceptor, tcp: TcpStream, log: Arc<Log>, behaviour: Behaviour) {
    let mut tls = match acceptor.accept(tcp).into_fallible().await {
        Ok(tls) => tls,
        Err((_err, mut tcp)) => {
            log.handshake_failures.fetch_add(1, Ordering::SeqCst);
            // The alert is on its way; drain what the client still sends until it closes, so
            // the kernel does not answer it with a reset that could overtake the alert.
            let mut sink = [0u8; 4096];
            let drain = async {
                while let Ok(n) = tcp.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
            return;
        }
    };
    let client_cert_sha256 = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| hex::encode(Sha256::digest(c)));

    let Some((head, body)) = read_request(&mut tls).await else {
        return;
    };
    log.requests.lock().unwrap().push(Received {
        head,
        body,
        client_cert_sha256,
    });

    match behaviour {
        Behaviour::Answer {
            status,
            headers,
            body,
        } => {
            let mut response = format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            let mut bytes = response.into_bytes();
            bytes.extend_from_slice(&body);
            let _ = tls.write_all(&bytes).await;
            let _ = tls.shutdown().await;
        }
        Behaviour::ReadThenClose => {
            let _ = tls.shutdown().await;
        }
        Behaviour::NeverAnswer => {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Behaviour::Flood { chunk, cap } => {
            let head = "HTTP/1.1 200 Scripted\r\nContent-Type: text/xml; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";
            if tls.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut frame = format!("{chunk:x}\r\n").into_bytes();
            frame.extend(std::iter::repeat_n(b'x', chunk));
            frame.extend_from_slice(b"\r\n");
            let mut out = 0;
            while out < cap && tls.write_all(&frame).await.is_ok() {
                out += chunk;
            }
        }
    }
}

/// Reads one request: the head up to the blank line and `Content-Length` bytes of body.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

/// A TCP listener that accepts connections and never says a word (no TLS handshake).
pub struct SilentServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl SilentServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((tcp, _)) = listener.accept().await {
                held.push(tcp);
            }
        });
        Self { addr, task }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A plain-HTTP server on 127.0.0.1 answering every request with `200` and `body`; returns its
/// address and the log of requests.
pub async fn plain_http(body: &'static [u8]) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let task_log = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let log = Arc::clone(&task_log);
            tokio::spawn(async move {
                let Some((_head, request_body)) = read_request(&mut tcp).await else {
                    return;
                };
                log.lock().unwrap().push(request_body);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tcp.write_all(response.as_bytes()).await;
                let _ = tcp.write_all(body).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    (addr, log)
}
