//! Integration tests: the client against a real rustls server on 127.0.0.1, with certificates
//! made by rcgen for each test run.

mod connect;
mod pki;
mod server;

use std::time::Duration;

use eioa_client::{
    Client, ClientConfig, ClientError, Delivery, Identity, IdentityError, Pace, PaceScope, Secret,
    ServerCertProblem, Target, Url, DEFAULT_MAX_RESPONSE_BYTES,
};
use pki::{Leaf, Pki};
use server::{plain_http, Behaviour, ServerOpts, SilentServer, TestServer};

const ACTION: &str =
    "urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare";
const BODY: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body/></soapenv:Envelope>";
const ANSWER: &[u8] = b"<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><r>4a8db4b8-bc29-4406-901c-3f69298cabe3</r></soapenv:Body></soapenv:Envelope>";

fn target(server: &TestServer) -> Target {
    Target::Mock(
        Url::parse(&format!(
            "https://127.0.0.1:{}/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
            server.addr.port()
        ))
        .unwrap(),
    )
}

fn config(pki: &Pki, identity: Option<Identity>) -> ClientConfig {
    ClientConfig {
        identity,
        extra_roots: vec![pki.ca.der()],
        use_system_roots: false,
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        pace: Pace::default(),
        max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        resolve: Vec::new(),
    }
}

fn pem_identity(leaf: &Leaf) -> Identity {
    Identity::from_pem(leaf.cert_pem().as_bytes(), leaf.key_pem().as_bytes(), None).unwrap()
}

fn answering() -> Behaviour {
    Behaviour::Answer {
        status: 200,
        headers: vec![],
        body: ANSWER.to_vec(),
    }
}

#[tokio::test]
async fn accepted_exchange_records_tls_version_and_both_fingerprints() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();

    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();

    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.delivery, Delivery::Answered);
    assert_eq!(exchange.response_body, ANSWER);
    assert_eq!(exchange.request_body, BODY);
    assert_eq!(exchange.tls_version.as_deref(), Some("TLSv1.3"));
    assert_eq!(
        exchange.server_cert_sha256.as_deref(),
        Some(pki.server.sha256().as_str())
    );
    assert_eq!(
        exchange.client_cert_sha256.as_deref(),
        Some(pki.client.sha256().as_str())
    );
    let connect = exchange.timings.connect.expect("connect time recorded");
    assert!(connect <= exchange.timings.total);
    assert_eq!(
        exchange.response_header("content-type"),
        Some("text/xml; charset=utf-8")
    );

    // What the server saw: one request, our headers, the body byte for byte, our certificate.
    let received = server.requests();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert!(request
        .head
        .starts_with("POST /shs2/FK.EIOA.AnmalanArbetsgivare.ext HTTP/1.1\r\n"));
    assert_eq!(request.header("soapaction"), Some(format!("\"{ACTION}\"")));
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("text/xml; charset=utf-8")
    );
    assert!(request
        .header("user-agent")
        .unwrap()
        .starts_with("eioa-harness/"));
    assert_eq!(request.body, BODY);
    assert_eq!(
        request.client_cert_sha256.as_deref(),
        Some(pki.client.sha256().as_str())
    );
}

#[tokio::test]
async fn tls_1_2_server_is_recorded_as_such() {
    let pki = Pki::new();
    let mut opts = ServerOpts::mutual(&pki);
    opts.tls12_only = true;
    let server = TestServer::start(opts, answering()).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.tls_version.as_deref(), Some("TLSv1.2"));
    assert_eq!(exchange.status, Some(200));
}

#[tokio::test]
async fn soap_fault_status_is_a_result_not_an_error() {
    let pki = Pki::new();
    let server = TestServer::start(
        ServerOpts::mutual(&pki),
        Behaviour::Answer {
            status: 500,
            headers: vec![],
            body: b"<fault/>".to_vec(),
        },
    )
    .await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(500));
    assert_eq!(exchange.delivery, Delivery::Answered);
    assert_eq!(exchange.response_body, b"<fault/>");
}

