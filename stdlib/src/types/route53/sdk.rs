//! What the Route 53 types (and ACM's DNS validation) share through the SDK:
//! names as Route 53 writes them, record changes, waiting until a change
//! has reached every Route 53 server, and tags.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet, Tag, TagResourceType};
use aws_sdk_route53::Client;
use drone_engine::provider::ProviderError;

use crate::aws::error::{invalid, sdk_error, unless_gone};
use crate::aws::tagging::Tagging;
use crate::aws::wait::{self, Poll};

/// Route 53's tagging calls for one kind of resource: it tags hosted zones and health checks
/// alike, each under its own resource type.
pub(crate) struct Tags<'a> {
    /// The Route 53 client.
    pub(crate) client: &'a Client,
    /// Hosted zone or health check.
    pub(crate) kind: TagResourceType,
}

impl Tags<'_> {
    /// Every tag of the resource `id`, as (key, value).
    pub(crate) async fn list(&self, id: &str) -> Result<Vec<(String, String)>, ProviderError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_type(self.kind.clone())
            .resource_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("ListTagsForResource", e))?;
        let tags = out.resource_tag_set().map(|s| s.tags().to_vec()).unwrap_or_default();
        Ok(tags
            .iter()
            .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
            .collect())
    }
}

#[async_trait]
impl Tagging for Tags<'_> {
    async fn tag(&self, id: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        let change = self
            .client
            .change_tags_for_resource()
            .resource_type(self.kind.clone())
            .resource_id(id)
            .set_add_tags(Some(tags));
        change.send().await.map(drop).map_err(|e| sdk_error("ChangeTagsForResource", e))
    }

    async fn untag(&self, id: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let change = self
            .client
            .change_tags_for_resource()
            .resource_type(self.kind.clone())
            .resource_id(id)
            .set_remove_tag_keys(Some(keys));
        change.send().await.map(drop).map_err(|e| sdk_error("ChangeTagsForResource", e))
    }
}

/// How long a change may take to reach every Route 53 server (AWS: within 60 seconds).
const SYNC_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// A DNS name as the workflow writes it: without the final dot, lower case.
pub(crate) fn written(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A hosted zone id without Route 53's `/hostedzone/` prefix.
pub(crate) fn zone_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Applies one change to the zone and waits until it is in sync.
pub(crate) async fn change(
    r53: &Client,
    zone: &str,
    action: ChangeAction,
    set: ResourceRecordSet,
) -> Result<(), ProviderError> {
    const OP: &str = "ChangeResourceRecordSets";
    let create = action == ChangeAction::Create;
    let change =
        Change::builder().action(action).resource_record_set(set).build().map_err(|e| invalid(OP, e.to_string()))?;
    let batch = ChangeBatch::builder().changes(change).build().map_err(|e| invalid(OP, e.to_string()))?;
    let call = r53.change_resource_record_sets().hosted_zone_id(zone_id(zone)).change_batch(batch);
    // A CREATE the SDK repeated after a lost reply would be refused as existing: the engine looks
    // the record up instead. An UPSERT or DELETE is the same however often it is sent.
    let sent = match create {
        true => call.customize().config_override(crate::aws::once!(aws_sdk_route53)).send().await,
        false => call.send().await,
    };
    let out = sent.map_err(|e| sdk_error(OP, e))?;
    let Some(info) = out.change_info() else { return Ok(()) };
    let id = info.id().to_string();
    wait::until("GetChange", &format!("change {id} did not reach every Route 53 server"), SYNC_TIMEOUT, || async {
        let out = r53.get_change().id(&id).send().await.map_err(|e| sdk_error("GetChange", e))?;
        let synced = out.change_info().is_some_and(|c| c.status().as_str() == "INSYNC");
        Ok(if synced { Poll::Ready(()) } else { Poll::Pending })
    })
    .await
}

/// The record set of `zone` named `name` of type `kind`, if there is one (none in a zone that is gone).
pub(crate) async fn record_set(
    r53: &Client,
    zone: &str,
    name: &str,
    kind: &str,
) -> Result<Option<ResourceRecordSet>, ProviderError> {
    const OP: &str = "ListResourceRecordSets";
    let listed = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id(zone))
        .start_record_name(name)
        .start_record_type(kind.into())
        .max_items(1)
        .send()
        .await;
    let out = match listed {
        Ok(out) => out,
        Err(e) => return unless_gone(sdk_error(OP, e), None),
    };
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|s| written(s.name()) == written(name) && s.r#type().as_str() == kind)
        .cloned())
}
