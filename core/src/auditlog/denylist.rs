//! The configurable list of audit-logged methods that deny release (`auditlog.clean`).
//!
//! Default choice (each entry changes what runs on the VM, who it runs as, or exposes its console):
//! - instance-scoped: `setMetadata` (user-data, ssh-keys, startup scripts), `setServiceAccount`,
//!   `attachDisk`/`detachDisk` (swap or read the boot disk), `setMachineType`,
//!   `updateShieldedInstanceConfig` / `setShieldedInstanceIntegrityPolicy` (weaken measured boot),
//!   `getSerialPortOutput` (data_access: reads console output, which may carry secrets),
//!   `updateNetworkInterface` / `addAccessConfig` (re-route traffic to the VM), `update` (the
//!   whole-instance PUT can change any of the above), `setIamPolicy` (grants others instance rights,
//!   e.g. `compute.instances.setMetadata` or OS Login);
//! - project-scoped: `projects.setCommonInstanceMetadata` (project-wide ssh-keys / startup scripts
//!   apply to every VM).
//!
//! Not denied: `insert`, `start`, `stop`, `reset`, `setLabels`, `setTags`, `setDeletionProtection`,
//! `setScheduling`: they do not change the software or identity of the VM (a stop/start changes the
//! fingerprint, which `instance.fingerprint` governs).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::classify::normalize_method;

/// Methods that deny release, written without a version prefix (`compute.instances.setMetadata`);
/// a version prefix in the configuration is ignored too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DenyList {
    /// Denied when logged on the approved instance.
    pub instance_methods: BTreeSet<String>,
    /// Denied when logged anywhere in the VM's project.
    pub project_methods: BTreeSet<String>,
}

impl Default for DenyList {
    fn default() -> Self {
        let instance = [
            "setMetadata",
            "setServiceAccount",
            "attachDisk",
            "detachDisk",
            "setMachineType",
            "updateShieldedInstanceConfig",
            "setShieldedInstanceIntegrityPolicy",
            "getSerialPortOutput",
            "updateNetworkInterface",
            "addAccessConfig",
            "update",
            "setIamPolicy",
        ];
        Self {
            instance_methods: instance
                .iter()
                .map(|m| format!("compute.instances.{m}"))
                .collect(),
            project_methods: ["compute.projects.setCommonInstanceMetadata".to_owned()]
                .into_iter()
                .collect(),
        }
    }
}

impl DenyList {
    /// True when `method` (any version prefix) is a denied instance-scoped method.
    pub fn denies_on_instance(&self, method: &str) -> bool {
        contains_normalized(&self.instance_methods, method)
    }

    /// True when `method` (any version prefix) is a denied project-scoped method.
    pub fn denies_in_project(&self, method: &str) -> bool {
        contains_normalized(&self.project_methods, method)
    }
}

fn contains_normalized(set: &BTreeSet<String>, method: &str) -> bool {
    let wanted = normalize_method(method);
    set.iter().any(|m| normalize_method(m) == wanted)
}
