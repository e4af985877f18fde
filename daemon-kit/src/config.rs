//! Loading a daemon's typed configuration: the TOML file, an optional pre-environment layer, the
//! `PREFIX*` environment variables and the flags given (see [`crate::layers`]), deserialized with the
//! path of a bad key, and errors that name the setting and where it came from (flag, environment
//! variable or file). Each daemon validates its own settings afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

use crate::env_keys::{self, KnownKeys, UnknownVariable};
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
    #[error("{}", join(.0, "; "))]
    UnknownVariables(Vec<UnknownVariable>),
}

fn join<T: std::fmt::Display>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// One setting that cannot be used, with where it came from: the single place that words a
/// configuration failure found after loading (a file that is missing, a key that does not decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The setting's key path, with an index for a list item: `keys.trusted_approvers[0]`.
    pub setting: String,
    /// Where its value came from: `config file /etc/…`, `environment variable …`, `flag --…`, `default`.
    pub origin: String,
    pub message: String,
}

impl std::fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (from {}): {}",
            self.setting, self.origin, self.message
        )
    }
}

/// Every problem found in a configuration (a check reports all of them, not just the first).
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", join(.0, "\n"))]
pub struct Problems(pub Vec<SettingProblem>);

impl Problems {
    /// Adds the problem `message` with `setting`, naming its origin.
    pub fn add(&mut self, setting: &str, origins: &Origins, message: impl std::fmt::Display) {
        self.0.push(SettingProblem {
            setting: setting.to_string(),
            origin: origins.of(setting),
            message: message.to_string(),
        });
    }

    /// Records the error of `result` (if any) against `setting`, and passes its value on.
    pub fn note<T, E: std::fmt::Display>(
        &mut self,
        setting: &str,
        origins: &Origins,
        result: Result<T, E>,
    ) -> Option<T> {
        result
            .map_err(|error| self.add(setting, origins, error))
            .ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was found, else every problem.
    pub fn or_value<T>(self, value: Option<T>) -> Result<T, Problems> {
        match value {
            Some(value) if self.is_empty() => Ok(value),
            _ => Err(self),
        }
    }
}

/// How far `--check-config` goes: `basic` (the default) loads and checks every file and setting the
/// start would; `full` also reaches what the daemon talks to (the store, Google, the token server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckDepth {
    #[default]
    Basic,
    Full,
}

/// The `--check-config[=basic|full]` flag, shared by both daemons' command lines (flattened).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckConfigFlag {
    /// Load and check everything the start would (every file the settings name, keys against their
    /// certificates, directories writable) and exit: 0 and a summary, or 78 and every problem, one
    /// per line. `=full` also reaches what the daemon talks to (tokenserver: the store and Google;
    /// tokenclient: the TPM and the token server).
    #[arg(
        long = "check-config",
        value_name = "DEPTH",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "basic"
    )]
    pub depth: Option<CheckDepth>,
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
    /// Variables of the prefix that are not settings and not errors (e.g. one the daemon sets for
    /// its children).
    pub ignored_env: &'a [&'a str],
}

/// The config file the sources name: `--config`, else the config variable, else the default path
/// when it exists.
fn resolve_file(sources: &ConfigSources, options: &LoadOptions<'_>) -> Option<PathBuf> {
    sources
        .file
        .clone()
        .or_else(|| sources.env.get(options.config_env).map(PathBuf::from))
        .or_else(|| {
            options
                .default_path
                .filter(|path| sources.use_default_path && path.is_file())
                .map(Path::to_path_buf)
        })
}

/// Layers file < `before_env` < environment < flags and deserializes the result. A variable of the
/// daemon's prefix that names no setting of `T` (see [`env_keys`]) is an error naming it.
pub fn load_layered<T: DeserializeOwned + Serialize + Default>(
    sources: &ConfigSources,
    options: &LoadOptions<'_>,
) -> Result<T, ConfigError> {
    let known = serde_json::to_value(T::default())
        .map(|defaults| KnownKeys::from_defaults(&defaults))
        .unwrap_or_default();
    let unknown = env_keys::unknown_variables(
        &sources.env,
        options.env_prefix,
        &[&[options.config_env], options.ignored_env].concat(),
        &known,
    );
    if !unknown.is_empty() {
        return Err(ConfigError::UnknownVariables(unknown));
    }
    load_layered_part(sources, options)
}

