//! The stand-in posing as FK's hosts: certificates with FK's host names (`certs init
//! --fk-hosts`), checked by a rustls client that connects to 127.0.0.1 but verifies
//! the FK name, as `eioa connect --resolve` does.

use std::sync::Arc;
use std::time::Duration;

use eioa_fk::{Verdict, PATH_PROD, PATH_TEST};
use eioa_mock_server::certs::DevPki;
use eioa_mock_server::cli::{certs_init, CertsInitArgs, StandaloneCli};
use eioa_mock_server::fkhost::{FkHost, PROD_HOST, TEST_HOST};
use eioa_mock_server::tls::{certificate_names, certs_from_pem, PemIdentity};
use eioa_mock_server::{MockError, MockServer, Transport};
use eioa_model::soap::{FaultDetail, Response};
use rustls::pki_types::{PrivateKeyDer, ServerName};

use super::rt;
use crate::support::*;

pub fn fk_pki() -> &'static DevPki {
    static P: std::sync::OnceLock<DevPki> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        DevPki::generate_with_names("Fk", &[TEST_HOST.into(), PROD_HOST.into()]).expect("pki")
    })
}

pub fn mutual(pki: &DevPki) -> Transport {
    Transport::MutualTls {
        identity: PemIdentity {
            origin: "server.pem".into(),
            cert_chain_pem: pki.server.cert_pem.clone().into_bytes(),
            key_pem: pki.server.key_pem.clone().into_bytes(),
        },
        client_ca_pem: pki.ca.cert_pem.clone().into_bytes(),
    }
}

/// A rustls client trusting `pki`'s CA, with its client certificate.
pub fn tls_for(pki: &DevPki) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in certs_from_pem(pki.ca.cert_pem.as_bytes(), "ca").unwrap() {
        roots.add(c).unwrap();
    }
    let chain = certs_from_pem(pki.client.cert_pem.as_bytes(), "client").unwrap();
    let key = PrivateKeyDer::try_from(pki.client.key_der.clone()).unwrap();
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap()
}

/// Connects to `addr` (127.0.0.1), verifying the server as `name`; the handshake's
/// outcome.
pub async fn handshake_as(
    addr: std::net::SocketAddr,
    tls: rustls::ClientConfig,
    name: &str,
) -> Result<(), std::io::Error> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
    let name = ServerName::try_from(name.to_string()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("handshake timed out"))?
        .map(|_| ())
}

#[test]
fn certs_init_fk_hosts_and_san_put_the_names_in_the_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let text = certs_init(&CertsInitArgs {
        dir: out.clone(),
        force: false,
        sans: vec!["build-host.example.se".into(), "192.0.2.10".into()],
        fk_hosts: true,
    })
    .unwrap();
    let pem = std::fs::read(out.join("server.pem")).unwrap();
    let der = certs_from_pem(&pem, "server.pem").unwrap().remove(0);
    assert_eq!(
        certificate_names(der.as_ref()).unwrap(),
        [
            "localhost",
            "127.0.0.1",
            TEST_HOST,
            PROD_HOST,
            "build-host.example.se",
            "192.0.2.10"
        ]
    );
    assert!(text.contains("--as fk-test"), "{text}");
    // A name a client cannot check is refused before anything is written.
    let bad = dir.path().join("bad");
    let e = certs_init(&CertsInitArgs {
        dir: bad.clone(),
        force: false,
        sans: vec!["*.example.se".into()],
        fk_hosts: false,
    })
    .unwrap_err();
    assert!(
        format!("{e:#}").contains("not a DNS name or an IP address"),
        "{e:#}"
    );
    assert!(!bad.exists());
}

#[test]
fn fk_hosts_certificate_verifies_as_fks_test_host_when_connecting_to_127_0_0_1() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |c| c.transport = mutual(fk_pki())).await;
        for host in [FkHost::Test, FkHost::Prod] {
            handshake_as(h.addr, tls_for(fk_pki()), host.host_name())
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", host.host_name()));
        }
        // A name the certificate does not carry is refused by the client.
        let e = handshake_as(h.addr, tls_for(fk_pki()), "fk.example.se")
            .await
            .unwrap_err();
        assert!(format!("{e:?}").contains("NotValidForName"), "{e:?}");
        h.stop().await;

        // The default certificate (localhost, 127.0.0.1) is not valid for FK's name.
        let mut h = start_with(Mode::Mutual, |_| {}).await;
        let e = handshake_as(h.addr, tls_for(dev_pki()), TEST_HOST)
            .await
            .unwrap_err();
        assert!(format!("{e:?}").contains("NotValidForName"), "{e:?}");
        h.stop().await;
    });
}

