//! `gcpsim`: runs the local Google Cloud for a scenario until SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use tokendist_sim::{LatencySpec, RunningSim, Scenario, SimOptions};

/// Exit code for a bad scenario (sysexits EX_CONFIG).
const EXIT_CONFIG: u8 = 78;

const AFTER_HELP: &str = r#"LISTENERS
  API listener (--listen): Compute  /compute/v1/...   (instances get, getShieldedInstanceIdentity,
                                    setMetadata, stop, start; disks; images; projects get,
                                    setCommonInstanceMetadata; zonal/global operations [+ /wait])
                           Logging  POST /v2/entries:list; projects.sinks create/get/list/delete
                                    (/v2/projects/P/sinks[/NAME]; Pub/Sub destinations only: every
                                    new entry matching a sink's filter is published to its topic on
                                    the Pub/Sub emulator given by --pubsub-emulator)
                           JWKS     GET  /oauth2/v3/certs
                           Admin    /admin/v1/... (below)
  One metadata server per VM, on port 0 of the same IP: /computeMetadata/v1/... (Metadata-Flavor: Google).

READY FILE / STDOUT
  Once every listener is bound, gcpsim prints one JSON line and (with --ready-file) writes it atomically:
    {"api":"127.0.0.1:P","metadata":{"<vm name>":"127.0.0.1:Q",...}}

ADMIN API (POST, JSON bodies; errors use Google's {"error":{code,message,status}} envelope)
  /admin/v1/keys:rotate      {"drop_previous": false}   new signing key; the previous one stays in the
                                                         JWKS until the next rotation unless dropped
  /admin/v1/faults           {"api":"compute|logging|jwks|metadata","status":503,"count":2,
                              "rate":0.5,"latency_ms":200}   (status and/or latency; count or rate optional)
  /admin/v1/faults:clear     {"api":"compute"} or {} for all
  /admin/v1/latency          {"method":"compute.instances.get"|"compute"|"*","latency_ms":50}  (0 removes)
  GET /admin/v1/stats        {"requests":{"compute.instances.get":N,...},"latency_ms":{...}}
                             requests per Google method since start (admin requests not counted)
  /admin/v1/auditEntries     {"vm":"NAME" | "project":"ID","method":"v1.compute.instances.setMetadata",
                              "time":"RFC3339","principal":"a@b","log":"activity|data_access","request":{...}}
  /admin/v1/identityTokens   {"vm":"NAME","audience":"A","format":"full|standard","licenses":true,
                              "iat":UNIX,"exp":UNIX}  -> {"token":"..."} signed by the current key
  /admin/v1/instances/NAME/ek {"ekPub":"-----BEGIN PUBLIC KEY-----...","ekCert":"-----BEGIN CERTIFICATE-----..."}
                              replace the EK (and its certificate; none without ekCert) served by
                              getShieldedInstanceIdentity; "pem" is accepted for ekPub
  /admin/v1/principal        {"email":"mallory@example.com"}  principal of later audit entries

USING GCLOUD AGAINST GCPSIM
  CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_CORE_PROJECT=bob-project \
  CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE=http://API/compute/v1/ CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING=http://API/ \
  gcloud compute instances describe tokenclient-good --zone us-central1-a

EXIT CODES
  0 on SIGTERM/SIGINT, 78 for an invalid scenario (the message names file, field and problem), 1 otherwise.
  Scenario format: see sim/README.md and sim/scenarios/demo.toml."#;

/// A local Google Cloud (metadata servers, JWKS, Compute, Cloud Logging) for tokendist tests and demos.
#[derive(Debug, Parser)]
#[command(name = "gcpsim", version, after_help = AFTER_HELP)]
struct Cli {
    /// Scenario file (TOML) declaring projects and VMs; relative paths inside it are resolved
    /// against its directory.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Address of the API listener; port 0 picks a free port. Metadata servers use port 0 of its IP.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Write the listener addresses here as JSON (atomically: temp file + rename) once ready.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
    /// The Pub/Sub emulator (HOST:PORT) that Logging sinks publish to.
    #[arg(long, value_name = "HOST:PORT", env = "PUBSUB_EMULATOR_HOST")]
    pubsub_emulator: Option<String>,
    /// Latency added before answering a Google method: `METHOD=DURATION` (a method id such as
    /// `compute.instances.get`, an API such as `compute` or `logging`, or `*`), or a bare
    /// `DURATION` for every method (`50ms`, `1s`). Repeatable; the most specific key wins.
    #[arg(long, value_name = "METHOD=DURATION", value_parser = LatencySpec::parse)]
    latency: Vec<LatencySpec>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let scenario = match Scenario::from_file(&cli.scenario) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("gcpsim: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gcpsim: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, scenario)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gcpsim: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, scenario: Scenario) -> anyhow::Result<()> {
    let options = SimOptions {
        pubsub_emulator: cli.pubsub_emulator.clone(),
    };
    let sim = RunningSim::start_with(scenario, cli.listen, options)
        .await
        .context("cannot start the simulator")?;
    for spec in &cli.latency {
        sim.handle().set_latency(spec);
    }
    let ready = serde_json::json!({
        "api": sim.api.to_string(),
        "metadata": sim.metadata.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.to_string()))).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(path) = &cli.ready_file {
        write_atomically(path, &format!("{ready}\n"))
            .with_context(|| format!("cannot write the ready file {}", path.display()))?;
    }
    println!("{ready}");
    wait_for_signal().await?;
    tracing::info!("stopping");
    sim.shutdown().await;
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
