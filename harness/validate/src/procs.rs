//! Batch workers as processes (Linux, command line only): the batch's counters in
//! memory shared with forked children, each child's results sent back through a pipe.
//!
//! Two threads over 20,000 small files use about 4 % more CPU time than two processes
//! doing the same work, with the same instructions per document and the same system
//! calls (docs/performance.md); forked workers keep the process's compiled schema and
//! parser state (copy-on-write) and share nothing but two counters. A fork is only
//! safe in a process with one thread, so [`available`] checks that, and anything that
//! cannot be set up leaves the batch to threads.
#![allow(unsafe_code)]

use crate::finding::{Finding, Report};
use crate::input::{Excerpt, FileResult, InputError};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::AtomicUsize;

/// One input's outcome, by its index in the batch.
pub(crate) type Done = Vec<(usize, Result<FileResult, InputError>)>;

/// Whether workers may be forked here: the process has exactly one thread (a fork
/// copies only the calling thread, and any lock another thread held would stay held
/// in the child for ever).
pub(crate) fn available() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}

/// The batch's two counters, in memory that forked children share with the parent.
pub(crate) struct Shared {
    ptr: *mut AtomicUsize,
}

impl Shared {
    /// `next` and `first_stop` as the threads version starts them, or `None` when the
    /// mapping fails.
    pub(crate) fn new() -> Option<Shared> {
        // SAFETY: a fresh anonymous shared mapping of two words, zeroed by the kernel;
        // AtomicUsize has usize's layout and works across processes on shared memory.
        unsafe {
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                2 * std::mem::size_of::<usize>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if ptr == libc::MAP_FAILED {
                return None;
            }
            let shared = Shared { ptr: ptr.cast() };
            shared
                .first_stop()
                .store(usize::MAX, std::sync::atomic::Ordering::Relaxed);
            Some(shared)
        }
    }

    pub(crate) fn next(&self) -> &AtomicUsize {
        // SAFETY: the mapping lives as long as `self` and holds two atomics.
        unsafe { &*self.ptr }
    }

    pub(crate) fn first_stop(&self) -> &AtomicUsize {
        // SAFETY: as above, the second word.
        unsafe { &*self.ptr.add(1) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made, unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), 2 * std::mem::size_of::<usize>());
        }
    }
}

/// A forked worker: its pid and the read end of its results pipe.
pub(crate) struct Child {
    pid: libc::pid_t,
    results: std::fs::File,
}

/// Forks a worker that runs `work` and sends what it did back; `None` when the pipe
/// or the fork fails (the batch then has one worker fewer). Only call when
/// [`available`] said so.
pub(crate) fn spawn(work: &dyn Fn() -> Done) -> Option<Child> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors; both are owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: descriptors pipe2 just returned, owned once each.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the process has one thread (the caller checked), so the child is a
    // complete copy; it leaves through _exit and never returns into the caller.
    match unsafe { libc::fork() } {
        -1 => None,
        0 => {
            drop(read);
            let status = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
                Ok(done) => {
                    let mut out = std::fs::File::from(write);
                    let sent = out.write_all(&encode(&done)).is_ok();
                    // Closed before _exit: the parent sees the end of the results
                    // without waiting for this process's teardown.
                    drop(out);
                    if sent {
                        0
                    } else {
                        1
                    }
                }
                // The panic hook has already said why on standard error.
                Err(_) => 101,
            };
            // SAFETY: ends the child without running the parent's exit handlers or
            // flushing buffers that are the parent's to flush.
            unsafe { libc::_exit(status) }
        }
        pid => {
            // The parent's write end closes here, so that the child's is the last.
            drop(write);
            Some(Child {
                pid,
                results: std::fs::File::from(read),
            })
        }
    }
}

impl Child {
    /// Waits for the worker and returns what it did. A worker that failed (a panic,
    /// a signal, results that do not decode) ends the batch the way a panicking
    /// thread does.
    pub(crate) fn join(mut self) -> Done {
        let mut bytes = Vec::new();
        // The child closes its end before it exits: the results are read, and decoded,
        // while the kernel still tears the child down.
        let read = self.results.read_to_end(&mut bytes);
        let done = decode(&bytes);
        let mut status = 0;
        // SAFETY: waits for our own child, once.
        let waited = unsafe { libc::waitpid(self.pid, &mut status, 0) };
        let clean = waited == self.pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        match (read, clean, done) {
            (Ok(_), true, Some(done)) => done,
            _ => panic!(
                "a validation worker process failed (pid {}, wait status {status})",
                self.pid
            ),
        }
    }
}

/// How a result travels: most documents are clean and cost five bytes.
const CLEAN: u8 = 0;
const FOUND: u8 = 1;
const FAILED: u8 = 2;

