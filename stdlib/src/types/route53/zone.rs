//! `aws.route53.zone`: a public hosted zone: the DNS of a domain the customer
//! owns (its registrar points at `name_servers`).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.route53.zone",
    doc: "a public hosted zone: the DNS of a domain",
    taggable: true,
    attributes,
    naming: Some("name"),
    // Zone ids exist only after create; Route 53 is global.
    arns: |_| super::zones_and_changes(),
    actions: &[
        (Create, "route53:CreateHostedZone"),
        (Create, "route53:ChangeTagsForResource"),
        (Create, "route53:GetChange"),
        (Read, "route53:GetHostedZone"),
        (Read, "route53:ListTagsForResource"),
        (Update, "route53:UpdateHostedZoneComment"),
        (Update, "route53:ChangeTagsForResource"),
        (Delete, "route53:DeleteHostedZone"),
        (Find, "route53:ListHostedZonesByName"),
        (Find, "route53:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("route53", sdk::Zone),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the domain, e.g. \"drone-shuttle.example\"").replaces(),
        optional("comment", Type::String, "what the zone is for"),
        computed("id", Type::String, "the zone id, e.g. \"Z0123456789ABCDEFGHIJ\""),
        computed("name_servers", Type::list(Type::String), "the servers to name at the domain's registrar"),
    ]
}

#[cfg(feature = "route53")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_route53::types::{HostedZoneConfig, TagResourceType};
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{written, zone_id, Tags};
    use crate::aws::attrs::{self, observed, required, string, Update};
    use crate::aws::error::{missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    pub struct Zone;

    /// Route 53's tagging calls for hosted zones.
    fn zones(p: &AwsProvider) -> Tags<'_> {
        Tags { client: &p.route53, kind: TagResourceType::Hostedzone }
    }

    #[async_trait]
    impl Ops for Zone {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateHostedZone";
            let comment = string(config, "comment").map(|c| HostedZoneConfig::builder().comment(c).build());
            let out = p
                .route53
                .create_hosted_zone()
                .name(required(config, "name", OP)?)
                // The create's token: a repeated request returns the zone it made.
                .caller_reference(token)
                .set_hosted_zone_config(comment)
                .customize()
                .config_override(crate::aws::once!(aws_sdk_route53))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let zone = out.hosted_zone().ok_or_else(|| missing(OP, "HostedZone"))?;
            let id = zone_id(zone.id()).to_string();
            zones(p).tag(&id, tags).await.map_err(|e| e.after_create(&id))?;
            let servers = out.delegation_set().map(|d| d.name_servers().to_vec()).unwrap_or_default();
            let servers = Value::List(servers.iter().map(Value::str).collect());
            Ok(Observed { id, attributes: observed([("name_servers", servers)]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "ListHostedZonesByName";
            let name = written(required(f.config, "name", OP)?);
            let out = p.route53.list_hosted_zones_by_name().dns_name(&name).send().await;
            let out = out.map_err(|e| sdk_error(OP, e))?;
            // Zones may share a name (each environment's, a delegated copy): this state's first.
            let mut found = Vec::new();
            for zone in out.hosted_zones().iter().filter(|z| written(z.name()) == name) {
                let id = zone_id(zone.id()).to_string();
                // Made by this create (its caller reference is the token) though not tagged yet:
                // the reply was lost between the create and the tagging call.
                let owner = if zone.caller_reference() == f.token {
                    Owner::This
                } else {
                    let tags = zones(p).list(&id).await?;
                    attrs::owner(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), f.tags)
                };
                found.push(Found { owner, id });
            }
            found.sort_by_key(|f| f.owner != Owner::This);
            Ok(found.into_iter().next())
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.route53.get_hosted_zone().id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetHostedZone", e), None),
            };
            let Some(zone) = out.hosted_zone() else { return Ok(None) };
            let servers = out.delegation_set().map(|d| d.name_servers().to_vec()).unwrap_or_default();
            let mut attributes = observed([
                ("name", Value::String(written(zone.name()))),
                ("comment", attrs::text(zone.config().and_then(|c| c.comment()).filter(|c| !c.is_empty()))),
                ("name_servers", Value::List(servers.iter().map(Value::str).collect())),
            ]);
            if prior.contains_key("tags") {
                let tags = zones(p).list(id).await?;
                attributes.insert("tags".into(), attrs::user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("comment") {
                p.route53
                    .update_hosted_zone_comment()
                    .id(u.id)
                    .comment(string(u.config, "comment").unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateHostedZoneComment", e))?;
            }
            tagging::sync(&zones(p), u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            match p.route53.delete_hosted_zone().id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteHostedZone", e), ()),
            }
        }
    }
}
