//! tx-id fixtures: one recorded exchange kept as files (`fixtures/tx/<id>/`) next to
//! the bug it shows, and sent again to say whether it is FIXED, STILL FAILING or
//! CHANGED.
//!
//! A fixture holds `request.xml` (the SOAP request), `payload.xml` (the notification
//! it carried, decoded), `response.xml` (the answer, if any) and `meta.toml` (where
//! and when, the schema set, the harness version, both certificate fingerprints, what
//! was expected and what came back). Pseudonymised fixtures (the default) replace the
//! people in the payload ([`crate::pseudo`]); their request is signed again at replay
//! by the harness's test signer, since a signature binds the original payload.

use crate::judge::judge;
use crate::kit::Kit;
use crate::pseudo::Pseudonymiser;
use crate::record::{Expect, Observed, RunSummary};
use crate::scenarios::SuiteName;
use eioa_client::{Client, Target};
use eioa_model::soap::{Request, SOAP_ACTION};
use eioa_validate::Validator;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a fixture could not be made, read or replayed.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no exchange `{id}` in {searched}")]
    NotFound { id: String, searched: String },
    #[error("{0}")]
    Unusable(String),
    #[error("failed to build the request")]
    Build(#[source] crate::kit::KitError),
    #[error(transparent)]
    Refused(#[from] crate::gate::SendRefused),
}

impl FixtureError {
    /// Whether the cause is I/O (exit code 3) rather than usage (2).
    pub fn is_io(&self) -> bool {
        matches!(self, FixtureError::Read { .. } | FixtureError::Write { .. })
    }
}

/// What a fixture records about its exchange (`meta.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Meta {
    /// FK's tx-id, the local id a report gave a failed exchange, or `seq-N` (journal).
    pub id: String,
    /// Where it was taken from (a report's summary.json, or a journal and its seq).
    pub source: String,
    pub target: String,
    pub time: String,
    pub schema_set: String,
    pub harness: String,
    pub server_cert_sha256: Option<String>,
    pub client_cert_sha256: Option<String>,
    pub soap_action: String,
    /// People replaced by fictitious ones; the request is signed again at replay.
    pub pseudonymised: bool,
    /// The scenario row it came from, if any (`A01`, `P09#2`).
    pub scenario: Option<String>,
    pub expect: Expectation,
    pub outcome: Recorded,
}

/// What the exchange should have got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Expectation {
    pub outcome: Expect,
    pub message: Option<String>,
}

/// What came back, as compared at replay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Recorded {
    /// `tx-id`, `fault`, `transport-error` or `unreadable`.
    pub kind: String,
    pub status: Option<u16>,
    /// `XmlValidationError`, `SignatureValidationError` or `Fault`.
    pub fault: Option<String>,
    pub faultcode: Option<String>,
    /// The fault's message, the transport error, or why the answer was unreadable.
    pub message: Option<String>,
}

impl Recorded {
    pub fn of(o: &Observed) -> Recorded {
        let (kind, message) = if let Some(e) = &o.error {
            ("transport-error", Some(e.clone()))
        } else if let Some(u) = &o.unreadable {
            ("unreadable", Some(u.clone()))
        } else if o.tx_id.is_some() {
            ("tx-id", None)
        } else if o.fault.is_some() {
            ("fault", o.fault_message.clone())
        } else {
            ("unreadable", None)
        };
        Recorded {
            kind: kind.into(),
            status: o.status,
            fault: o.fault.clone(),
            faultcode: o.faultcode.clone(),
            message,
        }
    }

    /// Back to what the judge reads.
    fn observed(&self) -> Observed {
        Observed {
            status: self.status,
            tx_id: (self.kind == "tx-id").then(|| uuid::Uuid::nil().to_string()),
            fault: self.fault.clone(),
            faultcode: self.faultcode.clone(),
            fault_message: if self.kind == "fault" {
                self.message.clone()
            } else {
                None
            },
            unreadable: (self.kind == "unreadable")
                .then(|| self.message.clone().unwrap_or_default()),
            envelope_findings: Vec::new(),
            error: (self.kind == "transport-error")
                .then(|| self.message.clone().unwrap_or_default()),
            delivery: "answered".into(),
        }
    }

    /// The lines compared between two outcomes (ids and times masked).
    fn lines(&self) -> String {
        let mut s = format!("kind: {}\n", self.kind);
        if let Some(f) = &self.fault {
            s.push_str(&format!("fault: {f}\n"));
        }
        if let Some(m) = &self.message {
            s.push_str(&format!("message: {}\n", mask_uuids(m)));
        }
        if self.kind != "transport-error" {
            if let Some(st) = self.status {
                s.push_str(&format!("status: {st}\n"));
            }
        }
        s
    }
}

