//! Sealing to one VM's vTPM (DESIGN §5): the EK from Google's live shielded identity, the PCR policy
//! ([`crate::pcr_values`]), and the envelopes made with them — `seal_envelope(EK, plaintext,
//! PolicyPCR(SHA-256, values), aad = server_seal::binding(instance id, name))`, which the VM opens
//! with TPM2_Import + PolicyPCR + Unseal of the data key. A `TPM` secret that already is such an
//! envelope (from `tokendist seal`) is checked against the policy and passes through unchanged.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest as _, Sha256};
use tokendist_core::approval::StoredSecret;
use tokendist_core::evidence::{Fetched, ShieldedIdentity};
use tokendist_core::server_seal::binding;
use tokendist_core::tpm::{
    Envelope, TpmtPublic, ek_matches_pem, ek_template_from_pem, seal_envelope,
};
use tokendist_store::AttestationRecord;

use crate::error::ConsoleError;
use crate::pcr_values::{PcrChoice, choose};
use crate::secrets_file::PlainSecret;

/// How TPM-sealed secrets are marked in the approval (proto `SecretProtection::TPM_ENVELOPE`).
pub const PROTECTION_TPM_ENVELOPE: &str = "tpm-envelope";
/// The AES-GCM tag every envelope's ciphertext carries after the payload.
const GCM_TAG_LEN: usize = 16;

/// SHA-256 of the EK's RSA modulus (big-endian, as the TPM holds it), lower-case hex: the EK's
/// fingerprint everywhere the console shows one.
pub fn ek_fingerprint(ek: &TpmtPublic) -> String {
    hex::encode(Sha256::digest(&ek.unique))
}

/// The EK fingerprint of an SPKI PEM (2048-bit RSA, as GCE vTPMs and swtpm have).
pub fn ek_pem_fingerprint(pem: &str) -> Result<String, String> {
    ek_template_from_pem(pem)
        .map(|ek| ek_fingerprint(&ek))
        .map_err(|e| e.to_string())
}

/// Reads a stored TPM public area (base64 of TPMT_PUBLIC, or of TPM2B_PUBLIC).
pub fn stored_public(base64: &str) -> Option<TpmtPublic> {
    let bytes = STANDARD.decode(base64.trim()).ok()?;
    TpmtPublic::unmarshal(&bytes)
        .or_else(|_| TpmtPublic::from_tpm2b(&bytes))
        .ok()
}

/// Everything needed to seal secrets to one VM's vTPM.
#[derive(Debug, Clone)]
pub struct SealingTarget {
    pub instance_id: String,
    /// The EK as Google publishes it (`encryptionKey.ekPub`), stored in the approval.
    pub ek_public_pem: String,
    pub ek: TpmtPublic,
    pub ek_fingerprint: String,
    /// Whether Google also published an EK certificate.
    pub ek_certificate: bool,
    pub pcrs: PcrChoice,
    policy_digest: Vec<u8>,
}

impl SealingTarget {
    /// Builds the target from the live shielded identity and the PCR values ([`choose`]: `given`
    /// from `--pcr`, else the last verified quote in `record`, trusted only when `receipt_key` — the
    /// token server's — signed it and its quote verifies). Refuses (exit 3) when Google publishes no
    /// EK, when there is no verified, signed quote to take PCR values from, and when that quote was
    /// made by a TPM with a different EK.
    pub fn new(
        instance_id: &str,
        vm: &str,
        shielded: &Fetched<ShieldedIdentity>,
        record: Option<&AttestationRecord>,
        given: Option<&BTreeMap<u32, Vec<u8>>>,
        receipt_key: Option<&VerifyingKey>,
    ) -> Result<SealingTarget, ConsoleError> {
        let identity = shielded.as_ref().map_err(|e| {
            ConsoleError::Failed(format!(
                "cannot read {vm}'s shielded identity (its EK) from Compute: {e}; retry, or pass --no-tpm"
            ))
        })?;
        let Some(ek_public_pem) = identity.ek_pub_pem.clone() else {
            return Err(ConsoleError::Refused(format!(
                "Google publishes no EK for {vm} (getShieldedInstanceIdentity has no encryptionKey.ekPub), \
                 so its secrets cannot be sealed to its vTPM; turn on the VM's vTPM (shielded VM), or pass \
                 --no-tpm to encrypt the secrets to the token server only"
            )));
        };
        let ek = ek_template_from_pem(&ek_public_pem).map_err(|e| {
            ConsoleError::Failed(format!(
                "{vm}'s EK from the shielded identity cannot be sealed to: {e}; pass --no-tpm to \
                 encrypt the secrets to the token server only"
            ))
        })?;
        if given.is_none()
            && let Some(record) = record
        {
            let quoted_by_this_ek = stored_public(&record.ek_public)
                .is_some_and(|quoting_ek| ek_matches_pem(&quoting_ek, &ek_public_pem));
            if !quoted_by_this_ek {
                return Err(ConsoleError::Refused(format!(
                    "{vm}'s last quote was made by a TPM whose EK is not the one Google publishes for \
                     the VM, so its PCR values say nothing about this VM; let the VM attest again, or \
                     give the values with --pcr"
                )));
            }
        }
        let pcrs = choose(given, record, instance_id, vm, receipt_key)?;
        let policy_digest = pcrs.policy_digest()?;
        Ok(SealingTarget {
            instance_id: instance_id.to_owned(),
            ek_fingerprint: ek_fingerprint(&ek),
            ek_public_pem,
            ek,
            ek_certificate: identity.ek_cert_pem.is_some(),
            pcrs,
            policy_digest,
        })
    }

