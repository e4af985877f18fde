//! The stable names of every policy check (DESIGN §3). They appear in logs, the store, the console and
//! tests, so they are defined once here and referenced everywhere else.

pub const IDENTITY_SIGNATURE: &str = "identity.signature";
pub const IDENTITY_CLAIMS: &str = "identity.claims";
pub const IDENTITY_FRESH: &str = "identity.fresh";
pub const IDENTITY_INSTANCE: &str = "identity.instance";
pub const IDENTITY_SERVICE_ACCOUNT: &str = "identity.service_account";
/// The request carries no `authorization` metadata, or an empty bearer token (checked before any
/// token is verified; the caller is told UNAUTHENTICATED, not a policy denial).
pub const IDENTITY_TOKEN_MISSING: &str = "identity.token_missing";
/// The `authorization` metadata is not `Bearer <token>` (another scheme, or not ASCII).
pub const IDENTITY_TOKEN_NOT_BEARER: &str = "identity.token_not_bearer";
pub const APPROVAL_SIGNATURE: &str = "approval.signature";
pub const APPROVAL_STATE: &str = "approval.state";
pub const INSTANCE_USER_DATA: &str = "instance.user_data";
pub const INSTANCE_METADATA: &str = "instance.metadata";
pub const INSTANCE_PROJECT_METADATA: &str = "instance.project_metadata";
pub const INSTANCE_FINGERPRINT: &str = "instance.fingerprint";
pub const INSTANCE_BOOT_IMAGE: &str = "instance.boot_image";
pub const INSTANCE_SERVICE_ACCOUNT: &str = "instance.service_account";
pub const INSTANCE_SHIELDED: &str = "instance.shielded";
pub const INSTANCE_BOOT_DISK: &str = "instance.boot_disk";
pub const CLOUDCONFIG_TEMPLATE: &str = "cloudconfig.template";
pub const CLOUDCONFIG_SSH_DISABLED: &str = "cloudconfig.ssh_disabled";
pub const CLOUDCONFIG_SERIAL_DISABLED: &str = "cloudconfig.serial_disabled";
pub const CLOUDCONFIG_IMAGE_PINNED: &str = "cloudconfig.image_pinned";
pub const CLOUDCONFIG_IMAGE_TRUSTED: &str = "cloudconfig.image_trusted";
pub const AUDITLOG_CLEAN: &str = "auditlog.clean";
pub const AUDITLOG_DATA_ACCESS: &str = "auditlog.data_access";
pub const NETWORK_PEER_IP: &str = "network.peer_ip";
pub const NETWORK_CLIENT_CERT: &str = "network.client_cert";
pub const TPM_EK: &str = "tpm.ek";
pub const TPM_AK: &str = "tpm.ak";
pub const TPM_QUOTE: &str = "tpm.quote";

/// The checks the server runs on a request's `authorization` metadata before it verifies the token
/// (then [`IDENTITY_SIGNATURE`], [`IDENTITY_CLAIMS`] and [`IDENTITY_FRESH`]).
pub const CREDENTIAL_CHECKS: [&str; 2] = [IDENTITY_TOKEN_MISSING, IDENTITY_TOKEN_NOT_BEARER];

/// The checks `policy::evaluate` runs on every release, in the order it reports them.
pub const RELEASE_CHECKS: [&str; 22] = [
    IDENTITY_SIGNATURE,
    IDENTITY_CLAIMS,
    IDENTITY_FRESH,
    IDENTITY_INSTANCE,
    IDENTITY_SERVICE_ACCOUNT,
    APPROVAL_SIGNATURE,
    APPROVAL_STATE,
    INSTANCE_USER_DATA,
    INSTANCE_METADATA,
    INSTANCE_FINGERPRINT,
    INSTANCE_BOOT_IMAGE,
    INSTANCE_SERVICE_ACCOUNT,
    INSTANCE_SHIELDED,
    INSTANCE_PROJECT_METADATA,
    INSTANCE_BOOT_DISK,
    AUDITLOG_CLEAN,
    AUDITLOG_DATA_ACCESS,
    NETWORK_PEER_IP,
    NETWORK_CLIENT_CERT,
    TPM_EK,
    TPM_AK,
    TPM_QUOTE,
];

/// The checks `policy::review_user_data` runs on a cloud-config when Alice reviews it: the template
/// gate, then the analysis that explains it.
pub const REVIEW_CHECKS: [&str; 5] = [
    CLOUDCONFIG_TEMPLATE,
    CLOUDCONFIG_SSH_DISABLED,
    CLOUDCONFIG_SERIAL_DISABLED,
    CLOUDCONFIG_IMAGE_PINNED,
    CLOUDCONFIG_IMAGE_TRUSTED,
];
