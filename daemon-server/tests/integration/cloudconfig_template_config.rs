//! The token server's `[policy]` accepts the console's cloud-config template settings (the demo pastes
//! its settings there), and a hole pattern that is not a valid regular expression is a configuration
//! error: exit 78 naming the hole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crate::support::server;
use crate::support::world::World;

const NOTICE: Duration = Duration::from_secs(20);

/// The demo settings' template lines, as dotted keys under `policy.`.
fn template_policy(digest_pattern: &str) -> String {
    format!(
        "policy.cloud_config_template.path = \"dist/cloud-config/tokenclient.template.yaml\"\n\
         policy.cloud_config_template.holes.server_address = 'tokenserver\\.alice\\.example:50051'\n\
         policy.cloud_config_template.holes.audience = 'https://tokenserver\\.alice\\.example'\n\
         policy.cloud_config_template.holes.image_repository = 'us-docker\\.pkg\\.dev/[a-z0-9-]+/tokendist/tokenclient'\n\
         policy.cloud_config_template.holes.image_digest = '{digest_pattern}'\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_accepts_a_template_and_its_holes() {
    let world = World::start().await;
    let config = world.path("template.toml");
    std::fs::write(
        &config,
        world.config_text(
            &[&world.keys.alice.public_path],
            &template_policy("sha256:[0-9a-f]{64}"),
        ),
    )
    .unwrap();
    let server = world.server_with_config("template", &config).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_hole_pattern_exits_78_naming_the_hole() {
    let world = World::start().await;
    let config = world.path("bad-template.toml");
    std::fs::write(
        &config,
        world.config_text(
            &[&world.keys.alice.public_path],
            &template_policy("sha256:[0-9a-f"),
        ),
    )
    .unwrap();
    let (status, stderr) = server::launch(world.dir.path(), "bad-template", &config, &[])
        .exit_status(NOTICE)
        .await;
    assert_eq!(status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("image_digest"), "{stderr}");
}
