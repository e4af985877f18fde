//! `tokenclient` entry point: set the C libraries' environment (see [`c_library_environment`]), parse flags, load
//! the configuration (exit 78 when it is bad), start logging as configured, run; or
//! `tokenclient status`, or `--print-ek`.

use std::process::ExitCode;

use clap::Parser;
use std::path::Path;
use tokendist_client::cli::{Cli, Command};
use tokendist_client::config::{self, ClientConfig};
use tokendist_client::daemon::RunError;
use tokendist_daemon_kit::config::Problems;
use tokendist_daemon_kit::exit;
use tokendist_daemon_kit::logging::{LogFormat, error_line};
use tokendist_daemon_kit::probe::ConfigPlace;

/// What the C libraries read from the process environment at start, when the operator has not set
/// it: libtss2 stays off stderr (`TSS2_LOG`); glibc keeps one malloc arena (`MALLOC_ARENA_MAX`):
/// each thread that allocates (the TPM worker, blocking helpers) otherwise gets an arena of its own
/// whose pages stay resident while the daemon waits — about 1 MB of a ~15 MB footprint.
const C_LIBRARY_ENVIRONMENT: [(&str, &str); 2] =
    [("TSS2_LOG", "all+none"), ("MALLOC_ARENA_MAX", "1")];

fn main() -> ExitCode {
    c_library_environment();
    let cli = Cli::parse();
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    if let Some(Command::Status(args)) = &cli.command {
        let place = ConfigPlace {
            env_prefix: config::ENV_PREFIX,
            config_env: config::CONFIG_ENV,
            default_path: Some(Path::new(config::DEFAULT_CONFIG_PATH)),
        };
        let sources = cli.sources(env);
        let status = tokendist_daemon_kit::probe::run("tokenclient status", args, sources, place);
        return exit::status(status);
    }
    if cli.print_ek {
        tokendist_daemon_kit::logging::init(&env, LogFormat::Auto);
        return print_ek(cli.tcti.as_deref());
    }
    let sources = cli.sources(env.clone());
    // Logging starts once the configuration names its format; until then errors go to stderr as is.
    let config = match ClientConfig::load(&sources) {
        Ok(config) => config,
        Err(error) => return bad_configuration(&env, &error),
    };
    tokendist_daemon_kit::logging::init(&env, config.log_format);
    // One thread runs everything async: the daemon waits most of its life, its work is a few RPCs
    // a minute, and the TPM has its own thread. Fewer threads, less resident memory (issue 13).
    let runtime = match runtime(&mut tokio::runtime::Builder::new_current_thread()) {
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
            Err(problems) => bad_files(&env, &problems),
        };
    }
    match runtime.block_on(tokendist_client::daemon::run(config, sources, env.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Config(message)) => bad_configuration(&env, &message),
        Err(RunError::Files(problems)) => bad_files(&env, &problems),
        Err(error) => {
            error_line(&env, &format!("tokenclient: {error}"));
            exit::status(error.exit_code())
        }
    }
}

/// libtss2 (C) writes its own lines (`ERROR:esys:...` for every expected "NV index absent") to
/// stderr, controlled only by `TSS2_LOG`, and glibc sizes its malloc arenas from `MALLOC_ARENA_MAX`;
/// both read the process environment. Setting a variable in this process is `unsafe` (and forbidden
/// here), so when any of [`C_LIBRARY_ENVIRONMENT`] is absent the binary starts itself again with the
/// missing ones set (`exec`: same PID, same arguments, same file descriptors, so systemd's
/// notification and journald's stream are unaffected). An operator who sets one keeps control of it.
/// Returns only when no re-exec was needed or it failed.
fn c_library_environment() {
    use std::os::unix::process::CommandExt;
    let missing: Vec<(&str, &str)> = C_LIBRARY_ENVIRONMENT
        .into_iter()
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new("/proc/self/exe");
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).envs(missing.iter().copied()).exec();
    let names: Vec<&str> = missing.iter().map(|(name, _)| *name).collect();
    eprintln!(
        "tokenclient: could not restart with {} set ({error}); the TSS library may log to stderr",
        names.join(", ")
    );
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
            exit::status(exit_code)
        }
    }
}

/// Builds the async runtime, or says why not and gives the exit code.
fn runtime(builder: &mut tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, ExitCode> {
    builder.enable_all().build().map_err(|error| {
        eprintln!("tokenclient: cannot start the async runtime: {error}");
        exit::status(exit::FAILURE)
    })
}

/// Says why the configuration cannot be used; exit 78.
fn bad_configuration(env: &Env, error: &dyn std::fmt::Display) -> ExitCode {
    exit::status(exit::report_bad_configuration(env, "tokenclient", [error]))
}

/// Prints every problem found, one per line; exit 78.
fn bad_files(env: &Env, problems: &Problems) -> ExitCode {
    exit::status(exit::report_bad_configuration(
        env,
        "tokenclient",
        &problems.0,
    ))
}

type Env = std::collections::BTreeMap<String, String>;
