//! `tokendist`: Alice's console. Parses the command line, runs the subcommand, and exits with the
//! documented code (see `tokendist --help` and docs/operations.md). Logs go to stderr (`RUST_LOG`).

use std::io::Write as _;
use std::process::ExitCode;
use tokendist_core::terminal_text::printable;

use clap::{CommandFactory as _, Parser as _};
use tokendist_tui::cli::Cli;
use tokendist_tui::{ConsoleError, dispatch, exit};
use tracing_subscriber::EnvFilter;

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return exit_code(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(command) = &cli.command else {
        let _ = Cli::command().print_long_help();
        return exit_code(exit::OK);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "tokendist: cannot start the async runtime: {e}"
            );
            return exit_code(exit::ERROR);
        }
    };
    match runtime.block_on(dispatch::run(&cli, command)) {
        Ok(()) => exit_code(exit::OK),
        // The reader went away (`| head -1`): nobody is left to tell.
        Err(ConsoleError::OutputClosed) => exit_code(exit::OUTPUT_CLOSED),
        Err(e) => {
            // Errors may quote Google's or the store's text: escape its control characters. A
            // closed stderr is ignored: reporting must never panic.
            let _ = writeln!(
                std::io::stderr(),
                "tokendist: {}",
                printable(&e.to_string())
            );
            exit_code(e.exit_code())
        }
    }
}
