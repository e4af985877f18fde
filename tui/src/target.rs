//! Resolving the INSTANCE argument (a VM name or numeric id) to where the VM lives, using the store's
//! approval and pending records for what the command line leaves out.

use tokendist_store::Store;

use crate::error::ConsoleError;
use crate::operations::target::VmRef;

/// The VM a command is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    pub project: String,
    pub zone: String,
    /// What `instances.get` is asked for: the recorded name, else INSTANCE as given.
    pub name: String,
    /// The instance id, when a store record names it.
    pub known_id: Option<String>,
}

/// One store record's view of a VM.
struct Known {
    id: String,
    name: String,
    project: String,
    zone: String,
}

/// Finds INSTANCE among the store's approvals, then its pending records (by id or name; when
/// a project/zone is given they must match too), and fills in what is missing.
pub async fn resolve(store: &dyn Store, args: &VmRef) -> Result<Target, ConsoleError> {
    let mut known: Vec<Known> = store
        .list_approvals()
        .await?
        .into_iter()
        .map(|a| Known {
            id: a.instance_id,
            name: a.instance_name,
            project: a.project,
            zone: a.zone,
        })
        .collect();
    known.extend(store.list_pending().await?.into_iter().map(|p| Known {
        id: p.instance_id,
        name: p.instance_name,
        project: p.project,
        zone: p.zone,
    }));
    let wanted = args.instance.trim();
    let found = known.into_iter().find(|k| {
        (k.id == wanted || k.name == wanted)
            && args.project.as_ref().is_none_or(|p| *p == k.project)
            && args.zone.as_ref().is_none_or(|z| *z == k.zone)
    });
    match (found, &args.project, &args.zone) {
        (Some(k), project, zone) => Ok(Target {
            project: project.clone().unwrap_or(k.project),
            zone: zone.clone().unwrap_or(k.zone),
            name: if k.name.is_empty() {
                wanted.to_owned()
            } else {
                k.name
            },
            known_id: Some(k.id),
        }),
        (None, Some(project), Some(zone)) => Ok(Target {
            project: project.clone(),
            zone: zone.clone(),
            name: wanted.to_owned(),
            known_id: None,
        }),
        (None, _, _) => Err(ConsoleError::Usage(format!(
            "the store has no record of {wanted:?}; pass --project and --zone to look the VM up in Google"
        ))),
    }
}
