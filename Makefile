# tokendist: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test deps build lint fmt check clean screenshots image checkov terraform-fmt bench deny advisories fuzz soak

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

## bench: the load tool's target scenarios on release binaries (tokenserver beside the bare tonic mTLS
# echo in each run): one caller; one caller with 50 ms on every Google call; open loop 500/s for 60 s;
# closed loop 256. Tables on stdout, JSON in target/bench/ (docs/performance.md explains the columns).
bench: deps
	$(CARGO) build --release -p tokendist-load -p tokendist-server -p tokendist-sim --bins
	scripts/bench

## soak: 1,000 simulated VMs for 10 minutes against two tokenserver replicas on one Firestore emulator
# while approvals and revocations arrive (release build); fails on a wrong release, a lost event, an
# error, or a replica whose RSS or descriptors are not flat. SOAK_DURATION, SOAK_VMS change it.
soak: deps
	scripts/soak

## deps: install missing system packages (idempotent)
deps:
	scripts/install-deps

build:
	$(CARGO) build --workspace --all-targets

lint: checkov terraform-fmt deny
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tokendist-tui --all-targets --features fixtures -- -D warnings

## image: the tokenclient container image (buildah, FROM scratch, reproducible); prints its digest.
# The binary (profile `client`: release, optimised for size) is built with the checkout's and cargo's paths remapped, into its own target
# directory, so that two builds of one commit are byte-identical wherever they run.
IMAGE_DIR := target/image
image: deps
	CARGO_TARGET_DIR=$(IMAGE_DIR)/cargo \
	RUSTFLAGS="--remap-path-prefix=$(CURDIR)=/src --remap-path-prefix=$(HOME)/.cargo=/cargo" \
	  $(CARGO) build --profile client --locked -p tokendist-client --bin tokenclient
	scripts/build-image $(IMAGE_DIR)/cargo/client/tokenclient $(IMAGE_DIR)/tokenclient

## checkov: static security checks of terraform/ (pinned in terraform/requirements-checkov.txt, in a venv)
CHECKOV_VENV := target/venv-checkov
PYTHON ?= /usr/bin/python3
$(CHECKOV_VENV)/.installed: terraform/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r terraform/requirements-checkov.txt
	touch $@
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact --framework terraform -d terraform/

## deny: cargo-deny against deny.toml (licenses, bans, sources; advisories when the RustSec database
# can be fetched or a copy is on the machine, else a notice). Installs the pinned cargo-deny once.
deny:
	scripts/deny

## advisories: as deny, but failing when the RustSec advisories cannot be checked (release builds)
advisories:
	scripts/deny --require-advisories

## fuzz: every cargo-fuzz target in fuzz/ for FUZZ_SECONDS each (default 60), FUZZ_JOBS at a time
# (default 1; FUZZ_JOBS=3 on 2 cores runs all 22 for 10 minutes each in 75 minutes)
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz

## terraform-fmt: `terraform fmt -check` where terraform is installed (providers are not needed)
terraform-fmt:
	@if command -v terraform >/dev/null; then terraform fmt -check -recursive terraform/; \
	else echo "terraform not installed: terraform fmt skipped"; fi

fmt:
	$(CARGO) fmt --all

## check: lint + test
check: lint test

clean:
	$(CARGO) clean
