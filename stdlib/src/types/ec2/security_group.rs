//! `aws.ec2.security_group`: a stateful firewall for network interfaces.
//! Rules are written one source each; AWS groups them by protocol and ports.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.security_group",
    doc: "a stateful firewall for network interfaces",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "security-group"), arn(scope, "security-group-rule")],
    actions: &[
        (Create, "ec2:CreateSecurityGroup"),
        (Create, "ec2:RevokeSecurityGroupEgress"),
        (Create, "ec2:AuthorizeSecurityGroupIngress"),
        (Create, "ec2:AuthorizeSecurityGroupEgress"),
        (Create, "ec2:DescribeManagedPrefixLists"),
        (Read, "ec2:DescribeSecurityGroups"),
        (Read, "ec2:DescribeManagedPrefixLists"),
        (Update, "ec2:DescribeManagedPrefixLists"),
        (Update, "ec2:AuthorizeSecurityGroupIngress"),
        (Update, "ec2:AuthorizeSecurityGroupEgress"),
        (Update, "ec2:RevokeSecurityGroupIngress"),
        (Update, "ec2:RevokeSecurityGroupEgress"),
        (Delete, "ec2:DeleteSecurityGroup"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeSecurityGroups"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::SecurityGroup),
};

/// The object type of one security group rule.
pub fn rule_type() -> Type {
    Type::Object(vec![
        field(
            "protocol",
            Type::one_of(&["tcp", "udp", "icmp", "icmpv6", "all", "-1"]),
            false,
            "\"tcp\" (default), \"udp\", \"icmp\" or \"all\"",
        ),
        field("port", Type::Number, false, "a single port (sets from_port and to_port)"),
        field("from_port", Type::Number, false, "first port of a range"),
        field("to_port", Type::Number, false, "last port of a range"),
        field("cidr", Type::String, false, "an IPv4 source or destination range"),
        field("ipv6_cidr", Type::String, false, "an IPv6 source or destination range"),
        field("security_group", Type::String, false, "a security group id as source or destination"),
        field(
            "prefix_list",
            Type::String,
            false,
            "a prefix list as source or destination: its id, or the name of one AWS manages (\"com.amazonaws.global.cloudfront.origin-facing\")",
        ),
        field("description", Type::String, false, "why the rule exists"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the group's name, unique in its VPC").replaces(),
        optional("description", Type::String, "what the group is for").replaces(),
        required("vpc_id", Type::String, "the VPC it belongs to").replaces(),
        optional("ingress", Type::list(rule_type()), "inbound rules").guarded(),
        optional("egress", Type::list(rule_type()), "outbound rules (default: AWS allows all)"),
        computed("id", Type::String, "the security group id"),
        computed("arn", Type::String, "the group's ARN"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, UserIdGroupPair};
    use drone_engine::provider::{Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{prior_of, tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{self, like_prior, objects, observed, required, string, text, Update};
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::AwsProvider;

    pub struct SecurityGroup;

    #[async_trait]
    impl Ec2Type for SecurityGroup {
        const ID_PREFIX: &'static str = "sg-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let ec2 = &p.ec2;
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
            let lists = ManagedLists::of(p, [config]).await?;
            let configure = async {
                let ingress = rules(config, "ingress", &lists)?;
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
                    let egress = rules(config, "egress", &lists)?;
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

        async fn describe(
            &self,
            p: &AwsProvider,
            ids: Vec<String>,
            asked: &[(&str, &Attributes)],
        ) -> Result<BTreeMap<String, Attributes>, ProviderError> {
            let found = p
                .ec2
                .describe_security_groups()
                .set_group_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeSecurityGroups", e))?;
            let lists = ManagedLists::of(p, asked.iter().map(|(_, a)| *a)).await?;
            let mut out = BTreeMap::new();
            for g in found.security_groups() {
                let Some(id) = g.group_id() else { continue };
                let prior = |name: &str| prior_of(asked, id).and_then(|p| p.get(name));
                let mut attributes = observed([
                    ("name", text(g.group_name())),
                    ("description", text(g.description())),
                    ("vpc_id", text(g.vpc_id())),
                    ("ingress", like_prior(prior("ingress"), rule_objects(g.ip_permissions(), &lists), same_rule)),
                    ("egress", like_prior(prior("egress"), rule_objects(g.ip_permissions_egress(), &lists), same_rule)),
                    ("tags", tags_of(g.tags())),
                ]);
                if let Some(arn) = g.security_group_arn() {
                    attributes.insert("arn".into(), Value::str(arn));
                }
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let ec2 = &p.ec2;
            tagging::sync(ec2, u.id, u).await?;
            let lists = ManagedLists::of(p, [u.prior, u.config]).await?;
            for (attr, ingress) in [("ingress", true), ("egress", false)] {
                if !u.changed(attr) {
                    continue;
                }
                let before = rules(u.prior, attr, &lists)?;
                let after = rules(u.config, attr, &lists)?;
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
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteSecurityGroup", e))
        }
    }

    /// The AWS-managed prefix lists the rules at hand name, by name and by id:
    /// a workflow names them (`com.amazonaws.global.cloudfront.origin-facing`),
    /// EC2 knows them by an id that differs per region.
    #[derive(Default)]
    struct ManagedLists {
        ids: BTreeMap<String, String>,
    }

    impl ManagedLists {
        /// The lists, asked of EC2 only when some rule of `configs` names one, or a rule read back may.
        async fn of<'a>(
            p: &AwsProvider,
            configs: impl IntoIterator<Item = &'a Attributes>,
        ) -> Result<ManagedLists, ProviderError> {
            let named = configs.into_iter().any(|c| {
                ["ingress", "egress"]
                    .iter()
                    .any(|attr| objects(c, attr).iter().any(|r| r.get("prefix_list").and_then(Value::as_str).is_some()))
            });
            if !named {
                return Ok(ManagedLists::default());
            }
            let out = p
                .ec2
                .describe_managed_prefix_lists()
                .filters(aws_sdk_ec2::types::Filter::builder().name("owner-id").values("AWS").build())
                .send()
                .await
                .map_err(|e| sdk_error("DescribeManagedPrefixLists", e))?;
            let ids = out
                .prefix_lists()
                .iter()
                .filter_map(|l| Some((l.prefix_list_name()?.to_string(), l.prefix_list_id()?.to_string())))
                .collect();
            Ok(ManagedLists { ids })
        }

        /// The id of the list a rule names (an id stays as written).
        fn id(&self, written: &str) -> Result<String, ProviderError> {
            if written.starts_with("pl-") {
                return Ok(written.to_string());
            }
            self.ids.get(written).cloned().ok_or_else(|| {
                invalid("DescribeManagedPrefixLists", format!("no prefix list AWS manages is named `{written}`"))
            })
        }

        /// How a workflow writes the list with `id`: its name when AWS manages it.
        fn written(&self, id: &str) -> String {
            self.ids.iter().find(|(_, i)| *i == id).map_or_else(|| id.to_string(), |(name, _)| name.clone())
        }
    }

    /// The configured rules of `attr` as EC2 permissions, one source each.
    fn rules(config: &Attributes, attr: &str, lists: &ManagedLists) -> Result<Vec<IpPermission>, ProviderError> {
        objects(config, attr).into_iter().map(|r| permission(r, lists)).collect()
    }

    fn permission(rule: &BTreeMap<String, Value>, lists: &ManagedLists) -> Result<IpPermission, ProviderError> {
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
        let sources =
            ["cidr", "ipv6_cidr", "security_group", "prefix_list"].iter().filter(|k| get(k).is_some()).count();
        if sources != 1 {
            return Err(invalid(
                op,
                "a rule needs exactly one of `cidr`, `ipv6_cidr`, `security_group` and `prefix_list`",
            ));
        }
        if let Some(cidr) = get("cidr") {
            b = b.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description).build());
        } else if let Some(cidr) = get("ipv6_cidr") {
            b = b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).set_description(description).build());
        } else if let Some(group) = get("security_group") {
            b = b.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).set_description(description).build());
        } else if let Some(list) = get("prefix_list") {
            let id = lists.id(list)?;
            b = b.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).set_description(description).build());
        }
        Ok(b.build())
    }

    /// Security group permissions as the workflow writes rules: one source each,
    /// `port` for a single port, the protocol only when not TCP.
    fn rule_objects(permissions: &[IpPermission], lists: &ManagedLists) -> Vec<Value> {
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
                out.push(Value::map(r));
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
            for list in p.prefix_list_ids() {
                rule("prefix_list", &lists.written(list.prefix_list_id().unwrap_or_default()), list.description());
            }
        }
        out
    }

    /// Whether two rules admit the same traffic from the same source, with the
    /// same description, however each is spelled.
    fn same_rule(a: &Value, b: &Value) -> bool {
        match (a.as_map(), b.as_map()) {
            (Some(a), Some(b)) => {
                // Both as written: a list named in one is named in the other (read back the same way).
                let lists = ManagedLists::default();
                let spelled = |r: &BTreeMap<String, Value>| match r.get("prefix_list").and_then(Value::as_str) {
                    Some(list) if !list.starts_with("pl-") => {
                        let mut r = r.clone();
                        r.insert("prefix_list".into(), Value::String(format!("pl-{list}")));
                        r
                    }
                    _ => r.clone(),
                };
                matches!((permission(&spelled(a), &lists), permission(&spelled(b), &lists)), (Ok(x), Ok(y)) if x == y)
            }
            _ => false,
        }
    }
}
