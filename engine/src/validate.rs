//! Values AWS would refuse, found before anything runs, each at the span of
//! what is wrong: address ranges that do not parse or are not a network's own
//! address, a subnet outside its VPC's range, an availability zone of another
//! region than its provider's, a port outside 0-65535, a log retention
//! CloudWatch does not offer. Only values known before apply are judged (a
//! range computed by `cidrsubnet` from a known one is); the rest waits for AWS.

use std::net::{Ipv4Addr, Ipv6Addr};

use drone_lang::ast::{Expr, ExprKind};
use drone_lang::Catalog;
use ipnet::{Ipv4Net, Ipv6Net};

use crate::error::EvalError;
use crate::eval::Resolver;
use crate::functions::CallContext;
use crate::model::Model;
use crate::policy::symbolic::Symbolic;
use crate::value::Value;

/// The retention periods CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// The AWS regions a provider may name.
pub const REGIONS: [&str; 37] = [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Every value of `model`'s resources that AWS would refuse.
pub fn validate(model: &Model, catalog: &Catalog, cx: &CallContext<'_>) -> Vec<EvalError> {
    let symbolic = Symbolic::new(model, catalog, cx);
    let mut errors = Vec::new();
    // Only types with something to judge are evaluated (an IAM role's documents are not).
    let judged: std::collections::BTreeSet<&str> = catalog
        .resources()
        .filter(|r| r.attributes.iter().any(|a| judged_in(&a.name, &a.ty)))
        .map(|r| r.type_name.as_str())
        .collect();
    for instance in model.instances.values().filter(|i| !i.read_only && judged.contains(i.type_name.as_str())) {
        let Value::Map(config) = symbolic.instance(&instance.address) else { continue };
        let region =
            model.providers.get(&instance.provider).and_then(|p| p.settings.get("region")).and_then(Value::as_str);
        let place = Place { type_name: &instance.type_name, region };
        for attr in &instance.attributes {
            if let Some(value) = config.get(&attr.name.name) {
                place.check(&attr.name.name, value, &attr.value, &mut errors);
            }
        }
        // A subnet's range lies inside its VPC's.
        if instance.type_name == "aws.ec2.subnet" {
            let span = instance.attributes.iter().find(|a| a.name.name == "cidr_block").map(|a| a.value.span);
            let subnet = config.get("cidr_block").and_then(Value::as_str).and_then(|c| c.parse::<Ipv4Net>().ok());
            let vpc = match config.get("vpc_id") {
                Some(Value::Ref { address, .. }) => Some(address.clone()),
                _ => None,
            };
            let range = vpc.as_ref().and_then(|v| match symbolic.instance(v) {
                Value::Map(m) => m.get("cidr_block").and_then(Value::as_str).and_then(|c| c.parse::<Ipv4Net>().ok()),
                _ => None,
            });
            if let (Some(subnet), Some(range), Some(vpc), Some(span)) = (subnet, range, vpc, span) {
                if !range.contains(&subnet) {
                    errors.push(EvalError::Invalid {
                        message: format!("{subnet} is not inside {vpc}'s range {range}"),
                        help: format!("choose a range inside {range}, e.g. with cidrsubnet(\"{range}\", 8, 1)"),
                        span,
                    });
                }
            }
        }
    }
    errors.sort_by_key(drone_lang::Located::span);
    errors
}

/// The attribute and field names a value is judged by.
const JUDGED: [&str; 9] =
    ["cidr_block", "cidr", "ipv6_cidr", "port", "ports", "container_port", "from_port", "to_port", "retention_in_days"];

/// Whether an attribute `name` of type `ty`, or a field inside it, is one `validate` judges.
fn judged_in(name: &str, ty: &drone_lang::Type) -> bool {
    use drone_lang::Type;
    JUDGED.contains(&name)
        || name == "availability_zone"
        || match ty {
            Type::Object(fields) => fields.iter().any(|f| judged_in(&f.name, &f.ty)),
            Type::List(inner) | Type::Map(inner) => judged_in("", inner),
            _ => false,
        }
}

/// What a value is judged against: its resource's type and its provider's region.
struct Place<'a> {
    type_name: &'a str,
    region: Option<&'a str>,
}

