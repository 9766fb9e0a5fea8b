//! One module per subcommand.

pub mod common;
pub mod rules;
pub mod schema;
pub mod validate;
