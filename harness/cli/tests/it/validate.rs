//! `eioa validate` within bounds (issue 11, items 2, 4 and 5): what it reads, what it
//! walks, and what it prints. Each test runs the real binary.

use super::{root, text, TODAY};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A limit on the child's data (heap and private mappings, `RLIMIT_DATA`): an
/// unbounded read, or keeping every input, cannot fit in it; a bounded run needs a
/// fifth of it. Unlike an address-space limit it does not count the address space
/// malloc reserves per thread, so it holds on machines with many cores too.
const DATA_LIMIT: u64 = 128 << 20;

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `eioa` in `dir` with a deadline, optionally under a data limit (through
/// util-linux's `prlimit`), with stdout and stderr in files so that a large output
/// cannot stall the child.
fn run(dir: &Path, args: &[&str], stdin: Stdio, limit: Option<u64>, as_user: bool) -> Run {
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = match limit {
        Some(bytes) => {
            let mut c = Command::new("prlimit");
            c.arg(format!("--data={bytes}"))
                .arg("--")
                .arg(env!("CARGO_BIN_EXE_eioa"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_eioa")),
    };
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("EIOA_SCHEMA_DIR")
        // Out of memory, a backtrace would need memory too.
        .env_remove("RUST_BACKTRACE")
        .stdin(stdin)
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap());
    if as_user {
        // `nobody`: permissions that root ignores apply to it.
        cmd.uid(65534).gid(65534);
    }
    let mut child = cmd
        .spawn()
        .expect("run eioa (prlimit comes with util-linux)");
    let status = wait_or_kill(
        &mut child,
        Duration::from_secs(120),
        &format!("eioa {args:?} did not finish in time"),
    );
    Run {
        code: status.code(),
        stdout: std::fs::read(out.path()).unwrap(),
        stderr: text(&std::fs::read(err.path()).unwrap()),
    }
}

/// Waits for `child` at most `limit`; past it, kills it and fails with `why`.
fn wait_or_kill(
    child: &mut std::process::Child,
    limit: Duration,
    why: &str,
) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{why}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn faq_as_printed() -> Vec<u8> {
    std::fs::read(root().join("fixtures/faq/faq-example-as-printed.xml")).unwrap()
}

#[test]
fn oversized_inputs_are_never_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big");
    std::fs::create_dir(&big).unwrap();
    // Sparse: 200 MB each without using the disk.
    for i in 0..5 {
        let f = std::fs::File::create(big.join(format!("f{i}.xml"))).unwrap();
        f.set_len(200 << 20).unwrap();
    }
    let limit = Some(DATA_LIMIT);
    let args = |extra: &str| ["validate", "--threads", "2", TODAY, extra].map(String::from);
    let cases: [(&str, Stdio, &str, usize); 4] = [
        (
            "/dev/zero",
            Stdio::null(),
            "more than 1048576 bytes (the limit; it was not read further)",
            1,
        ),
        (
            "-",
            Stdio::from(std::fs::File::open("/dev/zero").unwrap()),
            "more than 1048576 bytes",
            1,
        ),
        ("big/f0.xml", Stdio::null(), "is 209715200 bytes", 1),
        ("big", Stdio::null(), "is 209715200 bytes", 5),
    ];
    for (input, stdin, message, files) in cases {
        let a = args(input);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = run(tmp.path(), &a, stdin, limit, false);
        let out = text(&o.stdout);
        assert_eq!(o.code, Some(1), "{input}: {out}{}", o.stderr);
        assert_eq!(
            out.matches("error[EIOA-X004]").count(),
            files,
            "{input}: {out}"
        );
        assert_eq!(out.matches(message).count(), files, "{input}: {out}");
        assert!(
            out.contains(&format!("checked {files} file")),
            "{input}: {out}"
        );
    }
}

/// A document on one line, 1 MB long, with its findings half a megabyte in.
fn one_line_document() -> String {
    let src = String::from_utf8(faq_as_printed()).unwrap();
    let mut lines = src.lines();
    let decl = lines.next().unwrap();
    let body: String = lines.map(str::trim).collect();
    let pad = format!("<!--{}-->", "a".repeat(500_000));
    let open = body.find('>').unwrap() + 1;
    let close = body.rfind("</").unwrap();
    format!(
        "{decl}{}{pad}{}{pad}{}",
        &body[..open],
        &body[open..close],
        &body[close..]
    )
}

/// One line, 1 MB, not well-formed half-way: the finding's column is followed by a
/// megabyte of text.
fn one_line_with_an_ampersand() -> String {
    let doc = one_line_document();
    let at = doc.find("<fornamn>").unwrap() + "<fornamn>".len();
    format!("{}A & B{}", &doc[..at], &doc[at..])
}

#[test]
fn a_long_line_is_quoted_around_the_column() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = one_line_document();
    let amp = one_line_with_an_ampersand();
    assert!(doc.len() > 1_000_000 && !doc.contains('\n'));
    std::fs::write(tmp.path().join("one-line.xml"), &doc).unwrap();
    std::fs::write(tmp.path().join("ampersand.xml"), &amp).unwrap();
    let o = run(
        tmp.path(),
        &["validate", TODAY, "one-line.xml"],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let out = text(&o.stdout);
    let findings = out.matches("\n --> one-line.xml:1:").count();
    assert!(findings >= 3, "{out}");
    assert!(
        out.len() < findings * 2048,
        "{} bytes for {findings} findings",
        out.len()
    );
    // The column is the document's, not the excerpt's.
    let column = doc[..doc.find("<personnummer>").unwrap()].chars().count() + 1;
    assert!(
        out.contains(&format!(" --> one-line.xml:1:{column}\n")),
        "{out}"
    );
    assert!(
        out.contains("<personnummer>YYYYMMDDXXXX</personnummer>"),
        "{out}"
    );

    let o = run(
        tmp.path(),
        &["validate", TODAY, "ampersand.xml"],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let out = text(&o.stdout);
    assert!(
        out.contains("error[EIOA-X001]"),
        "{}",
        out.chars().take(2000).collect::<String>()
    );
    assert!(out.len() < 2048, "{} bytes for one finding", out.len());
}

#[test]
fn a_million_attributes_print_little() {
    let tmp = tempfile::tempdir().unwrap();
    let mut doc = String::from("<r");
    for i in 0..1_000_000 {
        doc.push_str(&format!(" a{i}=\"{i}\""));
    }
    doc.push_str("/>");
    std::fs::write(tmp.path().join("attributes.xml"), &doc).unwrap();
    let o = run(
        tmp.path(),
        &[
            "validate",
            TODAY,
            "--max-bytes",
            "30000000",
            "attributes.xml",
        ],
        Stdio::null(),
        None,
        false,
    );
    let out = text(&o.stdout);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(out.contains("error[EIOA-X008]"), "{out}");
    assert!(out.len() < 4096, "{} bytes", out.len());
}

#[test]
fn many_documents_with_findings_are_not_kept_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let doc = one_line_with_an_ampersand();
    for i in 0..40 {
        std::fs::write(docs.join(format!("d{i:02}.xml")), &doc).unwrap();
    }
    let o = run(
        tmp.path(),
        &["validate", "--threads", "2", TODAY, "docs"],
        Stdio::null(),
        Some(DATA_LIMIT),
        false,
    );
    let out = text(&o.stdout);
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(out.contains("checked 40 files"), "{}", o.stderr);
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn symlinked_files_and_directories_are_followed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (docs, shared, elsewhere) = (
        tmp.path().join("docs"),
        tmp.path().join("shared"),
        tmp.path().join("elsewhere"),
    );
    for d in [&docs, &shared, &elsewhere] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(elsewhere.join("faq.xml"), faq_as_printed()).unwrap();
    std::fs::copy(
        root().join("fixtures/valid/egen-foretagare.xml"),
        shared.join("inner.xml"),
    )
    .unwrap();
    symlink("../elsewhere/faq.xml", docs.join("link.xml"));
    symlink("../shared", docs.join("sub"));
    symlink("../shared", docs.join("sub2"));
    // Loops: back to the walk's root, and to itself.
    symlink("../docs", shared.join("back"));
    symlink(".", shared.join("self"));
    // A dangling link that is not an .xml file is nothing to validate.
    symlink("nowhere", docs.join("notes"));
    let o = run(
        tmp.path(),
        &["validate", TODAY, "--format", "json", "docs"],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["docs/link.xml", "docs/sub/inner.xml"]);
    assert_eq!(v["files"][0]["valid"], false);
}

#[test]
fn a_dangling_xml_link_is_an_io_error_under_its_own_name() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("a.xml"), faq_as_printed()).unwrap();
    symlink("gone.xml", docs.join("b.xml"));
    let o = run(
        tmp.path(),
        &["validate", "docs"],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(o.code, Some(3), "{}", text(&o.stdout));
    assert!(
        o.stderr.contains("cannot read docs/b.xml: No such file"),
        "{}",
        o.stderr
    );
}

#[test]
fn an_unreadable_subdirectory_is_named_itself() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    let locked = docs.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(docs.join("a.xml"), faq_as_printed()).unwrap();
    std::fs::write(locked.join("b.xml"), faq_as_printed()).unwrap();
    let mode = |p: &PathBuf, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(&tmp.path().to_path_buf(), 0o755);
    mode(&docs, 0o755);
    mode(&locked, 0o000);
    // Root reads a mode-000 directory anyway: then the child runs as `nobody`.
    let as_user = std::fs::read_dir(&locked).is_ok();
    let o = run(
        tmp.path(),
        &["validate", TODAY, "docs"],
        Stdio::null(),
        None,
        as_user,
    );
    mode(&locked, 0o755);
    assert_eq!(o.code, Some(3), "{}", text(&o.stdout));
    assert!(
        o.stderr
            .contains("cannot list docs/locked: Permission denied"),
        "{}",
        o.stderr
    );
}

