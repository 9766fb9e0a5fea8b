//! Documents from files, directories and standard input, validated in parallel within
//! fixed bounds: nothing is read past the size limit plus one byte, an oversized input
//! is reported (`EIOA-X004`) and dropped at once, and of a document with findings only
//! a short excerpt of each quoted line is kept. Peak memory is one document per worker
//! plus the findings, however many files or how large they are.

use crate::finding::{Finding, Report};
use crate::validator::Validator;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::Read;
use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Characters of a quoted source line kept on each side of a finding's column.
pub const EXCERPT_CONTEXT: usize = 120;

/// One document to validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-` on the command line).
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The file's path (`None` for standard input).
    pub fn into_path(self) -> Option<PathBuf> {
        match self {
            Input::Stdin => None,
            Input::File(p) => Some(p),
        }
    }

    /// The name findings are reported under: the path as given, or `<stdin>`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".into(),
            Input::File(p) => path_name(p),
        }
    }

    /// Reads at most `max + 1` bytes. Of a regular file whose length is over `max`,
    /// at most the first [`FIRST_READ`] bytes (64 KiB) are read.
    pub fn read(&self, max: usize) -> std::io::Result<Contents> {
        match self {
            Input::Stdin => read_bounded(std::io::stdin().lock(), max),
            Input::File(p) => {
                let mut bytes = Vec::new();
                Ok(match read_file(p, max, &mut bytes)? {
                    None => Contents::Document({
                        bytes.shrink_to_fit();
                        bytes
                    }),
                    Some(size) => Contents::TooLarge(size),
                })
            }
        }
    }
}

/// `Path::display` of a path, without its lossy conversion when the path is UTF-8.
fn path_name(p: &Path) -> String {
    match p.to_str() {
        Some(s) => s.to_owned(),
        None => p.display().to_string(),
    }
}

/// Bytes asked for by the first read of a file: the whole of any notification. Only
/// a file that fills it is asked for its length, so a typical file costs four system
/// calls (open, a read, the read that finds its end, close) and no `stat`.
const FIRST_READ: usize = 64 * 1024;

/// Reads the file at `p` into `bytes` (cleared first): `None` when the whole file is
/// there, at most `max` bytes; `Some(size)` when it is over `max` (then `bytes` holds
/// what was read and is not a document). A directory is the read's own error
/// (`ErrorKind::IsADirectory`), which is how a worker finds one among its arguments
/// without a `stat`.
fn read_file(p: &Path, max: usize, bytes: &mut Vec<u8>) -> std::io::Result<Option<Size>> {
    let file = std::fs::File::open(p)?;
    bytes.clear();
    let first = FIRST_READ.min(max.saturating_add(1));
    bytes.reserve(first);
    (&file).take(first as u64).read_to_end(bytes)?;
    if bytes.len() < first {
        return Ok(None);
    }
    // A large input: a regular file's length decides without reading the rest.
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > max as u64 {
        return Ok(Some(Size::Exactly(meta.len())));
    }
    // The file may still grow (or be a device or a pipe): the bound holds anyway.
    let limit = (max as u64).saturating_add(1) - bytes.len() as u64;
    (&file).take(limit).read_to_end(bytes)?;
    if bytes.len() > max {
        return Ok(Some(Size::MoreThan(max as u64)));
    }
    Ok(None)
}

/// What reading an input gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// The whole document, at most the limit.
    Document(Vec<u8>),
    /// Over the limit; the bytes read are already dropped.
    TooLarge(Size),
}

/// How large an oversized input is, as far as it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// A regular file's length.
    Exactly(u64),
    /// A stream (stdin, a pipe, a device), read up to one byte past the limit.
    MoreThan(u64),
}

/// Reads a document of at most `max` bytes: never more than `max + 1` bytes are
/// read, and an oversized document is dropped before this returns.
pub fn read_bounded(reader: impl Read, max: usize) -> std::io::Result<Contents> {
    let mut bytes = Vec::new();
    let limit = (max as u64).saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes)?;
    if bytes.len() > max {
        return Ok(Contents::TooLarge(Size::MoreThan(max as u64)));
    }
    Ok(Contents::Document(bytes))
}

/// An input that cannot be used. Never a property of a document: a document that
/// fails validation is a [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("failed to read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to list directory {path}")]
    List {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// The input or directory that failed, as it is named in the run.
    pub fn path(&self) -> &str {
        match self {
            InputError::Read { path, .. } | InputError::List { path, .. } => path,
        }
    }
    pub fn io_error(&self) -> &std::io::Error {
        match self {
            InputError::Read { source, .. } | InputError::List { source, .. } => source,
        }
    }
}

/// Expands command-line arguments: `-` is standard input; a directory stands for
/// every `*.xml` file under it (sorted by path, so output order is stable).
///
/// Symbolic links are followed, to files and to directories. Each directory is walked
/// once, however many links lead to it, so a link back to an ancestor ends the walk
/// instead of looping and links to shared directories do not multiply it. Inside a
/// directory only regular files are taken: a FIFO or a device named `*.xml` would
/// block or never end. A link named `*.xml` that leads nowhere is an error, as is a
/// directory that cannot be listed (named itself, not the argument it is under).
pub fn collect(args: &[impl AsRef<OsStr>]) -> Result<Vec<Input>, InputError> {
    let mut out = Vec::new();
    for arg in args {
        let arg = arg.as_ref();
        if arg == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        let meta = std::fs::metadata(&path).map_err(|source| InputError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(&path, &mut files)?;
            files.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
            out.extend(files.into_iter().map(Input::File));
        } else {
            out.push(Input::File(path));
        }
    }
    Ok(out)
}

