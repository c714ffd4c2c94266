//! `aws.rds.db_subnet_group`: the subnets an RDS database may be placed in.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.rds.db_subnet_group",
    doc: "the subnets an RDS database may be placed in",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new("rds", "subgrp", format!("arn:aws:rds:{}:{}:subgrp:{}", s.region, s.account, s.name))]
    },
    actions: &[
        (Create, "rds:CreateDBSubnetGroup"),
        (Create, "rds:AddTagsToResource"),
        (Read, "rds:DescribeDBSubnetGroups"),
        (Read, "rds:ListTagsForResource"),
        (Update, "rds:ModifyDBSubnetGroup"),
        (Update, "rds:AddTagsToResource"),
        (Update, "rds:RemoveTagsFromResource"),
        (Delete, "rds:DeleteDBSubnetGroup"),
        (Find, "rds:DescribeDBSubnetGroups"),
        (Find, "rds:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("rds", sdk::DbSubnetGroup),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the group's name").replaces(),
        optional("description", Type::String, "what the group is for"),
        required("subnet_ids", Type::list(Type::String), "subnets in at least two availability zones"),
        computed("id", Type::String, "the group's name"),
        computed("arn", Type::String, "the group's ARN"),
    ]
}

#[cfg(feature = "rds")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{found, rds_tags, sync_tags, tags_of};
    use crate::aws::attrs::{self, like_prior, observed, required, string, strings, Update};
    use crate::aws::error::{sdk_error, unless_gone};
    use crate::aws::{AwsProvider, Ops};

    pub struct DbSubnetGroup;

    #[async_trait]
    impl Ops for DbSubnetGroup {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let name = required(config, "name", "CreateDBSubnetGroup")?;
            let out = p
                .rds
                .create_db_subnet_group()
                .db_subnet_group_name(name)
                .db_subnet_group_description(string(config, "description").unwrap_or("managed by drone"))
                .set_subnet_ids(Some(strings(config, "subnet_ids")))
                .set_tags(Some(rds_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error("CreateDBSubnetGroup", e))?;
            let arn = out.db_subnet_group().and_then(|g| g.db_subnet_group_arn()).unwrap_or_default().to_string();
            Ok(Observed { id: name.to_string(), attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeDBSubnetGroups";
            let name = required(f.config, "name", OP)?;
            let out = match p.rds.describe_db_subnet_groups().db_subnet_group_name(name).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            match out.db_subnet_groups().first().and_then(|g| g.db_subnet_group_arn()) {
                Some(arn) => Ok(Some(found(&p.rds, name, arn, f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.rds.describe_db_subnet_groups().db_subnet_group_name(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeDBSubnetGroups", e), None),
            };
            let Some(g) = out.db_subnet_groups().first() else {
                return Ok(None);
            };
            let subnets = g.subnets().iter().filter_map(|s| s.subnet_identifier()).map(Value::str).collect();
            let mut attributes = observed([
                ("name", attrs::text(g.db_subnet_group_name())),
                ("description", attrs::text(g.db_subnet_group_description())),
                ("subnet_ids", like_prior(prior.get("subnet_ids"), subnets, |a, b| a == b)),
                ("arn", attrs::text(g.db_subnet_group_arn())),
            ]);
            // DescribeDBSubnetGroups leaves tags out: a request of their own, when the workflow sets them.
            if let (Some(arn), true) = (g.db_subnet_group_arn(), prior.contains_key("tags")) {
                attributes.insert("tags".into(), tags_of(&p.rds, arn).await?);
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            sync_tags(&p.rds, u).await?;
            if u.changed("description") || u.changed("subnet_ids") {
                p.rds
                    .modify_db_subnet_group()
                    .db_subnet_group_name(u.id)
                    .set_db_subnet_group_description(string(u.config, "description").map(String::from))
                    .set_subnet_ids(Some(strings(u.config, "subnet_ids")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyDBSubnetGroup", e))?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.rds
                .delete_db_subnet_group()
                .db_subnet_group_name(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteDBSubnetGroup", e))
        }
    }
}
