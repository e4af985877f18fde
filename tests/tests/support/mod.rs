//! The end-to-end world: every component is the real binary, a child of the test, stopped on drop.
//! gcpsim (readiness: `--ready-file`), tokenserver and tokenclient (readiness and status: a
//! NOTIFY_SOCKET datagram socket per daemon), tokendist subcommands for PKI, keys, list, approve and
//! revoke, a private swtpm per VM, and the real `gcloud` against gcpsim. Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Not every test binary uses every helper or re-exported name.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use tokendist_testkit::Swtpm;
pub use tokendist_testkit::demo::{GOOD_DIGEST, GOOD_VM, GOOD_VM_ID, PROJECT, ZONE};
use tokendist_testkit::demo::{demo_path, demo_template_settings};
use tokendist_testkit::gcpsim::GcpsimProcess;
use tokendist_testkit::process::{Daemon, Notify, binary};
use tokendist_tpm::{TpmConfig, TpmHandle};

pub const AUDIENCE: &str = "https://tokenserver.e2e.example";
/// The binaries the end-to-end tests run.
pub const BINARIES: [&str; 4] = ["gcpsim", "tokenserver", "tokendist", "tokenclient"];
/// Every process logs at debug level here, so that the secret-leak checks read the most text.
const DEBUG_LOG: [(&str, &str); 1] = [("RUST_LOG", "debug")];
/// The client's longest wait between attempts in these tests.
pub const POLL_INTERVAL: Duration = Duration::from_millis(1000);
/// How long any component may take to come up or answer.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What one run of a command-line tool produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The secrets Alice releases: a RAW password and a binary Tink keyset.
pub struct Secrets {
    pub password: Vec<u8>,
    pub keyset: Vec<u8>,
    pub tink_key: Vec<u8>,
    /// A `TPM` secret made by `tokendist seal`: (plaintext, sealed envelope), when added.
    pub sealed: Option<(Vec<u8>, Vec<u8>)>,
}

impl Secrets {
    pub fn generate() -> Secrets {
        let tink_key: Vec<u8> = rand::random::<[u8; 32]>().to_vec();
        let suffix: String = (0..12)
            .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
            .collect();
        Secrets {
            password: format!("e2e-password-{suffix}").into_bytes(),
            keyset: tokendist_core::tink::keyset_with_aes_gcm_key(1_791_408_185, &tink_key, 1),
            tink_key,
            sealed: None,
        }
    }