    /// Seals `plaintext` as the secret `name` of this VM; returns the encoded envelope.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, ConsoleError> {
        seal_envelope(
            &self.ek,
            plaintext,
            Some(&self.policy_digest),
            &binding(&self.instance_id, name),
            rand::random(),
        )
        .map_err(|e| ConsoleError::Failed(format!("cannot seal secret {name:?} to the vTPM: {e}")))
    }

    /// Checks that `bytes` (a `TPM` entry of secrets.json) is an envelope whose data key needs this
    /// PCR policy; returns the plaintext length (ciphertext minus the GCM tag).
    fn check_pre_sealed(&self, name: &str, bytes: &[u8]) -> Result<u64, ConsoleError> {
        let envelope = Envelope::decode(bytes).map_err(|e| {
            ConsoleError::Failed(format!(
                "secret {name:?} has type TPM but is not an envelope made by `tokendist seal` ({e}); \
                 seal it with `tokendist seal --name {name} ...`, or give its plaintext as type RAW"
            ))
        })?;
        let policy = TpmtPublic::unmarshal(&envelope.import_blob.public)
            .map(|public| public.auth_policy)
            .unwrap_or_default();
        if policy != self.policy_digest {
            return Err(ConsoleError::Refused(format!(
                "secret {name:?} (type TPM) is sealed to a different PCR policy than this approval's, \
                 so the VM could not open it; seal it again with `tokendist seal --name {name}` and the \
                 same PCR values"
            )));
        }
        Ok(
            u64::try_from(envelope.ciphertext.len().saturating_sub(GCM_TAG_LEN))
                .unwrap_or(u64::MAX),
        )
    }

    /// Seals every secret (`RAW`, `TINK`) to the vTPM; `TPM` entries pass through after
    /// [`Self::check_pre_sealed`]. The plaintext stays in the callers' zeroizing buffers.
    pub fn seal_all(&self, secrets: &[PlainSecret]) -> Result<Vec<StoredSecret>, ConsoleError> {
        secrets
            .iter()
            .map(|secret| {
                let (data, plaintext_len) = if secret.secret_type == "TPM" {
                    let length = self.check_pre_sealed(&secret.name, &secret.data)?;
                    (STANDARD.encode(&*secret.data), length)
                } else {
                    let sealed = self.seal(&secret.name, &secret.data)?;
                    let length = u64::try_from(secret.data.len()).unwrap_or(u64::MAX);
                    (STANDARD.encode(sealed), length)
                };
                Ok(StoredSecret {
                    name: secret.name.clone(),
                    secret_type: secret.secret_type.to_owned(),
                    protection: PROTECTION_TPM_ENVELOPE.to_owned(),
                    data,
                    plaintext_len,
                })
            })
            .collect()
    }

    /// The "TPM sealing" section shown before confirmation.
    pub fn describe(&self) -> String {
        let mut out = String::from("\nTPM sealing\n");
        let _ = writeln!(
            out,
            "  EK                 from Compute's shielded identity; SHA-256 of modulus {}; certificate {}",
            self.ek_fingerprint,
            if self.ek_certificate {
                "published"
            } else {
                "not published"
            }
        );
        out.push_str(&self.pcrs.describe());
        out
    }
}

#[cfg(test)]
mod tests {
    use tokendist_core::evidence::{FetchError, FetchErrorKind};
    use tokendist_core::tpm::ek_public_to_pem;

    use super::*;

    fn ek_pem() -> String {
        let mut modulus = vec![0xC5; 256];
        modulus[255] = 0x0B;
        ek_public_to_pem(&TpmtPublic::rsa_ek(modulus)).unwrap()
    }

    fn identity(ek: Option<String>) -> Fetched<ShieldedIdentity> {
        Ok(ShieldedIdentity {
            ek_pub_pem: ek,
            ek_cert_pem: None,
            ak_pub_pem: None,
            ak_cert_pem: None,
        })
    }

    fn pcrs() -> BTreeMap<u32, Vec<u8>> {
        BTreeMap::from([(0, vec![0x11; 32]), (7, vec![0x22; 32])])
    }

