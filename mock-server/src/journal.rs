//! The exchange journal: every request the stand-in answered, appended to segment
//! files in a data directory before the answer leaves the server.
//!
//! # Format
//! A segment starts with the 8-byte magic [`MAGIC`], then frames:
//! `len: u32 LE | crc32(payload): u32 LE | payload (len bytes)`.
//! A record's payload holds its bodies raw, once, and the rest as JSON after them:
//! `RAW_TAG (4 bytes) | request len: u32 LE | response len: u32 LE | request bytes |
//! response bytes | JSON record` (its `request` and `response` are empty there).
//! Journals written before this hold a record as the payload's JSON alone, with the
//! bodies in base64 (a 9 KB request took 17.7 KB); both are read.
//! When the next segment starts, the segment gets a last frame, its footer:
//! `{"segment_end":{"records":N,"first_seq":A,"last_seq":B}}` ([`SegmentEnd`]).
//! Segments from before footers existed start with [`MAGIC_V1`] and are read alike.
//!
//! # Invariants
//! - A record is written (and, with [`Durability::Fsync`], on disk) before
//!   [`Journal::append`] returns, so a client never holds a tx-id the journal lacks.
//! - One writer thread owns the files. Concurrent appends are batched: one `write`
//!   and one `fdatasync` per batch (group commit), each caller awaiting its batch.
//! - A torn tail (a crash mid-write) is detected by length and CRC when the journal
//!   is opened and truncated away; complete records are never lost or altered.
//! - Only a genuinely torn tail is cut: damage after the last intact record of the
//!   newest segment that is a frame running past the end of the file, a last frame
//!   holding NUL bytes (blocks allocated but never written; JSON has no NUL), or NUL
//!   bytes only. Any other damage (a flipped byte in an acknowledged record) is
//!   corruption: the segment is left as it is, readers skip the damaged stretch to
//!   the next intact frame and report it, and appends go on in a fresh segment.
//! - Sequence numbers never repeat: on open, the next one follows the highest seq of
//!   the newest segment that has one, scanning back past empty segments (a rotation
//!   right before a stop leaves the newest one empty).
//! - Loss is visible. A batch whose write fails (a full disk) keeps the sequence
//!   numbers it was given: its callers were answered with a fault, and the gap in the
//!   journal says that exchanges happened that it does not hold. [`read_journal`]
//!   reports every gap not explained by a damaged stretch, and a sealed segment
//!   (one with a successor) that was cut short, in the middle of a record or at a
//!   record boundary, by its missing footer or a footer that disagrees with it. Only
//!   the tail of the newest segment has no footer to check it: a cut there looks like
//!   a crash mid-write.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// First bytes of every segment file written now: sealed segments end in a footer.
pub const MAGIC: &[u8; 8] = b"EIOAJNL2";
/// First bytes of segments written before footers existed (no footer is expected).
pub const MAGIC_V1: &[u8; 8] = b"EIOAJNL1";
/// Frames larger than this are treated as damage, not as records.
pub const MAX_RECORD_BYTES: u32 = 256 * 1024 * 1024;
const FRAME_HEADER: usize = 8;
/// First bytes of a record payload with raw bodies: never the start of JSON.
pub const RAW_TAG: &[u8; 4] = b"\x00RB1";
const RAW_HEADER: usize = RAW_TAG.len() + 8;
const MAX_BATCH: usize = 4096;

/// Whether an appended record is forced to stable storage before the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// `fdatasync` once per batch: survives power loss.
    #[default]
    Fsync,
    /// Written to the kernel only: survives a killed process, not power loss.
    None,
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fsync" => Ok(Durability::Fsync),
            "none" => Ok(Durability::None),
            other => Err(format!(
                "unknown durability `{other}` (expected fsync or none)"
            )),
        }
    }
}

/// Journal settings.
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// Directory for segment files; created with mode 0700.
    pub dir: PathBuf,
    pub durability: Durability,
    /// Start a new segment once the current one is larger than this.
    pub rotate_bytes: u64,
    /// Delete closed segments older than this many days (`None`: keep forever).
    pub retention_days: Option<u32>,
    /// Writes still to fail (test hook, see [`JournalConfig::fail_next_writes`]).
    failures: Arc<std::sync::atomic::AtomicU32>,
}

impl JournalConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JournalConfig {
            dir: dir.into(),
            durability: Durability::Fsync,
            rotate_bytes: 64 * 1024 * 1024,
            retention_days: None,
            failures: Arc::default(),
        }
    }

    /// Makes the next `n` batch writes of a journal opened with this configuration
    /// (or a clone of it) fail as on a full disk (`ENOSPC`, after writing half the
    /// batch). For tests of what a failed write leaves behind.
    #[doc(hidden)]
    pub fn fail_next_writes(&self, n: u32) {
        self.failures.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    fn injected_failure(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// The footer of a sealed segment: what it holds, so that a segment cut short is
/// seen even when the cut falls between two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SegmentEnd {
    /// Records in the segment.
    pub records: u64,
    /// Sequence numbers of its first and last record (none when it has none).
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
}

impl SegmentEnd {
    fn of(records: &[Record]) -> Self {
        SegmentEnd {
            records: records.len() as u64,
            first_seq: records.first().map(|r| r.seq),
            last_seq: records.last().map(|r| r.seq),
        }
    }

    fn add(&mut self, seq: u64) {
        self.records += 1;
        self.first_seq.get_or_insert(seq);
        self.last_seq = Some(seq);
    }
}

/// A footer frame's payload.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Footer {
    segment_end: SegmentEnd,
}

/// One journal entry: an HTTP exchange, or a connection-level event (a TLS fault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the journal, assigned by the writer (0 before that).
    #[serde(default)]
    pub seq: u64,
    /// RFC 3339, UTC.
    pub time: String,
    /// The peer's socket address.
    pub remote: String,
    /// SHA-256 (lowercase hex) of the client certificate's DER, when one was presented.
    pub client_cert_sha256: Option<String>,
    pub method: String,
    /// Path and query as requested.
    pub target: String,
    /// Request headers as received (names lowercase).
    #[serde(default)]
    pub request_headers: Vec<(String, String)>,
    /// Request body bytes.
    #[serde(with = "b64")]
    pub request: Vec<u8>,
    /// HTTP status sent; `None` when no answer was sent (reset, no answer, TLS fault).
    pub status: Option<u16>,
    #[serde(with = "b64")]
    pub response: Vec<u8>,
    pub tx_id: Option<String>,
    /// FK's verdict, when FK was asked.
    pub verdict: Option<eioa_fk::Verdict>,
    /// The injected fault, when one was injected.
    pub fault: Option<String>,
    /// Observations about the client (pacing and the like).
    #[serde(default)]
    pub findings: Vec<String>,
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Journal failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    #[error("create data directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("open journal segment {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not a journal segment (bad magic)")]
    BadMagic { path: PathBuf },
    #[error("write journal record")]
    Write {
        #[source]
        source: Arc<io::Error>,
    },
    #[error("encode journal record")]
    Encode {
        #[source]
        source: serde_json::Error,
    },
    #[error("journal is closed")]
    Closed,
    #[error("read journal directory {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What opening the journal found in the newest segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recovery {
    /// Complete records found in the newest segment.
    pub records: u64,
    /// Bytes of a torn tail that were cut off (0 when the tail was clean).
    pub truncated_bytes: u64,
    /// Bytes of damaged records left in place (corruption, not a tear). When
    /// non-zero, that segment is closed and appends go to a fresh one.
    pub damaged_bytes: u64,
}

