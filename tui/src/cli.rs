//! The command line of `tokendist` (clap): global options (each also read from a `TOKENDIST_*`
//! environment variable) and one subcommand per console operation, each with an example in `--help`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::ConsoleError;
use crate::exit::HELP_TABLE;
use crate::operations::ContextOptions;
use crate::operations::{PcrValues, VmRef};
use crate::pcr_values::parse_pcr_args;

/// Where the store lives unless `--store` / `TOKENDIST_STORE` say otherwise.
pub const DEFAULT_STORE: &str = "sqlite:///var/lib/tokendist/tokendist.db";

/// tokendist console: review Google Compute Engine VMs and release secrets to the ones you approve.
#[derive(Debug, Parser)]
#[command(
    name = "tokendist",
    version,
    about = "tokendist console: review GCE VMs, approve or revoke their access to secrets",
    long_about = "tokendist console: review GCE VMs, approve or revoke their access to secrets.\n\n\
        Without a subcommand it prints this help (the full-screen console arrives in a later release).\n\
        Every check it shows is computed by the same policy functions the token server runs.",
    after_help = HELP_TABLE
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Store URL: sqlite:///path/tokendist.db or firestore://PROJECT/DATABASE?collection_prefix=P.
    #[arg(long, global = true, env = "TOKENDIST_STORE", default_value = DEFAULT_STORE, value_name = "URL")]
    pub store: String,
    /// Compute Engine API root (default Google's; http://127.0.0.1:PORT for gcpsim).
    #[arg(
        long,
        global = true,
        env = "TOKENDIST_COMPUTE_ENDPOINT",
        value_name = "URL"
    )]
    pub compute_endpoint: Option<String>,
    /// Cloud Logging API root (default Google's).
    #[arg(
        long,
        global = true,
        env = "TOKENDIST_LOGGING_ENDPOINT",
        value_name = "URL"
    )]
    pub logging_endpoint: Option<String>,
    /// Call the Google APIs without credentials (gcpsim); otherwise Application Default Credentials.
    #[arg(long, global = true, env = "TOKENDIST_GCP_ANONYMOUS")]
    pub gcp_anonymous: bool,
    /// Policy settings (TOML, the server's `core::Settings`: trusted_container_digests,
    /// approved_boot_image_prefixes, audit_methods, trusted_approver_keys, ...). Defaults apply when unset.
    #[arg(long, global = true, env = "TOKENDIST_SETTINGS", value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The token server's receipt public key (receipt.pub from `keygen --server`, Ed25519 SPKI PEM).
    /// approve and seal take PCR values from the store's attestation record only when this key
    /// signed it and its quote verifies; show reports whether it does.
    #[arg(
        long,
        global = true,
        env = "TOKENDIST_SERVER_RECEIPT_KEY",
        value_name = "FILE"
    )]
    pub server_receipt_key: Option<PathBuf>,
    /// Create the SQLite store file when it does not exist (otherwise a missing file is an error).
    #[arg(long, global = true)]
    pub create: bool,
}

impl GlobalOptions {
    /// The operations' context options; `trust_key_files` are `show`'s `--trust-key` files.
    pub fn context_options(&self, trust_key_files: &[PathBuf]) -> ContextOptions {
        ContextOptions {
            store_url: self.store.clone(),
            create: self.create,
            compute_endpoint: self.compute_endpoint.clone(),
            logging_endpoint: self.logging_endpoint.clone(),
            gcp_anonymous: self.gcp_anonymous,
            settings_path: self.settings.clone(),
            receipt_key_path: self.server_receipt_key.clone(),
            trust_key_files: trust_key_files.to_vec(),
        }
    }
}

