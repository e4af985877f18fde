//! The tokenclient container image (`Containerfile`, `scripts/build-image`, `make image`): built
//! twice from the same binary it has one digest; it holds the binary, its shared libraries and the
//! TCTI modules, a non-root user and no shell; and the binary runs from the image's file system as
//! that user, loading the swtpm TCTI to read a vTPM's endorsement key. Built from the debug binary
//! (a release build is too slow for `make test`); `make image` builds the release one the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tokendist_testkit::Swtpm;
use tokendist_testkit::process::binary;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `scripts/build-image BINARY OUT`: the digest it prints.
fn build_image(tokenclient: &Path, out: &Path) -> String {
    let output = Command::new(repo().join("scripts/build-image"))
        .arg(tokenclient)
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "build-image failed: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Every file and symlink under `root`, relative, sorted.
fn files(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// The image configuration in an OCI layout written by `buildah push … oci:DIR:tokenclient`.
fn image_config(layout: &Path) -> serde_json::Value {
    let blob = |digest: &str| -> serde_json::Value {
        let hex = digest.strip_prefix("sha256:").unwrap();
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap())
            .unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = blob(index["manifests"][0]["digest"].as_str().unwrap());
    blob(manifest["config"]["digest"].as_str().unwrap())
}

#[tokio::test]
async fn the_image_is_reproducible_minimal_non_root_and_runs_the_client_against_a_vtpm() {
    // Never a pass by skipping: without root the image cannot be built here, and the test says so.
    assert!(
        running_as_root(),
        "building the image (buildah's vfs driver) and running it (chroot) need root: run `make test` as root, as CI does"
    );
    assert!(
        Command::new("buildah").arg("--version").output().is_ok(),
        "buildah is not installed: run scripts/install-deps"
    );
    let tokenclient = binary("tokenclient").unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let first = build_image(&tokenclient, &dir.path().join("a"));
    let second = build_image(&tokenclient, &dir.path().join("b"));
    assert!(
        tokendist_core::cloudconfig::is_sha256_digest(&first),
        "{first:?}"
    );
    assert_eq!(first, second, "two builds of one binary differ");

    let rootfs = dir.path().join("a/rootfs");
    let contents = files(&rootfs);
    for expected in [
        "usr/local/bin/tokenclient",
        "etc/passwd",
        "etc/group",
        "lib64/ld-linux-x86-64.so.2",
        "lib/x86_64-linux-gnu/libc.so.6",
        "lib/x86_64-linux-gnu/libtss2-esys.so.0",
        "lib/x86_64-linux-gnu/libtss2-tcti-device.so.0",
        "lib/x86_64-linux-gnu/libtss2-tcti-swtpm.so.0",
    ] {
        assert!(
            contents.iter().any(|f| f == expected),
            "{expected} missing: {contents:#?}"
        );
    }
    let programs: Vec<&String> = contents
        .iter()
        .filter(|f| !f.starts_with("lib") && !f.starts_with("etc/"))
        .collect();
    assert_eq!(
        programs,
        ["usr/local/bin/tokenclient"],
        "only the client is executable"
    );
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    assert_eq!(
        passwd,
        "tokenclient:x:65532:65532:tokenclient:/nonexistent:/nonexistent\n"
    );

    let config = image_config(&dir.path().join("a/oci"));
    assert_eq!(config["config"]["User"], "65532:65532", "{config:#}");
    assert_eq!(config["created"], "1970-01-01T00:00:00Z", "{config:#}");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/tokenclient"])
    );

    // The binary, as the image's user, from the image's files only: its libraries resolve and the
    // swtpm TCTI module loads and talks to a vTPM.
    let swtpm = Swtpm::start().await.unwrap();
    let run = Command::new("chroot")
        .arg("--userspec=65532:65532")
        .arg(&rootfs)
        .args(["/usr/local/bin/tokenclient", "--print-ek", "--tcti"])
        .arg(swtpm.tcti())
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{run:?}");
    assert!(stdout.contains("-----BEGIN PUBLIC KEY-----"), "{stdout}");
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}
