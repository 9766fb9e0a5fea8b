//! The HTTP client: one fresh TLS connection per exchange, no retries, no redirects.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use rustls::pki_types::CertificateDer;
use rustls::{AlertDescription, CertificateError};
use time::OffsetDateTime;

use crate::error::{ClientError, ServerCertProblem};
use crate::exchange::{Delivery, Exchange, Timings};
use crate::identity::Identity;
use crate::pace::{Pace, Pacer};
use crate::target::{is_loopback_host, Resolve, Target};
use crate::tls::{observed, root_store, Handshake, Recorder, TlsBase};

/// `User-Agent` sent with every request.
pub const USER_AGENT_VALUE: &str = concat!("eioa-harness/", env!("CARGO_PKG_VERSION"));

/// How to build a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The client certificate and key for mutual TLS (FK requires one).
    pub identity: Option<Identity>,
    /// Trust anchors added to the root store (e.g. the CA that issued FK's server certificate,
    /// or the mock server's test CA).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Whether to also trust the system's CA bundle (`SSL_CERT_FILE` or the usual paths).
    pub use_system_roots: bool,
    /// Limit for resolving the host, connecting and the TLS handshake.
    pub connect_timeout: Duration,
    /// Limit for the whole exchange, from its start to the last byte of the response.
    pub total_timeout: Duration,
    /// Request pacing.
    pub pace: Pace,
    /// Most response-body bytes read and kept. A longer body ends the exchange with
    /// [`ClientError::ResponseTooLarge`] as soon as the limit is passed, so a misconfigured or
    /// hostile server cannot fill memory for the whole timeout.
    pub max_response_bytes: usize,
    /// Fixed addresses for host and port pairs (curl's `--resolve`); the server certificate is
    /// still checked against the host name in the URL.
    pub resolve: Vec<Resolve>,
}

/// Default for [`ClientConfig::max_response_bytes`]: 4 MiB, far above E-IOA's answers (a few KB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

impl Default for ClientConfig {
    /// No identity, system roots on, 10 s to connect, 30 s in total, one request per second to
    /// FK's hosts, response bodies up to [`DEFAULT_MAX_RESPONSE_BYTES`].
    fn default() -> Self {
        Self {
            identity: None,
            extra_roots: Vec::new(),
            use_system_roots: true,
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            pace: Pace::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            resolve: Vec::new(),
        }
    }
}

/// A SOAP 1.1 client for E-IOA. Cheap to share (`&self` methods); exchanges may run concurrently
/// and the pacer queues them per host.
#[derive(Debug)]
pub struct Client {
    tls: TlsBase,
    identity: Option<Identity>,
    connect_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: usize,
    resolve: Vec<Resolve>,
    pacer: Pacer,
}

impl Client {
    /// Checks the configuration (identity valid now, at least one trust root) and builds the
    /// client. Nothing is sent.
    pub fn new(cfg: ClientConfig) -> Result<Self, ClientError> {
        if let Some(identity) = &cfg.identity {
            identity.check_validity(OffsetDateTime::now_utc())?;
        }
        let roots = root_store(&cfg.extra_roots, cfg.use_system_roots)?;
        let tls = TlsBase::new(roots, cfg.identity.as_ref().map(Identity::certified_key))?;
        Ok(Self {
            tls,
            identity: cfg.identity,
            connect_timeout: cfg.connect_timeout,
            total_timeout: cfg.total_timeout,
            max_response_bytes: cfg.max_response_bytes,
            resolve: cfg.resolve,
            pacer: Pacer::new(cfg.pace),
        })
    }

