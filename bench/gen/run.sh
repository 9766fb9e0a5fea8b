#!/usr/bin/env bash
# Generated-and-validated cases per second, release build, on 1 and 2 threads.
# Every case is generated (proptest strategies), mutated for 34 of 35 classes,
# validated by libxml2 + the business rules, and re-read by the model's parser.
#
#   bench/gen/run.sh [CASES]      (default 100000)
set -euo pipefail
cd "$(dirname "$0")/../.."
cases="${1:-100000}"
cargo build --release -q -p eioa-cli
bin=target/release/eioa
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for t in 1 2; do
  # Exit status 1 means surprises were found; the rate is still the measurement.
  line=$("$bin" fuzz --cases "$cases" --seed 1 --threads "$t" --regressions-dir "$out" | grep -E 'cases/s' || true)
  echo "threads=$t: $line"
done
