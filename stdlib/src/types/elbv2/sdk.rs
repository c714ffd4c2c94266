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

/// The part of an ELB ARN after its resource section (`...:loadbalancer/app/N/ID`
/// with `after = "loadbalancer/"` gives `app/N/ID`; `...:targetgroup/N/ID` with
/// `after = ""` gives `targetgroup/N/ID`); null when the ARN has no such part.
pub(super) fn arn_suffix(arn: &str, after: &str) -> drone_engine::value::Value {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    match resource.strip_prefix(after) {
        Some(suffix) if !suffix.is_empty() => drone_engine::value::Value::str(suffix),
        _ => drone_engine::value::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use drone_engine::value::Value;

    use super::arn_suffix;

    #[test]
    fn arn_suffixes_are_what_cloudwatch_and_scaling_labels_name() {
        let lb =
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shuttle-prod-public/50dc6c495c0c9188";
        assert_eq!(arn_suffix(lb, "loadbalancer/"), Value::str("app/shuttle-prod-public/50dc6c495c0c9188"));
        let tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shuttle-prod-ghost/73e2d6bc24d8a067";
        assert_eq!(arn_suffix(tg, ""), Value::str("targetgroup/shuttle-prod-ghost/73e2d6bc24d8a067"));
        assert_eq!(arn_suffix("not-an-arn", ""), Value::Null);
    }
}
