//! The AWS actions scripts' host functions call (`s3::empty_bucket`, ...),
//! on resources by their provider id. Grants are checked before these run;
//! their calls are journaled (stage `script`) like every provider call.

use std::future::Future;

use drone_engine::provider::ProviderError;
use drone_engine::retry::{with_retries, Retry};

use super::AwsProvider;

impl AwsProvider {
    /// Runs a script's action on the resource `id` of `type_name`: journaled
    /// with stage `script`, and retried as provider calls are when throttled
    /// or not yet consistent, so a busy account does not fail a hook (and
    /// with it the operation it guards). Each action is safe to repeat.
    #[cfg(any(
        feature = "s3",
        feature = "ecr",
        feature = "cloudfront",
        feature = "rds",
        feature = "ecs",
        feature = "efs",
        feature = "applicationautoscaling"
    ))]
    async fn script_action<T, F, Fut>(&self, type_name: &str, id: &str, call: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let retry = Retry::default();
        let work = with_retries(&retry, &|| {}, call);
        super::journal::scoped(self.journal.as_ref(), "script", type_name, Some(id), work, |_| None).await
    }

    /// Deletes every object version and delete marker of `bucket`; returns how many.
    #[cfg(feature = "s3")]
    pub async fn empty_bucket(&self, bucket: &str) -> Result<usize, ProviderError> {
        self.script_action("aws.s3.bucket", bucket, || crate::types::s3::bucket::sdk::empty_bucket(&self.s3, bucket))
            .await
    }

    /// Deletes the object versions `objects` (key, version id) of `bucket`; returns how many.
    #[cfg(feature = "s3")]
    pub async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[(String, Option<String>)],
    ) -> Result<usize, ProviderError> {
        self.script_action("aws.s3.bucket", bucket, || {
            crate::types::s3::bucket::sdk::delete_versions(&self.s3, bucket, objects.to_vec())
        })
        .await
    }

    /// Every object version and delete marker of `bucket`: (key, version id).
    #[cfg(feature = "s3")]
    pub async fn list_object_versions(&self, bucket: &str) -> Result<Vec<(String, Option<String>)>, ProviderError> {
        self.script_action("aws.s3.bucket", bucket, || self.list_object_versions_unjournaled(bucket)).await
    }

    #[cfg(feature = "s3")]
    async fn list_object_versions_unjournaled(
        &self,
        bucket: &str,
    ) -> Result<Vec<(String, Option<String>)>, ProviderError> {
        let mut out = Vec::new();
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| super::sdk_error("ListObjectVersions", e))?;
            out.extend(
                page.versions()
                    .iter()
                    .map(|v| (v.key().unwrap_or_default().to_string(), v.version_id().map(String::from))),
            );
            out.extend(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key().unwrap_or_default().to_string(), m.version_id().map(String::from))),
            );
            if page.is_truncated() != Some(true) {
                return Ok(out);
            }
            key_marker = page.next_key_marker().map(String::from);
            version_marker = page.next_version_id_marker().map(String::from);
        }
    }
}

impl AwsProvider {
    /// Deletes every image of the repository `name`; returns how many.
    #[cfg(feature = "ecr")]
    pub async fn empty_repository(&self, name: &str) -> Result<usize, ProviderError> {
        self.script_action("aws.ecr.repository", name, || self.empty_repository_unjournaled(name)).await
    }

