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

/// A flag's value as a configuration setting.
pub trait ToSetting {
    fn to_setting(self) -> Value;
}

impl ToSetting for &str {
    fn to_setting(self) -> Value {
        Value::String(self.to_string())
    }
}

impl ToSetting for &String {
    fn to_setting(self) -> Value {
        Value::String(self.clone())
    }
}

impl ToSetting for &PathBuf {
    fn to_setting(self) -> Value {
        Value::String(self.display().to_string())
    }
}

impl ToSetting for bool {
    fn to_setting(self) -> Value {
        Value::Boolean(self)
    }
}

impl ToSetting for u64 {
    /// Saturates at `i64::MAX` (TOML integers are signed).
    fn to_setting(self) -> Value {
        Value::Integer(i64::try_from(self).unwrap_or(i64::MAX))
    }
}

impl ToSetting for u32 {
    fn to_setting(self) -> Value {
        Value::Integer(i64::from(self))
    }
}

impl<T: Copy + ToSetting> ToSetting for &[T] {
    fn to_setting(self) -> Value {
        Value::Array(self.iter().map(|item| item.to_setting()).collect())
    }
}

impl ToSetting for &[PathBuf] {
    fn to_setting(self) -> Value {
        Value::Array(self.iter().map(ToSetting::to_setting).collect())
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

    /// Sets the dotted `key` from `flag` when the flag was given (`value` is `Some`).
    pub fn given(&mut self, flag: &str, key: &str, value: Option<impl ToSetting>) {
        if let Some(value) = value {
            self.set(flag, key, value.to_setting());
        }
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

    /// The sources of a daemon run with `file` holding `text`, and `env`.
    fn from_file(dir: &tempfile::TempDir, text: &str, env: &[(&str, &str)]) -> ConfigSources {
        let file = dir.path().join("daemon.toml");
        std::fs::write(&file, text).unwrap();
        ConfigSources {
            file: Some(file),
            env: crate::layers::tests::env(env),
            ..ConfigSources::default()
        }
    }

    #[test]
    fn unknown_setting_is_rejected_with_its_name_and_origin() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            load_layered::<Sample>(&from_file(&dir, "colour = 5\n", &[]), &options()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{text}");
        assert!(
            text.contains("colour") && text.contains("config file") && text.contains("daemon.toml"),
            "{text}"
        );
    }

    #[test]
    fn wrongly_typed_env_value_names_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let sources = from_file(&dir, "name = \"a\"\n", &[("T_PORT", "many")]);
        let err = load_layered::<Sample>(&sources, &options()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("port") && text.contains("environment variable T_PORT"),
            "{text}"
        );
    }

    #[test]
    fn malformed_toml_is_a_syntax_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_layered::<Sample>(&from_file(&dir, "name = \"open\n", &[]), &options())
            .unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("daemon.toml"), "{err}");
    }
}
