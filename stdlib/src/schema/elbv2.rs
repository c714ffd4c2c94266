//! Schemas of the Elastic Load Balancing (v2) types: application load
//! balancers, their listeners and target groups.

use drone_lang::schema::{ResourceSchema, Type};

use super::{computed, optional, required, resource, AttributeExt};

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![
        resource(
            "aws.elbv2.load_balancer",
            "an application load balancer",
            true,
            vec![
                required("name", Type::String, "the load balancer's name").replaces(),
                optional("internal", Type::Bool, "reachable only inside the VPC (default false: internet-facing)")
                    .replaces(),
                required("subnets", Type::list(Type::String), "subnets in at least two availability zones"),
                required("security_groups", Type::list(Type::String), "the load balancer's security groups"),
                computed("id", Type::String, "the load balancer's ARN"),
                computed("arn", Type::String, "the load balancer's ARN"),
                computed("dns_name", Type::String, "the DNS name clients connect to"),
            ],
        ),
        resource(
            "aws.elbv2.target_group",
            "where a load balancer sends requests: the IP addresses of Fargate tasks",
            true,
            vec![
                required("name", Type::String, "the target group's name").replaces(),
                required("port", Type::Number, "the port targets listen on").replaces(),
                optional("protocol", Type::String, "\"HTTP\" (default) or \"HTTPS\"").replaces(),
                required("vpc_id", Type::String, "the VPC of the targets").replaces(),
                optional("health_check_path", Type::String, "the path health checks request (default \"/\")"),
                computed("id", Type::String, "the target group's ARN"),
                computed("arn", Type::String, "the target group's ARN"),
            ],
        ),
        resource(
            "aws.elbv2.listener",
            "a port a load balancer listens on, and what it does with requests",
            true,
            vec![
                required("load_balancer_arn", Type::String, "the load balancer's ARN").replaces(),
                required("port", Type::Number, "the port, e.g. 443"),
                required("protocol", Type::String, "\"HTTP\" or \"HTTPS\""),
                optional("certificate_arn", Type::String, "the TLS certificate (ACM) of an HTTPS listener"),
                optional("ssl_policy", Type::String, "the TLS negotiation policy of an HTTPS listener"),
                optional("forward_to", Type::String, "the target group to forward requests to"),
                optional("redirect_to_https", Type::Bool, "answer every request with a redirect to HTTPS on 443"),
                computed("id", Type::String, "the listener's ARN"),
                computed("arn", Type::String, "the listener's ARN"),
            ],
        ),
    ]
}
