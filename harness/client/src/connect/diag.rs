//! The TLS diagnosis (`C-TLS-*`): one handshake on the TCP check's connection, recorded by a
//! verifier that hands every decision to webpki, then each verdict judged on its own.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{AlertDescription, DigitallySignedStruct, RootCertStore, SignatureScheme};
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::cert::{self, when};
use super::checks::{self};
use super::identity::IdState;
use super::model::{CertPanel, Fact, Status};
use super::probe::{alert_name, ms, rustls_error, tls_defs, version_name, Probe, Remedy};
use crate::tls::{root_store, with as note};

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    cert_requested: bool,
    ca_names: Vec<Vec<u8>>,
    client_cert_sent: bool,
    /// The identity's key could sign with none of the schemes the server accepts, so
    /// rustls answered the request with an empty certificate message.
    key_mismatch: Option<KeyMismatch>,
}

#[derive(Debug, Clone)]
struct KeyMismatch {
    /// The key's algorithm (`ECDSA`, `RSA`, …).
    key: String,
    /// The signature schemes the server named.
    server: Vec<String>,
}

impl KeyMismatch {
    fn summary(&self) -> String {
        format!(
            "the client's {} key cannot make any signature the server accepts ({}), so no certificate was sent",
            self.key,
            self.server.join(", ")
        )
    }

    fn remedy(&self) -> Remedy {
        let schemes = self.server.join(", ");
        Remedy::new(
            format!("The key type does not match what the server accepts: it takes {schemes} signatures only. Use a certificate whose key the server accepts (for FK, the one ordered from Expisoft)."),
            format!("Nyckeltypen stämmer inte med det servern godtar: den tar bara emot signaturer av typen {schemes}. Använd ett certifikat med en nyckel som servern godtar (för FK, det som beställts från Expisoft)."),
        )
    }
}

type SeenRec = Arc<Mutex<Seen>>;

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
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // rustls sends the certificate only when the key can sign with one of the
        // server's schemes; otherwise it sends an empty certificate message.
        let usable = self
            .key
            .as_ref()
            .is_some_and(|k| k.key.choose_scheme(sigschemes).is_some());
        note(&self.rec, |s| {
            s.cert_requested = true;
            s.ca_names = root_hint_subjects.iter().map(|n| n.to_vec()).collect();
            s.client_cert_sent = usable;
            s.key_mismatch = match &self.key {
                Some(k) if !usable => Some(KeyMismatch {
                    key: format!("{:?}", k.key.algorithm()),
                    server: sigschemes.iter().map(|s| format!("{s:?}")).collect(),
                }),
                _ => None,
            };
        });
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// How the TLS diagnosis ended.
pub(super) enum TlsEnd {
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
    // ---- TLS --------------------------------------------------------------------------------

