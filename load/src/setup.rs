//! A run's world: its directory, gcpsim as its own process (the `gcpsim` binary, with the injected
//! latencies), the test CA and key files (`tokendist_testkit::{pki, keys}`), a SQLite store holding
//! one approval per simulated VM (proposed from the VM as Compute reports it, secrets sealed to the
//! server, signed by Alice: as the console writes them), and the real `tokenserver` binary started
//! on loopback with mTLS and its readiness read from its NOTIFY_SOCKET. With `--tpm` every VM's vTPM
//! is the software TPM of `tokendist_testkit::soft_tpm` (its EK and AK in the VM's shielded
//! identity), and every approval requires the TPM: it pins that EK (from Compute's shielded
//! identity, as the console does) and a PCR policy of the software TPM's values.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokendist_core::approval::{self, Approval, PcrPolicy, StoredSecret};
use tokendist_core::server_seal;
use tokendist_core::settings::Settings;
use tokendist_gcp::{ComputeClient, GcpConfig};
use tokendist_store::Store;
use tokendist_testkit::gcpsim::GcpsimProcess;
use tokendist_testkit::keys::ServerKeys;
use tokendist_testkit::pki::{ClientIdentity, Pki};
use tokendist_testkit::process::{Daemon, Notify, Serving};
use tokendist_testkit::soft_tpm::{self, SoftTpm};

use crate::caller::{self, Caller, Kind};
use crate::scenario::{self, SimVm, VtpmKeys};

/// The audience every simulated VM asks its tokens for.
pub const AUDIENCE: &str = "https://tokenserver.load.example";
/// Serial of the callers' client certificate.
const CLIENT_SERIAL: &[u8] = &[0x01, 0x0a, 0xd0];
/// How long a server may take to report READY.
const READY_DEADLINE: Duration = Duration::from_secs(60);
/// The PCRs a `--tpm` approval's policy pins (the server's default selection), SHA-256 bank.
pub const TPM_PCRS: [u32; 6] = [0, 4, 7, 8, 9, 14];
/// TPM_ALG_SHA256.
const SHA256_BANK: u16 = 0x000B;

/// Everything a run drives, alive until dropped (children are killed on drop).
#[derive(Debug)]
pub struct World {
    pub dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    pub gcpsim: GcpsimProcess,
    pub pki: Pki,
    pub keys: ServerKeys,
    pub client_identity: ClientIdentity,
    pub vms: Vec<SimVm>,
    /// `--tpm`: every VM's vTPM.
    pub tpm: Option<Arc<SoftTpm>>,
    /// The store's URL: SQLite in the run's directory unless [`World::use_store`] named another.
    store: Option<String>,
}

/// Where the workspace binaries are: beside this executable unless given.
pub fn binary(given: &Option<PathBuf>, name: &str) -> anyhow::Result<PathBuf> {
    match given {
        Some(path) => Ok(path.clone()),
        None => Ok(tokendist_testkit::process::binary(name)?),
    }
}

