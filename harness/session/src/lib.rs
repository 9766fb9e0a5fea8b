//! Conformance sessions: a named window of the exchanges a vendor's own system sent
//! to the standalone stand-in, judged against a checklist.
//!
//! - [`checklist`]: checklists as TOML data (`docs/checklists.md`), the bundled
//!   `onboarding` one.
//! - [`exchange`]: what the judge reads (the journal's records, reduced) and the facts
//!   each exchange shows.
//! - [`behaviour`]: behaviour findings (warnings), one table of rules.
//! - [`coverage`]: schema coverage derived from the payload XSD in use.
//! - [`judge`]: cases demonstrated, not yet demonstrated or failed; the verdict.
//! - [`store`]: the durable session file in the stand-in's data directory.
//! - [`render`]: the session report as HTML, JSON, JUnit and Markdown.
//!
//! The judge reads traffic; FK's answers stay in `eioa-fk`.

pub mod behaviour;
pub mod checklist;
pub mod coverage;
pub mod exchange;
pub mod judge;
pub mod render;
pub mod store;

pub use checklist::{Case, Checklist, ChecklistError};
pub use exchange::{Answer, Exchange};
pub use judge::{judge, Readiness, SessionReport, Status};
pub use store::{Session, SessionStore, StoreError};
