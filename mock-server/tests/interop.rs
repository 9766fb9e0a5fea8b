//! Interop with real SOAP stacks: PHP's `SoapClient` and Python's `zeep`, each built
//! from the WSDL the in-process stand-in serves, send a valid signed request and two
//! faulty ones. The stacks must read the tx-id and both faults' `detail/…/message`.
//!
//! The stacks are installed by `interop/setup.sh` (CI runs it). A missing stack fails
//! the test with that instruction; it is never skipped silently.

mod common;

use common::{interop_dir, require, run_stack, stand_in};
use std::process::Command;

/// Runs `program SCRIPT CASES.json` for a script in `interop/`.
fn script(program: &str, script: &str) -> Command {
    let mut c = Command::new(program);
    c.arg(interop_dir().join(script));
    c
}

#[tokio::test]
async fn php_soapclient_interop() {
    require(
        "PHP's SoapClient",
        "php-cli and php-soap",
        "php",
        &["-r", "exit(class_exists('SoapClient') ? 0 : 1);"],
    );
    run_stack("PHP SoapClient", |_, cases| {
        let mut c = script("php", "php_client.php");
        c.arg(cases);
        c
    })
    .await;
}

#[tokio::test]
async fn python_zeep_interop() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    require("Python's zeep", "zeep", &python, &["-c", "import zeep"]);
    run_stack("Python zeep", |_, cases| {
        let mut c = script(&python, "zeep_client.py");
        c.arg(cases);
        c
    })
    .await;
}

#[tokio::test]
async fn stand_in_records_verdicts_and_serves_health() {
    // reqwest is built without a default TLS provider; plain HTTP still needs one set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fk = stand_in().await;
    assert!(fk.endpoint_url().starts_with(&fk.uri()));
    assert!(fk.endpoint_url().ends_with(eioa_fk::PATH_TEST));
    let resp = reqwest::get(format!("{}/health", fk.uri())).await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = reqwest::get(fk.wsdl_url()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let wsdl = resp.text().await.unwrap();
    assert!(
        wsdl.contains(&format!("location=\"{}\"", fk.endpoint_url())),
        "{wsdl}"
    );
    let resp = reqwest::Client::new()
        .post(fk.endpoint_url())
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    assert_eq!(fk.take_verdicts().len(), 3);
    assert!(fk.verdicts().is_empty());
}
