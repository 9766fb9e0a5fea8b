//! One module per subcommand.

pub mod common;
pub mod replay;
pub mod rules;
pub mod run;
pub mod schema;
pub mod validate;
