//! The configurable allow/deny table of audit-logged methods: allowed methods pass, denied ones fail
//! with their reason, and any other method fails as unknown (an allow-list, fail closed). Defaults in
//! [`method_table`](super::method_table). Method names are compared without their API version prefix
//! (`v1.`, `beta.`, `alpha.`, `v1beta1.`, ...) and without regard to case.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::classify::{normalize_method, strip_version};
use super::method_table::{ALLOWED, DENIED, UNFETCHED_READS};

/// The allow/deny tables as configured, each method → the text Alice reads.
///
/// In TOML (`[policy.audit_methods]`): `allow = { "compute.instances.setLabels" = "why" }` and
/// `deny = { "compute.instances.setMetadata" = "reason" }`. A table that is given replaces its
/// default; one that is left out keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MethodTables {
    /// Harmless methods: method → why it cannot change the VM or expose it.
    pub allow: BTreeMap<String, String>,
    /// Methods that deny release: method → reason. A method in both lists is denied.
    pub deny: BTreeMap<String, String>,
}

impl Default for MethodTables {
    fn default() -> Self {
        let table = |rows: &[(&str, &str)]| {
            rows.iter()
                .map(|(method, text)| ((*method).to_owned(), (*text).to_owned()))
                .collect()
        };
        Self {
            allow: table(ALLOWED),
            deny: table(DENIED),
        }
    }
}

/// Which methods are harmless and which deny: the [`MethodTables`] as configured (serialised as
/// they were given), and their method names normalised once for lookups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "MethodTables", into = "MethodTables")]
pub struct AuditMethods {
    configured: MethodTables,
    /// `configured.allow` by [`normalize_method`] (of spellings that normalise alike, the first).
    allow: BTreeMap<String, String>,
    /// `configured.deny` by [`normalize_method`].
    deny: BTreeMap<String, String>,
}

impl From<MethodTables> for AuditMethods {
    fn from(configured: MethodTables) -> Self {
        let normalized = |table: &BTreeMap<String, String>| {
            let mut out = BTreeMap::new();
            for (method, text) in table {
                out.entry(normalize_method(method))
                    .or_insert_with(|| text.clone());
            }
            out
        };
        Self {
            allow: normalized(&configured.allow),
            deny: normalized(&configured.deny),
            configured,
        }
    }
}

impl From<AuditMethods> for MethodTables {
    fn from(methods: AuditMethods) -> Self {
        methods.configured
    }
}

impl Default for AuditMethods {
    fn default() -> Self {
        MethodTables::default().into()
    }
}

/// What the table says about one method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodVerdict {
    Allowed {
        why: String,
    },
    Denied {
        reason: String,
    },
    /// In neither list: fails, as the table cannot say it is harmless.
    Unknown,
}

impl AuditMethods {
    /// The tables as configured.
    pub fn configured(&self) -> &MethodTables {
        &self.configured
    }

    /// The verdict for `method` (any version prefix, any case); the deny list wins.
    pub fn verdict(&self, method: &str) -> MethodVerdict {
        let wanted = normalize_method(method);
        if let Some(reason) = self.deny.get(&wanted) {
            return MethodVerdict::Denied {
                reason: reason.clone(),
            };
        }
        match self.allow.get(&wanted) {
            Some(why) => MethodVerdict::Allowed { why: why.clone() },
            None => MethodVerdict::Unknown,
        }
    }

    /// Checks that every method name looks like `service.collection.method` and that the reads the
    /// server leaves out of its Logging queries ([`UNFETCHED_READS`]) are allowed: an entry that is
    /// not fetched must be one that would pass.
    pub fn validate(&self) -> Result<(), String> {
        for method in self
            .configured
            .allow
            .keys()
            .chain(self.configured.deny.keys())
        {
            let bare = strip_version(method.trim());
            if bare.split('.').count() < 3 || bare.split('.').any(str::is_empty) {
                return Err(format!(
                    "audit method {method:?} is not a method name like compute.instances.setLabels"
                ));
            }
        }
        for read in UNFETCHED_READS {
            if !matches!(self.verdict(read), MethodVerdict::Allowed { .. }) {
                return Err(format!(
                    "audit_methods must allow {read}: the token server's own reads are left out of the audit-log queries, so they must be harmless"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_wins_over_allow_and_versions_and_case_do_not_matter() {
        let mut tables = MethodTables::default();
        tables
            .allow
            .insert("compute.instances.setMetadata".into(), "oops".into());
        let methods = AuditMethods::from(tables);
        assert!(matches!(
            methods.verdict("BETA.compute.instances.SETMETADATA"),
            MethodVerdict::Denied { .. }
        ));
        assert!(matches!(
            methods.verdict("v1.compute.instances.setLabels"),
            MethodVerdict::Allowed { .. }
        ));
        assert_eq!(
            methods.verdict("v1.compute.instances.frobnicate"),
            MethodVerdict::Unknown
        );
    }

    #[test]
    fn defaults_validate_and_an_allow_list_without_the_server_reads_does_not() {
        assert_eq!(AuditMethods::default().validate(), Ok(()));
        let mut tables = MethodTables::default();
        tables.allow.remove("compute.disks.get");
        assert!(
            AuditMethods::from(tables)
                .validate()
                .unwrap_err()
                .contains("compute.disks.get")
        );
        let mut tables = MethodTables::default();
        tables
            .deny
            .insert("v1.compute.instances.get".into(), "x".into());
        assert!(AuditMethods::from(tables).validate().is_err());
        let mut tables = MethodTables::default();
        tables.allow.insert("setLabels".into(), "x".into());
        assert!(AuditMethods::from(tables).validate().is_err());
    }
}
