//! `aws.ecr.replication_rule`: one rule of the registry's replication
//! configuration: repositories whose names begin with a prefix are copied to
//! other regions of the account, each image as it is pushed (AWS makes the
//! destination repository when it does not exist). The registry keeps one
//! configuration for every workflow of the account: drone changes only its own
//! rule (its prefix) and keeps the others.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ecr.replication_rule",
    doc: "copies the images of repositories whose names begin with a prefix to other regions",
    taggable: false,
    attributes,
    naming: Some("repository_prefix"),
    // The configuration is the registry's, which IAM names by no ARN. The first rule of an account
    // makes ECR's replication service-linked role, as the caller.
    arns: |s| {
        vec![ArnPattern::new(
            "iam",
            "role",
            format!(
                "arn:aws:iam::{}:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication",
                s.account
            ),
        )]
    },
    actions: &[
        (Create, "ecr:DescribeRegistry"),
        (Create, "ecr:PutReplicationConfiguration"),
        (Create, "iam:CreateServiceLinkedRole"),
        (Read, "ecr:DescribeRegistry"),
        (Update, "ecr:DescribeRegistry"),
        (Update, "ecr:PutReplicationConfiguration"),
        (Delete, "ecr:DescribeRegistry"),
        (Delete, "ecr:PutReplicationConfiguration"),
        (Find, "ecr:DescribeRegistry"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ecr", sdk::ReplicationRule),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("repository_prefix", Type::String, "repositories whose names begin with this are copied").replaces(),
        required("regions", Type::list(Type::String), "the regions of this account that get a copy"),
        computed("id", Type::String, "the prefix: a registry holds one rule per prefix"),
    ]
}

#[cfg(feature = "ecr")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ecr::types::{
        ReplicationConfiguration, ReplicationDestination, ReplicationRule as Rule, RepositoryFilter,
        RepositoryFilterType,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{like_prior, observed, required, strings, Update};
    use crate::aws::error::{invalid, sdk_error};
    use crate::aws::{AwsProvider, Ops};

    pub struct ReplicationRule;

    #[async_trait]
    impl Ops for ReplicationRule {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let prefix = required(config, "repository_prefix", "PutReplicationConfiguration")?;
            // Putting the rule again is harmless: a create whose reply was lost repeats as itself.
            put(p, prefix, Some(&strings(config, "regions"))).await?;
            Ok(Observed { id: prefix.to_string(), attributes: Attributes::new() })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let prefix = required(f.config, "repository_prefix", "DescribeRegistry")?;
            // A rule carries no tags: one found by its prefix is nobody's drone knows.
            Ok(rules(p)
                .await?
                .iter()
                .any(|r| prefix_of(r) == Some(prefix))
                .then(|| Found { id: prefix.to_string(), owner: Owner::Untagged }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let rules = rules(p).await?;
            Ok(rules.iter().find(|r| prefix_of(r) == Some(id)).map(|rule| {
                let regions = rule.destinations().iter().map(|d| Value::str(d.region())).collect();
                Observed {
                    id: id.to_string(),
                    attributes: observed([
                        ("repository_prefix", Value::str(id)),
                        ("regions", like_prior(prior.get("regions"), regions, |a, b| a == b)),
                    ]),
                }
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            put(p, u.id, Some(&strings(u.config, "regions"))).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            put(p, id, None).await
        }
    }

    /// The registry's replication rules, as they are now.
    async fn rules(p: &AwsProvider) -> Result<Vec<Rule>, ProviderError> {
        let out = p.ecr.describe_registry().send().await.map_err(|e| sdk_error("DescribeRegistry", e))?;
        Ok(out.replication_configuration().map(|c| c.rules().to_vec()).unwrap_or_default())
    }

    /// The prefix a rule copies, when it names one.
    fn prefix_of(rule: &Rule) -> Option<&str> {
        let filters = rule.repository_filters();
        match filters {
            [only] if only.filter_type() == &RepositoryFilterType::PrefixMatch => Some(only.filter()),
            _ => None,
        }
    }

    /// Writes the registry's configuration with the rule for `prefix` set to `regions` (removed
    /// when none), every other rule as it is.
    async fn put(p: &AwsProvider, prefix: &str, regions: Option<&[String]>) -> Result<(), ProviderError> {
        const OP: &str = "PutReplicationConfiguration";
        let built = |e: aws_sdk_ecr::error::BuildError| invalid(OP, e.to_string());
        let mut kept: Vec<Rule> = rules(p).await?.into_iter().filter(|r| prefix_of(r) != Some(prefix)).collect();
        if let Some(regions) = regions {
            let account = p.account().await?;
            let destinations = regions
                .iter()
                .map(|r| ReplicationDestination::builder().region(r).registry_id(&account).build().map_err(built))
                .collect::<Result<Vec<_>, _>>()?;
            let filter =
                RepositoryFilter::builder().filter(prefix).filter_type(RepositoryFilterType::PrefixMatch).build();
            kept.push(
                Rule::builder()
                    .set_destinations(Some(destinations))
                    .repository_filters(filter.map_err(built)?)
                    .build()
                    .map_err(built)?,
            );
        }
        let configuration = ReplicationConfiguration::builder().set_rules(Some(kept)).build().map_err(built)?;
        let put = p.ecr.put_replication_configuration().replication_configuration(configuration);
        put.send().await.map(drop).map_err(|e| sdk_error(OP, e))
    }
}
