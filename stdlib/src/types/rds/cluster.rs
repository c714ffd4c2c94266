//! `aws.rds.cluster`: an Aurora database cluster (with a waiter: a cluster
//! takes minutes to become available, and as long to go away), standalone or a
//! member of an Aurora global database (`global_cluster_identifier`).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.rds.cluster",
    doc: "an Aurora database cluster",
    taggable: true,
    attributes,
    naming: Some("identifier"),
    arns: |s| {
        vec![
            ArnPattern::new("rds", "cluster", format!("arn:aws:rds:{}:{}:cluster:{}", s.region, s.account, s.name)),
            // The global database a secondary joins, or leaves before its deletion.
            ArnPattern::new("rds", "global-cluster", format!("arn:aws:rds::{}:global-cluster:*", s.account)),
            // The administrator's password, read from its secret (`master_password_secret`).
            crate::types::secretsmanager::any_secret(s),
        ]
    },
    actions: &[
        (Create, "rds:CreateDBCluster"),
        (Create, "rds:AddTagsToResource"),
        // Waiting for the cluster to become available.
        (Create, "rds:DescribeDBClusters"),
        (Create, "secretsmanager:GetSecretValue"),
        (Read, "rds:DescribeDBClusters"),
        (Update, "rds:ModifyDBCluster"),
        (Update, "secretsmanager:GetSecretValue"),
        (Update, "rds:AddTagsToResource"),
        (Update, "rds:RemoveTagsFromResource"),
        (Delete, "rds:RemoveFromGlobalCluster"),
        (Delete, "rds:DeleteDBCluster"),
        (Delete, "rds:DescribeDBClusters"),
        (Find, "rds:DescribeDBClusters"),
        (Find, "rds:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("rds", sdk::Cluster),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("identifier", Type::String, "the cluster identifier").replaces(),
        required(
            "engine",
            Type::one_of(&["aurora-mysql", "aurora-postgresql"]),
            "\"aurora-mysql\" or \"aurora-postgresql\"",
        )
        .replaces(),
        optional("engine_version", Type::String, "the engine version (default: the engine's default)"),
        optional("database_name", Type::String, "a database to create in the cluster").replaces(),
        optional(
            "master_username",
            Type::String,
            "the administrator's user name (required, except for a global database's secondary)",
        )
        .replaces(),
        optional("master_password", Type::String, "the administrator's password; use `secret(...)`").sensitive(),
        optional(
            "master_password_secret",
            crate::types::secretsmanager::secret_key_type(),
            "the administrator's password, read from a secret when it is set (what a global database needs)",
        )
        .drone_side(),
        optional(
            "global_cluster_identifier",
            Type::String,
            "the Aurora global database this cluster joins as a read-only secondary",
        )
        .replaces(),
        optional(
            "manage_master_password",
            Type::Bool,
            "AWS generates the administrator's password and keeps it in Secrets Manager (`master_secret_arn`)",
        ),
        optional(
            "serverless_v2",
            serverless_v2_type(),
            "Aurora Serverless v2 capacity of the cluster's `db.serverless` instances",
        ),
        optional("db_subnet_group_name", Type::String, "the DB subnet group (private subnets)").replaces(),
        optional("vpc_security_group_ids", Type::list(Type::String), "security groups of the cluster"),
        optional("port", Type::Number, "the port the database listens on"),
        optional("storage_encrypted", Type::Bool, "whether storage is encrypted at rest").replaces(),
        optional("backup_retention_period", Type::Number, "days automated backups are kept (1 to 35)"),
        optional("deletion_protection", Type::Bool, "whether deletion is refused"),
        optional("skip_final_snapshot", Type::Bool, "skip the final snapshot when deleting (default false)")
            .drone_side(),
        computed("id", Type::String, "the cluster identifier"),
        computed("arn", Type::String, "the cluster's ARN"),
        computed("endpoint", Type::String, "the writer endpoint"),
        computed("reader_endpoint", Type::String, "the reader endpoint"),
        computed(
            "master_secret_arn",
            Type::String,
            "the Secrets Manager secret holding the administrator's password (JSON keys `username`, `password`)",
        ),
    ]
}

/// The object type of a cluster's Serverless v2 capacity.
pub fn serverless_v2_type() -> Type {
    Type::Object(vec![
        field("min_capacity", Type::Number, true, "the least capacity, in ACUs (0 to 256, in steps of 0.5)"),
        field("max_capacity", Type::Number, true, "the most capacity, in ACUs (1 to 256, in steps of 0.5)"),
    ])
}

