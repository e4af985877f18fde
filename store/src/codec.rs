//! JSON encoding of stored records, shared by both backends. Decoding failures become
//! `StoreError::Corrupt` with only the error position, never the record text (it may hold secrets).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Record, RecordKind, StoreError};

/// Encodes a record for storage.
pub(crate) fn encode<T: Serialize>(what: RecordKind, record: &T) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|e| {
        StoreError::Config(format!(
            "cannot encode a record of {} as JSON: {:?} error",
            what.collection(),
            e.classify()
        ))
    })
}

/// Decodes a stored record; `what` names it for the error.
pub(crate) fn decode<T: DeserializeOwned>(what: &Record, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| {
        StoreError::corrupt(
            what.clone(),
            format_args!(
                "undecodable JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::FailedCheck;

    #[test]
    fn corrupt_json_reports_position_but_not_content() {
        let what = Record::new(RecordKind::Pending, "1");
        let err = decode::<FailedCheck>(&what, r#"{"name": "s3cr3t", "reason": 5}"#).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::Corrupt { what: ref w, .. } if *w == what));
        assert!(text.contains("pending/1"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("column"), "{text}");
    }
}
