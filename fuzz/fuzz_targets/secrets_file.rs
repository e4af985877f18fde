//! Fuzzes the `secrets.json` parser (`tokendist_tui::secrets_file::parse`: the file of secrets an
//! approval carries, read by the console and sealed to the VM). tokendist-tui is not linked (its
//! store pulls Firestore's and SQLite's builds): its `secrets_file.rs` is compiled here from its
//! source, with stand-ins for the two crate items it names (`crate::error::ConsoleError`,
//! `crate::files::read_text`, used only by `load`). Never panics; whatever parses re-encodes
//! (standard base64, type names) to a file that parses to the same secrets.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;

/// Stand-in for `tokendist_tui::error`.
mod error {
    #[derive(Debug)]
    pub struct ConsoleError;

    impl ConsoleError {
        pub fn bad_input(_path: &std::path::Path, _message: impl Into<String>) -> Self {
            ConsoleError
        }
    }
}

/// Stand-in for `tokendist_tui::files`.
mod files {
    pub fn read_text(
        _path: &std::path::Path,
        _what: &'static str,
    ) -> Result<String, super::error::ConsoleError> {
        Err(super::error::ConsoleError)
    }
}

#[allow(dead_code)]
#[path = "../../tui/src/secrets_file.rs"]
mod secrets_file;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(secrets) = secrets_file::parse(text) else {
        return;
    };
    assert!(!secrets.is_empty());
    let entries: Vec<serde_json::Value> = secrets
        .iter()
        .map(|s| {
            assert!(!s.data.is_empty() && !s.name.trim().is_empty());
            serde_json::json!({"name": s.name, "type": s.secret_type, "data": STANDARD.encode(&s.data[..])})
        })
        .collect();
    let again = secrets_file::parse(&serde_json::Value::Array(entries).to_string()).unwrap();
    let view = |list: &[secrets_file::PlainSecret]| -> Vec<(String, &'static str, Vec<u8>)> {
        list.iter()
            .map(|s| (s.name.clone(), s.secret_type, s.data.to_vec()))
            .collect()
    };
    assert_eq!(view(&again), view(&secrets));
});
