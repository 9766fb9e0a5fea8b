#!/usr/bin/env bash
# Every check CI runs: formatting, lints, and all tests (unit, fixtures, properties,
# TLS, and the PHP / zeep / .NET interop stacks, which it installs when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
interop/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
