//! The onboarding connection test: every hop from the client identity to FK's answer, checked in
//! order, each check with an id, a status, the measured facts and a one-sentence remedy.

pub mod model;

pub use model::{
    CertPanel, Check, ConnectionTest, ExchangeSummary, Fact, Level, Status, TargetInfo,
    FORMAT_VERSION,
};
