//! `tokenclient` entry point: parse flags, load the configuration (exit 78 when it is bad), run.

use std::process::ExitCode;

use clap::Parser;
use tokendist_client::cli::Cli;
use tokendist_client::config::ClientConfig;
use tokendist_daemon_kit::exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    tokendist_daemon_kit::logging::init(&env);
    let sources = cli.sources(env.clone());
    let config = match ClientConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("tokenclient: bad configuration: {error}");
            return code(exit::BAD_CONFIG);
        }
    };
    if cli.check_config {
        println!(
            "configuration OK: server {} (name {}), audience {}, TPM {}, secrets in {}",
            config.address,
            config.effective_server_name(),
            config.audience,
            if config.tpm.enabled {
                config.tpm.tcti.as_str()
            } else {
                "off"
            },
            config.delivery.dir.display()
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tokenclient: cannot start the async runtime: {error}");
            return code(exit::FAILURE);
        }
    };
    match runtime.block_on(tokendist_client::daemon::run(config, env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tokenclient: {error}");
            code(error.exit_code())
        }
    }
}

fn code(value: i32) -> ExitCode {
    ExitCode::from(u8::try_from(value).unwrap_or(1))
}
