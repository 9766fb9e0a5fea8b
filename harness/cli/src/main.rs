//! `eioa`: the E-IOA conformance harness.
//!
//! Thin by design: arguments become a validated config, then library calls. Each
//! subcommand lives in `cmd/<name>.rs` with an `Args` struct and a `run` function.

mod args;
mod cmd;
mod exit;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: thread-local free lists, so parallel
/// validation threads do not contend for malloc's arenas, and about half the
/// instructions per allocation (docs/performance.md). libxml2's own allocations go
/// there too (`eioa_validate::libxml2_on_mimalloc`, first thing in `main`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "eioa",
    version,
    about = "Conformance harness for Försäkringskassan's E-IOA web service (form FK 3066)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate notifications against the schema set and FK's business rules.
    Validate(cmd::validate::Args),
    /// Show, list or import schema sets.
    #[command(subcommand)]
    Schema(cmd::schema::Command),
    /// List the validation rules with their ids, severities and fixes.
    Rules(cmd::rules::Args),
    /// Run the conformance suite against the built-in stand-in, a local server or FK; writes a report.
    Run(cmd::run::Args),
    /// Send tx-id fixtures again (FIXED / STILL FAILING / CHANGED), or show a reported exchange.
    Replay(cmd::replay::Args),
    /// Keep a recorded exchange as a tx-id fixture (fixtures/tx/<id>/).
    Fixture(cmd::fixture::Args),
    /// Run the standalone mutual-TLS stand-in for FK (journal, fault injection, pacing).
    MockServer(Box<cmd::mock_server::Args>),
    /// Make a development PKI for the stand-in.
    #[command(subcommand)]
    Certs(cmd::certs::Command),
    /// List or show the stand-in's journaled exchanges.
    #[command(subcommand)]
    Tx(cmd::tx::Command),
    /// Build a SOAP request signed with the harness's test CA.
    Sign(cmd::sign::Args),
    /// Send one notification and print the tx-id or the fault.
    Send(cmd::send::Args),
    /// Generate fictitious notifications, valid or mutated, from a seed.
    Generate(cmd::generate::Args),
    /// Fuzz the validator with generated and mutated notifications.
    Fuzz(cmd::fuzz::Args),
    /// Check that a connection report directory is as it was signed.
    #[command(subcommand)]
    Evidence(cmd::evidence::Command),
    /// The onboarding connection test: every hop checked, the level of proof reached, a report.
    Connect(Box<cmd::connect::Args>),
    /// Conformance sessions in the stand-in: start, status, end, report.
    #[command(subcommand)]
    Session(cmd::session::Command),
    /// The local web console: validate, watch the stand-in, follow a session, open reports.
    Console(cmd::console::Args),
    // New subcommands go above this line, one line each.
}

fn main() -> ExitCode {
    // SAFETY: the first statement of `main`; nothing has called libxml2 yet.
    #[allow(unsafe_code)]
    unsafe {
        eioa_validate::libxml2_on_mimalloc()
    };
    exit::reset_sigpipe();
    let cli = args::parse();
    let validate = matches!(cli.command, Command::Validate(_));
    let result = match cli.command {
        Command::Validate(a) => cmd::validate::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Fuzz(a) => cmd::fuzz::run(a),
        Command::Schema(c) => cmd::schema::run(c),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Fixture(a) => cmd::fixture::run(a),
        Command::Sign(a) => cmd::sign::run(a),
        Command::Send(a) => cmd::send::run(a),
        Command::Connect(a) => cmd::connect::run(*a),
        Command::MockServer(a) => cmd::mock_server::run(*a),
        Command::Certs(c) => cmd::certs::run(c),
        Command::Tx(c) => cmd::tx::run(c),
        Command::Evidence(c) => cmd::evidence::run(c),
        Command::Session(c) => cmd::session::run(c),
        Command::Console(a) => cmd::console::run(a),
    };
    if validate {
        exit::now(exit::code(result));
    }
    exit::finish(result)
}
