//! One module per subcommand.

pub mod certs;
pub mod common;
pub mod connect;
pub mod console;
pub mod evidence;
pub mod fixture;
pub mod fuzz;
pub mod generate;
pub mod matrix;
pub mod mock_server;
pub mod replay;
pub mod rules;
pub mod run;
pub mod schema;
pub mod send;
pub mod session;
pub mod sign;
pub mod tx;
pub mod validate;
