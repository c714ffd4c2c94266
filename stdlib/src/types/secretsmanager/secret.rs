//! `aws.secretsmanager.secret`: a secret whose value AWS generates at creation
//! (GetRandomPassword) and keeps, optionally replicated to other regions. The
//! workflow names it and passes its ARN to what needs the value; neither the
//! workflow, drone's output nor state holds it.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.secretsmanager.secret",
    doc: "a secret whose value AWS generates and keeps",
    taggable: true,
    attributes,
    naming: Some("name"),
    // Secret ARNs end in six random characters AWS adds.
    arns: |s| {
        vec![ArnPattern::new(
            "secretsmanager",
            "Secret",
            format!("arn:aws:secretsmanager:{}:{}:secret:{}-??????", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "secretsmanager:GetRandomPassword"),
        (Create, "secretsmanager:CreateSecret"),
        (Create, "secretsmanager:TagResource"),
        // Replicas: created with the secret, added or removed later, removed before deletion.
        (Create, "secretsmanager:ReplicateSecretToRegions"),
        (Read, "secretsmanager:DescribeSecret"),
        (Update, "secretsmanager:UpdateSecret"),
        (Update, "secretsmanager:TagResource"),
        (Update, "secretsmanager:UntagResource"),
        (Update, "secretsmanager:ReplicateSecretToRegions"),
        (Update, "secretsmanager:RemoveRegionsFromReplication"),
        (Delete, "secretsmanager:RemoveRegionsFromReplication"),
        (Delete, "secretsmanager:DeleteSecret"),
        (Find, "secretsmanager:DescribeSecret"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("secretsmanager", sdk::Secret),
};

/// The object type of how a secret's value is generated.
pub fn generated_type() -> Type {
    Type::Object(vec![
        field("length", Type::Number, false, "characters (default 32)"),
        field("exclude_punctuation", Type::Bool, false, "letters and digits only (default true: fits any header)"),
        field(
            "json_with",
            Type::map(Type::String),
            false,
            "store a JSON object: these keys, and the generated value as `password` (the form RDS and ECS read)",
        ),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the secret's name").replaces(),
        optional("description", Type::String, "what the secret is for"),
        optional("generated", generated_type(), "how AWS generates the value at creation").replaces().drone_side(),
        optional(
            "recovery_window_days",
            Type::Number,
            "days a deleted secret can be restored (7 to 30; 0 deletes it at once, as a regenerable value can be)",
        )
        .drone_side(),
        optional(
            "replica_regions",
            Type::list(Type::String),
            "regions that keep a read-only replica (a standby region reads it when the primary is down)",
        ),
        computed("id", Type::String, "the secret's ARN"),
        computed("arn", Type::String, "the secret's ARN"),
        computed("replica_arns", Type::map(Type::String), "each replica's ARN, by region"),
    ]
}

#[cfg(feature = "secretsmanager")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
    use aws_sdk_secretsmanager::types::{ReplicaRegionType, Tag};
    use aws_sdk_secretsmanager::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{self, int, like_prior, observed, required, string, strings, Update};
    use crate::aws::error::{missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    pub struct Secret;

    #[async_trait]
    impl Ops for Secret {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateSecret";
            let generated = config.get("generated").and_then(Value::as_map);
            let length = generated.and_then(|g| g.get("length")).and_then(Value::as_i64).unwrap_or(32);
            let plain = generated.and_then(|g| g.get("exclude_punctuation")).and_then(Value::as_bool).unwrap_or(true);
            let password = p
                .secretsmanager
                .get_random_password()
                .password_length(length)
                .exclude_punctuation(plain)
                .send()
                .await
                .map_err(|e| sdk_error("GetRandomPassword", e))?;
            let password = password.random_password().ok_or_else(|| missing("GetRandomPassword", "RandomPassword"))?;
            let value = match generated.and_then(|g| g.get("json_with")).and_then(Value::as_map) {
                Some(keys) => json_with(keys, password),
                None => password.to_string(),
            };
            let regions = strings(config, "replica_regions");
            let out = p
                .secretsmanager
                .create_secret()
                .name(required(config, "name", OP)?)
                .set_description(string(config, "description").map(String::from))
                .secret_string(value)
                // The create's token: a repeated request makes no second version.
                .client_request_token(token)
                .set_add_replica_regions(replicas(&regions))
                .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_secretsmanager))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.arn().ok_or_else(|| missing(OP, "ARN"))?.to_string();
            let replica_arns = replica_arns(&arn, regions.iter().map(String::as_str));
            Ok(Observed {
                id: arn.clone(),
                attributes: observed([("arn", Value::String(arn)), ("replica_arns", replica_arns)]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "DescribeSecret")?;
            Ok(describe(&p.secretsmanager, name).await?.and_then(|s| {
                let tags = s.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                Some(Found { id: s.arn()?.to_string(), owner: attrs::owner(tags, f.tags) })
            }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            Ok(describe(&p.secretsmanager, id).await?.map(|s| {
                let tags = s.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                let regions: Vec<&str> = s.replication_status().iter().filter_map(|r| r.region()).collect();
                Observed {
                    id: id.to_string(),
                    attributes: observed([
                        ("name", attrs::text(s.name())),
                        ("description", attrs::text(s.description())),
                        ("tags", attrs::user_tags(tags)),
                        (
                            "replica_regions",
                            like_prior(
                                prior.get("replica_regions"),
                                regions.iter().map(|r| Value::str(*r)).collect(),
                                |a, b| a == b,
                            ),
                        ),
                        ("arn", attrs::text(s.arn())),
                        ("replica_arns", replica_arns(id, regions.iter().copied())),
                    ]),
                }
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.secretsmanager, u.id, u).await?;
            if u.changed("description") {
                p.secretsmanager
                    .update_secret()
                    .secret_id(u.id)
                    .description(string(u.config, "description").unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateSecret", e))?;
            }
            let regions = strings(u.config, "replica_regions");
            if u.changed("replica_regions") {
                let had = strings(u.prior, "replica_regions");
                let added: Vec<String> = regions.iter().filter(|r| !had.contains(r)).cloned().collect();
                let removed: Vec<String> = had.into_iter().filter(|r| !regions.contains(r)).collect();
                if !added.is_empty() {
                    p.secretsmanager
                        .replicate_secret_to_regions()
                        .secret_id(u.id)
                        .set_add_replica_regions(replicas(&added))
                        .send()
                        .await
                        .map_err(|e| sdk_error("ReplicateSecretToRegions", e))?;
                }
                remove_replicas(p, u.id, removed).await?;
            }
            let replica_arns = replica_arns(u.id, regions.iter().map(String::as_str));
            Ok(Observed { id: u.id.to_string(), attributes: observed([("replica_arns", replica_arns)]) })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            // Secrets Manager refuses to delete a secret that still has replicas.
            let replicas = match describe(&p.secretsmanager, id).await? {
                Some(s) => s.replication_status().iter().filter_map(|r| r.region().map(String::from)).collect(),
                None => return Ok(()),
            };
            remove_replicas(p, id, replicas).await?;
            let days = int(prior, "recovery_window_days").unwrap_or(7);
            let delete = p.secretsmanager.delete_secret().secret_id(id);
            let delete = if days == 0 {
                delete.force_delete_without_recovery(true)
            } else {
                delete.recovery_window_in_days(i64::from(days))
            };
            match delete.send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteSecret", e), ()),
            }
        }
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
            let tag = self.tag_resource().secret_id(arn).set_tags(Some(tags));
            tag.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let untag = self.untag_resource().secret_id(arn).set_tag_keys(Some(keys));
            untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    /// The value `json_with` describes: its keys, and `password`.
    fn json_with(keys: &BTreeMap<String, Value>, password: &str) -> String {
        let mut object: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.as_str().unwrap_or_default().into())))
            .collect();
        object.insert("password".into(), serde_json::Value::String(password.into()));
        serde_json::Value::Object(object).to_string()
    }

    /// The replica regions of a CreateSecret or ReplicateSecretToRegions call.
    fn replicas(regions: &[String]) -> Option<Vec<ReplicaRegionType>> {
        (!regions.is_empty()).then(|| regions.iter().map(|r| ReplicaRegionType::builder().region(r).build()).collect())
    }

    /// A replica's ARN is its primary's with the region changed (the random suffix is kept).
    fn replica_arns<'a>(arn: &str, regions: impl Iterator<Item = &'a str>) -> Value {
        let mut parts: Vec<&str> = arn.split(':').collect();
        let arns = regions.map(|region| {
            if parts.len() > 3 {
                parts[3] = region;
            }
            (region.to_string(), Value::String(parts.join(":")))
        });
        Value::map(arns.collect())
    }

    async fn remove_replicas(p: &AwsProvider, id: &str, regions: Vec<String>) -> Result<(), ProviderError> {
        if regions.is_empty() {
            return Ok(());
        }
        let remove =
            p.secretsmanager.remove_regions_from_replication().secret_id(id).set_remove_replica_regions(Some(regions));
        remove.send().await.map(drop).map_err(|e| sdk_error("RemoveRegionsFromReplication", e))
    }

    /// The secret named or with ARN `id`; none when there is none, or it is scheduled for deletion.
    async fn describe(sm: &Client, id: &str) -> Result<Option<DescribeSecretOutput>, ProviderError> {
        match sm.describe_secret().secret_id(id).send().await {
            Ok(out) if out.deleted_date().is_none() => Ok(Some(out)),
            Ok(_) => Ok(None),
            Err(e) => unless_gone(sdk_error("DescribeSecret", e), None),
        }
    }
}
