# The one entry point for people and CI (`.ci/run` calls `make test`).
# `make help` lists the targets.

CARGO ?= cargo
HOST_TARGET := x86_64-unknown-linux-musl
# The shipped x86_64 binary: nightly build-std, like every target (targets/).
STATIC_BIN := target/cross/$(HOST_TARGET)/release/sonde

.PHONY: help build run test lint cross cross-test size size-detail bench fuzz-smoke setup clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup: ## install what the build and the tests need (Debian packages, rustup targets)
	tests/setup.sh
	cross/setup.sh

build: setup ## the static x86_64 binary as shipped, target/cross/x86_64-unknown-linux-musl/release/sonde
	cross/build.sh x86_64

run: ## run sonde with its embedded default config (endpoint on :9858)
	$(CARGO) run --release --

test: build ## every test: unit, black-box (static binary, every target under qemu), init, fuzz smoke, sizes, lint
	SONDE_BIN=$(CURDIR)/$(STATIC_BIN) $(CARGO) test --workspace
	$(CARGO) test --features sonde/tls --test unbound --test push --test checks --test logs --test http_check --test notify
	$(MAKE) cross-test
	cross/size.sh
	FUZZ_SECONDS=$${FUZZ_SECONDS:-5} agent/fuzz/smoke.sh
	$(MAKE) lint

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --workspace --all-targets --features sonde/tls -- -D warnings

cross: setup ## build every target in targets/ (static musl; zig links, nightly build-std where listed)
	cross/build.sh

cross-test: cross ## the black-box tests against every target's binary, under qemu-user
	cross/test.sh

size: cross ## stripped static binary size per target, against the budgets in targets/; fails past one
	cross/size.sh

size-detail: setup ## what each component costs (x86_64, stable std with symbols), to weigh a dependency
	rustup target list --installed | grep -qx $(HOST_TARGET) || rustup target add $(HOST_TARGET)
	$(CARGO) build --profile release-symbols --target $(HOST_TARGET)
	cross/size-detail.py target/$(HOST_TARGET)/release-symbols/sonde

bench: build ## sonde against Debian's node_exporter, same host, same run (writes BENCHMARKS.md)
	python3 tests/bench.py $(STATIC_BIN)

fuzz-smoke: ## every fuzz target for FUZZ_SECONDS (default 20) each
	agent/fuzz/smoke.sh

clean:
	$(CARGO) clean
