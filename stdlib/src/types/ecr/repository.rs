//! `aws.ecr.repository`: an ECR repository of container images.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ecr.repository",
    doc: "an ECR repository of container images",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new(
            "ecr",
            "repository",
            format!("arn:aws:ecr:{}:{}:repository/{}", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "ecr:CreateRepository"),
        (Create, "ecr:TagResource"),
        (Read, "ecr:DescribeRepositories"),
        (Read, "ecr:ListTagsForResource"),
        (Update, "ecr:PutImageScanningConfiguration"),
        (Update, "ecr:PutImageTagMutability"),
        (Update, "ecr:TagResource"),
        (Update, "ecr:UntagResource"),
        (Delete, "ecr:DeleteRepository"),
        (Find, "ecr:DescribeRepositories"),
        (Find, "ecr:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ecr", sdk::Repository),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the repository's name").replaces(),
        optional("scan_on_push", Type::Bool, "scan every pushed image for known vulnerabilities"),
        optional("immutable_tags", Type::Bool, "refuse to move a tag to another image once pushed"),
        optional("force_delete", Type::Bool, "delete the images too when the repository is deleted").drone_side(),
        computed("id", Type::String, "the repository's name"),
        computed("arn", Type::String, "the repository's ARN"),
        computed("url", Type::String, "the repository's URL for `docker push`"),
    ]
}

#[cfg(feature = "ecr")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;

    use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};
    use aws_sdk_ecr::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{boolean, observed, required, string, text, user_tags, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    fn mutability(config: &Attributes) -> ImageTagMutability {
        if boolean(config, "immutable_tags") == Some(true) {
            ImageTagMutability::Immutable
        } else {
            ImageTagMutability::Mutable
        }
    }

    fn scanning(config: &Attributes) -> ImageScanningConfiguration {
        ImageScanningConfiguration::builder().scan_on_push(boolean(config, "scan_on_push") == Some(true)).build()
    }

    /// Every tag of the repository `arn`.
    async fn list_tags(p: &AwsProvider, arn: &str) -> Result<Vec<Tag>, ProviderError> {
        let out = p
            .ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("ListTagsForResource", e))?;
        Ok(out.tags().to_vec())
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags = Some(ecr_tags(tags, "TagResource")?);
            self.tag_resource()
                .resource_arn(arn)
                .set_tags(tags)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let untag = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
            untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    fn ecr_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
            .collect()
    }

    /// The type's operations.
    pub struct Repository;

    #[async_trait]
    impl Ops for Repository {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateRepository";
            let name = required(config, "name", OP)?;
            let out = p
                .ecr
                .create_repository()
                .repository_name(name)
                .image_tag_mutability(mutability(config))
                .image_scanning_configuration(scanning(config))
                .set_tags(Some(ecr_tags(tags, OP)?))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let repo = out.repository().ok_or_else(|| missing(OP, "Repository"))?;
            let arn = repo.repository_arn().ok_or_else(|| missing(OP, "RepositoryArn"))?.to_string();
            let url = repo.repository_uri().unwrap_or_default().to_string();
            Ok(Observed {
                id: name.to_string(),
                attributes: observed([("arn", Value::String(arn)), ("url", Value::String(url))]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "DescribeRepositories")?;
            let out = match p.ecr.describe_repositories().repository_names(name).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeRepositories", e), None),
            };
            let Some(arn) = out.repositories().first().and_then(|r| r.repository_arn()) else {
                return Ok(None);
            };
            let tags = list_tags(p, arn).await?;
            let owner: Owner = crate::aws::attrs::owner(tags.iter().map(|t| (t.key(), t.value())), f.tags);
            Ok(Some(Found { id: name.to_string(), owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.ecr.describe_repositories().repository_names(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeRepositories", e), None),
            };
            let Some(repo) = out.repositories().first() else {
                return Ok(None);
            };
            let scan = repo.image_scanning_configuration().is_some_and(|c| c.scan_on_push());
            let immutable = repo.image_tag_mutability() == Some(&ImageTagMutability::Immutable);
            let mut attributes = observed([
                ("name", text(repo.repository_name())),
                ("scan_on_push", Value::Bool(scan)),
                ("immutable_tags", Value::Bool(immutable)),
                ("arn", text(repo.repository_arn())),
                ("url", text(repo.repository_uri())),
            ]);
            // Tags are a request of their own: read when the workflow sets them.
            if let (Some(arn), true) = (repo.repository_arn(), prior.contains_key("tags")) {
                let tags = list_tags(p, arn).await?;
                attributes.insert("tags".into(), user_tags(tags.iter().map(|t| (t.key(), t.value()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("scan_on_push") {
                p.ecr
                    .put_image_scanning_configuration()
                    .repository_name(u.id)
                    .image_scanning_configuration(scanning(u.config))
                    .send()
                    .await
                    .map_err(|e| sdk_error("PutImageScanningConfiguration", e))?;
            }
            if u.changed("immutable_tags") {
                p.ecr
                    .put_image_tag_mutability()
                    .repository_name(u.id)
                    .image_tag_mutability(mutability(u.config))
                    .send()
                    .await
                    .map_err(|e| sdk_error("PutImageTagMutability", e))?;
            }
            if u.changed("tags") {
                let arn = string(u.prior, "arn")
                    .ok_or_else(|| invalid("TagResource", "the repository's ARN is not recorded"))?;
                tagging::sync(&p.ecr, arn, u).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            // Without `force`, ECR refuses to delete a repository that still holds images.
            let force = boolean(prior, "force_delete") == Some(true);
            p.ecr
                .delete_repository()
                .repository_name(id)
                .force(force)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteRepository", e))
        }
    }
}
