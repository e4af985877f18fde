//! Loading a daemon's typed configuration: the TOML file, an optional pre-environment layer, the
//! `PREFIX*` environment variables and the flags given (see [`crate::layers`]), deserialized with the
//! path of a bad key, and errors that name the setting and where it came from (flag, environment
//! variable or file). Each daemon validates its own settings afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use crate::layers;

/// A configuration that cannot be used. The message names the setting, where it came from, and what
/// to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid setting {key} (from {origin}): {message}")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
    #[error("{0}")]
    Missing(String),
}

/// The raw inputs of a configuration: where the file is, the environment, and the flags given.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    /// Flag overrides as a TOML table (only flags the user gave).
    pub flags: Table,
    /// Which flag set which key path, for error messages: (`--flag`, `key.path`).
    pub flag_keys: Vec<(String, String)>,
    /// Look for the daemon's default config path when no file is named (off in tests).
    pub use_default_path: bool,
}

/// What differs between the daemons' loaders.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions<'a> {
    /// Prefix of the environment layer, e.g. `TOKENDIST_`.
    pub env_prefix: &'a str,
    /// Environment variable naming the config file when no flag does, e.g. `TOKENDIST_CONFIG`.
    pub config_env: &'a str,
    /// File read when none is named and [`ConfigSources::use_default_path`] is set and it exists.
    pub default_path: Option<&'a Path>,
    /// Settings applied between the file and the environment layer (e.g. `GCE_METADATA_HOST`).
    pub before_env: Table,
}

/// Layers file < `before_env` < environment < flags and deserializes the result.
pub fn load_layered<T: DeserializeOwned>(
    sources: &ConfigSources,
    options: &LoadOptions<'_>,
) -> Result<T, ConfigError> {
    let file = sources
        .file
        .clone()
        .or_else(|| sources.env.get(options.config_env).map(PathBuf::from))
        .or_else(|| {
            options
                .default_path
                .filter(|path| sources.use_default_path && path.is_file())
                .map(Path::to_path_buf)
        });
    let mut table = match &file {
        Some(path) => read_table(path)?,
        None => Table::new(),
    };
    layers::merge(&mut table, options.before_env.clone());
    layers::merge(
        &mut table,
        layers::env_layer(&sources.env, options.env_prefix),
    );
    layers::merge(&mut table, sources.flags.clone());
    serde_path_to_error::deserialize(Value::Table(table)).map_err(
        |e: serde_path_to_error::Error<toml::de::Error>| {
            let path = e.path().to_string();
            let message = e.inner().message().to_string();
            let key = if path == "." {
                key_from_message(&message)
            } else {
                path
            };
            let origin = describe_origin(&key, sources, options.env_prefix, file.as_deref());
            ConfigError::Invalid {
                key,
                origin,
                message,
            }
        },
    )
}

fn read_table(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<Table>().map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// serde's messages name the field (`unknown field `foo``, `missing field `x``); pull it out.
fn key_from_message(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .unwrap_or("configuration")
        .to_string()
}

fn describe_origin(
    key: &str,
    sources: &ConfigSources,
    env_prefix: &str,
    file: Option<&Path>,
) -> String {
    match layers::origin_of(key, &sources.env, env_prefix, &sources.flag_keys) {
        layers::Origin::Flag(flag) => format!("flag {flag}"),
        layers::Origin::Env(name) => format!("environment variable {name}"),
        layers::Origin::File => match file {
            Some(path) => format!("config file {}", path.display()),
            None => "defaults".to_string(),
        },
    }
}

/// The flags a user gave, collected as configuration overrides (each remembers its flag for errors).
#[derive(Debug, Clone, Default)]
pub struct FlagOverrides {
    flags: Table,
    flag_keys: Vec<(String, String)>,
}

impl FlagOverrides {
    /// Sets the dotted `key` (`tls.cert`) from `flag`.
    pub fn set(&mut self, flag: &str, key: &str, value: Value) {
        let path: Vec<&str> = key.split('.').collect();
        layers::insert_path(&mut self.flags, &path, value);
        self.flag_keys.push((flag.to_string(), key.to_string()));
    }

    /// Sets a string setting.
    pub fn text(&mut self, flag: &str, key: &str, value: &str) {
        self.set(flag, key, Value::String(value.to_string()));
    }

    /// Sets a path setting.
    pub fn path(&mut self, flag: &str, key: &str, value: &Path) {
        self.set(flag, key, Value::String(value.display().to_string()));
    }

    /// The configuration sources: this file (if named), the environment, these flags.
    pub fn into_sources(
        self,
        file: Option<PathBuf>,
        env: BTreeMap<String, String>,
        use_default_path: bool,
    ) -> ConfigSources {
        ConfigSources {
            file,
            env,
            flags: self.flags,
            flag_keys: self.flag_keys,
            use_default_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default)]
        name: String,
        #[serde(default)]
        port: u16,
    }

    fn options() -> LoadOptions<'static> {
        LoadOptions {
            env_prefix: "T_",
            config_env: "T_CONFIG",
            ..LoadOptions::default()
        }
    }

    #[test]
    fn flags_override_env_and_errors_name_the_flag() {
        let mut flags = FlagOverrides::default();
        flags.text("--name", "name", "from-flag");
        let env = [
            ("T_NAME".to_string(), "from-env".to_string()),
            ("T_PORT".to_string(), "8".to_string()),
        ]
        .into();
        let sample: Sample =
            load_layered(&flags.into_sources(None, env, false), &options()).unwrap();
        assert_eq!((sample.name.as_str(), sample.port), ("from-flag", 8));

        let mut flags = FlagOverrides::default();
        flags.text("--port", "port", "eighty");
        let err = load_layered::<Sample>(
            &flags.into_sources(None, BTreeMap::new(), false),
            &options(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("port") && err.to_string().contains("flag --port"),
            "{err}"
        );
    }
}
