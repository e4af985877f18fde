//! Test harness for the `tokendist` binary: starts gcpsim in-process on the demo scenario, prepares a
//! temporary directory (SQLite store, Alice's keys, the server's keys, settings trusting the good
//! VM's container digest, a secrets file) and runs the real binary against them with stdin closed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Not every test binary uses every helper or re-exported name.
#![allow(dead_code, unused_imports)]

pub mod vtpm;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use tokendist_sim::{RunningSim, Scenario};
use tokendist_store::{Store, StoreOptions};
pub use tokendist_testkit::demo::{
    GOOD_DIGEST, GOOD_VM, GOOD_VM_ID, GOOD_VM_NAT_IP, PROJECT, SERVICE_ACCOUNT, TAMPERED_VM,
    TAMPERED_VM_ID, ZONE, demo_scenario, demo_template_settings, scenario_without_good_ek,
};
/// Secret values that must never reach the store in plaintext.
pub const SECRET_VALUES: [&str; 2] = [
    "correct-horse-battery-staple-4711",
    "tink-keyset-bytes-0815",
];

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A simulator and a prepared working directory.
pub struct Console {
    pub sim: Option<RunningSim>,
    pub dir: tempfile::TempDir,
}

impl Console {
    /// Starts gcpsim on the demo scenario, writes settings and secrets, and creates Alice's and the
    /// server's keys with the binary itself.
    pub async fn start() -> Console {
        Console::start_with(demo_scenario()).await
    }

