//! Connection tests as the probe reports them, written out by hand so that the expected texts
//! do not come from the renderer; and client identities made by the openssl CLI.

use std::path::Path;
use std::process::Command;

use eioa_client::connect::checks::CHECKS;
use eioa_client::connect::{
    CertPanel, Check, ConnectionTest, ExchangeSummary, Fact, Level, Status, TargetInfo,
    FORMAT_VERSION,
};
use eioa_client::Identity;
use time::macros::datetime;

/// A fictitious personnummer (Skatteverket's test number) that must never appear unredacted.
pub const PERSONNUMMER: &str = "191212121212";
pub const PERSONNUMMER_MASKED: &str = "19121212****";

/// A check; `remedy` is the English and the Swedish sentence, as the probe writes them.
fn check(id: &str, status: Status, summary: &str, remedy: Option<(&str, &str)>) -> Check {
    let def = CHECKS
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} is not a documented check"));
    Check {
        id: id.into(),
        title: def.title.into(),
        status,
        summary: summary.into(),
        facts: Vec::new(),
        remedy: remedy.map(|r| r.0.into()),
        remedy_sv: remedy.map(|r| r.1.into()),
        duration_ms: 3.0,
    }
}

fn panel(subject: &str, issuer: &str, days_left: i64, is_ca: bool, sha: char) -> CertPanel {
    CertPanel {
        subject: subject.into(),
        issuer: issuer.into(),
        serial: "01:23:45:67".into(),
        not_before: datetime!(2026-01-01 00:00 UTC),
        not_after: datetime!(2026-11-29 00:00 UTC) + time::Duration::days(days_left),
        days_left,
        sans: if is_ca {
            vec![]
        } else {
            vec!["DNS:shsext.forsakringskassan.se".into()]
        },
        key: "RSA 2048".into(),
        eku: if is_ca {
            vec![]
        } else {
            vec!["serverAuth".into(), "clientAuth".into()]
        },
        is_ca,
        sha256: sha.to_string().repeat(64),
    }
}

fn target() -> TargetInfo {
    TargetInfo {
        kind: "fk-test".into(),
        url: "https://shsext.forsakringskassan.se:8020/shs2/FK.EIOA.AnmalanArbetsgivare.ext".into(),
        host: "shsext.forsakringskassan.se".into(),
        port: 8020,
        is_fk: true,
        resolve: Some("shsext.forsakringskassan.se:8020:127.0.0.1".into()),
    }
}

/// FK answered with `SignatureValidationError`: every check ran, two warn. `client_sha256` is
/// the client certificate's fingerprint (the signer's, for evidence tests).
pub fn answered(client_sha256: &str) -> ConnectionTest {
    let mut checks: Vec<Check> = CHECKS
        .iter()
        .map(|d| check(d.id, Status::Pass, "as expected", None))
        .collect();
    let set = |checks: &mut Vec<Check>, c: Check| {
        let i = checks.iter().position(|x| x.id == c.id).unwrap();
        checks[i] = c;
    };
    let mut valid = check(
        "C-ID-VALID",
        Status::Warn,
        "the client certificate expires in 45 days",
        Some((
            "Order the renewal from Expisoft now: FK needs the new certificate before the old one expires.",
            "Beställ förnyelsen från Expisoft nu: FK behöver det nya certifikatet innan det gamla går ut.",
        )),
    );
    valid.facts = vec![
        Fact::new("not after", "2027-01-13T00:00:00Z"),
        Fact::new("days left", "45"),
    ];
    set(&mut checks, valid);
    let mut tcp = check(
        "C-TCP",
        Status::Pass,
        "connected to 127.0.0.1:8020 in 1 ms",
        None,
    );
    tcp.facts = vec![Fact::new("127.0.0.1:8020", "connected in 1 ms")];
    set(&mut checks, tcp);
    let mut hs = check(
        "C-TLS-HANDSHAKE",
        Status::Pass,
        "TLSv1.3 with TLS13_AES_256_GCM_SHA384",
        None,
    );
    hs.facts = vec![
        Fact::new("tls version", "TLSv1.3"),
        Fact::new("cipher suite", "TLS13_AES_256_GCM_SHA384"),
    ];
    set(&mut checks, hs);
    set(
        &mut checks,
        check(
            "C-SOAP",
            Status::Warn,
            "SignatureValidationError: the signature is not from a trusted issuer",
            Some((
                "Sign the notification with a real BankID test signature (--signature/--ocsp) to reach accepted.",
                "Signera anmälan med en riktig BankID-testsignatur (--signature/--ocsp) för att nå nivån godkänd.",
            )),
        ),
    );
    let mut client = panel(
        "CN=Testleverantören AB, O=Testleverantören AB, C=SE",
        "CN=Expisoft Test CA, O=Expisoft AB, C=SE",
        45,
        false,
        'c',
    );
    client.sha256 = client_sha256.into();
    ConnectionTest {
        format: FORMAT_VERSION,
        tool: "eioa 0.1.0".into(),
        target: target(),
        started_at: datetime!(2026-11-29 17:30:05 UTC),
        finished_at: datetime!(2026-11-29 17:30:06 UTC),
        level: Level::FkAnswered,
        verdict: "FK answered with SignatureValidationError: the connection is proven.".into(),
        next_level_hint: Some(
            "Send a notification signed with a real BankID test signature (--signature/--ocsp) for a tx-id."
                .into(),
        ),
        next_level_hint_sv: Some(
            "Skicka en anmälan signerad med en riktig BankID-testsignatur (--signature/--ocsp) för att få ett tx-id."
                .into(),
        ),
        checks,
        client_cert: Some(client),
        client_intermediates: vec![panel("CN=Expisoft Test CA, O=Expisoft AB, C=SE", "CN=Expisoft Root, O=Expisoft AB, C=SE", 900, true, 'd')],
        server_chain: vec![
            panel("CN=shsext.forsakringskassan.se, O=Försäkringskassan, C=SE", "CN=Dev CA, O=eioa-harness", 300, false, 'a'),
            panel("CN=Dev CA, O=eioa-harness", "CN=Dev CA, O=eioa-harness", 3000, true, 'b'),
        ],
        exchange: Some(ExchangeSummary {
            url: target().url,
            started_at: datetime!(2026-11-29 17:30:05.5 UTC),
            signature: "harness-test".into(),
            delivery: "answered".into(),
            tls_version: Some("TLSv1.3".into()),
            cipher_suite: Some("TLS13_AES_256_GCM_SHA384".into()),
            server_cert_sha256: Some("a".repeat(64)),
            client_cert_sha256: Some(client_sha256.into()),
            http_status: Some(500),
            content_type: Some("text/xml; charset=utf-8".into()),
            tx_id: None,
            fault: Some("SignatureValidationError".into()),
            fault_message: Some(format!("signature of {PERSONNUMMER} not trusted")),
            connect_ms: Some(12.0),
            total_ms: 48.0,
            request: format!(
                "<soapenv:Envelope><soapenv:Body><personSomHarAssistans><personnummer>{PERSONNUMMER}</personnummer><fornamn>Tolvan</fornamn><efternamn>Tolvansson</efternamn></personSomHarAssistans></soapenv:Body></soapenv:Envelope>"
            ),
            response: "<soapenv:Envelope><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>SignatureValidationError</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>".into(),
            redacted: true,
        }),
    }
}

