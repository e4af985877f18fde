//! `tokendist seal`: seals one secret to a VM's vTPM for a secrets.json entry of type `TPM` (the
//! original provisioner's `--encryptToTPM`), with the same EK, PCR policy and binding as `approve`.
//! Writes the envelope to `--out` and prints the secrets.json entry; never touches the store's data.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use tokendist_gcp::ComputeClient;
use zeroize::Zeroizing;

use crate::cli::{GlobalOptions, SealArgs, TargetArgs};
use crate::context::{gcp_config, open_store};
use crate::error::ConsoleError;
use crate::files::{OutputFile, PUBLIC_MODE, ensure_writable, write_all};
use crate::output::{emit, emit_json};
use crate::pcr_values::{PcrSource, parse_pcr_args};
use crate::signing_keys::load_receipt_public;
use crate::target::resolve;
use crate::tpm_target::SealingTarget;

/// `seal --json`.
#[derive(Debug, Serialize)]
pub struct SealReport {
    pub instance_id: String,
    pub instance_name: String,
    pub name: String,
    pub out: String,
    pub envelope_bytes: usize,
    pub ek_fingerprint: String,
    pub pcr_source: PcrSource,
    /// PCR index to SHA-256 value (hex).
    pub pcrs: BTreeMap<u32, String>,
    /// What to put in secrets.json.
    pub secrets_json_entry: serde_json::Value,
}

fn read_secret(path: &std::path::Path) -> Result<Zeroizing<Vec<u8>>, ConsoleError> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| ConsoleError::file("read secret", path, e))?,
    );
    if bytes.is_empty() {
        return Err(ConsoleError::bad_input(
            path,
            "the file is empty; there is nothing to seal",
        ));
    }
    Ok(bytes)
}

pub async fn run(global: &GlobalOptions, args: &SealArgs) -> Result<(), ConsoleError> {
    let name = args.name.trim();
    if name.is_empty() {
        return Err(ConsoleError::Usage(
            "--name must be the secret's (non-empty) name in secrets.json".into(),
        ));
    }
    let given = parse_pcr_args(&args.pcrs)?;
    ensure_writable(&[args.out.as_path()], args.force)?;
    let plaintext = read_secret(&args.input)?;

    let store = open_store(&global.store).await?;
    let target = resolve(
        &*store,
        &TargetArgs {
            instance: args.instance.clone(),
            project: Some(args.project.clone()),
            zone: Some(args.zone.clone()),
        },
    )
    .await?;
    let compute = ComputeClient::new(&gcp_config(global))
        .await
        .map_err(|e| ConsoleError::Config(e.to_string()))?;
    let instance = compute
        .instance(&target.project, &target.zone, &target.name)
        .await
        .map_err(|e| {
            ConsoleError::Failed(format!(
                "cannot read instance {} in {}/{} ({e}); check the name, project, zone and your access",
                target.name, target.project, target.zone
            ))
        })?;
    let shielded = compute
        .shielded_identity(&target.project, &target.zone, &target.name)
        .await;
    let record = store.get_attestation(&instance.instance_id).await?;
    let sealing = SealingTarget::new(
        &instance.instance_id,
        &instance.name,
        &shielded,
        record.as_ref(),
        given.as_ref(),
        load_receipt_public(global.server_receipt_key.as_deref())?.as_ref(),
    )?;
    let envelope = sealing.seal(name, &plaintext)?;
    drop(plaintext);
    write_all(
        &[OutputFile {
            path: args.out.clone(),
            contents: &envelope,
            mode: PUBLIC_MODE,
        }],
        args.force,
    )?;

    let entry = json!({"name": name, "type": "TPM", "data": STANDARD.encode(&envelope)});
    let report = SealReport {
        instance_id: instance.instance_id.clone(),
        instance_name: instance.name.clone(),
        name: name.to_owned(),
        out: args.out.display().to_string(),
        envelope_bytes: envelope.len(),
        ek_fingerprint: sealing.ek_fingerprint.clone(),
        pcr_source: sealing.pcrs.source.clone(),
        pcrs: sealing.pcrs.policy().pcrs,
        secrets_json_entry: entry,
    };
    tracing::info!(instance_id = %report.instance_id, secret = %report.name, bytes = report.envelope_bytes, "sealed a secret to the vTPM");
    if global.json {
        return emit_json(&report);
    }
    let mut text = format!(
        "Sealed {name:?} to the vTPM of {} (id {}): {} bytes written to {}\n",
        report.instance_name, report.instance_id, report.envelope_bytes, report.out
    );
    text.push_str(&sealing.describe());
    text.push_str("\nsecrets.json entry (type TPM; approve stores it as it is):\n");
    text.push_str(&report.secrets_json_entry.to_string());
    text.push('\n');
    emit(&text)
}