/// A reqwest client that connects to `addr` for FK's host names (curl's `--resolve`)
/// and verifies the server certificate for them, with `pki`'s client certificate.
fn resolving_client(pki: &DevPki, addr: std::net::SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_for(pki))
        .resolve(TEST_HOST, addr)
        .resolve(PROD_HOST, addr)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn start_as(pose: FkHost) -> Harness {
    start_with(Mode::Mutual, |c| {
        c.transport = mutual(fk_pki());
        c.pose_as = Some(pose);
    })
    .await
}

#[test]
fn as_fk_test_serves_the_test_path_and_answers_404_on_the_production_path() {
    rt().block_on(async {
        let mut h = start_as(FkHost::Test).await;
        let c = resolving_client(fk_pki(), h.addr);
        let base = format!("https://{TEST_HOST}:{}", h.addr.port());
        assert_eq!(
            h.server.as_ref().unwrap().endpoint(),
            format!("https://{}{PATH_TEST}", h.addr)
        );

        let r = post(&c, &format!("{base}{PATH_TEST}"), signed_request(60))
            .await
            .expect("the FK name verifies and the test path answers");
        assert_eq!(r.status(), 200);
        let tx = match Response::parse(&r.bytes().await.unwrap()) {
            Ok(Response::Accepted { tx_id }) => tx_id,
            other => panic!("expected a tx-id, got {other:?}"),
        };

        let r = post(&c, &format!("{base}{PATH_PROD}"), signed_request(61))
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let Ok(Response::Fault(f)) = Response::parse(&r.bytes().await.unwrap()) else {
            panic!("the 404 carries a SOAP fault")
        };
        assert!(
            f.faultstring.starts_with("FK-T001: ")
                && f.faultstring.contains("FK's production path")
                && f.faultstring.contains(PATH_TEST),
            "{}",
            f.faultstring
        );
        // The WSDL of the other path is not served either.
        let r = c
            .get(format!("{base}{PATH_PROD}?wsdl"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = c.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        h.stop().await;

        let recs = h.records();
        assert!(recs.iter().any(|r| r.tx_id.as_deref() == Some(tx.as_str())));
        let refused: Vec<_> = recs
            .iter()
            .filter(|r| r.target.split('?').next() == Some(PATH_PROD))
            .collect();
        assert_eq!(refused.len(), 2);
        for r in refused {
            assert_eq!(r.status, Some(404));
            assert!(
                matches!(&r.verdict, Some(Verdict::Rejected { rule, status: 404, .. }) if rule == "FK-T001"),
                "{:?}",
                r.verdict
            );
        }
    });
}

#[test]
fn as_fk_prod_serves_the_production_path_and_answers_404_on_the_test_path() {
    rt().block_on(async {
        let mut h = start_as(FkHost::Prod).await;
        let c = resolving_client(fk_pki(), h.addr);
        let base = format!("https://{PROD_HOST}:{}", h.addr.port());
        let r = post(&c, &format!("{base}{PATH_PROD}"), signed_request(62))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = post(&c, &format!("{base}{PATH_TEST}"), signed_request(63))
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let Ok(Response::Fault(f)) = Response::parse(&r.bytes().await.unwrap()) else {
            panic!("the 404 carries a SOAP fault")
        };
        assert!(
            f.faultstring.contains("FK's test path") && f.faultstring.contains(PATH_PROD),
            "{}",
            f.faultstring
        );
        h.stop().await;
    });
}

#[test]
fn posing_with_a_certificate_without_the_fk_name_is_refused_with_the_remedy() {
    rt().block_on(async {
        for pose in [FkHost::Test, FkHost::Prod] {
            let dir = tempfile::tempdir().unwrap();
            let mut cfg = config(dir.path(), Mode::Mutual);
            cfg.pose_as = Some(pose);
            let e = MockServer::start(cfg).await.unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, MockError::NotFkHost { .. }), "{e:?}");
            assert!(
                msg.contains(pose.host_name())
                    && msg.contains("localhost, 127.0.0.1")
                    && msg.contains("eioa certs init DIR --fk-hosts"),
                "{msg}"
            );
        }
        // A certificate for the other FK host only does not do either.
        let prod_only = DevPki::generate_with_names("Prod", &[PROD_HOST.into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), Mode::Mutual);
        cfg.transport = mutual(&prod_only);
        cfg.pose_as = Some(FkHost::Test);
        assert!(matches!(
            MockServer::start(cfg).await,
            Err(MockError::NotFkHost { host, .. }) if host == TEST_HOST
        ));
        // FK only speaks TLS.
        let mut cfg = config(dir.path(), Mode::Plain);
        cfg.pose_as = Some(FkHost::Test);
        assert!(matches!(
            MockServer::start(cfg).await,
            Err(MockError::PoseWithoutTls { .. })
        ));
    });
}