    /// [`Console::start`] on another scenario.
    pub async fn start_with(scenario: Scenario) -> Console {
        let sim = tokendist_testkit::gcpsim::start(scenario).await;
        let console = Console::without_sim(Some(sim));
        std::fs::write(
            console.path("settings.toml"),
            format!(
                "trusted_container_digests = [\"{GOOD_DIGEST}\"]\n{}",
                demo_template_settings()
            ),
        )
        .unwrap();
        console.write_secrets(&format!(
            r#"[{{"name":"db-password","type":"RAW","data":"{}"}},
                {{"name":"keyset","type":"TINK","data":"{}"}}]"#,
            b64(SECRET_VALUES[0]),
            b64(SECRET_VALUES[1])
        ));
        let keygen = console
            .run(&["keygen", "--out", console.path("alice").to_str().unwrap()])
            .await;
        assert_eq!(keygen.code, 0, "{keygen:?}");
        let server = console
            .run(&[
                "keygen",
                "--server",
                "--out",
                console.path("server").to_str().unwrap(),
            ])
            .await;
        assert_eq!(server.code, 0, "{server:?}");
        // The token server creates the store; `tokendist` refuses a missing file without --create.
        console.store().await;
        console
    }

    /// A working directory without a simulator (keygen, certs).
    pub fn without_sim(sim: Option<RunningSim>) -> Console {
        Console {
            sim,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    pub fn store_url(&self) -> String {
        format!("sqlite://{}", self.path("tokendist.db").display())
    }

    pub fn write_secrets(&self, text: &str) {
        std::fs::write(self.path("secrets.json"), text).unwrap();
    }

    /// Runs `tokendist ARGS` with the store, endpoints and settings in the environment.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_without(args, &[]).await
    }

    /// `tokendist show VM --json` in the demo project and zone; the run must succeed.
    pub async fn show_json(&self, vm: &str) -> serde_json::Value {
        let run = self
            .run(&["show", vm, "--project", PROJECT, "--zone", ZONE, "--json"])
            .await;
        assert_eq!(run.code, 0, "{run:?}");
        run.json()
    }

    /// `tokendist ARGS` with the store, endpoints and settings in the environment, not yet run.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tokendist"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TOKENDIST_STORE", self.store_url())
            .env("TOKENDIST_SETTINGS", self.path("settings.toml"))
            .env("TOKENDIST_GCP_ANONYMOUS", "true")
            .env(
                "TOKENDIST_SERVER_RECEIPT_KEY",
                self.path("server/receipt.pub"),
            )
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(sim) = &self.sim {
            command
                .env("TOKENDIST_COMPUTE_ENDPOINT", sim.api_url())
                .env("TOKENDIST_LOGGING_ENDPOINT", sim.api_url());
        }
        command
    }

    /// [`Console::run`] with the environment variables `unset` removed.
    pub async fn run_without(&self, args: &[&str], unset: &[&str]) -> Run {
        let mut command = self.command(args);
        for name in unset {
            command.env_remove(name);
        }
        let output = command.output().await.unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `approve VM` with the standard inputs (secrets, Alice's key, the server's key) and `extra` flags.
    pub async fn approve(&self, vm: &str, extra: &[&str]) -> Run {
        self.approve_without(vm, extra, &[]).await
    }

    /// [`Console::approve`] with the environment variables `unset` removed.
    pub async fn approve_without(&self, vm: &str, extra: &[&str], unset: &[&str]) -> Run {
        let (secrets, key, server_key) = (
            self.arg("secrets.json"),
            self.arg("alice.key"),
            self.arg("server/secrets.pub"),
        );
        let mut args = vec![
            "approve",
            vm,
            "--project",
            PROJECT,
            "--zone",
            ZONE,
            "--secrets",
            &secrets,
            "--key",
            &key,
            "--server-key",
            &server_key,
        ];
        args.extend_from_slice(extra);
        self.run_without(&args, unset).await
    }

    /// The operations' context on this console's store, settings, receipt key and gcpsim (what the
    /// binary builds from the environment [`Console::command`] sets).
    pub async fn context(&self) -> tokendist_tui::operations::Context {
        let options = tokendist_tui::operations::ContextOptions {
            store_url: self.store_url(),
            create: false,
            compute_endpoint: self.sim.as_ref().map(RunningSim::api_url),
            logging_endpoint: self.sim.as_ref().map(RunningSim::api_url),
            gcp_anonymous: true,
            settings_path: Some(self.path("settings.toml")),
            receipt_key_path: Some(self.path("server/receipt.pub")),
            trust_key_files: vec![self.path("alice.pub")],
        };
        tokendist_tui::operations::Context::open(&options)
            .await
            .unwrap()
    }

    /// An approval of `vm` with the standard inputs, its secrets encrypted to the server.
    pub fn approval_request(&self, vm: &str) -> tokendist_tui::operations::ApprovalRequest {
        tokendist_tui::operations::ApprovalRequest {
            vm: tokendist_tui::operations::VmRef {
                instance: vm.to_owned(),
                project: Some(PROJECT.to_owned()),
                zone: Some(ZONE.to_owned()),
            },
            secrets_file: self.path("secrets.json"),
            approver_key_file: self.path("alice.key"),
            no_tpm: true,
            server_key_file: Some(self.path("server/secrets.pub")),
            ..Default::default()
        }
    }

    /// The store the binary writes, opened by the test.
    pub async fn store(&self) -> Arc<dyn Store> {
        tokendist_store::open(&self.store_url(), &StoreOptions::default())
            .await
            .unwrap()
    }

    /// The token server's receipt key, as `keygen --server` wrote it (it signs attestation records).
    pub fn server_receipt_key(&self) -> ed25519_dalek::SigningKey {
        let pem = std::fs::read_to_string(self.path("server/receipt.key")).unwrap();
        tokendist_core::keys::ed25519_private_from_pem(&pem).unwrap()
    }

    /// Alice's public key, as `keygen` wrote it.
    pub fn alice_public(&self) -> ed25519_dalek::VerifyingKey {
        let pem = std::fs::read_to_string(self.path("alice.pub")).unwrap();
        tokendist_core::keys::ed25519_public_from_pem(&pem).unwrap()
    }

    /// Every byte of the SQLite database and its WAL/SHM files.
    pub fn store_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let entry = entry.unwrap();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("tokendist.db")
            {
                bytes.extend(std::fs::read(entry.path()).unwrap());
            }
        }
        assert!(!bytes.is_empty(), "no store file was written");
        bytes
    }
}

pub fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn b64_bytes(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A denied attempt as the server records it.
pub fn pending_attempt(id: &str, name: &str) -> tokendist_store::PendingAttempt {
    tokendist_store::PendingAttempt {
        instance_id: id.to_owned(),
        project: PROJECT.to_owned(),
        zone: ZONE.to_owned(),
        instance_name: name.to_owned(),
        service_account: SERVICE_ACCOUNT.to_owned(),
        seen_at: chrono::Utc::now(),
        peer_address: Some(GOOD_VM_NAT_IP.to_owned()),
        failed_checks: vec![tokendist_store::FailedCheck {
            name: "approval.state".to_owned(),
            reason: "no approval".to_owned(),
        }],
        last_quote: None,
        checks_evaluated: Some(1),
    }
}
