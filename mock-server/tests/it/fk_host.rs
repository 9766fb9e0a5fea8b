//! The stand-in posing as FK's hosts: certificates with FK's host names (`certs init
//! --fk-hosts`), checked by a rustls client that connects to 127.0.0.1 but verifies
//! the FK name, as `eioa connect --resolve` does.

use std::sync::Arc;
use std::time::Duration;

use eioa_mock_server::certs::DevPki;
use eioa_mock_server::cli::{certs_init, CertsInitArgs};
use eioa_mock_server::fkhost::{FkHost, PROD_HOST, TEST_HOST};
use eioa_mock_server::tls::{certificate_names, certs_from_pem, PemIdentity};
use eioa_mock_server::Transport;
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
