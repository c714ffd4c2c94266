//! What a resource type does through the SDK. Each type implements [`Ops`] in
//! its own module (`crate::types`); the provider dispatches to it through
//! the registry, so no list of types is spelled out here.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drone_engine::provider::{FindRequest, Found, Observed, ProviderError, Tagged};
use drone_engine::value::Attributes;

use super::attrs::Update;
use super::AwsProvider;

/// One resource type's create, read, update and delete.
#[async_trait]
pub(crate) trait Ops: Send + Sync {
    /// Creates it from `config`, tagged with `tags` (in the create call
    /// wherever the API takes them), sending `token` wherever the API takes
    /// an idempotency token; reports its id and computed attributes.
    async fn create(
        &self,
        p: &AwsProvider,
        config: &Attributes,
        tags: &BTreeMap<String, String>,
        token: &str,
    ) -> Result<Observed, ProviderError>;

    /// Looks it up by the identity drone gave it (token, drone's tags, or
    /// its unique name) and says whose it is; `None` when there is none.
    async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError>;

    /// Every resource of the type with the lineage of `tags`, where the API lists by tag cheaply.
    async fn tagged(
        &self,
        _p: &AwsProvider,
        _tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<Tagged>>, ProviderError> {
        Ok(None)
    }

    /// Every resource found under the identity (types without a unique name can hold duplicates).
    async fn find_all(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Vec<Found>, ProviderError> {
        Ok(self.find(p, f).await?.into_iter().collect())
    }

    /// Reads every attribute the workflow sets back, in the workflow's form; `None` when gone.
    async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError>;

    /// How many resources one [`Ops::read_many`] reads in one request.
    fn batch_size(&self) -> usize {
        1
    }

    /// Reads several back, in the order asked.
    async fn read_many(
        &self,
        p: &AwsProvider,
        asked: &[(&str, &Attributes)],
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::with_capacity(asked.len());
        for (id, prior) in asked {
            // Gone in any of its calls is gone (see `AwsProvider::read`).
            out.push(self.read(p, id, prior).await.or_else(|e| crate::aws::error::unless_gone(e, None))?);
        }
        Ok(out)
    }

    /// Changes it in place.
    async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError>;

    /// Deletes it; one already gone is deleted.
    async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError>;
}

/// The configuration override for one call the SDK must not repeat on its
/// own: a create without an idempotency token, or whose token an endpoint
/// may ignore (moto ignores EC2's). Its answer lost, the engine looks the
/// resource up before it tries again (`drone_engine::resolve`).
macro_rules! once {
    ($sdk:ident) => {
        $sdk::config::Builder::default().retry_config(aws_smithy_types::retry::RetryConfig::disabled())
    };
}
pub(crate) use once;