#[test]
fn control_characters_in_file_names_are_escaped_for_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let name = "\u{1b}[31mred\u{202e}.xml";
    std::fs::write(docs.join(name), faq_as_printed()).unwrap();
    let esc = |b: &[u8]| b.contains(&0x1b) || text(b).contains('\u{202e}');

    let o = run(
        tmp.path(),
        &["validate", TODAY, "docs"],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(!esc(&o.stdout), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains(" --> docs/\\u{1b}[31mred\\u{202e}.xml:5:5\n"),
        "{}",
        text(&o.stdout)
    );

    let o = run(
        tmp.path(),
        &["validate", TODAY, "--format", "junit", "docs"],
        Stdio::null(),
        None,
        false,
    );
    assert!(!esc(&o.stdout), "{}", text(&o.stdout));

    // JSON keeps the real name, escaped as JSON escapes it.
    let o = run(
        tmp.path(),
        &["validate", TODAY, "--format", "json", "docs"],
        Stdio::null(),
        None,
        false,
    );
    assert!(!o.stdout.contains(&0x1b), "{}", text(&o.stdout));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["path"], format!("docs/{name}"));

    // Error messages too.
    std::fs::remove_file(docs.join(name)).unwrap();
    symlink("gone", docs.join(name));
    let o = run(
        tmp.path(),
        &["validate", "docs"],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(o.code, Some(3));
    assert!(!esc(o.stderr.as_bytes()), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("cannot read docs/\\u{1b}[31mred\\u{202e}.xml"),
        "{}",
        o.stderr
    );
}