impl World {
    /// Writes the scenario, starts gcpsim with `latency` (gcpsim `--latency` specs), makes the
    /// certificates and keys; with `tpm`, the VMs' vTPM is the software TPM.
    pub async fn start(
        keep_dir: Option<&Path>,
        gcpsim: PathBuf,
        vms: Vec<SimVm>,
        projects: usize,
        latency: &[String],
        tpm: bool,
    ) -> anyhow::Result<World> {
        let (dir, temp) = match keep_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                (dir.to_path_buf(), None)
            }
            None => {
                let temp = tempfile::tempdir().context("cannot create a temp dir")?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let demo_dir = tokendist_testkit::demo::scenarios_dir();
        let (tpm, vtpm_keys) = if tpm {
            let soft = SoftTpm::new();
            let keys = VtpmKeys {
                ek: dir.join("soft-tpm-ek.pem"),
                ak: dir.join("soft-tpm-ak.pem"),
            };
            std::fs::write(&keys.ek, soft.ek_public_pem())?;
            std::fs::write(&keys.ak, soft.ak_public_pem())?;
            (Some(Arc::new(soft)), keys)
        } else {
            (None, VtpmKeys::demo(&demo_dir))
        };
        let scenario_path = dir.join("scenario.toml");
        std::fs::write(
            &scenario_path,
            scenario::scenario_toml(&vms, projects, &demo_dir, &vtpm_keys),
        )?;
        let args: Vec<String> = latency
            .iter()
            .flat_map(|spec| ["--latency".to_string(), spec.clone()])
            .collect();
        let gcpsim = GcpsimProcess::start_in_with(gcpsim, scenario_path, dir.clone(), args).await;
        let pki = Pki::create(&dir);
        let keys = ServerKeys::create(&dir);
        let client_identity = pki.client(CLIENT_SERIAL);
        Ok(World {
            dir,
            _temp: temp,
            gcpsim,
            pki,
            keys,
            client_identity,
            vms,
            tpm,
            store: None,
        })
    }

