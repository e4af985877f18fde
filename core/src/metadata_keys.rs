//! Compute Engine metadata keys, classified: which keys run code or open access on a VM when they are
//! set on the instance or in the project's `commonInstanceMetadata`, which are known harmless, and how
//! a value is read. Pure data and functions; used by `instance.metadata`, `instance.project_metadata`,
//! proposals (dangerous keys are never auto-allowed) and the console's `approve` (refused outright).
//!
//! The rules, all failing closed:
//! - A key that runs code (startup, shutdown and sysprep scripts in every documented form, a
//!   container declaration, `user-data-encoding`) or grants access whatever its value (`ssh-keys`,
//!   `sshKeys`, `windows-keys`, OS Config settings) is dangerous.
//! - A switch (`enable-oslogin`, `serial-port-enable`, ...) is dangerous unless it is clearly off:
//!   exactly `FALSE`, `false` or `False`, the spellings every reader (Go's `strconv.ParseBool` in the
//!   guest agent, the older Python agent's `.lower() == 'true'`) agrees mean off. `0`, `no`, `off`, an
//!   empty value or surrounding spaces are not clearly off.
//! - "Clearly on" (what `block-project-ssh-keys` needs) is exactly `TRUE`, `true` or `True`.
//! - GCE keys are case-sensitive, but the guest agent decodes the attribute map with Go's
//!   `encoding/json`, which matches field names case-insensitively (folding `ſ` to `s` and the Kelvin
//!   sign to `k`). Any other spelling of a known key is dangerous: it may be read as that key, and it
//!   may override the canonical one (`Block-Project-SSH-Keys=false`).
//! - A key that is not a GCE key name (`[A-Za-z0-9_-]`, at most 128 characters) is dangerous.
//! - At project level everything else that is not known harmless fails as unknown (an allow-list);
//!   at instance level unknown keys need the approval's allowed set, as before.

/// Why a key is refused: it runs code on the VM or opens access to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: String,
    pub reason: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}", self.key, self.reason)
    }
}

/// What a key with its value means for the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClass {
    /// Known and harmless with this value.
    Harmless,
    /// Runs code on the VM or opens access to it (never approvable).
    Dangerous(String),
    /// Not a key this list knows.
    Unknown,
}

