//! `tokendist`: Alice's console. Parses the command line and runs the subcommand — or, without one
//! and on a terminal, the full-screen console — and exits with the documented code (see `tokendist
//! --help` and docs/operations.md). Subcommands log to stderr (`RUST_LOG`); the full-screen console
//! logs to a file, never to the terminal it draws on.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{CommandFactory as _, Parser as _};
use tokendist_core::terminal_text::printable;
use tokendist_tui::cli::{Cli, Command, ConsoleArgs};
use tokendist_tui::console::logging::{log_path, open_log};
use tokendist_tui::{ConsoleError, dispatch, exit};
use tracing_subscriber::EnvFilter;

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `RUST_LOG`, else `default`.
fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Logs of the full-screen console go to its log file; `Err` is the message to print.
fn log_to_file(args: &ConsoleArgs) -> Result<(), String> {
    let path = log_path(args.log_file.as_deref());
    let file =
        open_log(&path).map_err(|e| format!("cannot open the log file {}: {e}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter("info"))
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .init();
    Ok(())
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
    let opened_console = Command::Console(ConsoleArgs::default());
    let command = match &cli.command {
        Some(command) => command,
        None if std::io::stdout().is_terminal() => &opened_console,
        None => {
            let _ = Cli::command().print_long_help();
            return exit_code(exit::OK);
        }
    };
    if let Command::Console(args) = command {
        if let Err(message) = log_to_file(args) {
            let _ = writeln!(std::io::stderr(), "tokendist: {}", printable(&message));
            return exit_code(exit::CONFIG);
        }
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter("warn"))
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Store calls run on blocking threads, each with its own allocator arena: a few threads keep
        // the console's memory flat when it re-reads a large list every few seconds.
        .max_blocking_threads(2)
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