    /// POSTs `body` to `target` as a SOAP 1.1 request with `SOAPAction: "<soap_action>"`.
    ///
    /// Returns the exchange whenever the server answered, whatever the HTTP status (a SOAP fault
    /// comes with 500). Never re-sends: on an error, [`ClientError::delivery`] tells whether the
    /// request may have reached the server.
    pub async fn post_soap(
        &self,
        target: &Target,
        soap_action: &str,
        body: Vec<u8>,
    ) -> Result<Exchange, ClientError> {
        let url = target.url();
        let url_text = url.to_string();
        let unsupported = |reason| ClientError::UnsupportedUrl {
            url: url_text.clone(),
            reason,
        };
        let is_tls = url.scheme() == "https";
        let host = url
            .host_str()
            .ok_or_else(|| unsupported("it has no host"))?
            .to_owned();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => {
                return Err(unsupported(
                    "plain http is only allowed to the local machine",
                ))
            }
            _ => return Err(unsupported("only https urls are supported")),
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| unsupported("it has no port"))?;
        // The certificate may have expired since the client was built.
        if let Some(identity) = &self.identity {
            identity.check_validity(OffsetDateTime::now_utc())?;
        }
        let headers = request_headers(soap_action)?;
        let request_headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();

        let (t0, started_at) = self.pacer.wait(&host).await;
        let t0 = t0.into_std();
        let rec: Recorder = Arc::new(Mutex::new(Handshake::default()));
        let mut exchange = Exchange {
            url: url_text.clone(),
            request_body: body.clone(),
            request_headers,
            status: None,
            response_headers: Vec::new(),
            response_body: Vec::new(),
            started_at,
            timings: Timings {
                connect: None,
                total: Duration::ZERO,
            },
            tls_version: None,
            server_cert_sha256: None,
            client_cert_sha256: None,
            delivery: Delivery::NotSent,
        };

        // Resolve here rather than inside the HTTP stack, so a DNS failure is told apart from
        // other connect failures, and pin the result for the connection.
        let lookup_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let fixed: Vec<SocketAddr> = self
            .resolve
            .iter()
            .filter(|r| r.applies_to(&lookup_host, port))
            .map(|r| SocketAddr::new(r.addr, port))
            .collect();
        let addrs: Vec<SocketAddr> = match tokio::time::timeout(self.connect_timeout, async {
            if fixed.is_empty() {
                tokio::net::lookup_host((lookup_host.as_str(), port))
                    .await
                    .map(|a| a.collect())
            } else {
                Ok(fixed)
            }
        })
        .await
        {
            Ok(Ok(addrs)) => addrs,
            Ok(Err(source)) => {
                finish(&mut exchange, &rec, t0, Delivery::NotSent);
                return Err(ClientError::Dns {
                    host,
                    exchange: Box::new(exchange),
                    source,
                });
            }
            Err(_elapsed) => {
                finish(&mut exchange, &rec, t0, Delivery::NotSent);
                return Err(ClientError::ConnectTimeout {
                    after: self.connect_timeout,
                    exchange: Box::new(exchange),
                });
            }
        };

        let remaining = self.total_timeout.saturating_sub(t0.elapsed());
        let connect_timeout = self.connect_timeout.saturating_sub(t0.elapsed());
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(self.tls.config_for(&rec)?)
            .http1_only()
            // A 307/308 would make the stack POST the body again elsewhere: never follow.
            .redirect(reqwest::redirect::Policy::none())
            // No retry of any kind, not even the "safe" protocol-level ones.
            .retry(reqwest::retry::never())
            // One connection per exchange: every record shows its own handshake.
            .pool_max_idle_per_host(0)
            // Proxies from the environment are ignored: the TLS session must be end to end with
            // the endpoint, and tests must never leave the machine.
            .no_proxy()
            .connect_timeout(connect_timeout)
            .timeout(remaining)
            .resolve_to_addrs(&lookup_host, &addrs)
            .build()
            .map_err(ClientError::Build)?;

