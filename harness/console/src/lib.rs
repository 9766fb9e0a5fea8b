//! `eioa console`: a local web console for people who check notifications without a
//! terminal. It is an adapter over the libraries the CLI uses and holds no judging logic:
//! validation is [`eioa_validate`] with the renderers of [`eioa_report::validation`], the
//! stand-in's journal is [`eioa_mock_server::journal`] shown through
//! [`eioa_mock_server::txview`] (redacted), sessions are judged by the stand-in's admin
//! interface (`eioa-session`), fault injection is switched through that same
//! interface, and reports are the files `eioa run` and `eioa connect`
//! wrote, served read-only.
//!
//! It listens on loopback only unless told otherwise, and then only with a token. Every
//! asset is compiled into the binary: it works offline.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use eioa_validate::Validator;

mod faults;
mod i18n;
mod pages;
mod reports;
mod session;
mod standin;
mod validate;

pub use validate::{MAX_DOCUMENTS, MAX_REQUEST_BYTES};

/// What the console serves and where.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Where to listen; loopback unless `allow_remote`.
    pub listen: SocketAddr,
    /// The stand-in's data directory (journal, sessions, admin token), if any.
    pub data_dir: Option<PathBuf>,
    /// The folder `eioa run` and `eioa connect` write reports into.
    pub reports: PathBuf,
    /// Listen on a non-loopback address (requires `token`).
    pub allow_remote: bool,
    /// Every request must carry this token (bearer header, `?token=` once, or its cookie).
    pub token: Option<String>,
    /// The validators (one per schema set, the first the default) the Validate page
    /// offers.
    pub validators: Vec<Arc<Validator>>,
}

/// Why the console did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    #[error("{0} is not a loopback address: the console shows personal data from the journal; pass --allow-remote (with a token in EIOA_CONSOLE_TOKEN) to listen there")]
    NotLoopback(SocketAddr),
    #[error("no schema set to validate with")]
    NoSchemaSet,
    #[error("--allow-remote needs a token: set EIOA_CONSOLE_TOKEN (at least 16 characters)")]
    RemoteWithoutToken,
    #[error("listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Shared by every handler.
#[derive(Debug)]
pub(crate) struct AppState {
    pub cfg: ConsoleConfig,
    /// The port actually bound (for the Host check).
    pub port: u16,
    /// Validations running at once: one per core, the rest wait (CPU and memory stay
    /// bounded however many pages post at the same time).
    pub validations: tokio::sync::Semaphore,
}

