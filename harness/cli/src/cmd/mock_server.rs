//! `eioa mock-server`: the standalone mutual-TLS stand-in (same arguments as the
//! `eioa-mock-server` binary). Runs until ctrl-c or SIGTERM.

use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub serve: eioa_mock_server::cli::ServeArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    eioa_mock_server::cli::serve(&args.serve)?;
    Ok(Outcome::Success)
}
