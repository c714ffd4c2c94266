//! Tags changed in place, the same way for every service: each service says
//! how it adds and removes tags ([`Tagging`], implemented on its client
//! beside its types), and [`sync`] decides what to add and remove.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drone_engine::provider::ProviderError;

use super::attrs::{self, Update};

/// One service's tagging calls, for a resource addressed as that service's
/// tagging API addresses it (an id, an ARN or a name).
#[async_trait]
pub(crate) trait Tagging: Sync {
    /// Adds `tags`, overwriting the values of keys it already has.
    async fn tag(&self, resource: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError>;

    /// Removes the tags with these keys.
    async fn untag(&self, resource: &str, keys: Vec<String>) -> Result<(), ProviderError>;
}

/// Makes `resource`'s tags `u.tags` when the workflow changed them, removing
/// those it dropped (drone's own tags are among `u.tags`, so never removed).
pub(crate) async fn sync(service: &impl Tagging, resource: &str, u: &Update<'_>) -> Result<(), ProviderError> {
    if !u.changed("tags") {
        return Ok(());
    }
    let (removed, desired) = attrs::tag_changes(u.prior, u.tags);
    if !removed.is_empty() {
        service.untag(resource, removed).await?;
    }
    if !desired.is_empty() {
        service.tag(resource, &desired).await?;
    }
    Ok(())
}
