//! `aws.ec2.route_table`: routes for the subnets associated with it.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.route_table",
    doc: "routes for the subnets associated with it",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "route-table")],
    actions: &[
        (Create, "ec2:CreateRouteTable"),
        (Create, "ec2:CreateRoute"),
        (Create, "ec2:AssociateRouteTable"),
        (Read, "ec2:DescribeRouteTables"),
        (Update, "ec2:CreateRoute"),
        (Update, "ec2:DeleteRoute"),
        (Update, "ec2:AssociateRouteTable"),
        (Update, "ec2:DisassociateRouteTable"),
        (Delete, "ec2:DisassociateRouteTable"),
        (Delete, "ec2:DeleteRouteTable"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeRouteTables"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::RouteTable),
};

/// The object type of one route.
pub fn route_type() -> Type {
    Type::Object(vec![
        field("cidr", Type::String, true, "the destination range, e.g. \"0.0.0.0/0\""),
        field("gateway_id", Type::String, false, "an internet gateway to route to"),
        field("nat_gateway_id", Type::String, false, "a NAT gateway to route to"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("vpc_id", Type::String, "the VPC it belongs to").replaces(),
        optional("routes", Type::list(route_type()), "routes besides the VPC's local route").guarded(),
        optional("subnet_ids", Type::list(Type::String), "subnets that use this table"),
        computed("id", Type::String, "the route table id"),
        computed("associations", Type::map(Type::String), "association ids by subnet id"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::{BTreeMap, BTreeSet};

    use async_trait::async_trait;
    use aws_sdk_ec2::types::ResourceType;
    use aws_sdk_ec2::Client;
    use drone_engine::provider::{ErrorKind, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{prior_of, tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{like_prior, objects, observed, required, strings, text, Update};
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::AwsProvider;

    pub struct RouteTable;

    #[async_trait]
    impl Ec2Type for RouteTable {
        const ID_PREFIX: &'static str = "rtb-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            let ec2 = &p.ec2;
            let out = ec2
                .create_route_table()
                .client_token(token)
                .vpc_id(required(config, "vpc_id", "CreateRouteTable")?)
                .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_ec2))
                .send()
                .await
                .map_err(|e| sdk_error("CreateRouteTable", e))?;
            let id = out
                .route_table()
                .and_then(|t| t.route_table_id())
                .ok_or_else(|| missing("CreateRouteTable", "RouteTableId"))?
                .to_string();
            let configure = async {
                for route in objects(config, "routes") {
                    create_route(ec2, &id, route).await?;
                }
                let mut associations = BTreeMap::new();
                for subnet in strings(config, "subnet_ids") {
                    let assoc = associate(ec2, &id, &subnet).await?;
                    associations.insert(subnet, Value::String(assoc));
                }
                Ok::<_, ProviderError>(associations)
            };
            let associations = configure.await.map_err(|e| e.after_create(&id))?;
            Ok(Observed { id, attributes: observed([("associations", Value::map(associations))]) })
        }

        async fn describe(
            &self,
            p: &AwsProvider,
            ids: Vec<String>,
            asked: &[(&str, &Attributes)],
        ) -> Result<BTreeMap<String, Attributes>, ProviderError> {
            let found = p
                .ec2
                .describe_route_tables()
                .set_route_table_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeRouteTables", e))?;
            let mut out = BTreeMap::new();
            for t in found.route_tables() {
                let Some(id) = t.route_table_id() else { continue };
                let prior = prior_of(asked, id);
                let routes = t
                    .routes()
                    .iter()
                    // The VPC's own local route is AWS's, never the workflow's.
                    .filter(|r| r.gateway_id() != Some("local") && r.destination_cidr_block().is_some())
                    .map(|r| {
                        let mut route = BTreeMap::from([("cidr".to_string(), text(r.destination_cidr_block()))]);
                        if let Some(gw) = r.gateway_id() {
                            route.insert("gateway_id".into(), Value::str(gw));
                        }
                        if let Some(nat) = r.nat_gateway_id() {
                            route.insert("nat_gateway_id".into(), Value::str(nat));
                        }
                        Value::map(route)
                    })
                    .collect();
                let subnets: Vec<_> = t
                    .associations()
                    .iter()
                    .filter(|a| a.main() != Some(true))
                    .filter_map(|a| Some((a.subnet_id()?, a.route_table_association_id()?)))
                    .collect();
                let subnet_ids = subnets.iter().map(|(s, _)| Value::str(*s)).collect();
                let associations = subnets.iter().map(|(s, a)| (s.to_string(), Value::str(*a))).collect();
                let attributes = observed([
                    ("vpc_id", text(t.vpc_id())),
                    ("routes", like_prior(prior.and_then(|p| p.get("routes")), routes, |a, b| a.same(b))),
                    ("subnet_ids", like_prior(prior.and_then(|p| p.get("subnet_ids")), subnet_ids, |a, b| a.same(b))),
                    ("associations", Value::map(associations)),
                    ("tags", tags_of(t.tags())),
                ]);
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let ec2 = &p.ec2;
            tagging::sync(ec2, u.id, u).await?;
            if u.changed("routes") {
                let (before, after) = (by_cidr(u.prior), by_cidr(u.config));
                for (cidr, old) in &before {
                    if after.get(cidr) != Some(old) {
                        ec2.delete_route()
                            .route_table_id(u.id)
                            .destination_cidr_block(cidr)
                            .send()
                            .await
                            .map_err(|e| sdk_error("DeleteRoute", e))?;
                    }
                }
                for (cidr, new) in &after {
                    if before.get(cidr) != Some(new) {
                        create_route(ec2, u.id, new).await?;
                    }
                }
            }
            let mut associations: BTreeMap<String, Value> =
                u.prior.get("associations").and_then(Value::as_map).cloned().unwrap_or_default();
            if u.changed("subnet_ids") {
                let wanted: BTreeSet<String> = strings(u.config, "subnet_ids").into_iter().collect();
                for (subnet, assoc) in associations.clone() {
                    if !wanted.contains(&subnet) {
                        if let Some(assoc) = assoc.as_str() {
                            ec2.disassociate_route_table()
                                .association_id(assoc)
                                .send()
                                .await
                                .map_err(|e| sdk_error("DisassociateRouteTable", e))?;
                        }
                        associations.remove(&subnet);
                    }
                }
                for subnet in wanted {
                    if let std::collections::btree_map::Entry::Vacant(slot) = associations.entry(subnet) {
                        let assoc = associate(ec2, u.id, slot.key()).await?;
                        slot.insert(Value::String(assoc));
                    }
                }
            }
            Ok(Observed { id: u.id.to_string(), attributes: observed([("associations", Value::map(associations))]) })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            let associations = prior.get("associations").and_then(Value::as_map).cloned().unwrap_or_default();
            for assoc in associations.values().filter_map(Value::as_str) {
                if let Err(e) = p.ec2.disassociate_route_table().association_id(assoc).send().await {
                    let e = sdk_error("DisassociateRouteTable", e);
                    if e.kind != ErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
            p.ec2
                .delete_route_table()
                .route_table_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteRouteTable", e))
        }
    }

    /// The routes of `attrs`, by destination.
    fn by_cidr(attrs: &Attributes) -> BTreeMap<String, &BTreeMap<String, Value>> {
        objects(attrs, "routes").into_iter().filter_map(|r| Some((r.get("cidr")?.as_str()?.to_string(), r))).collect()
    }

    async fn create_route(ec2: &Client, table: &str, route: &BTreeMap<String, Value>) -> Result<(), ProviderError> {
        let cidr =
            route.get("cidr").and_then(Value::as_str).ok_or_else(|| invalid("CreateRoute", "a route needs `cidr`"))?;
        let call = ec2.create_route().route_table_id(table).destination_cidr_block(cidr);
        let gateway = route.get("gateway_id").and_then(Value::as_str);
        let call = match (gateway, route.get("nat_gateway_id").and_then(Value::as_str)) {
            (Some(gw), None) => call.gateway_id(gw),
            (None, Some(nat)) => call.nat_gateway_id(nat),
            _ => {
                return Err(invalid(
                    "CreateRoute",
                    format!("the route to {cidr} needs exactly one of `gateway_id` and `nat_gateway_id`"),
                ))
            }
        };
        call.send().await.map(drop).map_err(|e| sdk_error("CreateRoute", e))
    }

    async fn associate(ec2: &Client, table: &str, subnet: &str) -> Result<String, ProviderError> {
        let out = ec2
            .associate_route_table()
            .route_table_id(table)
            .subnet_id(subnet)
            .send()
            .await
            .map_err(|e| sdk_error("AssociateRouteTable", e))?;
        out.association_id().map(String::from).ok_or_else(|| missing("AssociateRouteTable", "AssociationId"))
    }
}
