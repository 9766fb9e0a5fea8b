//! Whole runs against stand-ins: a healthy one passes every row; stand-ins with
//! injected faults must FAIL, with exactly the rows the scenario definitions say.
//! A judge that never fails cannot pass these.

use eioa_client::{Client, ClientConfig, Identity, Pace, PaceScope, Target, Url};
use eioa_mock_server::certs::DevPki;
use eioa_mock_server::faults::{FaultConfig, Latency};
use eioa_mock_server::pacing::PacingConfig;
use eioa_mock_server::{MockConfig, MockServer, RunningServer, Transport};
use eioa_runner::{
    ExchangeOutcome, Expect, Judgement, Kit, RunOptions, RunSummary, Scenario, SuiteName,
    WarningKind,
};
use eioa_validate::Validator;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

mod fixtures;
mod suites;

fn validator() -> Arc<Validator> {
    static V: OnceLock<Arc<Validator>> = OnceLock::new();
    V.get_or_init(|| Arc::new(Validator::embedded().expect("embedded schema set")))
        .clone()
}

fn kit() -> Kit {
    Kit::load(None, time::OffsetDateTime::now_utc()).expect("embedded test PKI")
}

fn scenarios(ids: &[&str]) -> Vec<Scenario> {
    eioa_runner::suite(SuiteName::Full)
        .expect("bundled suite")
        .into_iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.id.as_str()))
        .collect()
}

/// Row ids whose step, by its definition alone, cannot be met by `answer`: what a
/// run against a stand-in that always answers so must fail.
fn rows_that_cannot_pass(
    kit: &Kit,
    scenarios: &[Scenario],
    met: impl Fn(&eioa_runner::Step) -> bool,
) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for s in scenarios {
        let steps = s.build(kit).expect("scenario builds");
        for (i, step) in steps.iter().enumerate() {
            if !met(step) {
                ids.insert(if i == 0 {
                    s.id.clone()
                } else {
                    format!("{}#{}", s.id, i + 1)
                });
            }
        }
    }
    ids
}

fn failed_rows(summary: &RunSummary) -> BTreeSet<String> {
    summary
        .outcomes
        .iter()
        .filter(|o| o.judgement == Judgement::Failed)
        .map(|o| o.id.clone())
        .collect()
}

fn row<'a>(summary: &'a RunSummary, id: &str) -> &'a ExchangeOutcome {
    summary
        .outcomes
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no row {id}"))
}

/// The TLS stand-in with mutual TLS, FK trusting the kit's signers, and `faults`.
struct TlsStandIn {
    server: RunningServer,
    client: Client,
    target: Target,
    _dir: tempfile::TempDir,
}

async fn tls_stand_in(kit: &Kit, faults: FaultConfig) -> TlsStandIn {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = DevPki::generate("runner-it").expect("dev pki");
    let mut fk = eioa_fk::FkConfig::new(validator());
    fk.trust_anchors = kit.trust_anchors();
    let mut cfg = MockConfig::new(
        "127.0.0.1:0".parse().expect("address"),
        Transport::MutualTls {
            identity: eioa_mock_server::tls::PemIdentity {
                origin: "runner-it server".into(),
                cert_chain_pem: pki.server.cert_pem.clone().into_bytes(),
                key_pem: pki.server.key_pem.clone().into_bytes(),
            },
            client_ca_pem: pki.ca.cert_pem.clone().into_bytes(),
        },
        fk,
        dir.path().join("data"),
    );
    cfg.faults = faults;
    cfg.pacing = PacingConfig {
        min_interval: Duration::ZERO,
        reject: false,
    };
    let server = MockServer::start(cfg).await.expect("stand-in starts");
    let identity = Identity::from_pem(
        pki.client.cert_pem.as_bytes(),
        pki.client.key_pem.as_bytes(),
        None,
    )
    .expect("client identity");
    let client = Client::new(ClientConfig {
        identity: Some(identity),
        extra_roots: vec![pki.ca.cert_der.clone().into()],
        use_system_roots: false,
        pace: Pace {
            min_interval: Duration::ZERO,
            scope: PaceScope::Off,
        },
        ..ClientConfig::default()
    })
    .expect("client");
    let target = Target::Mock(Url::parse(&server.endpoint()).expect("endpoint url"));
    TlsStandIn {
        server,
        client,
        target,
        _dir: dir,
    }
}

