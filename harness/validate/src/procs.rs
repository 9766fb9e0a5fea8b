//! Batch workers as processes (Linux, command line only): the batch's counters in
//! memory shared with forked children, each child's results sent back through a pipe.
//!
//! Two threads over 20,000 small files use about 4 % more CPU time than two processes
//! doing the same work, with the same instructions per document and the same system
//! calls (docs/performance.md); forked workers keep the process's compiled schema and
//! parser state (copy-on-write) and share nothing but three counters. A fork is only
//! safe in a process with one thread, so [`available`] checks that, and anything that
//! cannot be set up leaves the batch to threads.
#![allow(unsafe_code)]

use crate::finding::{Finding, Report};
use crate::input::{Done, Excerpt, FileResult, InputError};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether workers may be forked here: the process has exactly one thread (a fork
/// copies only the calling thread, and any lock another thread held would stay held
/// in the child for ever).
pub(crate) fn available() -> bool {
    one_thread() && children_are_waited_for()
}

fn one_thread() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}

/// Whether `waitpid` can report a child's exit: not when SIGCHLD is ignored or has
/// SA_NOCLDWAIT, which a process inherits from whatever started it.
fn children_are_waited_for() -> bool {
    // SAFETY: reads the current disposition only (a null new action).
    unsafe {
        let mut old = std::mem::zeroed::<libc::sigaction>();
        libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction != libc::SIG_IGN
            && old.sa_flags & libc::SA_NOCLDWAIT == 0
    }
}

/// The batch's counters, in memory that forked children share with the parent.
pub(crate) struct Shared {
    ptr: *mut AtomicUsize,
}

impl Shared {
    /// `next`, `first_stop` and `handed` as the threads version starts them, or `None`
    /// when the mapping fails.
    pub(crate) fn new() -> Option<Shared> {
        // SAFETY: a fresh anonymous shared mapping of three words, zeroed by the kernel;
        // AtomicUsize has usize's layout and works across processes on shared memory.
        unsafe {
            let ptr = libc::mmap(
                std::ptr::null_mut(),
                3 * std::mem::size_of::<usize>(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if ptr == libc::MAP_FAILED {
                return None;
            }
            let shared = Shared { ptr: ptr.cast() };
            shared.first_stop().store(usize::MAX, Ordering::Relaxed);
            Some(shared)
        }
    }

    pub(crate) fn next(&self) -> &AtomicUsize {
        // SAFETY: the mapping lives as long as `self` and holds three atomics.
        unsafe { &*self.ptr }
    }

    pub(crate) fn first_stop(&self) -> &AtomicUsize {
        // SAFETY: as above, the second word.
        unsafe { &*self.ptr.add(1) }
    }

    pub(crate) fn handed(&self) -> &AtomicUsize {
        // SAFETY: as above, the third word.
        unsafe { &*self.ptr.add(2) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made, unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), 3 * std::mem::size_of::<usize>());
        }
    }
}

/// A forked worker: its pid and the read end of its results pipe. Dropped without
/// [`Child::join`] (the parent is unwinding), it is killed and reaped.
pub(crate) struct Child {
    pid: libc::pid_t,
    /// The read end of the results pipe, non-blocking.
    results: std::fs::File,
    decoder: Decoder,
    buffer: Vec<u8>,
    /// The child closed its end.
    eof: bool,
    joined: bool,
}

/// A worker's loop over the batch: it hands the results of each claim to the sink it
/// is given, which takes them out of the list.
pub(crate) type Work<'a> = dyn Fn(&mut dyn FnMut(&mut Done, bool)) + 'a;

/// Bytes a child gathers before it writes them to its pipe: a few hundred clean
/// results, so the parent sees them while the batch runs, in a few dozen writes.
const FLUSH_AT: usize = 8 << 10;