/// Layers like [`load_layered`] into `T`, a part of a daemon's settings (a probe reads only
/// `metrics_listen`): the other settings, and variables naming them, are not `T`'s to judge.
pub fn load_layered_part<T: DeserializeOwned>(
    sources: &ConfigSources,
    options: &LoadOptions<'_>,
) -> Result<T, ConfigError> {
    let file = resolve_file(sources, options);
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
            let origin = Origins::new(sources, options).of(&key);
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

/// Where each setting of a loaded configuration came from, for messages about it.
#[derive(Debug, Clone)]
pub struct Origins {
    env: BTreeMap<String, String>,
    env_prefix: String,
    flag_keys: Vec<(String, String)>,
    file: Option<PathBuf>,
    /// The file's own table, to tell a setting it holds from a default.
    file_table: Option<Table>,
}

impl Origins {
    pub fn new(sources: &ConfigSources, options: &LoadOptions<'_>) -> Origins {
        let file = resolve_file(sources, options);
        let file_table = file.as_deref().and_then(|path| read_table(path).ok());
        Origins {
            env: sources.env.clone(),
            env_prefix: options.env_prefix.to_string(),
            flag_keys: sources.flag_keys.clone(),
            file,
            file_table,
        }
    }

    /// Where `setting` (`tls.cert`, `keys.trusted_approvers[0]`) came from: `flag --x`,
    /// `environment variable X`, `config file F`, or `default`.
    pub fn of(&self, setting: &str) -> String {
        let key = setting.split('[').next().unwrap_or(setting);
        match layers::origin_of(key, &self.env, &self.env_prefix, &self.flag_keys) {
            layers::Origin::Flag(flag) => format!("flag {flag}"),
            layers::Origin::Env(name) => format!("environment variable {name}"),
            layers::Origin::File => match (&self.file, &self.file_table) {
                (Some(_), Some(table)) if !table_has(table, key) => "default".to_string(),
                (Some(path), _) => format!("config file {}", path.display()),
                (None, _) => "default".to_string(),
            },
        }
    }
}

/// Whether the dotted `key` is set in `table`.
fn table_has(table: &Table, key: &str) -> bool {
    let mut current = table;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        match (current.get(part), parts.peek()) {
            (Some(_), None) => return true,
            (Some(Value::Table(next)), Some(_)) => current = next,
            _ => return false,
        }
    }
    false
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

    #[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
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
    fn a_variable_of_the_prefix_naming_no_setting_is_an_error_and_other_prefixes_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("T_NAME_TEXT", "x"),
            ("OTHER_PORT", "many"),
            ("T_CONFIG_X", "y"),
        ];
        let sources = from_file(&dir, "name = \"a\"\n", &env);
        let err = load_layered::<Sample>(&sources, &options()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable T_CONFIG_X names no setting; environment variable T_NAME_TEXT names \
             no setting (did you mean T_NAME, setting `name`?)"
        );
        let sources = from_file(&dir, "name = \"a\"\n", &[("OTHER_PORT", "many")]);
        assert_eq!(
            load_layered::<Sample>(&sources, &options()).unwrap().name,
            "a"
        );
    }

    #[test]
    fn origins_tell_the_file_from_a_default_and_strip_list_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let sources = from_file(&dir, "name = \"a\"\n", &[("T_PORT", "1")]);
        let origins = Origins::new(&sources, &options());
        let file = dir.path().join("daemon.toml");
        assert_eq!(
            origins.of("name[0]"),
            format!("config file {}", file.display())
        );
        assert_eq!(origins.of("port"), "environment variable T_PORT");
        assert_eq!(origins.of("colour"), "default");
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
