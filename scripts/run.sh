#!/usr/bin/env bash
# The main job: the full conformance suite against the built-in FK stand-in, with a
# report in reports/latest/. Installs missing system packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p eioa-cli
exec ./target/release/eioa run --target mock --out "${REPORTS:-reports}" "$@"
