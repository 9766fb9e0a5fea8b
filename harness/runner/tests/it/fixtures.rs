//! tx-id fixtures end to end: a failing exchange becomes a fixture, replays as STILL
//! FAILING while the cause is there, as FIXED once it is gone, and as CHANGED (with a
//! diff) when something else goes wrong; and every committed fixture in
//! `fixtures/tx/` replays against the built-in stand-in.

use super::{kit, run, scenarios, tls_stand_in, validator};
use eioa_client::{Client, ClientConfig, Target, Url};
use eioa_mock_server::faults::FaultConfig;
use eioa_runner::fixture::{self, Verdict};
use eioa_runner::{Judgement, Kit, RunOptions};
use std::path::Path;

async fn in_process(kit: &Kit) -> (eioa_mock_server::inprocess::InProcessFk, Client, Target) {
    let stand_in = eioa_runner::start_stand_in(validator(), kit).await;
    let client = Client::new(ClientConfig {
        extra_roots: vec![kit.pki.ca_cert_der().to_vec().into()],
        use_system_roots: false,
        ..ClientConfig::default()
    })
    .expect("client");
    let target = Target::Mock(Url::parse(&stand_in.endpoint_url()).expect("url"));
    (stand_in, client, target)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_exchange_becomes_a_fixture_that_replays_still_failing_then_fixed() {
    let kit = kit();
    let work = tempfile::tempdir().expect("temp dir");
    // The cause: a stand-in that refuses every payload.
    let broken = tls_stand_in(
        &kit,
        FaultConfig {
            xml_validation_error: 1.0,
            ..FaultConfig::default()
        },
    )
    .await;
    let summary = eioa_runner::run(
        &scenarios(&["A01"]),
        &kit,
        &broken.client,
        &broken.target,
        &validator(),
        RunOptions { redact: false },
        |_| {},
    )
    .await
    .expect("the gate lets it through");
    let a01 = &summary.outcomes[0];
    assert_eq!(a01.judgement, Judgement::Failed);
    let reports = work.path().join("reports");
    eioa_report::write::write_run(&reports, &summary, false).expect("report");

    let ex = fixture::from_reports(&reports, &a01.exchange_id).expect("found in the report");
    let dir = fixture::write(&work.path().join("tx"), &ex, false).expect("fixture written");
    for file in ["request.xml", "payload.xml", "response.xml", "meta.toml"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    // Pseudonymised: the kit's people are gone, fictitious ones with valid numbers in.
    let payload = std::fs::read_to_string(dir.join("payload.xml")).expect("payload");
    let original = String::from_utf8_lossy(
        &eioa_model::soap::Request::parse(a01.request.as_bytes())
            .expect("request")
            .payload,
    )
    .into_owned();
    let pnr = |xml: &str| -> Vec<String> {
        xml.split("<personnummer>")
            .skip(1)
            .filter_map(|s| s.split('<').next().map(str::to_string))
            .collect()
    };
    for (was, now) in pnr(&original).iter().zip(pnr(&payload)) {
        assert_ne!(was, &now);
        assert_eq!(was[..8], now[..8], "same birth date");
        assert!(eioa_model::ident::parse_identity(&now).is_ok(), "{now}");
    }
    assert!(!payload.contains("Assistentsson"), "{payload}");

    let f = fixture::read(&dir).expect("fixture reads back");
    assert!(f.meta.pseudonymised);
    assert_eq!(f.meta.outcome.fault.as_deref(), Some("XmlValidationError"));

    // Still broken: STILL FAILING.
    let again = fixture::replay(&f, &kit, &broken.client, &broken.target, &validator())
        .await
        .expect("replayed");
    assert_eq!(again.verdict, Verdict::StillFailing, "{again:?}");
    assert!(again.diff.is_none());

    // Another failure: CHANGED, with a diff.
    let other = tls_stand_in(
        &kit,
        FaultConfig {
            signature_validation_error: 1.0,
            ..FaultConfig::default()
        },
    )
    .await;
    let changed = fixture::replay(&f, &kit, &other.client, &other.target, &validator())
        .await
        .expect("replayed");
    assert_eq!(changed.verdict, Verdict::Changed, "{changed:?}");
    let diff = changed.diff.as_deref().unwrap_or("");
    assert!(
        diff.contains("-fault: XmlValidationError")
            && diff.contains("+fault: SignatureValidationError"),
        "{diff}"
    );

    // The cause removed: FIXED.
    let (_healthy, client, target) = in_process(&kit).await;
    let fixed = fixture::replay(&f, &kit, &client, &target, &validator())
        .await
        .expect("replayed");
    assert_eq!(fixed.verdict, Verdict::Fixed, "{fixed:?}");
    broken.server.shutdown().await;
    other.server.shutdown().await;
}

/// An exchange the stand-in faulted has no tx-id: the journal's sequence number
/// names it (`seq-N`), and it becomes a fixture the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulted_exchange_is_taken_from_the_journal_by_its_sequence_number() {
    let kit = kit();
    let s = tls_stand_in(&kit, FaultConfig::default()).await;
    let summary = run(&kit, &scenarios(&["P02"]), &s.client, &s.target).await;
    assert!(summary.passed());
    let journal = s._dir.path().join("data");
    let records = eioa_mock_server::journal::read_journal(&journal)
        .expect("journal")
        .records;
    let seq = records.last().expect("one record").seq;
    let ex =
        fixture::from_journal(&journal, &format!("seq-{seq}"), &validator()).expect("found by seq");
    assert_eq!(ex.meta.id, format!("seq-{seq}"));
    assert_eq!(ex.meta.outcome.fault.as_deref(), Some("XmlValidationError"));
    let out = tempfile::tempdir().expect("temp dir");
    let dir = fixture::write(out.path(), &ex, false).expect("written");
    // The journal knows no expectation: a sender wants a tx-id, so it still fails.
    let f = fixture::read(&dir).expect("reads");
    let again = fixture::replay(&f, &kit, &s.client, &s.target, &validator())
        .await
        .expect("replayed");
    assert_eq!(again.verdict, Verdict::StillFailing, "{again:?}");
    // The wrong check digit stayed wrong through pseudonymisation.
    let msg = f.meta.outcome.message.as_deref().unwrap_or("");
    assert!(msg.contains("personnummer"), "{msg}");
    s.server.shutdown().await;
}

/// Every committed fixture replays against the built-in stand-in as recorded or
/// fixed: a fixture that turns STILL FAILING or CHANGED is a regression.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_fixtures_replay_against_the_built_in_stand_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tx");
    let dirs = fixture::find_all(&root).expect("fixtures/tx");
    assert!(dirs.len() >= 2, "{dirs:?}");
    let kit = kit();
    let (_stand_in, client, target) = in_process(&kit).await;
    for d in dirs {
        let f = fixture::read(&d).expect("fixture reads");
        let r = fixture::replay(&f, &kit, &client, &target, &validator())
            .await
            .expect("replayed");
        assert!(r.verdict.ok(), "{}: {} {:?}", d.display(), r.verdict, r);
    }
}

