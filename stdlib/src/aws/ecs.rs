//! ECS clusters.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ClusterSetting, ClusterSettingName, Tag};
use drone_engine::provider::{Observed, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::attrs::{boolean, observed, required, Update};
use super::error::{invalid, missing, sdk_error};
use super::AwsProvider;

pub(super) async fn create(
    p: &AwsProvider,
    kind: &str,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    if kind != "cluster" {
        return Err(invalid("create", format!("unknown ECS type `{kind}`")));
    }
    let out = p
        .ecs
        .create_cluster()
        .cluster_name(required(config, "name", "CreateCluster")?)
        .set_settings(insights(config).map(|s| vec![s]))
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(|e| sdk_error("CreateCluster", e))?;
    let arn =
        out.cluster().and_then(|c| c.cluster_arn()).ok_or_else(|| missing("CreateCluster", "ClusterArn"))?.to_string();
    Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
}

pub(super) async fn read(
    p: &AwsProvider,
    _kind: &str,
    id: &str,
    _prior: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let out = p.ecs.describe_clusters().clusters(id).send().await.map_err(|e| sdk_error("DescribeClusters", e))?;
    // Deleted clusters linger as INACTIVE.
    let active = out.clusters().iter().any(|c| c.status() == Some("ACTIVE"));
    Ok(active.then(|| Observed { id: id.to_string(), attributes: Attributes::new() }))
}

pub(super) async fn update(p: &AwsProvider, _kind: &str, u: &Update<'_>) -> Result<Observed, ProviderError> {
    if u.changed("container_insights") {
        let setting = insights(u.config).unwrap_or_else(|| {
            ClusterSetting::builder().name(ClusterSettingName::ContainerInsights).value("disabled").build()
        });
        // UpdateCluster rather than UpdateClusterSettings: the same change, and local endpoints implement it.
        p.ecs
            .update_cluster()
            .cluster(u.id)
            .settings(setting)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateCluster", e))?;
    }
    if u.changed("tags") {
        let (removed, desired) = super::attrs::tag_changes(u.prior, u.tags);
        if !removed.is_empty() {
            p.ecs
                .untag_resource()
                .resource_arn(u.id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("UntagResource", e))?;
        }
        p.ecs
            .tag_resource()
            .resource_arn(u.id)
            .set_tags(Some(ecs_tags(&desired)))
            .send()
            .await
            .map_err(|e| sdk_error("TagResource", e))?;
    }
    Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
}

pub(super) async fn delete(p: &AwsProvider, _kind: &str, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
    p.ecs.delete_cluster().cluster(id).send().await.map(drop).map_err(|e| sdk_error("DeleteCluster", e))
}

fn insights(config: &Attributes) -> Option<ClusterSetting> {
    let on = boolean(config, "container_insights")?;
    Some(
        ClusterSetting::builder()
            .name(ClusterSettingName::ContainerInsights)
            .value(if on { "enabled" } else { "disabled" })
            .build(),
    )
}

fn ecs_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}
