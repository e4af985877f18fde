//! The vTPM attestation steps against the real `tokenserver` binary over mTLS with gcpsim: the test
//! plays the VM with `TpmHandle` over a private swtpm whose EK gcpsim serves as the instance's shielded
//! identity. A full session releases a `require_tpm` approval's secrets; every way the TPM side can be
//! wrong is denied with its named check (`tpm.ek`, `tpm.ak`, `tpm.quote`) and recorded as pending.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use crate::support::approvals::{PlainSecret, approve, approve_with, sample_secrets};
use crate::support::client::{Client, assert_denied, begin_session, get_token, with_token};
use crate::support::world::World;
use crate::support::{GOOD_VM, GOOD_VM_ID, TAMPERED_VM};
use tokendist_core::approval::PcrPolicy;
use tokendist_core::tpm::{ObjectAttributes, TpmtPublic, ek_public_to_pem, marshal};
use tokendist_proto::v1 as pb;
use tokendist_store::{EventKind, EventQuery, SessionStep};
use tokendist_testkit::Swtpm;
use tokendist_tpm::{AkInfo, EkInfo, PcrBank, TpmConfig, TpmHandle};
use tonic::{Code, Status};

/// The VM's TPM: a private swtpm, a handle to it, its EK and a fresh AK.
struct VmTpm {
    _swtpm: Swtpm,
    tpm: TpmHandle,
    ek: EkInfo,
    ak: AkInfo,
}

impl VmTpm {
    async fn start(swtpm: Swtpm) -> VmTpm {
        let tpm = TpmHandle::connect(TpmConfig::new(swtpm.tcti()))
            .await
            .unwrap();
        let ek = tpm.ek_public().await.unwrap();
        let ak = tpm.create_ak().await.unwrap();
        VmTpm {
            _swtpm: swtpm,
            tpm,
            ek,
            ak,
        }
    }

    async fn new() -> VmTpm {
        Self::start(Swtpm::start().await.unwrap()).await
    }

    fn ek_pem(&self) -> String {
        ek_public_to_pem(&TpmtPublic::from_tpm2b(&self.ek.public).unwrap()).unwrap()
    }

    /// The current SHA-256 values of `pcrs`, hex (what Alice pins from the VM's last quote).
    async fn pcr_policy(&self, pcrs: &[u32]) -> PcrPolicy {
        let values = self.tpm.read_pcrs(PcrBank::Sha256, pcrs).await.unwrap();
        PcrPolicy {
            hash_alg: 0x000B,
            pcrs: values
                .into_iter()
                .map(|(index, value)| (index, hex::encode(value)))
                .collect(),
        }
    }

    async fn activate(&self, challenge: &pb::AttestResponse) -> Vec<u8> {
        let blob = marshal::tpm2b_content(&challenge.credential_blob, "blob").unwrap();
        let secret = marshal::tpm2b_content(&challenge.encrypted_secret, "secret").unwrap();
        self.tpm
            .activate_credential(&self.ak, blob, secret)
            .await
            .unwrap()
            .to_vec()
    }

    /// A ProveRequest with this TPM's quote over `nonce` of the PCRs the session asked for.
    async fn prove_request(
        &self,
        session: &pb::BeginSessionResponse,
        activated: Vec<u8>,
        nonce: &[u8],
    ) -> pb::ProveRequest {
        let pcrs = session.pcr_selection.clone().unwrap().pcrs;
        let quote = self
            .tpm
            .quote(&self.ak, nonce, PcrBank::Sha256, &pcrs)
            .await
            .unwrap();
        pb::ProveRequest {
            session_id: session.session_id.clone(),
            activated_secret: activated,
            quote_attest: marshal::tpm2b(&quote.attest, "attest").unwrap(),
            quote_signature: quote.signature,
            pcr_values: quote.pcr_values.into_iter().collect(),
        }
    }
}

