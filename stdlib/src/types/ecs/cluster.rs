//! `aws.ecs.cluster`: an ECS cluster that runs tasks and services.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ecs.cluster",
    doc: "an ECS cluster that runs tasks and services",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new("ecs", "cluster", format!("arn:aws:ecs:{}:{}:cluster/{}", s.region, s.account, s.name))]
    },
    actions: &[
        (Create, "ecs:CreateCluster"),
        (Create, "ecs:TagResource"),
        (Read, "ecs:DescribeClusters"),
        (Update, "ecs:UpdateCluster"),
        (Update, "ecs:TagResource"),
        (Update, "ecs:UntagResource"),
        (Delete, "ecs:DeleteCluster"),
        (Find, "ecs:DescribeClusters"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ecs", sdk::Cluster),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the cluster's name").replaces(),
        optional("container_insights", Type::Bool, "whether CloudWatch Container Insights is on"),
        optional(
            "exec_log_group",
            Type::String,
            "the CloudWatch Logs group that records ECS Exec sessions (commands run in containers)",
        ),
        computed("id", Type::String, "the cluster's ARN"),
        computed("arn", Type::String, "the cluster's ARN"),
    ]
}

#[cfg(feature = "ecs")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ecs::types::{
        ClusterConfiguration, ClusterField, ClusterSetting, ClusterSettingName, ExecuteCommandConfiguration,
        ExecuteCommandLogConfiguration, ExecuteCommandLogging,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{ecs_tags, owner_of, tags_of};
    use crate::aws::attrs::{self, boolean, observed, required, string, Update};
    use crate::aws::error::{missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};

    pub struct Cluster;

    #[async_trait]
    impl Ops for Cluster {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            create_cluster(p, config, tags).await
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeClusters";
            let name = required(f.config, "name", OP)?;
            let out = p
                .ecs
                .describe_clusters()
                .clusters(name)
                .include(ClusterField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let active = out.clusters().iter().find(|c| c.status() == Some("ACTIVE"));
            Ok(active.and_then(|c| Some(Found { id: c.cluster_arn()?.to_string(), owner: owner_of(c.tags(), f) })))
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = p
                .ecs
                .describe_clusters()
                .clusters(id)
                .include(ClusterField::Settings)
                .include(ClusterField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeClusters", e))?;
            // Deleted clusters linger as INACTIVE.
            Ok(out.clusters().iter().find(|c| c.status() == Some("ACTIVE")).map(|c| {
                let insights = c
                    .settings()
                    .iter()
                    .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
                    .and_then(|s| s.value())
                    .map_or(Value::Null, |v| Value::Bool(v != "disabled"));
                let exec = c.configuration().and_then(|c| c.execute_command_configuration());
                let exec_log_group = exec
                    .filter(|e| e.logging() == Some(&ExecuteCommandLogging::Override))
                    .and_then(|e| e.log_configuration())
                    .and_then(|l| l.cloud_watch_log_group_name());
                let attributes = observed([
                    ("name", attrs::text(c.cluster_name())),
                    ("container_insights", insights),
                    ("exec_log_group", attrs::text(exec_log_group)),
                    ("tags", tags_of(c.tags())),
                    ("arn", attrs::text(c.cluster_arn())),
                ]);
                Observed { id: id.to_string(), attributes }
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("container_insights") || u.changed("exec_log_group") {
                let setting = insights(u.config).unwrap_or_else(|| {
                    ClusterSetting::builder().name(ClusterSettingName::ContainerInsights).value("disabled").build()
                });
                // UpdateCluster rather than UpdateClusterSettings: the same change, and local endpoints implement it.
                p.ecs
                    .update_cluster()
                    .cluster(u.id)
                    .settings(setting)
                    .configuration(configuration(u.config))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateCluster", e))?;
            }
            tagging::sync(&p.ecs, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ecs.delete_cluster().cluster(id).send().await.map(drop).map_err(|e| sdk_error("DeleteCluster", e))
        }
    }

    async fn create_cluster(
        p: &AwsProvider,
        config: &Attributes,
        tags: &BTreeMap<String, String>,
    ) -> Result<Observed, ProviderError> {
        let out = p
            .ecs
            .create_cluster()
            .cluster_name(required(config, "name", "CreateCluster")?)
            .set_settings(insights(config).map(|s| vec![s]))
            .configuration(configuration(config))
            .set_tags(Some(ecs_tags(tags)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateCluster", e))?;
        let arn = out
            .cluster()
            .and_then(|c| c.cluster_arn())
            .ok_or_else(|| missing("CreateCluster", "ClusterArn"))?
            .to_string();
        Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
    }

    /// How ECS Exec sessions are logged: to `exec_log_group` when set, else as AWS does by default
    /// (to the task definition's log configuration, if any).
    fn configuration(config: &Attributes) -> ClusterConfiguration {
        let exec = match string(config, "exec_log_group") {
            Some(group) => ExecuteCommandConfiguration::builder()
                .logging(ExecuteCommandLogging::Override)
                .log_configuration(
                    ExecuteCommandLogConfiguration::builder()
                        .cloud_watch_log_group_name(group)
                        .cloud_watch_encryption_enabled(false)
                        .build(),
                )
                .build(),
            None => ExecuteCommandConfiguration::builder().logging(ExecuteCommandLogging::Default).build(),
        };
        ClusterConfiguration::builder().execute_command_configuration(exec).build()
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
}
