//! Configuration layering shared by the daemons: a TOML file, overridden by the daemon's own
//! environment variables (`TOKENSERVER_*`, `TOKENCLIENT_*`), overridden by command-line flags. Pure: every layer is passed in as data, so tests need
//! no process environment.
//!
//! Environment names map to keys by lower-casing and splitting on `__` for nesting:
//! `PREFIX_LISTEN` → `listen`, `PREFIX_TLS__CERT` → `tls.cert`. Values are read as TOML scalars
//! or arrays when they parse as one (`true`, `60`, `["a","b"]`), otherwise as strings; quote a string
//! that looks like a number (`PREFIX_X='"123"'`). A variable of the prefix that names no setting is an
//! error ([`crate::env_keys`]); other prefixes are ignored.

use std::collections::BTreeMap;

use toml::{Table, Value};

/// Keys whose value came from somewhere other than the file, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File,
    Env(String),
    Flag(String),
}

/// Overlays `overlay` onto `base`, recursing into tables; other values are replaced.
pub fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Inserts `value` at a dotted path (`tls.cert`), creating tables on the way.
pub fn insert_path(table: &mut Table, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = table;
    for part in parents {
        let entry = current
            .entry((*part).to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else { return };
        current = next;
    }
    current.insert((*last).to_string(), value);
}

/// Reads a scalar or array written as it would be in TOML; anything else is a string.
pub fn parse_scalar(text: &str) -> Value {
    let doc = format!("v = {text}");
    match doc.parse::<Table>() {
        Ok(mut table) => match table.remove("v") {
            Some(
                value @ (Value::Boolean(_) | Value::Integer(_) | Value::Float(_) | Value::Array(_)),
            ) => value,
            Some(Value::String(s)) => Value::String(s),
            _ => Value::String(text.to_string()),
        },
        Err(_) => Value::String(text.to_string()),
    }
}

/// The environment layer: every `PREFIX*` variable, mapped to a key path.
pub fn env_layer(env: &BTreeMap<String, String>, prefix: &str) -> Table {
    let mut table = Table::new();
    for (name, value) in env {
        let Some(key) = crate::env_keys::path_of(name, prefix, &[]) else {
            continue;
        };
        if key == "config" {
            continue;
        }
        let path: Vec<&str> = key.split('.').collect();
        insert_path(&mut table, &path, parse_scalar(value));
    }
    table
}

/// Finds where a config key path (as serde reports it, e.g. `tls.cert`) was set, for error messages.
pub fn origin_of(
    path: &str,
    env: &BTreeMap<String, String>,
    prefix: &str,
    flags: &[(String, String)],
) -> Origin {
    if let Some((flag, _)) = flags.iter().find(|(_, key)| key == path) {
        return Origin::Flag(flag.clone());
    }
    let env_name = crate::env_keys::variable_for(prefix, path);
    if env.contains_key(&env_name) {
        return Origin::Env(env_name);
    }
    Origin::File
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An environment of `pairs`, for tests.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_overrides_file_and_nests_on_double_underscore() {
        let mut base: Table = "listen = \"0.0.0.0:1\"\n[tls]\ncert = \"a\"\nkey = \"k\""
            .parse()
            .unwrap();
        merge(
            &mut base,
            env_layer(
                &env(&[
                    ("TOKENDIST_TLS__CERT", "b"),
                    ("TOKENDIST_LISTEN", "127.0.0.1:2"),
                    ("OTHER", "x"),
                ]),
                "TOKENDIST_",
            ),
        );
        assert_eq!(base["listen"].as_str(), Some("127.0.0.1:2"));
        assert_eq!(base["tls"]["cert"].as_str(), Some("b"));
        assert_eq!(
            base["tls"]["key"].as_str(),
            Some("k"),
            "siblings survive a nested override"
        );
        assert!(!base.contains_key("other"));
    }

    #[test]
    fn scalars_are_typed_and_everything_else_is_a_string() {
        assert_eq!(parse_scalar("true"), Value::Boolean(true));
        assert_eq!(parse_scalar("60"), Value::Integer(60));
        assert_eq!(
            parse_scalar("[\"a\", \"b\"]").as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(
            parse_scalar("0.0.0.0:50051"),
            Value::String("0.0.0.0:50051".into())
        );
        assert_eq!(parse_scalar("\"123\""), Value::String("123".into()));
        assert_eq!(
            parse_scalar("sqlite:///x.db"),
            Value::String("sqlite:///x.db".into())
        );
    }

    #[test]
    fn origin_names_the_flag_or_variable_that_set_a_key() {
        let e = env(&[("TOKENDIST_TLS__CERT", "b")]);
        let flags = vec![("--listen".to_string(), "listen".to_string())];
        assert_eq!(
            origin_of("listen", &e, "TOKENDIST_", &flags),
            Origin::Flag("--listen".into())
        );
        assert_eq!(
            origin_of("tls.cert", &e, "TOKENDIST_", &flags),
            Origin::Env("TOKENDIST_TLS__CERT".into())
        );
        assert_eq!(
            origin_of("audience", &e, "TOKENDIST_", &flags),
            Origin::File
        );
    }
}
