#!/usr/bin/env bash
# Every check CI runs: formatting, lints, and all tests (unit, fixtures, properties,
# TLS, and the PHP / zeep / .NET interop stacks, which it installs when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# A one-off build gains nothing from incremental caches, which double the target folder.
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi
# Say how much disk there is: a full disk otherwise shows up as a rustc crash.
df -h . | tail -n 1 | awk '{print "test: " $4 " free on " $6}' >&2
scripts/setup.sh --test
interop/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
