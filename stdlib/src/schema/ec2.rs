//! Schemas of the EC2 networking types.

use drone_lang::schema::{ResourceSchema, Type};

use super::{chosen, computed, field, optional, required, resource, AttributeExt};

/// The object type of one security group rule.
pub fn rule_type() -> Type {
    Type::Object(vec![
        field("protocol", Type::String, false, "\"tcp\" (default), \"udp\", \"icmp\" or \"all\""),
        field("port", Type::Number, false, "a single port (sets from_port and to_port)"),
        field("from_port", Type::Number, false, "first port of a range"),
        field("to_port", Type::Number, false, "last port of a range"),
        field("cidr", Type::String, false, "an IPv4 source or destination range"),
        field("ipv6_cidr", Type::String, false, "an IPv6 source or destination range"),
        field("security_group", Type::String, false, "a security group id as source or destination"),
        field("description", Type::String, false, "why the rule exists"),
    ])
}

/// The object type of one route.
pub fn route_type() -> Type {
    Type::Object(vec![
        field("cidr", Type::String, true, "the destination range, e.g. \"0.0.0.0/0\""),
        field("gateway_id", Type::String, false, "an internet gateway to route to"),
        field("nat_gateway_id", Type::String, false, "a NAT gateway to route to"),
    ])
}

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![
        resource(
            "aws.ec2.vpc",
            "a virtual private cloud: an isolated network",
            true,
            vec![
                required("cidr_block", Type::String, "the VPC's IPv4 range, e.g. \"10.20.0.0/16\"").replaces(),
                optional(
                    "enable_dns_support",
                    Type::Bool,
                    "whether the Amazon DNS server resolves names (default true)",
                ),
                optional("enable_dns_hostnames", Type::Bool, "whether instances get DNS host names (default false)"),
                computed("id", Type::String, "the VPC id, e.g. \"vpc-0abc\""),
                computed("arn", Type::String, "the VPC's ARN"),
            ],
        ),
        resource(
            "aws.ec2.subnet",
            "a range of a VPC in one availability zone",
            true,
            vec![
                required("vpc_id", Type::String, "the VPC it belongs to").replaces(),
                required("cidr_block", Type::String, "the subnet's IPv4 range, inside the VPC's").replaces(),
                chosen("availability_zone", Type::String, "the zone, e.g. \"eu-west-1a\" (default: AWS picks)")
                    .replaces(),
                optional(
                    "map_public_ip_on_launch",
                    Type::Bool,
                    "whether instances launched here get public IPs (default false)",
                )
                .guarded(),
                computed("id", Type::String, "the subnet id"),
                computed("arn", Type::String, "the subnet's ARN"),
            ],
        ),
        resource(
            "aws.ec2.internet_gateway",
            "a gateway between a VPC and the internet",
            true,
            vec![
                optional("vpc_id", Type::String, "the VPC to attach it to"),
                computed("id", Type::String, "the gateway id"),
            ],
        ),
        resource(
            "aws.ec2.eip",
            "an elastic IP address: a fixed public IPv4 address, e.g. for a NAT gateway",
            true,
            vec![
                computed("id", Type::String, "the allocation id, e.g. \"eipalloc-0abc\""),
                computed("public_ip", Type::String, "the address"),
                computed("arn", Type::String, "the address's ARN"),
            ],
        ),
        resource(
            "aws.ec2.nat_gateway",
            "lets a private subnet reach out to the internet without being reachable from it",
            true,
            vec![
                required("subnet_id", Type::String, "the subnet it sits in: a public one, for a public gateway")
                    .replaces(),
                optional("allocation_id", Type::String, "the elastic IP it sends from (public gateways need one)")
                    .replaces(),
                optional(
                    "connectivity_type",
                    Type::String,
                    "\"public\" (default: to the internet) or \"private\" (to other VPCs only)",
                )
                .replaces(),
                computed("id", Type::String, "the gateway id, e.g. \"nat-0abc\""),
                computed("arn", Type::String, "the gateway's ARN"),
            ],
        ),
        resource(
            "aws.ec2.route_table",
            "routes for the subnets associated with it",
            true,
            vec![
                required("vpc_id", Type::String, "the VPC it belongs to").replaces(),
                optional("routes", Type::list(route_type()), "routes besides the VPC's local route").guarded(),
                optional("subnet_ids", Type::list(Type::String), "subnets that use this table"),
                computed("id", Type::String, "the route table id"),
                computed("associations", Type::map(Type::String), "association ids by subnet id"),
            ],
        ),
        resource(
            "aws.ec2.security_group",
            "a stateful firewall for network interfaces",
            true,
            vec![
                required("name", Type::String, "the group's name, unique in its VPC").replaces(),
                optional("description", Type::String, "what the group is for").replaces(),
                required("vpc_id", Type::String, "the VPC it belongs to").replaces(),
                optional("ingress", Type::list(super::ec2::rule_type()), "inbound rules").guarded(),
                optional("egress", Type::list(super::ec2::rule_type()), "outbound rules (default: AWS allows all)"),
                computed("id", Type::String, "the security group id"),
                computed("arn", Type::String, "the group's ARN"),
            ],
        ),
    ]
}
