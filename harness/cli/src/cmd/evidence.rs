//! `eioa evidence verify DIR`: is a report directory as it was signed?
//!
//! The checking is `eioa_report::evidence::verify`; this prints its outcome. Exit 0 when the
//! directory is intact, 1 when anything was changed, removed or added, or the signature does not
//! hold, 3 when the directory cannot be read.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::exit::{ExpectedError, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a report directory against its evidence.json: every file's SHA-256 and the
    /// signature made with the client key; names what was changed, removed or added and prints
    /// the signing certificate's subject and fingerprint to compare with the one the server saw.
    Verify {
        /// The report directory (the one holding evidence.json).
        dir: PathBuf,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Verify { dir } => {
            if !dir.is_dir() {
                return Err(ExpectedError::Io(format!(
                    "verify {}: not a directory",
                    dir.display()
                ))
                .into());
            }
            let v = eioa_report::evidence::verify(&dir)
                .with_context(|| format!("verify {}", dir.display()))?;
            std::io::stdout().lock().write_all(v.render().as_bytes())?;
            Ok(if v.intact() {
                Outcome::Success
            } else {
                Outcome::Findings
            })
        }
    }
}