    #[cfg(feature = "ecr")]
    async fn empty_repository_unjournaled(&self, name: &str) -> Result<usize, ProviderError> {
        let mut deleted = 0;
        loop {
            let page = self
                .ecr
                .list_images()
                .repository_name(name)
                .max_results(100)
                .send()
                .await
                .map_err(|e| super::sdk_error("ListImages", e))?;
            let ids = page.image_ids().to_vec();
            if ids.is_empty() {
                return Ok(deleted);
            }
            let out = self
                .ecr
                .batch_delete_image()
                .repository_name(name)
                .set_image_ids(Some(ids.clone()))
                .send()
                .await
                .map_err(|e| super::sdk_error("BatchDeleteImage", e))?;
            // ECR answers 200 and lists what it refused; listing again would loop forever.
            if let Some(refused) = out.failures().first() {
                return Err(ProviderError::new(
                    drone_engine::provider::ErrorKind::Rejected,
                    "BatchDeleteImage",
                    format!(
                        "{} images were not deleted; the first: {}",
                        out.failures().len(),
                        refused.failure_reason().unwrap_or("no reason given")
                    ),
                ));
            }
            deleted += out.image_ids().len();
        }
    }

    /// Invalidates `paths` of the distribution `id`; returns the invalidation's id.
    #[cfg(feature = "cloudfront")]
    pub async fn invalidate(&self, id: &str, paths: &[String]) -> Result<String, ProviderError> {
        // One reference for every attempt: CloudFront answers a repeated one with
        // the invalidation it already made, so a retry never invalidates twice.
        let reference = format!(
            "drone-{}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos()
        );
        self.script_action("aws.cloudfront.distribution", id, || self.invalidate_unjournaled(id, paths, &reference))
            .await
    }

    /// Sends the write paths of the distribution `id` to its failover origin, or back to its first.
    #[cfg(feature = "cloudfront")]
    pub async fn route_writes(&self, id: &str, to_failover: bool) -> Result<serde_json::Value, ProviderError> {
        self.script_action("aws.cloudfront.distribution", id, || async {
            let changed =
                crate::types::cloudfront::distribution::sdk::route_writes(&self.cloudfront, id, to_failover).await?;
            Ok(serde_json::json!({ "changed": changed, "origin": if to_failover { "failover" } else { "primary" } }))
        })
        .await
    }

    #[cfg(feature = "cloudfront")]
    async fn invalidate_unjournaled(
        &self,
        id: &str,
        paths: &[String],
        reference: &str,
    ) -> Result<String, ProviderError> {
        use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
        let invalid = |e: aws_sdk_cloudfront::error::BuildError| {
            ProviderError::new(drone_engine::provider::ErrorKind::Rejected, "CreateInvalidation", e.to_string())
        };
        let paths =
            Paths::builder().quantity(paths.len() as i32).set_items(Some(paths.to_vec())).build().map_err(invalid)?;
        let batch = InvalidationBatch::builder().paths(paths).caller_reference(reference).build().map_err(invalid)?;
        let out = self
            .cloudfront
            .create_invalidation()
            .distribution_id(id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| super::sdk_error("CreateInvalidation", e))?;
        Ok(out.invalidation().map(|i| i.id().to_string()).unwrap_or_default())
    }
}

/// How long a global database's writer may take to move (AWS: minutes).
#[cfg(feature = "rds")]
const WRITER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

#[cfg(feature = "rds")]
impl AwsProvider {
    /// The global database `id` as this provider's region sees it: status, writer and members.
    pub async fn global_cluster(&self, id: &str) -> Result<serde_json::Value, ProviderError> {
        self.script_action("aws.rds.global_cluster", id, || async {
            self.describe_global(id).await.map(|g| summary(&g))
        })
        .await
    }