/// A batch large enough for worker processes gives what worker threads give, in the
/// JSON report and in the human one, as arguments and as a directory, and also when
/// SIGCHLD is ignored by whatever started `eioa` (then no child could be waited for:
/// the batch keeps to threads).
#[test]
fn worker_processes_report_what_worker_threads_report() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let dirs: Vec<PathBuf> = ["valid", "invalid", "warnings"]
        .iter()
        .map(|sub| root().join("fixtures").join(sub))
        .collect();
    let sources: Vec<PathBuf> = eioa_validate::input::collect(&dirs)
        .unwrap()
        .into_iter()
        .filter_map(eioa_validate::input::Input::into_path)
        .collect();
    let mut names = Vec::new();
    for i in 0..600 {
        let name = format!("docs/n{i:04}.xml");
        std::fs::copy(&sources[i % sources.len()], tmp.path().join(&name)).unwrap();
        names.push(name);
    }
    let run_with = |workers: Option<&str>, ignore_sigchld: bool, format: &str, dir: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_eioa"));
        cmd.args(["validate", "--threads", "3", TODAY, "--format", format])
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .env_remove("EIOA_SCHEMA_DIR")
            .env_remove("EIOA_WORKERS");
        if dir {
            cmd.arg("docs");
        } else {
            cmd.args(&names);
        }
        if let Some(w) = workers {
            cmd.env("EIOA_WORKERS", w);
        }
        if ignore_sigchld {
            // SAFETY: only signal(2) between fork and exec.
            #[allow(unsafe_code)]
            unsafe {
                cmd.pre_exec(|| {
                    libc::signal(libc::SIGCHLD, libc::SIG_IGN);
                    Ok(())
                });
            }
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        // Elapsed times differ from run to run.
        text(&out.stdout)
            .lines()
            .filter(|l| !l.contains("elapsed") && !l.starts_with("checked "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for format in ["json", "human"] {
        for dir in [false, true] {
            let threads = run_with(Some("threads"), false, format, dir);
            assert!(threads.contains("EIOA-R001"), "{threads}");
            assert_eq!(
                run_with(None, false, format, dir),
                threads,
                "{format}, dir {dir}"
            );
            assert_eq!(
                run_with(None, true, format, dir),
                threads,
                "SIGCHLD ignored"
            );
        }
    }
}

/// The paths of a JSON report, in order.
fn reported_paths(stdout: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_list_of_inputs_validates_what_the_same_arguments_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(tmp.path().join("faq.xml"), faq_as_printed()).unwrap();
    std::fs::write(tmp.path().join("two words.xml"), faq_as_printed()).unwrap();
    std::fs::copy(
        root().join("fixtures/valid/egen-foretagare.xml"),
        sub.join("inner.xml"),
    )
    .unwrap();
    let as_arguments = run(
        tmp.path(),
        &[
            "validate",
            TODAY,
            "--format",
            "json",
            "faq.xml",
            "sub",
            "two words.xml",
        ],
        Stdio::null(),
        None,
        false,
    );
    assert_eq!(as_arguments.code, Some(1), "{}", as_arguments.stderr);
    let expected = reported_paths(&as_arguments.stdout);
    assert_eq!(expected, ["faq.xml", "sub/inner.xml", "two words.xml"]);
    // Lines (one with a Windows line end, blank lines between), NUL-separated, on
    // standard input, and after a path given as an argument.
    std::fs::write(tmp.path().join("lines"), "faq.xml\r\n\nsub\ntwo words.xml").unwrap();
    std::fs::write(tmp.path().join("nul"), "faq.xml\0sub\0two words.xml\0").unwrap();
    std::fs::write(tmp.path().join("rest"), "sub\ntwo words.xml\n").unwrap();
    let stdin = || Stdio::from(std::fs::File::open(tmp.path().join("nul")).unwrap());
    for (args, input) in [
        (vec!["--files-from", "lines"], Stdio::null()),
        (vec!["--files-from=nul"], Stdio::null()),
        (vec!["--files-from", "-"], stdin()),
        (vec!["faq.xml", "--files-from", "rest"], Stdio::null()),
    ] {
        let mut all = vec!["validate", TODAY, "--format", "json"];
        all.extend(&args);
        let o = run(tmp.path(), &all, input, None, false);
        assert_eq!(o.code, Some(1), "{args:?}: {}", o.stderr);
        assert_eq!(reported_paths(&o.stdout), expected, "{args:?}");
        // Findings and all: the same report, file by file.
        let files =
            |out: &[u8]| serde_json::from_slice::<serde_json::Value>(out).unwrap()["files"].clone();
        assert_eq!(files(&o.stdout), files(&as_arguments.stdout), "{args:?}");
    }
}

#[test]
fn a_list_that_names_nothing_or_cannot_be_read_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("empty"), "\n\r\n").unwrap();
    std::fs::write(tmp.path().join("missing"), "faq.xml\nnot-there.xml\n").unwrap();
    std::fs::write(tmp.path().join("faq.xml"), faq_as_printed()).unwrap();
    std::fs::write(tmp.path().join("dash"), "faq.xml\n-\n").unwrap();
    let cases: [(&[&str], Option<i32>, &str); 5] = [
        // A pipeline that found no file must not pass as if it had checked them.
        (
            &["--files-from", "empty"],
            Some(2),
            "the list empty lists no input",
        ),
        (
            &["--files-from", "absent"],
            Some(3),
            "cannot read the list absent",
        ),
        (
            &["--files-from", "missing"],
            Some(3),
            "cannot read not-there.xml",
        ),
        (
            &["--files-from", "-", "-"],
            Some(2),
            "standard input cannot be both",
        ),
        (
            &["--files-from", "-"],
            Some(2),
            "standard input cannot be both",
        ),
    ];
    for (args, code, message) in cases {
        let mut all = vec!["validate", TODAY];
        all.extend(args);
        let stdin = Stdio::from(std::fs::File::open(tmp.path().join("dash")).unwrap());
        let o = run(tmp.path(), &all, stdin, None, false);
        assert_eq!(o.code, code, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(message), "{args:?}: {}", o.stderr);
    }
}