/// The entries of a list of inputs (`eioa validate --files-from`), in order, without
/// copying them. Entries are separated by NUL bytes when the list holds one (`find
/// -print0`, `git ls-files -z`: the only form that can name a file with a line break
/// in its name), and are lines otherwise, each without a trailing `\r` (a list written
/// on Windows). Empty entries are skipped. An entry is taken as a path argument is
/// (a directory is walked, `-` is standard input).
///
/// Outside Unix a name must be UTF-8; the first that is not is the error.
pub fn list_entries(list: &[u8]) -> Result<Vec<&OsStr>, std::str::Utf8Error> {
    let separator = if memchr::memchr(0, list).is_some() {
        0
    } else {
        b'\n'
    };
    // memchr finds the separators a word at a time: a list of 20,000 names is split on
    // the one thread that starts the run, before any worker can.
    let mut out = Vec::with_capacity(memchr::memchr_iter(separator, list).count() + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(separator, list).chain([list.len()]) {
        let entry = &list[start..end];
        start = end + 1;
        let entry = match entry {
            [rest @ .., b'\r'] if separator == b'\n' => rest,
            entry => entry,
        };
        if entry.is_empty() {
            continue;
        }
        #[cfg(unix)]
        out.push(std::os::unix::ffi::OsStrExt::from_bytes(entry));
        #[cfg(not(unix))]
        out.push(OsStr::new(std::str::from_utf8(entry)?));
    }
    Ok(out)
}

fn is_xml(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

fn walk(root: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let list_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| InputError::List { path, source }
    };
    let mut visited = HashSet::new();
    visited.insert(std::fs::canonicalize(root).map_err(list_error(root))?);
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries = std::fs::read_dir(&dir)
            .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
            .map_err(list_error(&dir))?;
        // Sorted, so that which of several links to one directory names it does not
        // depend on the file system's order.
        entries.sort_by_cached_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = entry.path();
            let mut ty = entry.file_type().map_err(list_error(&dir))?;
            if ty.is_symlink() {
                ty = match std::fs::metadata(&path) {
                    Ok(m) => m.file_type(),
                    Err(source) if is_xml(&path) => {
                        return Err(InputError::Read {
                            path: path.display().to_string(),
                            source,
                        })
                    }
                    // A dangling link that is not an .xml file: nothing to validate.
                    Err(_) => continue,
                };
            }
            if ty.is_dir() {
                let canonical = std::fs::canonicalize(&path).map_err(list_error(&path))?;
                if visited.insert(canonical) {
                    subdirs.push(path);
                }
            } else if ty.is_file() && is_xml(&path) {
                out.push(path);
            }
        }
        // Depth first, in name order (the stack pops the last pushed first).
        pending.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

/// The part of a source line shown under a finding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Excerpt {
    /// 1-based line number in the document.
    pub line: u32,
    /// 1-based column (in characters) where `span` starts in the document's line.
    pub column: u32,
    /// The line, cut to [`EXCERPT_CONTEXT`] characters either side of the column with
    /// `…` where it was cut, control characters shown as U+FFFD.
    pub text: String,
    /// Byte range in `text` to underline.
    pub span: Range<usize>,
}

/// The excerpt each finding points at, in the findings' order (`None` for a finding
/// about the whole document). One pass over the source serves all findings.
pub fn excerpts(source: &[u8], findings: &[Finding]) -> Vec<Option<Excerpt>> {
    let mut out = vec![None; findings.len()];
    let mut wanted: Vec<(u32, u32, usize)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.line > 0)
        .map(|(i, f)| (f.line, f.column, i))
        .collect();
    if wanted.is_empty() {
        return out;
    }
    wanted.sort_unstable();
    let mut wanted = wanted.into_iter().peekable();
    for (n, raw) in source.split(|&b| b == b'\n').enumerate() {
        let Some(&(line, _, _)) = wanted.peek() else {
            break;
        };
        if u64::from(line) != n as u64 + 1 {
            continue;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = String::from_utf8_lossy(raw);
        // Findings on this line in column order: the character cursor only moves on.
        let mut cursor = (0usize, 0usize); // (characters, bytes) before the cursor
        while let Some(&(l, column, i)) = wanted.peek() {
            if l != line {
                break;
            }
            wanted.next();
            let target = column.saturating_sub(1) as usize;
            let rest = text[cursor.1..].char_indices().nth(target - cursor.0);
            let (start, column) = match rest {
                Some((b, _)) => {
                    cursor = (target, cursor.1 + b);
                    (cursor.1, column.max(1))
                }
                // Past the end of the line: underline its start.
                None => (0, 1),
            };
            out[i] = Some(excerpt_at(&text, line, start, column));
        }
    }
    out
}

/// Cuts `line` around byte offset `start` and finds what to underline there: the
/// element's name when the column is at a tag, else the rest of the line.
fn excerpt_at(line: &str, number: u32, start: usize, column: u32) -> Excerpt {
    let before = line[..start].char_indices().rev().nth(EXCERPT_CONTEXT - 1);
    let from = before.map_or(0, |(b, _)| b);
    let to = line[start..]
        .char_indices()
        .nth(EXCERPT_CONTEXT)
        .map_or(line.len(), |(b, _)| start + b);
    let window = &line[from..to];
    let at = start - from;
    let rest = &window[at..];
    let len = if rest.starts_with('<') {
        rest.find(|c: char| c.is_whitespace() || c == '>')
            .map_or(rest.len(), |i| {
                if rest.as_bytes()[i] == b'>' {
                    i + 1
                } else {
                    i
                }
            })
    } else {
        rest.trim_end().len()
    };
    let mut text = String::with_capacity(window.len() + 6);
    if from > 0 {
        text.push('…');
    }
    let shift = text.len();
    // Control characters (NUL and friends) would garble a terminal.
    text.extend(window.chars().map(|c| {
        if c.is_control() && c != '\t' {
            '\u{fffd}'
        } else {
            c
        }
    }));
    // U+FFFD is longer than the one-byte control character it replaces: map the span
    // through the replacement.
    let mapped = |b: usize| -> usize {
        shift
            + window[..b]
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        '\u{fffd}'.len_utf8()
                    } else {
                        c.len_utf8()
                    }
                })
                .sum::<usize>()
    };
    let span = mapped(at)..mapped(at + len);
    if to < line.len() {
        text.push('…');
    }
    Excerpt {
        line: number,
        column,
        text,
        span,
    }
}

/// One validated input.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The input's name ([`Input::name`]).
    pub path: String,
    pub report: Report,
    /// The source line each finding points at, in `report.findings`' order; empty
    /// when excerpts were not asked for.
    pub excerpts: Vec<Option<Excerpt>>,
}

/// The most worker threads a batch starts, whatever it is asked for: past the
/// number of cores more threads only cost memory (each reserves a stack), and
/// thousands of them can exhaust a process's address space limit.
pub const MAX_THREADS: usize = 256;

/// How [`validate_all`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Worker threads (at least one, at most one per input and [`MAX_THREADS`]).
    pub threads: usize,
    /// Keep an [`Excerpt`] per finding (for compiler-style output); JSON and JUnit
    /// do not quote the source.
    pub excerpts: bool,
    /// Give each spawned worker a file descriptor table of its own (Linux's
    /// `unshare(CLONE_FILES)`): their opens and closes then take no shared lock, which
    /// two workers over thousands of small files otherwise contend for. A worker's
    /// table is a copy of every descriptor open when it starts, kept until the batch
    /// ends, so only a process that closes no descriptor on another thread meanwhile
    /// (a socket, a pipe's write end) should ask for it: the command line does, a
    /// server should not.
    pub own_fd_tables: bool,
    /// Run the workers as forked processes when that is possible (Linux, a process
    /// with one thread, at least [`FORK_FROM`] inputs), threads otherwise. Processes
    /// share nothing but three counters, and two of them get through a large batch
    /// faster than two threads (docs/performance.md). The environment variable
    /// `EIOA_WORKERS=threads` turns it off.
    pub processes: bool,
}