/// `eioa mock-server --as fk-test --pki-dir DIR` as the CLI builds it, with a PKI
/// from `eioa certs init DIR --fk-hosts`: it trusts the harness's own test signer,
/// so a notification signed by `eioa sign` (the embedded test PKI, signed now) gets
/// a tx-id over FK's name. Without --fk-hosts it does not start.
#[test]
fn cli_as_fk_test_trusts_the_harness_signer_and_needs_fk_hosts() {
    use clap::Parser as _;
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let init = |fk_hosts: bool, force: bool| {
        certs_init(&CertsInitArgs {
            dir: pki_dir.clone(),
            force,
            sans: Vec::new(),
            fk_hosts,
        })
        .unwrap()
    };
    let args = |extra: &[&str]| {
        let mut a = vec![
            "eioa-mock-server".to_string(),
            "--as".into(),
            "fk-test".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--pace-ms".into(),
            "0".into(),
            "--pki-dir".into(),
            pki_dir.display().to_string(),
            "--data-dir".into(),
            dir.path().join("data").display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        StandaloneCli::try_parse_from(a).unwrap().serve
    };
    rt().block_on(async {
        init(false, false);
        let e = MockServer::start(args(&[]).to_config().unwrap())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("--fk-hosts"), "{e}");

        init(true, true);
        let server = MockServer::start(args(&[]).to_config().unwrap())
            .await
            .expect("starts with an --fk-hosts certificate");
        let addr = server.local_addr();
        let client = client_for_dir(&pki_dir, addr);
        let url = format!("https://{TEST_HOST}:{}{PATH_TEST}", addr.port());
        let r = post(&client, &url, signed_now_by_the_harness(64))
            .await
            .unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        assert!(
            matches!(Response::parse(&body), Ok(Response::Accepted { .. })),
            "{status}: {}",
            String::from_utf8_lossy(&body)
        );
        server.shutdown().await;

        // --no-test-ca: the same notification is refused as unsigned by a known CA.
        let server = MockServer::start(args(&["--no-test-ca"]).to_config().unwrap())
            .await
            .unwrap();
        let url = format!(
            "https://{TEST_HOST}:{}{PATH_TEST}",
            server.local_addr().port()
        );
        let client = client_for_dir(&pki_dir, server.local_addr());
        let r = post(&client, &url, signed_now_by_the_harness(65))
            .await
            .unwrap();
        let body = r.bytes().await.unwrap();
        assert!(
            matches!(
                Response::parse(&body),
                Ok(Response::Fault(ref f)) if matches!(f.detail, Some(FaultDetail::SignatureValidationError { .. }))
            ),
            "{}",
            String::from_utf8_lossy(&body)
        );
        server.shutdown().await;
    });
}

