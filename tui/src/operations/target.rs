//! [`VmRef`]: which VM an operation is about, as plain values (a name or numeric id, and the project
//! and zone when the store's records should not supply them).

use serde::Serialize;
use tokendist_store::Store;

use crate::error::ConsoleError;
use crate::target::{Target, resolve};

/// A VM named by the operator: `instance` is a name or numeric instance id; `project` and `zone`
/// default to the store's approval or pending record of the VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct VmRef {
    pub instance: String,
    pub project: Option<String>,
    pub zone: Option<String>,
}

impl VmRef {
    /// A VM the store knows by its instance id (the console's list rows).
    pub fn by_id(instance_id: impl Into<String>) -> VmRef {
        VmRef {
            instance: instance_id.into(),
            project: None,
            zone: None,
        }
    }

    /// Where the VM lives, from the store's records and what this reference gives.
    pub async fn resolve(&self, store: &dyn Store) -> Result<Target, ConsoleError> {
        resolve(store, self).await
    }
}