        let response = match http.post(url).headers(headers).body(body).send().await {
            Ok(response) => response,
            Err(err) => {
                return Err(classify(
                    err,
                    exchange,
                    &rec,
                    t0,
                    is_tls,
                    (self.connect_timeout, self.total_timeout),
                ));
            }
        };
        exchange.status = Some(response.status().as_u16());
        exchange.response_headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let declared_length = response.content_length();
        let limit = self.max_response_bytes;
        let mut response = response;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit - exchange.response_body.len();
                    if chunk.len() > room {
                        // Keep what fits and stop reading; dropping the response closes the
                        // connection (none is pooled).
                        exchange.response_body.extend_from_slice(&chunk[..room]);
                        drop(response);
                        finish(&mut exchange, &rec, t0, Delivery::Answered);
                        return Err(ClientError::ResponseTooLarge {
                            limit,
                            declared_length,
                            exchange: Box::new(exchange),
                        });
                    }
                    exchange.response_body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(source) => {
                    finish(&mut exchange, &rec, t0, Delivery::Answered);
                    return Err(if source.is_timeout() {
                        ClientError::ResponseTimeout {
                            after: self.total_timeout,
                            exchange: Box::new(exchange),
                        }
                    } else {
                        ClientError::ResponseBody {
                            exchange: Box::new(exchange),
                            source,
                        }
                    });
                }
            }
        }
        finish(&mut exchange, &rec, t0, Delivery::Answered);
        Ok(exchange)
    }
}

fn request_headers(soap_action: &str) -> Result<HeaderMap, ClientError> {
    let bad = || ClientError::BadSoapAction {
        action: soap_action.to_owned(),
    };
    if soap_action.contains('"') {
        return Err(bad());
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    headers.insert(
        "SOAPAction",
        HeaderValue::from_str(&format!("\"{soap_action}\"")).map_err(|_| bad())?,
    );
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    Ok(headers)
}

/// Fills in what the handshake showed, the total time and the delivery state.
fn finish(exchange: &mut Exchange, rec: &Recorder, t0: Instant, delivery: Delivery) {
    let seen = observed(rec);
    exchange.timings = Timings {
        connect: seen.server_cert_at.map(|at| at.duration_since(t0)),
        total: t0.elapsed(),
    };
    exchange.tls_version = seen.tls_version.map(str::to_owned);
    exchange.server_cert_sha256 = seen.server_cert_sha256;
    exchange.client_cert_sha256 = seen.client_cert_sha256;
    exchange.delivery = delivery;
}

/// Every error in `err`'s chain, looking inside `io::Error`s (whose `source` skips the wrapped
/// error itself).
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        out.push(e);
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// Alerts by which a server refuses the handshake itself (mostly our certificate); the request
/// cannot have been processed.
fn is_handshake_refusal(alert: AlertDescription) -> bool {
    matches!(
        alert,
        AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
            | AlertDescription::HandshakeFailure
            | AlertDescription::ProtocolVersion
            | AlertDescription::InsufficientSecurity
            | AlertDescription::NoApplicationProtocol
            | AlertDescription::UnrecognisedName
    )
}

fn cert_problem(err: &CertificateError) -> ServerCertProblem {
    match err {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            ServerCertProblem::NotTrusted
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            ServerCertProblem::NameMismatch
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            ServerCertProblem::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            ServerCertProblem::NotYetValid
        }
        CertificateError::Revoked => ServerCertProblem::Revoked,
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            ServerCertProblem::WrongPurpose
        }
        other => ServerCertProblem::Other(format!("{other:?}")),
    }
}