fn client_for_dir(pki_dir: &std::path::Path, addr: std::net::SocketAddr) -> reqwest::Client {
    let read = |name: &str| std::fs::read(pki_dir.join(name)).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in certs_from_pem(&read("ca.pem"), "ca").unwrap() {
        roots.add(c).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        certs_from_pem(&read("client.pem"), "client").unwrap(),
        rustls_pemfile::private_key(&mut &read("client.key")[..])
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve(TEST_HOST, addr)
        .resolve(PROD_HOST, addr)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A request for notification `n` signed now with the harness's embedded test PKI,
/// as `eioa sign` makes it.
fn signed_now_by_the_harness(n: u16) -> Vec<u8> {
    let pki = eioa_sign::TestPki::embedded().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let note = notification(n);
    let payload = note.to_xml().into_bytes();
    let lines = [eioa_sign::VisibleLine {
        name: format!("{} {}", note.assistent.fornamn, note.assistent.efternamn),
        personnummer: note.assistent.personnummer.clone(),
    }];
    let text = eioa_sign::visible_text(&lines, now);
    let refs: [(&str, &[u8]); 1] = [(note.id.as_str(), payload.as_slice())];
    let signed = eioa_sign::sign(
        &pki,
        pki.signer(),
        &eioa_sign::SignInput {
            notifications: &refs,
            visible_text: &text,
            when: now,
        },
    )
    .unwrap();
    eioa_model::soap::Request {
        payload,
        underskrifter: vec![eioa_model::soap::Underskrift {
            signaturtyp: eioa_model::soap::Signaturtyp::Anordnare,
            signatur: signed.signature_xml,
            ocspresponse: signed.ocsp_der,
            signaturdatum: now.date().to_string(),
        }],
    }
    .to_xml()
}

fn wsdl_request(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path}?wsdl HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes()
}

async fn fetch_wsdl(h: &Harness, host: &str) -> String {
    match raw(
        h.addr,
        Some(tls_for(fk_pki())),
        &wsdl_request(PATH_TEST, host),
        Duration::from_secs(10),
    )
    .await
    {
        Raw::Answer(got) => String::from_utf8_lossy(&got).into_owned(),
        other => panic!("{host:?}: {other:?}"),
    }
}

/// Every `location="…"` and `schemaLocation="…"` value in a WSDL.
fn locations(wsdl: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["location=\"", "schemaLocation=\""] {
        for part in wsdl.split(key).skip(1) {
            out.push(part.split('"').next().unwrap_or("").to_string());
        }
    }
    out
}

#[test]
fn the_wsdl_names_the_host_the_client_asked_for_when_it_is_one_of_the_servers_names() {
    rt().block_on(async {
        let mut h = start_with(Mode::Mutual, |c| c.transport = mutual(fk_pki())).await;
        let port = h.addr.port();
        for (host, base) in [
            (
                format!("{TEST_HOST}:8020"),
                format!("https://{TEST_HOST}:8020"),
            ),
            (
                format!("127.0.0.1:{port}"),
                format!("https://127.0.0.1:{port}"),
            ),
            (
                format!("LOCALHOST:{port}"),
                format!("https://localhost:{port}"),
            ),
        ] {
            let wsdl = fetch_wsdl(&h, &host).await;
            assert!(wsdl.starts_with("HTTP/1.1 200"), "{wsdl}");
            let locs = locations(&wsdl);
            assert!(locs.len() >= 2, "{wsdl}");
            for l in &locs {
                if l.starts_with("http") {
                    assert!(l.starts_with(&format!("{base}{PATH_TEST}")), "{host}: {l}");
                }
            }
            assert!(
                locs.iter().any(|l| l.contains("?xsd=")),
                "{host}: the schema links follow the host too: {locs:?}"
            );
        }
        h.stop().await;
    });
}

#[test]
fn a_bogus_host_header_is_never_echoed_into_the_wsdl() {
    rt().block_on(async {
        // Not posing: the fallback is the certificate's first name.
        let mut h = start_with(Mode::Mutual, |c| c.transport = mutual(fk_pki())).await;
        let fallback = format!("https://localhost:{}{PATH_TEST}", h.addr.port());
        for host in [
            "evil.example.com:8020",
            "0.0.0.0:8020",
            "localhost\"><script>x</script>",
            "localhost:8020\"/><a href=\"x",
            "<evil>",
            "localhost:8020/../x",
            "user@localhost",
        ] {
            let wsdl = fetch_wsdl(&h, host).await;
            if !wsdl.starts_with("HTTP/1.1 200") {
                // hyper refusing the header outright is fine too.
                assert!(wsdl.starts_with("HTTP/1.1 400"), "{host}: {wsdl}");
                continue;
            }
            for l in locations(&wsdl).iter().filter(|l| l.starts_with("http")) {
                assert!(l.starts_with(&fallback), "{host}: {l}");
            }
            for bad in ["evil", "0.0.0.0", "<script", "href=", "../x", "user@"] {
                assert!(!wsdl.contains(bad), "{host}: {bad} echoed");
            }
        }
        h.stop().await;

        // Posing as FK's test host: an unknown host falls back to FK's name.
        let mut h = start_as(FkHost::Test).await;
        let wsdl = fetch_wsdl(&h, "stand-in.example.com").await;
        let want = format!("https://{TEST_HOST}:{}{PATH_TEST}", h.addr.port());
        let locs = locations(&wsdl);
        assert!(
            locs.iter()
                .filter(|l| l.starts_with("http"))
                .all(|l| l.starts_with(&want)),
            "{locs:?}"
        );
        assert!(!wsdl.contains("stand-in.example.com"));
        h.stop().await;
    });
}
