//! Reachability from the internet, judged by the network path rather than by
//! names: internet gateway -> route table with a default route to it ->
//! subnet associated with that table -> a public address on the resource ->
//! a security group rule that admits the port from an internet range. Each hop is
//! reported, so a finding shows the path, not just the verdict.

use super::exposure::{internet_source, Admission};
use super::functions::Graph;
use super::resource_address;
use super::symbolic::TYPE_KEY;
use crate::eval::Resolver;
use crate::value::Value;

/// A default route to an internet gateway: the table and gateway addresses
/// and the route's destination.
pub(super) struct InternetRoute {
    pub(super) table: String,
    pub(super) gateway: String,
    pub(super) cidr: String,
}

/// Whether a value could not be decided before apply.
pub(super) struct Undecided;

impl Graph<'_, '_> {
    /// The route that sends `subnet`'s default traffic to an internet gateway, if any.
    pub(super) fn internet_route(&self, subnet: &Value) -> Result<Option<InternetRoute>, Undecided> {
        let Some(address) = resource_address(subnet) else { return Ok(None) };
        let id = Value::reference(&address, "id");
        let mut undecided = false;
        for table in self.of_type("aws.ec2.route_table") {
            let Some(t) = table.as_map() else { continue };
            let associated = match t.get("subnet_ids") {
                Some(Value::List(ids)) => ids.iter().any(|v| v == &id),
                Some(Value::Null) | None => false,
                Some(_) => {
                    undecided = true;
                    false
                }
            };
            if !associated {
                continue;
            }
            for route in t.get("routes").and_then(Value::as_list).unwrap_or_default() {
                let Some(r) = route.as_map() else { continue };
                let Some(cidr @ ("0.0.0.0/0" | "::/0")) = r.get("cidr").and_then(Value::as_str) else { continue };
                let gateway = match r.get("gateway_id") {
                    Some(Value::Ref { address, .. }) => {
                        let target = self.symbolic.instance(address);
                        let kind = target.as_map().and_then(|m| m.get(TYPE_KEY)).and_then(Value::as_str);
                        (kind == Some("aws.ec2.internet_gateway")).then(|| address.clone())
                    }
                    Some(Value::String(gw)) if gw.starts_with("igw-") => Some(gw.clone()),
                    Some(Value::Null) | None => None,
                    Some(_) => {
                        undecided = true;
                        None
                    }
                };
                if let Some(gateway) = gateway {
                    let table = resource_address(&table).unwrap_or_default();
                    return Ok(Some(InternetRoute { table, gateway, cidr: cidr.to_string() }));
                }
            }
        }
        if undecided {
            Err(Undecided)
        } else {
            Ok(None)
        }
    }

    /// The path from the internet to `resource` on `port`, hop by hop; an
    /// empty list when there is none; unknown when it cannot be decided
    /// before apply. Subnets come from `subnets`, `subnet_ids` or the DB
    /// subnet group; security groups from `security_groups` or
    /// `vpc_security_group_ids`; a public address from `assign_public_ip`
    /// or `publicly_accessible`.
    pub(super) fn internet_path(&self, resource: &Value, port: &Value) -> Value {
        let (Some(attrs), Some(port)) = (resource.as_map(), port.as_f64()) else { return Value::Unknown };
        let Some(address) = resource_address(resource) else { return Value::Unknown };
        let address_hop = ["assign_public_ip", "publicly_accessible"].iter().find_map(|key| match attrs.get(*key) {
            Some(Value::Bool(true)) => Some(Ok(format!("public IP ({key})"))),
            Some(Value::Bool(false) | Value::Null) | None => None,
            Some(_) => Some(Err(Undecided)),
        });
        let address_hop = match address_hop {
            Some(Ok(hop)) => hop,
            None => return Value::List(Vec::new()),
            Some(Err(Undecided)) => return Value::Unknown,
        };
        let mut undecided = false;
        let mut route_hops = None;
        for subnet in self.subnets_of(attrs) {
            match self.internet_route(&subnet) {
                Ok(Some(route)) => {
                    let subnet = resource_address(&subnet).unwrap_or_default();
                    route_hops =
                        Some([route.gateway, format!("{} ({} to the gateway)", route.table, route.cidr), subnet]);
                    break;
                }
                Ok(None) => {}
                Err(Undecided) => undecided = true,
            }
        }
        let mut open_hop = None;
        for sg in self.security_groups_of(attrs) {
            match open_to_internet(&sg, port) {
                Ok(Some(source)) => {
                    let sg = resource_address(&sg).unwrap_or_default();
                    open_hop = Some(format!("{sg} (port {port} from {source})"));
                    break;
                }
                Ok(None) => {}
                Err(Undecided) => undecided = true,
            }
        }
        match (route_hops, open_hop) {
            (Some([gateway, table, subnet]), Some(open)) => Value::List(
                ["internet".to_string(), gateway, table, subnet, address_hop, open, format!("{address}:{port}")]
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
            _ if undecided => Value::Unknown,
            _ => Value::List(Vec::new()),
        }
    }

    /// The subnets a resource is placed in.
    fn subnets_of(&self, attrs: &std::collections::BTreeMap<String, Value>) -> Vec<Value> {
        let direct = attrs.get("subnets").or_else(|| attrs.get("subnet_ids"));
        let refs = match (direct, attrs.get("db_subnet_group_name")) {
            (Some(list), _) => list.as_list().unwrap_or_default().to_vec(),
            (None, Some(Value::Ref { address, .. })) => {
                let group = self.symbolic.instance(address);
                group.as_map().and_then(|g| g.get("subnet_ids")).and_then(Value::as_list).unwrap_or_default().to_vec()
            }
            _ => Vec::new(),
        };
        self.targets(&refs)
    }

    /// The security groups guarding a resource.
    fn security_groups_of(&self, attrs: &std::collections::BTreeMap<String, Value>) -> Vec<Value> {
        let refs = attrs.get("security_groups").or_else(|| attrs.get("vpc_security_group_ids"));
        self.targets(refs.and_then(Value::as_list).unwrap_or_default())
    }

    /// The resources that references point at (others are skipped).
    fn targets(&self, refs: &[Value]) -> Vec<Value> {
        refs.iter()
            .filter_map(|r| match r {
                Value::Ref { address, .. } => Some(self.symbolic.instance(address)),
                _ => None,
            })
            .collect()
    }
}

/// The internet range (see `exposure`) a security group's ingress admits
/// TCP connections to `port` from, if any.
fn open_to_internet(sg: &Value, port: f64) -> Result<Option<String>, Undecided> {
    let Some(rules) = sg.as_map().and_then(|m| m.get("ingress")) else { return Ok(None) };
    let Some(rules) = rules.as_list() else {
        return if matches!(rules, Value::Null) { Ok(None) } else { Err(Undecided) };
    };
    for rule in rules {
        let admission = Admission::of(rule).map_err(|_| Undecided)?;
        if !admission.admits_tcp(port as i64) {
            continue;
        }
        if let Some(source) = internet_source(rule).map_err(|_| Undecided)? {
            return Ok(Some(source));
        }
    }
    Ok(None)
}