/// Turns a transport error into a [`ClientError`] with the right delivery state.
fn classify(
    err: reqwest::Error,
    mut exchange: Exchange,
    rec: &Recorder,
    t0: Instant,
    is_tls: bool,
    (connect_timeout, total_timeout): (Duration, Duration),
) -> ClientError {
    let seen = observed(rec);
    // Application data only flows once the server has proved its key (which is when the
    // verifier notes the TLS version). Before that, nothing of the request can have been sent,
    // whatever the HTTP stack calls the failure.
    let before_app_data = is_tls && seen.tls_version.is_none();
    let connect_phase = err.is_connect() || before_app_data;
    let links = chain(&err);
    let tls_error = links
        .iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
        .cloned();
    let io_kind = links
        .iter()
        .find_map(|e| e.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);

    if let Some(tls_error) = tls_error {
        match &tls_error {
            rustls::Error::InvalidCertificate(cert_error) => {
                finish(&mut exchange, rec, t0, Delivery::NotSent);
                // Our certificate is chosen when the server asks for it but only sent after the
                // server's certificate passed: here it never left.
                exchange.client_cert_sha256 = None;
                return ClientError::ServerCertificate {
                    problem: cert_problem(cert_error),
                    exchange: Box::new(exchange),
                    source: tls_error,
                };
            }
            rustls::Error::AlertReceived(alert) => {
                let delivery = if connect_phase || is_handshake_refusal(*alert) {
                    Delivery::NotSent
                } else {
                    Delivery::MaybeSent
                };
                finish(&mut exchange, rec, t0, delivery);
                return ClientError::HandshakeAlert {
                    alert: format!("{alert:?}"),
                    client_cert_requested: seen.client_cert_requested,
                    client_cert_sent: seen.client_cert_sha256.is_some(),
                    exchange: Box::new(exchange),
                    source: tls_error,
                };
            }
            _ => {
                let delivery = if connect_phase {
                    Delivery::NotSent
                } else {
                    Delivery::MaybeSent
                };
                finish(&mut exchange, rec, t0, delivery);
                return ClientError::TlsFailure {
                    exchange: Box::new(exchange),
                    source: tls_error,
                };
            }
        }
    }

    // No alert in the error, but the server asked for a certificate it did not get and
    // then hung up: that is its refusal, whatever the HTTP stack calls the closed
    // connection ("connection was not ready", "canceled").
    if is_tls
        && !err.is_timeout()
        && seen.client_cert_requested
        && seen.client_cert_sha256.is_none()
    {
        let delivery = if connect_phase {
            Delivery::NotSent
        } else {
            Delivery::MaybeSent
        };
        finish(&mut exchange, rec, t0, delivery);
        return ClientError::ClientCertificateMissing {
            exchange: Box::new(exchange),
            source: err,
        };
    }

    if err.is_timeout() {
        return if connect_phase {
            finish(&mut exchange, rec, t0, Delivery::NotSent);
            ClientError::ConnectTimeout {
                after: if err.is_connect() {
                    connect_timeout
                } else {
                    total_timeout
                },
                exchange: Box::new(exchange),
            }
        } else {
            // The request may be on the wire: assume the worst.
            finish(&mut exchange, rec, t0, Delivery::MaybeSent);
            ClientError::ResponseTimeout {
                after: total_timeout,
                exchange: Box::new(exchange),
            }
        };
    }

    if connect_phase {
        finish(&mut exchange, rec, t0, Delivery::NotSent);
        let exchange = Box::new(exchange);
        return match io_kind {
            Some(std::io::ErrorKind::ConnectionRefused) => ClientError::ConnectionRefused {
                exchange,
                source: err,
            },
            Some(std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable) => {
                ClientError::Unreachable {
                    exchange,
                    source: err,
                }
            }
            _ => ClientError::Connect {
                exchange,
                source: err,
            },
        };
    }

    finish(&mut exchange, rec, t0, Delivery::MaybeSent);
    ClientError::NoResponse {
        exchange: Box::new(exchange),
        source: err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_what_soap_1_1_stacks_send() {
        let headers =
            request_headers("urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare")
                .unwrap();
        assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
        assert_eq!(
            headers["soapaction"],
            "\"urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare\""
        );
        assert!(headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("eioa-harness/"));
    }

    #[test]
    fn soap_action_with_quote_or_newline_is_refused() {
        assert!(matches!(
            request_headers("a\"b"),
            Err(ClientError::BadSoapAction { .. })
        ));
        assert!(matches!(
            request_headers("a\r\nX-Injected: 1"),
            Err(ClientError::BadSoapAction { .. })
        ));
    }

    #[test]
    fn no_trust_roots_is_refused() {
        let cfg = ClientConfig {
            use_system_roots: false,
            ..ClientConfig::default()
        };
        assert!(matches!(Client::new(cfg), Err(ClientError::NoTrustRoots)));
    }
}
