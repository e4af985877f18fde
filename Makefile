# tokendist: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test deps build lint fmt check clean

## demo: run the main job on the embedded default scenario (gcpsim + daemons + console as they land)
demo: deps
	$(CARGO) build --workspace --bins
	scripts/demo

## test: everything, as CI runs it (system packages are installed first)
test: deps
	$(CARGO) build --workspace --bins
	scripts/with-firestore-emulator $(CARGO) nextest run --workspace --no-fail-fast

## deps: install missing system packages (idempotent)
deps:
	scripts/install-deps

build:
	$(CARGO) build --workspace --all-targets

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## check: lint + test
check: lint test

clean:
	$(CARGO) clean
