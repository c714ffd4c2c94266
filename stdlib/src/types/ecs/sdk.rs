//! What the ECS types share through the SDK: tags, which ECS keeps by ARN
//! (every ECS id drone records is an ARN).

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Tag;
use aws_sdk_ecs::Client;
use drone_engine::provider::{FindRequest, Owner, ProviderError};
use drone_engine::value::Value;

use crate::aws::attrs::{self, Update};
use crate::aws::error::sdk_error;

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

/// Makes the resource's tags `u.tags`, removing those the workflow dropped.
pub(super) async fn sync_tags(ecs: &Client, u: &Update<'_>) -> Result<(), ProviderError> {
    if !u.changed("tags") {
        return Ok(());
    }
    let (removed, desired) = attrs::tag_changes(u.prior, u.tags);
    if !removed.is_empty() {
        ecs.untag_resource()
            .resource_arn(u.id)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| sdk_error("UntagResource", e))?;
    }
    ecs.tag_resource()
        .resource_arn(u.id)
        .set_tags(Some(ecs_tags(&desired)))
        .send()
        .await
        .map_err(|e| sdk_error("TagResource", e))?;
    Ok(())
}
