//! The console in a real browser (headless Chromium through chromedriver): what a
//! person sees after choosing a file, pasting a document, or when a request reaches the
//! stand-in. Screenshots are kept under `target/browser/` for a person to look at.

use std::path::PathBuf;
use std::time::Duration;

use eioa_browser_test::fantoccini::{Client, Locator};
use eioa_browser_test::Browser;

use crate::support::*;

fn screenshot(name: &str) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("browser")
        .join(name)
}

/// Waits (polling) until `css` matches a displayed element; its text.
async fn shown(c: &Client, css: &str, within: Duration) -> Option<String> {
    eventually(within, || async {
        let e = c.find(Locator::Css(css)).await.ok()?;
        if !e.is_displayed().await.ok()? {
            return None;
        }
        e.text().await.ok()
    })
    .await
}

/// The placeholder finding on line 5, and line 5 of the listing marked.
async fn assert_placeholder_on_line_5(c: &Client) {
    let finding = shown(
        c,
        "#results .finding[data-rule='EIOA-R005'][data-line='5']",
        Duration::from_secs(20),
    )
    .await
    .expect("the placeholder finding on line 5 is shown");
    assert!(finding.contains("EIOA-R005"), "{finding}");
    assert!(finding.contains("line 5:"), "{finding}");
    assert!(finding.contains("placeholder"), "{finding}");
    let line = c.find(Locator::Css("#L-0-5")).await.expect("line 5 listed");
    assert_eq!(
        line.attr("class").await.unwrap().as_deref(),
        Some("line hit")
    );
    assert!(line.text().await.unwrap().contains("YYYYMMDDXXXX"));
    // Line 4 is not marked.
    let l4 = c.find(Locator::Css("#L-0-4")).await.unwrap();
    assert_eq!(l4.attr("class").await.unwrap().as_deref(), Some("line"));
    // The downloads are offered.
    let json = c.find(Locator::Css("#dl-json")).await.unwrap();
    assert!(json.is_displayed().await.unwrap());
    assert!(json
        .attr("href")
        .await
        .unwrap()
        .unwrap()
        .starts_with("blob:"));
}

#[tokio::test]
async fn choosing_the_faq_example_as_printed_shows_the_placeholder_on_line_5() {
    let reports = tempfile::tempdir().unwrap();
    let console = console(None, reports.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}validate", console.url())).await.unwrap();
    let path = root()
        .join("fixtures/faq/faq-example-as-printed.xml")
        .canonicalize()
        .unwrap();
    c.find(Locator::Id("files"))
        .await
        .unwrap()
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    assert_placeholder_on_line_5(c).await;
    let status = shown(c, "#status", Duration::from_secs(15)).await.unwrap();
    assert!(
        status.contains("1 documents: 0 valid, 1 INVALID"),
        "{status}"
    );
    browser
        .save_screenshot(&screenshot("console-validate.png"))
        .await
        .unwrap();
    browser.close().await;
    console.shutdown().await;
}

