//! The console over HTTP (what its pages fetch) and in a real browser.

mod api;
mod browser;
mod support;
