//! Parsing of store URLs into a [`StoreLocation`]. Accepted forms:
//!
//! - `sqlite:///absolute/path/tokendist.db`: an absolute path (three slashes);
//! - `sqlite:relative/path.db` or `sqlite:/absolute/path.db`: the text after `sqlite:` is the path,
//!   relative paths resolve against the process's working directory;
//! - `firestore://PROJECT/DATABASE?collection_prefix=P`: `DATABASE` defaults to `(default)` when
//!   omitted, `collection_prefix` to empty.
//!
//! `sqlite://name.db` (two slashes) is rejected: it reads as a host name, so it is ambiguous.

use std::path::PathBuf;

use crate::error::StoreError;

/// Where a store lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite {
        path: PathBuf,
    },
    Firestore {
        project: String,
        database: String,
        collection_prefix: String,
    },
}

/// The Firestore database used when the URL names none.
pub const DEFAULT_FIRESTORE_DATABASE: &str = "(default)";

impl StoreLocation {
    /// Parses a store URL (see the module docs for the accepted forms).
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return parse_sqlite(rest);
        }
        if url.starts_with("firestore:") {
            return parse_firestore(url);
        }
        Err(StoreError::Config(format!(
            "unsupported store URL {url:?}: use sqlite:///absolute/path/tokendist.db or \
             firestore://PROJECT/DATABASE?collection_prefix=P"
        )))
    }
}

fn parse_sqlite(rest: &str) -> Result<StoreLocation, StoreError> {
    let path = match rest.strip_prefix("//") {
        Some(after) if after.starts_with('/') => after,
        Some(after) => {
            return Err(StoreError::Config(format!(
                "ambiguous SQLite URL sqlite://{after}: use sqlite:///absolute/path.db (three slashes) \
                 or sqlite:relative/path.db"
            )));
        }
        None => rest,
    };
    if path.is_empty() || path.ends_with('/') {
        return Err(StoreError::Config(
            "SQLite URL names no database file: use sqlite:///absolute/path/tokendist.db".into(),
        ));
    }
    if path.contains('?') {
        return Err(StoreError::Config(format!(
            "SQLite URL sqlite:{rest} has a query, which is not supported: remove it"
        )));
    }
    Ok(StoreLocation::Sqlite {
        path: PathBuf::from(path),
    })
}

fn parse_firestore(text: &str) -> Result<StoreLocation, StoreError> {
    let url = url::Url::parse(text)
        .map_err(|e| StoreError::Config(format!("invalid Firestore URL {text:?}: {e}")))?;
    let project = url.host_str().unwrap_or_default().to_string();
    if project.is_empty() {
        return Err(StoreError::Config(format!(
            "Firestore URL {text:?} names no project: use firestore://PROJECT/DATABASE"
        )));
    }
    let database = match url.path().trim_matches('/') {
        "" => DEFAULT_FIRESTORE_DATABASE.to_string(),
        db if db.contains('/') => {
            return Err(StoreError::Config(format!(
                "Firestore URL {text:?} has more than one path segment: use firestore://PROJECT/DATABASE"
            )));
        }
        db => db.to_string(),
    };
    let mut collection_prefix = String::new();
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "collection_prefix" => collection_prefix = value.into_owned(),
            other => {
                return Err(StoreError::Config(format!(
                    "unknown Firestore URL parameter {other:?}: only collection_prefix is accepted"
                )));
            }
        }
    }
    Ok(StoreLocation::Firestore {
        project,
        database,
        collection_prefix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_slash_sqlite_url_is_an_absolute_path() {
        assert_eq!(
            StoreLocation::parse("sqlite:///var/lib/tokendist/tokendist.db").unwrap(),
            StoreLocation::Sqlite {
                path: "/var/lib/tokendist/tokendist.db".into()
            }
        );
    }

    #[test]
    fn sqlite_url_without_slashes_is_a_relative_path() {
        assert_eq!(
            StoreLocation::parse("sqlite:data/tokendist.db").unwrap(),
            StoreLocation::Sqlite {
                path: "data/tokendist.db".into()
            }
        );
    }

    #[test]
    fn two_slash_sqlite_url_is_rejected_as_ambiguous() {
        let err = StoreLocation::parse("sqlite://tokendist.db").unwrap_err();
        assert!(
            matches!(err, StoreError::Config(ref m) if m.contains("ambiguous")),
            "{err}"
        );
    }

    #[test]
    fn empty_sqlite_path_is_rejected() {
        assert!(matches!(
            StoreLocation::parse("sqlite:"),
            Err(StoreError::Config(_))
        ));
        assert!(matches!(
            StoreLocation::parse("sqlite:///"),
            Err(StoreError::Config(_))
        ));
    }

    #[test]
    fn firestore_url_gives_project_database_and_prefix() {
        assert_eq!(
            StoreLocation::parse("firestore://alice-prod/(default)?collection_prefix=td_").unwrap(),
            StoreLocation::Firestore {
                project: "alice-prod".into(),
                database: "(default)".into(),
                collection_prefix: "td_".into(),
            }
        );
    }

    #[test]
    fn firestore_url_without_database_uses_default() {
        assert_eq!(
            StoreLocation::parse("firestore://alice-prod").unwrap(),
            StoreLocation::Firestore {
                project: "alice-prod".into(),
                database: "(default)".into(),
                collection_prefix: String::new(),
            }
        );
    }

    #[test]
    fn firestore_url_with_unknown_parameter_is_rejected() {
        let err = StoreLocation::parse("firestore://p/db?prefix=x").unwrap_err();
        assert!(
            matches!(err, StoreError::Config(ref m) if m.contains("prefix")),
            "{err}"
        );
    }

    #[test]
    fn unknown_scheme_is_rejected() {
        assert!(matches!(
            StoreLocation::parse("postgres://x/y"),
            Err(StoreError::Config(_))
        ));
    }
}
