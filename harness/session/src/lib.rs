//! Conformance sessions: a named window of exchanges from a vendor's system, judged
//! against a checklist.