#[tokio::test]
async fn pasting_the_faq_example_as_printed_shows_the_placeholder_on_line_5_in_swedish() {
    let reports = tempfile::tempdir().unwrap();
    let console = console(None, reports.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}validate?lang=sv", console.url()))
        .await
        .unwrap();
    let text = String::from_utf8(faq_as_printed()).unwrap();
    c.find(Locator::Id("paste"))
        .await
        .unwrap()
        .send_keys(&text)
        .await
        .unwrap();
    c.find(Locator::Id("run"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let finding = shown(
        c,
        "#results .finding[data-rule='EIOA-R005'][data-line='5']",
        Duration::from_secs(20),
    )
    .await
    .expect("the placeholder finding on line 5 is shown");
    assert!(finding.contains("rad 5:"), "{finding}");
    let line = c.find(Locator::Css("#L-0-5")).await.unwrap();
    assert_eq!(
        line.attr("class").await.unwrap().as_deref(),
        Some("line hit")
    );
    browser.close().await;
    console.shutdown().await;
}

#[tokio::test]
async fn a_request_sent_to_the_stand_in_appears_in_the_live_journal() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let server = stand_in(&data).await;
    let console = console(Some(&data), t.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}standin", console.url())).await.unwrap();
    // Connected to the event stream, and nothing journaled yet.
    let live = shown(c, "#live", Duration::from_secs(10)).await.unwrap();
    assert!(live.starts_with("Live"), "{live}");
    assert!(c.find(Locator::Css("#journal tbody tr")).await.is_err());

    send(&server, &faq_as_printed()).await;
    let row = shown(c, "#journal tbody tr", Duration::from_secs(15))
        .await
        .expect("the exchange appears within a few seconds");
    assert!(
        row.contains("POST") || row.contains("XmlValidationError") || row.contains('1'),
        "{row}"
    );

    // Opened: the redacted view.
    c.find(Locator::Css("#journal tbody tr button.open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let text = shown(c, "#exchange-text", Duration::from_secs(15))
        .await
        .expect("the exchange opens");
    assert!(text.contains("seq:"), "{text}");
    assert!(text.contains("personal data redacted"), "{text}");

    // Filtering by a tx-id nobody has hides the row; clearing shows it again.
    let f = c.find(Locator::Id("f-tx")).await.unwrap();
    f.send_keys("no-such-tx").await.unwrap();
    let hidden = eventually(Duration::from_secs(15), || async {
        let e = c.find(Locator::Css("#journal tbody tr")).await.ok()?;
        (!e.is_displayed().await.ok()?).then_some(())
    })
    .await;
    assert!(hidden.is_some(), "the filter hides the row");
    browser
        .save_screenshot(&screenshot("console-standin.png"))
        .await
        .unwrap();
    browser.close().await;
    console.shutdown().await;
    server.shutdown().await;
}

/// The text of `#faults-state` once it contains `part`.
async fn fault_state(c: &Client, part: &str) -> String {
    let text = || async {
        c.find(Locator::Id("faults-state"))
            .await
            .ok()?
            .text()
            .await
            .ok()
    };
    let got = eventually(Duration::from_secs(15), || async {
        text().await.filter(|t| t.contains(part))
    })
    .await;
    match got {
        Some(t) => t,
        None => panic!(
            "the fault panel says `{part}`; it says `{}`",
            text().await.unwrap_or_default()
        ),
    }
}

/// The outcome and tx-id cells of journal row `seq`, once it is shown.
async fn journal_row(c: &Client, seq: u64) -> (String, String) {
    let row = format!("#seq-{seq}");
    shown(c, &row, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("exchange {seq} appears in the live journal"));
    let cell = |css: &'static str| {
        let sel = format!("{row} {css}");
        async move {
            c.find(Locator::Css(&sel))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    (cell("td.outcome").await, cell("td.tx").await)
}

#[tokio::test]
async fn a_fault_switched_on_from_the_page_reaches_the_next_request_and_all_off_ends_it() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let server = signing_stand_in(&data).await;
    eioa_mock_server::admin::start_with_faults(
        &data,
        validator().schema_set().clone(),
        eioa_mock_server::admin::AdminTimeouts::default(),
        Some(server.faults()),
    )
    .unwrap();
    let console = console(Some(&data), t.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}standin", console.url())).await.unwrap();
    shown(c, "#faults-form", Duration::from_secs(10))
        .await
        .expect("the fault panel shows its form");
    fault_state(c, "Fault injection is off").await;

    // Shares adding up to more than 1: the stand-in's reason is shown, nothing changes.
    let xml = c
        .find(Locator::Id("fault-xml_validation_error"))
        .await
        .unwrap();
    let h500 = c.find(Locator::Id("fault-http_500")).await.unwrap();
    xml.clear().await.unwrap();
    xml.send_keys("1").await.unwrap();
    h500.clear().await.unwrap();
    h500.send_keys("0.5").await.unwrap();
    c.find(Locator::Id("faults-apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let refused = fault_state(c, "Not applied").await;
    assert!(refused.contains("add up to 1.5"), "{refused}");
    assert_eq!(
        server.faults().config(),
        eioa_mock_server::faults::FaultConfig::default()
    );

    // Forced XmlValidationError on every request, applied with the keyboard (Enter
    // in the field submits the form).
    h500.clear().await.unwrap();
    h500.send_keys("0\u{E007}").await.unwrap();
    let on = fault_state(c, "Fault injection is ON").await;
    assert!(on.contains("Forced XmlValidationError 1"), "{on}");
    assert_eq!(send(&server, &signed_request(1)).await, 500);
    let (outcome, tx) = journal_row(c, 1).await;
    assert_eq!(outcome, "fault:forced-xml-validation-error");
    assert_eq!(tx, "-");
    browser
        .save_screenshot(&screenshot("console-faults.png"))
        .await
        .unwrap();

    // All off: FK answers again, with a tx-id.
    c.find(Locator::Id("faults-off"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fault_state(c, "Fault injection is off").await;
    assert_eq!(xml.prop("value").await.unwrap().as_deref(), Some("0"));
    assert_eq!(send(&server, &signed_request(2)).await, 200);
    let (outcome, tx) = journal_row(c, 2).await;
    assert_eq!(outcome, "accepted");
    assert_eq!(tx.len(), 36, "a tx-id: {tx}");

    // A console whose stand-in is not running says so instead of showing the form.
    let idle = crate::support::console(Some(&t.path().join("no-stand-in")), t.path()).await;
    c.goto(&format!("{}standin?lang=sv", idle.url()))
        .await
        .unwrap();
    fault_state(c, "testservern är inte igång").await;
    assert!(!c
        .find(Locator::Id("faults-form"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    browser.close().await;
    idle.shutdown().await;
    console.shutdown().await;
    server.shutdown().await;
}

/// A checklist a plain request can satisfy: FK rejects a bare payload (no SOAP envelope).
const CHECKLIST: &str = r#"
id = "console-test"
title = "Console test"

[[case]]
id = "CT-01"
title = "Rejected: a payload sent without its SOAP envelope"
answer = "rejected"
hint = "Send the bare payload."
"#;

#[tokio::test]
async fn a_checklist_case_turns_green_when_the_client_demonstrates_it() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    let server = stand_in(&data).await;
    eioa_mock_server::admin::start(&data, validator().schema_set().clone()).unwrap();
    let start = eioa_mock_server::admin::StartRequest {
        name: "console-1".into(),
        checklist_source: "console-test.toml".into(),
        checklist: CHECKLIST.into(),
        client_fingerprint: None,
    };
    let (code, body) = eioa_mock_server::admin::call(
        &data,
        "POST",
        "/session/start",
        Some(&serde_json::to_string(&start).unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let console = console(Some(&data), t.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}session", console.url())).await.unwrap();
    let pending = shown(
        c,
        "#case-CT-01[data-status='not-demonstrated']",
        Duration::from_secs(10),
    )
    .await
    .expect("the case is listed, not yet demonstrated");
    assert!(pending.contains("Send the bare payload."), "{pending}");

    send(&server, &faq_as_printed()).await;
    shown(
        c,
        "#case-CT-01[data-status='demonstrated']",
        Duration::from_secs(15),
    )
    .await
    .unwrap_or_else(|| {
        panic!(
            "the case turns demonstrated; journal: {:?}",
            eioa_mock_server::journal::read_journal(&data)
                .unwrap()
                .records
                .iter()
                .map(eioa_mock_server::txview::outcome)
                .collect::<Vec<_>>()
        )
    });
    // Green, as a person sees it.
    let colour = c
        .execute(
            "return getComputedStyle(document.querySelector('#case-CT-01 td.state')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(colour, "rgb(228, 245, 233)");
    let state = shown(c, "#session-state", Duration::from_secs(15))
        .await
        .unwrap();
    assert!(
        state.contains("console-1") && state.contains("READY"),
        "{state}"
    );
    browser
        .save_screenshot(&screenshot("console-session.png"))
        .await
        .unwrap();

    // The session report, rendered by eioa-session.
    c.find(Locator::Id("session-report"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = shown(c, "#case-CT-01", Duration::from_secs(10))
        .await
        .expect("the report lists the case");
    assert!(row.contains("CT-01"), "{row}");
    browser.close().await;
    console.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_report_in_the_reports_folder_is_listed_and_opens_in_place() {
    let t = tempfile::tempdir().unwrap();
    let reports = t.path().join("reports");
    std::fs::create_dir_all(reports.join("run-20250314-1000")).unwrap();
    std::fs::write(
        reports.join("run-20250314-1000/report.html"),
        "<!doctype html><title>run</title><h1 id=\"verdict\">12 passed</h1>",
    )
    .unwrap();
    let console = console(None, &reports).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}reports", console.url())).await.unwrap();
    let link = shown(c, "#reports a.report", Duration::from_secs(10))
        .await
        .expect("the run is listed");
    assert_eq!(link, "run-20250314-1000");
    c.find(Locator::Css("#reports a.report"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let verdict = shown(c, "#verdict", Duration::from_secs(10))
        .await
        .expect("the report opens");
    assert_eq!(verdict, "12 passed");
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/files/run-20250314-1000/report.html"
    );
    browser.close().await;
    console.shutdown().await;
}

#[tokio::test]
async fn every_page_labels_its_controls_and_validate_works_from_the_keyboard() {
    let t = tempfile::tempdir().unwrap();
    let console = console(Some(&t.path().join("data")), t.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    // Controls without a label, headings other than one h1, and the page's language.
    let audit = r#"
        const bad = [];
        for (const e of document.querySelectorAll('input, textarea, select')) {
            if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label')) bad.push(e.id || e.outerHTML);
        }
        for (const b of document.querySelectorAll('button, a')) {
            if (!b.textContent.trim() && !b.getAttribute('aria-label') && !b.hidden && b.offsetParent) bad.push(b.outerHTML);
        }
        if (document.querySelectorAll('h1').length !== 1) bad.push('h1 count');
        return [document.documentElement.lang, bad];
    "#;
    for page in ["validate", "standin", "session", "reports"] {
        for lang in ["en", "sv"] {
            c.goto(&format!("{}{page}?lang={lang}", console.url()))
                .await
                .unwrap();
            let v = c.execute(audit, vec![]).await.unwrap();
            assert_eq!(v[0], lang, "{page}");
            assert_eq!(v[1], serde_json::json!([]), "{page}?lang={lang}");
        }
    }
    // Paste, Tab to the button, Enter: the document is validated.
    c.goto(&format!("{}validate", console.url())).await.unwrap();
    let paste = c.find(Locator::Id("paste")).await.unwrap();
    paste.click().await.unwrap();
    paste
        .send_keys(std::str::from_utf8(&faq_corrected()).unwrap())
        .await
        .unwrap();
    let tab = eioa_browser_test::fantoccini::key::Key::Tab;
    let enter = eioa_browser_test::fantoccini::key::Key::Enter;
    paste.send_keys(&char::from(tab).to_string()).await.unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(focused.attr("id").await.unwrap().as_deref(), Some("run"));
    focused
        .send_keys(&char::from(enter).to_string())
        .await
        .unwrap();
    let heading = shown(c, "#results h2", Duration::from_secs(20))
        .await
        .expect("the document is validated");
    assert!(heading.contains("valid (0 errors"), "{heading}");
    browser.close().await;
    console.shutdown().await;
}

#[tokio::test]
async fn dropping_two_files_on_the_page_shows_both_documents() {
    let reports = tempfile::tempdir().unwrap();
    let console = console(None, reports.path()).await;
    let browser = Browser::start().await.expect("headless Chromium starts");
    let c = browser.client();
    c.goto(&format!("{}validate", console.url())).await.unwrap();
    // WebDriver cannot drag from the desktop: the drop event a browser fires then is made
    // here, carrying the files' bytes.
    let as_printed = String::from_utf8(faq_as_printed()).unwrap();
    let corrected = String::from_utf8(faq_corrected()).unwrap();
    c.execute(
        r#"
        const dt = new DataTransfer();
        dt.items.add(new File([arguments[0]], "as-printed.xml", { type: "application/xml" }));
        dt.items.add(new File([arguments[1]], "corrected.xml", { type: "application/xml" }));
        const drop = document.getElementById("drop");
        drop.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
        drop.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        "#,
        vec![as_printed.into(), corrected.into()],
    )
    .await
    .unwrap();
    assert_placeholder_on_line_5(c).await;
    let second = shown(c, "#doc-1", Duration::from_secs(15))
        .await
        .expect("the second document is shown");
    assert!(second.starts_with("corrected.xml — valid"), "{second}");
    let first = shown(c, "#doc-0", Duration::from_secs(15)).await.unwrap();
    assert!(first.starts_with("as-printed.xml — INVALID"), "{first}");
    browser.close().await;
    console.shutdown().await;
}
