//! Checklists: data files (TOML) that say what a vendor's system must demonstrate.
//! The format is documented in `docs/checklists.md`; the bundled `onboarding`
//! checklist is `checklists/onboarding.toml` in this crate.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exchange::{Answer, FACTS};

/// The bundled checklist for the onboarding test at FK.
pub const ONBOARDING: &str = include_str!("../checklists/onboarding.toml");

/// A checklist: an id, a title, and its cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// One case: a predicate over the session's traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub title: String,
    /// Required cases decide the verdict; advisory ones are reported only.
    #[serde(default = "yes")]
    pub required: bool,
    /// What to send to demonstrate the case.
    pub hint: String,
    /// Facts one exchange must show (all of them), see [`FACTS`].
    #[serde(default)]
    pub sent: Vec<String>,
    /// How that exchange must have been answered (default `accepted`).
    #[serde(default)]
    pub answer: Option<Answer>,
    /// A behaviour over several exchanges instead, see [`Behaviour`].
    #[serde(default)]
    pub behaviour: Option<Behaviour>,
}

fn yes() -> bool {
    true
}

/// Cases about how the system behaves over several exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// After an `XmlValidationError`, the next request for the same id was changed.
    ChangedAfterXmlValidationError,
    /// After a 503, reset or no answer, the next request waited at least a second.
    PacedAfterUnavailable,
    /// A changed notification (same person and assistant) was sent under a new id.
    ChangedUnderNewId,
    /// Every signature binds one notification.
    OneNotificationPerSignature,
    /// Never more than one request per second.
    NoBurst,
}

impl Behaviour {
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::ChangedAfterXmlValidationError => "changed-after-xml-validation-error",
            Behaviour::PacedAfterUnavailable => "paced-after-unavailable",
            Behaviour::ChangedUnderNewId => "changed-under-new-id",
            Behaviour::OneNotificationPerSignature => "one-notification-per-signature",
            Behaviour::NoBurst => "no-burst",
        }
    }
}

/// Why a checklist cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChecklistError {
    #[error("read checklist {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parse checklist {name}: {message}")]
    Parse { name: String, message: String },
    #[error("checklist {name}, case {case}: {message}")]
    Case {
        name: String,
        case: String,
        message: String,
    },
    #[error("checklist {name}: {message}")]
    Invalid { name: String, message: String },
}

impl Checklist {
    /// The bundled onboarding checklist.
    pub fn onboarding() -> Checklist {
        Checklist::parse(ONBOARDING, "onboarding").expect("the bundled checklist is valid")
    }

    /// `onboarding` (bundled) or a path to a TOML file.
    pub fn resolve(spec: &str) -> Result<(Checklist, String), ChecklistError> {
        if spec == "onboarding" {
            return Ok((Checklist::onboarding(), ONBOARDING.to_string()));
        }
        let path = Path::new(spec);
        let text = std::fs::read_to_string(path).map_err(|source| ChecklistError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let c = Checklist::parse(&text, spec)?;
        Ok((c, text))
    }

    /// Parses and checks a checklist: known facts, exactly one kind of predicate per
    /// case, unique case ids, at least one case and at least one required case.
    pub fn parse(text: &str, name: &str) -> Result<Checklist, ChecklistError> {
        let c: Checklist = toml::from_str(text).map_err(|e| ChecklistError::Parse {
            name: name.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if c.cases.is_empty() {
            return Err(ChecklistError::Invalid {
                name: name.to_string(),
                message: "has no [[case]]".into(),
            });
        }
        // Only required cases decide the verdict: with none, a session would be
        // "ready" before a single request was sent.
        if !c.cases.iter().any(|case| case.required) {
            return Err(ChecklistError::Invalid {
                name: name.to_string(),
                message: "has no required case (every case says `required = false`), so it \
                          could never refuse a session: mark at least one case required"
                    .into(),
            });
        }
        let mut ids = BTreeSet::new();
        for case in &c.cases {
            let err = |message: String| ChecklistError::Case {
                name: name.to_string(),
                case: case.id.clone(),
                message,
            };
            if !ids.insert(case.id.as_str()) {
                return Err(err("the id is used twice".into()));
            }
            match (&case.behaviour, case.sent.is_empty()) {
                (Some(_), false) => {
                    return Err(err("has both `behaviour` and `sent`: pick one".into()))
                }
                (Some(_), true) if case.answer.is_some() => {
                    return Err(err("`answer` goes with `sent`, not `behaviour`".into()))
                }
                (None, true) if case.answer.is_none() => {
                    return Err(err("needs `sent`, `answer` or `behaviour`".into()))
                }
                _ => {}
            }
            for fact in &case.sent {
                if !FACTS.iter().any(|(f, _)| f == fact) {
                    let known: Vec<&str> = FACTS.iter().map(|(f, _)| *f).collect();
                    return Err(err(format!(
                        "unknown fact `{fact}` (known: {})",
                        known.join(", ")
                    )));
                }
            }
        }
        Ok(c)
    }
}
