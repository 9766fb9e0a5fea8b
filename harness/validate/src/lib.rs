//! Validation of E-IOA documents: libxml2 XSD validation plus the business rules
//! FK's schema cannot express. The only crate in the workspace that knows libxml2.
//!
//! A document that fails validation is a *result*, not an error:
//! [`Validator::validate`] always returns a [`Report`]; `Err` is reserved for broken
//! schemas and I/O.

#[cfg(feature = "mimalloc")]
mod alloc;
pub mod c14n;
mod decode;
mod finding;
pub mod input;
#[cfg(target_os = "linux")]
mod procs;
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub use procs::fork_self_test;
pub mod rules;
pub mod schema;
mod stream;
mod tree;
mod validator;
pub mod xml;

#[cfg(feature = "mimalloc")]
pub use alloc::libxml2_on_mimalloc;
pub use finding::{Finding, Report, Severity};
pub use schema::{SchemaFile, SchemaSet, SchemaSetInfo};
pub use validator::{Validator, ValidatorOptions, DEFAULT_MAX_BYTES};

/// Errors that stop validation altogether (never a property of the document).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("schema set `{id}` does not compile: {message}")]
    SchemaCompile { id: String, message: String },
    #[error("schema set is incomplete: {0}")]
    SchemaIncomplete(String),
    #[error("schema file {path} does not match its manifest hash")]
    SchemaHash { path: String },
    #[error("failed to read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("schema manifest is not valid: {0}")]
    Manifest(String),
}
