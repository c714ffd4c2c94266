//! `aws.codeconnections.connection`: a link from the account to a repository host (GitHub,
//! GitLab, Bitbucket) that a pipeline's source action uses. AWS creates it PENDING: someone
//! completes the provider's handshake once, in the console, before the pipeline can read through it.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.codeconnections.connection",
    doc: "a connection to a repository host (GitHub, GitLab, Bitbucket), the source of a pipeline",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        // The ARN ends in an id AWS chooses: a policy names every connection of the region.
        vec![ArnPattern::new(
            "codeconnections",
            "connection",
            format!("arn:aws:codeconnections:{}:{}:connection/*", s.region, s.account),
        )]
    },
    actions: &[
        (Create, "codeconnections:CreateConnection"),
        (Create, "codeconnections:TagResource"),
        (Read, "codeconnections:GetConnection"),
        (Read, "codeconnections:ListTagsForResource"),
        (Update, "codeconnections:TagResource"),
        (Update, "codeconnections:UntagResource"),
        (Delete, "codeconnections:DeleteConnection"),
        (Find, "codeconnections:ListConnections"),
        (Find, "codeconnections:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("codeconnections", sdk::Connection),
};

/// The hosts a connection reaches; the self-managed ones through a `host_arn`.
pub const PROVIDERS: &[&str] = &["GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "Bitbucket"];

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the connection's name (at most 32 characters)").replaces(),
        required("provider_type", Type::one_of(PROVIDERS), "the repository host").replaces(),
        optional("host_arn", Type::String, "the host of a self-managed server (GitHub Enterprise, GitLab)").replaces(),
        computed("id", Type::String, "the connection's ARN"),
        computed("arn", Type::String, "the connection's ARN, which a pipeline's source action names"),
        computed(
            "status",
            Type::String,
            "PENDING until the handshake is completed in the console, then AVAILABLE (ERROR if it broke)",
        ),
        computed("owner_account_id", Type::String, "the account that owns it"),
    ]
}

#[cfg(feature = "codeconnections")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_codeconnections::types::{Connection as Link, ProviderType, Tag};
    use aws_sdk_codeconnections::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::Attributes;

    use crate::aws::attrs::{observed, owner, required, string, text, user_tags, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    /// The connection `arn`, if it exists.
    async fn get(p: &AwsProvider, arn: &str) -> Result<Option<Link>, ProviderError> {
        match p.codeconnections.get_connection().connection_arn(arn).send().await {
            Ok(out) => Ok(out.connection().cloned()),
            Err(e) => unless_gone(sdk_error("GetConnection", e), None),
        }
    }

    /// Every tag of the connection `arn`.
    async fn list_tags(p: &AwsProvider, arn: &str) -> Result<Vec<(String, String)>, ProviderError> {
        let out = p
            .codeconnections
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("ListTagsForResource", e))?;
        Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
    }

    fn tag_list(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid("TagResource", e.to_string())))
            .collect()
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let call = self.tag_resource().resource_arn(arn).set_tags(Some(tag_list(tags)?));
            call.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let call = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
            call.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    /// The computed attributes of `link`.
    fn computed(link: &Link) -> Attributes {
        observed([
            ("arn", text(link.connection_arn())),
            ("status", text(link.connection_status().map(|s| s.as_str()))),
            ("owner_account_id", text(link.owner_account_id())),
        ])
    }

    /// The type's operations.
    pub struct Connection;

    #[async_trait]
    impl Ops for Connection {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateConnection";
            let name = required(config, "name", OP)?;
            let provider = required(config, "provider_type", OP)?;
            let out = p
                .codeconnections
                .create_connection()
                .connection_name(name)
                .provider_type(ProviderType::from(provider))
                .set_host_arn(string(config, "host_arn").map(String::from))
                .set_tags(Some(tag_list(tags)?))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.connection_arn().to_string();
            let link = get(p, &arn).await?.ok_or_else(|| missing("GetConnection", "connection"))?;
            Ok(Observed { id: arn, attributes: computed(&link) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            // Names are not unique: only a connection tagged as this address's is this resource.
            let name = required(f.config, "name", "ListConnections")?;
            let mut pages = p
                .codeconnections
                .list_connections()
                .set_provider_type_filter(string(f.config, "provider_type").map(ProviderType::from))
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error("ListConnections", e))?;
                for link in page.connections() {
                    let Some(arn) = link.connection_arn().filter(|_| link.connection_name() == Some(name)) else {
                        continue;
                    };
                    let tags = list_tags(p, arn).await?;
                    let owner = owner(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), f.tags);
                    if owner == Owner::This {
                        return Ok(Some(Found { id: arn.to_string(), owner }));
                    }
                }
            }
            Ok(None)
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(link) = get(p, id).await? else { return Ok(None) };
            let mut attributes = computed(&link);
            attributes.insert("name".into(), text(link.connection_name()));
            attributes.insert("provider_type".into(), text(link.provider_type().map(|t| t.as_str())));
            attributes.insert("host_arn".into(), text(link.host_arn()));
            if prior.contains_key("tags") {
                let tags = list_tags(p, id).await?;
                attributes.insert("tags".into(), user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            // Everything else replaces the connection: only its tags change in place.
            if u.changed("tags") {
                tagging::sync(&p.codeconnections, u.id, u).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            match p.codeconnections.delete_connection().connection_arn(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteConnection", e), ()),
            }
        }
    }
}
