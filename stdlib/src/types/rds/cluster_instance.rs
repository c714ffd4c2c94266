//! `aws.rds.cluster_instance`: one of an Aurora cluster's DB instances, its
//! compute (a cluster without one stores data but answers no query). The
//! first made is the writer; the others are readers, promoted in the order of
//! their `promotion_tier` when the writer fails.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.rds.cluster_instance",
    doc: "a DB instance of an Aurora cluster: its compute (writer or reader)",
    taggable: true,
    attributes,
    naming: Some("identifier"),
    arns: |s| vec![ArnPattern::new("rds", "db", format!("arn:aws:rds:{}:{}:db:{}", s.region, s.account, s.name))],
    actions: &[
        (Create, "rds:CreateDBInstance"),
        (Create, "rds:AddTagsToResource"),
        // Waiting for the instance to become available.
        (Create, "rds:DescribeDBInstances"),
        (Read, "rds:DescribeDBInstances"),
        (Update, "rds:ModifyDBInstance"),
        (Update, "rds:DescribeDBInstances"),
        (Update, "rds:AddTagsToResource"),
        (Update, "rds:RemoveTagsFromResource"),
        (Delete, "rds:DeleteDBInstance"),
        (Delete, "rds:DescribeDBInstances"),
        (Find, "rds:DescribeDBInstances"),
        (Find, "rds:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("rds", sdk::ClusterInstance),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("identifier", Type::String, "the instance identifier").replaces(),
        required("cluster_identifier", Type::String, "the cluster it serves").replaces(),
        required(
            "engine",
            Type::one_of(&["aurora-mysql", "aurora-postgresql"]),
            "the cluster's engine, \"aurora-mysql\" or \"aurora-postgresql\"",
        )
        .replaces(),
        required(
            "instance_class",
            Type::String,
            "the instance class: \"db.serverless\" (capacity from the cluster's `serverless_v2`) or e.g. \"db.r6g.large\"",
        ),
        optional("availability_zone", Type::String, "the zone it runs in (default: one AWS picks)").replaces(),
        optional("promotion_tier", Type::Number, "the order readers are promoted to writer, 0 first (0 to 15)"),
        computed("id", Type::String, "the instance identifier"),
        computed("arn", Type::String, "the instance's ARN"),
        computed("endpoint", Type::String, "the instance's own endpoint"),
    ]
}

#[cfg(feature = "rds")]
mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_rds::types::DbInstance;
    use aws_sdk_rds::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{found, rds_tags, sync_tags};
    use crate::aws::attrs::{self, int, observed, required, string, Update};
    use crate::aws::error::{missing, sdk_error, unless_gone};
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};

    /// How long an instance may take to become available or disappear (AWS: about ten minutes).
    const INSTANCE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

    pub struct ClusterInstance;

    #[async_trait]
    impl Ops for ClusterInstance {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateDBInstance";
            let id = required(config, "identifier", OP)?;
            p.rds
                .create_db_instance()
                .db_instance_identifier(id)
                .db_cluster_identifier(required(config, "cluster_identifier", OP)?)
                .engine(required(config, "engine", OP)?)
                .db_instance_class(required(config, "instance_class", OP)?)
                .set_availability_zone(string(config, "availability_zone").map(String::from))
                .set_promotion_tier(int(config, "promotion_tier"))
                .set_tags(Some(rds_tags(tags)))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_rds))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let instance = wait_for(&p.rds, id, Some("available"))
                .await
                .and_then(|i| i.ok_or_else(|| missing("DescribeDBInstances", "the new instance")))
                .map_err(|e| e.after_create(id))?;
            Ok(Observed { id: id.to_string(), attributes: computed(&instance) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let id = required(f.config, "identifier", "DescribeDBInstances")?;
            match describe(&p.rds, id).await? {
                Some(i) => Ok(Some(found(&p.rds, id, i.db_instance_arn().unwrap_or_default(), f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            Ok(describe(&p.rds, id).await?.map(|i| {
                let tags = i.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                let mut attributes = observed([
                    ("identifier", Value::str(id)),
                    ("cluster_identifier", attrs::text(i.db_cluster_identifier())),
                    ("engine", attrs::text(i.engine())),
                    ("instance_class", attrs::text(i.db_instance_class())),
                    ("availability_zone", attrs::text(i.availability_zone())),
                    ("promotion_tier", attrs::number(i.promotion_tier())),
                    ("tags", attrs::user_tags(tags)),
                ]);
                attributes.extend(computed(&i));
                Observed { id: id.to_string(), attributes }
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            sync_tags(&p.rds, u).await?;
            if u.changed("instance_class") || u.changed("promotion_tier") {
                p.rds
                    .modify_db_instance()
                    .db_instance_identifier(u.id)
                    .apply_immediately(true)
                    .set_db_instance_class(
                        string(u.config, "instance_class").filter(|_| u.changed("instance_class")).map(String::from),
                    )
                    .set_promotion_tier(int(u.config, "promotion_tier").filter(|_| u.changed("promotion_tier")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyDBInstance", e))?;
                wait_for(&p.rds, u.id, Some("available")).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            // An Aurora instance keeps no data of its own: its cluster's final snapshot is the one that counts.
            p.rds
                .delete_db_instance()
                .db_instance_identifier(id)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteDBInstance", e))?;
            wait_for(&p.rds, id, None).await.map(drop)
        }
    }

    /// What AWS computes of an instance.
    fn computed(i: &DbInstance) -> Attributes {
        observed([
            ("arn", attrs::text(i.db_instance_arn())),
            ("endpoint", attrs::text(i.endpoint().and_then(|e| e.address()))),
        ])
    }

    /// The instance `id`, or none when there is none.
    async fn describe(rds: &Client, id: &str) -> Result<Option<DbInstance>, ProviderError> {
        match rds.describe_db_instances().db_instance_identifier(id).send().await {
            Ok(out) => Ok(out.db_instances().first().cloned()),
            Err(e) => unless_gone(sdk_error("DescribeDBInstances", e), None),
        }
    }

    /// Polls an instance until it has `status`, or until it is gone when `status` is `None`.
    async fn wait_for(rds: &Client, id: &str, status: Option<&str>) -> Result<Option<DbInstance>, ProviderError> {
        let what = format!("DB instance `{id}` did not reach {}", status.unwrap_or("deletion"));
        // `describe` answers a missing instance as none; `until` polls again after a retryable error.
        wait::until("DescribeDBInstances", &what, INSTANCE_TIMEOUT, || async {
            Ok(match (describe(rds, id).await?, status) {
                (Some(i), Some(want)) if i.db_instance_status() == Some(want) => Poll::Ready(Some(i)),
                (None, None) => Poll::Ready(None),
                _ => Poll::Pending,
            })
        })
        .await
    }
}
