//! EC2 networking: VPCs, subnets, internet gateways, elastic IPs, NAT
//! gateways, route tables and security groups, with tags applied at creation
//! (`TagSpecifications`).

use std::collections::{BTreeMap, BTreeSet};

use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, ConnectivityType, DomainType, IpPermission, IpRange, Ipv6Range, NatGatewayState,
    ResourceType, Tag, TagSpecification, UserIdGroupPair, VpcAttributeName,
};
use aws_sdk_ec2::Client;
use drone_engine::provider::{ErrorKind, Observed, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::attrs::{self, boolean, like_prior, objects, observed, required, string, strings, text, Update};
use super::error::{invalid, missing, sdk_error};
use super::wait::{self, Poll};
use super::AwsProvider;

pub(super) async fn create(
    p: &AwsProvider,
    kind: &str,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    let ec2 = &p.ec2;
    match kind {
        "vpc" => {
            let out = ec2
                .create_vpc()
                .cidr_block(required(config, "cidr_block", "CreateVpc")?)
                .tag_specifications(tag_spec(ResourceType::Vpc, tags))
                .send()
                .await
                .map_err(|e| sdk_error("CreateVpc", e))?;
            let vpc = out.vpc().ok_or_else(|| missing("CreateVpc", "Vpc"))?;
            let id = vpc.vpc_id().ok_or_else(|| missing("CreateVpc", "VpcId"))?.to_string();
            set_vpc_dns(ec2, &id, config, None).await.map_err(|e| e.after_create(&id))?;
            let arn = format!("arn:aws:ec2:{}:{}:vpc/{id}", p.region()?, vpc.owner_id().unwrap_or_default());
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }
        "subnet" => {
            let out = ec2
                .create_subnet()
                .vpc_id(required(config, "vpc_id", "CreateSubnet")?)
                .cidr_block(required(config, "cidr_block", "CreateSubnet")?)
                .set_availability_zone(string(config, "availability_zone").map(String::from))
                .tag_specifications(tag_spec(ResourceType::Subnet, tags))
                .send()
                .await
                .map_err(|e| sdk_error("CreateSubnet", e))?;
            let subnet = out.subnet().ok_or_else(|| missing("CreateSubnet", "Subnet"))?;
            let id = subnet.subnet_id().ok_or_else(|| missing("CreateSubnet", "SubnetId"))?.to_string();
            if let Some(public) = boolean(config, "map_public_ip_on_launch") {
                set_public_ip(ec2, &id, public).await.map_err(|e| e.after_create(&id))?;
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
        "internet_gateway" => {
            let out = ec2
                .create_internet_gateway()
                .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
                .send()
                .await
                .map_err(|e| sdk_error("CreateInternetGateway", e))?;
            let id = out
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .ok_or_else(|| missing("CreateInternetGateway", "InternetGatewayId"))?
                .to_string();
            if let Some(vpc) = string(config, "vpc_id") {
                ec2.attach_internet_gateway()
                    .internet_gateway_id(&id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(|e| sdk_error("AttachInternetGateway", e).after_create(&id))?;
            }
            Ok(Observed { id, attributes: Attributes::new() })
        }
        "route_table" => {
            let out = ec2
                .create_route_table()
                .vpc_id(required(config, "vpc_id", "CreateRouteTable")?)
                .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
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
            Ok(Observed { id, attributes: observed([("associations", Value::Map(associations))]) })
        }
        "security_group" => {
            let name = required(config, "name", "CreateSecurityGroup")?;
            let out = ec2
                .create_security_group()
                .group_name(name)
                .description(string(config, "description").unwrap_or("managed by drone"))
                .vpc_id(required(config, "vpc_id", "CreateSecurityGroup")?)
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
                .send()
                .await
                .map_err(|e| sdk_error("CreateSecurityGroup", e))?;
            let id = out.group_id().ok_or_else(|| missing("CreateSecurityGroup", "GroupId"))?.to_string();
            let configure = async {
                let ingress = rules(config, "ingress")?;
                if !ingress.is_empty() {
                    ec2.authorize_security_group_ingress()
                        .group_id(&id)
                        .set_ip_permissions(Some(ingress))
                        .send()
                        .await
                        .map_err(|e| sdk_error("AuthorizeSecurityGroupIngress", e))?;
                }
                if config.get("egress").is_some_and(|v| !matches!(v, Value::Null)) {
                    // AWS opens all egress on creation; declared egress replaces it.
                    ec2.revoke_security_group_egress()
                        .group_id(&id)
                        .ip_permissions(
                            IpPermission::builder()
                                .ip_protocol("-1")
                                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                                .build(),
                        )
                        .send()
                        .await
                        .map_err(|e| sdk_error("RevokeSecurityGroupEgress", e))?;
                    let egress = rules(config, "egress")?;
                    if !egress.is_empty() {
                        ec2.authorize_security_group_egress()
                            .group_id(&id)
                            .set_ip_permissions(Some(egress))
                            .send()
                            .await
                            .map_err(|e| sdk_error("AuthorizeSecurityGroupEgress", e))?;
                    }
                }
                Ok::<_, ProviderError>(())
            };
            configure.await.map_err(|e| e.after_create(&id))?;
            let arn = out
                .security_group_arn()
                .map(String::from)
                .unwrap_or_else(|| format!("arn:aws:ec2:{}::security-group/{id}", p.region().unwrap_or_default()));
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }
        "eip" => {
            let (region, account) = (p.region()?, p.account().await?);
            let out = ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
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
        "nat_gateway" => {
            let (region, account) = (p.region()?, p.account().await?);
            let connectivity = match string(config, "connectivity_type") {
                None | Some("public") => ConnectivityType::Public,
                Some("private") => ConnectivityType::Private,
                Some(other) => {
                    let why = format!("`connectivity_type` is \"public\" or \"private\", not \"{other}\"");
                    return Err(invalid("CreateNatGateway", why));
                }
            };
            let out = ec2
                .create_nat_gateway()
                .subnet_id(required(config, "subnet_id", "CreateNatGateway")?)
                .set_allocation_id(string(config, "allocation_id").map(String::from))
                .connectivity_type(connectivity)
                .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
                .send()
                .await
                .map_err(|e| sdk_error("CreateNatGateway", e))?;
            let id = out
                .nat_gateway()
                .and_then(|g| g.nat_gateway_id())
                .ok_or_else(|| missing("CreateNatGateway", "NatGatewayId"))?
                .to_string();
            // Routes to a pending gateway are accepted but carry nothing; wait until it forwards.
            nat_gateway_settles(ec2, &id, NatGatewayState::Available).await.map_err(|e| e.after_create(&id))?;
            let arn = format!("arn:aws:ec2:{region}:{account}:natgateway/{id}");
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }
        other => Err(invalid("create", format!("unknown EC2 type `{other}`"))),
    }
}

/// How many EC2 resources of one kind one Describe call reads.
pub(super) const BATCH: usize = 100;

/// Reads EC2 resources of one kind, many per Describe call.
pub(super) async fn read_many(
    p: &AwsProvider,
    kind: &str,
    asked: &[(&str, &Attributes)],
) -> Result<Vec<Option<Observed>>, ProviderError> {
    let priors: BTreeMap<&str, &Attributes> = asked.iter().copied().collect();
    let ids: Vec<String> = asked.iter().map(|(id, _)| id.to_string()).collect();
    let mut found = match describe(p, kind, &ids, &priors).await {
        Ok(found) => found,
        // One id that is gone fails the whole call: then ask one at a time.
        Err(e) if e.kind == ErrorKind::NotFound && ids.len() > 1 => {
            let mut found = BTreeMap::new();
            for id in &ids {
                match describe(p, kind, std::slice::from_ref(id), &priors).await {
                    Ok(one) => found.extend(one),
                    Err(e) if e.kind == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            found
        }
        Err(e) if e.kind == ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    Ok(asked
        .iter()
        .map(|(id, _)| found.remove(*id).map(|attributes| Observed { id: id.to_string(), attributes }))
        .collect())
}

/// Every attribute of the resources `ids` of `kind` that exist, by id.
async fn describe(
    p: &AwsProvider,
    kind: &str,
    ids: &[String],
    priors: &BTreeMap<&str, &Attributes>,
) -> Result<BTreeMap<String, Attributes>, ProviderError> {
    let ec2 = &p.ec2;
    let ids = Some(ids.to_vec());
    let empty = Attributes::new();
    let prior_of = |id: Option<&str>| id.and_then(|id| priors.get(id).copied()).unwrap_or(&empty);
    let mut out = BTreeMap::new();
    match kind {
        "vpc" => {
            let found = ec2.describe_vpcs().set_vpc_ids(ids).send().await.map_err(|e| sdk_error("DescribeVpcs", e))?;
            for v in found.vpcs() {
                let Some(id) = v.vpc_id() else { continue };
                let mut attributes = observed([("cidr_block", text(v.cidr_block())), ("tags", tags_of(v.tags()))]);
                let prior = prior_of(Some(id));
                // DescribeVpcAttribute answers one attribute of one VPC: only those the workflow sets.
                for (name, attribute) in [
                    ("enable_dns_support", VpcAttributeName::EnableDnsSupport),
                    ("enable_dns_hostnames", VpcAttributeName::EnableDnsHostnames),
                ] {
                    if !prior.contains_key(name) {
                        continue;
                    }
                    let answer = ec2
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
        }
        "subnet" => {
            let found =
                ec2.describe_subnets().set_subnet_ids(ids).send().await.map_err(|e| sdk_error("DescribeSubnets", e))?;
            for s in found.subnets() {
                let Some(id) = s.subnet_id() else { continue };
                let attributes = observed([
                    ("vpc_id", text(s.vpc_id())),
                    ("cidr_block", text(s.cidr_block())),
                    ("availability_zone", text(s.availability_zone())),
                    ("map_public_ip_on_launch", Value::Bool(s.map_public_ip_on_launch().unwrap_or(false))),
                    ("tags", tags_of(s.tags())),
                ]);
                out.insert(id.to_string(), attributes);
            }
        }
        "internet_gateway" => {
            let found = ec2
                .describe_internet_gateways()
                .set_internet_gateway_ids(ids)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeInternetGateways", e))?;
            for g in found.internet_gateways() {
                let Some(id) = g.internet_gateway_id() else { continue };
                let vpc = g.attachments().first().and_then(|a| a.vpc_id());
                out.insert(id.to_string(), observed([("vpc_id", text(vpc)), ("tags", tags_of(g.tags()))]));
            }
        }
        "route_table" => {
            let found = ec2
                .describe_route_tables()
                .set_route_table_ids(ids)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeRouteTables", e))?;
            for t in found.route_tables() {
                let Some(id) = t.route_table_id() else { continue };
                let prior = prior_of(Some(id));
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
                        Value::Map(route)
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
                    ("routes", like_prior(prior.get("routes"), routes, |a, b| a.same(b))),
                    ("subnet_ids", like_prior(prior.get("subnet_ids"), subnet_ids, |a, b| a.same(b))),
                    ("associations", Value::Map(associations)),
                    ("tags", tags_of(t.tags())),
                ]);
                out.insert(id.to_string(), attributes);
            }
        }
        "security_group" => {
            let found = ec2
                .describe_security_groups()
                .set_group_ids(ids)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeSecurityGroups", e))?;
            for g in found.security_groups() {
                let Some(id) = g.group_id() else { continue };
                let prior = prior_of(Some(id));
                let mut attributes = observed([
                    ("name", text(g.group_name())),
                    ("description", text(g.description())),
                    ("vpc_id", text(g.vpc_id())),
                    ("ingress", like_prior(prior.get("ingress"), rule_objects(g.ip_permissions()), same_rule)),
                    ("egress", like_prior(prior.get("egress"), rule_objects(g.ip_permissions_egress()), same_rule)),
                    ("tags", tags_of(g.tags())),
                ]);
                if let Some(arn) = g.security_group_arn() {
                    attributes.insert("arn".into(), Value::str(arn));
                }
                out.insert(id.to_string(), attributes);
            }
        }
        "eip" => {
            let found = ec2
                .describe_addresses()
                .set_allocation_ids(ids)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeAddresses", e))?;
            for a in found.addresses() {
                let Some(id) = a.allocation_id() else { continue };
                out.insert(id.to_string(), observed([("public_ip", text(a.public_ip())), ("tags", tags_of(a.tags()))]));
            }
        }
        "nat_gateway" => {
            let found = ec2
                .describe_nat_gateways()
                .set_nat_gateway_ids(ids)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeNatGateways", e))?;
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
                ]);
                out.insert(id.to_string(), attributes);
            }
        }
        other => return Err(invalid("read", format!("unknown EC2 type `{other}`"))),
    }
    Ok(out)
}

/// The user's tags among an EC2 resource's.
fn tags_of(tags: &[Tag]) -> Value {
    attrs::user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

/// Security group permissions as the workflow writes rules: one source each,
/// `port` for a single port, the protocol only when not TCP.
fn rule_objects(permissions: &[IpPermission]) -> Vec<Value> {
    let mut out = Vec::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1");
        let mut base = BTreeMap::new();
        match protocol {
            "-1" => {
                base.insert("protocol".to_string(), Value::str("all"));
            }
            other => {
                if other != "tcp" {
                    base.insert("protocol".to_string(), Value::str(other));
                }
                match (p.from_port(), p.to_port()) {
                    (Some(from), Some(to)) if from == to => {
                        base.insert("port".into(), Value::Number(f64::from(from)));
                    }
                    (from, to) => {
                        base.insert("from_port".into(), attrs::number(from));
                        base.insert("to_port".into(), attrs::number(to));
                    }
                }
            }
        }
        let mut rule = |source: &str, value: &str, description: Option<&str>| {
            let mut r = base.clone();
            r.insert(source.to_string(), Value::str(value));
            if let Some(d) = description.filter(|d| !d.is_empty()) {
                r.insert("description".into(), Value::str(d));
            }
            out.push(Value::Map(r));
        };
        for range in p.ip_ranges() {
            rule("cidr", range.cidr_ip().unwrap_or_default(), range.description());
        }
        for range in p.ipv6_ranges() {
            rule("ipv6_cidr", range.cidr_ipv6().unwrap_or_default(), range.description());
        }
        for pair in p.user_id_group_pairs() {
            rule("security_group", pair.group_id().unwrap_or_default(), pair.description());
        }
    }
    out
}

/// Whether two rules admit the same traffic from the same source, with the
/// same description, however each is spelled.
fn same_rule(a: &Value, b: &Value) -> bool {
    match (a.as_map(), b.as_map()) {
        (Some(a), Some(b)) => matches!((permission(a), permission(b)), (Ok(x), Ok(y)) if x == y),
        _ => false,
    }
}

pub(super) async fn update(p: &AwsProvider, kind: &str, u: &Update<'_>) -> Result<Observed, ProviderError> {
    let ec2 = &p.ec2;
    if u.changed("tags") {
        sync_tags(ec2, u).await?;
    }
    let mut attributes = Attributes::new();
    match kind {
        "vpc" => set_vpc_dns(ec2, u.id, u.config, Some(u)).await?,
        "subnet" => {
            if u.changed("map_public_ip_on_launch") {
                set_public_ip(ec2, u.id, boolean(u.config, "map_public_ip_on_launch").unwrap_or(false)).await?;
            }
        }
        "internet_gateway" => {
            if u.changed("vpc_id") {
                if let Some(old) = string(u.prior, "vpc_id") {
                    ec2.detach_internet_gateway()
                        .internet_gateway_id(u.id)
                        .vpc_id(old)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DetachInternetGateway", e))?;
                }
                if let Some(new) = string(u.config, "vpc_id") {
                    ec2.attach_internet_gateway()
                        .internet_gateway_id(u.id)
                        .vpc_id(new)
                        .send()
                        .await
                        .map_err(|e| sdk_error("AttachInternetGateway", e))?;
                }
            }
        }
        "route_table" => {
            if u.changed("routes") {
                let before: BTreeMap<String, &BTreeMap<String, Value>> = objects(u.prior, "routes")
                    .into_iter()
                    .filter_map(|r| Some((r.get("cidr")?.as_str()?.to_string(), r)))
                    .collect();
                let after: BTreeMap<String, &BTreeMap<String, Value>> = objects(u.config, "routes")
                    .into_iter()
                    .filter_map(|r| Some((r.get("cidr")?.as_str()?.to_string(), r)))
                    .collect();
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
            attributes.insert("associations".into(), Value::Map(associations));
        }
        "security_group" => {
            for (attr, ingress) in [("ingress", true), ("egress", false)] {
                if !u.changed(attr) {
                    continue;
                }
                let before = rules(u.prior, attr)?;
                let after = rules(u.config, attr)?;
                let removed: Vec<IpPermission> = before.iter().filter(|r| !after.contains(r)).cloned().collect();
                let added: Vec<IpPermission> = after.iter().filter(|r| !before.contains(r)).cloned().collect();
                if !removed.is_empty() {
                    if ingress {
                        ec2.revoke_security_group_ingress()
                            .group_id(u.id)
                            .set_ip_permissions(Some(removed))
                            .send()
                            .await
                            .map_err(|e| sdk_error("RevokeSecurityGroupIngress", e))?;
                    } else {
                        ec2.revoke_security_group_egress()
                            .group_id(u.id)
                            .set_ip_permissions(Some(removed))
                            .send()
                            .await
                            .map_err(|e| sdk_error("RevokeSecurityGroupEgress", e))?;
                    }
                }
                if !added.is_empty() {
                    if ingress {
                        ec2.authorize_security_group_ingress()
                            .group_id(u.id)
                            .set_ip_permissions(Some(added))
                            .send()
                            .await
                            .map_err(|e| sdk_error("AuthorizeSecurityGroupIngress", e))?;
                    } else {
                        ec2.authorize_security_group_egress()
                            .group_id(u.id)
                            .set_ip_permissions(Some(added))
                            .send()
                            .await
                            .map_err(|e| sdk_error("AuthorizeSecurityGroupEgress", e))?;
                    }
                }
            }
        }
        // Everything but tags replaces these.
        "eip" | "nat_gateway" => {}
        other => return Err(invalid("update", format!("unknown EC2 type `{other}`"))),
    }
    Ok(Observed { id: u.id.to_string(), attributes })
}

pub(super) async fn delete(p: &AwsProvider, kind: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
    let ec2 = &p.ec2;
    match kind {
        "vpc" => ec2.delete_vpc().vpc_id(id).send().await.map(drop).map_err(|e| sdk_error("DeleteVpc", e)),
        "subnet" => ec2.delete_subnet().subnet_id(id).send().await.map(drop).map_err(|e| sdk_error("DeleteSubnet", e)),
        "internet_gateway" => {
            if let Some(vpc) = string(prior, "vpc_id") {
                match ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await {
                    Ok(_) => {}
                    Err(e) => {
                        let e = sdk_error("DetachInternetGateway", e);
                        // Already detached or gone: carry on with the delete.
                        if e.kind != ErrorKind::NotFound && e.code.as_deref() != Some("Gateway.NotAttached") {
                            return Err(e);
                        }
                    }
                }
            }
            ec2.delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteInternetGateway", e))
        }
        "route_table" => {
            let associations = prior.get("associations").and_then(Value::as_map).cloned().unwrap_or_default();
            for assoc in associations.values().filter_map(Value::as_str) {
                if let Err(e) = ec2.disassociate_route_table().association_id(assoc).send().await {
                    let e = sdk_error("DisassociateRouteTable", e);
                    if e.kind != ErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
            ec2.delete_route_table()
                .route_table_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteRouteTable", e))
        }
        "security_group" => ec2
            .delete_security_group()
            .group_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteSecurityGroup", e)),
        "eip" => {
            ec2.release_address().allocation_id(id).send().await.map(drop).map_err(|e| sdk_error("ReleaseAddress", e))
        }
        "nat_gateway" => {
            ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map_err(|e| sdk_error("DeleteNatGateway", e))?;
            // Its address and subnet stay in use until the gateway is gone.
            nat_gateway_settles(ec2, id, NatGatewayState::Deleted).await
        }
        other => Err(invalid("delete", format!("unknown EC2 type `{other}`"))),
    }
}

/// Waits until NAT gateway `id` reaches `wanted` (a vanished gateway counts
/// as deleted); a gateway that fails says why.
async fn nat_gateway_settles(ec2: &Client, id: &str, wanted: NatGatewayState) -> Result<(), ProviderError> {
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

fn tag_spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).set_tags(Some(ec2_tags(tags))).build()
}

fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

async fn sync_tags(ec2: &Client, u: &Update<'_>) -> Result<(), ProviderError> {
    let (removed, desired) = attrs::tag_changes(u.prior, u.tags);
    if !removed.is_empty() {
        let keys = removed.iter().map(|k| Tag::builder().key(k).build()).collect();
        ec2.delete_tags().resources(u.id).set_tags(Some(keys)).send().await.map_err(|e| sdk_error("DeleteTags", e))?;
    }
    ec2.create_tags()
        .resources(u.id)
        .set_tags(Some(ec2_tags(&desired)))
        .send()
        .await
        .map_err(|e| sdk_error("CreateTags", e))?;
    Ok(())
}

async fn set_vpc_dns(
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
        let call =
            if name == "enable_dns_support" { call.enable_dns_support(flag) } else { call.enable_dns_hostnames(flag) };
        call.send().await.map_err(|e| sdk_error("ModifyVpcAttribute", e))?;
    }
    Ok(())
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

async fn create_route(ec2: &Client, table: &str, route: &BTreeMap<String, Value>) -> Result<(), ProviderError> {
    let cidr =
        route.get("cidr").and_then(Value::as_str).ok_or_else(|| invalid("CreateRoute", "a route needs `cidr`"))?;
    let call = ec2.create_route().route_table_id(table).destination_cidr_block(cidr);
    let call =
        match (route.get("gateway_id").and_then(Value::as_str), route.get("nat_gateway_id").and_then(Value::as_str)) {
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

/// The configured rules of `attr` as EC2 permissions, one source each.
fn rules(config: &Attributes, attr: &str) -> Result<Vec<IpPermission>, ProviderError> {
    objects(config, attr).into_iter().map(permission).collect()
}

fn permission(rule: &BTreeMap<String, Value>) -> Result<IpPermission, ProviderError> {
    let op = "AuthorizeSecurityGroupIngress";
    let get = |k: &str| rule.get(k).and_then(Value::as_str);
    let num = |k: &str| rule.get(k).and_then(Value::as_i64).map(|n| n as i32);
    let protocol = match get("protocol").unwrap_or("tcp") {
        "all" | "-1" => "-1",
        p => p,
    };
    let mut b = IpPermission::builder().ip_protocol(protocol);
    if protocol != "-1" {
        let (from, to) = match (num("port"), num("from_port"), num("to_port")) {
            (Some(p), None, None) => (p, p),
            (None, Some(f), Some(t)) => (f, t),
            (None, Some(f), None) => (f, f),
            _ => return Err(invalid(op, "a rule needs `port`, or `from_port` and `to_port`")),
        };
        b = b.from_port(from).to_port(to);
    }
    let description = get("description").map(String::from);
    let sources = [get("cidr").is_some(), get("ipv6_cidr").is_some(), get("security_group").is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if sources != 1 {
        return Err(invalid(op, "a rule needs exactly one of `cidr`, `ipv6_cidr` and `security_group`"));
    }
    if let Some(cidr) = get("cidr") {
        b = b.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description).build());
    } else if let Some(cidr) = get("ipv6_cidr") {
        b = b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).set_description(description).build());
    } else if let Some(group) = get("security_group") {
        b = b.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).set_description(description).build());
    }
    Ok(b.build())
}
