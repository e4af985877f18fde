//! One test's world: gcpsim in-process (demo scenario or a variant), certificates, key files, a SQLite
//! store (or another store URL), the server configuration file, and ways to start servers, mint
//! identity tokens and connect clients.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use tokendist_sim::{MintTokenRequest, RunningSim, Scenario};
use tokendist_store::{Store, StoreOptions};

use super::client::{self, Client};
use super::keys::ServerKeys;
use super::pki::{ClientIdentity, Pki};
use super::server::{self, ServerProcess};
use super::{AUDIENCE, CLIENT_SERIAL, GOOD_VM, PROJECT, TAMPERED_VM, ZONE};
use tokendist_core::evidence::{FetchError, FetchErrorKind};
use tokendist_gcp::{ComputeClient, EvidenceCollector, GcpConfig, LoggingClient};

pub use tokendist_testkit::demo::{demo_toml, scenario_from};

/// The VMs whose evidence tests read.
const VMS: [&str; 2] = [GOOD_VM, TAMPERED_VM];

/// Why gcpsim's evidence of `vm` does not decode in the Google client, if it does not (see
/// [`start_decodable_sim`]).
pub async fn undecodable_evidence(sim: &RunningSim, vm: &str) -> Option<String> {
    let config = GcpConfig::for_simulator(sim.api, None);
    let compute = ComputeClient::new(&config).await.unwrap();
    let logging = LoggingClient::new(&config).await.unwrap();
    let evidence = EvidenceCollector::new(compute, logging)
        .collect(PROJECT, ZONE, vm)
        .await;
    [
        evidence.instance.as_ref().err(),
        evidence.boot_disk.as_ref().err(),
        evidence.project.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .find(|e: &&FetchError| e.kind == FetchErrorKind::Malformed)
    .map(|e| format!("{vm}: {e:?}"))
}

/// Starts gcpsim and checks that every VM's evidence decodes through the real Compute client
/// (a fingerprint Google's decoder rejects is a gcpsim fidelity bug, and fails the test here).
async fn start_decodable_sim(scenario: Scenario) -> RunningSim {
    let sim = tokendist_testkit::gcpsim::start(scenario).await;
    for vm in VMS {
        if sim.metadata.contains_key(vm)
            && let Some(reason) = undecodable_evidence(&sim, vm).await
        {
            panic!("gcpsim served evidence for {vm} that Google's client cannot decode: {reason}");
        }
    }
    sim
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub sim: RunningSim,
    pub pki: Pki,
    pub keys: ServerKeys,
    pub client_identity: ClientIdentity,
    pub store_url: String,
    pub store_options: StoreOptions,
    pub store: Arc<dyn Store>,
    /// Extra environment for servers (e.g. FIRESTORE_EMULATOR_HOST).
    pub server_env: Vec<(String, String)>,
}

impl World {
    /// The demo scenario with a fresh SQLite store.
    pub async fn start() -> World {
        Self::start_with(scenario_from(&demo_toml())).await
    }

    pub async fn start_with(scenario: Scenario) -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("tokendist.db").display());
        Self::start_with_store(scenario, dir, url, StoreOptions::default()).await
    }

    pub async fn start_with_store(
        scenario: Scenario,
        dir: tempfile::TempDir,
        store_url: String,
        store_options: StoreOptions,
    ) -> World {
        let sim = start_decodable_sim(scenario).await;
        let pki = Pki::create(dir.path());
        let keys = ServerKeys::create(dir.path());
        let client_identity = pki.client(CLIENT_SERIAL);
        let store = tokendist_store::open(&store_url, &store_options)
            .await
            .unwrap();
        World {
            dir,
            sim,
            pki,
            keys,
            client_identity,
            store_url,
            store_options,
            store,
            server_env: Vec::new(),
        }
    }

    /// After a mutation of `vm`, checks that gcpsim's new state still decodes through the real client.
    pub async fn assert_decodable(&self, vm: &str) {
        if let Some(reason) = undecodable_evidence(&self.sim, vm).await {
            panic!("gcpsim served evidence for {vm} that Google's client cannot decode: {reason}");
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The server configuration (TOML) trusting `approvers`, plus `extra` top-level lines.
    pub fn config_text(&self, approvers: &[&Path], extra: &str) -> String {
        let gcp = tokendist_testkit::gcpsim::server_gcp_section(self.sim.api);
        let list: Vec<String> = approvers
            .iter()
            .map(|p| format!("{:?}", p.display().to_string()))
            .collect();
        format!(
            r#"listen = "127.0.0.1:0"
audience = "{AUDIENCE}"
store = "{store}"
token_max_age_secs = 60
session_ttl_secs = 120
{extra}

[tls]
mode = "mtls"
cert = "{cert}"
key = "{key}"
client_ca = "{ca}"

[keys]
trusted_approvers = [{approvers}]
receipt_key = "{receipt}"
secrets_key = "{secrets}"

{gcp}{watch_off}"#,
            // The watch is on by default; these tests read the audit log directly unless `extra`
            // sets `[watch]` itself.
            watch_off = if extra.contains("[watch]") {
                ""
            } else {
                "\n[watch]\nenabled = false\n"
            },
            store = self.store_url,
            cert = self.pki.server_cert_path.display(),
            key = self.pki.server_key_path.display(),
            ca = self.pki.ca_path.display(),
            approvers = list.join(", "),
            receipt = self.keys.receipt_path.display(),
            secrets = self.keys.secrets_path.display(),
        )
    }

    /// The default configuration (Alice trusted) with the per-instance session rate limits out of the
    /// way, for tests that send many requests from one VM.
    pub fn config_without_rate_limits(&self) -> String {
        self.config_text(
            &[&self.keys.alice.public_path],
            "[sessions]\nrate_limit_burst = 10000\nrate_limit_per_minute = 600000\n",
        )
    }

    /// Writes the default configuration (Alice trusted) to `NAME.toml`.
    pub fn write_config(&self, name: &str) -> PathBuf {
        let text = self.config_text(&[&self.keys.alice.public_path], "");
        let path = self.path(&format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Starts a server with the default configuration and waits for READY.
    pub async fn server(&self, name: &str) -> ServerProcess {
        let config = self.write_config(name);
        self.server_with_config(name, &config).await
    }

    pub async fn server_with_config(&self, name: &str, config: &Path) -> ServerProcess {
        let env: Vec<(&str, &str)> = self
            .server_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        server::launch(self.dir.path(), name, config, &env)
            .serving(server::READY_DEADLINE)
            .await
    }

    /// A server (with Alice's key) that also accepts EKs whose certificate chains to `ek_ca`
    /// (`[tpm] ek_ca_roots`).
    pub async fn server_trusting_ek_ca(&self, ek_ca: &tokendist_testkit::EkCa) -> ServerProcess {
        let ca = self.path("ek-ca.pem");
        std::fs::write(&ca, format!("{}\n{}", ek_ca.issuer_pem, ek_ca.root_pem)).unwrap();
        let extra = format!("[tpm]\nek_ca_roots = [{:?}]\n", ca.display().to_string());
        let config = self.path("cert.toml");
        std::fs::write(
            &config,
            self.config_text(&[&self.keys.alice.public_path], &extra),
        )
        .unwrap();
        self.server_with_config("cert", &config).await
    }

    /// Runs the real `gcloud` CLI against this world's gcpsim (its config kept in the world's dir);
    /// the command must succeed. Returns its stdout.
    pub fn gcloud(&self, args: &[&str]) -> String {
        tokendist_testkit::gcpsim::gcloud(self.sim.api, &self.path("gcloud-config"), args)
    }

    /// A fresh `format=full` identity token of `vm` for the server's audience.
    pub fn token(&self, vm: &str) -> String {
        self.token_with(MintTokenRequest {
            vm: vm.to_string(),
            audience: AUDIENCE.to_string(),
            format: Some("full".into()),
            licenses: false,
            iat: None,
            exp: None,
        })
    }

    pub fn token_with(&self, request: MintTokenRequest) -> String {
        self.sim.handle().mint_identity_token(&request).unwrap()
    }

    pub fn good_token(&self) -> String {
        self.token(GOOD_VM)
    }

    /// A fresh `format=full` token of `vm` for the audience of `session` (`<audience>/session/<hex
    /// nonce>`): what the client asks the metadata server for after BeginSession (single-use tokens).
    pub fn session_token(
        &self,
        vm: &str,
        session: &tokendist_proto::v1::BeginSessionResponse,
    ) -> String {
        self.token_with(MintTokenRequest {
            vm: vm.to_string(),
            audience: tokendist_core::identity::session_audience(AUDIENCE, &session.nonce),
            format: Some("full".into()),
            licenses: false,
            iat: None,
            exp: None,
        })
    }

    /// One release attempt of `vm` as its client makes it without a TPM: BeginSession with a token
    /// for the plain audience, then GetToken in that session with a token for the session's audience.
    pub async fn release(
        &self,
        client: &mut Client,
        vm: &str,
    ) -> Result<tokendist_proto::v1::TokenResponse, tonic::Status> {
        let session = client::try_begin_session(client, &self.token(vm)).await?;
        client::get_token(
            client,
            &self.session_token(vm, &session),
            &session.session_id,
        )
        .await
    }

    /// An mTLS client presenting the world's client certificate.
    pub async fn client(&self, addr: SocketAddr) -> Client {
        client::connect(addr, &self.pki.ca_pem, &self.client_identity).await
    }
}
