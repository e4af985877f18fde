//! `tokenserver` entry point: parse flags, load the configuration (exit 78 when it is bad), start
//! logging as configured, serve; or `tokenserver probe`.

use std::process::ExitCode;

use clap::Parser;
use tokendist_daemon_kit::exit;
use tokendist_daemon_kit::logging::error_line;
use tokendist_server::cli::{Cli, Command};
use tokendist_server::config::ServerConfig;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    if let Some(Command::Probe(args)) = &cli.command {
        return code(tokendist_server::probe::run(args, cli.config.clone(), env));
    }
    let sources = cli.sources(env.clone());
    // Logging starts once the configuration names its format; until then errors go to stderr as is.
    let config = match ServerConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => {
            error_line(&env, &format!("tokenserver: bad configuration: {error}"));
            return code(exit::BAD_CONFIG);
        }
    };
    tokendist_daemon_kit::logging::init(&env, config.log_format);
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
            error_line(
                &env,
                &format!("tokenserver: cannot start the async runtime: {error}"),
            );
            return code(exit::FAILURE);
        }
    };
    match runtime.block_on(tokendist_server::serve::run(config, sources, env.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is_config() => {
            error_line(&env, &format!("tokenserver: bad configuration: {error}"));
            code(exit::BAD_CONFIG)
        }
        Err(error) => {
            error_line(&env, &format!("tokenserver: {error}"));
            code(exit::FAILURE)
        }
    }
}

fn code(value: i32) -> ExitCode {
    ExitCode::from(u8::try_from(value).unwrap_or(1))
}
