//! tokendist-sim (`gcpsim`): a local Google Cloud for tests and demos: per-VM metadata servers,
//! Google's JWKS, the Compute Engine REST API subset we use, and Cloud Logging `entries.list`.
//!
//! In-process use: `Scenario::from_file` → `RunningSim::start` → talk to `api` / `metadata[vm]`,
//! drive admin operations through `RunningSim::handle()`. Everything else is private. The modules,
//! from the leaves up (each uses only modules listed before it):
//!
//! - `error`: [`SimError`]. `fingerprint`: random fingerprints, ids, tokens and operation names.
//!   `compute_links`: Compute's URL prefix, instance and disk self links, timestamp format.
//!   `pem`: what a PEM certificate looks like. `google_error`: Google's error bodies.
//!   `faults`: injected faults ([`FaultSpec`]). `signing`: the rotating RS256 keys and the JWKS.
//!   `logfilter`: the Cloud Logging filter language. `traffic`: requests per Google method and
//!   injected latency per method ([`TrafficStats`], [`LatencySpec`]). `sinks`: Logging sinks and
//!   the routing of new entries to them; `publisher`: delivery of routed entries to the Pub/Sub
//!   emulator.
//! - `scenario`: the parsed, validated [`Scenario`] (projects, VMs, declared history).
//! - `audit`: Cloud Audit Log entries as Compute writes them.
//! - `operation`: `compute#operation` objects.
//! - `world`: the mutable state (VMs, disks, operations, audit log, keys, faults) and its mutations.
//! - `resources`: Compute resource JSON rendered from the world. `identity`: identity token claims.
//! - `handle`: [`SimHandle`], locked access to the world and the admin operations.
//! - `http`: the API and metadata-server routers. `running`: [`RunningSim`], the listeners.

mod audit;
mod compute_links;
mod error;
mod faults;
mod fingerprint;
mod google_error;
mod handle;
mod http;
mod identity;
mod logfilter;
mod operation;
mod pem;
mod publisher;
mod resources;
mod running;
mod scenario;
mod signing;
mod sinks;
mod traffic;
mod world;

pub use error::SimError;
pub use faults::{Api, FaultSpec};
pub use handle::{AuditEntryInput, MintTokenRequest, RotationResult, SimHandle};
pub use running::{RunningSim, SimOptions};
pub use scenario::{EkSource, Scenario, ScenarioError};
pub use traffic::{LatencySpec, TrafficStats, parse_millis};

/// For the fuzz targets (`fuzz/`): the Cloud Logging filter parser, which is private. Not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// Parses `filter` as `entries.list` does and, when it parses, evaluates it on `entry` (a
    /// LogEntry as JSON): `Err` with the parser's message for a filter Logging would refuse.
    pub fn log_filter_matches(filter: &str, entry: &serde_json::Value) -> Result<bool, String> {
        crate::logfilter::parse(filter)
            .map(|parsed| parsed.matches(entry))
            .map_err(|e| e.to_string())
    }
}
