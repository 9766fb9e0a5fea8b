//! The helper itself: a real headless Chromium tells shown from hidden, and screenshots.

use eioa_browser_test::fantoccini::Locator;
use eioa_browser_test::Browser;

#[tokio::test]
async fn displayed_and_hidden_elements_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page with space.html");
    std::fs::write(
        &page,
        "<!doctype html><meta charset=utf-8><p id=shown>Välkommen</p>\
         <p id=hidden style=display:none>gömd</p>",
    )
    .unwrap();
    let browser = Browser::start().await.expect("browser starts");
    browser.open_file(&page).await.unwrap();
    let c = browser.client();
    let shown = c.find(Locator::Id("shown")).await.unwrap();
    assert!(shown.is_displayed().await.unwrap());
    assert_eq!(shown.text().await.unwrap(), "Välkommen");
    let hidden = c.find(Locator::Id("hidden")).await.unwrap();
    assert!(!hidden.is_displayed().await.unwrap());
    let png = dir.path().join("shot.png");
    browser.save_screenshot(&png).await.unwrap();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    browser.close().await;
}
