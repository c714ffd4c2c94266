//! The boundary to the cloud. The engine knows resources only through
//! [`Provider`]; the standard library implements it with the AWS SDK, and
//! scheduler tests implement it in memory.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::value::Attributes;

/// Where a provider will make changes, said before any change is made.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The account id.
    pub account: String,
    /// The region.
    pub region: String,
    /// The endpoint, when not the provider's default.
    pub endpoint: Option<String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {} in {}", self.account, self.region)?;
        if let Some(e) = &self.endpoint {
            write!(f, " via {e}")?;
        }
        Ok(())
    }
}

/// What a provider reports about a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The provider's id for it.
    pub id: String,
    /// Attributes it knows: computed ones after create/update, read-back ones after read.
    pub attributes: Attributes,
}

/// A request to create one resource.
#[derive(Clone, Copy, Debug)]
pub struct CreateRequest<'a> {
    /// The resource type.
    pub type_name: &'a str,
    /// Its address (for messages).
    pub address: &'a str,
    /// Its evaluated configuration (secrets resolved).
    pub config: &'a Attributes,
    /// Tags drone adds (`drone:workflow`, `drone:address`, `drone:lineage`).
    pub tags: &'a BTreeMap<String, String>,
    /// The idempotency token, sent wherever the API takes one: the same for
    /// every attempt of this create, so a repeated request makes nothing new.
    pub token: &'a str,
}

/// A request to look a resource up by its identity: the idempotency token
/// of the create that made it, drone's tags, or its unique name.
#[derive(Clone, Copy, Debug)]
pub struct FindRequest<'a> {
    /// The resource type.
    pub type_name: &'a str,
    /// Its address.
    pub address: &'a str,
    /// The configuration it was (or is to be) created with.
    pub config: &'a Attributes,
    /// The tags drone gives it (`drone:workflow`, `drone:address`, `drone:lineage`).
    pub tags: &'a BTreeMap<String, String>,
    /// The token of the create that may have made it.
    pub token: &'a str,
}

/// A resource found under an address's identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The provider's id for it.
    pub id: String,
    /// Whose it is.
    pub owner: Owner,
}

/// A resource found by its lineage tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Tagged {
    /// The address its `drone:address` tag names.
    pub address: String,
    /// The provider's id for it.
    pub id: String,
}

/// Whose a found resource is, by its tags.
#[derive(Clone, Debug, PartialEq)]
pub enum Owner {
    /// This state's: tagged with its lineage and the address (or made with the token).
    This,
    /// Nobody's that drone knows: found by its unique name, without drone's
    /// tags (a create killed before its tagging call, or made by hand).
    Untagged,
    /// Another workflow's or another state's, as its tags say.
    Other(String),
}

/// A request to change one resource in place.
#[derive(Clone, Copy, Debug)]
pub struct UpdateRequest<'a> {
    /// The resource type.
    pub type_name: &'a str,
    /// Its address.
    pub address: &'a str,
    /// Its id.
    pub id: &'a str,
    /// The recorded attributes.
    pub prior: &'a Attributes,
    /// The new configuration.
    pub config: &'a Attributes,
    /// Names of the attributes that changed.
    pub changed: &'a [String],
    /// Tags drone adds.
    pub tags: &'a BTreeMap<String, String>,
}

/// What kind of failure a provider met; decides retries and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Rate limited: retry with backoff.
    Throttled,
    /// Not consistent yet (e.g. a dependency still being deleted): retry.
    NotReady,
    /// The resource does not exist.
    NotFound,
    /// The service refused the request (validation, limits).
    Rejected,
    /// The identity running drone lacks a permission (see `drone iam`).
    Denied,
    /// The endpoint could not be reached.
    Unreachable,
    /// The provider cannot do this (a missing feature or a bug).
    Unsupported,
    /// The call may or may not have taken effect: a server error, a dropped
    /// connection, a reply that never came. A create is retried only after a
    /// lookup finds nothing.
    Indeterminate,
    /// A resource with the requested unique name (or token) already exists.
    AlreadyExists,
}

