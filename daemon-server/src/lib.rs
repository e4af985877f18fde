//! tokendist-server: the library behind `tokenserver`, Alice's daemon.
//!
//! - [`config`]: typed settings and their layered loading; [`cli`]: the command line (with the
//!   original server's flag names as aliases).
//! - [`material`]: everything loaded from the files and URLs the settings name (keys, TLS, EK CAs,
//!   Google clients), shared by the start, SIGHUP and [`check_config`] (`--check-config[=full]`).
//! - [`serve`]: start-up, systemd notification, reload on SIGHUP, drain on SIGTERM.
//! - [`service`]: the gRPC service (one wrapper times every RPC and extracts its token and peer);
//!   [`authenticate`]: identity tokens; [`sessions`]: `BeginSession`, the session a step names and
//!   why it is refused;
//!   [`attest`] and [`prove`]: the vTPM attestation steps, with [`ek_check`] / [`ek_certificate`]
//!   (where an EK is accepted from), [`tpm_session`] (a proven session as policy evidence) and
//!   [`rate_limit`]; [`admission`]: the server-wide bound on RPCs in progress; [`release`]: the `GetToken` decision, with [`approval_cache`] (signature results
//!   and opened secrets per approval record); [`denials`]: recording denials;
//!   [`unapproved`]: the review recorded for a VM that asks without an approval.
//! - [`state`]: what handlers share; [`key_files`]: the server's keys.
//! - [`status`]: the one mapping from failures to gRPC statuses and the callers' messages;
//!   [`store_errors`]: store failures, decided on their typed kind; [`grpc_limits`]: size limits
//!   (metadata, messages) answered as RESOURCE_EXHAUSTED.
//! - [`tls`]: TLS/mTLS listener with reload and peer information; [`metrics`]: Prometheus metrics;
//!   [`readiness`]: what `/readyz` answers (store and Google reachable), the pending-VM gauge.
//! - [`probe`]: `tokenserver probe`, asking a running server's `/readyz`.

pub mod admission;
pub mod approval_cache;
pub mod attest;
pub mod authenticate;
pub mod check_config;
pub mod cli;
pub mod config;
pub mod denials;
pub mod ek_certificate;
pub mod ek_check;
pub mod grpc_limits;
pub mod key_files;
pub mod material;
pub mod metrics;
pub mod probe;
pub mod prove;
pub mod rate_limit;
pub mod readiness;
pub mod release;
pub mod review_cache;
pub mod serve;
pub mod service;
pub mod sessions;
pub mod state;
pub mod status;
pub mod store_errors;
pub mod tls;
pub mod tpm_session;
pub mod unapproved;
pub mod watch;
