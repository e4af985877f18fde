//! [`seal`]: one secret sealed to a VM's vTPM for a secrets.json entry of type `TPM` (the original
//! provisioner's `--encryptToTPM`), with the same EK, PCR policy and binding as an approval. Writes
//! the envelope to the requested file and returns the report; never touches the store's data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::error::ConsoleError;
use crate::files::{OutputFile, PUBLIC_MODE, ensure_writable, write_all};
use crate::operations::approval::PcrValues;
use crate::operations::context::Context;
use crate::operations::target::VmRef;
use crate::pcr_values::PcrSource;
use crate::tpm_target::SealingTarget;

/// What to seal, as plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealRequest {
    pub vm: VmRef,
    /// The secret's name in secrets.json (the envelope is bound to it).
    pub name: String,
    pub pcrs: PcrValues,
    /// The file holding the secret (any bytes).
    pub input: PathBuf,
    /// Where the envelope is written.
    pub out: PathBuf,
    /// Overwrite `out` if it exists.
    pub force: bool,
}

/// What `seal` did (`tokendist seal --json`).
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
    /// The EK and PCR policy, in words.
    #[serde(skip)]
    pub described: String,
}

fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, ConsoleError> {
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

/// Seals the secret in `request.input` to the VM's vTPM and writes the envelope.
pub async fn seal(ctx: &Context, request: &SealRequest) -> Result<SealReport, ConsoleError> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err(ConsoleError::Usage(
            "the secret's name must be its (non-empty) name in secrets.json".into(),
        ));
    }
    ensure_writable(&[request.out.as_path()], request.force)?;
    let plaintext = read_secret(&request.input)?;
    let target = request.vm.resolve(&*ctx.store).await?;
    let compute = ctx.collector().await?.compute();
    let instance = compute
        .instance(&target.project, &target.zone, &target.name)
        .await
        .map_err(|e| ConsoleError::InstanceUnreadable(e.to_string()))?;
    let shielded = compute
        .shielded_identity(&target.project, &target.zone, &target.name)
        .await;
    let record = ctx.store.get_attestation(&instance.instance_id).await?;
    let given = match &request.pcrs {
        PcrValues::Given(values) => Some(values),
        PcrValues::LastVerifiedQuote => None,
    };
    let sealing = SealingTarget::new(
        &instance.instance_id,
        &instance.name,
        &shielded,
        record.as_ref(),
        given,
        ctx.receipt_key.as_ref(),
    )?;
    let envelope = sealing.seal(name, &plaintext)?;
    drop(plaintext);
    write_all(
        &[OutputFile {
            path: request.out.clone(),
            contents: &envelope,
            mode: PUBLIC_MODE,
        }],
        request.force,
    )?;
    let report = SealReport {
        instance_id: instance.instance_id.clone(),
        instance_name: instance.name.clone(),
        name: name.to_owned(),
        out: request.out.display().to_string(),
        envelope_bytes: envelope.len(),
        ek_fingerprint: sealing.ek_fingerprint.clone(),
        pcr_source: sealing.pcrs.source.clone(),
        pcrs: sealing.pcrs.policy().pcrs,
        secrets_json_entry: json!({"name": name, "type": "TPM", "data": STANDARD.encode(&envelope)}),
        described: sealing.describe(),
    };
    tracing::info!(instance_id = %report.instance_id, secret = %report.name, bytes = report.envelope_bytes, "sealed a secret to the vTPM");
    Ok(report)
}