/// A report does not record the SOAPAction header: a bundled scenario's step says
/// which one it sent, so a fixture of T01 replays with the same wrong action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixture_keeps_the_soap_action_its_scenario_sent() {
    let kit = kit();
    let (_stand_in, client, target) = in_process(&kit).await;
    let summary = eioa_runner::run(
        &scenarios(&["T01", "T03"]),
        &kit,
        &client,
        &target,
        &validator(),
        RunOptions { redact: false },
        |_| {},
    )
    .await
    .expect("the gate lets it through");
    let work = tempfile::tempdir().expect("temp dir");
    eioa_report::write::write_run(work.path(), &summary, false).expect("report");
    let actions: Vec<String> = summary
        .outcomes
        .iter()
        .map(|o| {
            fixture::from_reports(work.path(), &o.exchange_id)
                .expect("found")
                .meta
                .soap_action
        })
        .collect();
    assert_eq!(
        actions,
        ["urn:wrong:action", eioa_runner::soap_action().as_str()]
    );
    for o in &summary.outcomes {
        let ex = fixture::from_reports(work.path(), &o.exchange_id).expect("found");
        let dir = fixture::write(&work.path().join("tx"), &ex, false).expect("written");
        let f = fixture::read(&dir).expect("reads");
        let r = fixture::replay(&f, &kit, &client, &target, &validator())
            .await
            .expect("replayed");
        assert_eq!(r.verdict, Verdict::Passes, "{r:?}");
        assert!(r.diff.is_none(), "the same answer again: {r:?}");
    }
}

/// Every row of the full suite, kept as a fixture (pseudonymised where it can be,
/// as recorded for signature faults), replays as it passed: the fixture keeps what
/// each exchange was about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_the_full_suite_kept_as_a_fixture_replays_as_it_passed() {
    let kit = kit();
    let (_stand_in, client, target) = in_process(&kit).await;
    let summary = eioa_runner::run(
        &scenarios(&[]),
        &kit,
        &client,
        &target,
        &validator(),
        RunOptions { redact: false },
        |_| {},
    )
    .await
    .expect("the gate lets it through");
    assert!(summary.passed());
    let work = tempfile::tempdir().expect("temp dir");
    eioa_report::write::write_run(work.path(), &summary, false).expect("report");
    let mut pseudonymised = 0;
    for o in &summary.outcomes {
        let ex = fixture::from_reports(work.path(), &o.exchange_id).expect("found");
        let root = work.path().join("tx");
        let dir = match fixture::write(&root, &ex, false) {
            Ok(d) => {
                pseudonymised += 1;
                d
            }
            Err(e) => {
                assert_eq!(
                    o.expected,
                    eioa_runner::Expect::SignatureValidationError,
                    "{}: {e}",
                    o.id
                );
                fixture::write(&root, &ex, true).expect("kept as recorded")
            }
        };
        let f = fixture::read(&dir).expect("reads");
        let r = fixture::replay(&f, &kit, &client, &target, &validator())
            .await
            .expect("replayed");
        assert_eq!(r.verdict, Verdict::Passes, "{}: {r:?}", o.id);
    }
    assert_eq!(summary.outcomes.len(), 35);
    assert_eq!(pseudonymised, 35 - 7, "all but the seven signature faults");
}

