//! tokendist-server: the library behind `tokenserver`, Alice's daemon.
//!
//! - [`config`]: typed settings and their layered loading.
//! - [`cli`]: the command line (with the original server's flag names as aliases).
//! - [`status`]: the one mapping from failures to gRPC statuses.
//! - [`metrics`]: Prometheus metrics and their listener.
//! - [`tls`]: TLS/mTLS listener with reload and peer information.

pub mod cli;
pub mod config;
pub mod metrics;
pub mod status;
pub mod tls;
