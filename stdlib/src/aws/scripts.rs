//! The AWS actions scripts' host functions call (`s3::empty_bucket`, ...),
//! on resources by their provider id. Grants are checked before these run.

use drone_engine::provider::ProviderError;

use super::AwsProvider;

impl AwsProvider {
    /// Deletes every object version and delete marker of `bucket`; returns how many.
    #[cfg(feature = "s3")]
    pub async fn empty_bucket(&self, bucket: &str) -> Result<usize, ProviderError> {
        crate::types::s3::bucket::sdk::empty_bucket(&self.s3, bucket).await
    }

    /// Every object version and delete marker of `bucket`: (key, version id).
    #[cfg(feature = "s3")]
    pub async fn list_object_versions(&self, bucket: &str) -> Result<Vec<(String, Option<String>)>, ProviderError> {
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
