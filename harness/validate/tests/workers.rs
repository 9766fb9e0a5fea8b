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

        println!("worker processes and worker threads agree on {n} documents");
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
