//! Test helpers shared by the unit tests of `compute_mapping` and `auditlog_decode`: real Google JSON
//! fixtures read from `shared/fixtures/gce`, and the key list of a metadata map.

use std::collections::BTreeMap;

/// The fixture file `name`, deserialised into the client library's model type `T`.
pub(crate) fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!(
        "{}/../../shared/fixtures/gce/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"))
}

/// The keys of a metadata map, in order.
pub(crate) fn keys(metadata: &BTreeMap<String, String>) -> Vec<&str> {
    metadata.keys().map(String::as_str).collect()
}
