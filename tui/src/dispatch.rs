//! Runs one parsed command line: picks the subcommand and turns its result into output.

use crate::cli::{Cli, Command};
use crate::error::ConsoleError;
use crate::output::{emit, emit_json};
use crate::{approve, certs, keygen, list, revoke, seal, show};

/// Runs `cli.command` (the caller prints help when there is none).
pub async fn run(cli: &Cli, command: &Command) -> Result<(), ConsoleError> {
    let global = &cli.global;
    match command {
        Command::Keygen(args) => {
            let reports = if args.server {
                keygen::server_keys(&args.out, args.force)?
            } else {
                vec![keygen::approval_keys(&args.out, args.force)?]
            };
            if args.output.json {
                emit_json(&reports)
            } else {
                emit(&keygen::render(&reports))
            }
        }
        Command::Certs(args) => {
            let report = certs::create(&args.out, &args.server_name, &args.ips, args.force)?;
            if args.output.json {
                emit_json(&report)
            } else {
                emit(&certs::render(&report))
            }
        }
        Command::List(args) => list::run(global, args).await,
        Command::Show(args) => show::run(global, args).await,
        Command::Approve(args) => approve::run(global, args).await,
        Command::Revoke(args) => revoke::run(global, args).await,
        Command::Seal(args) => seal::run(global, args).await,
    }
}