    /// Moves the writer of `id` to the cluster `to` (an ARN): a failover (with `allow_data_loss`
    /// when the writer's region cannot be reached) or a switchover; returns once `to` writes.
    pub async fn move_writer(
        &self,
        id: &str,
        to: &str,
        failover: bool,
        allow_data_loss: bool,
    ) -> Result<serde_json::Value, ProviderError> {
        // Each attempt looks first: an attempt whose reply was lost may have moved the writer already.
        self.script_action("aws.rds.global_cluster", id, || async {
            let g = self.describe_global(id).await?;
            // Already done, or under way (AWS describes a move in progress with its target).
            if writes(&g, to) || g.failover_state().and_then(|f| f.to_db_cluster_arn()) == Some(to) {
                return Ok(());
            }
            if failover {
                let call =
                    self.rds.failover_global_cluster().global_cluster_identifier(id).target_db_cluster_identifier(to);
                let sent = call.allow_data_loss(allow_data_loss).send().await;
                sent.map(drop).map_err(|e| super::sdk_error("FailoverGlobalCluster", e))
            } else {
                let call = self.rds.switchover_global_cluster().global_cluster_identifier(id);
                let sent = call.target_db_cluster_identifier(to).send().await;
                sent.map(drop).map_err(|e| super::sdk_error("SwitchoverGlobalCluster", e))
            }
        })
        .await?;
        let what = format!("{to} did not become the writer of `{id}`");
        let settled = super::wait::until("DescribeGlobalClusters", &what, WRITER_TIMEOUT, || async {
            let g = self.describe_global(id).await?;
            Ok(if writes(&g, to) && g.status() == Some("available") {
                super::wait::Poll::Ready(g)
            } else {
                super::wait::Poll::Pending
            })
        })
        .await?;
        Ok(summary(&settled))
    }

    /// Takes the cluster `cluster` (an ARN) out of the global database `id`: it writes on its own.
    pub async fn detach(&self, id: &str, cluster: &str) -> Result<serde_json::Value, ProviderError> {
        self.script_action("aws.rds.global_cluster", id, || async {
            let g = self.describe_global(id).await?;
            if !g.global_cluster_members().iter().any(|m| m.db_cluster_arn() == Some(cluster)) {
                return Ok(());
            }
            let call =
                self.rds.remove_from_global_cluster().global_cluster_identifier(id).db_cluster_identifier(cluster);
            call.send().await.map(drop).map_err(|e| super::sdk_error("RemoveFromGlobalCluster", e))
        })
        .await?;
        let what = format!("{cluster} did not leave `{id}`");
        let left = super::wait::until("DescribeGlobalClusters", &what, WRITER_TIMEOUT, || async {
            let g = self.describe_global(id).await?;
            let member = g.global_cluster_members().iter().any(|m| m.db_cluster_arn() == Some(cluster));
            Ok(if member { super::wait::Poll::Pending } else { super::wait::Poll::Ready(g) })
        })
        .await?;
        Ok(summary(&left))
    }

    /// The global database `id`, which a script's action needs to exist.
    async fn describe_global(&self, id: &str) -> Result<aws_sdk_rds::types::GlobalCluster, ProviderError> {
        let found = crate::types::rds::global_cluster::sdk::describe(&self.rds, id).await?;
        found.ok_or_else(|| super::error::missing("DescribeGlobalClusters", &format!("the global database `{id}`")))
    }
}

/// Whether the cluster `arn` is the writer of `g`.
#[cfg(feature = "rds")]
fn writes(g: &aws_sdk_rds::types::GlobalCluster, arn: &str) -> bool {
    g.global_cluster_members().iter().any(|m| m.db_cluster_arn() == Some(arn) && m.is_writer() == Some(true))
}

/// A global database as a script sees it.
#[cfg(feature = "rds")]
fn summary(g: &aws_sdk_rds::types::GlobalCluster) -> serde_json::Value {
    let region = |arn: &str| arn.split(':').nth(3).unwrap_or_default().to_string();
    let members: Vec<serde_json::Value> = g
        .global_cluster_members()
        .iter()
        .map(|m| {
            let arn = m.db_cluster_arn().unwrap_or_default();
            serde_json::json!({ "cluster_arn": arn, "region": region(arn), "writer": m.is_writer() == Some(true) })
        })
        .collect();
    let writer =
        g.global_cluster_members().iter().find(|m| m.is_writer() == Some(true)).and_then(|m| m.db_cluster_arn());
    serde_json::json!({
        "status": g.status().unwrap_or_default(),
        "writer": writer,
        "writer_region": writer.map(region),
        "members": members,
    })
}

