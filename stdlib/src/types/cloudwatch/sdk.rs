//! What CloudWatch's types share: tags, which alarms and dashboards carry by ARN.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::Tag;
use aws_sdk_cloudwatch::Client;
use drone_engine::provider::ProviderError;

use crate::aws::error::sdk_error;
use crate::aws::tagging::Tagging;

/// `tags` as CloudWatch takes them.
pub(crate) fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// The tags on the alarm or dashboard `arn`, as (key, value) pairs.
pub(crate) async fn list_tags(cw: &Client, arn: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let out = cw.list_tags_for_resource().resource_arn(arn).send().await;
    let out = out.map_err(|e| sdk_error("ListTagsForResource", e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
        .collect())
}

/// Borrowed pairs, as `attrs::owner` and `attrs::user_tags` read them.
pub(crate) fn pairs(tags: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

#[async_trait]
impl Tagging for Client {
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let tag = self.tag_resource().resource_arn(arn).set_tags(Some(to_tags(tags)));
        tag.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let untag = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
        untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
    }
}