async fn run(kit: &Kit, scenarios: &[Scenario], client: &Client, target: &Target) -> RunSummary {
    eioa_runner::run(
        scenarios,
        kit,
        client,
        target,
        &validator(),
        RunOptions::default(),
        |_| {},
    )
    .await
    .expect("the gate lets it through")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_stand_in_passes_every_row_and_warns_on_the_changed_resend() {
    let kit = kit();
    let stand_in = eioa_runner::start_stand_in(validator(), &kit).await;
    let client = Client::new(ClientConfig {
        extra_roots: vec![kit.pki.ca_cert_der().to_vec().into()],
        use_system_roots: false,
        ..ClientConfig::default()
    })
    .expect("client");
    let target = Target::Mock(Url::parse(&stand_in.endpoint_url()).expect("url"));
    let all = scenarios(&[]);
    let summary = run(&kit, &all, &client, &target).await;
    assert_eq!(
        failed_rows(&summary),
        BTreeSet::new(),
        "{}",
        summary.to_markdown()
    );
    assert!(summary.passed());
    // Only the changed re-send is warned, and FK's own verdict says the same.
    let warned: Vec<(&str, Vec<WarningKind>)> = summary
        .outcomes
        .iter()
        .filter(|o| !o.warnings.is_empty())
        .map(|o| (o.id.as_str(), o.warnings.iter().map(|w| w.kind).collect()))
        .collect();
    assert_eq!(warned, vec![("A10#2", vec![WarningKind::ChangedResend])]);
    let fk_warned: Vec<String> = stand_in
        .verdicts()
        .into_iter()
        .filter_map(|v| match v {
            eioa_fk::Verdict::Accepted { warnings, .. } if !warnings.is_empty() => {
                Some(warnings[0].rule.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(fk_warned, vec!["FK-W001".to_string()]);
}

/// Everything answered with XmlValidationError: every step that expects a tx-id or a
/// SignatureValidationError, or names a message fragment, must fail and be named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_xml_validation_error_fails_every_row_that_expects_otherwise() {
    let kit = kit();
    let s = tls_stand_in(
        &kit,
        FaultConfig {
            xml_validation_error: 1.0,
            ..FaultConfig::default()
        },
    )
    .await;
    let all = scenarios(&[]);
    let expected_failures = rows_that_cannot_pass(&kit, &all, |step| {
        matches!(step.expect, Expect::XmlValidationError | Expect::Fault)
            && step.message_contains.is_none()
    });
    assert!(expected_failures.contains("A01") && expected_failures.contains("S01"));
    let summary = run(&kit, &all, &s.client, &s.target).await;
    assert_eq!(failed_rows(&summary), expected_failures);
    assert!(!summary.passed());
    let a01 = row(&summary, "A01");
    let reason = a01.reason.as_deref().unwrap_or("");
    assert!(
        reason.contains("expected tx-id, got XmlValidationError"),
        "{reason}"
    );
    let s04 = row(&summary, "S04");
    assert!(
        s04.reason
            .as_deref()
            .unwrap_or("")
            .contains("expected SignatureValidationError"),
        "{:?}",
        s04.reason
    );
    let p02 = row(&summary, "P02");
    assert!(
        p02.reason
            .as_deref()
            .unwrap_or("")
            .contains("does not mention `personnummer`"),
        "{:?}",
        p02.reason
    );
    // The renderings say FAILED and name the failed rows.
    let md = summary.to_markdown();
    assert!(md.contains("result: **FAILED**"), "{md}");
    assert!(md.contains("### A01 "), "{md}");
    let junit = summary.to_junit();
    assert!(
        junit.contains(&format!("failures=\"{}\"", expected_failures.len())),
        "{junit}"
    );
    s.server.shutdown().await;
}

/// Connections reset after the request: no answer, never resent, every row failed
/// with the request marked as possibly delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_connections_fail_every_row_as_maybe_sent() {
    let kit = kit();
    let s = tls_stand_in(
        &kit,
        FaultConfig {
            reset: 1.0,
            ..FaultConfig::default()
        },
    )
    .await;
    let some = scenarios(&["A01", "P02", "T03"]);
    let summary = run(&kit, &some, &s.client, &s.target).await;
    assert_eq!(
        failed_rows(&summary),
        ["A01", "P02", "T03"].map(String::from).into()
    );
    for o in &summary.outcomes {
        assert!(
            o.reason.as_deref().unwrap_or("").starts_with("no answer"),
            "{}: {:?}",
            o.id,
            o.reason
        );
        assert_ne!(o.observed.delivery, "answered", "{}", o.id);
    }
    assert_eq!(
        s.server.stats().requests,
        3,
        "one request per row: nothing was resent"
    );
    s.server.shutdown().await;
}

/// FK's backend normally answers within 2 seconds: a slower answer passes, with a
/// warning on its row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_two_seconds_are_warned() {
    let kit = kit();
    let s = tls_stand_in(
        &kit,
        FaultConfig {
            latency: Latency::Fixed { ms: 2_100 },
            ..FaultConfig::default()
        },
    )
    .await;
    let summary = run(&kit, &scenarios(&["A01"]), &s.client, &s.target).await;
    assert!(summary.passed(), "{}", summary.to_markdown());
    let a01 = row(&summary, "A01");
    let kinds: Vec<WarningKind> = a01.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, vec![WarningKind::SlowAnswer]);
    assert_eq!(summary.totals().warnings, 1);
    s.server.shutdown().await;
}
