//! Exit codes, the same for every subcommand:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | all passed |
//! | 1 | findings: invalid documents, failed scenarios or checks, faults |
//! | 2 | usage or configuration error |
//! | 3 | I/O error: a file could not be read or written |
//! | 4 | network: the host did not resolve or no TCP connection could be made |
//! | 5 | TLS: the handshake failed, or a certificate was refused (either side's) |
//! | 6 | unauthenticated: `eioa evidence verify` found the files as signed, but was given no `--ca` or `--fingerprint` to say by whom |
//!
//! A closed stdout (`eioa … | head`) ends quietly with 0.

use std::process::ExitCode;

/// What a subcommand concluded, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed.
    Success,
    /// The command ran and found problems (invalid documents, faults, surprises).
    Findings,
    /// The command ran and could not reach the host (DNS, TCP).
    Network,
    /// The command ran and the TLS connection was refused (a certificate, the handshake).
    Tls,
    /// The evidence checks out, but its signer was not authenticated (no trust was given).
    Unauthenticated,
}

/// Errors the user can act on, each with its exit code.
#[derive(Debug)]
pub enum ExpectedError {
    /// Bad arguments or configuration.
    Usage(String),
    /// A file could not be read or written.
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
            ExpectedError::Usage(_) => 2,
            ExpectedError::Io(_) => 3,
        }
    }
}

pub fn finish(result: anyhow::Result<Outcome>) -> ExitCode {
    ExitCode::from(code(result))
}

/// The exit status for `result`, with the error (if any) printed to standard error.
pub fn code(result: anyhow::Result<Outcome>) -> u8 {
    match result {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::Findings) => 1,
        Ok(Outcome::Network) => 4,
        Ok(Outcome::Tls) => 5,
        Ok(Outcome::Unauthenticated) => 6,
        Err(e) => {
            if is_broken_pipe(&e) {
                return 0;
            }
            let code = e
                .downcast_ref::<ExpectedError>()
                .map_or_else(|| client_error_code(&e), ExpectedError::process_exit_code);
            eprintln!("error: {e:#}");
            code
        }
    }
}

/// Ends the process at once with `code`, after flushing standard output, without
/// running exit handlers. For `eioa validate`, whose output is written and whose
/// memory the kernel takes back whole: at exit mimalloc would otherwise return its
/// pages one range at a time (each a TLB flush on every core) and libxml2 free every
/// compiled schema, the serial end of a parallel run. Nothing else it holds needs a
/// handler: files are closed, temporary files are gone with their owners.
pub fn now(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // SAFETY: _exit ends the process; it touches no Rust state.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(i32::from(code))
    }
}

/// An error without an [`ExpectedError`]: a client error from an exchange is network or TLS,
/// anything else a configuration error.
fn client_error_code(e: &anyhow::Error) -> u8 {
    use eioa_client::ClientError as C;
    match e.chain().find_map(|c| c.downcast_ref::<C>()) {
        Some(
            C::Dns { .. }
            | C::ConnectionRefused { .. }
            | C::Unreachable { .. }
            | C::Connect { .. }
            | C::ConnectTimeout { .. }
            | C::ResponseTimeout { .. }
            | C::NoResponse { .. }
            | C::ResponseBody { .. },
        ) => 4,
        Some(
            C::ServerCertificate { .. }
            | C::HandshakeAlert { .. }
            | C::ClientCertificateMissing { .. }
            | C::TlsFailure { .. },
        ) => 5,
        _ => 2,
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
