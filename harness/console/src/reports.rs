//! The reports folder: the runs and connection tests in it, and its files served
//! read-only. Only files under the folder are served: a path with anything but plain
//! names is refused before the file system is asked, and a symbolic link leading out
//! of the folder is refused after resolving it.

use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::AppState;

/// How deep under the folder reports are looked for (`reports/<run>/report.html`,
/// `reports/<kind>/<run>/report.html`, …).
const MAX_DEPTH: usize = 4;
/// The most reports listed.
const MAX_LISTED: usize = 500;
/// Largest file served.
const MAX_FILE: u64 = 256 << 20;

#[derive(Debug, Serialize)]
pub struct Entry {
    /// The folder holding `report.html`, relative to the reports folder, `/`-separated.
    pub path: String,
    /// Seconds since the epoch when `report.html` was written.
    pub modified: Option<u64>,
    /// Other files beside it (`report.json`, `junit.xml`, …).
    pub files: Vec<String>,
}

pub async fn list(State(state): State<Arc<AppState>>) -> Response {
    let root = state.cfg.reports.clone();
    match tokio::task::spawn_blocking(move || find_reports(&root)).await {
        Ok(list) => Json(list).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Every folder under `root` with a `report.html`, newest first.
pub fn find_reports(root: &FsPath) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pending = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files = Vec::new();
        let mut has_report = false;
        for e in read.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            // Not following links keeps the walk inside the folder.
            if ft.is_dir() && depth < MAX_DEPTH {
                pending.push((e.path(), depth + 1));
            } else if ft.is_file() {
                if name == "report.html" {
                    has_report = true;
                } else {
                    files.push(name);
                }
            }
        }
        if has_report && out.len() < MAX_LISTED {
            let rel = dir.strip_prefix(root).unwrap_or(&dir);
            let path = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let modified = std::fs::metadata(dir.join("report.html"))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            files.sort();
            out.push(Entry {
                path,
                modified,
                files,
            });
        }
    }
    out.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.path.cmp(&b.path)));
    out
}

/// The file at `rel` under `root`, if it is really under it.
pub fn resolve(root: &FsPath, rel: &str) -> Option<PathBuf> {
    let rel_path = FsPath::new(rel);
    if rel.is_empty()
        || rel.contains('\\')
        || rel.contains('\0')
        || !rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let root = root.canonicalize().ok()?;
    let file = root.join(rel_path).canonicalize().ok()?;
    (file.starts_with(&root) && file.is_file()).then_some(file)
}

fn content_type(p: &FsPath) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "txt" | "md" | "log" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

pub async fn file(State(state): State<Arc<AppState>>, Path(rel): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such report file\n").into_response();
    let Some(path) = resolve(&state.cfg.reports, &rel) else {
        return not_found();
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.len() <= MAX_FILE => {}
        _ => return not_found(),
    }
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return not_found();
    };
    let mut resp = ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response();
    // A report is a self-contained page: its own inline styles and scripts, nothing fetched.
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'self'",
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn only_plain_names_under_the_folder_resolve() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("reports");
        std::fs::create_dir_all(root.join("run-1")).unwrap();
        std::fs::write(root.join("run-1/report.html"), "<p>ok</p>").unwrap();
        std::fs::write(t.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret.txt"), root.join("run-1/link.txt"))
            .unwrap();
        assert!(resolve(&root, "run-1/report.html").is_some());
        for bad in [
            "../secret.txt",
            "run-1/../../secret.txt",
            "/etc/passwd",
            "run-1/link.txt",
            "run-1",
            "",
            "run-1\\..\\..\\secret.txt",
            "./run-1/report.html",
        ] {
            assert!(resolve(&root, bad).is_none(), "{bad} resolved");
        }
    }
}
