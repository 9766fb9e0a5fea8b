//! The session report in a real browser (headless Chromium): the verdict, every case
//! row with its status, and a failed case's link to the exchange that failed it.
//! Screenshots are kept under `target/browser/` for a person to look at.

use std::path::PathBuf;

use eioa_browser_test::fantoccini::Locator;
use eioa_browser_test::Browser;
use eioa_session::{Checklist, Status};

use crate::support::*;

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("browser")
}

#[tokio::test]
async fn session_report_is_displayed() {
    // A blind re-send after XmlValidationError: one case failed, most not yet shown.
    let mut t = Traffic::default();
    let mut bad = notification("anordnare-inom-ees", 1);
    bad.assistent.personnummer = "199406175013".into();
    t.send(
        0,
        &notification("egen-foretagare", 2),
        &[eioa_model::soap::Signaturtyp::Anordnare],
        accepted(1),
    );
    t.send(
        5_000,
        &bad,
        &[eioa_model::soap::Signaturtyp::Anordnare],
        xml_error(),
    );
    t.send(
        10_000,
        &bad,
        &[eioa_model::soap::Signaturtyp::Anordnare],
        xml_error(),
    );
    let report = t.judge();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, report.to_html()).unwrap();

    let browser = Browser::start().await.expect("headless Chromium starts");
    browser.open_file(&file).await.unwrap();
    let c = browser.client();
    let banner = c.find(Locator::Id("verdict")).await.expect("a verdict");
    assert!(banner.is_displayed().await.unwrap());
    assert!(banner.text().await.unwrap().starts_with("not ready"));

    for case in &Checklist::onboarding().cases {
        let row = c
            .find(Locator::Id(&format!("case-{}", case.id)))
            .await
            .unwrap_or_else(|_| panic!("no row for {}", case.id));
        assert!(row.is_displayed().await.unwrap(), "{} hidden", case.id);
        let text = row.text().await.unwrap();
        let status = report
            .cases
            .iter()
            .find(|r| r.id == case.id)
            .unwrap()
            .status;
        assert!(text.contains(status.as_str()), "{}: {text:?}", case.id);
        assert!(text.contains(&case.title), "{}: {text:?}", case.id);
    }

    // The failed case links to the exchange row, which is on the page.
    let failed = report
        .cases
        .iter()
        .find(|r| r.status == Status::Failed)
        .expect("a failed case");
    let link = c
        .find(Locator::Css(&format!("#case-{} a", failed.id)))
        .await
        .expect("a link to the exchange");
    let href = link.attr("href").await.unwrap().unwrap();
    link.click().await.unwrap();
    let target = c.find(Locator::Css(&href)).await.expect("the exchange row");
    assert!(target.is_displayed().await.unwrap());
    assert!(target
        .text()
        .await
        .unwrap()
        .contains("xml-validation-error"));

    browser
        .save_screenshot(&screenshot_dir().join("session-report.png"))
        .await
        .unwrap();
    browser.close().await;
}
