//! Bob's vTPM for console tests: a private swtpm whose EK (and EK certificate) gcpsim publishes as
//! the good VM's shielded identity, and an attestation record holding its current PCR values as the
//! VM's "last verified quote" (what the token server writes after a verified `ProveAttestation`).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokendist_core::keys::pem_block as pem;
use tokendist_core::tpm::{Envelope, TpmtPublic, ek_public_to_pem, open_envelope_with_data_key};
use tokendist_store::AttestationRecord;
use tokendist_testkit::Swtpm;
use tokendist_tpm::{PcrBank, TpmConfig, TpmError, TpmHandle};

use super::Console;

/// The PCRs the tests seal to: a firmware PCR and two a test may extend (resettable at locality 0).
pub const POLICY_PCRS: [u32; 3] = [0, 7, 16];
/// The PCR a test extends to break the policy.
pub const EXTENDED_PCR: u32 = 16;

/// A running swtpm standing in for the good VM's vTPM.
pub struct VmTpm {
    pub swtpm: Swtpm,
    pub tpm: TpmHandle,
    /// The EK as gcpsim publishes it (SPKI PEM).
    pub ek_pem: String,
    /// The EK's public area (TPMT_PUBLIC).
    pub ek: TpmtPublic,
    /// The token server's receipt key (the console's `server/receipt.key`), which signs records.
    pub server_receipt_key: ed25519_dalek::SigningKey,
}

impl VmTpm {
    /// Starts a swtpm and makes gcpsim publish its EK and EK certificate for `vm`; `None` (the test
    /// is skipped, loudly) only when swtpm is missing and `TOKENDIST_TEST_SKIP_TPM=1`.
    pub async fn install(console: &Console, vm: &str) -> Option<VmTpm> {
        let swtpm = Swtpm::start_or_skip().await.unwrap()?;
        let tpm = TpmHandle::connect(TpmConfig::new(swtpm.tcti()))
            .await
            .unwrap();
        let info = tpm.ek_public().await.unwrap();
        let ek = TpmtPublic::from_tpm2b(&info.public).unwrap();
        let ek_pem = ek_public_to_pem(&ek).unwrap();
        let cert_pem = info
            .certificate
            .as_deref()
            .map(|der| pem("CERTIFICATE", der));
        console
            .sim
            .as_ref()
            .expect("a console with gcpsim")
            .handle()
            .set_ek(vm, &ek_pem, cert_pem.as_deref())
            .unwrap();
        Some(VmTpm {
            swtpm,
            tpm,
            ek_pem,
            ek,
            server_receipt_key: console.server_receipt_key(),
        })
    }

    /// The TPM's current SHA-256 values of [`POLICY_PCRS`].
    pub async fn pcrs(&self) -> BTreeMap<u32, Vec<u8>> {
        self.tpm
            .read_pcrs(PcrBank::Sha256, &POLICY_PCRS)
            .await
            .unwrap()
    }

    /// An attestation record as the server writes it after a verified quote of [`POLICY_PCRS`]: a
    /// real quote by a fresh AK over a nonce, signed with the server's receipt key (`server/receipt.key`
    /// of the console's directory, from `keygen --server`).
    pub async fn verified_quote_record(&self, instance_id: &str) -> AttestationRecord {
        let ak = self.tpm.create_ak().await.unwrap();
        let ak_public = TpmtPublic::from_tpm2b(&ak.public).unwrap();
        let nonce = [0xab; 32];
        let quote = self
            .tpm
            .quote(&ak, &nonce, PcrBank::Sha256, &POLICY_PCRS)
            .await
            .unwrap();
        let mut record = AttestationRecord {
            instance_id: instance_id.to_owned(),
            ek_public: STANDARD.encode(self.ek.marshal().unwrap()),
            ak_public: STANDARD.encode(ak_public.marshal().unwrap()),
            pcr_hash_alg: 0x000B,
            pcr_values: quote
                .pcr_values
                .iter()
                .map(|(index, value)| (*index, hex::encode(value)))
                .collect(),
            nonce: hex::encode(nonce),
            quoted_at: chrono::Utc::now(),
            verified: true,
            quote_attest: STANDARD.encode(&quote.attest),
            quote_signature: STANDARD.encode(&quote.signature),
            server_signature: None,
        };
        record.sign(&self.server_receipt_key);
        record
    }

    /// Unseals an envelope's data key the way the VM does: TPM2_Import + PolicyPCR over `pcrs` +
    /// Unseal.
    pub async fn unseal_data_key(
        &self,
        envelope: &Envelope,
        pcrs: &[u32],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, TpmError> {
        let blob = &envelope.import_blob;
        self.tpm
            .unseal_import_blob(
                &blob.public,
                &blob.duplicate,
                &blob.encrypted_seed,
                PcrBank::Sha256,
                pcrs,
            )
            .await
    }

    /// Opens an envelope as the VM does: the data key from the TPM, then AES-GCM with the
    /// instance/name binding.
    pub async fn open(
        &self,
        envelope_bytes: &[u8],
        pcrs: &[u32],
        instance_id: &str,
        name: &str,
    ) -> Result<Vec<u8>, TpmError> {
        let envelope = Envelope::decode(envelope_bytes).unwrap();
        let data_key = self.unseal_data_key(&envelope, pcrs).await?;
        let aad = tokendist_core::server_seal::binding(instance_id, name);
        Ok(open_envelope_with_data_key(&envelope, &data_key, &aad)
            .unwrap()
            .to_vec())
    }

    /// Opens the `index`th secret of the good VM's approval as the VM does (sealed to [`POLICY_PCRS`]).
    pub async fn open_approved_secret(
        &self,
        approval: &tokendist_core::approval::Approval,
        index: usize,
    ) -> Vec<u8> {
        let secret = &approval.secrets[index];
        self.open(
            &STANDARD.decode(&secret.data).unwrap(),
            &POLICY_PCRS,
            &approval.instance_id,
            &secret.name,
        )
        .await
        .unwrap()
    }
}
