//! `DEMO_NONINTERACTIVE=1 scripts/demo`, the unattended tour of `make demo`, runs to the end with the
//! built binaries: both VMs pending, the good one approved and its secrets delivered, the tampered one
//! refused, the tampering through gcloud denied; its working folder is kept and named; the good VM's
//! tokenclient logs no ERROR or WARN through its release.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Stdio};

use tokendist_testkit::process::{Finished, profile_dir, run_to_success};

#[test]
fn the_unattended_demo_runs_to_the_end_and_keeps_its_working_folder() {
    let bins = profile_dir(&std::env::current_exe().unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Finished { stdout, stderr } = run_to_success(
        Command::new(root.join("scripts/demo"))
            .current_dir(&root)
            .env("DEMO_NONINTERACTIVE", "1")
            .env("DEMO_BIN_DIR", &bins)
            .env("TMPDIR", tmp.path())
            .stdin(Stdio::null()),
        "demo",
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
    let client_log =
        std::fs::read_to_string(work.join("tokenclient-good/tokenclient.log")).unwrap();
    assert_quiet_through_the_release(&client_log);
}

/// The good VM's tokenclient, from its start through its first delivery (waiting for approval on
/// the way), logs no ERROR or WARN line — nothing from libtss2 (`ERROR:esys`) or tss-esapi either —
/// and no colour codes into a file. The one allowed warning is that the demo's TPM is a software
/// one (swtpm), said once. (Later, the demo revokes the VM: the warning that its secrets were removed
/// is deserved.)
fn assert_quiet_through_the_release(log: &str) {
    let through_release: Vec<&str> = log
        .lines()
        .scan(false, |delivered, line| {
            let keep = !*delivered;
            *delivered |= line.contains("secrets delivered");
            keep.then_some(line)
        })
        .collect();
    assert!(
        through_release
            .last()
            .is_some_and(|l| l.contains("secrets delivered")),
        "no delivery in the log:\n{log}"
    );
    let loud: Vec<&&str> = through_release
        .iter()
        .filter(|line| {
            line.contains("ERROR") || line.contains("WARN") || line.contains("Closing context")
        })
        .collect();
    assert!(loud.is_empty(), "{loud:#?}\nlog:\n{log}");
    let software_tpm = log.matches("software TPM").count();
    assert!(software_tpm <= 1, "said {software_tpm} times:\n{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file:\n{log}"
    );
}
