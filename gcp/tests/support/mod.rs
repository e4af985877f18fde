//! Test harness: starts gcpsim in-process (from the demo scenario or a TOML string) and builds this
//! crate's clients against it with no retries, so a failure costs milliseconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};

use tokendist_gcp::{ComputeClient, EvidenceCollector, GcpConfig, LoggingClient, MetadataClient};
use tokendist_sim::{RunningSim, Scenario};

/// The directory of the simulator's scenarios (keys and cloud-configs live next to demo.toml).
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/scenarios")
}

/// The demo scenario, as the simulator parses it.
pub fn demo_scenario() -> Scenario {
    Scenario::from_file(&scenarios_dir().join("demo.toml")).unwrap()
}

/// Starts the simulator on loopback.
pub async fn start(scenario: Scenario) -> RunningSim {
    RunningSim::start(scenario, "127.0.0.1".parse().unwrap())
        .await
        .unwrap()
}

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