    /// A target for the good EK that seals to `pcrs` (no attestation record, no pinned EK).
    fn target_with_pcrs(instance_id: &str, pcrs: &BTreeMap<u32, Vec<u8>>) -> SealingTarget {
        SealingTarget::new(
            instance_id,
            "vm-a",
            &identity(Some(ek_pem())),
            None,
            Some(pcrs),
            None,
        )
        .unwrap()
    }

    fn secret(name: &str, secret_type: &'static str, data: &[u8]) -> PlainSecret {
        PlainSecret {
            name: name.to_owned(),
            secret_type,
            data: zeroize::Zeroizing::new(data.to_vec()),
        }
    }

    #[test]
    fn fingerprint_is_sha256_of_the_modulus() {
        let ek = ek_template_from_pem(&ek_pem()).unwrap();
        assert_eq!(ek_fingerprint(&ek), hex::encode(Sha256::digest(&ek.unique)));
        assert_eq!(ek_pem_fingerprint(&ek_pem()).unwrap(), ek_fingerprint(&ek));
        assert_eq!(ek.unique.len(), 256);
    }

    #[test]
    fn a_vm_without_an_ek_is_refused_suggesting_no_tpm() {
        let error = SealingTarget::new("1", "vm-a", &identity(None), None, Some(&pcrs()), None)
            .unwrap_err();
        assert!(
            matches!(&error, ConsoleError::Refused(m) if m.contains("--no-tpm") && m.contains("no EK")),
            "{error:?}"
        );
        let down = Err(FetchError {
            api: "compute.instances.getShieldedInstanceIdentity".into(),
            kind: FetchErrorKind::Unavailable,
            message: "503".into(),
        });
        let error = SealingTarget::new("1", "vm-a", &down, None, Some(&pcrs()), None).unwrap_err();
        assert!(matches!(error, ConsoleError::Failed(_)), "{error:?}");
    }

    #[test]
    fn a_quote_from_another_tpm_is_refused() {
        let mut other = vec![0x99; 256];
        other[0] = 0xC1;
        let record = AttestationRecord {
            instance_id: "1".into(),
            ek_public: STANDARD.encode(TpmtPublic::rsa_ek(other).marshal().unwrap()),
            ak_public: String::new(),
            pcr_hash_alg: 0x000B,
            pcr_values: BTreeMap::from([(0, "11".repeat(32))]),
            nonce: String::new(),
            quoted_at: chrono::Utc::now(),
            verified: true,
            quote_attest: String::new(),
            quote_signature: String::new(),
            server_signature: None,
        };
        let error = SealingTarget::new(
            "1",
            "vm-a",
            &identity(Some(ek_pem())),
            Some(&record),
            None,
            None,
        )
        .unwrap_err();
        assert!(
            matches!(&error, ConsoleError::Refused(m) if m.contains("EK is not the one Google publishes")),
            "{error:?}"
        );
    }

    #[test]
    fn raw_secrets_become_envelopes_and_pre_sealed_ones_pass_through_when_the_policy_matches() {
        let target = target_with_pcrs("4708", &pcrs());
        let pre_sealed = target.seal("blob", b"sealed elsewhere").unwrap();
        let stored = target
            .seal_all(&[
                secret("pw", "RAW", b"hunter2"),
                secret("blob", "TPM", &pre_sealed),
            ])
            .unwrap();
        assert!(
            stored
                .iter()
                .all(|s| s.protection == PROTECTION_TPM_ENVELOPE)
        );
        let envelope = Envelope::decode(&STANDARD.decode(&stored[0].data).unwrap()).unwrap();
        let public = TpmtPublic::unmarshal(&envelope.import_blob.public).unwrap();
        assert_eq!(public.auth_policy, target.pcrs.policy_digest().unwrap());
        assert_eq!(stored[0].plaintext_len, 7);
        assert_eq!(stored[1].data, STANDARD.encode(&pre_sealed));
        assert_eq!(stored[1].plaintext_len, b"sealed elsewhere".len() as u64);
        assert_eq!(stored[1].secret_type, "TPM");
    }

    #[test]
    fn pre_sealed_secrets_with_another_policy_or_not_an_envelope_are_rejected() {
        let target = target_with_pcrs("1", &pcrs());
        let mut other_pcrs = pcrs();
        other_pcrs.insert(7, vec![0x33; 32]);
        let other = target_with_pcrs("1", &other_pcrs);
        let foreign = other.seal("blob", b"x").unwrap();
        let error = target
            .seal_all(&[secret("blob", "TPM", &foreign)])
            .unwrap_err();
        assert!(
            matches!(&error, ConsoleError::Refused(m) if m.contains("different PCR policy")),
            "{error:?}"
        );
        let error = target
            .seal_all(&[secret("blob", "TPM", b"plain bytes")])
            .unwrap_err();
        assert!(
            matches!(&error, ConsoleError::Failed(m) if m.contains("tokendist seal")),
            "{error:?}"
        );
    }
}