type Reply = tokio::sync::oneshot::Sender<Result<u64, JournalError>>;

/// The appending side of the journal.
#[derive(Debug)]
pub struct Journal {
    tx: Mutex<Option<mpsc::Sender<(Record, Reply)>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    recovery: Recovery,
    dir: PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal in `cfg.dir`, repairs a torn tail and starts
    /// the writer thread.
    pub fn open(cfg: JournalConfig) -> Result<Journal, JournalError> {
        create_private_dir(&cfg.dir)?;
        let segments = list_segments(&cfg.dir)?;
        let (path, index, recovery, contents) = match segments.last() {
            Some((index, path)) => {
                let (recovery, scan) = repair_tail(path)?;
                if recovery.damaged_bytes > 0 || scan.footer.is_some() {
                    // Leave a damaged segment byte for byte as found, and a sealed
                    // one sealed; new records go to the next one.
                    let next = index + 1;
                    let fresh = segment_path(&cfg.dir, next);
                    create_segment(&fresh)?;
                    sync_dir(&cfg.dir);
                    if recovery.damaged_bytes > 0 {
                        eprintln!(
                            "eioa-mock-server: journal {} is damaged and stays as it is; \
                             new records go to {}",
                            path.display(),
                            fresh.display()
                        );
                    }
                    (fresh, next, recovery, SegmentEnd::default())
                } else {
                    (
                        path.clone(),
                        *index,
                        recovery,
                        SegmentEnd::of(&scan.records),
                    )
                }
            }
            None => {
                let path = segment_path(&cfg.dir, 1);
                create_segment(&path)?;
                sync_dir(&cfg.dir);
                (path, 1, Recovery::default(), SegmentEnd::default())
            }
        };
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|source| JournalError::Open {
                path: path.clone(),
                source,
            })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let next_seq = last_seq(&cfg.dir)?.map_or(1, |s| s + 1);
        let mut writer = Writer {
            cfg: cfg.clone(),
            file,
            len,
            index,
            next_seq,
            contents,
        };
        writer.sweep_retention();
        let (tx, rx) = mpsc::channel::<(Record, Reply)>();
        let thread = std::thread::Builder::new()
            .name("eioa-journal".into())
            .spawn(move || writer.run(rx))
            .map_err(|source| JournalError::Open {
                path: path.clone(),
                source,
            })?;
        Ok(Journal {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            recovery,
            dir: cfg.dir,
        })
    }

    /// What opening found at the tail of the newest segment.
    pub fn recovery(&self) -> Recovery {
        self.recovery
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record; returns its sequence number once it is written (and
    /// synced, with [`Durability::Fsync`]).
    pub async fn append(&self, record: Record) -> Result<u64, JournalError> {
        let (reply, wait) = tokio::sync::oneshot::channel();
        {
            let guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
            let tx = guard.as_ref().ok_or(JournalError::Closed)?;
            tx.send((record, reply)).map_err(|_| JournalError::Closed)?;
        }
        wait.await.map_err(|_| JournalError::Closed)?
    }

    /// Stops accepting records, writes and syncs everything queued, and waits for
    /// the writer thread. Idempotent.
    pub fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

struct Writer {
    cfg: JournalConfig,
    file: File,
    len: u64,
    index: u32,
    next_seq: u64,
    /// What the current segment holds, for its footer.
    contents: SegmentEnd,
}

impl Writer {
    fn run(&mut self, rx: mpsc::Receiver<(Record, Reply)>) {
        let sweep_every = Duration::from_secs(3600);
        let mut batch: Vec<(Record, Reply)> = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        loop {
            match rx.recv_timeout(sweep_every) {
                Ok(first) => batch.push(first),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.sweep_retention();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            buf.clear();
            let mut seqs = Vec::with_capacity(batch.len());
            let mut encode_errors: Vec<Option<serde_json::Error>> = Vec::with_capacity(batch.len());
            for (record, _) in batch.iter_mut() {
                record.seq = self.next_seq;
                match encode_frame(record, &mut buf) {
                    Ok(()) => {
                        seqs.push(self.next_seq);
                        self.next_seq += 1;
                        encode_errors.push(None);
                    }
                    Err(e) => {
                        seqs.push(0);
                        encode_errors.push(Some(e));
                    }
                }
            }
            let result = self.write_batch(&buf);
            match &result {
                Ok(()) => {
                    for (seq, enc) in seqs.iter().zip(&encode_errors) {
                        if enc.is_none() {
                            self.contents.add(*seq);
                        }
                    }
                }
                Err(e) => {
                    // The sequence numbers stay used: the gap shows the loss.
                    let lost: Vec<u64> = seqs.iter().copied().filter(|&s| s > 0).collect();
                    eprintln!(
                        "eioa-mock-server: journal write failed; sequence numbers {}..={} \
                         are not journaled: {e}",
                        lost.first().copied().unwrap_or_default(),
                        lost.last().copied().unwrap_or_default(),
                    );
                }
            }
            for ((_, reply), (seq, enc)) in batch.drain(..).zip(seqs.into_iter().zip(encode_errors))
            {
                let r = match (&result, enc) {
                    (_, Some(source)) => Err(JournalError::Encode { source }),
                    (Ok(()), None) => Ok(seq),
                    (Err(e), None) => Err(JournalError::Write { source: e.clone() }),
                };
                let _ = reply.send(r);
            }
            if result.is_ok() && self.len >= self.cfg.rotate_bytes {
                if let Err(e) = self.rotate() {
                    eprintln!("eioa-mock-server: journal rotation failed: {e}");
                }
            }
        }
        let _ = self.file.sync_data();
    }

    fn write_batch(&mut self, buf: &[u8]) -> Result<(), Arc<io::Error>> {
        if buf.is_empty() {
            return Ok(());
        }
        let r = if self.cfg.injected_failure() {
            // As a full disk: part of the batch written, then ENOSPC.
            self.file
                .write_all(&buf[..buf.len() / 2])
                .and_then(|()| Err(io::Error::from_raw_os_error(28)))
        } else {
            self.file.write_all(buf)
        };
        let r = r.and_then(|()| match self.cfg.durability {
            Durability::Fsync => self.file.sync_data(),
            Durability::None => Ok(()),
        });
        match r {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut a partial write back to the last complete record so later
                // batches stay readable.
                let _ = self.file.set_len(self.len);
                Err(Arc::new(e))
            }
        }
    }

    /// Seals the current segment with its footer and continues in a new one. The
    /// footer is on disk before the next segment exists: a crash in between leaves
    /// the newest segment sealed, and opening then starts the next one. If the next
    /// segment cannot be made, the footer is cut off again and appends go on here.
    fn rotate(&mut self) -> Result<(), JournalError> {
        let mut footer = Vec::new();
        encode_footer(&self.contents, &mut footer);
        let unseal = |file: &mut File, len: u64| {
            let _ = file.set_len(len);
            let _ = file.sync_data();
        };
        if let Err(e) = self
            .file
            .write_all(&footer)
            .and_then(|()| self.file.sync_data())
        {
            unseal(&mut self.file, self.len);
            return Err(JournalError::Write {
                source: Arc::new(e),
            });
        }
        let next = self.index + 1;
        let path = segment_path(&self.cfg.dir, next);
        if let Err(e) = create_segment(&path) {
            unseal(&mut self.file, self.len);
            return Err(e);
        }
        sync_dir(&self.cfg.dir);
        match OpenOptions::new().append(true).open(&path) {
            Ok(file) => {
                self.file = file;
                self.len = MAGIC.len() as u64;
                self.index = next;
                self.contents = SegmentEnd::default();
                self.sweep_retention();
                Ok(())
            }
            Err(source) => {
                let _ = fs::remove_file(&path);
                unseal(&mut self.file, self.len);
                Err(JournalError::Open { path, source })
            }
        }
    }

    fn sweep_retention(&mut self) {
        let Some(days) = self.cfg.retention_days else {
            return;
        };
        let max_age = Duration::from_secs(u64::from(days) * 86_400);
        let Ok(segments) = list_segments(&self.cfg.dir) else {
            return;
        };
        let now = SystemTime::now();
        for (index, path) in segments {
            // The current segment, and the one before it: after a rotation the current
            // segment may still be empty, and the previous one then holds the last
            // sequence number, which a restart continues from.
            if index == self.index || index + 1 == self.index {
                continue;
            }
            let old = fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > max_age);
            if old {
                if let Err(e) = fs::remove_file(&path) {
                    eprintln!(
                        "eioa-mock-server: could not delete expired segment {}: {e}",
                        path.display()
                    );
                }
            }
        }
    }
}

/// Appends `record` as one frame with its bodies raw (see the module's format). The
/// bodies are moved out of `record`, which is spent once written.
fn encode_frame(record: &mut Record, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let request = std::mem::take(&mut record.request);
    let response = std::mem::take(&mut record.response);
    let start = buf.len();
    buf.extend_from_slice(&[0; FRAME_HEADER]);
    buf.extend_from_slice(RAW_TAG);
    buf.extend_from_slice(&body_len(&request).to_le_bytes());
    buf.extend_from_slice(&body_len(&response).to_le_bytes());
    buf.extend_from_slice(&request);
    buf.extend_from_slice(&response);
    if let Err(e) = serde_json::to_writer(&mut *buf, &*record) {
        buf.truncate(start);
        return Err(e);
    }
    let payload = &buf[start + FRAME_HEADER..];
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = crc32fast::hash(payload);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

fn body_len(b: &[u8]) -> u32 {
    // Bodies are bounded far below 4 GiB by the server's limit; a frame that large
    // is refused as damage when read, never misread.
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}

/// A record payload in the raw-body format: the bodies, then the JSON.
fn decode_raw(payload: &[u8]) -> Result<Record, String> {
    let h = payload
        .get(RAW_TAG.len()..RAW_HEADER)
        .ok_or("record header cut short")?;
    let req = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let resp = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
    let bodies = &payload[RAW_HEADER..];
    if req.saturating_add(resp) > bodies.len() {
        return Err(format!(
            "body lengths {req} and {resp} run past the record ({} bytes)",
            bodies.len()
        ));
    }
    let mut record: Record =
        serde_json::from_slice(&bodies[req + resp..]).map_err(|e| e.to_string())?;
    record.request = bodies[..req].to_vec();
    record.response = bodies[req..req + resp].to_vec();
    Ok(record)
}

fn encode_footer(contents: &SegmentEnd, buf: &mut Vec<u8>) {
    let footer = Footer {
        segment_end: *contents,
    };
    // Plain numbers and options: serialising cannot fail.
    frame(&serde_json::to_vec(&footer).unwrap_or_default(), buf);
}

fn frame(payload: &[u8], buf: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

fn create_private_dir(dir: &Path) -> Result<(), JournalError> {
    let err = |source| JournalError::CreateDir {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(err)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    Ok(())
}

fn create_segment(path: &Path) -> Result<(), JournalError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    f.write_all(MAGIC)
        .and_then(|()| f.sync_all())
        .map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        })
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn segment_path(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("journal-{index:06}.log"))
}

/// Segment files in `dir`, oldest first.
pub fn list_segments(dir: &Path) -> Result<Vec<(u32, PathBuf)>, JournalError> {
    let rd = fs::read_dir(dir).map_err(|source| JournalError::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(num) = name
            .strip_prefix("journal-")
            .and_then(|n| n.strip_suffix(".log"))
        else {
            continue;
        };
        if let Ok(index) = num.parse::<u32>() {
            out.push((index, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The result of scanning one segment.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every intact record, in file order (including those after damage).
    pub records: Vec<Record>,
    /// Where each of `records` starts.
    pub record_offsets: Vec<u64>,
    /// The footer and its offset, when the segment is sealed.
    pub footer: Option<(u64, SegmentEnd)>,
    /// Whether the segment is of the format that seals segments with a footer
    /// ([`MAGIC`]; [`MAGIC_V1`] segments have none).
    pub sealable: bool,
    /// Offset just past the last intact record (the end of the magic when there is
    /// none; 0 when the segment header itself is torn).
    pub valid_end: u64,
    /// File length.
    pub len: u64,
    /// Damaged stretches, in file order. Only the last can be a torn tail.
    pub damage: Vec<Damage>,
}

impl Scan {
    /// The highest sequence number in the segment: of intact records, and of those
    /// whose `seq` is still legible in damaged (not torn) stretches.
    pub fn highest_seq(&self) -> Option<u64> {
        let intact = self.records.iter().map(|r| r.seq);
        let damaged = self
            .damage
            .iter()
            .filter(|d| !d.torn_tail)
            .filter_map(|d| d.seq_hint);
        intact.chain(damaged).max()
    }

    /// The torn tail, when the segment ends in one.
    pub fn torn_tail(&self) -> Option<&Damage> {
        self.damage.last().filter(|d| d.torn_tail)
    }
}

/// A damaged stretch of a segment: from a frame that fails its length, CRC or JSON
/// check to the next intact frame, or to the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub offset: u64,
    pub bytes: u64,
    /// What was wrong with the first frame of the stretch.
    pub reason: String,
    /// A record torn by a crash mid-write, never acknowledged: cut when the journal
    /// is opened. Otherwise the stretch is corruption and is kept.
    pub torn_tail: bool,
    /// The highest `seq` still legible in the damaged bytes.
    pub seq_hint: Option<u64>,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.torn_tail {
            write!(
                f,
                "torn tail at offset {} ({} bytes): {}",
                self.offset, self.bytes, self.reason
            )
        } else {
            write!(
                f,
                "damaged record at offset {} ({} bytes skipped to the next intact record): {}",
                self.offset, self.bytes, self.reason
            )
        }
    }
}

enum Frame {
    Intact {
        record: Box<Record>,
        end: usize,
    },
    Footer {
        footer: SegmentEnd,
        end: usize,
    },
    Damaged {
        /// Where the frame ends by its declared length, when that length is plausible.
        end: Option<usize>,
        reason: String,
    },
}

fn frame_header(rest: &[u8]) -> Option<(u32, u32)> {
    let h = rest.get(..FRAME_HEADER)?;
    Some((
        u32::from_le_bytes([h[0], h[1], h[2], h[3]]),
        u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
    ))
}

fn check_frame(data: &[u8], pos: usize) -> Frame {
    let rest = &data[pos..];
    let Some((len, crc)) = frame_header(rest) else {
        return Frame::Damaged {
            end: None,
            reason: "torn frame header".into(),
        };
    };
    if len > MAX_RECORD_BYTES || len as usize > rest.len() - FRAME_HEADER {
        return Frame::Damaged {
            end: None,
            reason: format!("frame length {len} runs past the end of the file"),
        };
    }
    let end = pos + FRAME_HEADER + len as usize;
    let payload = &rest[FRAME_HEADER..FRAME_HEADER + len as usize];
    if crc32fast::hash(payload) != crc {
        return Frame::Damaged {
            end: Some(end),
            reason: "checksum mismatch".into(),
        };
    }
    if payload.starts_with(b"{\"segment_end\"") {
        if let Ok(f) = serde_json::from_slice::<Footer>(payload) {
            return Frame::Footer {
                footer: f.segment_end,
                end,
            };
        }
    }
    let decoded = if payload.starts_with(RAW_TAG) {
        decode_raw(payload)
    } else {
        // A record written before bodies were stored raw: JSON with base64 bodies.
        serde_json::from_slice::<Record>(payload).map_err(|e| e.to_string())
    };
    match decoded {
        Ok(record) => Frame::Intact {
            record: Box::new(record),
            end,
        },
        Err(e) => Frame::Damaged {
            end: Some(end),
            reason: format!("undecodable record: {e}"),
        },
    }
}

/// The offset of the next intact frame after a damaged one at `pos`: where its
/// declared length points, else the first offset that holds one. A match needs a
/// plausible length, the CRC and a decodable record. In a JSON payload no frame
/// header can occur (JSON bytes are >= 0x20, so any length they spell exceeds the
/// maximum); raw bodies can hold anything, so a body that spells a whole frame with
/// its CRC could be taken for one, but only while skipping damage.
fn next_intact(data: &[u8], pos: usize, declared_end: Option<usize>) -> Option<usize> {
    let intact = |p: usize| {
        matches!(
            check_frame(data, p),
            Frame::Intact { .. } | Frame::Footer { .. }
        )
    };
    if let Some(e) = declared_end.filter(|&e| e < data.len()) {
        if intact(e) {
            return Some(e);
        }
    }
    (pos + 1..data.len().saturating_sub(FRAME_HEADER - 1)).find(|&p| {
        // Cheap rejections first; `check_frame` does the CRC and JSON.
        frame_header(&data[p..]).is_some_and(|(len, _)| {
            len <= MAX_RECORD_BYTES && len as usize <= data.len() - p - FRAME_HEADER
        }) && intact(p)
    })
}

/// Whether damage running from its start to the end of the file (`rest`) is a
/// record torn by a crash mid-write rather than a damaged acknowledged record.
fn is_torn_tail(rest: &[u8]) -> bool {
    let Some((len, crc)) = frame_header(rest) else {
        return true;
    };
    if rest.iter().all(|&b| b == 0) {
        // Space allocated, never written.
        return true;
    }
    let payload = &rest[FRAME_HEADER..];
    if len > MAX_RECORD_BYTES || len as usize > payload.len() {
        // Cut short. Unless the rest is a whole record under a damaged length.
        return crc32fast::hash(payload) != crc;
    }
    // A last frame ending exactly at the end of the file is torn when part of it
    // was never written (reads back as NUL, which JSON never holds); without NUL
    // bytes it is a damaged acknowledged record. A raw-body record may hold NUL in
    // its header and bodies, but ends in its JSON: torn when its end reads NUL.
    let unwritten = if payload.starts_with(RAW_TAG) {
        payload.last() == Some(&0)
    } else {
        payload.contains(&0)
    };
    len as usize == payload.len() && unwritten
}

/// The highest `"seq":N` that opens a record in damaged bytes.
fn legible_seq(bytes: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"{\"seq\":";
    bytes
        .windows(KEY.len())
        .enumerate()
        .filter(|(_, w)| *w == KEY)
        .filter_map(|(i, _)| {
            let digits: Vec<u8> = bytes[i + KEY.len()..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .copied()
                .collect();
            std::str::from_utf8(&digits).ok()?.parse::<u64>().ok()
        })
        .max()
}

/// Reads every intact record of a segment. A damaged frame does not end the scan:
/// reading resumes at the next intact frame and the stretch between is reported.
pub fn scan_segment(path: &Path) -> Result<Scan, JournalError> {
    let mut f = File::open(path).map_err(|source| JournalError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut data = Vec::new();
    f.read_to_end(&mut data)
        .map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    if data.len() < MAGIC.len() {
        // A segment whose header itself is torn: nothing in it was ever acknowledged.
        return Ok(Scan {
            records: Vec::new(),
            record_offsets: Vec::new(),
            footer: None,
            sealable: true,
            valid_end: 0,
            len: data.len() as u64,
            damage: if data.is_empty() {
                Vec::new()
            } else {
                vec![Damage {
                    offset: 0,
                    bytes: data.len() as u64,
                    reason: "torn segment header".into(),
                    torn_tail: true,
                    seq_hint: None,
                }]
            },
        });
    }
    let magic = &data[..MAGIC.len()];
    if magic != MAGIC && magic != MAGIC_V1 {
        return Err(JournalError::BadMagic {
            path: path.to_path_buf(),
        });
    }
    let mut pos = MAGIC.len();
    let mut scan = Scan {
        len: data.len() as u64,
        valid_end: pos as u64,
        sealable: magic == MAGIC,
        ..Scan::default()
    };
    while pos < data.len() {
        match check_frame(&data, pos) {
            Frame::Intact { record, end } => {
                scan.records.push(*record);
                scan.record_offsets.push(pos as u64);
                pos = end;
                scan.valid_end = end as u64;
            }
            Frame::Footer { footer, end } => {
                scan.footer = Some((pos as u64, footer));
                scan.valid_end = end as u64;
                if end < data.len() {
                    // Nothing is appended after a footer.
                    scan.damage.push(Damage {
                        offset: end as u64,
                        bytes: (data.len() - end) as u64,
                        reason: "bytes after the segment's footer".into(),
                        torn_tail: false,
                        seq_hint: legible_seq(&data[end..]),
                    });
                }
                break;
            }
            Frame::Damaged { end, reason } => {
                let next = next_intact(&data, pos, end);
                let stop = next.unwrap_or(data.len());
                let torn_tail = next.is_none() && is_torn_tail(&data[pos..]);
                scan.damage.push(Damage {
                    offset: pos as u64,
                    bytes: (stop - pos) as u64,
                    reason,
                    torn_tail,
                    seq_hint: if torn_tail {
                        None
                    } else {
                        legible_seq(&data[pos..stop])
                    },
                });
                pos = stop;
            }
        }
    }
    Ok(scan)
}

/// Cuts a torn tail off the newest segment (rewrites a torn header) and reports
/// damage that is left in place. Returns the scan as well (its records are those
/// the repaired segment holds).
fn repair_tail(path: &Path) -> Result<(Recovery, Scan), JournalError> {
    let scan = scan_segment(path)?;
    let open_err = |source| JournalError::Open {
        path: path.to_path_buf(),
        source,
    };
    if scan.valid_end == 0 {
        // Header torn: rewrite it.
        let mut f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(open_err)?;
        f.set_len(0).map_err(open_err)?;
        f.seek(SeekFrom::Start(0)).map_err(open_err)?;
        f.write_all(MAGIC)
            .and_then(|()| f.sync_all())
            .map_err(open_err)?;
        let recovery = Recovery {
            records: 0,
            truncated_bytes: scan.len,
            damaged_bytes: 0,
        };
        return Ok((recovery, scan));
    }
    let mut truncated = 0;
    if let Some(tail) = scan.torn_tail() {
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(open_err)?;
        f.set_len(tail.offset)
            .and_then(|()| f.sync_all())
            .map_err(open_err)?;
        truncated = tail.bytes;
        eprintln!(
            "eioa-mock-server: journal {}: cut {} bytes of a torn tail at offset {} ({})",
            path.display(),
            tail.bytes,
            tail.offset,
            tail.reason
        );
    }
    let mut damaged = 0;
    for d in scan.damage.iter().filter(|d| !d.torn_tail) {
        damaged += d.bytes;
        eprintln!(
            "eioa-mock-server: warning: journal {}: {d}; left in place",
            path.display()
        );
    }
    if damaged > 0 {
        eprintln!(
            "eioa-mock-server: warning: journal {}: {} intact records remain readable; \
             no acknowledged record was removed",
            path.display(),
            scan.records.len()
        );
    }
    let recovery = Recovery {
        records: scan.records.len() as u64,
        truncated_bytes: truncated,
        damaged_bytes: damaged,
    };
    Ok((recovery, scan))
}

/// The highest sequence number in the journal: from the newest segment that has
/// one, scanning back past empty segments.
fn last_seq(dir: &Path) -> Result<Option<u64>, JournalError> {
    for (_, path) in list_segments(dir)?.iter().rev() {
        if let Some(seq) = scan_segment(path)?.highest_seq() {
            return Ok(Some(seq));
        }
    }
    Ok(None)
}

/// Every readable record in the journal directory, oldest first, plus a note per
/// damaged stretch (records after a damaged one are still read) and per loss the
/// journal shows otherwise: a gap in the sequence numbers, a sealed segment cut short.
#[derive(Debug, Default)]
pub struct JournalContents {
    pub records: Vec<Record>,
    pub damage: Vec<String>,
}

/// What comes next in a segment, in file order.
enum Item<'a> {
    Record(Box<Record>),
    Damage(&'a Damage),
}

/// Reads the whole journal (read-only; a running server may be appending).
///
/// Sequence numbers run 1, 2, 3, … from the first segment (`journal-000001.log`;
/// when retention deleted it, from the first record kept). A gap between two records
/// with no damaged stretch between them is loss: exchanges that were answered (with
/// a fault, when the write failed) and are not in the journal, or records cut
/// away. A segment with a successor is sealed: one cut short has lost its footer,
/// or its footer disagrees with the records left.
pub fn read_journal(dir: &Path) -> Result<JournalContents, JournalError> {
    let segments = list_segments(dir)?;
    let mut out = JournalContents::default();
    // The last sequence number seen, and whether corruption kept in place (which may
    // hold the missing records) came after it.
    let mut prev: Option<u64> = match segments.first() {
        Some((1, _)) => Some(0),
        _ => None,
    };
    let mut explained = false;
    for (k, (_, path)) in segments.iter().enumerate() {
        let scan = scan_segment(path)?;
        let name = path.display();
        let sealed = k + 1 < segments.len();
        let mut items: Vec<(u64, Item<'_>)> = scan
            .record_offsets
            .iter()
            .copied()
            .zip(scan.records.into_iter().map(|r| Item::Record(Box::new(r))))
            .chain(scan.damage.iter().map(|d| (d.offset, Item::Damage(d))))
            .collect();
        items.sort_by_key(|(offset, _)| *offset);
        let mut intact = Vec::new();
        for (offset, item) in items {
            match item {
                Item::Damage(d) if sealed && d.torn_tail => out.damage.push(format!(
                    "{name}: cut short at offset {}, in a segment that was sealed \
                     (not a crash mid-write): {} bytes of a record remain ({})",
                    d.offset, d.bytes, d.reason
                )),
                Item::Damage(d) => {
                    out.damage.push(format!("{name}: {d}"));
                    explained |= !d.torn_tail;
                }
                Item::Record(r) => {
                    if let Some(p) = prev.filter(|_| !explained) {
                        if r.seq > p + 1 {
                            out.damage.push(format!(
                                "{name}: sequence numbers {} to {} are missing before the \
                                 record at offset {offset} ({} exchanges answered but not \
                                 journaled, as after a failed write, or records cut away)",
                                p + 1,
                                r.seq - 1,
                                r.seq - 1 - p
                            ));
                        } else if r.seq <= p {
                            out.damage.push(format!(
                                "{name}: sequence number {} at offset {offset} follows {p}",
                                r.seq
                            ));
                        }
                    }
                    prev = Some(prev.map_or(r.seq, |p| p.max(r.seq)));
                    explained = false;
                    intact.push(*r);
                }
            }
        }
        if sealed && scan.sealable && scan.damage.is_empty() {
            let found = SegmentEnd::of(&intact);
            match scan.footer {
                None => out.damage.push(format!(
                    "{name}: a sealed segment without its footer: cut short after {} \
                     records (last seq {}), or the footer could not be written",
                    found.records,
                    found.last_seq.map_or("none".into(), |s| s.to_string())
                )),
                Some((_, footer)) if footer != found => out.damage.push(format!(
                    "{name}: the footer says {} records, seq {:?} to {:?}; the segment \
                     holds {}, seq {:?} to {:?}",
                    footer.records,
                    footer.first_seq,
                    footer.last_seq,
                    found.records,
                    found.first_seq,
                    found.last_seq
                )),
                Some(_) => {}
            }
        }
        out.records.extend(intact);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(tx: &str) -> Record {
        Record {
            seq: 0,
            time: "2025-01-01T00:00:00Z".into(),
            remote: "127.0.0.1:1".into(),
            client_cert_sha256: None,
            method: "POST".into(),
            target: "/x".into(),
            request_headers: vec![],
            request: b"req".to_vec(),
            status: Some(200),
            response: b"resp".to_vec(),
            tx_id: Some(tx.into()),
            verdict: None,
            fault: None,
            findings: vec![],
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn appends_are_read_back_in_order_with_sequence_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(JournalConfig::new(dir.path().join("d"))).unwrap();
        let seqs: Vec<u64> = rt().block_on(async {
            let mut v = Vec::new();
            for i in 0..5 {
                v.push(j.append(record(&format!("tx-{i}"))).await.unwrap());
            }
            v
        });
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        j.close();
        let c = read_journal(&dir.path().join("d")).unwrap();
        let txs: Vec<_> = c.records.iter().map(|r| r.tx_id.clone().unwrap()).collect();
        assert_eq!(txs, ["tx-0", "tx-1", "tx-2", "tx-3", "tx-4"]);
        assert!(c.damage.is_empty());
        let mode = fs::metadata(dir.path().join("d"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn torn_tail_is_cut_and_sequence_continues() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fsynced_records(&d, 2);
        let seg = segment_path(&d, 1);
        let good_len = fs::metadata(&seg).unwrap().len();
        // Half a frame: a length that promises more than is there.
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&500u32.to_le_bytes()).unwrap();
        f.write_all(&[1, 2, 3, 4, b'{', b'"']).unwrap();
        drop(f);
        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        assert_eq!(
            j.recovery(),
            Recovery {
                records: 2,
                truncated_bytes: 10,
                damaged_bytes: 0,
            }
        );
        assert_eq!(fs::metadata(&seg).unwrap().len(), good_len);
        let seq = rt().block_on(j.append(record("c"))).unwrap();
        assert_eq!(seq, 3);
        j.close();
        let c = read_journal(&d).unwrap();
        assert_eq!(c.records.len(), 3);
        assert!(c.damage.is_empty());
    }

    #[test]
    fn corrupted_checksum_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fsynced_records(&d, 2);
        let seg = segment_path(&d, 1);
        let mut data = fs::read(&seg).unwrap();
        let last = data.len() - 3;
        data[last] ^= 0xff;
        fs::write(&seg, &data).unwrap();
        let scan = scan_segment(&seg).unwrap();
        assert_eq!(scan.records.len(), 1);
        assert_eq!(scan.damage.len(), 1);
        assert!(scan.damage[0].reason.contains("checksum"));
        // A whole last frame without NUL bytes is a damaged record, not a tear.
        assert!(!scan.damage[0].torn_tail);
    }

    #[test]
    fn rotates_by_size_and_reads_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let mut cfg = JournalConfig::new(&d);
        cfg.rotate_bytes = 200;
        cfg.durability = Durability::None;
        let j = Journal::open(cfg).unwrap();
        rt().block_on(async {
            for i in 0..6 {
                j.append(record(&format!("t{i}"))).await.unwrap();
            }
        });
        j.close();
        assert!(list_segments(&d).unwrap().len() >= 3);
        let c = read_journal(&d).unwrap();
        let seqs: Vec<u64> = c.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn concurrent_appends_are_all_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let j = Arc::new(Journal::open(JournalConfig::new(&d)).unwrap());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut hs = Vec::new();
            for i in 0..200 {
                let j = j.clone();
                hs.push(tokio::spawn(async move {
                    j.append(record(&format!("c{i}"))).await.unwrap()
                }));
            }
            let mut seqs = Vec::new();
            for h in hs {
                seqs.push(h.await.unwrap());
            }
            seqs.sort();
            assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
        });
        j.close();
        assert_eq!(read_journal(&d).unwrap().records.len(), 200);
    }

    /// Writes `n` fsynced records (tx-ids `r1`..) to a fresh journal in `d`.
    fn fsynced_records(d: &Path, n: usize) {
        let j = Journal::open(JournalConfig::new(d)).unwrap();
        rt().block_on(async {
            for i in 1..=n {
                j.append(record(&format!("r{i}"))).await.unwrap();
            }
        });
        j.close();
    }

    /// `(start, end)` of every frame of a clean segment.
    fn frames(data: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = MAGIC.len();
        while pos < data.len() {
            let (len, _) = frame_header(&data[pos..]).unwrap();
            let end = pos + FRAME_HEADER + len as usize;
            out.push((pos, end));
            pos = end;
        }
        out
    }

    fn txs(c: &JournalContents) -> Vec<String> {
        c.records.iter().map(|r| r.tx_id.clone().unwrap()).collect()
    }

    fn seqs(c: &JournalContents) -> Vec<u64> {
        c.records.iter().map(|r| r.seq).collect()
    }

    /// Damages record 1 of 5 with `damage`, reopens, and checks nothing
    /// acknowledged is lost and appends go on.
    fn first_record_damage_keeps_the_rest(damage: impl Fn(&mut [u8], (usize, usize))) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fsynced_records(&d, 5);
        let seg = segment_path(&d, 1);
        let mut data = fs::read(&seg).unwrap();
        let fr = frames(&data);
        assert_eq!(fr.len(), 5);
        damage(&mut data, fr[0]);
        fs::write(&seg, &data).unwrap();

        let c = read_journal(&d).unwrap();
        assert_eq!(
            txs(&c),
            ["r2", "r3", "r4", "r5"],
            "records after the damage read"
        );
        assert_eq!(c.damage.len(), 1, "{:?}", c.damage);
        assert!(c.damage[0].contains("offset 8"), "{:?}", c.damage);

        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        let frame1 = (fr[0].1 - fr[0].0) as u64;
        assert_eq!(
            j.recovery(),
            Recovery {
                records: 4,
                truncated_bytes: 0,
                damaged_bytes: frame1,
            }
        );
        assert_eq!(
            fs::read(&seg).unwrap(),
            data,
            "damaged segment left as found"
        );
        assert_eq!(
            list_segments(&d).unwrap().len(),
            2,
            "appends go to a fresh segment"
        );
        assert_eq!(rt().block_on(j.append(record("r6"))).unwrap(), 6);
        j.close();
        // Reopening with the fresh segment newest: nothing more to repair.
        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        assert_eq!(
            j.recovery(),
            Recovery {
                records: 1,
                ..Recovery::default()
            }
        );
        assert_eq!(rt().block_on(j.append(record("r7"))).unwrap(), 7);
        j.close();

        let c = read_journal(&d).unwrap();
        assert_eq!(txs(&c), ["r2", "r3", "r4", "r5", "r6", "r7"]);
        assert_eq!(seqs(&c), [2, 3, 4, 5, 6, 7]);
        assert_eq!(
            c.damage.len(),
            1,
            "the damage stays reported: {:?}",
            c.damage
        );
    }

    #[test]
    fn flipped_byte_in_an_early_record_loses_no_acknowledged_record() {
        first_record_damage_keeps_the_rest(|data, (start, end)| {
            data[(start + end) / 2] ^= 0x01;
        });
    }

    #[test]
    fn damaged_length_of_an_early_record_loses_no_acknowledged_record() {
        // A length running past the end of the file, yet intact records follow.
        first_record_damage_keeps_the_rest(|data, (start, _)| {
            data[start + 3] ^= 0x08;
        });
        // A length shrunk into the record's own payload.
        first_record_damage_keeps_the_rest(|data, (start, _)| {
            data[start] ^= 0x04;
        });
    }

    #[test]
    fn flipped_byte_in_the_last_record_is_kept_and_its_seq_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fsynced_records(&d, 5);
        let seg = segment_path(&d, 1);
        let mut data = fs::read(&seg).unwrap();
        let (start, end) = frames(&data)[4];
        data[end - 20] ^= 0x01;
        fs::write(&seg, &data).unwrap();
        let len = data.len() as u64;

        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        assert_eq!(j.recovery().truncated_bytes, 0);
        assert_eq!(j.recovery().damaged_bytes, (end - start) as u64);
        assert_eq!(fs::metadata(&seg).unwrap().len(), len);
        // Record 5's seq is still legible in its damaged bytes.
        assert_eq!(rt().block_on(j.append(record("r6"))).unwrap(), 6);
        j.close();
        let c = read_journal(&d).unwrap();
        assert_eq!(txs(&c), ["r1", "r2", "r3", "r4", "r6"]);
        assert_eq!(c.damage.len(), 1);
    }

    #[test]
    fn torn_last_record_is_cut_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fsynced_records(&d, 5);
        let seg = segment_path(&d, 1);
        let data = fs::read(&seg).unwrap();
        let (start, end) = frames(&data)[4];
        // A crash mid-write: the last frame stops partway through its payload.
        let cut_at = start + (end - start) / 2;
        fs::write(&seg, &data[..cut_at]).unwrap();

        let c = read_journal(&d).unwrap();
        assert_eq!(c.records.len(), 4);
        assert_eq!(c.damage.len(), 1);
        assert!(c.damage[0].contains("torn tail"), "{:?}", c.damage);

        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        assert_eq!(
            j.recovery(),
            Recovery {
                records: 4,
                truncated_bytes: (cut_at - start) as u64,
                damaged_bytes: 0,
            }
        );
        assert_eq!(fs::metadata(&seg).unwrap().len(), start as u64);
        assert_eq!(
            list_segments(&d).unwrap().len(),
            1,
            "no fresh segment for a tear"
        );
        // The torn record was never acknowledged: its seq is free again.
        assert_eq!(rt().block_on(j.append(record("r5b"))).unwrap(), 5);
        j.close();
        let c = read_journal(&d).unwrap();
        assert_eq!(txs(&c), ["r1", "r2", "r3", "r4", "r5b"]);
        assert!(c.damage.is_empty(), "{:?}", c.damage);
    }

    #[test]
    fn unwritten_tail_blocks_are_cut() {
        // Blocks allocated by a crash mid-write but never written read back as NUL:
        // either past the last record, or inside a last frame of the right length.
        for partial in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path().join("d");
            fsynced_records(&d, 5);
            let seg = segment_path(&d, 1);
            let mut data = fs::read(&seg).unwrap();
            let (start, end) = frames(&data)[4];
            if partial {
                data[start + 40..end].fill(0);
            } else {
                data.extend_from_slice(&[0; 4096]);
            }
            fs::write(&seg, &data).unwrap();
            let keep = if partial { start } else { end };

            let j = Journal::open(JournalConfig::new(&d)).unwrap();
            assert_eq!(j.recovery().damaged_bytes, 0);
            assert_eq!(j.recovery().truncated_bytes, (data.len() - keep) as u64);
            assert_eq!(fs::metadata(&seg).unwrap().len(), keep as u64);
            j.close();
            assert!(read_journal(&d).unwrap().damage.is_empty());
        }
    }

    #[test]
    fn sequence_continues_after_a_rotation_left_the_newest_segment_empty() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let mut cfg = JournalConfig::new(&d);
        // Every record fills a segment, so each append is followed by a rotation.
        cfg.rotate_bytes = 1;
        let j = Journal::open(cfg.clone()).unwrap();
        rt().block_on(async {
            for i in 1..=3 {
                j.append(record(&format!("r{i}"))).await.unwrap();
            }
        });
        j.close();
        let segments = list_segments(&d).unwrap();
        assert_eq!(segments.len(), 4);
        let newest = &segments[3].1;
        assert_eq!(fs::metadata(newest).unwrap().len(), MAGIC.len() as u64);

        // Stopped again before any append: two restarts on an empty newest segment.
        drop(Journal::open(cfg.clone()).unwrap());
        let j = Journal::open(cfg).unwrap();
        assert_eq!(rt().block_on(j.append(record("r4"))).unwrap(), 4);
        j.close();
        let c = read_journal(&d).unwrap();
        assert_eq!(seqs(&c), [1, 2, 3, 4]);
    }

    /// A journal of `n` records (`r1`..) in segments of a few records each.
    fn sealed_segments(d: &Path, n: usize) -> JournalConfig {
        let mut cfg = JournalConfig::new(d);
        cfg.rotate_bytes = 1200;
        cfg.durability = Durability::None;
        let j = Journal::open(cfg.clone()).unwrap();
        rt().block_on(async {
            for i in 1..=n {
                j.append(record(&format!("r{i}"))).await.unwrap();
            }
        });
        j.close();
        cfg
    }

    #[test]
    fn sealed_segments_end_in_a_footer_that_matches_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        sealed_segments(&d, 12);
        let segments = list_segments(&d).unwrap();
        assert!(segments.len() >= 3, "{segments:?}");
        let mut seen = 0;
        for (k, (_, path)) in segments.iter().enumerate() {
            let scan = scan_segment(path).unwrap();
            assert!(scan.damage.is_empty(), "{:?}", scan.damage);
            if k + 1 < segments.len() {
                let (offset, footer) = scan.footer.expect("a sealed segment has a footer");
                assert_eq!(footer, SegmentEnd::of(&scan.records));
                assert_eq!(footer.first_seq, Some(seen + 1));
                assert_eq!(scan.valid_end, scan.len, "the footer is the last frame");
                assert!(offset > *scan.record_offsets.last().unwrap());
            } else {
                assert!(scan.footer.is_none(), "the newest segment is open");
            }
            seen += scan.records.len() as u64;
        }
        let c = read_journal(&d).unwrap();
        assert_eq!(seqs(&c), (1..=12).collect::<Vec<u64>>());
        assert!(c.damage.is_empty(), "{:?}", c.damage);
    }

    #[test]
    fn a_failed_write_leaves_a_gap_that_is_reported() {
        // Issue #11 item 7: a full disk skipped sequence numbers silently.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let cfg = JournalConfig::new(&d);
        let j = Journal::open(cfg.clone()).unwrap();
        let results: Vec<Result<u64, JournalError>> = rt().block_on(async {
            let mut v = Vec::new();
            for i in 1..=6 {
                if i == 3 {
                    cfg.fail_next_writes(2);
                }
                v.push(j.append(record(&format!("r{i}"))).await);
            }
            v
        });
        j.close();
        let ok: Vec<u64> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert_eq!(ok, [1, 2, 5, 6]);
        assert!(matches!(results[2], Err(JournalError::Write { .. })));
        assert!(matches!(results[3], Err(JournalError::Write { .. })));
        // The half-written batches were cut away: every frame is intact.
        let scan = scan_segment(&segment_path(&d, 1)).unwrap();
        assert!(scan.damage.is_empty(), "{:?}", scan.damage);

        let c = read_journal(&d).unwrap();
        assert_eq!(txs(&c), ["r1", "r2", "r5", "r6"]);
        assert_eq!(c.damage.len(), 1, "{:?}", c.damage);
        assert!(
            c.damage[0].contains("sequence numbers 3 to 4 are missing"),
            "{:?}",
            c.damage
        );
        // And after a restart too: the gap stays, the numbering goes on.
        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        assert_eq!(rt().block_on(j.append(record("r7"))).unwrap(), 7);
        j.close();
        assert_eq!(read_journal(&d).unwrap().damage.len(), 1);
    }

    #[test]
    fn a_sealed_segment_cut_in_the_middle_of_a_record_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let cfg = sealed_segments(&d, 12);
        let first = segment_path(&d, 1);
        let data = fs::read(&first).unwrap();
        let fr = frames(&data);
        assert!(fr.len() >= 3, "two records and a footer");
        // Cut inside the second record: it and everything after it in the segment go.
        let (start, end) = fr[1];
        fs::write(&first, &data[..(start + end) / 2]).unwrap();

        let c = read_journal(&d).unwrap();
        let lost = fr.len() as u64 - 2;
        assert_eq!(c.records.len() as u64, 12 - lost);
        assert_eq!(c.damage.len(), 2, "{:?}", c.damage);
        assert!(c.damage[0].contains("cut short"), "{:?}", c.damage);
        assert!(!c.damage[0].contains("torn tail"), "{:?}", c.damage);
        assert!(
            c.damage[1].contains(&format!("sequence numbers 2 to {} are missing", lost + 1)),
            "{:?}",
            c.damage
        );
        // Opening repairs only the newest segment: the cut one stays as found.
        let len = fs::metadata(&first).unwrap().len();
        let j = Journal::open(cfg).unwrap();
        assert_eq!(rt().block_on(j.append(record("r13"))).unwrap(), 13);
        j.close();
        assert_eq!(fs::metadata(&first).unwrap().len(), len);
        assert_eq!(read_journal(&d).unwrap().damage.len(), 2);
    }

    #[test]
    fn a_sealed_segment_cut_between_two_records_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        sealed_segments(&d, 12);
        let first = segment_path(&d, 1);
        let data = fs::read(&first).unwrap();
        let fr = frames(&data);
        // Cut after the first record: what is left reads as intact records only.
        fs::write(&first, &data[..fr[0].1]).unwrap();

        let c = read_journal(&d).unwrap();
        assert_eq!(c.damage.len(), 2, "{:?}", c.damage);
        assert!(c.damage[0].contains("without its footer"), "{:?}", c.damage);
        assert!(
            c.damage[1].contains("sequence numbers 2 to"),
            "{:?}",
            c.damage
        );
    }

    #[test]
    fn segments_without_footers_from_before_them_are_read_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        sealed_segments(&d, 12);
        // Segment 1 as the earlier format wrote it: old magic, no footer.
        let first = segment_path(&d, 1);
        let mut data = fs::read(&first).unwrap();
        let (footer_at, _) = *frames(&data).last().unwrap();
        data.truncate(footer_at);
        data[..MAGIC_V1.len()].copy_from_slice(MAGIC_V1);
        fs::write(&first, &data).unwrap();
        let c = read_journal(&d).unwrap();
        assert_eq!(seqs(&c), (1..=12).collect::<Vec<u64>>());
        assert!(c.damage.is_empty(), "{:?}", c.damage);
    }

    /// A record as journals before raw bodies held it: JSON, bodies in base64.
    fn old_frame(record: &Record, buf: &mut Vec<u8>) {
        frame(&serde_json::to_vec(record).unwrap(), buf);
    }

    #[test]
    fn bodies_are_stored_once_raw_and_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        // A 9 KB body with NUL bytes, bytes that spell a frame header, and JSON.
        let mut body = b"<x>{\"seq\":99}</x>\0\0\x08\0\0\0".to_vec();
        body.extend((0..9000u32).map(|i| (i % 251) as u8));
        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        let mut r = record("raw");
        r.request = body.clone();
        r.response = vec![0xff, 0, 0xfe];
        rt().block_on(j.append(r)).unwrap();
        j.close();
        let data = fs::read(segment_path(&d, 1)).unwrap();
        let fr = frames(&data);
        assert_eq!(fr.len(), 1);
        let frame_len = fr[0].1 - fr[0].0;
        assert!(
            frame_len < body.len() + 512,
            "a {} byte body took a {frame_len} byte record",
            body.len()
        );
        let found = data.windows(body.len()).filter(|w| *w == body).count();
        assert_eq!(found, 1, "the body is in the segment once, as sent");
        let c = read_journal(&d).unwrap();
        assert!(c.damage.is_empty(), "{:?}", c.damage);
        assert_eq!(c.records[0].request, body);
        assert_eq!(c.records[0].response, vec![0xff, 0, 0xfe]);
        assert_eq!(c.records[0].tx_id.as_deref(), Some("raw"));
    }

    #[test]
    fn journals_with_base64_bodies_are_read_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        fs::create_dir_all(&d).unwrap();
        let mut data = MAGIC.to_vec();
        for i in 1..=3u64 {
            let mut r = record(&format!("old{i}"));
            r.seq = i;
            r.request = format!("<old n=\"{i}\"/>").into_bytes();
            old_frame(&r, &mut data);
        }
        assert!(
            data.windows(8).any(|w| w == b"PG9sZCBu"),
            "base64 bodies, as before"
        );
        fs::write(segment_path(&d, 1), &data).unwrap();
        let j = Journal::open(JournalConfig::new(&d)).unwrap();
        assert_eq!(j.recovery().records, 3);
        assert_eq!(rt().block_on(j.append(record("new4"))).unwrap(), 4);
        j.close();
        let c = read_journal(&d).unwrap();
        assert!(c.damage.is_empty(), "{:?}", c.damage);
        assert_eq!(txs(&c), ["old1", "old2", "old3", "new4"]);
        assert_eq!(c.records[1].request, b"<old n=\"2\"/>");
        assert_eq!(c.records[3].request, b"req");
        assert_eq!(c.records[3].response, b"resp");
    }

    #[test]
    fn a_raw_record_whose_lengths_overrun_it_is_damage_not_a_record() {
        let mut r = record("x");
        let mut buf = Vec::new();
        encode_frame(&mut r, &mut buf).unwrap();
        let payload = &mut buf[FRAME_HEADER..];
        payload[RAW_TAG.len()..RAW_TAG.len() + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let crc = crc32fast::hash(payload);
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&buf);
        match check_frame(&data, MAGIC.len()) {
            Frame::Damaged { reason, .. } => assert!(reason.contains("run past"), "{reason}"),
            _ => panic!("an overrunning body length was read as a record"),
        }
    }

    #[test]
    fn a_crash_between_a_footer_and_the_next_segment_is_no_damage() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let mut cfg = JournalConfig::new(&d);
        cfg.rotate_bytes = 1;
        fsynced_records_with(&cfg, 3);
        // The empty segment the last rotation made, as if the crash came before it.
        let segments = list_segments(&d).unwrap();
        let (_, newest) = segments.last().unwrap();
        assert_eq!(fs::metadata(newest).unwrap().len(), MAGIC.len() as u64);
        fs::remove_file(newest).unwrap();
        let j = Journal::open(cfg).unwrap();
        assert_eq!(j.recovery().records, 1, "the sealed segment, left sealed");
        assert_eq!(rt().block_on(j.append(record("r4"))).unwrap(), 4);
        j.close();
        let c = read_journal(&d).unwrap();
        assert_eq!(seqs(&c), [1, 2, 3, 4]);
        assert!(c.damage.is_empty(), "{:?}", c.damage);
    }

    fn fsynced_records_with(cfg: &JournalConfig, n: usize) {
        let j = Journal::open(cfg.clone()).unwrap();
        rt().block_on(async {
            for i in 1..=n {
                j.append(record(&format!("r{i}"))).await.unwrap();
            }
        });
        j.close();
    }

    #[test]
    fn a_removed_segment_is_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        sealed_segments(&d, 12);
        let segments = list_segments(&d).unwrap();
        fs::remove_file(&segments[1].1).unwrap();
        let c = read_journal(&d).unwrap();
        assert_eq!(c.damage.len(), 1, "{:?}", c.damage);
        assert!(c.damage[0].contains("are missing"), "{:?}", c.damage);
    }

    #[test]
    fn retention_keeps_the_segment_that_holds_the_last_sequence_number() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("d");
        let mut cfg = JournalConfig::new(&d);
        cfg.rotate_bytes = 1;
        cfg.retention_days = Some(1);
        let j = Journal::open(cfg.clone()).unwrap();
        rt().block_on(async {
            for i in 1..=3 {
                j.append(record(&format!("r{i}"))).await.unwrap();
            }
        });
        j.close();
        // Every segment looks a week old: retention may delete all but the newest two.
        let week_ago = SystemTime::now() - Duration::from_secs(7 * 86_400);
        for (_, path) in list_segments(&d).unwrap() {
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(week_ago)
                .unwrap();
        }
        // Opening sweeps; the newest segment is empty, the one before holds seq 3 and
        // must survive, or the next start would begin again at 1.
        drop(Journal::open(cfg.clone()).unwrap());
        let j = Journal::open(cfg).unwrap();
        assert_eq!(
            rt().block_on(j.append(record("r4"))).unwrap(),
            4,
            "no sequence number is reused"
        );
        j.close();
        // Expired segments went (1 and 2 at the open, 3 at the rotation after r4);
        // what remains continues the numbering.
        assert_eq!(seqs(&read_journal(&d).unwrap()), [4]);
    }
}
