//! `aws.route53.record`: one record set of a hosted zone: values with a TTL,
//! or an alias to an AWS endpoint (a CloudFront distribution, a load balancer).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.route53.record",
    doc: "a record set of a hosted zone: values with a TTL, or an alias to an AWS endpoint",
    taggable: false,
    attributes,
    naming: None,
    arns: |_| super::zones_and_changes(),
    actions: &[
        (Create, "route53:ChangeResourceRecordSets"),
        (Create, "route53:GetChange"),
        (Read, "route53:ListResourceRecordSets"),
        (Update, "route53:ChangeResourceRecordSets"),
        (Update, "route53:GetChange"),
        (Delete, "route53:ListResourceRecordSets"),
        (Delete, "route53:ChangeResourceRecordSets"),
        (Delete, "route53:GetChange"),
        (Find, "route53:ListResourceRecordSets"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("route53", sdk::Record),
};

/// The object type of an alias target.
pub fn alias_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the target's DNS name, e.g. a distribution's `domain_name`"),
        field("zone_id", Type::String, true, "the target's hosted zone, e.g. a distribution's `hosted_zone_id`"),
        field("evaluate_target_health", Type::Bool, false, "answer only while the target is healthy (default false)"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("zone_id", Type::String, "the hosted zone").replaces(),
        required("name", Type::String, "the record's name, e.g. \"blog.drone-shuttle.example\"").replaces(),
        required("type", Type::one_of(&["A", "AAAA", "CNAME", "TXT", "MX", "NS", "CAA", "SRV"]), "the record type")
            .replaces(),
        optional("ttl", Type::Number, "seconds resolvers may keep the answer (not with `alias`)"),
        optional("records", Type::list(Type::String), "the values (not with `alias`)"),
        optional("alias", alias_type(), "an AWS endpoint to answer with, at no charge and no TTL"),
        computed("id", Type::String, "ZONE_NAME_TYPE"),
    ]
}

