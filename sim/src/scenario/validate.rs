//! Turns the raw TOML into a `Scenario`: resolves files, parses times and ids, rejects duplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::raw::{RawBootDisk, RawHistory, RawProject, RawScenario, RawVm};
use super::{
    AuditLogKind, BootDiskSpec, DEFAULT_JWKS_MAX_AGE_SECS, DEFAULT_PRINCIPAL, EkSource,
    HistorySpec, ProjectSpec, Scenario, ScenarioError, Settings, ShieldedSpec, VmSpec,
};

/// COS licence codes: cos, cos-pcid, shielded-cos (see the fixtures' disks and identity tokens).
const COS_LICENSE_CODES: [&str; 3] = ["1001010", "6880041984096540132", "166739712233658766"];
const DEFAULT_SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
];
const IMAGE_URL_PREFIX: &str = "https://www.googleapis.com/compute/v1/projects/";

struct Ctx<'a> {
    base_dir: &'a Path,
    file: &'a Path,
}

impl Ctx<'_> {
    fn invalid(&self, field: impl Into<String>, problem: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_path_buf(),
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn read(
        &self,
        field: &str,
        relative: &str,
    ) -> Result<(std::path::PathBuf, String), ScenarioError> {
        let path = self.base_dir.join(relative);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((path, text)),
            Err(source) => Err(ScenarioError::MissingFile {
                file: self.file.to_path_buf(),
                field: field.to_string(),
                referenced: path,
                source,
            }),
        }
    }

    fn time(&self, field: &str, text: &str) -> Result<DateTime<Utc>, ScenarioError> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                self.invalid(
                    field,
                    format!("`{text}` is not an RFC 3339 time ({e}); write e.g. \"2026-11-01T10:00:00Z\""),
                )
            })
    }
}

pub(super) fn build(text: &str, base_dir: &Path, file: &Path) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
        file: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let ctx = Ctx { base_dir, file };
    let settings = Settings {
        principal: raw
            .settings
            .principal
            .unwrap_or_else(|| DEFAULT_PRINCIPAL.to_string()),
        jwks_max_age_secs: raw
            .settings
            .jwks_max_age_secs
            .unwrap_or(DEFAULT_JWKS_MAX_AGE_SECS),
        data_access_reads: raw.settings.data_access_reads,
    };
    let mut projects = Vec::new();
    let mut project_ids = BTreeSet::new();
    for (index, project) in raw.projects.into_iter().enumerate() {
        let spec = project_spec(&ctx, index, project)?;
        if !project_ids.insert(spec.id.clone()) {
            return Err(ctx.invalid(
                format!("project[{index}].id"),
                format!("duplicate project id `{}`", spec.id),
            ));
        }
        projects.push(spec);
    }
    let mut vms = Vec::new();
    let mut names = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (index, vm) in raw.vms.into_iter().enumerate() {
        let spec = vm_spec(&ctx, index, vm)?;
        if !project_ids.contains(&spec.project) {
            return Err(ctx.invalid(
                format!("vm[{index}].project"),
                format!(
                    "project `{}` is not declared; add a [[project]] with id = \"{}\"",
                    spec.project, spec.project
                ),
            ));
        }
        if !names.insert(spec.name.clone()) {
            return Err(ctx.invalid(
                format!("vm[{index}].name"),
                format!(
                    "duplicate VM name `{}` (names must be unique across the scenario)",
                    spec.name
                ),
            ));
        }
        if !ids.insert(spec.id) {
            return Err(ctx.invalid(
                format!("vm[{index}].id"),
                format!("duplicate VM id `{}`", spec.id),
            ));
        }
        vms.push(spec);
    }
    for (index, vm) in vms.iter().enumerate() {
        for other in &vm.boot_disk.also_attached_to {
            if !names.contains(other) || *other == vm.name {
                return Err(ctx.invalid(
                    format!("vm[{index}].boot_disk.also_attached_to"),
                    format!("`{other}` is not another VM of the scenario"),
                ));
            }
        }
    }
    Ok(Scenario {
        source: file.to_path_buf(),
        settings,
        projects,
        vms,
    })
}

fn project_spec(
    ctx: &Ctx<'_>,
    index: usize,
    raw: RawProject,
) -> Result<ProjectSpec, ScenarioError> {
    let prefix = format!("project[{index}]");
    if !is_resource_name(&raw.id) {
        return Err(ctx.invalid(
            format!("{prefix}.id"),
            format!(
                "`{}` is not a valid project id (lowercase letters, digits, hyphens)",
                raw.id
            ),
        ));
    }
    let created = match &raw.created {
        Some(text) => ctx.time(&format!("{prefix}.created"), text)?,
        None => DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(365 * 50),
    };
    let history = histories(ctx, &prefix, raw.history)?;
    Ok(ProjectSpec {
        id: raw.id,
        number: raw.number,
        created,
        metadata: raw.metadata,
        history,
    })
}