/// A running console.
#[derive(Debug)]
pub struct Console {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Console {
    /// Checks the configuration, binds and starts serving in the background.
    pub async fn start(cfg: ConsoleConfig) -> Result<Console, ConsoleError> {
        check(&cfg)?;
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| ConsoleError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ConsoleError::Bind {
            addr: cfg.listen,
            source,
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let state = Arc::new(AppState {
            cfg,
            port: addr.port(),
            validations: tokio::sync::Semaphore::new(cores),
        });
        let app = router(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Console {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The console's address for a browser.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves until the server fails (or forever).
    pub async fn wait(mut self) -> std::io::Result<()> {
        let _keep = self.shutdown.take();
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Stops serving. Open event streams are ended.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

/// The rules a configuration must follow before anything is bound.
pub fn check(cfg: &ConsoleConfig) -> Result<(), ConsoleError> {
    if cfg.validators.is_empty() {
        return Err(ConsoleError::NoSchemaSet);
    }
    if !cfg.listen.ip().is_loopback() && !cfg.allow_remote {
        return Err(ConsoleError::NotLoopback(cfg.listen));
    }
    if cfg.allow_remote && cfg.token.as_deref().is_none_or(|t| t.trim().len() < 16) {
        return Err(ConsoleError::RemoteWithoutToken);
    }
    Ok(())
}

fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/api/validate", post(validate::handle))
        .route("/api/journal", get(standin::list))
        .route("/api/journal/events", get(standin::events))
        .route("/api/journal/{seq}", get(standin::detail))
        .route("/api/faults", get(faults::get).put(faults::put))
        .route("/api/session", get(session::status))
        .route("/session/report", get(session::report))
        .route("/api/reports", get(reports::list))
        .route("/files/{*path}", get(reports::file))
        .layer(validate::body_limit());
    Router::new()
        .route("/", get(pages::validate))
        .route("/validate", get(pages::validate))
        .route("/standin", get(pages::standin))
        .route("/session", get(pages::session))
        .route("/reports", get(pages::reports))
        .route("/assets/style.css", get(pages::css))
        .route("/assets/app.js", get(pages::js))
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Refuses requests for another host name (a web page that rebinds its own name to
/// 127.0.0.1 must not read the journal) and, when a token is set, requests without it.
async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if !state.cfg.allow_remote && !host_is_loopback(&req, state.port) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this console answers to 127.0.0.1, localhost and [::1] only\n",
        )
            .into_response();
    }
    let Some(token) = state.cfg.token.as_deref() else {
        return with_headers(next.run(req).await);
    };
    let from_query = req
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("token="))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
    let from_cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("eioa_console="))
        .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
    if !(from_query || from_header || from_cookie) {
        return (
            StatusCode::UNAUTHORIZED,
            "a token is required: open the URL the console printed\n",
        )
            .into_response();
    }
    let mut resp = with_headers(next.run(req).await);
    if from_query {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "eioa_console={token}; HttpOnly; SameSite=Strict; Path=/"
        )) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Nothing from elsewhere: no scripts, styles or frames but the console's own.
fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'",
    ));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

fn host_is_loopback(req: &Request, port: u16) -> bool {
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        // HTTP/1.0 without Host: only a local tool does that.
        return true;
    };
    let (name, port_part) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, tail)) => (format!("[{ip}]"), tail.strip_prefix(':')),
            None => return false,
        },
        None => match host.rsplit_once(':') {
            Some((n, p)) => (n.to_string(), Some(p)),
            None => (host.to_string(), None),
        },
    };
    if port_part.is_some_and(|p| p.parse::<u16>() != Ok(port)) {
        return false;
    }
    matches!(name.as_str(), "127.0.0.1" | "localhost" | "[::1]")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(listen: &str, allow_remote: bool, token: Option<&str>) -> ConsoleConfig {
        ConsoleConfig {
            listen: listen.parse().unwrap(),
            data_dir: None,
            reports: PathBuf::from("reports"),
            allow_remote,
            token: token.map(str::to_string),
            validators: vec![Arc::new(Validator::embedded().unwrap())],
        }
    }

    #[test]
    fn listens_on_loopback_unless_allowed_and_then_only_with_a_token() {
        assert!(check(&cfg("127.0.0.1:0", false, None)).is_ok());
        assert!(check(&cfg("[::1]:0", false, None)).is_ok());
        assert!(matches!(
            check(&cfg("0.0.0.0:8080", false, None)),
            Err(ConsoleError::NotLoopback(_))
        ));
        assert!(matches!(
            check(&cfg("0.0.0.0:8080", true, None)),
            Err(ConsoleError::RemoteWithoutToken)
        ));
        assert!(matches!(
            check(&cfg("0.0.0.0:8080", true, Some("short"))),
            Err(ConsoleError::RemoteWithoutToken)
        ));
        assert!(check(&cfg("0.0.0.0:8080", true, Some("a-long-enough-token-1234"))).is_ok());
    }

    #[test]
    fn host_names_other_than_loopback_are_refused() {
        let req = |host: &str| {
            Request::builder()
                .header(header::HOST, host)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert!(host_is_loopback(&req("127.0.0.1:4000"), 4000));
        assert!(host_is_loopback(&req("localhost:4000"), 4000));
        assert!(host_is_loopback(&req("[::1]:4000"), 4000));
        assert!(!host_is_loopback(&req("127.0.0.1:4001"), 4000));
        assert!(!host_is_loopback(&req("evil.example:4000"), 4000));
        assert!(!host_is_loopback(&req("evil.example"), 4000));
    }
}
