//! Handing secrets to the workload.
//!
//! - [`files`]: one file per secret in a directory (0700), files 0600, written atomically.
//! - [`socket`]: `GET /v1/secrets/NAME` over HTTP/1.1 on a Unix socket, callers checked by uid.
//! - [`Shelf`]: the secrets currently delivered, shared by both.

pub mod files;
pub mod socket;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::secrets::SecretValue;

/// The secrets currently delivered, by name. Cloning shares the same shelf.
#[derive(Debug, Clone, Default)]
pub struct Shelf {
    inner: Arc<RwLock<BTreeMap<String, SecretValue>>>,
}

impl Shelf {
    /// Replaces the whole set.
    pub fn replace(&self, secrets: Vec<SecretValue>) {
        let map = secrets
            .into_iter()
            .map(|s| (s.name().to_string(), s))
            .collect();
        match self.inner.write() {
            Ok(mut guard) => *guard = map,
            Err(poisoned) => *poisoned.into_inner() = map,
        }
    }

    /// Forgets every secret (zeroized as they drop).
    pub fn clear(&self) {
        self.replace(Vec::new());
    }

    pub fn get(&self, name: &str) -> Option<SecretValue> {
        match self.inner.read() {
            Ok(guard) => guard.get(name).cloned(),
            Err(poisoned) => poisoned.into_inner().get(name).cloned(),
        }
    }

    pub fn names(&self) -> Vec<String> {
        match self.inner.read() {
            Ok(guard) => guard.keys().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().keys().cloned().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.names().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
