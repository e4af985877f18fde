//! Private swtpm instances for tests in any crate (`tokendist_testkit::Swtpm`).
//!
//! - A template TPM state (RSA EK persistent at 0x81010001, EK certificate in NV 0x01c00002 issued by
//!   a private swtpm-localca CA, only the SHA-256 PCR bank active) is provisioned with `swtpm_setup`
//!   once per machine and cached under the temp dir (built in a scratch dir, then renamed into place,
//!   so concurrent test processes never see half a template).
//! - Each `Swtpm::start().await` (run on a blocking thread, so no runtime worker waits) copies the
//!   template state into its own temp dir and runs
//!   `swtpm socket --tpm2` as a child process on a free port pair P, P+1 picked by the harness
//!   (libtss2's swtpm TCTI wants the control port at P+1), retrying on port collisions, with readiness
//!   polled by connecting to both ports under a bounded deadline. Drop kills the child and removes
//!   the dir.
//! - `Swtpm::start_with_new_identity()` provisions a fresh state with its own CA (a different EK);
//!   `Swtpm::start_unprovisioned()` starts from an empty state (no EK in NV, no certificate).

use std::{
    io,
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

/// Bump when the template's provisioning changes, so stale caches are not reused.
const TEMPLATE_VERSION: &str = "v1";
/// How many port pairs are tried before giving up.
const PORT_ATTEMPTS: u32 = 10;
/// How long a starting swtpm may take to accept connections (it usually takes ~5 ms).
const READY_DEADLINE: Duration = Duration::from_secs(10);
const READY_POLL: Duration = Duration::from_millis(5);
const STATE_FILE: &str = "tpm2-00.permall";
const ISSUER_CERT: &str = "issuercert.pem";
const ROOT_CERT: &str = "swtpm-localca-rootca-cert.pem";

/// Why a swtpm could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum SwtpmError {
    /// `swtpm` or `swtpm_setup` is not on PATH.
    #[error("swtpm is not installed (run scripts/install-deps): {0}")]
    NotInstalled(String),
    /// A file operation failed.
    #[error("swtpm harness: {what}: {source}")]
    Io {
        /// What the harness was doing.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// `swtpm_setup` failed.
    #[error("swtpm_setup failed ({status}): {output}")]
    Setup {
        /// Its exit status.
        status: String,
        /// Its stdout and stderr.
        output: String,
    },
    /// swtpm did not come up.
    #[error("swtpm did not start after {attempts} attempts: {detail}")]
    Start {
        /// How many port pairs were tried.
        attempts: u32,
        /// The last failure (with swtpm's log).
        detail: String,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> SwtpmError {
    let what = what.into();
    move |source| SwtpmError::Io { what, source }
}

/// The PEM certificates of the private CA that issued a swtpm's EK certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EkCa {
    /// The intermediate CA (`issuercert.pem`): the EK certificate's issuer.
    pub issuer_pem: String,
    /// The self-signed root (`swtpm-localca-rootca-cert.pem`).
    pub root_pem: String,
}

/// A running private swtpm. Killed (and its state removed) on drop.
#[derive(Debug)]
pub struct Swtpm {
    child: Child,
    port: u16,
    ek_ca: EkCa,
    dir: TempDir,
}

impl Swtpm {
    /// Whether `swtpm` and `swtpm_setup` are on PATH.
    pub fn is_installed() -> bool {
        ["swtpm", "swtpm_setup"]
            .iter()
            .all(|tool| find_on_path(tool).is_some())
    }

    /// Starts a swtpm from the shared template (the same EK and EK certificate every time).
    pub async fn start() -> Result<Swtpm, SwtpmError> {
        off_the_runtime(Self::start_blocking).await
    }

    fn start_blocking() -> Result<Swtpm, SwtpmError> {
        require_installed()?;
        let template = template_dir()?;
        let dir = scratch_dir("tokendist-swtpm-")?;
        std::fs::copy(
            template.join("state").join(STATE_FILE),
            dir.path().join(STATE_FILE),
        )
        .map_err(io_error("copying the template TPM state"))?;
        let ek_ca = read_ca(&template.join("ca"))?;
        launch(dir, ek_ca)
    }

    /// Starts a swtpm with a freshly provisioned state and its own CA: a different EK than `start()`'s.
    /// Takes about a second (swtpm_setup).
    pub async fn start_with_new_identity() -> Result<Swtpm, SwtpmError> {
        off_the_runtime(Self::start_with_new_identity_blocking).await
    }

    fn start_with_new_identity_blocking() -> Result<Swtpm, SwtpmError> {
        require_installed()?;
        let dir = scratch_dir("tokendist-swtpm-")?;
        provision(dir.path())?;
        let state = dir.path().join("state").join(STATE_FILE);
        std::fs::rename(&state, dir.path().join(STATE_FILE))
            .map_err(io_error("moving the new TPM state"))?;
        let ek_ca = read_ca(&dir.path().join("ca"))?;
        launch(dir, ek_ca)
    }

    /// Starts a swtpm on an empty state: a TPM as manufactured, with no persistent EK, no EK
    /// certificate and all four PCR banks active (the client must create its EK from the template).
    pub async fn start_unprovisioned() -> Result<Swtpm, SwtpmError> {
        off_the_runtime(Self::start_unprovisioned_blocking).await
    }

    fn start_unprovisioned_blocking() -> Result<Swtpm, SwtpmError> {
        require_installed()?;
        let dir = scratch_dir("tokendist-swtpm-")?;
        let ek_ca = EkCa {
            issuer_pem: String::new(),
            root_pem: String::new(),
        };
        launch(dir, ek_ca)
    }

    /// `start()`. A missing swtpm fails the test (naming what to install), unless the developer
    /// explicitly set `TOKENDIST_TEST_SKIP_TPM=1`: then `None` after a loud SKIPPED line. CI never
    /// sets it (`.ci/run` unsets it), so there the TPM tests always run.
    pub async fn start_or_skip() -> Result<Option<Swtpm>, SwtpmError> {
        let skip_allowed = std::env::var("TOKENDIST_TEST_SKIP_TPM").is_ok_and(|v| v == "1");
        if skip_allowed && !Swtpm::is_installed() {
            eprintln!("SKIPPED: swtpm not installed and TOKENDIST_TEST_SKIP_TPM=1");
            return Ok(None);
        }
        Swtpm::start().await.map(Some)
    }

    /// The TCTI for `TpmConfig`: `swtpm:host=127.0.0.1,port=P`.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// The TPM command port (the control port is `port() + 1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA that issued this swtpm's EK certificate (empty PEMs for `start_unprovisioned()`).
    pub fn ek_ca(&self) -> &EkCa {
        &self.ek_ca
    }

    /// The directory holding this swtpm's state and log.
    /// SIGKILLs the swtpm (as a crash would): what it had not written to its NV state is lost.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the swtpm again on the same ports with the state it left (after [`Swtpm::kill`]):
    /// the same EK, PCRs reset as at a reboot.
    pub fn restart(&mut self) -> Result<(), SwtpmError> {
        self.kill();
        let log = self.dir.path().join("swtpm-restarted.log");
        let mut child = spawn_swtpm(self.dir.path(), self.port, &log)?;
        if let Err(failure) = wait_until_ready(&mut child, self.port) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SwtpmError::Start {
                attempts: 1,
                detail: format!("restart on port {}: {failure}", self.port),
            });
        }
        self.child = child;
        Ok(())
    }

    pub fn state_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a start (provisioning, spawning, polling for readiness) on a blocking thread, so that no
/// runtime worker of the test waits.
async fn off_the_runtime(start: fn() -> Result<Swtpm, SwtpmError>) -> Result<Swtpm, SwtpmError> {
    tokio::task::spawn_blocking(start)
        .await
        .unwrap_or_else(|error| panic!("the swtpm start panicked: {error}"))
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

fn require_installed() -> Result<(), SwtpmError> {
    for tool in ["swtpm", "swtpm_setup", "swtpm_localca"] {
        if find_on_path(tool).is_none() {
            return Err(SwtpmError::NotInstalled(format!(
                "{tool} not found on PATH: install the Debian packages swtpm and swtpm-tools \
                 (scripts/install-deps does), or set TOKENDIST_TEST_SKIP_TPM=1 to skip the TPM tests"
            )));
        }
    }
    Ok(())
}

fn scratch_dir(prefix: &str) -> Result<TempDir, SwtpmError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(io_error("creating a temp dir"))
}

/// The cached template: `<tmp>/tokendist-swtpm-template-v1/{state,ca}`, provisioned if missing.
fn template_dir() -> Result<PathBuf, SwtpmError> {
    let template =
        std::env::temp_dir().join(format!("tokendist-swtpm-template-{TEMPLATE_VERSION}"));
    if template.join("state").join(STATE_FILE).is_file()
        && template.join("ca").join(ISSUER_CERT).is_file()
    {
        return Ok(template);
    }
    let scratch = tempfile::Builder::new()
        .prefix("tokendist-swtpm-template-build-")
        .tempdir()
        .map_err(io_error("creating the template build dir"))?;
    provision(scratch.path())?;
    let built = scratch.keep();
    match std::fs::rename(&built, &template) {
        Ok(()) => Ok(template),
        // Another test process renamed its template first: use that one.
        Err(_) if template.join("state").join(STATE_FILE).is_file() => {
            let _ = std::fs::remove_dir_all(&built);
            Ok(template)
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&built);
            Err(SwtpmError::Io {
                what: format!("moving the template into {}", template.display()),
                source: error,
            })
        }
    }
}

