//! `tokenserver` entry point: parse flags, load the configuration (exit 78 when it is bad), serve.

use std::process::ExitCode;

use clap::Parser;
use tokendist_daemon_kit::config::Problems;
use tokendist_daemon_kit::exit;
use tokendist_server::cli::Cli;
use tokendist_server::config::ServerConfig;
use tokendist_server::serve::RunError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    tokendist_daemon_kit::logging::init(&env);
    let sources = cli.sources(env.clone());
    let config = match ServerConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => return bad_configuration(&error),
    };
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
            Err(problems) => bad_files(&problems),
        };
    }
    match runtime.block_on(tokendist_server::serve::run(config, sources, env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Material(problems)) => bad_files(&problems),
        Err(error) if error.is_config() => bad_configuration(&error),
        Err(error) => {
            eprintln!("tokenserver: {error}");
            code(exit::FAILURE)
        }
    }
}

/// Says why the configuration cannot be used; exit 78.
fn bad_configuration(error: &dyn std::fmt::Display) -> ExitCode {
    code(exit::report_bad_configuration("tokenserver", [error]))
}

/// Prints every problem found, one per line; exit 78.
fn bad_files(problems: &Problems) -> ExitCode {
    code(exit::report_bad_configuration("tokenserver", &problems.0))
}

fn code(value: i32) -> ExitCode {
    ExitCode::from(u8::try_from(value).unwrap_or(1))
}
