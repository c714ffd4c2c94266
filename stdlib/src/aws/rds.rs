//! RDS: DB subnet groups and Aurora clusters (with a waiter: a cluster takes
//! minutes to become available, and as long to go away).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_rds::types::Tag;
use aws_sdk_rds::Client;
use drone_engine::provider::{ErrorKind, Observed, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::attrs::{
    self, boolean, int, like_prior, observed, prior_if_same, required, secret, string, strings, Update,
};
use super::error::{invalid, missing, sdk_error};
use super::wait::{self, Poll};
use super::AwsProvider;

/// How long a cluster may take to become available or disappear.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60 * 60);

pub(super) async fn create(
    p: &AwsProvider,
    kind: &str,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    let rds = &p.rds;
    match kind {
        "db_subnet_group" => {
            let name = required(config, "name", "CreateDBSubnetGroup")?;
            let out = rds
                .create_db_subnet_group()
                .db_subnet_group_name(name)
                .db_subnet_group_description(string(config, "description").unwrap_or("managed by drone"))
                .set_subnet_ids(Some(strings(config, "subnet_ids")))
                .set_tags(Some(rds_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error("CreateDBSubnetGroup", e))?;
            let arn = out.db_subnet_group().and_then(|g| g.db_subnet_group_arn()).unwrap_or_default().to_string();
            Ok(Observed { id: name.to_string(), attributes: observed([("arn", Value::String(arn))]) })
        }
        "cluster" => {
            let id = required(config, "identifier", "CreateDBCluster")?;
            let out = rds
                .create_db_cluster()
                .db_cluster_identifier(id)
                .engine(required(config, "engine", "CreateDBCluster")?)
                .set_engine_version(string(config, "engine_version").map(String::from))
                .set_database_name(string(config, "database_name").map(String::from))
                .master_username(required(config, "master_username", "CreateDBCluster")?)
                .set_master_user_password(secret(config, "master_password"))
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
            let arn = out
                .db_cluster()
                .and_then(|c| c.db_cluster_arn())
                .ok_or_else(|| missing("CreateDBCluster", "DBClusterArn"))?
                .to_string();
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
                ]),
            })
        }
        other => Err(invalid("create", format!("unknown RDS type `{other}`"))),
    }
}

pub(super) async fn read(
    p: &AwsProvider,
    kind: &str,
    id: &str,
    prior: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let rds = &p.rds;
    match kind {
        "db_subnet_group" => {
            let out = match rds.describe_db_subnet_groups().db_subnet_group_name(id).send().await {
                Ok(out) => out,
                Err(e) => return gone(sdk_error("DescribeDBSubnetGroups", e)),
            };
            let Some(g) = out.db_subnet_groups().first() else {
                return Ok(None);
            };
            let subnets = g.subnets().iter().filter_map(|s| s.subnet_identifier()).map(Value::str).collect();
            let mut attributes = observed([
                ("name", attrs::text(g.db_subnet_group_name())),
                ("description", attrs::text(g.db_subnet_group_description())),
                ("subnet_ids", like_prior(prior.get("subnet_ids"), subnets, |a, b| a == b)),
            ]);
            // DescribeDBSubnetGroups leaves tags out: a request of their own, when the workflow sets them.
            if let (Some(arn), true) = (g.db_subnet_group_arn(), prior.contains_key("tags")) {
                attributes.insert("tags".into(), tags_of(rds, arn).await?);
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }
        "cluster" => match rds.describe_db_clusters().db_cluster_identifier(id).send().await {
            Ok(out) => Ok(out.db_clusters().first().map(|c| {
                let groups =
                    c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).map(Value::str).collect();
                // A version written as a prefix ("8.0") names the one AWS chose ("8.0.mysql_aurora.3.04.0").
                let version = prior_if_same(
                    prior.get("engine_version"),
                    attrs::text(c.engine_version()),
                    |a, b| matches!((a.as_str(), b.as_str()), (Some(a), Some(b)) if b.starts_with(a)),
                );
                let tags = c.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                Observed {
                    id: id.to_string(),
                    attributes: observed([
                        ("identifier", Value::str(id)),
                        ("engine", attrs::text(c.engine())),
                        ("engine_version", version),
                        ("database_name", attrs::text(c.database_name())),
                        ("master_username", attrs::text(c.master_username())),
                        ("db_subnet_group_name", attrs::text(c.db_subnet_group())),
                        (
                            "vpc_security_group_ids",
                            like_prior(prior.get("vpc_security_group_ids"), groups, |a, b| a == b),
                        ),
                        ("port", attrs::number(c.port())),
                        ("storage_encrypted", c.storage_encrypted().map_or(Value::Null, Value::Bool)),
                        ("backup_retention_period", attrs::number(c.backup_retention_period())),
                        ("deletion_protection", c.deletion_protection().map_or(Value::Null, Value::Bool)),
                        ("tags", attrs::user_tags(tags)),
                    ]),
                }
            })),
            Err(e) => gone(sdk_error("DescribeDBClusters", e)),
        },
        other => Err(invalid("read", format!("unknown RDS type `{other}`"))),
    }
}

