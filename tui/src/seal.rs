//! `tokendist seal`: seals one secret to a VM's vTPM for a secrets.json entry of type `TPM` (the
//! original provisioner's `--encryptToTPM`), with the same EK, PCR policy and binding as `approve`.
//! Writes the envelope to `--out` and prints the secrets.json entry; never touches the store's data.
//! The work is [`crate::operations::seal`]; this is its command line.

use crate::cli::{GlobalOptions, SealArgs, pcr_values};
use crate::error::ConsoleError;
use crate::operations::{Context, SealRequest, VmRef, seal};
use crate::output::{emit, emit_json};

pub async fn run(global: &GlobalOptions, args: &SealArgs) -> Result<(), ConsoleError> {
    let request = SealRequest {
        vm: VmRef {
            instance: args.instance.clone(),
            project: Some(args.project.clone()),
            zone: Some(args.zone.clone()),
        },
        name: args.name.clone(),
        pcrs: pcr_values(&args.pcrs)?,
        input: args.input.clone(),
        out: args.out.clone(),
        force: args.force,
    };
    let ctx = Context::open(&global.context_options(&[])).await?;
    let report = seal(&ctx, &request).await?;
    if args.output.json {
        return emit_json(&report);
    }
    let mut text = format!(
        "Sealed {:?} to the vTPM of {} (id {}): {} bytes written to {}\n",
        report.name, report.instance_name, report.instance_id, report.envelope_bytes, report.out
    );
    text.push_str(&report.described);
    text.push_str("\nsecrets.json entry (type TPM; approve stores it as it is):\n");
    text.push_str(&report.secrets_json_entry.to_string());
    text.push('\n');
    emit(&text)
}