    pub(super) async fn tls(
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
                    Some(Remedy::new(
                        "Pass the CA that issued the server's certificate with --ca FILE.",
                        "Ange CA-certifikatet som utfärdade serverns certifikat med --ca FILE.",
                    )),
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
                    Some(Remedy::new(
                        "Use a host name or an IP address in the URL.",
                        "Använd ett värdnamn eller en IP-adress i URL:en.",
                    )),
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
                    Some(Remedy::new(
                        "Check the --ca files: each must be a CA certificate.",
                        "Kontrollera filerna till --ca: var och en måste vara ett CA-certifikat.",
                    )),
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
                    Some(Remedy::new(
                        format!("Something accepts TCP at {peer} but does not speak TLS: check the port and that the URL is https (FK: test 8020, production 7020); if a proxy or TLS inspection sits in between, ask for a direct route."),
                        format!("Något tar emot TCP på {peer} men talar inte TLS: kontrollera porten och att URL:en är https (FK: test 8020, produktion 7020); om en proxy eller TLS-inspektion sitter emellan, be om en direkt väg."),
                    )), t);
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
                            Some(Remedy::new(
                                "The server and this client share no TLS version or cipher suite (TLS 1.2 and 1.3 are offered), or the server refuses the name asked for: check the URL's host name and port.",
                                "Servern och klienten har ingen gemensam TLS-version eller chiffersvit (TLS 1.2 och 1.3 erbjuds), eller så avvisar servern namnet som efterfrågades: kontrollera värdnamnet och porten i URL:en.",
                            )), t);
                        (TlsEnd::Broken, tls_err, None, None, None)
                    }
                    _ => {
                        self.push(checks::TLS_HANDSHAKE, Status::Fail, format!("the TLS handshake with {peer} failed: {e}"), vec![Fact::new("peer", peer.clone()), Fact::new("error", e.to_string())],
                            Some(Remedy::new(
                                format!("Something at {peer} does not complete a TLS handshake: check the port and that the URL is https; a proxy or TLS inspection in between breaks mutual TLS."),
                                format!("Något på {peer} slutför inte en TLS-handskakning: kontrollera porten och att URL:en är https; en proxy eller TLS-inspektion emellan gör ömsesidig TLS omöjlig."),
                            )), t);
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
                self.push(checks::TLS_CA_NAMES, Status::Warn, "the server did not ask for a client certificate", vec![], Some(Remedy::new(
                    "FK's service always asks for one: you may be talking to something else (a proxy, TLS inspection, the wrong port).",
                    "FK:s tjänst begär alltid ett klientcertifikat: du kan ha nått något annat (en proxy, TLS-inspektion, fel port).",
                )), t);
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
                        facts, Some(Remedy::new(
                            format!("The server will likely refuse this certificate: use a certificate issued under {} (for FK, the one ordered from Expisoft), with its intermediates.", names.join("; ")),
                            format!("Servern kommer troligen att avvisa certifikatet: använd ett certifikat utfärdat under {} (för FK, det som beställts från Expisoft), med dess mellanliggande certifikat.", names.join("; ")),
                        )), t),
                }
            }
        }

        // The server's verdict on the client certificate.
        let t = Instant::now();
        let sent = match (&seen.key_mismatch, seen.client_cert_sent) {
            (_, true) => "yes",
            (Some(_), false) => "no (the key type does not match what the server accepts)",
            (None, false) => "no",
        };
        let mismatch = seen.key_mismatch.clone();
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
                self.client_cert_refused(
                    alert,
                    sent,
                    id,
                    t,
                    "during the handshake",
                    mismatch.as_ref(),
                );
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
                            self.push(checks::TLS_CLIENT_CERT, Status::Warn, "no client certificate was asked for, so none was checked", facts, Some(Remedy::new(
                                "Mutual TLS is not proven: FK's service asks for the certificate; check that you reach the right host and port.",
                                "Ömsesidig TLS är inte bevisad: FK:s tjänst begär certifikatet; kontrollera att du når rätt värd och port.",
                            )), t);
                        } else if let Some(m) = &mismatch {
                            self.push(checks::TLS_CLIENT_CERT, Status::Fail, m.summary(), facts, Some(m.remedy()), t);
                        } else if !seen.client_cert_sent {
                            self.push(checks::TLS_CLIENT_CERT, Status::Warn, "the server asked for a client certificate, none was sent, and it did not object", facts, Some(Remedy::new(
                                "Pass the certificate from Expisoft with --p12 or --cert/--key: FK refuses connections without it.",
                                "Ange certifikatet från Expisoft med --p12 eller --cert/--key: FK avvisar anslutningar utan det.",
                            )), t);
                        } else {
                            self.push(checks::TLS_CLIENT_CERT, Status::Pass, format!("accepted: no alert within {} after the handshake", ms(self.opts.alert_wait)), facts, None, t);
                        }
                    }
                    Ok(Err(e)) => match rustls_error(&e) {
                        Some(rustls::Error::AlertReceived(alert)) => self.client_cert_refused(alert, sent, id, t, "after the handshake", mismatch.as_ref()),
                        _ => self.push(checks::TLS_CLIENT_CERT, Status::Fail, format!("the connection failed right after the handshake: {e}"), facts, Some(Remedy::new(
                            "The server dropped the connection without naming a reason: check with the server's operator that this certificate is registered for the service.",
                            "Servern stängde anslutningen utan att ange något skäl: kontrollera med serverns driftansvariga att certifikatet är registrerat för tjänsten.",
                        )), t),
                    },
                    Ok(Ok(0)) => self.push(checks::TLS_CLIENT_CERT, Status::Warn, "the server closed the connection right after the handshake, without an alert", facts, Some(Remedy::new(
                        "Some servers close silently when they refuse a certificate: if the HTTP check fails too, ask the server's operator whether this certificate is registered.",
                        "Vissa servrar stänger tyst när de avvisar ett certifikat: om även HTTP-kontrollen misslyckas, fråga serverns driftansvariga om certifikatet är registrerat.",
                    )), t),
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
        mismatch: Option<&KeyMismatch>,
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
        // The identity was given but could not be used: say why, not "pass one".
        let remedy = match mismatch {
            Some(m) => m.remedy(),
            None => match alert {
                AlertDescription::CertificateRequired => Remedy::new(
                    "The server requires a client certificate: pass the certificate from Expisoft with --p12 FILE or --cert FILE --key FILE.",
                    "Servern kräver ett klientcertifikat: ange certifikatet från Expisoft med --p12 FILE eller --cert FILE --key FILE.",
                ),
                AlertDescription::UnknownCA => Remedy::new(
                    format!("The server does not trust the authority that issued the client certificate ({issuer}): use the certificate FK accepts (ordered from Expisoft) and include its intermediate certificates."),
                    format!("Servern litar inte på utfärdaren av klientcertifikatet ({issuer}): använd det certifikat som FK godtar (beställt från Expisoft) och skicka med dess mellanliggande certifikat."),
                ),
                AlertDescription::BadCertificate => Remedy::new(
                    "The server could not verify the client certificate (a broken chain, a missing intermediate, or a key that does not match): include the intermediates and check the key.",
                    "Servern kunde inte verifiera klientcertifikatet (en bruten kedja, ett saknat mellanliggande certifikat eller en nyckel som inte hör till certifikatet): skicka med de mellanliggande certifikaten och kontrollera nyckeln.",
                ),
                AlertDescription::CertificateExpired => Remedy::new(
                    "The server says the client certificate has expired: order a new one from Expisoft.",
                    "Servern anger att klientcertifikatet har gått ut: beställ ett nytt certifikat från Expisoft.",
                ),
                AlertDescription::CertificateRevoked => Remedy::new(
                    "The client certificate has been revoked: order a new one from Expisoft.",
                    "Klientcertifikatet har spärrats: beställ ett nytt certifikat från Expisoft.",
                ),
                AlertDescription::UnsupportedCertificate => Remedy::new(
                    "The server does not accept this kind of certificate (key type or usage): use the certificate Expisoft issued for the connection.",
                    "Servern godtar inte den här sortens certifikat (nyckeltyp eller användning): använd certifikatet som Expisoft utfärdade för anslutningen.",
                ),
                AlertDescription::AccessDenied => Remedy::new(
                    "The certificate is valid but not allowed: ask FK whether the connection agreement for this certificate is in place.",
                    "Certifikatet är giltigt men saknar behörighet: fråga FK om anslutningsavtalet för certifikatet är på plats.",
                ),
                AlertDescription::HandshakeFailure => Remedy::new(
                    "The server ended the handshake without a specific reason: most often it refused the client certificate; check it is the one registered with FK.",
                    "Servern avbröt handskakningen utan att ange något skäl: oftast har den avvisat klientcertifikatet; kontrollera att det är certifikatet som är registrerat hos FK.",
                ),
                _ => Remedy::new(
                    format!("The server refused the connection with `{name}`: show this alert to the server's operator."),
                    format!("Servern avvisade anslutningen med TLS-felkoden `{name}`: visa felkoden för serverns driftansvariga."),
                ),
            },
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
    pub(super) fn server_cert_checks(
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

        // Every certificate the server presented after its own, with its place in the chain,
        // and those outside their validity now.
        let others: Vec<(usize, CertPanel)> = chain
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(i, c)| cert::parse(c, now).map(|c| (i, c.panel)))
            .collect();
        let leaf_valid_now = !out_of_date(&panel, now);
        let stale: Vec<&(usize, CertPanel)> =
            others.iter().filter(|(_, p)| out_of_date(p, now)).collect();
        let date_refusal = matches!(
            handshake_error,
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired
                    | rustls::CertificateError::ExpiredContext { .. }
                    | rustls::CertificateError::NotValidYet
                    | rustls::CertificateError::NotValidYetContext { .. }
            ))
        );

        // Trust: judged at a moment inside the certificates' validity (now when the leaf is
        // valid, else the middle of the leaf's or of a presented certificate's validity), so
        // that an out-of-date certificate from a trusted authority is reported as out of
        // date, not as untrusted.
        let t = Instant::now();
        let mut moments = Vec::new();
        if leaf_valid_now {
            moments.push(now);
        }
        moments.push(midpoint(&panel));
        moments.extend(others.iter().map(|(_, p)| midpoint(p)));
        let trust_at = |at: OffsetDateTime| {
            let at =
                UnixTime::since_unix_epoch(Duration::from_secs(at.unix_timestamp().max(0) as u64));
            parsed.as_ref().map_err(|e| e.clone()).and_then(|p| {
                rustls::client::verify_server_cert_signed_by_trust_anchor(
                    p,
                    roots,
                    &chain[1..],
                    at,
                    algs,
                )
            })
        };
        let mut trust = trust_at(moments[0]);
        for at in &moments[1..] {
            if trust.is_ok() {
                break;
            }
            if trust_at(*at).is_ok() {
                trust = Ok(());
            }
        }
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
            // The leaf is in date, the chain leads to a trusted root, yet the verifier refused
            // it for a date: a certificate between them is out of date.
            (Ok(()), false) if date_refusal && leaf_valid_now => {
                let e = handshake_error.map(|e| e.to_string()).unwrap_or_default();
                let (summary, remedy) = match stale.first() {
                    Some((i, p)) => (
                        format!("the chain leads to a trusted authority, but the handshake was refused because {} (certificate {} of {} presented) {}", chain_cert_name(p), i + 1, chain.len(), validity_text(p, now)),
                        stale_remedy(p, now),
                    ),
                    None => (
                        format!("the chain leads to a trusted authority, but the handshake was refused for a date: {e}"),
                        Remedy::new(
                            "A certificate of the server's chain (perhaps the authority's own) is out of its validity: check this machine's clock, then tell the server's operator (for FK's host, FK's support) to renew it.",
                            "Ett certifikat i serverns kedja (kanske utfärdarens eget) är utanför sin giltighetstid: kontrollera datorns klocka, och be sedan serverns driftansvariga (för FK:s värd, FK:s support) att förnya det.",
                        ),
                    ),
                };
                self.push(checks::TLS_SERVER_TRUST, Status::Fail, summary, facts, Some(remedy), t);
            }
            (Ok(()), false) => self.push(checks::TLS_SERVER_TRUST, Status::Pass, format!("issued by {}, a trusted authority", panel.issuer), facts, None, t),
            (Ok(()), true) => {
                let e = handshake_error.map(|e| e.to_string()).unwrap_or_default();
                self.push(checks::TLS_SERVER_TRUST, Status::Fail, format!("refused by the certificate verifier: {e}"), facts, Some(Remedy::new(
                    "The server's certificate is not usable for TLS here (revoked, wrong purpose or a broken extension): tell the server's operator.",
                    "Serverns certifikat kan inte användas för TLS här (spärrat, fel användningsområde eller ett felaktigt tillägg): meddela serverns driftansvariga.",
                )), t);
            }
            (Err(e), _) => self.push(checks::TLS_SERVER_TRUST, Status::Fail, format!("not trusted: issuer {} is not a trusted authority ({e})", panel.issuer), facts,
                Some(Remedy::new(
                    format!("Pass the certificate of the authority that issued the server's certificate ({}) with --ca FILE: for FK, the CA named in FK's onboarding material; for the stand-in, its dev CA (ca.pem).", panel.issuer),
                    format!("Ange certifikatet för utfärdaren av serverns certifikat ({}) med --ca FILE: för FK, den CA som anges i FK:s anslutningsmaterial; för ersättningsservern, dess utvecklings-CA (ca.pem).", panel.issuer),
                )), t),
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
                    Remedy::new(
                        format!("Connect by the name on the certificate: use https://{first}:PORT/… with --resolve {first}:PORT:{host}."),
                        format!("Anslut med namnet i certifikatet: använd https://{first}:PORT/… med --resolve {first}:PORT:{host}."),
                    )
                } else {
                    let names = if panel.sans.is_empty() {
                        panel.subject.clone()
                    } else {
                        panel.sans.join(", ")
                    };
                    Remedy::new(
                        format!("The certificate is for {names}, not {host}: you reached a different server (a proxy, TLS inspection or the wrong address); check the URL, DNS and --resolve."),
                        format!("Certifikatet gäller {names}, inte {host}: du har nått en annan server (en proxy, TLS-inspektion eller fel adress); kontrollera URL:en, DNS och --resolve."),
                    )
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

        // Validity, of every certificate the server presented.
        let t = Instant::now();
        let mut facts = vec![
            Fact::new("not before", when(panel.not_before)),
            Fact::new("not after", when(panel.not_after)),
            Fact::new("days left", panel.days_left.to_string()),
        ];
        for (i, p) in &others {
            facts.push(Fact::new(
                format!("certificate {} of {}", i + 1, chain.len()),
                format!(
                    "{}: {} to {}",
                    p.subject,
                    when(p.not_before),
                    when(p.not_after)
                ),
            ));
        }
        if now > panel.not_after {
            self.push(checks::TLS_SERVER_VALID, Status::Fail, format!("expired {}", when(panel.not_after)), facts, Some(Remedy::new(
                "The server's certificate has expired: if this is FK's host, tell FK's support; for a stand-in, make new certificates (eioa certs init).",
                "Serverns certifikat har gått ut: om det är FK:s värd, meddela FK:s support; för en ersättningsserver, skapa nya certifikat (eioa certs init).",
            )), t);
        } else if now < panel.not_before {
            self.push(
                checks::TLS_SERVER_VALID,
                Status::Fail,
                format!("not valid before {}", when(panel.not_before)),
                facts,
                Some(Remedy::new(
                    "The server's certificate is not valid yet: check this machine's clock.",
                    "Serverns certifikat är inte giltigt ännu: kontrollera datorns klocka.",
                )),
                t,
            );
        } else if let Some((i, p)) = stale.first() {
            // Out of date but not needed by the verifier (the handshake went through): a
            // client that builds the chain another way may still refuse it.
            let status = if handshake_error.is_none() {
                Status::Warn
            } else {
                Status::Fail
            };
            self.push(
                checks::TLS_SERVER_VALID,
                status,
                format!(
                    "{} (certificate {} of {} presented) {}",
                    chain_cert_name(p),
                    i + 1,
                    chain.len(),
                    validity_text(p, now)
                ),
                facts,
                Some(stale_remedy(p, now)),
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
}

fn out_of_date(p: &CertPanel, now: OffsetDateTime) -> bool {
    now > p.not_after || now < p.not_before
}

fn midpoint(p: &CertPanel) -> OffsetDateTime {
    let half: time::Duration = (p.not_after - p.not_before) / 2;
    p.not_before + half
}

/// `intermediate`, or `root` for a certificate that issued itself.
fn chain_cert_kind(p: &CertPanel) -> &'static str {
    if p.subject == p.issuer {
        "root"
    } else {
        "intermediate"
    }
}

/// `the intermediate certificate CN=…`.
fn chain_cert_name(p: &CertPanel) -> String {
    format!("the {} certificate {}", chain_cert_kind(p), p.subject)
}

fn validity_text(p: &CertPanel, now: OffsetDateTime) -> String {
    if now > p.not_after {
        format!("expired {}", when(p.not_after))
    } else {
        format!("is not valid before {}", when(p.not_before))
    }
}

fn stale_remedy(p: &CertPanel, now: OffsetDateTime) -> Remedy {
    if now > p.not_after {
        let kind_sv = match chain_cert_kind(p) {
            "root" => "rotcertifikat",
            _ => "mellanliggande certifikat",
        };
        Remedy::new(
            format!("The server presents an expired {} certificate ({}, issued by {}): the server's operator must renew or replace that certificate (for FK's host, tell FK's support; for a stand-in, make new certificates with eioa certs init).", chain_cert_kind(p), p.subject, p.issuer),
            format!("Servern skickar ett utgånget {kind_sv} ({}, utfärdat av {}): serverns driftansvariga måste förnya eller byta ut certifikatet (för FK:s värd, meddela FK:s support; för en ersättningsserver, skapa nya certifikat med eioa certs init).", p.subject, p.issuer),
        )
    } else {
        Remedy::new(
            format!("The server presents a certificate that is not valid yet ({}): check this machine's clock; if it is right, the server's operator must replace that certificate.", p.subject),
            format!("Servern skickar ett certifikat som inte är giltigt ännu ({}): kontrollera datorns klocka; om den går rätt måste serverns driftansvariga byta ut certifikatet.", p.subject),
        )
    }
}
