# Sourced by bench/mock-load/run.sh and bench/soak/run.sh (from the repository root):
# builds eioa in release (unless EIOA_SKIP_BUILD=1) and the load driver, and sets
# EIOA and DRIVER to their paths.
echo "== build"
if [ "${EIOA_SKIP_BUILD:-0}" = 1 ]; then
  echo "EIOA_SKIP_BUILD=1: using the eioa binary already in target/release"
else
  cargo build --release -p eioa-cli
fi
CARGO_TARGET_DIR="$ROOT/target/mock-load-driver" \
  cargo build --release --manifest-path bench/mock-load/driver/Cargo.toml
EIOA="$ROOT/target/release/eioa"
DRIVER="$ROOT/target/mock-load-driver/release/eioa-load-driver"
