//! eioa-report's integration tests.

mod browser;
mod connect;
mod evidence;
mod fixtures;