/// No route: the TCP connection timed out, everything after it skipped.
pub fn refused() -> ConnectionTest {
    let mut t = answered(&"c".repeat(64));
    let tcp = CHECKS.iter().position(|d| d.id == "C-TCP").unwrap();
    for (i, c) in t.checks.iter_mut().enumerate() {
        if i == tcp {
            *c = check(
                "C-TCP",
                Status::Fail,
                "194.71.80.30:8020 timed out after 5 s",
                Some((
                    "A firewall drops the connection: ask for a rule allowing outbound TCP to 194.71.80.30:8020.",
                    "En brandvägg stoppar anslutningen: be nätverksgruppen öppna utgående TCP till 194.71.80.30:8020.",
                )),
            );
            c.facts = vec![Fact::new("194.71.80.30:8020", "timed out after 5000 ms")];
        } else if i > tcp {
            c.status = Status::Skipped;
            c.facts.clear();
            c.summary = "not run: C-TCP failed".into();
            c.remedy = Some("Fix C-TCP first.".into());
            c.remedy_sv = Some("Rätta C-TCP först.".into());
        }
    }
    t.level = Level::None;
    t.verdict = "No TCP connection to shsext.forsakringskassan.se:8020.".into();
    t.next_level_hint = Some("Open outbound TCP to 194.71.80.30:8020 in the firewall.".into());
    t.next_level_hint_sv = Some("Öppna utgående TCP till 194.71.80.30:8020 i brandväggen.".into());
    t.target.resolve = None;
    t.server_chain.clear();
    t.exchange = None;
    t
}

/// A client identity made by the openssl CLI in `dir`: `kind` is `rsa`, `p256` or `p384`.
pub fn identity(dir: &Path, kind: &str) -> Identity {
    let (cert, key) = identity_files(dir, kind);
    Identity::from_pem_files(&cert, &key, None).expect("identity loads")
}

/// The certificate and key files of [`identity`].
pub fn identity_files(dir: &Path, kind: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join(format!("{kind}.key.pem"));
    let cert = dir.join(format!("{kind}.pem"));
    let newkey: &[&str] = match kind {
        "rsa" => &["-newkey", "rsa:2048"],
        "p256" => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384" => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
        other => panic!("no key kind {other}"),
    };
    let out = Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "30", "-subj"])
        .arg(format!(
            "/CN=Testleverantören {kind}/O=Testleverantören AB/C=SE"
        ))
        .args(["-utf8", "-addext", "extendedKeyUsage=clientAuth"])
        .args(newkey)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}
