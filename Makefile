# tokendist: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test deps build lint fmt check clean screenshots

## demo: run the main job on the embedded default scenario (gcpsim + daemons + console as they land)
demo: deps
	$(CARGO) build --workspace --bins
	scripts/demo

## test: everything, as CI runs it (system packages are installed first)
# (nextest builds every package's binaries with its tests, into target/debug/ where the end-to-end
# tests find them; a separate `cargo build --bins` would compile the workspace a second time with
# other features.)
test: deps
	scripts/with-firestore-emulator $(CARGO) nextest run --workspace --no-fail-fast

## screenshots: render the console's screens to screenshots/*.png (SVG cells rasterized in DejaVu Sans Mono)
screenshots: deps
	$(CARGO) run -p tokendist-tui --example screenshots

## deps: install missing system packages (idempotent)
deps:
	scripts/install-deps

build:
	$(CARGO) build --workspace --all-targets

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tokendist-tui --all-targets --features fixtures -- -D warnings

fmt:
	$(CARGO) fmt --all

## check: lint + test
check: lint test

clean:
	$(CARGO) clean
