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
    #[cfg(any(feature = "s3", feature = "ecr", feature = "cloudfront"))]
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
