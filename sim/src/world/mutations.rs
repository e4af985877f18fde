//! Mutations through the Compute API: setMetadata, stop/start, setCommonInstanceMetadata. Each checks
//! preconditions like GCE, changes fingerprints, records a `DONE` operation and appends its audit entry.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::World;
use crate::audit::{self, AuditResource, MetadataDelta};
use crate::compute_links::COMPUTE_BASE;
use crate::fingerprint::new_fingerprint;
use crate::google_error::ComputeError;
use crate::operation::{self, Scope};
use crate::scenario::AuditLogKind;

/// The body of `setMetadata` / `setCommonInstanceMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MetadataUpdate {
    /// The metadata fingerprint the caller last read (required, as in GCE).
    pub fingerprint: Option<String>,
    /// The complete new item list.
    pub items: Vec<(String, String)>,
}

fn fingerprints_equal(supplied: &str, current: &str) -> Result<bool, ComputeError> {
    // apitools clients (gcloud) send bytes fields in the URL-safe alphabet; accept both.
    let supplied_bytes = STANDARD.decode(supplied).or_else(|_| URL_SAFE.decode(supplied)).map_err(|_| {
        ComputeError::bad_request(
            "invalid",
            format!("Invalid value for field 'resource.fingerprint': '{supplied}'. Fingerprint is not valid base64."),
        )
    })?;
    let current_bytes = URL_SAFE
        .decode(current)
        .or_else(|_| STANDARD.decode(current))
        .ok();
    Ok(current_bytes == Some(supplied_bytes))
}

fn new_items(update: &MetadataUpdate) -> Result<BTreeMap<String, String>, ComputeError> {
    let mut items = BTreeMap::new();
    for (key, value) in &update.items {
        let valid = !key.is_empty()
            && key.len() <= 128
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(ComputeError::bad_request(
                "invalid",
                format!(
                    "Invalid value for field 'resource.items[].key': '{key}'. Must be a match of regex '[a-zA-Z0-9-_]{{1,128}}'"
                ),
            ));
        }
        if items.insert(key.clone(), value.clone()).is_some() {
            return Err(ComputeError::bad_request(
                "invalid",
                format!("Invalid value for field 'resource.items': duplicate key '{key}'."),
            ));
        }
    }
    Ok(items)
}