/// `--json` of the subcommands that print data.
#[derive(Debug, Clone, Copy, Args)]
pub struct JsonFlag {
    /// Print the result as JSON (stable for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create Alice's approval key pair, or with --server the token server's keys.
    #[command(after_help = "\
Writes PREFIX.key (Ed25519 PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM), and prints the key id and
the base64 public key (put it in the server's trusted approver keys). With --server, OUT is a directory
that receives receipt.key/.pub (Ed25519, signs release receipts) and secrets.key/.pub (X25519, opens the
secrets approvals encrypt to the server). Existing files are never overwritten without --force.

Examples:
  tokendist keygen --out ~/.config/tokendist/alice
  tokendist keygen --server --out /etc/tokendist/keys")]
    Keygen(KeygenArgs),
    /// Create a private CA, a server certificate and a client certificate (demos and tests).
    #[command(after_help = "\
Writes ca.pem/ca.key, server.pem/server.key (SAN: the server name and every --ip) and
client.pem/client.key into DIR, keys with mode 0600, and prints the client certificate's serial
(lower-case hex) to pin with `approve --client-cert-serial`.

Example:
  tokendist certs --out ./demo-certs --server-name tokenserver.alice.example --ip 127.0.0.1")]
    Certs(CertsArgs),
    /// List pending, approved and revoked VMs from the store, most in need of attention first.
    #[command(after_help = "\
Rows are sorted by need of attention: approved VMs denied since their approval, pending VMs, approved,
then revoked or expired; newest activity first within each. VERDICT is the server's last verdict on
the VM as PASSED/EVALUATED checks: ✘ when a check of the VM itself failed (tampered or misconfigured),
– when only its approval is missing, - when none is recorded.

Text output is a table. --json prints one object, stable for scripts:
  {\"vms\": [{\"instance_id\": str, \"name\": str, \"project\": str, \"zone\": str,
            \"state\": \"pending\" | \"approved\" | \"expired\" | \"revoked\",
            \"group\": \"denied_after_approval\" | \"pending\" | \"approved\" | \"revoked\",
            \"approved_at\": RFC3339 | null, \"expires_at\": RFC3339 | null,
            \"revoked_at\": RFC3339 | null, \"revoke_reason\": str | null, \"revision\": int | null,
            \"first_seen\": RFC3339 | null, \"last_seen\": RFC3339 | null,
            \"attempts\": int, \"failed_checks\": [str],
            \"verdict\": null | {\"evaluated\": int, \"failed\": [str]}}]}
\"pending\" means the server denied the VM and no approval exists; approved VMs that were denied since
keep their approval state and show the attempts and failed checks of the latest denial.

Example:
  tokendist --store sqlite:///var/lib/tokendist/tokendist.db list --json")]
    List(ListArgs),
    /// Collect a VM's live evidence from Google and show every check the server would run.
    #[command(after_help = "\
INSTANCE is a VM name or numeric id; --project/--zone default to the store's pending or approval
record. Shows identity, project, zone, service account, IPs, boot image, fingerprint, shielded
options, the cloud-config review, the audit-log timeline (DENIED and UNKNOWN entries marked) and every check with
✔ (pass), ✘ (fail) or – (not applicable here) and its reason. Checks run against the VM's approval
when one exists, otherwise against the approval `approve` would propose. identity.* and network.* need
the VM's own request, so the server decides them on each request.

--json prints {\"target\", \"instance\", \"boot_disk\", \"shielded_identity\", \"errors\",
\"cloud_config_review\", \"timeline\", \"evaluated_against\" (\"approval\" | \"proposal\"), \"approval\"
(null, or its fields without secret bytes), \"checks\", \"failed_checks\" ([str])}; each check (and each
cloud_config_review entry) is {\"name\": str, \"outcome\": \"pass\" | \"fail\" | \"skipped\", \"reason\": str | null}.
Exit code 1 when the instance cannot be read (the JSON still lists the errors).

Example:
  tokendist show tokenclient-good --project bob-project --zone us-central1-a")]
    Show(ShowArgs),
    /// Review a VM's live evidence, then sign and store its approval with its secrets sealed to its vTPM.
    #[command(after_help = "\
Collects and shows the evidence (as `show`), refuses when a check fails unless --force --reason,
shows what the secrets will be sealed to, asks `Approve NAME (id ID)? [y/N]` (skip with --yes; without
a terminal --yes is required), seals every secret, signs the approval with your Ed25519 key and writes
it with compare-and-swap, then removes the VM's pending record and records an `approved` event.

By default every secret is sealed to the VM's vTPM (require_tpm): an AES-256-GCM envelope whose data
key only that TPM can unseal, and only while its PCRs hold the approved values. The EK is the one
Google publishes in the VM's shielded identity; the PCR values are --pcr, or else those of the VM's
last verified quote in the store (the VM must have attested to the token server at least once: start
its tokenclient; it is denied and listed as pending, with its quote). A TPM secret that is already an
envelope from `tokendist seal` is checked against the policy and stored as it is.

--no-tpm approves without TPM sealing: secrets are encrypted to the token server's X25519 key
(--server-key, HPKE) and the VM needs no TPM attestation.

secrets.json: [{\"name\": \"db-password\", \"type\": \"RAW\" | \"TPM\" | \"TINK\", \"data\": \"<base64>\"}]

Examples:
  tokendist approve tokenclient-good --project bob-project --zone us-central1-a \\
      --secrets secrets.json --key alice.key --expires 30d
  tokendist approve tokenclient-good --project bob-project --zone us-central1-a \\
      --secrets secrets.json --key alice.key --pcr 0=24af52a4...,7=...
  tokendist approve tokenclient-good --project bob-project --zone us-central1-a \\
      --secrets secrets.json --key alice.key --server-key secrets.pub --no-tpm

Exit codes: 0 ok, 1 error, 2 usage, 3 refused (checks failed, no EK or no verified quote to seal to,
or not confirmed), 4 conflict (re-run), 78 configuration error.")]
    Approve(ApproveArgs),
    /// Revoke a VM's approval (takes effect on its next request).
    #[command(after_help = "\
Asks you to type the VM's name (skip with --yes), then writes the approval back re-signed with
revoked_at and the reason (compare-and-swap) and records a `revoked` event.

Example:
  tokendist revoke tokenclient-good --reason \"VM decommissioned\" --key alice.key

Exit codes: 0 ok, 1 error, 2 usage, 3 refused (checks failed or not confirmed), 4 conflict (re-run),
78 configuration error.")]
    Revoke(RevokeArgs),
    /// Seal one secret to a VM's vTPM, for a secrets.json entry of type TPM.
    #[command(after_help = "\
Reads the secret from --in, seals it to the VM's vTPM exactly as `approve` seals secrets (the EK from
Google's shielded identity; the PCR values from --pcr, or else the VM's last verified quote in the
store), bound to the VM's instance id and to --name, and writes the envelope (binary) to --out. It
prints the secrets.json entry to use, {\"name\": NAME, \"type\": \"TPM\", \"data\": base64 of --out};
`approve` then stores it as it is (after checking it needs the approval's PCR policy), and the VM opens
it with its TPM. --name must be the entry's name in secrets.json: the VM checks it when opening.
Nothing is written to the store; the secret is never printed.

Example:
  tokendist seal --instance tokenclient-good --project bob-project --zone us-central1-a \\
      --name api-token --in api-token.txt --out api-token.sealed --pcr 0=24af52a4...,7=...
  jq -n --arg d \"$(base64 -w0 api-token.sealed)\" '[{name: \"api-token\", type: \"TPM\", data: $d}]'

Exit codes: 0 ok, 1 error, 2 usage, 3 refused (no EK, or no verified quote and no --pcr),
78 configuration error.")]
    Seal(SealArgs),
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    #[command(flatten)]
    pub output: JsonFlag,
    /// File prefix (PREFIX.key, PREFIX.pub), or the directory with --server.
    #[arg(long, value_name = "PREFIX|DIR")]
    pub out: PathBuf,
    /// Create the token server's receipt (Ed25519) and secrets (X25519) key pairs instead.
    #[arg(long)]
    pub server: bool,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    #[command(flatten)]
    pub output: JsonFlag,
    /// Directory for the PEM files.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// DNS name in the server certificate (clients verify it as SNI).
    #[arg(long, default_value = "tokenserver", value_name = "NAME")]
    pub server_name: String,
    /// IP address in the server certificate (repeatable).
    #[arg(long = "ip", default_values_t = [IpAddr::from([127, 0, 0, 1])], value_name = "IP")]
    pub ips: Vec<IpAddr>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub output: JsonFlag,
}

/// Which VM a command is about.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// VM name or numeric instance id.
    pub instance: String,
    /// Bob's project (default: from the store's record of the VM).
    #[arg(long, value_name = "PROJECT")]
    pub project: Option<String>,
    /// The VM's zone (default: from the store's record of the VM).
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,
}

impl TargetArgs {
    pub fn vm_ref(&self) -> VmRef {
        VmRef {
            instance: self.instance.clone(),
            project: self.project.clone(),
            zone: self.zone.clone(),
        }
    }
}

/// `--pcr` values, or the last verified quote when none is given.
pub fn pcr_values(args: &[String]) -> Result<PcrValues, ConsoleError> {
    Ok(match parse_pcr_args(args)? {
        Some(values) => PcrValues::Given(values),
        None => PcrValues::LastVerifiedQuote,
    })
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub output: JsonFlag,
    /// Ed25519 public key file (from `keygen`) trusted for approval.signature (repeatable); adds to
    /// the settings' trusted_approver_keys.
    #[arg(long = "trust-key", value_name = "FILE")]
    pub trust_keys: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// secrets.json: [{"name","type":"RAW|TPM|TINK","data":base64}].
    #[arg(long, value_name = "FILE")]
    pub secrets: PathBuf,
    /// Your Ed25519 approval private key (from `tokendist keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The token server's X25519 public key (secrets.pub from `keygen --server`); required with
    /// --no-tpm, unused otherwise.
    #[arg(long, value_name = "FILE")]
    pub server_key: Option<PathBuf>,
    /// PCR values to seal to, INDEX=HEX (SHA-256 bank), comma-separated or repeated. Default: the
    /// values of the VM's last verified quote in the store.
    #[arg(long = "pcr", value_delimiter = ',', value_name = "INDEX=HEX")]
    pub pcrs: Vec<String>,
    /// Pin the TCP address the VM must connect from.
    #[arg(long, value_name = "IP")]
    pub peer_address: Option<String>,
    /// Pin the serial of the VM's mTLS client certificate (hex, as `certs` prints it).
    #[arg(long, value_name = "HEX")]
    pub client_cert_serial: Option<String>,
    /// When the approval expires: a duration (30d, 12h, 8w) or an RFC 3339 time. Default: never.
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Allow an extra metadata key on the VM (repeatable).
    #[arg(long = "allow-metadata-key", value_name = "KEY")]
    pub allow_metadata_keys: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Approve even though checks fail, e.g. `cloudconfig.template` when no trusted template is
    /// configured (requires --reason, which is signed into the approval and recorded in the event).
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why the failing checks are acceptable (with --force).
    #[arg(long, requires = "force", value_name = "TEXT")]
    pub reason: Option<String>,
    /// Approve without TPM sealing: secrets are encrypted to the token server only (--server-key),
    /// and the VM needs no TPM attestation.
    #[arg(long, conflicts_with = "pcrs")]
    pub no_tpm: bool,
    /// Require the VM's Data Access audit log to be readable on every release
    /// (`auditlog.data_access` fails instead of being skipped); signed into the approval.
    #[arg(long)]
    pub require_data_access: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// VM name or numeric instance id of an approved VM.
    pub instance: String,
    /// Why the approval is revoked (stored in the approval and the event).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Your Ed25519 approval private key (the revoked record is re-signed).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Do not ask to type the VM name.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    #[command(flatten)]
    pub output: JsonFlag,
    /// VM name or numeric instance id.
    #[arg(long, value_name = "NAME|ID")]
    pub instance: String,
    /// Bob's project.
    #[arg(long, value_name = "PROJECT")]
    pub project: String,
    /// The VM's zone.
    #[arg(long, value_name = "ZONE")]
    pub zone: String,
    /// The secret's name in secrets.json (the envelope is bound to it).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// PCR values to seal to, INDEX=HEX (SHA-256 bank), comma-separated or repeated. Default: the
    /// values of the VM's last verified quote in the store.
    #[arg(long = "pcr", value_delimiter = ',', value_name = "INDEX=HEX")]
    pub pcrs: Vec<String>,
    /// File holding the secret (any bytes).
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write the envelope.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
}
