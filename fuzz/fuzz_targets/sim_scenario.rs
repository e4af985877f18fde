//! Fuzzes gcpsim's scenario files (`tokendist_sim::Scenario::from_toml_str`: the TOML parse and the
//! validation of projects, VMs, keys, metadata, history and faults), with relative paths resolved
//! against `sim/scenarios` (so the seeds' user-data files are found). Never panics; a scenario
//! that validates finds each of its VMs by name.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tokendist_sim::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../sim/scenarios"));
    let Ok(scenario) = Scenario::from_toml_str(text, base) else {
        return;
    };
    for vm in &scenario.vms {
        assert!(scenario.vm(&vm.name).is_some());
    }
});