fn delta(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> MetadataDelta {
    MetadataDelta {
        added: new
            .keys()
            .filter(|k| !old.contains_key(*k))
            .cloned()
            .collect(),
        modified: new
            .iter()
            .filter(|(k, v)| old.get(*k).is_some_and(|old_v| old_v != *v))
            .map(|(k, _)| k.clone())
            .collect(),
        deleted: old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect(),
    }
}

fn check_fingerprint(update: &MetadataUpdate, current: &str) -> Result<(), ComputeError> {
    match &update.fingerprint {
        Some(supplied) if fingerprints_equal(supplied, current)? => Ok(()),
        _ => Err(ComputeError::stale_fingerprint()),
    }
}

impl World {
    pub(super) fn instance_index(
        &self,
        project: &str,
        zone: &str,
        name: &str,
    ) -> Result<usize, ComputeError> {
        self.vms
            .iter()
            .position(|vm| {
                vm.spec.project == project && vm.spec.zone == zone && vm.spec.name == name
            })
            .ok_or_else(|| {
                ComputeError::not_found(&format!(
                    "projects/{project}/zones/{zone}/instances/{name}"
                ))
            })
    }

    fn finish_instance_op(
        &mut self,
        index: usize,
        operation_type: &str,
        delta: Option<&MetadataDelta>,
        now: DateTime<Utc>,
    ) -> Value {
        self.finish_instance_op_with(index, operation_type, delta, None, now)
    }

    /// Records a `DONE` zonal operation on instance `index` and its audit entry (with `request`).
    pub(super) fn finish_instance_op_with(
        &mut self,
        index: usize,
        operation_type: &str,
        delta: Option<&MetadataDelta>,
        request: Option<&serde_json::Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> Value {
        let principal = self.principal.clone();
        let vm = &self.vms[index];
        let (project, zone) = (vm.spec.project.clone(), vm.spec.zone.clone());
        let op = operation::done(
            Scope::Zone {
                project: &project,
                zone: &zone,
            },
            operation_type,
            &vm.self_link(),
            &vm.spec.id.to_string(),
            &principal,
            now,
        );
        let resource = AuditResource::instance(&vm.spec);
        let method = format!("v1.compute.instances.{operation_type}");
        let op_name = op["name"].as_str().unwrap_or_default().to_string();
        let record = audit::entry(&audit::EntryInput {
            project: &project,
            resource: &resource,
            method: &method,
            time: now,
            principal: &principal,
            log: AuditLogKind::Activity,
            request,
            delta,
            operation_id: Some(&op_name),
        });
        self.push_audit(record);
        self.operations.insert(op_name, op.clone());
        op
    }

    /// `instances.setMetadata`: 412 `conditionNotMet` unless the fingerprint is current.
    pub(crate) fn set_instance_metadata(
        &mut self,
        project: &str,
        zone: &str,
        name: &str,
        update: &MetadataUpdate,
        now: DateTime<Utc>,
    ) -> Result<Value, ComputeError> {
        let index = self.instance_index(project, zone, name)?;
        check_fingerprint(update, &self.vms[index].metadata_fingerprint)?;
        let items = new_items(update)?;
        let vm = &mut self.vms[index];
        let change = delta(&vm.metadata, &items);
        vm.metadata = items;
        vm.metadata_fingerprint = new_fingerprint();
        vm.fingerprint = new_fingerprint();
        Ok(self.finish_instance_op(index, "setMetadata", Some(&change), now))
    }

    /// `instances.stop` (`start == false`) and `instances.start`.
    pub(crate) fn set_instance_running(
        &mut self,
        project: &str,
        zone: &str,
        name: &str,
        start: bool,
        now: DateTime<Utc>,
    ) -> Result<Value, ComputeError> {
        let index = self.instance_index(project, zone, name)?;
        let vm = &mut self.vms[index];
        if start {
            vm.status = "RUNNING".to_string();
            vm.last_start = now;
        } else {
            vm.status = "TERMINATED".to_string();
            vm.last_stop = Some(now);
        }
        vm.fingerprint = new_fingerprint();
        let operation_type = if start { "start" } else { "stop" };
        Ok(self.finish_instance_op(index, operation_type, None, now))
    }

    /// `projects.setCommonInstanceMetadata` (a global operation; `gce_project` audit entry).
    pub(crate) fn set_common_metadata(
        &mut self,
        project_id: &str,
        update: &MetadataUpdate,
        now: DateTime<Utc>,
    ) -> Result<Value, ComputeError> {
        let principal = self.principal.clone();
        let project = self
            .projects
            .get_mut(project_id)
            .ok_or_else(|| ComputeError::not_found(&format!("projects/{project_id}")))?;
        check_fingerprint(update, &project.metadata_fingerprint)?;
        let items = new_items(update)?;
        let change = delta(&project.metadata, &items);
        project.metadata = items;
        project.metadata_fingerprint = new_fingerprint();
        let op = operation::done(
            Scope::Global {
                project: project_id,
            },
            "compute.projects.setCommonInstanceMetadata",
            &format!("{COMPUTE_BASE}projects/{project_id}"),
            &project.spec.number.to_string(),
            &principal,
            now,
        );
        let op_name = op["name"].as_str().unwrap_or_default().to_string();
        let resource = AuditResource::Project {
            project: project_id.to_string(),
        };
        let record = audit::entry(&audit::EntryInput {
            project: project_id,
            resource: &resource,
            method: "v1.compute.projects.setCommonInstanceMetadata",
            time: now,
            principal: &principal,
            log: AuditLogKind::Activity,
            request: None,
            delta: Some(&change),
            operation_id: Some(&op_name),
        });
        self.push_audit(record);
        self.operations.insert(op_name, op.clone());
        Ok(op)
    }

    /// A recorded operation, if it belongs to that project and scope.
    pub(crate) fn operation(
        &self,
        project: &str,
        zone: Option<&str>,
        name: &str,
    ) -> Result<Value, ComputeError> {
        let path = match zone {
            Some(zone) => format!("projects/{project}/zones/{zone}/operations/{name}"),
            None => format!("projects/{project}/global/operations/{name}"),
        };
        self.operations
            .get(name)
            .filter(|op| {
                op["selfLink"]
                    .as_str()
                    .is_some_and(|link| link.ends_with(&path))
            })
            .cloned()
            .ok_or_else(|| ComputeError::not_found(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn delta_separates_added_modified_and_deleted_keys() {
        let old = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = map(&[("a", "1"), ("b", "changed"), ("d", "4")]);
        let d = delta(&old, &new);
        assert_eq!(d.added, vec!["d"]);
        assert_eq!(d.modified, vec!["b"]);
        assert_eq!(d.deleted, vec!["c"]);
        assert_eq!(d.all_keys(), vec!["b", "c", "d"]);
    }

    #[test]
    fn missing_fingerprint_is_a_412_condition_not_met() {
        let err = check_fingerprint(&MetadataUpdate::default(), "hEX9pbBc7uo=").unwrap_err();
        assert_eq!((err.code, err.reason), (412, "conditionNotMet"));
    }
}
