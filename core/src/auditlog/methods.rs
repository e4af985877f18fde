//! The configurable allow/deny table of audit-logged methods: allowed methods pass, denied ones fail
//! with their reason, and any other method fails as unknown (an allow-list, fail closed). Defaults in
//! [`method_table`](super::method_table). Method names are compared without their API version prefix
//! (`v1.`, `beta.`, `alpha.`, `v1beta1.`, ...) and without regard to case.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::classify::strip_version;
use super::method_table::{ALLOWED, DENIED, UNFETCHED_READS};

/// Which methods are harmless and which deny, each with the text Alice reads.
///
/// In TOML (`[policy.audit_methods]`): `allow = { "compute.instances.setLabels" = "why" }` and
/// `deny = { "compute.instances.setMetadata" = "reason" }`. A table that is given replaces its
/// default; one that is left out keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditMethods {
    /// Harmless methods: method → why it cannot change the VM or expose it.
    pub allow: BTreeMap<String, String>,
    /// Methods that deny release: method → reason. A method in both lists is denied.
    pub deny: BTreeMap<String, String>,
}

impl Default for AuditMethods {
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

fn lookup<'a>(table: &'a BTreeMap<String, String>, method: &str) -> Option<&'a String> {
    let wanted = strip_version(method.trim());
    table
        .iter()
        .find(|(key, _)| strip_version(key.trim()).eq_ignore_ascii_case(wanted))
        .map(|(_, text)| text)
}

impl AuditMethods {
    /// The verdict for `method` (any version prefix, any case); the deny list wins.
    pub fn verdict(&self, method: &str) -> MethodVerdict {
        if let Some(reason) = lookup(&self.deny, method) {
            return MethodVerdict::Denied {
                reason: reason.clone(),
            };
        }
        match lookup(&self.allow, method) {
            Some(why) => MethodVerdict::Allowed { why: why.clone() },
            None => MethodVerdict::Unknown,
        }
    }

    /// Checks that every method name looks like `service.collection.method` and that the reads the
    /// server leaves out of its Logging queries ([`UNFETCHED_READS`]) are allowed: an entry that is
    /// not fetched must be one that would pass.
    pub fn validate(&self) -> Result<(), String> {
        for method in self.allow.keys().chain(self.deny.keys()) {
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
        let mut methods = AuditMethods::default();
        methods
            .allow
            .insert("compute.instances.setMetadata".into(), "oops".into());
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
        let mut methods = AuditMethods::default();
        methods.allow.remove("compute.disks.get");
        assert!(
            methods
                .validate()
                .unwrap_err()
                .contains("compute.disks.get")
        );
        let mut methods = AuditMethods::default();
        methods
            .deny
            .insert("v1.compute.instances.get".into(), "x".into());
        assert!(methods.validate().is_err());
        let mut methods = AuditMethods::default();
        methods.allow.insert("setLabels".into(), "x".into());
        assert!(methods.validate().is_err());
    }
}
