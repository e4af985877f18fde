//! `DEMO_NONINTERACTIVE=1 scripts/demo`, the unattended tour of `make demo`, runs to the end with the
//! built binaries: both VMs pending, the good one approved and its secrets delivered, the tampered one
//! refused, the tampering through gcloud denied; its working folder is kept and named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};

use tokendist_testkit::process::profile_dir;

#[test]
fn the_unattended_demo_runs_to_the_end_and_keeps_its_working_folder() {
    let bins = profile_dir(&std::env::current_exe().unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(root.join("scripts/demo"))
        .current_dir(&root)
        .env("DEMO_NONINTERACTIVE", "1")
        .env("DEMO_BIN_DIR", &bins)
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "demo failed: {:?}\n{stdout}\n{stderr}",
        output.status
    );
    for expected in [
        "db-password: ",
        "(exit 3: refused)",
        "re-attestation was denied; the client removed the secrets",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    assert!(
        stdout.contains("✔ approval.signature") && !stdout.contains("✘ approval.signature"),
        "the console's settings trust Alice's key:\n{stdout}"
    );
    let folders: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let work = &folders[0];
    assert!(
        stdout.contains(&format!(
            "working folder (logs, keys, store; kept after the demo): {}",
            work.display()
        )),
        "{stdout}"
    );
    assert!(stderr.contains("stopped everything it started"), "{stderr}");
    for log in [
        "tokenserver.log",
        "gcpsim.log",
        "tokenclient-good/tokenclient.log",
    ] {
        assert!(work.join(log).is_file(), "{log} kept in {}", work.display());
    }
}