#[cfg(feature = "rds")]
mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_rds::types::{ServerlessV2ScalingConfiguration, ServerlessV2ScalingConfigurationInfo};
    use aws_sdk_rds::Client;
    use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{found, rds_tags, sync_tags};
    use crate::aws::attrs::{
        self, boolean, int, like_prior, observed, prior_if_same, required, secret, string, strings, Update,
    };
    use crate::aws::error::{missing, sdk_error, unless_gone};
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};

    /// How long a cluster may take to become available or disappear.
    const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60 * 60);

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
            let rds = &p.rds;
            let id = required(config, "identifier", "CreateDBCluster")?;
            let password = match secret_key(config) {
                Some((arn, key)) => Some(crate::types::secretsmanager::sdk::value(p, arn, Some(key)).await?),
                None => secret(config, "master_password"),
            };
            let out = rds
                .create_db_cluster()
                .db_cluster_identifier(id)
                .engine(required(config, "engine", "CreateDBCluster")?)
                .set_engine_version(string(config, "engine_version").map(String::from))
                .set_database_name(string(config, "database_name").map(String::from))
                .set_master_username(string(config, "master_username").map(String::from))
                .set_master_user_password(password)
                .set_global_cluster_identifier(string(config, "global_cluster_identifier").map(String::from))
                .set_manage_master_user_password(boolean(config, "manage_master_password"))
                .set_serverless_v2_scaling_configuration(serverless_v2(config))
                .set_db_subnet_group_name(string(config, "db_subnet_group_name").map(String::from))
                .set_vpc_security_group_ids(
                    config.get("vpc_security_group_ids").map(|_| strings(config, "vpc_security_group_ids")),
                )
                .set_port(int(config, "port"))
                .set_storage_encrypted(boolean(config, "storage_encrypted"))
                .set_backup_retention_period(int(config, "backup_retention_period"))
                .set_deletion_protection(boolean(config, "deletion_protection"))
                .set_tags(Some(rds_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error("CreateDBCluster", e))?;
            let made = out.db_cluster();
            let arn = made
                .and_then(|c| c.db_cluster_arn())
                .ok_or_else(|| missing("CreateDBCluster", "DBClusterArn"))?
                .to_string();
            let secret = made.and_then(|c| c.master_user_secret()).and_then(|s| s.secret_arn());
            let secret = attrs::text(secret);
            let cluster = wait_for(rds, id, Some("available"))
                .await
                .and_then(|c| c.ok_or_else(|| missing("DescribeDBClusters", "the new cluster")))
                .map_err(|e| e.after_create(id))?;
            Ok(Observed {
                id: id.to_string(),
                attributes: observed([
                    ("arn", Value::String(arn)),
                    ("endpoint", Value::str(cluster.0)),
                    ("reader_endpoint", Value::str(cluster.1)),
                    ("master_secret_arn", secret),
                ]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeDBClusters";
            let id = required(f.config, "identifier", OP)?;
            let out = match p.rds.describe_db_clusters().db_cluster_identifier(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            match out.db_clusters().first().and_then(|c| c.db_cluster_arn()) {
                Some(arn) => Ok(Some(found(&p.rds, id, arn, f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.rds.describe_db_clusters().db_cluster_identifier(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeDBClusters", e), None),
            };
            Ok(out.db_clusters().first().map(|c| {
                let groups =
                    c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).map(Value::str).collect();
                // A version written as a prefix ("8.0") names the one AWS chose ("8.0.mysql_aurora.3.04.0").
                let version = prior_if_same(
                    prior.get("engine_version"),
                    attrs::text(c.engine_version()),
                    |a, b| matches!((a.as_str(), b.as_str()), (Some(a), Some(b)) if b.starts_with(a)),
                );
                let tags = c.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                let groups = like_prior(prior.get("vpc_security_group_ids"), groups, |a, b| a == b);
                // A secondary has the administrator its global database's writer has, without naming one.
                let master_username = match prior.get("master_username") {
                    Some(Value::Null) | None if c.global_cluster_identifier().is_some() => Value::Null,
                    _ => attrs::text(c.master_username()),
                };
                // Membership is this attribute's only when the cluster joined as a secondary: the
                // cluster a global database is made from belongs to it through that resource.
                let global = match prior.get("global_cluster_identifier") {
                    None | Some(Value::Null) => Value::Null,
                    Some(_) => c
                        .global_cluster_identifier()
                        .filter(|g| !g.is_empty())
                        .map_or(Value::Null, |g| Value::str(global_identifier(g))),
                };
                Observed {
                    id: id.to_string(),
                    attributes: observed([
                        ("identifier", Value::str(id)),
                        ("engine", attrs::text(c.engine())),
                        ("engine_version", version),
                        ("database_name", attrs::text(c.database_name())),
                        ("master_username", master_username),
                        ("global_cluster_identifier", global),
                        ("db_subnet_group_name", attrs::text(c.db_subnet_group())),
                        ("vpc_security_group_ids", groups),
                        ("port", attrs::number(c.port())),
                        ("storage_encrypted", c.storage_encrypted().map_or(Value::Null, Value::Bool)),
                        ("backup_retention_period", attrs::number(c.backup_retention_period())),
                        ("deletion_protection", c.deletion_protection().map_or(Value::Null, Value::Bool)),
                        ("manage_master_password", Value::Bool(c.master_user_secret().is_some())),
                        ("serverless_v2", serverless_v2_object(c.serverless_v2_scaling_configuration())),
                        ("tags", attrs::user_tags(tags)),
                        ("arn", attrs::text(c.db_cluster_arn())),
                        ("endpoint", attrs::text(c.endpoint())),
                        ("reader_endpoint", attrs::text(c.reader_endpoint())),
                        ("master_secret_arn", attrs::text(c.master_user_secret().and_then(|s| s.secret_arn()))),
                    ]),
                }
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let rds = &p.rds;
            sync_tags(rds, u).await?;
            let settable = [
                "engine_version",
                "master_password",
                "master_password_secret",
                "manage_master_password",
                "serverless_v2",
                "vpc_security_group_ids",
                "port",
                "backup_retention_period",
                "deletion_protection",
            ];
            if settable.iter().any(|a| u.changed(a)) {
                let pick = |name: &str| u.changed(name);
                let password = match secret_key(u.config).filter(|_| pick("master_password_secret")) {
                    Some((arn, key)) => Some(crate::types::secretsmanager::sdk::value(p, arn, Some(key)).await?),
                    None => secret(u.config, "master_password").filter(|_| pick("master_password")),
                };
                rds.modify_db_cluster()
                    .db_cluster_identifier(u.id)
                    .apply_immediately(true)
                    .set_engine_version(
                        string(u.config, "engine_version").filter(|_| pick("engine_version")).map(String::from),
                    )
                    .set_master_user_password(password)
                    .set_manage_master_user_password(
                        boolean(u.config, "manage_master_password").filter(|_| pick("manage_master_password")),
                    )
                    .set_serverless_v2_scaling_configuration(serverless_v2(u.config).filter(|_| pick("serverless_v2")))
                    .set_vpc_security_group_ids(
                        pick("vpc_security_group_ids").then(|| strings(u.config, "vpc_security_group_ids")),
                    )
                    .set_port(int(u.config, "port").filter(|_| pick("port")))
                    .set_backup_retention_period(
                        int(u.config, "backup_retention_period").filter(|_| pick("backup_retention_period")),
                    )
                    .set_deletion_protection(
                        boolean(u.config, "deletion_protection").filter(|_| pick("deletion_protection")),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyDBCluster", e))?;
                wait_for(rds, u.id, Some("available")).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            let skip = boolean(prior, "skip_final_snapshot").unwrap_or(false);
            let snapshot = (!skip).then(|| {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                format!("{id}-final-{stamp}")
            });
            leave_global_cluster(&p.rds, id).await?;
            p.rds
                .delete_db_cluster()
                .db_cluster_identifier(id)
                .skip_final_snapshot(skip)
                .set_final_db_snapshot_identifier(snapshot)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteDBCluster", e))?;
            wait_for(&p.rds, id, None).await.map(drop)
        }
    }

    /// The secret and JSON key `master_password_secret` names, if set.
    fn secret_key(config: &Attributes) -> Option<(&str, &str)> {
        let s = config.get("master_password_secret").and_then(Value::as_map)?;
        let arn = s.get("secret_arn").and_then(Value::as_str)?;
        Some((arn, s.get("key").and_then(Value::as_str).unwrap_or("password")))
    }

    /// The identifier of the global cluster DescribeDBClusters names (an identifier, or an ARN).
    fn global_identifier(given: &str) -> &str {
        given.rsplit(':').next().unwrap_or(given)
    }

    /// Takes cluster `id` out of its global database, if it is in one: AWS deletes no member.
    /// A secondary leaves as a standalone cluster; the last member leaves an empty global database.
    async fn leave_global_cluster(rds: &Client, id: &str) -> Result<(), ProviderError> {
        const OP: &str = "RemoveFromGlobalCluster";
        let out = match rds.describe_db_clusters().db_cluster_identifier(id).send().await {
            Ok(out) => out,
            Err(e) => return unless_gone(sdk_error("DescribeDBClusters", e), ()),
        };
        let Some(cluster) = out.db_clusters().first() else { return Ok(()) };
        let (Some(global), Some(arn)) = (cluster.global_cluster_identifier(), cluster.db_cluster_arn()) else {
            return Ok(());
        };
        let global = global_identifier(global);
        match rds.remove_from_global_cluster().global_cluster_identifier(global).db_cluster_identifier(arn).send().await
        {
            Ok(_) => {}
            Err(e) => unless_gone(sdk_error(OP, e), ())?,
        }
        wait::until(
            "DescribeDBClusters",
            &format!("cluster `{id}` did not leave `{global}`"),
            CLUSTER_TIMEOUT,
            || async {
                match rds.describe_db_clusters().db_cluster_identifier(id).send().await {
                    Ok(out) => Ok(match out.db_clusters().first() {
                        Some(c) if c.global_cluster_identifier().is_some_and(|g| !g.is_empty()) => Poll::Pending,
                        Some(c) if c.status() != Some("available") => Poll::Pending,
                        _ => Poll::Ready(()),
                    }),
                    Err(e) => unless_gone(sdk_error("DescribeDBClusters", e), Poll::Ready(())),
                }
            },
        )
        .await
    }

    /// The Serverless v2 capacity the workflow sets, if any.
    fn serverless_v2(config: &Attributes) -> Option<ServerlessV2ScalingConfiguration> {
        let capacity = config.get("serverless_v2").and_then(Value::as_map)?;
        let acus = |name: &str| capacity.get(name).and_then(Value::as_f64);
        Some(
            ServerlessV2ScalingConfiguration::builder()
                .set_min_capacity(acus("min_capacity"))
                .set_max_capacity(acus("max_capacity"))
                .build(),
        )
    }

    /// Serverless v2 capacity as the workflow writes it; null when the cluster has none.
    fn serverless_v2_object(c: Option<&ServerlessV2ScalingConfigurationInfo>) -> Value {
        let Some(c) = c else { return Value::Null };
        let acus = |n: Option<f64>| n.map_or(Value::Null, Value::Number);
        Value::map(BTreeMap::from([
            ("min_capacity".to_string(), acus(c.min_capacity())),
            ("max_capacity".to_string(), acus(c.max_capacity())),
        ]))
    }

    /// Polls a cluster until it has `status` (returning its endpoints), or until
    /// it is gone when `status` is `None`.
    async fn wait_for(rds: &Client, id: &str, status: Option<&str>) -> Result<Option<(String, String)>, ProviderError> {
        let what = format!("cluster `{id}` did not reach {}", status.unwrap_or("deletion"));
        wait::until("DescribeDBClusters", &what, CLUSTER_TIMEOUT, || async {
            match rds.describe_db_clusters().db_cluster_identifier(id).send().await {
                Ok(out) => match (out.db_clusters().first(), status) {
                    (Some(c), Some(want)) if c.status() == Some(want) => Ok(Poll::Ready(Some((
                        c.endpoint().unwrap_or_default().to_string(),
                        c.reader_endpoint().unwrap_or_default().to_string(),
                    )))),
                    (None, None) => Ok(Poll::Ready(None)),
                    _ => Ok(Poll::Pending),
                },
                Err(e) => {
                    let e = sdk_error("DescribeDBClusters", e);
                    match e.kind {
                        ErrorKind::NotFound if status.is_none() => Ok(Poll::Ready(None)),
                        _ if e.retryable() => Ok(Poll::Pending),
                        _ => Err(e),
                    }
                }
            }
        })
        .await
    }
}
