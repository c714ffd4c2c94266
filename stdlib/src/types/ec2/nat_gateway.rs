//! `aws.ec2.nat_gateway`: lets a private subnet reach out to the internet.
//! Create waits until it forwards, delete until it is gone.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.nat_gateway",
    doc: "lets a private subnet reach out to the internet without being reachable from it",
    taggable: true,
    attributes,
    naming: None,
    // A gateway is created in a subnet, from an address.
    arns: |scope| vec![arn(scope, "natgateway")],
    actions: &[
        (Create, "ec2:CreateNatGateway"),
        (Create, "ec2:DescribeNatGateways"),
        (Read, "ec2:DescribeNatGateways"),
        (Delete, "ec2:DeleteNatGateway"),
        (Delete, "ec2:DescribeNatGateways"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeNatGateways"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::NatGateway),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("subnet_id", Type::String, "the subnet it sits in: a public one, for a public gateway").replaces(),
        optional("allocation_id", Type::String, "the elastic IP it sends from (public gateways need one)").replaces(),
        optional(
            "connectivity_type",
            Type::one_of(&["public", "private"]),
            "\"public\" (default: to the internet) or \"private\" (to other VPCs only)",
        )
        .replaces(),
        computed("id", Type::String, "the gateway id, e.g. \"nat-0abc\""),
        computed("arn", Type::String, "the gateway's ARN"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::{ConnectivityType, NatGatewayState, ResourceType};
    use aws_sdk_ec2::Client;
    use drone_engine::provider::{ErrorKind, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{observed, required, string, text};
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::wait::{self, Poll};
    use crate::aws::AwsProvider;

    pub struct NatGateway;

    #[async_trait]
    impl Ec2Type for NatGateway {
        const ID_PREFIX: &'static str = "nat-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            let (region, account) = (p.region()?, p.account().await?);
            let connectivity = match string(config, "connectivity_type") {
                None | Some("public") => ConnectivityType::Public,
                Some("private") => ConnectivityType::Private,
                Some(other) => {
                    let why = format!("`connectivity_type` is \"public\" or \"private\", not \"{other}\"");
                    return Err(invalid("CreateNatGateway", why));
                }
            };
            let out = p
                .ec2
                .create_nat_gateway()
                .client_token(token)
                .subnet_id(required(config, "subnet_id", "CreateNatGateway")?)
                .set_allocation_id(string(config, "allocation_id").map(String::from))
                .connectivity_type(connectivity)
                .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_ec2))
                .send()
                .await
                .map_err(|e| sdk_error("CreateNatGateway", e))?;
            let id = out
                .nat_gateway()
                .and_then(|g| g.nat_gateway_id())
                .ok_or_else(|| missing("CreateNatGateway", "NatGatewayId"))?
                .to_string();
            // Routes to a pending gateway are accepted but carry nothing; wait until it forwards.
            settles(&p.ec2, &id, NatGatewayState::Available).await.map_err(|e| e.after_create(&id))?;
            let arn = format!("arn:aws:ec2:{region}:{account}:natgateway/{id}");
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
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
                .describe_nat_gateways()
                .set_nat_gateway_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeNatGateways", e))?;
            let mut out = BTreeMap::new();
            for g in found.nat_gateways() {
                let Some(id) = g.nat_gateway_id() else { continue };
                // A deleted gateway stays listed for a while.
                if matches!(g.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting)) {
                    continue;
                }
                let allocation = g.nat_gateway_addresses().iter().find_map(|a| a.allocation_id());
                let attributes = observed([
                    ("subnet_id", text(g.subnet_id())),
                    ("allocation_id", text(allocation)),
                    ("connectivity_type", text(g.connectivity_type().map(|c| c.as_str()))),
                    ("tags", tags_of(g.tags())),
                    ("arn", Value::String(format!("arn:aws:ec2:{region}:{account}:natgateway/{id}"))),
                ]);
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map_err(|e| sdk_error("DeleteNatGateway", e))?;
            // Its address and subnet stay in use until the gateway is gone.
            settles(&p.ec2, id, NatGatewayState::Deleted).await
        }
    }

    /// Waits until NAT gateway `id` reaches `wanted` (a vanished gateway counts
    /// as deleted); a gateway that fails says why.
    async fn settles(ec2: &Client, id: &str, wanted: NatGatewayState) -> Result<(), ProviderError> {
        let operation = if wanted == NatGatewayState::Deleted { "DeleteNatGateway" } else { "CreateNatGateway" };
        let what = format!("NAT gateway {id} did not become {}", wanted.as_str());
        wait::until(operation, &what, Duration::from_secs(20 * 60), || async {
            let out = match ec2.describe_nat_gateways().nat_gateway_ids(id).send().await {
                Ok(out) => out,
                Err(e) => {
                    let e = sdk_error("DescribeNatGateways", e);
                    return if e.kind == ErrorKind::NotFound && wanted == NatGatewayState::Deleted {
                        Ok(Poll::Ready(()))
                    } else {
                        Err(e)
                    };
                }
            };
            let gateway = out.nat_gateways().first();
            match gateway.and_then(|g| g.state()) {
                Some(state) if *state == wanted => Ok(Poll::Ready(())),
                None if wanted == NatGatewayState::Deleted => Ok(Poll::Ready(())),
                Some(NatGatewayState::Failed) => Err(ProviderError::new(
                    ErrorKind::Rejected,
                    operation,
                    format!(
                        "NAT gateway {id} failed: {}",
                        gateway.and_then(|g| g.failure_message()).unwrap_or("AWS gave no reason")
                    ),
                )),
                _ => Ok(Poll::Pending),
            }
        })
        .await
    }
}
