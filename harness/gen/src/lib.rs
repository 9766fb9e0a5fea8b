//! Fictitious E-IOA notifications for property tests, `eioa generate` and `eioa fuzz`.
//!
//! - [`values`]: fictitious identities (personnummer, samordningsnummer,
//!   organisationsnummer), names, addresses and telephone numbers.
//! - [`strategy`]: proptest strategies for valid notifications, one per [`Scenario`],
//!   and the deterministic [`generate`] built on the same strategies.
//! - [`mutate`]: named mutation classes that turn a valid notification into an invalid
//!   document, each carrying the finding it must produce ([`Expected`]).
//! - [`fuzz`]: the fuzz driver: generate, validate, compare with the expectation and
//!   with the model's strict parser, shrink surprises, write regression fixtures.
//!
//! Invariant: every generated value is fictitious by construction (see
//! `docs/generation.md`): identity serial numbers lie in a reserved test range and
//! every surname and company name is an obviously invented one.

pub mod fuzz;
pub mod mutate;
pub mod shard;
pub mod strategy;
pub mod values;
mod xmledit;

pub use mutate::{Expected, Mutated, Mutation, MutationClass};
pub use strategy::{generate, notification, Scenario};

/// The `today` that tests and the CLI use unless told otherwise, so that generated
/// dates and the validator's date rules agree on a fixed calendar.
pub const DEFAULT_TODAY: time::Date = time::macros::date!(2025 - 06 - 15);
