//! `tokenserver` entry point: parse flags, load the configuration (exit 78 when it is bad), start
//! logging as configured, serve; or `tokenserver probe`.

use std::process::ExitCode;

use clap::Parser;
use tokendist_daemon_kit::config::Problems;
use tokendist_daemon_kit::exit;
use tokendist_daemon_kit::logging::error_line;
use tokendist_server::cli::{Cli, Command};
use tokendist_server::config::ServerConfig;
use tokendist_server::serve::RunError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    if let Some(Command::Probe(args)) = &cli.command {
        return exit::status(tokendist_server::probe::run(args, cli.config.clone(), env));
    }
    let sources = cli.sources(env.clone());
    // Logging starts once the configuration names its format; until then errors go to stderr as is.
    let config = match ServerConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => return bad_configuration(&env, &error),
    };
    tokendist_daemon_kit::logging::init(&env, config.log_format);
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
            return exit::status(exit::FAILURE);
        }
    };
    if let Some(depth) = cli.check_config.depth {
        let store_options = tokendist_server::serve::store_options(&env);
        let checked = runtime.block_on(tokendist_server::check_config::run(
            &config,
            &sources,
            &store_options,
            depth,
        ));
        return match checked {
            Ok(summary) => {
                summary.iter().for_each(|line| println!("{line}"));
                ExitCode::SUCCESS
            }
            Err(problems) => bad_files(&env, &problems),
        };
    }
    match runtime.block_on(tokendist_server::serve::run(config, sources, env.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Material(problems)) => bad_files(&env, &problems),
        Err(error) if error.is_config() => bad_configuration(&env, &error),
        Err(error) => {
            error_line(&env, &format!("tokenserver: {error}"));
            exit::status(exit::FAILURE)
        }
    }
}

/// Says why the configuration cannot be used; exit 78.
fn bad_configuration(env: &Env, error: &dyn std::fmt::Display) -> ExitCode {
    exit::status(exit::report_bad_configuration(env, "tokenserver", [error]))
}

/// Prints every problem found, one per line; exit 78.
fn bad_files(env: &Env, problems: &Problems) -> ExitCode {
    exit::status(exit::report_bad_configuration(
        env,
        "tokenserver",
        &problems.0,
    ))
}

type Env = std::collections::BTreeMap<String, String>;
