//! `SimHandle`: a cloneable handle on the running world, used by the HTTP handlers and, in-process,
//! by tests for admin operations (rotate keys, faults, audit entries, minted tokens, EK and EK
//! certificate replacement).

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::audit::{self, AuditResource};
use crate::error::SimError;
use crate::faults::{Api, FaultAction, FaultSpec, Faults};
use crate::identity::{self, IdentityRequest};
use crate::pem::check_certificate_pem;
use crate::scenario::AuditLogKind;
use crate::signing::SigningKeys;
use crate::traffic::{LatencySpec, Traffic, TrafficStats};
use crate::world::World;

/// Cloneable access to the simulated world.
#[derive(Debug, Clone)]
pub struct SimHandle {
    world: Arc<Mutex<World>>,
    traffic: Arc<Traffic>,
}

/// Result of a key rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationResult {
    /// The kid that signs from now on.
    pub current_kid: String,
    /// Every kid published in the JWKS, current first.
    pub published_kids: Vec<String>,
}

impl RotationResult {
    fn of(keys: &SigningKeys) -> RotationResult {
        RotationResult {
            current_kid: keys.current_kid().to_string(),
            published_kids: keys.published_kids(),
        }
    }
}

/// An audit entry to append (admin API). Exactly one of `vm` / `disk` / `project` names the resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntryInput {
    /// VM name: a `gce_instance` entry (or `gce_project` if the method is a `.projects.` one).
    #[serde(default)]
    pub vm: Option<String>,
    /// VM name: a `gce_disk` entry on that VM's boot disk.
    #[serde(default)]
    pub disk: Option<String>,
    /// Project id: a `gce_project` entry.
    #[serde(default)]
    pub project: Option<String>,
    /// e.g. `v1.compute.instances.setMetadata`.
    pub method: String,
    /// RFC 3339; default now.
    #[serde(default)]
    pub time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub principal: Option<String>,
    /// `activity` (default) or `data_access`.
    #[serde(default)]
    pub log: Option<String>,
    /// Extra `protoPayload.request` fields.
    #[serde(default)]
    pub request: Option<Map<String, Value>>,
}

/// Mint an identity token for a VM, signed by the current key, with optional overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintTokenRequest {
    pub vm: String,
    pub audience: String,
    /// `full` (default) or `standard`.
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub licenses: bool,
    /// Override `iat` (Unix seconds).
    #[serde(default)]
    pub iat: Option<i64>,
    /// Override `exp` (Unix seconds); default iat + 3600.
    #[serde(default)]
    pub exp: Option<i64>,
}

impl SimHandle {
    pub(crate) fn new(world: World) -> SimHandle {
        SimHandle {
            world: Arc::new(Mutex::new(world)),
            traffic: Arc::new(Traffic::default()),
        }
    }

    /// Locks the world (a poisoned lock is recovered: state stays usable for later requests).
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes a new signing key current; the previous one stays published unless `drop_previous`.
    pub fn rotate_keys(&self, drop_previous: bool) -> Result<RotationResult, SimError> {
        let mut world = self.lock();
        world.keys.rotate(drop_previous)?;
        Ok(RotationResult::of(&world.keys))
    }

    /// Publishes an attacker key under the current kid, listed first, that signs from now on (a JWKS
    /// with a duplicate `kid`). `rotate_keys(true)` removes it.
    pub fn add_impostor_key(&self) -> Result<RotationResult, SimError> {
        let mut world = self.lock();
        world.keys.add_impostor()?;
        Ok(RotationResult::of(&world.keys))
    }

    /// Replaces the VM by another one under the same name, project and zone, with the same
    /// configuration but a new instance id (as if Bob deleted it and created a twin): the Compute API
    /// and the VM's metadata server answer for the new id from now on. Returns the new id. No audit
    /// entries are written: the twin is as perfect as Bob can make it, so only the id tells.
    pub fn replace_instance(&self, vm: &str) -> Result<u64, SimError> {
        let mut world = self.lock();
        let state = world.known_vm_mut(vm)?;
        let mut id = state.spec.id;
        while id == state.spec.id {
            id = crate::fingerprint::new_numeric_id()
                .parse()
                .map_err(|_| SimError::InvalidRequest("generated id is not a number".into()))?;
        }
        state.spec.id = id;
        Ok(id)
    }

