//! The command line, parsed by clap, with one shortcut: the paths of a long
//! `eioa validate` list.
//!
//! clap stores every value twice, boxed, and the derive copies it again: for
//! `eioa validate dir/*.xml` with 20,000 files that is about 30 M instructions, on the
//! one thread that must finish before any worker starts (the serial part of a parallel
//! run). So when `validate` has many arguments, the plain paths among them are taken
//! aside and clap parses the rest with the first path only; the parsed arguments then
//! get the whole list back. Only arguments that clap would certainly read as paths are
//! taken (not an option, not an option's value); anything unusual (an unknown option,
//! `--`, `-`, a non-UTF-8 argument) leaves the whole command line to clap, so errors,
//! help and every other command are clap's own. A property test checks both ways give
//! the same result.

use crate::{Cli, Command};
use clap::{Arg, CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// Below this many arguments clap's own handling costs nothing worth saving.
const LIFT_FROM: usize = 256;

/// Parses the process's arguments like `Cli::parse` (exiting with clap's message and
/// status on an error or for `--help`).
pub fn parse() -> Cli {
    let argv: Vec<OsString> = std::env::args_os().collect();
    try_parse(argv, LIFT_FROM).unwrap_or_else(|e| e.exit())
}

/// `Cli::try_parse_from(argv)`, with the paths of `eioa validate` taken aside when
/// there are at least `lift_from` arguments.
fn try_parse(argv: Vec<OsString>, lift_from: usize) -> Result<Cli, clap::Error> {
    let mut command = Cli::command();
    let lifted = if argv.len() >= lift_from {
        lift_validate_paths(&command, &argv)
    } else {
        None
    };
    let (argv, paths) = match lifted {
        Some((argv, paths)) => (argv, Some(paths)),
        None => (argv, None),
    };
    let mut matches = command.try_get_matches_from_mut(argv)?;
    let mut cli =
        Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))?;
    if let (Some(paths), Command::Validate(args)) = (paths, &mut cli.command) {
        args.set_paths(paths);
    }
    Ok(cli)
}

/// For `eioa validate …`: the command line with only its first path, and every path
/// in order. `None` when clap should see the command line as it is.
fn lift_validate_paths(
    command: &clap::Command,
    argv: &[OsString],
) -> Option<(Vec<OsString>, Vec<String>)> {
    if argv.get(1)?.to_str()? != "validate" {
        return None;
    }
    let sub = command.find_subcommand("validate")?;
    let mut kept: Vec<OsString> = argv[..2].to_vec();
    let mut paths = Vec::new();
    let mut rest = argv[2..].iter();
    while let Some(raw) = rest.next() {
        let arg = raw.to_str()?;
        if arg == "--" || arg == "-" {
            return None;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            let option = sub.get_arguments().find(|a| has_long(a, name))?;
            kept.push(raw.clone());
            if takes_value(option) && !attached {
                kept.push(rest.next()?.clone());
            }
        } else if let Some(shorts) = arg.strip_prefix('-') {
            kept.push(raw.clone());
            for (at, c) in shorts.char_indices() {
                let option = sub.get_arguments().find(|a| has_short(a, c))?;
                if takes_value(option) {
                    // The rest of the cluster is the value, or else the next argument.
                    if at + c.len_utf8() == shorts.len() {
                        kept.push(rest.next()?.clone());
                    }
                    break;
                }
            }
        } else {
            paths.push(arg.to_owned());
        }
    }
    kept.push(OsString::from(paths.first()?));
    Some((kept, paths))
}

fn has_long(arg: &Arg, name: &str) -> bool {
    arg.get_long() == Some(name)
        || arg
            .get_all_aliases()
            .is_some_and(|aliases| aliases.contains(&name))
}

fn has_short(arg: &Arg, c: char) -> bool {
    arg.get_short() == Some(c)
        || arg
            .get_all_short_aliases()
            .is_some_and(|aliases| aliases.contains(&c))
}

/// Whether an option reads a value (an option without one is a flag). Only options
/// that take exactly one value per occurrence are known here: anything else (optional
/// or several values) leaves the command line to clap.
fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What a parse gave, comparable: the parsed command, or clap's error kind and
    /// message.
    fn outcome(argv: &[&str], lift_from: usize) -> String {
        let argv = argv.iter().map(OsString::from).collect();
        match try_parse(argv, lift_from) {
            Ok(cli) => format!("{cli:?}"),
            Err(e) => format!("{:?}: {}", e.kind(), e.render()),
        }
    }

    /// Words a `validate` command line is made of: paths, options with good and bad
    /// values, flags, clusters, unknown options, `--`, `-`, help.
    const WORDS: &[&str] = &[
        "a.xml",
        "b.xml",
        "dir",
        "2",
        "json",
        "--format",
        "--format=junit",
        "--threads",
        "--threads=3",
        "--threads=x",
        "--schema-set",
        "--schema-set=eioa-v1,other",
        "--max-bytes",
        "--today",
        "2026-01-02",
        "--color",
        "never",
        "-q",
        "-qq",
        "--quiet",
        "-x",
        "-qx",
        "--bogus",
        "--",
        "-",
        "--help",
        "-h",
        "-1",
    ];

    #[test]
    fn a_long_path_list_parses_as_clap_parses_it() {
        let mut argv = vec!["eioa", "validate", "--threads", "2", "-q"];
        let names: Vec<String> = (0..300).map(|i| format!("d/n{i:05}.xml")).collect();
        argv.extend(names.iter().map(String::as_str));
        argv.extend(["--format", "json"]);
        let argv_os: Vec<OsString> = argv.iter().map(OsString::from).collect();
        // The shortcut is taken here, and gives clap's answer.
        assert!(lift_validate_paths(&Cli::command(), &argv_os).is_some());
        assert_eq!(outcome(&argv, 0), outcome(&argv, usize::MAX));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn any_validate_command_line_parses_as_clap_parses_it(
            words in proptest::collection::vec(proptest::sample::select(WORDS), 0..8),
        ) {
            let mut argv = vec!["eioa", "validate"];
            argv.extend(words.iter().copied());
            prop_assert_eq!(outcome(&argv, 0), outcome(&argv, usize::MAX));
        }

        #[test]
        fn other_commands_are_left_to_clap(
            words in proptest::collection::vec(proptest::sample::select(WORDS), 0..6),
        ) {
            let mut argv = vec!["eioa", "rules"];
            argv.extend(words.iter().copied());
            prop_assert_eq!(outcome(&argv, 0), outcome(&argv, usize::MAX));
        }
    }
}
