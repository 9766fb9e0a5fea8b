//! `eioa-mock-server`: the standalone mutual-TLS stand-in for FK's E-IOA service.
//! Same arguments as `eioa mock-server`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = eioa_mock_server::cli::StandaloneCli::parse();
    match eioa_mock_server::cli::serve(&cli.serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
