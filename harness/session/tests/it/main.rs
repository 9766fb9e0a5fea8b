mod browser;
mod checklist;
mod e2e;
mod judge;
mod support;
