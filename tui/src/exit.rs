//! The exit codes of `tokendist` subcommands (documented in `--help` and `docs/operations.md`).

/// The command did what it was asked.
pub const OK: i32 = 0;
/// A runtime error: a file, the store or a Google API failed, or an input file is malformed.
pub const ERROR: i32 = 1;
/// Bad command-line usage (unknown flag, missing argument, unsupported combination).
pub const USAGE: i32 = 2;
/// Refused: a check failed (without `--force --reason`), sealing to the vTPM is impossible (no EK, no
/// verified quote and no `--pcr`), or the action was not confirmed.
pub const REFUSED: i32 = 3;
/// The approval changed while this command ran (compare-and-swap lost): read it again and re-run.
pub const CONFLICT: i32 = 4;
/// Configuration error (`EX_CONFIG`): store URL, settings file or Google endpoints unusable.
pub const CONFIG: i32 = 78;
/// The reader of stdout went away (`tokendist show VM | head -1`): ended quietly, as a tool killed
/// by SIGPIPE reports to the shell (128 + 13).
pub const OUTPUT_CLOSED: i32 = 141;

/// The table printed at the end of `tokendist --help`.
pub const HELP_TABLE: &str = "\
Exit codes:
  0   ok
  1   error (I/O, store, Google API, malformed input file such as secrets.json)
  2   usage (bad flags or arguments)
  3   refused (checks failed without --force --reason; nothing to seal to: no EK, no
      verified quote and no --pcr; or not confirmed)
  4   conflict (the approval changed concurrently; re-run the command)
  78  configuration error (store URL, settings file, endpoints; a missing SQLite store
      file without --create)
  141 stdout was closed by its reader (e.g. `| head -1`); ends quietly";