/// An exchange as found, before it becomes a fixture.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub meta: Meta,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

/// The run report folders under `reports` (those holding a `summary.json`), newest
/// first: their names start with the run's time.
pub fn run_reports_newest_first(reports: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(reports)?
        .flatten()
        .map(|d| d.path())
        .filter(|p| p.join("summary.json").is_file())
        .collect();
    dirs.sort();
    dirs.reverse();
    Ok(dirs)
}

/// Whether a report's outcome is exchange `id`: its exchange id or FK's tx-id.
pub fn names_exchange(o: &eioa_report::run::ExchangeOutcome, id: &str) -> bool {
    o.exchange_id == id || o.observed.tx_id.as_deref() == Some(id)
}

/// Finds exchange `id` in the run reports under `reports` (newest first). The report
/// must be unredacted (`eioa run --unredacted`): a redacted one no longer holds the
/// request that was sent.
pub fn from_reports(reports: &Path, id: &str) -> Result<Exchange, FixtureError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| FixtureError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let dirs = run_reports_newest_first(reports).map_err(|source| FixtureError::Read {
        path: reports.to_path_buf(),
        source,
    })?;
    for d in &dirs {
        let path = d.join("summary.json");
        let Ok(s) = serde_json::from_slice::<RunSummary>(&read(&path)?) else {
            continue;
        };
        let Some(o) = s.outcomes.iter().find(|o| names_exchange(o, id)) else {
            continue;
        };
        if o.request.is_empty() {
            return Err(FixtureError::Unusable(format!(
                "exchange `{id}` in {} has no request (it was never built)",
                path.display()
            )));
        }
        // The markers `eioa_model::redact` leaves where it decoded or elided content.
        let redacted = o.request.contains(", decoded and redacted:]")
            || o.request.contains("; --unredacted shows them]");
        if redacted {
            return Err(FixtureError::Unusable(format!(
                "exchange `{id}` in {} is redacted: the request that was sent is not in the report; run again with `eioa run --unredacted`, or take it from the stand-in's journal (--journal DIR)",
                path.display()
            )));
        }
        // Reports do not record the SOAPAction header: a bundled scenario's step says
        // which one it sent; anything else sent the contract's.
        let step =
            o.id.split_once('#')
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .map_or(0, |n| n.saturating_sub(1));
        let soap_action = [SuiteName::Full, SuiteName::Connection]
            .into_iter()
            .filter_map(|n| crate::suite::bundled(n).ok())
            .flatten()
            .find(|sc| sc.id == o.scenario)
            .and_then(|sc| sc.steps.get(step).and_then(|d| d.soap_action.clone()))
            .unwrap_or_else(|| SOAP_ACTION.to_string());
        return Ok(Exchange {
            meta: Meta {
                id: id.to_string(),
                source: format!("report {}", path.display()),
                target: s.target.clone(),
                time: s
                    .started_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                schema_set: s.schema_set.to_string(),
                harness: s.tool.clone(),
                server_cert_sha256: o.server_cert_sha256.clone(),
                client_cert_sha256: o.client_cert_sha256.clone(),
                soap_action,
                pseudonymised: false,
                scenario: Some(o.id.clone()),
                expect: Expectation {
                    outcome: o.expected,
                    message: o.expected_message.clone(),
                },
                outcome: Recorded::of(&o.observed),
            },
            request: o.request.clone().into_bytes(),
            response: o.response.clone().into_bytes(),
        });
    }
    Err(FixtureError::NotFound {
        id: id.to_string(),
        searched: reports.display().to_string(),
    })
}

