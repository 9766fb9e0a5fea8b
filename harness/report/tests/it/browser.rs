//! The connection report in a real browser (headless Chromium): the verdict banner and every
//! check row are displayed, in English and in Swedish. Screenshots are kept under
//! `target/browser/` for a person to look at.

use std::path::PathBuf;

use eioa_browser_test::fantoccini::Locator;
use eioa_browser_test::Browser;
use eioa_client::connect::{ConnectionTest, Status};
use eioa_report::connect::{self, Lang};

use crate::fixtures;

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("browser")
}

/// Opens the written report and checks what a person sees; saves `shot`.
async fn check_displayed(browser: &Browser, test: &ConnectionTest, lang: Lang, shot: &str) {
    let dir = tempfile::tempdir().unwrap();
    connect::write(dir.path(), test, lang, None).unwrap();
    browser
        .open_file(&dir.path().join("report.html"))
        .await
        .unwrap();
    let c = browser.client();

    let banner = c
        .find(Locator::Id("verdict"))
        .await
        .expect("a verdict banner");
    assert!(
        banner.is_displayed().await.unwrap(),
        "the verdict banner is hidden"
    );
    let text = banner.text().await.unwrap();
    let level = connect::level_title(test.level, lang);
    assert!(
        text.contains(level),
        "{lang}: banner {text:?} does not name the level {level:?}"
    );

    // Every check of the test, looked up by its id: a row left out, or hidden, fails.
    let rows = c.find_all(Locator::Css("li.check")).await.unwrap();
    assert_eq!(
        rows.len(),
        test.checks.len(),
        "{lang}: rows shown vs checks run"
    );
    for check in &test.checks {
        let row = c
            .find(Locator::Css(&format!(
                "li.check[data-check=\"{}\"]",
                check.id
            )))
            .await
            .unwrap_or_else(|_| panic!("{lang}: no row for {}", check.id));
        assert!(
            row.is_displayed().await.unwrap(),
            "{lang}: row {} is hidden",
            check.id
        );
        let text = row.text().await.unwrap().to_lowercase();
        assert!(
            text.contains(&check.id.to_lowercase()),
            "{lang}: row {} lacks its id: {text:?}",
            check.id
        );
        let word = connect::status_word(check.status, lang);
        assert!(
            text.contains(word),
            "{lang}: row {} lacks its status {word:?}: {text:?}",
            check.id
        );
        assert!(text.contains(&connect::check_title(check, lang).to_lowercase()));
        // What to do, in the report's language (the probe writes both; the Swedish one is
        // missing only in results written before it did).
        let (wanted, other) = match lang {
            Lang::En => (check.remedy.as_ref(), check.remedy_sv.as_ref()),
            Lang::Sv => (
                check.remedy_sv.as_ref().or(check.remedy.as_ref()),
                check.remedy_sv.as_ref().and(check.remedy.as_ref()),
            ),
        };
        if let (Some(r), true) = (wanted, check.status != Status::Pass) {
            assert!(
                text.contains(&r.to_lowercase()),
                "{lang}: row {} does not show the remedy {r:?}: {text:?}",
                check.id
            );
        }
        if let Some(r) = other {
            assert!(
                !text.contains(&r.to_lowercase()),
                "{lang}: row {} shows the other language's remedy {r:?}",
                check.id
            );
        }
    }
    browser
        .save_screenshot(&screenshot_dir().join(shot))
        .await
        .unwrap();
}

#[tokio::test]
async fn report_is_displayed_in_english() {
    let browser = Browser::start().await.expect("headless Chromium starts");
    let answered = fixtures::answered(&"c".repeat(64));
    check_displayed(&browser, &answered, Lang::En, "connect-report-en.png").await;
    check_displayed(
        &browser,
        &fixtures::refused(),
        Lang::En,
        "connect-report-refused-en.png",
    )
    .await;
    browser.close().await;
}

#[tokio::test]
async fn report_is_displayed_in_swedish() {
    let browser = Browser::start().await.expect("headless Chromium starts");
    let answered = fixtures::answered(&"c".repeat(64));
    check_displayed(&browser, &answered, Lang::Sv, "connect-report-sv.png").await;
    check_displayed(
        &browser,
        &fixtures::refused(),
        Lang::Sv,
        "connect-report-refused-sv.png",
    )
    .await;
    browser.close().await;
}

/// A connection test the probe really ran: a client identity made by openssl, and a loopback
/// port where nothing listens. The report is written with its evidence, which verifies.
#[tokio::test]
async fn a_real_connection_test_is_displayed() {
    use eioa_client::connect::{self as probe, ConnectOptions, Level};
    use eioa_client::{IdentitySource, Target, Url};

    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = fixtures::identity_files(tmp.path(), "p256");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}/shs2/FK.EIOA.AnmalanArbetsgivare.ext");
    let mut o = ConnectOptions::new(Target::Url(Url::parse(&url).unwrap()));
    o.identity = Some(IdentitySource::Pem {
        cert: cert.clone(),
        key: key.clone(),
    });
    o.extra_roots = vec![
        rustls_pemfile::certs(&mut &std::fs::read(&cert).unwrap()[..])
            .next()
            .unwrap()
            .unwrap(),
    ];
    o.use_system_roots = false;
    o.connect_timeout = std::time::Duration::from_secs(3);
    let test = probe::run(o).await;
    assert_eq!(test.level, Level::None);
    assert!(test.check("C-TCP").is_some());

    let identity = eioa_client::Identity::from_pem_files(&cert, &key, None).unwrap();
    let out = tmp.path().join("report");
    connect::write(&out, &test, Lang::En, Some(&identity)).unwrap();
    let v = eioa_report::evidence::verify(&out).unwrap();
    assert!(v.intact(), "{}", v.render());

    let browser = Browser::start().await.expect("headless Chromium starts");
    check_displayed(
        &browser,
        &test,
        Lang::En,
        "connect-report-real-refused-en.png",
    )
    .await;
    // The probe's own remedies, in Swedish.
    assert!(test
        .check("C-TCP")
        .and_then(|c| c.remedy_sv.as_ref())
        .is_some());
    check_displayed(
        &browser,
        &test,
        Lang::Sv,
        "connect-report-real-refused-sv.png",
    )
    .await;
    browser.close().await;
}