#[tokio::test]
async fn redirect_is_not_followed_and_body_is_sent_once() {
    let pki = Pki::new();
    let server = TestServer::start(
        ServerOpts::mutual(&pki),
        Behaviour::Answer {
            status: 307,
            headers: vec![("Location".into(), "/elsewhere".into())],
            body: Vec::new(),
        },
    )
    .await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(307));
    assert_eq!(exchange.response_header("location"), Some("/elsewhere"));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.connections(), 1);
}

const SMALL_LIMIT: usize = 64 * 1024;

fn limited_config(pki: &Pki) -> ClientConfig {
    ClientConfig {
        max_response_bytes: SMALL_LIMIT,
        ..config(pki, Some(pem_identity(&pki.client)))
    }
}

#[tokio::test]
async fn response_longer_than_the_limit_stops_reading_and_keeps_the_head() {
    let pki = Pki::new();
    let sent: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let server = TestServer::start(
        ServerOpts::mutual(&pki),
        Behaviour::Answer {
            status: 200,
            headers: vec![("X-Scripted".into(), "large".into())],
            body: sent.clone(),
        },
    )
    .await;
    let client = Client::new(limited_config(&pki)).unwrap();

    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            ClientError::ResponseTooLarge {
                limit: SMALL_LIMIT,
                declared_length: Some(1_048_576),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.delivery(), Delivery::Answered);
    assert_eq!(
        err.to_string(),
        format!(
            "read the response body from {}: it is longer than the limit of 65536 bytes (content-length 1048576)",
            target(&server).url()
        )
    );
    let exchange = err.exchange().expect("exchange recorded");
    assert_eq!(exchange.delivery, Delivery::Answered);
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.response_header("x-scripted"), Some("large"));
    assert_eq!(exchange.response_header("content-length"), Some("1048576"));
    assert!(exchange.response_body.len() <= SMALL_LIMIT);
    assert_eq!(exchange.response_body, sent[..SMALL_LIMIT]);
    assert_eq!(exchange.tls_version.as_deref(), Some("TLSv1.3"));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn endless_response_is_cut_at_the_limit_long_before_the_timeout() {
    let pki = Pki::new();
    let server = TestServer::start(
        ServerOpts::mutual(&pki),
        Behaviour::Flood {
            chunk: 16 * 1024,
            cap: 64 * 1024 * 1024,
        },
    )
    .await;
    let client = Client::new(limited_config(&pki)).unwrap();

    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();

    assert!(
        matches!(
            err,
            ClientError::ResponseTooLarge {
                limit: SMALL_LIMIT,
                declared_length: None,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.delivery(), Delivery::Answered);
    let exchange = err.exchange().unwrap();
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.response_body.len(), SMALL_LIMIT);
    assert!(exchange.response_body.iter().all(|&b| b == b'x'));
    // The total timeout is 10 s; stopping at the limit takes a fraction of that.
    assert!(
        exchange.timings.total < Duration::from_secs(5),
        "{:?}",
        exchange.timings.total
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn response_of_exactly_the_limit_is_accepted() {
    let pki = Pki::new();
    let sent = vec![b'a'; SMALL_LIMIT];
    let server = TestServer::start(
        ServerOpts::mutual(&pki),
        Behaviour::Answer {
            status: 200,
            headers: vec![],
            body: sent.clone(),
        },
    )
    .await;
    let client = Client::new(limited_config(&pki)).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.response_body, sent);
}

#[tokio::test]
async fn encrypted_pem_key_opens_with_its_passphrase_only() {
    let pki = Pki::new();
    let secret = Secret::new("fictitious-passphrase-1");
    let encrypted = pki.client.encrypted_key_pem(secret.expose());
    let cert = pki.client.cert_pem();

    let identity =
        Identity::from_pem(cert.as_bytes(), encrypted.as_bytes(), Some(&secret)).unwrap();
    assert_eq!(identity.cert_sha256(), pki.client.sha256());

    let wrong = Identity::from_pem(
        cert.as_bytes(),
        encrypted.as_bytes(),
        Some(&Secret::new("not-the-passphrase")),
    )
    .unwrap_err();
    assert!(
        matches!(
            wrong,
            IdentityError::WrongPassphrase {
                what: "private key"
            }
        ),
        "{wrong:?}"
    );
    assert_eq!(
        wrong.to_string(),
        "decrypt the private key: wrong passphrase"
    );

    let missing = Identity::from_pem(cert.as_bytes(), encrypted.as_bytes(), None).unwrap_err();
    assert!(
        matches!(missing, IdentityError::PassphraseRequired),
        "{missing:?}"
    );

    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let client = Client::new(config(&pki, Some(identity))).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(200));
    assert_eq!(
        exchange.client_cert_sha256.as_deref(),
        Some(pki.client.sha256().as_str())
    );
}

#[tokio::test]
async fn pem_files_and_passphrase_from_env() {
    let pki = Pki::new();
    let dir = std::env::temp_dir().join(format!("eioa-client-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_path = dir.join("client.crt");
    let key_path = dir.join("client.key");
    std::fs::write(&cert_path, pki.client.cert_pem()).unwrap();
    std::fs::write(&key_path, pki.client.encrypted_key_pem("env-passphrase")).unwrap();
    // The variable name is unique to this test; no other test reads or writes it.
    std::env::set_var("EIOA_CLIENT_IT_KEY_PASSPHRASE", "env-passphrase");
    let secret = Secret::from_env("EIOA_CLIENT_IT_KEY_PASSPHRASE").unwrap();
    let identity = Identity::from_pem_files(&cert_path, &key_path, Some(&secret)).unwrap();
    assert_eq!(identity.cert_sha256(), pki.client.sha256());

    let missing =
        Identity::from_pem_files(&dir.join("absent.crt"), &key_path, Some(&secret)).unwrap_err();
    assert!(matches!(missing, IdentityError::Read { .. }), "{missing:?}");
    assert!(missing.to_string().contains("absent.crt"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn pkcs12_identity_works_and_wrong_passphrase_is_clear() {
    let pki = Pki::new();
    let p12 = pki.client.pkcs12("fictitious-p12-pass", &pki.ca);

    let wrong = Identity::from_pkcs12(&p12, &Secret::new("wrong")).unwrap_err();
    assert!(
        matches!(
            wrong,
            IdentityError::WrongPassphrase {
                what: "pkcs#12 file"
            }
        ),
        "{wrong:?}"
    );
    assert_eq!(
        wrong.to_string(),
        "decrypt the pkcs#12 file: wrong passphrase"
    );
    let garbage = Identity::from_pkcs12(b"not a pkcs12 file", &Secret::new("x")).unwrap_err();
    assert!(matches!(garbage, IdentityError::Pkcs12(_)), "{garbage:?}");

    let identity = Identity::from_pkcs12(&p12, &Secret::new("fictitious-p12-pass")).unwrap();
    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let client = Client::new(config(&pki, Some(identity))).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(200));
    assert_eq!(
        exchange.client_cert_sha256.as_deref(),
        Some(pki.client.sha256().as_str())
    );
    assert_eq!(
        server.requests()[0].client_cert_sha256.as_deref(),
        Some(pki.client.sha256().as_str())
    );
}

#[tokio::test]
async fn key_that_does_not_match_the_certificate_is_refused() {
    let pki = Pki::new();
    let err = Identity::from_pem(
        pki.client.cert_pem().as_bytes(),
        pki.other_client.key_pem().as_bytes(),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, IdentityError::KeyMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("does not match the certificate"));
    let no_key = Identity::from_pem(pki.client.cert_pem().as_bytes(), b"", None).unwrap_err();
    assert!(matches!(no_key, IdentityError::NoKey), "{no_key:?}");
}

#[tokio::test]
async fn expired_client_certificate_is_refused_before_connecting() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let expired = pem_identity(&pki.expired_client);
    let err = Client::new(config(&pki, Some(expired))).unwrap_err();
    assert!(
        matches!(err, ClientError::Identity(IdentityError::Expired { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(err.delivery(), Delivery::NotSent);

    let future = pem_identity(&pki.future_client);
    let err = Client::new(config(&pki, Some(future))).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Identity(IdentityError::NotYetValid { .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn untrusted_server_certificate_is_refused_and_nothing_is_sent() {
    let pki = Pki::new();
    let mut opts = ServerOpts::mutual(&pki);
    opts.cert = pki.rogue_server.clone();
    let server = TestServer::start(opts, answering()).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    match &err {
        ClientError::ServerCertificate {
            problem, exchange, ..
        } => {
            assert_eq!(*problem, ServerCertProblem::NotTrusted);
            assert_eq!(exchange.delivery, Delivery::NotSent);
            assert_eq!(
                exchange.server_cert_sha256.as_deref(),
                Some(pki.rogue_server.sha256().as_str())
            );
            assert_eq!(exchange.status, None);
        }
        other => panic!("expected a server certificate error, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("not issued by a trusted authority"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn server_certificate_for_another_name_is_refused() {
    let pki = Pki::new();
    let mut opts = ServerOpts::mutual(&pki);
    opts.cert = pki.wrong_name_server.clone();
    let server = TestServer::start(opts, answering()).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::ServerCertificate {
                problem: ServerCertProblem::NameMismatch,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn server_requiring_a_certificate_we_lack_is_a_handshake_error() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let client = Client::new(config(&pki, None)).unwrap();
    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    match &err {
        ClientError::HandshakeAlert {
            alert,
            client_cert_requested,
            client_cert_sent,
            exchange,
            ..
        } => {
            assert_eq!(alert, "CertificateRequired");
            assert!(*client_cert_requested);
            assert!(!*client_cert_sent);
            assert_eq!(exchange.delivery, Delivery::NotSent);
        }
        // Under TLS 1.3 the alert comes after the client's handshake and can be lost
        // when the server closes first: then the refusal is named without an alert.
        ClientError::ClientCertificateMissing { exchange, .. } => {
            assert_ne!(exchange.delivery, Delivery::Answered);
        }
        other => panic!("expected a handshake alert, got {other:?}"),
    }
    assert!(
        err.to_string().contains("asked for a client certificate")
            && err.to_string().contains("none is configured"),
        "{err}"
    );
    assert!(server.requests().is_empty());
    assert_eq!(server.handshake_failures(), 1);
}

#[tokio::test]
async fn client_certificate_from_another_ca_is_a_handshake_error() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.other_client)))).unwrap();
    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    match &err {
        ClientError::HandshakeAlert {
            client_cert_sent, ..
        } => assert!(*client_cert_sent),
        other => panic!("expected a handshake alert, got {other:?}"),
    }
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert!(
        err.to_string()
            .contains("did not accept our client certificate"),
        "{err}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn server_that_reads_then_closes_gets_exactly_one_request() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), Behaviour::ReadThenClose).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::NoResponse { .. }), "{err:?}");
    assert_eq!(err.delivery(), Delivery::MaybeSent);
    let exchange = err.exchange().unwrap();
    assert_eq!(exchange.status, None);
    assert_eq!(exchange.request_body, BODY);
    // Give a stray resend the chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn server_that_never_answers_hits_the_total_timeout() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), Behaviour::NeverAnswer).await;
    let mut cfg = config(&pki, Some(pem_identity(&pki.client)));
    cfg.total_timeout = Duration::from_millis(800);
    let client = Client::new(cfg).unwrap();
    let err = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    match &err {
        ClientError::ResponseTimeout { after, exchange } => {
            assert_eq!(*after, Duration::from_millis(800));
            assert_eq!(exchange.delivery, Delivery::MaybeSent);
            assert!(exchange.timings.total >= Duration::from_millis(800));
            assert!(exchange.timings.total < Duration::from_secs(5));
        }
        other => panic!("expected a response timeout, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn connection_refused_is_not_sent() {
    let pki = Pki::new();
    // Bind, note the port, close: nothing listens there afterwards.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let url = Url::parse(&format!("https://127.0.0.1:{port}/x")).unwrap();
    let err = client
        .post_soap(&Target::Mock(url), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClientError::ConnectionRefused { .. }),
        "{err:?}"
    );
    assert_eq!(err.delivery(), Delivery::NotSent);
    assert!(err.to_string().ends_with("connection refused"), "{err}");
}

#[tokio::test]
async fn server_that_never_starts_tls_hits_the_connect_timeout() {
    let pki = Pki::new();
    let silent = SilentServer::start().await;
    let url = Url::parse(&format!("https://127.0.0.1:{}/x", silent.addr.port())).unwrap();
    let mut cfg = config(&pki, Some(pem_identity(&pki.client)));
    cfg.connect_timeout = Duration::from_millis(500);
    let client = Client::new(cfg).unwrap();
    let err = client
        .post_soap(&Target::Mock(url.clone()), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    match &err {
        ClientError::ConnectTimeout { after, exchange } => {
            assert_eq!(*after, Duration::from_millis(500));
            assert_eq!(exchange.delivery, Delivery::NotSent);
            assert_eq!(exchange.tls_version, None);
        }
        other => panic!("expected a connect timeout, got {other:?}"),
    }

    // The total limit firing during the handshake is still "not sent": no application data can
    // flow before the server has proved its key.
    let mut cfg = config(&pki, Some(pem_identity(&pki.client)));
    cfg.total_timeout = Duration::from_millis(500);
    let client = Client::new(cfg).unwrap();
    let err = client
        .post_soap(&Target::Mock(url), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::ConnectTimeout { .. }), "{err:?}");
    assert_eq!(err.delivery(), Delivery::NotSent);
}

#[tokio::test]
async fn plain_http_to_the_local_machine_works_for_in_process_mocks() {
    let pki = Pki::new();
    let (addr, log) = plain_http(ANSWER).await;
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let url = Url::parse(&format!("http://127.0.0.1:{}/mock", addr.port())).unwrap();
    let exchange = client
        .post_soap(&Target::Mock(url), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(200));
    assert_eq!(exchange.response_body, ANSWER);
    assert_eq!(exchange.tls_version, None);
    assert_eq!(exchange.server_cert_sha256, None);
    assert_eq!(exchange.client_cert_sha256, None);
    assert_eq!(log.lock().unwrap().as_slice(), [BODY.to_vec()]);
}

#[tokio::test]
async fn plain_http_is_refused_except_to_the_local_machine() {
    let pki = Pki::new();
    let client = Client::new(config(&pki, None)).unwrap();
    let url = Url::parse("http://shs.forsakringskassan.se.invalid/x").unwrap();
    let err = client
        .post_soap(&Target::Url(url), ACTION, BODY.to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::UnsupportedUrl { .. }), "{err:?}");
    assert_eq!(err.delivery(), Delivery::NotSent);
}

#[tokio::test]
async fn pacer_spaces_exchanges_with_a_paced_host() {
    let pki = Pki::new();
    let server = TestServer::start(ServerOpts::mutual(&pki), answering()).await;
    let mut cfg = config(&pki, Some(pem_identity(&pki.client)));
    cfg.pace = Pace {
        min_interval: Duration::from_secs(1),
        scope: PaceScope::FkHostsAnd(vec!["127.0.0.1".into()]),
    };
    let client = Client::new(cfg).unwrap();
    let first = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    let second = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    let gap = second.started_at - first.started_at;
    assert!(gap >= time::Duration::seconds(1), "gap {gap}");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn identity_debug_shows_no_key_material() {
    let pki = Pki::new();
    let identity = pem_identity(&pki.client);
    let shown = format!("{identity:?}");
    assert!(shown.contains(&pki.client.sha256()), "{shown}");
    let key_body: String = pki
        .client
        .key_pem()
        .lines()
        .nth(1)
        .unwrap()
        .chars()
        .take(20)
        .collect();
    assert!(!shown.contains(&key_body), "{shown}");
}

/// Regression: with a key that can make none of the signatures the server names, rustls
/// sends an empty certificate message, yet the exchange recorded the certificate as sent.
#[tokio::test]
async fn certificate_whose_key_the_server_cannot_accept_is_not_recorded_as_sent() {
    let pki = Pki::new();
    let mut opts = ServerOpts::mutual(&pki);
    opts.client_schemes = Some(vec![
        rustls::SignatureScheme::RSA_PSS_SHA256,
        rustls::SignatureScheme::RSA_PKCS1_SHA256,
    ]);
    let server = TestServer::start(opts, answering()).await;
    // rcgen's keys are ECDSA P-256.
    let client = Client::new(config(&pki, Some(pem_identity(&pki.client)))).unwrap();
    let exchange = client
        .post_soap(&target(&server), ACTION, BODY.to_vec())
        .await
        .unwrap();
    assert_eq!(exchange.status, Some(200));
    assert_eq!(server.requests()[0].client_cert_sha256, None);
    assert_eq!(exchange.client_cert_sha256, None);
}