/// Finds exchange `id` (a tx-id, or `seq-N` for any exchange, faulted ones too) in
/// the TLS stand-in's journal under `dir`.
pub fn from_journal(dir: &Path, id: &str, validator: &Validator) -> Result<Exchange, FixtureError> {
    let j = eioa_mock_server::journal::read_journal(dir).map_err(|e| FixtureError::Invalid {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let seq = id.strip_prefix("seq-").and_then(|n| n.parse::<u64>().ok());
    let Some(r) = j
        .records
        .iter()
        .find(|r| r.tx_id.as_deref() == Some(id) || Some(r.seq) == seq)
    else {
        return Err(FixtureError::NotFound {
            id: id.to_string(),
            searched: format!("the journal in {}", dir.display()),
        });
    };
    let observed = crate::observe(&r.response, r.status, validator);
    let soap_action = r
        .request_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("soapaction"))
        .map(|(_, v)| v.trim_matches('"').to_string())
        .unwrap_or_default();
    Ok(Exchange {
        meta: Meta {
            id: r.tx_id.clone().unwrap_or_else(|| format!("seq-{}", r.seq)),
            source: format!("journal {} seq {}", dir.display(), r.seq),
            target: format!("stand-in {}", r.target),
            time: r.time.clone(),
            schema_set: validator.info().to_string(),
            harness: format!("eioa {}", env!("CARGO_PKG_VERSION")),
            server_cert_sha256: None,
            client_cert_sha256: r.client_cert_sha256.clone(),
            soap_action,
            pseudonymised: false,
            scenario: None,
            // A journal does not know what the sender meant: a tx-id is what a
            // sender wants.
            expect: Expectation {
                outcome: Expect::Accepted,
                message: None,
            },
            outcome: Recorded::of(&observed),
        },
        request: r.request.clone(),
        response: r.response.clone(),
    })
}

/// A fixture on disk.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub dir: PathBuf,
    pub meta: Meta,
    pub request: Vec<u8>,
    pub payload: Option<Vec<u8>>,
}

/// Writes `ex` to `root/<id>/`, pseudonymised unless `keep_personal_data`. Refuses
/// to overwrite an existing fixture.
pub fn write(
    root: &Path,
    ex: &Exchange,
    keep_personal_data: bool,
) -> Result<PathBuf, FixtureError> {
    let name: String = ex
        .meta
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = root.join(&name);
    if dir.exists() {
        return Err(FixtureError::Unusable(format!(
            "{} exists already; remove it to take the exchange again",
            dir.display()
        )));
    }
    let parsed = Request::parse(&ex.request).ok();
    let mut meta = ex.meta.clone();
    let mut request = ex.request.clone();
    let mut payload = parsed.as_ref().map(|r| r.payload.clone());
    let mut response = ex.response.clone();
    if !keep_personal_data {
        if meta.outcome.fault.as_deref() == Some("SignatureValidationError") {
            return Err(FixtureError::Unusable(
                "a signature fault cannot be kept pseudonymised: its signature binds the original payload, and signing again would remove the cause; keep it with --unredacted if the exchange holds test data only".into(),
            ));
        }
        let mut p = Pseudonymiser::default();
        if let Some(pl) = &payload {
            let text = p.xml(&String::from_utf8_lossy(pl));
            payload = Some(text.into_bytes());
        }
        request = match (&parsed, &payload) {
            (Some(_), Some(pl)) => Request {
                payload: pl.clone(),
                underskrifter: Vec::new(),
            }
            .to_xml(),
            // Not a SOAP request: any identity number or name in it still goes.
            _ => p.xml(&String::from_utf8_lossy(&request)).into_bytes(),
        };
        response = p.text(&String::from_utf8_lossy(&response)).into_bytes();
        meta.outcome.message = meta.outcome.message.as_deref().map(|m| p.text(m));
        meta.expect.message = meta.expect.message.clone();
        meta.pseudonymised = true;
    }
    std::fs::create_dir_all(&dir).map_err(|source| FixtureError::Write {
        path: dir.clone(),
        source,
    })?;
    let put = |file: &str, bytes: &[u8]| {
        let path = dir.join(file);
        std::fs::write(&path, bytes).map_err(|source| FixtureError::Write { path, source })
    };
    put("request.xml", &request)?;
    if let Some(pl) = &payload {
        put("payload.xml", pl)?;
    }
    if !response.is_empty() {
        put("response.xml", &response)?;
    }
    let toml = toml::to_string(&meta).map_err(|e| FixtureError::Unusable(e.to_string()))?;
    put(
        "meta.toml",
        format!(
            "# A recorded exchange; `eioa replay {}` sends it again.\n{toml}",
            dir.display()
        )
        .as_bytes(),
    )?;
    Ok(dir)
}

/// Reads the fixture in `dir`.
pub fn read(dir: &Path) -> Result<Fixture, FixtureError> {
    let get = |file: &str| {
        let path = dir.join(file);
        std::fs::read(&path).map_err(|source| FixtureError::Read { path, source })
    };
    let meta_bytes = get("meta.toml")?;
    let meta: Meta = toml::from_str(&String::from_utf8_lossy(&meta_bytes)).map_err(|e| {
        FixtureError::Invalid {
            path: dir.join("meta.toml"),
            message: e.message().to_string(),
        }
    })?;
    let payload = dir
        .join("payload.xml")
        .is_file()
        .then(|| get("payload.xml"))
        .transpose()?;
    Ok(Fixture {
        dir: dir.to_path_buf(),
        request: get("request.xml")?,
        payload,
        meta,
    })
}

