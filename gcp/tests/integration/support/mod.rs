//! Test harness: builds this crate's clients against gcpsim in-process (`tokendist_testkit::gcpsim`,
//! on the demo scenario or a variant) with no retries, so a failure costs milliseconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Not every test binary uses every helper or re-exported name.
#![allow(dead_code, unused_imports)]

use tokendist_gcp::{ComputeClient, EvidenceCollector, GcpConfig, LoggingClient, MetadataClient};
use tokendist_sim::RunningSim;
pub use tokendist_testkit::demo::{demo_scenario, scenarios_dir};
pub use tokendist_testkit::gcpsim::start;

/// Client configuration for `sim`, with the metadata server of `vm` if given.
pub fn config(sim: &RunningSim, vm: Option<&str>) -> GcpConfig {
    GcpConfig::for_simulator(sim.api, vm.map(|vm| sim.metadata[vm]))
}

pub async fn compute(sim: &RunningSim) -> ComputeClient {
    ComputeClient::new(&config(sim, None)).await.unwrap()
}

pub async fn logging(sim: &RunningSim) -> LoggingClient {
    LoggingClient::new(&config(sim, None)).await.unwrap()
}

pub async fn collector(sim: &RunningSim) -> EvidenceCollector {
    EvidenceCollector::new(compute(sim).await, logging(sim).await)
}

pub fn metadata(sim: &RunningSim, vm: &str) -> MetadataClient {
    MetadataClient::new(&config(sim, Some(vm))).unwrap()
}
