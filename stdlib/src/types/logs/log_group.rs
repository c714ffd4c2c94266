//! `aws.logs.log_group`: a CloudWatch Logs log group.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.logs.log_group",
    doc: "a CloudWatch Logs log group",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new(
            "logs",
            "log-group",
            format!("arn:aws:logs:{}:{}:log-group:{}", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "logs:CreateLogGroup"),
        (Create, "logs:TagResource"),
        (Create, "logs:PutRetentionPolicy"),
        (Read, "logs:DescribeLogGroups"),
        (Read, "logs:ListTagsForResource"),
        (Update, "logs:PutRetentionPolicy"),
        (Update, "logs:DeleteRetentionPolicy"),
        (Update, "logs:TagResource"),
        (Update, "logs:UntagResource"),
        (Delete, "logs:DeleteLogGroup"),
        (Find, "logs:DescribeLogGroups"),
        (Find, "logs:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("logs", sdk::LogGroup),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the log group's name, e.g. \"/ecs/ghost\"").replaces(),
        optional("retention_in_days", Type::Number, "days events are kept (1 to 3653; unset: forever)"),
        computed("id", Type::String, "the log group's name"),
        computed("arn", Type::String, "the log group's ARN"),
    ]
}

#[cfg(feature = "logs")]
mod sdk {
    use std::collections::{BTreeMap, HashMap};

    use async_trait::async_trait;
    use aws_sdk_cloudwatchlogs::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{int, number, observed, required, user_tags, Update};
    use crate::aws::error::sdk_error;
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    /// The log group's ARN, as tagging calls take it (without DescribeLogGroups' trailing `:*`).
    async fn arn(p: &AwsProvider, name: &str) -> Result<String, ProviderError> {
        Ok(format!("arn:aws:logs:{}:{}:log-group:{name}", p.region()?, p.account().await?))
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags = Some(tags.clone().into_iter().collect());
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

    async fn put_retention(p: &AwsProvider, name: &str, days: i32) -> Result<(), ProviderError> {
        p.logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("PutRetentionPolicy", e))
    }

    /// The type's operations.
    pub struct LogGroup;

    #[async_trait]
    impl Ops for LogGroup {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateLogGroup";
            let name = required(config, "name", OP)?;
            let tags: HashMap<String, String> = tags.clone().into_iter().collect();
            p.logs
                .create_log_group()
                .log_group_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            if let Some(days) = int(config, "retention_in_days") {
                put_retention(p, name, days).await.map_err(|e| e.after_create(name))?;
            }
            let arn = arn(p, name).await.map_err(|e| e.after_create(name))?;
            Ok(Observed { id: name.to_string(), attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "DescribeLogGroups")?;
            let out = p
                .logs
                .describe_log_groups()
                .log_group_name_prefix(name)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeLogGroups", e))?;
            if !out.log_groups().iter().any(|g| g.log_group_name() == Some(name)) {
                return Ok(None);
            }
            let tags = p
                .logs
                .list_tags_for_resource()
                .resource_arn(arn(p, name).await?)
                .send()
                .await
                .map_err(|e| sdk_error("ListTagsForResource", e))?;
            let pairs = tags.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()));
            Ok(Some(Found { id: name.to_string(), owner: crate::aws::attrs::owner(pairs, f.tags) }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = p
                .logs
                .describe_log_groups()
                .log_group_name_prefix(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeLogGroups", e))?;
            // A prefix match: `/ecs/ghost` also finds `/ecs/ghost-admin`.
            let Some(group) = out.log_groups().iter().find(|g| g.log_group_name() == Some(id)) else {
                return Ok(None);
            };
            let mut attributes = observed([
                ("name", Value::str(id)),
                ("retention_in_days", number(group.retention_in_days())),
                ("arn", Value::String(arn(p, id).await?)),
            ]);
            // Tags are a request of their own: read when the workflow sets them.
            if prior.contains_key("tags") {
                let tags = p
                    .logs
                    .list_tags_for_resource()
                    .resource_arn(arn(p, id).await?)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForResource", e))?;
                let pairs = tags.tags().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()));
                attributes.insert("tags".into(), user_tags(pairs));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("retention_in_days") {
                match int(u.config, "retention_in_days") {
                    Some(days) => put_retention(p, u.id, days).await?,
                    None => p
                        .logs
                        .delete_retention_policy()
                        .log_group_name(u.id)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|e| sdk_error("DeleteRetentionPolicy", e))?,
                }
            }
            if u.changed("tags") {
                tagging::sync(&p.logs, &arn(p, u.id).await?, u).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            p.logs
                .delete_log_group()
                .log_group_name(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteLogGroup", e))
        }
    }
}
