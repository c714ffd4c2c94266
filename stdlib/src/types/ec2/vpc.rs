//! `aws.ec2.vpc`: a virtual private cloud.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.vpc",
    doc: "a virtual private cloud: an isolated network",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "vpc")],
    actions: &[
        (Create, "ec2:CreateVpc"),
        (Create, "ec2:ModifyVpcAttribute"),
        (Read, "ec2:DescribeVpcs"),
        (Read, "ec2:DescribeVpcAttribute"),
        (Update, "ec2:ModifyVpcAttribute"),
        (Delete, "ec2:DeleteVpc"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeVpcs"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::Vpc),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("cidr_block", Type::String, "the VPC's IPv4 range, e.g. \"10.20.0.0/16\"").replaces(),
        optional("enable_dns_support", Type::Bool, "whether the Amazon DNS server resolves names (default true)"),
        optional("enable_dns_hostnames", Type::Bool, "whether instances get DNS host names (default false)"),
        computed("id", Type::String, "the VPC id, e.g. \"vpc-0abc\""),
        computed("arn", Type::String, "the VPC's ARN"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
    use aws_sdk_ec2::Client;
    use drone_engine::provider::{Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{prior_of, tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{boolean, observed, required, text, Update};
    use crate::aws::error::{missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::AwsProvider;

    pub struct Vpc;

    #[async_trait]
    impl Ec2Type for Vpc {
        const ID_PREFIX: &'static str = "vpc-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let out = p
                .ec2
                .create_vpc()
                .cidr_block(required(config, "cidr_block", "CreateVpc")?)
                .tag_specifications(tag_spec(ResourceType::Vpc, tags))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_ec2))
                .send()
                .await
                .map_err(|e| sdk_error("CreateVpc", e))?;
            let vpc = out.vpc().ok_or_else(|| missing("CreateVpc", "Vpc"))?;
            let id = vpc.vpc_id().ok_or_else(|| missing("CreateVpc", "VpcId"))?.to_string();
            set_dns(&p.ec2, &id, config, None).await.map_err(|e| e.after_create(&id))?;
            let arn = format!("arn:aws:ec2:{}:{}:vpc/{id}", p.region()?, vpc.owner_id().unwrap_or_default());
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn describe(
            &self,
            p: &AwsProvider,
            ids: Vec<String>,
            asked: &[(&str, &Attributes)],
        ) -> Result<BTreeMap<String, Attributes>, ProviderError> {
            let found =
                p.ec2.describe_vpcs().set_vpc_ids(Some(ids)).send().await.map_err(|e| sdk_error("DescribeVpcs", e))?;
            let mut out = BTreeMap::new();
            for v in found.vpcs() {
                let Some(id) = v.vpc_id() else { continue };
                let arn = format!("arn:aws:ec2:{}:{}:vpc/{id}", p.region()?, v.owner_id().unwrap_or_default());
                let mut attributes = observed([
                    ("cidr_block", text(v.cidr_block())),
                    ("tags", tags_of(v.tags())),
                    ("arn", Value::String(arn)),
                ]);
                let prior = prior_of(asked, id);
                // DescribeVpcAttribute answers one attribute of one VPC: only those the workflow sets.
                for (name, attribute) in [
                    ("enable_dns_support", VpcAttributeName::EnableDnsSupport),
                    ("enable_dns_hostnames", VpcAttributeName::EnableDnsHostnames),
                ] {
                    if !prior.is_some_and(|p| p.contains_key(name)) {
                        continue;
                    }
                    let answer = p
                        .ec2
                        .describe_vpc_attribute()
                        .vpc_id(id)
                        .attribute(attribute)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DescribeVpcAttribute", e))?;
                    let flag = if name == "enable_dns_support" {
                        answer.enable_dns_support()
                    } else {
                        answer.enable_dns_hostnames()
                    };
                    attributes.insert(name.into(), flag.and_then(|f| f.value()).map_or(Value::Null, Value::Bool));
                }
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.ec2, u.id, u).await?;
            set_dns(&p.ec2, u.id, u.config, Some(u)).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ec2.delete_vpc().vpc_id(id).send().await.map(drop).map_err(|e| sdk_error("DeleteVpc", e))
        }
    }

    async fn set_dns(
        ec2: &Client,
        id: &str,
        config: &Attributes,
        update: Option<&Update<'_>>,
    ) -> Result<(), ProviderError> {
        // ModifyVpcAttribute takes one attribute per call.
        for name in ["enable_dns_support", "enable_dns_hostnames"] {
            let Some(value) = boolean(config, name) else {
                continue;
            };
            if update.is_some_and(|u| !u.changed(name)) {
                continue;
            }
            let flag = AttributeBooleanValue::builder().value(value).build();
            let call = ec2.modify_vpc_attribute().vpc_id(id);
            let call = if name == "enable_dns_support" {
                call.enable_dns_support(flag)
            } else {
                call.enable_dns_hostnames(flag)
            };
            call.send().await.map_err(|e| sdk_error("ModifyVpcAttribute", e))?;
        }
        Ok(())
    }
}
