//! `aws.sns.subscription`: where a topic delivers (an email address confirms
//! the subscription from the message AWS sends it).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read};
use crate::schema::{computed, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.sns.subscription",
    doc: "where an SNS topic delivers: an email address, an HTTPS endpoint, a queue",
    taggable: false,
    attributes,
    naming: None,
    // Subscriptions are authorized on their topic.
    arns: |s| vec![ArnPattern::new("sns", "topic", format!("arn:aws:sns:{}:{}:*", s.region, s.account))],
    actions: &[
        (Create, "sns:Subscribe"),
        (Read, "sns:GetSubscriptionAttributes"),
        (Delete, "sns:Unsubscribe"),
        (Find, "sns:ListSubscriptionsByTopic"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("sns", sdk::Subscription),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("topic_arn", Type::String, "the topic").replaces(),
        required("protocol", Type::one_of(&["email", "email-json", "https", "sqs", "lambda"]), "how it is delivered")
            .replaces(),
        required("endpoint", Type::String, "the address, URL or ARN delivered to").replaces(),
        computed("id", Type::String, "the subscription's ARN"),
    ]
}

#[cfg(feature = "sns")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{observed, required, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::{AwsProvider, Ops};

    pub struct Subscription;

    #[async_trait]
    impl Ops for Subscription {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "Subscribe";
            // The ARN even while an email address has not confirmed yet, so drone can remove it.
            let out = p
                .sns
                .subscribe()
                .topic_arn(required(config, "topic_arn", OP)?)
                .protocol(required(config, "protocol", OP)?)
                .endpoint(required(config, "endpoint", OP)?)
                .return_subscription_arn(true)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.subscription_arn().ok_or_else(|| missing(OP, "SubscriptionArn"))?;
            Ok(Observed { id: arn.to_string(), attributes: Attributes::new() })
        }

        /// A topic delivers once per protocol and endpoint: the one there is this workflow's.
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "ListSubscriptionsByTopic";
            let topic = required(f.config, "topic_arn", OP)?;
            let (protocol, endpoint) = (required(f.config, "protocol", OP)?, required(f.config, "endpoint", OP)?);
            let out = match p.sns.list_subscriptions_by_topic().topic_arn(topic).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            Ok(out
                .subscriptions()
                .iter()
                .find(|s| s.protocol() == Some(protocol) && s.endpoint() == Some(endpoint))
                .and_then(|s| s.subscription_arn())
                .map(|arn| Found { id: arn.to_string(), owner: Owner::This }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.sns.get_subscription_attributes().subscription_arn(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetSubscriptionAttributes", e), None),
            };
            let a = out.attributes().cloned().unwrap_or_default();
            let text = |k: &str| a.get(k).map_or(Value::Null, Value::str);
            Ok(Some(Observed {
                id: id.to_string(),
                attributes: observed([
                    ("topic_arn", text("TopicArn")),
                    ("protocol", text("Protocol")),
                    ("endpoint", text("Endpoint")),
                ]),
            }))
        }

        async fn update(&self, _: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            Err(invalid("Subscribe", format!("{}: every attribute of a subscription replaces it", u.id)))
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            match p.sns.unsubscribe().subscription_arn(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("Unsubscribe", e), ()),
            }
        }
    }
}
