//! Approvals written through the libraries, as the console would: the VM's live evidence from gcpsim,
//! `Approval::proposed_from`, secrets sealed to the server (HPKE), Alice's signature, and a
//! compare-and-swap write into the store. Tests edit the record before signing (narrower pins) or
//! after (tampering).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use tokendist_core::approval::{self, Approval, StoredSecret};
use tokendist_core::server_seal;
use tokendist_core::settings::Settings;
use tokendist_gcp::{ComputeClient, GcpConfig};

use super::world::World;
use super::{PROJECT, ZONE};

/// A secret as Alice hands it to the console.
pub struct PlainSecret {
    pub name: String,
    pub data: Vec<u8>,
}

/// Distinct, recognisable secret values (never stored in the clear).
pub fn sample_secrets(tag: &str) -> Vec<PlainSecret> {
    let nonce = hex::encode(rand::random::<[u8; 8]>());
    vec![
        PlainSecret {
            name: "db-password".into(),
            data: format!("pw-{tag}-{nonce}-correct-horse").into_bytes(),
        },
        PlainSecret {
            name: "api-key".into(),
            data: format!("key-{tag}-{nonce}-battery-staple").into_bytes(),
        },
    ]
}

/// An unsigned approval of `vm` as it is now (no TPM requirement, no secrets yet).
pub async fn propose(world: &World, vm: &str) -> Approval {
    let config = GcpConfig::for_simulator(world.sim.api, None);
    let compute = ComputeClient::new(&config).await.unwrap();
    let instance = compute.instance(PROJECT, ZONE, vm).await.unwrap();
    let mut approval = Approval::proposed_from(
        &instance,
        &Settings::default().always_allowed_metadata_keys,
        "alice@example.com",
        chrono::Utc::now(),
    );
    approval.require_tpm = false;
    approval
}

/// Seals `secrets` to the server's X25519 key, bound to the approval's instance id.
pub fn seal_secrets(
    world: &World,
    instance_id: &str,
    secrets: &[PlainSecret],
) -> Vec<StoredSecret> {
    secrets
        .iter()
        .map(|secret| {
            let aad = server_seal::binding(instance_id, &secret.name);
            let sealed = server_seal::seal(
                &world.keys.secrets_public,
                &secret.data,
                &aad,
                &mut rand::rng(),
            )
            .unwrap();
            StoredSecret {
                name: secret.name.clone(),
                secret_type: "RAW".into(),
                protection: "hpke-x25519".into(),
                data: STANDARD.encode(sealed),
                plaintext_len: secret.data.len() as u64,
            }
        })
        .collect()
}

/// Signs `approval` as the first revision and creates it in the store.
pub async fn store_signed(world: &World, mut approval: Approval, key: &SigningKey) -> Approval {
    approval.revision = 1;
    approval::sign(&mut approval, key);
    world.store.put_approval(approval, None).await.unwrap()
}

/// Approves `vm` with `secrets`, letting `edit` adjust the record before Alice signs it.
pub async fn approve_with(
    world: &World,
    vm: &str,
    secrets: &[PlainSecret],
    edit: impl FnOnce(&mut Approval),
) -> Approval {
    let mut approval = propose(world, vm).await;
    approval.secrets = seal_secrets(world, &approval.instance_id, secrets);
    edit(&mut approval);
    store_signed(world, approval, &world.keys.alice.key).await
}

/// Approves `vm` as it is, with `secrets`.
pub async fn approve(world: &World, vm: &str, secrets: &[PlainSecret]) -> Approval {
    approve_with(world, vm, secrets, |_| {}).await
}
