//! Shared by the interop test targets (`interop`, `interop_dotnet`): the in-process
//! stand-in, the three cases (valid, XmlValidationError, SignatureValidationError) as a
//! JSON file, and the checks of a client's output against the stand-in's verdicts.
//!
//! A client prints one line per case: `NAME<TAB>OK<TAB>TX-ID`,
//! `NAME<TAB>FAULT<TAB>KIND<TAB>MESSAGE` or `NAME<TAB>ERROR<TAB>TEXT`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use eioa_fk::{FkConfig, Verdict};
use eioa_mock_server::inprocess::InProcessFk;
use eioa_model::ident::{orgnr, personnummer};
use eioa_model::soap::{Signaturtyp, Underskrift};
use eioa_model::{Anordnare, Anstallning, Arbetsgivare, Assistent, Bosatt, Notification, Person};
use eioa_sign::{SignInput, TestPki, VisibleLine};
use eioa_validate::Validator;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use time::macros::date;
use time::OffsetDateTime;

pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop")
}

fn pki() -> &'static TestPki {
    static P: OnceLock<TestPki> = OnceLock::new();
    P.get_or_init(|| TestPki::generate().expect("test pki"))
}

fn notification(n: u16) -> Notification {
    Notification {
        id: format!("9b1c4d2e-7a3f-4c5b-8d6e-{:012x}", 0x2000 + u64::from(n)),
        person: Person {
            personnummer: personnummer(date!(1958 - 11 - 03), 400 + n, false),
            fornamn: "Greta".into(),
            efternamn: "Exempelsson".into(),
        },
        assistent: Assistent {
            personnummer: personnummer(date!(1994 - 06 - 17), 500 + n, false),
            fornamn: "Åsa".into(),
            efternamn: "Östlund".into(),
            anstallningsdatum: "2025-01-15".into(),
            narstaende: true,
            bosatt: Bosatt::InnanforEes,
            andring_galler_from: None,
        },
        arbetsgivare: Arbetsgivare::Anordnare(Anordnare {
            namn: Some("Assistans Prov AB".into()),
            organisationsnummer: orgnr("556000024"),
            kontaktperson: None,
            telefonnummer: None,
            anstallning: Anstallning::AnstalldAvAnordnare,
        }),
        telefonnummer_anordnare: "0107654321".into(),
    }
}

fn sign(n: &Notification, payload: &[u8]) -> Underskrift {
    let now = OffsetDateTime::now_utc();
    let text = eioa_sign::visible_text(
        &[VisibleLine {
            name: format!("{} {}", n.assistent.fornamn, n.assistent.efternamn),
            personnummer: n.assistent.personnummer.clone(),
        }],
        now,
    );
    let signed = eioa_sign::sign(
        pki(),
        pki().signer(),
        &SignInput {
            notifications: &[(n.id.as_str(), payload)],
            visible_text: &text,
            when: now,
        },
    )
    .expect("signing works");
    Underskrift {
        signaturtyp: Signaturtyp::Anordnare,
        signatur: signed.signature_xml,
        ocspresponse: signed.ocsp_der,
        signaturdatum: format!("{}", now.date()),
    }
}

fn case(name: &str, payload: &[u8], u: &Underskrift) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "payload_b64": STANDARD.encode(payload),
        "underskrifter": [{
            "signaturtyp": u.signaturtyp.as_str(),
            "signatur_b64": STANDARD.encode(&u.signatur),
            "ocspresponse_b64": STANDARD.encode(&u.ocspresponse),
            "signaturdatum": u.signaturdatum,
        }],
    })
}

