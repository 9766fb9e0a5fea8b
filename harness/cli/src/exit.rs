//! Exit codes: 0 all passed, 1 findings or failed checks, 2 usage, configuration or
//! I/O error. A closed stdout (`eioa … | head`) ends quietly with 0.

use std::process::ExitCode;

/// What a subcommand concluded, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed.
    Success,
    /// The command ran and found problems (invalid documents, faults, surprises).
    Findings,
}

/// Errors the user can act on, each with its exit code.
#[derive(Debug)]
pub enum ExpectedError {
    /// Bad arguments or configuration.
    Usage(String),
    /// A file or the network could not be used.
    Io(String),
}

impl std::fmt::Display for ExpectedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedError::Usage(m) | ExpectedError::Io(m) => f.write_str(m),
        }
    }
}

impl ExpectedError {
    pub fn process_exit_code(&self) -> u8 {
        match self {
            ExpectedError::Usage(_) | ExpectedError::Io(_) => 2,
        }
    }
}

pub fn finish(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let code = e
                .downcast_ref::<ExpectedError>()
                .map_or(2, ExpectedError::process_exit_code);
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Rust ignores SIGPIPE; printing to a closed pipe then yields EPIPE errors, which
/// `finish` turns into a quiet exit 0.
pub fn reset_sigpipe() {}

impl std::error::Error for ExpectedError {}
