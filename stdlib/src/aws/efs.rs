//! EFS: file systems and mount targets (with waiters: both take a while to
//! become available, and a file system cannot go while mount targets remain).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_efs::types::{LifeCycleState, Tag};
use aws_sdk_efs::Client;
use drone_engine::provider::{ErrorKind, Observed, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::attrs::{boolean, like_prior, observed, required, string, strings, tag_changes, text, user_tags, Update};
use super::error::{invalid, sdk_error, unless_gone};
use super::wait::{self, Poll};
use super::AwsProvider;

const AVAILABLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub(super) async fn create(
    p: &AwsProvider,
    kind: &str,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    let efs = &p.efs;
    match kind {
        "file_system" => {
            const OP: &str = "CreateFileSystem";
            let name = required(config, "name", OP)?;
            // The Name tag is what the console shows.
            let mut all = tags.clone();
            all.entry("Name".to_string()).or_insert_with(|| name.to_string());
            let out = efs
                .create_file_system()
                .creation_token(name)
                .encrypted(boolean(config, "encrypted") == Some(true))
                .set_kms_key_id(string(config, "kms_key_id").map(String::from))
                .set_tags(Some(efs_tags(&all, OP)?))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let id = out.file_system_id().to_string();
            let arn = out.file_system_arn().unwrap_or_default().to_string();
            wait_until(efs, &id, Kind::FileSystem, Wanted::Available).await.map_err(|e| e.after_create(&id))?;
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }
        "mount_target" => {
            const OP: &str = "CreateMountTarget";
            let out = efs
                .create_mount_target()
                .file_system_id(required(config, "file_system_id", OP)?)
                .subnet_id(required(config, "subnet_id", OP)?)
                .set_security_groups(Some(strings(config, "security_groups")))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let id = out.mount_target_id().to_string();
            let ip = out.ip_address().unwrap_or_default().to_string();
            wait_until(efs, &id, Kind::MountTarget, Wanted::Available).await.map_err(|e| e.after_create(&id))?;
            Ok(Observed { id, attributes: observed([("ip_address", Value::String(ip))]) })
        }
        other => Err(invalid("create", format!("unknown EFS type `{other}`"))),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    FileSystem,
    MountTarget,
}

#[derive(Clone, Copy, PartialEq)]
enum Wanted {
    Available,
    Gone,
}

/// The life-cycle state of a file system or mount target; `None` once it is gone.
async fn state(efs: &Client, id: &str, kind: Kind) -> Result<Option<LifeCycleState>, ProviderError> {
    let result = match kind {
        Kind::FileSystem => efs
            .describe_file_systems()
            .file_system_id(id)
            .send()
            .await
            .map(|o| o.file_systems().first().map(|f| f.life_cycle_state().clone()))
            .map_err(|e| sdk_error("DescribeFileSystems", e)),
        Kind::MountTarget => efs
            .describe_mount_targets()
            .mount_target_id(id)
            .send()
            .await
            .map(|o| o.mount_targets().first().map(|m| m.life_cycle_state().clone()))
            .map_err(|e| sdk_error("DescribeMountTargets", e)),
    };
    match result {
        Ok(Some(LifeCycleState::Deleted)) => Ok(None),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        other => other,
    }
}

/// Polls until the resource is available (or gone).
async fn wait_until(efs: &Client, id: &str, kind: Kind, wanted: Wanted) -> Result<(), ProviderError> {
    let operation = match kind {
        Kind::FileSystem => "DescribeFileSystems",
        Kind::MountTarget => "DescribeMountTargets",
    };
    let what = format!("{id} did not become {}", if wanted == Wanted::Gone { "deleted" } else { "available" });
    wait::until(operation, &what, AVAILABLE_TIMEOUT, || async {
        match (state(efs, id, kind).await?, wanted) {
            (Some(LifeCycleState::Available), Wanted::Available) | (None, Wanted::Gone) => Ok(Poll::Ready(())),
            (None, Wanted::Available) | (Some(LifeCycleState::Error), _) => {
                Err(ProviderError::new(ErrorKind::Rejected, operation, format!("{id} failed")))
            }
            _ => Ok(Poll::Pending),
        }
    })
    .await
}

pub(super) async fn read(
    p: &AwsProvider,
    kind: &str,
    id: &str,
    prior: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let efs = &p.efs;
    let attributes = if kind == "mount_target" {
        let out = match efs.describe_mount_targets().mount_target_id(id).send().await {
            Ok(out) => out,
            Err(e) => return unless_gone(sdk_error("DescribeMountTargets", e), None),
        };
        let Some(target) = out.mount_targets().first().filter(|t| t.life_cycle_state() != &LifeCycleState::Deleted)
        else {
            return Ok(None);
        };
        let groups = efs
            .describe_mount_target_security_groups()
            .mount_target_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeMountTargetSecurityGroups", e))?;
        let groups = groups.security_groups().iter().map(Value::str).collect();
        observed([
            ("file_system_id", Value::str(target.file_system_id())),
            ("subnet_id", Value::str(target.subnet_id())),
            ("security_groups", like_prior(prior.get("security_groups"), groups, |a, b| a == b)),
            ("ip_address", text(target.ip_address())),
        ])
    } else {
        let out = match efs.describe_file_systems().file_system_id(id).send().await {
            Ok(out) => out,
            Err(e) => return unless_gone(sdk_error("DescribeFileSystems", e), None),
        };
        let Some(fs) = out.file_systems().first().filter(|f| f.life_cycle_state() != &LifeCycleState::Deleted) else {
            return Ok(None);
        };
        // The Name tag is the `name` attribute, not one of the user's tags.
        let tags = fs.tags().iter().filter(|t| t.key() != "Name").map(|t| (t.key(), t.value()));
        observed([
            ("name", text(fs.name())),
            ("encrypted", Value::Bool(fs.encrypted().unwrap_or(false))),
            ("kms_key_id", text(fs.kms_key_id())),
            ("tags", user_tags(tags)),
        ])
    };
    Ok(Some(Observed { id: id.to_string(), attributes }))
}

pub(super) async fn update(p: &AwsProvider, kind: &str, u: &Update<'_>) -> Result<Observed, ProviderError> {
    let efs = &p.efs;
    if kind == "mount_target" && u.changed("security_groups") {
        efs.modify_mount_target_security_groups()
            .mount_target_id(u.id)
            .set_security_groups(Some(strings(u.config, "security_groups")))
            .send()
            .await
            .map_err(|e| sdk_error("ModifyMountTargetSecurityGroups", e))?;
    }
    if kind == "file_system" && u.changed("tags") {
        let (removed, desired) = tag_changes(u.prior, u.tags);
        if !removed.is_empty() {
            efs.untag_resource()
                .resource_id(u.id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("UntagResource", e))?;
        }
        efs.tag_resource()
            .resource_id(u.id)
            .set_tags(Some(efs_tags(&desired, "TagResource")?))
            .send()
            .await
            .map_err(|e| sdk_error("TagResource", e))?;
    }
    Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
}

pub(super) async fn delete(p: &AwsProvider, kind: &str, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
    let efs = &p.efs;
    if kind == "mount_target" {
        efs.delete_mount_target().mount_target_id(id).send().await.map_err(|e| sdk_error("DeleteMountTarget", e))?;
        // The file system refuses deletion until its mount targets are gone.
        return wait_until(efs, id, Kind::MountTarget, Wanted::Gone).await;
    }
    efs.delete_file_system().file_system_id(id).send().await.map(drop).map_err(|e| sdk_error("DeleteFileSystem", e))
}

fn efs_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
        .collect()
}
