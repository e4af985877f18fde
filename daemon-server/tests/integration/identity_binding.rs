//! Issue 8, binding, against the real `tokenserver` with gcpsim: the instance the Compute API returns
//! under the approved name must be the token's and the approval's instance (`identity.instance`), so
//! a same-name replacement VM cannot stand in for the approved one; and an EK certificate that
//! contradicts the EK Google records for the instance (shielded identity) fails `tpm.ek`, whichever
//! CA issued it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use crate::support::approvals::{approve, sample_secrets};
use crate::support::client::{assert_denied, begin_session, get_token, with_token};
use crate::support::world::World;
use crate::support::{GOOD_VM, GOOD_VM_ID};
use tokendist_core::tpm::{TpmtPublic, ek_public_to_pem};
use tokendist_proto::v1 as pb;
use tokendist_testkit::Swtpm;
use tokendist_tpm::{TpmConfig, TpmHandle};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_name_replacement_instance_is_denied_by_identity_instance() {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("twin")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    // A token of the approved VM (its id), for a session of its own.
    let session = begin_session(&mut client, &world.good_token()).await;
    let token = world.session_token(GOOD_VM, &session);

    // Bob replaces the VM by a twin under the same name: Compute now describes the twin.
    let twin_id = world.sim.handle().replace_instance(GOOD_VM).unwrap();
    assert_ne!(twin_id.to_string(), GOOD_VM_ID);
    world.assert_decodable(GOOD_VM).await;

    let status = get_token(&mut client, &token, &session.session_id)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // The twin is as perfect as Bob can make it: only its id gives it away.
    assert_eq!(
        support::client::failed_checks(&status),
        ["identity.instance"],
        "{status:?}"
    );
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    let reason = pending
        .failed_checks
        .iter()
        .find(|c| c.name == "identity.instance")
        .map(|c| c.reason.clone())
        .unwrap_or_default();
    assert!(reason.contains(&twin_id.to_string()), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ek_certificate_contradicting_the_shielded_identity_ek_is_denied_by_tpm_ek() {
    let world = World::start().await;
    let swtpm = Swtpm::start().await.unwrap();
    let tpm = TpmHandle::connect(TpmConfig::new(swtpm.tcti()))
        .await
        .unwrap();
    let ek = tpm.ek_public().await.unwrap();
    let ak = tpm.create_ak().await.unwrap();
    // Google records another vTPM's EK for the instance than the one the client's certificate names.
    let other = Swtpm::start_with_new_identity().await.unwrap();
    let other_tpm = TpmHandle::connect(TpmConfig::new(other.tcti()))
        .await
        .unwrap();
    let other_ek = other_tpm.ek_public().await.unwrap();
    let other_pem = ek_public_to_pem(&TpmtPublic::from_tpm2b(&other_ek.public).unwrap()).unwrap();
    world
        .sim
        .handle()
        .set_ek_public_pem(GOOD_VM, &other_pem)
        .unwrap();
    // The client's certificate chains to a configured EK CA.
    let server = world.server_trusting_ek_ca(swtpm.ek_ca()).await;
    let mut client = world.client(server.addr).await;

    let session = begin_session(&mut client, &world.good_token()).await;
    let request = pb::AttestRequest {
        session_id: session.session_id.clone(),
        ek_public: ek.public.clone(),
        ek_certificate: ek.certificate.clone().unwrap(),
        ak_public: ak.public.clone(),
    };
    let status = assert_denied(
        client
            .attest(with_token(request, &world.session_token(GOOD_VM, &session)))
            .await,
        Code::PermissionDenied,
        &["tpm.ek"],
    );
    let pending = world.store.get_pending(GOOD_VM_ID).await.unwrap().unwrap();
    assert!(
        pending
            .failed_checks
            .iter()
            .any(|c| c.name == "tpm.ek" && c.reason.contains("contradicts")),
        "{pending:?}\n{status:?}"
    );
}