#[derive(serde::Serialize, serde::Deserialize)]
struct Found {
    findings: Vec<Finding>,
    excerpts: Vec<Option<Excerpt>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Failed {
    list: bool,
    os: Option<i32>,
    message: String,
}

/// The results as bytes: per input its index (u32), a tag, its name (u32 length and
/// UTF-8), and for anything but a clean document a JSON body (u32 length and bytes).
pub(crate) fn encode(done: &Done) -> Vec<u8> {
    let mut out = Vec::with_capacity(done.len() * 32);
    let put = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    for (i, result) in done {
        out.extend_from_slice(&(*i as u32).to_le_bytes());
        match result {
            Ok(f) if f.report.findings.is_empty() && f.excerpts.is_empty() => {
                out.push(CLEAN);
                put(&mut out, f.path.as_bytes());
            }
            Ok(f) => {
                out.push(FOUND);
                put(&mut out, f.path.as_bytes());
                let body = serde_json::to_vec(&Found {
                    findings: f.report.findings.clone(),
                    excerpts: f.excerpts.clone(),
                })
                .unwrap_or_default();
                put(&mut out, &body);
            }
            Err(e) => {
                out.push(FAILED);
                put(&mut out, e.path().as_bytes());
                let body = serde_json::to_vec(&Failed {
                    list: matches!(e, InputError::List { .. }),
                    os: e.io_error().raw_os_error(),
                    message: e.io_error().to_string(),
                })
                .unwrap_or_default();
                put(&mut out, &body);
            }
        }
    }
    out
}

/// Reads what [`encode`] wrote; `None` for bytes it did not write (cut short, an
/// unknown tag, a body that does not parse).
pub(crate) fn decode(bytes: &[u8]) -> Option<Done> {
    struct Bytes<'a>(&'a [u8]);
    impl<'a> Bytes<'a> {
        fn take(&mut self, len: usize) -> Option<&'a [u8]> {
            let (part, rest) = (self.0.get(..len)?, self.0.get(len..)?);
            self.0 = rest;
            Some(part)
        }
        fn u32(&mut self) -> Option<usize> {
            Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
        }
        fn sized(&mut self) -> Option<&'a [u8]> {
            let len = self.u32()?;
            self.take(len)
        }
    }
    let mut input = Bytes(bytes);
    let mut done = Vec::new();
    while !input.0.is_empty() {
        let i = input.u32()?;
        let tag = input.take(1)?[0];
        let path = String::from_utf8(input.sized()?.to_vec()).ok()?;
        let result = match tag {
            CLEAN => Ok(FileResult {
                path,
                report: Report::default(),
                excerpts: Vec::new(),
            }),
            FOUND => {
                let found: Found = serde_json::from_slice(input.sized()?).ok()?;
                Ok(FileResult {
                    path,
                    report: Report {
                        findings: found.findings,
                    },
                    excerpts: found.excerpts,
                })
            }
            FAILED => {
                let failed: Failed = serde_json::from_slice(input.sized()?).ok()?;
                let source = match failed.os {
                    Some(code) => std::io::Error::from_raw_os_error(code),
                    None => std::io::Error::other(failed.message),
                };
                Err(if failed.list {
                    InputError::List { path, source }
                } else {
                    InputError::Read { path, source }
                })
            }
            _ => return None,
        };
        done.push((i, result));
    }
    Some(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn sample() -> Done {
        let finding = Finding {
            rule: "EIOA-R001".into(),
            severity: Severity::Error,
            line: 3,
            column: 7,
            path: Some("/a/b".into()),
            message: "wrong check digit: å".into(),
            hint: None,
            kind: Some("value".into()),
        };
        vec![
            (
                0,
                Ok(FileResult {
                    path: "d/n0.xml".into(),
                    report: Report::default(),
                    excerpts: vec![],
                }),
            ),
            (
                7,
                Ok(FileResult {
                    path: "d/ö.xml".into(),
                    report: Report {
                        findings: vec![finding.clone(), finding],
                    },
                    excerpts: vec![
                        None,
                        Some(Excerpt {
                            line: 3,
                            column: 7,
                            text: "<a>x</a>".into(),
                            span: 1..2,
                        }),
                    ],
                }),
            ),
            (
                9,
                Err(InputError::Read {
                    path: "d/gone.xml".into(),
                    source: std::io::Error::from_raw_os_error(libc::ENOENT),
                }),
            ),
            (
                11,
                Err(InputError::List {
                    path: "d/sub".into(),
                    source: std::io::Error::other("not an OS error"),
                }),
            ),
        ]
    }

    fn shown(done: &Done) -> String {
        done.iter()
            .map(|(i, r)| match r {
                Ok(f) => format!("{i} {f:?}"),
                Err(e) => format!(
                    "{i} {e} / {} / {:?}",
                    e.io_error(),
                    e.io_error().raw_os_error()
                ),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What a worker sends is what the parent gets: names, findings, excerpts, and
    /// errors with the same message and OS error code.
    #[test]
    fn results_come_back_as_they_were_sent() {
        let done = sample();
        let back = decode(&encode(&done)).unwrap();
        assert_eq!(shown(&back), shown(&done));
    }

    /// Cut or altered bytes are refused, never read as other results.
    #[test]
    fn bytes_it_did_not_write_are_refused() {
        let bytes = encode(&sample());
        for cut in 1..bytes.len() {
            if let Some(done) = decode(&bytes[..cut]) {
                // A cut between two results is a shorter, still true list.
                assert!(shown(&sample()).starts_with(&shown(&done)), "cut at {cut}");
            }
        }
        let mut bad = bytes.clone();
        bad[4] = 9;
        assert!(decode(&bad).is_none());
    }

    /// The counters in shared memory start as the threads' do and are seen by a
    /// forked child: a child that adds to one is seen by the parent.
    #[test]
    fn the_counters_are_shared_with_a_forked_child() {
        use std::sync::atomic::Ordering;
        let shared = Shared::new().unwrap();
        assert_eq!(shared.next().load(Ordering::Relaxed), 0);
        assert_eq!(shared.first_stop().load(Ordering::Relaxed), usize::MAX);
        if !available() {
            // A test harness usually has several threads; the fork is then not safe.
            return;
        }
        let child = spawn(&|| {
            shared.next().fetch_add(5, Ordering::Relaxed);
            Vec::new()
        })
        .unwrap();
        assert!(child.join().is_empty());
        assert_eq!(shared.next().load(Ordering::Relaxed), 5);
    }
}
