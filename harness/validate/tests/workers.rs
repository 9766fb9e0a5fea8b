//! Worker processes against worker threads: the same results in the same order, and
//! the same first failure. A test binary without the test harness, so that the process
//! has one thread and the batch really forks (checked: the reaped children's CPU time
//! grows, see `children_cpu`; and `fork_self_test` checks the shared counters and a
//! child that dies).

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("worker processes are Linux only");
}

#[cfg(target_os = "linux")]
fn main() {
    // Test runners ask for the list of tests first (`--list`); this binary is one.
    if std::env::args().any(|a| a == "--list") {
        println!("workers: test");
        return;
    }
    if std::env::args().any(|a| a == "--ignored") {
        return;
    }
    linux::run();
}

#[cfg(target_os = "linux")]
mod linux {
    use eioa_validate::input::{self, BatchOptions, Input, FORK_FROM};
    use eioa_validate::Validator;
    use std::path::{Path, PathBuf};

    /// Removes the test's directory however the test ends.
    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    pub fn run() {
        // A batch that never ends fails the test instead of hanging it: SIGALRM ends
        // the process (a watchdog thread would stop the batch from forking).
        // SAFETY: alarm(2) only arms a timer.
        #[allow(unsafe_code)]
        unsafe {
            libc::alarm(120)
        };
        assert_eq!(
            std::fs::read_dir("/proc/self/task").map(|t| t.count()).ok(),
            Some(1),
            "this test must run with one thread"
        );
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let dirs: Vec<PathBuf> = ["valid", "invalid", "warnings", "faq"]
            .iter()
            .map(|sub| root.join(sub))
            .collect();
        let sources: Vec<PathBuf> = input::collect(&dirs)
            .unwrap()
            .into_iter()
            .filter_map(Input::into_path)
            .collect();
        assert!(
            sources.len() > 20,
            "fixtures not found under {}",
            root.display()
        );

        eioa_validate::fork_self_test().unwrap();

        let dir = std::env::temp_dir().join(format!("eioa-workers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _cleanup = TempDir(dir.clone());
        let n = FORK_FROM + 100;
        let files: Vec<PathBuf> = (0..n)
            .map(|i| {
                let path = dir.join(format!("n{i:05}.xml"));
                std::fs::copy(&sources[i % sources.len()], &path).unwrap();
                path
            })
            .collect();
        let v = Validator::embedded().unwrap();
        let opts = |processes| BatchOptions {
            threads: 3,
            excerpts: true,
            own_fd_tables: false,
            processes,
        };
        let shown = |r: Result<Vec<input::FileResult>, input::InputError>| match r {
            Ok(files) => format!("{files:#?}"),
            Err(e) => format!("error: {e}: {}", e.io_error()),
        };

        // Arguments, every result.
        let args: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        let threads = shown(input::validate_args(&v, &args, opts(false)));
        let before = children_cpu();
        let processes = shown(input::validate_args(&v, &args, opts(true)));
        assert!(children_cpu() > before, "no worker process ran");
        assert!(threads.contains("EIOA-R001"), "the batch has findings");
        assert_eq!(threads, processes, "arguments");

        // Listed inputs with two that cannot be read: the first of them ends both runs.
        let mut inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
        inputs[n / 2] = Input::File(dir.join("missing-first.xml"));
        inputs[n - 10] = Input::File(dir.join("missing-second.xml"));
        let threads = shown(input::validate_all(&v, &inputs, opts(false)));
        let processes = shown(input::validate_all(&v, &inputs, opts(true)));
        assert!(threads.contains("missing-first"), "{threads}");
        assert_eq!(threads, processes, "listed inputs with failures");

        // Handed on as they come: everything before the first failure, nothing after,
        // the same with processes as with threads.
        let handed = |processes| {
            let mut names = Vec::new();
            let end = input::validate_all_each(&v, &inputs, opts(processes), &mut |f| {
                names.push(f.path);
                std::ops::ControlFlow::Continue(())
            });
            (names, end.map_err(|e| e.path().to_string()))
        };
        let (names, end) = handed(true);
        assert_eq!(
            end,
            Err(dir.join("missing-first.xml").display().to_string())
        );
        assert_eq!(names.len(), n / 2, "every input before the failure");
        assert_eq!((names, end), handed(false), "handed on with a failure");

        // Slow inputs: named pipes whose writers start late, one in the first claim and
        // one further on, in a batch larger than the window workers claim within. The
        // workers that are not held up stop at the window and wait; a worker process
        // sends what it holds back before it waits, or the batch would never end.
        let big = 3_000;
        let mut inputs: Vec<Input> = (0..big)
            .map(|i| Input::File(files[i % n].clone()))
            .collect();
        let fifo_source = sources
            .iter()
            .find(|p| p.to_string_lossy().contains("EIOA-R001"))
            .expect("an R001 fixture");
        for at in [0, 40] {
            let fifo = dir.join(format!("slow-{at}.xml"));
            inputs[at] = Input::File(fifo);
        }
        let slow_run = |processes| {
            let mut writers = Vec::new();
            for at in [0, 40] {
                let fifo = dir.join(format!("slow-{at}.xml"));
                let _ = std::fs::remove_file(&fifo);
                let made = std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap();
                assert!(made.success(), "mkfifo");
                // A process, not a thread: this one must keep one thread to fork.
                writers.push(
                    std::process::Command::new("sh")
                        .arg("-c")
                        .arg(r#"sleep 0.3; cat "$1" > "$2""#)
                        .arg("sh")
                        .arg(fifo_source)
                        .arg(&fifo)
                        .spawn()
                        .unwrap(),
                );
            }
            let before = children_cpu();
            let mut names = Vec::new();
            let mut r001 = 0;
            // Many workers: what they hold back together spans more than the window.
            let many = BatchOptions {
                threads: 8,
                ..opts(processes)
            };
            input::validate_all_each(&v, &inputs, many, &mut |f| {
                r001 += usize::from(f.report.findings.iter().any(|x| x.rule == "EIOA-R001"));
                names.push(f.path);
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
            // Before the writers are waited for: only the batch's children count.
            let forked = children_cpu() > before;
            for mut w in writers {
                assert!(w.wait().unwrap().success(), "a writer failed");
            }
            (names, r001, forked)
        };
        let (names, r001, forked) = slow_run(true);
        assert!(forked, "no worker process ran behind the slow inputs");
        assert_eq!(names.len(), big);
        assert!(names[0].ends_with("slow-0.xml") && names[40].ends_with("slow-40.xml"));
        let (threads_names, threads_r001, _) = slow_run(false);
        assert_eq!(names, threads_names, "slow inputs");
        assert_eq!(r001, threads_r001, "slow inputs' findings");
        assert!(r001 >= 2, "the pipes' documents were read");

        println!(
            "worker processes and worker threads agree on {n} documents, and behind slow inputs"
        );
    }

    /// User and system time of the children this process has waited for.
    #[allow(unsafe_code)]
    fn children_cpu() -> std::time::Duration {
        // SAFETY: getrusage fills the struct it is given.
        let usage = unsafe {
            let mut usage = std::mem::zeroed::<libc::rusage>();
            libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
            usage
        };
        let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        std::time::Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
    }
}