/// Forks a worker that runs `work` and sends its results back as it goes; `None`
/// when the pipe or the fork fails (the batch then has one worker fewer). `siblings`
/// are the earlier children, whose pipes this child closes. Only call when
/// [`available`] said so.
pub(crate) fn spawn(work: &Work<'_>, siblings: &[Child]) -> Option<Child> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors; both are owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: descriptors pipe2 just returned, owned once each.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // The parent reads while the batch runs, without waiting: it is a worker too. Set
    // before the fork, so that a failure leaves no child behind that claimed inputs.
    // SAFETY: fcntl on a descriptor this process owns; only the read end's flags.
    let nonblocking = unsafe {
        let flags = libc::fcntl(read.as_raw_fd(), libc::F_GETFL);
        flags >= 0 && libc::fcntl(read.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
    };
    if !nonblocking {
        return None;
    }
    let sibling_fds: Vec<RawFd> = siblings.iter().map(|c| c.results.as_raw_fd()).collect();
    // SAFETY: getpid cannot fail.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the process has one thread (the caller checked), so the child is a
    // complete copy; it leaves through _exit and never returns into the caller.
    match unsafe { libc::fork() } {
        -1 => None,
        0 => {
            // Everything the child does stays inside catch_unwind: a panic must end
            // in _exit, never unwind into the parent's code in this process.
            let child = move || {
                drop(read);
                for fd in sibling_fds {
                    // SAFETY: closes this process's copy of an earlier sibling's pipe.
                    unsafe { libc::close(fd) };
                }
                // SAFETY: plain prctl and getppid calls: the child dies with its
                // parent, and gives up if the parent died before that was set.
                unsafe {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                    if libc::getppid() != parent {
                        return 1;
                    }
                }
                let mut out = std::fs::File::from(write);
                let mut bytes = Vec::with_capacity(2 * FLUSH_AT);
                let (mut sent, mut ok) = (0usize, true);
                work(&mut |done: &mut Done, wait: bool| {
                    if wait {
                        // The parent may be waiting for what this one holds back.
                        if ok && !bytes.is_empty() {
                            ok = out.write_all(&bytes).is_ok();
                            bytes.clear();
                        }
                        std::thread::sleep(std::time::Duration::from_micros(500));
                        return;
                    }
                    sent += done.len();
                    ok = ok && encode_chunk(done, &mut bytes).is_some();
                    done.clear();
                    if ok && bytes.len() >= FLUSH_AT {
                        ok = out.write_all(&bytes).is_ok();
                        bytes.clear();
                    }
                });
                encode_end(sent, &mut bytes);
                let ok = ok && out.write_all(&bytes).is_ok();
                // Closed before _exit: the parent sees the end of the results
                // without waiting for this process's teardown.
                drop(out);
                if ok {
                    0
                } else {
                    1
                }
            };
            // A panic's message is already on standard error (the panic hook).
            let status =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
            // SAFETY: ends the child without running the parent's exit handlers,
            // destructors or buffer flushes, which are the parent's.
            unsafe { libc::_exit(status) }
        }
        pid => {
            // The parent's write end closes here, so that the child's is the last.
            drop(write);
            Some(Child {
                pid,
                results: std::fs::File::from(read),
                decoder: Decoder::default(),
                buffer: Vec::new(),
                eof: false,
                joined: false,
            })
        }
    }
}

/// Where the results of a batch go, as they come: input index and outcome.
pub(crate) type Put<'a> = dyn FnMut(usize, Result<FileResult, InputError>) + 'a;

impl Child {
    /// Takes whatever results the child has sent so far, without waiting. A child
    /// whose results are not what it writes ends the batch (see [`Child::finish`]).
    pub(crate) fn poll(
        &mut self,
        inputs: usize,
        name: &dyn Fn(usize) -> String,
        put: &mut Put<'_>,
    ) {
        while !self.eof {
            self.buffer.resize(FLUSH_AT * 2, 0);
            match self.results.read(&mut self.buffer) {
                Ok(0) => self.eof = true,
                Ok(len) => {
                    if !self.decoder.feed(&self.buffer[..len], inputs, name, put) {
                        self.fail(Ok(0));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => self.fail(Ok(0)),
            }
        }
    }

    /// Waits until one of `children` has sent something (or ended), at most
    /// `millis` milliseconds (-1: as long as it takes); `false`, without waiting,
    /// when every child has ended. An interrupted wait is a short one.
    pub(crate) fn wait_any(children: &[Child], millis: i32) -> bool {
        let mut open: Vec<libc::pollfd> = children
            .iter()
            .filter(|c| !c.eof)
            .map(|c| libc::pollfd {
                fd: c.results.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if open.is_empty() {
            return false;
        }
        // SAFETY: poll on descriptors these children own.
        unsafe { libc::poll(open.as_mut_ptr(), open.len() as libc::nfds_t, millis) };
        true
    }

    /// Takes the rest of the results of every child, as they come from whichever
    /// child has some, then reaps them. A worker that failed (a panic, a signal,
    /// results that do not arrive whole) ends the batch the way a panicking thread
    /// does.
    pub(crate) fn finish(
        mut children: Vec<Child>,
        inputs: usize,
        name: &dyn Fn(usize) -> String,
        put: &mut Put<'_>,
    ) {
        loop {
            for child in children.iter_mut() {
                child.poll(inputs, name, put);
            }
            if !Child::wait_any(&children, -1) {
                break;
            }
        }
        for mut child in children.drain(..) {
            let status = child.wait();
            child.joined = true;
            match status {
                Ok(0) if child.decoder.ended() => {}
                status => child.fail(status),
            }
        }
    }

    fn fail(&mut self, status: std::io::Result<i32>) -> ! {
        panic!(
            "a validation worker process (pid {}) failed: {}",
            self.pid,
            match status {
                Ok(0) => "its results did not arrive whole".to_string(),
                Ok(code) if code < 0 => format!("killed by signal {}", -code),
                Ok(code) => format!("exit status {code}"),
                Err(e) => format!("waitpid: {e}"),
            }
        )
    }

    /// The child's exit status, or minus the signal that ended it.
    fn wait(&self) -> std::io::Result<i32> {
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child.
            let waited = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if waited == self.pid {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        Ok(if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -libc::WTERMSIG(status)
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.joined {
            self.joined = true;
            // SAFETY: our own child, not yet reaped, so the pid is still its.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = self.wait();
        }
    }
}

/// How a result travels: most documents are clean and cost a few bytes.
const CLEAN: u8 = 0;
const FOUND: u8 = 1;
const FAILED: u8 = 2;
/// The length that marks the end of a worker's results, followed by their number:
/// results cut short are refused.
const END: u32 = u32::MAX;

#[derive(serde::Deserialize)]
struct Found {
    findings: Vec<Finding>,
    excerpts: Vec<Option<Excerpt>>,
}

/// [`Found`] as it is written, without copying the findings.
#[derive(serde::Serialize)]
struct FoundRef<'a> {
    findings: &'a [Finding],
    excerpts: &'a [Option<Excerpt>],
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Failed {
    list: bool,
    os: Option<i32>,
    message: String,
}

/// Appends one chunk of results: its length, then per input its index and a tag, and
/// for anything but a clean document its name and a JSON body (numbers as u64,
/// lengths as u32, little-endian). `None` if a body cannot be written.
///
/// A clean document's name is the one the parent gives that input: most results are
/// clean, and 9 bytes each keep what a large batch sends back small.
pub(crate) fn encode_chunk(
    done: &[(usize, Result<FileResult, InputError>)],
    out: &mut Vec<u8>,
) -> Option<()> {
    let put = |out: &mut Vec<u8>, bytes: &[u8]| -> Option<()> {
        out.extend_from_slice(&u32::try_from(bytes.len()).ok()?.to_le_bytes());
        out.extend_from_slice(bytes);
        Some(())
    };
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    for (i, result) in done {
        out.extend_from_slice(&(*i as u64).to_le_bytes());
        match result {
            Ok(f) if f.report.findings.is_empty() && f.excerpts.is_empty() => {
                out.push(CLEAN);
            }
            Ok(f) => {
                out.push(FOUND);
                put(out, f.path.as_bytes())?;
                let body = serde_json::to_vec(&FoundRef {
                    findings: &f.report.findings,
                    excerpts: &f.excerpts,
                })
                .ok()?;
                put(out, &body)?;
            }
            Err(e) => {
                out.push(FAILED);
                put(out, e.path().as_bytes())?;
                let body = serde_json::to_vec(&Failed {
                    list: matches!(e, InputError::List { .. }),
                    os: e.io_error().raw_os_error(),
                    message: e.io_error().to_string(),
                })
                .ok()?;
                put(out, &body)?;
            }
        }
    }
    let len = u32::try_from(out.len() - start - 4)
        .ok()
        .filter(|len| *len != END)?;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    Some(())
}

/// Appends the end of a worker's results: the end mark and how many there were.
pub(crate) fn encode_end(count: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&END.to_le_bytes());
    out.extend_from_slice(&(count as u64).to_le_bytes());
}

/// Reads what [`encode_chunk`] and [`encode_end`] wrote, in pieces of any size.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    /// Bytes of a chunk not yet whole.
    carry: Vec<u8>,
    /// Results read so far.
    count: usize,
    /// The end mark arrived, with the right count.
    ended: bool,
}

impl Decoder {
    /// Reads `bytes`, the next piece of a worker's results in a batch of `inputs`
    /// inputs, and hands every result it completes to `put`, naming clean documents
    /// with `name`. `false` for bytes the worker did not write that way: a chunk that
    /// does not parse, an index out of the batch, an unknown tag, an end mark with
    /// the wrong count, anything after the end.
    pub(crate) fn feed(
        &mut self,
        bytes: &[u8],
        inputs: usize,
        name: &dyn Fn(usize) -> String,
        put: &mut Put<'_>,
    ) -> bool {
        if self.ended {
            return bytes.is_empty();
        }
        // Whole chunks straight from `bytes` when nothing is carried over.
        let carried;
        let mut data: &[u8] = if self.carry.is_empty() {
            bytes
        } else {
            self.carry.extend_from_slice(bytes);
            carried = std::mem::take(&mut self.carry);
            &carried
        };
        while let Some(head) = data.get(..4) {
            let len = u32::from_le_bytes(head.try_into().expect("4 bytes"));
            if len == END {
                let Some(count) = data.get(4..12) else { break };
                let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
                self.ended = count == self.count as u64 && data.len() == 12;
                return self.ended;
            }
            let Some(chunk) = data.get(4..4 + len as usize) else {
                break;
            };
            if decode_chunk(chunk, inputs, name, &mut |i, r| {
                self.count += 1;
                put(i, r)
            })
            .is_none()
            {
                return false;
            }
            data = &data[4 + len as usize..];
        }
        self.carry = data.to_vec();
        true
    }

    /// Whether the worker's results ended as it wrote them.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }
}

/// The results of one chunk, to `put`; `None` if the chunk does not parse whole.
fn decode_chunk(
    chunk: &[u8],
    inputs: usize,
    name: &dyn Fn(usize) -> String,
    put: &mut Put<'_>,
) -> Option<()> {
    struct Bytes<'a>(&'a [u8]);
    impl<'a> Bytes<'a> {
        fn take(&mut self, len: usize) -> Option<&'a [u8]> {
            let (part, rest) = (self.0.get(..len)?, self.0.get(len..)?);
            self.0 = rest;
            Some(part)
        }
        fn u64(&mut self) -> Option<usize> {
            usize::try_from(u64::from_le_bytes(self.take(8)?.try_into().ok()?)).ok()
        }
        fn sized(&mut self) -> Option<&'a [u8]> {
            let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize;
            self.take(len)
        }
    }
    let mut input = Bytes(chunk);
    while !input.0.is_empty() {
        let i = input.u64().filter(|i| *i < inputs)?;
        let tag = input.take(1)?[0];
        if tag == CLEAN {
            put(
                i,
                Ok(FileResult {
                    path: name(i),
                    report: Report::default(),
                    excerpts: Vec::new(),
                }),
            );
            continue;
        }
        let path = String::from_utf8(input.sized()?.to_vec()).ok()?;
        let result = match tag {
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
        put(i, result);
    }
    Some(())
}

/// For `tests/workers.rs`, which runs with one thread: a forked child that adds to
/// the shared counter is seen by the parent, and one that exits without its results
/// is a failure. Returns what went wrong.
#[doc(hidden)]
pub fn fork_self_test() -> Result<(), String> {
    if !available() {
        return Err("worker processes are not available here".into());
    }
    let shared = Shared::new().ok_or("no shared mapping")?;
    let name = |i: usize| i.to_string();
    let child = spawn(
        &|_sink: &mut dyn FnMut(&mut Done, bool)| {
            shared.next().fetch_add(5, Ordering::Relaxed);
        },
        &[],
    )
    .ok_or("fork failed")?;
    let mut results = 0;
    Child::finish(vec![child], 0, &name, &mut |_, _| results += 1);
    if results != 0 {
        return Err("results from nowhere".into());
    }
    if shared.next().load(Ordering::Relaxed) != 5 {
        return Err("the counter is not shared with the child".into());
    }
    // A child that dies mid-way: finishing it panics, as a panicking thread would.
    let dying = spawn(
        &|_sink: &mut dyn FnMut(&mut Done, bool)| {
            // SAFETY: ends this (child) process at once, before any result is sent.
            unsafe { libc::_exit(3) }
        },
        &[],
    )
    .ok_or("fork failed")?;
    // Its panic is the expected outcome here: not printed.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Child::finish(vec![dying], 0, &name, &mut |_, _| {})
    }));
    std::panic::set_hook(hook);
    match joined {
        Err(_) => Ok(()),
        Ok(_) => Err("a child that died was taken for a clean one".into()),
    }
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
                    path: "n0".into(),
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

    /// The parent's names: what [`sample`]'s clean result is called.
    fn name(i: usize) -> String {
        format!("n{i}")
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

    /// What a worker writes: `done` in chunks of `per_chunk` results, then the end.
    fn encode(done: &Done, per_chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in done.chunks(per_chunk.max(1)) {
            encode_chunk(chunk, &mut out).unwrap();
        }
        encode_end(done.len(), &mut out);
        out
    }

    /// What the parent reads from `bytes` fed in `pieces` of that size, for a batch
    /// of `inputs`; `None` if any piece is refused or the end is missing.
    fn decode(bytes: &[u8], pieces: usize, inputs: usize) -> Option<Done> {
        let mut decoder = Decoder::default();
        let mut done = Vec::new();
        for piece in bytes.chunks(pieces.max(1)) {
            if !decoder.feed(piece, inputs, &name, &mut |i, r| done.push((i, r))) {
                return None;
            }
        }
        decoder.ended().then_some(done)
    }

    /// What a worker sends is what the parent gets: names, findings, excerpts, and
    /// errors with the same message and OS error code, whatever the chunks and
    /// however the pipe cuts the bytes.
    #[test]
    fn results_come_back_as_they_were_sent() {
        let done = sample();
        for per_chunk in [1, 2, 4] {
            let bytes = encode(&done, per_chunk);
            for pieces in [1, 3, 7, bytes.len()] {
                let back = decode(&bytes, pieces, 12).unwrap();
                assert_eq!(
                    shown(&back),
                    shown(&done),
                    "{per_chunk} per chunk, pieces of {pieces}"
                );
            }
        }
        assert!(decode(&encode(&Vec::new(), 1), 1, 0).unwrap().is_empty());
    }

    /// Cut or altered bytes are refused, never read as other results.
    #[test]
    fn bytes_it_did_not_write_are_refused() {
        let bytes = encode(&sample(), 2);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], 5, 12).is_none(), "cut at {cut}");
        }
        // The first result's tag: after the chunk length (4) and its index (8).
        let mut bad = bytes.clone();
        bad[12] = 9;
        assert!(decode(&bad, 5, 12).is_none(), "unknown tag");
        let mut miscounted = bytes.clone();
        let at = miscounted.len() - 8;
        miscounted[at] ^= 1;
        assert!(decode(&miscounted, 5, 12).is_none(), "wrong count");
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer, 5, 12).is_none(), "bytes after the end");
        // An index past the batch is not an input the worker was given.
        assert!(decode(&bytes, 5, 11).is_none(), "index out of the batch");
    }

    /// The counters in shared memory start as the threads' do.
    #[test]
    fn the_counters_start_as_the_threads_do() {
        let shared = Shared::new().unwrap();
        assert_eq!(shared.next().load(Ordering::Relaxed), 0);
        assert_eq!(shared.first_stop().load(Ordering::Relaxed), usize::MAX);
        assert_eq!(shared.handed().load(Ordering::Relaxed), 0);
    }
}
