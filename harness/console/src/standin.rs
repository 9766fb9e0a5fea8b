//! The stand-in's journal: a list, one exchange in detail (redacted by
//! [`eioa_mock_server::txview::show`]), and a server-sent event stream that polls the
//! journal and pushes records it has not sent yet.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use eioa_mock_server::journal::{read_journal, Record};
use eioa_mock_server::redact::mask_identity_numbers;
use eioa_mock_server::txview;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};

use crate::AppState;

/// How often the event stream looks at the journal.
pub const POLL: Duration = Duration::from_millis(250);

/// One row of the journal table. Nothing personal: no bodies, no names.
#[derive(Debug, Serialize)]
pub struct Row {
    pub seq: u64,
    pub time: String,
    pub method: String,
    pub target: String,
    pub status: Option<u16>,
    pub tx_id: Option<String>,
    pub client: Option<String>,
    pub outcome: String,
    pub findings: usize,
}

fn row(r: &Record) -> Row {
    Row {
        seq: r.seq,
        time: r.time.clone(),
        method: r.method.clone(),
        target: r.target.clone(),
        status: r.status,
        tx_id: r.tx_id.clone(),
        client: r.client_cert_sha256.clone(),
        outcome: txview::outcome(r),
        findings: r.findings.len(),
    }
}

/// One exchange opened: the redacted text view `eioa tx show` prints, and its fields.
#[derive(Debug, Serialize)]
pub struct Detail {
    #[serde(flatten)]
    pub row: Row,
    /// The verdict as JSON, identity numbers masked.
    pub verdict: Option<String>,
    pub fault: Option<String>,
    /// Observations about the client (pacing and the like).
    pub warnings: Vec<String>,
    /// `eioa tx show` (redacted).
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct After {
    after: Option<u64>,
}

fn no_data_dir() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({
            "error": "no stand-in data directory: start the console with --data-dir"
        })),
    )
        .into_response()
}

async fn records(dir: PathBuf) -> Result<Vec<Record>, String> {
    match tokio::task::spawn_blocking(move || read_journal(&dir)).await {
        Ok(Ok(j)) => Ok(j.records),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("reading the journal stopped unexpectedly".into()),
    }
}

fn journal_error(e: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "error": e })),
    )
        .into_response()
}

pub async fn list(State(state): State<Arc<AppState>>, Query(q): Query<After>) -> Response {
    let Some(dir) = state.cfg.data_dir.clone() else {
        return no_data_dir();
    };
    match records(dir).await {
        Ok(rs) => {
            let after = q.after.unwrap_or(0);
            Json(
                rs.iter()
                    .filter(|r| r.seq > after)
                    .map(row)
                    .collect::<Vec<_>>(),
            )
            .into_response()
        }
        Err(e) => journal_error(e),
    }
}

pub async fn detail(State(state): State<Arc<AppState>>, Path(seq): Path<u64>) -> Response {
    let Some(dir) = state.cfg.data_dir.clone() else {
        return no_data_dir();
    };
    match records(dir).await {
        Ok(rs) => match rs.iter().find(|r| r.seq == seq) {
            Some(r) => Json(Detail {
                row: row(r),
                verdict: r
                    .verdict
                    .as_ref()
                    .map(|v| mask_identity_numbers(&serde_json::to_string(v).unwrap_or_default())),
                fault: r.fault.clone(),
                warnings: r.findings.clone(),
                text: txview::show(r, true),
            })
            .into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({ "error": format!("no exchange {seq} in the journal") })),
            )
                .into_response(),
        },
        Err(e) => journal_error(e),
    }
}

/// `records` events (a JSON array of rows, oldest first) whenever the journal has grown,
/// `journal-error` events while it cannot be read.
pub async fn events(State(state): State<Arc<AppState>>) -> Response {
    let Some(dir) = state.cfg.data_dir.clone() else {
        return no_data_dir();
    };
    Sse::new(stream_of(dir))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The journal's segment files with their lengths and modification times: when it has
/// not changed, the journal is not read again.
type Fingerprint = Vec<(PathBuf, u64, Option<std::time::SystemTime>)>;

fn fingerprint(dir: &std::path::Path) -> Option<Fingerprint> {
    let segments = eioa_mock_server::journal::list_segments(dir).ok()?;
    segments
        .into_iter()
        .map(|(_, p)| {
            let m = std::fs::metadata(&p).ok()?;
            Some((p, m.len(), m.modified().ok()))
        })
        .collect()
}

fn stream_of(dir: PathBuf) -> impl Stream<Item = Result<Event, Infallible>> {
    // (last sequence number sent, whether this is the first look, the journal as last read)
    stream::unfold((0u64, true, None), move |(last, first, seen)| {
        let dir = dir.clone();
        async move {
            let mut first = first;
            let mut seen: Option<Fingerprint> = seen;
            loop {
                if !first {
                    tokio::time::sleep(POLL).await;
                }
                let d = dir.clone();
                let now = tokio::task::spawn_blocking(move || fingerprint(&d))
                    .await
                    .ok()
                    .flatten();
                if !first && now.is_some() && now == seen {
                    continue;
                }
                match records(dir.clone()).await {
                    Ok(rs) => {
                        let new: Vec<Row> = rs.iter().filter(|r| r.seq > last).map(row).collect();
                        let top = new.last().map_or(last, |r| r.seq);
                        seen = now;
                        // The first look is always sent: the page learns it is connected.
                        if first || !new.is_empty() {
                            let data = serde_json::to_string(&new).unwrap_or_else(|_| "[]".into());
                            let ev = Event::default().event("records").data(data);
                            return Some((Ok(ev), (top, false, seen)));
                        }
                    }
                    Err(e) => {
                        let ev = Event::default().event("journal-error").data(e);
                        return Some((Ok(ev), (last, false, None)));
                    }
                }
                first = false;
            }
        }
    })
}
