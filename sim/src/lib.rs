//! tokendist-sim (`gcpsim`): a local Google Cloud for tests and demos: per-VM metadata servers,
//! Google's JWKS, the Compute Engine REST API subset we use, and Cloud Logging `entries.list`.
//!
//! In-process use: `Scenario::from_file` → `RunningSim::start` → talk to `api` / `metadata[vm]`,
//! drive admin operations through `RunningSim::handle()`.

pub mod audit;
pub mod error;
pub mod faults;
pub mod fingerprint;
pub mod google_error;
pub mod handle;
pub mod http;
pub mod identity;
pub mod logfilter;
pub mod resources;
pub mod running;
pub mod scenario;
pub mod signing;
pub mod world;

pub use error::SimError;
pub use faults::{Api, FaultSpec};
pub use handle::{AuditEntryInput, MintTokenRequest, RotationResult, SimHandle};
pub use running::RunningSim;
pub use scenario::{EkSource, Scenario, ScenarioError};
