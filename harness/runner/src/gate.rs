//! The one check every sending path of the runner passes before it connects
//! ([`crate::run`] for scenarios, [`crate::fixture::replay`] for fixtures).
//!
//! FK's test environment is for connection tests, not for performance, load or
//! functional tests: its hosts get only the bundled connection suite's scenarios, and
//! of recorded exchanges only a pseudonymised fixture of such a scenario (its request
//! is signed again, with fictitious people). A fixture kept as recorded is never sent
//! there: it may hold personal data, and its bytes may already have reached FK.
//! Nothing recorded goes to FK's production host.

use eioa_client::Target;
use eioa_model::fk_address::FK_PROD;

use crate::fixture::Fixture;
use crate::scenarios::{Scenario, SuiteName};

/// What a sending path is about to send.
#[derive(Debug, Clone, Copy)]
pub enum Outgoing<'a> {
    /// Scenarios, built and signed by the kit.
    Scenarios(&'a [Scenario]),
    /// A fixture, sent again.
    Fixture(&'a Fixture),
}

/// Why nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendRefused {
    #[error("scenario {scenario} is not sent to {target}: FK's test environment is for connection tests, not for performance, load or functional tests")]
    NotConnectionTest { scenario: String, target: String },
    #[error("fixture {fixture} is not sent to {target}: FK's test environment is for connection tests, and its scenario ({}) is not in the connection suite", .scenario.as_deref().unwrap_or("none recorded"))]
    FixtureNotConnectionTest {
        fixture: String,
        scenario: Option<String>,
        target: String,
    },
    #[error("fixture {fixture} is not sent to {target}: it was kept as recorded (not pseudonymised), so it may hold personal data and may already have reached FK; keep the exchange again without --unredacted, or replay it against the stand-in")]
    FixtureNotPseudonymised { fixture: String, target: String },
    #[error("fixture {fixture} is not sent to FK's production host ({target}): nothing recorded is sent there again")]
    FixtureToProduction { fixture: String, target: String },
    #[error("cannot read the bundled connection suite")]
    Suite(#[source] crate::suite::SuiteError),
}

/// Whether `out` may go to `target`. Called before any connection is made.
pub fn check(target: &Target, out: Outgoing<'_>) -> Result<(), SendRefused> {
    if !target.is_fk() {
        return Ok(());
    }
    let allowed = crate::scenarios::suite(SuiteName::Connection).map_err(SendRefused::Suite)?;
    let in_connection_suite = |id: &str| allowed.iter().any(|a| a.id == id);
    match out {
        Outgoing::Scenarios(scenarios) => {
            match scenarios.iter().find(|s| !in_connection_suite(&s.id)) {
                Some(s) => Err(SendRefused::NotConnectionTest {
                    scenario: s.id.clone(),
                    target: target.to_string(),
                }),
                None => Ok(()),
            }
        }
        Outgoing::Fixture(f) => {
            let fixture = f.dir.display().to_string();
            let target_text = target.to_string();
            let production = matches!(target, Target::Prod)
                || target
                    .url()
                    .host_str()
                    .is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(FK_PROD.host));
            if production {
                return Err(SendRefused::FixtureToProduction {
                    fixture,
                    target: target_text,
                });
            }
            if !f.meta.pseudonymised {
                return Err(SendRefused::FixtureNotPseudonymised {
                    fixture,
                    target: target_text,
                });
            }
            // `P09#2` is the second exchange of scenario P09.
            let scenario = f
                .meta
                .scenario
                .as_deref()
                .map(|s| s.split('#').next().unwrap_or(s));
            if !scenario.is_some_and(in_connection_suite) {
                return Err(SendRefused::FixtureNotConnectionTest {
                    fixture,
                    scenario: f.meta.scenario.clone(),
                    target: target_text,
                });
            }
            Ok(())
        }
    }
}
