//! `eioa evidence verify DIR [--ca FILE] [--fingerprint SHA256]`: is a report directory as
//! its client certificate signed it, and is that certificate the trusted one?
//!
//! The checking is `eioa_report::evidence::verify_with`; this reads the trust given and prints
//! the outcome. Exit 0 when the directory is intact and the signer authenticated by `--ca`
//! and/or `--fingerprint`; 1 when anything was changed, removed, added or refused, the
//! signature does not hold, or the signer is not the trusted one; 6 when the files are as
//! signed but nothing was given to authenticate the signer (anyone can make a certificate
//! and sign); 2 for a bad `--ca` or `--fingerprint`; 3 when the directory cannot be read.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use eioa_report::evidence::{self, Trust, Verdict};
use eioa_report::validation::terminal_safe;

use crate::exit::{ExpectedError, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check a report directory against its evidence.json: every file's SHA-256, the
    /// signature made with the client key, and who that key belongs to (--ca or
    /// --fingerprint). Names what was changed, removed or added. Exit 0 intact and
    /// authenticated, 1 tampered or signed by someone else, 6 intact but the signer not
    /// authenticated (neither --ca nor --fingerprint given).
    Verify {
        /// The report directory (the one holding evidence.json).
        dir: PathBuf,
        /// The CA that issued the client certificate (PEM or DER): the signer's chain must
        /// lead to it, valid at the run's start, for clientAuth.
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// The client certificate's SHA-256 (64 hex digits, colons allowed): the signer must
        /// be that certificate.
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Verify {
            dir,
            ca,
            fingerprint,
        } => {
            let shown = |p: &std::path::Path| terminal_safe(&p.display().to_string()).into_owned();
            let mut trust = Trust::default();
            if let Some(fp) = fingerprint {
                trust.fingerprints.push(
                    evidence::parse_fingerprint(&fp)
                        .map_err(|e| ExpectedError::Usage(format!("--fingerprint: {e}")))?,
                );
            }
            if let Some(ca) = ca {
                let bytes = std::fs::read(&ca)
                    .map_err(|e| ExpectedError::Io(format!("read --ca {}: {e}", shown(&ca))))?;
                trust.anchors = eioa_sign::read_trust_anchors(&bytes, &shown(&ca))
                    .map_err(|e| ExpectedError::Usage(format!("--ca: {e}")))?;
            }
            if !dir.is_dir() {
                return Err(
                    ExpectedError::Io(format!("verify {}: not a directory", shown(&dir))).into(),
                );
            }
            let v = evidence::verify_with(&dir, &trust)
                .with_context(|| format!("verify {}", shown(&dir)))?;
            std::io::stdout().lock().write_all(v.render().as_bytes())?;
            Ok(match v.verdict() {
                Verdict::Intact => Outcome::Success,
                Verdict::Unauthenticated => Outcome::Unauthenticated,
                Verdict::Tampered => Outcome::Findings,
            })
        }
    }
}
