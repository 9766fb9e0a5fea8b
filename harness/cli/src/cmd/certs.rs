//! `eioa certs init DIR`: a development CA, server and client certificates (PEM and
//! PKCS#12) for running the stand-in locally.

use std::io::Write as _;

use crate::exit::Outcome;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a development CA, a server certificate (localhost, 127.0.0.1 and any
    /// --san / --fk-hosts names) and a client certificate (PEM and PKCS#12), and
    /// print how to use them.
    Init(eioa_mock_server::cli::CertsInitArgs),
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    match cmd {
        Command::Init(args) => {
            let text = eioa_mock_server::cli::certs_init(&args)?;
            std::io::stdout().lock().write_all(text.as_bytes())?;
            Ok(Outcome::Success)
        }
    }
}
