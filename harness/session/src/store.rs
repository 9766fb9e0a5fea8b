//! Durable sessions: an append-only file of start and end events in the stand-in's
//! data directory (`sessions.jsonl`, mode 0600), each event synced to disk before it
//! is acknowledged. Replaying the file gives the sessions, so they survive a restart.
//! A torn last line (a crash mid-write) is ignored; any other damage is an error.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::checklist::{Checklist, ChecklistError};
use crate::exchange::Exchange;

/// The store's file in the data directory.
pub const FILE: &str = "sessions.jsonl";

/// A named window of exchanges, from one client certificate or from all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    /// Where the checklist came from (`onboarding` or the file given).
    pub checklist_source: String,
    /// The checklist's TOML as it was when the session started.
    pub checklist: String,
    /// SHA-256 (lowercase hex) of the one client certificate the session follows.
    pub client_fingerprint: Option<String>,
    /// RFC 3339, UTC.
    pub started: String,
    pub ended: Option<String>,
    /// The schema set the stand-in validated with (`id (provenance, hash)`), so a
    /// report's coverage can be checked against it.
    #[serde(default)]
    pub schema_set: Option<String>,
}

impl Session {
    /// Whether an exchange belongs to the session: inside its window, from its client.
    pub fn covers(&self, e: &Exchange) -> bool {
        let Ok(at) = OffsetDateTime::parse(&e.time, &Rfc3339) else {
            return false;
        };
        let after_start = OffsetDateTime::parse(&self.started, &Rfc3339).is_ok_and(|s| at >= s);
        let before_end = match &self.ended {
            None => true,
            Some(end) => OffsetDateTime::parse(end, &Rfc3339).is_ok_and(|end| at <= end),
        };
        let client = match &self.client_fingerprint {
            None => true,
            Some(f) => e.client.as_deref() == Some(f.as_str()),
        };
        after_start && before_end && client
    }

    pub fn checklist(&self) -> Result<Checklist, ChecklistError> {
        Checklist::parse(&self.checklist, &self.checklist_source)
    }

    pub fn is_open(&self) -> bool {
        self.ended.is_none()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Event {
    Start(Session),
    End { name: String, ended: String },
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} line {line} is damaged: {message}")]
    Damaged {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("a session name is 1 to 64 letters, digits, '.', '_' or '-' (got `{0}`)")]
    BadName(String),
    #[error("a client fingerprint is the certificate's SHA-256 as 64 hex digits (got `{0}`)")]
    BadFingerprint(String),
    #[error("session `{0}` exists already: pick another name")]
    Exists(String),
    #[error("session `{0}` is still running: end it first (eioa session end)")]
    Running(String),
    #[error("no session is running")]
    NoneRunning,
    #[error("no session named `{0}`")]
    Unknown(String),
    #[error(transparent)]
    Checklist(#[from] ChecklistError),
}

/// The sessions of one data directory.
#[derive(Debug)]
pub struct SessionStore {
    path: PathBuf,
    sessions: Vec<Session>,
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Lowercase hex without separators, checked to be 64 digits.
pub fn normalise_fingerprint(f: &str) -> Result<String, StoreError> {
    let hex: String = f
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(StoreError::BadFingerprint(f.to_string()))
    }
}

impl SessionStore {
    /// Reads the sessions of `data_dir` (none when the file does not exist yet).
    pub fn open(data_dir: &Path) -> Result<SessionStore, StoreError> {
        let path = data_dir.join(FILE);
        let mut sessions: Vec<Session> = Vec::new();
        let text = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(StoreError::Io {
                    op: "read",
                    path,
                    source,
                })
            }
        };
        let complete = text.ends_with(b"\n");
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        let n = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let event: Event = match serde_json::from_slice(line) {
                Ok(e) => e,
                // The last line without its newline: a write cut short, never acknowledged.
                Err(_) if !complete && i + 1 == n => break,
                Err(e) => {
                    return Err(StoreError::Damaged {
                        path,
                        line: i + 1,
                        message: e.to_string(),
                    })
                }
            };
            match event {
                Event::Start(s) => sessions.push(s),
                Event::End { name, ended } => {
                    if let Some(s) = sessions.iter_mut().find(|s| s.name == name) {
                        s.ended = Some(ended);
                    }
                }
            }
        }
        Ok(SessionStore { path, sessions })
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    pub fn running(&self) -> Option<&Session> {
        self.sessions.iter().find(|s| s.is_open())
    }

    pub fn get(&self, name: &str) -> Result<&Session, StoreError> {
        self.sessions
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| StoreError::Unknown(name.to_string()))
    }

    /// Starts a session now. One session runs at a time; names are never reused.
    pub fn start(
        &mut self,
        name: &str,
        checklist_source: &str,
        checklist_text: &str,
        client_fingerprint: Option<&str>,
        schema_set: Option<&str>,
    ) -> Result<Session, StoreError> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(StoreError::BadName(name.to_string()));
        }
        let client_fingerprint = client_fingerprint.map(normalise_fingerprint).transpose()?;
        Checklist::parse(checklist_text, checklist_source)?;
        if let Some(r) = self.running() {
            return Err(StoreError::Running(r.name.clone()));
        }
        if self.sessions.iter().any(|s| s.name == name) {
            return Err(StoreError::Exists(name.to_string()));
        }
        let session = Session {
            name: name.to_string(),
            checklist_source: checklist_source.to_string(),
            checklist: checklist_text.to_string(),
            client_fingerprint,
            started: now(),
            ended: None,
            schema_set: schema_set.map(str::to_string),
        };
        self.append(&Event::Start(session.clone()))?;
        self.sessions.push(session.clone());
        Ok(session)
    }

    /// Ends the running session now.
    pub fn end(&mut self) -> Result<Session, StoreError> {
        let name = self.running().ok_or(StoreError::NoneRunning)?.name.clone();
        let ended = now();
        self.append(&Event::End {
            name: name.clone(),
            ended: ended.clone(),
        })?;
        let s = self
            .sessions
            .iter_mut()
            .find(|s| s.name == name)
            .ok_or(StoreError::NoneRunning)?;
        s.ended = Some(ended);
        Ok(s.clone())
    }

    fn append(&self, event: &Event) -> Result<(), StoreError> {
        let io = |op, source| StoreError::Io {
            op,
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(event).map_err(|e| io("encode", e.into()))?;
        line.push(b'\n');
        let created = !self.path.exists();
        let mut f: File = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| io("open", e))?;
        // A file made by someone else's umask or copied in is narrowed as well.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io("set permissions of", e))?;
        f.write_all(&line).map_err(|e| io("write", e))?;
        f.sync_data().map_err(|e| io("sync", e))?;
        if created {
            if let Some(dir) = self.path.parent() {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| io("sync the directory of", e))?;
            }
        }
        Ok(())
    }
}
