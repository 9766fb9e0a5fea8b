//! Shared set-up: a console on 127.0.0.1 over temp folders, a stand-in in plain HTTP.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use eioa_console::{Console, ConsoleConfig};
use eioa_mock_server::{MockConfig, MockServer, RunningServer, Transport};
use eioa_validate::Validator;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn faq_as_printed() -> Vec<u8> {
    std::fs::read(root().join("fixtures/faq/faq-example-as-printed.xml")).unwrap()
}

pub fn faq_corrected() -> Vec<u8> {
    std::fs::read(root().join("fixtures/faq/faq-example-corrected.xml")).unwrap()
}

pub fn validator() -> Arc<Validator> {
    static V: OnceLock<Arc<Validator>> = OnceLock::new();
    V.get_or_init(|| Arc::new(Validator::embedded().expect("schema set")))
        .clone()
}

pub fn config(data_dir: Option<&Path>, reports: &Path) -> ConsoleConfig {
    ConsoleConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.map(Path::to_path_buf),
        reports: reports.to_path_buf(),
        allow_remote: false,
        token: None,
        validators: vec![validator()],
    }
}

pub async fn console(data_dir: Option<&Path>, reports: &Path) -> Console {
    Console::start(config(data_dir, reports))
        .await
        .expect("console starts")
}

/// The real stand-in, plain HTTP on 127.0.0.1, journaling into `data_dir`.
pub async fn stand_in(data_dir: &Path) -> RunningServer {
    let fk = eioa_fk::FkConfig::new(validator());
    let mut cfg = MockConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        Transport::PlainHttp,
        fk,
        data_dir,
    );
    cfg.pacing.min_interval = Duration::ZERO;
    MockServer::start(cfg).await.expect("stand-in starts")
}

/// Sends a SOAP request with `body` to the stand-in; returns the HTTP status.
pub async fn send(server: &RunningServer, body: &[u8]) -> u16 {
    http()
        .post(server.endpoint())
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", format!("\"{}\"", eioa_fk::SOAP_ACTION))
        .body(body.to_vec())
        .send()
        .await
        .expect("stand-in answers")
        .status()
        .as_u16()
}

/// Polls `check` every 50 ms until it gives a value or `within` has passed.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if start.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One raw HTTP/1.1 request (the path exactly as given, not normalised by a URL
/// library): `(status, body)`.
pub async fn raw_get(addr: std::net::SocketAddr, target: &str, host: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |x| x.1).to_string();
    (status, body)
}

/// An HTTP client for the console and the stand-in in plain HTTP (the workspace's
/// reqwest has no default TLS set-up: it gets one that trusts nothing).
pub fn http() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub async fn get(url: String) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

/// FK's clock for signed requests (signatures are made for it).
pub const NOW: time::OffsetDateTime = time::macros::datetime!(2025-03-14 10:00 UTC);

/// A fictitious signing PKI the stand-in of [`signing_stand_in`] trusts.
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

/// Like [`stand_in`], but its FK trusts [`sign_pki`] at [`NOW`], so
/// [`signed_request`] gets a tx-id.
pub async fn signing_stand_in(data_dir: &Path) -> RunningServer {
    let mut fk = eioa_fk::FkConfig::new(validator());
    fk.now = Some(NOW);
    fk.trust_anchors = vec![sign_pki().ca_cert_der().to_vec()];
    let mut cfg = MockConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        Transport::PlainHttp,
        fk,
        data_dir,
    );
    cfg.pacing.min_interval = Duration::ZERO;
    MockServer::start(cfg).await.expect("stand-in starts")
}

/// A valid, signed request body for notification `n` (fictitious people).
pub fn signed_request(n: u16) -> Vec<u8> {
    use eioa_model::ident::{orgnr, personnummer};
    use eioa_model::soap::{Request, Signaturtyp, Underskrift};
    use eioa_model::{
        Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person,
    };
    use time::macros::date;
    let note = Notification {
        id: format!("7d1e2f30-4a5b-4c6d-8e7f-{:012x}", 0x3000 + u64::from(n)),
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
    };
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
