//! The default allow/deny table of audit-logged methods (`auditlog.clean`, `instance.boot_disk`),
//! written without a version prefix. Every entry says why it is there; a method in neither list fails
//! as unknown, so this table only ever needs to grow when a harmless method is seen in real logs.

/// Methods that never change what runs on the VM, who it runs as, what its boot disk holds, or who can
/// read its console or disk. `(method, why)`.
pub const ALLOWED: &[(&str, &str)] = &[
    // Creation and power state.
    (
        "compute.instances.insert",
        "creates the VM; Alice reviews the state it created",
    ),
    (
        "compute.instances.start",
        "boots the same disk and configuration (measured again by the TPM quote)",
    ),
    (
        "compute.instances.stop",
        "powers the VM off; nothing it runs changes",
    ),
    (
        "compute.instances.reset",
        "reboots the same disk and configuration (measured again by the TPM quote)",
    ),
    // Bookkeeping that does not reach the guest.
    (
        "compute.instances.setLabels",
        "labels are billing/organisation tags; the guest never sees them",
    ),
    (
        "compute.disks.setLabels",
        "labels are billing/organisation tags; the disk content is unchanged",
    ),
    (
        "compute.instances.setTags",
        "network tags select firewall rules; the VM's own iptables (pinned by its cloud-config) still drop SSH",
    ),
    (
        "compute.instances.setDeletionProtection",
        "only guards against deletion",
    ),
    (
        "compute.instances.setDiskAutoDelete",
        "only decides whether the disk is deleted with the VM",
    ),
    (
        "compute.instances.setScheduling",
        "maintenance and restart policy; the VM boots the same disk",
    ),
    (
        "compute.disks.resize",
        "grows the disk; its content and history are unchanged",
    ),
    // Reads of configuration (Data Access `ADMIN_READ`): they change nothing and show nothing secret.
    (
        "compute.instances.get",
        "reads the configuration (the token server's own evidence read)",
    ),
    (
        "compute.instances.getShieldedInstanceIdentity",
        "reads the vTPM's public keys (the token server's own evidence read)",
    ),
    ("compute.instances.list", "lists configurations"),
    ("compute.instances.aggregatedList", "lists configurations"),
    (
        "compute.instances.listReferrers",
        "lists what refers to the VM",
    ),
    (
        "compute.instances.getEffectiveFirewalls",
        "reads firewall configuration",
    ),
    (
        "compute.disks.get",
        "reads the disk's configuration (the token server's own evidence read)",
    ),
    ("compute.disks.list", "lists disk configurations"),
    ("compute.disks.aggregatedList", "lists disk configurations"),
    (
        "compute.projects.get",
        "reads the project's configuration (the token server's own evidence read)",
    ),
    (
        "compute.images.get",
        "reads an image's configuration (the console's boot-image read)",
    ),
];

/// Methods that deny release, with the reason Alice reads. `(method, reason)`.
pub const DENIED: &[(&str, &str)] = &[
    // What runs on the VM and as whom.
    (
        "compute.instances.setMetadata",
        "changes instance metadata (user-data, ssh-keys, startup scripts)",
    ),
    (
        "compute.projects.setCommonInstanceMetadata",
        "changes project-wide metadata (ssh-keys, startup scripts) every VM reads",
    ),
    (
        "compute.instances.setServiceAccount",
        "changes who the VM runs as",
    ),
    (
        "compute.instances.setMachineType",
        "changes the hardware the VM boots on (can drop confidential computing)",
    ),
    (
        "compute.instances.update",
        "replaces the whole instance configuration",
    ),
    (
        "compute.instances.setIamPolicy",
        "grants others rights on the VM (metadata, serial console, OS Login)",
    ),
    (
        "compute.disks.setIamPolicy",
        "grants others rights on the boot disk (snapshot, attach, read)",
    ),
    // Measured boot.
    (
        "compute.instances.updateShieldedInstanceConfig",
        "changes Secure Boot / vTPM / integrity monitoring",
    ),
    (
        "compute.instances.setShieldedInstanceIntegrityPolicy",
        "re-learns the measured-boot baseline",
    ),
    // The console, the display and the network.
    (
        "compute.instances.getSerialPortOutput",
        "reads the serial console output, which may carry secrets",
    ),
    ("compute.instances.getScreenshot", "reads the VM's display"),
    (
        "compute.instances.updateDisplayDevice",
        "enables a display device (screenshots)",
    ),
    (
        "compute.instances.sendDiagnosticInterrupt",
        "sends an NMI (can make the kernel dump memory)",
    ),
    (
        "compute.instances.updateNetworkInterface",
        "re-routes the VM's network",
    ),
    (
        "compute.instances.addAccessConfig",
        "gives the VM a new external address",
    ),
    // The boot disk: its content, copies of it, other disks in its place.
    (
        "compute.instances.attachDisk",
        "attaches a disk (swaps or reads a boot disk)",
    ),
    (
        "compute.instances.detachDisk",
        "detaches a disk (a boot disk detached can be read or changed elsewhere)",
    ),
    (
        "compute.disks.createSnapshot",
        "snapshots the boot disk (a copy of it outside the VM)",
    ),
    (
        "compute.snapshots.insert",
        "snapshots a disk (a copy of it outside the VM)",
    ),
    (
        "compute.instantSnapshots.insert",
        "snapshots a disk (a copy of it outside the VM)",
    ),
    (
        "compute.images.insert",
        "makes an image of a disk (a copy of it outside the VM)",
    ),
    (
        "compute.machineImages.insert",
        "makes a machine image of the VM (a copy of its disks)",
    ),
    (
        "compute.instanceTemplates.insert",
        "makes a template from the VM (can copy its disks)",
    ),
    (
        "compute.disks.insert",
        "creates a disk on its own: a boot disk made this way was not created with its instance, and one made from the boot disk is a copy of it",
    ),
    (
        "compute.disks.addResourcePolicies",
        "adds a snapshot schedule to the boot disk",
    ),
    (
        "compute.disks.startAsyncReplication",
        "replicates the boot disk to another disk",
    ),
];

/// Reads the token server (and the console) make on every release, as `(method, why it is safe)`.
/// They are allowed, so the Logging filter leaves them out: with Data Access logs on, each release's
/// own reads would otherwise pile up in the evidence the next release re-reads.
/// `Settings::validate` refuses an allow-list that does not allow them.
pub const UNFETCHED_READS: &[&str] = &[
    "compute.instances.get",
    "compute.instances.getShieldedInstanceIdentity",
    "compute.disks.get",
    "compute.projects.get",
    "compute.images.get",
];

/// The API version prefixes Compute writes in `methodName` (the filter excludes each spelling).
pub const VERSION_PREFIXES: &[&str] = &["v1.", "beta.", "alpha.", ""];
