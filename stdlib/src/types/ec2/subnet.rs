//! `aws.ec2.subnet`: a range of a VPC in one availability zone.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{chosen, computed, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.subnet",
    doc: "a range of a VPC in one availability zone",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "subnet")],
    actions: &[
        (Create, "ec2:CreateSubnet"),
        (Create, "ec2:ModifySubnetAttribute"),
        (Read, "ec2:DescribeSubnets"),
        (Update, "ec2:ModifySubnetAttribute"),
        (Delete, "ec2:DeleteSubnet"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeSubnets"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::Subnet),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("vpc_id", Type::String, "the VPC it belongs to").replaces(),
        required("cidr_block", Type::String, "the subnet's IPv4 range, inside the VPC's").replaces(),
        chosen("availability_zone", Type::String, "the zone, e.g. \"eu-west-1a\" (default: AWS picks)").replaces(),
        optional(
            "map_public_ip_on_launch",
            Type::Bool,
            "whether instances launched here get public IPs (default false)",
        )
        .guarded(),
        computed("id", Type::String, "the subnet id"),
        computed("arn", Type::String, "the subnet's ARN"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
    use aws_sdk_ec2::Client;
    use drone_engine::provider::{Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{boolean, observed, required, string, text, Update};
    use crate::aws::error::{missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::AwsProvider;

    pub struct Subnet;

    #[async_trait]
    impl Ec2Type for Subnet {
        const ID_PREFIX: &'static str = "subnet-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let out = p
                .ec2
                .create_subnet()
                .vpc_id(required(config, "vpc_id", "CreateSubnet")?)
                .cidr_block(required(config, "cidr_block", "CreateSubnet")?)
                .set_availability_zone(string(config, "availability_zone").map(String::from))
                .tag_specifications(tag_spec(ResourceType::Subnet, tags))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_ec2))
                .send()
                .await
                .map_err(|e| sdk_error("CreateSubnet", e))?;
            let subnet = out.subnet().ok_or_else(|| missing("CreateSubnet", "Subnet"))?;
            let id = subnet.subnet_id().ok_or_else(|| missing("CreateSubnet", "SubnetId"))?.to_string();
            if let Some(public) = boolean(config, "map_public_ip_on_launch") {
                set_public_ip(&p.ec2, &id, public).await.map_err(|e| e.after_create(&id))?;
            }
            let arn = subnet.subnet_arn().map(String::from).unwrap_or_else(|| {
                format!(
                    "arn:aws:ec2:{}:{}:subnet/{id}",
                    p.region().unwrap_or_default(),
                    subnet.owner_id().unwrap_or_default()
                )
            });
            Ok(Observed {
                id,
                attributes: observed([
                    ("availability_zone", Value::str(subnet.availability_zone().unwrap_or_default())),
                    ("arn", Value::String(arn)),
                ]),
            })
        }

        async fn describe(
            &self,
            p: &AwsProvider,
            ids: Vec<String>,
            _: &[(&str, &Attributes)],
        ) -> Result<BTreeMap<String, Attributes>, ProviderError> {
            let found = p
                .ec2
                .describe_subnets()
                .set_subnet_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeSubnets", e))?;
            let mut out = BTreeMap::new();
            for s in found.subnets() {
                let Some(id) = s.subnet_id() else { continue };
                let attributes = observed([
                    ("vpc_id", text(s.vpc_id())),
                    ("cidr_block", text(s.cidr_block())),
                    ("availability_zone", text(s.availability_zone())),
                    ("map_public_ip_on_launch", Value::Bool(s.map_public_ip_on_launch().unwrap_or(false))),
                    ("tags", tags_of(s.tags())),
                    ("arn", text(s.subnet_arn())),
                ]);
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.ec2, u.id, u).await?;
            if u.changed("map_public_ip_on_launch") {
                set_public_ip(&p.ec2, u.id, boolean(u.config, "map_public_ip_on_launch").unwrap_or(false)).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ec2.delete_subnet().subnet_id(id).send().await.map(drop).map_err(|e| sdk_error("DeleteSubnet", e))
        }
    }

    async fn set_public_ip(ec2: &Client, id: &str, public: bool) -> Result<(), ProviderError> {
        ec2.modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("ModifySubnetAttribute", e))
    }
}
