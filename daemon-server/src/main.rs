//! `tokenserver` entry point: parse flags, load the configuration (exit 78 when it is bad), serve.

use std::process::ExitCode;

use clap::Parser;
use tokendist_daemon_kit::exit;
use tokendist_server::cli::Cli;
use tokendist_server::config::ServerConfig;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    tokendist_daemon_kit::logging::init(&env);
    let sources = cli.sources(env.clone());
    let config = match ServerConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("tokenserver: bad configuration: {error}");
            return code(exit::BAD_CONFIG);
        }
    };
    if cli.check_config {
        println!(
            "configuration OK: listening on {}, store {}",
            config.listen, config.store
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tokenserver: cannot start the async runtime: {error}");
            return code(exit::FAILURE);
        }
    };
    match runtime.block_on(tokendist_server::serve::run(config, sources, env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is_config() => {
            eprintln!("tokenserver: bad configuration: {error}");
            code(exit::BAD_CONFIG)
        }
        Err(error) => {
            eprintln!("tokenserver: {error}");
            code(exit::FAILURE)
        }
    }
}

fn code(value: i32) -> ExitCode {
    ExitCode::from(u8::try_from(value).unwrap_or(1))
}
