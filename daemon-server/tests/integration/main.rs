//! tokenserver's integration tests, in one test binary: each file is a module (one compile and one link
//! instead of one per file, the largest part of the test build). nextest still runs every test in its
//! own process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admission;
mod approval_cache;
mod boot_disk_and_audit_methods;
mod caller_learns_names;
mod check_config;
mod cloudconfig_template_config;
mod daemon;
mod faults;
mod grpc_conventions;
mod identity_binding;
mod identity_keys;
mod observability;
mod project_metadata;
mod release;
mod session_probing;
mod single_use_tokens;
mod store_and_replicas;
mod store_fault;
mod tpm;
mod watch_reconcile;
