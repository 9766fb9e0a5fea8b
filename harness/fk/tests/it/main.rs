//! FK's behaviour end to end through `Fk::handle`: transport, envelope, payload and
//! signature rules, each with the HTTP status and fault a real client would see.

mod docs_table;
mod never_panics;
mod payload;
mod signature;
mod support;
mod transport;
