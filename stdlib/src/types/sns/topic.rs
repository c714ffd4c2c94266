//! `aws.sns.topic`: a topic that delivers what is published to it (alarms) to its subscriptions.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.sns.topic",
    doc: "an SNS topic: delivers what is published to it (alarms) to its subscriptions",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| vec![ArnPattern::new("sns", "topic", format!("arn:aws:sns:{}:{}:{}", s.region, s.account, s.name))],
    actions: &[
        (Create, "sns:CreateTopic"),
        (Create, "sns:TagResource"),
        (Read, "sns:GetTopicAttributes"),
        (Read, "sns:ListTagsForResource"),
        (Update, "sns:SetTopicAttributes"),
        (Update, "sns:TagResource"),
        (Update, "sns:UntagResource"),
        (Delete, "sns:DeleteTopic"),
        (Find, "sns:GetTopicAttributes"),
        (Find, "sns:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("sns", sdk::Topic),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the topic's name").replaces(),
        optional("kms_key_id", Type::String, "the KMS key that encrypts messages at rest, e.g. \"alias/aws/sns\""),
        computed("id", Type::String, "the topic's ARN"),
        computed("arn", Type::String, "the topic's ARN"),
    ]
}

#[cfg(feature = "sns")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_sns::types::Tag;
    use aws_sdk_sns::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{self, observed, required, string, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    pub struct Topic;

    #[async_trait]
    impl Ops for Topic {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateTopic";
            // CreateTopic is idempotent by name: a repeat answers the same topic.
            let out = p
                .sns
                .create_topic()
                .name(required(config, "name", OP)?)
                .set_attributes(
                    string(config, "kms_key_id").map(|k| [("KmsMasterKeyId".to_string(), k.to_string())].into()),
                )
                .set_tags(Some(sns_tags(tags, OP)?))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.topic_arn().ok_or_else(|| missing(OP, "TopicArn"))?.to_string();
            Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "GetTopicAttributes")?;
            let arn = format!("arn:aws:sns:{}:{}:{name}", p.region()?, p.account().await?);
            if attributes(&p.sns, &arn).await?.is_none() {
                return Ok(None);
            }
            let tags = list_tags(&p.sns, &arn).await?;
            let owner = attrs::owner(tags.iter().map(|t| (t.key(), t.value())), f.tags);
            Ok(Some(Found { id: arn, owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(found) = attributes(&p.sns, id).await? else { return Ok(None) };
            let mut out = observed([
                ("name", Value::str(id.rsplit(':').next().unwrap_or_default())),
                ("kms_key_id", attrs::text(found.get("KmsMasterKeyId").map(String::as_str).filter(|k| !k.is_empty()))),
                ("arn", Value::str(id)),
            ]);
            if prior.contains_key("tags") {
                let tags = list_tags(&p.sns, id).await?;
                out.insert("tags".into(), attrs::user_tags(tags.iter().map(|t| (t.key(), t.value()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes: out }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("kms_key_id") {
                p.sns
                    .set_topic_attributes()
                    .topic_arn(u.id)
                    .attribute_name("KmsMasterKeyId")
                    .attribute_value(string(u.config, "kms_key_id").unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetTopicAttributes", e))?;
            }
            tagging::sync(&p.sns, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            match p.sns.delete_topic().topic_arn(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteTopic", e), ()),
            }
        }
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tag = self.tag_resource().resource_arn(arn).set_tags(Some(sns_tags(tags, "TagResource")?));
            tag.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let untag = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
            untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    /// The topic's attributes; none when it is gone.
    async fn attributes(
        sns: &Client,
        arn: &str,
    ) -> Result<Option<std::collections::HashMap<String, String>>, ProviderError> {
        match sns.get_topic_attributes().topic_arn(arn).send().await {
            Ok(out) => Ok(Some(out.attributes().cloned().unwrap_or_default())),
            Err(e) => unless_gone(sdk_error("GetTopicAttributes", e), None),
        }
    }

    async fn list_tags(sns: &Client, arn: &str) -> Result<Vec<Tag>, ProviderError> {
        let out = sns.list_tags_for_resource().resource_arn(arn).send().await;
        Ok(out.map_err(|e| sdk_error("ListTagsForResource", e))?.tags().to_vec())
    }

    fn sns_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
            .collect()
    }
}
