# The two entry points of the README. Both install missing system packages first.
.PHONY: run test setup setup-test fmt lint unit

CARGO ?= cargo
REPORTS ?= reports

## run: the conformance suite against the built-in FK stand-in; writes reports/
run: setup
	$(CARGO) build --release --locked -p eioa-cli
	./target/release/eioa run --target mock --out $(REPORTS)

## test: formatting, lints and every test (unit, integration, properties, interop)
test: setup-test fmt lint unit

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test
	@if [ -x interop/setup.sh ]; then interop/setup.sh; fi

fmt:
	$(CARGO) fmt --all --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked
