//! `aws.s3.bucket`: an S3 bucket.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.s3.bucket",
    doc: "an S3 bucket",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![
            ArnPattern::new("s3", "bucket", format!("arn:aws:s3:::{}", s.name)),
            ArnPattern::new("s3", "object", format!("arn:aws:s3:::{}/*", s.name)),
        ]
    },
    actions: &[
        (Create, "s3:CreateBucket"),
        (Create, "s3:PutBucketTagging"),
        (Create, "s3:PutBucketVersioning"),
        (Create, "s3:PutEncryptionConfiguration"),
        (Create, "s3:PutBucketPublicAccessBlock"),
        (Create, "s3:PutBucketPolicy"),
        (Create, "s3:PutLifecycleConfiguration"),
        (Create, "s3:PutReplicationConfiguration"),
        (Read, "s3:ListBucket"),
        (Read, "s3:GetLifecycleConfiguration"),
        (Read, "s3:GetBucketVersioning"),
        (Read, "s3:GetEncryptionConfiguration"),
        (Read, "s3:GetBucketPublicAccessBlock"),
        (Read, "s3:GetBucketPolicy"),
        (Read, "s3:GetBucketTagging"),
        (Read, "s3:GetReplicationConfiguration"),
        (Update, "s3:PutBucketTagging"),
        (Update, "s3:PutBucketVersioning"),
        (Update, "s3:PutEncryptionConfiguration"),
        (Update, "s3:PutBucketPublicAccessBlock"),
        (Update, "s3:PutBucketPolicy"),
        (Update, "s3:DeleteBucketPolicy"),
        (Update, "s3:PutLifecycleConfiguration"),
        // Also what removing it takes (DeleteBucketReplication).
        (Update, "s3:PutReplicationConfiguration"),
        (Delete, "s3:DeleteBucket"),
        // Emptying a bucket with `force_destroy`.
        (Delete, "s3:ListBucketVersions"),
        (Delete, "s3:DeleteObject"),
        (Delete, "s3:DeleteObjectVersion"),
        (Find, "s3:ListBucket"),
        (Find, "s3:GetBucketTagging"),
    ],
    // The role S3 replicates with (`replication.role`).
    passes_roles_to: &["s3.amazonaws.com"],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("s3", sdk::Bucket),
};

/// The object type of an S3 public access block.
pub fn public_access_block_type() -> Type {
    Type::Object(vec![
        field("block_public_acls", Type::Bool, false, "reject requests that add public ACLs"),
        field("ignore_public_acls", Type::Bool, false, "ignore public ACLs on the bucket and its objects"),
        field("block_public_policy", Type::Bool, false, "reject bucket policies that grant public access"),
        field("restrict_public_buckets", Type::Bool, false, "restrict access to buckets with public policies"),
    ])
}

