//! FK stand-ins: the in-process wiremock server for tests and the runner, and the
//! standalone mutual-TLS server a vendor runs next to its own system. Both are thin
//! adapters around `eioa_fk::Fk::handle`.
//!
//! The standalone server ([`server`]) adds what a real endpoint has around FK's
//! behaviour: mutual TLS ([`tls`]), a crash-safe journal of every exchange
//! ([`journal`]), deterministic fault injection ([`faults`]), pacing observation
//! ([`pacing`]) and transport limits. [`certs`] makes a development PKI, [`redact`]
//! and [`txview`] show the journal without exposing personal data.

pub mod admin;
pub mod certs;
pub mod cli;
pub mod faults;
pub mod fkhost;
pub mod hostnames;
pub mod inprocess;
pub mod journal;
pub mod pacing;
pub use eioa_model::redact;
pub mod server;
pub mod tls;
pub mod txview;

pub use server::{Limits, MockConfig, MockError, MockServer, RunningServer, Stats, Transport};