    /// The store's URL (SQLite in the run's directory, unless [`World::use_store`] named another).
    pub fn store_url(&self) -> String {
        match &self.store {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.dir.join("tokendist.db").display()),
        }
    }

    /// Uses the store at `url` (e.g. `firestore://PROJECT`) for approvals and the servers.
    pub fn use_store(&mut self, url: String) {
        self.store = Some(url);
    }

    /// Opens the run's store (`FIRESTORE_EMULATOR_HOST` read from the environment).
    pub async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        tokendist_store::open_from_env(&self.store_url())
            .await
            .with_context(|| format!("cannot open the store {}", self.store_url()))
    }

    /// gcpsim's Compute API, as the console reads it.
    pub async fn compute(&self) -> anyhow::Result<ComputeClient> {
        let config = GcpConfig::for_simulator(self.gcpsim.api, None);
        Ok(ComputeClient::new(&config).await?)
    }

    /// Approves every VM as it is now, with two sealed secrets each, signed by Alice; with `--tpm`
    /// requiring the TPM, pinning the EK Compute reports and the software TPM's PCR values.
    pub async fn approve_all(&self) -> anyhow::Result<()> {
        let store = self.open_store().await?;
        let compute = self.compute().await?;
        for vm in &self.vms {
            put(&store, self.signed_approval(&compute, vm).await?).await?;
        }
        Ok(())
    }

    /// The first approval (revision 1) of `vm` as Compute reports it now, signed by Alice.
    pub async fn signed_approval(
        &self,
        compute: &ComputeClient,
        vm: &SimVm,
    ) -> anyhow::Result<Approval> {
        let instance = compute
            .instance(&vm.project, scenario::ZONE, &vm.name)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read {} from gcpsim: {e:?}", vm.name))?;
        let allowed = Settings::default().always_allowed_metadata_keys;
        let mut approval =
            Approval::proposed_from(&instance, &allowed, "alice@example.com", chrono::Utc::now());
        approval.require_tpm = false;
        if self.tpm.is_some() {
            let identity = compute
                .shielded_identity(&vm.project, scenario::ZONE, &vm.name)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot read {}'s shielded identity: {e:?}", vm.name)
                })?;
            approval.require_tpm = true;
            approval.ek_public_pem =
                Some(identity.ek_pub_pem.with_context(|| {
                    format!("gcpsim reports no EK for {} (vtpm = true?)", vm.name)
                })?);
            approval.pcr_policy = Some(tpm_policy());
        }
        approval.secrets = self.seal_secrets(&approval.instance_id, &vm.name)?;
        approval.revision = 1;
        approval::sign(&mut approval, &self.keys.alice.key);
        Ok(approval)
    }

    fn seal_secrets(&self, instance_id: &str, vm: &str) -> anyhow::Result<Vec<StoredSecret>> {
        let nonce = hex::encode(rand::random::<[u8; 8]>());
        [
            ("db-password", format!("pw-{vm}-{nonce}")),
            ("api-key", format!("key-{vm}-{nonce}")),
        ]
        .into_iter()
        .map(|(name, data)| {
            let aad = server_seal::binding(instance_id, name);
            let sealed = server_seal::seal(
                &self.keys.secrets_public,
                data.as_bytes(),
                &aad,
                &mut rand::rng(),
            )
            .map_err(|e| anyhow::anyhow!("cannot seal a secret: {e}"))?;
            Ok(StoredSecret {
                name: name.into(),
                secret_type: "RAW".into(),
                protection: "hpke-x25519".into(),
                data: STANDARD.encode(sealed),
                plaintext_len: data.len() as u64,
            })
        })
        .collect()
    }

    /// The server's configuration: mTLS, Alice trusted, gcpsim as Google, per-VM session and attestation
    /// limits out of the way (the tool measures the release path, not the rate limiter); the audit
    /// watch on (reconciliation only: gcpsim's sinks need the Pub/Sub emulator) or off.
    pub fn server_config(&self, watch: bool) -> String {
        let gcp = tokendist_testkit::gcpsim::server_gcp_section(self.gcpsim.api);
        format!(
            r#"listen = "127.0.0.1:0"
audience = "{AUDIENCE}"
store = "{store}"
token_max_age_secs = 60
session_ttl_secs = 120

[sessions]
rate_limit_burst = 1000000000
rate_limit_per_minute = 1000000000

[tpm]
rate_limit_burst = 1000000000
rate_limit_per_minute = 1000000000

[tls]
mode = "mtls"
cert = "{cert}"
key = "{key}"
client_ca = "{ca}"

[keys]
trusted_approvers = ["{alice}"]
receipt_key = "{receipt}"
secrets_key = "{secrets}"

{gcp}
[watch]
enabled = {watch}
pubsub_endpoint = "off"
"#,
            store = self.store_url(),
            cert = self.pki.server_cert_path.display(),
            key = self.pki.server_key_path.display(),
            ca = self.pki.ca_path.display(),
            alice = self.keys.alice.public_path.display(),
            receipt = self.keys.receipt_path.display(),
            secrets = self.keys.secrets_path.display(),
        )
    }

    /// Waits until the server's audit watch has read `expected` VMs' baselines and reconciled every
    /// project since, so that measured releases take their audit verdict from the watch; prints
    /// progress to stderr.
    pub async fn wait_for_watch(
        &self,
        expected: usize,
        timeout: std::time::Duration,
    ) -> anyhow::Result<()> {
        let store = self.open_store().await?;
        let projects: std::collections::BTreeSet<&str> =
            self.vms.iter().map(|vm| vm.project.as_str()).collect();
        let started = std::time::Instant::now();
        let mut shown = usize::MAX;
        loop {
            let mut ready = 0;
            for project in &projects {
                if let Some(watch) = store.get_watch(project).await? {
                    let reconciled = watch.last_reconciled.is_some();
                    ready += watch
                        .instances
                        .values()
                        .filter(|vm| vm.baseline_at.is_some() && reconciled)
                        .count();
                }
            }
            if ready >= expected {
                eprintln!("audit watch: {ready} VMs baselined and reconciled");
                return Ok(());
            }
            if ready != shown {
                eprintln!("audit watch: {ready}/{expected} VMs baselined…");
                shown = ready;
            }
            anyhow::ensure!(
                started.elapsed() < timeout,
                "the audit watch baselined {ready}/{expected} VMs in {timeout:?}; see the server's log"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Keeps the run's directory (logs, configs, store) after the run, and says where it is.
    pub fn keep(&mut self) -> PathBuf {
        if let Some(temp) = self._temp.take() {
            let _ = temp.keep();
        }
        self.dir.clone()
    }

    /// gcpsim's requests per Google method so far.
    pub async fn google_requests(
        &self,
        http: &reqwest::Client,
    ) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
        #[derive(serde::Deserialize)]
        struct Stats {
            requests: std::collections::BTreeMap<String, u64>,
        }
        let url = format!("http://{}/admin/v1/stats", self.gcpsim.api);
        let stats: Stats = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("cannot read gcpsim's counters at {url}"))?
            .json()
            .await
            .context("gcpsim's counters are not the expected JSON")?;
        Ok(stats.requests)
    }

    /// A caller with its own mTLS connection to the server at `addr` that asks for VM `vm`'s
    /// release (attesting with `tpm` first when given).
    pub async fn release_caller(
        &self,
        vm: &SimVm,
        addr: std::net::SocketAddr,
        http: &reqwest::Client,
        tpm: Option<Arc<SoftTpm>>,
    ) -> anyhow::Result<Arc<Caller>> {
        let metadata = *self
            .gcpsim
            .metadata
            .get(&vm.name)
            .with_context(|| format!("gcpsim serves no metadata server for {}", vm.name))?;
        Ok(Arc::new(Caller {
            client: caller::connect(addr, &self.pki.ca_pem, &self.client_identity).await?,
            kind: Kind::Release {
                vm: vm.name.clone(),
                metadata,
                http: http.clone(),
                plain: std::sync::Mutex::new(None),
                tpm,
            },
        }))
    }

    /// Starts `tokenserver --config` with `RUST_LOG=log_level` (its log: `DIR/tokenserver.log`)
    /// and waits for READY.
    pub async fn start_server(
        &self,
        binary: &Path,
        log_level: &str,
        watch: bool,
    ) -> anyhow::Result<Serving> {
        self.start_named_server("tokenserver", binary, log_level, &self.server_config(watch))
            .await
    }

    /// Starts `tokenserver --config DIR/NAME.toml` holding `config`, with `RUST_LOG=log_level` (its
    /// log: `DIR/NAME.log`), and waits for READY.
    pub async fn start_named_server(
        &self,
        name: &str,
        binary: &Path,
        log_level: &str,
        config: &str,
    ) -> anyhow::Result<Serving> {
        let config_path = self.dir.join(format!("{name}.toml"));
        std::fs::write(&config_path, config)?;
        let config = config_path;
        let daemon = Daemon::spawn(
            name,
            binary,
            &["--config".as_ref(), config.as_os_str()],
            &self.dir,
            Notify::Yes,
            &[("RUST_LOG", log_level)],
        );
        Ok(daemon.serving(READY_DEADLINE).await)
    }

    /// Starts this binary's `echo-server` mode with the server's certificate and client CA.
    pub async fn start_echo(&self) -> anyhow::Result<Serving> {
        let me = std::env::current_exe().context("cannot find this executable")?;
        let daemon = Daemon::spawn(
            "echo",
            &me,
            &[
                "echo-server".as_ref(),
                "--cert".as_ref(),
                self.pki.server_cert_path.as_os_str(),
                "--key".as_ref(),
                self.pki.server_key_path.as_os_str(),
                "--client-ca".as_ref(),
                self.pki.ca_path.as_os_str(),
            ],
            &self.dir,
            Notify::Yes,
            &[],
        );
        Ok(daemon.serving(READY_DEADLINE).await)
    }
}

/// The PCR policy of a `--tpm` approval: the software TPM's values of [`TPM_PCRS`].
fn tpm_policy() -> PcrPolicy {
    PcrPolicy {
        hash_alg: SHA256_BANK,
        pcrs: soft_tpm::pcrs(&TPM_PCRS)
            .into_iter()
            .map(|(index, value)| (index, hex::encode(value)))
            .collect(),
    }
}

async fn put(store: &Arc<dyn Store>, approval: Approval) -> anyhow::Result<()> {
    let name = approval.instance_name.clone();
    store
        .put_approval(approval, None)
        .await
        .with_context(|| format!("cannot store the approval of {name}"))?;
    Ok(())
}