/// A failed provider call.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_ref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct ProviderError {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// The API operation, e.g. `CreateVpc`.
    pub operation: String,
    /// The service's error code, e.g. `InvalidSubnet.Range`.
    pub code: Option<String>,
    /// The service's message.
    pub message: String,
    /// The id of a resource the failed create had already made, if any: the
    /// engine records it (tainted) so it is replaced, never leaked.
    pub created: Option<String>,
}

impl ProviderError {
    /// An error without a service code.
    pub fn new(kind: ErrorKind, operation: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError { kind, operation: operation.into(), code: None, message: message.into(), created: None }
    }

    /// Marks the error as happening after resource `id` was created.
    pub fn after_create(mut self, id: &str) -> Self {
        self.created = Some(id.to_string());
        self
    }

    /// Whether retrying the same call may succeed. Never for a create that
    /// already made its resource: calling create again would make a second
    /// one (the engine finishes the first instead). An indeterminate answer
    /// is retryable only for calls that are safe to repeat (reads, deletes,
    /// creates with a token); the apply looks a create up before it repeats it.
    pub fn retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled | ErrorKind::NotReady | ErrorKind::Indeterminate)
            && self.created.is_none()
    }

    /// Whether the call may have taken effect although it failed.
    pub fn indeterminate(&self) -> bool {
        self.kind == ErrorKind::Indeterminate
    }
}

/// A cloud provider instance (one account and region).
#[async_trait]
pub trait Provider: Send + Sync {
    /// Where changes will land; fails fast when the endpoint is unreachable.
    async fn identity(&self) -> Result<Target, ProviderError>;
    /// Creates a resource and reports its id and computed attributes.
    async fn create(&self, request: CreateRequest<'_>) -> Result<Observed, ProviderError>;
    /// Reads a resource back; `None` when it no longer exists.
    async fn read(&self, type_name: &str, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError>;
    /// How long a listing (what [`Provider::find`] looks through) may leave out
    /// a resource of `type_name` just created: crash recovery looks again until
    /// then before it concludes that a create made nothing.
    fn listing_lag(&self, _type_name: &str) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    /// How many resources of `type_name` one [`Provider::read_many`] reads in
    /// one request (1: the type has no batched read).
    fn batch_size(&self, _type_name: &str) -> usize {
        1
    }
    /// Reads several resources of one type back, in the order given; `None`
    /// for each that no longer exists. By default one read after another.
    async fn read_many(
        &self,
        type_name: &str,
        resources: &[(&str, &Attributes)],
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        let mut out = Vec::with_capacity(resources.len());
        for (id, prior) in resources {
            out.push(self.read(type_name, id, prior).await?);
        }
        Ok(out)
    }
    /// Changes a resource in place.
    async fn update(&self, request: UpdateRequest<'_>) -> Result<Observed, ProviderError>;
    /// Looks a resource up by the identity drone gave it (token, tags, or
    /// unique name); `None` when no such resource exists. Used to resolve a
    /// create whose outcome is unknown (a killed run, a lost reply) before it
    /// is repeated, and a name that is already taken.
    async fn find(&self, request: FindRequest<'_>) -> Result<Option<Found>, ProviderError>;
    /// Finds the existing resource a `data` block names by its attributes,
    /// whoever made it; `None` when there is none. A provider refuses types it
    /// can find only by the tags it gives.
    async fn look_up(&self, request: FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
        self.find(request).await
    }
    /// Every resource found under the identity (more than one where a type
    /// has no unique name and duplicates were made), this state's first.
    async fn find_all(&self, request: FindRequest<'_>) -> Result<Vec<Found>, ProviderError> {
        Ok(self.find(request).await?.into_iter().collect())
    }
    /// Every resource of `type_name` carrying the `drone:lineage` of `tags`,
    /// each with the address its `drone:address` tag names, where the API
    /// lists by tag in a few requests; `None` where it cannot (each address
    /// is then looked up with [`Provider::find_all`]).
    async fn tagged(
        &self,
        _type_name: &str,
        _tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<Tagged>>, ProviderError> {
        Ok(None)
    }
    /// Deletes a resource; deleting one that is already gone succeeds.
    async fn delete(&self, type_name: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError>;
}