/// Inputs past the next one to hand on that workers may claim, at least (see
/// `in_parallel`).
const WINDOW: usize = 2048;

/// Inputs below which a batch keeps to threads: forking costs more than it saves.
pub const FORK_FROM: usize = 512;

/// Reads and validates one input. An oversized input becomes an `EIOA-X004` finding
/// without reaching the validator.
pub fn validate_input(
    validator: &Validator,
    input: &Input,
    with_excerpts: bool,
) -> Result<FileResult, InputError> {
    let Input::File(p) = input else {
        let path = input.name();
        let contents = input
            .read(validator.options().max_bytes)
            .map_err(|source| InputError::Read {
                path: path.clone(),
                source,
            })?;
        let (report, excerpts) = match contents {
            Contents::Document(bytes) => check(validator, None, &bytes, with_excerpts),
            Contents::TooLarge(size) => check(validator, Some(size), &[], with_excerpts),
        };
        return Ok(FileResult {
            path,
            report,
            excerpts,
        });
    };
    validate_file(validator, p, with_excerpts)
}

/// [`validate_input`] of a file, read into this thread's buffer.
fn validate_file(
    validator: &Validator,
    p: &Path,
    with_excerpts: bool,
) -> Result<FileResult, InputError> {
    let max = validator.options().max_bytes;
    let read = with_buffer(|bytes| {
        let too_large = read_file(p, max, bytes)?;
        Ok(check(validator, too_large, bytes, with_excerpts))
    });
    let path = path_name(p);
    let (report, excerpts) = read.map_err(|source| InputError::Read {
        path: path.clone(),
        source,
    })?;
    Ok(FileResult {
        path,
        report,
        excerpts,
    })
}

/// Runs `f` with this thread's read buffer: one allocation per worker, not one per
/// file. A buffer that grew past [`FIRST_READ`] for a large document is let go
/// afterwards, so a worker keeps at most that much between documents.
fn with_buffer<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut bytes) => {
            let out = f(&mut bytes);
            if bytes.capacity() > FIRST_READ {
                *bytes = Vec::new();
            }
            out
        }
        // Only a validation started from inside another could get here.
        Err(_) => f(&mut Vec::new()),
    })
}

/// Validates what was read of one input: `bytes`, or an input over the limit
/// (`too_large`, whose bytes are not looked at).
fn check(
    validator: &Validator,
    too_large: Option<Size>,
    bytes: &[u8],
    with_excerpts: bool,
) -> (Report, Vec<Option<Excerpt>>) {
    let max = validator.options().max_bytes;
    if let Some(size) = too_large {
        return (
            Report {
                findings: vec![self::too_large(size, max)],
            },
            Vec::new(),
        );
    }
    let report = validator.validate(bytes);
    let excerpts = if with_excerpts {
        excerpts(bytes, &report.findings)
    } else {
        Vec::new()
    };
    (report, excerpts)
}

fn too_large(size: Size, max: usize) -> Finding {
    crate::validator::too_large(
        match size {
            Size::Exactly(n) => Some(n),
            Size::MoreThan(_) => None,
        },
        max,
    )
}

/// Validates `inputs` on up to `opts.threads` threads (each reads its own inputs, so
/// reading is parallel too) and returns the results in the inputs' order.
///
/// The first input (in that order) that cannot be read ends the run with its error;
/// no input after it is started.
pub fn validate_all(
    validator: &Validator,
    inputs: &[Input],
    opts: BatchOptions,
) -> Result<Vec<FileResult>, InputError> {
    let mut files = Vec::with_capacity(inputs.len());
    validate_all_each(validator, inputs, opts, &mut |f| {
        files.push(f);
        ControlFlow::Continue(())
    })?;
    Ok(files)
}

/// [`validate_all`], handing each result to `each` as soon as every input before it
/// has had its result, instead of keeping them: a report written as it goes holds
/// only what it still needs. Results before the first input that cannot be read are
/// handed on before that error is returned. `Ok` also when `each` stopped the batch.
pub fn validate_all_each(
    validator: &Validator,
    inputs: &[Input],
    opts: BatchOptions,
    each: &mut Each<'_>,
) -> Result<(), InputError> {
    inputs_in_parallel(validator, inputs, opts, each).map(drop)
}

/// [`validate_all_each`], saying whether `each` stopped the batch.
fn inputs_in_parallel(
    validator: &Validator,
    inputs: &[Input],
    opts: BatchOptions,
    each: &mut Each<'_>,
) -> Result<ControlFlow<()>, InputError> {
    in_parallel(
        inputs.len(),
        opts,
        |i| validate_input(validator, &inputs[i], opts.excerpts),
        |i| inputs[i].name(),
        each,
    )
    .map_err(|stopped| stopped.error)
}

/// [`collect`] then [`validate_all`], for the arguments of a command line, without
/// asking the file system about each argument before a worker opens it: arguments are
/// taken as files, and only when a worker finds a directory among them does the run
/// go on the long way from there. With 20,000 file arguments that saves as many
/// `stat` calls on the one thread that lists the inputs, the serial part of a
/// parallel run. Results and errors are those of [`collect`] and [`validate_all`].
pub fn validate_args(
    validator: &Validator,
    args: &[impl AsRef<OsStr> + Sync],
    opts: BatchOptions,
) -> Result<Vec<FileResult>, InputError> {
    let mut files = Vec::with_capacity(args.len());
    validate_args_each(validator, args, opts, &mut |f| {
        files.push(f);
        ControlFlow::Continue(())
    })?;
    Ok(files)
}

/// [`validate_args`], handing each result on as [`validate_all_each`] does.
pub fn validate_args_each(
    validator: &Validator,
    args: &[impl AsRef<OsStr> + Sync],
    opts: BatchOptions,
    each: &mut Each<'_>,
) -> Result<(), InputError> {
    // Standard input can be read only once: no second run with it.
    if args.iter().any(|a| a.as_ref() == "-") {
        return the_long_way(validator, args, 0, Vec::new(), opts, each);
    }
    let mut handed = 0;
    let run = in_parallel(
        args.len(),
        opts,
        |i| validate_file(validator, Path::new(args[i].as_ref()), opts.excerpts),
        |i| path_name(Path::new(args[i].as_ref())),
        &mut |f| {
            handed += 1;
            each(f)
        },
    );
    match run {
        Ok(_) => Ok(()),
        // A directory to list (reading one fails), or an input that cannot be read:
        // every argument before it was a file that was read, as the long way would
        // have read it, so the long way goes on from there, with what the workers had
        // already read after it (a pipe can be read only once).
        Err(stopped) => the_long_way(validator, args, handed, stopped.later, opts, each),
    }
}