/// Every fixture under `root`: `root` itself if it holds `meta.toml`, else each
/// subdirectory that does, in name order.
pub fn find_all(root: &Path) -> Result<Vec<PathBuf>, FixtureError> {
    if root.join("meta.toml").is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|source| FixtureError::Read {
            path: root.to_path_buf(),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.toml").is_file())
        .collect();
    v.sort();
    Ok(v)
}

/// What a replay says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// It failed when recorded and now gets what it should.
    Fixed,
    /// It passed when recorded and still does.
    Passes,
    /// The same failure as recorded.
    StillFailing,
    /// Another failure than recorded (another fault, message or status).
    Changed,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Fixed => "FIXED",
            Verdict::Passes => "PASSES",
            Verdict::StillFailing => "STILL FAILING",
            Verdict::Changed => "CHANGED",
        })
    }
}

impl Verdict {
    /// Whether a replay with this verdict is a success (exit code 0).
    pub fn ok(self) -> bool {
        matches!(self, Verdict::Fixed | Verdict::Passes)
    }
}

/// One fixture sent again.
#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    pub fixture: PathBuf,
    pub id: String,
    pub verdict: Verdict,
    pub recorded: Recorded,
    pub now: Recorded,
    /// Why the new answer does not meet the expectation, if it does not.
    pub reason: Option<String>,
    /// A unified diff of recorded → now, when they differ.
    pub diff: Option<String>,
}

/// The request a fixture sends: as recorded, or (pseudonymised) its payload signed
/// by the kit's test signer.
pub fn request_of(f: &Fixture, kit: &Kit) -> Result<Vec<u8>, FixtureError> {
    if !f.meta.pseudonymised {
        return Ok(f.request.clone());
    }
    let Some(payload) = &f.payload else {
        return Ok(f.request.clone());
    };
    let id = crate::scenarios::id_in(payload).unwrap_or_default();
    let req =
        crate::scenarios::sign_as_signer(kit, &id, payload.clone()).map_err(FixtureError::Build)?;
    Ok(req.to_xml())
}

/// Sends `f` again to `target` and compares with what was recorded. Refuses (before
/// any connection) what [`crate::gate::check`] does not let through: FK's hosts get a
/// pseudonymised fixture of a connection-suite scenario only.
pub async fn replay(
    f: &Fixture,
    kit: &Kit,
    client: &Client,
    target: &Target,
    validator: &Validator,
) -> Result<Replay, FixtureError> {
    crate::gate::check(target, crate::gate::Outgoing::Fixture(f))?;
    let body = request_of(f, kit)?;
    let observed = match client.post_soap(target, &f.meta.soap_action, body).await {
        Ok(ex) => crate::observe(&ex.response_body, ex.status, validator),
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(inner) = src {
                msg.push_str(": ");
                msg.push_str(&inner.to_string());
                src = inner.source();
            }
            Observed {
                error: Some(msg),
                ..Observed::default()
            }
        }
    };
    Ok(compare(f, &observed))
}

/// The verdict for `now` against the fixture's record and expectation.
pub fn compare(f: &Fixture, now: &Observed) -> Replay {
    let expect = &f.meta.expect;
    let recorded = f.meta.outcome.clone();
    let now_rec = Recorded::of(now);
    let reason = judge(expect.outcome, expect.message.as_deref(), now);
    let was_ok = judge(
        expect.outcome,
        expect.message.as_deref(),
        &recorded.observed(),
    )
    .is_none();
    let same = recorded.lines() == now_rec.lines();
    let verdict = match (reason.is_none(), was_ok, same) {
        (true, true, _) => Verdict::Passes,
        (true, false, _) => Verdict::Fixed,
        (false, _, true) => Verdict::StillFailing,
        (false, _, false) => Verdict::Changed,
    };
    let diff = (!same).then(|| {
        similar::TextDiff::from_lines(&recorded.lines(), &now_rec.lines())
            .unified_diff()
            .header("recorded", "now")
            .to_string()
    });
    Replay {
        fixture: f.dir.clone(),
        id: f.meta.id.clone(),
        verdict,
        recorded,
        now: now_rec,
        reason,
        diff,
    }
}

fn mask_uuids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        if i + 36 <= b.len()
            && s.is_char_boundary(i + 36)
            && uuid::Uuid::parse_str(&s[i..i + 36]).is_ok()
        {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}
