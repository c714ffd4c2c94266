//! Schemas of the edge: CloudFront distributions and the WAF web ACLs that
//! filter what reaches them.

use drone_lang::schema::{ResourceSchema, Type};

use super::{computed, field, optional, required, resource, AttributeExt};

/// The object type of one managed rule group in a web ACL.
pub fn managed_rule_group_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the group, e.g. \"AWSManagedRulesCommonRuleSet\""),
        field("vendor", Type::String, false, "who publishes it (default \"AWS\")"),
    ])
}

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![
        resource(
            "aws.cloudfront.distribution",
            "a CloudFront distribution: the global HTTPS entry point in front of one origin",
            true,
            vec![
                required("origin_domain", Type::String, "the origin's DNS name, e.g. a load balancer's `dns_name`"),
                optional(
                    "origin_protocol_policy",
                    Type::String,
                    "how CloudFront reaches the origin: \"https-only\" (default), \"http-only\" or \"match-viewer\"",
                ),
                optional(
                    "viewer_protocol_policy",
                    Type::String,
                    "what viewers may use: \"redirect-to-https\" (default), \"https-only\" or \"allow-all\"",
                ),
                optional("aliases", Type::list(Type::String), "the public host names it answers for"),
                optional(
                    "certificate_arn",
                    Type::String,
                    "an ACM certificate in us-east-1 for the aliases (default: the *.cloudfront.net certificate)",
                ),
                optional(
                    "minimum_protocol_version",
                    Type::String,
                    "the oldest TLS viewers may use with `certificate_arn`, e.g. \"TLSv1.2_2021\" (the default)",
                ),
                optional("web_acl_id", Type::String, "the ARN of a CLOUDFRONT-scope WAFv2 web ACL"),
                optional("cache_policy_id", Type::String, "a cache policy (default: AWS's CachingDisabled)"),
                optional(
                    "origin_request_policy_id",
                    Type::String,
                    "what is forwarded to the origin (default: AWS's AllViewer)",
                ),
                optional(
                    "price_class",
                    Type::String,
                    "\"PriceClass_100\" (default), \"PriceClass_200\" or \"PriceClass_All\"",
                ),
                optional("enabled", Type::Bool, "whether it serves requests (default true)"),
                optional("comment", Type::String, "a note shown in the console"),
                computed("id", Type::String, "the distribution id, e.g. \"E2QWRUHAPOMQZL\""),
                computed("arn", Type::String, "the distribution's ARN"),
                computed("domain_name", Type::String, "its *.cloudfront.net name, for DNS"),
                computed("hosted_zone_id", Type::String, "the hosted zone for Route 53 alias records"),
            ],
        ),
        resource(
            "aws.wafv2.web_acl",
            "a WAF web ACL: rules that inspect and block web requests",
            true,
            vec![
                required("name", Type::String, "the web ACL's name").replaces(),
                optional(
                    "scope",
                    Type::String,
                    "\"REGIONAL\" (default; load balancers) or \"CLOUDFRONT\" (managed in us-east-1)",
                )
                .replaces(),
                optional("description", Type::String, "what it protects"),
                optional(
                    "default_action",
                    Type::String,
                    "for requests no rule decides: \"allow\" (default) or \"block\"",
                ),
                optional(
                    "managed_rule_groups",
                    Type::list(managed_rule_group_type()),
                    "managed rule groups, evaluated in the order written",
                ),
                optional("rate_limit", Type::Number, "block an IP address above this many requests per 5 minutes"),
                computed("id", Type::String, "the web ACL's id"),
                computed("arn", Type::String, "the web ACL's ARN, for a distribution's `web_acl_id`"),
            ],
        ),
    ]
}
