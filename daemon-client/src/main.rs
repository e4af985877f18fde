//! `tokenclient` entry point: parse flags, load the configuration (exit 78 when it is bad), run.

use std::process::ExitCode;

use clap::Parser;
use tokendist_client::cli::Cli;
use tokendist_client::config::ClientConfig;
use tokendist_client::daemon::RunError;
use tokendist_daemon_kit::config::Problems;
use tokendist_daemon_kit::exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    tokendist_daemon_kit::logging::init(&env);
    if cli.print_ek {
        return print_ek(cli.tcti.as_deref());
    }
    let sources = cli.sources(env.clone());
    let config = match ClientConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => return bad_configuration(&error),
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    let runtime = match runtime(builder.worker_threads(2)) {
        Ok(runtime) => runtime,
        Err(exit_code) => return exit_code,
    };
    if let Some(depth) = cli.check_config.depth {
        let checked = runtime.block_on(tokendist_client::check_config::run(
            &config, &sources, depth,
        ));
        return match checked {
            Ok(summary) => {
                summary.iter().for_each(|line| println!("{line}"));
                ExitCode::SUCCESS
            }
            Err(problems) => bad_files(&problems),
        };
    }
    match runtime.block_on(tokendist_client::daemon::run(config, sources, env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Config(message)) => bad_configuration(&message),
        Err(RunError::Files(problems)) => bad_files(&problems),
        Err(error) => {
            eprintln!("tokenclient: {error}");
            code(error.exit_code())
        }
    }
}

/// `--print-ek`: reads the EK from the TPM and prints it as an SPKI PEM.
fn print_ek(tcti: Option<&str>) -> ExitCode {
    use tokendist_core::tpm::{TpmtPublic, ek_public_to_pem};
    use tokendist_tpm::{TpmConfig, TpmHandle};
    let config = tcti.map(TpmConfig::new).unwrap_or_default();
    let runtime = match runtime(&mut tokio::runtime::Builder::new_current_thread()) {
        Ok(runtime) => runtime,
        Err(exit_code) => return exit_code,
    };
    let result = runtime.block_on(async {
        let handle = TpmHandle::connect(config)
            .await
            .map_err(|e| (exit::UNAVAILABLE, e.to_string()))?;
        let ek = handle
            .ek_public()
            .await
            .map_err(|e| (exit::FAILURE, e.to_string()))?;
        let public =
            TpmtPublic::from_tpm2b(&ek.public).map_err(|e| (exit::FAILURE, e.to_string()))?;
        ek_public_to_pem(&public).map_err(|e| (exit::FAILURE, e.to_string()))
    });
    match result {
        Ok(pem) => {
            print!("{pem}");
            ExitCode::SUCCESS
        }
        Err((exit_code, message)) => {
            eprintln!("tokenclient: cannot read the endorsement key: {message}");
            code(exit_code)
        }
    }
}

/// Builds the async runtime, or says why not and gives the exit code.
fn runtime(builder: &mut tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, ExitCode> {
    builder.enable_all().build().map_err(|error| {
        eprintln!("tokenclient: cannot start the async runtime: {error}");
        code(exit::FAILURE)
    })
}

/// Says why the configuration cannot be used; exit 78.
fn bad_configuration(error: &dyn std::fmt::Display) -> ExitCode {
    code(exit::report_bad_configuration("tokenclient", [error]))
}

/// Prints every problem found, one per line; exit 78.
fn bad_files(problems: &Problems) -> ExitCode {
    code(exit::report_bad_configuration("tokenclient", &problems.0))
}

fn code(value: i32) -> ExitCode {
    ExitCode::from(u8::try_from(value).unwrap_or(1))
}