    /// The JWKS document currently served.
    pub fn jwks(&self) -> Value {
        self.lock().keys.jwks()
    }

    /// Injects a fault (replacing any fault on the same API).
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<(), SimError> {
        Faults::validate(&spec).map_err(SimError::InvalidRequest)?;
        self.lock().faults.inject(spec);
        Ok(())
    }

    /// Clears faults on one API, or all of them.
    pub fn clear_faults(&self, api: Option<Api>) {
        self.lock().faults.clear(api);
    }

    pub(crate) fn take_fault(&self, api: Api) -> Option<FaultAction> {
        self.lock().faults.take(api)
    }

    /// Counts one request to the Google method `method` and returns the latency to inject.
    pub(crate) fn record_request(&self, method: &str) -> std::time::Duration {
        self.traffic.record(method)
    }

    /// Injects `spec.latency_ms` before every answer of the method (or API, or `*`) it names.
    pub fn set_latency(&self, spec: &LatencySpec) {
        self.traffic.set_latency(spec);
    }

    /// Requests per Google method since start, and the injected latencies.
    pub fn traffic(&self) -> TrafficStats {
        self.traffic.snapshot()
    }

    /// Sets the principal recorded for subsequent API mutations.
    pub fn set_principal(&self, email: &str) {
        self.lock().principal = email.to_string();
    }

    /// Replaces a VM's EK public key (PEM) served by `getShieldedInstanceIdentity`. Any EK
    /// certificate is dropped (it certified the previous key); see [`SimHandle::set_ek`].
    pub fn set_ek_public_pem(&self, vm: &str, pem: &str) -> Result<(), SimError> {
        self.set_ek(vm, pem, None)
    }

    /// Stops serving an EK (and EK certificate) for the VM: `getShieldedInstanceIdentity` then has no
    /// `encryptionKey`, as for a VM whose vTPM Google does not report.
    pub fn remove_ek(&self, vm: &str) -> Result<(), SimError> {
        let mut world = self.lock();
        let state = world.known_vm_mut(vm)?;
        state.ek_pem = None;
        state.ek_cert_pem = None;
        Ok(())
    }

    /// Sets the certificate served as `encryptionKey.ekCert` (PEM, as Google serves it) for the
    /// VM's current EK. The VM must have an EK public key.
    pub fn set_ek_certificate_pem(&self, vm: &str, pem: &str) -> Result<(), SimError> {
        check_certificate_pem(pem)?;
        let mut world = self.lock();
        let state = world.known_vm_mut(vm)?;
        if state.ek_pem.is_none() {
            return Err(SimError::InvalidRequest(format!(
                "VM `{vm}` has no EK public key to certify; set one first (ekPub)"
            )));
        }
        state.ek_cert_pem = Some(pem.to_string());
        Ok(())
    }

