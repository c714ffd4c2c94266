//! What the EC2 types share through the SDK: tags at creation and in
//! updates, the user's tags read back, and batched reads (one Describe call
//! for many ids, falling back to one at a time when one of them is gone).

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;
use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, Owner, ProviderError, Tagged};
use drone_engine::value::{Attributes, Value};

use async_trait::async_trait;

use crate::aws::attrs::{self, Update};
use crate::aws::error::sdk_error;
use crate::aws::tagging::Tagging;
use crate::aws::{AwsProvider, Ops};

/// An EC2 type: what differs between them. Reads are batched the same way
/// for every one, from `describe`, which answers many ids in one call.
#[async_trait]
pub(super) trait Ec2Type: Send + Sync {
    /// How its ids begin (`vpc-`): tells its tags from other types' in DescribeTags.
    const ID_PREFIX: &'static str;

    /// Creates it (see [`Ops::create`]).
    async fn create(
        &self,
        p: &AwsProvider,
        config: &Attributes,
        tags: &BTreeMap<String, String>,
        _token: &str,
    ) -> Result<Observed, ProviderError>;

    /// The attributes of those of `ids` that exist, by id; `asked` holds the
    /// recorded attributes of each (what the workflow sets).
    async fn describe(
        &self,
        p: &AwsProvider,
        ids: Vec<String>,
        asked: &[(&str, &Attributes)],
    ) -> Result<BTreeMap<String, Attributes>, ProviderError>;

    /// Changes it in place (see [`Ops::update`]); by default only its tags, for the types
    /// every other attribute of which replaces them.
    async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
        crate::aws::tagging::sync(&p.ec2, u.id, u).await?;
        Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
    }

    /// Deletes it (see [`Ops::delete`]).
    async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError>;
}

#[async_trait]
impl<T: Ec2Type> Ops for T {
    async fn create(
        &self,
        p: &AwsProvider,
        config: &Attributes,
        tags: &BTreeMap<String, String>,
        token: &str,
    ) -> Result<Observed, ProviderError> {
        Ec2Type::create(self, p, config, tags, token).await
    }

    async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
        Ok(self.read_many(p, &[(id, prior)]).await?.pop().flatten())
    }

    async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
        Ok(self.find_all(p, f).await?.into_iter().next())
    }

    async fn find_all(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Vec<Found>, ProviderError> {
        let tagged = tagged_with_address(&p.ec2, Self::ID_PREFIX, f).await?;
        if tagged.is_empty() {
            return Ok(Vec::new());
        }
        // Only those that still exist (a deleted NAT gateway stays tagged for a while).
        let empty = Attributes::new();
        let asked: Vec<(&str, &Attributes)> = tagged.keys().map(|id| (id.as_str(), &empty)).collect();
        let existing: Vec<String> =
            read_batched(&asked, |ids| self.describe(p, ids, &[])).await?.into_iter().flatten().map(|o| o.id).collect();
        let mut found: Vec<Found> =
            tagged.into_iter().filter(|(id, _)| existing.contains(id)).map(|(id, owner)| Found { id, owner }).collect();
        found.sort_by_key(|f| f.owner != Owner::This);
        Ok(found)
    }

    async fn tagged(
        &self,
        p: &AwsProvider,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<Tagged>>, ProviderError> {
        let Some(lineage) = tags.get("drone:lineage") else {
            return Ok(None);
        };
        let tagged = tagged_with_lineage(&p.ec2, Self::ID_PREFIX, lineage).await?;
        let empty = Attributes::new();
        let asked: Vec<(&str, &Attributes)> = tagged.iter().map(|(id, _)| (id.as_str(), &empty)).collect();
        let mut existing = Vec::new();
        for chunk in asked.chunks(BATCH) {
            existing.extend(
                read_batched(chunk, |ids| self.describe(p, ids, &[])).await?.into_iter().flatten().map(|o| o.id),
            );
        }
        Ok(Some(
            tagged
                .into_iter()
                .filter(|(id, _)| existing.contains(id))
                .map(|(id, address)| Tagged { address, id })
                .collect(),
        ))
    }

    fn batch_size(&self) -> usize {
        BATCH
    }

    async fn read_many(
        &self,
        p: &AwsProvider,
        asked: &[(&str, &Attributes)],
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        read_batched(asked, |ids| self.describe(p, ids, asked)).await
    }

    async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
        Ec2Type::update(self, p, u).await
    }

    async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
        Ec2Type::delete(self, p, id, prior).await
    }
}