/// A local listener standing in for FK's test host (via `--resolve`) that only counts
/// the connections it gets: the gate must refuse before any.
struct Listener {
    port: u16,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    async fn start() -> Self {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = seen.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((tcp, _)) = l.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(tcp);
            }
        });
        Listener { port, seen, task }
    }

    fn connections(&self) -> usize {
        self.seen.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A target naming `host` whose connections go to this listener, and its client.
    fn fk(&self, kit: &Kit, host: &str) -> (Target, Client) {
        let url = format!(
            "https://{host}:{}/shs2/FK.EIOA.AnmalanArbetsgivare.ext",
            self.port
        );
        let client = Client::new(ClientConfig {
            extra_roots: vec![kit.pki.ca_cert_der().to_vec().into()],
            use_system_roots: false,
            connect_timeout: std::time::Duration::from_secs(2),
            total_timeout: std::time::Duration::from_secs(3),
            resolve: vec![
                eioa_client::Resolve::parse(&format!("{host}:{}:127.0.0.1", self.port))
                    .expect("resolve"),
            ],
            ..ClientConfig::default()
        })
        .expect("client");
        (Target::Url(Url::parse(&url).expect("url")), client)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn committed_fixture() -> fixture::Fixture {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tx");
    let dir = fixture::find_all(&root).expect("fixtures/tx")[0].clone();
    fixture::read(&dir).expect("fixture")
}

/// Regression: `eioa replay --send` against FK's test host sent any fixture (of any
/// scenario, not pseudonymised, byte for byte) straight through `post_soap`, past the
/// connection-suite-only check of `eioa run`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_replay_to_fks_hosts_is_refused_before_any_connection() {
    use eioa_runner::gate::SendRefused;
    let kit = kit();
    let listener = Listener::start().await;
    let (test_host, client) = listener.fk(&kit, "shsext.forsakringskassan.se");
    let base = committed_fixture();

    // A scenario outside the connection suite.
    let mut f = base.clone();
    f.meta.scenario = Some("A01".into());
    let e = fixture::replay(&f, &kit, &client, &test_host, &validator())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            fixture::FixtureError::Refused(SendRefused::FixtureNotConnectionTest { .. })
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("connection tests"), "{e}");

    // No scenario recorded at all.
    f.meta.scenario = None;
    let e = fixture::replay(&f, &kit, &client, &test_host, &validator())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            fixture::FixtureError::Refused(SendRefused::FixtureNotConnectionTest { .. })
        ),
        "{e:?}"
    );

    // The connection test's scenario, but kept as recorded.
    let mut f = base.clone();
    f.meta.scenario = Some("C01".into());
    f.meta.pseudonymised = false;
    let e = fixture::replay(&f, &kit, &client, &test_host, &validator())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            fixture::FixtureError::Refused(SendRefused::FixtureNotPseudonymised { .. })
        ),
        "{e:?}"
    );

    // Production never gets a fixture, even the connection test's, pseudonymised.
    let (prod_host, prod_client) = listener.fk(&kit, "shs.forsakringskassan.se");
    f.meta.pseudonymised = true;
    let e = fixture::replay(&f, &kit, &prod_client, &prod_host, &validator())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            fixture::FixtureError::Refused(SendRefused::FixtureToProduction { .. })
        ),
        "{e:?}"
    );

    // Scenarios through `run` pass the same gate.
    let e = eioa_runner::run(
        &scenarios(&["A01"]),
        &kit,
        &client,
        &test_host,
        &validator(),
        RunOptions::default(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(e, SendRefused::NotConnectionTest { .. }), "{e:?}");

    assert_eq!(listener.connections(), 0, "FK's host was contacted");

    // What the gate lets through: a pseudonymised fixture of the connection test.
    eioa_runner::gate::check(&test_host, eioa_runner::gate::Outgoing::Fixture(&f))
        .expect("a pseudonymised connection-test fixture may go to FK's test host");
    let c01 = eioa_runner::suite(eioa_runner::SuiteName::Connection).expect("suite");
    eioa_runner::gate::check(&test_host, eioa_runner::gate::Outgoing::Scenarios(&c01))
        .expect("the connection suite may go to FK's test host");
}