/// Writes the three cases for `fk`'s WSDL into a temp file.
fn cases_file(fk: &InProcessFk, dir: &tempfile::TempDir) -> PathBuf {
    let n = notification(1);
    let payload = n.to_xml().into_bytes();
    let valid = sign(&n, &payload);

    // A personnummer with a wrong check digit: XmlValidationError (signed as sent).
    let mut bad = notification(2);
    let p = bad.assistent.personnummer.clone();
    bad.assistent.personnummer = format!("{}{}", &p[..11], (p.as_bytes()[11] - b'0' + 1) % 10);
    let bad_payload = bad.to_xml().into_bytes();
    let bad_sig = sign(&bad, &bad_payload);

    // The payload changed after signing: SignatureValidationError.
    let mut changed = n.clone();
    changed.assistent.efternamn = "Ändrad".into();
    let changed_payload = changed.to_xml().into_bytes();

    let doc = serde_json::json!({
        "wsdl": fk.wsdl_url(),
        "cases": [
            case("valid", &payload, &valid),
            case("xml-error", &bad_payload, &bad_sig),
            case("signature-error", &changed_payload, &valid),
        ],
    });
    let path = dir.path().join("cases.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

pub async fn stand_in() -> InProcessFk {
    let validator = Arc::new(Validator::embedded().expect("embedded schema set"));
    let mut config = FkConfig::new(validator);
    config.trust_anchors = vec![pki().ca_cert_der().to_vec()];
    InProcessFk::start(config).await
}

/// Fails with the set-up instruction when the stack is missing; `installs` names what
/// `interop/setup.sh` installs for it.
pub fn require(what: &str, installs: &str, program: &str, args: &[&str]) {
    let ok = Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{what} is not installed: run interop/setup.sh (it installs {installs})"
    );
}

/// Runs one client against a fresh stand-in and checks its three lines against the
/// stand-in's verdicts. `client` builds the command from the stand-in and the cases
/// file (see the module docs for the output format).
pub async fn run_stack(what: &str, client: impl FnOnce(&InProcessFk, &Path) -> Command) {
    let fk = stand_in().await;
    let dir = tempfile::tempdir().unwrap();
    let cases = cases_file(&fk, &dir);
    // The stand-in answers on its own thread, so blocking here is fine.
    let out = client(&fk, &cases).output().expect("client runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} exited with {}:\n{stdout}\n{stderr}",
        out.status
    );
    println!("{what}:\n{stdout}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{what} printed:\n{stdout}\n{stderr}");

    let verdicts: Vec<Verdict> = fk
        .verdicts()
        .into_iter()
        .filter(|v| !matches!(v, Verdict::Served { .. }))
        .collect();
    assert_eq!(verdicts.len(), 3, "{verdicts:?}");
    assert!(
        fk.verdicts()
            .iter()
            .any(|v| matches!(v, Verdict::Served { what } if what == "wsdl")),
        "{what} loaded the WSDL from the stand-in"
    );

    // 1. Valid: the stack reads the tx-id FK issued.
    assert_eq!(lines[0][..2], ["valid", "OK"], "{what}: {stdout}");
    let Verdict::Accepted { tx_id, .. } = &verdicts[0] else {
        panic!("{what}: valid case was {:?}", verdicts[0])
    };
    assert_eq!(lines[0][2], tx_id, "{what} read the tx-id");
    let u = uuid::Uuid::parse_str(lines[0][2]).expect("tx-id is a UUID");
    assert_eq!(u.get_version(), Some(uuid::Version::Random));

    // 2. XmlValidationError: the stack reads detail/XmlValidationError/message.
    assert_eq!(
        lines[1][..3],
        ["xml-error", "FAULT", "XmlValidationError"],
        "{what}: {stdout}"
    );
    let Verdict::XmlValidationError { message, .. } = &verdicts[1] else {
        panic!("{:?}", verdicts[1])
    };
    assert_eq!(lines[1][3], message, "{what} read the whole message");
    assert!(
        message.starts_with("FK-X004(inferred): /AnmalanFranArbetsgivare/assistent/personnummer"),
        "{message}"
    );

    // 3. SignatureValidationError: the stack reads detail/SignatureValidationError/message.
    assert_eq!(
        lines[2][..3],
        ["signature-error", "FAULT", "SignatureValidationError"],
        "{what}: {stdout}"
    );
    let Verdict::SignatureValidationError { message, .. } = &verdicts[2] else {
        panic!("{:?}", verdicts[2])
    };
    assert_eq!(lines[2][3], message, "{what} read the whole message");
    assert!(message.starts_with("FK-S005(inferred)"), "{message}");
}