fn attest_request(session_id: &str, ek: &EkInfo, ak_public: &[u8]) -> pb::AttestRequest {
    pb::AttestRequest {
        session_id: session_id.to_string(),
        ek_public: ek.public.clone(),
        ek_certificate: Vec::new(),
        ak_public: ak_public.to_vec(),
    }
}

async fn attest(
    client: &mut Client,
    token: &str,
    request: pb::AttestRequest,
) -> Result<pb::AttestResponse, Status> {
    client
        .attest(with_token(request, token))
        .await
        .map(tonic::Response::into_inner)
}

async fn prove(
    client: &mut Client,
    token: &str,
    request: pb::ProveRequest,
) -> Result<pb::ProveResponse, Status> {
    client
        .prove_attestation(with_token(request, token))
        .await
        .map(tonic::Response::into_inner)
}

/// The default session PCRs (the server's `default_pcrs`).
const DEFAULT_PCRS: [u32; 6] = [0, 4, 7, 8, 9, 14];

/// A world whose good VM has `vm`'s EK in its shielded identity and a `require_tpm` approval pinning
/// that EK and the TPM's current PCRs, a server, and a client.
async fn tpm_world(
    vm: &VmTpm,
    secrets: &[PlainSecret],
) -> (World, support::server::ServerProcess, Client) {
    let world = World::start().await;
    world
        .sim
        .handle()
        .set_ek_public_pem(GOOD_VM, &vm.ek_pem())
        .unwrap();
    let policy = vm.pcr_policy(&DEFAULT_PCRS).await;
    let ek_pem = vm.ek_pem();
    approve_with(&world, GOOD_VM, secrets, |approval| {
        approval.require_tpm = true;
        approval.ek_public_pem = Some(ek_pem);
        approval.pcr_policy = Some(policy);
    })
    .await;
    let server = world.server("server").await;
    let client = world.client(server.addr).await;
    (world, server, client)
}

/// BeginSession → Attest → ActivateCredential → ProveAttestation for the good VM; returns the session.
async fn proven_session(
    world: &World,
    client: &mut Client,
    vm: &VmTpm,
) -> pb::BeginSessionResponse {
    let session = begin_session(client, &world.good_token()).await;
    let challenge = attest(
        client,
        &world.session_token(GOOD_VM, &session),
        attest_request(&session.session_id, &vm.ek, &vm.ak.public),
    )
    .await
    .unwrap();
    let activated = vm.activate(&challenge).await;
    let request = vm.prove_request(&session, activated, &session.nonce).await;
    prove(client, &world.session_token(GOOD_VM, &session), request)
        .await
        .unwrap();
    session
}

/// The reason Alice reads for `check` (the store's pending record); the caller's denial names the
/// check without it.
async fn reason_of(world: &World, status: &Status, check: &str) -> String {
    let denial = tokendist_proto::denial_of(status).unwrap();
    assert!(denial.checks.iter().any(|c| c.name == check), "{status:?}");
    assert!(
        denial.checks.iter().all(|c| c.reason.is_empty()),
        "a denial reached the caller with its reason: {status:?}"
    );
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    pending
        .failed_checks
        .into_iter()
        .find(|c| c.name == check)
        .map(|c| c.reason)
        .unwrap_or_default()
}

