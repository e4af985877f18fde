//! The simulated world of a run: N copies of the demo's good VM (its cloud-config, image, keys and
//! shielded settings; each its own instance with its own name, id and addresses) spread round robin
//! over P projects, written as a gcpsim scenario file. With `--tpm` every VM's shielded identity
//! reports the software TPM's EK and AK (`tokendist_testkit::soft_tpm`) instead of the demo's keys.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The zone of every simulated VM.
pub const ZONE: &str = "us-central1-a";

/// One simulated VM.
#[derive(Debug, Clone)]
pub struct SimVm {
    pub name: String,
    pub project: String,
}

/// The project of index `p`.
pub fn project_id(p: usize) -> String {
    format!("load-project-{p}")
}

/// The VMs of a run: `load-vm-00000`.. spread over `projects` projects.
pub fn vms(count: usize, projects: usize) -> Vec<SimVm> {
    (0..count)
        .map(|i| SimVm {
            name: format!("load-vm-{i:05}"),
            project: project_id(i % projects.max(1)),
        })
        .collect()
}

/// The PEM files of the EK and AK every VM's shielded identity reports.
#[derive(Debug, Clone)]
pub struct VtpmKeys {
    pub ek: PathBuf,
    pub ak: PathBuf,
}

impl VtpmKeys {
    /// The demo's good VM's keys (no TPM attestation is driven with them).
    pub fn demo(demo_dir: &Path) -> VtpmKeys {
        VtpmKeys {
            ek: demo_dir.join("keys/tokenclient-good-ek.pem"),
            ak: demo_dir.join("keys/tokenclient-good-ak.pem"),
        }
    }
}

/// The scenario's TOML text; `demo_dir` holds the demo's cloud-config.
pub fn scenario_toml(vms: &[SimVm], projects: usize, demo_dir: &Path, keys: &VtpmKeys) -> String {
    let file = |name: &str| format!("{:?}", demo_dir.join(name).display().to_string());
    let quoted = |path: &Path| format!("{:?}", path.display().to_string());
    let mut text = String::from(
        "# tokendist-load: N copies of the demo's good VM.\n[settings]\nprincipal = \"bob@load.example\"\n",
    );
    for p in 0..projects {
        let _ = write!(
            text,
            "\n[[project]]\nid = \"{id}\"\nnumber = {number}\ncreated = \"2026-10-01T09:00:00Z\"\n[project.metadata]\nenable-oslogin = \"FALSE\"\n",
            id = project_id(p),
            number = 493_201_784_516u64 + p as u64,
        );
    }
    for (i, vm) in vms.iter().enumerate() {
        let (hi, lo) = (i / 250, i % 250 + 2);
        let _ = write!(
            text,
            r#"
[[vm]]
id = "{id}"
name = "{name}"
project = "{project}"
zone = "{ZONE}"
machine_type = "e2-small"
service_account = "tokenclient@{project}.iam.gserviceaccount.com"
service_account_unique_id = "104938571209384756120"
scopes = ["https://www.googleapis.com/auth/cloud-platform"]
created = "2026-11-02T10:15:30.250Z"
user_data = {user_data}
boot_image = "https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/cos-stable-109-17800-147-54"
internal_ip = "10.{a}.{hi}.{lo}"
nat_ip = "34.{a}.{hi}.{lo}"
status = "RUNNING"
confidential = false
ek_public_key = {ek}
signing_key_public = {ak}
labels = {{ app = "tokenclient" }}
[vm.shielded]
secure_boot = true
vtpm = true
integrity_monitoring = true
[vm.metadata]
block-project-ssh-keys = "TRUE"
google-logging-enabled = "true"
"#,
            id = 4_708_131_932_155_938_716u64 + i as u64,
            name = vm.name,
            project = vm.project,
            a = 128 + (hi / 250),
            hi = hi % 250,
            user_data = file("tokenclient-good.cloud-config.yaml"),
            ek = quoted(&keys.ek),
            ak = quoted(&keys.ak),
        );
    }
    text
}
