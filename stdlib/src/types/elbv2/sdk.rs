//! What the ELBv2 types share through the SDK: tags, kept by ARN and read
//! with a request of their own.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::Tag;
use aws_sdk_elasticloadbalancingv2::Client;
use drone_engine::provider::{FindRequest, Found, ProviderError};
use drone_engine::value::Attributes;

use crate::aws::attrs;
use async_trait::async_trait;

use crate::aws::error::sdk_error;
use crate::aws::tagging::Tagging;

/// Tags for a create call.
pub(super) fn elb_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

#[async_trait]
impl Tagging for Client {
    async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let tags = Some(elb_tags(tags));
        self.add_tags().resource_arns(arn).set_tags(tags).send().await.map(drop).map_err(|e| sdk_error("AddTags", e))
    }

    async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let remove = self.remove_tags().resource_arns(arn).set_tag_keys(Some(keys));
        remove.send().await.map(drop).map_err(|e| sdk_error("RemoveTags", e))
    }
}

/// The resource `arn` found, and whose it is by its tags.
pub(super) async fn found(elb: &Client, arn: &str, f: &FindRequest<'_>) -> Result<Found, ProviderError> {
    let out = elb.describe_tags().resource_arns(arn).send().await.map_err(|e| sdk_error("DescribeTags", e))?;
    let tags = out.tag_descriptions().first().map(|d| d.tags()).unwrap_or_default();
    let pairs = tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
    Ok(Found { id: arn.to_string(), owner: attrs::owner(pairs, f.tags) })
}

/// Adds the user's tags to `attributes`, when the workflow sets them (they are a request of their own).
pub(super) async fn read_tags(
    elb: &Client,
    arn: &str,
    prior: &Attributes,
    attributes: &mut Attributes,
) -> Result<(), ProviderError> {
    if !prior.contains_key("tags") {
        return Ok(());
    }
    let out = elb.describe_tags().resource_arns(arn).send().await.map_err(|e| sdk_error("DescribeTags", e))?;
    let tags = out.tag_descriptions().first().map(|d| d.tags()).unwrap_or_default();
    let pairs = tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
    attributes.insert("tags".into(), attrs::user_tags(pairs));
    Ok(())
}