    /// Each secret's name and the bytes the workload must receive.
    pub fn by_name(&self) -> BTreeMap<&'static str, &[u8]> {
        let mut map: BTreeMap<&'static str, &[u8]> = [
            ("db-password", self.password.as_slice()),
            ("keyset", self.keyset.as_slice()),
        ]
        .into_iter()
        .collect();
        if let Some((plain, _)) = &self.sealed {
            map.insert("sealed-token", plain.as_slice());
        }
        map
    }

    pub fn json(&self) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let sealed = match &self.sealed {
            Some((_, envelope)) => format!(
                r#", {{"name": "sealed-token", "type": "TPM", "data": "{}"}}"#,
                b64(envelope)
            ),
            None => String::new(),
        };
        format!(
            r#"[{{"name": "db-password", "type": "RAW", "data": "{}"}}, {{"name": "keyset", "type": "TINK", "data": "{}"}}{sealed}]"#,
            b64(&self.password),
            b64(&self.keyset)
        )
    }

    /// Byte strings that must never appear in a log: each value, its base64 and hex forms, the key.
    pub fn needles(&self) -> Vec<Vec<u8>> {
        let mut needles = Vec::new();
        let sealed_plain = self.sealed.as_ref().map(|(plain, _)| plain.clone());
        for value in [&self.password, &self.keyset, &self.tink_key]
            .into_iter()
            .chain(sealed_plain.as_ref())
        {
            needles.push(value.clone());
            needles.push(
                base64::engine::general_purpose::STANDARD
                    .encode(value)
                    .into_bytes(),
            );
            needles.push(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(value)
                    .into_bytes(),
            );
            needles.push(hex(value).into_bytes());
        }
        needles
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A tokenclient under test.
pub struct Client {
    pub daemon: Daemon,
    pub secrets_dir: PathBuf,
    pub socket: PathBuf,
}

impl Client {
    /// Waits (at most `within`) until the client reports every secret of `secrets` delivered, then
    /// checks each file on the VM is byte-identical to secrets.json.
    pub async fn assert_receives(&self, secrets: &Secrets, within: Duration) {
        let expected = format!("STATUS=secrets delivered: {}", secrets.by_name().len());
        self.daemon.wait_for(&expected, within).await;
        for (name, value) in secrets.by_name() {
            let received = std::fs::read(self.secrets_dir.join(name)).unwrap();
            assert_eq!(received, value, "{name} differs from secrets.json");
        }
    }

    /// Waits until the client is denied on `check` and has removed every secret of `secrets`.
    pub async fn assert_revoked(&self, secrets: &Secrets, check: &str) {
        let denied = self.daemon.wait_for("STATUS=denied", DEADLINE).await;
        assert!(denied.contains(check), "{denied}");
        self.daemon
            .wait_for("STATUS=secrets removed", DEADLINE)
            .await;
        for name in secrets.by_name().keys() {
            assert!(
                !self.secrets_dir.join(name).exists(),
                "{name} still on disk"
            );
        }
    }
}

/// Everything one end-to-end test runs.
pub struct World {
    pub dir: tempfile::TempDir,
    pub gcpsim: GcpsimProcess,
    pub api: SocketAddr,
    pub metadata: BTreeMap<String, SocketAddr>,
    pub server: Daemon,
    pub server_addr: SocketAddr,
    pub vm_tpm: Option<Swtpm>,
    pub secrets: Secrets,
}

impl World {
    /// `tokendist seal`s a fresh secret for the good VM (PCRs from its last verified quote) and adds
    /// it to secrets.json as type TPM.
    pub async fn add_sealed_secret(&mut self) {
        let plain = format!("e2e-sealed-{}", rand::random::<u64>()).into_bytes();
        let (input, out) = (
            self.path("sealed-token.txt"),
            self.path("sealed-token.tdev"),
        );
        std::fs::write(&input, &plain).unwrap();
        let run = self
            .tokendist(&[
                "seal",
                "--instance",
                GOOD_VM,
                "--project",
                PROJECT,
                "--zone",
                ZONE,
                "--name",
                "sealed-token",
                "--in",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .await;
        assert_eq!(run.code, 0, "{run:?}");
        std::fs::remove_file(&input).unwrap();
        self.secrets.sealed = Some((plain, std::fs::read(&out).unwrap()));
        std::fs::write(self.path("secrets.json"), self.secrets.json()).unwrap();
    }
}

pub fn bin(name: &str) -> PathBuf {
    binary(name).unwrap_or_else(|e| panic!("{e}"))
}

impl World {
    /// gcpsim on the demo scenario with the good VM's EK taken from a private swtpm (when swtpm is
    /// installed), PKI and keys from `tokendist`, and a ready tokenserver.
    pub async fn start() -> World {
        World::start_with(None).await
    }

    /// [`World::start`] with gcpsim's Logging sinks publishing to the Pub/Sub emulator at
    /// `pubsub` and the server's audit watch on (reconciling every 2 s, state usable for 5 s).
    pub async fn start_watched(pubsub: &str) -> World {
        World::start_with(Some(pubsub.to_owned())).await
    }

    async fn start_with(pubsub: Option<String>) -> World {
        for name in BINARIES {
            bin(name);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);

        let gcpsim = {
            let (binary, scenario, sim_dir) = (bin("gcpsim"), demo_path(), dir.path().to_owned());
            let pubsub = pubsub.clone();
            tokio::task::spawn_blocking(move || {
                GcpsimProcess::spawn_with(&binary, &scenario, &sim_dir, pubsub.as_deref())
            })
            .await
            .unwrap()
        };
        let (api, metadata) = (gcpsim.api, gcpsim.metadata.clone());

        let vm_tpm = Swtpm::start_or_skip().await.unwrap();
        if let Some(swtpm) = &vm_tpm {
            publish_ek(api, GOOD_VM, swtpm).await;
        }

        let secrets = Secrets::generate();
        let world_dir = dir.path().to_path_buf();
        let run = |args: Vec<String>| {
            let world_dir = world_dir.clone();
            async move { tokendist(&world_dir, api, &args).await }
        };
        let pki = path("pki");
        let out = run(vec![
            "certs".into(),
            "--out".into(),
            pki.display().to_string(),
            "--server-name".into(),
            "localhost".into(),
        ])
        .await;
        assert_eq!(out.code, 0, "{out:?}");
        for args in [
            vec![
                "keygen".to_string(),
                "--out".into(),
                path("alice").display().to_string(),
            ],
            vec![
                "keygen".to_string(),
                "--server".into(),
                "--out".into(),
                path("server-keys").display().to_string(),
            ],
        ] {
            let out = run(args).await;
            assert_eq!(out.code, 0, "{out:?}");
        }
        std::fs::write(
            path("settings.toml"),
            format!(
                "trusted_container_digests = [\"{GOOD_DIGEST}\"]\n{}",
                demo_template_settings()
            ),
        )
        .unwrap();
        std::fs::write(path("secrets.json"), secrets.json()).unwrap();

        let config = path("tokenserver.toml");
        std::fs::write(
            &config,
            format!(
                r#"listen = "127.0.0.1:0"
audience = "{AUDIENCE}"
store = "sqlite://{store}"
[tls]
mode = "mtls"
cert = "{pki}/server.pem"
key = "{pki}/server.key"
client_ca = "{pki}/ca.pem"
[keys]
trusted_approvers = ["{alice}.pub"]
receipt_key = "{keys}/receipt.key"
secrets_key = "{keys}/secrets.key"
{gcp}[policy]
trusted_container_digests = ["{GOOD_DIGEST}"]
[tpm]
# The clients here poll every second and attest on each attempt while pending.
rate_limit_burst = 200
rate_limit_per_minute = 600
[sessions]
# Every attempt opens a session.
rate_limit_burst = 200
rate_limit_per_minute = 600
{watch}"#,
                watch = pubsub.as_deref().map_or(
                    // On by default; these worlds read the audit log directly.
                    "[watch]\nenabled = false\n".to_owned(),
                    |host| format!(
                    "[watch]\nenabled = true\npubsub_endpoint = \"http://{host}\"\nreconcile_interval_secs = 2\nmax_age_secs = 5\n"
                )),
                gcp = tokendist_testkit::gcpsim::server_gcp_section(api),
                store = path("tokendist.db").display(),
                pki = pki.display(),
                alice = path("alice").display(),
                keys = path("server-keys").display(),
            ),
        )
        .unwrap();
        let server = Daemon::spawn(
            "tokenserver",
            &bin("tokenserver"),
            &["--config", config.to_str().unwrap()],
            dir.path(),
            Notify::Yes,
            &DEBUG_LOG,
        )
        .serving(DEADLINE)
        .await;
        let server_addr = server.addr;
        let server = server.daemon;
        World {
            dir,
            gcpsim,
            api,
            metadata,
            server,
            server_addr,
            vm_tpm,
            secrets,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn store_url(&self) -> String {
        format!("sqlite://{}", self.path("tokendist.db").display())
    }

    /// Starts a tokenclient named `name` as VM `vm` (its metadata server), with `tpm` (None = --no-tpm).
    pub async fn client(
        &self,
        name: &str,
        vm: &str,
        tpm: Option<&Swtpm>,
        extra: &[&str],
    ) -> Client {
        let secrets_dir = self.path(&format!("{name}/secrets"));
        let socket = self.path(&format!("{name}/secrets.sock"));
        let pki = self.path("pki");
        let tpm_section = match tpm {
            Some(swtpm) => format!("enabled = true\ntcti = \"{}\"", swtpm.tcti()),
            None => "enabled = false".to_string(),
        };
        let config = self.path(&format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                r#"address = "{server}"
server_name = "localhost"
audience = "{AUDIENCE}"
metadata_host = "{metadata}"
poll_interval_ms = {poll}
initial_backoff_ms = 100
rpc_timeout_ms = 10000
[tls]
ca = "{pki}/ca.pem"
mtls = true
client_cert = "{pki}/client.pem"
client_key = "{pki}/client.key"
[tpm]
{tpm_section}
[delivery]
dir = "{dir}"
socket = "{socket}"
"#,
                server = self.server_addr,
                metadata = self.metadata[vm],
                poll = POLL_INTERVAL.as_millis(),
                pki = pki.display(),
                dir = secrets_dir.display(),
                socket = socket.display(),
            ),
        )
        .unwrap();
        let mut args = vec!["--config", config.to_str().unwrap()];
        args.extend_from_slice(extra);
        let daemon = Daemon::spawn(
            name,
            &bin("tokenclient"),
            &args,
            self.dir.path(),
            Notify::Yes,
            &DEBUG_LOG,
        );
        daemon.wait_for("READY=1", DEADLINE).await;
        Client {
            daemon,
            secrets_dir,
            socket,
        }
    }

    /// The good VM's client (re-attesting every second), once it waits pending approval.
    pub async fn pending_good_vm(&self) -> Client {
        let client = self
            .client(
                "tokenclient",
                GOOD_VM,
                self.vm_tpm.as_ref(),
                &["--reattest-interval", "1s"],
            )
            .await;
        client
            .daemon
            .wait_for("STATUS=pending approval", DEADLINE)
            .await;
        client
    }

    /// Runs `tokendist ARGS` against this world's store and gcpsim.
    pub async fn tokendist(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokendist(self.dir.path(), self.api, &args).await
    }

    /// `tokendist approve GOOD_VM --yes`, sealing to the vTPM when the world has one (always, unless
    /// TOKENDIST_TEST_SKIP_TPM=1 on a machine without swtpm), otherwise `--no-tpm`.
    pub async fn approve(&self) -> Run {
        let secrets = self.path("secrets.json").display().to_string();
        let key = self.path("alice.key").display().to_string();
        let server_key = self.path("server-keys/secrets.pub").display().to_string();
        let mut args = vec![
            "approve",
            GOOD_VM,
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
            "--yes",
        ];
        if self.vm_tpm.is_none() {
            args.push("--no-tpm");
        }
        self.tokendist(&args).await
    }

    /// `tokendist list --json`, the entry of `vm`.
    pub async fn listed(&self, vm: &str) -> serde_json::Value {
        let run = self.tokendist(&["list", "--json"]).await;
        assert_eq!(run.code, 0, "{run:?}");
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        json["vms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == vm)
            .cloned()
            .unwrap_or_else(|| panic!("{vm} not listed: {}", run.stdout))
    }

    /// The real gcloud against gcpsim.
    pub fn gcloud(&self, args: &[&str]) -> String {
        tokendist_testkit::gcpsim::gcloud(self.api, &self.path("gcloud-config"), args)
    }

    /// The store's events of the good VM.
    pub async fn events(&self) -> Vec<tokendist_store::EventRecord> {
        let store = tokendist_store::open(&self.store_url(), &Default::default())
            .await
            .unwrap();
        store
            .list_events(&tokendist_store::EventQuery::latest(100).for_instance(GOOD_VM_ID))
            .await
            .unwrap()
    }

    /// Every log file this world's processes wrote (name, bytes).
    pub fn logs(&self) -> Vec<(String, Vec<u8>)> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect()
    }

    /// Asserts no log contains any form of any secret.
    pub fn assert_logs_free_of_secrets(&self) {
        let logs = self.logs();
        assert!(
            logs.len() >= 3,
            "expected the logs of gcpsim, tokenserver and tokenclient: {:?}",
            logs.iter().map(|l| &l.0).collect::<Vec<_>>()
        );
        for (name, text) in &logs {
            for needle in self.secrets.needles() {
                assert!(
                    !text.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{name} contains a secret"
                );
            }
        }
    }
}

/// Reads the swtpm's EK and publishes it as `vm`'s shielded identity in gcpsim.
pub async fn publish_ek(api: SocketAddr, vm: &str, swtpm: &Swtpm) {
    let pem = {
        let tpm = TpmHandle::connect(TpmConfig::new(swtpm.tcti()))
            .await
            .unwrap();
        let ek = tpm.ek_public().await.unwrap();
        let public = tokendist_core::tpm::TpmtPublic::from_tpm2b(&ek.public).unwrap();
        tokendist_core::tpm::ek_public_to_pem(&public).unwrap()
    };
    sim_admin(
        api,
        &format!("instances/{vm}/ek"),
        serde_json::json!({ "ekPub": pem }),
    )
    .await;
}

/// POSTs `body` to gcpsim's admin API at `path` (`faults`, `faults:clear`, `instances/VM/ek`).
pub async fn sim_admin(api: SocketAddr, path: &str, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{api}/admin/v1/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {:?}",
        response.text().await
    );
}

async fn tokendist(dir: &Path, api: SocketAddr, args: &[String]) -> Run {
    let output = tokio::process::Command::new(bin("tokendist"))
        .args(args)
        .env(
            "TOKENDIST_STORE",
            format!("sqlite://{}", dir.join("tokendist.db").display()),
        )
        .env("TOKENDIST_SETTINGS", dir.join("settings.toml"))
        .env("TOKENDIST_GCP_ANONYMOUS", "true")
        .env(
            "TOKENDIST_SERVER_RECEIPT_KEY",
            dir.join("server-keys/receipt.pub"),
        )
        .env("TOKENDIST_COMPUTE_ENDPOINT", format!("http://{api}"))
        .env("TOKENDIST_LOGGING_ENDPOINT", format!("http://{api}"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
