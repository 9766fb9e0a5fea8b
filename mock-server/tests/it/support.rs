//! Shared set-up: a development PKI, a server on 127.0.0.1 in its own temp dir,
//! TLS clients with and without certificates, and signed requests.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use eioa_fk::{FkConfig, SOAP_ACTION};
use eioa_mock_server::certs::DevPki;
use eioa_mock_server::faults::FaultConfig;
use eioa_mock_server::journal::{read_journal, Record};
use eioa_mock_server::pacing::PacingConfig;
use eioa_mock_server::tls::{certs_from_pem, PemIdentity};
use eioa_mock_server::{Limits, MockConfig, MockServer, RunningServer, Transport};
use eioa_model::ident::{orgnr, personnummer};
use eioa_model::soap::{Request, Signaturtyp, Underskrift};
use eioa_model::{Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person};
use rustls::pki_types::{PrivateKeyDer, ServerName};
use time::macros::{date, datetime};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// FK's clock in these tests (signatures are made for it).
pub const NOW: OffsetDateTime = datetime!(2025-03-14 10:00 UTC);

pub fn dev_pki() -> &'static DevPki {
    static P: OnceLock<DevPki> = OnceLock::new();
    P.get_or_init(|| DevPki::generate("Test").expect("dev pki"))
}

pub fn other_pki() -> &'static DevPki {
    static P: OnceLock<DevPki> = OnceLock::new();
    P.get_or_init(|| DevPki::generate("Other").expect("other pki"))
}

pub fn sign_pki() -> &'static eioa_sign::TestPki {
    static P: OnceLock<eioa_sign::TestPki> = OnceLock::new();
    P.get_or_init(|| {
        eioa_sign::TestPki::generate_valid(
            NOW - time::Duration::days(365),
            NOW + time::Duration::days(5 * 365),
        )
        .expect("signing pki")
    })
}

fn validator() -> Arc<eioa_validate::Validator> {
    static V: OnceLock<Arc<eioa_validate::Validator>> = OnceLock::new();
    V.get_or_init(|| Arc::new(eioa_validate::Validator::embedded().expect("schema set")))
        .clone()
}

pub fn fk_config() -> FkConfig {
    let mut c = FkConfig::new(validator());
    c.now = Some(NOW);
    c.trust_anchors = vec![sign_pki().ca_cert_der().to_vec()];
    c
}

pub enum Mode {
    Mutual,
    Plain,
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub server: Option<RunningServer>,
    pub addr: SocketAddr,
}

impl Harness {
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub fn records(&self) -> Vec<Record> {
        read_journal(&self.data_dir())
            .expect("journal reads")
            .records
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.as_ref().expect("running").url())
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

pub fn config(dir: &std::path::Path, mode: Mode) -> MockConfig {
    let pki = dev_pki();
    let transport = match mode {
        Mode::Mutual => Transport::MutualTls {
            identity: PemIdentity {
                origin: "test server".into(),
                cert_chain_pem: pki.server.cert_pem.clone().into_bytes(),
                key_pem: pki.server.key_pem.clone().into_bytes(),
            },
            client_ca_pem: pki.ca.cert_pem.clone().into_bytes(),
        },
        Mode::Plain => Transport::PlainHttp,
    };
    let mut cfg = MockConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        transport,
        fk_config(),
        dir.join("data"),
    );
    cfg.pacing = PacingConfig {
        min_interval: Duration::ZERO,
        reject: false,
    };
    cfg.limits = Limits {
        drain_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    cfg
}

pub async fn start_with(mode: Mode, edit: impl FnOnce(&mut MockConfig)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), mode);
    edit(&mut cfg);
    let server = MockServer::start(cfg).await.expect("server starts");
    let addr = server.local_addr();
    Harness {
        dir,
        server: Some(server),
        addr,
    }
}

pub async fn start_faults(faults: FaultConfig) -> Harness {
    start_with(Mode::Mutual, |c| c.faults = faults).await
}

pub fn client_tls(identity: Option<&DevPki>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in certs_from_pem(dev_pki().ca.cert_pem.as_bytes(), "ca").unwrap() {
        roots.add(c).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match identity {
        Some(p) => {
            let chain = certs_from_pem(p.client.cert_pem.as_bytes(), "client").unwrap();
            let key = PrivateKeyDer::try_from(p.client.key_der.clone()).unwrap();
            b.with_client_auth_cert(chain, key).unwrap()
        }
        None => b.with_no_client_auth(),
    }
}

pub fn client(identity: Option<&DevPki>, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(identity))
        .timeout(timeout)
        .build()
        .unwrap()
}