#[cfg(feature = "route53")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_route53::types::{AliasTarget, ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{change, record_set, written, zone_id};
    use crate::aws::attrs::{required, strings, Update};
    use crate::aws::error::invalid;
    use crate::aws::{AwsProvider, Ops};

    pub struct Record;

    #[async_trait]
    impl Ops for Record {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let (zone, name, kind) = identity("ChangeResourceRecordSets", config)?;
            // CREATE, not UPSERT: a record someone else keeps there is refused, not overwritten.
            change(&p.route53, zone, ChangeAction::Create, set("ChangeResourceRecordSets", config)?).await?;
            Ok(Observed { id: id_of(zone, name, kind), attributes: Attributes::new() })
        }

        /// A zone holds one record set per name and type: the one there is this workflow's.
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let (zone, name, kind) = identity("ListResourceRecordSets", f.config)?;
            let found = record_set(&p.route53, zone, name, kind).await?;
            Ok(found.map(|_| Found { id: id_of(zone, name, kind), owner: Owner::This }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let (zone, name, kind) = parts(id)?;
            let found = record_set(&p.route53, zone, name, kind).await?;
            Ok(found.map(|s| Observed { id: id.to_string(), attributes: observed(zone, &s, prior) }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let (zone, _, _) = parts(u.id)?;
            change(&p.route53, zone, ChangeAction::Upsert, set("ChangeResourceRecordSets", u.config)?).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            let (zone, name, kind) = parts(id)?;
            // A DELETE names the record set exactly as it is.
            match record_set(&p.route53, zone, name, kind).await? {
                Some(current) => change(&p.route53, zone, ChangeAction::Delete, current).await,
                None => Ok(()),
            }
        }
    }

    /// Zone, name and type, from a configuration.
    fn identity<'a>(operation: &str, config: &'a Attributes) -> Result<(&'a str, &'a str, &'a str), ProviderError> {
        Ok((
            required(config, "zone_id", operation)?,
            required(config, "name", operation)?,
            required(config, "type", operation)?,
        ))
    }

    fn id_of(zone: &str, name: &str, kind: &str) -> String {
        format!("{}_{}_{kind}", zone_id(zone), written(name))
    }

    /// Zone, name and type, from an id made by [`id_of`] (names hold no `_` but at their start, as
    /// `_acme-challenge` or ACM's `_a1b2...`: the zone is before the first `_`, the type after the last).
    fn parts(id: &str) -> Result<(&str, &str, &str), ProviderError> {
        let bad = || invalid("ListResourceRecordSets", format!("`{id}` is not a ZONE_NAME_TYPE record id"));
        let (zone, rest) = id.split_once('_').ok_or_else(bad)?;
        let (name, kind) = rest.rsplit_once('_').ok_or_else(bad)?;
        Ok((zone, name, kind))
    }

    /// The record set the configuration describes.
    fn set(operation: &str, config: &Attributes) -> Result<ResourceRecordSet, ProviderError> {
        let (_, name, kind) = identity(operation, config)?;
        let built = |e: aws_smithy_types::error::operation::BuildError| invalid(operation, e.to_string());
        let mut b = ResourceRecordSet::builder().name(name).r#type(RrType::from(kind));
        match config.get("alias").and_then(Value::as_map) {
            Some(alias) => {
                let text = |k: &str| alias.get(k).and_then(Value::as_str).map(String::from);
                let target = AliasTarget::builder()
                    .set_dns_name(text("name"))
                    .set_hosted_zone_id(text("zone_id"))
                    .evaluate_target_health(
                        alias.get("evaluate_target_health").and_then(Value::as_bool).unwrap_or(false),
                    )
                    .build()
                    .map_err(built)?;
                b = b.alias_target(target);
            }
            None => {
                let ttl = config.get("ttl").and_then(Value::as_i64).unwrap_or(300);
                let records = strings(config, "records")
                    .into_iter()
                    .map(|r| ResourceRecord::builder().value(r).build().map_err(built))
                    .collect::<Result<Vec<_>, _>>()?;
                if records.is_empty() {
                    return Err(invalid(operation, "a record needs `records` or `alias`"));
                }
                b = b.ttl(ttl).set_resource_records(Some(records));
            }
        }
        b.build().map_err(built)
    }

    /// A record set as the workflow writes it.
    fn observed(zone: &str, s: &ResourceRecordSet, prior: &Attributes) -> Attributes {
        let mut out = Attributes::from([
            ("zone_id".to_string(), Value::str(zone)),
            ("name".to_string(), Value::String(written(s.name()))),
            ("type".to_string(), Value::str(s.r#type().as_str())),
        ]);
        match s.alias_target() {
            Some(a) => {
                // AWS answers the target's name with a final dot, and lower case.
                let same_name = |v: &Value| v.as_str().is_some_and(|n| written(n) == written(a.dns_name()));
                let prior_alias = prior.get("alias").and_then(Value::as_map);
                let name = match prior_alias.and_then(|m| m.get("name")).filter(|v| same_name(v)) {
                    Some(v) => v.clone(),
                    None => Value::String(written(a.dns_name())),
                };
                let mut alias = BTreeMap::from([
                    ("name".to_string(), name),
                    ("zone_id".to_string(), Value::str(a.hosted_zone_id())),
                ]);
                if a.evaluate_target_health() || prior_alias.is_some_and(|m| m.contains_key("evaluate_target_health")) {
                    alias.insert("evaluate_target_health".into(), Value::Bool(a.evaluate_target_health()));
                }
                out.insert("alias".into(), Value::map(alias));
            }
            None => {
                out.insert("ttl".into(), s.ttl().map_or(Value::Null, |t| Value::Number(t as f64)));
                let values = s.resource_records().iter().map(|r| Value::str(r.value())).collect();
                out.insert("records".into(), Value::List(values));
            }
        }
        out
    }
}
