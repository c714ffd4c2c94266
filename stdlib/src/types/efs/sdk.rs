//! What the EFS types share through the SDK: life-cycle states and the
//! waiter (both types take a while to become available, and a file system
//! cannot go while mount targets remain), and tags.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_efs::types::{LifeCycleState, Tag};
use aws_sdk_efs::Client;
use drone_engine::provider::{ErrorKind, ProviderError};

use async_trait::async_trait;

use crate::aws::error::{invalid, sdk_error};
use crate::aws::tagging::Tagging;
use crate::aws::wait::{self, Poll};

const AVAILABLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Which kind of EFS resource.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// A file system.
    FileSystem,
    /// A mount target.
    MountTarget,
}

/// What a waiter waits for.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Wanted {
    /// Available.
    Available,
    /// Deleted.
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
pub(super) async fn wait_until(efs: &Client, id: &str, kind: Kind, wanted: Wanted) -> Result<(), ProviderError> {
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

pub(super) fn efs_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
        .collect()
}

#[async_trait]
impl Tagging for Client {
    async fn tag(&self, id: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let tags = Some(efs_tags(tags, "TagResource")?);
        self.tag_resource()
            .resource_id(id)
            .set_tags(tags)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("TagResource", e))
    }

    async fn untag(&self, id: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let untag = self.untag_resource().resource_id(id).set_tag_keys(Some(keys));
        untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
    }
}
