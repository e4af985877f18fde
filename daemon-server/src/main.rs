//! `tokenserver` entry point: parse flags, load the configuration (exit 78 when it is bad), run.

use std::process::ExitCode;

use clap::Parser;
use tokendist_daemon_kit::exit;
use tokendist_server::cli::Cli;
use tokendist_server::config::ServerConfig;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    tokendist_daemon_kit::logging::init(&env);
    let config = match ServerConfig::load(&cli.sources(env)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("tokenserver: bad configuration: {error}");
            return ExitCode::from(exit::BAD_CONFIG as u8);
        }
    };
    if cli.check_config {
        println!(
            "configuration OK: listening on {}, store {}",
            config.listen, config.store
        );
        return ExitCode::SUCCESS;
    }
    eprintln!("tokenserver: serving is not implemented yet");
    ExitCode::from(exit::FAILURE as u8)
}