    /// Replaces a VM's EK public key and its certificate (none: `encryptionKey` has no `ekCert`),
    /// e.g. with the EK of an swtpm standing in for the VM's vTPM.
    pub fn set_ek(
        &self,
        vm: &str,
        ek_pub_pem: &str,
        ek_cert_pem: Option<&str>,
    ) -> Result<(), SimError> {
        if !ek_pub_pem.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(SimError::InvalidRequest(
                "the EK must be a PEM public key (-----BEGIN PUBLIC KEY-----)".to_string(),
            ));
        }
        if let Some(cert) = ek_cert_pem {
            check_certificate_pem(cert)?;
        }
        let mut world = self.lock();
        let state = world.known_vm_mut(vm)?;
        state.ek_pem = Some(ek_pub_pem.to_string());
        state.ek_cert_pem = ek_cert_pem.map(str::to_string);
        Ok(())
    }

    /// Appends an audit-log entry.
    pub fn add_audit_entry(&self, input: AuditEntryInput) -> Result<(), SimError> {
        let log = match input.log.as_deref() {
            None | Some("activity") => AuditLogKind::Activity,
            Some("data_access") => AuditLogKind::DataAccess,
            Some(other) => {
                return Err(SimError::InvalidRequest(format!(
                    "log `{other}` is unknown; use activity or data_access"
                )));
            }
        };
        if input.method.split('.').count() < 4 {
            return Err(SimError::InvalidRequest(format!(
                "method `{}` is not like v1.compute.instances.setMetadata",
                input.method
            )));
        }
        let mut world = self.lock();
        let (project, resource) = match (&input.vm, &input.project) {
            (None, None) if input.disk.is_some() => {
                let vm = input.disk.clone().unwrap_or_default();
                let state = world.known_vm(&vm)?;
                (state.disk.project.clone(), state.disk.audit_resource())
            }
            (Some(vm), None) if input.disk.is_none() => {
                let state = world.known_vm(vm)?;
                let resource = if input.method.contains(".projects.") {
                    AuditResource::Project {
                        project: state.spec.project.clone(),
                    }
                } else {
                    AuditResource::instance(&state.spec)
                };
                (state.spec.project.clone(), resource)
            }
            (None, Some(project)) if input.disk.is_none() => {
                if world.project(project).is_none() {
                    return Err(SimError::UnknownProject(project.clone()));
                }
                (
                    project.clone(),
                    AuditResource::Project {
                        project: project.clone(),
                    },
                )
            }
            _ => {
                return Err(SimError::InvalidRequest(
                    "give exactly one of `vm`, `disk` or `project`".to_string(),
                ));
            }
        };
        let principal = input.principal.unwrap_or_else(|| world.principal.clone());
        let record = audit::entry(&audit::EntryInput {
            project: &project,
            resource: &resource,
            method: &input.method,
            time: input.time.unwrap_or_else(Utc::now),
            principal: &principal,
            log,
            request: input.request.as_ref(),
            delta: None,
            operation_id: None,
        });
        world.push_audit(record);
        Ok(())
    }

    /// Mints an identity token for a VM (signed by the current key) with optional iat/exp overrides.
    pub fn mint_identity_token(&self, request: &MintTokenRequest) -> Result<String, SimError> {
        let full = match request.format.as_deref() {
            None | Some("full") => true,
            Some("standard") => false,
            Some(other) => {
                return Err(SimError::InvalidRequest(format!(
                    "format `{other}` is unknown; use full or standard"
                )));
            }
        };
        let to_time = |secs: Option<i64>, name: &str| -> Result<Option<DateTime<Utc>>, SimError> {
            secs.map(|s| {
                DateTime::from_timestamp(s, 0)
                    .ok_or_else(|| SimError::InvalidRequest(format!("{name} {s} is out of range")))
            })
            .transpose()
        };
        let identity_request = IdentityRequest {
            audience: request.audience.clone(),
            full,
            licenses: request.licenses,
            issued_at: to_time(request.iat, "iat")?,
            expires_at: to_time(request.exp, "exp")?,
        };
        self.identity_token(&request.vm, &identity_request)
    }

    pub(crate) fn identity_token(
        &self,
        vm: &str,
        request: &IdentityRequest,
    ) -> Result<String, SimError> {
        let world = self.lock();
        let state = world.known_vm(vm)?;
        let project = world
            .project(&state.spec.project)
            .ok_or_else(|| SimError::UnknownProject(state.spec.project.clone()))?;
        let claims = identity::claims(state, project, request, Utc::now());
        world.keys.sign(&claims)
    }

    /// The `compute#instance` JSON of a VM as `instances.get` returns it now.
    pub fn instance_json(&self, vm: &str) -> Option<Value> {
        self.lock()
            .vm_by_name(vm)
            .map(crate::resources::instance::instance)
    }

    /// Turns Data Access logging of Compute reads on or off (every `instances.get`, `disks.get`, ...
    /// then writes a `data_access` entry, as GCE does with Data Access audit logs enabled).
    pub fn set_data_access_reads(&self, enabled: bool) {
        self.lock().data_access_reads = enabled;
    }

    /// Requests of one Google method (`compute.instances.get`) received so far, all projects: the
    /// [`TrafficStats`] counter of that method.
    pub fn requests_of(&self, method: &str) -> u64 {
        self.traffic().requests.get(method).copied().unwrap_or(0)
    }

    /// `logging.entries.list` requests received so far (each page counts), all projects.
    pub fn entries_list_calls(&self) -> u64 {
        self.requests_of("logging.entries.list")
    }

    /// Number of audit entries currently stored (all projects, all logs).
    pub fn audit_entry_count(&self) -> usize {
        self.lock().audit.len()
    }
}
