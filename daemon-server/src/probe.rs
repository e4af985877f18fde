//! `tokenserver probe`: asks a running server's `/readyz` (or `/healthz` with `--live`) on the
//! `metrics_listen` of the same configuration sources the server reads, and exits 0 ready, 1 not
//! ready, 69 nothing answers, 78 no `metrics_listen` configured.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokendist_daemon_kit::config::ConfigSources;
use tokendist_daemon_kit::probe::{ConfigPlace, ProbeArgs};

use crate::config::{CONFIG_ENV, ENV_PREFIX};

/// Runs the probe; `config` is the top-level `--config`, used when the subcommand names none.
pub fn run(args: &ProbeArgs, config: Option<PathBuf>, env: BTreeMap<String, String>) -> i32 {
    let sources = ConfigSources {
        file: config,
        env,
        ..ConfigSources::default()
    };
    let place = ConfigPlace {
        env_prefix: ENV_PREFIX,
        config_env: CONFIG_ENV,
        default_path: None,
    };
    tokendist_daemon_kit::probe::run("tokenserver probe", args, sources, place)
}