/// Runs swtpm_setup into `dir/state` with a private swtpm-localca CA in `dir/ca`.
fn provision(dir: &Path) -> Result<(), SwtpmError> {
    let ca = dir.join("ca");
    let state = dir.join("state");
    for sub in [&ca, &state] {
        std::fs::create_dir_all(sub).map_err(io_error(format!("creating {}", sub.display())))?;
    }
    let localca_conf = ca.join("swtpm-localca.conf");
    let setup_conf = ca.join("swtpm_setup.conf");
    let ca_dir = ca.display();
    std::fs::write(
        &localca_conf,
        format!(
            "statedir = {ca_dir}\nsigningkey = {ca_dir}/signkey.pem\nissuercert = {ca_dir}/{ISSUER_CERT}\n\
             certserial = {ca_dir}/certserial\n"
        ),
    )
    .map_err(io_error("writing swtpm-localca.conf"))?;
    std::fs::write(
        &setup_conf,
        format!(
            "create_certs_tool = swtpm_localca\ncreate_certs_tool_config = {}\n\
             create_certs_tool_options = /etc/swtpm-localca.options\nactive_pcr_banks = sha256\n",
            localca_conf.display()
        ),
    )
    .map_err(io_error("writing swtpm_setup.conf"))?;
    let output = Command::new("swtpm_setup")
        .arg("--tpm2")
        .arg("--tpmstate")
        .arg(&state)
        .arg("--config")
        .arg(&setup_conf)
        .args(["--create-ek-cert", "--pcr-banks", "sha256", "--overwrite"])
        .stdin(Stdio::null())
        .output()
        .map_err(io_error("running swtpm_setup"))?;
    if !output.status.success() || !state.join(STATE_FILE).is_file() {
        return Err(SwtpmError::Setup {
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(())
}

fn read_ca(ca: &Path) -> Result<EkCa, SwtpmError> {
    let read = |name: &str| {
        std::fs::read_to_string(ca.join(name))
            .map_err(io_error(format!("reading {}", ca.join(name).display())))
    };
    Ok(EkCa {
        issuer_pem: read(ISSUER_CERT)?,
        root_pem: read(ROOT_CERT)?,
    })
}

/// A port P such that P and P+1 were both free a moment ago.
fn free_port_pair() -> Result<u16, SwtpmError> {
    for _ in 0..100 {
        let first = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(io_error("binding a probe port"))?;
        let port = first
            .local_addr()
            .map_err(io_error("reading the probe port"))?
            .port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if TcpListener::bind((Ipv4Addr::LOCALHOST, next)).is_ok() {
            return Ok(port);
        }
    }
    Err(SwtpmError::Start {
        attempts: 0,
        detail: "found no free pair of adjacent ports".into(),
    })
}

fn launch(dir: TempDir, ek_ca: EkCa) -> Result<Swtpm, SwtpmError> {
    let mut last_failure = String::new();
    for attempt in 1..=PORT_ATTEMPTS {
        let port = free_port_pair()?;
        let log = dir.path().join(format!("swtpm-{attempt}.log"));
        let mut child = spawn_swtpm(dir.path(), port, &log)?;
        match wait_until_ready(&mut child, port) {
            Ok(()) => {
                return Ok(Swtpm {
                    child,
                    port,
                    ek_ca,
                    dir,
                });
            }
            Err(failure) => {
                let _ = child.kill();
                let _ = child.wait();
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                last_failure = format!("port {port}: {failure}; swtpm log: {}", log_text.trim());
            }
        }
    }
    Err(SwtpmError::Start {
        attempts: PORT_ATTEMPTS,
        detail: last_failure,
    })
}

/// Runs swtpm on `port` (commands) and `port + 1` (control) with its state in `dir`, logging to `log`.
fn spawn_swtpm(dir: &Path, port: u16, log: &Path) -> Result<Child, SwtpmError> {
    Command::new("swtpm")
        .arg("socket")
        .arg("--tpm2")
        .arg("--tpmstate")
        .arg(format!("dir={}", dir.display()))
        .arg("--server")
        .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
        .arg("--ctrl")
        .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
        .arg("--flags")
        .arg("not-need-init,startup-clear")
        .arg("--log")
        .arg(format!("file={},level=1", log.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(io_error("spawning swtpm"))
}

/// Polls both ports until they accept connections, the child exits, or the deadline passes.
fn wait_until_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + READY_DEADLINE;
    let accepts = |p: u16| {
        TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, p)), READY_POLL).is_ok()
    };
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "swtpm exited ({status}), probably a port collision"
            ));
        }
        if accepts(port) && accepts(port + 1) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "not accepting connections after {READY_DEADLINE:?}"
            ));
        }
        std::thread::sleep(READY_POLL);
    }
}
