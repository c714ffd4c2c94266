//! EC2 networking: VPCs, subnets, internet gateways, elastic IPs, NAT
//! gateways, route tables, security groups and flow logs. Tags are applied at creation
//! (`TagSpecifications`); reads go many ids to one Describe call.

pub mod eip;
pub mod flow_log;
pub mod internet_gateway;
pub mod nat_gateway;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod vpc;

#[cfg(feature = "ec2")]
mod sdk;

use crate::permissions::Stage::{self, Create, Update};
use crate::types::{ArnPattern, Scope};

/// Tagging, the same for every EC2 type.
const TAG_ACTIONS: [(Stage, &str); 3] =
    [(Create, "ec2:CreateTags"), (Update, "ec2:CreateTags"), (Update, "ec2:DeleteTags")];

/// EC2 ids exist only after create, so patterns end in `/*`, bounded by region and account.
fn arn(scope: &Scope<'_>, kind: &'static str) -> ArnPattern {
    ArnPattern::new("ec2", kind, format!("arn:aws:ec2:{}:{}:{kind}/*", scope.region, scope.account))
}

/// EC2's eventual consistency ("Eventual consistency in the Amazon EC2 API"): an id a create
/// answers with may be unknown to other calls for a while, which answer `Invalid*ID.NotFound`,
/// `InvalidGroup.NotFound`, `NatGatewayNotFound`, ...; AWS gives no bound, seconds in practice.
/// Describe calls that filter by tags may leave a new resource out for a few seconds.
pub const CONSISTENCY: crate::types::Consistency = crate::types::Consistency {
    service: "ec2",
    window: std::time::Duration::from_secs(30),
    listing: std::time::Duration::from_secs(5),
    codes: &[],
};
