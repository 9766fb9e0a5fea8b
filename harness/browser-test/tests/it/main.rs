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

/// Process ids whose process group is `pgid` (from /proc).
fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if rest.split_whitespace().nth(2) == Some(&pgid.to_string()) {
            out.push(pid);
        }
    }
    out
}

#[tokio::test]
async fn a_dropped_browser_leaves_no_process_behind() {
    // A test that panics drops the browser without `close`: Chromium must not outlive it.
    let browser = Browser::start().await.expect("browser starts");
    browser.client().goto("about:blank").await.unwrap();
    let pgid = browser.process_group();
    assert!(
        group_members(pgid).len() > 1,
        "chromedriver and Chromium share the group"
    );
    drop(browser);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = group_members(pgid);
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "processes left behind: {left:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