/// The resources of one type (by `prefix`) tagged with `f`'s address, and
/// whose each is by its drone tags: two DescribeTags calls.
async fn tagged_with_address(
    ec2: &Client,
    prefix: &str,
    f: &FindRequest<'_>,
) -> Result<BTreeMap<String, Owner>, ProviderError> {
    const OP: &str = "DescribeTags";
    let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    // Filter values are patterns: `*` and `?` are wildcards on AWS, and moto also reads
    // `[...]` as a class. Each such character becomes `?` (any one), then the exact
    // address is compared here.
    let pattern: String =
        f.address.chars().map(|c| if matches!(c, '[' | ']' | '*' | '?' | '\\') { '?' } else { c }).collect();
    let address = ec2
        .describe_tags()
        .filters(filter("key", "drone:address"))
        .filters(filter("value", &pattern))
        .send()
        .await
        .map_err(|e| sdk_error(OP, e))?;
    let ids: Vec<String> = address
        .tags()
        .iter()
        .filter(|t| t.value() == Some(f.address))
        .filter_map(|t| t.resource_id())
        .filter(|id| id.starts_with(prefix))
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let all = ec2
        .describe_tags()
        .filters(Filter::builder().name("resource-id").set_values(Some(ids.clone())).build())
        .send()
        .await
        .map_err(|e| sdk_error(OP, e))?;
    Ok(ids
        .into_iter()
        .map(|id| {
            let tags = all.tags().iter().filter(|t| t.resource_id() == Some(id.as_str()));
            let owner = attrs::owner(tags.filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))), f.tags);
            (id, owner)
        })
        .collect())
}

/// The resources of one type (by `prefix`) tagged with `lineage`, with the
/// address each is tagged with: `DescribeTags` by lineage (paginated), then
/// by resource id for the addresses, 200 ids per call.
async fn tagged_with_lineage(
    ec2: &Client,
    prefix: &str,
    lineage: &str,
) -> Result<Vec<(String, String)>, ProviderError> {
    const OP: &str = "DescribeTags";
    let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let out = ec2
            .describe_tags()
            .filters(filter("key", "drone:lineage"))
            .filters(filter("value", lineage))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        ids.extend(
            out.tags().iter().filter_map(|t| t.resource_id()).filter(|id| id.starts_with(prefix)).map(String::from),
        );
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let tags = ec2
            .describe_tags()
            .filters(Filter::builder().name("resource-id").set_values(Some(chunk.to_vec())).build())
            .filters(filter("key", "drone:address"))
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        out.extend(tags.tags().iter().filter_map(|t| Some((t.resource_id()?.to_string(), t.value()?.to_string()))));
    }
    Ok(out)
}

/// How many EC2 resources of one type one Describe call reads.
const BATCH: usize = 100;

/// Tags for a create call.
pub(super) fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).set_tags(Some(ec2_tags(tags))).build()
}

fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

#[async_trait]
impl Tagging for Client {
    async fn tag(&self, id: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let tags = Some(ec2_tags(tags));
        self.create_tags().resources(id).set_tags(tags).send().await.map(drop).map_err(|e| sdk_error("CreateTags", e))
    }

    async fn untag(&self, id: &str, keys: Vec<String>) -> Result<(), ProviderError> {
        let keys = keys.iter().map(|k| Tag::builder().key(k).build()).collect();
        self.delete_tags()
            .resources(id)
            .set_tags(Some(keys))
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteTags", e))
    }
}

/// The user's tags among an EC2 resource's.
pub(super) fn tags_of(tags: &[Tag]) -> Value {
    attrs::user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

/// Reads `asked` with `describe`, which answers the attributes of the ids it
/// is given that exist, by id.
async fn read_batched<F, Fut>(
    asked: &[(&str, &Attributes)],
    describe: F,
) -> Result<Vec<Option<Observed>>, ProviderError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<BTreeMap<String, Attributes>, ProviderError>>,
{
    let ids: Vec<String> = asked.iter().map(|(id, _)| id.to_string()).collect();
    let mut found = match describe(ids.clone()).await {
        Ok(found) => found,
        // One id that is gone fails the whole call: then ask one at a time.
        Err(e) if e.kind == ErrorKind::NotFound && ids.len() > 1 => {
            let mut found = BTreeMap::new();
            for id in ids {
                match describe(vec![id]).await {
                    Ok(one) => found.extend(one),
                    Err(e) if e.kind == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            found
        }
        Err(e) if e.kind == ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    Ok(asked
        .iter()
        .map(|(id, _)| found.remove(*id).map(|attributes| Observed { id: id.to_string(), attributes }))
        .collect())
}

/// The recorded attributes of `id` among `asked`.
pub(super) fn prior_of<'a>(asked: &[(&str, &'a Attributes)], id: &str) -> Option<&'a Attributes> {
    asked.iter().find(|(i, _)| *i == id).map(|(_, a)| *a)
}