/// The good client: the generated certificate, pinned CA.
pub fn good_client() -> reqwest::Client {
    client(Some(dev_pki()), Duration::from_secs(20))
}

pub fn notification(n: u16) -> Notification {
    Notification {
        id: format!("6c1d2e3f-4a5b-4c6d-8e7f-{:012x}", 0x2000 + u64::from(n)),
        person: Person {
            personnummer: personnummer(date!(1958 - 06 - 03), 300 + n, false),
            fornamn: "Tyra".into(),
            efternamn: "Testberg".into(),
        },
        assistent: Assistent {
            personnummer: personnummer(date!(1992 - 11 - 17), 400 + n, false),
            fornamn: "Måns".into(),
            efternamn: "Provsson".into(),
            anstallningsdatum: "2025-02-01".into(),
            narstaende: false,
            bosatt: Bosatt::InnanforEes,
            andring_galler_from: None,
        },
        arbetsgivare: Arbetsgivare::Anordnare(Anordnare {
            namn: Some("Assistans Prov AB".into()),
            organisationsnummer: orgnr("556000016"),
            kontaktperson: Some("Kim Kontakt".into()),
            telefonnummer: Some("0101234567".into()),
            anstallning: Anstallning::AnstalldAvAnordnare,
        }),
        telefonnummer_anordnare: "0101234567".into(),
    }
}

/// A valid, signed request body for notification `n` (one signature per notification).
pub fn signed_request(n: u16) -> Vec<u8> {
    let note = notification(n);
    let payload = note.to_xml().into_bytes();
    let lines = [eioa_sign::VisibleLine {
        name: format!("{} {}", note.assistent.fornamn, note.assistent.efternamn),
        personnummer: note.assistent.personnummer.clone(),
    }];
    let text = eioa_sign::visible_text(&lines, NOW);
    let refs: [(&str, &[u8]); 1] = [(note.id.as_str(), payload.as_slice())];
    let signed = eioa_sign::sign(
        sign_pki(),
        sign_pki().signer(),
        &eioa_sign::SignInput {
            notifications: &refs,
            visible_text: &text,
            when: NOW,
        },
    )
    .expect("signing works");
    Request {
        payload,
        underskrifter: vec![Underskrift {
            signaturtyp: Signaturtyp::Anordnare,
            signatur: signed.signature_xml,
            ocspresponse: signed.ocsp_der,
            signaturdatum: "2025-03-14".into(),
        }],
    }
    .to_xml()
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(url)
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", format!("\"{SOAP_ACTION}\""))
        .body(body)
        .send()
        .await
}

/// What a raw TLS client saw.
#[derive(Debug)]
pub enum Raw {
    Handshake(std::io::Error),
    /// Bytes read before EOF.
    Answer(Vec<u8>),
    /// A read or write error after the handshake, with the bytes read before it.
    Failed(std::io::Error, Vec<u8>),
    TimedOut,
}

/// Connects (TLS with `tls`, or plain), writes `bytes`, reads until EOF.
pub async fn raw(
    addr: SocketAddr,
    tls: Option<rustls::ClientConfig>,
    bytes: &[u8],
    limit: Duration,
) -> Raw {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("tcp connect");
    match tls {
        None => exchange(tcp, bytes, limit).await,
        Some(cfg) => {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
            let name = ServerName::IpAddress(addr.ip().into());
            match tokio::time::timeout(limit, connector.connect(name, tcp)).await {
                Err(_) => Raw::TimedOut,
                Ok(Err(e)) => Raw::Handshake(e),
                Ok(Ok(s)) => exchange(s, bytes, limit).await,
            }
        }
    }
}

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    bytes: &[u8],
    limit: Duration,
) -> Raw {
    let mut got = Vec::new();
    let work = async {
        s.write_all(bytes).await?;
        let _ = s.flush().await;
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    };
    match tokio::time::timeout(limit, work).await {
        Err(_) => Raw::TimedOut,
        Ok(Ok(())) => Raw::Answer(got),
        Ok(Err(e)) => Raw::Failed(e, got),
    }
}

/// An HTTP/1.1 POST of a signed request, closing after the answer.
pub fn raw_post(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"{SOAP_ACTION}\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        eioa_fk::PATH_TEST,
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}