#[test]
fn human_output_stops_after_the_files_before_an_unreadable_one() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a-faq.xml"), faq_as_printed()).unwrap();
    std::fs::write(tmp.path().join("c-faq.xml"), faq_as_printed()).unwrap();
    let args = ["validate", TODAY, "a-faq.xml", "b-missing.xml", "c-faq.xml"];
    let o = run(tmp.path(), &args, Stdio::null(), None, false);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(
        o.stderr.contains("cannot read b-missing.xml"),
        "{}",
        o.stderr
    );
    let out = text(&o.stdout);
    // The findings of the file before it, none of the file after it, and no summary:
    // the run did not check every file.
    assert!(out.contains("a-faq.xml:"), "{out}");
    assert!(!out.contains("c-faq.xml"), "{out}");
    assert!(!out.contains("checked "), "{out}");
    // JSON and JUnit are whole documents or nothing.
    for format in ["json", "junit"] {
        let mut all = args.to_vec();
        all.extend(["--format", format]);
        let o = run(tmp.path(), &all, Stdio::null(), None, false);
        assert_eq!(o.code, Some(3), "{format}: {}", o.stderr);
        assert!(o.stdout.is_empty(), "{format}: {}", text(&o.stdout));
    }
}

#[test]
fn a_directory_among_many_file_arguments_is_listed_in_its_place_once() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let valid = std::fs::read(root().join("fixtures/valid/egen-foretagare.xml")).unwrap();
    for name in ["x.xml", "y.xml"] {
        std::fs::write(sub.join(name), faq_as_printed()).unwrap();
    }
    // Enough files for worker processes, with the directory in the middle, and every
    // fifth file with findings so that the human output has something to show.
    let mut names = Vec::new();
    for i in 0..700 {
        let name = format!("n{i:04}.xml");
        let bytes = if i % 5 == 0 {
            faq_as_printed()
        } else {
            valid.clone()
        };
        std::fs::write(tmp.path().join(&name), bytes).unwrap();
        names.push(name);
    }
    names.insert(350, "sub".to_string());
    let mut expected: Vec<String> = names.clone();
    expected.splice(350..351, ["sub/x.xml".to_string(), "sub/y.xml".to_string()]);
    for workers in [None, Some("threads")] {
        let run_with = |format: &str| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_eioa"));
            cmd.args(["validate", "--threads", "2", TODAY, "--format", format])
                .args(&names)
                .current_dir(tmp.path())
                .env("NO_COLOR", "1")
                .env_remove("EIOA_SCHEMA_DIR")
                .env_remove("EIOA_WORKERS");
            if let Some(w) = workers {
                cmd.env("EIOA_WORKERS", w);
            }
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
            out.stdout
        };
        let json = run_with("json");
        let got = reported_paths(&json);
        assert!(
            got == expected,
            "{workers:?}: {} paths reported for {}, the first difference at {:?}",
            got.len(),
            expected.len(),
            got.iter().zip(&expected).position(|(a, b)| a != b)
        );
        // The human report names each file with findings once, in the same order.
        let human = text(&run_with("human"));
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let invalid: Vec<&str> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["valid"] == false)
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(invalid.len(), 142, "{workers:?}");
        let mut at = 0;
        for path in invalid {
            let found = human[at..]
                .find(&format!("{path}:"))
                .unwrap_or_else(|| panic!("{path} missing or out of order ({workers:?})"));
            at += found + 1;
        }
        // Each finding once: as many source pointers as the JSON has findings.
        let findings: usize = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["findings"].as_array().unwrap().len())
            .sum();
        assert_eq!(human.matches("-->").count(), findings, "{workers:?}");
        assert!(human.contains("checked 702 files in "), "{human}");
        assert!(human.contains(": 560 valid, 142 invalid; "), "{human}");
    }
}

