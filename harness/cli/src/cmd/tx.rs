//! `eioa tx list` and `eioa tx show TX-ID`: the stand-in's journal, with personal
//! data redacted unless `--unredacted` is given.

use std::io::Write as _;

use eioa_mock_server::cli::DataDirArg;

use crate::exit::Outcome;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// One line per journaled exchange, oldest first.
    List {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Everything the journal holds about one tx-id.
    Show {
        /// The tx-id FK (here: the stand-in) answered with.
        tx_id: String,
        #[command(flatten)]
        dir: DataDirArg,
        /// Show identity numbers, names and signatures as the client sent them.
        #[arg(long)]
        unredacted: bool,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match cmd {
        Command::List { dir } => {
            let (text, damage) = eioa_mock_server::cli::tx_list(&dir)?;
            out.write_all(text.as_bytes())?;
            for d in &damage {
                eprintln!("warning: journal damage: {d}");
            }
            Ok(if damage.is_empty() {
                Outcome::Success
            } else {
                Outcome::Findings
            })
        }
        Command::Show {
            tx_id,
            dir,
            unredacted,
        } => {
            let (found, damage) = eioa_mock_server::cli::tx_show(&dir, &tx_id, unredacted)?;
            for d in &damage {
                eprintln!("warning: journal damage: {d}");
            }
            match found {
                Some(text) => {
                    out.write_all(text.as_bytes())?;
                    Ok(Outcome::Success)
                }
                None => {
                    eprintln!(
                        "tx-id {tx_id} is not in the journal at {}{}",
                        dir.data_dir.display(),
                        if damage.is_empty() {
                            ""
                        } else {
                            " (it may be in a damaged stretch, see above)"
                        }
                    );
                    Ok(Outcome::Findings)
                }
            }
        }
    }
}
