//! `secrets.json`, in the original provisioner's format: a JSON array of
//! `{"name": "...", "type": "RAW" | "TPM" | "TINK", "data": "<base64>"}` (the type may also be its
//! protobuf number 1, 2 or 3; `data` is standard or URL-safe base64, padded or not). Validation names
//! the offending entry by position and name. Plaintext is held zeroizing and never printed: `Debug`
//! shows names, types and sizes only.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::error::ConsoleError;
use crate::files::read_text;

/// One secret from the file.
pub struct PlainSecret {
    pub name: String,
    /// `RAW`, `TPM` or `TINK`.
    pub secret_type: &'static str,
    pub data: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainSecret")
            .field("name", &self.name)
            .field("secret_type", &self.secret_type)
            .field("len", &self.data.len())
            .finish_non_exhaustive()
    }
}

/// Reads and validates `path`.
pub fn load(path: &Path) -> Result<Vec<PlainSecret>, ConsoleError> {
    let text = Zeroizing::new(read_text(path, "read secrets file")?);
    parse(&text).map_err(|message| ConsoleError::bad_input(path, message))
}

fn secret_type(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(s) => match s.as_str() {
            "RAW" => Some("RAW"),
            "TPM" => Some("TPM"),
            "TINK" => Some("TINK"),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some("RAW"),
            Some(2) => Some("TPM"),
            Some(3) => Some("TINK"),
            _ => None,
        },
        _ => None,
    }
}

fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let trimmed = text.trim().trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .ok()
        .map(Zeroizing::new)
}

/// Parses the file's text. The error says which entry is wrong and how; it never quotes `data`.
pub fn parse(text: &str) -> Result<Vec<PlainSecret>, String> {
    // serde_json's messages quote at most a position, never the document's text.
    let mut document: Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Array(entries) = &mut document else {
        return Err(
            "the top level must be a JSON array of {\"name\",\"type\",\"data\"} objects".into(),
        );
    };
    if entries.is_empty() {
        return Err("the file lists no secrets; an approval needs at least one".into());
    }
    let mut names = BTreeSet::new();
    let mut secrets = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter_mut().enumerate() {
        let position = index + 1;
        let Value::Object(fields) = entry else {
            return Err(format!("entry #{position} is not a JSON object"));
        };
        let name = match fields.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
            _ => {
                return Err(format!(
                    "entry #{position} has no \"name\" (a non-empty string is required)"
                ));
            }
        };
        let label = format!("entry #{position} ({name:?})");
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["name", "type", "data"].contains(&k.as_str()))
        {
            return Err(format!(
                "{label} has unknown field {unknown:?}; only name, type and data are allowed"
            ));
        }
        if !names.insert(name.clone()) {
            return Err(format!(
                "{label}: the name is used by an earlier entry; names must be unique"
            ));
        }
        let Some(secret_type) = fields.get("type").and_then(secret_type) else {
            return Err(format!(
                "{label} has an unknown or missing \"type\"; use \"RAW\", \"TPM\" or \"TINK\""
            ));
        };
        let data = match fields.get_mut("data") {
            Some(Value::String(data)) => {
                // Moved out so the base64 text is wiped once decoded.
                let data = Zeroizing::new(std::mem::take(data));
                decode_base64(&data).ok_or_else(|| {
                    format!("{label}: \"data\" is not valid base64 (standard or URL-safe)")
                })?
            }
            _ => {
                return Err(format!(
                    "{label} has no \"data\" string (base64 of the secret)"
                ));
            }
        };
        if data.is_empty() {
            return Err(format!("{label}: \"data\" is empty"));
        }
        secrets.push(PlainSecret {
            name,
            secret_type,
            data,
        });
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_example_parses_with_types_and_decoded_bytes() {
        let secrets = parse(
            r#"[{"name":"secret1","type":"RAW","data":"Zm9vb2Jhcg=="},
                {"name":"secret2","type":3,"data":"Zm9vb2Jhcg"}]"#,
        )
        .unwrap();
        assert_eq!(secrets.len(), 2);
        assert_eq!(&secrets[0].data[..], b"fooobar");
        assert_eq!(secrets[1].secret_type, "TINK");
        assert_eq!(&secrets[1].data[..], b"fooobar");
    }

    #[test]
    fn url_safe_base64_is_accepted() {
        let secrets = parse(r#"[{"name":"k","type":"TPM","data":"-_8"}]"#).unwrap();
        assert_eq!(&secrets[0].data[..], &[0xfb, 0xff]);
    }

    #[test]
    fn each_problem_names_the_entry() {
        let cases = [
            (
                r#"[{"name":"a","type":"RAW","data":"YQ=="},{"name":"a","type":"RAW","data":"YQ=="}]"#,
                "entry #2 (\"a\")",
            ),
            (
                r#"[{"name":"gcp","type":"GCP Bearer","data":"YQ=="}]"#,
                "entry #1 (\"gcp\") has an unknown or missing \"type\"",
            ),
            (
                r#"[{"name":"x","type":"RAW","data":"not base64!"}]"#,
                "entry #1 (\"x\"): \"data\" is not valid base64",
            ),
            (
                r#"[{"type":"RAW","data":"YQ=="}]"#,
                "entry #1 has no \"name\"",
            ),
            (
                r#"[{"name":"x","type":"RAW","data":"YQ==","extra":1}]"#,
                "unknown field \"extra\"",
            ),
            (r#"{"name":"x"}"#, "top level must be a JSON array"),
            (r#"[{"name":"x""#, "not valid JSON"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn debug_output_shows_sizes_not_values() {
        let secrets = parse(r#"[{"name":"pw","type":"RAW","data":"aHVudGVyMg=="}]"#).unwrap();
        let debug = format!("{:?}", secrets[0]);
        assert!(debug.contains("len: 7"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
