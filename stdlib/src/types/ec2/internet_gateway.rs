//! `aws.ec2.internet_gateway`: a gateway between a VPC and the internet.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.internet_gateway",
    doc: "a gateway between a VPC and the internet",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "internet-gateway")],
    actions: &[
        (Create, "ec2:CreateInternetGateway"),
        (Create, "ec2:AttachInternetGateway"),
        (Read, "ec2:DescribeInternetGateways"),
        (Update, "ec2:AttachInternetGateway"),
        (Update, "ec2:DetachInternetGateway"),
        (Delete, "ec2:DetachInternetGateway"),
        (Delete, "ec2:DeleteInternetGateway"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeInternetGateways"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::InternetGateway),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![optional("vpc_id", Type::String, "the VPC to attach it to"), computed("id", Type::String, "the gateway id")]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::ResourceType;
    use drone_engine::provider::{ErrorKind, Observed, ProviderError};
    use drone_engine::value::Attributes;

    use super::super::sdk::{tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{observed, string, text, Update};
    use crate::aws::error::{missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::AwsProvider;

    pub struct InternetGateway;

    #[async_trait]
    impl Ec2Type for InternetGateway {
        const ID_PREFIX: &'static str = "igw-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let out = p
                .ec2
                .create_internet_gateway()
                .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_ec2))
                .send()
                .await
                .map_err(|e| sdk_error("CreateInternetGateway", e))?;
            let id = out
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .ok_or_else(|| missing("CreateInternetGateway", "InternetGatewayId"))?
                .to_string();
            if let Some(vpc) = string(config, "vpc_id") {
                p.ec2
                    .attach_internet_gateway()
                    .internet_gateway_id(&id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(|e| sdk_error("AttachInternetGateway", e).after_create(&id))?;
            }
            Ok(Observed { id, attributes: Attributes::new() })
        }

        async fn describe(
            &self,
            p: &AwsProvider,
            ids: Vec<String>,
            _: &[(&str, &Attributes)],
        ) -> Result<BTreeMap<String, Attributes>, ProviderError> {
            let found = p
                .ec2
                .describe_internet_gateways()
                .set_internet_gateway_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeInternetGateways", e))?;
            let mut out = BTreeMap::new();
            for g in found.internet_gateways() {
                let Some(id) = g.internet_gateway_id() else { continue };
                let vpc = g.attachments().first().and_then(|a| a.vpc_id());
                out.insert(id.to_string(), observed([("vpc_id", text(vpc)), ("tags", tags_of(g.tags()))]));
            }
            Ok(out)
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.ec2, u.id, u).await?;
            if u.changed("vpc_id") {
                if let Some(old) = string(u.prior, "vpc_id") {
                    p.ec2
                        .detach_internet_gateway()
                        .internet_gateway_id(u.id)
                        .vpc_id(old)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DetachInternetGateway", e))?;
                }
                if let Some(new) = string(u.config, "vpc_id") {
                    p.ec2
                        .attach_internet_gateway()
                        .internet_gateway_id(u.id)
                        .vpc_id(new)
                        .send()
                        .await
                        .map_err(|e| sdk_error("AttachInternetGateway", e))?;
                }
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            if let Some(vpc) = string(prior, "vpc_id") {
                if let Err(e) = p.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
                    let e = sdk_error("DetachInternetGateway", e);
                    // Already detached or gone: carry on with the delete.
                    if e.kind != ErrorKind::NotFound && e.code.as_deref() != Some("Gateway.NotAttached") {
                        return Err(e);
                    }
                }
            }
            p.ec2
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteInternetGateway", e))
        }
    }
}
