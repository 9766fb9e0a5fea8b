//! The onboarding connection test: every hop from the client identity to FK's answer, checked in
//! order, each check with an id, a status, the measured facts and a one-sentence remedy.
//!
//! ```no_run
//! # async fn demo() {
//! use eioa_client::connect::{self, ConnectOptions};
//! use eioa_client::{IdentitySource, Target};
//! let mut opts = ConnectOptions::new(Target::Test);
//! opts.identity = Some(IdentitySource::Pkcs12("vendor.p12".into()));
//! let result = connect::run(opts).await;
//! println!("{}", result.verdict);
//! # }
//! ```
//!
//! The checks and their ids are in [`checks::CHECKS`] and `docs/connection-test.md`; the result
//! is [`ConnectionTest`], the data model of every report of it.

mod cert;
pub mod checks;
mod diag;
mod identity;
pub mod model;
mod net;
mod probe;
mod soap;

pub use model::{
    CertPanel, Check, ConnectionTest, ExchangeSummary, Fact, Level, Status, TargetInfo,
    FORMAT_VERSION,
};
pub use probe::{
    alert_name, run, run_with, ConnectOptions, SignatureKind, SoapRequest, FK_ANSWER_EXPECTATION,
    FK_PROD_ADDR, FK_TEST_ADDR, WARN_DAYS_LEFT,
};
