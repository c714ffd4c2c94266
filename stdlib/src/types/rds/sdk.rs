//! What the RDS types share through the SDK: tags, which RDS keeps by ARN.

use std::collections::BTreeMap;

use aws_sdk_rds::types::Tag;
use aws_sdk_rds::Client;
use drone_engine::provider::{FindRequest, Found, ProviderError};
use drone_engine::value::Value;

use crate::aws::attrs::{self, string, Update};
use async_trait::async_trait;

use crate::aws::error::sdk_error;
use crate::aws::tagging::{self, Tagging};

/// Tags for a create call.
pub(super) fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

#[async_trait]
impl Tagging for Client {
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let add = self.add_tags_to_resource().resource_name(arn).set_tags(Some(rds_tags(tags)));
        add.send().await.map(drop).map_err(|e| sdk_error("AddTagsToResource", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let remove = self.remove_tags_from_resource().resource_name(arn).set_tag_keys(Some(keys));
        remove.send().await.map(drop).map_err(|e| sdk_error("RemoveTagsFromResource", e))
    }
}

/// Makes the resource's tags `u.tags` (RDS tags by ARN, which state records).
pub(super) async fn sync_tags(rds: &Client, u: &Update<'_>) -> Result<(), ProviderError> {
    match string(u.prior, "arn") {
        Some(arn) => tagging::sync(rds, arn, u).await,
        None => Ok(()),
    }
}

/// The resource `id` (with ARN `arn`) found, and whose it is by its tags.
pub(super) async fn found(rds: &Client, id: &str, arn: &str, f: &FindRequest<'_>) -> Result<Found, ProviderError> {
    let tags = list_tags(rds, arn).await?;
    let pairs = tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
    Ok(Found { id: id.to_string(), owner: attrs::owner(pairs, f.tags) })
}

/// Every tag of the RDS resource `arn`.
async fn list_tags(rds: &Client, arn: &str) -> Result<Vec<Tag>, ProviderError> {
    let out = rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| sdk_error("ListTagsForResource", e))?;
    Ok(out.tag_list().to_vec())
}

/// The user's tags of the RDS resource `arn`.
pub(super) async fn tags_of(rds: &Client, arn: &str) -> Result<Value, ProviderError> {
    let tags = list_tags(rds, arn).await?;
    Ok(attrs::user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))))
}