/// The user's tags of the RDS resource `arn`.
async fn tags_of(rds: &Client, arn: &str) -> Result<Value, ProviderError> {
    let out = rds
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(|e| sdk_error("ListTagsForResource", e))?;
    Ok(attrs::user_tags(out.tag_list().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))))
}

pub(super) async fn update(p: &AwsProvider, kind: &str, u: &Update<'_>) -> Result<Observed, ProviderError> {
    let rds = &p.rds;
    let arn = string(u.prior, "arn").unwrap_or_default().to_string();
    if u.changed("tags") && !arn.is_empty() {
        let (removed, desired) = super::attrs::tag_changes(u.prior, u.tags);
        if !removed.is_empty() {
            rds.remove_tags_from_resource()
                .resource_name(&arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("RemoveTagsFromResource", e))?;
        }
        rds.add_tags_to_resource()
            .resource_name(&arn)
            .set_tags(Some(rds_tags(&desired)))
            .send()
            .await
            .map_err(|e| sdk_error("AddTagsToResource", e))?;
    }
    match kind {
        "db_subnet_group" => {
            if u.changed("description") || u.changed("subnet_ids") {
                rds.modify_db_subnet_group()
                    .db_subnet_group_name(u.id)
                    .set_db_subnet_group_description(string(u.config, "description").map(String::from))
                    .set_subnet_ids(Some(strings(u.config, "subnet_ids")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyDBSubnetGroup", e))?;
            }
        }
        "cluster" => {
            let settable = [
                "engine_version",
                "master_password",
                "vpc_security_group_ids",
                "port",
                "backup_retention_period",
                "deletion_protection",
            ];
            if settable.iter().any(|a| u.changed(a)) {
                let pick = |name: &str| u.changed(name);
                rds.modify_db_cluster()
                    .db_cluster_identifier(u.id)
                    .apply_immediately(true)
                    .set_engine_version(
                        string(u.config, "engine_version").filter(|_| pick("engine_version")).map(String::from),
                    )
                    .set_master_user_password(secret(u.config, "master_password").filter(|_| pick("master_password")))
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
        }
        other => return Err(invalid("update", format!("unknown RDS type `{other}`"))),
    }
    Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
}

pub(super) async fn delete(p: &AwsProvider, kind: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
    let rds = &p.rds;
    match kind {
        "db_subnet_group" => rds
            .delete_db_subnet_group()
            .db_subnet_group_name(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteDBSubnetGroup", e)),
        "cluster" => {
            let skip = boolean(prior, "skip_final_snapshot").unwrap_or(false);
            let snapshot = (!skip).then(|| {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                format!("{id}-final-{stamp}")
            });
            rds.delete_db_cluster()
                .db_cluster_identifier(id)
                .skip_final_snapshot(skip)
                .set_final_db_snapshot_identifier(snapshot)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteDBCluster", e))?;
            wait_for(rds, id, None).await.map(drop)
        }
        other => Err(invalid("delete", format!("unknown RDS type `{other}`"))),
    }
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

fn gone(e: ProviderError) -> Result<Option<Observed>, ProviderError> {
    if e.kind == ErrorKind::NotFound {
        Ok(None)
    } else {
        Err(e)
    }
}

fn rds_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}
