//! What the ECS types share through the SDK: tags, which ECS keeps by ARN
//! (every ECS id drone records is an ARN).

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Tag;
use aws_sdk_ecs::Client;
use drone_engine::provider::{FindRequest, Owner, ProviderError};
use drone_engine::value::Value;

use crate::aws::attrs;
use async_trait::async_trait;

use crate::aws::error::sdk_error;
use crate::aws::tagging::Tagging;

/// Tags for a create call.
pub(super) fn ecs_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Whose an ECS resource with `tags` is.
pub(super) fn owner_of(tags: &[Tag], f: &FindRequest<'_>) -> Owner {
    attrs::owner(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))), f.tags)
}

/// The user's tags among an ECS resource's.
pub(super) fn tags_of(tags: &[Tag]) -> Value {
    attrs::user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

#[async_trait]
impl Tagging for Client {
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let tags = Some(ecs_tags(tags));
        self.tag_resource()
            .resource_arn(arn)
            .set_tags(tags)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("TagResource", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let untag = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
        untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
    }
}