async fn pending_checks(world: &World) -> Vec<String> {
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    pending.failed_checks.into_iter().map(|c| c.name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_tpm_session_releases_the_secrets_once_and_records_the_quote() {
    let vm = VmTpm::new().await;
    let secrets = sample_secrets("tpm");
    let (world, server, mut client) = tpm_world(&vm, &secrets).await;

    let session = begin_session(&mut client, &world.good_token()).await;
    assert!(session.tpm_required);
    assert_eq!(session.pcr_selection.clone().unwrap().pcrs, DEFAULT_PCRS);
    let challenge = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        attest_request(&session.session_id, &vm.ek, &vm.ak.public),
    )
    .await
    .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    let activated = vm.activate(&challenge).await;
    let request = vm.prove_request(&session, activated, &session.nonce).await;
    let proven = prove(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        request,
    )
    .await
    .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    assert_eq!(proven.valid_until_unix, session.expires_at_unix);

    let response = get_token(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        &session.session_id,
    )
    .await
    .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));
    let received: Vec<(String, Vec<u8>)> = response
        .secrets
        .into_iter()
        .map(|s| (s.name, s.data))
        .collect();
    let expected: Vec<(String, Vec<u8>)> = secrets
        .iter()
        .map(|s| (s.name.clone(), s.data.clone()))
        .collect();
    assert_eq!(received, expected);

    let stored = world
        .store
        .get_session(&session.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.step, SessionStep::Consumed);
    let again = get_token(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        &session.session_id,
    )
    .await;
    assert_eq!(again.unwrap_err().code(), Code::FailedPrecondition);

    let record = world
        .store
        .get_attestation(GOOD_VM_ID)
        .await
        .unwrap()
        .unwrap();
    assert!(record.verified);
    assert_eq!(record.nonce, hex::encode(&session.nonce));
    assert_eq!(record.pcr_values, vm.pcr_policy(&DEFAULT_PCRS).await.pcrs);
    // The record is the server's: signed with its receipt key, and its quote verifies again.
    let verified = record
        .verify(&world.keys.receipt.verifying_key())
        .unwrap_or_else(|e| panic!("the server's attestation record does not verify: {e}"));
    assert_eq!(verified.len(), DEFAULT_PCRS.len());
    let events = world
        .store
        .list_events(&EventQuery::latest(50).for_instance(GOOD_VM_ID))
        .await
        .unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EventKind::Attested), "{kinds:?}");
    assert!(kinds.contains(&EventKind::Released), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_token_without_a_session_on_a_require_tpm_approval_is_denied_by_the_tpm_checks() {
    let world = World::start().await;
    approve_with(&world, GOOD_VM, &sample_secrets("no-session"), |approval| {
        approval.require_tpm = true;
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    // No session at all is not even a request GetToken accepts (single-use tokens need one).
    let status = get_token(&mut client, &world.good_token(), "")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    // A session that was only begun fails the TPM checks.
    let session = begin_session(&mut client, &world.good_token()).await;
    assert_denied(
        get_token(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            &session.session_id,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.ek", "tpm.ak", "tpm.quote"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ek_differing_from_the_shielded_identity_is_denied_by_tpm_ek() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("ek")).await;
    // Google now reports another EK for the instance (the scenario's own key, not the swtpm's).
    let other = std::fs::read_to_string(
        tokendist_testkit::demo::scenarios_dir().join("keys/tokenclient-good-ek.pem"),
    )
    .unwrap();
    assert_ne!(other, vm.ek_pem());
    world
        .sim
        .handle()
        .set_ek_public_pem(GOOD_VM, &other)
        .unwrap();

    let session = begin_session(&mut client, &world.good_token()).await;
    let status = assert_denied(
        attest(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            attest_request(&session.session_id, &vm.ek, &vm.ak.public),
        )
        .await,
        Code::PermissionDenied,
        &["tpm.ek"],
    );
    assert!(
        reason_of(&world, &status, "tpm.ek")
            .await
            .contains("shielded identity"),
        "{status:?}"
    );
    assert_eq!(pending_checks(&world).await, ["tpm.ek"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ak_with_the_decrypt_attribute_is_denied_by_tpm_ak() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("ak")).await;
    let mut ak = TpmtPublic::from_tpm2b(&vm.ak.public).unwrap();
    ak.attributes = ObjectAttributes(ak.attributes.0 | ObjectAttributes::DECRYPT);
    let decrypting_ak = ak.to_tpm2b().unwrap();

    let session = begin_session(&mut client, &world.good_token()).await;
    let status = assert_denied(
        attest(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            attest_request(&session.session_id, &vm.ek, &decrypting_ak),
        )
        .await,
        Code::PermissionDenied,
        &["tpm.ak"],
    );
    assert!(
        reason_of(&world, &status, "tpm.ak")
            .await
            .contains("decrypt"),
        "{status:?}"
    );
    assert_eq!(pending_checks(&world).await, ["tpm.ak"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_activated_by_a_different_tpm_is_denied_by_tpm_ak() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("other-tpm")).await;
    // A copy of the VM presents the VM's EK but an AK of its own TPM.
    let copy = VmTpm::start(Swtpm::start_with_new_identity().await.unwrap()).await;

    let session = begin_session(&mut client, &world.good_token()).await;
    let challenge = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        attest_request(&session.session_id, &vm.ek, &copy.ak.public),
    )
    .await
    .unwrap();
    let blob = marshal::tpm2b_content(&challenge.credential_blob, "blob").unwrap();
    let secret = marshal::tpm2b_content(&challenge.encrypted_secret, "secret").unwrap();
    assert!(
        copy.tpm
            .activate_credential(&copy.ak, blob, secret)
            .await
            .is_err(),
        "a TPM without the EK cannot activate the credential"
    );
    let guessed = rand::random::<[u8; 32]>().to_vec();
    let request = copy.prove_request(&session, guessed, &session.nonce).await;
    let status = assert_denied(
        prove(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            request,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.ak"],
    );
    assert!(
        reason_of(&world, &status, "tpm.ak")
            .await
            .contains("credential not activated"),
        "{status:?}"
    );
    assert_eq!(pending_checks(&world).await, ["tpm.ak"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_over_another_nonce_is_denied_by_tpm_quote() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("nonce")).await;
    let session = begin_session(&mut client, &world.good_token()).await;
    let challenge = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        attest_request(&session.session_id, &vm.ek, &vm.ak.public),
    )
    .await
    .unwrap();
    let activated = vm.activate(&challenge).await;
    let request = vm.prove_request(&session, activated, &[0x42; 32]).await;
    let status = assert_denied(
        prove(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            request,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.quote"],
    );
    assert!(
        reason_of(&world, &status, "tpm.quote")
            .await
            .contains("nonce"),
        "{status:?}"
    );
    assert_eq!(pending_checks(&world).await, ["tpm.quote"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcr_extended_after_approval_is_denied_by_tpm_quote_naming_the_pcr() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("pcr")).await;
    vm.tpm
        .extend_pcr(14, b"something ran after approval")
        .await
        .unwrap();

    let session = begin_session(&mut client, &world.good_token()).await;
    let challenge = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        attest_request(&session.session_id, &vm.ek, &vm.ak.public),
    )
    .await
    .unwrap();
    let activated = vm.activate(&challenge).await;
    let request = vm.prove_request(&session, activated, &session.nonce).await;
    let status = assert_denied(
        prove(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            request,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.quote"],
    );
    assert_eq!(
        reason_of(&world, &status, "tpm.quote").await,
        "PCR 14 differs from the approved PCR policy"
    );
    let record = world
        .store
        .get_attestation(GOOD_VM_ID)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !record.verified,
        "the refused quote is on record, unverified"
    );
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    assert!(pending.last_quote.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_prove_attestation_is_denied_by_tpm_quote() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("replay")).await;
    let session = begin_session(&mut client, &world.good_token()).await;
    let challenge = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        attest_request(&session.session_id, &vm.ek, &vm.ak.public),
    )
    .await
    .unwrap();
    let activated = vm.activate(&challenge).await;
    let request = vm.prove_request(&session, activated, &session.nonce).await;
    prove(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        request.clone(),
    )
    .await
    .unwrap();
    let status = assert_denied(
        prove(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            request,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.quote"],
    );
    assert!(
        reason_of(&world, &status, "tpm.quote")
            .await
            .contains("nonce already used"),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_token_on_a_proven_session_of_another_instance_is_denied_by_tpm_quote() {
    let vm = VmTpm::new().await;
    let (world, _server, mut client) = tpm_world(&vm, &sample_secrets("other")).await;
    approve(&world, TAMPERED_VM, &sample_secrets("tampered")).await;
    let session = proven_session(&world, &mut client, &vm).await;

    assert_denied(
        get_token(
            &mut client,
            &world.session_token(TAMPERED_VM, &session),
            &session.session_id,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.quote"],
    );
    // The session is untouched: its own VM still gets its secrets with it.
    get_token(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        &session.session_id,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ek_certificate_chaining_to_a_configured_root_is_accepted_without_the_shielded_identity() {
    let vm = VmTpm::new().await;
    let (world, _server, _client) = tpm_world(&vm, &sample_secrets("cert")).await;
    // The Compute API no longer reports the VM's EK; its EK certificate vouches for it instead.
    let other = VmTpm::start(Swtpm::start_with_new_identity().await.unwrap()).await;
    world.sim.handle().remove_ek(GOOD_VM).unwrap();
    let server = world.server_trusting_ek_ca(vm._swtpm.ek_ca()).await;
    let mut client = world.client(server.addr).await;

    let session = begin_session(&mut client, &world.good_token()).await;
    let mut request = attest_request(&session.session_id, &vm.ek, &vm.ak.public);
    request.ek_certificate = vm.ek.certificate.clone().unwrap();
    attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        request,
    )
    .await
    .unwrap_or_else(|status| panic!("{status:?}\n{}", server.log_text()));

    // Another TPM's certificate (another CA) for the VM's EK is refused.
    let session = begin_session(&mut client, &world.good_token()).await;
    let mut request = attest_request(&session.session_id, &vm.ek, &vm.ak.public);
    request.ek_certificate = other.ek.certificate.clone().unwrap();
    assert_denied(
        attest(
            &mut client,
            &world.session_token(GOOD_VM, &session),
            request,
        )
        .await,
        Code::PermissionDenied,
        &["tpm.ek"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_keys_are_invalid_argument_and_attestation_is_rate_limited_per_instance() {
    let world = World::start().await;
    let extra = "[tpm]\nrate_limit_burst = 3\nrate_limit_per_minute = 1\n";
    let config = world.path("limited.toml");
    std::fs::write(
        &config,
        world.config_text(&[&world.keys.alice.public_path], extra),
    )
    .unwrap();
    let server = world.server_with_config("limited", &config).await;
    let mut client = world.client(server.addr).await;
    let session = begin_session(&mut client, &world.good_token()).await;
    let garbage = pb::AttestRequest {
        session_id: session.session_id.clone(),
        ek_public: vec![0x00, 0x10, 0x01],
        ek_certificate: Vec::new(),
        ak_public: vec![0x00, 0x01],
    };
    let first = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        garbage.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(first.code(), Code::InvalidArgument, "{first:?}");
    assert!(
        first.message().contains("ek_public") && first.message().contains("TPM2B_PUBLIC"),
        "{first:?}"
    );
    let empty_proof = pb::ProveRequest {
        session_id: session.session_id.clone(),
        ..Default::default()
    };
    let second = prove(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        empty_proof,
    )
    .await
    .unwrap_err();
    assert_eq!(second.code(), Code::FailedPrecondition, "{second:?}");
    attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        garbage.clone(),
    )
    .await
    .unwrap_err();
    let limited = attest(
        &mut client,
        &world.session_token(GOOD_VM, &session),
        garbage.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(limited.code(), Code::ResourceExhausted, "{limited:?}");
    // Another instance has its own bucket.
    let other_session = begin_session(&mut client, &world.token(TAMPERED_VM)).await;
    let other = attest(
        &mut client,
        &world.session_token(TAMPERED_VM, &other_session),
        pb::AttestRequest {
            session_id: other_session.session_id,
            ..garbage
        },
    )
    .await
    .unwrap_err();
    assert_eq!(other.code(), Code::InvalidArgument, "{other:?}");
}