#[test]
fn a_report_that_cannot_be_written_is_an_io_error() {
    let faq = root().join("fixtures/faq");
    for format in ["human", "json", "junit"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_eioa"))
            .args(["validate", TODAY, "--format", format])
            .arg(&faq)
            .env("NO_COLOR", "1")
            .env_remove("EIOA_SCHEMA_DIR")
            .stdout(full)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{format}: {stderr}");
        assert!(
            stderr.contains("cannot write the report"),
            "{format}: {stderr}"
        );
    }
}

#[test]
fn what_comes_before_an_argument_that_cannot_be_listed_is_reported_first() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(tmp.path().join("a.xml"), faq_as_printed()).unwrap();
    std::fs::write(sub.join("inner.xml"), faq_as_printed()).unwrap();
    // A file, a directory, then a name that does not exist: the findings of the first
    // two come before the error, whether the run starts with the arguments as files
    // or, with standard input among them, the long way.
    for (args, stdin) in [
        (vec!["a.xml", "sub", "nosuch.xml"], None),
        (vec!["a.xml", "-", "sub", "nosuch.xml"], Some("<a/>")),
    ] {
        let mut all = vec!["validate", TODAY];
        all.extend(&args);
        let input = match stdin {
            Some(text) => {
                std::fs::write(tmp.path().join("stdin.xml"), text).unwrap();
                Stdio::from(std::fs::File::open(tmp.path().join("stdin.xml")).unwrap())
            }
            None => Stdio::null(),
        };
        let o = run(tmp.path(), &all, input, None, false);
        assert_eq!(o.code, Some(3), "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains("cannot read nosuch.xml"), "{}", o.stderr);
        let out = text(&o.stdout);
        assert!(out.contains("a.xml:"), "{args:?}: {out}");
        assert!(out.contains("sub/inner.xml:"), "{args:?}: {out}");
        if stdin.is_some() {
            assert!(out.contains("<stdin>"), "{args:?}: {out}");
        }
    }
}

#[test]
fn a_reader_that_goes_away_stops_the_batch() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for i in 0..2_400 {
        let name = format!("n{i:04}.xml");
        std::fs::write(tmp.path().join(&name), faq_as_printed()).unwrap();
        names.push(name);
    }
    // Last, a pipe nobody writes to: a batch that went on to it would wait for ever.
    let fifo = tmp.path().join("never.xml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    names.push("never.xml".into());
    let mut child = Command::new(env!("CARGO_BIN_EXE_eioa"))
        .args(["validate", "--threads", "2", TODAY])
        .args(&names)
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .env_remove("EIOA_SCHEMA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: one line, then the reader is gone.
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("schema set"), "{first}");
    let status = wait_or_kill(
        &mut child,
        Duration::from_secs(60),
        "the batch went on after its reader went away",
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    // Quietly, as `| head` expects.
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