fn vm_spec(ctx: &Ctx<'_>, index: usize, raw: RawVm) -> Result<VmSpec, ScenarioError> {
    let prefix = format!("vm[{index}]");
    let field = |name: &str| format!("{prefix}.{name}");
    let id: u64 = raw.id.parse().map_err(|_| {
        ctx.invalid(
            field("id"),
            format!("`{}` is not a decimal unsigned 64-bit instance id", raw.id),
        )
    })?;
    for (name, value) in [("name", &raw.name), ("zone", &raw.zone)] {
        if !is_resource_name(value) {
            return Err(ctx.invalid(
                field(name),
                format!("`{value}` is not a valid GCE name (lowercase letters, digits, hyphens)"),
            ));
        }
    }
    if !raw.service_account.contains('@') {
        return Err(ctx.invalid(
            field("service_account"),
            format!("`{}` is not a service account email", raw.service_account),
        ));
    }
    let created = ctx.time(&field("created"), &raw.created)?;
    let image_rest = raw.boot_image.strip_prefix(IMAGE_URL_PREFIX).unwrap_or("");
    let image_parts: Vec<&str> = image_rest.split('/').collect();
    if !matches!(image_parts.as_slice(), [_, "global", "images", name] if !name.is_empty()) {
        return Err(ctx.invalid(
            field("boot_image"),
            format!(
                "`{}` is not a full image URL like {IMAGE_URL_PREFIX}cos-cloud/global/images/NAME",
                raw.boot_image
            ),
        ));
    }
    let status = raw.status.unwrap_or_else(|| "RUNNING".to_string());
    if !matches!(status.as_str(), "RUNNING" | "TERMINATED") {
        return Err(ctx.invalid(
            field("status"),
            format!("`{status}` is not supported; use RUNNING or TERMINATED"),
        ));
    }
    for (name, value) in [
        ("internal_ip", Some(&raw.internal_ip)),
        ("nat_ip", raw.nat_ip.as_ref()),
    ] {
        if let Some(value) = value
            && value.parse::<std::net::Ipv4Addr>().is_err()
        {
            return Err(ctx.invalid(field(name), format!("`{value}` is not an IPv4 address")));
        }
    }
    let mut metadata: BTreeMap<String, String> = raw.metadata;
    if let Some(relative) = &raw.user_data {
        let (_, text) = ctx.read(&field("user_data"), relative)?;
        if metadata.insert("user-data".to_string(), text).is_some() {
            return Err(ctx.invalid(
                field("metadata.user-data"),
                "user-data is given both as a file (user_data) and as a metadata item; keep one",
            ));
        }
    }
    let ek = match &raw.ek_public_key {
        Some(relative) => {
            let (path, pem) = ctx.read(&field("ek_public_key"), relative)?;
            if !pem.contains("-----BEGIN PUBLIC KEY-----") {
                return Err(ctx.invalid(
                    field("ek_public_key"),
                    format!(
                        "{} is not a PEM public key (-----BEGIN PUBLIC KEY-----)",
                        path.display()
                    ),
                ));
            }
            EkSource::PemFile { path, pem }
        }
        None if raw.shielded.vtpm => {
            return Err(ctx.invalid(
                field("ek_public_key"),
                "the VM has a vTPM (shielded.vtpm = true) but no EK public key file; add ek_public_key = \"keys/NAME.pem\"",
            ));
        }
        None => EkSource::None,
    };
    let optional_pem =
        |name: &str, value: &Option<String>| -> Result<Option<String>, ScenarioError> {
            match value {
                Some(relative) => ctx.read(&field(name), relative).map(|(_, text)| Some(text)),
                None => Ok(None),
            }
        };
    let ek_cert_pem = optional_pem("ek_cert", &raw.ek_cert)?;
    if let Some(cert) = &ek_cert_pem {
        if matches!(ek, EkSource::None) {
            return Err(ctx.invalid(
                field("ek_cert"),
                "an EK certificate needs the EK it certifies; add ek_public_key = \"keys/NAME.pem\"",
            ));
        }
        if !cert.contains(crate::pem::CERTIFICATE_PEM_BEGIN) {
            return Err(ctx.invalid(
                field("ek_cert"),
                "the EK certificate file is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
            ));
        }
    }
    let signing_key_pem = optional_pem("signing_key_public", &raw.signing_key_public)?;
    let signing_key_cert_pem = optional_pem("signing_key_cert", &raw.signing_key_cert)?;
    let license_codes = match raw.license_codes {
        Some(codes) => codes,
        None if image_rest.starts_with("cos-cloud/") => {
            COS_LICENSE_CODES.iter().map(|c| c.to_string()).collect()
        }
        None => Vec::new(),
    };
    let service_account_unique_id = match raw.service_account_unique_id {
        Some(unique) if unique.parse::<u128>().is_ok() => unique,
        Some(unique) => {
            return Err(ctx.invalid(
                field("service_account_unique_id"),
                format!("`{unique}` is not a decimal number (Google's are 21 digits)"),
            ));
        }
        None => derived_unique_id(&raw.service_account),
    };
    let history = histories(ctx, &prefix, raw.history)?;
    let boot_disk = boot_disk_spec(ctx, &prefix, created, raw.boot_disk)?;
    Ok(VmSpec {
        id,
        name: raw.name,
        project: raw.project,
        zone: raw.zone,
        machine_type: raw.machine_type.unwrap_or_else(|| "e2-small".to_string()),
        service_account: raw.service_account,
        service_account_unique_id,
        scopes: raw
            .scopes
            .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()),
        created,
        metadata,
        boot_image: raw.boot_image,
        license_codes,
        shielded: ShieldedSpec {
            secure_boot: raw.shielded.secure_boot,
            vtpm: raw.shielded.vtpm,
            integrity_monitoring: raw.shielded.integrity_monitoring,
        },
        confidential: raw.confidential,
        internal_ip: raw.internal_ip,
        nat_ip: raw.nat_ip,
        status,
        ek,
        ek_cert_pem,
        signing_key_pem,
        signing_key_cert_pem,
        labels: raw.labels,
        history,
        pad_history: raw.pad_history,
        boot_disk,
    })
}

