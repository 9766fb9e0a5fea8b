//! The Stand-in page's fault-injection panel: reads and switches the running
//! stand-in's fault settings through its admin interface (`/faults`, the token read
//! from the data directory). The console holds no fault logic: the stand-in
//! validates the settings and answers with the ones in force.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use eioa_mock_server::admin::{self, AdminError, FaultsError};
use eioa_mock_server::faults::FaultConfig;

use crate::AppState;

fn refused(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, Json(serde_json::json!({ "error": msg.into() }))).into_response()
}

fn answer(r: Result<FaultConfig, FaultsError>) -> Response {
    match r {
        Ok(cfg) => {
            Json(serde_json::json!({ "config": cfg, "active": cfg.is_active() })).into_response()
        }
        // The page tells "not running" apart from a refusal by this status.
        Err(FaultsError::Admin(e @ AdminError::NotRunning { .. })) => {
            refused(StatusCode::SERVICE_UNAVAILABLE, admin::error_chain(&e))
        }
        Err(FaultsError::Refused { status, message }) => refused(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            message,
        ),
        Err(e) => refused(StatusCode::BAD_GATEWAY, admin::error_chain(&e)),
    }
}

fn no_data_dir() -> Response {
    refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "no stand-in data directory: start the console with --data-dir",
    )
}

/// `GET /api/faults`: `{"config": FaultConfig, "active": bool}`.
pub async fn get(State(state): State<Arc<AppState>>) -> Response {
    let Some(dir) = state.cfg.data_dir.as_deref() else {
        return no_data_dir();
    };
    answer(admin::get_faults(dir).await)
}

/// `PUT /api/faults` with a JSON `FaultConfig`: the settings now in force, or 400
/// with the stand-in's reason.
pub async fn put(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(dir) = state.cfg.data_dir.as_deref() else {
        return no_data_dir();
    };
    let cfg: FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return refused(StatusCode::BAD_REQUEST, format!("bad fault settings: {e}")),
    };
    answer(admin::set_faults(dir, &cfg).await)
}
