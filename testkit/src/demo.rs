//! The demo scenario (`sim/scenarios/demo.toml`), Bob's project with a good VM and a tampered one:
//! its values as named constants (checked against the file by this module's tests, so they cannot
//! drift), the paths of its files, and the scenario itself or a variant of its text.

use std::path::{Path, PathBuf};

use tokendist_sim::Scenario;

/// The demo's project.
pub const PROJECT: &str = "bob-project";
/// The zone of both demo VMs.
pub const ZONE: &str = "us-central1-a";
/// The service account both demo VMs run as.
pub const SERVICE_ACCOUNT: &str = "tokenclient@bob-project.iam.gserviceaccount.com";
/// The VM as Alice wants it.
pub const GOOD_VM: &str = "tokenclient-good";
/// The good VM's instance id.
pub const GOOD_VM_ID: &str = "4708131932155938716";
/// The good VM's external (NAT) address: the peer address the server sees.
pub const GOOD_VM_NAT_IP: &str = "34.121.225.36";
/// The same VM after Bob tampered with it (image by tag, an ssh key, a setMetadata in its history).
pub const TAMPERED_VM: &str = "tokenclient-tampered";
/// The tampered VM's instance id.
pub const TAMPERED_VM_ID: &str = "7294015836620471935";
/// The container digest the good VM's cloud-config runs (trusted by `demo-settings.toml`).
pub const GOOD_DIGEST: &str =
    "sha256:7a82d1280debe6609a7558cd90a33182849b4001616a6742bd1ed07e69cdb6a7";

/// The repository's root directory.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The simulator's scenarios directory (the demo's cloud-configs and keys live next to demo.toml).
pub fn scenarios_dir() -> PathBuf {
    repo_dir().join("sim/scenarios")
}

/// `sim/scenarios/demo.toml`.
pub fn demo_path() -> PathBuf {
    scenarios_dir().join("demo.toml")
}

/// The demo scenario's TOML text, for variants.
pub fn demo_toml() -> String {
    std::fs::read_to_string(demo_path()).unwrap()
}

/// The demo scenario, as the simulator parses it.
pub fn demo_scenario() -> Scenario {
    Scenario::from_file(&demo_path()).unwrap()
}

/// A scenario from TOML text (a variant of [`demo_toml`]), its paths resolved against the demo's
/// directory.
pub fn scenario_from(text: &str) -> Scenario {
    Scenario::from_toml_str(text, &scenarios_dir()).unwrap()
}

/// The demo scenario with the good VM's vTPM turned off: Google publishes no EK for it.
pub fn scenario_without_good_ek() -> Scenario {
    let text = demo_toml()
        .replacen("ek_public_key = \"keys/tokenclient-good-ek.pem\"\n", "", 1)
        .replacen("vtpm = true", "vtpm = false", 1);
    scenario_from(&text)
}

/// The demo scenario with `entries` padding entries in the good VM's audit log after its insert
/// (so that reading its history takes several pages).
pub fn scenario_with_padded_history(entries: usize) -> Scenario {
    let text = demo_toml().replacen(
        "status = \"RUNNING\"\n",
        &format!("status = \"RUNNING\"\npad_history = {entries}\n"),
        1,
    );
    scenario_from(&text)
}

/// The demo's `cloud_config_template.*` settings lines (`sim/scenarios/demo-settings.toml`), with
/// the template's path made absolute, so that they work from any settings file (the console then
/// approves the good VM against its template).
pub fn demo_template_settings() -> String {
    let demo = std::fs::read_to_string(scenarios_dir().join("demo-settings.toml")).unwrap();
    let template = repo_dir().join("dist/cloud-config/tokenclient.template.yaml");
    demo.lines()
        .filter(|line| line.starts_with("cloud_config_template."))
        .map(|line| {
            if line.starts_with("cloud_config_template.path") {
                format!(
                    "cloud_config_template.path = {:?}\n",
                    template.to_str().unwrap()
                )
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm<'a>(demo: &'a toml::Table, name: &str) -> &'a toml::Table {
        demo["vm"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(toml::Value::as_table)
            .find(|vm| vm["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("demo.toml has no VM named {name}"))
    }

    #[test]
    fn the_constants_are_the_values_of_demo_toml() {
        let demo: toml::Table = demo_toml().parse().unwrap();
        assert_eq!(demo["project"][0]["id"].as_str(), Some(PROJECT));
        for (name, id) in [(GOOD_VM, GOOD_VM_ID), (TAMPERED_VM, TAMPERED_VM_ID)] {
            let vm = vm(&demo, name);
            assert_eq!(vm["id"].as_str(), Some(id), "{name}");
            assert_eq!(vm["project"].as_str(), Some(PROJECT), "{name}");
            assert_eq!(vm["zone"].as_str(), Some(ZONE), "{name}");
            assert_eq!(
                vm["service_account"].as_str(),
                Some(SERVICE_ACCOUNT),
                "{name}"
            );
        }
        assert_eq!(vm(&demo, GOOD_VM)["nat_ip"].as_str(), Some(GOOD_VM_NAT_IP));
    }

    #[test]
    fn the_good_vm_runs_the_trusted_digest_and_the_settings_trust_it() {
        let cloud_config =
            std::fs::read_to_string(scenarios_dir().join("tokenclient-good.cloud-config.yaml"))
                .unwrap();
        assert!(cloud_config.contains(&format!("tokenclient@{GOOD_DIGEST}")));
        let settings = std::fs::read_to_string(scenarios_dir().join("demo-settings.toml")).unwrap();
        assert!(settings.contains(GOOD_DIGEST));
    }

    #[test]
    fn the_demo_and_its_variants_parse() {
        demo_scenario();
        scenario_without_good_ek();
        scenario_with_padded_history(3);
        let settings = demo_template_settings();
        assert!(
            settings.contains("cloud_config_template.path = \"/"),
            "{settings}"
        );
    }
}