#[cfg(feature = "efs")]
impl AwsProvider {
    /// The replication whose source is `source` (a file system id), as the region of the file
    /// system `through` (an ARN, either side's) sees it; null when that side has none.
    pub async fn efs_replication(&self, source: &str, through: &str) -> Result<serde_json::Value, ProviderError> {
        use crate::types::efs::replication_configuration::sdk;
        let fs = sdk::file_system(self, through, "DescribeReplicationConfigurations")?;
        self.script_action("aws.efs.replication_configuration", source, || async {
            let found = sdk::describe(&fs).await?.filter(|r| r.source_file_system_id() == source);
            Ok(found.map_or(serde_json::Value::Null, |r| {
                let d = r.destinations().first();
                serde_json::json!({
                    "source_file_system_arn": r.source_file_system_arn(),
                    "destination_file_system_arn": sdk::destination_arn(&r),
                    "status": d.map(|d| d.status().as_str()),
                    "last_replicated": d.and_then(|d| d.last_replicated_timestamp()).map(|t| t.to_string()),
                })
            }))
        })
        .await
    }

    /// Ends the replication whose source is `source`, asking in the region of the file system
    /// `through` (an ARN); with `local_only`, that region's side only (the other is down).
    /// Returns whether there was one to end.
    pub async fn stop_replication(
        &self,
        source: &str,
        through: &str,
        local_only: bool,
    ) -> Result<serde_json::Value, ProviderError> {
        use crate::types::efs::replication_configuration::sdk;
        let fs = sdk::file_system(self, through, "DeleteReplicationConfiguration")?;
        self.script_action("aws.efs.replication_configuration", source, || async {
            let found = sdk::describe(&fs).await?.is_some_and(|r| r.source_file_system_id() == source);
            if found {
                sdk::delete(&fs, source, local_only).await?;
            }
            Ok(serde_json::json!({ "stopped": found, "region": fs.region }))
        })
        .await
    }
}

#[cfg(feature = "ecs")]
impl AwsProvider {
    /// Sets the desired task count of the service `name` in `cluster`; returns desired and running.
    pub async fn scale_service(
        &self,
        cluster: &str,
        name: &str,
        count: u32,
    ) -> Result<serde_json::Value, ProviderError> {
        let count = i32::try_from(count).unwrap_or(i32::MAX);
        self.script_action("aws.ecs.service", name, || async {
            let out = self.ecs.update_service().cluster(cluster).service(name).desired_count(count).send().await;
            let out = out.map_err(|e| super::sdk_error("UpdateService", e))?;
            let service = out.service();
            Ok(serde_json::json!({
                "desired": service.map_or(count, |s| s.desired_count()),
                "running": service.map_or(0, |s| s.running_count()),
            }))
        })
        .await
    }
}

#[cfg(feature = "applicationautoscaling")]
impl AwsProvider {
    /// Sets the least and most capacity of a scalable target.
    pub async fn set_capacity(
        &self,
        namespace: &str,
        resource_id: &str,
        dimension: &str,
        (min, max): (u32, u32),
    ) -> Result<serde_json::Value, ProviderError> {
        use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
        let (least, most) = (i32::try_from(min).unwrap_or(i32::MAX), i32::try_from(max).unwrap_or(i32::MAX));
        self.script_action("aws.applicationautoscaling.scalable_target", resource_id, || async {
            let call = self
                .applicationautoscaling
                .register_scalable_target()
                .service_namespace(ServiceNamespace::from(namespace))
                .resource_id(resource_id)
                .scalable_dimension(ScalableDimension::from(dimension))
                .min_capacity(least)
                .max_capacity(most);
            call.send().await.map_err(|e| super::sdk_error("RegisterScalableTarget", e))?;
            Ok(serde_json::json!({ "min": min, "max": max }))
        })
        .await
    }
}