/// [`collect`] and [`validate_all_each`] for `args[from..]`, an argument at a time in
/// order: each run of arguments that are not directories is one batch, each directory
/// another, so the results before an argument that cannot be listed are handed on
/// before its error, as for an input that cannot be read. `known` holds results of
/// arguments (by index in `args`) already read and checked: they are used, not read
/// again.
fn the_long_way(
    validator: &Validator,
    args: &[impl AsRef<OsStr> + Sync],
    from: usize,
    known: Vec<(usize, FileResult)>,
    opts: BatchOptions,
    each: &mut Each<'_>,
) -> Result<(), InputError> {
    let mut known: std::collections::HashMap<usize, FileResult> = known.into_iter().collect();
    let mut at = from;
    while at < args.len() {
        let mut inputs = Vec::new();
        let mut have: Vec<std::sync::Mutex<Option<FileResult>>> = Vec::new();
        let mut stop = None;
        while at < args.len() {
            let arg = args[at].as_ref();
            if let Some(f) = known.remove(&at) {
                inputs.push(Input::File(PathBuf::from(arg)));
                have.push(std::sync::Mutex::new(Some(f)));
            } else if arg == "-" {
                inputs.push(Input::Stdin);
                have.push(std::sync::Mutex::new(None));
            } else {
                match std::fs::metadata(arg) {
                    Ok(meta) if meta.is_dir() => break,
                    Ok(_) => {
                        inputs.push(Input::File(PathBuf::from(arg)));
                        have.push(std::sync::Mutex::new(None));
                    }
                    Err(source) => {
                        stop = Some(InputError::Read {
                            path: PathBuf::from(arg).display().to_string(),
                            source,
                        });
                        break;
                    }
                }
            }
            at += 1;
        }
        if !inputs.is_empty() {
            let flow = in_parallel(
                inputs.len(),
                opts,
                |i| match have[i].lock().map(|mut h| h.take()) {
                    Ok(Some(f)) => Ok(f),
                    _ => validate_input(validator, &inputs[i], opts.excerpts),
                },
                |i| inputs[i].name(),
                each,
            )
            .map_err(|stopped| stopped.error)?;
            if flow.is_break() {
                return Ok(());
            }
        }
        if let Some(e) = stop {
            return Err(e);
        }
        if at < args.len() {
            // A directory.
            let files = collect(&args[at..=at])?;
            if inputs_in_parallel(validator, &files, opts, each)?.is_break() {
                return Ok(());
            }
            at += 1;
        }
    }
    Ok(())
}

/// What a worker did: each input it took, by index, and its outcome.
pub(crate) type Done = Vec<(usize, Result<FileResult, InputError>)>;

/// Where a batch hands its results, in input order. `Break` stops the batch: no input
/// is started after it, and nothing more is handed on (a report whose reader went
/// away, `| head`).
pub type Each<'a> = dyn FnMut(FileResult) -> ControlFlow<()> + 'a;

