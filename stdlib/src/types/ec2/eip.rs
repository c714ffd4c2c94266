//! `aws.ec2.eip`: an elastic IP address.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read};
use crate::schema::computed;
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.eip",
    doc: "an elastic IP address: a fixed public IPv4 address, e.g. for a NAT gateway",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "elastic-ip")],
    actions: &[
        (Create, "ec2:AllocateAddress"),
        (Read, "ec2:DescribeAddresses"),
        (Delete, "ec2:ReleaseAddress"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeAddresses"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::Eip),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        computed("id", Type::String, "the allocation id, e.g. \"eipalloc-0abc\""),
        computed("public_ip", Type::String, "the address"),
        computed("arn", Type::String, "the address's ARN"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::{DomainType, ResourceType};
    use drone_engine::provider::{Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{observed, text};
    use crate::aws::error::{missing, sdk_error};
    use crate::aws::AwsProvider;

    pub struct Eip;

    #[async_trait]
    impl Ec2Type for Eip {
        const ID_PREFIX: &'static str = "eipalloc-";

        async fn create(
            &self,
            p: &AwsProvider,
            _: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let (region, account) = (p.region()?, p.account().await?);
            let out = p
                .ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_ec2))
                .send()
                .await
                .map_err(|e| sdk_error("AllocateAddress", e))?;
            let id = out.allocation_id().ok_or_else(|| missing("AllocateAddress", "AllocationId"))?.to_string();
            let arn = format!("arn:aws:ec2:{region}:{account}:elastic-ip/{id}");
            Ok(Observed {
                id,
                attributes: observed([
                    ("public_ip", Value::str(out.public_ip().unwrap_or_default())),
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
            let (region, account) = (p.region()?, p.account().await?);
            let account = account.as_str();
            let found = p
                .ec2
                .describe_addresses()
                .set_allocation_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeAddresses", e))?;
            let mut out = BTreeMap::new();
            for a in found.addresses() {
                let Some(id) = a.allocation_id() else { continue };
                let arn = Value::String(format!("arn:aws:ec2:{region}:{account}:elastic-ip/{id}"));
                let attributes =
                    observed([("public_ip", text(a.public_ip())), ("tags", tags_of(a.tags())), ("arn", arn)]);
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ec2.release_address().allocation_id(id).send().await.map(drop).map_err(|e| sdk_error("ReleaseAddress", e))
        }
    }
}
