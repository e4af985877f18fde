//! Which environment variables of a daemon's own prefix name a setting, and the closest setting for
//! one that does not. Pure: the known settings are the key paths of the daemon's defaults (as JSON,
//! so that unset optional settings keep their key), the environment is passed in as data.
//!
//! A variable is known when its key path (see [`crate::layers`]) is a setting or a table of
//! settings, or lies inside a table whose default is empty (a map the operator fills).

use std::collections::{BTreeMap, BTreeSet};

/// A `PREFIX*` variable that names no setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The variable's name, e.g. `TOKENSERVER_STORE_URL`.
    pub name: String,
    /// The closest setting's key path (`store`) and its variable (`TOKENSERVER_STORE`), if any is close.
    pub suggestion: Option<(String, String)>,
}

impl std::fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "environment variable {} names no setting", self.name)?;
        if let Some((key, variable)) = &self.suggestion {
            write!(f, " (did you mean {variable}, setting `{key}`?)")?;
        }
        Ok(())
    }
}

/// The settings a configuration has: every key path of `defaults`, and which of them are empty tables.
#[derive(Debug, Clone, Default)]
pub struct KnownKeys {
    paths: BTreeSet<String>,
    open_tables: BTreeSet<String>,
}

impl KnownKeys {
    /// The key paths of `defaults` (a daemon's default configuration serialized to JSON).
    pub fn from_defaults(defaults: &serde_json::Value) -> KnownKeys {
        let mut known = KnownKeys::default();
        known.collect("", defaults);
        known
    }

    fn collect(&mut self, prefix: &str, value: &serde_json::Value) {
        let serde_json::Value::Object(map) = value else {
            return;
        };
        if map.is_empty() && !prefix.is_empty() {
            self.open_tables.insert(prefix.to_string());
        }
        for (key, child) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            self.paths.insert(path.clone());
            self.collect(&path, child);
        }
    }

    /// Whether the dotted `path` is a setting (or lies in a table the operator fills).
    pub fn contains(&self, path: &str) -> bool {
        self.paths.contains(path)
            || self
                .open_tables
                .iter()
                .any(|table| path.starts_with(&format!("{table}.")))
    }

    /// The setting closest to `path`: one that `path` extends or abbreviates by whole words
    /// (`store_url` → `store`), else the one within a small edit distance.
    fn closest(&self, path: &str) -> Option<&str> {
        let leaves = self.paths.iter().map(String::as_str);
        let by_prefix = leaves
            .clone()
            .filter(|known| word_prefix(known, path) || word_prefix(path, known))
            .max_by_key(|known| known.len());
        by_prefix.or_else(|| {
            leaves
                .map(|known| (edit_distance(path, known), known))
                .filter(|(distance, _)| *distance <= (path.len() / 3).max(2))
                .min_by_key(|(distance, _)| *distance)
                .map(|(_, known)| known)
        })
    }
}

/// The environment variable that sets the dotted key `path` (`tls.cert` → `PREFIX_TLS__CERT`).
pub fn variable_for(prefix: &str, path: &str) -> String {
    format!("{prefix}{}", path.replace('.', "__").to_ascii_uppercase())
}

/// The dotted key path a `PREFIX*` variable sets (`PREFIX_TLS__CERT` → `tls.cert`), or `None` for a
/// variable of another prefix or one of the names in `reserved` (e.g. `PREFIX_CONFIG`).
pub fn path_of(name: &str, prefix: &str, reserved: &[&str]) -> Option<String> {
    let rest = name.strip_prefix(prefix)?;
    if rest.is_empty() || reserved.contains(&name) {
        return None;
    }
    let key = rest.to_ascii_lowercase();
    let parts: Vec<&str> = key.split("__").filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join("."))
}

/// Every `prefix*` variable in `env` (except `reserved`) that names no setting in `known`.
pub fn unknown_variables(
    env: &BTreeMap<String, String>,
    prefix: &str,
    reserved: &[&str],
    known: &KnownKeys,
) -> Vec<UnknownVariable> {
    env.keys()
        .filter_map(|name| path_of(name, prefix, reserved).map(|path| (name, path)))
        .filter(|(_, path)| !known.contains(path))
        .map(|(name, path)| UnknownVariable {
            name: name.clone(),
            suggestion: known
                .closest(&path)
                .map(|key| (key.to_string(), variable_for(prefix, key))),
        })
        .collect()
}

/// Whether `short` is `long` cut at a `_` word boundary.
fn word_prefix(short: &str, long: &str) -> bool {
    long.strip_prefix(short)
        .is_some_and(|rest| rest.starts_with('_'))
}

/// Levenshtein distance over bytes (the key paths are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownKeys {
        KnownKeys::from_defaults(&serde_json::json!({
            "store": "sqlite:///x.db",
            "metrics_listen": null,
            "tls": { "cert": "", "key": "" },
            "policy": { "audit_methods": { "deny": {} } },
        }))
    }

    fn env(names: &[&str]) -> BTreeMap<String, String> {
        names
            .iter()
            .map(|n| (n.to_string(), "v".to_string()))
            .collect()
    }

    #[test]
    fn settings_tables_unset_options_and_open_maps_are_known() {
        let env = env(&[
            "T_STORE",
            "T_METRICS_LISTEN",
            "T_TLS__CERT",
            "T_TLS",
            "T_POLICY__AUDIT_METHODS__DENY__X",
            "T_CONFIG",
            "OTHER_STORE_URL",
        ]);
        let unknown = unknown_variables(&env, "T_", &["T_CONFIG"], &known());
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn an_unknown_variable_is_named_with_the_closest_setting() {
        let env = env(&["T_STORE_URL", "T_TLS__CRT", "T_COLOUR"]);
        let unknown = unknown_variables(&env, "T_", &[], &known());
        let suggestion = |name: &str| {
            unknown
                .iter()
                .find(|u| u.name == name)
                .unwrap()
                .suggestion
                .clone()
                .map(|(key, _)| key)
        };
        assert_eq!(suggestion("T_STORE_URL").as_deref(), Some("store"));
        assert_eq!(suggestion("T_TLS__CRT").as_deref(), Some("tls.cert"));
        assert_eq!(suggestion("T_COLOUR"), None);
        let text = unknown
            .iter()
            .find(|u| u.name == "T_STORE_URL")
            .unwrap()
            .to_string();
        assert_eq!(
            text,
            "environment variable T_STORE_URL names no setting (did you mean T_STORE, setting `store`?)"
        );
    }
}
