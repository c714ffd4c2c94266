//! `aws.secretsmanager.secret`: a secret whose value AWS generates at creation
//! (GetRandomPassword) and keeps. The workflow names it and passes its ARN to
//! what needs the value; neither the workflow, drone's output nor state holds it.

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
        (Read, "secretsmanager:DescribeSecret"),
        (Update, "secretsmanager:UpdateSecret"),
        (Update, "secretsmanager:TagResource"),
        (Update, "secretsmanager:UntagResource"),
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
        computed("id", Type::String, "the secret's ARN"),
        computed("arn", Type::String, "the secret's ARN"),
    ]
}

#[cfg(feature = "secretsmanager")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
    use aws_sdk_secretsmanager::types::Tag;
    use aws_sdk_secretsmanager::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{self, int, observed, required, string, Update};
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
            let value = password.random_password().ok_or_else(|| missing("GetRandomPassword", "RandomPassword"))?;
            let out = p
                .secretsmanager
                .create_secret()
                .name(required(config, "name", OP)?)
                .set_description(string(config, "description").map(String::from))
                .secret_string(value)
                // The create's token: a repeated request makes no second version.
                .client_request_token(token)
                .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_secretsmanager))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.arn().ok_or_else(|| missing(OP, "ARN"))?.to_string();
            Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "DescribeSecret")?;
            Ok(describe(&p.secretsmanager, name).await?.and_then(|s| {
                let tags = s.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                Some(Found { id: s.arn()?.to_string(), owner: attrs::owner(tags, f.tags) })
            }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            Ok(describe(&p.secretsmanager, id).await?.map(|s| {
                let tags = s.tags().iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
                Observed {
                    id: id.to_string(),
                    attributes: observed([
                        ("name", attrs::text(s.name())),
                        ("description", attrs::text(s.description())),
                        ("tags", attrs::user_tags(tags)),
                        ("arn", attrs::text(s.arn())),
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
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
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

    /// The secret named or with ARN `id`; none when there is none, or it is scheduled for deletion.
    async fn describe(sm: &Client, id: &str) -> Result<Option<DescribeSecretOutput>, ProviderError> {
        match sm.describe_secret().secret_id(id).send().await {
            Ok(out) if out.deleted_date().is_none() => Ok(Some(out)),
            Ok(_) => Ok(None),
            Err(e) => unless_gone(sdk_error("DescribeSecret", e), None),
        }
    }
}
