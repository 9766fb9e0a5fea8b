//! `eioa console`: the local web console (`eioa-console`) on loopback.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use eioa_mock_server::cli::DataDirArg;
use eioa_validate::{ValidatorOptions, DEFAULT_MAX_BYTES};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// The token a console listening beyond loopback requires (never a flag: it would show
/// in the process list and shell history).
const TOKEN_ENV: &str = "EIOA_CONSOLE_TOKEN";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; loopback only unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    #[command(flatten)]
    dir: DataDirArg,
    /// The folder `eioa run` and `eioa connect` write reports into.
    #[arg(long, default_value = "reports")]
    reports: PathBuf,
    /// Schema sets the Validate page offers (the first is the default): `eioa-v1` (embedded),
    /// imported ids or directories, comma-separated. Default: $EIOA_SCHEMA_DIR or eioa-v1.
    #[arg(long, value_name = "ID|DIR", value_delimiter = ',')]
    schema_set: Vec<String>,
    /// Documents larger than this many bytes are not parsed.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
    max_bytes: usize,
    /// Listen on a non-loopback address; every request then needs the token in $EIOA_CONSOLE_TOKEN.
    #[arg(long)]
    allow_remote: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.max_bytes == 0 {
        return Err(ExpectedError::Usage("--max-bytes must be positive".into()).into());
    }
    let opts = ValidatorOptions {
        max_bytes: args.max_bytes,
        today: None,
    };
    let validators = if args.schema_set.is_empty() {
        vec![Arc::new(common::validator(None, opts.clone())?)]
    } else {
        args.schema_set
            .iter()
            .map(|s| common::validator(Some(s), opts.clone()).map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let token = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty());
    let cfg = eioa_console::ConsoleConfig {
        listen: args.listen,
        data_dir: Some(args.dir.data_dir),
        reports: args.reports,
        allow_remote: args.allow_remote,
        token: token.clone(),
        validators,
    };
    eioa_console::check(&cfg).map_err(|e| ExpectedError::Usage(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let console = eioa_console::Console::start(cfg).await?;
        let suffix = if token.is_some() {
            format!("?token=<${TOKEN_ENV}>")
        } else {
            String::new()
        };
        println!("eioa console: {}{suffix}", console.url());
        println!("(Ctrl-C stops it)");
        tokio::select! {
            r = console.wait() => r?,
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    })?;
    Ok(Outcome::Success)
}