fn boot_disk_spec(
    ctx: &Ctx<'_>,
    prefix: &str,
    vm_created: DateTime<Utc>,
    raw: RawBootDisk,
) -> Result<BootDiskSpec, ScenarioError> {
    let prefix = format!("{prefix}.boot_disk");
    let field = |name: &str| format!("{prefix}.{name}");
    let created = match &raw.created {
        Some(text) => ctx.time(&field("created"), text)?,
        None => vm_created + chrono::Duration::milliseconds(7),
    };
    let last_attach = match &raw.last_attach {
        Some(text) => ctx.time(&field("last_attach"), text)?,
        None => created + chrono::Duration::milliseconds(1),
    };
    let last_detach = match &raw.last_detach {
        Some(text) => Some(ctx.time(&field("last_detach"), text)?),
        None => None,
    };
    Ok(BootDiskSpec {
        created,
        last_attach,
        last_detach,
        also_attached_to: raw.also_attached_to,
        history: histories(ctx, &prefix, raw.history)?,
    })
}

fn histories(
    ctx: &Ctx<'_>,
    prefix: &str,
    raw: Vec<RawHistory>,
) -> Result<Vec<HistorySpec>, ScenarioError> {
    raw.into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let field = |name: &str| format!("{prefix}.history[{index}].{name}");
            let parts: Vec<&str> = entry.method.split('.').collect();
            if parts.len() < 4 || parts.iter().any(|p| p.is_empty()) {
                return Err(ctx.invalid(
                    field("method"),
                    format!(
                        "`{}` is not an audit method name like v1.compute.instances.setMetadata",
                        entry.method
                    ),
                ));
            }
            let log = match entry.log.as_deref() {
                None | Some("activity") => AuditLogKind::Activity,
                Some("data_access") => AuditLogKind::DataAccess,
                Some(other) => {
                    return Err(ctx.invalid(
                        field("log"),
                        format!("`{other}` is not a log; use \"activity\" or \"data_access\""),
                    ));
                }
            };
            let request = match entry.request {
                Some(table) => match serde_json::to_value(table) {
                    Ok(serde_json::Value::Object(map)) => Some(map),
                    _ => return Err(ctx.invalid(field("request"), "must be a table of values")),
                },
                None => None,
            };
            Ok(HistorySpec {
                time: ctx.time(&field("time"), &entry.time)?,
                method: entry.method,
                principal: entry.principal,
                log,
                request,
            })
        })
        .collect()
}

fn is_resource_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A stable 21-digit numeric id for a service account email (Google's unique ids look like this).
fn derived_unique_id(email: &str) -> String {
    let digest = Sha256::digest(email.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    let number = u64::from_be_bytes(bytes) % 10_000_000_000_000_000_000;
    format!("1{number:020}")
}
