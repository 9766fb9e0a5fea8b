#!/usr/bin/env bash
# Generated-and-validated cases per second, optimised build, on 1 and 2 threads.
# Every case is generated (proptest strategies), mutated for 34 of 35 classes,
# validated by libxml2 + the business rules, and re-read by the model's parser:
# the loop `eioa fuzz` runs (harness/gen/benches/fuzz.rs).
#
#   bench/gen/run.sh [CASES]      (default 100000)
set -euo pipefail
cd "$(dirname "$0")/../.."
cases="${1:-100000}"
cargo bench -q -p eioa-gen --bench fuzz -- "$cases"