/// How a known key behaves.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Harmless whatever the value.
    Harmless,
    /// Runs code or opens access whatever the value.
    Always(&'static str),
    /// Opens access unless clearly off.
    UnlessOff(&'static str),
    /// Harmless only when clearly on.
    UnlessOn(&'static str),
    /// Harmless at instance level (pinned elsewhere), dangerous in the project.
    InstanceOnly(&'static str),
    /// Project SSH keys: open access unless the instance blocks project keys.
    SshKeys,
}

const SCRIPT: &str =
    "runs a script as root (SYSTEM on Windows) when the VM boots, specializes or shuts down";
const SSH_KEYS: &str = "adds SSH keys that log in to the VM";
const OS_LOGIN: &str = "configures OS Login, which lets IAM principals log in over SSH";
const OS_CONFIG: &str = "configures the OS Config agent, which runs patch jobs and software policies as root from the API";

/// Key families by prefix: every documented form (`-url`, `-ps1`, `-cmd`, `-bat`, `-sh`, ...) and any
/// future suffix of the same family.
const DANGEROUS_PREFIXES: &[(&str, &str)] = &[
    ("startup-script", SCRIPT),
    ("shutdown-script", SCRIPT),
    ("windows-startup-script", SCRIPT),
    ("windows-shutdown-script", SCRIPT),
    ("sysprep-specialize-script", SCRIPT),
    ("sysprep-oobe-script", SCRIPT),
    ("osconfig-", OS_CONFIG),
];

/// Known keys by their canonical spelling.
const KNOWN: &[(&str, Rule)] = &[
    ("ssh-keys", Rule::SshKeys),
    ("sshKeys", Rule::SshKeys),
    (
        "windows-keys",
        Rule::Always("creates Windows accounts with passwords on the VM"),
    ),
    (
        "user-data-encoding",
        Rule::Always(
            "makes cloud-init decode user-data first, so the text reviewed and pinned is not what runs",
        ),
    ),
    (
        "user-data",
        Rule::InstanceOnly(
            "is project-wide user-data, which cloud-init may run as root on every VM",
        ),
    ),
    (
        "gce-container-declaration",
        Rule::Always("makes COS's konlet run the container it declares"),
    ),
    (
        "google-container-manifest",
        Rule::Always("makes the container-VM agent run the containers it lists"),
    ),
    (
        "enable-oslogin",
        Rule::UnlessOff("lets IAM principals of the VM's project log in over SSH (OS Login)"),
    ),
    ("enable-oslogin-2fa", Rule::UnlessOff(OS_LOGIN)),
    ("enable-oslogin-sk", Rule::UnlessOff(OS_LOGIN)),
    ("enable-osconfig", Rule::UnlessOff(OS_CONFIG)),
    (
        "enable-os-inventory",
        Rule::UnlessOff("turns on the OS Config agent, which runs as root and reads the VM"),
    ),
    (
        "enable-guest-attributes",
        Rule::UnlessOff("lets the VM publish values through the API (a channel out of the VM)"),
    ),
    (
        "serial-port-enable",
        Rule::UnlessOff("opens the interactive serial console to the VM"),
    ),
    (
        "serial-port-logging-enable",
        Rule::UnlessOff(
            "copies the serial console output to Cloud Logging, readable outside the VM",
        ),
    ),
    (
        "enable-windows-ssh",
        Rule::UnlessOff("starts an SSH server on Windows VMs"),
    ),
    (
        "disable-legacy-endpoints",
        Rule::UnlessOn(
            "re-enables the legacy metadata endpoints, which answer without the Metadata-Flavor header",
        ),
    ),
    ("block-project-ssh-keys", Rule::Harmless),
    ("google-compute-default-region", Rule::Harmless),
    ("google-compute-default-zone", Rule::Harmless),
    ("google-logging-enabled", Rule::Harmless),
    ("google-logging-use-fluentbit", Rule::Harmless),
    ("google-monitoring-enabled", Rule::Harmless),
    ("cos-update-strategy", Rule::Harmless),
    ("cos-metrics-enabled", Rule::Harmless),
    ("VmDnsSetting", Rule::Harmless),
    ("disable-guest-telemetry", Rule::Harmless),
];

/// Exactly the spellings every reader takes for "off".
pub fn clearly_off(value: &str) -> bool {
    matches!(value, "FALSE" | "false" | "False")
}

/// Exactly the spellings every reader takes for "on".
pub fn clearly_on(value: &str) -> bool {
    matches!(value, "TRUE" | "true" | "True")
}

/// A value as a reason shows it: quoted and escaped, at most 40 characters of it.
pub fn shown(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}… ({} bytes)", value.len())
    }
}

/// The key as Go's case-insensitive JSON field matching sees it.
fn folded(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            'ſ' => 's',
            '\u{212A}' => 'k',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

fn is_gce_key_name(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where a key is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Instance,
    Project { project_keys_blocked: bool },
}

fn classify(key: &str, value: &str, level: Level) -> KeyClass {
    if !is_gce_key_name(key) {
        return KeyClass::Dangerous(
            "is not a Compute Engine key name ([A-Za-z0-9_-], at most 128 characters), so it may alias another key"
                .to_owned(),
        );
    }
    let fold = folded(key);
    if let Some((prefix, reason)) = DANGEROUS_PREFIXES
        .iter()
        .find(|(prefix, _)| fold.starts_with(prefix))
    {
        return if key.starts_with(prefix) {
            KeyClass::Dangerous((*reason).to_owned())
        } else {
            KeyClass::Dangerous(format!(
                "is another spelling of a {prefix}* key, which {reason}"
            ))
        };
    }
    let Some((canonical, rule)) = KNOWN.iter().find(|(name, _)| folded(name) == fold) else {
        return KeyClass::Unknown;
    };
    if key != *canonical {
        return KeyClass::Dangerous(format!(
            "is another spelling of {canonical:?}: the guest agent matches attribute names case-insensitively, so it may read it as {canonical} (or let it override {canonical})"
        ));
    }
    match (*rule, level) {
        (Rule::Harmless, _) => KeyClass::Harmless,
        (Rule::Always(reason), _) => KeyClass::Dangerous(reason.to_owned()),
        (Rule::UnlessOff(_), _) if clearly_off(value) => KeyClass::Harmless,
        (Rule::UnlessOff(reason), _) => KeyClass::Dangerous(format!(
            "is {}, not clearly off (FALSE): it {reason}",
            shown(value)
        )),
        (Rule::UnlessOn(_), _) if clearly_on(value) => KeyClass::Harmless,
        (Rule::UnlessOn(reason), _) => KeyClass::Dangerous(format!(
            "is {}, not clearly on (TRUE): it {reason}",
            shown(value)
        )),
        (Rule::InstanceOnly(_), Level::Instance) => KeyClass::Harmless,
        (Rule::InstanceOnly(reason), Level::Project { .. }) => {
            KeyClass::Dangerous(reason.to_owned())
        }
        (Rule::SshKeys, Level::Instance) => KeyClass::Dangerous(SSH_KEYS.to_owned()),
        (
            Rule::SshKeys,
            Level::Project {
                project_keys_blocked: true,
            },
        ) => KeyClass::Harmless,
        (
            Rule::SshKeys,
            Level::Project {
                project_keys_blocked: false,
            },
        ) => KeyClass::Dangerous(format!(
            "{SSH_KEYS} (the instance does not set block-project-ssh-keys to TRUE)"
        )),
    }
}

/// A key set on the instance, with its value.
pub fn classify_instance_key(key: &str, value: &str) -> KeyClass {
    classify(key, value, Level::Instance)
}

/// A key of the project's `commonInstanceMetadata`; `project_keys_blocked` is whether the instance
/// blocks project SSH keys ([`blocks_project_ssh_keys`]).
pub fn classify_project_key(key: &str, value: &str, project_keys_blocked: bool) -> KeyClass {
    classify(
        key,
        value,
        Level::Project {
            project_keys_blocked,
        },
    )
}

/// Whether the instance blocks project-wide SSH keys: `block-project-ssh-keys` clearly on, and no
/// other spelling of the key that a guest agent could read instead.
pub fn blocks_project_ssh_keys<'a>(
    instance_metadata: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> bool {
    let mut blocked = false;
    for (key, value) in instance_metadata {
        if key == "block-project-ssh-keys" {
            blocked = clearly_on(value);
        } else if folded(key) == "block-project-ssh-keys" {
            return false;
        }
    }
    blocked
}

/// The instance keys that run code or open access, with the reason for each.
pub fn instance_findings<'a>(
    metadata: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Vec<Finding> {
    metadata
        .into_iter()
        .filter_map(|(key, value)| match classify_instance_key(key, value) {
            KeyClass::Dangerous(reason) => Some(Finding {
                key: key.clone(),
                reason,
            }),
            KeyClass::Harmless | KeyClass::Unknown => None,
        })
        .collect()
}

/// Whether a key name alone is dangerous on an instance whatever its value would be (what
/// `approve --allow-metadata-key` refuses): a script, SSH keys, a switch that opens access, another
/// spelling of a known key.
pub fn never_approvable(key: &str) -> Option<String> {
    // A switch is judged by its value at release; as a name to allow, "on" is the worst case.
    match classify_instance_key(key, "TRUE") {
        KeyClass::Dangerous(reason) => Some(reason),
        KeyClass::Harmless | KeyClass::Unknown => None,
    }
}

#[cfg(test)]
mod tests;
