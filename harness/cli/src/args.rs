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
    let paths_at = if argv.len() >= lift_from {
        validate_paths(&command, &argv)
    } else {
        None
    };
    let (argv, paths) = match paths_at {
        Some(is_path) => {
            // Moved, not copied: 20,000 paths are 20,000 allocations saved.
            let path_count = is_path.iter().filter(|p| **p).count();
            let mut kept = Vec::with_capacity(argv.len() - path_count + 1);
            let mut paths = Vec::with_capacity(path_count);
            for (arg, path) in argv.into_iter().zip(is_path) {
                match (path, arg.into_string()) {
                    (false, Ok(arg)) => kept.push(OsString::from(arg)),
                    (true, Ok(arg)) => {
                        // The first path stays where it stands: clap's messages (the
                        // usage line of an error) depend on what it has matched by then.
                        if paths.is_empty() {
                            kept.push(OsString::from(arg.clone()));
                        }
                        paths.push(arg);
                    }
                    // Only the program's own name (argv[0]) is not checked for UTF-8;
                    // it is never a path.
                    (_, Err(arg)) => kept.push(arg),
                }
            }
            (kept, Some(paths))
        }
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

/// For `eioa validate …`: which arguments are paths (`true`), when there is at least
/// one and the whole command line is one clap would read so. `None` when clap should
/// see the command line as it is.
fn validate_paths(command: &clap::Command, argv: &[OsString]) -> Option<Vec<bool>> {
    if argv.get(1)?.to_str()? != "validate" {
        return None;
    }
    let sub = command.find_subcommand("validate")?;
    if !sub.get_arguments().all(modelled) {
        return None;
    }
    let mut is_path = vec![false; argv.len()];
    let mut at = 2;
    while at < argv.len() {
        let arg = argv[at].to_str()?;
        at += 1;
        if arg == "--" || arg == "-" {
            return None;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((name, _)) => (name, true),
                None => (long, false),
            };
            let option = sub.get_arguments().find(|a| has_long(a, name))?;
            if takes_value(option) && !attached {
                argv.get(at)?.to_str()?;
                at += 1;
            }
        } else if let Some(shorts) = arg.strip_prefix('-') {
            for (i, c) in shorts.char_indices() {
                let option = sub.get_arguments().find(|a| has_short(a, c))?;
                if takes_value(option) {
                    // The rest of the cluster is the value, or else the next argument.
                    if i + c.len_utf8() == shorts.len() {
                        argv.get(at)?.to_str()?;
                        at += 1;
                    }
                    break;
                }
            }
        } else {
            is_path[at - 1] = true;
        }
    }
    is_path.contains(&true).then_some(is_path)
}

/// Whether an argument of `validate` is one this module reads as clap does: the one
/// positional (the paths), flags, and options that take exactly one value, given
/// after them or attached with `=`. Anything else (optional or several values,
/// `require_equals`, values that may start with `-`, a second positional) leaves the
/// command line to clap.
fn modelled(arg: &Arg) -> bool {
    if arg.is_positional() {
        return arg.get_id() == "paths" && !arg.is_last_set() && !arg.is_trailing_var_arg_set();
    }
    let one_value = arg
        .get_num_args()
        .is_none_or(|n| !takes_value(arg) || (n.min_values() == 1 && n.max_values() == 1));
    // An optional value (`default_missing_value`) needs `num_args(0..=1)`: not one.
    one_value && !arg.is_require_equals_set() && !arg.is_allow_hyphen_values_set()
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

/// Whether an option reads a value (an option without one is a flag); [`modelled`]
/// has made sure it is exactly one.
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

    /// Every option `validate` has, in each form, so that a new option is tried too.
    fn option_words() -> Vec<String> {
        let command = Cli::command();
        let sub = command.find_subcommand("validate").unwrap();
        let mut words = Vec::new();
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long() {
                words.push(format!("--{long}"));
                words.push(format!("--{long}=1"));
            }
            if let Some(short) = arg.get_short() {
                words.push(format!("-{short}"));
                words.push(format!("-{short}{short}"));
                words.push(format!("-{short}x"));
            }
        }
        words
    }

    #[test]
    fn every_option_of_validate_is_one_the_shortcut_models() {
        let command = Cli::command();
        let sub = command.find_subcommand("validate").unwrap();
        let odd: Vec<_> = sub
            .get_arguments()
            .filter(|a| !modelled(a))
            .map(|a| a.get_id().to_string())
            .collect();
        // Not wrong, only slow: such an option turns the shortcut off for every run.
        assert!(odd.is_empty(), "options the shortcut gives up on: {odd:?}");
    }

    #[test]
    fn an_error_before_the_first_path_reads_as_clap_writes_it() {
        // clap's usage line depends on what it has matched when it fails.
        let argv = ["eioa", "validate", "a.xml", "--schema-set", "--bogus"];
        assert_eq!(outcome(&argv, 0), outcome(&argv, usize::MAX));
    }

    #[test]
    fn a_long_path_list_parses_as_clap_parses_it() {
        let mut argv = vec!["eioa", "validate", "--threads", "2", "-q"];
        let names: Vec<String> = (0..300).map(|i| format!("d/n{i:05}.xml")).collect();
        argv.extend(names.iter().map(String::as_str));
        argv.extend(["--format", "json"]);
        let argv_os: Vec<OsString> = argv.iter().map(OsString::from).collect();
        // The shortcut is taken here, and gives clap's answer.
        assert!(validate_paths(&Cli::command(), &argv_os).is_some());
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
        fn any_option_of_validate_parses_as_clap_parses_it(
            picks in proptest::collection::vec((0usize..64, proptest::sample::select(WORDS)), 0..8),
        ) {
            let options = option_words();
            let mut argv = vec!["eioa".to_string(), "validate".to_string()];
            for (i, word) in picks {
                argv.push(if i % 2 == 0 { options[i % options.len()].clone() } else { word.to_string() });
            }
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
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