/// The object type of a bucket's replication to another bucket.
pub fn replication_type() -> Type {
    Type::Object(vec![
        field("role", Type::String, true, "the ARN of the role S3 assumes to copy objects"),
        field(
            "destination",
            Type::String,
            true,
            "the ARN of the bucket objects are copied to (versioned, usually in another region)",
        ),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the globally unique bucket name").replaces(),
        optional("versioning", Type::Bool, "whether object versions are kept"),
        optional("encryption", Type::one_of(&["AES256", "aws:kms"]), "default encryption: \"AES256\" or \"aws:kms\""),
        optional("kms_key_id", Type::String, "the KMS key for \"aws:kms\" encryption"),
        optional("public_access_block", public_access_block_type(), "the bucket's public access block flags"),
        optional(
            "expiration_days",
            Type::Number,
            "days after which objects, and versions no longer current, are deleted (a lifecycle rule)",
        ),
        optional(
            "replication",
            replication_type(),
            "copy every new object version to another bucket (versioning on in both; deletions are not copied, so the copy survives a mistake here)",
        ),
        optional("force_destroy", Type::Bool, "delete every object version when the bucket is deleted").drone_side(),
        optional("policy", Type::Json, "the bucket policy document").guarded(),
        computed("id", Type::String, "the bucket name"),
        computed("arn", Type::String, "the bucket's ARN").derived("arn:aws:s3:::{name}"),
    ]
}

#[cfg(feature = "s3")]
pub(crate) mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;

    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
        Delete, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination, ExpirationStatus,
        LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration, ObjectIdentifier,
        PublicAccessBlockConfiguration, ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter,
        ReplicationRuleStatus, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule, Tag, Tagging, VersioningConfiguration,
    };
    use aws_sdk_s3::Client;
    use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{
        self, boolean, document, int, observed, present, prior_if_same, required, same_document, string, Update,
    };
    use crate::aws::error::{classify, invalid, sdk_error};
    use crate::aws::{AwsProvider, Ops};

    /// `None` when S3 says a bucket setting is not configured, else the error.
    fn unset<T>(e: ProviderError) -> Result<Option<T>, ProviderError> {
        const NOT_CONFIGURED: [&str; 6] = [
            "ServerSideEncryptionConfigurationNotFoundError",
            "ReplicationConfigurationNotFoundError",
            "NoSuchLifecycleConfiguration",
            "NoSuchPublicAccessBlockConfiguration",
            "NoSuchBucketPolicy",
            "NoSuchTagSet",
        ];
        match e.code.as_deref() {
            Some(code) if NOT_CONFIGURED.contains(&code) => Ok(None),
            _ => Err(e),
        }
    }

    /// Whether two public access blocks set the same flags (a flag left out is off).
    fn same_flags(a: &Value, b: &Value) -> bool {
        let flags = |v: &Value| -> Option<[bool; 4]> {
            let m = v.as_map()?;
            let f = |k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(false);
            Some([
                f("block_public_acls"),
                f("ignore_public_acls"),
                f("block_public_policy"),
                f("restrict_public_buckets"),
            ])
        };
        flags(a).is_some() && flags(a) == flags(b)
    }

    async fn put_policy(s3: &Client, bucket: &str, policy: String) -> Result<(), ProviderError> {
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(policy)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("PutBucketPolicy", e))
    }

    /// Deletes every object version and delete marker, a page at a time;
    /// returns how many it deleted.
    pub(crate) async fn empty_bucket(s3: &Client, bucket: &str) -> Result<usize, ProviderError> {
        let mut deleted = 0;
        loop {
            let page = s3
                .list_object_versions()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| sdk_error("ListObjectVersions", e))?;
            let mut ids = Vec::new();
            for v in page.versions() {
                ids.push((v.key().unwrap_or_default().to_string(), v.version_id().map(String::from)));
            }
            for m in page.delete_markers() {
                ids.push((m.key().unwrap_or_default().to_string(), m.version_id().map(String::from)));
            }
            if ids.is_empty() {
                return Ok(deleted);
            }
            deleted += delete_versions(s3, bucket, ids).await?;
        }
    }

    /// Deletes the listed object versions (a key alone deletes its current
    /// version, or adds a delete marker where versions are kept), a thousand
    /// per request; returns how many it deleted.
    pub(crate) async fn delete_versions(
        s3: &Client,
        bucket: &str,
        ids: Vec<(String, Option<String>)>,
    ) -> Result<usize, ProviderError> {
        let count = ids.len();
        for batch in ids.chunks(1000) {
            let objects = batch
                .iter()
                .map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(version.clone())
                        .build()
                        .map_err(|e| invalid("DeleteObjects", e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| invalid("DeleteObjects", e.to_string()))?;
            let out = s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", e))?;
            // S3 answers 200 and lists the objects it refused; listing again would loop forever.
            if let Some(refused) = out.errors().first() {
                let code = refused.code().unwrap_or_default();
                return Err(ProviderError {
                    code: Some(code.to_string()),
                    ..ProviderError::new(
                        classify(code),
                        "DeleteObjects",
                        format!(
                            "{} of the objects were not deleted; the first, `{}`: {}",
                            out.errors().len(),
                            refused.key().unwrap_or_default(),
                            refused.message().unwrap_or(code)
                        ),
                    )
                });
            }
        }
        Ok(count)
    }

    async fn put_tags(s3: &Client, bucket: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
        let set = tags
            .iter()
            .map(|(k, v)| {
                Tag::builder().key(k).value(v).build().map_err(|e| invalid("PutBucketTagging", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(set))
            .build()
            .map_err(|e| invalid("PutBucketTagging", e.to_string()))?;
        s3.put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("PutBucketTagging", e))
    }

    async fn put_versioning(s3: &Client, bucket: &str, on: bool) -> Result<(), ProviderError> {
        let status = if on { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
        s3.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("PutBucketVersioning", e))
    }

    async fn put_encryption(s3: &Client, bucket: &str, config: &Attributes) -> Result<(), ProviderError> {
        let op = "PutBucketEncryption";
        let algorithm = match string(config, "encryption") {
            Some("AES256") => ServerSideEncryption::Aes256,
            Some("aws:kms") => ServerSideEncryption::AwsKms,
            other => return Err(invalid(op, format!("encryption must be \"AES256\" or \"aws:kms\", not {other:?}"))),
        };
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(algorithm)
            .set_kms_master_key_id(string(config, "kms_key_id").map(String::from))
            .build()
            .map_err(|e| invalid(op, e.to_string()))?;
        let rules = ServerSideEncryptionConfiguration::builder()
            .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build())
            .build()
            .map_err(|e| invalid(op, e.to_string()))?;
        s3.put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(rules)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error(op, e))
    }

    /// The rule `expiration_days` writes: one, for the whole bucket.
    const EXPIRATION_RULE: &str = "drone-expiration";

    /// Expires objects, and versions no longer current, after `days`; none removes the bucket's lifecycle.
    async fn put_expiration(s3: &Client, bucket: &str, days: Option<i32>) -> Result<(), ProviderError> {
        const OP: &str = "PutBucketLifecycleConfiguration";
        let Some(days) = days else {
            let out = s3.delete_bucket_lifecycle().bucket(bucket).send().await;
            return out.map(drop).map_err(|e| sdk_error("DeleteBucketLifecycle", e));
        };
        let rule = LifecycleRule::builder()
            .id(EXPIRATION_RULE)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .expiration(LifecycleExpiration::builder().days(days).build())
            .noncurrent_version_expiration(NoncurrentVersionExpiration::builder().noncurrent_days(days).build())
            .build()
            .map_err(|e| invalid(OP, e.to_string()))?;
        let lifecycle =
            BucketLifecycleConfiguration::builder().rules(rule).build().map_err(|e| invalid(OP, e.to_string()))?;
        s3.put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(lifecycle)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error(OP, e))
    }

    /// The rule `replication` writes: one, for every object.
    const REPLICATION_RULE: &str = "drone-replication";

    /// Replicates every new object version to `replication.destination` as `replication.role`;
    /// none removes the bucket's replication.
    async fn put_replication(s3: &Client, bucket: &str, config: &Attributes) -> Result<(), ProviderError> {
        const OP: &str = "PutBucketReplication";
        let Some(replication) = present(config, "replication").and_then(Value::as_map) else {
            let out = s3.delete_bucket_replication().bucket(bucket).send().await;
            return out.map(drop).map_err(|e| sdk_error("DeleteBucketReplication", e));
        };
        let field = |k: &str| replication.get(k).and_then(Value::as_str).map(String::from);
        let role = field("role").ok_or_else(|| invalid(OP, "replication needs a `role`"))?;
        let destination = field("destination").ok_or_else(|| invalid(OP, "replication needs a `destination`"))?;
        let rule = ReplicationRule::builder()
            .id(REPLICATION_RULE)
            .priority(1)
            .status(ReplicationRuleStatus::Enabled)
            .filter(ReplicationRuleFilter::builder().prefix("").build())
            // A deletion here leaves the copy whole: the copy is for when this side is lost.
            .delete_marker_replication(
                DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build(),
            )
            .destination(Destination::builder().bucket(destination).build().map_err(|e| invalid(OP, e.to_string()))?)
            .build()
            .map_err(|e| invalid(OP, e.to_string()))?;
        let configuration = ReplicationConfiguration::builder()
            .role(role)
            .rules(rule)
            .build()
            .map_err(|e| invalid(OP, e.to_string()))?;
        s3.put_bucket_replication()
            .bucket(bucket)
            .replication_configuration(configuration)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error(OP, e))
    }

    async fn put_public_access_block(s3: &Client, bucket: &str, config: &Attributes) -> Result<(), ProviderError> {
        let flags = config.get("public_access_block").and_then(Value::as_map).cloned().unwrap_or_default();
        let flag = |k: &str| flags.get(k).and_then(Value::as_bool).unwrap_or(false);
        let block = PublicAccessBlockConfiguration::builder()
            .block_public_acls(flag("block_public_acls"))
            .ignore_public_acls(flag("ignore_public_acls"))
            .block_public_policy(flag("block_public_policy"))
            .restrict_public_buckets(flag("restrict_public_buckets"))
            .build();
        s3.put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(block)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("PutPublicAccessBlock", e))
    }

    /// The type's operations.
    pub struct Bucket;

    #[async_trait]
    impl Ops for Bucket {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let s3 = &p.s3;
            let name = required(config, "name", "CreateBucket")?;
            let region = p.region()?;
            let mut call = s3.create_bucket().bucket(name);
            // us-east-1 is the one region that refuses an explicit location constraint.
            if region != "us-east-1" {
                call = call.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region))
                        .build(),
                );
            }
            call.customize()
                .config_override(crate::aws::once!(aws_sdk_s3))
                .send()
                .await
                .map_err(|e| sdk_error("CreateBucket", e))?;
            let configure = async {
                put_tags(s3, name, tags).await?;
                if let Some(on) = boolean(config, "versioning") {
                    put_versioning(s3, name, on).await?;
                }
                if present(config, "encryption").is_some() {
                    put_encryption(s3, name, config).await?;
                }
                if present(config, "public_access_block").is_some() {
                    put_public_access_block(s3, name, config).await?;
                }
                if let Some(days) = int(config, "expiration_days") {
                    put_expiration(s3, name, Some(days)).await?;
                }
                // After versioning, which replication needs.
                if present(config, "replication").is_some() {
                    put_replication(s3, name, config).await?;
                }
                // Last: the public access block decides which policies S3 accepts.
                if let Some(policy) = document(config, "policy") {
                    put_policy(s3, name, policy).await?;
                }
                Ok::<_, ProviderError>(())
            };
            configure.await.map_err(|e| e.after_create(name))?;
            Ok(Observed {
                id: name.to_string(),
                attributes: observed([("arn", Value::String(format!("arn:aws:s3:::{name}")))]),
            })
        }

        /// Bucket names are global: a bucket this account cannot see into is another account's.
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "HeadBucket")?;
            match p.s3.head_bucket().bucket(name).send().await {
                Ok(_) => {}
                Err(e) => {
                    let e = sdk_error("HeadBucket", e);
                    return match e.kind {
                        ErrorKind::NotFound => Ok(None),
                        ErrorKind::Denied => {
                            Ok(Some(Found { id: name.to_string(), owner: Owner::Other("another AWS account".into()) }))
                        }
                        _ => Err(e),
                    };
                }
            }
            let owner = match p.s3.get_bucket_tagging().bucket(name).send().await {
                Ok(out) => attrs::owner(out.tag_set().iter().map(|t| (t.key(), t.value())), f.tags),
                Err(e) if e.as_service_error().and_then(|s| s.meta().code()) == Some("NoSuchTagSet") => Owner::Untagged,
                Err(e) => return Err(sdk_error("GetBucketTagging", e)),
            };
            Ok(Some(Found { id: name.to_string(), owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let s3 = &p.s3;
            if let Err(e) = s3.head_bucket().bucket(id).send().await {
                let e = sdk_error("HeadBucket", e);
                // HeadBucket has no body, so a missing bucket shows as a bare 404.
                if e.kind == ErrorKind::NotFound || e.message.contains("404") {
                    return Ok(None);
                }
                return Err(e);
            }
            let mut attributes =
                observed([("name", Value::str(id)), ("arn", Value::String(format!("arn:aws:s3:::{id}")))]);
            // Each setting is its own request: only those the workflow sets are read.
            let wants = |name: &str| prior.contains_key(name);
            if wants("versioning") {
                let out = s3
                    .get_bucket_versioning()
                    .bucket(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetBucketVersioning", e))?;
                let on = out.status() == Some(&BucketVersioningStatus::Enabled);
                attributes.insert("versioning".into(), Value::Bool(on));
            }
            if wants("encryption") || wants("kms_key_id") {
                let rule = match s3.get_bucket_encryption().bucket(id).send().await {
                    Ok(out) => out
                        .server_side_encryption_configuration()
                        .and_then(|c| c.rules().first())
                        .and_then(|r| r.apply_server_side_encryption_by_default())
                        .map(|d| (d.sse_algorithm().as_str().to_string(), d.kms_master_key_id().map(String::from))),
                    Err(e) => unset(sdk_error("GetBucketEncryption", e))?,
                };
                let (algorithm, key) =
                    rule.map_or((Value::Null, Value::Null), |(a, k)| (Value::String(a), attrs::text(k.as_deref())));
                attributes.insert("encryption".into(), algorithm);
                attributes.insert("kms_key_id".into(), key);
            }
            if wants("public_access_block") {
                let block = match s3.get_public_access_block().bucket(id).send().await {
                    Ok(out) => out.public_access_block_configuration().map(|c| {
                        let flag = |v: Option<bool>| Value::Bool(v.unwrap_or(false));
                        Value::map(BTreeMap::from([
                            ("block_public_acls".to_string(), flag(c.block_public_acls())),
                            ("ignore_public_acls".to_string(), flag(c.ignore_public_acls())),
                            ("block_public_policy".to_string(), flag(c.block_public_policy())),
                            ("restrict_public_buckets".to_string(), flag(c.restrict_public_buckets())),
                        ]))
                    }),
                    Err(e) => unset(sdk_error("GetPublicAccessBlock", e))?,
                };
                let block = block.unwrap_or(Value::Null);
                attributes.insert(
                    "public_access_block".into(),
                    prior_if_same(prior.get("public_access_block"), block, same_flags),
                );
            }
            if wants("expiration_days") {
                let days = match s3.get_bucket_lifecycle_configuration().bucket(id).send().await {
                    Ok(out) => out
                        .rules()
                        .iter()
                        .find(|r| r.id() == Some(EXPIRATION_RULE) && r.status() == &ExpirationStatus::Enabled)
                        .and_then(|r| r.expiration())
                        .and_then(|e| e.days()),
                    Err(e) => unset(sdk_error("GetBucketLifecycleConfiguration", e))?,
                };
                attributes.insert("expiration_days".into(), attrs::number(days));
            }
            if wants("replication") {
                let replication = match s3.get_bucket_replication().bucket(id).send().await {
                    Ok(out) => out.replication_configuration().map(|c| {
                        let destination = c
                            .rules()
                            .iter()
                            .find(|r| r.status() == &ReplicationRuleStatus::Enabled)
                            .and_then(|r| r.destination())
                            .map(|d| d.bucket());
                        Value::map(BTreeMap::from([
                            ("role".to_string(), Value::str(c.role())),
                            ("destination".to_string(), attrs::text(destination)),
                        ]))
                    }),
                    Err(e) => unset(sdk_error("GetBucketReplication", e))?,
                };
                attributes.insert("replication".into(), replication.unwrap_or(Value::Null));
            }
            // Always read: drone owns the bucket policy even when the workflow sets none.
            {
                let policy = match s3.get_bucket_policy().bucket(id).send().await {
                    Ok(out) => out.policy().and_then(attrs::parse_document),
                    Err(e) => unset(sdk_error("GetBucketPolicy", e))?,
                };
                let policy = policy.unwrap_or(Value::Null);
                attributes.insert("policy".into(), prior_if_same(prior.get("policy"), policy, same_document));
            }
            if wants("tags") {
                let tags = match s3.get_bucket_tagging().bucket(id).send().await {
                    Ok(out) => out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
                    Err(e) => unset(sdk_error("GetBucketTagging", e))?.unwrap_or_default(),
                };
                let tags: Vec<(String, String)> = tags;
                attributes.insert("tags".into(), attrs::user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let s3 = &p.s3;
            let name = u.id;
            if u.changed("tags") {
                put_tags(s3, name, u.tags).await?;
            }
            if u.changed("versioning") {
                put_versioning(s3, name, boolean(u.config, "versioning").unwrap_or(false)).await?;
            }
            if u.changed("encryption") || u.changed("kms_key_id") {
                if present(u.config, "encryption").is_some() {
                    put_encryption(s3, name, u.config).await?;
                } else {
                    s3.delete_bucket_encryption()
                        .bucket(name)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DeleteBucketEncryption", e))?;
                }
            }
            if u.changed("public_access_block") {
                if present(u.config, "public_access_block").is_some() {
                    put_public_access_block(s3, name, u.config).await?;
                } else {
                    s3.delete_public_access_block()
                        .bucket(name)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DeletePublicAccessBlock", e))?;
                }
            }
            if u.changed("expiration_days") {
                put_expiration(s3, name, int(u.config, "expiration_days")).await?;
            }
            if u.changed("replication") {
                put_replication(s3, name, u.config).await?;
            }
            if u.changed("policy") {
                match document(u.config, "policy") {
                    Some(policy) => put_policy(s3, name, policy).await?,
                    None => s3
                        .delete_bucket_policy()
                        .bucket(name)
                        .send()
                        .await
                        .map(drop)
                        .map_err(|e| sdk_error("DeleteBucketPolicy", e))?,
                }
            }
            Ok(Observed { id: name.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            let s3 = &p.s3;
            if boolean(prior, "force_destroy") == Some(true) {
                empty_bucket(s3, id).await?;
            }
            // (the count is for scripts' `s3::empty_bucket`)
            s3.delete_bucket().bucket(id).send().await.map(drop).map_err(|e| sdk_error("DeleteBucket", e))
        }
    }
}