impl Place<'_> {
    /// Judges `value` of attribute or field `name`, written as `expr`, and what it contains.
    fn check(&self, name: &str, value: &Value, expr: &Expr, errors: &mut Vec<EvalError>) {
        let span = expr.span;
        let invalid = |message: String, help: String| EvalError::Invalid { message, help, span };
        match value {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    let element = match &expr.kind {
                        ExprKind::List(written) => written.get(i).unwrap_or(expr),
                        _ => expr,
                    };
                    // A list of numbers named `ports` is a list of ports.
                    let field = if name == "ports" { "port" } else { name };
                    self.check(field, item, element, errors);
                }
                return;
            }
            Value::Map(fields) => {
                for (key, field) in fields.iter() {
                    let written = match &expr.kind {
                        ExprKind::Map(entries) => {
                            entries.iter().find(|e| &e.key.name == key).map_or(expr, |e| &e.value)
                        }
                        _ => expr,
                    };
                    // A map of tags or of environment variables holds no ranges or ports.
                    if !matches!(name, "tags" | "environment" | "secrets") {
                        self.check(key, field, written, errors);
                    }
                }
                return;
            }
            _ => {}
        }
        match (name, value) {
            ("cidr_block" | "cidr", Value::String(text)) => {
                if let Some(e) = ipv4_range(text, self.type_name, name).map(|(m, h)| invalid(m, h)) {
                    errors.push(e);
                }
            }
            ("ipv6_cidr", Value::String(text)) => match text.parse::<Ipv6Net>() {
                Ok(net) if net.trunc() != net => errors.push(invalid(
                    format!("{text} is not the first address of its range"),
                    format!("write {}", net.trunc()),
                )),
                Ok(_) => {}
                Err(_) if text.parse::<Ipv6Addr>().is_ok() => errors
                    .push(invalid(format!("{text} has no prefix length"), format!("write {text}/128 for one address"))),
                Err(_) => errors
                    .push(invalid(format!("`{text}` is not an IPv6 range"), "write e.g. \"2001:db8::/32\"".into())),
            },
            ("port" | "container_port" | "from_port" | "to_port", Value::Number(n)) => {
                let lowest = if name.ends_with("_port") && name != "container_port" { -1.0 } else { 0.0 };
                if n.fract() != 0.0 || *n < lowest || *n > 65535.0 {
                    errors.push(invalid(
                        format!("port {n} is outside 0-65535"),
                        "a TCP or UDP port is 0 to 65535".into(),
                    ));
                }
            }
            ("retention_in_days", Value::Number(n))
                if self.type_name == "aws.logs.log_group"
                    && (n.fract() != 0.0 || !LOG_RETENTION_DAYS.contains(&(*n as u32))) =>
            {
                let closest =
                    LOG_RETENTION_DAYS.iter().min_by_key(|d| (f64::from(**d) - n).abs() as u64).copied().unwrap_or(30);
                errors.push(invalid(
                    format!("CloudWatch Logs keeps events for set periods; {n} days is not one of them"),
                    format!(
                        "did you mean {closest}? The periods: {}",
                        LOG_RETENTION_DAYS.map(|d| d.to_string()).join(", ")
                    ),
                ));
            }
            ("availability_zone", Value::String(zone)) => {
                if let Some(region) = self.region {
                    let in_region = zone
                        .strip_prefix(region)
                        .is_some_and(|rest| rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase()));
                    if !in_region {
                        errors.push(invalid(
                            format!("`{zone}` is not an availability zone of the provider's region {region}"),
                            format!("write a zone of {region}, e.g. \"{region}a\", or give the resource a provider in the zone's region"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Why `text` is not an IPv4 range AWS takes for `name` of `type_name` (a VPC's or a subnet's
/// must be /16 to /28), with the fix; `None` when it is one.
fn ipv4_range(text: &str, type_name: &str, name: &str) -> Option<(String, String)> {
    let net = match text.parse::<Ipv4Net>() {
        Ok(net) => net,
        Err(_) if text.parse::<Ipv4Addr>().is_ok() => {
            return Some((format!("{text} has no prefix length"), format!("write {text}/32 for one address")))
        }
        Err(_) => return Some((format!("`{text}` is not an IPv4 range"), "write e.g. \"10.0.0.0/16\"".into())),
    };
    if net.trunc() != net {
        return Some((format!("{text} is not the first address of its range"), format!("write {}", net.trunc())));
    }
    let block = name == "cidr_block" && matches!(type_name, "aws.ec2.vpc" | "aws.ec2.subnet");
    if block && !(16..=28).contains(&net.prefix_len()) {
        let what = if type_name == "aws.ec2.vpc" { "a VPC's" } else { "a subnet's" };
        return Some((
            format!("{what} range is /16 to /28; {text} is /{}", net.prefix_len()),
            "choose a prefix length from 16 (65,536 addresses) to 28 (16)".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_aws_would_refuse() {
        assert_eq!(ipv4_range("10.0.0.0/16", "aws.ec2.vpc", "cidr_block"), None);
        assert!(ipv4_range("10.0.0.1/16", "aws.ec2.vpc", "cidr_block").is_some_and(|(_, h)| h == "write 10.0.0.0/16"));
        assert!(ipv4_range("10.0.0.0/8", "aws.ec2.vpc", "cidr_block").is_some());
        assert!(ipv4_range("10.300.0.0/16", "aws.ec2.vpc", "cidr_block").is_some());
        assert_eq!(ipv4_range("0.0.0.0/0", "aws.ec2.security_group", "cidr"), None);
        assert!(ipv4_range("10.0.0.7", "aws.ec2.security_group", "cidr").is_some_and(|(_, h)| h.contains("/32")));
    }
}
