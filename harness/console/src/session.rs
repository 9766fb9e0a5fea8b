//! The running session, judged now by the stand-in's admin interface (which judges the
//! journal with `eioa-session`), and its report rendered by `eioa-session`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use eioa_mock_server::admin;
use eioa_session::SessionReport;

use crate::AppState;

async fn judged(state: &AppState) -> Result<SessionReport, (StatusCode, String)> {
    let Some(dir) = state.cfg.data_dir.as_deref() else {
        return Err((
            StatusCode::NOT_FOUND,
            "no stand-in data directory: start the console with --data-dir".into(),
        ));
    };
    let (code, body) = admin::call(dir, "GET", "/session/status", None)
        .await
        .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, admin::error_chain(&e)))?;
    if code != 200 {
        let msg = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| format!("the stand-in answered {code}"));
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
        return Err((status, msg));
    }
    serde_json::from_str(&body).map_err(|e| {
        (
            StatusCode::BAD_GATEWAY,
            format!("the stand-in's session status is not a session report: {e}"),
        )
    })
}

pub async fn status(State(state): State<Arc<AppState>>) -> Response {
    match judged(&state).await {
        Ok(r) => Json(r).into_response(),
        Err((code, msg)) => (code, Json(serde_json::json!({ "error": msg }))).into_response(),
    }
}

pub async fn report(State(state): State<Arc<AppState>>) -> Response {
    match judged(&state).await {
        Ok(r) => Html(r.to_html()).into_response(),
        Err((code, msg)) => (code, msg).into_response(),
    }
}