/// Runs `one` for inputs `0..n` on up to `threads` workers (threads, or forked
/// processes when `opts.processes` allows), each taking the next few indices from a
/// shared counter (no channel, no lock), and hands the results to `each` in order as
/// they come (see [`InOrder`]). `name` gives input `i`'s name as `one` gives it, for
/// results that worker processes send back without their names.
///
/// The first input (in order) that fails ends the run: no input after it is started,
/// and every input before it is finished and handed on before its error is returned,
/// so what is reported does not depend on the workers' timing.
fn in_parallel(
    n: usize,
    opts: BatchOptions,
    one: impl Fn(usize) -> Result<FileResult, InputError> + Sync,
    name: impl Fn(usize) -> String,
    each: &mut Each<'_>,
) -> Result<ControlFlow<()>, Stopped> {
    let threads = opts.threads.clamp(1, n.clamp(1, MAX_THREADS));
    // Indices are claimed a few at a time: the counter's cache line then moves
    // between cores once per claim, not once per document. A claim is one index
    // until a worker's share is 128 or more, and never more than 1/64 of it, so the
    // workers still finish together.
    let claim = (n / (threads * 64)).clamp(1, 16);
    // How far past the next input to hand on a worker may claim: behind one slow
    // input (a pipe nobody writes to yet, a huge file) the others stop there, so the
    // results waiting for it stay a few hundred kilobytes, whatever the batch's size.
    let window = (threads * claim * 8).max(WINDOW);
    let local = (
        AtomicUsize::new(0),
        AtomicUsize::new(usize::MAX),
        AtomicUsize::new(0),
    );
    // Worker processes keep the three counters in memory they share.
    #[cfg(target_os = "linux")]
    let shared = (opts.processes
        && threads > 1
        && n >= FORK_FROM
        && std::env::var_os("EIOA_WORKERS").is_none_or(|w| w != "threads")
        && crate::procs::available())
    .then(crate::procs::Shared::new)
    .flatten();
    #[cfg(target_os = "linux")]
    let (next, first_stop, handed) = match &shared {
        Some(s) => (s.next(), s.first_stop(), s.handed()),
        None => (&local.0, &local.1, &local.2),
    };
    #[cfg(not(target_os = "linux"))]
    let (next, first_stop, handed) = (&local.0, &local.1, &local.2);
    // A worker hands the results of each claim to its sink, which takes them; with
    // `true` (nothing to hand on), it is asked to wait a little for the inputs before
    // the window to be handed on.
    let work = |sink: &mut dyn FnMut(&mut Done, bool)| {
        let mut done: Done = Vec::with_capacity(claim);
        loop {
            loop {
                let at = next.load(Ordering::Relaxed);
                if at >= n
                    || at > first_stop.load(Ordering::Relaxed)
                    || at < handed.load(Ordering::Relaxed).saturating_add(window)
                {
                    break;
                }
                sink(&mut done, true);
            }
            let from = next.fetch_add(claim, Ordering::Relaxed);
            let mut stop = false;
            for i in from..from.saturating_add(claim) {
                // Every index up to a failure is still done, whoever claimed it.
                if i >= n || i > first_stop.load(Ordering::Relaxed) {
                    stop = true;
                    break;
                }
                let step = one(i);
                if step.is_err() {
                    first_stop.fetch_min(i, Ordering::Relaxed);
                }
                done.push((i, step));
            }
            sink(&mut done, false);
            if stop {
                break;
            }
        }
    };
    let mut order = InOrder::new(n, each, handed, first_stop);
    #[cfg(target_os = "linux")]
    if shared.is_some() {
        // Forked before this process works itself, so each child starts from the same
        // state; a fork that fails leaves the batch to those that could start, and if
        // none could, to threads. Between its own claims this process takes what the
        // children have sent, so their results are handed on while the batch runs. A
        // child still running when this unwinds is killed and reaped (`Child`'s drop).
        let mut children: Vec<crate::procs::Child> = Vec::with_capacity(threads - 1);
        for _ in 1..threads {
            match crate::procs::spawn(&work, &children) {
                Some(child) => children.push(child),
                None => break,
            }
        }
        if !children.is_empty() {
            work(&mut |done: &mut Done, wait: bool| {
                order.put_all(done);
                if wait {
                    crate::procs::Child::wait_any(&children, 1);
                }
                for child in children.iter_mut() {
                    child.poll(n, &name, &mut |i, r| order.put(i, r));
                }
            });
            crate::procs::Child::finish(children, n, &name, &mut |i, r| order.put(i, r));
            return order.finish();
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = &name;
    if threads == 1 {
        // Alone, it never waits: every input before its next one is handed on.
        work(&mut |done: &mut Done, _| order.put_all(done));
    } else {
        // The calling thread is a worker too: it has the validator's compiled schema
        // already, so one compilation fewer before the batch gets going. With their own
        // descriptor tables, it starts once the others have them, so that none of them
        // copies a file it has open. A thread that cannot be spawned (a pids limit, a
        // huge --threads) leaves the batch to those that could. The others send each
        // claim's results to it, and it hands them on between its own claims.
        let (ready, started) = std::sync::mpsc::channel::<()>();
        let (results, received) = std::sync::mpsc::channel::<Done>();
        let work = &work;
        std::thread::scope(|s| {
            let mut workers = Vec::with_capacity(threads - 1);
            for _ in 1..threads {
                let ready = ready.clone();
                let results = results.clone();
                let spawned = std::thread::Builder::new().spawn_scoped(s, move || {
                    if opts.own_fd_tables {
                        own_fd_table();
                    }
                    // The caller may have stopped waiting; nothing to tell then.
                    let _ = ready.send(());
                    work(&mut |done: &mut Done, wait: bool| {
                        if wait {
                            std::thread::sleep(std::time::Duration::from_micros(500));
                        } else {
                            // Only a caller that is unwinding has stopped listening.
                            let _ = results.send(std::mem::take(done));
                        }
                    });
                });
                match spawned {
                    Ok(worker) => workers.push(worker),
                    Err(_) => break,
                }
            }
            drop((ready, results));
            // Every spawned worker sends once before it works (or its sender is gone
            // with it), so this cannot wait for ever.
            for _ in 0..workers.len() {
                let _ = started.recv();
            }
            work(&mut |done: &mut Done, wait: bool| {
                order.put_all(done);
                if wait {
                    let pause = std::time::Duration::from_millis(1);
                    if let Ok(mut theirs) = received.recv_timeout(pause) {
                        order.put_all(&mut theirs);
                    }
                }
                while let Ok(mut theirs) = received.try_recv() {
                    order.put_all(&mut theirs);
                }
            });
            // Until every worker has finished (and dropped its sender).
            for mut theirs in received.iter() {
                order.put_all(&mut theirs);
            }
            for w in workers {
                if let Err(panic) = w.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
    order.finish()
}

/// Results put back in input order as they arrive from the workers, each handed on
/// as soon as every input before it has been: only results that arrived ahead of an
/// earlier one are kept, a few claims' worth while the workers keep pace.
struct InOrder<'a> {
    n: usize,
    /// The next input to hand on.
    next: usize,
    /// Results of inputs `next..`, by their distance from `next`.
    ahead: std::collections::VecDeque<Option<Result<FileResult, InputError>>>,
    each: &'a mut Each<'a>,
    /// Where the workers see `next`, for the window they claim within.
    handed: &'a AtomicUsize,
    /// Where the workers see the first failure; also where `each` stops them.
    first_stop: &'a AtomicUsize,
    /// `each` said to stop.
    broke: bool,
    /// The first failure, in input order: nothing after it is handed on.
    failed: Option<InputError>,
    /// Inputs after the failure that were read and checked all the same (a worker
    /// had started them): kept for [`Stopped::later`].
    later: Vec<(usize, FileResult)>,
}

/// How a batch stopped at its first failing input.
#[derive(Debug)]
pub(crate) struct Stopped {
    pub(crate) error: InputError,
    /// Inputs after it that workers had already read and checked, by index.
    pub(crate) later: Vec<(usize, FileResult)>,
}

impl<'a> InOrder<'a> {
    fn new(
        n: usize,
        each: &'a mut Each<'a>,
        handed: &'a AtomicUsize,
        first_stop: &'a AtomicUsize,
    ) -> Self {
        InOrder {
            n,
            next: 0,
            ahead: std::collections::VecDeque::new(),
            each,
            handed,
            first_stop,
            broke: false,
            failed: None,
            later: Vec::new(),
        }
    }

    fn put_all(&mut self, done: &mut Done) {
        for (i, result) in done.drain(..) {
            self.put(i, result);
        }
    }

    /// Takes input `i`'s result. A result for an input already handed on, or sent
    /// twice, is a worker that did not do what it was given: it panics.
    fn put(&mut self, i: usize, result: Result<FileResult, InputError>) {
        if self.broke {
            return;
        }
        if self.failed.is_some() {
            if let Ok(f) = result {
                self.later.push((i, f));
            }
            return;
        }
        assert!(
            i >= self.next && i < self.n,
            "the batch got input {i} again or out of range"
        );
        let at = i - self.next;
        if at >= self.ahead.len() {
            self.ahead.resize_with(at + 1, || None);
        }
        assert!(self.ahead[at].is_none(), "the batch got input {i} twice");
        self.ahead[at] = Some(result);
        while let Some(Some(_)) = self.ahead.front() {
            let Some(Some(result)) = self.ahead.pop_front() else {
                unreachable!("the front was just looked at")
            };
            self.next += 1;
            self.handed.store(self.next, Ordering::Relaxed);
            match result {
                Ok(f) => {
                    if (self.each)(f).is_break() {
                        // No input is started after this one; what is on its way is
                        // dropped.
                        self.broke = true;
                        self.first_stop.fetch_min(self.next, Ordering::Relaxed);
                        self.ahead.clear();
                        return;
                    }
                }
                Err(e) => {
                    self.failed = Some(e);
                    let next = self.next;
                    for (at, result) in self.ahead.drain(..).enumerate() {
                        if let Some(Ok(f)) = result {
                            self.later.push((next + at, f));
                        }
                    }
                    return;
                }
            }
        }
    }

    /// The first failure, or `Ok` when every input was handed on. An input missing
    /// before any failure is a result lost on the way: it panics, never a short report.
    fn finish(self) -> Result<ControlFlow<()>, Stopped> {
        if self.broke {
            return Ok(ControlFlow::Break(()));
        }
        if let Some(error) = self.failed {
            return Err(Stopped {
                error,
                later: self.later,
            });
        }
        assert_eq!(
            self.next, self.n,
            "the batch lost the result of input {}",
            self.next
        );
        Ok(ControlFlow::Continue(()))
    }
}

/// Gives the calling worker thread a file descriptor table of its own (Linux's
/// `unshare(CLONE_FILES)`; elsewhere nothing). Threads share one table, and every
/// `open` and `close` takes its lock: two workers opening thousands of small files
/// contend for it, and with a shared table every `read` also counts references on
/// the file. A worker opens and closes its files itself and hands no descriptor on;
/// what the copy means for the rest of the process is on
/// [`BatchOptions::own_fd_tables`]. If the call fails, the worker shares the table as
/// before.
#[allow(unsafe_code)]
fn own_fd_table() {
    #[cfg(target_os = "linux")]
    // SAFETY: unshare(2) with CLONE_FILES only copies this thread's descriptor table;
    // every open descriptor stays valid in it and refers to the same open file.
    unsafe {
        libc::unshare(libc::CLONE_FILES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(line: u32, column: u32) -> Finding {
        Finding {
            rule: "EIOA-S001".into(),
            severity: Severity::Error,
            line,
            column,
            path: None,
            message: String::new(),
            hint: None,
            kind: None,
        }
    }

    #[test]
    fn a_list_is_lines_or_nul_separated_names() {
        let names = |list: &[u8]| -> Vec<String> {
            list_entries(list)
                .unwrap()
                .iter()
                .map(|e| e.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(b"a.xml\nb c.xml\r\n\n d.xml \nlast"),
            ["a.xml", "b c.xml", " d.xml ", "last"]
        );
        // With a NUL anywhere, lines are not entries: a name may hold a line break.
        assert_eq!(names(b"a\nb.xml\0c.xml\r\0\0"), ["a\nb.xml", "c.xml\r"]);
        assert!(names(b"").is_empty());
        assert!(names(b"\n\r\n\n").is_empty());
        assert_eq!(names(b"\0"), Vec::<String>::new());
    }

    #[cfg(unix)]
    proptest::proptest! {
        /// The split matches the plain definition on any bytes: separated by NUL when
        /// there is one, else by line feeds less a trailing carriage return, empty
        /// entries dropped.
        #[test]
        fn a_list_splits_as_defined(list in proptest::collection::vec(
            proptest::sample::select(vec![b'a', b'/', b'\n', b'\r', 0u8, 0xe9]),
            0..40,
        )) {
            use std::os::unix::ffi::OsStrExt;
            let nul = list.contains(&0);
            let expected: Vec<&[u8]> = list
                .split(|b| *b == if nul { 0 } else { b'\n' })
                .map(|e| if !nul { e.strip_suffix(b"\r").unwrap_or(e) } else { e })
                .filter(|e| !e.is_empty())
                .collect();
            let got: Vec<&[u8]> = list_entries(&list).unwrap().iter().map(|e| e.as_bytes()).collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_listed_name_keeps_its_bytes() {
        let list = b"caf\xe9.xml\n";
        let entries = list_entries(list).unwrap();
        assert_eq!(
            std::os::unix::ffi::OsStrExt::as_bytes(entries[0]),
            b"caf\xe9.xml"
        );
    }

    fn one(source: &str, line: u32, column: u32) -> Excerpt {
        excerpts(source.as_bytes(), &[finding(line, column)])
            .pop()
            .flatten()
            .unwrap()
    }

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(rel)
    }

    fn batch(threads: usize) -> BatchOptions {
        BatchOptions {
            threads,
            excerpts: true,
            own_fd_tables: threads > 1,
            processes: threads > 1,
        }
    }

    fn result(i: usize) -> Result<FileResult, InputError> {
        Ok(FileResult {
            path: i.to_string(),
            report: Report { findings: vec![] },
            excerpts: vec![],
        })
    }

    /// Many inputs, so that workers claim several at a time: results stay in order,
    /// the first failure in order is the one reported, and every input before it ran.
    #[test]
    fn claims_of_several_inputs_keep_order_and_the_first_failure() {
        use std::sync::atomic::AtomicBool;
        let n = 10_000;
        for threads in [1, 2, 4] {
            let opts = BatchOptions {
                threads,
                excerpts: false,
                own_fd_tables: true,
                processes: true,
            };
            let mut paths: Vec<usize> = Vec::new();
            let flow = in_parallel(n, opts, result, |i| i.to_string(), &mut |f| {
                paths.push(f.path.parse().unwrap());
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(flow, ControlFlow::Continue(()));
            assert_eq!(paths, (0..n).collect::<Vec<_>>(), "{threads} threads");

            for fail_at in [0usize, 17, 4_099, 9_999] {
                let ran: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
                let mut handed = Vec::new();
                let got = in_parallel(
                    n,
                    opts,
                    |i| {
                        // Inputs in the claims just before the failing one are slow, so
                        // other workers still hold them when the failure is recorded.
                        if (fail_at.saturating_sub(48)..fail_at.saturating_sub(16)).contains(&i) {
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                        ran[i].store(true, Ordering::Relaxed);
                        if i == fail_at || i == fail_at + 3 {
                            return Err(InputError::Read {
                                path: i.to_string(),
                                source: std::io::Error::other("no"),
                            });
                        }
                        result(i)
                    },
                    |i| i.to_string(),
                    &mut |f| {
                        handed.push(f.path);
                        ControlFlow::Continue(())
                    },
                );
                let Err(err) = got else {
                    panic!("no failure reported")
                };
                assert_eq!(err.error.path(), fail_at.to_string(), "{threads} threads");
                // Every input before the failure was handed on, in order, and none after.
                let before: Vec<String> = (0..fail_at).map(|i| i.to_string()).collect();
                assert_eq!(handed, before, "{threads} threads");
                assert!(
                    ran[..fail_at].iter().all(|r| r.load(Ordering::Relaxed)),
                    "an input before the failure at {fail_at} did not run ({threads} threads)"
                );
            }
        }
    }

    /// Results put back in order from whichever worker sends them, with what a worker
    /// may get wrong refused.
    #[test]
    fn results_are_handed_on_in_order_and_a_lost_one_is_refused() {
        let ok = |i: usize| (i, result(i));
        let failed = |i: usize| {
            (
                i,
                Err(InputError::Read {
                    path: i.to_string(),
                    source: std::io::Error::other("no"),
                }),
            )
        };
        // Sends `arrivals` in that order; the names handed on, and the outcome.
        let run = |arrivals: Done, n: usize| {
            let mut handed: Vec<String> = Vec::new();
            let mut each = |f: FileResult| {
                handed.push(f.path);
                ControlFlow::Continue(())
            };
            let (published, first_stop) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
            let mut order = InOrder::new(n, &mut each, &published, &first_stop);
            for (i, r) in arrivals {
                order.put(i, r);
            }
            let end = order.finish().map_err(|e| {
                let later: Vec<usize> = e.later.iter().map(|(i, _)| *i).collect();
                (e.error.path().to_string(), later)
            });
            (handed, end)
        };
        let arrivals = vec![ok(2), ok(0), ok(4), ok(1), ok(3), ok(7), ok(5), ok(6)];
        let (handed, end) = run(arrivals, 8);
        assert_eq!(handed, ["0", "1", "2", "3", "4", "5", "6", "7"]);
        assert_eq!(end, Ok(ControlFlow::Continue(())));
        assert_eq!(run(vec![], 0), (vec![], Ok(ControlFlow::Continue(()))));
        // The first failure in input order, whatever comes after it or is missing
        // there; everything before it is handed on first.
        let (handed, end) = run(vec![ok(0), failed(3), ok(5), failed(2), ok(1)], 9);
        assert_eq!(handed, ["0", "1"]);
        // What was checked after it is kept (for the long way), failures not.
        assert_eq!(end, Err(("2".to_string(), vec![5])));
        let (_, end) = run(vec![ok(0), failed(1), ok(4), ok(2)], 9);
        assert_eq!(end, Err(("1".to_string(), vec![4, 2])));
        // A consumer that stops the batch: nothing more is handed on, and workers are
        // told to start no input after the last one handed on.
        let mut handed = Vec::new();
        let mut each = |f: FileResult| {
            handed.push(f.path);
            if handed.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let (published, first_stop) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
        let mut order = InOrder::new(9, &mut each, &published, &first_stop);
        for i in [1, 0, 3, 2, 4] {
            order.put(
                i,
                Ok(FileResult {
                    path: i.to_string(),
                    report: Report::default(),
                    excerpts: vec![],
                }),
            );
        }
        assert_eq!(order.finish().unwrap(), ControlFlow::Break(()));
        assert_eq!(handed, ["0", "1"]);
        assert_eq!(first_stop.load(Ordering::Relaxed), 2);
        // A result missing before any failure, one sent twice (before or after it was
        // handed on), or one past the batch: a batch that lost track, never a short
        // report.
        let lost: [(Done, usize); 4] = [
            (vec![ok(0), ok(2), ok(3)], 4),
            (vec![ok(0), ok(2), ok(2), ok(1)], 3),
            (vec![ok(0), ok(1), ok(0)], 2),
            (vec![ok(0), ok(5)], 3),
        ];
        for (arrivals, n) in lost {
            let caught =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(arrivals, n)));
            assert!(caught.is_err(), "{n} inputs");
        }
    }

    /// Behind one slow input the other workers stop at the window: what waits to be
    /// handed on stays bounded, however large the batch.
    #[test]
    fn workers_stop_at_the_window_behind_a_slow_input() {
        let n = 50_000;
        // The furthest input started while input 0 was still running.
        for threads in [2, 4] {
            let slow = std::sync::atomic::AtomicBool::new(true);
            let while_slow = AtomicUsize::new(0);
            let opts = BatchOptions {
                threads,
                excerpts: false,
                own_fd_tables: false,
                processes: false,
            };
            in_parallel(
                n,
                opts,
                |i| {
                    if i == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        slow.store(false, Ordering::SeqCst);
                    } else if slow.load(Ordering::SeqCst) {
                        while_slow.fetch_max(i, Ordering::SeqCst);
                    }
                    result(i)
                },
                |i| i.to_string(),
                &mut |_| ControlFlow::Continue(()),
            )
            .unwrap()
            .is_continue()
            .then_some(())
            .expect("the batch ran to its end");
            let claim = (n / (threads * 64)).clamp(1, 16);
            let bound = WINDOW.max(threads * claim * 8) + threads * claim;
            let got = while_slow.load(Ordering::SeqCst);
            assert!(
                got > 0 && got < bound,
                "{threads} threads: input {got} started while input 0 ran (bound {bound})"
            );
        }
    }

    /// What the first pass over the arguments already read after a directory is used,
    /// not read again (a pipe gives its bytes once): here a name that no longer exists.
    #[test]
    fn the_long_way_uses_what_was_already_read() {
        let v = Validator::embedded().unwrap();
        let dir = std::env::temp_dir().join(format!("eioa-long-way-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.xml"), "<a/>").unwrap();
        let args = [
            dir.join("sub").into_os_string(),
            dir.join("gone.xml").into_os_string(),
        ];
        let read_before = FileResult {
            path: "gone.xml, as read before".into(),
            report: Report::default(),
            excerpts: vec![],
        };
        let opts = BatchOptions {
            threads: 2,
            excerpts: false,
            own_fd_tables: false,
            processes: false,
        };
        let mut handed = Vec::new();
        the_long_way(&v, &args, 0, vec![(1, read_before)], opts, &mut |f| {
            handed.push(f.path);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(handed.len(), 2, "{handed:?}");
        assert!(handed[0].ends_with("a.xml"), "{handed:?}");
        assert_eq!(handed[1], "gone.xml, as read before");
        // Without it, the name is looked up, and its error comes after the directory.
        let mut handed = Vec::new();
        let err = the_long_way(&v, &args, 0, vec![], opts, &mut |f| {
            handed.push(f.path);
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(err.path().ends_with("gone.xml"), "{}", err.path());
        assert_eq!(handed.len(), 1, "{handed:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file is read whole up to the limit, and one byte past it is "too large",
    /// around the first read's size and with limits below it.
    #[test]
    fn files_are_read_up_to_the_limit_and_no_further() {
        let dir = std::env::temp_dir().join(format!("eioa-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f.xml");
        let mut bytes = Vec::new();
        for (max, size) in [
            (100, 99),
            (100, 100),
            (100, 101),
            (FIRST_READ, FIRST_READ - 1),
            (FIRST_READ, FIRST_READ),
            (FIRST_READ, FIRST_READ + 1),
            (FIRST_READ - 1, FIRST_READ),
            (3 * FIRST_READ, 2 * FIRST_READ + 7),
            (3 * FIRST_READ, 3 * FIRST_READ + 1),
        ] {
            let content: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            std::fs::write(&file, &content).unwrap();
            let got = read_file(&file, max, &mut bytes).unwrap();
            if size <= max {
                assert_eq!(got, None, "max {max}, size {size}");
                assert!(bytes == content, "max {max}, size {size}: bytes differ");
            } else {
                assert_eq!(
                    got,
                    Some(Size::Exactly(size as u64)),
                    "max {max}, size {size}"
                );
            }
        }
        // A directory is the read's own error, which sends a batch the long way.
        let err = read_file(&dir, 100, &mut bytes).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn results_keep_the_inputs_order_and_the_first_unreadable_input_is_named() {
        let v = Validator::embedded().unwrap();
        let valid = collect(&[fixture("valid")]).unwrap();
        assert!(valid.len() >= 4);
        for threads in [1, 2, 4] {
            let got = validate_all(&v, &valid, batch(threads)).unwrap();
            let names: Vec<String> = got.iter().map(|f| f.path.clone()).collect();
            let want: Vec<String> = valid.iter().map(Input::name).collect();
            assert_eq!(names, want);
        }
        let mut inputs = valid.clone();
        inputs.insert(1, Input::File(fixture("no-such-1.xml")));
        inputs.push(Input::File(fixture("no-such-2.xml")));
        for threads in [1, 2, 4] {
            let e = validate_all(&v, &inputs, batch(threads)).unwrap_err();
            assert!(e.path().ends_with("no-such-1.xml"), "{e}");
            assert!(matches!(e, InputError::Read { .. }));
        }
    }

    /// Command-line arguments give what listing them first gives: file arguments, a
    /// directory among them, and the error of an unreadable one.
    #[test]
    fn arguments_validate_as_their_listing_does() {
        let v = Validator::embedded().unwrap();
        let names =
            |r: Result<Vec<FileResult>, InputError>| -> Result<Vec<(String, usize)>, String> {
                r.map(|fs| {
                    fs.iter()
                        .map(|f| (f.path.clone(), f.report.findings.len()))
                        .collect()
                })
                .map_err(|e| e.path().to_string())
            };
        let file = |rel: &str| fixture(rel).into_os_string();
        let valid: Vec<_> = collect(&[fixture("valid")])
            .unwrap()
            .into_iter()
            .map(|i| match i {
                Input::File(p) => p.into_os_string(),
                Input::Stdin => unreachable!(),
            })
            .collect();
        let cases: Vec<Vec<std::ffi::OsString>> = vec![
            valid.clone(),
            vec![
                valid[0].clone(),
                fixture("invalid").into_os_string(),
                valid[1].clone(),
            ],
            vec![valid[0].clone(), file("no-such.xml"), valid[1].clone()],
            vec![fixture("no-such-dir").into_os_string(), valid[0].clone()],
        ];
        for args in cases {
            for threads in [1, 2] {
                let want = collect(&args).and_then(|i| validate_all(&v, &i, batch(threads)));
                let got = validate_args(&v, &args, batch(threads));
                assert_eq!(names(got), names(want), "{args:?}");
            }
        }
    }

    #[test]
    fn reading_stops_one_byte_past_the_limit() {
        let endless = std::io::repeat(b'<');
        assert_eq!(
            read_bounded(endless, 1000).unwrap(),
            Contents::TooLarge(Size::MoreThan(1000))
        );
        assert_eq!(
            read_bounded(&b"<a/>"[..], 4).unwrap(),
            Contents::Document(b"<a/>".to_vec())
        );
        assert_eq!(
            read_bounded(&b"<a/>"[..], 3).unwrap(),
            Contents::TooLarge(Size::MoreThan(3))
        );
    }

    #[test]
    fn a_short_line_is_quoted_whole_with_the_tag_name_underlined() {
        let e = one("<a>\n    <personnummer>YYYY</personnummer>\n</a>", 2, 5);
        assert_eq!(e.text, "    <personnummer>YYYY</personnummer>");
        assert_eq!(&e.text[e.span.clone()], "<personnummer>");
        assert_eq!((e.line, e.column), (2, 5));
    }

    #[test]
    fn a_long_line_is_cut_around_the_column() {
        let line = format!(
            "<r>{}<b x='1'/>{}</r>",
            "a".repeat(500_000),
            "z".repeat(500_000)
        );
        let column = 500_000 + 3 + 1;
        let e = one(&line, 1, column);
        assert!(
            e.text.starts_with('…') && e.text.ends_with('…'),
            "{}",
            e.text
        );
        assert_eq!(e.text.chars().count(), 2 * EXCERPT_CONTEXT + 2);
        assert_eq!(&e.text[e.span.clone()], "<b");
        assert_eq!(e.column, column);
        // A text value underlined to the end of the line stops at the cut.
        let e = one(&line, 1, 4);
        assert_eq!(e.text.chars().count(), 3 + EXCERPT_CONTEXT + 1);
        assert_eq!(e.span, 3..3 + EXCERPT_CONTEXT);
    }

    #[test]
    fn several_findings_on_one_line_each_get_their_place() {
        let line = format!("{}<x>{}<y>", "é".repeat(300), "å".repeat(300));
        let fs = [finding(1, 301), finding(1, 1), finding(1, 604)];
        let ex = excerpts(line.as_bytes(), &fs);
        let cols: Vec<u32> = ex.iter().map(|e| e.as_ref().unwrap().column).collect();
        assert_eq!(cols, [301, 1, 604]);
        let e = ex[0].as_ref().unwrap();
        assert_eq!(&e.text[e.span.clone()], "<x>");
        let e = ex[2].as_ref().unwrap();
        assert_eq!(&e.text[e.span.clone()], "<y>");
        assert!(ex[1].as_ref().unwrap().text.len() < 4 * (EXCERPT_CONTEXT + 2));
    }

    #[test]
    fn control_characters_are_replaced_and_the_span_follows() {
        let e = one("\u{1b}[31m\u{0}<a>", 1, 7);
        assert_eq!(e.text, "\u{fffd}[31m\u{fffd}<a>");
        assert_eq!(&e.text[e.span.clone()], "<a>");
    }

    #[test]
    fn whole_document_findings_and_lines_past_the_end_have_no_excerpt() {
        let ex = excerpts(b"<a/>", &[finding(0, 0), finding(7, 1)]);
        assert_eq!(ex, [None, None]);
        // A column past the end of its line underlines the line's start.
        assert_eq!(one("<a>\n", 1, 40).column, 1);
    }
}
