//! Test support: a real browser for tests that must see what a person sees.
//!
//! [`Browser::start`] starts Debian's `chromedriver` on a free loopback port and opens a
//! headless Chromium session through it (WebDriver, via `fantoccini`), with a fresh profile
//! directory that is removed afterwards. Tests then use [`Browser::client`] to load pages
//! (`file://` reports, or a local server) and ask what is displayed.
//!
//! Chromium and chromedriver come from `scripts/setup.sh --test` (Debian's `chromium` and
//! `chromium-driver`); when they are missing, [`Browser::start`] says so instead of skipping.
//! The browser is told to stay off the network (no background fetches, updates, sync or QUIC):
//! tests only ever load loopback or local files.
//!
//! ```no_run
//! # async fn demo() -> Result<(), eioa_browser_test::BrowserError> {
//! let browser = eioa_browser_test::Browser::start().await?;
//! browser.client().goto("file:///tmp/report.html").await?;
//! let banner = browser.client().find(fantoccini::Locator::Css("#verdict")).await?;
//! assert!(banner.is_displayed().await?);
//! browser.close().await;
//! # Ok(()) }
//! ```

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini;
use fantoccini::{Client, ClientBuilder};

/// The chromedriver binary Debian's `chromium-driver` installs.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The browser Debian's `chromium` installs.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Flags for a headless Chromium on a build machine: no sandbox (containers run as root),
/// no GPU, and nothing that reaches the network on its own.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// How long chromedriver may take to listen.
const DRIVER_START: Duration = Duration::from_secs(20);

/// Why the browser could not be started or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// Chromium or chromedriver is not installed.
    #[error("find {program}: it is not installed (run scripts/setup.sh --test, which installs Debian's chromium and chromium-driver)")]
    Missing {
        /// The program looked for.
        program: PathBuf,
    },
    /// A local resource (port, profile directory, process) could not be had.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// chromedriver did not listen in time.
    #[error("start chromedriver: it did not listen on {addr} within {secs} s")]
    DriverTimeout {
        /// The loopback address it was told to use.
        addr: SocketAddr,
        /// The time allowed.
        secs: u64,
    },
    /// The WebDriver session could not be opened.
    #[error("open a webdriver session")]
    Session(#[source] fantoccini::error::NewSessionError),
    /// A WebDriver command failed.
    #[error("webdriver command")]
    Command(#[from] fantoccini::error::CmdError),
}

/// A headless Chromium session and the chromedriver serving it; both end when this is closed
/// or dropped.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    driver: Child,
    // Kept for the session's lifetime; removed on drop.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    ///
    /// Tries three times, each on a fresh port: another process may take the port between the
    /// kernel naming it free and chromedriver binding it.
    pub async fn start() -> Result<Browser, BrowserError> {
        for program in [CHROMEDRIVER, CHROMIUM] {
            if !Path::new(program).exists() {
                return Err(BrowserError::Missing {
                    program: program.into(),
                });
            }
        }
        let mut last = None;
        for _ in 0..3 {
            match Self::start_once().await {
                Ok(b) => return Ok(b),
                Err(e @ (BrowserError::Missing { .. } | BrowserError::Command(_))) => {
                    return Err(e)
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("three attempts"))
    }

    async fn start_once() -> Result<Browser, BrowserError> {
        let profile = tempfile::Builder::new()
            .prefix("eioa-chromium-")
            .tempdir()
            .map_err(|source| BrowserError::Io {
                what: "make a profile directory".into(),
                source,
            })?;
        let addr = free_loopback_port()?;
        let driver = Command::new(CHROMEDRIVER)
            // Its own process group, which the browsers it starts inherit: one kill ends all.
            .process_group(0)
            .arg(format!("--port={}", addr.port()))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| BrowserError::Io {
                what: format!("start {CHROMEDRIVER}"),
                source,
            })?;
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push("--window-size=1280,1024".into());
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        // From here on, dropping `guard` ends chromedriver and anything it started.
        let mut guard = DriverGuard(Some(driver));
        wait_ready(addr, guard.child()).await?;
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://{addr}"))
            .await
            .map_err(BrowserError::Session)?;
        Ok(Browser {
            client,
            driver: guard.0.take().expect("driver"),
            _profile: profile,
        })
    }

    /// The WebDriver client: `goto`, `find`, `find_all`, `screenshot`…
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads `path` as a `file://` URL.
    pub async fn open_file(&self, path: &Path) -> Result<(), BrowserError> {
        let abs = std::path::absolute(path).map_err(|source| BrowserError::Io {
            what: format!("resolve {}", path.display()),
            source,
        })?;
        self.client.goto(&file_url(&abs)).await?;
        Ok(())
    }

    /// Saves a PNG of the whole page (not only the window) to `path`, creating its directory.
    pub async fn save_screenshot(&self, path: &Path) -> Result<(), BrowserError> {
        // Make the window as tall as the document so the screenshot shows all of it.
        let height = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight);",
                vec![],
            )
            .await?
            .as_u64()
            .unwrap_or(1024)
            .clamp(600, 16_000);
        self.client.set_window_size(1280, height as u32).await?;
        let png = self.client.screenshot().await?;
        let io = |source| BrowserError::Io {
            what: format!("write {}", path.display()),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, png).map_err(io)
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill_all();
    }

    /// The process group of chromedriver and the browser it started (chromedriver's pid).
    pub fn process_group(&self) -> u32 {
        self.driver.id()
    }

    fn kill_all(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Ends chromedriver and every browser process it started: they share a process group.
fn kill_group(driver: &mut Child) {
    if let Ok(Some(_)) = driver.try_wait() {
        // Already reaped: the group id may belong to someone else by now.
        return;
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}

/// chromedriver while a session is being set up: killed with its group unless taken.
struct DriverGuard(Option<Child>);

impl DriverGuard {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("driver")
    }
}

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut d) = self.0.take() {
            kill_group(&mut d);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that panics never reaches `close`, and Chromium outlives a killed chromedriver:
        // end the whole process group.
        self.kill_all();
    }
}

