//! `EventId`: time-ordered event identifiers, `{13-digit ms since epoch}-{8 random hex}`, so that ids
//! sort as text in time order (in SQLite and Firestore alike) and two writers never collide in practice.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// A time-ordered event id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// A fresh id for an event at `time` (times before 1970 sort as 1970).
    pub fn generate(time: DateTime<Utc>) -> Self {
        let mut suffix = [0u8; 4];
        rand::rng().fill_bytes(&mut suffix);
        EventId(format!(
            "{}-{}",
            Self::lower_bound(time),
            hex::encode(suffix)
        ))
    }

    /// The smallest id an event at or after `time` can have: its zero-padded millisecond prefix.
    pub fn lower_bound(time: DateTime<Utc>) -> String {
        format!("{:013}", time.timestamp_millis().max(0))
    }

    /// Wraps an id read back from storage.
    pub fn from_stored(id: impl Into<String>) -> Self {
        EventId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn later_events_get_ids_that_sort_after_earlier_ones() {
        let early = Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        let late = Utc.timestamp_millis_opt(1_700_000_000_124).unwrap();
        let a = EventId::generate(early);
        let b = EventId::generate(late);
        assert!(a.as_str() < b.as_str());
        assert!(a.as_str().starts_with("1700000000123-"));
        assert_eq!(a.as_str().len(), 13 + 1 + 8);
        assert!(EventId::lower_bound(late).as_str() <= b.as_str());
        assert!(EventId::lower_bound(late).as_str() > a.as_str());
    }
}