/// `file://` URL for an absolute path, percent-encoding what a URL path cannot hold.
pub fn file_url(abs: &Path) -> String {
    let mut url = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(b as char)
            }
            _ => url.push_str(&format!("%{b:02X}")),
        }
    }
    url
}

/// A loopback port nobody listens on right now (the kernel's choice, released for the driver).
fn free_loopback_port() -> Result<SocketAddr, BrowserError> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|source| BrowserError::Io {
        what: "find a free loopback port".into(),
        source,
    })?;
    l.local_addr().map_err(|source| BrowserError::Io {
        what: "find a free loopback port".into(),
        source,
    })
}

/// Waits until chromedriver says it is ready (`GET /status`), or it exits, or time runs out.
async fn wait_ready(addr: SocketAddr, driver: &mut Child) -> Result<(), BrowserError> {
    let start = Instant::now();
    while start.elapsed() < DRIVER_START {
        if let Ok(Some(status)) = driver.try_wait() {
            // Typically: the port was taken after all.
            return Err(BrowserError::Io {
                what: format!("start {CHROMEDRIVER}"),
                source: std::io::Error::other(format!("it exited early with {status}")),
            });
        }
        if status_ready(addr) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(BrowserError::DriverTimeout {
        addr,
        secs: DRIVER_START.as_secs(),
    })
}

/// Whether the WebDriver server at `addr` answers `GET /status` with `"ready": true`
/// (HTTP/1.1: chromedriver closes an HTTP/1.0 request without answering).
fn status_ready(addr: SocketAddr) -> bool {
    use std::io::{Read as _, Write as _};
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut body = Vec::new();
    let _ = s.take(64 * 1024).read_to_end(&mut body);
    let text = String::from_utf8_lossy(&body);
    text.contains("\"ready\":true") || text.contains("\"ready\": true")
}

#[cfg(test)]
mod tests {
    use super::file_url;
    use std::path::Path;

    #[test]
    fn file_urls_escape_what_a_path_may_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/rapport#1.html")),
            "file:///tmp/a%20b/rapport%231.html"
        );
        assert_eq!(
            file_url(Path::new("/tmp/ö.html")),
            "file:///tmp/%C3%B6.html"
        );
    }
}
